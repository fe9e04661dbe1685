/* lang_l10n.c -- Firefox's translated interface strings (a langpack's Fluent
 * .ftl and .properties files) as messages (see lang_catalog.h). */
#include "lang_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *b;
    size_t n, cap;
} buf;

static int put(buf *o, const uint8_t *s, size_t n) {
    if (o->n + n + 1 > o->cap) {
        size_t c = o->cap ? o->cap : 256;
        while (c < o->n + n + 1)
            c *= 2;
        uint8_t *nb = realloc(o->b, c);
        if (!nb) return -1;
        o->b = nb;
        o->cap = c;
    }
    memcpy(o->b + o->n, s, n);
    o->n += n;
    return 0;
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (b && fread(b, 1, (size_t)size, f) != (size_t)size) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[size] = 0, *n = (size_t)size;
    return b;
}

static int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r'; }

static int is_ident(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Calls fn for a Fluent message (or attribute) whose value is v: its
 * placeables ({ $var }, { -term }, select expressions with their variants)
 * become one space each. Terms (ids starting with '-') are brand names and
 * are skipped. */
static int emit_ftl(const buf *key, const buf *v, buf *tmp, lm_cat_message_fn fn, void *arg) {
    if (key->n == 0 || key->b[0] == '-' || v->n == 0) return 0;
    tmp->n = 0;
    int depth = 0;
    for (size_t i = 0; i < v->n; i++) {
        uint8_t c = v->b[i];
        if (c == '{') {
            if (depth++ == 0 && put(tmp, (const uint8_t *)" ", 1)) return -1;
        } else if (c == '}' && depth > 0) {
            depth--;
        } else if (depth == 0 && put(tmp, &c, 1)) {
            return -1;
        }
    }
    size_t s = 0;
    while (s < tmp->n && is_space(tmp->b[s]))
        s++;
    if (s < tmp->n) fn(arg, key->b, key->n, tmp->b + s, tmp->n - s);
    return 0;
}

/* Fluent: "id = value" at the start of a line, indented ".attr = value"
 * lines (messages of their own, keyed id.attr), indented continuation lines
 * joined with a space, '#' comments. */
static int read_ftl(const uint8_t *b, size_t n, lm_cat_message_fn fn, void *arg) {
    buf id = {0}, key = {0}, val = {0}, tmp = {0};
    int rc = 0;
    for (size_t p = 0; p < n && rc == 0;) {
        size_t e = p;
        while (e < n && b[e] != '\n')
            e++;
        size_t s = p;
        while (s < e && is_space(b[s]))
            s++;
        size_t t = e;
        while (t > s && is_space(b[t - 1]))
            t--;
        if (s == p && s < t && (b[s] == '#' || is_ident(b[s]))) {
            rc = emit_ftl(&key, &val, &tmp, fn, arg);
            key.n = val.n = id.n = 0;
            if (b[s] != '#') {
                size_t q = s;
                while (q < t && is_ident(b[q]))
                    q++;
                size_t eq = q;
                while (eq < t && is_space(b[eq]))
                    eq++;
                if (eq < t && b[eq] == '=') {
                    eq++;
                    while (eq < t && is_space(b[eq]))
                        eq++;
                    rc = rc || put(&id, b + s, q - s) || put(&key, b + s, q - s) ||
                         put(&val, b + eq, t - eq);
                }
            }
        } else if (s > p && s < t && b[s] == '.' && id.n > 0) {
            size_t q = s + 1;
            while (q < t && is_ident(b[q]))
                q++;
            size_t eq = q;
            while (eq < t && is_space(b[eq]))
                eq++;
            if (eq < t && b[eq] == '=') {
                rc = emit_ftl(&key, &val, &tmp, fn, arg);
                key.n = val.n = 0;
                eq++;
                while (eq < t && is_space(b[eq]))
                    eq++;
                rc = rc || put(&key, id.b, id.n) || put(&key, b + s, q - s) ||
                     put(&val, b + eq, t - eq);
            }
        } else if (s > p && s < t && key.n > 0) {
            rc = put(&val, (const uint8_t *)" ", 1) || put(&val, b + s, t - s);
        }
        p = e + 1;
    }
    if (rc == 0) rc = emit_ftl(&key, &val, &tmp, fn, arg);
    free(id.b);
    free(key.b);
    free(val.b);
    free(tmp.b);
    return rc;
}

static int hex(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
}

/* Appends code point u as UTF-8. */
static int put_cp(buf *o, unsigned u) {
    uint8_t e[3];
    size_t k = 0;
    if (u < 0x80) {
        e[k++] = (uint8_t)u;
    } else if (u < 0x800) {
        e[k++] = (uint8_t)(0xc0 | u >> 6);
        e[k++] = (uint8_t)(0x80 | (u & 0x3f));
    } else {
        e[k++] = (uint8_t)(0xe0 | u >> 12);
        e[k++] = (uint8_t)(0x80 | ((u >> 6) & 0x3f));
        e[k++] = (uint8_t)(0x80 | (u & 0x3f));
    }
    return put(o, e, k);
}

/* Java properties: "key = value" (or "key: value"), '#' and '!' comments, a
 * trailing backslash continues the line, \uXXXX escapes; \n and \t become a
 * space, any other escaped character stands for itself. */
static int read_properties(const uint8_t *b, size_t n, lm_cat_message_fn fn, void *arg) {
    buf key = {0}, val = {0};
    int rc = 0;
    for (size_t p = 0; p < n && rc == 0;) {
        while (p < n && (is_space(b[p]) || b[p] == '\n'))
            p++;
        if (p >= n) break;
        if (b[p] == '#' || b[p] == '!') {
            while (p < n && b[p] != '\n')
                p++;
            continue;
        }
        key.n = val.n = 0;
        while (p < n && b[p] != '=' && b[p] != ':' && b[p] != '\n' && !is_space(b[p]))
            rc = rc || put(&key, b + p++, 1);
        while (p < n && is_space(b[p]))
            p++;
        if (p < n && (b[p] == '=' || b[p] == ':')) p++;
        while (p < n && is_space(b[p]))
            p++;
        while (p < n && b[p] != '\n' && rc == 0) {
            if (b[p] != '\\' || p + 1 >= n) {
                rc = put(&val, b + p++, 1);
                continue;
            }
            uint8_t c = b[p + 1];
            p += 2;
            if (c == '\n' || c == '\r') { /* continued on the next line */
                while (p < n && (is_space(b[p]) || b[p] == '\n'))
                    p++;
            } else if (c == 'u' && p + 4 <= n && hex(b[p]) >= 0 && hex(b[p + 1]) >= 0 &&
                       hex(b[p + 2]) >= 0 && hex(b[p + 3]) >= 0) {
                rc = put_cp(&val, (unsigned)(hex(b[p]) << 12 | hex(b[p + 1]) << 8 |
                                             hex(b[p + 2]) << 4 | hex(b[p + 3])));
                p += 4;
            } else {
                rc = put(&val, c == 'n' || c == 't' ? (const uint8_t *)" " : &c, 1);
            }
        }
        size_t t = val.n;
        while (t > 0 && is_space(val.b[t - 1]))
            t--;
        if (rc == 0 && key.n > 0 && t > 0) fn(arg, key.b, key.n, val.b, t);
    }
    free(key.b);
    free(val.b);
    return rc;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int lm_cat_read(const char *path, lm_cat_message_fn fn, void *arg) {
    int ftl = ends_with(path, ".ftl");
    if (!ftl && !ends_with(path, ".properties")) return lm_cat_read_mo(path, fn, arg);
    size_t n = 0;
    uint8_t *b = slurp(path, &n);
    if (!b) return -1;
    int rc = ftl ? read_ftl(b, n, fn, arg) : read_properties(b, n, fn, arg);
    free(b);
    return rc;
}
