/* cmd_data.c -- `lumos data gen` and `lumos data load`. */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "data/dataset.h"
#include "storage/storage.h"

static const char help[] =
    "usage: lumos data gen --out DIR [--seed S] [--groups G,G] [--lang CODE] [--quiet]\n"
    "       lumos data load DIR [--group G] [--redis HOST:PORT | --storage-dir OUT]\n"
    "\n"
    "gen   writes the benchmark inputs of every payload group (xs 1 KiB, s 50 KiB,\n"
    "      1 512 KiB, 2 1 MiB, 3 2 MiB) under DIR, deterministically from the seed\n"
    "      (default 1): the same seed gives the same bytes. DIR/manifest.json lists\n"
    "      every object (key, size, checksum), where the fuzzy-search term is\n"
    "      planted, and the benchmark request of every function per group.\n"
    "      --lang picks the language of the language-detection text (default deu).\n"
    "load  puts the objects of DIR into Redis (--redis; without it Lumos starts its\n"
    "      own redis-server on a free loopback port and keeps it serving until\n"
    "      interrupted) or copies them into a data folder (--storage-dir).\n"
    "      Keys are the paths under DIR, e.g. fuzzy-search/2.txt (docs/data.md).\n";

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

static int data_gen(int argc, char **argv) {
    lm_datagen_opts o = {0};
    o.seed = 1;
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},    {"seed", required_argument, 0, 's'},
        {"groups", required_argument, 0, 'g'}, {"lang", required_argument, 0, 'l'},
        {"quiet", no_argument, 0, 'q'},        {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long long v;
        switch (c) {
        case 'o': o.out = optarg; break;
        case 's':
            if (lm_cli_parse_count(optarg, &v))
                return lm_cli_usage("data", "--seed must be a non-negative integer, not '%s'",
                                    optarg);
            o.seed = (uint64_t)v;
            break;
        case 'g': o.groups = optarg; break;
        case 'l': o.lang = optarg; break;
        case 'q': o.quiet = 1; break;
        default: return lm_cli_usage("data", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!o.out) return lm_cli_usage("data", "data gen needs --out DIR");
    if (optind < argc) return lm_cli_usage("data", "unexpected argument '%s'", argv[optind]);
    char err[LM_ERRLEN];
    if (lm_datagen(&o, err) != LM_OK) return lm_cli_fail("data gen: %s", err);
    if (!o.quiet) printf("wrote data set (seed %llu) to %s\n", (unsigned long long)o.seed, o.out);
    return 0;
}

static int data_load(int argc, char **argv) {
    const char *redis = NULL, *outdir = NULL, *group = NULL;
    static const struct option opts[] = {{"redis", required_argument, 0, 'r'},
                                         {"storage-dir", required_argument, 0, 'd'},
                                         {"group", required_argument, 0, 'g'},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r': redis = optarg; break;
        case 'd': outdir = optarg; break;
        case 'g': group = optarg; break;
        default: return lm_cli_usage("data", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return lm_cli_usage("data", "data load needs one data set folder");
    if (redis && outdir) return lm_cli_usage("data", "give --redis or --storage-dir, not both");
    if (group && !lm_group_find(group))
        return lm_cli_usage("data", "unknown group '%s' (xs, s, 1, 2, 3)", group);
    const char *dir = argv[optind];
    if (redis) {
        char host[256];
        int port;
        char e[LM_ERRLEN];
        if (lm_parse_hostport(redis, host, sizeof(host), &port, e) != LM_OK)
            return lm_cli_usage("data", "--redis: %s", e);
    }
    char err[LM_ERRLEN], addr[300] = "";
    lm_redis_server server = {0};
    lm_store *store =
        outdir ? lm_store_dir(outdir, err) : lm_redis_open(redis, &server, addr, sizeof(addr), err);
    if (!store) {
        lm_redis_server_stop(&server);
        return lm_cli_fail("data load: %s", err);
    }
    size_t n, bytes;
    int rc = lm_dataset_load(dir, store, group, &n, &bytes, err);
    lm_store_free(store);
    if (rc != LM_OK) {
        lm_redis_server_stop(&server);
        return lm_cli_fail("data load: %s", err);
    }
    printf("loaded %zu objects (%zu bytes) into %s%s\n", n, bytes, outdir ? "" : "redis at ",
           outdir ? outdir : addr);
    if (!outdir && !redis) {
        printf("serving until interrupted (Ctrl-C); the data goes with the server\n");
        fflush(stdout);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        while (!interrupted)
            pause();
        lm_redis_server_stop(&server);
    }
    return 0;
}

int lm_cmd_data(int argc, char **argv) {
    if (argc < 2 || lm_cli_wants_help(argc, argv)) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "gen") == 0) return data_gen(argc - 1, argv + 1);
    if (strcmp(argv[1], "load") == 0) return data_load(argc - 1, argv + 1);
    return lm_cli_usage("data", "unknown subcommand '%s' (gen or load)", argv[1]);
}
