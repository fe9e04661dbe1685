/* exec.c -- the threaded loop: each handler ends by jumping straight to
 * the next instruction's handler (GCC/clang computed goto), with pc, the
 * frame pointer and the memory's base and size in locals the compiler
 * keeps in registers. Calls between functions of one instance stay in
 * the loop (a frame record each); calls to the host or to another
 * instance go through lm__call. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "interp/internal.h"

static lm__stack stack;

lm__stack *lm__thread_stack(void) {
    if (!stack.base) {
        stack.base = calloc(LM_INTERP_STACK_CELLS, sizeof(uint64_t));
        stack.frames = calloc(LM_INTERP_MAX_DEPTH + 2, sizeof(*stack.frames));
        if (!stack.base || !stack.frames) {
            free(stack.base);
            free(stack.frames);
            stack.base = NULL;
            stack.frames = NULL;
            return NULL;
        }
        stack.end = stack.base + LM_INTERP_STACK_CELLS;
    }
    return &stack;
}

/* ---- numbers ---- */

static inline float f32_of(uint64_t v) {
    uint32_t u = (uint32_t)v;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline uint64_t of_f32(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline double f64_of(uint64_t v) {
    double d;
    memcpy(&d, &v, 8);
    return d;
}
static inline uint64_t of_f64(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* min and max as the spec has them: NaN wins, -0 < +0. */
static inline float f32_min(float a, float b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float f32_max(float a, float b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double f64_min(double a, double b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double f64_max(double a, double b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == b) return signbit(a) ? b : a;
    return a > b ? a : b;
}

static inline uint32_t rotl32(uint32_t a, uint32_t b) {
    b &= 31;
    return b ? (a << b) | (a >> (32 - b)) : a;
}
static inline uint32_t rotr32(uint32_t a, uint32_t b) {
    b &= 31;
    return b ? (a >> b) | (a << (32 - b)) : a;
}
static inline uint64_t rotl64(uint64_t a, uint64_t b) {
    b &= 63;
    return b ? (a << b) | (a >> (64 - b)) : a;
}
static inline uint64_t rotr64(uint64_t a, uint64_t b) {
    b &= 63;
    return b ? (a >> b) | (a << (64 - b)) : a;
}

/* Saturating truncations (the non-trapping conversions). */
#define SAT(name, ftype, itype, lo, hi, min, max)                                                  \
    static inline itype name(ftype x) {                                                            \
        if (isnan(x)) return 0;                                                                    \
        if (x <= (lo)) return (min);                                                               \
        if (x >= (hi)) return (max);                                                               \
        return (itype)x;                                                                           \
    }
SAT(sat_i32_s_f32, float, int32_t, -2147483904.0f, 2147483648.0f, INT32_MIN, INT32_MAX)
SAT(sat_i32_u_f32, float, uint32_t, -1.0f, 4294967296.0f, 0, UINT32_MAX)
SAT(sat_i32_s_f64, double, int32_t, -2147483649.0, 2147483648.0, INT32_MIN, INT32_MAX)
SAT(sat_i32_u_f64, double, uint32_t, -1.0, 4294967296.0, 0, UINT32_MAX)
SAT(sat_i64_s_f32, float, int64_t, -9223373136366403584.0f, 9223372036854775808.0f, INT64_MIN,
    INT64_MAX)
SAT(sat_i64_u_f32, float, uint64_t, -1.0f, 18446744073709551616.0f, 0, UINT64_MAX)
SAT(sat_i64_s_f64, double, int64_t, -9223372036854777856.0, 9223372036854775808.0, INT64_MIN,
    INT64_MAX)
SAT(sat_i64_u_f64, double, uint64_t, -1.0, 18446744073709551616.0, 0, UINT64_MAX)

const char *lm__trap_text(lm_interp_trap t) {
    switch (t) {
    case LM_INTERP_TRAP_NONE: return "no trap";
    case LM_INTERP_TRAP_UNREACHABLE: return "unreachable";
    case LM_INTERP_TRAP_MEMORY_OOB: return "out of bounds memory access";
    case LM_INTERP_TRAP_TABLE_OOB: return "out of bounds table access";
    case LM_INTERP_TRAP_DIV_ZERO: return "integer divide by zero";
    case LM_INTERP_TRAP_INT_OVERFLOW: return "integer overflow";
    case LM_INTERP_TRAP_CONVERSION: return "invalid conversion to integer";
    case LM_INTERP_TRAP_UNDEFINED_ELEMENT: return "undefined element";
    case LM_INTERP_TRAP_UNINITIALIZED_ELEMENT: return "uninitialized element";
    case LM_INTERP_TRAP_INDIRECT_MISMATCH: return "indirect call type mismatch";
    case LM_INTERP_TRAP_EXHAUSTION: return "call stack exhausted";
    case LM_INTERP_TRAP_FUEL: return "fuel exhausted";
    case LM_INTERP_TRAP_HOST: return "host function failed";
    }
    return "unknown trap";
}

const char *lm_interp_trap_message(lm_interp_trap t) { return lm__trap_text(t); }

static const void *const *handler_table;

const void *const *lm__handlers(void) {
    if (!handler_table) lm__exec(NULL, NULL, NULL);
    return handler_table;
}

lm_interp_trap lm__call(lm_interp_instance *caller, const lm__func *f, uint64_t *fp) {
    if (f->inst) {
        lm_interp_trap t = lm__exec(f->inst, f->code, fp);
        if (t) caller->trap_text = f->inst->trap_text;
        return t;
    }
    if (f->host(f->ctx, caller, fp, caller->host_msg)) {
        caller->trap_text = caller->host_msg;
        return LM_INTERP_TRAP_HOST;
    }
    /* Keep i32 and f32 results zero-extended, as the code assumes. */
    for (uint32_t i = 0; i < f->type->nresults; i++)
        if (f->type->results[i] == LM_INTERP_I32 || f->type->results[i] == LM_INTERP_F32)
            fp[i] = (uint32_t)fp[i];
    return LM_INTERP_TRAP_NONE;
}

/* Operands of the current instruction. */
#define O1 pc[1].i
#define O2 pc[2].i
#define O3 pc[3].i
#define O4 pc[4].i
#define O5 pc[5].i
#define NEXT() goto * pc->op
#define TRAP(k)                                                                                    \
    do {                                                                                           \
        trap = LM_INTERP_TRAP_##k;                                                                 \
        goto trapped;                                                                              \
    } while (0)
#define RELOAD()                                                                                   \
    do {                                                                                           \
        if (inst->mem) mb = inst->mem->data, ms = inst->mem->size;                                 \
    } while (0)

#define U32(s) ((uint32_t)fp[s])
#define S32(s) ((int32_t)(uint32_t)fp[s])
#define U64(s) (fp[s])
#define S64(s) ((int64_t)fp[s])
#define F32(s) f32_of(fp[s])
#define F64(s) f64_of(fp[s])

/* d = x OP y: the handler's label, the operands' C type, where they come
 * from (two slots, or a slot and the immediate in pc[3]) and how the
 * result is stored. */
#define BINOP(label, T, A, B, PUT)                                                                 \
    L_##label : {                                                                                  \
        T a = A, b = B;                                                                            \
        fp[O1] = PUT;                                                                              \
        pc += 4;                                                                                   \
        NEXT();                                                                                    \
    }
#define BIN32(name, expr) BINOP(name, uint32_t, U32(O2), U32(O3), (uint32_t)(expr))
#define IMM32(name, expr) BINOP(name##_imm, uint32_t, U32(O2), (uint32_t)pc[3].u, (uint32_t)(expr))
#define BIN64(name, expr) BINOP(name, uint64_t, U64(O2), U64(O3), (uint64_t)(expr))
#define IMM64(name, expr) BINOP(name##_imm, uint64_t, U64(O2), pc[3].u, (uint64_t)(expr))
#define CMPF32(name, expr) BINOP(name, float, F32(O2), F32(O3), (uint32_t)(expr))
#define CMPF64(name, expr) BINOP(name, double, F64(O2), F64(O3), (uint32_t)(expr))
#define CMPF64I(name, expr) BINOP(name##_imm, double, F64(O2), f64_of(pc[3].u), (uint32_t)(expr))
#define ARF64I(name, expr) BINOP(name##_imm, double, F64(O2), f64_of(pc[3].u), of_f64(expr))
#define ARF32(name, expr) BINOP(name, float, F32(O2), F32(O3), of_f32(expr))
#define ARF64(name, expr) BINOP(name, double, F64(O2), F64(O3), of_f64(expr))
/* The six float compares, each of two f32 slots, of two f64 slots and of
 * an f64 slot and a constant. */
#define FCMPS(X) X(eq, ==) X(ne, !=) X(lt, <) X(gt, >) X(le, <=) X(ge, >=)
#define FCMP(name, cop)                                                                            \
    CMPF32(f32_##name, a cop b) CMPF64(f64_##name, a cop b) CMPF64I(f64_##name, a cop b)
/* d = f(x): the operand as type T read by GET, the result stored by PUT. */
#define UN(name, T, GET, PUT)                                                                      \
    L_##name : {                                                                                   \
        T a = GET(O2);                                                                             \
        fp[O1] = PUT;                                                                              \
        pc += 3;                                                                                   \
        NEXT();                                                                                    \
    }
/* A trapping truncation: NaN and values outside (lo, hi) trap. */
#define TRUNC(name, GET, T, lo, hi)                                                                \
    L_##name : {                                                                                   \
        double a = GET(O2);                                                                        \
        if (isnan(a)) TRAP(CONVERSION);                                                            \
        if (!(a > (lo) && a < (hi))) TRAP(INT_OVERFLOW);                                           \
        fp[O1] = (uint64_t)(T)a;                                                                   \
        if (sizeof(T) == 4) fp[O1] = (uint32_t)fp[O1];                                             \
        pc += 3;                                                                                   \
        NEXT();                                                                                    \
    }
#define BRCMP(name, ctype, cop)                                                                    \
    L_br_##name : {                                                                                \
        if ((ctype)fp[O1] cop(ctype) fp[O2]) {                                                     \
            pc = pc[3].t;                                                                          \
            NEXT();                                                                                \
        }                                                                                          \
        pc += 4;                                                                                   \
        NEXT();                                                                                    \
    }
/* An integer compare (LM__BRCMPS' list) to a 0 or 1, of two slots or of a
 * slot and an immediate: d, x, y; d, x, k. */
#define CMP(name, ctype, cop) BINOP(name, ctype, (ctype)fp[O2], (ctype)fp[O3], (uint32_t)(a cop b))
#define CMPIMM(name, ctype, cop)                                                                   \
    BINOP(name##_imm, ctype, (ctype)fp[O2], (ctype)pc[3].u, (uint32_t)(a cop b))
#define BRCMPI(name, ctype, cop)                                                                   \
    L_br_##name##_imm : {                                                                          \
        if ((ctype)fp[O1] cop(ctype) pc[2].u) {                                                    \
            pc = pc[3].t;                                                                          \
            NEXT();                                                                                \
        }                                                                                          \
        pc += 4;                                                                                   \
        NEXT();                                                                                    \
    }
/* Memory access at the address in slot s plus the offset imm, n bytes. */
#define EA(s, off, n)                                                                              \
    uint64_t ea = (uint64_t)U32(s) + (uint64_t)(off);                                              \
    if (ea + (n) > ms) TRAP(MEMORY_OOB);
#define LOAD(name, T, PUT)                                                                         \
    L_##name : {                                                                                   \
        EA(O2, pc[3].u, sizeof(T));                                                                \
        T v;                                                                                       \
        memcpy(&v, mb + ea, sizeof(T));                                                            \
        fp[O1] = PUT;                                                                              \
        pc += 4;                                                                                   \
        NEXT();                                                                                    \
    }
#define STORE(name, T)                                                                             \
    L_##name : {                                                                                   \
        EA(O1, pc[3].u, sizeof(T));                                                                \
        T v = (T)fp[O2];                                                                           \
        memcpy(mb + ea, &v, sizeof(T));                                                            \
        pc += 4;                                                                                   \
        NEXT();                                                                                    \
    }
