/* fake_runtime.c -- in-process instances speaking real frames over pipes,
 * for unit tests of the pool (see fake_runtime.h). */
#include "fake_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/frame.h"

#define MAX_FAKES 8

typedef struct fake_rt {
    lm_runtime rt;
    char name[32];
    lm_fake_opts opts;
    lm_fake_counts counts; /* under mu */
} fake_rt;

/* One instance: its thread and the guest's ends of the pipes. */
typedef struct fake_inst {
    fake_rt *frt;
    char id[32];
    char function[64];
    int in, out; /* guest reads in, writes out; -1 once closed */
    int bad;     /* this start misbehaves as opts says */
    pthread_t thread;
    struct fake_inst *next;
} fake_inst;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static fake_rt fakes[MAX_FAKES];
static int nfakes;
static fake_inst *instances; /* started, not yet cleaned up; under mu */

/* Adds one to a counter of a fake_rt. */
static void bump(int *counter) {
    pthread_mutex_lock(&mu);
    ++*counter;
    pthread_mutex_unlock(&mu);
}

/* A script's switch: true or a non-zero integer. */
static int flag(const json_t *req, const char *key) {
    const json_t *v = json_object_get(req, key);
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
}

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Waits up to ms (-1: for ever) for the host to close the channel.
 * Returns 1 when it did (EOF, or anything unexpected on the input), 0 when
 * the time passed. */
static int wait_eof(int fd, int ms) {
    uint64_t deadline = ms < 0 ? 0 : lm_now_ns() + (uint64_t)ms * 1000000u;
    for (;;) {
        int left = -1;
        if (ms >= 0) {
            uint64_t now = lm_now_ns();
            if (now >= deadline) return 0;
            left = (int)((deadline - now + 999999) / 1000000);
        }
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, left);
        if (n < 0 && errno == EINTR) continue;
        if (n != 0) return 1;
    }
}

static void send_result(fake_inst *fi, int status, const uint64_t *probes, const char *body) {
    uint8_t head[LM_RESULT_FIXED + 8 * LM_PROBE_COUNT];
    lm_put_u16(head, (uint16_t)status);
    lm_put_u16(head + 2, LM_PROBE_COUNT);
    for (int i = 0; i < LM_PROBE_COUNT; i++)
        lm_put_u64(head + LM_RESULT_FIXED + 8 * i, probes[i]);
    if (lm_frame_write(fi->out, LM_FRAME_RESULT, head, sizeof(head), body, strlen(body)) == 0)
        bump(&fi->frt->counts.answered);
}

