/* spec_runner.c -- runs WebAssembly spec test scripts (as wabt's wast2json
 * converts them) against Lumos' interpreter (src/interp): every command of
 * every file given, with a pass count per file and a total.
 *
 * Usage: interp_spec SPECTEST.wasm FILE.json...
 * (SPECTEST.wasm is tests/interp/spectest.wat built: the module the scripts
 * import "spectest" from). Exit status 0 when every command passed, 1 when
 * one failed, 2 for a bad command line. */
#include <jansson.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"

#define MAX_INSTANCES 512

typedef struct {
    char *name; /* "$M" or a registered name */
    lm_interp_instance *inst;
} named;

typedef struct {
    lm_interp_module *mods[MAX_INSTANCES];
    lm_interp_instance *insts[MAX_INSTANCES];
    int n;
    named names[MAX_INSTANCES], registered[MAX_INSTANCES];
    int nnames, nregistered;
    lm_interp_instance *current;
    const char *dir;
    int pass, fail, skip;
    const char *file;
} state;

static int verbose;

static void failf(state *s, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void failf(state *s, int line, const char *fmt, ...) {
    s->fail++;
    if (s->fail > 30 && !verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "  FAIL %s:%d: ", s->file, line);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static lm_interp_instance *lookup(named *list, int n, const char *name) {
    for (int i = n - 1; i >= 0; i--)
        if (!strcmp(list[i].name, name)) return list[i].inst;
    return NULL;
}

static int resolve(void *ud, const lm_interp_import *imp, lm_interp_binding *b, char *why) {
    state *s = ud;
    lm_interp_instance *from = lookup(s->registered, s->nregistered, imp->module);
    if (!from) {
        snprintf(why, LM_INTERP_ERRLEN, "unknown import: no module %s", imp->module);
        return -1;
    }
    /* lm_interp_instance's module is reached through the export lookup of
     * the module this runner loaded it from. */
    for (int i = 0; i < s->n; i++) {
        if (s->insts[i] != from) continue;
        long e = lm_interp_find_export(s->mods[i], imp->name, imp->kind);
        if (e < 0) {
            snprintf(why, LM_INTERP_ERRLEN, "unknown import");
            return -1;
        }
        b->from = from;
        b->export_index = (uint32_t)e;
        return 0;
    }
    snprintf(why, LM_INTERP_ERRLEN, "unknown import");
    return -1;
}

static lm_interp_module *module_of(state *s, lm_interp_instance *inst) {
    for (int i = 0; i < s->n; i++)
        if (s->insts[i] == inst) return s->mods[i];
    return NULL;
}

/* Loads and instantiates; 0, or 1 malformed/invalid, 2 unlinkable, 3 trapped. */
static int instantiate(state *s, const char *file, lm_interp_instance **out, char *err) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", s->dir, file);
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes) {
        snprintf(err, LM_INTERP_ERRLEN, "cannot read %.200s", file);
        return 1;
    }
    lm_interp_module *m = lm_interp_load(bytes, len, err);
    free(bytes);
    if (!m) return 1;
    lm_interp_trap trap;
    lm_interp_instance *inst = lm_interp_instantiate(m, resolve, s, err, &trap);
    if (!inst) {
        /* A module that failed to instantiate may still be referenced by
         * instances it wrote into: keep it loaded. */
        if (s->n < MAX_INSTANCES) {
            s->mods[s->n] = m;
            s->insts[s->n++] = NULL;
        } else {
            lm_interp_module_free(m);
        }
        return trap ? 3 : 2;
    }
    if (s->n >= MAX_INSTANCES) {
        lm_interp_instance_free(inst);
        lm_interp_module_free(m);
        snprintf(err, LM_INTERP_ERRLEN, "too many modules");
        return 2;
    }
    s->mods[s->n] = m;
    s->insts[s->n++] = inst;
    *out = inst;
    return 0;
}

static uint64_t parse_value(json_t *v, int *nan_kind) {
    const char *type = json_string_value(json_object_get(v, "type"));
    const char *val = json_string_value(json_object_get(v, "value"));
    *nan_kind = 0;
    if (!val) return 0;
    if (!strcmp(val, "nan:canonical")) {
        *nan_kind = 1;
        return 0;
    }
    if (!strcmp(val, "nan:arithmetic")) {
        *nan_kind = 2;
        return 0;
    }
    if (!strcmp(val, "null")) return 0;
    uint64_t x = strtoull(val, NULL, 10);
    if (!strcmp(type, "externref")) return x + 1;
    if (!strcmp(type, "i32") || !strcmp(type, "f32")) return (uint32_t)x;
    return x;
}

