/* reader.c -- a results database read back for reports (results.h): meta
 * values, and every request joined with its service and its instance. */
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "results/internal.h"

lm_results_reader *lm_results_reader_open(const char *path, char *err) {
    lm_results_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        lm_errf(err, "out of memory");
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    /* One thread uses a reader: no per-call mutex (a report reads millions
     * of columns). */
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        lm_errf(err, "results database %s: cannot open it (%s)", path,
                r->db ? sqlite3_errmsg(r->db) : "out of memory");
        goto fail;
    }
    if (sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        lm_errf(err, "results database %s: cannot read it (%s): is it a SQLite database?", path,
                sqlite3_errmsg(r->db));
        goto fail;
    }
    r->version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (r->version < 1) {
        lm_errf(err, "%s is not a Lumos results database (no schema version)", path);
        goto fail;
    }
    if (r->version > LM_RESULTS_SCHEMA_VERSION) {
        lm_errf(err,
                "results database %s has schema version %lld, newer than this Lumos knows (%d): "
                "report it with a newer Lumos",
                path, r->version, LM_RESULTS_SCHEMA_VERSION);
        goto fail;
    }
    return r;
fail:
    sqlite3_finalize(st);
    lm_results_reader_close(r);
    return NULL;
}

int lm_results_reader_meta(lm_results_reader *r, const char *key, char *out, size_t n) {
    sqlite3_stmt *st = NULL;
    int rc = LM_ERR;
    if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
            snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
            rc = LM_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Column c as an integer field (SQL NULL as LM_RESULTS_NULL). */
static int64_t col_i64(sqlite3_stmt *st, int c) {
    return sqlite3_column_type(st, c) == SQLITE_NULL ? LM_RESULTS_NULL
                                                     : sqlite3_column_int64(st, c);
}

static double col_dbl(sqlite3_stmt *st, int c) {
    return sqlite3_column_type(st, c) == SQLITE_NULL ? NAN : sqlite3_column_double(st, c);
}

static const char *col_txt(sqlite3_stmt *st, int c) {
    return (const char *)sqlite3_column_text(st, c);
}

int lm_results_reader_requests(lm_results_reader *r, lm_results_request_fn fn, void *arg,
                               char *err) {
    /* Version 1 has no cpu_ns: it is user + system there; before 3 no
     * request belongs to a cell. */
    char sql[1500];
    snprintf(sql, sizeof sql,
             "SELECT q.id, q.service_id, q.instance_id, q.status_http, q.cold,"
             " q.intended_send_ns, q.send_ns, q.ingress_ns, q.queued_ns, q.acquired_ns,"
             " q.cold_begin_ns, q.cold_ready_ns, q.dispatch_ns, q.result_ns, q.response_ns,"
             " q.receive_ns, q.deser_ns, q.io_ns, q.compute_ns, q.ser_ns, q.func_total_ns,"
             " q.io_read_bytes, q.io_write_bytes, q.io_calls, q.cpu_user_ns, q.cpu_system_ns,"
             " %s, q.mem_peak_bytes, q.error, s.function, s.runtime, i.placement_ms,"
             " i.cold_start_ms, %s"
             " FROM requests q LEFT JOIN services s ON s.id = q.service_id"
             " LEFT JOIN instances i ON i.id = q.instance_id%s ORDER BY q.id",
             r->version >= 2 ? "q.cpu_ns" : "q.cpu_user_ns + q.cpu_system_ns",
             r->version >= 3 ? "q.cell_id, q.excluded, c.payload, c.load, c.concurrency"
                             : "NULL, NULL, NULL, NULL, NULL",
             r->version >= 3 ? " LEFT JOIN cells c ON c.id = q.cell_id" : "");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return lm_errf(err, "results database %s: reading requests failed (%s)", r->path,
                       sqlite3_errmsg(r->db));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lm_results_request_view v;
        lm_results_request *q = &v.q;
        int64_t *ints[] = {&q->id,
                           &q->service_id,
                           NULL,
                           &q->status_http,
                           &q->cold,
                           &q->intended_send_ns,
                           &q->send_ns,
                           &q->ingress_ns,
                           &q->queued_ns,
                           &q->acquired_ns,
                           &q->cold_begin_ns,
                           &q->cold_ready_ns,
                           &q->dispatch_ns,
                           &q->result_ns,
                           &q->response_ns,
                           &q->receive_ns,
                           &q->deser_ns,
                           &q->io_ns,
                           &q->compute_ns,
                           &q->ser_ns,
                           &q->func_total_ns,
                           &q->io_read_bytes,
                           &q->io_write_bytes,
                           &q->io_calls,
                           &q->cpu_user_ns,
                           &q->cpu_system_ns,
                           &q->cpu_ns,
                           &q->mem_peak_bytes};
        for (int c = 0; c < (int)(sizeof ints / sizeof ints[0]); c++)
            if (ints[c]) *ints[c] = col_i64(st, c);
        q->instance_id = col_txt(st, 2);
        q->error = col_txt(st, 28);
        v.function = col_txt(st, 29);
        v.runtime = col_txt(st, 30);
        v.placement_ms = col_dbl(st, 31);
        v.cold_start_ms = col_dbl(st, 32);
        q->cell_id = col_i64(st, 33);
        q->excluded = col_txt(st, 34);
        v.cell_payload = col_txt(st, 35);
        v.cell_load = col_txt(st, 36);
        v.cell_concurrency = col_i64(st, 37);
        if (fn(arg, &v) != LM_OK) {
            sqlite3_finalize(st);
            return LM_ERR;
        }
    }
    if (rc != SQLITE_DONE) {
        lm_errf(err, "results database %s: reading requests failed (%s)", r->path,
                sqlite3_errmsg(r->db));
        sqlite3_finalize(st);
        return LM_ERR;
    }
    sqlite3_finalize(st);
    return LM_OK;
}

void lm_results_reader_close(lm_results_reader *r) {
    if (!r) return;
    sqlite3_close(r->db);
    free(r->path);
    free(r);
}
