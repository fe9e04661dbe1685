/* cmd_list.c -- `lumos functions` and `lumos runtimes`: what Lumos has. */
#include <jansson.h>
#include <string.h>

#include "cli/cli.h"
#include "functions/catalog.h"
#include "runtime/external.h"
#include "runtime/runtime.h"

static const char functions_help[] =
    "usage: lumos functions [--json]\n"
    "\n"
    "Lists the built-in functions with their parameters. The eight benchmark\n"
    "functions come first; `noop` is the yardstick for the channel.\n";

static int parse_json_flag(const char *cmd, int argc, char **argv, int *json) {
    *json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            *json = 1;
        else
            return lm_cli_usage(cmd, "unknown argument '%s'", argv[i]);
    }
    return 0;
}

int lm_cmd_functions(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(functions_help, stdout), 0;
    int json, rc = parse_json_flag("functions", argc, argv, &json);
    if (rc) return rc;
    size_t n;
    const lm_fn_info *f = lm_catalog(&n);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *params = json_array();
            for (size_t p = 0; p < 8 && f[i].params[p].name; p++)
                json_array_append_new(
                    params, json_pack("{s:s,s:s,s:s}", "name", f[i].params[p].name, "type",
                                      f[i].params[p].type, "doc", f[i].params[p].doc));
            json_array_append_new(arr,
                                  json_pack("{s:s,s:s,s:s,s:s,s:b,s:o}", "name", f[i].name,
                                            "summary", f[i].summary, "cpu", f[i].cpu, "io", f[i].io,
                                            "benchmark", f[i].benchmark, "params", params));
        }
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        fputc('\n', stdout);
        json_decref(arr);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        printf("%s  (cpu %s, i/o %s)%s\n  %s\n", f[i].name, f[i].cpu, f[i].io,
               f[i].benchmark ? "" : "  [utility]", f[i].summary);
        for (size_t p = 0; p < 8 && f[i].params[p].name; p++)
            printf("    %-14s %-8s %s\n", f[i].params[p].name, f[i].params[p].type,
                   f[i].params[p].doc);
    }
    return 0;
}

static const char runtimes_help[] =
    "usage: lumos runtimes [--json]\n"
    "\n"
    "Lists every runtime, whether it is available on this machine, its version,\n"
    "and why not when it is not.\n";

int lm_cmd_runtimes(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(runtimes_help, stdout), 0;
    int json, rc = parse_json_flag("runtimes", argc, argv, &json);
    if (rc) return rc;
    const lm_runtime *const *all = lm_runtime_all();
    json_t *arr = json_array();
    if (!json) printf("%-26s %-9s %s\n", "runtime", "available", "version / why not");
    for (size_t i = 0; all[i]; i++) {
        char why[LM_ERRLEN] = "", version[128] = "";
        int ok = all[i]->available(all[i], why) == LM_OK;
        if (ok) all[i]->version(all[i], version, sizeof(version));
        if (json)
            json_array_append_new(arr, json_pack("{s:s,s:b,s:s,s:s,s:s}", "name", all[i]->name,
                                                 "available", ok, "version", version, "why_not",
                                                 why, "description", all[i]->description));
        else
            printf("%-26s %-9s %s\n%-36s %s\n", all[i]->name, ok ? "yes" : "no", ok ? version : why,
                   "", all[i]->description);
    }
    if (json) {
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        fputc('\n', stdout);
    }
    json_decref(arr);
    if (lm_external_error()) fprintf(stderr, "lumos: runtimes file: %s\n", lm_external_error());
    return 0;
}
