/* decode.c -- lm_interp_load: the binary format's sections read and
 * validated (everything but the function bodies, which compile.c
 * translates), and the module's accessors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "interp/internal.h"

void lm__fail(lm__reader *r, int invalid, const char *fmt, ...) {
    char msg[LM_INTERP_ERRLEN - 48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(r->err, LM_INTERP_ERRLEN, "%s: %s (at byte 0x%zx)", invalid ? "invalid" : "malformed",
             msg, (size_t)(r->p - r->base));
    longjmp(r->fail, 1);
}

uint8_t lm__u8(lm__reader *r) {
    if (r->p >= r->end) lm__fail(r, 0, "unexpected end");
    return *r->p++;
}

static uint64_t leb_u(lm__reader *r, int bits) {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t b = lm__u8(r);
        if (shift + 7 > bits && shift < 64) {
            /* The last byte: its unused bits must be zero, and it must end. */
            int used = bits - shift;
            if (b & 0x80) lm__fail(r, 0, "integer representation too long");
            if (b >> used) lm__fail(r, 0, "integer too large");
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
}

static int64_t leb_s(lm__reader *r, int bits) {
    uint64_t v = 0;
    int shift = 0;
    uint8_t b;
    for (;;) {
        b = lm__u8(r);
        if (shift + 7 >= bits) {
            /* The last possible byte: it must end, and its bits above the
             * value's must all be copies of the sign bit. */
            int used = bits - shift;
            if (b & 0x80) lm__fail(r, 0, "integer representation too long");
            int top = (b & 0x7f) >> (used - 1);
            if (top != 0 && top != (0x7f >> (used - 1))) lm__fail(r, 0, "integer too large");
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

uint32_t lm__u32(lm__reader *r) { return (uint32_t)leb_u(r, 32); }
int32_t lm__s32(lm__reader *r) { return (int32_t)leb_s(r, 32); }
int64_t lm__s33(lm__reader *r) { return leb_s(r, 33); }
int64_t lm__s64(lm__reader *r) { return leb_s(r, 64); }

int lm__is_ref(uint8_t t) { return t == LM_INTERP_FUNCREF || t == LM_INTERP_EXTERNREF; }

uint8_t lm__valtype(lm__reader *r) {
    uint8_t t = lm__u8(r);
    if ((t >= 0x7c && t <= 0x7f) || lm__is_ref(t)) return t;
    r->p--;
    lm__fail(r, 0, "malformed value type 0x%02x", t);
}

static uint8_t reftype(lm__reader *r) {
    uint8_t t = lm__u8(r);
    if (!lm__is_ref(t)) {
        r->p--;
        lm__fail(r, 0, "malformed reference type 0x%02x", t);
    }
    return t;
}

static void *xcalloc(lm__reader *r, size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) lm__fail(r, 0, "out of memory");
    return p;
}

/* A vector's length, checked against the bytes left (each item takes at
 * least min_bytes). */
static uint32_t vec_len(lm__reader *r, size_t min_bytes) {
    uint32_t n = lm__u32(r);
    if (min_bytes && (uint64_t)n * min_bytes > (uint64_t)(r->end - r->p))
        lm__fail(r, 0, "length out of bounds");
    return n;
}

static int utf8_ok(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
            return 0;
        i += len;
    }
    return 1;
}

static char *name_n(lm__reader *r, uint32_t *len) {
    uint32_t n = vec_len(r, 1);
    *len = n;
    if (!utf8_ok(r->p, n)) lm__fail(r, 0, "malformed UTF-8 encoding");
    char *s = xcalloc(r, (size_t)n + 1, 1);
    memcpy(s, r->p, n);
    r->p += n;
    return s;
}

static char *name(lm__reader *r) {
    uint32_t n;
    return name_n(r, &n);
}

static void limits(lm__reader *r, lm__limits *l, uint64_t cap, const char *what) {
    uint8_t flags = lm__u8(r);
    if (flags > 1) lm__fail(r, 0, "integer too large");
    l->min = lm__u32(r);
    l->max = flags ? lm__u32(r) : UINT64_MAX;
    if (l->min > cap) lm__fail(r, 1, "%s size must be at most %llu", what, (unsigned long long)cap);
    if (flags && l->max > cap)
        lm__fail(r, 1, "%s size must be at most %llu", what, (unsigned long long)cap);
    if (flags && l->min > l->max) lm__fail(r, 1, "size minimum must not be greater than maximum");
}

static void table_type(lm__reader *r, lm__limits *l) {
    l->type = reftype(r);
    limits(r, l, UINT32_MAX, "table");
}

static void global_type(lm__reader *r, uint8_t *type, uint8_t *mut) {
    *type = lm__valtype(r);
    uint8_t m = lm__u8(r);
    if (m > 1) lm__fail(r, 0, "malformed mutability");
    *mut = m;
}

/* A constant expression of the given type (0: any, returned in c->type). */
/* m is const but for declared_funcs, which ref.func marks (a data segment's
 * offset, read again at instantiation, cannot hold one). */
static void const_expr(lm__reader *r, const lm_interp_module *m, lm__const *c, uint8_t want) {
    uint8_t op = lm__u8(r);
    c->op = op;
    switch (op) {
    case 0x41: c->type = LM_INTERP_I32, c->value = (uint32_t)lm__s32(r); break;
    case 0x42: c->type = LM_INTERP_I64, c->value = (uint64_t)lm__s64(r); break;
    case 0x43:
        if (r->end - r->p < 4) lm__fail(r, 0, "unexpected end");
        c->type = LM_INTERP_F32, c->value = 0, memcpy(&c->value, r->p, 4), r->p += 4;
        break;
    case 0x44:
        if (r->end - r->p < 8) lm__fail(r, 0, "unexpected end");
        c->type = LM_INTERP_F64, memcpy(&c->value, r->p, 8), r->p += 8;
        break;
    case 0x23: {
        uint32_t g = lm__u32(r);
        if (g >= m->nglobal_imports) lm__fail(r, 1, "unknown global %u", g);
        if (m->globals[g].mut) lm__fail(r, 1, "constant expression required");
        c->type = m->globals[g].type, c->value = g;
        break;
    }
    case 0xd0: c->type = reftype(r), c->value = 0; break;
    case 0xd2: {
        uint32_t f = lm__u32(r);
        if (f >= m->nfuncs) lm__fail(r, 1, "unknown function %u", f);
        m->declared_funcs[f] = 1;
        c->type = LM_INTERP_FUNCREF, c->value = f;
        break;
    }
    case 0x0b: lm__fail(r, 1, "type mismatch: constant expression is empty");
    default:
        if ((op >= 0x45 && op <= 0xc4) || op == 0x20 || op == 0x24 || op == 0x1a)
            lm__fail(r, 1, "constant expression required");
        lm__fail(r, 0, "illegal opcode 0x%02x in a constant expression", op);
    }
    uint8_t end = lm__u8(r);
    if (end != 0x0b) {
        if ((end >= 0x41 && end <= 0xc4) || end == 0x23 || end == 0xd0 || end == 0xd2)
            lm__fail(r, 1, "type mismatch: constant expression leaves more than one value");
        lm__fail(r, 0, "illegal opcode in a constant expression");
    }
    if (want && c->type != want) lm__fail(r, 1, "type mismatch in a constant expression");
}

static void type_section(lm__reader *r, lm_interp_module *m) {
    uint32_t n = vec_len(r, 3);
    m->types = xcalloc(r, n, sizeof(*m->types));
    m->ntypes = n;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        if (lm__u8(r) != 0x60) lm__fail(r, 0, "integer representation too long: bad type form");
        lm_interp_functype *t = &m->types[i];
        t->nparams = vec_len(r, 1);
        uint8_t *p = xcalloc(r, t->nparams, 1);
        t->params = p;
        for (uint32_t k = 0; k < t->nparams; k++)
            p[k] = lm__valtype(r);
        t->nresults = vec_len(r, 1);
        uint8_t *q = xcalloc(r, t->nresults, 1);
        t->results = q;
        for (uint32_t k = 0; k < t->nresults; k++)
            q[k] = lm__valtype(r);
    }
}

