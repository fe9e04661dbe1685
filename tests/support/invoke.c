/* invoke.c -- in-process invocation and an in-memory store for unit tests. */
#include "invoke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk/internal.h"

struct entry {
    char *key;
    uint8_t *data;
    size_t len;
    struct entry *next;
};

struct lm_test_store {
    struct entry *head;
};

lm_test_store *lm_test_store_new(void) { return calloc(1, sizeof(lm_test_store)); }

void lm_test_store_free(lm_test_store *s) {
    if (!s) return;
    struct entry *e = s->head;
    while (e) {
        struct entry *next = e->next;
        free(e->key);
        free(e->data);
        free(e);
        e = next;
    }
    free(s);
}

static struct entry *find(const lm_test_store *s, const char *key) {
    for (struct entry *e = s->head; e; e = e->next)
        if (strcmp(e->key, key) == 0) return e;
    return NULL;
}

void lm_test_store_put(lm_test_store *s, const char *key, const void *data, size_t len) {
    struct entry *e = find(s, key);
    if (!e) {
        e = calloc(1, sizeof(*e));
        e->key = strdup(key);
        e->next = s->head;
        s->head = e;
    }
    free(e->data);
    e->data = malloc(len ? len : 1);
    if (len) memcpy(e->data, data, len);
    e->len = len;
}

const uint8_t *lm_test_store_get(const lm_test_store *s, const char *key, size_t *len) {
    struct entry *e = find(s, key);
    if (!e) return NULL;
    *len = e->len;
    return e->data;
}

static int store_get(void *arg, lm_storage where, const char *key, uint8_t **data, size_t *len,
                     char *err, size_t errlen) {
    (void)where;
    if (!arg) {
        snprintf(err, errlen, "no store in this test");
        return -1;
    }
    size_t n;
    const uint8_t *v = lm_test_store_get(arg, key, &n);
    if (!v) return 1;
    *data = malloc(n + 1);
    memcpy(*data, v, n);
    (*data)[n] = 0;
    *len = n;
    return 0;
}

static int store_put(void *arg, lm_storage where, const char *key, const void *data, size_t len,
                     char *err, size_t errlen) {
    (void)where;
    if (!arg) {
        snprintf(err, errlen, "no store in this test");
        return -1;
    }
    lm_test_store_put(arg, key, data, len);
    return 0;
}

int lm_test_invoke(const lm_function *fn, const char *body, lm_test_store *store,
                   lm_test_reply *out) {
    lm__storage_ops ops = {store_get, store_put, NULL, store};
    lm_jw w;
    lm_jw_init(&w);
    memset(out, 0, sizeof(*out));
    out->status = lm__sdk_invoke(fn, "test", &ops, body, strlen(body), &w, out->probes);
    out->body = w.buf ? w.buf : strdup("");
    out->body_len = w.len;
    return out->status;
}

void lm_test_reply_free(lm_test_reply *r) {
    if (!r) return;
    free(r->body);
    r->body = NULL;
}

lm_json_doc *lm_test_reply_data(const lm_test_reply *r, const lm_json **data) {
    lm_json_doc *doc = lm_json_parse(r->body, r->body_len, NULL, 0);
    if (!doc) return NULL;
    const lm_json *st = lm_json_get(lm_json_root(doc), "status");
    const char *s = st ? lm_json_string(st, NULL) : NULL;
    if (!s || strcmp(s, "ok") != 0) {
        lm_json_free(doc);
        return NULL;
    }
    *data = lm_json_get(lm_json_root(doc), "data");
    return doc;
}
