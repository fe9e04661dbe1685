/* cmd_shape.c -- `lumos shape`: the shaping proxy, a condition or schedule
 * check, and tbf on an interface (docs/network.md). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "shape/shape.h"
#include "util/util.h"

static const char help[] =
    "usage: lumos shape --listen ADDR --upstream ADDR [--condition C | --schedule FILE]\n"
    "                   [--down-condition C | --down-schedule FILE] [--seed N]\n"
    "                   [--duration SECONDS] [--json]\n"
    "       lumos shape --check (--condition C | --schedule FILE) [--json]\n"
    "       lumos shape tbf --dev IF [--netns NS] (--rate R [--burst BYTES] [--latency T] | "
    "--clear)\n"
    "\n"
    "The proxy accepts TCP (or unix:PATH) clients on ADDR, connects each to the\n"
    "upstream and shapes both directions: every read is one message that leaves\n"
    "at the link's rate and arrives after delay + jitter; a loss costs a\n"
    "retransmit timeout (docs/network.md). It runs until SIGINT or SIGTERM (or\n"
    "--duration), then prints its counters (--json: one object).\n"
    "\n"
    "  --listen ADDR         HOST:PORT (numeric; port 0 picks one) or unix:PATH\n"
    "  --upstream ADDR       where each client is forwarded\n"
    "  --condition C         e.g. delay=20ms,jitter=5ms:normal,loss=1%,rate=100mbit,reorder=0.5%\n"
    "                        (keys: delay, jitter[:normal|uniform|pareto-normal], loss, rate,\n"
    "                        reorder[:GAP], rto), or a JSON object; default: none\n"
    "  --schedule FILE       conditions over time, one 'AT CONDITION' a line\n"
    "                        ('0s delay=20ms', '2m delay=200ms,loss=5%', '4m delay=20ms')\n"
    "                        or a JSON array of {\"at_s\", \"condition\"}\n"
    "  --down-condition C, --down-schedule FILE\n"
    "                        the upstream -> client direction (default: the same as up)\n"
    "  --seed N              the random stream (default 1): same seed, same delays\n"
    "  --duration SECONDS    stop after this long\n"
    "  --check               parse and print the condition or schedule, then exit\n"
    "\n"
    "tbf sets (or --clear removes) a tbf root qdisc: --rate like 100mbit, --burst\n"
    "in bytes (default: 1 ms of the rate, at least 6056), --latency (default 50ms).\n";

static volatile sig_atomic_t stop_sig;
static void on_signal(int sig) { stop_sig = sig; }

static int load_sched(const char *cond, const char *file, lm_shape_sched *out, char *err) {
    memset(out, 0, sizeof(*out));
    if (file) {
        char *text = lm_file_read_max(file, 1 << 20, NULL, err);
        if (!text) return LM_ERR;
        int rc = lm_shape_sched_parse(text, out, err);
        free(text);
        return rc;
    }
    lm_shape_cond c;
    int rc = cond && cond[0] == '{' ? lm_shape_cond_parse_json(cond, &c, err)
                                    : lm_shape_cond_parse(cond ? cond : "", &c, err);
    return rc == LM_OK ? lm_shape_sched_const(&c, out, err) : LM_ERR;
}

static void print_sched(const lm_shape_sched *s, int json) {
    char c[512];
    if (json) printf("[");
    for (size_t i = 0; i < s->n; i++) {
        lm_shape_cond_format(&s->steps[i].cond, c, sizeof c);
        if (json) {
            char q[600];
            printf("%s{\"at_s\":%.9g,\"condition\":%s}", i ? "," : "",
                   (double)s->steps[i].at_ns / 1e9, lm_json_quote(q, sizeof q, c));
        } else {
            printf("%.9gs %s\n", (double)s->steps[i].at_ns / 1e9, c);
        }
    }
    if (json) printf("]\n");
}

static int shape_tbf(int argc, char **argv) {
    const char *dev = NULL, *netns = NULL, *rate = NULL, *burst = NULL, *latency = NULL;
    int clear = 0;
    static const struct option opts[] = {{"dev", required_argument, 0, 'd'},
                                         {"netns", required_argument, 0, 'n'},
                                         {"rate", required_argument, 0, 'r'},
                                         {"burst", required_argument, 0, 'b'},
                                         {"latency", required_argument, 0, 'l'},
                                         {"clear", no_argument, 0, 'c'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dev = optarg; break;
        case 'n': netns = optarg; break;
        case 'r': rate = optarg; break;
        case 'b': burst = optarg; break;
        case 'l': latency = optarg; break;
        case 'c': clear = 1; break;
        default: return lm_cli_usage("shape", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return lm_cli_usage("shape", "unexpected argument '%s'", argv[optind]);
    if (!dev) return lm_cli_usage("shape", "shape tbf needs --dev IF");
    if (clear == !!rate)
        return lm_cli_usage("shape", "shape tbf needs --rate R or --clear (one of them)");
    char err[LM_ERRLEN];
    if (clear) {
        if (lm_shape_tbf_clear(dev, netns, err) != LM_OK) return lm_cli_fail("%s", err);
        return 0;
    }
    lm_shape_cond cond;
    char spec[128];
    snprintf(spec, sizeof spec, "rate=%s", rate);
    if (lm_shape_cond_parse(spec, &cond, err) != LM_OK)
        return lm_cli_usage("shape", "--rate: %s", err);
    long long b = 0;
    if (burst && (lm_cli_parse_count(burst, &b) || b <= 0))
        return lm_cli_usage("shape", "--burst must be a positive number of bytes, not '%s'", burst);
    uint64_t lat = 0;
    if (latency) {
        snprintf(spec, sizeof spec, "delay=%s", latency);
        lm_shape_cond lc;
        if (lm_shape_cond_parse(spec, &lc, err) != LM_OK)
            return lm_cli_usage("shape", "--latency: %s", err);
        lat = lc.delay_ns;
    }
    if (lm_shape_tbf_set(dev, netns, cond.rate_bps, (uint64_t)b, lat, err) != LM_OK)
        return lm_cli_fail("%s", err);
    return 0;
}

int lm_cmd_shape(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "tbf") == 0) {
        if (lm_cli_wants_help(argc - 1, argv + 1)) return fputs(help, stdout), 0;
        return shape_tbf(argc - 1, argv + 1);
    }
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    const char *listen = NULL, *upstream = NULL, *cond = NULL, *file = NULL, *dcond = NULL,
               *dfile = NULL;
    long long seed = 1, duration = 0;
    int json = 0, check = 0;
    static const struct option opts[] = {{"listen", required_argument, 0, 'l'},
                                         {"upstream", required_argument, 0, 'u'},
                                         {"condition", required_argument, 0, 'c'},
                                         {"schedule", required_argument, 0, 's'},
                                         {"down-condition", required_argument, 0, 'C'},
                                         {"down-schedule", required_argument, 0, 'S'},
                                         {"seed", required_argument, 0, 'r'},
                                         {"duration", required_argument, 0, 'd'},
                                         {"json", no_argument, 0, 'j'},
                                         {"check", no_argument, 0, 'k'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen = optarg; break;
        case 'u': upstream = optarg; break;
        case 'c': cond = optarg; break;
        case 's': file = optarg; break;
        case 'C': dcond = optarg; break;
        case 'S': dfile = optarg; break;
        case 'r':
            if (lm_cli_parse_count(optarg, &seed))
                return lm_cli_usage("shape", "--seed must be a non-negative integer, not '%s'",
                                    optarg);
            break;
        case 'd':
            if (lm_cli_parse_count(optarg, &duration) || duration <= 0)
                return lm_cli_usage(
                    "shape", "--duration must be a positive number of seconds, not '%s'", optarg);
            break;
        case 'j': json = 1; break;
        case 'k': check = 1; break;
        default: return lm_cli_usage("shape", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return lm_cli_usage("shape", "unexpected argument '%s'", argv[optind]);
    if (cond && file) return lm_cli_usage("shape", "give --condition or --schedule, not both");
    if (dcond && dfile)
        return lm_cli_usage("shape", "give --down-condition or --down-schedule, not both");
    char err[LM_ERRLEN];
    lm_shape_sched up, down;
    if (load_sched(cond, file, &up, err) != LM_OK) return lm_cli_usage("shape", "%s", err);
    int have_down = dcond || dfile;
    if (have_down && load_sched(dcond, dfile, &down, err) != LM_OK) {
        lm_shape_sched_free(&up);
        return lm_cli_usage("shape", "%s", err);
    }
    if (check) {
        print_sched(&up, json);
        if (have_down) print_sched(&down, json);
        lm_shape_sched_free(&up);
        if (have_down) lm_shape_sched_free(&down);
        return 0;
    }
    if (!listen || !upstream) {
        lm_shape_sched_free(&up);
        if (have_down) lm_shape_sched_free(&down);
        return lm_cli_usage("shape", "the proxy needs --listen ADDR and --upstream ADDR");
    }
    lm_shape_proxy_opts o = {.listen_fd = -1,
                             .listen_addr = listen,
                             .upstream = upstream,
                             .up = &up,
                             .down = have_down ? &down : NULL,
                             .seed = (uint64_t)seed};
    lm_shape_proxy *p = lm_shape_proxy_start(&o, err);
    lm_shape_sched_free(&up);
    if (have_down) lm_shape_sched_free(&down);
    if (!p) return lm_cli_fail("shape: %s", err);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fprintf(stderr, "shape: listening on %s -> %s\n", lm_shape_proxy_addr(p), upstream);
    uint64_t end = duration ? lm_now_ns() + (uint64_t)duration * 1000000000ull : 0;
    while (!stop_sig && (!end || lm_now_ns() < end)) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
    }
    lm_shape_stats st;
    lm_shape_proxy_stats(p, &st);
    lm_shape_proxy_stop(p);
    if (json) {
        char out[1024];
        printf("%s\n", lm_shape_stats_json(&st, out, sizeof out));
    } else {
        printf("connections %llu (failed %llu)\n", (unsigned long long)st.connections,
               (unsigned long long)st.failed);
        const lm_shape_dir_stats *d[2] = {&st.up, &st.down};
        for (int i = 0; i < 2; i++)
            printf("%-4s bytes %llu chunks %llu drops %llu retransmits %llu reordered %llu\n",
                   i ? "down" : "up", (unsigned long long)d[i]->bytes,
                   (unsigned long long)d[i]->chunks, (unsigned long long)d[i]->drops,
                   (unsigned long long)d[i]->retransmits, (unsigned long long)d[i]->reordered);
    }
    return 0;
}
