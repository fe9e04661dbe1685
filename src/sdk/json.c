/* json.c -- the SDK's strict JSON reader (RFC 8259, agreeing with jansson) and streaming writer. */
#include "json.h"
#include "text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A value. Containers point at their children, which sit next to each other
 * in the document's arena: an array's n elements, or an object's n members
 * as 2n values (key string, then value). Strings point into the arena too. */
struct lm_json {
    lm_json_type type;
    size_t n; /* string length in bytes, or number of elements / members */
    union {
        int64_t i;
        double d;
        const char *s;
        lm_json *kids;
    } u;
};

/* The arena is a list of chunks that only grows, so pointers into it stay
 * valid while the parse goes on; a document costs a handful of mallocs. */
typedef struct lm_chunk {
    struct lm_chunk *next;
    size_t cap;
    size_t used;
} lm_chunk;

/* Chunk payloads start this far into the allocation, keeping them aligned
 * for every member of lm_json. */
#define CHUNK_HDR ((sizeof(lm_chunk) + 15) & ~(size_t)15)
#define CHUNK_MIN 1024
#define CHUNK_MAX ((size_t)4 << 20)

struct lm_json_doc {
    lm_json root;
    lm_chunk *chunks; /* newest first */
    size_t next_cap;  /* size of the next chunk, doubling up to CHUNK_MAX */
};

/* One open container while parsing: where its children start on the value
 * stack and whether it is an object. */
typedef struct {
    size_t base;
    int obj;
} lm_frame;

typedef struct {
    const unsigned char *p;
    size_t len;
    size_t pos;
    lm_json_doc *doc;
    lm_json *stk; /* finished values whose container is still open */
    size_t sp, scap;
    lm_frame *fr;
    size_t nfr, fcap;
    char *err;
    size_t errlen;
} lm_parser;

static void *arena_alloc(lm_json_doc *doc, size_t size) {
    lm_chunk *c = doc->chunks;
    size_t at;
    if (c) {
        at = (c->used + 7) & ~(size_t)7;
        if (at <= c->cap && c->cap - at >= size) {
            c->used = at + size;
            return (char *)c + CHUNK_HDR + at;
        }
    }
    size_t cap = doc->next_cap;
    if (cap < size) cap = size;
    if (cap > SIZE_MAX - CHUNK_HDR) return NULL;
    c = malloc(CHUNK_HDR + cap);
    if (!c) return NULL;
    c->next = doc->chunks;
    c->cap = cap;
    c->used = size;
    doc->chunks = c;
    if (doc->next_cap < CHUNK_MAX) doc->next_cap *= 2;
    return (char *)c + CHUNK_HDR;
}

/* Records the first error only: later ones are consequences of it. */
static int fail(lm_parser *ps, size_t at, const char *fmt, ...) {
    if (ps->err && ps->errlen > 0 && ps->err[0] == '\0') {
        char msg[LM_JSON_ERR_LEN];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(ps->err, ps->errlen, "%s at byte %zu", msg, at);
    }
    return -1;
}

static int oom(lm_parser *ps) { return fail(ps, ps->pos, "out of memory"); }

static int push(lm_parser *ps, const lm_json *v) {
    if (ps->sp == ps->scap) {
        size_t ncap = ps->scap ? ps->scap * 2 : 64;
        lm_json *n = ncap > SIZE_MAX / sizeof *n ? NULL : realloc(ps->stk, ncap * sizeof *n);
        if (!n) return oom(ps);
        ps->stk = n;
        ps->scap = ncap;
    }
    ps->stk[ps->sp++] = *v;
    return 0;
}

