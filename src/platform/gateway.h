/* gateway.h -- the HTTP gateway of `lumos serve` (see gateway.c). */
#ifndef LM_GATEWAY_H
#define LM_GATEWAY_H

#include <event2/event.h>

#include "platform/pool.h"

typedef struct {
    int port;                  /* on 127.0.0.1; 0 picks a free one */
    long max_body_bytes;       /* larger bodies are refused with 413 */
    lm_service_config service; /* for every service deployed on first use */
    lm_store *store;           /* the functions' Redis (may be NULL) */
    const char *artifacts;
    const char *data_dir; /* for "storage":"file" (may be NULL) */
} lm_gateway_opts;

typedef struct lm_gateway lm_gateway;

/* Listens and registers SIGINT/SIGTERM to end the loop. NULL with err when
 * the port cannot be bound. */
lm_gateway *lm_gateway_new(struct event_base *base, const lm_gateway_opts *o, char *err);
/* The port it listens on. */
int lm_gateway_port(const lm_gateway *gw);
/* Stops taking requests, cuts clients still waiting, stops every instance.
 * NULL is a no-op. */
void lm_gateway_free(lm_gateway *gw);

#endif
