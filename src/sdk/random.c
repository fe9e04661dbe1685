/* random.c -- the guest's random source (lm_random). */
#include <errno.h>
#include <unistd.h>

#include "internal.h"

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
