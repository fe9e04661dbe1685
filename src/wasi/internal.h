/* wasi_impl.h -- what the files of the WASI host share: the host's state,
 * the fd table, guest-memory access, the preview1 constants and layouts, and
 * every preview1 function under its own name (lm_wasi_fd_write, ...) so an
 * embedding compiled with the host (the AoT runner) can call them directly.
 * Only src/wasi and its tests include this header; embedders use wasi.h. */
#ifndef LM_WASI_IMPL_H
#define LM_WASI_IMPL_H

#include <stdint.h>
#include <string.h>

#include "wasi/wasi.h"

/* One guest fd. */
typedef struct {
    int host;            /* host fd; -1 when the slot is free */
    uint8_t type;        /* WASI filetype, fixed when opened */
    uint8_t borrowed;    /* the embedder's (stdio): never closed by the host */
    uint64_t base;       /* rights on this fd */
    uint64_t inheriting; /* rights fds opened through it may get */
    char *preopen;       /* guest name of a preopened directory, else NULL */
    /* Directories: the host offset after each entry fd_readdir has listed
     * since the last rewind (cookie i resumes at dir_pos[i-1]). */
    uint64_t *dir_pos;
    uint32_t ndir_pos, dir_pos_cap;
} lm_wasi_fd;

struct lm_wasi {
    lm_wasi_fd *fds;
    uint32_t nfds; /* slots in fds */
    char **argv, **env;
    uint32_t argc, nenv;
    uint64_t argv_bytes, env_bytes; /* total string bytes with their NULs */
};

/* The most fds a guest may hold open at once (EMFILE beyond). */
#define LM_WASI_MAX_FDS 65536
/* The longest path the host accepts from a guest (ENAMETOOLONG beyond). */
#define LM_WASI_PATH_MAX 4096

/* Filetypes. */
enum {
    LM_WASI_FT_UNKNOWN = 0,
    LM_WASI_FT_BLOCK = 1,
    LM_WASI_FT_CHAR = 2,
    LM_WASI_FT_DIR = 3,
    LM_WASI_FT_FILE = 4,
    LM_WASI_FT_SOCK_DGRAM = 5,
    LM_WASI_FT_SOCK_STREAM = 6,
    LM_WASI_FT_SYMLINK = 7
};

/* Rights (bit numbers as the witx lists them). */
#define LM_R(n) ((uint64_t)1 << (n))
#define LM_R_FD_DATASYNC LM_R(0)
#define LM_R_FD_READ LM_R(1)
#define LM_R_FD_SEEK LM_R(2)
#define LM_R_FD_FDSTAT_SET_FLAGS LM_R(3)
#define LM_R_FD_SYNC LM_R(4)
#define LM_R_FD_TELL LM_R(5)
#define LM_R_FD_WRITE LM_R(6)
#define LM_R_FD_ADVISE LM_R(7)
#define LM_R_FD_ALLOCATE LM_R(8)
#define LM_R_PATH_CREATE_DIRECTORY LM_R(9)
#define LM_R_PATH_CREATE_FILE LM_R(10)
#define LM_R_PATH_LINK_SOURCE LM_R(11)
#define LM_R_PATH_LINK_TARGET LM_R(12)
#define LM_R_PATH_OPEN LM_R(13)
#define LM_R_FD_READDIR LM_R(14)
#define LM_R_PATH_READLINK LM_R(15)
#define LM_R_PATH_RENAME_SOURCE LM_R(16)
#define LM_R_PATH_RENAME_TARGET LM_R(17)
#define LM_R_PATH_FILESTAT_GET LM_R(18)
#define LM_R_PATH_FILESTAT_SET_SIZE LM_R(19)
#define LM_R_PATH_FILESTAT_SET_TIMES LM_R(20)
#define LM_R_FD_FILESTAT_GET LM_R(21)
#define LM_R_FD_FILESTAT_SET_SIZE LM_R(22)
#define LM_R_FD_FILESTAT_SET_TIMES LM_R(23)
#define LM_R_PATH_SYMLINK LM_R(24)
#define LM_R_PATH_REMOVE_DIRECTORY LM_R(25)
#define LM_R_PATH_UNLINK_FILE LM_R(26)
#define LM_R_POLL_FD_READWRITE LM_R(27)
#define LM_R_SOCK_SHUTDOWN LM_R(28)
#define LM_R_SOCK_ACCEPT LM_R(29)
#define LM_R_ALL (LM_R(30) - 1)
/* What makes sense on a file, and on a directory (fds of other kinds get
 * the file set: the kernel answers what does not apply). */
#define LM_R_FILE                                                                                  \
    (LM_R_FD_DATASYNC | LM_R_FD_READ | LM_R_FD_SEEK | LM_R_FD_FDSTAT_SET_FLAGS | LM_R_FD_SYNC |    \
     LM_R_FD_TELL | LM_R_FD_WRITE | LM_R_FD_ADVISE | LM_R_FD_ALLOCATE | LM_R_FD_FILESTAT_GET |     \
     LM_R_FD_FILESTAT_SET_SIZE | LM_R_FD_FILESTAT_SET_TIMES | LM_R_POLL_FD_READWRITE)
