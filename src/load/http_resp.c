/* http_resp.c -- the load client's HTTP/1.1 response parser (internal.h):
 * incremental, strict, no allocation. It reads a status line, header
 * fields and a body delimited by Content-Length, by chunked transfer
 * coding (trailers skipped) or by the connection's end, keeps the status,
 * whether the connection ends after the answer, and X-Lumos-Request-Id.
 * Interim 1xx answers are skipped; 101 (a protocol switch) is refused.
 * Lines end in CRLF or a bare LF (RFC 9112 2.2); a bare CR, obsolete line
 * folding, a space before a field's colon, control characters in a value,
 * conflicting Content-Lengths and oversized lines are errors. */
#include "load/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HEAD_MAX (64 * 1024) /* status line and fields, and the trailers */
#define SIZE_MAX_BODY (1ull << 60)

static void fail(lm__http_resp *p, const char *fmt, ...) LM_PRINTF(2, 3);
static void fail(lm__http_resp *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof(p->err), fmt, ap);
    va_end(ap);
    p->state = LM__HTTP_ERROR;
}

void lm__http_resp_init(lm__http_resp *p, int no_body) {
    p->state = LM__HTTP_STATUS;
    p->no_body = no_body;
    p->status = p->minor = p->close = p->keep_alive = 0;
    p->chunked = p->has_te = p->has_length = 0;
    p->length = p->left = p->request_id = p->bytes = p->body_bytes = 0;
    p->head_bytes = p->linelen = 0;
    p->capture = NULL;
    p->captured_len = 0;
    p->captured_seen = 0;
    p->captured[0] = 0;
    p->err[0] = 0;
}

static int tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_name(const char *s, size_t n, const char *name) {
    return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

/* Parses a decimal integer that fills [s, s+n); LM_ERR when it does not. */
static int parse_dec(const char *s, size_t n, uint64_t *out) {
    uint64_t v = 0;
    if (n == 0) return LM_ERR;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (SIZE_MAX_BODY - 9) / 10) return LM_ERR;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return LM_OK;
}

static void status_line(lm__http_resp *p, const char *l, size_t n) {
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' || l[7] > '9' || l[8] != ' ' ||
        l[9] < '1' || l[9] > '9' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' ||
        (n > 12 && l[12] != ' ')) {
        fail(p, "bad status line '%.*s' (expected 'HTTP/1.x NNN reason')", (int)(n > 60 ? 60 : n),
             l);
        return;
    }
    for (size_t i = 13; i < n; i++)
        if (((unsigned char)l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f) {
            fail(p, "control character in the status line's reason");
            return;
        }
    p->minor = l[7] - '0';
    p->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    if (p->status == 101) {
        fail(p, "101 Switching Protocols: the load client speaks HTTP/1.1 only");
        return;
    }
    p->state = LM__HTTP_HEADERS;
}

/* Connection: a comma-separated list of options. */
static void connection_tokens(lm__http_resp *p, const char *v, size_t n) {
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (is_name(v + s, i - s, "close")) p->close = 1;
        if (is_name(v + s, i - s, "keep-alive")) p->keep_alive = 1;
    }
}

/* Transfer-Encoding: chunked when it is the last coding. */
static void transfer_codings(lm__http_resp *p, const char *v, size_t n) {
    size_t e = n;
    while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t' || v[e - 1] == ','))
        e--;
    size_t s = e;
    while (s > 0 && v[s - 1] != ',' && v[s - 1] != ' ' && v[s - 1] != '\t')
        s--;
    p->chunked = is_name(v + s, e - s, "chunked");
    p->has_te = 1;
}

static void header_line(lm__http_resp *p, const char *l, size_t n, int trailer) {
    if (l[0] == ' ' || l[0] == '\t') {
        fail(p, "obsolete line folding in a header field");
        return;
    }
    size_t c = 0;
    while (c < n && tchar((unsigned char)l[c]))
        c++;
    if (c == 0 || c >= n || l[c] != ':') {
        fail(p, "bad header field '%.*s' (expected 'Name: value')", (int)(n > 60 ? 60 : n), l);
        return;
    }
    const char *v = l + c + 1;
    size_t vn = n - c - 1;
    while (vn && (*v == ' ' || *v == '\t'))
        v++, vn--;
    while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
    for (size_t i = 0; i < vn; i++)
        if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f) {
            fail(p, "control character in header field '%.*s'", (int)c, l);
            return;
        }
    if (trailer) return;
    if (is_name(l, c, "content-length")) {
        uint64_t len;
        if (parse_dec(v, vn, &len) != LM_OK) {
            fail(p, "Content-Length '%.*s' is not a length", (int)(vn > 40 ? 40 : vn), v);
            return;
        }
        if (p->has_length && len != p->length) {
            fail(p, "two different Content-Lengths (%llu and %llu)", (unsigned long long)p->length,
                 (unsigned long long)len);
            return;
        }
        p->has_length = 1;
        p->length = len;
    } else if (is_name(l, c, "transfer-encoding")) {
        transfer_codings(p, v, vn);
    } else if (is_name(l, c, "connection")) {
        connection_tokens(p, v, vn);
    } else if (is_name(l, c, "x-lumos-request-id")) {
        uint64_t id;
        p->request_id = parse_dec(v, vn, &id) == LM_OK ? id : 0;
    }
    if (p->capture && !p->captured_seen && is_name(l, c, p->capture)) {
        p->captured_seen = 1;
        p->captured_len = vn < LM_LOAD_CAPTURE_MAX ? vn : LM_LOAD_CAPTURE_MAX;
        memcpy(p->captured, v, p->captured_len);
        p->captured[p->captured_len] = 0;
    }
}

