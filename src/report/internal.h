/* internal.h -- what the report room's files share (doc.h is the
 * contract): the report in memory, its pools of cells, comparisons and
 * findings, and the figure table. Private names are lm__report_... */
#ifndef LM_REPORT_INTERNAL_H
#define LM_REPORT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "report/cells.h"
#include "report/doc.h"
#include "stats/stats.h"

/* The metrics read, one summary each (cells.h). */
enum { LM__E2E, LM__COMPUTE, LM__IO, LM__DESER, LM__SER, LM__CPU, LM__MEM, LM__NMETRIC };
extern const lm_report_metric lm__report_metrics[LM__NMETRIC];

/* Above this many values on both sides together, a comparison's interval
 * of the ratio comes from the two medians' intervals, not the bootstrap:
 * the bootstrap costs B (n_a + n_b) draws per comparison, and from 500
 * values a side the two agree to about 1% of the ratio (docs/report.md). */
#define LM__BOOT_MAX_VALUES 2000

/* A request's end-to-end time in parts (ms); they add up to it. */
enum {
    LM__P_CLIENT,   /* the load client and the loopback: e2e - the gateway's span */
    LM__P_PLATFORM, /* the gateway and channel: what is left */
    LM__P_QUEUE,    /* queued -> instance acquired, less the cold start it waited for */
    LM__P_COLD,     /* the cold start it waited for (cold_ready - cold_begin) */
    LM__P_DESER,
    LM__P_IO,
    LM__P_COMPUTE,
    LM__P_SER,
    LM__NPART
};
extern const char *const lm__report_part_names[LM__NPART];

/* A point of a trace replay's timeline. */
typedef struct {
    double t_s;    /* seconds from the cell's first request */
    double e2e_ms; /* its end-to-end time (NaN: no answer) */
    int64_t service_id;
    int cold, ok;
} lm__tl_point;

/* What a group gets beyond its statistics, from the same pass. */
typedef struct {
    double part_sum[LM_REPORT_SRC_COUNT][LM__NPART];
    size_t part_n[LM_REPORT_SRC_COUNT];
    int64_t first_ns, last_ns; /* counted answered rows: first sent, last received */
    size_t rows;               /* rows of the group in the file */
    char rows_file[96];        /* "rows/cell-12.csv" (relative to the report's folder) */
    int file_started;
    char first_error[200];
    int trace; /* its load is a trace replay: a timeline is kept */
    int64_t t0_ns;
    lm__tl_point *tl;
    size_t ntl, captl;
} lm__gx;

/* One instance: its cold start (and phases), and its requests' use. */
typedef struct {
    char *id, *runtime;
    int64_t service_id;
    int64_t start_ns; /* the pool decided to start it (NULL: unknown) */
    double cold_ms;   /* the whole cold start: placement + spawn to READY (NaN: never ready) */
    double *phase_ms; /* [nphase]: the phases (NaN: unknown) */
    double cpu_ms;    /* sum over its counted answered requests */
    double mem_peak;  /* the largest peak of one of them (bytes) */
    size_t requests;  /* those requests */
} lm__inst;

typedef struct {
    int64_t id;
    char *name, *function, *runtime;
} lm__service;

typedef struct {
    char *function, *runtime, *kind, *path;
    int64_t bytes;
} lm__artifact;

typedef struct {
    int64_t t_ns, service_id;
    char *kind, *instance_id, *detail;
} lm__event;

typedef struct {
    char *key, *value;
} lm__kv;

/* Groups equal in all but the repetition, their values pooled. */
typedef struct {
    const char *function, *runtime, *payload, *start, *load; /* the first group's */
    const char *node, *network; /* its environment (NULL: no such axis) */
    int64_t concurrency;
    double rate_rps;
    size_t *g; /* indexes into the E2E summary's groups */
    size_t ng;
    size_t count, errors, excluded, ok;
    double *x[LM__NMETRIC]; /* sorted values (the group's own when ng is 1) */
    size_t n[LM__NMETRIC];
    int owned[LM__NMETRIC];
    lm_stats_desc d[LM__NMETRIC];
    lm_stats_ci ci[LM__NMETRIC]; /* of the median */
    lm_stats_ci ci_p99;          /* of e2e's p99 */
    const char *e2e_source;
    double part_mean[LM__NPART]; /* mean of each part over the requests (ms) */
    size_t part_n;
    double throughput_rps; /* answered requests / (last received - first sent) */
    int base;              /* a closed loop of one client (or a platform's service) */
    int trace;
    const char *cls; /* "compute-bound", "data-bound" or "other" */
    const char *first_error;
} lm__pool;

