/* compare.c -- two databases' groups matched and their medians compared
 * (compare.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/compare.h"
#include "model/internal.h"
#include "results/results.h"

static int load(lm_report_summary *s, const char *db, lm_report_metric metric, int by_cell,
                char *err) {
    lm_report_summary_free(s);
    memset(s, 0, sizeof *s);
    s->db = db;
    s->metric = metric;
    s->by_cell = by_cell;
    /* Each file's own ratios to a baseline are not used here: one resample
     * keeps them cheap. */
    s->boot = (lm_stats_boot_opts){1, 1, 0.95, LM_STATS_MEDIAN};
    return lm_report_summary_load(s, err);
}

static int stop_at_first(void *arg, const lm_results_request_view *v) {
    (void)v;
    *(int *)arg = 1;
    return LM_ERR;
}

/* LM_OK when db can be read and holds a request; LM_ERR with err when it
 * cannot be read or holds none (checked first: the cells' loader is then
 * not asked to group nothing). */
static int has_requests(const char *db, char *err) {
    lm_results_reader *r = lm_results_reader_open(db, err);
    if (!r) return LM_ERR;
    int seen = 0, rc = lm_results_reader_requests(r, stop_at_first, &seen, err);
    lm_results_reader_close(r);
    if (seen) return LM_OK;
    if (rc == LM_OK) lm_errf(err, "%s holds no request: nothing to compare", db);
    return LM_ERR;
}

static int same_rate(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

static int same_key(const lm_report_group *a, const lm_report_group *b) {
    return lm__model_same(a->function, b->function) && lm__model_same(a->runtime, b->runtime) &&
           lm__model_same(a->payload, b->payload) && lm__model_same(a->start, b->start) &&
           lm__model_same(a->load, b->load) && a->concurrency == b->concurrency &&
           same_rate(a->rate_rps, b->rate_rps) && a->repetition == b->repetition;
}

static int same_name(const lm_report_group *a, const lm_report_group *b, int by_cell) {
    return lm__model_same(a->name, b->name) && (by_cell || lm__model_same(a->start, b->start));
}

static void ratio(lm_model_compare *c, lm_model_cmp_row *r) {
    const lm_report_group *a = &c->s1.groups[r->a], *b = &c->s2.groups[r->b];
    char err[LM_ERRLEN];
    r->p99_ratio = NAN;
    r->same_source = lm__model_same(a->source_name, b->source_name);
    if (a->n == 0 || b->n == 0) {
        snprintf(r->err, sizeof r->err, "no values in %s",
                 a->n == 0 && b->n == 0 ? "either file"
                 : a->n == 0            ? "DB1"
                                        : "DB2");
        return;
    }
    lm_stats_boot_opts o = c->boot;
    o.center = LM_STATS_MEDIAN;
    if (lm_stats_bootstrap_ratio(b->x, b->n, a->x, a->n, &o, &r->r, err) != LM_OK) {
        snprintf(r->err, sizeof r->err, "%.159s", err);
        return;
    }
    r->ok = 1;
    if (a->d.p99 > 0) r->p99_ratio = b->d.p99 / a->d.p99;
    if (r->r.ci.ok && r->r.ci.lo > 1) r->change = 1;
    if (r->r.ci.ok && r->r.ci.hi < 1) r->change = -1;
    c->slower += r->change > 0;
    c->faster += r->change < 0;
}

int lm_model_compare_run(lm_model_compare *c, char *err) {
    if (has_requests(c->db1, err) != LM_OK || has_requests(c->db2, err) != LM_OK) return LM_ERR;
    if (load(&c->s1, c->db1, c->metric, -1, err) != LM_OK ||
        load(&c->s2, c->db2, c->metric, -1, err) != LM_OK)
        return LM_ERR;
    c->note[0] = 0;
    if (c->s1.by_cell != c->s2.by_cell) {
        snprintf(c->note, sizeof c->note, "compared by service and start type: %s has no cells",
                 c->s1.by_cell ? c->db2 : c->db1);
        lm_report_summary *s = c->s1.by_cell ? &c->s1 : &c->s2;
        if (load(s, s->db, c->metric, 0, err) != LM_OK) return LM_ERR;
    }
    c->by_cell = c->s1.by_cell;
    for (int k = 0; k < 2; k++) {
        const lm_report_summary *s = k ? &c->s2 : &c->s1;
        if (s->ngroups == 0)
            return lm_errf(err, "%s holds no request of a %s: nothing to compare", s->db,
                           s->by_cell ? "cell" : "service");
    }
    if (lm_report_summary_compute(&c->s1, err) != LM_OK ||
        lm_report_summary_compute(&c->s2, err) != LM_OK)
        return LM_ERR;
    size_t n1 = c->s1.ngroups, n2 = c->s2.ngroups;
    unsigned char *used = calloc(n2, 1);
    c->rows = calloc(n1, sizeof *c->rows);
    c->only1 = calloc(n1, sizeof *c->only1);
    c->only2 = calloc(n2, sizeof *c->only2);
    if (!used || !c->rows || !c->only1 || !c->only2) {
        free(used);
        return lm_errf(err, "out of memory");
    }
    /* Names first (the same spec names its cells the same), then keys. */
    long *match = malloc(n1 * sizeof *match);
    const char **how = malloc(n1 * sizeof *how);
    if (!match || !how) {
        free(used), free(match), free(how);
        return lm_errf(err, "out of memory");
    }
    for (size_t i = 0; i < n1; i++) {
        match[i] = -1;
        for (size_t j = 0; j < n2 && match[i] < 0; j++)
            if (!used[j] && same_name(&c->s1.groups[i], &c->s2.groups[j], c->by_cell))
                match[i] = (long)j, used[j] = 1, how[i] = "name";
    }
    for (size_t i = 0; i < n1 && c->by_cell; i++)
        for (size_t j = 0; j < n2 && match[i] < 0; j++)
            if (!used[j] && same_key(&c->s1.groups[i], &c->s2.groups[j]))
                match[i] = (long)j, used[j] = 1, how[i] = "key";
    int progress = lm_progress_enabled();
    for (size_t i = 0; i < n1; i++) {
        if (match[i] < 0) {
            c->only1[c->nonly1++] = i;
            continue;
        }
        lm_model_cmp_row *r = &c->rows[c->nrows++];
        r->a = i;
        r->b = (size_t)match[i];
        r->matched_by = how[i];
        if (progress) fprintf(stderr, "\rlumos compare: bootstrap %zu of %zu", i + 1, n1);
        ratio(c, r);
    }
    if (progress) fputs("\r\033[K", stderr);
    for (size_t j = 0; j < n2; j++)
        if (!used[j]) c->only2[c->nonly2++] = j;
    free(used), free(match), free(how);
    return LM_OK;
}

void lm_model_compare_free(lm_model_compare *c) {
    if (!c) return;
    lm_report_summary_free(&c->s1);
    lm_report_summary_free(&c->s2);
    free(c->rows), free(c->only1), free(c->only2);
    c->rows = NULL;
    c->only1 = c->only2 = NULL;
    c->nrows = c->nonly1 = c->nonly2 = 0;
}