/* The same with the address an i32.add of slots x and y just made (fused at
 * translation): d, x, y, offset for a load; x, y, value, offset for a store. */
#define EA2(x, y, off, n)                                                                          \
    uint64_t ea = (uint64_t)(uint32_t)(U32(x) + U32(y)) + (uint64_t)(off);                         \
    if (ea + (n) > ms) TRAP(MEMORY_OOB);
#define LOAD_ADD(name, T, PUT)                                                                     \
    L_##name##_add : {                                                                             \
        EA2(O2, O3, pc[4].u, sizeof(T));                                                           \
        T v;                                                                                       \
        memcpy(&v, mb + ea, sizeof(T));                                                            \
        fp[O1] = PUT;                                                                              \
        pc += 5;                                                                                   \
        NEXT();                                                                                    \
    }
#define STORE_ADD(name, T)                                                                         \
    L_##name##_add : {                                                                             \
        EA2(O1, O2, pc[4].u, sizeof(T));                                                           \
        T v = (T)fp[O3];                                                                           \
        memcpy(mb + ea, &v, sizeof(T));                                                            \
        pc += 5;                                                                                   \
        NEXT();                                                                                    \
    }

/* A load whose address an i32.add_imm (x + k) or an add of three (x + y + k)
 * just wrote to slot a, a stack slot or (local.tee) a local: the load makes
 * the address itself and still writes a, which later code may read. d, a, x,
 * k, offset; d, a, x, y, k, offset. a is written before d: they may be one
 * slot. */
