/* gateway.c -- `lumos serve`'s HTTP/1.1 front door (libevent's evhttp on
 * loopback): POST /function/<fn>[@<runtime>] invokes a service through its
 * pool; GET /services lists the services and POST /services deploys them;
 * GET /metrics is the Prometheus exposition. Every answer to /function/
 * carries the request's timings in a Server-Timing header and its id in
 * X-Lumos-Request-Id, and every such request becomes one row of the
 * results store's requests table (the observer), whatever its outcome. */
#include "gateway.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "platform/gateway_routes.h"

typedef struct {
    struct evhttp_request *http; /* NULL once the client has gone */
    struct evhttp_connection *conn;
    uint64_t id;
    int64_t cell_id; /* X-Lumos-Cell, or LM_RESULTS_NULL */
    lm_gateway *gw;
    lm_service *svc;
} pending;

struct lm_gateway {
    struct event_base *base;
    struct evhttp *http;
    lm_pool *pool;
    lm_results *results;
    long max_body;
    uint64_t next_id, answered;
    int port;
    int draining, drain_timeout_ms;
    uint64_t drain_deadline;
    double start_time_s;
    uint64_t other_requests;
    struct event *sigint, *sigterm, *drain;
    lm_serve_defaults *defaults; /* what POST /services builds on */
};

static void add_error_body(struct evbuffer *b, const char *code, const char *msg) {
    char quoted[LM_ERRLEN * 2];
    evbuffer_add_printf(b, "{\"status\":\"error\",\"error\":\"%s\",\"message\":%s}\n", code,
                        lm_json_quote(quoted, sizeof(quoted), msg));
}

void lm_gateway_reply_error(struct evhttp_request *req, int status, const char *code,
                            const char *msg) {
    struct evbuffer *b = evbuffer_new();
    add_error_body(b, code, msg);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, status, NULL, b);
    evbuffer_free(b);
}

static double ms(uint64_t a, uint64_t b) { return a && b && b > a ? (double)(b - a) / 1e6 : 0; }

/* The observer: one row per request to /function/, whatever happened. */
static void record(lm_gateway *gw, uint64_t id, int64_t cell_id, lm_service *svc,
                   const lm_pool_outcome *o, uint64_t response_ns, const char *error) {
    if (!gw->results) return;
    lm_request_record r = {.id = (int64_t)id,
                           .cell_id = cell_id,
                           .service_id = svc ? lm_service_id(svc) : LM_RESULTS_NULL,
                           .instance_id = o->instance_id,
                           .status = o->status,
                           .cold = o->instance_id ? o->cold : -1,
                           .t = o->t,
                           .response_ns = response_ns,
                           .res = o->res,
                           /* the user/system split is not read per request */
                           .usage =
                               o->usage_measured ? LM_RECORD_USAGE_TOTAL : LM_RECORD_USAGE_NONE,
                           .cpu_ns = o->cpu_ns,
                           .mem_peak_bytes = o->mem_peak_bytes,
                           .error = error,
                           .phases = o->cold ? o->phases : NULL,
                           .node = o->node};
    lm_record_request(gw->results, &r);
}

/* The experiment cell a request was sent for: X-Lumos-Cell, a positive
 * integer the experiment runner sets; anything else is no cell. */
static int64_t cell_header(struct evhttp_request *req) {
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Lumos-Cell");
    if (!v) return LM_RESULTS_NULL;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    return errno || end == v || *end || n <= 0 ? LM_RESULTS_NULL : (int64_t)n;
}

/* A /function/ request answered before it reached a pool (404, 405, 413,
 * draining): still one row, and its id in the answer. */
static void refuse(lm_gateway *gw, struct evhttp_request *req, uint64_t ingress, lm_service *svc,
                   int status, const char *code, const char *msg) {
    uint64_t id = ++gw->next_id;
    char ids[32];
    snprintf(ids, sizeof(ids), "%llu", (unsigned long long)id);
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Lumos-Request-Id", ids);
    lm_gateway_reply_error(req, status, code, msg);
    gw->answered++;
    lm_pool_outcome o = {.status = status};
    o.t.ingress = ingress;
    record(gw, id, cell_header(req), svc, &o, lm_now_ns(), msg);
    if (svc)
        lm_metrics_service_request(lm_service_metrics(svc), status, ms(ingress, lm_now_ns()) / 1e3);
    else
        gw->other_requests++; /* no service to count it under */
}

static void on_client_gone(struct evhttp_connection *conn, void *arg) {
    pending *p = arg;
    (void)conn;
    p->http = NULL; /* the answer, when it comes, has nobody to go to */
}

/* libevent notices a client that left only when it next reads from it,
 * which it does not while a request is being served: look for the EOF. */
