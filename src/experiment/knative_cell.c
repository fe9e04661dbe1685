/* knative_cell.c -- one cell of a `--platform knative` run (internal.h):
 * its requests go to the service's URL (or the ingress, with the
 * service's Host:) with the load client, which keeps every answer's
 * X-Lumos-Front; each request becomes a requests row from that header and
 * the client's times, each instance seen first an instances row, with the
 * pod it ran in. A cold cell forces a cold start before each request.
 *
 * Clocks: the front's times are relative to its reading the request, on
 * the pod's clock. A row places them on the client's clock by centring
 * the front's span (arrival to response) in the client's send..receive,
 * the symmetric-path assumption NTP makes; durations (probes, dispatch to
 * result, the cold start) are exact. docs/knative-front.md says which
 * timings differ from the one-machine platform and why. */
#include "experiment/internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"
#include "proto/clock.h"

/* One load run's answers' X-Lumos-Front, by request index. */
typedef struct {
    char **front;
    size_t n;
} captured;

static void on_answer(void *arg, const lm_load_record *rec, const char *value, size_t len) {
    captured *c = arg;
    if (rec->req >= c->n || !len || c->front[rec->req]) return;
    c->front[rec->req] = strndup(value, len);
}

/* What a cell's load runs share. */
typedef struct {
    const lm__exp_ctx *x;
    const lm_exp_cell *c;
    char url[2048], service[128], connect[2048], host[512];
    int64_t service_id;
    lm__cell_outcome *o;
    char first_error[200]; /* the first failure, for the cell's error */
} kn_cell;

static int64_t jint(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : LM_RESULTS_NULL;
}

static int64_t at(int64_t base, int64_t rel) {
    return rel == LM_RESULTS_NULL ? LM_RESULTS_NULL : base + rel;
}

/* The instance's row, the first time the run sees it. */
static int put_instance(kn_cell *k, json_t *f, const char *instance, int64_t arrival,
                        const lm_results_request *q, char *err) {
    const char *uid = json_string_value(json_object_get(f, "pod_uid"));
    int fresh = lm__kn_seen_add(k->x->seen, instance, uid);
    if (fresh < 0) return lm_errf(err, "out of memory");
    if (!fresh) return LM_OK;
    lm_results_instance in;
    lm_results_instance_init(&in);
    in.id = instance;
    in.service_id = k->service_id;
    in.runtime = json_string_value(json_object_get(f, "runtime"));
    in.pid = jint(f, "pid");
    in.pod = json_string_value(json_object_get(f, "pod"));
    in.pod_uid = uid && *uid ? uid : NULL;
    if (q->cold == 1) {
        /* The instance's own start inside the pod; scheduling, image pull
         * and container creation before it are not seen from here. */
        in.start_ns = in.spawn_ns = q->cold_begin_ns;
        in.ready_ns = q->cold_ready_ns;
        json_t *ms = json_object_get(f, "cold_start_ms");
        if (json_is_number(ms)) in.cold_start_ms = json_number_value(ms);
        in.placement_ms = 0;
    }
    (void)arrival;
    return lm_results_add_instance(k->x->db, &in, err);
}

/* The row of one request: the client's record and, when it was answered by
 * a front, its X-Lumos-Front. */
static int put_request(kn_cell *k, const lm_load_record *r, const char *front, int warmup,
                       char *err) {
    lm_results_request q;
    lm_results_request_init(&q);
    q.id = (*k->x->next_request_id)++;
    q.service_id = k->service_id;
    q.cell_id = k->c->id;
    q.intended_send_ns = (int64_t)r->intended_ns;
    if (r->send_ns) q.send_ns = (int64_t)r->send_ns;
    if (r->receive_ns) q.receive_ns = (int64_t)r->receive_ns;
    if (r->status) q.status_http = r->status;
    q.excluded = warmup ? "warm-up" : NULL;
    char why[300] = "";
    if (r->error)
        lm_load_record_error(r, why, sizeof why);
    else if (r->status < 200 || r->status >= 300)
        snprintf(why, sizeof why, "HTTP %u from %.200s", (unsigned)r->status, k->url);
    json_error_t je;
    json_t *f = front ? json_loads(front, 0, &je) : NULL;
    if (r->status && !r->error && !f)
        snprintf(why + strlen(why), sizeof why - strlen(why),
                 "%sno X-Lumos-Front%s (is %.120s a lumos-front?)", why[0] ? "; " : "",
                 front ? " that is JSON" : "", k->url);
    q.error = why[0] ? why : NULL;
    int rc = LM_OK;
    const char *instance = f ? json_string_value(json_object_get(f, "instance")) : NULL;
    if (f && instance) {
        q.instance_id = instance;
        json_t *cold = json_object_get(f, "cold");
        q.cold = json_is_integer(cold) ? (json_integer_value(cold) ? 1 : 0) : LM_RESULTS_NULL;
        int64_t resp = jint(f, "response_ns");
        int64_t span = r->receive_ns && r->send_ns ? (int64_t)(r->receive_ns - r->send_ns) : 0;
        int64_t arrival = (int64_t)r->send_ns;
        if (resp != LM_RESULTS_NULL && span > resp) arrival += (span - resp) / 2;
        q.ingress_ns = q.queued_ns = q.acquired_ns = arrival;
        q.dispatch_ns = at(arrival, jint(f, "dispatch_ns"));
        q.result_ns = at(arrival, jint(f, "result_ns"));
        q.response_ns = at(arrival, resp);
        if (q.cold == 1) {
            q.cold_begin_ns = at(arrival, jint(f, "cold_begin_ns"));
            q.cold_ready_ns = at(arrival, jint(f, "cold_ready_ns"));
        }
        json_t *p = json_object_get(f, "probes");
        q.deser_ns = jint(p, "deser_ns");
        q.io_ns = jint(p, "io_ns");
        q.compute_ns = jint(p, "compute_ns");
        q.ser_ns = jint(p, "ser_ns");
        q.func_total_ns = jint(p, "total_ns");
        q.io_read_bytes = jint(p, "io_read_bytes");
        q.io_write_bytes = jint(p, "io_write_bytes");
        q.io_calls = jint(p, "io_calls");
        q.cpu_ns = jint(f, "cpu_ns");
        q.mem_peak_bytes = jint(f, "mem_peak_bytes");
        rc = put_instance(k, f, instance, arrival, &q, err);
    }
    if (rc == LM_OK) rc = lm_results_add_request(k->x->db, &q, err);
    if (q.error && !k->first_error[0] && !warmup)
        snprintf(k->first_error, sizeof k->first_error, "%s", q.error);
    if (q.error && !warmup) k->o->failed_client++;
    json_decref(f);
    return rc;
}

