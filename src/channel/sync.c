/* sync.c -- the blocking driver of the channel (channel.h): poll and read
 * into the core (internal.h), write frames with proto's lm_frame_write,
 * serve storage from the store on the spot. Each call runs one core on the
 * stack; the core reads no byte past a frame, so nothing is left over
 * between lm_wait_ready() and the calls after it. */
#include "channel/channel.h"
#include "channel/internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Milliseconds left until deadline (0 when past it). */
static int left_ms(uint64_t deadline) {
    uint64_t now = lm_now_ns();
    return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

static int send_frame(lm_instance *inst, uint8_t type, const void *p, size_t len, char *err) {
    if (lm_frame_write(inst->child.in, type, p, len, NULL, 0) != 0) {
        int e = errno;
        lm_errf(err, "writing to instance %s: %s", inst->id, strerror(e));
        errno = e; /* the caller tells EPIPE (the instance is gone) apart */
        return LM_ERR;
    }
    return LM_OK;
}

/* Reads until the core completes a frame or the deadline passes (then the
 * core words it, naming timeout_ms). Returns what the frame was; on
 * LM__CHAN_ERROR err says why. */
static lm__chan_what next_frame(lm__chan *ch, uint64_t deadline, int timeout_ms, lm__chan_msg *m,
                                char *err) {
    int fd = ch->inst->child.out;
    memset(m, 0, sizeof(*m));
    for (;;) {
        size_t want;
        char *p = lm__chan_space(ch, &want);
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, left_ms(deadline));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            lm_errf(err, "poll: %s", strerror(errno));
            return LM__CHAN_ERROR;
        }
        if (r == 0) {
            lm__chan_timed_out(ch, timeout_ms, err);
            return LM__CHAN_ERROR;
        }
        ssize_t k = read(fd, p, want);
        if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (k < 0) {
            lm_errf(err, "read: %s", strerror(errno));
            return LM__CHAN_ERROR;
        }
        if (k == 0) {
            lm__chan_ended(ch, err);
            return LM__CHAN_ERROR;
        }
        lm__chan_what what = lm__chan_got(ch, (size_t)k, m, err);
        if (what != LM__CHAN_MORE) return what;
    }
}

int lm_wait_ready(lm_instance *inst, int timeout_ms, uint64_t *ready_ns, char *err) {
    uint64_t deadline = lm_now_ns() + (uint64_t)timeout_ms * 1000000u;
    lm__chan ch;
    lm__chan_init(&ch, inst, LM__CHAN_WAIT_READY);
    lm__chan_what what;
    do {
        lm__chan_msg m;
        what = next_frame(&ch, deadline, timeout_ms, &m, err);
        free(m.payload);
    } while (what == LM__CHAN_LOG || what == LM__CHAN_MARK);
    lm__chan_release(&ch);
    if (what != LM__CHAN_READY) return LM_ERR;
    *ready_ns = ch.ready_ns;
    return LM_OK;
}

int lm_call(lm_instance *inst, const char *body, size_t len, lm_store *store, int timeout_ms,
            lm_log_fn log, void *log_arg, lm_call_result *res, char *err) {
    memset(res, 0, sizeof(*res));
    lm__chan ch;
    lm__chan_init(&ch, inst, LM__CHAN_IDLE);
    if (lm__chan_invoke(&ch, len, err) != LM_OK) return LM_ERR;
    uint64_t deadline = ch.res.sent_ns + (uint64_t)timeout_ms * 1000000u;
    int rc = send_frame(inst, LM_FRAME_INVOKE, body, len, err);
    /* The instance is gone (its stdin closed): say how it ended, as a
     * read at its end of output does. */
    if (rc != LM_OK && errno == EPIPE) lm__chan_ended(&ch, err);
    while (rc == LM_OK) {
        lm__chan_msg m;
        lm__chan_out out;
        switch (next_frame(&ch, deadline, timeout_ms, &m, err)) {
        case LM__CHAN_RESULT:
            /* The body moves to the front of its frame, which res owns. */
            memmove(m.payload, ch.res.body, ch.res.body_len);
            m.payload[ch.res.body_len] = 0;
            ch.res.body = m.payload;
            *res = ch.res;
            lm__chan_release(&ch);
            return LM_OK;
        case LM__CHAN_LOG:
            if (log) log(log_arg, m.data, m.len);
            break;
        case LM__CHAN_MARK: break;
        case LM__CHAN_GET:
        case LM__CHAN_PUT:
            lm__chan_serve(&ch, store, &m, &out);
            rc = send_frame(inst, out.type, out.payload, out.len, err);
            lm__chan_out_free(&out);
            break;
        default: rc = LM_ERR; /* ERROR; READY is one (the core is past WAIT_READY) */
        }
        free(m.payload);
    }
    lm__chan_release(&ch);
    return LM_ERR;
}

void lm_call_result_free(lm_call_result *res) {
    if (!res) return;
    free(res->body);
    res->body = NULL;
}
