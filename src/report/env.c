/* env.c -- the report's environment dimension (internal.h): when the cells
 * ran on more than one node profile or network condition, each base pool
 * beside its twin in the reference environment (the host node over the
 * unshaped link, else the first node and link the cells name), what the
 * environment adds to each part of the breakdown (the difference of the
 * parts' means), the ratios of the compute, storage I/O and end-to-end
 * medians with their intervals, the findings ("on pi4, compute time is
 * 2.3x host/none's"), the table in every output and its figure.
 * docs/report.md is the method. */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"
#include "results/results.h"

static int same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* A network value that shapes nothing: "none", or one the run recorded as
 * unshaped (meta experiment.network.NAME = "none"). */
static int unshaped(const lm_report_doc *d, const char *net) {
    if (!net || strcmp(net, "none") == 0) return 1;
    char key[300];
    snprintf(key, sizeof key, "experiment.network.%s", net);
    const char *c = lm__report_meta(d, key);
    return c && strcmp(c, "none") == 0;
}

static int host_node(const char *node) { return !node || strcmp(node, "host") == 0; }

void lm__report_env_label(const lm__pool *p, char *out, size_t n) {
    snprintf(out, n, "%s/%s", p->node ? p->node : "host", p->network ? p->network : "none");
}

void lm__report_env_ref_label(const lm_report_doc *d, char *out, size_t n) {
    snprintf(out, n, "%s/%s", d->ref_node ? d->ref_node : "host", d->ref_net ? d->ref_net : "none");
}

/* The twin of p (same function, runtime, payload, start and load) on node
 * and net, or -1. */
static long env_twin(const lm_report_doc *d, const lm__pool *p, const char *node, const char *net) {
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *q = &d->pools[i];
        if (same(q->function, p->function) && same(q->runtime, p->runtime) &&
            same(q->payload, p->payload) && same(q->start, p->start) && same(q->load, p->load) &&
            q->concurrency == p->concurrency &&
            (q->rate_rps == p->rate_rps || (isnan(q->rate_rps) && isnan(p->rate_rps))) &&
            same(q->node, node) && same(q->network, net))
            return (long)i;
    }
    return -1;
}

static int is_ref(const lm_report_doc *d, const lm__pool *p) {
    return same(p->node, d->ref_node) && same(p->network, d->ref_net);
}

/* Does the pool's node (network) match want ("host": no node; "none":
 * unshaped)? */
static int node_is(const char *have, const char *want) {
    return strcmp(want, "host") == 0 ? host_node(have) : same(have, want);
}
static int net_is(const lm_report_doc *d, const char *have, const char *want) {
    return strcmp(want, "none") == 0 ? unshaped(d, have) : same(have, want);
}

/* The reference: --env-reference's, else a host node (or no node axis)
 * when any cell ran there, else the first node; the unshaped link when any
 * ran so on that node, else its first network value. */
static int pick_reference(lm_report_doc *d, char *err) {
    const char *node = NULL, *net = NULL;
    int node_set = 0, net_set = 0;
    if (d->o.env_reference) {
        char want[200];
        snprintf(want, sizeof want, "%s", d->o.env_reference);
        char *slash = strchr(want, '/');
        if (slash) *slash++ = 0;
        for (size_t i = 0; i < d->npools && !net_set; i++) {
            const lm__pool *p = &d->pools[i];
            if (!node_is(p->node, want) || (slash && !net_is(d, p->network, slash))) continue;
            node = p->node, node_set = 1;
            if (slash || unshaped(d, p->network)) net = p->network, net_set = 1;
        }
        for (size_t i = 0; node_set && !net_set && i < d->npools; i++)
            if (same(d->pools[i].node, node)) net = d->pools[i].network, net_set = 1;
        if (!node_set)
            return lm_errf(err,
                           "--env-reference %s: no cell ran there (name a node of the "
                           "cells, or NODE/NETWORK)",
                           d->o.env_reference);
        d->ref_node = node;
        d->ref_net = net;
        return LM_OK;
    }
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *p = &d->pools[i];
        if (!node_set && host_node(p->node)) node = p->node, node_set = 1;
    }
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *p = &d->pools[i];
        if (!net_set && (!node_set || same(p->node, node)) && unshaped(d, p->network))
            net = p->network, net_set = 1;
    }
    for (size_t i = 0; i < d->npools && (!node_set || !net_set); i++) {
        const lm__pool *p = &d->pools[i];
        if (!node_set) node = p->node, node_set = 1;
        if (!net_set) net = p->network, net_set = 1;
    }
    d->ref_node = node;
    d->ref_net = net;
    return LM_OK;
}

