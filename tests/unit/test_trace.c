/* test_trace.c -- the trace file format (src/trace/trace.h): the reader on
 * good files, every class of bad input with its exact message, the writer's
 * round trip, body files relative to the trace, and the statistics. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace/trace.h"
#include "util/util.h"

#define HEAD "# lumos-trace 1 mode=open\noffset_us,function,runtime,payload,start\n"

/* Reads text as the trace file "t.csv" in the current folder. */
static int parse(const char *text, lm_trace **t, char *err) {
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int rc = lm_trace_read_stream(f, "t.csv", NULL, t, err);
    fclose(f);
    return rc;
}

static lm_trace *parse_ok(const char *text) {
    char err[LM_ERRLEN] = "";
    lm_trace *t = NULL;
    int rc = parse(text, &t, err);
    if (rc != LM_OK) fprintf(stderr, "unexpected error: %s\n", err);
    assert_int_equal(rc, LM_OK);
    assert_non_null(t);
    return t;
}

/* text must be refused with exactly the message want (or, when prefix is
 * set, a message that starts with want). */
static void parse_err_at(const char *text, const char *want, int prefix) {
    char err[LM_ERRLEN] = "";
    lm_trace *t = (lm_trace *)1;
    int rc = parse(text, &t, err);
    int match = prefix ? strncmp(err, want, strlen(want)) == 0 : strcmp(err, want) == 0;
    if (rc == LM_OK || !match)
        fprintf(stderr, "input: %s\nwant: %s\ngot:  %s\n", text, want,
                rc == LM_OK ? "(accepted)" : err);
    assert_int_equal(rc, LM_ERR);
    assert_null(t);
    assert_true(match);
}
static void parse_err(const char *text, const char *want) { parse_err_at(text, want, 0); }

static void test_good_file(void **state) {
    (void)state;
    lm_trace *t = parse_ok("# lumos-trace 1 mode=open pattern=poisson rate_rps=50 seed=1 X-Y=z\n"
                           "offset_us,function,runtime,payload,start\n"
                           "0,fibonacci,native,group:1,any\n"
                           "18211,noop,wasm-aot,group:xs,cold\n"
                           "18211,noop,,\"group:s\",warm\r\n");
    assert_int_equal(t->mode, LM_TRACE_OPEN);
    assert_int_equal(t->concurrency, 0);
    assert_int_equal(t->nrows, 3);
    assert_int_equal(t->nkeys, 4);
    assert_string_equal(lm_trace_get_key(t, "pattern"), "poisson");
    assert_string_equal(lm_trace_get_key(t, "X-Y"), "z");
    assert_null(lm_trace_get_key(t, "mode"));
    assert_int_equal(t->rows[1].offset_us, 18211);
    assert_string_equal(t->rows[1].function, "noop");
    assert_string_equal(t->rows[1].runtime, "wasm-aot");
    assert_string_equal(t->rows[1].payload->text, "group:xs");
    assert_string_equal(t->rows[1].payload->group, "xs");
    assert_null(t->rows[1].payload->path);
    assert_int_equal(t->rows[1].start, LM_START_COLD);
    assert_string_equal(t->rows[2].runtime, "");
    assert_int_equal(t->rows[2].start, LM_START_WARM);
    /* Interned: rows with the same function share one pointer. */
    assert_ptr_equal(t->rows[1].function, t->rows[2].function);
    lm_trace_free(t);

    /* Columns by name, in any order; closed traces. */
    t = parse_ok("# lumos-trace 1 concurrency=8 mode=closed\n"
                 "start,payload,function,offset_us,runtime\n"
                 "any,group:2,prime-numbers,0,container+wasm-aot\n");
    assert_int_equal(t->mode, LM_TRACE_CLOSED);
    assert_int_equal(t->concurrency, 8);
    assert_string_equal(t->rows[0].function, "prime-numbers");
    assert_string_equal(t->rows[0].runtime, "container+wasm-aot");
    assert_int_equal(t->nkeys, 0);
    lm_trace_free(t);
}

