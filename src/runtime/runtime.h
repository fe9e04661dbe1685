/* runtime.h -- the runtime adapter interface: every way Lumos can run a
 * function (a native process, a container, Wasm interpreted, compiled ahead
 * of time or by a JIT) prepares an artifact and starts instances that speak
 * the frame channel on their stdin/stdout. Callers know runtimes only
 * through this header.
 *
 * Wasm runtimes share one shape: each says how to run any WASI command
 * module (lm_runtime.command), and an instance of a function is that command
 * for the function's module with the data folder preopened as /data. The
 * same command serves `lumos exec`. */
#ifndef LM_RUNTIME_H
#define LM_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/cgroup.h"
#include "util/util.h"

/* Where artifacts live unless --artifacts or LUMOS_ARTIFACTS says else. */
#define LM_DEFAULT_ARTIFACTS LM_SOURCE_DIR "/build/artifacts"
/* Where Lumos' own helper programs (lumos-interp, lumos-wasm-interp-wabt, ...) live: the
 * build's own folder, so the sanitizer build runs sanitized helpers. */
#ifndef LM_DEFAULT_LIBEXEC
#define LM_DEFAULT_LIBEXEC LM_SOURCE_DIR "/build/libexec"
#endif

typedef struct lm_runtime lm_runtime;

/* A growing, NULL-terminated list of owned strings (argv or env). */
typedef struct {
    char **v;
    int n, cap;
} lm_strv;
int lm_strv_add(lm_strv *s, const char *str);                       /* copies str */
int lm_strv_addf(lm_strv *s, const char *fmt, ...) LM_PRINTF(2, 3); /* formats */
void lm_strv_free(lm_strv *s);                                      /* NULL is a harmless no-op */

/* A directory given to a Wasm module: host path, and the path the guest
 * sees ("/data"). */
typedef struct {
    const char *host;
    const char *guest;
} lm_dir_map;

/* How to run a WASI command module (lumos exec, and every Wasm instance). */
typedef struct {
    const char *module;     /* path of the .wasm */
    const lm_dir_map *dirs; /* preopened directories */
    int ndirs;
    char *const *env;      /* "K=V" for the guest, NULL-terminated; may be NULL */
    char *const *args;     /* guest arguments after argv[0], NULL-terminated; may be NULL */
    const char *artifacts; /* artifact folder (for caches such as AoT code) */
} lm_exec_opts;

/* How to start a function instance. */
typedef struct {
    const char *artifacts; /* artifact folder (see lm_artifacts_dir()) */
    const char *data_dir;  /* host folder the instance gets for file storage, or NULL */
    int stderr_fd;         /* where the instance's stderr goes; -1 inherits,
                              LM_STDERR_CAPTURE keeps it (lm_instance_stderr) */
    uint64_t memory_limit; /* bytes the instance's cgroup may use; 0 = no limit */
    int no_cgroup;         /* run without a cgroup of its own (no limit, no accounting) */
    uint64_t start_ns;     /* when the caller decided to start it (CLOCK_MONOTONIC); 0: now */
    /* Placement on an emulated node (src/node/node.h), all optional: the
     * instance's groups go under lumos/<cgroup_parent>/ (the node's, whose
     * limits bound all its instances together), with a CFS quota of its
     * own (one emulated core's speed), in the cpuset hierarchy too when
     * cpuset is set (the node's pinned CPUs), and its process joins the
     * network namespace whose file is netns before it execs. Such a start
     * takes no parked launcher. Runtimes that make their own cgroup
     * (containers) refuse a node. */
    const char *cgroup_parent;
    int64_t cpu_quota_us, cpu_period_us;
    int cpuset;
    const char *netns;
    const char *node; /* the node's profile name, copied into lm_instance.node */
} lm_start_opts;

#define LM_STDERR_CAPTURE (-2)

/* One file an artifact consists of, with its size on disk. */
typedef struct {
    char kind[32]; /* "wasm", "aot-executable", "image-compressed", ... */
    char path[1024];
    long long bytes;
} lm_artifact_file;

#define LM_MAX_ARTIFACT_FILES 4

