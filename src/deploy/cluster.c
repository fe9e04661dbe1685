/* cluster.c -- the objects beside the Knative Services: the namespace,
 * the Knative config changes (knative-serving's config-features,
 * config-autoscaler, config-deployment), the RuntimeClasses
 * (node.k8s.io/v1), Redis (a Deployment and its Service) and the lumos
 * agent's DaemonSet. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define AGENT_PORT 9464

json_t *lm__deploy_namespace(const lm_deploy_opts *o) {
    return json_pack("{s:s,s:s,s:{s:s,s:o}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
                     "name", o->namespace, "labels", lm__deploy_labels(o->namespace));
}

/* A ConfigMap of knative-serving. kubectl apply merges it into the one
 * Knative installed: keys it does not name stay as they are. */
static json_t *knative_config(const char *name, json_t *data) {
    return json_pack("{s:s,s:s,s:{s:s,s:s},s:o}", "apiVersion", "v1", "kind", "ConfigMap",
                     "metadata", "name", name, "namespace", "knative-serving", "data", data);
}

json_t *lm__deploy_config_features(void) {
    return knative_config("config-features",
                          json_pack("{s:s}", "kubernetes.podspec-runtimeclassname", "enabled"));
}

json_t *lm__deploy_config_autoscaler(void) {
    /* initial-scale 0 (a service starts with no pod, as Lumos' do) is
     * refused unless the cluster allows it. */
    return knative_config("config-autoscaler", json_pack("{s:s,s:s}", "allow-zero-initial-scale",
                                                         "true", "enable-scale-to-zero", "true"));
}

/* Knative resolves image tags to digests from its controller, which cannot
 * reach a registry on a node's loopback or one without TLS: it skips the
 * registry the images are in (and its defaults). */
json_t *lm__deploy_config_deployment(const lm_deploy_opts *o) {
    char host[256], list[400];
    snprintf(host, sizeof(host), "%s", o->registry);
    host[strcspn(host, "/")] = 0;
    snprintf(list, sizeof(list), "kind.local,ko.local,dev.local,%s", host);
    return knative_config("config-deployment",
                          json_pack("{s:s}", "registries-skipping-tag-resolving", list));
}

json_t *lm__deploy_runtime_classes(const lm_deploy_classes *c, char **names, int n) {
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        const char *handler = names[i];
        for (int k = 0; k < c->n; k++)
            if (strcmp(c->v[k].runtime_class, names[i]) == 0) {
                handler = c->v[k].handler;
                break;
            }
        json_array_append_new(list,
                              json_pack("{s:s,s:s,s:{s:s,s:o},s:s}", "apiVersion", "node.k8s.io/v1",
                                        "kind", "RuntimeClass", "metadata", "name", names[i],
                                        "labels", lm__deploy_labels(names[i]), "handler", handler));
    }
    return list;
}

void lm__deploy_redis_addr(const lm_deploy_opts *o, char *out, size_t n) {
    snprintf(out, n, "lumos-redis.%s.svc.cluster.local:6379", o->namespace);
}

