/* test_channel_core.c -- the channel core (src/channel/internal.h) alone,
 * with no instance and no I/O: known answers for every frame type in every
 * state, the storage answers and their accounting, the begin-of-invoke
 * checks, the words for an end and a timeout, bad input (bad headers, a
 * frame before READY or while idle, a truncated RESULT, malformed PUTs,
 * keys too long, a frame while a storage answer is pending), and a property
 * test: random valid conversations, cut at random byte boundaries, give
 * the same events, results and accounting as the conversation says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "channel/internal.h"
#include "proto/mark.h"
#include "storage/storage.h"

/* An instance that is only a name: the core asks no more of it (how it
 * ended comes from exited/exit_status when there is no process). */
static lm_instance fake;

static lm_instance *fake_instance(void) {
    memset(&fake, 0, sizeof(fake));
    snprintf(fake.id, sizeof(fake.id), "fake-1");
    snprintf(fake.function, sizeof(fake.function), "fn");
    fake.stderr_capture = -1;
    return &fake;
}

/* A core in state st (BUSY: through lm__chan_invoke). */
static void chan_in(lm__chan *ch, lm__chan_state st) {
    char err[LM_ERRLEN];
    lm__chan_init(ch, fake_instance(), st == LM__CHAN_WAIT_READY ? st : LM__CHAN_IDLE);
    if (st == LM__CHAN_BUSY) assert_int_equal(lm__chan_invoke(ch, 2, err), LM_OK);
    if (st == LM__CHAN_DEAD) lm__chan_timed_out(ch, 0, err);
    assert_int_equal(ch->state, st);
}

/* Checks an error: it contains want, not the pool's "in time" (which
 * means a hang), and left the core DEAD. */
static void expect_error(lm__chan *ch, lm__chan_what what, const char *err, const char *want) {
    assert_int_equal(what, LM__CHAN_ERROR);
    if (!strstr(err, want)) fail_msg("error \"%s\" does not say \"%s\"", err, want);
    assert_null(strstr(err, "in time"));
    assert_int_equal(ch->state, LM__CHAN_DEAD);
}

/* A RESULT payload: status, n probe fields (field i is 1000 + i), body. */
static size_t result_payload(uint8_t *p, int status, unsigned n, const char *body) {
    lm_put_u16(p, (uint16_t)status);
    lm_put_u16(p + 2, (uint16_t)n);
    for (unsigned i = 0; i < n; i++)
        lm_put_u64(p + LM_RESULT_FIXED + 8 * i, 1000 + i);
    size_t blen = strlen(body);
    memcpy(p + LM_RESULT_FIXED + 8 * n, body, blen);
    return LM_RESULT_FIXED + 8 * (size_t)n + blen;
}

/* A PUT payload: u32 key length, key, value. */
static size_t put_payload(uint8_t *p, const char *key, size_t klen, const char *val, size_t vlen) {
    lm_put_u32(p, (uint32_t)klen);
    memcpy(p + 4, key, klen);
    memcpy(p + 4 + klen, val, vlen);
    return 4 + klen + vlen;
}

static lm__chan_what frame(lm__chan *ch, uint8_t type, const void *p, size_t len, lm__chan_msg *m,
                           char *err) {
    return lm__chan_frame(ch, type, (const char *)p, len, m, err);
}

/* ---- Known answers, state by state ---- */

static void test_wait_ready(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    char err[LM_ERRLEN];
    chan_in(&ch, LM__CHAN_WAIT_READY);
    assert_int_equal(frame(&ch, LM_FRAME_LOG, "starting", 8, &m, err), LM__CHAN_LOG);
    assert_int_equal(m.len, 8);
    assert_memory_equal(m.data, "starting", 8);
    assert_null(m.payload);
    assert_int_equal(ch.state, LM__CHAN_WAIT_READY);
    uint64_t before = lm_now_ns();
    const char *hello = "{\"function\":\"fn\",\"sdk\":1}";
    assert_int_equal(frame(&ch, LM_FRAME_READY, hello, strlen(hello), &m, err), LM__CHAN_READY);
    assert_int_equal(ch.state, LM__CHAN_IDLE);
    assert_true(ch.ready_ns >= before && ch.ready_ns <= lm_now_ns());

    /* Every other type before READY breaks the channel, naming the type. */
    for (uint8_t t = 1; t <= LM_FRAME_TYPE_MAX; t++) {
        if (t == LM_FRAME_READY || t == LM_FRAME_LOG || t == LM_FRAME_MARK) continue;
        chan_in(&ch, LM__CHAN_WAIT_READY);
        char want[64];
        snprintf(want, sizeof(want), "instance fake-1 sent frame type %u before READY", t);
        expect_error(&ch, frame(&ch, t, "", 0, &m, err), err, want);
    }
}

/* A MARK payload of n records (kinds[i], ts[i]). */
static size_t mark_payload(uint8_t *p, const uint64_t *kinds, const uint64_t *ts, int n) {
    uint8_t frame_buf[LM_FRAME_HEADER + LM_MARK_MAX * LM_MARK_RECORD];
    size_t len = lm_mark_frame(frame_buf, kinds, ts, n);
    memcpy(p, frame_buf + LM_FRAME_HEADER, len - LM_FRAME_HEADER);
    return len - LM_FRAME_HEADER;
}

/* MARK frames before READY are filed into the instance's boundaries; after
 * READY they are taken and ignored; a payload that is not whole records
 * (or more than LM_MARK_MAX of them) breaks the channel. */
