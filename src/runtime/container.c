/* container.c -- the container runtimes: a function in an OCI image (built
 * with umoci, src/builder/oci.h) run by runc with stdio passed through.
 * One adapter, four variants by data: `container` (the static executable on
 * scratch), `container-slim` (on debian-slim), and the Kwasm arrangement
 * `container+wasm-aot` / `container+wasm-interp` / `container+wasm-interp-wabt` (a
 * Wasm runtime's command and the module on scratch). Every instance shares the image's unpacked
 * rootfs read-only and gets its own small bundle (a config.json), its own
 * cgroup /lumos/<cgroup_name>, and its own runc state under a private root. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builder/oci.h"
#include "container.h"
#include "runtime.h"

/* What a variant puts in its image and how it runs. */
typedef struct {
    const char *variant; /* its folder: ARTIFACTS/container/<variant>/<fn> */
    const char *base;    /* "scratch" or "debian-slim" */
    const char *inner;   /* NULL: the native executable at /fn; else the Wasm
                            runtime whose command runs the module inside */
    const char *exe;     /* inner: where the command's program goes in the image */
    int with_module;     /* inner: the .wasm goes into the image too (an
                            interpreter reads it; AoT code has it compiled in) */
    const char *oci;     /* the OCI runtime it always uses ("crun"), or NULL:
                            $LUMOS_OCI_RUNTIME, else runc */
    const char *image;   /* the runtime whose image it runs (container-crun
                            runs container's, byte for byte), or NULL: its own */
} container_kind;

/* The name in an image's LUMOS_RUNTIME (each instance's config sets its
 * own): one image per variant folder, whichever runtime runs it. */
static const char *image_runtime(const lm_runtime *rt) {
    const container_kind *k = rt->data;
    return k->image ? k->image : rt->name;
}

/* An image's inputs, with the storage they point into. */
typedef struct {
    lm_oci_spec spec;
    lm_oci_file files[LM_OCI_MAX_FILES];
    char layout[PATH_MAX], bundle[PATH_MAX];
    lm_strv entry, env, hosts, guests;
} image;

static void image_free(image *im) {
    lm_strv_free(&im->entry);
    lm_strv_free(&im->env);
    lm_strv_free(&im->hosts);
    lm_strv_free(&im->guests);
}

int lm_container_runner(const lm_runtime *rt, char *path, size_t n, char *err) {
    const container_kind *k = rt->data;
    const char *name = k->oci ? k->oci : getenv("LUMOS_OCI_RUNTIME");
    if (!name || !*name) name = "runc";
    if (lm_oci_find_tool(name, path, n) != LM_OK)
        return lm_errf(err, "%s not found: run scripts/setup (Debian package %s)", name, name);
    return LM_OK;
}

const char *lm_container_run_dir(void) {
    const char *env = getenv("LUMOS_RUN_DIR");
    return env && *env ? env : LM_SOURCE_DIR "/build/run";
}

/* crun (1.8) refuses a hybrid cgroup layout, v1 hierarchies beside a v2
 * mount, once that v2 mount holds a controller (hugetlb here, when it is
 * not mounted as v1). Writes the controllers into out; 1 when crun would
 * refuse. */
static int crun_refuses(char *out, size_t n) {
    out[0] = 0;
    if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) return 0; /* pure v2 */
    FILE *f = fopen("/sys/fs/cgroup/unified/cgroup.controllers", "r");
    if (!f) return 0;
    if (!fgets(out, (int)n, f)) out[0] = 0;
    fclose(f);
    out[strcspn(out, "\n")] = 0;
    return out[0] != 0;
}

static int container_available(const lm_runtime *rt, char *err) {
    const container_kind *k = rt->data;
    char path[PATH_MAX];
    if (geteuid() != 0)
        return lm_errf(err,
                       "%s needs root: runc makes namespaces, mounts and cgroups (run lumos "
                       "as root)",
                       rt->name);
    if (lm_container_runner(rt, path, sizeof(path), err) != LM_OK) return LM_ERR;
    const char *base = strrchr(path, '/');
    char ctl[256];
    if (strcmp(base ? base + 1 : path, "crun") == 0 && crun_refuses(ctl, sizeof(ctl)))
        return lm_errf(err,
                       "crun refuses this machine's hybrid cgroup layout (the v2 mount "
                       "/sys/fs/cgroup/unified holds the %s controller%s, which crun 1.8 will not "
                       "leave there): mount them as v1 hierarchies (scripts/setup does it for "
                       "hugetlb when nothing uses it), or use runc (%s)",
                       ctl, strchr(ctl, ' ') ? "s" : "",
                       k->oci ? "the container runtime" : "unset LUMOS_OCI_RUNTIME");
    if (lm_oci_base_ready(k->base, err) != LM_OK) return LM_ERR;
    if (k->inner) {
        const lm_runtime *in = lm_runtime_find(k->inner, NULL);
        char why[LM_ERRLEN];
        if (!in) return lm_errf(err, "its inner runtime %s is not part of this lumos", k->inner);
        if (in->available(in, why) != LM_OK)
            return lm_errf(err, "its inner runtime %s is not available: %s", k->inner, why);
    }
    return LM_OK;
}

