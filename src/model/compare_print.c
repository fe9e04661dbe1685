/* compare_print.c -- `lumos compare` printed (compare.h): a table for a
 * terminal, JSON, and one self-contained HTML page. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "model/compare.h"
#include "model/internal.h"
#include "results/results.h"

static const char *change_word(const lm_model_cmp_row *r) {
    return r->change > 0 ? "slower" : r->change < 0 ? "faster" : "";
}

static const char *group_name(const lm_model_compare *c, const lm_report_group *g, char *b,
                              size_t n) {
    if (c->by_cell) return g->name;
    snprintf(b, n, "%s %s", g->name, g->start ? g->start : "");
    return b;
}

static void fmt(char *b, size_t n, double v, const char *f) {
    if (isfinite(v))
        snprintf(b, n, f, v);
    else
        snprintf(b, n, "-");
}

/* ---- text ------------------------------------------------------------------- */

static void header(FILE *out, const lm_model_compare *c) {
    const char *u = lm_report_metric_unit(c->metric);
    fprintf(out,
            "DB1 %s: %zu %s; DB2 %s: %zu %s; metric %s (%s)\n"
            "ratio = DB2 / DB1 of the medians, 95%% percentile bootstrap (B = %u, seed %llu); "
            "a change (* slower, - faster) when its interval excludes 1\n",
            c->db1, c->s1.ngroups, c->by_cell ? "cells" : "groups", c->db2, c->s2.ngroups,
            c->by_cell ? "cells" : "groups", lm_report_metric_name(c->metric), u,
            c->boot.resamples ? c->boot.resamples : LM_STATS_BOOT_B,
            (unsigned long long)c->boot.seed);
    if (c->note[0]) fprintf(out, "%s\n", c->note);
}

void lm_model_compare_print_text(FILE *out, const lm_model_compare *c) {
    header(out, c);
    size_t w = 4;
    char nb[512];
    for (size_t i = 0; i < c->nrows; i++) {
        size_t l = strlen(group_name(c, &c->s1.groups[c->rows[i].a], nb, sizeof nb));
        w = l > w ? l : w;
    }
    const char *u = lm_report_metric_unit(c->metric);
    char h1[32], h2[32], h3[32], h4[32];
    snprintf(h1, sizeof h1, "median1_%s", u);
    snprintf(h2, sizeof h2, "p99_1_%s", u);
    snprintf(h3, sizeof h3, "median2_%s", u);
    snprintf(h4, sizeof h4, "p99_2_%s", u);
    fprintf(out, "\n  %-*s %6s %12s %12s %6s %12s %12s %8s %-20s %9s %s\n", (int)w, "cell", "n1",
            h1, h2, "n2", h3, h4, "ratio", "95% interval", "p99 ratio", "change");
    for (size_t i = 0; i < c->nrows; i++) {
        const lm_model_cmp_row *r = &c->rows[i];
        const lm_report_group *a = &c->s1.groups[r->a], *b = &c->s2.groups[r->b];
        char v[6][48];
        fmt(v[0], 48, a->d.median, "%.4g");
        fmt(v[1], 48, a->d.p99, "%.4g");
        fmt(v[2], 48, b->d.median, "%.4g");
        fmt(v[3], 48, b->d.p99, "%.4g");
        fmt(v[4], 48, r->ok ? r->r.ratio : NAN, "%.3f");
        if (r->ok && r->r.ci.ok)
            snprintf(v[5], 48, "[%.3f, %.3f]", r->r.ci.lo, r->r.ci.hi);
        else
            snprintf(v[5], 48, "-");
        char p99[32];
        fmt(p99, sizeof p99, r->p99_ratio, "%.3f");
        fprintf(out, "%c %-*s %6zu %12s %12s %6zu %12s %12s %8s %-20s %9s %s",
                r->change > 0   ? '*'
                : r->change < 0 ? '-'
                                : ' ',
                (int)w, group_name(c, a, nb, sizeof nb), a->n, v[0], v[1], b->n, v[2], v[3], v[4],
                v[5], p99, change_word(r));
        if (!r->ok) fprintf(out, "(%s)", r->err);
        if (r->ok && !r->same_source)
            fprintf(out, "%s(e2e from %s in DB1, %s in DB2)", r->change ? " " : "",
                    a->source_name ? a->source_name : "-", b->source_name ? b->source_name : "-");
        if (r->ok && strcmp(r->matched_by, "key") == 0) fprintf(out, " (matched as %s)", b->name);
        fputc('\n', out);
    }
    fprintf(out, "\n%zu matched, %zu changed: %zu slower, %zu faster\n", c->nrows,
            c->slower + c->faster, c->slower, c->faster);
    if (c->nrows >= 20)
        fprintf(out,
                "(at 95%%, about 1 in 20 unchanged cells is marked by chance: %.1f of %zu "
                "here)\n",
                0.05 * (double)c->nrows, c->nrows);
    for (int k = 0; k < 2; k++) {
        size_t n = k ? c->nonly2 : c->nonly1;
        const size_t *only = k ? c->only2 : c->only1;
        const lm_report_summary *s = k ? &c->s2 : &c->s1;
        if (!n) continue;
        fprintf(out, "\n%zu %s only in DB%d %s:\n", n, c->by_cell ? "cells" : "groups", k + 1,
                s->db);
        for (size_t i = 0; i < n; i++)
            fprintf(out, "  %s\n", group_name(c, &s->groups[only[i]], nb, sizeof nb));
    }
}

