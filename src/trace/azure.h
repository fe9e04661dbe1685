/* azure.h -- real traces turned into Lumos traces: the Azure Functions 2019
 * per-minute counts (invocations_per_function_md.anon.d*.csv, with the
 * optional function_durations_percentiles.anon.d*.csv) and the Azure
 * Functions 2021 per-invocation trace (app, func, end_timestamp, duration).
 * Scaling (a window of minutes, the top-k functions, a speed-up, thinning)
 * and the rule that maps each trace function onto a built-in function and
 * a payload group are deterministic and documented in docs/trace.md; the
 * same inputs, options and seed give the same trace, byte for byte.
 *
 * Also synthetic files in both formats (`lumos trace synth`), made from a
 * seed, for tests and the samples in tests/data/traces/: never data copied
 * from the real data sets.
 *
 * Errors name the file, the line and the column
 * ("inv.csv:7: minute 12: 'x' is not a whole number of invocations"). */
#ifndef LM_TRACE_AZURE_H
#define LM_TRACE_AZURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/trace.h"

#define LM_AZURE2019_MINUTES 1440
#define LM_AZURE_MAX_TARGETS 16
#define LM_AZURE_MAX_GROUPS 8

/* How the 2019 replay places a minute's n invocations: n + 1 gaps drawn
 * from Exp(1), from U(0,1), or all equal, scaled to fill the minute; the
 * arrivals are the first n partial sums (docs/trace.md). */
typedef enum { LM_IAT_EXPONENTIAL = 0, LM_IAT_UNIFORM = 1, LM_IAT_EQUIDISTANT = 2 } lm_azure_iat;

typedef struct {
    /* The window: minutes minute_from..minute_to of the trace, 1-based,
     * both included; 0 and 0 for all of it. */
    int minute_from, minute_to;
    size_t top;        /* keep the top most-invoked functions of the window; 0 = all */
    double speedup;    /* a minute of the trace lasts 60 / speedup s; 1 = as recorded */
    uint32_t thin_ppm; /* invocations kept per million, 1..1000000 (1000000 = all) */
    lm_azure_iat iat;  /* 2019 only */
    uint64_t seed;     /* 2019 only: the arrivals inside minutes */
    /* Built-in functions to map onto, ordered by typical duration (shortest
     * first); ntargets 0: the eight benchmark functions in the order of
     * docs/trace.md. */
    const char *targets[LM_AZURE_MAX_TARGETS];
    size_t ntargets;
    /* Payload groups, smallest first; ngroups 0: xs, s, 1. */
    const char *groups[LM_AZURE_MAX_GROUPS];
    size_t ngroups;
    const char *runtime;  /* every row's runtime; "" = the service's default */
    lm_trace_start start; /* every row's start */
    /* A function that maps to nothing (2019: absent from the durations
     * file) is an error naming it; with skip_unmapped it is left out. */
    int skip_unmapped;
} lm_azure_opts;

/* The defaults: the whole trace, every function, speed-up 1, nothing
 * thinned, exponential, seed 1, the default targets and groups, runtime "",
 * start any, unmapped functions an error. */
void lm_azure_defaults(lm_azure_opts *o);

/* One trace function, as mapped. */
typedef struct {
    char *owner;          /* 2019 HashOwner; "" for 2021 */
    char *app;            /* HashApp / app */
    char *function;       /* HashFunction / func */
    char *trigger;        /* 2019 Trigger; "" for 2021 */
    uint64_t invocations; /* in the window, before thinning */
    uint64_t rows;        /* rows it has in the trace (after thinning) */
    double mean_ms;       /* mean duration; -1 when not known (2019 without durations) */
    size_t rank;          /* 0-based, in the ranking of docs/trace.md */
    const char *target;   /* the built-in function it maps onto */
    const char *group;    /* the payload group it maps onto */
} lm_azure_fn;

typedef struct {
    lm_trace *trace;  /* owned by the result (lm_azure_result_free) */
    lm_azure_fn *fns; /* the mapped functions by rank */
    size_t nfns;
    size_t skipped; /* functions left out as unmapped (skip_unmapped) */
} lm_azure_result;

/* Replays a 2019 invocations file (inv, named inv_name in messages) with
 * the durations file dur (NULL: none; ranking then by invocations). On
 * LM_OK *out holds the trace and the mapping; on LM_ERR it holds nothing. */
int lm_azure2019(FILE *inv, const char *inv_name, FILE *dur, const char *dur_name,
                 const lm_azure_opts *o, lm_azure_result *out, char *err);

/* Converts a 2021 per-invocation file: each invocation starts at
 * end_timestamp - duration; rows are sorted by that start. */
int lm_azure2021(FILE *in, const char *name, const lm_azure_opts *o, lm_azure_result *out,
                 char *err);

/* Writes the mapping as CSV (rank, owner, app, function, trigger,
 * invocations, rows, mean_duration_ms, lumos_function, payload). LM_OK or
 * LM_ERR on a stream error. */
int lm_azure_write_map(FILE *out, const lm_azure_result *r);

/* Frees what *r holds and zeroes it. NULL is a harmless no-op. */
void lm_azure_result_free(lm_azure_result *r);

/* ---- synthetic inputs -------------------------------------------------- */

typedef struct {
    uint64_t seed;
    size_t functions;  /* trace functions to make (default 12) */
    int minutes;       /* 2019: minute columns, 1..1440 (default 1440) */
    double duration_s; /* 2021: seconds of invocations (default 600) */
} lm_azure_synth_opts;

void lm_azure_synth_defaults(lm_azure_synth_opts *o);

/* Writes a synthetic 2019 invocations file to inv and its durations file to
 * dur (the real files' columns; made-up names synth-owner-NN, ...). */
int lm_azure_synth2019(FILE *inv, FILE *dur, const lm_azure_synth_opts *o, char *err);
/* Writes a synthetic 2021 file (rows in end_timestamp order, as the real
 * one is mostly). */
int lm_azure_synth2021(FILE *out, const lm_azure_synth_opts *o, char *err);

#endif
