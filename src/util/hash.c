/* hash.c -- 64-bit FNV-1a over memory and over files (hash.h). */
#include "util/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

uint64_t lm_fnv1a64(uint64_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

int lm_fnv1a64_file(uint64_t h, const char *path, uint64_t *out, char *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lm_errf(err, "cannot open %s: %s", path, strerror(errno));
    unsigned char buf[65536];
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR))
        if (r > 0) h = lm_fnv1a64(h, buf, (size_t)r);
    int e = errno;
    close(fd);
    if (r < 0) return lm_errf(err, "cannot read %s: %s", path, strerror(e));
    *out = h;
    return LM_OK;
}
