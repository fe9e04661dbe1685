/* test_conn.c -- the event-driven channel with real instances: READY,
 * requests one after another and on two instances at once, storage served
 * from memory, a crash, a hang past its timeout, misuse, and freeing a conn
 * from inside its own callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "platform/conn.h"
#include "platform/store.h"
#include "runtime/runtime.h"

typedef struct {
    int ready, done;
    int status;
    char body[256];
    char err[LM_ERRLEN];
    uint64_t io_bytes;
    int free_in_callback;
} outcome;

static void on_ready(lm_conn *c, void *arg, uint64_t ready_ns, const char *err) {
    outcome *o = arg;
    o->ready = err ? -1 : 1;
    if (err) snprintf(o->err, sizeof(o->err), "%s", err);
    assert_true(err || ready_ns > 0);
}

static void on_result(lm_conn *c, void *arg, const lm_call_result *res, const char *err) {
    outcome *o = arg;
    o->done = 1;
    if (err) {
        snprintf(o->err, sizeof(o->err), "%s", err);
    } else {
        o->status = res->status;
        snprintf(o->body, sizeof(o->body), "%.*s", (int)res->body_len, res->body);
        o->io_bytes = res->probes[LM_PROBE_IO_READ_BYTES];
    }
    if (o->free_in_callback) lm_conn_free(c);
}

static void start(const char *rt_name, const char *fn, lm_instance *inst) {
    char err[LM_ERRLEN];
    const lm_runtime *rt = lm_runtime_find(rt_name, err);
    assert_non_null(rt);
    lm_start_opts o = {.artifacts = lm_artifacts_dir(NULL), .stderr_fd = LM_STDERR_CAPTURE};
    if (lm_instance_start(rt, fn, &o, inst, err) != LM_OK) fail_msg("start: %s", err);
}

/* Runs the loop until flag becomes non-zero (or 30 s pass). */
static void run_until(struct event_base *base, const int *flag) {
    uint64_t deadline = lm_now_ns() + 30000000000ull;
    while (!*flag && lm_now_ns() < deadline)
        event_base_loop(base, EVLOOP_ONCE);
    assert_true(*flag);
}

static void test_requests_and_storage(void **state) {
    (void)state;
    const char *rts[] = {"native", "wasm-aot"};
    lm_store *store = lm_store_memory();
    char err[LM_ERRLEN], *big = calloc(1, 1 << 20);
    assert_int_equal(store->put(store, "big", big, 1 << 20, err), LM_OK);
    free(big);
    for (int r = 0; r < 2; r++) {
        struct event_base *base = event_base_new();
        lm_instance inst;
        start(rts[r], "noop", &inst);
        outcome o = {0};
        lm_conn *c = lm_conn_new(base, &inst, store, 20000, on_ready, &o, err);
        assert_non_null(c);
        assert_false(lm_conn_idle(c));
        assert_int_equal(lm_conn_invoke(c, "{}", 2, 1000, on_result, &o, err), LM_ERR);
        assert_non_null(strstr(err, "not ready"));
        run_until(base, &o.ready);
        assert_int_equal(o.ready, 1);
        assert_true(lm_conn_idle(c));
        for (int i = 0; i < 3; i++) {
            outcome res = {0};
            const char *body = "{\"input_key\":\"big\"}";
            assert_int_equal(lm_conn_invoke(c, body, strlen(body), 20000, on_result, &res, err),
                             LM_OK);
            assert_int_equal(lm_conn_invoke(c, "{}", 2, 1000, on_result, &res, err), LM_ERR);
            assert_non_null(strstr(err, "busy"));
            run_until(base, &res.done);
            assert_int_equal(res.status, 200);
            assert_int_equal(res.io_bytes, 1 << 20);
            assert_non_null(strstr(res.body, "\"bytes\":1048576"));
        }
        lm_conn_free(c);
        lm_instance_stop(&inst, 1000);
        event_base_free(base);
    }
    lm_store_free(store);
    lm_conn_free(NULL);
}

