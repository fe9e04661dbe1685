/* runtime.c -- the adapter registry and what all adapters share. */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const lm_runtime lm_runtime_native;
extern const lm_runtime lm_runtime_wasm_jit;

static const lm_runtime *const all[] = {&lm_runtime_native, &lm_runtime_wasm_jit, NULL};

const lm_runtime *const *lm_runtime_all(void) { return all; }

const lm_runtime *lm_runtime_find(const char *name, char *err) {
    for (size_t i = 0; all[i]; i++)
        if (strcmp(all[i]->name, name) == 0) return all[i];
    char names[256] = "";
    for (size_t i = 0; all[i]; i++) {
        strcat(names, i ? ", " : "");
        strcat(names, all[i]->name);
    }
    lm_errf(err, "unknown runtime '%s' (known: %s; see `lumos runtimes`)", name, names);
    return NULL;
}

const char *lm_artifacts_dir(const char *explicit_dir) {
    if (explicit_dir && *explicit_dir) return explicit_dir;
    const char *env = getenv("LUMOS_ARTIFACTS");
    if (env && *env) return env;
    return LM_DEFAULT_ARTIFACTS;
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

int lm_instance_start(const lm_runtime *rt, const char *fn, const lm_start_opts *opts,
                      lm_instance *inst, char *err) {
    static unsigned next_id;
    memset(inst, 0, sizeof(*inst));
    inst->child.pid = -1;
    inst->child.in = inst->child.out = -1;
    if (rt->start(rt, fn, opts, inst, err) != LM_OK) return LM_ERR;
    snprintf(inst->id, sizeof(inst->id), "%s-%u", rt->name, ++next_id);
    return LM_OK;
}

void lm_instance_stop(lm_instance *inst, int grace_ms) { lm_child_stop(&inst->child, grace_ms); }
