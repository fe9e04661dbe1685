/* csvline.c -- CSV read line by line, each line split into RFC 4180 fields
 * in place, for the trace reader and the Azure readers (internal.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"

void lm__csv_init(lm__csv *c, FILE *in, const char *name) {
    memset(c, 0, sizeof(*c));
    c->in = in;
    c->name = name;
}

int lm__csv_errf(const lm__csv *c, char *err, const char *fmt, ...) {
    if (!err) return LM_ERR;
    int k = snprintf(err, LM_ERRLEN, "%s:%ld: ", c->name, c->lineno);
    if (k < 0 || k >= LM_ERRLEN) return LM_ERR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, (size_t)(LM_ERRLEN - k), fmt, ap);
    va_end(ap);
    return LM_ERR;
}

int lm__csv_next(lm__csv *c, char *err) {
    size_t cap = c->cap;
    errno = 0;
    ssize_t n = getline(&c->line, &cap, c->in);
    c->cap = cap;
    if (n < 0) {
        if (ferror(c->in)) {
            lm_errf(err, "%s: cannot read: %s", c->name, strerror(errno ? errno : EIO));
            return -1;
        }
        return 0;
    }
    c->lineno++;
    size_t len = (size_t)n;
    if (len && c->line[len - 1] == '\n') len--;
    if (len && c->line[len - 1] == '\r') len--;
    c->line[len] = '\0';
    if (strlen(c->line) != len) {
        lm__csv_errf(c, err, "a NUL byte in the line (this is not a text file)");
        return -1;
    }
    c->len = len;
    c->nfields = 0;
    return 1;
}

static int add_field(lm__csv *c, char *f) {
    if (c->nfields == c->capfields) {
        size_t cap = c->capfields ? c->capfields * 2 : 16;
        char **v = realloc(c->fields, cap * sizeof(*v));
        if (!v) return LM_ERR;
        c->fields = v;
        c->capfields = cap;
    }
    c->fields[c->nfields++] = f;
    return LM_OK;
}

int lm__csv_split(lm__csv *c, char *err) {
    c->nfields = 0;
    char *p = c->line, *end = c->line + c->len;
    for (;;) {
        char *start = p;
        if (p < end && *p == '"') {
            /* Quoted: unescape "" into ", in place. */
            char *w = p;
            p++;
            for (;;) {
                if (p >= end)
                    return lm__csv_errf(c, err, "unterminated quote in field %zu", c->nfields + 1);
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *w++ = *p++;
            }
            if (p < end && *p != ',')
                return lm__csv_errf(c, err, "text after the closing quote of field %zu",
                                    c->nfields + 1);
            *w = '\0';
        } else {
            while (p < end && *p != ',') {
                if (*p == '"')
                    return lm__csv_errf(c, err,
                                        "a quote inside unquoted field %zu (quote the whole "
                                        "field and double the quote)",
                                        c->nfields + 1);
                p++;
            }
        }
        int last = p >= end;
        *p = '\0';
        if (add_field(c, start) != LM_OK) return lm_errf(err, "out of memory");
        if (last) return LM_OK;
        p++;
    }
}

void lm__csv_free(lm__csv *c) {
    if (!c) return;
    free(c->line);
    free(c->fields);
    c->line = NULL;
    c->fields = NULL;
}
