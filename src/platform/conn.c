/* conn.c -- one instance's channel on a libevent loop: frames are parsed
 * incrementally from the instance's stdout as they arrive, written with
 * evbuffers to its stdin, and every wait has a timer. */
#include "conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum conn_state { WAIT_READY, IDLE, BUSY, DEAD };

struct lm_conn {
    lm_instance *inst;
    lm_store *store;
    struct bufferevent *out; /* reads the instance's stdout */
    struct bufferevent *in;  /* writes the instance's stdin */
    struct event *timer;
    enum conn_state state;
    lm_conn_ready_fn on_ready;
    lm_conn_result_fn on_result;
    void *ready_arg, *result_arg;
    lm_call_result res;
    int depth; /* inside one of our callbacks: a free must wait */
    int freed; /* lm_conn_free() was called meanwhile */
};

static void really_free(lm_conn *c);

static void die(lm_conn *c, const char *fmt, const char *detail) {
    char err[LM_ERRLEN], how[LM_ERRLEN];
    enum conn_state was = c->state;
    c->state = DEAD;
    evtimer_del(c->timer);
    if (!fmt) {
        lm_instance_describe_end(c->inst, 1000, how, sizeof(how));
        snprintf(err, sizeof(err), "instance %s of %s ended (%.300s)", c->inst->id,
                 c->inst->function, how);
    } else {
        snprintf(err, sizeof(err), fmt, c->inst->id, detail ? detail : "");
    }
    if (was == WAIT_READY && c->on_ready) c->on_ready(c, c->ready_arg, 0, err);
    if (was == BUSY && c->on_result) c->on_result(c, c->result_arg, NULL, err);
}

static void send_frame(lm_conn *c, uint8_t type, const void *a, size_t alen) {
    uint8_t hdr[LM_FRAME_HEADER];
    lm_frame_encode(hdr, type, (uint32_t)alen);
    struct evbuffer *out = bufferevent_get_output(c->in);
    evbuffer_add(out, hdr, sizeof(hdr));
    if (alen) evbuffer_add(out, a, alen);
}

static void serve_storage(lm_conn *c, uint8_t type, const char *p, size_t len) {
    char msg[LM_ERRLEN], key[600];
    uint64_t t0 = lm_now_ns();
    c->res.storage_calls++;
    if (!c->store) {
        snprintf(msg, sizeof(msg), "no Redis for this instance");
        send_frame(c, LM_FRAME_STORAGE_ERROR, msg, strlen(msg));
        return;
    }
    if (type == LM_FRAME_GET) {
        if (len >= sizeof(key)) {
            die(c, "instance %s sent a GET key too long%s", "");
            return;
        }
        memcpy(key, p, len);
        key[len] = 0;
        char *data = NULL;
        size_t dlen = 0;
        int g = c->store->get(c->store, key, &data, &dlen, msg);
        c->res.storage_ns += lm_now_ns() - t0;
        if (g == 0 && dlen <= LM_FRAME_MAX)
            send_frame(c, LM_FRAME_VALUE, data, dlen);
        else if (g == 1)
            send_frame(c, LM_FRAME_NOT_FOUND, NULL, 0);
        else
            send_frame(c, LM_FRAME_STORAGE_ERROR, msg, strlen(msg));
        free(data);
        return;
    }
    uint32_t klen = len >= 4 ? lm_get_u32((const uint8_t *)p) : UINT32_MAX;
    if (klen >= sizeof(key) || 4 + (size_t)klen > len) {
        die(c, "instance %s sent a malformed PUT%s", "");
        return;
    }
    memcpy(key, p + 4, klen);
    key[klen] = 0;
    int rc = c->store->put(c->store, key, p + 4 + klen, len - 4 - klen, msg);
    c->res.storage_ns += lm_now_ns() - t0;
    if (rc == LM_OK)
        send_frame(c, LM_FRAME_STORED, NULL, 0);
    else
        send_frame(c, LM_FRAME_STORAGE_ERROR, msg, strlen(msg));
}

/* Handles one whole frame; its payload is p[0..len). */
static void on_frame(lm_conn *c, uint8_t type, char *p, size_t len) {
    if (type == LM_FRAME_LOG) return;
    if (c->state == WAIT_READY) {
        if (type != LM_FRAME_READY) {
            die(c, "instance %s sent a frame before READY%s", "");
            return;
        }
        c->state = IDLE;
        evtimer_del(c->timer);
        if (c->on_ready) c->on_ready(c, c->ready_arg, lm_now_ns(), NULL);
        return;
    }
    if (c->state != BUSY) {
        die(c, "instance %s sent a frame while idle%s", "");
        return;
    }
    if (type == LM_FRAME_GET || type == LM_FRAME_PUT) {
        serve_storage(c, type, p, len);
        return;
    }
    if (type != LM_FRAME_RESULT) {
        die(c, "instance %s sent an unexpected frame%s", "");
        return;
    }
    const uint8_t *body;
    size_t blen;
    c->res.result_ns = lm_now_ns();
    if (lm_result_decode((const uint8_t *)p, len, &c->res.status, c->res.probes, &body, &blen)) {
        die(c, "instance %s sent a truncated RESULT%s", "");
        return;
    }
    c->res.body = (char *)body;
    c->res.body_len = blen;
    c->state = IDLE;
    evtimer_del(c->timer);
    if (c->on_result) c->on_result(c, c->result_arg, &c->res, NULL);
}

