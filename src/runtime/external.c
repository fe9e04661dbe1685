/* external.c -- command-line Wasm runtimes (wasmtime, wasmedge, iwasm,
 * wasmer, wasm3 ...) described by command templates: the built-in list
 * (config/runtimes.json, compiled in) plus the user's own file, read once.
 * A runtime is available when its binaries are on PATH; one with a compile
 * step (wasmedge-aot, iwasm-aot) compiles each module once into a cache. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "external.h"
#include "runtimes_json.h"
#include "util/hash.h"

typedef struct {
    json_t *spec; /* the runtime's JSON object (owned by the registry) */
} ext_data;

#define MAX_EXTERNAL 64
static lm_runtime externals[MAX_EXTERNAL];
static ext_data ext_datas[MAX_EXTERNAL];
static size_t n_externals;
static json_t *owned[4];
static char load_error[LM_ERRLEN * 2];

static const char *str(json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

static int ext_available(const lm_runtime *rt, char *err) {
    json_t *spec = ((const ext_data *)rt->data)->spec;
    char path[4096];
    const char *bin = str(spec, "binary");
    if (bin && lm_which(bin, path, sizeof(path)) != LM_OK)
        return lm_errf(err, "%s not found on PATH: install it to use runtime %s", bin, rt->name);
    size_t i;
    json_t *need;
    json_array_foreach(json_object_get(spec, "needs"), i, need) {
        const char *n = json_string_value(need);
        if (n && lm_which(n, path, sizeof(path)) != LM_OK)
            return lm_errf(err, "%s not found on PATH: runtime %s needs it", n, rt->name);
    }
    return LM_OK;
}

static void ext_version(const lm_runtime *rt, char *out, size_t n) {
    json_t *cmd = json_object_get(((const ext_data *)rt->data)->spec, "version");
    snprintf(out, n, "unknown");
    if (!json_is_array(cmd)) return;
    lm_buf line = {0};
    size_t i;
    json_t *a;
    json_array_foreach(cmd, i, a) lm_buf_printf(&line, "'%s' ", json_string_value(a));
    lm_buf_printf(&line, "2>&1");
    FILE *p = line.data ? popen(line.data, "r") : NULL;
    lm_buf_free(&line);
    if (!p) return;
    char v[128];
    if (fgets(v, sizeof(v), p)) {
        v[strcspn(v, "\n")] = 0;
        snprintf(out, n, "%s", v);
    }
    pclose(p);
}

/* Appends template t with {host}/{guest} or {key}/{value} filled in. */
static int add_template(lm_strv *argv, json_t *t, const char *k1, const char *v1, const char *k2,
                        const char *v2) {
    size_t i;
    json_t *part;
    json_array_foreach(t, i, part) {
        const char *s = json_string_value(part);
        if (!s) return LM_ERR;
        lm_buf b = {0};
        while (*s) {
            size_t l1 = strlen(k1), l2 = strlen(k2);
            if (strncmp(s, k1, l1) == 0) {
                lm_buf_append(&b, v1, strlen(v1));
                s += l1;
            } else if (strncmp(s, k2, l2) == 0) {
                lm_buf_append(&b, v2, strlen(v2));
                s += l2;
            } else {
                lm_buf_append(&b, s++, 1);
            }
        }
        int rc = lm_strv_add(argv, b.data ? b.data : "");
        lm_buf_free(&b);
        if (rc != LM_OK) return LM_ERR;
    }
    return LM_OK;
}

/* Compiles module with the runtime's compile step into out, unless out
 * exists already. */
static int compile_to(const lm_runtime *rt, json_t *spec, const char *module, const char *out,
                      char *err) {
    if (lm_file_size(out) > 0) return LM_OK;
    lm_strv argv = {0};
    size_t i;
    json_t *part;
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    json_array_foreach(json_object_get(spec, "compile"), i, part) {
        const char *s = json_string_value(part);
        lm_strv_add(&argv, strcmp(s, "{module}") == 0 ? module : strcmp(s, "{out}") == 0 ? tmp : s);
    }
    int status = lm_run(argv.v, 1, err);
    lm_strv_free(&argv);
    if (status != 0) {
        if (status > 0)
            lm_errf(err, "%s: compiling %s failed (exit status %d)", rt->name, module, status);
        return LM_ERR;
    }
    if (rename(tmp, out) != 0) return lm_errf(err, "%s: compiler wrote no %s", rt->name, tmp);
    return LM_OK;
}

/* The file {module} stands for: the module itself, or its compiled form
 * (cached under ARTIFACTS/<runtime>/cache/<hash><ext>). */
static int runnable(const lm_runtime *rt, const lm_exec_opts *o, char *out, size_t n, char *err) {
    json_t *spec = ((const ext_data *)rt->data)->spec;
    if (!json_object_get(spec, "compile")) {
        snprintf(out, n, "%s", o->module);
        return LM_OK;
    }
    uint64_t h;
    if (lm_fnv1a64_file(LM_FNV1A64_INIT, o->module, &h, err) != LM_OK) return LM_ERR;
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/%s/cache", o->artifacts, rt->name);
    if (lm_mkdirs(dir, err) != LM_OK) return LM_ERR;
    const char *ext = str(spec, "compiled_ext");
    snprintf(out, n, "%s/%016llx%s", dir, (unsigned long long)h, ext ? ext : "");
    return compile_to(rt, spec, o->module, out, err);
}

static int ext_command(const lm_runtime *rt, const lm_exec_opts *o, lm_strv *argv, lm_strv *env,
                       char *err) {
    json_t *spec = ((const ext_data *)rt->data)->spec;
    char module[4300];
    if (runnable(rt, o, module, sizeof(module), err) != LM_OK) return LM_ERR;
    json_t *dir_t = json_object_get(spec, "dir"), *env_t = json_object_get(spec, "env");
    if (o->ndirs > 0 && json_array_size(dir_t) == 0)
        return lm_errf(err, "runtime %s cannot preopen directories (file storage needs them)",
                       rt->name);
    size_t i;
    json_t *part;
    json_array_foreach(json_object_get(spec, "command"), i, part) {
        const char *s = json_string_value(part);
        int rc = LM_OK;
        if (strcmp(s, "{module}") == 0) {
            rc = lm_strv_add(argv, module);
        } else if (strcmp(s, "{dirs}") == 0) {
            for (int d = 0; d < o->ndirs && rc == LM_OK; d++)
                rc = add_template(argv, dir_t, "{host}", o->dirs[d].host, "{guest}",
                                  o->dirs[d].guest);
        } else if (strcmp(s, "{envs}") == 0) {
            for (int e = 0; o->env && o->env[e] && rc == LM_OK; e++) {
                char key[256];
                const char *eq = strchr(o->env[e], '=');
                snprintf(key, sizeof(key), "%.*s", (int)(eq - o->env[e]), o->env[e]);
                rc = add_template(argv, env_t, "{key}", key, "{value}", eq + 1);
            }
        } else if (strcmp(s, "{args}") == 0) {
            for (int a = 0; o->args && o->args[a] && rc == LM_OK; a++)
                rc = lm_strv_add(argv, o->args[a]);
        } else {
            rc = lm_strv_add(argv, s);
        }
        if (rc != LM_OK) return lm_errf(err, "runtime %s: bad command template", rt->name);
    }
    return LM_OK;
}

static int ext_prepare(const lm_runtime *rt, const char *fn, const char *artifacts,
                       lm_artifact_file *files, int *nfiles, char *err) {
    char module[4096];
    if (lm_artifact_path(artifacts, "wasm", fn, module, sizeof(module), err) != LM_OK)
        return LM_ERR;
    lm_exec_opts o = {.module = module, .artifacts = artifacts};
    lm_artifact_file *f = &files[0];
    snprintf(f->kind, sizeof(f->kind), "wasm");
    snprintf(f->path, sizeof(f->path), "%.1000s", module);
    f->bytes = lm_file_size(module);
    *nfiles = 1;
    if (!json_object_get(((const ext_data *)rt->data)->spec, "compile")) return LM_OK;
    f = &files[1];
    if (runnable(rt, &o, f->path, sizeof(f->path), err) != LM_OK) return LM_ERR;
    snprintf(f->kind, sizeof(f->kind), "compiled");
    f->bytes = lm_file_size(f->path);
    *nfiles = 2;
    return LM_OK;
}

/* Checks one runtime description; LM_ERR names what is wrong. */
static int valid_spec(json_t *r, char *err) {
    const char *name = str(r, "name");
    if (!name || !*name) return lm_errf(err, "a runtime has no \"name\"");
    json_t *cmd = json_object_get(r, "command");
    if (!json_is_array(cmd) || json_array_size(cmd) == 0)
        return lm_errf(err, "runtime %s: \"command\" must be a non-empty array of strings", name);
    int has_module = 0;
    size_t i;
    json_t *part;
    json_array_foreach(cmd, i, part) {
        if (!json_is_string(part))
            return lm_errf(err, "runtime %s: \"command\" must hold strings only", name);
        has_module |= strcmp(json_string_value(part), "{module}") == 0;
    }
    if (!has_module) return lm_errf(err, "runtime %s: \"command\" has no {module}", name);
    const char *arrays[] = {"dir", "env", "compile", "version", "needs"};
    for (size_t k = 0; k < 5; k++) {
        json_t *a = json_object_get(r, arrays[k]);
        if (!a) continue;
        if (!json_is_array(a))
            return lm_errf(err, "runtime %s: \"%s\" must be an array", name, arrays[k]);
        json_array_foreach(a, i, part) if (!json_is_string(part)) return lm_errf(
            err, "runtime %s: \"%s\" must hold strings only", name, arrays[k]);
    }
    return LM_OK;
}

/* Adds (or replaces by name) the runtimes of one config document. */
static int add_config(json_t *doc, const char *from, const lm_runtime *const *builtin) {
    json_t *list = json_object_get(doc, "runtimes");
    if (!json_is_array(list)) {
        snprintf(load_error, sizeof(load_error), "%s: no \"runtimes\" array", from);
        return LM_ERR;
    }
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r) {
        char err[LM_ERRLEN];
        if (valid_spec(r, err) != LM_OK) {
            snprintf(load_error, sizeof(load_error), "%s: %s", from, err);
            return LM_ERR;
        }
        const char *name = str(r, "name");
        for (size_t b = 0; builtin[b]; b++)
            if (strcmp(builtin[b]->name, name) == 0) {
                snprintf(load_error, sizeof(load_error), "%s: %s is a built-in runtime name", from,
                         name);
                return LM_ERR;
            }
        size_t slot = n_externals;
        for (size_t k = 0; k < n_externals; k++)
            if (strcmp(externals[k].name, name) == 0) slot = k;
        if (slot == MAX_EXTERNAL) continue;
        if (slot == n_externals) n_externals++;
        ext_datas[slot].spec = r;
        const char *desc = str(r, "description");
        externals[slot] = (lm_runtime){
            .name = name,
            .description = desc ? desc : "external Wasm runtime",
            .target = "wasm",
            .available = ext_available,
            .version = ext_version,
            .command = ext_command,
            .prepare = json_object_get(r, "compile") ? ext_prepare : NULL,
            .data = &ext_datas[slot],
        };
    }
    return LM_OK;
}

