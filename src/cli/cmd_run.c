/* cmd_run.c -- `lumos run`, the main job: every function on every runtime,
 * cold and warm, on one payload group, with raw per-request data and a
 * report. (The platform issue will put the gateway in front; this drives
 * instances directly over the channel.) */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel/channel.h"
#include "cli/cli.h"
#include "data/dataset.h"
#include "functions/catalog.h"
#include "observe/telemetry.h"
#include "report/summary.h"
#include "results/results.h"
#include "runtime/runtime.h"
#include "storage/storage.h"

static const char help[] =
    "usage: lumos run [options]\n"
    "\n"
    "The main job. For every function and runtime: starts a fresh instance and\n"
    "times its cold start (spawn to READY), sends the group's benchmark request\n"
    "once cold, --warmup times unrecorded, then --runs times warm; records every\n"
    "request (client latency and the function's own probes: deserialize, storage\n"
    "I/O, compute, serialize); writes raw and summary data and a report.\n"
    "Inputs come from `lumos data gen` (generated and cached when not given),\n"
    "loaded into a private redis-server that Lumos starts and stops itself.\n"
    "\n"
    "options:\n"
    "  --group G          payload group: xs, s (default: 50 KiB, quick), 1, 2 (1 MiB), 3\n"
    "  --runs N           warm requests measured per function and runtime (default 10)\n"
    "  --warmup N         warm requests before them, not summarized (default 1)\n"
    "  --functions LIST   comma-separated (default: the eight benchmark functions)\n"
    "  --runtimes LIST    comma-separated (default: native, container, wasm-aot,\n"
    "                     wasm-interp, wasm-jit: those available here)\n"
    "  --seed S           data set seed (default 1)\n"
    "  --data DIR         use this data set instead of the cached one\n"
    "  --redis HOST:PORT  use this Redis instead of a private one\n"
    "  --storage KIND     redis (default) or file (the data set folder)\n"
    "  --out DIR          results folder (default results/run-YYYYmmdd-HHMMSS)\n"
    "  --timeout MS       per start and per request (default 120000)\n"
    "  --memory-limit MIB each instance's cgroup memory limit (default: none)\n"
    "  --no-cgroup        run instances without cgroups of their own\n"
    "  --artifacts DIR    artifact folder (default build/artifacts)\n"
    "  --json             print the summary as JSON instead of a table\n"
    "  -h, --help         this text\n"
    "\n"
    "Output files: requests.csv (one row per request, raw), summary.csv,\n"
    "summary.json, report.md (table, method, findings).\n";

typedef struct {
    const char *group, *functions, *runtimes, *data, *redis, *storage, *out, *artifacts;
    long long runs, warmup, seed, timeout, memory_mb;
    int json, no_cgroup;
} run_opts;

