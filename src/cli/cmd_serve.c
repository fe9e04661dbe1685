/* cmd_serve.c -- `lumos serve`: the serverless platform on loopback. */
#include <event2/event.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "data/dataset.h"
#include "node/node.h"
#include "observe/recorder.h"
#include "platform/gateway.h"
#include "platform/link.h"
#include "runtime/cgroup.h"
#include "runtime/runtime.h"
#include "shape/shape.h"
#include "storage/storage.h"

static const char help[] =
    "usage: lumos serve [options]\n"
    "\n"
    "Serves the built-in functions over HTTP/1.1 on 127.0.0.1: POST a JSON body to\n"
    "/function/FUNCTION@RUNTIME (or /function/FUNCTION: its default runtime). A\n"
    "service is deployed by --config, by POST /services, or on its first request;\n"
    "its instances start from zero (cold), are reused while warm, take\n"
    "--container-concurrency requests at a time, scale with a Knative-style\n"
    "autoscaler and stop when idle. Every answer has a Server-Timing header\n"
    "(platform, cold, queue, deser, io, compute, ser, total, in ms) and\n"
    "X-Lumos-Request-Id; `X-Lumos-Start: cold` forces a fresh instance and\n"
    "`X-Lumos-Cell: N` files the request under experiment cell N. Every\n"
    "request, instance, scaling decision and telemetry sample is recorded in a\n"
    "SQLite results file (an existing one is appended to, its ids continued);\n"
    "POST /results/flush writes what is pending. GET /services lists the\n"
    "services, GET /metrics is the Prometheus exposition. Ctrl-C (SIGINT) or SIGTERM lets requests "
    "in flight\n"
    "finish, then stops every instance (twice: at once).\n"
    "\n"
    "options:\n"
    "  --port P             listen port (default 8080; 0 picks a free one, printed)\n"
    "  --config FILE        services and defaults (docs/serve-config.md)\n"
    "  --redis HOST:PORT    Redis for the functions; default: a private redis-server\n"
    "  --data DIR           load this data set into Redis first; also the data folder\n"
    "  --results FILE       the results database (default results/serve-DATE-TIME.db;\n"
    "                       `none`: record nothing)\n"
    "  --no-telemetry       no per-request CPU and memory readings, no samples\n"
    "  --sample-ms MS       sample every instance's CPU and memory this often\n"
    "                       (default 1000; 0 = only at each request's end)\n"
    "  --max-body BYTES     larger request bodies get 413 (default 16777216)\n"
    "  --drain-timeout MS   on SIGINT/SIGTERM, time for requests in flight (default 10000)\n"
    "\n"
    "service defaults (a --config file or POST /services may override them):\n"
    "  --max-scale N        instances per service at most (default 4)\n"
    "  --min-scale N        instances kept when idle (default 0)\n"
    "  --idle-timeout MS    stop an idle instance after this (default 60000; 0 = at once,\n"
    "                       so every request is a cold start)\n"
    "  --queue N            requests that may wait per service (default 64)\n"
    "  --queue-timeout MS   how long one may wait (default 30000)\n"
    "  --timeout MS         a function's answer, start included (default 60000)\n"
    "  --memory-limit MIB   each instance's cgroup memory limit (default: none)\n"
    "  --container-concurrency N  requests one instance holds at once (default 1)\n"
    "  --autoscaler KIND    kpa (default: Knative's, see docs/autoscaler.md) or none\n"
    "                       (a request that finds no free instance starts one)\n"
    "  --target X           kpa: concurrency per instance aimed at (default 1)\n"
    "  --stable-window MS   kpa: default 60000\n"
    "  --panic-window MS    kpa: default 6000\n"
    "  --tick MS            kpa: how often it decides (default 2000)\n"
    "  --nodes A,B,...      emulated nodes (profiles of `lumos nodes`) to place instances\n"
    "                       on, brought up at start and removed at exit (root; docs/nodes.md)\n"
    "  --placement POLICY   spread (default), bin-pack or affinity\n"
    "  --nodes-config FILE  node profiles (default: $LUMOS_NODES or the built-in ones)\n"
    "  --network COND       the link condition (or schedule) of every node, instead of\n"
    "                       its profile's; without --nodes, of the storage path (a shaping\n"
    "                       proxy before Redis). Syntax of `lumos shape`: 'delay=20ms,\n"
    "                       jitter=5ms,loss=1%,rate=100mbit', 'none', or a schedule\n"
    "                       '0s delay=2ms; 2m delay=200ms,loss=5%; 4m delay=2ms'\n"
    "                       (docs/network.md)\n"
    "  --link NODE=COND     the link of one node of --nodes (repeatable; above --network)\n"
    "  -h, --help           this text\n";