static void test_header_errors(void **state) {
    (void)state;
    parse_err("hello\n", "t.csv:1: not a Lumos trace: the first line must be '# lumos-trace 1 "
                         "mode=open' (or mode=closed concurrency=N)");
    parse_err("offset_us,function,runtime,payload,start\n0,noop,,group:s,any\n",
              "t.csv:1: not a Lumos trace: the first line must be '# lumos-trace 1 mode=open' "
              "(or mode=closed concurrency=N)");
    parse_err("# lumos-trace 2 mode=open\n",
              "t.csv:1: version '2' is not supported (this Lumos reads lumos-trace 1)");
    parse_err("# lumos-trace 1\n", "t.csv:1: header: no mode=open or mode=closed");
    parse_err("# lumos-trace 1 mode=half\n", "t.csv:1: mode: 'half' is neither open nor closed");
    parse_err("# lumos-trace 1 mode=open mode=open\n", "t.csv:1: header: mode given twice");
    parse_err("# lumos-trace 1 mode=open seed=1 seed=2\n", "t.csv:1: header: seed given twice");
    parse_err("# lumos-trace 1 mode=open fast\n", "t.csv:1: header: 'fast' is not key=value");
    parse_err("# lumos-trace 1 mode=open seed=\n", "t.csv:1: header: seed= has no value");
    parse_err("# lumos-trace 1 mode=closed\n",
              "t.csv:1: header: mode=closed needs concurrency=N (the number of clients)");
    parse_err("# lumos-trace 1 mode=closed concurrency=0\n",
              "t.csv:1: concurrency: '0' is not a whole number from 1 to 100000");
    parse_err("# lumos-trace 1 mode=closed concurrency=-3\n",
              "t.csv:1: concurrency: '-3' is not a whole number from 1 to 100000");
    parse_err("# lumos-trace 1 mode=open concurrency=4\n",
              "t.csv:1: concurrency: only a mode=closed trace has clients (remove it, or use "
              "mode=closed)");
    parse_err("# lumos-trace 1 mode=open\n", "t.csv: no column line after the header (want "
                                             "offset_us,function,runtime,payload,start)");
}

static void test_column_errors(void **state) {
    (void)state;
    parse_err("# lumos-trace 1 mode=open\noffset_us,function,runtime,payload\n",
              "t.csv:2: missing column 'start' (a trace has "
              "offset_us,function,runtime,payload,start)");
    parse_err("# lumos-trace 1 mode=open\noffset_us,function,runtime,payload,start,note\n",
              "t.csv:2: column 'note' is not a trace column "
              "(offset_us,function,runtime,payload,start)");
    parse_err("# lumos-trace 1 mode=open\noffset_us,function,runtime,payload,start,start\n",
              "t.csv:2: column 'start' given twice");
    parse_err(HEAD, "t.csv: no rows after the column line (a trace needs at least one request)");
    parse_err(HEAD "0,noop,,group:s\n", "t.csv:3: 4 fields, but the column line has 5");
    parse_err(HEAD "0,noop,,group:s,any,x\n", "t.csv:3: 6 fields, but the column line has 5");
    parse_err(HEAD "0,noop,,group:s,any\n\n1,noop,,group:s,any\n",
              "t.csv:4: an empty line (a row has 5 fields)");
    parse_err(HEAD "0,\"noop,,group:s,any\n", "t.csv:3: unterminated quote in field 2");
    parse_err(HEAD "0,\"noop\"x,,group:s,any\n",
              "t.csv:3: text after the closing quote of field 2");
    parse_err(HEAD "0,no\"op,,group:s,any\n",
              "t.csv:3: a quote inside unquoted field 2 (quote the whole field and double the "
              "quote)");
}

static void test_row_errors(void **state) {
    (void)state;
    parse_err(HEAD "0,fibonaci,,group:s,any\n",
              "t.csv:3: function: unknown function 'fibonaci' (see `lumos functions`)");
    parse_err(HEAD "0,,,group:s,any\n", "t.csv:3: function: empty: every row needs a function");
    parse_err_at(HEAD "0,noop,wasm-fast,group:s,any\n",
                 "t.csv:3: runtime: unknown runtime 'wasm-fast' (known: native, ", 1);
    parse_err(HEAD "-5,noop,,group:s,any\n",
              "t.csv:3: offset_us: -5 is negative (offsets count from the trace's start)");
    parse_err(HEAD "1.5,noop,,group:s,any\n",
              "t.csv:3: offset_us: '1.5' is not a whole number of microseconds");
    parse_err(HEAD ",noop,,group:s,any\n",
              "t.csv:3: offset_us: empty (a whole number of microseconds)");
    parse_err(HEAD "99999999999999999999,noop,,group:s,any\n",
              "t.csv:3: offset_us: '99999999999999999999' is not a whole number of microseconds");
    parse_err(HEAD "1000000000000001,noop,,group:s,any\n",
              "t.csv:3: offset_us: 1000000000000001 is above the limit of 1000000000000000");
    parse_err(HEAD "1500,noop,,group:s,any\n1200,noop,,group:s,any\n",
              "t.csv:4: offset_us: 1200 is before the previous row's 1500 (the trace must be "
              "sorted)");
    parse_err(HEAD "0,noop,,group:huge,any\n",
              "t.csv:3: payload: unknown payload group 'huge' (groups: xs, s, 1, 2, 3; see "
              "docs/data.md)");
    parse_err(HEAD "0,noop,,1,any\n",
              "t.csv:3: payload: '1' is neither group:NAME (a payload group) nor file:PATH (a "
              "body file)");
    parse_err(HEAD "0,noop,,,any\n", "t.csv:3: payload: empty: give group:NAME or file:PATH");
    parse_err(HEAD "0,noop,,file:,any\n", "t.csv:3: payload: file: needs a path (file:PATH)");
    parse_err(HEAD "0,noop,,file:/nonexistent/b.json,any\n",
              "t.csv:3: payload: file:/nonexistent/b.json: cannot read /nonexistent/b.json: No "
              "such file or directory");
    parse_err(HEAD "0,noop,,file:/tmp,any\n", "t.csv:3: payload: file:/tmp: /tmp is not a regular "
                                              "file");
    parse_err(HEAD "0,noop,,group:s,hot\n",
              "t.csv:3: start: 'hot' is not a start kind (cold, warm or any)");
    /* The first row is checked like the others; the second with a new name too. */
    parse_err(HEAD "0,noop,,group:s,any\n5,noop,native,group:s,any\n9,nope,native,group:s,any\n",
              "t.csv:5: function: unknown function 'nope' (see `lumos functions`)");
}

