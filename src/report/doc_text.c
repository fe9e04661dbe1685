/* doc_text.c -- the report as text tables for a terminal and as JSON
 * (doc.h): the same numbers as the HTML page, without the figures' images
 * (the JSON has every figure's table of the HTML, the findings with their
 * comparisons, the paper's six findings and the notes). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"
#include "results/results.h"

static void load_name(char *out, size_t n, const lm_report_group *g) {
    if (g->load && g->concurrency != LM_RESULTS_NULL)
        snprintf(out, n, "%s:%lld", g->load, (long long)g->concurrency);
    else if (g->load && !isnan(g->rate_rps))
        snprintf(out, n, "%s:%grps", g->load, g->rate_rps);
    else
        snprintf(out, n, "%s", g->load ? g->load : "-");
}

void lm_report_doc_print_text(const lm_report_doc *d, FILE *f) {
    const char *name = lm__report_meta(d, "experiment.name");
    fprintf(f, "Lumos report%s%s: %zu requests in %zu %s of %s\n\n", name ? " " : "",
            name ? name : "", d->requests, d->sum[0].ngroups,
            d->sum[0].by_cell ? "cells" : "groups (service and start)", d->o.db);
    fprintf(f, "machine: %s, %s %s, %s CPUs (%s), kernel %s\n",
            lm__report_meta(d, "host_name") ? lm__report_meta(d, "host_name") : "?",
            lm__report_meta(d, "host_os") ? lm__report_meta(d, "host_os") : "?",
            lm__report_meta(d, "host_arch") ? lm__report_meta(d, "host_arch") : "?",
            lm__report_meta(d, "host_cpus") ? lm__report_meta(d, "host_cpus") : "?",
            lm__report_meta(d, "machine.cpu_model") ? lm__report_meta(d, "machine.cpu_model")
                                                    : "model not recorded",
            lm__report_meta(d, "host_kernel") ? lm__report_meta(d, "host_kernel") : "?");
    size_t nr = 0;
    const char **rts = lm__report_runtimes(d, &nr);
    fputs("\nruntimes:\n", f);
    for (size_t r = 0; rts && r < nr; r++) {
        char key[256];
        snprintf(key, sizeof key, "machine.runtime.%s", rts[r]);
        fprintf(f, "  %-22s %s\n", rts[r],
                lm__report_meta(d, key) ? lm__report_meta(d, key) : "(version not recorded)");
    }
    free(rts);

    const lm_report_summary *s = &d->sum[LM__E2E];
    fprintf(f, "\n%s, end to end (ms): median [95%% interval], p99; medians of the parts\n",
            s->by_cell ? "cells" : "services");
    fprintf(f, "%-52s %-10s %6s %5s %22s %9s %9s %9s %9s %9s %10s\n", "cell", "load", "n", "err",
            "median [lo, hi]", "p99", "compute", "io", "ser", "cpu", "mem_bytes");
    for (size_t i = 0; i < s->ngroups; i++) {
        const lm_report_group *g = &s->groups[i];
        char load[64], med[128], p99[32], c[5][32];
        load_name(load, sizeof load, g);
        if (g->n == 0) {
            fprintf(f, "%-52.52s %-10s %6zu %5zu %22s\n", g->name ? g->name : "?", load, g->n,
                    g->errors, "no successful request");
            continue;
        }
        char a[32], b[32], m[32];
        lm__report_fmt_ms(m, sizeof m, g->d.median);
        lm__report_fmt_ms(a, sizeof a, g->ci_median.ok ? g->ci_median.lo : NAN);
        lm__report_fmt_ms(b, sizeof b, g->ci_median.ok ? g->ci_median.hi : NAN);
        snprintf(med, sizeof med, "%s [%s, %s]", m, a, b);
        lm__report_fmt_ms(p99, sizeof p99, g->d.p99);
        static const int mm[] = {LM__COMPUTE, LM__IO, LM__SER, LM__CPU};
        for (int k = 0; k < 4; k++) {
            const lm_report_group *gm = &d->sum[mm[k]].groups[i];
            lm__report_fmt_ms(c[k], sizeof c[k], gm->n ? gm->d.median : NAN);
        }
        const lm_report_group *gmem = &d->sum[LM__MEM].groups[i];
        snprintf(c[4], sizeof c[4], "%.0f", gmem->n ? gmem->d.median : NAN);
        fprintf(f, "%-52.52s %-10s %6zu %5zu %22s %9s %9s %9s %9s %9s %10s\n",
                g->name ? g->name : "?", load, g->n, g->errors, med, p99, c[0], c[1], c[2], c[3],
                c[4]);
    }

    fprintf(f, "\ncold start by %s (mean ms over the instances that became ready)\n",
            d->phases_measured ? "phase" : "part (placement; exec to READY)");
    fprintf(f, "%-34s", "service");
    for (size_t p = 0; p < d->nphase; p++)
        fprintf(f, " %12.12s", d->phase_names[p]);
    fprintf(f, " %10s %9s\n", "median", "instances");
    for (size_t sv = 0; sv < d->nsvc; sv++) {
        size_t n = 0;
        double *v = lm__report_cold_values(d, d->svc[sv].function, d->svc[sv].runtime, &n);
        if (!v) continue;
        fprintf(f, "%-34.34s", d->svc[sv].name ? d->svc[sv].name : "?");
        for (size_t p = 0; p < d->nphase; p++) {
            double sum = 0;
            size_t k = 0;
            for (size_t i = 0; i < d->ninst; i++)
                if (d->inst[i].service_id == d->svc[sv].id && !isnan(d->inst[i].cold_ms) &&
                    !isnan(d->inst[i].phase_ms[p]))
                    sum += d->inst[i].phase_ms[p], k++;
            char b[32];
            lm__report_fmt_ms(b, sizeof b, k ? sum / (double)k : NAN);
            fprintf(f, " %12s", b);
        }
        char b[32];
        lm__report_fmt_ms(b, sizeof b, lm_stats_quantile(v, n, 0.5));
        fprintf(f, " %10s %9zu\n", b, n);
        free(v);
    }

    fputs("\nlatency breakdown (mean ms of the counted answered requests; closed loops of one)\n",
          f);
    fprintf(f, "%-52s", "cell");
    for (int j = 0; j < LM__NPART; j++)
        fprintf(f, " %9.9s", lm__report_part_names[j]);
    fprintf(f, " %9s\n", "total");
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *p = &d->pools[i];
        if (!p->base || !p->part_n) continue;
        char pname[512];
        lm__report_pool_name(p, pname, sizeof pname);
        fprintf(f, "%-52.52s", pname);
        double t = 0;
        for (int j = 0; j < LM__NPART; j++) {
            char b[32];
            lm__report_fmt_ms(b, sizeof b, p->part_mean[j]);
            fprintf(f, " %9s", b);
            t += p->part_mean[j];
        }
        char b[32];
        lm__report_fmt_ms(b, sizeof b, t);
        fprintf(f, " %9s\n", b);
    }

    lm__report_env_text(d, f);

    fputs("\nfindings:\n", f);
    if (d->nfnd == 0) fputs("- none: one runtime only, or no baseline in the file\n", f);
    for (size_t i = 0; i < d->nfnd; i++)
        if (d->fnd[i].text) fprintf(f, "- %s\n", d->fnd[i].text);
    fputs("\nthe paper's findings and this machine's:\n", f);
    for (int i = 0; i < 6; i++)
        fprintf(f, "%d. %s\n   here: %s\n   verdict: %s\n", i + 1, d->paper[i].claim,
                d->paper[i].measured ? d->paper[i].measured : "-", d->paper[i].verdict);
    if (d->nnotes) {
        fputs("\nnotes:\n", f);
        for (size_t i = 0; i < d->nnotes; i++)
            fprintf(f, "- %s\n", d->notes[i]);
    }
}

static json_t *real(double v) { return isnan(v) || isinf(v) ? json_null() : json_real(v); }

static json_t *str(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *ci_json(const lm_stats_ci *c) {
    if (!c->ok && isnan(c->lo) && isnan(c->hi)) return json_null();
    return json_pack("{s:o, s:o, s:f}", "lo", real(c->lo), "hi", real(c->hi), "level", c->level);
}

static json_t *group_json(const lm_report_doc *d, size_t i) {
    const lm_report_group *g = &d->sum[LM__E2E].groups[i];
    long pi = g->pass_index;
    const lm__gx *x = pi >= 0 && (size_t)pi < d->ngx ? &d->gx[pi] : NULL;
    json_t *o = json_object();
    json_object_set_new(o, "name", str(g->name));
    json_object_set_new(o, "cell_id",
                        g->cell_id == LM_RESULTS_NULL ? json_null() : json_integer(g->cell_id));
    json_object_set_new(o, "service_id",
                        g->service_id == LM_RESULTS_NULL ? json_null()
                                                         : json_integer(g->service_id));
    json_object_set_new(o, "function", str(g->function));
    json_object_set_new(o, "runtime", str(g->runtime));
    json_object_set_new(o, "payload", str(g->payload));
    json_object_set_new(o, "start", str(g->start));
    json_object_set_new(o, "load", str(g->load));
    json_object_set_new(o, "node", str(g->node));
    json_object_set_new(o, "network", str(g->network));
    json_object_set_new(o, "concurrency",
                        g->concurrency == LM_RESULTS_NULL ? json_null()
                                                          : json_integer(g->concurrency));
    json_object_set_new(o, "rate_rps", real(g->rate_rps));
    json_object_set_new(o, "rows", json_integer(x ? (json_int_t)x->rows : 0));
    json_object_set_new(o, "rows_file",
                        x && x->file_started ? json_string(x->rows_file) : json_null());
    json_object_set_new(o, "count", json_integer((json_int_t)g->count));
    json_object_set_new(o, "errors", json_integer((json_int_t)g->errors));
    json_object_set_new(o, "excluded", json_integer((json_int_t)g->excluded));
    json_object_set_new(o, "e2e_source", str(g->source_name));
    for (int m = 0; m < LM__NMETRIC; m++) {
        const lm_report_group *gm = &d->sum[m].groups[i];
        json_t *s = json_object();
        json_object_set_new(s, "n", json_integer((json_int_t)gm->n));
        json_object_set_new(s, "median", real(gm->n ? gm->d.median : NAN));
        json_object_set_new(s, "mean", real(gm->n ? gm->d.mean : NAN));
        json_object_set_new(s, "p99", real(gm->n ? gm->d.p99 : NAN));
        json_object_set_new(s, "median_ci95", gm->n ? ci_json(&gm->ci_median) : json_null());
        char key[64];
        snprintf(key, sizeof key, "%s_%s", lm_report_metric_name(lm__report_metrics[m]),
                 lm_report_metric_unit(lm__report_metrics[m]));
        json_object_set_new(o, key, s);
    }
    return o;
}

static json_t *cmp_json(const lm_report_doc *d, const lm__cmp *c) {
    char a[512], b[512];
    lm__report_pool_name(&d->pools[c->pool], a, sizeof a);
    lm__report_pool_name(&d->pools[c->base], b, sizeof b);
    json_t *o = json_object();
    json_object_set_new(o, "topic", json_string(c->topic));
    json_object_set_new(o, "cell", json_string(a));
    json_object_set_new(o, "baseline_cell", c->base != c->pool ? json_string(b) : json_null());
    json_object_set_new(o, "runtime", str(c->runtime));
    json_object_set_new(o, "baseline", str(c->baseline));
    json_object_set_new(o, "n", json_integer((json_int_t)c->na));
    json_object_set_new(o, "baseline_n", json_integer((json_int_t)c->nb));
    json_object_set_new(o, "median", real(c->a_median));
    json_object_set_new(o, "baseline_median", real(c->b_median));
    json_object_set_new(o, "ok", json_boolean(c->ok));
    json_object_set_new(o, "ratio", c->ok ? real(c->r.ratio) : json_null());
    json_object_set_new(o, "ratio_ci95", c->ok ? ci_json(&c->r.ci) : json_null());
    json_object_set_new(o, "ratio_method",
                        !c->ok ? json_null()
                        : c->r.resamples == 0
                            ? json_string("log-normal from the medians' intervals")
                            : json_string("bootstrap"));
    json_object_set_new(o, "mann_whitney_p", c->ok ? real(c->u.p) : json_null());
    json_object_set_new(o, "mann_whitney_u", c->ok ? real(c->u.u) : json_null());
    json_object_set_new(o, "significant", json_boolean(c->significant));
    json_object_set_new(o, "why", c->why[0] ? json_string(c->why) : json_null());
    return o;
}

void lm_report_doc_print_json(const lm_report_doc *d, FILE *f) {
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "db", json_string(d->o.db));
    json_object_set_new(o, "schema_version", json_integer(d->sum[0].version));
    json_object_set_new(o, "requests", json_integer((json_int_t)d->requests));
    json_object_set_new(o, "by", json_string(d->sum[0].by_cell ? "cell" : "service"));
    json_object_set_new(o, "slo_ms", json_real(d->slo_ms));
    json_object_set_new(o, "baseline", str(d->base_ct));
    json_object_set_new(o, "baseline_io", str(d->base_io));
    json_t *meta = json_object();
    for (size_t i = 0; i < d->nmeta; i++)
        if (strcmp(d->meta[i].key, "experiment.spec") != 0)
            json_object_set_new(meta, d->meta[i].key, json_string(d->meta[i].value));
    json_object_set_new(o, "meta", meta);
    size_t nr = 0;
    const char **rts = lm__report_runtimes(d, &nr);
    json_t *ra = json_array();
    for (size_t r = 0; rts && r < nr; r++) {
        char key[256];
        snprintf(key, sizeof key, "machine.runtime.%s", rts[r]);
        json_array_append_new(ra, json_pack("{s:s, s:o, s:s}", "name", rts[r], "version",
                                            str(lm__report_meta(d, key)), "about",
                                            lm__report_runtime_about(rts[r])));
    }
    free(rts);
    json_object_set_new(o, "runtimes", ra);
    json_t *ga = json_array();
    for (size_t i = 0; i < d->sum[LM__E2E].ngroups; i++)
        json_array_append_new(ga, group_json(d, i));
    json_object_set_new(o, "groups", ga);
    json_t *pa = json_array();
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *p = &d->pools[i];
        char name[512];
        lm__report_pool_name(p, name, sizeof name);
        json_t *parts = json_object();
        for (int j = 0; j < LM__NPART; j++) {
            char k[64];
            snprintf(k, sizeof k, "%s_ms", lm__report_part_names[j]);
            json_object_set_new(parts, k, real(p->part_mean[j]));
        }
        json_t *po = json_pack("{s:s, s:s, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                               "name", name, "class", p->cls, "base", json_boolean(p->base),
                               "cells", (json_int_t)p->ng, "e2e_n", (json_int_t)p->n[LM__E2E],
                               "e2e_mean_ms", real(p->n[LM__E2E] ? p->d[LM__E2E].mean : NAN),
                               "e2e_median_ms", real(p->n[LM__E2E] ? p->d[LM__E2E].median : NAN),
                               "e2e_p99_ms", real(p->n[LM__E2E] ? p->d[LM__E2E].p99 : NAN),
                               "e2e_p99_ci95", p->n[LM__E2E] ? ci_json(&p->ci_p99) : json_null(),
                               "throughput_rps", real(p->throughput_rps), "parts_mean", parts,
                               "parts_n", json_integer((json_int_t)p->part_n));
        json_array_append_new(pa, po);
    }
    json_object_set_new(o, "pools", pa);
    json_object_set_new(o, "environment", lm__report_env_json(d));
    json_t *ca = json_array();
    for (size_t i = 0; i < d->ncmp; i++)
        json_array_append_new(ca, cmp_json(d, &d->cmp[i]));
    json_object_set_new(o, "comparisons", ca);
    json_t *fa = json_array();
    for (size_t i = 0; i < d->nfnd; i++) {
        const lm__finding *fd = &d->fnd[i];
        json_t *cells = json_array();
        for (size_t k = 0; k < fd->npools; k++) {
            char name[512];
            lm__report_pool_name(&d->pools[fd->pools[k]], name, sizeof name);
            json_array_append_new(cells, json_string(name));
        }
        json_t *cmps = json_array();
        for (size_t k = 0; k < fd->ncmp; k++)
            json_array_append_new(cmps, json_integer((json_int_t)fd->cmp[k]));
        json_array_append_new(fa, json_pack("{s:s, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o}",
                                            "topic", fd->topic, "runtime", str(fd->runtime),
                                            "baseline", str(fd->baseline), "subject",
                                            str(fd->subject), "text", str(fd->text), "supported",
                                            fd->supported, "ratio_lo", real(fd->lo), "ratio_hi",
                                            real(fd->hi), "cells", cells, "comparisons", cmps));
    }
    json_object_set_new(o, "findings", fa);
    json_t *pp = json_array();
    for (int i = 0; i < 6; i++)
        json_array_append_new(pp,
                              json_pack("{s:i, s:s, s:s, s:o, s:s}", "number", i + 1, "topic",
                                        d->paper[i].topic, "claim", d->paper[i].claim, "measured",
                                        str(d->paper[i].measured), "verdict", d->paper[i].verdict));
    json_object_set_new(o, "paper", pp);
    json_t *fg = json_array();
    for (size_t i = 0; i < d->nfig; i++)
        json_array_append_new(fg, json_pack("{s:s, s:s, s:s, s:b}", "id", d->fig[i].id, "title",
                                            d->fig[i].title, "caption", d->fig[i].caption, "drawn",
                                            d->fig[i].drawn));
    json_object_set_new(o, "figures", fg);
    json_t *na = json_array();
    for (size_t i = 0; i < d->nnotes; i++)
        json_array_append_new(na, json_string(d->notes[i]));
    json_object_set_new(o, "notes", na);
    json_dumpf(o, f, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    fputc('\n', f);
    json_decref(o);
}
