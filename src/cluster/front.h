/* front.h -- the HTTP function front of a cluster's pod (lumos-front,
 * docs/knative-front.md): one HTTP/1.1 server on PORT that runs one
 * function instance locally through the runtime adapters and the frame
 * channel (the path `lumos invoke` and the gateway take), so the answer and
 * the probes are the channel's. Each POST is one INVOKE; the answer's body
 * is the function's, byte for byte as the gateway gives it, and its headers
 * carry the probes (Server-Timing, X-Lumos-Front) and the pod's and the
 * instance's names. A crashed or hung instance is stopped, its request
 * answered with 500 or 504, and a new instance started for the next one.
 * Requests are served one at a time (Knative's containerConcurrency 1). */
#ifndef LM_CLUSTER_FRONT_H
#define LM_CLUSTER_FRONT_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *function;    /* a built-in function ("fibonacci") */
    const char *runtime;     /* a runtime here ("native", "wasm-aot", ...) */
    const char *listen;      /* address to bind; NULL: "0.0.0.0" (a pod's) */
    int port;                /* 0: a free one (printed) */
    const char *redis;       /* "HOST:PORT" of Redis, or NULL: storage answers an error */
    const char *storage_dir; /* the instance's folder for "storage":"file", or NULL */
    const char *artifacts;   /* NULL: lm_artifacts_dir's default */
    const char *pod;     /* the pod's name (POD_NAME; lumos-front: else HOST-PID), NULL: "local" */
    const char *pod_uid; /* the pod's uid (POD_UID), the agent's key, or NULL */
    const char *node;    /* the node's address (NODE_IP), where its agent is, or NULL */
    int timeout_ms;      /* for READY and for each answer (0: 60000) */
    long max_body_bytes; /* 0: 64 MiB */
    int cgroup;          /* 1: the instance in a cgroup of its own */
    uint64_t memory_limit; /* with cgroup: its limit in bytes (0: none) */
    int lazy;              /* 1: start the instance at the first request, not before listening */
    FILE *out;             /* "listening on http://ADDR:PORT" goes here (NULL: stdout) */

} lm_front_opts;

/* Runs the front until *o->stop is set or SIGTERM/SIGINT: starts the
 * instance (unless lazy), listens, serves. Returns LM_OK after a clean
 * stop, LM_ERR with err when it could not start (unknown function or
 * runtime, the port taken, the first instance failed). */
int lm_front_run(const lm_front_opts *o, char *err);

#endif
