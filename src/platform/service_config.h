/* service_config.h -- service configurations for `lumos serve`: the file of
 * `lumos serve --config FILE` and the JSON body of `POST /services`, read
 * strictly (jansson) into lm_service_spec values, and one spec written back
 * as JSON (the services.config_json column, GET /services). The format is
 * docs/serve-config.md.
 *
 * Layering: the caller's base spec (the command line's flags) is overridden
 * by the file's "defaults", which each service overrides in turn. Function
 * names are checked against the catalog (lm_catalog_find) and runtime names
 * against lm_runtime_find; whether a runtime is available here is not
 * checked (the pool does that when it deploys the service).
 *
 * Every function that fails returns LM_ERR and writes into err (LM_ERRLEN
 * bytes) a message that starts with the JSON path of the culprit
 * ("services[2].max_scal: unknown field (did you mean max_scale?)"). */
#ifndef LM_SERVICE_CONFIG_H
#define LM_SERVICE_CONFIG_H

#include <stddef.h>

#include "platform/pool.h"

#define LM_SERVICE_NAME_MAX 127               /* bytes of "function@runtime" */
#define LM_SERVICE_CONFIG_MAX_BYTES (1 << 20) /* a file or body above is refused */
#define LM_SERVICE_CONFIG_MAX_SERVICES 64
#define LM_MAX_DEFAULT_RUNTIMES 64

/* One service: its name and the pool's settings for it. The ranges the
 * parser enforces are in docs/serve-config.md. */
typedef struct {
    /* "fibonacci@wasm-aot", the runtime always given; "" in a base */
    char name[LM_SERVICE_NAME_MAX + 1];
    char function[LM_SERVICE_NAME_MAX + 1]; /* "fibonacci" */
    char runtime[LM_SERVICE_NAME_MAX + 1];  /* "wasm-aot" */
    /* memory_limit: bytes, whole MiB (memory_limit_mib in JSON). cfg.target
     * is always valid, at most cfg.container_concurrency; target_set says
     * whether some layer gave it: while none has, it follows
     * container_concurrency through the layers (the default). */
    lm_service_config cfg;
    int target_set;
} lm_service_spec;

/* The "default_runtimes" map: the runtime of a service named by its function
 * alone. Looked up by function, then "*" (fallback), then native. */
typedef struct {
    struct {
        char function[LM_SERVICE_NAME_MAX + 1];
        char runtime[LM_SERVICE_NAME_MAX + 1];
    } v[LM_MAX_DEFAULT_RUNTIMES];
    int n;
    char fallback[LM_SERVICE_NAME_MAX + 1]; /* the "*" entry, "" = native */
} lm_default_runtimes;

/* A whole `lumos serve --config` file. */
typedef struct {
    /* The base with the file's "defaults" over it: the configuration of a
     * service that is not listed (deployed on its first request), and the
     * base for POST /services. Its name is "". */
    lm_service_spec defaults;
    lm_default_runtimes runtimes;
    lm_service_spec *services; /* malloc'd, nservices entries (NULL when 0) */
    int nservices;
} lm_serve_config;

/* The built-in defaults: lm_service_config_defaults() for cfg, name "",
 * container_concurrency 1, kpa, target 1 following container_concurrency
 * (target_set 0), stable window 60000 ms, panic window 6000 ms, panic
 * threshold 2.0, tick 2000 ms. A base made from the command line starts
 * here (and sets target_set when a flag gives target). */
void lm_service_spec_defaults(lm_service_spec *s);

/* Parses a config file's text (len bytes, need not be NUL-terminated) over
 * base (NULL: lm_service_spec_defaults). On LM_OK *out is filled and owned
 * by the caller (lm_serve_config_free); on LM_ERR *out holds nothing to
 * free. */
int lm_serve_config_parse(const char *json, size_t len, const lm_service_spec *base,
                          lm_serve_config *out, char *err);
/* Reads the file at path (at most LM_SERVICE_CONFIG_MAX_BYTES) and parses
 * it as above; the error message starts with path. */
int lm_serve_config_load(const char *path, const lm_service_spec *base, lm_serve_config *out,
                         char *err);
/* Frees what a parse put in c and zeroes it. NULL is a harmless no-op. */
void lm_serve_config_free(lm_serve_config *c);

/* Parses a POST /services body: one service object (as one element of a
 * file's "services"; error paths then start at its field names), or
 * {"services":[...]}. base as above (normally a config's defaults); dr
 * resolves names without a runtime (NULL: native). On LM_OK *out is a
 * malloc'd array of *n specs the caller frees with free() (NULL when *n is
 * 0, which only {"services":[]} gives). */
int lm_service_specs_parse(const char *json, size_t len, const lm_service_spec *base,
                           const lm_default_runtimes *dr, lm_service_spec **out, int *n, char *err);

/* Checks every field's range and the relations between fields (min_scale
 * <= max_scale, target <= container_concurrency, tick_ms <= panic_window_ms
 * <= stable_window_ms, memory_limit a whole number of MiB). LM_OK, or
 * LM_ERR with err starting with path ("" = "top level"). */
int lm_service_spec_check(const lm_service_spec *s, const char *path, char *err);

/* One spec as a compact JSON object in the form the parsers read: name
 * (left out when ""), then every field, target included. Numbers are
 * written so that they read back exactly (parse(write(s)) equals s).
 * Returns a malloc'd, NUL-terminated string the caller frees, or NULL with
 * err set. */
char *lm_service_spec_to_json(const lm_service_spec *s, char *err);

/* 1 when a and b have the same name, function, runtime and value in every
 * field (target_set is not compared), else 0. */
int lm_service_spec_equal(const lm_service_spec *a, const lm_service_spec *b);

/* The runtime a service named by function fn alone gets from dr (NULL:
 * none): dr's entry for fn, else its "*", else "native". */
const char *lm_default_runtime(const lm_default_runtimes *dr, const char *fn);

/* The pool's settings as a spec: name "", target_set when target differs
 * from container_concurrency. (A spec's own settings are its cfg.) */
void lm_service_spec_from_config(const lm_service_config *c, lm_service_spec *sp);

#endif
