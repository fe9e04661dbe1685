/* runtime.c -- the adapter registry and what all adapters share. */
#include "runtime.h"

#include "external.h"
#include "runtime/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern const lm_runtime lm_runtime_native;
extern const lm_runtime lm_runtime_wasm_jit;
extern const lm_runtime lm_runtime_wasm_baseline;
extern const lm_runtime lm_runtime_wasm_interp, lm_runtime_wasm_interp_wabt;
extern const lm_runtime lm_runtime_wasm_aot;
extern const lm_runtime lm_runtime_container, lm_runtime_container_crun, lm_runtime_container_slim,
    lm_runtime_container_wasm_aot, lm_runtime_container_wasm_interp,
    lm_runtime_container_wasm_interp_wabt;

static const lm_runtime *const all[] = {&lm_runtime_native,
                                        &lm_runtime_wasm_jit,
                                        &lm_runtime_wasm_baseline,
                                        &lm_runtime_wasm_interp,
                                        &lm_runtime_wasm_interp_wabt,
                                        &lm_runtime_wasm_aot,
                                        &lm_runtime_container,
                                        &lm_runtime_container_crun,
                                        &lm_runtime_container_slim,
                                        &lm_runtime_container_wasm_aot,
                                        &lm_runtime_container_wasm_interp,
                                        &lm_runtime_container_wasm_interp_wabt,
                                        NULL};

/* Built-in runtimes, then the external ones from their templates, then
 * the registered ones; NULL-terminated. */
static const lm_runtime *list[sizeof(all) / sizeof(all[0]) + 64 + LM_RUNTIME_MAX_REGISTERED];
static size_t nlist, nregistered;

const lm_runtime *const *lm_runtime_all(void) {
    if (!list[0]) {
        for (; all[nlist]; nlist++)
            list[nlist] = all[nlist];
        nlist += lm_external_load(all, list + nlist, 64);
        list[nlist] = NULL;
    }
    return list;
}

int lm_runtime_register(const lm_runtime *rt, char *err) {
    if (!rt || !rt->name || !*rt->name)
        return lm_errf(err, "cannot register a runtime without a name");
    if (!rt->available || !rt->version || (!rt->start && !rt->command))
        return lm_errf(err,
                       "cannot register runtime '%s': it needs available, version, and "
                       "start or command",
                       rt->name);
    const lm_runtime *const *rts = lm_runtime_all();
    for (size_t i = 0; rts[i]; i++)
        if (strcmp(rts[i]->name, rt->name) == 0)
            return lm_errf(err, "cannot register runtime '%s': the name is taken", rt->name);
    if (nregistered == LM_RUNTIME_MAX_REGISTERED)
        return lm_errf(err, "cannot register runtime '%s': at most %d can be registered", rt->name,
                       LM_RUNTIME_MAX_REGISTERED);
    list[nlist++] = rt;
    list[nlist] = NULL;
    nregistered++;
    return LM_OK;
}

const lm_runtime *lm_runtime_find(const char *name, char *err) {
    const lm_runtime *const *rts = lm_runtime_all();
    for (size_t i = 0; rts[i]; i++)
        if (strcmp(rts[i]->name, name) == 0) return rts[i];
    char names[1024] = "";
    size_t len = 0;
    for (size_t i = 0; rts[i] && len < sizeof(names); i++)
        len +=
            (size_t)snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "", rts[i]->name);
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
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
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
    /* The runner reports its marks on the channel (proto/mark.h). */
    if (rc == LM_OK && lm_strv_add(&env, "LUMOS_MARKS=1") != LM_OK)
        rc = lm_errf(err, "out of memory");
    if (rc == LM_OK) rc = lm_instance_spawn(inst, argv.v, env.v, o, err);
    lm_strv_free(&argv);
    lm_strv_free(&env);
    return rc;
}

