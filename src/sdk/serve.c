/* serve.c -- the instance loop: READY, then INVOKE -> RESULT until stdin
 * closes. Redis storage goes to the host over the channel; file storage is
 * read and written here, under the data directory the instance was given
 * (LUMOS_DATA_DIR: a preopened directory under Wasm, a mount in a container). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "proto/mark.h"

#define CHAN_IN 0
#define CHAN_OUT 1

static int chan_get(int *fatal, const char *key, uint8_t **data, size_t *len, char *err,
                    size_t errlen) {
    if (lm_frame_write(CHAN_OUT, LM_FRAME_GET, key, strlen(key), NULL, 0) != 0) {
        *fatal = 1;
        snprintf(err, errlen, "channel closed");
        return -1;
    }
    uint8_t *buf = NULL, type = 0;
    size_t cap = 0;
    if (lm_frame_read(CHAN_IN, &type, &buf, &cap, len, err, errlen) != 0) {
        free(buf);
        *fatal = 1;
        return -1;
    }
    if (type == LM_FRAME_VALUE) {
        *data = buf;
        return 0;
    }
    int rc = -1;
    if (type == LM_FRAME_NOT_FOUND)
        rc = 1;
    else if (type == LM_FRAME_STORAGE_ERROR)
        snprintf(err, errlen, "%.*s", (int)*len, (const char *)buf);
    else {
        snprintf(err, errlen, "unexpected frame type %u in reply to GET", type);
        *fatal = 1;
    }
    free(buf);
    return rc;
}

static int chan_put(int *fatal, const char *key, const void *data, size_t len, char *err,
                    size_t errlen) {
    uint8_t head[4 + 512];
    size_t klen = strlen(key);
    lm_put_u32(head, (uint32_t)klen);
    memcpy(head + 4, key, klen);
    if (lm_frame_write(CHAN_OUT, LM_FRAME_PUT, head, 4 + klen, data, len) != 0) {
        snprintf(err, errlen, "channel closed or value past the frame limit");
        *fatal = 1;
        return -1;
    }
    uint8_t *buf = NULL, type = 0;
    size_t cap = 0, n = 0;
    if (lm_frame_read(CHAN_IN, &type, &buf, &cap, &n, err, errlen) != 0) {
        free(buf);
        *fatal = 1;
        return -1;
    }
    int rc = -1;
    if (type == LM_FRAME_STORED)
        rc = 0;
    else if (type == LM_FRAME_STORAGE_ERROR)
        snprintf(err, errlen, "%.*s", (int)n, (const char *)buf);
    else {
        snprintf(err, errlen, "unexpected frame type %u in reply to PUT", type);
        *fatal = 1;
    }
    free(buf);
    return rc;
}

static int file_path(char *path, size_t n, const char *key, char *err, size_t errlen) {
    const char *dir = getenv("LUMOS_DATA_DIR");
    if (!dir || !*dir) {
        snprintf(err, errlen, "this instance has no data directory (LUMOS_DATA_DIR)");
        return -1;
    }
    if ((size_t)snprintf(path, n, "%s/%s", dir, key) >= n) {
        snprintf(err, errlen, "path too long");
        return -1;
    }
    return 0;
}

static int file_get(const char *key, uint8_t **data, size_t *len, char *err, size_t errlen) {
    char path[1024];
    if (file_path(path, sizeof(path), key, err, errlen) != 0) return -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT) return 1;
        snprintf(err, errlen, "open %s: %s", key, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s is not a regular file", key);
        return -1;
    }
    size_t size = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        snprintf(err, errlen, "out of memory for %zu bytes", size);
        return -1;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(buf);
        snprintf(err, errlen, "short read of %s", key);
        return -1;
    }
    buf[size] = 0;
    *data = buf;
    *len = size;
    return 0;
}

static int file_put(const char *key, const void *data, size_t len, char *err, size_t errlen) {
    char path[1024];
    if (file_path(path, sizeof(path), key, err, errlen) != 0) return -1;
    /* Create the key's parent directories inside the data directory. */
    size_t base = strlen(path) - strlen(key);
    for (char *p = path + base; (p = strchr(p, '/')) != NULL; p++) {
        *p = 0;
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST) {
            snprintf(err, errlen, "mkdir for %s: %s", key, strerror(errno));
            return -1;
        }
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "create %s: %s", key, strerror(errno));
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    int rc = close(fd);
    if (done != len || rc != 0) {
        snprintf(err, errlen, "write %s: %s", key, strerror(errno));
        return -1;
    }
    return 0;
}

struct serve_state {
    int fatal; /* the channel broke: stop after this invocation */
};

static int serve_get(void *arg, lm_storage where, const char *key, uint8_t **data, size_t *len,
                     char *err, size_t errlen) {
    struct serve_state *st = arg;
    if (where == LM_STORAGE_FILE) return file_get(key, data, len, err, errlen);
    return chan_get(&st->fatal, key, data, len, err, errlen);
}

static int serve_put(void *arg, lm_storage where, const char *key, const void *data, size_t len,
                     char *err, size_t errlen) {
    struct serve_state *st = arg;
    if (where == LM_STORAGE_FILE) return file_put(key, data, len, err, errlen);
    return chan_put(&st->fatal, key, data, len, err, errlen);
}

