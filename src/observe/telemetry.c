/* telemetry.c -- per-instance CPU and memory from cgroup v1, v2 or /proc,
 * read by opening the files each time; the peak resets. The kept-open
 * handles are telemetry_handle.c, the sampler sampler.c. */
#include "telemetry.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS_PER_S 1000000000ull

/* Reads a small file (a cgroup or /proc file) into buf, NUL-terminated.
 * LM_ERR with err naming the file and what its absence means. */
static int read_small(const char *path, char *buf, size_t n, const char *gone, char *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lm_errf(err, "cannot read %s: %s (%s)", path, strerror(errno), gone);
    size_t len = 0;
    while (len + 1 < n) {
        ssize_t r = read(fd, buf + len, n - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return lm_errf(err, "cannot read %s: %s (%s)", path, strerror(e), gone);
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = 0;
    return LM_OK;
}

/* Reads one unsigned decimal number from dir/file. */
static int read_num(const char *dir, const char *file, uint64_t *v, const char *gone, char *err) {
    char path[512], buf[64];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (read_small(path, buf, sizeof(buf), gone, err) != LM_OK) return LM_ERR;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 10);
    if (end == buf || errno) return lm_errf(err, "%s holds no number: \"%.20s\"", path, buf);
    *v = x;
    return LM_OK;
}

/* The value of "key N" in a flat-keyed text (cpu.stat, cpuacct.stat);
 * LM_ERR when the key is missing. */
int lm__text_key(const char *text, const char *key, uint64_t *v) {
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
            *v = strtoull(p + klen + 1, NULL, 10);
            return LM_OK;
        }
    return LM_ERR;
}

/* Splits an exact total in the ratio user : sys (both tick-sampled), as
 * the kernel does for /proc and cgroup v2 (cputime_adjust): all of it is
 * user time when neither part has a tick yet. */
void lm__usage_split(uint64_t total, uint64_t user, uint64_t sys, lm_usage *out) {
    if (user + sys == 0 || sys == 0) {
        out->cpu_user_ns = total;
        out->cpu_system_ns = 0;
        return;
    }
    unsigned __int128 u = (unsigned __int128)total * user / (user + sys);
    out->cpu_user_ns = (uint64_t)u;
    out->cpu_system_ns = total - (uint64_t)u;
}

/* v2's memory.peak kept open after a reset: the kernel's reset holds only
 * for reads through the same open file. */
#define KEPT_MAX 256
static struct {
    char dir[256];
    int fd;
} kept[KEPT_MAX];
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;

/* Reads memory.peak through the kept file of dir; LM_ERR when none is kept. */
static int kept_peak(const char *dir, uint64_t *v) {
    int rc = LM_ERR;
    pthread_mutex_lock(&kept_mu);
    for (int i = 0; i < KEPT_MAX; i++)
        if (kept[i].dir[0] && strcmp(kept[i].dir, dir) == 0) {
            char buf[64];
            ssize_t r = pread(kept[i].fd, buf, sizeof(buf) - 1, 0);
            if (r > 0) {
                buf[r] = 0;
                *v = strtoull(buf, NULL, 10);
                rc = LM_OK;
            }
            break;
        }
    pthread_mutex_unlock(&kept_mu);
    return rc;
}

static const char gone_cg[] = "the instance's cgroup is gone: read before lm_instance_stop";

