/* profile.c -- the node config, read strictly with jansson: every key
 * known, every value checked, messages naming the file and field. */
#include "node/node.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodes_json.h"
#include "shape/shape.h"

#define CONFIG_MAX_BYTES (1 << 20)

const char *lm_node_config_builtin(void) { return lm_nodes_json; }

/* A key of obj not in keys[] (NULL-ended), or NULL. */
static const char *unknown_key(json_t *obj, const char *const *keys) {
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        int ok = 0;
        for (size_t i = 0; keys[i] && !ok; i++)
            ok = strcmp(keys[i], k) == 0;
        if (!ok) return k;
    }
    return NULL;
}

/* Copies a string field into out[n]: LM_OK when absent (optional) or fits. */
static int get_str(json_t *o, const char *key, char *out, size_t n, int required, const char *where,
                   char *err) {
    json_t *v = json_object_get(o, key);
    if (!v) return required ? lm_errf(err, "%s: \"%s\" is required", where, key) : LM_OK;
    if (!json_is_string(v)) return lm_errf(err, "%s: \"%s\" must be a string", where, key);
    if (json_string_length(v) >= n)
        return lm_errf(err, "%s: \"%s\" is longer than %zu characters", where, key, n - 1);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return lm_errf(err, "%s: \"%s\" holds a NUL character", where, key);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return LM_OK;
}

/* An integer field in [lo, hi]; *out keeps its value when absent. */
static int get_int(json_t *o, const char *key, long long lo, long long hi, long long *out,
                   const char *where, char *err) {
    json_t *v = json_object_get(o, key);
    if (!v) return LM_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return lm_errf(err, "%s: \"%s\" must be an integer from %lld to %lld", where, key, lo, hi);
    *out = json_integer_value(v);
    return LM_OK;
}

/* A number field in [lo, hi]; *out keeps its value when absent. */
static int get_num(json_t *o, const char *key, double lo, double hi, double *out, const char *where,
                   char *err) {
    json_t *v = json_object_get(o, key);
    if (!v) return LM_OK;
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= lo && d <= hi))
        return lm_errf(err, "%s: \"%s\" must be a number from %g to %g", where, key, lo, hi);
    *out = d;
    return LM_OK;
}

static int valid_name(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return 0;
    return 1;
}

static int parse_profile(json_t *o, const char *where, lm_node_profile *p, char *err) {
    static const char *const keys[] = {"name",          "description", "cpus",     "cpu_period_us",
                                       "cpu_fraction",  "memory_mib",  "pids_max", "link",
                                       "max_instances", "affinity",    "target",   NULL};
    if (!json_is_object(o)) return lm_errf(err, "%s: must be an object", where);
    const char *bad = unknown_key(o, keys);
    if (bad)
        return lm_errf(err,
                       "%s: unknown key \"%s\" (known: name, description, cpus, cpu_period_us, "
                       "cpu_fraction, memory_mib, pids_max, link, max_instances, affinity, "
                       "target)",
                       where, bad);
    memset(p, 0, sizeof(*p));
    if (get_str(o, "name", p->name, sizeof(p->name), 1, where, err) != LM_OK) return LM_ERR;
    if (!valid_name(p->name))
        return lm_errf(err, "%s: name \"%s\" must be 1-23 of a-z, 0-9 and -", where, p->name);
    char w[1200];
    snprintf(w, sizeof(w), "%s (%s)", where, p->name);
    long long cpus = 1, period = 10000, mem = 0, pids = 0, maxi = 0;
    p->cpu_fraction = 1.0;
    if (get_str(o, "description", p->description, sizeof(p->description), 0, w, err) != LM_OK ||
        get_int(o, "cpus", 1, 256, &cpus, w, err) != LM_OK ||
        get_int(o, "cpu_period_us", 1000, 1000000, &period, w, err) != LM_OK ||
        get_num(o, "cpu_fraction", 0, 1, &p->cpu_fraction, w, err) != LM_OK ||
        get_int(o, "memory_mib", 0, 1 << 24, &mem, w, err) != LM_OK ||
        get_int(o, "pids_max", 0, 1 << 22, &pids, w, err) != LM_OK ||
        get_str(o, "link", p->link, sizeof(p->link), 0, w, err) != LM_OK ||
        get_int(o, "max_instances", 0, 4096, &maxi, w, err) != LM_OK)
        return LM_ERR;
    if (p->link[0]) { /* shape's condition or schedule syntax, checked now */
        lm_shape_sched ls;
        char why[LM_ERRLEN];
        if (lm_shape_sched_parse(p->link, &ls, why) != LM_OK)
            return lm_errf(err, "%s: \"link\" is not a link condition or schedule: %s", w, why);
        lm_shape_sched_free(&ls);
    }
    if (p->cpu_fraction > 0 && p->cpu_fraction < 0.01)
        return lm_errf(err, "%s: \"cpu_fraction\" must be 0 (no limit) or from 0.01 to 1", w);
    p->cpus = (int)cpus;
    p->cpu_period_us = period;
    p->memory_limit = (uint64_t)mem << 20;
    p->pids_max = pids;
    p->max_instances = maxi ? (int)maxi : p->cpus;
    json_t *aff = json_object_get(o, "affinity");
    if (aff) {
        if (!json_is_array(aff) || json_array_size(aff) > LM_NODE_MAX_AFFINITY)
            return lm_errf(err, "%s: \"affinity\" must be an array of at most %d function names", w,
                           LM_NODE_MAX_AFFINITY);
        size_t i;
        json_t *e;
        json_array_foreach(aff, i, e) {
            if (!json_is_string(e) || json_string_length(e) == 0 ||
                json_string_length(e) >= sizeof(p->affinity[0]) ||
                strlen(json_string_value(e)) != json_string_length(e))
                return lm_errf(err, "%s: affinity[%zu] must be a function name (1-63 characters)",
                               w, i);
            snprintf(p->affinity[p->naffinity++], sizeof(p->affinity[0]), "%s",
                     json_string_value(e));
        }
    }
    json_t *t = json_object_get(o, "target");
    if (t) {
        static const char *const tkeys[] = {"score", "unit", "source", NULL};
        char tw[1300];
        snprintf(tw, sizeof(tw), "%s: target", w);
        if (!json_is_object(t)) return lm_errf(err, "%s: must be an object", tw);
        if ((bad = unknown_key(t, tkeys)))
            return lm_errf(err, "%s: unknown key \"%s\" (known: score, unit, source)", tw, bad);
        if (!json_object_get(t, "score")) return lm_errf(err, "%s: \"score\" is required", tw);
        if (get_num(t, "score", 1e-3, 1e12, &p->target_score, tw, err) != LM_OK ||
            get_str(t, "unit", p->target_unit, sizeof(p->target_unit), 1, tw, err) != LM_OK ||
            get_str(t, "source", p->target_source, sizeof(p->target_source), 1, tw, err) != LM_OK)
            return LM_ERR;
        if (strcmp(p->target_unit, "events/s") != 0)
            return lm_errf(err,
                           "%s: unit \"%s\" is not the calibration benchmark's (\"events/s\", "
                           "sysbench cpu's)",
                           tw, p->target_unit);
    }
    return LM_OK;
}

