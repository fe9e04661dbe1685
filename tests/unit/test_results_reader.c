/* test_results_reader.c -- the read-only side of the results store that
 * `lumos results` uses (reader_cells.c, export_json.c): cells read back as
 * written, a schema-1 file without them, the reader's CSV export byte for
 * byte the writer's lm_results_export_csv, the JSON export parsed back by
 * jansson with its SQL types, text that is not UTF-8, and the refusals
 * with their messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>

#include "results/results.h"

static char dir[256], dbpath[512];

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/lumos-test-reader-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/run.db", dir);
    return 0;
}

static int teardown(void **state) {
    lm_rmtree(dir);
    return 0;
}

static void raw_exec(const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* Two cells (one with every optional field NULL), a service, requests in
 * them and outside, an artifact, an event with text to quote. */
static lm_results *write_cells(void) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(dbpath, NULL, err);
    assert_non_null(r);
    lm_results_service s;
    lm_results_service_init(&s);
    s.id = 1;
    s.name = "fibonacci@native";
    s.function = "fibonacci";
    s.runtime = "native";
    assert_int_equal(lm_results_add_service(r, &s, err), LM_OK);
    lm_results_cell c;
    lm_results_cell_init(&c);
    c.id = 3;
    c.name = "fibonacci@native/group:1/warm/open/1";
    c.function = "fibonacci";
    c.runtime = "native";
    c.payload = "group:1";
    c.start = "warm";
    c.load = "open";
    c.rate_rps = 250.5;
    c.repetition = 1;
    c.service_id = 1;
    c.planned_requests = 100;
    c.status = "done";
    c.started_ns = 10;
    c.finished_ns = 20;
    assert_int_equal(lm_results_put_cell(r, &c, err), LM_OK);
    lm_results_cell_init(&c);
    c.id = 9;
    assert_int_equal(lm_results_put_cell(r, &c, err), LM_OK);
    for (int i = 1; i <= 4; i++) {
        lm_results_request q;
        lm_results_request_init(&q);
        q.id = i;
        q.service_id = 1;
        q.status_http = 200;
        q.cell_id = i < 4 ? 3 : LM_RESULTS_NULL;
        q.excluded = i == 2 ? "start: cold, not warm" : NULL;
        q.error = i == 3 ? "a, \"quoted\"\nline" : NULL;
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    lm_results_artifact a;
    lm_results_artifact_init(&a);
    a.function = "fibonacci";
    a.runtime = "native";
    a.kind = "executable";
    a.path = "";
    a.bytes = 81234;
    assert_int_equal(lm_results_add_artifact(r, &a, err), LM_OK);
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    return r;
}

typedef struct {
    int n;
    lm_results_cell c[4];
    char names[4][64];
} cells_seen;

static int on_cell(void *arg, const lm_results_cell *c) {
    cells_seen *s = arg;
    s->c[s->n] = *c;
    snprintf(s->names[s->n], sizeof s->names[0], "%s", c->name ? c->name : "(null)");
    s->c[s->n].name = s->names[s->n];
    s->c[s->n].function = s->c[s->n].payload = s->c[s->n].status = NULL; /* not kept */
    s->n++;
    return LM_OK;
}

static void test_cells(void **state) {
    lm_results_close(write_cells());
    char err[LM_ERRLEN];
    lm_results_reader *rd = lm_results_reader_open(dbpath, err);
    assert_non_null(rd);
    assert_int_equal(lm_results_reader_version(rd), LM_RESULTS_SCHEMA_VERSION);
    cells_seen s = {0};
    assert_int_equal(lm_results_reader_cells(rd, on_cell, &s, err), LM_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.c[0].id, 3);
    assert_string_equal(s.c[0].name, "fibonacci@native/group:1/warm/open/1");
    assert_true(s.c[0].rate_rps == 250.5 && s.c[0].concurrency == LM_RESULTS_NULL);
    assert_true(s.c[0].repetition == 1 && s.c[0].service_id == 1 && s.c[0].planned_requests == 100);
    assert_true(s.c[0].started_ns == 10 && s.c[0].finished_ns == 20);
    assert_int_equal(s.c[1].id, 9);
    assert_string_equal(s.c[1].name, "(null)");
    assert_true(isnan(s.c[1].rate_rps) && s.c[1].repetition == LM_RESULTS_NULL);
    for (int i = 0; lm_results_tables[i]; i++)
        assert_int_equal(lm_results_reader_has_table(rd, lm_results_tables[i]), 1);
    assert_int_equal(lm_results_reader_has_table(rd, "sqlite_schema"), 0);
    assert_int_equal(lm_results_reader_has_table(rd, NULL), 0);
    lm_results_reader_close(rd);
    lm_results_reader_close(NULL);
}

