/* internal.h -- what the interpreter's files share: the module as decoded,
 * the internal code, the instance, and the op lists that the translator
 * (compile.c) and the threaded loop (exec.c) both expand.
 *
 * The internal code is an array of cells. An instruction is one cell with
 * its handler's address (computed goto) followed by its operands: frame
 * slots (cell index from the frame pointer fp: locals first, then the
 * operand stack at heights known at translation time), immediates, and
 * branch targets (cell pointers). A call's frame starts at the caller's
 * slot of its first argument, so arguments are never copied. */
#ifndef LM__INTERP_INTERNAL_H
#define LM__INTERP_INTERNAL_H

#include <stdint.h>

#include "interp/interp.h"

typedef union lm__cell {
    const void *op;
    int64_t i;
    uint64_t u;
    void *p;
    const union lm__cell *t;
} lm__cell;

/* A function's internal code. */
typedef struct {
    lm__cell *code;
    uint32_t ncells;
    uint32_t nparams, nlocals; /* nlocals counts the params */
    uint32_t frame_cells;      /* locals plus the deepest operand stack */
    uint32_t type;             /* index into the module's types */
} lm__code;

/* A constant expression (globals' initial values, segment offsets, element
 * items): one instruction and end. */
typedef struct {
    uint8_t
        op; /* 0x41 i32.const, 0x42, 0x43, 0x44, 0x23 global.get, 0xd0 ref.null, 0xd2 ref.func */
    uint8_t type;
    uint64_t value; /* the constant's bits, the global's or function's index */
} lm__const;

typedef struct {
    uint8_t type, mut;
    lm__const init;
} lm__global_decl;

typedef struct {
    uint8_t type;
    uint64_t min, max; /* max UINT64_MAX: none */
} lm__limits;

enum { LM__SEG_ACTIVE, LM__SEG_PASSIVE, LM__SEG_DECLARATIVE };

typedef struct {
    uint8_t mode, type;
    uint32_t table;
    lm__const offset;
    uint32_t n;
    lm__const *items;
} lm__elem;

typedef struct {
    uint8_t mode;
    lm__const offset;
    uint32_t len;
    const uint8_t *bytes;
} lm__data;

typedef struct {
    char *name;
    uint32_t name_len; /* names may hold NUL bytes */
    uint8_t kind;
    uint32_t index;
} lm__export;

struct lm_interp_module {
    uint32_t ntypes;
    lm_interp_functype *types;
    uint32_t nimports;
    lm_interp_import *imports;
    uint32_t *import_index; /* for each import: its index in its kind's space */
    uint32_t nfuncs, nfunc_imports;
    uint32_t *func_types; /* type index of every function, imports first */
    lm__code *codes;      /* the defined functions' code (nfuncs - nfunc_imports) */
    uint32_t ntables, ntable_imports;
    lm__limits *tables;
    uint32_t nmems, nmem_imports;
    lm__limits mem;
    uint32_t nglobals, nglobal_imports;
    lm__global_decl *globals;
    uint32_t nexports;
    lm__export *exports;
    int64_t start; /* -1: none */
    uint32_t nelems;
    lm__elem *elems;
    /* Data segments: the section's bytes [data_sec, data_end), the caller's
     * (borrowing) or data_bytes, a copy; datas[] only when some segment is
     * passive (decode.c's data_section says why). */
    uint32_t ndatas, npassive_datas;
    lm__data *datas;
    const uint8_t *data_sec, *data_end;
    uint8_t *data_bytes;
    int borrowing, has_data_section;
    /* [data_lo, data_hi): the bytes active segments with constant offsets
     * write, made resident in one call at instantiation (0, 0: unknown). */
    uint64_t data_lo, data_hi;
    int has_datacount;
    uint32_t datacount;
    uint8_t *declared_funcs; /* functions ref.func may name (C.refs) */
    /* The translated code's arena (lm__code_alloc): one mapping made resident
     * at once, so a cold process does not fault on each page it writes. */
    uint8_t *arena;
    size_t arena_size, arena_used;
};

/* Makes m's code arena for a code section of section_bytes (a guess of the
 * translated size; none when the mapping fails: code then comes from malloc). */
void lm__code_arena(lm_interp_module *m, size_t section_bytes);
/* bytes (a multiple of 8) of translated code: from m's arena while it lasts,
 * else from malloc; NULL when out of memory. lm__code_free releases either. */
