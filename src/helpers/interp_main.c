/* interp_main.c -- lumos-interp: runs one WASI command module in Lumos' own
 * interpreter (src/interp), its "wasi_snapshot_preview1" imports served by
 * Lumos' WASI host (src/wasi); the same command line, exit statuses and
 * marks as lumos-wasm-interp (the wabt interpreter's runner).
 *
 * Usage: lumos-interp [--dir HOST::GUEST]... [--env K=V]... [--] MODULE.wasm [ARGS...]
 *        lumos-interp --fuzz-exec MODULE.wasm
 * Exit status: the guest's (proc_exit, or 0 when _start returns); 134 after a trap (printed
 * as "lumos: wasm trap: MESSAGE"); 3 when the module cannot be loaded, linked or started;
 * 2 for a bad command line. A hung guest can be stopped: LUMOS_INTERP_FUEL=N traps it
 * ("fuel exhausted") after N loop iterations and calls, LUMOS_INTERP_DEADLINE_MS=MS after MS
 * milliseconds of wall time. --fuzz-exec runs a binaryen `wasm-opt -ttf` module for the
 * differential fuzzer (docs/interp.md has its output format); it exits 0 once every export
 * was called, 3 when the module cannot be loaded or linked. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "interp/interp.h"
#include "proto/mark.h"
#include "wasi/wasi.h"

enum { EXIT_USAGE = 2, EXIT_LOAD = 3, EXIT_TRAP = 134 };
#define MAX_PARAMS 16 /* path_open has the most: 9 */
#define USAGE                                                                                      \
    "usage: lumos-interp [--dir HOST::GUEST]... [--env K=V]... [--] MODULE.wasm [ARGS...]\n"       \
    "       lumos-interp --fuzz-exec MODULE.wasm\n"
#define VERSION "1.0"