static void test_marks(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    char err[LM_ERRLEN];
    uint8_t p[LM_MARK_MAX * LM_MARK_RECORD + 16];
    chan_in(&ch, LM__CHAN_WAIT_READY);
    /* A launcher, then a runner inside the container, then the guest. */
    uint64_t k1[] = {LM_MARK_PROGRAM, LM_MARK_CREATED, LM_MARK_PROGRAM, 99};
    uint64_t t1[] = {100, 200, 300, 400};
    assert_int_equal(frame(&ch, LM_FRAME_MARK, p, mark_payload(p, k1, t1, 4), &m, err),
                     LM__CHAN_MARK);
    uint64_t k2[] = {LM_MARK_LOAD_BEGIN, LM_MARK_LOADED, LM_MARK_GUEST_MAIN, LM_MARK_READY_SENT,
                     LM_MARK_GUEST_MAIN};
    uint64_t t2[] = {310, 320, 330, 340, 999};
    assert_int_equal(frame(&ch, LM_FRAME_MARK, p, mark_payload(p, k2, t2, 5), &m, err),
                     LM__CHAN_MARK);
    assert_int_equal(ch.state, LM__CHAN_WAIT_READY);
    const uint64_t *b = fake.marks;
    assert_int_equal(b[LM_B_SPAWNED], 100);
    assert_int_equal(b[LM_B_CREATED], 200);
    assert_int_equal(b[LM_B_STARTED], 300);
    assert_int_equal(b[LM_B_LOAD_BEGIN], 310);
    assert_int_equal(b[LM_B_LOADED], 320);
    assert_int_equal(b[LM_B_MAIN], 330); /* the first report of a kind stays */
    assert_int_equal(b[LM_B_READY_SENT], 340);
    assert_int_equal(b[LM_B_READY], 0);
    assert_int_equal(frame(&ch, LM_FRAME_READY, "{}", 2, &m, err), LM__CHAN_READY);
    assert_int_equal(b[LM_B_READY], ch.ready_ns);
    uint64_t k3[] = {LM_MARK_CREATED}, t3[] = {5};
    assert_int_equal(frame(&ch, LM_FRAME_MARK, p, mark_payload(p, k3, t3, 1), &m, err),
                     LM__CHAN_MARK);
    assert_int_equal(ch.state, LM__CHAN_IDLE);
    assert_int_equal(b[LM_B_CREATED], 200);
    /* Not whole records, or too many. */
    chan_in(&ch, LM__CHAN_WAIT_READY);
    expect_error(&ch, frame(&ch, LM_FRAME_MARK, p, 15, &m, err), err,
                 "instance fake-1 sent a malformed MARK (15 bytes)");
    chan_in(&ch, LM__CHAN_WAIT_READY);
    expect_error(&ch, frame(&ch, LM_FRAME_MARK, p, (LM_MARK_MAX + 1) * LM_MARK_RECORD, &m, err),
                 err, "sent a malformed MARK");
}

static void test_idle(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    char err[LM_ERRLEN];
    chan_in(&ch, LM__CHAN_IDLE);
    assert_int_equal(frame(&ch, LM_FRAME_LOG, "x", 1, &m, err), LM__CHAN_LOG);
    assert_int_equal(ch.state, LM__CHAN_IDLE);
    for (uint8_t t = 1; t <= LM_FRAME_TYPE_MAX; t++) {
        if (t == LM_FRAME_LOG || t == LM_FRAME_MARK) continue;
        chan_in(&ch, LM__CHAN_IDLE);
        expect_error(&ch, frame(&ch, t, "k", 1, &m, err), err,
                     "instance fake-1 sent a frame while idle");
    }
}

static void test_busy(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    lm__chan_out out;
    char err[LM_ERRLEN];
    uint8_t p[256];
    chan_in(&ch, LM__CHAN_BUSY);
    assert_int_equal(frame(&ch, LM_FRAME_LOG, "line", 4, &m, err), LM__CHAN_LOG);
    assert_memory_equal(m.data, "line", 4);

    assert_int_equal(frame(&ch, LM_FRAME_GET, "in/a.txt", 8, &m, err), LM__CHAN_GET);
    assert_string_equal(ch.key, "in/a.txt");
    assert_null(m.data);
    assert_true(ch.pending);
    lm__chan_answer(&ch, 1, NULL, 0, NULL, &out);
    assert_int_equal(out.type, LM_FRAME_NOT_FOUND);

    size_t n = put_payload(p, "out/b", 5, "value", 5);
    assert_int_equal(frame(&ch, LM_FRAME_PUT, p, n, &m, err), LM__CHAN_PUT);
    assert_string_equal(ch.key, "out/b");
    assert_int_equal(m.len, 5);
    assert_ptr_equal(m.data, (const char *)p + 9);
    lm__chan_answer(&ch, 0, NULL, 0, NULL, &out);
    assert_int_equal(out.type, LM_FRAME_STORED);

    /* A PUT of an empty value under an empty key is well formed. */
    n = put_payload(p, "", 0, "", 0);
    assert_int_equal(frame(&ch, LM_FRAME_PUT, p, n, &m, err), LM__CHAN_PUT);
    assert_string_equal(ch.key, "");
    assert_int_equal(m.len, 0);
    lm__chan_answer(&ch, 0, NULL, 0, NULL, &out);

    n = result_payload(p, 201, LM_PROBE_COUNT, "{\"ok\":1}");
    assert_int_equal(frame(&ch, LM_FRAME_RESULT, p, n, &m, err), LM__CHAN_RESULT);
    assert_int_equal(ch.state, LM__CHAN_IDLE);
    assert_int_equal(ch.res.status, 201);
    for (int i = 0; i < LM_PROBE_COUNT; i++)
        assert_int_equal(ch.res.probes[i], 1000 + i);
    assert_int_equal(ch.res.body_len, 8);
    assert_ptr_equal(ch.res.body, (char *)p + LM_RESULT_FIXED + 8 * LM_PROBE_COUNT);
    assert_true(ch.res.result_ns >= ch.res.sent_ns && ch.res.sent_ns > 0);
    assert_int_equal(ch.res.storage_calls, 3);
    assert_int_equal(ch.res.storage_write_bytes, 5);
    assert_int_equal(ch.res.storage_read_bytes, 0);

    /* Host-to-guest types and a second READY are not the guest's to send. */
    uint8_t bad[] = {LM_FRAME_READY,     LM_FRAME_INVOKE, LM_FRAME_VALUE,
                     LM_FRAME_NOT_FOUND, LM_FRAME_STORED, LM_FRAME_STORAGE_ERROR};
    for (size_t i = 0; i < sizeof(bad); i++) {
        chan_in(&ch, LM__CHAN_BUSY);
        char want[64];
        snprintf(want, sizeof(want), "instance fake-1 sent unexpected frame type %u", bad[i]);
        expect_error(&ch, frame(&ch, bad[i], "", 0, &m, err), err, want);
    }
}

