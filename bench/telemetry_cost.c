/* telemetry_cost.c -- what one per-request telemetry reading costs, side by
 * side in one run: lm_telemetry_read (opens, reads and closes each file)
 * against a kept-open handle's lm_telemetry_sample and
 * lm_telemetry_sample_and_reset and lm_telemetry_mark (the gateway's
 * per-request call), on a real cgroup holding a sleeping child
 * (and, for comparison, on that child's /proc). Prints figures; it is not a
 * test. Needs root and a writable cgroup hierarchy for the cgroup rows.
 * Usage: telemetry_cost [CALLS] (per method and round; default 20000). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "observe/telemetry.h"

#define ROUNDS 5

enum { M_READ, M_SAMPLE, M_RESET, M_MARK, M_N };
static const char *const method_name[M_N] = {"lm_telemetry_read", "lm_telemetry_sample",
                                             "lm_telemetry_sample_and_reset", "lm_telemetry_mark"};

/* A child that joins cg (when given), says so, and sleeps until its pipe
 * closes. Returns its pid and the pipe's write end in *keep. */
static pid_t sleeper(const lm_cgroup *cg, int *keep) {
    int ready[2], hold[2];
    if (pipe(ready) != 0 || pipe(hold) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        const char *const *procs = cg ? lm_cgroup_procs(cg) : NULL;
        for (int i = 0; procs && procs[i]; i++) {
            int fd = open(procs[i], O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write(fd, "0", 1) != 1) _exit(2);
            close(fd);
        }
        char c = 'r';
        if (write(ready[1], &c, 1) != 1) _exit(3);
        close(hold[1]);
        while (read(hold[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    char c;
    int ok = pid > 0 && read(ready[0], &c, 1) == 1;
    close(ready[0]);
    *keep = hold[1];
    if (!ok) {
        if (pid > 0) waitpid(pid, NULL, 0);
        close(hold[1]);
        return -1;
    }
    return pid;
}

static void reap(pid_t pid, int keep) {
    close(keep);
    waitpid(pid, NULL, 0);
}

/* ns per call of one method over n calls; UINT64_MAX when a call failed. */
static double run(int m, const lm_cgroup *cg, pid_t pid, lm_telemetry *t, long n) {
    char err[LM_ERRLEN];
    lm_usage u;
    uint64_t cpu, peak;
    uint64_t t0 = lm_now_ns();
    for (long i = 0; i < n; i++) {
        int rc = m == M_READ     ? lm_telemetry_read(cg, pid, &u, err)
                 : m == M_SAMPLE ? lm_telemetry_sample(t, &u, err)
                 : m == M_RESET  ? lm_telemetry_sample_and_reset(t, &u, err)
                                 : lm_telemetry_mark(t, &cpu, &peak, err);
        if (rc != LM_OK) {
            fprintf(stderr, "%s: %s\n", method_name[m], err);
            return -1;
        }
    }
    return (double)(lm_now_ns() - t0) / (double)n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Rounds of the methods interleaved, so that a disturbance of the
 * machine touches all of them alike; the median round of each is shown. */
static int measure(const char *what, const lm_cgroup *cg, pid_t pid, long n) {
    char err[LM_ERRLEN];
    lm_telemetry *t = lm_telemetry_open(cg, pid, err);
    if (!t) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double ns[M_N][ROUNDS];
    for (int r = 0; r < ROUNDS; r++)
        for (int m = 0; m < M_N; m++)
            if ((ns[m][r] = run(m, cg, pid, t, n)) < 0) {
                lm_telemetry_close(t);
                return 1;
            }
    printf("%s (source %s, %ld calls x %d rounds per method, median round):\n", what,
           lm_telemetry_source(t), n, ROUNDS);
    double med[M_N];
    for (int m = 0; m < M_N; m++) {
        qsort(ns[m], ROUNDS, sizeof(double), cmp_double);
        med[m] = ns[m][ROUNDS / 2];
        printf("  %-30s %9.0f ns/call  (min %.0f, max %.0f)  read/this %5.1fx\n", method_name[m],
               med[m], ns[m][0], ns[m][ROUNDS - 1], med[M_READ] / med[m]);
    }
    lm_telemetry_close(t);
    return 0;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000;
    if (n < 1) {
        fprintf(stderr, "usage: telemetry_cost [CALLS]\n");
        return 2;
    }
    int rc = 0, keep;
    char err[LM_ERRLEN], name[64];
    lm_cgroup cg;
    snprintf(name, sizeof(name), "telemetry-cost-%d", (int)getpid());
    if (lm_cgroup_create(&cg, name, 0, err) != LM_OK) {
        printf("no cgroup rows: %s\n", err);
        memset(&cg, 0, sizeof(cg));
    }
    pid_t pid = sleeper(cg.version ? &cg : NULL, &keep);
    if (pid < 0) {
        fprintf(stderr, "cannot start the sleeping child\n");
        lm_cgroup_destroy(&cg);
        return 1;
    }
    if (cg.version) rc |= measure("cgroup", &cg, 0, n);
    rc |= measure("/proc (no cgroup)", NULL, pid, n / 4 ? n / 4 : 1);
    reap(pid, keep);
    lm_telemetry_release(&cg);
    lm_cgroup_destroy(&cg);
    return rc;
}
