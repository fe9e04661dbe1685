/* pool.c -- services and instance pools on one event loop. */
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "builder/catalog.h"

#define MAX_SERVICES 64
#define MAX_INSTANCES 64

typedef enum { INST_STARTING, INST_IDLE, INST_BUSY } inst_state;

typedef struct pool_inst {
    lm_instance inst;
    lm_conn *conn;
    inst_state state;
    lm_service *svc;
    lm_pool_req *req;   /* the request it serves, or is starting for */
    struct event *idle; /* stops it when idle too long */
    struct pool_inst *next;
} pool_inst;

struct lm_pool_req {
    lm_service *svc;
    char *body;
    size_t len;
    int force_cold, cold;
    lm_req_times t;
    lm_pool_done_fn done;
    void *arg;
    struct event *timeout; /* while queued */
    struct lm_pool_req *next;
};

struct lm_service {
    char name[200];
    const char *function; /* from the catalog */
    const lm_runtime *rt;
    lm_service_config cfg;
    lm_pool *pool;
    pool_inst *instances;
    int ninstances;
    lm_pool_req *queue_head, *queue_tail;
    int queued;
    uint64_t served, cold_starts;
};

struct lm_pool {
    struct event_base *base;
    lm_store *store;
    const char *artifacts, *data_dir;
    lm_service *services[MAX_SERVICES];
    int nservices;
};

void lm_service_config_defaults(lm_service_config *c) {
    memset(c, 0, sizeof(*c));
    c->max_scale = 4;
    c->idle_timeout_ms = 60000;
    c->queue_max = 64;
    c->queue_timeout_ms = 30000;
    c->request_timeout_ms = 60000;
}

lm_pool *lm_pool_new(struct event_base *base, lm_store *store, const char *artifacts,
                     const char *data_dir) {
    lm_pool *p = calloc(1, sizeof(*p));
    if (!p) return NULL;
    p->base = base;
    p->store = store;
    p->artifacts = artifacts;
    p->data_dir = data_dir;
    return p;
}

static void finish(lm_pool_req *r, int status, const lm_call_result *res, const char *instance_id,
                   const char *err) {
    if (r->timeout) event_free(r->timeout);
    r->done(r->arg, status, res, &r->t, r->cold, instance_id, err);
    free(r->body);
    free(r);
}

static void enqueue(lm_service *s, lm_pool_req *r);
static void dispatch(pool_inst *pi, lm_pool_req *r);
static void pump(lm_service *s);

/* Stops pi and forgets it; grace_ms as lm_instance_stop (0 for a failed
 * instance: it is killed at once rather than waited for). */
static void stop_instance(pool_inst *pi, int grace_ms) {
    lm_service *s = pi->svc;
    for (pool_inst **pp = &s->instances; *pp; pp = &(*pp)->next)
        if (*pp == pi) {
            *pp = pi->next;
            break;
        }
    s->ninstances--;
    lm_conn_free(pi->conn);
    if (pi->idle) event_free(pi->idle);
    lm_instance_stop(&pi->inst, grace_ms);
    free(pi);
}

static void on_idle_timeout(evutil_socket_t fd, short what, void *arg) {
    pool_inst *pi = arg;
    (void)fd;
    (void)what;
    if (pi->state == INST_IDLE && pi->svc->ninstances > pi->svc->cfg.min_scale)
        stop_instance(pi, 1000);
}

/* The instance finished a request or its start-up: serve the queue, or
 * wait idle. */
static void became_idle(pool_inst *pi) {
    lm_service *s = pi->svc;
    pi->state = INST_IDLE;
    pi->req = NULL;
    if (s->queue_head) {
        lm_pool_req *r = s->queue_head;
        s->queue_head = r->next;
        if (!s->queue_head) s->queue_tail = NULL;
        s->queued--;
        dispatch(pi, r);
        return;
    }
    if (s->cfg.idle_timeout_ms == 0 && s->ninstances > s->cfg.min_scale) {
        stop_instance(pi, 1000);
        return;
    }
    struct timeval tv = {s->cfg.idle_timeout_ms / 1000, (s->cfg.idle_timeout_ms % 1000) * 1000};
    evtimer_add(pi->idle, &tv);
}

static void on_result(lm_conn *c, void *arg, const lm_call_result *res, const char *err) {
    pool_inst *pi = arg;
    lm_pool_req *r = pi->req;
    (void)c;
    r->t.result = lm_now_ns();
    pi->svc->served++;
    if (err) {
        /* Crashed or hung: the instance is gone; a hang is killed. */
        int hung = strstr(err, "in time") != NULL;
        char id[32];
        snprintf(id, sizeof(id), "%s", pi->inst.id);
        lm_service *s = pi->svc;
        stop_instance(pi, 0);
        finish(r, hung ? 504 : 502, NULL, id, err);
        pump(s);
        return;
    }
    finish(r, res->status, res, pi->inst.id, NULL);
    became_idle(pi);
}