static void env_cmp(lm_report_doc *d, lm__cmp *c, const lm__pool *p, const lm__pool *r, int metric,
                    const char *topic, const char *ref) {
    memset(c, 0, sizeof *c);
    c->topic = topic;
    c->function = p->function;
    c->runtime = p->runtime;
    c->baseline = ref;
    c->payload = p->payload;
    c->a_median = p->n[metric] ? p->d[metric].median : NAN;
    c->b_median = r && r->n[metric] ? r->d[metric].median : NAN;
    if (!r) {
        snprintf(c->why, sizeof c->why, "no twin in the reference environment %s", ref);
        return;
    }
    lm__report_compare(d, c, p->x[metric], p->n[metric], r->x[metric], r->n[metric]);
}

/* ---- findings ---- */

typedef struct {
    char *s;
    size_t n;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) LM_PRINTF(2, 3);
static void put(sbuf *b, const char *fmt, ...) {
    char chunk[1024];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(chunk, sizeof chunk, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    size_t l = strlen(chunk);
    char *s = realloc(b->s, b->n + l + 1);
    if (!s) return;
    memcpy(s + b->n, chunk, l + 1);
    b->s = s;
    b->n += l;
}

static void fmt_x(char *out, size_t n, double r) {
    snprintf(out, n, r >= 100 ? "%.0fx" : r >= 10 ? "%.1fx" : "%.2fx", r);
}

static const lm__cmp *row_cmp(const lm__env_row *r, int which) {
    return which == 0 ? &r->compute : which == 1 ? &r->io : &r->e2e;
}

/* One sentence per environment other than the reference and metric:
 * "On pi4/none, compute time is 2.21x to 2.35x host/none's in 2 of 2 cells
 * (fibonacci@native/group:s 2.30x [2.20x, 2.41x], p < 0.001, n 20/20; ...)". */
static void env_findings(lm_report_doc *d) {
    static const char *const topic[] = {"env-compute", "env-io", "env-e2e"};
    static const char *const what[] = {"compute time", "storage I/O time", "end-to-end latency"};
    char ref[200];
    lm__report_env_ref_label(d, ref, sizeof ref);
    for (size_t i = 0; i < d->nenvr; i++) {
        const lm__pool *p = &d->pools[d->envr[i].pool];
        char label[200];
        lm__report_env_label(p, label, sizeof label);
        /* Once per environment: at its first row. */
        int first = 1;
        for (size_t j = 0; j < i && first; j++) {
            char l2[200];
            lm__report_env_label(&d->pools[d->envr[j].pool], l2, sizeof l2);
            first = strcmp(l2, label) != 0;
        }
        if (!first || is_ref(d, p)) continue;
        for (int w = 0; w < 3; w++) {
            size_t n = 0, sig = 0;
            double lo = INFINITY, hi = -INFINITY;
            for (size_t k = i; k < d->nenvr; k++) {
                char l2[200];
                lm__report_env_label(&d->pools[d->envr[k].pool], l2, sizeof l2);
                const lm__cmp *c = row_cmp(&d->envr[k], w);
                if (strcmp(l2, label) != 0 || !c->ok) continue;
                n++;
                if (c->significant) {
                    sig++;
                    lo = fmin(lo, c->r.ratio);
                    hi = fmax(hi, c->r.ratio);
                }
            }
            if (n == 0) continue;
            lm__finding *f = realloc(d->fnd, (d->nfnd + 1) * sizeof *f);
            if (!f) return;
            d->fnd = f;
            f += d->nfnd++;
            memset(f, 0, sizeof *f);
            f->topic = topic[w];
            f->baseline = strdup(ref);
            f->subject = strdup(label);
            f->lo = f->hi = NAN;
            sbuf t = {0};
            char a[32], b[32];
            if (sig) {
                fmt_x(a, sizeof a, lo);
                fmt_x(b, sizeof b, hi);
                f->supported = 1;
                f->lo = lo;
                f->hi = hi;
                put(&t, "On %s, %s is %s%s%s %s's", label, what[w], a, lo == hi ? "" : " to ",
                    lo == hi ? "" : b, ref);
                if (sig < n)
                    put(&t, " in %zu of %zu cells, no significant difference in the others", sig,
                        n);
            } else {
                put(&t, "On %s, no significant difference from %s in %s", label, ref, what[w]);
            }
            put(&t, " (");
            size_t shown = 0;
            for (size_t k = i; k < d->nenvr; k++) {
                char l2[200];
                const lm__env_row *r = &d->envr[k];
                lm__report_env_label(&d->pools[r->pool], l2, sizeof l2);
                const lm__cmp *c = row_cmp(r, w);
                if (strcmp(l2, label) != 0 || !c->ok) continue;
                size_t *pl = realloc(f->pools, (f->npools + 2) * sizeof *pl);
                if (pl) {
                    f->pools = pl;
                    pl[f->npools++] = r->pool;
                    pl[f->npools++] = (size_t)r->ref;
                }
                char x[32];
                fmt_x(x, sizeof x, c->r.ratio);
                put(&t, "%s%s@%s/%s %s", shown++ ? "; " : "", c->function ? c->function : "?",
                    c->runtime ? c->runtime : "?", c->payload ? c->payload : "-", x);
                if (c->r.ci.ok) {
                    fmt_x(a, sizeof a, c->r.ci.lo);
                    fmt_x(b, sizeof b, c->r.ci.hi);
                    put(&t, " [%s, %s]", a, b);
                }
                put(&t, ", %s%.3g, n %zu/%zu",
                    c->u.p < 0.001 ? "p < " : "p = ", c->u.p < 0.001 ? 0.001 : c->u.p, c->na,
                    c->nb);
            }
            put(&t, ").");
            f->text = t.s;
        }
    }
}

int lm__report_env(lm_report_doc *d, char *err) {
    /* More than one environment among the pools? */
    const lm__pool *first = d->npools ? &d->pools[0] : NULL;
    for (size_t i = 1; i < d->npools && !d->env; i++)
        d->env = !same(d->pools[i].node, first->node) || !same(d->pools[i].network, first->network);
    if (!d->env) return LM_OK;
    if (pick_reference(d, err) != LM_OK) return LM_ERR;
    char ref[200];
    lm__report_env_ref_label(d, ref, sizeof ref);
    /* Rows in family order (function, runtime, payload, start, load), each
     * family's environments in the order the cells ran them. */
    d->envr = calloc(d->npools, sizeof *d->envr);
    if (!d->envr) return lm_errf(err, "out of memory");
    uint8_t *done = calloc(d->npools, 1);
    if (!done) return lm_errf(err, "out of memory");
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *p = &d->pools[i];
        if (done[i] || !p->base || !p->function) continue;
        for (size_t j = i; j < d->npools; j++) {
            const lm__pool *q = &d->pools[j];
            if (done[j] || !q->base || env_twin(d, q, p->node, p->network) != (long)i) continue;
            done[j] = 1;
            lm__env_row *r = &d->envr[d->nenvr++];
            r->pool = j;
            r->ref = env_twin(d, q, d->ref_node, d->ref_net);
            const lm__pool *rp = r->ref >= 0 ? &d->pools[r->ref] : NULL;
            double t = 0, tr = 0;
            for (int k = 0; k < LM__NPART; k++) {
                r->add[k] =
                    rp && q->part_n && rp->part_n ? q->part_mean[k] - rp->part_mean[k] : NAN;
                t += q->part_mean[k];
                tr += rp ? rp->part_mean[k] : NAN;
            }
            r->add_total = rp && q->part_n && rp->part_n ? t - tr : NAN;
            env_cmp(d, &r->compute, q, rp, LM__COMPUTE, "env-compute", ref);
            env_cmp(d, &r->io, q, rp, LM__IO, "env-io", ref);
            env_cmp(d, &r->e2e, q, rp, LM__E2E, "env-e2e", ref);
            if (!rp && !is_ref(d, q)) {
                char name[512];
                lm__report_pool_name(q, name, sizeof name);
                lm__report_note(d,
                                "%s: no twin in the reference environment %s: nothing to "
                                "subtract",
                                name, ref);
            }
        }
    }
    free(done);
    env_findings(d);
    return LM_OK;
}

