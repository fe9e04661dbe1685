/* store_redis_async.c -- the asynchronous side of storage: the lm_store_*
 * asynchronous calls, and the one store that has them, Redis, through
 * hiredis's async API on the platform's libevent loop (its header-only
 * adapter). A Redis round trip then costs the loop nothing: commands are
 * pipelined on one connection and each reply calls its caller back.
 *
 * Lifetimes. A call's handle (lm_store_call) is hiredis's privdata for its
 * command: hiredis calls on_reply() exactly once per command, with the reply
 * or with NULL when the connection goes down or is freed, and on_reply()
 * frees the handle. Cancelling only clears the handle's callback, so a
 * reply for a caller that is gone (an instance killed mid-GET) is dropped.
 * The client (lm_redis_async) is reachable from a connection through
 * ac->data only while that connection is the client's current one: a
 * connection going down, or dropped by the client, gets ac->data = NULL
 * first, so hiredis may finish tearing it down after the client is gone. */
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"
#include "storage/storage.h"

struct lm_store_call {
    lm_store_cb cb; /* NULL once cancelled */
    void *arg;
    int put;
    char why[96]; /* set when the client itself drops the connection */
};

struct lm_redis_async {
    char host[256];
    int port;
    char addr[300];
    int timeout_ms;
    struct event_base *base;
    struct event *timer;   /* fires when Redis leaves calls unanswered too long */
    int users;             /* attachments */
    redisAsyncContext *ac; /* the current connection, NULL between connections */
    int outstanding;       /* commands sent on ac and not answered yet */
    char netns[256];       /* connect from inside this network namespace; "" here */
};

/* The generic calls. */

int lm_store_attach(lm_store *s, struct event_base *base, char *err) {
    return s->attach ? s->attach(s, base, err) : LM_OK;
}

void lm_store_detach(lm_store *s) {
    if (s && s->detach) s->detach(s);
}

int lm_store_has_async(const lm_store *s) { return s && s->get_async && s->put_async; }

int lm_store_get_async(lm_store *s, const char *key, lm_store_cb cb, void *arg,
                       lm_store_call **call, char *err) {
    if (!s->get_async) return lm_errf(err, "the %s store has no asynchronous calls", s->kind);
    return s->get_async(s, key, cb, arg, call, err);
}

int lm_store_put_async(lm_store *s, const char *key, const void *data, size_t len, lm_store_cb cb,
                       void *arg, lm_store_call **call, char *err) {
    if (!s->put_async) return lm_errf(err, "the %s store has no asynchronous calls", s->kind);
    return s->put_async(s, key, data, len, cb, arg, call, err);
}

void lm_store_cancel(lm_store_call *call) {
    if (call) call->cb = NULL;
}

/* The Redis client. */

/* Forgets ac as the current connection (it is going down or being
 * dropped): later calls open a new one. */
static void forget(lm_redis_async *a, redisAsyncContext *ac) {
    ac->data = NULL;
    if (a->ac != ac) return;
    a->ac = NULL;
    a->outstanding = 0;
    if (a->timer) evtimer_del(a->timer);
}

/* Restarts the no-answer window while calls are outstanding. */
static void arm(lm_redis_async *a) {
    if (!a->timer) return;
    if (a->outstanding > 0) {
        struct timeval tv = {a->timeout_ms / 1000, (a->timeout_ms % 1000) * 1000};
        evtimer_add(a->timer, &tv);
    } else {
        evtimer_del(a->timer);
    }
}

