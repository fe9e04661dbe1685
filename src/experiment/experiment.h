/* experiment.h -- experiments: a spec (JSON, validated before any work;
 * docs/experiments.md is its reference), the matrix of cells it expands
 * to, and the run that drives every cell's requests through `lumos
 * serve`'s gateway with the load client and writes one results database
 * (resumable: a cell counts only once it is done). */
#ifndef LM_EXPERIMENT_H
#define LM_EXPERIMENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/* How a cell's requests are sent. */
enum { LM_EXP_CLOSED, LM_EXP_OPEN, LM_EXP_TRACE };
/* A cell's start type. */
enum { LM_EXP_WARM = 0, LM_EXP_COLD = 1, LM_EXP_ANY = -1 };

typedef struct {
    int kind;          /* LM_EXP_* */
    int concurrency;   /* closed: clients, each waits for its answer */
    int requests;      /* closed: measured requests of the cell */
    double rate_rps;   /* open: requests per second */
    double duration_s; /* open: how long */
    int poisson;       /* open: 1 exponential inter-arrival times, 0 constant */
    char *trace;       /* trace: the file (relative to the spec's folder, resolved) */
} lm_exp_load;

typedef struct {
    char *path; /* the spec file ("(built-in quick)" for the embedded one) */
    char *name;
    char **functions;
    size_t nfunctions;
    char **runtimes;
    size_t nruntimes;
    int skip_unavailable; /* 1: a runtime not available here is left out, with a note */
    char **payloads;      /* "group:NAME" */
    size_t npayloads;
    int starts[3]; /* LM_EXP_COLD, LM_EXP_WARM, LM_EXP_ANY, in spec order */
    size_t nstarts;
    lm_exp_load *loads;
    size_t nloads;
    int repetitions;
    int warmup; /* warm cells: requests per client before the measured ones */
    long long timeout_ms;
    long long seed;
    int file_storage;    /* "storage": "file" */
    char *platform_json; /* the `lumos serve --config` object, compact JSON */
    /* The environment axes (docs/experiments.md); 0 entries: no axis, the
     * cells run on the host over unshaped paths. */
    char **nodes; /* node profiles (`lumos serve --nodes N`), or "host": no node */
    size_t nnodes;
    char **networks;      /* as written: a preset's name or a condition */
    char **network_conds; /* the condition each stands for, compact ("": unshaped) */
    size_t nnetworks;
    char *text; /* the whole spec, compact JSON (into meta) */
} lm_exp_spec;

/* Reads and checks the spec at path. Errors name the file, the field path
 * and what is allowed: `quick.json: runtimes[2]: unknown runtime
 * "wasm-foo" (known: ...)`; a JSON syntax error names the line and
 * column. On LM_OK *out is the caller's (lm_exp_spec_free). */
int lm_exp_spec_load(const char *path, lm_exp_spec **out, char *err);
/* The same for text (len bytes) named name in messages; relative trace
 * paths are relative to base_dir. */
int lm_exp_spec_parse(const char *text, size_t len, const char *name, const char *base_dir,
                      lm_exp_spec **out, char *err);
/* NULL is a harmless no-op. */
void lm_exp_spec_free(lm_exp_spec *s);

/* The condition of a built-in network preset ("lan", "wifi", "congested",
 * "cellular", "none": ""), or NULL. Static string. */
const char *lm_exp_network_preset(const char *name);

/* The built-in spec `lumos run` uses without one (experiments/quick.json,
 * embedded at build time). */
const char *lm_exp_quick_json(void);

/* One measured combination. */
typedef struct {
    int64_t id;     /* its place in the full matrix, 1-based: stable across --resume */
    char name[512]; /* with the environment: never truncated (lname and env are bounded) */
    const char *function, *runtime, *payload; /* point into the spec; NULL for a trace */
    int start;                                /* LM_EXP_* */
    const lm_exp_load *load;
    int repetition; /* 1-based */
    /* Its environment (point into the spec): the node axis' value (NULL:
     * no axis), the network axis' value as written and its condition
     * (NULL: no axis; "" unshaped). */
    const char *node, *network, *network_cond;
    int env; /* 0-based index of (node, network) in the spec: cells of one env share a gateway */
} lm_exp_cell;

