/* cgroup.c -- per-instance control groups on v1 and v2: create with limits,
 * place a child, count OOM kills, remove. Reading usage is telemetry's
 * (src/observe/telemetry.h). */
#include "cgroup.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROOT "/sys/fs/cgroup"

/* v1 hierarchies Lumos uses; memory first (it holds the limit). */
static const char *const v1_controllers[] = {"memory", "cpuacct", "cpu", "pids"};

static int write_str(const char *path, const char *s) {
    FILE *f = fopen(path, "w");
    if (!f) return LM_ERR;
    int ok = fputs(s, f) >= 0;
    ok &= fclose(f) == 0;
    return ok ? LM_OK : LM_ERR;
}

/* The value of "key N" in a flat-keyed file (memory.events, oom_control). */
static uint64_t read_key(const char *dir, const char *file, const char *key) {
    char path[512], line[256];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    uint64_t v = 0;
    size_t klen = strlen(key);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
            v = strtoull(line + klen + 1, NULL, 10);
    fclose(f);
    return v;
}

int lm_cgroup_version(char *err) {
    if (access(ROOT "/cgroup.controllers", F_OK) == 0) {
        if (access(ROOT, W_OK) != 0)
            return lm_errf(err, "cgroup v2 at " ROOT " is not writable (run as root)"), 0;
        return 2;
    }
    if (access(ROOT "/memory/cgroup.procs", F_OK) == 0) {
        if (access(ROOT "/memory", W_OK) != 0)
            return lm_errf(err, "cgroup v1 at " ROOT "/memory is not writable (run as root)"), 0;
        return 1;
    }
    lm_errf(err, "no cgroup hierarchy with a memory controller under " ROOT);
    return 0;
}

static int make_dir(const char *path, char *err) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return lm_errf(err, "cannot create cgroup %s: %s", path, strerror(errno));
    return LM_OK;
}

int lm_cgroup_create(lm_cgroup *cg, const char *name, uint64_t memory_limit, char *err) {
    memset(cg, 0, sizeof(*cg));
    int v = lm_cgroup_version(err);
    if (!v) return LM_ERR;
    char limit[32];
    snprintf(limit, sizeof(limit), "%llu", (unsigned long long)memory_limit);
    if (v == 2) {
        /* Controllers must be enabled for the children of lumos/. */
        if (make_dir(ROOT "/lumos", err) != LM_OK) return LM_ERR;
        write_str(ROOT "/cgroup.subtree_control", "+memory +cpu +pids");
        write_str(ROOT "/lumos/cgroup.subtree_control", "+memory +cpu +pids");
        snprintf(cg->dirs[0], sizeof(cg->dirs[0]), ROOT "/lumos/%s", name);
        if (make_dir(cg->dirs[0], err) != LM_OK) return LM_ERR;
        cg->ndirs = 1;
        snprintf(cg->memory_dir, sizeof(cg->memory_dir), "%s", cg->dirs[0]);
        if (memory_limit) {
            char path[300];
            snprintf(path, sizeof(path), "%s/memory.max", cg->dirs[0]);
            if (write_str(path, limit) != LM_OK) {
                lm_cgroup_destroy(cg);
                return lm_errf(err, "cannot set %s: %s", path, strerror(errno));
            }
            snprintf(path, sizeof(path), "%s/memory.swap.max", cg->dirs[0]);
            write_str(path, "0");
        }
    } else {
        for (size_t i = 0; i < sizeof(v1_controllers) / sizeof(v1_controllers[0]); i++) {
            char base[64];
            snprintf(base, sizeof(base), ROOT "/%s", v1_controllers[i]);
            if (access(base, W_OK) != 0) continue; /* a hierarchy this machine lacks */
            char parent[300];
            snprintf(parent, sizeof(parent), "%s/lumos", base);
            if (make_dir(parent, err) != LM_OK) return LM_ERR;
            char *d = cg->dirs[cg->ndirs];
            snprintf(d, sizeof(cg->dirs[0]), "%s/lumos/%s", base, name);
            if (make_dir(d, err) != LM_OK) {
                lm_cgroup_destroy(cg);
                return LM_ERR;
            }
            cg->ndirs++;
        }
        snprintf(cg->memory_dir, sizeof(cg->memory_dir), "%s", cg->dirs[0]);
        if (memory_limit) {
            char path[300];
            snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", cg->dirs[0]);
            if (write_str(path, limit) != LM_OK) {
                lm_cgroup_destroy(cg);
                return lm_errf(err, "cannot set %s: %s", path, strerror(errno));
            }
            /* Where swap accounting exists, memory+swap gets the same limit. */
            snprintf(path, sizeof(path), "%s/memory.memsw.limit_in_bytes", cg->dirs[0]);
            write_str(path, limit);
        }
    }
    for (int i = 0; i < cg->ndirs; i++) {
        char dir[sizeof(cg->dirs[0])];
        memcpy(dir, cg->dirs[i], sizeof(dir)); /* a copy: snprintf's buffers may not overlap */
        snprintf(cg->procs[i], sizeof(cg->procs[i]), "%s/cgroup.procs", dir);
    }
    cg->procs[cg->ndirs][0] = 0;
    cg->version = v;
    cg->memory_limit = memory_limit;
    return LM_OK;
}

const char *const *lm_cgroup_procs(const lm_cgroup *cg) {
    static __thread const char *list[LM_CGROUP_MAX_DIRS + 1];
    if (!cg || !cg->version) return NULL;
    int i = 0;
    for (; i < cg->ndirs; i++)
        list[i] = cg->procs[i];
    list[i] = NULL;
    return list;
}

uint64_t lm_cgroup_oom_kills(const lm_cgroup *cg) {
    if (!cg->version) return 0;
    return cg->version == 2 ? read_key(cg->memory_dir, "memory.events", "oom_kill")
                            : read_key(cg->memory_dir, "memory.oom_control", "oom_kill");
}

void lm_cgroup_destroy(lm_cgroup *cg) {
    for (int i = cg->ndirs - 1; i >= 0; i--) {
        /* A group with tasks cannot go: kill stragglers, then retry briefly. */
        for (int attempt = 0; attempt < 50; attempt++) {
            if (rmdir(cg->dirs[i]) == 0 || errno == ENOENT) break;
            FILE *f = fopen(cg->procs[i], "r");
            int pid;
            while (f && fscanf(f, "%d", &pid) == 1)
                kill(pid, SIGKILL);
            if (f) fclose(f);
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    }
    cg->version = 0;
    cg->ndirs = 0;
}
