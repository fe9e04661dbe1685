/* service.c -- one Lumos service as a Knative Service (serving.knative.dev/v1):
 * the revision template's autoscaling annotations, runtimeClassName,
 * containerConcurrency, timeoutSeconds, the function's container (its
 * image, port 8080, the Redis address, requests and limits). */
#include <stdio.h>
#include <string.h>

#include "internal.h"

json_t *lm__deploy_labels(const char *name) {
    return json_pack("{s:s,s:s}", "app.kubernetes.io/name", name, "app.kubernetes.io/part-of",
                     "lumos");
}

/* A label value: [A-Za-z0-9._-], '+' and '@' become '-'. */
static void label_value(const char *in, char *out, size_t n) {
    size_t i = 0;
    for (; in[i] && i + 1 < n && i < 63; i++)
        out[i] = (strchr("+@/", in[i]) ? '-' : in[i]);
    out[i] = 0;
}

static json_t *env_var(const char *name, const char *value) {
    return json_pack("{s:s,s:s}", "name", name, "value", value);
}

json_t *lm__deploy_service(const lm_deploy_opts *o, const lm_service_spec *s,
                           const lm_deploy_class *cls, lm_buf *notes, char *err) {
    char name[LM_DEPLOY_NAME_MAX], image[512], rt_label[64], redis[256];
    if (lm_deploy_service_name(s->function, s->runtime, name, sizeof(name), err) != LM_OK)
        return NULL;
    if (lm_deploy_image_ref(o->registry, s->function, cls->image, o->tag, image, sizeof(image),
                            err) != LM_OK)
        return NULL;
    label_value(s->runtime, rt_label, sizeof(rt_label));
    lm__deploy_redis_addr(o, redis, sizeof(redis));
    const lm_service_config *c = &s->cfg;

    json_t *labels = lm__deploy_labels(name);
    json_object_set_new(labels, "lumos.dev/function", json_string(s->function));
    json_object_set_new(labels, "lumos.dev/runtime", json_string(rt_label));

    json_t *ann = lm_deploy_autoscaling_annotations(s, notes);
    json_object_set_new(ann, "lumos.dev/service", json_string(s->name));
    if (c->autoscaler == LM_AUTOSCALER_NONE)
        json_object_set_new(ann, "lumos.dev/autoscaler", json_string("none"));
    if (cls->wasm_annotation)
        json_object_set_new(ann, "module.wasm.image/variant", json_string("compat-smart"));

    json_t *env = json_array();
    json_array_append_new(env, env_var("LUMOS_FUNCTION", s->function));
    json_array_append_new(env, env_var("LUMOS_RUNTIME", s->runtime));
    json_array_append_new(env, env_var("LUMOS_SERVICE", s->name));
    /* What lumos-front reads (src/helpers/front_main.c): its Redis and the
     * pod's name, uid (the key `lumos agent` reads its cgroup by) and node
     * from the downward API. */
    char redis_url[300];
    snprintf(redis_url, sizeof(redis_url), "redis://%s", redis);
    json_array_append_new(env, env_var("REDIS_URL", redis_url));
    json_array_append_new(env, json_pack("{s:s,s:{s:{s:s}}}", "name", "POD_NAME", "valueFrom",
                                         "fieldRef", "fieldPath", "metadata.name"));
    json_array_append_new(env, json_pack("{s:s,s:{s:{s:s}}}", "name", "POD_UID", "valueFrom",
                                         "fieldRef", "fieldPath", "metadata.uid"));
    json_array_append_new(env, json_pack("{s:s,s:{s:{s:s}}}", "name", "NODE_IP", "valueFrom",
                                         "fieldRef", "fieldPath", "status.hostIP"));

    json_t *req = json_object(), *lim = json_object();
    if (o->cpu_request) json_object_set_new(req, "cpu", json_string(o->cpu_request));
    if (o->cpu_limit) json_object_set_new(lim, "cpu", json_string(o->cpu_limit));
    if (c->memory_limit) {
        char mem[32];
        snprintf(mem, sizeof(mem), "%lluMi", (unsigned long long)(c->memory_limit >> 20));
        json_object_set_new(req, "memory", json_string(mem));
        json_object_set_new(lim, "memory", json_string(mem));
    }
    json_t *res = json_object();
    if (json_object_size(req)) json_object_set(res, "requests", req);
    if (json_object_size(lim)) json_object_set(res, "limits", lim);
    json_decref(req);
    json_decref(lim);

    json_t *container = json_pack("{s:s,s:s,s:[{s:s,s:i}],s:o}", "name", "function", "image", image,
                                  "ports", "name", "http1", "containerPort", 8080, "env", env);
    if (json_object_size(res)) json_object_set(container, "resources", res);
    json_decref(res);

    int timeout_s = (c->request_timeout_ms + 999) / 1000;
    if (timeout_s > 600 && notes)
        lm_buf_printf(notes,
                      "%s: timeoutSeconds %d is above Knative's default max-revision-timeout-"
                      "seconds (600): raise it in config-defaults\n",
                      s->name, timeout_s);
    json_t *tspec = json_pack("{s:s,s:i,s:i,s:[o]}", "runtimeClassName", cls->runtime_class,
                              "containerConcurrency", c->container_concurrency, "timeoutSeconds",
                              timeout_s, "containers", container);
    json_t *doc = json_pack("{s:s,s:s,s:{s:s,s:s,s:O},s:{s:{s:{s:O,s:o},s:o}}}", "apiVersion",
                            "serving.knative.dev/v1", "kind", "Service", "metadata", "name", name,
                            "namespace", o->namespace, "labels", labels, "spec", "template",
                            "metadata", "labels", labels, "annotations", ann, "spec", tspec);
    json_decref(labels);
    if (!doc) lm_errf(err, "%s: out of memory", s->name);
    return doc;
}