#define LM_R_DIR                                                                                   \
    (LM_R_FD_FDSTAT_SET_FLAGS | LM_R_FD_SYNC | LM_R_FD_ADVISE | LM_R_PATH_CREATE_DIRECTORY |       \
     LM_R_PATH_CREATE_FILE | LM_R_PATH_LINK_SOURCE | LM_R_PATH_LINK_TARGET | LM_R_PATH_OPEN |      \
     LM_R_FD_READDIR | LM_R_PATH_READLINK | LM_R_PATH_RENAME_SOURCE | LM_R_PATH_RENAME_TARGET |    \
     LM_R_PATH_FILESTAT_GET | LM_R_PATH_FILESTAT_SET_SIZE | LM_R_PATH_FILESTAT_SET_TIMES |         \
     LM_R_FD_FILESTAT_GET | LM_R_FD_FILESTAT_SET_TIMES | LM_R_PATH_SYMLINK |                       \
     LM_R_PATH_REMOVE_DIRECTORY | LM_R_PATH_UNLINK_FILE | LM_R_POLL_FD_READWRITE)

/* fdflags, oflags, lookupflags, fstflags. */
#define LM_FDFLAG_APPEND 1
#define LM_FDFLAG_DSYNC 2
#define LM_FDFLAG_NONBLOCK 4
#define LM_FDFLAG_RSYNC 8
#define LM_FDFLAG_SYNC 16
#define LM_O_CREAT 1
#define LM_O_DIRECTORY 2
#define LM_O_EXCL 4
#define LM_O_TRUNC 8
#define LM_LOOKUP_FOLLOW 1
#define LM_FST_ATIM 1
#define LM_FST_ATIM_NOW 2
#define LM_FST_MTIM 4
#define LM_FST_MTIM_NOW 8

/* Guest memory. Every guest pointer passes span() before it is touched:
 * [ptr, ptr+len) must lie inside the memory, computed without overflow. */
static inline int lm__wasi_span(lm_wasi_mem m, uint64_t ptr, uint64_t len) {
    return ptr <= m.size && len <= m.size - ptr;
}
static inline uint8_t *lm__wasi_at(lm_wasi_mem m, uint64_t ptr) { return m.base + ptr; }

/* Little-endian loads and stores (preview1 layouts are little-endian
 * whatever the host is). The caller has checked the span. */
static inline uint32_t lm__wasi_ld32(lm_wasi_mem m, uint64_t p) {
    const uint8_t *b = m.base + p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t lm__wasi_ld64(lm_wasi_mem m, uint64_t p) {
    return (uint64_t)lm__wasi_ld32(m, p) | (uint64_t)lm__wasi_ld32(m, p + 4) << 32;
}
static inline uint16_t lm__wasi_ld16(lm_wasi_mem m, uint64_t p) {
    return (uint16_t)(m.base[p] | m.base[p + 1] << 8);
}
static inline void lm__wasi_st8(lm_wasi_mem m, uint64_t p, uint8_t v) { m.base[p] = v; }
static inline void lm__wasi_st16(lm_wasi_mem m, uint64_t p, uint16_t v) {
    m.base[p] = (uint8_t)v;
    m.base[p + 1] = (uint8_t)(v >> 8);
}
static inline void lm__wasi_st32(lm_wasi_mem m, uint64_t p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        m.base[p + (uint64_t)i] = (uint8_t)(v >> (8 * i));
}
static inline void lm__wasi_st64(lm_wasi_mem m, uint64_t p, uint64_t v) {
    lm__wasi_st32(m, p, (uint32_t)v);
    lm__wasi_st32(m, p + 4, (uint32_t)(v >> 32));
}

/* The WASI errno for a Linux errno value. */
uint32_t lm__wasi_errno(int host_errno);

/* The open fd numbered fd holding every right in rights, or NULL with *e set:
 * EBADF when fd is not open, ENOTCAPABLE when a right is missing. */
lm_wasi_fd *lm__wasi_fd_get(lm_wasi *w, uint64_t fd, uint64_t rights, uint32_t *e);
/* Puts a host fd into the lowest free guest slot (taking ownership: it is
 * closed on failure). ESUCCESS with *out set, or EMFILE / ENOMEM. */
uint32_t lm__wasi_fd_add(lm_wasi *w, int host, uint8_t type, uint64_t base, uint64_t inheriting,
                         uint32_t *out);
/* Closes a slot (unless borrowed) and frees it. */
void lm__wasi_fd_release(lm_wasi_fd *f);
/* The WASI filetype of a stat mode (and, for sockets, of the socket). */
uint8_t lm__wasi_filetype(int host, unsigned mode);
/* Writes a 64-byte filestat for st at ptr (span checked by the caller). */
struct stat;
void lm__wasi_put_filestat(lm_wasi_mem m, uint64_t ptr, const struct stat *st);
/* Builds the timespec pair of a set_times call: ESUCCESS or EINVAL. */
struct timespec;
uint32_t lm__wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]);