static int client_left(struct evhttp_connection *conn) {
    struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    char c;
    return fd >= 0 && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* A client can leave only while it waits, and one that waits less than
 * this for its answer has not given up on it: the look (one recv) is for
 * the requests that took longer. */
#define LEFT_CHECK_NS 1000000u

static void on_done(void *arg, const lm_pool_outcome *o) {
    pending *p = arg;
    lm_gateway *gw = p->gw;
    /* A client gone unnoticed still gets its answer written (the write
     * fails and evhttp frees the connection), and the row says it left:
     * a look (one recv) only when there is a row to write. */
    uint64_t now = lm_now_ns();
    const char *left =
        gw->results && p->http && now - o->t.ingress > LEFT_CHECK_NS && client_left(p->conn)
            ? "the client closed the connection before the answer"
            : NULL;
    const lm_call_result *res = o->res;
    const lm_req_times *t = &o->t;
    const char *error = o->err;
    if (!p->http) {
        record(gw, p->id, p->cell_id, p->svc, o, now,
               error ? error : "the client closed the connection before the answer");
        lm_metrics_service_request(lm_service_metrics(p->svc), o->status,
                                   ms(t->ingress, now) / 1e3);
        free(p);
        return;
    }
    evhttp_connection_set_closecb(p->conn, NULL, NULL);
    struct evkeyvalq *h = evhttp_request_get_output_headers(p->http);
    char id[32], timing[512];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)p->id);
    evhttp_add_header(h, "X-Lumos-Request-Id", id);
    if (o->instance_id) evhttp_add_header(h, "X-Lumos-Instance", o->instance_id);
    const uint64_t *pr = res ? res->probes : NULL;
    double cold = o->cold ? ms(t->cold_begin, t->cold_ready) : 0.0;
    double queue = t->queued ? ms(t->queued, t->cold_begin ? t->cold_begin : t->acquired) : 0.0;
    double deser = pr ? pr[LM_PROBE_DESER_NS] / 1e6 : 0.0, io = pr ? pr[LM_PROBE_IO_NS] / 1e6 : 0.0;
    double compute = pr ? pr[LM_PROBE_COMPUTE_NS] / 1e6 : 0.0;
    double ser = pr ? pr[LM_PROBE_SER_NS] / 1e6 : 0.0;
    double total = ms(t->ingress, now);
    double platform = total - cold - queue - deser - io - compute - ser;
    snprintf(timing, sizeof(timing),
             "platform;dur=%.3f, cold;dur=%.3f, queue;dur=%.3f, deser;dur=%.3f, io;dur=%.3f, "
             "compute;dur=%.3f, ser;dur=%.3f, total;dur=%.3f",
             platform > 0 ? platform : 0.0, cold, queue, deser, io, compute, ser, total);
    evhttp_add_header(h, "Server-Timing", timing);
    if (res) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add(b, res->body, res->body_len);
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_send_reply(p->http, o->status, NULL, b);
        evbuffer_free(b);
    } else {
        lm_gateway_reply_error(p->http, o->status,
                               o->status == 504   ? "timeout"
                               : o->status == 503 ? "unavailable"
                                                  : "instance_failed",
                               error ? error : "failed");
    }
    gw->answered++;
    uint64_t sent = lm_now_ns();
    record(gw, p->id, p->cell_id, p->svc, o, sent, left && !error ? left : error);
    lm_metrics_service_request(lm_service_metrics(p->svc), o->status, ms(t->ingress, sent) / 1e3);
    free(p);
}

static void on_function(struct evhttp_request *req, lm_gateway *gw, const char *name) {
    char err[LM_ERRLEN];
    uint64_t ingress = lm_now_ns();
    if (gw->draining) {
        refuse(gw, req, ingress, NULL, 503, "unavailable", "the platform is shutting down");
        return;
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        refuse(gw, req, ingress, NULL, 405, "method_not_allowed", "use POST with a JSON body");
        return;
    }
    lm_service *s = lm_pool_service(gw->pool, name, NULL, err);
    if (!s) {
        refuse(gw, req, ingress, NULL, 404, "not_found", err);
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if ((long)len > gw->max_body) {
        snprintf(err, sizeof(err), "the request body of %zu bytes is over the limit of %ld", len,
                 gw->max_body);
        refuse(gw, req, ingress, s, 413, "payload_too_large", err);
        return;
    }
    char *body = (char *)evbuffer_pullup(in, (ev_ssize_t)len);
    const char *start = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Lumos-Start");
    pending *p = calloc(1, sizeof(*p));
    if (!p) {
        refuse(gw, req, ingress, s, 503, "unavailable", "out of memory");
        return;
    }
    p->http = req;
    p->conn = evhttp_request_get_connection(req);
    p->id = ++gw->next_id;
    p->cell_id = cell_header(req);
    p->gw = gw;
    p->svc = s;
    evhttp_connection_set_closecb(p->conn, on_client_gone, p);
    lm_pool_submit(s, body ? body : "", len, start && strcmp(start, "cold") == 0, ingress, on_done,
                   p);
}

static void send_text(struct evhttp_request *req, int status, const char *type,
                      struct evbuffer *b) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_send_reply(req, status, NULL, b);
}

