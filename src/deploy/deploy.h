/* deploy.h -- Lumos on a Kubernetes cluster with Knative Serving: which
 * RuntimeClass and which image each Lumos runtime gets there (a table, with
 * an override file), the manifests of `lumos deploy --platform knative`
 * (Knative Services carrying a service configuration's settings as their
 * autoscaling annotations, RuntimeClasses, Redis, the lumos agent
 * DaemonSet, the Knative config changes), the images a cluster pulls (the
 * Wasm module images and the HTTP front images, built with the builder's
 * umoci code), and `lumos push` (skopeo). See docs/knative.md.
 *
 * Every function that fails returns LM_ERR and writes a message a user can
 * act on into err (LM_ERRLEN bytes). */
#ifndef LM_DEPLOY_H
#define LM_DEPLOY_H

#include <stddef.h>

#include "platform/service_config.h"
#include "util/util.h"

#define LM_DEPLOY_NAME_MAX 64
#define LM_DEPLOY_MAX_CLASSES 32

/* Where one Lumos runtime runs on a cluster. */
typedef struct {
    char runtime[LM_DEPLOY_NAME_MAX];       /* Lumos runtime: "container", "wasmedge", ... */
    char runtime_class[LM_DEPLOY_NAME_MAX]; /* the pod's runtimeClassName ("runc") */
    char handler[LM_DEPLOY_NAME_MAX];       /* the RuntimeClass's CRI handler ("runc") */
    /* The image its pods run: "wasm" (the module alone, for a Wasm shim),
     * or "front-<R>" / "front-<R>-slim": the HTTP front (lumos-front)
     * running the function on Lumos runtime R inside the container, on
     * scratch or on the debian-slim base. */
    char image[LM_DEPLOY_NAME_MAX];
    /* Pods carry module.wasm.image/variant=compat-smart (crun's Wasm
     * handler picks Wasm by it). */
    int wasm_annotation;
} lm_deploy_class;

/* The runtime classes: the built-in table (docs/knative.md) with the
 * entries of an override file over it. */
typedef struct {
    lm_deploy_class v[LM_DEPLOY_MAX_CLASSES];
    int n;
} lm_deploy_classes;

/* The built-in table. */
void lm_deploy_classes_default(lm_deploy_classes *c);
/* Reads an override file: {"classes": [{"runtime": R, "runtime_class": C,
 * "handler": H, "image": I, "wasm_annotation": false}, ...]} (strict; every
 * field but runtime optional, taken from the entry it replaces). An entry
 * replaces the built-in one of its runtime or adds one. Errors start with
 * the path ("FILE: classes[1].image: ..."). */
int lm_deploy_classes_load(lm_deploy_classes *c, const char *path, char *err);
/* The same from text (len bytes, need not be NUL-terminated); errors start
 * with where. On LM_ERR c may hold the entries before the bad one. */
int lm_deploy_classes_parse(lm_deploy_classes *c, const char *text, size_t len, const char *where,
                            char *err);
/* The entry of runtime, or NULL. */
const lm_deploy_class *lm_deploy_class_find(const lm_deploy_classes *c, const char *runtime);
/* The runtimes a deployment gets when none are named, comma-separated. */
#define LM_DEPLOY_DEFAULT_RUNTIMES "container,container+wasm-aot,wasmedge,wasmtime,crun-wasm"

/* Runtimes that exist only on a cluster (crun-wasm: crun's Wasm handler),
 * registered with lm_runtime_register so that configs and names may use
 * them; never available on this machine. Call once before parsing a config
 * (a second call is a harmless no-op). */
int lm_deploy_register_cluster_runtimes(char *err);

/* What both commands read first: the cluster runtimes registered, the
 * service config at config_path (NULL: the built-in defaults, no services;
 * freed with lm_serve_config_free) and the classes (the built-in table with
 * classes_path's entries over it, when not NULL). */
int lm_deploy_load(const char *config_path, const char *classes_path, lm_serve_config *cfg,
                   lm_deploy_classes *classes, char *err);

/* The manifests' settings. */
typedef struct {
    const char *out;         /* folder written (created; files of ours in it replaced) */
    const char *registry;    /* image references' prefix: "localhost:32000", "reg.example/lumos" */
    const char *tag;         /* the images' tag ("latest") */
    const char *namespace;   /* of everything but the Knative config ("lumos") */
    const char *cpu_request; /* each function pod's CPU request ("100m"), or NULL */
    const char *cpu_limit;   /* its CPU limit, or NULL: none */
    const char *redis_image; /* "redis:7.2" */
    const lm_serve_config *config; /* defaults and services (see below) */
    const lm_deploy_classes *classes;
    /* The services: config's services, then every function of functions
     * (comma-separated, NULL: every catalog function) on every runtime of
     * runtimes (NULL: LM_DEPLOY_DEFAULT_RUNTIMES), with config's defaults,
     * unless config lists services and neither is given. */
    const char *functions;
    const char *runtimes;
} lm_deploy_opts;

