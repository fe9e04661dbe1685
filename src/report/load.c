/* load.c -- a results database as a report's samples (summary.h): every
 * request of `lumos run` or `lumos serve --results`, whichever wrote it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/summary.h"
#include "results/results.h"

#define MAX_NAMES 256

typedef struct {
    lm_report_data *d;
    long long warmup;       /* warm-up requests per service after its first (run.warmup) */
    int64_t svc[MAX_NAMES]; /* services seen, and how many requests of each */
    int count[MAX_NAMES];
    size_t nsvc;
    char *err;
} loader;

/* Adds name to list (owned copies, in the order first seen). */
static int add_name(char ***list, size_t *n, const char *name) {
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*list)[i], name)) return LM_OK;
    if (*n == MAX_NAMES) return LM_OK;
    char **l = realloc(*list, (*n + 1) * sizeof(*l));
    if (!l) return LM_ERR;
    *list = l;
    if (!(l[*n] = strdup(name))) return LM_ERR;
    (*n)++;
    return LM_OK;
}

/* The position of this request among its service's (0 = its first). */
static int position(loader *l, int64_t service) {
    for (size_t i = 0; i < l->nsvc; i++)
        if (l->svc[i] == service) return l->count[i]++;
    if (l->nsvc == MAX_NAMES) return 0;
    l->svc[l->nsvc] = service;
    l->count[l->nsvc++] = 1;
    return 0;
}

static uint64_t u64(int64_t v) { return v == LM_RESULTS_NULL || v < 0 ? 0 : (uint64_t)v; }

static int on_request(void *arg, const lm_results_request_view *v) {
    loader *l = arg;
    lm_report_data *d = l->d;
    const lm_results_request *q = &v->q;
    if (!v->function || !v->runtime) {
        d->unrouted++; /* a 404 or 405 of the gateway: no function on a runtime */
        return LM_OK;
    }
    /* An experiment's report is that of its single-client closed-loop
     * cells, per payload group: the other loads measure the platform under
     * concurrency, which `lumos results summary` reports per cell. */
    if (v->cell_load && (strcmp(v->cell_load, "closed") || v->cell_concurrency != 1)) {
        d->other_loads++;
        return LM_OK;
    }
    lm_sample s;
    memset(&s, 0, sizeof(s));
    snprintf(s.function, sizeof(s.function), "%s", v->function);
    snprintf(s.runtime, sizeof(s.runtime), "%s", v->runtime);
    snprintf(s.group, sizeof(s.group), "%s",
             v->cell_payload && !strncmp(v->cell_payload, "group:", 6) ? v->cell_payload + 6
                                                                       : d->group);
    snprintf(s.instance, sizeof(s.instance), "%s", q->instance_id ? q->instance_id : "");
    int pos = position(l, q->service_id);
    s.iteration = pos;
    /* lumos run's order: the first request cold, then the warm-ups, then the
     * measured ones; a request that started an instance is cold anyway. */
    const char *kind = q->cold == 1 ? "cold" : pos >= 1 && pos <= l->warmup ? "warmup" : "warm";
    /* An experiment's warm-ups, and rows whose start type was not their
     * cell's, are kept out of the statistics. */
    if (q->excluded) kind = strcmp(q->excluded, "warm-up") == 0 ? "warmup" : "excl";
    snprintf(s.kind, sizeof(s.kind), "%s", kind);
    s.status = q->status_http == LM_RESULTS_NULL ? 0 : (int)q->status_http;
    if (q->cold == 1 && !isnan(v->cold_start_ms)) {
        s.cold_start_ms = v->cold_start_ms;
        s.placement_ms = isnan(v->placement_ms) ? 0 : v->placement_ms;
    }
    /* An experiment's latency is end to end at the load client (first byte
     * sent to last byte received: the platform, queue and cold start are
     * in it); a row without the client's times has the instance's. */
    if (q->send_ns != LM_RESULTS_NULL && q->receive_ns != LM_RESULTS_NULL)
        s.latency_ms = (double)(q->receive_ns - q->send_ns) / 1e6;
    else if (q->dispatch_ns != LM_RESULTS_NULL && q->result_ns != LM_RESULTS_NULL)
        s.latency_ms = (double)(q->result_ns - q->dispatch_ns) / 1e6;
    if (q->cpu_ns != LM_RESULTS_NULL) s.cpu_ms = (double)q->cpu_ns / 1e6;
    s.mem_peak_bytes = u64(q->mem_peak_bytes);
    const int64_t probes[LM_PROBE_COUNT] = {
        [LM_PROBE_DESER_NS] = q->deser_ns,
        [LM_PROBE_IO_NS] = q->io_ns,
        [LM_PROBE_COMPUTE_NS] = q->compute_ns,
        [LM_PROBE_SER_NS] = q->ser_ns,
        [LM_PROBE_TOTAL_NS] = q->func_total_ns,
        [LM_PROBE_IO_READ_BYTES] = q->io_read_bytes,
        [LM_PROBE_IO_WRITE_BYTES] = q->io_write_bytes,
        [LM_PROBE_IO_CALLS] = q->io_calls,
    };
    for (int i = 0; i < LM_PROBE_COUNT; i++)
        s.probes[i] = u64(probes[i]);
    snprintf(s.error, sizeof(s.error), "%s", q->error ? q->error : "");
    if (lm_samples_add(&d->samples, &s) != LM_OK ||
        add_name(&d->functions, &d->info.nfunctions, s.function) != LM_OK ||
        add_name(&d->runtimes, &d->info.nruntimes, s.runtime) != LM_OK)
        return lm_errf(l->err, "out of memory reading the requests");
    return LM_OK;
}

