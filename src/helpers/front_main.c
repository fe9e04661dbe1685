/* front_main.c -- lumos-front, the HTTP function front a cluster's pod
 * runs (src/cluster/front.h, docs/knative-front.md): options and the
 * environment Knative and the manifests set, then lm_front_run. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/front.h"
#include "util/util.h"

static const char help[] =
    "usage: lumos-front [--function F] [--runtime R] [options]\n"
    "\n"
    "Runs one instance of function F on runtime R through the channel and answers\n"
    "HTTP on PORT: each POST (any path) is one request; the body is the function's\n"
    "answer, the probes are in Server-Timing and X-Lumos-Front. GET /healthz says\n"
    "whether it is ready. Options win over the environment:\n"
    "\n"
    "  --function F       LUMOS_FUNCTION\n"
    "  --runtime R        LUMOS_RUNTIME (default native)\n"
    "  --port N           PORT (Knative sets it; default 8080; 0: a free one)\n"
    "  --listen ADDR      LUMOS_LISTEN (default 0.0.0.0)\n"
    "  --redis HOST:PORT  REDIS_URL (redis://HOST:PORT), or REDIS_HOST and REDIS_PORT\n"
    "  --storage-dir DIR  LUMOS_STORAGE_DIR: the folder for \"storage\":\"file\"\n"
    "  --artifacts DIR    LUMOS_ARTIFACTS (default: lumos' build/artifacts)\n"
    "  --timeout MS       LUMOS_TIMEOUT_MS: for READY and each answer (default 60000)\n"
    "  --max-body BYTES   the largest request body (default 67108864)\n"
    "  --cgroup           the instance in a cgroup of its own (needs a writable cgroupfs)\n"
    "  --lazy             start the instance at the first request, not before listening\n"
    "  -h, --help         this text\n"
    "\n"
    "The pod's names come from POD_NAME (else HOSTNAME-PID), POD_UID and NODE_IP.\n";

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    static char redis[300];
    lm_front_opts o = {.function = env("LUMOS_FUNCTION"),
                       .runtime = env("LUMOS_RUNTIME"),
                       .listen = env("LUMOS_LISTEN"),
                       .port = 8080,
                       .storage_dir = env("LUMOS_STORAGE_DIR"),
                       .artifacts = env("LUMOS_ARTIFACTS"),
                       .pod = env("POD_NAME"),
                       .pod_uid = env("POD_UID"),
                       .node = env("NODE_IP")};
    /* Outside a pod (no POD_NAME) the front is a pod of its own: the host's
     * name and its pid keep two local fronts' instance names apart. */
    static char pod[300];
    if (!o.pod) {
        char host[256] = "local";
        gethostname(host, sizeof host - 1);
        snprintf(pod, sizeof pod, "%s-%d", host, (int)getpid());
        o.pod = pod;
    }
    const char *v;
    if ((v = env("PORT"))) o.port = atoi(v);
    if ((v = env("LUMOS_TIMEOUT_MS"))) o.timeout_ms = atoi(v);
    if ((v = env("REDIS_URL"))) {
        if (strncmp(v, "redis://", 8) == 0) v += 8;
        snprintf(redis, sizeof redis, "%.*s", (int)strcspn(v, "/"), v);
        o.redis = redis;
    } else if ((v = env("REDIS_HOST"))) {
        snprintf(redis, sizeof redis, "%s:%s", v, env("REDIS_PORT") ? env("REDIS_PORT") : "6379");
        o.redis = redis;
    }
    static const struct option opts[] = {{"function", required_argument, 0, 'f'},
                                         {"runtime", required_argument, 0, 'r'},
                                         {"port", required_argument, 0, 'p'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"redis", required_argument, 0, 'R'},
                                         {"storage-dir", required_argument, 0, 's'},
                                         {"artifacts", required_argument, 0, 'a'},
                                         {"timeout", required_argument, 0, 't'},
                                         {"max-body", required_argument, 0, 'm'},
                                         {"cgroup", no_argument, 0, 'c'},
                                         {"lazy", no_argument, 0, 'z'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': o.function = optarg; break;
        case 'r': o.runtime = optarg; break;
        case 'p':
            o.port = (int)strtol(optarg, &end, 10);
            if (*end || o.port < 0 || o.port > 65535) {
                fprintf(stderr, "lumos-front: --port must be 0 to 65535\n");
                return 2;
            }
            break;
        case 'l': o.listen = optarg; break;
        case 'R': o.redis = optarg; break;
        case 's': o.storage_dir = optarg; break;
        case 'a': o.artifacts = optarg; break;
        case 't':
            o.timeout_ms = (int)strtol(optarg, &end, 10);
            if (*end || o.timeout_ms < 1) {
                fprintf(stderr, "lumos-front: --timeout must be a positive number of ms\n");
                return 2;
            }
            break;
        case 'm':
            o.max_body_bytes = strtol(optarg, &end, 10);
            if (*end || o.max_body_bytes < 1) {
                fprintf(stderr, "lumos-front: --max-body must be a positive number of bytes\n");
                return 2;
            }
            break;
        case 'c': o.cgroup = 1; break;
        case 'z': o.lazy = 1; break;
        case 'h': fputs(help, stdout); return 0;
        default: fprintf(stderr, "lumos-front: bad option (see --help)\n"); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "lumos-front: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (o.port < 0 || o.port > 65535) {
        fprintf(stderr, "lumos-front: PORT must be 0 to 65535\n");
        return 2;
    }
    char err[LM_ERRLEN];
    if (lm_front_run(&o, err) != LM_OK) {
        fprintf(stderr, "lumos-front: %s\n", err);
        return 1;
    }
    return 0;
}
