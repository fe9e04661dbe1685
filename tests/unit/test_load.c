/* test_load.c -- the load client (src/load/run.c, conn.c) against the
 * in-test server (tests/support/http_server) on 127.0.0.1: keep-alive
 * reuse; the open-loop pool growing, and waiting at its cap; chunked,
 * Content-Length and Connection: close answers; a server that stalls for
 * one second (corrected latencies show the stall for every request
 * scheduled during it, uncorrected ones do not); send times within 1 ms of
 * intended at 1,000 requests/s (p99, from the records); closed loop
 * keeps exactly N in flight; refused connections, answers cut short or
 * not HTTP, timeouts and requests left unsent at the deadline are counted
 * and never hang; the request id
 * is read; a stop flag ends the run; bad arguments with their messages. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "http_server.h"
#include "load/load.h"

#define MS 1000000ull

static char url[64];

static lm_test_http *start(const lm_test_http_opts *o) {
    int port = 0;
    lm_test_http *s = lm_test_http_start(o, &port);
    assert_non_null(s);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/function/noop", port);
    return s;
}

/* n requests, the i-th meant for i * gap_ns. */
static lm_load_req *make_reqs(size_t n, uint64_t gap_ns) {
    lm_load_req *q = calloc(n, sizeof(*q));
    assert_non_null(q);
    for (size_t i = 0; i < n; i++) {
        q[i].offset_ns = i * gap_ns;
        q[i].body = "{}";
        q[i].body_len = 2;
        q[i].headers = "Content-Type: application/json\r\n";
    }
    return q;
}