/* ---- the table ---- */

static const char *nz(const char *s, const char *def) { return s ? s : def; }

void lm__report_env_csv(const lm_report_doc *d, FILE *f) {
    fputs("function,runtime,payload,start,node,network,reference,requests,e2e_mean_ms", f);
    for (int k = 0; k < LM__NPART; k++)
        fprintf(f, ",%s_ms", lm__report_part_names[k]);
    for (int k = 0; k < LM__NPART; k++)
        fprintf(f, ",added_%s_ms", lm__report_part_names[k]);
    fputs(",added_total_ms,compute_ratio,compute_ratio_lo,compute_ratio_hi,io_ratio,io_ratio_lo,"
          "io_ratio_hi,e2e_ratio,e2e_ratio_lo,e2e_ratio_hi\n",
          f);
    char ref[200];
    lm__report_env_ref_label(d, ref, sizeof ref);
    for (size_t i = 0; i < d->nenvr; i++) {
        const lm__env_row *r = &d->envr[i];
        const lm__pool *p = &d->pools[r->pool];
        char l[4][256];
        lm__fig_label(l[0], sizeof l[0], nz(p->function, ""));
        lm__fig_label(l[1], sizeof l[1], nz(p->runtime, ""));
        lm__fig_label(l[2], sizeof l[2], nz(p->payload, ""));
        lm__fig_label(l[3], sizeof l[3], nz(p->start, ""));
        char nd[64], nw[160];
        lm__fig_label(nd, sizeof nd, nz(p->node, "host"));
        lm__fig_label(nw, sizeof nw, nz(p->network, "none"));
        fprintf(f, "%s,%s,%s,%s,%s,%s,%s,%zu,", l[0], l[1], l[2], l[3], nd, nw, ref, p->part_n);
        double t = 0;
        for (int k = 0; k < LM__NPART; k++)
            t += p->part_mean[k];
        lm__fig_num(f, p->part_n ? t : NAN);
        for (int k = 0; k < LM__NPART; k++) {
            fputc(',', f);
            lm__fig_num(f, p->part_mean[k]);
        }
        for (int k = 0; k < LM__NPART; k++) {
            fputc(',', f);
            lm__fig_num(f, r->add[k]);
        }
        fputc(',', f);
        lm__fig_num(f, r->add_total);
        for (int w = 0; w < 3; w++) {
            const lm__cmp *c = row_cmp(r, w);
            fputc(',', f);
            lm__fig_num(f, c->ok ? c->r.ratio : NAN);
            fputc(',', f);
            lm__fig_num(f, c->ok && c->r.ci.ok ? c->r.ci.lo : NAN);
            fputc(',', f);
            lm__fig_num(f, c->ok && c->r.ci.ok ? c->r.ci.hi : NAN);
        }
        fputc('\n', f);
    }
}

