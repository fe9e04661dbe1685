/* cells.h -- a results database's requests in groups with their
 * statistics: what `lumos results summary` prints, and what the report,
 * the findings, the model and comparisons stand on. cells_load.c reads a
 * database into groups (its cells, or its services cold and warm) with the
 * values of one metric, cells_stats.c gives each group its statistics and
 * the ratios between runtimes, cells_print.c prints them as a table, CSV or
 * JSON. docs/stats.md is the method. */
#ifndef LM_REPORT_CELLS_H
#define LM_REPORT_CELLS_H

#include <stdint.h>
#include <stdio.h>

#include "results/results.h"
#include "stats/stats.h"

/* The metrics: a request's value, from its row. */
typedef enum {
    LM_REPORT_M_E2E, /* end to end: the first of client, gateway, instance that every row has */
    LM_REPORT_M_GATEWAY,
    LM_REPORT_M_INSTANCE,
    LM_REPORT_M_COMPUTE,
    LM_REPORT_M_IO,
    LM_REPORT_M_DESER,
    LM_REPORT_M_SER,
    LM_REPORT_M_CPU,
    LM_REPORT_M_MEM,
    LM_REPORT_M_COUNT
} lm_report_metric;

/* Where an end-to-end latency comes from, in the order it is preferred. */
enum { LM_REPORT_SRC_CLIENT, LM_REPORT_SRC_GATEWAY, LM_REPORT_SRC_INSTANCE, LM_REPORT_SRC_COUNT };

typedef struct {
    double *v;
    size_t n, cap;
} lm_report_vec;

/* One group of requests: a cell, or a service's cold or warm requests. */
typedef struct {
    int64_t cell_id, service_id; /* LM_RESULTS_NULL when not that kind */
    char *name;                  /* the cell's name, or function@runtime */
    char *function, *runtime, *payload, *start, *load, *status;
    char *node, *network; /* the cell's environment axes (NULL: none, or not a cell) */
    int64_t concurrency, repetition;
    double rate_rps;
    /* Counts: count = rows that count (not excluded), errors = those without
     * a 2xx answer, missing = answered ones without the metric's value. */
    size_t count, excluded, errors, missing;
    size_t ok; /* count - errors */
    lm_report_vec
        src[LM_REPORT_SRC_COUNT]; /* the metric's values of the answered rows, by source */
    int source;                   /* the chosen src[] (cells_stats.c) */
    const char *source_name;      /* "client", "gateway", "instance", or the column */
    double *x;                    /* src[source].v, sorted */
    size_t n;                     /* values the statistics are over */
    lm_stats_desc d;
    lm_stats_ci ci_mean, ci_median;
    long pass_index; /* its index while the file was read (lm_report_row_fn's group) */
} lm_report_group;

/* One ratio: group's median over the baseline group's. */
typedef struct {
    size_t group, baseline; /* indexes into groups */
    lm_stats_ratio r;
    int ok; /* 0: no ratio (err says why) */
    char err[160];
} lm_report_ratio;

typedef struct {
    const char *db;
    lm_report_metric metric;
    int by_cell;          /* 1: by cell, 0: by service and start */
    const char *baseline; /* runtime; NULL: native if there is one */
    int no_ratios;        /* 1: the statistics only, no ratios (the report makes its own) */
    lm_stats_boot_opts boot;
    lm_report_group *groups;
    size_t ngroups;
    size_t unassigned;         /* requests in no group (no cell, or no service) */
    size_t warmups;            /* a lumos run file's warm-ups, left out as excluded */
    int version;               /* the file's schema version */
    const char *baseline_used; /* the runtime ratios are to, or NULL (none) */
    lm_report_ratio *ratios;
    size_t nratios;
} lm_report_summary;

/* The metric's name ("e2e", ...) and from a name: -1 when unknown. */
const char *lm_report_metric_name(lm_report_metric m);
int lm_report_metric_parse(const char *s);
/* The unit of its statistics, "ms" or "bytes". */
const char *lm_report_metric_unit(lm_report_metric m);

/* Reads s->db into s->groups (cells_load.c): by cell when s->by_cell
 * is 1, by service and cold/warm when 0, and when -1 by cell if the file
 * has cells, else by service (s->by_cell is then set). LM_OK or LM_ERR
 * with err (the file cannot be read; --by cell on a file without cells). */
int lm_report_summary_load(lm_report_summary *s, char *err);

/* The statistics of every group and the ratios (cells_stats.c). LM_ERR
 * with err when --baseline names a runtime no group has, or out of
 * memory. */
int lm_report_summary_compute(lm_report_summary *s, char *err);

/* Called for every request of the file, in id order, once the summaries
 * have counted it: group is its group's pass_index in the first summary
 * (-1 when it is in none; by service the groups are sorted after the
 * pass, so an index is found again by pass_index), counted 1 when it
 * counts (not excluded, not a warm-up). v is valid during the call only. Return LM_OK
 * to go on, LM_ERR (with the loader's err) to stop. */
typedef int (*lm_report_row_fn)(void *arg, const lm_results_request_view *v, long group,
                                int counted);

/* Reads one file into several summaries in one pass (the report reads
 * many metrics at once): all[0..n) must name the same db; all take
 * all[0].by_cell's choice, each gets its own metric's values, and fn (may
 * be NULL) sees every request. LM_OK or LM_ERR with err, as
 * lm_report_summary_load. */
int lm_report_summaries_load(lm_report_summary *all, size_t n, lm_report_row_fn fn, void *arg,
                             char *err);

void lm_report_summary_free(lm_report_summary *s);

/* Printing (cells_print.c). */
void lm_report_summary_print_table(FILE *out, const lm_report_summary *s);
void lm_report_summary_print_csv(FILE *out, const lm_report_summary *s);
void lm_report_summary_print_json(FILE *out, const lm_report_summary *s);

#endif