enum {
    O_PORT = 1000,
    O_CONFIG,
    O_REDIS,
    O_DATA,
    O_RESULTS,
    O_NO_TEL,
    O_SAMPLE,
    O_MAXBODY,
    O_DRAIN,
    O_MAXSCALE,
    O_MINSCALE,
    O_IDLE,
    O_QUEUE,
    O_QTIMEOUT,
    O_TIMEOUT,
    O_MEMLIMIT,
    O_CC,
    O_AUTOSCALER,
    O_TARGET,
    O_STABLE,
    O_PANIC,
    O_TICK,
    O_NODES,
    O_PLACEMENT,
    O_NODES_CONFIG,
    O_NETWORK,
    O_LINK,
};

typedef struct {
    const char *redis, *data, *results, *config;
    const char *nodes, *nodes_config;
    const char *network;                         /* --network, or NULL */
    const char *link_node[LM_NODE_MAX_PROFILES]; /* --link NODE=COND: NODE */
    char link_name[LM_NODE_MAX_PROFILES][24];
    const char *link_cond[LM_NODE_MAX_PROFILES]; /* and COND */
    int nlinks;
} serve_paths;

/* Checks a condition or schedule of option opt; LM_ERR after the usage. */
static int check_cond(const char *opt, const char *what, const char *text) {
    lm_shape_sched s;
    char err[LM_ERRLEN];
    if (lm_shape_sched_parse(text, &s, err) != LM_OK) {
        lm_cli_usage("serve", "%s%s%s: %s (docs/network.md)", opt, *what ? " " : "", what, err);
        return LM_ERR;
    }
    lm_shape_sched_free(&s);
    return LM_OK;
}

