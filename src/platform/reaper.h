/* reaper.h -- stops instances off the event loop. Stopping one may wait out
 * a grace period, kill and reap it, run `runc delete`, remove its cgroups:
 * milliseconds to a second that the gateway's loop must not spend. The pool
 * hands each instance to this thread and forgets it. */
#ifndef LM_REAPER_H
#define LM_REAPER_H

#include "runtime/runtime.h"

typedef struct lm_reaper lm_reaper;

/* Called on the reaper's thread once inst has been stopped and cleaned up:
 * status is its wait status (as waitpid gives it; -1 when unknown), stop_ns
 * when it was found ended (lm_now_ns). */
typedef void (*lm_reaped_fn)(void *arg, const lm_instance *inst, int status, uint64_t stop_ns);

/* Starts the thread. NULL with err when it cannot. */
lm_reaper *lm_reaper_start(char *err);

/* Takes over inst (copied by value: the caller must not use or stop it
 * again): closes its channel (stdin EOF asks it to end), gives it grace_ms,
 * then kills it, reaps it and runs lm_instance_stop's clean-up; then calls
 * done (may be NULL) with arg. When the job cannot be queued (out of
 * memory) the instance is stopped here, synchronously, and done is still
 * called. */
void lm_reaper_stop(lm_reaper *r, const lm_instance *inst, int grace_ms, lm_reaped_fn done,
                    void *arg);

/* How many instances were handed over and are not yet cleaned up. */
int lm_reaper_pending(lm_reaper *r);

/* Waits until every instance handed over is stopped, then ends the thread.
 * NULL is a harmless no-op. */
void lm_reaper_free(lm_reaper *r);

#endif
