/* runtime.c -- the adapter registry and what all adapters share. */
#include "runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const lm_runtime lm_runtime_native;
extern const lm_runtime lm_runtime_wasm_jit;
extern const lm_runtime lm_runtime_wasm_baseline;

static const lm_runtime *const all[] = {&lm_runtime_native, &lm_runtime_wasm_jit,
                                        &lm_runtime_wasm_baseline, NULL};

const lm_runtime *const *lm_runtime_all(void) { return all; }

const lm_runtime *lm_runtime_find(const char *name, char *err) {
    const lm_runtime *const *rts = lm_runtime_all();
    for (size_t i = 0; rts[i]; i++)
        if (strcmp(rts[i]->name, name) == 0) return rts[i];
    char names[1024] = "";
    size_t len = 0;
    for (size_t i = 0; rts[i] && len < sizeof(names); i++)
        len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "",
                                rts[i]->name);
    lm_errf(err, "unknown runtime '%s' (known: %s; see `lumos runtimes`)", name, names);
    return NULL;
}

const char *lm_artifacts_dir(const char *explicit_dir) {
    if (explicit_dir && *explicit_dir) return explicit_dir;
    const char *env = getenv("LUMOS_ARTIFACTS");
    if (env && *env) return env;
    return LM_DEFAULT_ARTIFACTS;
}

const char *lm_libexec_dir(void) {
    const char *env = getenv("LUMOS_LIBEXEC");
    return env && *env ? env : LM_DEFAULT_LIBEXEC;
}

int lm_artifact_path(const char *dir, const char *target, const char *fn, char *out, size_t n,
                     char *err) {
    const char *ext = strcmp(target, "wasm") == 0 ? ".wasm" : "";
    if ((size_t)snprintf(out, n, "%s/%s/%s%s", dir, target, fn, ext) >= n)
        return lm_errf(err, "artifact path too long");
    if (access(out, R_OK) != 0)
        return lm_errf(err, "no %s artifact for '%s' at %s: run `lumos build` (or `make`) first",
                       target, fn, out);
    return LM_OK;
}

int lm_strv_add(lm_strv *s, const char *str) {
    if (s->n + 2 > s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        char **v = realloc(s->v, (size_t)cap * sizeof(char *));
        if (!v) return LM_ERR;
        s->v = v;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(str))) return LM_ERR;
    s->v[++s->n] = NULL;
    return LM_OK;
}

int lm_strv_addf(lm_strv *s, const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf)) return LM_ERR;
    return lm_strv_add(s, buf);
}

void lm_strv_free(lm_strv *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* A Wasm runtime's instance: its command for the function's module, the
 * data folder preopened as /data, the runtime's name for the function to
 * report. */
static int start_wasm(const lm_runtime *rt, const char *fn, const lm_start_opts *o,
                      lm_instance *inst, char *err) {
    char module[4096];
    if (lm_artifact_path(o->artifacts, "wasm", fn, module, sizeof(module), err) != LM_OK)
        return LM_ERR;
    if (rt->available(rt, err) != LM_OK) return LM_ERR;
    lm_dir_map dir = {o->data_dir, "/data"};
    char rt_env[96];
    snprintf(rt_env, sizeof(rt_env), "LUMOS_RUNTIME=%s", rt->name);
    char *guest_env[] = {rt_env, o->data_dir ? "LUMOS_DATA_DIR=/data" : NULL, NULL};
    lm_exec_opts eo = {module, &dir, o->data_dir ? 1 : 0, guest_env, NULL, o->artifacts};
    lm_strv argv = {0}, env = {0};
    int rc = rt->command(rt, &eo, &argv, &env, err);
    if (rc == LM_OK) {
        inst->spawn_ns = lm_now_ns();
        rc = lm_spawn(argv.v, env.v, NULL, 1, o->stderr_fd, &inst->child, err);
    }
    lm_strv_free(&argv);
    lm_strv_free(&env);
    return rc;
}

int lm_instance_start(const lm_runtime *rt, const char *fn, const lm_start_opts *opts,
                      lm_instance *inst, char *err) {
    static unsigned next_id;
    memset(inst, 0, sizeof(*inst));
    inst->child.pid = -1;
    inst->child.in = inst->child.out = -1;
    inst->runtime = rt;
    snprintf(inst->function, sizeof(inst->function), "%s", fn);
    snprintf(inst->id, sizeof(inst->id), "%s-%u", rt->name, ++next_id);
    int rc = rt->start ? rt->start(rt, fn, opts, inst, err) : start_wasm(rt, fn, opts, inst, err);
    return rc;
}

void lm_instance_stop(lm_instance *inst, int grace_ms) {
    lm_child_stop(&inst->child, grace_ms);
    if (inst->runtime && inst->runtime->cleanup) inst->runtime->cleanup(inst->runtime, inst);
}
