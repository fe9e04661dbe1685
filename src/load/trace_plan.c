/* trace_plan.c -- a trace into the load client's requests (trace_plan.h).
 * The trace room interns its strings, so a distinct path or body is made
 * once per distinct (function, runtime) or (function, payload) pointer
 * pair and found again by those pointers. */
#include "load/trace_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h"

typedef struct {
    const void *a, *b; /* the trace's interned strings this value was made of */
    size_t pool;       /* index of its value in the plan's pool */
} cache_entry;

typedef struct {
    lm_load_plan *p;
    const lm_trace *t;
    const char *path;
    lm_load_group_body_fn group;
    void *arg;
    cache_entry *cache;
    size_t ncache, cap;
} planner;

static lm_buf *pool_new(lm_load_plan *p) {
    if (p->npool == p->cap_pool) {
        size_t cap = p->cap_pool ? 2 * p->cap_pool : 16;
        lm_buf *n = realloc(p->pool, cap * sizeof(*n));
        if (!n) return NULL;
        p->pool = n;
        p->cap_pool = cap;
    }
    lm_buf *b = &p->pool[p->npool++];
    memset(b, 0, sizeof(*b));
    return b;
}

static lm_buf *cached(planner *r, const void *a, const void *b) {
    for (size_t i = 0; i < r->ncache; i++)
        if (r->cache[i].a == a && r->cache[i].b == b) return &r->p->pool[r->cache[i].pool];
    return NULL;
}

static int remember(planner *r, const void *a, const void *b) {
    if (r->ncache == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        cache_entry *n = realloc(r->cache, cap * sizeof(*n));
        if (!n) return LM_ERR;
        r->cache = n;
        r->cap = cap;
    }
    r->cache[r->ncache++] = (cache_entry){a, b, r->p->npool - 1};
    return LM_OK;
}

/* "/function/FN[@RT]", stored once. */
static const char *path_of(planner *r, const lm_trace_row *w, char *err) {
    lm_buf *b = cached(r, w->function, w->runtime);
    if (b) return b->data;
    if (!(b = pool_new(r->p)) ||
        lm_buf_printf(b, "/function/%s%s%s", w->function, *w->runtime ? "@" : "", w->runtime) !=
            LM_OK ||
        remember(r, w->function, w->runtime) != LM_OK) {
        lm_errf(err, "%s: out of memory", r->path);
        return NULL;
    }
    return b->data;
}

/* The body of a row's payload, stored once; NULL with err (row i). */
static lm_buf *body_of(planner *r, const lm_trace_row *w, size_t i, char *err) {
    const lm_trace_payload *pl = w->payload;
    /* A file's bytes are the same for every function; a group's are not. */
    const void *fn = pl->group ? (const void *)w->function : NULL;
    lm_buf *b = cached(r, fn, pl);
    if (b) return b;
    char e[LM_ERRLEN];
    lm_buf body = {0};
    if (pl->group) {
        if (!r->group) {
            lm_errf(err, "%s: row %zu: payload: %s needs the data set (give --data DIR)", r->path,
                    i + 1, pl->text);
            return NULL;
        }
        if (r->group(r->arg, w->function, pl->group, &body, e) != LM_OK) {
            lm_buf_free(&body);
            lm_errf(err, "%s: row %zu: payload: %s", r->path, i + 1, e);
            return NULL;
        }
    } else {
        size_t len = 0;
        char *data = lm_file_read(pl->path, &len, e);
        if (!data) {
            lm_errf(err, "%s: row %zu: payload: %s", r->path, i + 1, e);
            return NULL;
        }
        body.data = data;
        body.len = len;
        body.cap = len + 1;
    }
    if (!(b = pool_new(r->p)) || remember(r, fn, pl) != LM_OK) {
        lm_buf_free(&body);
        lm_errf(err, "%s: out of memory", r->path);
        return NULL;
    }
    *b = body;
    return b;
}

/* The header line after "# lumos-trace 1 ": mode, concurrency, the keys. */
static char *meta_of(const lm_trace *t) {
    lm_buf m = {0};
    int ok = lm_buf_printf(&m, "mode=%s", t->mode == LM_TRACE_CLOSED ? "closed" : "open") == LM_OK;
    if (ok && t->mode == LM_TRACE_CLOSED)
        ok = lm_buf_printf(&m, " concurrency=%d", t->concurrency) == LM_OK;
    for (size_t i = 0; ok && i < t->nkeys; i++)
        ok = lm_buf_printf(&m, " %s=%s", t->keys[i].key, t->keys[i].value) == LM_OK;
    if (ok) return m.data;
    lm_buf_free(&m);
    return NULL;
}

int lm_load_trace_plan(const char *path, lm_load_group_body_fn group, void *arg, lm_load_plan *p,
                       char *err) {
    memset(p, 0, sizeof(*p));
    lm_trace *t = NULL;
    if (lm_trace_read(path, &t, err) != LM_OK) return LM_ERR;
    planner r = {.p = p, .t = t, .path = path, .group = group, .arg = arg};
    int rc = LM_OK;
    p->closed = t->mode == LM_TRACE_CLOSED;
    p->concurrency = (unsigned)t->concurrency;
    if (!(p->meta = meta_of(t)) || !(p->reqs = calloc(t->nrows, sizeof(*p->reqs))))
        rc = lm_errf(err, "%s: out of memory", path);
    for (size_t i = 0; rc == LM_OK && i < t->nrows; i++) {
        const lm_trace_row *w = &t->rows[i];
        const char *req_path = path_of(&r, w, err);
        lm_buf *body = req_path ? body_of(&r, w, i, err) : NULL;
        if (!body) {
            rc = LM_ERR;
            break;
        }
        p->reqs[i] =
            (lm_load_req){.offset_ns = (uint64_t)w->offset_us * 1000u,
                          .path = req_path,
                          .body = body->data,
                          .body_len = body->len,
                          .headers = w->start == LM_START_COLD ? "X-Lumos-Start: cold\r\n" : NULL};
        p->n++;
    }
    free(r.cache);
    lm_trace_free(t);
    return rc;
}

void lm_load_plan_free(lm_load_plan *p) {
    if (!p) return;
    for (size_t i = 0; i < p->npool; i++)
        lm_buf_free(&p->pool[i]);
    free(p->pool);
    free(p->reqs);
    free(p->meta);
    memset(p, 0, sizeof(*p));
}
