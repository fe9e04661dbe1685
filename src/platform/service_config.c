/* service_config.c -- the `lumos serve --config` file and POST /services
 * bodies, read strictly with jansson into lm_service_spec values. */
#include "platform/service_config.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "functions/catalog.h"
#include "runtime/runtime.h"
#include "util/util.h"

#define PATH_LEN 160
#define SHOWN_LEN 56 /* bytes of a user's key or name quoted in a message */

/* How a field is read, checked and written. */
enum kind {
    K_INT,       /* int, JSON integer */
    K_MIB,       /* uint64_t bytes, JSON integer of MiB */
    K_DOUBLE,    /* double, any JSON number */
    K_AUTOSCALER /* int LM_AUTOSCALER_*, "kpa" or "none" */
};

typedef struct {
    const char *key;
    enum kind kind;
    size_t off;
    double min, max; /* inclusive, except min_excl */
    int min_excl;    /* the value must be above min (target > 0) */
} field;

#define OFF(m) offsetof(lm_service_spec, m)

/* Every service field, in the order they are written. The ranges of the
 * first seven are `lumos serve`'s flags' (src/cli/cmd_serve.c). */
static const field fields[] = {
    {"max_scale", K_INT, OFF(cfg.max_scale), 1, 64, 0},
    {"min_scale", K_INT, OFF(cfg.min_scale), 0, 64, 0},
    {"idle_timeout_ms", K_INT, OFF(cfg.idle_timeout_ms), 0, 86400000, 0},
    {"queue_max", K_INT, OFF(cfg.queue_max), 0, 1000000, 0},
    {"queue_timeout_ms", K_INT, OFF(cfg.queue_timeout_ms), 1, 86400000, 0},
    {"request_timeout_ms", K_INT, OFF(cfg.request_timeout_ms), 1, 86400000, 0},
    {"memory_limit_mib", K_MIB, OFF(cfg.memory_limit), 0, 1048576, 0},
    {"container_concurrency", K_INT, OFF(cfg.container_concurrency), 1, 1000, 0},
    {"autoscaler", K_AUTOSCALER, OFF(cfg.autoscaler), 0, 1, 0},
    {"target", K_DOUBLE, OFF(cfg.target), 0, 1000, 1},
    {"stable_window_ms", K_INT, OFF(cfg.stable_window_ms), 10, 3600000, 0},
    {"panic_window_ms", K_INT, OFF(cfg.panic_window_ms), 10, 3600000, 0},
    {"panic_threshold", K_DOUBLE, OFF(cfg.panic_threshold), 1.1, 10, 0},
    {"tick_ms", K_INT, OFF(cfg.tick_ms), 10, 60000, 0},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *const file_keys[] = {"defaults", "default_runtimes", "services"};

/* The pool's defaults live here, with the parser that documents them. */
void lm_service_config_defaults(lm_service_config *c) {
    memset(c, 0, sizeof(*c));
    c->max_scale = 4;
    c->idle_timeout_ms = 60000;
    c->queue_max = 64;
    c->queue_timeout_ms = 30000;
    c->request_timeout_ms = 60000;
    c->container_concurrency = 1;
    c->autoscaler = LM_AUTOSCALER_KPA;
    c->target = 1.0;
    c->stable_window_ms = 60000;
    c->panic_window_ms = 6000;
    c->panic_threshold = 2.0;
    c->tick_ms = 2000;
}

void lm_service_spec_defaults(lm_service_spec *s) {
    memset(s, 0, sizeof(*s));
    lm_service_config_defaults(&s->cfg);
}

/* ---- messages ---------------------------------------------------------- */

/* Copies a user's string for a message: at most SHOWN_LEN bytes, cut on a
 * UTF-8 boundary, control bytes as '?', "..." when cut. */
static void show(char *out, const char *s) {
    size_t n = strlen(s), cut = n;
    if (cut > SHOWN_LEN - 4) {
        cut = SHOWN_LEN - 4;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
    }
    for (size_t i = 0; i < cut; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    strcpy(out + cut, cut < n ? "..." : "");
}

/* "path.key" (just "key" at the top level), the key shown as above. */
static void path_key(char *out, const char *path, const char *key) {
    char k[SHOWN_LEN];
    show(k, key);
    snprintf(out, PATH_LEN, "%s%s%s", path, *path ? "." : "", k);
}

static const char *where(const char *path) { return *path ? path : "top level"; }

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction or an exponent";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

/* The shortest %g form of d that reads back as d. */
static void format_double(char *out, size_t n, double d) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, d);
        if (strtod(out, NULL) == d) return;
    }
}

