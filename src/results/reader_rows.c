/* reader_rows.c -- any table of a results database read back row by row
 * with its column names (results.h, lm_results_reader_rows), for reports
 * that take what a file has: an older file lacks columns a newer one
 * adds, and a reader names its columns by what it finds. */
#include <sqlite3.h>
#include <stdlib.h>

#include "results/internal.h"

int lm_results_reader_rows(lm_results_reader *r, const char *table, lm_results_row_fn fn, void *arg,
                           char *err) {
    if (!lm__results_table_known(table))
        return lm_errf(err, "results database %s: no table '%s' in its schema", r->path, table);
    if (!lm_results_reader_has_table(r, table)) return LM_OK;
    char sql[128];
    /* rowid order is insertion order for every table here (none is WITHOUT ROWID). */
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY rowid", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return lm_errf(err, "results database %s: reading %s failed (%s)", r->path, table,
                       sqlite3_errmsg(r->db));
    int n = sqlite3_column_count(st), rc;
    const char **names = calloc((size_t)n + 1, sizeof *names);
    const char **values = calloc((size_t)n + 1, sizeof *values);
    if (!names || !values) {
        free(names);
        free(values);
        sqlite3_finalize(st);
        return lm_errf(err, "out of memory");
    }
    for (int c = 0; c < n; c++)
        names[c] = sqlite3_column_name(st, c);
    int out = LM_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < n; c++)
            values[c] = (const char *)sqlite3_column_text(st, c);
        if (fn(arg, n, names, values) != LM_OK) {
            out = LM_ERR;
            break;
        }
    }
    if (out == LM_OK && rc != SQLITE_DONE)
        out = lm_errf(err, "results database %s: reading %s failed (%s)", r->path, table,
                      sqlite3_errmsg(r->db));
    free(names);
    free(values);
    sqlite3_finalize(st);
    return out;
}
