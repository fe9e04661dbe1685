/* wasi_path.c -- the path calls: path_open and the calls that make,
 * remove, rename, link, stat and time directory entries. Each resolves its
 * path beneath its directory fd (wasi_resolve.c), then acts on the last
 * component relative to the directory found, so no step can leave the
 * sandbox; a call that follows a last symlink opens it beneath the
 * directory first. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/internal.h"

uint32_t lm__wasi_path_copy(lm_wasi_mem m, uint64_t ptr, uint64_t len, char *out) {
    if (!lm__wasi_span(m, ptr, len)) return LM_WASI_EFAULT;
    if (len >= LM_WASI_PATH_MAX) return LM_WASI_ENAMETOOLONG;
    if (len) memcpy(out, lm__wasi_at(m, ptr), len);
    out[len] = 0;
    return memchr(out, 0, len) ? LM_WASI_EINVAL : LM_WASI_ESUCCESS;
}

/* The directory fd a path call works in, with rights; ENOTDIR when fd is
 * open but no directory. */
static lm_wasi_fd *dir_get(lm_wasi *w, uint64_t fd, uint64_t rights, uint32_t *e) {
    lm_wasi_fd *f = lm__wasi_fd_get(w, fd, 0, e);
    if (f && f->type != LM_WASI_FT_DIR) {
        *e = LM_WASI_ENOTDIR;
        return NULL;
    }
    if (f && (f->base & rights) != rights) {
        *e = LM_WASI_ENOTCAPABLE;
        return NULL;
    }
    return f;
}

/* A path call's working state: the guest path, then the directory that
 * holds its last component and that component. */
typedef struct {
    char path[LM_WASI_PATH_MAX];
    char last[LM_WASI_PATH_MAX];
    int parent;
} target;

/* Copies the path at (ptr, len) and resolves its parent beneath dir fd. */
static uint32_t resolve(lm_wasi *w, lm_wasi_mem m, uint64_t fd, uint64_t rights, uint64_t ptr,
                        uint64_t len, target *t) {
    t->parent = -1;
    uint32_t e;
    lm_wasi_fd *f = dir_get(w, fd, rights, &e);
    if (!f) return e;
    if ((e = lm__wasi_path_copy(m, ptr, len, t->path)) != LM_WASI_ESUCCESS) return e;
    return lm__wasi_parent_beneath(f->host, t->path, &t->parent, t->last);
}

/* One call's two targets live on the heap: 16 KiB is much to put on a
 * stack the guest may have nearly used up. */
static target *targets(int n) { return malloc((size_t)n * sizeof(target)); }

static void release(target *t, int n) {
    for (int i = 0; t && i < n; i++)
        if (t[i].parent >= 0) close(t[i].parent);
    free(t);
}

static uint32_t result(int rc) { return rc == 0 ? LM_WASI_ESUCCESS : lm__wasi_errno(errno); }

uint32_t lm_wasi_path_open(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint64_t dirflags = a[1], oflags = a[4], base = a[5], inh = a[6], fdflags = a[7];
    uint32_t e;
    uint64_t need = LM_R_PATH_OPEN;
    if (oflags & LM_O_CREAT) need |= LM_R_PATH_CREATE_FILE;
    if (oflags & LM_O_TRUNC) need |= LM_R_PATH_FILESTAT_SET_SIZE;
    lm_wasi_fd *d = dir_get(w, a[0], need, &e);
    if (!d) return e;
    if (!lm__wasi_span(m, a[8], 4)) return LM_WASI_EFAULT;
    if (oflags > 15 || fdflags > 31) return LM_WASI_EINVAL;
    /* An fd gets no right its directory may not hand on. */
    if ((base | inh) & ~d->inheriting) return LM_WASI_ENOTCAPABLE;
    char *path = malloc(LM_WASI_PATH_MAX);
    if (!path) return LM_WASI_ENOMEM;
    if ((e = lm__wasi_path_copy(m, a[2], a[3], path)) != LM_WASI_ESUCCESS) goto out;
    /* The rights asked for say how to open: reading, writing or both. */
    int rd = (base & (LM_R_FD_READ | LM_R_FD_READDIR)) != 0;
    int wr = (base & (LM_R_FD_WRITE | LM_R_FD_ALLOCATE | LM_R_FD_FILESTAT_SET_SIZE)) != 0;
    int flags = (rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY) | O_NOCTTY;
    if (oflags & LM_O_CREAT) flags |= O_CREAT;
    if (oflags & LM_O_DIRECTORY) flags |= O_DIRECTORY;
    if (oflags & LM_O_EXCL) flags |= O_EXCL;
    if (oflags & LM_O_TRUNC) flags |= O_TRUNC;
    if (!(dirflags & LM_LOOKUP_FOLLOW)) flags |= O_NOFOLLOW;
    if (fdflags & LM_FDFLAG_APPEND) flags |= O_APPEND;
    if (fdflags & LM_FDFLAG_DSYNC) flags |= O_DSYNC;
    if (fdflags & LM_FDFLAG_NONBLOCK) flags |= O_NONBLOCK;
    if (fdflags & (LM_FDFLAG_RSYNC | LM_FDFLAG_SYNC)) flags |= O_SYNC;
    int host;
    if ((e = lm__wasi_open_beneath(d->host, path, flags, 0666, &host)) != LM_WASI_ESUCCESS)
        goto out;
    struct stat st;
    if (fstat(host, &st) != 0) {
        e = lm__wasi_errno(errno);
        close(host);
        goto out;
    }
    uint8_t type = lm__wasi_filetype(host, st.st_mode);
    int dir = type == LM_WASI_FT_DIR;
    uint64_t rights = base & (dir ? LM_R_DIR : LM_R_FILE);
    /* Opened for reading only, or writing only: the other right goes. */
    if (!rd) rights &= ~(LM_R_FD_READ | LM_R_FD_READDIR);
    if (!wr) rights &= ~(uint64_t)LM_R_FD_WRITE;
    uint32_t fd;
    if ((e = lm__wasi_fd_add(w, host, type, rights, dir ? inh : 0, &fd)) == LM_WASI_ESUCCESS)
        lm__wasi_st32(m, a[8], fd);
out:
    free(path);
    return e;
}