static void import_section(lm__reader *r, lm_interp_module *m) {
    uint32_t n = vec_len(r, 4);
    m->imports = xcalloc(r, n, sizeof(*m->imports));
    m->nimports = n;
    m->import_index = xcalloc(r, m->nimports, sizeof(uint32_t));
    /* Each kind's imports come first in its index space: sized here, the
     * defined ones are appended by later sections. */
    m->func_types = xcalloc(r, m->nimports, sizeof(uint32_t));
    m->tables = xcalloc(r, m->nimports, sizeof(lm__limits));
    m->globals = xcalloc(r, m->nimports, sizeof(lm__global_decl));
    for (uint32_t i = 0; i < m->nimports; i++) {
        lm_interp_import *im = &m->imports[i];
        im->module = name(r);
        im->name = name(r);
        uint8_t kind = lm__u8(r);
        im->kind = kind;
        switch (kind) {
        case LM_INTERP_FUNC: {
            uint32_t t = lm__u32(r);
            if (t >= m->ntypes) lm__fail(r, 1, "unknown type %u", t);
            im->func = m->types[t];
            m->import_index[i] = m->nfuncs;
            m->func_types[m->nfuncs++] = t;
            break;
        }
        case LM_INTERP_TABLE: {
            lm__limits *l = &m->tables[m->ntables];
            table_type(r, l);
            im->table_type = l->type, im->limit_min = l->min, im->limit_max = l->max;
            m->import_index[i] = m->ntables++;
            break;
        }
        case LM_INTERP_MEMORY:
            limits(r, &m->mem, 65536, "memory");
            if (m->nmems) lm__fail(r, 1, "multiple memories");
            im->limit_min = m->mem.min, im->limit_max = m->mem.max;
            m->import_index[i] = m->nmems++;
            break;
        case LM_INTERP_GLOBAL: {
            lm__global_decl *g = &m->globals[m->nglobals];
            global_type(r, &g->type, &g->mut);
            im->global_type = g->type, im->global_mutable = g->mut;
            m->import_index[i] = m->nglobals++;
            break;
        }
        default: lm__fail(r, 0, "malformed import kind %u", kind);
        }
    }
    m->nfunc_imports = m->nfuncs, m->ntable_imports = m->ntables;
    m->nmem_imports = m->nmems, m->nglobal_imports = m->nglobals;
}

