/* spec.c -- an experiment spec read strictly with jansson into lm_exp_spec:
 * every key known, every value checked, every message naming the file and
 * the field path (experiment.h). */
#include "experiment/experiment.h"

#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "functions/catalog.h"
#include "node/node.h"
#include "platform/service_config.h"
#include "runtime/runtime.h"
#include "shape/shape.h"

#define SPEC_MAX_BYTES (1 << 20)

static const char *const top_keys[] = {
    "name",     "functions",   "runtimes", "skip_unavailable", "payloads", "starts",
    "loads",    "repetitions", "warmup",   "timeout_ms",       "seed",     "storage",
    "platform", "node",        "network",  "network_presets",  NULL};

/* The named link conditions a spec's network axis may use besides its own
 * (docs/experiments.md gives the reasons for each figure). */
static const struct {
    const char *name, *cond;
} builtin_presets[] = {
    {"none", ""},
    {"lan", "rate=100mbit,delay=0.5ms,jitter=0.1ms"},
    {"wifi", "rate=30mbit,delay=4ms,jitter=2ms,loss=0.1%"},
    {"congested", "rate=5mbit,delay=40ms,jitter=10ms,loss=0.5%"},
    {"cellular", "rate=10mbit,delay=30ms,jitter=8ms,loss=0.2%"},
};
#define NPRESETS (sizeof builtin_presets / sizeof builtin_presets[0])

const char *lm_exp_network_preset(const char *name) {
    for (size_t i = 0; i < NPRESETS; i++)
        if (strcmp(builtin_presets[i].name, name) == 0) return builtin_presets[i].cond;
    return NULL;
}

static int fail(char *err, const char *file, const char *path, const char *fmt, const char *a,
                const char *b) {
    char msg[LM_ERRLEN];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    return lm_errf(err, "%s: %s: %s", file, path, msg);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

/* A list of names: an array of strings, each accepted by known(). */
static int names(json_t *v, const char *file, const char *key, int (*known)(const char *, char *),
                 char ***out, size_t *n, char *err) {
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(err, file, key, "must be a non-empty array of names%s%s", NULL, NULL);
    *out = calloc(json_array_size(v), sizeof(char *));
    if (!*out) return lm_errf(err, "out of memory");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        char path[64], why[LM_ERRLEN];
        snprintf(path, sizeof path, "%s[%zu]", key, i);
        if (!json_is_string(e)) return fail(err, file, path, "must be a string%s%s", NULL, NULL);
        const char *s = json_string_value(e);
        if (known(s, why) != LM_OK) return lm_errf(err, "%s: %s: %s", file, path, why);
        for (size_t j = 0; j < *n; j++)
            if (strcmp((*out)[j], s) == 0)
                return fail(err, file, path, "\"%s\" is listed twice%s", s, NULL);
        (*out)[(*n)++] = strdup(s);
    }
    return LM_OK;
}

static int known_function(const char *s, char *why) {
    const lm_fn_info *f = lm_catalog_find(s);
    if (f) return LM_OK;
    size_t n;
    const lm_fn_info *all = lm_catalog(&n);
    char list[600] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 all[i].name);
    return lm_errf(why, "unknown function \"%s\" (known: %s)", s, list);
}

static int known_runtime(const char *s, char *why) {
    char e[LM_ERRLEN];
    if (lm_runtime_find(s, e)) return LM_OK;
    return lm_errf(why, "unknown runtime \"%s\" (%s)", s, e);
}

static int known_payload(const char *s, char *why) {
    if (strncmp(s, "group:", 6) == 0 && lm_group_find(s + 6)) return LM_OK;
    size_t n;
    const lm_group *g = lm_groups(&n);
    char list[200] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%sgroup:%s", i ? ", " : "",
                 g[i].name);
    return lm_errf(why, "unknown payload \"%s\" (known: %s)", s, list);
}

static int known_start(const char *s, char *why) {
    if (!strcmp(s, "cold") || !strcmp(s, "warm") || !strcmp(s, "any")) return LM_OK;
    return lm_errf(why, "unknown start type \"%s\" (allowed: cold, warm, any)", s);
}

/* An integer in [lo, hi] at key, or def when absent. */
static int integer(json_t *o, const char *file, const char *path, const char *key, long long lo,
                   long long hi, long long def, long long *out, char *err) {
    json_t *v = json_object_get(o, key);
    char full[96];
    snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "", key);
    if (!v) {
        *out = def;
        return LM_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char range[64];
        snprintf(range, sizeof range, "%lld to %lld", lo, hi);
        return fail(err, file, full, "must be an integer from %s%s", range, NULL);
    }
    *out = json_integer_value(v);
    return LM_OK;
}