/* The templates live as long as the process; freed at exit so leak checkers
 * see every allocation accounted for. */
static void free_configs(void) {
    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
        json_decref(owned[i]);
}

size_t lm_external_load(const lm_runtime *const *builtin, const lm_runtime **out, size_t max) {
    static int loaded;
    if (!loaded) {
        loaded = 1;
        atexit(free_configs);
        json_error_t je;
        owned[0] = json_loads(lm_runtimes_json, 0, &je);
        if (owned[0]) add_config(owned[0], "config/runtimes.json", builtin);
        const char *user = getenv("LUMOS_RUNTIMES");
        char path[4096];
        if (!user || !*user) {
            const char *home = getenv("HOME");
            snprintf(path, sizeof(path), "%s/.config/lumos/runtimes.json", home ? home : "/");
            user = lm_file_size(path) >= 0 ? path : NULL;
        }
        if (user) {
            owned[1] = json_load_file(user, 0, &je);
            if (!owned[1])
                snprintf(load_error, sizeof(load_error), "%.400s: %s (line %d)", user, je.text,
                         je.line);
            else
                add_config(owned[1], user, builtin);
        }
    }
    size_t n = 0;
    for (; n < n_externals && n < max; n++)
        out[n] = &externals[n];
    return n;
}

const char *lm_external_error(void) { return load_error[0] ? load_error : NULL; }
