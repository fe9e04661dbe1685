/* test_results_rows.c -- lm_results_reader_rows: any table's rows read
 * back in insertion order with its column names, values as SQLite's text
 * and NULL as NULL; a table the file does not have has no rows (a file of
 * schema 1 has no artifacts); an unknown table and a callback that stops
 * are errors with their message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "results/results.h"

static char dir[256], dbpath[512];

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/lumos-test-rows-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/run.db", dir);
    return 0;
}

static int teardown(void **state) {
    lm_rmtree(dir);
    return 0;
}

typedef struct {
    char seen[8][256];
    int rows, stop_at;
} collect;

static int on_row(void *arg, int n, const char *const *names, const char *const *values) {
    collect *c = arg;
    if (c->stop_at && c->rows + 1 == c->stop_at) return LM_ERR;
    size_t k = 0;
    for (int i = 0; i < n && k < sizeof c->seen[0]; i++)
        k += (size_t)snprintf(c->seen[c->rows] + k, sizeof c->seen[0] - k, "%s%s=%s", i ? " " : "",
                              names[i], values[i] ? values[i] : "NULL");
    c->rows++;
    return LM_OK;
}

static void test_rows(void **state) {
    char err[LM_ERRLEN];
    lm_results *w = lm_results_open(dbpath, NULL, err);
    assert_non_null(w);
    lm_results_artifact a;
    lm_results_artifact_init(&a);
    a.function = "fibonacci";
    a.runtime = "wasm-aot";
    a.kind = "aot-executable";
    a.bytes = 805576;
    assert_int_equal(lm_results_add_artifact(w, &a, err), LM_OK);
    a.runtime = "native";
    a.kind = "executable";
    a.path = "/a,b";
    a.bytes = 752360;
    assert_int_equal(lm_results_add_artifact(w, &a, err), LM_OK);
    lm_results_close(w);

    lm_results_reader *r = lm_results_reader_open(dbpath, err);
    assert_non_null(r);
    collect c = {0};
    assert_int_equal(lm_results_reader_rows(r, "artifacts", on_row, &c, err), LM_OK);
    assert_int_equal(c.rows, 2);
    assert_string_equal(c.seen[0],
                        "function=fibonacci runtime=wasm-aot kind=aot-executable path=NULL "
                        "bytes=805576");
    assert_string_equal(c.seen[1],
                        "function=fibonacci runtime=native kind=executable path=/a,b bytes=752360");
    /* A stop from the callback. */
    collect s = {.stop_at = 2};
    snprintf(err, LM_ERRLEN, "stopped here");
    assert_int_equal(lm_results_reader_rows(r, "artifacts", on_row, &s, err), LM_ERR);
    assert_string_equal(err, "stopped here");
    assert_int_equal(s.rows, 1);
    assert_int_equal(lm_results_reader_rows(r, "nosuch", on_row, &c, err), LM_ERR);
    char want[700];
    snprintf(want, sizeof want, "results database %s: no table 'nosuch' in its schema", dbpath);
    assert_string_equal(err, want);
    lm_results_reader_close(r);
}

/* A file of schema 1 has no artifacts table: no rows, no error. */
static void test_old_file(void **state) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
                                  "INSERT INTO meta VALUES('schema_version', 1);"
                                  "PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char err[LM_ERRLEN];
    lm_results_reader *r = lm_results_reader_open(dbpath, err);
    assert_non_null(r);
    collect c = {0};
    assert_int_equal(lm_results_reader_rows(r, "artifacts", on_row, &c, err), LM_OK);
    assert_int_equal(c.rows, 0);
    assert_int_equal(lm_results_reader_rows(r, "meta", on_row, &c, err), LM_OK);
    assert_int_equal(c.rows, 1);
    assert_string_equal(c.seen[0], "key=schema_version value=1");
    lm_results_reader_close(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