/* ---- JSON ------------------------------------------------------------------- */

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *jstr(const char *s) {
    if (!s) return json_null();
    json_t *j = json_string(s);
    return j ? j : json_string("(not UTF-8)");
}

static json_t *jgroup(const lm_model_compare *c, const lm_report_group *g) {
    json_t *o = json_object();
    const char *u = lm_report_metric_unit(c->metric);
    char k[48];
    if (c->by_cell) {
        json_object_set_new(o, "cell_id", json_integer((json_int_t)g->cell_id));
        json_object_set_new(o, "cell", jstr(g->name));
    } else {
        json_object_set_new(o, "service", jstr(g->name));
    }
    json_object_set_new(o, "function", jstr(g->function));
    json_object_set_new(o, "runtime", jstr(g->runtime));
    json_object_set_new(o, "start", jstr(g->start));
    json_object_set_new(o, "source", jstr(g->source_name));
    json_object_set_new(o, "n", json_integer((json_int_t)g->n));
    snprintf(k, sizeof k, "median_%s", u);
    json_object_set_new(o, k, jnum(g->d.median));
    snprintf(k, sizeof k, "p99_%s", u);
    json_object_set_new(o, k, jnum(g->d.p99));
    return o;
}

void lm_model_compare_print_json(FILE *out, const lm_model_compare *c) {
    json_t *root = json_object(), *rows = json_array(), *o1 = json_array(), *o2 = json_array();
    json_object_set_new(root, "db1", jstr(c->db1));
    json_object_set_new(root, "db2", jstr(c->db2));
    json_object_set_new(root, "by", json_string(c->by_cell ? "cell" : "service"));
    json_object_set_new(root, "note", c->note[0] ? jstr(c->note) : json_null());
    json_object_set_new(root, "metric", json_string(lm_report_metric_name(c->metric)));
    json_object_set_new(root, "unit", json_string(lm_report_metric_unit(c->metric)));
    json_object_set_new(root, "ratio", json_string("median of DB2 / median of DB1"));
    json_object_set_new(root, "method", json_string("percentile bootstrap"));
    json_object_set_new(root, "resamples",
                        json_integer(c->boot.resamples ? c->boot.resamples : LM_STATS_BOOT_B));
    json_object_set_new(root, "seed", json_integer((json_int_t)c->boot.seed));
    json_object_set_new(root, "level", json_real(c->boot.level ? c->boot.level : 0.95));
    for (size_t i = 0; i < c->nrows; i++) {
        const lm_model_cmp_row *r = &c->rows[i];
        json_t *o = json_object();
        json_object_set_new(o, "db1", jgroup(c, &c->s1.groups[r->a]));
        json_object_set_new(o, "db2", jgroup(c, &c->s2.groups[r->b]));
        json_object_set_new(o, "matched_by", json_string(r->matched_by));
        json_object_set_new(o, "median_ratio", r->ok ? jnum(r->r.ratio) : json_null());
        json_object_set_new(o, "median_ratio_ci95_lo",
                            r->ok && r->r.ci.ok ? jnum(r->r.ci.lo) : json_null());
        json_object_set_new(o, "median_ratio_ci95_hi",
                            r->ok && r->r.ci.ok ? jnum(r->r.ci.hi) : json_null());
        json_object_set_new(o, "p99_ratio", jnum(r->p99_ratio));
        json_object_set_new(o, "change", r->change ? json_string(change_word(r)) : json_null());
        json_object_set_new(o, "same_source", json_boolean(r->same_source));
        json_object_set_new(o, "error", r->ok ? json_null() : jstr(r->err));
        json_array_append_new(rows, o);
    }
    json_object_set_new(root, "rows", rows);
    for (size_t i = 0; i < c->nonly1; i++)
        json_array_append_new(o1, jgroup(c, &c->s1.groups[c->only1[i]]));
    for (size_t i = 0; i < c->nonly2; i++)
        json_array_append_new(o2, jgroup(c, &c->s2.groups[c->only2[i]]));
    json_object_set_new(root, "only_in_db1", o1);
    json_object_set_new(root, "only_in_db2", o2);
    json_object_set_new(root, "slower", json_integer((json_int_t)c->slower));
    json_object_set_new(root, "faster", json_integer((json_int_t)c->faster));
    json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    fputc('\n', out);
    json_decref(root);
}