/* Expands the spec: repetitions outermost (every cell once, then every
 * cell again, so slow drift spreads over all), then nodes, networks (each
 * environment's cells together: one gateway each), loads, functions,
 * runtimes, payloads, starts; a trace load is one cell per repetition and
 * environment (its rows name functions and runtimes). runtimes[] (n of them) are those to
 * run here, a subset of the spec's. *out is malloc'd (caller frees). */
int lm_exp_cells(const lm_exp_spec *s, char *const *runtimes, size_t n, lm_exp_cell **out,
                 size_t *ncells, char *err);

/* `lumos run SPEC --platform knative` (knative.c, docs/knative-front.md):
 * every cell is sent to its service's URL on a cluster, whose pods run
 * lumos-front; the rows are made from the answers' X-Lumos-Front. */
enum { LM_EXP_COLD_ZERO = 0, LM_EXP_COLD_REVISION = 1, LM_EXP_COLD_NONE = 2 };

typedef struct {
    const char *url_template;     /* "http://{service}.default.127.0.0.1.sslip.io/", or NULL */
    const char *service_template; /* a service's name (NULL: "{function}-{runtime}") */
    char *const *service_urls;    /* "SERVICE=URL", winning over the template */
    size_t nservice_urls;
    const char *ingress;        /* "HOST:PORT" to connect to, the URL's host sent as Host:
                                   (NULL: the URL's host, resolved) */
    int cold;                   /* LM_EXP_COLD_*: how a cold request is made cold */
    int cold_timeout_s;         /* waiting for zero pods or a new revision (0: 300) */
    const char *kubectl;        /* NULL: "kubectl" on PATH */
    const char *kube_namespace; /* NULL: "default" */
    const char *agent_url;      /* `lumos agent`'s "http://HOST:PORT", read after every load run
                                   into samples (NULL: none) */
} lm_exp_knative;

/* Expands tmpl's tokens {function}, {runtime} and {service} into out (n
 * bytes). LM_OK, or LM_ERR with err naming an unknown or unclosed token. */
int lm_exp_expand(const char *tmpl, const char *function, const char *runtime, const char *service,
                  char *out, size_t n, char *err);
/* The Knative service name of function on runtime: tmpl (NULL:
 * "{function}-{runtime}") expanded, lower-cased, every character that a
 * DNS label may not hold made '-' ("container+wasm-aot" ->
 * "container-wasm-aot"). LM_OK or LM_ERR (too long, empty). */
int lm_exp_service_name(const char *tmpl, const char *function, const char *runtime, char *out,
                        size_t n, char *err);

/* What `lumos run SPEC` takes. */
typedef struct {
    const lm_exp_spec *spec;
    const char *db;        /* the results database (its folder gets platform.json, gateway.log) */
    int resume;            /* 1: complete an existing db, cells that are done are kept */
    const char *redis;     /* "HOST:PORT", or NULL: a private redis-server */
    const char *artifacts; /* NULL: lm_artifacts_dir's default */
    const char *lumos_exe; /* the lumos binary, run as the gateway (`lumos serve`) */
    const char *lumos_version;
    int progress;                  /* 1: a progress line with an ETA on stderr */
    FILE *notes;                   /* where --resume says which cells it runs (NULL: nowhere) */
    volatile sig_atomic_t *stop;   /* set (by a signal handler) to stop after the cell */
    const lm_exp_knative *knative; /* NULL: the platform here (a `lumos serve` child) */
} lm_exp_run_opts;

typedef struct {
    char db[2048], dir[2048];
    char skipped[2048];   /* runtimes left out, and why ("" when none) */
    size_t cells;         /* in the matrix, here */
    size_t done_before;   /* already done in the db (--resume) */
    size_t done;          /* done by this run */
    uint64_t requests;    /* sent by this run */
    uint64_t excluded;    /* rows whose start type was not their cell's */
    size_t problem_cells; /* done, with requests that got no row */
    int interrupted;      /* stopped before the end: resume it */
} lm_exp_run_result;

/* Runs o->spec. Before any work: the runtimes (unavailable ones skipped
 * when the spec says so), every trace, the artifacts (built when missing),
 * the database (a new file, or with --resume one this spec wrote). Then
 * the data set of each payload group into a private Redis, the gateway as
 * a child on a free loopback port writing into the same database, and
 * every cell not yet done, in order. LM_OK when it ran (res->interrupted
 * when stopped early: the database is consistent, the cells done are
 * done); LM_ERR with err otherwise. */
int lm_exp_run(const lm_exp_run_opts *o, lm_exp_run_result *res, char *err);

#endif
