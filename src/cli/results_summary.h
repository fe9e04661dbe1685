/* results_summary.h -- what `lumos results summary` computes, shared by its
 * files in cli/: results_groups.c reads a results database into groups
 * (its cells, or its services cold and warm) with the values of one metric,
 * results_stats.c gives each group its statistics and the ratios between
 * runtimes, results_print.c prints them as a table, CSV or JSON.
 * docs/stats.md is the method. */
#ifndef LM_CLI_RESULTS_SUMMARY_H
#define LM_CLI_RESULTS_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "stats/stats.h"

/* The metrics: a request's value, from its row. */
typedef enum {
    LM_RM_E2E, /* end to end: the first of client, gateway, instance that every row has */
    LM_RM_GATEWAY,
    LM_RM_INSTANCE,
    LM_RM_COMPUTE,
    LM_RM_IO,
    LM_RM_DESER,
    LM_RM_SER,
    LM_RM_CPU,
    LM_RM_MEM,
    LM_RM_COUNT
} lm_rmetric;

/* Where an end-to-end latency comes from, in the order it is preferred. */
enum { LM_RSRC_CLIENT, LM_RSRC_GATEWAY, LM_RSRC_INSTANCE, LM_RSRC_COUNT };

typedef struct {
    double *v;
    size_t n, cap;
} lm_rvec;

/* One group of requests: a cell, or a service's cold or warm requests. */
typedef struct {
    int64_t cell_id, service_id; /* LM_RESULTS_NULL when not that kind */
    char *name;                  /* the cell's name, or function@runtime */
    char *function, *runtime, *payload, *start, *load, *status;
    int64_t concurrency, repetition;
    double rate_rps;
    /* Counts: count = rows that count (not excluded), errors = those without
     * a 2xx answer, missing = answered ones without the metric's value. */
    size_t count, excluded, errors, missing;
    size_t ok;                  /* count - errors */
    lm_rvec src[LM_RSRC_COUNT]; /* the metric's values of the answered rows, by source */
    int source;                 /* the chosen src[] (results_stats.c) */
    const char *source_name;    /* "client", "gateway", "instance", or the column */
    double *x;                  /* src[source].v, sorted */
    size_t n;                   /* values the statistics are over */
    lm_stats_desc d;
    lm_stats_ci ci_mean, ci_median;
} lm_rgroup;

/* One ratio: group's median over the baseline group's. */
typedef struct {
    size_t group, baseline; /* indexes into groups */
    lm_stats_ratio r;
    int ok; /* 0: no ratio (err says why) */
    char err[160];
} lm_rratio;

typedef struct {
    const char *db;
    lm_rmetric metric;
    int by_cell;          /* 1: by cell, 0: by service and start */
    const char *baseline; /* runtime; NULL: native if there is one */
    lm_stats_boot_opts boot;
    lm_rgroup *groups;
    size_t ngroups;
    size_t unassigned;         /* requests in no group (no cell, or no service) */
    size_t warmups;            /* a lumos run file's warm-ups, left out as excluded */
    int version;               /* the file's schema version */
    const char *baseline_used; /* the runtime ratios are to, or NULL (none) */
    lm_rratio *ratios;
    size_t nratios;
} lm_rsummary;

/* The metric's name ("e2e", ...) and from a name: -1 when unknown. */
const char *lm_rmetric_name(lm_rmetric m);
int lm_rmetric_parse(const char *s);
/* The unit of its statistics, "ms" or "bytes". */
const char *lm_rmetric_unit(lm_rmetric m);

/* Reads s->db into s->groups (results_groups.c): by cell when s->by_cell
 * is 1, by service and cold/warm when 0, and when -1 by cell if the file
 * has cells, else by service (s->by_cell is then set). LM_OK or LM_ERR
 * with err (the file cannot be read; --by cell on a file without cells). */
int lm_rsummary_load(lm_rsummary *s, char *err);

/* The statistics of every group and the ratios (results_stats.c). LM_ERR
 * with err when --baseline names a runtime no group has, or out of
 * memory. */
int lm_rsummary_compute(lm_rsummary *s, char *err);

void lm_rsummary_free(lm_rsummary *s);

/* Printing (results_print.c). */
void lm_rsummary_print_table(FILE *out, const lm_rsummary *s);
void lm_rsummary_print_csv(FILE *out, const lm_rsummary *s);
void lm_rsummary_print_json(FILE *out, const lm_rsummary *s);

#endif
