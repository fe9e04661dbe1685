/* classes.c -- which RuntimeClass and image each Lumos runtime gets on a
 * cluster (the built-in table and its override file), the cluster-only
 * runtimes, and the names of services and images there. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "runtime/runtime.h"

/* The built-in table (docs/knative.md says why each). Containers run under
 * runc (crun for container-crun) with the HTTP front inside; the Kwasm
 * arrangement is a front running the Wasm runtime inside a runc container;
 * the Wasm shims run the module image: runwasi's containerd shims for
 * WasmEdge and Wasmtime (as Kwasm installs them: handlers wasmedge and
 * wasmtime), and crun built with WasmEdge, which picks Wasm by the
 * compat-smart annotation. */
static const lm_deploy_class builtin[] = {
    {"native", "runc", "runc", "front-native", 0},
    {"container", "runc", "runc", "front-native", 0},
    {"container-crun", "crun", "crun", "front-native", 0},
    {"container-slim", "runc", "runc", "front-native-slim", 0},
    {"container+wasm-aot", "runc", "runc", "front-wasm-aot", 0},
    {"container+wasm-interp", "runc", "runc", "front-wasm-interp", 0},
    {"container+wasm-interp-wabt", "runc", "runc", "front-wasm-interp-wabt", 0},
    {"wasm-aot", "runc", "runc", "front-wasm-aot", 0},
    {"wasm-interp", "runc", "runc", "front-wasm-interp", 0},
    {"wasm-interp-wabt", "runc", "runc", "front-wasm-interp-wabt", 0},
    {"wasmedge", "wasmedge", "wasmedge", "wasm", 0},
    {"wasmtime", "wasmtime", "wasmtime", "wasm", 0},
    {"crun-wasm", "crun-wasm", "crun", "wasm", 1},
};

void lm_deploy_classes_default(lm_deploy_classes *c) {
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        c->v[c->n++] = builtin[i];
}

const lm_deploy_class *lm_deploy_class_find(const lm_deploy_classes *c, const char *runtime) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->v[i].runtime, runtime) == 0) return &c->v[i];
    return NULL;
}

/* A DNS-1123 label (RuntimeClass names and handlers are; so is any image
 * name part we make): lowercase letters, digits, '-', alphanumeric ends. */
static int dns_label(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0 || n > max || s[0] == '-' || s[n - 1] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-') return 0;
    return 1;
}

/* A known image name: "wasm", "front-<runtime>" or "front-<runtime>-slim"
 * with a runtime a front can run (native, wasm-aot, wasm-interp, wasm-interp-wabt). */
static int known_image(const char *im) {
    static const char *const ok[] = {"wasm",
                                     "front-native",
                                     "front-native-slim",
                                     "front-wasm-aot",
                                     "front-wasm-interp",
                                     "front-wasm-interp-wabt",
                                     NULL};
    for (int i = 0; ok[i]; i++)
        if (strcmp(im, ok[i]) == 0) return 1;
    return 0;
}

static int set_field(char *dst, json_t *v, const char *path, const char *field, int label,
                     char *err) {
    if (!json_is_string(v)) return lm_errf(err, "%s.%s: must be a string", path, field);
    const char *s = json_string_value(v);
    if (label && !dns_label(s, 63))
        return lm_errf(err,
                       "%s.%s: '%s' is not a DNS label (lowercase letters, digits and '-', at "
                       "most 63)",
                       path, field, s);
    if (strlen(s) >= LM_DEPLOY_NAME_MAX) return lm_errf(err, "%s.%s: too long", path, field);
    snprintf(dst, LM_DEPLOY_NAME_MAX, "%s", s);
    return LM_OK;
}

static int load_entry(lm_deploy_classes *c, json_t *e, const char *path, char *err) {
    if (!json_is_object(e)) return lm_errf(err, "%s: must be an object", path);
    json_t *rt = json_object_get(e, "runtime");
    if (!json_is_string(rt)) return lm_errf(err, "%s.runtime: a string is required", path);
    lm_deploy_class cls = {0}, *slot = NULL;
    const lm_deploy_class *old = lm_deploy_class_find(c, json_string_value(rt));
    if (old) {
        cls = *old;
        slot = (lm_deploy_class *)old;
    } else if (c->n == LM_DEPLOY_MAX_CLASSES) {
        return lm_errf(err, "%s: at most %d runtimes", path, LM_DEPLOY_MAX_CLASSES);
    }
    const char *k;
    json_t *v;
    json_object_foreach(e, k, v) {
        int rc;
        if (strcmp(k, "runtime") == 0)
            rc = set_field(cls.runtime, v, path, k, 0, err);
        else if (strcmp(k, "runtime_class") == 0)
            rc = set_field(cls.runtime_class, v, path, k, 1, err);
        else if (strcmp(k, "handler") == 0)
            rc = set_field(cls.handler, v, path, k, 1, err);
        else if (strcmp(k, "image") == 0) {
            rc = set_field(cls.image, v, path, k, 0, err);
            if (rc == LM_OK && !known_image(cls.image))
                rc = lm_errf(err,
                             "%s.image: '%s' is not an image Lumos builds (wasm, front-native, "
                             "front-native-slim, front-wasm-aot, front-wasm-interp)",
                             path, cls.image);
        } else if (strcmp(k, "wasm_annotation") == 0) {
            rc = json_is_boolean(v) ? LM_OK : lm_errf(err, "%s.%s: must be true or false", path, k);
            cls.wasm_annotation = json_is_true(v);
        } else
            rc = lm_errf(err,
                         "%s.%s: unknown field (fields: runtime, runtime_class, handler, image, "
                         "wasm_annotation)",
                         path, k);
        if (rc != LM_OK) return LM_ERR;
    }
    if (!cls.runtime_class[0] || !cls.handler[0] || !cls.image[0])
        return lm_errf(err, "%s: a new runtime needs runtime_class, handler and image", path);
    if (slot)
        *slot = cls;
    else
        c->v[c->n++] = cls;
    return LM_OK;
}

