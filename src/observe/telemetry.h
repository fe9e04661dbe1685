/* telemetry.h -- CPU time and memory of one function instance, read from
 * its control group (cgroup v1 or v2) or, for an instance without one, from
 * /proc; a per-request peak reset; a background sampler over a set of
 * instances; and the per-request attribution helper. cgroup v1 and v2 differ
 * only behind this header. Every reading, kept-open (lm_telemetry_open) or
 * not (lm_telemetry_read: a handle opened for one reading), takes its files
 * from one source table and its numbers from one decoder, so both mean the
 * same. Units and resolution: docs/telemetry.md. */
#ifndef LM_TELEMETRY_H
#define LM_TELEMETRY_H

#include <stdint.h>
#include <sys/types.h>

#include "runtime/cgroup.h"
#include "util/util.h"

/* Where an lm_usage came from (lm_usage.source). */
enum {
    LM_USAGE_NONE = 0,
    /* cgroup v1: CPU total from cpuacct.usage (ns, the scheduler's exact
     * runtime), split into user and system in the ratio of
     * cpuacct.usage_user : cpuacct.usage_sys (tick-sampled); memory from
     * memory.usage_in_bytes and memory.max_usage_in_bytes. */
    LM_USAGE_CGROUP_V1 = 1,
    /* cgroup v2: cpu.stat usage_usec split as user_usec : system_usec (us);
     * memory.current and memory.peak (0 before Linux 5.19). */
    LM_USAGE_CGROUP_V2 = 2,
    /* No cgroup: /proc/<pid>/stat utime and stime (USER_HZ ticks, 10 ms) and
     * /proc/<pid>/status VmRSS and VmHWM (KiB). That process only (all its
     * threads, none of its children). */
    LM_USAGE_PROC = 3,
    /* cgroup v1 whose kernel lacks cpuacct.usage_user/usage_sys: the split
     * comes from cpuacct.stat (USER_HZ ticks); the total is still exact. */
    LM_USAGE_CGROUP_V1_STAT = 4,
};

/* One reading. CPU times are cumulative since the instance (its group or
 * process) began, in nanoseconds; memory in bytes. */
typedef struct {
    uint64_t cpu_user_ns, cpu_system_ns;
    uint64_t mem_current_bytes; /* now */
    uint64_t mem_peak_bytes;    /* highest since start or the last reset; 0 = unknown */
    int source;                 /* LM_USAGE_* */
} lm_usage;

/* A short name for source: "cgroup-v1", "cgroup-v1-stat", "cgroup-v2",
 * "proc" or "none" (a static string). */
const char *lm_usage_source_name(int source);

/* Reads the usage of an instance: from cg when cg is not NULL and
 * cg->version is 1 or 2, otherwise from /proc/<pid> (pid > 0). It opens
 * the files, reads them once and closes them (the kept-open handle below,
 * for one reading). Fills *out and returns LM_OK; LM_ERR with err naming
 * the file and the likely cause when the group or process is gone or
 * neither was given, or naming the file whose text is not what the kernel
 * writes (out is zeroed). */
int lm_telemetry_read(const lm_cgroup *cg, pid_t pid, lm_usage *out, char *err);

/* Resets the group's memory peak to its current usage, so the next peak is
 * this request's. v1: writes 0 to memory.max_usage_in_bytes. v2: writes
 * "reset" to memory.peak (Linux 6.12+); that kernel resets the peak only for
 * reads through the same open file, so this module keeps that file open
 * (until lm_telemetry_release) and lm_telemetry_read reads through it.
 * LM_ERR when cg is NULL or has no group, or the kernel does not allow the
 * reset: peaks are then since the instance started. */
int lm_telemetry_reset_peak(const lm_cgroup *cg);

/* For an instance without a cgroup: resets /proc/<pid>/status VmHWM to the
 * current RSS (writes 5 to /proc/<pid>/clear_refs). LM_OK or LM_ERR. */
int lm_telemetry_reset_peak_pid(pid_t pid);

/* Forgets what lm_telemetry_reset_peak kept open for cg (v2's memory.peak
 * file). Call it before lm_cgroup_destroy; NULL or a group with nothing kept
 * is a harmless no-op. */
void lm_telemetry_release(const lm_cgroup *cg);

/* The attribution of one request on a concurrency-1 instance: *delta gets
 * the CPU time spent between the readings before and after (user + system
 * never negative and equal to the change of their sum; each part clamped
 * at 0), after's current memory and after's peak (the request's peak when
 * the peak was reset before it). source is after's. */
void lm_usage_delta(const lm_usage *before, const lm_usage *after, lm_usage *delta);

/* Kept-open telemetry for a hot path (the gateway, once per request): the
 * instance's files are opened once and every reading is one pread at
 * offset 0 per file: on cgroup v1 about 7 times cheaper than
 * lm_telemetry_read, which is such a handle opened for one reading and
 * closed (1.4-1.6 us against 10.5 us here; figures in docs/telemetry.md).
 * Both read the same files through the same decoder. A handle is used by one
 * thread at a time; different handles share nothing and may be used by
 * different threads at once. */
typedef struct lm_telemetry lm_telemetry;

