/* test_results_client_times.c -- lm_results_set_client_times
 * (src/results/client_times.c): the load client's three times land in the
 * rows of their ids and nowhere else, a NULL field keeps what is stored,
 * ids without a row
 * are reported unmatched (not an error), rows still in the handle's own
 * batch are written first, and a database locked by another connection
 * fails the whole batch with a message and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "results/results.h"

static char path[256];

static lm_results *fresh(unsigned busy_ms) {
    snprintf(path, sizeof(path), "/tmp/lumos-test-ct-%d.db", (int)getpid());
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char f[300];
        snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
        unlink(f);
    }
    char err[LM_ERRLEN] = "";
    lm_results_opts o = {.busy_timeout_ms = busy_ms};
    lm_results *r = lm_results_open(path, &o, err);
    if (!r) fprintf(stderr, "%s\n", err);
    assert_non_null(r);
    for (int64_t id = 1; id <= 5; id++) {
        lm_results_request q;
        lm_results_request_init(&q);
        q.id = id;
        q.status_http = 200;
        q.ingress_ns = 1000 * id;
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    return r;
}

/* "intended send receive" of row id, NULLs as "-". */
static void times_of(int64_t id, char *out, size_t n) {
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db,
                           "SELECT coalesce(intended_send_ns, '-') || ' ' || "
                           "coalesce(send_ns, '-') || ' ' || coalesce(receive_ns, '-') "
                           "FROM requests WHERE id = ?",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_join(void **state) {
    (void)state;
    lm_results *r = fresh(0);
    lm_results_client_times t[] = {
        {.id = 1, .intended_send_ns = 10, .send_ns = 11, .receive_ns = 12},
        {.id = 3, .intended_send_ns = 30, .send_ns = 31, .receive_ns = LM_RESULTS_NULL},
        {.id = 7, .intended_send_ns = 70, .send_ns = 71, .receive_ns = 72},
    };
    unsigned char hit[3] = {9, 9, 9};
    size_t updated = 99;
    char err[LM_ERRLEN] = "", s[128];
    /* The five rows are still in the batch: the call writes them first. */
    assert_int_equal(lm_results_set_client_times(r, t, 3, hit, &updated, err), LM_OK);
    assert_int_equal(updated, 2);
    assert_int_equal(hit[0], 1);
    assert_int_equal(hit[1], 1);
    assert_int_equal(hit[2], 0);
    times_of(1, s, sizeof(s));
    assert_string_equal(s, "10 11 12");
    times_of(3, s, sizeof(s));
    assert_string_equal(s, "30 31 -");
    times_of(2, s, sizeof(s));
    assert_string_equal(s, "- - -");
    /* Nothing to do, and bad arguments. */
    /* NULL keeps what is stored; matched may be NULL. */
    lm_results_client_times keep;
    lm_results_client_times_init(&keep);
    keep.id = 1;
    keep.receive_ns = 99;
    assert_int_equal(lm_results_set_client_times(r, &keep, 1, NULL, &updated, err), LM_OK);
    assert_int_equal(updated, 1);
    times_of(1, s, sizeof(s));
    assert_string_equal(s, "10 11 99");
    assert_int_equal(lm_results_set_client_times(r, NULL, 0, NULL, &updated, err), LM_OK);
    assert_int_equal(updated, 0);
    assert_int_equal(lm_results_set_client_times(NULL, t, 1, NULL, NULL, err), LM_ERR);
    assert_string_equal(err, "lm_results_set_client_times: missing argument");
    lm_results_close(r);
}

static void test_locked(void **state) {
    (void)state;
    lm_results *r = fresh(50);
    char err[LM_ERRLEN] = "", s[128];
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    sqlite3 *other;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    lm_results_client_times t[] = {{.id = 2, .intended_send_ns = 1, .send_ns = 2, .receive_ns = 3}};
    unsigned char hit[1] = {7};
    size_t updated = 5;
    assert_int_equal(lm_results_set_client_times(r, t, 1, hit, &updated, err), LM_ERR);
    char want[600];
    snprintf(want, sizeof(want),
             "results database %s: starting a transaction failed (database is locked)", path);
    assert_string_equal(err, want);
    assert_int_equal(updated, 0);
    assert_int_equal(hit[0], 0);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    times_of(2, s, sizeof(s));
    assert_string_equal(s, "- - -");
    /* Unlocked, the same call goes through. */
    assert_int_equal(lm_results_set_client_times(r, t, 1, hit, &updated, err), LM_OK);
    assert_int_equal(updated, 1);
    assert_int_equal(hit[0], 1);
    times_of(2, s, sizeof(s));
    assert_string_equal(s, "1 2 3");
    lm_results_close(r);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_locked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