static void test_dead(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    char err[LM_ERRLEN];
    for (uint8_t t = 1; t <= LM_FRAME_TYPE_MAX; t++) {
        chan_in(&ch, LM__CHAN_DEAD);
        expect_error(&ch, frame(&ch, t, "", 0, &m, err), err, "after its channel broke");
    }
}

/* ---- RESULT ---- */

static void test_result_probes_and_truncation(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    char err[LM_ERRLEN];
    uint8_t p[256];
    /* Fewer probe fields than this host knows read as 0; more are skipped. */
    unsigned counts[] = {0, 3, LM_PROBE_COUNT + 4};
    for (size_t c = 0; c < 3; c++) {
        chan_in(&ch, LM__CHAN_BUSY);
        size_t n = result_payload(p, 500, counts[c], "body");
        assert_int_equal(frame(&ch, LM_FRAME_RESULT, p, n, &m, err), LM__CHAN_RESULT);
        assert_int_equal(ch.res.status, 500);
        for (unsigned i = 0; i < LM_PROBE_COUNT; i++)
            assert_int_equal(ch.res.probes[i], i < counts[c] ? 1000 + i : 0);
        assert_int_equal(ch.res.body_len, 4);
        assert_memory_equal(ch.res.body, "body", 4);
    }
    /* An empty body is a body. */
    chan_in(&ch, LM__CHAN_BUSY);
    size_t n = result_payload(p, 204, 0, "");
    assert_int_equal(frame(&ch, LM_FRAME_RESULT, p, n, &m, err), LM__CHAN_RESULT);
    assert_int_equal(ch.res.body_len, 0);

    /* Shorter than status and count, or than the probes it announces. */
    n = result_payload(p, 200, 2, "");
    size_t cuts[] = {0, 1, 3, n - 1};
    for (size_t c = 0; c < 4; c++) {
        chan_in(&ch, LM__CHAN_BUSY);
        expect_error(&ch, frame(&ch, LM_FRAME_RESULT, p, cuts[c], &m, err), err,
                     "instance fake-1 sent a truncated RESULT");
    }
}

/* ---- GET and PUT: keys, malformed frames, one call at a time ---- */

static void test_keys_and_malformed_put(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    lm__chan_out out;
    char err[LM_ERRLEN], key[LM__CHAN_KEY_MAX + 2];
    uint8_t p[2 * LM__CHAN_KEY_MAX];
    memset(key, 'k', sizeof(key));

    /* The longest key passes whole, both ways; one byte more breaks. */
    chan_in(&ch, LM__CHAN_BUSY);
    assert_int_equal(frame(&ch, LM_FRAME_GET, key, LM__CHAN_KEY_MAX, &m, err), LM__CHAN_GET);
    assert_int_equal(strlen(ch.key), LM__CHAN_KEY_MAX);
    lm__chan_answer(&ch, 1, NULL, 0, NULL, &out);
    size_t n = put_payload(p, key, LM__CHAN_KEY_MAX, "v", 1);
    assert_int_equal(frame(&ch, LM_FRAME_PUT, p, n, &m, err), LM__CHAN_PUT);
    assert_int_equal(strlen(ch.key), LM__CHAN_KEY_MAX);
    assert_int_equal(m.len, 1);
    expect_error(&ch, frame(&ch, LM_FRAME_GET, key, LM__CHAN_KEY_MAX + 1, &m, err), err,
                 "before its storage answer");

    chan_in(&ch, LM__CHAN_BUSY);
    expect_error(&ch, frame(&ch, LM_FRAME_GET, key, LM__CHAN_KEY_MAX + 1, &m, err), err,
                 "instance fake-1: GET key too long");
    assert_false(ch.pending);

    /* PUTs: no room for the length, a key past the payload, past the
     * limit, a length of 2^32 - 1. */
    struct {
        uint32_t klen;
        size_t len;
    } bad[] = {{0, 0},
               {0, 3},
               {10, 4 + 9},
               {LM__CHAN_KEY_MAX + 1, 4 + LM__CHAN_KEY_MAX + 1},
               {UINT32_MAX, 64}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        chan_in(&ch, LM__CHAN_BUSY);
        memset(p, 'x', sizeof(p));
        lm_put_u32(p, bad[i].klen);
        expect_error(&ch, frame(&ch, LM_FRAME_PUT, p, bad[i].len, &m, err), err,
                     "instance fake-1 sent a malformed PUT");
    }
}

