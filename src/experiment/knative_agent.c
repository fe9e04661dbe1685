/* knative_agent.c -- reading `lumos agent` (docs/knative.md) from a knative
 * run (internal.h): one blocking HTTP/1.0 GET of its /pods JSON on a
 * numeric address, between load runs (never while requests are in flight). */
#include "experiment/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load/load.h"
#include "proto/clock.h"

#define AGENT_TIMEOUT_MS 5000
#define AGENT_MAX_BYTES (4u << 20)

static int connect_to(const lm_load_target *t, char *err) {
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    const char *h = strcmp(t->host, "localhost") == 0 ? "127.0.0.1" : t->host;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)t->port);
        sl = sizeof *a4;
    } else if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)t->port);
        sl = sizeof *a6;
    } else {
        return lm_errf(err, "agent %s: not a numeric address", t->hostport), -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return lm_errf(err, "socket: %s", strerror(errno)), -1;
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        lm_errf(err, "agent %s: connect: %s (is `lumos agent` running there?)", t->hostport,
                strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The whole answer of GET path into a malloc'd buffer (*len bytes). */
static char *get(const char *url, size_t *len, char *err) {
    lm_load_target t;
    if (lm_load_parse_url(url, &t, err) != LM_OK) return NULL;
    int fd = connect_to(&t, err);
    if (fd < 0) return NULL;
    char req[1400];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n",
                     strcmp(t.path, "/") == 0 ? "/pods" : t.path, t.hostport);
    if (write(fd, req, (size_t)n) != n) {
        lm_errf(err, "agent %s: write: %s", t.hostport, strerror(errno));
        close(fd);
        return NULL;
    }
    lm_buf b = {0};
    uint64_t deadline = lm_now_ns() + AGENT_TIMEOUT_MS * 1000000ull;
    for (;;) {
        uint64_t now = lm_now_ns();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) == 0) {
            lm_errf(err, "agent %s: no whole answer within %d ms", t.hostport, AGENT_TIMEOUT_MS);
            break;
        }
        char buf[16384];
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            lm_errf(err, "agent %s: read: %s", t.hostport, strerror(errno));
            break;
        }
        if (r == 0) {
            close(fd);
            *len = b.len;
            if (lm_buf_append(&b, "", 1) != LM_OK) break;
            return b.data;
        }
        if (b.len + (size_t)r > AGENT_MAX_BYTES || lm_buf_append(&b, buf, (size_t)r) != LM_OK) {
            lm_errf(err, "agent %s: answer over %u bytes", t.hostport, AGENT_MAX_BYTES);
            break;
        }
    }
    close(fd);
    lm_buf_free(&b);
    return NULL;
}

static uint64_t u64(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

int lm__kn_agent_read(const char *url, lm__kn_pod_usage **out, size_t *n, char *err) {
    *out = NULL;
    *n = 0;
    size_t len = 0;
    char *text = get(url, &len, err);
    if (!text) return LM_ERR;
    int status = 0;
    char *body = strstr(text, "\r\n\r\n");
    if (sscanf(text, "HTTP/1.%*d %d", &status) != 1 || !body || status != 200) {
        lm_errf(err, "agent %s: answered %d, not 200 with its pods", url, status);
        free(text);
        return LM_ERR;
    }
    json_error_t je;
    json_t *root = json_loads(body + 4, 0, &je);
    free(text);
    json_t *pods = json_object_get(root, "pods");
    if (!json_is_array(pods)) {
        json_decref(root);
        return lm_errf(err, "agent %s: its answer has no \"pods\" array (%s)", url,
                       root ? "JSON without it" : je.text);
    }
    size_t np = json_array_size(pods);
    lm__kn_pod_usage *v = calloc(np ? np : 1, sizeof *v);
    if (!v) {
        json_decref(root);
        return lm_errf(err, "out of memory");
    }
    size_t i;
    json_t *p;
    json_array_foreach(pods, i, p) {
        const char *uid = json_string_value(json_object_get(p, "pod_uid"));
        snprintf(v[i].pod_uid, sizeof v[i].pod_uid, "%s", uid ? uid : "");
        v[i].cpu_user_ns = u64(p, "cpu_user_ns");
        v[i].cpu_system_ns = u64(p, "cpu_system_ns");
        v[i].mem_current_bytes = u64(p, "mem_current_bytes");
        v[i].mem_peak_bytes = u64(p, "mem_peak_bytes");
    }
    json_decref(root);
    *out = v;
    *n = np;
    return LM_OK;
}
