/* core.c -- the channel core (internal.h): the frame reader, the
 * conversation's states, the GET/PUT/RESULT decoding, the storage answers
 * and their accounting, and the words of every way a conversation ends.
 * Both drivers, sync.c and event.c, run on it. */
#include "channel/internal.h"

#include "proto/mark.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Said to a guest's GET or PUT when the host was given no store. */
#define NO_STORE_MSG                                                                               \
    "no Redis for this instance: give --redis HOST:PORT, or use \"storage\":\"file\" with a data " \
    "directory"

void lm__chan_init(lm__chan *ch, lm_instance *inst, lm__chan_state state) {
    memset(ch, 0, sizeof(*ch));
    ch->inst = inst;
    ch->state = state;
}

void lm__chan_release(lm__chan *ch) {
    if (!ch) return;
    free(ch->payload);
    ch->payload = NULL;
    ch->have_header = 0;
    ch->got = 0;
}

char *lm__chan_space(lm__chan *ch, size_t *n) {
    if (!ch->have_header) {
        *n = sizeof(ch->hdr) - ch->got;
        return (char *)ch->hdr + ch->got;
    }
    *n = ch->h.len - ch->got;
    return ch->payload + ch->got;
}

/* Makes ch DEAD (the caller has worded why); returns LM__CHAN_ERROR. */
static lm__chan_what broke(lm__chan *ch) {
    ch->state = LM__CHAN_DEAD;
    ch->pending = 0;
    return LM__CHAN_ERROR;
}

lm__chan_what lm__chan_got(lm__chan *ch, size_t n, lm__chan_msg *m, char *err) {
    memset(m, 0, sizeof(*m));
    ch->got += n;
    if (!ch->have_header) {
        if (ch->got < sizeof(ch->hdr)) return LM__CHAN_MORE;
        char e[256];
        ch->got = 0;
        if (lm_frame_decode(ch->hdr, &ch->h, e, sizeof(e)) != 0) {
            lm_errf(err, "instance %s sent a bad frame: %s", ch->inst->id, e);
            return broke(ch);
        }
        /* One contiguous payload; +1 so a body or a line can end in NUL. */
        ch->payload = malloc((size_t)ch->h.len + 1);
        if (!ch->payload) {
            lm_errf(err, "out of memory for a %u-byte frame", ch->h.len);
            return broke(ch);
        }
        ch->have_header = 1;
    }
    if (ch->got < ch->h.len) return LM__CHAN_MORE;
    char *p = ch->payload;
    p[ch->h.len] = 0;
    ch->payload = NULL;
    ch->have_header = 0;
    ch->got = 0;
    lm__chan_what what = lm__chan_frame(ch, ch->h.type, p, ch->h.len, m, err);
    m->payload = p;
    return what;
}

/* Decodes a GET's or PUT's key (and a PUT's value) into ch and m; starts
 * the storage call. */
static lm__chan_what storage_call(lm__chan *ch, uint8_t type, const char *p, size_t len,
                                  lm__chan_msg *m, char *err) {
    ch->storage_t0 = lm_now_ns();
    ch->storage_type = type;
    ch->put_len = 0;
    ch->res.storage_calls++;
    size_t klen;
    const char *key;
    if (type == LM_FRAME_GET) {
        if (len > LM__CHAN_KEY_MAX) {
            lm_errf(err, "instance %s: GET key too long", ch->inst->id);
            return broke(ch);
        }
        key = p;
        klen = len;
    } else {
        uint32_t k = len >= 4 ? lm_get_u32((const uint8_t *)p) : UINT32_MAX;
        if (k > LM__CHAN_KEY_MAX || 4 + (size_t)k > len) {
            lm_errf(err, "instance %s sent a malformed PUT", ch->inst->id);
            return broke(ch);
        }
        key = p + 4;
        klen = k;
        m->data = p + 4 + k;
        m->len = ch->put_len = len - 4 - k;
    }
    memcpy(ch->key, key, klen);
    ch->key[klen] = 0;
    ch->pending = 1;
    return type == LM_FRAME_GET ? LM__CHAN_GET : LM__CHAN_PUT;
}

lm__chan_what lm__chan_frame(lm__chan *ch, uint8_t type, const char *p, size_t len, lm__chan_msg *m,
                             char *err) {
    memset(m, 0, sizeof(*m));
    const char *id = ch->inst->id;
    if (ch->state == LM__CHAN_DEAD) {
        lm_errf(err, "instance %s sent frame type %u after its channel broke", id, type);
        return LM__CHAN_ERROR;
    }
    if (type == LM_FRAME_LOG) { /* any time: the guest logs as it goes */
        m->data = p;
        m->len = len;
        return LM__CHAN_LOG;
    }
    if (type == LM_FRAME_MARK) { /* marks of the cold start, filed until READY */
        if (len % LM_MARK_RECORD || len > LM_MARK_RECORD * LM_MARK_MAX) {
            lm_errf(err, "instance %s sent a malformed MARK (%zu bytes)", id, len);
            return broke(ch);
        }
        for (size_t i = 0; ch->state == LM__CHAN_WAIT_READY && i < len; i += LM_MARK_RECORD)
            lm_instance_mark(ch->inst, lm_mark_get64((const uint8_t *)p + i),
                             lm_mark_get64((const uint8_t *)p + i + 8));
        return LM__CHAN_MARK;
    }
    if (ch->state == LM__CHAN_WAIT_READY) {
        if (type != LM_FRAME_READY) {
            lm_errf(err, "instance %s sent frame type %u before READY", id, type);
            return broke(ch);
        }
        ch->ready_ns = lm_now_ns();
        ch->inst->marks[LM_B_READY] = ch->ready_ns;
        lm_instance_ready(ch->inst); /* what the adapter learns only now */
        ch->state = LM__CHAN_IDLE;
        return LM__CHAN_READY;
    }
    if (ch->state == LM__CHAN_IDLE) {
        lm_errf(err, "instance %s sent a frame while idle", id);
        return broke(ch);
    }
    if (ch->pending) { /* the guest waits for each storage answer */
        lm_errf(err, "instance %s sent a frame before its storage answer", id);
        return broke(ch);
    }
    if (type == LM_FRAME_GET || type == LM_FRAME_PUT) return storage_call(ch, type, p, len, m, err);
    if (type != LM_FRAME_RESULT) {
        lm_errf(err, "instance %s sent unexpected frame type %u", id, type);
        return broke(ch);
    }
    const uint8_t *body;
    size_t blen;
    ch->res.result_ns = lm_now_ns();
    if (lm_result_decode((const uint8_t *)p, len, &ch->res.status, ch->res.probes, &body, &blen)) {
        lm_errf(err, "instance %s sent a truncated RESULT", id);
        return broke(ch);
    }
    ch->res.body = (char *)body;
    ch->res.body_len = blen;
    ch->state = LM__CHAN_IDLE;
    return LM__CHAN_RESULT;
}

