/* cells_print.c -- `lumos results summary` printed: an aligned table for a
 * terminal, CSV (one row per group, its ratio to the baseline appended) and
 * JSON. One list of columns (row_of) feeds all three, so they cannot
 * disagree; the table shows the ones marked for it. */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "report/cells.h"
#include "results/results.h"
#include "util/csv.h"

enum { V_STR, V_INT, V_NUM };

typedef struct {
    char name[40];
    int kind, table; /* table: shown in the terminal's table */
    const char *s;   /* V_STR (NULL: null) */
    long long i;     /* V_INT (LM_RESULTS_NULL: null) */
    double d;        /* V_NUM (NaN: null) */
    int digits;      /* decimals in the table */
} val;

#define MAX_COLS 48

static val *put(val *v, size_t *n, const char *name, int kind, int table) {
    val *x = &v[(*n)++];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", name);
    x->kind = kind;
    x->table = table;
    x->digits = 3;
    return x;
}

static void put_s(val *v, size_t *n, const char *name, const char *s, int table) {
    put(v, n, name, V_STR, table)->s = s;
}

static void put_i(val *v, size_t *n, const char *name, long long i, int table) {
    put(v, n, name, V_INT, table)->i = i;
}

/* A statistic in the metric's unit: NAME_UNIT. */
static void put_u(val *v, size_t *n, const char *name, const char *unit, double d, int table) {
    char full[40];
    snprintf(full, sizeof full, "%s_%s", name, unit);
    val *x = put(v, n, full, V_NUM, table);
    x->d = d;
    if (strcmp(unit, "bytes") == 0) x->digits = 0;
}

static size_t row_of(const lm_report_summary *s, const lm_report_group *g, val *v) {
    size_t n = 0;
    const char *u = lm_report_metric_unit(s->metric);
    if (s->by_cell) {
        put_i(v, &n, "cell_id", g->cell_id, 0);
        put_s(v, &n, "cell", g->name, 1);
        put_s(v, &n, "function", g->function, 0);
        put_s(v, &n, "runtime", g->runtime, 0);
        put_s(v, &n, "payload", g->payload, 0);
        put_s(v, &n, "start", g->start, 0);
        put_s(v, &n, "load", g->load, 0);
        put_i(v, &n, "concurrency", g->concurrency, 0);
        val *r = put(v, &n, "rate_rps", V_NUM, 0);
        r->d = g->rate_rps;
        put_i(v, &n, "repetition", g->repetition, 0);
        put_s(v, &n, "status", g->status, 1);
    } else {
        put_i(v, &n, "service_id", g->service_id, 0);
        put_s(v, &n, "service", g->name, 1);
        put_s(v, &n, "function", g->function, 0);
        put_s(v, &n, "runtime", g->runtime, 0);
        put_s(v, &n, "start", g->start, 1);
    }
    put_s(v, &n, "source", g->source_name, 1);
    put_i(v, &n, "count", (long long)g->count, 1);
    put_i(v, &n, "excluded", (long long)g->excluded, 1);
    put_i(v, &n, "errors", (long long)g->errors, 1);
    put_i(v, &n, "missing", (long long)g->missing, 0);
    put_i(v, &n, "n", (long long)g->n, 1);
    put_u(v, &n, "mean", u, g->d.mean, 1);
    put_u(v, &n, "median", u, g->d.median, 1);
    put_u(v, &n, "p90", u, g->d.p90, 1);
    put_u(v, &n, "p99", u, g->d.p99, 1);
    put_u(v, &n, "p999", u, g->d.p999, 1);
    put_u(v, &n, "sd", u, g->d.sd, 1);
    val *cv = put(v, &n, "cv", V_NUM, 1);
    cv->d = g->d.cv;
    put_u(v, &n, "min", u, g->d.min, 0);
    put_u(v, &n, "max", u, g->d.max, 0);
    put_u(v, &n, "ci95_mean_lo", u, g->ci_mean.lo, 1);
    put_u(v, &n, "ci95_mean_hi", u, g->ci_mean.hi, 1);
    put_u(v, &n, "ci95_median_lo", u, g->ci_median.lo, 1);
    put_u(v, &n, "ci95_median_hi", u, g->ci_median.hi, 1);
    put_i(v, &n, "ci95_median_rank_lo",
          g->ci_median.ok ? (long long)g->ci_median.j : LM_RESULTS_NULL, 0);
    put_i(v, &n, "ci95_median_rank_hi",
          g->ci_median.ok ? (long long)g->ci_median.k : LM_RESULTS_NULL, 0);
    val *c = put(v, &n, "ci95_median_coverage", V_NUM, 0);
    c->d = g->ci_median.ok ? g->ci_median.coverage : NAN;
    return n;
}

