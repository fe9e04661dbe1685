/* addr.c -- the proxy's addresses: "HOST:PORT" (numeric IPv4, or [IPv6])
 * and "unix:PATH", parsed into a sockaddr and written back. No name lookup:
 * a shaping proxy only ever talks to loopback or a namespace's address. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "shape/internal.h"
#include "util/util.h"

int lm__shape_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err) {
    memset(ss, 0, sizeof(*ss));
    if (!s || !*s) return lm_errf(err, "no address (HOST:PORT or unix:PATH)");
    if (strncmp(s, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        size_t n = strlen(s + 5);
        if (n == 0 || n >= sizeof(un->sun_path))
            return lm_errf(err, "'%s': a unix socket path of 1 to %zu bytes", s,
                           sizeof(un->sun_path) - 1);
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, s + 5, n + 1);
        *len = (socklen_t)sizeof(*un);
        return LM_OK;
    }
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return lm_errf(err, "'%s': not HOST:PORT (e.g. 127.0.0.1:6380) or unix:PATH", s);
    size_t hn = (size_t)(colon - s);
    const char *h = s;
    if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']') h++, hn -= 2;
    if (hn >= sizeof(host)) return lm_errf(err, "'%s': host too long", s);
    memcpy(host, h, hn);
    host[hn] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535 || colon[1] == '-' || colon[1] == '+')
        return lm_errf(err, "'%s': the port must be 0 to 65535", s);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = (socklen_t)sizeof(*in4);
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = (socklen_t)sizeof(*in6);
    } else {
        return lm_errf(err, "'%s': the host must be a numeric IPv4 or [IPv6] address", s);
    }
    return LM_OK;
}

char *lm__shape_addr_format(const struct sockaddr_storage *ss, char *out, size_t n) {
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_UNIX) {
        snprintf(out, n, "unix:%s", ((const struct sockaddr_un *)ss)->sun_path);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, n, "[%s]:%u", host, ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(out, n, "%s:%u", host, ntohs(a->sin_port));
    }
    return out;
}