/* One runtime against its baseline on one metric, in twin pools. */
typedef struct {
    const char *topic; /* "cold", "warm", "io", "ser", "cpu", "mem" */
    size_t pool, base; /* pools (for "cold": instances of pools' services) */
    const char *function, *runtime, *baseline, *payload;
    double a_median, b_median;
    size_t na, nb;
    lm_stats_ratio r;
    lm_stats_mwu u;
    int ok;          /* 0: no comparison (why says why) */
    int significant; /* the interval excludes 1 and p < 0.05 */
    char why[200];
} lm__cmp;

/* A finding: a sentence, the comparisons it stands on. */
typedef struct {
    const char *topic;
    char *runtime, *baseline, *subject; /* subject: a class or function */
    char *text;
    int supported; /* 1: a difference the data support; 0: none, or undecided */
    double lo, hi; /* the range of the ratios it states (NaN: none) */
    size_t *cmp;
    size_t ncmp;
    size_t *pools; /* the cells it comes from (pool indexes) */
    size_t npools;
} lm__finding;

/* The paper's finding and this machine's. */
typedef struct {
    const char *claim, *topic;
    char *measured;
    const char *verdict; /* "agrees", "differs", "partly", "no significant difference",
                            "not measured here" */
} lm__paper;

/* A figure: its files in figures/ and what it shows. */
typedef struct {
    char *id, *title, *caption;
    int drawn; /* SVG and PNG exist */
} lm__figure;

/* A base pool beside its twin in the reference environment (env.c): what
 * the environment adds to each part of the breakdown, and the ratios of
 * the compute and storage I/O medians with their intervals. */
typedef struct {
    size_t pool;
    long ref;                 /* the twin on the reference node and link (-1: none) */
    double add[LM__NPART];    /* part_mean - the twin's (ms; NaN without one) */
    double add_total;         /* of the mean end to end */
    lm__cmp compute, io, e2e; /* pool / twin (ok 0 without a twin) */
} lm__env_row;

struct lm_report_doc {
    lm_report_doc_opts o;
    double slo_ms;
    lm_report_summary sum[LM__NMETRIC];
    lm__gx *gx; /* by the E2E summary's pass_index */
    size_t ngx;
    size_t requests, unassigned_rows;
    lm__pool *pools;
    size_t npools;
    lm__inst *inst;
    size_t ninst;
    char **phase_names; /* the instances' phase_*_ns columns, or placement and start */
    size_t nphase;
    int phases_measured; /* 1: the file has phase columns (schema 4) */
    lm__service *svc;
    size_t nsvc;
    lm__artifact *art;
    size_t nart;
    lm__event *ev;
    size_t nev;
    lm__kv *meta;
    size_t nmeta;
    const char *base_ct, *base_io; /* the baselines used (NULL: none ran) */
    lm__cmp *cmp;
    size_t ncmp;
    lm__finding *fnd;
    size_t nfnd;
    lm__paper paper[6];
    lm__figure *fig;
    size_t nfig;
    char **notes;
    size_t nnotes;
    /* The environment dimension (env.c): set when the cells have more than
     * one node or network value. */
    int env;
    const char *ref_node, *ref_net; /* the reference environment (NULL: no such axis) */
    lm__env_row *envr;
    size_t nenvr;
    /* The rows' files while they are written. */
    struct lm__rowfile *rf;
    size_t nrf;
    char *err;
};

/* doc_read.c */
int lm__report_read(lm_report_doc *d, char *err);
const char *lm__report_meta(const lm_report_doc *d, const char *key); /* NULL: none */
const lm__service *lm__report_service(const lm_report_doc *d, int64_t id);
/* A note, printf-style (kept in d->notes). */
void lm__report_note(lm_report_doc *d, const char *fmt, ...) LM_PRINTF(2, 3);

/* doc_pools.c: pools and their statistics, instances' cold starts. */
int lm__report_pools(lm_report_doc *d, char *err);
/* The pool of function/runtime/payload/start/load/concurrency/rate, or -1. */
long lm__report_twin(const lm_report_doc *d, const lm__pool *p, const char *runtime);
/* The pool's name as the cells are named ("fibonacci@native/group:xs/warm/closed:1"). */
void lm__report_pool_name(const lm__pool *p, char *out, size_t n);
/* The workload class of a function by the catalog's profile. */
const char *lm__report_class(const char *function);
/* The whole cold starts (ms) of the instances of function on runtime:
 * malloc'd, sorted; *n their number. NULL when none (or out of memory). */
double *lm__report_cold_values(const lm_report_doc *d, const char *function, const char *runtime,
                               size_t *n);
/* Per-instance CPU (ms) and peak memory (bytes) of function on runtime
 * (which = 0 CPU, 1 memory): malloc'd, sorted. */
double *lm__report_inst_values(const lm_report_doc *d, const char *function, const char *runtime,
                               int which, size_t *n);
/* Is the runtime a Wasm one / a container one (by its name). */
int lm__report_is_wasm(const char *runtime);
int lm__report_is_container(const char *runtime);

