/* print.c -- `lumos model` printed (model.h): the fits of every series,
 * the predictions asked for and the validation, as text for a terminal and
 * as JSON (numbers that cannot be given are null). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"
#include "stats/stats.h"

/* The x unit as the denominator of a slope: "byte", "n", "client". */
static const char *per(const char *unit) {
    static const struct {
        const char *plural, *one;
    } u[] = {{"bytes", "byte"}, {"pixels", "pixel"}, {"clients", "client"}};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        if (strcmp(unit, u[i].plural) == 0) return u[i].one;
    return unit;
}

/* ---- text ------------------------------------------------------------------- */

/* A number in w columns: %.4g, or "-" when it cannot be given. */
static void num(FILE *out, int w, double v) {
    if (isfinite(v))
        fprintf(out, " %*.4g", w, v);
    else
        fprintf(out, " %*s", w, "-");
}

/* A relative error as a percentage in w columns, or "-". */
static void pct(FILE *out, int w, double v) {
    if (isfinite(v))
        fprintf(out, " %+*.1f%%", w - 1, 100 * v);
    else
        fprintf(out, " %*s", w, "-");
}

static void upct(FILE *out, int w, double v) {
    if (isfinite(v))
        fprintf(out, " %*.1f%%", w - 1, 100 * v);
    else
        fprintf(out, " %*s", w, "-");
}

static void interval(FILE *out, int w, double lo, double hi) {
    char b[64];
    if (isfinite(lo) && isfinite(hi))
        snprintf(b, sizeof b, "[%.3g, %.3g]", lo, hi);
    else
        snprintf(b, sizeof b, "-");
    fprintf(out, " %-*s", w, b);
}

static void series_title(FILE *out, const lm_model_series *s) {
    fprintf(out, "%s@%s, %s, ", s->function, s->runtime, s->start);
    if (s->axis == LM_MODEL_AXIS_SIZE) {
        if (!s->load)
            fputs("outside cells", out);
        else if (s->concurrency != LM__MODEL_NONE)
            fprintf(out, "%s loop of %lld", s->load, (long long)s->concurrency);
        else if (isfinite(s->rate_rps))
            fprintf(out, "%s loop at %g rps", s->load, s->rate_rps);
        else
            fprintf(out, "load %s", s->load);
        fprintf(out, ": against size (x = %s%s)", s->x_name,
                s->x_is_io ? ", the request's io_read_bytes + io_write_bytes"
                           : ", the payload's nominal size for the function");
    } else {
        fprintf(out, "payload %s: against %s (x = %s)", s->payload,
                s->axis == LM_MODEL_AXIS_CONCURRENCY ? "closed-loop concurrency" : "open-loop rate",
                s->x_unit);
    }
    fputc('\n', out);
}

static void print_series(FILE *out, const lm_model_series *s) {
    series_title(out, s);
    fprintf(out, "  levels (x: requests):");
    for (size_t i = 0; i < s->nlevels; i++)
        fprintf(out, " %.6g: %zu", s->levels[i], s->at[i]);
    fprintf(out, "; e2e from %s, platform from %s\n", s->e2e_source, s->platform_source);
    char slope[48];
    snprintf(slope, sizeof slope, "slope_ms_per_%s", per(s->x_unit));
    fprintf(out, "  %-9s %-7s %6s %10s %12s %16s %-22s %9s %-18s %7s %10s %8s\n", "component",
            "form", "n", "mean_ms", "intercept_ms", slope, "slope 95% CI", "exponent",
            "exponent 95% CI", "R2", "rmse_ms", "lof p");
    for (int c = 0; c < LM_MODEL_NCOMP; c++) {
        const lm_model_fitc *f = &s->c[c];
        if (!f->have) continue;
        const lm_model_line *u = lm__model_used(f);
        fprintf(out, "  %-9s %-7s %6zu", lm_model_comp_name((lm_model_comp)c),
                u ? lm_model_form_name(f->used) : "none", f->n);
        num(out, 10, f->mean);
        num(out, 12, f->lin.intercept);
        num(out, 16, f->lin.slope);
        interval(out, 22, f->lin.slope_lo, f->lin.slope_hi);
        num(out, 9, f->log.slope);
        interval(out, 18, f->log.slope_lo, f->log.slope_hi);
        num(out, 7, u ? u->r2 : NAN);
        num(out, 10, u ? u->rmse : NAN);
        num(out, 8, u ? u->lof_p : NAN);
        if (!u) fprintf(out, "  (%s)", f->lin.why);
        fputc('\n', out);
    }
}