static void fmt_add(char *out, size_t n, double ms) {
    if (isnan(ms)) {
        snprintf(out, n, "-");
        return;
    }
    if (fabs(ms) < 0.0005) ms = 0; /* no "-0.000" */
    char b[32];
    lm__report_fmt_ms(b, sizeof b, fabs(ms));
    snprintf(out, n, "%s%s", ms < 0 ? "-" : "+", b);
}

static void fmt_cmp(char *out, size_t n, const lm__cmp *c) {
    if (!c->ok) {
        snprintf(out, n, "-");
        return;
    }
    fmt_x(out, n, c->r.ratio);
    if (c->significant) snprintf(out + strlen(out), n - strlen(out), "*");
}

void lm__report_env_text(const lm_report_doc *d, FILE *f) {
    if (!d->env) return;
    char ref[200];
    lm__report_env_ref_label(d, ref, sizeof ref);
    fprintf(f,
            "\nenvironment: the same function on each node and link (closed loops of one); "
            "added = mean ms more than on %s, ratios of medians to %s's (* significant)\n",
            ref, ref);
    fprintf(f, "%-40s %-18s %8s", "cell", "node/network", "e2e");
    for (int k = 0; k < LM__NPART; k++)
        fprintf(f, " %9.9s", lm__report_part_names[k]);
    fprintf(f, " %9s %8s %8s %8s\n", "total", "compute", "io", "e2e");
    for (size_t i = 0; i < d->nenvr; i++) {
        const lm__env_row *r = &d->envr[i];
        const lm__pool *p = &d->pools[r->pool];
        char cell[300], env[200], b[32];
        snprintf(cell, sizeof cell, "%s@%s/%s/%s", nz(p->function, "?"), nz(p->runtime, "?"),
                 nz(p->payload, "-"), nz(p->start, "?"));
        lm__report_env_label(p, env, sizeof env);
        double t = 0;
        for (int k = 0; k < LM__NPART; k++)
            t += p->part_mean[k];
        lm__report_fmt_ms(b, sizeof b, p->part_n ? t : NAN);
        fprintf(f, "%-40.40s %-18.18s %8s", cell, env, b);
        for (int k = 0; k < LM__NPART; k++) {
            fmt_add(b, sizeof b, r->add[k]);
            fprintf(f, " %9s", b);
        }
        fmt_add(b, sizeof b, r->add_total);
        fprintf(f, " %9s", b);
        for (int w = 0; w < 3; w++) {
            fmt_cmp(b, sizeof b, row_cmp(r, w));
            fprintf(f, " %8s", b);
        }
        fputc('\n', f);
    }
}