static void failure(const redisAsyncContext *ac, const lm_store_call *k, char *msg) {
    const char *host = ac->c.tcp.host ? ac->c.tcp.host : "?";
    if (k->why[0])
        lm_errf(msg, "redis %s:%d: %s", host, ac->c.tcp.port, k->why);
    else if (ac->err)
        lm_errf(msg, "redis %s:%d: %s (%s)", host, ac->c.tcp.port,
                ac->c.flags & REDIS_CONNECTED ? "connection lost" : "cannot connect", ac->errstr);
    else
        lm_errf(msg, "redis %s:%d: connection closed", host, ac->c.tcp.port);
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata) {
    lm_store_call *k = privdata;
    redisReply *rep = r;
    lm_redis_async *a = ac->data;
    if (a) {
        if (!rep) {
            forget(a, ac);
        } else {
            a->outstanding--;
            arm(a);
        }
    }
    if (k->cb) {
        char msg[LM_ERRLEN];
        const char *host = ac->c.tcp.host ? ac->c.tcp.host : "?";
        if (!rep) {
            failure(ac, k, msg);
            k->cb(k->arg, -1, NULL, 0, msg);
        } else if (rep->type == REDIS_REPLY_ERROR) {
            lm_errf(msg, "redis %s:%d: %s: %s", host, ac->c.tcp.port, k->put ? "SET" : "GET",
                    rep->str);
            k->cb(k->arg, -1, NULL, 0, msg);
        } else if (k->put) {
            if (rep->type == REDIS_REPLY_STATUS) {
                k->cb(k->arg, 0, NULL, 0, NULL);
            } else {
                lm_errf(msg, "redis %s:%d: SET: unexpected reply type %d", host, ac->c.tcp.port,
                        rep->type);
                k->cb(k->arg, -1, NULL, 0, msg);
            }
        } else if (rep->type == REDIS_REPLY_NIL) {
            k->cb(k->arg, 1, NULL, 0, NULL);
        } else if (rep->type == REDIS_REPLY_STRING) {
            k->cb(k->arg, 0, rep->str, rep->len, NULL);
        } else {
            lm_errf(msg, "redis %s:%d: GET: unexpected reply type %d", host, ac->c.tcp.port,
                    rep->type);
            k->cb(k->arg, -1, NULL, 0, msg);
        }
    }
    free(k);
}

static void on_connect(const redisAsyncContext *ac, int status) {
    lm_redis_async *a = ac->data;
    /* On failure hiredis now fails the queued calls and frees ac. */
    if (status != REDIS_OK && a) forget(a, (redisAsyncContext *)ac);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
    lm_redis_async *a = ac->data;
    (void)status;
    if (a) forget(a, (redisAsyncContext *)ac);
}

/* Drops the current connection: its outstanding calls fail with why. From
 * inside one of its callbacks hiredis defers the free until that returns,
 * which is fine: the loop (for the adapter's events) is still alive. */
static void drop(lm_redis_async *a, const char *why) {
    redisAsyncContext *ac = a->ac;
    if (!ac) return;
    for (redisCallback *cb = ac->replies.head; cb; cb = cb->next) {
        lm_store_call *k = cb->privdata;
        if (cb->fn == on_reply) snprintf(k->why, sizeof(k->why), "%s", why);
    }
    forget(a, ac);
    redisAsyncFree(ac);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
    lm_redis_async *a = arg;
    char why[96];
    (void)fd;
    (void)what;
    snprintf(why, sizeof(why), "no answer within %d ms (the connection is reopened)",
             a->timeout_ms);
    drop(a, why);
}

/* Opens a connection on the loop; it completes there (commands sent
 * meanwhile wait in hiredis's buffer). */
static int connect_now(lm_redis_async *a, char *err) {
    int self = -1;
    if (a->netns[0] && lm__netns_enter(a->netns, &self, err) != LM_OK) return LM_ERR;
    redisAsyncContext *ac = redisAsyncConnect(a->host, a->port);
    if (a->netns[0]) lm__netns_leave(self);
    if (!ac) return lm_errf(err, "redis %s: out of memory", a->addr);
    if (ac->err) {
        lm_errf(err, "redis %s: cannot connect: %s (is redis-server running there?)", a->addr,
                ac->errstr);
        redisAsyncFree(ac);
        return LM_ERR;
    }
    /* As on the synchronous side: keep the reader's buffer between large
     * replies instead of freeing and regrowing it for each. */
    ac->c.reader->maxbuf = 0;
    if (redisLibeventAttach(ac, a->base) != REDIS_OK) {
        redisAsyncFree(ac);
        return lm_errf(err, "redis %s: cannot watch the connection on the loop", a->addr);
    }
    /* The adapter's read event is one-shot and hiredis re-adds it after
     * each 16 KiB read: two epoll_ctl calls per read, 128 for a 1 MiB
     * object. Persistent, it stays in epoll (re-adding it is then a no-op,
     * and the adapter's delete still removes it). */
    redisLibeventEvents *e = ac->ev.data;
    event_del(e->rev);
    event_assign(e->rev, a->base, ac->c.fd, EV_READ | EV_PERSIST, redisLibeventReadEvent, e);
    event_add(e->rev, NULL);
    ac->data = a;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    a->ac = ac;
    a->outstanding = 0;
    return LM_OK;
}