/* The services opts names (as above), each with a class in opts->classes
 * (LM_ERR naming the first without one). On LM_OK *out (malloc'd, the
 * caller frees) holds *n specs. */
int lm_deploy_services(const lm_deploy_opts *opts, lm_service_spec **out, int *n, char *err);

/* What was written: file names (in out, sorted), malloc'd. */
typedef struct {
    char **files;
    int nfiles;
    int nservices;
    /* Notes for the user (a setting Knative cannot take as it is, rounded
     * or clamped), one per line, malloc'd or NULL. */
    char *notes;
} lm_deploy_result;
void lm_deploy_result_free(lm_deploy_result *r); /* NULL is a harmless no-op */

/* Writes every manifest into opts->out: 00-namespace.yaml,
 * 01-config-features.yaml, 02-config-autoscaler.yaml,
 * 03-config-deployment.yaml, 10-runtimeclasses.yaml, 20-redis.yaml,
 * 30-agent.yaml, and 50-service-NAME.yaml per service. The same options
 * give the same bytes. */
int lm_deploy_knative(const lm_deploy_opts *opts, lm_deploy_result *res, char *err);

/* The Knative Service name of a service ("fibonacci@container+wasm-aot" ->
 * "fibonacci-container-wasm-aot"); LM_ERR when it is not a DNS-1035 label
 * of at most 57 bytes (Knative adds "-00001" for revisions). */
int lm_deploy_service_name(const char *function, const char *runtime, char *out, size_t n,
                           char *err);
/* An image's reference: REGISTRY/lumos-FUNCTION-IMAGE:TAG (function "" for
 * one image of Lumos' own, "agent": REGISTRY/lumos-agent:TAG). */
int lm_deploy_image_ref(const char *registry, const char *function, const char *image,
                        const char *tag, char *out, size_t n, char *err);

/* The Knative autoscaling annotations of one service's settings, as
 * key/value pairs in a JSON object (a jansson json_t *, returned as void *
 * so this header needs no jansson; the caller json_decref()s it), and any
 * note about a value Knative cannot take as it is appended to notes (may
 * be NULL). */
void *lm_deploy_autoscaling_annotations(const lm_service_spec *s, lm_buf *notes);

/* Images. A cluster image of a function lives in the OCI layout
 * ARTIFACTS/cluster/IMAGE/FUNCTION (tagged FUNCTION), beside its bundle. */
typedef struct {
    const char *artifacts; /* the artifact folder */
    const char *front;     /* the HTTP front program, or NULL: LIBEXEC/lumos-front */
    const char *module;    /* "wasm": the module, or NULL: the function's artifact */
} lm_deploy_image_opts;

/* Builds (or reuses, see lm_oci_ensure) image of function. "wasm": a
 * scratch image whose one layer holds /module.wasm, its entrypoint, with
 * platform wasi/wasm and the annotation and label
 * module.wasm.image/variant=compat-smart. "front-<R>[-slim]": lumos-front
 * and what runtime R needs (the native executable at /fn, or the module at
 * /FUNCTION.wasm with R's program), entrypoint /lumos-front --function F
 * --runtime R. *skipped (may be NULL) is set with the reason in err when
 * the image cannot be made here for want of an input that is not an error
 * (no lumos-front yet): LM_OK is then returned. layout (may be NULL) gets
 * the layout's path. "agent" (function "lumos") is lumos itself at /lumos
 * with its shared libraries, for the agent DaemonSet (`lumos agent`). */
int lm_deploy_image_build(const lm_deploy_image_opts *o, const char *function, const char *image,
                          char *layout, size_t n, int *skipped, char *err);

/* Push: copies the OCI layout's image tagged tag_in to dest
 * ("docker://REG/NAME:TAG") with skopeo; tls_verify 0 allows plain HTTP
 * and unverified certificates. */
int lm_deploy_push(const char *layout, const char *tag_in, const char *dest, int tls_verify,
                   char *err);

/* Runs kubectl apply -f dir against $KUBECONFIG (or ~/.kube/config). LM_ERR
 * naming what is missing when kubectl or a kubeconfig is not there. */
int lm_deploy_apply(const char *dir, char *err);

#endif
