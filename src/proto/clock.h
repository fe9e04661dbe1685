/* clock.h -- the one monotonic clock of guest and host. The host stamps
 * every lifecycle timestamp with it; the guest times its probes with it
 * (clock_gettime, which is WASI clock_time_get inside Wasm), so no clock
 * reading ever crosses the sandbox boundary. Plain C, libc only. */
#ifndef LM_PROTO_CLOCK_H
#define LM_PROTO_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t lm_now_ns(void);

#endif
