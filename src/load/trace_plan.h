/* trace_plan.h -- a Lumos trace (docs/trace.md), read and checked by the
 * trace room's reader (trace/trace.h), turned into the load client's
 * requests.
 *
 * A row becomes POST /function/FUNCTION[@RUNTIME] with the payload's body
 * and, for start=cold, the header `X-Lumos-Start: cold` (warm and any send
 * nothing: the gateway has no header for them). */
#ifndef LM_LOAD_TRACE_PLAN_H
#define LM_LOAD_TRACE_PLAN_H

#include <stddef.h>

#include "load/load.h"

/* Resolves a `group:NAME` payload of function to its request body (the
 * data set's manifest holds it; the caller knows where): appends it to
 * body and returns LM_OK, or LM_ERR with err. */
typedef int (*lm_load_group_body_fn)(void *arg, const char *function, const char *group,
                                     lm_buf *body, char *err);

/* A trace made ready to send: requests and everything they point to. */
typedef struct {
    lm_load_req *reqs;
    size_t n;
    int closed;           /* mode=closed */
    unsigned concurrency; /* its concurrency=N */
    char *meta;           /* the first line after "# lumos-trace 1 " */
    /* Owned storage the requests point into. */
    lm_buf *pool;
    size_t npool, cap_pool;
} lm_load_plan;

/* Reads the trace at path with lm_trace_read and fills p (free it with
 * lm_load_plan_free, also after an error). group resolves group payloads
 * (NULL: a group payload is an error that says to give the data set); file
 * payloads are read relative to the trace's folder. LM_OK, or LM_ERR with
 * err naming the file, the line and the field (the trace reader's):
 * "t.csv:17: offset_us: 1200 is before the previous row's 1500 (the trace must be sorted)". */
int lm_load_trace_plan(const char *path, lm_load_group_body_fn group, void *arg, lm_load_plan *p,
                       char *err);

/* Frees what p holds. NULL is a harmless no-op. */
void lm_load_plan_free(lm_load_plan *p);

#endif