void *lm__code_alloc(lm_interp_module *m, size_t bytes);
void lm__code_free(lm_interp_module *m, void *p);
/* Returns the arena's untouched whole pages after the last body. */
void lm__code_arena_trim(lm_interp_module *m);
/* Makes [p, p + len) resident in one call where the kernel can (pages
 * rounded outward; a no-op elsewhere): a first touch costs a fault per page. */
void lm__populate(void *p, size_t len);

/* A function as a value: of a wasm instance, or the host's. */
typedef struct lm__func {
    const lm_interp_functype *type;
    lm_interp_instance *inst; /* NULL for a host function */
    const lm__code *code;
    lm_interp_host_fn host;
    void *ctx;
} lm__func;

typedef struct {
    uint8_t *data;
    uint64_t size; /* bytes */
    uint64_t pages, max;
} lm__memory;

typedef struct {
    uint64_t *elems; /* references: lm__func * as an integer for funcref, 0 null */
    uint64_t size, max;
    uint8_t type;
} lm__table;

struct lm_interp_instance {
    const lm_interp_module *mod;
    lm__func **funcs;     /* every function, imports first */
    lm__func *own_funcs;  /* the defined ones */
    lm__func *host_funcs; /* imports bound to the host */
    uint64_t **globals;   /* a cell each, own or imported */
    uint64_t *own_globals;
    lm__table **tables;
    lm__table *own_tables;
    lm__memory *mem; /* NULL: none */
    lm__memory own_mem;
    uint8_t *data_dropped, *elem_dropped;
    volatile int64_t fuel;
    const char *trap_text;
    char host_msg[LM_INTERP_ERRLEN];
};

/* The operand stack and call frames of the running thread. */
typedef struct {
    uint64_t *base, *end;
    struct lm__frame {
        const lm__cell *ret;
        uint64_t *fp;
    } * frames;
    uint32_t depth;
} lm__stack;

lm__stack *lm__thread_stack(void);

/* Runs code c of instance inst with its frame at fp (arguments in place);
 * its results are left at fp[0...]. */
lm_interp_trap lm__exec(lm_interp_instance *inst, const lm__code *c, uint64_t *fp);
/* The handler addresses, indexed by enum lm__op. */
const void *const *lm__handlers(void);
/* Calls f (wasm or host) with args/results at fp. */
lm_interp_trap lm__call(lm_interp_instance *caller, const lm__func *f, uint64_t *fp);

/* Structural equality of function types (call_indirect, imports). */
int lm__functype_eq(const lm_interp_functype *a, const lm_interp_functype *b);

/* Spec message of a trap. */
const char *lm__trap_text(lm_interp_trap t);

