/* frame.c -- encoding and decoding of channel frame headers and RESULT
 * payloads; shared by the guest SDK and the host. */
#include "proto/frame.h"

#include <stdio.h>

const char *const lm_probe_names[LM_PROBE_COUNT] = {
    "deser_ns", "io_ns",         "compute_ns",     "ser_ns",
    "total_ns", "io_read_bytes", "io_write_bytes", "io_calls",
};

void lm_put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void lm_put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void lm_put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t lm_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

uint32_t lm_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint64_t lm_get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

void lm_frame_encode(uint8_t *out, uint8_t type, uint32_t len) {
    out[0] = LM_FRAME_MAGIC;
    out[1] = type;
    out[2] = 0;
    out[3] = 0;
    lm_put_u32(out + 4, len);
}

int lm_frame_decode(const uint8_t *in, lm_frame_header *h, char *err, size_t errlen) {
    if (in[0] != LM_FRAME_MAGIC) {
        /* Most often the function wrote text to stdout, which is the channel. */
        snprintf(err, errlen,
                 "bad frame magic 0x%02x (expected 0x%02x): is something writing to stdout?", in[0],
                 LM_FRAME_MAGIC);
        return -1;
    }
    if (in[2] || in[3]) {
        snprintf(err, errlen, "bad frame: reserved bytes are 0x%02x%02x, not zero", in[2], in[3]);
        return -1;
    }
    if (in[1] < 1 || in[1] > LM_FRAME_TYPE_MAX) {
        snprintf(err, errlen, "bad frame: unknown type %u", in[1]);
        return -1;
    }
    h->type = in[1];
    h->len = lm_get_u32(in + 4);
    if (h->len > LM_FRAME_MAX) {
        snprintf(err, errlen, "frame of %u bytes is past the limit of %u bytes", h->len,
                 LM_FRAME_MAX);
        return -1;
    }
    return 0;
}

int lm_result_decode(const uint8_t *p, size_t len, int *status, uint64_t probes[LM_PROBE_COUNT],
                     const uint8_t **body, size_t *body_len) {
    if (len < LM_RESULT_FIXED) return -1;
    *status = lm_get_u16(p);
    size_t n = lm_get_u16(p + 2);
    if (len - LM_RESULT_FIXED < n * 8) return -1;
    for (size_t i = 0; i < LM_PROBE_COUNT; i++)
        probes[i] = i < n ? lm_get_u64(p + LM_RESULT_FIXED + 8 * i) : 0;
    *body = p + LM_RESULT_FIXED + 8 * n;
    *body_len = len - LM_RESULT_FIXED - 8 * n;
    return 0;
}