/* One path, one call on it: resolves the path beneath its directory fd with
 * the right the call needs, then runs unlinkat(2) with flags, or mkdirat(2)
 * when mkdir is set. */
static uint32_t one_path(lm_wasi *w, lm_wasi_mem m, const uint64_t *a, uint64_t right, int mkdir,
                         int flags) {
    target *t = targets(1);
    if (!t) return LM_WASI_ENOMEM;
    uint32_t e = resolve(w, m, a[0], right, a[1], a[2], t);
    if (e == LM_WASI_ESUCCESS)
        e = result(mkdir ? mkdirat(t->parent, t->last, 0777) : unlinkat(t->parent, t->last, flags));
    release(t, 1);
    return e;
}

uint32_t lm_wasi_path_create_directory(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return one_path(w, m, a, LM_R_PATH_CREATE_DIRECTORY, 1, 0);
}

uint32_t lm_wasi_path_remove_directory(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return one_path(w, m, a, LM_R_PATH_REMOVE_DIRECTORY, 0, AT_REMOVEDIR);
}

uint32_t lm_wasi_path_unlink_file(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return one_path(w, m, a, LM_R_PATH_UNLINK_FILE, 0, 0);
}

uint32_t lm_wasi_path_rename(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    target *t = targets(2);
    if (!t) return LM_WASI_ENOMEM;
    t[1].parent = -1;
    uint32_t e = resolve(w, m, a[0], LM_R_PATH_RENAME_SOURCE, a[1], a[2], &t[0]);
    if (e == LM_WASI_ESUCCESS) e = resolve(w, m, a[3], LM_R_PATH_RENAME_TARGET, a[4], a[5], &t[1]);
    if (e == LM_WASI_ESUCCESS) e = result(renameat(t[0].parent, t[0].last, t[1].parent, t[1].last));
    release(t, 2);
    return e;
}

uint32_t lm_wasi_path_symlink(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    /* The link's text is not resolved now: resolving the link later is
     * what stays beneath the directory. An absolute text could never be
     * followed there, so it is refused (EPERM, as wasmtime and node do). */
    target *t = targets(2);
    if (!t) return LM_WASI_ENOMEM;
    t[0].parent = t[1].parent = -1;
    uint32_t e = lm__wasi_path_copy(m, a[0], a[1], t[0].path);
    if (e == LM_WASI_ESUCCESS && t[0].path[0] == '/') e = LM_WASI_EPERM;
    if (e == LM_WASI_ESUCCESS) e = resolve(w, m, a[2], LM_R_PATH_SYMLINK, a[3], a[4], &t[1]);
    if (e == LM_WASI_ESUCCESS) e = result(symlinkat(t[0].path, t[1].parent, t[1].last));
    release(t, 2);
    return e;
}