/* The boundaries of a cold start's phases, in the order they happen
 * (docs/cold-start.md says what lies between them, per runtime). An
 * instance's marks[] holds each one's CLOCK_MONOTONIC time, 0 when it was
 * not reported: the host sets START, PLACED and READY; the instance's
 * programs report the others in MARK frames (proto/mark.h), which the
 * channel files here. Phase i runs from boundary i to boundary i + 1. */
enum {
    LM_B_START,      /* the start call began (lm_instance.start_ns) */
    LM_B_PLACED,     /* in its own cgroup (made and joined), or in none: spawn begins */
    LM_B_SPAWNED,    /* the runtime's first instruction: a runner's main, node's own
                        start; runc or crun about to be exec'd (a native function's
                        is its main: then not reported, and spawn runs to MAIN) */
    LM_B_CREATED,    /* containers: runc created the container (namespaces, mounts,
                        cgroup; its process waits to be started) */
    LM_B_STARTED,    /* containers: the container's program began (a Kwasm runner's
                        main; a plain container's is the guest's main) */
    LM_B_LOAD_BEGIN, /* the runtime begins to read the module */
    LM_B_LOADED,     /* the module is read, validated and compiled */
    LM_B_MAIN,       /* the guest's main (the SDK's serve loop) */
    LM_B_READY_SENT, /* the guest is about to write READY */
    LM_B_READY,      /* READY read by the host: the cold start ends */
    LM_B_COUNT
};

/* The phases, each between two boundaries above. */
enum {
    LM_PHASE_PLACEMENT,   /* START -> PLACED: the cgroup made and joined */
    LM_PHASE_SPAWN,       /* PLACED -> SPAWNED: the process made, the runtime exec'd */
    LM_PHASE_CREATE,      /* SPAWNED -> CREATED: runc's create step */
    LM_PHASE_START,       /* CREATED -> STARTED: its start step, to the container's program */
    LM_PHASE_RUNTIME,     /* -> LOAD_BEGIN: the runtime's own start-up */
    LM_PHASE_LOAD,        /* -> LOADED: reading, validating, compiling the module */
    LM_PHASE_INSTANTIATE, /* -> MAIN: instantiation, the module's start-up to main */
    LM_PHASE_INIT,        /* MAIN -> READY_SENT: the function's own start-up */
    LM_PHASE_READY,       /* READY_SENT -> READY: the READY frame's way to the host */
    LM_PHASE_COUNT
};

/* The phases' names ("placement", "spawn", ...), as in the results'
 * phase_<name>_ns columns. */
extern const char *const lm_phase_names[LM_PHASE_COUNT];

/* One cold start, split. */
typedef struct {
    /* Durations in ns; -1 = unknown. A phase a runtime does not have (a
     * native process has no module to load) is 0. */
    int64_t ns[LM_PHASE_COUNT];
    uint64_t total_ns; /* READY - START: the phases add up to it */
    /* "monotonic": every mark was on the host's CLOCK_MONOTONIC, in order;
     * "host-only": the programs reported no marks (only placement known);
     * "unaligned": their marks were out of order against the host's (another
     * clock), so only placement is known; "time-namespace": the instance
     * runs in a time namespace of its own (checked at its start), the same. */
    const char *clock;
    /* Placement done ahead of need: the cgroup was made and joined by a
     * parked launcher before the start (how long that took, ns; not part
     * of this cold start). 0 when placed during the start. */
    uint64_t placed_ahead_ns;
} lm_cold_phases;

