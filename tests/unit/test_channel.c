/* test_channel.c -- the real channel: native and wasm-jit instances of the
 * built artifacts (run `make` first), the host side serving storage from
 * memory and from a real redis-server, bad frames and bad bodies. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "channel/channel.h"
#include "runtime/runtime.h"
#include "storage/storage.h"

static const char *runtimes[] = {"native", "wasm-jit"};

static void start(const char *rt_name, const char *fn, lm_instance *inst) {
    char err[LM_ERRLEN];
    const lm_runtime *rt = lm_runtime_find(rt_name, err);
    assert_non_null(rt);
    lm_start_opts o = {.artifacts = lm_artifacts_dir(NULL), .stderr_fd = -1};
    if (lm_instance_start(rt, fn, &o, inst, err) != LM_OK) fail_msg("start: %s", err);
    uint64_t ready;
    if (lm_wait_ready(inst, 20000, &ready, err) != LM_OK) fail_msg("ready: %s", err);
    assert_true(ready >= inst->spawn_ns && inst->spawn_ns >= inst->start_ns);
}

static int call(lm_instance *inst, const char *body, lm_store *store, lm_call_result *r) {
    char err[LM_ERRLEN];
    if (lm_call(inst, body, strlen(body), store, 20000, NULL, NULL, r, err) != LM_OK)
        fail_msg("call %s: %s", body, err);
    return r->status;
}

static void test_call_and_probes(void **state) {
    (void)state;
    for (int i = 0; i < 2; i++) {
        lm_instance inst;
        start(runtimes[i], "noop", &inst);
        lm_call_result r;
        assert_int_equal(call(&inst, "{\"echo\":\"x\"}", NULL, &r), 200);
        char want[128];
        snprintf(want, sizeof(want), "\"runtime\":\"%s\"", runtimes[i]);
        assert_non_null(strstr(r.body, want));
        uint64_t *p = r.probes;
        assert_int_equal(p[LM_PROBE_DESER_NS] + p[LM_PROBE_IO_NS] + p[LM_PROBE_COMPUTE_NS] +
                             p[LM_PROBE_SER_NS],
                         p[LM_PROBE_TOTAL_NS]);
        assert_true(r.result_ns > r.sent_ns);
        lm_call_result_free(&r);
        lm_instance_stop(&inst, 1000);
    }
}

static void test_get_one_mib_from_memory(void **state) {
    (void)state;
    lm_store *s = lm_store_memory();
    char err[LM_ERRLEN];
    char *big = malloc(1 << 20);
    for (int i = 0; i < (1 << 20); i++)
        big[i] = (char)('a' + i % 26);
    assert_int_equal(s->put(s, "big", big, 1 << 20, err), LM_OK);
    for (int i = 0; i < 2; i++) {
        lm_instance inst;
        start(runtimes[i], "noop", &inst);
        lm_call_result r;
        assert_int_equal(call(&inst, "{\"input_key\":\"big\"}", s, &r), 200);
        assert_non_null(strstr(r.body, "\"bytes\":1048576"));
        assert_int_equal(r.probes[LM_PROBE_IO_READ_BYTES], 1 << 20);
        assert_int_equal(r.storage_calls, 1);
        lm_call_result_free(&r);
        /* A missing object is a 404, and the instance goes on. */
        assert_int_equal(call(&inst, "{\"input_key\":\"nope\"}", s, &r), 404);
        lm_call_result_free(&r);
        assert_int_equal(call(&inst, "{}", s, &r), 200);
        lm_call_result_free(&r);
        lm_instance_stop(&inst, 1000);
    }
    free(big);
    lm_store_free(s);
}

static void test_put_through_redis(void **state) {
    (void)state;
    lm_redis_server srv;
    char err[LM_ERRLEN];
    if (lm_redis_server_start(&srv, err) != LM_OK) fail_msg("%s", err);
    lm_store *s = lm_store_redis("127.0.0.1", srv.port, err);
    assert_non_null(s);
    for (int i = 0; i < 2; i++) {
        lm_instance inst;
        start(runtimes[i], "audio-generation", &inst);
        lm_call_result r;
        assert_int_equal(call(&inst, "{\"size_kb\":3,\"output_key\":\"out/a.wav\"}", s, &r), 200);
        assert_int_equal(r.probes[LM_PROBE_IO_WRITE_BYTES], 3072);
        lm_call_result_free(&r);
        char *data;
        size_t len;
        assert_int_equal(s->get(s, "out/a.wav", &data, &len, err), 0);
        assert_int_equal(len, 3072);
        assert_memory_equal(data, "RIFF", 4);
        free(data);
        lm_instance_stop(&inst, 1000);
    }
    lm_store_free(s);
    lm_redis_server_stop(&srv);
    /* Once stopped, the server is gone. */
    assert_null(lm_store_redis("127.0.0.1", srv.port == 0 ? 1 : srv.port, err));
}

