/* up.c -- a node's life: its network namespace and veth pair (ip, from
 * iproute2), its parent groups with the profile's limits, and the removal
 * of what a dead lumos left behind. */
#include "node/node.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"
/* Every node's groups live under this, beside lumos/ (not in it): its
 * cpu.shares lifts the nodes above the rest of a busy machine, so that
 * a node's own quota, not other load, is what slows its instances. */
#define NODES_GROUP "/lumos-nodes"
#define NODES_SHARES "16384"
#define NETNS_DIR "/run/netns"
#define LOCK_FILE "/run/lumos-nodes.lock"
#define NS_PREFIX "lumos-node-"

static const char *const v1_ctl[] = {"memory", "cpuacct", "cpu", "pids", "cpuset"};
#define NCTL (sizeof(v1_ctl) / sizeof(v1_ctl[0]))

/* Runs ip with the arguments (NULL-ended), quietly. LM_OK when it exits 0. */
static int ip(char *err, ...) {
    char *argv[24] = {"ip"};
    int n = 1;
    va_list ap;
    va_start(ap, err);
    for (char *a; n < 23 && (a = va_arg(ap, char *));)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char why[LM_ERRLEN] = "";
    int st = lm_run(argv, 1, why);
    if (st == 0) return LM_OK;
    char cmd[512] = "";
    for (int i = 0; i < n; i++)
        snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "", argv[i]);
    return lm_errf(err, "`%s` failed (%s): is iproute2 installed and are we root?", cmd,
                   *why ? why : "non-zero exit");
}

static int write_file(const char *path, const char *value) {
    FILE *f = fopen(path, "w");
    if (!f) return LM_ERR;
    int ok = fputs(value, f) >= 0;
    ok &= fclose(f) == 0;
    return ok ? LM_OK : LM_ERR;
}

static void read_line(const char *path, char *out, size_t n) {
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(out, (int)n, f)) out[strcspn(out, "\n")] = 0;
    fclose(f);
}

/* Kills the tasks of a group dir and its children, then removes them. */
static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_type == DT_DIR && e->d_name[0] != '.') {
                char sub[1024];
                snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
                remove_tree(sub);
            }
        closedir(d);
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        if (rmdir(dir) == 0 || errno == ENOENT) return;
        char procs[1100];
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
        FILE *f = fopen(procs, "r");
        int pid;
        while (f && fscanf(f, "%d", &pid) == 1)
            kill(pid, SIGKILL);
        if (f) fclose(f);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
}

/* The trailing -PID of a name, or 0. */
static int owner_pid(const char *name) {
    const char *dash = strrchr(name, '-');
    if (!dash || !dash[1]) return 0;
    char *end;
    long v = strtol(dash + 1, &end, 10);
    return *end || v <= 0 ? 0 : (int)v;
}

static int alive(int pid) { return kill(pid, 0) == 0 || errno == EPERM; }

int lm_nodes_cleanup_stale(void) {
    int removed = 0;
    DIR *d = opendir(NETNS_DIR);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strncmp(e->d_name, NS_PREFIX, strlen(NS_PREFIX)) != 0) continue;
        int pid = owner_pid(e->d_name);
        if (!pid || alive(pid)) continue;
        if (ip(NULL, "netns", "del", e->d_name, NULL) == LM_OK) removed++;
    }
    if (d) closedir(d);
    /* Host veths whose namespace went first (lmh<N> with no peer left
     * go with it; a stray one is removed here). */
    for (size_t i = 0; i < NCTL; i++) {
        char base[128];
        snprintf(base, sizeof(base), CG_ROOT "/%s" NODES_GROUP, v1_ctl[i]);
        if (lm_cgroup_version(NULL) == 2) snprintf(base, sizeof(base), CG_ROOT NODES_GROUP);
        DIR *g = opendir(base);
        while (g && (e = readdir(g))) {
            if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
            int pid = owner_pid(e->d_name);
            if (!pid || alive(pid)) continue;
            char dir[512];
            snprintf(dir, sizeof(dir), "%s/%s", base, e->d_name);
            remove_tree(dir);
        }
        if (g) closedir(g);
        if (lm_cgroup_version(NULL) == 2) break;
    }
    return removed;
}

/* 1 when 10.213.N. appears in any route or address of this machine, or
 * its veth name is taken. */