#define LOAD_AT(T, PUT, addr, off)                                                                 \
    uint32_t at = (addr);                                                                          \
    fp[O2] = at;                                                                                   \
    uint64_t ea = (uint64_t)at + (uint64_t)(off);                                                  \
    if (ea + sizeof(T) > ms) TRAP(MEMORY_OOB);                                                     \
    T v;                                                                                           \
    memcpy(&v, mb + ea, sizeof(T));                                                                \
    fp[O1] = PUT;
#define LOAD_ADDK(name, T, PUT)                                                                    \
    L_##name##_addk : {                                                                            \
        LOAD_AT(T, PUT, U32(O3) + (uint32_t)pc[4].u, pc[5].u)                                      \
        pc += 6;                                                                                   \
        NEXT();                                                                                    \
    }
#define LOAD_ADD3(name, T, PUT)                                                                    \
    L_##name##_add3 : {                                                                            \
        LOAD_AT(T, PUT, U32(O3) + U32(O4) + (uint32_t)pc[5].u, pc[6].u)                            \
        pc += 7;                                                                                   \
        NEXT();                                                                                    \
    }

/* An f64 op whose result a store takes: d, x, y as the op's, then the
 * store's address slot and offset. The result is still written to d (a
 * local.tee's local, mostly); the address is read before. */