static void on_read(struct bufferevent *bev, void *arg) {
    lm_conn *c = arg;
    struct evbuffer *buf = bufferevent_get_input(bev);
    c->depth++;
    while (c->state != DEAD && !c->freed) {
        uint8_t hdr[LM_FRAME_HEADER];
        if (evbuffer_copyout(buf, hdr, sizeof(hdr)) < (ev_ssize_t)sizeof(hdr)) break;
        lm_frame_header h;
        char err[256];
        if (lm_frame_decode(hdr, &h, err, sizeof(err)) != 0) {
            die(c, "instance %s: %s", err);
            break;
        }
        if (evbuffer_get_length(buf) < LM_FRAME_HEADER + (size_t)h.len) {
            /* Wake only when the whole frame is there. */
            bufferevent_setwatermark(bev, EV_READ, LM_FRAME_HEADER + (size_t)h.len, 0);
            break;
        }
        bufferevent_setwatermark(bev, EV_READ, 0, 0);
        evbuffer_drain(buf, sizeof(hdr));
        /* One contiguous payload; +1 so a body can be NUL-terminated. */
        char *p = malloc((size_t)h.len + 1);
        if (!p) {
            die(c, "instance %s: out of memory for a frame%s", "");
            break;
        }
        evbuffer_remove(buf, p, h.len);
        p[h.len] = 0;
        on_frame(c, h.type, p, h.len);
        free(p);
    }
    if (--c->depth == 0 && c->freed) really_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg) {
    lm_conn *c = arg;
    (void)bev;
    c->depth++;
    if (c->state != DEAD && (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) die(c, NULL, NULL);
    if (--c->depth == 0 && c->freed) really_free(c);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
    lm_conn *c = arg;
    (void)fd;
    (void)what;
    c->depth++;
    die(c,
        c->state == WAIT_READY ? "instance %s did not get READY in time%s"
                               : "instance %s did not answer in time%s",
        "");
    if (--c->depth == 0 && c->freed) really_free(c);
}

lm_conn *lm_conn_new(struct event_base *base, lm_instance *inst, lm_store *store,
                     int ready_timeout_ms, lm_conn_ready_fn on_ready, void *arg, char *err) {
    lm_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        lm_errf(err, "out of memory");
        return NULL;
    }
    c->inst = inst;
    c->store = store;
    c->on_ready = on_ready;
    c->ready_arg = arg;
    /* libevent expects non-blocking descriptors. */
    evutil_make_socket_nonblocking(inst->child.out);
    evutil_make_socket_nonblocking(inst->child.in);
    c->out = bufferevent_socket_new(base, inst->child.out, 0);
    c->in = bufferevent_socket_new(base, inst->child.in, 0);
    c->timer = evtimer_new(base, on_timeout, c);
    if (!c->out || !c->in || !c->timer) {
        lm_conn_free(c);
        lm_errf(err, "out of memory");
        return NULL;
    }
    bufferevent_setcb(c->out, on_read, NULL, on_event, c);
    bufferevent_setcb(c->in, NULL, NULL, on_event, c);
    bufferevent_enable(c->out, EV_READ);
    bufferevent_enable(c->in, EV_WRITE);
    struct timeval tv = {ready_timeout_ms / 1000, (ready_timeout_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    return c;
}

int lm_conn_invoke(lm_conn *c, const char *body, size_t len, int timeout_ms, lm_conn_result_fn cb,
                   void *arg, char *err) {
    if (c->state != IDLE)
        return lm_errf(err, "instance %s is %s", c->inst->id,
                       c->state == BUSY   ? "busy"
                       : c->state == DEAD ? "dead"
                                          : "not ready");
    if (len > LM_FRAME_MAX)
        return lm_errf(err, "request body of %zu bytes is past the frame limit", len);
    memset(&c->res, 0, sizeof(c->res));
    c->on_result = cb;
    c->result_arg = arg;
    c->state = BUSY;
    c->res.sent_ns = lm_now_ns();
    send_frame(c, LM_FRAME_INVOKE, body, len);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    return LM_OK;
}

int lm_conn_idle(const lm_conn *c) { return c->state == IDLE; }

void lm_conn_free(lm_conn *c) {
    if (!c) return;
    if (c->depth > 0) { /* called from one of our callbacks: finish there */
        c->freed = 1;
        /* Stop watching now: the instance's fds may close before then. */
        bufferevent_disable(c->out, EV_READ | EV_WRITE);
        bufferevent_disable(c->in, EV_READ | EV_WRITE);
        evtimer_del(c->timer);
        return;
    }
    really_free(c);
}

static void really_free(lm_conn *c) {
    /* The fds belong to the instance: free the bufferevents without closing. */
    if (c->out) bufferevent_free(c->out);
    if (c->in) bufferevent_free(c->in);
    if (c->timer) event_free(c->timer);
    free(c);
}