static int split(char *list, char **items, int max) {
    int n = 0;
    for (char *save, *t = strtok_r(list, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
        items[n++] = t;
    return n;
}

/* The cached data set for seed and group, generated when missing. */
static int ensure_data(const run_opts *o, char *dir, size_t n, char *err) {
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
    snprintf(dir, n, "%s/build/data/seed-%lld-group-%s", LM_SOURCE_DIR, o->seed, o->group);
    json_t *m = lm_dataset_manifest(dir, NULL);
    if (m) {
        json_decref(m);
        return LM_OK;
    }
    lm_datagen_opts g = {(uint64_t)o->seed, dir, o->group, NULL, 0};
    return lm_datagen(&g, err);
}

static void csv_row(FILE *f, const lm_sample *s) {
    fprintf(f, "%s,%s,%s,%s,%s,%d,%d,%.6f,%.6f,%.6f", s->function, s->runtime, s->group,
            s->instance, s->kind, s->iteration, s->status, s->cold_start_ms, s->placement_ms,
            s->latency_ms);
    for (int i = 0; i < LM_PROBE_COUNT; i++)
        fprintf(f, ",%llu", (unsigned long long)s->probes[i]);
    fprintf(f, ",%.6f,%.6f,%llu,%s,\"", s->host_storage_ms, s->cpu_ms,
            (unsigned long long)s->mem_peak_bytes, s->telemetry);
    /* RFC 4180: quotes inside a quoted field are doubled; a new line is kept
     * out so every request stays one line. */
    for (const char *p = s->error; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
    }
    fputs("\"\n", f);
}

static void csv_header(FILE *f) {
    fprintf(f, "function,runtime,group,instance,kind,iteration,status,cold_start_ms,placement_ms,"
               "latency_ms");
    for (int i = 0; i < LM_PROBE_COUNT; i++)
        fprintf(f, ",%s", lm_probe_names[i]);
    fprintf(f, ",host_storage_ms,cpu_ms,mem_peak_bytes,telemetry,error\n");
}

/* Runs one function on one runtime; appends its samples. */
/* Where a pair's rows go in the results database (NULL: none). */
typedef struct {
    lm_results *db;
    int64_t service_id;
    int64_t *next_request;
} recorder;

static void record_instance(const recorder *rec, const lm_instance *inst, uint64_t ready_ns,
                            const char *end_reason) {
    if (!rec->db) return;
    lm_results_instance row;
    lm_results_instance_init(&row);
    row.id = inst->id;
    row.service_id = rec->service_id;
    row.runtime = inst->runtime->name;
    row.pid = inst->child.pid;
    row.cgroup = inst->cgroup.version ? inst->cgroup.dirs[0] : NULL;
    row.start_ns = (int64_t)inst->start_ns;
    row.spawn_ns = (int64_t)inst->spawn_ns;
    if (ready_ns) {
        row.ready_ns = (int64_t)ready_ns;
        row.placement_ms = (double)(inst->spawn_ns - inst->start_ns) / 1e6;
        row.cold_start_ms = (double)(ready_ns - inst->spawn_ns) / 1e6;
    }
    if (end_reason) {
        row.stop_ns = (int64_t)lm_now_ns();
        row.end_reason = end_reason;
    }
    if (end_reason)
        lm_results_update_instance(rec->db, &row, NULL);
    else
        lm_results_add_instance(rec->db, &row, NULL);
}

static void record_request(const recorder *rec, const lm_sample *s, const lm_call_result *r,
                           const lm_usage *delta, int measured) {
    if (!rec->db) return;
    lm_results_request row;
    lm_results_request_init(&row);
    row.id = ++*rec->next_request;
    row.service_id = rec->service_id;
    row.instance_id = s->instance[0] ? s->instance : NULL;
    row.status_http = s->status ? s->status : LM_RESULTS_NULL;
    row.cold = strcmp(s->kind, "cold") == 0;
    if (r) {
        row.dispatch_ns = (int64_t)r->sent_ns;
        row.result_ns = (int64_t)r->result_ns;
        row.deser_ns = (int64_t)r->probes[LM_PROBE_DESER_NS];
        row.io_ns = (int64_t)r->probes[LM_PROBE_IO_NS];
        row.compute_ns = (int64_t)r->probes[LM_PROBE_COMPUTE_NS];
        row.ser_ns = (int64_t)r->probes[LM_PROBE_SER_NS];
        row.func_total_ns = (int64_t)r->probes[LM_PROBE_TOTAL_NS];
        row.io_read_bytes = (int64_t)r->probes[LM_PROBE_IO_READ_BYTES];
        row.io_write_bytes = (int64_t)r->probes[LM_PROBE_IO_WRITE_BYTES];
        row.io_calls = (int64_t)r->probes[LM_PROBE_IO_CALLS];
    }
    if (measured) {
        row.cpu_user_ns = (int64_t)delta->cpu_user_ns;
        row.cpu_system_ns = (int64_t)delta->cpu_system_ns;
        row.cpu_ns = (int64_t)(delta->cpu_user_ns + delta->cpu_system_ns);
        row.mem_peak_bytes = (int64_t)delta->mem_peak_bytes;
    }
    row.error = s->error[0] ? s->error : NULL;
    lm_results_add_request(rec->db, &row, NULL);
}

static void run_pair(const run_opts *o, const char *fn, const lm_runtime *rt, const char *body,
                     lm_store *store, const char *data_dir, lm_samples *out, FILE *csv,
                     const recorder *rec, int *progress_done, int progress_total) {
    lm_start_opts so = {.artifacts = lm_artifacts_dir(o->artifacts),
                        .data_dir = data_dir,
                        .stderr_fd = LM_STDERR_CAPTURE,
                        .memory_limit = (uint64_t)o->memory_mb << 20,
                        .no_cgroup = o->no_cgroup};
    lm_instance inst;
    int started = 0;
    double cold_ms = 0;
    long long total = 1 + o->warmup + o->runs;
    for (long long i = 0; i < total; i++) {
        lm_sample s;
        memset(&s, 0, sizeof(s));
        snprintf(s.function, sizeof(s.function), "%s", fn);
        snprintf(s.runtime, sizeof(s.runtime), "%s", rt->name);
        snprintf(s.group, sizeof(s.group), "%s", o->group);
        snprintf(s.kind, sizeof(s.kind), "%s",
                 i == 0           ? "cold"
                 : i <= o->warmup ? "warmup"
                                  : "warm");
        s.iteration = (int)i;
        char err[LM_ERRLEN];
        if (!started) {
            uint64_t ready;
            if (lm_instance_start(rt, fn, &so, &inst, err) != LM_OK ||
                lm_wait_ready(&inst, (int)o->timeout, &ready, err) != LM_OK) {
                snprintf(s.error, sizeof(s.error), "%.250s", err);
                lm_instance_stop(&inst, 0);
                record_request(rec, &s, NULL, NULL, 0);
                lm_samples_add(out, &s);
                csv_row(csv, &s);
                continue;
            }
            started = 1;
            record_instance(rec, &inst, ready, NULL);
            cold_ms = (double)(ready - inst.spawn_ns) / 1e6;
            s.placement_ms = (double)(inst.spawn_ns - inst.start_ns) / 1e6;
            if (i > 0) snprintf(s.kind, sizeof(s.kind), "cold"); /* a restart is cold too */
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
            lm_call(&inst, body, strlen(body), store, (int)o->timeout, NULL, NULL, &r, err);
        measured =
            measured && lm_telemetry_read(&inst.cgroup, inst.child.pid, &after, NULL) == LM_OK;
        if (measured) {
            lm_usage_delta(&before, &after, &delta);
            s.cpu_ms = (double)(delta.cpu_user_ns + delta.cpu_system_ns) / 1e6;
            s.mem_peak_bytes = delta.mem_peak_bytes;
            snprintf(s.telemetry, sizeof(s.telemetry), "%s", lm_usage_source_name(after.source));
        }
        if (called != LM_OK) {
            /* The instance crashed, hung or broke the channel: record it and
             * start a new one for the next request. */
            snprintf(s.error, sizeof(s.error), "%.250s", err);
            record_request(rec, &s, NULL, &delta, measured);
            record_instance(rec, &inst, 0, "failed");
            lm_telemetry_release(&inst.cgroup);
            lm_instance_stop(&inst, 0);
            started = 0;
        } else {
            s.status = r.status;
            s.latency_ms = (double)(r.result_ns - r.sent_ns) / 1e6;
            s.host_storage_ms = (double)r.storage_ns / 1e6;
            memcpy(s.probes, r.probes, sizeof(s.probes));
            if (r.status < 200 || r.status > 299)
                snprintf(s.error, sizeof(s.error), "%.200s", r.body);
            record_request(rec, &s, &r, &delta, measured);
            lm_call_result_free(&r);
        }
        lm_samples_add(out, &s);
        csv_row(csv, &s);
        (*progress_done)++;
        if (lm_progress_enabled())
            fprintf(stderr, "\r\033[Krun: %s on %s  %d/%d requests", fn, rt->name, *progress_done,
                    progress_total);
    }
    if (started) {
        record_instance(rec, &inst, 0, "done");
        lm_telemetry_release(&inst.cgroup);
        lm_instance_stop(&inst, 1000);
    }
}

static int parse(int argc, char **argv, run_opts *o) {
    static const struct option opts[] = {
        {"group", required_argument, 0, 'g'},    {"runs", required_argument, 0, 'n'},
        {"warmup", required_argument, 0, 'w'},   {"functions", required_argument, 0, 'f'},
        {"runtimes", required_argument, 0, 'r'}, {"seed", required_argument, 0, 's'},
        {"data", required_argument, 0, 'd'},     {"redis", required_argument, 0, 'R'},
        {"storage", required_argument, 0, 'S'},  {"out", required_argument, 0, 'o'},
        {"timeout", required_argument, 0, 't'},  {"artifacts", required_argument, 0, 'a'},
        {"json", no_argument, 0, 'J'},           {"memory-limit", required_argument, 0, 'm'},
        {"no-cgroup", no_argument, 0, 'N'},      {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long long *num = NULL;
        switch (c) {
        case 'g': o->group = optarg; break;
        case 'n': num = &o->runs; break;
        case 'w': num = &o->warmup; break;
        case 'f': o->functions = optarg; break;
        case 'r': o->runtimes = optarg; break;
        case 's': num = &o->seed; break;
        case 'd': o->data = optarg; break;
        case 'R': o->redis = optarg; break;
        case 'S': o->storage = optarg; break;
        case 'o': o->out = optarg; break;
        case 't': num = &o->timeout; break;
        case 'm': num = &o->memory_mb; break;
        case 'a': o->artifacts = optarg; break;
        case 'J': o->json = 1; break;
        case 'N': o->no_cgroup = 1; break;
        default: return lm_cli_usage("run", "unknown option '%s'", argv[optind - 1]);
        }
        if (num && lm_cli_parse_count(optarg, num))
            return lm_cli_usage("run", "%s needs a non-negative integer, not '%s'",
                                argv[optind - 2], optarg);
    }
    if (optind < argc) return lm_cli_usage("run", "unexpected argument '%s'", argv[optind]);
    if (o->redis) {
        char host[256], e[LM_ERRLEN];
        int port;
        if (lm_parse_hostport(o->redis, host, sizeof(host), &port, e) != LM_OK)
            return lm_cli_usage("run", "--redis: %s", e);
    }
    if (!lm_group_find(o->group))
        return lm_cli_usage("run", "unknown group '%s' (xs, s, 1, 2, 3)", o->group);
    if (o->runs < 1 || o->runs > 1000000) return lm_cli_usage("run", "--runs must be 1 to 1000000");
    if (o->warmup > 1000000) return lm_cli_usage("run", "--warmup must be at most 1000000");
    if (o->timeout < 1) return lm_cli_usage("run", "--timeout must be at least 1 ms");
    if (o->memory_mb > 1 << 20) return lm_cli_usage("run", "--memory-limit is at most 1048576 MiB");
    if (o->memory_mb && o->no_cgroup) return lm_cli_usage("run", "--memory-limit needs a cgroup");
    if (strcmp(o->storage, "redis") != 0 && strcmp(o->storage, "file") != 0)
        return lm_cli_usage("run", "--storage must be redis or file");
    return 0;
}

int lm_cmd_run(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    run_opts o = {.group = "s",
                  .runtimes = NULL,
                  .storage = "redis",
                  .runs = 10,
                  .warmup = 1,
                  .seed = 1,
                  .timeout = 120000};
    int prc = parse(argc, argv, &o);
    if (prc) return prc;
    char err[LM_ERRLEN];

    /* Functions and runtimes, checked before any work starts. */
    char fnbuf[1024], rtbuf[256];
    char *fns[32], *rts[16];
    int nfn = 0, nrt;
    if (o.functions) {
        snprintf(fnbuf, sizeof(fnbuf), "%s", o.functions);
        nfn = split(fnbuf, fns, 32);
    } else {
        size_t n;
        const lm_fn_info *cat = lm_catalog(&n);
        for (size_t i = 0; i < n; i++)
            if (cat[i].benchmark) fns[nfn++] = (char *)cat[i].name;
    }
    /* The default set is the paper's (containers, Wasm interpreted and AoT)
     * with native and V8 beside it; a default runtime this machine lacks is
     * skipped with a warning, a named one is an error. */
    snprintf(rtbuf, sizeof(rtbuf), "%s",
             o.runtimes ? o.runtimes : "native,container,wasm-aot,wasm-interp,wasm-jit");
    char *listed[16];
    int nlisted = split(rtbuf, listed, 16);
    const lm_runtime *rtp[16];
    for (int i = 0; i < nfn; i++)
        if (!lm_catalog_find(fns[i])) return lm_cli_fail("unknown function '%s'", fns[i]);
    nrt = 0;
    for (int i = 0; i < nlisted; i++) {
        const lm_runtime *rt = lm_runtime_find(listed[i], err);
        if (!rt) return lm_cli_fail("%s", err);
        if (rt->available(rt, err) != LM_OK) {
            if (o.runtimes) return lm_cli_fail("runtime %s is not available: %s", listed[i], err);
            fprintf(stderr, "lumos run: skipping %s: %s\n", listed[i], err);
            continue;
        }
        rts[nrt] = listed[i];
        rtp[nrt++] = rt;
    }
    if (nrt == 0) return lm_cli_fail("no runtime to run");
    for (int i = 0; i < nrt; i++) {
        char path[4096];
        for (int f = 0; f < nfn; f++)
            if (lm_artifact_path(lm_artifacts_dir(o.artifacts), rtp[i]->target, fns[f], path,
                                 sizeof(path), err) != LM_OK)
                return lm_cli_fail("%s", err);
    }

    char data_dir[2048];
    if (ensure_data(&o, data_dir, sizeof(data_dir), err) != LM_OK)
        return lm_cli_fail("data: %s", err);
    json_t *manifest = lm_dataset_manifest(data_dir, err);
    if (!manifest) return lm_cli_fail("%s", err);
    json_t *requests = json_object_get(json_object_get(manifest, "requests"), o.group);

    char outdir[2048];
    if (o.out) {
        snprintf(outdir, sizeof(outdir), "%s", o.out);
    } else {
        time_t now = time(NULL);
        char stamp[32];
        strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
        snprintf(outdir, sizeof(outdir), "results/run-%s", stamp);
    }
    if (lm_mkdirs(outdir, err) != LM_OK) {
        json_decref(manifest);
        return lm_cli_fail("%s", err);
    }

    int rc = 1;
    lm_redis_server server = {0};
    lm_store *store = NULL;
    FILE *csv = NULL;
    lm_samples samples = {0};
    lm_results *db = NULL;
    int file_storage = strcmp(o.storage, "file") == 0;
    if (!file_storage) {
        if (!(store = lm_redis_open(o.redis, &server, NULL, 0, err))) goto fail;
        if (lm_dataset_load(data_dir, store, o.group, NULL, NULL, err) != LM_OK) goto fail;
    }
    char path[2100];
    snprintf(path, sizeof(path), "%s/requests.csv", outdir);
    if (!(csv = fopen(path, "w"))) {
        lm_errf(err, "cannot write %s", path);
        goto fail;
    }
    csv_header(csv);
    /* Every request also goes into one SQLite database (docs/results.md). */
    snprintf(path, sizeof(path), "%s/results.db", outdir);
    lm_results_opts ro = {.lumos_version = "0.1.0"};
    char dberr[LM_ERRLEN];
    db = lm_results_open(path, &ro, dberr);
    if (!db) fprintf(stderr, "lumos run: no results database: %s\n", dberr);
    int64_t next_request = 0;
    int done = 0, total = (int)(nfn * nrt * (1 + o.warmup + o.runs));
    uint64_t started_wall = lm_wall_ns();
    for (int f = 0; f < nfn; f++) {
        json_t *req = json_deep_copy(json_object_get(requests, fns[f]));
        if (!req) {
            lm_errf(err, "the data set has no request for %s", fns[f]);
            goto fail;
        }
        if (file_storage) json_object_set_new(req, "storage", json_string("file"));
        char *body = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        for (int r = 0; r < nrt; r++) {
            recorder rec = {db, (int64_t)(f * nrt + r + 1), &next_request};
            if (db) {
                char name[200];
                snprintf(name, sizeof(name), "%s@%s", fns[f], rts[r]);
                lm_results_service row;
                lm_results_service_init(&row);
                row.id = rec.service_id;
                row.name = name;
                row.function = fns[f];
                row.runtime = rts[r];
                row.config_json = body;
                row.created_ns = (int64_t)lm_now_ns();
                lm_results_add_service(db, &row, NULL);
            }
            run_pair(&o, fns[f], rtp[r], body, store, data_dir, &samples, csv, &rec, &done, total);
        }
        free(body);
    }
    if (lm_progress_enabled()) fprintf(stderr, "\r\033[K");
    fclose(csv);
    csv = NULL;
    if (db && lm_results_flush(db, err) != LM_OK) {
        fprintf(stderr, "lumos run: results database: %s\n", err);
    }

    const char *targets[16];
    for (int r = 0; r < nrt; r++)
        targets[r] = rtp[r]->target;
    lm_run_info info = {.group = o.group,
                        .runs = (int)o.runs,
                        .warmup = (int)o.warmup,
                        .seed = (unsigned long long)o.seed,
                        .storage = file_storage ? "file" : "redis",
                        .started_wall_ns = started_wall,
                        .data_dir = data_dir,
                        .artifacts = lm_artifacts_dir(o.artifacts),
                        .functions = (const char *const *)fns,
                        .nfunctions = (size_t)nfn,
                        .runtimes = (const char *const *)rts,
                        .targets = targets,
                        .nruntimes = (size_t)nrt};
    if (lm_report_write(outdir, &info, &samples, err) != LM_OK) goto fail;
    if (o.json)
        lm_report_print_json(stdout, &info, &samples);
    else
        lm_report_print_table(stdout, &info, &samples);
    if (!o.json)
        printf("\nraw data and report in %s/ (requests.csv, results.db, summary.csv, summary.json, "
               "report.md)\n",
               outdir);
    rc = lm_samples_failed(&samples) ? 1 : 0;
    if (rc)
        fprintf(stderr,
                "lumos run: some requests failed; see the error column of %s/requests.csv\n",
                outdir);
    goto done;
fail:
    if (lm_progress_enabled()) fprintf(stderr, "\r\033[K");
    lm_cli_fail("run: %s", err);
done:
    lm_results_close(db);
    if (csv) fclose(csv);
    lm_samples_free(&samples);
    lm_store_free(store);
    lm_redis_server_stop(&server);
    json_decref(manifest);
    return rc;
}
