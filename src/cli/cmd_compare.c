/* cmd_compare.c -- `lumos compare DB1 DB2`: the same cells of two results
 * databases side by side, the ratio of their medians with a bootstrap
 * interval, significant changes marked (src/model/compare.h). Both files
 * are only read. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/compare.h"

static const char help[] =
    "usage: lumos compare DB1 DB2 [options]\n"
    "\n"
    "The same cells of two results databases (two machines, two versions, two\n"
    "settings) side by side: matched by cell name, else by function, runtime,\n"
    "payload, start, load, concurrency, rate and repetition (files without cells:\n"
    "by service and start type). For each pair: n, median and p99 of each, the\n"
    "ratio DB2 / DB1 of the medians with its 95% percentile bootstrap interval,\n"
    "and the p99 ratio; a pair whose interval excludes 1 is marked a change\n"
    "(slower above 1, faster below). Cells only in one file are listed.\n"
    "docs/model.md is the method.\n"
    "\n"
    "options:\n"
    "  --metric M        e2e (default), gateway, instance, compute, io, deser, ser,\n"
    "                    cpu (ms) or mem (bytes), as lumos results summary has them\n"
    "  --html FILE       also write a self-contained HTML page (no script)\n"
    "  --resamples B     bootstrap resamples (default 2000)\n"
    "  --seed S          bootstrap seed (default 1)\n"
    "  --json            machine-readable output\n"
    "  -h, --help        this text\n";

int lm_cmd_compare(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    static const struct option opts[] = {{"metric", required_argument, 0, 'm'},
                                         {"html", required_argument, 0, 'H'},
                                         {"resamples", required_argument, 0, 'r'},
                                         {"seed", required_argument, 0, 's'},
                                         {"json", no_argument, 0, 'J'},
                                         {0, 0, 0, 0}};
    lm_model_compare c;
    memset(&c, 0, sizeof c);
    c.boot = (lm_stats_boot_opts){LM_STATS_BOOT_B, 1, 0.95, LM_STATS_MEDIAN};
    const char *html = NULL;
    int json = 0, ch;
    long long num;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'm': {
            int m = lm_report_metric_parse(optarg);
            if (m < 0)
                return lm_cli_usage("compare",
                                    "unknown metric '%s': use e2e, gateway, instance, compute, "
                                    "io, deser, ser, cpu or mem",
                                    optarg);
            c.metric = (lm_report_metric)m;
            break;
        }
        case 'H': html = optarg; break;
        case 'r':
            if (lm_cli_parse_count(optarg, &num) != 0 || num < 1 || num > 1000000)
                return lm_cli_usage("compare", "--resamples wants a count from 1 to 1M, not '%s'",
                                    optarg);
            c.boot.resamples = (unsigned)num;
            break;
        case 's':
            if (lm_cli_parse_count(optarg, &num) != 0)
                return lm_cli_usage("compare", "--seed wants a non-negative integer, not '%s'",
                                    optarg);
            c.boot.seed = (uint64_t)num;
            break;
        case 'J': json = 1; break;
        default: return lm_cli_usage("compare", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind < 2)
        return lm_cli_usage("compare", "which two databases? lumos compare DB1 DB2");
    if (argc - optind > 2)
        return lm_cli_usage("compare", "unexpected argument '%s'", argv[optind + 2]);
    c.db1 = argv[optind];
    c.db2 = argv[optind + 1];
    char err[LM_ERRLEN];
    int rc = 0;
    if (lm_model_compare_run(&c, err) != LM_OK) {
        rc = lm_cli_fail("compare: %s", err);
    } else {
        if (json)
            lm_model_compare_print_json(stdout, &c);
        else
            lm_model_compare_print_text(stdout, &c);
        if (html && lm_model_compare_write_html(html, &c, err) != LM_OK)
            rc = lm_cli_fail("compare: %s", err);
        else if (html)
            fprintf(stderr, "lumos compare: wrote %s\n", html);
    }
    lm_model_compare_free(&c);
    return rc;
}
