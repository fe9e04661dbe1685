/* test_conn.c -- the event-driven channel with real instances: READY,
 * requests one after another and on two instances at once, storage served
 * from memory and, asynchronously, from a real redis-server (a 1 MiB round
 * trip, an absent key, Redis stopped or killing connections, a stalled
 * Redis while timers and a second instance go on, an instance killed
 * mid-GET), a crash, a hang past its timeout, misuse, and freeing a conn
 * from inside its own callback. */
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "channel/conn.h"
#include "runtime/runtime.h"
#include "storage/storage.h"

typedef struct {
    int ready, done;
    int status;
    char body[1024];
    char err[LM_ERRLEN];
    uint64_t io_bytes;
    uint64_t storage_ns, read_bytes, write_bytes;
    unsigned storage_calls;
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
        o->storage_ns = res->storage_ns;
        o->read_bytes = res->storage_read_bytes;
        o->write_bytes = res->storage_write_bytes;
        o->storage_calls = res->storage_calls;
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
            assert_int_equal(res.read_bytes, 1 << 20);
            assert_int_equal(res.storage_calls, 1);
            assert_non_null(strstr(res.body, "\"bytes\":1048576"));
        }
        lm_conn_free(c);
        lm_instance_stop(&inst, 1000);
        event_base_free(base);
    }
    lm_store_free(store);
    lm_conn_free(NULL);
}

/* A link (lm_conn_set_link) for the test: each frame waits delay_ns, or
 * is held while cut, or lost; it counts the frames it was asked about. */
typedef struct {
    uint64_t delay_ns;
    int cut, lost, asked[2];
    uint64_t handed[2];
} fake_link;

static uint64_t fake_frame(void *arg, int up, size_t bytes, uint64_t handed_ns, uint64_t now_ns) {
    fake_link *l = arg;
    assert_true(bytes >= LM_FRAME_HEADER);
    assert_true(handed_ns <= now_ns);
    l->asked[up]++;
    l->handed[up] = handed_ns;
    if (l->lost) return LM_CONN_LOST;
    if (l->cut) return LM_CONN_HOLD;
    return now_ns + l->delay_ns;
}

static void on_tick_flag(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    *(int *)arg = 1;
}

/* Frames through a link: both directions delayed (the request takes at
 * least twice the delay and the conn is not idle while its RESULT is on
 * the link), a cut holds the INVOKE until lm_conn_link_changed, a lost
 * frame kills the conn with a message, and the request timeout runs while
 * a RESULT is held. */