json_t *lm__deploy_redis(const lm_deploy_opts *o) {
    json_t *sel = json_pack("{s:s}", "app.kubernetes.io/name", "lumos-redis");
    /* No persistence: the functions' objects are loaded by `lumos data
     * load` before a run, as on one machine. */
    json_t *dep = json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:o},s:{s:i,s:{s:O},s:{s:{s:o},s:{s:[{s:s,s:s,s:[s,s,s,s],"
        "s:[{s:s,s:i}],s:{s:{s:s,s:s}}}]}}}}",
        "apiVersion", "apps/v1", "kind", "Deployment", "metadata", "name", "lumos-redis",
        "namespace", o->namespace, "labels", lm__deploy_labels("lumos-redis"), "spec", "replicas",
        1, "selector", "matchLabels", sel, "template", "metadata", "labels",
        lm__deploy_labels("lumos-redis"), "spec", "containers", "name", "redis", "image",
        o->redis_image, "args", "--save", "", "--appendonly", "no", "ports", "name", "redis",
        "containerPort", 6379, "resources", "requests", "cpu", "250m", "memory", "256Mi");
    json_t *svc =
        json_pack("{s:s,s:s,s:{s:s,s:s,s:o},s:{s:O,s:[{s:s,s:i,s:s}]}}", "apiVersion", "v1", "kind",
                  "Service", "metadata", "name", "lumos-redis", "namespace", o->namespace, "labels",
                  lm__deploy_labels("lumos-redis"), "spec", "selector", sel, "ports", "name",
                  "redis", "port", 6379, "targetPort", "redis");
    json_decref(sel);
    return json_pack("[o,o]", dep, svc);
}

json_t *lm__deploy_agent(const lm_deploy_opts *o, char *err) {
    char image[512];
    if (lm_deploy_image_ref(o->registry, "", "agent", o->tag, image, sizeof(image), err) != LM_OK)
        return NULL;
    json_t *sel = json_pack("{s:s}", "app.kubernetes.io/name", "lumos-agent");
    /* `lumos agent`'s own command line (cmd_agent.c): every node's cgroup
     * tree, read-only, where it reads each pod's CPU and memory; the
     * node's name from the downward API. */
    char port[16];
    snprintf(port, sizeof(port), "%d", AGENT_PORT);
    json_t *env = json_pack("[{s:s,s:{s:{s:s}}}]", "name", "LUMOS_NODE", "valueFrom", "fieldRef",
                            "fieldPath", "spec.nodeName");
    json_t *container = json_pack(
        "{s:s,s:s,s:[s,s,s,s,s],s:o,s:[{s:s,s:i}],s:{s:{s:s,s:s}},s:[{s:s,s:s,s:b}],"
        "s:{s:{s:s,s:s},s:{s:s}}}",
        "name", "agent", "image", image, "args", "agent", "--port", port, "--cgroup-root",
        "/host/sys/fs/cgroup", "env", env, "ports", "name", "metrics", "containerPort", AGENT_PORT,
        "readinessProbe", "httpGet", "path", "/healthz", "port", "metrics", "volumeMounts", "name",
        "cgroup", "mountPath", "/host/sys/fs/cgroup", "readOnly", 1, "resources", "requests", "cpu",
        "50m", "memory", "64Mi", "limits", "memory", "128Mi");
    json_t *ds = json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:o},s:{s:{s:O},s:{s:{s:o},s:{s:[o],s:[{s:s}],s:[{s:s,s:{s:s,s:s}}]}"
        "}}}",
        "apiVersion", "apps/v1", "kind", "DaemonSet", "metadata", "name", "lumos-agent",
        "namespace", o->namespace, "labels", lm__deploy_labels("lumos-agent"), "spec", "selector",
        "matchLabels", sel, "template", "metadata", "labels", lm__deploy_labels("lumos-agent"),
        "spec", "containers", container, "tolerations", "operator", "Exists", "volumes", "name",
        "cgroup", "hostPath", "path", "/sys/fs/cgroup", "type", "Directory");
    /* A headless Service: one address per node's agent (its Endpoints). */
    json_t *svc = json_pack("{s:s,s:s,s:{s:s,s:s,s:o},s:{s:s,s:O,s:[{s:s,s:i,s:s}]}}", "apiVersion",
                            "v1", "kind", "Service", "metadata", "name", "lumos-agent", "namespace",
                            o->namespace, "labels", lm__deploy_labels("lumos-agent"), "spec",
                            "clusterIP", "None", "selector", sel, "ports", "name", "metrics",
                            "port", AGENT_PORT, "targetPort", "metrics");
    json_decref(sel);
    json_t *list = ds && svc ? json_pack("[o,o]", ds, svc) : NULL;
    if (!list) lm_errf(err, "agent manifest: out of memory");
    return list;
}
