/* compile.c -- one function body validated (the spec's algorithm: a typed
 * operand stack and a control stack, polymorphic after a branch) and
 * translated into internal code in the same pass.
 *
 * Every operand-stack entry knows where its value lives: in its own slot
 * (nlocals + its height: "canonical"), or still in a local (local.get
 * emits nothing; the consumer reads the local's slot). A local.set of a
 * local that entries still refer to first copies them to their own slots;
 * entries are made canonical at block boundaries, calls and branches, so
 * every label finds its values where it expects them. An op whose result
 * a local.set or local.tee takes writes the local directly; a constant
 * second operand becomes an immediate; an integer compare that a br_if or
 * if consumes becomes a compare-and-branch. */
#include <stdlib.h>
#include <string.h>

#include "interp/internal.h"

#define UNKNOWN 0 /* the type of a value popped from a polymorphic stack */
#define MAX_LOCALS 50000
#define MAX_HEIGHT 100000

typedef struct {
    uint8_t type;
    int32_t slot;
} vent;

enum { C_BLOCK, C_LOOP, C_IF, C_FUNC };

typedef struct {
    uint8_t kind, unreachable, dead, has_else;
    uint32_t height;
    uint32_t np, nr;
    const uint8_t *pt, *rt;
    uint8_t one; /* storage for a single result type */
    int64_t start, fix, else_fix;
} ctrl;

typedef struct {
    lm_interp_module *m;
    lm__reader *r;
    lm__cell *code;
    size_t ncode, capcode;
    size_t *targets;
    size_t ntargets, captargets;
    vent *vs;
    size_t nvs, capvs;
    uint32_t maxh;
    ctrl *cs;
    size_t ncs, capcs;
    uint8_t *ltypes;
    uint32_t nlocals;
    int32_t *slots;
    size_t capslots;
    uint32_t *depths;
    size_t capdepths;
    int64_t last_op; /* start of the last op, while its result is the newest entry */
    int last_kind;
    int64_t before_const_op; /* last_op and last_kind as the newest i32.const found them */
    int before_const_kind;
    const void *const *h;
} cc;

/* Kept between functions (and freed by lm__compile_done, also after a
 * failure's longjmp). */
static _Thread_local cc scratch;

void lm__compile_done(void) {
    free(scratch.code);
    free(scratch.targets);
    free(scratch.vs);
    free(scratch.cs);
    free(scratch.ltypes);
    free(scratch.slots);
    free(scratch.depths);
    memset(&scratch, 0, sizeof(scratch));
}

static void *grow(cc *c, void *p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return p;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * size);
    if (!q) lm__fail(c->r, 0, "out of memory");
    *cap = n;
    return q;
}

/* ---- code ---- */

static size_t cell(cc *c, lm__cell v) {
    c->code = grow(c, c->code, &c->capcode, c->ncode + 1, sizeof(lm__cell));
    c->code[c->ncode] = v;
    return c->ncode++;
}

static size_t op(cc *c, enum lm__op o) {
    size_t at = cell(c, (lm__cell){.op = c->h[o]});
    c->last_op = -1;
    return at;
}

static void imm(cc *c, int64_t v) { cell(c, (lm__cell){.i = v}); }

/* A branch target cell: holds a code index until the function is done. */
static size_t target(cc *c, int64_t index) {
    size_t at = cell(c, (lm__cell){.i = index});
    c->targets = grow(c, c->targets, &c->captargets, c->ntargets + 1, sizeof(size_t));
    c->targets[c->ntargets++] = at;
    return at;
}

/* ---- operand and control stacks ---- */

static ctrl *top(cc *c) { return &c->cs[c->ncs - 1]; }
static int live(cc *c) { return !top(c)->unreachable && !top(c)->dead; }
static int32_t canon(cc *c, size_t pos) { return (int32_t)(c->nlocals + pos); }

static int32_t push(cc *c, uint8_t type) {
    if (c->nvs >= MAX_HEIGHT) lm__fail(c->r, 0, "function too complex: operand stack too deep");
    c->vs = grow(c, c->vs, &c->capvs, c->nvs + 1, sizeof(vent));
    int32_t slot = canon(c, c->nvs);
    c->vs[c->nvs++] = (vent){type, slot};
    if (c->nvs > c->maxh) c->maxh = (uint32_t)c->nvs;
    return slot;
}

static void push_at(cc *c, uint8_t type, int32_t slot) {
    push(c, type);
    c->vs[c->nvs - 1].slot = slot;
}

static const char *tname(uint8_t t) {
    switch (t) {
    case LM_INTERP_I32: return "i32";
    case LM_INTERP_I64: return "i64";
    case LM_INTERP_F32: return "f32";
    case LM_INTERP_F64: return "f64";
    case LM_INTERP_FUNCREF: return "funcref";
    case LM_INTERP_EXTERNREF: return "externref";
    default: return "unknown";
    }
}

static vent pop(cc *c, uint8_t want) {
    ctrl *t = top(c);
    if (c->nvs == t->height) {
        if (t->unreachable) return (vent){UNKNOWN, canon(c, c->nvs)};
        lm__fail(c->r, 1, "type mismatch: expected %s, the stack is empty", tname(want));
    }
    vent v = c->vs[--c->nvs];
    if (want && v.type && v.type != want)
        lm__fail(c->r, 1, "type mismatch: expected %s, got %s", tname(want), tname(v.type));
    return v;
}

/* Makes entry pos hold its value in its own slot. */
static void materialize(cc *c, size_t pos) {
    vent *v = &c->vs[pos];
    if (v->slot == canon(c, pos)) return;
    if (live(c)) {
        op(c, LM__OP_copy);
        imm(c, canon(c, pos));
        imm(c, v->slot);
    }
    v->slot = canon(c, pos);
}

static void materialize_from(cc *c, size_t from) {
    for (size_t i = from; i < c->nvs; i++)
        materialize(c, i);
}

static void push_ctrl(cc *c, uint8_t kind, uint32_t np, const uint8_t *pt, uint32_t nr,
                      const uint8_t *rt) {
    int dead = c->ncs ? !live(c) : 0;
    c->cs = grow(c, c->cs, &c->capcs, c->ncs + 1, sizeof(ctrl));
    ctrl *t = &c->cs[c->ncs++];
    memset(t, 0, sizeof(*t));
    t->kind = kind, t->dead = (uint8_t)dead;
    t->np = np, t->pt = pt, t->nr = nr, t->rt = rt;
    t->height = (uint32_t)(c->nvs - np);
    t->start = (int64_t)c->ncode;
    t->fix = -1, t->else_fix = -1;
}

