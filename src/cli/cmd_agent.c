/* cmd_agent.c -- `lumos agent`: the lumos-agent DaemonSet's process
 * (cluster/agent.h): every pod's cgroup CPU and memory on this node, over
 * HTTP, or once on stdout (--once). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/agent.h"

static const char help[] =
    "usage: lumos agent [options]\n"
    "\n"
    "The process of the lumos-agent DaemonSet (`lumos deploy` writes it,\n"
    "docs/knative.md): finds every Kubernetes pod's control group on this\n"
    "node (cgroup v1 cpuacct and memory hierarchies, or v2; the kubelet's\n"
    "cgroupfs names kubepods/QOS/pod<UID>/<container> or its systemd names\n"
    "kubepods.slice/.../kubepods-QOS-pod<UID>.slice/cri-containerd-<ID>.scope)\n"
    "and serves each pod's and container's CPU time and memory keyed by the\n"
    "pod's uid (lumos-front's POD_UID):\n"
    "  GET /pods        JSON: {\"node\",\"t_ns\",\"cgroup_version\",\"pods\":[{\"pod_uid\",\n"
    "                   \"qos\",\"cgroup\",\"source\",\"cpu_user_ns\",\"cpu_system_ns\",\n"
    "                   \"cpu_ns\",\"mem_current_bytes\",\"mem_peak_bytes\",\"containers\"}]}\n"
    "  GET /pods/UID    that pod only (404 when it is not on this node)\n"
    "  GET /metrics     the same as Prometheus text\n"
    "  GET /healthz\n"
    "`lumos run --platform knative --agent http://HOST:PORT` reads it.\n"
    "\n"
    "options (each also from its environment variable):\n"
    "  --port N            listen port (LUMOS_AGENT_PORT; default 9464; 0: a free one)\n"
    "  --listen ADDR       listen address (LUMOS_AGENT_LISTEN; default 0.0.0.0)\n"
    "  --cgroup-root DIR   the node's cgroupfs (LUMOS_AGENT_CGROUP_ROOT; default\n"
    "                      /sys/fs/cgroup; the DaemonSet mounts it at /host/sys/fs/cgroup)\n"
    "  --kubepods REL      the pods' parent group in each hierarchy (default\n"
    "                      kubepods, else kubepods.slice)\n"
    "  --cgroup-version V  1 or 2 (default: 2 when ROOT/cgroup.controllers exists)\n"
    "  --node NAME         the node's name in answers (LUMOS_NODE)\n"
    "  --once              print one scan and exit (JSON with --json, else a table)\n"
    "  --json              with --once: the JSON GET /pods answers\n"
    "  -h, --help          this text\n";

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int port_of(const char *s, int *port) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > 65535) return -1;
    *port = (int)v;
    return 0;
}

static int print_table(const lm_agent_opts *o) {
    char err[LM_ERRLEN];
    lm_agent_pod *pods = NULL;
    size_t n = 0;
    int version = 0;
    if (lm_agent_scan(o, &pods, &n, &version, err) != LM_OK) return lm_cli_fail("agent: %s", err);
    printf("%zu pods (cgroup v%d)\n", n, version);
    printf("%-38s %-11s %12s %14s %14s\n", "pod_uid", "qos", "cpu_ms", "mem_bytes", "peak_bytes");
    for (size_t i = 0; i < n; i++) {
        const lm_usage *u = &pods[i].use;
        printf("%-38s %-11s %12.3f %14llu %14llu%s%s\n", pods[i].pod_uid, pods[i].qos,
               (double)(u->cpu_user_ns + u->cpu_system_ns) / 1e6,
               (unsigned long long)u->mem_current_bytes, (unsigned long long)u->mem_peak_bytes,
               pods[i].error[0] ? "  " : "", pods[i].error);
    }
    free(pods);
    return 0;
}

int lm_cmd_agent(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    lm_agent_opts o = {.cgroup_root = env("LUMOS_AGENT_CGROUP_ROOT"),
                       .listen = env("LUMOS_AGENT_LISTEN"),
                       .node = env("LUMOS_NODE"),
                       .port = 9464};
    if (env("LUMOS_AGENT_PORT") && port_of(env("LUMOS_AGENT_PORT"), &o.port) != 0)
        return lm_cli_usage("agent", "LUMOS_AGENT_PORT '%s': a port from 0 to 65535",
                            env("LUMOS_AGENT_PORT"));
    static const struct option opts[] = {{"port", required_argument, 0, 'p'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"cgroup-root", required_argument, 0, 'r'},
                                         {"kubepods", required_argument, 0, 'k'},
                                         {"cgroup-version", required_argument, 0, 'v'},
                                         {"node", required_argument, 0, 'n'},
                                         {"once", no_argument, 0, 'o'},
                                         {"json", no_argument, 0, 'j'},
                                         {0, 0, 0, 0}};
    int once = 0, json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (port_of(optarg, &o.port) != 0)
                return lm_cli_usage("agent", "--port '%s': a port from 0 to 65535", optarg);
            break;
        case 'l': o.listen = optarg; break;
        case 'r': o.cgroup_root = optarg; break;
        case 'k': o.kubepods = optarg; break;
        case 'v':
            if (strcmp(optarg, "1") && strcmp(optarg, "2"))
                return lm_cli_usage("agent", "--cgroup-version '%s': 1 or 2", optarg);
            o.version = atoi(optarg);
            break;
        case 'n': o.node = optarg; break;
        case 'o': once = 1; break;
        case 'j': json = 1; break;
        default: return lm_cli_usage("agent", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return lm_cli_usage("agent", "unexpected argument '%s'", argv[optind]);
    if (json && !once) return lm_cli_usage("agent", "--json goes with --once");
    char err[LM_ERRLEN];
    if (once && !json) return print_table(&o);
    if (once) {
        char *s = lm_agent_json(&o, NULL, err);
        if (!s) return lm_cli_fail("agent: %s", err);
        fputs(s, stdout);
        free(s);
        return 0;
    }
    if (lm_agent_serve(&o, err) != LM_OK) return lm_cli_fail("agent: %s", err);
    return 0;
}