/* Binary ops: X(opcode, name, operand type, result type). */
#define LM__BINOPS(X)                                                                              \
    X(0x46, i32_eq, I32, I32)                                                                      \
    X(0x47, i32_ne, I32, I32)                                                                      \
    X(0x48, i32_lt_s, I32, I32)                                                                    \
    X(0x49, i32_lt_u, I32, I32)                                                                    \
    X(0x4a, i32_gt_s, I32, I32)                                                                    \
    X(0x4b, i32_gt_u, I32, I32)                                                                    \
    X(0x4c, i32_le_s, I32, I32)                                                                    \
    X(0x4d, i32_le_u, I32, I32)                                                                    \
    X(0x4e, i32_ge_s, I32, I32)                                                                    \
    X(0x4f, i32_ge_u, I32, I32)                                                                    \
    X(0x51, i64_eq, I64, I32)                                                                      \
    X(0x52, i64_ne, I64, I32)                                                                      \
    X(0x53, i64_lt_s, I64, I32)                                                                    \
    X(0x54, i64_lt_u, I64, I32)                                                                    \
    X(0x55, i64_gt_s, I64, I32)                                                                    \
    X(0x56, i64_gt_u, I64, I32)                                                                    \
    X(0x57, i64_le_s, I64, I32)                                                                    \
    X(0x58, i64_le_u, I64, I32)                                                                    \
    X(0x59, i64_ge_s, I64, I32)                                                                    \
    X(0x5a, i64_ge_u, I64, I32)                                                                    \
    X(0x5b, f32_eq, F32, I32)                                                                      \
    X(0x5c, f32_ne, F32, I32)                                                                      \
    X(0x5d, f32_lt, F32, I32)                                                                      \
    X(0x5e, f32_gt, F32, I32)                                                                      \
    X(0x5f, f32_le, F32, I32)                                                                      \
    X(0x60, f32_ge, F32, I32)                                                                      \
    X(0x61, f64_eq, F64, I32)                                                                      \
    X(0x62, f64_ne, F64, I32)                                                                      \
    X(0x63, f64_lt, F64, I32)                                                                      \
    X(0x64, f64_gt, F64, I32)                                                                      \
    X(0x65, f64_le, F64, I32)                                                                      \
    X(0x66, f64_ge, F64, I32)                                                                      \
    X(0x6a, i32_add, I32, I32)                                                                     \
    X(0x6b, i32_sub, I32, I32)                                                                     \
    X(0x6c, i32_mul, I32, I32)                                                                     \
    X(0x6d, i32_div_s, I32, I32)                                                                   \
    X(0x6e, i32_div_u, I32, I32)                                                                   \
    X(0x6f, i32_rem_s, I32, I32)                                                                   \
    X(0x70, i32_rem_u, I32, I32)                                                                   \
    X(0x71, i32_and, I32, I32)                                                                     \
    X(0x72, i32_or, I32, I32)                                                                      \
    X(0x73, i32_xor, I32, I32)                                                                     \
    X(0x74, i32_shl, I32, I32)                                                                     \
    X(0x75, i32_shr_s, I32, I32)                                                                   \
    X(0x76, i32_shr_u, I32, I32)                                                                   \
    X(0x77, i32_rotl, I32, I32)                                                                    \
    X(0x78, i32_rotr, I32, I32)                                                                    \
    X(0x7c, i64_add, I64, I64)                                                                     \
    X(0x7d, i64_sub, I64, I64)                                                                     \
    X(0x7e, i64_mul, I64, I64)                                                                     \
    X(0x7f, i64_div_s, I64, I64)                                                                   \
    X(0x80, i64_div_u, I64, I64)                                                                   \
    X(0x81, i64_rem_s, I64, I64)                                                                   \
    X(0x82, i64_rem_u, I64, I64)                                                                   \
    X(0x83, i64_and, I64, I64)                                                                     \
    X(0x84, i64_or, I64, I64)                                                                      \
    X(0x85, i64_xor, I64, I64)                                                                     \
    X(0x86, i64_shl, I64, I64)                                                                     \
    X(0x87, i64_shr_s, I64, I64)                                                                   \
    X(0x88, i64_shr_u, I64, I64)                                                                   \
    X(0x89, i64_rotl, I64, I64)                                                                    \
    X(0x8a, i64_rotr, I64, I64)                                                                    \
    X(0x92, f32_add, F32, F32)                                                                     \
    X(0x93, f32_sub, F32, F32)                                                                     \
    X(0x94, f32_mul, F32, F32)                                                                     \
    X(0x95, f32_div, F32, F32)                                                                     \
    X(0x96, f32_min, F32, F32)                                                                     \
    X(0x97, f32_max, F32, F32)                                                                     \
    X(0x98, f32_copysign, F32, F32)                                                                \
    X(0xa0, f64_add, F64, F64)                                                                     \
    X(0xa1, f64_sub, F64, F64)                                                                     \
    X(0xa2, f64_mul, F64, F64)                                                                     \
    X(0xa3, f64_div, F64, F64)                                                                     \
    X(0xa4, f64_min, F64, F64)                                                                     \
    X(0xa5, f64_max, F64, F64)                                                                     \
    X(0xa6, f64_copysign, F64, F64)