static void test_one_storage_call_at_a_time(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    lm__chan_out out;
    char err[LM_ERRLEN];
    uint8_t p[64];
    size_t rn = result_payload(p + 32, 200, 0, "{}");
    /* GET, GET: the guest must wait for each answer. So for PUT and RESULT. */
    uint8_t second[] = {LM_FRAME_GET, LM_FRAME_PUT, LM_FRAME_RESULT};
    for (size_t i = 0; i < sizeof(second); i++) {
        chan_in(&ch, LM__CHAN_BUSY);
        assert_int_equal(frame(&ch, LM_FRAME_GET, "a", 1, &m, err), LM__CHAN_GET);
        size_t n = second[i] == LM_FRAME_RESULT ? rn : put_payload(p, "b", 1, "", 0);
        const uint8_t *q = second[i] == LM_FRAME_RESULT ? p + 32 : p;
        expect_error(&ch, frame(&ch, second[i], q, n, &m, err), err,
                     "instance fake-1 sent a frame before its storage answer");
        assert_false(ch.pending);
    }
    /* A LOG meanwhile is fine; after the answer the next call may come. */
    chan_in(&ch, LM__CHAN_BUSY);
    assert_int_equal(frame(&ch, LM_FRAME_GET, "a", 1, &m, err), LM__CHAN_GET);
    assert_int_equal(frame(&ch, LM_FRAME_LOG, "waiting", 7, &m, err), LM__CHAN_LOG);
    assert_true(ch.pending);
    lm__chan_answer(&ch, 0, "A", 1, NULL, &out);
    assert_false(ch.pending);
    assert_int_equal(frame(&ch, LM_FRAME_GET, "b", 1, &m, err), LM__CHAN_GET);
    lm__chan_answer(&ch, 0, "BB", 2, NULL, &out);
    assert_int_equal(frame(&ch, LM_FRAME_RESULT, p + 32, rn, &m, err), LM__CHAN_RESULT);
    assert_int_equal(ch.res.storage_calls, 2);
    assert_int_equal(ch.res.storage_read_bytes, 3);
}

/* ---- Storage answers and their accounting ---- */

