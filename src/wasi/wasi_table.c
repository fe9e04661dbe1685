/* wasi_table.c -- the WASI host's state: making and freeing a host, the fd
 * table with its rights, the list of preview1 functions, and the
 * translations every call shares (errno, filetype, filestat, times). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi/internal.h"

uint32_t lm__wasi_errno(int e) {
    switch (e) {
    case 0: return LM_WASI_ESUCCESS;
    case E2BIG: return LM_WASI_E2BIG;
    case EACCES: return LM_WASI_EACCES;
    case EADDRINUSE: return LM_WASI_EADDRINUSE;
    case EADDRNOTAVAIL: return LM_WASI_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return LM_WASI_EAFNOSUPPORT;
    case EAGAIN: return LM_WASI_EAGAIN;
    case EALREADY: return LM_WASI_EALREADY;
    case EBADF: return LM_WASI_EBADF;
    case EBADMSG: return LM_WASI_EBADMSG;
    case EBUSY: return LM_WASI_EBUSY;
    case ECANCELED: return LM_WASI_ECANCELED;
    case ECHILD: return LM_WASI_ECHILD;
    case ECONNABORTED: return LM_WASI_ECONNABORTED;
    case ECONNREFUSED: return LM_WASI_ECONNREFUSED;
    case ECONNRESET: return LM_WASI_ECONNRESET;
    case EDEADLK: return LM_WASI_EDEADLK;
    case EDESTADDRREQ: return LM_WASI_EDESTADDRREQ;
    case EDOM: return LM_WASI_EDOM;
    case EDQUOT: return LM_WASI_EDQUOT;
    case EEXIST: return LM_WASI_EEXIST;
    case EFAULT: return LM_WASI_EFAULT;
    case EFBIG: return LM_WASI_EFBIG;
    case EHOSTUNREACH: return LM_WASI_EHOSTUNREACH;
    case EIDRM: return LM_WASI_EIDRM;
    case EILSEQ: return LM_WASI_EILSEQ;
    case EINPROGRESS: return LM_WASI_EINPROGRESS;
    case EINTR: return LM_WASI_EINTR;
    case EINVAL: return LM_WASI_EINVAL;
    case EIO: return LM_WASI_EIO;
    case EISCONN: return LM_WASI_EISCONN;
    case EISDIR: return LM_WASI_EISDIR;
    case ELOOP: return LM_WASI_ELOOP;
    case EMFILE: return LM_WASI_EMFILE;
    case EMLINK: return LM_WASI_EMLINK;
    case EMSGSIZE: return LM_WASI_EMSGSIZE;
    case EMULTIHOP: return LM_WASI_EMULTIHOP;
    case ENAMETOOLONG: return LM_WASI_ENAMETOOLONG;
    case ENETDOWN: return LM_WASI_ENETDOWN;
    case ENETRESET: return LM_WASI_ENETRESET;
    case ENETUNREACH: return LM_WASI_ENETUNREACH;
    case ENFILE: return LM_WASI_ENFILE;
    case ENOBUFS: return LM_WASI_ENOBUFS;
    case ENODEV: return LM_WASI_ENODEV;
    case ENOENT: return LM_WASI_ENOENT;
    case ENOEXEC: return LM_WASI_ENOEXEC;
    case ENOLCK: return LM_WASI_ENOLCK;
    case ENOLINK: return LM_WASI_ENOLINK;
    case ENOMEM: return LM_WASI_ENOMEM;
    case ENOMSG: return LM_WASI_ENOMSG;
    case ENOPROTOOPT: return LM_WASI_ENOPROTOOPT;
    case ENOSPC: return LM_WASI_ENOSPC;
    case ENOSYS: return LM_WASI_ENOSYS;
    case ENOTCONN: return LM_WASI_ENOTCONN;
    case ENOTDIR: return LM_WASI_ENOTDIR;
    case ENOTEMPTY: return LM_WASI_ENOTEMPTY;
    case ENOTRECOVERABLE: return LM_WASI_ENOTRECOVERABLE;
    case ENOTSOCK: return LM_WASI_ENOTSOCK;
    case ENOTSUP: return LM_WASI_ENOTSUP; /* EOPNOTSUPP on Linux */
    case ENOTTY: return LM_WASI_ENOTTY;
    case ENXIO: return LM_WASI_ENXIO;
    case EOVERFLOW: return LM_WASI_EOVERFLOW;
    case EOWNERDEAD: return LM_WASI_EOWNERDEAD;
    case EPERM: return LM_WASI_EPERM;
    case EPIPE: return LM_WASI_EPIPE;
    case EPROTO: return LM_WASI_EPROTO;
    case EPROTONOSUPPORT: return LM_WASI_EPROTONOSUPPORT;
    case EPROTOTYPE: return LM_WASI_EPROTOTYPE;
    case ERANGE: return LM_WASI_ERANGE;
    case EROFS: return LM_WASI_EROFS;
    case ESPIPE: return LM_WASI_ESPIPE;
    case ESRCH: return LM_WASI_ESRCH;
    case ESTALE: return LM_WASI_ESTALE;
    case ETIMEDOUT: return LM_WASI_ETIMEDOUT;
    case ETXTBSY: return LM_WASI_ETXTBSY;
    case EXDEV: return LM_WASI_EXDEV;
    default: return LM_WASI_EIO; /* Linux-only values (ENOMEDIUM, ...) */
    }
}

