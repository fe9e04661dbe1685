/* run.c -- `lumos run SPEC`: checks everything before any work, then the
 * data, Redis, the gateway child, and every cell in turn (experiment.h). */
#include "experiment/internal.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/build.h"
#include "data/dataset.h"
#include "functions/catalog.h"
#include "proto/clock.h"
#include "runtime/runtime.h"
#include "storage/storage.h"
#include "trace/trace.h"

/* The data set of each payload group, and the request bodies made of it. */
typedef struct {
    char group[16];
    char dir[2048];
    json_t *requests; /* manifest.requests[group] */
} group_data;

typedef struct {
    char *function, *payload, *body;
} body_entry;

typedef struct {
    const lm_exp_spec *spec;
    group_data groups[8];
    size_t ngroups;
    body_entry *bodies;
    size_t nbodies, cap;
} run_data;

static const char *body_of(void *arg, const char *fn, const char *payload, char *err) {
    run_data *d = arg;
    for (size_t i = 0; i < d->nbodies; i++)
        if (!strcmp(d->bodies[i].function, fn) && !strcmp(d->bodies[i].payload, payload))
            return d->bodies[i].body;
    const char *g = strncmp(payload, "group:", 6) == 0 ? payload + 6 : NULL;
    json_t *req = NULL;
    for (size_t i = 0; g && i < d->ngroups; i++)
        if (!strcmp(d->groups[i].group, g))
            req = json_deep_copy(json_object_get(d->groups[i].requests, fn));
    /* The utilities (noop, faulty) have no inputs in the data set: {}. */
    const lm_fn_info *info = lm_catalog_find(fn);
    if (!req && info && !info->benchmark) req = json_object();
    if (!req) {
        lm_errf(err, "the data set has no request for %s with payload %s", fn, payload);
        return NULL;
    }
    if (d->spec->file_storage) json_object_set_new(req, "storage", json_string("file"));
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (d->nbodies == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        body_entry *b = realloc(d->bodies, cap * sizeof *b);
        if (!b) {
            free(body);
            lm_errf(err, "out of memory");
            return NULL;
        }
        d->bodies = b;
        d->cap = cap;
    }
    d->bodies[d->nbodies] = (body_entry){strdup(fn), strdup(payload), body};
    return d->bodies[d->nbodies++].body;
}

static void run_data_free(run_data *d) {
    for (size_t i = 0; i < d->ngroups; i++)
        json_decref(d->groups[i].requests);
    for (size_t i = 0; i < d->nbodies; i++) {
        free(d->bodies[i].function);
        free(d->bodies[i].payload);
        free(d->bodies[i].body);
    }
    free(d->bodies);
}

static int add_group(run_data *d, const char *payload) {
    if (strncmp(payload, "group:", 6) != 0) return LM_OK;
    for (size_t i = 0; i < d->ngroups; i++)
        if (!strcmp(d->groups[i].group, payload + 6)) return LM_OK;
    if (d->ngroups == sizeof d->groups / sizeof d->groups[0]) return LM_ERR;
    snprintf(d->groups[d->ngroups++].group, sizeof d->groups[0].group, "%s", payload + 6);
    return LM_OK;
}

/* The runtimes of the spec to run here; a missing one is an error unless
 * the spec skips them. *why lists what was left out. */
static int pick_runtimes(const lm_exp_spec *s, char **out, size_t *n, char *skipped, size_t sn,
                         char *err) {
    *n = 0;
    skipped[0] = 0;
    for (size_t i = 0; i < s->nruntimes; i++) {
        const lm_runtime *rt = lm_runtime_find(s->runtimes[i], err);
        char why[LM_ERRLEN];
        if (rt && rt->available(rt, why) == LM_OK) {
            out[(*n)++] = s->runtimes[i];
            continue;
        }
        if (!s->skip_unavailable)
            return lm_errf(err, "%s: runtime %s is not available here: %s", s->path, s->runtimes[i],
                           why);
        size_t l = strlen(skipped);
        snprintf(skipped + l, sn - l, "%s%s (%s)", l ? "; " : "", s->runtimes[i], why);
    }
    if (*n == 0) return lm_errf(err, "%s: none of its runtimes is available here", s->path);
    return LM_OK;
}

