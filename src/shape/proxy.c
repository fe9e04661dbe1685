/* proxy.c -- the userspace TCP shaping proxy (shape.h, docs/network.md):
 * one thread with its own libevent base accepts clients, connects each to
 * the upstream and moves bytes both ways. Every read is one message of the
 * model: it gets a delivery time from its direction's lm_shape_model (a
 * byte stream: fifo, loss as retransmit delay) and waits in the
 * direction's queue until then. A read due at once with nothing queued is
 * written straight away. A direction whose condition is none and that
 * holds nothing skips the model altogether: large reads written at once. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "shape/internal.h"
#include "util/util.h"

#define RBUF (256 * 1024)         /* the largest read (unshaped; shaped: chunk_max) */
#define CHUNK_DEFAULT (16 * 1024) /* the largest shaped message by default */
#define CHUNK_LIMIT (64 * 1024)   /* and at most */
#define QUEUE_BASE (8u << 20)     /* bytes a direction may hold before it stops reading */
#define QUEUE_MAX (64u << 20)
#define PASS_BATCH 16 /* full unshaped reads per wake-up before yielding to the loop */

typedef struct chunk {
    struct chunk *next;
    uint64_t at_ns;
    size_t len, off;
    char data[];
} chunk;

struct conn;

typedef struct {
    struct conn *conn;
    int idx; /* 0: up (client -> upstream), 1: down */
    int from, to;
    struct event *rd, *wr, *tm;
    int tfd; /* tm's timerfd: armed only while a chunk waits for its time */
    lm_shape_model model;
    chunk *head, *tail;
    size_t queued;
    int reading, eof, shut;
} dir;

typedef struct conn {
    lm_shape_proxy *p;
    int cfd, ufd;
    int connected;
    dir d[2];
    struct conn *prev, *next;
} conn;

struct lm_shape_proxy {
    struct event_base *base;
    pthread_t thread;
    int ctl[2]; /* the control pipe: 's' new schedules, 'q' quit */
    struct event *ctl_ev, *accept_ev;
    int lfd;
    char addr[160];
    struct sockaddr_storage up;
    socklen_t uplen;
    lm_shape_sched sched[2]; /* the current schedules (owned) */
    uint64_t start_ns;
    uint64_t seed;
    size_t chunk_max;
    conn *conns;
    char *rbuf;
    pthread_mutex_t mu; /* guards st and pend */
    lm_shape_stats st;
    lm_shape_sched pend[2];
    int pending;
};

static void set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
               sizeof one); /* fails harmlessly on unix sockets */
}

/* ---- connections ------------------------------------------------------ */

static void conn_close(conn *c) {
    lm_shape_proxy *p = c->p;
    for (int i = 0; i < 2; i++) {
        dir *d = &c->d[i];
        if (d->rd) event_free(d->rd);
        if (d->wr) event_free(d->wr);
        if (d->tm) event_free(d->tm);
        if (d->tfd >= 0) close(d->tfd);
        for (chunk *k = d->head, *n; k; k = n)
            n = k->next, free(k);
    }
    close(c->cfd);
    close(c->ufd);
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    pthread_mutex_lock(&p->mu);
    p->st.active--;
    pthread_mutex_unlock(&p->mu);
    free(c);
}

static lm_shape_dir_stats *dstats(lm_shape_proxy *p, int idx) {
    return idx ? &p->st.down : &p->st.up;
}

static size_t queue_limit(const lm_shape_cond *c) {
    /* Room for what the link holds in flight, so the proxy never caps the
     * throughput below the rate (bandwidth-delay product, twice). */
    double bdp = (double)c->rate_bps / 8 *
                 ((double)c->delay_ns + 4.0 * (double)c->jitter_ns + (double)c->reorder_gap_ns) /
                 1e9;
    double lim = QUEUE_BASE + 2 * bdp;
    return lim > QUEUE_MAX ? QUEUE_MAX : (size_t)lim;
}

/* The direction's own timerfd at the head's time (absolute, CLOCK_MONOTONIC
 * like lm_now_ns): microsecond precision without libevent's precise-timer
 * mode, which re-arms its timerfd on every wake-up even when nothing waits. */
