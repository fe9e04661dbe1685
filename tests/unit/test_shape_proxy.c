/* test_shape_proxy.c -- the shaping proxy on loopback (src/shape/proxy.c)
 * against a local echo/sink server, each figure judged against the direct
 * path measured side by side in the same run: the added delay is the
 * configured one within 10 %, jitter follows its distribution (KS), the
 * token bucket gives the rate within 10 % for 2 MiB, losses counted by the
 * counters fall in their binomial interval and match the retransmit delays
 * the client sees, a schedule step and a live change take effect at their
 * time, also on a connection whose bytes crossed the unshaped pass-through
 * until then (a delay or step that misses is measured again, ATTEMPTS in
 * all: this VM's timers are late in bursts); bad addresses are refused;
 * stop(NULL) is a harmless no-op. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ks.h"
#include "shape/shape.h"
#include "util/util.h"

#define MS 1000000ull

/* ---- a poll loop serving echo and sink connections -------------------- */

typedef struct {
    int lfd, stop[2];
    char addr[64];
    pthread_t th;
    /* sink: the first byte 's' makes a connection a sink, which counts and
     * answers 'k' once it has sink_want bytes. */
    size_t sink_want;
} server;

static void *serve(void *arg) {
    server *s = arg;
    struct pollfd fds[10];
    int kind[10];
    size_t got[10];
    int n = 2;
    fds[0] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = s->stop[0], .events = POLLIN};
    static char buf[65536];
    for (;;) {
        if (poll(fds, (nfds_t)n, 10000) <= 0) break;
        if (fds[1].revents) break;
        if (fds[0].revents && n < 10) {
            int c = accept(s->lfd, NULL, NULL);
            int one = 1;
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            fds[n] = (struct pollfd){.fd = c, .events = POLLIN};
            kind[n] = 0, got[n] = 0;
            n++;
        }
        for (int i = 2; i < n; i++) {
            if (!fds[i].revents) continue;
            ssize_t r = read(fds[i].fd, buf, sizeof buf);
            if (r <= 0) {
                close(fds[i].fd);
                fds[i] = fds[n - 1], kind[i] = kind[n - 1], got[i] = got[n - 1];
                n--, i--;
                continue;
            }
            if (kind[i] == 0 && got[i] == 0 && buf[0] == 's') kind[i] = 1;
            got[i] += (size_t)r;
            if (kind[i] == 0) {
                assert_int_equal(write(fds[i].fd, buf, (size_t)r), r);
            } else if (got[i] >= s->sink_want + 1) {
                assert_int_equal(write(fds[i].fd, "k", 1), 1);
                got[i] = 0;
            }
        }
    }
    for (int i = 2; i < n; i++)
        close(fds[i].fd);
    return NULL;
}

static void server_start(server *s) {
    memset(s, 0, sizeof(*s));
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 16), 0);
    socklen_t l = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &l);
    snprintf(s->addr, sizeof s->addr, "127.0.0.1:%u", ntohs(a.sin_port));
    assert_int_equal(pipe(s->stop), 0);
    pthread_create(&s->th, NULL, serve, s);
}

static void server_stop(server *s) {
    assert_int_equal(write(s->stop[1], "q", 1), 1);
    pthread_join(s->th, NULL);
    close(s->lfd), close(s->stop[0]), close(s->stop[1]);
}