static void test_link_frames(void **state) {
    (void)state;
    char err[LM_ERRLEN];
    struct event_base *base = event_base_new();
    lm_instance inst;
    start("native", "noop", &inst);
    outcome o = {0};
    lm_conn *c = lm_conn_new(base, &inst, NULL, 20000, on_ready, &o, err);
    assert_non_null(c);
    fake_link l = {.delay_ns = 30000000};
    lm_conn_set_link(c, fake_frame, &l);
    run_until(base, &o.ready);
    outcome r = {0};
    uint64_t t0 = lm_now_ns();
    assert_int_equal(lm_conn_invoke(c, "{}", 2, 20000, on_result, &r, err), LM_OK);
    assert_false(lm_conn_idle(c));
    run_until(base, &r.done);
    assert_int_equal(r.status, 200);
    assert_true(lm_now_ns() - t0 >= 2 * l.delay_ns);
    assert_int_equal(l.asked[0], 1);
    assert_int_equal(l.asked[1], 1);
    assert_true(lm_conn_idle(c));

    /* Cut: held until the link changes. */
    l.cut = 1;
    l.delay_ns = 0;
    outcome h = {0};
    assert_int_equal(lm_conn_invoke(c, "{}", 2, 20000, on_result, &h, err), LM_OK);
    int ticked = 0;
    struct event *tick = evtimer_new(base, on_tick_flag, &ticked);
    struct timeval tv = {0, 200000};
    evtimer_add(tick, &tv);
    run_until(base, &ticked);
    assert_false(h.done); /* nothing crossed the cut link */
    uint64_t handed = l.handed[0];
    l.cut = 0;
    lm_conn_link_changed(c);
    assert_int_equal(l.handed[0], handed); /* asked again with its first hand-over */
    run_until(base, &h.done);
    assert_int_equal(h.status, 200);

    /* The RESULT held past the request's timeout: it fails in time. */
    l.cut = 0;
    outcome t = {0};
    l.delay_ns = 0;
    int before = l.asked[1];
    assert_int_equal(lm_conn_invoke(c, "{}", 2, 300, on_result, &t, err), LM_OK);
    l.cut = 1; /* from now on: the RESULT will be held */
    run_until(base, &t.done);
    assert_int_equal(l.asked[1], before + 1);
    assert_non_null(strstr(t.err, "still on the node's link"));
    event_free(tick);
    lm_conn_free(c);
    lm_instance_stop(&inst, 1000);

    /* Lost for good: the conn dies with a message. */
    start("native", "noop", &inst);
    outcome o2 = {0};
    c = lm_conn_new(base, &inst, NULL, 20000, on_ready, &o2, err);
    assert_non_null(c);
    fake_link gone = {.lost = 1};
    lm_conn_set_link(c, fake_frame, &gone);
    run_until(base, &o2.ready);
    outcome x = {0};
    assert_int_equal(lm_conn_invoke(c, "{}", 2, 20000, on_result, &x, err), LM_OK);
    run_until(base, &x.done);
    assert_non_null(strstr(x.err, "lost the INVOKE frame"));
    lm_conn_free(c);
    lm_instance_stop(&inst, 1000);
    event_base_free(base);
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

/* ---- Storage from Redis, asynchronously on the loop ---- */

/* One started instance with its conn, READY. */
typedef struct {
    lm_instance inst;
    lm_conn *c;
    outcome ready;
} warm;

static void warm_up(struct event_base *base, const char *fn, lm_store *store, warm *w) {
    char err[LM_ERRLEN];
    memset(w, 0, sizeof(*w));
    start("native", fn, &w->inst);
    w->c = lm_conn_new(base, &w->inst, store, 20000, on_ready, &w->ready, err);
    if (!w->c) fail_msg("conn: %s", err);
    run_until(base, &w->ready.ready);
    assert_int_equal(w->ready.ready, 1);
}

static void cool_down(warm *w) {
    lm_conn_free(w->c);
    lm_instance_stop(&w->inst, 1000);
}

/* Invokes body and runs the loop until the result; *o gets it. */
static void call(struct event_base *base, lm_conn *c, const char *body, outcome *o) {
    char err[LM_ERRLEN];
    memset(o, 0, sizeof(*o));
    if (lm_conn_invoke(c, body, strlen(body), 20000, on_result, o, err) != LM_OK)
        fail_msg("invoke: %s", err);
    run_until(base, &o->done);
}

static lm_store *redis_store(lm_redis_server *srv) {
    char err[LM_ERRLEN];
    if (lm_redis_server_start(srv, err) != LM_OK) fail_msg("%s", err);
    lm_store *s = lm_store_redis("127.0.0.1", srv->port, err);
    if (!s) fail_msg("%s", err);
    return s;
}

/* Keeps Redis busy for us microseconds from a connection of its own (a Lua
 * loop: DEBUG SLEEP is disabled in Redis 7): every other client waits. */
static redisContext *stall_redis(int port, int us) {
    static const char *script =
        "local t0 = redis.call('TIME'); local s0 = t0[1] * 1000000 + t0[2]; "
        "while true do local t = redis.call('TIME'); "
        "if t[1] * 1000000 + t[2] - s0 >= tonumber(ARGV[1]) then return 1 end end";
    redisContext *rc = redisConnect("127.0.0.1", port);
    assert_true(rc && !rc->err);
    assert_int_equal(redisAppendCommand(rc, "EVAL %s 0 %d", script, us), REDIS_OK);
    int done = 0;
    while (!done)
        assert_int_equal(redisBufferWrite(rc, &done), REDIS_OK);
    /* Let Redis pick it up before anything else arrives. */
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    return rc;
}

static void stall_end(redisContext *rc) {
    void *rep = NULL;
    assert_int_equal(redisGetReply(rc, &rep), REDIS_OK);
    freeReplyObject(rep);
    redisFree(rc);
}

static void test_redis_async_round_trip(void **state) {
    (void)state;
    lm_redis_server srv;
    lm_store *store = redis_store(&srv);
    char err[LM_ERRLEN];
    size_t n = 1 << 20;
    unsigned char *plain = malloc(n);
    srand(7);
    for (size_t i = 0; i < n; i++)
        plain[i] = (unsigned char)rand();
    assert_int_equal(store->put(store, "rt/plain", plain, n, err), LM_OK);
    struct event_base *base = event_base_new();
    warm enc, dec, noop;
    warm_up(base, "encrypt-message", store, &enc);
    warm_up(base, "decrypt-message", store, &dec);
    warm_up(base, "noop", store, &noop);

    /* GET 1 MiB and PUT its encryption, then GET that and PUT the
     * decryption: GCM fails on any changed byte, and the plaintext comes
     * back byte for byte. */
    outcome o;
    call(base, enc.c,
         "{\"key\":\"0123456789abcdef0123456789ABCDEF\",\"input_key\":\"rt/plain\","
         "\"output_key\":\"rt/enc\",\"nonce\":\"cafebabefacedbaddecaf888\"}",
         &o);
    assert_int_equal(o.status, 200);
    size_t enc_len = 4 * ((n + 28 + 2) / 3);
    assert_int_equal(o.storage_calls, 2);
    assert_int_equal(o.read_bytes, n);
    assert_int_equal(o.write_bytes, enc_len);
    assert_true(o.storage_ns > 0);
    call(base, dec.c,
         "{\"key\":\"0123456789abcdef0123456789ABCDEF\",\"input_key\":\"rt/enc\","
         "\"output_key\":\"rt/out\"}",
         &o);
    assert_int_equal(o.status, 200);
    assert_int_equal(o.read_bytes, enc_len);
    assert_int_equal(o.write_bytes, n);
    char *back = NULL;
    size_t blen = 0;
    assert_int_equal(store->get(store, "rt/out", &back, &blen, err), 0);
    assert_int_equal(blen, n);
    assert_memory_equal(back, plain, n);
    free(back);

    /* The guest sees 1 MiB; an absent key is NOT_FOUND (the function's 404). */
    call(base, noop.c, "{\"input_key\":\"rt/plain\"}", &o);
    assert_int_equal(o.status, 200);
    assert_non_null(strstr(o.body, "\"bytes\":1048576"));
    call(base, noop.c, "{\"input_key\":\"rt/absent\"}", &o);
    assert_int_equal(o.status, 404);
    assert_non_null(strstr(o.body, "not_found"));
    assert_int_equal(o.read_bytes, 0);

    cool_down(&enc);
    cool_down(&dec);
    cool_down(&noop);
    event_base_free(base);
    free(plain);
    lm_store_free(store);
    lm_redis_server_stop(&srv);
}

typedef struct {
    struct event *ev;
    lm_conn *a, *b;
    uint64_t last_ns, max_gap_ns;
    int ticks_pending, ticks_both;
} ticker;

static void on_tick(evutil_socket_t fd, short what, void *arg) {
    ticker *t = arg;
    (void)fd;
    (void)what;
    uint64_t now = lm_now_ns();
    if (now - t->last_ns > t->max_gap_ns) t->max_gap_ns = now - t->last_ns;
    t->last_ns = now;
    int pa = lm_conn_storage_pending(t->a), pb = lm_conn_storage_pending(t->b);
    t->ticks_pending += pa;
    t->ticks_both += pa && pb;
}

static void test_redis_stalled_loop_goes_on(void **state) {
    (void)state;
    lm_redis_server srv;
    lm_store *store = redis_store(&srv);
    char err[LM_ERRLEN], *big = calloc(1, 1 << 20);
    assert_int_equal(store->put(store, "big", big, 1 << 20, err), LM_OK);
    assert_int_equal(store->put(store, "small", "12345", 5, err), LM_OK);
    free(big);
    struct event_base *base = event_base_new();
    warm a, b;
    warm_up(base, "noop", store, &a);
    warm_up(base, "noop", store, &b);
    /* A 10 ms timer on the loop while both instances' GETs wait on a Redis
     * stalled for 500 ms: the synchronous path would hold the loop for all
     * of it (no tick with a call pending, a 500 ms gap). */
    ticker t = {.a = a.c, .b = b.c, .last_ns = lm_now_ns()};
    t.ev = event_new(base, -1, EV_PERSIST, on_tick, &t);
    struct timeval tv = {0, 10000};
    evtimer_add(t.ev, &tv);
    redisContext *stall = stall_redis(srv.port, 500000);
    outcome oa = {0}, ob = {0};
    const char *ba = "{\"input_key\":\"big\"}", *bb = "{\"input_key\":\"small\"}";
    t.last_ns = lm_now_ns();
    assert_int_equal(lm_conn_invoke(a.c, ba, strlen(ba), 20000, on_result, &oa, err), LM_OK);
    assert_int_equal(lm_conn_invoke(b.c, bb, strlen(bb), 20000, on_result, &ob, err), LM_OK);
    run_until(base, &oa.done);
    run_until(base, &ob.done);
    event_free(t.ev);
    stall_end(stall);
    /* Each got its own object over the one pipelined connection. */
    assert_int_equal(oa.status, 200);
    assert_non_null(strstr(oa.body, "\"bytes\":1048576"));
    assert_int_equal(ob.status, 200);
    assert_non_null(strstr(ob.body, "\"bytes\":5"));
    assert_true(t.ticks_pending >= 3);
    assert_true(t.ticks_both >= 1);
    if (t.max_gap_ns >= 250000000ull)
        fail_msg("the loop stalled %llu ms", (unsigned long long)(t.max_gap_ns / 1000000));
    /* The storage time is the wait for Redis. */
    assert_true(oa.storage_ns > 100000000ull);
    cool_down(&a);
    cool_down(&b);
    event_base_free(base);
    lm_store_free(store);
    lm_redis_server_stop(&srv);
}

/* Runs the loop until c has a storage call waiting on the store. */
static void run_until_pending(struct event_base *base, lm_conn *c) {
    uint64_t deadline = lm_now_ns() + 30000000000ull;
    while (!lm_conn_storage_pending(c) && lm_now_ns() < deadline)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    assert_true(lm_conn_storage_pending(c));
}

typedef struct {
    int done, status;
    size_t len;
    char err[LM_ERRLEN];
    lm_store *detach; /* detach this store from inside the callback */
} direct;

static void on_direct(void *arg, int status, const char *data, size_t len, const char *err) {
    direct *d = arg;
    (void)data;
    d->done = 1;
    d->status = status;
    d->len = len;
    if (err) snprintf(d->err, sizeof(d->err), "%s", err);
    if (d->detach) lm_store_detach(d->detach);
}

static void test_redis_instance_killed_mid_get(void **state) {
    (void)state;
    lm_redis_server srv;
    lm_store *store = redis_store(&srv);
    char err[LM_ERRLEN], *big = calloc(1, 1 << 20);
    assert_int_equal(store->put(store, "big", big, 1 << 20, err), LM_OK);
    free(big);
    struct event_base *base = event_base_new();
    /* The test holds an attachment too, so the connection stays and the
     * cancelled calls' replies really arrive after their conns are gone. */
    assert_int_equal(lm_store_attach(store, base, err), LM_OK);
    const char *body = "{\"input_key\":\"big\"}";

    /* Killed: the conn dies, frees itself in its result callback. */
    warm w;
    warm_up(base, "noop", store, &w);
    redisContext *stall = stall_redis(srv.port, 300000);
    outcome o = {.free_in_callback = 1};
    assert_int_equal(lm_conn_invoke(w.c, body, strlen(body), 20000, on_result, &o, err), LM_OK);
    run_until_pending(base, w.c);
    kill(w.inst.child.pid, SIGKILL);
    run_until(base, &o.done);
    assert_non_null(strstr(o.err, "ended ("));
    lm_instance_stop(&w.inst, 0);
    /* Freed by the pool instead, with the GET outstanding. */
    warm_up(base, "noop", store, &w);
    outcome o2 = {0};
    stall_end(stall);
    stall = stall_redis(srv.port, 300000);
    assert_int_equal(lm_conn_invoke(w.c, body, strlen(body), 20000, on_result, &o2, err), LM_OK);
    run_until_pending(base, w.c);
    cool_down(&w);
    /* A call behind them on the same connection: when it is answered, the
     * dropped replies came first (ASan watches them touch nothing). */
    direct d = {0};
    assert_int_equal(lm_store_get_async(store, "big", on_direct, &d, NULL, err), LM_OK);
    run_until(base, &d.done);
    stall_end(stall);
    assert_int_equal(d.status, 0);
    assert_int_equal(d.len, 1 << 20);
    assert_int_equal(o2.done, 0);

    /* The last attachment goes with a GET outstanding: the connection
     * closes under it. */
    lm_store_detach(store);
    warm_up(base, "noop", store, &w);
    stall = stall_redis(srv.port, 300000);
    assert_int_equal(lm_conn_invoke(w.c, body, strlen(body), 20000, on_result, &o2, err), LM_OK);
    run_until_pending(base, w.c);
    cool_down(&w);
    stall_end(stall);
    event_base_free(base);
    lm_store_free(store);
    lm_redis_server_stop(&srv);
}

static void test_redis_gone_and_back(void **state) {
    (void)state;
    lm_redis_server srv;
    lm_store *store = redis_store(&srv);
    char err[LM_ERRLEN], addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", srv.port);
    assert_int_equal(store->put(store, "k", "value", 5, err), LM_OK);
    struct event_base *base = event_base_new();
    warm w;
    warm_up(base, "noop", store, &w);
    outcome o;
    call(base, w.c, "{\"input_key\":\"k\"}", &o);
    assert_int_equal(o.status, 200);

    /* Redis kills every client connection: the next calls reconnect (the
     * first may still meet the dead connection, the second must not). */
    redisContext *admin = redisConnect("127.0.0.1", srv.port);
    assert_true(admin && !admin->err);
    freeReplyObject(redisCommand(admin, "CLIENT KILL TYPE normal SKIPME yes"));
    redisFree(admin);
    call(base, w.c, "{\"input_key\":\"k\"}", &o);
    if (o.status != 200) call(base, w.c, "{\"input_key\":\"k\"}", &o);
    assert_int_equal(o.status, 200);
    char *data = NULL;
    size_t len;
    assert_int_equal(store->get(store, "k", &data, &len, err), 0); /* sync side too */
    free(data);

    /* Redis stops: storage errors naming it, every time, and no crash. */
    lm_redis_server_stop(&srv);
    for (int i = 0; i < 3; i++) {
        call(base, w.c, "{\"input_key\":\"k\"}", &o);
        assert_int_equal(o.status, 500);
        assert_non_null(strstr(o.body, "storage_error"));
        assert_non_null(strstr(o.body, addr));
    }
    assert_int_equal(store->get(store, "k", &data, &len, err), -1);
    assert_non_null(strstr(err, addr));
    cool_down(&w);
    event_base_free(base);
    lm_store_free(store);
}

/* A TCP port that accepts connections (into the backlog) and never
 * answers: a Redis that hangs. */
static int silent_listener(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_redis_async_client(void **state) {
    (void)state;
    char err[LM_ERRLEN], addr[64];
    struct event_base *base = event_base_new(), *other = event_base_new();

    /* A Redis that never answers: calls fail after the timeout, naming it,
     * and the next call reconnects and fails the same way. */
    int port, fd = silent_listener(&port);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    lm_redis_async *a = lm_redis_async_new("127.0.0.1", port, 200);
    direct d = {0};
    assert_int_equal(lm_redis_async_get(a, "k", on_direct, &d, NULL, err), LM_ERR);
    assert_non_null(strstr(err, "not attached"));
    assert_int_equal(lm_redis_async_attach(a, base, err), LM_OK);
    assert_int_equal(lm_redis_async_attach(a, other, err), LM_ERR);
    for (int i = 0; i < 2; i++) {
        d = (direct){0};
        assert_int_equal(lm_redis_async_put(a, "k", "v", 1, on_direct, &d, NULL, err), LM_OK);
        run_until(base, &d.done);
        assert_int_equal(d.status, -1);
        assert_non_null(strstr(d.err, "no answer within 200 ms"));
        assert_non_null(strstr(d.err, addr));
    }
    lm_redis_async_detach(a);
    lm_redis_async_free(a);
    close(fd);

    /* The Redis store on a loop. */
    lm_redis_server srv;
    lm_store *s = redis_store(&srv);
    assert_true(lm_store_has_async(s));
    assert_int_equal(lm_store_attach(s, base, err), LM_OK);
    assert_int_equal(lm_store_attach(s, other, err), LM_ERR);
    assert_non_null(strstr(err, "another event loop"));
    d = (direct){0};
    assert_int_equal(
        lm_store_put_async(s, "a key with spaces", "\0bin\r\n", 6, on_direct, &d, NULL, err),
        LM_OK);
    assert_int_equal(d.done, 0); /* never from inside the call */
    run_until(base, &d.done);
    assert_int_equal(d.status, 0);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(s->get(s, "a key with spaces", &data, &len, err), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(data, "\0bin\r\n", 6);
    free(data);

    /* Cancelled: never called back. Detached from inside a callback with
     * another call outstanding: that one fails, saying why. */
    direct c1 = {0}, c2 = {0}, c3 = {.detach = s};
    lm_store_call *h = NULL;
    assert_int_equal(lm_store_get_async(s, "a key with spaces", on_direct, &c1, &h, err), LM_OK);
    assert_non_null(h);
    lm_store_cancel(h);
    lm_store_cancel(NULL);
    assert_int_equal(lm_store_get_async(s, "nothing here", on_direct, &c3, NULL, err), LM_OK);
    assert_int_equal(lm_store_get_async(s, "a key with spaces", on_direct, &c2, NULL, err), LM_OK);
    run_until(base, &c2.done);
    assert_int_equal(c1.done, 0);
    assert_int_equal(c3.status, 1);
    assert_int_equal(c2.status, -1);
    assert_non_null(strstr(c2.err, "detached"));
    assert_int_equal(lm_store_get_async(s, "k", on_direct, &d, NULL, err), LM_ERR);

    /* Freed with a call outstanding: it fails from inside the free. */
    assert_int_equal(lm_store_attach(s, base, err), LM_OK);
    d = (direct){0};
    assert_int_equal(lm_store_get_async(s, "k", on_direct, &d, NULL, err), LM_OK);
    lm_store_free(s);
    assert_int_equal(d.done, 1);
    assert_int_equal(d.status, -1);
    assert_non_null(strstr(d.err, "closed"));
    lm_redis_server_stop(&srv);

    /* Stores without an asynchronous side: attaching does nothing. */
    lm_store *m = lm_store_memory();
    assert_false(lm_store_has_async(m));
    assert_int_equal(lm_store_attach(m, base, err), LM_OK);
    assert_int_equal(lm_store_get_async(m, "k", on_direct, &d, NULL, err), LM_ERR);
    lm_store_detach(m);
    lm_store_detach(NULL);
    lm_store_free(m);
    lm_redis_async_free(NULL);
    event_base_free(base);
    event_base_free(other);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_and_storage),
        cmocka_unit_test(test_link_frames),
        cmocka_unit_test(test_two_instances_at_once),
        cmocka_unit_test(test_crash_and_hang),
        cmocka_unit_test(test_ready_timeout_and_missing),
        cmocka_unit_test(test_redis_async_round_trip),
        cmocka_unit_test(test_redis_stalled_loop_goes_on),
        cmocka_unit_test(test_redis_instance_killed_mid_get),
        cmocka_unit_test(test_redis_gone_and_back),
        cmocka_unit_test(test_redis_async_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
