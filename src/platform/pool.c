/* pool.c -- services, their requests and queues, on one event loop. An
 * instance's life is in pool_instance.c, the autoscaler's in pool_scale.c. */
#include "platform/internal.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "functions/catalog.h"

static void on_sample(void *arg, const char *instance_id, uint64_t t_ns, const lm_usage *u) {
    lm_pool *p = arg;
    lm_record_sample(p->o.results, instance_id, t_ns, u);
}

lm_pool *lm_pool_new(struct event_base *base, const lm_pool_opts *o, char *err) {
    lm_pool *p = calloc(1, sizeof(*p));
    if (!p) {
        lm_errf(err, "out of memory");
        return NULL;
    }
    p->base = base;
    p->o = *o;
    lm_service_config_defaults(&p->defaults);
    p->reaper = lm_reaper_start(err);
    if (!p->reaper) {
        free(p);
        return NULL;
    }
    if (o->results && o->sample_ms > 0) {
        p->sampler = lm_sampler_start(o->sample_ms, on_sample, p, err);
        if (!p->sampler) {
            lm_reaper_free(p->reaper);
            free(p);
            return NULL;
        }
    }
    return p;
}

void lm_pool_set_defaults(lm_pool *p, const lm_service_config *cfg) { p->defaults = *cfg; }

int lm_pool_set_default_runtime(lm_pool *p, const char *fn, const char *runtime, char *err) {
    for (int i = 0; i < p->ndefaults; i++)
        if (strcmp(p->default_rt[i][0], fn) == 0) {
            snprintf(p->default_rt[i][1], sizeof(p->default_rt[i][1]), "%s", runtime);
            return LM_OK;
        }
    if (p->ndefaults == LM_POOL_MAX_DEFAULTS)
        return lm_errf(err, "at most %d default runtimes", LM_POOL_MAX_DEFAULTS);
    if (strlen(fn) >= 64 || strlen(runtime) >= 64)
        return lm_errf(err, "default runtime '%s' for '%s': name too long", runtime, fn);
    snprintf(p->default_rt[p->ndefaults][0], 64, "%s", fn);
    snprintf(p->default_rt[p->ndefaults][1], 64, "%s", runtime);
    p->ndefaults++;
    return LM_OK;
}

static const char *default_runtime(const lm_pool *p, const char *fn) {
    const char *any = "native";
    for (int i = 0; i < p->ndefaults; i++) {
        if (strcmp(p->default_rt[i][0], fn) == 0) return p->default_rt[i][1];
        if (strcmp(p->default_rt[i][0], "*") == 0) any = p->default_rt[i][1];
    }
    return any;
}

void lm__pool_event(lm_service *s, const char *kind, const char *instance_id, const char *detail) {
    lm_record_event(s->pool->o.results, s->id, instance_id, kind, detail);
}

void lm__pool_finish(lm_pool_req *r, int status, const lm_call_result *res, const char *instance_id,
                     const lm__req_usage *usage, const char *err) {
    lm_service *s = r->svc;
    if (r->timeout) event_free(r->timeout);
    lm_pool_outcome o = {.status = status,
                         .res = res,
                         .t = r->t,
                         .cold = r->cold,
                         .instance_id = instance_id,
                         .err = err,
                         .service_id = s->id,
                         .usage_measured = usage != NULL,
                         .phases = r->has_phases ? &r->phases : NULL,
                         .node = r->node};
    if (usage) {
        o.cpu_ns = usage->cpu_ns;
        o.mem_peak_bytes = usage->mem_peak_bytes;
    }
    s->pool->in_flight--;
    r->done(r->arg, &o);
    free(r->body);
    free(r);
}

void lm__pool_observe(lm_service *s) {
    if (s->kpa) lm_kpa_observe(s->kpa, lm_now_ns(), s->load + s->queued);
}

lm_pool_req *lm__pool_dequeue(lm_service *s) {
    lm_pool_req *r = s->queue_head;
    if (!r) return NULL;
    s->queue_head = r->next;
    if (!s->queue_head) s->queue_tail = NULL;
    s->queued--;
    r->next = NULL;
    if (r->timeout) evtimer_del(r->timeout);
    return r;
}

