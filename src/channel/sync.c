/* sync.c -- the blocking driver of the host side of the frame channel. */
#include "channel/channel.h"
#include "proto/frame.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Milliseconds left until deadline (0 when past it). */
static int left_ms(uint64_t deadline) {
    uint64_t now = lm_now_ns();
    return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

/* Reads exactly n bytes before the deadline. LM_OK, or LM_ERR with err
 * ("timeout" or "eof" or a system error). */
static int read_exact(int fd, void *buf, size_t n, uint64_t deadline, char *err) {
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {fd, POLLIN, 0};
        int ms = left_ms(deadline);
        int r = poll(&p, 1, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return lm_errf(err, "poll: %s", strerror(errno));
        if (r == 0) return lm_errf(err, "timeout");
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (k < 0) return lm_errf(err, "read: %s", strerror(errno));
        if (k == 0) return lm_errf(err, "eof");
        got += (size_t)k;
    }
    return LM_OK;
}

/* Frames go out through the SDK's writer: one encoder for both sides. */
static int send_frame(lm_instance *inst, uint8_t type, const void *p, size_t len, char *err) {
    if (lm_frame_write(inst->child.in, type, p, len, NULL, 0) != 0)
        return lm_errf(err, "writing to instance %s: %s", inst->id, strerror(errno));
    return LM_OK;
}

/* Reads one frame into *buf (grown as needed, NUL-terminated). */
static int read_frame(lm_instance *inst, uint64_t deadline, uint8_t *type, char **buf, size_t *len,
                      char *err) {
    uint8_t hdr[LM_FRAME_HEADER];
    char e[LM_ERRLEN];
    if (read_exact(inst->child.out, hdr, sizeof(hdr), deadline, e) != LM_OK) {
        if (strcmp(e, "eof") == 0) {
            char how[128];
            lm_instance_describe_end(inst, 1000, how, sizeof(how));
            return lm_errf(err, "instance %s of %s ended (%s)", inst->id, inst->function, how);
        }
        if (strcmp(e, "timeout") == 0) return lm_errf(err, "timeout");
        return lm_errf(err, "%s", e);
    }
    lm_frame_header h;
    if (lm_frame_decode(hdr, &h, e, sizeof(e)) != 0)
        return lm_errf(err, "instance %s sent a bad frame: %s", inst->id, e);
    char *b = malloc((size_t)h.len + 1);
    if (!b) return lm_errf(err, "out of memory for a %u-byte frame", h.len);
    if (h.len && read_exact(inst->child.out, b, h.len, deadline, e) != LM_OK) {
        free(b);
        if (strcmp(e, "timeout") == 0) return lm_errf(err, "timeout");
        return lm_errf(err, "instance %s: frame cut short (%s)", inst->id, e);
    }
    b[h.len] = 0;
    *type = h.type;
    *buf = b;
    *len = h.len;
    return LM_OK;
}

int lm_wait_ready(lm_instance *inst, int timeout_ms, uint64_t *ready_ns, char *err) {
    uint64_t deadline = lm_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        uint8_t type;
        char *buf;
        size_t len;
        if (read_frame(inst, deadline, &type, &buf, &len, err) != LM_OK) {
            if (strcmp(err, "timeout") == 0)
                lm_errf(err, "instance %s of %s did not get READY within %d ms", inst->id,
                        inst->function, timeout_ms);
            return LM_ERR;
        }
        free(buf);
        if (type == LM_FRAME_READY) {
            *ready_ns = lm_now_ns();
            return LM_OK;
        }
        if (type != LM_FRAME_LOG)
            return lm_errf(err, "instance %s sent frame type %u before READY", inst->id, type);
    }
}