static int number(json_t *o, const char *file, const char *path, const char *key, double lo,
                  double hi, double *out, char *err) {
    json_t *v = json_object_get(o, key);
    char full[96];
    snprintf(full, sizeof full, "%s.%s", path, key);
    if (!json_is_number(v) || json_number_value(v) <= lo || json_number_value(v) > hi) {
        char range[64];
        snprintf(range, sizeof range, "over %g and at most %g", lo, hi);
        return fail(err, file, full, "must be a number %s%s", range, NULL);
    }
    *out = json_number_value(v);
    return LM_OK;
}

static int only_keys(json_t *o, const char *const *keys, const char *file, const char *path,
                     char *err) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int ok = 0;
        for (size_t i = 0; keys[i]; i++)
            ok |= strcmp(k, keys[i]) == 0;
        if (ok) continue;
        char list[300] = "";
        for (size_t i = 0; keys[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     keys[i]);
        char full[160];
        snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "", k);
        return fail(err, file, full, "unknown key (allowed: %s)%s", list, NULL);
    }
    return LM_OK;
}

static int load_one(json_t *v, const char *file, const char *path, const char *base_dir,
                    lm_exp_load *l, char *err) {
    static const char *const closed_keys[] = {"closed", "requests", NULL};
    static const char *const open_keys[] = {"open_rps", "duration_s", "arrival", NULL};
    static const char *const trace_keys[] = {"trace", NULL};
    if (!json_is_object(v))
        return fail(err, file, path,
                    "must be an object: {\"closed\": N, \"requests\": M}, {\"open_rps\": R, "
                    "\"duration_s\": S}%s%s or {\"trace\": FILE}",
                    NULL, NULL);
    long long n;
    if (json_object_get(v, "closed")) {
        if (only_keys(v, closed_keys, file, path, err) != LM_OK) return LM_ERR;
        l->kind = LM_EXP_CLOSED;
        if (!json_object_get(v, "requests"))
            return fail(err, file, path, "a closed load needs \"requests\"%s%s", NULL, NULL);
        if (integer(v, file, path, "closed", 1, 1000, 1, &n, err) != LM_OK) return LM_ERR;
        l->concurrency = (int)n;
        if (integer(v, file, path, "requests", 1, 10000000, 1, &n, err) != LM_OK) return LM_ERR;
        l->requests = (int)n;
        return LM_OK;
    }
    if (json_object_get(v, "open_rps")) {
        if (only_keys(v, open_keys, file, path, err) != LM_OK) return LM_ERR;
        l->kind = LM_EXP_OPEN;
        if (number(v, file, path, "open_rps", 0, 1e6, &l->rate_rps, err) != LM_OK ||
            number(v, file, path, "duration_s", 0, 86400, &l->duration_s, err) != LM_OK)
            return LM_ERR;
        json_t *a = json_object_get(v, "arrival");
        const char *as = a ? json_string_value(a) : "poisson";
        if (!as || (strcmp(as, "poisson") && strcmp(as, "constant"))) {
            char full[96];
            snprintf(full, sizeof full, "%s.arrival", path);
            return fail(err, file, full, "must be \"poisson\" or \"constant\"%s%s", NULL, NULL);
        }
        l->poisson = strcmp(as, "poisson") == 0;
        return LM_OK;
    }
    if (json_object_get(v, "trace")) {
        if (only_keys(v, trace_keys, file, path, err) != LM_OK) return LM_ERR;
        l->kind = LM_EXP_TRACE;
        const char *t = json_string_value(json_object_get(v, "trace"));
        if (!t || !*t) {
            char full[96];
            snprintf(full, sizeof full, "%s.trace", path);
            return fail(err, file, full, "must be a file name%s%s", NULL, NULL);
        }
        char p[4096];
        snprintf(p, sizeof p, "%s%s%s", t[0] == '/' ? "" : base_dir, t[0] == '/' ? "" : "/", t);
        l->trace = strdup(p);
        return LM_OK;
    }
    return fail(err, file, path, "needs \"closed\", \"open_rps\" or \"trace\"%s%s", NULL, NULL);
}

/* The node axis: node profiles of the node config (docs/nodes.md; the one
 * `lumos serve` will read: $LUMOS_NODES or the built-in), or "host". */