static void set_unreachable(cc *c) {
    ctrl *t = top(c);
    c->nvs = t->height;
    t->unreachable = 1;
}

/* Single-type block results point here (the control stack moves). */
static const uint8_t single_type[256] = {
    [0x7f] = 0x7f, [0x7e] = 0x7e, [0x7d] = 0x7d, [0x7c] = 0x7c, [0x70] = 0x70, [0x6f] = 0x6f};

/* The block type: params and results. */
static void block_type(cc *c, ctrl *tmp, uint32_t *np, const uint8_t **pt, uint32_t *nr,
                       const uint8_t **rt) {
    /* Peeked, not read: a type index is an s33 from this byte on. */
    if (c->r->p >= c->r->end) lm__fail(c->r, 0, "unexpected end");
    uint8_t b = *c->r->p;
    if (b == 0x40) {
        c->r->p++;
        *np = *nr = 0;
        *pt = *rt = NULL;
        return;
    }
    if ((b >= 0x7c && b <= 0x7f) || lm__is_ref(b)) {
        c->r->p++;
        (void)tmp;
        *np = 0, *pt = NULL, *nr = 1, *rt = &single_type[b];
        return;
    }
    int64_t t = lm__s33(c->r);
    if (t < 0 || t >= c->m->ntypes) lm__fail(c->r, 1, "unknown type %lld", (long long)t);
    const lm_interp_functype *ft = &c->m->types[t];
    *np = ft->nparams, *pt = ft->params, *nr = ft->nresults, *rt = ft->results;
}

static void pop_types(cc *c, uint32_t n, const uint8_t *types) {
    for (uint32_t i = n; i-- > 0;)
        pop(c, types[i]);
}

static void push_types(cc *c, uint32_t n, const uint8_t *types) {
    for (uint32_t i = 0; i < n; i++)
        push(c, types[i]);
}

/* Links a forward branch's target cell into the label's chain. */
static void link_fix(cc *c, ctrl *l, size_t at) {
    c->code[at].i = l->fix;
    l->fix = (int64_t)at;
}

static void patch_chain(cc *c, int64_t chain, int64_t to) {
    while (chain >= 0) {
        int64_t next = c->code[chain].i;
        c->code[chain].i = to;
        chain = next;
    }
}

/* The label's arity and types as a branch sees them. */
static uint32_t label_arity(const ctrl *l, const uint8_t **types) {
    if (l->kind == C_LOOP) {
        *types = l->pt;
        return l->np;
    }
    *types = l->rt;
    return l->nr;
}

/* Emits the branch target operand for label l. */
static void branch_to(cc *c, ctrl *l) {
    if (l->kind == C_LOOP) {
        target(c, l->start);
    } else {
        size_t at = target(c, -1);
        link_fix(c, l, at);
    }
}

/* Return from the function with its results the newest entries. */
static void emit_return(cc *c) {
    ctrl *f = &c->cs[0];
    uint32_t nr = f->nr;
    if (!live(c)) return;
    if (nr == 0) {
        op(c, LM__OP_return0);
    } else if (nr == 1) {
        op(c, LM__OP_return1);
        imm(c, c->vs[c->nvs - 1].slot);
    } else {
        materialize_from(c, c->nvs - nr);
        op(c, LM__OP_returnn);
        imm(c, nr);
        imm(c, canon(c, c->nvs - nr));
    }
}

/* Copies the newest n (canonical) entries to label l's slots; returns
 * whether any copy was needed (emitting them when emit). */
static int label_copies(cc *c, ctrl *l, uint32_t n, int emit) {
    int any = 0;
    for (uint32_t i = 0; i < n; i++) {
        int32_t from = canon(c, c->nvs - n + i), to = canon(c, l->height + i);
        if (from == to) continue;
        any = 1;
        if (emit) {
            op(c, LM__OP_copy);
            imm(c, to);
            imm(c, from);
        }
    }
    return any;
}

/* An unconditional branch to label depth (values on the stack). */
static void emit_br(cc *c, ctrl *l, uint32_t n) {
    if (l == &c->cs[0]) {
        emit_return(c);
        return;
    }
    label_copies(c, l, n, 1);
    op(c, LM__OP_br);
    branch_to(c, l);
}

static ctrl *label(cc *c, uint32_t depth) {
    if (depth >= c->ncs) lm__fail(c->r, 1, "unknown label %u", depth);
    return &c->cs[c->ncs - 1 - depth];
}

/* Checks that the newest entries match types (popping them). */
static void check_top(cc *c, uint32_t n, const uint8_t *types) {
    for (uint32_t i = n; i-- > 0;)
        pop(c, types[i]);
}

/* Pops the newest n entries as types and pushes them back with those
 * types, each keeping where its value lives. */
static void retype_top(cc *c, uint32_t n, const uint8_t *types) {
    if (!n) return;
    /* Kept in c (a failing pop longjmps out). */
    c->slots = grow(c, c->slots, &c->capslots, n, sizeof(int32_t));
    int32_t *slots = c->slots;
    for (uint32_t i = n; i-- > 0;)
        slots[i] = pop(c, types[i]).slot;
    for (uint32_t i = 0; i < n; i++)
        push_at(c, types[i], slots[i]);
}

/* ---- instructions ---- */

static struct {
    int16_t op;
    uint8_t in, out;
} bin_of[256], un_of[256], sat_of[8];

static const int16_t imm_of_init[][2] = {
#define IMM_PAIR(name) {LM__OP_##name, LM__OP_##name##_imm},
    LM__IMMOPS(IMM_PAIR)
#undef IMM_PAIR
};
static int16_t imm_of[LM__NOPS];
/* A compare's compare-and-branch (brcmp_of) and its negation's (brcmp_not,
 * for if), immediate forms included; brimm_of: a br_cmp's immediate form. */
static int16_t brcmp_of[LM__NOPS], brcmp_not[LM__NOPS], brimm_of[LM__NOPS];

