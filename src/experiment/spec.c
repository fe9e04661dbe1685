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
#include "platform/service_config.h"
#include "runtime/runtime.h"

#define SPEC_MAX_BYTES (1 << 20)

static const char *const top_keys[] = {"name",     "functions",  "runtimes", "skip_unavailable",
                                       "payloads", "starts",     "loads",    "repetitions",
                                       "warmup",   "timeout_ms", "seed",     "storage",
                                       "platform", NULL};

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
    char **lists[] = {s->functions, s->runtimes, s->payloads};
    size_t ns[] = {s->nfunctions, s->nruntimes, s->npayloads};
    for (int l = 0; l < 3; l++) {
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