static lm_load_result run(const lm_load_req *q, size_t n, lm_load_opts *o) {
    lm_load_result r;
    char err[LM_ERRLEN] = "";
    o->url = url;
    int rc = lm_load_run(q, n, o, &r, err);
    if (rc != LM_OK) fprintf(stderr, "lm_load_run: %s\n", err);
    assert_int_equal(rc, LM_OK);
    assert_int_equal(r.nrecords, r.stats.requests);
    return r;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void all_ok(const lm_load_result *r, size_t n) {
    assert_int_equal(r->nrecords, n);
    assert_int_equal(r->stats.completed, n);
    assert_int_equal(r->stats.status_2xx, n);
    for (int k = 1; k < LM_LOAD_E_COUNT; k++)
        assert_int_equal(r->stats.errors[k], 0);
    for (size_t i = 0; i < n; i++) {
        const lm_load_record *q = &r->records[i];
        assert_int_equal(q->status, 200);
        assert_true(q->send_ns >= q->intended_ns);
        assert_true(q->receive_ns > q->send_ns);
        assert_true(q->bytes > 0);
    }
    assert_int_equal(lm_hist_count(r->corrected), n);
    assert_int_equal(lm_hist_count(r->uncorrected), n);
}

static void test_keepalive_reuse(void **state) {
    (void)state;
    lm_test_http *s = start(&(lm_test_http_opts){0});
    lm_load_req *q = make_reqs(1, 0);
    lm_load_opts o = {.mode = LM_LOAD_CLOSED, .concurrency = 1, .requests = 300};
    lm_load_result r = run(q, 1, &o);
    all_ok(&r, 300);
    lm_test_http_stats st;
    lm_test_http_stats_get(s, &st);
    assert_int_equal(st.connections, 1);
    assert_int_equal(r.stats.connections, 1);
    assert_int_equal(st.requests, 300);
    for (size_t i = 0; i < r.nrecords; i++) {
        assert_int_equal(r.records[i].conn, 1);
        assert_int_equal(r.records[i].req, 0);
    }
    assert_true(r.stats.achieved_rps > 0);
    assert_true(r.stats.cpu_user_ns + r.stats.cpu_system_ns > 0);
    assert_true(r.stats.max_rss_bytes > 0);
    lm_load_result_free(&r);
    lm_load_result_free(NULL); /* a harmless no-op */
    free(q);
    lm_test_http_stop(s);
}

/* Open loop: answers take 50 ms, requests come every 2.5 ms, so about 20
 * are in flight at once: the pool grows to that; with a cap of 4 it stays
 * at 4 and the others wait (late), none lost. */
static void test_pool_growth(void **state) {
    (void)state;
    lm_test_http *s = start(&(lm_test_http_opts){.delay_ns = 50 * MS});
    size_t n = 100;
    lm_load_req *q = make_reqs(n, 2500000);
    lm_load_opts o = {.mode = LM_LOAD_OPEN};
    lm_load_result r = run(q, n, &o);
    all_ok(&r, n);
    lm_test_http_stats st;
    lm_test_http_stats_get(s, &st);
    printf("pool grew to %llu connections (%llu at most in flight)\n",
           (unsigned long long)r.stats.connections, (unsigned long long)r.stats.max_in_flight);
    assert_true(r.stats.connections >= 10 && r.stats.connections <= 40);
    assert_int_equal(st.connections, r.stats.connections);
    assert_int_equal(r.stats.waited, 0);
    /* Connections are reused: fewer than requests. */
    assert_true(r.stats.connections < n);
    lm_load_result_free(&r);
    lm_test_http_stop(s);

    s = start(&(lm_test_http_opts){.delay_ns = 50 * MS});
    o = (lm_load_opts){.mode = LM_LOAD_OPEN, .max_connections = 4};
    r = run(q, n, &o);
    all_ok(&r, n);
    assert_int_equal(r.stats.connections, 4);
    assert_int_equal(r.stats.max_in_flight, 4);
    assert_true(r.stats.waited > n / 2);
    assert_true(r.stats.late > n / 2);
    assert_int_equal(r.stats.dropped, 0);
    size_t waited = 0;
    for (size_t i = 0; i < n; i++)
        waited += r.records[i].waited;
    assert_int_equal(waited, r.stats.waited);
    lm_load_result_free(&r);
    free(q);
    lm_test_http_stop(s);
}

static void test_answer_shapes(void **state) {
    (void)state;
    const char *body = "a body of some thirty-one bytes";
    /* Chunked, in two chunks with an extension and a trailer. */
    lm_test_http *s = start(&(lm_test_http_opts){.chunked = 1, .body = body});
    lm_load_req *q = make_reqs(1, 0);
    lm_load_opts o = {.mode = LM_LOAD_CLOSED, .concurrency = 2, .requests = 50};
    lm_load_result r = run(q, 1, &o);
    all_ok(&r, 50);
    assert_true(r.stats.connections <= 2);
    for (size_t i = 1; i < r.nrecords; i++)
        assert_int_equal(r.records[i].bytes, r.records[0].bytes);
    lm_load_result_free(&r);
    lm_test_http_stop(s);
    /* Content-Length: the bytes are exactly the answer's. */
    s = start(&(lm_test_http_opts){.body = body});
    r = run(q, 1, &o);
    all_ok(&r, 50);
    size_t want =
        strlen("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 31\r\n\r\n") +
        strlen(body);
    assert_int_equal(r.records[7].bytes, want);
    lm_load_result_free(&r);
    lm_test_http_stop(s);
    /* Connection: close: one connection per request, all answered. */
    s = start(&(lm_test_http_opts){.close_after = 1});
    r = run(q, 1, &o);
    all_ok(&r, 50);
    assert_int_equal(r.stats.connections, 50);
    lm_test_http_stats st;
    lm_test_http_stats_get(s, &st);
    assert_int_equal(st.connections, 50);
    lm_load_result_free(&r);
    /* ... in open loop too. */
    lm_load_req *q2 = make_reqs(40, MS);
    o = (lm_load_opts){.mode = LM_LOAD_OPEN};
    r = run(q2, 40, &o);
    all_ok(&r, 40);
    assert_int_equal(r.stats.connections, 40);
    lm_load_result_free(&r);
    free(q2);
    free(q);
    lm_test_http_stop(s);
}

/* wrk2's demonstration: 100 requests/s for 3 s on one connection; the
 * server stalls for 1 s on request 101 (t = 1 s). The 100 requests meant
 * for the stall wait for the connection, are sent after it and answered
 * at once: their corrected latency holds the stall (receive is after the
 * stall's end), their uncorrected one does not. */
static void test_stall(void **state) {
    (void)state;
    lm_test_http *s = start(&(lm_test_http_opts){.stall_at = 101, .stall_ns = 1000 * MS});
    size_t n = 300;
    lm_load_req *q = make_reqs(n, 10 * MS);
    lm_load_opts o = {.mode = LM_LOAD_OPEN, .max_connections = 1};
    lm_load_result r = run(q, n, &o);
    all_ok(&r, n);
    lm_test_http_stats st;
    lm_test_http_stats_get(s, &st);
    assert_true(st.stall_end_ns - st.stall_begin_ns >= 1000 * MS);
    size_t during = 0, uncorrected_big = 0;
    for (size_t i = 0; i < n; i++) {
        const lm_load_record *q1 = &r.records[i];
        if (q1->intended_ns < st.stall_begin_ns || q1->intended_ns >= st.stall_end_ns) continue;
        during++;
        /* Corrected: answered only after the stall, so at least its rest. */
        assert_true(q1->receive_ns >= st.stall_end_ns);
        assert_true(q1->receive_ns - q1->intended_ns >= st.stall_end_ns - q1->intended_ns);
        if (q1->receive_ns - q1->send_ns > 100 * MS) uncorrected_big++;
    }
    printf("%zu requests scheduled during the stall; %zu of them with an uncorrected latency "
           "over 100 ms\n",
           during, uncorrected_big);
    assert_true(during >= 95);
    assert_int_equal(uncorrected_big, 0); /* the one sent into the stall was meant before it */
    /* The histograms tell the same: p90 corrected near the stall, p99
     * uncorrected far below it (one request of 300 sat in it). */
    uint64_t c90 = lm_hist_percentile(r.corrected, 90), u99 = lm_hist_percentile(r.uncorrected, 99);
    printf("corrected p90 %.1f ms, max %.1f ms; uncorrected p99 %.1f ms, max %.1f ms\n", c90 / 1e6,
           lm_hist_max(r.corrected) / 1e6, u99 / 1e6, lm_hist_max(r.uncorrected) / 1e6);
    assert_true(c90 >= 500 * MS);
    assert_true(lm_hist_max(r.corrected) >= 950 * MS);
    assert_true(u99 < 100 * MS);
    assert_true(lm_hist_max(r.uncorrected) >= 950 * MS); /* request 101 itself */
    assert_true(r.stats.waited >= 95);
    lm_load_result_free(&r);
    free(q);
    lm_test_http_stop(s);
}

/* p50 and p99 of v[0..n) (sorts it). */
static void p50_p99_of(uint64_t *v, size_t n, uint64_t *p50, uint64_t *p99) {
    qsort(v, n, sizeof(*v), cmp_u64);
    *p50 = v[n / 2 - 1];
    *p99 = v[n * 99 / 100 - 1];
}

/* What this machine allows right now: a bare loop that sleeps to 50 us
 * before each of 2000 times 1 ms apart and spins to it (the client's own
 * way, without the client), its median lateness. */
static uint64_t machine_p50(void) {
    size_t n = 2000;
    uint64_t *lag = malloc(n * sizeof(*lag)), t0 = lm_now_ns() + MS;
    assert_non_null(lag);
    for (size_t i = 0; i < n; i++) {
        uint64_t t = t0 + i * MS, now = lm_now_ns();
        if (t - 50000 > now) {
            struct timespec ts = {0, (long)(t - 50000 - now)};
            nanosleep(&ts, NULL);
        }
        while ((now = lm_now_ns()) < t) {
        }
        lag[i] = now - t;
    }
    uint64_t p50, p99;
    p50_p99_of(lag, n, &p50, &p99);
    free(lag);
    return p50;
}

/* One run of 1,000 requests/s for 2 s: the median of send - intended.
 * What does not depend on the machine is judged here; the rest is
 * printed. */
static uint64_t send_accuracy_once(void) {
    size_t n = 2000;
    lm_load_req *q = make_reqs(n, MS);
    lm_load_opts o = {.mode = LM_LOAD_OPEN};
    lm_load_result r = run(q, n, &o);
    all_ok(&r, n);
    uint64_t *lag = malloc(n * sizeof(*lag));
    assert_non_null(lag);
    for (size_t i = 0; i < n; i++)
        lag[i] = r.records[i].send_ns - r.records[i].intended_ns;
    uint64_t p50, p99, h99 = lm_hist_percentile(r.send_lag, 99);
    p50_p99_of(lag, n, &p50, &p99);
    printf("send - intended at 1000 rps: p50 %.1f us, p99 %.1f us, max %.1f us; late %llu "
           "(over 1 ms); histogram p99 %.1f us\n",
           p50 / 1e3, p99 / 1e3, lag[n - 1] / 1e3, (unsigned long long)r.stats.late, h99 / 1e3);
    /* The histogram agrees with the records, within its precision. */
    assert_true(h99 >= p99 && (double)(h99 - p99) <= (double)p99 * lm_hist_precision(r.send_lag));
    /* Every request was sent, on a 1 ms schedule on average: the client
     * catches up after a stall instead of dropping or stretching it. */
    assert_true(r.stats.achieved_rps > 950 && r.stats.achieved_rps < 1050);
    free(lag);
    lm_load_result_free(&r);
    free(q);
    return p50;
}

/* 1,000 requests/s for 2 s against a quick server: the median of send -
 * intended is under 200 us. A client that wakes late by design (a
 * millisecond timer, a sleep to the intended time) misses that in every
 * run. The tail (p99 and up) belongs to the machine's scheduler on a
 * shared two-core machine, so it is printed here and measured side by
 * side with a bare loop by bench/load, never judged by a test. When a run
 * misses, a bare sleep-and-spin loop measures the machine's own median at
 * that moment: a miss while the machine keeps 50 us is the client's, and
 * two such fail the test; three runs on a machine that cannot keep even
 * its median skip it, saying so. */
static void test_send_accuracy(void **state) {
    (void)state;
    lm_test_http *s = start(&(lm_test_http_opts){0});
    int misses = 0, busy = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (send_accuracy_once() < 200000) {
            lm_test_http_stop(s);
            return;
        }
        uint64_t m = machine_p50();
        printf("  missed; the machine alone: p50 %.1f us late\n", m / 1e3);
        if (m <= 50000 && ++misses == 2) break;
        busy += m > 50000;
    }
    lm_test_http_stop(s);
    if (misses < 2 && busy) {
        printf("the machine is too busy to keep its own median on schedule: not judged\n");
        skip();
    }
    fail_msg("the client's median send lag missed 200 us on a machine that kept 50 us");
}

