/* export.c -- one table of the results database as CSV (RFC 4180 quoting,
 * LF line ends, NULL as an empty field), for `lumos export`. */
#include "results/internal.h"

#include <stdio.h>
#include <string.h>

#include "util/csv.h"

static const char *const tables[] = {"services", "instances", "requests",  "samples",
                                     "events",   "cells",     "artifacts", "meta"};

static void put_value(FILE *out, sqlite3_stmt *st, int c) {
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_NULL: break;
    case SQLITE_INTEGER: fprintf(out, "%lld", (long long)sqlite3_column_int64(st, c)); break;
    case SQLITE_FLOAT: fprintf(out, "%.17g", sqlite3_column_double(st, c)); break;
    default: {
        const char *s = (const char *)sqlite3_column_text(st, c);
        int n = sqlite3_column_bytes(st, c);
        /* An empty string is "", which keeps it apart from NULL (nothing). */
        lm_csv_field(out, s ? s : "", (size_t)n, n == 0 ? LM_CSV_QUOTE : 0);
    }
    }
}

int lm_results_export_csv(lm_results *r, const char *table, FILE *out, char *err) {
    if (!r || !out) return lm_errf(err, "CSV export: no results store or no output file");
    int known = 0;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        known |= table && strcmp(table, tables[i]) == 0;
    if (!known)
        return lm_errf(err,
                       "CSV export: unknown table '%s': use services, instances, requests, "
                       "samples, events, cells, artifacts or meta",
                       table ? table : "(null)");
    if (lm__results_drain(r, err) != LM_OK) return LM_ERR;

    char sql[64];
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY rowid", table);
    pthread_mutex_lock(&r->write_mu);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        lm_errf(err, "results database %s: reading %s failed (%s)", r->path, table,
                sqlite3_errmsg(r->db));
        goto out;
    }
    int cols = sqlite3_column_count(st);
    for (int c = 0; c < cols; c++) {
        if (c) fputc(',', out);
        const char *name = sqlite3_column_name(st, c);
        lm_csv_field(out, name, strlen(name), 0);
    }
    fputc('\n', out);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < cols; c++) {
            if (c) fputc(',', out);
            put_value(out, st, c);
        }
        fputc('\n', out);
    }
    if (rc != SQLITE_DONE) {
        lm_errf(err, "results database %s: reading %s failed (%s)", r->path, table,
                sqlite3_errmsg(r->db));
        goto out;
    }
    if (fflush(out) != 0 || ferror(out)) {
        lm_errf(err, "CSV export of %s: writing the output failed: check the disk and the path",
                table);
        rc = SQLITE_ERROR;
        goto out;
    }
    rc = SQLITE_OK;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&r->write_mu);
    return rc == SQLITE_OK ? LM_OK : LM_ERR;
}
