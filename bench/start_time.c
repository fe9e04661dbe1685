/* start_time.c -- each runtime's cold start beside its floor, in one run,
 * runtimes and variants interleaved so a noisy moment hurts all alike, for
 * the `noop` function:
 *
 *   lumos    lm_instance_start to READY, the platform's way: a launcher
 *            parked ahead of need (lm_instances_park) where Lumos makes the
 *            cgroup, then its phases (docs/cold-start.md), medians;
 *   placed   the same, placing the instance in a new cgroup at its start
 *            (no parked launcher);
 *   floor    the same program without Lumos: the runtime's own command
 *            (the native executable, the AoT executable, lumos-interp,
 *            lumos-wasm-interp-wabt, node with the host script) spawned by a minimal launcher
 *            (vfork, exec, read until READY), and for containers `runc run`
 *            (`crun run`) of the same bundle, timed the same way.
 *
 * Starts are GAP_MS apart (a cold start follows a quiet moment), and each
 * is stopped before the next. Run it pinned to one CPU on a shared
 * machine (`taskset -c 1 build/bench/start_time`): unpinned, a new
 * process often waits milliseconds for the other, busy CPU.
 * Usage: start_time [N [RUNTIME...]]   (default 20 starts each). Prints
 * figures and the goals beside them; it does not judge. */
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "channel/channel.h"
#include "proto/frame.h"
#include "runtime/container.h"
#include "runtime/runtime.h"

#define GAP_MS 30
#define MAXN 500

typedef struct {
    const char *name;
    const lm_runtime *rt;
    double lumos[MAXN], placed[MAXN], floor[MAXN], floor2[MAXN];
    double phase[LM_PHASE_COUNT][MAXN];
    const char *clock;
    char floor_what[64], floor2_what[64];
    int has_floor2;
} series;

static void pause_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One Lumos start of noop on rt; LM_OK with its cold start (start call to
 * READY, ms) and, when ph is given, its phases. */
static int lumos_start(const lm_runtime *rt, int parked, double *ms, lm_cold_phases *ph) {
    char err[LM_ERRLEN];
    lm_start_opts o = {.artifacts = lm_artifacts_dir(NULL), .stderr_fd = LM_STDERR_CAPTURE};
    if (parked && !rt->own_cgroup) {
        /* Park one, and give it the time to place itself (a quiet moment). */
        if (lm_instances_park(&o, 1, err) != LM_OK) fprintf(stderr, "park: %s\n", err);
        pause_ms(GAP_MS);
    } else {
        pause_ms(GAP_MS);
    }
    lm_instance inst;
    uint64_t ready;
    if (lm_instance_start(rt, "noop", &o, &inst, err) != LM_OK ||
        lm_wait_ready(&inst, 60000, &ready, err) != LM_OK) {
        fprintf(stderr, "%s: %s\n", rt->name, err);
        lm_instance_stop(&inst, 0);
        return LM_ERR;
    }
    *ms = (double)(ready - inst.start_ns) / 1e6;
    if (ph) lm_instance_phases(&inst, ph);
    lm_instance_stop(&inst, 1000);
    return LM_OK;
}

/* The floor's launcher: vfork and exec argv with pipes, read frames until
 * READY; the time from the vfork to READY in ms, or -1. */
static double launch(char *const argv[], char *const envp[]) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) return -1;
    uint64_t t0 = lm_now_ns();
    pid_t pid = vfork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    double ms = -1;
    for (;;) {
        uint8_t h[LM_FRAME_HEADER];
        lm_frame_header fh;
        size_t got = 0;
        while (got < sizeof(h)) {
            ssize_t r = read(out[0], h + got, sizeof(h) - got);
            if (r <= 0) break;
            got += (size_t)r;
        }
        if (got < sizeof(h) || lm_frame_decode(h, &fh, NULL, 0) != 0) break;
        if (fh.type == LM_FRAME_READY) {
            ms = (double)(lm_now_ns() - t0) / 1e6;
            break;
        }
        char skip[512];
        for (uint32_t left = fh.len; left;) {
            ssize_t r = read(out[0], skip, left < sizeof(skip) ? left : sizeof(skip));
            if (r <= 0) break;
            left -= (uint32_t)r;
        }
    }
    close(in[1]);
    char buf[256];
    while (read(out[0], buf, sizeof(buf)) > 0) {
    }
    close(out[0]);
    waitpid(pid, NULL, 0);
    return ms;
}

/* The runtime's own command for noop's module (what Lumos spawns), with
 * the whole environment it gets. */
