/* interp.h -- Lumos' own WebAssembly interpreter: a module is decoded and
 * validated once, at load, and each function translated into a compact
 * internal code (branch targets and operand slots resolved, a few common
 * sequences fused) that a threaded loop runs (docs/interp.md).
 *
 * Scope: the MVP with mutable globals, sign extension, non-trapping
 * float-to-int, bulk memory, reference types (funcref/externref, tables)
 * and multi-value. No SIMD, threads, exceptions, tail calls, memory64 or
 * multi-memory.
 *
 * Values cross this interface as 64-bit cells: i32 and f32 in the low 32
 * bits (zero-extended bit patterns), i64 and f64 as their 64 bits, a
 * reference as an opaque non-zero cell (0 is null). An instance runs on one
 * thread at a time. */
#ifndef LM_INTERP_H
#define LM_INTERP_H

#include <stddef.h>
#include <stdint.h>

/* Value types, by their binary encoding. */
enum lm_interp_type {
    LM_INTERP_I32 = 0x7f,
    LM_INTERP_I64 = 0x7e,
    LM_INTERP_F32 = 0x7d,
    LM_INTERP_F64 = 0x7c,
    LM_INTERP_FUNCREF = 0x70,
    LM_INTERP_EXTERNREF = 0x6f
};

/* Extern kinds, by their binary encoding. */
enum lm_interp_kind {
    LM_INTERP_FUNC = 0,
    LM_INTERP_TABLE = 1,
    LM_INTERP_MEMORY = 2,
    LM_INTERP_GLOBAL = 3
};

/* Why a call stopped. LM_INTERP_TRAP_NONE is success. */
typedef enum {
    LM_INTERP_TRAP_NONE = 0,
    LM_INTERP_TRAP_UNREACHABLE,
    LM_INTERP_TRAP_MEMORY_OOB,
    LM_INTERP_TRAP_TABLE_OOB,
    LM_INTERP_TRAP_DIV_ZERO,
    LM_INTERP_TRAP_INT_OVERFLOW,
    LM_INTERP_TRAP_CONVERSION,
    LM_INTERP_TRAP_UNDEFINED_ELEMENT,
    LM_INTERP_TRAP_UNINITIALIZED_ELEMENT,
    LM_INTERP_TRAP_INDIRECT_MISMATCH,
    LM_INTERP_TRAP_EXHAUSTION,
    LM_INTERP_TRAP_FUEL,
    LM_INTERP_TRAP_HOST /* a host function failed; its message is kept */
} lm_interp_trap;

/* The trap's message in the words of the WebAssembly spec's tests
 * ("integer divide by zero"); a static string. */
const char *lm_interp_trap_message(lm_interp_trap t);

/* A function type: param and result types (enum lm_interp_type). */
typedef struct {
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
} lm_interp_functype;

typedef struct lm_interp_module lm_interp_module;
typedef struct lm_interp_instance lm_interp_instance;

#define LM_INTERP_ERRLEN 256

/* Decodes, validates and translates a binary module (bytes are not kept).
 * NULL with a message in err (LM_INTERP_ERRLEN bytes) when the module is
 * malformed or invalid; the message starts with "malformed: " or
 * "invalid: " and says at which byte. */
lm_interp_module *lm_interp_load(const uint8_t *bytes, size_t len, char *err);
/* As lm_interp_load, but the module keeps pointers into bytes (its data
 * segments), which must stay unchanged until lm_interp_module_free: no copy
 * of a large data section, e.g. for a module mapped from its file. */
lm_interp_module *lm_interp_load_borrowing(const uint8_t *bytes, size_t len, char *err);
/* For a process that exists to load and run one module (lumos-interp): makes
 * the next `bytes` of malloc's heap resident in one call and keeps them, so
 * the load does not pay a page fault per fresh heap page it writes (about
 * 10 us each on a virtual machine, 0.5 us populated). Changes malloc's trim
 * and mmap thresholds for the whole process; a no-op under AddressSanitizer. */
void lm_interp_warm_heap(size_t bytes);
/* What lumos-interp warms before it loads: each byte stays resident in every
 * instance. The noop module's cold-start load phase (bench/start_time, three
 * alternating rounds): none 1.39-1.49 ms, 256 KiB 1.36-1.38, 512 KiB 1.41-1.48
 * (and 0.4 MiB more per instance). */
#define LM_INTERP_WARM_HEAP_BYTES (256u << 10)
/* NULL is a harmless no-op. A module must outlive its instances. */
void lm_interp_module_free(lm_interp_module *m);

/* One import of a module, as declared. */
typedef struct {
    const char *module, *name;
    enum lm_interp_kind kind;
    lm_interp_functype func; /* kind FUNC */
    uint8_t global_type;     /* kind GLOBAL */
    int global_mutable;
    uint8_t table_type; /* kind TABLE */
    uint64_t limit_min; /* TABLE, MEMORY: pages or elements */
    uint64_t limit_max; /* UINT64_MAX when none */
} lm_interp_import;