uint32_t lm_wasi_path_readlink(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint64_t buf = a[3], len = a[4], used = a[5];
    if (!lm__wasi_span(m, buf, len) || !lm__wasi_span(m, used, 4)) return LM_WASI_EFAULT;
    target *t = targets(1);
    if (!t) return LM_WASI_ENOMEM;
    uint32_t e = resolve(w, m, a[0], LM_R_PATH_READLINK, a[1], a[2], t);
    if (e == LM_WASI_ESUCCESS) {
        /* Into the host buffer first: readlink truncates silently, and the
         * guest gets the truncated text as POSIX readlink gives it. */
        ssize_t n = readlinkat(t->parent, t->last, t->path, sizeof(t->path));
        if (n < 0) {
            e = lm__wasi_errno(errno);
        } else {
            uint64_t k = (uint64_t)n < len ? (uint64_t)n : len;
            if (k) memcpy(lm__wasi_at(m, buf), t->path, k);
            lm__wasi_st32(m, used, (uint32_t)k);
        }
    }
    release(t, 1);
    return e;
}

/* An O_PATH fd of the path's target, beneath dir fd, following a last
 * symlink when lookup flags say so. */
static uint32_t open_target(lm_wasi *w, lm_wasi_mem m, uint64_t fd, uint64_t rights,
                            uint64_t lookup, uint64_t ptr, uint64_t len, int *out) {
    uint32_t e;
    lm_wasi_fd *d = dir_get(w, fd, rights, &e);
    if (!d) return e;
    char *path = malloc(LM_WASI_PATH_MAX);
    if (!path) return LM_WASI_ENOMEM;
    e = lm__wasi_path_copy(m, ptr, len, path);
    if (e == LM_WASI_ESUCCESS)
        e = lm__wasi_open_beneath(d->host, path,
                                  O_PATH | (lookup & LM_LOOKUP_FOLLOW ? 0 : O_NOFOLLOW), 0, out);
    free(path);
    return e;
}

uint32_t lm_wasi_path_filestat_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    if (!lm__wasi_span(m, a[4], 64)) return LM_WASI_EFAULT;
    int fd;
    uint32_t e = open_target(w, m, a[0], LM_R_PATH_FILESTAT_GET, a[1], a[2], a[3], &fd);
    if (e != LM_WASI_ESUCCESS) return e;
    struct stat st;
    e = result(fstat(fd, &st));
    if (e == LM_WASI_ESUCCESS) lm__wasi_put_filestat(m, a[4], &st);
    close(fd);
    return e;
}

uint32_t lm_wasi_path_filestat_set_times(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    struct timespec ts[2];
    uint32_t e = lm__wasi_times(a[4], a[5], (uint32_t)a[6], ts);
    if (e != LM_WASI_ESUCCESS) return e;
    int fd;
    e = open_target(w, m, a[0], LM_R_PATH_FILESTAT_SET_TIMES, a[1], a[2], a[3], &fd);
    if (e != LM_WASI_ESUCCESS) return e;
    /* The O_PATH fd names the very file found beneath the directory (a
     * symlink itself when not following). */
    int rc = utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    if (rc != 0 && errno == EINVAL) {
        char proc[64]; /* kernels before 5.8 lack AT_EMPTY_PATH here */
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        rc = utimensat(AT_FDCWD, proc, ts, 0);
    }
    e = result(rc);
    close(fd);
    return e;
}

uint32_t lm_wasi_path_link(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint64_t old_flags = a[1];
    target *t = targets(2);
    if (!t) return LM_WASI_ENOMEM;
    t[0].parent = -1;
    uint32_t e = resolve(w, m, a[4], LM_R_PATH_LINK_TARGET, a[5], a[6], &t[1]);
    if (e == LM_WASI_ESUCCESS && !(old_flags & LM_LOOKUP_FOLLOW)) {
        e = resolve(w, m, a[0], LM_R_PATH_LINK_SOURCE, a[2], a[3], &t[0]);
        if (e == LM_WASI_ESUCCESS)
            e = result(linkat(t[0].parent, t[0].last, t[1].parent, t[1].last, 0));
    } else if (e == LM_WASI_ESUCCESS) {
        /* Following a symlink: link the file it leads to beneath the
         * directory, through its O_PATH fd (AT_EMPTY_PATH would need
         * CAP_DAC_READ_SEARCH; the /proc link does not). */
        int fd;
        e = open_target(w, m, a[0], LM_R_PATH_LINK_SOURCE, old_flags, a[2], a[3], &fd);
        if (e == LM_WASI_ESUCCESS) {
            char proc[64];
            snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
            e = result(linkat(AT_FDCWD, proc, t[1].parent, t[1].last, AT_SYMLINK_FOLLOW));
            close(fd);
        }
    }
    release(t, 2);
    return e;
}
