/* node.h -- emulated edge nodes on one machine (docs/nodes.md): node
 * profiles (a strict JSON config, the built-in one embedded from
 * config/nodes.json), a node brought up as a network namespace of its own
 * with a veth pair to the host and a parent cgroup whose CPU quota,
 * CPU pinning, memory and pids limits bound all its instances together,
 * the fixed CPU benchmark that calibrates a profile's speed against the
 * published single-core figure it targets, and the placement policies
 * that choose a node for a new instance. Instances join a node through
 * lm_node_start_opts (runtime.h's lm_start_opts fields). Needs root for
 * namespaces and cgroups; the profile and placement parts need nothing. */
#ifndef LM_NODE_H
#define LM_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/runtime.h"
#include "util/util.h"

#define LM_NODE_MAX_PROFILES 16
#define LM_NODE_MAX_AFFINITY 8

/* One node profile, as the config file gives it (docs/nodes.md). */
typedef struct {
    char name[24];         /* [a-z0-9-], 1-23 characters: "pi4" */
    char description[128]; /* one line for `lumos nodes` */
    int cpus;              /* cores of the emulated device (Pi 4: 4) */
    int64_t cpu_period_us; /* CFS period of the quotas (default 10000: short throttles) */
    /* Share of one host core that one emulated core gets when no
     * calibration is on file (1.0: host speed; 0: no CPU limit at all). */
    double cpu_fraction;
    uint64_t memory_limit; /* bytes for the whole node; 0 = none */
    int64_t pids_max;      /* for the whole node; 0 = none */
    char link[160];        /* a link condition for shape ("rate=100mbit,delay=2ms"), "" = none */
    int max_instances;     /* bin-pack's capacity of the node (default: cpus) */
    char affinity[LM_NODE_MAX_AFFINITY][64]; /* functions the affinity policy puts here */
    int naffinity;
    /* The speed it targets: the published single-core score of the real
     * device on the calibration benchmark (0: none, the node is not
     * slowed), its unit and where the figure comes from. */
    double target_score;
    char target_unit[32];
    char target_source[200];
} lm_node_profile;

typedef struct {
    lm_node_profile profiles[LM_NODE_MAX_PROFILES];
    int n;
    char path[1024]; /* the file read, or "(built-in)" */
} lm_node_config;

/* Parses a node config (text, len bytes; name is used in messages):
 * every key known, every value checked (docs/nodes.md). LM_OK with *out
 * filled, or LM_ERR with err naming the field and what is allowed. */
int lm_node_config_parse(const char *text, size_t len, const char *name, lm_node_config *out,
                         char *err);
/* Reads path, or with NULL $LUMOS_NODES, or the built-in config
 * (config/nodes.json embedded at build time). */
int lm_node_config_load(const char *path, lm_node_config *out, char *err);
/* The built-in config's text. */
const char *lm_node_config_builtin(void);
/* The profile named name in c, or NULL (err lists the known ones). */
const lm_node_profile *lm_node_profile_find(const lm_node_config *c, const char *name, char *err);

/* The calibration benchmark: the algorithm of sysbench 1.0's cpu test
 * (every odd and even number below max_prime tested for primality by
 * trial division up to its square root; one pass is one event), compiled
 * into lumos, so its events per second compare with published sysbench
 * cpu figures. Runs events passes single-threaded in the calling thread
 * and returns how many primes one pass found (1229 for 10000: a check). */
#define LM_NODE_BENCH_MAX_PRIME 10000
uint64_t lm_node_bench_run(uint64_t events, uint64_t max_prime);

/* One calibrated profile: what `lumos nodes calibrate` measured. */
typedef struct {
    char name[24];
    double target_slowdown;   /* host_score / target_score */
    double measured_slowdown; /* wall time under the node's quota / on the host */
    double cpu_fraction;      /* the per-core share that gave it */
    int cores;                /* host cores the node has here (<= its cpus) */
} lm_node_calibration;

typedef struct {
    double host_score; /* events/s of the benchmark on one host core */
    char host_cpu[128];
    int host_cores;
    int64_t measured_at_s; /* CLOCK_REALTIME seconds */
    lm_node_calibration nodes[LM_NODE_MAX_PROFILES];
    int n;
} lm_node_calibrations;

/* Where calibrations are kept: $LUMOS_NODE_CALIBRATION, else
 * LM_SOURCE_DIR/build/nodes-calibration.json. Static string. */
const char *lm_node_calibration_path(void);
/* Reads / writes a calibration file (JSON, docs/nodes.md). A missing file
 * is LM_ERR with err saying to run `lumos nodes calibrate`. */
int lm_node_calibration_read(const char *path, lm_node_calibrations *out, char *err);
int lm_node_calibration_write(const char *path, const lm_node_calibrations *c, char *err);

