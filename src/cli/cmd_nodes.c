/* cmd_nodes.c -- `lumos nodes`: list the node profiles, bring nodes up and
 * down by hand, calibrate their speed, measure one (docs/nodes.md). */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "node/node.h"

static const char help[] =
    "usage: lumos nodes [list] [--json] [--nodes-config FILE]\n"
    "       lumos nodes up [NAME...] [--json]     bring nodes up, hold them until Ctrl-C\n"
    "       lumos nodes down                      remove nodes a dead lumos left behind\n"
    "       lumos nodes calibrate [--node NAME] [--out FILE] [--json]\n"
    "       lumos nodes bench --node NAME [--events N] [--pairs N] [--json]\n"
    "\n"
    "Emulated edge nodes: each is a network namespace with a veth pair to the\n"
    "host (10.213.N.0/30) and a cgroup whose CPU quota, CPU pinning, memory and\n"
    "pids limits bound all its instances together. Profiles come from\n"
    "--nodes-config FILE, $LUMOS_NODES, or the built-in config/nodes.json.\n"
    "\n"
    "calibrate runs the benchmark (sysbench cpu's loop, compiled in) on a\n"
    "host-speed group and under each profile's quota, side by side, and sets\n"
    "the quota so that the measured slowdown is host score / the profile's\n"
    "published target score; it writes --out (default: $LUMOS_NODE_CALIBRATION\n"
    "or build/nodes-calibration.json), which later runs use.\n"
    "bench measures one node's slowdown against the host with the calibration\n"
    "in force. up, down, calibrate and bench need root.\n";

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = sig; }

static void print_profile(const lm_node_profile *p, const lm_node_calibrations *cal) {
    printf("%-8s %s\n", p->name, p->description);
    printf("         cpus %d, memory %llu MiB, pids %lld, link %s\n", p->cpus,
           (unsigned long long)(p->memory_limit >> 20), (long long)p->pids_max,
           *p->link ? p->link : "(none)");
    const lm_node_calibration *k = NULL;
    for (int i = 0; cal && i < cal->n; i++)
        if (strcmp(cal->nodes[i].name, p->name) == 0) k = &cal->nodes[i];
    if (p->target_score > 0)
        printf("         target %.0f %s (%s)\n", p->target_score, p->target_unit, p->target_source);
    if (k)
        printf("         calibrated: cpu fraction %.4f, slowdown %.3f measured / %.3f target\n",
               k->cpu_fraction, k->measured_slowdown, k->target_slowdown);
    else
        printf("         cpu fraction %.2f (%s)\n", p->cpu_fraction,
               p->target_score > 0 ? "not calibrated: run `lumos nodes calibrate`"
                                   : "fixed by the profile");
}

