/* agent_http.c -- `lumos agent`'s answers (agent.h): the scan as JSON or
 * Prometheus text, served by one libevent HTTP loop; every GET scans anew
 * (a few files per pod), so an answer is the node's state when it is read. */
#include "cluster/agent.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proto/clock.h"

static int usage_json(lm_buf *b, const lm_usage *u) {
    return lm_buf_printf(b,
                         "\"source\":\"%s\",\"cpu_user_ns\":%llu,\"cpu_system_ns\":%llu,"
                         "\"cpu_ns\":%llu,\"mem_current_bytes\":%llu,\"mem_peak_bytes\":%llu",
                         lm_usage_source_name(u->source), (unsigned long long)u->cpu_user_ns,
                         (unsigned long long)u->cpu_system_ns,
                         (unsigned long long)(u->cpu_user_ns + u->cpu_system_ns),
                         (unsigned long long)u->mem_current_bytes,
                         (unsigned long long)u->mem_peak_bytes);
}

char *lm_agent_json(const lm_agent_opts *o, const char *uid, char *err) {
    lm_agent_pod *pods = NULL;
    size_t n = 0;
    int version = 0;
    if (lm_agent_scan(o, &pods, &n, &version, err) != LM_OK) return NULL;
    lm_buf b = {0};
    char q[600];
    int rc = lm_buf_printf(&b, "{\"node\":%s,\"t_ns\":%llu,\"cgroup_version\":%d,\"pods\":[",
                           lm_json_quote(q, sizeof q, o->node ? o->node : ""),
                           (unsigned long long)lm_now_ns(), version);
    size_t shown = 0;
    for (size_t i = 0; rc == LM_OK && i < n; i++) {
        const lm_agent_pod *p = &pods[i];
        if (uid && strcmp(uid, p->pod_uid) != 0) continue;
        rc |= lm_buf_printf(&b, "%s{\"pod_uid\":\"%s\",\"qos\":\"%s\",\"cgroup\":%s,",
                            shown++ ? "," : "", p->pod_uid, p->qos,
                            lm_json_quote(q, sizeof q, p->cgroup));
        rc |= usage_json(&b, &p->use);
        if (p->error[0])
            rc |= lm_buf_printf(&b, ",\"error\":%s", lm_json_quote(q, sizeof q, p->error));
        rc |= lm_buf_printf(&b, ",\"containers\":[");
        for (int c = 0; c < p->ncontainers; c++) {
            rc |= lm_buf_printf(&b, "%s{\"id\":%s,", c ? "," : "",
                                lm_json_quote(q, sizeof q, p->containers[c].id));
            rc |= usage_json(&b, &p->containers[c].use);
            rc |= lm_buf_printf(&b, "}");
        }
        rc |= lm_buf_printf(&b, "]}");
    }
    rc |= lm_buf_printf(&b, "]}\n");
    free(pods);
    if (rc != LM_OK) {
        lm_buf_free(&b);
        lm_errf(err, "out of memory");
        return NULL;
    }
    if (uid && !shown) {
        lm_buf_free(&b);
        lm_errf(err, "no pod %s on this node", uid);
        return NULL;
    }
    return b.data;
}

char *lm_agent_metrics(const lm_agent_opts *o, char *err) {
    lm_agent_pod *pods = NULL;
    size_t n = 0;
    if (lm_agent_scan(o, &pods, &n, NULL, err) != LM_OK) return NULL;
    lm_buf b = {0};
    int rc =
        lm_buf_printf(&b, "# HELP lumos_pod_cpu_seconds_total CPU time of the pod's cgroup.\n"
                          "# TYPE lumos_pod_cpu_seconds_total counter\n"
                          "# HELP lumos_pod_memory_bytes Memory of the pod's cgroup now.\n"
                          "# TYPE lumos_pod_memory_bytes gauge\n"
                          "# HELP lumos_pod_memory_peak_bytes Peak memory of the pod's cgroup.\n"
                          "# TYPE lumos_pod_memory_peak_bytes gauge\n");
    for (size_t i = 0; rc == LM_OK && i < n; i++) {
        const lm_agent_pod *p = &pods[i];
        for (int c = -1; c < p->ncontainers; c++) {
            const lm_usage *u = c < 0 ? &p->use : &p->containers[c].use;
            const char *cid = c < 0 ? "" : p->containers[c].id;
            if (u->source == LM_USAGE_NONE) continue;
            rc |= lm_buf_printf(
                &b,
                "lumos_pod_cpu_seconds_total{pod_uid=\"%s\",container=\"%s\",node=\"%s\"} %.9f\n"
                "lumos_pod_memory_bytes{pod_uid=\"%s\",container=\"%s\",node=\"%s\"} %llu\n"
                "lumos_pod_memory_peak_bytes{pod_uid=\"%s\",container=\"%s\",node=\"%s\"} %llu\n",
                p->pod_uid, cid, o->node ? o->node : "",
                (double)(u->cpu_user_ns + u->cpu_system_ns) / 1e9, p->pod_uid, cid,
                o->node ? o->node : "", (unsigned long long)u->mem_current_bytes, p->pod_uid, cid,
                o->node ? o->node : "", (unsigned long long)u->mem_peak_bytes);
        }
    }
    free(pods);
    if (rc != LM_OK) {
        lm_buf_free(&b);
        lm_errf(err, "out of memory");
        return NULL;
    }
    return b.data;
}