lm_redis_async *lm_redis_async_new(const char *host, int port, int timeout_ms) {
    lm_redis_async *a = calloc(1, sizeof(*a));
    if (!a) return NULL;
    snprintf(a->host, sizeof(a->host), "%s", host);
    a->port = port;
    snprintf(a->addr, sizeof(a->addr), "%s:%d", host, port);
    a->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    return a;
}

void lm_redis_async_set_netns(lm_redis_async *a, const char *netns_path) {
    snprintf(a->netns, sizeof(a->netns), "%s", netns_path ? netns_path : "");
}

int lm_redis_async_attach(lm_redis_async *a, struct event_base *base, char *err) {
    if (a->users > 0 && a->base != base)
        return lm_errf(err, "redis %s: the store is attached to another event loop", a->addr);
    if (a->users == 0) {
        a->timer = evtimer_new(base, on_timeout, a);
        if (!a->timer) return lm_errf(err, "out of memory");
        a->base = base;
    }
    a->users++;
    /* Connect now so the first call does not wait for it; a failure here
     * is reported by the calls, which retry. */
    char e[LM_ERRLEN];
    if (!a->ac) (void)connect_now(a, e);
    return LM_OK;
}

void lm_redis_async_detach(lm_redis_async *a) {
    if (!a || a->users == 0 || --a->users > 0) return;
    drop(a, "the store was detached from its loop");
    event_free(a->timer);
    a->timer = NULL;
    a->base = NULL;
}

/* Sends one command whose reply goes to cb. */
static int issue(lm_redis_async *a, int put, int argc, const char **argv, const size_t *argvlen,
                 lm_store_cb cb, void *arg, lm_store_call **call, char *err) {
    if (a->users == 0)
        return lm_errf(err, "redis %s: the store is not attached to an event loop", a->addr);
    if (!a->ac && connect_now(a, err) != LM_OK) return LM_ERR;
    lm_store_call *k = calloc(1, sizeof(*k));
    if (!k) return lm_errf(err, "out of memory");
    k->cb = cb;
    k->arg = arg;
    k->put = put;
    if (redisAsyncCommandArgv(a->ac, on_reply, k, argc, argv, argvlen) != REDIS_OK) {
        free(k);
        return lm_errf(err, "redis %s: cannot send %s: %s", a->addr, argv[0],
                       a->ac->errstr ? a->ac->errstr : "the connection is closing");
    }
    a->outstanding++;
    if (a->outstanding == 1) arm(a);
    if (call) *call = k;
    return LM_OK;
}

int lm_redis_async_get(lm_redis_async *a, const char *key, lm_store_cb cb, void *arg,
                       lm_store_call **call, char *err) {
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, strlen(key)};
    return issue(a, 0, 2, argv, lens, cb, arg, call, err);
}

int lm_redis_async_put(lm_redis_async *a, const char *key, const void *data, size_t len,
                       lm_store_cb cb, void *arg, lm_store_call **call, char *err) {
    /* hiredis formats the command into its own buffer: data may go now. */
    const char *argv[] = {"SET", key, data};
    size_t lens[] = {3, strlen(key), len};
    return issue(a, 1, 3, argv, lens, cb, arg, call, err);
}

void lm_redis_async_free(lm_redis_async *a) {
    if (!a) return;
    drop(a, "the store was closed");
    if (a->timer) event_free(a->timer);
    free(a);
}
