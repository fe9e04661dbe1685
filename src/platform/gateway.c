/* gateway.c -- `lumos serve`'s HTTP/1.1 front door (libevent's evhttp on
 * loopback): POST /function/<fn>[@<runtime>] invokes a service through its
 * pool; GET /services lists them. Every answer carries the request's
 * timings in a Server-Timing header and its id in X-Lumos-Request-Id. */
#include "gateway.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "platform/pool.h"

typedef struct {
    struct evhttp_request *http; /* NULL once the client has gone */
    struct evhttp_connection *conn;
    uint64_t id;
    lm_gateway *gw;
} pending;

struct lm_gateway {
    struct event_base *base;
    struct evhttp *http;
    lm_pool *pool;
    lm_service_config cfg;
    uint64_t next_id;
    int port;
    struct event *sigint, *sigterm;
};

static void reply_error(struct evhttp_request *req, int status, const char *code, const char *msg) {
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "{\"status\":\"error\",\"error\":\"%s\",\"message\":\"", code);
    for (const char *p = msg; *p; p++) {
        if (*p == '"' || *p == '\\')
            evbuffer_add_printf(b, "\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            evbuffer_add_printf(b, "\\u%04x", *p);
        else
            evbuffer_add(b, p, 1);
    }
    evbuffer_add_printf(b, "\"}\n");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

static void on_client_gone(struct evhttp_connection *conn, void *arg) {
    pending *p = arg;
    (void)conn;
    p->http = NULL; /* the answer, when it comes, has nobody to go to */
}

static double ms(uint64_t a, uint64_t b) { return a && b && b > a ? (double)(b - a) / 1e6 : 0; }

static void on_done(void *arg, int status, const lm_call_result *res, const lm_req_times *t,
                    int cold, const char *instance_id, const char *err) {
    pending *p = arg;
    if (!p->http) {
        free(p);
        return;
    }
    evhttp_connection_set_closecb(p->conn, NULL, NULL);
    struct evkeyvalq *h = evhttp_request_get_output_headers(p->http);
    char id[32], timing[512];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)p->id);
    evhttp_add_header(h, "X-Lumos-Request-Id", id);
    if (instance_id) evhttp_add_header(h, "X-Lumos-Instance", instance_id);
    uint64_t now = lm_now_ns();
    const uint64_t *pr = res ? res->probes : NULL;
    snprintf(timing, sizeof(timing),
             "cold;dur=%.3f, queue;dur=%.3f, deser;dur=%.3f, io;dur=%.3f, compute;dur=%.3f, "
             "ser;dur=%.3f, total;dur=%.3f",
             cold ? ms(t->cold_begin, t->cold_ready) : 0.0, ms(t->queued, t->acquired),
             pr ? pr[LM_PROBE_DESER_NS] / 1e6 : 0.0, pr ? pr[LM_PROBE_IO_NS] / 1e6 : 0.0,
             pr ? pr[LM_PROBE_COMPUTE_NS] / 1e6 : 0.0, pr ? pr[LM_PROBE_SER_NS] / 1e6 : 0.0,
             ms(t->ingress, now));
    evhttp_add_header(h, "Server-Timing", timing);
    if (res) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add(b, res->body, res->body_len);
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_send_reply(p->http, status, NULL, b);
        evbuffer_free(b);
    } else {
        reply_error(p->http, status,
                    status == 504   ? "timeout"
                    : status == 503 ? "unavailable"
                                    : "instance_failed",
                    err ? err : "failed");
    }
    free(p);
}

static void on_function(struct evhttp_request *req, lm_gateway *gw, const char *name) {
    char err[LM_ERRLEN];
    uint64_t ingress = lm_now_ns();
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        reply_error(req, 405, "method_not_allowed", "use POST with a JSON body");
        return;
    }
    lm_service *s = lm_pool_service(gw->pool, name, &gw->cfg, err);
    if (!s) {
        reply_error(req, 404, "not_found", err);
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *body = (char *)evbuffer_pullup(in, (ev_ssize_t)len);
    const char *start = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Lumos-Start");
    pending *p = calloc(1, sizeof(*p));
    if (!p) {
        reply_error(req, 503, "unavailable", "out of memory");
        return;
    }
    p->http = req;
    p->conn = evhttp_request_get_connection(req);
    p->id = ++gw->next_id;
    p->gw = gw;
    evhttp_connection_set_closecb(p->conn, on_client_gone, p);
    lm_pool_submit(s, body ? body : "", len, start && strcmp(start, "cold") == 0, ingress, on_done,
                   p);
}

static void on_request(struct evhttp_request *req, void *arg) {
    lm_gateway *gw = arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evhttp_uri *u = evhttp_uri_parse(uri);
    const char *path = u ? evhttp_uri_get_path(u) : NULL;
    if (!path) {
        reply_error(req, 400, "bad_request", "malformed request URI");
    } else if (strncmp(path, "/function/", 10) == 0 && path[10]) {
        on_function(req, gw, path + 10);
    } else if (strcmp(path, "/services") == 0) {
        struct evbuffer *b = evbuffer_new();
        lm_pool_describe(gw->pool, b);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/json");
        evhttp_send_reply(req, 200, "OK", b);
        evbuffer_free(b);
    } else {
        reply_error(req, 404, "not_found",
                    "no such path (try POST /function/NAME or GET /services)");
    }
    if (u) evhttp_uri_free(u);
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    lm_gateway *gw = arg;
    (void)what;
    fprintf(stderr, "lumos serve: signal %d: shutting down\n", (int)sig);
    event_base_loopbreak(gw->base);
}

lm_gateway *lm_gateway_new(struct event_base *base, const lm_gateway_opts *o, char *err) {
    lm_gateway *gw = calloc(1, sizeof(*gw));
    if (!gw) {
        lm_errf(err, "out of memory");
        return NULL;
    }
    gw->base = base;
    gw->cfg = o->service;
    gw->pool = lm_pool_new(base, o->store, o->artifacts, o->data_dir);
    gw->http = evhttp_new(base);
    if (!gw->pool || !gw->http) {
        lm_gateway_free(gw);
        lm_errf(err, "out of memory");
        return NULL;
    }
    evhttp_set_max_body_size(gw->http, o->max_body_bytes);
    evhttp_set_allowed_methods(gw->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(gw->http, on_request, gw);
    struct evhttp_bound_socket *sock =
        evhttp_bind_socket_with_handle(gw->http, "127.0.0.1", (ev_uint16_t)o->port);
    if (!sock) {
        lm_gateway_free(gw);
        lm_errf(err, "cannot listen on 127.0.0.1:%d (in use? try --port 0 for a free one)",
                o->port);
        return NULL;
    }
    struct sockaddr_storage ss;
    ev_socklen_t sl = sizeof(ss);
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl);
    gw->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    gw->sigint = evsignal_new(base, SIGINT, on_signal, gw);
    gw->sigterm = evsignal_new(base, SIGTERM, on_signal, gw);
    evsignal_add(gw->sigint, NULL);
    evsignal_add(gw->sigterm, NULL);
    return gw;
}

int lm_gateway_port(const lm_gateway *gw) { return gw->port; }

void lm_gateway_free(lm_gateway *gw) {
    if (!gw) return;
    if (gw->http) evhttp_free(gw->http); /* stop taking requests first */
    lm_pool_free(gw->pool);
    if (gw->sigint) event_free(gw->sigint);
    if (gw->sigterm) event_free(gw->sigterm);
    free(gw);
}