static int node_axis(json_t *v, const char *file, lm_exp_spec *s, char *err) {
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(err, file, "node",
                    "must be a non-empty array of node profile names (or \"host\")%s%s", NULL,
                    NULL);
    lm_node_config *cfg = calloc(1, sizeof *cfg);
    char why[LM_ERRLEN];
    if (!cfg) return lm_errf(err, "out of memory");
    if (lm_node_config_load(NULL, cfg, why) != LM_OK) {
        free(cfg);
        return lm_errf(err, "%s: node: cannot read the node profiles: %s", file, why);
    }
    s->nodes = calloc(json_array_size(v), sizeof(char *));
    int rc = s->nodes ? LM_OK : lm_errf(err, "out of memory");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (rc != LM_OK) break;
        char path[64];
        snprintf(path, sizeof path, "node[%zu]", i);
        const char *n = json_string_value(e);
        if (!n) {
            rc = fail(err, file, path, "must be a string%s%s", NULL, NULL);
            break;
        }
        if (strcmp(n, "host") != 0 && !lm_node_profile_find(cfg, n, why)) {
            char list[400] = "";
            for (int k = 0; k < cfg->n; k++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k ? ", " : "",
                         cfg->profiles[k].name);
            rc = lm_errf(err,
                         "%s: %s: unknown node profile \"%s\" (known: %s; or \"host\": no node)",
                         file, path, n, list);
            break;
        }
        for (size_t j = 0; j < s->nnodes && rc == LM_OK; j++)
            if (strcmp(s->nodes[j], n) == 0)
                rc = fail(err, file, path, "\"%s\" is listed twice%s", n, NULL);
        if (rc == LM_OK && !(s->nodes[s->nnodes++] = strdup(n))) rc = lm_errf(err, "out of memory");
    }
    free(cfg);
    return rc;
}

/* A condition string of src/shape's syntax into its compact form ("" for
 * the unshaped link); LM_ERR with shape's reason in why. */
static int condition(const char *text, char **out, char *why) {
    lm_shape_cond c;
    if (lm_shape_cond_parse(text, &c, why) != LM_OK) return LM_ERR;
    char b[256];
    *out = strdup(lm_shape_cond_is_none(&c) ? "" : lm_shape_cond_format(&c, b, sizeof b));
    return *out ? LM_OK : lm_errf(why, "out of memory");
}

/* A preset's name: [a-z0-9-], 1 to 23 characters (no '=': never a
 * condition). */
static int preset_name_ok(const char *n) {
    size_t l = strlen(n);
    if (l == 0 || l > 23) return 0;
    for (size_t i = 0; i < l; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-'))
            return 0;
    return 1;
}

/* The network axis: each value a preset (the spec's network_presets, then
 * the built-in ones) or a condition (it has '='). */
static int network_axis(json_t *v, json_t *presets, const char *file, lm_exp_spec *s, char *err) {
    char why[LM_ERRLEN];
    if (presets && !json_is_object(presets))
        return fail(err, file, "network_presets",
                    "must be an object of NAME: CONDITION (e.g. {\"edge\": "
                    "\"rate=20mbit,delay=10ms\"})%s%s",
                    NULL, NULL);
    const char *k;
    json_t *pv;
    json_object_foreach(presets, k, pv) {
        char path[96];
        snprintf(path, sizeof path, "network_presets.%.60s", k);
        if (!preset_name_ok(k) || strcmp(k, "none") == 0)
            return fail(err, file, path,
                        "a preset's name is 1-23 of [a-z0-9-] and not \"none\"%s%s", NULL, NULL);
        char *c = NULL;
        if (!json_is_string(pv))
            return fail(err, file, path, "must be a condition string (docs/network.md)%s%s", NULL,
                        NULL);
        if (condition(json_string_value(pv), &c, why) != LM_OK)
            return lm_errf(err, "%s: %s: bad condition \"%s\": %s", file, path,
                           json_string_value(pv), why);
        free(c);
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(err, file, "network",
                    "must be a non-empty array of network presets or conditions%s%s", NULL, NULL);
    size_t n = json_array_size(v);
    s->networks = calloc(n, sizeof(char *));
    s->network_conds = calloc(n, sizeof(char *));
    if (!s->networks || !s->network_conds) return lm_errf(err, "out of memory");
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        char path[64];
        snprintf(path, sizeof path, "network[%zu]", i);
        const char *w = json_string_value(e);
        if (!w) return fail(err, file, path, "must be a string%s%s", NULL, NULL);
        /* It is part of every cell's name (an identity for --resume). */
        if (strlen(w) > 80)
            return fail(err, file, path,
                        "at most 80 characters (name a longer condition in "
                        "network_presets)%s%s",
                        NULL, NULL);
        for (size_t j = 0; j < s->nnetworks; j++)
            if (strcmp(s->networks[j], w) == 0)
                return fail(err, file, path, "\"%s\" is listed twice%s", w, NULL);
        const char *text = w;
        if (!strchr(w, '=')) {
            json_t *own = json_object_get(presets, w);
            text = own ? json_string_value(own) : lm_exp_network_preset(w);
            if (!text) {
                char list[300] = "";
                json_object_foreach(presets, k, pv)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s, ", k);
                for (size_t p = 0; p < NPRESETS; p++)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", p ? ", " : "",
                             builtin_presets[p].name);
                return lm_errf(err,
                               "%s: %s: unknown network preset \"%s\" (known: %s; or a "
                               "condition such as \"rate=10mbit,delay=20ms\")",
                               file, path, w, list);
            }
        }
        char *c = NULL;
        if (condition(text, &c, why) != LM_OK)
            return lm_errf(err, "%s: %s: bad condition \"%s\": %s", file, path, text, why);
        s->network_conds[s->nnetworks] = c;
        if (!(s->networks[s->nnetworks++] = strdup(w))) return lm_errf(err, "out of memory");
    }
    return LM_OK;
}

