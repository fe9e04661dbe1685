/* gateway_child.c -- `lumos serve` as the run's child (internal.h). */
#include "experiment/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define START_TIMEOUT_MS 30000
#define STOP_GRACE_MS 20000

/* The last n bytes of the log, for a message. */
static void log_tail(const char *log, char *out, size_t n) {
    out[0] = 0;
    FILE *f = fopen(log, "r");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > (long)n - 1 ? size - (long)n + 1 : 0, SEEK_SET);
    size_t r = fread(out, 1, n - 1, f);
    out[r] = 0;
    fclose(f);
    for (char *p = out; *p; p++)
        if (*p == '\n') *p = ' ';
}

int lm__gw_has_option(const char *exe, const char *option) {
    char tmp[] = "/tmp/lumos-serve-help-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0) return 0;
    unlink(tmp);
    char *argv[] = {(char *)exe, "serve", "--help", NULL};
    char err[LM_ERRLEN];
    lm_child ch;
    int status = 0, found = 0;
    int spawned = lm_spawn(argv, NULL, NULL, 0, fd, &ch, err) == LM_OK;
    if (spawned && lm_child_wait(&ch, 10000, &status) != LM_OK) {
        lm_child_stop(&ch, 0);
        spawned = 0;
    }
    if (spawned) {
        static char help[65536];
        ssize_t r = pread(fd, help, sizeof help - 1, 0);
        help[r > 0 ? r : 0] = 0;
        size_t l = strlen(option);
        /* The option itself, not a longer one it begins ("--network-x"). */
        for (const char *p = help; !found && (p = strstr(p, option)); p += l)
            found = !(p[l] == '-' || (p[l] >= 'a' && p[l] <= 'z'));
    }
    close(fd);
    return found;
}

int lm__gw_start(const char *exe, const char *db, const char *redis, const char *config,
                 const char *data, const lm__gw_env *env, const char *log, lm__gw_child *g,
                 char *err) {
    memset(g, 0, sizeof *g);
    g->child.pid = -1;
    snprintf(g->log, sizeof g->log, "%s", log);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return lm_errf(err, "cannot write the gateway's log %s: %s", log, strerror(errno));
    /* setsid: its own session, so a Ctrl-C at the terminal reaches the run
     * alone, which then stops the gateway in order. */
    char *argv[20];
    int a = 0;
    argv[a++] = "setsid";
    argv[a++] = (char *)exe;
    argv[a++] = "serve";
    argv[a++] = "--port";
    argv[a++] = "0";
    argv[a++] = "--results";
    argv[a++] = (char *)db;
    argv[a++] = "--redis";
    argv[a++] = (char *)redis;
    argv[a++] = "--config";
    argv[a++] = (char *)config;
    if (data) {
        argv[a++] = "--data";
        argv[a++] = (char *)data;
    }
    if (env && env->node) {
        argv[a++] = "--nodes";
        argv[a++] = (char *)env->node;
    }
    if (env && env->network && *env->network) {
        argv[a++] = "--network";
        argv[a++] = (char *)env->network;
    }
    argv[a] = NULL;
    int rc = lm_spawn(argv, NULL, NULL, 0, fd, &g->child, err);
    close(fd);
    if (rc != LM_OK) return LM_ERR;
    char tail[600];
    for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
        FILE *f = fopen(log, "r");
        char line[512];
        while (f && fgets(line, sizeof line, f)) {
            const char *p = strstr(line, "listening on http://127.0.0.1:");
            if (p && sscanf(p, "listening on http://127.0.0.1:%d", &g->port) == 1) {
                fclose(f);
                snprintf(g->url, sizeof g->url, "http://127.0.0.1:%d", g->port);
                return LM_OK;
            }
        }
        if (f) fclose(f);
        int status;
        if (waitpid(g->child.pid, &status, WNOHANG) == g->child.pid) {
            g->child.pid = -1;
            log_tail(log, tail, sizeof tail);
            return lm_errf(err, "the gateway (lumos serve) did not start: %s", tail);
        }
        usleep(20000);
    }
    lm__gw_stop(g);
    log_tail(log, tail, sizeof tail);
    return lm_errf(err, "the gateway did not listen within %d s: %s", START_TIMEOUT_MS / 1000,
                   tail);
}

int lm__gw_flush(const lm__gw_child *g, char *err) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return lm_errf(err, "socket: %s", strerror(errno));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static const char req[] = "POST /results/flush HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Content-Length: 0\r\nConnection: close\r\n\r\n";
    char answer[1024];
    size_t got = 0;
    int ok = connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 &&
             write(s, req, sizeof req - 1) == (ssize_t)(sizeof req - 1);
    while (ok && got < sizeof answer - 1) {
        struct pollfd p = {.fd = s, .events = POLLIN};
        if (poll(&p, 1, 30000) != 1) {
            ok = 0;
            break;
        }
        ssize_t r = read(s, answer + got, sizeof answer - 1 - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(s);
    answer[got] = 0;
    if (ok && strncmp(answer, "HTTP/1.1 200", 12) == 0) return LM_OK;
    char *body = strstr(answer, "\r\n\r\n");
    return lm_errf(err, "the gateway did not flush its results: %s",
                   body  ? body + 4
                   : got ? answer
                         : "no answer (has it died? see its log)");
}

void lm__gw_stop(lm__gw_child *g) {
    if (g->child.pid <= 0) return;
    kill(g->child.pid, SIGTERM);
    int status;
    if (lm_child_wait(&g->child, STOP_GRACE_MS, &status) != LM_OK) lm_child_stop(&g->child, 0);
    g->child.pid = -1;
}
