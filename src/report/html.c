/* html.c -- the report as one HTML page, DIR/index.html (doc.h): readable
 * offline (no script, no font or style from elsewhere; the figures beside
 * it), every number in a table linking to the raw rows it came from
 * (rows/cell-ID.csv), and each value also in a data-v attribute with all
 * its digits, for tools and tests. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/internal.h"
#include "results/results.h"

static void esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char style[] =
    "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;"
    "line-height:1.45}h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;"
    "margin-top:2em}table{border-collapse:collapse;font-size:.85em;margin:.5em 0}"
    "th,td{border:1px solid #ddd;padding:.2em .45em;text-align:left;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "th{background:#f3f3f3}a{color:#1a4f9c}figure{margin:1.5em 0}figure img{max-width:100%;"
    "border:1px solid #eee}figcaption{font-size:.9em;color:#444}.sup{color:#145a14}"
    ".nosig{color:#6b6b6b}.note{color:#8a4b00}pre{background:#f7f7f7;padding:.6em;"
    "overflow:auto;font-size:.8em}.wide{overflow-x:auto}";

/* A number cell linking to rows: its value with all digits in data-v. */
static void num(FILE *f, double v, const char *shown, const char *href) {
    if (isnan(v)) {
        fputs("<td class=\"n\">-</td>", f);
        return;
    }
    fprintf(f, "<td class=\"n\" data-v=\"%.17g\">", v);
    if (href) {
        fputs("<a href=\"", f);
        esc(f, href);
        fputs("\">", f);
    }
    esc(f, shown);
    if (href) fputs("</a>", f);
    fputs("</td>", f);
}

static void num_ms(FILE *f, double v, const char *href) {
    char b[64];
    lm__report_fmt_ms(b, sizeof b, v);
    num(f, v, b, href);
}

static void num_count(FILE *f, size_t v, const char *href) {
    char b[32];
    snprintf(b, sizeof b, "%zu", v);
    num(f, (double)v, b, href);
}

static void text_td(FILE *f, const char *s) {
    fputs("<td>", f);
    esc(f, s ? s : "-");
    fputs("</td>", f);
}

static const char *rows_href(const lm_report_doc *d, size_t group) {
    long pi = d->sum[LM__E2E].groups[group].pass_index;
    return pi >= 0 && (size_t)pi < d->ngx && d->gx[pi].file_started ? d->gx[pi].rows_file : NULL;
}

static void method(FILE *f, const lm_report_doc *d) {
    fprintf(f, "<h2 id=\"method\">Method</h2>\n<p>Every number here is computed from the results "
               "database <code>");
    esc(f, d->o.db);
    fprintf(f,
            "</code> alone, by the same code as <code>lumos results summary</code> "
            "(docs/stats.md) and <code>lumos report</code> (docs/report.md). Requests are "
            "grouped by experiment cell (a platform's file: by service and start type); a "
            "request counts unless it is excluded (a warm-up, or a start type that is not its "
            "cell's); of those, the ones that answered 2xx give the values. End to end is the "
            "load client's intended send to its receive (corrected for coordinated omission) "
            "when every answered row has it, else the gateway's ingress to response, else the "
            "instance's INVOKE to RESULT. Medians come with the 95%% distribution-free interval "
            "(binomial order statistics), p99 with the same for the 0.99 quantile (368 values "
            "are needed for both ends). Cells that differ only in their repetition are pooled "
            "in the figures and findings.</p>\n<p>A finding compares a runtime with its "
            "baseline in twin cells (same function, payload group, start type and load): the "
            "ratio of the medians with its 95%% interval by the percentile bootstrap "
            "(B = %u resamples, seed %llu; above %d values in all, the normal approximation on "
            "the log scale from the two medians' intervals), and the Mann-Whitney U test. A "
            "difference is stated only when the interval excludes 1 <em>and</em> the two-sided "
            "p is below 0.05; otherwise the finding says there is no significant difference. "
            "Many cells are compared at once: at 5%% some one in twenty true nulls will pass, "
            "so read a lone significant cell with care. Baselines: %s for sizes, cold start, "
            "latency, CPU and memory; %s for storage I/O and serialization. The SLO is "
            "%g ms (<code>--slo-ms</code>). Workload classes come from the functions' "
            "profiles (src/functions/catalog.h): data-bound where their I/O is high, "
            "compute-bound where only their CPU is.</p>\n",
            d->sum[0].boot.resamples ? d->sum[0].boot.resamples : LM_STATS_BOOT_B,
            (unsigned long long)d->sum[0].boot.seed, LM__BOOT_MAX_VALUES,
            d->base_ct ? d->base_ct : "none (neither container nor native ran)",
            d->base_io ? d->base_io : "none", d->slo_ms);
}

