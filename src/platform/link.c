/* link.c -- a node's (or the host's) link applied to the platform's
 * traffic (link.h): the storage path's proxy, tbf and namespaced store,
 * and the per-frame model of the gateway -> instance path. */
#include "platform/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel/conn.h"
#include "util/util.h"

struct lm_link {
    lm_node *node;          /* NULL: the host's storage path */
    lm_shape_sched sched;   /* the whole schedule (owned): the frames' model */
    lm_shape_sched proxied; /* what the proxy applies: the rate left out when tbf has it */
    uint64_t start_ns;      /* the schedules' time 0 */
    uint64_t seed;
    uint64_t tbf_rate_bps; /* 0: no tbf */
    lm_shape_proxy *proxy;
    lm_store *store;
};

struct lm_link_conn {
    lm_link *l;
    lm_shape_model m[2]; /* 0: INVOKE (platform -> instance), 1: RESULT */
};

/* The rate every step has, or 0 when there is none or it changes. */
static uint64_t constant_rate(const lm_shape_sched *s) {
    if (!s->n) return 0;
    for (size_t i = 1; i < s->n; i++)
        if (s->steps[i].cond.rate_bps != s->steps[0].cond.rate_bps) return 0;
    return s->steps[0].cond.rate_bps;
}

static int copy_sched(const lm_shape_sched *in, lm_shape_sched *out, char *err) {
    memset(out, 0, sizeof(*out));
    if (!in || !in->n) return LM_OK;
    out->steps = calloc(in->n, sizeof(*out->steps));
    if (!out->steps) return lm_errf(err, "out of memory");
    memcpy(out->steps, in->steps, in->n * sizeof(*out->steps));
    out->n = in->n;
    return LM_OK;
}

void lm_link_down(lm_link *l) {
    if (!l) return;
    lm_store_free(l->store);
    lm_shape_proxy_stop(l->proxy);
    if (l->tbf_rate_bps && l->node) {
        lm_shape_tbf_clear(l->node->veth_host, NULL, NULL);
        lm_shape_tbf_clear(l->node->veth_node, l->node->netns, NULL);
    }
    lm_shape_sched_free(&l->sched);
    lm_shape_sched_free(&l->proxied);
    free(l);
}

static lm_link *link_up(lm_node *n, const lm_shape_sched *sched, const char *redis_addr,
                        uint64_t seed, char *err) {
    lm_link *l = calloc(1, sizeof(*l));
    if (!l) return lm_errf(err, "out of memory"), NULL;
    l->node = n;
    l->seed = seed;
    const char *who = n ? n->p.name : "host";
    if (copy_sched(sched, &l->sched, err) != LM_OK || copy_sched(sched, &l->proxied, err) != LM_OK)
        goto fail;
    /* Bandwidth on a node's veth belongs to the kernel (tbf: the rate of
     * real packets); the proxy then shapes only the rest. */
    if (n && (l->tbf_rate_bps = constant_rate(&l->sched))) {
        for (size_t i = 0; i < l->proxied.n; i++)
            l->proxied.steps[i].cond.rate_bps = 0;
        if (lm_shape_tbf_set(n->veth_host, NULL, l->tbf_rate_bps, 0, 0, err) != LM_OK ||
            lm_shape_tbf_set(n->veth_node, n->netns, l->tbf_rate_bps, 0, 0, err) != LM_OK)
            goto fail;
    }
    char listen[64];
    snprintf(listen, sizeof(listen), "%s:0", n ? n->host_addr : "127.0.0.1");
    lm_shape_proxy_opts po = {.listen_fd = -1,
                              .listen_addr = listen,
                              .upstream = redis_addr,
                              .up = &l->proxied,
                              .seed = seed};
    l->start_ns = lm_now_ns();
    if (!(l->proxy = lm_shape_proxy_start(&po, err))) goto fail;
    char host[64];
    int port;
    if (lm_parse_hostport(lm_shape_proxy_addr(l->proxy), host, sizeof(host), &port, err) != LM_OK)
        goto fail;
    l->store = lm_store_redis_netns(host, port, n ? n->netns_path : NULL, err);
    if (!l->store) goto fail;
    return l;
fail:;
    char why[LM_ERRLEN];
    snprintf(why, sizeof(why), "the link of %s: %s", who, err);
    lm_link_down(l);
    lm_errf(err, "%s", why);
    return NULL;
}

lm_link *lm_link_node_up(lm_node *n, const lm_shape_sched *sched, const char *redis_addr,
                         uint64_t seed, char *err) {
    if (!n || !n->up) return lm_errf(err, "the node is not up"), NULL;
    return link_up(n, sched, redis_addr, seed, err);
}

lm_link *lm_link_host_up(const lm_shape_sched *sched, const char *redis_addr, uint64_t seed,
                         char *err) {
    return link_up(NULL, sched, redis_addr, seed, err);
}

lm_store *lm_link_store(lm_link *l) { return l ? l->store : NULL; }

const char *lm_link_addr(const lm_link *l) { return l ? lm_shape_proxy_addr(l->proxy) : ""; }

int lm_link_tbf(const lm_link *l) { return l && l->tbf_rate_bps != 0; }

void lm_link_stats(lm_link *l, lm_shape_stats *out) {
    memset(out, 0, sizeof(*out));
    if (l) lm_shape_proxy_stats(l->proxy, out);
}

lm_link_conn *lm_link_conn_new(lm_link *l, uint64_t k) {
    if (!l || !l->node) return NULL;
    lm_link_conn *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->l = l;
    /* Seeds apart from the proxy's (seed + 2k + d): the frames' streams
     * start at seed + 2^32. A byte stream: fifo, loss as retransmit. */
    for (int d = 0; d < 2; d++)
        lm_shape_model_init(&c->m[d], &l->sched, l->start_ns,
                            l->seed + (1ull << 32) + 2 * k + (uint64_t)d, 1, LM_SHAPE_RETRANSMIT);
    return c;
}

uint64_t lm_link_conn_frame(void *arg, int up, size_t bytes, uint64_t handed_ns, uint64_t now_ns) {
    lm_link_conn *c = arg;
    if (c->l->node->cut) return LM_CONN_HOLD;
    lm_shape_model *m = &c->m[up ? 1 : 0];
    lm_shape_fate f = lm_shape_deliver(m, bytes, now_ns);
    if (f.dropped) return LM_CONN_LOST;
    uint64_t at = f.at_ns;
    if (handed_ns < now_ns) {
        /* Handed over while the link was cut: every send meanwhile was
         * lost; TCP's next retransmission after the restore (RTO after the
         * first send, doubling, at most 15) is the one that gets through. */
        const lm_shape_cond *cond = lm_shape_sched_at(&c->l->sched, now_ns - c->l->start_ns);
        uint64_t rto = lm_shape_rto_ns(cond), t = handed_ns + rto;
        for (int tries = 1; t < now_ns; tries++) {
            if (tries == 15) return LM_CONN_LOST;
            rto *= 2;
            t += rto;
        }
        at += t - now_ns;
    }
    return at;
}

void lm_link_conn_free(lm_link_conn *c) { free(c); }