/* Closed loop with answers held 20 ms: never more than N in flight, at
 * the server and in the records, and N most of the time. */
static void test_closed_in_flight(void **state) {
    (void)state;
    lm_test_http *s = start(&(lm_test_http_opts){.delay_ns = 20 * MS});
    lm_load_req *q = make_reqs(3, 0);
    lm_load_opts o = {.mode = LM_LOAD_CLOSED, .concurrency = 4, .requests = 40};
    uint64_t t0 = lm_now_ns();
    lm_load_result r = run(q, 3, &o);
    uint64_t took = lm_now_ns() - t0;
    all_ok(&r, 40);
    lm_test_http_stats st;
    lm_test_http_stats_get(s, &st);
    assert_int_equal(st.max_outstanding, 4);
    assert_int_equal(r.stats.max_in_flight, 4);
    assert_int_equal(r.stats.connections, 4);
    assert_true(took >= 10 * 20 * MS); /* 10 rounds of 4 */
    /* A sweep over the records: at each send, how many are out. */
    for (size_t i = 0; i < r.nrecords; i++) {
        uint64_t t = r.records[i].send_ns;
        int out = 0;
        for (size_t j = 0; j < r.nrecords; j++)
            out += r.records[j].send_ns <= t && r.records[j].receive_ns > t;
        assert_true(out <= 4);
        if (i < 4) assert_int_equal(r.records[i].req, i % 3);
    }
    lm_load_result_free(&r);
    free(q);
    lm_test_http_stop(s);
}

