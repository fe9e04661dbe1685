/* json.h -- a small, strict JSON reader and a streaming writer for the
 * function side. Links nothing but libc, so the same code runs natively and
 * inside wasm32-wasi.
 *
 * The reader follows RFC 8259 and agrees with jansson (decoding with
 * JSON_DECODE_ANY | JSON_ALLOW_NUL) on what is valid:
 *   - any value may stand at the top level; trailing white space only;
 *   - strings must be valid UTF-8, escapes must be the eight of the RFC or
 *     \uXXXX, and a \u escape may not encode a lone surrogate;
 *   - an integer literal (no fraction, no exponent) must fit in int64_t, a
 *     real must not overflow a double (both are errors, as in jansson);
 *   - nesting deeper than LM_JSON_MAX_DEPTH is an error; as in jansson every
 *     value counts, so 2048 empty arrays in each other parse but a scalar
 *     inside 2048 arrays does not;
 *   - a string value may hold NUL (\u0000), an object key may not (jansson
 *     keeps keys as C strings and rejects them);
 *   - in an object with duplicate keys the last one wins.
 * A raw NUL byte anywhere in the text is an error (jansson 2.14 skips one
 * right after a number or true/false/null; that bug is not copied).
 * docs/json.md has the details. A parsed document owns all its values; they
 * live until lm_json_free(). */
#ifndef LM_JSON_H
#define LM_JSON_H

#include <stddef.h>
#include <stdint.h>

#define LM_JSON_MAX_DEPTH 2048 /* same bound as jansson's parser */
#define LM_JSON_ERR_LEN 128

typedef enum {
    LM_JSON_NULL,
    LM_JSON_FALSE,
    LM_JSON_TRUE,
    LM_JSON_INTEGER, /* a number literal without fraction or exponent */
    LM_JSON_REAL,    /* any other number literal */
    LM_JSON_STRING,
    LM_JSON_ARRAY,
    LM_JSON_OBJECT
} lm_json_type;

typedef struct lm_json lm_json;         /* one value inside a document */
typedef struct lm_json_doc lm_json_doc; /* a parsed document */

/* Parses len bytes of text (need not be NUL-terminated; nothing past len is
 * read). Returns a document the caller frees with lm_json_free(), or NULL on
 * a syntax error or when out of memory; then err (if not NULL) holds a
 * message naming the byte offset, e.g. "invalid escape '\q' at byte 17",
 * truncated to errlen. The parser is iterative: deep nesting costs heap,
 * not C stack. */
lm_json_doc *lm_json_parse(const char *text, size_t len, char *err, size_t errlen);

/* Frees a document and every value in it. NULL is a harmless no-op. */
void lm_json_free(lm_json_doc *doc);

/* The top-level value of a document; never NULL for a parsed document
 * (NULL only for doc == NULL). */
const lm_json *lm_json_root(const lm_json_doc *doc);

/* The type of v; LM_JSON_NULL when v is NULL, so a missing member reads as
 * null. */
lm_json_type lm_json_typeof(const lm_json *v);

/* An object's member by key, or NULL when absent (or v is not an object).
 * Where a key is repeated, the last occurrence is returned. A linear scan:
 * meant for request fields, not for objects with thousands of keys. */
const lm_json *lm_json_get(const lm_json *v, const char *key);

/* Number of elements of an array or members of an object; 0 otherwise. */
size_t lm_json_size(const lm_json *v);

/* The i-th element of an array, or NULL when out of range / not an array. */
const lm_json *lm_json_at(const lm_json *v, size_t i);

/* The i-th member of an object (in document order, duplicates included):
 * its key (NUL-terminated, *keylen set if not NULL) and its value. NULL when
 * out of range or v is not an object. */
const char *lm_json_key_at(const lm_json *v, size_t i, size_t *keylen);
const lm_json *lm_json_value_at(const lm_json *v, size_t i);

/* A string's bytes, NUL-terminated (it may also contain NUL: use *len),
 * or NULL when v is not a string. Owned by the document. */
const char *lm_json_string(const lm_json *v, size_t *len);

/* The value of an INTEGER (int64), or of any number as a double. Return 0 on
 * success, -1 when v has the wrong type. */
int lm_json_int(const lm_json *v, int64_t *out);
int lm_json_double(const lm_json *v, double *out);

/* ---- writer ------------------------------------------------------------ */

#define LM_JW_MAX_DEPTH 64

/* A streaming writer into a growing buffer (doubling). Commas are placed
 * automatically; keys are written with lm_jw_key() before each member value.
 * Any failure sets err and makes later calls no-ops; check it once at the
 * end. Failures: out of memory, nesting deeper than LM_JW_MAX_DEPTH, and
 * misuse that would give invalid JSON (a value in an object without a key,
 * a key outside an object, an end that does not match its begin). Strings
 * are written byte for byte except for escapes: the caller passes valid
 * UTF-8 (anything read by lm_json_parse is). Start with lm_jw_init() (or
 * zero the struct); the fields are for reading, not writing. */
typedef struct lm_jw {
    char *buf; /* owned; NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    int err;
    int depth;
    unsigned char first[LM_JW_MAX_DEPTH]; /* per open container: empty? object? */
    unsigned char after_key;
} lm_jw;

void lm_jw_init(lm_jw *w);
void lm_jw_free(lm_jw *w);  /* frees the buffer; NULL is a harmless no-op */
void lm_jw_reset(lm_jw *w); /* empties the writer and clears err, keeps the buffer */
void lm_jw_obj_begin(lm_jw *w);
void lm_jw_obj_end(lm_jw *w);
void lm_jw_arr_begin(lm_jw *w);
void lm_jw_arr_end(lm_jw *w);
void lm_jw_key(lm_jw *w, const char *key);
void lm_jw_str(lm_jw *w, const char *s);
/* Escapes as JSON needs: " and \ with a backslash, \b \f \n \r \t in short
 * form, other bytes below 0x20 as \u00xx (lower-case hex, as JavaScript's
 * JSON.stringify), everything else (DEL, UTF-8) as is. s may hold NUL. */
void lm_jw_strn(lm_jw *w, const char *s, size_t n);
void lm_jw_u64(lm_jw *w, uint64_t v);
void lm_jw_i64(lm_jw *w, int64_t v);
/* A double with a fixed number of decimals (0..17, clamped), as
 * printf("%.*f"): the exact decimal value rounded (ties to even), which glibc
 * and musl/wasi-libc both print, so native and wasm builds print the same
 * bytes. Negative values that round to zero keep the sign ("-0.00").
 * Non-finite values print null. */
void lm_jw_fixed(lm_jw *w, double v, int decimals);
void lm_jw_bool(lm_jw *w, int v);
void lm_jw_null(lm_jw *w);
/* Appends raw bytes as one value (caller guarantees they are valid JSON). */
void lm_jw_raw(lm_jw *w, const char *s, size_t n);
/* Writes a string value whose n bytes the caller fills in place (base64,
 * hex: text that needs no escaping). Returns where to write them (valid until
 * the next call on w), or NULL on failure; lm_jw_str_commit(w, m) with the
 * m <= n bytes actually written closes the string. */
char *lm_jw_str_reserve(lm_jw *w, size_t n);
void lm_jw_str_commit(lm_jw *w, size_t n);

#endif
