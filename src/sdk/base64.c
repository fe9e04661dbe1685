/* base64.c -- RFC 4648 base64 with padding, for inline binary payloads and
 * the encrypted messages. */
#include "lumos.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t lm_base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

size_t lm_base64_encode(const uint8_t *in, size_t n, char *out) {
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

static int value_of(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

long lm_base64_decode(const char *in, size_t n, uint8_t *out) {
    if (n % 4) return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int last = i + 4 == n;
        int a = value_of(in[i]), b = value_of(in[i + 1]);
        int c = in[i + 2] == '=' && last ? -2 : value_of(in[i + 2]);
        int d = in[i + 3] == '=' && last ? -2 : value_of(in[i + 3]);
        if (a < 0 || b < 0 || c == -1 || d == -1 || (c == -2 && d != -2)) return -1;
        uint32_t v = ((uint32_t)a << 18) | ((uint32_t)b << 12);
        out[o++] = (uint8_t)(v >> 16);
        if (c == -2) {
            if (b & 15) return -1; /* non-canonical: bits past the end must be 0 */
            break;
        }
        v |= (uint32_t)c << 6;
        out[o++] = (uint8_t)(v >> 8);
        if (d == -2) {
            if (c & 3) return -1;
            break;
        }
        v |= (uint32_t)d;
        out[o++] = (uint8_t)v;
    }
    return (long)o;
}
