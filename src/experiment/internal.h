/* internal.h -- what the experiment room's files share: the gateway child
 * the run drives, the machine's description, one cell's driver. Not a
 * contract for other rooms (they use experiment.h). */
#ifndef LM_EXPERIMENT_INTERNAL_H
#define LM_EXPERIMENT_INTERNAL_H

#include <signal.h>

#include "experiment/experiment.h"
#include "results/results.h"
#include "trace/trace.h"

/* `lumos serve` as a child of the run, on a free loopback port, in its own
 * session (a Ctrl-C reaches the run, which stops it in order) and ended by
 * the kernel (SIGTERM) if the run dies. */
typedef struct {
    lm_child child;
    int port;
    char url[64];
    char log[2048]; /* its stdout and stderr */
} lm__gw_child;

/* Where a gateway runs its cells: on node (NULL: on the host, no node)
 * with every link under network (a condition; NULL or "": unshaped). */
typedef struct {
    const char *node, *network;
} lm__gw_env;

/* Starts `exe serve --port 0 --results db --redis redis --config config
 * [--data data] [--nodes NODE] [--network COND]` with its output in log
 * and waits (up to 30 s) for it to listen. env may be NULL (the host).
 * LM_OK, or LM_ERR with err quoting the end of its log. */
int lm__gw_start(const char *exe, const char *db, const char *redis, const char *config,
                 const char *data, const lm__gw_env *env, const char *log, lm__gw_child *g,
                 char *err);
/* 1 when `exe serve --help` lists option (e.g. "--network"). */
int lm__gw_has_option(const char *exe, const char *option);
/* POST /results/flush: every row the gateway recorded is in the file when
 * it returns LM_OK. */
int lm__gw_flush(const lm__gw_child *g, char *err);
/* SIGTERM (it lets requests in flight finish and stops its instances),
 * then SIGKILL after 20 s. Safe to call twice. */
void lm__gw_stop(lm__gw_child *g);

/* Writes machine.* meta: CPU model, cores, memory, kernel, and each
 * runtime's version (runtimes, n of them). */
int lm__exp_machine_meta(lm_results *db, char *const *runtimes, size_t n, char *err);

/* Everything a cell needs from the run. */
typedef struct {
    const lm_exp_spec *spec;
    const char *url;        /* the gateway */
    lm_results *db;         /* the run's own handle (cells, client times) */
    const lm__gw_child *gw; /* to flush its rows before the cell is checked */
    /* The request body of function fn with payload p ("group:s"), or NULL
     * with err (owned by the run). */
    const char *(*body)(void *arg, const char *fn, const char *payload, char *err);
    void *body_arg;
    volatile sig_atomic_t *stop;
    const lm_exp_knative *kn; /* --platform knative, or NULL */
    int64_t *next_request_id; /* knative: the ids the run gives its rows */
    struct lm__kn_seen *seen; /* knative: instances already in the database */
} lm__exp_ctx;

/* What one cell did. */
typedef struct {
    uint64_t sent, rows, excluded_start, warmup, failed_client;
    double seconds;
} lm__cell_outcome;

/* Runs cell c from start to done: its row `running`, the warm-up (warm
 * cells), the measured requests, the gateway's rows flushed, the client's
 * times joined, start types checked, its row `done`. LM_OK when it is
 * done; LM_ERR with err when it could not be (stopped: err says so). */
int lm__exp_run_cell(const lm__exp_ctx *x, const lm_exp_cell *c, lm__cell_outcome *o, char *err);

/* cell.c's steps, shared with the knative cell driver: the cell's row
 * (`running` with its description, or another status with finished_ns,
 * flushed); an open-loop cell's planned requests; its schedule (the trace
 * generator's, seeded by the spec and the cell: *t is the caller's). */
int lm__exp_put_status(const lm__exp_ctx *x, const lm_exp_cell *c, const char *status,
                       const char *error, char *err);
int lm__exp_put_planned(const lm__exp_ctx *x, const lm_exp_cell *c, int64_t n, char *err);
int lm__exp_open_trace(const lm__exp_ctx *x, const lm_exp_cell *c, lm_trace **t, char *err);

/* ---- --platform knative (knative.c) ---------------------------------- */

/* The instances a knative run has written rows for. */
typedef struct lm__kn_seen lm__kn_seen;
lm__kn_seen *lm__kn_seen_new(void);
void lm__kn_seen_free(lm__kn_seen *s); /* NULL is a harmless no-op */
/* 1 when instance id (of the pod with pod_uid, NULL or "": none) is new
 * (now kept), 0 when seen before, -1 out of memory. */
int lm__kn_seen_add(lm__kn_seen *s, const char *id, const char *pod_uid);
/* The latest instance seen in the pod with pod_uid (owned by s), or NULL. */
const char *lm__kn_instance_of(const lm__kn_seen *s, const char *pod_uid);

/* The URL of function on runtime (its --service-url, else the template
 * expanded) into out, its service name into service. LM_OK or LM_ERR. */
int lm__kn_url(const lm_exp_knative *kn, const char *function, const char *runtime, char *out,
               size_t n, char *service, size_t sn, char *err);
/* Where the load client connects for url (connect: url itself, or with
 * --ingress the ingress with url's path) and the Host: to send ("" : the
 * URL's). LM_ERR when url is not one the load client can reach. */
int lm__kn_target(const lm_exp_knative *kn, const char *url, char *connect, size_t cn, char *host,
                  size_t hn, char *err);

/* What forcing one cold start took (kubectl.c). */
typedef struct {
    uint64_t waited_ns; /* until zero pods or the new revision */
    int calls;          /* kubectl runs */
} lm__kn_cold_wait;
/* Makes the next request to service cold as kn->cold says: waits for
 * `kubectl get pods -l serving.knative.dev/service=SERVICE` to list none
 * (zero), or patches an annotation and waits for a new ready revision
 * (revision); nothing for none. LM_OK, or LM_ERR with err quoting kubectl
 * or saying the wait ran out (kn->cold_timeout_s). */
int lm__kn_force_cold(const lm_exp_knative *kn, const char *service, volatile sig_atomic_t *stop,
                      lm__kn_cold_wait *w, char *err);

/* One reading of a pod by `lumos agent` (knative_agent.c). */
typedef struct {
    char pod_uid[80];
    uint64_t cpu_user_ns, cpu_system_ns, mem_current_bytes, mem_peak_bytes;
} lm__kn_pod_usage;
/* GET url (the agent's /pods, "http://HOST:PORT[/pods]") and parse its
 * pods into *out (malloc'd, *n of them; the caller frees). LM_OK, or
 * LM_ERR with err naming the agent and what went wrong. */
int lm__kn_agent_read(const char *url, lm__kn_pod_usage **out, size_t *n, char *err);

/* Checks kn before any work: the template's tokens, the service URLs,
 * kubectl when the spec has cold cells and kn->cold needs it. */
int lm__kn_check(const lm_exp_knative *kn, const lm_exp_spec *s, char *err);
/* The service id the run gives function on runtime (1-based, spec order). */
int64_t lm__kn_service_id(const lm_exp_spec *s, const char *function, const char *runtime);
/* Writes a services row for every function on every runtime. */
int lm__kn_services(const lm_exp_spec *s, const lm_exp_knative *kn, lm_results *db, char *err);
/* lm__exp_run_cell for a cluster: its requests to the service's URL (cold
 * ones after forcing a cold start as kn->cold says), every answer's row
 * made from its X-Lumos-Front and the client's times, then checked. */
int lm__kn_run_cell(const lm__exp_ctx *x, const lm_exp_cell *c, lm__cell_outcome *o, char *err);

#endif