/* Levenshtein distance of two short strings (both under 64 bytes). */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Finds the candidate closest to a mistyped word, if close enough. */
typedef struct {
    const char *word, *best;
    size_t dist;
} suggestion;

static void suggest_try(suggestion *s, const char *cand) {
    size_t lw = strlen(s->word);
    if (lw == 0 || lw >= 64 || strlen(cand) >= 64) return;
    size_t d = edit_distance(s->word, cand);
    /* A short form of a longer name ("fib") counts as one edit. */
    if (lw >= 3 && strncmp(cand, s->word, lw) == 0 && d > 1) d = 1;
    size_t limit = (lw + 2) / 3;
    if (d <= (limit ? limit : 1) && d < lw && (!s->best || d < s->dist)) {
        s->best = cand;
        s->dist = d;
    }
}

/* "did you mean X? " into out when there is a suggestion, else "". */
static void did_you_mean(char *out, size_t n, const suggestion *s) {
    if (s->best)
        snprintf(out, n, "did you mean %s? ", s->best);
    else
        out[0] = 0;
}

static int unknown_field(const char *path, const char *key, const char *const *known, size_t nknown,
                         char *err) {
    char p[PATH_LEN], list[400] = "";
    suggestion s = {key, NULL, 0};
    size_t len = 0;
    for (size_t i = 0; i < nknown; i++) {
        suggest_try(&s, known[i]);
        if (len < sizeof(list))
            len +=
                (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", known[i]);
    }
    path_key(p, path, key);
    if (s.best) return lm_errf(err, "%s: unknown field (did you mean %s?)", p, s.best);
    return lm_errf(err, "%s: unknown field (fields: %s)", p, list);
}

static int unknown_function(const char *path, const char *fn, char *err) {
    char shown[SHOWN_LEN], hint[96];
    size_t n;
    const lm_fn_info *f = lm_catalog(&n);
    suggestion s = {fn, NULL, 0};
    for (size_t i = 0; i < n; i++)
        suggest_try(&s, f[i].name);
    show(shown, fn);
    did_you_mean(hint, sizeof hint, &s);
    return lm_errf(err, "%s: unknown function '%s' (%s`lumos functions` lists them)", where(path),
                   shown, hint);
}

static int unknown_runtime(const char *path, const char *rt, char *err) {
    char shown[SHOWN_LEN], hint[96];
    const lm_runtime *const *all = lm_runtime_all();
    suggestion s = {rt, NULL, 0};
    for (size_t i = 0; all[i]; i++)
        suggest_try(&s, all[i]->name);
    show(shown, rt);
    did_you_mean(hint, sizeof hint, &s);
    return lm_errf(err, "%s: unknown runtime '%s' (%s`lumos runtimes` lists them)", where(path),
                   shown, hint);
}

/* ---- fields ------------------------------------------------------------ */

static const field *find_field(const char *key) {
    for (size_t i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].key, key) == 0) return &fields[i];
    return NULL;
}

static int unknown_service_field(const char *path, const char *key, char *err) {
    const char *known[NFIELDS + 1];
    known[0] = "name";
    for (size_t i = 0; i < NFIELDS; i++)
        known[i + 1] = fields[i].key;
    return unknown_field(path, key, known, NFIELDS + 1, err);
}