/* A port nobody listens on. */
static int dead_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_refused(void **state) {
    (void)state;
    snprintf(url, sizeof(url), "127.0.0.1:%d", dead_port());
    lm_load_req *q = make_reqs(20, MS);
    lm_load_result r;
    char err[LM_ERRLEN];
    lm_load_opts o = {.url = url, .mode = LM_LOAD_OPEN};
    uint64_t t0 = lm_now_ns();
    assert_int_equal(lm_load_run(q, 20, &o, &r, err), LM_OK);
    assert_int_equal(r.stats.errors[LM_LOAD_E_CONNECT], 20);
    assert_int_equal(r.stats.completed, 0);
    assert_int_equal(r.stats.sent, 0);
    assert_string_equal(r.first_error[LM_LOAD_E_CONNECT], "connect: Connection refused");
    char text[128];
    assert_string_equal(lm_load_record_error(&r.records[3], text, sizeof(text)),
                        "connect: Connection refused");
    lm_load_result_free(&r);
    o = (lm_load_opts){.url = url, .mode = LM_LOAD_CLOSED, .concurrency = 3, .requests = 30};
    assert_int_equal(lm_load_run(q, 20, &o, &r, err), LM_OK);
    assert_int_equal(r.nrecords, 30);
    assert_int_equal(r.stats.errors[LM_LOAD_E_CONNECT], 30);
    assert_true(lm_now_ns() - t0 < 2000 * MS);
    lm_load_result_free(&r);
    free(q);
}