static const lm_report_ratio *ratio_for(const lm_report_summary *s, size_t group) {
    for (size_t i = 0; i < s->nratios; i++)
        if (s->ratios[i].group == group) return &s->ratios[i];
    return NULL;
}

/* The ratio's columns, for a group without one too (nulls). */
static size_t ratio_row(const lm_report_summary *s, const lm_report_ratio *q, val *v) {
    size_t n = 0;
    const lm_report_group *b = q ? &s->groups[q->baseline] : NULL;
    put_s(v, &n, s->by_cell ? "baseline_cell" : "baseline_service", b ? b->name : NULL, 1);
    val *x = put(v, &n, "median_ratio", V_NUM, 1);
    x->d = q && q->ok ? q->r.ratio : NAN;
    x = put(v, &n, "median_ratio_ci95_lo", V_NUM, 1);
    x->d = q && q->ok ? q->r.ci.lo : NAN;
    x = put(v, &n, "median_ratio_ci95_hi", V_NUM, 1);
    x->d = q && q->ok ? q->r.ci.hi : NAN;
    put_s(v, &n, "ratio_error", q && !q->ok ? q->err : NULL, 0);
    return n;
}

static void text_of(const val *x, char *b, size_t n, int table) {
    if (x->kind == V_STR)
        snprintf(b, n, "%s", x->s ? x->s : table ? "-" : "");
    else if (x->kind == V_INT)
        x->i == LM_RESULTS_NULL ? snprintf(b, n, "%s", table ? "-" : "")
                                : snprintf(b, n, "%lld", x->i);
    else if (isnan(x->d))
        snprintf(b, n, "%s", table ? "-" : "");
    else if (table)
        snprintf(b, n, "%.*f", x->digits, x->d);
    else
        snprintf(b, n, "%.15g", x->d);
}

/* ---- the table -------------------------------------------------------- */

typedef size_t (*row_fn)(const lm_report_summary *s, size_t i, val *v);

static size_t group_row(const lm_report_summary *s, size_t i, val *v) {
    return row_of(s, &s->groups[i], v);
}

static size_t ratio_table_row(const lm_report_summary *s, size_t i, val *v) {
    size_t n = 0;
    const lm_report_ratio *q = &s->ratios[i];
    put_s(v, &n, s->by_cell ? "cell" : "service", s->groups[q->group].name, 1);
    if (!s->by_cell) put_s(v, &n, "start", s->groups[q->group].start, 1);
    n += ratio_row(s, q, v + n);
    int why = 0; /* why a ratio is missing: a column when one is */
    for (size_t k = 0; k < s->nratios; k++)
        why |= !s->ratios[k].ok;
    v[n - 1].table = why;
    return n;
}

