/* recorder.h -- the one recorder: turns what happened (a finished request,
 * an instance's start, readiness and end, a scaling decision, a telemetry
 * sample, a deployed service) into rows of the results database
 * (results/results.h). `lumos serve` (the gateway and its pools) and
 * `lumos run` (runner/) record through it alone, so both write the same
 * columns with the same meaning, and any database can be reported.
 *
 * Every call copies what it is given into the store's pending batch
 * (lm_results_add_*: no SQLite call, no system call) and returns; the
 * caller keeps its strings. A NULL db makes every call a harmless no-op.
 *
 * Mapping rules, the same for every caller: a timestamp or byte count of 0
 * is "did not happen" and stored as NULL; a memory peak of 0 is "unknown"
 * (NULL); the probe columns come from the function's RESULT (NULL when
 * there was none). */
#ifndef LM_RECORDER_H
#define LM_RECORDER_H

#include <stdint.h>

#include "channel/channel.h"
#include "observe/telemetry.h"
#include "results/results.h"
#include "runtime/runtime.h"

/* The host's timestamps of one request (CLOCK_MONOTONIC ns, 0 = did not
 * happen): the gateway read it, it entered the queue, it got an instance,
 * the cold start it waited for began and ended, INVOKE was written, RESULT
 * was read. */
typedef struct {
    uint64_t ingress, queued, acquired, cold_begin, cold_ready, dispatch, result;
} lm_req_times;

/* What the instance's telemetry says of a request (lm_request_record.usage). */
enum {
    LM_RECORD_USAGE_NONE = 0,  /* not measured: CPU and memory columns NULL */
    LM_RECORD_USAGE_TOTAL = 1, /* cpu_ns (exact) and mem_peak_bytes; the split NULL */
    LM_RECORD_USAGE_SPLIT = 2, /* also cpu_user_ns and cpu_system_ns (cpu_ns = their sum) */
};

/* One finished request, whatever its outcome. */
typedef struct {
    int64_t id;              /* unique in the database (X-Lumos-Request-Id) */
    int64_t cell_id;         /* the experiment cell, or 0 / LM_RESULTS_NULL: none */
    int64_t service_id;      /* LM_RESULTS_NULL when it reached no service */
    const char *instance_id; /* NULL when it reached no instance */
    int status;              /* HTTP status answered; 0 when there was none */
    int cold;                /* 1 cold, 0 warm, -1 unknown (NULL) */
    lm_req_times t;
    uint64_t response_ns;      /* the answer was written (0: not by a gateway) */
    const lm_call_result *res; /* the function's result, or NULL */
    int usage;                 /* LM_RECORD_USAGE_* */
    uint64_t cpu_ns, cpu_user_ns, cpu_system_ns, mem_peak_bytes;
    const char *error; /* why it failed, or NULL */
    /* The phases of the cold start it waited for (its instance's), or NULL
     * (warm, or the start failed): the phase columns are then NULL. */
    const lm_cold_phases *phases;
    const char *node; /* the node profile that served it, or NULL (the host) */
} lm_request_record;

/* A request row. */
void lm_record_request(lm_results *db, const lm_request_record *r);

/* A deployed service: a function on a runtime, with its settings as JSON
 * (config_json may be NULL); created now. */
void lm_record_service(lm_results *db, int64_t id, const char *name, const char *function,
                       const char *runtime, const char *config_json);

/* An instance's row when it was spawned: decided_ns is when the platform
 * decided to start it (its placement begins there), the rest comes from
 * inst (id, runtime, pid, cgroup, spawn_ns). */
void lm_record_instance_start(lm_results *db, const lm_instance *inst, int64_t service_id,
                              uint64_t decided_ns);
/* It sent READY at ready_ns: its placement (decided -> spawn) and cold start
 * (spawn -> READY) durations, and the phases of its cold start
 * (lm_instance_phases: call it after the channel filed READY). */
void lm_record_instance_ready(lm_results *db, const lm_instance *inst, uint64_t decided_ns,
                              uint64_t ready_ns);
/* It ends, for reason ("idle", "crash", "done", ...); stop_ns 0 leaves the
 * stop time to lm_record_instance_reaped. */
void lm_record_instance_end(lm_results *db, const char *instance_id, const char *reason,
                            uint64_t stop_ns);
/* It was found gone at stop_ns with wait status status (-1: unknown). */
void lm_record_instance_reaped(lm_results *db, const char *instance_id, int status,
                               uint64_t stop_ns);

/* An event (kind "scale", "oom", "crash", ...) now; detail_json and
 * instance_id may be NULL. */
void lm_record_event(lm_results *db, int64_t service_id, const char *instance_id, const char *kind,
                     const char *detail_json);

/* A periodic telemetry reading of an instance at t_ns. */
void lm_record_sample(lm_results *db, const char *instance_id, uint64_t t_ns, const lm_usage *u);

#endif