/* Opens the instance's files and takes one trial reading: from cg when cg
 * is not NULL and cg->version is 1 (cpuacct.usage, cpuacct.usage_user and
 * usage_sys or else cpuacct.stat, memory.usage_in_bytes,
 * memory.max_usage_in_bytes) or 2 (cpu.stat, memory.current, memory.peak
 * when the kernel has it), otherwise from /proc/<pid> (stat, status, and
 * clear_refs for the reset) when pid > 0. Holds 5 descriptors on v1, up to
 * 3 on v2 and /proc. Returns the handle (free with lm_telemetry_close), or
 * NULL with err naming the file that cannot be opened or read and the
 * likely cause (the group was removed, the process ended), or saying that
 * neither a group nor a pid was given. The handle copies what it needs;
 * cg may be freed after. */
lm_telemetry *lm_telemetry_open(const lm_cgroup *cg, pid_t pid, char *err);

/* One reading through the open files, with the same meaning, units and
 * source as lm_telemetry_read for the same group or process. LM_OK, or
 * LM_ERR with err naming the file (the group was removed or the process
 * ended since the open) and out zeroed. */
int lm_telemetry_sample(lm_telemetry *t, lm_usage *out, char *err);

/* A reading, then a reset of the peak to the current usage, in one call:
 * the reading ends one request and the reset starts the next request's
 * peak, so on a concurrency-1 instance one call per request suffices (the
 * end reading of request k is the start reading of request k+1; pass both
 * to lm_usage_delta). The reset goes through the handle's own peak file:
 * v1 writes 0 to memory.max_usage_in_bytes (one peak per group: a reset by
 * lm_telemetry_reset_peak moves it as well), v2 writes "reset" to the
 * handle's memory.peak (Linux 6.12+; it applies to the handle's reads only,
 * and lm_telemetry_reset_peak's kept file is independent of it), /proc
 * writes 5 to clear_refs (VmHWM, shared like v1). Where the kernel offers
 * no reset (see lm_telemetry_resets_peak) this is a plain reading. LM_OK,
 * or LM_ERR with err and out zeroed when the reading or the reset failed. */
int lm_telemetry_sample_and_reset(lm_telemetry *t, lm_usage *out, char *err);

/* The hot path at a request's end, for the gateway: the exact CPU total
 * (user + system, ns: cpuacct.usage on v1, cpu.stat usage_usec on v2,
 * utime + stime ticks on /proc) and the memory peak since the last reset,
 * then the peak reset, and nothing else: on cgroup v1 two preads and one
 * pwrite (about 0.8 us against 1.6 us for lm_telemetry_sample_and_reset).
 * The user/system split is left out: the kernel keeps it by sampling (ticks
 * or charge-time mode), too coarse for a request of a millisecond. The
 * difference of two marks is the CPU time between them. LM_OK, or LM_ERR
 * with err (both outputs 0). */
int lm_telemetry_mark(lm_telemetry *t, uint64_t *cpu_ns, uint64_t *mem_peak_bytes, char *err);

/* 1 when lm_telemetry_sample_and_reset resets the peak, 0 when the peak
 * file could not be opened for writing (v2 before Linux 6.12, v2 without
 * memory.peak, a file this user may not write): peaks are then since the
 * instance started. 0 for NULL. */
int lm_telemetry_resets_peak(const lm_telemetry *t);

/* The handle's source as lm_usage_source_name names it ("cgroup-v1", ...);
 * "none" for NULL. A static string. */
const char *lm_telemetry_source(const lm_telemetry *t);

/* Closes the files and frees the handle. NULL is a harmless no-op. It may
 * be called before or after the group is removed (lm_cgroup_destroy does
 * not wait for it; samples after the removal fail). */
void lm_telemetry_close(lm_telemetry *t);

/* A background thread that reads every registered instance each interval
 * and passes the reading to a callback. */
typedef struct lm_sampler lm_sampler;

/* Called on the sampler's thread for each instance at each interval: t_ns
 * is the monotonic time of the reading (lm_now_ns), u the reading, or NULL
 * when it failed (the group or process is gone). u is valid for the call
 * only. The callback may call lm_sampler_add and lm_sampler_remove, not
 * lm_sampler_stop. */
typedef void (*lm_sampler_fn)(void *arg, const char *instance_id, uint64_t t_ns, const lm_usage *u);

/* Starts a sampler reading every interval_ms (1 or more). Returns it (free
 * with lm_sampler_stop), or NULL with err on bad arguments or when the
 * thread cannot start. */
lm_sampler *lm_sampler_start(int interval_ms, lm_sampler_fn cb, void *arg, char *err);

/* Registers an instance under instance_id (copied; under 64 bytes, unique in
 * this sampler); cg is copied (NULL or version 0: read /proc/<pid>). LM_OK,
 * or LM_ERR for NULL arguments, a duplicate or too long id, no group and no
 * pid, or out of memory. */
int lm_sampler_add(lm_sampler *s, const char *instance_id, const lm_cgroup *cg, pid_t pid);

/* Unregisters instance_id (unknown ids are ignored). When it returns, no
 * callback for it is running or will run (called from the callback, the
 * rest of the current round skips it). */
void lm_sampler_remove(lm_sampler *s, const char *instance_id);

/* Stops the thread, waits for it, frees everything. NULL is a harmless
 * no-op. Not from the callback. */
void lm_sampler_stop(lm_sampler *s);

#endif
