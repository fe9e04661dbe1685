/* http_server.c -- the load client tests' HTTP server (http_server.h). */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/clock.h"

#define MAXFD 2048
#define QMAX 65536

typedef struct {
    int open;
    uint32_t gen;
    char buf[8192];
    size_t len;
} sconn;

typedef struct {
    int fd;
    uint32_t gen;
    uint64_t due, id;
} answer;

struct lm_test_http {
    lm_test_http_opts o;
    int lfd, ep, wake;
    pthread_t thread;
    pthread_mutex_t mu;
    lm_test_http_stats st;
    uint64_t outstanding;
    sconn *conns; /* by fd */
    answer *q;    /* answers waiting for their time, FIFO (one delay for all) */
    size_t qhead, qtail;
};

static void close_conn(lm_test_http *s, int fd) {
    epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    s->conns[fd].open = 0;
    s->conns[fd].gen++;
    s->conns[fd].len = 0;
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void send_answer(lm_test_http *s, int fd, uint64_t id) {
    const char *body = s->o.body ? s->o.body : "ok";
    size_t bl = strlen(body);
    char head[512];
    if (s->o.raw) {
        write_all(fd, s->o.raw, strlen(s->o.raw));
        goto done;
    }
    int n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n");
    if (s->o.request_ids)
        n += snprintf(head + n, sizeof(head) - (size_t)n, "X-Lumos-Request-Id: %llu\r\n",
                      (unsigned long long)(1000 + id));
    if (s->o.close_after)
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Connection: close\r\n");
    if (s->o.chunked) {
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Transfer-Encoding: chunked\r\n\r\n");
        write_all(fd, head, (size_t)n);
        size_t half = bl / 2;
        char c[64];
        int cn = snprintf(c, sizeof(c), "%zx;ext=1\r\n", half);
        if (half) {
            write_all(fd, c, (size_t)cn);
            write_all(fd, body, half);
            write_all(fd, "\r\n", 2);
        }
        cn = snprintf(c, sizeof(c), "%zX\r\n", bl - half);
        write_all(fd, c, (size_t)cn);
        write_all(fd, body + half, bl - half);
        write_all(fd, "\r\n0\r\nTrailer: x\r\n\r\n", 19);
    } else {
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n\r\n", bl);
        char all[1024];
        if ((size_t)n + bl <= sizeof(all)) { /* one write, as a real server would */
            memcpy(all, head, (size_t)n);
            memcpy(all + n, body, bl);
            write_all(fd, all, (size_t)n + bl);
        } else {
            write_all(fd, head, (size_t)n);
            write_all(fd, body, bl);
        }
    }
done:
    pthread_mutex_lock(&s->mu);
    s->st.answered++;
    s->outstanding--;
    pthread_mutex_unlock(&s->mu);
    if (s->o.close_after) close_conn(s, fd);
}

/* One whole request at the front of c's buffer: its length, or 0. */
static size_t request_len(const sconn *c) {
    const char *end = NULL;
    for (size_t i = 0; i + 3 < c->len; i++)
        if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0) {
            end = c->buf + i + 4;
            break;
        }
    if (!end) return 0;
    size_t head = (size_t)(end - c->buf), body = 0;
    for (const char *p = c->buf; p < end; p++) {
        if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
            body = (size_t)strtoul(p + 15, NULL, 10);
            break;
        }
    }
    return head + body <= c->len ? head + body : 0;
}

