/* wasi_clock.c -- clocks and waiting: clock_res_get, clock_time_get and
 * poll_oneoff (clock subscriptions, and fd readiness through poll(2)). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi/internal.h"

static int host_clock(uint64_t id, clockid_t *c) {
    static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                    CLOCK_THREAD_CPUTIME_ID};
    if (id >= sizeof(ids) / sizeof(ids[0])) return -1;
    *c = ids[id];
    return 0;
}

static uint64_t now_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t lm_wasi_clock_res_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    clockid_t c;
    struct timespec ts;
    if (host_clock(a[0], &c) != 0) return LM_WASI_EINVAL;
    if (!lm__wasi_span(m, a[1], 8)) return LM_WASI_EFAULT;
    if (clock_getres(c, &ts) != 0) return lm__wasi_errno(errno);
    lm__wasi_st64(m, a[1], (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    return LM_WASI_ESUCCESS;
}

uint32_t lm_wasi_clock_time_get(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    clockid_t c;
    if (host_clock(a[0], &c) != 0) return LM_WASI_EINVAL;
    if (!lm__wasi_span(m, a[2], 8)) return LM_WASI_EFAULT;
    lm__wasi_st64(m, a[2], now_ns(c));
    return LM_WASI_ESUCCESS;
}

/* Subscription and event layouts (witx): a subscription is 48 bytes
 * (userdata u64 @0, tag u8 @8, then clock {id u32 @16, timeout u64 @24,
 * precision u64 @32, flags u16 @40} or fd {fd u32 @16}); an event is 32
 * bytes (userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16,
 * flags u16 @24). */
enum { SUB_CLOCK = 0, SUB_READ = 1, SUB_WRITE = 2 };
#define SUB_SIZE 48
#define EVENT_SIZE 32
#define SUBCLOCK_ABSTIME 1
#define EVENT_HANGUP 1

typedef struct {
    uint64_t userdata;
    uint8_t tag;
    uint16_t error; /* found before waiting: reported at once */
    uint64_t due;   /* clock: monotonic deadline */
    int pfd;        /* fd: index in the pollfd array, else -1 */
    lm_wasi_fd *f;
} sub;

static void put_event(lm_wasi_mem m, uint64_t p, const sub *s, uint16_t error, uint64_t nbytes,
                      uint16_t flags) {
    memset(lm__wasi_at(m, p), 0, EVENT_SIZE);
    lm__wasi_st64(m, p, s->userdata);
    lm__wasi_st16(m, p + 8, error);
    lm__wasi_st8(m, p + 10, s->tag);
    lm__wasi_st64(m, p + 16, nbytes);
    lm__wasi_st16(m, p + 24, flags);
}

/* Bytes readable now: what is left of a regular file, else what the
 * kernel has queued (0 when it cannot say). */
static uint64_t readable(const lm_wasi_fd *f) {
    if (f->type == LM_WASI_FT_FILE) {
        struct stat st;
        off_t pos = lseek(f->host, 0, SEEK_CUR);
        if (fstat(f->host, &st) == 0 && pos >= 0 && st.st_size > pos)
            return (uint64_t)(st.st_size - pos);
        return 0;
    }
    int n = 0;
    return ioctl(f->host, FIONREAD, &n) == 0 && n > 0 ? (uint64_t)n : 0;
}

/* Reads the subscriptions: a clock's deadline on the monotonic clock (CPU
 * time clocks count as wall time here), an fd's pollfd, or an error to
 * report at once. EINVAL for an unknown tag. */
static uint32_t read_subs(lm_wasi *w, lm_wasi_mem m, uint64_t in, uint32_t n, sub *subs,
                          struct pollfd *pfds, int *npfd, int *nready) {
    uint64_t mono = now_ns(CLOCK_MONOTONIC);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t p = in + (uint64_t)i * SUB_SIZE;
        sub *s = &subs[i];
        *s = (sub){.userdata = lm__wasi_ld64(m, p), .tag = m.base[p + 8], .pfd = -1};
        if (s->tag == SUB_CLOCK) {
            clockid_t c;
            uint64_t timeout = lm__wasi_ld64(m, p + 24);
            if (host_clock(lm__wasi_ld32(m, p + 16), &c) != 0) {
                s->error = LM_WASI_EINVAL;
            } else if (lm__wasi_ld16(m, p + 40) & SUBCLOCK_ABSTIME) {
                uint64_t now = now_ns(c);
                uint64_t rel = timeout > now ? timeout - now : 0;
                s->due = mono + rel < mono ? UINT64_MAX : mono + rel;
            } else {
                s->due = mono + timeout < mono ? UINT64_MAX : mono + timeout;
            }
        } else if (s->tag == SUB_READ || s->tag == SUB_WRITE) {
            uint32_t e;
            s->f = lm__wasi_fd_get(w, lm__wasi_ld32(m, p + 16), LM_R_POLL_FD_READWRITE, &e);
            if (!s->f) {
                s->error = (uint16_t)e;
            } else {
                s->pfd = *npfd;
                pfds[(*npfd)++] =
                    (struct pollfd){s->f->host, s->tag == SUB_READ ? POLLIN : POLLOUT, 0};
            }
        } else {
            return LM_WASI_EINVAL;
        }
        if (s->error) (*nready)++;
    }
    return LM_WASI_ESUCCESS;
}