static void test_empty_file(void **state) {
    (void)state;
    char dir[] = "/tmp/lumos-test-trace-XXXXXX", path[256], err[LM_ERRLEN];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/empty.csv", dir);
    assert_int_equal(lm_file_write(path, "", 0, err), LM_OK);
    lm_trace *t = (lm_trace *)1;
    assert_int_equal(lm_trace_read(path, &t, err), LM_ERR);
    assert_null(t);
    char want[512];
    snprintf(want, sizeof(want),
             "%s: the file is empty (a trace starts with '# lumos-trace 1 mode=open')", path);
    assert_string_equal(err, want);
    unlink(path);
    snprintf(path, sizeof(path), "%s/missing.csv", dir);
    assert_int_equal(lm_trace_read(path, &t, err), LM_ERR);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, want);
    rmdir(dir);
}

/* A body file named relative to the trace is found from any folder. */
static void test_body_files(void **state) {
    (void)state;
    char dir[] = "/tmp/lumos-test-trace-XXXXXX", path[512], sub[300], err[LM_ERRLEN];
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/bodies", dir);
    assert_int_equal(lm_mkdirs(sub, err), LM_OK);
    snprintf(path, sizeof(path), "%s/bodies/a, b.json", dir);
    assert_int_equal(lm_file_write(path, "{\"n\":5}", 7, err), LM_OK);
    const char *text = HEAD "0,fibonacci,,\"file:bodies/a, b.json\",any\n";
    snprintf(path, sizeof(path), "%s/t.csv", dir);
    assert_int_equal(lm_file_write(path, text, strlen(text), err), LM_OK);
    lm_trace *t;
    int rc = lm_trace_read(path, &t, err);
    if (rc != LM_OK) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, LM_OK);
    char want[600];
    snprintf(want, sizeof(want), "%s/bodies/a, b.json", dir);
    assert_string_equal(t->rows[0].payload->path, want);
    assert_string_equal(t->rows[0].payload->text, "file:bodies/a, b.json");
    assert_null(t->rows[0].payload->group);
    /* Written back quoted, read back the same. */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(lm_trace_write(m, t), LM_OK);
    fclose(m);
    assert_string_equal(buf, text);
    free(buf);
    lm_trace_free(t);
    /* Read from the same text with no folder: the file is not found. */
    parse_err(text, "t.csv:3: payload: file:bodies/a, b.json: cannot read bodies/a, b.json: No "
                    "such file or directory");
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

static char *write_str(const lm_trace *t) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(lm_trace_write(m, t), LM_OK);
    fclose(m);
    return buf;
}

