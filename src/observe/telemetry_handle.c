/* telemetry_handle.c -- kept-open telemetry files of one instance: a
 * reading is one pread at offset 0 per file instead of an open, a read and
 * a close per file (lm_telemetry_read), and the per-request peak reset is
 * one pwrite on a file already open. */
#include "telemetry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS_PER_S 1000000000ull

/* The files a handle keeps, by role; -1 marks one not kept.
 *   v1:    F_CPU cpuacct.usage, F_USER cpuacct.usage_user (or cpuacct.stat
 *          for LM_USAGE_CGROUP_V1_STAT), F_SYS cpuacct.usage_sys,
 *          F_MEM memory.usage_in_bytes, F_PEAK memory.max_usage_in_bytes.
 *   v2:    F_CPU cpu.stat, F_MEM memory.current, F_PEAK memory.peak.
 *   /proc: F_CPU stat, F_MEM status (VmRSS and VmHWM), F_PEAK clear_refs
 *          (written only).
 * F_PEAK is opened for writing when the kernel allows it (can_reset). */
enum { F_CPU, F_USER, F_SYS, F_MEM, F_PEAK, F_N };

struct lm_telemetry {
    int source; /* LM_USAGE_* */
    int fd[F_N];
    int can_reset;
    long hz;             /* USER_HZ, for /proc */
    char gone[96];       /* what a failed open or read most likely means */
    char path[F_N][300]; /* for messages */
};

static const char gone_cg[] = "the instance's cgroup is gone: read before lm_instance_stop";

/* Opens dir/file for role; LM_ERR with err naming it. */
static int open_role(lm_telemetry *t, int role, const char *dir, const char *file, int flags,
                     char *err) {
    if (lm_pathf(t->path[role], sizeof(t->path[role]), "%s/%s", dir, file) != LM_OK)
        return lm_errf(err, "path too long: %s", t->path[role]);
    t->fd[role] = open(t->path[role], flags | O_CLOEXEC);
    if (t->fd[role] < 0)
        return lm_errf(err, "cannot open %s: %s (%s)", t->path[role], strerror(errno), t->gone);
    return LM_OK;
}

static void close_role(lm_telemetry *t, int role) {
    if (t->fd[role] >= 0) close(t->fd[role]);
    t->fd[role] = -1;
}

/* The peak file, writable when the kernel offers a reset through it (v2
 * before 6.12 refuses to open memory.peak for writing), else read-only. */
static int open_peak(lm_telemetry *t, const char *dir, const char *file, char *err) {
    if (open_role(t, F_PEAK, dir, file, O_RDWR, NULL) == LM_OK) {
        t->can_reset = 1;
        return LM_OK;
    }
    return open_role(t, F_PEAK, dir, file, O_RDONLY, err);
}

static int open_v1(lm_telemetry *t, const lm_cgroup *cg, char *err) {
    if (open_role(t, F_MEM, cg->memory_dir, "memory.usage_in_bytes", O_RDONLY, err) != LM_OK ||
        open_peak(t, cg->memory_dir, "memory.max_usage_in_bytes", err) != LM_OK)
        return LM_ERR;
    /* cpuacct is its own hierarchy or co-mounted: the first directory of
     * the group that has cpuacct.usage, as lm_telemetry_read chooses. */
    const char *dir = NULL;
    for (int i = 0; i < cg->ndirs && !dir; i++)
        if (open_role(t, F_CPU, cg->dirs[i], "cpuacct.usage", O_RDONLY, NULL) == LM_OK)
            dir = cg->dirs[i];
    if (!dir)
        return lm_errf(err, "cgroup %s has no cpuacct.usage: mount the cpuacct v1 controller",
                       cg->memory_dir);
    if (open_role(t, F_USER, dir, "cpuacct.usage_user", O_RDONLY, NULL) == LM_OK &&
        open_role(t, F_SYS, dir, "cpuacct.usage_sys", O_RDONLY, NULL) == LM_OK) {
        t->source = LM_USAGE_CGROUP_V1;
        return LM_OK;
    }
    /* Kernels before 4.7: the split from cpuacct.stat. */
    close_role(t, F_USER);
    close_role(t, F_SYS);
    t->source = LM_USAGE_CGROUP_V1_STAT;
    return open_role(t, F_USER, dir, "cpuacct.stat", O_RDONLY, err);
}

static int open_v2(lm_telemetry *t, const lm_cgroup *cg, char *err) {
    t->source = LM_USAGE_CGROUP_V2;
    if (open_role(t, F_CPU, cg->dirs[0], "cpu.stat", O_RDONLY, err) != LM_OK ||
        open_role(t, F_MEM, cg->memory_dir, "memory.current", O_RDONLY, err) != LM_OK)
        return LM_ERR;
    /* memory.peak exists from Linux 5.19: without it the peak is unknown. */
    if (open_peak(t, cg->memory_dir, "memory.peak", NULL) != LM_OK) t->fd[F_PEAK] = -1;
    return LM_OK;
}

