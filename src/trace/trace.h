/* trace.h -- a Lumos trace in memory, read strictly and written back: the
 * contract between `lumos trace` (which makes traces), the load client
 * (which sends them) and the experiment runner (which checks them before
 * any work starts). The file format is docs/trace.md: CSV with one header
 * comment line ("# lumos-trace 1 mode=open ..."), the column line
 * "offset_us,function,runtime,payload,start", then one row per request in
 * send order.
 *
 * Every failing call returns LM_ERR and writes into err (LM_ERRLEN bytes) a
 * message that names the file, the line and the field when there is one:
 * "trace.csv:17: offset_us: 1200 is before the previous row's 1500 (the
 * trace must be sorted)". */
#ifndef LM_TRACE_H
#define LM_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

#define LM_TRACE_VERSION 1
/* A trace of more rows is refused (by the reader and by every maker): about
 * 40 bytes a row in memory, so 400 MB at the limit. (The fuzz build sets a
 * lower one.) */
#ifndef LM_TRACE_MAX_ROWS
#define LM_TRACE_MAX_ROWS 10000000
#endif
/* The largest offset accepted: 10^15 us, about 31 years. */
#define LM_TRACE_MAX_OFFSET_US 1000000000000000LL

typedef enum {
    LM_TRACE_OPEN = 0,   /* rows are sent at their offsets */
    LM_TRACE_CLOSED = 1, /* concurrency clients, each sends the next unsent row
                            when its previous answer arrives; offsets ignored */
} lm_trace_mode;

typedef enum {
    LM_START_ANY = 0,  /* "any": whatever instance the platform gives */
    LM_START_COLD = 1, /* "cold": a fresh instance (header X-Lumos-Start: cold) */
    LM_START_WARM = 2, /* "warm": not a fresh instance */
} lm_trace_start;

/* A payload column's value, parsed. Owned by the trace; shared by every row
 * that has the same text. */
typedef struct {
    const char *text;  /* as written: "group:1", "file:bodies/a.json" */
    const char *group; /* "1" for a group: payload, else NULL */
    const char *path;  /* a file: payload's path, relative ones joined to the
                          trace's folder (lm_trace.dir); else NULL */
} lm_trace_payload;

/* One request. The strings are owned by the trace (interned: rows with the
 * same function share one pointer) and live until lm_trace_free. */
typedef struct {
    int64_t offset_us;    /* intended send time from the trace's start, >= 0 */
    const char *function; /* a built-in function name (functions/catalog.h) */
    const char *runtime;  /* a runtime name, or "": the service's default */
    const lm_trace_payload *payload;
    lm_trace_start start;
} lm_trace_row;

/* A header key=value pair other than mode and concurrency, kept as text. */
typedef struct {
    char *key;
    char *value;
} lm_trace_key;

typedef struct lm__trace_store lm__trace_store;

typedef struct {
    lm_trace_mode mode;
    int concurrency; /* closed: the number of clients (>= 1); open: 0 */
    lm_trace_key *keys;
    size_t nkeys; /* header keys in file order (pattern, seed, source, ...) */
    lm_trace_row *rows;
    size_t nrows;
    char *dir;              /* folder relative file: payloads are resolved against */
    lm__trace_store *store; /* private: the interned strings */
} lm_trace;

/* ---- reading ----------------------------------------------------------- */

/* Reads and checks the trace file at path: the header line (version 1, a
 * mode, concurrency N exactly when closed, key=value pairs), the column line
 * (the five columns by name, in any order; a missing, repeated or unknown
 * column is an error), and every row: offset_us a whole number >= 0 and not
 * before the previous row's, function known to the catalog, runtime empty or
 * known to the runtime registry (runtime/runtime.h), payload group:NAME of a
 * known payload group or file:PATH of a readable regular file, start cold,
 * warm or any; at least one row, at most LM_TRACE_MAX_ROWS. On LM_OK *out is
 * a trace the caller frees with lm_trace_free; on LM_ERR *out is NULL and
 * err says where and what ("trace.csv:3: function: unknown function ..."). */
int lm_trace_read(const char *path, lm_trace **out, char *err);

/* lm_trace_read of an open stream: name is used in messages, dir is the
 * folder relative file: payloads are resolved against (NULL: the current
 * one). The stream is read to its end and not closed. */