/* A meta value, or def when the database has none. */
static void meta(lm_results_reader *r, const char *key, char *out, size_t n, const char *def) {
    if (lm_results_reader_meta(r, key, out, n) != LM_OK) snprintf(out, n, "%s", def);
}

int lm_report_load(const char *db, lm_report_data *d, char *err) {
    memset(d, 0, sizeof(*d));
    lm_results_reader *r = lm_results_reader_open(db, err);
    if (!r) return LM_ERR;
    char num[64];
    /* lumos run writes run.*; a database without them is lumos serve's. */
    d->from_run = lm_results_reader_meta(r, "run.group", d->group, sizeof(d->group)) == LM_OK;
    if (!d->from_run) snprintf(d->group, sizeof(d->group), "-");
    meta(r, "run.storage", d->storage, sizeof(d->storage), "redis");
    meta(r, "run.data_dir", d->data_dir, sizeof(d->data_dir), "");
    meta(r, "run.artifacts", d->artifacts, sizeof(d->artifacts), "");
    loader l = {.d = d, .err = err};
    meta(r, "run.runs", num, sizeof(num), "0");
    d->info.runs = atoi(num);
    meta(r, "run.warmup", num, sizeof(num), "0");
    d->info.warmup = atoi(num);
    l.warmup = d->info.warmup;
    meta(r, "run.seed", num, sizeof(num), "0");
    d->info.seed = strtoull(num, NULL, 10);
    /* When the run started: its own record, else the database's anchor. */
    if (lm_results_reader_meta(r, "run.started_wall_ns", num, sizeof(num)) != LM_OK)
        meta(r, "anchor_realtime_ns", num, sizeof(num), "0");
    d->info.started_wall_ns = strtoull(num, NULL, 10);
    meta(r, "host_name", d->host_name, sizeof(d->host_name), "");
    meta(r, "host_kernel", d->host_kernel, sizeof(d->host_kernel), "");
    meta(r, "host_arch", d->host_arch, sizeof(d->host_arch), "");
    meta(r, "host_cpus", num, sizeof(num), "0");
    d->info.host_cpus = atol(num);
    if (!d->from_run) meta(r, "experiment.name", d->experiment, sizeof(d->experiment), "");
    int rc = lm_results_reader_requests(r, on_request, &l, err);
    lm_results_reader_close(r);
    if (rc != LM_OK) {
        lm_report_data_free(d);
        return LM_ERR;
    }
    d->info.source = d->from_run ? "run" : "serve";
    if (d->experiment[0]) {
        d->info.source = "experiment";
        d->info.experiment = d->experiment;
    }
    d->info.host_name = d->host_name;
    d->info.host_kernel = d->host_kernel;
    d->info.host_arch = d->host_arch;
    d->info.group = d->group;
    d->info.storage = d->storage;
    d->info.data_dir = d->data_dir;
    d->info.artifacts = d->artifacts[0] ? d->artifacts : NULL;
    d->info.functions = (const char *const *)d->functions;
    d->info.runtimes = (const char *const *)d->runtimes;
    return LM_OK;
}

void lm_report_data_free(lm_report_data *d) {
    if (!d) return;
    for (size_t i = 0; i < d->info.nfunctions; i++)
        free(d->functions[i]);
    for (size_t i = 0; i < d->info.nruntimes; i++)
        free(d->runtimes[i]);
    free(d->functions);
    free(d->runtimes);
    lm_samples_free(&d->samples);
    memset(d, 0, sizeof(*d));
}