/* --link NODE=COND into paths; LM_ERR after the usage. */
static int add_link(serve_paths *paths, const char *arg) {
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : 0;
    if (!eq || n == 0 || n >= sizeof(paths->link_name[0]) ||
        strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
        return lm_cli_usage("serve",
                            "--link must be NODE=CONDITION (a node of --nodes, e.g. "
                            "pi4=delay=20ms,rate=10mbit), not '%s'",
                            arg),
               LM_ERR;
    if (paths->nlinks == LM_NODE_MAX_PROFILES)
        return lm_cli_usage("serve", "--link is given more than %d times", LM_NODE_MAX_PROFILES),
               LM_ERR;
    char *name = paths->link_name[paths->nlinks];
    memcpy(name, arg, n);
    name[n] = 0;
    for (int i = 0; i < paths->nlinks; i++)
        if (strcmp(paths->link_node[i], name) == 0)
            return lm_cli_usage("serve", "--link names node '%s' twice", name), LM_ERR;
    paths->link_node[paths->nlinks] = name;
    paths->link_cond[paths->nlinks++] = eq + 1;
    return LM_OK;
}

/* Every --link names a node of --nodes (checked before its condition: a
 * mistyped NODE= is the likelier error); LM_ERR after the usage. */
static int check_links(const serve_paths *paths) {
    if (paths->nlinks && !paths->nodes)
        return lm_cli_usage("serve", "--link needs --nodes (the node it names must be brought "
                                     "up); --network alone shapes the host's storage path"),
               LM_ERR;
    for (int i = 0; i < paths->nlinks; i++) {
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s", paths->nodes);
        int found = 0;
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            found |= strcmp(t, paths->link_node[i]) == 0;
        if (!found)
            return lm_cli_usage("serve",
                                "--link names node '%s', which --nodes (%s) does not "
                                "bring up",
                                paths->link_node[i], paths->nodes),
                   LM_ERR;
        char what[64];
        snprintf(what, sizeof(what), "for node %s", paths->link_node[i]);
        if (check_cond("--link", what, paths->link_cond[i]) != LM_OK) return LM_ERR;
    }
    return LM_OK;
}

/* One integer option within [lo, hi]; LM_ERR after printing the usage. */
static int count_in(const char *opt, const char *arg, long long lo, long long hi, int *out) {
    long long v;
    if (lm_cli_parse_count(arg, &v) || v < lo || v > hi) {
        lm_cli_usage("serve", "%s must be an integer from %lld to %lld, not '%s'", opt, lo, hi,
                     arg);
        return LM_ERR;
    }
    *out = (int)v;
    return LM_OK;
}

static int parse(int argc, char **argv, lm_gateway_opts *o, serve_paths *paths) {
    static const struct option opts[] = {{"port", required_argument, 0, O_PORT},
                                         {"config", required_argument, 0, O_CONFIG},
                                         {"redis", required_argument, 0, O_REDIS},
                                         {"data", required_argument, 0, O_DATA},
                                         {"results", required_argument, 0, O_RESULTS},
                                         {"no-telemetry", no_argument, 0, O_NO_TEL},
                                         {"sample-ms", required_argument, 0, O_SAMPLE},
                                         {"max-body", required_argument, 0, O_MAXBODY},
                                         {"drain-timeout", required_argument, 0, O_DRAIN},
                                         {"max-scale", required_argument, 0, O_MAXSCALE},
                                         {"min-scale", required_argument, 0, O_MINSCALE},
                                         {"idle-timeout", required_argument, 0, O_IDLE},
                                         {"queue", required_argument, 0, O_QUEUE},
                                         {"queue-timeout", required_argument, 0, O_QTIMEOUT},
                                         {"timeout", required_argument, 0, O_TIMEOUT},
                                         {"memory-limit", required_argument, 0, O_MEMLIMIT},
                                         {"container-concurrency", required_argument, 0, O_CC},
                                         {"autoscaler", required_argument, 0, O_AUTOSCALER},
                                         {"target", required_argument, 0, O_TARGET},
                                         {"stable-window", required_argument, 0, O_STABLE},
                                         {"panic-window", required_argument, 0, O_PANIC},
                                         {"tick", required_argument, 0, O_TICK},
                                         {"nodes", required_argument, 0, O_NODES},
                                         {"placement", required_argument, 0, O_PLACEMENT},
                                         {"nodes-config", required_argument, 0, O_NODES_CONFIG},
                                         {"network", required_argument, 0, O_NETWORK},
                                         {"link", required_argument, 0, O_LINK},
                                         {0, 0, 0, 0}};
    lm_service_config *c = &o->service;
    optind = 1;
    opterr = 0;
    int opt, v = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int rc = LM_OK;
        switch (opt) {
        case O_PORT: rc = count_in("--port", optarg, 0, 65535, &o->port); break;
        case O_CONFIG: paths->config = optarg; break;
        case O_REDIS: paths->redis = optarg; break;
        case O_DATA: paths->data = optarg; break;
        case O_RESULTS: paths->results = optarg; break;
        case O_NO_TEL:
            o->pool.telemetry = 0;
            o->pool.sample_ms = 0;
            break;
        case O_SAMPLE: rc = count_in("--sample-ms", optarg, 0, 3600000, &o->pool.sample_ms); break;
        case O_MAXBODY:
            rc = count_in("--max-body", optarg, 1, 1 << 30, &v);
            o->max_body_bytes = v;
            break;
        case O_DRAIN:
            rc = count_in("--drain-timeout", optarg, 0, 3600000, &o->drain_timeout_ms);
            break;
        case O_MAXSCALE: rc = count_in("--max-scale", optarg, 1, 64, &c->max_scale); break;
        case O_MINSCALE: rc = count_in("--min-scale", optarg, 0, 64, &c->min_scale); break;
        case O_IDLE:
            rc = count_in("--idle-timeout", optarg, 0, 86400000, &c->idle_timeout_ms);
            break;
        case O_QUEUE: rc = count_in("--queue", optarg, 0, 1000000, &c->queue_max); break;
        case O_QTIMEOUT:
            rc = count_in("--queue-timeout", optarg, 1, 86400000, &c->queue_timeout_ms);
            break;
        case O_TIMEOUT:
            rc = count_in("--timeout", optarg, 1, 86400000, &c->request_timeout_ms);
            break;
        case O_MEMLIMIT:
            rc = count_in("--memory-limit", optarg, 0, 1048576, &v);
            c->memory_limit = (uint64_t)v << 20;
            break;
        case O_CC:
            rc = count_in("--container-concurrency", optarg, 1, 1000, &c->container_concurrency);
            break;
        case O_AUTOSCALER:
            if (strcmp(optarg, "kpa") == 0)
                c->autoscaler = LM_AUTOSCALER_KPA;
            else if (strcmp(optarg, "none") == 0)
                c->autoscaler = LM_AUTOSCALER_NONE;
            else
                return lm_cli_usage("serve", "--autoscaler must be kpa or none, not '%s'", optarg),
                       LM_ERR;
            break;
        case O_TARGET: {
            char *end;
            double t = strtod(optarg, &end);
            if (*end || end == optarg || !(t > 0 && t <= 1000))
                return lm_cli_usage("serve", "--target must be a number above 0 (up to 1000)"),
                       LM_ERR;
            c->target = t;
            break;
        }
        case O_STABLE:
            rc = count_in("--stable-window", optarg, 1, 3600000, &c->stable_window_ms);
            break;
        case O_PANIC:
            rc = count_in("--panic-window", optarg, 1, 3600000, &c->panic_window_ms);
            break;
        case O_TICK: rc = count_in("--tick", optarg, 1, 3600000, &c->tick_ms); break;
        case O_NODES: paths->nodes = optarg; break;
        case O_NODES_CONFIG: paths->nodes_config = optarg; break;
        case O_NETWORK:
            if (paths->network)
                return lm_cli_usage("serve", "--network is given twice (per node: --link)"), LM_ERR;
            rc = check_cond("--network", "", optarg);
            paths->network = optarg;
            break;
        case O_LINK: rc = add_link(paths, optarg); break;
        case O_PLACEMENT:
            if ((o->pool.placement = lm_place_find(optarg)) < 0)
                return lm_cli_usage("serve", "--placement must be spread, bin-pack or affinity"),
                       LM_ERR;
            break;
        default:
            return lm_cli_usage("serve", "unknown option or missing value: '%s'", argv[optind - 1]),
                   LM_ERR;
        }
        if (rc != LM_OK) return LM_ERR;
    }
    if (optind < argc)
        return lm_cli_usage("serve", "unexpected argument '%s'", argv[optind]), LM_ERR;
    if (c->min_scale > c->max_scale)
        return lm_cli_usage("serve", "--min-scale is above --max-scale"), LM_ERR;
    return check_links(paths);
}