static void print_prediction(FILE *out, const lm_model_prediction *p) {
    fprintf(out, "\n  %s@%s: ", p->function, p->runtime);
    if (p->series)
        fprintf(out, "%s, %s: x = %s\n", p->method, p->where, p->x_from);
    else
        fprintf(out,
                "%s to %s, %s: e2e median ratio %.3gx (geometric mean over %zu payloads both "
                "ran; %.3g to %.3g)\n",
                p->method, p->baseline, p->where, p->ratio, p->shared, p->ratio_min, p->ratio_max);
    fprintf(out, "    %s", p->place);
    if (!strcmp(p->place, "extrapolation")) fprintf(out, " (%.3gx beyond)", p->distance);
    fprintf(out, "; trust %s%s%s\n", p->trust, p->why[0] ? ": " : "", p->why);
    fprintf(out, "    %-9s %10s %-22s %10s %10s %10s", "component", "mean_ms", "mean 95% interval",
            "median_ms", "p90_ms", "p99_ms");
    if (p->measured) fprintf(out, " %14s %12s", "meas_median_ms", "meas_p90_ms");
    fputc('\n', out);
    for (int c = 0; c < LM_MODEL_NCOMP; c++) {
        const lm_model_dist *d = &p->comp[c];
        if (!d->ok && !p->meas[c].ok) continue;
        fprintf(out, "    %-9s", lm_model_comp_name((lm_model_comp)c));
        num(out, 10, d->ok ? d->mean_ms : NAN);
        interval(out, 22, d->ok ? d->mean_lo_ms : NAN, d->ok ? d->mean_hi_ms : NAN);
        num(out, 10, d->ok ? d->median_ms : NAN);
        num(out, 10, d->ok ? d->p90_ms : NAN);
        num(out, 10, d->ok ? d->p99_ms : NAN);
        if (p->measured) {
            num(out, 14, p->meas[c].ok ? p->meas[c].median_ms : NAN);
            num(out, 12, p->meas[c].ok ? p->meas[c].p90_ms : NAN);
        }
        fputc('\n', out);
    }
}

/* The absolute relative errors of the checks of component c, inside
 * (exterior = 0) or at an edge: how many, their median and mean, of the
 * median's and of the p90's prediction. */
typedef struct {
    size_t n;
    double med_median, med_p90, mean_median, mean_p90;
} errs;

static double middle(double *v, size_t n) {
    lm_stats_sort(v, n);
    return lm_stats_quantile(v, n, 0.5);
}

static errs summarize(const lm_model_validation *v, int c, int exterior) {
    errs e = {0, NAN, NAN, NAN, NAN};
    double *a = malloc((v->n ? v->n : 1) * sizeof *a), *b = malloc((v->n ? v->n : 1) * sizeof *b);
    size_t k = 0, kb = 0;
    for (size_t i = 0; a && b && i < v->n; i++) {
        const lm_model_check *r = &v->rows[i];
        if ((int)r->comp != c || r->exterior != exterior) continue;
        if (isfinite(r->median_rel_err)) a[k++] = fabs(r->median_rel_err);
        if (isfinite(r->p90_rel_err)) b[kb++] = fabs(r->p90_rel_err);
    }
    e.n = k;
    if (k) e.mean_median = lm_stats_mean(a, k), e.med_median = middle(a, k);
    if (kb) e.mean_p90 = lm_stats_mean(b, kb), e.med_p90 = middle(b, kb);
    free(a), free(b);
    return e;
}

