/* cmd_serve.c -- `lumos serve`: the serverless platform on loopback. */
#include <event2/event.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "load/dataset.h"
#include "platform/gateway.h"
#include "platform/store.h"
#include "runtime/runtime.h"

static const char help[] =
    "usage: lumos serve [options]\n"
    "\n"
    "Serves the built-in functions over HTTP/1.1 on 127.0.0.1: POST a JSON body to\n"
    "/function/FUNCTION@RUNTIME (or /function/FUNCTION for native). A service is\n"
    "deployed on its first request; its instances start from zero (cold), are\n"
    "reused while warm, serve one request at a time, and stop when idle. Every\n"
    "answer has a Server-Timing header (cold, queue, deser, io, compute, ser,\n"
    "total, in ms) and X-Lumos-Request-Id; `X-Lumos-Start: cold` forces a fresh\n"
    "instance. GET /services lists the services. Ctrl-C (SIGINT) or SIGTERM stops\n"
    "it and every instance.\n"
    "\n"
    "options:\n"
    "  --port P             listen port (default 8080; 0 picks a free one, printed)\n"
    "  --redis HOST:PORT    Redis for the functions; default: a private redis-server\n"
    "  --data DIR           load this data set into Redis first; also the data folder\n"
    "  --max-scale N        instances per service at most (default 4)\n"
    "  --min-scale N        instances kept when idle (default 0)\n"
    "  --idle-timeout MS    stop an idle instance after this (default 60000; 0 = at once)\n"
    "  --queue N            requests that may wait per service (default 64)\n"
    "  --timeout MS         a function's answer, start included (default 60000)\n"
    "  --max-body BYTES     larger request bodies get 413 (default 16777216)\n"
    "  --memory-limit MIB   each instance's cgroup memory limit (default: none)\n"
    "  -h, --help           this text\n";

int lm_cmd_serve(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    lm_gateway_opts o = {.port = 8080, .max_body_bytes = 16 << 20};
    lm_service_config_defaults(&o.service);
    const char *redis = NULL, *data = NULL;
    static const struct option opts[] = {{"port", required_argument, 0, 'p'},
                                         {"redis", required_argument, 0, 'r'},
                                         {"data", required_argument, 0, 'd'},
                                         {"max-scale", required_argument, 0, 'M'},
                                         {"min-scale", required_argument, 0, 'm'},
                                         {"idle-timeout", required_argument, 0, 'i'},
                                         {"queue", required_argument, 0, 'q'},
                                         {"timeout", required_argument, 0, 't'},
                                         {"max-body", required_argument, 0, 'b'},
                                         {"memory-limit", required_argument, 0, 'L'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long long v = 0;
        if (c != 'r' && c != 'd' && c != '?' && lm_cli_parse_count(optarg, &v))
            return lm_cli_usage("serve", "%s needs a non-negative integer, not '%s'",
                                argv[optind - 2], optarg);
        switch (c) {
        case 'p':
            if (v > 65535) return lm_cli_usage("serve", "--port must be 0 to 65535");
            o.port = (int)v;
            break;
        case 'r': redis = optarg; break;
        case 'd': data = optarg; break;
        case 'M':
            if (v < 1 || v > 64) return lm_cli_usage("serve", "--max-scale must be 1 to 64");
            o.service.max_scale = (int)v;
            break;
        case 'm':
            if (v > 64) return lm_cli_usage("serve", "--min-scale must be 0 to 64");
            o.service.min_scale = (int)v;
            break;
        case 'i': o.service.idle_timeout_ms = (int)(v > 86400000 ? 86400000 : v); break;
        case 'q': o.service.queue_max = (int)(v > 1000000 ? 1000000 : v); break;
        case 't':
            if (v < 1 || v > 86400000)
                return lm_cli_usage("serve", "--timeout must be 1 to 86400000");
            o.service.request_timeout_ms = (int)v;
            break;
        case 'b':
            if (v < 1) return lm_cli_usage("serve", "--max-body must be at least 1");
            o.max_body_bytes = (long)v;
            break;
        case 'L': o.service.memory_limit = (uint64_t)v << 20; break;
        default: return lm_cli_usage("serve", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return lm_cli_usage("serve", "unexpected argument '%s'", argv[optind]);
    if (o.service.min_scale > o.service.max_scale)
        return lm_cli_usage("serve", "--min-scale is above --max-scale");
    char err[LM_ERRLEN], addr[300];
    lm_redis_server server = {0};
    lm_store *store = lm_redis_open(redis, &server, addr, sizeof(addr), err);
    if (!store) {
        lm_redis_server_stop(&server);
        return lm_cli_fail("serve: %s", err);
    }
    if (data && lm_dataset_load(data, store, NULL, NULL, NULL, err) != LM_OK) {
        lm_store_free(store);
        lm_redis_server_stop(&server);
        return lm_cli_fail("serve: --data: %s", err);
    }
    o.store = store;
    o.artifacts = lm_artifacts_dir(NULL);
    o.data_dir = data;
    struct event_base *base = event_base_new();
    lm_gateway *gw = base ? lm_gateway_new(base, &o, err) : NULL;
    int rc = 0;
    if (!gw) {
        rc = lm_cli_fail("serve: %s", base ? err : "cannot make an event loop");
    } else {
        printf("lumos serve: listening on http://127.0.0.1:%d (redis %s)\n", lm_gateway_port(gw),
               addr);
        fflush(stdout);
        event_base_dispatch(base);
    }
    lm_gateway_free(gw);
    if (base) event_base_free(base);
    lm_store_free(store);
    lm_redis_server_stop(&server);
    return rc;
}
