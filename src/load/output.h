/* output.h -- a load run written out: the summary a person reads, the
 * same as JSON (units in every key), and every request as CSV (units in
 * every column). docs/load.md lists the columns and keys. */
#ifndef LM_LOAD_OUTPUT_H
#define LM_LOAD_OUTPUT_H

#include <stdio.h>

#include "load/load.h"

/* How the run was asked for, for the output's first line and keys. */
typedef struct {
    const char *url;
    const char *mode_text; /* "open loop at 1000 requests/s for 5 s", "closed loop, 8 clients" */
    const lm_load_opts *opts;
} lm_load_info;

/* The summary: rate, latency percentiles (50, 90, 99, 99.9, 99.99, max,
 * mean) corrected and uncorrected and the send lag, in microseconds; late,
 * waited, dropped, errors by kind, answers, connections, the client's own
 * CPU and memory. */
void lm_load_print_summary(FILE *out, const lm_load_info *info, const lm_load_result *r);
/* The same as one JSON object and a newline. */
void lm_load_print_json(FILE *out, const lm_load_info *info, const lm_load_result *r);
/* Every request as one CSV line after a header line (reqs: the requests
 * the run was given, for each one's path). LM_OK, or LM_ERR with err when
 * writing failed. */
int lm_load_write_csv(FILE *out, const lm_load_result *r, const lm_load_req *reqs,
                      const char *default_path, char *err);

#endif
