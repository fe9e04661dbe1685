/* cells_stats.c -- `lumos results summary`: each group's statistics
 * (src/stats) over the values of its metric, and the ratio of every group's
 * median to the one of its twin on the baseline runtime, with a bootstrap
 * interval. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/cells.h"
#include "results/results.h"

static const char *const src_names[LM_REPORT_SRC_COUNT] = {"client", "gateway", "instance"};

/* The name of the values a non-e2e metric's statistics are over. */
static const char *column_of(lm_report_metric m) {
    static const char *const names[LM_REPORT_M_COUNT] = {
        [LM_REPORT_M_GATEWAY] = "gateway",    [LM_REPORT_M_INSTANCE] = "instance",
        [LM_REPORT_M_COMPUTE] = "compute_ns", [LM_REPORT_M_IO] = "io_ns",
        [LM_REPORT_M_DESER] = "deser_ns",     [LM_REPORT_M_SER] = "ser_ns",
        [LM_REPORT_M_CPU] = "cpu_ns",         [LM_REPORT_M_MEM] = "mem_peak_bytes",
    };
    return names[m];
}

static int describe(lm_report_group *g, lm_report_metric m, char *err) {
    g->source = 0;
    if (m == LM_REPORT_M_E2E) {
        /* The first source every answered row has; else the first any has. */
        int k = 0;
        while (k < LM_REPORT_SRC_COUNT && !(g->ok > 0 && g->src[k].n == g->ok))
            k++;
        if (k == LM_REPORT_SRC_COUNT) {
            k = 0;
            while (k < LM_REPORT_SRC_COUNT - 1 && g->src[k].n == 0)
                k++;
        }
        g->source = k;
        g->source_name = g->src[k].n ? src_names[k] : NULL; /* no values, no source */
    } else {
        g->source_name = column_of(m);
    }
    lm_report_vec *v = &g->src[g->source];
    g->x = v->v;
    g->n = v->n;
    g->missing = g->ok - v->n;
    if (lm_stats_describe(g->x, g->n, &g->d, err) != LM_OK ||
        lm_stats_ci_mean(g->x, g->n, 0.95, &g->ci_mean, err) != LM_OK ||
        lm_stats_ci_median(g->x, g->n, 0.95, &g->ci_median, err) != LM_OK)
        return LM_ERR;
    return LM_OK;
}

static int same_str(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Equal in everything but the runtime (the environment included). */
static int twins(const lm_report_group *a, const lm_report_group *b, int by_cell) {
    if (!same_str(a->function, b->function) || !same_str(a->start, b->start)) return 0;
    if (!by_cell) return 1;
    return same_str(a->payload, b->payload) && same_str(a->load, b->load) &&
           same_str(a->node, b->node) && same_str(a->network, b->network) &&
           a->concurrency == b->concurrency && a->repetition == b->repetition &&
           (a->rate_rps == b->rate_rps || (isnan(a->rate_rps) && isnan(b->rate_rps)));
}

static int has_runtime(const lm_report_summary *s, const char *rt) {
    for (size_t i = 0; i < s->ngroups; i++)
        if (same_str(s->groups[i].runtime, rt)) return 1;
    return 0;
}

static void ratio_of(lm_report_summary *s, lm_report_ratio *q) {
    const lm_report_group *g = &s->groups[q->group], *b = &s->groups[q->baseline];
    char err[LM_ERRLEN];
    if (g->n == 0 || b->n == 0) {
        snprintf(q->err, sizeof q->err, "no values on %s",
                 g->n == 0 ? "this side" : "the baseline's side");
        return;
    }
    if (lm_stats_bootstrap_ratio(g->x, g->n, b->x, b->n, &s->boot, &q->r, err) != LM_OK) {
        snprintf(q->err, sizeof q->err, "%.159s", err);
        return;
    }
    q->ok = 1;
}

static int ratios(lm_report_summary *s, char *err) {
    if (s->baseline && !has_runtime(s, s->baseline)) {
        char list[512] = "";
        size_t k = 0;
        for (size_t i = 0; i < s->ngroups; i++) {
            const char *rt = s->groups[i].runtime;
            int seen = 0;
            for (size_t j = 0; j < i; j++)
                seen |= same_str(s->groups[j].runtime, rt);
            if (rt && !seen && k < sizeof list)
                k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", k ? ", " : "", rt);
        }
        return lm_errf(err, "no %s ran on runtime '%s' (runtimes in %s: %s)",
                       s->by_cell ? "cell" : "service", s->baseline, s->db, k ? list : "none");
    }
    s->baseline_used = s->baseline ? s->baseline : has_runtime(s, "native") ? "native" : NULL;
    if (!s->baseline_used) return LM_OK;
    s->ratios = calloc(s->ngroups ? s->ngroups : 1, sizeof *s->ratios);
    if (!s->ratios) return lm_errf(err, "out of memory");
    for (size_t i = 0; i < s->ngroups; i++) {
        const lm_report_group *g = &s->groups[i];
        if (!g->runtime || same_str(g->runtime, s->baseline_used)) continue;
        for (size_t j = 0; j < s->ngroups; j++) {
            const lm_report_group *b = &s->groups[j];
            if (same_str(b->runtime, s->baseline_used) && twins(g, b, s->by_cell)) {
                s->ratios[s->nratios].group = i;
                s->ratios[s->nratios++].baseline = j;
                break;
            }
        }
    }
    int progress = lm_progress_enabled();
    for (size_t i = 0; i < s->nratios; i++) {
        if (progress)
            fprintf(stderr, "\rlumos results: bootstrap of ratio %zu of %zu", i + 1, s->nratios);
        ratio_of(s, &s->ratios[i]);
    }
    if (progress && s->nratios) fputs("\r\033[K", stderr);
    return LM_OK;
}

int lm_report_summary_compute(lm_report_summary *s, char *err) {
    for (size_t i = 0; i < s->ngroups; i++)
        if (describe(&s->groups[i], s->metric, err) != LM_OK) return LM_ERR;
    return s->no_ratios ? LM_OK : ratios(s, err);
}