static void on_metrics(struct evhttp_request *req, lm_gateway *gw) {
    int n;
    const lm_metrics_service *const *svcs = lm_pool_metrics(gw->pool, &n);
    lm_metrics_global g = {.start_time_seconds = gw->start_time_s,
                           .http_requests_other = gw->other_requests};
    if (gw->results) {
        lm_results_stats st;
        lm_results_stats_get(gw->results, &st);
        g.has_results = 1;
        g.results_rows_written = st.rows_written;
        g.results_rows_pending = st.rows_pending;
        g.results_rows_lost = st.rows_lost;
    }
    struct evbuffer *b = evbuffer_new();
    char err[LM_ERRLEN];
    if (lm_gateway_write_metrics(svcs, n, &g, b, err) != LM_OK) {
        lm_gateway_reply_error(req, 500, "internal", err);
    } else {
        send_text(req, 200, LM_METRICS_CONTENT_TYPE, b);
    }
    evbuffer_free(b);
}

static void on_services(struct evhttp_request *req, lm_gateway *gw) {
    struct evbuffer *b = evbuffer_new();
    if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        const char *body = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
        char err[LM_ERRLEN];
        int status = lm_gateway_deploy(gw->pool, gw->defaults, body ? body : "", len, b, err);
        if (status != 201) {
            lm_gateway_reply_error(req, status, status == 409 ? "unavailable" : "bad_request", err);
            evbuffer_free(b);
            return;
        }
        send_text(req, 201, "application/json", b);
    } else {
        lm_pool_describe(gw->pool, b);
        send_text(req, 200, "application/json", b);
    }
    evbuffer_free(b);
}

/* POST /results/flush: every row recorded so far is in the file when the
 * answer comes (an experiment runner asks between its cells). It blocks
 * the loop for one transaction. */
static void on_results_flush(struct evhttp_request *req, lm_gateway *gw) {
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        lm_gateway_reply_error(req, 405, "method_not_allowed", "use POST /results/flush");
        return;
    }
    if (!gw->results) {
        lm_gateway_reply_error(req, 409, "no_results", "this gateway records no results");
        return;
    }
    char err[LM_ERRLEN];
    if (lm_results_flush(gw->results, err) != LM_OK) {
        lm_gateway_reply_error(req, 500, "results_failed", err);
        return;
    }
    lm_results_stats st;
    lm_results_stats_get(gw->results, &st);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "{\"rows_written\":%llu,\"rows_lost\":%llu,\"rows_rejected\":%llu}\n",
                        (unsigned long long)st.rows_written, (unsigned long long)st.rows_lost,
                        (unsigned long long)st.rows_rejected);
    send_text(req, 200, "application/json", b);
    evbuffer_free(b);
}

/* GET /nodes lists the emulated nodes; POST /nodes/NAME/remove (its
 * instances killed), /cut (its link down) and /restore change one mid-run
 * (docs/nodes.md). */
static void on_nodes(struct evhttp_request *req, lm_gateway *gw, const char *rest) {
    int post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
    if (!*rest) {
        if (post) {
            lm_gateway_reply_error(req, 405, "method_not_allowed", "use GET /nodes");
            return;
        }
        struct evbuffer *b = evbuffer_new();
        lm_pool_describe_nodes(gw->pool, b);
        send_text(req, 200, "application/json", b);
        evbuffer_free(b);
        return;
    }
    char name[64], action[16];
    const char *slash = strchr(rest + 1, '/');
    if (rest[0] != '/' || !slash || (size_t)(slash - rest - 1) >= sizeof(name) ||
        strlen(slash + 1) >= sizeof(action)) {
        lm_gateway_reply_error(req, 404, "not_found", "use POST /nodes/NAME/remove|cut|restore");
        return;
    }
    snprintf(name, sizeof(name), "%.*s", (int)(slash - rest - 1), rest + 1);
    snprintf(action, sizeof(action), "%s", slash + 1);
    if (!post) {
        lm_gateway_reply_error(req, 405, "method_not_allowed", "use POST");
        return;
    }
    char err[LM_ERRLEN];
    int rc;
    if (strcmp(action, "remove") == 0 || strcmp(action, "cut") == 0)
        rc = lm_pool_node_remove(gw->pool, name, action[0] == 'r', err);
    else if (strcmp(action, "restore") == 0)
        rc = lm_pool_node_restore(gw->pool, name, err);
    else
        rc = lm_errf(err, "unknown action '%s' (remove, cut, restore)", action);
    if (rc != LM_OK) {
        lm_gateway_reply_error(req, 404, "not_found", err);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "{\"node\":\"%s\",\"action\":\"%s\"}\n", name, action);
    send_text(req, 200, "application/json", b);
    evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg) {
    lm_gateway *gw = arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evhttp_uri *u = evhttp_uri_parse(uri);
    const char *path = u ? evhttp_uri_get_path(u) : NULL;
    if (path && strncmp(path, "/function/", 10) == 0 && path[10]) {
        on_function(req, gw, path + 10);
        if (u) evhttp_uri_free(u);
        return;
    }
    gw->other_requests++;
    gw->answered++;
    if (!path) {
        lm_gateway_reply_error(req, 400, "bad_request", "malformed request URI");
    } else if (strcmp(path, "/services") == 0) {
        on_services(req, gw);
    } else if (strcmp(path, "/metrics") == 0) {
        on_metrics(req, gw);
    } else if (strcmp(path, "/results/flush") == 0) {
        on_results_flush(req, gw);
    } else if (strncmp(path, "/nodes", 6) == 0 && (path[6] == 0 || path[6] == '/')) {
        on_nodes(req, gw, path + 6);
    } else {
        lm_gateway_reply_error(req, 404, "not_found",
                               "no such path (try POST /function/NAME, GET /services, "
                               "POST /services, GET /metrics or POST /results/flush)");
    }
    if (u) evhttp_uri_free(u);
}