/* Runs an action; returns the trap and fills results (*nres). */
static lm_interp_trap run_action(state *s, json_t *action, uint64_t *results, size_t *nres,
                                 int line, int *ok) {
    *ok = 0;
    const char *mname = json_string_value(json_object_get(action, "module"));
    lm_interp_instance *inst = mname ? lookup(s->names, s->nnames, mname) : s->current;
    lm_interp_module *m = inst ? module_of(s, inst) : NULL;
    const char *field = json_string_value(json_object_get(action, "field"));
    const char *type = json_string_value(json_object_get(action, "type"));
    if (!inst || !m || !field) {
        failf(s, line, "no module for the action");
        return LM_INTERP_TRAP_NONE;
    }
    if (!strcmp(type, "get")) {
        long e = lm_interp_find_export(m, field, LM_INTERP_GLOBAL);
        if (e < 0) {
            failf(s, line, "no global %s", field);
            return LM_INTERP_TRAP_NONE;
        }
        results[0] = *lm_interp_export_global(inst, (size_t)e, NULL);
        *nres = 1;
        *ok = 1;
        return LM_INTERP_TRAP_NONE;
    }
    long e = lm_interp_find_export_n(m, field, json_string_length(json_object_get(action, "field")),
                                     LM_INTERP_FUNC);
    if (e < 0) {
        failf(s, line, "no function %s", field);
        return LM_INTERP_TRAP_NONE;
    }
    json_t *args = json_object_get(action, "args");
    uint64_t a[64];
    size_t na = json_array_size(args);
    for (size_t i = 0; i < na && i < 64; i++) {
        int nk;
        a[i] = parse_value(json_array_get(args, i), &nk);
    }
    lm_interp_functype ft = lm_interp_export_functype(m, (size_t)e);
    *nres = ft.nresults;
    *ok = 1;
    return lm_interp_invoke(inst, (size_t)e, a, results);
}