static int out_of_range(const char *path, const field *f, double v, char *err) {
    char val[40], lo[40], hi[40];
    format_double(val, sizeof val, v);
    format_double(lo, sizeof lo, f->min);
    format_double(hi, sizeof hi, f->max);
    if (f->min_excl)
        return lm_errf(err, "%s: %s is out of range (above %s, at most %s)", path, val, lo, hi);
    return lm_errf(err, "%s: %s is out of range (%s to %s)", path, val, lo, hi);
}

static int in_range(const field *f, double v) {
    return (f->min_excl ? v > f->min : v >= f->min) && v <= f->max;
}

/* Sets field f of s from JSON value v; path names the value. */
static int set_field(const field *f, const json_t *v, lm_service_spec *s, const char *path,
                     char *err) {
    char *p = (char *)s + f->off;
    if (f->kind == K_AUTOSCALER) {
        const char *str = json_string_value(v);
        if (!str)
            return lm_errf(err, "%s: must be \"kpa\" or \"none\", not %s", path, type_name(v));
        if (strcmp(str, "kpa") != 0 && strcmp(str, "none") != 0) {
            char shown[SHOWN_LEN];
            show(shown, str);
            return lm_errf(err, "%s: must be \"kpa\" or \"none\", not \"%s\"", path, shown);
        }
        *(int *)(void *)p = str[0] == 'k' ? LM_AUTOSCALER_KPA : LM_AUTOSCALER_NONE;
        return LM_OK;
    }
    if (f->kind == K_DOUBLE) {
        if (!json_is_number(v))
            return lm_errf(err, "%s: must be a number, not %s", path, type_name(v));
        double d = json_number_value(v);
        if (!in_range(f, d)) return out_of_range(path, f, d, err);
        *(double *)(void *)p = d;
        return LM_OK;
    }
    if (json_is_real(v)) {
        char val[40];
        format_double(val, sizeof val, json_real_value(v));
        /* 4.0 read as a real: say so, not "not 4". */
        return lm_errf(err, "%s: must be an integer, not %s%s", path, val,
                       strpbrk(val, ".e") ? "" : ".0");
    }
    if (!json_is_integer(v))
        return lm_errf(err, "%s: must be an integer, not %s", path, type_name(v));
    json_int_t i = json_integer_value(v);
    if (i < (json_int_t)f->min || i > (json_int_t)f->max)
        return out_of_range(path, f, (double)i, err);
    if (f->kind == K_MIB)
        *(uint64_t *)(void *)p = (uint64_t)i << 20;
    else
        *(int *)(void *)p = (int)i;
    return LM_OK;
}

/* A field's value as a double (for range checks and messages). */
static double get_field(const field *f, const lm_service_spec *s) {
    const char *p = (const char *)s + f->off;
    switch (f->kind) {
    case K_INT: return *(const int *)(const void *)p;
    case K_MIB: return (double)(*(const uint64_t *)(const void *)p >> 20);
    case K_DOUBLE: return *(const double *)(const void *)p;
    case K_AUTOSCALER: return *(const int *)(const void *)p;
    }
    return 0;
}

/* The autoscaler's relations (lm_service_spec_check). */
static int check_autoscaler(const lm_service_config *c, const char *w, char *err) {
    if (c->target > c->container_concurrency) {
        char t[40];
        format_double(t, sizeof t, c->target);
        return lm_errf(err, "%s: target %s is above container_concurrency %d", w, t,
                       c->container_concurrency);
    }
    if (c->panic_window_ms > c->stable_window_ms)
        return lm_errf(err, "%s: panic_window_ms %d is above stable_window_ms %d", w,
                       c->panic_window_ms, c->stable_window_ms);
    if (c->tick_ms > c->panic_window_ms)
        return lm_errf(err, "%s: tick_ms %d is above panic_window_ms %d", w, c->tick_ms,
                       c->panic_window_ms);
    return LM_OK;
}