static void test_two_instances_at_once(void **state) {
    (void)state;
    struct event_base *base = event_base_new();
    lm_instance a, b;
    start("native", "mandelbrot-bitmap", &a);
    start("native", "mandelbrot-bitmap", &b);
    outcome ra = {0}, rb = {0};
    char err[LM_ERRLEN];
    lm_conn *ca = lm_conn_new(base, &a, NULL, 20000, on_ready, &ra, err);
    lm_conn *cb = lm_conn_new(base, &b, NULL, 20000, on_ready, &rb, err);
    run_until(base, &ra.ready);
    run_until(base, &rb.ready);
    const char *body = "{\"size\":1024,\"storage\":\"inline\"}";
    outcome oa = {0}, ob = {0};
    assert_int_equal(lm_conn_invoke(ca, body, strlen(body), 20000, on_result, &oa, err), LM_OK);
    assert_int_equal(lm_conn_invoke(cb, body, strlen(body), 20000, on_result, &ob, err), LM_OK);
    /* Both are in flight on one loop. */
    assert_false(lm_conn_idle(ca));
    assert_false(lm_conn_idle(cb));
    run_until(base, &oa.done);
    run_until(base, &ob.done);
    assert_int_equal(oa.status, 200);
    assert_int_equal(ob.status, 200);
    lm_conn_free(ca);
    lm_conn_free(cb);
    lm_instance_stop(&a, 1000);
    lm_instance_stop(&b, 1000);
    event_base_free(base);
}

static void test_crash_and_hang(void **state) {
    (void)state;
    const char *rts[] = {"native", "wasm-aot"};
    for (int r = 0; r < 2; r++) {
        struct event_base *base = event_base_new();
        char err[LM_ERRLEN];
        lm_instance inst;
        start(rts[r], "faulty", &inst);
        outcome o = {0};
        lm_conn *c = lm_conn_new(base, &inst, NULL, 20000, on_ready, &o, err);
        run_until(base, &o.ready);
        outcome res = {.free_in_callback = 1};
        const char *trap = "{\"mode\":\"trap\"}";
        assert_int_equal(lm_conn_invoke(c, trap, strlen(trap), 20000, on_result, &res, err), LM_OK);
        run_until(base, &res.done);
        assert_non_null(strstr(res.err, "ended ("));
        assert_non_null(strstr(res.err, r == 0 ? "signal 4" : "wasm trap: unreachable"));
        lm_instance_stop(&inst, 0);

        start(rts[r], "faulty", &inst);
        o = (outcome){0};
        c = lm_conn_new(base, &inst, NULL, 20000, on_ready, &o, err);
        run_until(base, &o.ready);
        outcome hang = {.free_in_callback = 1};
        const char *h = "{\"mode\":\"hang\"}";
        assert_int_equal(lm_conn_invoke(c, h, strlen(h), 300, on_result, &hang, err), LM_OK);
        run_until(base, &hang.done);
        assert_non_null(strstr(hang.err, "did not answer in time"));
        lm_instance_stop(&inst, 0);
        event_base_free(base);
    }
}

static void test_ready_timeout_and_missing(void **state) {
    (void)state;
    /* An instance that never speaks: cat echoes nothing until it gets input. */
    struct event_base *base = event_base_new();
    lm_instance inst;
    memset(&inst, 0, sizeof(inst));
    char *argv[] = {"cat", NULL};
    char err[LM_ERRLEN];
    snprintf(inst.id, sizeof(inst.id), "cat-1");
    snprintf(inst.function, sizeof(inst.function), "none");
    inst.stderr_capture = -1;
    assert_int_equal(lm_spawn(argv, NULL, NULL, 1, -1, &inst.child, err), LM_OK);
    outcome o = {0};
    lm_conn *c = lm_conn_new(base, &inst, NULL, 200, on_ready, &o, err);
    run_until(base, &o.ready);
    assert_int_equal(o.ready, -1);
    assert_non_null(strstr(o.err, "did not get READY in time"));
    lm_conn_free(c);
    lm_child_stop(&inst.child, 0);
    event_base_free(base);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_and_storage),
        cmocka_unit_test(test_two_instances_at_once),
        cmocka_unit_test(test_crash_and_hang),
        cmocka_unit_test(test_ready_timeout_and_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
