/* gateway.h -- the HTTP gateway of `lumos serve` (see gateway.c). */
#ifndef LM_GATEWAY_H
#define LM_GATEWAY_H

#include <event2/event.h>

#include "platform/pool.h"

typedef struct {
    int port;                  /* on 127.0.0.1; 0 picks a free one */
    long max_body_bytes;       /* larger request bodies are refused with 413 */
    lm_service_config service; /* for services deployed on first use */
    lm_pool_opts pool;         /* store, artifacts, results, telemetry */
    int drain_timeout_ms;      /* on SIGINT/SIGTERM, how long requests in flight may finish */
    uint64_t request_id_base;  /* request ids are numbered after it (ids already in results) */
} lm_gateway_opts;

typedef struct lm_gateway lm_gateway;

/* Listens and registers SIGINT/SIGTERM: on either, the gateway answers new
 * requests 503, lets those in flight finish (up to drain_timeout_ms) and
 * ends the loop. NULL with err when the port cannot be bound. */
lm_gateway *lm_gateway_new(struct event_base *base, const lm_gateway_opts *o, char *err);
/* The port it listens on. */
int lm_gateway_port(const lm_gateway *gw);
/* Its pool, to deploy services before serving. */
lm_pool *lm_gateway_pool(lm_gateway *gw);
/* Applies a --config file (docs/serve-config.md): defaults, default
 * runtimes, services. LM_OK or LM_ERR with err. */
int lm_gateway_load_config(lm_gateway *gw, const char *path, char *err);
/* Requests answered so far (any path, any status) and requests recorded. */
uint64_t lm_gateway_answered(const lm_gateway *gw);
/* Stops taking requests, fails those still waiting, stops every instance.
 * NULL is a no-op. */
void lm_gateway_free(lm_gateway *gw);

#endif