int lm_service_spec_check(const lm_service_spec *s, const char *path, char *err) {
    const char *w = where(path);
    for (size_t i = 0; i < NFIELDS; i++) {
        const field *f = &fields[i];
        double v = get_field(f, s);
        if (!in_range(f, v) || (f->kind == K_DOUBLE && !isfinite(v))) {
            char p[PATH_LEN];
            path_key(p, path, f->key);
            return out_of_range(p, f, v, err);
        }
    }
    const lm_service_config *c = &s->cfg;
    if (c->memory_limit & ((1u << 20) - 1))
        return lm_errf(err, "%s: memory limit of %llu bytes is not a whole number of MiB", w,
                       (unsigned long long)c->memory_limit);
    if (c->min_scale > c->max_scale)
        return lm_errf(err, "%s: min_scale %d is above max_scale %d", w, c->min_scale,
                       c->max_scale);
    return check_autoscaler(&s->cfg, w, err);
}

/* Applies the fields of obj to s; the "name" member, allowed only where
 * name is not NULL, is returned there without being read. */
static int apply_fields(const json_t *obj, lm_service_spec *s, const char *path,
                        const json_t **name, char *err) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        char p[PATH_LEN];
        path_key(p, path, key);
        if (strcmp(key, "name") == 0) {
            if (!name) return lm_errf(err, "%s: a name belongs in a service, not here", p);
            *name = v;
            continue;
        }
        const field *f = find_field(key);
        if (!f) return unknown_service_field(path, key, err);
        if (set_field(f, v, s, p, err) != LM_OK) return LM_ERR;
        if (f->off == OFF(cfg.target)) s->target_set = 1;
    }
    /* An unset target follows container_concurrency, layer after layer. */
    if (!s->target_set) s->cfg.target = s->cfg.container_concurrency;
    return LM_OK;
}

/* ---- names ------------------------------------------------------------- */

const char *lm_default_runtime(const lm_default_runtimes *dr, const char *fn) {
    if (!dr) return "native";
    for (int i = 0; i < dr->n; i++)
        if (strcmp(dr->v[i].function, fn) == 0) return dr->v[i].runtime;
    return dr->fallback[0] ? dr->fallback : "native";
}

/* Fills s's name, function and runtime from a service's "name" value. */
static int resolve_name(const json_t *v, const lm_default_runtimes *dr, lm_service_spec *s,
                        const char *path, char *err) {
    const char *form = "FUNCTION@RUNTIME or FUNCTION";
    if (!json_is_string(v))
        return lm_errf(err, "%s: must be a string (%s), not %s", path, form, type_name(v));
    const char *name = json_string_value(v);
    size_t len = json_string_length(v);
    if (len == 0) return lm_errf(err, "%s: empty (expected %s)", path, form);
    if (len > LM_SERVICE_NAME_MAX)
        return lm_errf(err, "%s: longer than %d bytes", path, LM_SERVICE_NAME_MAX);
    char shown[SHOWN_LEN];
    show(shown, name);
    const char *at = strchr(name, '@');
    if (at && strchr(at + 1, '@'))
        return lm_errf(err, "%s: '%s' has more than one '@' (expected %s)", path, shown, form);
    if (at == name)
        return lm_errf(err, "%s: '%s' has no function before '@' (expected %s)", path, shown, form);
    if (at && !at[1])
        return lm_errf(err, "%s: '%s' has no runtime after '@' (expected %s)", path, shown, form);
    size_t fl = at ? (size_t)(at - name) : len;
    memcpy(s->function, name, fl);
    s->function[fl] = 0;
    if (!lm_catalog_find(s->function)) return unknown_function(path, s->function, err);
    const char *rt = at ? at + 1 : lm_default_runtime(dr, s->function);
    if (!lm_runtime_find(rt, NULL)) return unknown_runtime(path, rt, err);
    size_t rl = strlen(rt);
    if (fl + 1 + rl > LM_SERVICE_NAME_MAX)
        return lm_errf(err, "%s: '%s@%.*s' is longer than %d bytes", path, s->function, SHOWN_LEN,
                       rt, LM_SERVICE_NAME_MAX);
    memcpy(s->runtime, rt, rl + 1);
    memcpy(s->name, s->function, fl);
    s->name[fl] = '@';
    memcpy(s->name + fl + 1, rt, rl + 1);
    return LM_OK;
}