uint8_t lm__wasi_filetype(int host, unsigned mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return LM_WASI_FT_FILE;
    case S_IFDIR: return LM_WASI_FT_DIR;
    case S_IFCHR: return LM_WASI_FT_CHAR;
    case S_IFBLK: return LM_WASI_FT_BLOCK;
    case S_IFLNK: return LM_WASI_FT_SYMLINK;
    case S_IFSOCK: {
        int t = 0;
        socklen_t len = sizeof(t);
        if (host >= 0 && getsockopt(host, SOL_SOCKET, SO_TYPE, &t, &len) == 0 && t == SOCK_DGRAM)
            return LM_WASI_FT_SOCK_DGRAM;
        return LM_WASI_FT_SOCK_STREAM;
    }
    default: return LM_WASI_FT_UNKNOWN; /* FIFOs: preview1 has no type for them */
    }
}

static uint64_t ns_of(struct timespec t) {
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void lm__wasi_put_filestat(lm_wasi_mem m, uint64_t p, const struct stat *st) {
    memset(lm__wasi_at(m, p), 0, 64);
    lm__wasi_st64(m, p + 0, (uint64_t)st->st_dev);
    lm__wasi_st64(m, p + 8, (uint64_t)st->st_ino);
    lm__wasi_st8(m, p + 16, lm__wasi_filetype(-1, st->st_mode));
    lm__wasi_st64(m, p + 24, (uint64_t)st->st_nlink);
    lm__wasi_st64(m, p + 32, (uint64_t)st->st_size);
    lm__wasi_st64(m, p + 40, ns_of(st->st_atim));
    lm__wasi_st64(m, p + 48, ns_of(st->st_mtim));
    lm__wasi_st64(m, p + 56, ns_of(st->st_ctim));
}

uint32_t lm__wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]) {
    if ((fst & LM_FST_ATIM && fst & LM_FST_ATIM_NOW) ||
        (fst & LM_FST_MTIM && fst & LM_FST_MTIM_NOW) || fst > 15)
        return LM_WASI_EINVAL;
    uint64_t v[2] = {atim, mtim};
    uint32_t set[2] = {LM_FST_ATIM, LM_FST_MTIM}, now[2] = {LM_FST_ATIM_NOW, LM_FST_MTIM_NOW};
    for (int i = 0; i < 2; i++) {
        ts[i].tv_sec = 0;
        if (fst & now[i]) {
            ts[i].tv_nsec = UTIME_NOW;
        } else if (fst & set[i]) {
            ts[i].tv_sec = (time_t)(v[i] / 1000000000u);
            ts[i].tv_nsec = (long)(v[i] % 1000000000u);
        } else {
            ts[i].tv_nsec = UTIME_OMIT;
        }
    }
    return LM_WASI_ESUCCESS;
}

lm_wasi_fd *lm__wasi_fd_get(lm_wasi *w, uint64_t fd, uint64_t rights, uint32_t *e) {
    if (fd >= w->nfds || w->fds[fd].host < 0) {
        *e = LM_WASI_EBADF;
        return NULL;
    }
    lm_wasi_fd *f = &w->fds[fd];
    if ((f->base & rights) != rights) {
        *e = LM_WASI_ENOTCAPABLE;
        return NULL;
    }
    return f;
}

uint32_t lm__wasi_fd_add(lm_wasi *w, int host, uint8_t type, uint64_t base, uint64_t inheriting,
                         uint32_t *out) {
    uint32_t i = 0;
    while (i < w->nfds && w->fds[i].host >= 0)
        i++;
    if (i == w->nfds) {
        uint32_t n = w->nfds ? w->nfds * 2 : 16;
        if (n > LM_WASI_MAX_FDS) n = LM_WASI_MAX_FDS;
        lm_wasi_fd *fds = i < n ? realloc(w->fds, n * sizeof(*fds)) : NULL;
        if (!fds) {
            close(host);
            return i < n ? LM_WASI_ENOMEM : LM_WASI_EMFILE;
        }
        for (uint32_t k = w->nfds; k < n; k++)
            fds[k] = (lm_wasi_fd){.host = -1};
        w->fds = fds;
        w->nfds = n;
    }
    w->fds[i] = (lm_wasi_fd){.host = host, .type = type, .base = base, .inheriting = inheriting};
    *out = i;
    return LM_WASI_ESUCCESS;
}

