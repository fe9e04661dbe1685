/* cmd_deploy.c -- `lumos deploy --platform knative`: the manifests of every
 * service for a Kubernetes cluster with Knative Serving, and --apply. */
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "deploy/deploy.h"

static const char help[] =
    "usage: lumos deploy --platform knative --out DIR [options]\n"
    "\n"
    "Writes the manifests that run Lumos' services on a Kubernetes cluster with\n"
    "Knative Serving (docs/knative.md): per service (FUNCTION@RUNTIME) a Knative\n"
    "Service (serving.knative.dev/v1) with the runtime's RuntimeClass, the\n"
    "service settings of --config as autoscaling annotations, containerConcurrency,\n"
    "timeoutSeconds, requests and limits, and the Redis address; the RuntimeClasses;\n"
    "a Redis Deployment and Service; the lumos agent DaemonSet; and the Knative\n"
    "config changes (config-features: kubernetes.podspec-runtimeclassname, and\n"
    "config-autoscaler, config-deployment). The same options write the same bytes.\n"
    "The images are pushed with `lumos push` (the same --registry and --tag).\n"
    "\n"
    "options:\n"
    "  --platform knative   the platform (knative is the one there is)\n"
    "  --out DIR            the folder written (its 50-service-*.yaml are replaced)\n"
    "  --config FILE        services and their settings (docs/serve-config.md); the\n"
    "                       defaults apply to --functions x --runtimes\n"
    "  --functions LIST     these functions (default: every one, when --config lists\n"
    "                       no services)\n"
    "  --runtimes LIST      on these runtimes (default " LM_DEPLOY_DEFAULT_RUNTIMES ")\n"
    "  --classes FILE       override the runtime -> RuntimeClass table (docs/knative.md)\n"
    "  --registry REG       the images' registry (default localhost:32000, MicroK8s')\n"
    "  --tag TAG            the images' tag (default latest)\n"
    "  --namespace NS       the namespace of the services (default lumos)\n"
    "  --cpu-request Q      each function pod's CPU request (default 100m)\n"
    "  --cpu-limit Q        its CPU limit (default: none)\n"
    "  --redis-image IMG    the Redis image (default redis:7.2)\n"
    "  --apply              then run `kubectl apply -f DIR` (needs kubectl and KUBECONFIG)\n"
    "  --json               print what was written as JSON\n"
    "  -h, --help           this text\n";

enum {
    O_PLATFORM = 1000,
    O_OUT,
    O_CONFIG,
    O_FUNCTIONS,
    O_RUNTIMES,
    O_CLASSES,
    O_REGISTRY,
    O_TAG,
    O_NAMESPACE,
    O_CPU_REQ,
    O_CPU_LIM,
    O_REDIS_IMAGE,
    O_APPLY,
    O_JSON,
};

/* A namespace name: a DNS-1123 label. */
static int dns_label(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-') return 0;
    return 1;
}

int lm_cmd_deploy(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    static const struct option opts[] = {{"platform", required_argument, 0, O_PLATFORM},
                                         {"out", required_argument, 0, O_OUT},
                                         {"config", required_argument, 0, O_CONFIG},
                                         {"functions", required_argument, 0, O_FUNCTIONS},
                                         {"runtimes", required_argument, 0, O_RUNTIMES},
                                         {"classes", required_argument, 0, O_CLASSES},
                                         {"registry", required_argument, 0, O_REGISTRY},
                                         {"tag", required_argument, 0, O_TAG},
                                         {"namespace", required_argument, 0, O_NAMESPACE},
                                         {"cpu-request", required_argument, 0, O_CPU_REQ},
                                         {"cpu-limit", required_argument, 0, O_CPU_LIM},
                                         {"redis-image", required_argument, 0, O_REDIS_IMAGE},
                                         {"apply", no_argument, 0, O_APPLY},
                                         {"json", no_argument, 0, O_JSON},
                                         {0, 0, 0, 0}};
    lm_deploy_opts o = {.registry = "localhost:32000",
                        .tag = "latest",
                        .namespace = "lumos",
                        .cpu_request = "100m",
                        .redis_image = "redis:7.2"};
    const char *platform = NULL, *config = NULL, *classes_path = NULL;
    int apply = 0, json = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_PLATFORM: platform = optarg; break;
        case O_OUT: o.out = optarg; break;
        case O_CONFIG: config = optarg; break;
        case O_FUNCTIONS: o.functions = optarg; break;
        case O_RUNTIMES: o.runtimes = optarg; break;
        case O_CLASSES: classes_path = optarg; break;
        case O_REGISTRY: o.registry = optarg; break;
        case O_TAG: o.tag = optarg; break;
        case O_NAMESPACE: o.namespace = optarg; break;
        case O_CPU_REQ: o.cpu_request = *optarg ? optarg : NULL; break;
        case O_CPU_LIM: o.cpu_limit = *optarg ? optarg : NULL; break;
        case O_REDIS_IMAGE: o.redis_image = optarg; break;
        case O_APPLY: apply = 1; break;
        case O_JSON: json = 1; break;
        default: return lm_cli_usage("deploy", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return lm_cli_usage("deploy", "unexpected argument '%s'", argv[optind]);
    if (!platform) return lm_cli_usage("deploy", "--platform is required (knative)");
    if (strcmp(platform, "knative") != 0)
        return lm_cli_usage("deploy", "unknown platform '%s' (knative is the one there is)",
                            platform);
    if (!o.out) return lm_cli_usage("deploy", "--out DIR is required");
    char err[LM_ERRLEN * 2];
    if (!dns_label(o.namespace))
        return lm_cli_usage("deploy", "--namespace '%s' is not a DNS label", o.namespace);
    lm_serve_config cfg;
    lm_deploy_classes classes;
    if (lm_deploy_load(config, classes_path, &cfg, &classes, err) != LM_OK) {
        lm_serve_config_free(&cfg);
        return lm_cli_fail("deploy: %s", err);
    }
    o.config = &cfg;
    o.classes = &classes;
    lm_deploy_result res;
    int rc = 0;
    if (lm_deploy_knative(&o, &res, err) != LM_OK) {
        lm_serve_config_free(&cfg);
        return lm_cli_fail("deploy: %s", err);
    }
    if (res.notes) fputs(res.notes, stderr);
    if (json) {
        json_t *files = json_array();
        for (int i = 0; i < res.nfiles; i++)
            json_array_append_new(files, json_string(res.files[i]));
        json_t *out = json_pack("{s:s,s:s,s:i,s:o}", "platform", "knative", "out", o.out,
                                "services", res.nservices, "files", files);
        json_dumpf(out, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(out);
    } else {
        printf("deploy: %d services, %d files in %s\n", res.nservices, res.nfiles, o.out);
    }
    if (apply && lm_deploy_apply(o.out, err) != LM_OK) rc = lm_cli_fail("deploy: %s", err);
    lm_deploy_result_free(&res);
    lm_serve_config_free(&cfg);
    return rc;
}
