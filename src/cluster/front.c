/* front.c -- the HTTP function front (front.h): evhttp on PORT, one
 * instance behind it through the blocking channel driver (channel.h), the
 * store it serves GET/PUT from (Redis, a folder, or none), and the
 * headers that carry what the gateway's rows hold. */
#include "cluster/front.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>

#include "channel/channel.h"
#include "observe/telemetry.h"
#include "proto/clock.h"
#include "runtime/runtime.h"
#include "storage/storage.h"

typedef struct {
    const lm_front_opts *o;
    const lm_runtime *rt;
    lm_start_opts so;
    lm_instance inst;
    int live;              /* inst runs and answered READY */
    int fresh;             /* live, and no request reached it yet: the next is cold */
    uint64_t cold_begin;   /* its start (monotonic) */
    uint64_t cold_ready;   /* its READY */
    char instance_id[160]; /* "POD/native-1": unique across pods */
    lm_store *store;
    uint64_t requests;
    struct event_base *base;
} front;

static void stop_instance(front *f) {
    if (!f->live) return;
    lm_instance_stop(&f->inst, 1000);
    f->live = f->fresh = 0;
}

/* Starts the instance and waits for READY. LM_OK, or LM_ERR with err. */
static int start_instance(front *f, char *err) {
    memset(&f->inst, 0, sizeof f->inst);
    f->inst.child.pid = -1;
    f->inst.child.in = f->inst.child.out = -1;
    f->cold_begin = lm_now_ns();
    f->so.start_ns = f->cold_begin;
    if (lm_instance_start(f->rt, f->o->function, &f->so, &f->inst, err) != LM_OK) return LM_ERR;
    if (lm_wait_ready(&f->inst, f->o->timeout_ms, &f->cold_ready, err) != LM_OK) {
        char why[LM_ERRLEN];
        lm_instance_describe_end(&f->inst, 200, why, sizeof why);
        lm_instance_stop(&f->inst, 0);
        if (why[0]) {
            size_t l = strlen(err);
            snprintf(err + l, LM_ERRLEN - l, " (%.200s)", why);
        }
        return LM_ERR;
    }
    lm_instance_ready(&f->inst);
    f->live = f->fresh = 1;
    snprintf(f->instance_id, sizeof f->instance_id, "%s/%s", f->o->pod ? f->o->pod : "local",
             f->inst.id);
    return LM_OK;
}

/* Redis is looked for again before each request until it answers. */
static void ensure_store(front *f) {
    if (f->store) return;
    char err[LM_ERRLEN], host[256];
    int port;
    if (f->o->redis) {
        if (lm_parse_hostport(f->o->redis, host, sizeof host, &port, err) == LM_OK)
            f->store = lm_store_redis(host, port, err);
        if (!f->store) fprintf(stderr, "lumos-front: %s\n", err);
    } else if (f->o->storage_dir) {
        f->store = lm_store_dir(f->o->storage_dir, err);
    }
}

static void reply_error(struct evhttp_request *req, int status, const char *code, const char *msg) {
    struct evbuffer *b = evbuffer_new();
    char quoted[LM_ERRLEN * 2];
    evbuffer_add_printf(b, "{\"status\":\"error\",\"error\":\"%s\",\"message\":%s}\n", code,
                        lm_json_quote(quoted, sizeof quoted, msg));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

static double ms(uint64_t a, uint64_t b) { return a && b > a ? (double)(b - a) / 1e6 : 0.0; }
static unsigned long long since(uint64_t t0, uint64_t t) { return t > t0 ? t - t0 : 0; }
/* t relative to t0: negative for a cold start made before the request came. */
static long long rel(uint64_t t0, uint64_t t) { return (long long)(int64_t)(t - t0); }

/* What the runner records of a request (docs/knative-front.md): times as
 * ns after the front read the request, the probes, usage, the names. */
static void front_header(front *f, struct evkeyvalq *h, uint64_t ingress, int cold,
                         const lm_call_result *res, const lm_usage *use, uint64_t now) {
    char buf[2048], q1[400], q2[400], q3[200];
    int n = snprintf(buf, sizeof buf,
                     "{\"v\":1,\"request\":%llu,\"instance\":%s,\"pod\":%s,\"pod_uid\":%s,"
                     "\"runtime\":\"%s\",\"pid\":%d,\"cold\":%d",
                     (unsigned long long)f->requests, lm_json_quote(q1, sizeof q1, f->instance_id),
                     lm_json_quote(q2, sizeof q2, f->o->pod ? f->o->pod : "local"),
                     lm_json_quote(q3, sizeof q3, f->o->pod_uid ? f->o->pod_uid : ""), f->rt->name,
                     (int)f->inst.child.pid, cold);
    if (cold)
        n += snprintf(buf + n, sizeof buf - (size_t)n,
                      ",\"cold_begin_ns\":%lld,\"cold_ready_ns\":%lld,\"cold_start_ms\":%.3f",
                      rel(ingress, f->cold_begin), rel(ingress, f->cold_ready),
                      ms(f->cold_begin, f->cold_ready));
    if (res) {
        n += snprintf(buf + n, sizeof buf - (size_t)n,
                      ",\"dispatch_ns\":%llu,\"result_ns\":%llu,\"storage_ns\":%llu,\"probes\":{",
                      since(ingress, res->sent_ns), since(ingress, res->result_ns),
                      (unsigned long long)res->storage_ns);
        for (int i = 0; i < LM_PROBE_COUNT && n < (int)sizeof buf; i++)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%s\"%s\":%llu", i ? "," : "",
                          lm_probe_names[i], (unsigned long long)res->probes[i]);
        n += snprintf(buf + n, sizeof buf - (size_t)n, "}");
    }
    if (use && use->source != LM_USAGE_NONE)
        n += snprintf(buf + n, sizeof buf - (size_t)n,
                      ",\"cpu_ns\":%llu,\"mem_peak_bytes\":%llu,\"usage\":\"%s\"",
                      (unsigned long long)(use->cpu_user_ns + use->cpu_system_ns),
                      (unsigned long long)use->mem_peak_bytes, lm_usage_source_name(use->source));
    if (n < (int)sizeof buf)
        snprintf(buf + n, sizeof buf - (size_t)n, ",\"response_ns\":%llu}", since(ingress, now));
    evhttp_add_header(h, "X-Lumos-Front", buf);
}