/* One request: returns 0 to go on, -1 when the instance ends. */
static int serve(fake_inst *fi, const uint8_t *body, size_t len, int seq, uint8_t **buf,
                 size_t *cap) {
    uint64_t t0 = lm_now_ns();
    json_t *req = json_loadb((const char *)body, len, 0, NULL);
    if (!json_is_object(req)) {
        json_decref(req);
        req = json_object();
    }
    json_t *reply = json_pack("{s:s,s:i}", "instance", fi->id, "seq", seq);
    json_t *tag = json_object_get(req, "tag");
    if (tag) json_object_set(reply, "tag", tag);
    int status = 200;
    uint64_t probes[LM_PROBE_COUNT] = {0};
    uint64_t t1 = lm_now_ns();
    const char *key = json_string_value(json_object_get(req, "get"));
    if (key) {
        char err[256];
        uint8_t type;
        size_t n;
        bump(&fi->frt->counts.storage_calls);
        if (lm_frame_write(fi->out, LM_FRAME_GET, key, strlen(key), NULL, 0) != 0 ||
            lm_frame_read(fi->in, &type, buf, cap, &n, err, sizeof(err)) != 0)
            goto end;
        probes[LM_PROBE_IO_CALLS] = 1;
        if (type == LM_FRAME_VALUE) {
            probes[LM_PROBE_IO_READ_BYTES] = n;
            json_object_set_new(reply, "value", json_stringn((const char *)*buf, n));
        } else if (type == LM_FRAME_NOT_FOUND) {
            status = 404;
        } else {
            status = 500;
            json_object_set_new(reply, "error", json_stringn((const char *)*buf, n));
        }
    }
    uint64_t t2 = lm_now_ns();
    json_int_t ms = json_integer_value(json_object_get(req, "ms"));
    if (ms > 0 && wait_eof(fi->in, (int)ms)) goto end;
    if (flag(req, "crash")) {
        close_fd(&fi->in);
        close_fd(&fi->out);
        goto end;
    }
    if (flag(req, "hang")) {
        wait_eof(fi->in, -1);
        goto end;
    }
    if (flag(req, "garbage")) {
        static const char junk[] = "not a frame, a stray printf\n";
        if (write(fi->out, junk, sizeof(junk) - 1) < 0) goto end;
        wait_eof(fi->in, -1);
        goto end;
    }
    json_t *s = json_object_get(req, "status");
    if (json_is_integer(s)) status = (int)json_integer_value(s);
    uint64_t t3 = lm_now_ns();
    char *text = json_dumps(reply, JSON_COMPACT);
    uint64_t t4 = lm_now_ns();
    probes[LM_PROBE_DESER_NS] = t1 - t0;
    probes[LM_PROBE_IO_NS] = t2 - t1;
    probes[LM_PROBE_COMPUTE_NS] = t3 - t2;
    probes[LM_PROBE_SER_NS] = t4 - t3;
    probes[LM_PROBE_TOTAL_NS] = t4 - t0;
    if (text) send_result(fi, status, probes, text);
    free(text);
    int go_on = flag(req, "exit") ? -1 : 0;
    json_decref(req);
    json_decref(reply);
    return go_on;
end:
    json_decref(req);
    json_decref(reply);
    return -1;
}

static void *guest(void *arg) {
    fake_inst *fi = arg;
    fake_rt *f = fi->frt;
    uint8_t *buf = NULL;
    size_t cap = 0, len;
    if (fi->bad && f->opts.die_before_ready) goto out;
    if (f->opts.ready_delay_ms > 0 && wait_eof(fi->in, f->opts.ready_delay_ms)) goto out;
    if (fi->bad && f->opts.never_ready) {
        wait_eof(fi->in, -1);
        goto out;
    }
    char ready[128];
    snprintf(ready, sizeof(ready), "{\"function\":\"%s\",\"sdk\":1}", fi->function);
    if (lm_frame_write(fi->out, LM_FRAME_READY, ready, strlen(ready), NULL, 0) != 0) goto out;
    bump(&f->counts.ready);
    for (int seq = 1;; seq++) {
        uint8_t type;
        char err[256];
        if (lm_frame_read(fi->in, &type, &buf, &cap, &len, err, sizeof(err)) != 0) break;
        if (type != LM_FRAME_INVOKE) break; /* as the SDK: the channel is broken */
        bump(&f->counts.requests);
        if (serve(fi, buf, len, seq, &buf, &cap) != 0) break;
    }
out:
    free(buf);
    close_fd(&fi->in);
    close_fd(&fi->out);
    bump(&f->counts.ended);
    return NULL;
}

static int fake_available(const lm_runtime *rt, char *err) { return LM_OK; }

static void fake_version(const lm_runtime *rt, char *out, size_t n) { snprintf(out, n, "fake 1"); }

