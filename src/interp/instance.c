/* instance.c -- instantiation (imports bound and checked, memory, tables
 * and globals made, segments applied, start run), invocation of exports,
 * and the accessors tests use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/internal.h"

/* Instances whose instantiation trapped after a segment had written into
 * an imported table: their functions may still be called through it (the
 * spec keeps them in the store), so they live until
 * lm_interp_release_failed. */
static lm_interp_instance **failed;
static size_t nfailed;

static void free_instance(lm_interp_instance *inst) {
    if (!inst) return;
    for (uint32_t i = 0; inst->own_tables && i < inst->mod->ntables - inst->mod->ntable_imports;
         i++)
        free(inst->own_tables[i].elems);
    free(inst->own_tables);
    free(inst->tables);
    free(inst->own_mem.data);
    free(inst->own_globals);
    free(inst->globals);
    free(inst->host_funcs);
    free(inst->own_funcs);
    free(inst->funcs);
    free(inst->data_dropped);
    free(inst->elem_dropped);
    free(inst);
}

void lm_interp_instance_free(lm_interp_instance *inst) { free_instance(inst); }

void lm_interp_release_failed(void) {
    for (size_t i = 0; i < nfailed; i++)
        free_instance(failed[i]);
    free(failed);
    failed = NULL;
    nfailed = 0;
}

static const char *kind_name(uint8_t k) {
    static const char *names[] = {"func", "table", "memory", "global"};
    return k < 4 ? names[k] : "?";
}

static uint64_t eval(const lm_interp_instance *inst, const lm__const *c) {
    switch (c->op) {
    case 0x23: return *inst->globals[c->value];
    case 0xd2: return (uint64_t)(uintptr_t)inst->funcs[c->value];
    case 0xd0: return 0;
    default: return c->value;
    }
}

/* An active data segment copied to its place (lm__data_each's callback);
 * non-zero when it does not fit. */
static int init_data(void *arg, uint32_t i, const lm__data *d) {
    lm_interp_instance *inst = arg;
    if (d->mode != LM__SEG_ACTIVE) return 0;
    inst->data_dropped[i] = 1;
    uint64_t off = (uint32_t)eval(inst, &d->offset);
    if (off + d->len > inst->mem->size) return 1;
    if (d->len) memcpy(inst->mem->data + off, d->bytes, d->len);
    return 0;
}

/* Binds import i; returns 0 or writes why. */
static int bind(lm_interp_instance *inst, uint32_t i, const lm_interp_binding *b, char *why) {
    const lm_interp_module *m = inst->mod;
    const lm_interp_import *im = &m->imports[i];
    uint32_t at = m->import_index[i];
    if (!b->from) {
        if (im->kind != LM_INTERP_FUNC || !b->fn) {
            snprintf(why, LM_INTERP_ERRLEN, "incompatible import type: the host gives no %s",
                     kind_name(im->kind));
            return -1;
        }
        lm__func *f = &inst->host_funcs[at];
        f->type = &m->types[m->func_types[at]];
        f->host = b->fn;
        f->ctx = b->ctx;
        inst->funcs[at] = f;
        return 0;
    }
    const lm_interp_instance *from = b->from;
    const lm_interp_module *fm = from->mod;
    if (b->export_index >= fm->nexports || fm->exports[b->export_index].kind != im->kind) {
        snprintf(why, LM_INTERP_ERRLEN, "incompatible import type: not a %s", kind_name(im->kind));
        return -1;
    }
    uint32_t x = fm->exports[b->export_index].index;
    switch (im->kind) {
    case LM_INTERP_FUNC: {
        lm__func *f = from->funcs[x];
        if (!lm__functype_eq(f->type, &m->types[m->func_types[at]])) {
            snprintf(why, LM_INTERP_ERRLEN, "incompatible import type: function type differs");
            return -1;
        }
        inst->funcs[at] = f;
        return 0;
    }
    case LM_INTERP_GLOBAL: {
        const lm__global_decl *g = &fm->globals[x];
        if (g->type != im->global_type || g->mut != im->global_mutable) {
            snprintf(why, LM_INTERP_ERRLEN, "incompatible import type: global type differs");
            return -1;
        }
        inst->globals[at] = from->globals[x];
        return 0;
    }
    case LM_INTERP_MEMORY: {
        lm__memory *mem = from->mem;
        if (mem->pages < im->limit_min ||
            (im->limit_max != UINT64_MAX && (mem->max == UINT64_MAX || mem->max > im->limit_max))) {
            snprintf(why, LM_INTERP_ERRLEN, "incompatible import type: memory limits differ");
            return -1;
        }
        inst->mem = mem;
        return 0;
    }
    case LM_INTERP_TABLE: {
        lm__table *t = from->tables[x];
        if (t->type != im->table_type || t->size < im->limit_min ||
            (im->limit_max != UINT64_MAX && (t->max == UINT64_MAX || t->max > im->limit_max))) {
            snprintf(why, LM_INTERP_ERRLEN, "incompatible import type: table type differs");
            return -1;
        }
        inst->tables[at] = t;
        return 0;
    }
    }
    return -1;
}