static void arm_timer(dir *d, uint64_t now) {
    (void)now;
    uint64_t at = d->head->at_ns ? d->head->at_ns : 1; /* 0 would disarm */
    struct itimerspec its = {
        .it_value = {(time_t)(at / 1000000000ull), (long)(at % 1000000000ull)}};
    timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void stat_bytes(lm_shape_proxy *p, int idx, uint64_t n) {
    if (!n) return;
    pthread_mutex_lock(&p->mu);
    dstats(p, idx)->bytes += n;
    pthread_mutex_unlock(&p->mu);
}

static int flush(dir *d);
static int enqueue(dir *d, const char *data, size_t n, uint64_t at);

/* The sender closed its side: stop reading, and pass the end on once
 * what is queued has gone (flush). */
static void read_eof(dir *d) {
    d->eof = 1;
    event_del(d->rd);
    d->reading = 0;
    flush(d);
}

/* The unshaped path: no model, no queue, reads of up to RBUF (256 KiB)
 * written at once; reads again while a read fills the buffer (a large
 * value), up to PASS_BATCH. What a full socket does not take waits in the
 * queue, due now, until on_writable. (splice(2) through a pipe was tried
 * and measured slower here: on loopback the receiver then gets page-sized
 * fragments and a 1 MiB GET took 2.5x direct instead of 1.5x.) */
static void pass_through(dir *d) {
    conn *c = d->conn;
    lm_shape_proxy *p = c->p;
    for (int i = 0; i < PASS_BATCH; i++) {
        ssize_t n = recv(d->from, p->rbuf, RBUF, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0) {
            conn_close(c);
            return;
        }
        if (n == 0) {
            read_eof(d);
            return;
        }
        ssize_t w;
        do
            w = send(d->to, p->rbuf, (size_t)n, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            conn_close(c);
            return;
        }
        size_t off = w > 0 ? (size_t)w : 0;
        stat_bytes(p, d->idx, off);
        if (off < (size_t)n) {
            if (enqueue(d, p->rbuf + off, (size_t)n - off, lm_now_ns()) != LM_OK) {
                conn_close(c);
                return;
            }
            event_add(d->wr, NULL);
            return;
        }
        if ((size_t)n < RBUF) return; /* drained for now, most likely */
    }
}

/* Writes what is due; returns -1 when the connection was closed. */
static int flush(dir *d) {
    conn *c = d->conn;
    lm_shape_proxy *p = c->p;
    if (d->idx == 0 && !c->connected) return 0;
    uint64_t now = lm_now_ns(), sent = 0;
    while (d->head && d->head->at_ns <= now) {
        chunk *k = d->head;
        ssize_t w = send(d->to, k->data + k->off, k->len - k->off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                event_add(d->wr, NULL);
                break;
            }
            if (errno == EINTR) continue;
            conn_close(c);
            return -1;
        }
        sent += (uint64_t)w;
        k->off += (size_t)w;
        if (k->off < k->len) continue;
        d->head = k->next;
        if (!d->head) d->tail = NULL;
        d->queued -= k->len;
        free(k);
    }
    if (sent) {
        pthread_mutex_lock(&p->mu);
        dstats(p, d->idx)->bytes += sent;
        pthread_mutex_unlock(&p->mu);
    }
    if (d->head && d->head->at_ns > now) arm_timer(d, now);
    if (!d->head && d->eof && !d->shut) {
        shutdown(d->to, SHUT_WR);
        d->shut = 1;
        if (c->d[0].shut && c->d[1].shut) {
            conn_close(c);
            return -1;
        }
    }
    const lm_shape_cond *cond = lm_shape_sched_at(d->model.sched, now - d->model.start_ns);
    if (!d->eof && !d->reading && d->queued < queue_limit(cond)) {
        event_add(d->rd, NULL);
        d->reading = 1;
    }
    return 0;
}

static int enqueue(dir *d, const char *data, size_t n, uint64_t at) {
    chunk *k = malloc(sizeof(*k) + n);
    if (!k) return LM_ERR;
    k->next = NULL;
    k->at_ns = at;
    k->len = n;
    k->off = 0;
    memcpy(k->data, data, n);
    if (d->tail)
        d->tail->next = k;
    else
        d->head = k;
    d->tail = k;
    d->queued += n;
    return LM_OK;
}

