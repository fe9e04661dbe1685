/* conn.c -- one instance's channel on a libevent loop: frames are parsed
 * incrementally from the instance's stdout as they arrive, written with
 * evbuffers to its stdin, and every wait has a timer. Storage calls go to
 * the store's asynchronous side when it has one (Redis), so the loop keeps
 * serving everything else during a round trip. */
#include "channel/conn.h"

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
    int attached;         /* holds one lm_store_attach() of store */
    lm_store_call *call;  /* the storage call waiting on the store, or NULL */
    uint64_t storage_t0;  /* when that call's frame arrived */
    uint8_t storage_type; /* LM_FRAME_GET or LM_FRAME_PUT */
    size_t put_len;       /* that PUT's value bytes */
    int depth;            /* inside one of our callbacks: a free must wait */
    int freed;            /* lm_conn_free() was called meanwhile */
};

static void really_free(lm_conn *c);

static void die(lm_conn *c, const char *fmt, const char *detail) {
    char err[LM_ERRLEN], how[LM_ERRLEN];
    enum conn_state was = c->state;
    c->state = DEAD;
    evtimer_del(c->timer);
    lm_store_cancel(c->call); /* its answer has nowhere to go now */
    c->call = NULL;
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

/* Sends the answer to the pending storage call (status as in lm_store_cb)
 * and accounts for it. */
static void storage_reply(lm_conn *c, int status, const char *data, size_t len, const char *err) {
    char msg[LM_ERRLEN];
    if (status == 0 && c->storage_type == LM_FRAME_PUT) {
        c->res.storage_write_bytes += c->put_len;
        send_frame(c, LM_FRAME_STORED, NULL, 0);
    } else if (status == 0 && len > LM_FRAME_MAX) {
        snprintf(msg, sizeof(msg), "object of %zu bytes is past the frame limit", len);
        send_frame(c, LM_FRAME_STORAGE_ERROR, msg, strlen(msg));
    } else if (status == 0) {
        /* One copy, from the store's buffer (the Redis reply itself on the
         * asynchronous path) into the output. */
        c->res.storage_read_bytes += len;
        send_frame(c, LM_FRAME_VALUE, data, len);
    } else if (status == 1) {
        send_frame(c, LM_FRAME_NOT_FOUND, NULL, 0);
    } else {
        send_frame(c, LM_FRAME_STORAGE_ERROR, err, strlen(err));
    }
    c->res.storage_ns += lm_now_ns() - c->storage_t0;
}

static void on_storage_done(void *arg, int status, const char *data, size_t len, const char *err) {
    lm_conn *c = arg;
    c->call = NULL;
    /* A conn that died or was freed cancelled its call: it is BUSY here. */
    if (c->state == BUSY) storage_reply(c, status, data, len, err);
}

/* Serves a GET or PUT: asynchronously when the store can (Redis: the loop
 * goes on meanwhile and the answer comes in on_storage_done), else at once
 * (memory and folder stores are fast). */
static void serve_storage(lm_conn *c, uint8_t type, const char *p, size_t len) {
    char msg[LM_ERRLEN], key[600];
    c->storage_t0 = lm_now_ns();
    c->storage_type = type;
    c->put_len = 0;
    c->res.storage_calls++;
    if (!c->store) {
        storage_reply(c, -1, NULL, 0, "no Redis for this instance");
        return;
    }
    const char *value = NULL;
    if (type == LM_FRAME_GET) {
        if (len >= sizeof(key)) {
            die(c, "instance %s sent a GET key too long%s", "");
            return;
        }
        memcpy(key, p, len);
        key[len] = 0;
    } else {
        uint32_t klen = len >= 4 ? lm_get_u32((const uint8_t *)p) : UINT32_MAX;
        if (klen >= sizeof(key) || 4 + (size_t)klen > len) {
            die(c, "instance %s sent a malformed PUT%s", "");
            return;
        }
        memcpy(key, p + 4, klen);
        key[klen] = 0;
        value = p + 4 + klen;
        c->put_len = len - 4 - klen;
    }
    if (c->attached && lm_store_has_async(c->store)) {
        int rc = type == LM_FRAME_GET
                     ? lm_store_get_async(c->store, key, on_storage_done, c, &c->call, msg)
                     : lm_store_put_async(c->store, key, value, c->put_len, on_storage_done, c,
                                          &c->call, msg);
        if (rc != LM_OK) {
            c->call = NULL;
            storage_reply(c, -1, NULL, 0, msg);
        }
        return;
    }
    if (type == LM_FRAME_PUT) {
        int rc = c->store->put(c->store, key, value, c->put_len, msg);
        storage_reply(c, rc == LM_OK ? 0 : -1, NULL, 0, msg);
        return;
    }
    char *data = NULL;
    size_t dlen = 0;
    int g = c->store->get(c->store, key, &data, &dlen, msg);
    storage_reply(c, g, data, dlen, msg);
    free(data);
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
    if (c->call) { /* the guest waits for each storage answer */
        die(c, "instance %s sent a frame before its storage answer%s", "");
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
    if (store) {
        if (lm_store_attach(store, base, err) != LM_OK) {
            free(c);
            return NULL;
        }
        c->attached = 1;
    }
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
    /* libevent moves at most 16 KiB per wake-up by default: a 1 MiB VALUE
     * or PUT would take 64 trips through the loop instead of a few pipe
     * fills. */
    bufferevent_set_max_single_read(c->out, 1 << 20);
    bufferevent_set_max_single_write(c->in, 1 << 20);
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

int lm_conn_storage_pending(const lm_conn *c) { return c->call != NULL; }

void lm_conn_free(lm_conn *c) {
    if (!c) return;
    /* A storage answer that comes later must not find this conn. */
    lm_store_cancel(c->call);
    c->call = NULL;
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
    if (c->attached) lm_store_detach(c->store);
    free(c);
}