static pool_inst *starting_with_room(lm_service *s) {
    for (pool_inst *pi = s->instances; pi; pi = pi->next)
        if (!pi->ready && !pi->retiring && lm__inst_has_room(pi)) return pi;
    return NULL;
}

/* May this service start an instance for a waiting request by itself? */
static int may_start_for_request(const lm_service *s) {
    if (s->ninstances >= s->cfg.max_scale) return 0;
    return s->cfg.autoscaler == LM_AUTOSCALER_NONE || s->ninstances == 0;
}

void lm__pool_pump(lm_service *s) {
    char err[LM_ERRLEN];
    while (s->queue_head) {
        pool_inst *pi = s->queue_head->force_cold ? NULL : starting_with_room(s);
        if (pi) {
            lm__inst_assign(pi, lm__pool_dequeue(s));
        } else if (may_start_for_request(s) ||
                   (s->queue_head->force_cold && s->ninstances < s->cfg.max_scale)) {
            /* A forced-cold request starts its own instance as it would
             * have on submit, whatever the autoscaler says. */
            lm_pool_req *r = lm__pool_dequeue(s);
            if (!lm__inst_start(s, r, err)) lm__pool_finish(r, 502, NULL, NULL, NULL, err);
        } else {
            break;
        }
    }
    lm__pool_observe(s);
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
    lm__pool_observe(s);
    lm__pool_finish(r, 503, NULL, NULL, NULL, "timed out waiting for an instance");
}

/* r joins the queue's count and its wait is timed (from its first entry). */
static void start_waiting(lm_service *s, lm_pool_req *r) {
    if (!r->t.queued) r->t.queued = lm_now_ns();
    if (!r->timeout) r->timeout = evtimer_new(s->pool->base, on_queue_timeout, r);
    struct timeval tv = {s->cfg.queue_timeout_ms / 1000, (s->cfg.queue_timeout_ms % 1000) * 1000};
    if (r->timeout) evtimer_add(r->timeout, &tv);
    s->queued++;
}

static void enqueue(lm_service *s, lm_pool_req *r) {
    r->next = NULL;
    if (s->queue_tail)
        s->queue_tail->next = r;
    else
        s->queue_head = r;
    s->queue_tail = r;
    start_waiting(s, r);
}

void lm__pool_requeue_front(lm_service *s, lm_pool_req *head, lm_pool_req *tail) {
    if (!head) return;
    for (lm_pool_req *r = head; r; r = r->next) {
        r->cold = 0;
        r->t.cold_begin = r->t.cold_ready = r->t.acquired = r->t.dispatch = 0;
        start_waiting(s, r);
    }
    tail->next = s->queue_head;
    if (!s->queue_head) s->queue_tail = tail;
    s->queue_head = head;
}

/* The free ready instance with the least load, or NULL. */
static pool_inst *ready_with_room(lm_service *s, int only_idle) {
    pool_inst *best = NULL;
    for (pool_inst *pi = s->instances; pi; pi = pi->next)
        if (pi->ready && !pi->retiring && !pi->finishing && lm__inst_has_room(pi) &&
            (!only_idle || pi->load == 0) && (!best || pi->load < best->load))
            best = pi;
    return best;
}