static void print_validation(FILE *out, const lm_model_validation *v) {
    fprintf(out,
            "\nvalidation: each level of the %zu series with three or more levels held out in "
            "turn, the rest fitted, the held-out level predicted; err = predicted / measured - 1\n",
            v->series);
    if (v->n == 0) {
        fputs("  nothing to check: no series has three or more levels\n", out);
        return;
    }
    const lm_model_series *last = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const lm_model_check *r = &v->rows[i];
        if (r->series != last) {
            fputs("\n  ", out);
            series_title(out, r->series);
            fprintf(out, "    %12s %-8s %-9s %-7s %10s %10s %8s %10s %10s %8s %-6s\n", "held-out x",
                    "where", "component", "form", "pred_med", "meas_med", "err", "pred_p90",
                    "meas_p90", "err", "trust");
            last = r->series;
        }
        fprintf(out, "    %12.6g %-8s %-9s %-7s", r->x, r->exterior ? "edge" : "inside",
                lm_model_comp_name(r->comp), lm_model_form_name(r->form));
        num(out, 10, r->pred_median_ms);
        num(out, 10, r->meas_median_ms);
        pct(out, 8, r->median_rel_err);
        num(out, 10, r->pred_p90_ms);
        num(out, 10, r->meas_p90_ms);
        pct(out, 8, r->p90_rel_err);
        fprintf(out, " %s\n", r->trust);
    }
    fputs("\n  median |err| per component, inside the other levels (interpolation) and at an "
          "edge (extrapolation), of the predicted median and p90\n",
          out);
    fprintf(out, "    %-9s %8s %10s %10s %8s %10s %10s\n", "component", "inside", "median", "p90",
            "edge", "median", "p90");
    for (int c = 0; c < LM_MODEL_NCOMP; c++) {
        errs in = summarize(v, c, 0), ed = summarize(v, c, 1);
        if (!in.n && !ed.n) continue;
        fprintf(out, "    %-9s %8zu", lm_model_comp_name((lm_model_comp)c), in.n);
        upct(out, 10, in.med_median);
        upct(out, 10, in.med_p90);
        fprintf(out, " %8zu", ed.n);
        upct(out, 10, ed.med_median);
        upct(out, 10, ed.med_p90);
        fputc('\n', out);
    }
}

void lm_model_print_text(FILE *out, const lm_model *m, const lm_model_prediction *p, size_t np,
                         const lm_model_validation *v) {
    fprintf(out,
            "%s: %zu answered requests (schema %d, %s); %zu series; least squares over "
            "requests, form %s%s (docs/model.md)\n",
            m->db, m->nrequests, m->version, m->by_cell ? "by cell" : "no cells", m->nseries,
            lm_model_form_name(m->form),
            m->form == LM_MODEL_AUTO ? ": linear unless it is below 0 at the axis' start or the "
                                       "level means reject it and log-log less"
                                     : "");
    if (m->skipped)
        fprintf(out, "%zu requests left out (failed, excluded or warm-ups)\n", m->skipped);
    if (m->unplaced) fprintf(out, "%zu requests of no cell or service left out\n", m->unplaced);
    if (m->single)
        fprintf(out, "%zu would-be series have one level only: nothing to fit along them\n",
                m->single);
    if (m->nosize)
        fprintf(out,
                "%zu would-be series have no size: no I/O and no known size of their payload\n",
                m->nosize);
    if (!p && !v) {
        for (size_t i = 0; i < m->nseries; i++) {
            fputc('\n', out);
            print_series(out, &m->series[i]);
        }
        if (m->nseries)
            fputs("\nform: the line predictions use; intercept, slope: the linear fit's; "
                  "exponent: the log-log fit's (1: linear, 0: flat); R2, rmse_ms, lof p (lack "
                  "of fit, three or more levels): the form used's\n",
                  out);
    }
    if (p) {
        fprintf(out, "\npredictions (%zu):\n", np);
        for (size_t i = 0; i < np; i++)
            print_prediction(out, &p[i]);
        fputs("\nmean: the fitted mean there; median, p90, p99: the fitted mean times the "
              "relative residuals of the nearest measured level (a runtime ratio: the "
              "baseline's requests there times the ratio)\n",
              out);
    }
    if (v) print_validation(out, v);
}

