/* internal.h -- what the trace room's files share and nobody else calls: a
 * CSV line reader with line numbers, an interning table, the sampling
 * primitives, and number formatting. */
#ifndef LM_TRACE_INTERNAL_H
#define LM_TRACE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/azure.h"
#include "trace/gen.h"
#include "trace/trace.h"
#include "util/rng.h"

/* ---- CSV lines (csvline.c) --------------------------------------------- */

/* Reads a stream line by line and splits lines into RFC 4180 fields. A
 * quoted field may not hold a line end (every record is one line, so line
 * numbers stay true). */
typedef struct {
    FILE *in;
    const char *name; /* for messages: "NAME:LINE: ..." */
    long lineno;      /* of the line last read (1-based) */
    char *line;       /* the line, without its LF (or CR LF) */
    size_t len, cap;
    char **fields; /* after lm__csv_split: pointers into line */
    size_t nfields, capfields;
} lm__csv;

void lm__csv_init(lm__csv *c, FILE *in, const char *name);
/* Reads the next line: 1 when there was one, 0 at the end of the stream, -1
 * on a read error or a NUL byte in the line (err set). */
int lm__csv_next(lm__csv *c, char *err);
/* Splits the line just read into fields, in place. LM_OK, or LM_ERR with err
 * ("NAME:LINE: unterminated quote"). */
int lm__csv_split(lm__csv *c, char *err);
void lm__csv_free(lm__csv *c);
/* Writes "NAME:LINE: " and the message into err; returns LM_ERR. */
int lm__csv_errf(const lm__csv *c, char *err, const char *fmt, ...) LM_PRINTF(3, 4);

/* ---- interning (intern.c) ---------------------------------------------- */

/* A set of strings, each stored once and never moved: a string's index and
 * its pointer stay valid until the table is freed. */
typedef struct {
    char **str;       /* by index */
    uint32_t *slots;  /* open addressing: index + 1, 0 = empty */
    size_t n, nslots; /* strings held; slots (a power of two) */
} lm__intern;

/* The index of s (len bytes) in t, added when new (*added = 1). -1 when out
 * of memory. */
long lm__intern_put(lm__intern *t, const char *s, size_t len, int *added);
/* The index of s, or -1 when it is not there. */
long lm__intern_find(const lm__intern *t, const char *s, size_t len);
void lm__intern_free(lm__intern *t);

/* ---- the trace's own store (trace.c) ----------------------------------- */

/* Interns s as a function name (kind LM__FUNCTION) or a runtime name
 * (LM__RUNTIME) of t; *added (added may be NULL) says whether it is new.
 * NULL when out of memory. */
enum { LM__FUNCTION = 0, LM__RUNTIME = 1 };
const char *lm__trace_str(lm_trace *t, int kind, const char *s, int *added);
/* Interns a payload text of t (resolving a file: path against t->dir);
 * *added says whether it is new. NULL when out of memory or when the text
 * has neither prefix (err set). */
const lm_trace_payload *lm__trace_payload(lm_trace *t, const char *text, int *added, char *err);
/* lm_trace_add with strings already interned. */
int lm__trace_push(lm_trace *t, int64_t offset_us, const char *function, const char *runtime,
                   const lm_trace_payload *payload, lm_trace_start start, char *err);

/* ---- sampling (sample.c) ----------------------------------------------- */

/* Exp(1) by inversion: -ln(U), U uniform in (0, 1) (lm_rng_open01). */
double lm__exp1(lm_rng *r);
/* Poisson(mean) by inversion (sequential search of the CDF from 0), exact
 * for 0 <= mean <= 700 (beyond, exp(-mean) underflows; callers stay below). */
uint64_t lm__poisson(lm_rng *r, double mean);
/* The seed of a stream of its own for name under seed: seed XOR the
 * FNV-1a 64 of name (docs/trace.md, "Random streams"). */
uint64_t lm__stream_seed(uint64_t seed, const char *name);