/* The first line of `tool --version`, the word after "version". */
static void tool_version(const char *tool, char *out, size_t n) {
    char cmd[PATH_MAX + 32], line[256];
    snprintf(out, n, "unknown");
    if (strchr(tool, '\'')) return;
    snprintf(cmd, sizeof(cmd), "'%s' --version 2>/dev/null", tool);
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n+")] = 0; /* "1.1.5+ds1": Debian's suffix is noise here */
        const char *v = strstr(line, "version ");
        snprintf(out, n, "%.63s", v ? v + 8 : line);
    }
    pclose(p);
}

static void container_version(const lm_runtime *rt, char *out, size_t n) {
    const container_kind *k = rt->data;
    char runner[PATH_MAX], rv[64] = "not found", uv[64], iv[128] = "";
    if (lm_container_runner(rt, runner, sizeof(runner), NULL) == LM_OK)
        tool_version(runner, rv, sizeof(rv));
    lm_oci_version(uv, sizeof(uv));
    const lm_runtime *in = k->inner ? lm_runtime_find(k->inner, NULL) : NULL;
    if (in) {
        char v[96];
        in->version(in, v, sizeof(v));
        snprintf(iv, sizeof(iv), "; %s %s", in->name, v);
    }
    const char *name = strrchr(runner, '/');
    snprintf(out, n, "%s %s, %s, %s base%s", name ? name + 1 : "runc", rv, uv, k->base, iv);
}

static int add_file(image *im, const char *host, const char *guest, char *err) {
    if (im->hosts.n >= LM_OCI_MAX_FILES)
        return lm_errf(err, "too many files for one image (%d at most)", LM_OCI_MAX_FILES);
    if (lm_strv_add(&im->hosts, host) != LM_OK || lm_strv_add(&im->guests, guest) != LM_OK)
        return lm_errf(err, "out of memory");
    return LM_OK;
}

/* The Kwasm image: the inner runtime's command for the module with the
 * data folder at /data, its program at k->exe, the module at /<fn>.wasm
 * (in the image when the program reads it). */
static int inner_image(const lm_runtime *rt, const container_kind *k, const char *fn,
                       const char *artifacts, image *im, char *err) {
    const lm_runtime *in = lm_runtime_find(k->inner, err);
    if (!in) return LM_ERR;
    char module[PATH_MAX], guest_module[128], rt_env[96];
    if (lm_artifact_path(artifacts, "wasm", fn, module, sizeof(module), err) != LM_OK)
        return LM_ERR;
    snprintf(guest_module, sizeof(guest_module), "/%.100s.wasm", fn);
    snprintf(rt_env, sizeof(rt_env), "LUMOS_RUNTIME=%s", image_runtime(rt));
    char *guest_env[] = {rt_env, "LUMOS_DATA_DIR=/data", NULL};
    lm_dir_map dir = {"/data", "/data"};
    lm_exec_opts eo = {module, &dir, 1, guest_env, NULL, artifacts};
    lm_strv argv = {0};
    int rc = in->command(in, &eo, &argv, &im->env, err);
    if (rc == LM_OK) rc = add_file(im, argv.v[0], k->exe, err);
    if (rc == LM_OK && k->with_module) rc = add_file(im, module, guest_module, err);
    for (int i = 0; rc == LM_OK && i < argv.n; i++) {
        const char *a = i == 0 ? k->exe : strcmp(argv.v[i], module) == 0 ? guest_module : argv.v[i];
        if (lm_strv_add(&im->entry, a) != LM_OK) rc = lm_errf(err, "out of memory");
    }
    lm_strv_free(&argv);
    return rc;
}