/* Every artifact the cells need, built when one is missing. */
static int ensure_artifacts(const lm_exp_spec *s, char *const *rts, size_t nrt,
                            const char *artifacts, char *err) {
    for (int pass = 0; pass < 2; pass++) {
        int missing = 0;
        char path[4096], why[LM_ERRLEN];
        for (size_t r = 0; r < nrt && !missing; r++)
            for (size_t f = 0; f < s->nfunctions && !missing; f++)
                missing = lm_artifact_path(lm_artifacts_dir(artifacts),
                                           lm_runtime_find(rts[r], NULL)->target, s->functions[f],
                                           path, sizeof path, why) != LM_OK;
        if (!missing) return LM_OK;
        if (pass == 1) return lm_errf(err, "after building: %s", why);
        lm_build_opts bo = {.out = lm_artifacts_dir(artifacts), .jobs = 2, .quiet = 1};
        lm_artifact *arts = NULL;
        size_t na = 0;
        if (lm_build(&bo, &arts, &na, err) != LM_OK) return LM_ERR;
        free(arts);
    }
    return LM_OK;
}

static int artifact_rows(lm_results *db, const lm_exp_spec *s, char *const *rts, size_t nrt,
                         const char *artifacts, char *err) {
    for (size_t r = 0; r < nrt; r++) {
        const lm_runtime *rt = lm_runtime_find(rts[r], NULL);
        for (size_t f = 0; f < s->nfunctions; f++) {
            char path[4096];
            if (lm_artifact_path(lm_artifacts_dir(artifacts), rt->target, s->functions[f], path,
                                 sizeof path, err) != LM_OK)
                return LM_ERR;
            lm_results_artifact a;
            lm_results_artifact_init(&a);
            a.function = s->functions[f];
            a.runtime = rt->name;
            a.kind = strcmp(rt->target, "wasm") == 0 ? "module" : "executable";
            a.path = path;
            a.bytes = lm_file_size(path);
            if (lm_results_add_artifact(db, &a, err) != LM_OK) return LM_ERR;
            lm_artifact_file files[LM_MAX_ARTIFACT_FILES];
            int nf = 0;
            char why[LM_ERRLEN];
            if (rt->prepare && rt->prepare(rt, s->functions[f], lm_artifacts_dir(artifacts), files,
                                           &nf, why) == LM_OK)
                for (int i = 0; i < nf; i++) {
                    a.kind = files[i].kind;
                    a.path = files[i].path;
                    a.bytes = files[i].bytes;
                    if (lm_results_add_artifact(db, &a, err) != LM_OK) return LM_ERR;
                }
        }
    }
    return LM_OK;
}

typedef struct {
    uint8_t *done;      /* by cell id */
    const char **names; /* by cell id: the name this spec gives it (NULL: not run here) */
    size_t max;
    size_t ndone;
} done_set;

static int mark_done(void *arg, int64_t id, const char *name, const char *status, int64_t rows) {
    done_set *d = arg;
    (void)rows;
    /* A cell is its name too: function, runtime, ..., node and network. A
     * row of the same id with another name is not this cell's. */
    if (status && strcmp(status, "done") == 0 && id > 0 && (size_t)id <= d->max &&
        d->names[id - 1] && name && strcmp(d->names[id - 1], name) == 0) {
        d->done[id - 1] = 1;
        d->ndone++;
    }
    return LM_OK;
}

static void progress_line(const lm_exp_run_opts *o, size_t i, size_t n, const lm_exp_cell *c,
                          double elapsed, size_t ran) {
    if (!o->progress) return;
    char eta[32] = "";
    if (ran > 0) {
        double left = elapsed / (double)ran * (double)(n - i);
        snprintf(eta, sizeof eta, "  ETA %dm%02ds", (int)left / 60, (int)left % 60);
    }
    fprintf(stderr, "\r\033[Krun: cell %zu/%zu %s%s", i + 1, n, c->name, eta);
}

/* The database: new (refusing to write into an existing one without
 * --resume), or an existing one written by the same spec. */
