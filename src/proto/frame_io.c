/* frame_io.c -- whole frames over blocking file descriptors: the guest's
 * channel I/O, and the host's writes on the blocking channel driver. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "proto/frame.h"

/* Reads exactly n bytes. Returns n, 0 at a clean end of input before any
 * byte, or -1 on error or a short read. */
static long read_full(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) return got == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return (long)got;
}

int lm_frame_write(int fd, uint8_t type, const void *a, size_t alen, const void *b, size_t blen) {
    uint8_t hdr[LM_FRAME_HEADER];
    if (alen + blen > LM_FRAME_MAX) return -1;
    lm_frame_encode(hdr, type, (uint32_t)(alen + blen));
    struct iovec iov[3] = {{hdr, sizeof(hdr)}, {(void *)a, alen}, {(void *)b, blen}};
    int n = 3, i = 0;
    while (i < n) {
        ssize_t w = writev(fd, iov + i, n - i);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        size_t left = (size_t)w;
        while (i < n && left >= iov[i].iov_len)
            left -= iov[i++].iov_len;
        if (i < n) {
            iov[i].iov_base = (char *)iov[i].iov_base + left;
            iov[i].iov_len -= left;
        }
    }
    return 0;
}

int lm_frame_read(int fd, uint8_t *type, uint8_t **buf, size_t *cap, size_t *len, char *err,
                  size_t errlen) {
    uint8_t hdr[LM_FRAME_HEADER];
    long r = read_full(fd, hdr, sizeof(hdr));
    if (r == 0) {
        snprintf(err, errlen, "end of input");
        return -1;
    }
    if (r < 0) {
        snprintf(err, errlen, "reading a frame header: %s", errno ? strerror(errno) : "short read");
        return -1;
    }
    lm_frame_header h;
    if (lm_frame_decode(hdr, &h, err, errlen) != 0) {
        uint32_t n = lm_get_u32(hdr + 4);
        if (hdr[0] == LM_FRAME_MAGIC && n > LM_FRAME_MAX) {
            /* Skip the payload so the channel stays in step. */
            char sink[4096];
            uint32_t left = n;
            while (left > 0) {
                size_t k = left < sizeof(sink) ? left : sizeof(sink);
                if (read_full(fd, sink, k) != (long)k) return -1;
                left -= (uint32_t)k;
            }
            *type = hdr[1];
            return -2;
        }
        return -1;
    }
    if (*cap < (size_t)h.len + 1) {
        uint8_t *nb = realloc(*buf, (size_t)h.len + 1);
        if (!nb) {
            snprintf(err, errlen, "out of memory for a %u-byte frame", h.len);
            return -1;
        }
        *buf = nb;
        *cap = (size_t)h.len + 1;
    }
    if (h.len && read_full(fd, *buf, h.len) != (long)h.len) {
        snprintf(err, errlen, "short read in a %u-byte frame", h.len);
        return -1;
    }
    (*buf)[h.len] = 0;
    *type = h.type;
    *len = h.len;
    return 0;
}