/* ---- JSON ------------------------------------------------------------------- */

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *jstr(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *jline(const lm_model_line *l, const char *x_unit) {
    json_t *o = json_object();
    int logs = l->form == LM_MODEL_LOGLOG;
    char k[64];
    json_object_set_new(o, "ok", json_boolean(l->ok));
    json_object_set_new(o, "why", l->ok ? json_null() : json_string(l->why));
    json_object_set_new(o, "n", json_integer((json_int_t)l->n));
    json_object_set_new(o, "levels", json_integer((json_int_t)l->levels));
    if (logs) {
        json_object_set_new(o, "intercept_ln_ms", jnum(l->intercept));
        json_object_set_new(o, "exponent", jnum(l->slope));
        json_object_set_new(o, "exponent_se", jnum(l->slope_se));
        json_object_set_new(o, "exponent_ci95_lo", jnum(l->slope_lo));
        json_object_set_new(o, "exponent_ci95_hi", jnum(l->slope_hi));
        json_object_set_new(o, "rse_ln", jnum(l->rse));
    } else {
        json_object_set_new(o, "intercept_ms", jnum(l->intercept));
        x_unit = per(x_unit);
        snprintf(k, sizeof k, "slope_ms_per_%s", x_unit);
        json_object_set_new(o, k, jnum(l->slope));
        snprintf(k, sizeof k, "slope_se_ms_per_%s", x_unit);
        json_object_set_new(o, k, jnum(l->slope_se));
        snprintf(k, sizeof k, "slope_ci95_lo_ms_per_%s", x_unit);
        json_object_set_new(o, k, jnum(l->slope_lo));
        snprintf(k, sizeof k, "slope_ci95_hi_ms_per_%s", x_unit);
        json_object_set_new(o, k, jnum(l->slope_hi));
        json_object_set_new(o, "rse_ms", jnum(l->rse));
    }
    json_object_set_new(o, "weighted", json_boolean(l->weighted));
    json_object_set_new(o, "r2", jnum(l->r2));
    json_object_set_new(o, "rmse_ms", jnum(l->rmse));
    json_object_set_new(o, "rel_rmse", jnum(l->rrmse));
    json_object_set_new(o, "lack_of_fit_f", jnum(l->lof_f));
    json_object_set_new(o, "lack_of_fit_p", jnum(l->lof_p));
    json_object_set_new(o, "lack_of_fit_max_rel_dev", jnum(l->lof_dev));
    return o;
}

static void fixed_part(json_t *o, const lm_model_series *s) {
    json_object_set_new(o, "load", jstr(s->load));
    json_object_set_new(
        o, "concurrency",
        s->concurrency == LM__MODEL_NONE ? json_null() : json_integer((json_int_t)s->concurrency));
    json_object_set_new(o, "rate_rps", jnum(s->rate_rps));
    json_object_set_new(o, "payload", jstr(s->payload));
}

static json_t *jseries(const lm_model_series *s) {
    json_t *o = json_object(), *lv = json_array(), *cs = json_array();
    json_object_set_new(o, "function", json_string(s->function));
    json_object_set_new(o, "runtime", json_string(s->runtime));
    json_object_set_new(o, "start", json_string(s->start));
    json_object_set_new(o, "axis", json_string(lm_model_axis_name(s->axis)));
    fixed_part(o, s);
    json_object_set_new(o, "x", json_string(s->x_name));
    json_object_set_new(o, "x_unit", json_string(s->x_unit));
    json_object_set_new(o, "x_is_io_bytes", json_boolean(s->x_is_io));
    json_object_set_new(o, "io_bytes_per_nominal", jnum(s->io_per_nominal));
    json_object_set_new(o, "e2e_source", json_string(s->e2e_source));
    json_object_set_new(o, "platform_source", json_string(s->platform_source));
    json_object_set_new(o, "requests", json_integer((json_int_t)s->nrows));
    for (size_t i = 0; i < s->nlevels; i++)
        json_array_append_new(
            lv, json_pack("{s:f,s:I}", "x", s->levels[i], "requests", (json_int_t)s->at[i]));
    json_object_set_new(o, "levels", lv);
    for (int c = 0; c < LM_MODEL_NCOMP; c++) {
        const lm_model_fitc *f = &s->c[c];
        if (!f->have) continue;
        json_t *j = json_object();
        json_object_set_new(j, "component", json_string(lm_model_comp_name((lm_model_comp)c)));
        json_object_set_new(j, "n", json_integer((json_int_t)f->n));
        json_object_set_new(j, "mean_ms", jnum(f->mean));
        json_object_set_new(j, "form",
                            f->ok ? json_string(lm_model_form_name(f->used)) : json_null());
        json_object_set_new(j, "linear", jline(&f->lin, s->x_unit));
        json_object_set_new(j, "loglog", jline(&f->log, s->x_unit));
        json_array_append_new(cs, j);
    }
    json_object_set_new(o, "components", cs);
    return o;
}

static json_t *jdist(const lm_model_dist *d, const char *prefix, json_t *o) {
    char k[64];
    static const char *const names[] = {"mean",   "mean_ci95_lo", "mean_ci95_hi",
                                        "median", "p90",          "p99"};
    double v[] = {d->mean_ms, d->mean_lo_ms, d->mean_hi_ms, d->median_ms, d->p90_ms, d->p99_ms};
    for (size_t i = 0; i < 6; i++) {
        if (prefix[0] && i > 0 && i < 3) continue;
        snprintf(k, sizeof k, "%s%s_ms", prefix, names[i]);
        json_object_set_new(o, k, d->ok ? jnum(v[i]) : json_null());
    }
    return o;
}

static json_t *jprediction(const lm_model_prediction *p) {
    json_t *o = json_object(), *cs = json_array();
    json_object_set_new(o, "function", json_string(p->function));
    json_object_set_new(o, "runtime", json_string(p->runtime));
    json_object_set_new(o, "method", json_string(p->method));
    json_object_set_new(o, "where", json_string(p->where));
    if (p->series) {
        json_object_set_new(o, "axis", json_string(lm_model_axis_name(p->series->axis)));
        fixed_part(o, p->series);
        json_object_set_new(o, "x", jnum(p->x));
        json_object_set_new(o, "x_unit", json_string(p->series->x_unit));
        json_object_set_new(o, "x_from", json_string(p->x_from));
    } else {
        json_object_set_new(o, "baseline", jstr(p->baseline));
        json_object_set_new(o, "shared_payloads", json_integer((json_int_t)p->shared));
        json_object_set_new(o, "e2e_ratio", jnum(p->ratio));
        json_object_set_new(o, "e2e_ratio_min", jnum(p->ratio_min));
        json_object_set_new(o, "e2e_ratio_max", jnum(p->ratio_max));
    }
    json_object_set_new(o, "place", json_string(p->place));
    json_object_set_new(o, "extrapolation_factor", jnum(p->distance));
    json_object_set_new(o, "trust", json_string(p->trust));
    json_object_set_new(o, "why", json_string(p->why));
    json_object_set_new(o, "measured", json_boolean(p->measured));
    for (int c = 0; c < LM_MODEL_NCOMP; c++) {
        if (!p->comp[c].ok && !p->meas[c].ok) continue;
        json_t *j = json_object();
        json_object_set_new(j, "component", json_string(lm_model_comp_name((lm_model_comp)c)));
        jdist(&p->comp[c], "", j);
        if (p->measured) jdist(&p->meas[c], "measured_", j);
        json_array_append_new(cs, j);
    }
    json_object_set_new(o, "components", cs);
    return o;
}

static json_t *jvalidation(const lm_model_validation *v) {
    json_t *o = json_object(), *rows = json_array(), *sum = json_array();
    json_object_set_new(o, "series_checked", json_integer((json_int_t)v->series));
    for (size_t i = 0; i < v->n; i++) {
        const lm_model_check *r = &v->rows[i];
        json_t *j = json_object();
        json_object_set_new(j, "function", json_string(r->series->function));
        json_object_set_new(j, "runtime", json_string(r->series->runtime));
        json_object_set_new(j, "start", json_string(r->series->start));
        json_object_set_new(j, "axis", json_string(lm_model_axis_name(r->series->axis)));
        fixed_part(j, r->series);
        json_object_set_new(j, "x_unit", json_string(r->series->x_unit));
        json_object_set_new(j, "held_out_x", jnum(r->x));
        json_object_set_new(j, "edge", json_boolean(r->exterior));
        json_object_set_new(j, "component", json_string(lm_model_comp_name(r->comp)));
        json_object_set_new(j, "form", json_string(lm_model_form_name(r->form)));
        json_object_set_new(j, "predicted_median_ms", jnum(r->pred_median_ms));
        json_object_set_new(j, "measured_median_ms", jnum(r->meas_median_ms));
        json_object_set_new(j, "median_rel_err", jnum(r->median_rel_err));
        json_object_set_new(j, "predicted_p90_ms", jnum(r->pred_p90_ms));
        json_object_set_new(j, "measured_p90_ms", jnum(r->meas_p90_ms));
        json_object_set_new(j, "p90_rel_err", jnum(r->p90_rel_err));
        json_object_set_new(j, "trust", json_string(r->trust));
        json_array_append_new(rows, j);
    }
    for (int c = 0; c < LM_MODEL_NCOMP; c++) {
        errs in = summarize(v, c, 0), ed = summarize(v, c, 1);
        if (!in.n && !ed.n) continue;
        json_t *j = json_object();
        json_object_set_new(j, "component", json_string(lm_model_comp_name((lm_model_comp)c)));
        const errs *e[2] = {&in, &ed};
        static const char *const where[2] = {"inside", "edge"};
        char k[64];
        for (int w = 0; w < 2; w++) {
            json_object_set_new(j, where[w], json_integer((json_int_t)e[w]->n));
            snprintf(k, sizeof k, "%s_median_abs_median_rel_err", where[w]);
            json_object_set_new(j, k, jnum(e[w]->med_median));
            snprintf(k, sizeof k, "%s_median_abs_p90_rel_err", where[w]);
            json_object_set_new(j, k, jnum(e[w]->med_p90));
            snprintf(k, sizeof k, "%s_mean_abs_median_rel_err", where[w]);
            json_object_set_new(j, k, jnum(e[w]->mean_median));
            snprintf(k, sizeof k, "%s_mean_abs_p90_rel_err", where[w]);
            json_object_set_new(j, k, jnum(e[w]->mean_p90));
        }
        json_array_append_new(sum, j);
    }
    json_object_set_new(o, "rows", rows);
    json_object_set_new(o, "summary", sum);
    return o;
}

void lm_model_print_json(FILE *out, const lm_model *m, const lm_model_prediction *p, size_t np,
                         const lm_model_validation *v) {
    json_t *root = json_object(), *ss = json_array();
    json_object_set_new(root, "database", json_string(m->db));
    json_object_set_new(root, "schema_version", json_integer(m->version));
    json_object_set_new(root, "by", json_string(m->by_cell ? "cell" : "service"));
    json_object_set_new(root, "requests", json_integer((json_int_t)m->nrequests));
    json_object_set_new(root, "left_out", json_integer((json_int_t)m->skipped));
    json_object_set_new(root, "unplaced", json_integer((json_int_t)m->unplaced));
    json_object_set_new(root, "form", json_string(lm_model_form_name(m->form)));
    json_object_set_new(root, "one_level_series", json_integer((json_int_t)m->single));
    json_object_set_new(root, "sizeless_series", json_integer((json_int_t)m->nosize));
    for (size_t i = 0; i < m->nseries; i++)
        json_array_append_new(ss, jseries(&m->series[i]));
    json_object_set_new(root, "series", ss);
    if (p) {
        json_t *ps = json_array();
        for (size_t i = 0; i < np; i++)
            json_array_append_new(ps, jprediction(&p[i]));
        json_object_set_new(root, "predictions", ps);
    }
    if (v) json_object_set_new(root, "validation", jvalidation(v));
    json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    fputc('\n', out);
    json_decref(root);
}
