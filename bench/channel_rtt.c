/* channel_rtt.c -- the SDK channel's round trip for a storage GET: a native
 * `noop` instance reads one object through the channel, served by the host
 * from memory (the channel alone) and from a private redis-server (channel
 * plus Redis), side by side in one run. The function's own io probe is the
 * round trip as the guest sees it: GET frame out, VALUE frame in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/channel.h"
#include "runtime/runtime.h"
#include "storage/storage.h"

static int measure(const char *label, lm_store *store, size_t size, int runs, const char *rt_name) {
    char err[LM_ERRLEN];
    char *obj = malloc(size);
    for (size_t i = 0; i < size; i++)
        obj[i] = (char)('a' + i % 26);
    if (store->put(store, "bench/object", obj, size, err) != LM_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    free(obj);
    const lm_runtime *rt = lm_runtime_find(rt_name, err);
    lm_start_opts o = {.artifacts = lm_artifacts_dir(NULL), .stderr_fd = -1};
    lm_instance inst;
    uint64_t ready;
    if (!rt || lm_instance_start(rt, "noop", &o, &inst, err) != LM_OK ||
        lm_wait_ready(&inst, 30000, &ready, err) != LM_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double *io = calloc((size_t)runs, sizeof(double)), *lat = calloc((size_t)runs, sizeof(double));
    const char *body = "{\"input_key\":\"bench/object\"}";
    for (int i = -3; i < runs; i++) { /* three unrecorded warm-ups */
        lm_call_result r;
        if (lm_call(&inst, body, strlen(body), store, 30000, NULL, NULL, &r, err) != LM_OK ||
            r.status != 200) {
            fprintf(stderr, "call failed: %s\n", err);
            return 1;
        }
        if (i >= 0) {
            io[i] = (double)r.probes[LM_PROBE_IO_NS] / 1e6;
            lat[i] = (double)(r.result_ns - r.sent_ns) / 1e6;
        }
        lm_call_result_free(&r);
    }
    lm_instance_stop(&inst, 1000);
    lm_sort_doubles(io, (size_t)runs);
    lm_sort_doubles(lat, (size_t)runs);
    printf("%-10s %-8s %10zu %6d %14.3f %12.3f %14.3f\n", label, rt_name, size, runs,
           lm_percentile(io, (size_t)runs, 50), lm_percentile(io, (size_t)runs, 99),
           lm_percentile(lat, (size_t)runs, 50));
    free(io);
    free(lat);
    return 0;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 200;
    if (runs < 1) runs = 200;
    char err[LM_ERRLEN];
    lm_redis_server srv;
    if (lm_redis_server_start(&srv, err) != LM_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    lm_store *mem = lm_store_memory(), *red = lm_store_redis("127.0.0.1", srv.port, err);
    if (!red) {
        fprintf(stderr, "%s\n", err);
        lm_redis_server_stop(&srv);
        return 1;
    }
    printf("%-10s %-8s %10s %6s %14s %12s %14s\n", "store", "runtime", "bytes", "runs",
           "get_rtt_p50_ms", "get_p99_ms", "call_p50_ms");
    int rc = 0;
    size_t sizes[] = {1024, 1 << 20};
    for (int s = 0; s < 2; s++) {
        rc |= measure("memory", mem, sizes[s], runs, "native");
        rc |= measure("redis", red, sizes[s], runs, "native");
    }
    rc |= measure("memory", mem, 1 << 20, runs / 4 > 10 ? runs / 4 : 10, "wasm-jit");
    lm_store_free(mem);
    lm_store_free(red);
    lm_redis_server_stop(&srv);
    return rc;
}