int lm_instance_spawn(lm_instance *inst, char *const argv[], char *const env[],
                      const lm_start_opts *opts, char *err) {
    if (inst->launch_fd >= 0) {
        /* A parked launcher, in its cgroup already: it execs argv. */
        int rc = lm_exec_send(inst->launch_fd, argv, env, err);
        close(inst->launch_fd);
        inst->launch_fd = -1;
        inst->spawn_ns = inst->marks[LM_B_PLACED];
        return rc;
    }
    int errfd = opts->stderr_fd;
    if (errfd == LM_STDERR_CAPTURE) {
        if (inst->stderr_capture < 0) {
            const char *tmp = getenv("TMPDIR");
            inst->stderr_capture =
                open(tmp && *tmp ? tmp : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
            if (inst->stderr_capture < 0)
                return lm_errf(err, "cannot make a temporary file for stderr: %s", strerror(errno));
        }
        errfd = inst->stderr_capture;
    }
    uint64_t call_ns = lm_now_ns();
    if (lm_spawn_netns(argv, env, NULL, 1, errfd, lm_cgroup_procs(&inst->cgroup), opts->netns, NULL,
                       0, &inst->child, err) != LM_OK)
        return LM_ERR;
    /* Placement ends when the child has joined its cgroup (right after
     * the clone); without one, when the spawn began. */
    if (!inst->marks[LM_B_PLACED])
        inst->marks[LM_B_PLACED] = inst->child.joined_ns ? inst->child.joined_ns : call_ns;
    inst->spawn_ns = inst->marks[LM_B_PLACED];
    return LM_OK;
}

char *lm_instance_stderr(const lm_instance *inst, size_t max) {
    if (inst->stderr_capture < 0) return NULL;
    off_t end = lseek(inst->stderr_capture, 0, SEEK_END);
    if (end <= 0) return NULL;
    off_t from = end > (off_t)max ? end - (off_t)max : 0;
    char *buf = malloc((size_t)(end - from) + 1);
    if (!buf) return NULL;
    ssize_t n = pread(inst->stderr_capture, buf, (size_t)(end - from), from);
    buf[n > 0 ? n : 0] = 0;
    return buf;
}

/* Instance numbers, shared by every runtime: ids are "<runtime>-<n>". */
static unsigned next_id;

void lm_instance_ids_after(unsigned n) {
    if (n > next_id) next_id = n;
}

/* 1 when the processes lumos starts get a time namespace other than its
 * own (CLOCK_MONOTONIC offset: their marks are on another clock). Read
 * once: a process's time_for_children changes only by its own unshare. */
static int children_other_clock(void) {
    static int known = -1;
    if (known < 0) {
        char a[64] = "", b[64] = "";
        ssize_t n = readlink("/proc/self/ns/time", a, sizeof(a) - 1);
        ssize_t m = readlink("/proc/self/ns/time_for_children", b, sizeof(b) - 1);
        known = n > 0 && m > 0 && (n != m || memcmp(a, b, (size_t)n) != 0);
    }
    return known;
}

int lm_instance_start(const lm_runtime *rt, const char *fn, const lm_start_opts *opts,
                      lm_instance *inst, char *err) {
    static int warned;
    memset(inst, 0, sizeof(*inst));
    inst->start_ns = opts->start_ns ? opts->start_ns : lm_now_ns();
    inst->marks[LM_B_START] = inst->start_ns;
    inst->child.pid = -1;
    inst->child.in = inst->child.out = -1;
    inst->stderr_capture = -1;
    inst->launch_fd = -1;
    inst->other_clock = children_other_clock();
    inst->runtime = rt;
    snprintf(inst->function, sizeof(inst->function), "%s", fn);
    snprintf(inst->node, sizeof(inst->node), "%s", opts->node ? opts->node : "");
    snprintf(inst->id, sizeof(inst->id), "%s-%u", rt->name, ++next_id);
    /* The pid keeps groups of concurrent lumos processes apart. */
    snprintf(inst->cgroup_name, sizeof(inst->cgroup_name), "%d-%u", (int)getpid(), next_id);
    int on_node = (opts->cgroup_parent && *opts->cgroup_parent) || opts->netns;
    if (on_node && (rt->own_cgroup || opts->no_cgroup))
        return lm_errf(err,
                       "runtime '%s' cannot run on an emulated node (it makes its own cgroup "
                       "and namespaces): use native or a wasm runtime there",
                       rt->name);
    if (!rt->own_cgroup && !opts->no_cgroup) {
        char why[LM_ERRLEN];
        lm_cgroup_limits lim = {.memory_limit = opts->memory_limit,
                                .parent = opts->cgroup_parent,
                                .cpu_quota_us = opts->cpu_quota_us,
                                .cpu_period_us = opts->cpu_period_us,
                                .cpuset = opts->cpuset};
        if (!on_node && lm__launcher_take(opts, inst) == LM_OK) {
            inst->marks[LM_B_PLACED] = lm_now_ns();
        } else if (lm_cgroup_create_in(&inst->cgroup, inst->cgroup_name, &lim, why) != LM_OK) {
            if (opts->memory_limit || on_node)
                return lm_errf(err, "%s needs a cgroup, and %s",
                               on_node ? "a node" : "a memory limit", why);
            if (!warned++)
                fprintf(stderr, "lumos: running instances without their own cgroup: %s\n", why);
        }
    }
    int rc = rt->start ? rt->start(rt, fn, opts, inst, err) : start_wasm(rt, fn, opts, inst, err);
    if (rc != LM_OK) {
        if (inst->launch_fd >= 0) close(inst->launch_fd); /* the launcher exits */
        inst->launch_fd = -1;
        lm_child_stop(&inst->child, 1000);
        lm_cgroup_destroy(&inst->cgroup);
        if (inst->stderr_capture >= 0) close(inst->stderr_capture);
        inst->stderr_capture = -1;
    }
    return rc;
}

void lm_instance_ready(lm_instance *inst) {
    if (inst && inst->runtime && inst->runtime->ready) inst->runtime->ready(inst->runtime, inst);
}

void lm_instance_describe_end(lm_instance *inst, int wait_ms, char *out, size_t n) {
    int status;
    if (inst->child.pid > 0 && lm_child_wait(&inst->child, wait_ms, &status) == LM_OK) {
        /* runc exits 128+N when its container died by signal N: say what
         * really happened, as for every other runtime. */
        if (inst->runtime && inst->runtime->signal_as_exit && WIFEXITED(status) &&
            WEXITSTATUS(status) > 128 && WEXITSTATUS(status) < 128 + NSIG)
            status = WEXITSTATUS(status) - 128;
        lm_describe_status(status, out, n);
        inst->child.pid = -1;
        inst->exit_status = status;
        inst->exited = 1;
    } else if (inst->exited) {
        lm_describe_status(inst->exit_status, out, n);
    } else {
        snprintf(out, n, "closed its channel");
    }
    size_t len = strlen(out);
    if (lm_cgroup_oom_kills(&inst->cgroup) > 0)
        len += (size_t)snprintf(out + len, n - len,
                                ": killed by the OOM killer at its memory limit of %llu MiB",
                                (unsigned long long)(inst->cgroup.memory_limit >> 20));
    /* The runtime's own word on it (a trap message) is its last stderr line. */
    char *tail = lm_instance_stderr(inst, 1024);
    if (tail && len < n) {
        size_t t = strlen(tail);
        while (t && (tail[t - 1] == '\n' || tail[t - 1] == '\r'))
            tail[--t] = 0;
        char *line = strrchr(tail, '\n');
        line = line ? line + 1 : tail;
        if (*line) snprintf(out + len, n - len, ": %s", line);
    }
    free(tail);
}

void lm_instance_stop(lm_instance *inst, int grace_ms) {
    lm_child_stop(&inst->child, grace_ms);
    if (inst->runtime && inst->runtime->cleanup) inst->runtime->cleanup(inst->runtime, inst);
    lm_cgroup_destroy(&inst->cgroup);
    /* A never-started instance (runtime NULL) owns no descriptor. */
    if (inst->runtime && inst->stderr_capture >= 0) close(inst->stderr_capture);
    inst->stderr_capture = -1;
}