void lm__wasi_fd_release(lm_wasi_fd *f) {
    if (f->host >= 0 && !f->borrowed) close(f->host);
    free(f->preopen);
    free(f->dir_pos);
    *f = (lm_wasi_fd){.host = -1};
}

/* Copies a list of strings and counts their bytes with NULs. */
static int copy_strings(char *const *src, uint32_t n, char ***dst, uint64_t *bytes) {
    *dst = calloc((size_t)n + 1, sizeof(char *));
    if (!*dst) return -1;
    *bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!((*dst)[i] = strdup(src[i]))) return -1;
        *bytes += strlen(src[i]) + 1;
    }
    return 0;
}

/* Guest fds 0-2: the embedder's descriptors (borrowed: never closed here),
 * with the rights of what they are (a character device cannot seek). The
 * table has room for them already, so this cannot fail. */
static void add_stdio(lm_wasi *w, int host, int borrowed) {
    struct stat st;
    uint8_t type = fstat(host, &st) == 0 ? lm__wasi_filetype(host, st.st_mode) : 0;
    uint64_t rights = LM_R_FILE;
    if (type == LM_WASI_FT_CHAR)
        rights = LM_R_FD_READ | LM_R_FD_WRITE | LM_R_FD_FDSTAT_SET_FLAGS | LM_R_FD_FILESTAT_GET |
                 LM_R_POLL_FD_READWRITE;
    uint32_t fd;
    lm__wasi_fd_add(w, host, type, rights, 0, &fd);
    w->fds[fd].borrowed = (uint8_t)borrowed;
}

lm_wasi *lm_wasi_new(const lm_wasi_config *cfg, char *err) {
    char ignored[LM_WASI_ERRLEN];
    if (!err) err = ignored;
    lm_wasi *w = calloc(1, sizeof(*w));
    if (!w) goto oom;
    uint32_t nenv = 0;
    while (cfg->env && cfg->env[nenv])
        nenv++;
    w->argc = cfg->argc > 0 ? (uint32_t)cfg->argc : 0;
    w->nenv = nenv;
    if (copy_strings(cfg->argv, w->argc, &w->argv, &w->argv_bytes) != 0 ||
        copy_strings(cfg->env, nenv, &w->env, &w->env_bytes) != 0)
        goto oom;
    if (!(w->fds = malloc(16 * sizeof(*w->fds)))) goto oom;
    w->nfds = 16;
    for (uint32_t i = 0; i < w->nfds; i++)
        w->fds[i] = (lm_wasi_fd){.host = -1};
    const int given[3] = {cfg->stdin_fd, cfg->stdout_fd, cfg->stderr_fd};
    for (int i = 0; i < 3; i++) {
        /* A missing stdio fd still takes its number (as /dev/null) so the
         * preopens start at 3. */
        int host = given[i] >= 0 ? given[i] : open("/dev/null", O_RDWR | O_CLOEXEC);
        if (host < 0) {
            snprintf(err, LM_WASI_ERRLEN, "cannot open /dev/null: %s", strerror(errno));
            goto fail;
        }
        add_stdio(w, host, given[i] >= 0);
    }
    for (int i = 0; i < cfg->ndirs; i++) {
        const lm_wasi_dir *d = &cfg->dirs[i];
        int host = open(d->host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (host < 0) {
            snprintf(err, LM_WASI_ERRLEN, "cannot open directory %s for the guest's %s: %s",
                     d->host, d->guest ? d->guest : d->host, strerror(errno));
            goto fail;
        }
        uint32_t fd;
        if (lm__wasi_fd_add(w, host, LM_WASI_FT_DIR, LM_R_DIR, LM_R_ALL, &fd) != LM_WASI_ESUCCESS)
            goto oom;
        if (!(w->fds[fd].preopen = strdup(d->guest ? d->guest : d->host))) goto oom;
    }
    return w;
oom:
    snprintf(err, LM_WASI_ERRLEN, "out of memory");
fail:
    lm_wasi_free(w);
    return NULL;
}

static void free_strings(char **v, uint32_t n) {
    for (uint32_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void lm_wasi_free(lm_wasi *w) {
    if (!w) return;
    for (uint32_t i = 0; i < w->nfds; i++)
        lm__wasi_fd_release(&w->fds[i]);
    free(w->fds);
    free_strings(w->argv, w->argc);
    free_strings(w->env, w->nenv);
    free(w);
}

#define LM_WASI_ENTRY(name, params, results) {#name, params, results, lm_wasi_##name},
static const lm_wasi_func funcs[] = {LM_WASI_FUNCS(LM_WASI_ENTRY)};

const lm_wasi_func *lm_wasi_funcs(size_t *n) {
    *n = sizeof(funcs) / sizeof(funcs[0]);
    return funcs;
}

const lm_wasi_func *lm_wasi_find(const char *name) {
    for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
        if (strcmp(funcs[i].name, name) == 0) return &funcs[i];
    return NULL;
}