/* Brings up the nodes of list ("pi4,pi5"), at most max. LM_OK with *n
 * set, or LM_ERR with err (those up are taken down again). */
static int nodes_up(const char *list, const char *config, lm_node *nodes, int max, int *n,
                    char *err) {
    *n = 0;
    lm_node_config c;
    if (lm_node_config_load(config, &c, err) != LM_OK) return LM_ERR;
    lm_node_calibrations cal;
    int have = lm_node_calibration_read(lm_node_calibration_path(), &cal, NULL) == LM_OK;
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", list);
    char *save = NULL;
    for (char *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        const lm_node_profile *p = lm_node_profile_find(&c, name, err);
        int dup = 0;
        for (int i = 0; p && i < *n; i++)
            dup |= strcmp(nodes[i].p.name, name) == 0;
        if (dup) lm_errf(err, "node '%s' is named twice in --nodes", name);
        if (!p || dup || *n == max || lm_node_up(p, have ? &cal : NULL, &nodes[*n], err) != LM_OK) {
            if (p && !dup && *n == max) lm_errf(err, "--nodes names more than %d nodes", max);
            for (int i = 0; i < *n; i++)
                lm_node_down(&nodes[i]);
            *n = 0;
            return LM_ERR;
        }
        if (!nodes[*n].calibrated && p->target_score > 0)
            fprintf(stderr,
                    "lumos serve: node %s is not calibrated (cpu fraction %.2f from its "
                    "profile): run `lumos nodes calibrate`\n",
                    name, p->cpu_fraction);
        (*n)++;
    }
    return LM_OK;
}

/* Brings up each node's link (link_text[i]: its condition or schedule,
 * checked at parse), or, without nodes and with --network, the host's
 * storage path, to Redis at redis. LM_OK, or LM_ERR with err (those up
 * are taken down again). */
