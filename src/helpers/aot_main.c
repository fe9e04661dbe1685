/* aot_main.c -- the runner of every wasm-aot executable: main, and the
 * module's "wasi_snapshot_preview1" imports as wasm2c (wabt 1.0.32) names
 * and types them, each handing its arguments to Lumos' WASI host with the
 * module's memory as it is at that moment. Built once by make; each AoT
 * compile adds only the module's C and a few lines of glue (lm_aot_*,
 * written by src/runtime/wasm_aot.c).
 *
 * Usage: EXE [--argv0 NAME] [--dir HOST[::GUEST]]... [--env K=V]... [--] [ARGS...]
 * Exit status: the guest's (proc_exit, or 0 when _start returns); 134 after
 * a trap, printed as "lumos: wasm trap: REASON"; 2 for a bad command line;
 * 3 when the host cannot start (a --dir that cannot be opened). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/mark.h"
#include "wasi/internal.h"
#include "wasm-rt-impl.h"

enum { EXIT_USAGE = 2, EXIT_LOAD = 3, EXIT_TRAP = 134 };

/* What wasm2c passes to every import: the host and the module's memory. */
struct Z_wasi_snapshot_preview1_instance_t {
    lm_wasi *w;
    wasm_rt_memory_t *mem;
};
typedef struct Z_wasi_snapshot_preview1_instance_t host;

/* The glue compiled with each module: loads it (its types and segments),
 * instantiates it with this host and returns its exported memory (NULL
 * when it exports none), and runs its _start. */
void lm_aot_load(void);
wasm_rt_memory_t *lm_aot_instantiate(host *h);
void lm_aot_start(void);

static lm_wasi_mem mem_of(const host *h) {
    lm_wasi_mem m = {NULL, 0};
    if (h->mem) {
        m.base = h->mem->data;
        m.size = h->mem->size;
    }
    return m;
}

/* One import: its prototype (the generated header's, which this file does
 * not see) and its definition. */
#define IMPORT(name, params, ...)                                                                  \
    uint32_t Z_wasi_snapshot_preview1Z_##name params;                                              \
    uint32_t Z_wasi_snapshot_preview1Z_##name params {                                             \
        const uint64_t a[] = {__VA_ARGS__};                                                        \
        return lm_wasi_##name(h->w, mem_of(h), a);                                                 \
    }
#define I uint32_t
#define L uint64_t