static void init_tables(void) {
    static int done;
    if (done) return;
#define I32 LM_INTERP_I32
#define I64 LM_INTERP_I64
#define F32 LM_INTERP_F32
#define F64 LM_INTERP_F64
#define SET_BIN(code, name, a, b)                                                                  \
    bin_of[code].op = LM__OP_##name, bin_of[code].in = a, bin_of[code].out = b;
#define SET_UN(code, name, a, b)                                                                   \
    if ((code) >= 0xfc00)                                                                          \
        sat_of[(code)&0xff].op = LM__OP_##name, sat_of[(code)&0xff].in = a,                        \
        sat_of[(code)&0xff].out = b;                                                               \
    else                                                                                           \
        un_of[(code)&0xff].op = LM__OP_##name, un_of[(code)&0xff].in = a,                          \
        un_of[(code)&0xff].out = b;
    LM__BINOPS(SET_BIN)
    LM__UNOPS(SET_UN)
#undef SET_BIN
#undef SET_UN
#undef I32
#undef I64
#undef F32
#undef F64
    for (int i = 0; i < LM__NOPS; i++)
        imm_of[i] = brcmp_of[i] = brcmp_not[i] = brimm_of[i] = -1;
    for (size_t i = 0; i < sizeof(imm_of_init) / sizeof(imm_of_init[0]); i++)
        imm_of[imm_of_init[i][0]] = imm_of_init[i][1];
#define SET_BR(name, ctype, cop)                                                                   \
    brcmp_of[LM__OP_##name] = LM__OP_br_##name;                                                    \
    brcmp_of[LM__OP_##name##_imm] = brimm_of[LM__OP_br_##name] = LM__OP_br_##name##_imm;
    LM__BRCMPS(SET_BR)
#undef SET_BR
    /* The negation of each compare, for if (branch to the else when false). */
    static const int16_t neg[][2] = {
        {LM__OP_i32_eq, LM__OP_br_i32_ne},     {LM__OP_i32_ne, LM__OP_br_i32_eq},
        {LM__OP_i32_lt_s, LM__OP_br_i32_ge_s}, {LM__OP_i32_lt_u, LM__OP_br_i32_ge_u},
        {LM__OP_i32_gt_s, LM__OP_br_i32_le_s}, {LM__OP_i32_gt_u, LM__OP_br_i32_le_u},
        {LM__OP_i32_le_s, LM__OP_br_i32_gt_s}, {LM__OP_i32_le_u, LM__OP_br_i32_gt_u},
        {LM__OP_i32_ge_s, LM__OP_br_i32_lt_s}, {LM__OP_i32_ge_u, LM__OP_br_i32_lt_u},
        {LM__OP_i64_eq, LM__OP_br_i64_ne},     {LM__OP_i64_ne, LM__OP_br_i64_eq},
        {LM__OP_i64_lt_s, LM__OP_br_i64_ge_s}, {LM__OP_i64_lt_u, LM__OP_br_i64_ge_u},
        {LM__OP_i64_gt_s, LM__OP_br_i64_le_s}, {LM__OP_i64_gt_u, LM__OP_br_i64_le_u},
        {LM__OP_i64_le_s, LM__OP_br_i64_gt_s}, {LM__OP_i64_le_u, LM__OP_br_i64_gt_u},
        {LM__OP_i64_ge_s, LM__OP_br_i64_lt_s}, {LM__OP_i64_ge_u, LM__OP_br_i64_lt_u},
    };
    for (size_t i = 0; i < sizeof(neg) / sizeof(neg[0]); i++) {
        brcmp_not[neg[i][0]] = neg[i][1];
        brcmp_not[imm_of[neg[i][0]]] = brimm_of[neg[i][1]];
    }
    done = 1;
}

/* The last op produced entry v (the newest, just popped) in a stack slot,
 * and nothing was emitted since. */
static int last_made(cc *c, vent v) {
    return c->last_op >= 0 && v.slot >= (int32_t)c->nlocals && c->code[c->last_op + 1].i == v.slot;
}

/* The last op wrote v's slot (a stack slot or, through local.set or tee, a
 * local) and nothing was emitted since, so the slot holds what it wrote. A
 * fusion on this must keep the op's write. */
static int last_wrote(cc *c, vent v) {
    return c->last_op >= 0 && c->code[c->last_op + 1].i == v.slot;
}

static void binop(cc *c, const uint8_t b) {
    vent y = pop(c, bin_of[b].in), x = pop(c, bin_of[b].in);
    int32_t d = push(c, bin_of[b].out);
    if (!live(c)) return;
    enum lm__op o = (enum lm__op)bin_of[b].op;
    /* A constant second operand just emitted: fold it in as an immediate. */
    if (imm_of[o] >= 0 && c->last_kind == LM__OP_const && last_made(c, y) && x.slot != y.slot) {
        int64_t k = c->code[c->last_op + 2].i;
        int64_t sh = c->before_const_op;
        c->ncode = (size_t)c->last_op;
        /* (a >> s) & m with a >> s made just before the constant: one op. */
        if (o == LM__OP_i32_and && sh >= 0 && c->before_const_kind == LM__OP_i32_shr_u_imm &&
            c->ncode == (size_t)sh + 4 && c->code[sh + 1].i == x.slot &&
            x.slot >= (int32_t)c->nlocals) {
            int64_t a = c->code[sh + 2].i, s = c->code[sh + 3].i;
            c->ncode = (size_t)sh;
            size_t at = op(c, LM__OP_i32_shr_and_imm);
            imm(c, d), imm(c, a), imm(c, s), imm(c, k);
            c->last_op = (int64_t)at, c->last_kind = LM__OP_i32_shr_and_imm;
            return;
        }
        size_t at = op(c, (enum lm__op)imm_of[o]);
        imm(c, d), imm(c, x.slot), imm(c, k);
        c->last_op = (int64_t)at, c->last_kind = imm_of[o];
        return;
    }
    /* (a + k) + b or b + (a + k) with a + k just made: one add of three. */
    if (o == LM__OP_i32_add && c->last_kind == LM__OP_i32_add_imm &&
        (last_made(c, y) || last_made(c, x)) && x.slot != y.slot) {
        int64_t a = c->code[c->last_op + 2].i, k = c->code[c->last_op + 3].i;
        int64_t other = last_made(c, y) ? x.slot : y.slot;
        c->ncode = (size_t)c->last_op;
        size_t at = op(c, LM__OP_i32_add3_imm);
        imm(c, d), imm(c, a), imm(c, other), imm(c, k);
        c->last_op = (int64_t)at, c->last_kind = LM__OP_i32_add3_imm;
        return;
    }
    size_t at = op(c, o);
    imm(c, d), imm(c, x.slot), imm(c, y.slot);
    c->last_op = (int64_t)at, c->last_kind = o;
}

static void unop(cc *c, uint8_t in, uint8_t out, enum lm__op o) {
    vent x = pop(c, in);
    int32_t d = push(c, out);
    if (!live(c)) return;
    size_t at = op(c, o);
    imm(c, d), imm(c, x.slot);
    c->last_op = (int64_t)at, c->last_kind = o;
}

static void set_local(cc *c, uint32_t x, vent v, int tee) {
    int refs = 0;
    for (size_t i = 0; i < c->nvs; i++)
        if (c->vs[i].slot == (int32_t)x) refs = 1;
    int64_t wrote = -1;
    if (live(c) && !refs && last_made(c, v) && v.slot != (int32_t)x) {
        /* The op that made v writes the local instead (and stays the last op,
         * for last_wrote). */
        c->code[c->last_op + 1].i = x;
        wrote = c->last_op;
    } else {
        if (refs)
            for (size_t i = 0; i < c->nvs; i++)
                if (c->vs[i].slot == (int32_t)x) materialize(c, i);
        if (live(c) && v.slot != (int32_t)x) {
            op(c, LM__OP_copy);
            imm(c, x), imm(c, v.slot);
        }
    }
    c->last_op = wrote;
    if (tee) push_at(c, v.type, (int32_t)x);
}

static void memarg(cc *c, uint32_t natural, uint32_t *offset) {
    uint32_t align = lm__u32(c->r);
    *offset = lm__u32(c->r);
    if (!c->m->nmems) lm__fail(c->r, 1, "unknown memory 0");
    if (align >= 32 || (1u << align) > natural)
        lm__fail(c->r, 1, "alignment must not be larger than natural");
}

static void load(cc *c, enum lm__op o, uint8_t type, uint32_t natural) {
    uint32_t off;
    memarg(c, natural, &off);
    vent a = pop(c, LM_INTERP_I32);
    int32_t d = push(c, type);
    if (!live(c)) return;
    /* An address an i32.add just made: the load adds it itself. */
    if (c->last_kind == LM__OP_i32_add && last_made(c, a)) {
        int64_t x = c->code[c->last_op + 2].i, y = c->code[c->last_op + 3].i;
        c->ncode = (size_t)c->last_op;
        enum lm__op fo = (enum lm__op)(o - LM__OP_ld32 + LM__OP_ld32_add);
        size_t at = op(c, fo);
        imm(c, d), imm(c, x), imm(c, y), imm(c, off);
        c->last_op = (int64_t)at, c->last_kind = fo;
        return;
    }
    /* An address x + k or x + y (+ k) just written, kept in a local by a
     * local.tee or meant for a stack slot: one op makes it, writes it and
     * loads (clang's stack arrays: sp + k + index, tee'd for a store). */
    int kind = c->last_kind;
    int addk = kind == LM__OP_i32_add_imm || kind == LM__OP_i32_sub_imm;
    int add3 = kind == LM__OP_i32_add3_imm || kind == LM__OP_i32_add;
    if ((addk || add3) && last_wrote(c, a)) {
        lm__cell *k = &c->code[c->last_op];
        int64_t at_slot = k[1].i, x = k[2].i, y = k[3].i;
        uint32_t kk = kind == LM__OP_i32_add3_imm  ? (uint32_t)k[4].u
                      : kind == LM__OP_i32_add     ? 0
                      : kind == LM__OP_i32_sub_imm ? 0u - (uint32_t)k[3].u
                                                   : (uint32_t)k[3].u;
        c->ncode = (size_t)c->last_op;
        enum lm__op fo =
            (enum lm__op)(o - LM__OP_ld32 + (addk ? LM__OP_ld32_addk : LM__OP_ld32_add3));
        size_t at = op(c, fo);
        imm(c, d), imm(c, at_slot), imm(c, x);
        if (add3) imm(c, y);
        imm(c, kk), imm(c, off);
        c->last_op = (int64_t)at, c->last_kind = fo;
        return;
    }
    size_t at = op(c, o);
    imm(c, d), imm(c, a.slot), imm(c, off);
    c->last_op = (int64_t)at, c->last_kind = o;
}

static void store(cc *c, enum lm__op o, uint8_t type, uint32_t natural) {
    uint32_t off;
    memarg(c, natural, &off);
    vent v = pop(c, type), a = pop(c, LM_INTERP_I32);
    if (!live(c)) return;
    if (c->last_kind == LM__OP_i32_add && last_made(c, a)) {
        int64_t x = c->code[c->last_op + 2].i, y = c->code[c->last_op + 3].i;
        c->ncode = (size_t)c->last_op;
        op(c, (enum lm__op)(o - LM__OP_ld32 + LM__OP_ld32_add));
        imm(c, x), imm(c, y), imm(c, v.slot), imm(c, off);
        return;
    }
    /* A value an f64 add, sub or mul just wrote (through a local.tee, mostly):
     * one op computes, writes and stores it (mandelbrot's z and t arrays). */
    int kind = c->last_kind;
    if (o == LM__OP_st64 &&
        (kind == LM__OP_f64_add || kind == LM__OP_f64_sub || kind == LM__OP_f64_mul) &&
        last_wrote(c, v)) {
        lm__cell *k = &c->code[c->last_op];
        int64_t d = k[1].i, x = k[2].i, y = k[3].i;
        c->ncode = (size_t)c->last_op;
        op(c, kind == LM__OP_f64_add   ? LM__OP_f64_add_st64
              : kind == LM__OP_f64_sub ? LM__OP_f64_sub_st64
                                       : LM__OP_f64_mul_st64);
        imm(c, d), imm(c, x), imm(c, y), imm(c, a.slot), imm(c, off);
        return;
    }
    op(c, o);
    imm(c, a.slot), imm(c, v.slot), imm(c, off);
}

static void zero_byte(cc *c) {
    if (lm__u8(c->r) != 0) lm__fail(c->r, 0, "zero byte expected");
}

static uint32_t table_index(cc *c) {
    uint32_t t = lm__u32(c->r);
    if (t >= c->m->ntables) lm__fail(c->r, 1, "unknown table %u", t);
    return t;
}

/* A call to type ft whose arguments are the newest entries (below any
 * callee operand the caller popped already). */
static int32_t call_args(cc *c, const lm_interp_functype *ft) {
    if (c->nvs >= top(c)->height + ft->nparams) materialize_from(c, c->nvs - ft->nparams);
    pop_types(c, ft->nparams, ft->params);
    return canon(c, c->nvs);
}

static void fc_op(cc *c) {
    uint32_t sub = lm__u32(c->r);
    lm_interp_module *m = c->m;
    if (sub < 8) {
        unop(c, sat_of[sub].in, sat_of[sub].out, (enum lm__op)sat_of[sub].op);
        return;
    }
    switch (sub) {
    case 8: { /* memory.init */
        uint32_t seg = lm__u32(c->r);
        zero_byte(c);
        if (!m->nmems) lm__fail(c->r, 1, "unknown memory 0");
        if (!m->has_datacount) lm__fail(c->r, 0, "data count section required");
        if (seg >= m->datacount) lm__fail(c->r, 1, "unknown data segment %u", seg);
        vent n = pop(c, LM_INTERP_I32), s = pop(c, LM_INTERP_I32), d = pop(c, LM_INTERP_I32);
        if (!live(c)) return;
        op(c, LM__OP_memory_init);
        imm(c, seg), imm(c, d.slot), imm(c, s.slot), imm(c, n.slot);
        return;
    }
    case 9: {
        uint32_t seg = lm__u32(c->r);
        if (!m->has_datacount) lm__fail(c->r, 0, "data count section required");
        if (seg >= m->datacount) lm__fail(c->r, 1, "unknown data segment %u", seg);
        if (!live(c)) return;
        op(c, LM__OP_data_drop);
        imm(c, seg);
        return;
    }
    case 10:
    case 11: {
        zero_byte(c);
        if (sub == 10) zero_byte(c);
        if (!m->nmems) lm__fail(c->r, 1, "unknown memory 0");
        vent n = pop(c, LM_INTERP_I32), s = pop(c, LM_INTERP_I32), d = pop(c, LM_INTERP_I32);
        if (!live(c)) return;
        op(c, sub == 10 ? LM__OP_memory_copy : LM__OP_memory_fill);
        imm(c, d.slot), imm(c, s.slot), imm(c, n.slot);
        return;
    }
    case 12: { /* table.init elem table */
        uint32_t seg = lm__u32(c->r);
        uint32_t t = table_index(c);
        if (seg >= m->nelems) lm__fail(c->r, 1, "unknown elem segment %u", seg);
        if (m->elems[seg].type != m->tables[t].type) lm__fail(c->r, 1, "type mismatch");
        vent n = pop(c, LM_INTERP_I32), s = pop(c, LM_INTERP_I32), d = pop(c, LM_INTERP_I32);
        if (!live(c)) return;
        op(c, LM__OP_table_init);
        imm(c, t), imm(c, seg), imm(c, d.slot), imm(c, s.slot), imm(c, n.slot);
        return;
    }
    case 13: {
        uint32_t seg = lm__u32(c->r);
        if (seg >= m->nelems) lm__fail(c->r, 1, "unknown elem segment %u", seg);
        if (!live(c)) return;
        op(c, LM__OP_elem_drop);
        imm(c, seg);
        return;
    }
    case 14: {
        uint32_t dt = table_index(c), st = table_index(c);
        if (m->tables[dt].type != m->tables[st].type) lm__fail(c->r, 1, "type mismatch");
        vent n = pop(c, LM_INTERP_I32), s = pop(c, LM_INTERP_I32), d = pop(c, LM_INTERP_I32);
        if (!live(c)) return;
        op(c, LM__OP_table_copy);
        imm(c, dt), imm(c, st), imm(c, d.slot), imm(c, s.slot), imm(c, n.slot);
        return;
    }
    case 15: { /* table.grow */
        uint32_t t = table_index(c);
        vent n = pop(c, LM_INTERP_I32), v = pop(c, m->tables[t].type);
        int32_t d = push(c, LM_INTERP_I32);
        if (!live(c)) return;
        op(c, LM__OP_table_grow);
        imm(c, d), imm(c, t), imm(c, v.slot), imm(c, n.slot);
        return;
    }
    case 16: {
        uint32_t t = table_index(c);
        int32_t d = push(c, LM_INTERP_I32);
        if (!live(c)) return;
        op(c, LM__OP_table_size);
        imm(c, d), imm(c, t);
        return;
    }
    case 17: {
        uint32_t t = table_index(c);
        vent n = pop(c, LM_INTERP_I32), v = pop(c, m->tables[t].type), i = pop(c, LM_INTERP_I32);
        if (!live(c)) return;
        op(c, LM__OP_table_fill);
        imm(c, t), imm(c, i.slot), imm(c, v.slot), imm(c, n.slot);
        return;
    }
    default: lm__fail(c->r, 0, "illegal opcode 0xfc %u", sub);
    }
}

static uint32_t local_index(cc *c) {
    uint32_t x = lm__u32(c->r);
    if (x >= c->nlocals) lm__fail(c->r, 1, "unknown local %u", x);
    return x;
}

/* One instruction; returns 0 after the function's final end. */
static int instr(cc *c) {
    lm__reader *r = c->r;
    lm_interp_module *m = c->m;
    uint8_t b = lm__u8(r);
    if (bin_of[b].in) {
        binop(c, b);
        return 1;
    }
    if (un_of[b].in) {
        unop(c, un_of[b].in, un_of[b].out, (enum lm__op)un_of[b].op);
        return 1;
    }
    switch (b) {
    case 0x00:
        if (live(c)) op(c, LM__OP_unreachable);
        set_unreachable(c);
        break;
    case 0x01: break;
    case 0x02:
    case 0x03:
    case 0x04: {
        ctrl tmp;
        uint32_t np, nr;
        const uint8_t *pt, *rt;
        block_type(c, &tmp, &np, &pt, &nr, &rt);
        vent cond = {0, 0};
        if (b == 0x04) cond = pop(c, LM_INTERP_I32);
        int fused = -1;
        if (b == 0x04 && live(c) && last_made(c, cond)) {
            if (brcmp_not[c->last_kind] >= 0) fused = brcmp_not[c->last_kind];
            if (c->last_kind == LM__OP_i32_eqz || c->last_kind == LM__OP_i64_eqz)
                fused = LM__OP_br_if;
        }
        int64_t fused_at = c->last_op;
        /* Check the params, then make every entry canonical: a block's
         * code may change any local. */
        materialize_from(c, 0);
        retype_top(c, np, pt);
        if (fused >= 0 && c->ncode != (size_t)fused_at + (fused == LM__OP_br_if ? 3 : 4))
            fused = -1; /* something was emitted since the compare */
        push_ctrl(c, b == 0x02 ? C_BLOCK : b == 0x03 ? C_LOOP : C_IF, np, pt, nr, rt);
        ctrl *t = top(c);
        if (t->dead) break;
        if (b == 0x03) {
            t->start = (int64_t)op(c, LM__OP_fuel);
        } else if (b == 0x04) {
            size_t at;
            if (fused >= 0) {
                /* Rewrite the compare [op d x y] as [br_cmp x y target]. */
                lm__cell *k = &c->code[fused_at];
                k[0].op = c->h[fused];
                k[1] = k[2];
                if (fused == LM__OP_br_if) {
                    c->ncode = (size_t)fused_at + 2;
                } else {
                    k[2] = k[3];
                    c->ncode = (size_t)fused_at + 3;
                }
                at = target(c, -1);
            } else {
                op(c, LM__OP_br_unless);
                imm(c, cond.slot);
                at = target(c, -1);
            }
            t->else_fix = (int64_t)at;
        }
        break;
    }
    case 0x05: {
        ctrl *t = top(c);
        if (t->kind != C_IF || t->has_else) lm__fail(r, 0, "else without if");
        retype_top(c, t->nr, t->rt);
        if (c->nvs != t->height + t->nr) lm__fail(r, 1, "type mismatch: values left at else");
        if (live(c)) {
            materialize_from(c, t->height);
            op(c, LM__OP_br);
            size_t at = target(c, -1);
            link_fix(c, t, at);
        }
        if (!t->dead) patch_chain(c, t->else_fix, (int64_t)c->ncode);
        t->else_fix = -1;
        t->has_else = 1;
        c->nvs = t->height;
        t->unreachable = 0;
        push_types(c, t->np, t->pt);
        c->last_op = -1;
        break;
    }
    case 0x0b: {
        ctrl *t = top(c);
        retype_top(c, t->nr, t->rt);
        if (c->nvs != t->height + t->nr)
            lm__fail(r, 1, "type mismatch: values left at end of block");
        if (t->kind == C_FUNC) {
            emit_return(c);
            return 0;
        }
        if (t->kind == C_IF && !t->has_else) {
            if (t->np != t->nr || (t->np && memcmp(t->pt, t->rt, t->np)))
                lm__fail(r, 1, "type mismatch: if without else must leave its params");
        }
        if (live(c)) materialize_from(c, t->height);
        if (!t->dead) {
            patch_chain(c, t->else_fix, (int64_t)c->ncode);
            patch_chain(c, t->fix, (int64_t)c->ncode);
        }
        uint32_t h = t->height, nr = t->nr;
        uint8_t rt[16];
        const uint8_t *rtp = t->rt;
        if (nr && nr <= sizeof(rt)) {
            memcpy(rt, t->rt, nr);
            rtp = rt;
        }
        c->ncs--;
        c->nvs = h;
        for (uint32_t i = 0; i < nr; i++)
            push(c, rtp[i]);
        c->last_op = -1;
        break;
    }
    case 0x0c: {
        ctrl *l = label(c, lm__u32(r));
        const uint8_t *types;
        uint32_t n = label_arity(l, &types);
        retype_top(c, n, types);
        if (live(c)) {
            materialize_from(c, c->nvs - n);
            emit_br(c, l, n);
        }
        set_unreachable(c);
        break;
    }
    case 0x0d: {
        ctrl *l = label(c, lm__u32(r));
        vent cond = pop(c, LM_INTERP_I32);
        const uint8_t *types;
        uint32_t n = label_arity(l, &types);
        retype_top(c, n, types);
        if (!live(c)) break;
        int64_t fused_at = c->last_op;
        int fused = -1;
        if (last_made(c, cond)) {
            if (brcmp_of[c->last_kind] >= 0) fused = brcmp_of[c->last_kind];
            if (c->last_kind == LM__OP_i32_eqz || c->last_kind == LM__OP_i64_eqz)
                fused = LM__OP_br_unless;
        }
        materialize_from(c, c->nvs - n);
        int copies = l != &c->cs[0] && label_copies(c, l, n, 0);
        if (fused >= 0 && (c->ncode != (size_t)fused_at + (fused == LM__OP_br_unless ? 3 : 4) ||
                           copies || l == &c->cs[0]))
            fused = -1;
        if (fused >= 0) {
            lm__cell *k = &c->code[fused_at];
            k[0].op = c->h[fused];
            k[1] = k[2];
            if (fused == LM__OP_br_unless) {
                c->ncode = (size_t)fused_at + 2;
            } else {
                k[2] = k[3];
                c->ncode = (size_t)fused_at + 3;
            }
            branch_to(c, l);
        } else if (!copies && l != &c->cs[0]) {
            op(c, LM__OP_br_if);
            imm(c, cond.slot);
            branch_to(c, l);
        } else {
            op(c, LM__OP_br_unless);
            imm(c, cond.slot);
            size_t skip = target(c, -1);
            emit_br(c, l, n);
            c->code[skip].i = (int64_t)c->ncode;
        }
        c->last_op = -1;
        break;
    }
    case 0x0e: {
        uint32_t n = lm__u32(r);
        if (n > (uint64_t)(r->end - r->p)) lm__fail(r, 0, "length out of bounds");
        c->depths = grow(c, c->depths, &c->capdepths, (size_t)n + 1, sizeof(uint32_t));
        uint32_t *depths = c->depths;
        for (uint32_t i = 0; i <= n; i++) {
            uint32_t d = lm__u32(r);
            if (d >= c->ncs) {
                lm__fail(r, 1, "unknown label %u", d);
            }
            depths[i] = d;
        }
        vent idx = pop(c, LM_INTERP_I32);
        const uint8_t *dtypes;
        uint32_t arity = label_arity(label(c, depths[n]), &dtypes);
        for (uint32_t i = 0; i <= n; i++) {
            const uint8_t *types;
            uint32_t a = label_arity(label(c, depths[i]), &types);
            if (a != arity) {
                lm__fail(r, 1, "type mismatch: br_table labels of different arity");
            }
            size_t save = c->nvs;
            check_top(c, a, types);
            c->nvs = save;
        }
        if (live(c)) {
            materialize_from(c, c->nvs - arity);
            op(c, LM__OP_br_table);
            imm(c, idx.slot);
            imm(c, n);
            size_t first = c->ncode;
            for (uint32_t i = 0; i <= n; i++)
                target(c, -1);
            for (uint32_t i = 0; i <= n; i++) {
                ctrl *l = label(c, depths[i]);
                if (l != &c->cs[0] && !label_copies(c, l, arity, 0)) {
                    if (l->kind == C_LOOP)
                        c->code[first + i].i = l->start;
                    else
                        link_fix(c, l, first + i);
                } else {
                    c->code[first + i].i = (int64_t)c->ncode;
                    emit_br(c, l, arity);
                }
            }
        }
        set_unreachable(c);
        break;
    }
    case 0x0f:
        retype_top(c, c->cs[0].nr, c->cs[0].rt);
        emit_return(c);
        set_unreachable(c);
        break;
    case 0x10: {
        uint32_t f = lm__u32(r);
        if (f >= m->nfuncs) lm__fail(r, 1, "unknown function %u", f);
        const lm_interp_functype *ft = &m->types[m->func_types[f]];
        int32_t base = call_args(c, ft);
        if (live(c)) {
            if (f < m->nfunc_imports) {
                op(c, LM__OP_call_import);
                imm(c, f);
            } else {
                op(c, LM__OP_call);
                cell(c, (lm__cell){.p = &m->codes[f - m->nfunc_imports]});
            }
            imm(c, base);
        }
        push_types(c, ft->nresults, ft->results);
        c->last_op = -1;
        break;
    }
    case 0x11: {
        uint32_t ti = lm__u32(r);
        uint32_t tab = lm__u32(r);
        if (tab >= m->ntables) lm__fail(r, 1, "unknown table %u", tab);
        if (ti >= m->ntypes) lm__fail(r, 1, "unknown type %u", ti);
        if (m->tables[tab].type != LM_INTERP_FUNCREF) lm__fail(r, 1, "type mismatch: not funcref");
        const lm_interp_functype *ft = &m->types[ti];
        vent idx = pop(c, LM_INTERP_I32);
        int32_t base = call_args(c, ft);
        if (live(c)) {
            op(c, LM__OP_call_indirect);
            cell(c, (lm__cell){.p = (void *)ft});
            imm(c, tab), imm(c, idx.slot), imm(c, base);
        }
        push_types(c, ft->nresults, ft->results);
        c->last_op = -1;
        break;
    }
    case 0x1a: pop(c, 0); break;
    case 0x1b:
    case 0x1c: {
        uint8_t t = 0;
        if (b == 0x1c) {
            if (lm__u32(r) != 1) lm__fail(r, 1, "invalid result arity");
            t = lm__valtype(r);
        }
        vent cond = pop(c, LM_INTERP_I32);
        vent y = pop(c, t), x = pop(c, t);
        uint8_t type = t ? t : x.type ? x.type : y.type;
        if (!t) {
            if (lm__is_ref(x.type) || lm__is_ref(y.type))
                lm__fail(r, 1, "type mismatch: select needs a type for references");
            if (x.type && y.type && x.type != y.type) lm__fail(r, 1, "type mismatch in select");
        }
        int32_t d = push(c, type);
        if (!live(c)) break;
        op(c, LM__OP_select);
        imm(c, d), imm(c, x.slot), imm(c, y.slot), imm(c, cond.slot);
        break;
    }
    case 0x20: {
        uint32_t x = local_index(c);
        push_at(c, c->ltypes[x], (int32_t)x);
        break;
    }
    case 0x21:
    case 0x22: {
        uint32_t x = local_index(c);
        vent v = pop(c, c->ltypes[x]);
        set_local(c, x, v, b == 0x22);
        if (b == 0x22) c->vs[c->nvs - 1].type = c->ltypes[x];
        break;
    }
    case 0x23: {
        uint32_t g = lm__u32(r);
        if (g >= m->nglobals) lm__fail(r, 1, "unknown global %u", g);
        int32_t d = push(c, m->globals[g].type);
        if (!live(c)) break;
        size_t at = op(c, LM__OP_global_get);
        imm(c, d), imm(c, g);
        c->last_op = (int64_t)at, c->last_kind = LM__OP_global_get;
        break;
    }
    case 0x24: {
        uint32_t g = lm__u32(r);
        if (g >= m->nglobals) lm__fail(r, 1, "unknown global %u", g);
        if (!m->globals[g].mut) lm__fail(r, 1, "global is immutable");
        vent v = pop(c, m->globals[g].type);
        if (!live(c)) break;
        op(c, LM__OP_global_set);
        imm(c, g), imm(c, v.slot);
        break;
    }
    case 0x25: {
        uint32_t t = table_index(c);
        vent i = pop(c, LM_INTERP_I32);
        int32_t d = push(c, m->tables[t].type);
        if (!live(c)) break;
        op(c, LM__OP_table_get);
        imm(c, d), imm(c, t), imm(c, i.slot);
        break;
    }
    case 0x26: {
        uint32_t t = table_index(c);
        vent v = pop(c, m->tables[t].type), i = pop(c, LM_INTERP_I32);
        if (!live(c)) break;
        op(c, LM__OP_table_set);
        imm(c, t), imm(c, i.slot), imm(c, v.slot);
        break;
    }
    case 0x28: load(c, LM__OP_ld32, LM_INTERP_I32, 4); break;
    case 0x29: load(c, LM__OP_ld64, LM_INTERP_I64, 8); break;
    case 0x2a: load(c, LM__OP_ld32, LM_INTERP_F32, 4); break;
    case 0x2b: load(c, LM__OP_ld64, LM_INTERP_F64, 8); break;
    case 0x2c: load(c, LM__OP_ld8s32, LM_INTERP_I32, 1); break;
    case 0x2d: load(c, LM__OP_ld8u, LM_INTERP_I32, 1); break;
    case 0x2e: load(c, LM__OP_ld16s32, LM_INTERP_I32, 2); break;
    case 0x2f: load(c, LM__OP_ld16u, LM_INTERP_I32, 2); break;
    case 0x30: load(c, LM__OP_ld8s64, LM_INTERP_I64, 1); break;
    case 0x31: load(c, LM__OP_ld8u, LM_INTERP_I64, 1); break;
    case 0x32: load(c, LM__OP_ld16s64, LM_INTERP_I64, 2); break;
    case 0x33: load(c, LM__OP_ld16u, LM_INTERP_I64, 2); break;
    case 0x34: load(c, LM__OP_ld32s64, LM_INTERP_I64, 4); break;
    case 0x35: load(c, LM__OP_ld32, LM_INTERP_I64, 4); break;
    case 0x36: store(c, LM__OP_st32, LM_INTERP_I32, 4); break;
    case 0x37: store(c, LM__OP_st64, LM_INTERP_I64, 8); break;
    case 0x38: store(c, LM__OP_st32, LM_INTERP_F32, 4); break;
    case 0x39: store(c, LM__OP_st64, LM_INTERP_F64, 8); break;
    case 0x3a: store(c, LM__OP_st8, LM_INTERP_I32, 1); break;
    case 0x3b: store(c, LM__OP_st16, LM_INTERP_I32, 2); break;
    case 0x3c: store(c, LM__OP_st8, LM_INTERP_I64, 1); break;
    case 0x3d: store(c, LM__OP_st16, LM_INTERP_I64, 2); break;
    case 0x3e: store(c, LM__OP_st32, LM_INTERP_I64, 4); break;
    case 0x3f: {
        zero_byte(c);
        if (!m->nmems) lm__fail(r, 1, "unknown memory 0");
        int32_t d = push(c, LM_INTERP_I32);
        if (!live(c)) break;
        op(c, LM__OP_memory_size);
        imm(c, d);
        break;
    }
    case 0x40: {
        zero_byte(c);
        if (!m->nmems) lm__fail(r, 1, "unknown memory 0");
        vent n = pop(c, LM_INTERP_I32);
        int32_t d = push(c, LM_INTERP_I32);
        if (!live(c)) break;
        op(c, LM__OP_memory_grow);
        imm(c, d), imm(c, n.slot);
        break;
    }
    case 0x41:
    case 0x42:
    case 0x43:
    case 0x44: {
        uint64_t v = 0;
        uint8_t t;
        if (b == 0x41) {
            v = (uint32_t)lm__s32(r), t = LM_INTERP_I32;
        } else if (b == 0x42) {
            v = (uint64_t)lm__s64(r), t = LM_INTERP_I64;
        } else {
            size_t n = b == 0x43 ? 4 : 8;
            if ((size_t)(r->end - r->p) < n) lm__fail(r, 0, "unexpected end");
            memcpy(&v, r->p, n);
            r->p += n;
            t = b == 0x43 ? LM_INTERP_F32 : LM_INTERP_F64;
        }
        int32_t d = push(c, t);
        if (!live(c)) break;
        c->before_const_op = c->last_op, c->before_const_kind = c->last_kind;
        size_t at = op(c, LM__OP_const);
        imm(c, d), imm(c, (int64_t)v);
        c->last_op = (int64_t)at, c->last_kind = LM__OP_const;
        break;
    }
    case 0xad: /* i64.extend_i32_u: i32 cells are zero-extended already */
    case 0xbc:
    case 0xbd:
    case 0xbe:
    case 0xbf: { /* reinterpretations: the same bits under another type */
        static const uint8_t from[] = {LM_INTERP_F32, LM_INTERP_F64, LM_INTERP_I32, LM_INTERP_I64};
        static const uint8_t to[] = {LM_INTERP_I32, LM_INTERP_I64, LM_INTERP_F32, LM_INTERP_F64};
        uint8_t in = b == 0xad ? LM_INTERP_I32 : from[b - 0xbc];
        uint8_t out = b == 0xad ? LM_INTERP_I64 : to[b - 0xbc];
        int64_t keep = c->last_op;
        vent v = pop(c, in);
        push_at(c, out, v.slot);
        c->last_op = keep;
        break;
    }
    case 0xd0: {
        uint8_t t = lm__u8(r);
        if (!lm__is_ref(t)) lm__fail(r, 0, "malformed reference type");
        int32_t d = push(c, t);
        if (!live(c)) break;
        op(c, LM__OP_const);
        imm(c, d), imm(c, 0);
        break;
    }
    case 0xd1: {
        vent v = pop(c, 0);
        if (v.type && !lm__is_ref(v.type)) lm__fail(r, 1, "type mismatch: ref.is_null of a number");
        int32_t d = push(c, LM_INTERP_I32);
        if (!live(c)) break;
        op(c, LM__OP_i64_eqz);
        imm(c, d), imm(c, v.slot);
        break;
    }
    case 0xd2: {
        uint32_t f = lm__u32(r);
        if (f >= m->nfuncs) lm__fail(r, 1, "unknown function %u", f);
        if (!m->declared_funcs[f]) lm__fail(r, 1, "undeclared function reference %u", f);
        int32_t d = push(c, LM_INTERP_FUNCREF);
        if (!live(c)) break;
        op(c, LM__OP_ref_func);
        imm(c, d), imm(c, f);
        break;
    }
    case 0xfc: fc_op(c); break;
    default: r->p--; lm__fail(r, 0, "illegal opcode 0x%02x", b);
    }
    return 1;
}

void lm__compile_body(lm_interp_module *m, uint32_t fi, lm__reader *r) {
    init_tables();
    cc *c = &scratch;
    c->m = m, c->r = r, c->h = lm__handlers();
    c->ncode = c->ntargets = c->nvs = c->ncs = 0;
    c->maxh = 0, c->last_op = -1, c->last_kind = -1;
    c->before_const_op = -1, c->before_const_kind = -1;
    const lm_interp_functype *ft = &m->types[m->func_types[m->nfunc_imports + fi]];
    /* Locals: the params, then the declared ones. */
    uint64_t n = ft->nparams;
    size_t cap = 0;
    free(c->ltypes);
    c->ltypes = NULL;
    c->ltypes = grow(c, c->ltypes, &cap, n + 1, 1);
    if (ft->nparams) memcpy(c->ltypes, ft->params, ft->nparams);
    uint32_t groups = lm__u32(r);
    for (uint32_t g = 0; g < groups; g++) {
        uint32_t k = lm__u32(r);
        if (n + k > MAX_LOCALS) lm__fail(r, 0, "too many locals");
        uint8_t t = lm__valtype(r);
        c->ltypes = grow(c, c->ltypes, &cap, n + k + 1, 1);
        memset(c->ltypes + n, t, k);
        n += k;
    }
    c->nlocals = (uint32_t)n;
    push_ctrl(c, C_FUNC, 0, NULL, ft->nresults, ft->results);
    c->cs[0].height = 0;
    while (instr(c)) {
        if (r->p >= r->end) lm__fail(r, 0, "unexpected end of section or function");
    }
    if (r->p != r->end) lm__fail(r, 0, "section size mismatch: code after the function's end");
    lm__code *code = &m->codes[fi];
    code->code = lm__code_alloc(m, (c->ncode ? c->ncode : 1) * sizeof(lm__cell));
    if (!code->code) lm__fail(r, 0, "out of memory");
    if (c->ncode) memcpy(code->code, c->code, c->ncode * sizeof(lm__cell));
    for (size_t i = 0; i < c->ntargets; i++) {
        int64_t to = code->code[c->targets[i]].i;
        code->code[c->targets[i]].t = &code->code[to];
    }
    code->ncells = (uint32_t)c->ncode;
    code->nparams = ft->nparams;
    code->nlocals = c->nlocals;
    code->frame_cells = c->nlocals + c->maxh + 1;
    code->type = m->func_types[m->nfunc_imports + fi];
}