static void dispatch(pool_inst *pi, lm_pool_req *r) {
    char err[LM_ERRLEN];
    if (r->timeout) evtimer_del(r->timeout);
    evtimer_del(pi->idle);
    pi->state = INST_BUSY;
    pi->req = r;
    r->t.acquired = r->t.acquired ? r->t.acquired : lm_now_ns();
    r->t.dispatch = lm_now_ns();
    if (lm_conn_invoke(pi->conn, r->body, r->len, pi->svc->cfg.request_timeout_ms, on_result, pi,
                       err) != LM_OK) {
        lm_service *s = pi->svc;
        stop_instance(pi, 0);
        finish(r, 502, NULL, NULL, err);
        pump(s);
    }
}

static void on_ready(lm_conn *c, void *arg, uint64_t ready_ns, const char *err) {
    pool_inst *pi = arg;
    lm_pool_req *r = pi->req;
    lm_service *s = pi->svc;
    (void)c;
    if (err) {
        stop_instance(pi, 0);
        if (r) finish(r, 502, NULL, NULL, err);
        pump(s);
        return;
    }
    if (r) {
        r->t.cold_ready = ready_ns;
        r->t.acquired = ready_ns;
        dispatch(pi, r);
    } else {
        became_idle(pi);
    }
}

/* Starts an instance; r (if not NULL) is bound to it and served first. */
static int start_instance(lm_service *s, lm_pool_req *r, char *err) {
    pool_inst *pi = calloc(1, sizeof(*pi));
    if (!pi) return lm_errf(err, "out of memory");
    pi->svc = s;
    pi->state = INST_STARTING;
    pi->req = r;
    lm_start_opts o = {.artifacts = s->pool->artifacts,
                       .data_dir = s->pool->data_dir,
                       .stderr_fd = LM_STDERR_CAPTURE,
                       .memory_limit = s->cfg.memory_limit};
    if (r) {
        r->cold = 1;
        r->t.cold_begin = lm_now_ns();
    }
    if (lm_instance_start(s->rt, s->function, &o, &pi->inst, err) != LM_OK) {
        free(pi);
        return LM_ERR;
    }
    pi->idle = evtimer_new(s->pool->base, on_idle_timeout, pi);
    pi->conn = lm_conn_new(s->pool->base, &pi->inst, s->pool->store, s->cfg.request_timeout_ms,
                           on_ready, pi, err);
    if (!pi->conn || !pi->idle) {
        if (pi->idle) event_free(pi->idle);
        lm_instance_stop(&pi->inst, 0);
        free(pi);
        return LM_ERR;
    }
    pi->next = s->instances;
    s->instances = pi;
    s->ninstances++;
    s->cold_starts++;
    return LM_OK;
}

/* Gives waiting requests to new instances while the pool may grow. */
static void pump(lm_service *s) {
    while (s->queue_head && s->ninstances < s->cfg.max_scale) {
        lm_pool_req *r = s->queue_head;
        s->queue_head = r->next;
        if (!s->queue_head) s->queue_tail = NULL;
        s->queued--;
        if (r->timeout) evtimer_del(r->timeout);
        char err[LM_ERRLEN];
        if (start_instance(s, r, err) != LM_OK) finish(r, 502, NULL, NULL, err);
    }
}

static void on_queue_timeout(evutil_socket_t fd, short what, void *arg) {
    lm_pool_req *r = arg;
    lm_service *s = r->svc;
    (void)fd;
    (void)what;
    lm_pool_req **pp = &s->queue_head, *prev = NULL;
    for (; *pp; prev = *pp, pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            if (s->queue_tail == r) s->queue_tail = prev;
            s->queued--;
            break;
        }
    finish(r, 503, NULL, NULL, "timed out waiting for an instance");
}

static void enqueue(lm_service *s, lm_pool_req *r) {
    r->t.queued = lm_now_ns();
    r->next = NULL;
    if (s->queue_tail)
        s->queue_tail->next = r;
    else
        s->queue_head = r;
    s->queue_tail = r;
    s->queued++;
    r->timeout = evtimer_new(s->pool->base, on_queue_timeout, r);
    struct timeval tv = {s->cfg.queue_timeout_ms / 1000, (s->cfg.queue_timeout_ms % 1000) * 1000};
    if (r->timeout) evtimer_add(r->timeout, &tv);
}

