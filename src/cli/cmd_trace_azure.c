/* cmd_trace_azure.c -- `lumos trace azure2019`, `lumos trace azure2021`
 * (the Azure Functions traces as Lumos traces) and `lumos trace synth`
 * (synthetic files in their formats). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "trace/azure.h"

static const char azure_help[] =
    "usage: lumos trace azure2019 INVOCATIONS.csv [--durations DURATIONS.csv] [options] -o FILE\n"
    "       lumos trace azure2021 TRACE.csv [options] -o FILE\n"
    "\n"
    "azure2019 replays invocations_per_function_md.anon.d*.csv (HashOwner, HashApp,\n"
    "HashFunction, Trigger, then one count per minute): every per-minute count is\n"
    "kept, the arrivals placed inside their minute by --iat. azure2021 converts\n"
    "the per-invocation trace (app, func, end_timestamp, duration): each row starts\n"
    "at end_timestamp - duration, sorted.\n"
    "\n"
    "Each trace function maps onto a built-in function and payload group by a\n"
    "fixed rule (docs/trace.md): ranked by mean duration (2019: from --durations;\n"
    "without it, by invocations), the ranks split evenly over --functions, and\n"
    "inside each function's share over --groups.\n"
    "\n"
    "options:\n"
    "  --durations FILE   2019: function_durations_percentiles.anon.d*.csv\n"
    "  --minutes A-B      only minutes A to B (1-based, both included)\n"
    "  --top K            only the K functions most invoked in the window\n"
    "  --speedup X        a minute lasts 60/X s (0.001 to 60000; default 1)\n"
    "  --thin P           keep the fraction P of each function's invocations,\n"
    "                     evenly (0 < P <= 1, up to 6 decimals; default 1)\n"
    "  --iat D            2019: exponential (default), uniform or equidistant\n"
    "  --seed N           2019: the seed of the arrivals (default 1)\n"
    "  --functions LIST   built-in functions to map onto, shortest first\n"
    "                     (default: the eight benchmark functions, docs/trace.md)\n"
    "  --groups LIST      payload groups, smallest first (default xs,s,1)\n"
    "  --runtime R        every row's runtime (default: empty, the service's)\n"
    "  --start K          every row's start: cold, warm or any (default any)\n"
    "  --skip-unmapped    leave out functions that map to nothing (2019: not in\n"
    "                     the durations file) instead of failing\n"
    "  --map FILE         also write the mapping (one row per trace function)\n"
    "  -o, --out FILE     where the trace goes (- for stdout)\n";

static const char synth_help[] =
    "usage: lumos trace synth azure2019 -o DIR [--seed N] [--functions N] [--minutes M]\n"
    "       lumos trace synth azure2021 -o FILE [--seed N] [--functions N] [--duration S]\n"
    "\n"
    "Writes synthetic files in the Azure Functions formats, made from the seed\n"
    "with made-up names (synth-owner-00, ...), for tests and examples; nothing\n"
    "comes from the real data sets. azure2019 writes\n"
    "DIR/invocations_per_function_md.synth.d01.csv and\n"
    "DIR/function_durations_percentiles.synth.d01.csv (M minute columns,\n"
    "default 1440); azure2021 writes FILE (S seconds of invocations, default\n"
    "600). Defaults: seed 1, 12 functions. docs/trace.md says how they are made.\n";

static int split_list(char *s, const char **v, size_t max, size_t *n) {
    *n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == max) return -1;
        v[(*n)++] = t;
    }
    return *n ? 0 : -1;
}

static int parse_thin(const char *s, uint32_t *ppm) {
    char *end;
    double p = strtod(s, &end);
    if (!*s || *end || !(p > 0 && p <= 1)) return -1;
    double x = p * 1e6, r = floor(x + 0.5);
    if (fabs(x - r) > 1e-6 || r < 1) return -1;
    *ppm = (uint32_t)r;
    return 0;
}

static FILE *open_in(const char *path, char *err) {
    FILE *f = fopen(path, "r");
    if (!f) lm_errf(err, "%s: cannot open: %s", path, strerror(errno));
    return f;
}

static const struct option azure_opts[] = {{"durations", required_argument, 0, 'D'},
                                           {"minutes", required_argument, 0, 'm'},
                                           {"top", required_argument, 0, 'k'},
                                           {"speedup", required_argument, 0, 'x'},
                                           {"thin", required_argument, 0, 't'},
                                           {"iat", required_argument, 0, 'i'},
                                           {"seed", required_argument, 0, 's'},
                                           {"functions", required_argument, 0, 'f'},
                                           {"groups", required_argument, 0, 'g'},
                                           {"runtime", required_argument, 0, 'r'},
                                           {"start", required_argument, 0, 'S'},
                                           {"skip-unmapped", no_argument, 0, 'u'},
                                           {"map", required_argument, 0, 'M'},
                                           {"out", required_argument, 0, 'o'},
                                           {0, 0, 0, 0}};

static int azure_option(lm_azure_opts *o, int c, char *arg, int y2019, const char **dur,
                        const char **map, const char **out) {
    const char *cmd = y2019 ? "trace azure2019" : "trace azure2021";
    long long n;
    char err[LM_ERRLEN], *end;
    switch (c) {
    case 'D':
        if (!y2019) return lm_cli_usage(cmd, "--durations is for azure2019 only");
        *dur = arg;
        break;
    case 'm':
        if (sscanf(arg, "%d-%d", &o->minute_from, &o->minute_to) != 2 || strchr(arg, ' '))
            return lm_cli_usage(cmd, "--minutes: '%s' is not A-B", arg);
        if (o->minute_from < 1 || o->minute_to < o->minute_from)
            return lm_cli_usage(cmd, "--minutes: %s: want 1 <= A <= B", arg);
        break;
    case 'k':
        if (lm_cli_parse_count(arg, &n) || n < 1)
            return lm_cli_usage(cmd, "--top: '%s' is not a whole number >= 1", arg);
        o->top = (size_t)n;
        break;
    case 'x':
        o->speedup = strtod(arg, &end);
        if (!*arg || *end) return lm_cli_usage(cmd, "--speedup: '%s' is not a number", arg);
        break;
    case 't':
        if (parse_thin(arg, &o->thin_ppm))
            return lm_cli_usage(cmd,
                                "--thin: '%s' is not a fraction 0 < P <= 1 with at most 6 "
                                "decimals",
                                arg);
        break;
    case 'i':
        if (!y2019) return lm_cli_usage(cmd, "--iat is for azure2019 only");
        if (strcmp(arg, "exponential") == 0)
            o->iat = LM_IAT_EXPONENTIAL;
        else if (strcmp(arg, "uniform") == 0)
            o->iat = LM_IAT_UNIFORM;
        else if (strcmp(arg, "equidistant") == 0)
            o->iat = LM_IAT_EQUIDISTANT;
        else
            return lm_cli_usage(cmd, "--iat: '%s' is not exponential, uniform or equidistant", arg);
        break;
    case 's':
        if (!y2019) return lm_cli_usage(cmd, "--seed is for azure2019 only");
        if (lm_cli_parse_count(arg, &n))
            return lm_cli_usage(cmd, "--seed: '%s' is not a whole number >= 0", arg);
        o->seed = (uint64_t)n;
        break;
    case 'f':
        if (split_list(arg, o->targets, LM_AZURE_MAX_TARGETS, &o->ntargets))
            return lm_cli_usage(cmd, "--functions: 1 to %d names, comma-separated",
                                LM_AZURE_MAX_TARGETS);
        break;
    case 'g':
        if (split_list(arg, o->groups, LM_AZURE_MAX_GROUPS, &o->ngroups))
            return lm_cli_usage(cmd, "--groups: 1 to %d names, comma-separated",
                                LM_AZURE_MAX_GROUPS);
        break;
    case 'r': o->runtime = arg; break;
    case 'S':
        if (lm_trace_parse_start(arg, &o->start, err) != LM_OK)
            return lm_cli_usage(cmd, "--start: %s", err);
        break;
    case 'u': o->skip_unmapped = 1; break;
    case 'M': *map = arg; break;
    case 'o': *out = arg; break;
    default: return lm_cli_usage(cmd, "unknown option or missing value '%s'", arg);
    }
    return 0;
}

static int write_map(const char *path, const lm_azure_result *r, char *err) {
    FILE *f = fopen(path, "w");
    if (!f) return lm_errf(err, "%s: cannot create: %s", path, strerror(errno));
    int rc = lm_azure_write_map(f, r);
    if (fclose(f) != 0 || rc != LM_OK) return lm_errf(err, "%s: cannot write", path);
    return LM_OK;
}

static int azure(int argc, char **argv, int y2019) {
    const char *cmd = y2019 ? "trace azure2019" : "trace azure2021";
    if (lm_cli_wants_help(argc, argv)) return fputs(azure_help, stdout), 0;
    lm_azure_opts o;
    lm_azure_defaults(&o);
    const char *dur = NULL, *map = NULL, *out = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", azure_opts, NULL)) != -1) {
        int rc = azure_option(&o, c, c == '?' || c == ':' ? argv[optind - 1] : optarg, y2019, &dur,
                              &map, &out);
        if (rc) return rc;
    }
    if (optind != argc - 1) return lm_cli_usage(cmd, "needs one input file");
    if (!out) return lm_cli_usage(cmd, "needs -o FILE (- for stdout)");
    const char *in = argv[optind];
    char err[LM_ERRLEN];
    FILE *fi = open_in(in, err), *fd = NULL;
    if (!fi) return lm_cli_fail("%s: %s", cmd, err);
    if (dur && !(fd = open_in(dur, err))) {
        fclose(fi);
        return lm_cli_fail("%s: %s", cmd, err);
    }
    lm_azure_result r;
    int rc = y2019 ? lm_azure2019(fi, in, fd, dur, &o, &r, err) : lm_azure2021(fi, in, &o, &r, err);
    fclose(fi);
    if (fd) fclose(fd);
    if (rc != LM_OK) return lm_cli_fail("%s: %s", cmd, err);
    rc = 0;
    if (lm_trace_save(out, r.trace, err) != LM_OK || (map && write_map(map, &r, err) != LM_OK))
        rc = lm_cli_fail("%s: %s", cmd, err);
    if (rc == 0 && strcmp(out, "-") != 0) {
        printf("wrote %zu requests of %zu trace functions to %s", r.trace->nrows, r.nfns, out);
        if (r.skipped) printf(" (%zu unmapped functions left out)", r.skipped);
        printf("\n");
    }
    lm_azure_result_free(&r);
    return rc;
}

static int synth(int argc, char **argv) {
    if (argc < 2 || lm_cli_wants_help(argc, argv)) {
        fputs(synth_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int y2019 = strcmp(argv[1], "azure2019") == 0;
    if (!y2019 && strcmp(argv[1], "azure2021") != 0)
        return lm_cli_usage("trace synth", "'%s' is neither azure2019 nor azure2021", argv[1]);
    static const struct option opts[] = {
        {"seed", required_argument, 0, 's'},    {"functions", required_argument, 0, 'f'},
        {"minutes", required_argument, 0, 'm'}, {"duration", required_argument, 0, 'd'},
        {"out", required_argument, 0, 'o'},     {0, 0, 0, 0}};
    lm_azure_synth_opts o;
    lm_azure_synth_defaults(&o);
    const char *out = NULL;
    int c;
    long long n;
    char *end, err[LM_ERRLEN];
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "o:", opts, NULL)) != -1) {
        if ((c == 'm' && !y2019) || (c == 'd' && y2019))
            return lm_cli_usage("trace synth", "%s: --%s is for the other format", argv[1],
                                c == 'm' ? "minutes" : "duration");
        switch (c) {
        case 'o': out = optarg; break;
        case 'd':
            o.duration_s = strtod(optarg, &end);
            if (*end || !*optarg)
                return lm_cli_usage("trace synth", "--duration: '%s' is not a number", optarg);
            break;
        case 's':
        case 'f':
        case 'm':
            if (lm_cli_parse_count(optarg, &n))
                return lm_cli_usage("trace synth", "'%s' is not a whole number >= 0", optarg);
            if (c == 's') o.seed = (uint64_t)n;
            if (c == 'f') o.functions = (size_t)n;
            if (c == 'm') o.minutes = n > 100000 ? 100000 : (int)n;
            break;
        default: return lm_cli_usage("trace synth", "unknown option '%s'", argv[optind]);
        }
    }
    if (optind != argc - 1) return lm_cli_usage("trace synth", "unexpected argument");
    if (!out) return lm_cli_usage("trace synth", "needs -o %s", y2019 ? "DIR" : "FILE");
    int rc;
    if (y2019) {
        char inv[4096], dur[4096];
        if (lm_mkdirs(out, err) != LM_OK) return lm_cli_fail("trace synth: %s", err);
        if (lm_pathf(inv, sizeof(inv), "%s/invocations_per_function_md.synth.d01.csv", out) ||
            lm_pathf(dur, sizeof(dur), "%s/function_durations_percentiles.synth.d01.csv", out))
            return lm_cli_fail("trace synth: %s: the path is too long", out);
        FILE *fi = fopen(inv, "w"), *fd = fopen(dur, "w");
        if (!fi || !fd) {
            if (fi) fclose(fi);
            if (fd) fclose(fd);
            return lm_cli_fail("trace synth: cannot create the files in %s: %s", out,
                               strerror(errno));
        }
        rc = lm_azure_synth2019(fi, fd, &o, err);
        if (fclose(fi) != 0 || fclose(fd) != 0) rc = lm_errf(err, "cannot write into %s", out);
    } else {
        FILE *f = fopen(out, "w");
        if (!f) return lm_cli_fail("trace synth: %s: cannot create: %s", out, strerror(errno));
        rc = lm_azure_synth2021(f, &o, err);
        if (fclose(f) != 0) rc = lm_errf(err, "%s: cannot write", out);
    }
    if (rc != LM_OK) return lm_cli_fail("trace synth: %s", err);
    printf("wrote synthetic %s data (seed %llu, %zu functions) to %s\n", argv[1],
           (unsigned long long)o.seed, o.functions, out);
    return 0;
}

int lm_cmd_trace_azure(int argc, char **argv) {
    if (strcmp(argv[0], "synth") == 0) return synth(argc, argv);
    return azure(argc, argv, strcmp(argv[0], "azure2019") == 0);
}
