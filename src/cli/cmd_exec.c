/* cmd_exec.c -- `lumos exec`: run any WASI command module under one of
 * Lumos' Wasm runtimes, as `wasmtime run` does: stdio and the exit status
 * pass straight through, because lumos replaces itself with the runtime. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/runtime.h"

static const char help[] =
    "usage: lumos exec --runtime R MODULE.wasm [--dir HOST[::GUEST]]... [--env K=V]... [-- ARGS]\n"
    "\n"
    "Runs a WASI (preview1) command module under the Wasm runtime R (wasm-aot,\n"
    "wasm-interp, wasm-interp-wabt, wasm-jit, wasm-baseline, or an external one;\n"
    "see `lumos runtimes`), with stdin, stdout, stderr and the exit status passed\n"
    "through.\n"
    "A trap ends with exit status 134 and `lumos: wasm trap: REASON` on stderr.\n"
    "\n"
    "options:\n"
    "  --runtime R          the Wasm runtime (default wasm-aot)\n"
    "  --dir HOST[::GUEST]  preopen HOST for the module as GUEST (default: the same path)\n"
    "  --env K=V            set a variable in the module's environment\n"
    "  --artifacts DIR      artifact folder (AoT code cache; default build/artifacts)\n"
    "  -h, --help           this text\n";

#define MAX_DIRS 16
#define MAX_ENV 64

int lm_cmd_exec(int argc, char **argv) {
    /* Options may stand before or after the module; everything after "--"
     * belongs to the module, so its own options go there. */
    int split = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            split = i;
            break;
        }
    }
    if (lm_cli_wants_help(split, argv)) return fputs(help, stdout), 0;
    const char *runtime = "wasm-aot", *artifacts = NULL, *module = NULL;
    lm_dir_map dirs[MAX_DIRS];
    int ndirs = 0, nenv = 0;
    char *env[MAX_ENV + 1];
    static const struct option opts[] = {{"runtime", required_argument, 0, 'r'},
                                         {"dir", required_argument, 0, 'd'},
                                         {"env", required_argument, 0, 'e'},
                                         {"artifacts", required_argument, 0, 'a'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(split, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r': runtime = optarg; break;
        case 'a': artifacts = optarg; break;
        case 'd': {
            if (ndirs == MAX_DIRS) return lm_cli_usage("exec", "at most %d --dir", MAX_DIRS);
            /* Split in place: argv's strings are ours to write. */
            char *copy = optarg, *sep = strstr(copy, "::");
            if (sep) *sep = 0;
            if (!*copy || (sep && !sep[2]))
                return lm_cli_usage("exec", "--dir needs HOST or HOST::GUEST, not '%s'", optarg);
            if (!lm_is_dir(copy)) return lm_cli_fail("--dir %s: not a directory", copy);
            dirs[ndirs].host = copy;
            dirs[ndirs].guest = sep ? sep + 2 : copy;
            ndirs++;
            break;
        }
        case 'e':
            if (!strchr(optarg, '=') || optarg[0] == '=')
                return lm_cli_usage("exec", "--env needs K=V, not '%s'", optarg);
            if (nenv == MAX_ENV) return lm_cli_usage("exec", "at most %d --env", MAX_ENV);
            env[nenv++] = optarg;
            break;
        default: return lm_cli_usage("exec", "unknown option '%s'", argv[optind - 1]);
        }
    }
    env[nenv] = NULL;
    if (optind >= split) return lm_cli_usage("exec", "name a module (MODULE.wasm)");
    module = argv[optind];
    /* Arguments: whatever stands after the module, before or after "--". */
    char **args = calloc((size_t)argc + 1, sizeof(char *));
    if (!args) return lm_cli_fail("out of memory");
    int nargs = 0, rc;
    for (int i = optind + 1; i < split; i++)
        args[nargs++] = argv[i];
    for (int i = split + 1; i < argc; i++)
        args[nargs++] = argv[i];
    args[nargs] = NULL;

    char err[LM_ERRLEN], path[4096];
    lm_strv cargv = {0}, cenv = {0};
    const lm_runtime *rt = lm_runtime_find(runtime, err);
    if (!rt) {
        rc = lm_cli_fail("%s", err);
    } else if (!rt->command) {
        rc = lm_cli_fail("runtime %s does not run Wasm modules (try wasm-aot, wasm-interp or "
                         "wasm-jit)",
                         runtime);
    } else if (rt->available(rt, err) != LM_OK) {
        rc = lm_cli_fail("runtime %s is not available: %s", runtime, err);
    } else if (access(module, R_OK) != 0) {
        rc = lm_cli_fail("cannot read module %s: %s", module, strerror(errno));
    } else {
        lm_exec_opts eo = {module, dirs, ndirs, env, args, lm_artifacts_dir(artifacts)};
        if (rt->command(rt, &eo, &cargv, &cenv, err) != LM_OK) {
            rc = lm_cli_fail("%s", err);
        } else if (lm_which(cargv.v[0], path, sizeof(path)) != LM_OK) {
            rc = lm_cli_fail("%s not found: run scripts/setup", cargv.v[0]);
        } else {
            /* The runtime's variables go into this environment, then lumos
             * becomes the runtime: stdio and the exit status are its own. */
            for (int i = 0; i < cenv.n; i++)
                putenv(cenv.v[i]);
            execv(path, cargv.v);
            rc = lm_cli_fail("cannot run %s: %s", path, strerror(errno));
            cenv.n = 0; /* the environment holds its strings now */
        }
    }
    lm_strv_free(&cargv);
    lm_strv_free(&cenv);
    free(args);
    return rc;
}