static void on_read(evutil_socket_t fd, short what, void *arg) {
    dir *d = arg;
    conn *c = d->conn;
    lm_shape_proxy *p = c->p;
    uint64_t now = lm_now_ns();
    const lm_shape_cond *cond = lm_shape_sched_at(d->model.sched, now - d->model.start_ns);
    size_t max = RBUF;
    int none = lm_shape_cond_is_none(cond);
    /* Nothing held and nothing to shape: skip the model (a none condition
     * draws nothing from the stream and delays nothing, so the messages
     * after it get the same times). */
    if (none && !d->head && (d->idx == 1 || c->connected)) {
        pass_through(d);
        return;
    }
    if (!none) {
        max = p->chunk_max;
        if (cond->rate_bps) {
            size_t ms = (size_t)(cond->rate_bps / 8 / 1000);
            if (ms < 1500) ms = 1500;
            if (ms < max) max = ms;
        }
    }
    ssize_t n = recv(fd, p->rbuf, max, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        conn_close(c);
        return;
    }
    if (n == 0) {
        read_eof(d);
        return;
    }
    /* Unshaped bytes that must wait (behind a queue, or for the upstream's
     * connect) are due now and are no message of the model. */
    lm_shape_fate f = {.at_ns = now};
    lm_shape_dir_stats *s = dstats(p, d->idx);
    if (!none) {
        f = lm_shape_deliver(&d->model, (size_t)n, now);
        pthread_mutex_lock(&p->mu);
        s->chunks++;
        s->retransmits += f.retransmits;
        s->reordered += (uint64_t)f.reordered;
        s->drops += (uint64_t)f.dropped;
        pthread_mutex_unlock(&p->mu);
    }
    if (f.dropped) {
        /* 15 retransmits lost: TCP would give up the connection. */
        conn_close(c);
        return;
    }
    size_t off = 0;
    if (!d->head && f.at_ns <= now && (d->idx == 1 || c->connected)) {
        /* Due now and nothing ahead of it: straight through. */
        ssize_t w;
        do
            w = send(d->to, p->rbuf, (size_t)n, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            conn_close(c);
            return;
        }
        if (w > 0) {
            off = (size_t)w;
            pthread_mutex_lock(&p->mu);
            s->bytes += (uint64_t)w;
            pthread_mutex_unlock(&p->mu);
        }
        if (off == (size_t)n) return;
    }
    int was_empty = d->head == NULL;
    if (enqueue(d, p->rbuf + off, (size_t)n - off, f.at_ns) != LM_OK) {
        conn_close(c);
        return;
    }
    if (off)
        event_add(d->wr, NULL); /* the socket is full: wait until writable */
    else if (was_empty)
        arm_timer(d, now);
    if (d->queued >= queue_limit(cond)) {
        event_del(d->rd);
        d->reading = 0;
    }
}

static void on_due(evutil_socket_t fd, short what, void *arg) {
    uint64_t expirations;
    if (read(fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) return;
    flush(arg);
}

static void on_writable(evutil_socket_t fd, short what, void *arg) {
    dir *d = arg;
    conn *c = d->conn;
    if (d->idx == 0 && !c->connected) {
        int e = 0;
        socklen_t el = sizeof e;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) {
            lm_shape_proxy *p = c->p;
            pthread_mutex_lock(&p->mu);
            p->st.failed++;
            pthread_mutex_unlock(&p->mu);
            conn_close(c);
            return;
        }
        c->connected = 1;
        event_add(c->d[1].rd, NULL);
        c->d[1].reading = 1;
    }
    flush(d);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg) {
    lm_shape_proxy *p = arg;
    for (int i = 0; i < 64; i++) { /* a bounded batch per wake-up */
        int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) return;
        int ufd = socket(p->up.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        conn *c = ufd >= 0 ? calloc(1, sizeof(*c)) : NULL;
        if (!c) {
            if (ufd >= 0) close(ufd);
            close(cfd);
            continue;
        }
        set_nodelay(cfd);
        set_nodelay(ufd);
        c->p = p, c->cfd = cfd, c->ufd = ufd;
        pthread_mutex_lock(&p->mu);
        uint64_t k = p->st.connections++;
        p->st.active++;
        pthread_mutex_unlock(&p->mu);
        c->next = p->conns;
        if (p->conns) p->conns->prev = c;
        p->conns = c;
        for (int j = 0; j < 2; j++) {
            dir *d = &c->d[j];
            d->conn = c, d->idx = j;
            d->tfd = -1;
            d->from = j ? ufd : cfd;
            d->to = j ? cfd : ufd;
            d->rd = event_new(p->base, d->from, EV_READ | EV_PERSIST, on_read, d);
            d->wr = event_new(p->base, d->to, EV_WRITE, on_writable, d);
            d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
            d->tm =
                d->tfd >= 0 ? event_new(p->base, d->tfd, EV_READ | EV_PERSIST, on_due, d) : NULL;
            if (d->tm) event_add(d->tm, NULL);
            lm_shape_model_init(&d->model, &p->sched[j], p->start_ns, p->seed + 2 * k + (uint64_t)j,
                                1, LM_SHAPE_RETRANSMIT);
        }
        if (!c->d[0].rd || !c->d[0].wr || !c->d[0].tm || !c->d[1].rd || !c->d[1].wr ||
            !c->d[1].tm) {
            conn_close(c);
            continue;
        }
        int rc = connect(ufd, (struct sockaddr *)&p->up, p->uplen);
        if (rc < 0 && errno != EINPROGRESS) {
            pthread_mutex_lock(&p->mu);
            p->st.failed++;
            pthread_mutex_unlock(&p->mu);
            conn_close(c);
            continue;
        }
        event_add(c->d[0].rd, NULL);
        c->d[0].reading = 1;
        event_add(c->d[0].wr, NULL); /* writable = connected (or failed) */
    }
}

