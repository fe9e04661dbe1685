/* cmd_build.c -- `lumos build`: compile the function artifacts, prepare them
 * for every available runtime (AoT code, images), print and index sizes. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "builder/build.h"
#include "builder/oci.h"
#include "cli/cli.h"
#include "functions/catalog.h"
#include "runtime/runtime.h"

static const char help[] =
    "usage: lumos build [options]\n"
    "\n"
    "Compiles every function for every target: `native` (a static executable,\n"
    "gcc -O2) and `wasm` (a stripped wasm32-wasi module, clang -O2), into\n"
    "ARTIFACTS/native/FUNCTION and ARTIFACTS/wasm/FUNCTION.wasm; then prepares\n"
    "them for every available runtime that needs more (wasm-aot: wasm2c and gcc;\n"
    "container: an OCI image). Up-to-date artifacts are kept. Prints every\n"
    "file's size in bytes and writes ARTIFACTS/index.json with them all.\n"
    "\n"
    "options:\n"
    "  --artifacts DIR   artifact folder (default $LUMOS_ARTIFACTS or build/artifacts)\n"
    "  --function NAME   build one function only (the index is then not rewritten)\n"
    "  --target T        native, wasm, or native,wasm (default)\n"
    "  --base B          build the image base B first: debian-slim (debootstrap, once;\n"
    "                    then prepares container-slim)\n"
    "  --runtimes LIST   prepare for these runtimes (default: every available one;\n"
    "                    none: compile only)\n"
    "  --jobs N          compilers at once (default 2)\n"
    "  --force           rebuild even when up to date\n"
    "  --json            print the index as JSON\n"
    "  --quiet           print nothing on success\n"
    "  -h, --help        this text\n";

/* Whether name is in the comma-separated list (NULL: every name is). */
static int listed(const char *list, const char *name) {
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return 1;
    return 0;
}

static json_t *file_json(const char *kind, const char *path, long long bytes) {
    return json_pack("{s:s,s:s,s:I}", "kind", kind, "path", path, "size_bytes", (json_int_t)bytes);
}

/* Prepares every function for every wanted runtime; appends index entries
 * and prints rows. LM_ERR stops at the first failure. */
static int prepare_all(const lm_build_opts *o, const char *runtimes, json_t *items, int print,
                       char *err) {
    const lm_runtime *const *all = lm_runtime_all();
    for (size_t r = 0; all[r]; r++) {
        const lm_runtime *rt = all[r];
        if (!rt->prepare || !listed(runtimes, rt->name)) continue;
        char why[LM_ERRLEN];
        if (rt->available(rt, why) != LM_OK) {
            if (runtimes) return lm_errf(err, "runtime %s is not available: %s", rt->name, why);
            continue; /* by default only what this machine can run */
        }
        size_t nfn;
        const lm_fn_info *fns = lm_catalog(&nfn);
        for (size_t f = 0; f < nfn; f++) {
            if (o->only && strcmp(o->only, fns[f].name) != 0) continue;
            if (lm_progress_enabled() && !o->quiet)
                fprintf(stderr, "\r\033[Kbuild: preparing %s for %s", fns[f].name, rt->name);
            lm_artifact_file files[LM_MAX_ARTIFACT_FILES];
            int nfiles = 0;
            if (rt->prepare(rt, fns[f].name, o->out, files, &nfiles, why) != LM_OK)
                return lm_errf(err, "preparing %s for %s: %s", fns[f].name, rt->name, why);
            json_t *arr = json_array();
            for (int i = 0; i < nfiles; i++) {
                json_array_append_new(arr, file_json(files[i].kind, files[i].path, files[i].bytes));
                if (print)
                    printf("%-20s %-20s %-20s %12lld  %s\n", fns[f].name, rt->name, files[i].kind,
                           files[i].bytes, files[i].path);
            }
            json_array_append_new(items, json_pack("{s:s,s:s,s:o}", "function", fns[f].name,
                                                   "runtime", rt->name, "files", arr));
        }
    }
    if (lm_progress_enabled() && !o->quiet) fprintf(stderr, "\r\033[K");
    return LM_OK;
}

int lm_cmd_build(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    lm_build_opts o = {0};
    o.source = LM_SOURCE_DIR;
    o.gen = LM_GEN_DIR;
    o.jobs = 2;
    const char *artifacts = NULL, *runtimes = NULL, *base = NULL;
    int json = 0;
    static const struct option opts[] = {
        {"artifacts", required_argument, 0, 'a'}, {"function", required_argument, 0, 'f'},
        {"target", required_argument, 0, 't'},    {"jobs", required_argument, 0, 'j'},
        {"force", no_argument, 0, 'F'},           {"json", no_argument, 0, 'J'},
        {"quiet", no_argument, 0, 'q'},           {"runtimes", required_argument, 0, 'r'},
        {"base", required_argument, 0, 'B'},      {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long long v;
        switch (c) {
        case 'a': artifacts = optarg; break;
        case 'f': o.only = optarg; break;
        case 't': o.targets = optarg; break;
        case 'r': runtimes = optarg; break;
        case 'B': base = optarg; break;
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
    char err[LM_ERRLEN * 4];
    if (runtimes && strcmp(runtimes, "none") != 0) {
        char list[512];
        snprintf(list, sizeof(list), "%s", runtimes);
        for (char *save, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (!lm_runtime_find(t, err)) return lm_cli_usage("build", "%s", err);
    }
    if (base) {
        if (lm_oci_base_build(base, err) != LM_OK) return lm_cli_fail("build: %s", err);
        if (!runtimes && strcmp(base, "debian-slim") == 0) runtimes = "container-slim";
    }
    o.out = lm_artifacts_dir(artifacts);
    lm_artifact *a;
    size_t n;
    if (lm_build(&o, &a, &n, err) != LM_OK) return lm_cli_fail("build: %s", err);
    int print = !json && !o.quiet;
    json_t *targets = json_array(), *prepared = json_array();
    if (print)
        printf("%-20s %-20s %-20s %12s  %s\n", "function", "runtime", "kind", "size_bytes", "path");
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(targets,
                              json_pack("{s:s,s:s,s:s,s:I,s:b}", "function", a[i].function,
                                        "target", a[i].target, "path", a[i].path, "size_bytes",
                                        (json_int_t)a[i].bytes, "rebuilt", a[i].rebuilt));
        if (print)
            printf("%-20s %-20s %-20s %12lld  %s\n", a[i].function, "(build)", a[i].target,
                   a[i].bytes, a[i].path);
    }
    free(a);
    int rc = 0;
    if (!(runtimes && strcmp(runtimes, "none") == 0) &&
        prepare_all(&o, runtimes, prepared, print, err) != LM_OK)
        rc = lm_cli_fail("build: %s", err);
    json_t *index = json_pack("{s:i,s:s,s:o,s:o}", "version", 2, "artifacts", o.out, "targets",
                              targets, "runtimes", prepared);
    if (rc == 0 && !o.only) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/index.json", o.out);
        if (json_dump_file(index, path, JSON_INDENT(2)) != 0)
            rc = lm_cli_fail("build: cannot write %s", path);
    }
    if (rc == 0 && json) {
        json_dumpf(index, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    }
    json_decref(index);
    return rc;
}