/* Answers cut short by the close, and answers that are not HTTP: counted
 * by kind with the parser's message, the connection replaced. */
static void test_bad_answers(void **state) {
    (void)state;
    lm_test_http *s = start(&(lm_test_http_opts){
        .raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", .close_after = 1});
    lm_load_req *q = make_reqs(1, 0);
    lm_load_opts o = {.mode = LM_LOAD_CLOSED, .concurrency = 2, .requests = 10};
    lm_load_result r = run(q, 1, &o);
    assert_int_equal(r.stats.errors[LM_LOAD_E_CLOSED], 10);
    assert_int_equal(r.stats.completed, 0);
    assert_string_equal(r.first_error[LM_LOAD_E_CLOSED],
                        "the server closed the connection in the middle of its answer");
    assert_int_equal(r.stats.connections, 10);
    lm_load_result_free(&r);
    lm_test_http_stop(s);
    s = start(&(lm_test_http_opts){.raw = "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"});
    r = run(q, 1, &o);
    assert_int_equal(r.stats.errors[LM_LOAD_E_PROTOCOL], 10);
    assert_string_equal(r.first_error[LM_LOAD_E_PROTOCOL], "Content-Length 'x' is not a length");
    assert_int_equal(r.records[4].error, LM_LOAD_E_PROTOCOL);
    lm_load_result_free(&r);
    lm_test_http_stop(s);
    /* A non-2xx answer is an answer, not an error. */
    s = start(&(lm_test_http_opts){.raw = "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"});
    r = run(q, 1, &o);
    assert_int_equal(r.stats.completed, 10);
    assert_int_equal(r.stats.status_other, 10);
    assert_int_equal(r.records[0].status, 503);
    assert_int_equal(r.stats.connections, 2);
    lm_load_result_free(&r);
    free(q);
    lm_test_http_stop(s);
}

static void test_timeout(void **state) {
    (void)state;
    lm_test_http *s = start(&(lm_test_http_opts){.no_answer = 1});
    lm_load_req *q = make_reqs(1, 0);
    lm_load_opts o = {
        .mode = LM_LOAD_CLOSED, .concurrency = 2, .requests = 6, .timeout_ns = 100 * MS};
    uint64_t t0 = lm_now_ns();
    lm_load_result r = run(q, 1, &o);
    uint64_t took = lm_now_ns() - t0;
    assert_int_equal(r.stats.errors[LM_LOAD_E_TIMEOUT], 6);
    assert_int_equal(r.stats.dropped, 6);
    assert_int_equal(r.stats.sent, 6);
    assert_int_equal(r.stats.completed, 0);
    assert_int_equal(lm_hist_count(r.corrected), 0);
    assert_true(took >= 300 * MS && took < 1500 * MS);
    assert_string_equal(r.first_error[LM_LOAD_E_TIMEOUT], "timeout");
    lm_load_result_free(&r);
    free(q);
    lm_test_http_stop(s);
}

static int progress_calls;
static void on_progress(void *arg, const lm_load_stats *st) {
    (void)arg;
    assert_true(st->end_ns > st->start_ns);
    progress_calls++;
}

/* Open loop over 2 s cut at 0.5 s: the rest is dropped as unsent. */
static void test_deadline(void **state) {
    (void)state;
    lm_test_http *s = start(&(lm_test_http_opts){0});
    size_t n = 100;
    lm_load_req *q = make_reqs(n, 20 * MS);
    lm_load_opts o = {.mode = LM_LOAD_OPEN, .duration_ns = 500 * MS};
    lm_load_result r = run(q, n, &o);
    assert_int_equal(r.stats.completed + r.stats.errors[LM_LOAD_E_UNSENT], n);
    assert_true(r.stats.completed >= 24 && r.stats.completed <= 26);
    assert_int_equal(r.stats.dropped, r.stats.errors[LM_LOAD_E_UNSENT]);
    assert_int_equal(r.records[n - 1].error, LM_LOAD_E_UNSENT);
    assert_int_equal(r.records[n - 1].send_ns, 0);
    lm_load_result_free(&r);
    /* A closed loop for a duration, unbounded, with progress reports. */
    progress_calls = 0;
    o = (lm_load_opts){.mode = LM_LOAD_CLOSED,
                       .concurrency = 2,
                       .requests = LM_LOAD_UNBOUNDED,
                       .duration_ns = 200 * MS,
                       .progress = on_progress,
                       .progress_ms = 40};
    r = run(q, 1, &o);
    assert_true(progress_calls >= 3 && progress_calls <= 6);
    assert_true(r.stats.completed > 100);
    assert_int_equal(r.stats.completed, r.nrecords);
    assert_true(r.stats.last_receive_ns - r.stats.start_ns < 300 * MS);
    lm_load_result_free(&r);
    free(q);
    lm_test_http_stop(s);
}

static void test_request_id(void **state) {
    (void)state;
    lm_test_http *s = start(&(lm_test_http_opts){.request_ids = 1});
    lm_load_req *q = make_reqs(1, 0);
    lm_load_opts o = {.mode = LM_LOAD_CLOSED, .concurrency = 1, .requests = 25};
    lm_load_result r = run(q, 1, &o);
    all_ok(&r, 25);
    for (size_t i = 0; i < r.nrecords; i++)
        assert_int_equal(r.records[i].request_id, 1001 + i);
    lm_load_result_free(&r);
    lm_test_http_stop(s);
    s = start(&(lm_test_http_opts){0});
    r = run(q, 1, &o);
    assert_int_equal(r.records[0].request_id, 0);
    lm_load_result_free(&r);
    free(q);
    lm_test_http_stop(s);
}

static volatile sig_atomic_t stop_flag;
static void *stopper(void *arg) {
    (void)arg;
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    stop_flag = 1;
    return NULL;
}

static void test_stop(void **state) {
    (void)state;
    lm_test_http *s = start(&(lm_test_http_opts){.delay_ns = 5 * MS});
    lm_load_req *q = make_reqs(1, 0);
    stop_flag = 0;
    lm_load_opts o = {.mode = LM_LOAD_CLOSED,
                      .concurrency = 3,
                      .requests = LM_LOAD_UNBOUNDED,
                      .stop = &stop_flag};
    pthread_t t;
    pthread_create(&t, NULL, stopper, NULL);
    uint64_t t0 = lm_now_ns();
    lm_load_result r = run(q, 1, &o);
    pthread_join(t, NULL);
    assert_true(lm_now_ns() - t0 < 1000 * MS);
    assert_true(r.stats.completed > 10);
    assert_true(r.stats.errors[LM_LOAD_E_STOPPED] <= 3);
    assert_int_equal(r.stats.completed + r.stats.errors[LM_LOAD_E_STOPPED], r.nrecords);
    lm_load_result_free(&r);
    free(q);
    lm_test_http_stop(s);
}

static void bad(const char *u, const lm_load_req *q, size_t n, lm_load_mode mode, const char *msg) {
    lm_load_opts o = {.url = u, .mode = mode};
    lm_load_result r;
    char err[LM_ERRLEN] = "";
    assert_int_equal(lm_load_run(q, n, &o, &r, err), LM_ERR);
    lm_load_result_free(&r);
    if (strcmp(err, msg) != 0) {
        fprintf(stderr, "got  '%s'\nwant '%s'\n", err, msg);
        fail();
    }
}

static void test_bad_arguments(void **state) {
    (void)state;
    lm_load_req *q = make_reqs(3, MS);
    bad("https://127.0.0.1:1", q, 3, LM_LOAD_OPEN,
        "https://127.0.0.1:1: https is not supported: the load client speaks plain HTTP/1.1");
    bad("http://example.com:80/", q, 3, LM_LOAD_OPEN,
        "http://example.com:80/: 'example.com' is not a numeric address: give an IPv4 or [IPv6] "
        "address or localhost (names are not looked up)");
    bad("127.0.0.1", q, 3, LM_LOAD_OPEN, "127.0.0.1: expected http://HOST:PORT or HOST:PORT");
    bad("http://127.0.0.1:99999", q, 3, LM_LOAD_OPEN,
        "http://127.0.0.1:99999: the port must be a number from 1 to 65535");
    bad("ftp://127.0.0.1:21", q, 3, LM_LOAD_OPEN,
        "ftp://127.0.0.1:21: only http:// URLs are supported");
    bad(NULL, q, 3, LM_LOAD_OPEN, "no target URL (e.g. http://127.0.0.1:8080)");
    bad("127.0.0.1:1", q, 0, LM_LOAD_OPEN, "load: no requests to send");
    q[2].offset_ns = 0;
    bad("127.0.0.1:1", q, 3, LM_LOAD_OPEN,
        "load: request 2 is meant for 0 ns, before request 1's 1000000 ns (open-loop requests "
        "must be sorted by offset)");
    lm_load_opts o = {.url = "127.0.0.1:1", .mode = LM_LOAD_CLOSED, .requests = LM_LOAD_UNBOUNDED};
    lm_load_result r;
    char err[LM_ERRLEN];
    assert_int_equal(lm_load_run(q, 3, &o, &r, err), LM_ERR);
    assert_string_equal(err, "load: a closed loop without a request count needs a duration");
    lm_load_result_free(&r);
    lm_load_target t;
    assert_int_equal(lm_load_parse_url("http://[::1]:8080/x/y", &t, err), LM_OK);
    assert_string_equal(t.host, "::1");
    assert_string_equal(t.hostport, "[::1]:8080");
    assert_string_equal(t.path, "/x/y");
    assert_int_equal(lm_load_parse_url("http://localhost", &t, err), LM_OK);
    assert_int_equal(t.port, 80);
    assert_string_equal(t.path, "/");
    assert_string_equal(lm_load_error_name(LM_LOAD_E_TIMEOUT), "timeout");
    assert_string_equal(lm_load_error_name(99), "unknown");
    free(q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalive_reuse), cmocka_unit_test(test_pool_growth),
        cmocka_unit_test(test_answer_shapes),   cmocka_unit_test(test_stall),
        cmocka_unit_test(test_send_accuracy),   cmocka_unit_test(test_closed_in_flight),
        cmocka_unit_test(test_refused),         cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_timeout),         cmocka_unit_test(test_deadline),
        cmocka_unit_test(test_request_id),      cmocka_unit_test(test_stop),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