/* ---- control ----------------------------------------------------------- */

static void apply_pending(lm_shape_proxy *p) {
    pthread_mutex_lock(&p->mu);
    if (!p->pending) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    for (int j = 0; j < 2; j++) {
        lm_shape_sched_free(&p->sched[j]);
        p->sched[j] = p->pend[j];
        memset(&p->pend[j], 0, sizeof(p->pend[j]));
    }
    p->pending = 0;
    pthread_mutex_unlock(&p->mu);
    p->start_ns = lm_now_ns();
    for (conn *c = p->conns; c; c = c->next)
        for (int j = 0; j < 2; j++)
            c->d[j].model.start_ns = p->start_ns;
}

static void on_ctl(evutil_socket_t fd, short what, void *arg) {
    lm_shape_proxy *p = arg;
    char b[16];
    ssize_t n = read(fd, b, sizeof b);
    for (ssize_t i = 0; i < n; i++) {
        if (b[i] == 's') apply_pending(p);
        if (b[i] == 'q') event_base_loopbreak(p->base);
    }
}

static void *run(void *arg) {
    lm_shape_proxy *p = arg;
    event_base_dispatch(p->base);
    return NULL;
}

/* ---- the public calls -------------------------------------------------- */

static void destroy(lm_shape_proxy *p) {
    while (p->conns)
        conn_close(p->conns);
    if (p->accept_ev) event_free(p->accept_ev);
    if (p->ctl_ev) event_free(p->ctl_ev);
    if (p->base) event_base_free(p->base);
    if (p->lfd >= 0) close(p->lfd);
    if (p->ctl[0] >= 0) close(p->ctl[0]);
    if (p->ctl[1] >= 0) close(p->ctl[1]);
    for (int j = 0; j < 2; j++)
        lm_shape_sched_free(&p->sched[j]), lm_shape_sched_free(&p->pend[j]);
    free(p->rbuf);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static int listen_on(lm_shape_proxy *p, const char *addr, char *err) {
    struct sockaddr_storage ss;
    socklen_t len;
    if (lm__shape_addr_parse(addr, &ss, &len, err) != LM_OK) return LM_ERR;
    p->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->lfd < 0) return lm_errf(err, "listen %s: socket: %s", addr, strerror(errno));
    int one = 1;
    if (ss.ss_family != AF_UNIX) setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(p->lfd, (struct sockaddr *)&ss, len) < 0)
        return lm_errf(err, "listen %s: bind: %s", addr, strerror(errno));
    if (listen(p->lfd, 128) < 0) return lm_errf(err, "listen %s: %s", addr, strerror(errno));
    return LM_OK;
}

