/* knative.c -- `lumos run SPEC --platform knative` (internal.h): the URL
 * template and the services' names, the checks made before any work, the
 * services rows, and the set of instances a run has written rows for.
 * The names are knative_names.c, the cell driver knative_cell.c, kubectl
 * kubectl.c. */
#include "experiment/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/load.h"
#include "proto/clock.h"

/* ---- instances already written ----------------------------------------- */

struct lm__kn_seen {
    char **ids, **uids; /* an instance and its pod's uid ("" when none) */
    size_t n, cap;
};

lm__kn_seen *lm__kn_seen_new(void) { return calloc(1, sizeof(lm__kn_seen)); }

void lm__kn_seen_free(lm__kn_seen *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->ids[i]);
        free(s->uids[i]);
    }
    free(s->ids);
    free(s->uids);
    free(s);
}

int lm__kn_seen_add(lm__kn_seen *s, const char *id, const char *pod_uid) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0) return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        char **v = realloc(s->ids, cap * sizeof *v);
        if (!v) return -1;
        s->ids = v;
        char **u = realloc(s->uids, cap * sizeof *u);
        if (!u) return -1;
        s->uids = u;
        s->cap = cap;
    }
    s->ids[s->n] = strdup(id);
    s->uids[s->n] = strdup(pod_uid ? pod_uid : "");
    if (!s->ids[s->n] || !s->uids[s->n]) {
        free(s->ids[s->n]);
        free(s->uids[s->n]);
        return -1;
    }
    s->n++;
    return 1;
}

const char *lm__kn_instance_of(const lm__kn_seen *s, const char *pod_uid) {
    /* The latest instance of the pod: a front starts a new one after a crash. */
    for (size_t i = s->n; pod_uid && *pod_uid && i > 0; i--)
        if (strcmp(s->uids[i - 1], pod_uid) == 0) return s->ids[i - 1];
    return NULL;
}

/* ---- checks and services ------------------------------------------------ */

int lm__kn_url(const lm_exp_knative *kn, const char *function, const char *runtime, char *out,
               size_t n, char *service, size_t sn, char *err) {
    if (lm_exp_service_name(kn->service_template, function, runtime, service, sn, err) != LM_OK)
        return LM_ERR;
    size_t sl = strlen(service);
    for (size_t i = 0; i < kn->nservice_urls; i++) {
        const char *e = kn->service_urls[i];
        if (strncmp(e, service, sl) == 0 && e[sl] == '=') {
            snprintf(out, n, "%s", e + sl + 1);
            return LM_OK;
        }
    }
    if (!kn->url_template)
        return lm_errf(err,
                       "no URL for service %s (%s@%s): give --url-template or --service-url "
                       "%s=URL",
                       service, function, runtime, service);
    return lm_exp_expand(kn->url_template, function, runtime, service, out, n, err);
}

/* The target the load client connects to for url: the URL itself, or the
 * ingress with the URL's path (its host then goes as Host:). */
int lm__kn_target(const lm_exp_knative *kn, const char *url, char *connect, size_t cn, char *host,
                  size_t hn, char *err) {
    host[0] = 0;
    if (!kn->ingress) {
        lm_load_target t;
        if (lm_load_parse_url(url, &t, err) != LM_OK)
            return lm_errf(err,
                           "%s (a cluster's service URL names a host: give --ingress "
                           "HOST:PORT, the ingress' numeric address, to connect there)",
                           url);
        snprintf(connect, cn, "%s", url);
        return LM_OK;
    }
    const char *s = strncmp(url, "http://", 7) == 0 ? url + 7 : NULL;
    if (!s) return lm_errf(err, "%s: a service URL must begin with http://", url);
    size_t hl = strcspn(s, "/");
    if (hl == 0 || hl >= hn) return lm_errf(err, "%s: no host, or a host too long", url);
    memcpy(host, s, hl);
    host[hl] = 0;
    const char *path = s[hl] ? s + hl : "/";
    snprintf(connect, cn, "http://%s%s", kn->ingress, path);
    lm_load_target t;
    if (lm_load_parse_url(connect, &t, err) != LM_OK)
        return lm_errf(err, "--ingress %s: %s", kn->ingress, err);
    return LM_OK;
}

int lm__kn_check(const lm_exp_knative *kn, const lm_exp_spec *s, char *err) {
    for (size_t i = 0; i < kn->nservice_urls; i++)
        if (!strchr(kn->service_urls[i], '=') || kn->service_urls[i][0] == '=')
            return lm_errf(err, "--service-url '%s': expected SERVICE=URL", kn->service_urls[i]);
    for (size_t l = 0; l < s->nloads; l++)
        if (s->loads[l].kind == LM_EXP_TRACE)
            return lm_errf(err,
                           "%s: trace loads are not run on --platform knative yet (closed and "
                           "open loads are)",
                           s->path);
    for (size_t f = 0; f < s->nfunctions; f++)
        for (size_t r = 0; r < s->nruntimes; r++) {
            char url[2048], svc[128], connect[2048], host[512];
            if (lm__kn_url(kn, s->functions[f], s->runtimes[r], url, sizeof url, svc, sizeof svc,
                           err) != LM_OK ||
                lm__kn_target(kn, url, connect, sizeof connect, host, sizeof host, err) != LM_OK)
                return LM_ERR;
        }
    int cold = 0;
    for (size_t i = 0; i < s->nstarts; i++)
        cold |= s->starts[i] == LM_EXP_COLD;
    if (cold && kn->cold != LM_EXP_COLD_NONE) {
        char path[4096];
        const char *k = kn->kubectl ? kn->kubectl : "kubectl";
        if (!strchr(k, '/') && lm_which(k, path, sizeof path) != LM_OK)
            return lm_errf(err,
                           "%s not found on PATH: cold cells need it to wait for a service's "
                           "pods to reach zero (install kubectl, or --cold none)",
                           k);
    }
    return LM_OK;
}

int64_t lm__kn_service_id(const lm_exp_spec *s, const char *function, const char *runtime) {
    for (size_t f = 0; f < s->nfunctions; f++)
        for (size_t r = 0; r < s->nruntimes; r++)
            if (!strcmp(s->functions[f], function) && !strcmp(s->runtimes[r], runtime))
                return (int64_t)(f * s->nruntimes + r + 1);
    return LM_RESULTS_NULL;
}

int lm__kn_services(const lm_exp_spec *s, const lm_exp_knative *kn, lm_results *db, char *err) {
    for (size_t f = 0; f < s->nfunctions; f++)
        for (size_t r = 0; r < s->nruntimes; r++) {
            char url[2048], svc[128], name[300], cfg[2400], q1[2100], q2[200];
            if (lm__kn_url(kn, s->functions[f], s->runtimes[r], url, sizeof url, svc, sizeof svc,
                           err) != LM_OK)
                return LM_ERR;
            snprintf(name, sizeof name, "%s@%s", s->functions[f], s->runtimes[r]);
            snprintf(cfg, sizeof cfg, "{\"knative_service\":%s,\"url\":%s}",
                     lm_json_quote(q2, sizeof q2, svc), lm_json_quote(q1, sizeof q1, url));
            lm_results_service row;
            lm_results_service_init(&row);
            row.id = lm__kn_service_id(s, s->functions[f], s->runtimes[r]);
            row.name = name;
            row.function = s->functions[f];
            row.runtime = s->runtimes[r];
            row.config_json = cfg;
            row.platform = "knative";
            row.created_ns = (int64_t)lm_now_ns();
            if (lm_results_add_service(db, &row, err) != LM_OK) return LM_ERR;
        }
    return lm_results_flush(db, err);
}
