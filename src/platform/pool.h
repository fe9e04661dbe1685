/* pool.h -- services and their instance pools, on one libevent loop: a
 * service is a function on a runtime ("fibonacci@wasm-aot"); its pool
 * scales from zero (a cold start per new instance), reuses warm instances,
 * gives each instance one request at a time (container concurrency 1),
 * queues the rest up to a bound, and stops instances idle past a timeout.
 * The gateway (gateway.c) turns HTTP requests into pool requests. */
#ifndef LM_POOL_H
#define LM_POOL_H

#include <event2/buffer.h>
#include <event2/event.h>

#include "platform/conn.h"

typedef struct {
    int max_scale;          /* most instances at once (default 4) */
    int min_scale;          /* instances kept when idle (default 0) */
    int idle_timeout_ms;    /* an idle instance above min_scale stops after this; 0 = at once */
    int queue_max;          /* requests waiting for an instance (default 64) */
    int queue_timeout_ms;   /* how long one may wait (default 30000) */
    int request_timeout_ms; /* a function's answer, READY included (default 60000) */
    uint64_t memory_limit;  /* bytes per instance's cgroup; 0 = none */
} lm_service_config;

void lm_service_config_defaults(lm_service_config *c);

/* Timestamps (CLOCK_MONOTONIC ns, 0 = did not happen) of one request. */
typedef struct {
    uint64_t ingress, queued, acquired, cold_begin, cold_ready, dispatch, result;
} lm_req_times;

typedef struct lm_pool_req lm_pool_req;

/* The outcome of a pool request: status is the HTTP status for the client
 * (the function's own, or 502 when the instance crashed, 503 when the queue
 * was full or timed out, 504 when the function did not answer in time);
 * res is the function's result when there was one (valid during the call);
 * cold says whether this request waited for a cold start. */
typedef void (*lm_pool_done_fn)(void *arg, int status, const lm_call_result *res,
                                const lm_req_times *t, int cold, const char *instance_id,
                                const char *err);

typedef struct lm_service lm_service;
typedef struct lm_pool lm_pool;

/* A pool set on base; store serves the functions' storage calls (may be
 * NULL); artifacts and data_dir as in lm_start_opts. */
lm_pool *lm_pool_new(struct event_base *base, lm_store *store, const char *artifacts,
                     const char *data_dir);
/* Stops every instance and fails every waiting request (503). NULL no-op. */
void lm_pool_free(lm_pool *p);

/* The service named "fn@runtime" (or "fn", meaning fn@native), deployed on
 * first use with cfg (NULL: defaults). NULL with err when the function or
 * the runtime is unknown (a 404 for the gateway) or not available. */
lm_service *lm_pool_service(lm_pool *p, const char *name, const lm_service_config *cfg, char *err);

/* Submits body to service s (the body is copied). force_cold stops an idle
 * instance first and serves this request from a fresh one. done is called
 * exactly once, possibly before this returns (a full queue). */
void lm_pool_submit(lm_service *s, const char *body, size_t len, int force_cold,
                    uint64_t ingress_ns, lm_pool_done_fn done, void *arg);

/* Writes the services and their instance counts as a JSON array. */
void lm_pool_describe(const lm_pool *p, struct evbuffer *out);

#endif
