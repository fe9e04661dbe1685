/* calibrate.c -- `lumos nodes calibrate`: the benchmark on the host and
 * under each profile's quota, side by side, and the quota that makes the
 * measured slowdown the target one (docs/nodes.md). */
#include "node/node.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int lm_node_measure(const lm_node *n, uint64_t events, double *wall_s, double *cpu_s, char *err) {
    lm_cgroup cg = {0};
    const char *const *join = NULL;
    if (n) {
        lm_start_opts o = {0};
        lm_node_start_opts(n, &o);
        lm_cgroup_limits lim = {.parent = o.cgroup_parent,
                                .cpu_quota_us = o.cpu_quota_us,
                                .cpu_period_us = o.cpu_period_us,
                                .cpuset = o.cpuset};
        char name[64];
        static unsigned seq;
        snprintf(name, sizeof(name), "bench-%d-%u", (int)getpid(), ++seq);
        if (lm_cgroup_create_in(&cg, name, &lim, err) != LM_OK) return LM_ERR;
        join = lm_cgroup_procs(&cg);
    }
    int fds[2];
    if (pipe(fds) != 0) {
        lm_cgroup_destroy(&cg);
        return lm_errf(err, "pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        for (size_t i = 0; join && join[i]; i++) {
            FILE *f = fopen(join[i], "w");
            if (!f || fputs("0", f) < 0 || fclose(f) != 0) _exit(3);
        }
        double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
        uint64_t primes = lm_node_bench_run(events, LM_NODE_BENCH_MAX_PRIME);
        double r[2] = {now_s(CLOCK_MONOTONIC) - w0, now_s(CLOCK_THREAD_CPUTIME_ID) - c0};
        if (primes != 1229) _exit(4);
        _exit(write(fds[1], r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 5);
    }
    close(fds[1]);
    double r[2] = {0, 0};
    ssize_t got = pid > 0 ? read(fds[0], r, sizeof(r)) : -1;
    close(fds[0]);
    int st = 0;
    if (pid > 0) waitpid(pid, &st, 0);
    lm_cgroup_destroy(&cg);
    if (pid < 0 || got != (ssize_t)sizeof(r) || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return lm_errf(err, "the benchmark run failed (status %d)", st);
    *wall_s = r[0];
    *cpu_s = r[1];
    return LM_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int lm_node_slowdown(const lm_node *ref, const lm_node *n, uint64_t events, int pairs,
                     double *slowdown, double *host_score, char *err) {
    double s[16], h[16];
    if (pairs > 16) pairs = 16;
    for (int i = 0; i < pairs; i++) {
        double wh, ch, wn, cn;
        /* Interleaved: drift on the machine falls on both sides alike. */
        if (lm_node_measure(ref, events, &wh, &ch, err) != LM_OK ||
            lm_node_measure(n, events, &wn, &cn, err) != LM_OK)
            return LM_ERR;
        /* Wall per CPU second on each side: what the quota adds, with the
         * core's own speed of the moment divided out. */
        s[i] = (wn / cn) / (wh / ch);
        h[i] = (double)events / ch;
    }
    qsort(s, (size_t)pairs, sizeof(double), cmp_double);
    qsort(h, (size_t)pairs, sizeof(double), cmp_double);
    *slowdown = s[pairs / 2];
    if (host_score) *host_score = h[pairs / 2];
    return LM_OK;
}

int lm_node_calibrate(const lm_node_config *c, const char *only, FILE *progress,
                      lm_node_calibrations *out, char *err) {
    memset(out, 0, sizeof(*out));
    out->host_cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    out->measured_at_s = (int64_t)time(NULL);
    FILE *ci = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (ci && fgets(line, sizeof(line), ci))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            snprintf(out->host_cpu, sizeof(out->host_cpu), "%s", strchr(line, ':') + 2);
            out->host_cpu[strcspn(out->host_cpu, "\n")] = 0;
            break;
        }
    if (ci) fclose(ci);
    /* The reference: a host-speed group on all cores, with the nodes'
     * shares, so both sides compete alike with the rest of the machine. */
    lm_node_profile rp = {.name = "ref", .cpus = out->host_cores, .cpu_period_us = 10000};
    lm_node ref;
    if (lm_node_up(&rp, NULL, &ref, err) != LM_OK) return LM_ERR;
    int rc = LM_OK;
    /* About 0.25 s of host CPU per run. */
    double w, cpu;
    if (lm_node_measure(&ref, 200, &w, &cpu, err) != LM_OK) rc = LM_ERR;
    uint64_t events = rc == LM_OK ? (uint64_t)(0.25 * 200 / (cpu > 0 ? cpu : 0.1)) + 1 : 0;
    double host_score = 0;
    for (int i = 0; rc == LM_OK && i < c->n; i++) {
        const lm_node_profile *p = &c->profiles[i];
        if (only && strcmp(only, p->name) != 0) continue;
        if (p->target_score <= 0) continue;
        lm_node_calibration *k = &out->nodes[out->n];
        snprintf(k->name, sizeof(k->name), "%s", p->name);
        if (host_score <= 0 &&
            lm_node_slowdown(&ref, &ref, events, 3, &w, &host_score, err) != LM_OK) {
            rc = LM_ERR;
            break;
        }
        k->target_slowdown = host_score / p->target_score;
        double f = k->target_slowdown > 1 ? 1 / k->target_slowdown : 1;
        lm_node_calibrations one = {.n = 1};
        one.nodes[0] = *k;
        for (int iter = 0; iter < 3; iter++) {
            one.nodes[0].cpu_fraction = f;
            lm_node n;
            if (lm_node_up(p, &one, &n, err) != LM_OK) {
                rc = LM_ERR;
                break;
            }
            k->cores = n.cores;
            double s = 1;
            rc = lm_node_slowdown(&ref, &n, events, 3, &s, NULL, err);
            lm_node_down(&n);
            if (rc != LM_OK) break;
            k->measured_slowdown = s;
            k->cpu_fraction = f;
            if (progress)
                fprintf(progress, "  %s: cpu fraction %.4f -> slowdown %.3f (target %.3f)\n",
                        p->name, f, s, k->target_slowdown);
            if (k->target_slowdown <= 1 || fabs(s / k->target_slowdown - 1) < 0.03) break;
            f *= s / k->target_slowdown;
            if (f > 1) f = 1;
            if (f < 0.01) f = 0.01;
        }
        out->n++;
    }
    out->host_score = host_score;
    lm_node_down(&ref);
    return rc;
}
