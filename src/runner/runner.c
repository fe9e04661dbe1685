/* runner.c -- the matrix of `lumos run` (runner.h): the data set and
 * Redis, then every function on every runtime, one instance at a time,
 * cold and warm, recorded in requests.csv and results.db. */
#include "runner/runner.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel/channel.h"
#include "data/dataset.h"
#include "observe/recorder.h"
#include "observe/telemetry.h"
#include "results/results.h"
#include "runner/internal.h"
#include "storage/storage.h"

/* What every pair shares. */
typedef struct {
    const lm_runner_opts *o;
    lm_store *store;
    const char *data_dir;
    FILE *csv;
    lm_results *db;
    int64_t next_request;
    int done, total;
} run_ctx;

/* The cached data set for seed and group, generated when missing, or the
 * one given, which must have the group. */
static int ensure_data(const lm_runner_opts *o, char *dir, size_t n, char *err) {
    if (o->data) {
        snprintf(dir, n, "%s", o->data);
        json_t *m = lm_dataset_manifest(dir, err);
        if (!m) return LM_ERR;
        int has = json_object_get(json_object_get(m, "requests"), o->group) != NULL;
        json_decref(m);
        return has ? LM_OK
                   : lm_errf(err, "data set %s has no group %s: `lumos data gen --groups %s`", dir,
                             o->group, o->group);
    }
    return lm_dataset_cached(o->seed, o->group, dir, n, err);
}

/* One request's row, in both records. */
static void record(run_ctx *c, int64_t service_id, lm__run_row *row, const lm_call_result *r,
                   const lm_usage *delta, int measured, const lm_cold_phases *ph) {
    lm_request_record q = {.id = ++c->next_request,
                           .phases = ph,
                           .service_id = service_id,
                           .instance_id = row->instance[0] ? row->instance : NULL,
                           .status = row->status,
                           .cold = strcmp(row->kind, "cold") == 0,
                           .res = r,
                           .usage = measured ? LM_RECORD_USAGE_SPLIT : LM_RECORD_USAGE_NONE,
                           .error = row->error[0] ? row->error : NULL};
    if (r) {
        q.t.dispatch = r->sent_ns;
        q.t.result = r->result_ns;
    }
    if (measured) {
        q.cpu_user_ns = delta->cpu_user_ns;
        q.cpu_system_ns = delta->cpu_system_ns;
        q.mem_peak_bytes = delta->mem_peak_bytes;
    }
    lm_record_request(c->db, &q);
    lm__requests_csv_row(c->csv, row);
    c->done++;
    if (c->o->progress)
        c->o->progress(c->o->progress_arg, row->function, row->runtime, c->done, c->total);
}

/* Runs one function on one runtime: a fresh instance, then 1 + warmup +
 * runs requests; an instance that fails is replaced for the next one. */
