/* bench.c -- the calibration benchmark (sysbench 1.0's cpu test, the same
 * loop) and the calibration file. */
#include "node/node.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sysbench's cpu_execute_event: 64-bit trial division with a double
 * square root, as its source has it, so the events per second compare. */
static uint64_t one_pass(uint64_t max_prime) {
    unsigned long long c, l, n = 0;
    for (c = 3; c < max_prime; c++) {
        double t = sqrt((double)c);
        for (l = 2; l <= t; l++)
            if (c % l == 0) break;
        if (l > t) n++;
    }
    return n;
}

uint64_t lm_node_bench_run(uint64_t events, uint64_t max_prime) {
    /* volatile: the passes are the point; none may be folded away. */
    volatile uint64_t found = 0;
    for (uint64_t e = 0; e < events; e++)
        found = one_pass(max_prime);
    return found + 1; /* sysbench counts from 3: the prime 2 is added here */
}

const char *lm_node_calibration_path(void) {
    const char *e = getenv("LUMOS_NODE_CALIBRATION");
    return e && *e ? e : LM_SOURCE_DIR "/build/nodes-calibration.json";
}

int lm_node_calibration_write(const char *path, const lm_node_calibrations *c, char *err) {
    json_t *nodes = json_array();
    for (int i = 0; i < c->n; i++) {
        const lm_node_calibration *k = &c->nodes[i];
        json_array_append_new(nodes, json_pack("{s:s,s:f,s:f,s:f,s:i}", "name", k->name,
                                               "target_slowdown", k->target_slowdown,
                                               "measured_slowdown", k->measured_slowdown,
                                               "cpu_fraction", k->cpu_fraction, "cores", k->cores));
    }
    json_t *root = json_pack("{s:i,s:s,s:f,s:s,s:s,s:i,s:I,s:o}", "version", 1, "benchmark",
                             "sysbench-cpu max-prime 10000, 1 thread", "host_score_events_per_s",
                             c->host_score, "host_cpu", c->host_cpu, "method",
                             "docs/nodes.md: slowdown = (wall/cpu under the node's quota) / "
                             "(wall/cpu in a host-speed group), interleaved",
                             "host_cores", c->host_cores, "measured_at_s",
                             (json_int_t)c->measured_at_s, "nodes", nodes);
    char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
    json_decref(root);
    if (!text) return lm_errf(err, "out of memory writing %s", path);
    int rc = lm_file_write(path, text, strlen(text), err);
    free(text);
    return rc;
}

int lm_node_calibration_read(const char *path, lm_node_calibrations *out, char *err) {
    memset(out, 0, sizeof(*out));
    size_t len;
    char why[LM_ERRLEN];
    char *text = lm_file_read_max(path, 1 << 20, &len, why);
    if (!text)
        return lm_errf(err, "no node calibration at %s (%s): run `lumos nodes calibrate`", path,
                       why);
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    free(text);
    json_t *nodes = json_object_get(root, "nodes");
    if (!root || !json_is_array(nodes)) {
        json_decref(root);
        return lm_errf(err, "%s: not a node calibration file: run `lumos nodes calibrate` again",
                       path);
    }
    out->host_score = json_number_value(json_object_get(root, "host_score_events_per_s"));
    snprintf(out->host_cpu, sizeof(out->host_cpu), "%s",
             json_string_value(json_object_get(root, "host_cpu"))
                 ? json_string_value(json_object_get(root, "host_cpu"))
                 : "");
    out->host_cores = (int)json_integer_value(json_object_get(root, "host_cores"));
    out->measured_at_s = json_integer_value(json_object_get(root, "measured_at_s"));
    size_t i;
    json_t *e;
    json_array_foreach(nodes, i, e) {
        if (out->n >= LM_NODE_MAX_PROFILES) break;
        const char *name = json_string_value(json_object_get(e, "name"));
        double f = json_number_value(json_object_get(e, "cpu_fraction"));
        if (!name || !(f > 0 && f <= 1)) continue;
        lm_node_calibration *k = &out->nodes[out->n++];
        snprintf(k->name, sizeof(k->name), "%s", name);
        k->cpu_fraction = f;
        k->target_slowdown = json_number_value(json_object_get(e, "target_slowdown"));
        k->measured_slowdown = json_number_value(json_object_get(e, "measured_slowdown"));
        k->cores = (int)json_integer_value(json_object_get(e, "cores"));
    }
    json_decref(root);
    return LM_OK;
}
