/* util.c -- errors, clock, buffers, statistics helpers. */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int lm_errf(char *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, LM_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return LM_ERR;
}

uint64_t lm_wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int lm_buf_reserve(lm_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return LM_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) return LM_ERR;
    b->data = d;
    b->cap = cap;
    return LM_OK;
}

int lm_buf_append(lm_buf *b, const void *p, size_t n) {
    if (lm_buf_reserve(b, n) != LM_OK) return LM_ERR;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return LM_OK;
}

int lm_buf_printf(lm_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || lm_buf_reserve(b, (size_t)n) != LM_OK) return LM_ERR;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return LM_OK;
}

void lm_buf_free(lm_buf *b) {
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int lm_parse_hostport(const char *s, char *host, size_t hostlen, int *port, char *err) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return lm_errf(err, "'%s' is not HOST:PORT (for example 127.0.0.1:6379)", s);
    size_t hl = (size_t)(colon - s);
    if (hl >= hostlen) return lm_errf(err, "host name in '%s' is too long", s);
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 1 || p > 65535)
        return lm_errf(err, "port in '%s' must be a number from 1 to 65535", s);
    memcpy(host, s, hl);
    host[hl] = 0;
    *port = (int)p;
    return LM_OK;
}

int lm_progress_enabled(void) { return isatty(STDERR_FILENO) && !getenv("LUMOS_NO_PROGRESS"); }

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void lm_sort_doubles(double *v, size_t n) { qsort(v, n, sizeof(*v), cmp_double); }

double lm_percentile(const double *sorted, size_t n, double p) {
    if (n == 0) return 0;
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)rank;
    if (lo + 1 >= n) return sorted[n - 1];
    double frac = rank - (double)lo;
    return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac;
}

char *lm_json_quote(char *out, size_t n, const char *s) {
    size_t o = 0;
    if (n < 3) {
        if (n) out[0] = 0;
        return out;
    }
    out[o++] = '"';
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        size_t k;
        if (c == '"' || c == '\\')
            k = (size_t)snprintf(esc, sizeof(esc), "\\%c", c);
        else if (c < 0x20)
            k = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
        else
            esc[0] = (char)c, k = 1;
        if (o + k + 2 > n) break; /* room for the quote and the NUL */
        memcpy(out + o, esc, k);
        o += k;
    }
    /* Do not end inside a UTF-8 sequence. */
    size_t end = o;
    while (end > 1 && ((unsigned char)out[end - 1] & 0xC0) == 0x80)
        end--;
    if (end > 1 && ((unsigned char)out[end - 1] & 0xC0) == 0xC0) {
        size_t need = ((unsigned char)out[end - 1] & 0xE0) == 0xC0   ? 2
                      : ((unsigned char)out[end - 1] & 0xF0) == 0xE0 ? 3
                                                                     : 4;
        if (o - (end - 1) < need) o = end - 1;
    }
    out[o++] = '"';
    out[o] = 0;
    return out;
}

size_t lm_utf8_len(const unsigned char *p, size_t n) {
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return len;
}
