/* gen.h -- synthetic traces from a pattern and a seed (`lumos trace gen`):
 * the same options and seed always give the same trace, byte for byte.
 * docs/trace.md states every pattern, its parameters and its exact
 * sampling method. */
#ifndef LM_TRACE_GEN_H
#define LM_TRACE_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

#define LM_TRACE_MAX_STEPS 256

/* The arrival process inside ramp, step and onoff: a Poisson process of the
 * pattern's rate (time-changed), or arrivals at equal steps of the
 * integrated rate (deterministic). constant and poisson are these two at a
 * fixed rate. */
typedef enum { LM_ARRIVALS_POISSON = 0, LM_ARRIVALS_CONSTANT = 1 } lm_arrivals;

typedef struct {
    const char *pattern; /* constant, poisson, onoff, mmpp, ramp, step, delayed, closed */
    uint64_t seed;
    double duration_s;       /* constant, poisson, onoff, mmpp, ramp (not step, delayed, closed) */
    double rate_rps;         /* constant, poisson; onoff: the rate in on periods */
    double on_s, off_s;      /* onoff: period lengths (on first) */
    double mmpp_rate_rps[2]; /* mmpp: the rate in state 0 and in state 1 */
    double sojourn_s[2];     /* mmpp: the mean time in each state (exponential) */
    double from_rps, to_rps; /* ramp: linear from, to over duration_s */
    double steps_rps[LM_TRACE_MAX_STEPS]; /* step: the rates, in order */
    size_t nsteps;
    double step_s;         /* step: how long each rate holds */
    lm_arrivals arrivals;  /* ramp, step, onoff */
    double idle_timeout_s; /* delayed: the service's idle timeout */
    double margin_s;       /* delayed: spacing = idle_timeout_s + margin_s */
    uint64_t count;        /* delayed: requests */
    int clients;           /* closed: concurrency */
    uint64_t requests;     /* closed: rows */
    /* What each row asks for: a weighted mix "fn[@runtime][:weight],..."
     * (weights whole numbers >= 1, default 1; runtime default: runtime
     * below), or NULL: every row is function@runtime. */
    const char *mix;
    const char *function; /* default "fibonacci" */
    const char *runtime;  /* default "": the service's default */
    const char *payload;  /* default "group:s" */
    lm_trace_start start; /* default any */
    const char *dir;      /* folder file: payloads are checked against (NULL: .) */
} lm_trace_gen_opts;

/* The defaults above: pattern poisson, seed 1, duration 60 s, rate 10 rps,
 * on 1 s / off 1 s, mmpp 50 and 5 rps with 2 s and 8 s sojourns, ramp 1 to
 * 200 rps, steps 1, 25, 50, ..., 200 rps for 30 s each, Poisson arrivals,
 * idle timeout 60 s (the platform's default) plus a 5 s margin, 10 delayed
 * requests, 4 clients and 1000 requests when closed. */
void lm_trace_gen_defaults(lm_trace_gen_opts *o);

/* The pattern names, NULL-terminated. */
const char *const *lm_trace_patterns(void);

/* 1 when option (a long option name without dashes: "rate", "on-s") is a
 * parameter of pattern, else 0 (the command line refuses options a
 * pattern does not use). */
int lm_trace_gen_uses(const char *pattern, const char *option);

/* Makes the trace. Checks every parameter (a negative rate, an unknown
 * function, runtime, payload group or pattern, a mix that does not parse),
 * naming the option ("--rate: -5 is negative"). On LM_OK *out is the trace
 * (the caller frees it), its header keys the pattern, its parameters and
 * the seed; on LM_ERR *out is NULL. */
int lm_trace_gen(const lm_trace_gen_opts *o, lm_trace **out, char *err);

#endif
