/* cmd_report.c -- `lumos report DB`: the report of any results database,
 * written by `lumos run` or by `lumos serve --results`: the summary table
 * or JSON (as `lumos run` prints it), the full report as text or JSON
 * (--format), and with --out the report's folder: the HTML page with its
 * figures and the raw rows per cell, beside report.md and the summary
 * files. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "report/doc.h"
#include "report/summary.h"
#include "runtime/runtime.h"

static const char help[] =
    "usage: lumos report DB [options]\n"
    "\n"
    "Reads a results database (results.db of `lumos run`, or the file of\n"
    "`lumos serve --results`) and reports every function on every runtime it\n"
    "holds. Without --format it prints the summary `lumos run` prints: cold\n"
    "start, first request, warm latency (median, p95), the function's phases,\n"
    "CPU time and peak memory, failures (docs/results.md says how a row counts).\n"
    "\n"
    "--format text|json gives the whole report instead: every cell's\n"
    "statistics with their intervals, the cold start by phase, the latency\n"
    "breakdown, the findings with their confidence (bootstrap intervals of\n"
    "the ratios, Mann-Whitney tests), the paper's six findings beside this\n"
    "machine's, and notes on what the file lacks (docs/report.md).\n"
    "\n"
    "--out DIR writes the report's folder: index.html (open it in a browser,\n"
    "offline), figures/ (each figure as SVG and PNG drawn by gnuplot, beside\n"
    "its data as CSV and its gnuplot script), rows/ (every request's raw row,\n"
    "one CSV per cell: each number of the page links to its rows), and\n"
    "report.md, summary.csv, summary.json.\n"
    "\n"
    "options:\n"
    "  --out DIR          write the report's folder into DIR\n"
    "  --format F         text, json or html (html needs --out; default: the summary)\n"
    "  --json             print the summary as JSON (the shape `lumos run --json` prints)\n"
    "  --slo-ms MS        the SLO the p99 findings are held against (default 100)\n"
    "  --baseline RT      the runtime every ratio is to (default: container, else native;\n"
    "                     native, else container, for storage I/O and serialization)\n"
    "  --env-reference E  the environment the others are set against, NODE or\n"
    "                     NODE/NETWORK (default: host, unshaped; docs/report.md)\n"
    "  --seed S           the bootstrap's seed (default 1)\n"
    "  --resamples B      the bootstrap's resamples (default 2000)\n"
    "  --gnuplot PROG     the program that draws the figures (default gnuplot on PATH)\n"
    "  --artifacts DIR    artifact folder for report.md's sizes (default: the one\n"
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

/* The notes on stderr: the first few, and how many more the report has. */
static void print_notes(const lm_report_doc *doc, const char *cmd) {
    const char *const *notes;
    size_t n = lm_report_doc_notes(doc, &notes);
    for (size_t i = 0; i < n && i < 5; i++)
        fprintf(stderr, "lumos %s: note: %s\n", cmd, notes[i]);
    if (n > 5) fprintf(stderr, "lumos %s: %zu more notes in the report's Notes\n", cmd, n - 5);
}

int lm_cli_report_html(const char *db, const char *dir, const lm_report_doc_opts *base, FILE *where,
                       char *err) {
    lm_report_doc_opts o = {0};
    if (base) o = *base;
    o.db = db;
    o.dir = dir;
    o.progress = lm_progress_enabled();
    lm_report_doc *doc = NULL;
    if (lm_report_doc_read(&o, &doc, err) != LM_OK) return LM_ERR;
    int rc = lm_report_doc_write_html(doc, err);
    if (rc == LM_OK) {
        print_notes(doc, "report");
        if (where)
            fprintf(where, "report: %s/index.html (%zu figures)\n", dir,
                    lm_report_doc_figures(doc));
    }
    lm_report_doc_free(doc);
    return rc;
}

static int parse_double(const char *s, double *out) {
    char *end;
    *out = strtod(s, &end);
    return *s && !*end && *out > 0;
}