static json_t *jreal(double v) { return isnan(v) || isinf(v) ? json_null() : json_real(v); }

static json_t *cmp_obj(const lm__cmp *c) {
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_boolean(c->ok));
    json_object_set_new(o, "median", jreal(c->a_median));
    json_object_set_new(o, "reference_median", jreal(c->b_median));
    json_object_set_new(o, "ratio", c->ok ? jreal(c->r.ratio) : json_null());
    json_object_set_new(o, "ratio_ci95",
                        c->ok && c->r.ci.ok ? json_pack("{s:o, s:o}", "lo", jreal(c->r.ci.lo), "hi",
                                                        jreal(c->r.ci.hi))
                                            : json_null());
    json_object_set_new(o, "mann_whitney_p", c->ok ? jreal(c->u.p) : json_null());
    json_object_set_new(o, "significant", json_boolean(c->significant));
    json_object_set_new(o, "n", json_integer((json_int_t)c->na));
    json_object_set_new(o, "reference_n", json_integer((json_int_t)c->nb));
    json_object_set_new(o, "why", c->why[0] ? json_string(c->why) : json_null());
    return o;
}

struct json_t *lm__report_env_json(const lm_report_doc *d) {
    if (!d->env) return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "reference_node", d->ref_node ? json_string(d->ref_node) : json_null());
    json_object_set_new(o, "reference_network", d->ref_net ? json_string(d->ref_net) : json_null());
    json_t *rows = json_array();
    for (size_t i = 0; i < d->nenvr; i++) {
        const lm__env_row *r = &d->envr[i];
        const lm__pool *p = &d->pools[r->pool];
        char name[512], rname[512];
        lm__report_pool_name(p, name, sizeof name);
        if (r->ref >= 0) lm__report_pool_name(&d->pools[r->ref], rname, sizeof rname);
        json_t *parts = json_object(), *added = json_object();
        double t = 0;
        for (int k = 0; k < LM__NPART; k++) {
            char key[64];
            snprintf(key, sizeof key, "%s_ms", lm__report_part_names[k]);
            json_object_set_new(parts, key, jreal(p->part_mean[k]));
            json_object_set_new(added, key, jreal(r->add[k]));
            t += p->part_mean[k];
        }
        json_object_set_new(added, "total_ms", jreal(r->add_total));
        json_t *e = json_object();
        json_object_set_new(e, "cell", json_string(name));
        json_object_set_new(e, "reference_cell", r->ref >= 0 ? json_string(rname) : json_null());
        json_object_set_new(e, "function", p->function ? json_string(p->function) : json_null());
        json_object_set_new(e, "runtime", p->runtime ? json_string(p->runtime) : json_null());
        json_object_set_new(e, "payload", p->payload ? json_string(p->payload) : json_null());
        json_object_set_new(e, "start", p->start ? json_string(p->start) : json_null());
        json_object_set_new(e, "node", p->node ? json_string(p->node) : json_null());
        json_object_set_new(e, "network", p->network ? json_string(p->network) : json_null());
        json_object_set_new(e, "requests", json_integer((json_int_t)p->part_n));
        json_object_set_new(e, "e2e_mean_ms", jreal(p->part_n ? t : NAN));
        json_object_set_new(e, "parts_mean", parts);
        json_object_set_new(e, "added", added);
        json_object_set_new(e, "compute", cmp_obj(&r->compute));
        json_object_set_new(e, "io", cmp_obj(&r->io));
        json_object_set_new(e, "e2e", cmp_obj(&r->e2e));
        json_array_append_new(rows, e);
    }
    json_object_set_new(o, "rows", rows);
    return o;
}

