/* pool_impl.h -- what the pool's files share (pool.c: services, requests,
 * the queue; pool_instance.c: an instance's life; pool_scale.c: the
 * autoscaler's ticks). Not for use outside the pool. */
#ifndef LM_POOL_IMPL_H
#define LM_POOL_IMPL_H

#include "platform/autoscaler.h"
#include "platform/pool.h"
#include "platform/reaper.h"

#define LM_POOL_MAX_SERVICES 64
/* Launchers kept parked per memory limit (placement ahead of need,
 * runtime.h lm_instances_park): a scale-out of this many instances at once
 * starts every one of them already placed. */
#define LM_POOL_PARKED 2
#define LM_POOL_MAX_DEFAULTS 64

typedef struct pool_inst pool_inst;
typedef struct lm_pool_req lm_pool_req;

struct lm_pool_req {
    lm_service *svc;
    char *body;
    size_t len;
    int force_cold, cold;
    lm_req_times t;
    /* The phases of the cold start it waited for (cold and READY came). */
    int has_phases;
    lm_cold_phases phases;
    lm_pool_done_fn done;
    void *arg;
    const char *node;      /* the node of the instance it was last given to (the pool's), or NULL */
    struct event *timeout; /* while in the service's queue */
    lm_pool_req *next;
};

struct pool_inst {
    lm_instance inst;
    lm_conn *conn;
    lm_service *svc;
    int ready;     /* READY arrived */
    int in_flight; /* the head request's INVOKE is at the instance */
    int retiring;  /* stop it once it has nothing left (scale down) */
    /* Its request's done callback runs: the callback may submit, and must
     * not evict the instance the pool is still finishing with. */
    int finishing;
    /* Requests given to it, in order; the head is the one in flight. */
    lm_pool_req *head, *tail;
    int load;
    uint64_t decided_ns;  /* the pool decided to start it */
    struct event *idle;   /* stops it when idle too long */
    lm_telemetry *tel;    /* its cgroup's files, kept open (NULL: not measured) */
    uint64_t last_cpu_ns; /* CPU total at READY or at the last request's end */
    int have_last;
    int node;                  /* its index in the pool's nodes, or -1: on the host */
    struct lm_link_conn *link; /* its frames' model over the node's link, or NULL */
    pool_inst *next;
};

struct lm_service {
    char name[200];
    const char *function; /* from the catalog */
    const lm_runtime *rt;
    lm_service_config cfg;
    int64_t id;
    lm_pool *pool;
    pool_inst *instances;
    int ninstances;
    lm_pool_req *queue_head, *queue_tail;
    int queued;
    int load; /* requests given to its instances */
    uint64_t served, cold_starts;
    lm_kpa *kpa; /* NULL unless cfg.autoscaler is KPA */
    struct event *tick;
    lm_kpa_decision decision;
    uint64_t cpu_ns_gone; /* CPU of its instances already stopped */
    lm_metrics_service m;
};

struct lm_pool {
    struct event_base *base;
    lm_pool_opts o;
    lm_service_config defaults;
    lm_service *services[LM_POOL_MAX_SERVICES];
    int nservices;
    char default_rt[LM_POOL_MAX_DEFAULTS][2][64]; /* function, runtime */
    int ndefaults;
    lm_reaper *reaper;
    lm_sampler *sampler;
    int in_flight;
    const lm_metrics_service *view[LM_POOL_MAX_SERVICES];
};

/* pool.c */
/* A request's CPU time and peak memory, when measured. */
typedef struct {
    uint64_t cpu_ns, mem_peak_bytes;
} lm__req_usage;

void lm__pool_finish(lm_pool_req *r, int status, const lm_call_result *res, const char *instance_id,
                     const lm__req_usage *usage, const char *err);
/* Gives waiting requests to starting instances with room, and starts new
 * instances for them where the service's scaling mode allows. */
void lm__pool_pump(lm_service *s);
/* Takes the head of the service's queue (its queue timer stopped), or NULL. */
lm_pool_req *lm__pool_dequeue(lm_service *s);
/* Puts the requests head..tail (linked by next) back at the head of the
 * service's queue, as if they had never reached an instance. */
void lm__pool_requeue_front(lm_service *s, lm_pool_req *head, lm_pool_req *tail);
/* The service's concurrency changed: tell its autoscaler. */
void lm__pool_observe(lm_service *s);
/* Records an event (kind, detail JSON or NULL) when results are kept. */
void lm__pool_event(lm_service *s, const char *kind, const char *instance_id, const char *detail);

/* pool_instance.c */
/* Starts an instance of s; r (may be NULL) is given to it first. NULL with
 * err when the runtime cannot start it. */
pool_inst *lm__inst_start(lm_service *s, lm_pool_req *r, char *err);
/* Gives r to pi: dispatched now when pi is ready and free. */
void lm__inst_assign(pool_inst *pi, lm_pool_req *r);
/* Stops pi (off the loop, by the reaper) and forgets it; reason is
 * recorded as its end_reason. Requests still given to it are put back at
 * the head of the service's queue. */
void lm__inst_retire(pool_inst *pi, const char *reason, int grace_ms);
/* Room for one more request. */
int lm__inst_has_room(const pool_inst *pi);
/* Keeps LM_POOL_PARKED launchers parked for s's next starts (its memory
 * limit), unless its runtime makes its own cgroup; best effort. */
void lm__inst_park(lm_service *s);

/* pool_scale.c */
/* Sets up (or removes) the service's autoscaler for its configuration.
 * LM_ERR with err when the configuration is refused. */
int lm__scale_setup(lm_service *s, char *err);
/* One decision now, acted upon. */
void lm__scale_tick(lm_service *s);
void lm__scale_free(lm_service *s);

#endif