static int dial(const char *addr) {
    const char *colon = strrchr(addr, ':');
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* One byte there and back, in ns. */
static uint64_t ping(int fd) {
    char b = 'p';
    uint64_t t = lm_now_ns();
    assert_int_equal(write(fd, &b, 1), 1);
    assert_int_equal(read(fd, &b, 1), 1);
    return lm_now_ns() - t;
}

static lm_shape_proxy *proxy(const char *up, const char *down, const char *upstream,
                             uint64_t seed) {
    lm_shape_sched su, sd;
    char err[LM_ERRLEN] = "";
    assert_int_equal(lm_shape_sched_parse(up, &su, err), LM_OK);
    if (down) assert_int_equal(lm_shape_sched_parse(down, &sd, err), LM_OK);
    lm_shape_proxy_opts o = {.listen_fd = -1,
                             .listen_addr = "127.0.0.1:0",
                             .upstream = upstream,
                             .up = &su,
                             .down = down ? &sd : NULL,
                             .seed = seed};
    lm_shape_proxy *p = lm_shape_proxy_start(&o, err);
    if (!p) fail_msg("proxy: %s", err);
    lm_shape_sched_free(&su);
    if (down) lm_shape_sched_free(&sd);
    return p;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double median_ms(uint64_t *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_u64);
    return (double)v[n / 2] / 1e6;
}

/* This VM's timers fire late in bursts (a 5 ms timerfd, 1000 times: 77 us
 * late in the median, 0.8 ms at p99, 4.1 ms at most), and for a second or
 * two a wake-up may cost milliseconds, on the direct path too (a median
 * added delay of 19 ms, and once of 2.5 ms, where 10 are configured): 4
 * runs in 50 had a figure below out of its bounds. A timing figure that
 * misses is measured again, up to ATTEMPTS times in all; a proxy that
 * shapes wrong misses every time. */
enum { ATTEMPTS = 3, PINGS_MAX = 64 };

/* The median round trip k pings through shaped gain over direct, measured
 * side by side, until it is within tol of want (ATTEMPTS at most); adds
 * the pings sent to *pings. */
static double added_near(int direct, int shaped, int k, double want, double tol, int *pings) {
    uint64_t d[PINGS_MAX], x[PINGS_MAX];
    double added = 0;
    assert_true(k <= PINGS_MAX);
    for (int a = 0; a < ATTEMPTS; a++) {
        for (int i = 0; i < k; i++)
            d[i] = ping(direct), x[i] = ping(shaped);
        *pings += k;
        added = median_ms(x, (size_t)k) - median_ms(d, (size_t)k);
        if (fabs(added - want) <= tol) break;
        fprintf(stderr, "note: added %.2f ms, want %.1f +- %.1f: measured again\n", added, want,
                tol);
        usleep(100000);
    }
    return added;
}

/* The counters once every connection is closed: a byte is counted just
 * after it is written, so the client may see it before the counter does. */
static lm_shape_stats wait_idle(lm_shape_proxy *p) {
    lm_shape_stats st;
    for (int i = 0; i < 500; i++) {
        lm_shape_proxy_stats(p, &st);
        if (st.active == 0) break;
        usleep(2000);
    }
    assert_int_equal(st.active, 0);
    return st;
}

/* ---- the tests --------------------------------------------------------- */

static void test_delay(void **state) {
    server s;
    server_start(&s);
    lm_shape_proxy *p = proxy("delay=4ms", "delay=6ms", s.addr, 1);
    int direct = dial(s.addr), shaped = dial(lm_shape_proxy_addr(p));
    int pings = 0;
    /* 4 ms there, 6 back: the round trip gains 10 ms. */
    double added = added_near(direct, shaped, 40, 10.0, 1.0, &pings);
    if (fabs(added - 10.0) > 1.0) fail_msg("added %.3f ms, configured 10 ms", added);
    close(direct), close(shaped);
    lm_shape_stats st = wait_idle(p);
    assert_int_equal(st.connections, 1);
    assert_int_equal(st.up.bytes, pings);
    assert_int_equal(st.down.bytes, pings);
    assert_int_equal(st.up.chunks, pings);
    lm_shape_proxy_stop(p);
    server_stop(&s);
}

typedef struct {
    double mu, sigma;
} normal_arg;

static double cdf_trunc_normal(double x, const void *arg) {
    const normal_arg *a = arg;
    if (x < 0) return 0;
    double lo = 0.5 * erfc(a->mu / (a->sigma * sqrt(2.0)));
    double f = 0.5 * erfc(-(x - a->mu) / (a->sigma * sqrt(2.0)));
    return (f - lo) / (1 - lo);
}

static void test_jitter_ks(void **state) {
    server s;
    server_start(&s);
    lm_shape_proxy *p = proxy("delay=20ms,jitter=8ms:normal", "none", s.addr, 3);
    int direct = dial(s.addr), shaped = dial(lm_shape_proxy_addr(p));
    enum { K = 100 };
    uint64_t d[K];
    double x[K];
    for (int i = 0; i < K; i++) {
        d[i] = ping(direct);
        x[i] = (double)ping(shaped);
    }
    double base = median_ms(d, K);
    for (int i = 0; i < K; i++)
        x[i] = x[i] / 1e6 - base;
    if (getenv("SHAPE_DEBUG"))
        for (int i = 0; i < K; i++)
            fprintf(stderr, "%.3f\n", x[i]);
    normal_arg a = {20, 8};
    double D = lm_test_ks(x, K, cdf_trunc_normal, &a);
    if (D > lm_test_ks_critical_01(K)) fail_msg("KS D = %.3f > %.3f", D, lm_test_ks_critical_01(K));
    normal_arg wrong = {20, 16};
    assert_true(lm_test_ks(x, K, cdf_trunc_normal, &wrong) > lm_test_ks_critical_01(K));
    close(direct), close(shaped);
    lm_shape_proxy_stop(p);
    server_stop(&s);
}

/* Seconds to push n bytes into a sink through addr until it answers. */
static double push(const char *addr, size_t n) {
    int fd = dial(addr);
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    buf[0] = 's';
    uint64_t t = lm_now_ns();
    size_t sent = 0;
    while (sent < n + 1) {
        size_t m = n + 1 - sent < sizeof buf ? n + 1 - sent : sizeof buf;
        ssize_t w = write(fd, buf, m);
        assert_true(w > 0);
        sent += (size_t)w;
        buf[0] = 'x';
    }
    char k;
    assert_int_equal(read(fd, &k, 1), 1);
    double secs = (double)(lm_now_ns() - t) / 1e9;
    close(fd);
    return secs;
}

static void test_rate(void **state) {
    server s;
    server_start(&s);
    s.sink_want = 2u << 20;
    lm_shape_proxy *p = proxy("rate=40mbit", "none", s.addr, 1);
    double direct = push(s.addr, s.sink_want);
    double secs = push(lm_shape_proxy_addr(p), s.sink_want);
    double mbit = (double)s.sink_want * 8 / (secs - direct) / 1e6;
    if (fabs(mbit - 40) > 4) fail_msg("%.2f Mbit/s through a 40 Mbit/s bucket", mbit);
    lm_shape_proxy_stop(p);
    server_stop(&s);
}

static void test_loss(void **state) {
    server s;
    server_start(&s);
    lm_shape_proxy *p = proxy("delay=1ms,loss=8%,rto=30ms", "none", s.addr, 9);
    int direct = dial(s.addr), shaped = dial(lm_shape_proxy_addr(p));
    enum { K = 400 };
    uint64_t d[K], x[K];
    for (int i = 0; i < K; i++)
        d[i] = ping(direct), x[i] = ping(shaped);
    double base = median_ms(d, K);
    int slow = 0;
    for (int i = 0; i < K; i++)
        slow += (double)x[i] / 1e6 - base - 1.0 > 15.0; /* half the RTO */
    close(direct), close(shaped);
    lm_shape_stats st = wait_idle(p);
    assert_int_equal(st.up.chunks, K);
    assert_int_equal(st.up.drops, 0);
    /* Attempts = chunks + retransmits; each lost with 8 % (99.9 % interval). */
    double attempts = (double)(K + st.up.retransmits), q = (double)st.up.retransmits / attempts;
    if (fabs(q - 0.08) > 3.29 * sqrt(0.08 * 0.92 / attempts))
        fail_msg("loss %.4f of %.0f attempts, configured 0.08", q, attempts);
    /* Every retransmitted ping is one the client saw slow (double losses
     * count twice in the counter, once here; a loaded machine may add a
     * slow ping or two). */
    if (abs(slow - (int)st.up.retransmits) > 4)
        fail_msg("%d slow pings, %llu retransmits", slow, (unsigned long long)st.up.retransmits);
    lm_shape_proxy_stop(p);
    server_stop(&s);
}

/* The steps of "0s none; 300ms delay=20ms; 600ms none" (time 0 is t0, the
 * proxy's start) as pings see them; 0, or -1 and why. */
static int schedule_steps(int direct, int shaped, uint64_t t0, char *why, size_t len) {
    int early = 0, during = 0, late = 0, bad = 0;
    for (int i = 0; i < 2000 && lm_now_ns() - t0 < 900 * MS; i++) {
        uint64_t sent = lm_now_ns() - t0;
        uint64_t base = ping(direct);
        double added = ((double)ping(shaped) - (double)base) / 1e6;
        if (sent < 280 * MS)
            early++, bad += added > 10;
        else if (sent > 320 * MS && sent < 570 * MS)
            during++, bad += added < 19 || added > 26;
        else if (sent > 640 * MS)
            late++, bad += added > 10;
        usleep(3000);
    }
    if (!(early > 5 && during > 5 && late > 5)) {
        snprintf(why, len, "%d early, %d during, %d late", early, during, late);
        return -1;
    }
    /* A loaded machine can make a ping late, never early. */
    if (bad > 2) {
        snprintf(why, len, "%d pings off their step (%d early, %d during, %d late)", bad, early,
                 during, late);
        return -1;
    }
    return 0;
}

static void test_schedule_and_set(void **state) {
    server s;
    server_start(&s);
    int direct = dial(s.addr), shaped = -1;
    lm_shape_proxy *p = NULL;
    char why[160];
    for (int a = 0;; a++) {
        if (p) close(shaped), lm_shape_proxy_stop(p);
        /* 20 ms from 300 to 600 ms. */
        p = proxy("0s none; 300ms delay=20ms; 600ms none", "none", s.addr, 1);
        uint64_t t0 = lm_now_ns();
        shaped = dial(lm_shape_proxy_addr(p));
        if (schedule_steps(direct, shaped, t0, why, sizeof why) == 0) break;
        if (a == ATTEMPTS - 1) fail_msg("%s", why);
        fprintf(stderr, "note: %s: measured again\n", why);
    }

    /* A live change: 15 ms from now on. */
    lm_shape_sched c;
    char err[LM_ERRLEN];
    assert_int_equal(lm_shape_sched_parse("delay=15ms", &c, err), LM_OK);
    assert_int_equal(lm_shape_proxy_set(p, &c, NULL, err), LM_OK);
    lm_shape_sched_free(&c);
    ping(shaped); /* the change may land while this one is in flight */
    int pings = 0;
    double added = added_near(direct, shaped, 10, 30.0, 3.0, &pings);
    if (fabs(added - 30) > 3) fail_msg("after set: added %.2f ms, want 30", added);
    close(direct), close(shaped);
    lm_shape_proxy_stop(p);
    server_stop(&s);
}

/* ---- unshaped, then shaped on the same connection ----------------------- */

enum { STREAM_BYTES = 3 << 20 };

static unsigned char pattern(size_t i) { return (unsigned char)(i % 251); }

typedef struct {
    int fd;
    int go[2]; /* a byte here: the condition is set, write the rest */
} stream;

/* Writes a third and 256 KiB of the pattern (so some are in flight when
 * the condition changes), waits for the go, then writes the rest. */
static void *stream_writer(void *arg) {
    stream *st = arg;
    int fd = st->fd;
    static unsigned char b[32768];
    for (size_t off = 0, paused = 0; off < STREAM_BYTES;) {
        if (!paused && off >= STREAM_BYTES / 3 + (256 << 10)) {
            char g;
            if (read(st->go[0], &g, 1) != 1) break;
            paused = 1;
        }
        size_t n = sizeof b < STREAM_BYTES - off ? sizeof b : STREAM_BYTES - off;
        for (size_t i = 0; i < n; i++)
            b[i] = pattern(off + i);
        ssize_t w = write(fd, b, n);
        if (w <= 0) break;
        off += (size_t)w;
    }
    return NULL;
}

/* A stream crosses the unshaped pass-through (no messages shaped), the
 * condition becomes delay=5ms both ways mid-stream: every byte arrives in
 * order, the rest is shaped (messages counted) and a ping after it gains
 * the 10 ms, judged against the direct path. */
static void test_unshaped_then_shaped(void **state) {
    server s;
    server_start(&s);
    lm_shape_proxy *p = proxy("none", NULL, s.addr, 5);
    int direct = dial(s.addr), shaped = dial(lm_shape_proxy_addr(p));
    pthread_t th;
    stream sw = {.fd = shaped};
    assert_int_equal(pipe(sw.go), 0);
    pthread_create(&th, NULL, stream_writer, &sw);
    static unsigned char b[65536];
    size_t got = 0, bad = 0;
    int set = 0;
    lm_shape_stats before = {0};
    char err[LM_ERRLEN];
    while (got < STREAM_BYTES) {
        ssize_t r = read(shaped, b, sizeof b);
        if (r <= 0) fail_msg("stream ended at %zu of %d bytes", got, STREAM_BYTES);
        for (ssize_t i = 0; i < r; i++)
            bad += b[i] != pattern(got + (size_t)i);
        got += (size_t)r;
        if (!set && got >= STREAM_BYTES / 3) {
            lm_shape_proxy_stats(p, &before);
            lm_shape_sched c;
            assert_int_equal(lm_shape_sched_parse("delay=5ms", &c, err), LM_OK);
            assert_int_equal(lm_shape_proxy_set(p, &c, NULL, err), LM_OK);
            lm_shape_sched_free(&c);
            set = 1;
            usleep(2000); /* the proxy's thread applies it */
            assert_int_equal(write(sw.go[1], "g", 1), 1);
        }
    }
    pthread_join(th, NULL);
    close(sw.go[0]), close(sw.go[1]);
    if (bad) fail_msg("%zu of %d bytes out of order or wrong", bad, STREAM_BYTES);
    /* Unshaped: the bytes moved, no message went through the model. */
    assert_true(before.up.bytes >= STREAM_BYTES / 3);
    assert_int_equal(before.up.chunks, 0);
    assert_int_equal(before.down.chunks, 0);
    int pings = 0;
    double added = added_near(direct, shaped, 20, 10.0, 1.0, &pings);
    if (fabs(added - 10.0) > 1.0) fail_msg("after set: added %.2f ms, want 10", added);
    close(direct), close(shaped);
    lm_shape_stats st = wait_idle(p);
    assert_int_equal(st.up.bytes, (uint64_t)STREAM_BYTES + (uint64_t)pings);
    assert_int_equal(st.down.bytes, (uint64_t)STREAM_BYTES + (uint64_t)pings);
    assert_true(st.up.chunks > (uint64_t)pings);
    assert_true(st.down.chunks > (uint64_t)pings);
    lm_shape_proxy_stop(p);
    server_stop(&s);
}

static void test_bad_and_null(void **state) {
    char err[LM_ERRLEN] = "";
    lm_shape_proxy_opts o = {
        .listen_fd = -1, .listen_addr = "127.0.0.1:0", .upstream = "localhost:80"};
    assert_null(lm_shape_proxy_start(&o, err));
    assert_non_null(strstr(err, "numeric"));
    o.upstream = "127.0.0.1:99999";
    assert_null(lm_shape_proxy_start(&o, err));
    assert_non_null(strstr(err, "0 to 65535"));
    o.upstream = "127.0.0.1:1";
    o.listen_addr = "127.0.0.1";
    assert_null(lm_shape_proxy_start(&o, err));
    assert_non_null(strstr(err, "HOST:PORT"));
    /* An upstream that refuses: the client is closed, the failure counted. */
    o.listen_addr = "127.0.0.1:0";
    lm_shape_proxy *p = lm_shape_proxy_start(&o, err);
    assert_non_null(p);
    int fd = dial(lm_shape_proxy_addr(p));
    char b;
    assert_true(read(fd, &b, 1) <= 0);
    close(fd);
    lm_shape_stats st;
    lm_shape_proxy_stats(p, &st);
    assert_int_equal(st.failed, 1);
    char js[512];
    assert_non_null(strstr(lm_shape_stats_json(&st, js, sizeof js), "\"failed\":1"));
    lm_shape_proxy_stop(p);
    lm_shape_proxy_stop(NULL); /* harmless */
}

static void test_listen_fd(void **state) {
    server s;
    server_start(&s);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 4), 0);
    char err[LM_ERRLEN];
    lm_shape_proxy_opts o = {.listen_fd = lfd, .upstream = s.addr};
    lm_shape_proxy *p = lm_shape_proxy_start(&o, err);
    assert_non_null(p);
    int fd = dial(lm_shape_proxy_addr(p));
    ping(fd);
    close(fd);
    lm_shape_proxy_stop(p); /* closes lfd */
    server_stop(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay),
        cmocka_unit_test(test_jitter_ks),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_loss),
        cmocka_unit_test(test_schedule_and_set),
        cmocka_unit_test(test_unshaped_then_shaped),
        cmocka_unit_test(test_bad_and_null),
        cmocka_unit_test(test_listen_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