/* Unary ops (0xfc-prefixed ones as 0xfc00 | sub-opcode). */
#define LM__UNOPS(X)                                                                               \
    X(0x45, i32_eqz, I32, I32)                                                                     \
    X(0x50, i64_eqz, I64, I32)                                                                     \
    X(0x67, i32_clz, I32, I32)                                                                     \
    X(0x68, i32_ctz, I32, I32)                                                                     \
    X(0x69, i32_popcnt, I32, I32)                                                                  \
    X(0x79, i64_clz, I64, I64)                                                                     \
    X(0x7a, i64_ctz, I64, I64)                                                                     \
    X(0x7b, i64_popcnt, I64, I64)                                                                  \
    X(0x8b, f32_abs, F32, F32)                                                                     \
    X(0x8c, f32_neg, F32, F32)                                                                     \
    X(0x8d, f32_ceil, F32, F32)                                                                    \
    X(0x8e, f32_floor, F32, F32)                                                                   \
    X(0x8f, f32_trunc, F32, F32)                                                                   \
    X(0x90, f32_nearest, F32, F32)                                                                 \
    X(0x91, f32_sqrt, F32, F32)                                                                    \
    X(0x99, f64_abs, F64, F64)                                                                     \
    X(0x9a, f64_neg, F64, F64)                                                                     \
    X(0x9b, f64_ceil, F64, F64)                                                                    \
    X(0x9c, f64_floor, F64, F64)                                                                   \
    X(0x9d, f64_trunc, F64, F64)                                                                   \
    X(0x9e, f64_nearest, F64, F64)                                                                 \
    X(0x9f, f64_sqrt, F64, F64)                                                                    \
    X(0xa7, i32_wrap_i64, I64, I32)                                                                \
    X(0xa8, i32_trunc_f32_s, F32, I32)                                                             \
    X(0xa9, i32_trunc_f32_u, F32, I32)                                                             \
    X(0xaa, i32_trunc_f64_s, F64, I32)                                                             \
    X(0xab, i32_trunc_f64_u, F64, I32)                                                             \
    X(0xac, i64_extend_i32_s, I32, I64)                                                            \
    X(0xae, i64_trunc_f32_s, F32, I64)                                                             \
    X(0xaf, i64_trunc_f32_u, F32, I64)                                                             \
    X(0xb0, i64_trunc_f64_s, F64, I64)                                                             \
    X(0xb1, i64_trunc_f64_u, F64, I64)                                                             \
    X(0xb2, f32_convert_i32_s, I32, F32)                                                           \
    X(0xb3, f32_convert_i32_u, I32, F32)                                                           \
    X(0xb4, f32_convert_i64_s, I64, F32)                                                           \
    X(0xb5, f32_convert_i64_u, I64, F32)                                                           \
    X(0xb6, f32_demote_f64, F64, F32)                                                              \
    X(0xb7, f64_convert_i32_s, I32, F64)                                                           \
    X(0xb8, f64_convert_i32_u, I32, F64)                                                           \
    X(0xb9, f64_convert_i64_s, I64, F64)                                                           \
    X(0xba, f64_convert_i64_u, I64, F64)                                                           \
    X(0xbb, f64_promote_f32, F32, F64)                                                             \
    X(0xc0, i32_extend8_s, I32, I32)                                                               \
    X(0xc1, i32_extend16_s, I32, I32)                                                              \
    X(0xc2, i64_extend8_s, I64, I64)                                                               \
    X(0xc3, i64_extend16_s, I64, I64)                                                              \
    X(0xc4, i64_extend32_s, I64, I64)                                                              \
    X(0xfc00, i32_trunc_sat_f32_s, F32, I32)                                                       \
    X(0xfc01, i32_trunc_sat_f32_u, F32, I32)                                                       \
    X(0xfc02, i32_trunc_sat_f64_s, F64, I32)                                                       \
    X(0xfc03, i32_trunc_sat_f64_u, F64, I32)                                                       \
    X(0xfc04, i64_trunc_sat_f32_s, F32, I64)                                                       \
    X(0xfc05, i64_trunc_sat_f32_u, F32, I64)                                                       \
    X(0xfc06, i64_trunc_sat_f64_s, F64, I64)                                                       \
    X(0xfc07, i64_trunc_sat_f64_u, F64, I64)

/* Integer compares fused with a following br_if (or if): X(name, C type, C operator);
 * each also as br_NAME_imm, the compare against an immediate. */
#define LM__BRCMPS(X)                                                                              \
    X(i32_eq, uint32_t, ==)                                                                        \
    X(i32_ne, uint32_t, !=)                                                                        \
    X(i32_lt_s, int32_t, <)                                                                        \
    X(i32_lt_u, uint32_t, <)                                                                       \
    X(i32_gt_s, int32_t, >)                                                                        \
    X(i32_gt_u, uint32_t, >)                                                                       \
    X(i32_le_s, int32_t, <=)                                                                       \
    X(i32_le_u, uint32_t, <=)                                                                      \
    X(i32_ge_s, int32_t, >=)                                                                       \
    X(i32_ge_u, uint32_t, >=)                                                                      \
    X(i64_eq, uint64_t, ==)                                                                        \
    X(i64_ne, uint64_t, !=)                                                                        \
    X(i64_lt_s, int64_t, <)                                                                        \
    X(i64_lt_u, uint64_t, <)                                                                       \
    X(i64_gt_s, int64_t, >)                                                                        \
    X(i64_gt_u, uint64_t, >)                                                                       \
    X(i64_le_s, int64_t, <=)                                                                       \
    X(i64_le_u, uint64_t, <=)                                                                      \
    X(i64_ge_s, int64_t, >=)                                                                       \
    X(i64_ge_u, uint64_t, >=)