/* ---- documents --------------------------------------------------------- */

/* jansson's reader, strict: one object or array, duplicate keys refused,
 * nothing after it. */
static json_t *load(const char *text, size_t len, char *err) {
    if (len > LM_SERVICE_CONFIG_MAX_BYTES)
        return lm_errf(err, "%zu bytes, over the limit of %d (1 MiB)", len,
                       LM_SERVICE_CONFIG_MAX_BYTES),
               NULL;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        lm_errf(err, "line %d, column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        lm_errf(err, "top level: must be an object, not %s", type_name(root));
        json_decref(root);
        return NULL;
    }
    return root;
}

/* One service object v at path over base. */
static int parse_service(const json_t *v, const lm_service_spec *base,
                         const lm_default_runtimes *dr, const char *path, lm_service_spec *out,
                         char *err) {
    if (!json_is_object(v))
        return lm_errf(err, "%s: a service must be an object, not %s", where(path), type_name(v));
    *out = *base;
    const json_t *name = NULL;
    if (apply_fields(v, out, path, &name, err) != LM_OK) return LM_ERR;
    if (!name)
        return lm_errf(err, "%s: missing \"name\" (FUNCTION@RUNTIME or FUNCTION)", where(path));
    char p[PATH_LEN];
    path_key(p, path, "name");
    if (resolve_name(name, dr, out, p, err) != LM_OK) return LM_ERR;
    return lm_service_spec_check(out, path, err);
}

/* The "services" array v into a malloc'd array. */
static int parse_services(const json_t *v, const lm_service_spec *base,
                          const lm_default_runtimes *dr, lm_service_spec **out, int *n, char *err) {
    if (!json_is_array(v)) return lm_errf(err, "services: must be an array, not %s", type_name(v));
    size_t count = json_array_size(v);
    if (count > LM_SERVICE_CONFIG_MAX_SERVICES)
        return lm_errf(err, "services: %zu services, at most %d", count,
                       LM_SERVICE_CONFIG_MAX_SERVICES);
    if (count == 0) return LM_OK;
    lm_service_spec *specs = calloc(count, sizeof(*specs));
    if (!specs) return lm_errf(err, "services: out of memory");
    for (size_t i = 0; i < count; i++) {
        char p[PATH_LEN];
        snprintf(p, sizeof p, "services[%zu]", i);
        if (parse_service(json_array_get(v, i), base, dr, p, &specs[i], err) != LM_OK) {
            free(specs);
            return LM_ERR;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(specs[j].name, specs[i].name) == 0) {
                lm_errf(err, "%s.name: duplicate service '%s' (also services[%zu])", p,
                        specs[i].name, j);
                free(specs);
                return LM_ERR;
            }
        }
    }
    *out = specs;
    *n = (int)count;
    return LM_OK;
}

/* The "default_runtimes" object v. */
static int parse_default_runtimes(const json_t *v, lm_default_runtimes *dr, char *err) {
    if (!json_is_object(v))
        return lm_errf(err, "default_runtimes: must be an object, not %s", type_name(v));
    const char *key;
    json_t *rt;
    json_object_foreach((json_t *)v, key, rt) {
        char p[PATH_LEN];
        path_key(p, "default_runtimes", key);
        if (!json_is_string(rt))
            return lm_errf(err, "%s: must be a string (a runtime name), not %s", p, type_name(rt));
        const char *name = json_string_value(rt);
        if (!lm_runtime_find(name, NULL) || json_string_length(rt) > LM_SERVICE_NAME_MAX)
            return unknown_runtime(p, name, err);
        if (strcmp(key, "*") == 0) {
            snprintf(dr->fallback, sizeof dr->fallback, "%s", name);
            continue;
        }
        if (!lm_catalog_find(key)) return unknown_function(p, key, err);
        if (dr->n == LM_MAX_DEFAULT_RUNTIMES)
            return lm_errf(err, "%s: more than %d entries", p, LM_MAX_DEFAULT_RUNTIMES);
        snprintf(dr->v[dr->n].function, sizeof dr->v[0].function, "%s", key);
        snprintf(dr->v[dr->n].runtime, sizeof dr->v[0].runtime, "%s", name);
        dr->n++;
    }
    return LM_OK;
}

