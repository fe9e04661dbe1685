/* cmd_model.c -- `lumos model DB`: the performance model of a results
 * database (src/model/): every latency component fitted against payload
 * size and load, predictions for what was not measured, and the held-out
 * validation. The file is only read. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "data/dataset.h"
#include "model/model.h"

static const char help[] =
    "usage: lumos model DB [options]\n"
    "\n"
    "The performance model of a results database (lumos run, lumos serve --results):\n"
    "per function@runtime and start type, each latency component (platform, cold,\n"
    "deser, io, compute, ser, e2e; ms) fitted by least squares over every counted\n"
    "request against the payload's size (the request's I/O bytes, else the payload\n"
    "group's nominal size: fibonacci's n, ...) at each load, and against the load\n"
    "(closed-loop concurrency, open-loop rate) at each payload: intercept, slope\n"
    "with its 95% interval, the log-log exponent, R2, rms error, lack of fit.\n"
    "docs/model.md is the method.\n"
    "\n"
    "options:\n"
    "  --predict SPEC    predict F@R[,start=cold|warm][,size=X|,payload=group:G]\n"
    "                    [,concurrency=N|,rate=R][,load=closed|open]: the latency\n"
    "                    distribution (mean with its 95% interval, median, p90, p99)\n"
    "                    by every method that applies (the size fit, the load fits, a\n"
    "                    runtime scaled by its ratio to the baseline on other\n"
    "                    payloads), each with its trust (high, medium, low) and why;\n"
    "                    may be given more than once\n"
    "  --validate        hold out each level of every series with three or more\n"
    "                    levels in turn, fit the rest, predict it: relative error of\n"
    "                    the median and p90 per component\n"
    "  --holdout LEVEL   with --validate, only this level: payload=P, size=X,\n"
    "                    concurrency=N or rate=R\n"
    "  --fit FORM        auto (default: linear, unless it is below 0 where the axis\n"
    "                    begins or its lack of fit is significant and log-log's less\n"
    "                    so), linear or loglog\n"
    "  --function F      only this function's requests\n"
    "  --runtime R       only this runtime's requests (a runtime ratio then has no\n"
    "                    baseline)\n"
    "  --baseline R      the runtime others are scaled from (default: native, else the\n"
    "                    one with the most cells)\n"
    "  --json            machine-readable output\n"
    "  -h, --help        this text\n";

/* The size hook: a payload group's nominal size for a function. */
static double size_of(const char *function, const char *payload, const char **unit) {
    *unit = NULL;
    if (strncmp(payload, "group:", 6) != 0) return NAN;
    const lm_group *g = lm_group_find(payload + 6);
    return g ? lm_group_size(g, function, unit) : NAN;
}

int lm_cmd_model(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    static const struct option opts[] = {{"predict", required_argument, 0, 'p'},
                                         {"validate", no_argument, 0, 'v'},
                                         {"holdout", required_argument, 0, 'H'},
                                         {"fit", required_argument, 0, 'f'},
                                         {"function", required_argument, 0, 'F'},
                                         {"runtime", required_argument, 0, 'R'},
                                         {"baseline", required_argument, 0, 'B'},
                                         {"json", no_argument, 0, 'J'},
                                         {0, 0, 0, 0}};
    lm_model m;
    memset(&m, 0, sizeof m);
    m.form = LM_MODEL_AUTO;
    m.size = size_of;
    const char **predicts = calloc((size_t)argc + 1, sizeof *predicts);
    if (!predicts) return lm_cli_fail("out of memory");
    size_t npredicts = 0;
    const char *holdout = NULL;
    int validate = 0, json = 0, c, rc = 0;
    char err[LM_ERRLEN];
    lm_model_target hold;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': {
            lm_model_target t;
            if (lm_model_target_parse(optarg, &t, err) != LM_OK) {
                free(predicts);
                return lm_cli_usage("model", "--predict %s", err);
            }
            predicts[npredicts++] = optarg;
            break;
        }
        case 'v': validate = 1; break;
        case 'H':
            if (lm_model_holdout_parse(optarg, &hold, err) != LM_OK) {
                free(predicts);
                return lm_cli_usage("model", "--holdout %s", err);
            }
            holdout = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "auto") == 0)
                m.form = LM_MODEL_AUTO;
            else if (strcmp(optarg, "linear") == 0)
                m.form = LM_MODEL_LINEAR;
            else if (strcmp(optarg, "loglog") == 0)
                m.form = LM_MODEL_LOGLOG;
            else {
                free(predicts);
                return lm_cli_usage("model", "--fit is auto, linear or loglog, not '%s'", optarg);
            }
            break;
        case 'F': m.function = optarg; break;
        case 'R': m.runtime = optarg; break;
        case 'B': m.baseline = optarg; break;
        case 'J': json = 1; break;
        default:
            free(predicts);
            return lm_cli_usage("model", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        free(predicts);
        return lm_cli_usage("model", "which database? lumos model DB");
    }
    if (optind + 1 < argc) {
        free(predicts);
        return lm_cli_usage("model", "unexpected argument '%s'", argv[optind + 1]);
    }
    if (holdout && !validate) {
        free(predicts);
        return lm_cli_usage("model", "--holdout goes with --validate");
    }
    m.db = argv[optind];
    lm_model_prediction *all = NULL;
    size_t nall = 0;
    lm_model_validation v;
    memset(&v, 0, sizeof v);
    if (lm_model_load(&m, err) != LM_OK || lm_model_fit(&m, err) != LM_OK) {
        rc = lm_cli_fail("model: %s", err);
        goto out;
    }
    for (size_t i = 0; i < npredicts; i++) {
        lm_model_target t;
        lm_model_prediction *p = NULL;
        size_t n = 0;
        lm_model_target_parse(predicts[i], &t, err);
        if (lm_model_predict(&m, &t, &p, &n, err) != LM_OK) {
            rc = lm_cli_fail("model: --predict %s: %s", predicts[i], err);
            goto out;
        }
        lm_model_prediction *q = realloc(all, (nall + n) * sizeof *q);
        if (!q) {
            free(p);
            rc = lm_cli_fail("out of memory");
            goto out;
        }
        all = q;
        memcpy(all + nall, p, n * sizeof *p);
        nall += n;
        free(p);
    }
    if (validate && lm_model_validate(&m, holdout ? &hold : NULL, &v, err) != LM_OK) {
        rc = lm_cli_fail("model: --validate%s%s: %s", holdout ? " --holdout " : "",
                         holdout ? holdout : "", err);
        goto out;
    }
    if (json)
        lm_model_print_json(stdout, &m, npredicts ? all : NULL, nall, validate ? &v : NULL);
    else
        lm_model_print_text(stdout, &m, npredicts ? all : NULL, nall, validate ? &v : NULL);
out:
    lm_model_validation_free(&v);
    free(all);
    free(predicts);
    lm_model_free(&m);
    return rc;
}