static void *grow(lm__reader *r, void *p, size_t n, size_t size) {
    void *q = realloc(p, (n ? n : 1) * size);
    if (!q) lm__fail(r, 0, "out of memory");
    return q;
}

static void function_section(lm__reader *r, lm_interp_module *m) {
    uint32_t n = vec_len(r, 1);
    m->func_types = grow(r, m->func_types, (size_t)m->nfuncs + n, sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = lm__u32(r);
        if (t >= m->ntypes) lm__fail(r, 1, "unknown type %u", t);
        m->func_types[m->nfuncs++] = t;
    }
}

static void table_section(lm__reader *r, lm_interp_module *m) {
    uint32_t n = vec_len(r, 3);
    m->tables = grow(r, m->tables, (size_t)m->ntables + n, sizeof(lm__limits));
    for (uint32_t i = 0; i < n; i++)
        table_type(r, &m->tables[m->ntables++]);
}

static void memory_section(lm__reader *r, lm_interp_module *m) {
    uint32_t n = vec_len(r, 2);
    for (uint32_t i = 0; i < n; i++) {
        if (m->nmems) lm__fail(r, 1, "multiple memories");
        limits(r, &m->mem, 65536, "memory");
        m->nmems++;
    }
}

static void global_section(lm__reader *r, lm_interp_module *m) {
    uint32_t n = vec_len(r, 4);
    m->globals = grow(r, m->globals, (size_t)m->nglobals + n, sizeof(lm__global_decl));
    for (uint32_t i = 0; i < n; i++) {
        lm__global_decl *g = &m->globals[m->nglobals];
        global_type(r, &g->type, &g->mut);
        const_expr(r, m, &g->init, g->type);
        m->nglobals++;
    }
}

static void export_section(lm__reader *r, lm_interp_module *m) {
    uint32_t n = vec_len(r, 3);
    m->exports = xcalloc(r, n, sizeof(*m->exports));
    m->nexports = n;
    for (uint32_t i = 0; i < m->nexports; i++) {
        lm__export *e = &m->exports[i];
        e->name = name_n(r, &e->name_len);
        e->kind = lm__u8(r);
        e->index = lm__u32(r);
        uint32_t count[] = {m->nfuncs, m->ntables, m->nmems, m->nglobals};
        if (e->kind > 3) lm__fail(r, 0, "malformed export kind %u", e->kind);
        if (e->index >= count[e->kind]) lm__fail(r, 1, "unknown export index %u", e->index);
        if (e->kind == LM_INTERP_FUNC) m->declared_funcs[e->index] = 1;
        for (uint32_t k = 0; k < i; k++)
            if (m->exports[k].name_len == e->name_len &&
                !memcmp(m->exports[k].name, e->name, e->name_len))
                lm__fail(r, 1, "duplicate export name %s", e->name);
    }
}