int lm_node_config_parse(const char *text, size_t len, const char *name, lm_node_config *out,
                         char *err) {
    memset(out, 0, sizeof(*out));
    snprintf(out->path, sizeof(out->path), "%s", name);
    if (len > CONFIG_MAX_BYTES)
        return lm_errf(err, "%s: larger than %d bytes", name, CONFIG_MAX_BYTES);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return lm_errf(err, "%s: line %d, column %d: %s", name, je.line, je.column, je.text);
    int rc = LM_ERR;
    static const char *const keys[] = {"version", "comment", "nodes", NULL};
    const char *bad;
    json_t *nodes = json_object_get(root, "nodes"), *ver = json_object_get(root, "version");
    if (!json_is_object(root)) {
        lm_errf(err, "%s: must be a JSON object", name);
    } else if ((bad = unknown_key(root, keys))) {
        lm_errf(err, "%s: unknown key \"%s\" (known: version, comment, nodes)", name, bad);
    } else if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        lm_errf(err, "%s: \"version\" must be 1", name);
    } else if (json_object_get(root, "comment") &&
               !json_is_string(json_object_get(root, "comment"))) {
        lm_errf(err, "%s: \"comment\" must be a string", name);
    } else if (!json_is_array(nodes) || json_array_size(nodes) == 0 ||
               json_array_size(nodes) > LM_NODE_MAX_PROFILES) {
        lm_errf(err, "%s: \"nodes\" must be an array of 1 to %d profiles", name,
                LM_NODE_MAX_PROFILES);
    } else {
        rc = LM_OK;
        size_t i;
        json_t *e;
        json_array_foreach(nodes, i, e) {
            char where[1100];
            snprintf(where, sizeof(where), "%s: nodes[%zu]", name, i);
            lm_node_profile *p = &out->profiles[out->n];
            if (parse_profile(e, where, p, err) != LM_OK) {
                rc = LM_ERR;
                break;
            }
            for (int j = 0; j < out->n; j++)
                if (strcmp(out->profiles[j].name, p->name) == 0) {
                    lm_errf(err, "%s: the name \"%s\" is given twice", where, p->name);
                    rc = LM_ERR;
                }
            if (rc != LM_OK) break;
            out->n++;
        }
    }
    json_decref(root);
    if (rc != LM_OK) out->n = 0;
    return rc;
}

int lm_node_config_load(const char *path, lm_node_config *out, char *err) {
    if (!path || !*path) path = getenv("LUMOS_NODES");
    if (!path || !*path)
        return lm_node_config_parse(lm_nodes_json, strlen(lm_nodes_json), "(built-in nodes)", out,
                                    err);
    size_t len = 0;
    char *text = lm_file_read_max(path, CONFIG_MAX_BYTES, &len, err);
    if (!text) return LM_ERR;
    int rc = lm_node_config_parse(text, len, path, out, err);
    free(text);
    return rc;
}

const lm_node_profile *lm_node_profile_find(const lm_node_config *c, const char *name, char *err) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->profiles[i].name, name) == 0) return &c->profiles[i];
    char list[512] = "";
    for (int i = 0; i < c->n; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                 c->profiles[i].name);
    lm_errf(err, "unknown node profile '%s' (known in %s: %s; see `lumos nodes`)", name, c->path,
            list);
    return NULL;
}
