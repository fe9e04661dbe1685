/* paper.c -- the paper's six findings (Marcelino et al., "Lumos:
 * Performance Characterization of WebAssembly as a Serverless Runtime in
 * the Edge-Cloud Continuum", IoT 2025, on a Raspberry Pi cluster) beside
 * what this file measured. The claims are worded as issue 10 and
 * docs/ARCHITECTURE give them; the numbering is the report's. Nothing of
 * the paper's is copied into a measurement: each is computed from this
 * file's comparisons (findings.c), and a claim the file cannot test says
 * so. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"
#include "results/results.h"

static int same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* The range of the ratios of runtime's comparisons of topic (all, or only
 * the significant ones), and how many of each kind. */
typedef struct {
    size_t n, ok, sig, below, above; /* below/above: significant < 1, > 1 */
    double lo, hi;                   /* over the ok ones */
    double sig_lo, sig_hi;           /* over the significant ones */
    double max_hi_ci, min_lo_ci;     /* the widest interval ends */
} range;

static range ratios(const lm_report_doc *d, const char *topic, const char *rt) {
    range r = {0, 0, 0, 0, 0, INFINITY, -INFINITY, INFINITY, -INFINITY, -INFINITY, INFINITY};
    for (size_t i = 0; i < d->ncmp; i++) {
        const lm__cmp *c = &d->cmp[i];
        if (!same(c->topic, topic) || !same(c->runtime, rt)) continue;
        r.n++;
        if (!c->ok) continue;
        r.ok++;
        if (c->r.ratio < r.lo) r.lo = c->r.ratio;
        if (c->r.ratio > r.hi) r.hi = c->r.ratio;
        if (c->r.ci.ok && c->r.ci.hi > r.max_hi_ci) r.max_hi_ci = c->r.ci.hi;
        if (c->r.ci.ok && c->r.ci.lo < r.min_lo_ci) r.min_lo_ci = c->r.ci.lo;
        if (!c->significant) continue;
        r.sig++;
        if (c->r.ratio < 1) r.below++;
        if (c->r.ratio > 1) r.above++;
        if (c->r.ratio < r.sig_lo) r.sig_lo = c->r.ratio;
        if (c->r.ratio > r.sig_hi) r.sig_hi = c->r.ratio;
    }
    return r;
}

static char *fmt(const char *f, ...) LM_PRINTF(1, 2);
static char *fmt(const char *f, ...) {
    char b[1024];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof b, f, ap);
    va_end(ap);
    return strdup(b);
}

static const char *not_measured = "not measured here";

static void sizes(lm_report_doc *d, lm__paper *p) {
    p->claim = "AoT-compiled Wasm images are up to 30x smaller than container images "
               "(debian-slim base).";
    p->topic = "size";
    const lm__finding *best = NULL;
    for (size_t i = 0; i < d->nfnd; i++) {
        const lm__finding *f = &d->fnd[i];
        if (!same(f->topic, "size") || !f->runtime || !strstr(f->runtime, "wasm-aot")) continue;
        /* debian-slim first, as the paper; scratch when it was not built. */
        if (!best ||
            (same(f->baseline, "container-slim") && !same(best->baseline, "container-slim")))
            best = f;
    }
    if (!best) {
        p->verdict = not_measured;
        p->measured = fmt("No Wasm AoT runtime and container image both in this file's artifacts.");
        return;
    }
    p->verdict = best->hi > 1 ? "agrees" : "differs";
    p->measured = fmt("%s against %s (%s base): the images are %.2fx to %.2fx the size of %s's "
                      "artifacts (up to %.2fx smaller%s).",
                      best->runtime, best->baseline,
                      same(best->baseline, "container-slim") ? "debian-slim"
                                                             : "scratch, as the "
                                                               "debian-slim base "
                                                               "was not run",
                      best->lo, best->hi, best->runtime, best->hi,
                      best->hi > 1 ? "" : ": larger here, not smaller");
    if (best->hi > 1 && best->hi < 30) p->verdict = "partly";
}