static int serve_storage(lm_instance *inst, lm_store *store, uint8_t type, const char *p,
                         size_t len, lm_call_result *res, char *err) {
    char msg[LM_ERRLEN];
    uint64_t t0 = lm_now_ns();
    res->storage_calls++;
    if (!store) {
        snprintf(msg, sizeof(msg),
                 "no Redis for this instance: give --redis HOST:PORT, or use \"storage\":\"file\" "
                 "with a data directory");
        return send_frame(inst, LM_FRAME_STORAGE_ERROR, msg, strlen(msg), err);
    }
    char key[600];
    const char *value = NULL;
    size_t vlen = 0;
    if (type == LM_FRAME_GET) {
        if (len >= sizeof(key)) return lm_errf(err, "instance %s: GET key too long", inst->id);
        memcpy(key, p, len);
        key[len] = 0;
    } else {
        uint32_t klen = len >= 4 ? lm_get_u32((const uint8_t *)p) : UINT32_MAX;
        if (klen >= sizeof(key) || 4 + (size_t)klen > len)
            return lm_errf(err, "instance %s sent a malformed PUT", inst->id);
        memcpy(key, p + 4, klen);
        key[klen] = 0;
        value = p + 4 + klen;
        vlen = len - 4 - klen;
    }
    int rc;
    if (type == LM_FRAME_GET) {
        char *data = NULL;
        size_t dlen = 0;
        int g = store->get(store, key, &data, &dlen, msg);
        res->storage_ns += lm_now_ns() - t0;
        if (g == 0) {
            if (dlen > LM_FRAME_MAX) {
                snprintf(msg, sizeof(msg), "object '%.200s' has %zu bytes, past the frame limit",
                         key, dlen);
                rc = send_frame(inst, LM_FRAME_STORAGE_ERROR, msg, strlen(msg), err);
            } else {
                rc = send_frame(inst, LM_FRAME_VALUE, data, dlen, err);
                res->storage_read_bytes += dlen;
            }
            free(data);
        } else if (g == 1) {
            rc = send_frame(inst, LM_FRAME_NOT_FOUND, NULL, 0, err);
        } else {
            rc = send_frame(inst, LM_FRAME_STORAGE_ERROR, msg, strlen(msg), err);
        }
    } else {
        int p_rc = store->put(store, key, value, vlen, msg);
        res->storage_ns += lm_now_ns() - t0;
        if (p_rc == LM_OK) res->storage_write_bytes += vlen;
        rc = p_rc == LM_OK ? send_frame(inst, LM_FRAME_STORED, NULL, 0, err)
                           : send_frame(inst, LM_FRAME_STORAGE_ERROR, msg, strlen(msg), err);
    }
    return rc;
}

int lm_call(lm_instance *inst, const char *body, size_t len, lm_store *store, int timeout_ms,
            lm_log_fn log, void *log_arg, lm_call_result *res, char *err) {
    memset(res, 0, sizeof(*res));
    if (len > LM_FRAME_MAX)
        return lm_errf(err, "request body of %zu bytes is past the frame limit of %u bytes", len,
                       LM_FRAME_MAX);
    uint64_t deadline = lm_now_ns() + (uint64_t)timeout_ms * 1000000u;
    res->sent_ns = lm_now_ns();
    if (send_frame(inst, LM_FRAME_INVOKE, body, len, err) != LM_OK) return LM_ERR;
    for (;;) {
        uint8_t type;
        char *buf;
        size_t n;
        if (read_frame(inst, deadline, &type, &buf, &n, err) != LM_OK) {
            if (strcmp(err, "timeout") == 0)
                lm_errf(err, "instance %s of %s did not answer within %d ms", inst->id,
                        inst->function, timeout_ms);
            return LM_ERR;
        }
        int rc = LM_OK;
        switch (type) {
        case LM_FRAME_RESULT: {
            const uint8_t *b;
            size_t blen;
            res->result_ns = lm_now_ns();
            if (lm_result_decode((const uint8_t *)buf, n, &res->status, res->probes, &b, &blen)) {
                free(buf);
                return lm_errf(err, "instance %s sent a truncated RESULT", inst->id);
            }
            memmove(buf, b, blen);
            buf[blen] = 0;
            res->body = buf;
            res->body_len = blen;
            return LM_OK;
        }
        case LM_FRAME_LOG:
            if (log) log(log_arg, buf, n);
            break;
        case LM_FRAME_GET:
        case LM_FRAME_PUT: rc = serve_storage(inst, store, type, buf, n, res, err); break;
        default: rc = lm_errf(err, "instance %s sent unexpected frame type %u", inst->id, type);
        }
        free(buf);
        if (rc != LM_OK) return LM_ERR;
    }
}

void lm_call_result_free(lm_call_result *res) {
    if (!res) return;
    free(res->body);
    res->body = NULL;
}