/* ---- the arrival patterns (patterns.c) --------------------------------- */

/* In the order of lm_trace_patterns(). */
typedef enum {
    LM__CONSTANT,
    LM__POISSON,
    LM__ONOFF,
    LM__MMPP,
    LM__RAMP,
    LM__STEP,
    LM__DELAYED,
    LM__CLOSED,
} lm__pattern;

/* Receives each send offset in order; LM_ERR stops the pattern. */
typedef int (*lm__emit_fn)(void *ctx, int64_t offset_us, char *err);
/* Runs pattern p with o's (checked) parameters, drawing from r. LM_OK, or
 * the first LM_ERR of emit. */
int lm__pattern_run(lm__pattern p, const lm_trace_gen_opts *o, lm_rng *r, lm__emit_fn emit,
                    void *ctx, char *err);

/* ---- Azure replay, shared by both formats (azure_map.c) ---------------- */

/* A trace function while it is read. */
typedef struct {
    lm_azure_fn pub;  /* strings owned here until moved into a result */
    long line;        /* its (first) line in its file */
    size_t id;        /* 2021: its index while reading */
    uint32_t *counts; /* 2019: invocations per minute of the window */
    double sum_s;     /* 2021: the sum of its durations in the window */
    int has_mean;     /* pub.mean_ms is known */
} lm__azfn;

/* Checks o (naming the option: "--speedup: ...") and copies it into r with
 * the default targets and groups filled in. */
int lm__azure_opts(const lm_azure_opts *o, lm_azure_opts *r, char *err);
/* Selects and maps, in place: drops functions without invocations in the
 * window; leaves out unmapped ones (has_mean 0 when by_duration) if
 * o->skip_unmapped, counting them in *skipped; keeps the top o->top by
 * invocations; fails on an unmapped one left (naming it and where it is
 * from); then ranks (by mean duration when by_duration, else by
 * invocations) and sets rank, target and group. fns[0..*n) is reordered by
 * rank; the functions dropped are freed. */
int lm__azure_select(lm__azfn **fns, size_t *n, const lm_azure_opts *o, int by_duration,
                     const char *name, size_t *skipped, char *err);
/* How many of the invocations numbered before+1..after of a function a
 * thinning to ppm per million keeps: floor(ppm after / 10^6) - floor(ppm
 * before / 10^6). */
uint64_t lm__thin_keep(uint32_t ppm, uint64_t before, uint64_t after);
/* The scaled start of window minute i, in microseconds: floor(i 60 10^6 /
 * speedup). */
int64_t lm__minute_start_us(uint64_t i, double speedup);
/* Sets the header keys of a replayed trace (source, input, the scaling,
 * how functions were ranked). */
int lm__azure_keys(lm_trace *t, const char *source, const char *input, const lm_azure_opts *o,
                   int from, int to, size_t nfns, int by_duration, char *err);
/* Moves fns (by rank) and t into out; frees fns' private parts. */
int lm__azure_finish(lm_azure_result *out, lm__azfn **fns, size_t n, size_t skipped, lm_trace *t,
                     char *err);
void lm__azfn_free(lm__azfn *f); /* NULL is a harmless no-op */
/* Column index of name in the CSV line just split, or -1. */
int lm__csv_column(const lm__csv *c, const char *name);

/* ---- numbers (sample.c) ------------------------------------------------ */

/* Formats v with the fewest significant digits (up to 17) that read back as
 * the same double: 50 -> "50", 0.1 -> "0.1". Returns out. */
char *lm__fmt_num(char *out, size_t n, double v);
/* Parses a whole decimal number (strtod, all of s, finite). LM_OK or LM_ERR. */
int lm__parse_num(const char *s, double *out);
/* Parses a whole non-negative integer of digits only, at most max. LM_OK or
 * LM_ERR. */
int lm__parse_uint(const char *s, uint64_t max, uint64_t *out);

#endif