static int read_v1(const lm_cgroup *cg, lm_usage *out, char *err) {
    /* cpuacct is its own hierarchy (or co-mounted as cpu,cpuacct): the first
     * of the group's directories that has cpuacct.usage. */
    const char *cpu_dir = NULL;
    for (int i = 0; i < cg->ndirs && !cpu_dir; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/cpuacct.usage", cg->dirs[i]);
        if (access(path, R_OK) == 0) cpu_dir = cg->dirs[i];
    }
    if (!cpu_dir) {
        /* The memory directory tells a removed group from a machine without
         * a cpuacct hierarchy. */
        if (access(cg->memory_dir, F_OK) != 0)
            return lm_errf(err, "cannot read %s: %s (%s)", cg->memory_dir, strerror(errno),
                           gone_cg);
        return lm_errf(err, "cgroup %s has no cpuacct.usage: mount the cpuacct v1 controller",
                       cg->memory_dir);
    }
    uint64_t total, user, sys;
    if (read_num(cpu_dir, "cpuacct.usage", &total, gone_cg, err) != LM_OK) return LM_ERR;
    char e2[LM_ERRLEN];
    if (read_num(cpu_dir, "cpuacct.usage_user", &user, gone_cg, e2) == LM_OK &&
        read_num(cpu_dir, "cpuacct.usage_sys", &sys, gone_cg, e2) == LM_OK) {
        out->source = LM_USAGE_CGROUP_V1;
    } else {
        /* Kernels before 4.7: cpuacct.stat in USER_HZ ticks; only the
         * ratio is used, so the unit cancels. */
        char path[512], buf[256];
        snprintf(path, sizeof(path), "%s/cpuacct.stat", cpu_dir);
        if (read_small(path, buf, sizeof(buf), gone_cg, err) != LM_OK) return LM_ERR;
        if (lm__text_key(buf, "user", &user) != LM_OK || lm__text_key(buf, "system", &sys) != LM_OK)
            return lm_errf(err, "%s lacks user or system", path);
        out->source = LM_USAGE_CGROUP_V1_STAT;
    }
    lm__usage_split(total, user, sys, out);
    if (read_num(cg->memory_dir, "memory.usage_in_bytes", &out->mem_current_bytes, gone_cg, err) !=
            LM_OK ||
        read_num(cg->memory_dir, "memory.max_usage_in_bytes", &out->mem_peak_bytes, gone_cg, err) !=
            LM_OK)
        return LM_ERR;
    return LM_OK;
}

static int read_v2(const lm_cgroup *cg, lm_usage *out, char *err) {
    const char *dir = cg->dirs[0];
    char path[512], buf[1024];
    snprintf(path, sizeof(path), "%s/cpu.stat", dir);
    if (read_small(path, buf, sizeof(buf), gone_cg, err) != LM_OK) return LM_ERR;
    uint64_t total, user, sys;
    if (lm__text_key(buf, "usage_usec", &total) != LM_OK ||
        lm__text_key(buf, "user_usec", &user) != LM_OK ||
        lm__text_key(buf, "system_usec", &sys) != LM_OK)
        return lm_errf(err, "%s lacks usage_usec, user_usec or system_usec", path);
    /* The kernel already scaled user and system to add up to the exact
     * usage (cputime_adjust); lm__usage_split() only keeps that true after rounding. */
    lm__usage_split(total * 1000, user, sys, out);
    out->source = LM_USAGE_CGROUP_V2;
    if (read_num(cg->memory_dir, "memory.current", &out->mem_current_bytes, gone_cg, err) != LM_OK)
        return LM_ERR;
    if (kept_peak(cg->memory_dir, &out->mem_peak_bytes) != LM_OK &&
        read_num(cg->memory_dir, "memory.peak", &out->mem_peak_bytes, gone_cg, err) != LM_OK)
        out->mem_peak_bytes = 0; /* before Linux 5.19: unknown */
    return LM_OK;
}

static int read_proc(pid_t pid, lm_usage *out, char *err) {
    char path[64], buf[4096], gone[96];
    snprintf(gone, sizeof(gone), "process %d has ended", (int)pid);
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_small(path, buf, sizeof(buf), gone, err) != LM_OK) return LM_ERR;
    /* The name in parentheses may hold spaces and ')': fields follow the
     * last ')'. Field 3 (state) comes first; utime is 14, stime 15. */
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return lm_errf(err, "cannot parse %s", path);
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
    out->cpu_user_ns = (uint64_t)ut * NS_PER_S / (uint64_t)hz;
    out->cpu_system_ns = (uint64_t)st * NS_PER_S / (uint64_t)hz;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (read_small(path, buf, sizeof(buf), gone, err) != LM_OK) return LM_ERR;
    /* A zombie has no Vm lines: its memory is 0. */
    const char *rss = strstr(buf, "\nVmRSS:"), *hwm = strstr(buf, "\nVmHWM:");
    out->mem_current_bytes = rss ? strtoull(rss + 7, NULL, 10) * 1024 : 0;
    out->mem_peak_bytes = hwm ? strtoull(hwm + 7, NULL, 10) * 1024 : 0;
    out->source = LM_USAGE_PROC;
    return LM_OK;
}

