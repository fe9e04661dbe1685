/* mark.h -- the MARK frame: the moments of a cold start that the programs
 * of an instance report about themselves (a runner's first instruction,
 * the module's load, the guest's main, READY about to be sent), each
 * stamped with CLOCK_MONOTONIC, so the host can split the cold start into
 * its phases (docs/cold-start.md). Header-only and libc-only: the guest
 * SDK, the runner programs (which link nothing of Lumos' but the WASI
 * host) and the host all include it.
 *
 * A MARK frame's payload is one or more 16-byte records, each a u64 LE
 * kind (enum lm_mark_kind) and a u64 LE timestamp in ns. A host keeps the
 * kinds it knows and skips the others, so new kinds can be added. Only a
 * program that runs on the host's clock (the same kernel, no time
 * namespace) sends marks the host can place; the host checks their order
 * against its own and says in each record when it could not use them. */
#ifndef LM_PROTO_MARK_H
#define LM_PROTO_MARK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "proto/frame.h"

enum lm_mark_kind {
    /* A program of the instance began: its first instruction as near as it
     * can tell (a runner's main; node's own start, from
     * performance.nodeTiming; the container launcher's main). */
    LM_MARK_PROGRAM = 1,
    /* Containers: `runc create` (crun) has exited: the namespaces, mounts
     * and cgroup are made and the process waits to be started. */
    LM_MARK_CREATED = 2,
    /* The runtime begins to read (or map) the module. */
    LM_MARK_LOAD_BEGIN = 3,
    /* The module is read, validated and compiled: instantiation begins. */
    LM_MARK_LOADED = 4,
    /* The guest's main (the SDK's serve loop) began. */
    LM_MARK_GUEST_MAIN = 5,
    /* The guest is about to write READY. */
    LM_MARK_READY_SENT = 6,
    LM_MARK_KIND_MAX = 6
};

#define LM_MARK_RECORD 16
/* The most records one frame carries (more are never needed). */
#define LM_MARK_MAX 8

/* CLOCK_MONOTONIC in ns (the same clock as lm_now_ns()). */
static inline uint64_t lm_mark_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void lm_mark_put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t lm_mark_get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Encodes a whole MARK frame (header and n records, 1 <= n <= LM_MARK_MAX)
 * into out, which holds LM_FRAME_HEADER + n * LM_MARK_RECORD bytes;
 * returns the frame's length. */
static inline size_t lm_mark_frame(uint8_t *out, const uint64_t *kinds, const uint64_t *ts, int n) {
    uint32_t len = (uint32_t)n * LM_MARK_RECORD;
    out[0] = LM_FRAME_MAGIC;
    out[1] = LM_FRAME_MARK;
    out[2] = out[3] = 0;
    for (int i = 0; i < 4; i++)
        out[4 + i] = (uint8_t)(len >> (8 * i));
    for (int i = 0; i < n; i++) {
        lm_mark_put64(out + LM_FRAME_HEADER + LM_MARK_RECORD * i, kinds[i]);
        lm_mark_put64(out + LM_FRAME_HEADER + LM_MARK_RECORD * i + 8, ts[i]);
    }
    return LM_FRAME_HEADER + len;
}

/* Writes a MARK frame of one record to fd with one write (a frame this
 * small is written whole: a pipe takes up to PIPE_BUF bytes at once).
 * 0, or -1 when the write failed. */
static inline int lm_mark_write(int fd, uint64_t kind, uint64_t t) {
    uint8_t buf[LM_FRAME_HEADER + LM_MARK_RECORD];
    size_t n = lm_mark_frame(buf, &kind, &t, 1);
    return write(fd, buf, n) == (ssize_t)n ? 0 : -1;
}

#endif
