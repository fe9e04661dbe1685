/* cmd_load.c -- `lumos load URL`: the load client from the command line
 * (open loop at a rate or from a trace, closed loop with N clients), its
 * summary, every request as CSV, and the join into a `lumos serve`
 * results database. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "data/dataset.h"
#include "load/load.h"
#include "load/output.h"
#include "load/trace_plan.h"
#include "results/results.h"

static const char help[] =
    "usage: lumos load URL [options]\n"
    "\n"
    "Sends HTTP/1.1 requests to URL (http://HOST:PORT[/PATH]; HOST a numeric address or\n"
    "localhost) on keep-alive connections and measures every one: latency from its\n"
    "intended send time (corrected for coordinated omission, as wrk2) and from its\n"
    "actual send, send-time error, late sends, drops and errors, and the client's own\n"
    "CPU and memory. Against `lumos serve`, --db joins the client's times into the\n"
    "gateway's rows (docs/load.md).\n"
    "\n"
    "what to send (one of):\n"
    "  --rate R --duration S   open loop: R requests/s for S seconds, evenly spaced\n"
    "  --trace FILE            the requests of a Lumos trace, at its times (open) or by\n"
    "                          its clients (closed)\n"
    "  --concurrency N         closed loop: N clients, each sending when its answer is in,\n"
    "                          for --requests M in all and/or --duration S\n"
    "\n"
    "options:\n"
    "  --requests M            closed loop: requests in all\n"
    "  --duration S            seconds (decimals allowed); nothing is sent after it\n"
    "  --path P                the request path (default: the URL's, else /)\n"
    "  --method M              the request method (default POST)\n"
    "  --body STRING|@FILE     the request body (default: none)\n"
    "  --header 'K: V'         an extra header line, on every request (repeatable)\n"
    "  --data DIR              the data set, for a trace's group: payloads\n"
    "  --timeout-ms T          a request without its whole answer after T ms is dropped\n"
    "                          (default 10000)\n"
    "  --connections C         open loop: the connection pool's cap (default 1024)\n"
    "  --late-ms MS            a send later than this after its intended time is late\n"
    "                          (default 1)\n"
    "  --spin-us US            open loop: busy-wait the last US microseconds before each\n"
    "                          send time (default 50; 0: sleep only)\n"
    "  --out FILE              every request as CSV (columns in docs/load.md)\n"
    "  --json                  print the summary as JSON\n"
    "  --db FILE               set requests.intended_send_ns, send_ns and receive_ns in\n"
    "                          this `lumos serve --results` database, by request id\n"
    "  -h, --help              this text\n"
    "\n"
    "Exit status: 0 when the run happened and answers came (errors are counted, not\n"
    "fatal), 1 when it could not run, nothing was answered, or --out or --db failed,\n"
    "2 for bad usage.\n";

enum {
    O_RATE = 1000,
    O_DURATION,
    O_TRACE,
    O_CONC,
    O_REQUESTS,
    O_PATH,
    O_METHOD,
    O_BODY,
    O_HEADER,
    O_DATA,
    O_TIMEOUT,
    O_CONNS,
    O_LATE,
    O_SPIN,
    O_OUT,
    O_JSON,
    O_DB,
};

typedef struct {
    const char *url, *trace, *path, *method, *body_arg, *data, *out, *db;
    double rate, duration_s;
    long long concurrency, requests, timeout_ms, connections, spin_us;
    double late_ms;
    int json;
    lm_buf headers;
} load_args;

/* A positive number (decimals, optional k suffix) within (0, max]. */
static int positive(const char *opt, const char *s, double max, double *out) {
    char *end;
    double v = strtod(s, &end);
    if (end != s && (*end == 'k' || *end == 'K')) v *= 1000, end++;
    if (end == s || *end || !(v > 0) || v > max)
        return lm_cli_usage("load", "%s must be a number above 0 (up to %g), not '%s'", opt, max,
                            s);
    *out = v;
    return 0;
}

static int count(const char *opt, const char *s, long long lo, long long hi, long long *out) {
    if (lm_cli_parse_count(s, out) || *out < lo || *out > hi)
        return lm_cli_usage("load", "%s must be an integer from %lld to %lld, not '%s'", opt, lo,
                            hi, s);
    return 0;
}

static int add_header(load_args *a, const char *h) {
    const char *colon = strchr(h, ':');
    if (!colon || colon == h || strpbrk(h, "\r\n"))
        return lm_cli_usage("load", "--header must be 'Name: value' on one line, not '%s'", h);
    for (const char *p = h; p < colon; p++)
        if (*p == ' ' || *p == '\t')
            return lm_cli_usage("load", "--header: no space before the colon in '%s'", h);
    if (lm_buf_printf(&a->headers, "%s\r\n", h) != LM_OK) return lm_cli_fail("load: out of memory");
    return 0;
}