/* The agent's reading of every pod the run has seen, into samples. */
static void agent_samples(kn_cell *k) {
    const lm_exp_knative *kn = k->x->kn;
    if (!kn->agent_url) return;
    lm__kn_pod_usage *pods = NULL;
    size_t n = 0;
    char why[LM_ERRLEN];
    if (lm__kn_agent_read(kn->agent_url, &pods, &n, why) != LM_OK) {
        if (!k->first_error[0])
            snprintf(k->first_error, sizeof k->first_error, "agent: %.180s", why);
        return;
    }
    int64_t t = (int64_t)lm_now_ns();
    for (size_t i = 0; i < n; i++) {
        /* The instance of that pod: its row was written with the pod's uid. */
        const char *inst = lm__kn_instance_of(k->x->seen, pods[i].pod_uid);
        if (!inst) continue;
        lm_results_sample s = {.instance_id = inst,
                               .t_ns = t,
                               .cpu_user_ns = (int64_t)pods[i].cpu_user_ns,
                               .cpu_system_ns = (int64_t)pods[i].cpu_system_ns,
                               .mem_current_bytes = (int64_t)pods[i].mem_current_bytes,
                               .mem_peak_bytes = (int64_t)pods[i].mem_peak_bytes};
        lm_results_add_sample(k->x->db, &s, NULL);
    }
    free(pods);
}

/* One load run of n copies of the cell's request. */
static int drive(kn_cell *k, size_t n, const uint64_t *offsets, lm_load_mode mode,
                 unsigned concurrency, int warmup, char *err) {
    const lm__exp_ctx *x = k->x;
    const char *body = x->body(x->body_arg, k->c->function, k->c->payload, err);
    if (!body) return LM_ERR;
    lm_load_req *reqs = calloc(n ? n : 1, sizeof *reqs);
    captured cap = {.front = calloc(n ? n : 1, sizeof(char *)), .n = n};
    if (!reqs || !cap.front) {
        free(reqs);
        free(cap.front);
        return lm_errf(err, "out of memory for %zu requests", n);
    }
    for (size_t i = 0; i < n; i++)
        reqs[i] = (lm_load_req){
            .offset_ns = offsets ? offsets[i] : 0, .body = body, .body_len = strlen(body)};
    char headers[64];
    snprintf(headers, sizeof headers, "X-Lumos-Cell: %lld\r\n", (long long)k->c->id);
    lm_load_opts lo = {.url = k->connect,
                       .mode = mode,
                       .concurrency = concurrency,
                       .timeout_ns = (uint64_t)x->spec->timeout_ms * 1000000u,
                       .headers = headers,
                       .host = k->host[0] ? k->host : NULL,
                       .capture_header = "X-Lumos-Front",
                       .on_answer = on_answer,
                       .answer_arg = &cap,
                       .stop = x->stop};
    lm_load_result res = {0};
    int rc = lm_load_run(reqs, n, &lo, &res, err);
    for (size_t i = 0; rc == LM_OK && i < res.nrecords; i++) {
        const lm_load_record *r = &res.records[i];
        if (r->send_ns) k->o->sent++;
        if (warmup) k->o->warmup++;
        rc = put_request(k, r, r->req < n ? cap.front[r->req] : NULL, warmup, err);
    }
    lm_load_result_free(&res);
    for (size_t i = 0; i < n; i++)
        free(cap.front[i]);
    free(cap.front);
    free(reqs);
    if (rc == LM_OK) agent_samples(k);
    if (rc == LM_OK) rc = lm_results_flush(x->db, err);
    if (rc == LM_OK && x->stop && *x->stop) rc = lm_errf(err, "stopped");
    return rc;
}

