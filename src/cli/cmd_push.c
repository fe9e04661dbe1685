/* cmd_push.c -- `lumos push --registry REG`: builds the images a cluster
 * pulls for the services `lumos deploy` names (cached) and copies each to
 * the registry with skopeo. */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "deploy/deploy.h"
#include "runtime/runtime.h"

static const char help[] =
    "usage: lumos push --registry REG [options]\n"
    "\n"
    "Builds the images of the services that `lumos deploy` writes with the same\n"
    "options (the Wasm module image of a Wasm shim runtime, the HTTP front image\n"
    "of the others; docs/knative.md) into ARTIFACTS/cluster/IMAGE/FUNCTION, and\n"
    "the agent image (lumos itself), and copies each to the registry with skopeo\n"
    "as REG/lumos-FUNCTION-IMAGE:TAG (REG/lumos-agent:TAG), digests preserved.\n"
    "An image whose input is missing here (the HTTP front program) is skipped\n"
    "with the reason. Run `lumos build` first.\n"
    "\n"
    "options:\n"
    "  --registry REG       HOST[:PORT][/PATH] of the registry (required)\n"
    "  --tag TAG            the images' tag (default latest)\n"
    "  --tls-verify=false   allow plain HTTP and unverified certificates (a local\n"
    "                       registry); default true\n"
    "  --config FILE        the services, as for lumos deploy\n"
    "  --functions LIST     these functions (as for lumos deploy)\n"
    "  --runtimes LIST      these runtimes (default " LM_DEPLOY_DEFAULT_RUNTIMES ")\n"
    "  --classes FILE       the runtime -> RuntimeClass and image table's override\n"
    "  --front PATH         the HTTP front program (default LIBEXEC/lumos-front)\n"
    "  --module PATH        the module of every Wasm image (default: each function's\n"
    "                       own, ARTIFACTS/wasm/FUNCTION.wasm)\n"
    "  --artifacts DIR      artifact folder (default $LUMOS_ARTIFACTS or build/artifacts)\n"
    "  --no-agent           leave out the agent image\n"
    "  --build-only         build the images, push nothing (no --registry needed)\n"
    "  --json               print each image's outcome as JSON\n"
    "  -h, --help           this text\n";

enum {
    O_REGISTRY = 1000,
    O_TAG,
    O_TLS,
    O_CONFIG,
    O_FUNCTIONS,
    O_RUNTIMES,
    O_CLASSES,
    O_FRONT,
    O_MODULE,
    O_ARTIFACTS,
    O_NO_AGENT,
    O_BUILD_ONLY,
    O_JSON,
};

typedef struct {
    char function[LM_SERVICE_NAME_MAX + 1];
    char image[LM_DEPLOY_NAME_MAX];
} image_key;

/* Whether this lumos has the agent command (`lumos agent --help` works). */
static int has_agent(void) {
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len <= 0) return 0;
    self[len] = 0;
    char *argv[] = {self, "agent", "--help", NULL};
    return lm_run(argv, 1, NULL) == 0;
}

/* Builds and pushes one image; appends its outcome to out. 1 on failure. */
static int one(const lm_deploy_image_opts *io, const char *fn, const char *image,
               const char *registry, const char *tag, int tls, int build_only, json_t *out,
               int print) {
    char err[LM_ERRLEN * 2], layout[PATH_MAX], ref[600] = "", dest[640];
    int skipped = 0;
    const char *ref_fn = strcmp(image, "agent") == 0 ? "" : fn;
    if (!build_only &&
        lm_deploy_image_ref(registry, ref_fn, image, tag, ref, sizeof(ref), err) != LM_OK) {
        lm_cli_fail("push: %s", err);
        return 1;
    }
    int rc = lm_deploy_image_build(io, fn, image, layout, sizeof(layout), &skipped, err);
    json_t *e = json_pack("{s:s,s:s,s:s}", "function", fn, "image", image, "layout", layout);
    if (rc == LM_OK && skipped) {
        json_object_set_new(e, "outcome", json_string("skipped"));
        json_object_set_new(e, "reason", json_string(err));
        if (print) fprintf(stderr, "push: skipped %s\n", err);
    } else if (rc == LM_OK && build_only) {
        json_object_set_new(e, "outcome", json_string("built"));
        if (print) printf("built  %-24s %-20s %s\n", fn, image, layout);
    } else if (rc == LM_OK) {
        snprintf(dest, sizeof(dest), "docker://%s", ref);
        rc = lm_deploy_push(layout, fn, dest, tls, err);
        json_object_set_new(e, "ref", json_string(ref));
        json_object_set_new(e, "outcome", json_string(rc == LM_OK ? "pushed" : "failed"));
        if (rc == LM_OK && print) printf("pushed %-24s %-20s %s\n", fn, image, ref);
    }
    if (rc != LM_OK) {
        json_object_set_new(e, "outcome", json_string("failed"));
        json_object_set_new(e, "reason", json_string(err));
        lm_cli_fail("push: %s", err);
    }
    json_array_append_new(out, e);
    return rc != LM_OK;
}

