/* runner.h -- the benchmark engine of `lumos run`: for every function on
 * every runtime, a fresh instance, its cold start, one cold request, the
 * warm-ups and the measured warm requests, one at a time, straight over the
 * instance's channel (no gateway in between). Every request becomes a row
 * of requests.csv (as it happens) and of results.db (through the recorder,
 * the same rows as `lumos serve` writes), with the run's settings in the
 * database's meta (run.*), so that report/ can make the report from the
 * database alone. */
#ifndef LM_RUNNER_H
#define LM_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"

/* Called after each request: done of total, on which pair. */
typedef void (*lm_runner_progress_fn)(void *arg, const char *function, const char *runtime,
                                      int done, int total);

typedef struct {
    const char *group;      /* payload group ("s", "1", ...): must be lm_group_find()'s */
    long long runs, warmup; /* measured warm requests, and unrecorded warm-ups before them */
    long long seed;         /* data set seed */
    long long timeout_ms;   /* per start and per request */
    uint64_t memory_limit;  /* bytes per instance; 0 = none */
    int no_cgroup;
    const char *data;      /* data set folder, or NULL: the cached one for seed and group */
    const char *redis;     /* "HOST:PORT", or NULL: a private redis-server */
    int file_storage;      /* 1: functions read the data set folder instead of Redis */
    const char *out;       /* results folder, made when missing */
    const char *artifacts; /* as lm_artifacts_dir() takes it (NULL: the default) */
    const char *const *functions;
    size_t nfunctions;
    const lm_runtime *const *runtimes;
    size_t nruntimes;
    const char *lumos_version;
    lm_runner_progress_fn progress; /* may be NULL */
    void *progress_arg;
} lm_runner_opts;

/* What a run left behind. */
typedef struct {
    char data_dir[2048]; /* the data set it used */
    char db_path[2100];  /* OUT/results.db */
    int requests;        /* requests sent (rows written) */
} lm_runner_result;

/* Runs the matrix. Before any work it checks every artifact; then it makes
 * or finds the data set, starts or connects Redis and loads the group's
 * inputs, and writes OUT/requests.csv and OUT/results.db. A request that
 * fails (an instance that crashed, hung or would not start) is recorded as
 * such and the run goes on with a fresh instance. LM_OK with *res, or
 * LM_ERR with err when the run could not be made (an artifact, the data
 * set, Redis, the output folder or the database). */
int lm_runner_run(const lm_runner_opts *o, lm_runner_result *res, char *err);

#endif
