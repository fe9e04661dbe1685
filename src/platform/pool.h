/* pool.h -- services and their instance pools, on one libevent loop: a
 * service is a function on a runtime ("fibonacci@wasm-aot"); its pool
 * scales from zero (a cold start per new instance), reuses warm instances,
 * gives each instance at most container_concurrency requests at once (it
 * runs them one after another: the channel carries one INVOKE at a time),
 * queues the rest up to a bound, scales with a Knative-style autoscaler
 * (autoscaler.h) or one instance per waiting request, and stops instances
 * idle past a timeout. Every service, instance, request outcome and scaling
 * decision can be recorded in a results store (store/store.h), with CPU
 * time and peak memory attributed to each request from the instance's
 * cgroup. The gateway (gateway.c) turns HTTP requests into pool requests. */
#ifndef LM_POOL_H
#define LM_POOL_H

#include <event2/buffer.h>
#include <event2/event.h>

#include "channel/conn.h"
#include "node/node.h"
#include "observe/recorder.h"
#include "observe/telemetry.h"
#include "platform/metrics.h"
#include "results/results.h"

enum { LM_AUTOSCALER_KPA = 0, LM_AUTOSCALER_NONE = 1 };

typedef struct {
    int max_scale;             /* most instances at once (default 4) */
    int min_scale;             /* instances kept when idle (default 0) */
    int idle_timeout_ms;       /* an idle instance above min_scale stops after this; 0 = at once */
    int queue_max;             /* requests waiting for an instance (default 64) */
    int queue_timeout_ms;      /* how long one may wait (default 30000) */
    int request_timeout_ms;    /* a function's answer, READY included (default 60000) */
    uint64_t memory_limit;     /* bytes per instance's cgroup; 0 = none */
    int container_concurrency; /* requests one instance holds at once (default 1) */
    /* LM_AUTOSCALER_KPA (default): instances follow the autoscaler's
     * decisions, taken every tick_ms from the observed concurrency; a
     * request only starts one itself when the service has none (scale from
     * zero). LM_AUTOSCALER_NONE: a request that finds no free instance
     * starts one, up to max_scale. */
    int autoscaler;
    double target;          /* concurrency per instance aimed at (default 1.0) */
    int stable_window_ms;   /* default 60000 */
    int panic_window_ms;    /* default 6000 */
    double panic_threshold; /* default 2.0 */
    int tick_ms;            /* default 2000 */
} lm_service_config;

/* The defaults above (written in service_config.c, beside the parser). */
void lm_service_config_defaults(lm_service_config *c);
/* The settings as one JSON object, as a --config file writes them (for
 * services.config_json and GET /services); returns the length as snprintf.
 * Written by service_config.c. */
int lm_service_config_json(const lm_service_config *c, char *out, size_t n);

/* The outcome of a pool request, for its done callback (valid during the
 * call). status is the HTTP status for the client: the function's own, or
 * 502 when the instance crashed (or could not start), 503 when the queue
 * was full or timed out or the platform is shutting down, 504 when the
 * function did not answer in time. */
typedef struct {
    int status;
    const lm_call_result *res; /* the function's result, when there was one */
    lm_req_times t;
    int cold;                /* it waited for the start of the instance that served it */
    const char *instance_id; /* NULL when it never reached an instance */
    const char *err;         /* why it failed, or NULL */
    int64_t service_id;
    /* What the instance's cgroup says of the request (usage_measured 1):
     * its CPU time, user + system (the difference of the CPU total at its
     * end and at the previous request's end or READY), and its peak memory
     * (the peak was reset at that previous mark). */
    int usage_measured;
    uint64_t cpu_ns;
    uint64_t mem_peak_bytes;
    /* The phases of the cold start it waited for, or NULL (warm, or the
     * start failed before READY). */
    const lm_cold_phases *phases;
    const char *node; /* the node profile of the instance that served it, or NULL */
} lm_pool_outcome;

typedef void (*lm_pool_done_fn)(void *arg, const lm_pool_outcome *o);

typedef struct lm_service lm_service;
typedef struct lm_pool lm_pool;

