/* main.c -- the lumos command: dispatch to subcommands. */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define LUMOS_VERSION LM_CLI_VERSION

static const char usage[] =
    "lumos " LUMOS_VERSION " -- benchmarks serverless runtimes on the same functions\n"
    "\n"
    "usage: lumos COMMAND [options]     (lumos COMMAND --help for each)\n"
    "\n"
    "commands:\n"
    "  run         the main job: benchmark every function on every runtime, with a report\n"
    "  report      the summary and findings of a results database (lumos run or serve)\n"
    "  results     statistics with confidence intervals per cell, ratios; export tables\n"
    "  model       the performance model: latency components against size and load, predictions\n"
    "  compare     the same cells of two results databases side by side, significant changes\n"
    "  serve       the serverless platform: an HTTP gateway with pools of instances\n"
    "  load        send requests to an HTTP endpoint (open or closed loop) and measure each\n"
    "  build       compile every function for every target, print artifact sizes\n"
    "  push        build the images a cluster pulls and copy them to a registry\n"
    "  deploy      write (and apply) the manifests for a Kubernetes cluster with Knative\n"
    "  agent       serve every pod's cgroup CPU and memory on a cluster's node (DaemonSet)\n"
    "  invoke      start one instance of a function and send it one request\n"
    "  exec        run any WASI command module under a Wasm runtime\n"
    "  data        generate benchmark inputs (data gen) and load them (data load)\n"
    "  shape       a shaping proxy (delay, jitter, loss, bandwidth) and tbf on an interface\n"
    "  trace       make, convert (Azure Functions), check and summarize request traces\n"
    "  functions   list the built-in functions and their parameters\n"
    "  runtimes    list the runtimes and whether they are available here\n"
    "  nodes       emulated edge nodes: list, up/down, calibrate their speed\n"
    "  help        this text\n";

int lm_cli_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("lumos: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int lm_cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lumos %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see `lumos %s --help`)\n", cmd);
    va_end(ap);
    return 2;
}

int lm_cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    }
    return 0;
}

int lm_cli_parse_count(const char *s, long long *out) {
    char *end;
    if (!s || !*s || *s == '-') return -1;
    long long v = strtoll(s, &end, 10);
    if (end == s) return -1;
    long long mult = 1;
    if (*end == 'k' || *end == 'K')
        mult = 1000, end++;
    else if (*end == 'M')
        mult = 1000000, end++;
    if (*end) return -1;
    *out = v * mult;
    return 0;
}

int main(int argc, char **argv) {
    /* An instance that dies mid-write must give us EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("lumos %s\n", LUMOS_VERSION);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"run", lm_cmd_run},           {"report", lm_cmd_report},   {"results", lm_cmd_results},
        {"build", lm_cmd_build},       {"invoke", lm_cmd_invoke},   {"exec", lm_cmd_exec},
        {"serve", lm_cmd_serve},       {"data", lm_cmd_data},       {"functions", lm_cmd_functions},
        {"runtimes", lm_cmd_runtimes}, {"load", lm_cmd_load},       {"trace", lm_cmd_trace},
        {"model", lm_cmd_model},       {"compare", lm_cmd_compare}, {"deploy", lm_cmd_deploy},
        {"agent", lm_cmd_agent},       {"push", lm_cmd_push},       {"shape", lm_cmd_shape},
        {"nodes", lm_cmd_nodes},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lumos: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
