/* model.h -- the performance model: where a request's latency goes, fitted
 * against the payload's size and against the load, so that a user can ask
 * what an unmeasured size, runtime or concurrency would cost, and how far to
 * trust the answer (`lumos model DB`). docs/model.md is the method; in short:
 *
 *   components   per counted, answered request (ms): platform (the
 *                gateway's response_ns - ingress_ns less the cold start and
 *                the function's four probes), cold (the part of its
 *                instance's start it waited for, load.c), deser, io,
 *                compute, ser (the probes), client (e2e less all of those:
 *                the load client's and the network's part, when e2e is the
 *                client's), e2e (the first of the client, gateway and
 *                instance spans that every request of the series has, as
 *                `lumos results summary` chooses). The parts add up to e2e.
 *   series       the requests of one function@runtime and start type that
 *                differ along one axis only: the payload's size at one load
 *                (load, concurrency, rate), or the load (closed-loop
 *                concurrency, or open-loop rate) at one payload.
 *   size         a request's io_read_bytes + io_write_bytes when every
 *                request of the series moved bytes and they differ between
 *                payloads; else the payload group's nominal size for the
 *                function (the size hook below: fibonacci's n, ...).
 *   fit          least squares over every request (not over cell means),
 *                weighted by the inverse of each level's variance when
 *                every level has three or more requests, linear (y = a +
 *                b x: a fixed cost and a cost per unit) and log-log (ln y =
 *                a + b ln x: a power law); the one used is linear unless
 *                it is below 0 where the axis begins (a negative fixed
 *                cost) or the lack-of-fit test rejects it (p < 0.05) and
 *                log-log less (or the one --fit names). The slope's 95%
 *                interval by Student t; R^2, the residual standard error;
 *                with three or more levels the lack-of-fit F test of the
 *                line against the level means.
 *   prediction   per component the fitted mean at x times the relative
 *                residuals (y / fitted) of the requests of the nearest
 *                measured level: its median, p90 and p99; e2e as the sum,
 *                request by request, of its parts so predicted (the fitted
 *                component means plus their residuals). A runtime at a
 *                payload it did not run: a baseline runtime's requests
 *                there, scaled by the geometric mean of the two runtimes'
 *                median ratios on the payloads both ran.
 *   trust        where x lies (measured, inside the measured levels, or how
 *                many times beyond them), the 95% interval of the fitted
 *                mean at x, the number of levels, lack of fit: a grade
 *                high, medium or low, and why.
 *   validation   one level held out at a time, the rest fitted, the
 *                held-out level predicted: the relative error of its median
 *                and p90, per component.
 *
 * Errors: LM_OK / LM_ERR with a message in err (LM_ERRLEN bytes). */
#ifndef LM_MODEL_H
#define LM_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/* The latency components, in the order they happen and are printed. */
typedef enum {
    LM_MODEL_PLATFORM,
    LM_MODEL_COLD,
    LM_MODEL_DESER,
    LM_MODEL_IO,
    LM_MODEL_COMPUTE,
    LM_MODEL_SER,
    LM_MODEL_CLIENT, /* the load client's and the network's part: e2e less the rest */
    LM_MODEL_E2E,
    LM_MODEL_NCOMP
} lm_model_comp;

/* "platform", "cold", ..., "e2e"; -1 from a name it does not know. */
const char *lm_model_comp_name(lm_model_comp c);
int lm_model_comp_parse(const char *s);

/* ---- one straight line (fit.c) ----------------------------------------- */

typedef enum { LM_MODEL_LINEAR, LM_MODEL_LOGLOG, LM_MODEL_AUTO } lm_model_form;

const char *lm_model_form_name(lm_model_form f);

/* A least-squares line over (x[i], y[i]). For the log-log form every
 * number but rmse is on the log scale: the slope is the exponent of
 * y = e^intercept x^slope. */
typedef struct {
    int ok;        /* 0: no fit; why says why */
    char why[120]; /* "one level of x", "a value <= 0 (no log-log)", ... */
    lm_model_form form;
    size_t n, levels;             /* points, distinct x values */
    double xmin, xmax, xbar, sxx; /* on the fit's scale (ln x for log-log) */
    int weighted;                 /* 1: weights 1 / (the level's variance); 0: all 1 */
    double wsum;                  /* the sum of the weights (n when unweighted) */
    double intercept, slope;
    double slope_se, slope_lo, slope_hi; /* 95% Student t, df n - 2 (NaN when n < 3) */
    double r2;                           /* 1 - SSR / SST, weighted (NaN when SST is 0) */
    double rse;                          /* sqrt(SSR / (n - 2)), weighted, the fit's scale */
    double rmse;                         /* sqrt(mean (y - fitted)^2), on y's own scale */
    double rrmse; /* sqrt(mean (y / fitted - 1)^2): relative (infinite when a fitted is <= 0) */
    /* Lack of fit (levels >= 3 and replicates): F = (SS_lof / (m - 2)) /
     * (SS_pe / (n - m)) and its upper tail p; NaN otherwise. */
    double lof_f, lof_p;
    /* The largest distance of a level's mean from the line, relative to the
     * line there, on y's scale (levels >= 3; NaN otherwise). */
    double lof_dev;
} lm_model_line;