/* A cold start forced, and recorded as an event. */
static int force_cold(kn_cell *k, char *err) {
    lm__kn_cold_wait w;
    if (lm__kn_force_cold(k->x->kn, k->service, k->x->stop, &w, err) != LM_OK) return LM_ERR;
    char detail[300];
    snprintf(detail, sizeof detail,
             "{\"service\":\"%s\",\"mode\":\"%s\",\"waited_ms\":%.3f,\"kubectl_calls\":%d}",
             k->service,
             k->x->kn->cold == LM_EXP_COLD_REVISION ? "revision"
             : k->x->kn->cold == LM_EXP_COLD_NONE   ? "none"
                                                    : "zero",
             (double)w.waited_ns / 1e6, w.calls);
    lm_results_event e = {.t_ns = (int64_t)lm_now_ns(),
                          .kind = "cold-forced",
                          .service_id = k->service_id,
                          .instance_id = NULL,
                          .detail_json = detail};
    return lm_results_add_event(k->x->db, &e, err);
}

int lm__kn_run_cell(const lm__exp_ctx *x, const lm_exp_cell *c, lm__cell_outcome *o, char *err) {
    memset(o, 0, sizeof *o);
    uint64_t t0 = lm_now_ns();
    kn_cell k = {.x = x, .c = c, .o = o};
    k.service_id = lm__kn_service_id(x->spec, c->function, c->runtime);
    if (lm__kn_url(x->kn, c->function, c->runtime, k.url, sizeof k.url, k.service, sizeof k.service,
                   err) != LM_OK ||
        lm__kn_target(x->kn, k.url, k.connect, sizeof k.connect, k.host, sizeof k.host, err) !=
            LM_OK)
        return LM_ERR;
    if (lm_results_clear_cell(x->db, c->id, err) != LM_OK ||
        lm__exp_put_status(x, c, "running", NULL, err) != LM_OK)
        return LM_ERR;
    const lm_exp_load *l = c->load;
    unsigned clients = l->kind == LM_EXP_CLOSED ? (unsigned)l->concurrency : 1;
    int rc = LM_OK;
    if (c->start == LM_EXP_WARM && x->spec->warmup > 0)
        rc = drive(&k, (size_t)x->spec->warmup * clients, NULL, LM_LOAD_CLOSED, clients, 1, err);
    if (rc == LM_OK && l->kind == LM_EXP_CLOSED && c->start == LM_EXP_COLD) {
        /* Every request of a cold cell is one cold start: alone, after the
         * service's pods are gone. */
        for (int i = 0; rc == LM_OK && i < l->requests; i++) {
            rc = force_cold(&k, err);
            if (rc == LM_OK) rc = drive(&k, 1, NULL, LM_LOAD_CLOSED, 1, 0, err);
        }
    } else if (rc == LM_OK && l->kind == LM_EXP_CLOSED) {
        rc = drive(&k, (size_t)l->requests, NULL, LM_LOAD_CLOSED, clients, 0, err);
    } else if (rc == LM_OK && l->kind == LM_EXP_OPEN) {
        /* Open loop: the schedule the local platform sends; a cold cell's
         * first request only is made cold (the rest find pods up). */
        lm_trace *t = NULL;
        uint64_t *off = NULL;
        rc = lm__exp_open_trace(x, c, &t, err);
        if (rc == LM_OK && !(off = calloc(t->nrows ? t->nrows : 1, sizeof *off)))
            rc = lm_errf(err, "out of memory");
        for (size_t i = 0; rc == LM_OK && i < t->nrows; i++)
            off[i] = (uint64_t)t->rows[i].offset_us * 1000u;
        if (rc == LM_OK) rc = lm__exp_put_planned(x, c, (int64_t)t->nrows, err);
        if (rc == LM_OK && c->start == LM_EXP_COLD) rc = force_cold(&k, err);
        if (rc == LM_OK) rc = drive(&k, t->nrows, off, LM_LOAD_OPEN, 1, 0, err);
        free(off);
        lm_trace_free(t);
    }
    if (rc != LM_OK) return LM_ERR; /* stays `running`: --resume does it again */
    int64_t rows = 0, mismatched = 0;
    if (lm_results_check_cell(x->db, c->id, c->start, &rows, &mismatched, err) != LM_OK)
        return LM_ERR;
    o->rows = (uint64_t)rows;
    o->excluded_start = (uint64_t)mismatched;
    char problem[300] = "";
    if (o->failed_client)
        snprintf(problem, sizeof problem, "%llu requests failed (first: %s)",
                 (unsigned long long)o->failed_client, k.first_error);
    else if (k.first_error[0])
        snprintf(problem, sizeof problem, "%s", k.first_error);
    o->seconds = (double)(lm_now_ns() - t0) / 1e9;
    return lm__exp_put_status(x, c, "done", problem[0] ? problem : NULL, err);
}
