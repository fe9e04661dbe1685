/* wasi_fdstat.c -- everything about a guest fd but its bytes: closing and
 * renumbering, sync, advice and allocation, fdstat and filestat, and the
 * preopened directories' names. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/internal.h"

uint32_t lm_wasi_fd_close(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], 0, &e);
    if (!f) return e;
    lm__wasi_fd_release(f);
    return LM_WASI_ESUCCESS;
}

/* Moves fd `from` onto `to`, closing what `to` held; both must be open. */
uint32_t lm_wasi_fd_renumber(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *from = lm__wasi_fd_get(w, a[0], 0, &e);
    if (!from) return e;
    lm_wasi_fd *to = lm__wasi_fd_get(w, a[1], 0, &e);
    if (!to) return e;
    if (from == to) return LM_WASI_ESUCCESS;
    lm__wasi_fd_release(to);
    *to = *from;
    *from = (lm_wasi_fd){.host = -1};
    return LM_WASI_ESUCCESS;
}

uint32_t lm_wasi_fd_sync(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], LM_R_FD_SYNC, &e);
    if (!f) return e;
    return fsync(f->host) == 0 ? LM_WASI_ESUCCESS : lm__wasi_errno(errno);
}

uint32_t lm_wasi_fd_datasync(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], LM_R_FD_DATASYNC, &e);
    if (!f) return e;
    return fdatasync(f->host) == 0 ? LM_WASI_ESUCCESS : lm__wasi_errno(errno);
}

uint32_t lm_wasi_fd_advise(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    static const int advice[] = {POSIX_FADV_NORMAL,   POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                 POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED,   POSIX_FADV_NOREUSE};
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], LM_R_FD_ADVISE, &e);
    if (!f) return e;
    if (a[3] > 5 || a[1] > INT64_MAX || a[2] > INT64_MAX) return LM_WASI_EINVAL;
    int rc = posix_fadvise(f->host, (off_t)a[1], (off_t)a[2], advice[a[3]]);
    return lm__wasi_errno(rc);
}

uint32_t lm_wasi_fd_allocate(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], LM_R_FD_ALLOCATE, &e);
    if (!f) return e;
    uint64_t off = a[1], len = a[2];
    if (off > INT64_MAX || len > INT64_MAX - off) return LM_WASI_EFBIG;
    int rc = posix_fallocate(f->host, (off_t)off, (off_t)len);
    if (rc == EOPNOTSUPP) {
        /* A file system without fallocate: make the file long enough. */
        struct stat st;
        if (fstat(f->host, &st) != 0) return lm__wasi_errno(errno);
        rc = st.st_size < (off_t)(off + len) && ftruncate(f->host, (off_t)(off + len)) != 0 ? errno
                                                                                            : 0;
    }
    return lm__wasi_errno(rc);
}

uint32_t lm_wasi_fd_fdstat_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], 0, &e);
    if (!f) return e;
    if (!lm__wasi_span(m, a[1], 24)) return LM_WASI_EFAULT;
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return lm__wasi_errno(errno);
    uint16_t flags = 0;
    if (fl & O_APPEND) flags |= LM_FDFLAG_APPEND;
    if (fl & O_NONBLOCK) flags |= LM_FDFLAG_NONBLOCK;
    /* Linux's O_SYNC includes the O_DSYNC bit, and O_RSYNC is O_SYNC. */
    if ((fl & O_SYNC) == O_SYNC)
        flags |= LM_FDFLAG_SYNC;
    else if (fl & O_DSYNC)
        flags |= LM_FDFLAG_DSYNC;
    memset(lm__wasi_at(m, a[1]), 0, 24);
    lm__wasi_st8(m, a[1], f->type);
    lm__wasi_st16(m, a[1] + 2, flags);
    lm__wasi_st64(m, a[1] + 8, f->base);
    lm__wasi_st64(m, a[1] + 16, f->inheriting);
    return LM_WASI_ESUCCESS;
}

