/* internal.h -- what the runtime room's files share and nothing outside
 * uses (names lm__): the parked launchers' pool (launcher.c) as
 * lm_instance_start (runtime.c) takes from it. */
#ifndef LM_RUNTIME_INTERNAL_H
#define LM_RUNTIME_INTERNAL_H

#include "runtime/runtime.h"

/* Gives inst a launcher parked for o (same memory limit and stderr mode)
 * that has placed itself: its process, channel, cgroup, cgroup_name,
 * captured stderr, and launch_fd, the pipe it waits on for its command
 * (lm_exec_send). LM_ERR when none is ready (the caller places the
 * instance itself). */
int lm__launcher_take(const lm_start_opts *o, lm_instance *inst);

#endif
