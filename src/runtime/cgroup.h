/* cgroup.h -- one control group per function instance, on cgroup v1
 * (separate memory, cpu, cpuacct and pids hierarchies) or v2 (one unified
 * tree), behind one interface: create with a memory limit, let a child join
 * before it execs, tell whether the kernel's OOM killer struck, remove.
 * Groups live under "lumos/" in each hierarchy. Their CPU time and memory
 * are read by src/observe/telemetry.h. */
#ifndef LM_CGROUP_H
#define LM_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define LM_CGROUP_MAX_DIRS 5

typedef struct {
    int version;                             /* 1 or 2; 0 when no group was made */
    int ndirs;                               /* v1: one directory per hierarchy */
    char dirs[LM_CGROUP_MAX_DIRS][256];      /* the group's directories */
    char procs[LM_CGROUP_MAX_DIRS + 1][272]; /* their cgroup.procs files, "" ended */
    char memory_dir[256];                    /* where memory files are */
    uint64_t memory_limit;                   /* bytes; 0 = none */
} lm_cgroup;

/* Which cgroup version this machine offers for Lumos' groups: 2, 1, or 0
 * when neither can be written (then err says why: not root, no mount). */
int lm_cgroup_version(char *err);

/* Creates the group lumos/<name> in every hierarchy with memory_limit bytes
 * (0: no limit; swap is limited to the same so the limit holds). LM_ERR with
 * err when the machine has no writable cgroups: callers then run the
 * instance without one and say so. */
int lm_cgroup_create(lm_cgroup *cg, const char *name, uint64_t memory_limit, char *err);

/* One step of making a group: 'd' mkdir path (an existing one is fine),
 * 'w' write value into path, 't' the same where failing is fine. */
typedef struct {
    char op;
    char path[300];
    char value[32];
} lm_cgroup_step;

#define LM_CGROUP_MAX_STEPS 24

/* What lm_cgroup_create(cg, name, memory_limit) does, as steps for another
 * process to take (a launcher parked ahead of need): cg is filled as
 * create fills it, though nothing is made yet; *nsteps of steps[max] are
 * the mkdirs (parents first) and the limit writes. LM_ERR with err as
 * lm_cgroup_create's when the machine has no writable cgroups. */
int lm_cgroup_plan(lm_cgroup *cg, const char *name, uint64_t memory_limit, lm_cgroup_step *steps,
                   int max, int *nsteps, char *err);

/* The cgroup.procs files a child writes "0" into to join, "" terminated;
 * NULL when cg has no group. */
const char *const *lm_cgroup_procs(const lm_cgroup *cg);

/* How often the OOM killer killed a task of the group (0 when none or
 * unknown). */
uint64_t lm_cgroup_oom_kills(const lm_cgroup *cg);

/* Where and how a group is made beyond its memory limit: under a parent
 * group, made by its owner: "lumos/<parent>/<name>", or with a parent
 * that begins with '/' (an emulated node's, src/node/node.h) the
 * hierarchy's "<parent>/<name>", with a CFS CPU quota of its own, and on
 * v1 in the cpuset hierarchy too (it inherits its parent's CPUs, which
 * the parent gets by cgroup.clone_children). Zeroes: none of it. */
typedef struct {
    uint64_t memory_limit; /* bytes; 0 = none */
    const char *parent;    /* NULL or "": directly under lumos/; "/x/y": <root>/x/y/ */
    int64_t cpu_quota_us;  /* 0 = none; with cpu_period_us (0: the kernel's 100000) */
    int64_t cpu_period_us;
    int cpuset; /* 1: v1 only, also a group in the cpuset hierarchy */
} lm_cgroup_limits;

/* lm_cgroup_plan and lm_cgroup_create with lim (NULL: no limit, under
 * lumos/). */
int lm_cgroup_plan_in(lm_cgroup *cg, const char *name, const lm_cgroup_limits *lim,
                      lm_cgroup_step *steps, int max, int *nsteps, char *err);
int lm_cgroup_create_in(lm_cgroup *cg, const char *name, const lm_cgroup_limits *lim, char *err);

/* Removes the group (its processes must have ended; stray ones are
 * killed first). Safe on a group never created. */
void lm_cgroup_destroy(lm_cgroup *cg);

#endif