static int parse(int argc, char **argv, load_args *a) {
    static const struct option opts[] = {{"rate", required_argument, 0, O_RATE},
                                         {"duration", required_argument, 0, O_DURATION},
                                         {"trace", required_argument, 0, O_TRACE},
                                         {"concurrency", required_argument, 0, O_CONC},
                                         {"requests", required_argument, 0, O_REQUESTS},
                                         {"path", required_argument, 0, O_PATH},
                                         {"method", required_argument, 0, O_METHOD},
                                         {"body", required_argument, 0, O_BODY},
                                         {"header", required_argument, 0, O_HEADER},
                                         {"data", required_argument, 0, O_DATA},
                                         {"timeout-ms", required_argument, 0, O_TIMEOUT},
                                         {"connections", required_argument, 0, O_CONNS},
                                         {"late-ms", required_argument, 0, O_LATE},
                                         {"spin-us", required_argument, 0, O_SPIN},
                                         {"out", required_argument, 0, O_OUT},
                                         {"json", no_argument, 0, O_JSON},
                                         {"db", required_argument, 0, O_DB},
                                         {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_RATE: rc = positive("--rate", optarg, 10e6, &a->rate); break;
        case O_DURATION: rc = positive("--duration", optarg, 86400, &a->duration_s); break;
        case O_TRACE: a->trace = optarg; break;
        case O_CONC: rc = count("--concurrency", optarg, 1, 10000, &a->concurrency); break;
        case O_REQUESTS: rc = count("--requests", optarg, 1, 100000000, &a->requests); break;
        case O_PATH: a->path = optarg; break;
        case O_METHOD: a->method = optarg; break;
        case O_BODY: a->body_arg = optarg; break;
        case O_HEADER: rc = add_header(a, optarg); break;
        case O_DATA: a->data = optarg; break;
        case O_TIMEOUT: rc = count("--timeout-ms", optarg, 1, 3600000, &a->timeout_ms); break;
        case O_CONNS: rc = count("--connections", optarg, 1, 60000, &a->connections); break;
        case O_LATE: rc = positive("--late-ms", optarg, 3600000, &a->late_ms); break;
        case O_SPIN: rc = count("--spin-us", optarg, 0, 1000000, &a->spin_us); break;
        case O_OUT: a->out = optarg; break;
        case O_JSON: a->json = 1; break;
        case O_DB: a->db = optarg; break;
        default:
            return lm_cli_usage("load", "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    if (rc) return rc;
    if (optind >= argc)
        return lm_cli_usage("load", "which URL? lumos load http://127.0.0.1:PORT/PATH");
    if (optind + 1 < argc)
        return lm_cli_usage("load", "unexpected argument '%s'", argv[optind + 1]);
    a->url = argv[optind];
    int kinds = (a->rate > 0) + (a->trace != NULL) + (a->concurrency > 0);
    if (kinds != 1)
        return lm_cli_usage("load", "give one of --rate R --duration S, --trace FILE or "
                                    "--concurrency N");
    if (a->rate > 0 && !(a->duration_s > 0))
        return lm_cli_usage("load", "--rate needs --duration S");
    if (a->rate > 0 && a->rate * a->duration_s > 50e6)
        return lm_cli_usage("load", "--rate times --duration is over 50 million requests");
    if (a->concurrency > 0 && !a->requests && !(a->duration_s > 0))
        return lm_cli_usage("load", "--concurrency needs --requests M or --duration S");
    if (a->requests && a->concurrency == 0)
        return lm_cli_usage("load", "--requests is for a closed loop (--concurrency N)");
    if (a->trace && a->path) return lm_cli_usage("load", "--path does not go with --trace");
    if (a->trace && a->body_arg) return lm_cli_usage("load", "--body does not go with --trace");
    if (a->connections && a->concurrency)
        return lm_cli_usage("load", "--connections is for an open loop (a closed loop uses one "
                                    "per client)");
    if (a->method && (!*a->method || strpbrk(a->method, " \t\r\n")))
        return lm_cli_usage("load", "--method must be one word, not '%s'", a->method);
    if (a->path && (a->path[0] != '/' || strpbrk(a->path, " \t\r\n")))
        return lm_cli_usage("load", "--path must start with / and hold no spaces, not '%s'",
                            a->path);
    return 0;
}

/* group:NAME payloads from the data set's manifest: requests.NAME.FUNCTION. */
typedef struct {
    const char *dir;
    json_t *manifest;
} groups;

static int group_body(void *arg, const char *function, const char *group, lm_buf *body, char *err) {
    groups *g = arg;
    if (!g->manifest) g->manifest = lm_dataset_manifest(g->dir, err);
    if (!g->manifest) return LM_ERR;
    json_t *req =
        json_object_get(json_object_get(json_object_get(g->manifest, "requests"), group), function);
    if (!req)
        return lm_errf(err, "the data set in %s has no request of %s for group %s", g->dir,
                       function, group);
    char *text = json_dumps(req, JSON_COMPACT);
    if (!text) return lm_errf(err, "out of memory");
    int rc = lm_buf_append(body, text, strlen(text));
    free(text);
    return rc;
}

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static void progress(void *arg, const lm_load_stats *s) {
    (void)arg;
    uint64_t err = 0;
    for (int k = 1; k < LM_LOAD_E_COUNT; k++)
        err += s->errors[k];
    fprintf(stderr, "\rlumos load: %.1f s, %llu sent, %llu answered, %llu errors   ",
            (double)(s->end_ns - s->start_ns) / 1e9, (unsigned long long)s->sent,
            (unsigned long long)s->completed, (unsigned long long)err);
}

/* The client's times into the gateway's rows; waits up to 5 s for rows the
 * gateway has not written yet. */
static int join_db(const char *path, const lm_load_result *r, FILE *say) {
    char err[LM_ERRLEN];
    size_t n = 0;
    lm_results_client_times *t = malloc((r->nrecords ? r->nrecords : 1) * sizeof(*t));
    unsigned char *hit = malloc(r->nrecords ? r->nrecords : 1);
    if (!t || !hit) {
        free(t);
        free(hit);
        return lm_cli_fail("load: out of memory");
    }
    for (size_t i = 0; i < r->nrecords; i++) {
        const lm_load_record *q = &r->records[i];
        if (!q->request_id) continue;
        lm_results_client_times_init(&t[n]);
        t[n].id = (int64_t)q->request_id;
        t[n].intended_send_ns = (int64_t)q->intended_ns;
        if (q->send_ns) t[n].send_ns = (int64_t)q->send_ns;
        if (q->receive_ns) t[n].receive_ns = (int64_t)q->receive_ns;
        n++;
    }
    if (n == 0) {
        free(t);
        free(hit);
        return lm_cli_fail("load: --db: no answer carried X-Lumos-Request-Id: nothing to join");
    }
    lm_results *db = lm_results_open(path, NULL, err);
    if (!db) {
        free(t);
        free(hit);
        return lm_cli_fail("load: --db: %s", err);
    }
    size_t joined = 0, left = n;
    int rc = 0;
    uint64_t give_up = lm_now_ns() + 5000000000ull;
    for (;;) {
        size_t got = 0;
        if (lm_results_set_client_times(db, t, left, hit, &got, err) != LM_OK) {
            rc = lm_cli_fail("load: --db: %s", err);
            break;
        }
        joined += got;
        size_t k = 0; /* keep the unmatched ones for the next try */
        for (size_t i = 0; i < left; i++)
            if (!hit[i]) t[k++] = t[i];
        left = k;
        if (left == 0 || lm_now_ns() > give_up) break;
        struct timespec ts = {0, 200000000};
        nanosleep(&ts, NULL);
    }
    lm_results_close(db);
    free(t);
    free(hit);
    if (rc) return rc;
    fprintf(say, "lumos load: joined %zu of %zu requests into %s\n", joined, n, path);
    if (left)
        return lm_cli_fail("load: --db: %zu request ids have no row in %s after 5 s (another "
                           "server's ids, or its writer is behind)",
                           left, path);
    return 0;
}

static int write_csv(const char *path, const lm_load_result *r, const lm_load_req *reqs,
                     const char *default_path) {
    char err[LM_ERRLEN];
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) return lm_cli_fail("load: --out %s: cannot open: %s", path, strerror(errno));
    int rc = lm_load_write_csv(f, r, reqs, default_path, err);
    if (f != stdout && fclose(f) != 0) rc = LM_ERR;
    if (rc != LM_OK) return lm_cli_fail("load: --out %s: %s", path, err);
    return 0;
}

int lm_cmd_load(int argc, char **argv) {
    if (lm_cli_wants_help(argc, argv)) return fputs(help, stdout), 0;
    load_args a = {.spin_us = -1};
    int rc = parse(argc, argv, &a);
    if (rc) {
        lm_buf_free(&a.headers);
        return rc;
    }
    char err[LM_ERRLEN], text[512];
    lm_load_target target;
    if (lm_load_parse_url(a.url, &target, err) != LM_OK) {
        lm_buf_free(&a.headers);
        return lm_cli_usage("load", "%s", err);
    }
    lm_load_opts o = {.url = a.url,
                      .headers = a.headers.data,
                      .timeout_ns = (uint64_t)a.timeout_ms * 1000000u,
                      .max_connections = (unsigned)a.connections,
                      .late_ns = (uint64_t)llround(a.late_ms * 1e6),
                      /* absent: the default; 0: sleep only */
                      .spin_ns = a.spin_us < 0    ? 0
                                 : a.spin_us == 0 ? -1
                                                  : a.spin_us * 1000,
                      .duration_ns = (uint64_t)llround(a.duration_s * 1e9),
                      .stop = &stop_flag};
    if (a.db && access(a.db, F_OK) != 0) {
        lm_buf_free(&a.headers);
        return lm_cli_fail("load: --db %s: no such file (give the database of `lumos serve "
                           "--results FILE`)",
                           a.db);
    }
    lm_load_plan plan = {0};
    groups g = {.dir = a.data};
    lm_load_req one = {.method = a.method, .path = a.path}, *reqs = NULL;
    size_t n = 0;
    char *body = NULL;
    size_t body_len = 0;
    if (a.body_arg && a.body_arg[0] == '@') {
        body = lm_file_read(a.body_arg + 1, &body_len, err);
        if (!body) {
            rc = lm_cli_fail("load: --body: %s", err);
            goto out;
        }
    } else if (a.body_arg) {
        body_len = strlen(a.body_arg);
    }
    one.body = body ? body : a.body_arg;
    one.body_len = body_len;
    if (a.trace) {
        if (lm_load_trace_plan(a.trace, a.data ? group_body : NULL, &g, &plan, err) != LM_OK) {
            rc = lm_cli_fail("load: --trace %s", err);
            goto out;
        }
        for (size_t i = 0; i < plan.n; i++)
            plan.reqs[i].method = a.method;
        reqs = plan.reqs;
        n = plan.n;
        o.mode = plan.closed ? LM_LOAD_CLOSED : LM_LOAD_OPEN;
        o.concurrency = plan.concurrency;
        snprintf(text, sizeof(text), "trace %s (%s loop%s, %zu requests)", a.trace,
                 plan.closed ? "closed" : "open", plan.closed ? " of its clients" : "", n);
    } else if (a.rate > 0) {
        n = (size_t)floor(a.rate * a.duration_s);
        if (n == 0) n = 1;
        reqs = malloc(n * sizeof(*reqs));
        if (!reqs) {
            rc = lm_cli_fail("load: out of memory for %zu requests", n);
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            reqs[i] = one;
            reqs[i].offset_ns = (uint64_t)llround((double)i * 1e9 / a.rate);
        }
        o.mode = LM_LOAD_OPEN;
        /* Slack past the last send for a slow start, never a cut of the schedule. */
        o.duration_ns += 1000000000ull;
        snprintf(text, sizeof(text), "open loop at %g requests/s for %g s (%zu requests)", a.rate,
                 a.duration_s, n);
    } else {
        reqs = &one;
        n = 1;
        o.mode = LM_LOAD_CLOSED;
        o.concurrency = (unsigned)a.concurrency;
        o.requests = a.requests ? (uint64_t)a.requests : LM_LOAD_UNBOUNDED;
        if (a.requests && a.duration_s > 0)
            snprintf(text, sizeof(text), "closed loop, %lld clients, %lld requests within %g s",
                     a.concurrency, a.requests, a.duration_s);
        else if (a.requests)
            snprintf(text, sizeof(text), "closed loop, %lld clients, %lld requests", a.concurrency,
                     a.requests);
        else
            snprintf(text, sizeof(text), "closed loop, %lld clients for %g s", a.concurrency,
                     a.duration_s);
    }
    /* Room for the pool's sockets: the soft limit on open files (often
     * 1024) up to the hard one. */
    struct rlimit nofile;
    rlim_t want = (rlim_t)(o.mode == LM_LOAD_OPEN ? (o.max_connections ? o.max_connections : 1024)
                                                  : o.concurrency) +
                  64;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < want) {
        nofile.rlim_cur = want < nofile.rlim_max ? want : nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (lm_progress_enabled()) o.progress = progress;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    lm_load_result r;
    int run_rc = lm_load_run(reqs, n, &o, &r, err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (o.progress) fputs("\r\033[K", stderr);
    if (run_rc != LM_OK) {
        rc = lm_cli_fail("load: %s", err);
        lm_load_result_free(&r);
        goto out;
    }
    lm_load_info info = {.url = a.url, .mode_text = text, .opts = &o};
    if (a.json)
        lm_load_print_json(stdout, &info, &r);
    else
        lm_load_print_summary(stdout, &info, &r);
    fflush(stdout);
    if (a.out && write_csv(a.out, &r, reqs, target.path)) rc = 1;
    if (a.db && join_db(a.db, &r, a.json ? stderr : stdout)) rc = 1;
    if (!rc && r.stats.completed == 0) rc = lm_cli_fail("load: no request was answered");
    lm_load_result_free(&r);
out:
    if (reqs != &one && reqs != plan.reqs) free(reqs);
    lm_load_plan_free(&plan);
    if (g.manifest) json_decref(g.manifest);
    free(body);
    lm_buf_free(&a.headers);
    return rc;
}
