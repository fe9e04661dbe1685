/* cmd_trace.c -- `lumos trace`: gen (synthetic traces from a pattern),
 * check and stats (what a trace file holds); azure2019, azure2021 and
 * synth are in cmd_trace_azure.c. The trace room does the work. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "platform/service_config.h"
#include "trace/gen.h"
#include "trace/trace.h"

static const char help[] =
    "usage: lumos trace gen --pattern P [options] -o FILE\n"
    "       lumos trace azure2019 INVOCATIONS.csv [options] -o FILE\n"
    "       lumos trace azure2021 TRACE.csv [options] -o FILE\n"
    "       lumos trace check FILE [--json]\n"
    "       lumos trace stats FILE [--json]\n"
    "       lumos trace synth azure2019|azure2021 [options] -o PATH\n"
    "\n"
    "Traces say which request to send when: CSV rows of intended send offset,\n"
    "function, runtime, payload group or body file, and start kind, after a\n"
    "'# lumos-trace 1 mode=...' line (docs/trace.md). gen makes one from a\n"
    "pattern and a seed (the same seed gives the same bytes); azure2019 and\n"
    "azure2021 convert the Azure Functions traces; check validates a trace as\n"
    "the load client and the runner will; stats summarizes one; synth writes\n"
    "synthetic Azure files for tests. `lumos trace SUBCOMMAND --help` for each.\n";

static const char gen_help[] =
    "usage: lumos trace gen --pattern P [options] -o FILE   (FILE - for stdout)\n"
    "\n"
    "patterns and their options (rates in requests/s, times in seconds):\n"
    "  constant   --rate R --duration S           arrivals every 1/R s from 0\n"
    "  poisson    --rate R --duration S           exponential gaps (inverse CDF)\n"
    "  onoff      --rate R --on-s A --off-s B --duration S [--arrivals K]\n"
    "                                             rate R in on periods, 0 in off\n"
    "  mmpp       --rates R0,R1 --sojourn-s T0,T1 --duration S\n"
    "                                             two-state Markov-modulated Poisson\n"
    "  ramp       --from R1 --to R2 --duration S [--arrivals K]   linear rate\n"
    "  step       --rates R1,R2,... --step-s S [--arrivals K]     each rate S s\n"
    "  delayed    --count N [--idle-timeout-s T] [--margin-s M]\n"
    "                                             N requests T+M s apart: all cold\n"
    "  closed     --clients N --requests M        mode=closed, N clients in a loop\n"
    "\n"
    "options for every pattern:\n"
    "  --seed N            the seed (default 1): same seed, same bytes\n"
    "  --function F        every row's function (default fibonacci)\n"
    "  --runtime R         every row's runtime (default: empty, the service's)\n"
    "  --mix LIST          a weighted mix instead: fn[@runtime][:weight],...\n"
    "                      e.g. fibonacci@native:3,noop@wasm-aot:1\n"
    "  --payload P         group:NAME (xs, s, 1, 2, 3) or file:PATH (default group:s)\n"
    "  --start K           cold, warm or any (default any)\n"
    "  --arrivals K        poisson (default) or constant, inside onoff, ramp, step\n"
    "  -o, --out FILE      where the trace goes\n"
    "\n"
    "defaults: --rate 10 --duration 60, onoff 1/1 s, mmpp 50,5 rps and 2,8 s,\n"
    "ramp 1 to 200, step 1,25,50,...,200 rps 30 s each, delayed 10 requests\n"
    "with the platform's idle timeout (60 s) plus 5 s, closed 4 clients and\n"
    "1000 requests. An option a pattern does not use is an error.\n";

static const char check_help[] =
    "usage: lumos trace check FILE [--json]\n"
    "\n"
    "Reads FILE as the load client and the experiment runner do, checking\n"
    "every row (known function, runtime and payload group, readable body\n"
    "files, sorted offsets), and prints a one-line summary; the first problem\n"
    "is reported as FILE:LINE: COLUMN: what is wrong (exit status 1).\n";

static const char stats_help[] =
    "usage: lumos trace stats FILE [--json]\n"
    "\n"
    "Checks FILE (as check does) and prints what it holds: rows, when the\n"
    "last one goes (duration_s), the mean rate ((rows - 1) over the span of\n"
    "offsets), the inter-arrival times' mean and coefficient of variation\n"
    "(1 for Poisson, 0 for a constant rate), rows per start kind, per\n"
    "function and per runtime, and the header's keys.\n";

/* ---- gen --------------------------------------------------------------- */