int lm_cmd_push(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    static const struct option opts[] = {{"registry", required_argument, 0, O_REGISTRY},
                                         {"tag", required_argument, 0, O_TAG},
                                         {"tls-verify", optional_argument, 0, O_TLS},
                                         {"config", required_argument, 0, O_CONFIG},
                                         {"functions", required_argument, 0, O_FUNCTIONS},
                                         {"runtimes", required_argument, 0, O_RUNTIMES},
                                         {"classes", required_argument, 0, O_CLASSES},
                                         {"front", required_argument, 0, O_FRONT},
                                         {"module", required_argument, 0, O_MODULE},
                                         {"artifacts", required_argument, 0, O_ARTIFACTS},
                                         {"no-agent", no_argument, 0, O_NO_AGENT},
                                         {"build-only", no_argument, 0, O_BUILD_ONLY},
                                         {"json", no_argument, 0, O_JSON},
                                         {0, 0, 0, 0}};
    lm_deploy_opts o = {.tag = "latest"};
    lm_deploy_image_opts io = {0};
    const char *config = NULL, *classes_path = NULL, *artifacts = NULL;
    int tls = 1, no_agent = 0, build_only = 0, json = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_REGISTRY: o.registry = optarg; break;
        case O_TAG: o.tag = optarg; break;
        case O_TLS:
            if (!optarg || strcmp(optarg, "true") == 0)
                tls = 1;
            else if (strcmp(optarg, "false") == 0)
                tls = 0;
            else
                return lm_cli_usage("push", "--tls-verify takes true or false, not '%s'", optarg);
            break;
        case O_CONFIG: config = optarg; break;
        case O_FUNCTIONS: o.functions = optarg; break;
        case O_RUNTIMES: o.runtimes = optarg; break;
        case O_CLASSES: classes_path = optarg; break;
        case O_FRONT: io.front = optarg; break;
        case O_MODULE: io.module = optarg; break;
        case O_ARTIFACTS: artifacts = optarg; break;
        case O_NO_AGENT: no_agent = 1; break;
        case O_BUILD_ONLY: build_only = 1; break;
        case O_JSON: json = 1; break;
        default: return lm_cli_usage("push", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return lm_cli_usage("push", "unexpected argument '%s'", argv[optind]);
    if (!o.registry && !build_only) return lm_cli_usage("push", "--registry REG is required");
    char err[LM_ERRLEN * 2];
    char ref[600];
    if (o.registry &&
        lm_deploy_image_ref(o.registry, "", "agent", o.tag, ref, sizeof(ref), err) != LM_OK)
        return lm_cli_usage("push", "%s", err);
    io.artifacts = lm_artifacts_dir(artifacts);
    lm_serve_config cfg;
    lm_deploy_classes classes;
    if (lm_deploy_load(config, classes_path, &cfg, &classes, err) != LM_OK) {
        lm_serve_config_free(&cfg);
        return lm_cli_fail("push: %s", err);
    }
    o.config = &cfg;
    o.classes = &classes;
    lm_service_spec *specs = NULL;
    int n = 0;
    if (lm_deploy_services(&o, &specs, &n, err) != LM_OK) {
        lm_serve_config_free(&cfg);
        return lm_cli_fail("push: %s", err);
    }
    /* Each distinct (function, image) once, in the services' order. */
    image_key *keys = calloc((size_t)n + 1, sizeof(*keys));
    int nkeys = 0;
    for (int i = 0; keys && i < n; i++) {
        const lm_deploy_class *cls = lm_deploy_class_find(&classes, specs[i].runtime);
        int seen = 0;
        for (int k = 0; k < nkeys && !seen; k++)
            seen = strcmp(keys[k].function, specs[i].function) == 0 &&
                   strcmp(keys[k].image, cls->image) == 0;
        if (seen) continue;
        snprintf(keys[nkeys].function, sizeof(keys[0].function), "%s", specs[i].function);
        snprintf(keys[nkeys].image, sizeof(keys[0].image), "%s", cls->image);
        nkeys++;
    }
    free(specs);
    json_t *out = json_array();
    int failed = 0;
    for (int k = 0; keys && k < nkeys; k++)
        failed += one(&io, keys[k].function, keys[k].image, o.registry, o.tag, tls, build_only, out,
                      !json);
    if (!no_agent) {
        if (has_agent())
            failed += one(&io, "lumos", "agent", o.registry, o.tag, tls, build_only, out, !json);
        else {
            json_array_append_new(out,
                                  json_pack("{s:s,s:s,s:s}", "image", "agent", "outcome", "skipped",
                                            "reason", "this lumos has no `agent` command"));
            if (!json) fprintf(stderr, "push: skipped agent: this lumos has no `agent` command\n");
        }
    }
    free(keys);
    if (json) {
        json_dumpf(out, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    }
    json_decref(out);
    lm_serve_config_free(&cfg);
    return failed ? 1 : 0;
}
