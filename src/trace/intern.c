/* intern.c -- a set of strings stored once each (internal.h): open
 * addressing over FNV-1a 64, linear probing, grown at half full. */
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"
#include "util/hash.h"

static size_t slot_of(const lm__intern *t, const char *s, size_t len, int *found) {
    size_t mask = t->nslots - 1;
    size_t i = (size_t)lm_fnv1a64(LM_FNV1A64_INIT, s, len) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t v = t->slots[i];
        if (v == 0) {
            *found = 0;
            return i;
        }
        const char *x = t->str[v - 1];
        if (strncmp(x, s, len) == 0 && x[len] == '\0') {
            *found = 1;
            return i;
        }
    }
}

static int grow(lm__intern *t) {
    size_t n = t->nslots ? t->nslots * 2 : 64;
    uint32_t *slots = calloc(n, sizeof(*slots));
    char **str = realloc(t->str, (n / 2) * sizeof(*str));
    if (!slots || !str) {
        free(slots);
        if (str) t->str = str;
        return LM_ERR;
    }
    t->str = str;
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    for (size_t k = 0; k < t->n; k++) {
        int found;
        size_t i = slot_of(t, t->str[k], strlen(t->str[k]), &found);
        t->slots[i] = (uint32_t)(k + 1);
    }
    return LM_OK;
}

long lm__intern_find(const lm__intern *t, const char *s, size_t len) {
    if (!t->nslots) return -1;
    int found;
    size_t i = slot_of(t, s, len, &found);
    return found ? (long)t->slots[i] - 1 : -1;
}

long lm__intern_put(lm__intern *t, const char *s, size_t len, int *added) {
    *added = 0;
    long k = lm__intern_find(t, s, len);
    if (k >= 0) return k;
    if ((t->n + 1) * 2 > t->nslots && grow(t) != LM_OK) return -1;
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    int found;
    size_t i = slot_of(t, s, len, &found);
    t->str[t->n] = copy;
    t->slots[i] = (uint32_t)(t->n + 1);
    *added = 1;
    return (long)t->n++;
}

void lm__intern_free(lm__intern *t) {
    if (!t) return;
    for (size_t k = 0; k < t->n; k++)
        free(t->str[k]);
    free(t->str);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}