/* Binary ops with an immediate second operand: X(name) (f64 ones with the
 * constant's bits; integer compares
 * included: with br_if or if they become LM__BRCMPS' _imm forms). */
#define LM__IMMOPS(X)                                                                              \
    X(i32_eq)                                                                                      \
    X(i32_ne)                                                                                      \
    X(i32_lt_s)                                                                                    \
    X(i32_lt_u)                                                                                    \
    X(i32_gt_s)                                                                                    \
    X(i32_gt_u)                                                                                    \
    X(i32_le_s)                                                                                    \
    X(i32_le_u)                                                                                    \
    X(i32_ge_s)                                                                                    \
    X(i32_ge_u)                                                                                    \
    X(i64_eq)                                                                                      \
    X(i64_ne)                                                                                      \
    X(i64_lt_s)                                                                                    \
    X(i64_lt_u)                                                                                    \
    X(i64_gt_s)                                                                                    \
    X(i64_gt_u)                                                                                    \
    X(i64_le_s)                                                                                    \
    X(i64_le_u)                                                                                    \
    X(i64_ge_s)                                                                                    \
    X(i64_ge_u)                                                                                    \
    X(i32_add)                                                                                     \
    X(i32_sub)                                                                                     \
    X(i32_mul)                                                                                     \
    X(i32_and)                                                                                     \
    X(i32_or)                                                                                      \
    X(i32_xor)                                                                                     \
    X(i32_shl)                                                                                     \
    X(i32_shr_s)                                                                                   \
    X(i32_shr_u)                                                                                   \
    X(i32_rotl)                                                                                    \
    X(i32_rotr)                                                                                    \
    X(i64_add)                                                                                     \
    X(i64_sub)                                                                                     \
    X(i64_mul)                                                                                     \
    X(i64_and)                                                                                     \
    X(i64_or)                                                                                      \
    X(i64_xor)                                                                                     \
    X(i64_shl)                                                                                     \
    X(i64_shr_s)                                                                                   \
    X(i64_shr_u)                                                                                   \
    X(f64_eq)                                                                                      \
    X(f64_ne)                                                                                      \
    X(f64_lt)                                                                                      \
    X(f64_gt)                                                                                      \
    X(f64_le)                                                                                      \
    X(f64_ge)                                                                                      \
    X(f64_add)                                                                                     \
    X(f64_sub)                                                                                     \
    X(f64_mul)                                                                                     \
    X(f64_div)