static int parse_double(const char *s, double *v) {
    char *end;
    if (!s || !*s) return -1;
    *v = strtod(s, &end);
    return *end ? -1 : 0;
}

static int parse_list(const char *s, double *v, size_t max, size_t *n) {
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf)) return -1;
    *n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == max || parse_double(t, &v[*n]) != 0) return -1;
        (*n)++;
    }
    return *n ? 0 : -1;
}

static const struct option gen_opts[] = {
    {"pattern", required_argument, 0, 'p'},      {"rate", required_argument, 0, 'r'},
    {"duration", required_argument, 0, 'd'},     {"seed", required_argument, 0, 's'},
    {"on-s", required_argument, 0, 1},           {"off-s", required_argument, 0, 2},
    {"rates", required_argument, 0, 3},          {"sojourn-s", required_argument, 0, 4},
    {"from", required_argument, 0, 5},           {"to", required_argument, 0, 6},
    {"step-s", required_argument, 0, 7},         {"arrivals", required_argument, 0, 8},
    {"idle-timeout-s", required_argument, 0, 9}, {"margin-s", required_argument, 0, 10},
    {"count", required_argument, 0, 11},         {"clients", required_argument, 0, 12},
    {"requests", required_argument, 0, 13},      {"mix", required_argument, 0, 14},
    {"function", required_argument, 0, 15},      {"runtime", required_argument, 0, 16},
    {"payload", required_argument, 0, 17},       {"start", required_argument, 0, 18},
    {"out", required_argument, 0, 'o'},          {0, 0, 0, 0}};

/* Sets option c (gen_opts' val) named name from arg. 0 or a usage error. */
static int gen_option(lm_trace_gen_opts *o, int c, const char *name, const char *arg, double *rates,
                      size_t *nrates) {
    double v = 0;
    long long n = 0;
    char err[LM_ERRLEN];
    static const int numeric[] = {'r', 'd', 1, 2, 5, 6, 7, 9, 10};
    int num = 0;
    for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++)
        num |= c == numeric[i];
    int count = c == 's' || c == 11 || c == 12 || c == 13;
    if (num && parse_double(arg, &v) != 0)
        return lm_cli_usage("trace gen", "--%s: '%s' is not a number", name, arg);
    if (count && lm_cli_parse_count(arg, &n) != 0)
        return lm_cli_usage("trace gen", "--%s: '%s' is not a whole number >= 0", name, arg);
    switch (c) {
    case 'p': o->pattern = arg; break;
    case 'r': o->rate_rps = v; break;
    case 'd': o->duration_s = v; break;
    case 's': o->seed = (uint64_t)n; break;
    case 1: o->on_s = v; break;
    case 2: o->off_s = v; break;
    case 3:
        if (parse_list(arg, rates, LM_TRACE_MAX_STEPS, nrates) != 0)
            return lm_cli_usage("trace gen", "--rates: '%s' is not a list of numbers R1,R2,...",
                                arg);
        break;
    case 4: {
        size_t k;
        if (parse_list(arg, o->sojourn_s, 2, &k) != 0 || k != 2)
            return lm_cli_usage("trace gen", "--sojourn-s: '%s' is not two numbers T0,T1", arg);
        break;
    }
    case 5: o->from_rps = v; break;
    case 6: o->to_rps = v; break;
    case 7: o->step_s = v; break;
    case 8:
        if (strcmp(arg, "poisson") == 0)
            o->arrivals = LM_ARRIVALS_POISSON;
        else if (strcmp(arg, "constant") == 0)
            o->arrivals = LM_ARRIVALS_CONSTANT;
        else
            return lm_cli_usage("trace gen", "--arrivals: '%s' is neither poisson nor constant",
                                arg);
        break;
    case 9: o->idle_timeout_s = v; break;
    case 10: o->margin_s = v; break;
    case 11: o->count = (uint64_t)n; break;
    case 12:
        if (n > 100000) return lm_cli_usage("trace gen", "--clients: at most 100000");
        o->clients = (int)n;
        break;
    case 13: o->requests = (uint64_t)n; break;
    case 14: o->mix = arg; break;
    case 15: o->function = arg; break;
    case 16: o->runtime = arg; break;
    case 17: o->payload = arg; break;
    case 18:
        if (lm_trace_parse_start(arg, &o->start, err) != LM_OK)
            return lm_cli_usage("trace gen", "--start: %s", err);
        break;
    }
    return 0;
}