static void sleep_ms(long ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_answers(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    lm__chan_out out;
    char err[LM_ERRLEN];
    uint8_t p[64];
    chan_in(&ch, LM__CHAN_BUSY);

    /* Found: the VALUE is the store's bytes themselves, counted read. The
     * storage time is the wait from the GET to its answer. */
    assert_int_equal(frame(&ch, LM_FRAME_GET, "k1", 2, &m, err), LM__CHAN_GET);
    sleep_ms(3);
    const char *data = "0123456789";
    lm__chan_answer(&ch, 0, data, 10, NULL, &out);
    assert_int_equal(out.type, LM_FRAME_VALUE);
    assert_ptr_equal(out.payload, data);
    assert_int_equal(out.len, 10);
    assert_null(out.owned);
    assert_int_equal(ch.res.storage_read_bytes, 10);
    assert_true(ch.res.storage_ns >= 3000000u);
    uint64_t ns = ch.res.storage_ns;

    /* Found empty; absent; a fault, passed on with the store's words. */
    assert_int_equal(frame(&ch, LM_FRAME_GET, "k2", 2, &m, err), LM__CHAN_GET);
    lm__chan_answer(&ch, 0, "", 0, NULL, &out);
    assert_int_equal(out.type, LM_FRAME_VALUE);
    assert_int_equal(out.len, 0);
    assert_int_equal(frame(&ch, LM_FRAME_GET, "k3", 2, &m, err), LM__CHAN_GET);
    lm__chan_answer(&ch, 1, NULL, 0, NULL, &out);
    assert_int_equal(out.type, LM_FRAME_NOT_FOUND);
    assert_int_equal(out.len, 0);
    assert_int_equal(frame(&ch, LM_FRAME_GET, "k4", 2, &m, err), LM__CHAN_GET);
    const char *why = "redis 127.0.0.1:1: connection refused";
    lm__chan_answer(&ch, -1, NULL, 0, why, &out);
    assert_int_equal(out.type, LM_FRAME_STORAGE_ERROR);
    assert_int_equal(out.len, strlen(why));
    assert_memory_equal(out.payload, why, out.len);
    assert_int_equal(ch.res.storage_read_bytes, 10);

    /* An object too big for one frame: a storage error naming it, not read. */
    assert_int_equal(frame(&ch, LM_FRAME_GET, "huge/obj", 8, &m, err), LM__CHAN_GET);
    lm__chan_answer(&ch, 0, data, (size_t)LM_FRAME_MAX + 1, NULL, &out);
    assert_int_equal(out.type, LM_FRAME_STORAGE_ERROR);
    assert_non_null(strstr(out.payload, "object 'huge/obj' has 134217729 bytes"));
    assert_non_null(strstr(out.payload, "past the frame limit"));
    assert_int_equal(ch.res.storage_read_bytes, 10);

    /* PUT stored counts its value; a failed one does not. */
    size_t n = put_payload(p, "o", 1, "abcdef", 6);
    assert_int_equal(frame(&ch, LM_FRAME_PUT, p, n, &m, err), LM__CHAN_PUT);
    lm__chan_answer(&ch, 0, NULL, 0, NULL, &out);
    assert_int_equal(out.type, LM_FRAME_STORED);
    assert_int_equal(out.len, 0);
    assert_int_equal(frame(&ch, LM_FRAME_PUT, p, n, &m, err), LM__CHAN_PUT);
    lm__chan_answer(&ch, -1, NULL, 0, "disk full", &out);
    assert_int_equal(out.type, LM_FRAME_STORAGE_ERROR);
    assert_memory_equal(out.payload, "disk full", 9);
    assert_int_equal(ch.res.storage_write_bytes, 6);
    assert_int_equal(ch.res.storage_calls, 7);
    assert_true(ch.res.storage_ns >= ns);

    /* An answer with no call waiting counts nothing. */
    lm_call_result before = ch.res;
    lm__chan_answer(&ch, 0, data, 10, NULL, &out);
    assert_int_equal(out.type, LM_FRAME_STORAGE_ERROR);
    assert_memory_equal(&before, &ch.res, sizeof(before));

    /* A new request starts its accounting afresh. */
    size_t rn = result_payload(p, 200, 0, "");
    assert_int_equal(frame(&ch, LM_FRAME_RESULT, p, rn, &m, err), LM__CHAN_RESULT);
    assert_int_equal(lm__chan_invoke(&ch, 0, err), LM_OK);
    assert_int_equal(ch.res.storage_calls, 0);
    assert_int_equal(ch.res.storage_ns, 0);
    assert_int_equal(ch.res.storage_read_bytes + ch.res.storage_write_bytes, 0);
    assert_null(ch.res.body);
    lm__chan_out_free(NULL);
    lm__chan_release(NULL);
}

/* A store whose every call fails, slowly. */
static int slow_get(lm_store *s, const char *key, char **data, size_t *len, char *err) {
    (void)s;
    sleep_ms(2);
    lm_errf(err, "slow store: no '%s'", key);
    return -1;
}
static int slow_put(lm_store *s, const char *key, const void *data, size_t len, char *err) {
    (void)s;
    (void)data;
    sleep_ms(2);
    return lm_errf(err, "slow store: cannot put %zu bytes under '%s'", len, key);
}

static void test_serve(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    lm__chan_out out;
    char err[LM_ERRLEN];
    uint8_t p[64];
    lm_store *mem = lm_store_memory();
    chan_in(&ch, LM__CHAN_BUSY);

    /* PUT then GET from memory: the object comes back, owned by out. */
    size_t n = put_payload(p, "obj", 3, "hello", 5);
    assert_int_equal(frame(&ch, LM_FRAME_PUT, p, n, &m, err), LM__CHAN_PUT);
    lm__chan_serve(&ch, mem, &m, &out);
    assert_int_equal(out.type, LM_FRAME_STORED);
    lm__chan_out_free(&out);
    assert_int_equal(frame(&ch, LM_FRAME_GET, "obj", 3, &m, err), LM__CHAN_GET);
    lm__chan_serve(&ch, mem, &m, &out);
    assert_int_equal(out.type, LM_FRAME_VALUE);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.payload, "hello", 5);
    assert_ptr_equal(out.payload, out.owned);
    lm__chan_out_free(&out);
    assert_null(out.owned);
    assert_int_equal(frame(&ch, LM_FRAME_GET, "nope", 4, &m, err), LM__CHAN_GET);
    lm__chan_serve(&ch, mem, &m, &out);
    assert_int_equal(out.type, LM_FRAME_NOT_FOUND);
    lm__chan_out_free(&out);
    assert_int_equal(ch.res.storage_read_bytes, 5);
    assert_int_equal(ch.res.storage_write_bytes, 5);

    /* No store: the answer says how to give one, and no time is counted. */
    chan_in(&ch, LM__CHAN_BUSY);
    assert_int_equal(frame(&ch, LM_FRAME_GET, "k", 1, &m, err), LM__CHAN_GET);
    sleep_ms(2);
    lm__chan_serve(&ch, NULL, &m, &out);
    assert_int_equal(out.type, LM_FRAME_STORAGE_ERROR);
    assert_int_equal(out.len, strlen(out.payload));
    assert_non_null(strstr(out.payload, "no Redis for this instance"));
    assert_non_null(strstr(out.payload, "--redis"));
    n = put_payload(p, "k", 1, "v", 1);
    assert_int_equal(frame(&ch, LM_FRAME_PUT, p, n, &m, err), LM__CHAN_PUT);
    lm__chan_serve(&ch, NULL, &m, &out);
    assert_int_equal(out.type, LM_FRAME_STORAGE_ERROR);
    assert_int_equal(ch.res.storage_ns, 0);
    assert_int_equal(ch.res.storage_calls, 2);
    assert_int_equal(ch.res.storage_write_bytes, 0);

    /* A failing store: its words go to the guest, its time is counted. */
    lm_store slow = {.get = slow_get, .put = slow_put, .kind = "slow"};
    chan_in(&ch, LM__CHAN_BUSY);
    assert_int_equal(frame(&ch, LM_FRAME_GET, "a/b", 3, &m, err), LM__CHAN_GET);
    lm__chan_serve(&ch, &slow, &m, &out);
    assert_int_equal(out.type, LM_FRAME_STORAGE_ERROR);
    assert_string_equal(out.payload, "slow store: no 'a/b'");
    assert_int_equal(out.len, strlen("slow store: no 'a/b'"));
    lm__chan_out_free(&out);
    n = put_payload(p, "c", 1, "xyz", 3);
    assert_int_equal(frame(&ch, LM_FRAME_PUT, p, n, &m, err), LM__CHAN_PUT);
    lm__chan_serve(&ch, &slow, &m, &out);
    assert_string_equal(out.payload, "slow store: cannot put 3 bytes under 'c'");
    assert_true(ch.res.storage_ns >= 4000000u);
    assert_int_equal(ch.res.storage_write_bytes, 0);
    lm_store_free(mem);
}

/* ---- Begin of a request, ends and timeouts ---- */

