/* util.c -- the guest's clock and random source. */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "sdk_internal.h"

uint64_t lm_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int lm_random(void *buf, size_t n) {
    /* getentropy() gives at most 256 bytes a call. */
    unsigned char *p = buf;
    while (n > 0) {
        size_t k = n > 256 ? 256 : n;
        if (getentropy(p, k) != 0) return LM_ERR;
        p += k;
        n -= k;
    }
    return LM_OK;
}
