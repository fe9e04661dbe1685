/* wasi.h -- Lumos' own WASI preview1 host: the system interface a module
 * built with wasi-libc sees, implemented on Linux, sandboxed to preopened
 * directories. One host serves every embedding (the wasm2c AoT runner and
 * the wabt interpreter runner): each embedding maps an import
 * "wasi_snapshot_preview1"."NAME" to the entry of lm_wasi_funcs() named
 * NAME and passes the guest's linear memory at every call (it may move when
 * the guest grows it).
 *
 * Errors are WASI errno values (enum lm_wasi_errno), returned to the guest;
 * the host itself never aborts on anything the guest passes: every pointer
 * and length is checked against the memory size (EFAULT on a miss, checked
 * before any I/O, so a failed call has done nothing), every path is
 * resolved beneath its preopened directory (no escape through "..",
 * absolute paths or symlinks: ENOTCAPABLE, as wasmtime and uvwasi answer),
 * and rights are enforced per fd (ENOTCAPABLE). docs/wasi.md has the rules.
 *
 * A host is used by one thread at a time (an instance runs one thread). */
#ifndef LM_WASI_H
#define LM_WASI_H

#include <stddef.h>
#include <stdint.h>

/* The guest's linear memory at the time of a call. */
typedef struct {
    uint8_t *base;
    uint64_t size; /* bytes */
} lm_wasi_mem;

/* A directory the guest may use: host path, and the name the guest sees
 * ("/data"). */
typedef struct {
    const char *host;
    const char *guest;
} lm_wasi_dir;

typedef struct {
    int argc;
    char *const *argv; /* argv[0] is the program name the guest sees */
    char *const *env;  /* "K=V" strings, NULL-terminated; NULL = none */
    const lm_wasi_dir *dirs;
    int ndirs;
    int stdin_fd, stdout_fd, stderr_fd; /* host fds behind guest fds 0, 1, 2 */
} lm_wasi_config;

typedef struct lm_wasi lm_wasi;

/* Makes a host for one module instance: opens the preopened directories
 * (guest fds 3, 4, ... in the order given). The strings of cfg are copied;
 * the stdio fds stay the embedder's (never closed by the host, not even by
 * the guest's fd_close; -1 gives the guest /dev/null). NULL with a message
 * in err (LM_WASI_ERRLEN bytes) when a directory cannot be opened. */
#define LM_WASI_ERRLEN 256
lm_wasi *lm_wasi_new(const lm_wasi_config *cfg, char *err);
/* Closes every fd the guest opened and frees the host. NULL is a harmless
 * no-op. */
void lm_wasi_free(lm_wasi *w);

/* One preview1 function in a uniform shape: args holds the call's
 * arguments in order, each widened to 64 bits (i32 values zero-extended
 * from their u32 bit pattern). Returns the WASI errno (the i32 result).
 * proc_exit does not return: it ends the process with the guest's status
 * (_exit: flushing nothing, as the guest has flushed its own buffers, and
 * running no atexit handler of the embedder). */
typedef uint32_t (*lm_wasi_fn)(lm_wasi *w, lm_wasi_mem mem, const uint64_t *args);

typedef struct {
    const char *name;    /* "fd_write" */
    const char *params;  /* one letter a parameter: 'i' i32, 'I' i64 */
    const char *results; /* "i", or "" for proc_exit */
    lm_wasi_fn fn;
} lm_wasi_func;

/* Every preview1 function (46), in a static table; *n receives the count.
 * Those a host without sockets cannot serve are there too and answer as
 * such: sock_* give EBADF, ENOTSOCK or ENOTSUP, proc_raise ENOSYS. */
const lm_wasi_func *lm_wasi_funcs(size_t *n);
/* The function named name, or NULL when preview1 has no such function. */
const lm_wasi_func *lm_wasi_find(const char *name);

/* WASI errno values (preview1, all 77). */
enum lm_wasi_errno {
    LM_WASI_ESUCCESS = 0,
    LM_WASI_E2BIG = 1,
    LM_WASI_EACCES = 2,
    LM_WASI_EADDRINUSE = 3,
    LM_WASI_EADDRNOTAVAIL = 4,
    LM_WASI_EAFNOSUPPORT = 5,
    LM_WASI_EAGAIN = 6,
    LM_WASI_EALREADY = 7,
    LM_WASI_EBADF = 8,
    LM_WASI_EBADMSG = 9,
    LM_WASI_EBUSY = 10,
    LM_WASI_ECANCELED = 11,
    LM_WASI_ECHILD = 12,
    LM_WASI_ECONNABORTED = 13,
    LM_WASI_ECONNREFUSED = 14,
    LM_WASI_ECONNRESET = 15,
    LM_WASI_EDEADLK = 16,
    LM_WASI_EDESTADDRREQ = 17,
    LM_WASI_EDOM = 18,
    LM_WASI_EDQUOT = 19,
    LM_WASI_EEXIST = 20,
    LM_WASI_EFAULT = 21,
    LM_WASI_EFBIG = 22,
    LM_WASI_EHOSTUNREACH = 23,
    LM_WASI_EIDRM = 24,
    LM_WASI_EILSEQ = 25,
    LM_WASI_EINPROGRESS = 26,
    LM_WASI_EINTR = 27,
    LM_WASI_EINVAL = 28,
    LM_WASI_EIO = 29,
    LM_WASI_EISCONN = 30,
    LM_WASI_EISDIR = 31,
    LM_WASI_ELOOP = 32,
    LM_WASI_EMFILE = 33,
    LM_WASI_EMLINK = 34,
    LM_WASI_EMSGSIZE = 35,
    LM_WASI_EMULTIHOP = 36,
    LM_WASI_ENAMETOOLONG = 37,
    LM_WASI_ENETDOWN = 38,
    LM_WASI_ENETRESET = 39,
    LM_WASI_ENETUNREACH = 40,
    LM_WASI_ENFILE = 41,
    LM_WASI_ENOBUFS = 42,
    LM_WASI_ENODEV = 43,
    LM_WASI_ENOENT = 44,
    LM_WASI_ENOEXEC = 45,
    LM_WASI_ENOLCK = 46,
    LM_WASI_ENOLINK = 47,
    LM_WASI_ENOMEM = 48,
    LM_WASI_ENOMSG = 49,
    LM_WASI_ENOPROTOOPT = 50,
    LM_WASI_ENOSPC = 51,
    LM_WASI_ENOSYS = 52,
    LM_WASI_ENOTCONN = 53,
    LM_WASI_ENOTDIR = 54,
    LM_WASI_ENOTEMPTY = 55,
    LM_WASI_ENOTRECOVERABLE = 56,
    LM_WASI_ENOTSOCK = 57,
    LM_WASI_ENOTSUP = 58,
    LM_WASI_ENOTTY = 59,
    LM_WASI_ENXIO = 60,
    LM_WASI_EOVERFLOW = 61,
    LM_WASI_EOWNERDEAD = 62,
    LM_WASI_EPERM = 63,
    LM_WASI_EPIPE = 64,
    LM_WASI_EPROTO = 65,
    LM_WASI_EPROTONOSUPPORT = 66,
    LM_WASI_EPROTOTYPE = 67,
    LM_WASI_ERANGE = 68,
    LM_WASI_EROFS = 69,
    LM_WASI_ESPIPE = 70,
    LM_WASI_ESRCH = 71,
    LM_WASI_ESTALE = 72,
    LM_WASI_ETIMEDOUT = 73,
    LM_WASI_ETXTBSY = 74,
    LM_WASI_EXDEV = 75,
    LM_WASI_ENOTCAPABLE = 76
};

#endif