IMPORT(args_get, (host * h, I a0, I a1), a0, a1)
IMPORT(args_sizes_get, (host * h, I a0, I a1), a0, a1)
IMPORT(environ_get, (host * h, I a0, I a1), a0, a1)
IMPORT(environ_sizes_get, (host * h, I a0, I a1), a0, a1)
IMPORT(clock_res_get, (host * h, I a0, I a1), a0, a1)
IMPORT(clock_time_get, (host * h, I a0, L a1, I a2), a0, a1, a2)
IMPORT(fd_advise, (host * h, I a0, L a1, L a2, I a3), a0, a1, a2, a3)
IMPORT(fd_allocate, (host * h, I a0, L a1, L a2), a0, a1, a2)
IMPORT(fd_close, (host * h, I a0), a0)
IMPORT(fd_datasync, (host * h, I a0), a0)
IMPORT(fd_fdstat_get, (host * h, I a0, I a1), a0, a1)
IMPORT(fd_fdstat_set_flags, (host * h, I a0, I a1), a0, a1)
IMPORT(fd_fdstat_set_rights, (host * h, I a0, L a1, L a2), a0, a1, a2)
IMPORT(fd_filestat_get, (host * h, I a0, I a1), a0, a1)
IMPORT(fd_filestat_set_size, (host * h, I a0, L a1), a0, a1)
IMPORT(fd_filestat_set_times, (host * h, I a0, L a1, L a2, I a3), a0, a1, a2, a3)
IMPORT(fd_pread, (host * h, I a0, I a1, I a2, L a3, I a4), a0, a1, a2, a3, a4)
IMPORT(fd_prestat_get, (host * h, I a0, I a1), a0, a1)
IMPORT(fd_prestat_dir_name, (host * h, I a0, I a1, I a2), a0, a1, a2)
IMPORT(fd_pwrite, (host * h, I a0, I a1, I a2, L a3, I a4), a0, a1, a2, a3, a4)
IMPORT(fd_read, (host * h, I a0, I a1, I a2, I a3), a0, a1, a2, a3)
IMPORT(fd_readdir, (host * h, I a0, I a1, I a2, L a3, I a4), a0, a1, a2, a3, a4)
IMPORT(fd_renumber, (host * h, I a0, I a1), a0, a1)
IMPORT(fd_seek, (host * h, I a0, L a1, I a2, I a3), a0, a1, a2, a3)
IMPORT(fd_sync, (host * h, I a0), a0)
IMPORT(fd_tell, (host * h, I a0, I a1), a0, a1)
IMPORT(fd_write, (host * h, I a0, I a1, I a2, I a3), a0, a1, a2, a3)
IMPORT(path_create_directory, (host * h, I a0, I a1, I a2), a0, a1, a2)
IMPORT(path_filestat_get, (host * h, I a0, I a1, I a2, I a3, I a4), a0, a1, a2, a3, a4)
IMPORT(path_filestat_set_times, (host * h, I a0, I a1, I a2, I a3, L a4, L a5, I a6), a0, a1, a2,
       a3, a4, a5, a6)
IMPORT(path_link, (host * h, I a0, I a1, I a2, I a3, I a4, I a5, I a6), a0, a1, a2, a3, a4, a5, a6)
IMPORT(path_open, (host * h, I a0, I a1, I a2, I a3, I a4, L a5, L a6, I a7, I a8), a0, a1, a2, a3,
       a4, a5, a6, a7, a8)
IMPORT(path_readlink, (host * h, I a0, I a1, I a2, I a3, I a4, I a5), a0, a1, a2, a3, a4, a5)
IMPORT(path_remove_directory, (host * h, I a0, I a1, I a2), a0, a1, a2)
IMPORT(path_rename, (host * h, I a0, I a1, I a2, I a3, I a4, I a5), a0, a1, a2, a3, a4, a5)
IMPORT(path_symlink, (host * h, I a0, I a1, I a2, I a3, I a4), a0, a1, a2, a3, a4)
IMPORT(path_unlink_file, (host * h, I a0, I a1, I a2), a0, a1, a2)
IMPORT(poll_oneoff, (host * h, I a0, I a1, I a2, I a3), a0, a1, a2, a3)
IMPORT(proc_raise, (host * h, I a0), a0)
IMPORT(random_get, (host * h, I a0, I a1), a0, a1)
IMPORT(sock_accept, (host * h, I a0, I a1, I a2), a0, a1, a2)
IMPORT(sock_recv, (host * h, I a0, I a1, I a2, I a3, I a4, I a5), a0, a1, a2, a3, a4, a5)
IMPORT(sock_send, (host * h, I a0, I a1, I a2, I a3, I a4), a0, a1, a2, a3, a4)
IMPORT(sock_shutdown, (host * h, I a0, I a1), a0, a1)

uint32_t Z_wasi_snapshot_preview1Z_sched_yield(host *h);
uint32_t Z_wasi_snapshot_preview1Z_sched_yield(host *h) {
    return lm_wasi_sched_yield(h->w, mem_of(h), NULL);
}

void Z_wasi_snapshot_preview1Z_proc_exit(host *h, I a0);
void Z_wasi_snapshot_preview1Z_proc_exit(host *h, I a0) {
    const uint64_t a[] = {a0};
    lm_wasi_proc_exit(h->w, mem_of(h), a);
    abort(); /* not reached: proc_exit ends the process */
}

#undef I
#undef L

