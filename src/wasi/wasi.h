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
 * and length is checked against the memory size (EFAULT on a miss), every
 * path is resolved beneath its preopened directory (no escape through "..",
 * absolute paths or symlinks: ENOTCAPABLE / EPERM as WASI specifies). */
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
    char *const *argv;   /* argv[0] is the program name the guest sees */
    char *const *env;    /* "K=V" strings, NULL-terminated; NULL = none */
    const lm_wasi_dir *dirs;
    int ndirs;
    int stdin_fd, stdout_fd, stderr_fd; /* host fds behind guest fds 0, 1, 2 */
} lm_wasi_config;

typedef struct lm_wasi lm_wasi;

/* Makes a host for one module instance: opens the preopened directories
 * (guest fds 3, 4, ... in the order given). NULL with a message in err
 * (LM_WASI_ERRLEN bytes) when a directory cannot be opened. */
#define LM_WASI_ERRLEN 256
lm_wasi *lm_wasi_new(const lm_wasi_config *cfg, char *err);
/* Closes every fd the guest opened and frees the host. NULL is a no-op. */
void lm_wasi_free(lm_wasi *w);

/* One preview1 function in a uniform shape: args holds the call's
 * arguments in order, each widened to 64 bits (i32 values zero-extended
 * from their u32 bit pattern). Returns the WASI errno (the i32 result).
 * proc_exit does not return: it ends the process with the guest's status,
 * after flushing nothing (the guest has flushed its own buffers). */
typedef uint32_t (*lm_wasi_fn)(lm_wasi *w, lm_wasi_mem mem, const uint64_t *args);

typedef struct {
    const char *name;    /* "fd_write" */
    const char *params;  /* one letter a parameter: 'i' i32, 'I' i64 */
    const char *results; /* "i", or "" for proc_exit */
    lm_wasi_fn fn;
} lm_wasi_func;

/* Every preview1 function Lumos implements; *n receives the count. Functions
 * of preview1 not listed (sock_*) are answered ENOSYS by lm_wasi_find(). */
const lm_wasi_func *lm_wasi_funcs(size_t *n);
/* The function named name, or NULL when preview1 has no such function. */
const lm_wasi_func *lm_wasi_find(const char *name);

/* WASI errno values (preview1). */
enum lm_wasi_errno {
    LM_WASI_ESUCCESS = 0,
    LM_WASI_E2BIG = 1,
    LM_WASI_EACCES = 2,
    LM_WASI_EBADF = 8,
    LM_WASI_EEXIST = 20,
    LM_WASI_EFAULT = 21,
    LM_WASI_EINVAL = 28,
    LM_WASI_EIO = 29,
    LM_WASI_EISDIR = 31,
    LM_WASI_ELOOP = 32,
    LM_WASI_ENAMETOOLONG = 37,
    LM_WASI_ENOENT = 44,
    LM_WASI_ENOSYS = 52,
    LM_WASI_ENOTDIR = 54,
    LM_WASI_ENOTEMPTY = 55,
    LM_WASI_ENOTSUP = 58,
    LM_WASI_EPERM = 63,
    LM_WASI_ESPIPE = 70,
    LM_WASI_ENOTCAPABLE = 76
};

#endif
