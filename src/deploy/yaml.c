/* yaml.c -- jansson values as YAML documents: block mappings in the
 * objects' insertion order, block sequences, and every string as a
 * double-quoted scalar with JSON's escapes (valid YAML 1.2), so a value
 * such as "0.7", "true" or "enabled" is always a string and the output
 * depends only on the value. Keys are written bare when they are plain
 * names (letters, digits, '.', '/', '_', '-'), quoted otherwise. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int bare_key(const char *k) {
    if (!*k || !isalpha((unsigned char)k[0])) return 0;
    for (const char *p = k; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("./_-", *p)) return 0;
    return 1;
}

static int put_quoted(lm_buf *b, const json_t *str) {
    char *q = json_dumps(str, JSON_ENCODE_ANY);
    if (!q) return LM_ERR;
    int rc = lm_buf_printf(b, "%s", q);
    free(q);
    return rc;
}

/* A scalar, or an empty object or array, on the current line. */
static int put_scalar(lm_buf *b, const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_STRING: return put_quoted(b, v);
    case JSON_INTEGER: return lm_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: {
        double d = json_real_value(v);
        return isfinite(d) ? lm_buf_printf(b, "%.17g", d) : LM_ERR;
    }
    case JSON_TRUE: return lm_buf_printf(b, "true");
    case JSON_FALSE: return lm_buf_printf(b, "false");
    case JSON_NULL: return lm_buf_printf(b, "null");
    case JSON_OBJECT: return lm_buf_printf(b, "{}");
    case JSON_ARRAY: return lm_buf_printf(b, "[]");
    }
    return LM_ERR;
}

static int is_block(const json_t *v) {
    return (json_is_object(v) && json_object_size(v) > 0) ||
           (json_is_array(v) && json_array_size(v) > 0);
}

static int emit(lm_buf *b, const json_t *v, int indent, int inline_first);

/* A mapping's entries at indent; with inline_first the first one goes on
 * the current line (after a sequence's "- "). */
static int emit_object(lm_buf *b, const json_t *o, int indent, int inline_first) {
    const char *k;
    json_t *val;
    int first = 1;
    json_object_foreach((json_t *)o, k, val) {
        if (!(first && inline_first) && lm_buf_printf(b, "%*s", indent, "") != LM_OK) return LM_ERR;
        first = 0;
        if (bare_key(k)) {
            if (lm_buf_printf(b, "%s:", k) != LM_OK) return LM_ERR;
        } else {
            json_t *ks = json_string(k);
            int rc = ks ? put_quoted(b, ks) : LM_ERR;
            json_decref(ks);
            if (rc != LM_OK || lm_buf_printf(b, ":") != LM_OK) return LM_ERR;
        }
        if (!is_block(val)) {
            if (lm_buf_printf(b, " ") != LM_OK || put_scalar(b, val) != LM_OK ||
                lm_buf_printf(b, "\n") != LM_OK)
                return LM_ERR;
            continue;
        }
        if (lm_buf_printf(b, "\n") != LM_OK || emit(b, val, indent + 2, 0) != LM_OK) return LM_ERR;
    }
    return LM_OK;
}

static int emit_array(lm_buf *b, const json_t *a, int indent, int inline_first) {
    size_t i;
    json_t *val;
    json_array_foreach(a, i, val) {
        if (!(i == 0 && inline_first) && lm_buf_printf(b, "%*s", indent, "") != LM_OK)
            return LM_ERR;
        if (lm_buf_printf(b, "- ") != LM_OK) return LM_ERR;
        if (!is_block(val)) {
            if (put_scalar(b, val) != LM_OK || lm_buf_printf(b, "\n") != LM_OK) return LM_ERR;
            continue;
        }
        if (emit(b, val, indent + 2, 1) != LM_OK) return LM_ERR;
    }
    return LM_OK;
}

static int emit(lm_buf *b, const json_t *v, int indent, int inline_first) {
    if (json_is_object(v)) return emit_object(b, v, indent, inline_first);
    if (json_is_array(v)) return emit_array(b, v, indent, inline_first);
    return LM_ERR;
}

int lm__deploy_yaml(lm_buf *b, const json_t *doc) {
    if (!is_block(doc)) return LM_ERR;
    if (lm_buf_printf(b, "---\n") != LM_OK) return LM_ERR;
    return emit(b, doc, 0, 0);
}
