/* wasi_fd.c -- reading and writing through guest fds: fd_read, fd_write,
 * fd_pread, fd_pwrite, fd_seek, fd_tell. Every iovec is checked against the
 * guest's memory before any byte moves, and the result pointer too, so a
 * call either fails with EFAULT or does its I/O and reports it. */
#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/internal.h"

/* More iovecs than this in one call are left for the guest's next call (a
 * short read or write, as the kernel's own IOV_MAX would make it). */
#define MAX_IOV 1024

/* Turns the guest's iovec array (8 bytes each: buf u32, len u32) into host
 * iovecs. */
static uint32_t gather(lm_wasi_mem m, uint64_t iovs, uint64_t n, struct iovec *out, int *nout) {
    if (!lm__wasi_span(m, iovs, n * 8)) return LM_WASI_EFAULT;
    if (n > MAX_IOV) n = MAX_IOV;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t buf = lm__wasi_ld32(m, iovs + i * 8), len = lm__wasi_ld32(m, iovs + i * 8 + 4);
        if (!lm__wasi_span(m, buf, len)) return LM_WASI_EFAULT;
        out[i].iov_base = len ? lm__wasi_at(m, buf) : NULL;
        out[i].iov_len = len;
    }
    *nout = (int)n;
    return LM_WASI_ESUCCESS;
}

enum { OP_READ, OP_WRITE, OP_PREAD, OP_PWRITE };

/* One vectored transfer: args are (fd, iovs, iovs_len, [offset,] result). */
static uint32_t transfer(lm_wasi *w, lm_wasi_mem m, const uint64_t *a, int op) {
    static const uint64_t rights[] = {LM_R_FD_READ, LM_R_FD_WRITE, LM_R_FD_READ | LM_R_FD_SEEK,
                                      LM_R_FD_WRITE | LM_R_FD_SEEK};
    int positioned = op == OP_PREAD || op == OP_PWRITE;
    uint64_t result = positioned ? a[4] : a[3], offset = positioned ? a[3] : 0;
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], rights[op], &e);
    if (!f) return e;
    struct iovec iov[MAX_IOV];
    int n;
    if ((e = gather(m, a[1], a[2], iov, &n)) != LM_WASI_ESUCCESS) return e;
    if (!lm__wasi_span(m, result, 4)) return LM_WASI_EFAULT;
    if (offset > INT64_MAX) return LM_WASI_EINVAL;
    ssize_t done;
    do {
        switch (op) {
        case OP_READ: done = readv(f->host, iov, n); break;
        case OP_WRITE: done = writev(f->host, iov, n); break;
        case OP_PREAD: done = preadv(f->host, iov, n, (off_t)offset); break;
        default: done = pwritev(f->host, iov, n, (off_t)offset); break;
        }
    } while (done < 0 && errno == EINTR);
    if (done < 0) return lm__wasi_errno(errno);
    lm__wasi_st32(m, result, (uint32_t)done);
    return LM_WASI_ESUCCESS;
}

uint32_t lm_wasi_fd_read(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return transfer(w, m, a, OP_READ);
}
uint32_t lm_wasi_fd_write(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return transfer(w, m, a, OP_WRITE);
}
uint32_t lm_wasi_fd_pread(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return transfer(w, m, a, OP_PREAD);
}
uint32_t lm_wasi_fd_pwrite(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return transfer(w, m, a, OP_PWRITE);
}

uint32_t lm_wasi_fd_seek(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    int64_t offset = (int64_t)a[1];
    uint64_t whence = a[2];
    /* Asking where one is (0 from the current position) is fd_tell's right. */
    uint64_t right = whence == 1 && offset == 0 ? LM_R_FD_TELL : LM_R_FD_SEEK;
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], 0, &e);
    if (!f) return e;
    if (!(f->base & (right | LM_R_FD_SEEK))) return LM_WASI_ENOTCAPABLE;
    if (whence > 2) return LM_WASI_EINVAL;
    if (!lm__wasi_span(m, a[3], 8)) return LM_WASI_EFAULT;
    static const int how[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    off_t pos = lseek(f->host, (off_t)offset, how[whence]);
    if (pos < 0) return lm__wasi_errno(errno);
    lm__wasi_st64(m, a[3], (uint64_t)pos);
    return LM_WASI_ESUCCESS;
}

uint32_t lm_wasi_fd_tell(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], LM_R_FD_TELL, &e);
    if (!f) return e;
    if (!lm__wasi_span(m, a[1], 8)) return LM_WASI_EFAULT;
    off_t pos = lseek(f->host, 0, SEEK_CUR);
    if (pos < 0) return lm__wasi_errno(errno);
    lm__wasi_st64(m, a[1], (uint64_t)pos);
    return LM_WASI_ESUCCESS;
}
