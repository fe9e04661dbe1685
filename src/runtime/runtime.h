/* runtime.h -- the runtime adapter interface: every way Lumos can run a
 * function (a native process, Wasm under V8, ...) prepares an artifact and
 * starts instances that speak the frame channel on their stdin/stdout.
 * Callers know runtimes only through this header. */
#ifndef LM_RUNTIME_H
#define LM_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* Where artifacts live unless --artifacts or LUMOS_ARTIFACTS says else. */
#define LM_DEFAULT_ARTIFACTS LM_SOURCE_DIR "/build/artifacts"

typedef struct lm_runtime lm_runtime;

/* How to start an instance. */
typedef struct {
    const char *artifacts; /* artifact folder (see lm_artifacts_dir()) */
    const char *data_dir;  /* host folder the instance gets for file storage, or NULL */
    int stderr_fd;         /* where the instance's stderr goes; -1 inherits */
} lm_start_opts;

/* A running instance. The host writes frames to `in` and reads from `out`. */
typedef struct {
    lm_child child;
    const lm_runtime *runtime;
    char function[64];
    char id[32];       /* unique in this process: "<runtime>-<n>" */
    uint64_t spawn_ns; /* monotonic time the start began */
} lm_instance;

struct lm_runtime {
    const char *name;        /* "native", "wasm-jit" */
    const char *description; /* one line for `lumos runtimes` */
    const char *target;      /* artifact kind it runs: "native" or "wasm" */
    /* LM_OK when it can run here; otherwise LM_ERR and err says why and
     * what to install. */
    int (*available)(char *err);
    /* Writes a version string ("node v20.20.2") into out. */
    void (*version)(char *out, size_t n);
    /* Starts an instance of function fn; it is running (not yet READY)
     * when this returns LM_OK. */
    int (*start)(const lm_runtime *rt, const char *fn, const lm_start_opts *opts, lm_instance *inst,
                 char *err);
};

/* The runtime named name, or NULL (then err lists the known names). */
const lm_runtime *lm_runtime_find(const char *name, char *err);
/* All runtimes, NULL-terminated. */
const lm_runtime *const *lm_runtime_all(void);

/* The artifact folder: explicit if not NULL, else $LUMOS_ARTIFACTS, else
 * LM_DEFAULT_ARTIFACTS. The string is static or the argument. */
const char *lm_artifacts_dir(const char *explicit_dir);

/* The path of fn's artifact for target ("native" or "wasm") in dir.
 * LM_ERR with a message naming `lumos build` when it does not exist. */
int lm_artifact_path(const char *dir, const char *target, const char *fn, char *out, size_t n,
                     char *err);

/* Starts an instance of fn on rt and gives it an id. See lm_runtime.start. */
int lm_instance_start(const lm_runtime *rt, const char *fn, const lm_start_opts *opts,
                      lm_instance *inst, char *err);

/* Stops an instance: closes its stdin (a clean exit), kills it after
 * grace_ms. Safe to call twice. */
void lm_instance_stop(lm_instance *inst, int grace_ms);

#endif
