/* agent.h -- `lumos agent`, the process of the lumos-agent DaemonSet
 * (docs/knative.md): on its node it finds every Kubernetes pod's control
 * group (cgroup v1: the cpuacct and memory hierarchies, cpu and cpuacct
 * separate or co-mounted; v2: the unified tree), under the kubelet's
 * cgroupfs names (kubepods/burstable/pod<UID>/<container>) or its systemd
 * names (kubepods.slice/kubepods-burstable.slice/
 * kubepods-burstable-pod<UID_with_underscores>.slice/cri-containerd-<ID>.scope),
 * reads each pod's and each container's CPU time and memory through
 * observe/telemetry.h, and serves them over HTTP keyed by the pod's uid
 * (the POD_UID lumos-front reports): GET /pods (JSON), /pods/UID, /metrics
 * (Prometheus text), /healthz. */
#ifndef LM_CLUSTER_AGENT_H
#define LM_CLUSTER_AGENT_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "observe/telemetry.h"

typedef struct {
    const char *cgroup_root; /* the node's cgroupfs (NULL: /sys/fs/cgroup) */
    /* Where the pods' groups begin, relative to each hierarchy (NULL: the
     * first of "kubepods", "kubepods.slice" that exists). */
    const char *kubepods;
    int version;        /* 1 or 2; 0: v2 when cgroup_root has cgroup.controllers */
    const char *node;   /* the node's name in answers (NULL: "") */
    const char *listen; /* serve: the address (NULL: 0.0.0.0) */
    int port;           /* serve: 0 takes a free one */
    FILE *out;          /* serve: where "listening on" is said (NULL: stdout) */
} lm_agent_opts;

#define LM_AGENT_MAX_CONTAINERS 16

typedef struct {
    char id[160]; /* the container's id (its group's name without cri-containerd-, .scope) */
    lm_usage use; /* source LM_USAGE_NONE when it could not be read */
} lm_agent_container;

typedef struct {
    char pod_uid[80]; /* with dashes, as metadata.uid */
    char cgroup[512]; /* the pod's group, relative to its hierarchy's root */
    char qos[32];     /* "guaranteed", "burstable", "besteffort" (from the path) */
    lm_usage use;
    char error[160]; /* why use could not be read ("" when it was) */
    lm_agent_container containers[LM_AGENT_MAX_CONTAINERS];
    int ncontainers;
} lm_agent_pod;

/* Finds and reads every pod's group. *pods is malloc'd (the caller
 * frees; *n of them, 0 when the node has no pod), *version the cgroup
 * version read. LM_OK, or LM_ERR with err when the root or its
 * hierarchies are missing or no kubepods group exists (naming the paths
 * tried and --kubepods). */
int lm_agent_scan(const lm_agent_opts *o, lm_agent_pod **pods, size_t *n, int *version, char *err);

/* The scan as the JSON GET /pods answers (uid NULL: every pod; else that
 * pod only, and NULL with err "no pod UID" when it is not there):
 * {"node","t_ns","cgroup_version","pods":[{"pod_uid","qos","cgroup","source",
 * "cpu_user_ns","cpu_system_ns","cpu_ns","mem_current_bytes","mem_peak_bytes",
 * "containers":[{"id",...the same readings}]}]}. malloc'd, caller frees;
 * NULL with err. */
char *lm_agent_json(const lm_agent_opts *o, const char *uid, char *err);
/* The scan as Prometheus text (lumos_pod_cpu_seconds_total,
 * lumos_pod_memory_bytes, lumos_pod_memory_peak_bytes, labelled pod_uid
 * and container). malloc'd, caller frees; NULL with err. */
char *lm_agent_metrics(const lm_agent_opts *o, char *err);

/* Serves HTTP until SIGTERM or SIGINT. LM_OK when stopped, LM_ERR with
 * err when it cannot listen or the scan fails at start. */
int lm_agent_serve(const lm_agent_opts *o, char *err);

#endif
