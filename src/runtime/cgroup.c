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
    lm_cgroup_limits lim = {.memory_limit = memory_limit};
    return lm_cgroup_plan_in(cg, name, &lim, steps, max, nsteps, err);
}

int lm_cgroup_plan_in(lm_cgroup *cg, const char *name, const lm_cgroup_limits *lim,
                      lm_cgroup_step *steps, int max, int *nsteps, char *err) {
    static const lm_cgroup_limits none;
    if (!lim) lim = &none;
    uint64_t memory_limit = lim->memory_limit;
    memset(cg, 0, sizeof(*cg));
    *nsteps = 0;
    int v = lm_cgroup_version(err);
    if (!v) return LM_ERR;
    char limit[32], path[300], sub[160];
    snprintf(limit, sizeof(limit), "%llu", (unsigned long long)memory_limit);
    /* The group's path below lumos/: under its parent (a node's), if any. */
    if (lim->parent && *lim->parent)
        snprintf(sub, sizeof(sub), "%s/%s", lim->parent, name);
    else
        snprintf(sub, sizeof(sub), "%s", name);
    /* A parent from the hierarchy's root ("/lumos-nodes/node-pi4-7"): the
     * group is <root>/<parent>/<name>, and its owner made the parent. */
    int abs_parent = lim->parent && lim->parent[0] == '/';
    int rc = LM_OK;
    int cpu_dir = -1;
    if (v == 2) {
        /* Controllers must be enabled for the children of lumos/. */
        rc |= step(steps, max, nsteps, 'd', ROOT "/lumos", NULL);
        rc |= step(steps, max, nsteps, 't', ROOT "/cgroup.subtree_control", "+memory +cpu +pids");
        rc |= step(steps, max, nsteps, 't', ROOT "/lumos/cgroup.subtree_control",
                   "+memory +cpu +pids");
        if (abs_parent)
            snprintf(cg->dirs[0], sizeof(cg->dirs[0]), ROOT "%s", sub);
        else
            snprintf(cg->dirs[0], sizeof(cg->dirs[0]), ROOT "/lumos/%s", sub);
        rc |= step(steps, max, nsteps, 'd', cg->dirs[0], NULL);
        cg->ndirs = 1;
        cpu_dir = 0;
        if (memory_limit) {
            snprintf(path, sizeof(path), "%s/memory.max", cg->dirs[0]);
            rc |= step(steps, max, nsteps, 'w', path, limit);
            snprintf(path, sizeof(path), "%s/memory.swap.max", cg->dirs[0]);
            rc |= step(steps, max, nsteps, 't', path, "0");
        }
    } else {
        size_t nctl = sizeof(v1_controllers) / sizeof(v1_controllers[0]);
        for (size_t i = 0; i < nctl + (lim->cpuset ? 1 : 0); i++) {
            const char *ctl = i < nctl ? v1_controllers[i] : "cpuset";
            char base[64];
            snprintf(base, sizeof(base), ROOT "/%s", ctl);
            if (access(base, W_OK) != 0) continue; /* a hierarchy this machine lacks */
            char *d = cg->dirs[cg->ndirs];
            if (abs_parent) {
                snprintf(d, sizeof(cg->dirs[0]), "%s%s", base, sub);
            } else {
                snprintf(path, sizeof(path), "%s/lumos", base);
                rc |= step(steps, max, nsteps, 'd', path, NULL);
                snprintf(d, sizeof(cg->dirs[0]), "%s/lumos/%s", base, sub);
            }
            rc |= step(steps, max, nsteps, 'd', d, NULL);
            if (strcmp(ctl, "cpu") == 0) cpu_dir = cg->ndirs;
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
    if (lim->cpu_quota_us > 0 && cpu_dir >= 0) {
        char q[32], per[32];
        long long period = lim->cpu_period_us > 0 ? lim->cpu_period_us : 100000;
        snprintf(q, sizeof(q), "%lld", (long long)lim->cpu_quota_us);
        snprintf(per, sizeof(per), "%lld", period);
        if (v == 2) {
            char both[32];
            snprintf(both, sizeof(both), "%lld %lld", (long long)lim->cpu_quota_us, period);
            snprintf(path, sizeof(path), "%s/cpu.max", cg->dirs[cpu_dir]);
            rc |= step(steps, max, nsteps, 'w', path, both);
        } else {
            /* The period first: a quota is checked against the period in force. */
            snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", cg->dirs[cpu_dir]);
            rc |= step(steps, max, nsteps, 'w', path, per);
            snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", cg->dirs[cpu_dir]);
            rc |= step(steps, max, nsteps, 'w', path, q);
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
    lm_cgroup_limits lim = {.memory_limit = memory_limit};
    return lm_cgroup_create_in(cg, name, &lim, err);
}

int lm_cgroup_create_in(lm_cgroup *cg, const char *name, const lm_cgroup_limits *lim, char *err) {
    lm_cgroup_step steps[LM_CGROUP_MAX_STEPS];
    int n;
    if (lm_cgroup_plan_in(cg, name, lim, steps, LM_CGROUP_MAX_STEPS, &n, err) != LM_OK)
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