/* Prints rows 0..rows of fn aligned: strings left, numbers right. */
static void aligned(FILE *out, const lm_report_summary *s, size_t rows, row_fn fn) {
    val v[MAX_COLS];
    size_t w[MAX_COLS] = {0}, cols = fn(s, 0, v);
    char b[256];
    for (size_t c = 0; c < cols; c++)
        w[c] = strlen(v[c].name);
    for (size_t i = 0; i < rows; i++) {
        fn(s, i, v);
        for (size_t c = 0; c < cols; c++) {
            text_of(&v[c], b, sizeof b, 1);
            if (strlen(b) > w[c]) w[c] = strlen(b);
        }
    }
    size_t last = 0; /* the last column shown is not padded */
    for (size_t c = 0; c < cols; c++)
        if (v[c].table) last = c;
    for (long i = -1; i < (long)rows; i++) {
        fn(s, i < 0 ? 0 : (size_t)i, v);
        const char *sep = "";
        for (size_t c = 0; c < cols; c++) {
            if (!v[c].table) continue;
            if (i < 0)
                snprintf(b, sizeof b, "%.39s", v[c].name);
            else
                text_of(&v[c], b, sizeof b, 1);
            int left = v[c].kind == V_STR;
            fprintf(out, left ? "%s%-*s" : "%s%*s", sep, c == last && left ? 0 : (int)w[c], b);
            sep = "  ";
        }
        fputc('\n', out);
    }
}

static const char *source_doc(const char *name) {
    if (strcmp(name, "client") == 0)
        return "receive_ns - intended_send_ns, the load client's (coordinated-omission corrected)";
    if (strcmp(name, "gateway") == 0) return "response_ns - ingress_ns, the gateway's";
    if (strcmp(name, "instance") == 0)
        return "result_ns - dispatch_ns, INVOKE written to RESULT read";
    return NULL;
}

void lm_report_summary_print_table(FILE *out, const lm_report_summary *s) {
    const char *u = lm_report_metric_unit(s->metric);
    fprintf(out, "%s: %zu %s, metric %s (%s); 95%% confidence intervals\n\n", s->db, s->ngroups,
            s->by_cell ? (s->ngroups == 1 ? "cell" : "cells")
                       : (s->ngroups == 1 ? "group (service, start)" : "groups (service, start)"),
            lm_report_metric_name(s->metric), u);
    if (s->ngroups) aligned(out, s, s->ngroups, group_row);
    if (s->nratios) {
        fprintf(out,
                "\nmedian %s ratio to %s: 95%% percentile bootstrap, B = %u resamples, seed "
                "%llu\n\n",
                lm_report_metric_name(s->metric), s->baseline_used,
                s->boot.resamples ? s->boot.resamples : LM_STATS_BOOT_B,
                (unsigned long long)s->boot.seed);
        aligned(out, s, s->nratios, ratio_table_row);
    } else if (!s->baseline_used && s->ngroups) {
        fputs("\nno ratios: native is not among the runtimes (--baseline R picks one)\n", out);
    }
    /* What each latency source means, once for each one used. */
    int used[LM_REPORT_SRC_COUNT] = {0}, any = 0;
    static const char *const names[LM_REPORT_SRC_COUNT] = {"client", "gateway", "instance"};
    for (size_t i = 0; i < s->ngroups; i++)
        for (int k = 0; k < LM_REPORT_SRC_COUNT; k++)
            if (s->groups[i].source_name && strcmp(s->groups[i].source_name, names[k]) == 0)
                any = used[k] = 1;
    if (any) fputc('\n', out);
    for (int k = 0; k < LM_REPORT_SRC_COUNT; k++)
        if (used[k]) fprintf(out, "source %s: %s\n", names[k], source_doc(names[k]));
    for (size_t i = 0; i < s->ngroups; i++)
        if (s->groups[i].missing)
            fprintf(out, "%s: %zu answered requests lack the %s values (left out)\n",
                    s->groups[i].name, s->groups[i].missing, s->groups[i].source_name);
    if (s->unassigned)
        fprintf(out, "%zu requests belong to no %s (left out)\n", s->unassigned,
                s->by_cell ? "cell" : "service");
    if (s->warmups)
        fprintf(out, "%zu warm-up requests of lumos run counted as excluded\n", s->warmups);
}

/* ---- CSV ---------------------------------------------------------------- */

static void csv_line(FILE *out, const val *v, size_t n, int header, int *first) {
    char b[256];
    for (size_t c = 0; c < n; c++) {
        if (!*first) fputc(',', out);
        *first = 0;
        if (header) {
            lm_csv_field(out, v[c].name, strlen(v[c].name), 0);
        } else if (v[c].kind == V_STR) {
            if (v[c].s) lm_csv_field(out, v[c].s, strlen(v[c].s), 0);
        } else {
            text_of(&v[c], b, sizeof b, 0);
            fputs(b, out);
        }
    }
}