static int own_command(const lm_runtime *rt, lm_strv *argv, lm_strv *envv, char *err) {
    char path[PATH_MAX];
    const char *art = lm_artifacts_dir(NULL);
    if (!rt->command) {
        if (lm_artifact_path(art, "native", "noop", path, sizeof(path), err) != LM_OK)
            return LM_ERR;
        lm_strv_add(argv, path);
        lm_strv_add(envv, "LUMOS_RUNTIME=native");
        return LM_OK;
    }
    if (lm_artifact_path(art, "wasm", "noop", path, sizeof(path), err) != LM_OK) return LM_ERR;
    char rt_env[96];
    snprintf(rt_env, sizeof(rt_env), "LUMOS_RUNTIME=%s", rt->name);
    char *guest_env[] = {rt_env, NULL};
    lm_exec_opts eo = {path, NULL, 0, guest_env, NULL, art};
    lm_strv extra = {0};
    if (rt->command(rt, &eo, argv, &extra, err) != LM_OK) return LM_ERR;
    /* argv[0] on PATH (node) */
    char full[PATH_MAX];
    if (lm_which(argv->v[0], full, sizeof(full)) == LM_OK) {
        free(argv->v[0]);
        argv->v[0] = strdup(full);
    }
    extern char **environ;
    for (char **e = environ; *e; e++)
        lm_strv_add(envv, *e);
    for (int i = 0; i < extra.n; i++)
        lm_strv_add(envv, extra.v[i]);
    lm_strv_free(&extra);
    return LM_OK;
}

/* A bundle for `runc run` of noop's scratch image, as Lumos writes an
 * instance's (container_config.c), in dir. */
static int floor_bundle(const char *dir, char *err) {
    char image[PATH_MAX];
    snprintf(image, sizeof(image), "%s/container/scratch/noop.bundle", lm_artifacts_dir(NULL));
    if (lm_mkdirs(dir, err) != LM_OK) return LM_ERR;
    lm_container_config cc = {image, dir, "container", NULL, "bench-floor", 0};
    return lm_container_write_config(&cc, NULL, err);
}

static double oci_run(const char *tool, const char *root, const char *bundle, int i) {
    char name[64];
    snprintf(name, sizeof(name), "bench-%d-%d", (int)getpid(), i);
    char *argv[] = {(char *)tool, "--root",       (char *)root, "run",
                    "--bundle",   (char *)bundle, name,         NULL};
    extern char **environ;
    double ms = launch(argv, environ);
    char *del[] = {(char *)tool, "--root", (char *)root, "delete", "--force", name, NULL};
    lm_run(del, 1, NULL);
    return ms;
}

/* Round i of x through Lumos: from a parked launcher, then (where Lumos
 * makes the cgroup) placed at the start. */
static int lumos_part(series *x, int i) {
    lm_cold_phases ph;
    if (lumos_start(x->rt, 1, &x->lumos[i], &ph) != LM_OK) return LM_ERR;
    for (int p = 0; p < LM_PHASE_COUNT; p++)
        x->phase[p][i] = ph.ns[p] >= 0 ? (double)ph.ns[p] / 1e6 : NAN;
    x->clock = ph.clock;
    if (!x->rt->own_cgroup) {
        lm_instances_unpark();
        if (lumos_start(x->rt, 0, &x->placed[i], NULL) != LM_OK) return LM_ERR;
    } else {
        x->placed[i] = x->lumos[i];
    }
    return LM_OK;
}

/* Round i of x's floor: runc run (and crun run) of the same bundle for a
 * container, else the runtime's own command. */
static int floor_part(series *x, int i, const char *runc, const char *crun, int have_runc,
                      int have_crun, const char *root, const char *bundle) {
    char err[LM_ERRLEN];
    pause_ms(GAP_MS);
    if (x->rt->own_cgroup) {
        int crun_variant = strstr(x->name, "crun") != NULL;
        const char *tool = crun_variant ? crun : runc;
        if (crun_variant ? have_crun : have_runc) {
            x->floor[i] = oci_run(tool, root, bundle, i);
            snprintf(x->floor_what, sizeof(x->floor_what), "%s run",
                     crun_variant ? "crun" : "runc");
        }
        if (!crun_variant && have_crun) {
            pause_ms(GAP_MS);
            x->floor2[i] = oci_run(crun, root, bundle, i + 100000);
            x->has_floor2 = 1;
            snprintf(x->floor2_what, sizeof(x->floor2_what), "crun run");
        }
        return LM_OK;
    }
    lm_strv av = {0}, ev = {0};
    if (own_command(x->rt, &av, &ev, err) != LM_OK) {
        fprintf(stderr, "%s: %s\n", x->name, err);
        return LM_ERR;
    }
    x->floor[i] = launch(av.v, ev.v);
    snprintf(x->floor_what, sizeof(x->floor_what), "own command");
    lm_strv_free(&av);
    lm_strv_free(&ev);
    return LM_OK;
}

static double median(double *v, int n) {
    double c[MAXN];
    memcpy(c, v, sizeof(double) * (size_t)n);
    lm_sort_doubles(c, (size_t)n);
    return lm_percentile(c, (size_t)n, 50);
}