static int links_up(const serve_paths *paths, lm_node *nodes, int n, const char *const *link_text,
                    const char *redis, lm_link **links, lm_link **host, char *err) {
    lm_shape_sched s;
    for (int i = 0; i < n; i++) {
        memset(&s, 0, sizeof(s)); /* a profile without a link: unshaped */
        if (*link_text[i] && lm_shape_sched_parse(link_text[i], &s, err) != LM_OK) goto fail;
        links[i] = lm_link_node_up(&nodes[i], &s, redis, 1 + 1000 * (uint64_t)i, err);
        lm_shape_sched_free(&s);
        if (!links[i]) goto fail;
    }
    if (!n && paths->network) {
        if (lm_shape_sched_parse(paths->network, &s, err) != LM_OK) return LM_ERR;
        *host = lm_link_host_up(&s, redis, 1, err);
        lm_shape_sched_free(&s);
        if (!*host) return LM_ERR;
    }
    return LM_OK;
fail:
    for (int i = 0; i < n; i++) {
        lm_link_down(links[i]);
        links[i] = NULL;
    }
    return LM_ERR;
}

/* Where telemetry comes from on this machine, said once at start. */
static void say_telemetry(const lm_pool_opts *po) {
    if (!po->telemetry) {
        printf("lumos serve: telemetry off\n");
        return;
    }
    char err[LM_ERRLEN];
    int v = lm_cgroup_version(err);
    if (v)
        printf("lumos serve: telemetry from cgroup v%d, one group per instance\n", v);
    else
        printf("lumos serve: telemetry from /proc (the instance's process only): %s\n", err);
}

