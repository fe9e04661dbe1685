/* event.c -- the libevent driver of the channel (conn.h): bytes from the
 * instance's stdout go into the core (internal.h) as they arrive, frames
 * go out through evbuffers to its stdin, and every wait has a timer.
 * Storage calls go to the store's asynchronous side when it has one
 * (Redis), so the loop keeps serving everything else during a round trip;
 * the core decodes them and builds their answers. */
#include "channel/conn.h"
#include "channel/internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdlib.h>
#include <string.h>

struct lm_conn {
    lm_store *store;
    struct bufferevent *out; /* reads the instance's stdout */
    struct bufferevent *in;  /* writes the instance's stdin */
    struct event *timer;
    lm__chan ch; /* the conversation; ch.res is the request in flight's */
    lm_conn_ready_fn on_ready;
    lm_conn_result_fn on_result;
    void *ready_arg, *result_arg;
    int attached;        /* holds one lm_store_attach() of store */
    lm_store_call *call; /* the storage call waiting on the store, or NULL */
    int depth;           /* inside one of our callbacks: a free must wait */
    int freed;           /* lm_conn_free() was called meanwhile */
    /* The link (lm_conn_set_link): at most one frame is held at a time,
     * the INVOKE on its way in or the RESULT on its way out. */
    lm_conn_link_fn link;
    void *link_arg;
    struct event *link_timer;
    int held;               /* 0 none, 1 the INVOKE (held_body), 2 the RESULT */
    char *held_body;        /* the INVOKE's body, or the RESULT's frame payload */
    size_t held_len;        /* the INVOKE body's length */
    size_t held_bytes;      /* the held frame's bytes, as the link was told */
    uint64_t held_since_ns; /* handed to the link */
    uint64_t held_at_ns;    /* its delivery time, LM_CONN_HOLD or LM_CONN_LOST */
};

static void really_free(lm_conn *c);

/* The conversation ended (the core made it DEAD and worded err) while it
 * was in state was: stop waiting and tell whoever waited. */
static void die(lm_conn *c, lm__chan_state was, const char *err) {
    c->ch.state = LM__CHAN_DEAD;
    evtimer_del(c->timer);
    if (c->link_timer) evtimer_del(c->link_timer);
    if (c->held == 2) was = LM__CHAN_BUSY; /* its RESULT never reached the platform */
    c->held = 0;
    free(c->held_body);
    c->held_body = NULL;
    lm_store_cancel(c->call); /* its answer has nowhere to go now */
    c->call = NULL;
    if (was == LM__CHAN_WAIT_READY && c->on_ready) c->on_ready(c, c->ready_arg, 0, err);
    if (was == LM__CHAN_BUSY && c->on_result) c->on_result(c, c->result_arg, NULL, err);
}

static void send_frame(lm_conn *c, uint8_t type, const void *a, size_t alen) {
    uint8_t hdr[LM_FRAME_HEADER];
    lm_frame_encode(hdr, type, (uint32_t)alen);
    struct evbuffer *out = bufferevent_get_output(c->in);
    evbuffer_add(out, hdr, sizeof(hdr));
    if (alen) evbuffer_add(out, a, alen);
}

/* Sends a storage answer: one copy, from the store's buffer (the Redis
 * reply itself on the asynchronous path) into the output. */
static void send_answer(lm_conn *c, lm__chan_out *out) {
    send_frame(c, out->type, out->payload, out->len);
    lm__chan_out_free(out);
}

static void on_storage_done(void *arg, int status, const char *data, size_t len, const char *err) {
    lm_conn *c = arg;
    c->call = NULL;
    /* A conn that died or was freed cancelled its call: it is BUSY here. */
    if (c->ch.state != LM__CHAN_BUSY) return;
    lm__chan_out out;
    lm__chan_answer(&c->ch, status, data, len, err, &out);
    send_answer(c, &out);
}

/* Serves a GET or PUT: asynchronously when the store can (Redis: the loop
 * goes on meanwhile and the answer comes in on_storage_done), else at once
 * (memory and folder stores are fast; no store is an answer too). */
