/* reader_cells.c -- more of the read-only handle (results.h): the file's
 * version, its cells, which tables it has, and any table exported as CSV
 * or JSON without writing to the file. */
#include "results/internal.h"

#include <math.h>
#include <string.h>

int lm_results_reader_version(const lm_results_reader *r) { return (int)r->version; }

static int64_t col_i64(sqlite3_stmt *st, int c) {
    return sqlite3_column_type(st, c) == SQLITE_NULL ? LM_RESULTS_NULL
                                                     : sqlite3_column_int64(st, c);
}

static const char *col_txt(sqlite3_stmt *st, int c) {
    return (const char *)sqlite3_column_text(st, c);
}

int lm_results_reader_cells(lm_results_reader *r, lm_results_cell_row_fn fn, void *arg, char *err) {
    if (r->version < 3) return LM_OK;
    /* node and network came with version 5. */
    const char *sql = r->version >= 5
                          ? "SELECT id, name, function, runtime, payload, start, load, concurrency,"
                            " rate_rps, repetition, service_id, planned_requests, status,"
                            " started_ns, finished_ns, error, node, network FROM cells ORDER BY id"
                          : "SELECT id, name, function, runtime, payload, start, load, concurrency,"
                            " rate_rps, repetition, service_id, planned_requests, status,"
                            " started_ns, finished_ns, error, NULL, NULL FROM cells ORDER BY id";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return lm_errf(err, "results database %s: reading cells failed (%s)", r->path,
                       sqlite3_errmsg(r->db));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lm_results_cell c;
        c.id = col_i64(st, 0);
        c.name = col_txt(st, 1);
        c.function = col_txt(st, 2);
        c.runtime = col_txt(st, 3);
        c.payload = col_txt(st, 4);
        c.start = col_txt(st, 5);
        c.load = col_txt(st, 6);
        c.concurrency = col_i64(st, 7);
        c.rate_rps = sqlite3_column_type(st, 8) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 8);
        c.repetition = col_i64(st, 9);
        c.service_id = col_i64(st, 10);
        c.planned_requests = col_i64(st, 11);
        c.status = col_txt(st, 12);
        c.started_ns = col_i64(st, 13);
        c.finished_ns = col_i64(st, 14);
        c.error = col_txt(st, 15);
        c.node = col_txt(st, 16);
        c.network = col_txt(st, 17);
        if (fn(arg, &c) != LM_OK) {
            sqlite3_finalize(st);
            return LM_ERR;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return lm_errf(err, "results database %s: reading cells failed (%s)", r->path,
                       sqlite3_errmsg(r->db));
    return LM_OK;
}

int lm_results_reader_has_table(lm_results_reader *r, const char *table) {
    if (!lm__results_table_known(table)) return 0;
    sqlite3_stmt *st = NULL;
    int has = 0;
    if (sqlite3_prepare_v2(r->db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        has = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return has;
}

int lm_results_reader_export(lm_results_reader *r, const char *table, lm_results_format format,
                             FILE *out, char *err) {
    if (!lm__results_table_known(table))
        return lm_errf(err,
                       "unknown table '%s': use services, instances, requests, samples, events, "
                       "cells, artifacts or meta",
                       table ? table : "(null)");
    if (!lm_results_reader_has_table(r, table))
        return lm_errf(err,
                       "results database %s has no table %s (its schema version is %lld; cells "
                       "and artifacts came with version 3)",
                       r->path, table, r->version);
    return format == LM_RESULTS_JSON ? lm__results_json(r->db, r->path, table, out, err)
                                     : lm__results_csv(r->db, r->path, table, out, err);
}