static void elem_section(lm__reader *r, lm_interp_module *m) {
    uint32_t n = vec_len(r, 1);
    m->elems = xcalloc(r, n, sizeof(*m->elems));
    m->nelems = n;
    for (uint32_t i = 0; i < m->nelems; i++) {
        lm__elem *e = &m->elems[i];
        uint32_t flags = lm__u32(r);
        if (flags > 7) lm__fail(r, 0, "malformed elements segment kind %u", flags);
        e->mode =
            (flags & 1) ? ((flags & 2) ? LM__SEG_DECLARATIVE : LM__SEG_PASSIVE) : LM__SEG_ACTIVE;
        e->table = (flags & 2) && !(flags & 1) ? lm__u32(r) : 0;
        if (e->mode == LM__SEG_ACTIVE) {
            if (e->table >= m->ntables) lm__fail(r, 1, "unknown table %u", e->table);
            const_expr(r, m, &e->offset, LM_INTERP_I32);
        }
        int exprs = flags & 4;
        e->type = LM_INTERP_FUNCREF;
        if (flags & 3) {
            if (exprs) {
                e->type = reftype(r);
            } else if (lm__u8(r) != 0x00) {
                lm__fail(r, 0, "malformed element kind");
            }
        }
        e->n = vec_len(r, 1);
        e->items = xcalloc(r, e->n, sizeof(lm__const));
        for (uint32_t k = 0; k < e->n; k++) {
            if (exprs) {
                const_expr(r, m, &e->items[k], e->type);
            } else {
                uint32_t f = lm__u32(r);
                if (f >= m->nfuncs) lm__fail(r, 1, "unknown function %u", f);
                m->declared_funcs[f] = 1;
                e->items[k] = (lm__const){0xd2, LM_INTERP_FUNCREF, f};
            }
        }
        if (e->mode == LM__SEG_ACTIVE && m->tables[e->table].type != e->type)
            lm__fail(r, 1, "type mismatch: element segment of the wrong type for its table");
    }
}

/* One data segment at r: its mode, offset and bytes (pointing into r's buffer). */
static void data_segment(lm__reader *r, const lm_interp_module *m, lm__data *d) {
    uint32_t flags = lm__u32(r);
    if (flags > 2) lm__fail(r, 0, "malformed data segment kind %u", flags);
    d->mode = flags == 1 ? LM__SEG_PASSIVE : LM__SEG_ACTIVE;
    if (d->mode == LM__SEG_ACTIVE) {
        uint32_t mem = flags == 2 ? lm__u32(r) : 0;
        if (mem >= m->nmems) lm__fail(r, 1, "unknown memory %u", mem);
        const_expr(r, m, &d->offset, LM_INTERP_I32);
    }
    d->len = vec_len(r, 1);
    d->bytes = r->p;
    r->p += d->len;
}

/* Validates every segment, then keeps the section's bytes whole (borrowed, or
 * one copy) rather than a record and a copy per segment: clang puts every
 * constant in a segment of its own (language-detection.wasm has 14257), and
 * a record each is half a megabyte that a cold process must fault in. Active
 * segments are read again at instantiation (lm__data_each); only a module with
 * passive ones, which memory.init names by index, gets the datas[] table. */