int lm_trace_read_stream(FILE *in, const char *name, const char *dir, lm_trace **out, char *err);

/* ---- the fields, checked one by one ------------------------------------ */

/* Each returns LM_OK, or LM_ERR with err naming the value and the fix
 * ("unknown function 'fibonaci' (see `lumos functions`)"); the reader puts
 * "FILE:LINE: COLUMN: " before it. */
int lm_trace_check_function(const char *name, char *err);
int lm_trace_check_runtime(const char *name, char *err); /* "" is fine */
/* payload: "group:NAME" or "file:PATH" (PATH relative to dir, NULL: the
 * current folder, must name a readable regular file). */
int lm_trace_check_payload(const char *payload, const char *dir, char *err);
int lm_trace_parse_start(const char *s, lm_trace_start *out, char *err);
const char *lm_trace_start_name(lm_trace_start s); /* "any", "cold", "warm" */

/* ---- making ------------------------------------------------------------ */

/* A new, empty trace (closed: concurrency >= 1) whose file: payloads are
 * resolved against dir (NULL: the current folder; copied). NULL when out
 * of memory. */
lm_trace *lm_trace_new(lm_trace_mode mode, int concurrency, const char *dir);

/* Sets header key to value (copied), replacing an earlier value, keeping
 * the first position. Keys and values are non-empty, without spaces (keys
 * also without '='); mode and concurrency are not keys but t's fields.
 * Lumos' own keys are lower-case with a unit suffix (rate_rps). LM_OK or
 * LM_ERR. */
int lm_trace_set_key(lm_trace *t, const char *key, const char *value, char *err);
/* The value of header key, or NULL. */
const char *lm_trace_get_key(const lm_trace *t, const char *key);

/* Appends a row (the strings are copied or shared). It does not check the
 * values (the lm_trace_check_* calls do) nor the order (lm_trace_sort);
 * payload must start with "group:" or "file:". LM_OK, or LM_ERR when out
 * of memory, the payload has neither prefix, or the trace already has
 * LM_TRACE_MAX_ROWS rows. */
int lm_trace_add(lm_trace *t, int64_t offset_us, const char *function, const char *runtime,
                 const char *payload, lm_trace_start start, char *err);

/* Sorts the rows by offset, keeping the order of equal offsets (stable). */
void lm_trace_sort(lm_trace *t);

/* ---- writing ----------------------------------------------------------- */

/* Writes t in the file format: header line (mode, concurrency when closed,
 * then the keys in order), column line, rows (fields quoted as RFC 4180
 * needs). The same trace always gives the same bytes. LM_OK, or LM_ERR when
 * the stream reports an error. */
int lm_trace_write(FILE *out, const lm_trace *t);

/* Writes t to path through a temporary file and a rename (readers never see
 * half a trace); path "-" writes to stdout. LM_OK or LM_ERR. */
int lm_trace_save(const char *path, const lm_trace *t, char *err);

/* Frees t and everything it owns. NULL is a harmless no-op. */
void lm_trace_free(lm_trace *t);

/* ---- statistics -------------------------------------------------------- */

typedef struct {
    const char *name; /* owned by the trace the stats were made of */
    size_t count;
} lm_trace_count;

typedef struct {
    size_t rows;
    int64_t first_us, last_us; /* first and last offset */
    double duration_s;         /* last_us in seconds: when the last request goes */
    /* Open traces with two rows or more (else 0): rows - 1 over the span
     * from the first to the last offset, and the inter-arrival times' mean
     * and coefficient of variation (standard deviation over mean; 1 for a
     * Poisson process, 0 for a constant rate). */
    double mean_rate_rps;
    double iat_mean_us, iat_cv;
    size_t cold, warm, any; /* rows by start */
    /* Rows per function and per runtime ("" = service default), most first,
     * ties by name; malloc'd arrays of nfunctions and nruntimes. */
    lm_trace_count *functions, *runtimes;
    size_t nfunctions, nruntimes;
} lm_trace_stats;

/* Computes s from t. LM_OK, or LM_ERR when out of memory. */
int lm_trace_stats_of(const lm_trace *t, lm_trace_stats *s, char *err);
/* Frees s's arrays and zeroes it. NULL is a harmless no-op. */
void lm_trace_stats_free(lm_trace_stats *s);

#endif