static __attribute__((noreturn, format(printf, 2, 3))) void die(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("lumos: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

static __attribute__((noreturn)) void usage(const char *why) {
    fprintf(stderr, "lumos-interp: %s\n" USAGE, why);
    exit(EXIT_USAGE);
}

/* A module's bytes: mapped from a regular file (the interpreter borrows them,
 * so the data section is neither read nor copied up front), else read. */
typedef struct {
    uint8_t *data;
    size_t len;
    int mapped;
} module_bytes;

static module_bytes read_module(const char *path) {
    module_bytes b = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die(EXIT_LOAD, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            b.data = p, b.len = (size_t)st.st_size, b.mapped = 1;
            return b;
        }
    }
    size_t cap = 1 << 16;
    ssize_t got;
    b.data = malloc(cap);
    if (!b.data) die(EXIT_LOAD, "cannot read %s: out of memory", path);
    while ((got = read(fd, b.data + b.len, cap - b.len)) != 0) {
        if (got < 0) {
            if (errno == EINTR) continue;
            die(EXIT_LOAD, "cannot read %s: %s", path, strerror(errno));
        }
        b.len += (size_t)got;
        if (b.len == cap) {
            uint8_t *d = realloc(b.data, cap *= 2);
            if (!d) die(EXIT_LOAD, "cannot read %s: out of memory", path);
            b.data = d;
        }
    }
    close(fd);
    return b;
}

static void release_module(module_bytes *b) {
    if (b->mapped)
        munmap(b->data, b->len);
    else
        free(b->data);
    b->data = NULL;
}

static const char *type_name(uint8_t t) {
    switch (t) {
    case LM_INTERP_I32: return "i32";
    case LM_INTERP_I64: return "i64";
    case LM_INTERP_F32: return "f32";
    case LM_INTERP_F64: return "f64";
    case LM_INTERP_FUNCREF: return "funcref";
    case LM_INTERP_EXTERNREF: return "externref";
    }
    return "?";
}

static const char *kind_name(enum lm_interp_kind k) {
    static const char *names[] = {"func", "table", "memory", "global"};
    return (unsigned)k < 4 ? names[k] : "?";
}

/* "(i32, i32) -> (i32)", as the wabt runner writes a function type. */
static void describe(char *out, size_t size, const lm_interp_functype *t) {
    size_t n = (size_t)snprintf(out, size, "(");
    for (uint32_t i = 0; i < t->nparams && n < size; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%s", i ? ", " : "", type_name(t->params[i]));
    if (n < size) n += (size_t)snprintf(out + n, size - n, ") -> (");
    for (uint32_t i = 0; i < t->nresults && n < size; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%s", i ? ", " : "", type_name(t->results[i]));
    if (n < size) snprintf(out + n, size - n, ")");
}

static void describe_letters(char *out, size_t size, const char *params, const char *results) {
    uint8_t p[MAX_PARAMS], r[2];
    lm_interp_functype t = {(uint32_t)strlen(params), (uint32_t)strlen(results), p, r};
    for (uint32_t i = 0; i < t.nparams && i < MAX_PARAMS; i++)
        p[i] = params[i] == 'I' ? LM_INTERP_I64 : LM_INTERP_I32;
    for (uint32_t i = 0; i < t.nresults && i < 2; i++)
        r[i] = results[i] == 'I' ? LM_INTERP_I64 : LM_INTERP_I32;
    describe(out, size, &t);
}

/* ---- WASI mode ---- */

static lm_wasi *wasi;

/* One WASI call: i32 arguments as their u32 bit patterns, the memory as it
 * is now (memory.grow may have moved it). */
static int call_wasi(void *ctx, lm_interp_instance *caller, uint64_t *args, char *msg) {
    const lm_wasi_func *wf = ctx;
    uint64_t a[MAX_PARAMS];
    for (size_t i = 0; wf->params[i]; i++)
        a[i] = wf->params[i] == 'I' ? args[i] : (uint32_t)args[i];
    lm_wasi_mem mem = {NULL, 0};
    mem.base = lm_interp_memory(caller, &mem.size);
    uint32_t rc = wf->fn(wasi, mem, a);
    if (wf->results[0]) args[0] = rc;
    (void)msg;
    return 0;
}

/* Checks every import against the WASI host: names each one it cannot
 * serve and exits, as the wabt runner does. */
static void check_imports(const lm_interp_module *m, const char *path) {
    char errors[8192] = "";
    size_t n = 0;
    for (size_t i = 0; i < lm_interp_import_count(m); i++) {
        const lm_interp_import *im = lm_interp_import_at(m, i);
        int wasi_mod = !strcmp(im->module, "wasi_snapshot_preview1");
        const lm_wasi_func *wf = wasi_mod ? lm_wasi_find(im->name) : NULL;
        if (!wf) {
            n += (size_t)snprintf(errors + n, sizeof(errors) - n, "\n  import %s.%s (%s): %s",
                                  im->module, im->name, kind_name(im->kind),
                                  wasi_mod ? "WASI preview1 has no such function"
                                           : "not provided; Lumos provides only "
                                             "wasi_snapshot_preview1 functions");
        } else {
            char want[256], have[256];
            describe_letters(want, sizeof(want), wf->params, wf->results);
            int same = im->kind == LM_INTERP_FUNC && im->func.nparams == strlen(wf->params) &&
                       im->func.nresults == strlen(wf->results);
            for (uint32_t k = 0; same && k < im->func.nparams; k++)
                same = im->func.params[k] == (wf->params[k] == 'I' ? LM_INTERP_I64 : LM_INTERP_I32);
            for (uint32_t k = 0; same && k < im->func.nresults; k++)
                same = im->func.results[k] == LM_INTERP_I32;
            if (!same) {
                if (im->kind == LM_INTERP_FUNC) {
                    char d[240];
                    describe(d, sizeof(d), &im->func);
                    snprintf(have, sizeof(have), "func %s", d);
                } else {
                    snprintf(have, sizeof(have), "%s", kind_name(im->kind));
                }
                n += (size_t)snprintf(errors + n, sizeof(errors) - n,
                                      "\n  import %s.%s: declared as %s, but WASI preview1 has "
                                      "func %s",
                                      im->module, im->name, have, want);
            }
        }
        if (n >= sizeof(errors)) break;
    }
    if (errors[0]) die(EXIT_LOAD, "cannot link %s:%s", path, errors);
}

static int resolve_wasi(void *ud, const lm_interp_import *im, lm_interp_binding *b, char *why) {
    (void)ud;
    const lm_wasi_func *wf = lm_wasi_find(im->name);
    if (!wf) {
        snprintf(why, LM_INTERP_ERRLEN, "not provided");
        return -1;
    }
    b->fn = call_wasi;
    b->ctx = (void *)wf;
    return 0;
}

/* The trap's words as wasm-aot prints them. */
static const char *aot_words(lm_interp_trap t, const lm_interp_instance *inst) {
    switch (t) {
    case LM_INTERP_TRAP_UNDEFINED_ELEMENT:
    case LM_INTERP_TRAP_UNINITIALIZED_ELEMENT:
    case LM_INTERP_TRAP_INDIRECT_MISMATCH:
        return "indirect call: undefined element or type mismatch";
    case LM_INTERP_TRAP_HOST: return lm_interp_trap_text(inst);
    default: return lm_interp_trap_message(t);
    }
}

static int marks;
static lm_interp_instance *running;

/* The deadline: interrupts the guest, again every 10 ms until it stops
 * (an interrupt can race with the guest's own fuel update). */
static void on_deadline(int sig) {
    (void)sig;
    if (running) lm_interp_interrupt(running);
}

/* LUMOS_INTERP_FUEL and LUMOS_INTERP_DEADLINE_MS, for inst. */
static void limit(lm_interp_instance *inst) {
    const char *fuel = getenv("LUMOS_INTERP_FUEL"), *ms = getenv("LUMOS_INTERP_DEADLINE_MS");
    if (fuel && *fuel) lm_interp_set_fuel(inst, strtoll(fuel, NULL, 10));
    if (ms && *ms) {
        long v = strtol(ms, NULL, 10);
        running = inst;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_deadline;
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval t = {{0, 10000}, {v / 1000, (v % 1000) * 1000 + (v <= 0)}};
        setitimer(ITIMER_REAL, &t, NULL);
    }
}

static int run_wasi(int argc, char **argv) {
    const char *dirs_host[256], *dirs_guest[256];
    lm_wasi_dir dirs[256];
    int ndirs = 0, nenv = 0, i = 1;
    char **env = calloc((size_t)argc + 1, sizeof(char *));
    if (!env) die(EXIT_LOAD, "out of memory");
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "--version")) {
            printf("lumos-interp (Lumos interpreter %s)\n", VERSION);
            exit(0);
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf(USAGE);
            exit(0);
        }
        if (strncmp(a, "--", 2)) break;
        if (i + 1 >= argc) {
            char why[300];
            snprintf(why, sizeof(why), "option %.200s needs a value", a);
            usage(why);
        }
        char *v = argv[++i];
        if (!strcmp(a, "--dir")) {
            if (ndirs >= 256) usage("too many --dir options");
            char *sep = strstr(v, "::");
            if (sep) {
                *sep = 0;
                dirs_guest[ndirs] = sep + 2;
            } else {
                dirs_guest[ndirs] = v;
            }
            dirs_host[ndirs++] = v;
        } else if (!strcmp(a, "--env")) {
            if (!strchr(v, '=')) {
                char why[300];
                snprintf(why, sizeof(why), "--env %.200s: expected K=V", v);
                usage(why);
            }
            env[nenv++] = v;
        } else {
            char why[300];
            snprintf(why, sizeof(why), "unknown option %.200s", a);
            usage(why);
        }
    }
    if (i >= argc) usage("no module given");
    const char *path = argv[i];

    uint64_t load_ns = lm_mark_now();
    lm_interp_warm_heap(LM_INTERP_WARM_HEAP_BYTES);
    module_bytes bytes = read_module(path);
    char err[LM_INTERP_ERRLEN];
    lm_interp_module *m = lm_interp_load_borrowing(bytes.data, bytes.len, err);
    if (!m) die(EXIT_LOAD, "cannot load %s: not a valid WebAssembly module:\n  %s", path, err);
    if (marks) {
        uint64_t kinds[2] = {LM_MARK_LOAD_BEGIN, LM_MARK_LOADED}, ts[2] = {load_ns, lm_mark_now()};
        uint8_t frame[LM_FRAME_HEADER + 2 * LM_MARK_RECORD];
        size_t n = lm_mark_frame(frame, kinds, ts, 2);
        if (write(1, frame, n) != (ssize_t)n) marks = 0;
    }
    long start = lm_interp_find_export(m, "_start", LM_INTERP_FUNC);
    if (start < 0)
        die(EXIT_LOAD, "cannot run %s: it exports no _start function (not a WASI command module)",
            path);
    lm_interp_functype st = lm_interp_export_functype(m, (size_t)start);
    if (st.nparams || st.nresults) {
        char d[256];
        describe(d, sizeof(d), &st);
        die(EXIT_LOAD, "cannot run %s: its _start is func %s, expected () -> ()", path, d);
    }
    check_imports(m, path);

    for (int k = 0; k < ndirs; k++)
        dirs[k] = (lm_wasi_dir){dirs_host[k], dirs_guest[k]};
    lm_wasi_config cfg = {argc - i, argv + i, env, dirs, ndirs, 0, 1, 2};
    char werr[LM_WASI_ERRLEN] = "";
    wasi = lm_wasi_new(&cfg, werr);
    if (!wasi) die(EXIT_LOAD, "cannot run %s: %s", path, werr);

    int status = 0;
    lm_interp_trap trap;
    lm_interp_instance *inst = lm_interp_instantiate(m, resolve_wasi, NULL, err, &trap);
    if (!inst) {
        fprintf(stderr, "lumos: cannot instantiate %s: %s\n", path, err);
        status = EXIT_LOAD;
    } else {
        limit(inst);
        lm_interp_trap t = lm_interp_invoke(inst, (size_t)start, NULL, NULL);
        /* The deadline is over once the guest stops. */
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        running = NULL;
        if (t) {
            fprintf(stderr, "lumos: wasm trap: %s\n", aot_words(t, inst));
            status = EXIT_TRAP;
        }
    }
    lm_wasi_free(wasi);
    lm_interp_instance_free(inst);
    lm_interp_release_failed();
    lm_interp_module_free(m);
    release_module(&bytes);
    free(env);
    return status;
}

