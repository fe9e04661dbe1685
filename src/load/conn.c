/* conn.c -- one keep-alive connection of the load client: a non-blocking
 * connect, the request written with one sendmsg (head and body), the
 * answer read into the run's buffer and parsed, and the request's record
 * finished. Level-triggered EPOLLIN stays registered for the connection's
 * life; EPOLLOUT only while connecting or while a write is short. */
#include "load/internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

static uint64_t ev_data(const lm__conn *c) { return (uint64_t)c->gen << 32 | c->slot; }

static void set_out(lm__run *r, lm__conn *c, int on) {
    if (c->want_out == on) return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u64 = ev_data(c)};
    epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = on;
}

lm__conn *lm__conn_open(lm__run *r, int *errno_out) {
    *errno_out = 0;
    if (r->nfree == 0) return NULL;
    uint32_t slot = r->free_slots[r->nfree - 1];
    lm__conn *c = r->slots[slot];
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c) {
            *errno_out = ENOMEM;
            return NULL;
        }
        c->slot = slot;
        r->slots[slot] = c;
    }
    int fd = socket(r->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *errno_out = errno;
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc = connect(fd, (const struct sockaddr *)&r->addr, r->addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
        *errno_out = errno;
        close(fd);
        return NULL;
    }
    r->nfree--;
    c->fd = fd;
    c->gen++;
    c->num = ++r->attempts;
    if (rc == 0) r->st->connections++;
    c->state = rc == 0 ? LM__CONN_IDLE : LM__CONN_CONNECTING;
    c->want_out = rc != 0;
    c->rec = -1;
    c->req = NULL;
    c->prev = c->next = NULL;
    c->idle_pos = -1;
    struct epoll_event ev = {.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0),
                             .data.u64 = ev_data(c)};
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        *errno_out = errno;
        close(fd);
        c->state = LM__CONN_FREE;
        r->free_slots[r->nfree++] = slot;
        return NULL;
    }
    r->nopen++;
    return c;
}

void lm__conn_close(lm__run *r, lm__conn *c) {
    if (c->state == LM__CONN_FREE) return;
    epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->state = LM__CONN_FREE;
    c->rec = -1;
    r->nopen--;
    r->free_slots[r->nfree++] = c->slot;
}

/* Takes c off the in-flight list. */
static void unlink_busy(lm__run *r, lm__conn *c) {
    if (c->prev)
        c->prev->next = c->next;
    else if (r->head == c)
        r->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else if (r->tail == c)
        r->tail = c->prev;
    c->prev = c->next = NULL;
    r->in_flight--;
}

void lm__conn_fail(lm__run *r, lm__conn *c, int kind, int e, const char *msg) {
    if (c->rec >= 0) {
        size_t i = (size_t)c->rec;
        unlink_busy(r, c);
        c->rec = -1;
        lm__run_note_error(r, i, kind, e, msg);
    }
    lm__conn_close(r, c);
    lm__run_conn_free(r, c, 0);
}

/* The decimal digits of v into p; returns their count. */
static size_t utoa(char *p, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

static int build_head(lm__run *r, lm__conn *c, const lm_load_req *q) {
    lm_buf *b = &c->out;
    b->len = 0;
    const char *method = q->method ? q->method : "POST";
    const char *path = q->path ? q->path : r->target.path;
    int cl = q->body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    char num[24];
    size_t nn = utoa(num, q->body_len);
    if (lm_buf_append(b, method, strlen(method)) || lm_buf_append(b, " ", 1) ||
        lm_buf_append(b, path, strlen(path)) || lm_buf_append(b, " HTTP/1.1\r\nHost: ", 17) ||
        lm_buf_append(b, r->o.host ? r->o.host : r->target.hostport,
                      strlen(r->o.host ? r->o.host : r->target.hostport)) ||
        lm_buf_append(b, "\r\n", 2))
        return LM_ERR;
    if (cl && (lm_buf_append(b, "Content-Length: ", 16) || lm_buf_append(b, num, nn) ||
               lm_buf_append(b, "\r\n", 2)))
        return LM_ERR;
    if (r->o.headers && lm_buf_append(b, r->o.headers, strlen(r->o.headers))) return LM_ERR;
    if (q->headers && lm_buf_append(b, q->headers, strlen(q->headers))) return LM_ERR;
    if (lm_buf_append(b, "\r\n", 2)) return LM_ERR;
    c->built = q;
    return LM_OK;
}

/* Writes what is left of c's request. */
static void write_some(lm__run *r, lm__conn *c) {
    const lm_load_req *q = c->req;
    size_t hl = c->out.len, total = hl + q->body_len;
    while (c->sent < total) {
        struct iovec iov[2];
        int n = 0;
        if (c->sent < hl) iov[n++] = (struct iovec){c->out.data + c->sent, hl - c->sent};
        size_t boff = c->sent > hl ? c->sent - hl : 0;
        if (q->body_len > boff)
            iov[n++] = (struct iovec){(char *)q->body + boff, q->body_len - boff};
        uint64_t t = c->sent == 0 ? lm_now_ns() : 0;
        /* sendmsg for MSG_NOSIGNAL: a server gone mid-write is EPIPE, never SIGPIPE */
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_out(r, c, 1);
                return;
            }
            if (errno == EINTR) continue;
            lm__conn_fail(r, c, LM_LOAD_E_WRITE, errno, NULL);
            return;
        }
        if (t) {
            lm_load_record *rec = &r->rec[c->rec];
            rec->send_ns = t;
            uint64_t lag = t > rec->intended_ns ? t - rec->intended_ns : 0;
            lm_hist_record(r->out->send_lag, lag);
            r->st->sent++;
            if (lag > r->o.late_ns) r->st->late++;
        }
        c->sent += (size_t)w;
    }
    set_out(r, c, 0);
}

