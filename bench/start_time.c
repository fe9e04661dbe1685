/* start_time.c -- instance start time per runtime for the `noop`
 * function, N fresh instances each, runtimes interleaved so a noisy moment
 * hurts all alike: the cold start (the runtime's exec to READY) and the
 * total (from the start call, the platform's cgroup placement included);
 * with each instance in its own cgroup and, side by side, without. Prints
 * medians and the cold start's p95 in ms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/channel.h"
#include "runtime/runtime.h"

/* Starts one noop instance; returns LM_OK with both durations in ms. */
static int one_start(const char *name, int no_cgroup, double *from_start, double *from_spawn) {
    char err[LM_ERRLEN];
    const lm_runtime *rt = lm_runtime_find(name, err);
    lm_start_opts o = {
        .artifacts = lm_artifacts_dir(NULL), .stderr_fd = -1, .no_cgroup = no_cgroup};
    lm_instance inst;
    uint64_t ready;
    if (!rt || lm_instance_start(rt, "noop", &o, &inst, err) != LM_OK ||
        lm_wait_ready(&inst, 60000, &ready, err) != LM_OK) {
        fprintf(stderr, "%s: %s\n", name, err);
        return LM_ERR;
    }
    *from_start = (double)(ready - inst.start_ns) / 1e6;
    *from_spawn = (double)(ready - inst.spawn_ns) / 1e6;
    lm_instance_stop(&inst, 1000);
    return LM_OK;
}

static double median(double *v, int n) {
    lm_sort_doubles(v, (size_t)n);
    return lm_percentile(v, (size_t)n, 50);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20;
    if (n < 1) n = 20;
    const char *names[32];
    int nrt = 0;
    char err[LM_ERRLEN];
    for (int i = 2; i < argc && nrt < 32; i++)
        names[nrt++] = argv[i];
    if (nrt == 0) {
        const lm_runtime *const *all = lm_runtime_all();
        for (size_t i = 0; all[i] && nrt < 32; i++)
            if (all[i]->available(all[i], err) == LM_OK) names[nrt++] = all[i]->name;
    }
    /* Series per runtime: [cgroup start, cgroup spawn, bare start, bare spawn]. */
    double *ms = calloc((size_t)(4 * n * nrt), sizeof(double));
    double d1, d2;
    for (int r = 0; r < nrt; r++) /* one unrecorded start each warms caches */
        if (one_start(names[r], 0, &d1, &d2) != LM_OK) return 1;
    for (int i = 0; i < n; i++) {
        for (int r = 0; r < nrt; r++) {
            double *v = ms + (size_t)r * 4 * n;
            if (one_start(names[r], 0, &v[i], &v[n + i]) != LM_OK ||
                one_start(names[r], 1, &v[2 * n + i], &v[3 * n + i]) != LM_OK)
                return 1;
        }
    }
    printf("%-22s %6s %14s %14s %14s %14s %14s\n", "runtime", "starts", "cold_start_ms",
           "cold_p95_ms", "total_ms", "bare_cold_ms", "bare_total_ms");
    for (int r = 0; r < nrt; r++) {
        double *v = ms + (size_t)r * 4 * n;
        double cs = median(v, n), csp = median(v + n, n);
        double p95 = lm_percentile(v + n, (size_t)n, 95);
        double bs = median(v + 2 * n, n), bsp = median(v + 3 * n, n);
        printf("%-22s %6d %14.3f %14.3f %14.3f %14.3f %14.3f\n", names[r], n, csp, p95, cs, bsp,
               bs);
    }
    printf("(medians; cold = the runtime's exec to READY; total = from the start call, the "
           "cgroup placement included; bare = without a cgroup of its own)\n");
    free(ms);
    return 0;
}