static void dir_of(const char *path, char *dir, size_t n) {
    const char *slash = strrchr(path, '/');
    if (strcmp(path, "-") == 0 || !slash)
        snprintf(dir, n, ".");
    else if (slash == path)
        snprintf(dir, n, "/");
    else
        snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

static int trace_gen(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(gen_help, stdout), 0;
    lm_trace_gen_opts o;
    lm_trace_gen_defaults(&o);
    lm_service_spec spec;
    lm_service_spec_defaults(&spec);
    o.idle_timeout_s = spec.cfg.idle_timeout_ms / 1000.0;
    const char *out = NULL, *given[64];
    size_t ngiven = 0, nrates = 0;
    double rates[LM_TRACE_MAX_STEPS];
    int c, idx;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", gen_opts, &idx)) != -1) {
        if (c == '?' || c == ':')
            return lm_cli_usage("trace gen", "unknown option or missing value '%s'",
                                argv[optind - 1]);
        if (c == 'o') {
            out = optarg;
            continue;
        }
        size_t i = 0;
        while (gen_opts[i].val != c)
            i++;
        if (ngiven < 64) given[ngiven++] = gen_opts[i].name;
        int rc = gen_option(&o, c, gen_opts[i].name, optarg, rates, &nrates);
        if (rc) return rc;
    }
    if (optind < argc) return lm_cli_usage("trace gen", "unexpected argument '%s'", argv[optind]);
    if (!out) return lm_cli_usage("trace gen", "needs -o FILE (- for stdout)");
    for (size_t i = 0; i < ngiven; i++)
        if (o.mix && strcmp(given[i], "function") == 0)
            return lm_cli_usage("trace gen", "give --mix or --function, not both");
    for (size_t i = 0; i < ngiven; i++)
        if (!lm_trace_gen_uses(o.pattern, given[i]))
            return lm_cli_usage("trace gen", "--%s is not a parameter of pattern %s", given[i],
                                o.pattern);
    if (nrates) {
        if (strcmp(o.pattern, "mmpp") == 0) {
            if (nrates != 2)
                return lm_cli_usage("trace gen", "--rates: mmpp takes two rates R0,R1");
            memcpy(o.mmpp_rate_rps, rates, sizeof(o.mmpp_rate_rps));
        } else {
            memcpy(o.steps_rps, rates, nrates * sizeof(*rates));
            o.nsteps = nrates;
        }
    }
    char dir[4096], err[LM_ERRLEN];
    dir_of(out, dir, sizeof(dir));
    o.dir = dir;
    lm_trace *t;
    if (lm_trace_gen(&o, &t, err) != LM_OK) return lm_cli_fail("trace gen: %s", err);
    int rc = lm_trace_save(out, t, err) == LM_OK ? 0 : lm_cli_fail("trace gen: %s", err);
    if (rc == 0 && strcmp(out, "-") != 0)
        printf("wrote %zu requests (pattern %s, seed %llu) to %s\n", t->nrows, o.pattern,
               (unsigned long long)o.seed, out);
    lm_trace_free(t);
    return rc;
}

/* ---- check and stats --------------------------------------------------- */

static json_t *counts_json(const lm_trace_count *c, size_t n) {
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, c[i].name, json_integer((json_int_t)c[i].count));
    return o;
}

static void print_stats_json(const char *path, const lm_trace *t, const lm_trace_stats *s,
                             int full) {
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "ok", json_true());
    json_object_set_new(o, "mode", json_string(t->mode == LM_TRACE_CLOSED ? "closed" : "open"));
    if (t->mode == LM_TRACE_CLOSED)
        json_object_set_new(o, "concurrency", json_integer(t->concurrency));
    json_object_set_new(o, "rows", json_integer((json_int_t)s->rows));
    json_object_set_new(o, "duration_s", json_real(s->duration_s));
    json_object_set_new(o, "functions", counts_json(s->functions, s->nfunctions));
    if (full && t->mode == LM_TRACE_OPEN) {
        json_object_set_new(o, "mean_rate_rps", json_real(s->mean_rate_rps));
        json_object_set_new(o, "iat_mean_us", json_real(s->iat_mean_us));
        json_object_set_new(o, "iat_cv", json_real(s->iat_cv));
    }
    if (full) {
        json_object_set_new(o, "start",
                            json_pack("{s:I,s:I,s:I}", "any", (json_int_t)s->any, "cold",
                                      (json_int_t)s->cold, "warm", (json_int_t)s->warm));
        json_object_set_new(o, "runtimes", counts_json(s->runtimes, s->nruntimes));
        json_t *h = json_object();
        for (size_t i = 0; i < t->nkeys; i++)
            json_object_set_new(h, t->keys[i].key, json_string(t->keys[i].value));
        json_object_set_new(o, "header", h);
    }
    json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    fputc('\n', stdout);
    json_decref(o);
}