/* Fits y = a + b x (LINEAR) or ln y = a + b ln x (LOGLOG) to n points.
 * Needs two distinct x values (and for LOGLOG x > 0 and y > 0 throughout);
 * else out->ok = 0 with why. LM_ERR only for a value that is not finite
 * or out of memory. */
int lm_model_line_fit(const double *x, const double *y, size_t n, lm_model_form form,
                      lm_model_line *out, char *err);

/* The fitted value at x on y's own scale (e^(a + b ln x) for LOGLOG; NaN
 * for x <= 0 there). */
double lm_model_line_at(const lm_model_line *l, double x);

/* The 95% interval of the fitted mean at x (y's own scale): linear
 * fitted +- t(0.975, n - 2) rse sqrt(1/n + (x - xbar)^2 / sxx); log-log the
 * same on the log scale, exponentiated. NaN when n < 3. */
void lm_model_line_mean_ci(const lm_model_line *l, double x, double *lo, double *hi);

/* ---- the model ----------------------------------------------------------- */

/* The size of a payload for a function, when requests do not say it by
 * their I/O: fibonacci's n in payload "group:1", ...; NaN when there is
 * none. *unit gets a static name ("n", "bytes", "pixels"). The model room
 * knows no data set: the command wires one in (NULL: none). */
typedef double (*lm_model_size_fn)(const char *function, const char *payload, const char **unit);

typedef enum { LM_MODEL_AXIS_SIZE, LM_MODEL_AXIS_CONCURRENCY, LM_MODEL_AXIS_RATE } lm_model_axis;

const char *lm_model_axis_name(lm_model_axis a); /* "size", "concurrency", "rate" */

/* One component of one series: the line of each form and the one used. */
typedef struct {
    int have;    /* 1: the series' requests have this component */
    size_t n;    /* requests with it */
    double mean; /* its mean over them, ms */
    lm_model_line lin, log;
    lm_model_form used; /* LINEAR or LOGLOG; a failed line is never used */
    int ok;             /* a line is there */
} lm_model_fitc;

typedef struct lm_model_series lm_model_series;

/* What the series is, for printing: its strings are owned by the model. */
struct lm_model_series {
    lm_model_axis axis;
    const char *function, *runtime, *start;
    /* The fixed part: for the size axis the load ("closed", "open",
     * "trace", NULL outside cells) with its concurrency or rate; for the
     * load axes the payload. */
    const char *load, *payload;
    int64_t concurrency;         /* LM_RESULTS_NULL-like INT64_MIN when none */
    double rate_rps;             /* NaN when none */
    const char *x_name;          /* "io_bytes", "n", "pixels", "bytes", "concurrency", "rate" */
    const char *x_unit;          /* "bytes", "n", "pixels", "clients", "rps" */
    int x_is_io;                 /* 1: x is the request's measured I/O bytes */
    const char *e2e_source;      /* "client", "gateway", "instance" */
    const char *platform_source; /* "gateway" or "instance" (no gateway) */
    int e2e_src, platform_src;   /* the same as indexes (internal.h) */
    size_t nrows;
    size_t *rows;   /* into the model's requests */
    double *x;      /* each request's x */
    double *levels; /* distinct x, ascending */
    size_t *at;     /* requests per level */
    size_t *first;  /* index into rows (and x) of each level's first request */
    size_t nlevels;
    double io_per_nominal; /* io bytes per nominal size unit, median (x_is_io); NaN */
    lm_model_fitc c[LM_MODEL_NCOMP];
};

typedef struct {
    const char *db;
    lm_model_form form;    /* LINEAR, LOGLOG or AUTO (0 is LINEAR: set AUTO) */
    lm_model_size_fn size; /* may be NULL */
    const char *function;  /* only this function (NULL: all) */
    const char *runtime;   /* only this runtime (NULL: all) */
    const char *baseline;  /* runtime of runtime predictions (NULL: native, else most cells) */
    /* Filled by lm_model_load and lm_model_fit: */
    int version;
    int by_cell;      /* the file has cells */
    size_t nrequests; /* counted, answered requests read */
    size_t skipped;   /* requests left out: excluded, warm-ups, no 2xx answer */
    size_t unplaced;  /* requests of no cell (in a file with cells) or no service */
    lm_model_series *series;
    size_t nseries;
    size_t single;               /* would-be series with one level only */
    size_t nosize;               /* function@runtime groups with no size to fit against */
    struct lm__model_data *data; /* the requests and cells (internal.h) */
} lm_model;

/* Reads m->db (read-only, any schema 1 to 3) into the model. LM_ERR with
 * err: the file cannot be read, is newer than this Lumos, or holds no
 * counted, answered request ("... holds no answered request: nothing to
 * model"). */