static void test_invoke_checks(void **state) {
    (void)state;
    lm__chan ch;
    char err[LM_ERRLEN];
    const char *says[] = {"instance fake-1 is not ready", NULL, "instance fake-1 is busy",
                          "instance fake-1 is dead"};
    for (int st = LM__CHAN_WAIT_READY; st <= LM__CHAN_DEAD; st++) {
        if (st == LM__CHAN_IDLE) continue;
        chan_in(&ch, (lm__chan_state)st);
        assert_int_equal(lm__chan_invoke(&ch, 2, err), LM_ERR);
        assert_string_equal(err, says[st]);
        assert_int_equal(ch.state, st);
    }
    chan_in(&ch, LM__CHAN_IDLE);
    assert_int_equal(lm__chan_invoke(&ch, (size_t)LM_FRAME_MAX + 1, err), LM_ERR);
    assert_string_equal(err, "request body of 134217729 bytes is past the frame limit of "
                             "134217728 bytes");
    assert_int_equal(ch.state, LM__CHAN_IDLE);
    ch.res.storage_calls = 9;
    uint64_t before = lm_now_ns();
    assert_int_equal(lm__chan_invoke(&ch, LM_FRAME_MAX, err), LM_OK);
    assert_int_equal(ch.state, LM__CHAN_BUSY);
    assert_int_equal(ch.res.storage_calls, 0);
    assert_true(ch.res.sent_ns >= before && ch.res.sent_ns <= lm_now_ns());
}

static void test_ends_and_timeouts(void **state) {
    (void)state;
    lm__chan ch;
    char err[LM_ERRLEN];
    /* Timeouts: the bound in ms for lumos run and invoke, "in time" for
     * the pool. */
    chan_in(&ch, LM__CHAN_WAIT_READY);
    lm__chan_timed_out(&ch, 20000, err);
    assert_string_equal(err, "instance fake-1 of fn did not get READY within 20000 ms");
    assert_int_equal(ch.state, LM__CHAN_DEAD);
    chan_in(&ch, LM__CHAN_WAIT_READY);
    lm__chan_timed_out(&ch, 0, err);
    assert_string_equal(err, "instance fake-1 did not get READY in time");
    chan_in(&ch, LM__CHAN_BUSY);
    lm__chan_timed_out(&ch, 1500, err);
    assert_string_equal(err, "instance fake-1 of fn did not answer within 1500 ms");
    chan_in(&ch, LM__CHAN_BUSY);
    lm__chan_msg m;
    assert_int_equal(lm__chan_frame(&ch, LM_FRAME_GET, "k", 1, &m, err), LM__CHAN_GET);
    lm__chan_timed_out(&ch, 0, err);
    assert_string_equal(err, "instance fake-1 did not answer in time");
    assert_int_equal(ch.state, LM__CHAN_DEAD);
    assert_false(ch.pending);

    /* The end, with the cause the instance left. */
    chan_in(&ch, LM__CHAN_BUSY);
    fake.exited = 1;
    fake.exit_status = 2 << 8; /* exit(2) */
    assert_true(WIFEXITED(fake.exit_status) && WEXITSTATUS(fake.exit_status) == 2);
    lm__chan_ended(&ch, err);
    assert_string_equal(err, "instance fake-1 of fn ended (exit status 2)");
    assert_int_equal(ch.state, LM__CHAN_DEAD);
    assert_null(strstr(err, "in time"));
}

/* ---- The frame reader ---- */

/* Feeds bytes b[0..n) to the core the way a driver does, at most want at
 * a time; stops at the first complete frame. Returns what it was (MORE
 * when the bytes ran out first); *used says how many bytes it took. */
static lm__chan_what feed(lm__chan *ch, const uint8_t *b, size_t n, size_t *used, lm__chan_msg *m,
                          char *err) {
    *used = 0;
    while (*used < n) {
        size_t want;
        char *dst = lm__chan_space(ch, &want);
        assert_true(want >= 1);
        size_t k = n - *used < want ? n - *used : want;
        memcpy(dst, b + *used, k);
        *used += k;
        lm__chan_what what = lm__chan_got(ch, k, m, err);
        if (what != LM__CHAN_MORE) return what;
        assert_null(m->payload);
    }
    return LM__CHAN_MORE;
}

static size_t put_frame(uint8_t *out, uint8_t type, const void *p, size_t len) {
    lm_frame_encode(out, type, (uint32_t)len);
    if (len) memcpy(out + LM_FRAME_HEADER, p, len);
    return LM_FRAME_HEADER + len;
}