static int parse_file(const json_t *root, lm_serve_config *out, char *err) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)root, key, v) {
        int known = 0;
        for (size_t i = 0; i < sizeof(file_keys) / sizeof(file_keys[0]); i++)
            known |= strcmp(key, file_keys[i]) == 0;
        if (!known)
            return unknown_field("", key, file_keys, sizeof(file_keys) / sizeof(file_keys[0]), err);
    }
    const json_t *defaults = json_object_get(root, "defaults");
    if (defaults) {
        if (!json_is_object(defaults))
            return lm_errf(err, "defaults: must be an object, not %s", type_name(defaults));
        if (apply_fields(defaults, &out->defaults, "defaults", NULL, err) != LM_OK) return LM_ERR;
    }
    if (lm_service_spec_check(&out->defaults, "defaults", err) != LM_OK) return LM_ERR;
    const json_t *dr = json_object_get(root, "default_runtimes");
    if (dr && parse_default_runtimes(dr, &out->runtimes, err) != LM_OK) return LM_ERR;
    const json_t *services = json_object_get(root, "services");
    if (services && parse_services(services, &out->defaults, &out->runtimes, &out->services,
                                   &out->nservices, err) != LM_OK)
        return LM_ERR;
    return LM_OK;
}

int lm_serve_config_parse(const char *json, size_t len, const lm_service_spec *base,
                          lm_serve_config *out, char *err) {
    memset(out, 0, sizeof(*out));
    if (base)
        out->defaults = *base;
    else
        lm_service_spec_defaults(&out->defaults);
    out->defaults.name[0] = out->defaults.function[0] = out->defaults.runtime[0] = 0;
    json_t *root = load(json, len, err);
    if (!root) return LM_ERR;
    int rc = parse_file(root, out, err);
    json_decref(root);
    if (rc != LM_OK) lm_serve_config_free(out);
    return rc;
}

void lm_serve_config_free(lm_serve_config *c) {
    if (!c) return;
    free(c->services);
    memset(c, 0, sizeof(*c));
}

int lm_serve_config_load(const char *path, const lm_service_spec *base, lm_serve_config *out,
                         char *err) {
    char why[LM_ERRLEN];
    size_t len = 0;
    memset(out, 0, sizeof(*out));
    char *text = lm_file_read_max(path, LM_SERVICE_CONFIG_MAX_BYTES, &len, why);
    if (!text) return lm_errf(err, "%s", why);
    int rc = lm_serve_config_parse(text, len, base, out, why);
    free(text);
    if (rc != LM_OK) return lm_errf(err, "%s: %s", path, why);
    return LM_OK;
}

int lm_service_specs_parse(const char *json, size_t len, const lm_service_spec *base,
                           const lm_default_runtimes *dr, lm_service_spec **out, int *n,
                           char *err) {
    *out = NULL;
    *n = 0;
    lm_service_spec defaults;
    if (!base) {
        lm_service_spec_defaults(&defaults);
        base = &defaults;
    }
    json_t *root = load(json, len, err);
    if (!root) return LM_ERR;
    int rc = LM_OK;
    const json_t *list = json_object_get(root, "services");
    if (list) {
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v) {
            if (strcmp(key, "services") == 0) continue;
            char p[PATH_LEN];
            path_key(p, "", key);
            rc = lm_errf(err,
                         "%s: not allowed beside \"services\" (give one service object, or "
                         "{\"services\":[...]})",
                         p);
            break;
        }
        if (rc == LM_OK) rc = parse_services(list, base, dr, out, n, err);
    } else {
        lm_service_spec *one = malloc(sizeof(*one));
        if (!one) {
            rc = lm_errf(err, "out of memory");
        } else if (parse_service(root, base, dr, "", one, err) != LM_OK) {
            free(one);
            rc = LM_ERR;
        } else {
            *out = one;
            *n = 1;
        }
    }
    json_decref(root);
    return rc;
}