/* The inputs of fn's image for rt. */
static int image_of(const lm_runtime *rt, const char *fn, const char *artifacts, image *im,
                    char *err) {
    const container_kind *k = rt->data;
    memset(im, 0, sizeof(*im));
    if ((size_t)snprintf(im->layout, sizeof(im->layout), "%s/container/%s/%s", artifacts,
                         k->variant, fn) >= sizeof(im->layout) - 16)
        return lm_errf(err, "artifact path too long: %s", artifacts);
    snprintf(im->bundle, sizeof(im->bundle), "%.*s.bundle", (int)sizeof(im->layout) - 16,
             im->layout);
    if (k->inner) {
        if (inner_image(rt, k, fn, artifacts, im, err) != LM_OK) return LM_ERR;
    } else {
        char exe[PATH_MAX];
        if (lm_artifact_path(artifacts, "native", fn, exe, sizeof(exe), err) != LM_OK)
            return LM_ERR;
        if (lm_strv_add(&im->hosts, exe) != LM_OK || lm_strv_add(&im->guests, "/fn") != LM_OK ||
            lm_strv_add(&im->entry, "/fn") != LM_OK)
            return lm_errf(err, "out of memory");
    }
    if (lm_strv_addf(&im->env, "LUMOS_RUNTIME=%s", image_runtime(rt)) != LM_OK ||
        lm_strv_add(&im->env, "LUMOS_DATA_DIR=/data") != LM_OK)
        return lm_errf(err, "out of memory");
    for (int i = 0; i < im->hosts.n; i++)
        im->files[i] = (lm_oci_file){im->hosts.v[i], im->guests.v[i]};
    im->spec = (lm_oci_spec){.base = k->base,
                             .files = im->files,
                             .nfiles = im->hosts.n,
                             .entrypoint = im->entry.v,
                             .env = im->env.v,
                             .tag = fn,
                             .layout = im->layout,
                             .bundle = im->bundle};
    return LM_OK;
}

/* Builds or reuses fn's image for rt (see lm_oci_ensure); im is filled. */
static int ensure_image(const lm_runtime *rt, const char *fn, const char *artifacts, image *im,
                        char *err) {
    const container_kind *k = rt->data;
    if (image_of(rt, fn, artifacts, im, err) != LM_OK) return LM_ERR;
    char why[LM_ERRLEN];
    if (lm_oci_ensure(&im->spec, NULL, why) != LM_OK)
        return lm_errf(err, "container image for %s (%s) at %s: %s", fn, k->variant, im->layout,
                       why);
    return LM_OK;
}

static int container_prepare(const lm_runtime *rt, const char *fn, const char *artifacts,
                             lm_artifact_file *files, int *nfiles, char *err) {
    const container_kind *k = rt->data;
    *nfiles = 0;
    if (k->inner) {
        /* The inner runtime's own artifact first (the AoT executable). */
        const lm_runtime *in = lm_runtime_find(k->inner, err);
        lm_artifact_file inner_files[LM_MAX_ARTIFACT_FILES];
        int ninner = 0;
        if (!in) return LM_ERR;
        if (in->prepare && in->prepare(in, fn, artifacts, inner_files, &ninner, err) != LM_OK)
            return LM_ERR;
    }
    if (k->base && strcmp(k->base, "scratch") != 0 && lm_oci_base_build(k->base, err) != LM_OK)
        return LM_ERR;
    image im;
    int rc = ensure_image(rt, fn, artifacts, &im, err);
    lm_oci_sizes sz;
    char rootfs[PATH_MAX + 8];
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", im.bundle);
    if (rc == LM_OK) rc = lm_oci_sizes_of(im.layout, rootfs, &sz, err);
    if (rc == LM_OK) {
        /* The compressed image is its blobs (layers, config, manifest): the
         * layout's index.json and oci-layout marker are not part of it. */
        files[0] = (lm_artifact_file){"image-compressed", "", sz.compressed};
        snprintf(files[0].path, sizeof(files[0].path), "%.1000s/blobs", im.layout);
        files[1] = (lm_artifact_file){"image-uncompressed", "", sz.uncompressed};
        snprintf(files[1].path, sizeof(files[1].path), "%.1023s", rootfs);
        *nfiles = 2;
    }
    image_free(&im);
    return rc;
}

/* The state root of an OCI runtime: RUN/runc, RUN/crun, ... */
static void state_root(const char *runner, char *out, size_t n) {
    const char *base = strrchr(runner, '/');
    snprintf(out, n, "%.3000s/%.64s", lm_container_run_dir(), base ? base + 1 : runner);
}

