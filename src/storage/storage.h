/* store.h -- the host side of storage: where the objects that functions GET
 * and PUT over the channel really live (Redis, memory or a folder), and the
 * private redis-server Lumos starts when the user gives none.
 *
 * Every store answers synchronously (get/put): `lumos run` and `lumos
 * invoke` use that. A store may also answer asynchronously on a libevent
 * loop (the platform's): Redis does, over a second connection of its own, so
 * a Redis round trip never blocks the loop. Memory and folder stores have no
 * asynchronous side: they are fast, and callers use get/put on them. */
#ifndef LM_STORE_H
#define LM_STORE_H

#include <stddef.h>

#include "util/util.h"

struct event_base;

typedef struct lm_store lm_store;

/* The outcome of one asynchronous call, delivered once: status 0 when a GET
 * found the object (data[0..len), valid only during the call: copy what you
 * keep) or a PUT stored it (data NULL), 1 when a GET found nothing, -1 with
 * err (naming the store's address) on a fault. */
typedef void (*lm_store_cb)(void *arg, int status, const char *data, size_t len, const char *err);

/* One outstanding asynchronous call, the handle to cancel it. It is valid
 * until its callback starts or lm_store_cancel() is called; the store frees
 * it. */
typedef struct lm_store_call lm_store_call;

struct lm_store {
    /* 0 with a malloc'd *data (the caller frees; one spare NUL after *len)
     * when found, 1 when absent, -1 with err on a fault. */
    int (*get)(lm_store *s, const char *key, char **data, size_t *len, char *err);
    /* LM_OK or LM_ERR with err. */
    int (*put)(lm_store *s, const char *key, const void *data, size_t len, char *err);
    void (*free)(lm_store *s);
    const char *kind; /* "redis", "memory", "dir" */
    /* The asynchronous side, all NULL where the store has none: reached
     * through lm_store_attach() and the calls after it, which say what they
     * do. */
    int (*attach)(lm_store *s, struct event_base *base, char *err);
    void (*detach)(lm_store *s);
    int (*get_async)(lm_store *s, const char *key, lm_store_cb cb, void *arg, lm_store_call **call,
                     char *err);
    int (*put_async)(lm_store *s, const char *key, const void *data, size_t len, lm_store_cb cb,
                     void *arg, lm_store_call **call, char *err);
};

/* A connection to Redis at host:port (hiredis, synchronous, 5 s timeout;
 * a lost connection is reopened); NULL with err when it
 * cannot connect or PING fails. Its asynchronous side opens a second
 * connection on the first lm_store_attach(). */
lm_store *lm_store_redis(const char *host, int port, char *err);
/* The same, its connections made from inside the network namespace at
 * netns_path ("/run/netns/NAME"; NULL: where the caller is), so that its
 * traffic crosses that namespace's links (an emulated node's veth,
 * docs/nodes.md). The calling thread enters the namespace only for each
 * connect and comes back at once; a socket stays in the namespace it was
 * made in. Needs CAP_SYS_ADMIN; NULL with err when it cannot enter. */
lm_store *lm_store_redis_netns(const char *host, int port, const char *netns_path, char *err);
/* An in-memory store (for benchmarks of the channel alone). */
lm_store *lm_store_memory(void);
/* Objects as files under dir (a key's '/' are subfolders). */
lm_store *lm_store_dir(const char *dir, char *err);
/* Frees a store; NULL is a harmless no-op. Asynchronous calls still
 * outstanding get their callback from inside this call, with status -1
 * (cancelled ones do not), and the asynchronous connection is closed. */
void lm_store_free(lm_store *s);

/* Asynchronous calls on a libevent loop. */

/* Makes s answer asynchronously on base. Attachments are counted: each
 * LM_OK is matched by one lm_store_detach(), and the last detach must come
 * before base is freed (it closes the asynchronous connection; calls still
 * outstanding then get status -1). LM_OK and nothing else on a store
 * without an asynchronous side (see lm_store_has_async); LM_ERR with err
 * when s is attached to another loop. Redis being down is no error here:
 * the calls report it, and each call reconnects when needed. */
int lm_store_attach(lm_store *s, struct event_base *base, char *err);
/* Undoes one lm_store_attach(). NULL is a harmless no-op. */
void lm_store_detach(lm_store *s);
/* True when s has an asynchronous side (Redis). */
int lm_store_has_async(const lm_store *s);
/* Starts a GET of key on an attached store. cb gets the outcome later,
 * from the loop (never from inside this call); *call (when call is not
 * NULL) receives the handle. LM_ERR with err when the store is not
 * attached or Redis cannot be reached at once; then cb is never called. */
int lm_store_get_async(lm_store *s, const char *key, lm_store_cb cb, void *arg,
                       lm_store_call **call, char *err);
/* Starts a PUT of data[0..len) (copied before this returns), as above. */
int lm_store_put_async(lm_store *s, const char *key, const void *data, size_t len, lm_store_cb cb,
                       void *arg, lm_store_call **call, char *err);
/* Cancels call: its callback will never run (a reply that comes later is
 * dropped). Only for a call whose callback has not started; NULL is a
 * harmless no-op. */
void lm_store_cancel(lm_store_call *call);

/* The asynchronous Redis client behind the Redis store
 * (store_redis_async.c). The Redis store's asynchronous side is this; it is
 * declared here for the store and its tests. The calls behave as the
 * lm_store_* ones above. */
typedef struct lm_redis_async lm_redis_async;
/* A client of host:port on no loop yet. When Redis leaves calls without an
 * answer for timeout_ms, they fail and the connection is dropped (the next
 * call reconnects). NULL when out of memory. */
lm_redis_async *lm_redis_async_new(const char *host, int port, int timeout_ms);
/* Makes every later connect of a happen inside the namespace at netns_path
 * (NULL or "": where the caller is). */
void lm_redis_async_set_netns(lm_redis_async *a, const char *netns_path);
int lm_redis_async_attach(lm_redis_async *a, struct event_base *base, char *err);
void lm_redis_async_detach(lm_redis_async *a);
int lm_redis_async_get(lm_redis_async *a, const char *key, lm_store_cb cb, void *arg,
                       lm_store_call **call, char *err);
int lm_redis_async_put(lm_redis_async *a, const char *key, const void *data, size_t len,
                       lm_store_cb cb, void *arg, lm_store_call **call, char *err);
/* Closes the connection (outstanding calls get status -1, cancelled ones
 * nothing) and frees a, attached or not. NULL is a harmless no-op. */
void lm_redis_async_free(lm_redis_async *a);

/* A redis-server Lumos started itself. */
typedef struct {
    lm_child child;
    int port;
    char dir[256]; /* its private temporary folder */
} lm_redis_server;

/* Starts redis-server on a free loopback port in a private temporary
 * folder, without persistence, and waits until it answers PING. */
int lm_redis_server_start(lm_redis_server *r, char *err);
/* Connects to Redis at addr ("HOST:PORT"), or, when addr is NULL, starts a
 * private server in srv and connects to it. where (if not NULL) receives
 * "HOST:PORT". The caller frees the store and stops srv (a no-op when none
 * was started; srv must be zeroed before). */
lm_store *lm_redis_open(const char *addr, lm_redis_server *srv, char *where, size_t wn, char *err);

/* Stops it (SHUTDOWN NOSAVE, then SIGKILL) and removes its folder. */
void lm_redis_server_stop(lm_redis_server *r);

#endif
