/* cmd_run.c -- `lumos run [SPEC]`, the main job: an experiment spec (the
 * built-in quick one by default) run through the platform (experiment/),
 * then the report made from its database (report/). `--direct` is the
 * runner without the platform (cmd_run_direct.c). */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "experiment/experiment.h"
#include "report/summary.h"
#include "runtime/runtime.h"

static const char help[] =
    "usage: lumos run [SPEC] [options]\n"
    "       lumos run --direct [options]   (see lumos run --direct --help)\n"
    "\n"
    "The main job: runs an experiment spec (docs/experiments.md; without one,\n"
    "the built-in experiments/quick.json: every available runtime, cold and\n"
    "warm, two payload groups, a small concurrency sweep, a few minutes here).\n"
    "Checks the spec, its runtimes and traces before any work, builds missing\n"
    "artifacts, generates and loads the data into a private Redis, starts the\n"
    "platform (`lumos serve`) on a free loopback port and sends every request\n"
    "of every cell through its gateway with the load client. One SQLite\n"
    "database holds the spec, the machine, the artifacts, every request's\n"
    "lifecycle with the client's times, instance telemetry and events; a\n"
    "report is made from it. Ctrl-C stops after the current request: the cells\n"
    "done stay done, and --resume completes the rest.\n"
    "\n"
    "options:\n"
    "  --db FILE          the results database (default\n"
    "                     results/NAME-YYYYmmdd-HHMMSS/results.db); it must not\n"
    "                     exist unless --resume\n"
    "  --resume           complete FILE: run only the cells not done, say which\n"
    "  --redis HOST:PORT  use this Redis instead of a private one\n"
    "  --artifacts DIR    artifact folder (default build/artifacts)\n"
    "  --check            check the spec and print its cells, run nothing\n"
    "  --platform P       local (default: `lumos serve` here) or knative: every\n"
    "                     cell's requests go to its Knative Service through the\n"
    "                     cluster's ingress, whose pods run lumos-front\n"
    "                     (docs/knative.md, docs/knative-front.md)\n"
    "\n"
    "--platform knative (needs --redis: the cluster's Redis, where the data go):\n"
    "  --url-template T   each service's URL, with {service}, {function}, {runtime}\n"
    "                     (e.g. http://{service}.default.example.com/)\n"
    "  --service-url S=U  the URL of service S (repeatable; wins over the template)\n"
    "  --service-template T  a service's name (default {function}-{runtime}, made a\n"
    "                     DNS label, as `lumos deploy` names them)\n"
    "  --ingress H:P      connect to this numeric address, sending the URL's host\n"
    "                     as Host: (Kourier's or Istio's gateway)\n"
    "  --cold MODE        how a cold cell's requests are made cold: zero (default:\n"
    "                     wait until kubectl lists none of the service's pods),\n"
    "                     revision (a new revision; needs initial-scale 0), none\n"
    "  --cold-timeout S   the longest wait for one cold start (default 300)\n"
    "  --kubectl PATH     the kubectl to run (default kubectl on PATH)\n"
    "  --namespace NS     the services' namespace (default default)\n"
    "  --agent URL        `lumos agent`'s http://HOST:PORT: each pod's cgroup CPU\n"
    "                     and memory after every load run, into samples\n"
    "  --json             print the summary as JSON instead of a table\n"
    "  -h, --help         this text\n"
    "\n"
    "Output, beside the database: index.html (the report: open it in a\n"
    "browser; its figures in figures/, every request's row in rows/; see\n"
    "lumos report --help), report.md, summary.csv, summary.json,\n"
    "platform.json (the gateway's --config) and gateway.log.\n";

static volatile sig_atomic_t stop_flag;
static void on_stop(int sig) {
    (void)sig;
    stop_flag = 1;
}

#define MAX_SERVICE_URLS 256

typedef struct {
    const char *spec, *db, *redis, *artifacts;
    int resume, json, check;
    int knative, knative_opts; /* --platform knative; some of its options given */
    lm_exp_knative kn;
    char *service_urls[MAX_SERVICE_URLS];
} spec_opts;

