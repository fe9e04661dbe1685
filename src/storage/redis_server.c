/* redis_server.c -- the private redis-server Lumos starts when the user gives
 * none: a free loopback port, a temporary folder, no persistence. */
#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "storage/storage.h"

/* Asks the kernel for a free port. Another process may take it before
 * redis-server binds it; the caller retries then. */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int pings(int port) {
    struct timeval tv = {0, 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    int ok = 0;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "PING");
        ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
    }
    redisFree(c);
    return ok;
}

int lm_redis_server_start(lm_redis_server *r, char *err) {
    memset(r, 0, sizeof(*r));
    r->child.pid = -1;
    char path[256];
    if (lm_which("redis-server", path, sizeof(path)) != LM_OK)
        return lm_errf(err, "redis-server not found on PATH: run scripts/setup (Debian package "
                            "redis-server), or give a server with --redis HOST:PORT");
    const char *tmp = getenv("TMPDIR");
    snprintf(r->dir, sizeof(r->dir), "%s/lumos-redis-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(r->dir)) return lm_errf(err, "mkdtemp %s: %s", r->dir, strerror(errno));
    char log[300];
    snprintf(log, sizeof(log), "%s/redis.log", r->dir);
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = free_port();
        if (port < 0) break;
        char portstr[16];
        snprintf(portstr, sizeof(portstr), "%d", port);
        char *argv[] = {"redis-server",
                        "--port",
                        portstr,
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        r->dir,
                        "--logfile",
                        log,
                        "--daemonize",
                        "no",
                        "--protected-mode",
                        "yes",
                        "--proto-max-bulk-len",
                        "512mb",
                        NULL};
        if (lm_spawn(argv, NULL, NULL, 0, -1, &r->child, err) != LM_OK) break;
        for (int i = 0; i < 500; i++) { /* up to 5 s */
            if (pings(port)) {
                r->port = port;
                return LM_OK;
            }
            int status;
            if (waitpid(r->child.pid, &status, WNOHANG) == r->child.pid) {
                r->child.pid = -1;
                break; /* most likely the port was taken: try another */
            }
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
        if (r->child.pid > 0) lm_child_stop(&r->child, 0);
    }
    lm_redis_server_stop(r);
    return lm_errf(err, "could not start redis-server (see its log in %s)", log);
}

void lm_redis_server_stop(lm_redis_server *r) {
    if (r->child.pid > 0) {
        kill(r->child.pid, SIGTERM);
        lm_child_stop(&r->child, 2000);
    }
    if (r->dir[0]) lm_rmtree(r->dir);
    r->dir[0] = 0;
    r->port = 0;
}

lm_store *lm_redis_open(const char *addr, lm_redis_server *srv, char *where, size_t wn, char *err) {
    char host[256] = "127.0.0.1";
    int port;
    if (addr) {
        if (lm_parse_hostport(addr, host, sizeof(host), &port, err) != LM_OK) return NULL;
    } else {
        if (lm_redis_server_start(srv, err) != LM_OK) return NULL;
        port = srv->port;
    }
    if (where) snprintf(where, wn, "%s:%d", host, port);
    return lm_store_redis(host, port, err);
}
