/* gateway_latency.c -- the latency `lumos serve`'s gateway adds to a warm
 * request: the same `noop` ({}) and `fibonacci` ({"n":93}) requests sent
 * directly to a warm native instance's channel (lm_call, timed around the
 * call) and through a running gateway (one keep-alive HTTP/1.1 connection,
 * sequential POSTs, each timed from the first byte written to the last byte
 * of its body read). The two paths run in alternating blocks so a noisy
 * moment hurts both alike; warm-ups (the gateway's first request is a cold
 * start) are not recorded. Prints p50 and p99 of each path, the difference,
 * and the gateway's own Server-Timing `total` p50 as a cross-check.
 * Not a test: it prints figures, it does not judge.
 * Usage: gateway_latency N PORT   (PORT: a running `lumos serve`) */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "channel/channel.h"
#include "runtime/runtime.h"

#define TIMEOUT_MS 30000
#define WARMUPS 200
#define BLOCKS 10

/* One keep-alive connection; buf holds bytes read but not yet consumed. */
typedef struct {
    int fd;
    char buf[1 << 16];
    size_t len;
} http_client;

/* One function's series, microseconds; server: the gateway's `total`. */
typedef struct {
    const char *function, *body;
    lm_instance inst;
    double *direct, *gateway, *server;
} series;

static int http_connect(http_client *c, int port, char *err) {
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return lm_errf(err, "socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        lm_errf(err, "connect to 127.0.0.1:%d: %s (is `lumos serve` running there?)", port,
                strerror(errno));
        close(c->fd);
        c->fd = -1;
        return LM_ERR;
    }
    return LM_OK;
}

static int write_all(int fd, const char *p, size_t n, char *err) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return lm_errf(err, "write to the gateway: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return LM_OK;
}

/* Reads what is available into c->buf, waiting up to TIMEOUT_MS. */
static int read_more(http_client *c, char *err) {
    if (c->len >= sizeof(c->buf) - 1) return lm_errf(err, "response larger than 64 KiB");
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int r = poll(&p, 1, TIMEOUT_MS);
    if (r == 0) return lm_errf(err, "no answer from the gateway within %d ms", TIMEOUT_MS);
    if (r < 0) return lm_errf(err, "poll: %s", strerror(errno));
    ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
    if (n == 0) return lm_errf(err, "the gateway closed the connection");
    if (n < 0) return errno == EINTR ? LM_OK : lm_errf(err, "read: %s", strerror(errno));
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    return LM_OK;
}

