/* cmd_run_direct.c -- `lumos run --direct`: its options, then the direct
 * runner (runner/: every function on every runtime, cold and warm, straight
 * over the instance's channel, no gateway; recorded in results.db) and the
 * report made from that database (report/). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "data/dataset.h"
#include "functions/catalog.h"
#include "report/summary.h"
#include "runner/runner.h"
#include "runtime/runtime.h"

static const char help[] =
    "usage: lumos run --direct [options]\n"
    "\n"
    "The runtimes without the platform: no gateway, no pool, no queue. For\n"
    "every function and runtime: starts a fresh instance and\n"
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
    "                     wasm-interp (Lumos' interpreter), wasm-jit: those\n"
    "                     available here; wasm-interp-wabt is wabt's)\n"
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

static void progress(void *arg, const char *fn, const char *rt, int done, int total) {
    (void)arg;
    fprintf(stderr, "\r\033[Krun: %s on %s  %d/%d requests", fn, rt, done, total);
}

static int parse(int argc, char **argv, run_opts *o) {
    static const struct option opts[] = {{"group", required_argument, 0, 'g'},
                                         {"runs", required_argument, 0, 'n'},
                                         {"warmup", required_argument, 0, 'w'},
                                         {"functions", required_argument, 0, 'f'},
                                         {"runtimes", required_argument, 0, 'r'},
                                         {"seed", required_argument, 0, 's'},
                                         {"data", required_argument, 0, 'd'},
                                         {"redis", required_argument, 0, 'R'},
                                         {"storage", required_argument, 0, 'S'},
                                         {"out", required_argument, 0, 'o'},
                                         {"timeout", required_argument, 0, 't'},
                                         {"artifacts", required_argument, 0, 'a'},
                                         {"json", no_argument, 0, 'J'},
                                         {"memory-limit", required_argument, 0, 'm'},
                                         {"no-cgroup", no_argument, 0, 'N'},
                                         {"direct", no_argument, 0, 'D'},
                                         {0, 0, 0, 0}};
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
        case 'D': break;
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

int lm_cmd_run_direct(int argc, char **argv) {
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
    char *fns[32];
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
    for (int i = 0; i < nlisted && nrt < 16; i++) {
        const lm_runtime *rt = lm_runtime_find(listed[i], err);
        if (!rt) return lm_cli_fail("%s", err);
        if (rt->available(rt, err) != LM_OK) {
            if (o.runtimes) return lm_cli_fail("runtime %s is not available: %s", listed[i], err);
            fprintf(stderr, "lumos run: skipping %s: %s\n", listed[i], err);
            continue;
        }
        rtp[nrt++] = rt;
    }
    if (nrt == 0) return lm_cli_fail("no runtime to run");

    char outdir[2048];
    if (o.out) {
        snprintf(outdir, sizeof(outdir), "%s", o.out);
    } else {
        time_t now = time(NULL);
        char stamp[32];
        strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
        snprintf(outdir, sizeof(outdir), "results/run-%s", stamp);
    }
    lm_runner_opts ro = {.group = o.group,
                         .runs = o.runs,
                         .warmup = o.warmup,
                         .seed = o.seed,
                         .timeout_ms = o.timeout,
                         .memory_limit = (uint64_t)o.memory_mb << 20,
                         .no_cgroup = o.no_cgroup,
                         .data = o.data,
                         .redis = o.redis,
                         .file_storage = strcmp(o.storage, "file") == 0,
                         .out = outdir,
                         .artifacts = o.artifacts,
                         .functions = (const char *const *)fns,
                         .nfunctions = (size_t)nfn,
                         .runtimes = rtp,
                         .nruntimes = (size_t)nrt,
                         .lumos_version = LM_CLI_VERSION,
                         .progress = lm_progress_enabled() ? progress : NULL};
    lm_runner_result res;
    int ran = lm_runner_run(&ro, &res, err);
    if (lm_progress_enabled()) fprintf(stderr, "\r\033[K");
    if (ran != LM_OK) return lm_cli_fail("run: %s", err);

    /* The report comes from the database, as `lumos report` makes it. */
    lm_report_data rep;
    if (lm_report_load(res.db_path, &rep, err) != LM_OK) return lm_cli_fail("run: %s", err);
    const char *targets[16];
    lm_cli_report_targets(&rep, targets, 16);
    int rc = 1;
    if (lm_report_write(outdir, &rep.info, &rep.samples, err) != LM_OK) {
        lm_cli_fail("run: %s", err);
        goto done;
    }
    if (o.json)
        lm_report_print_json(stdout, &rep.info, &rep.samples);
    else
        lm_report_print_table(stdout, &rep.info, &rep.samples);
    if (!o.json)
        printf("\nraw data and report in %s/ (requests.csv, results.db, summary.csv, summary.json, "
               "report.md)\n",
               outdir);
    rc = lm_samples_failed(&rep.samples) ? 1 : 0;
    if (rc)
        fprintf(stderr,
                "lumos run: some requests failed; see the error column of %s/requests.csv\n",
                outdir);
done:
    lm_report_data_free(&rep);
    return rc;
}
