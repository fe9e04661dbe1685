/* fake_runtime.h -- a runtime adapter for unit tests of the pool (the mock
 * executor of hyperfine's scheduler tests): an instance is a thread of the
 * test process that plays the guest side of the real frame channel
 * (proto/frame.h, docs/channel.md) over two pipes, so the pool, its conn and
 * the reaper run their real code without spawning anything.
 *
 * start() makes the pipes and the thread; the instance's child.in/out are
 * the host ends, child.pid is -1 (lm_child_stop only closes the pipes) and
 * the runtime makes no cgroup (own_cgroup). The thread sends READY
 * {"function":FN,"sdk":1}, then answers each INVOKE with one RESULT, and
 * ends at EOF on its input (the host closed child.in); cleanup() joins it.
 *
 * What one request does is scripted by its INVOKE body, a JSON object (a
 * body that is not one is {}), in this order:
 *   "get":"KEY"   a storage GET round trip first: the answer's status is 200
 *                 with "value" (VALUE), 404 (NOT_FOUND) or 500 with "error"
 *                 (STORAGE_ERROR); io_calls 1, io_read_bytes the value's
 *                 length
 *   "ms":N        then N ms of "compute" (a wait that ends early, and the
 *                 instance with it, when the host closes the channel)
 *   "crash":1     then close both pipes and end: the host sees EOF
 *   "hang":1      then never answer; end at EOF
 *   "garbage":1   then write bytes that are no frame (bad magic); end at EOF
 *   "status":S    the RESULT's status (default 200, or as "get" says)
 *   "tag":X       echoed back
 *   "exit":1      after the RESULT, close both pipes and end (an instance
 *                 that dies while idle)
 * The RESULT body is {"instance":ID,"seq":N,"tag":X,...}: seq counts this
 * instance's requests from 1. The probes are the real phases on this
 * thread's monotonic clock (deser: parsing, io: the GET, compute: the wait,
 * ser: the reply), and deser + io + compute + ser == total exactly.
 *
 * What every instance of a runtime does at its start is set by the
 * runtime's lm_fake_opts. Counters per runtime are kept for the tests.
 *
 * Writing to a pipe whose reader is gone raises SIGPIPE in the writer, here
 * as in the platform: a test program must ignore SIGPIPE (lumos does, in
 * main). */
#ifndef LM_TEST_FAKE_RUNTIME_H
#define LM_TEST_FAKE_RUNTIME_H

#include "runtime/runtime.h"

typedef struct {
    int ready_delay_ms;   /* wait this long before READY (ends early at EOF) */
    int refuse_start;     /* start() fails: LM_ERR, "fake: start refused" */
    int die_before_ready; /* the instance closes its channel without READY */
    int never_ready;      /* the instance never sends READY; it ends at EOF */
    /* The three failures above apply to the first `times` starts since the
     * runtime was added or reset; 0: to every start. */
    int times;
} lm_fake_opts;

/* Registers (from one thread, before pools look it up) a fake runtime named name
 * (lm_runtime_register; target "native", so services "noop@NAME" and the like are found) with a
 * copy of opts (NULL: all zero, a well-behaved runtime). Its instances' ids are "NAME-<n>". Returns
 * the runtime (static, valid for the process), or NULL with err when the name is taken or too many
 * runtimes are registered. */
const lm_runtime *lm_fake_runtime_add(const char *name, const lm_fake_opts *opts, char *err);

typedef struct {
    int starts;        /* start() calls, refused ones included */
    int refused;       /* start() calls that failed on purpose */
    int ready;         /* READY frames sent */
    int stopped;       /* instances cleaned up: their thread joined */
    int running;       /* instance threads not yet joined */
    int ended;         /* instance threads that returned (joined or not) */
    int requests;      /* INVOKE frames read */
    int answered;      /* RESULT frames written */
    int storage_calls; /* GET frames written */
} lm_fake_counts;

/* A snapshot of rt's counters (rt from lm_fake_runtime_add). Safe while
 * instances run. */
void lm_fake_counts_get(const lm_runtime *rt, lm_fake_counts *out);
/* Zeroes rt's counters, except running (its instances still alive), and
 * restarts the count of starts that opts.times looks at. */
void lm_fake_reset(const lm_runtime *rt);

#endif
