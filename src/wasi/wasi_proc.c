/* wasi_proc.c -- the process calls of preview1: arguments, environment,
 * randomness, exit, yield, signals, and the socket calls a host without
 * sockets answers. */
#include <errno.h>
#include <sched.h>
#include <sys/random.h>
#include <unistd.h>

#include "wasi/internal.h"

/* Writes n strings as a pointer array at ptrs and their bytes at buf. */
static uint32_t put_strings(lm_wasi_mem m, char *const *v, uint32_t n, uint64_t bytes,
                            uint64_t ptrs, uint64_t buf) {
    if (!lm__wasi_span(m, ptrs, (uint64_t)n * 4) || !lm__wasi_span(m, buf, bytes))
        return LM_WASI_EFAULT;
    /* The whole string area fits in memory, so every address below fits in
     * 32 bits. */
    uint64_t at = buf;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        lm__wasi_st32(m, ptrs + (uint64_t)i * 4, (uint32_t)at);
        memcpy(lm__wasi_at(m, at), v[i], len);
        at += len;
    }
    return LM_WASI_ESUCCESS;
}

static uint32_t put_sizes(lm_wasi_mem m, uint64_t n, uint64_t bytes, uint64_t count_ptr,
                          uint64_t size_ptr) {
    if (!lm__wasi_span(m, count_ptr, 4) || !lm__wasi_span(m, size_ptr, 4)) return LM_WASI_EFAULT;
    if (bytes > UINT32_MAX) return LM_WASI_E2BIG;
    lm__wasi_st32(m, count_ptr, (uint32_t)n);
    lm__wasi_st32(m, size_ptr, (uint32_t)bytes);
    return LM_WASI_ESUCCESS;
}

uint32_t lm_wasi_args_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return put_strings(m, w->argv, w->argc, w->argv_bytes, a[0], a[1]);
}

uint32_t lm_wasi_args_sizes_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return put_sizes(m, w->argc, w->argv_bytes, a[0], a[1]);
}

uint32_t lm_wasi_environ_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return put_strings(m, w->env, w->nenv, w->env_bytes, a[0], a[1]);
}

uint32_t lm_wasi_environ_sizes_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return put_sizes(m, w->nenv, w->env_bytes, a[0], a[1]);
}

uint32_t lm_wasi_random_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint64_t buf = a[0], len = a[1];
    if (!lm__wasi_span(m, buf, len)) return LM_WASI_EFAULT;
    while (len > 0) {
        ssize_t n = getrandom(lm__wasi_at(m, buf), len, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return lm__wasi_errno(errno);
        }
        buf += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return LM_WASI_ESUCCESS;
}

/* Ends the process with the guest's status. _exit, not exit: the guest
 * has flushed its own buffers, and the host's atexit work (a sanitizer's
 * leak check of memory the guest still holds) is not the guest's. */
uint32_t lm_wasi_proc_exit(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    _exit((int)(uint32_t)a[0]);
}

/* Signals cannot be delivered to a Wasm instance in any useful way. */
uint32_t lm_wasi_proc_raise(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) { return LM_WASI_ENOSYS; }

uint32_t lm_wasi_sched_yield(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    sched_yield();
    return LM_WASI_ESUCCESS;
}

/* This host preopens no sockets and preview1 cannot make one, so a socket
 * call meets a bad fd, an fd that is no socket, or (stdio handed over as a
 * socket) one it does not serve. */
static uint32_t no_socket(lm_wasi *w, uint64_t fd) {
    uint32_t e;
    lm_wasi_fd *f = lm__wasi_fd_get(w, fd, 0, &e);
    if (!f) return e;
    int sock = f->type == LM_WASI_FT_SOCK_STREAM || f->type == LM_WASI_FT_SOCK_DGRAM;
    return sock ? LM_WASI_ENOTSUP : LM_WASI_ENOTSOCK;
}

uint32_t lm_wasi_sock_accept(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return no_socket(w, a[0]);
}
uint32_t lm_wasi_sock_recv(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return no_socket(w, a[0]);
}
uint32_t lm_wasi_sock_send(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return no_socket(w, a[0]);
}
uint32_t lm_wasi_sock_shutdown(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    return no_socket(w, a[0]);
}