static void serve_log(void *arg, const char *line, size_t len) {
    (void)arg;
    lm_frame_write(CHAN_OUT, LM_FRAME_LOG, line, len, NULL, 0);
}

static int send_result(int status, const uint64_t probes[LM_PROBE_COUNT], const char *body,
                       size_t len) {
    uint8_t head[LM_RESULT_FIXED + 8 * LM_PROBE_COUNT];
    lm_put_u16(head, (uint16_t)status);
    lm_put_u16(head + 2, LM_PROBE_COUNT);
    for (int i = 0; i < LM_PROBE_COUNT; i++)
        lm_put_u64(head + LM_RESULT_FIXED + 8 * i, probes[i]);
    return lm_frame_write(CHAN_OUT, LM_FRAME_RESULT, head, sizeof(head), body, len);
}

static void send_error(int status, const char *code, const char *message) {
    lm_jw w;
    lm_jw_init(&w);
    lm_jw_obj_begin(&w);
    lm_jw_key(&w, "status");
    lm_jw_str(&w, "error");
    lm_jw_key(&w, "error");
    lm_jw_str(&w, code);
    lm_jw_key(&w, "message");
    lm_jw_str(&w, message);
    lm_jw_obj_end(&w);
    uint64_t probes[LM_PROBE_COUNT] = {0};
    send_result(status, probes, w.buf ? w.buf : "", w.len);
    lm_jw_free(&w);
}

/* Sends the guest's marks (its main, READY about to go) and READY in one
 * write, so the mark is taken as near to READY as it can be. 0 or -1. */
static int send_ready(const lm_function *fn, uint64_t main_ns) {
    uint8_t buf[2 * LM_FRAME_HEADER + 2 * LM_MARK_RECORD + 256];
    char ready[256];
    int n = snprintf(ready, sizeof(ready), "{\"function\":\"%s\",\"sdk\":1}", fn->name);
    if (n < 0 || (size_t)n >= sizeof(ready)) return -1;
    uint64_t kinds[2] = {LM_MARK_GUEST_MAIN, LM_MARK_READY_SENT};
    uint64_t ts[2] = {main_ns, 0};
    size_t off = LM_FRAME_HEADER + 2 * LM_MARK_RECORD;
    lm_frame_encode(buf + off, LM_FRAME_READY, (uint32_t)n);
    memcpy(buf + off + LM_FRAME_HEADER, ready, (size_t)n);
    size_t len = off + LM_FRAME_HEADER + (size_t)n;
    ts[1] = lm_mark_now();
    lm_mark_frame(buf, kinds, ts, 2);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(CHAN_OUT, buf + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        done += (size_t)w;
    }
    return 0;
}

int lm_serve(const lm_function *fn) {
    uint64_t main_ns = lm_mark_now(); /* the guest's main: its own start-up begins */
    const char *runtime = getenv("LUMOS_RUNTIME");
    if (!runtime || !*runtime) runtime = "unknown";
    if (send_ready(fn, main_ns) != 0) return 2;

    struct serve_state st = {0};
    lm__storage_ops ops = {serve_get, serve_put, serve_log, &st};
    uint8_t *buf = NULL;
    size_t cap = 0;
    lm_jw out;
    lm_jw_init(&out);
    int rc = 0;
    for (;;) {
        uint8_t type = 0;
        size_t len = 0;
        char err[256];
        int r = lm_frame_read(CHAN_IN, &type, &buf, &cap, &len, err, sizeof(err));
        if (r == -2) {
            char msg[128];
            snprintf(msg, sizeof(msg), "request frame is past the limit of %u bytes", LM_FRAME_MAX);
            send_error(413, "payload_too_large", msg);
            continue;
        }
        if (r != 0) {
            if (strcmp(err, "end of input") != 0) {
                fprintf(stderr, "lumos-sdk: %s\n", err);
                rc = 2;
            }
            break;
        }
        if (type != LM_FRAME_INVOKE) {
            fprintf(stderr, "lumos-sdk: unexpected frame type %u while idle\n", type);
            rc = 2;
            break;
        }
        uint64_t probes[LM_PROBE_COUNT];
        int status = lm__sdk_invoke(fn, runtime, &ops, (const char *)buf, len, &out, probes);
        if (st.fatal) {
            fprintf(stderr, "lumos-sdk: the channel broke during a storage call\n");
            rc = 2;
            break;
        }
        if (out.len + LM_RESULT_FIXED + 8 * LM_PROBE_COUNT > LM_FRAME_MAX) {
            char msg[128];
            snprintf(msg, sizeof(msg), "reply of %zu bytes is past the frame limit of %u bytes",
                     out.len, LM_FRAME_MAX);
            send_error(500, "reply_too_large", msg);
        } else if (send_result(status, probes, out.buf ? out.buf : "", out.len) != 0) {
            rc = 2;
            break;
        }
        /* Give back memory after a large reply, so an idle instance stays small. */
        if (out.cap > (16u << 20)) {
            lm_jw_free(&out);
            lm_jw_init(&out);
        }
        if (cap > (16u << 20)) {
            free(buf);
            buf = NULL;
            cap = 0;
        }
    }
    free(buf);
    lm_jw_free(&out);
    return rc;
}