void lm_pool_submit(lm_service *s, const char *body, size_t len, int force_cold,
                    uint64_t ingress_ns, lm_pool_done_fn done, void *arg) {
    lm_pool_req *r = calloc(1, sizeof(*r));
    char *copy = malloc(len + 1);
    s->pool->in_flight++;
    if (!r || !copy) {
        free(r);
        free(copy);
        lm_pool_outcome o = {.status = 503, .err = "out of memory", .service_id = s->id};
        o.t.ingress = ingress_ns;
        s->pool->in_flight--;
        done(arg, &o);
        return;
    }
    memcpy(copy, body, len);
    copy[len] = 0;
    r->svc = s;
    r->body = copy;
    r->len = len;
    r->force_cold = force_cold;
    r->done = done;
    r->arg = arg;
    r->t.ingress = ingress_ns;
    char err[LM_ERRLEN];
    if (force_cold) {
        /* A measured fresh start: retire a warm idle instance to make room. */
        pool_inst *idle = ready_with_room(s, 1);
        if (idle) {
            lm__pool_event(s, "evict", idle->inst.id, "{\"reason\":\"X-Lumos-Start: cold\"}");
            lm__inst_retire(idle, "forced-cold", 1000);
        }
        if (s->ninstances < s->cfg.max_scale) {
            if (!lm__inst_start(s, r, err)) lm__pool_finish(r, 502, NULL, NULL, NULL, err);
            lm__pool_observe(s);
            return;
        }
    } else {
        pool_inst *pi = ready_with_room(s, 0);
        if (!pi) pi = starting_with_room(s);
        if (pi) {
            lm__inst_assign(pi, r);
            lm__pool_observe(s);
            return;
        }
        if (may_start_for_request(s)) {
            int from_zero = s->ninstances == 0;
            if (!lm__inst_start(s, r, err)) lm__pool_finish(r, 502, NULL, NULL, NULL, err);
            lm__pool_observe(s);
            /* Knative's activator pokes the autoscaler on a scale from zero. */
            if (from_zero && s->kpa) lm__scale_tick(s);
            return;
        }
    }
    if (s->queued >= s->cfg.queue_max) {
        lm__pool_finish(r, 503, NULL, NULL, NULL, "the queue is full");
        return;
    }
    enqueue(s, r);
    lm__pool_observe(s);
}

static void record_service(lm_service *s) {
    if (!s->pool->o.results) return;
    char cfg[1024];
    lm_service_config_json(&s->cfg, cfg, sizeof(cfg));
    lm_record_service(s->pool->o.results, s->id, s->name, s->function, s->rt->name, cfg);
}

/* Starts instances up to min_scale. */
static void keep_min_scale(lm_service *s) {
    char err[LM_ERRLEN];
    while (s->ninstances < s->cfg.min_scale)
        if (!lm__inst_start(s, NULL, err)) {
            fprintf(stderr, "lumos serve: %s: %s\n", s->name, err);
            break;
        }
}