int lm_model_load(lm_model *m, char *err);

/* Builds the series and fits every component of each. LM_ERR only when out
 * of memory. */
int lm_model_fit(lm_model *m, char *err);

/* Frees what load and fit made. NULL is a harmless no-op. */
void lm_model_free(lm_model *m);

/* ---- predictions (predict.c) --------------------------------------------- */

/* What to predict: --predict 'F@R,start=warm,size=X' and friends. Fields
 * not given are NULL / NaN / INT64_MIN: any series that matches. */
typedef struct {
    char function[128], runtime[64], start[16], payload[128], load[16];
    double size;         /* x on the size axis, in the series' unit */
    int64_t concurrency; /* INT64_MIN: not given */
    double rate_rps;     /* NaN: not given */
} lm_model_target;

/* Parses "F@R[,key=value]..." with keys start (cold, warm), size (a number
 * with an optional k/M/G/Ki/Mi/Gi suffix), payload, load, concurrency,
 * rate. LM_ERR with err naming the bad part. */
int lm_model_target_parse(const char *s, lm_model_target *t, char *err);

/* Parses a level to hold out: exactly one of payload=P, size=X,
 * concurrency=N, rate=R. LM_ERR with err otherwise. */
int lm_model_holdout_parse(const char *s, lm_model_target *t, char *err);

typedef struct {
    double median_ms, p90_ms, p99_ms; /* of the predicted distribution */
    double mean_ms;                   /* the fitted mean (or the scaled baseline's mean) */
    double mean_lo_ms, mean_hi_ms;    /* its 95% interval (NaN when none) */
    int ok;
} lm_model_dist;

/* One prediction: one method on one series (or one baseline). */
typedef struct {
    char function[128], runtime[64]; /* what is predicted */
    const char *method;            /* "size fit", "concurrency fit", "rate fit", "runtime ratio" */
    const lm_model_series *series; /* the series fitted (size, load fits); NULL for a ratio */
    char where[200];               /* the fixed part, in words */
    double x;                      /* the target's x (NaN for a ratio) */
    char x_from[512];              /* how x was found ("payload group:3: n = 1000000") */
    char trust[16];                /* "high", "medium", "low" */
    char why[320];                 /* the reasons for the grade */
    char place[32];                /* "measured", "interpolation", "extrapolation" */
    double distance;               /* extrapolation factor beyond the levels (1 inside) */
    /* For a ratio: the baseline, the payloads both ran and the ratio's
     * geometric mean and range (of e2e medians). */
    const char *baseline;
    size_t shared;
    double ratio, ratio_min, ratio_max;
    int measured;                       /* the target was measured: meas holds it */
    lm_model_dist comp[LM_MODEL_NCOMP]; /* per component (ok = 0: none) */
    lm_model_dist meas[LM_MODEL_NCOMP]; /* the measurement at the target, when there is one */
} lm_model_prediction;

/* Every prediction for t the model can give, into *out (the caller frees
 * it with free()), *n their count. LM_ERR with err when nothing matches t
 * (naming what the file has) or out of memory. */
int lm_model_predict(const lm_model *m, const lm_model_target *t, lm_model_prediction **out,
                     size_t *n, char *err);

/* One held-out level of one series, one component. */
typedef struct {
    const lm_model_series *series;
    double x;     /* the held-out level */
    int exterior; /* 1: it was the smallest or largest level (an extrapolation) */
    lm_model_comp comp;
    lm_model_form form;
    double pred_median_ms, pred_p90_ms, meas_median_ms, meas_p90_ms;
    double median_rel_err, p90_rel_err; /* pred / meas - 1 (NaN when meas is 0) */
    char trust[16];
} lm_model_check;

/* The checks of a validation (free them with lm_model_validation_free). */
typedef struct {
    lm_model_check *rows;
    size_t n;
    size_t series; /* series with three or more levels (those that can be checked) */
} lm_model_validation;

/* Holds out each level of every series with three or more levels (or only
 * the levels holdout names: its payload, size, concurrency or rate, as
 * lm_model_holdout_parse reads them; holdout may be NULL), fits the rest
 * with the model's form and predicts it into *v. LM_ERR with err when the
 * holdout names a level no such series has, or out of memory. */
int lm_model_validate(const lm_model *m, const lm_model_target *holdout, lm_model_validation *v,
                      char *err);
/* Frees its rows. NULL is a harmless no-op. */
void lm_model_validation_free(lm_model_validation *v);

/* ---- printing (print.c) ------------------------------------------------- */

/* The model as text or JSON: every series' fits when p and v are both
 * NULL (JSON: always), then the np predictions of p, then the validation
 * v (either may be NULL). */
void lm_model_print_text(FILE *out, const lm_model *m, const lm_model_prediction *p, size_t np,
                         const lm_model_validation *v);
void lm_model_print_json(FILE *out, const lm_model *m, const lm_model_prediction *p, size_t np,
                         const lm_model_validation *v);

#endif
