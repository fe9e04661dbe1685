/* agent.c -- the pods' cgroups of one node, found and read (agent.h). */
#include "cluster/agent.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/cgroup.h"

#define MAX_DEPTH 4 /* kubepods / qos class / pod: the pods are at most this deep */

typedef struct {
    int version;
    char cpu[512], mem[512]; /* the hierarchies' roots (the same on v2) */
    char rel[256];           /* the kubepods group, relative to them */
    lm_agent_pod *pods;
    size_t n, cap;
} scan;

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The uid of a pod's group name, or 0: "pod<uid>" (cgroupfs driver) or
 * "kubepods[-qos]-pod<uid_with_underscores>.slice" (systemd driver). */
static int pod_uid(const char *name, char *uid, size_t n) {
    const char *p;
    size_t ul, len = strlen(name);
    if (strncmp(name, "pod", 3) == 0) {
        p = name + 3;
        ul = len - 3;
    } else if (len > 6 && strcmp(name + len - 6, ".slice") == 0 && (p = strstr(name, "-pod"))) {
        p += 4;
        ul = (size_t)(name + len - 6 - p);
    } else {
        return 0;
    }
    if (ul == 0 || ul >= n) return 0;
    for (size_t i = 0; i < ul; i++) {
        char c = p[i] == '_' ? '-' : p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return 0;
        uid[i] = c;
    }
    uid[ul] = 0;
    return 1;
}

static void read_group(const scan *s, const char *rel, lm_usage *use, char *why) {
    lm_cgroup cg = {0};
    cg.version = s->version;
    cg.ndirs = 1;
    char err[LM_ERRLEN];
    if (lm_pathf(cg.dirs[0], sizeof cg.dirs[0], "%s/%s", s->cpu, rel) != LM_OK ||
        lm_pathf(cg.memory_dir, sizeof cg.memory_dir, "%s/%s", s->mem, rel) != LM_OK) {
        memset(use, 0, sizeof *use);
        if (why) snprintf(why, 160, "cgroup path too long: %.100s", rel);
        return;
    }
    if (lm_telemetry_read(&cg, 0, use, err) != LM_OK) {
        memset(use, 0, sizeof *use);
        if (why) snprintf(why, 160, "%.159s", err);
    }
}

static int add_pod(scan *s, const char *rel, const char *uid, const char *qos) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 32;
        lm_agent_pod *v = realloc(s->pods, cap * sizeof *v);
        if (!v) return LM_ERR;
        s->pods = v;
        s->cap = cap;
    }
    lm_agent_pod *p = &s->pods[s->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->pod_uid, sizeof p->pod_uid, "%s", uid);
    lm_pathf(p->cgroup, sizeof p->cgroup, "%s", rel);
    snprintf(p->qos, sizeof p->qos, "%s", qos);
    read_group(s, rel, &p->use, p->error);
    char dir[1100];
    lm_pathf(dir, sizeof dir, "%s/%s", s->cpu, rel);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && p->ncontainers < LM_AGENT_MAX_CONTAINERS) {
        if (e->d_name[0] == '.') continue;
        char sub[1400];
        lm_pathf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        if (!is_dir(sub)) continue;
        lm_agent_container *c = &p->containers[p->ncontainers++];
        const char *id = e->d_name;
        if (strncmp(id, "cri-containerd-", 15) == 0)
            id += 15;
        else if (strncmp(id, "docker-", 7) == 0)
            id += 7;
        else if (strncmp(id, "crio-", 5) == 0)
            id += 5;
        snprintf(c->id, sizeof c->id, "%.159s", id);
        size_t l = strlen(c->id);
        if (l > 6 && strcmp(c->id + l - 6, ".scope") == 0) c->id[l - 6] = 0;
        char crel[1000];
        lm_pathf(crel, sizeof crel, "%s/%s", rel, e->d_name);
        read_group(s, crel, &c->use, NULL);
    }
    if (d) closedir(d);
    return LM_OK;
}

/* The QoS class a group name names, if any. */
static const char *qos_of(const char *name, const char *outer) {
    if (strstr(name, "burstable")) return "burstable";
    if (strstr(name, "besteffort")) return "besteffort";
    return outer;
}

static int walk(scan *s, const char *rel, int depth, const char *qos) {
    char dir[1100];
    lm_pathf(dir, sizeof dir, "%s/%s", s->cpu, rel);
    DIR *d = opendir(dir);
    if (!d) return LM_OK;
    struct dirent *e;
    int rc = LM_OK;
    while (rc == LM_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char sub[1400], sr[700], uid[80];
        lm_pathf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        if (!is_dir(sub)) continue;
        lm_pathf(sr, sizeof sr, "%s/%s", rel, e->d_name);
        if (pod_uid(e->d_name, uid, sizeof uid))
            rc = add_pod(s, sr, uid, qos);
        else if (depth < MAX_DEPTH)
            rc = walk(s, sr, depth + 1, qos_of(e->d_name, qos));
    }
    closedir(d);
    return rc;
}

int lm_agent_scan(const lm_agent_opts *o, lm_agent_pod **pods, size_t *n, int *version, char *err) {
    *pods = NULL;
    *n = 0;
    scan s = {0};
    const char *root = o->cgroup_root ? o->cgroup_root : "/sys/fs/cgroup";
    char probe[700];
    lm_pathf(probe, sizeof probe, "%s/cgroup.controllers", root);
    struct stat st;
    s.version = o->version ? o->version : stat(probe, &st) == 0 ? 2 : 1;
    if (s.version == 2) {
        lm_pathf(s.cpu, sizeof s.cpu, "%s", root);
        lm_pathf(s.mem, sizeof s.mem, "%s", root);
    } else {
        /* cpuacct alone, or co-mounted with cpu under either name. */
        static const char *const cpus[] = {"cpuacct", "cpu,cpuacct", "cpuacct,cpu"};
        for (int i = 0; i < 3 && !s.cpu[0]; i++) {
            lm_pathf(s.cpu, sizeof s.cpu, "%s/%s", root, cpus[i]);
            if (!is_dir(s.cpu)) s.cpu[0] = 0;
        }
        lm_pathf(s.mem, sizeof s.mem, "%s/memory", root);
        if (!s.cpu[0] || !is_dir(s.mem))
            return lm_errf(err,
                           "%s: no cgroup v1 cpuacct and memory hierarchies (mount the node's "
                           "/sys/fs/cgroup there, or --cgroup-version 2)",
                           root);
    }
    static const char *const names[] = {"kubepods", "kubepods.slice"};
    for (int i = 0; i < 2 && !s.rel[0]; i++) {
        const char *rel = o->kubepods ? o->kubepods : names[i];
        char dir[800];
        lm_pathf(dir, sizeof dir, "%s/%s", s.cpu, rel);
        if (is_dir(dir)) lm_pathf(s.rel, sizeof s.rel, "%s", rel);
        if (o->kubepods) break;
    }
    if (!s.rel[0])
        return lm_errf(err,
                       "%s: no %s group (is this a Kubernetes node? --kubepods names where the "
                       "kubelet puts its pods)",
                       s.cpu, o->kubepods ? o->kubepods : "kubepods or kubepods.slice");
    if (walk(&s, s.rel, 1, "guaranteed") != LM_OK) {
        free(s.pods);
        return lm_errf(err, "out of memory");
    }
    *pods = s.pods;
    *n = s.n;
    if (version) *version = s.version;
    return LM_OK;
}