struct lm_node;
/* Runs events passes of the benchmark in a child process placed as an
 * instance on n would be (its own group under the node's, with the
 * per-core quota; n NULL: where lumos runs), and gives its wall and CPU
 * seconds. LM_OK, or LM_ERR with err. */
int lm_node_measure(const struct lm_node *n, uint64_t events, double *wall_s, double *cpu_s,
                    char *err);
/* pairs interleaved runs on ref and on n: the median of (wall/cpu on n) /
 * (wall/cpu on ref) in *slowdown, the median host score (events per CPU
 * second on ref) in *host_score (may be NULL). */
int lm_node_slowdown(const struct lm_node *ref, const struct lm_node *n, uint64_t events, int pairs,
                     double *slowdown, double *host_score, char *err);
/* Calibrates every profile of c with a target (only: just that one, or
 * NULL): the host's score, then per profile up to three rounds of quota,
 * measure, correct; progress (may be NULL) gets a line per round. */
int lm_node_calibrate(const lm_node_config *c, const char *only, FILE *progress,
                      lm_node_calibrations *out, char *err);

/* A node that is up: its namespace, veth pair, addresses and groups. */
typedef struct lm_node {
    lm_node_profile p;
    int index;           /* N of its subnet 10.213.N.0/30 */
    char netns[64];      /* lumos-node-NAME-PID */
    char netns_path[96]; /* /run/netns/<netns> */
    char veth_host[16], veth_node[16];
    char host_addr[16], node_addr[16]; /* 10.213.N.1 and 10.213.N.2 */
    char cgroup_parent[64];            /* node-NAME-PID: its groups are lumos/<it> */
    int cgroup_version;
    double cpu_fraction;       /* per emulated core, in force (calibrated or the profile's) */
    int calibrated;            /* cpu_fraction came from a calibration file */
    int cores;                 /* host cores it has here: min(cpus, host cores) */
    char cpus_list[32];        /* its pinned CPUs ("0-1"), "" when not pinned */
    int64_t instance_quota_us; /* one emulated core; 0 = none */
    int64_t node_quota_us;     /* all its cores; 0 = none */
    int up;                    /* namespace and groups exist */
    int removed;               /* taken away mid-run (lm_node_remove): nothing is placed here */
    int cut;                   /* its link is cut (veth down) */
} lm_node;

/* Brings a node of profile p up as this process's (names carry getpid()):
 * first removes what dead lumos processes left (lm_nodes_cleanup_stale),
 * then the namespace, the veth pair on a free 10.213.N.0/30 (one that no
 * route or address of this machine uses), and the groups with the
 * profile's limits. cal (may be NULL) gives the calibrated CPU share.
 * LM_OK, or LM_ERR with err (nothing left behind). Not thread-safe. */
int lm_node_up(const lm_node_profile *p, const lm_node_calibrations *cal, lm_node *n, char *err);
/* Kills what still runs in the node, removes its groups, namespace and
 * veth pair. Safe on a node never up, and twice. */
void lm_node_down(lm_node *n);
/* Removes namespaces (lumos-node-*-PID), veths and node groups
 * (lumos/node-*-PID) whose PID is no running process: left by a lumos
 * that crashed or was killed. Returns how many nodes it removed. */
int lm_nodes_cleanup_stale(void);
/* Cuts (cut 1) or restores (0) the node's link: its host veth goes down
 * or up. LM_OK or LM_ERR with err. */
int lm_node_set_link(lm_node *n, int cut, char *err);

/* Fills the lm_start_opts fields that put an instance on n. */
void lm_node_start_opts(const lm_node *n, lm_start_opts *o);

/* Writes one JSON object describing n (profile and, when up, its
 * namespace, addresses, groups, quotas); returns the length as snprintf. */
int lm_node_json(const lm_node *n, char *out, size_t len);

/* Placement: which node a new instance of function goes on. */
enum { LM_PLACE_SPREAD, LM_PLACE_BINPACK, LM_PLACE_AFFINITY, LM_PLACE_COUNT };
/* "spread", "bin-pack", "affinity". */
extern const char *const lm_place_names[LM_PLACE_COUNT];
/* The policy named name, or -1. */
int lm_place_find(const char *name);

/* What placement knows of a node. */
typedef struct {
    const lm_node_profile *p;
    int available; /* up, not removed, link not cut */
    int instances; /* instances on it now */
} lm_place_node;

/* The index of the node policy puts a new instance of function on, or -1
 * when none is available. spread: the fewest instances (ties: the first);
 * bin-pack: the most instances that still has room below max_instances,
 * else the fewest; affinity: among the nodes whose affinity lists the
 * function the fewest instances, else spread over all. */
int lm_place(int policy, const lm_place_node *nodes, int n, const char *function);

#endif
