/* gateway_routes.h -- the gateway's answers that are not function calls:
 * GET /metrics (metrics.h's exposition into an evbuffer) and POST /services
 * (service_config.h's parser, then the pool). Split from gateway.c so each
 * file has one job. */
#ifndef LM_GATEWAY_ROUTES_H
#define LM_GATEWAY_ROUTES_H

#include <event2/buffer.h>
#include <event2/http.h>

#include "platform/metrics.h"
#include "platform/pool.h"

/* A JSON error answer {"status":"error","error":code,"message":msg}. */
void lm_gateway_reply_error(struct evhttp_request *req, int status, const char *code,
                            const char *msg);

/* Appends the Prometheus text of svcs and g to out. LM_OK or LM_ERR. */
int lm_gateway_write_metrics(const lm_metrics_service *const *svcs, int n,
                             const lm_metrics_global *g, struct evbuffer *out, char *err);

/* What POST /services builds on: the command line's settings with a
 * --config file's "defaults" over them, and its default runtimes. */
typedef struct lm_serve_defaults lm_serve_defaults;

/* From the command line's settings alone. NULL when out of memory. */
lm_serve_defaults *lm_serve_defaults_new(const lm_service_config *base);
void lm_serve_defaults_free(lm_serve_defaults *d); /* NULL is a no-op */

/* Reads a --config file (docs/serve-config.md): its defaults and default
 * runtimes go into d and into the pool (for services deployed on first
 * use), and its services are deployed. LM_OK or LM_ERR with err. */
int lm_serve_defaults_load(lm_serve_defaults *d, lm_pool *p, const char *path, char *err);

/* Deploys the services a POST /services body describes (one service object
 * or {"services":[...]}); on success writes them as a JSON array to out and
 * returns 201; otherwise returns 400 (a bad body, an unknown function or
 * runtime) or 409 (a runtime not available here) with err. */
int lm_gateway_deploy(lm_pool *p, const lm_serve_defaults *d, const char *body, size_t len,
                      struct evbuffer *out, char *err);

#endif
