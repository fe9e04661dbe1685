/* native.c -- the native adapter: the function's static executable as a
 * plain process. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "runtime.h"

static int native_available(const lm_runtime *rt, char *err) { return LM_OK; }

static void native_version(const lm_runtime *rt, char *out, size_t n) {
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(out, n, "%s %s %s", u.sysname, u.release, u.machine);
    else
        snprintf(out, n, "unknown");
}

static int native_start(const lm_runtime *rt, const char *fn, const lm_start_opts *opts,
                        lm_instance *inst, char *err) {
    char path[4096];
    if (lm_artifact_path(opts->artifacts, "native", fn, path, sizeof(path), err) != LM_OK)
        return LM_ERR;
    char rt_env[64], dir_env[4200];
    snprintf(rt_env, sizeof(rt_env), "LUMOS_RUNTIME=%s", rt->name);
    snprintf(dir_env, sizeof(dir_env), "LUMOS_DATA_DIR=%s", opts->data_dir ? opts->data_dir : "");
    char *env[] = {rt_env, dir_env, NULL};
    char *argv[] = {path, NULL};
    return lm_instance_spawn(inst, argv, env, opts, err);
}

const lm_runtime lm_runtime_native = {
    .name = "native",
    .description = "the function's static executable as a process",
    .target = "native",
    .available = native_available,
    .version = native_version,
    .start = native_start,
};
