/* url.c -- the load client's target: "http://HOST[:PORT][/path]" or
 * "HOST:PORT", HOST a numeric IPv4 address, a bracketed IPv6 one, or
 * localhost (127.0.0.1). No name is ever looked up: a benchmark must not
 * wait on DNS, and its target is on a known address. */
#include "load/load.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/internal.h"

int lm_load_parse_url(const char *url, lm_load_target *t, char *err) {
    memset(t, 0, sizeof(*t));
    if (!url || !*url) return lm_errf(err, "no target URL (e.g. http://127.0.0.1:8080)");
    const char *s = url;
    if (strncmp(s, "https://", 8) == 0)
        return lm_errf(err, "%s: https is not supported: the load client speaks plain HTTP/1.1",
                       url);
    int scheme = strncmp(s, "http://", 7) == 0;
    if (scheme)
        s += 7;
    else if (strstr(s, "://"))
        return lm_errf(err, "%s: only http:// URLs are supported", url);
    const char *host = s, *hend;
    if (*s == '[') {
        hend = strchr(s, ']');
        if (!hend) return lm_errf(err, "%s: an IPv6 address must end with ']'", url);
        host = s + 1;
        s = hend + 1;
    } else {
        hend = s + strcspn(s, ":/");
        s = hend;
    }
    size_t hn = (size_t)(hend - host);
    if (hn == 0) return lm_errf(err, "%s: no host", url);
    if (hn >= sizeof(t->host)) return lm_errf(err, "%s: host too long", url);
    memcpy(t->host, host, hn);
    t->port = 80;
    if (*s == ':') {
        char *end;
        long p = strtol(s + 1, &end, 10);
        if (end == s + 1 || p < 1 || p > 65535 || (*end && *end != '/'))
            return lm_errf(err, "%s: the port must be a number from 1 to 65535", url);
        t->port = (int)p;
        s = end;
    } else if (!scheme) {
        return lm_errf(err, "%s: expected http://HOST:PORT or HOST:PORT", url);
    }
    if (*s && *s != '/') return lm_errf(err, "%s: unexpected '%s' after the host", url, s);
    if (snprintf(t->path, sizeof(t->path), "%s", *s ? s : "/") >= (int)sizeof(t->path))
        return lm_errf(err, "%s: path too long", url);
    for (const char *c = t->path; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return lm_errf(err, "%s: the path holds a space or control character", url);
    int v6 = strchr(t->host, ':') != NULL;
    snprintf(t->hostport, sizeof(t->hostport), v6 ? "[%s]:%d" : "%s:%d", t->host, t->port);
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(t->host, "localhost") != 0 && inet_pton(AF_INET, t->host, &a4) != 1 &&
        inet_pton(AF_INET6, t->host, &a6) != 1)
        return lm_errf(err,
                       "%s: '%s' is not a numeric address: give an IPv4 or [IPv6] address or "
                       "localhost (names are not looked up)",
                       url, t->host);
    return LM_OK;
}