/* The empty line after the fields: what delimits the body. */
static void end_of_head(lm__http_resp *p) {
    if (p->status < 200) { /* interim: the real answer follows */
        int no_body = p->no_body;
        uint64_t bytes = p->bytes;
        const char *capture = p->capture;
        lm__http_resp_init(p, no_body);
        p->bytes = bytes;
        p->capture = capture;
        return;
    }
    if (p->minor == 0 && !p->keep_alive) p->close = 1;
    if (p->no_body || p->status == 204 || p->status == 304) {
        p->state = LM__HTTP_DONE;
    } else if (p->has_te && p->chunked) {
        p->state = LM__HTTP_CHUNK_SIZE;
    } else if (p->has_te) { /* not chunked: the body runs to the end (RFC 9112 6.3) */
        p->close = 1;
        p->state = LM__HTTP_EOF_BODY;
    } else if (p->has_length) {
        p->left = p->length;
        p->state = p->left ? LM__HTTP_BODY : LM__HTTP_DONE;
    } else {
        p->close = 1;
        p->state = LM__HTTP_EOF_BODY;
    }
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void chunk_size(lm__http_resp *p, const char *l, size_t n) {
    size_t i = 0;
    uint64_t v = 0;
    for (; i < n && hexval(l[i]) >= 0; i++) {
        if (v > SIZE_MAX_BODY >> 4) {
            fail(p, "chunk size too large");
            return;
        }
        v = v * 16 + (uint64_t)hexval(l[i]);
    }
    size_t j = i;
    while (j < n && (l[j] == ' ' || l[j] == '\t'))
        j++;
    if (i == 0 || (j < n && l[j] != ';')) {
        fail(p, "bad chunk size line '%.*s'", (int)(n > 40 ? 40 : n), l);
        return;
    }
    for (; j < n; j++)
        if (((unsigned char)l[j] < 0x20 && l[j] != '\t') || l[j] == 0x7f) {
            fail(p, "control character in a chunk extension");
            return;
        }
    p->left = v;
    p->state = v ? LM__HTTP_CHUNK_DATA : LM__HTTP_TRAILERS;
}

/* One whole line, its LF (and a CR before it) taken off. */
static void line(lm__http_resp *p, const char *l, size_t n) {
    if (memchr(l, '\r', n)) {
        fail(p, "a bare CR inside a line");
        return;
    }
    switch (p->state) {
    case LM__HTTP_STATUS: status_line(p, l, n); break;
    case LM__HTTP_HEADERS:
        if (n == 0)
            end_of_head(p);
        else
            header_line(p, l, n, 0);
        break;
    case LM__HTTP_CHUNK_SIZE: chunk_size(p, l, n); break;
    case LM__HTTP_CHUNK_END:
        if (n != 0)
            fail(p, "a chunk's data does not end where its size says");
        else
            p->state = LM__HTTP_CHUNK_SIZE;
        break;
    case LM__HTTP_TRAILERS:
        if (n == 0)
            p->state = LM__HTTP_DONE;
        else
            header_line(p, l, n, 1);
        break;
    default: break;
    }
}

static int in_head(const lm__http_resp *p) {
    return p->state == LM__HTTP_STATUS || p->state == LM__HTTP_HEADERS ||
           p->state == LM__HTTP_TRAILERS;
}

size_t lm__http_resp_feed(lm__http_resp *p, const char *buf, size_t n) {
    size_t off = 0;
    while (off < n && p->state != LM__HTTP_DONE && p->state != LM__HTTP_ERROR) {
        size_t rest = n - off;
        if (p->state == LM__HTTP_BODY || p->state == LM__HTTP_CHUNK_DATA) {
            size_t take = p->left < rest ? (size_t)p->left : rest;
            off += take;
            p->left -= take;
            p->body_bytes += take;
            if (p->left == 0)
                p->state = p->state == LM__HTTP_BODY ? LM__HTTP_DONE : LM__HTTP_CHUNK_END;
            continue;
        }
        if (p->state == LM__HTTP_EOF_BODY) {
            off = n;
            p->body_bytes += rest;
            break;
        }
        const char *nl = memchr(buf + off, '\n', rest);
        size_t take = nl ? (size_t)(nl - (buf + off)) + 1 : rest;
        if (p->linelen + take > LM__HTTP_LINE_MAX) {
            fail(p, "a line longer than %d bytes", LM__HTTP_LINE_MAX);
            break;
        }
        if (in_head(p) && (p->head_bytes += take) > HEAD_MAX) {
            fail(p, "header section longer than %d bytes", HEAD_MAX);
            break;
        }
        if (!nl) {
            memcpy(p->line + p->linelen, buf + off, take);
            p->linelen += take;
            off += take;
            break;
        }
        const char *l = buf + off;
        size_t ln = take;
        if (p->linelen) {
            memcpy(p->line + p->linelen, buf + off, take);
            l = p->line;
            ln = p->linelen + take;
            p->linelen = 0;
        }
        off += take;
        ln--; /* the LF */
        if (ln && l[ln - 1] == '\r') ln--;
        line(p, l, ln);
    }
    p->bytes += off;
    return off;
}

int lm__http_resp_eof(lm__http_resp *p) {
    if (p->state == LM__HTTP_EOF_BODY) {
        p->state = LM__HTTP_DONE;
        return LM_OK;
    }
    if (p->state == LM__HTTP_DONE) return LM_OK;
    if (p->state != LM__HTTP_ERROR) {
        if (p->bytes == 0)
            fail(p, "the server closed the connection before answering");
        else
            fail(p, "the server closed the connection in the middle of its answer");
    }
    return LM_ERR;
}
