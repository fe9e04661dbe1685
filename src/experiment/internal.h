/* internal.h -- what the experiment room's files share: the gateway child
 * the run drives, the machine's description, one cell's driver. Not a
 * contract for other rooms (they use experiment.h). */
#ifndef LM_EXPERIMENT_INTERNAL_H
#define LM_EXPERIMENT_INTERNAL_H

#include <signal.h>

#include "experiment/experiment.h"
#include "results/results.h"

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

#endif