lm_interp_instance *lm_interp_instantiate(const lm_interp_module *m, lm_interp_resolve_fn resolve,
                                          void *ud, char *err, lm_interp_trap *trap) {
    if (trap) *trap = LM_INTERP_TRAP_NONE;
    lm_interp_instance *inst = calloc(1, sizeof(*inst));
    if (!inst) goto oom;
    inst->mod = m;
    inst->fuel = INT64_MAX;
    uint32_t nown = m->nfuncs - m->nfunc_imports;
    inst->funcs = calloc(m->nfuncs + 1, sizeof(lm__func *));
    inst->own_funcs = calloc(nown + 1, sizeof(lm__func));
    inst->host_funcs = calloc(m->nfunc_imports + 1, sizeof(lm__func));
    inst->globals = calloc(m->nglobals + 1, sizeof(uint64_t *));
    inst->own_globals = calloc(m->nglobals + 1, sizeof(uint64_t));
    inst->tables = calloc(m->ntables + 1, sizeof(lm__table *));
    inst->own_tables = calloc(m->ntables - m->ntable_imports + 1, sizeof(lm__table));
    inst->data_dropped = calloc(m->ndatas + 1, 1);
    inst->elem_dropped = calloc(m->nelems + 1, 1);
    if (!inst->funcs || !inst->own_funcs || !inst->host_funcs || !inst->globals ||
        !inst->own_globals || !inst->tables || !inst->own_tables || !inst->data_dropped ||
        !inst->elem_dropped)
        goto oom;

    /* Imports, each checked against its declaration. */
    char why[LM_INTERP_ERRLEN];
    for (uint32_t i = 0; i < m->nimports; i++) {
        lm_interp_binding b = {0};
        why[0] = 0;
        const lm_interp_import *im = &m->imports[i];
        if (!resolve || resolve(ud, im, &b, why) || bind(inst, i, &b, why)) {
            snprintf(err, LM_INTERP_ERRLEN, "cannot link: import %.60s.%.60s (%s): %.100s",
                     im->module, im->name, kind_name(im->kind), why[0] ? why : "unknown import");
            free_instance(inst);
            return NULL;
        }
    }
    for (uint32_t i = 0; i < nown; i++) {
        lm__func *f = &inst->own_funcs[i];
        f->inst = inst;
        f->code = &m->codes[i];
        f->type = &m->types[m->codes[i].type];
        inst->funcs[m->nfunc_imports + i] = f;
    }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        inst->globals[i] = &inst->own_globals[i];
        inst->own_globals[i] = eval(inst, &m->globals[i].init);
    }
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        lm__table *t = &inst->own_tables[i - m->ntable_imports];
        t->type = m->tables[i].type;
        t->size = m->tables[i].min;
        t->max = m->tables[i].max;
        t->elems = calloc((size_t)t->size + 1, sizeof(uint64_t));
        if (!t->elems) goto oom;
        inst->tables[i] = t;
    }
    if (m->nmems > m->nmem_imports) {
        lm__memory *mem = &inst->own_mem;
        mem->pages = m->mem.min;
        mem->max = m->mem.max;
        mem->size = mem->pages * 65536;
        mem->data = calloc((size_t)mem->size + 1, 1);
        if (!mem->data) goto oom;
        inst->mem = mem;
    }

    /* Segments, in order: a trap stops there, what was written stays. */
    lm_interp_trap t = LM_INTERP_TRAP_NONE;
    for (uint32_t i = 0; i < m->nelems && !t; i++) {
        const lm__elem *e = &m->elems[i];
        if (e->mode == LM__SEG_PASSIVE) continue;
        inst->elem_dropped[i] = 1;
        if (e->mode != LM__SEG_ACTIVE) continue;
        lm__table *tab = inst->tables[e->table];
        uint64_t off = (uint32_t)eval(inst, &e->offset);
        if (off + e->n > tab->size) {
            t = LM_INTERP_TRAP_TABLE_OOB;
            break;
        }
        for (uint32_t k = 0; k < e->n; k++)
            tab->elems[off + k] = eval(inst, &e->items[k]);
    }
    if (!t && m->data_hi && m->data_hi <= inst->mem->size)
        lm__populate(inst->mem->data + m->data_lo, (size_t)(m->data_hi - m->data_lo));
    if (!t && m->ndatas && lm__data_each(m, init_data, inst)) t = LM_INTERP_TRAP_MEMORY_OOB;
    if (!t && m->start >= 0) {
        lm__stack *st = lm__thread_stack();
        t = st ? lm__call(inst, inst->funcs[m->start], st->base) : LM_INTERP_TRAP_EXHAUSTION;
    }
    if (t) {
        if (t != LM_INTERP_TRAP_HOST) inst->trap_text = lm__trap_text(t);
        snprintf(err, LM_INTERP_ERRLEN, "trap: %.200s", inst->trap_text);
        if (trap) *trap = t;
        lm_interp_instance **nf = realloc(failed, (nfailed + 1) * sizeof(*failed));
        if (nf) {
            failed = nf;
            failed[nfailed++] = inst;
        } else {
            free_instance(inst);
        }
        return NULL;
    }
    return inst;
