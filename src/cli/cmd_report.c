/* cmd_report.c -- `lumos report DB`: the summary of any results database,
 * written by `lumos run` or by `lumos serve --results`, as a table or JSON,
 * and optionally the report files. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "report/summary.h"
#include "runtime/runtime.h"

static const char help[] =
    "usage: lumos report DB [options]\n"
    "\n"
    "Reads a results database (results.db of `lumos run`, or the file of\n"
    "`lumos serve --results`) and prints the summary of every function on every\n"
    "runtime it holds: cold start, first request, warm latency (median, p95),\n"
    "the function's phases, CPU time and peak memory, failures. The numbers are\n"
    "those `lumos run` prints for the same rows: statistics over the warm\n"
    "requests that answered 2xx (docs/results.md says how a row counts).\n"
    "\n"
    "options:\n"
    "  --json             print the summary as JSON instead of a table\n"
    "  --out DIR          also write summary.csv, summary.json and report.md into DIR\n"
    "  --artifacts DIR    artifact folder for the report's sizes (default: the one\n"
    "                     the run used, else build/artifacts)\n"
    "  -h, --help         this text\n";

void lm_cli_report_targets(lm_report_data *d, const char **targets, size_t max) {
    char err[LM_ERRLEN];
    if (d->info.nruntimes > max) d->info.nruntimes = max;
    for (size_t i = 0; i < d->info.nruntimes; i++) {
        const lm_runtime *rt = lm_runtime_find(d->info.runtimes[i], err);
        targets[i] = rt ? rt->target : NULL;
    }
    d->info.targets = targets;
}

int lm_cmd_report(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    static const struct option opts[] = {{"json", no_argument, 0, 'J'},
                                         {"out", required_argument, 0, 'o'},
                                         {"artifacts", required_argument, 0, 'a'},
                                         {0, 0, 0, 0}};
    const char *out = NULL, *artifacts = NULL;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'J': json = 1; break;
        case 'o': out = optarg; break;
        case 'a': artifacts = optarg; break;
        default: return lm_cli_usage("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return lm_cli_usage("report", "which database? lumos report DB");
    if (optind + 1 < argc)
        return lm_cli_usage("report", "unexpected argument '%s'", argv[optind + 1]);
    const char *db = argv[optind];
    char err[LM_ERRLEN];
    lm_report_data d;
    if (lm_report_load(db, &d, err) != LM_OK) return lm_cli_fail("report: %s", err);
    const char *targets[256];
    lm_cli_report_targets(&d, targets, sizeof(targets) / sizeof(targets[0]));
    if (artifacts || !d.info.artifacts) d.info.artifacts = lm_artifacts_dir(artifacts);
    int rc = 0;
    if (d.samples.n == 0) fprintf(stderr, "lumos report: %s holds no request of a service\n", db);
    if (out) {
        if (lm_mkdirs(out, err) != LM_OK || lm_report_write(out, &d.info, &d.samples, err) != LM_OK)
            rc = lm_cli_fail("report: %s", err);
    }
    if (rc == 0) {
        if (json)
            lm_report_print_json(stdout, &d.info, &d.samples);
        else {
            lm_report_print_table(stdout, &d.info, &d.samples);
            fputs("\nfindings:\n", stdout);
            lm_report_print_findings(stdout, &d.info, &d.samples);
        }
    }
    lm_report_data_free(&d);
    return rc;
}