typedef struct {
    const lm_agent_opts *o;
    struct event_base *base;
} agent;

static void reply(struct evhttp_request *req, int status, const char *type, const char *body) {
    struct evbuffer *b = evbuffer_new();
    if (!b) return;
    evbuffer_add(b, body, strlen(body));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

static void reply_error(struct evhttp_request *req, int status, const char *code, const char *msg) {
    char q[LM_ERRLEN + 64], body[LM_ERRLEN + 160];
    snprintf(body, sizeof body, "{\"status\":\"error\",\"error\":\"%s\",\"message\":%s}\n", code,
             lm_json_quote(q, sizeof q, msg));
    reply(req, status, "application/json", body);
}

static void on_request(struct evhttp_request *req, void *arg) {
    agent *a = arg;
    char err[LM_ERRLEN];
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        reply_error(req, 405, "method_not_allowed", "only GET");
        return;
    }
    const char *uri = evhttp_request_get_uri(req);
    char path[512];
    snprintf(path, sizeof path, "%s", uri ? uri : "/");
    path[strcspn(path, "?")] = 0;
    char *body = NULL;
    const char *type = "application/json";
    if (!strcmp(path, "/healthz")) {
        reply(req, 200, type, "{\"status\":\"ok\"}\n");
        return;
    }
    if (!strcmp(path, "/pods") || !strcmp(path, "/")) {
        body = lm_agent_json(a->o, NULL, err);
    } else if (!strncmp(path, "/pods/", 6)) {
        body = lm_agent_json(a->o, path + 6, err);
        if (!body && strstr(err, "no pod")) {
            reply_error(req, 404, "not_found", err);
            return;
        }
    } else if (!strcmp(path, "/metrics")) {
        body = lm_agent_metrics(a->o, err);
        type = "text/plain; version=0.0.4";
    } else {
        reply_error(req, 404, "not_found", "GET /pods, /pods/UID, /metrics or /healthz");
        return;
    }
    if (!body) {
        reply_error(req, 500, "scan_failed", err);
        return;
    }
    reply(req, 200, type, body);
    free(body);
}

static void on_signal(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    event_base_loopbreak(((agent *)arg)->base);
}

int lm_agent_serve(const lm_agent_opts *o, char *err) {
    lm_agent_pod *pods = NULL;
    size_t n = 0;
    int version = 0;
    if (lm_agent_scan(o, &pods, &n, &version, err) != LM_OK) return LM_ERR;
    free(pods);
    const char *listen = o->listen ? o->listen : "0.0.0.0";
    agent a = {.o = o, .base = event_base_new()};
    struct evhttp *http = a.base ? evhttp_new(a.base) : NULL;
    struct event *sigs[2] = {NULL, NULL};
    int rc = LM_ERR;
    if (!http) {
        lm_errf(err, "libevent: cannot make the HTTP server");
        goto out;
    }
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                         EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(http, on_request, &a);
    struct evhttp_bound_socket *sock =
        evhttp_bind_socket_with_handle(http, listen, (ev_uint16_t)o->port);
    if (!sock) {
        lm_errf(err, "cannot listen on %s:%d (in use? --port 0 takes a free one)", listen, o->port);
        goto out;
    }
    struct sockaddr_storage ss;
    ev_socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl);
    FILE *out = o->out ? o->out : stdout;
    fprintf(out, "lumos agent: %zu pods (cgroup v%d) listening on http://%s:%d\n", n, version,
            listen, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    fflush(out);
    sigs[0] = evsignal_new(a.base, SIGTERM, on_signal, &a);
    sigs[1] = evsignal_new(a.base, SIGINT, on_signal, &a);
    if (!sigs[0] || !sigs[1] || evsignal_add(sigs[0], NULL) || evsignal_add(sigs[1], NULL)) {
        lm_errf(err, "libevent: cannot watch signals");
        goto out;
    }
    event_base_dispatch(a.base);
    rc = LM_OK;
out:
    for (int i = 0; i < 2; i++)
        if (sigs[i]) event_free(sigs[i]);
    if (http) evhttp_free(http);
    if (a.base) event_base_free(a.base);
    return rc;
}
