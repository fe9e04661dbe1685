/* telemetry.c -- the readers of an instance's CPU and memory: a kept-open
 * handle (lm_telemetry_open: each reading one pread at offset 0 per file,
 * the per-request peak reset one pwrite on a file already open), and
 * lm_telemetry_read, which is such a handle opened for one reading and
 * closed. Which files they open comes from the source table and what the
 * texts mean from the one decoder (decode.c). Also the peak resets of the
 * open-each-time path, with the v2 memory.peak files they keep open. The
 * sampler thread is sampler.c. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The room for the texts of one reading, packed one after the other:
 * /proc's stat and status are about 2 KB together, a cgroup file is a line
 * (so a v1 reading's five numbers share a cache line or two). */
#define TEXT_ROOM 8192

/* The files of one instance, by role (LM__CPU ...); what each role is for
 * each source is the table's. The peak file is opened for writing when the
 * kernel allows a reset through it (can_reset); /proc's (clear_refs) is
 * written only. */
struct lm_telemetry {
    const lm__source *src;
    int fd[LM__ROLES]; /* -1: not open */
    int can_reset;
    long hz;                   /* USER_HZ, for /proc */
    char gone[96];             /* what a failed open or read most likely means */
    char path[LM__ROLES][300]; /* for messages */
};

/* How a handle is opened: KEEP for lm_telemetry_open (files kept for many
 * readings and resets); ONCE for lm_telemetry_read's one reading (no file
 * opened for writing, no trial reading). */
enum { KEEP, ONCE };

static const char gone_cg[] = "the instance's cgroup is gone: read before lm_instance_stop";