/* findings.c */
int lm__report_findings(lm_report_doc *d, char *err);
/* The deployable size of function on runtime (bytes, -1: none) and the
 * artifact kind it is; compressed: the compressed image when there is one. */
int64_t lm__report_size(const lm_report_doc *d, const char *function, const char *runtime,
                        int compressed, const char **kind);

/* One comparison of a (n values, sorted) against b: the ratio of the
 * medians with its interval and the Mann-Whitney test, into c (whose
 * runtime and baseline name the sides in its why). */
void lm__report_compare(lm_report_doc *d, lm__cmp *c, const double *a, size_t na, const double *b,
                        size_t nb);

/* env.c: the environment dimension (docs/report.md). */
int lm__report_env(lm_report_doc *d, char *err);
/* "pi4/congested": the pool's node ("host" when none) and network ("none"
 * when none). */
void lm__report_env_label(const lm__pool *p, char *out, size_t n);
/* The reference environment's label ("host/none"). */
void lm__report_env_ref_label(const lm_report_doc *d, char *out, size_t n);
void lm__report_env_text(const lm_report_doc *d, FILE *f);
struct json_t;
struct json_t *lm__report_env_json(const lm_report_doc *d);
/* The table as CSV (DIR/environment.csv, and its columns in the JSON). */
void lm__report_env_csv(const lm_report_doc *d, FILE *f);
void lm__report_env_html(const lm_report_doc *d, FILE *f);

/* paper.c */
void lm__report_paper(lm_report_doc *d);

/* runtimes_info.c: what a runtime is, and what that means for its numbers. */
const char *lm__report_runtime_about(const char *runtime);

/* figures.c: writes every figure's CSV and script into DIR/figures and
 * draws them with gnuplot. */
int lm__report_figures(lm_report_doc *d, char *err);

/* A figure's files being written (figures.c). */
typedef struct {
    lm_report_doc *d;
    FILE *csv, *gp;
    char id[128];
    char path[2048]; /* DIR/figures/ID (no extension) */
} lm__fig;
/* Opens ID.csv and ID.gp and registers the figure; LM_ERR with err. */
int lm__fig_begin(lm_report_doc *d, lm__fig *f, const char *id, const char *title,
                  const char *caption, char *err);
/* Writes the terminal set-up and the body twice (SVG, then PNG) into
 * ID.gp: body is the plot commands (the data file is 'ID.csv'). */
void lm__fig_script(lm__fig *f, int width, int height, const char *body);
int lm__fig_end(lm__fig *f, char *err);
/* A label safe in a CSV field gnuplot reads and in its strings. */
void lm__fig_label(char *out, size_t n, const char *s);
/* A number for the CSV: %.9g, NaN for a missing value. */
void lm__fig_num(FILE *f, double v);

/* A series of a line figure: x and y of its points. */
typedef struct {
    const char *name, *xname, *yname;
    const double *x, *y;
    size_t n;
} lm__series;
/* Writes series side by side (columns "NAME X,NAME Y" each), padded with
 * NaN to the longest. */
void lm__fig_wide(FILE *csv, const lm__series *s, size_t ns);
/* A figure's width for clusters of series bars. */
int lm__fig_width(size_t clusters, size_t series);
/* Plot commands of clustered bars (column 1 the cluster's label, then per
 * series its value, or value, low, high with errorbars) and of stacked
 * bars (column 1 the label, then one column per part); __ID__ stands for
 * the figure's id until lm__fig_finish_script. */
void lm__fig_bars_body(char *out, size_t n, const char *title, const char *ylabel, int logy,
                       size_t nseries, int errorbars, int rotate);
void lm__fig_stack_body(char *out, size_t n, const char *title, const char *ylabel, size_t nparts,
                        int rotate);
void lm__fig_finish_script(lm__fig *f, int width, int height, const char *body);

/* The figure makers (fig_*.c), in the order of the report. */
int lm__fig_sizes(lm_report_doc *d, char *err);
int lm__fig_latency(lm_report_doc *d, char *err);
int lm__fig_cold(lm_report_doc *d, char *err);
int lm__fig_breakdown(lm_report_doc *d, char *err);
int lm__fig_cdf(lm_report_doc *d, char *err);
int lm__fig_resources(lm_report_doc *d, char *err);
int lm__fig_concurrency(lm_report_doc *d, char *err);
int lm__fig_timeline(lm_report_doc *d, char *err);
int lm__fig_env(lm_report_doc *d, char *err);

/* The runtimes of the pools, in order of first sight; *n their number. */
const char **lm__report_runtimes(const lm_report_doc *d, size_t *n);

/* html.c */
int lm__report_html(lm_report_doc *d, char *err);

/* Formatting shared by the outputs. */
void lm__report_fmt_ms(char *out, size_t n, double ms);
void lm__report_fmt_bytes(char *out, size_t n, double bytes);

#endif
