/* cmd_results.c -- `lumos results summary DB` (statistics per cell, or per
 * service and start type, and ratios between runtimes) and `lumos results
 * export DB` (every table as CSV or JSON). Both only read the file. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "report/cells.h"
#include "results/results.h"

static const char help[] =
    "usage: lumos results summary DB [options]\n"
    "       lumos results export DB [--format csv|json] [--table T] [--out DIR]\n"
    "\n"
    "Reads a results database (lumos run, lumos serve --results, any schema\n"
    "version 1 to 3) without changing it. `lumos results summary --help` and\n"
    "`lumos results export --help` say more; docs/stats.md is the method.\n";

static const char summary_help[] =
    "usage: lumos results summary DB [options]\n"
    "\n"
    "Statistics of every cell of an experiment (the cells table), or, in a file\n"
    "without cells, of every service's cold and warm requests: count, excluded\n"
    "(rows whose `excluded` is set, left out), errors (no 2xx answer), and over\n"
    "the answered rows n, mean, median, p90, p99, p99.9, sd, cv and the 95%\n"
    "confidence intervals of the mean (Student t) and of the median (binomial\n"
    "order statistics, none below 6 values); then, for groups equal but for the\n"
    "runtime, the ratio of each one's median to the baseline runtime's, with a\n"
    "95% percentile bootstrap interval. Quantiles are type 7 (linear).\n"
    "\n"
    "options:\n"
    "  --metric M        e2e (default), gateway, instance, compute, io, deser, ser,\n"
    "                    cpu (all in ms) or mem (peak bytes). e2e is the load\n"
    "                    client's receive_ns - intended_send_ns when every answered\n"
    "                    row of the group has them (coordinated-omission corrected),\n"
    "                    else the gateway's response_ns - ingress_ns, else the\n"
    "                    instance's result_ns - dispatch_ns: the `source` column\n"
    "  --by cell|service group by cell (default when the file has cells) or by\n"
    "                    service and cold/warm\n"
    "  --baseline R      the runtime of the ratios (default: native, when present)\n"
    "  --resamples B     bootstrap resamples (default 2000)\n"
    "  --seed S          bootstrap seed (default 1; the same seed, the same interval)\n"
    "  --json            machine-readable output\n"
    "  --csv             one CSV row per group, its ratio columns appended\n"
    "  -h, --help        this text\n";

static const char export_help[] =
    "usage: lumos results export DB [--format csv|json] [--table T] [--out DIR]\n"
    "\n"
    "Writes tables of a results database: one table (--table services, instances,\n"
    "requests, samples, events, cells, artifacts or meta) to stdout, or with\n"
    "--out DIR every table the file has (or the one --table names) to DIR/T.csv\n"
    "or DIR/T.json. CSV: a header row, RFC 4180 quoting, SQL NULL as an empty\n"
    "field and an empty text as \"\". JSON: an array of one object per row, SQL\n"
    "NULL as null, integers as integers. The file is only read.\n"
    "\n"
    "options:\n"
    "  --format F        csv (default) or json\n"
    "  --table T         one table\n"
    "  --out DIR         write files into DIR (created if missing) and print their paths\n"
    "  -h, --help        this text\n";

static int summary_cmd(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(summary_help, stdout), 0;
    static const struct option opts[] = {{"metric", required_argument, 0, 'm'},
                                         {"by", required_argument, 0, 'b'},
                                         {"baseline", required_argument, 0, 'B'},
                                         {"resamples", required_argument, 0, 'r'},
                                         {"seed", required_argument, 0, 's'},
                                         {"json", no_argument, 0, 'J'},
                                         {"csv", no_argument, 0, 'C'},
                                         {0, 0, 0, 0}};
    lm_report_summary s;
    memset(&s, 0, sizeof s);
    s.by_cell = -1;
    s.boot = (lm_stats_boot_opts){LM_STATS_BOOT_B, 1, 0.95, LM_STATS_MEDIAN};
    int json = 0, csv = 0, c;
    long long num;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': {
            int m = lm_report_metric_parse(optarg);
            if (m < 0)
                return lm_cli_usage("results summary",
                                    "unknown metric '%s': use e2e, gateway, instance, compute, "
                                    "io, deser, ser, cpu or mem",
                                    optarg);
            s.metric = (lm_report_metric)m;
            break;
        }
        case 'b':
            if (strcmp(optarg, "cell") != 0 && strcmp(optarg, "service") != 0)
                return lm_cli_usage("results summary", "--by is cell or service, not '%s'", optarg);
            s.by_cell = strcmp(optarg, "cell") == 0;
            break;
        case 'B': s.baseline = optarg; break;
        case 'r':
            if (lm_cli_parse_count(optarg, &num) != 0 || num < 1 || num > 1000000)
                return lm_cli_usage("results summary",
                                    "--resamples wants a count from 1 to 1M, not '%s'", optarg);
            s.boot.resamples = (unsigned)num;
            break;
        case 's':
            if (lm_cli_parse_count(optarg, &num) != 0)
                return lm_cli_usage("results summary",
                                    "--seed wants a non-negative integer, not '%s'", optarg);
            s.boot.seed = (uint64_t)num;
            break;
        case 'J': json = 1; break;
        case 'C': csv = 1; break;
        default: return lm_cli_usage("results summary", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (json && csv) return lm_cli_usage("results summary", "--json or --csv, not both");
    if (optind >= argc)
        return lm_cli_usage("results summary", "which database? lumos results summary DB");
    if (optind + 1 < argc)
        return lm_cli_usage("results summary", "unexpected argument '%s'", argv[optind + 1]);
    s.db = argv[optind];
    char err[LM_ERRLEN];
    int rc = 0;
    if (lm_report_summary_load(&s, err) != LM_OK || lm_report_summary_compute(&s, err) != LM_OK) {
        rc = lm_cli_fail("results: %s", err);
    } else if (json) {
        lm_report_summary_print_json(stdout, &s);
    } else if (csv) {
        lm_report_summary_print_csv(stdout, &s);
    } else {
        if (s.ngroups == 0)
            fprintf(stderr, "lumos results: %s holds no request of a %s\n", s.db,
                    s.by_cell ? "cell" : "service");
        lm_report_summary_print_table(stdout, &s);
    }
    lm_report_summary_free(&s);
    return rc;
}

/* One table into DIR/T.EXT through a temporary and a rename, so that a
 * failed export leaves no half file. */