static void kv_row(FILE *f, const char *k, const char *v) {
    fputs("<tr><th>", f);
    esc(f, k);
    fputs("</th><td>", f);
    esc(f, v ? v : "-");
    fputs("</td></tr>\n", f);
}

static void machine(FILE *f, const lm_report_doc *d) {
    fputs("<h2 id=\"machine\">The machine</h2>\n<table>\n", f);
    static const char *const keys[] = {"host_name",
                                       "host_os",
                                       "host_kernel",
                                       "host_arch",
                                       "host_cpus",
                                       "host_mem_bytes",
                                       "machine.cpu_model",
                                       "machine.cpu_mhz",
                                       "machine.cores_online",
                                       "machine.mem_bytes",
                                       "machine.kernel",
                                       "lumos_version",
                                       "sqlite_version",
                                       "schema_version",
                                       "experiment.name",
                                       "command"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = lm__report_meta(d, keys[i]);
        if (v) kv_row(f, keys[i], v);
    }
    /* Any other machine.* the file has (not the runtimes: below). */
    for (size_t i = 0; i < d->nmeta; i++) {
        const char *k = d->meta[i].key;
        if (strncmp(k, "machine.", 8) || strncmp(k, "machine.runtime.", 16) == 0) continue;
        int listed = 0;
        for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
            listed |= strcmp(keys[j], k) == 0;
        if (!listed) kv_row(f, k, d->meta[i].value);
    }
    fputs("</table>\n", f);
}