static void warm_aot(lm_report_doc *d, lm__paper *p) {
    p->claim = "AoT Wasm's warm latency is within 1.1x of containers'.";
    p->topic = "warm";
    range r = ratios(d, "warm", "wasm-aot");
    if (r.ok == 0 || !same(d->base_ct, "container")) {
        p->verdict = not_measured;
        p->measured = fmt("%s", r.ok == 0 ? "No warm wasm-aot cell with a twin on the baseline."
                                          : "No container cells: wasm-aot was compared with "
                                            "native instead (see the findings).");
        if (r.ok && !same(d->base_ct, "container")) {
            free(p->measured);
            p->measured = fmt("No container cells; against %s, wasm-aot's warm latency is %.2fx "
                              "to %.2fx (%zu of %zu cells significantly different).",
                              d->base_ct, r.lo, r.hi, r.sig, r.ok);
        }
        return;
    }
    p->measured = fmt("wasm-aot against container: %.2fx to %.2fx over %zu cells (%zu "
                      "significantly different; the largest interval end %.2fx).",
                      r.lo, r.hi, r.ok, r.sig, r.max_hi_ci);
    p->verdict = r.sig == 0           ? "no significant difference"
                 : r.max_hi_ci <= 1.1 ? "agrees"
                 : r.sig_lo > 1.1     ? "differs"
                                      : "partly";
}

static void cold_aot(lm_report_doc *d, lm__paper *p) {
    p->claim = "AoT Wasm's cold start is up to 16% lower than containers'.";
    p->topic = "cold";
    range r = ratios(d, "cold", "wasm-aot");
    if (r.ok == 0) {
        p->verdict = not_measured;
        p->measured =
            fmt("No cold wasm-aot cell with a twin on %s.", d->base_ct ? d->base_ct : "a baseline");
        return;
    }
    p->measured =
        fmt("wasm-aot against %s, cold requests end to end: %.2fx to %.2fx over %zu "
            "cells; %zu significantly lower (down to %.0f%% lower), %zu significantly "
            "higher.",
            d->base_ct, r.lo, r.hi, r.ok, r.below, r.below ? (1 - r.sig_lo) * 100 : 0.0, r.above);
    if (!same(d->base_ct, "container"))
        p->verdict = not_measured;
    else
        p->verdict = r.sig == 0     ? "no significant difference"
                     : r.above == 0 ? "agrees"
                     : r.below == 0 ? "differs"
                                    : "partly";
}

/* The interpreted tier: Lumos' interpreter (wasm-interp), or wabt's reference interpreter
 * (wasm-interp-wabt) in a file where Lumos' did not run (older files, or a run without it). */
static const char *interp_tier(const lm_report_doc *d) {
    for (size_t i = 0; i < d->ncmp; i++)
        if (same(d->cmp[i].runtime, "wasm-interp")) return "wasm-interp";
    for (size_t i = 0; i < d->ncmp; i++)
        if (same(d->cmp[i].runtime, "wasm-interp-wabt")) return "wasm-interp-wabt";
    return "wasm-interp";
}

static void warm_interp(lm_report_doc *d, lm__paper *p) {
    p->claim = "Interpreted Wasm is 30x to 55x slower warm than containers.";
    p->topic = "warm";
    const char *tier = interp_tier(d);
    range r = ratios(d, "warm", tier);
    if (r.ok == 0) {
        p->verdict = not_measured;
        p->measured =
            fmt("No warm %s cell with a twin on %s.", tier, d->base_ct ? d->base_ct : "a baseline");
        return;
    }
    p->measured = fmt("%s against %s: %.1fx to %.1fx over %zu cells (%zu significantly "
                      "slower).",
                      tier, d->base_ct, r.lo, r.hi, r.ok, r.above);
    if (!same(d->base_ct, "container"))
        p->verdict = r.above ? "partly" : "no significant difference";
    else
        p->verdict = r.above == 0                       ? "no significant difference"
                     : r.sig_hi >= 30 && r.sig_lo <= 55 ? "agrees"
                                                        : "partly";
}