typedef struct {
    lm_store *store;       /* serves the functions' storage calls (may be NULL) */
    const char *artifacts; /* as in lm_start_opts */
    const char *data_dir;
    lm_results *results;     /* records services, instances, events, samples (NULL: none) */
    int telemetry;           /* 1: read each instance's cgroup at every request's end */
    int sample_ms;           /* > 0: also sample every instance this often into results */
    int64_t service_id_base; /* services are numbered after it (ids already in results) */
    /* Emulated nodes (src/node/node.h), up, the caller's (they must
     * outlive the pool): every new instance goes on the node the policy
     * (LM_PLACE_*) chooses among those available; nnodes 0: on the host. */
    lm_node *nodes;
    int nnodes;
    int placement;
    /* links[i] is nodes[i]'s link (platform/link.h), the caller's, or NULL
     * (links NULL: none): an instance on the node gets its store (storage
     * over the link) and its frame model (gateway -> instance). */
    struct lm_link *const *links;
} lm_pool_opts;

/* A pool on base. NULL with err when its threads cannot start. */
lm_pool *lm_pool_new(struct event_base *base, const lm_pool_opts *o, char *err);
/* Fails every waiting request (503), stops every instance and waits for
 * them to be gone. NULL is a no-op. */
void lm_pool_free(lm_pool *p);

/* The runtime of "fn" when a name has none: set per function, or for every
 * function with fn "*" (the default default is native). */
int lm_pool_set_default_runtime(lm_pool *p, const char *fn, const char *runtime, char *err);

/* The service named "fn@runtime" (or "fn": its default runtime). An
 * existing service is returned as it is; a new one is deployed with cfg
 * (NULL: the pool's defaults). NULL with err when the function or the
 * runtime is unknown (a 404 for the gateway) or not available. */
lm_service *lm_pool_service(lm_pool *p, const char *name, const lm_service_config *cfg, char *err);
/* Deploys or re-configures the service name with cfg (the new settings
 * apply to decisions from now on; running instances stay). */
lm_service *lm_pool_deploy(lm_pool *p, const char *name, const lm_service_config *cfg, char *err);
/* The settings new services get (lm_pool_service with cfg NULL). */
void lm_pool_set_defaults(lm_pool *p, const lm_service_config *cfg);

const char *lm_service_name(const lm_service *s);
int64_t lm_service_id(const lm_service *s);
/* Its counters for /metrics (the gateway adds each answered request). */
lm_metrics_service *lm_service_metrics(lm_service *s);

/* Submits body to service s (the body is copied). force_cold stops an idle
 * instance first and serves this request from a fresh one. done is called
 * exactly once, possibly before this returns (a full queue). */
void lm_pool_submit(lm_service *s, const char *body, size_t len, int force_cold,
                    uint64_t ingress_ns, lm_pool_done_fn done, void *arg);

/* Takes the node named name away mid-run (volatility, docs/nodes.md):
 * nothing more is placed on it. kill 1: its instances are killed, as on a
 * device that dies (the requests they were serving fail and are recorded,
 * those queued behind them are re-placed with cold starts); kill 0: its
 * link is cut (host veth down) until lm_pool_node_restore. Recorded as a
 * node_removed or node_cut event. LM_OK, or LM_ERR with err (no such
 * node). */
int lm_pool_node_remove(lm_pool *p, const char *name, int kill, char *err);
/* Gives a removed or cut node back to placement (node_restored event);
 * frames held by its cut link go on (lm_conn_link_changed). */
int lm_pool_node_restore(lm_pool *p, const char *name, char *err);
/* Writes the pool's nodes, with their instance counts, as a JSON array. */
void lm_pool_describe_nodes(const lm_pool *p, struct evbuffer *out);

/* Requests submitted and not yet done, over every service. */
int lm_pool_in_flight(const lm_pool *p);

/* Writes the services with their settings and instance counts as a JSON
 * array. */
void lm_pool_describe(const lm_pool *p, struct evbuffer *out);

/* Fills every service's gauges (instances, queue, memory now) and returns
 * the services for lm_metrics_write (*n set; valid until the pool changes). */
const lm_metrics_service *const *lm_pool_metrics(lm_pool *p, int *n);

#endif