size_t lm_interp_import_count(const lm_interp_module *m);
/* The i-th import; the strings belong to the module. */
const lm_interp_import *lm_interp_import_at(const lm_interp_module *m, size_t i);

/* A host function: args holds the parameters, and receives the results
 * (the cells are shared: write results after reading arguments). Returns
 * 0, or non-zero to trap the caller with the message written into msg
 * (LM_INTERP_ERRLEN bytes). mem is the caller's memory at the time of the
 * call (NULL, 0 when it has none). */
typedef int (*lm_interp_host_fn)(void *ctx, lm_interp_instance *caller, uint64_t *args, char *msg);

/* What an import is bound to. For FUNC: either host (fn, ctx) or an export
 * of another instance (from, index); for the other kinds an export of
 * another instance. */
typedef struct {
    lm_interp_host_fn fn;
    void *ctx;
    lm_interp_instance *from; /* NULL for a host function */
    uint32_t export_index;    /* an index of lm_interp_export_at of from */
} lm_interp_binding;

/* Resolves one import: fills *b and returns 0, or returns non-zero with a
 * reason in why (LM_INTERP_ERRLEN bytes). */
typedef int (*lm_interp_resolve_fn)(void *ud, const lm_interp_import *imp, lm_interp_binding *b,
                                    char *why);

/* Instantiates m: resolves every import through resolve (their types are
 * checked), allocates memory, tables and globals, applies the segments and
 * runs the start function. NULL with a message in err when an import is
 * unknown or of the wrong type ("cannot link: ..."), or when a segment or
 * the start function traps ("trap: MESSAGE"; *trap, when not NULL, gets
 * the kind, else LM_INTERP_TRAP_NONE). The caller frees the instance; it
 * must outlive the instances that import from it. */
lm_interp_instance *lm_interp_instantiate(const lm_interp_module *m, lm_interp_resolve_fn resolve,
                                          void *ud, char *err, lm_interp_trap *trap);
/* NULL is a harmless no-op. */
void lm_interp_instance_free(lm_interp_instance *inst);
/* Frees the instances whose instantiation trapped (kept alive till now, as
 * a table they wrote into may still call their functions). */
void lm_interp_release_failed(void);

/* Exports, in the module's order. */
size_t lm_interp_export_count(const lm_interp_module *m);
/* The i-th export's name and kind; NULL past the end. */
const char *lm_interp_export_at(const lm_interp_module *m, size_t i, enum lm_interp_kind *kind);
/* The index of the export named name of kind, or -1. */
long lm_interp_find_export(const lm_interp_module *m, const char *name, enum lm_interp_kind kind);
/* The same for a name of len bytes (names may hold NUL bytes). */
long lm_interp_find_export_n(const lm_interp_module *m, const char *name, size_t len,
                             enum lm_interp_kind kind);
/* The type of exported function export_index (a FUNC export). */
lm_interp_functype lm_interp_export_functype(const lm_interp_module *m, size_t export_index);

/* Calls exported function export_index with args (its param count) and
 * writes its results into results. Returns LM_INTERP_TRAP_NONE or the trap
 * (lm_interp_trap_text gives the message: for a host trap, the host's). */
lm_interp_trap lm_interp_invoke(lm_interp_instance *inst, size_t export_index, const uint64_t *args,
                                uint64_t *results);
/* The message of the instance's last trap (static or the host's text). */
const char *lm_interp_trap_text(const lm_interp_instance *inst);

/* The exported global's cell and type (NULL when export_index is not a
 * global); writable when the global is mutable. */
uint64_t *lm_interp_export_global(lm_interp_instance *inst, size_t export_index, uint8_t *type);
/* The instance's memory (its own or imported) as it is now: base and size
 * in bytes; NULL, 0 when it has none. memory.grow may move it. */
uint8_t *lm_interp_memory(lm_interp_instance *inst, uint64_t *size);

/* Fuel: every loop iteration and function entry spends one unit; at zero
 * the guest traps LM_INTERP_TRAP_FUEL. The default is unlimited. */
void lm_interp_set_fuel(lm_interp_instance *inst, int64_t fuel);
/* Makes the running guest trap with LM_INTERP_TRAP_FUEL at its next loop
 * iteration or call (safe from a signal handler: a deadline). */
void lm_interp_interrupt(lm_interp_instance *inst);

/* Limits of the value stack (cells) and of call depth; each instance has
 * its own stack of LM_INTERP_STACK_CELLS cells (8 MiB). */
#define LM_INTERP_STACK_CELLS (1u << 20)
#define LM_INTERP_MAX_DEPTH 40000

#endif