const char *lm_usage_source_name(int source) {
    switch (source) {
    case LM_USAGE_CGROUP_V1: return "cgroup-v1";
    case LM_USAGE_CGROUP_V1_STAT: return "cgroup-v1-stat";
    case LM_USAGE_CGROUP_V2: return "cgroup-v2";
    case LM_USAGE_PROC: return "proc";
    default: return "none";
    }
}

int lm_telemetry_read(const lm_cgroup *cg, pid_t pid, lm_usage *out, char *err) {
    memset(out, 0, sizeof(*out));
    int rc;
    if (cg && cg->version == 1 && cg->ndirs > 0)
        rc = read_v1(cg, out, err);
    else if (cg && cg->version == 2 && cg->ndirs > 0)
        rc = read_v2(cg, out, err);
    else if (pid > 0)
        rc = read_proc(pid, out, err);
    else
        rc =
            lm_errf(err, "telemetry: the instance has neither a cgroup nor a pid (start it first)");
    if (rc != LM_OK) memset(out, 0, sizeof(*out));
    return rc;
}

static int write_file(const char *path, const char *s) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return LM_ERR;
    ssize_t len = (ssize_t)strlen(s);
    int ok = write(fd, s, (size_t)len) == len;
    ok &= close(fd) == 0;
    return ok ? LM_OK : LM_ERR;
}

int lm_telemetry_reset_peak(const lm_cgroup *cg) {
    if (!cg || !cg->version || !cg->ndirs) return LM_ERR;
    char path[512];
    if (cg->version == 1) {
        snprintf(path, sizeof(path), "%s/memory.max_usage_in_bytes", cg->memory_dir);
        return write_file(path, "0");
    }
    /* v2: the reset belongs to the open file, so keep one per group. */
    snprintf(path, sizeof(path), "%s/memory.peak", cg->memory_dir);
    int rc = LM_ERR;
    pthread_mutex_lock(&kept_mu);
    int slot = -1;
    for (int i = 0; i < KEPT_MAX; i++) {
        if (kept[i].dir[0] && strcmp(kept[i].dir, cg->memory_dir) == 0) {
            slot = i;
            break;
        }
        if (!kept[i].dir[0] && slot < 0) slot = i;
    }
    if (slot >= 0) {
        int fresh = !kept[slot].dir[0];
        int fd = fresh ? open(path, O_RDWR | O_CLOEXEC) : kept[slot].fd;
        if (fd >= 0 && pwrite(fd, "reset\n", 6, 0) == 6) {
            rc = LM_OK;
            if (fresh) {
                snprintf(kept[slot].dir, sizeof(kept[slot].dir), "%s", cg->memory_dir);
                kept[slot].fd = fd;
            }
        } else if (fd >= 0 && fresh) {
            close(fd); /* a kernel before 6.12: memory.peak is read-only */
        }
    }
    pthread_mutex_unlock(&kept_mu);
    return rc;
}

int lm_telemetry_reset_peak_pid(pid_t pid) {
    if (pid <= 0) return LM_ERR;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
    return write_file(path, "5");
}

void lm_telemetry_release(const lm_cgroup *cg) {
    if (!cg || !cg->memory_dir[0]) return;
    pthread_mutex_lock(&kept_mu);
    for (int i = 0; i < KEPT_MAX; i++)
        if (kept[i].dir[0] && strcmp(kept[i].dir, cg->memory_dir) == 0) {
            close(kept[i].fd);
            kept[i].dir[0] = 0;
        }
    pthread_mutex_unlock(&kept_mu);
}

void lm_usage_delta(const lm_usage *before, const lm_usage *after, lm_usage *delta) {
    uint64_t b = before->cpu_user_ns + before->cpu_system_ns;
    uint64_t a = after->cpu_user_ns + after->cpu_system_ns;
    uint64_t total = a > b ? a - b : 0;
    uint64_t user =
        after->cpu_user_ns > before->cpu_user_ns ? after->cpu_user_ns - before->cpu_user_ns : 0;
    if (user > total) user = total;
    delta->cpu_user_ns = user;
    delta->cpu_system_ns = total - user;
    delta->mem_current_bytes = after->mem_current_bytes;
    delta->mem_peak_bytes = after->mem_peak_bytes;
    delta->source = after->source;
}