int lm__chan_invoke(lm__chan *ch, size_t len, char *err) {
    if (ch->state != LM__CHAN_IDLE)
        return lm_errf(err, "instance %s is %s", ch->inst->id,
                       ch->state == LM__CHAN_BUSY   ? "busy"
                       : ch->state == LM__CHAN_DEAD ? "dead"
                                                    : "not ready");
    if (len > LM_FRAME_MAX)
        return lm_errf(err, "request body of %zu bytes is past the frame limit of %u bytes", len,
                       LM_FRAME_MAX);
    memset(&ch->res, 0, sizeof(ch->res));
    ch->state = LM__CHAN_BUSY;
    ch->res.sent_ns = lm_now_ns();
    return LM_OK;
}

static void out_error(lm__chan_out *out, const char *msg) {
    out->type = LM_FRAME_STORAGE_ERROR;
    out->payload = msg;
    out->len = strlen(msg);
}

/* lm__chan_answer() without the clock. */
static void build_answer(lm__chan *ch, int status, const char *data, size_t len, const char *err,
                         lm__chan_out *out) {
    out->owned = NULL;
    out->payload = NULL;
    out->len = 0;
    if (!ch->pending) {
        snprintf(out->msg, sizeof(out->msg), "no storage call is waiting for an answer");
        out_error(out, out->msg);
        return;
    }
    ch->pending = 0;
    if (status == 0 && ch->storage_type == LM_FRAME_PUT) {
        ch->res.storage_write_bytes += ch->put_len;
        out->type = LM_FRAME_STORED;
    } else if (status == 0 && len > LM_FRAME_MAX) {
        snprintf(out->msg, sizeof(out->msg), "object '%.200s' has %zu bytes, past the frame limit",
                 ch->key, len);
        out_error(out, out->msg);
    } else if (status == 0) {
        ch->res.storage_read_bytes += len;
        out->type = LM_FRAME_VALUE;
        out->payload = len ? data : NULL;
        out->len = len;
    } else if (status == 1) {
        out->type = LM_FRAME_NOT_FOUND;
    } else {
        out_error(out, err ? err : "storage failed");
    }
}

void lm__chan_answer(lm__chan *ch, int status, const char *data, size_t len, const char *err,
                     lm__chan_out *out) {
    if (ch->pending) ch->res.storage_ns += lm_now_ns() - ch->storage_t0;
    build_answer(ch, status, data, len, err, out);
}

void lm__chan_serve(lm__chan *ch, lm_store *store, const lm__chan_msg *m, lm__chan_out *out) {
    if (!store) { /* no store was asked: no storage time to count */
        build_answer(ch, -1, NULL, 0, NO_STORE_MSG, out);
        return;
    }
    if (ch->pending && ch->storage_type == LM_FRAME_PUT) {
        int rc = store->put(store, ch->key, m->data, m->len, out->msg);
        lm__chan_answer(ch, rc == LM_OK ? 0 : -1, NULL, 0, out->msg, out);
        return;
    }
    char *data = NULL;
    size_t dlen = 0;
    out->msg[0] = 0;
    int g = ch->pending ? store->get(store, ch->key, &data, &dlen, out->msg) : -1;
    lm__chan_answer(ch, g, data, dlen, out->msg, out);
    out->owned = data;
}

void lm__chan_out_free(lm__chan_out *out) {
    if (!out) return;
    free(out->owned);
    out->owned = NULL;
}

void lm__chan_ended(lm__chan *ch, char *err) {
    char how[LM_ERRLEN];
    ch->state = LM__CHAN_DEAD;
    ch->pending = 0;
    lm_instance_describe_end(ch->inst, 1000, how, sizeof(how));
    lm_errf(err, "instance %s of %s ended (%.300s)", ch->inst->id, ch->inst->function, how);
}

void lm__chan_timed_out(lm__chan *ch, int bound_ms, char *err) {
    const char *what = ch->state == LM__CHAN_WAIT_READY ? "get READY" : "answer";
    if (bound_ms > 0)
        lm_errf(err, "instance %s of %s did not %s within %d ms", ch->inst->id, ch->inst->function,
                what, bound_ms);
    else
        lm_errf(err, "instance %s did not %s in time", ch->inst->id, what);
    ch->state = LM__CHAN_DEAD;
    ch->pending = 0;
}
