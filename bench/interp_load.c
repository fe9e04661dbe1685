/* interp_load.c -- Lumos' interpreter (src/interp) at load, per module: the
 * time to decode, validate and translate it (lm_interp_load, the median and
 * the minimum of N loads), the time to instantiate it, and what it holds in
 * memory, side by side with the module's own size and its initial linear
 * memory:
 *
 *   wasm_KiB     the module's bytes;
 *   load_ms      lm_interp_load_borrowing, as lumos-interp loads a module
 *                it maps from its file: decode + validate + translate, wall
 *                time (median of N, and the minimum);
 *   cpu_ms       the same in the thread's CPU time (median): on a loaded
 *                machine the wall time also holds the waits for a CPU;
 *   first_cpu_ms the first load of a fresh process in CPU time, what a cold
 *                start pays (its caches cold; lm_interp_warm_heap included,
 *                which lumos-interp calls first);
 *   inst_ms      lm_interp_instantiate with every import bound to a stub
 *                (memory, tables, globals, segments; no start run);
 *   code_KiB     the memory the loaded module holds (its translated code and
 *                tables): its heap by mallinfo2 and its code arena;
 *   inst_KiB     the heap one instance holds besides its linear memory;
 *   mem_KiB      the initial linear memory (declared pages);
 *   rss_KiB      the resident growth of one load + instance (what a process
 *                pays before running; untouched memory pages are not in it);
 *   hwm_KiB      the peak resident size of the whole measuring process (each
 *                module is measured in a process of its own, forked);
 *   stack_MiB    the value stack each running thread reserves (calloc'd,
 *                only touched pages become resident).
 *
 * The goal (issue 14) is load_ms under 2 per function module. Not a test: it
 * prints figures, it does not judge.
 * Usage: interp_load [-n N] MODULE.wasm...   (default N 20) */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "interp/internal.h"
#include "interp/interp.h"

#define MAXN 1000

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t heap_bytes(void) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* A "VmRSS:" or "VmHWM:" line of /proc/self/status in KiB; 0 when unreadable. */
static long status_kib(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = 0;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, key, k) == 0) v = atol(line + k);
    if (f) fclose(f);
    return v;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
            fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)(n < 0 ? 0 : n);
    }
    fclose(f);
    return buf;
}

static int stub(void *ctx, lm_interp_instance *caller, uint64_t *args, char *msg) {
    (void)ctx, (void)caller, (void)args;
    snprintf(msg, LM_INTERP_ERRLEN, "interp_load: imports are not run");
    return 1;
}

static int bind_stub(void *ud, const lm_interp_import *imp, lm_interp_binding *b, char *why) {
    (void)ud;
    if (imp->kind != LM_INTERP_FUNC) {
        snprintf(why, LM_INTERP_ERRLEN, "interp_load binds function imports only");
        return 1;
    }
    *b = (lm_interp_binding){.fn = stub};
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints one module's row; 0, or 1 when it does not load. */
static int measure(const char *path, int n) {
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes) {
        fprintf(stderr, "interp_load: cannot read %s\n", path);
        return 1;
    }
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    char err[LM_INTERP_ERRLEN];
    double t[MAXN], c[MAXN];
    for (int i = 0; i < n; i++) {
        double t0 = now_ms(), c0 = cpu_ms();
        if (i == 0) lm_interp_warm_heap(LM_INTERP_WARM_HEAP_BYTES); /* as lumos-interp does */
        lm_interp_module *m = lm_interp_load_borrowing(bytes, len, err);
        t[i] = now_ms() - t0;
        c[i] = cpu_ms() - c0;
        if (!m) {
            fprintf(stderr, "interp_load: %s: %s\n", path, err);
            free(bytes);
            return 1;
        }
        lm_interp_module_free(m);
    }
    double first_cpu = c[0];
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    qsort(c, (size_t)n, sizeof(double), cmp_double);
    long rss0 = status_kib("VmRSS:");
    size_t h0 = heap_bytes();
    lm_interp_module *m = lm_interp_load_borrowing(bytes, len, err);
    size_t h1 = heap_bytes();
    size_t arena = m ? m->arena_size : 0; /* the code arena is a mapping of its own */
    double t0 = now_ms();
    lm_interp_instance *inst = lm_interp_instantiate(m, bind_stub, NULL, err, NULL);
    double inst_ms = now_ms() - t0;
    size_t h2 = heap_bytes();
    long rss1 = status_kib("VmRSS:");
    int rc = 0;
    if (!inst) {
        fprintf(stderr, "interp_load: %s: %s\n", path, err);
        rc = 1;
    } else {
        uint64_t mem = 0;
        lm_interp_memory(inst, &mem);
        size_t inst_heap = h2 - h1 > mem ? h2 - h1 - mem : 0;
        printf("%-24s %8.1f %8.3f %8.3f %8.3f %12.3f %8.3f %9.1f %9.1f %9.1f %8ld %8ld\n", name,
               len / 1024.0, t[n / 2], t[0], c[n / 2], first_cpu, inst_ms,
               (h1 - h0 + arena) / 1024.0, inst_heap / 1024.0, mem / 1024.0, rss1 - rss0,
               status_kib("VmHWM:"));
    }
    lm_interp_instance_free(inst);
    lm_interp_module_free(m);
    free(bytes);
    return rc;
}

int main(int argc, char **argv) {
    int n = 20, first = 1;
    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        n = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc || n < 1 || n > MAXN) {
        fprintf(stderr, "usage: interp_load [-n N] MODULE.wasm...   (1 <= N <= %d)\n", MAXN);
        return 2;
    }
    printf("%-24s %8s %8s %8s %8s %12s %8s %9s %9s %9s %8s %8s\n", "module", "wasm_KiB", "load_ms",
           "min_ms", "cpu_ms", "first_cpu_ms", "inst_ms", "code_KiB", "inst_KiB", "mem_KiB",
           "rss_KiB", "hwm_KiB");
    fflush(stdout);
    int bad = 0;
    for (int i = first; i < argc; i++) {
        /* A process each: its heap and resident size are this module's alone. */
        pid_t pid = fork();
        if (pid == 0) {
            int rc = measure(argv[i], n);
            fflush(stdout);
            _exit(rc);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) bad = 1;
    }
    printf("value stack per running thread: %.1f MiB reserved (touched pages only resident)\n",
           (LM_INTERP_STACK_CELLS * 8.0 + (LM_INTERP_MAX_DEPTH + 2) * 16.0) / 1048576.0);
    return bad;
}
