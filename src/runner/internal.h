/* internal.h -- what the runner's files share: one request as the run saw
 * it, and requests.csv, its raw record. Not for use outside src/runner. */
#ifndef LM_RUNNER_INTERNAL_H
#define LM_RUNNER_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "proto/frame.h"

/* One request of the run, as requests.csv has it. */
typedef struct {
    const char *function, *runtime, *group;
    char instance[32];
    const char *kind; /* "cold", "warmup", "warm" */
    int iteration;
    int status;           /* HTTP status the function answered; 0 when it did not */
    double cold_start_ms; /* on the request that started the instance */
    double placement_ms;
    double latency_ms; /* INVOKE written to RESULT read, on the host */
    double host_storage_ms;
    double cpu_ms;
    uint64_t mem_peak_bytes;
    const char *telemetry; /* cgroup-v1, cgroup-v2, proc, or "" */
    uint64_t probes[LM_PROBE_COUNT];
    char error[256];
} lm__run_row;

/* requests.csv's header line, and one row (requests_csv.c). */
void lm__requests_csv_header(FILE *f);
void lm__requests_csv_row(FILE *f, const lm__run_row *r);

#endif