/* Opens the table's file for role in dir; LM_ERR with err naming it. */
static int open_role(lm_telemetry *t, int role, const char *dir, int flags, char *err) {
    if (lm_pathf(t->path[role], sizeof(t->path[role]), "%s/%s", dir, t->src->file[role]) != LM_OK)
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

/* The memory files of dir: MEM, then the peak file. A kept handle opens a
 * readable peak file for writing when the kernel offers a reset through it
 * (v2 before 6.12 refuses memory.peak for writing), else read-only; a
 * written-only one (clear_refs) only when kept. An optional peak file (v2
 * before 5.19) may be missing: the peak is then unknown. */
static int open_memory(lm_telemetry *t, const char *dir, int mode, char *err) {
    if (open_role(t, LM__MEM, dir, O_RDONLY, err) != LM_OK) return LM_ERR;
    int readable = (t->src->sample & LM__ROLE(LM__PEAK)) != 0;
    int optional = (t->src->optional & LM__ROLE(LM__PEAK)) != 0;
    if (mode == KEEP && open_role(t, LM__PEAK, dir, readable ? O_RDWR : O_WRONLY, NULL) == LM_OK) {
        t->can_reset = 1;
        return LM_OK;
    }
    if (!readable || open_role(t, LM__PEAK, dir, O_RDONLY, optional ? NULL : err) == LM_OK)
        return LM_OK;
    return optional ? LM_OK : LM_ERR;
}

static int open_v1(lm_telemetry *t, const lm_cgroup *cg, int mode, char *err) {
    t->src = lm__source_of(LM_USAGE_CGROUP_V1);
    if (open_memory(t, cg->memory_dir, mode, err) != LM_OK) return LM_ERR;
    /* cpuacct is its own hierarchy or co-mounted (cpu,cpuacct): the first
     * directory of the group that has cpuacct.usage. */
    const char *dir = NULL;
    for (int i = 0; i < cg->ndirs && !dir; i++)
        if (open_role(t, LM__CPU, cg->dirs[i], O_RDONLY, NULL) == LM_OK) dir = cg->dirs[i];
    if (!dir)
        return lm_errf(err, "cgroup %s has no cpuacct.usage: mount the cpuacct v1 controller",
                       cg->memory_dir);
    if (open_role(t, LM__USER, dir, O_RDONLY, NULL) == LM_OK &&
        open_role(t, LM__SYS, dir, O_RDONLY, NULL) == LM_OK)
        return LM_OK;
    /* Kernels before 4.7: the split from cpuacct.stat. */
    close_role(t, LM__USER);
    close_role(t, LM__SYS);
    t->src = lm__source_of(LM_USAGE_CGROUP_V1_STAT);
    return open_role(t, LM__USER, dir, O_RDONLY, err);
}

static int open_v2(lm_telemetry *t, const lm_cgroup *cg, int mode, char *err) {
    t->src = lm__source_of(LM_USAGE_CGROUP_V2);
    if (open_role(t, LM__CPU, cg->dirs[0], O_RDONLY, err) != LM_OK) return LM_ERR;
    return open_memory(t, cg->memory_dir, mode, err);
}

static int open_proc(lm_telemetry *t, pid_t pid, int mode, char *err) {
    char dir[32];
    snprintf(dir, sizeof(dir), "/proc/%d", (int)pid);
    snprintf(t->gone, sizeof(t->gone), "process %d has ended", (int)pid);
    t->src = lm__source_of(LM_USAGE_PROC);
    t->hz = sysconf(_SC_CLK_TCK);
    if (open_role(t, LM__CPU, dir, O_RDONLY, err) != LM_OK) return LM_ERR;
    return open_memory(t, dir, mode, err);
}

/* Opens into t the files of the source that cg and pid select (as
 * lm_telemetry_open says). On LM_ERR t holds what was opened: close_files
 * it either way. */
static int open_files(lm_telemetry *t, const lm_cgroup *cg, pid_t pid, int mode, char *err) {
    t->src = NULL;
    t->can_reset = 0;
    t->hz = 0;
    for (int i = 0; i < LM__ROLES; i++)
        t->fd[i] = -1;
    snprintf(t->gone, sizeof(t->gone), "%s", gone_cg);
    if (cg && cg->version == 1 && cg->ndirs > 0) return open_v1(t, cg, mode, err);
    if (cg && cg->version == 2 && cg->ndirs > 0) return open_v2(t, cg, mode, err);
    if (pid > 0) return open_proc(t, pid, mode, err);
    return lm_errf(err, "telemetry: the instance has neither a cgroup nor a pid (start it first)");
}

static void close_files(lm_telemetry *t) {
    for (int i = 0; i < LM__ROLES; i++)
        close_role(t, i);
}

/* One pread at offset 0 into buf, NUL-terminated; *len its length. The
 * files are kernel texts generated whole on each read from offset 0, so
 * one call returns all of a file that fits. */
static int pread_text(const lm_telemetry *t, int role, char *buf, size_t n, size_t *len,
                      char *err) {
    ssize_t r;
    do
        r = pread(t->fd[role], buf, n - 1, 0);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return lm_errf(err, "cannot read %s: %s (%s)", t->path[role], strerror(errno), t->gone);
    buf[r] = 0;
    *len = (size_t)r;
    return LM_OK;
}

/* The v2 memory.peak files lm_telemetry_reset_peak keeps open, one per
 * group: the kernel's reset holds only for reads through the same open
 * file, so lm_telemetry_read reads the peak through them. */
#define KEPT_MAX 256
static struct {
    char dir[256];
    int fd;
} kept[KEPT_MAX];
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;

/* memory.peak through the kept file of dir into buf, NUL-terminated, *len
 * its length; LM_ERR when none is kept or it cannot be read. */
static int kept_peak_text(const char *dir, char *buf, size_t n, size_t *len) {
    int rc = LM_ERR;
    pthread_mutex_lock(&kept_mu);
    for (int i = 0; i < KEPT_MAX; i++)
        if (kept[i].dir[0] && strcmp(kept[i].dir, dir) == 0) {
            ssize_t r = pread(kept[i].fd, buf, n - 1, 0);
            if (r > 0) {
                buf[r] = 0;
                *len = (size_t)r;
                rc = LM_OK;
            }
            break;
        }
    pthread_mutex_unlock(&kept_mu);
    return rc;
}

/* One reading: the roles in mask that t has open, each read into the next
 * free part of one area, then decoded. With kept_dir (lm_telemetry_read on
 * v2) the peak comes through the kept memory.peak of that directory when
 * there is one. LM_ERR with err and out zeroed. */
static int take(const lm_telemetry *t, unsigned mask, const char *kept_dir, lm_usage *out,
                char *err) {
    char area[TEXT_ROOM];
    size_t used = 0;
    lm__texts x = {.hz = t->hz};
    for (int r = 0; r < LM__ROLES; r++) {
        if (!(mask & LM__ROLE(r)) || t->fd[r] < 0) continue;
        char *text = area + used;
        size_t room = sizeof(area) - used, len = 0;
        int via_kept =
            r == LM__PEAK && kept_dir && kept_peak_text(kept_dir, text, room, &len) == LM_OK;
        if (!via_kept && pread_text(t, r, text, room, &len, err) != LM_OK) {
            memset(out, 0, sizeof(*out));
            return LM_ERR;
        }
        x.text[r] = text;
        x.name[r] = t->path[r];
        used += len + 1;
    }
    return lm__usage_decode(t->src->source, &x, out, err);
}

lm_telemetry *lm_telemetry_open(const lm_cgroup *cg, pid_t pid, char *err) {
    lm_telemetry *t = malloc(sizeof(*t));
    if (!t) {
        lm_errf(err, "telemetry: out of memory");
        return NULL;
    }
    int rc = open_files(t, cg, pid, KEEP, err);
    /* A trial reading: files that cannot be parsed fail here, not on the
     * hot path. */
    lm_usage u;
    if (rc == LM_OK) rc = take(t, t->src->sample, NULL, &u, err);
    if (rc != LM_OK) {
        lm_telemetry_close(t);
        return NULL;
    }
    return t;
}

int lm_telemetry_sample(lm_telemetry *t, lm_usage *out, char *err) {
    return take(t, t->src->sample, NULL, out, err);
}

/* Resets the peak through the handle's peak file, with what the table says
 * that kernel takes. */
static int reset_peak(lm_telemetry *t, char *err) {
    if (!t->can_reset) return LM_OK;
    const char *what = t->src->reset;
    size_t len = strlen(what);
    ssize_t w;
    do
        w = pwrite(t->fd[LM__PEAK], what, len, 0);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)len)
        return lm_errf(err, "cannot reset the peak through %s: %s (%s)", t->path[LM__PEAK],
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
    lm_usage u;
    int rc = take(t, t->src->mark, NULL, &u, err);
    if (rc == LM_OK) rc = reset_peak(t, err);
    /* Without the split files the exact total is all in cpu_user_ns; on
     * /proc it is the two tick counts, as a sample has them. */
    *cpu_ns = rc == LM_OK ? u.cpu_user_ns + u.cpu_system_ns : 0;
    *mem_peak_bytes = rc == LM_OK ? u.mem_peak_bytes : 0;
    return rc;
}