/* ---- writing ----------------------------------------------------------- */

static int write_string(lm_buf *b, const char *s) {
    json_t *str = json_string(s);
    char *text = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
    json_decref(str);
    int rc = text ? lm_buf_append(b, text, strlen(text)) : LM_ERR;
    free(text);
    return rc;
}

static int write_field(lm_buf *b, const field *f, const lm_service_spec *s, const char *sep) {
    double v = get_field(f, s);
    if (lm_buf_printf(b, "%s\"%s\":", sep, f->key) != LM_OK) return LM_ERR;
    switch (f->kind) {
    case K_INT:
    case K_MIB: return lm_buf_printf(b, "%.0f", v);
    case K_AUTOSCALER:
        return lm_buf_printf(b, "\"%s\"", s->cfg.autoscaler == LM_AUTOSCALER_NONE ? "none" : "kpa");
    case K_DOUBLE: {
        char num[40];
        format_double(num, sizeof num, v);
        return lm_buf_printf(b, "%s", num);
    }
    }
    return LM_ERR;
}

char *lm_service_spec_to_json(const lm_service_spec *s, char *err) {
    for (size_t i = 0; i < NFIELDS; i++)
        if (fields[i].kind == K_DOUBLE && !isfinite(get_field(&fields[i], s)))
            return lm_errf(err, "%s: %s is not a finite number", where(s->name), fields[i].key),
                   NULL;
    lm_buf b = {0};
    int rc = lm_buf_append(&b, "{", 1);
    const char *sep = "";
    if (rc == LM_OK && s->name[0]) {
        rc = lm_buf_append(&b, "\"name\":", 7) == LM_OK ? write_string(&b, s->name) : LM_ERR;
        sep = ",";
    }
    for (size_t i = 0; rc == LM_OK && i < NFIELDS; i++) {
        rc = write_field(&b, &fields[i], s, sep);
        sep = ",";
    }
    if (rc == LM_OK) rc = lm_buf_append(&b, "}", 1);
    if (rc != LM_OK) {
        lm_buf_free(&b);
        return lm_errf(err, "%s: cannot write as JSON (out of memory or a name that is not UTF-8)",
                       where(s->name)),
               NULL;
    }
    return b.data;
}

int lm_service_spec_equal(const lm_service_spec *a, const lm_service_spec *b) {
    if (strcmp(a->name, b->name) != 0 || strcmp(a->function, b->function) != 0 ||
        strcmp(a->runtime, b->runtime) != 0)
        return 0;
    for (size_t i = 0; i < NFIELDS; i++)
        if (get_field(&fields[i], a) != get_field(&fields[i], b)) return 0;
    /* get_field reads memory_limit in whole MiB; compare the bytes too. */
    return a->cfg.memory_limit == b->cfg.memory_limit;
}

/* ---- the pool's settings ---------------------------------------------- */

void lm_service_spec_from_config(const lm_service_config *c, lm_service_spec *sp) {
    lm_service_spec_defaults(sp);
    sp->cfg = *c;
    sp->target_set = c->target != (double)c->container_concurrency;
}

int lm_service_config_json(const lm_service_config *c, char *out, size_t n) {
    lm_service_spec sp;
    lm_service_spec_from_config(c, &sp);
    char *json = lm_service_spec_to_json(&sp, NULL);
    int len = snprintf(out, n, "%s", json ? json : "{}");
    free(json);
    return len;
}