static int value_matches(json_t *want, uint64_t got) {
    const char *type = json_string_value(json_object_get(want, "type"));
    int nk;
    uint64_t w = parse_value(want, &nk);
    if (!strcmp(type, "f32")) {
        uint32_t g = (uint32_t)got;
        if (nk == 1) return (g & 0x7fffffffu) == 0x7fc00000u;
        if (nk == 2) return (g & 0x7fc00000u) == 0x7fc00000u;
        return g == (uint32_t)w;
    }
    if (!strcmp(type, "f64")) {
        if (nk == 1) return (got & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
        if (nk == 2) return (got & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
        return got == w;
    }
    if (!strcmp(type, "i32")) return (uint32_t)got == (uint32_t)w;
    if (!strcmp(type, "funcref") && !json_object_get(want, "value")) return got != 0;
    if (!strcmp(type, "funcref") &&
        strcmp(json_string_value(json_object_get(want, "value")), "null"))
        return got != 0;
    return got == w;
}

static int prefix_match(const char *a, const char *b) {
    size_t n = strlen(a) < strlen(b) ? strlen(a) : strlen(b);
    return n > 0 && !strncmp(a, b, n);
}

static void command(state *s, json_t *c) {
    const char *type = json_string_value(json_object_get(c, "type"));
    int line = (int)json_integer_value(json_object_get(c, "line"));
    const char *file = json_string_value(json_object_get(c, "filename"));
    const char *text = json_string_value(json_object_get(c, "text"));
    const char *mtype = json_string_value(json_object_get(c, "module_type"));
    char err[LM_INTERP_ERRLEN] = "";
    uint64_t results[64];
    size_t nres = 0;
    int ok;
    if (!strcmp(type, "module")) {
        lm_interp_instance *inst = NULL;
        int rc = instantiate(s, file, &inst, err);
        if (rc) {
            failf(s, line, "module %s: %s", file, err);
            s->current = NULL;
            return;
        }
        s->current = inst;
        const char *name = json_string_value(json_object_get(c, "name"));
        if (name && s->nnames < MAX_INSTANCES) s->names[s->nnames++] = (named){strdup(name), inst};
        s->pass++;
    } else if (!strcmp(type, "register")) {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *as = json_string_value(json_object_get(c, "as"));
        lm_interp_instance *inst = name ? lookup(s->names, s->nnames, name) : s->current;
        if (!inst) {
            failf(s, line, "register: no module");
            return;
        }
        if (s->nregistered < MAX_INSTANCES)
            s->registered[s->nregistered++] = (named){strdup(as), inst};
        s->pass++;
    } else if (!strcmp(type, "assert_return") || !strcmp(type, "action")) {
        json_t *action = json_object_get(c, "action");
        lm_interp_trap t = run_action(s, action, results, &nres, line, &ok);
        if (!ok) return;
        const char *field = json_string_value(json_object_get(action, "field"));
        if (t) {
            failf(s, line, "%s trapped: %s", field, lm_interp_trap_message(t));
            return;
        }
        json_t *expected = json_object_get(c, "expected");
        if (!strcmp(type, "assert_return")) {
            if (json_array_size(expected) != nres) {
                failf(s, line, "%s: %zu results, expected %zu", field, nres,
                      json_array_size(expected));
                return;
            }
            for (size_t i = 0; i < nres; i++) {
                json_t *w = json_array_get(expected, i);
                if (!value_matches(w, results[i])) {
                    failf(s, line, "%s: result %zu is 0x%llx, expected %s %s", field, i,
                          (unsigned long long)results[i],
                          json_string_value(json_object_get(w, "type")),
                          json_string_value(json_object_get(w, "value")));
                    return;
                }
            }
        }
        s->pass++;
    } else if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
        json_t *action = json_object_get(c, "action");
        lm_interp_trap t = run_action(s, action, results, &nres, line, &ok);
        if (!ok) return;
        const char *field = json_string_value(json_object_get(action, "field"));
        if (!t) {
            failf(s, line, "%s: no trap, expected %s", field, text);
            return;
        }
        const char *msg = lm_interp_trap_message(t);
        if (!strcmp(type, "assert_exhaustion") ? t != LM_INTERP_TRAP_EXHAUSTION
                                               : !prefix_match(msg, text)) {
            failf(s, line, "%s: trap '%s', expected '%s'", field, msg, text);
            return;
        }
        s->pass++;
    } else if (!strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed")) {
        if (mtype && strcmp(mtype, "binary")) {
            s->skip++;
            return;
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", s->dir, file);
        size_t len;
        uint8_t *bytes = read_file(path, &len);
        lm_interp_module *m = bytes ? lm_interp_load(bytes, len, err) : NULL;
        free(bytes);
        if (m) {
            lm_interp_module_free(m);
            failf(s, line, "%s %s: loaded, expected '%s'", type, file, text);
            return;
        }
        s->pass++;
    } else if (!strcmp(type, "assert_unlinkable") || !strcmp(type, "assert_uninstantiable")) {
        lm_interp_instance *inst = NULL;
        int rc = instantiate(s, file, &inst, err);
        int want = !strcmp(type, "assert_unlinkable") ? 2 : 3;
        if (rc != want) {
            failf(s, line, "%s %s: got %d (%s), expected '%s'", type, file, rc, err, text);
            return;
        }
        s->pass++;
    } else {
        s->skip++;
    }
}

static int run_file(const char *spectest, const char *json_path, int *tp, int *tf, int *ts) {
    json_error_t jerr;
    json_t *root = json_load_file(json_path, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        printf("%s: cannot read: %s\n", json_path, jerr.text);
        return -1;
    }
    state *s = calloc(1, sizeof(*s));
    char *dup = strdup(json_path);
    s->dir = dirname(dup);
    char *dup2 = strdup(json_path);
    s->file = basename(dup2);
    /* The spectest module, registered. */
    size_t len;
    uint8_t *bytes = read_file(spectest, &len);
    char err[LM_INTERP_ERRLEN];
    lm_interp_module *m = bytes ? lm_interp_load(bytes, len, err) : NULL;
    free(bytes);
    lm_interp_instance *inst = m ? lm_interp_instantiate(m, NULL, NULL, err, NULL) : NULL;
    if (!inst) {
        printf("cannot load %s\n", spectest);
        exit(2);
    }
    s->mods[s->n] = m;
    s->insts[s->n++] = inst;
    s->registered[s->nregistered++] = (named){strdup("spectest"), inst};
    json_t *cmds = json_object_get(root, "commands");
    for (size_t i = 0; i < json_array_size(cmds); i++)
        command(s, json_array_get(cmds, i));
    printf("%-32s %5d passed, %3d failed, %3d skipped\n", s->file, s->pass, s->fail, s->skip);
    fflush(stdout);
    *tp += s->pass, *tf += s->fail, *ts += s->skip;
    int failed = s->fail;
    for (int i = 0; i < s->n; i++) {
        lm_interp_instance_free(s->insts[i]);
    }
    lm_interp_release_failed();
    for (int i = 0; i < s->n; i++)
        lm_interp_module_free(s->mods[i]);
    for (int i = 0; i < s->nnames; i++)
        free(s->names[i].name);
    for (int i = 0; i < s->nregistered; i++)
        free(s->registered[i].name);
    free(dup);
    free(dup2);
    free(s);
    json_decref(root);
    return failed;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: interp_spec SPECTEST.wasm FILE.json...\n");
        return 2;
    }
    verbose = getenv("LUMOS_SPEC_VERBOSE") != NULL;
    int tp = 0, tf = 0, ts = 0, bad = 0;
    for (int i = 2; i < argc; i++)
        if (run_file(argv[1], argv[i], &tp, &tf, &ts)) bad++;
    printf(
        "total: %d passed, %d failed, %d skipped (text-format modules), %d files with failures\n",
        tp, tf, ts, bad);
    printf("%d passed, %d failed\n", tp, tf);
    return tf || bad ? 1 : 0;
}