void lm_pool_submit(lm_service *s, const char *body, size_t len, int force_cold,
                    uint64_t ingress_ns, lm_pool_done_fn done, void *arg) {
    lm_pool_req *r = calloc(1, sizeof(*r));
    char *copy = malloc(len + 1);
    if (!r || !copy) {
        free(r);
        free(copy);
        lm_req_times t = {ingress_ns, 0, 0, 0, 0, 0, 0};
        done(arg, 503, NULL, &t, 0, NULL, "out of memory");
        return;
    }
    memcpy(copy, body, len);
    r->svc = s;
    r->body = copy;
    r->len = len;
    r->force_cold = force_cold;
    r->done = done;
    r->arg = arg;
    r->t.ingress = ingress_ns;
    char err[LM_ERRLEN];
    pool_inst *idle = NULL;
    for (pool_inst *pi = s->instances; pi; pi = pi->next)
        if (pi->state == INST_IDLE) idle = pi;
    if (force_cold && idle) {
        /* A measured fresh start: retire a warm instance to make room. */
        stop_instance(idle, 1000);
        idle = NULL;
    }
    if (idle && !force_cold) {
        dispatch(idle, r);
        return;
    }
    if (s->ninstances < s->cfg.max_scale) {
        if (start_instance(s, r, err) != LM_OK) finish(r, 502, NULL, NULL, err);
        return;
    }
    if (s->queued >= s->cfg.queue_max) {
        finish(r, 503, NULL, NULL, "the queue is full");
        return;
    }
    enqueue(s, r);
}

lm_service *lm_pool_service(lm_pool *p, const char *name, const lm_service_config *cfg, char *err) {
    char fn[128], rt_name[64] = "native";
    const char *at = strchr(name, '@');
    if (at) {
        snprintf(fn, sizeof(fn), "%.*s", (int)(at - name), name);
        snprintf(rt_name, sizeof(rt_name), "%s", at + 1);
    } else {
        snprintf(fn, sizeof(fn), "%s", name);
    }
    char full[sizeof(fn) + sizeof(rt_name) + 1];
    snprintf(full, sizeof(full), "%s@%s", fn, rt_name);
    for (int i = 0; i < p->nservices; i++)
        if (strcmp(p->services[i]->name, full) == 0) return p->services[i];
    const lm_fn_info *info = lm_catalog_find(fn);
    if (!info) {
        lm_errf(err, "no function '%s' (see `lumos functions`)", fn);
        return NULL;
    }
    const lm_runtime *rt = lm_runtime_find(rt_name, err);
    if (!rt) return NULL;
    if (rt->available(rt, err) != LM_OK) return NULL;
    if (p->nservices == MAX_SERVICES) {
        lm_errf(err, "at most %d services", MAX_SERVICES);
        return NULL;
    }
    lm_service *s = calloc(1, sizeof(*s));
    if (!s) {
        lm_errf(err, "out of memory");
        return NULL;
    }
    snprintf(s->name, sizeof(s->name), "%s", full);
    s->function = info->name;
    s->rt = rt;
    s->pool = p;
    if (cfg)
        s->cfg = *cfg;
    else
        lm_service_config_defaults(&s->cfg);
    p->services[p->nservices++] = s;
    return s;
}

void lm_pool_describe(const lm_pool *p, struct evbuffer *out) {
    evbuffer_add_printf(out, "[");
    for (int i = 0; i < p->nservices; i++) {
        const lm_service *s = p->services[i];
        int idle = 0, busy = 0, starting = 0;
        for (const pool_inst *pi = s->instances; pi; pi = pi->next) {
            idle += pi->state == INST_IDLE;
            busy += pi->state == INST_BUSY;
            starting += pi->state == INST_STARTING;
        }
        evbuffer_add_printf(out,
                            "%s{\"name\":\"%s\",\"function\":\"%s\",\"runtime\":\"%s\","
                            "\"instances\":%d,\"idle\":%d,\"busy\":%d,\"starting\":%d,"
                            "\"queued\":%d,\"served\":%llu,\"cold_starts\":%llu,"
                            "\"max_scale\":%d,\"min_scale\":%d,\"idle_timeout_ms\":%d}",
                            i ? "," : "", s->name, s->function, s->rt->name, s->ninstances, idle,
                            busy, starting, s->queued, (unsigned long long)s->served,
                            (unsigned long long)s->cold_starts, s->cfg.max_scale, s->cfg.min_scale,
                            s->cfg.idle_timeout_ms);
    }
    evbuffer_add_printf(out, "]\n");
}

void lm_pool_free(lm_pool *p) {
    if (!p) return;
    for (int i = 0; i < p->nservices; i++) {
        lm_service *s = p->services[i];
        while (s->queue_head) {
            lm_pool_req *r = s->queue_head;
            s->queue_head = r->next;
            finish(r, 503, NULL, NULL, "the platform is shutting down");
        }
        while (s->instances) {
            pool_inst *pi = s->instances;
            lm_pool_req *r = pi->req;
            stop_instance(pi, 0);
            if (r) finish(r, 503, NULL, NULL, "the platform is shutting down");
        }
        free(s);
    }
    free(p);
}
