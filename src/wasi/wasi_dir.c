/* wasi_dir.c -- fd_readdir: directory entries in preview1's layout. A
 * cookie counts entries: cookie n resumes after the n-th entry listed since
 * the directory was last read from cookie 0. The host's own offsets
 * (getdents64's d_off, 64-bit hashes on ext4) would do as cookies, but
 * wasi-libc keeps telldir() positions in a 32-bit long, so small numbers
 * are what survives a telldir/seekdir round trip; the fd remembers the host
 * offset behind each number. Every entry the host lists is passed on, "."
 * and ".." included, as POSIX readdir does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/internal.h"

#define DIRENT_SIZE 24 /* d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20 */

static uint8_t entry_type(int dirfd, const struct dirent64 *d) {
    switch (d->d_type) {
    case DT_REG: return LM_WASI_FT_FILE;
    case DT_DIR: return LM_WASI_FT_DIR;
    case DT_LNK: return LM_WASI_FT_SYMLINK;
    case DT_CHR: return LM_WASI_FT_CHAR;
    case DT_BLK: return LM_WASI_FT_BLOCK;
    case DT_SOCK: return LM_WASI_FT_SOCK_STREAM;
    case DT_UNKNOWN: { /* some file systems do not say: ask */
        struct stat st;
        if (fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return lm__wasi_filetype(-1, st.st_mode);
        return LM_WASI_FT_UNKNOWN;
    }
    default: return LM_WASI_FT_UNKNOWN;
    }
}

/* Copies as much of [header, name] as fits at buf+at; returns bytes copied. */
static uint64_t put_entry(lm_wasi_mem m, uint64_t buf, uint64_t len, uint64_t at, int dirfd,
                          const struct dirent64 *d, uint64_t next) {
    uint8_t head[DIRENT_SIZE] = {0};
    lm_wasi_mem h = {head, sizeof(head)};
    size_t namlen = strlen(d->d_name);
    lm__wasi_st64(h, 0, next);
    lm__wasi_st64(h, 8, (uint64_t)d->d_ino);
    lm__wasi_st32(h, 16, (uint32_t)namlen);
    lm__wasi_st8(h, 20, entry_type(dirfd, d));
    uint64_t room = len - at, n = room < DIRENT_SIZE ? room : DIRENT_SIZE;
    memcpy(lm__wasi_at(m, buf + at), head, n);
    if (room > DIRENT_SIZE) {
        uint64_t k = room - DIRENT_SIZE < namlen ? room - DIRENT_SIZE : namlen;
        memcpy(lm__wasi_at(m, buf + at + DIRENT_SIZE), d->d_name, k);
        n += k;
    }
    return n;
}

/* Remembers the host offset after entry number idx (0-based). */
static int remember(lm_wasi_fd *f, uint64_t idx, uint64_t off) {
    if (idx < f->ndir_pos) {
        f->dir_pos[idx] = off;
        return 0;
    }
    if (idx > f->ndir_pos || idx >= UINT32_MAX) return 0; /* not reached in order */
    if (f->ndir_pos == f->dir_pos_cap) {
        uint32_t cap = f->dir_pos_cap ? f->dir_pos_cap * 2 : 64;
        uint64_t *p = realloc(f->dir_pos, cap * sizeof(*p));
        if (!p) return -1;
        f->dir_pos = p;
        f->dir_pos_cap = cap;
    }
    f->dir_pos[f->ndir_pos++] = off;
    return 0;
}

/* Fills buf with entries from cookie on. A buffer filled to the last byte
 * tells the guest there may be more (the last entry may be cut short: the
 * guest reads it again with a bigger buffer, from its cookie). */
uint32_t lm_wasi_fd_readdir(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint64_t buf = a[1], len = a[2], cookie = a[3], used = a[4];
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, a[0], LM_R_FD_READDIR, &e);
    if (!f) return e;
    if (f->type != LM_WASI_FT_DIR) return LM_WASI_ENOTDIR;
    if (!lm__wasi_span(m, buf, len) || !lm__wasi_span(m, used, 4)) return LM_WASI_EFAULT;
    /* Start from the nearest known position at or before the cookie. */
    if (cookie == 0) f->ndir_pos = 0;
    uint64_t idx = cookie <= f->ndir_pos ? cookie : f->ndir_pos;
    off_t from = idx ? (off_t)f->dir_pos[idx - 1] : 0;
    if (lseek(f->host, from, SEEK_SET) < 0) return lm__wasi_errno(errno);
    /* 8-aligned for struct dirent64; static, not on a stack the guest may
     * have nearly used up. */
    static _Thread_local uint64_t host[4096];
    uint64_t at = 0;
    while (at < len) {
        ssize_t n = getdents64(f->host, host, sizeof(host));
        if (n < 0) return lm__wasi_errno(errno);
        if (n == 0) break;
        for (ssize_t off = 0; off < n && at < len;) {
            const struct dirent64 *d = (const struct dirent64 *)((const char *)host + off);
            off += d->d_reclen;
            if (remember(f, idx, (uint64_t)d->d_off) != 0) return LM_WASI_ENOMEM;
            if (++idx <= cookie) continue; /* before the cookie: skipped */
            at += put_entry(m, buf, len, at, f->host, d, idx);
        }
    }
    lm__wasi_st32(m, used, (uint32_t)at);
    return LM_WASI_ESUCCESS;
}