/* ---- fuzz mode ---- */

/* A value as the differential fuzzer compares it (docs/wasm-interp-wabt.md):
 * integers signed decimal, floats as bit patterns, every NaN the canonical
 * one of its type (the specification leaves NaN payloads and signs open). */
static void print_value(uint8_t type, uint64_t v) {
    switch (type) {
    case LM_INTERP_I32: printf("%" PRId32, (int32_t)(uint32_t)v); break;
    case LM_INTERP_I64: printf("%" PRId64, (int64_t)v); break;
    case LM_INTERP_F32: {
        uint32_t b = (uint32_t)v;
        if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu)) b = 0x7fc00000u;
        printf("0x%08" PRIx32, b);
        break;
    }
    case LM_INTERP_F64:
        if ((v & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (v & 0x000fffffffffffffull))
            v = 0x7ff8000000000000ull;
        printf("0x%016" PRIx64, v);
        break;
    default: printf("%s", v ? "ref" : "null"); break;
    }
}

static int fuzz_log(void *ctx, lm_interp_instance *caller, uint64_t *args, char *msg) {
    (void)caller, (void)msg;
    uint8_t type = (uint8_t)(uintptr_t)ctx;
    printf("log %s ", type_name(type));
    print_value(type, args[0]);
    putchar('\n');
    return 0;
}

