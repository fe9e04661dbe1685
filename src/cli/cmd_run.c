/* cmd_run.c -- `lumos run`, the main job: every function on every runtime,
 * cold and warm, on one payload group, with raw per-request data and a
 * report. (The platform issue will put the gateway in front; this drives
 * instances directly over the channel.) */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder/catalog.h"
#include "cli/cli.h"
#include "load/dataset.h"
#include "platform/host_channel.h"
#include "platform/store.h"
#include "report/summary.h"
#include "runtime/runtime.h"

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
    fprintf(f, ",%.6f,\"%s\"\n", s->host_storage_ms, s->error);
}

static void csv_header(FILE *f) {
    fprintf(f, "function,runtime,group,instance,kind,iteration,status,cold_start_ms,placement_ms,"
               "latency_ms");
    for (int i = 0; i < LM_PROBE_COUNT; i++)
        fprintf(f, ",%s", lm_probe_names[i]);
    fprintf(f, ",host_storage_ms,error\n");
}

/* Runs one function on one runtime; appends its samples. */
static void run_pair(const run_opts *o, const char *fn, const lm_runtime *rt, const char *body,
                     lm_store *store, const char *data_dir, lm_samples *out, FILE *csv,
                     int *progress_done, int progress_total) {
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
                lm_samples_add(out, &s);
                csv_row(csv, &s);
                continue;
            }
            started = 1;
            cold_ms = (double)(ready - inst.spawn_ns) / 1e6;
            s.placement_ms = (double)(inst.spawn_ns - inst.start_ns) / 1e6;
            if (i > 0) snprintf(s.kind, sizeof(s.kind), "cold"); /* a restart is cold too */
            s.cold_start_ms = cold_ms;
        }
        snprintf(s.instance, sizeof(s.instance), "%s", inst.id);
        lm_call_result r;
        if (lm_call(&inst, body, strlen(body), store, (int)o->timeout, NULL, NULL, &r, err) !=
            LM_OK) {
            /* The instance crashed, hung or broke the channel: record it and
             * start a new one for the next request. */
            snprintf(s.error, sizeof(s.error), "%.250s", err);
            lm_instance_stop(&inst, 0);
            started = 0;
        } else {
            s.status = r.status;
            s.latency_ms = (double)(r.result_ns - r.sent_ns) / 1e6;
            s.host_storage_ms = (double)r.storage_ns / 1e6;
            memcpy(s.probes, r.probes, sizeof(s.probes));
            if (r.status < 200 || r.status > 299)
                snprintf(s.error, sizeof(s.error), "%.200s", r.body);
            lm_call_result_free(&r);
        }
        lm_samples_add(out, &s);
        csv_row(csv, &s);
        (*progress_done)++;
        if (lm_progress_enabled())
            fprintf(stderr, "\r\033[Krun: %s on %s  %d/%d requests", fn, rt->name, *progress_done,
                    progress_total);
    }
    if (started) lm_instance_stop(&inst, 1000);
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
        for (int r = 0; r < nrt; r++)
            run_pair(&o, fns[f], rtp[r], body, store, data_dir, &samples, csv, &done, total);
        free(body);
    }
    if (lm_progress_enabled()) fprintf(stderr, "\r\033[K");
    fclose(csv);
    csv = NULL;

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
        printf(
            "\nraw data and report in %s/ (requests.csv, summary.csv, summary.json, report.md)\n",
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
    if (csv) fclose(csv);
    lm_samples_free(&samples);
    lm_store_free(store);
    lm_redis_server_stop(&server);
    json_decref(manifest);
    return rc;
}
