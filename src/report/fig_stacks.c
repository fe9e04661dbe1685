/* fig_stacks.c -- the report's stacked figures (figures.c's table): the
 * cold start split into its phases per function and runtime, and the
 * per-request latency breakdown (client, platform, queue, cold start,
 * deserialize, storage I/O, compute, serialize), absolute per function and
 * normalised for all. Stacks are of means: means add up, medians do not. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"

static int same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

int lm__fig_cold(lm_report_doc *d, char *err) {
    if (d->ninst == 0 || d->nsvc == 0) return LM_OK;
    char cap[1024];
    snprintf(cap, sizeof cap,
             "Each runtime's cold start split into its parts: the mean of each over the "
             "instances of a function that became ready (means, so that the parts add up to "
             "the mean cold start; the CSV has the median of the whole and the count). %s",
             d->phases_measured
                 ? "The phases are the instances table's phase_*_ns columns: placement (cgroup), "
                   "spawn, runtime start, module load or compile, instantiation, function init, "
                   "the READY frame's way (docs/results.md)."
                 : "This file has no phase columns (a schema before 4): the parts are placement "
                   "(placement_ms: the cgroup made and the process placed in it) and the "
                   "runtime's exec to its READY frame (cold_start_ms: runtime start, module load "
                   "or compile and function init together).");
    lm__fig fg;
    int made = 0;
    for (size_t s = 0; s < d->nsvc; s++) {
        const lm__service *sv = &d->svc[s];
        size_t n = 0;
        double sum[64] = {0}, *whole = lm__report_cold_values(d, sv->function, sv->runtime, &n);
        size_t cnt[64] = {0};
        if (!whole) continue;
        if (!made) {
            if (lm__fig_begin(d, &fg, "cold-phases", "Cold start by phase", cap, err) != LM_OK) {
                free(whole);
                return LM_ERR;
            }
            fputs("service", fg.csv);
            for (size_t p = 0; p < d->nphase && p < 64; p++) {
                char l[128];
                lm__fig_label(l, sizeof l, d->phase_names[p]);
                fprintf(fg.csv, ",%s ms", l);
            }
            fputs(",median cold start ms,instances\n", fg.csv);
            made = 1;
        }
        for (size_t i = 0; i < d->ninst; i++) {
            const lm__inst *in = &d->inst[i];
            if (in->service_id != sv->id || isnan(in->cold_ms)) continue;
            for (size_t p = 0; p < d->nphase && p < 64; p++)
                if (!isnan(in->phase_ms[p])) sum[p] += in->phase_ms[p], cnt[p]++;
        }
        char l[256];
        lm__fig_label(l, sizeof l, sv->name ? sv->name : "?");
        fputs(l, fg.csv);
        for (size_t p = 0; p < d->nphase && p < 64; p++) {
            fputc(',', fg.csv);
            lm__fig_num(fg.csv, cnt[p] ? sum[p] / (double)cnt[p] : NAN);
        }
        fputc(',', fg.csv);
        lm__fig_num(fg.csv, lm_stats_quantile(whole, n, 0.5));
        fprintf(fg.csv, ",%zu\n", n);
        free(whole);
    }
    if (!made) return LM_OK;
    char body[8192];
    lm__fig_stack_body(body, sizeof body, "Cold start by phase (mean over instances)", "ms",
                       d->nphase < 64 ? d->nphase : 64, 1);
    lm__fig_finish_script(&fg, lm__fig_width(d->nsvc, 1), 560, body);
    return lm__fig_end(&fg, err);
}

static void write_parts(FILE *csv, const lm__pool *p, int normalised) {
    double total = 0;
    for (int j = 0; j < LM__NPART; j++)
        total += p->part_mean[j];
    for (int j = 0; j < LM__NPART; j++) {
        fputc(',', csv);
        lm__fig_num(csv,
                    normalised ? (total > 0 ? p->part_mean[j] / total : NAN) : p->part_mean[j]);
    }
    fputc(',', csv);
    lm__fig_num(csv, total);
    fprintf(csv, ",%zu\n", p->part_n);
}

static void parts_header(FILE *csv, const char *unit) {
    fputs("cell", csv);
    for (int j = 0; j < LM__NPART; j++)
        fprintf(csv, ",%s %s", lm__report_part_names[j], unit);
    fputs(",end to end mean ms,requests\n", csv);
}

static void pool_label(FILE *csv, const lm__pool *p, int with_function) {
    char t[512], l[512];
    const char *pay =
        p->payload && strncmp(p->payload, "group:", 6) == 0 ? p->payload + 6 : p->payload;
    char env[160] = "";
    if (p->node || p->network) {
        env[0] = ' ';
        lm__report_env_label(p, env + 1, sizeof env - 1);
    }
    snprintf(t, sizeof t, "%s%s%s%s%s@%s%s", with_function && p->function ? p->function : "",
             with_function ? " " : "", pay ? pay : "", pay ? " " : "", p->start ? p->start : "?",
             p->runtime ? p->runtime : "?", env);
    lm__fig_label(l, sizeof l, t);
    fputs(l, csv);
}

int lm__fig_breakdown(lm_report_doc *d, char *err) {
    static const char cap[] =
        "Where a request's time goes: the mean of each part over the counted answered requests "
        "of closed-loop cells of one client (repetitions pooled), per payload group, start and "
        "runtime. client: the load client and the loopback (end to end less the gateway's "
        "ingress to response); queue: queued to instance acquired, less the cold start; cold "
        "start: the one the request waited for; deser, io, compute, ser: the function's own "
        "probes; platform: the rest (the gateway, the channel's frames). The parts add up to "
        "the mean end-to-end time.";
    int made_any = 0;
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *p = &d->pools[i];
        if (!p->base || !p->part_n || !p->function) continue;
        int first = 1;
        for (size_t j = 0; j < i && first; j++)
            first = !(d->pools[j].base && d->pools[j].part_n &&
                      same(d->pools[j].function, p->function));
        if (!first) continue;
        char id[256], title[300];
        snprintf(id, sizeof id, "breakdown-%s", p->function);
        snprintf(title, sizeof title, "Latency breakdown, %s (mean ms)", p->function);
        lm__fig fg;
        if (lm__fig_begin(d, &fg, id, title, cap, err) != LM_OK) return LM_ERR;
        parts_header(fg.csv, "ms");
        size_t rows = 0;
        for (size_t j = i; j < d->npools; j++) {
            const lm__pool *q = &d->pools[j];
            if (!q->base || !q->part_n || !same(q->function, p->function)) continue;
            pool_label(fg.csv, q, 0);
            write_parts(fg.csv, q, 0);
            rows++;
        }
        char body[8192];
        lm__fig_stack_body(body, sizeof body, title, "ms", LM__NPART, 1);
        lm__fig_finish_script(&fg, lm__fig_width(rows, 1), 560, body);
        if (lm__fig_end(&fg, err) != LM_OK) return LM_ERR;
        made_any = 1;
    }
    if (!made_any) return LM_OK;
    lm__fig fg;
    if (lm__fig_begin(d, &fg, "breakdown-normalised", "Latency breakdown, normalised",
                      "The parts of the breakdown figures as fractions of each cell's mean "
                      "end-to-end time (the same cells, all functions).",
                      err) != LM_OK)
        return LM_ERR;
    parts_header(fg.csv, "fraction");
    size_t rows = 0;
    for (size_t j = 0; j < d->npools; j++) {
        const lm__pool *q = &d->pools[j];
        if (!q->base || !q->part_n || !q->function) continue;
        pool_label(fg.csv, q, 1);
        write_parts(fg.csv, q, 1);
        rows++;
    }
    char body[8192];
    lm__fig_stack_body(body, sizeof body, "Latency breakdown, normalised", "fraction of end to end",
                       LM__NPART, 1);
    lm__fig_finish_script(&fg, lm__fig_width(rows, 1), 600, body);
    return lm__fig_end(&fg, err);
}