static int parse_knative(int c, spec_opts *o) {
    lm_exp_knative *k = &o->kn;
    o->knative_opts = 1;
    switch (c) {
    case 'U': k->url_template = optarg; break;
    case 'S': k->service_template = optarg; break;
    case 'I': k->ingress = optarg; break;
    case 'K': k->kubectl = optarg; break;
    case 'N': k->kube_namespace = optarg; break;
    case 'A': k->agent_url = optarg; break;
    case 'u':
        if (k->nservice_urls == MAX_SERVICE_URLS)
            return lm_cli_usage("run", "more than %d --service-url", MAX_SERVICE_URLS);
        if (!strchr(optarg, '=') || optarg[0] == '=')
            return lm_cli_usage("run", "--service-url '%s': expected SERVICE=URL", optarg);
        o->service_urls[k->nservice_urls++] = optarg;
        k->service_urls = o->service_urls;
        break;
    case 'c':
        if (!strcmp(optarg, "zero"))
            k->cold = LM_EXP_COLD_ZERO;
        else if (!strcmp(optarg, "revision"))
            k->cold = LM_EXP_COLD_REVISION;
        else if (!strcmp(optarg, "none"))
            k->cold = LM_EXP_COLD_NONE;
        else
            return lm_cli_usage("run", "--cold '%s': expected zero, revision or none", optarg);
        break;
    case 'T': {
        char *end;
        long v = strtol(optarg, &end, 10);
        if (*end || v < 1 || v > 86400)
            return lm_cli_usage("run", "--cold-timeout '%s': seconds from 1 to 86400", optarg);
        k->cold_timeout_s = (int)v;
        break;
    }
    }
    return 0;
}

static int parse(int argc, char **argv, spec_opts *o) {
    static const struct option opts[] = {{"db", required_argument, 0, 'b'},
                                         {"resume", no_argument, 0, 'R'},
                                         {"redis", required_argument, 0, 'r'},
                                         {"artifacts", required_argument, 0, 'a'},
                                         {"json", no_argument, 0, 'J'},
                                         {"check", no_argument, 0, 'C'},
                                         {"platform", required_argument, 0, 'P'},
                                         {"url-template", required_argument, 0, 'U'},
                                         {"service-url", required_argument, 0, 'u'},
                                         {"service-template", required_argument, 0, 'S'},
                                         {"ingress", required_argument, 0, 'I'},
                                         {"cold", required_argument, 0, 'c'},
                                         {"cold-timeout", required_argument, 0, 'T'},
                                         {"kubectl", required_argument, 0, 'K'},
                                         {"namespace", required_argument, 0, 'N'},
                                         {"agent", required_argument, 0, 'A'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o->db = optarg; break;
        case 'R': o->resume = 1; break;
        case 'r': o->redis = optarg; break;
        case 'a': o->artifacts = optarg; break;
        case 'J': o->json = 1; break;
        case 'C': o->check = 1; break;
        case 'P':
            if (!strcmp(optarg, "knative"))
                o->knative = 1;
            else if (strcmp(optarg, "local") != 0)
                return lm_cli_usage("run", "--platform '%s': expected local or knative", optarg);
            break;
        case 'U':
        case 'u':
        case 'S':
        case 'I':
        case 'c':
        case 'T':
        case 'K':
        case 'N':
        case 'A': {
            int r = parse_knative(c, o);
            if (r) return r;
            break;
        }
        default:
            return lm_cli_usage("run",
                                "unknown option '%s' (options of the runner without the "
                                "platform need --direct)",
                                argv[optind - 1]);
        }
    }
    if (optind < argc) o->spec = argv[optind++];
    if (optind < argc) return lm_cli_usage("run", "unexpected argument '%s'", argv[optind]);
    if (o->resume && !o->db) return lm_cli_usage("run", "--resume needs --db FILE");
    if (o->knative_opts && !o->knative)
        return lm_cli_usage("run", "--url-template, --service-url, --ingress, --cold, --agent "
                                   "... need --platform knative");
    if (o->knative && !o->kn.url_template && !o->kn.nservice_urls)
        return lm_cli_usage("run", "--platform knative needs --url-template TEMPLATE or "
                                   "--service-url SERVICE=URL");
    char e[LM_ERRLEN], out[2048];
    if (o->kn.url_template &&
        lm_exp_expand(o->kn.url_template, "f", "r", "s", out, sizeof out, e) != LM_OK)
        return lm_cli_usage("run", "--url-template: %s", e);
    if (o->kn.service_template &&
        lm_exp_expand(o->kn.service_template, "f", "r", "s", out, sizeof out, e) != LM_OK)
        return lm_cli_usage("run", "--service-template: %s", e);
    if (o->kn.ingress) {
        char host[256];
        int port;
        if (lm_parse_hostport(o->kn.ingress, host, sizeof(host), &port, e) != LM_OK)
            return lm_cli_usage("run", "--ingress: %s", e);
    }
    if (o->redis) {
        char host[256];
        int port;
        if (lm_parse_hostport(o->redis, host, sizeof(host), &port, e) != LM_OK)
            return lm_cli_usage("run", "--redis: %s", e);
    }
    return 0;
}

static const char *start_name(int s) {
    return s == LM_EXP_COLD ? "cold" : s == LM_EXP_WARM ? "warm" : "any";
}