static int resolve_fuzz(void *ud, const lm_interp_import *im, lm_interp_binding *b, char *why) {
    (void)ud;
    static const struct {
        const char *name;
        uint8_t type;
    } logs[] = {{"log-i32", LM_INTERP_I32},
                {"log-i64", LM_INTERP_I64},
                {"log-f32", LM_INTERP_F32},
                {"log-f64", LM_INTERP_F64}};
    if (!strcmp(im->module, "fuzzing-support") && im->kind == LM_INTERP_FUNC)
        for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
            if (!strcmp(im->name, logs[i].name)) {
                if (im->func.nparams != 1 || im->func.params[0] != logs[i].type ||
                    im->func.nresults) {
                    snprintf(why, LM_INTERP_ERRLEN, "expected (%s) -> ()", type_name(logs[i].type));
                    return -1;
                }
                b->fn = fuzz_log;
                b->ctx = (void *)(uintptr_t)logs[i].type;
                return 0;
            }
    snprintf(why, LM_INTERP_ERRLEN, "not provided by the fuzz harness");
    return -1;
}

/* The trap classes both interpreters name alike (docs/wasm-interp-wabt.md). */
static const char *trap_kind(lm_interp_trap t) {
    switch (t) {
    case LM_INTERP_TRAP_UNREACHABLE: return "unreachable";
    case LM_INTERP_TRAP_MEMORY_OOB: return "out of bounds memory";
    case LM_INTERP_TRAP_TABLE_OOB: return "out of bounds table";
    case LM_INTERP_TRAP_DIV_ZERO: return "integer divide by zero";
    case LM_INTERP_TRAP_INT_OVERFLOW: return "integer overflow";
    case LM_INTERP_TRAP_CONVERSION: return "invalid conversion";
    case LM_INTERP_TRAP_UNDEFINED_ELEMENT:
    case LM_INTERP_TRAP_UNINITIALIZED_ELEMENT: return "undefined element";
    case LM_INTERP_TRAP_INDIRECT_MISMATCH: return "indirect call type mismatch";
    case LM_INTERP_TRAP_EXHAUSTION: return "call stack exhausted";
    case LM_INTERP_TRAP_FUEL: return "other: out of fuel";
    default: return "other: host";
    }
}