static lm_results *open_db(const lm_exp_run_opts *o, const lm_exp_spec *s, char *err) {
    int exists = access(o->db, F_OK) == 0;
    if (exists && !o->resume) {
        lm_errf(err, "%s exists: pass --resume to complete it, or choose another --db", o->db);
        return NULL;
    }
    if (!exists && o->resume) {
        lm_errf(err, "%s does not exist: nothing to resume (leave out --resume)", o->db);
        return NULL;
    }
    char dir[2100];
    snprintf(dir, sizeof dir, "%s", o->db);
    if (lm_mkdirs(dirname(dir), err) != LM_OK) return NULL;
    lm_results_opts ro = {.lumos_version = o->lumos_version};
    lm_results *db = lm_results_open(o->db, &ro, err);
    if (!db) return NULL;
    if (exists) {
        /* A resume must be of the same experiment: its cells' ids are their
         * places in this spec's matrix. */
        lm_results_reader *rd = lm_results_reader_open(o->db, err);
        char old[65536] = "";
        int same = rd && lm_results_reader_meta(rd, "experiment.spec", old, sizeof old) == LM_OK &&
                   strcmp(old, s->text) == 0;
        lm_results_reader_close(rd);
        if (!same) {
            lm_results_close(db);
            lm_errf(err,
                    "%s was not written by this spec (%s): resume it with the spec it was made "
                    "with",
                    o->db, s->path);
            return NULL;
        }
        return db;
    }
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)lm_wall_ns());
    if (lm_results_set_meta(db, "command", "lumos run", err) != LM_OK ||
        lm_results_set_meta(db, "experiment.name", s->name, err) != LM_OK ||
        lm_results_set_meta(db, "experiment.spec", s->text, err) != LM_OK ||
        lm_results_set_meta(db, "experiment.spec_path", s->path, err) != LM_OK ||
        lm_results_set_meta(db, "run.started_wall_ns", num, err) != LM_OK) {
        lm_results_close(db);
        return NULL;
    }
    /* What each network value stands for, for the report. */
    for (size_t i = 0; i < s->nnetworks; i++) {
        char key[300];
        snprintf(key, sizeof key, "experiment.network.%s", s->networks[i]);
        if (lm_results_set_meta(db, key, s->network_conds[i][0] ? s->network_conds[i] : "none",
                                err) != LM_OK) {
            lm_results_close(db);
            return NULL;
        }
    }
    return db;
}

/* The environment axes need what the host may lack: root for nodes (their
 * namespaces and groups), and a `lumos serve` that shapes links. */
static int check_env(const lm_exp_run_opts *o, const lm_exp_spec *s, char *err) {
    for (size_t i = 0; i < s->nnodes; i++)
        if (strcmp(s->nodes[i], "host") != 0 && geteuid() != 0)
            return lm_errf(err,
                           "%s: node: node %s needs root (its network namespace and control "
                           "groups, docs/nodes.md): run as root, or leave it out",
                           s->path, s->nodes[i]);
    for (size_t i = 0; i < s->nnetworks; i++)
        if (s->network_conds[i][0] && !lm__gw_has_option(o->lumos_exe, "--network"))
            return lm_errf(err,
                           "%s: network[%zu]: \"%s\" needs `lumos serve --network`, which %s "
                           "does not have (see `%s serve --help`): leave the axis out or use "
                           "\"none\"",
                           s->path, i, s->networks[i], o->lumos_exe, o->lumos_exe);
    return LM_OK;
}

/* The gateway's log of an environment: gateway.log for the host over
 * unshaped paths (and every spec without the axes), else
 * gateway-NODE-NETWORK.log with only [A-Za-z0-9.-] kept. */