static void print_stats(const char *path, const lm_trace *t, const lm_trace_stats *s) {
    printf("%-15s %s\n", "trace", path);
    if (t->mode == LM_TRACE_CLOSED)
        printf("%-15s closed, %d clients\n", "mode", t->concurrency);
    else
        printf("%-15s open\n", "mode");
    printf("%-15s %zu\n%-15s %.6f\n", "rows", s->rows, "duration_s", s->duration_s);
    if (t->mode == LM_TRACE_OPEN)
        printf("%-15s %.3f\n%-15s %.1f\n%-15s %.3f\n", "mean_rate_rps", s->mean_rate_rps,
               "iat_mean_us", s->iat_mean_us, "iat_cv", s->iat_cv);
    printf("%-15s any %zu, cold %zu, warm %zu\n", "start", s->any, s->cold, s->warm);
    printf("functions:\n");
    for (size_t i = 0; i < s->nfunctions; i++)
        printf("  %-22s %zu\n", s->functions[i].name, s->functions[i].count);
    printf("runtimes:\n");
    for (size_t i = 0; i < s->nruntimes; i++)
        printf("  %-22s %zu\n", *s->runtimes[i].name ? s->runtimes[i].name : "(service default)",
               s->runtimes[i].count);
    if (t->nkeys) {
        printf("header:");
        for (size_t i = 0; i < t->nkeys; i++)
            printf(" %s=%s", t->keys[i].key, t->keys[i].value);
        printf("\n");
    }
}

static int trace_inspect(int argc, char **argv, int full) {
    const char *cmd = full ? "trace stats" : "trace check";
    if (lm_cli_wants_help(argc, argv)) return fputs(full ? stats_help : check_help, stdout), 0;
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return lm_cli_usage(cmd, "unknown option '%s'", argv[i]);
        else if (path)
            return lm_cli_usage(cmd, "unexpected argument '%s'", argv[i]);
        else
            path = argv[i];
    }
    if (!path) return lm_cli_usage(cmd, "needs a trace file");
    char err[LM_ERRLEN];
    lm_trace *t;
    if (lm_trace_read(path, &t, err) != LM_OK) return lm_cli_fail("%s: %s", cmd, err);
    lm_trace_stats s;
    int rc = 0;
    if (lm_trace_stats_of(t, &s, err) != LM_OK) {
        rc = lm_cli_fail("%s: %s", cmd, err);
    } else if (json) {
        print_stats_json(path, t, &s, full);
    } else if (full) {
        print_stats(path, t, &s);
    } else {
        printf("%s: ok: %zu requests, mode %s", path, s.rows,
               t->mode == LM_TRACE_CLOSED ? "closed" : "open");
        if (t->mode == LM_TRACE_CLOSED) printf(" (%d clients)", t->concurrency);
        printf(", last at %.3f s, %zu function%s\n", s.duration_s, s.nfunctions,
               s.nfunctions == 1 ? "" : "s");
    }
    lm_trace_stats_free(&s);
    lm_trace_free(t);
    return rc;
}

int lm_cmd_trace(int argc, char **argv) {
    if (argc < 2 || (lm_cli_wants_help(argc, argv) && argv[1][0] == '-')) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "gen") == 0) return trace_gen(argc - 1, argv + 1);
    if (strcmp(sub, "check") == 0) return trace_inspect(argc - 1, argv + 1, 0);
    if (strcmp(sub, "stats") == 0) return trace_inspect(argc - 1, argv + 1, 1);
    if (strcmp(sub, "azure2019") == 0 || strcmp(sub, "azure2021") == 0 || strcmp(sub, "synth") == 0)
        return lm_cmd_trace_azure(argc - 1, argv + 1);
    return lm_cli_usage(
        "trace", "unknown subcommand '%s' (gen, azure2019, azure2021, check, stats, synth)", sub);
}