oom:
    snprintf(err, LM_INTERP_ERRLEN, "out of memory");
    free_instance(inst);
    return NULL;
}

lm_interp_trap lm_interp_invoke(lm_interp_instance *inst, size_t export_index, const uint64_t *args,
                                uint64_t *results) {
    const lm_interp_module *m = inst->mod;
    const lm__func *f = inst->funcs[m->exports[export_index].index];
    lm__stack *st = lm__thread_stack();
    if (!st) return LM_INTERP_TRAP_EXHAUSTION;
    uint64_t *fp = st->base;
    if (f->type->nparams) memcpy(fp, args, f->type->nparams * sizeof(uint64_t));
    lm_interp_trap t = lm__call(inst, f, fp);
    if (t) return t;
    if (f->type->nresults) memcpy(results, fp, f->type->nresults * sizeof(uint64_t));
    return LM_INTERP_TRAP_NONE;
}

const char *lm_interp_trap_text(const lm_interp_instance *inst) {
    return inst->trap_text ? inst->trap_text : "no trap";
}

uint64_t *lm_interp_export_global(lm_interp_instance *inst, size_t export_index, uint8_t *type) {
    const lm_interp_module *m = inst->mod;
    if (export_index >= m->nexports || m->exports[export_index].kind != LM_INTERP_GLOBAL)
        return NULL;
    uint32_t g = m->exports[export_index].index;
    if (type) *type = m->globals[g].type;
    return inst->globals[g];
}

uint8_t *lm_interp_memory(lm_interp_instance *inst, uint64_t *size) {
    if (!inst->mem) {
        *size = 0;
        return NULL;
    }
    *size = inst->mem->size;
    return inst->mem->data;
}

void lm_interp_set_fuel(lm_interp_instance *inst, int64_t fuel) { inst->fuel = fuel; }

void lm_interp_interrupt(lm_interp_instance *inst) { inst->fuel = 0; }