static lm_service *find_or_make(lm_pool *p, const char *name, const lm_service_config *cfg,
                                int reconfigure, char *err) {
    char fn[128], rt_name[64];
    const char *at = strchr(name, '@');
    if (at) {
        if ((size_t)(at - name) >= sizeof(fn) || strlen(at + 1) >= sizeof(rt_name)) {
            lm_errf(err, "service name '%.100s' is too long", name);
            return NULL;
        }
        snprintf(fn, sizeof(fn), "%.*s", (int)(at - name), name);
        snprintf(rt_name, sizeof(rt_name), "%s", at + 1);
    } else {
        if (strlen(name) >= sizeof(fn)) {
            lm_errf(err, "service name '%.100s' is too long", name);
            return NULL;
        }
        snprintf(fn, sizeof(fn), "%s", name);
        snprintf(rt_name, sizeof(rt_name), "%s", default_runtime(p, fn));
    }
    char full[sizeof(fn) + sizeof(rt_name) + 1];
    snprintf(full, sizeof(full), "%s@%s", fn, rt_name);
    for (int i = 0; i < p->nservices; i++) {
        lm_service *s = p->services[i];
        if (strcmp(s->name, full) != 0) continue;
        if (reconfigure && cfg) {
            lm_service_config old = s->cfg;
            s->cfg = *cfg;
            if (lm__scale_setup(s, err) != LM_OK) {
                s->cfg = old;
                lm__scale_setup(s, err);
                return NULL;
            }
            char json[1024];
            lm_service_config_json(&s->cfg, json, sizeof(json));
            lm__pool_event(s, "configure", NULL, json); /* the services row keeps the first */
            keep_min_scale(s);
            lm__pool_pump(s);
        }
        return s;
    }
    const lm_fn_info *info = lm_catalog_find(fn);
    if (!info) {
        lm_errf(err, "no function '%s' (see `lumos functions`)", fn);
        return NULL;
    }
    const lm_runtime *rt = lm_runtime_find(rt_name, err);
    if (!rt) return NULL;
    if (rt->available(rt, err) != LM_OK) return NULL;
    if (p->nservices == LM_POOL_MAX_SERVICES) {
        lm_errf(err, "at most %d services", LM_POOL_MAX_SERVICES);
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
    s->cfg = cfg ? *cfg : p->defaults;
    s->id = p->o.service_id_base + (int64_t)p->nservices + 1;
    lm_metrics_service_init(&s->m, s->name, s->function, rt->name, NULL);
    if (lm__scale_setup(s, err) != LM_OK) {
        free(s);
        return NULL;
    }
    p->services[p->nservices++] = s;
    record_service(s);
    keep_min_scale(s);
    lm__inst_park(s);
    return s;
}

lm_service *lm_pool_service(lm_pool *p, const char *name, const lm_service_config *cfg, char *err) {
    return find_or_make(p, name, cfg, 0, err);
}

lm_service *lm_pool_deploy(lm_pool *p, const char *name, const lm_service_config *cfg, char *err) {
    return find_or_make(p, name, cfg, 1, err);
}

const char *lm_service_name(const lm_service *s) { return s->name; }
int64_t lm_service_id(const lm_service *s) { return s->id; }
lm_metrics_service *lm_service_metrics(lm_service *s) { return &s->m; }
int lm_pool_in_flight(const lm_pool *p) { return p->in_flight; }

static void count_states(const lm_service *s, int *idle, int *busy, int *starting) {
    *idle = *busy = *starting = 0;
    for (const pool_inst *pi = s->instances; pi; pi = pi->next) {
        if (!pi->ready)
            ++*starting;
        else if (pi->load)
            ++*busy;
        else
            ++*idle;
    }
}

void lm_pool_describe(const lm_pool *p, struct evbuffer *out) {
    evbuffer_add_printf(out, "[");
    for (int i = 0; i < p->nservices; i++) {
        const lm_service *s = p->services[i];
        int idle, busy, starting;
        count_states(s, &idle, &busy, &starting);
        char cfg[1024];
        lm_service_config_json(&s->cfg, cfg, sizeof(cfg));
        evbuffer_add_printf(out,
                            "%s{\"name\":\"%s\",\"id\":%lld,\"function\":\"%s\",\"runtime\":\"%s\","
                            "\"instances\":%d,\"idle\":%d,\"busy\":%d,\"starting\":%d,"
                            "\"queued\":%d,\"served\":%llu,\"cold_starts\":%llu,"
                            "\"desired\":%d,\"panic\":%s,"
                            "\"max_scale\":%d,\"min_scale\":%d,\"idle_timeout_ms\":%d,"
                            "\"config\":%s}",
                            i ? "," : "", s->name, (long long)s->id, s->function, s->rt->name,
                            s->ninstances, idle, busy, starting, s->queued,
                            (unsigned long long)s->served, (unsigned long long)s->cold_starts,
                            s->kpa ? s->decision.desired : -1, s->decision.panic ? "true" : "false",
                            s->cfg.max_scale, s->cfg.min_scale, s->cfg.idle_timeout_ms, cfg);
    }
    evbuffer_add_printf(out, "]\n");
}

const lm_metrics_service *const *lm_pool_metrics(lm_pool *p, int *n) {
    for (int i = 0; i < p->nservices; i++) {
        lm_service *s = p->services[i];
        count_states(s, &s->m.instances_idle, &s->m.instances_busy, &s->m.instances_starting);
        s->m.queue_depth = s->queued;
        s->m.desired_instances = s->kpa ? s->decision.desired : s->ninstances;
        s->m.panic = s->decision.panic;
        uint64_t cpu = s->cpu_ns_gone, mem = 0;
        for (pool_inst *pi = s->instances; pi; pi = pi->next) {
            lm_usage u;
            if (pi->tel && lm_telemetry_sample(pi->tel, &u, NULL) == LM_OK) {
                cpu += u.cpu_user_ns + u.cpu_system_ns;
                mem += u.mem_current_bytes;
            } else if (pi->have_last) {
                cpu += pi->last_cpu_ns;
            }
        }
        s->m.cpu_seconds_total = (double)cpu / 1e9;
        s->m.memory_bytes = mem;
        p->view[i] = &s->m;
    }
    *n = p->nservices;
    return p->view;
}

void lm_pool_free(lm_pool *p) {
    if (!p) return;
    for (int i = 0; i < p->nservices; i++) {
        lm_service *s = p->services[i];
        lm__scale_free(s);
        lm_pool_req *r;
        while ((r = lm__pool_dequeue(s)))
            lm__pool_finish(r, 503, NULL, NULL, NULL, "the platform is shutting down");
        while (s->instances) {
            lm__inst_retire(s->instances, "shutdown", 1000);
            /* What it held went back to the queue: fail it. */
            while ((r = lm__pool_dequeue(s)))
                lm__pool_finish(r, 503, NULL, NULL, NULL, "the platform is shutting down");
        }
    }
    lm_instances_unpark();     /* the launchers parked ahead of need */
    lm_reaper_free(p->reaper); /* waits until every instance is gone */
    lm_sampler_stop(p->sampler);
    for (int i = 0; i < p->nservices; i++)
        free(p->services[i]);
    free(p);
}

/* ---- nodes (volatility) ------------------------------------------------ */

static lm_node *find_node(lm_pool *p, const char *name, char *err) {
    for (int i = 0; i < p->o.nnodes; i++)
        if (strcmp(p->o.nodes[i].p.name, name) == 0) return &p->o.nodes[i];
    lm_errf(err, "no node '%s' in this platform (%d node(s); see GET /nodes)", name, p->o.nnodes);
    return NULL;
}

/* Records a node event (kind, {"node":...,"instances":N}) when results are kept. */
static void node_event(lm_pool *p, const char *kind, const lm_node *n, int instances) {
    char detail[256];
    snprintf(detail, sizeof(detail), "{\"node\":\"%s\",\"netns\":\"%s\",\"instances\":%d}",
             n->p.name, n->netns, instances);
    lm_record_event(p->o.results, LM_RESULTS_NULL, NULL, kind, detail);
}

int lm_pool_node_remove(lm_pool *p, const char *name, int kill_them, char *err) {
    lm_node *n = find_node(p, name, err);
    if (!n) return LM_ERR;
    int idx = (int)(n - p->o.nodes), count = 0;
    if (kill_them) {
        n->removed = 1;
        /* As a device that dies: each instance's channel ends, and the pool
         * answers and re-places as for any crash (pool_instance.c). */
        for (int k = 0; k < p->nservices; k++)
            for (pool_inst *q = p->services[k]->instances; q; q = q->next)
                if (q->node == idx && q->inst.child.pid > 0) {
                    kill(q->inst.child.pid, SIGKILL);
                    count++;
                }
    } else if (lm_node_set_link(n, 1, err) != LM_OK) {
        return LM_ERR;
    }
    node_event(p, kill_them ? "node_removed" : "node_cut", n, count);
    return LM_OK;
}

int lm_pool_node_restore(lm_pool *p, const char *name, char *err) {
    lm_node *n = find_node(p, name, err);
    if (!n) return LM_ERR;
    if (n->cut && lm_node_set_link(n, 0, err) != LM_OK) return LM_ERR;
    n->removed = 0;
    node_event(p, "node_restored", n, 0);
    /* Frames its cut held go on now, at TCP's next retransmission. */
    int idx = (int)(n - p->o.nodes);
    for (int k = 0; k < p->nservices; k++)
        for (pool_inst *q = p->services[k]->instances; q; q = q->next)
            if (q->node == idx) lm_conn_link_changed(q->conn);
    /* Requests that waited for a node may start now. */
    for (int k = 0; k < p->nservices; k++)
        lm__pool_pump(p->services[k]);
    return LM_OK;
}

void lm_pool_describe_nodes(const lm_pool *p, struct evbuffer *out) {
    evbuffer_add_printf(out, "[");
    for (int i = 0; i < p->o.nnodes; i++) {
        int count = 0;
        for (int k = 0; k < p->nservices; k++)
            for (pool_inst *q = p->services[k]->instances; q; q = q->next)
                count += q->node == i;
        char text[4096];
        lm_node_json(&p->o.nodes[i], text, sizeof(text));
        size_t len = strlen(text);
        if (len && text[len - 1] == '}') text[len - 1] = 0;
        evbuffer_add_printf(out, "%s%s,\"instances\":%d}", i ? "," : "", text, count);
    }
    evbuffer_add_printf(out, "]\n");
}