static void run_pair(run_ctx *c, const char *fn, const lm_runtime *rt, int64_t service_id,
                     const char *body) {
    const lm_runner_opts *o = c->o;
    lm_start_opts so = {.artifacts = lm_artifacts_dir(o->artifacts),
                        .data_dir = c->data_dir,
                        .stderr_fd = LM_STDERR_CAPTURE,
                        .memory_limit = o->memory_limit,
                        .no_cgroup = o->no_cgroup};
    lm_instance inst;
    int started = 0, have_ph = 0;
    lm_cold_phases ph;
    double cold_ms = 0;
    long long total = 1 + o->warmup + o->runs;
    for (long long i = 0; i < total; i++) {
        lm__run_row s;
        memset(&s, 0, sizeof(s));
        s.function = fn;
        s.runtime = rt->name;
        s.group = o->group;
        s.telemetry = "";
        s.kind = i == 0 ? "cold" : i <= o->warmup ? "warmup" : "warm";
        s.iteration = (int)i;
        char err[LM_ERRLEN];
        if (!started) {
            uint64_t ready;
            if (lm_instance_start(rt, fn, &so, &inst, err) != LM_OK ||
                lm_wait_ready(&inst, (int)o->timeout_ms, &ready, err) != LM_OK) {
                snprintf(s.error, sizeof(s.error), "%.250s", err);
                lm_instance_stop(&inst, 0);
                record(c, service_id, &s, NULL, NULL, 0, NULL);
                continue;
            }
            started = 1;
            lm_record_instance_start(c->db, &inst, service_id, inst.start_ns);
            lm_record_instance_ready(c->db, &inst, inst.start_ns, ready);
            have_ph = lm_instance_phases(&inst, &ph) == LM_OK;
            /* The next start (a replacement, the next pair) takes a
             * launcher placed ahead of need; best effort. */
            if (!rt->own_cgroup && !o->no_cgroup) lm_instances_park(&so, 1, NULL);
            cold_ms = (double)(ready - inst.spawn_ns) / 1e6;
            s.placement_ms = (double)(inst.spawn_ns - inst.start_ns) / 1e6;
            s.kind = "cold"; /* a restart is cold too */
            s.cold_start_ms = cold_ms;
        }
        snprintf(s.instance, sizeof(s.instance), "%s", inst.id);
        /* The instance serves one request at a time: its CPU time and peak
         * memory across the call belong to this request. */
        lm_usage before, after, delta;
        if (inst.cgroup.version)
            lm_telemetry_reset_peak(&inst.cgroup);
        else
            lm_telemetry_reset_peak_pid(inst.child.pid);
        int measured = lm_telemetry_read(&inst.cgroup, inst.child.pid, &before, NULL) == LM_OK;
        memset(&delta, 0, sizeof(delta));
        lm_call_result r;
        int called =
            lm_call(&inst, body, strlen(body), c->store, (int)o->timeout_ms, NULL, NULL, &r, err);
        measured =
            measured && lm_telemetry_read(&inst.cgroup, inst.child.pid, &after, NULL) == LM_OK;
        if (measured) {
            lm_usage_delta(&before, &after, &delta);
            s.cpu_ms = (double)(delta.cpu_user_ns + delta.cpu_system_ns) / 1e6;
            s.mem_peak_bytes = delta.mem_peak_bytes;
            s.telemetry = lm_usage_source_name(after.source);
        }
        if (called != LM_OK) {
            /* The instance crashed, hung or broke the channel: record it and
             * start a new one for the next request. */
            snprintf(s.error, sizeof(s.error), "%.250s", err);
            record(c, service_id, &s, NULL, &delta, measured,
                   have_ph && strcmp(s.kind, "cold") == 0 ? &ph : NULL);
            lm_record_instance_end(c->db, inst.id, "failed", lm_now_ns());
            lm_telemetry_release(&inst.cgroup);
            lm_instance_stop(&inst, 0);
            started = 0;
            continue;
        }
        s.status = r.status;
        s.latency_ms = (double)(r.result_ns - r.sent_ns) / 1e6;
        s.host_storage_ms = (double)r.storage_ns / 1e6;
        memcpy(s.probes, r.probes, sizeof(s.probes));
        if (r.status < 200 || r.status > 299) snprintf(s.error, sizeof(s.error), "%.200s", r.body);
        record(c, service_id, &s, &r, &delta, measured,
               have_ph && strcmp(s.kind, "cold") == 0 ? &ph : NULL);
        lm_call_result_free(&r);
    }
    if (started) {
        lm_record_instance_end(c->db, inst.id, "done", lm_now_ns());
        lm_telemetry_release(&inst.cgroup);
        lm_instance_stop(&inst, 1000);
    }
}

/* The run's settings, for the report (report/load.c reads them). */
static int write_meta(lm_results *db, const lm_runner_opts *o, const char *data_dir,
                      uint64_t started_wall, char *err) {
    char num[5][32];
    snprintf(num[0], sizeof(num[0]), "%lld", o->runs);
    snprintf(num[1], sizeof(num[1]), "%lld", o->warmup);
    snprintf(num[2], sizeof(num[2]), "%lld", o->seed);
    snprintf(num[3], sizeof(num[3]), "%llu", (unsigned long long)started_wall);
    snprintf(num[4], sizeof(num[4]), "%lld", o->timeout_ms);
    const char *kv[][2] = {{"run.group", o->group},
                           {"run.runs", num[0]},
                           {"run.warmup", num[1]},
                           {"run.seed", num[2]},
                           {"run.storage", o->file_storage ? "file" : "redis"},
                           {"run.started_wall_ns", num[3]},
                           {"run.timeout_ms", num[4]},
                           {"run.data_dir", data_dir},
                           {"run.artifacts", lm_artifacts_dir(o->artifacts)}};
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
        if (lm_results_set_meta(db, kv[i][0], kv[i][1], err) != LM_OK) return LM_ERR;
    return LM_OK;
}

