/* requests_csv.c -- requests.csv, the run's raw per-request record: one line
 * per request as it happens, so an interrupted run keeps what it did. */
#include <string.h>

#include "runner/internal.h"
#include "util/csv.h"

void lm__requests_csv_header(FILE *f) {
    fprintf(f, "function,runtime,group,instance,kind,iteration,status,cold_start_ms,placement_ms,"
               "latency_ms");
    for (int i = 0; i < LM_PROBE_COUNT; i++)
        fprintf(f, ",%s", lm_probe_names[i]);
    fprintf(f, ",host_storage_ms,cpu_ms,mem_peak_bytes,telemetry,error\n");
}

void lm__requests_csv_row(FILE *f, const lm__run_row *r) {
    fprintf(f, "%s,%s,%s,%s,%s,%d,%d,%.6f,%.6f,%.6f", r->function, r->runtime, r->group,
            r->instance, r->kind, r->iteration, r->status, r->cold_start_ms, r->placement_ms,
            r->latency_ms);
    for (int i = 0; i < LM_PROBE_COUNT; i++)
        fprintf(f, ",%llu", (unsigned long long)r->probes[i]);
    fprintf(f, ",%.6f,%.6f,%llu,%s,", r->host_storage_ms, r->cpu_ms,
            (unsigned long long)r->mem_peak_bytes, r->telemetry);
    /* Always quoted, and one line per request whatever the message says. */
    lm_csv_field(f, r->error, strlen(r->error), LM_CSV_QUOTE | LM_CSV_ONE_LINE);
    fputc('\n', f);
}