/* ---- HTML ------------------------------------------------------------------- */

static void esc(lm_buf *b, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<': lm_buf_append(b, "&lt;", 4); break;
        case '>': lm_buf_append(b, "&gt;", 4); break;
        case '&': lm_buf_append(b, "&amp;", 5); break;
        case '"': lm_buf_append(b, "&quot;", 6); break;
        default: lm_buf_append(b, s, 1);
        }
    }
}

static void cell(lm_buf *b, const char *tag, const char *text) {
    lm_buf_printf(b, "<%s>", tag);
    esc(b, text);
    lm_buf_printf(b, "</%s>", tag);
}

static void num_cell(lm_buf *b, double v, const char *f) {
    char t[64];
    fmt(t, sizeof t, v, f);
    lm_buf_printf(b, "<td class=\"n\">%s</td>", t);
}

int lm_model_compare_write_html(const char *path, const lm_model_compare *c, char *err) {
    lm_buf b = {0};
    const char *u = lm_report_metric_unit(c->metric);
    char nb[512];
    lm_buf_printf(&b,
                  "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<title>lumos compare</title>\n<style>\n"
                  "body{font-family:sans-serif;margin:2em;color:#222}\n"
                  "table{border-collapse:collapse;font-size:90%%}\n"
                  "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left}\n"
                  "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
                  "tr.slower td{background:#fde0dc}\ntr.faster td{background:#dcf5e0}\n"
                  "caption{text-align:left;margin-bottom:.5em}\n"
                  "</style></head><body>\n<h1>lumos compare</h1>\n<p>DB1: <code>");
    esc(&b, c->db1);
    lm_buf_printf(&b, "</code> (%zu %s)<br>DB2: <code>", c->s1.ngroups,
                  c->by_cell ? "cells" : "groups");
    esc(&b, c->db2);
    lm_buf_printf(&b,
                  "</code> (%zu %s)</p>\n<p>Metric <b>%s</b> (%s). Ratio = median of DB2 / "
                  "median of DB1, with its 95%% percentile bootstrap interval (B = %u, seed "
                  "%llu). A cell is marked a change when its interval excludes 1: "
                  "<span style=\"background:#fde0dc\">slower</span> above, "
                  "<span style=\"background:#dcf5e0\">faster</span> below. The p99 ratio is "
                  "a point estimate.</p>\n",
                  c->s2.ngroups, c->by_cell ? "cells" : "groups", lm_report_metric_name(c->metric),
                  u, c->boot.resamples ? c->boot.resamples : LM_STATS_BOOT_B,
                  (unsigned long long)c->boot.seed);
    if (c->note[0]) {
        lm_buf_printf(&b, "<p>");
        esc(&b, c->note);
        lm_buf_printf(&b, "</p>\n");
    }
    lm_buf_printf(&b,
                  "<p>%zu matched, %zu changed: %zu slower, %zu faster.</p>\n<table>\n"
                  "<tr><th>cell</th><th>n DB1</th><th>median DB1 (%s)</th><th>p99 DB1 (%s)</th>"
                  "<th>n DB2</th><th>median DB2 (%s)</th><th>p99 DB2 (%s)</th><th>ratio</th>"
                  "<th>95%% interval</th><th>p99 ratio</th><th>change</th></tr>\n",
                  c->nrows, c->slower + c->faster, c->slower, c->faster, u, u, u, u);
    for (size_t i = 0; i < c->nrows; i++) {
        const lm_model_cmp_row *r = &c->rows[i];
        const lm_report_group *a = &c->s1.groups[r->a], *g = &c->s2.groups[r->b];
        lm_buf_printf(&b, "<tr%s>",
                      r->change > 0   ? " class=\"slower\""
                      : r->change < 0 ? " class=\"faster\""
                                      : "");
        cell(&b, "td", group_name(c, a, nb, sizeof nb));
        lm_buf_printf(&b, "<td class=\"n\">%zu</td>", a->n);
        num_cell(&b, a->d.median, "%.4g");
        num_cell(&b, a->d.p99, "%.4g");
        lm_buf_printf(&b, "<td class=\"n\">%zu</td>", g->n);
        num_cell(&b, g->d.median, "%.4g");
        num_cell(&b, g->d.p99, "%.4g");
        num_cell(&b, r->ok ? r->r.ratio : NAN, "%.3f");
        if (r->ok && r->r.ci.ok)
            lm_buf_printf(&b, "<td class=\"n\">[%.3f, %.3f]</td>", r->r.ci.lo, r->r.ci.hi);
        else
            lm_buf_printf(&b, "<td>-</td>");
        num_cell(&b, r->p99_ratio, "%.3f");
        cell(&b, "td", r->ok ? change_word(r) : r->err);
        lm_buf_printf(&b, "</tr>\n");
    }
    lm_buf_printf(&b, "</table>\n");
    for (int k = 0; k < 2; k++) {
        size_t n = k ? c->nonly2 : c->nonly1;
        const size_t *only = k ? c->only2 : c->only1;
        const lm_report_summary *s = k ? &c->s2 : &c->s1;
        if (!n) continue;
        lm_buf_printf(&b, "<h2>%zu %s only in DB%d</h2>\n<ul>\n", n,
                      c->by_cell ? "cells" : "groups", k + 1);
        for (size_t i = 0; i < n; i++) {
            lm_buf_printf(&b, "<li>");
            esc(&b, group_name(c, &s->groups[only[i]], nb, sizeof nb));
            lm_buf_printf(&b, "</li>\n");
        }
        lm_buf_printf(&b, "</ul>\n");
    }
    lm_buf_printf(&b, "<p>Made by <code>lumos compare</code>; the method is docs/model.md."
                      "</p>\n</body></html>\n");
    int rc = b.data ? lm_file_write(path, b.data, b.len, err) : lm_errf(err, "out of memory");
    lm_buf_free(&b);
    return rc;
}