static void io_interp(lm_report_doc *d, lm__paper *p) {
    p->claim = "Interpreted Wasm has up to 7x the I/O and 10x the serialization overhead.";
    p->topic = "io";
    const char *tier = interp_tier(d);
    range io = ratios(d, "io", tier), ser = ratios(d, "ser", tier);
    if (io.ok == 0 && ser.ok == 0) {
        p->verdict = not_measured;
        p->measured = fmt("No %s cell with measurable I/O or serialization on %s.", tier,
                          d->base_io ? d->base_io : "a baseline");
        return;
    }
    char a[160] = "not measured", b[160] = "not measured";
    if (io.ok)
        snprintf(a, sizeof a, "%.1fx to %.1fx over %zu cells (%zu significantly higher)", io.lo,
                 io.hi, io.ok, io.above);
    if (ser.ok)
        snprintf(b, sizeof b, "%.1fx to %.1fx over %zu cells (%zu significantly higher)", ser.lo,
                 ser.hi, ser.ok, ser.above);
    p->measured = fmt("%s against %s: I/O %s; serialization %s.", tier, d->base_io, a, b);
    p->verdict = io.above + ser.above == 0 ? "no significant difference"
                 : io.above && ser.above   ? "agrees"
                                           : "partly";
}

/* Under the highest concurrency every runtime of a function and payload
 * ran, which has the lowest p99, and is it a container. */
static void concurrency(lm_report_doc *d, lm__paper *p) {
    p->claim = "Containers hold up best under high concurrency.";
    p->topic = "slo";
    size_t cases = 0, wins = 0, containers = 0;
    char where[512] = "";
    size_t wl = 0;
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *a = &d->pools[i];
        if (!same(a->load, "closed") || !same(a->start, "warm") || a->n[LM__E2E] == 0) continue;
        /* The highest level of this function and payload. */
        int top = 1;
        for (size_t j = 0; j < d->npools && top; j++) {
            const lm__pool *b = &d->pools[j];
            if (same(b->load, "closed") && same(b->start, "warm") &&
                same(b->function, a->function) && same(b->payload, a->payload) &&
                b->concurrency > a->concurrency)
                top = 0;
        }
        if (!top || a->concurrency <= 1) continue;
        /* The first pool at this level decides for its function. */
        int first = 1;
        for (size_t j = 0; j < i && first; j++) {
            const lm__pool *b = &d->pools[j];
            first = !(same(b->load, "closed") && same(b->start, "warm") &&
                      same(b->function, a->function) && same(b->payload, a->payload) &&
                      b->concurrency == a->concurrency && b->n[LM__E2E] > 0);
        }
        if (!first) continue;
        const lm__pool *best = NULL;
        int has_container = 0;
        for (size_t j = 0; j < d->npools; j++) {
            const lm__pool *b = &d->pools[j];
            if (!same(b->load, "closed") || !same(b->start, "warm") ||
                !same(b->function, a->function) || !same(b->payload, a->payload) ||
                b->concurrency != a->concurrency || b->n[LM__E2E] == 0)
                continue;
            has_container |= lm__report_is_container(b->runtime);
            if (!best || b->d[LM__E2E].p99 < best->d[LM__E2E].p99) best = b;
        }
        cases++;
        containers += has_container;
        if (best && lm__report_is_container(best->runtime)) wins++;
        if (best && wl < sizeof where)
            wl += (size_t)snprintf(where + wl, sizeof where - wl,
                                   "%s%s%s%s at %lld: %s (p99 %.3g ms)", wl ? "; " : "",
                                   a->function, a->payload ? "/" : "", a->payload ? a->payload : "",
                                   (long long)a->concurrency, best->runtime, best->d[LM__E2E].p99);
    }
    if (cases == 0) {
        p->verdict = not_measured;
        p->measured = fmt("No warm closed loops of more than one client.");
        return;
    }
    p->measured = fmt("Lowest p99 at the highest concurrency measured: %s (point estimates; the "
                      "SLO findings give their intervals).",
                      where);
    p->verdict = containers == 0 ? not_measured
                 : wins == cases ? "agrees"
                 : wins == 0     ? "differs"
                                 : "partly";
}

void lm__report_paper(lm_report_doc *d) {
    sizes(d, &d->paper[0]);
    warm_aot(d, &d->paper[1]);
    cold_aot(d, &d->paper[2]);
    warm_interp(d, &d->paper[3]);
    io_interp(d, &d->paper[4]);
    concurrency(d, &d->paper[5]);
}