/* Trap reasons in the words of the WebAssembly spec's tests. */
static const char *reason(wasm_rt_trap_t t) {
    switch (t) {
    case WASM_RT_TRAP_OOB: return "out of bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable";
    case WASM_RT_TRAP_CALL_INDIRECT: return "indirect call: undefined element or type mismatch";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
    default: return "unknown trap";
    }
}

static void usage(const char *why) {
    fprintf(stderr,
            "lumos-aot: %s\nusage: %s [--argv0 NAME] [--dir HOST[::GUEST]]... [--env K=V]... "
            "[--] [ARGS...]\n",
            why, "EXE");
    exit(EXIT_USAGE);
}

int main(int argc, char **argv) {
    uint64_t main_ns = lm_mark_now();
    /* A function instance's runner reports its cold start's marks on the
     * channel (LUMOS_MARKS, set by lumos); a plain command does not. */
    int marks = getenv("LUMOS_MARKS") != NULL;
    if (marks) lm_mark_write(1, LM_MARK_PROGRAM, main_ns);
    int ndirs = 0, nenv = 0, i = 1;
    lm_wasi_dir *dirs = calloc((size_t)argc, sizeof(*dirs));
    char **env = calloc((size_t)argc + 1, sizeof(char *));
    char **gargv = calloc((size_t)argc + 1, sizeof(char *));
    if (!dirs || !env || !gargv) usage("out of memory");
    gargv[0] = argv[0];
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--") == 0) {
            i++;
            break;
        }
        if (i + 1 >= argc) usage("an option needs a value");
        char *val = argv[++i];
        if (strcmp(opt, "--argv0") == 0) {
            gargv[0] = val;
        } else if (strcmp(opt, "--dir") == 0) {
            char *sep = strstr(val, "::");
            if (sep) *sep = 0;
            dirs[ndirs].host = val;
            dirs[ndirs++].guest = sep ? sep + 2 : val;
        } else if (strcmp(opt, "--env") == 0) {
            if (!strchr(val, '=')) usage("--env needs K=V");
            env[nenv++] = val;
        } else {
            usage("unknown option");
        }
    }
    int gargc = 1;
    for (; i < argc; i++)
        gargv[gargc++] = argv[i];

    lm_wasi_config cfg = {gargc, gargv, env, dirs, ndirs, 0, 1, 2};
    char err[LM_WASI_ERRLEN] = "";
    static host h;
    if (!(h.w = lm_wasi_new(&cfg, err))) {
        fprintf(stderr, "lumos: cannot start %s: %s\n", gargv[0], err);
        return EXIT_LOAD;
    }
    /* A write to a closed pipe is EPIPE for the guest to handle, as under
     * wasmtime and node, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    uint64_t load_ns = lm_mark_now();
    wasm_rt_init();
    /* A trap in instantiation (a data segment out of bounds) or in _start
     * comes back here. */
    wasm_rt_trap_t trap = wasm_rt_impl_try();
    if (trap != WASM_RT_TRAP_NONE) {
        fprintf(stderr, "lumos: wasm trap: %s\n", reason(trap));
        _exit(EXIT_TRAP);
    }
    /* The code came with the executable: loading is the runtime's and the
     * module's own set-up (types, segments). */
    lm_aot_load();
    if (marks) {
        uint64_t kinds[2] = {LM_MARK_LOAD_BEGIN, LM_MARK_LOADED}, ts[2] = {load_ns, lm_mark_now()};
        uint8_t frame[LM_FRAME_HEADER + 2 * LM_MARK_RECORD];
        size_t n = lm_mark_frame(frame, kinds, ts, 2);
        if (write(1, frame, n) != (ssize_t)n) marks = 0;
    }
    h.mem = lm_aot_instantiate(&h);
    lm_aot_start();
    lm_wasi_free(h.w);
    free(dirs);
    free(env);
    free(gargv);
    return 0;
}
