/* client_times.c -- the load client's side of a request, joined into the
 * row the gateway wrote for it (results.h: lm_results_set_client_times). */
#include "results/internal.h"

static const char update_sql[] =
    "UPDATE requests SET intended_send_ns = ?1, send_ns = ?2, receive_ns = ?3 WHERE id = ?4";

static void bind_time(sqlite3_stmt *st, int i, int64_t v) {
    if (v == LM_RESULTS_NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

int lm_results_set_client_times(lm_results *r, lm_results_client_join *rows, size_t n,
                                size_t *updated, char *err) {
    if (updated) *updated = 0;
    if (!r || (!rows && n)) return lm_errf(err, "lm_results_set_client_times: missing argument");
    if (n == 0) return LM_OK;
    /* Rows still in this handle's own batch go to the file first. */
    if (lm__results_drain(r, err) != LM_OK) return LM_ERR;
    pthread_mutex_lock(&r->write_mu);
    sqlite3_stmt *st = NULL;
    size_t done = 0;
    int began = 0, ok = 0;
    const char *what = "starting a transaction";
    if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto out;
    began = 1;
    what = "preparing the update";
    if (sqlite3_prepare_v2(r->db, update_sql, -1, &st, NULL) != SQLITE_OK) goto out;
    what = "updating a request";
    for (size_t i = 0; i < n; i++) {
        lm_results_client_join *t = &rows[i];
        bind_time(st, 1, t->intended_send_ns);
        bind_time(st, 2, t->send_ns);
        bind_time(st, 3, t->receive_ns);
        sqlite3_bind_int64(st, 4, t->id);
        if (sqlite3_step(st) != SQLITE_DONE) goto out;
        t->matched = sqlite3_changes(r->db) > 0;
        done += (size_t)t->matched;
        sqlite3_reset(st);
    }
    what = "committing";
    ok = sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
out:
    if (!ok) {
        lm_errf(err, "results database %s: %s failed (%s)", r->path, what, sqlite3_errmsg(r->db));
        if (began) sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        for (size_t i = 0; i < n; i++)
            rows[i].matched = 0;
        done = 0;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&r->write_mu);
    if (updated) *updated = done;
    return ok ? LM_OK : LM_ERR;
}
