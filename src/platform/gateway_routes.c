/* gateway_routes.c -- GET /metrics and POST /services (and --config, which
 * deploys the same way). */
#include "gateway_routes.h"

#include <stdlib.h>
#include <string.h>

#include "platform/service_config.h"

struct lm_serve_defaults {
    lm_service_spec base;
    lm_default_runtimes runtimes;
};

int lm_gateway_write_metrics(const lm_metrics_service *const *svcs, int n,
                             const lm_metrics_global *g, struct evbuffer *out, char *err) {
    lm_buf b = {0};
    if (lm_metrics_write(svcs, n, g, &b, err) != LM_OK) {
        lm_buf_free(&b);
        return LM_ERR;
    }
    evbuffer_add(out, b.data, b.len);
    lm_buf_free(&b);
    return LM_OK;
}

lm_serve_defaults *lm_serve_defaults_new(const lm_service_config *base) {
    lm_serve_defaults *d = calloc(1, sizeof(*d));
    if (d) lm_service_spec_from_config(base, &d->base);
    return d;
}

void lm_serve_defaults_free(lm_serve_defaults *d) { free(d); }

/* Deploys specs[0..n) on p; writes each as JSON into out when not NULL. */
static int deploy_all(lm_pool *p, const lm_service_spec *specs, int n, struct evbuffer *out,
                      char *err) {
    if (out) evbuffer_add_printf(out, "[");
    for (int i = 0; i < n; i++) {
        char why[LM_ERRLEN];
        if (!lm_pool_deploy(p, specs[i].name, &specs[i].cfg, why))
            return lm_errf(err, "%s: %s", specs[i].name, why);
        char *json = out ? lm_service_spec_to_json(&specs[i], NULL) : NULL;
        if (out) evbuffer_add_printf(out, "%s%s", i ? "," : "", json ? json : "{}");
        free(json);
    }
    if (out) evbuffer_add_printf(out, "]\n");
    return LM_OK;
}

int lm_serve_defaults_load(lm_serve_defaults *d, lm_pool *p, const char *path, char *err) {
    lm_serve_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg) return lm_errf(err, "out of memory");
    if (lm_serve_config_load(path, &d->base, cfg, err) != LM_OK) {
        free(cfg);
        return LM_ERR;
    }
    d->base = cfg->defaults;
    d->runtimes = cfg->runtimes;
    lm_pool_set_defaults(p, &cfg->defaults.cfg);
    int rc = LM_OK;
    for (int i = 0; i < cfg->runtimes.n && rc == LM_OK; i++)
        rc = lm_pool_set_default_runtime(p, cfg->runtimes.v[i].function, cfg->runtimes.v[i].runtime,
                                         err);
    if (rc == LM_OK && cfg->runtimes.fallback[0])
        rc = lm_pool_set_default_runtime(p, "*", cfg->runtimes.fallback, err);
    if (rc == LM_OK) rc = deploy_all(p, cfg->services, cfg->nservices, NULL, err);
    lm_serve_config_free(cfg);
    free(cfg);
    return rc;
}

int lm_gateway_deploy(lm_pool *p, const lm_serve_defaults *d, const char *body, size_t len,
                      struct evbuffer *out, char *err) {
    lm_service_spec *specs = NULL;
    int n = 0;
    if (lm_service_specs_parse(body, len, &d->base, &d->runtimes, &specs, &n, err) != LM_OK)
        return 400;
    struct evbuffer *tmp = evbuffer_new();
    int rc = tmp ? deploy_all(p, specs, n, tmp, err) : lm_errf(err, "out of memory");
    free(specs);
    if (rc != LM_OK) {
        evbuffer_free(tmp);
        return strstr(err, "not available") || strstr(err, "install") ? 409 : 400;
    }
    evbuffer_add_buffer(out, tmp);
    evbuffer_free(tmp);
    return 201;
}
