/* client_times.c -- the load client's side of a request, joined into the
 * row the gateway wrote for it (results.h: lm_results_set_client_times). */
#include "results/internal.h"

#include <string.h>

/* The same update as the batch's (schema.c, LM_RK_CLIENT). */
static const char update_sql[] =
    "UPDATE requests SET intended_send_ns = coalesce(?2, intended_send_ns),"
    " send_ns = coalesce(?3, send_ns), receive_ns = coalesce(?4, receive_ns),"
    " excluded = coalesce(?5, excluded) WHERE id = ?1";

static void bind_time(sqlite3_stmt *st, int i, int64_t v) {
    if (v == LM_RESULTS_NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}

int lm_results_set_client_times(lm_results *r, const lm_results_client_times *rows, size_t n,
                                unsigned char *matched, size_t *updated, char *err) {
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
        const lm_results_client_times *t = &rows[i];
        sqlite3_bind_int64(st, 1, t->id);
        bind_time(st, 2, t->intended_send_ns);
        bind_time(st, 3, t->send_ns);
        bind_time(st, 4, t->receive_ns);
        if (t->excluded)
            sqlite3_bind_text(st, 5, t->excluded, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 5);
        if (sqlite3_step(st) != SQLITE_DONE) goto out;
        int hit = sqlite3_changes(r->db) > 0;
        if (matched) matched[i] = (unsigned char)hit;
        done += (size_t)hit;
        sqlite3_reset(st);
    }
    what = "committing";
    ok = sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
out:
    if (!ok) {
        lm_errf(err, "results database %s: %s failed (%s)", r->path, what, sqlite3_errmsg(r->db));
        if (began) sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        if (matched) memset(matched, 0, n);
        done = 0;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&r->write_mu);
    if (updated) *updated = done;
    return ok ? LM_OK : LM_ERR;
}
