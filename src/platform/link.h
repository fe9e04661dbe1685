/* link.h -- a network condition applied to the platform's traffic
 * (docs/network.md, docs/nodes.md): the link of an emulated node, or of the
 * host's storage path when there are no nodes.
 *
 * A node's link has two paths. Storage: the node's own Redis connection is
 * made from inside its network namespace to a shaping proxy (shape.h)
 * listening on the host end of its veth (10.213.N.1), which forwards to
 * the real Redis; the proxy applies delay, jitter, loss and reordering,
 * and tbf qdiscs on both ends of the veth the bandwidth (when the rate is
 * the same in every step of the schedule; a rate that changes over time is
 * paced by the proxy instead). Gateway -> instance: the instance's channel
 * is a pipe, not TCP through the namespace, so every INVOKE and RESULT
 * frame gets its delivery time from a per-connection seeded model of the
 * same schedule (lm_conn_set_link), and waits in the platform until then.
 * A cut link (lm_node_set_link) holds everything on both paths: the veth
 * is down, and frames wait and arrive after the restore at the next
 * retransmission (RTO doubling from when they were handed over), as TCP's
 * would. The host's link (no nodes) is only the storage path: the proxy on
 * 127.0.0.1, bandwidth paced by it (no tbf on loopback). */
#ifndef LM_LINK_H
#define LM_LINK_H

#include <stdint.h>

#include "node/node.h"
#include "shape/shape.h"
#include "storage/storage.h"

typedef struct lm_link lm_link;

/* Brings up the link of n (up) with sched (copied; NULL or unshaped: the
 * paths are still the node's, only unshaped) to Redis at redis_addr
 * ("HOST:PORT"), seeds from seed. Needs root. NULL with err (nothing left
 * behind). */
lm_link *lm_link_node_up(lm_node *n, const lm_shape_sched *sched, const char *redis_addr,
                         uint64_t seed, char *err);
/* The host's storage path through a proxy on 127.0.0.1 with sched. */
lm_link *lm_link_host_up(const lm_shape_sched *sched, const char *redis_addr, uint64_t seed,
                         char *err);
/* The store whose connections go over the link (owned by l). */
lm_store *lm_link_store(lm_link *l);
/* Where the proxy listens ("10.213.N.1:PORT"), owned by l. */
const char *lm_link_addr(const lm_link *l);
/* 1 when tbf qdiscs carry the rate on the node's veth. */
int lm_link_tbf(const lm_link *l);
/* The proxy's counters. */
void lm_link_stats(lm_link *l, lm_shape_stats *out);
/* Stops the proxy, frees the store (no conn may hold it any more), removes
 * the qdiscs. NULL is a harmless no-op. */
void lm_link_down(lm_link *l);

/* The gateway -> instance model of one instance's channel over l. */
typedef struct lm_link_conn lm_link_conn;
/* A model pair for the k-th instance on l; NULL when out of memory or when
 * l is NULL or has no node. */
lm_link_conn *lm_link_conn_new(lm_link *l, uint64_t k);
/* The lm_conn_link_fn for an lm_link_conn arg. */
uint64_t lm_link_conn_frame(void *arg, int up, size_t bytes, uint64_t handed_ns, uint64_t now_ns);
/* Frees it; NULL is a harmless no-op. */
void lm_link_conn_free(lm_link_conn *k);

#endif