static void test_no_store_is_a_clear_error(void **state) {
    (void)state;
    lm_instance inst;
    start("native", "noop", &inst);
    lm_call_result r;
    assert_int_equal(call(&inst, "{\"input_key\":\"k\"}", NULL, &r), 500);
    assert_non_null(strstr(r.body, "--redis"));
    lm_call_result_free(&r);
    lm_instance_stop(&inst, 1000);
}

static void test_bad_bodies_keep_instance(void **state) {
    (void)state;
    const char *bad[] = {"",
                         "{",
                         "nul",
                         "[]",
                         "{\"n\":\"5\"}",
                         "{\"n\":-1}",
                         "{\"n\":1e3}",
                         "{\"n\":1000000001}",
                         "{\"n\":99999999999999999999}"};
    for (int i = 0; i < 2; i++) {
        lm_instance inst;
        start(runtimes[i], "fibonacci", &inst);
        lm_call_result r;
        for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
            assert_int_equal(call(&inst, bad[b], NULL, &r), 400);
            assert_non_null(strstr(r.body, "\"bad_request\""));
            lm_call_result_free(&r);
        }
        assert_int_equal(call(&inst, "{\"n\":93}", NULL, &r), 200);
        assert_non_null(strstr(r.body, "12200160415121876738"));
        lm_call_result_free(&r);
        lm_instance_stop(&inst, 1000);
    }
}

/* Writes a raw header (and optionally a payload of zeros) to the instance. */
static void raw_frame(lm_instance *inst, uint8_t type, uint32_t len, size_t payload) {
    uint8_t h[LM_FRAME_HEADER];
    lm_frame_encode(h, type, 0);
    lm_put_u32(h + 4, len);
    assert_int_equal(write(inst->child.in, h, sizeof(h)), (ssize_t)sizeof(h));
    static char zeros[1 << 16];
    while (payload > 0) {
        size_t k = payload < sizeof(zeros) ? payload : sizeof(zeros);
        ssize_t w = write(inst->child.in, zeros, k);
        assert_true(w > 0);
        payload -= (size_t)w;
    }
}

static void test_oversized_frame(void **state) {
    (void)state;
    for (int i = 0; i < 2; i++) {
        lm_instance inst;
        start(runtimes[i], "noop", &inst);
        /* A frame one byte past the limit: the instance skips it, answers
         * 413, and serves the next request. */
        raw_frame(&inst, LM_FRAME_INVOKE, LM_FRAME_MAX + 1, (size_t)LM_FRAME_MAX + 1);
        lm_call_result r;
        assert_int_equal(call(&inst, "{}", NULL, &r), 413);
        assert_non_null(strstr(r.body, "payload_too_large"));
        lm_call_result_free(&r);
        /* That 413 answered the oversized frame; this one answers "{}". */
        char err[LM_ERRLEN];
        assert_int_equal(lm_call(&inst, "{}", 2, NULL, 20000, NULL, NULL, &r, err), LM_OK);
        assert_int_equal(r.status, 200);
        lm_call_result_free(&r);
        lm_instance_stop(&inst, 1000);
    }
}

static void test_protocol_violation_ends_instance(void **state) {
    (void)state;
    lm_instance inst;
    start("native", "noop", &inst);
    raw_frame(&inst, LM_FRAME_VALUE, 0, 0); /* not something an idle instance expects */
    lm_call_result r;
    char err[LM_ERRLEN];
    assert_int_equal(lm_call(&inst, "{}", 2, NULL, 5000, NULL, NULL, &r, err), LM_ERR);
    assert_non_null(strstr(err, "exit status 2"));
    lm_instance_stop(&inst, 0);
}

static void test_start_errors(void **state) {
    (void)state;
    char err[LM_ERRLEN];
    assert_null(lm_runtime_find("wasmtime-nope", err));
    assert_non_null(strstr(err, "native"));
    const lm_runtime *rt = lm_runtime_find("native", err);
    lm_start_opts o = {.artifacts = "/nonexistent/artifacts", .stderr_fd = -1};
    lm_instance inst;
    assert_int_equal(lm_instance_start(rt, "noop", &o, &inst, err), LM_ERR);
    assert_non_null(strstr(err, "lumos build"));
    rt = lm_runtime_find("wasm-jit", err);
    assert_int_equal(lm_instance_start(rt, "noop", &o, &inst, err), LM_ERR);
    assert_non_null(strstr(err, "lumos build"));
}

int main(void) {
    /* As lumos does (cli/main.c): a write to an instance that has just
     * exited is EPIPE for the channel to report, not the end of the test
     * (test_protocol_violation_ends_instance raced its instance's exit). */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_and_probes),
        cmocka_unit_test(test_get_one_mib_from_memory),
        cmocka_unit_test(test_put_through_redis),
        cmocka_unit_test(test_no_store_is_a_clear_error),
        cmocka_unit_test(test_bad_bodies_keep_instance),
        cmocka_unit_test(test_oversized_frame),
        cmocka_unit_test(test_protocol_violation_ends_instance),
        cmocka_unit_test(test_start_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