static int build(json_t *root, const char *file, const char *base_dir, lm_exp_spec *s, char *err) {
    if (!json_is_object(root)) return lm_errf(err, "%s: the spec must be a JSON object", file);
    if (only_keys(root, top_keys, file, "", err) != LM_OK) return LM_ERR;
    json_t *v = json_object_get(root, "name");
    if (v && !json_is_string(v)) return fail(err, file, "name", "must be a string%s%s", NULL, NULL);
    s->name = dup_or_null(v ? json_string_value(v) : "experiment");

    v = json_object_get(root, "functions");
    if (json_is_string(v) && strcmp(json_string_value(v), "benchmark") == 0) {
        size_t n;
        const lm_fn_info *all = lm_catalog(&n);
        s->functions = calloc(n, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            if (all[i].benchmark) s->functions[s->nfunctions++] = strdup(all[i].name);
    } else if (!v) {
        return fail(err, file, "functions",
                    "missing: a list of functions, or \"benchmark\" for the eight%s%s", NULL, NULL);
    } else if (names(v, file, "functions", known_function, &s->functions, &s->nfunctions, err) !=
               LM_OK) {
        return LM_ERR;
    }
    v = json_object_get(root, "runtimes");
    if (!v) return fail(err, file, "runtimes", "missing: a list of runtimes%s%s", NULL, NULL);
    if (names(v, file, "runtimes", known_runtime, &s->runtimes, &s->nruntimes, err) != LM_OK)
        return LM_ERR;
    v = json_object_get(root, "skip_unavailable");
    if (v && !json_is_boolean(v))
        return fail(err, file, "skip_unavailable", "must be true or false%s%s", NULL, NULL);
    s->skip_unavailable = v ? json_is_true(v) : 1;
    v = json_object_get(root, "payloads");
    if (!v) return fail(err, file, "payloads", "missing: e.g. [\"group:s\"]%s%s", NULL, NULL);
    if (names(v, file, "payloads", known_payload, &s->payloads, &s->npayloads, err) != LM_OK)
        return LM_ERR;

    char **starts = NULL;
    size_t nstarts = 0;
    v = json_object_get(root, "starts");
    int rc = v ? names(v, file, "starts", known_start, &starts, &nstarts, err) : LM_OK;
    for (size_t i = 0; i < nstarts; i++) {
        s->starts[s->nstarts++] = !strcmp(starts[i], "cold")   ? LM_EXP_COLD
                                  : !strcmp(starts[i], "warm") ? LM_EXP_WARM
                                                               : LM_EXP_ANY;
        free(starts[i]);
    }
    free(starts);
    if (rc != LM_OK) return LM_ERR;
    if (!v) {
        s->starts[0] = LM_EXP_COLD;
        s->starts[1] = LM_EXP_WARM;
        s->nstarts = 2;
    }

    v = json_object_get(root, "loads");
    if (v && (!json_is_array(v) || json_array_size(v) == 0))
        return fail(err, file, "loads", "must be a non-empty array%s%s", NULL, NULL);
    size_t nl = v ? json_array_size(v) : 1;
    s->loads = calloc(nl, sizeof *s->loads);
    if (!s->loads) return lm_errf(err, "out of memory");
    if (!v) {
        s->loads[0] = (lm_exp_load){.kind = LM_EXP_CLOSED, .concurrency = 1, .requests = 10};
        s->nloads = 1;
    }
    for (size_t i = 0; v && i < nl; i++) {
        char path[32];
        snprintf(path, sizeof path, "loads[%zu]", i);
        if (load_one(json_array_get(v, i), file, path, base_dir, &s->loads[i], err) != LM_OK)
            return LM_ERR;
        s->nloads++;
    }

    long long n;
    if (integer(root, file, "", "repetitions", 1, 100000, 10, &n, err) != LM_OK) return LM_ERR;
    s->repetitions = (int)n;
    if (integer(root, file, "", "warmup", 0, 100000, 1, &n, err) != LM_OK) return LM_ERR;
    s->warmup = (int)n;
    if (integer(root, file, "", "timeout_ms", 1, 3600000, 60000, &s->timeout_ms, err) != LM_OK ||
        integer(root, file, "", "seed", 0, INT64_MAX, 1, &s->seed, err) != LM_OK)
        return LM_ERR;
    v = json_object_get(root, "storage");
    const char *st = v ? json_string_value(v) : "redis";
    if (!st || (strcmp(st, "redis") && strcmp(st, "file")))
        return fail(err, file, "storage", "must be \"redis\" or \"file\"%s%s", NULL, NULL);
    s->file_storage = strcmp(st, "file") == 0;

    v = json_object_get(root, "platform");
    if (v && !json_is_object(v))
        return fail(err, file, "platform",
                    "must be an object in the form of a `lumos serve --config` file%s%s", NULL,
                    NULL);
    json_t *none = v ? NULL : json_object();
    s->platform_json = json_dumps(v ? v : none, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(none);
    lm_serve_config cfg;
    char why[LM_ERRLEN];
    if (lm_serve_config_parse(s->platform_json, strlen(s->platform_json), NULL, &cfg, why) != LM_OK)
        return lm_errf(err, "%s: platform: %s", file, why);
    lm_serve_config_free(&cfg);

    v = json_object_get(root, "node");
    if (v && node_axis(v, file, s, err) != LM_OK) return LM_ERR;
    v = json_object_get(root, "network");
    json_t *presets = json_object_get(root, "network_presets");
    if (presets && !v)
        return fail(err, file, "network_presets", "given without a \"network\" axis%s%s", NULL,
                    NULL);
    if (v && network_axis(v, presets, file, s, err) != LM_OK) return LM_ERR;
    s->text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    return LM_OK;
}

int lm_exp_spec_parse(const char *text, size_t len, const char *name, const char *base_dir,
                      lm_exp_spec **out, char *err) {
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return lm_errf(err, "%s:%d:%d: not valid JSON: %s", name, je.line, je.column, je.text);
    lm_exp_spec *s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(root);
        return lm_errf(err, "out of memory");
    }
    s->path = strdup(name);
    int rc = build(root, name, base_dir, s, err);
    json_decref(root);
    if (rc != LM_OK) {
        lm_exp_spec_free(s);
        return LM_ERR;
    }
    *out = s;
    return LM_OK;
}

int lm_exp_spec_load(const char *path, lm_exp_spec **out, char *err) {
    *out = NULL;
    size_t len = 0;
    char why[LM_ERRLEN];
    char *text = lm_file_read_max(path, SPEC_MAX_BYTES, &len, why);
    if (!text) return lm_errf(err, "experiment spec: %s", why);
    char *copy = strdup(path);
    int rc = lm_exp_spec_parse(text, len, path, dirname(copy), out, err);
    free(copy);
    free(text);
    return rc;
}

void lm_exp_spec_free(lm_exp_spec *s) {
    if (!s) return;
    char **lists[] = {s->functions, s->runtimes, s->payloads,
                      s->nodes,     s->networks, s->network_conds};
    size_t ns[] = {s->nfunctions, s->nruntimes, s->npayloads,
                   s->nnodes,     s->nnetworks, s->nnetworks};
    for (int l = 0; l < 6; l++) {
        for (size_t i = 0; lists[l] && i < ns[l]; i++)
            free(lists[l][i]);
        free(lists[l]);
    }
    for (size_t i = 0; s->loads && i < s->nloads; i++)
        free(s->loads[i].trace);
    free(s->loads);
    free(s->path);
    free(s->name);
    free(s->platform_json);
    free(s->text);
    free(s);
}
