/* internal.h -- what the deploy room's files share. */
#ifndef LM_DEPLOY_INTERNAL_H
#define LM_DEPLOY_INTERNAL_H

#include <jansson.h>

#include "deploy.h"

/* Appends doc (an object or a non-empty array) to b as one YAML document,
 * "---" first (yaml.c). LM_OK, or LM_ERR for a value YAML cannot hold here
 * (a scalar document, a NaN). */
int lm__deploy_yaml(lm_buf *b, const json_t *doc);

/* The cluster-wide objects (cluster.c); each returns a new reference. */
json_t *lm__deploy_namespace(const lm_deploy_opts *o);
json_t *lm__deploy_config_features(void);
json_t *lm__deploy_config_autoscaler(void);
json_t *lm__deploy_config_deployment(const lm_deploy_opts *o);
/* One RuntimeClass per distinct runtime_class the services use (names,
 * sorted, n of them), each with its handler from classes. */
json_t *lm__deploy_runtime_classes(const lm_deploy_classes *c, char **names, int n);
json_t *lm__deploy_redis(const lm_deploy_opts *o);
json_t *lm__deploy_agent(const lm_deploy_opts *o, char *err);
/* "lumos-redis.NAMESPACE.svc.cluster.local:6379" */
void lm__deploy_redis_addr(const lm_deploy_opts *o, char *out, size_t n);

/* One service's Knative Service (service.c), notes appended. NULL with err. */
json_t *lm__deploy_service(const lm_deploy_opts *o, const lm_service_spec *s,
                           const lm_deploy_class *cls, lm_buf *notes, char *err);

/* Labels shared by every object (a new object). */
json_t *lm__deploy_labels(const char *name);

#endif