int lm_deploy_classes_parse(lm_deploy_classes *c, const char *text, size_t len, const char *where,
                            char *err) {
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return lm_errf(err, "%s:%d: %s", where, je.line, je.text);
    int rc = json_is_object(root) ? LM_OK : lm_errf(err, "%s: must be a JSON object", where);
    const char *k;
    json_t *v;
    if (rc == LM_OK) json_object_foreach(root, k, v) {
            if (strcmp(k, "classes") != 0) {
                rc = lm_errf(err, "%s: %s: unknown field (fields: classes)", where, k);
                break;
            }
        }
    json_t *arr = json_object_get(root, "classes");
    if (rc == LM_OK && !json_is_array(arr))
        rc = lm_errf(err, "%s: classes: an array is required", where);
    size_t i;
    json_t *e;
    char at[64], why[LM_ERRLEN];
    if (rc == LM_OK) json_array_foreach(arr, i, e) {
            snprintf(at, sizeof(at), "classes[%zu]", i);
            if (load_entry(c, e, at, why) != LM_OK) {
                rc = lm_errf(err, "%s: %s", where, why);
                break;
            }
        }
    json_decref(root);
    return rc;
}

int lm_deploy_classes_load(lm_deploy_classes *c, const char *path, char *err) {
    size_t len;
    char *text = lm_file_read_max(path, 1 << 20, &len, err);
    if (!text) return LM_ERR;
    int rc = lm_deploy_classes_parse(c, text, len, path, err);
    free(text);
    return rc;
}

/* crun-wasm: a name for configs and the table; it runs on a cluster only. */
static int cluster_only(const lm_runtime *rt, char *err) {
    return lm_errf(err, "%s runs on a cluster only (lumos deploy --platform knative)", rt->name);
}
static void cluster_version(const lm_runtime *rt, char *out, size_t n) {
    snprintf(out, n, "cluster only");
}
static int cluster_command(const lm_runtime *rt, const lm_exec_opts *o, lm_strv *argv, lm_strv *env,
                           char *err) {
    return cluster_only(rt, err);
}
static const lm_runtime crun_wasm = {
    .name = "crun-wasm",
    .description = "crun with its Wasm handler (WasmEdge), on a Kubernetes cluster only",
    .target = "wasm",
    .available = cluster_only,
    .version = cluster_version,
    .command = cluster_command,
};

int lm_deploy_register_cluster_runtimes(char *err) {
    if (lm_runtime_find("crun-wasm", NULL)) return LM_OK;
    return lm_runtime_register(&crun_wasm, err);
}

int lm_deploy_service_name(const char *function, const char *runtime, char *out, size_t n,
                           char *err) {
    char name[256];
    int len = snprintf(name, sizeof(name), "%s-%s", function, runtime);
    if (len < 0 || (size_t)len >= sizeof(name)) return lm_errf(err, "service name too long");
    /* '+', '_', '.' and '@' become '-', runs of '-' one. */
    size_t w = 0;
    for (int i = 0; i < len; i++) {
        char ch = (char)tolower((unsigned char)name[i]);
        if (!islower((unsigned char)ch) && !isdigit((unsigned char)ch)) ch = '-';
        if (ch == '-' && w > 0 && name[w - 1] == '-') continue;
        name[w++] = ch;
    }
    name[w] = 0;
    if (!dns_label(name, 57) || !islower((unsigned char)name[0]))
        return lm_errf(err,
                       "'%s@%s' gives the Knative Service name '%s', which is not a DNS-1035 label "
                       "of at most 57 bytes",
                       function, runtime, name);
    if (strlen(name) >= n) return lm_errf(err, "service name too long");
    memcpy(out, name, strlen(name) + 1);
    return LM_OK;
}

int lm_deploy_image_ref(const char *registry, const char *function, const char *image,
                        const char *tag, char *out, size_t n, char *err) {
    size_t rl = strlen(registry);
    while (rl > 0 && registry[rl - 1] == '/')
        rl--;
    if (rl == 0) return lm_errf(err, "the registry is empty");
    if (strstr(registry, "://"))
        return lm_errf(err, "registry '%s': give HOST[:PORT][/PATH], no scheme", registry);
    for (const char *p = tag; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
            return lm_errf(err, "tag '%s': letters, digits, '.', '_' and '-' only", tag);
    if (!*tag || strlen(tag) > 128 || tag[0] == '.' || tag[0] == '-')
        return lm_errf(err, "tag '%s' is not a valid image tag", tag);
    int len = *function
                  ? snprintf(out, n, "%.*s/lumos-%s-%s:%s", (int)rl, registry, function, image, tag)
                  : snprintf(out, n, "%.*s/lumos-%s:%s", (int)rl, registry, image, tag);
    if (len < 0 || (size_t)len >= n) return lm_errf(err, "image reference too long");
    return LM_OK;
}

int lm_deploy_load(const char *config_path, const char *classes_path, lm_serve_config *cfg,
                   lm_deploy_classes *classes, char *err) {
    memset(cfg, 0, sizeof(*cfg));
    if (lm_deploy_register_cluster_runtimes(err) != LM_OK) return LM_ERR;
    lm_deploy_classes_default(classes);
    if (classes_path && lm_deploy_classes_load(classes, classes_path, err) != LM_OK) return LM_ERR;
    if (config_path) return lm_serve_config_load(config_path, NULL, cfg, err);
    lm_service_spec_defaults(&cfg->defaults);
    return LM_OK;
}