#define ARF64_ST(name, expr)                                                                       \
    L_##name##_st64 : {                                                                            \
        double a = F64(O2), b = F64(O3);                                                           \
        uint64_t r = of_f64(expr);                                                                 \
        EA(O4, pc[5].u, 8);                                                                        \
        fp[O1] = r;                                                                                \
        memcpy(mb + ea, &r, 8);                                                                    \
        pc += 6;                                                                                   \
        NEXT();                                                                                    \
    }

/* The loads and stores: X(name, memory type, the loaded value v as a slot). */
#define LOADS(X)                                                                                   \
    X(ld32, uint32_t, v)                                                                           \
    X(ld64, uint64_t, v)                                                                           \
    X(ld8s32, int8_t, (uint32_t)(int32_t)v)                                                        \
    X(ld8u, uint8_t, v)                                                                            \
    X(ld16s32, int16_t, (uint32_t)(int32_t)v)                                                      \
    X(ld16u, uint16_t, v)                                                                          \
    X(ld8s64, int8_t, (uint64_t)(int64_t)v)                                                        \
    X(ld16s64, int16_t, (uint64_t)(int64_t)v)                                                      \
    X(ld32s64, int32_t, (uint64_t)(int64_t)v)
#define STORES(X)                                                                                  \
    X(st8, uint8_t)                                                                                \
    X(st16, uint16_t)                                                                              \
    X(st32, uint32_t)                                                                              \
    X(st64, uint64_t)

