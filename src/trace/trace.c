/* trace.c -- the in-memory trace (trace.h): making one, its header keys,
 * its rows and the strings they share, sorting, freeing. */
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"

struct lm__trace_store {
    lm__intern strs[2];         /* function names, runtime names */
    lm__intern payload_text;    /* payload texts, by index */
    lm_trace_payload **payload; /* parsed, same index */
    size_t cap_rows;
};

lm_trace *lm_trace_new(lm_trace_mode mode, int concurrency, const char *dir) {
    lm_trace *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->store = calloc(1, sizeof(*t->store));
    t->dir = strdup(dir && *dir ? dir : ".");
    if (!t->store || !t->dir) {
        lm_trace_free(t);
        return NULL;
    }
    t->mode = mode;
    t->concurrency = mode == LM_TRACE_CLOSED ? (concurrency > 0 ? concurrency : 1) : 0;
    return t;
}

static int key_ok(const char *k) { return *k && !strpbrk(k, "= \t\r\n"); }

int lm_trace_set_key(lm_trace *t, const char *key, const char *value, char *err) {
    if (!key_ok(key))
        return lm_errf(err, "header key '%s': a key is non-empty, without '=' or spaces", key);
    if (strcmp(key, "mode") == 0 || strcmp(key, "concurrency") == 0)
        return lm_errf(err, "header key '%s' is set by the trace's mode, not as a key", key);
    if (!*value || strpbrk(value, " \t\r\n"))
        return lm_errf(err, "header key '%s': the value '%s' must be non-empty, without spaces",
                       key, value);
    char *v = strdup(value);
    if (!v) return lm_errf(err, "out of memory");
    for (size_t i = 0; i < t->nkeys; i++)
        if (strcmp(t->keys[i].key, key) == 0) {
            free(t->keys[i].value);
            t->keys[i].value = v;
            return LM_OK;
        }
    lm_trace_key *keys = realloc(t->keys, (t->nkeys + 1) * sizeof(*keys));
    char *k = strdup(key);
    if (!keys || !k) {
        if (keys) t->keys = keys;
        free(v);
        free(k);
        return lm_errf(err, "out of memory");
    }
    t->keys = keys;
    t->keys[t->nkeys].key = k;
    t->keys[t->nkeys].value = v;
    t->nkeys++;
    return LM_OK;
}

const char *lm_trace_get_key(const lm_trace *t, const char *key) {
    for (size_t i = 0; i < t->nkeys; i++)
        if (strcmp(t->keys[i].key, key) == 0) return t->keys[i].value;
    return NULL;
}

const char *lm__trace_str(lm_trace *t, int kind, const char *s, int *added) {
    int a;
    lm__intern *in = &t->store->strs[kind ? 1 : 0];
    long k = lm__intern_put(in, s, strlen(s), added ? added : &a);
    return k < 0 ? NULL : in->str[k];
}

const lm_trace_payload *lm__trace_payload(lm_trace *t, const char *text, int *added, char *err) {
    lm__trace_store *st = t->store;
    *added = 0;
    long k = lm__intern_find(&st->payload_text, text, strlen(text));
    if (k >= 0) return st->payload[k];
    int group = strncmp(text, "group:", 6) == 0, file = strncmp(text, "file:", 5) == 0;
    if (!group && !file) {
        lm_trace_check_payload(text, t->dir, err); /* says what is wrong with it */
        return NULL;
    }
    lm_trace_payload *p = calloc(1, sizeof(*p));
    lm_trace_payload **v = realloc(st->payload, (st->payload_text.n + 1) * sizeof(*v));
    if (v) st->payload = v;
    if (!p || !v) goto oom;
    if (file) {
        const char *path = text + 5;
        size_t n = strlen(t->dir) + strlen(path) + 2;
        char *full = malloc(n);
        if (!full) goto oom;
        if (path[0] == '/' || strcmp(t->dir, ".") == 0)
            snprintf(full, n, "%s", path);
        else
            snprintf(full, n, "%s/%s", t->dir, path);
        p->path = full;
    }
    k = lm__intern_put(&st->payload_text, text, strlen(text), added);
    if (k < 0) goto oom;
    p->text = st->payload_text.str[k];
    if (group) p->group = p->text + 6;
    st->payload[k] = p;
    return p;
oom:
    if (p) free((char *)p->path);
    free(p);
    lm_errf(err, "out of memory");
    return NULL;
}

int lm__trace_push(lm_trace *t, int64_t offset_us, const char *function, const char *runtime,
                   const lm_trace_payload *payload, lm_trace_start start, char *err) {
    lm__trace_store *st = t->store;
    if (t->nrows == LM_TRACE_MAX_ROWS)
        return lm_errf(err, "more than %d rows: a trace holds at most that many",
                       LM_TRACE_MAX_ROWS);
    if (t->nrows == st->cap_rows) {
        size_t cap = st->cap_rows ? st->cap_rows * 2 : 256;
        lm_trace_row *rows = realloc(t->rows, cap * sizeof(*rows));
        if (!rows) return lm_errf(err, "out of memory");
        t->rows = rows;
        st->cap_rows = cap;
    }
    t->rows[t->nrows++] = (lm_trace_row){offset_us, function, runtime, payload, start};
    return LM_OK;
}

int lm_trace_add(lm_trace *t, int64_t offset_us, const char *function, const char *runtime,
                 const char *payload, lm_trace_start start, char *err) {
    int added;
    const char *f = lm__trace_str(t, LM__FUNCTION, function, NULL);
    const char *r = lm__trace_str(t, LM__RUNTIME, runtime ? runtime : "", NULL);
    if (!f || !r) return lm_errf(err, "out of memory");
    const lm_trace_payload *p = lm__trace_payload(t, payload, &added, err);
    if (!p) return LM_ERR;
    return lm__trace_push(t, offset_us, f, r, p, start, err);
}

/* A stable sort: merge sort on a scratch array (qsort is not stable). */
static void merge_sort(lm_trace_row *a, lm_trace_row *tmp, size_t n) {
    if (n < 2) return;
    size_t h = n / 2;
    merge_sort(a, tmp, h);
    merge_sort(a + h, tmp, n - h);
    if (a[h - 1].offset_us <= a[h].offset_us) return;
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = a[j].offset_us < a[i].offset_us ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof(*a));
}

void lm_trace_sort(lm_trace *t) {
    lm_trace_row *tmp = malloc(t->nrows * sizeof(*tmp) + 1);
    if (tmp) {
        merge_sort(t->rows, tmp, t->nrows);
        free(tmp);
        return;
    }
    /* Out of memory: insertion sort, slow but stable and in place. */
    for (size_t i = 1; i < t->nrows; i++) {
        lm_trace_row r = t->rows[i];
        size_t j = i;
        for (; j > 0 && t->rows[j - 1].offset_us > r.offset_us; j--)
            t->rows[j] = t->rows[j - 1];
        t->rows[j] = r;
    }
}

void lm_trace_free(lm_trace *t) {
    if (!t) return;
    if (t->store) {
        lm__trace_store *st = t->store;
        for (size_t k = 0; k < st->payload_text.n; k++) {
            free((char *)st->payload[k]->path);
            free(st->payload[k]);
        }
        free(st->payload);
        lm__intern_free(&st->strs[0]);
        lm__intern_free(&st->strs[1]);
        lm__intern_free(&st->payload_text);
        free(st);
    }
    for (size_t i = 0; i < t->nkeys; i++) {
        free(t->keys[i].key);
        free(t->keys[i].value);
    }
    free(t->keys);
    free(t->rows);
    free(t->dir);
    free(t);
}