void lm_report_summary_print_csv(FILE *out, const lm_report_summary *s) {
    val v[MAX_COLS], r[8];
    lm_report_group empty;
    memset(&empty, 0, sizeof empty);
    for (long i = -1; i < (long)s->ngroups; i++) {
        const lm_report_group *g = i < 0 ? (s->ngroups ? &s->groups[0] : &empty) : &s->groups[i];
        size_t n = row_of(s, g, v), m = ratio_row(s, i < 0 ? NULL : ratio_for(s, (size_t)i), r);
        int first = 1;
        csv_line(out, v, n, i < 0, &first);
        csv_line(out, r, m, i < 0, &first);
        fputc('\n', out);
    }
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *jstr(const char *s) {
    if (!s) return json_null();
    json_t *j = json_string(s);
    return j ? j : json_string("(not UTF-8)");
}

static json_t *jval(const val *x) {
    if (x->kind == V_STR) return jstr(x->s);
    if (x->kind == V_INT) return x->i == LM_RESULTS_NULL ? json_null() : json_integer(x->i);
    return isfinite(x->d) ? json_real(x->d) : json_null();
}

void lm_report_summary_print_json(FILE *out, const lm_report_summary *s) {
    json_t *root = json_object(), *groups = json_array(), *rows = json_array();
    json_object_set_new(root, "database", jstr(s->db));
    json_object_set_new(root, "schema_version", json_integer(s->version));
    json_object_set_new(root, "by", json_string(s->by_cell ? "cell" : "service"));
    json_object_set_new(root, "metric", json_string(lm_report_metric_name(s->metric)));
    json_object_set_new(root, "unit", json_string(lm_report_metric_unit(s->metric)));
    json_object_set_new(root, "level", json_real(0.95));
    json_object_set_new(root, "quantiles", json_string("type 7 (linear interpolation)"));
    val v[MAX_COLS];
    for (size_t i = 0; i < s->ngroups; i++) {
        json_t *o = json_object();
        size_t n = row_of(s, &s->groups[i], v);
        for (size_t c = 0; c < n; c++)
            json_object_set_new(o, v[c].name, jval(&v[c]));
        json_array_append_new(groups, o);
    }
    json_object_set_new(root, "groups", groups);
    json_object_set_new(root, "unassigned_requests", json_integer((json_int_t)s->unassigned));
    json_object_set_new(root, "warmups_excluded", json_integer((json_int_t)s->warmups));
    json_t *ratios = json_object();
    json_object_set_new(ratios, "baseline", jstr(s->baseline_used));
    json_object_set_new(ratios, "statistic", json_string("median"));
    json_object_set_new(ratios, "method", json_string("percentile bootstrap"));
    json_object_set_new(ratios, "resamples",
                        json_integer(s->boot.resamples ? s->boot.resamples : LM_STATS_BOOT_B));
    json_object_set_new(ratios, "seed", json_integer((json_int_t)s->boot.seed));
    for (size_t i = 0; i < s->nratios; i++) {
        const lm_report_ratio *q = &s->ratios[i];
        const lm_report_group *g = &s->groups[q->group];
        json_t *o = json_object();
        json_object_set_new(o, s->by_cell ? "cell" : "service", jstr(g->name));
        if (!s->by_cell) json_object_set_new(o, "start", jstr(g->start));
        json_object_set_new(o, "runtime", jstr(g->runtime));
        json_object_set_new(o, "n", json_integer((json_int_t)g->n));
        json_object_set_new(o, "baseline_n", json_integer((json_int_t)s->groups[q->baseline].n));
        size_t n = ratio_row(s, q, v);
        for (size_t c = 0; c < n; c++)
            json_object_set_new(o, v[c].name, jval(&v[c]));
        json_array_append_new(rows, o);
    }
    json_object_set_new(ratios, "rows", rows);
    json_object_set_new(root, "ratios", ratios);
    json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    fputc('\n', out);
    json_decref(root);
}