static int fake_start(const lm_runtime *rt, const char *fn, const lm_start_opts *opts,
                      lm_instance *inst, char *err) {
    fake_rt *f = (fake_rt *)rt->data;
    pthread_mutex_lock(&mu);
    int n = ++f->counts.starts;
    pthread_mutex_unlock(&mu);
    int bad = f->opts.times == 0 || n <= f->opts.times;
    if (bad && f->opts.refuse_start) {
        bump(&f->counts.refused);
        return lm_errf(err, "fake: start refused");
    }
    fake_inst *fi = calloc(1, sizeof(*fi));
    int to_guest[2] = {-1, -1}, from_guest[2] = {-1, -1};
    if (!fi || pipe2(to_guest, O_CLOEXEC) != 0 || pipe2(from_guest, O_CLOEXEC) != 0) {
        int e = errno;
        free(fi);
        for (int i = 0; i < 2; i++) {
            close_fd(&to_guest[i]);
            close_fd(&from_guest[i]);
        }
        return lm_errf(err, "fake: no pipes: %s", strerror(e));
    }
    fi->frt = f;
    fi->bad = bad;
    snprintf(fi->id, sizeof(fi->id), "%s", inst->id);
    snprintf(fi->function, sizeof(fi->function), "%s", fn);
    fi->in = to_guest[0];
    fi->out = from_guest[1];
    inst->child.in = to_guest[1];
    inst->child.out = from_guest[0];
    inst->child.pid = -1;
    inst->spawn_ns = lm_now_ns();
    if (pthread_create(&fi->thread, NULL, guest, fi) != 0) {
        close_fd(&fi->in);
        close_fd(&fi->out);
        close_fd(&inst->child.in);
        close_fd(&inst->child.out);
        free(fi);
        return lm_errf(err, "fake: cannot start a thread");
    }
    pthread_mutex_lock(&mu);
    fi->next = instances;
    instances = fi;
    f->counts.running++;
    pthread_mutex_unlock(&mu);
    return LM_OK;
}

/* After lm_child_stop closed the host's ends: the thread sees EOF. */
static void fake_cleanup(const lm_runtime *rt, lm_instance *inst) {
    fake_rt *f = (fake_rt *)rt->data;
    fake_inst *fi = NULL;
    pthread_mutex_lock(&mu);
    for (fake_inst **pp = &instances; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->id, inst->id) == 0) {
            fi = *pp;
            *pp = fi->next;
            break;
        }
    pthread_mutex_unlock(&mu);
    if (!fi) return; /* cleaned up already */
    pthread_join(fi->thread, NULL);
    free(fi);
    pthread_mutex_lock(&mu);
    f->counts.stopped++;
    f->counts.running--;
    pthread_mutex_unlock(&mu);
}

const lm_runtime *lm_fake_runtime_add(const char *name, const lm_fake_opts *opts, char *err) {
    if (nfakes == MAX_FAKES) {
        lm_errf(err, "fake: at most %d fake runtimes", MAX_FAKES);
        return NULL;
    }
    fake_rt *f = &fakes[nfakes];
    memset(f, 0, sizeof(*f));
    if ((size_t)snprintf(f->name, sizeof(f->name), "%s", name) >= sizeof(f->name)) {
        lm_errf(err, "fake: runtime name '%s' is too long", name);
        return NULL;
    }
    if (opts) f->opts = *opts;
    f->rt = (lm_runtime){.name = f->name,
                         .description = "an in-process fake for unit tests",
                         .target = "native",
                         .available = fake_available,
                         .version = fake_version,
                         .start = fake_start,
                         .cleanup = fake_cleanup,
                         .data = f,
                         .own_cgroup = 1};
    if (lm_runtime_register(&f->rt, err) != LM_OK) return NULL;
    nfakes++;
    return &f->rt;
}

void lm_fake_counts_get(const lm_runtime *rt, lm_fake_counts *out) {
    const fake_rt *f = rt->data;
    pthread_mutex_lock(&mu);
    *out = f->counts;
    pthread_mutex_unlock(&mu);
}

void lm_fake_reset(const lm_runtime *rt) {
    fake_rt *f = (fake_rt *)rt->data;
    pthread_mutex_lock(&mu);
    int running = f->counts.running;
    memset(&f->counts, 0, sizeof(f->counts));
    f->counts.running = running;
    pthread_mutex_unlock(&mu);
}