static void test_round_trip(void **state) {
    (void)state;
    char err[LM_ERRLEN];
    lm_trace *t = lm_trace_new(LM_TRACE_CLOSED, 3, NULL);
    assert_non_null(t);
    assert_int_equal(lm_trace_set_key(t, "pattern", "closed", err), LM_OK);
    assert_int_equal(lm_trace_set_key(t, "seed", "7", err), LM_OK);
    assert_int_equal(lm_trace_set_key(t, "pattern", "mine", err), LM_OK); /* replaces in place */
    assert_int_equal(lm_trace_set_key(t, "mode", "open", err), LM_ERR);
    assert_string_equal(err, "header key 'mode' is set by the trace's mode, not as a key");
    assert_int_equal(lm_trace_set_key(t, "a b", "1", err), LM_ERR);
    assert_string_equal(err, "header key 'a b': a key is non-empty, without '=' or spaces");
    assert_int_equal(lm_trace_set_key(t, "note", "two words", err), LM_ERR);
    assert_string_equal(err, "header key 'note': the value 'two words' must be non-empty, without "
                             "spaces");
    assert_int_equal(lm_trace_add(t, 0, "noop", "", "group:xs", LM_START_ANY, err), LM_OK);
    assert_int_equal(lm_trace_add(t, 0, "fibonacci", "wasm-jit", "group:3", LM_START_COLD, err),
                     LM_OK);
    assert_int_equal(lm_trace_add(t, 0, "noop", "", "body.json", LM_START_ANY, err), LM_ERR);
    assert_string_equal(err, "'body.json' is neither group:NAME (a payload group) nor file:PATH "
                             "(a body file)");
    char *a = write_str(t);
    assert_string_equal(a, "# lumos-trace 1 mode=closed concurrency=3 pattern=mine seed=7\n"
                           "offset_us,function,runtime,payload,start\n"
                           "0,noop,,group:xs,any\n"
                           "0,fibonacci,wasm-jit,group:3,cold\n");
    lm_trace *back = parse_ok(a);
    char *b = write_str(back);
    assert_string_equal(a, b);
    free(a);
    free(b);
    lm_trace_free(back);
    lm_trace_free(t);
}

static void test_sort_is_stable(void **state) {
    (void)state;
    char err[LM_ERRLEN];
    lm_trace *t = lm_trace_new(LM_TRACE_OPEN, 0, NULL);
    int64_t off[] = {30, 10, 20, 10, 30, 0};
    const char *fn[] = {"noop", "fibonacci", "noop", "prime-numbers", "fibonacci", "noop"};
    for (int i = 0; i < 6; i++)
        assert_int_equal(lm_trace_add(t, off[i], fn[i], "", "group:s", LM_START_ANY, err), LM_OK);
    lm_trace_sort(t);
    const int64_t want_off[] = {0, 10, 10, 20, 30, 30};
    const char *want_fn[] = {"noop", "fibonacci", "prime-numbers", "noop", "noop", "fibonacci"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(t->rows[i].offset_us, want_off[i]);
        assert_string_equal(t->rows[i].function, want_fn[i]);
    }
    lm_trace_free(t);
}

static void test_stats(void **state) {
    (void)state;
    lm_trace *t = parse_ok(HEAD "0,noop,,group:s,any\n"
                                "100000,noop,native,group:s,cold\n"
                                "200000,fibonacci,,group:s,warm\n"
                                "300000,noop,,group:s,any\n"
                                "400000,noop,native,group:s,any\n");
    lm_trace_stats s;
    char err[LM_ERRLEN];
    assert_int_equal(lm_trace_stats_of(t, &s, err), LM_OK);
    assert_int_equal(s.rows, 5);
    assert_int_equal(s.last_us, 400000);
    assert_true(s.duration_s == 0.4);
    assert_true(fabs(s.mean_rate_rps - 10) < 1e-9);
    assert_true(fabs(s.iat_mean_us - 100000) < 1e-9);
    assert_true(s.iat_cv == 0);
    assert_int_equal(s.any, 3);
    assert_int_equal(s.cold, 1);
    assert_int_equal(s.warm, 1);
    assert_int_equal(s.nfunctions, 2);
    assert_string_equal(s.functions[0].name, "noop");
    assert_int_equal(s.functions[0].count, 4);
    assert_string_equal(s.functions[1].name, "fibonacci");
    assert_int_equal(s.nruntimes, 2);
    assert_string_equal(s.runtimes[0].name, "");
    assert_int_equal(s.runtimes[0].count, 3);
    lm_trace_stats_free(&s);
    lm_trace_stats_free(&s); /* zeroed: twice is fine */
    lm_trace_stats_free(NULL);
    lm_trace_free(t);
    lm_trace_free(NULL);
}

static void test_save(void **state) {
    (void)state;
    char dir[] = "/tmp/lumos-test-trace-XXXXXX", path[256], err[LM_ERRLEN];
    assert_non_null(mkdtemp(dir));
    lm_trace *t = parse_ok(HEAD "0,noop,,group:s,any\n");
    snprintf(path, sizeof(path), "%s/out.csv", dir);
    assert_int_equal(lm_trace_save(path, t, err), LM_OK);
    size_t len;
    char *text = lm_file_read(path, &len, err);
    assert_string_equal(text, HEAD "0,noop,,group:s,any\n");
    free(text);
    unlink(path);
    rmdir(dir);
    lm_trace_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),     cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_column_errors), cmocka_unit_test(test_row_errors),
        cmocka_unit_test(test_empty_file),    cmocka_unit_test(test_body_files),
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_sort_is_stable),
        cmocka_unit_test(test_stats),         cmocka_unit_test(test_save),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