/* A running instance. The host writes frames to child.in, reads child.out. */
typedef struct {
    lm_child child;
    const lm_runtime *runtime;
    char function[64];
    char id[32]; /* unique in this process: "<runtime>-<n>" */
    /* Monotonic times. start_ns: the start began (the platform's part: the
     * cgroup, the adapter's set-up). spawn_ns: the runtime's own process
     * began (exec'd, already in its cgroup). A cold start is READY minus
     * spawn_ns; spawn_ns minus start_ns is the platform's placement. */
    uint64_t start_ns;
    uint64_t spawn_ns;
    char name[64]; /* adapter's own handle (a container id), or "" */
    /* Its control group: "lumos/<cgroup_name>" in every hierarchy. Lumos
     * creates it before start, unless the runtime's own_cgroup says the
     * runtime does (runc, from linux.cgroupsPath = "/lumos/<cgroup_name>");
     * cgroup.version is 0 when the machine gave none. */
    char cgroup_name[64];
    lm_cgroup cgroup;
    int stderr_capture; /* fd of the captured stderr (a deleted temp file), or -1 */
    int exited;         /* the process was reaped; exit_status is its wait status */
    int exit_status;
    uint64_t marks[LM_B_COUNT]; /* its cold start's boundaries (LM_B_*) */
    uint64_t placed_ahead_ns;   /* see lm_cold_phases */
    int launch_fd; /* a parked launcher's command pipe until its program is handed over, or -1 */
    /* Set when its programs run on another clock than lumos (a time
     * namespace): their marks cannot be placed (lm_cold_phases.clock is
     * then "time-namespace"). */
    int other_clock;
    char node[24]; /* the emulated node it runs on (lm_start_opts.node), "" on the host */
} lm_instance;

struct lm_runtime {
    const char *name;        /* "native", "wasm-aot", "container", ... */
    const char *description; /* one line for `lumos runtimes` */
    const char *target;      /* build target it runs: "native" or "wasm" */
    /* LM_OK when it can run here; otherwise LM_ERR and err says why and
     * what to install. */
    int (*available)(const lm_runtime *rt, char *err);
    /* Writes a version string ("node v20.20.2 (V8 TurboFan)") into out. */
    void (*version)(const lm_runtime *rt, char *out, size_t n);
    /* Makes what start needs from the built target artifact of fn (an AoT
     * executable, an OCI image and bundle), cached so an unchanged input is
     * not redone, and lists the resulting files with their sizes in files
     * (*nfiles set). NULL when the target artifact is all it needs. */
    int (*prepare)(const lm_runtime *rt, const char *fn, const char *artifacts,
                   lm_artifact_file *files, int *nfiles, char *err);
    /* Wasm runtimes: the command (argv, extra env for the host process) that
     * runs opts->module with stdio passed through. NULL for other runtimes. */
    int (*command)(const lm_runtime *rt, const lm_exec_opts *opts, lm_strv *argv, lm_strv *env,
                   char *err);
    /* Starts an instance of fn; it is running (not yet READY) on LM_OK.
     * NULL for Wasm runtimes: lm_instance_start() then runs command(). */
    int (*start)(const lm_runtime *rt, const char *fn, const lm_start_opts *opts, lm_instance *inst,
                 char *err);
    /* Cleans up after an instance has stopped (a container's state), or NULL. */
    void (*cleanup)(const lm_runtime *rt, lm_instance *inst);
    /* The instance sent READY: adds to inst->marks what the adapter learns
     * only then (runc's record of when it created the container), or NULL. */
    void (*ready)(const lm_runtime *rt, lm_instance *inst);
    const void *data;   /* the adapter's own (an external runtime's template) */
    int own_cgroup;     /* the runtime makes the instance's cgroup itself */
    int signal_as_exit; /* it reports a death by signal N as exit status 128+N (runc) */
};

/* The runtime named name, or NULL (then err lists the known names). */
const lm_runtime *lm_runtime_find(const char *name, char *err);
/* All runtimes, NULL-terminated: built-in ones, then external ones from the
 * runtimes config (see docs/runtimes.md), then registered ones. */
const lm_runtime *const *lm_runtime_all(void);

/* How many runtimes lm_runtime_register takes. */
#define LM_RUNTIME_MAX_REGISTERED 16

/* Adds rt to the runtimes lm_runtime_find finds and lm_runtime_all lists
 * (after the others): an embedder's own adapter, or a test's fake one. rt
 * is not copied: it must stay valid for the rest of the process (a static
 * one, in practice); it cannot be removed. It needs a name, available,
 * version, and start or command. LM_OK, or LM_ERR with err when a field is
 * missing, the name is taken (by any runtime, built-in, external or
 * registered) or LM_RUNTIME_MAX_REGISTERED are registered already. Not
 * thread-safe: register before anything looks runtimes up. */
int lm_runtime_register(const lm_runtime *rt, char *err);

/* The artifact folder: explicit if not NULL, else $LUMOS_ARTIFACTS, else
 * LM_DEFAULT_ARTIFACTS. The string is static or the argument. */