int lm_cmd_serve(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    lm_gateway_opts o = {.port = 8080, .max_body_bytes = 16 << 20, .drain_timeout_ms = 10000};
    lm_service_config_defaults(&o.service);
    o.pool.telemetry = 1;
    o.pool.sample_ms = 1000;
    serve_paths paths = {0};
    if (parse(argc, argv, &o, &paths) != LM_OK) return 2;

    char err[LM_ERRLEN], addr[300], dbpath[2048];
    lm_results *db = NULL;
    int created = 0, served = 0;
    if (!paths.results || strcmp(paths.results, "none") != 0) {
        if (paths.results) {
            snprintf(dbpath, sizeof(dbpath), "%s", paths.results);
        } else {
            time_t now = time(NULL);
            char stamp[32];
            strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
            if (lm_mkdirs("results", err) != LM_OK) return lm_cli_fail("serve: %s", err);
            snprintf(dbpath, sizeof(dbpath), "results/serve-%s.db", stamp);
        }
        lm_results_opts ro = {.background = 1, .lumos_version = "0.1.0"};
        created = access(dbpath, F_OK) != 0;
        db = lm_results_open(dbpath, &ro, err);
        if (!db) return lm_cli_fail("serve: --results: %s", err);
        if (created) lm_results_set_meta(db, "command", "lumos serve", NULL);
        /* An existing file: number this run's rows after what it holds. */
        lm_results_ids ids;
        if (lm_results_used_ids(db, &ids, err) != LM_OK) {
            lm_results_close(db);
            return lm_cli_fail("serve: --results: %s", err);
        }
        o.request_id_base = (uint64_t)ids.request;
        o.pool.service_id_base = ids.service;
        lm_instance_ids_after((unsigned)ids.instance_seq);
    }
    o.pool.results = db;
    lm_node nodes[LM_NODE_MAX_PROFILES];
    if (paths.nodes && nodes_up(paths.nodes, paths.nodes_config, nodes, LM_NODE_MAX_PROFILES,
                                &o.pool.nnodes, err) != LM_OK) {
        lm_results_close(db);
        return lm_cli_fail("serve: --nodes: %s", err);
    }
    o.pool.nodes = o.pool.nnodes ? nodes : NULL;
    /* Each node's link: its --link, else --network, else its profile's. */
    const char *link_text[LM_NODE_MAX_PROFILES];
    for (int i = 0; i < o.pool.nnodes; i++) {
        link_text[i] = paths.network ? paths.network : nodes[i].p.link;
        for (int k = 0; k < paths.nlinks; k++)
            if (strcmp(paths.link_node[k], nodes[i].p.name) == 0) link_text[i] = paths.link_cond[k];
        if (link_text[i] != nodes[i].p.link)
            snprintf(nodes[i].p.link, sizeof(nodes[i].p.link), "%s", link_text[i]);
    }
    for (int i = 0; db && i < o.pool.nnodes; i++) {
        char detail[4096];
        lm_node_json(&nodes[i], detail, sizeof(detail));
        lm_record_event(db, LM_RESULTS_NULL, NULL, "node_up", detail);
    }

    lm_redis_server server = {0};
    lm_store *store = lm_redis_open(paths.redis, &server, addr, sizeof(addr), err);
    if (!store) {
        lm_redis_server_stop(&server);
        for (int i = 0; i < o.pool.nnodes; i++)
            lm_node_down(&nodes[i]);
        lm_results_close(db);
        return lm_cli_fail("serve: %s", err);
    }
    int rc = 0;
    struct event_base *base = NULL;
    lm_gateway *gw = NULL;
    lm_link *links[LM_NODE_MAX_PROFILES] = {0}, *host_link = NULL;
    if (links_up(&paths, nodes, o.pool.nnodes, link_text, addr, links, &host_link, err) != LM_OK) {
        rc = lm_cli_fail("serve: %s", err);
        goto out;
    }
    if (o.pool.nnodes) o.pool.links = links;
    if (paths.data && lm_dataset_load(paths.data, store, NULL, NULL, NULL, err) != LM_OK) {
        rc = lm_cli_fail("serve: --data: %s", err);
        goto out;
    }
    o.pool.store = host_link ? lm_link_store(host_link) : store;
    o.pool.artifacts = lm_artifacts_dir(NULL);
    o.pool.data_dir = paths.data;
    base = event_base_new();
    if (!base) {
        rc = lm_cli_fail("serve: cannot make an event loop");
        goto out;
    }
    if (lm_store_attach(store, base, err) != LM_OK) {
        rc = lm_cli_fail("serve: %s", err);
        goto out;
    }
    gw = lm_gateway_new(base, &o, err);
    if (!gw) {
        rc = lm_cli_fail("serve: %s", err);
        goto out;
    }
    if (paths.config && lm_gateway_load_config(gw, paths.config, err) != LM_OK) {
        rc = lm_cli_fail("serve: --config: %s", err);
        goto out;
    }
    printf("lumos serve: listening on http://127.0.0.1:%d (redis %s)\n", lm_gateway_port(gw), addr);
    if (db) printf("lumos serve: recording into %s\n", dbpath);
    for (int i = 0; i < o.pool.nnodes; i++) {
        printf("lumos serve: node %s: netns %s (%s), cpus %s, cpu fraction %.3f%s\n",
               nodes[i].p.name, nodes[i].netns, nodes[i].node_addr, nodes[i].cpus_list,
               nodes[i].cpu_fraction, nodes[i].calibrated ? " (calibrated)" : "");
        printf("lumos serve: node %s: link %s (storage via %s%s)\n", nodes[i].p.name,
               *link_text[i] ? link_text[i] : "none", lm_link_addr(links[i]),
               lm_link_tbf(links[i]) ? ", rate by tbf on its veth" : "");
    }
    if (host_link)
        printf("lumos serve: network %s (storage via %s)\n", paths.network,
               lm_link_addr(host_link));
    say_telemetry(&o.pool);
    fflush(stdout);
    served = 1;
    event_base_dispatch(base);
out:
    lm_gateway_free(gw);
    /* Before the loop goes: the links' stores hold events on it. */
    for (int i = 0; i < o.pool.nnodes; i++)
        lm_link_down(links[i]);
    lm_link_down(host_link);
    lm_store_detach(store); /* its async connection lives on the loop */
    if (base) event_base_free(base);
    lm_store_free(store);
    lm_redis_server_stop(&server);
    for (int i = 0; i < o.pool.nnodes; i++)
        lm_node_down(&nodes[i]);
    if (db) {
        lm_results_stats st;
        lm_results_flush(db, NULL);
        lm_results_stats_get(db, &st);
        lm_results_close(db);
        if (!served && created) {
            /* It never served: leave no empty results file behind. */
            const char *suffix[] = {"", "-wal", "-shm"};
            for (int i = 0; i < 3; i++) {
                char f[2100];
                snprintf(f, sizeof(f), "%s%s", dbpath, suffix[i]);
                unlink(f);
            }
        } else {
            printf("lumos serve: %llu rows written to %s (%llu lost)\n",
                   (unsigned long long)st.rows_written, dbpath, (unsigned long long)st.rows_lost);
        }
    }
    return rc;
}