static void remove_container(const lm_runtime *rt, const char *name) {
    char runner[PATH_MAX], root[PATH_MAX], dir[PATH_MAX], err[LM_ERRLEN];
    const char *run = lm_container_run_dir();
    snprintf(dir, sizeof(dir), "%s/bundles/%s", run, name);
    if (lm_container_runner(rt, runner, sizeof(runner), err) == LM_OK) {
        state_root(runner, root, sizeof(root));
        char *argv[] = {runner, "--root", root, "delete", "--force", (char *)name, NULL};
        /* "does not exist" is fine: runc removed it, or never made it. */
        if (lm_oci_tool(argv, err) != LM_OK && !strstr(err, "not exist"))
            fprintf(stderr, "lumos: cleaning up container %s: %s\n", name, err);
    }
    lm_rmtree(dir);
}

/* Containers of lumos processes that died without cleaning up (killed, or
 * interrupted with ^C, which reaches runc too) keep their runc state and,
 * with --keep, their cgroup: the first start of a process removes those
 * whose lumos is gone. Names are "lumos-<pid>-<n>". */
static void sweep_stale(const lm_runtime *rt) {
    static int swept;
    if (swept++) return;
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/bundles", lm_container_run_dir());
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid;
        if (sscanf(e->d_name, "lumos-%d-", &pid) != 1 || pid <= 0 || pid == (int)getpid()) continue;
        if (kill(pid, 0) != 0 && errno == ESRCH) remove_container(rt, e->d_name);
    }
    closedir(d);
}

static int container_start(const lm_runtime *rt, const char *fn, const lm_start_opts *opts,
                           lm_instance *inst, char *err) {
    sweep_stale(rt);
    image im;
    if (ensure_image(rt, fn, opts->artifacts, &im, err) != LM_OK) {
        image_free(&im);
        return LM_ERR;
    }
    char runner[PATH_MAX], root[PATH_MAX], dir[PATH_MAX];
    const char *run = lm_container_run_dir();
    snprintf(inst->name, sizeof(inst->name), "lumos-%.57s", inst->cgroup_name);
    snprintf(dir, sizeof(dir), "%s/bundles/%s", run, inst->name);
    int time_ns = 0, rc = lm_container_runner(rt, runner, sizeof(runner), err);
    if (rc == LM_OK) state_root(runner, root, sizeof(root));
    if (rc == LM_OK) rc = lm_mkdirs(root, err);
    if (rc == LM_OK) rc = lm_mkdirs(dir, err);
    if (rc == LM_OK) {
        lm_container_config cc = {
            im.bundle, dir, rt->name, opts->data_dir, inst->cgroup_name, opts->memory_limit};
        rc = lm_container_write_config(&cc, &time_ns, err);
        if (time_ns) inst->other_clock = 1;
    }
    image_free(&im);
    if (rc != LM_OK) {
        lm_rmtree(dir);
        return LM_ERR;
    }
    /* The cgroup must outlive the process until cleanup, so how it ended
     * (the OOM killer) can still be read: runc run --keep; crun lacks it
     * and deletes the container when its run ends, so crun runs detached
     * under lumos-launch reap, which waits for the container's process. */
    const char *base = strrchr(runner, '/');
    char launcher[PATH_MAX], pidfile[PATH_MAX + 8];
    snprintf(launcher, sizeof(launcher), "%s/lumos-launch", lm_libexec_dir());
    snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
    char *argv[16];
    int n = 0, is_runc = strcmp(base ? base + 1 : runner, "runc") == 0;
    if (!is_runc) {
        argv[n++] = launcher;
        argv[n++] = "reap";
        argv[n++] = pidfile;
        argv[n++] = "--";
    }
    argv[n++] = runner;
    argv[n++] = "--root";
    argv[n++] = root;
    argv[n++] = "run";
    if (is_runc) {
        argv[n++] = "--keep";
    } else {
        argv[n++] = "--detach";
        argv[n++] = "--pid-file";
        argv[n++] = pidfile;
    }
    argv[n++] = "--bundle";
    argv[n++] = dir;
    argv[n++] = inst->name;
    argv[n] = NULL;
    if (lm_instance_spawn(inst, argv, NULL, opts, err) != LM_OK) {
        lm_rmtree(dir);
        return LM_ERR;
    }
    /* Spawn ends as runc (the launcher, for crun) is exec'd: its own
     * start-up is the create step's. */
    inst->marks[LM_B_SPAWNED] = inst->child.exec_ns;
    lm_container_cgroup(inst, opts->memory_limit);
    return LM_OK;
}

