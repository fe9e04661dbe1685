/* store_redis.c -- objects in Redis, through hiredis (synchronous). */
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

typedef struct {
    lm_store base;
    redisContext *c;
    char addr[300];
} redis_store;

static int redis_get(lm_store *s, const char *key, char **data, size_t *len, char *err) {
    redis_store *r = (redis_store *)s;
    redisReply *rep = redisCommand(r->c, "GET %s", key);
    if (!rep) return lm_errf(err, "redis %s: %s", r->addr, r->c->errstr);
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
    redisReply *rep = redisCommand(r->c, "SET %s %b", key, data, len);
    if (!rep) return lm_errf(err, "redis %s: %s", r->addr, r->c->errstr);
    int rc = rep->type == REDIS_REPLY_STATUS
                 ? LM_OK
                 : lm_errf(err, "redis %s: SET %s: %s", r->addr, key,
                           rep->type == REDIS_REPLY_ERROR ? rep->str : "bad reply");
    freeReplyObject(rep);
    return rc;
}

static void redis_free(lm_store *s) {
    redis_store *r = (redis_store *)s;
    redisFree(r->c);
    free(r);
}

lm_store *lm_store_redis(const char *host, int port, char *err) {
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
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
    if (!r) {
        redisFree(c);
        lm_errf(err, "out of memory");
        return NULL;
    }
    r->base = (lm_store){redis_get, redis_put, redis_free, "redis"};
    r->c = c;
    snprintf(r->addr, sizeof(r->addr), "%s:%d", host, port);
    return &r->base;
}

void lm_store_free(lm_store *s) {
    if (s) s->free(s);
}