static int subnet_taken(int n) {
    char path[64], needle[32];
    snprintf(path, sizeof(path), "/sys/class/net/lmh%d", n);
    if (access(path, F_OK) == 0) return 1;
    snprintf(needle, sizeof(needle), "10.213.%d.", n);
    FILE *f =
        popen("ip -4 -o route show table all 2>/dev/null; ip -4 -o addr show 2>/dev/null", "r");
    if (!f) return 1;
    char line[512];
    int taken = 0;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, needle) || strstr(line, "10.213.0.0/16") || strstr(line, "10.0.0.0/8"))
            taken = 1;
    pclose(f);
    return taken;
}

/* Makes the node's groups: the shared lumos-nodes/ parent (high shares,
 * the machine's CPUs and memory nodes, children inherit cpusets), then
 * the node's own with its limits. */
static int make_groups(lm_node *n, char *err) {
    char path[512], v[64];
    int ver = lm_cgroup_version(err);
    if (!ver) return LM_ERR;
    n->cgroup_version = ver;
    for (size_t i = 0; i < (ver == 2 ? 1 : NCTL); i++) {
        char base[128], top[160], dir[256];
        if (ver == 2)
            snprintf(base, sizeof(base), CG_ROOT);
        else
            snprintf(base, sizeof(base), CG_ROOT "/%s", v1_ctl[i]);
        if (access(base, W_OK) != 0) continue;
        snprintf(top, sizeof(top), "%s" NODES_GROUP, base);
        snprintf(dir, sizeof(dir), "%s/%s", top, n->cgroup_parent);
        if ((mkdir(top, 0755) != 0 && errno != EEXIST) ||
            (mkdir(dir, 0755) != 0 && errno != EEXIST))
            return lm_errf(err, "cannot create the node's cgroup %s: %s", dir, strerror(errno));
        const char *ctl = ver == 2 ? "all" : v1_ctl[i];
        if (ver == 2) {
            write_file(CG_ROOT "/cgroup.subtree_control", "+memory +cpu +pids +cpuset");
            snprintf(path, sizeof(path), "%s/cgroup.subtree_control", top);
            write_file(path, "+memory +cpu +pids +cpuset");
            snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
            write_file(path, "+memory +cpu +pids +cpuset");
            snprintf(path, sizeof(path), "%s/cpu.weight", top);
            write_file(path, "10000");
        }
        int rc = LM_OK;
        if (strcmp(ctl, "cpu") == 0 || ver == 2) {
            snprintf(path, sizeof(path), "%s/cpu.shares", top);
            if (ver == 1) write_file(path, NODES_SHARES);
            if (n->node_quota_us > 0) {
                if (ver == 1) {
                    snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
                    snprintf(v, sizeof(v), "%lld", (long long)n->p.cpu_period_us);
                    rc |= write_file(path, v);
                    snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
                    snprintf(v, sizeof(v), "%lld", (long long)n->node_quota_us);
                    rc |= write_file(path, v);
                } else {
                    snprintf(path, sizeof(path), "%s/cpu.max", dir);
                    snprintf(v, sizeof(v), "%lld %lld", (long long)n->node_quota_us,
                             (long long)n->p.cpu_period_us);
                    rc |= write_file(path, v);
                }
            }
        }
        if ((strcmp(ctl, "memory") == 0 || ver == 2) && n->p.memory_limit) {
            snprintf(v, sizeof(v), "%llu", (unsigned long long)n->p.memory_limit);
            snprintf(path, sizeof(path), "%s/%s", dir,
                     ver == 2 ? "memory.max" : "memory.limit_in_bytes");
            rc |= write_file(path, v);
            snprintf(path, sizeof(path), "%s/%s", dir,
                     ver == 2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
            write_file(path, ver == 2 ? "0" : v); /* where swap is accounted */
        }
        if ((strcmp(ctl, "pids") == 0 || ver == 2) && n->p.pids_max) {
            snprintf(path, sizeof(path), "%s/pids.max", dir);
            snprintf(v, sizeof(v), "%lld", (long long)n->p.pids_max);
            rc |= write_file(path, v);
        }
        if ((strcmp(ctl, "cpuset") == 0 || ver == 2) && n->cpus_list[0]) {
            char mems[64];
            read_line(ver == 2 ? CG_ROOT "/cpuset.mems.effective" : CG_ROOT "/cpuset/cpuset.mems",
                      mems, sizeof(mems));
            if (ver == 1) {
                char cpus[64];
                read_line(CG_ROOT "/cpuset/cpuset.cpus", cpus, sizeof(cpus));
                snprintf(path, sizeof(path), "%s/cpuset.cpus", top);
                write_file(path, cpus);
                snprintf(path, sizeof(path), "%s/cpuset.mems", top);
                write_file(path, mems);
                snprintf(path, sizeof(path), "%s/cgroup.clone_children", dir);
                write_file(path, "1");
            }
            snprintf(path, sizeof(path), "%s/cpuset.cpus", dir);
            rc |= write_file(path, n->cpus_list);
            snprintf(path, sizeof(path), "%s/cpuset.mems", dir);
            if (mems[0]) write_file(path, mems);
        }
        if (rc != LM_OK)
            return lm_errf(err, "cannot set the limits of the node's cgroup %s: %s", dir,
                           strerror(errno));
    }
    return LM_OK;
}

static void remove_groups(lm_node *n) {
    for (size_t i = 0; i < NCTL; i++) {
        char dir[256];
        if (n->cgroup_version == 2)
            snprintf(dir, sizeof(dir), CG_ROOT NODES_GROUP "/%s", n->cgroup_parent);
        else
            snprintf(dir, sizeof(dir), CG_ROOT "/%s" NODES_GROUP "/%s", v1_ctl[i],
                     n->cgroup_parent);
        remove_tree(dir);
        if (n->cgroup_version == 2) break;
    }
}

/* The CPU share and quotas in force for n's profile. */
static void cpu_plan(lm_node *n, const lm_node_calibrations *cal) {
    long host = sysconf(_SC_NPROCESSORS_ONLN);
    if (host < 1) host = 1;
    n->cores = n->p.cpus < host ? n->p.cpus : (int)host;
    n->cpu_fraction = n->p.cpu_fraction;
    for (int i = 0; cal && i < cal->n; i++)
        if (strcmp(cal->nodes[i].name, n->p.name) == 0) {
            n->cpu_fraction = cal->nodes[i].cpu_fraction;
            n->calibrated = 1;
        }
    /* Pinned to `cores` CPUs; a node smaller than the machine starts at
     * its index, so that small nodes spread over the cores. */
    if (n->cores >= host)
        snprintf(n->cpus_list, sizeof(n->cpus_list), "0-%ld", host - 1);
    else if (n->cores == 1)
        snprintf(n->cpus_list, sizeof(n->cpus_list), "%ld", n->index % host);
    else
        snprintf(n->cpus_list, sizeof(n->cpus_list), "0-%d", n->cores - 1);
    if (n->cpu_fraction > 0 && n->cpu_fraction < 1) {
        n->instance_quota_us = (int64_t)(n->cpu_fraction * (double)n->p.cpu_period_us + 0.5);
        n->node_quota_us = n->instance_quota_us * n->cores;
        if (n->instance_quota_us < 1000) n->instance_quota_us = 1000; /* the kernel's floor */
    }
}

int lm_node_up(const lm_node_profile *p, const lm_node_calibrations *cal, lm_node *n, char *err) {
    memset(n, 0, sizeof(*n));
    n->p = *p;
    if (geteuid() != 0)
        return lm_errf(err, "node %s: network namespaces and cgroups need root", p->name);
    lm_nodes_cleanup_stale();
    int lock = open(LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        if (lock >= 0) close(lock);
        return lm_errf(err, "cannot lock %s: %s", LOCK_FILE, strerror(errno));
    }
    int rc = LM_ERR;
    for (int i = 1; i <= 250; i++)
        if (!subnet_taken(i)) {
            n->index = i;
            break;
        }
    if (!n->index) {
        lm_errf(err, "no free subnet 10.213.N.0/30 (N 1-250) for node %s", p->name);
        goto out;
    }
    int pid = (int)getpid();
    snprintf(n->netns, sizeof(n->netns), NS_PREFIX "%s-%d", p->name, pid);
    snprintf(n->netns_path, sizeof(n->netns_path), NETNS_DIR "/%s", n->netns);
    snprintf(n->veth_host, sizeof(n->veth_host), "lmh%d", n->index);
    snprintf(n->veth_node, sizeof(n->veth_node), "lmn%d", n->index);
    snprintf(n->host_addr, sizeof(n->host_addr), "10.213.%d.1", n->index);
    snprintf(n->node_addr, sizeof(n->node_addr), "10.213.%d.2", n->index);
    snprintf(n->cgroup_parent, sizeof(n->cgroup_parent), "node-%s-%d", p->name, pid);
    cpu_plan(n, cal);
    char host_cidr[24], node_cidr[24];
    snprintf(host_cidr, sizeof(host_cidr), "%s/30", n->host_addr);
    snprintf(node_cidr, sizeof(node_cidr), "%s/30", n->node_addr);
    n->up = 1; /* from here on, lm_node_down undoes what was made */
    if (ip(err, "netns", "add", n->netns, NULL) != LM_OK ||
        ip(err, "link", "add", n->veth_host, "type", "veth", "peer", "name", n->veth_node, "netns",
           n->netns, NULL) != LM_OK ||
        ip(err, "addr", "add", host_cidr, "dev", n->veth_host, NULL) != LM_OK ||
        ip(err, "link", "set", n->veth_host, "up", NULL) != LM_OK ||
        ip(err, "-n", n->netns, "addr", "add", node_cidr, "dev", n->veth_node, NULL) != LM_OK ||
        ip(err, "-n", n->netns, "link", "set", n->veth_node, "up", NULL) != LM_OK ||
        ip(err, "-n", n->netns, "link", "set", "lo", "up", NULL) != LM_OK ||
        ip(err, "-n", n->netns, "route", "add", "default", "via", n->host_addr, NULL) != LM_OK ||
        make_groups(n, err) != LM_OK) {
        char why[LM_ERRLEN];
        snprintf(why, sizeof(why), "node %s: %s", p->name, err);
        lm_node_down(n);
        lm_errf(err, "%s", why);
        goto out;
    }
    rc = LM_OK;
out:
    flock(lock, LOCK_UN);
    close(lock);
    return rc;
}

void lm_node_down(lm_node *n) {
    if (!n || !n->up) return;
    remove_groups(n);
    ip(NULL, "netns", "del", n->netns, NULL);
    char path[64];
    snprintf(path, sizeof(path), "/sys/class/net/%s", n->veth_host);
    if (access(path, F_OK) == 0) ip(NULL, "link", "del", n->veth_host, NULL);
    n->up = 0;
}

int lm_node_set_link(lm_node *n, int cut, char *err) {
    if (!n->up) return lm_errf(err, "node %s is not up", n->p.name);
    if (ip(err, "link", "set", n->veth_host, cut ? "down" : "up", NULL) != LM_OK) return LM_ERR;
    n->cut = cut;
    return LM_OK;
}

void lm_node_start_opts(const lm_node *n, lm_start_opts *o) {
    static __thread char parent[96];
    snprintf(parent, sizeof(parent), NODES_GROUP "/%s", n->cgroup_parent);
    o->cgroup_parent = parent;
    o->cpu_quota_us = n->instance_quota_us;
    o->cpu_period_us = n->p.cpu_period_us;
    o->cpuset = n->cpus_list[0] != 0;
    o->netns = n->netns_path;
}

int lm_node_json(const lm_node *n, char *out, size_t len) {
    const lm_node_profile *p = &n->p;
    json_t *o = json_pack(
        "{s:s,s:s,s:i,s:I,s:I,s:I,s:s,s:i,s:f,s:s,s:s}", "name", p->name, "description",
        p->description, "cpus", p->cpus, "cpu_period_us", (json_int_t)p->cpu_period_us,
        "memory_limit_bytes", (json_int_t)p->memory_limit, "pids_max", (json_int_t)p->pids_max,
        "link", p->link, "max_instances", p->max_instances, "target_score", p->target_score,
        "target_unit", p->target_unit, "target_source", p->target_source);
    if (o && n->up) {
        char cg[128];
        snprintf(cg, sizeof(cg), NODES_GROUP "/%s", n->cgroup_parent);
        json_t *live =
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:f,s:b,s:I,s:I,s:b,s:b}", "netns", n->netns,
                      "veth_host", n->veth_host, "host_addr", n->host_addr, "node_addr",
                      n->node_addr, "cgroup", cg, "cores", n->cores, "cpus_list", n->cpus_list,
                      "cpu_fraction", n->cpu_fraction, "calibrated", n->calibrated,
                      "instance_quota_us", (json_int_t)n->instance_quota_us, "node_quota_us",
                      (json_int_t)n->node_quota_us, "removed", n->removed, "link_cut", n->cut);
        if (live) json_object_update(o, live);
        json_decref(live);
    }
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    int w = snprintf(out, len, "%s", text ? text : "{}");
    free(text);
    return w;
}