static int export_file(lm_results_reader *r, const char *dir, const char *table,
                       lm_results_format f, char *err) {
    char path[4096], tmp[4200];
    if (lm_pathf(path, sizeof path, "%s/%s.%s", dir, table,
                 f == LM_RESULTS_JSON ? "json" : "csv") != LM_OK)
        return lm_errf(err, "%s: the path is too long", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (!out) return lm_errf(err, "%s: cannot create it: %s", tmp, strerror(errno));
    int rc = lm_results_reader_export(r, table, f, out, err);
    if (fclose(out) != 0 && rc == LM_OK)
        rc = lm_errf(err, "%s: writing it failed: %s", tmp, strerror(errno));
    if (rc == LM_OK && rename(tmp, path) != 0)
        rc = lm_errf(err, "%s: cannot rename it to %s: %s", tmp, path, strerror(errno));
    if (rc != LM_OK) {
        remove(tmp);
        return LM_ERR;
    }
    printf("%s\n", path);
    return LM_OK;
}

static int export_cmd(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(export_help, stdout), 0;
    static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                         {"table", required_argument, 0, 't'},
                                         {"out", required_argument, 0, 'o'},
                                         {0, 0, 0, 0}};
    const char *table = NULL, *dir = NULL;
    lm_results_format f = LM_RESULTS_CSV;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "csv") == 0)
                f = LM_RESULTS_CSV;
            else if (strcmp(optarg, "json") == 0)
                f = LM_RESULTS_JSON;
            else
                return lm_cli_usage("results export", "--format is csv or json, not '%s'", optarg);
            break;
        case 't': table = optarg; break;
        case 'o': dir = optarg; break;
        default: return lm_cli_usage("results export", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return lm_cli_usage("results export", "which database? lumos results export DB");
    if (optind + 1 < argc)
        return lm_cli_usage("results export", "unexpected argument '%s'", argv[optind + 1]);
    int known = 0;
    for (size_t i = 0; table && lm_results_tables[i]; i++)
        known |= strcmp(table, lm_results_tables[i]) == 0;
    if (table && !known)
        return lm_cli_usage("results export",
                            "unknown table '%s': use services, instances, requests, samples, "
                            "events, cells, artifacts or meta",
                            table);
    if (!table && !dir)
        return lm_cli_usage("results export",
                            "which table? --table T prints one, --out DIR writes every table");
    const char *db = argv[optind];
    char err[LM_ERRLEN];
    lm_results_reader *r = lm_results_reader_open(db, err);
    if (!r) return lm_cli_fail("results: %s", err);
    int rc = 0;
    if (!dir) {
        if (lm_results_reader_export(r, table, f, stdout, err) != LM_OK)
            rc = lm_cli_fail("results: %s", err);
    } else if (lm_mkdirs(dir, err) != LM_OK) {
        rc = lm_cli_fail("results: %s", err);
    } else {
        for (size_t i = 0; lm_results_tables[i] && rc == 0; i++) {
            const char *t = lm_results_tables[i];
            if (table && strcmp(table, t) != 0) continue;
            if (!table && !lm_results_reader_has_table(r, t)) {
                fprintf(stderr,
                        "lumos results: %s has no table %s (schema version %d): not written\n", db,
                        t, lm_results_reader_version(r));
                continue;
            }
            if (export_file(r, dir, t, f, err) != LM_OK) rc = lm_cli_fail("results: %s", err);
        }
    }
    lm_results_reader_close(r);
    return rc;
}

int lm_cmd_results(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "summary") == 0) return summary_cmd(argc - 1, argv + 1);
    if (strcmp(argv[1], "export") == 0) return export_cmd(argc - 1, argv + 1);
    return lm_cli_usage("results", "unknown subcommand '%s': use summary or export", argv[1]);
}