static void on_request(lm_test_http *s, int fd) {
    pthread_mutex_lock(&s->mu);
    uint64_t id = ++s->st.requests;
    if (++s->outstanding > s->st.max_outstanding) s->st.max_outstanding = s->outstanding;
    pthread_mutex_unlock(&s->mu);
    if (s->o.stall_at && id == s->o.stall_at) {
        uint64_t t0 = lm_now_ns();
        struct timespec ts = {(time_t)(s->o.stall_ns / 1000000000u),
                              (long)(s->o.stall_ns % 1000000000u)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        pthread_mutex_lock(&s->mu);
        s->st.stall_begin_ns = t0;
        s->st.stall_end_ns = lm_now_ns();
        pthread_mutex_unlock(&s->mu);
    }
    if (s->o.no_answer) return;
    if (s->o.delay_ns && s->qtail - s->qhead < QMAX) {
        s->q[s->qtail++ % QMAX] = (answer){
            .fd = fd, .gen = s->conns[fd].gen, .due = lm_now_ns() + s->o.delay_ns, .id = id};
        return;
    }
    send_answer(s, fd, id);
}

static void on_readable(lm_test_http *s, int fd) {
    sconn *c = &s->conns[fd];
    for (;;) {
        if (c->len == sizeof(c->buf)) {
            close_conn(s, fd);
            return;
        }
        ssize_t n = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        if (n <= 0) {
            close_conn(s, fd);
            return;
        }
        c->len += (size_t)n;
    }
    size_t rl;
    uint32_t gen = c->gen;
    while (c->open && c->gen == gen && (rl = request_len(c)) > 0) {
        memmove(c->buf, c->buf + rl, c->len - rl);
        c->len -= rl;
        on_request(s, fd);
    }
}

static void *serve(void *arg) {
    lm_test_http *s = arg;
    struct epoll_event evs[64];
    for (;;) {
        int timeout = -1;
        if (s->qhead < s->qtail) {
            uint64_t now = lm_now_ns(), due = s->q[s->qhead % QMAX].due;
            timeout = due > now ? (int)((due - now + 999999) / 1000000) : 0;
        }
        int n = epoll_wait(s->ep, evs, 64, timeout);
        for (int k = 0; k < n; k++) {
            int fd = evs[k].data.fd;
            if (fd == s->wake) return NULL;
            if (fd == s->lfd) {
                int cfd;
                while ((cfd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    if (cfd >= MAXFD) {
                        close(cfd);
                        continue;
                    }
                    int one = 1;
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    s->conns[cfd].open = 1;
                    s->conns[cfd].len = 0;
                    struct epoll_event ev = {.events = EPOLLIN, .data.fd = cfd};
                    epoll_ctl(s->ep, EPOLL_CTL_ADD, cfd, &ev);
                    pthread_mutex_lock(&s->mu);
                    s->st.connections++;
                    pthread_mutex_unlock(&s->mu);
                }
                continue;
            }
            if (s->conns[fd].open) on_readable(s, fd);
        }
        uint64_t now = lm_now_ns();
        while (s->qhead < s->qtail && s->q[s->qhead % QMAX].due <= now) {
            answer a = s->q[s->qhead++ % QMAX];
            if (s->conns[a.fd].open && s->conns[a.fd].gen == a.gen)
                send_answer(s, a.fd, a.id);
            else {
                pthread_mutex_lock(&s->mu);
                s->outstanding--;
                pthread_mutex_unlock(&s->mu);
            }
        }
    }
}

lm_test_http *lm_test_http_start(const lm_test_http_opts *o, int *port) {
    lm_test_http *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->o = *o;
    s->conns = calloc(MAXFD, sizeof(*s->conns));
    s->q = malloc(QMAX * sizeof(*s->q));
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (!s->conns || !s->q || s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(s->lfd, 1024) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &len) != 0) {
        if (s->lfd >= 0) close(s->lfd);
        free(s->conns);
        free(s->q);
        free(s);
        return NULL;
    }
    *port = ntohs(a.sin_port);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->wake = eventfd(0, EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s->lfd};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev);
    ev.data.fd = s->wake;
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake, &ev);
    pthread_mutex_init(&s->mu, NULL);
    pthread_create(&s->thread, NULL, serve, s);
    return s;
}

void lm_test_http_stats_get(lm_test_http *s, lm_test_http_stats *out) {
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}

void lm_test_http_stop(lm_test_http *s) {
    if (!s) return;
    uint64_t one = 1;
    if (write(s->wake, &one, sizeof(one)) < 0) perror("http_server: wake");
    pthread_join(s->thread, NULL);
    for (int fd = 0; fd < MAXFD; fd++)
        if (s->conns[fd].open) close(fd);
    close(s->lfd);
    close(s->ep);
    close(s->wake);
    pthread_mutex_destroy(&s->mu);
    free(s->conns);
    free(s->q);
    free(s);
}
