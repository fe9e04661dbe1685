/* pool_instance.c -- one instance's life in a pool: started through its
 * runtime, READY, requests one at a time with the CPU time and peak memory
 * of each read from its cgroup at the request's end, and its end (idle,
 * scaled down, crashed, killed by the OOM killer, hung), recorded in the
 * results store. Stopping happens off the loop (reaper.c). */
#include "platform/internal.h"
#include "platform/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lm__inst_has_room(const pool_inst *pi) { return pi->load < pi->svc->cfg.container_concurrency; }

static lm_results *db_of(const pool_inst *pi) { return pi->svc->pool->o.results; }

/* On the reaper's thread: the instance is gone. */
static void on_reaped(void *arg, const lm_instance *inst, int status, uint64_t stop_ns) {
    lm_record_instance_reaped(arg, inst->id, status, stop_ns);
}

/* Marks a request's end (or READY) on the instance's cgroup: the CPU total
 * and the memory peak, then a peak reset, so the next request's peak is its
 * own. u gets the request's share when there was a mark before it. */
static int read_usage(pool_inst *pi, lm__req_usage *u) {
    uint64_t cpu, peak;
    if (!pi->tel || lm_telemetry_mark(pi->tel, &cpu, &peak, NULL) != LM_OK) return 0;
    int measured = pi->have_last;
    if (measured) {
        u->cpu_ns = cpu > pi->last_cpu_ns ? cpu - pi->last_cpu_ns : 0;
        u->mem_peak_bytes = peak;
    }
    pi->last_cpu_ns = cpu;
    pi->have_last = 1;
    return measured;
}

static void dispatch(pool_inst *pi);
static void became_free(pool_inst *pi);

static lm_pool_req *pop_head(pool_inst *pi) {
    lm_pool_req *r = pi->head;
    if (!r) return NULL;
    pi->head = r->next;
    if (!pi->head) pi->tail = NULL;
    r->next = NULL;
    pi->load--;
    pi->svc->load--;
    return r;
}

/* Why an instance that failed ended, for its record and /metrics. */
static const char *failure_reason(pool_inst *pi, int hung, int *metric) {
    if (lm_cgroup_oom_kills(&pi->inst.cgroup) > 0) {
        *metric = LM_METRICS_FAIL_OOM;
        return "oom";
    }
    if (hung) {
        *metric = LM_METRICS_FAIL_TIMEOUT;
        return "timeout";
    }
    if (!pi->ready) {
        *metric = LM_METRICS_FAIL_START;
        return "start-failed";
    }
    *metric = LM_METRICS_FAIL_CRASH;
    return "crash";
}

/* The instance died, hung or broke its channel: record why, answer the
 * request it was serving (502, or 504 when it hung), put the others back in
 * the queue, and let the queue start a replacement. */
static void failed(pool_inst *pi, const char *err, int hung) {
    lm_service *s = pi->svc;
    int metric;
    const char *reason = failure_reason(pi, hung, &metric);
    s->m.instance_failures[metric]++;
    char detail[LM_ERRLEN + 64], id[32];
    snprintf(id, sizeof(id), "%s", pi->inst.id);
    lm_json_quote(detail, sizeof(detail), err);
    char event[LM_ERRLEN + 128];
    snprintf(event, sizeof(event), "{\"reason\":\"%s\",\"message\":%s}", reason, detail);
    lm__pool_event(s, reason, id, event);
    lm__req_usage delta;
    int measured = pi->in_flight ? read_usage(pi, &delta) : 0;
    lm_pool_req *r = NULL;
    if (pi->in_flight || !pi->ready) {
        r = pop_head(pi);
        if (r) r->t.result = lm_now_ns();
        if (r && pi->in_flight) s->served++;
    }
    pi->in_flight = 0;
    int start_failed = !pi->ready;
    /* Requests waiting for a start that failed fail too (a retry could loop
     * for ever); those waiting behind a request that crashed go back. */
    lm_pool_req *rest = NULL;
    if (start_failed) {
        rest = pi->head;
        pi->head = pi->tail = NULL;
        s->load -= pi->load;
        pi->load = 0;
    }
    lm__inst_retire(pi, reason, 0);
    if (r) lm__pool_finish(r, hung ? 504 : 502, NULL, id, measured ? &delta : NULL, err);
    while (rest) {
        lm_pool_req *next = rest->next;
        rest->t.result = lm_now_ns();
        lm__pool_finish(rest, 502, NULL, id, NULL, err);
        rest = next;
    }
    lm__pool_pump(s);
}