static void data_section(lm__reader *r, lm_interp_module *m) {
    uint32_t n = vec_len(r, 1);
    if (m->has_datacount && n != m->datacount)
        lm__fail(r, 0, "data count and data section have inconsistent lengths");
    const uint8_t *start = r->p;
    m->data_lo = UINT64_MAX;
    int all_const = 1;
    for (uint32_t i = 0; i < n; i++) {
        lm__data d;
        data_segment(r, m, &d);
        if (d.mode == LM__SEG_PASSIVE) {
            m->npassive_datas++;
        } else if (d.offset.op != 0x41) {
            all_const = 0;
        } else if (d.len) {
            uint64_t off = (uint32_t)d.offset.value;
            if (off < m->data_lo) m->data_lo = off;
            if (off + d.len > m->data_hi) m->data_hi = off + d.len;
        }
    }
    if (!all_const || m->data_lo > m->data_hi) m->data_lo = m->data_hi = 0;
    m->ndatas = n;
    m->has_data_section = 1;
    size_t size = (size_t)(r->p - start);
    if (m->borrowing || !size) {
        m->data_sec = start;
    } else {
        m->data_bytes = xcalloc(r, size, 1);
        memcpy(m->data_bytes, start, size);
        m->data_sec = m->data_bytes;
    }
    m->data_end = m->data_sec + size;
    if (!m->npassive_datas) return;
    m->datas = xcalloc(r, n, sizeof(*m->datas));
    lm__reader again = *r;
    again.base = again.p = m->data_sec, again.end = m->data_end;
    for (uint32_t i = 0; i < n; i++)
        data_segment(&again, m, &m->datas[i]);
}

int lm__data_each(const lm_interp_module *m, lm__data_fn fn, void *arg) {
    char err[LM_INTERP_ERRLEN];
    lm__reader r = {.base = m->data_sec, .p = m->data_sec, .end = m->data_end, .err = err};
    if (setjmp(r.fail)) return -1; /* validated at load: cannot happen */
    for (uint32_t i = 0; i < m->ndatas; i++) {
        lm__data d;
        data_segment(&r, m, &d);
        int rc = fn(arg, i, &d);
        if (rc) return rc;
    }
    return 0;
}

static void code_section(lm__reader *r, lm_interp_module *m, uint32_t nfuncs_declared) {
    uint32_t n = vec_len(r, 1);
    if (n != nfuncs_declared) lm__fail(r, 0, "function and code section have inconsistent lengths");
    lm__code_arena(m, (size_t)(r->end - r->p));
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size = lm__u32(r);
        if (size > (uint64_t)(r->end - r->p))
            lm__fail(r, 0, "unexpected end of section or function");
        lm__reader body = *r;
        body.end = r->p + size;
        /* The body reader fails through the same jump as this one. */
        memcpy(body.fail, r->fail, sizeof(jmp_buf));
        lm__compile_body(m, i, &body);
        r->p += size;
    }
    lm__code_arena_trim(m);
}

/* Section order: custom sections anywhere, the others by this rank. */
static int rank(uint8_t id) {
    static const int ranks[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return id < sizeof(ranks) / sizeof(ranks[0]) ? ranks[id] : -1;
}

static void module(lm__reader *r, lm_interp_module *m) {
    static const uint8_t magic[] = {0, 'a', 's', 'm'}, version[] = {1, 0, 0, 0};
    if (r->end - r->p < 4 || memcmp(r->p, magic, 4)) lm__fail(r, 0, "magic header not detected");
    r->p += 4;
    if (r->end - r->p < 4 || memcmp(r->p, version, 4)) lm__fail(r, 0, "unknown binary version");
    r->p += 4;
    int last = 0;
    uint32_t nfuncs_declared = 0;
    int have_code = 0;
    while (r->p < r->end) {
        uint8_t id = lm__u8(r);
        uint32_t size = lm__u32(r);
        if (size > (uint64_t)(r->end - r->p)) lm__fail(r, 0, "length out of bounds: section size");
        const uint8_t *section_end = r->p + size;
        if (rank(id) < 0) lm__fail(r, 0, "malformed section id %u", id);
        if (id != 0) {
            if (rank(id) <= last) lm__fail(r, 0, "unexpected content after last section (order)");
            last = rank(id);
        }
        lm__reader s = *r;
        s.end = section_end;
        memcpy(s.fail, r->fail, sizeof(jmp_buf));
        /* The function count is final once the function section is read:
         * the sections after it may mark functions as referenced. */
        if (id != 0 && rank(id) > 3 && !m->declared_funcs)
            m->declared_funcs = xcalloc(r, m->nfuncs, 1);
        switch (id) {
        case 0: free(name(&s)), s.p = section_end; break;
        case 1: type_section(&s, m); break;
        case 2: import_section(&s, m); break;
        case 3: {
            uint32_t before = m->nfuncs;
            function_section(&s, m);
            nfuncs_declared = m->nfuncs - before;
            break;
        }
        case 4: table_section(&s, m); break;
        case 5: memory_section(&s, m); break;
        case 6: global_section(&s, m); break;
        case 7: export_section(&s, m); break;
        case 8: {
            uint32_t f = lm__u32(&s);
            if (f >= m->nfuncs) lm__fail(&s, 1, "unknown function %u", f);
            const lm_interp_functype *t = &m->types[m->func_types[f]];
            if (t->nparams || t->nresults) lm__fail(&s, 1, "start function must be () -> ()");
            m->start = f;
            break;
        }
        case 9: elem_section(&s, m); break;
        case 12:
            m->has_datacount = 1;
            m->datacount = lm__u32(&s);
            break;
        case 10:
            m->codes = xcalloc(r, nfuncs_declared, sizeof(lm__code));
            code_section(&s, m, nfuncs_declared);
            have_code = 1;
            break;
        case 11: data_section(&s, m); break;
        }
        if (s.p != section_end) lm__fail(&s, 0, "section size mismatch");
        r->p = section_end;
    }
    if (nfuncs_declared && !have_code)
        lm__fail(r, 0, "function and code section have inconsistent lengths");
    if (m->has_datacount && !m->has_data_section && m->datacount)
        lm__fail(r, 0, "data count and data section have inconsistent lengths");
}

static lm_interp_module *load(const uint8_t *bytes, size_t len, int borrowing, char *err) {
    lm_interp_module *volatile m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, LM_INTERP_ERRLEN, "out of memory");
        return NULL;
    }
    m->start = -1;
    m->borrowing = borrowing;
    lm__reader r = {.base = bytes, .p = bytes, .end = bytes + len, .err = err};
    if (setjmp(r.fail)) {
        lm__compile_done();
        lm_interp_module_free(m);
        return NULL;
    }
    module(&r, m);
    lm__compile_done();
    return m;
}