static void runtimes(FILE *f, const lm_report_doc *d) {
    size_t nr = 0;
    const char **rts = lm__report_runtimes(d, &nr);
    fputs("<h2 id=\"runtimes\">The runtimes</h2>\n<table>\n<tr><th>runtime</th><th>identity and "
          "version (meta machine.runtime.*)</th><th>what it is, and what that means for its "
          "numbers</th></tr>\n",
          f);
    for (size_t r = 0; rts && r < nr; r++) {
        char key[256];
        snprintf(key, sizeof key, "machine.runtime.%s", rts[r]);
        fputs("<tr>", f);
        text_td(f, rts[r]);
        text_td(f, lm__report_meta(d, key) ? lm__report_meta(d, key)
                                           : "not recorded (a file written before it was)");
        text_td(f, lm__report_runtime_about(rts[r]));
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    free(rts);
}

/* The rows links of a pool's cells. */
static void pool_links(FILE *f, const lm_report_doc *d, const lm__pool *p) {
    char name[512];
    lm__report_pool_name(p, name, sizeof name);
    for (size_t i = 0; i < p->ng; i++) {
        const char *h = rows_href(d, p->g[i]);
        const lm_report_group *g = &d->sum[LM__E2E].groups[p->g[i]];
        if (i) fputs(", ", f);
        if (h) {
            fputs("<a href=\"", f);
            esc(f, h);
            fputs("\">", f);
        }
        esc(f, g->name ? g->name : name);
        if (h) fputs("</a>", f);
    }
}

static void findings(FILE *f, const lm_report_doc *d) {
    fputs("<h2 id=\"findings\">Findings</h2>\n", f);
    if (d->nfnd == 0) {
        fputs("<p>No comparison could be made: one runtime only, or no baseline in the file.</p>\n",
              f);
        return;
    }
    static const char *const order[] = {"size", "cold", "warm", "io", "ser", "cpu", "mem", "slo"};
    static const char *const heads[] = {"Image and artifact sizes",
                                        "Cold start",
                                        "Warm latency",
                                        "Storage I/O",
                                        "Serialization",
                                        "CPU time",
                                        "Memory",
                                        "Concurrency and the SLO"};
    for (size_t t = 0; t < sizeof order / sizeof order[0]; t++) {
        int any = 0;
        for (size_t i = 0; i < d->nfnd; i++) {
            const lm__finding *fd = &d->fnd[i];
            if (strcmp(fd->topic, order[t]) != 0 || !fd->text) continue;
            if (!any) fprintf(f, "<h3>%s</h3>\n<ul>\n", heads[t]);
            any = 1;
            fprintf(f, "<li class=\"%s\" data-topic=\"%s\"", fd->supported ? "sup" : "nosig",
                    fd->topic);
            if (!isnan(fd->lo)) fprintf(f, " data-lo=\"%.17g\" data-hi=\"%.17g\"", fd->lo, fd->hi);
            fputs(">", f);
            esc(f, fd->text);
            if (fd->npools) {
                fputs(" <small>Rows: ", f);
                for (size_t k = 0; k < fd->npools; k++) {
                    if (k) fputs("; ", f);
                    pool_links(f, d, &d->pools[fd->pools[k]]);
                }
                fputs(".</small>", f);
            }
            fputs("</li>\n", f);
        }
        if (any) fputs("</ul>\n", f);
    }
}

static void paper(FILE *f, const lm_report_doc *d) {
    fputs("<h2 id=\"paper\">The paper's findings and this machine's</h2>\n<p>The six findings "
          "of Marcelino et al., <em>Lumos: Performance Characterization of WebAssembly as a "
          "Serverless Runtime in the Edge-Cloud Continuum</em> (IoT 2025), measured on a "
          "Raspberry Pi cluster, as this project's issue 10 and architecture notes state them "
          "(numbered here), beside what this file measured. The verdicts compare directions "
          "and ranges, not machines: different hardware gives different magnitudes.</p>\n"
          "<table>\n<tr><th>#</th><th>the paper</th><th>this machine</th><th>verdict</th></tr>\n",
          f);
    for (int i = 0; i < 6; i++) {
        const lm__paper *p = &d->paper[i];
        fprintf(f, "<tr><td>%d</td>", i + 1);
        text_td(f, p->claim);
        text_td(f, p->measured);
        text_td(f, p->verdict);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void figures(FILE *f, const lm_report_doc *d) {
    fputs("<h2 id=\"figures\">Figures</h2>\n", f);
    if (d->nfig == 0) fputs("<p>No figure: the file has no data to draw.</p>\n", f);
    for (size_t i = 0; i < d->nfig; i++) {
        const lm__figure *g = &d->fig[i];
        fputs("<figure id=\"fig-", f);
        esc(f, g->id);
        fputs("\">\n", f);
        if (g->drawn) {
            fputs("<img src=\"figures/", f);
            esc(f, g->id);
            fputs(".svg\" alt=\"", f);
            esc(f, g->title);
            fputs("\">\n", f);
        }
        fputs("<figcaption><strong>", f);
        esc(f, g->title);
        fputs(".</strong> ", f);
        esc(f, g->caption);
        fputs(" Files: ", f);
        if (g->drawn) {
            fprintf(f, "<a href=\"figures/");
            esc(f, g->id);
            fputs(".svg\">SVG</a>, <a href=\"figures/", f);
            esc(f, g->id);
            fputs(".png\">PNG</a>, ", f);
        } else {
            fputs("(not drawn: see the notes) ", f);
        }
        fputs("<a href=\"figures/", f);
        esc(f, g->id);
        fputs(".csv\">data (CSV)</a>, <a href=\"figures/", f);
        esc(f, g->id);
        fputs(".gp\">gnuplot script</a>.</figcaption>\n</figure>\n", f);
    }
}

static void cells(FILE *f, const lm_report_doc *d) {
    const lm_report_summary *s = &d->sum[LM__E2E];
    fprintf(f,
            "<h2 id=\"cells\">Every %s</h2>\n<p>The statistics of every %s (as <code>lumos "
            "results summary</code>). Each number links to the raw rows it comes from; "
            "<code>counted</code> marks the rows the statistics are over (those of them with a "
            "2xx answer give the values). Times in ms, memory in bytes.</p>\n<div "
            "class=\"wide\"><table id=\"cells-table\">\n<tr><th>cell</th><th>function</th>"
            "<th>runtime</th><th>payload</th><th>start</th><th>load</th><th>rows</th>"
            "<th>counted</th><th>errors</th><th>excluded</th><th>e2e n</th><th>e2e median</th>"
            "<th>median 95%% lo</th><th>median 95%% hi</th><th>e2e mean</th><th>e2e p99</th>"
            "<th>source</th><th>compute median</th><th>io median</th><th>deser median</th>"
            "<th>ser median</th><th>cpu median</th><th>mem median</th></tr>\n",
            s->by_cell ? "cell" : "service and start", s->by_cell ? "cell" : "service and start");
    for (size_t i = 0; i < s->ngroups; i++) {
        const lm_report_group *g = &s->groups[i];
        const char *h = rows_href(d, i);
        long pi = g->pass_index;
        size_t rows = pi >= 0 && (size_t)pi < d->ngx ? d->gx[pi].rows : 0;
        char load[64] = "-";
        if (g->load && g->concurrency != LM_RESULTS_NULL)
            snprintf(load, sizeof load, "%s:%lld", g->load, (long long)g->concurrency);
        else if (g->load && !isnan(g->rate_rps))
            snprintf(load, sizeof load, "%s:%grps", g->load, g->rate_rps);
        else if (g->load)
            snprintf(load, sizeof load, "%s", g->load);
        fprintf(f, "<tr data-cell=\"%lld\" data-service=\"%lld\" data-start=\"",
                (long long)g->cell_id, (long long)g->service_id);
        esc(f, g->start ? g->start : "");
        fputs("\"><td>", f);
        if (h) {
            fputs("<a href=\"", f);
            esc(f, h);
            fputs("\">", f);
        }
        esc(f, g->name ? g->name : "?");
        if (h) fputs("</a>", f);
        fputs("</td>", f);
        text_td(f, g->function);
        text_td(f, g->runtime);
        text_td(f, g->payload);
        text_td(f, g->start);
        text_td(f, load);
        num_count(f, rows, h);
        num_count(f, g->count, h);
        num_count(f, g->errors, h);
        num_count(f, g->excluded, h);
        num_count(f, g->n, h);
        if (g->n == 0) {
            fprintf(f, "<td colspan=\"12\" class=\"note\">no successful request%s",
                    g->count ? "" : " (none counted)");
            if (pi >= 0 && (size_t)pi < d->ngx && d->gx[pi].first_error[0]) {
                fputs(": ", f);
                esc(f, d->gx[pi].first_error);
            }
            fputs("</td></tr>\n", f);
            continue;
        }
        num_ms(f, g->d.median, h);
        num_ms(f, g->ci_median.ok ? g->ci_median.lo : NAN, h);
        num_ms(f, g->ci_median.ok ? g->ci_median.hi : NAN, h);
        num_ms(f, g->d.mean, h);
        num_ms(f, g->d.p99, h);
        text_td(f, g->source_name);
        for (int m = LM__COMPUTE; m <= LM__MEM; m++) {
            static const int order[] = {LM__COMPUTE, LM__IO, LM__DESER, LM__SER, LM__CPU, LM__MEM};
            int mm = order[m - LM__COMPUTE];
            const lm_report_group *gm = &d->sum[mm].groups[i];
            double v = gm->n ? gm->d.median : NAN;
            if (mm == LM__MEM) {
                char b[64];
                snprintf(b, sizeof b, "%.0f", v);
                num(f, v, b, h);
            } else {
                num_ms(f, v, h);
            }
        }
        fputs("</tr>\n", f);
    }
    fputs("</table></div>\n", f);
}

static void notes(FILE *f, const lm_report_doc *d) {
    fputs("<h2 id=\"notes\">Notes</h2>\n", f);
    if (d->nnotes == 0) {
        fputs("<p>None: every cell answered, every runtime ran every cell.</p>\n", f);
        return;
    }
    fputs("<ul>\n", f);
    for (size_t i = 0; i < d->nnotes; i++) {
        fputs("<li class=\"note\">", f);
        esc(f, d->notes[i]);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

int lm__report_html(lm_report_doc *d, char *err) {
    char path[2100];
    snprintf(path, sizeof path, "%s/index.html", d->o.dir);
    FILE *f = fopen(path, "w");
    if (!f) return lm_errf(err, "cannot write %s", path);
    const char *name = lm__report_meta(d, "experiment.name");
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<link rel=\"icon\" href=\"data:,\">\n<title>Lumos report",
          f);
    if (name) {
        fputs(": ", f);
        esc(f, name);
    }
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Lumos report", style);
    if (name) {
        fputs(": ", f);
        esc(f, name);
    }
    fputs("</h1>\n<p>", f);
    const char *anchor = lm__report_meta(d, "run.started_wall_ns");
    if (!anchor) anchor = lm__report_meta(d, "anchor_realtime_ns");
    if (anchor) {
        time_t t = (time_t)(strtoll(anchor, NULL, 10) / 1000000000);
        char when[64];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
        fprintf(f, "Run started %s. ", when);
    }
    fprintf(f, "%zu requests in %zu %s, from <code>", d->requests, d->sum[0].ngroups,
            d->sum[0].by_cell ? "cells" : "groups (service and start)");
    esc(f, d->o.db);
    fputs("</code> (schema version ", f);
    fprintf(f, "%d).</p>\n", d->sum[0].version);
    fputs("<p><a href=\"#method\">Method</a> · <a href=\"#machine\">Machine</a> · <a "
          "href=\"#runtimes\">Runtimes</a> · <a href=\"#findings\">Findings</a> · <a "
          "href=\"#paper\">The paper</a> · ",
          f);
    if (d->env) fputs("<a href=\"#environment\">Environment</a> · ", f);
    fputs("<a href=\"#figures\">Figures</a> · <a href=\"#cells\">Cells</a> · <a "
          "href=\"#notes\">Notes</a></p>\n",
          f);
    method(f, d);
    machine(f, d);
    runtimes(f, d);
    findings(f, d);
    paper(f, d);
    lm__report_env_html(d, f);
    figures(f, d);
    cells(f, d);
    notes(f, d);
    const char *spec = lm__report_meta(d, "experiment.spec");
    if (spec) {
        fputs("<h2 id=\"spec\">The experiment spec</h2>\n<pre>", f);
        esc(f, spec);
        fputs("</pre>\n", f);
    }
    fputs("</body>\n</html>\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return lm_errf(err, "cannot write %s (disk full?)", path);
    return LM_OK;
}