static int open_proc(lm_telemetry *t, pid_t pid, char *err) {
    char dir[32];
    snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
    snprintf(t->gone, sizeof(t->gone), "process %d has ended", (int)pid);
    t->source = LM_USAGE_PROC;
    t->hz = sysconf(_SC_CLK_TCK);
    if (t->hz <= 0) t->hz = 100;
    if (open_role(t, F_CPU, dir, "stat", O_RDONLY, err) != LM_OK ||
        open_role(t, F_MEM, dir, "status", O_RDONLY, err) != LM_OK)
        return LM_ERR;
    if (open_role(t, F_PEAK, dir, "clear_refs", O_WRONLY, NULL) == LM_OK) t->can_reset = 1;
    return LM_OK;
}

lm_telemetry *lm_telemetry_open(const lm_cgroup *cg, pid_t pid, char *err) {
    lm_telemetry *t = calloc(1, sizeof(*t));
    if (!t) {
        lm_errf(err, "telemetry: out of memory");
        return NULL;
    }
    for (int i = 0; i < F_N; i++)
        t->fd[i] = -1;
    snprintf(t->gone, sizeof(t->gone), "%s", gone_cg);
    int rc;
    if (cg && cg->version == 1 && cg->ndirs > 0)
        rc = open_v1(t, cg, err);
    else if (cg && cg->version == 2 && cg->ndirs > 0)
        rc = open_v2(t, cg, err);
    else if (pid > 0)
        rc = open_proc(t, pid, err);
    else
        rc =
            lm_errf(err, "telemetry: the instance has neither a cgroup nor a pid (start it first)");
    /* A trial reading: files that cannot be parsed fail here, not on the
     * hot path. */
    lm_usage u;
    if (rc == LM_OK) rc = lm_telemetry_sample(t, &u, err);
    if (rc != LM_OK) {
        lm_telemetry_close(t);
        return NULL;
    }
    return t;
}

/* One pread at offset 0 into buf, NUL-terminated. The files are kernel
 * texts generated whole on each read from offset 0, so one call returns
 * all of a file that fits. */
static int pread_text(const lm_telemetry *t, int role, char *buf, size_t n, char *err) {
    ssize_t r;
    do
        r = pread(t->fd[role], buf, n - 1, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return lm_errf(err, "cannot read %s: %s (%s)", t->path[role], strerror(errno), t->gone);
    buf[r] = 0;
    return LM_OK;
}

static int pread_num(const lm_telemetry *t, int role, uint64_t *v, char *err) {
    char buf[32], *end;
    if (pread_text(t, role, buf, sizeof(buf), err) != LM_OK) return LM_ERR;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 10);
    if (end == buf || (x == ULLONG_MAX && errno == ERANGE))
        return lm_errf(err, "%s holds no number: \"%.20s\"", t->path[role], buf);
    *v = x;
    return LM_OK;
}

static int sample_v1(const lm_telemetry *t, lm_usage *out, char *err) {
    uint64_t total, user, sys;
    if (pread_num(t, F_CPU, &total, err) != LM_OK) return LM_ERR;
    if (t->source == LM_USAGE_CGROUP_V1) {
        if (pread_num(t, F_USER, &user, err) != LM_OK || pread_num(t, F_SYS, &sys, err) != LM_OK)
            return LM_ERR;
    } else {
        char buf[256];
        if (pread_text(t, F_USER, buf, sizeof(buf), err) != LM_OK) return LM_ERR;
        if (lm__text_key(buf, "user", &user) != LM_OK || lm__text_key(buf, "system", &sys) != LM_OK)
            return lm_errf(err, "%s lacks user or system", t->path[F_USER]);
    }
    lm__usage_split(total, user, sys, out);
    if (pread_num(t, F_MEM, &out->mem_current_bytes, err) != LM_OK ||
        pread_num(t, F_PEAK, &out->mem_peak_bytes, err) != LM_OK)
        return LM_ERR;
    return LM_OK;
}

static int sample_v2(const lm_telemetry *t, lm_usage *out, char *err) {
    char buf[1024];
    uint64_t total, user, sys;
    if (pread_text(t, F_CPU, buf, sizeof(buf), err) != LM_OK) return LM_ERR;
    if (lm__text_key(buf, "usage_usec", &total) != LM_OK ||
        lm__text_key(buf, "user_usec", &user) != LM_OK ||
        lm__text_key(buf, "system_usec", &sys) != LM_OK)
        return lm_errf(err, "%s lacks usage_usec, user_usec or system_usec", t->path[F_CPU]);
    lm__usage_split(total * 1000, user, sys, out);
    if (pread_num(t, F_MEM, &out->mem_current_bytes, err) != LM_OK) return LM_ERR;
    if (t->fd[F_PEAK] >= 0 && pread_num(t, F_PEAK, &out->mem_peak_bytes, err) != LM_OK)
        return LM_ERR;
    return LM_OK;
}

/* utime and stime (fields 14 and 15) of a /proc/<pid>/stat text. The name
 * in parentheses may hold spaces and ')': fields follow the last ')', and
 * field 3 (state) comes first. */