/* --check: the cells this machine would run. */
static int print_cells(const lm_exp_spec *s) {
    char err[LM_ERRLEN];
    lm_exp_cell *cells = NULL;
    size_t n = 0;
    if (lm_exp_cells(s, s->runtimes, s->nruntimes, &cells, &n, err) != LM_OK)
        return lm_cli_fail("run: %s", err);
    printf("%s: %zu cells\n", s->path, n);
    for (size_t i = 0; i < n; i++)
        printf("%6lld  %s  (start %s)\n", (long long)cells[i].id, cells[i].name,
               start_name(cells[i].start));
    free(cells);
    return 0;
}

static int report(const char *db, const char *dir, int json) {
    char err[LM_ERRLEN];
    lm_report_data rep;
    if (lm_report_load(db, &rep, err) != LM_OK) return lm_cli_fail("run: %s", err);
    const char *targets[64];
    lm_cli_report_targets(&rep, targets, 64);
    if (!rep.info.artifacts) rep.info.artifacts = lm_artifacts_dir(NULL);
    int rc = 0;
    if (lm_report_write(dir, &rep.info, &rep.samples, err) != LM_OK) {
        rc = lm_cli_fail("run: %s", err);
    } else if (json) {
        lm_report_print_json(stdout, &rep.info, &rep.samples);
    } else {
        lm_report_print_table(stdout, &rep.info, &rep.samples);
        fputs("\nfindings:\n", stdout);
        lm_report_print_findings(stdout, &rep.info, &rep.samples);
    }
    lm_report_data_free(&rep);
    /* The whole report, HTML with its figures, beside the database. */
    if (rc == 0 && lm_cli_report_html(db, dir, NULL, json ? stderr : stdout, err) != LM_OK)
        rc = lm_cli_fail("run: the HTML report: %s", err);
    return rc;
}

int lm_cmd_run(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--direct") == 0) return lm_cmd_run_direct(argc, argv);
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    static spec_opts o; /* its service URL table is large */
    memset(&o, 0, sizeof o);
    int prc = parse(argc, argv, &o);
    if (prc) return prc;
    char err[LM_ERRLEN];
    lm_exp_spec *spec = NULL;
    int rc = o.spec ? lm_exp_spec_load(o.spec, &spec, err)
                    : lm_exp_spec_parse(lm_exp_quick_json(), strlen(lm_exp_quick_json()),
                                        "experiments/quick.json (built in)", ".", &spec, err);
    if (rc != LM_OK) return lm_cli_fail("run: %s", err);
    if (o.check) {
        rc = print_cells(spec);
        lm_exp_spec_free(spec);
        return rc;
    }
    char dbpath[2048];
    if (o.db) {
        snprintf(dbpath, sizeof dbpath, "%s", o.db);
    } else {
        time_t now = time(NULL);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
        snprintf(dbpath, sizeof dbpath, "results/%s-%s/results.db", spec->name, stamp);
    }
    char exe[PATH_MAX];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0) {
        lm_exp_spec_free(spec);
        return lm_cli_fail("run: cannot find the lumos binary (/proc/self/exe)");
    }
    exe[el] = 0;
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    lm_exp_run_opts ro = {.spec = spec,
                          .db = dbpath,
                          .resume = o.resume,
                          .redis = o.redis,
                          .artifacts = o.artifacts,
                          .lumos_exe = exe,
                          .lumos_version = LM_CLI_VERSION,
                          .progress = lm_progress_enabled(),
                          .notes = stderr,
                          .stop = &stop_flag,
                          .knative = o.knative ? &o.kn : NULL};
    lm_exp_run_result res;
    rc = lm_exp_run(&ro, &res, err);
    lm_exp_spec_free(spec);
    if (rc != LM_OK) return lm_cli_fail("run: %s", err);
    if (res.skipped[0]) fprintf(stderr, "lumos run: skipped runtimes: %s\n", res.skipped);
    if (o.resume)
        fprintf(stderr, "lumos run: %zu of %zu cells were done already; ran %zu\n", res.done_before,
                res.cells, res.done);
    if (res.excluded)
        fprintf(stderr,
                "lumos run: %llu requests started otherwise than their cell says (cold in a "
                "warm cell or warm in a cold one): kept, and left out of its statistics\n",
                (unsigned long long)res.excluded);
    if (res.problem_cells)
        fprintf(stderr, "lumos run: %zu cells have requests without a row (see cells.error)\n",
                res.problem_cells);
    if (res.interrupted) {
        fprintf(stderr,
                "lumos run: interrupted: %zu of %zu cells done; complete it with\n"
                "  lumos run %s --resume --db %s\n",
                res.done_before + res.done, res.cells, o.spec ? o.spec : "", res.db);
        return 130;
    }
    rc = report(res.db, res.dir, o.json);
    if (!o.json && rc == 0)
        printf("\nresults in %s/ (results.db, index.html, report.md, summary.csv, summary.json)\n",
               res.dir);
    return rc;
}
