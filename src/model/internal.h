/* internal.h -- what the model room's files share: the requests and cells
 * as read (load.c), the blocks of requests that one measured combination
 * holds (pooled over repetitions), and the helpers of fitting and
 * predicting. Not a contract for other rooms (they use model.h and
 * compare.h). */
#ifndef LM_MODEL_INTERNAL_H
#define LM_MODEL_INTERNAL_H

#include "model/model.h"

#define LM__MODEL_NONE INT64_MIN

/* Where an end-to-end value comes from, in the order preferred. */
enum { LM__SRC_CLIENT, LM__SRC_GATEWAY, LM__SRC_INSTANCE, LM__NSRC };

/* One counted, answered request: its spans and parts in ms (NaN: not
 * measured). */
typedef struct {
    int32_t block;   /* its block */
    double io_bytes; /* io_read_bytes + io_write_bytes (NaN: not measured) */
    double span[LM__NSRC];
    double cold_ms;  /* the part of its instance's start it waited for (NaN warm) */
    double probe[4]; /* deser, io, compute, ser */
} lm__model_req;

/* A block: the requests of one function@runtime, start type, payload and
 * load (repetitions pooled); outside cells payload and load are NULL. */
typedef struct {
    char *function, *runtime, *start, *payload, *load;
    int64_t concurrency;
    double rate_rps;
    double nominal;           /* the size hook's size of the payload (NaN: none) */
    const char *nominal_unit; /* static */
    size_t *rows;             /* its requests, in id order */
    size_t n, cap;
} lm__model_block;

struct lm__model_data {
    lm__model_req *req;
    size_t nreq, capreq;
    lm__model_block *blocks;
    size_t nblocks;
    size_t last; /* the block of the previous request (a cache) */
};

/* The value of component c of request q when its series takes e2e from
 * src_e2e and the platform part from src_platform (NaN: none). */
double lm__model_value(const lm__model_req *q, lm_model_comp c, int src_e2e, int src_platform);

/* 1 when component c is one of the parts whose sum is e2e in a series with
 * these sources: platform, deser, io, compute, ser always, cold when the
 * platform part is the gateway's (a cold start is outside the instance's
 * span), client when e2e is the client's. The parts add up to e2e request
 * by request (client is defined as the rest). */
int lm__model_in_e2e(lm_model_comp c, int src_e2e, int src_platform);

/* The source names ("client", ...). */
extern const char *const lm__model_src_names[LM__NSRC];

/* Both forms of one component fitted to x/y and the one used chosen
 * (series.c): form is the model's; AUTO takes linear unless the linear
 * line is below 0 at floor_x, where the axis begins, or its lack of fit is
 * significant (p < 0.05) and log-log's less so. */
int lm__model_fit_comp(const double *x, const double *y, size_t n, lm_model_form form,
                       double floor_x, lm_model_fitc *f, char *err);

/* Where an axis begins: 0 bytes, 1 client, 0 requests per second. */
double lm__model_axis_floor(lm_model_axis a);

/* Chooses the series' sources and fits each of its components (series.c). */
int lm__model_series_fit(const lm_model *m, lm_model_series *s, char *err);

/* The line a fitted component uses (NULL when none). */
const lm_model_line *lm__model_used(const lm_model_fitc *f);

/* The predicted distribution at x from line l: the fitted mean there times
 * the relative residuals y / fitted of the requests ys[0..ny) measured at
 * level xl (additive residuals when a fitted value there is <= 0; values
 * below 0 are 0). LM_ERR only when out of memory. */
int lm__model_dist(const lm_model_line *l, double x, double xl, const double *ys, size_t ny,
                   lm_model_dist *out, char *err);

/* The median, p90, p99 and mean of v[0..n) (sorted in place) into out. */
void lm__model_describe(double *v, size_t n, lm_model_dist *out);

/* The index of the level of s nearest to x (by ln x when both are
 * positive), skipping level skip (SIZE_MAX: none). */
size_t lm__model_nearest(const lm_model_series *s, double x, size_t skip);

/* Grades a fit-based prediction at x with line l (the e2e one): fills
 * place, distance, trust and why of p (p->measured is read). */
void lm__model_grade(const lm_model_line *l, double x, lm_model_prediction *p);

/* 1 when a and b are the same string or both NULL. */
int lm__model_same(const char *a, const char *b);

#endif