/* A version-1 file: no cells table, no call, LM_OK; export refuses it. */
static void test_old_file(void **state) {
    raw_exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
             "CREATE TABLE requests(id INTEGER PRIMARY KEY);"
             "INSERT INTO meta VALUES('schema_version', 1);"
             "PRAGMA user_version = 1;");
    char err[LM_ERRLEN];
    lm_results_reader *rd = lm_results_reader_open(dbpath, err);
    assert_non_null(rd);
    assert_int_equal(lm_results_reader_version(rd), 1);
    cells_seen s = {0};
    assert_int_equal(lm_results_reader_cells(rd, on_cell, &s, err), LM_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(lm_results_reader_has_table(rd, "cells"), 0);
    assert_int_equal(lm_results_reader_has_table(rd, "meta"), 1);
    assert_int_equal(lm_results_reader_export(rd, "cells", LM_RESULTS_CSV, stdout, err), LM_ERR);
    char want[LM_ERRLEN + 512];
    snprintf(want, sizeof want,
             "results database %s has no table cells (its schema version is 1; cells and "
             "artifacts came with version 3)",
             dbpath);
    assert_string_equal(err, want);
    assert_int_equal(lm_results_reader_export(rd, "nosuch", LM_RESULTS_JSON, stdout, err), LM_ERR);
    assert_string_equal(err, "unknown table 'nosuch': use services, instances, requests, samples, "
                             "events, cells, artifacts or meta");
    lm_results_reader_close(rd);
}

/* Everything f wrote, as a malloc'd string. */
static char *slurp(FILE *f) {
    long n = ftell(f);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static void test_csv_same_as_writer(void **state) {
    lm_results *w = write_cells();
    char err[LM_ERRLEN];
    lm_results_reader *rd = lm_results_reader_open(dbpath, err);
    assert_non_null(rd);
    for (int i = 0; lm_results_tables[i]; i++) {
        FILE *a = tmpfile(), *b = tmpfile();
        assert_int_equal(lm_results_export_csv(w, lm_results_tables[i], a, err), LM_OK);
        assert_int_equal(lm_results_reader_export(rd, lm_results_tables[i], LM_RESULTS_CSV, b, err),
                         LM_OK);
        char *x = slurp(a), *y = slurp(b);
        assert_string_equal(x, y);
        assert_true(strlen(x) > 0);
        free(x), free(y);
        fclose(a), fclose(b);
    }
    lm_results_reader_close(rd);
    lm_results_close(w);
}

static json_t *export_json(lm_results_reader *rd, const char *table) {
    char err[LM_ERRLEN];
    FILE *f = tmpfile();
    assert_int_equal(lm_results_reader_export(rd, table, LM_RESULTS_JSON, f, err), LM_OK);
    char *s = slurp(f);
    fclose(f);
    json_error_t je;
    json_t *j = json_loads(s, JSON_ALLOW_NUL, &je);
    if (!j) fail_msg("%s.json does not parse: %s\n%s", table, je.text, s);
    free(s);
    return j;
}

static void test_json(void **state) {
    lm_results_close(write_cells());
    raw_exec("INSERT INTO events VALUES(1, 'raw', NULL, '', CAST(X'41C080EDA080F5E282F09F9880'"
             " AS TEXT));"
             "INSERT INTO events VALUES(2, 'esc', 3, NULL, 'tab' || char(9) || 'nul' ||"
             " char(1) || '\\');"
             "INSERT INTO instances(id, placement_ms, cold_start_ms) VALUES('x', 3.0, 1e300);");
    char err[LM_ERRLEN];
    lm_results_reader *rd = lm_results_reader_open(dbpath, err);
    assert_non_null(rd);
    json_t *cells = export_json(rd, "cells");
    assert_int_equal(json_array_size(cells), 2);
    json_t *c0 = json_array_get(cells, 0), *c1 = json_array_get(cells, 1);
    assert_true(json_is_integer(json_object_get(c0, "id")));
    assert_int_equal(json_integer_value(json_object_get(c0, "id")), 3);
    assert_true(json_is_real(json_object_get(c0, "rate_rps")));
    assert_true(json_real_value(json_object_get(c0, "rate_rps")) == 250.5);
    assert_true(json_is_null(json_object_get(c0, "concurrency")));
    assert_true(json_is_null(json_object_get(c1, "name")));
    /* The keys are the columns, in order. */
    const char *first = json_object_iter_key(json_object_iter(c0));
    assert_string_equal(first, "id");
    json_decref(cells);

    json_t *ev = export_json(rd, "events");
    assert_int_equal(json_array_size(ev), 2);
    json_t *e0 = json_array_get(ev, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "instance_id")), "");
    /* A, then C0 80 (overlong), ED A0 80 (a surrogate), F5, E2 82 (cut
     * short): each byte that starts no valid sequence is one U+FFFD; the
     * 4-byte U+1F600 is kept. */
    assert_string_equal(json_string_value(json_object_get(e0, "detail_json")),
                        "A\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF"
                        "\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xF0\x9F\x98\x80");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 1), "detail_json")),
                        "tab\tnul\x01\\");
    json_decref(ev);

    json_t *in = export_json(rd, "instances");
    json_t *x = json_array_get(in, 0);
    assert_true(json_is_real(json_object_get(x, "placement_ms"))); /* 3.0, not 3 */
    assert_true(json_real_value(json_object_get(x, "cold_start_ms")) == 1e300);
    json_decref(in);

    json_t *art = export_json(rd, "artifacts");
    assert_string_equal(json_string_value(json_object_get(json_array_get(art, 0), "path")), "");
    json_decref(art);

    /* An empty table is an empty array. */
    json_t *samples = export_json(rd, "samples");
    assert_true(json_is_array(samples) && json_array_size(samples) == 0);
    json_decref(samples);
    lm_results_reader_close(rd);
}