void lm__conn_assign(lm__run *r, lm__conn *c, size_t rec) {
    const lm_load_req *q = &r->reqs[r->rec[rec].req];
    c->rec = (int64_t)rec;
    c->req = q;
    c->sent = 0;
    r->rec[rec].conn = c->num;
    if (c->built != q && build_head(r, c, q) != LM_OK) {
        c->built = NULL;
        lm__conn_fail(r, c, LM_LOAD_E_WRITE, ENOMEM, "out of memory building the request");
        return;
    }
    const char *m = q->method ? q->method : "POST";
    lm__http_resp_init(&c->resp, m[0] == 'H' && strcmp(m, "HEAD") == 0);
    c->resp.capture = r->o.capture_header;
    c->deadline = lm_now_ns() + r->o.timeout_ns;
    c->prev = r->tail;
    c->next = NULL;
    if (r->tail)
        r->tail->next = c;
    else
        r->head = c;
    r->tail = c;
    if (++r->in_flight > r->st->max_in_flight) r->st->max_in_flight = r->in_flight;
    if (c->state == LM__CONN_IDLE) {
        c->state = LM__CONN_BUSY;
        write_some(r, c);
    }
}

/* The whole answer of c's request is in (at time now). */
static void finish(lm__run *r, lm__conn *c, uint64_t now, int extra) {
    lm_load_record *rec = &r->rec[c->rec];
    rec->receive_ns = now;
    rec->status = (uint16_t)c->resp.status;
    rec->bytes = c->resp.bytes;
    rec->request_id = c->resp.request_id;
    r->st->completed++;
    if (r->o.on_answer)
        r->o.on_answer(r->o.answer_arg, rec, c->resp.captured, c->resp.captured_len);
    if (rec->status >= 200 && rec->status < 300)
        r->st->status_2xx++;
    else
        r->st->status_other++;
    lm_hist_record(r->out->corrected, now - rec->intended_ns);
    lm_hist_record(r->out->uncorrected, now - rec->send_ns);
    if (now > r->st->last_receive_ns) r->st->last_receive_ns = now;
    unlink_busy(r, c);
    c->rec = -1;
    c->req = NULL;
    /* An answer cut short by the close, or bytes after it (we never
     * pipeline): the connection is done. */
    int keep = !c->resp.close && !extra && c->sent == c->out.len + c->built->body_len;
    if (!keep)
        lm__conn_close(r, c);
    else
        c->state = LM__CONN_IDLE;
    lm__run_conn_free(r, c, keep);
}

static void on_read(lm__run *r, lm__conn *c) {
    for (;;) {
        ssize_t n = read(c->fd, r->buf, r->buflen);
        uint64_t now = lm_now_ns();
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            if (c->rec >= 0)
                lm__conn_fail(r, c, LM_LOAD_E_CLOSED, errno, NULL);
            else
                lm__conn_fail(r, c, 0, 0, NULL);
            return;
        }
        if (c->rec < 0) { /* an idle connection closed by the server, or talking out of turn */
            lm__conn_close(r, c);
            lm__run_conn_free(r, c, 0);
            return;
        }
        if (n == 0) {
            if (lm__http_resp_eof(&c->resp) == LM_OK)
                finish(r, c, now, 0);
            else
                lm__conn_fail(r, c, LM_LOAD_E_CLOSED, 0, c->resp.err);
            return;
        }
        size_t used = lm__http_resp_feed(&c->resp, r->buf, (size_t)n);
        if (c->resp.state == LM__HTTP_ERROR) {
            lm__conn_fail(r, c, LM_LOAD_E_PROTOCOL, 0, c->resp.err);
            return;
        }
        if (c->resp.state == LM__HTTP_DONE) {
            finish(r, c, now, used < (size_t)n);
            return;
        }
        if ((size_t)n < r->buflen) return; /* drained: wait for more */
    }
}

static void on_connected(lm__run *r, lm__conn *c) {
    int e = 0;
    socklen_t len = sizeof(e);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
    if (e) {
        if (c->rec >= 0) {
            lm__conn_fail(r, c, LM_LOAD_E_CONNECT, e, NULL);
        } else {
            lm__conn_close(r, c);
            lm__run_conn_free(r, c, 0);
        }
        return;
    }
    r->st->connections++;
    if (c->rec >= 0) {
        c->state = LM__CONN_BUSY;
        write_some(r, c);
    } else {
        c->state = LM__CONN_IDLE;
        set_out(r, c, 0);
        lm__run_conn_free(r, c, 1);
    }
}

void lm__conn_event(lm__run *r, lm__conn *c, uint32_t events) {
    if (c->state == LM__CONN_CONNECTING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(r, c);
        return;
    }
    if ((events & EPOLLOUT) && c->state == LM__CONN_BUSY && c->want_out) {
        uint32_t gen = c->gen;
        write_some(r, c);
        if (c->gen != gen || c->state == LM__CONN_FREE) return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_read(r, c);
}