const char *lm_artifacts_dir(const char *explicit_dir);
/* Lumos' helper programs folder: $LUMOS_LIBEXEC or LM_DEFAULT_LIBEXEC. */
const char *lm_libexec_dir(void);

/* The path of fn's artifact for target ("native" or "wasm") in dir.
 * LM_ERR with a message naming `lumos build` when it does not exist. */
int lm_artifact_path(const char *dir, const char *target, const char *fn, char *out, size_t n,
                     char *err);

/* Placement ahead of need. Keeps n launchers (lumos-launch park) ready
 * for starts with opts' memory limit and stderr mode (captured or
 * inherited): each has made its own cgroup, joined it and opened its
 * channel, and waits, so lm_instance_start of a runtime whose group Lumos
 * makes (not a container's) takes one instead of placing the instance
 * then (placement then costs microseconds; on cgroup v1 the first join
 * after a quiet moment waits for an RCU grace period, 7-12 ms here).
 * Call it at a quiet moment (after a READY), not just before a start: a
 * launcher places itself in the background and is taken only once it
 * has. LM_ERR with err when opts need no group (no_cgroup, another stderr
 * descriptor) or a launcher cannot start (no cgroups here: not root).
 * Launchers are this process's; not thread-safe. */
int lm_instances_park(const lm_start_opts *opts, int n, char *err);
/* Lets every parked launcher go and removes its cgroup (at the end of a
 * run; harmless when there are none). */
void lm_instances_unpark(void);

/* Instance ids ("native-7") are numbered after n from now on: a process
 * writing into a results file that already holds instances up to n (see
 * lm_results_used_ids) keeps its ids apart. Not thread-safe. */
void lm_instance_ids_after(unsigned n);

/* Starts an instance of fn on rt and gives it an id. See lm_runtime.start. */
int lm_instance_start(const lm_runtime *rt, const char *fn, const lm_start_opts *opts,
                      lm_instance *inst, char *err);

/* Spawns argv as the instance's process, with pipes, in its cgroup (or
 * hands it to the launcher parked there, see lm_instances_park). For
 * adapters' start(). */
int lm_instance_spawn(lm_instance *inst, char *const argv[], char *const env[],
                      const lm_start_opts *opts, char *err);

/* The captured stderr of an instance started with LM_STDERR_CAPTURE:
 * malloc'd, NUL-terminated (the caller frees), at most max bytes from its
 * end; NULL when nothing was captured. */
char *lm_instance_stderr(const lm_instance *inst, size_t max);

/* Describes how an instance ended: "exit status 2", "killed by signal 9
 * (SIGKILL)", and when its cgroup saw the OOM killer, "killed by the OOM
 * killer at its memory limit of N MiB", followed by the last line of its
 * captured stderr ("lumos: wasm trap: unreachable"). Waits up to wait_ms. */
void lm_instance_describe_end(lm_instance *inst, int wait_ms, char *out, size_t n);

/* Files one MARK record (proto/mark.h: kind, CLOCK_MONOTONIC t) of the
 * instance's programs into inst->marks: a program's first instruction is
 * SPAWNED, or STARTED when SPAWNED is set (the container launcher came
 * first); a kind reported twice keeps its first time; unknown kinds are
 * ignored. The channel calls it for every MARK before READY. */
void lm_instance_mark(lm_instance *inst, uint64_t kind, uint64_t t);

/* The channel calls it when READY came (inst->marks[LM_B_READY] set):
 * the adapter's ready hook, if any. NULL runtime: nothing. */
void lm_instance_ready(lm_instance *inst);

/* Splits the instance's cold start into its phases (its marks, READY
 * included: call it once READY came). LM_OK; LM_ERR when START or READY is
 * missing (out is then all unknown). Marks a runtime does not report give
 * their phase 0 (the time goes to the phase that owns it: spawn for a
 * native process, start for a container), so the known phases always add
 * up to total_ns. */
int lm_instance_phases(const lm_instance *inst, lm_cold_phases *out);

/* Stops an instance: closes its stdin (a clean exit), kills it after
 * grace_ms, runs the adapter's cleanup, removes its cgroup. Safe to call
 * twice. */
void lm_instance_stop(lm_instance *inst, int grace_ms);

#endif