static int tool_path(const char *name, char *out, size_t n) {
    if (lm_which(name, out, n) == LM_OK) return LM_OK;
    snprintf(out, n, "/usr/sbin/%s", name);
    return access(out, X_OK) == 0 ? LM_OK : LM_ERR;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20;
    if (n < 1 || n > MAXN) n = 20;
    static series S[16];
    int ns = 0;
    char err[LM_ERRLEN];
    const char *defaults[] = {"native",           "wasm-aot",           "wasm-interp",
                              "wasm-interp-wabt", "wasm-jit",           "container",
                              "container-crun",   "container+wasm-aot", NULL};
    const char *const *names = argc > 2 ? (const char *const *)argv + 2 : defaults;
    for (int i = 0; names[i] && ns < 16; i++) {
        const lm_runtime *rt = lm_runtime_find(names[i], err);
        if (!rt) continue;
        if (rt->available(rt, err) != LM_OK) {
            printf("%-26s unavailable: %s\n", names[i], err);
            continue;
        }
        S[ns].name = names[i];
        S[ns].rt = rt;
        ns++;
    }
    char runc[PATH_MAX], crun[PATH_MAX], root[PATH_MAX], bundle[PATH_MAX];
    snprintf(root, sizeof(root), "%s/bench-floor-state", lm_container_run_dir());
    snprintf(bundle, sizeof(bundle), "%s/bench-floor-bundle", lm_container_run_dir());
    int have_runc = tool_path("runc", runc, sizeof(runc)) == LM_OK;
    int have_crun = tool_path("crun", crun, sizeof(crun)) == LM_OK;
    int need_bundle = 0;
    for (int s = 0; s < ns; s++)
        need_bundle |= S[s].rt->own_cgroup;
    if (need_bundle && floor_bundle(bundle, err) != LM_OK) {
        fprintf(stderr, "floor bundle: %s\n", err);
        return 1;
    }
    /* One unrecorded start of each warms caches. */
    for (int s = 0; s < ns; s++) {
        double d;
        if (lumos_start(S[s].rt, 1, &d, NULL) != LM_OK) return 1;
    }
    for (int i = 0; i < n; i++) {
        for (int s = 0; s < ns; s++) {
            series *x = &S[s];
            /* Lumos first in even rounds, the floor first in odd ones: what
             * ran just before (a container's teardown) weighs on both. */
            for (int part = 0; part < 2; part++) {
                if (part == (i & 1)) {
                    if (lumos_part(x, i) != LM_OK) return 1;
                } else if (floor_part(x, i, runc, crun, have_runc, have_crun, root, bundle) !=
                           LM_OK) {
                    return 1;
                }
            }
        }
    }
    lm_instances_unpark();
    lm_rmtree(bundle);
    lm_rmtree(root);
    printf("\n%-26s %9s %9s %9s %11s %9s %9s  %s\n", "runtime", "lumos_ms", "placed_ms", "floor_ms",
           "overhead_ms", "ratio", "place_ms", "floor");
    for (int s = 0; s < ns; s++) {
        series *x = &S[s];
        double l = median(x->lumos, n), f = median(x->floor, n);
        printf("%-26s %9.3f %9.3f %9.3f %11.3f %9.3f %9.3f  %s\n", x->name, l, median(x->placed, n),
               f, l - f, l / f, median(x->phase[LM_PHASE_PLACEMENT], n), x->floor_what);
        if (x->has_floor2)
            printf("%-26s %9s %9s %9.3f %11.3f %9.3f %9s  %s\n", "", "", "", median(x->floor2, n),
                   l - median(x->floor2, n), l / median(x->floor2, n), "", x->floor2_what);
    }
    printf("\nphases (medians, ms; each runtime's clock: monotonic unless said)\n%-26s", "runtime");
    for (int p = 0; p < LM_PHASE_COUNT; p++)
        printf(" %11s", lm_phase_names[p]);
    printf(" %11s\n", "sum");
    for (int s = 0; s < ns; s++) {
        series *x = &S[s];
        printf("%-26s", x->name);
        double sum = 0;
        for (int p = 0; p < LM_PHASE_COUNT; p++) {
            double m = median(x->phase[p], n);
            sum += m;
            printf(" %11.3f", m);
        }
        printf(" %11.3f%s%s\n", sum, x->clock && strcmp(x->clock, "monotonic") ? "  " : "",
               x->clock && strcmp(x->clock, "monotonic") ? x->clock : "");
    }
    printf("\n(%d starts each, %d ms apart. lumos: start call to READY with a launcher parked "
           "ahead of need; placed: placing the instance in a new cgroup at its start; floor: the "
           "same program without Lumos, vfork+exec to READY; overhead = lumos - floor. Goals: "
           "overhead < max(10%% of floor, 0.2 ms) for native, wasm-aot, wasm-interp(-wabt); "
           "containers "
           "<= 1.2x runc run; placement < 0.5 ms. Medians of phases need not add up to the "
           "median cold start.)\n",
           n, GAP_MS);
    return 0;
}
