/* cmd_build.c -- `lumos build`: compile the function artifacts, print sizes. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "cli/cli.h"
#include "runtime/runtime.h"

static const char help[] =
    "usage: lumos build [options]\n"
    "\n"
    "Compiles every function for every target: `native` (a static executable,\n"
    "gcc -O2) and `wasm` (a stripped wasm32-wasi module, clang -O2), into\n"
    "ARTIFACTS/native/FUNCTION and ARTIFACTS/wasm/FUNCTION.wasm, and writes\n"
    "ARTIFACTS/index.json with every artifact's size. Up-to-date artifacts are\n"
    "kept. Prints each artifact's size in bytes.\n"
    "\n"
    "options:\n"
    "  --artifacts DIR   artifact folder (default $LUMOS_ARTIFACTS or build/artifacts)\n"
    "  --function NAME   build one function only\n"
    "  --target T        native, wasm, or native,wasm (default)\n"
    "  --jobs N          compilers at once (default 2)\n"
    "  --force           rebuild even when up to date\n"
    "  --json            print the artifact list as JSON\n"
    "  --quiet           print nothing on success\n"
    "  -h, --help        this text\n";

int lm_cmd_build(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    lm_build_opts o = {0};
    o.source = LM_SOURCE_DIR;
    o.gen = LM_GEN_DIR;
    o.jobs = 2;
    const char *artifacts = NULL;
    int json = 0;
    static const struct option opts[] = {
        {"artifacts", required_argument, 0, 'a'}, {"function", required_argument, 0, 'f'},
        {"target", required_argument, 0, 't'},    {"jobs", required_argument, 0, 'j'},
        {"force", no_argument, 0, 'F'},           {"json", no_argument, 0, 'J'},
        {"quiet", no_argument, 0, 'q'},           {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long long v;
        switch (c) {
        case 'a': artifacts = optarg; break;
        case 'f': o.only = optarg; break;
        case 't': o.targets = optarg; break;
        case 'j':
            if (lm_cli_parse_count(optarg, &v) || v < 1 || v > 64)
                return lm_cli_usage("build", "--jobs must be 1 to 64, not '%s'", optarg);
            o.jobs = (int)v;
            break;
        case 'F': o.force = 1; break;
        case 'J': json = 1; break;
        case 'q': o.quiet = 1; break;
        default: return lm_cli_usage("build", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return lm_cli_usage("build", "unexpected argument '%s'", argv[optind]);
    o.out = lm_artifacts_dir(artifacts);
    lm_artifact *a;
    size_t n;
    char err[LM_ERRLEN * 4];
    if (lm_build(&o, &a, &n, err) != LM_OK) return lm_cli_fail("build: %s", err);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr,
                                  json_pack("{s:s,s:s,s:s,s:I,s:b}", "function", a[i].function,
                                            "target", a[i].target, "path", a[i].path, "size_bytes",
                                            (json_int_t)a[i].bytes, "rebuilt", a[i].rebuilt));
        json_t *root = json_pack("{s:i,s:s,s:o}", "version", 1, "artifacts", o.out, "items", arr);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        fputc('\n', stdout);
        json_decref(root);
    } else if (!o.quiet) {
        printf("%-20s %-7s %12s  %s\n", "function", "target", "size_bytes", "path");
        for (size_t i = 0; i < n; i++)
            printf("%-20s %-7s %12lld  %s\n", a[i].function, a[i].target, a[i].bytes, a[i].path);
    }
    free(a);
    return 0;
}