/* The gateway's Server-Timing names, with the front's own time as "platform". */
static void server_timing(struct evkeyvalq *h, uint64_t ingress, int cold, uint64_t cb, uint64_t cr,
                          const lm_call_result *res, uint64_t now) {
    const uint64_t *p = res ? res->probes : NULL;
    /* Only the part of the cold start inside this request's span: a pod's
     * instance starts before it listens (X-Lumos-Front has the whole). */
    double c = cold ? ms(cb > ingress ? cb : ingress, cr) : 0.0;
    double d = p ? p[LM_PROBE_DESER_NS] / 1e6 : 0, io = p ? p[LM_PROBE_IO_NS] / 1e6 : 0;
    double cp = p ? p[LM_PROBE_COMPUTE_NS] / 1e6 : 0, s = p ? p[LM_PROBE_SER_NS] / 1e6 : 0;
    double total = ms(ingress, now), platform = total - c - d - io - cp - s;
    char t[512];
    snprintf(t, sizeof t,
             "platform;dur=%.3f, cold;dur=%.3f, queue;dur=0.000, deser;dur=%.3f, io;dur=%.3f, "
             "compute;dur=%.3f, ser;dur=%.3f, total;dur=%.3f",
             platform > 0 ? platform : 0.0, c, d, io, cp, s, total);
    evhttp_add_header(h, "Server-Timing", t);
}

static void on_invoke(front *f, struct evhttp_request *req, uint64_t ingress) {
    char err[LM_ERRLEN];
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    f->requests++;
    char ids[32];
    snprintf(ids, sizeof ids, "%llu", (unsigned long long)f->requests);
    evhttp_add_header(h, "X-Lumos-Request-Id", ids);
    if ((long)len > f->o->max_body_bytes) {
        snprintf(err, sizeof err, "the request body of %zu bytes is over the limit of %ld", len,
                 f->o->max_body_bytes);
        reply_error(req, 413, "payload_too_large", err);
        return;
    }
    if (!f->live && start_instance(f, err) != LM_OK) {
        reply_error(req, 503, "unavailable", err);
        return;
    }
    int cold = f->fresh;
    f->fresh = 0;
    ensure_store(f);
    const char *body = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
    const lm_cgroup *cg = f->inst.cgroup.version ? &f->inst.cgroup : NULL;
    lm_usage before = {0}, after = {0}, use = {0};
    char why[LM_ERRLEN];
    int measured = lm_telemetry_read(cg, f->inst.child.pid, &before, why) == LM_OK;
    if (cg) lm_telemetry_reset_peak(cg);
    lm_call_result res;
    uint64_t sent = lm_now_ns();
    int rc =
        lm_call(&f->inst, body ? body : "", len, f->store, f->o->timeout_ms, NULL, NULL, &res, err);
    if (rc != LM_OK) {
        int timed_out = lm_now_ns() - sent >= (uint64_t)f->o->timeout_ms * 1000000u;
        lm_instance_describe_end(&f->inst, 200, why, sizeof why);
        if (why[0]) {
            size_t l = strlen(err);
            snprintf(err + l, sizeof err - l, " (%.200s)", why);
        }
        fprintf(stderr, "lumos-front: %s: %s\n", f->instance_id, err);
        uint64_t now = lm_now_ns();
        evhttp_add_header(h, "X-Lumos-Instance", f->instance_id);
        front_header(f, h, ingress, cold, NULL, NULL, now);
        server_timing(h, ingress, cold, f->cold_begin, f->cold_ready, NULL, now);
        stop_instance(f); /* the next request starts a new one */
        reply_error(req, timed_out ? 504 : 500, timed_out ? "timeout" : "instance_failed", err);
        return;
    }
    if (measured && lm_telemetry_read(cg, f->inst.child.pid, &after, why) == LM_OK)
        lm_usage_delta(&before, &after, &use);
    uint64_t now = lm_now_ns();
    evhttp_add_header(h, "X-Lumos-Instance", f->instance_id);
    evhttp_add_header(h, "X-Lumos-Pod", f->o->pod ? f->o->pod : "local");
    front_header(f, h, ingress, cold, &res, &use, now);
    server_timing(h, ingress, cold, f->cold_begin, f->cold_ready, &res, now);
    evhttp_add_header(h, "Content-Type", "application/json");
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, res.body, res.body_len);
    evhttp_send_reply(req, res.status, NULL, b);
    evbuffer_free(b);
    lm_call_result_free(&res);
}