/* READY came: runc wrote when it created the container (its namespaces,
 * mounts and cgroup made, its process waiting to be started) into its
 * state, in wall-clock time; placed on the monotonic clock with the two
 * clocks' offset now. crun's run writes its state only after the process
 * has started: its create step's end is not known. */
static void container_ready(const lm_runtime *rt, lm_instance *inst) {
    char runner[PATH_MAX], root[PATH_MAX], state[PATH_MAX + 80];
    if (lm_container_runner(rt, runner, sizeof(runner), NULL) != LM_OK) return;
    const char *base = strrchr(runner, '/');
    if (strcmp(base ? base + 1 : runner, "runc") != 0 || !inst->name[0]) return;
    state_root(runner, root, sizeof(root));
    snprintf(state, sizeof(state), "%s/%s/state.json", root, inst->name);
    json_t *st = json_load_file(state, 0, NULL);
    uint64_t created = lm_rfc3339_ns(json_string_value(json_object_get(st, "created")));
    json_decref(st);
    uint64_t wall = lm_wall_ns(), mono = lm_now_ns();
    if (created && created <= wall && wall - created < mono)
        inst->marks[LM_B_CREATED] = mono - (wall - created);
}

static void container_cleanup(const lm_runtime *rt, lm_instance *inst) {
    if (!inst->name[0]) return;
    remove_container(rt, inst->name);
    inst->name[0] = 0;
}

static const container_kind scratch = {"scratch", "scratch", NULL, NULL, 0, NULL, NULL};
static const container_kind scratch_crun = {"scratch", "scratch", NULL,       NULL,
                                            0,         "crun",    "container"};
static const container_kind slim = {"debian-slim", "debian-slim", NULL, NULL, 0, NULL, NULL};
static const container_kind kwasm_aot = {"wasm-aot", "scratch", "wasm-aot", "/fn", 0, NULL, NULL};
static const container_kind kwasm_interp = {
    "wasm-interp", "scratch", "wasm-interp", "/lumos-interp", 1, NULL, NULL};
static const container_kind kwasm_interp_wabt = {
    "wasm-interp-wabt", "scratch", "wasm-interp-wabt", "/lumos-wasm-interp-wabt", 1, NULL, NULL};

#define CONTAINER_OPS                                                                              \
    .available = container_available, .version = container_version, .prepare = container_prepare,  \
    .start = container_start, .cleanup = container_cleanup, .ready = container_ready,              \
    .own_cgroup = 1, .signal_as_exit = 1

const lm_runtime lm_runtime_container = {
    .name = "container",
    .target = "native",
    .description = "the static executable in a scratch OCI image (umoci) under runc",
    .data = &scratch,
    CONTAINER_OPS,
};

const lm_runtime lm_runtime_container_crun = {
    .name = "container-crun",
    .target = "native",
    .description = "the static executable in the same scratch OCI image under crun",
    .data = &scratch_crun,
    CONTAINER_OPS,
};

const lm_runtime lm_runtime_container_slim = {
    .name = "container-slim",
    .target = "native",
    .description = "the static executable on a debian-slim OCI image under runc "
                   "(`lumos build --base debian-slim` builds the base)",
    .data = &slim,
    CONTAINER_OPS,
};

const lm_runtime lm_runtime_container_wasm_aot = {
    .name = "container+wasm-aot",
    .target = "wasm",
    .description = "Kwasm: the AoT-compiled module in a scratch OCI image under runc",
    .data = &kwasm_aot,
    CONTAINER_OPS,
};

const lm_runtime lm_runtime_container_wasm_interp = {
    .name = "container+wasm-interp",
    .target = "wasm",
    .description = "Kwasm: Lumos' interpreter and the module in a scratch OCI image under runc",
    .data = &kwasm_interp,
    CONTAINER_OPS,
};

const lm_runtime lm_runtime_container_wasm_interp_wabt = {
    .name = "container+wasm-interp-wabt",
    .target = "wasm",
    .description = "Kwasm: the wabt interpreter and the module in a scratch OCI image under runc",
    .data = &kwasm_interp_wabt,
    CONTAINER_OPS,
};