uint32_t lm_wasi_fd_fdstat_set_flags(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], LM_R_FD_FDSTAT_SET_FLAGS, &e);
    if (!f) return e;
    if (a[1] > 31) return LM_WASI_EINVAL;
    /* Linux changes only O_APPEND and O_NONBLOCK on an open file. */
    if (a[1] & (LM_FDFLAG_DSYNC | LM_FDFLAG_RSYNC | LM_FDFLAG_SYNC)) return LM_WASI_ENOTSUP;
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return lm__wasi_errno(errno);
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (a[1] & LM_FDFLAG_APPEND) fl |= O_APPEND;
    if (a[1] & LM_FDFLAG_NONBLOCK) fl |= O_NONBLOCK;
    return fcntl(f->host, F_SETFL, fl) == 0 ? LM_WASI_ESUCCESS : lm__wasi_errno(errno);
}

/* Rights only ever narrow. */
uint32_t lm_wasi_fd_fdstat_set_rights(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], 0, &e);
    if (!f) return e;
    if ((a[1] & ~f->base) || (a[2] & ~f->inheriting)) return LM_WASI_ENOTCAPABLE;
    f->base = a[1];
    f->inheriting = a[2];
    return LM_WASI_ESUCCESS;
}

uint32_t lm_wasi_fd_filestat_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], LM_R_FD_FILESTAT_GET, &e);
    if (!f) return e;
    if (!lm__wasi_span(m, a[1], 64)) return LM_WASI_EFAULT;
    struct stat st;
    if (fstat(f->host, &st) != 0) return lm__wasi_errno(errno);
    lm__wasi_put_filestat(m, a[1], &st);
    return LM_WASI_ESUCCESS;
}

uint32_t lm_wasi_fd_filestat_set_size(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], LM_R_FD_FILESTAT_SET_SIZE, &e);
    if (!f) return e;
    if (a[1] > INT64_MAX) return LM_WASI_EFBIG;
    return ftruncate(f->host, (off_t)a[1]) == 0 ? LM_WASI_ESUCCESS : lm__wasi_errno(errno);
}

uint32_t lm_wasi_fd_filestat_set_times(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], LM_R_FD_FILESTAT_SET_TIMES, &e);
    if (!f) return e;
    struct timespec ts[2];
    if ((e = lm__wasi_times(a[1], a[2], (uint32_t)a[3], ts)) != LM_WASI_ESUCCESS) return e;
    return futimens(f->host, ts) == 0 ? LM_WASI_ESUCCESS : lm__wasi_errno(errno);
}

/* The preopened directory behind fd: EBADF for any other fd (how
 * wasi-libc's start-up knows it has seen them all). */
static lm_wasi_fd *preopen(lm_wasi *w, uint64_t fd, uint32_t *e) {
    lm_wasi_fd *f = lm__wasi_fd_get(w, fd, 0, e);
    if (f && !f->preopen) *e = LM_WASI_EBADF;
    return f && f->preopen ? f : NULL;
}

uint32_t lm_wasi_fd_prestat_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = preopen(w, a[0], &e);
    if (!f) return e;
    if (!lm__wasi_span(m, a[1], 8)) return LM_WASI_EFAULT;
    memset(lm__wasi_at(m, a[1]), 0, 8);
    lm__wasi_st32(m, a[1] + 4, (uint32_t)strlen(f->preopen)); /* tag 0: a directory */
    return LM_WASI_ESUCCESS;
}

uint32_t lm_wasi_fd_prestat_dir_name(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint32_t e;
    lm_wasi_fd *f = preopen(w, a[0], &e);
    if (!f) return e;
    size_t len = strlen(f->preopen);
    if (!lm__wasi_span(m, a[1], a[2])) return LM_WASI_EFAULT;
    if (a[2] < len) return LM_WASI_ENAMETOOLONG;
    memcpy(lm__wasi_at(m, a[1]), f->preopen, len);
    return LM_WASI_ESUCCESS;
}