static void on_result(lm_conn *c, void *arg, const lm_call_result *res, const char *err) {
    pool_inst *pi = arg;
    (void)c;
    if (err) {
        failed(pi, err, strstr(err, "in time") != NULL);
        return;
    }
    lm_service *s = pi->svc;
    lm_pool_req *r = pop_head(pi);
    r->t.result = res->result_ns;
    pi->in_flight = 0;
    s->served++;
    lm__req_usage delta;
    int measured = read_usage(pi, &delta);
    pi->finishing = 1;
    lm__pool_finish(r, res->status, res, pi->inst.id, measured ? &delta : NULL, NULL);
    pi->finishing = 0;
    lm__pool_observe(s);
    became_free(pi);
}

static void dispatch(pool_inst *pi) {
    char err[LM_ERRLEN];
    lm_pool_req *r = pi->head;
    evtimer_del(pi->idle);
    pi->in_flight = 1;
    uint64_t now = lm_now_ns();
    if (!r->t.acquired) r->t.acquired = now;
    r->t.dispatch = now;
    if (lm_conn_invoke(pi->conn, r->body, r->len, pi->svc->cfg.request_timeout_ms, on_result, pi,
                       err) != LM_OK) {
        /* The instance died while idle: the request never reached it, so it
         * goes back to the queue and the pool starts a replacement. */
        pi->in_flight = 0;
        failed(pi, err, 0);
    }
}

void lm__inst_assign(pool_inst *pi, lm_pool_req *r) {
    lm_service *s = pi->svc;
    r->next = NULL;
    if (pi->tail)
        pi->tail->next = r;
    else
        pi->head = r;
    pi->tail = r;
    pi->load++;
    s->load++;
    r->node = pi->node >= 0 ? s->pool->o.nodes[pi->node].p.name : NULL;
    uint64_t now = lm_now_ns();
    if (!pi->ready) {
        /* It waits for this instance's start: a cold request. */
        r->cold = 1;
        if (!r->t.cold_begin) r->t.cold_begin = now > pi->decided_ns ? now : pi->decided_ns;
        return;
    }
    r->t.acquired = now;
    if (r->t.queued) lm_histogram_observe(&s->m.queue_wait, (double)(now - r->t.queued) / 1e9);
    evtimer_del(pi->idle);
    if (!pi->in_flight) dispatch(pi);
}

static void on_idle_timeout(evutil_socket_t fd, short what, void *arg) {
    pool_inst *pi = arg;
    (void)fd;
    (void)what;
    if (pi->ready && pi->load == 0 && pi->svc->ninstances > pi->svc->cfg.min_scale)
        lm__inst_retire(pi, "idle", 1000);
}

