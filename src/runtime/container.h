/* container.h -- what the container adapter's files share (container.c,
 * container_config.c); callers outside use runtime.h. */
#ifndef LM_CONTAINER_H
#define LM_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

/* One instance's runtime bundle. */
typedef struct {
    const char *image_bundle; /* the image's unpacked bundle: config.json + rootfs (shared) */
    const char *dir;          /* the instance's own bundle folder (gets config.json) */
    const char *runtime;      /* LUMOS_RUNTIME for the function */
    const char *data_dir;     /* host folder bind-mounted at /data, or NULL */
    const char *cgroup_name;  /* the cgroup is /lumos/<cgroup_name> */
    uint64_t memory_limit;    /* bytes; 0 = none */
} lm_container_config;

/* Writes dir/config.json: the image bundle's config with its rootfs shared
 * read-only, no terminal, cwd /, LUMOS_RUNTIME and LUMOS_DATA_DIR=/data in
 * the environment (and LUMOS_MARKS=1), data_dir bind-mounted read-write at
 * /data, the cgroup path and memory limit. *time_ns (time_ns may be NULL)
 * is set when the config gives the container a time namespace (its clock
 * is then not the host's). LM_ERR with err naming the file at fault. */
int lm_container_write_config(const lm_container_config *c, int *time_ns, char *err);

/* Points inst->cgroup at the group runc made for it (/lumos/<cgroup_name>
 * in each hierarchy Lumos reads), so usage and OOM kills can be read. */
void lm_container_cgroup(lm_instance *inst, uint64_t memory_limit);

/* The OCI runtime program of container runtime rt: its own (crun for
 * container-crun), else $LUMOS_OCI_RUNTIME (crun, a path), else runc. */
int lm_container_runner(const lm_runtime *rt, char *path, size_t n, char *err);

/* Where instances' bundles and the OCI runtimes' state live: $LUMOS_RUN_DIR,
 * else LM_SOURCE_DIR/build/run (runc's state in runc/, crun's in crun/,
 * bundles in bundles/). */
const char *lm_container_run_dir(void);

#endif
