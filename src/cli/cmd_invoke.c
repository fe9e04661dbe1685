/* cmd_invoke.c -- `lumos invoke`: one instance, one request, over the real
 * channel, with real storage. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "channel/channel.h"
#include "cli/cli.h"
#include "data/dataset.h"
#include "functions/catalog.h"
#include "runtime/runtime.h"
#include "storage/storage.h"

static const char help[] =
    "usage: lumos invoke FUNCTION [--runtime R] --body JSON|@FILE [options]\n"
    "\n"
    "Starts one instance of FUNCTION on runtime R (default native; see `lumos\n"
    "runtimes`), waits for READY (the cold start), sends the body as one INVOKE,\n"
    "serves the function's storage calls, and prints the response. The probe\n"
    "record (deserialize, storage I/O, compute, serialize, in ms) goes to stderr,\n"
    "or into the --json document. Exit status 0 when the function answered 2xx,\n"
    "1 otherwise.\n"
    "\n"
    "options:\n"
    "  --runtime R         any runtime `lumos runtimes` lists as available\n"
    "                      (default native)\n"
    "  --body JSON|@FILE   the request body, inline or from a file (- is stdin)\n"
    "  --redis HOST:PORT   Redis for \"storage\":\"redis\"; without it, Lumos starts\n"
    "                      its own redis-server when the request names a key\n"
    "  --data DIR          a data set from `lumos data gen`: loaded into that Redis\n"
    "                      first, and the data folder for \"storage\":\"file\"\n"
    "  --storage-dir DIR   the instance's data folder for \"storage\":\"file\"\n"
    "  --timeout MS        for READY and for the answer each (default 60000)\n"
    "  --memory-limit MIB  the instance's cgroup memory limit (default: none)\n"
    "  --no-cgroup         run the instance without a cgroup of its own\n"
    "  --artifacts DIR     artifact folder (default build/artifacts)\n"
    "  --json              print one JSON document: status, response, probes, timings\n"
    "  -h, --help          this text\n";

/* Shows what the instance wrote to stderr, after the fact. */
static void echo_stderr(const lm_instance *inst) {
    char *text = lm_instance_stderr(inst, 64 * 1024);
    if (!text) return;
    for (char *save, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        fprintf(stderr, "[%s stderr] %s\n", inst->id, line);
    free(text);
}

static void print_log(void *arg, const char *line, size_t len) {
    fprintf(stderr, "[%s] %.*s\n", (const char *)arg, (int)len, line);
}

/* Does the request need Redis: a key given and storage not file/inline? */
static int wants_redis(const char *body, size_t len) {
    json_t *j = json_loadb(body, len, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    const char *st = json_string_value(json_object_get(j, "storage"));
    int keyed = json_object_get(j, "input_key") || json_object_get(j, "output_key");
    int r = st ? strcmp(st, "redis") == 0 : keyed;
    json_decref(j);
    return r;
}

static char *read_body(const char *arg, size_t *len, char *err) {
    if (arg[0] != '@') {
        *len = strlen(arg);
        return strdup(arg);
    }
    if (strcmp(arg + 1, "-") == 0) {
        lm_buf b = {0};
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
            lm_buf_append(&b, chunk, n);
        *len = b.len;
        return b.data ? b.data : strdup("");
    }
    return lm_file_read(arg + 1, len, err);
}

static json_t *probes_json(const uint64_t *p) {
    json_t *o = json_object();
    for (int i = 0; i < LM_PROBE_COUNT; i++)
        json_object_set_new(o, lm_probe_names[i], json_integer((json_int_t)p[i]));
    return o;
}

int lm_cmd_invoke(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    const char *runtime = "native", *body_arg = NULL, *redis = NULL, *data = NULL,
               *storage_dir = NULL, *artifacts = NULL;
    long long timeout = 60000, memory_mb = 0;
    int json = 0, no_cgroup = 0;
    static const struct option opts[] = {{"runtime", required_argument, 0, 'r'},
                                         {"body", required_argument, 0, 'b'},
                                         {"redis", required_argument, 0, 'R'},
                                         {"data", required_argument, 0, 'd'},
                                         {"storage-dir", required_argument, 0, 's'},
                                         {"timeout", required_argument, 0, 't'},
                                         {"artifacts", required_argument, 0, 'a'},
                                         {"json", no_argument, 0, 'J'},
                                         {"memory-limit", required_argument, 0, 'm'},
                                         {"no-cgroup", no_argument, 0, 'N'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r': runtime = optarg; break;
        case 'b': body_arg = optarg; break;
        case 'R': redis = optarg; break;
        case 'd': data = optarg; break;
        case 's': storage_dir = optarg; break;
        case 't':
            if (lm_cli_parse_count(optarg, &timeout) || timeout < 1 || timeout > 86400000)
                return lm_cli_usage("invoke", "--timeout must be 1 to 86400000 ms");
            break;
        case 'a': artifacts = optarg; break;
        case 'm':
            if (lm_cli_parse_count(optarg, &memory_mb) || memory_mb < 1 || memory_mb > 1 << 20)
                return lm_cli_usage("invoke", "--memory-limit must be 1 to 1048576 MiB");
            break;
        case 'J': json = 1; break;
        case 'N': no_cgroup = 1; break;
        default: return lm_cli_usage("invoke", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return lm_cli_usage("invoke", "name one function");
    if (redis) {
        char host[256], e[LM_ERRLEN];
        int port;
        if (lm_parse_hostport(redis, host, sizeof(host), &port, e) != LM_OK)
            return lm_cli_usage("invoke", "--redis: %s", e);
    }
    const char *fn = argv[optind];
    if (!body_arg) return lm_cli_usage("invoke", "--body JSON or --body @FILE is required");
    if (no_cgroup && memory_mb) return lm_cli_usage("invoke", "--memory-limit needs a cgroup");
    if (!lm_catalog_find(fn))
        return lm_cli_fail("unknown function '%s' (see `lumos functions`)", fn);
    char err[LM_ERRLEN];
    const lm_runtime *rt = lm_runtime_find(runtime, err);
    if (!rt) return lm_cli_fail("%s", err);
    if (rt->available(rt, err) != LM_OK)
        return lm_cli_fail("runtime %s is not available: %s", runtime, err);
    size_t blen;
    char *body = read_body(body_arg, &blen, err);
    if (!body) return lm_cli_fail("--body: %s", err);

    int rc = 1;
    lm_redis_server server = {0};
    lm_store *store = NULL;
    lm_instance inst;
    memset(&inst, 0, sizeof(inst));
    inst.child.pid = -1;
    inst.child.in = inst.child.out = -1;
    if (redis || wants_redis(body, blen)) {
        if (!(store = lm_redis_open(redis, &server, NULL, 0, err))) {
            lm_cli_fail("%s", err);
            goto out;
        }
        if (data && lm_dataset_load(data, store, NULL, NULL, NULL, err) != LM_OK) {
            lm_cli_fail("--data: %s", err);
            goto out;
        }
    }
    lm_start_opts so = {.artifacts = lm_artifacts_dir(artifacts),
                        .data_dir = storage_dir ? storage_dir : data,
                        .stderr_fd = LM_STDERR_CAPTURE,
                        .memory_limit = (uint64_t)memory_mb << 20,
                        .no_cgroup = no_cgroup};
    if (lm_instance_start(rt, fn, &so, &inst, err) != LM_OK) {
        lm_cli_fail("%s", err);
        goto out;
    }
    uint64_t ready_ns;
    if (lm_wait_ready(&inst, (int)timeout, &ready_ns, err) != LM_OK) {
        lm_cli_fail("%s", err);
        goto out;
    }
    lm_call_result res;
    if (lm_call(&inst, body, blen, store, (int)timeout, print_log, inst.id, &res, err) != LM_OK) {
        lm_cli_fail("%s", err);
        goto out;
    }
    double cold_ms = (double)(ready_ns - inst.spawn_ns) / 1e6;
    double placement_ms = (double)(inst.spawn_ns - inst.start_ns) / 1e6;
    double latency_ms = (double)(res.result_ns - res.sent_ns) / 1e6;
    if (json) {
        json_t *resp = json_loadb(res.body, res.body_len, 0, NULL);
        json_t *doc = json_pack(
            "{s:s,s:s,s:s,s:i,s:i,s:o,s:o,s:f,s:f,s:f,s:f,s:i}", "function", fn, "runtime",
            rt->name, "instance", inst.id, "pid", (int)inst.child.pid, "status", res.status,
            "response", resp ? resp : json_stringn(res.body, res.body_len), "probes",
            probes_json(res.probes), "cold_start_ms", cold_ms, "placement_ms", placement_ms,
            "latency_ms", latency_ms, "host_storage_ms", (double)res.storage_ns / 1e6,
            "storage_calls", (int)res.storage_calls);
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        fwrite(res.body, 1, res.body_len, stdout);
        fputc('\n', stdout);
        const uint64_t *p = res.probes;
        fprintf(stderr,
                "status %d  cold_start_ms %.3f  placement_ms %.3f  latency_ms %.3f  deser_ms %.3f  "
                "io_ms %.3f  "
                "compute_ms %.3f  ser_ms %.3f  io_bytes %llu/%llu\n",
                res.status, cold_ms, placement_ms, latency_ms, p[LM_PROBE_DESER_NS] / 1e6,
                p[LM_PROBE_IO_NS] / 1e6, p[LM_PROBE_COMPUTE_NS] / 1e6, p[LM_PROBE_SER_NS] / 1e6,
                (unsigned long long)p[LM_PROBE_IO_READ_BYTES],
                (unsigned long long)p[LM_PROBE_IO_WRITE_BYTES]);
    }
    rc = res.status >= 200 && res.status < 300 ? 0 : 1;
    lm_call_result_free(&res);
out:
    echo_stderr(&inst); /* before stop, which drops what was captured */
    lm_instance_stop(&inst, 1000);
    lm_store_free(store);
    lm_redis_server_stop(&server);
    free(body);
    return rc;
}