static void on_request(struct evhttp_request *req, void *arg) {
    front *f = arg;
    uint64_t ingress = lm_now_ns();
    const char *uri = evhttp_request_get_uri(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (strcmp(uri, "/healthz") == 0 && cmd == EVHTTP_REQ_GET) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b,
                            "{\"status\":\"%s\",\"function\":\"%s\",\"runtime\":\"%s\","
                            "\"requests\":%llu}\n",
                            f->live || f->o->lazy ? "ok" : "starting", f->o->function, f->rt->name,
                            (unsigned long long)f->requests);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json");
        evhttp_send_reply(req, 200, NULL, b);
        evbuffer_free(b);
        return;
    }
    if (cmd != EVHTTP_REQ_POST) {
        reply_error(req, 405, "method_not_allowed", "use POST with a JSON body (GET /healthz)");
        return;
    }
    on_invoke(f, req, ingress);
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    event_base_loopbreak(((front *)arg)->base);
}

int lm_front_run(const lm_front_opts *o_in, char *err) {
    lm_front_opts o = *o_in;
    if (!o.timeout_ms) o.timeout_ms = 60000;
    if (!o.max_body_bytes) o.max_body_bytes = 64L << 20;
    if (!o.listen) o.listen = "0.0.0.0";
    front f = {.o = &o};
    if (!o.function) return lm_errf(err, "no function: pass --function or set LUMOS_FUNCTION");
    if (!(f.rt = lm_runtime_find(o.runtime ? o.runtime : "native", err))) return LM_ERR;
    char why[LM_ERRLEN];
    if (f.rt->available(f.rt, why) != LM_OK)
        return lm_errf(err, "runtime %s is not available: %s", f.rt->name, why);
    f.so = (lm_start_opts){.artifacts = lm_artifacts_dir(o.artifacts),
                           .data_dir = o.storage_dir,
                           .stderr_fd = LM_STDERR_CAPTURE,
                           .memory_limit = o.memory_limit,
                           .no_cgroup = !o.cgroup};
    /* Ready when the instance is: Knative routes to the pod only then. */
    if (!o.lazy && start_instance(&f, err) != LM_OK) return LM_ERR;
    ensure_store(&f);
    int rc = LM_ERR;
    struct event *sigs[2] = {NULL, NULL};
    struct evhttp *http = NULL;
    if (!(f.base = event_base_new())) {
        lm_errf(err, "out of memory");
        goto out;
    }
    http = evhttp_new(f.base);
    if (!http) {
        lm_errf(err, "out of memory");
        goto out;
    }
    evhttp_set_max_body_size(http, o.max_body_bytes + (1 << 20));
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                         EVHTTP_REQ_HEAD | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(http, on_request, &f);
    struct evhttp_bound_socket *sock =
        evhttp_bind_socket_with_handle(http, o.listen, (ev_uint16_t)o.port);
    if (!sock) {
        lm_errf(err, "cannot listen on %s:%d (in use? --port 0 takes a free one)", o.listen,
                o.port);
        goto out;
    }
    struct sockaddr_storage ss;
    ev_socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl);
    FILE *out = o.out ? o.out : stdout;
    fprintf(out, "lumos-front: %s on %s listening on http://%s:%d\n", o.function, f.rt->name,
            o.listen, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    fflush(out);
    sigs[0] = evsignal_new(f.base, SIGTERM, on_signal, &f);
    sigs[1] = evsignal_new(f.base, SIGINT, on_signal, &f);
    if (!sigs[0] || !sigs[1] || evsignal_add(sigs[0], NULL) || evsignal_add(sigs[1], NULL)) {
        lm_errf(err, "cannot watch signals");
        goto out;
    }
    event_base_dispatch(f.base);
    rc = LM_OK;
out:
    for (int i = 0; i < 2; i++)
        if (sigs[i]) event_free(sigs[i]);
    if (http) evhttp_free(http);
    if (f.base) event_base_free(f.base);
    stop_instance(&f);
    lm_store_free(f.store);
    return rc;
}