/* Paths: copies a guest path into out (LM_WASI_PATH_MAX bytes, NUL added):
 * EFAULT outside memory, ENAMETOOLONG too long, EINVAL with a NUL byte. */
uint32_t lm__wasi_path_copy(lm_wasi_mem m, uint64_t ptr, uint64_t len, char *out);
/* Opens path beneath the directory dirfd (flags as openat; O_NOFOLLOW
 * leaves a last symlink unfollowed): no "..", absolute path or symlink
 * may lead out (ENOTCAPABLE). ESUCCESS with *out set. */
uint32_t lm__wasi_open_beneath(int dirfd, const char *path, int flags, unsigned mode, int *out);
/* Resolves every component of path but the last beneath dirfd: *parent
 * gets an O_PATH fd of the directory that holds it (close it), last (a
 * LM_WASI_PATH_MAX buffer) the last component, with any trailing slashes.
 * A last ".." is refused when it would be above dirfd. */
uint32_t lm__wasi_parent_beneath(int dirfd, const char *path, int *parent, char *last);
/* Tests set this to resolve paths by the component walk instead of
 * openat2(2), as on kernels older than 5.6. */
extern int lm__wasi_force_walk;

/* Every preview1 function (signatures as lm_wasi_fn). */
#define LM_WASI_FUNCS(X)                                                                           \
    X(args_get, "ii", "i")                                                                         \
    X(args_sizes_get, "ii", "i")                                                                   \
    X(environ_get, "ii", "i")                                                                      \
    X(environ_sizes_get, "ii", "i")                                                                \
    X(clock_res_get, "ii", "i")                                                                    \
    X(clock_time_get, "iIi", "i")                                                                  \
    X(fd_advise, "iIIi", "i")                                                                      \
    X(fd_allocate, "iII", "i")                                                                     \
    X(fd_close, "i", "i")                                                                          \
    X(fd_datasync, "i", "i")                                                                       \
    X(fd_fdstat_get, "ii", "i")                                                                    \
    X(fd_fdstat_set_flags, "ii", "i")                                                              \
    X(fd_fdstat_set_rights, "iII", "i")                                                            \
    X(fd_filestat_get, "ii", "i")                                                                  \
    X(fd_filestat_set_size, "iI", "i")                                                             \
    X(fd_filestat_set_times, "iIIi", "i")                                                          \
    X(fd_pread, "iiiIi", "i")                                                                      \
    X(fd_prestat_get, "ii", "i")                                                                   \
    X(fd_prestat_dir_name, "iii", "i")                                                             \
    X(fd_pwrite, "iiiIi", "i")                                                                     \
    X(fd_read, "iiii", "i")                                                                        \
    X(fd_readdir, "iiiIi", "i")                                                                    \
    X(fd_renumber, "ii", "i")                                                                      \
    X(fd_seek, "iIii", "i")                                                                        \
    X(fd_sync, "i", "i")                                                                           \
    X(fd_tell, "ii", "i")                                                                          \
    X(fd_write, "iiii", "i")                                                                       \
    X(path_create_directory, "iii", "i")                                                           \
    X(path_filestat_get, "iiiii", "i")                                                             \
    X(path_filestat_set_times, "iiiiIIi", "i")                                                     \
    X(path_link, "iiiiiii", "i")                                                                   \
    X(path_open, "iiiiiIIii", "i")                                                                 \
    X(path_readlink, "iiiiii", "i")                                                                \
    X(path_remove_directory, "iii", "i")                                                           \
    X(path_rename, "iiiiii", "i")                                                                  \
    X(path_symlink, "iiiii", "i")                                                                  \
    X(path_unlink_file, "iii", "i")                                                                \
    X(poll_oneoff, "iiii", "i")                                                                    \
    X(proc_exit, "i", "")                                                                          \
    X(proc_raise, "i", "i")                                                                        \
    X(sched_yield, "", "i")                                                                        \
    X(random_get, "ii", "i")                                                                       \
    X(sock_accept, "iii", "i")                                                                     \
    X(sock_recv, "iiiiii", "i")                                                                    \
    X(sock_send, "iiiii", "i")                                                                     \
    X(sock_shutdown, "ii", "i")

#define LM_WASI_DECLARE(name, params, results)                                                     \
    uint32_t lm_wasi_##name(lm_wasi *w, lm_wasi_mem mem, const uint64_t *a);
LM_WASI_FUNCS(LM_WASI_DECLARE)
#undef LM_WASI_DECLARE

#endif