/* Appends code point c as UTF-8. */
static size_t put_utf8(unsigned char *o, uint32_t c) {
    if (c < 0x80) return o[0] = (unsigned char)c, 1;
    if (c < 0x800) return o[0] = (unsigned char)(0xC0 | c >> 6), o[1] = 0x80 | (c & 0x3F), 2;
    if (c < 0x10000) {
        o[0] = (unsigned char)(0xE0 | c >> 12);
        o[1] = 0x80 | (c >> 6 & 0x3F);
        o[2] = 0x80 | (c & 0x3F);
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | c >> 18);
    o[1] = 0x80 | (c >> 12 & 0x3F);
    o[2] = 0x80 | (c >> 6 & 0x3F);
    o[3] = 0x80 | (c & 0x3F);
    return 4;
}

/* Property: 600 texts of random bytes and 600 of random code points
 * (UTF-8, control characters and quotes included): the JSON export always
 * parses, and every valid text reads back exactly. */
static void test_json_any_bytes(void **state) {
    lm_results_close(write_cells());
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO events(t_ns, detail_json) VALUES(?1, ?2)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    uint64_t x = 12345;
    enum { N = 1200 };
    static unsigned char texts[N][256];
    static size_t lens[N];
    for (int i = 0; i < N; i++) {
        size_t len = 0, want = (x = x * 6364136223846793005ull + 1442695040888963407ull) >> 58;
        for (size_t k = 0; k < want; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if (i % 2) {
                texts[i][len++] = (unsigned char)(x >> 56);
            } else {
                uint32_t c = (uint32_t)(x >> 40) % 0x110000;
                if (c >= 0xD800 && c <= 0xDFFF) c = '"';
                if (k % 3 == 0) c %= 0x80; /* plenty of ASCII, controls too */
                if (c == 0) c = '\\';
                len += put_utf8(texts[i] + len, c);
            }
        }
        lens[i] = len;
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_text(st, 2, (const char *)texts[i], (int)len, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    char err[LM_ERRLEN];
    lm_results_reader *rd = lm_results_reader_open(dbpath, err);
    assert_non_null(rd);
    json_t *ev = export_json(rd, "events");
    assert_int_equal(json_array_size(ev), N);
    for (int i = 0; i < N; i += 2) {
        json_t *v = json_object_get(json_array_get(ev, (size_t)i), "detail_json");
        assert_int_equal(json_string_length(v), lens[i]);
        assert_memory_equal(json_string_value(v), texts[i], lens[i]);
    }
    json_decref(ev);
    lm_results_reader_close(rd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_same_as_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_any_bytes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