/* The instance can take more: the queue first, then idle handling. */
static void became_free(pool_inst *pi) {
    lm_service *s = pi->svc;
    if (pi->retiring && pi->load == 0) {
        lm__inst_retire(pi, "scale-down", 1000);
        lm__pool_pump(s);
        return;
    }
    while (!pi->retiring && lm__inst_has_room(pi) && s->queue_head) {
        if (s->queue_head->force_cold) {
            if (pi->load > 0) break;
            /* The waiting request wants a fresh instance: this one makes room. */
            lm__pool_event(s, "evict", pi->inst.id, "{\"reason\":\"X-Lumos-Start: cold\"}");
            lm__inst_retire(pi, "forced-cold", 1000);
            lm__pool_pump(s);
            return;
        }
        lm__inst_assign(pi, lm__pool_dequeue(s));
    }
    lm__pool_observe(s);
    if (pi->load > 0) {
        /* Requests it already holds (container_concurrency > 1) go next. */
        if (!pi->in_flight) dispatch(pi);
        return;
    }
    if (s->cfg.idle_timeout_ms == 0 && s->ninstances > s->cfg.min_scale) {
        lm__inst_retire(pi, "idle", 1000);
        return;
    }
    struct timeval tv = {s->cfg.idle_timeout_ms / 1000, (s->cfg.idle_timeout_ms % 1000) * 1000};
    evtimer_add(pi->idle, &tv);
}

static void on_ready(lm_conn *c, void *arg, uint64_t ready_ns, const char *err) {
    pool_inst *pi = arg;
    lm_service *s = pi->svc;
    (void)c;
    if (err) {
        failed(pi, err, strstr(err, "in time") != NULL);
        return;
    }
    pi->ready = 1;
    lm_record_instance_ready(db_of(pi), &pi->inst, pi->decided_ns, ready_ns);
    lm_cold_phases ph;
    int split = lm_instance_phases(&pi->inst, &ph) == LM_OK;
    lm_histogram_observe(&s->m.cold_start, (double)(ready_ns - pi->decided_ns) / 1e9);
    if (s->pool->o.telemetry) {
        char err2[LM_ERRLEN];
        pi->tel = lm_telemetry_open(&pi->inst.cgroup, pi->inst.child.pid, err2);
        lm__req_usage ignored;
        read_usage(pi, &ignored); /* the baseline: start-up CPU is the cold start's */
    }
    if (s->pool->sampler)
        lm_sampler_add(s->pool->sampler, pi->inst.id, &pi->inst.cgroup, pi->inst.child.pid);
    for (lm_pool_req *r = pi->head; r; r = r->next) {
        r->t.cold_ready = ready_ns;
        r->t.acquired = ready_ns;
        r->has_phases = split;
        if (split) r->phases = ph;
    }
    if (pi->head)
        dispatch(pi);
    else
        became_free(pi);
    /* A quiet moment: the next start's launcher places itself now. */
    lm__inst_park(s);
}

void lm__inst_park(lm_service *s) {
    /* A start on a node makes its group under the node's: none is parked. */
    if (s->rt->own_cgroup || s->pool->o.nnodes) return;
    lm_start_opts o = {.stderr_fd = LM_STDERR_CAPTURE, .memory_limit = s->cfg.memory_limit};
    /* Best effort: without launchers (no cgroups here) a start places itself. */
    lm_instances_park(&o, LM_POOL_PARKED, NULL);
}

/* The node a new instance of s goes on: the policy's choice among the
 * available nodes, counting every service's instances; -1 with err when
 * the pool has nodes and none is available. */
static int choose_node(lm_service *s, char *err) {
    lm_pool *p = s->pool;
    lm_place_node pn[LM_NODE_MAX_PROFILES];
    int n = p->o.nnodes < LM_NODE_MAX_PROFILES ? p->o.nnodes : LM_NODE_MAX_PROFILES;
    for (int i = 0; i < n; i++) {
        const lm_node *nd = &p->o.nodes[i];
        pn[i] = (lm_place_node){.p = &nd->p, .available = nd->up && !nd->removed && !nd->cut};
    }
    for (int k = 0; k < p->nservices; k++)
        for (pool_inst *q = p->services[k]->instances; q; q = q->next)
            if (q->node >= 0 && q->node < n) pn[q->node].instances++;
    int i = lm_place(p->o.placement, pn, n, s->function);
    if (i < 0) lm_errf(err, "no node is available to place an instance of %s on", s->name);
    return i;
}

