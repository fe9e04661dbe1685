/* summary.h -- the report: a results database read back as per-request
 * samples (lm_report_load, whichever command wrote it), their statistics,
 * and the files and tables made from them (report.md, summary.csv,
 * summary.json). */
#ifndef LM_SUMMARY_H
#define LM_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "proto/frame.h"
#include "util/util.h"

/* One request as the run saw it. */
typedef struct {
    char function[64], runtime[32], group[8], instance[32], kind[8];
    int iteration;
    int status;           /* HTTP status the function answered; 0 when it did not */
    double cold_start_ms; /* spawn to READY (docs/cold-start.md), on the request that started the
                             instance */
    double placement_ms;  /* the platform's part before that: cgroup, adapter set-up */
    double latency_ms;    /* INVOKE written to RESULT read, on the host */
    double host_storage_ms;
    double cpu_ms;           /* CPU time of the instance during the request (user+system) */
    uint64_t mem_peak_bytes; /* the instance's peak memory during the request */
    char telemetry[16];      /* where those came from: cgroup-v1, cgroup-v2, proc, or "" */
    uint64_t probes[LM_PROBE_COUNT];
    char error[256];
} lm_sample;

typedef struct {
    lm_sample *v;
    size_t n, cap;
} lm_samples;

/* Appends a copy of x. LM_OK, or LM_ERR when out of memory. */
int lm_samples_add(lm_samples *s, const lm_sample *x);
void lm_samples_free(lm_samples *s); /* NULL is a harmless no-op */
/* Number of samples that did not end in a 2xx answer. */
size_t lm_samples_failed(const lm_samples *s);

typedef struct {
    const char *source;     /* "run" (lumos run --direct: group, runs, warm-up, seed known),
                               "experiment" (lumos run SPEC) or "serve" */
    const char *experiment; /* the experiment's name, or NULL */
    const char *group;
    int runs, warmup;
    unsigned long long seed;
    const char *storage;
    uint64_t started_wall_ns;
    const char *data_dir;
    const char *artifacts;        /* for the sizes section (index.json) */
    const char *const *functions; /* what ran, in order */
    size_t nfunctions;
    const char *const *runtimes; /* what ran, in order, and the target each runs */
    const char *const *targets;  /* may be NULL: the sizes section then lacks the fallback */
    size_t nruntimes;
    /* The machine it ran on (the database's meta), "" when unknown. */
    const char *host_name, *host_kernel, *host_arch;
    long host_cpus;
} lm_run_info;

/* A results database read back (lm_report_load): the run's description
 * and every request that reached a service, as samples, in id order. It
 * owns the strings info points to. */
typedef struct {
    lm_run_info info;
    lm_samples samples;
    int from_run;       /* the database is lumos run's (it has run.* meta) */
    size_t unrouted;    /* requests that reached no service (a gateway's 404) */
    size_t other_loads; /* an experiment's requests of cells other than closed loops of one */
    char group[8], storage[16], data_dir[2048], artifacts[2048];
    char host_name[256], host_kernel[256], host_arch[64];
    char experiment[256];
    char **functions, **runtimes;
} lm_report_data;

/* Reads the database at db (lumos run's results.db or lumos serve
 * --results, read-only). A request's kind is "cold" when it waited for a
 * cold start; in a lumos run database the requests 2 to 1 + run.warmup of
 * each service are its warm-ups; the rest are "warm". LM_OK with *d (free
 * with lm_report_data_free), or LM_ERR with err. */
int lm_report_load(const char *db, lm_report_data *d, char *err);
void lm_report_data_free(lm_report_data *d); /* NULL is a harmless no-op */

/* Writes summary.csv, summary.json and report.md into dir. */
int lm_report_write(const char *dir, const lm_run_info *info, const lm_samples *s, char *err);
void lm_report_print_table(FILE *f, const lm_run_info *info, const lm_samples *s);
void lm_report_print_json(FILE *f, const lm_run_info *info, const lm_samples *s);
/* The findings of report.md (each runtime against native; failures) as
 * lines "- ...". */
void lm_report_print_findings(FILE *f, const lm_run_info *info, const lm_samples *s);

/* Writes the artifact sizes section for the run's functions and runtimes,
 * from ARTIFACTS/index.json (sizes.c). */
void lm_report_sizes(FILE *f, const char *artifacts, const char *const *functions, size_t nfn,
                     const char *const *runtimes, const char *const *targets, size_t nrt);

#endif