lm_interp_trap lm__exec(lm_interp_instance *inst, const lm__code *c, uint64_t *fp) {
#define LABEL_BIN(code, name, in, out) [LM__OP_##name] = &&L_##name,
#define LABEL_BR(name, ctype, cop) [LM__OP_br_##name] = &&L_br_##name,
#define LABEL_BRI(name, ctype, cop) [LM__OP_br_##name##_imm] = &&L_br_##name##_imm,
#define LABEL_IMM(name) [LM__OP_##name##_imm] = &&L_##name##_imm,
#define LABEL_MISC(name) [LM__OP_##name] = &&L_##name,
    static const void *const labels[LM__NOPS] = {
        LM__BINOPS(LABEL_BIN) LM__UNOPS(LABEL_BIN) LM__BRCMPS(LABEL_BR) LM__BRCMPS(LABEL_BRI)
            LM__IMMOPS(LABEL_IMM) LM__MISCOPS(LABEL_MISC)};
    if (!inst) {
        handler_table = labels;
        return LM_INTERP_TRAP_NONE;
    }
    lm__stack *st = lm__thread_stack();
    lm_interp_trap trap = LM_INTERP_TRAP_NONE;
    if (!st || st->depth >= LM_INTERP_MAX_DEPTH || fp + c->frame_cells > st->end) {
        inst->trap_text = lm__trap_text(LM_INTERP_TRAP_EXHAUSTION);
        return LM_INTERP_TRAP_EXHAUSTION;
    }
    uint32_t entry = st->depth;
    st->frames[st->depth++] = (struct lm__frame){NULL, NULL};
    memset(fp + c->nparams, 0, (size_t)(c->nlocals - c->nparams) * sizeof(uint64_t));
    uint8_t *mb = NULL;
    uint64_t ms = 0;
    uint64_t *const *globals = inst->globals;
    RELOAD();
    const lm__cell *pc = c->code;
    if (--inst->fuel < 0) TRAP(FUEL);
    NEXT();

    /* ---- integers ---- */
    LM__BRCMPS(CMP)    /* i32.eq ... i64.ge_u */
    LM__BRCMPS(CMPIMM) /* the same against an immediate */
    BIN32(i32_add, a + b)
    BIN32(i32_sub, a - b)
    BIN32(i32_mul, a * b)
    BIN32(i32_and, a & b)
    BIN32(i32_or, a | b)
    BIN32(i32_xor, a ^ b)
    BIN32(i32_shl, a << (b & 31))
    BIN32(i32_shr_s, (uint32_t)((int32_t)a >> (b & 31)))
    BIN32(i32_shr_u, a >> (b & 31))
    BIN32(i32_rotl, rotl32(a, b))
    BIN32(i32_rotr, rotr32(a, b))
    IMM32(i32_add, a + b)
    IMM32(i32_sub, a - b)
    IMM32(i32_mul, a * b)
    IMM32(i32_and, a & b)
    IMM32(i32_or, a | b)
    IMM32(i32_xor, a ^ b)
    IMM32(i32_shl, a << (b & 31))
    IMM32(i32_shr_s, (uint32_t)((int32_t)a >> (b & 31)))
    IMM32(i32_shr_u, a >> (b & 31))
    IMM32(i32_rotl, rotl32(a, b))
    IMM32(i32_rotr, rotr32(a, b))
    BIN64(i64_add, a + b)
    BIN64(i64_sub, a - b)
    BIN64(i64_mul, a * b)
    BIN64(i64_and, a & b)
    BIN64(i64_or, a | b)
    BIN64(i64_xor, a ^ b)
    BIN64(i64_shl, a << (b & 63))
    BIN64(i64_shr_s, (uint64_t)((int64_t)a >> (b & 63)))
    BIN64(i64_shr_u, a >> (b & 63))
    BIN64(i64_rotl, rotl64(a, b))
    BIN64(i64_rotr, rotr64(a, b))
    IMM64(i64_add, a + b)
    IMM64(i64_sub, a - b)
    IMM64(i64_mul, a * b)
    IMM64(i64_and, a & b)
    IMM64(i64_or, a | b)
    IMM64(i64_xor, a ^ b)
    IMM64(i64_shl, a << (b & 63))
    IMM64(i64_shr_s, (uint64_t)((int64_t)a >> (b & 63)))
    IMM64(i64_shr_u, a >> (b & 63))

L_i32_add3_imm: /* d = x + y + k: (x + k) + y with x + k just made */
    fp[O1] = (uint32_t)(U32(O2) + U32(O3) + (uint32_t)pc[4].u);
    pc += 5;
    NEXT();
L_i32_shr_and_imm: /* d = (x >> s) & m: a bit field (a byte of a word, a table index) */
    fp[O1] = (U32(O2) >> (pc[3].u & 31)) & (uint32_t)pc[4].u;
    pc += 5;
    NEXT();
L_i32_div_s : {
    int32_t a = S32(O2), b = S32(O3);
    if (b == 0) TRAP(DIV_ZERO);
    if (a == INT32_MIN && b == -1) TRAP(INT_OVERFLOW);
    fp[O1] = (uint32_t)(a / b);
    pc += 4;
    NEXT();
}
L_i32_div_u : {
    uint32_t a = U32(O2), b = U32(O3);
    if (b == 0) TRAP(DIV_ZERO);
    fp[O1] = a / b;
    pc += 4;
    NEXT();
}
L_i32_rem_s : {
    int32_t a = S32(O2), b = S32(O3);
    if (b == 0) TRAP(DIV_ZERO);
    fp[O1] = (b == -1) ? 0 : (uint32_t)(a % b);
    pc += 4;
    NEXT();
}
L_i32_rem_u : {
    uint32_t a = U32(O2), b = U32(O3);
    if (b == 0) TRAP(DIV_ZERO);
    fp[O1] = a % b;
    pc += 4;
    NEXT();
}
L_i64_div_s : {
    int64_t a = S64(O2), b = S64(O3);
    if (b == 0) TRAP(DIV_ZERO);
    if (a == INT64_MIN && b == -1) TRAP(INT_OVERFLOW);
    fp[O1] = (uint64_t)(a / b);
    pc += 4;
    NEXT();
}
L_i64_div_u : {
    uint64_t a = U64(O2), b = U64(O3);
    if (b == 0) TRAP(DIV_ZERO);
    fp[O1] = a / b;
    pc += 4;
    NEXT();
}
L_i64_rem_s : {
    int64_t a = S64(O2), b = S64(O3);
    if (b == 0) TRAP(DIV_ZERO);
    fp[O1] = (b == -1) ? 0 : (uint64_t)(a % b);
    pc += 4;
    NEXT();
}
L_i64_rem_u : {
    uint64_t a = U64(O2), b = U64(O3);
    if (b == 0) TRAP(DIV_ZERO);
    fp[O1] = a % b;
    pc += 4;
    NEXT();
}

    UN(i32_eqz, uint32_t, U32, (uint64_t)(a == 0))
    UN(i64_eqz, uint64_t, U64, (uint64_t)(a == 0))
    UN(i32_clz, uint32_t, U32, (uint64_t)(a ? __builtin_clz(a) : 32))
    UN(i32_ctz, uint32_t, U32, (uint64_t)(a ? __builtin_ctz(a) : 32))
    UN(i32_popcnt, uint32_t, U32, (uint64_t)__builtin_popcount(a))
    UN(i64_clz, uint64_t, U64, (uint64_t)(a ? __builtin_clzll(a) : 64))
    UN(i64_ctz, uint64_t, U64, (uint64_t)(a ? __builtin_ctzll(a) : 64))
    UN(i64_popcnt, uint64_t, U64, (uint64_t)__builtin_popcountll(a))
    UN(i32_wrap_i64, uint64_t, U64, (uint32_t)a)
    UN(i64_extend_i32_s, int32_t, S32, (uint64_t)(int64_t)a)
    UN(i32_extend8_s, uint32_t, U32, (uint32_t)(int32_t)(int8_t)a)
    UN(i32_extend16_s, uint32_t, U32, (uint32_t)(int32_t)(int16_t)a)
    UN(i64_extend8_s, uint64_t, U64, (uint64_t)(int64_t)(int8_t)a)
    UN(i64_extend16_s, uint64_t, U64, (uint64_t)(int64_t)(int16_t)a)
    UN(i64_extend32_s, uint64_t, U64, (uint64_t)(int64_t)(int32_t)a)

    /* ---- floats ---- */
    FCMPS(FCMP)
    ARF32(f32_add, a + b)
    ARF32(f32_sub, a - b)
    ARF32(f32_mul, a * b)
    ARF32(f32_div, a / b)
    ARF32(f32_min, f32_min(a, b))
    ARF32(f32_max, f32_max(a, b))
    ARF64(f64_add, a + b)
    ARF64(f64_sub, a - b)
    ARF64(f64_mul, a * b)
    ARF64(f64_div, a / b)
    ARF64(f64_min, f64_min(a, b))
    ARF64(f64_max, f64_max(a, b))
    ARF64_ST(f64_add, a + b)
    ARF64_ST(f64_sub, a - b)
    ARF64_ST(f64_mul, a * b)
    ARF64I(f64_add, a + b)
    ARF64I(f64_sub, a - b)
    ARF64I(f64_mul, a * b)
    ARF64I(f64_div, a / b)
L_f32_copysign : {
    uint64_t a = U32(O2), b = U32(O3);
    fp[O1] = (a & 0x7fffffffu) | (b & 0x80000000u);
    pc += 4;
    NEXT();
}
L_f64_copysign : {
    uint64_t a = U64(O2), b = U64(O3);
    fp[O1] = (a & ~(1ull << 63)) | (b & (1ull << 63));
    pc += 4;
    NEXT();
}
    /* abs and neg touch only the sign bit, NaNs included. */
    UN(f32_abs, uint32_t, U32, a & 0x7fffffffu)
    UN(f32_neg, uint32_t, U32, a ^ 0x80000000u)
    UN(f64_abs, uint64_t, U64, a & ~(1ull << 63))
    UN(f64_neg, uint64_t, U64, a ^ (1ull << 63))
    UN(f32_ceil, float, F32, of_f32(isnan(a) ? a + a : ceilf(a)))
    UN(f32_floor, float, F32, of_f32(isnan(a) ? a + a : floorf(a)))
    UN(f32_trunc, float, F32, of_f32(isnan(a) ? a + a : truncf(a)))
    UN(f32_nearest, float, F32, of_f32(isnan(a) ? a + a : nearbyintf(a)))
    UN(f32_sqrt, float, F32, of_f32(sqrtf(a)))
    UN(f64_ceil, double, F64, of_f64(isnan(a) ? a + a : ceil(a)))
    UN(f64_floor, double, F64, of_f64(isnan(a) ? a + a : floor(a)))
    UN(f64_trunc, double, F64, of_f64(isnan(a) ? a + a : trunc(a)))
    UN(f64_nearest, double, F64, of_f64(isnan(a) ? a + a : nearbyint(a)))
    UN(f64_sqrt, double, F64, of_f64(sqrt(a)))
    TRUNC(i32_trunc_f32_s, F32, int32_t, -2147483904.0, 2147483648.0)
    TRUNC(i32_trunc_f32_u, F32, uint32_t, -1.0, 4294967296.0)
    TRUNC(i32_trunc_f64_s, F64, int32_t, -2147483649.0, 2147483648.0)
    TRUNC(i32_trunc_f64_u, F64, uint32_t, -1.0, 4294967296.0)
    TRUNC(i64_trunc_f32_s, F32, int64_t, -9223373136366403584.0, 9223372036854775808.0)
    TRUNC(i64_trunc_f32_u, F32, uint64_t, -1.0, 18446744073709551616.0)
    TRUNC(i64_trunc_f64_s, F64, int64_t, -9223372036854777856.0, 9223372036854775808.0)
    TRUNC(i64_trunc_f64_u, F64, uint64_t, -1.0, 18446744073709551616.0)
    UN(i32_trunc_sat_f32_s, float, F32, (uint32_t)sat_i32_s_f32(a))
    UN(i32_trunc_sat_f32_u, float, F32, (uint32_t)sat_i32_u_f32(a))
    UN(i32_trunc_sat_f64_s, double, F64, (uint32_t)sat_i32_s_f64(a))
    UN(i32_trunc_sat_f64_u, double, F64, (uint32_t)sat_i32_u_f64(a))
    UN(i64_trunc_sat_f32_s, float, F32, (uint64_t)sat_i64_s_f32(a))
    UN(i64_trunc_sat_f32_u, float, F32, (uint64_t)sat_i64_u_f32(a))
    UN(i64_trunc_sat_f64_s, double, F64, (uint64_t)sat_i64_s_f64(a))
    UN(i64_trunc_sat_f64_u, double, F64, (uint64_t)sat_i64_u_f64(a))
    UN(f32_convert_i32_s, int32_t, S32, of_f32((float)a))
    UN(f32_convert_i32_u, uint32_t, U32, of_f32((float)a))
    UN(f32_convert_i64_s, int64_t, S64, of_f32((float)a))
    UN(f32_convert_i64_u, uint64_t, U64, of_f32((float)a))
    UN(f32_demote_f64, double, F64, of_f32((float)a))
    UN(f64_convert_i32_s, int32_t, S32, of_f64((double)a))
    UN(f64_convert_i32_u, uint32_t, U32, of_f64((double)a))
    UN(f64_convert_i64_s, int64_t, S64, of_f64((double)a))
    UN(f64_convert_i64_u, uint64_t, U64, of_f64((double)a))
    UN(f64_promote_f32, float, F32, of_f64((double)a))

    /* ---- compare and branch ---- */
    LM__BRCMPS(BRCMP)
    LM__BRCMPS(BRCMPI)

    /* ---- memory ---- */
    LOADS(LOAD)
    STORES(STORE)
    LOADS(LOAD_ADD)
    STORES(STORE_ADD)
    LOADS(LOAD_ADDK)
    LOADS(LOAD_ADD3)

L_memory_size:
    fp[O1] = inst->mem->pages;
    pc += 2;
    NEXT();
L_memory_grow : {
    lm__memory *m = inst->mem;
    uint64_t n = U32(O2), old = m->pages;
    uint64_t max = m->max < 65536 ? m->max : 65536;
    fp[O1] = UINT32_MAX;
    if (old + n <= max) {
        uint8_t *d = n ? realloc(m->data, (size_t)((old + n) * 65536 + 1)) : m->data;
        if (d) {
            memset(d + old * 65536, 0, (size_t)(n * 65536));
            m->data = d;
            m->pages = old + n;
            m->size = m->pages * 65536;
            fp[O1] = (uint32_t)old;
        }
    }
    RELOAD();
    pc += 3;
    NEXT();
}
L_memory_init : {
    /* No datas[]: the module has only active segments, dropped once placed. */
    const lm__data *seg =
        inst->data_dropped[O1] || !inst->mod->datas ? NULL : &inst->mod->datas[O1];
    uint64_t d = U32(O2), s = U32(O3), n = U32(O4);
    uint64_t len = seg ? seg->len : 0;
    if (s + n > len || d + n > ms) TRAP(MEMORY_OOB);
    if (n) memcpy(mb + d, seg->bytes + s, (size_t)n);
    pc += 5;
    NEXT();
}
L_data_drop:
    inst->data_dropped[O1] = 1;
    pc += 2;
    NEXT();
L_memory_copy : {
    uint64_t d = U32(O1), s = U32(O2), n = U32(O3);
    if (s + n > ms || d + n > ms) TRAP(MEMORY_OOB);
    if (n) memmove(mb + d, mb + s, (size_t)n);
    pc += 4;
    NEXT();
}
L_memory_fill : {
    uint64_t d = U32(O1), n = U32(O3);
    if (d + n > ms) TRAP(MEMORY_OOB);
    if (n) memset(mb + d, (int)(uint8_t)fp[O2], (size_t)n);
    pc += 4;
    NEXT();
}

    /* ---- tables ---- */
L_table_get : {
    lm__table *t = inst->tables[O2];
    uint32_t i = U32(O3);
    if (i >= t->size) TRAP(TABLE_OOB);
    fp[O1] = t->elems[i];
    pc += 4;
    NEXT();
}
L_table_set : {
    lm__table *t = inst->tables[O1];
    uint32_t i = U32(O2);
    if (i >= t->size) TRAP(TABLE_OOB);
    t->elems[i] = fp[O3];
    pc += 4;
    NEXT();
}
L_table_size:
    fp[O1] = (uint32_t)inst->tables[O2]->size;
    pc += 3;
    NEXT();
L_table_grow : {
    lm__table *t = inst->tables[O2];
    uint64_t n = U32(O4), old = t->size;
    uint64_t max = t->max < (1u << 24) ? t->max : (1u << 24);
    fp[O1] = UINT32_MAX;
    if (old + n <= max) {
        uint64_t *e = realloc(t->elems, (size_t)(old + n + 1) * sizeof(uint64_t));
        if (e) {
            for (uint64_t i = old; i < old + n; i++)
                e[i] = fp[O3];
            t->elems = e;
            t->size = old + n;
            fp[O1] = (uint32_t)old;
        }
    }
    pc += 5;
    NEXT();
}
L_table_fill : {
    lm__table *t = inst->tables[O1];
    uint64_t i = U32(O2), n = U32(O4);
    if (i + n > t->size) TRAP(TABLE_OOB);
    for (uint64_t k = 0; k < n; k++)
        t->elems[i + k] = fp[O3];
    pc += 5;
    NEXT();
}
L_table_init : {
    lm__table *t = inst->tables[O1];
    const lm__elem *seg = &inst->mod->elems[O2];
    uint64_t d = U32(O3), s = U32(O4), n = U32(O5);
    uint64_t len = inst->elem_dropped[O2] ? 0 : seg->n;
    if (s + n > len || d + n > t->size) TRAP(TABLE_OOB);
    for (uint64_t k = 0; k < n; k++) {
        const lm__const *e = &seg->items[s + k];
        t->elems[d + k] = e->op == 0xd2   ? (uint64_t)(uintptr_t)inst->funcs[e->value]
                          : e->op == 0x23 ? *globals[e->value]
                                          : 0;
    }
    pc += 6;
    NEXT();
}
L_elem_drop:
    inst->elem_dropped[O1] = 1;
    pc += 2;
    NEXT();
L_table_copy : {
    lm__table *dt = inst->tables[O1], *stb = inst->tables[O2];
    uint64_t d = U32(O3), s = U32(O4), n = U32(O5);
    if (s + n > stb->size || d + n > dt->size) TRAP(TABLE_OOB);
    if (n) memmove(dt->elems + d, stb->elems + s, (size_t)n * sizeof(uint64_t));
    pc += 6;
    NEXT();
}
L_ref_func:
    fp[O1] = (uint64_t)(uintptr_t)inst->funcs[O2];
    pc += 3;
    NEXT();

    /* ---- variables ---- */
L_copy:
    fp[O1] = fp[O2];
    pc += 3;
    NEXT();
L_const:
    fp[O1] = pc[2].u;
    pc += 3;
    NEXT();
L_global_get:
    fp[O1] = *globals[O2];
    pc += 3;
    NEXT();
L_global_set:
    *globals[O1] = fp[O2];
    pc += 3;
    NEXT();
L_select:
    fp[O1] = U32(O4) ? fp[O2] : fp[O3];
    pc += 5;
    NEXT();

    /* ---- control ---- */
L_unreachable:
    TRAP(UNREACHABLE);
L_fuel:
    if (--inst->fuel < 0) TRAP(FUEL);
    pc += 1;
    NEXT();
L_br:
    pc = pc[1].t;
    NEXT();
L_br_if:
    if (fp[O1]) {
        pc = pc[2].t;
        NEXT();
    }
    pc += 3;
    NEXT();
L_br_unless:
    if (!fp[O1]) {
        pc = pc[2].t;
        NEXT();
    }
    pc += 3;
    NEXT();
L_br_table : {
    uint64_t i = U32(O1), n = pc[2].u;
    pc = pc[3 + (i < n ? i : n)].t;
    NEXT();
}
L_return1:
    fp[0] = fp[O1];
    goto do_return;
L_returnn : {
    uint64_t n = pc[1].u;
    int64_t from = O2;
    for (uint64_t i = 0; i < n; i++)
        fp[i] = fp[from + (int64_t)i];
    goto do_return;
}
L_return0:
do_return:
    st->depth--;
    if (st->depth == entry) return LM_INTERP_TRAP_NONE;
    pc = st->frames[st->depth].ret;
    fp = st->frames[st->depth].fp;
    NEXT();
L_call : {
    const lm__code *callee = pc[1].p;
    uint64_t *nfp = fp + O2;
    if (st->depth >= LM_INTERP_MAX_DEPTH || nfp + callee->frame_cells > st->end) TRAP(EXHAUSTION);
    if (--inst->fuel < 0) TRAP(FUEL);
    st->frames[st->depth++] = (struct lm__frame){pc + 3, fp};
    memset(nfp + callee->nparams, 0,
           (size_t)(callee->nlocals - callee->nparams) * sizeof(uint64_t));
    fp = nfp;
    pc = callee->code;
    NEXT();
}
L_call_import : {
    lm_interp_trap t = lm__call(inst, inst->funcs[O1], fp + O2);
    if (t) {
        trap = t;
        goto trapped_keep_text;
    }
    RELOAD();
    pc += 3;
    NEXT();
}
L_call_indirect : {
    const lm_interp_functype *want = pc[1].p;
    lm__table *t = inst->tables[O2];
    uint32_t i = U32(O3);
    if (i >= t->size) TRAP(UNDEFINED_ELEMENT);
    const lm__func *f = (const lm__func *)(uintptr_t)t->elems[i];
    if (!f) TRAP(UNINITIALIZED_ELEMENT);
    if (!lm__functype_eq(f->type, want)) TRAP(INDIRECT_MISMATCH);
    uint64_t *nfp = fp + O4;
    if (f->inst == inst) {
        const lm__code *callee = f->code;
        if (st->depth >= LM_INTERP_MAX_DEPTH || nfp + callee->frame_cells > st->end)
            TRAP(EXHAUSTION);
        if (--inst->fuel < 0) TRAP(FUEL);
        st->frames[st->depth++] = (struct lm__frame){pc + 5, fp};
        memset(nfp + callee->nparams, 0,
               (size_t)(callee->nlocals - callee->nparams) * sizeof(uint64_t));
        fp = nfp;
        pc = callee->code;
        NEXT();
    }
    lm_interp_trap tr = lm__call(inst, f, nfp);
    if (tr) {
        trap = tr;
        goto trapped_keep_text;
    }
    RELOAD();
    pc += 5;
    NEXT();
}

trapped:
    inst->trap_text = lm__trap_text(trap);
trapped_keep_text:
    st->depth = entry;
    return trap;
}