static void serve_storage(lm_conn *c, lm__chan_what what, const lm__chan_msg *m) {
    lm__chan_out out;
    if (c->attached && lm_store_has_async(c->store)) {
        char msg[LM_ERRLEN];
        int rc = what == LM__CHAN_GET
                     ? lm_store_get_async(c->store, c->ch.key, on_storage_done, c, &c->call, msg)
                     : lm_store_put_async(c->store, c->ch.key, m->data, m->len, on_storage_done, c,
                                          &c->call, msg);
        if (rc == LM_OK) return;
        c->call = NULL;
        lm__chan_answer(&c->ch, -1, NULL, 0, msg, &out);
    } else {
        lm__chan_serve(&c->ch, c->store, m, &out);
    }
    send_answer(c, &out);
}

/* Arms the link timer for the held frame (at once when it is lost). */
static void arm_link(lm_conn *c) {
    if (c->held_at_ns == LM_CONN_HOLD) return; /* until lm_conn_link_changed */
    uint64_t now = lm_now_ns();
    uint64_t rel = c->held_at_ns != LM_CONN_LOST && c->held_at_ns > now ? c->held_at_ns - now : 0;
    struct timeval tv = {(time_t)(rel / 1000000000ull), (suseconds_t)(rel % 1000000000ull / 1000)};
    evtimer_add(c->link_timer, &tv);
}

/* Asks the link about a frame (kind 1 INVOKE, 2 RESULT) of bytes bytes
 * handed over now: 1 when it is held (the timer delivers it), 0 when it
 * goes at once. */
static int hold(lm_conn *c, int kind, size_t bytes) {
    uint64_t now = lm_now_ns();
    uint64_t at = c->link(c->link_arg, kind == 2, bytes, now, now);
    if (at <= now) return 0;
    c->held = kind;
    c->held_bytes = bytes;
    c->held_since_ns = now;
    c->held_at_ns = at;
    arm_link(c);
    return 1;
}

/* The held frame's time came (or it was lost). */
static void on_link(evutil_socket_t fd, short what, void *arg) {
    lm_conn *c = arg;
    (void)fd;
    (void)what;
    if (!c->held || c->ch.state == LM__CHAN_DEAD) return;
    c->depth++;
    if (c->held_at_ns == LM_CONN_LOST) {
        char err[LM_ERRLEN];
        lm_errf(err, "the node's link lost the %s frame for good (the connection is gone)",
                c->held == 1 ? "INVOKE" : "RESULT");
        die(c, c->ch.state, err);
    } else if (c->held == 1) {
        c->held = 0;
        send_frame(c, LM_FRAME_INVOKE, c->held_body, c->held_len);
        free(c->held_body);
        c->held_body = NULL;
    } else {
        /* The RESULT's payload (res.body's memory) until the callback is
         * done; the callback may already hold a new INVOKE. */
        char *payload = c->held_body;
        c->held = 0;
        c->held_body = NULL;
        evtimer_del(c->timer);
        if (c->on_result) c->on_result(c, c->result_arg, &c->ch.res, NULL);
        free(payload);
    }
    if (--c->depth == 0 && c->freed) really_free(c);
}

/* Acts on what the core made of a frame (in state was before it). */
static void on_frame(lm_conn *c, lm__chan_state was, lm__chan_what what, lm__chan_msg *m,
                     const char *err) {
    switch (what) {
    case LM__CHAN_READY:
        evtimer_del(c->timer);
        if (c->on_ready) c->on_ready(c, c->ready_arg, c->ch.ready_ns, NULL);
        break;
    case LM__CHAN_GET:
    case LM__CHAN_PUT: serve_storage(c, what, m); break;
    case LM__CHAN_RESULT:
        if (c->link && hold(c, 2, c->ch.res.body_len + LM_FRAME_HEADER)) {
            c->held_body = m->payload; /* res.body points into it: keep it */
            m->payload = NULL;
            break;
        }
        evtimer_del(c->timer);
        if (c->on_result) c->on_result(c, c->result_arg, &c->ch.res, NULL);
        break;
    case LM__CHAN_ERROR: die(c, was, err); break;
    case LM__CHAN_MORE:
    case LM__CHAN_MARK:       /* filed into the instance by the core */
    case LM__CHAN_LOG: break; /* the pool keeps no guest log lines */
    }
}

