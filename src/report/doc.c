/* doc.c -- the report's life (doc.h): read, compute, write, free; and the
 * number formats its outputs share. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"

void lm__report_fmt_ms(char *out, size_t n, double ms) {
    if (isnan(ms))
        snprintf(out, n, "-");
    else if (fabs(ms) >= 1000)
        snprintf(out, n, "%.0f", ms);
    else if (fabs(ms) >= 1)
        snprintf(out, n, "%.3g", ms);
    else
        snprintf(out, n, "%.3f", ms);
}

void lm__report_fmt_bytes(char *out, size_t n, double b) {
    if (isnan(b))
        snprintf(out, n, "-");
    else if (b >= 1048576)
        snprintf(out, n, "%.1f MiB", b / 1048576);
    else if (b >= 1024)
        snprintf(out, n, "%.1f KiB", b / 1024);
    else
        snprintf(out, n, "%.0f B", b);
}

/* Notes on what the file lacks, so that a report of it says so. */
static void inspect(lm_report_doc *d) {
    if (d->requests == 0)
        lm__report_note(d, "%s holds no requests: there is nothing to measure", d->o.db);
    for (size_t i = 0; i < d->npools; i++) {
        const lm__pool *p = &d->pools[i];
        char name[512];
        lm__report_pool_name(p, name, sizeof name);
        if (p->count == 0 && p->excluded == 0)
            lm__report_note(d, "%s: no request in the file (the cell did not run)", name);
        else if (p->ok == 0)
            lm__report_note(d,
                            "%s: no successful request (%zu of %zu failed%s%s): left out of "
                            "the figures and findings",
                            name, p->errors, p->count, p->first_error ? ", the first: " : "",
                            p->first_error ? p->first_error : "");
    }
    /* A runtime missing from some cells: one note per runtime, naming them. */
    size_t nr = 0;
    const char **rts = lm__report_runtimes(d, &nr);
    for (size_t r = 0; rts && r < nr; r++) {
        char list[700] = "";
        size_t k = 0, missing = 0;
        for (size_t i = 0; i < d->npools; i++) {
            const lm__pool *p = &d->pools[i];
            if (!p->runtime || lm__report_twin(d, p, rts[r]) >= 0) continue;
            /* Once per twin family: the first pool of it. */
            int first = 1;
            for (size_t j = 0; j < i && first; j++)
                first = lm__report_twin(d, p, d->pools[j].runtime) != (long)j;
            if (!first) continue;
            missing++;
            char name[512];
            lm__report_pool_name(p, name, sizeof name);
            char *at = strchr(name, '@'), *slash = at ? strchr(at, '/') : NULL;
            if (at && slash) memmove(at, slash, strlen(slash) + 1); /* the runtime out */
            if (missing <= 8 && k < sizeof list)
                k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", k ? ", " : "", name);
        }
        if (missing)
            lm__report_note(d,
                            "%s did not run %zu cell%s that other runtimes ran (%s%s): no %s "
                            "bar and no ratio there",
                            rts[r], missing, missing == 1 ? "" : "s", list,
                            missing > 8 ? ", ..." : "", rts[r]);
    }
    free(rts);
}

int lm_report_doc_read(const lm_report_doc_opts *o, lm_report_doc **out, char *err) {
    *out = NULL;
    lm_report_doc *d = calloc(1, sizeof *d);
    if (!d) return lm_errf(err, "out of memory");
    d->o = *o;
    d->slo_ms = o->slo_ms > 0 ? o->slo_ms : LM_REPORT_SLO_MS;
    if (lm__report_read(d, err) != LM_OK || lm__report_pools(d, err) != LM_OK ||
        lm__report_findings(d, err) != LM_OK || lm__report_env(d, err) != LM_OK) {
        lm_report_doc_free(d);
        return LM_ERR;
    }
    lm__report_paper(d);
    inspect(d);
    *out = d;
    return LM_OK;
}

int lm_report_doc_write_html(lm_report_doc *d, char *err) {
    if (!d->o.dir) return lm_errf(err, "the HTML report needs a folder (--out DIR)");
    if (lm_mkdirs(d->o.dir, err) != LM_OK) return LM_ERR;
    if (lm__report_figures(d, err) != LM_OK) return LM_ERR;
    if (d->env) {
        char path[2100];
        snprintf(path, sizeof path, "%s/environment.csv", d->o.dir);
        FILE *f = fopen(path, "w");
        if (!f) return lm_errf(err, "cannot write %s", path);
        lm__report_env_csv(d, f);
        if (fclose(f) != 0) return lm_errf(err, "cannot write %s (disk full?)", path);
    }
    return lm__report_html(d, err);
}

size_t lm_report_doc_notes(const lm_report_doc *d, const char *const **notes) {
    *notes = (const char *const *)d->notes;
    return d->nnotes;
}

size_t lm_report_doc_requests(const lm_report_doc *d) { return d->requests; }

size_t lm_report_doc_figures(const lm_report_doc *d) {
    size_t n = 0;
    for (size_t i = 0; i < d->nfig; i++)
        n += d->fig[i].drawn;
    return n;
}

void lm_report_doc_free(lm_report_doc *d) {
    if (!d) return;
    for (size_t i = 0; i < d->npools; i++) {
        for (int m = 0; m < LM__NMETRIC; m++)
            if (d->pools[i].owned[m]) free(d->pools[i].x[m]);
        free(d->pools[i].g);
    }
    free(d->pools);
    for (int m = 0; m < LM__NMETRIC; m++)
        lm_report_summary_free(&d->sum[m]);
    for (size_t i = 0; i < d->ngx; i++)
        free(d->gx[i].tl);
    free(d->gx);
    for (size_t i = 0; i < d->ninst; i++) {
        free(d->inst[i].id);
        free(d->inst[i].runtime);
        free(d->inst[i].phase_ms);
    }
    free(d->inst);
    for (size_t i = 0; i < d->nphase; i++)
        free(d->phase_names[i]);
    free(d->phase_names);
    for (size_t i = 0; i < d->nsvc; i++) {
        free(d->svc[i].name);
        free(d->svc[i].function);
        free(d->svc[i].runtime);
    }
    free(d->svc);
    for (size_t i = 0; i < d->nart; i++) {
        free(d->art[i].function);
        free(d->art[i].runtime);
        free(d->art[i].kind);
        free(d->art[i].path);
    }
    free(d->art);
    for (size_t i = 0; i < d->nev; i++) {
        free(d->ev[i].kind);
        free(d->ev[i].instance_id);
        free(d->ev[i].detail);
    }
    free(d->ev);
    for (size_t i = 0; i < d->nmeta; i++) {
        free(d->meta[i].key);
        free(d->meta[i].value);
    }
    free(d->meta);
    free(d->cmp);
    free(d->envr);
    for (size_t i = 0; i < d->nfnd; i++) {
        free(d->fnd[i].runtime);
        free(d->fnd[i].baseline);
        free(d->fnd[i].subject);
        free(d->fnd[i].text);
        free(d->fnd[i].cmp);
        free(d->fnd[i].pools);
    }
    free(d->fnd);
    for (size_t i = 0; i < 6; i++)
        free(d->paper[i].measured);
    for (size_t i = 0; i < d->nfig; i++) {
        free(d->fig[i].id);
        free(d->fig[i].title);
        free(d->fig[i].caption);
    }
    free(d->fig);
    for (size_t i = 0; i < d->nnotes; i++)
        free(d->notes[i]);
    free(d->notes);
    free(d->rf);
    free(d);
}
