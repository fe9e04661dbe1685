/* shape_cost.c -- the shaping proxy's own cost on an unshaped link
 * (bench/shape runs it): GETs of a 1 KiB and a 1 MiB value from a
 * redis-server, directly and through an in-process lm_shape_proxy with no
 * condition, interleaved one by one so both see the same machine; prints
 * p50 and p99 of each, the added latency and ratio, and the proxy thread's
 * own CPU time per GET (from /proc schedstat: unlike wall time, a loaded
 * machine does not inflate it, so it shows what the proxy itself costs).
 * Usage: shape_cost REDIS_PORT [N_SMALL] [N_LARGE] */
#include <dirent.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shape/shape.h"
#include "util/util.h"

static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double q(uint64_t *v, size_t n, double p) {
    return (double)v[(size_t)(p * (double)(n - 1))] / 1e3;
}

/* CPU time (ns) of every thread of this process but the main one: the
 * proxy's thread is the only other. */
static uint64_t other_threads_cpu_ns(void) {
    DIR *dir = opendir("/proc/self/task");
    uint64_t sum = 0;
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == getpid()) continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        FILE *f = fopen(path, "r");
        unsigned long long ns = 0;
        if (f && fscanf(f, "%llu", &ns) == 1) sum += ns;
        if (f) fclose(f);
    }
    if (dir) closedir(dir);
    return sum;
}

static uint64_t get(redisContext *c, const char *key, size_t want) {
    uint64_t t = lm_now_ns();
    redisReply *r = redisCommand(c, "GET %s", key);
    uint64_t d = lm_now_ns() - t;
    if (!r || r->type != REDIS_REPLY_STRING || r->len != want) {
        fprintf(stderr, "shape_cost: bad reply for %s\n", key);
        exit(1);
    }
    freeReplyObject(r);
    return d;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: shape_cost REDIS_PORT [N_SMALL] [N_LARGE]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    size_t ns = argc > 2 ? (size_t)atol(argv[2]) : 5000,
           nl = argc > 3 ? (size_t)atol(argv[3]) : 300;
    char up[64], err[LM_ERRLEN];
    snprintf(up, sizeof up, "127.0.0.1:%d", port);
    lm_shape_proxy_opts o = {
        .listen_fd = -1, .listen_addr = "127.0.0.1:0", .upstream = up, .seed = 1};
    lm_shape_proxy *p = lm_shape_proxy_start(&o, err);
    if (!p) return fprintf(stderr, "shape_cost: %s\n", err), 1;
    int pport = atoi(strrchr(lm_shape_proxy_addr(p), ':') + 1);
    redisContext *d = redisConnect("127.0.0.1", port), *x = redisConnect("127.0.0.1", pport);
    if (!d || d->err || !x || x->err) return fprintf(stderr, "shape_cost: cannot connect\n"), 1;
    size_t sizes[2] = {1024, 1 << 20}, counts[2] = {ns, nl};
    const char *names[2] = {"1KiB", "1MiB"};
    char *val = malloc(1 << 20);
    memset(val, 'v', 1 << 20);
    printf("%-5s %7s %12s %12s %12s %12s %12s %9s %16s\n", "size", "n", "direct_p50_us",
           "proxy_p50_us", "direct_p99_us", "proxy_p99_us", "added_p50_us", "ratio_p50",
           "proxy_cpu_us_get");
    for (int s = 0; s < 2; s++) {
        freeReplyObject(redisCommand(d, "SET shape:%s %b", names[s], val, sizes[s]));
        char key[32];
        snprintf(key, sizeof key, "shape:%s", names[s]);
        uint64_t *a = malloc(counts[s] * sizeof *a), *b = malloc(counts[s] * sizeof *b);
        for (size_t i = 0; i < counts[s] / 10; i++)
            get(d, key, sizes[s]), get(x, key, sizes[s]); /* warm-up */
        uint64_t cpu0 = other_threads_cpu_ns();
        for (size_t i = 0; i < counts[s]; i++) {
            if (i & 1)
                a[i] = get(d, key, sizes[s]), b[i] = get(x, key, sizes[s]);
            else
                b[i] = get(x, key, sizes[s]), a[i] = get(d, key, sizes[s]);
        }
        double cpu_us = (double)(other_threads_cpu_ns() - cpu0) / 1e3 / (double)counts[s];
        qsort(a, counts[s], sizeof *a, cmp);
        qsort(b, counts[s], sizeof *b, cmp);
        double a50 = q(a, counts[s], 0.5), b50 = q(b, counts[s], 0.5);
        printf("%-5s %7zu %12.1f %12.1f %12.1f %12.1f %12.1f %9.3f %16.2f\n", names[s], counts[s],
               a50, b50, q(a, counts[s], 0.99), q(b, counts[s], 0.99), b50 - a50, b50 / a50,
               cpu_us);
        free(a), free(b);
    }
    free(val);
    redisFree(d), redisFree(x);
    lm_shape_proxy_stop(p);
    return 0;
}