static void env_log(const char *dir, const lm_exp_cell *c, char *out, size_t n) {
    int plain = (!c->node || !strcmp(c->node, "host")) && (!c->network_cond || !*c->network_cond);
    if (plain) {
        snprintf(out, n, "%s/gateway.log", dir);
        return;
    }
    char tag[120];
    snprintf(tag, sizeof tag, "%s-%s", c->node ? c->node : "host",
             c->network ? c->network : "none");
    for (char *p = tag; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-'))
            *p = '_';
    snprintf(out, n, "%s/gateway-%s.log", dir, tag);
}

int lm_exp_run(const lm_exp_run_opts *o, lm_exp_run_result *res, char *err) {
    memset(res, 0, sizeof *res);
    const lm_exp_spec *s = o->spec;
    char *rts[64];
    size_t nrt = 0;
    if (s->nruntimes > 64) return lm_errf(err, "%s: more than 64 runtimes", s->path);
    const lm_exp_knative *kn = o->knative;
    if (kn) {
        /* A cluster's runtimes are its RuntimeClasses', not this machine's. */
        for (size_t i = 0; i < s->nruntimes; i++)
            rts[nrt++] = s->runtimes[i];
        if (lm__kn_check(kn, s, err) != LM_OK) return LM_ERR;
        /* The environment is the cluster's own: no emulated nodes or links. */
        for (size_t i = 0; i < s->nnodes; i++)
            if (strcmp(s->nodes[i], "host") != 0)
                return lm_errf(err,
                               "%s: node: %s is an emulated node of lumos serve; "
                               "--platform knative runs on the cluster's nodes: leave the "
                               "axis out",
                               s->path, s->nodes[i]);
        for (size_t i = 0; i < s->nnetworks; i++)
            if (s->network_conds[i][0])
                return lm_errf(err,
                               "%s: network[%zu]: \"%s\" shapes lumos serve's links; "
                               "--platform knative uses the cluster's network: leave the "
                               "axis out or use \"none\"",
                               s->path, i, s->networks[i]);
        if (!o->redis)
            return lm_errf(err,
                           "--platform knative needs --redis HOST:PORT: the cluster's Redis, "
                           "reachable from here (e.g. kubectl -n lumos port-forward "
                           "svc/lumos-redis 6379:6379, then --redis 127.0.0.1:6379), where the "
                           "data set is loaded");
    } else if (pick_runtimes(s, rts, &nrt, res->skipped, sizeof res->skipped, err) != LM_OK) {
        return LM_ERR;
    }
    if (!kn && check_env(o, s, err) != LM_OK) return LM_ERR;
    /* Everything that can be wrong with the inputs is found before work;
     * the traces' payload groups are noted on the way (their data set is
     * loaded with the spec's). */
    run_data data = {.spec = s};
    for (size_t i = 0; i < s->npayloads; i++)
        if (add_group(&data, s->payloads[i]) != LM_OK)
            return lm_errf(err, "%s: too many payload groups", s->path);
    for (size_t l = 0; l < s->nloads; l++) {
        if (s->loads[l].kind != LM_EXP_TRACE) continue;
        lm_trace *t = NULL;
        if (lm_trace_read(s->loads[l].trace, &t, err) != LM_OK) return LM_ERR;
        for (size_t r = 0; r < t->nrows; r++)
            if (t->rows[r].payload->group) {
                char p[32];
                snprintf(p, sizeof p, "group:%s", t->rows[r].payload->group);
                add_group(&data, p);
            }
        lm_trace_free(t);
    }
    lm_exp_cell *cells = NULL;
    size_t ncells = 0;
    if (lm_exp_cells(s, rts, nrt, &cells, &ncells, err) != LM_OK) return LM_ERR;
    res->cells = ncells;
    if (!kn && ensure_artifacts(s, rts, nrt, o->artifacts, err) != LM_OK) {
        free(cells);
        return LM_ERR;
    }

    int rc = LM_ERR;
    lm_redis_server server = {0};
    lm_store *store = NULL;
    lm_results *db = NULL;
    lm__gw_child gw = {.child.pid = -1};
    done_set done = {0};
    lm__kn_seen *seen = NULL;
    if (!(db = open_db(o, s, err))) goto out;
    snprintf(res->db, sizeof res->db, "%s", o->db);
    done.max = ncells ? (size_t)cells[ncells - 1].id : 0;
    done.done = calloc(done.max + 1, 1);
    done.names = calloc(done.max + 1, sizeof *done.names);
    for (size_t i = 0; done.names && i < ncells; i++)
        done.names[cells[i].id - 1] = cells[i].name;
    if (!done.done || !done.names || lm_results_cells(db, mark_done, &done, err) != LM_OK) goto out;
    res->done_before = done.ndone;
    if (o->resume && o->notes) {
        size_t left = ncells - done.ndone, shown = 0;
        fprintf(o->notes, "lumos run: resuming %s: %zu of %zu cells done, %zu to run%s\n", o->db,
                done.ndone, ncells, left, left ? ":" : "");
        for (size_t i = 0; i < ncells && shown < 10; i++)
            if (!done.done[cells[i].id - 1]) {
                fprintf(o->notes, "  %s\n", cells[i].name);
                shown++;
            }
        if (left > shown) fprintf(o->notes, "  ... and %zu more\n", left - shown);
    }
    if (!o->resume && kn) {
        /* The machine is the client's; the runtimes are the cluster's. */
        if (lm__exp_machine_meta(db, rts, 0, err) != LM_OK ||
            lm_results_set_meta(db, "platform", "knative", err) != LM_OK ||
            (kn->url_template &&
             lm_results_set_meta(db, "knative.url_template", kn->url_template, err) != LM_OK) ||
            (kn->ingress &&
             lm_results_set_meta(db, "knative.ingress", kn->ingress, err) != LM_OK) ||
            lm_results_set_meta(db, "knative.cold",
                                kn->cold == LM_EXP_COLD_REVISION ? "revision"
                                : kn->cold == LM_EXP_COLD_NONE   ? "none"
                                                                 : "zero",
                                err) != LM_OK ||
            lm__kn_services(s, kn, db, err) != LM_OK)
            goto out;
    } else if (!o->resume) {
        if (lm__exp_machine_meta(db, rts, nrt, err) != LM_OK ||
            lm_results_set_meta(db, "platform", "local", err) != LM_OK ||
            artifact_rows(db, s, rts, nrt, o->artifacts, err) != LM_OK ||
            lm_results_flush(db, err) != LM_OK)
            goto out;
    }

    /* Data, Redis, the gateway. */
    char why[LM_ERRLEN], addr[300];
    if (!(store = lm_redis_open(o->redis, &server, addr, sizeof addr, err))) goto out;
    for (size_t g = 0; g < data.ngroups; g++) {
        group_data *gd = &data.groups[g];
        if (lm_dataset_cached(s->seed, gd->group, gd->dir, sizeof gd->dir, why) != LM_OK) {
            lm_errf(err, "data: %s", why);
            goto out;
        }
        json_t *m = lm_dataset_manifest(gd->dir, err);
        if (!m) goto out;
        gd->requests = json_incref(json_object_get(json_object_get(m, "requests"), gd->group));
        json_decref(m);
        if (lm_dataset_load(gd->dir, store, gd->group, NULL, NULL, err) != LM_OK) goto out;
    }
    char dir[2100], config[2200], log[2400];
    snprintf(dir, sizeof dir, "%s", o->db);
    snprintf(res->dir, sizeof res->dir, "%s", dirname(dir));
    snprintf(config, sizeof config, "%s/platform.json", res->dir);
    snprintf(log, sizeof log, "%s/gateway.log", res->dir);
    if (lm_file_write(config, s->platform_json, strlen(s->platform_json), err) != LM_OK) goto out;
    /* The gateway writes into the same file; this handle must not hold
     * rows it has not written when the gateway opens it. */
    if (lm_results_flush(db, err) != LM_OK) goto out;
    lm_results_ids used = {0};
    if (kn && (!(seen = lm__kn_seen_new()) || lm_results_used_ids(db, &used, err) != LM_OK)) {
        if (!seen) lm_errf(err, "out of memory");
        goto out;
    }
    int64_t next_request_id = used.request + 1;

    lm__exp_ctx x = {.spec = s,
                     .url = gw.url,
                     .db = db,
                     .gw = &gw,
                     .body = body_of,
                     .body_arg = &data,
                     .stop = o->stop,
                     .kn = kn,
                     .next_request_id = &next_request_id,
                     .seen = seen};
    uint64_t t0 = lm_now_ns();
    size_t ran = 0;
    int env = -1; /* the environment of the gateway running (-1: none yet) */
    for (size_t i = 0; i < ncells; i++) {
        const lm_exp_cell *c = &cells[i];
        if (done.done[c->id - 1]) continue;
        if (o->stop && *o->stop) break;
        /* A gateway per environment: `serve --nodes N` places every
         * instance on N, `--network` shapes its links. Its rows are all in
         * the file (each cell flushes them) before it stops. */
        if (!kn && c->env != env) {
            lm__gw_stop(&gw);
            lm__gw_env ge = {.node = c->node && strcmp(c->node, "host") ? c->node : NULL,
                             .network = c->network_cond};
            env_log(res->dir, c, log, sizeof log);
            if (lm_results_flush(db, err) != LM_OK ||
                lm__gw_start(o->lumos_exe, o->db, addr, config,
                             s->file_storage ? data.groups[0].dir : NULL, &ge, log, &gw,
                             err) != LM_OK)
                goto out;
            env = c->env;
        }
        progress_line(o, i, ncells, c, (double)(lm_now_ns() - t0) / 1e9, ran);
        lm__cell_outcome co;
        if ((kn ? lm__kn_run_cell(&x, c, &co, why) : lm__exp_run_cell(&x, c, &co, why)) != LM_OK) {
            if (o->stop && *o->stop) break;
            lm_errf(err, "cell %s: %s", c->name, why);
            goto out;
        }
        ran++;
        res->done++;
        res->requests += co.sent;
        res->excluded += co.excluded_start;
        if (co.failed_client || co.rows != co.sent) res->problem_cells++;
    }
    if (o->progress) fprintf(stderr, "\r\033[K");
    res->interrupted = o->stop && *o->stop;
    rc = LM_OK;
out:
    lm__gw_stop(&gw);
    lm_store_free(store);
    lm_redis_server_stop(&server);
    if (db) lm_results_close(db);
    run_data_free(&data);
    free(done.done);
    free(done.names);
    lm__kn_seen_free(seen);
    free(cells);
    return rc;
}