lm_interp_module *lm_interp_load(const uint8_t *bytes, size_t len, char *err) {
    return load(bytes, len, 0, err);
}

lm_interp_module *lm_interp_load_borrowing(const uint8_t *bytes, size_t len, char *err) {
    return load(bytes, len, 1, err);
}

void lm_interp_module_free(lm_interp_module *m) {
    if (!m) return;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        free((void *)m->types[i].params);
        free((void *)m->types[i].results);
    }
    free(m->types);
    for (uint32_t i = 0; i < m->nimports; i++) {
        free((void *)m->imports[i].module);
        free((void *)m->imports[i].name);
    }
    free(m->imports);
    free(m->import_index);
    free(m->func_types);
    if (m->codes)
        for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
            lm__code_free(m, m->codes[i].code);
    free(m->codes);
    if (m->arena) munmap(m->arena, m->arena_size);
    free(m->tables);
    free(m->globals);
    for (uint32_t i = 0; i < m->nexports; i++)
        free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    free(m->data_bytes);
    free(m->declared_funcs);
    free(m);
}

size_t lm_interp_import_count(const lm_interp_module *m) { return m->nimports; }

const lm_interp_import *lm_interp_import_at(const lm_interp_module *m, size_t i) {
    return i < m->nimports ? &m->imports[i] : NULL;
}

size_t lm_interp_export_count(const lm_interp_module *m) { return m->nexports; }

const char *lm_interp_export_at(const lm_interp_module *m, size_t i, enum lm_interp_kind *kind) {
    if (i >= m->nexports) return NULL;
    if (kind) *kind = m->exports[i].kind;
    return m->exports[i].name;
}

long lm_interp_find_export(const lm_interp_module *m, const char *nm, enum lm_interp_kind kind) {
    return lm_interp_find_export_n(m, nm, strlen(nm), kind);
}

long lm_interp_find_export_n(const lm_interp_module *m, const char *nm, size_t len,
                             enum lm_interp_kind kind) {
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == kind && m->exports[i].name_len == len &&
            !memcmp(m->exports[i].name, nm, len))
            return (long)i;
    return -1;
}

lm_interp_functype lm_interp_export_functype(const lm_interp_module *m, size_t i) {
    return m->types[m->func_types[m->exports[i].index]];
}

int lm__functype_eq(const lm_interp_functype *a, const lm_interp_functype *b) {
    return a == b || (a->nparams == b->nparams && a->nresults == b->nresults &&
                      !memcmp(a->params, b->params, a->nparams) &&
                      !memcmp(a->results, b->results, a->nresults));
}
