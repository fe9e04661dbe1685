/* cells.c -- what an experiment asks of its database besides adding rows:
 * the ids already used (so a second writer of a file continues after
 * them), the cells and how far each got (for --resume), clearing an
 * unfinished cell, and checking a finished one. Each call first writes
 * what is pending, so it sees every row added before it. */
#include "results/internal.h"

#include <string.h>

/* Runs sql (with ?1 bound to id when id is not LM_RESULTS_NULL), after
 * draining, under write_mu; *changes receives sqlite3_changes. */
static int run(lm_results *r, const char *sql, int64_t id, int64_t *changes, const char *what,
               char *err) {
    if (!r) return lm_errf(err, "results store: no handle");
    int rc = lm__results_drain(r, err);
    pthread_mutex_lock(&r->write_mu);
    sqlite3_stmt *st = NULL;
    if (rc == LM_OK) {
        if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK ||
            (id != LM_RESULTS_NULL && sqlite3_bind_int64(st, 1, id) != SQLITE_OK) ||
            sqlite3_step(st) != SQLITE_DONE)
            rc = lm_errf(err, "results database %s: %s failed (%s)", r->path, what,
                         sqlite3_errmsg(r->db));
        else if (changes)
            *changes = sqlite3_changes(r->db);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&r->write_mu);
    return rc;
}

/* The number after an instance id's last '-' ("wasm-aot-12": 12), or 0. */
static int64_t id_seq(const char *id) {
    const char *dash = id ? strrchr(id, '-') : NULL;
    if (!dash || !dash[1]) return 0;
    int64_t n = 0;
    for (const char *p = dash + 1; *p; p++) {
        if (*p < '0' || *p > '9' || n > INT64_MAX / 10 - 10) return 0;
        n = n * 10 + (*p - '0');
    }
    return n;
}

int lm_results_used_ids(lm_results *r, lm_results_ids *out, char *err) {
    if (!r || !out) return lm_errf(err, "results store: no handle");
    memset(out, 0, sizeof *out);
    int rc = lm__results_drain(r, err);
    pthread_mutex_lock(&r->write_mu);
    static const char *const sql[] = {"SELECT coalesce(max(id), 0) FROM requests",
                                      "SELECT coalesce(max(id), 0) FROM services",
                                      "SELECT id FROM instances"};
    for (int q = 0; q < 3 && rc == LM_OK; q++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(r->db, sql[q], -1, &st, NULL) != SQLITE_OK) {
            rc = lm_errf(err, "results database %s: reading its ids failed (%s)", r->path,
                         sqlite3_errmsg(r->db));
            break;
        }
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            if (q == 0) out->request = sqlite3_column_int64(st, 0);
            if (q == 1) out->service = sqlite3_column_int64(st, 0);
            if (q == 2) {
                int64_t n = id_seq((const char *)sqlite3_column_text(st, 0));
                if (n > out->instance_seq) out->instance_seq = n;
            }
        }
        if (s != SQLITE_DONE)
            rc = lm_errf(err, "results database %s: reading its ids failed (%s)", r->path,
                         sqlite3_errmsg(r->db));
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&r->write_mu);
    return rc;
}

int lm_results_cells(lm_results *r, lm_results_cell_fn fn, void *arg, char *err) {
    if (!r || !fn) return lm_errf(err, "results store: no handle");
    int rc = lm__results_drain(r, err);
    pthread_mutex_lock(&r->write_mu);
    sqlite3_stmt *st = NULL;
    if (rc == LM_OK &&
        sqlite3_prepare_v2(r->db,
                           "SELECT c.id, c.name, c.status, (SELECT count(*) FROM requests q"
                           " WHERE q.cell_id = c.id) FROM cells c ORDER BY c.id",
                           -1, &st, NULL) != SQLITE_OK)
        rc = lm_errf(err, "results database %s: reading its cells failed (%s)", r->path,
                     sqlite3_errmsg(r->db));
    int s = SQLITE_DONE;
    while (rc == LM_OK && (s = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(arg, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3));
    if (rc == LM_OK && s != SQLITE_DONE)
        rc = lm_errf(err, "results database %s: reading its cells failed (%s)", r->path,
                     sqlite3_errmsg(r->db));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&r->write_mu);
    return rc;
}

int lm_results_clear_cell(lm_results *r, int64_t id, char *err) {
    return run(r, "DELETE FROM requests WHERE cell_id = ?1", id, NULL,
               "clearing an unfinished cell", err);
}

int lm_results_check_cell(lm_results *r, int64_t id, int want_cold, int64_t *rows,
                          int64_t *mismatched, char *err) {
    *rows = *mismatched = 0;
    if (want_cold == 0 || want_cold == 1) {
        const char *sql = want_cold
                              ? "UPDATE requests SET excluded = 'warm in a cold cell'"
                                " WHERE cell_id = ?1 AND excluded IS NULL AND cold IS NOT 1"
                                " AND instance_id IS NOT NULL"
                              : "UPDATE requests SET excluded = 'cold in a warm cell'"
                                " WHERE cell_id = ?1 AND excluded IS NULL AND cold IS NOT 0"
                                " AND instance_id IS NOT NULL";
        if (run(r, sql, id, mismatched, "checking a cell's start types", err) != LM_OK)
            return LM_ERR;
    }
    pthread_mutex_lock(&r->write_mu);
    sqlite3_stmt *st = NULL;
    int rc = LM_OK;
    if (sqlite3_prepare_v2(r->db, "SELECT count(*) FROM requests WHERE cell_id = ?1", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        rc = lm_errf(err, "results database %s: counting a cell's rows failed (%s)", r->path,
                     sqlite3_errmsg(r->db));
    else
        *rows = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&r->write_mu);
    return rc;
}