static void test_reader(void **state) {
    (void)state;
    lm__chan ch;
    lm__chan_msg m;
    char err[LM_ERRLEN];
    uint8_t b[64];
    size_t used, want;

    /* The space is exactly what the frame lacks: 8, then the payload. */
    chan_in(&ch, LM__CHAN_WAIT_READY);
    size_t n = put_frame(b, LM_FRAME_LOG, "hello", 5);
    n += put_frame(b + n, LM_FRAME_READY, NULL, 0);
    lm__chan_space(&ch, &want);
    assert_int_equal(want, LM_FRAME_HEADER);
    memcpy(lm__chan_space(&ch, &want), b, 3);
    assert_int_equal(lm__chan_got(&ch, 3, &m, err), LM__CHAN_MORE);
    lm__chan_space(&ch, &want);
    assert_int_equal(want, LM_FRAME_HEADER - 3);
    memcpy(lm__chan_space(&ch, &want), b + 3, 5);
    assert_int_equal(lm__chan_got(&ch, 5, &m, err), LM__CHAN_MORE);
    lm__chan_space(&ch, &want);
    assert_int_equal(want, 5);
    /* The rest of the buffer holds the READY: the LOG takes only its own. */
    assert_int_equal(feed(&ch, b + 8, n - 8, &used, &m, err), LM__CHAN_LOG);
    assert_int_equal(used, 5);
    assert_string_equal(m.payload, "hello"); /* NUL-terminated */
    assert_ptr_equal(m.data, m.payload);
    free(m.payload);
    assert_int_equal(feed(&ch, b + 13, n - 13, &used, &m, err), LM__CHAN_READY);
    assert_int_equal(used, LM_FRAME_HEADER);
    assert_non_null(m.payload); /* an empty payload, still the caller's */
    free(m.payload);

    /* Bad headers break the channel at once, payload or not. */
    struct {
        uint8_t hdr[LM_FRAME_HEADER];
        const char *says;
    } bad[] = {
        {{'{', '"', 'a', '"', ':', '1', '}', '\n'}, "bad frame magic 0x7b"},
        {{LM_FRAME_MAGIC, LM_FRAME_READY, 1, 0, 0, 0, 0, 0}, "reserved bytes"},
        {{LM_FRAME_MAGIC, 0, 0, 0, 0, 0, 0, 0}, "unknown type 0"},
        {{LM_FRAME_MAGIC, LM_FRAME_TYPE_MAX + 1, 0, 0, 0, 0, 0, 0}, "unknown type 12"},
        {{LM_FRAME_MAGIC, LM_FRAME_LOG, 0, 0, 1, 0, 0, 8}, "past the limit"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        chan_in(&ch, LM__CHAN_WAIT_READY);
        lm__chan_what what = feed(&ch, bad[i].hdr, LM_FRAME_HEADER, &used, &m, err);
        expect_error(&ch, what, err, "instance fake-1 sent a bad frame: ");
        if (!strstr(err, bad[i].says)) fail_msg("\"%s\" does not say \"%s\"", err, bad[i].says);
        assert_null(m.payload);
        lm__chan_space(&ch, &want); /* still a valid space, though DEAD */
        assert_int_equal(want, LM_FRAME_HEADER);
        lm__chan_release(&ch);
    }

    /* Released half-way through a payload: nothing leaks (ASan). */
    chan_in(&ch, LM__CHAN_WAIT_READY);
    n = put_frame(b, LM_FRAME_LOG, "0123456789", 10);
    assert_int_equal(feed(&ch, b, n - 4, &used, &m, err), LM__CHAN_MORE);
    lm__chan_release(&ch);
    lm__chan_space(&ch, &want);
    assert_int_equal(want, LM_FRAME_HEADER);
}

/* ---- Property: any cut of a valid conversation, the same outcome ---- */

static uint64_t rng;
static uint32_t rnd(uint32_t n) { /* xorshift64*, uniform enough in [0, n) */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 2685821657736338717ull) >> 33) % n;
}

/* One guest frame of the conversation and what the core must make of it. */
typedef struct {
    lm__chan_what what;
    size_t off, len;  /* the frame in the stream */
    char key[40];     /* GET, PUT */
    size_t data_off;  /* LOG, PUT: where its line or value starts */
    size_t data_len;  /* ... and its length */
    int answer;       /* GET, PUT: the store's outcome the test gives */
    size_t value_len; /* GET found: the object's length */
    int status;       /* RESULT */
    unsigned nprobes; /* RESULT */
    size_t body_off;  /* RESULT: where its body starts */
    size_t body_len;
    uint64_t read_bytes, write_bytes; /* RESULT: the request's expected totals */
    unsigned calls;
} step;

typedef struct {
    uint8_t *bytes;
    size_t len, cap;
    step *steps;
    size_t nsteps, capsteps;
} conversation;

static uint8_t *room(conversation *c, size_t n) {
    if (c->len + n > c->cap) {
        c->cap = (c->len + n) * 2;
        c->bytes = realloc(c->bytes, c->cap);
        assert_non_null(c->bytes);
    }
    uint8_t *p = c->bytes + c->len;
    c->len += n;
    return p;
}

static step *add_step(conversation *c, lm__chan_what what) {
    if (c->nsteps == c->capsteps) {
        c->capsteps = c->capsteps ? 2 * c->capsteps : 16;
        c->steps = realloc(c->steps, c->capsteps * sizeof(step));
        assert_non_null(c->steps);
    }
    step *s = &c->steps[c->nsteps++];
    memset(s, 0, sizeof(*s));
    s->what = what;
    return s;
}

/* Random bytes, now and then a long run so frames span many cuts. */
static size_t random_len(void) { return rnd(8) == 0 ? 20000 + rnd(70000) : rnd(300); }

static void random_bytes(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd(256);
}

/* A frame header for a payload of len, then room for the payload. */
static uint8_t *begin_frame(conversation *c, step *s, uint8_t type, size_t len) {
    s->off = c->len;
    s->len = LM_FRAME_HEADER + len;
    lm_frame_encode(room(c, LM_FRAME_HEADER), type, (uint32_t)len);
    return room(c, len);
}

static void add_log(conversation *c) {
    step *s = add_step(c, LM__CHAN_LOG);
    size_t n = rnd(120);
    uint8_t *p = begin_frame(c, s, LM_FRAME_LOG, n);
    random_bytes(p, n);
    s->data_off = c->len - n;
    s->data_len = n;
}

static void random_conversation(conversation *c, int requests) {
    for (uint32_t i = rnd(3); i > 0; i--)
        add_log(c);
    step *s = add_step(c, LM__CHAN_READY);
    uint8_t *p = begin_frame(c, s, LM_FRAME_READY, 10);
    memcpy(p, "{\"sdk\":1}\n", 10);
    for (int r = 0; r < requests; r++) {
        uint64_t rb = 0, wb = 0;
        unsigned calls = 0;
        for (uint32_t k = rnd(6); k > 0; k--) {
            uint32_t kind = rnd(3);
            if (kind == 0) {
                add_log(c);
                continue;
            }
            s = add_step(c, kind == 1 ? LM__CHAN_GET : LM__CHAN_PUT);
            int klen = snprintf(s->key, sizeof(s->key), "obj/%u/%u", rnd(1000), rnd(1000));
            s->answer = (int)rnd(3) - 1; /* -1 fault, 0 found or stored, 1 absent */
            calls++;
            if (kind == 1) {
                p = begin_frame(c, s, LM_FRAME_GET, (size_t)klen);
                memcpy(p, s->key, (size_t)klen);
                if (s->answer == 0) rb += s->value_len = random_len();
            } else {
                if (s->answer == 1) s->answer = 0; /* a PUT is stored or fails */
                size_t vlen = random_len();
                p = begin_frame(c, s, LM_FRAME_PUT, 4 + (size_t)klen + vlen);
                put_payload(p, s->key, (size_t)klen, "", 0);
                random_bytes(p + 4 + klen, vlen);
                s->data_off = c->len - vlen;
                s->data_len = vlen;
                if (s->answer == 0) wb += vlen;
            }
        }
        s = add_step(c, LM__CHAN_RESULT);
        s->status = 200 + (int)rnd(400);
        s->nprobes = rnd(LM_PROBE_COUNT + 3);
        s->body_len = random_len();
        p = begin_frame(c, s, LM_FRAME_RESULT, LM_RESULT_FIXED + 8 * s->nprobes + s->body_len);
        result_payload(p, s->status, s->nprobes, "");
        s->body_off = c->len - s->body_len;
        random_bytes(c->bytes + s->body_off, s->body_len);
        s->read_bytes = rb;
        s->write_bytes = wb;
        s->calls = calls;
    }
}