int lm_runner_run(const lm_runner_opts *o, lm_runner_result *res, char *err) {
    memset(res, 0, sizeof(*res));
    for (size_t r = 0; r < o->nruntimes; r++) {
        char path[4096];
        for (size_t f = 0; f < o->nfunctions; f++)
            if (lm_artifact_path(lm_artifacts_dir(o->artifacts), o->runtimes[r]->target,
                                 o->functions[f], path, sizeof(path), err) != LM_OK)
                return LM_ERR;
    }
    char why[LM_ERRLEN];
    if (ensure_data(o, res->data_dir, sizeof(res->data_dir), why) != LM_OK)
        return lm_errf(err, "data: %s", why);
    json_t *manifest = lm_dataset_manifest(res->data_dir, err);
    if (!manifest) return LM_ERR;
    json_t *requests = json_object_get(json_object_get(manifest, "requests"), o->group);
    if (lm_mkdirs(o->out, err) != LM_OK) {
        json_decref(manifest);
        return LM_ERR;
    }

    int rc = LM_ERR;
    lm_redis_server server = {0};
    run_ctx c = {.o = o, .data_dir = res->data_dir};
    if (!o->file_storage) {
        if (!(c.store = lm_redis_open(o->redis, &server, NULL, 0, err))) goto done;
        if (lm_dataset_load(res->data_dir, c.store, o->group, NULL, NULL, err) != LM_OK) goto done;
    }
    char path[2100];
    snprintf(path, sizeof(path), "%s/requests.csv", o->out);
    if (!(c.csv = fopen(path, "w"))) {
        lm_errf(err, "cannot write %s", path);
        goto done;
    }
    lm__requests_csv_header(c.csv);
    /* Every request also goes into one SQLite database (docs/results.md),
     * which the report is made from. */
    snprintf(res->db_path, sizeof(res->db_path), "%s/results.db", o->out);
    /* A run into the same folder replaces the last one's database, as it
     * does requests.csv: its rows would collide with this run's ids. */
    const char *const sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char old[2200];
        snprintf(old, sizeof(old), "%s%s", res->db_path, sfx[i]);
        if (unlink(old) != 0 && errno != ENOENT) {
            lm_errf(err, "cannot replace %s: %s", old, strerror(errno));
            goto done;
        }
    }
    lm_results_opts ro = {.lumos_version = o->lumos_version};
    if (!(c.db = lm_results_open(res->db_path, &ro, err))) goto done;
    uint64_t started_wall = lm_wall_ns();
    if (write_meta(c.db, o, res->data_dir, started_wall, err) != LM_OK) goto done;
    c.total = (int)(o->nfunctions * o->nruntimes * (size_t)(1 + o->warmup + o->runs));
    for (size_t f = 0; f < o->nfunctions; f++) {
        json_t *req = json_deep_copy(json_object_get(requests, o->functions[f]));
        if (!req) {
            lm_errf(err, "the data set has no request for %s", o->functions[f]);
            goto done;
        }
        if (o->file_storage) json_object_set_new(req, "storage", json_string("file"));
        char *body = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        for (size_t r = 0; r < o->nruntimes; r++) {
            int64_t service_id = (int64_t)(f * o->nruntimes + r + 1);
            char name[200];
            snprintf(name, sizeof(name), "%s@%s", o->functions[f], o->runtimes[r]->name);
            lm_record_service(c.db, service_id, name, o->functions[f], o->runtimes[r]->name, body);
            run_pair(&c, o->functions[f], o->runtimes[r], service_id, body);
        }
        free(body);
    }
    res->requests = c.done;
    if (fclose(c.csv) != 0) {
        c.csv = NULL;
        lm_errf(err, "writing %s/requests.csv failed", o->out);
        goto done;
    }
    c.csv = NULL;
    rc = lm_results_flush(c.db, err);
done:
    lm_instances_unpark();            /* the launchers placed ahead of need */
    if (c.db) lm_results_close(c.db); /* builds the indexes; the report reads it next */
    if (c.csv) fclose(c.csv);
    lm_store_free(c.store);
    lm_redis_server_stop(&server);
    json_decref(manifest);
    return rc;
}