static int stat_times(char *text, uint64_t *ut, uint64_t *st) {
    char *p = strrchr(text, ')');
    for (int field = 2; p && field < 14; field++)
        p = strchr(p + 1, ' ');
    if (!p) return LM_ERR;
    char *end, *end2;
    *ut = strtoull(p + 1, &end, 10);
    *st = strtoull(end, &end2, 10);
    return end == p + 1 || end2 == end ? LM_ERR : LM_OK;
}

static int sample_proc(const lm_telemetry *t, lm_usage *out, char *err) {
    char buf[4096];
    uint64_t ut, st;
    if (pread_text(t, F_CPU, buf, sizeof(buf), err) != LM_OK) return LM_ERR;
    if (stat_times(buf, &ut, &st) != LM_OK) return lm_errf(err, "cannot parse %s", t->path[F_CPU]);
    out->cpu_user_ns = ut * NS_PER_S / (uint64_t)t->hz;
    out->cpu_system_ns = st * NS_PER_S / (uint64_t)t->hz;
    if (pread_text(t, F_MEM, buf, sizeof(buf), err) != LM_OK) return LM_ERR;
    /* A zombie has no Vm lines: its memory is 0. */
    const char *rss = strstr(buf, "\nVmRSS:"), *hwm = strstr(buf, "\nVmHWM:");
    out->mem_current_bytes = rss ? strtoull(rss + 7, NULL, 10) * 1024 : 0;
    out->mem_peak_bytes = hwm ? strtoull(hwm + 7, NULL, 10) * 1024 : 0;
    return LM_OK;
}

int lm_telemetry_sample(lm_telemetry *t, lm_usage *out, char *err) {
    memset(out, 0, sizeof(*out));
    int rc;
    switch (t->source) {
    case LM_USAGE_CGROUP_V1:
    case LM_USAGE_CGROUP_V1_STAT: rc = sample_v1(t, out, err); break;
    case LM_USAGE_CGROUP_V2: rc = sample_v2(t, out, err); break;
    default: rc = sample_proc(t, out, err); break;
    }
    if (rc != LM_OK) {
        memset(out, 0, sizeof(*out));
        return LM_ERR;
    }
    out->source = t->source;
    return LM_OK;
}

/* Resets the peak through the handle's peak file. */
static int reset_peak(lm_telemetry *t, char *err) {
    if (!t->can_reset) return LM_OK;
    /* What each kernel takes: v1 ignores the value, v2 wants "reset",
     * clear_refs 5 resets VmHWM. */
    const char *what = t->source == LM_USAGE_CGROUP_V2 ? "reset\n"
                       : t->source == LM_USAGE_PROC    ? "5"
                                                       : "0";
    size_t len = strlen(what);
    ssize_t w;
    do
        w = pwrite(t->fd[F_PEAK], what, len, 0);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)len)
        return lm_errf(err, "cannot reset the peak through %s: %s (%s)", t->path[F_PEAK],
                       w < 0 ? strerror(errno) : "short write", t->gone);
    return LM_OK;
}

int lm_telemetry_sample_and_reset(lm_telemetry *t, lm_usage *out, char *err) {
    if (lm_telemetry_sample(t, out, err) != LM_OK) return LM_ERR;
    if (reset_peak(t, err) != LM_OK) {
        memset(out, 0, sizeof(*out));
        return LM_ERR;
    }
    return LM_OK;
}

int lm_telemetry_mark(lm_telemetry *t, uint64_t *cpu_ns, uint64_t *mem_peak_bytes, char *err) {
    *cpu_ns = *mem_peak_bytes = 0;
    int rc;
    if (t->source == LM_USAGE_CGROUP_V1 || t->source == LM_USAGE_CGROUP_V1_STAT) {
        rc = pread_num(t, F_CPU, cpu_ns, err);
        if (rc == LM_OK) rc = pread_num(t, F_PEAK, mem_peak_bytes, err);
    } else if (t->source == LM_USAGE_CGROUP_V2) {
        char buf[1024];
        uint64_t usec = 0;
        rc = pread_text(t, F_CPU, buf, sizeof(buf), err);
        if (rc == LM_OK && lm__text_key(buf, "usage_usec", &usec) != LM_OK)
            rc = lm_errf(err, "%s lacks usage_usec", t->path[F_CPU]);
        *cpu_ns = usec * 1000;
        if (rc == LM_OK && t->fd[F_PEAK] >= 0) rc = pread_num(t, F_PEAK, mem_peak_bytes, err);
    } else {
        lm_usage u;
        rc = sample_proc(t, &u, err);
        *cpu_ns = u.cpu_user_ns + u.cpu_system_ns;
        *mem_peak_bytes = u.mem_peak_bytes;
    }
    if (rc == LM_OK) rc = reset_peak(t, err);
    if (rc != LM_OK) *cpu_ns = *mem_peak_bytes = 0;
    return rc;
}

int lm_telemetry_resets_peak(const lm_telemetry *t) { return t && t->can_reset; }

const char *lm_telemetry_source(const lm_telemetry *t) {
    return lm_usage_source_name(t ? t->source : LM_USAGE_NONE);
}

void lm_telemetry_close(lm_telemetry *t) {
    if (!t) return;
    for (int i = 0; i < F_N; i++)
        close_role(t, i);
    free(t);
}