pool_inst *lm__inst_start(lm_service *s, lm_pool_req *r, char *err) {
    pool_inst *pi = calloc(1, sizeof(*pi));
    if (!pi) {
        lm_errf(err, "out of memory");
        return NULL;
    }
    lm_pool *p = s->pool;
    pi->svc = s;
    pi->node = -1;
    pi->decided_ns = lm_now_ns();
    lm_start_opts o = {.artifacts = p->o.artifacts,
                       .data_dir = p->o.data_dir,
                       .stderr_fd = LM_STDERR_CAPTURE,
                       .memory_limit = s->cfg.memory_limit,
                       .start_ns = pi->decided_ns};
    if (p->o.nnodes > 0) {
        if ((pi->node = choose_node(s, err)) < 0) {
            free(pi);
            s->m.instance_failures[LM_METRICS_FAIL_START]++;
            return NULL;
        }
        lm_node_start_opts(&p->o.nodes[pi->node], &o);
        o.node = p->o.nodes[pi->node].p.name;
    }
    if (lm_instance_start(s->rt, s->function, &o, &pi->inst, err) != LM_OK) {
        free(pi);
        s->m.instance_failures[LM_METRICS_FAIL_START]++;
        return NULL;
    }
    pi->idle = evtimer_new(p->base, on_idle_timeout, pi);
    /* On a node with a link: its storage goes over the link's store, its
     * frames through the link's model (link.h). */
    lm_link *link = pi->node >= 0 && p->o.links ? p->o.links[pi->node] : NULL;
    lm_store *store = link ? lm_link_store(link) : p->o.store;
    pi->conn = lm_conn_new(p->base, &pi->inst, store, s->cfg.request_timeout_ms, on_ready, pi, err);
    if (link && pi->conn) {
        static uint64_t seq;
        if (!(pi->link = lm_link_conn_new(link, seq++))) {
            lm_conn_free(pi->conn);
            pi->conn = NULL;
            lm_errf(err, "out of memory");
        } else {
            lm_conn_set_link(pi->conn, lm_link_conn_frame, pi->link);
        }
    }
    if (!pi->conn || !pi->idle) {
        if (pi->idle) event_free(pi->idle);
        lm_conn_free(pi->conn);
        lm_instance_stop(&pi->inst, 0);
        free(pi);
        return NULL;
    }
    pi->next = s->instances;
    s->instances = pi;
    s->ninstances++;
    s->cold_starts++;
    s->m.cold_starts++;
    lm_record_instance_start(db_of(pi), &pi->inst, s->id, pi->decided_ns);
    if (r) lm__inst_assign(pi, r);
    return pi;
}

void lm__inst_retire(pool_inst *pi, const char *reason, int grace_ms) {
    lm_service *s = pi->svc;
    lm_pool *p = s->pool;
    for (pool_inst **pp = &s->instances; *pp; pp = &(*pp)->next)
        if (*pp == pi) {
            *pp = pi->next;
            break;
        }
    s->ninstances--;
    /* What it still held goes back to the head of the queue, in order. */
    s->load -= pi->load;
    lm__pool_requeue_front(s, pi->head, pi->tail);
    pi->head = pi->tail = NULL;
    pi->load = 0;
    lm_conn_free(pi->conn);
    lm_link_conn_free(pi->link);
    if (pi->idle) event_free(pi->idle);
    if (p->sampler) lm_sampler_remove(p->sampler, pi->inst.id);
    lm_usage last;
    if (pi->tel && lm_telemetry_sample(pi->tel, &last, NULL) == LM_OK)
        s->cpu_ns_gone += last.cpu_user_ns + last.cpu_system_ns;
    else if (pi->have_last)
        s->cpu_ns_gone += pi->last_cpu_ns;
    lm_telemetry_close(pi->tel);
    lm_record_instance_end(p->o.results, pi->inst.id, reason, 0);
    lm_reaper_stop(p->reaper, &pi->inst, grace_ms, p->o.results ? on_reaped : NULL, p->o.results);
    free(pi);
    lm__pool_observe(s);
}