/* Waits until an fd is ready or the first deadline passes (at once when an
 * error is already to report). EINTR restarts the wait with what is left. */
static uint32_t wait_ready(const sub *subs, uint32_t n, struct pollfd *pfds, int npfd, int nready) {
    uint64_t due = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (subs[i].tag == SUB_CLOCK && !subs[i].error && subs[i].due < due) due = subs[i].due;
    for (;;) {
        struct timespec ts = {0, 0}, *tsp = NULL;
        uint64_t now = now_ns(CLOCK_MONOTONIC);
        if (nready == 0 && due != UINT64_MAX) {
            uint64_t left = due > now ? due - now : 0;
            ts.tv_sec = (time_t)(left / 1000000000u);
            ts.tv_nsec = (long)(left % 1000000000u);
            tsp = &ts;
        } else if (nready > 0) {
            tsp = &ts;
        }
        if (ppoll(npfd ? pfds : NULL, (nfds_t)npfd, tsp, NULL) >= 0) return LM_WASI_ESUCCESS;
        if (errno != EINTR) return lm__wasi_errno(errno);
    }
}

uint32_t lm_wasi_poll_oneoff(lm_wasi *w, lm_wasi_mem m, const uint64_t *a) {
    uint64_t in = a[0], out = a[1], n = a[2], nevents = a[3];
    if (n == 0) return LM_WASI_EINVAL;
    if (!lm__wasi_span(m, in, n * SUB_SIZE) || !lm__wasi_span(m, out, n * EVENT_SIZE) ||
        !lm__wasi_span(m, nevents, 4))
        return LM_WASI_EFAULT;
    /* n is bounded by the memory (48 bytes each), so these fit. */
    sub *subs = malloc(n * sizeof(*subs));
    struct pollfd *pfds = malloc(n * sizeof(*pfds));
    uint32_t e = LM_WASI_ENOMEM;
    int npfd = 0, nready = 0;
    if (!subs || !pfds) goto done;
    /* All subscriptions are read before any event is written: the guest
     * may pass overlapping buffers. */
    e = read_subs(w, m, in, (uint32_t)n, subs, pfds, &npfd, &nready);
    uint32_t count = 0;
    /* A wait that ends early by a hair reports nothing yet: wait again. */
    while (e == LM_WASI_ESUCCESS && count == 0) {
        e = wait_ready(subs, (uint32_t)n, pfds, npfd, nready);
        if (e != LM_WASI_ESUCCESS) break;
        uint64_t now = now_ns(CLOCK_MONOTONIC);
        for (uint32_t i = 0; i < n; i++) {
            const sub *s = &subs[i];
            uint64_t p = out + (uint64_t)count * EVENT_SIZE;
            if (s->error) {
                put_event(m, p, s, s->error, 0, 0);
            } else if (s->pfd >= 0 && pfds[s->pfd].revents) {
                short r = pfds[s->pfd].revents;
                uint16_t err = r & POLLNVAL ? LM_WASI_EBADF : 0;
                uint64_t nbytes = s->tag == SUB_READ && !err ? readable(s->f) : 0;
                put_event(m, p, s, err, nbytes, r & POLLHUP ? EVENT_HANGUP : 0);
            } else if (s->tag == SUB_CLOCK && s->due <= now) {
                put_event(m, p, s, 0, 0, 0);
            } else {
                continue;
            }
            count++;
        }
    }
    if (e == LM_WASI_ESUCCESS) lm__wasi_st32(m, nevents, count);
done:
    free(subs);
    free(pfds);
    return e;
}