static int cmd_list(const lm_node_config *c, int json) {
    lm_node_calibrations cal;
    int have = lm_node_calibration_read(lm_node_calibration_path(), &cal, NULL) == LM_OK;
    if (!json) {
        for (int i = 0; i < c->n; i++)
            print_profile(&c->profiles[i], have ? &cal : NULL);
        return 0;
    }
    json_t *arr = json_array();
    for (int i = 0; i < c->n; i++) {
        lm_node n = {.p = c->profiles[i]};
        char text[4096];
        lm_node_json(&n, text, sizeof(text));
        json_t *o = json_loads(text, 0, NULL);
        for (int j = 0; have && o && j < cal.n; j++)
            if (strcmp(cal.nodes[j].name, n.p.name) == 0)
                json_object_set_new(o, "calibration",
                                    json_pack("{s:f,s:f,s:f}", "cpu_fraction",
                                              cal.nodes[j].cpu_fraction, "measured_slowdown",
                                              cal.nodes[j].measured_slowdown, "target_slowdown",
                                              cal.nodes[j].target_slowdown));
        if (o) json_array_append_new(arr, o);
    }
    json_dumpf(arr, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(arr);
    return 0;
}

static int cmd_up(const lm_node_config *c, char **names, int nnames, int json) {
    lm_node nodes[LM_NODE_MAX_PROFILES];
    int n = 0, rc = 0;
    lm_node_calibrations cal;
    int have = lm_node_calibration_read(lm_node_calibration_path(), &cal, NULL) == LM_OK;
    char err[LM_ERRLEN];
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (int i = 0; i < (nnames ? nnames : c->n) && n < LM_NODE_MAX_PROFILES; i++) {
        const lm_node_profile *p =
            nnames ? lm_node_profile_find(c, names[i], err) : &c->profiles[i];
        if (!p || lm_node_up(p, have ? &cal : NULL, &nodes[n], err) != LM_OK) {
            rc = lm_cli_fail("%s", err);
            break;
        }
        char text[4096];
        lm_node_json(&nodes[n], text, sizeof(text));
        if (json)
            printf("%s\n", text);
        else
            printf("node %s up: netns %s, %s <-> %s (%s), cpus %s, cpu fraction %.3f\n",
                   nodes[n].p.name, nodes[n].netns, nodes[n].host_addr, nodes[n].node_addr,
                   nodes[n].veth_host, nodes[n].cpus_list, nodes[n].cpu_fraction);
        n++;
    }
    fflush(stdout);
    if (!rc) {
        fprintf(stderr, "lumos nodes: %d node(s) up; Ctrl-C removes them\n", n);
        while (!stop)
            pause();
    }
    for (int i = 0; i < n; i++)
        lm_node_down(&nodes[i]);
    return rc;
}

static int cmd_calibrate(const lm_node_config *c, const char *only, const char *out, int json) {
    char err[LM_ERRLEN];
    lm_node_calibrations cal;
    if (only && !lm_node_profile_find(c, only, err)) return lm_cli_fail("%s", err);
    if (!out) out = lm_node_calibration_path();
    /* A calibration of one node keeps the others already on file. */
    lm_node_calibrations old;
    int have_old = only && lm_node_calibration_read(out, &old, NULL) == LM_OK;
    fprintf(stderr, "lumos nodes calibrate: the benchmark on the host and under each profile\n");
    if (lm_node_calibrate(c, only, stderr, &cal, err) != LM_OK) return lm_cli_fail("%s", err);
    for (int i = 0; have_old && i < old.n && cal.n < LM_NODE_MAX_PROFILES; i++)
        if (strcmp(old.nodes[i].name, only) != 0) cal.nodes[cal.n++] = old.nodes[i];
    if (lm_node_calibration_write(out, &cal, err) != LM_OK) return lm_cli_fail("%s", err);
    if (json) {
        char *text = NULL;
        size_t len;
        text = lm_file_read(out, &len, err);
        if (text) fputs(text, stdout), fputc('\n', stdout);
        free(text);
        return 0;
    }
    printf("host: %s, %d cores, %.0f events/s per core (sysbench cpu loop)\n", cal.host_cpu,
           cal.host_cores, cal.host_score);
    for (int i = 0; i < cal.n; i++)
        printf("%-8s target slowdown %.3f, measured %.3f, cpu fraction %.4f, %d core(s) here\n",
               cal.nodes[i].name, cal.nodes[i].target_slowdown, cal.nodes[i].measured_slowdown,
               cal.nodes[i].cpu_fraction, cal.nodes[i].cores);
    printf("written: %s\n", out);
    return 0;
}

static int cmd_bench(const lm_node_config *c, const char *name, long long events, int pairs,
                     int json) {
    char err[LM_ERRLEN];
    const lm_node_profile *p = name ? lm_node_profile_find(c, name, err) : NULL;
    if (!name) return lm_cli_usage("nodes", "bench needs --node NAME");
    if (!p) return lm_cli_fail("%s", err);
    lm_node_calibrations cal;
    int have = lm_node_calibration_read(lm_node_calibration_path(), &cal, NULL) == LM_OK;
    lm_node_profile rp = {
        .name = "ref", .cpus = (int)sysconf(_SC_NPROCESSORS_ONLN), .cpu_period_us = 10000};
    lm_node ref, n;
    if (lm_node_up(&rp, NULL, &ref, err) != LM_OK) return lm_cli_fail("%s", err);
    if (lm_node_up(p, have ? &cal : NULL, &n, err) != LM_OK) {
        lm_node_down(&ref);
        return lm_cli_fail("%s", err);
    }
    double s = 0, hs = 0;
    int rc = lm_node_slowdown(&ref, &n, (uint64_t)events, pairs, &s, &hs, err);
    double expect = n.cpu_fraction > 0 ? 1 / n.cpu_fraction : 1;
    lm_node_down(&n);
    lm_node_down(&ref);
    if (rc != LM_OK) return lm_cli_fail("%s", err);
    if (json)
        printf("{\"node\":\"%s\",\"slowdown\":%.4f,\"expected_slowdown\":%.4f,"
               "\"cpu_fraction\":%.4f,\"calibrated\":%s,\"host_score_events_per_s\":%.1f}\n",
               p->name, s, expect, n.cpu_fraction, n.calibrated ? "true" : "false", hs);
    else
        printf("%s: slowdown %.3f (1 / cpu fraction %.4f = %.3f%s), host %.0f events/s\n", p->name,
               s, n.cpu_fraction, expect, n.calibrated ? ", calibrated" : "", hs);
    return 0;
}

int lm_cmd_nodes(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    const char *sub = "list", *config = NULL, *node = NULL, *out = NULL;
    char *names[LM_NODE_MAX_PROFILES];
    int nnames = 0, json = 0, pairs = 3;
    long long events = 300;
    int i = 1;
    if (i < argc && argv[i][0] != '-') sub = argv[i++];
    for (; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--nodes-config") == 0 && v) {
            config = v, i++;
        } else if (strcmp(a, "--node") == 0 && v) {
            node = v, i++;
        } else if (strcmp(a, "--out") == 0 && v) {
            out = v, i++;
        } else if (strcmp(a, "--events") == 0 && v) {
            if (lm_cli_parse_count(v, &events) || events < 1 || events > 1000000)
                return lm_cli_usage("nodes", "--events must be from 1 to 1M");
            i++;
        } else if (strcmp(a, "--pairs") == 0 && v) {
            long long n;
            if (lm_cli_parse_count(v, &n) || n < 1 || n > 16)
                return lm_cli_usage("nodes", "--pairs must be from 1 to 16");
            pairs = (int)n, i++;
        } else if (a[0] != '-' && strcmp(sub, "up") == 0 && nnames < LM_NODE_MAX_PROFILES) {
            names[nnames++] = argv[i];
        } else {
            return lm_cli_usage("nodes", "unknown argument '%s'", a);
        }
    }
    lm_node_config c;
    char err[LM_ERRLEN];
    if (lm_node_config_load(config, &c, err) != LM_OK) return lm_cli_fail("%s", err);
    if (strcmp(sub, "list") == 0) return cmd_list(&c, json);
    if (strcmp(sub, "up") == 0) return cmd_up(&c, names, nnames, json);
    if (strcmp(sub, "down") == 0) {
        int n = lm_nodes_cleanup_stale();
        printf(json ? "{\"removed\":%d}\n" : "removed %d stale node(s)\n", n);
        return 0;
    }
    if (strcmp(sub, "calibrate") == 0) return cmd_calibrate(&c, node, out, json);
    if (strcmp(sub, "bench") == 0) return cmd_bench(&c, node, events, pairs, json);
    return lm_cli_usage("nodes", "unknown subcommand '%s' (list, up, down, calibrate, bench)", sub);
}
