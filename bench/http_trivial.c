/* http_trivial.c -- the trivial keep-alive HTTP/1.1 server of bench/load:
 * one thread, one epoll loop on 127.0.0.1, answering every request (its
 * body read by Content-Length) with the same fixed 200 at once. It is the
 * yardstick endpoint against which Lumos' load client and wrk are
 * compared, so it does as little as an HTTP server can.
 * Usage: http_trivial [PORT]   (0 or none: a free port); prints
 * "listening on 127.0.0.1:PORT" and serves until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536
#define BUF 16384

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Content-Length: 15\r\n\r\n{\"status\":\"ok\"}";

typedef struct {
    size_t len;
    char buf[BUF];
} conn;

static conn *conns[MAXFD];

/* The length of the whole request at the front of c, or 0. */
static size_t request_len(const conn *c) {
    const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - c->buf) + 4, body = 0;
    for (const char *p = c->buf; p < end; p++)
        if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
            body = strtoul(p + 15, NULL, 10);
            break;
        }
    return head + body <= c->len ? head + body : 0;
}

static void drop(int ep, int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(conns[fd]);
    conns[fd] = NULL;
}

static void on_readable(int ep, int fd) {
    conn *c = conns[fd];
    ssize_t n = read(fd, c->buf + c->len, BUF - c->len);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        drop(ep, fd);
        return;
    }
    c->len += (size_t)n;
    size_t rl, answers = 0;
    while ((rl = request_len(c)) > 0) {
        memmove(c->buf, c->buf + rl, c->len - rl);
        c->len -= rl;
        answers++;
    }
    if (c->len == BUF) { /* a request larger than the buffer: not for this server */
        drop(ep, fd);
        return;
    }
    for (size_t i = 0; i < answers; i++)
        if (write(fd, answer, sizeof(answer) - 1) != (ssize_t)(sizeof(answer) - 1)) {
            drop(ep, fd);
            return;
        }
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 4096) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) != 0) {
        perror("http_trivial");
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, evs[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int k = 0; k < n; k++) {
            int fd = evs[k].data.fd;
            if (fd != lfd) {
                if (conns[fd]) on_readable(ep, fd);
                continue;
            }
            int cfd;
            while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                if (cfd >= MAXFD || !(conns[cfd] = calloc(1, sizeof(conn)))) {
                    close(cfd);
                    continue;
                }
                setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                ev = (struct epoll_event){.events = EPOLLIN, .data.fd = cfd};
                epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
            }
        }
    }
}