static void skip_ws(lm_parser *ps) {
    while (ps->pos < ps->len) {
        unsigned char c = ps->p[ps->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        ps->pos++;
    }
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads the four hex digits at p; -1 when one is not a hex digit. */
static int32_t hex4(const unsigned char *p) {
    int32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p[k]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at p (at most avail bytes), or 0 when
 * it is not one: overlong forms, UTF-16 surrogates (ED A0..BF) and code
 * points above U+10FFFF are all invalid, as in jansson. */
static size_t utf8_len(const unsigned char *p, size_t avail) {
    unsigned char c = p[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t k = 2; k < n; k++)
        if (p[k] < 0x80 || p[k] > 0xBF) return 0;
    return n;
}

/* Parses the string starting at the opening quote at ps->pos into out. A
 * decoded string is never longer than its text, so the closing quote is
 * found first and that many bytes are taken from the arena at once. Keys
 * may not contain NUL (jansson rejects them too: its keys are C strings). */
static int parse_string(lm_parser *ps, lm_json *out, int is_key) {
    const unsigned char *p = ps->p;
    size_t start = ps->pos, end = start + 1;
    while (end < ps->len && p[end] != '"')
        end += p[end] == '\\' ? 2 : 1;
    if (end >= ps->len) return fail(ps, start, "unterminated string");
    char *o = arena_alloc(ps->doc, end - start);
    if (!o) return oom(ps);
    size_t j = start + 1, n = 0;
    while (j < end) {
        unsigned char c = p[j];
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            o[n++] = (char)c;
            j++;
        } else if (c < 0x20) {
            return fail(ps, j, "control character 0x%02x in string", c);
        } else if (c >= 0x80) {
            size_t k = utf8_len(p + j, end - j);
            if (!k) return fail(ps, j, "invalid UTF-8 byte 0x%02x in string", c);
            memcpy(o + n, p + j, k);
            n += k;
            j += k;
        } else {
            /* The eight short escapes of the RFC, and what they stand for. */
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            unsigned char e = p[j + 1];
            const char *hit = e ? strchr(from, e) : NULL;
            if (hit) {
                o[n++] = to[hit - from];
                j += 2;
                continue;
            }
            if (e != 'u')
                return fail(ps, j, "invalid escape '\\%c'", e >= 0x20 && e < 0x7F ? e : '?');
            int32_t cp = end - j >= 6 ? hex4(p + j + 2) : -1;
            if (cp < 0) return fail(ps, j, "invalid \\u escape");
            size_t used = 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(ps, j, "lone low surrogate \\u%04X", (unsigned)cp);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int32_t lo = -1;
                if (end - j >= 12 && p[j + 6] == '\\' && p[j + 7] == 'u') lo = hex4(p + j + 8);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return fail(ps, j, "lone high surrogate \\u%04X", (unsigned)cp);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                used = 12;
            }
            if (cp == 0 && is_key) return fail(ps, j, "NUL (\\u0000) in an object key");
            n += lm_utf8_put((uint32_t)cp, (uint8_t *)o + n);
            j += used;
        }
    }
    o[n] = '\0';
    out->type = LM_JSON_STRING;
    out->n = n;
    out->u.s = o;
    ps->pos = end + 1;
    return 0;
}

static int is_digit(const lm_parser *ps, size_t i) {
    return i < ps->len && ps->p[i] >= '0' && ps->p[i] <= '9';
}

/* Parses a number. The grammar is checked here; an integer is accumulated
 * exactly, and a real goes through strtod (correctly rounded in glibc and in
 * musl, which wasi-libc uses; the guest never changes the "C" locale). */
static int parse_number(lm_parser *ps, lm_json *out) {
    size_t start = ps->pos, i = start;
    int neg = 0, is_int = 1;
    if (ps->p[i] == '-') {
        neg = 1;
        i++;
    }
    if (!is_digit(ps, i)) return fail(ps, start, "invalid number");
    if (ps->p[i] == '0') {
        i++;
        if (is_digit(ps, i)) return fail(ps, start, "invalid number (leading zero)");
    } else {
        while (is_digit(ps, i))
            i++;
    }
    if (i < ps->len && ps->p[i] == '.') {
        i++;
        if (!is_digit(ps, i)) return fail(ps, start, "invalid number (no digit after '.')");
        while (is_digit(ps, i))
            i++;
        is_int = 0;
    }
    if (i < ps->len && (ps->p[i] == 'e' || ps->p[i] == 'E')) {
        i++;
        if (i < ps->len && (ps->p[i] == '+' || ps->p[i] == '-')) i++;
        if (!is_digit(ps, i)) return fail(ps, start, "invalid number (no digit in exponent)");
        while (is_digit(ps, i))
            i++;
        is_int = 0;
    }
    if (is_int) {
        uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
        for (size_t k = start + (size_t)neg; k < i; k++) {
            unsigned d = ps->p[k] - '0';
            if (v > (limit - d) / 10) return fail(ps, start, "integer out of int64 range");
            v = v * 10 + d;
        }
        out->type = LM_JSON_INTEGER;
        out->u.i = neg ? (int64_t)(0 - v) : (int64_t)v;
        if (neg && v == (uint64_t)INT64_MAX + 1) out->u.i = INT64_MIN;
    } else {
        char small[64], *buf = small;
        size_t n = i - start;
        if (n >= sizeof small) {
            buf = malloc(n + 1);
            if (!buf) return oom(ps);
        }
        memcpy(buf, ps->p + start, n);
        buf[n] = '\0';
        double d = strtod(buf, NULL);
        if (buf != small) free(buf);
        if (isinf(d)) return fail(ps, start, "real number overflow");
        out->type = LM_JSON_REAL;
        out->u.d = d;
    }
    out->n = 0;
    ps->pos = i;
    return 0;
}

/* Parses an object key and the colon after it, leaving the key on the stack. */
static int parse_key(lm_parser *ps) {
    lm_json k;
    skip_ws(ps);
    if (ps->pos >= ps->len || ps->p[ps->pos] != '"')
        return fail(ps, ps->pos, "expected a string key");
    if (parse_string(ps, &k, 1) || push(ps, &k)) return -1;
    skip_ws(ps);
    if (ps->pos >= ps->len || ps->p[ps->pos] != ':') return fail(ps, ps->pos, "expected ':'");
    ps->pos++;
    return 0;
}

/* Moves the children of the innermost open container from the stack into
 * the arena and leaves the finished container on the stack in their place. */
static int close_frame(lm_parser *ps) {
    lm_frame f = ps->fr[--ps->nfr];
    size_t count = ps->sp - f.base;
    lm_json v;
    v.type = f.obj ? LM_JSON_OBJECT : LM_JSON_ARRAY;
    v.n = f.obj ? count / 2 : count;
    v.u.kids = NULL;
    if (count) {
        v.u.kids = arena_alloc(ps->doc, count * sizeof(lm_json));
        if (!v.u.kids) return oom(ps);
        memcpy(v.u.kids, ps->stk + f.base, count * sizeof(lm_json));
    }
    ps->sp = f.base;
    return push(ps, &v);
}

static int open_frame(lm_parser *ps, int obj) {
    if (ps->nfr == ps->fcap) {
        size_t ncap = ps->fcap ? ps->fcap * 2 : 16;
        lm_frame *n = realloc(ps->fr, ncap * sizeof *n);
        if (!n) return oom(ps);
        ps->fr = n;
        ps->fcap = ncap;
    }
    ps->fr[ps->nfr].base = ps->sp;
    ps->fr[ps->nfr].obj = obj;
    ps->nfr++;
    return 0;
}

/* Parses a scalar value at ps->pos onto the stack. */
static int parse_scalar(lm_parser *ps) {
    lm_json v;
    unsigned char c = ps->p[ps->pos];
    size_t rest = ps->len - ps->pos;
    v.n = 0;
    v.u.i = 0;
    if (c == '"') {
        if (parse_string(ps, &v, 0)) return -1;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (parse_number(ps, &v)) return -1;
    } else if (rest >= 4 && memcmp(ps->p + ps->pos, "null", 4) == 0) {
        v.type = LM_JSON_NULL;
        ps->pos += 4;
    } else if (rest >= 4 && memcmp(ps->p + ps->pos, "true", 4) == 0) {
        v.type = LM_JSON_TRUE;
        ps->pos += 4;
    } else if (rest >= 5 && memcmp(ps->p + ps->pos, "false", 5) == 0) {
        v.type = LM_JSON_FALSE;
        ps->pos += 5;
    } else if (c >= 0x20 && c < 0x7F) {
        return fail(ps, ps->pos, "unexpected character '%c'", c);
    } else {
        return fail(ps, ps->pos, "unexpected byte 0x%02x", c);
    }
    return push(ps, &v);
}

/* The parse loop: iterative, so nesting costs heap (the frame stack) and not
 * C stack, which is small in wasm. Each turn reads one value; after a value
 * it closes containers and consumes separators until another value is due. */
static int parse_doc(lm_parser *ps) {
    for (;;) {
        skip_ws(ps);
        if (ps->pos >= ps->len) return fail(ps, ps->pos, "unexpected end of input");
        /* jansson counts every value, scalars included, against its limit. */
        if (ps->nfr + 1 > LM_JSON_MAX_DEPTH)
            return fail(ps, ps->pos, "nesting deeper than %d", LM_JSON_MAX_DEPTH);
        unsigned char c = ps->p[ps->pos];
        if (c == '[' || c == '{') {
            int obj = c == '{';
            if (open_frame(ps, obj)) return -1;
            ps->pos++;
            skip_ws(ps);
            if (ps->pos < ps->len && ps->p[ps->pos] == (obj ? '}' : ']')) {
                ps->pos++;
                if (close_frame(ps)) return -1;
            } else {
                if (obj && parse_key(ps)) return -1;
                continue;
            }
        } else if (parse_scalar(ps)) {
            return -1;
        }
        /* A value is complete: close containers until one wants more. */
        for (;;) {
            skip_ws(ps);
            if (ps->nfr == 0) {
                if (ps->pos != ps->len)
                    return fail(ps, ps->pos, "unexpected text after the top-level value");
                return 0;
            }
            if (ps->pos >= ps->len) return fail(ps, ps->pos, "unexpected end of input");
            int obj = ps->fr[ps->nfr - 1].obj;
            c = ps->p[ps->pos];
            if (c == ',') {
                ps->pos++;
                if (obj && parse_key(ps)) return -1;
                break;
            }
            if (c != (obj ? '}' : ']'))
                return fail(ps, ps->pos, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            ps->pos++;
            if (close_frame(ps)) return -1;
        }
    }
}

lm_json_doc *lm_json_parse(const char *text, size_t len, char *err, size_t errlen) {
    lm_parser ps;
    memset(&ps, 0, sizeof ps);
    ps.p = (const unsigned char *)text;
    ps.len = text ? len : 0;
    ps.err = err;
    ps.errlen = errlen;
    if (err && errlen) err[0] = '\0';
    ps.doc = calloc(1, sizeof *ps.doc);
    if (!ps.doc) {
        fail(&ps, 0, "out of memory");
        return NULL;
    }
    /* Size the first chunk by the input: a document rarely needs more arena
     * than twice its text, and small ones then take a single chunk. */
    ps.doc->next_cap = len < CHUNK_MIN / 2 ? CHUNK_MIN : len < CHUNK_MAX / 2 ? 2 * len : CHUNK_MAX;
    int rc = parse_doc(&ps);
    if (rc == 0) ps.doc->root = ps.stk[0];
    free(ps.stk);
    free(ps.fr);
    if (rc != 0) {
        lm_json_free(ps.doc);
        return NULL;
    }
    return ps.doc;
}

void lm_json_free(lm_json_doc *doc) {
    if (!doc) return;
    lm_chunk *c = doc->chunks;
    while (c) {
        lm_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(doc);
}

const lm_json *lm_json_root(const lm_json_doc *doc) { return doc ? &doc->root : NULL; }

lm_json_type lm_json_typeof(const lm_json *v) { return v ? v->type : LM_JSON_NULL; }

const lm_json *lm_json_get(const lm_json *v, const char *key) {
    if (!v || v->type != LM_JSON_OBJECT || !key) return NULL;
    size_t klen = strlen(key);
    /* Backwards, so that the last of repeated keys wins. */
    for (size_t i = v->n; i-- > 0;) {
        const lm_json *k = &v->u.kids[2 * i];
        if (k->n == klen && memcmp(k->u.s, key, klen) == 0) return &v->u.kids[2 * i + 1];
    }
    return NULL;
}

size_t lm_json_size(const lm_json *v) {
    return v && (v->type == LM_JSON_ARRAY || v->type == LM_JSON_OBJECT) ? v->n : 0;
}

const lm_json *lm_json_at(const lm_json *v, size_t i) {
    return v && v->type == LM_JSON_ARRAY && i < v->n ? &v->u.kids[i] : NULL;
}

const char *lm_json_key_at(const lm_json *v, size_t i, size_t *keylen) {
    if (!v || v->type != LM_JSON_OBJECT || i >= v->n) return NULL;
    if (keylen) *keylen = v->u.kids[2 * i].n;
    return v->u.kids[2 * i].u.s;
}

const lm_json *lm_json_value_at(const lm_json *v, size_t i) {
    return v && v->type == LM_JSON_OBJECT && i < v->n ? &v->u.kids[2 * i + 1] : NULL;
}

const char *lm_json_string(const lm_json *v, size_t *len) {
    if (!v || v->type != LM_JSON_STRING) return NULL;
    if (len) *len = v->n;
    return v->u.s;
}

int lm_json_int(const lm_json *v, int64_t *out) {
    if (!v || v->type != LM_JSON_INTEGER) return -1;
    *out = v->u.i;
    return 0;
}

int lm_json_double(const lm_json *v, double *out) {
    if (!v) return -1;
    if (v->type == LM_JSON_INTEGER) {
        *out = (double)v->u.i;
        return 0;
    }
    if (v->type != LM_JSON_REAL) return -1;
    *out = v->u.d;
    return 0;
}

/* ---- writer ------------------------------------------------------------ */

/* Each first[] entry holds two flags for an open container. */
#define JW_FIRST 1 /* no element written yet */
#define JW_OBJ 2   /* the container is an object (members need keys) */

void lm_jw_init(lm_jw *w) { memset(w, 0, sizeof *w); }

void lm_jw_free(lm_jw *w) {
    if (!w) return;
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void lm_jw_reset(lm_jw *w) {
    w->len = 0;
    w->err = 0;
    w->depth = 0;
    w->after_key = 0;
    if (w->buf) w->buf[0] = '\0';
}

/* Makes room for extra more bytes plus the NUL, doubling the buffer. */
static int jw_room(lm_jw *w, size_t extra) {
    if (w->err) return -1;
    if (extra > SIZE_MAX - w->len - 1) {
        w->err = 1;
        return -1;
    }
    size_t need = w->len + extra + 1;
    if (need <= w->cap) return 0;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *b = realloc(w->buf, cap);
    if (!b) {
        w->err = 1;
        return -1;
    }
    w->buf = b;
    w->cap = cap;
    return 0;
}

static void jw_put(lm_jw *w, const char *s, size_t n) {
    if (jw_room(w, n)) return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* Writes what goes before a value: a comma between elements. A value inside
 * an object must follow its key; anything else is a misuse and sets err. */
static int jw_value(lm_jw *w) {
    if (w->err) return -1;
    if (w->after_key) {
        w->after_key = 0;
        return 0;
    }
    if (w->depth > 0) {
        unsigned char *f = &w->first[w->depth - 1];
        if (*f & JW_OBJ) {
            w->err = 1;
            return -1;
        }
        if (!(*f & JW_FIRST)) jw_put(w, ",", 1);
        *f &= (unsigned char)~JW_FIRST;
    }
    return w->err ? -1 : 0;
}

static void jw_begin(lm_jw *w, char open, unsigned char obj) {
    if (jw_value(w)) return;
    if (w->depth >= LM_JW_MAX_DEPTH) {
        w->err = 1;
        return;
    }
    w->first[w->depth++] = JW_FIRST | obj;
    jw_put(w, &open, 1);
}

static void jw_end(lm_jw *w, char close, unsigned char obj) {
    if (w->err) return;
    if (w->depth == 0 || w->after_key || (w->first[w->depth - 1] & JW_OBJ) != obj) {
        w->err = 1;
        return;
    }
    w->depth--;
    jw_put(w, &close, 1);
}

void lm_jw_obj_begin(lm_jw *w) { jw_begin(w, '{', JW_OBJ); }
void lm_jw_obj_end(lm_jw *w) { jw_end(w, '}', JW_OBJ); }
void lm_jw_arr_begin(lm_jw *w) { jw_begin(w, '[', 0); }
void lm_jw_arr_end(lm_jw *w) { jw_end(w, ']', 0); }

/* Writes s as a quoted JSON string: quote, backslash and control characters
 * escaped (short forms where JSON has them, \u00xx otherwise, lower-case hex
 * as JavaScript's JSON.stringify writes it), every other byte as is. The
 * escaped length is counted first so that the buffer grows once, by what
 * the string needs. */
static void jw_quoted(lm_jw *w, const char *s, size_t n) {
    static const char plain[] = "\"\\\b\f\n\r\t", letter[] = "\"\\bfnrt";
    static const char hex[] = "0123456789abcdef";
    if ((!s && n) || n > (SIZE_MAX - 2) / 6) {
        w->err = 1;
        return;
    }
    size_t out = n + 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c < 0x20) out += memchr(plain, c, 7) ? 1 : 5;
    }
    if (jw_room(w, out)) return;
    char *o = w->buf + w->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        const char *hit = memchr(plain, c, 7);
        *o++ = '\\';
        if (hit) {
            *o++ = letter[hit - plain];
        } else {
            memcpy(o, "u00", 3);
            o[3] = hex[c >> 4];
            o[4] = hex[c & 15];
            o += 5;
        }
    }
    *o++ = '"';
    *o = '\0';
    w->len = (size_t)(o - w->buf);
}

void lm_jw_key(lm_jw *w, const char *key) {
    if (w->err) return;
    if (!key || w->depth == 0 || !(w->first[w->depth - 1] & JW_OBJ) || w->after_key) {
        w->err = 1;
        return;
    }
    unsigned char *f = &w->first[w->depth - 1];
    if (!(*f & JW_FIRST)) jw_put(w, ",", 1);
    *f &= (unsigned char)~JW_FIRST;
    jw_quoted(w, key, strlen(key));
    jw_put(w, ":", 1);
    if (!w->err) w->after_key = 1;
}

void lm_jw_str(lm_jw *w, const char *s) {
    if (!s) {
        w->err = 1;
        return;
    }
    lm_jw_strn(w, s, strlen(s));
}

void lm_jw_strn(lm_jw *w, const char *s, size_t n) {
    if (jw_value(w)) return;
    jw_quoted(w, s, n);
}

/* Digits come from an own loop, not printf, so that 64-bit values print the
 * same everywhere (wasm32 has a 32-bit long). */
static void jw_digits(lm_jw *w, int neg, uint64_t v) {
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (neg) tmp[--i] = '-';
    jw_put(w, tmp + i, sizeof tmp - i);
}

void lm_jw_u64(lm_jw *w, uint64_t v) {
    if (jw_value(w)) return;
    jw_digits(w, 0, v);
}

void lm_jw_i64(lm_jw *w, int64_t v) {
    if (jw_value(w)) return;
    jw_digits(w, v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

void lm_jw_fixed(lm_jw *w, double v, int decimals) {
    if (jw_value(w)) return;
    if (!isfinite(v)) {
        jw_put(w, "null", 4);
        return;
    }
    if (decimals < 0) decimals = 0;
    if (decimals > 17) decimals = 17;
    /* The largest double has 309 integer digits; sign, point and 17
     * decimals fit in the rest. glibc and musl both print %f exactly. */
    char tmp[352];
    int n = snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        w->err = 1;
        return;
    }
    jw_put(w, tmp, (size_t)n);
}

void lm_jw_bool(lm_jw *w, int v) {
    if (jw_value(w)) return;
    if (v)
        jw_put(w, "true", 4);
    else
        jw_put(w, "false", 5);
}

void lm_jw_null(lm_jw *w) {
    if (jw_value(w)) return;
    jw_put(w, "null", 4);
}

void lm_jw_raw(lm_jw *w, const char *s, size_t n) {
    if (jw_value(w)) return;
    jw_put(w, s, n);
}

char *lm_jw_str_reserve(lm_jw *w, size_t n) {
    if (jw_value(w)) return NULL;
    if (n > SIZE_MAX - 2 || jw_room(w, n + 2)) {
        w->err = 1;
        return NULL;
    }
    w->buf[w->len++] = '"';
    w->buf[w->len] = '\0';
    return w->buf + w->len;
}

void lm_jw_str_commit(lm_jw *w, size_t n) {
    if (w->err) return;
    /* The reserve left room for n bytes, the quote and the NUL; a larger n
     * than reserved is caught when it could not have fit. */
    if (w->len + n + 2 > w->cap) {
        w->err = 1;
        return;
    }
    w->len += n;
    w->buf[w->len++] = '"';
    w->buf[w->len] = '\0';
}