lm_shape_proxy *lm_shape_proxy_start(const lm_shape_proxy_opts *o, char *err) {
    lm_shape_proxy *p = calloc(1, sizeof(*p));
    if (!p) {
        lm_errf(err, "shape proxy: out of memory");
        return NULL;
    }
    p->lfd = -1, p->ctl[0] = p->ctl[1] = -1;
    pthread_mutex_init(&p->mu, NULL);
    p->seed = o->seed;
    p->chunk_max = o->chunk_max ? o->chunk_max : CHUNK_DEFAULT;
    if (p->chunk_max > CHUNK_LIMIT) p->chunk_max = CHUNK_LIMIT;
    if (lm__shape_addr_parse(o->upstream, &p->up, &p->uplen, err) != LM_OK) goto fail;
    if (lm__shape_sched_copy(o->up, &p->sched[0], err) != LM_OK ||
        lm__shape_sched_copy(o->down ? o->down : o->up, &p->sched[1], err) != LM_OK)
        goto fail;
    if (o->listen_fd >= 0)
        p->lfd = o->listen_fd;
    else if (listen_on(p, o->listen_addr, err) != LM_OK)
        goto fail;
    set_nonblock(p->lfd);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(p->lfd, (struct sockaddr *)&ss, &sl) < 0) {
        lm_errf(err, "shape proxy: the listening socket: %s", strerror(errno));
        goto fail;
    }
    lm__shape_addr_format(&ss, p->addr, sizeof p->addr);
    p->rbuf = malloc(RBUF);
    if (!p->rbuf || pipe2(p->ctl, O_CLOEXEC | O_NONBLOCK) < 0) {
        lm_errf(err, "shape proxy: out of memory or file descriptors");
        goto fail;
    }
    /* No precise-timer mode: each direction has its own timerfd (arm_timer). */
    p->base = event_base_new();
    if (p->base) {
        p->ctl_ev = event_new(p->base, p->ctl[0], EV_READ | EV_PERSIST, on_ctl, p);
        p->accept_ev = event_new(p->base, p->lfd, EV_READ | EV_PERSIST, on_accept, p);
    }
    if (!p->ctl_ev || !p->accept_ev) {
        lm_errf(err, "shape proxy: cannot make its event base");
        goto fail;
    }
    event_add(p->ctl_ev, NULL);
    event_add(p->accept_ev, NULL);
    p->start_ns = lm_now_ns();
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        lm_errf(err, "shape proxy: cannot start its thread");
        goto fail;
    }
    return p;
fail:
    if (o->listen_fd >= 0 && p->lfd == o->listen_fd) p->lfd = -1; /* not ours on failure */
    destroy(p);
    return NULL;
}

const char *lm_shape_proxy_addr(const lm_shape_proxy *p) { return p->addr; }

void lm_shape_proxy_stats(lm_shape_proxy *p, lm_shape_stats *out) {
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    pthread_mutex_unlock(&p->mu);
}

int lm_shape_proxy_set(lm_shape_proxy *p, const lm_shape_sched *up, const lm_shape_sched *down,
                       char *err) {
    lm_shape_sched a, b;
    if (lm__shape_sched_copy(up, &a, err) != LM_OK) return LM_ERR;
    if (lm__shape_sched_copy(down ? down : up, &b, err) != LM_OK) {
        lm_shape_sched_free(&a);
        return LM_ERR;
    }
    pthread_mutex_lock(&p->mu);
    lm_shape_sched_free(&p->pend[0]);
    lm_shape_sched_free(&p->pend[1]);
    p->pend[0] = a, p->pend[1] = b;
    p->pending = 1;
    pthread_mutex_unlock(&p->mu);
    char s = 's';
    if (write(p->ctl[1], &s, 1) != 1) return lm_errf(err, "shape proxy: cannot reach its thread");
    return LM_OK;
}

void lm_shape_proxy_stop(lm_shape_proxy *p) {
    if (!p) return;
    char q = 'q';
    if (write(p->ctl[1], &q, 1) == 1) pthread_join(p->thread, NULL);
    destroy(p);
}

char *lm_shape_stats_json(const lm_shape_stats *s, char *out, size_t n) {
    const lm_shape_dir_stats *d[2] = {&s->up, &s->down};
    char dirs[2][256];
    for (int i = 0; i < 2; i++)
        snprintf(dirs[i], sizeof dirs[i],
                 "{\"bytes\":%llu,\"chunks\":%llu,\"drops\":%llu,\"retransmits\":%llu,"
                 "\"reordered\":%llu}",
                 (unsigned long long)d[i]->bytes, (unsigned long long)d[i]->chunks,
                 (unsigned long long)d[i]->drops, (unsigned long long)d[i]->retransmits,
                 (unsigned long long)d[i]->reordered);
    snprintf(out, n, "{\"connections\":%llu,\"active\":%llu,\"failed\":%llu,\"up\":%s,\"down\":%s}",
             (unsigned long long)s->connections, (unsigned long long)s->active,
             (unsigned long long)s->failed, dirs[0], dirs[1]);
    return out;
}
