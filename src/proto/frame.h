/* frame.h -- the instance channel's frame format, shared by the function
 * side (sdk) and the host (channel): the header codec, the probe record and
 * its names, the RESULT payload, and whole frames over blocking file
 * descriptors. Plain C, libc only.
 *
 * Every frame is an 8-byte header and a payload:
 *
 *   byte 0     magic 0x4C ('L'): a stray printf to stdout is caught at once
 *   byte 1     type (enum lm_frame_type)
 *   bytes 2-3  reserved, must be zero
 *   bytes 4-7  payload length, unsigned 32-bit little-endian,
 *              at most LM_FRAME_MAX
 *
 * docs/channel.md describes each type's payload and the conversation. */
#ifndef LM_PROTO_FRAME_H
#define LM_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define LM_FRAME_MAGIC 0x4C
#define LM_FRAME_HEADER 8
/* Largest payload either side accepts. Big enough for the largest built-in
 * reply (the primes up to 10^8 as a JSON list, about 52 MB). */
#define LM_FRAME_MAX (128u << 20)

enum lm_frame_type {
    LM_FRAME_READY = 1,         /* guest -> host: start-up done (cold start ends) */
    LM_FRAME_INVOKE = 2,        /* host -> guest: request body */
    LM_FRAME_GET = 3,           /* guest -> host: key */
    LM_FRAME_PUT = 4,           /* guest -> host: u32 key length, key, value */
    LM_FRAME_VALUE = 5,         /* host -> guest: GET hit, the value */
    LM_FRAME_NOT_FOUND = 6,     /* host -> guest: GET miss, empty */
    LM_FRAME_STORED = 7,        /* host -> guest: PUT done, empty */
    LM_FRAME_STORAGE_ERROR = 8, /* host -> guest: GET/PUT failed, message */
    LM_FRAME_RESULT = 9,        /* guest -> host: status, probes, body */
    LM_FRAME_LOG = 10,          /* guest -> host: one log line */
    LM_FRAME_MARK = 11,         /* guest or runner -> host: cold-start marks (proto/mark.h) */
    LM_FRAME_TYPE_MAX = 11
};

/* The probe record carried by RESULT: LM_PROBE_COUNT unsigned 64-bit
 * little-endian fields, in this order. Durations are nanoseconds of the
 * function's own monotonic clock; the four phases add up to total_ns. */
enum lm_probe_field {
    LM_PROBE_DESER_NS,
    LM_PROBE_IO_NS,
    LM_PROBE_COMPUTE_NS,
    LM_PROBE_SER_NS,
    LM_PROBE_TOTAL_NS,
    LM_PROBE_IO_READ_BYTES,
    LM_PROBE_IO_WRITE_BYTES,
    LM_PROBE_IO_CALLS,
    LM_PROBE_COUNT
};

/* Names of the probe fields as they appear in JSON output ("deser_ns"...). */
extern const char *const lm_probe_names[LM_PROBE_COUNT];

/* RESULT payload: u16 HTTP status, u16 probe field count n, n u64 probe
 * fields, then the response body (JSON) to the end of the payload. A reader
 * takes the fields it knows and skips the rest, so the record can grow. */
#define LM_RESULT_FIXED 4

typedef struct {
    uint8_t type;
    uint32_t len;
} lm_frame_header;

/* Writes a header for a frame of type and len into out[LM_FRAME_HEADER]. */
void lm_frame_encode(uint8_t *out, uint8_t type, uint32_t len);

/* Decodes a header. Returns 0, or -1 with a message in err (bad magic,
 * reserved bits set, unknown type, length past LM_FRAME_MAX). */
int lm_frame_decode(const uint8_t *in, lm_frame_header *h, char *err, size_t errlen);

/* Little-endian helpers. */
void lm_put_u16(uint8_t *p, uint16_t v);
void lm_put_u32(uint8_t *p, uint32_t v);
void lm_put_u64(uint8_t *p, uint64_t v);
uint16_t lm_get_u16(const uint8_t *p);
uint32_t lm_get_u32(const uint8_t *p);
uint64_t lm_get_u64(const uint8_t *p);

/* Parses a RESULT payload: status, probes (missing fields read as 0) and a
 * pointer into the payload for the body. Returns 0, or -1 when truncated. */
int lm_result_decode(const uint8_t *p, size_t len, int *status, uint64_t probes[LM_PROBE_COUNT],
                     const uint8_t **body, size_t *body_len);

/* Whole frames on blocking file descriptors (frame_io.c). lm_frame_write
 * writes one frame whose payload is a[0..alen) then b[0..blen) (either may
 * be empty); 0, or -1 when the payload is past LM_FRAME_MAX or the write
 * failed (errno set). lm_frame_read reads one frame into *buf, which it
 * grows (*cap; the caller owns and frees it; one spare NUL after the
 * payload): 0 with *type and *len, -1 at the end of input or on an error
 * (a message in err), -2 for a frame past LM_FRAME_MAX, whose payload was
 * skipped so the channel stays in step (*type set). */
int lm_frame_write(int fd, uint8_t type, const void *a, size_t alen, const void *b, size_t blen);
int lm_frame_read(int fd, uint8_t *type, uint8_t **buf, size_t *cap, size_t *len, char *err,
                  size_t errlen);

#endif
