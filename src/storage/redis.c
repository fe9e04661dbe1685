/* store_redis.c -- objects in Redis, through hiredis: a synchronous
 * connection for get/put, and an asynchronous one (store_redis_async.c) for
 * callers on a libevent loop. */
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"
#include "storage/storage.h"

/* Both the connect and the command timeout, of both connections. */
#define REDIS_TIMEOUT_MS 5000

typedef struct {
    lm_store base;
    redisContext *c;
    lm_redis_async *async;
    char addr[300];
} redis_store;

/* Reopens a connection that broke (a timeout, an earlier failure). */
static int redis_ready(redis_store *r, char *err) {
    if (!r->c->err) return LM_OK;
    if (redisReconnect(r->c) != REDIS_OK)
        return lm_errf(err, "redis %s: cannot reconnect: %s", r->addr, r->c->errstr);
    struct timeval tv = {REDIS_TIMEOUT_MS / 1000, 0};
    redisSetTimeout(r->c, tv);
    r->c->reader->maxbuf = 0;
    return LM_OK;
}

/* Runs one command; when the server had closed the connection meanwhile
 * (Redis restarted, the client killed), reconnects and runs it once more:
 * GET and SET may run twice. NULL with err on failure. */
static redisReply *redis_run(redis_store *r, char *err, const char *fmt, ...) {
    for (int attempt = 0; attempt < 2; attempt++) {
        if (redis_ready(r, err) != LM_OK) return NULL;
        va_list ap;
        va_start(ap, fmt);
        redisReply *rep = redisvCommand(r->c, fmt, ap);
        va_end(ap);
        if (rep) return rep;
        if (r->c->err != REDIS_ERR_EOF) break;
    }
    lm_errf(err, "redis %s: %s", r->addr, r->c->errstr);
    return NULL;
}

static int redis_get(lm_store *s, const char *key, char **data, size_t *len, char *err) {
    redis_store *r = (redis_store *)s;
    redisReply *rep = redis_run(r, err, "GET %s", key);
    if (!rep) return -1;
    int rc;
    if (rep->type == REDIS_REPLY_NIL) {
        rc = 1;
    } else if (rep->type == REDIS_REPLY_STRING) {
        *data = malloc(rep->len + 1);
        if (!*data) {
            rc = lm_errf(err, "out of memory for %zu bytes", rep->len);
        } else {
            memcpy(*data, rep->str, rep->len);
            (*data)[rep->len] = 0;
            *len = rep->len;
            rc = 0;
        }
    } else {
        rc = lm_errf(err, "redis %s: GET %s: %s", r->addr, key,
                     rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply type");
    }
    freeReplyObject(rep);
    return rc;
}

static int redis_put(lm_store *s, const char *key, const void *data, size_t len, char *err) {
    redis_store *r = (redis_store *)s;
    redisReply *rep = redis_run(r, err, "SET %s %b", key, data, len);
    if (!rep) return LM_ERR;
    int rc = rep->type == REDIS_REPLY_STATUS
                 ? LM_OK
                 : lm_errf(err, "redis %s: SET %s: %s", r->addr, key,
                           rep->type == REDIS_REPLY_ERROR ? rep->str : "bad reply");
    freeReplyObject(rep);
    return rc;
}

static int redis_attach(lm_store *s, struct event_base *base, char *err) {
    return lm_redis_async_attach(((redis_store *)s)->async, base, err);
}

static void redis_detach(lm_store *s) { lm_redis_async_detach(((redis_store *)s)->async); }

static int redis_get_async(lm_store *s, const char *key, lm_store_cb cb, void *arg,
                           lm_store_call **call, char *err) {
    return lm_redis_async_get(((redis_store *)s)->async, key, cb, arg, call, err);
}

static int redis_put_async(lm_store *s, const char *key, const void *data, size_t len,
                           lm_store_cb cb, void *arg, lm_store_call **call, char *err) {
    return lm_redis_async_put(((redis_store *)s)->async, key, data, len, cb, arg, call, err);
}

static void redis_free(lm_store *s) {
    redis_store *r = (redis_store *)s;
    lm_redis_async_free(r->async);
    redisFree(r->c);
    free(r);
}

lm_store *lm_store_redis(const char *host, int port, char *err) {
    return lm_store_redis_netns(host, port, NULL, err);
}

lm_store *lm_store_redis_netns(const char *host, int port, const char *netns_path, char *err) {
    struct timeval tv = {REDIS_TIMEOUT_MS / 1000, 0};
    int self = -1;
    if (netns_path && lm__netns_enter(netns_path, &self, err) != LM_OK) return NULL;
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (netns_path) lm__netns_leave(self);
    if (!c || c->err) {
        lm_errf(err, "cannot connect to redis at %s:%d: %s (is redis-server running there?)", host,
                port, c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    /* Keep the reader's buffer between replies: with the default 16 KiB cap
     * it is freed and regrown for every large object. */
    c->reader->maxbuf = 0;
    redisReply *rep = redisCommand(c, "PING");
    int ok = rep && (rep->type == REDIS_REPLY_STATUS || rep->type == REDIS_REPLY_STRING);
    if (!ok) {
        lm_errf(err, "redis at %s:%d does not answer PING: %s", host, port,
                rep && rep->type == REDIS_REPLY_ERROR ? rep->str : c->errstr);
        freeReplyObject(rep);
        redisFree(c);
        return NULL;
    }
    freeReplyObject(rep);
    redis_store *r = calloc(1, sizeof(*r));
    lm_redis_async *a = lm_redis_async_new(host, port, REDIS_TIMEOUT_MS);
    if (a && netns_path) lm_redis_async_set_netns(a, netns_path);
    if (!r || !a) {
        free(r);
        lm_redis_async_free(a);
        redisFree(c);
        lm_errf(err, "out of memory");
        return NULL;
    }
    r->base = (lm_store){.get = redis_get,
                         .put = redis_put,
                         .free = redis_free,
                         .kind = "redis",
                         .attach = redis_attach,
                         .detach = redis_detach,
                         .get_async = redis_get_async,
                         .put_async = redis_put_async};
    r->c = c;
    r->async = a;
    snprintf(r->addr, sizeof(r->addr), "%s:%d", host, port);
    return &r->base;
}

void lm_store_free(lm_store *s) {
    if (s) s->free(s);
}