/* While draining: end the loop once nothing is in flight, or at the
 * deadline (the pool then fails what is left with 503). */
static void on_drain(evutil_socket_t fd, short what, void *arg) {
    lm_gateway *gw = arg;
    (void)fd;
    (void)what;
    if (lm_pool_in_flight(gw->pool) == 0 || lm_now_ns() >= gw->drain_deadline)
        event_base_loopbreak(gw->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    lm_gateway *gw = arg;
    (void)what;
    if (gw->draining) {
        fprintf(stderr, "lumos serve: signal %d again: stopping now\n", (int)sig);
        event_base_loopbreak(gw->base);
        return;
    }
    int n = lm_pool_in_flight(gw->pool);
    fprintf(stderr, "lumos serve: signal %d: shutting down (%d request%s in flight)\n", (int)sig, n,
            n == 1 ? "" : "s");
    gw->draining = 1;
    gw->drain_deadline = lm_now_ns() + (uint64_t)gw->drain_timeout_ms * 1000000u;
    struct timeval tv = {0, 10000};
    event_add(gw->drain, &tv);
}

lm_gateway *lm_gateway_new(struct event_base *base, const lm_gateway_opts *o, char *err) {
    lm_gateway *gw = calloc(1, sizeof(*gw));
    if (!gw) {
        lm_errf(err, "out of memory");
        return NULL;
    }
    gw->base = base;
    gw->results = o->pool.results;
    gw->next_id = o->request_id_base;
    gw->max_body = o->max_body_bytes;
    gw->drain_timeout_ms = o->drain_timeout_ms;
    gw->start_time_s = (double)lm_wall_ns() / 1e9;
    gw->pool = lm_pool_new(base, &o->pool, err);
    if (!gw->pool) {
        free(gw);
        return NULL;
    }
    lm_pool_set_defaults(gw->pool, &o->service);
    gw->defaults = lm_serve_defaults_new(&o->service);
    gw->http = evhttp_new(base);
    gw->drain = event_new(base, -1, EV_PERSIST, on_drain, gw);
    if (!gw->http || !gw->drain || !gw->defaults) {
        lm_gateway_free(gw);
        lm_errf(err, "out of memory");
        return NULL;
    }
    /* The gateway checks --max-body itself, so a 413 is recorded like any
     * answer; libevent's own cap (a megabyte above) only bounds memory. */
    evhttp_set_max_body_size(gw->http, o->max_body_bytes + (1 << 20));
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
lm_pool *lm_gateway_pool(lm_gateway *gw) { return gw->pool; }

int lm_gateway_load_config(lm_gateway *gw, const char *path, char *err) {
    return lm_serve_defaults_load(gw->defaults, gw->pool, path, err);
}
uint64_t lm_gateway_answered(const lm_gateway *gw) { return gw->answered; }

void lm_gateway_free(lm_gateway *gw) {
    if (!gw) return;
    /* The pool first: requests still waiting are answered (503) and recorded
     * while their connections exist; then the connections go. */
    lm_pool_free(gw->pool);
    if (gw->http) evhttp_free(gw->http);
    if (gw->sigint) event_free(gw->sigint);
    if (gw->sigterm) event_free(gw->sigterm);
    if (gw->drain) event_free(gw->drain);
    lm_serve_defaults_free(gw->defaults);
    free(gw);
}