/* The value of header name in the header block [h, end), or NULL. */
static const char *find_header(const char *h, const char *end, const char *name) {
    size_t n = strlen(name);
    for (const char *line = h; line < end;) {
        const char *eol = strstr(line, "\r\n");
        if (!eol || eol > end) break;
        if ((size_t)(eol - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            return v;
        }
        line = eol + 2;
    }
    return NULL;
}

/* POSTs body to /function/<fn> and reads the whole answer (by its
 * Content-Length). LM_OK only for a 200; *server_ms is the Server-Timing
 * total (-1 when absent). */
static int http_post(http_client *c, const char *fn, const char *body, double *server_ms,
                     char *err) {
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "POST /function/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     fn, strlen(body), body);
    if (write_all(c->fd, req, (size_t)n, err) != LM_OK) return LM_ERR;
    char *end;
    while (!(end = strstr(c->buf, "\r\n\r\n")))
        if (read_more(c, err) != LM_OK) return LM_ERR;
    size_t head = (size_t)(end - c->buf) + 4;
    int status = 0;
    if (sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1)
        return lm_errf(err, "not an HTTP answer: %.40s", c->buf);
    const char *cl = find_header(c->buf, end + 2, "Content-Length");
    if (!cl) return lm_errf(err, "the gateway's answer has no Content-Length");
    size_t total = head + strtoul(cl, NULL, 10);
    const char *st = find_header(c->buf, end + 2, "Server-Timing");
    const char *tot = st ? strstr(st, "total;dur=") : NULL;
    *server_ms = tot && tot < end ? strtod(tot + 10, NULL) : -1;
    while (c->len < total)
        if (read_more(c, err) != LM_OK) return LM_ERR;
    if (status != 200)
        return lm_errf(err, "POST /function/%s answered %d: %.*s", fn, status, (int)(total - head),
                       c->buf + head);
    memmove(c->buf, c->buf + total, c->len - total);
    c->len -= total;
    c->buf[c->len] = '\0';
    return LM_OK;
}

static int direct_call(series *s, double *us, char *err) {
    lm_call_result r;
    uint64_t t0 = lm_now_ns();
    if (lm_call(&s->inst, s->body, strlen(s->body), NULL, TIMEOUT_MS, NULL, NULL, &r, err) != LM_OK)
        return LM_ERR;
    uint64_t t1 = lm_now_ns();
    int status = r.status;
    lm_call_result_free(&r);
    if (status != 200) return lm_errf(err, "%s answered %d on its channel", s->function, status);
    if (us) *us = (double)(t1 - t0) / 1e3;
    return LM_OK;
}

static int gateway_call(http_client *c, series *s, double *us, double *server_us, char *err) {
    double server_ms;
    uint64_t t0 = lm_now_ns();
    if (http_post(c, s->function, s->body, &server_ms, err) != LM_OK) return LM_ERR;
    uint64_t t1 = lm_now_ns();
    if (us) *us = (double)(t1 - t0) / 1e3;
    if (server_us) *server_us = server_ms * 1e3;
    return LM_OK;
}

/* Warms both paths, then records n requests each in alternating blocks. */
static int measure(http_client *c, series *s, int n, char *err) {
    const lm_runtime *rt = lm_runtime_find("native", err);
    /* The gateway's pool starts its instances the same way. */
    lm_start_opts o = {.artifacts = lm_artifacts_dir(NULL), .stderr_fd = LM_STDERR_CAPTURE};
    uint64_t ready;
    if (!rt || lm_instance_start(rt, s->function, &o, &s->inst, err) != LM_OK) return LM_ERR;
    if (lm_wait_ready(&s->inst, TIMEOUT_MS, &ready, err) != LM_OK) return LM_ERR;
    for (int i = 0; i < WARMUPS; i++)
        if (direct_call(s, NULL, err) != LM_OK || gateway_call(c, s, NULL, NULL, err) != LM_OK)
            return LM_ERR;
    int block = n / BLOCKS > 0 ? n / BLOCKS : 1;
    for (int done = 0; done < n; done += block) {
        int m = n - done < block ? n - done : block;
        for (int i = done; i < done + m; i++)
            if (direct_call(s, &s->direct[i], err) != LM_OK) return LM_ERR;
        for (int i = done; i < done + m; i++)
            if (gateway_call(c, s, &s->gateway[i], &s->server[i], err) != LM_OK) return LM_ERR;
    }
    return LM_OK;
}

static double pct(double *v, int n, double p) {
    lm_sort_doubles(v, (size_t)n);
    return lm_percentile(v, (size_t)n, p);
}

static void report(series *s, int n) {
    double d50 = pct(s->direct, n, 50), d99 = pct(s->direct, n, 99);
    double g50 = pct(s->gateway, n, 50), g99 = pct(s->gateway, n, 99);
    double t50 = pct(s->server, n, 50);
    printf("%-10s %-8s %8d %9.1f %9.1f\n", s->function, "direct", n, d50, d99);
    printf("%-10s %-8s %8d %9.1f %9.1f %19.1f\n", s->function, "gateway", n, g50, g99, t50);
    printf("%-10s %-8s %8s %9.1f %9.1f   target: added p50 < 100 us\n", s->function, "added", "",
           g50 - d50, g99 - d99);
}

int main(int argc, char **argv) {
    int n = argc > 2 ? atoi(argv[1]) : 0, port = argc > 2 ? atoi(argv[2]) : 0;
    if (n < 1 || port < 1 || port > 65535) {
        fprintf(stderr, "usage: gateway_latency N PORT   (PORT: a running `lumos serve`)\n");
        return 2;
    }
    char err[LM_ERRLEN];
    static http_client c;
    if (http_connect(&c, port, err) != LM_OK) {
        fprintf(stderr, "gateway_latency: %s\n", err);
        return 1;
    }
    series fns[] = {{.function = "noop", .body = "{}"},
                    {.function = "fibonacci", .body = "{\"n\":93}"}};
    int rc = 0;
    printf("%-10s %-8s %8s %9s %9s %19s\n", "function", "path", "requests", "p50_us", "p99_us",
           "server_total_p50_us");
    for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]) && rc == 0; f++) {
        series *s = &fns[f];
        s->direct = calloc((size_t)n, sizeof(double));
        s->gateway = calloc((size_t)n, sizeof(double));
        s->server = calloc((size_t)n, sizeof(double));
        if (!s->direct || !s->gateway || !s->server) {
            lm_errf(err, "out of memory");
            rc = 1;
        } else if (measure(&c, s, n, err) != LM_OK) {
            rc = 1;
        } else {
            report(s, n);
        }
        if (rc) fprintf(stderr, "gateway_latency: %s: %s\n", s->function, err);
        if (s->inst.child.pid > 0) lm_instance_stop(&s->inst, 1000);
        free(s->direct);
        free(s->gateway);
        free(s->server);
    }
    close(c.fd);
    return rc;
}
