/* wasm_interp.c -- the wasm-interp runtime: the .wasm in the wabt interpreter, through
 * Lumos' helper lumos-wasm-interp (src/wasi_interp), which embeds libwabt with Lumos' own
 * WASI host. The helper is a static executable built by `make` into the libexec folder. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime.h"

static int helper_path(char *out, size_t n, char *err) {
    if ((size_t)snprintf(out, n, "%s/lumos-wasm-interp", lm_libexec_dir()) >= n)
        return lm_errf(err, "libexec path too long: %s", lm_libexec_dir());
    return LM_OK;
}

static int interp_available(const lm_runtime *rt, char *err) {
    char path[4096];
    if (helper_path(path, sizeof(path), err) != LM_OK) return LM_ERR;
    if (access(path, X_OK) != 0)
        return lm_errf(err, "%s not found: run make (it builds Lumos' helper programs)", path);
    return LM_OK;
}

/* The wabt version the helper was linked with ("wabt 1.0.32 interpreter"), from its
 * --version; the installed package's when the helper is not built. */
static void interp_version(const lm_runtime *rt, char *out, size_t n) {
    char path[4096], cmd[4200], line[128] = "";
    snprintf(out, n, "unknown");
    const char *ask = "dpkg-query -W -f='wabt ${Version} interpreter (not built)\\n' wabt";
    if (helper_path(path, sizeof(path), NULL) == LM_OK && access(path, X_OK) == 0) {
        snprintf(cmd, sizeof(cmd), "'%s' --version", path);
        ask = cmd;
    }
    FILE *p = popen(ask, "r");
    if (!p) return;
    if (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = 0;
        /* "lumos-wasm-interp (wabt 1.0.32 interpreter)" -> "wabt 1.0.32 interpreter" */
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
    helper_path(path, sizeof(path), err);
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
    if (rc != LM_OK) return lm_errf(err, "out of memory building the wasm-interp command");
    return LM_OK;
}

const lm_runtime lm_runtime_wasm_interp = {
    .name = "wasm-interp",
    .description = "the .wasm in the wabt interpreter (libwabt) with Lumos' WASI host",
    .target = "wasm",
    .available = interp_available,
    .version = interp_version,
    .command = interp_command,
};
