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

/* Adds a step to the plan; LM_ERR when it is full. */
static int step(lm_cgroup_step *steps, int max, int *n, char op, const char *path,
                const char *value) {
    if (*n >= max) return LM_ERR;
    lm_cgroup_step *s = &steps[(*n)++];
    s->op = op;
    snprintf(s->path, sizeof(s->path), "%s", path);
    snprintf(s->value, sizeof(s->value), "%s", value ? value : "");
    return LM_OK;
}

int lm_cgroup_plan(lm_cgroup *cg, const char *name, uint64_t memory_limit, lm_cgroup_step *steps,
                   int max, int *nsteps, char *err) {
    memset(cg, 0, sizeof(*cg));
    *nsteps = 0;
    int v = lm_cgroup_version(err);
    if (!v) return LM_ERR;
    char limit[32], path[300];
    snprintf(limit, sizeof(limit), "%llu", (unsigned long long)memory_limit);
    int rc = LM_OK;
    if (v == 2) {
        /* Controllers must be enabled for the children of lumos/. */
        rc |= step(steps, max, nsteps, 'd', ROOT "/lumos", NULL);
        rc |= step(steps, max, nsteps, 't', ROOT "/cgroup.subtree_control", "+memory +cpu +pids");
        rc |= step(steps, max, nsteps, 't', ROOT "/lumos/cgroup.subtree_control",
                   "+memory +cpu +pids");
        snprintf(cg->dirs[0], sizeof(cg->dirs[0]), ROOT "/lumos/%s", name);
        rc |= step(steps, max, nsteps, 'd', cg->dirs[0], NULL);
        cg->ndirs = 1;
        if (memory_limit) {
            snprintf(path, sizeof(path), "%s/memory.max", cg->dirs[0]);
            rc |= step(steps, max, nsteps, 'w', path, limit);
            snprintf(path, sizeof(path), "%s/memory.swap.max", cg->dirs[0]);
            rc |= step(steps, max, nsteps, 't', path, "0");
        }
    } else {
        for (size_t i = 0; i < sizeof(v1_controllers) / sizeof(v1_controllers[0]); i++) {
            char base[64];
            snprintf(base, sizeof(base), ROOT "/%s", v1_controllers[i]);
            if (access(base, W_OK) != 0) continue; /* a hierarchy this machine lacks */
            snprintf(path, sizeof(path), "%s/lumos", base);
            rc |= step(steps, max, nsteps, 'd', path, NULL);
            char *d = cg->dirs[cg->ndirs];
            snprintf(d, sizeof(cg->dirs[0]), "%s/lumos/%s", base, name);
            rc |= step(steps, max, nsteps, 'd', d, NULL);
            cg->ndirs++;
        }
        if (memory_limit) {
            snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", cg->dirs[0]);
            rc |= step(steps, max, nsteps, 'w', path, limit);
            /* Where swap accounting exists, memory+swap gets the same limit. */
            snprintf(path, sizeof(path), "%s/memory.memsw.limit_in_bytes", cg->dirs[0]);
            rc |= step(steps, max, nsteps, 't', path, limit);
        }
    }
    if (rc != LM_OK) return lm_errf(err, "a cgroup plan of more than %d steps", max);
    snprintf(cg->memory_dir, sizeof(cg->memory_dir), "%s", cg->dirs[0]);
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

int lm_cgroup_create(lm_cgroup *cg, const char *name, uint64_t memory_limit, char *err) {
    lm_cgroup_step steps[LM_CGROUP_MAX_STEPS];
    int n;
    if (lm_cgroup_plan(cg, name, memory_limit, steps, LM_CGROUP_MAX_STEPS, &n, err) != LM_OK)
        return LM_ERR;
    for (int i = 0; i < n; i++) {
        const lm_cgroup_step *s = &steps[i];
        if (s->op == 'd' && mkdir(s->path, 0755) != 0 && errno != EEXIST) {
            lm_errf(err, "cannot create cgroup %s: %s", s->path, strerror(errno));
            lm_cgroup_destroy(cg);
            return LM_ERR;
        }
        if (s->op != 'd' && write_str(s->path, s->value) != LM_OK && s->op == 'w') {
            lm_errf(err, "cannot set %s: %s", s->path, strerror(errno));
            lm_cgroup_destroy(cg);
            return LM_ERR;
        }
    }
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