/* Every other op: X(name). */
#define LM__MISCOPS(X)                                                                             \
    X(unreachable)                                                                                 \
    X(br)                                                                                          \
    X(br_if)                                                                                       \
    X(br_unless)                                                                                   \
    X(br_table)                                                                                    \
    X(return0)                                                                                     \
    X(return1)                                                                                     \
    X(returnn)                                                                                     \
    X(call)                                                                                        \
    X(call_import)                                                                                 \
    X(call_indirect)                                                                               \
    X(copy)                                                                                        \
    X(const)                                                                                       \
    X(fuel)                                                                                        \
    X(select)                                                                                      \
    X(global_get)                                                                                  \
    X(global_set)                                                                                  \
    X(ld32)                                                                                        \
    X(ld64)                                                                                        \
    X(ld8s32)                                                                                      \
    X(ld8u)                                                                                        \
    X(ld16s32)                                                                                     \
    X(ld16u)                                                                                       \
    X(ld8s64)                                                                                      \
    X(ld16s64)                                                                                     \
    X(ld32s64)                                                                                     \
    X(st8)                                                                                         \
    X(st16)                                                                                        \
    X(st32)                                                                                        \
    X(st64)                                                                                        \
    X(ld32_add)                                                                                    \
    X(ld64_add)                                                                                    \
    X(ld8s32_add)                                                                                  \
    X(ld8u_add)                                                                                    \
    X(ld16s32_add)                                                                                 \
    X(ld16u_add)                                                                                   \
    X(ld8s64_add)                                                                                  \
    X(ld16s64_add)                                                                                 \
    X(ld32s64_add)                                                                                 \
    X(st8_add)                                                                                     \
    X(st16_add)                                                                                    \
    X(st32_add)                                                                                    \
    X(st64_add)                                                                                    \
    X(ld32_addk)                                                                                   \
    X(ld64_addk)                                                                                   \
    X(ld8s32_addk)                                                                                 \
    X(ld8u_addk)                                                                                   \
    X(ld16s32_addk)                                                                                \
    X(ld16u_addk)                                                                                  \
    X(ld8s64_addk)                                                                                 \
    X(ld16s64_addk)                                                                                \
    X(ld32s64_addk)                                                                                \
    X(ld32_add3)                                                                                   \
    X(ld64_add3)                                                                                   \
    X(ld8s32_add3)                                                                                 \
    X(ld8u_add3)                                                                                   \
    X(ld16s32_add3)                                                                                \
    X(ld16u_add3)                                                                                  \
    X(ld8s64_add3)                                                                                 \
    X(ld16s64_add3)                                                                                \
    X(ld32s64_add3)                                                                                \
    X(f64_add_st64)                                                                                \
    X(f64_sub_st64)                                                                                \
    X(f64_mul_st64)                                                                                \
    X(i32_add3_imm)                                                                                \
    X(i32_shr_and_imm)                                                                             \
    X(memory_size)                                                                                 \
    X(memory_grow)                                                                                 \
    X(memory_init)                                                                                 \
    X(data_drop)                                                                                   \
    X(memory_copy)                                                                                 \
    X(memory_fill)                                                                                 \
    X(table_get)                                                                                   \
    X(table_set)                                                                                   \
    X(table_size)                                                                                  \
    X(table_grow)                                                                                  \
    X(table_fill)                                                                                  \
    X(table_init)                                                                                  \
    X(elem_drop)                                                                                   \
    X(table_copy)                                                                                  \
    X(ref_func)

#define LM__ENUM_BIN(code, name, in, out) LM__OP_##name,
#define LM__ENUM_BR(name, ctype, cop) LM__OP_br_##name,
#define LM__ENUM_BRI(name, ctype, cop) LM__OP_br_##name##_imm,
#define LM__ENUM_IMM(name) LM__OP_##name##_imm,
#define LM__ENUM_MISC(name) LM__OP_##name,
enum lm__op {
    LM__BINOPS(LM__ENUM_BIN) LM__UNOPS(LM__ENUM_BIN) LM__BRCMPS(LM__ENUM_BR)
        LM__BRCMPS(LM__ENUM_BRI) LM__IMMOPS(LM__ENUM_IMM) LM__MISCOPS(LM__ENUM_MISC) LM__NOPS
};

/* The byte reader of the decoder and the translator: a failure longjmps
 * back to lm_interp_load with the message in err. */
#include <setjmp.h>
typedef struct {
    const uint8_t *base, *p, *end;
    jmp_buf fail;
    char *err;
} lm__reader;

__attribute__((noreturn, format(printf, 3, 4))) void lm__fail(lm__reader *r, int invalid,
                                                              const char *fmt, ...);
uint8_t lm__u8(lm__reader *r);
uint32_t lm__u32(lm__reader *r);
int32_t lm__s32(lm__reader *r);
int64_t lm__s33(lm__reader *r);
int64_t lm__s64(lm__reader *r);
/* A valtype byte; fails as malformed on anything else. */
uint8_t lm__valtype(lm__reader *r);
int lm__is_ref(uint8_t t);

/* Calls fn for each data segment in order, its bytes in the module's buffer;
 * stops at fn's first non-zero result and returns it (0 when all ran). */
typedef int (*lm__data_fn)(void *arg, uint32_t index, const lm__data *d);
int lm__data_each(const lm_interp_module *m, lm__data_fn fn, void *arg);

/* Translates body [r->p, r->end) of defined function fi of m into m->codes. */
void lm__compile_body(lm_interp_module *m, uint32_t fi, lm__reader *r);
/* Frees what lm__compile_body keeps between functions (NULL-safe). */
void lm__compile_done(void);

#endif
