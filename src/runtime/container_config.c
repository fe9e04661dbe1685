/* container_config.c -- an instance's runtime bundle: its config.json,
 * edited from the image bundle's (jansson), and the cgroup runc makes. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"

/* Sets K=V in a process.env array, replacing an entry for K. */
static void set_env(json_t *env, const char *kv) {
    size_t klen = strcspn(kv, "=") + 1, i;
    json_t *e;
    json_array_foreach(env, i, e) {
        const char *s = json_string_value(e);
        if (s && strncmp(s, kv, klen) == 0) {
            json_array_set_new(env, i, json_string(kv));
            return;
        }
    }
    json_array_append_new(env, json_string(kv));
}

/* Swap may be limited only where the kernel accounts it; elsewhere runc
 * refuses the setting. */
static int swap_accounted(void) {
    return access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0 ||
           access("/sys/fs/cgroup/lumos/memory.swap.max", F_OK) == 0;
}

int lm_container_write_config(const lm_container_config *c, int *time_ns, char *err) {
    char path[PATH_MAX], rootfs[PATH_MAX], data[PATH_MAX], out[PATH_MAX];
    snprintf(path, sizeof(path), "%s/config.json", c->image_bundle);
    snprintf(out, sizeof(out), "%s/config.json", c->dir);
    if (!realpath(c->image_bundle, rootfs))
        return lm_errf(err, "image bundle %s: %s", c->image_bundle, strerror(errno));
    strncat(rootfs, "/rootfs", sizeof(rootfs) - strlen(rootfs) - 1);
    if (c->data_dir && !realpath(c->data_dir, data))
        return lm_errf(err, "data folder %s: %s", c->data_dir, strerror(errno));
    json_error_t je;
    json_t *cfg = json_load_file(path, 0, &je);
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        return lm_errf(err, "%s: %s (line %d): remove %s to rebuild it", path, je.text, je.line,
                       c->image_bundle);
    }
    json_t *proc = json_object_get(cfg, "process"), *linux_ = json_object_get(cfg, "linux");
    json_t *mounts = json_object_get(cfg, "mounts");
    if (!json_is_object(proc) || !json_is_object(linux_) || !json_is_array(mounts) ||
        !json_is_array(json_object_get(proc, "args"))) {
        json_decref(cfg);
        return lm_errf(err, "%s lacks process, linux or mounts: remove %s to rebuild it", path,
                       c->image_bundle);
    }
    /* The shared rootfs, read-only: nothing an instance does reaches the
     * next one, and no instance needs its own copy. */
    json_object_set_new(cfg, "root", json_pack("{s:s,s:b}", "path", rootfs, "readonly", 1));
    json_object_set_new(cfg, "hostname", json_string("lumos"));
    json_object_set_new(proc, "terminal", json_false());
    json_object_set_new(proc, "cwd", json_string("/"));
    json_t *env = json_object_get(proc, "env");
    if (!json_is_array(env)) json_object_set_new(proc, "env", env = json_array());
    char kv[128];
    snprintf(kv, sizeof(kv), "LUMOS_RUNTIME=%s", c->runtime);
    set_env(env, kv);
    set_env(env, "LUMOS_DATA_DIR=/data");
    /* A Kwasm runner reports its cold start's marks (proto/mark.h). */
    set_env(env, "LUMOS_MARKS=1");
    if (c->data_dir)
        json_array_append_new(mounts,
                              json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", "/data", "type",
                                        "bind", "source", data, "options", "rbind", "rw"));
    /* A time namespace puts the container on another CLOCK_MONOTONIC: its
     * marks could not be placed on the host's. */
    if (time_ns) {
        *time_ns = 0;
        size_t i;
        json_t *ns;
        json_array_foreach(json_object_get(linux_, "namespaces"), i, ns) {
            const char *t = json_string_value(json_object_get(ns, "type"));
            if (t && strcmp(t, "time") == 0) *time_ns = 1;
        }
    }
    char cg[128];
    snprintf(cg, sizeof(cg), "/lumos/%s", c->cgroup_name);
    json_object_set_new(linux_, "cgroupsPath", json_string(cg));
    if (c->memory_limit) {
        json_t *res = json_object_get(linux_, "resources");
        if (!json_is_object(res)) json_object_set_new(linux_, "resources", res = json_object());
        json_t *mem = json_pack("{s:I}", "limit", (json_int_t)c->memory_limit);
        if (swap_accounted())
            json_object_set_new(mem, "swap", json_integer((json_int_t)c->memory_limit));
        json_object_set_new(res, "memory", mem);
    }
    char *text = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    if (!text) return lm_errf(err, "out of memory writing %s", out);
    int rc = lm_file_write(out, text, strlen(text), err);
    free(text);
    return rc;
}

/* Copies s into a fixed field, cut to fit. */
static void put(char *dst, size_t n, const char *s) {
    size_t len = strnlen(s, n - 1);
    memcpy(dst, s, len);
    dst[len] = 0;
}

void lm_container_cgroup(lm_instance *inst, uint64_t memory_limit) {
    lm_cgroup cg;
    memset(&cg, 0, sizeof(cg));
    int v = lm_cgroup_version(NULL);
    /* The hierarchies lm_cgroup_create uses, memory first; v2 has one. */
    const char *ctl[] = {"memory", "cpuacct", "cpu", "pids"};
    for (int i = 0; v && i < (v == 2 ? 1 : 4) && cg.ndirs < LM_CGROUP_MAX_DIRS; i++) {
        char base[64], dir[300], procs[320];
        snprintf(base, sizeof(base), v == 2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/%s", ctl[i]);
        if (access(base, W_OK) != 0) continue;
        snprintf(dir, sizeof(dir), "%s/lumos/%.200s", base, inst->cgroup_name);
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
        put(cg.dirs[cg.ndirs], sizeof(cg.dirs[0]), dir);
        put(cg.procs[cg.ndirs], sizeof(cg.procs[0]), procs);
        if (cg.ndirs == 0) put(cg.memory_dir, sizeof(cg.memory_dir), dir);
        cg.ndirs++;
    }
    if (!cg.ndirs) return;
    cg.memory_limit = memory_limit;
    cg.version = v;
    inst->cgroup = cg;
}