/* Checks one event the core gave against the step it must be. */
static void check_step(lm__chan *ch, const conversation *c, const step *s, lm__chan_what what,
                       const lm__chan_msg *m, const char *err) {
    if (what != s->what) fail_msg("got %d, want %d (%s)", what, s->what, err);
    const uint8_t *b = c->bytes;
    assert_int_equal(m->payload[s->len - LM_FRAME_HEADER], 0);
    assert_memory_equal(m->payload, b + s->off + LM_FRAME_HEADER, s->len - LM_FRAME_HEADER);
    static const char value[90000];
    lm__chan_out out;
    switch (what) {
    case LM__CHAN_LOG:
    case LM__CHAN_PUT:
        assert_int_equal(m->len, s->data_len);
        assert_memory_equal(m->data, b + s->data_off, s->data_len);
        if (what == LM__CHAN_LOG) break;
        /* fallthrough */
    case LM__CHAN_GET:
        assert_string_equal(ch->key, s->key);
        lm__chan_answer(ch, s->answer, value, s->value_len, "fault", &out);
        assert_int_equal(out.type, s->answer < 0          ? LM_FRAME_STORAGE_ERROR
                                   : what == LM__CHAN_PUT ? LM_FRAME_STORED
                                   : s->answer == 0       ? LM_FRAME_VALUE
                                                          : LM_FRAME_NOT_FOUND);
        assert_int_equal(out.len, s->answer < 0 ? 5 : s->value_len);
        break;
    case LM__CHAN_RESULT:
        assert_int_equal(ch->res.status, s->status);
        for (unsigned i = 0; i < LM_PROBE_COUNT; i++)
            assert_int_equal(ch->res.probes[i], i < s->nprobes ? 1000 + i : 0);
        assert_int_equal(ch->res.body_len, s->body_len);
        assert_memory_equal(ch->res.body, b + s->body_off, s->body_len);
        assert_int_equal(ch->res.storage_calls, s->calls);
        assert_int_equal(ch->res.storage_read_bytes, s->read_bytes);
        assert_int_equal(ch->res.storage_write_bytes, s->write_bytes);
        break;
    default: break;
    }
}

/* Runs conversation c through a core in pieces of random sizes (max_cut:
 * the largest; 1 feeds byte by byte); an INVOKE goes out after READY and
 * after every RESULT but the last. Every step must come, in order. */
static void run_cut(const conversation *c, int requests, size_t max_cut) {
    lm__chan ch;
    char err[LM_ERRLEN];
    lm__chan_init(&ch, fake_instance(), LM__CHAN_WAIT_READY);
    size_t pos = 0, next = 0;
    int invoked = 0;
    while (pos < c->len) {
        size_t cut = 1 + rnd((uint32_t)max_cut);
        if (cut > c->len - pos) cut = c->len - pos;
        size_t end = pos + cut;
        while (pos < end) {
            size_t used;
            lm__chan_msg m;
            lm__chan_what what = feed(&ch, c->bytes + pos, end - pos, &used, &m, err);
            pos += used;
            if (what == LM__CHAN_MORE) break;
            assert_true(next < c->nsteps);
            /* A frame ends exactly where the conversation says. */
            assert_int_equal(pos, c->steps[next].off + c->steps[next].len);
            check_step(&ch, c, &c->steps[next++], what, &m, err);
            free(m.payload);
            if ((what == LM__CHAN_READY || what == LM__CHAN_RESULT) && invoked < requests) {
                assert_int_equal(lm__chan_invoke(&ch, 10, err), LM_OK);
                invoked++;
            }
        }
    }
    assert_int_equal(next, c->nsteps);
    assert_int_equal(ch.state, LM__CHAN_IDLE);
    lm__chan_release(&ch);
}

static void test_property_any_cut(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 150; seed++) {
        rng = seed * 0x9E3779B97F4A7C15ull;
        conversation c = {0};
        int requests = 1 + (int)rnd(4);
        random_conversation(&c, requests);
        size_t cuts[] = {1, 7, 4096, 1 << 20};
        for (size_t i = 0; i < 4; i++) {
            /* Byte by byte is slow on long payloads: only short talks. */
            if (cuts[i] == 1 && c.len > 4000) continue;
            run_cut(&c, requests, cuts[i]);
        }
        free(c.bytes);
        free(c.steps);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_ready),
        cmocka_unit_test(test_marks),
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_dead),
        cmocka_unit_test(test_result_probes_and_truncation),
        cmocka_unit_test(test_keys_and_malformed_put),
        cmocka_unit_test(test_one_storage_call_at_a_time),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_serve),
        cmocka_unit_test(test_invoke_checks),
        cmocka_unit_test(test_ends_and_timeouts),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_property_any_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