int lm_cmd_report(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    static const struct option opts[] = {{"json", no_argument, 0, 'J'},
                                         {"out", required_argument, 0, 'o'},
                                         {"artifacts", required_argument, 0, 'a'},
                                         {"format", required_argument, 0, 'f'},
                                         {"slo-ms", required_argument, 0, 's'},
                                         {"baseline", required_argument, 0, 'b'},
                                         {"seed", required_argument, 0, 'S'},
                                         {"resamples", required_argument, 0, 'B'},
                                         {"gnuplot", required_argument, 0, 'g'},
                                         {"env-reference", required_argument, 0, 'E'},
                                         {0, 0, 0, 0}};
    const char *out = NULL, *artifacts = NULL, *format = NULL;
    lm_report_doc_opts o = {0};
    int json = 0, c;
    long long n;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'J': json = 1; break;
        case 'o': out = optarg; break;
        case 'a': artifacts = optarg; break;
        case 'f': format = optarg; break;
        case 's':
            if (!parse_double(optarg, &o.slo_ms))
                return lm_cli_usage("report", "--slo-ms: '%s' is not a number of ms over 0",
                                    optarg);
            break;
        case 'b': o.baseline = optarg; break;
        case 'E': o.env_reference = optarg; break;
        case 'S':
            if (lm_cli_parse_count(optarg, &n) != 0)
                return lm_cli_usage("report", "--seed: '%s' is not a whole number", optarg);
            o.seed = (uint64_t)n;
            break;
        case 'B':
            if (lm_cli_parse_count(optarg, &n) != 0 || n < 100 || n > 1000000)
                return lm_cli_usage("report", "--resamples: '%s' is not a number from 100 to 1M",
                                    optarg);
            o.resamples = (unsigned)n;
            break;
        case 'g': o.gnuplot = optarg; break;
        default: return lm_cli_usage("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return lm_cli_usage("report", "which database? lumos report DB");
    if (optind + 1 < argc)
        return lm_cli_usage("report", "unexpected argument '%s'", argv[optind + 1]);
    if (format && strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "html"))
        return lm_cli_usage("report", "--format: '%s' is not text, json or html", format);
    if (format && json)
        return lm_cli_usage("report",
                            "--json is the summary's JSON; --format %s is the whole "
                            "report: give one",
                            format);
    if (format && !strcmp(format, "html") && !out)
        return lm_cli_usage("report", "--format html needs --out DIR (the page and its figures)");
    const char *db = argv[optind];
    char err[LM_ERRLEN];
    /* The summary's samples: for its table or JSON, and report.md and the
     * summary files of --out (--format alone needs only the report). */
    int summary = !format || out;
    lm_report_data d;
    memset(&d, 0, sizeof d);
    if (summary && lm_report_load(db, &d, err) != LM_OK) return lm_cli_fail("report: %s", err);
    const char *targets[256];
    lm_cli_report_targets(&d, targets, sizeof(targets) / sizeof(targets[0]));
    if (artifacts || !d.info.artifacts) d.info.artifacts = lm_artifacts_dir(artifacts);
    int rc = 0;
    if (summary && d.samples.n == 0)
        fprintf(stderr, "lumos report: %s holds no request of a service\n", db);
    lm_report_doc *doc = NULL;
    o.db = db;
    o.dir = out;
    o.progress = lm_progress_enabled();
    if ((format || out) && lm_report_doc_read(&o, &doc, err) != LM_OK) {
        rc = lm_cli_fail("report: %s", err);
        /* A bad --baseline is the user's to fix. */
        if (o.baseline && strstr(err, "--baseline")) rc = 2;
        if (o.env_reference && strstr(err, "--env-reference")) rc = 2;
        goto done;
    }
    if (out) {
        if (lm_mkdirs(out, err) != LM_OK ||
            lm_report_write(out, &d.info, &d.samples, err) != LM_OK ||
            lm_report_doc_write_html(doc, err) != LM_OK) {
            rc = lm_cli_fail("report: %s", err);
            goto done;
        }
    }
    if (format && !strcmp(format, "text"))
        lm_report_doc_print_text(doc, stdout);
    else if (format && !strcmp(format, "json"))
        lm_report_doc_print_json(doc, stdout);
    else if (!format && json)
        lm_report_print_json(stdout, &d.info, &d.samples);
    else if (!format) {
        lm_report_print_table(stdout, &d.info, &d.samples);
        fputs("\nfindings:\n", stdout);
        lm_report_print_findings(stdout, &d.info, &d.samples);
    }
    if (doc && (!format || strcmp(format, "text"))) print_notes(doc, "report");
    if (out)
        fprintf(json || (format && strcmp(format, "html")) ? stderr : stdout,
                "%sreport: %s/index.html (%zu figures)\n", !format && !json ? "\n" : "", out,
                lm_report_doc_figures(doc));
done:
    lm_report_doc_free(doc);
    lm_report_data_free(&d);
    return rc;
}