static void on_read(struct bufferevent *bev, void *arg) {
    lm_conn *c = arg;
    struct evbuffer *buf = bufferevent_get_input(bev);
    char err[LM_ERRLEN];
    c->depth++;
    while (c->ch.state != LM__CHAN_DEAD && !c->freed) {
        size_t have = evbuffer_get_length(buf), want;
        if (have == 0) break;
        /* Straight into the frame's own buffer: one copy, as it comes. */
        char *p = lm__chan_space(&c->ch, &want);
        if (want > have) want = have;
        evbuffer_remove(buf, p, want);
        lm__chan_state was = c->ch.state;
        lm__chan_msg m;
        lm__chan_what what = lm__chan_got(&c->ch, want, &m, err);
        on_frame(c, was, what, &m, err);
        free(m.payload);
    }
    if (--c->depth == 0 && c->freed) really_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg) {
    lm_conn *c = arg;
    (void)bev;
    c->depth++;
    if (c->ch.state != LM__CHAN_DEAD && (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) {
        char err[LM_ERRLEN];
        lm__chan_state was = c->ch.state;
        lm__chan_ended(&c->ch, err);
        die(c, was, err);
    }
    if (--c->depth == 0 && c->freed) really_free(c);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
    lm_conn *c = arg;
    (void)fd;
    (void)what;
    char err[LM_ERRLEN];
    c->depth++;
    lm__chan_state was = c->ch.state;
    if (c->held == 2) {
        lm_errf(err, "no answer in time: the function's RESULT was still on the node's link");
    } else {
        lm__chan_timed_out(&c->ch, 0, err); /* "in time": the pool's word for a hang */
    }
    die(c, was, err);
    if (--c->depth == 0 && c->freed) really_free(c);
}

lm_conn *lm_conn_new(struct event_base *base, lm_instance *inst, lm_store *store,
                     int ready_timeout_ms, lm_conn_ready_fn on_ready, void *arg, char *err) {
    lm_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        lm_errf(err, "out of memory");
        return NULL;
    }
    c->store = store;
    lm__chan_init(&c->ch, inst, LM__CHAN_WAIT_READY);
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
    c->link_timer = evtimer_new(base, on_link, c);
    if (!c->out || !c->in || !c->timer || !c->link_timer) {
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
    if (lm__chan_invoke(&c->ch, len, err) != LM_OK) return LM_ERR;
    c->on_result = cb;
    c->result_arg = arg;
    if (c->link && hold(c, 1, len + LM_FRAME_HEADER)) {
        c->held_len = len;
        c->held_body = malloc(len ? len : 1);
        if (!c->held_body) {
            c->held = 0;
            evtimer_del(c->link_timer);
            send_frame(c, LM_FRAME_INVOKE, body, len); /* no room to hold it: unshaped */
        } else if (len) {
            memcpy(c->held_body, body, len);
        }
    } else {
        send_frame(c, LM_FRAME_INVOKE, body, len);
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    return LM_OK;
}

int lm_conn_idle(const lm_conn *c) { return c->ch.state == LM__CHAN_IDLE && !c->held; }

void lm_conn_set_link(lm_conn *c, lm_conn_link_fn fn, void *arg) {
    c->link = fn;
    c->link_arg = arg;
}

void lm_conn_link_changed(lm_conn *c) {
    if (!c || !c->link || !c->held || c->held_at_ns != LM_CONN_HOLD) return;
    uint64_t now = lm_now_ns();
    c->held_at_ns = c->link(c->link_arg, c->held == 2, c->held_bytes, c->held_since_ns, now);
    arm_link(c);
}

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
        if (c->link_timer) evtimer_del(c->link_timer);
        return;
    }
    really_free(c);
}

static void really_free(lm_conn *c) {
    /* The fds belong to the instance: free the bufferevents without closing. */
    if (c->out) bufferevent_free(c->out);
    if (c->in) bufferevent_free(c->in);
    if (c->timer) event_free(c->timer);
    if (c->link_timer) event_free(c->link_timer);
    free(c->held_body);
    if (c->attached) lm_store_detach(c->store);
    lm__chan_release(&c->ch);
    free(c);
}