int lm_telemetry_resets_peak(const lm_telemetry *t) { return t && t->can_reset; }

const char *lm_telemetry_source(const lm_telemetry *t) {
    return lm_usage_source_name(t ? t->src->source : LM_USAGE_NONE);
}

void lm_telemetry_close(lm_telemetry *t) {
    if (!t) return;
    close_files(t);
    free(t);
}

int lm_telemetry_read(const lm_cgroup *cg, pid_t pid, lm_usage *out, char *err) {
    lm_telemetry t;
    int rc = open_files(&t, cg, pid, ONCE, err);
    if (rc == LM_OK) {
        const char *kept_dir = t.src->source == LM_USAGE_CGROUP_V2 ? cg->memory_dir : NULL;
        rc = take(&t, t.src->sample, kept_dir, out, err);
    }
    close_files(&t);
    if (rc != LM_OK) memset(out, 0, sizeof(*out));
    return rc;
}

/* The peak resets of the open-each-time path. */

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
    const lm__source *src =
        lm__source_of(cg->version == 1 ? LM_USAGE_CGROUP_V1 : LM_USAGE_CGROUP_V2);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", cg->memory_dir, src->file[LM__PEAK]);
    if (cg->version == 1) return write_file(path, src->reset);
    /* v2: the reset belongs to the open file, so keep one per group. */
    size_t len = strlen(src->reset);
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
        if (fd >= 0 && pwrite(fd, src->reset, len, 0) == (ssize_t)len) {
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
    const lm__source *src = lm__source_of(LM_USAGE_PROC);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, src->file[LM__PEAK]);
    return write_file(path, src->reset);
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