static void esc(FILE *f, const char *s) {
    for (; s && *s; s++)
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
}

static void td_num(FILE *f, double v, const char *shown) {
    if (isnan(v))
        fputs("<td class=\"n\">-</td>", f);
    else {
        fprintf(f, "<td class=\"n\" data-v=\"%.17g\">", v);
        esc(f, shown);
        fputs("</td>", f);
    }
}

void lm__report_env_html(const lm_report_doc *d, FILE *f) {
    if (!d->env) return;
    char ref[200];
    lm__report_env_ref_label(d, ref, sizeof ref);
    fputs("<h2 id=\"environment\">The environment</h2>\n<p>The same function on each node "
          "profile and link, side by side (closed-loop cells of one client, repetitions "
          "pooled). <em>Added</em> is what the environment adds to each part of the breakdown: "
          "the part's mean less its mean in the same function, runtime, payload, start and "
          "load on the reference environment <code>",
          f);
    esc(f, ref);
    fputs("</code>. The ratios are of the medians, with their 95% intervals (* significant: "
          "the interval excludes 1 and p &lt; 0.05). The figure <code>env-FUNCTION</code> "
          "stacks the parts; <code>environment.csv</code> holds this table.</p>\n"
          "<div class=\"wide\"><table>\n<tr><th>cell</th><th>node</th><th>network</th>"
          "<th>e2e mean ms</th>",
          f);
    for (int k = 0; k < LM__NPART; k++)
        fprintf(f, "<th>added %s ms</th>", lm__report_part_names[k]);
    fputs("<th>added total ms</th><th>compute ratio</th><th>io ratio</th><th>e2e ratio</th></tr>\n",
          f);
    for (size_t i = 0; i < d->nenvr; i++) {
        const lm__env_row *r = &d->envr[i];
        const lm__pool *p = &d->pools[r->pool];
        char cell[300], b[128];
        snprintf(cell, sizeof cell, "%s@%s/%s/%s", nz(p->function, "?"), nz(p->runtime, "?"),
                 nz(p->payload, "-"), nz(p->start, "?"));
        fputs("<tr><td>", f);
        esc(f, cell);
        fputs("</td><td>", f);
        esc(f, nz(p->node, "host"));
        fputs("</td><td>", f);
        esc(f, nz(p->network, "none"));
        fputs("</td>", f);
        double t = 0;
        for (int k = 0; k < LM__NPART; k++)
            t += p->part_mean[k];
        lm__report_fmt_ms(b, sizeof b, t);
        td_num(f, p->part_n ? t : NAN, b);
        for (int k = 0; k < LM__NPART; k++) {
            fmt_add(b, sizeof b, r->add[k]);
            td_num(f, r->add[k], b);
        }
        fmt_add(b, sizeof b, r->add_total);
        td_num(f, r->add_total, b);
        for (int w = 0; w < 3; w++) {
            const lm__cmp *c = row_cmp(r, w);
            fmt_cmp(b, sizeof b, c);
            if (c->ok && c->r.ci.ok) {
                char lo[32], hi[32];
                fmt_x(lo, sizeof lo, c->r.ci.lo);
                fmt_x(hi, sizeof hi, c->r.ci.hi);
                snprintf(b + strlen(b), sizeof b - strlen(b), " [%s, %s]", lo, hi);
            }
            td_num(f, c->ok ? c->r.ratio : NAN, b);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table></div>\n", f);
}

/* ---- the figure: per function, the parts stacked per runtime and
 * environment, the environments of a runtime side by side ---- */

int lm__fig_env(lm_report_doc *d, char *err) {
    if (!d->env) return LM_OK;
    char ref[200], cap[1024];
    lm__report_env_ref_label(d, ref, sizeof ref);
    snprintf(cap, sizeof cap,
             "The same function on each node profile and link: the mean of each part of the "
             "breakdown over the counted answered requests of closed-loop cells of one client, "
             "per runtime, payload and start, the environments (node/network) side by side. "
             "The reference environment is %s; the report's environment table gives each "
             "part's difference from it.",
             ref);
    for (size_t i = 0; i < d->nenvr; i++) {
        const lm__pool *p = &d->pools[d->envr[i].pool];
        int first = 1;
        for (size_t j = 0; j < i && first; j++)
            first = !same(d->pools[d->envr[j].pool].function, p->function);
        if (!first || !p->function) continue;
        char id[256], title[300];
        snprintf(id, sizeof id, "env-%s", p->function);
        snprintf(title, sizeof title, "%s on each node and link (mean ms)", p->function);
        lm__fig fg;
        if (lm__fig_begin(d, &fg, id, title, cap, err) != LM_OK) return LM_ERR;
        fputs("cell", fg.csv);
        for (int k = 0; k < LM__NPART; k++)
            fprintf(fg.csv, ",%s ms", lm__report_part_names[k]);
        fputs(",end to end mean ms,requests\n", fg.csv);
        size_t rows = 0;
        for (size_t j = i; j < d->nenvr; j++) {
            const lm__pool *q = &d->pools[d->envr[j].pool];
            if (!same(q->function, p->function) || !q->part_n) continue;
            char t[512], l[512], env[200];
            lm__report_env_label(q, env, sizeof env);
            const char *pay =
                q->payload && strncmp(q->payload, "group:", 6) == 0 ? q->payload + 6 : q->payload;
            snprintf(t, sizeof t, "%s %s@%s %s", pay ? pay : "-", nz(q->start, "?"),
                     nz(q->runtime, "?"), env);
            lm__fig_label(l, sizeof l, t);
            fputs(l, fg.csv);
            double tot = 0;
            for (int k = 0; k < LM__NPART; k++) {
                fputc(',', fg.csv);
                lm__fig_num(fg.csv, q->part_mean[k]);
                tot += q->part_mean[k];
            }
            fputc(',', fg.csv);
            lm__fig_num(fg.csv, tot);
            fprintf(fg.csv, ",%zu\n", q->part_n);
            rows++;
        }
        char body[8192];
        lm__fig_stack_body(body, sizeof body, title, "ms", LM__NPART, 1);
        lm__fig_finish_script(&fg, lm__fig_width(rows, 1), 600, body);
        if (lm__fig_end(&fg, err) != LM_OK) return LM_ERR;
    }
    return LM_OK;
}
