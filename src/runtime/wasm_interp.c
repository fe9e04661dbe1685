/* wasm_interp.c -- the interpreted Wasm runtimes, one adapter for two helpers of the same
 * command line (docs/interp.md, docs/wasm-interp-wabt.md):
 *   wasm-interp       Lumos' own interpreter (src/interp), helper lumos-interp;
 *   wasm-interp-wabt  wabt's reference interpreter (libwabt), helper lumos-wasm-interp-wabt
 *                     (src/helpers/wasm_interp.cc), the reference and the differential
 *                     fuzzing oracle.
 * Both embed Lumos' own WASI host and are built by `make` into the libexec folder. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"

/* What differs between the two: the helper program and where its version comes from. */
typedef struct {
    const char *helper;   /* file name in the libexec folder */
    const char *missing;  /* what to do when it is not there */
    const char *fallback; /* shell command giving a version line when it is not built */
} interp_helper;

static const interp_helper lumos_helper = {"lumos-interp",
                                           "run make (it builds Lumos' interpreter, src/interp)",
                                           "echo 'Lumos 0.1.0 interpreter (not built)'"};
static const interp_helper wabt_helper = {
    "lumos-wasm-interp-wabt", "run make (it builds Lumos' helper programs)",
    "dpkg-query -W -f='wabt ${Version} interpreter (not built)\\n' wabt"};

static int helper_path(const lm_runtime *rt, char *out, size_t n, char *err) {
    const interp_helper *h = rt->data;
    if ((size_t)snprintf(out, n, "%s/%s", lm_libexec_dir(), h->helper) >= n)
        return lm_errf(err, "libexec path too long: %s", lm_libexec_dir());
    return LM_OK;
}

static int interp_available(const lm_runtime *rt, char *err) {
    const interp_helper *h = rt->data;
    char path[4096];
    if (helper_path(rt, path, sizeof(path), err) != LM_OK) return LM_ERR;
    if (access(path, X_OK) != 0) return lm_errf(err, "%s not found: %s", path, h->missing);
    return LM_OK;
}

/* The helper's own word, from its --version: "lumos-wasm-interp-wabt (wabt 1.0.32
 * interpreter)" gives "wabt 1.0.32 interpreter", "lumos-interp (Lumos 0.1.0 interpreter)"
 * gives "Lumos 0.1.0 interpreter"; when the helper is not built, the fallback's line. */
static void interp_version(const lm_runtime *rt, char *out, size_t n) {
    const interp_helper *h = rt->data;
    char path[4096], cmd[4200], line[128] = "";
    snprintf(out, n, "unknown");
    const char *ask = h->fallback;
    if (helper_path(rt, path, sizeof(path), NULL) == LM_OK && access(path, X_OK) == 0) {
        snprintf(cmd, sizeof(cmd), "'%s' --version 2>/dev/null", path);
        ask = cmd;
    }
    FILE *p = popen(ask, "r");
    if (!p) return;
    if (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = 0;
        char *open = strchr(line, '(');
        char *close = open ? strrchr(open, ')') : NULL;
        if (open && close && ask == cmd) {
            *close = 0;
            snprintf(out, n, "%s", open + 1);
        } else if (line[0]) {
            snprintf(out, n, "%s", line);
        }
    }
    pclose(p);
}

static int interp_command(const lm_runtime *rt, const lm_exec_opts *o, lm_strv *argv, lm_strv *env,
                          char *err) {
    char path[4096];
    if (interp_available(rt, err) != LM_OK) return LM_ERR;
    helper_path(rt, path, sizeof(path), err);
    int rc = lm_strv_add(argv, path);
    for (int i = 0; rc == LM_OK && i < o->ndirs; i++) {
        rc = lm_strv_add(argv, "--dir");
        if (rc == LM_OK)
            rc = lm_strv_addf(argv, "%s::%s", o->dirs[i].host,
                              o->dirs[i].guest ? o->dirs[i].guest : o->dirs[i].host);
    }
    for (int i = 0; rc == LM_OK && o->env && o->env[i]; i++) {
        rc = lm_strv_add(argv, "--env");
        if (rc == LM_OK) rc = lm_strv_add(argv, o->env[i]);
    }
    if (rc == LM_OK) rc = lm_strv_add(argv, "--");
    if (rc == LM_OK) rc = lm_strv_add(argv, o->module);
    for (int i = 0; rc == LM_OK && o->args && o->args[i]; i++)
        rc = lm_strv_add(argv, o->args[i]);
    if (rc != LM_OK) return lm_errf(err, "out of memory building the %s command", rt->name);
    return LM_OK;
}

const lm_runtime lm_runtime_wasm_interp = {
    .name = "wasm-interp",
    .description = "the .wasm in Lumos' own interpreter (src/interp) with Lumos' WASI host",
    .target = "wasm",
    .available = interp_available,
    .version = interp_version,
    .command = interp_command,
    .data = &lumos_helper,
};

const lm_runtime lm_runtime_wasm_interp_wabt = {
    .name = "wasm-interp-wabt",
    .description = "the .wasm in wabt's reference interpreter (libwabt) with Lumos' WASI host",
    .target = "wasm",
    .available = interp_available,
    .version = interp_version,
    .command = interp_command,
    .data = &wabt_helper,
};
