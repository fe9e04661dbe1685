/* store.h -- the host side of storage: where the objects that functions GET
 * and PUT over the channel really live (Redis, memory or a folder), and the
 * private redis-server Lumos starts when the user gives none. */
#ifndef LM_STORE_H
#define LM_STORE_H

#include <stddef.h>

#include "util/util.h"

typedef struct lm_store lm_store;

struct lm_store {
    /* 0 with a malloc'd *data (the caller frees; one spare NUL after *len)
     * when found, 1 when absent, -1 with err on a fault. */
    int (*get)(lm_store *s, const char *key, char **data, size_t *len, char *err);
    /* LM_OK or LM_ERR with err. */
    int (*put)(lm_store *s, const char *key, const void *data, size_t len, char *err);
    void (*free)(lm_store *s);
    const char *kind; /* "redis", "memory", "dir" */
};

/* A connection to Redis at host:port (hiredis, synchronous); NULL with err
 * when it cannot connect or PING fails. */
lm_store *lm_store_redis(const char *host, int port, char *err);
/* An in-memory store (for benchmarks of the channel alone). */
lm_store *lm_store_memory(void);
/* Objects as files under dir (a key's '/' are subfolders). */
lm_store *lm_store_dir(const char *dir, char *err);
/* Frees a store; NULL is a harmless no-op. */
void lm_store_free(lm_store *s);

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
