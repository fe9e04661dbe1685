/* store_local.c -- objects in memory or as files in a folder. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/storage.h"

typedef struct mem_entry {
    char *key;
    char *data;
    size_t len;
    struct mem_entry *next;
} mem_entry;

typedef struct {
    lm_store base;
    mem_entry *head;
} mem_store;

static mem_entry *mem_find(mem_store *m, const char *key) {
    for (mem_entry *e = m->head; e; e = e->next)
        if (strcmp(e->key, key) == 0) return e;
    return NULL;
}

static int mem_get(lm_store *s, const char *key, char **data, size_t *len, char *err) {
    mem_entry *e = mem_find((mem_store *)s, key);
    if (!e) return 1;
    *data = malloc(e->len + 1);
    if (!*data) return lm_errf(err, "out of memory");
    memcpy(*data, e->data, e->len);
    (*data)[e->len] = 0;
    *len = e->len;
    return 0;
}

static int mem_put(lm_store *s, const char *key, const void *data, size_t len, char *err) {
    mem_store *m = (mem_store *)s;
    mem_entry *e = mem_find(m, key);
    char *copy = malloc(len + 1);
    if (!copy) return lm_errf(err, "out of memory");
    memcpy(copy, data, len);
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e || !(e->key = strdup(key))) {
            free(e);
            free(copy);
            return lm_errf(err, "out of memory");
        }
        e->next = m->head;
        m->head = e;
    }
    free(e->data);
    e->data = copy;
    e->len = len;
    return LM_OK;
}

static void mem_free(lm_store *s) {
    mem_store *m = (mem_store *)s;
    for (mem_entry *e = m->head, *next; e; e = next) {
        next = e->next;
        free(e->key);
        free(e->data);
        free(e);
    }
    free(m);
}

lm_store *lm_store_memory(void) {
    mem_store *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    m->base = (lm_store){.get = mem_get, .put = mem_put, .free = mem_free, .kind = "memory"};
    return &m->base;
}

typedef struct {
    lm_store base;
    char dir[PATH_MAX];
} dir_store;

static int dir_get(lm_store *s, const char *key, char **data, size_t *len, char *err) {
    char path[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s", ((dir_store *)s)->dir, key);
    if (lm_file_size(path) < 0) return 1;
    *data = lm_file_read(path, len, err);
    return *data ? 0 : -1;
}

static int dir_put(lm_store *s, const char *key, const void *data, size_t len, char *err) {
    char path[PATH_MAX * 2];
    snprintf(path, sizeof(path), "%s/%s", ((dir_store *)s)->dir, key);
    char *slash = strrchr(path, '/');
    *slash = 0;
    int rc = lm_mkdirs(path, err);
    *slash = '/';
    if (rc != LM_OK) return LM_ERR;
    return lm_file_write(path, data, len, err);
}

static void dir_free(lm_store *s) { free(s); }

lm_store *lm_store_dir(const char *dir, char *err) {
    if (lm_mkdirs(dir, err) != LM_OK) return NULL;
    dir_store *d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    d->base = (lm_store){.get = dir_get, .put = dir_put, .free = dir_free, .kind = "dir"};
    snprintf(d->dir, sizeof(d->dir), "%s", dir);
    return &d->base;
}