/* Fuel for each export of a fuzz module: binaryen's modules stop their own
 * loops (a hang limit), this only bounds a bug. */
#define FUZZ_FUEL 100000000

static int run_fuzz(const char *path) {
    module_bytes bytes = read_module(path);
    char err[LM_INTERP_ERRLEN];
    lm_interp_module *m = lm_interp_load_borrowing(bytes.data, bytes.len, err);
    if (!m) die(EXIT_LOAD, "cannot load %s: not a valid WebAssembly module:\n  %s", path, err);
    lm_interp_trap trap;
    lm_interp_instance *inst = lm_interp_instantiate(m, resolve_fuzz, NULL, err, &trap);
    if (!inst) {
        if (!trap) die(EXIT_LOAD, "cannot instantiate %s: %s", path, err);
        printf("instantiate trap %s\n", trap_kind(trap));
    } else {
        for (size_t e = 0; e < lm_interp_export_count(m); e++) {
            enum lm_interp_kind kind;
            const char *name = lm_interp_export_at(m, e, &kind);
            if (kind != LM_INTERP_FUNC) continue;
            lm_interp_functype ft = lm_interp_export_functype(m, e);
            uint64_t args[256] = {0}, results[256];
            if (ft.nparams > 256 || ft.nresults > 256) continue;
            lm_interp_set_fuel(inst, FUZZ_FUEL);
            lm_interp_trap t = lm_interp_invoke(inst, e, args, results);
            if (t) {
                printf("call %s trap %s\n", name, trap_kind(t));
                continue;
            }
            printf("call %s ->", name);
            for (uint32_t k = 0; k < ft.nresults; k++) {
                printf(" %s ", type_name(ft.results[k]));
                print_value(ft.results[k], results[k]);
            }
            putchar('\n');
        }
    }
    uint64_t size = 0;
    uint8_t *mem = inst ? lm_interp_memory(inst, &size) : NULL;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
    for (uint64_t k = 0; k < size; k++)
        h = (h ^ mem[k]) * 0x100000001b3ull;
    if (!inst) {
        /* nothing follows an instantiation trap */
    } else if (!mem) {
        printf("memory none\n");
    } else {
        printf("memory %" PRIu64 " %016" PRIx64 "\n", size / 65536, h);
    }
    lm_interp_instance_free(inst);
    lm_interp_release_failed();
    lm_interp_module_free(m);
    release_module(&bytes);
    return 0;
}

int main(int argc, char **argv) {
    uint64_t main_ns = lm_mark_now();
    /* A function instance's runner reports its cold start's marks on the
     * channel (LUMOS_MARKS, set by lumos); a plain command does not. */
    marks = getenv("LUMOS_MARKS") != NULL;
    if (marks) lm_mark_write(1, LM_MARK_PROGRAM, main_ns);
    if (argc >= 2 && !strcmp(argv[1], "--fuzz-exec")) {
        if (argc != 3) usage("--fuzz-exec takes one module");
        return run_fuzz(argv[2]);
    }
    return run_wasi(argc, argv);
}
