/* conn.h -- the event-driven host side of one instance's channel, on a
 * libevent base: READY, then one INVOKE at a time, the function's storage
 * calls served from a store, its RESULT delivered to a callback. This is
 * what the platform's pool drives (event.c); lumos invoke and run use the
 * blocking channel.h, over the same channel core (internal.h). */
#ifndef LM_CONN_H
#define LM_CONN_H

#include <event2/event.h>
#include <stdint.h>

#include "channel/channel.h"

typedef struct lm_conn lm_conn;

/* Called once when the instance sent READY (ready_ns set), or when it
 * failed before (err says how: it ended, a bad frame, the start timeout). */
typedef void (*lm_conn_ready_fn)(lm_conn *c, void *arg, uint64_t ready_ns, const char *err);
/* Called once per lm_conn_invoke(): res on success (owned by the conn,
 * valid during the call), or err when the instance failed, timed out or
 * broke the channel (the conn is then dead: free it). */
typedef void (*lm_conn_result_fn)(lm_conn *c, void *arg, const lm_call_result *res,
                                  const char *err);

/* Watches the channel of a started instance (the conn does not own inst:
 * it must outlive the conn). store may be NULL (storage calls then fail
 * with a message). The conn holds one lm_store_attach() of store on base
 * until it is freed, and serves storage calls through the store's
 * asynchronous side when it has one (Redis: the loop never waits for a
 * round trip), else synchronously (memory, folder). ready_timeout_ms bounds
 * the wait for READY. NULL with err when out of memory or when store is
 * attached to another loop. */
lm_conn *lm_conn_new(struct event_base *base, lm_instance *inst, lm_store *store,
                     int ready_timeout_ms, lm_conn_ready_fn on_ready, void *arg, char *err);

/* Sends body (copied) as INVOKE. LM_ERR with err when the conn is not
 * ready, busy with another request, or dead; then cb is never called. */
int lm_conn_invoke(lm_conn *c, const char *body, size_t len, int timeout_ms, lm_conn_result_fn cb,
                   void *arg, char *err);

/* The network between the platform and the instance (an emulated node's
 * link, docs/network.md "the gateway -> instance model"): a function that
 * says when a frame of bytes bytes, handed to the link at handed_ns, is
 * delivered (a time on lm_now_ns' clock), asked at now_ns. up 0 is the
 * INVOKE (platform -> instance), 1 the RESULT (instance -> platform);
 * storage frames are not asked (their traffic crosses the link on its own
 * path). It may answer LM_CONN_HOLD (the link is cut: keep the frame and
 * ask again at lm_conn_link_changed) or LM_CONN_LOST (lost for good: the
 * conn dies as when the instance ends). */
#define LM_CONN_HOLD UINT64_MAX
#define LM_CONN_LOST (UINT64_MAX - 1)
typedef uint64_t (*lm_conn_link_fn)(void *arg, int up, size_t bytes, uint64_t handed_ns,
                                    uint64_t now_ns);
/* Puts c's INVOKE and RESULT frames through fn (arg is fn's, not owned;
 * it must outlive c). fn NULL: straight through, as without a link. A
 * frame held meanwhile waits in the platform (its time is the platform's
 * part of the request's breakdown, not the function's); the request's
 * timeout keeps running. */
void lm_conn_set_link(lm_conn *c, lm_conn_link_fn fn, void *arg);
/* The link changed (restored after a cut): held frames ask fn again. */
void lm_conn_link_changed(lm_conn *c);

/* True when READY arrived and no request is in flight. */
int lm_conn_idle(const lm_conn *c);

/* True while a storage call of the instance waits on the store. */
int lm_conn_storage_pending(const lm_conn *c);

/* Stops watching; pending callbacks are not called, and an answer of the
 * store still outstanding is dropped when it comes. May be called from
 * inside this conn's own callbacks. NULL is a no-op. */
void lm_conn_free(lm_conn *c);

#endif
