/* test_metrics.c -- the Prometheus exposition of `lumos serve`
 * (src/platform/metrics): histogram bucketing at the bounds, status entries
 * and their folding into "other", exact sample lines for known values,
 * label escaping and UTF-8 repair read back by a parser of the format, the
 * layout rules (one HELP and TYPE per family, samples contiguous, no
 * duplicate series, monotonic buckets), bad arguments, and the real
 * `promtool check metrics` on a realistic registry, on many services and on
 * random names and observations. Without promtool on PATH those checks are
 * skipped with a message (scripts/setup installs it). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "platform/metrics.h"

/* ---- helpers ------------------------------------------------------------ */

/* Renders services and g; the caller frees the result. */
static char *render(const lm_metrics_service *const *sv, int n, const lm_metrics_global *g) {
    lm_buf b = {0};
    char err[LM_ERRLEN] = "";
    assert_int_equal(lm_metrics_write(sv, n, g, &b, err), LM_OK);
    assert_string_equal(err, "");
    assert_non_null(b.data);
    assert_int_equal(strlen(b.data), b.len);
    return b.data;
}

/* True when line (without its newline) is a whole line of text. */
static int has_line(const char *text, const char *line) {
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n') return 1;
    return 0;
}

static size_t count_lines_starting(const char *text, const char *prefix) {
    size_t c = 0, n = strlen(prefix);
    for (const char *p = text; *p;) {
        if (strncmp(p, prefix, n) == 0) c++;
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
    return c;
}

/* One sample line, parsed the way the text format defines it. */
#define MAXLABELS 8
typedef struct {
    char name[256];
    int nlabels;
    char key[MAXLABELS][32];
    char val[MAXLABELS][1024]; /* unescaped */
    char value[64];
    size_t labels_len; /* bytes of the line up to and including '}' (the series) */
} sample;

/* Parses line[0..len) into s; 0, or -1 when it is not a valid sample. */
static int parse_sample(const char *line, size_t len, sample *s) {
    size_t i = 0, k;
    memset(s, 0, sizeof *s);
    for (k = 0;
         i < len && (line[i] == '_' || line[i] == ':' || (line[i] >= 'a' && line[i] <= 'z') ||
                     (line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= '0' && line[i] <= '9'));
         i++)
        if (k + 1 < sizeof s->name) s->name[k++] = line[i];
    if (k == 0) return -1;
    if (i < len && line[i] == '{') {
        i++;
        while (i < len && line[i] != '}') {
            if (s->nlabels == MAXLABELS) return -1;
            char *key = s->key[s->nlabels], *val = s->val[s->nlabels];
            for (k = 0; i < len && line[i] != '='; i++)
                if (k + 1 < sizeof s->key[0]) key[k++] = line[i];
            if (i + 1 >= len || line[i + 1] != '"') return -1;
            for (i += 2, k = 0; i < len && line[i] != '"'; i++) {
                char c = line[i];
                if (c == '\n') return -1;
                if (c == '\\') {
                    if (++i >= len) return -1;
                    c = line[i] == 'n' ? '\n' : line[i];
                    if (line[i] != 'n' && line[i] != '\\' && line[i] != '"') return -1;
                }
                if (k + 1 >= sizeof s->val[0]) return -1;
                val[k++] = c;
            }
            if (i >= len) return -1;
            i++; /* closing quote */
            s->nlabels++;
            if (i < len && line[i] == ',')
                i++;
            else if (i >= len || line[i] != '}')
                return -1;
        }
        if (i >= len) return -1;
        i++;
    }
    s->labels_len = i;
    if (i >= len || line[i] != ' ') return -1;
    i++;
    if (len - i == 0 || len - i >= sizeof s->value) return -1;
    memcpy(s->value, line + i, len - i);
    return strchr(s->value, ' ') ? -1 : 0;
}

static const char *label(const sample *s, const char *key) {
    for (int i = 0; i < s->nlabels; i++)
        if (strcmp(s->key[i], key) == 0) return s->val[i];
    return NULL;
}

/* Every family the writer can produce, in its order. */
static const char *const all_families[] = {"lumos_requests_total",
                                           "lumos_request_duration_seconds",
                                           "lumos_cold_starts_total",
                                           "lumos_cold_start_duration_seconds",
                                           "lumos_queue_wait_seconds",
                                           "lumos_instance_failures_total",
                                           "lumos_instances",
                                           "lumos_desired_instances",
                                           "lumos_autoscaler_panic",
                                           "lumos_queue_depth",
                                           "lumos_cpu_seconds_total",
                                           "lumos_memory_bytes",
                                           "lumos_http_other_requests_total",
                                           "lumos_start_time_seconds",
                                           "lumos_results_rows_written_total",
                                           "lumos_results_rows_pending",
                                           "lumos_results_rows_lost_total"};
#define NFAMILIES (int)(sizeof all_families / sizeof all_families[0])

/* A series without its le label: family, then key=value of the others. */
#define KEYLEN 8192
static void series_key(const sample *s, const char *family, char *out) {
    size_t o = (size_t)snprintf(out, KEYLEN, "%s", family);
    for (int i = 0; i < s->nlabels; i++)
        if (strcmp(s->key[i], "le") != 0)
            o += (size_t)snprintf(out + o, KEYLEN - o, "\x01%s=%s", s->key[i], s->val[i]);
}

typedef struct {
    char names[NFAMILIES + 4][64];
    int nfamilies;
    size_t nsamples;
} layout;

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks the layout rules of the format on a whole page and returns the
 * families found, in order: every line ends in '\n'; # HELP then # TYPE
 * once per family; every sample belongs to the family whose TYPE came last
 * (which makes each family's samples contiguous); no series twice;
 * histogram buckets in ascending le with non-decreasing counts, ending in
 * +Inf equal to _count. */
static layout check_layout(const char *text) {
    layout out = {.nfamilies = 0};
    char cur[64] = "", cur_type[16] = "", prev_help[64] = "";
    static char bucket_series[KEYLEN];
    bucket_series[0] = 0;
    double last_le = -1;
    unsigned long long last_count = 0;
    size_t cap = 1024, nseries = 0;
    char **series = malloc(cap * sizeof *series);
    assert_non_null(series);
    size_t len = strlen(text);
    assert_true(len == 0 || text[len - 1] == '\n');
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = (size_t)(nl - p);
        assert_true(n > 0); /* no empty lines */
        char name[64], rest[256];
        if (strncmp(p, "# HELP ", 7) == 0) {
            assert_int_equal(sscanf(p, "# HELP %63s %255[^\n]", name, rest), 2);
            for (int f = 0; f < out.nfamilies; f++)
                assert_string_not_equal(out.names[f], name); /* once */
            assert_true(out.nfamilies < NFAMILIES + 4);
            snprintf(out.names[out.nfamilies++], sizeof out.names[0], "%s", name);
            snprintf(prev_help, sizeof prev_help, "%s", name);
            cur[0] = 0;
        } else if (strncmp(p, "# TYPE ", 7) == 0) {
            char type[16];
            assert_int_equal(sscanf(p, "# TYPE %63s %15s", name, type), 2);
            assert_string_equal(name, prev_help); /* right after its HELP */
            assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                        strcmp(type, "histogram") == 0);
            if (strcmp(type, "counter") == 0)
                assert_string_equal(name + strlen(name) - 6, "_total");
            snprintf(cur, sizeof cur, "%s", name);
            snprintf(cur_type, sizeof cur_type, "%s", type);
            prev_help[0] = 0;
        } else {
            assert_true(p[0] != '#');
            sample *s = malloc(sizeof *s);
            assert_non_null(s);
            if (parse_sample(p, n, s) != 0) fail_msg("not a sample line: %.*s", (int)n, p);
            assert_true(cur[0] != 0); /* after a TYPE line */
            size_t cl = strlen(cur);
            const char *suffix = s->name + cl;
            int ok = strncmp(s->name, cur, cl) == 0 &&
                     (*suffix == 0 || (strcmp(cur_type, "histogram") == 0 &&
                                       (!strcmp(suffix, "_bucket") || !strcmp(suffix, "_sum") ||
                                        !strcmp(suffix, "_count"))));
            if (!ok) fail_msg("sample %s outside its family (current %s)", s->name, cur);
            char *end;
            strtod(s->value, &end);
            assert_true(*end == 0); /* a number, NaN or +-Inf: strtod reads them all */
            if (strcmp(suffix, "_bucket") == 0 || strcmp(suffix, "_count") == 0) {
                char *key = malloc(KEYLEN);
                assert_non_null(key);
                series_key(s, cur, key);
                const char *le = label(s, "le");
                unsigned long long c = strtoull(s->value, NULL, 10);
                if (le) {
                    double lev = strtod(le, NULL);
                    if (strcmp(key, bucket_series) == 0) {
                        assert_true(lev > last_le);
                        assert_true(c >= last_count);
                    } else {
                        assert_string_equal(le, "0.0001"); /* a new series starts low */
                        snprintf(bucket_series, KEYLEN, "%s", key);
                    }
                    last_le = lev;
                    last_count = c;
                } else { /* _count: right after its +Inf bucket, equal to it */
                    assert_string_equal(key, bucket_series);
                    assert_true(isinf(last_le));
                    assert_true(c == last_count);
                }
                free(key);
            }
            if (nseries == cap) {
                cap *= 2;
                series = realloc(series, cap * sizeof *series);
                assert_non_null(series);
            }
            series[nseries] = strndup(p, s->labels_len);
            assert_non_null(series[nseries]);
            nseries++;
            free(s);
        }
        p = nl + 1;
    }
    qsort(series, nseries, sizeof *series, cmp_str);
    for (size_t i = 1; i < nseries; i++)
        if (strcmp(series[i - 1], series[i]) == 0) fail_msg("series twice: %s", series[i]);
    for (size_t i = 0; i < nseries; i++)
        free(series[i]);
    free(series);
    assert_true(prev_help[0] == 0); /* the last HELP had its TYPE */
    out.nsamples = nseries;
    return out;
}

/* Runs `promtool check metrics` on text. Returns 0 when it passed, 1 when
 * promtool is not installed (after saying so once); fails the test with
 * promtool's words otherwise. */
static int promtool_check(const char *text) {
    static int warned;
    char tool[512], path[] = "/tmp/lumos-test-metrics-XXXXXX";
    if (lm_which("promtool", tool, sizeof tool) != LM_OK) {
        if (!warned++)
            print_message("promtool not found on PATH: skipping the promtool checks "
                          "(scripts/setup installs the prometheus package)\n");
        return 1;
    }
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' check metrics < '%s' 2>&1", tool, path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char said[4096];
    size_t n = fread(said, 1, sizeof said - 1, f);
    said[n] = 0;
    while (fgetc(f) != EOF) {
    }
    int st = pclose(f);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0 && n == 0)) {
        print_message("promtool rejected %s (kept for a look):\n%s\n", path, said);
        fail_msg("promtool check metrics: status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    unlink(path);
    return 0;
}

static lm_metrics_service *new_service(const char *name, const char *function,
                                       const char *runtime) {
    lm_metrics_service *s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(lm_metrics_service_init(s, name, function, runtime, NULL), LM_OK);
    return s;
}

/* ---- histograms and status entries -------------------------------------- */

static void test_observe_bounds(void **state) {
    lm_histogram h = {0};
    /* le is inclusive: a value on a bound belongs to that bound's bucket. */
    for (int i = 0; i < LM_METRICS_NBUCKETS; i++)
        lm_histogram_observe(&h, lm_metrics_bucket_le[i]);
    for (int i = 0; i < LM_METRICS_NBUCKETS; i++)
        assert_int_equal(h.buckets[i], 1);
    lm_histogram_observe(&h, 60.000001); /* only in +Inf */
    lm_histogram_observe(&h, 0.000100001);
    assert_int_equal(h.buckets[1], 2);
    lm_histogram_observe(&h, -3); /* a clock step counts as 0 */
    assert_int_equal(h.buckets[0], 2);
    lm_histogram_observe(&h, NAN);
    lm_histogram_observe(&h, INFINITY);
    lm_histogram_observe(&h, -INFINITY);
    assert_int_equal(h.count, LM_METRICS_NBUCKETS + 3);
    uint64_t in_buckets = 0;
    for (int i = 0; i < LM_METRICS_NBUCKETS; i++)
        in_buckets += h.buckets[i];
    assert_int_equal(h.count - in_buckets, 1);
    assert_false(isnan(h.sum_s));

    lm_histogram a = {0}, b = {0};
    lm_histogram_observe(&a, 0.003);
    lm_histogram_observe(&b, 0.003);
    lm_histogram_observe(&b, 100);
    lm_histogram_merge(&a, &b);
    assert_int_equal(a.count, 3);
    assert_int_equal(a.buckets[5], 2);
    assert_true(a.sum_s == 0.003 + (0.003 + 100.0));
}

static void test_status_entries(void **state) {
    lm_metrics_service *s = new_service("svc", "f", "r");
    int order[] = {503, 200, 404, 200, 99, 1000, -1, 500, 200};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        lm_metrics_service_request(s, order[i], 0.001);
    /* Sorted by code, other (out-of-range codes) last. */
    int want[] = {200, 404, 500, 503, LM_METRICS_STATUS_OTHER};
    int want_count[] = {3, 1, 1, 1, 3};
    assert_int_equal(s->nstatus, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s->by_status[i].status, want[i]);
        assert_int_equal(s->by_status[i].latency.count, want_count[i]);
    }
    free(s);

    /* 30 distinct codes: 23 get their own entries, the rest fold into other. */
    s = new_service("svc", "f", "r");
    for (int round = 0; round < 2; round++)
        for (int code = 100; code < 130; code++)
            lm_metrics_service_request(s, code, 0.01);
    assert_int_equal(s->nstatus, LM_METRICS_NSTATUS);
    uint64_t total = 0;
    for (int i = 0; i < s->nstatus; i++) {
        total += s->by_status[i].latency.count;
        if (i < LM_METRICS_NSTATUS - 1) {
            assert_int_equal(s->by_status[i].status, 100 + i);
            assert_int_equal(s->by_status[i].latency.count, 2);
        }
    }
    assert_int_equal(s->by_status[LM_METRICS_NSTATUS - 1].status, LM_METRICS_STATUS_OTHER);
    assert_int_equal(s->by_status[LM_METRICS_NSTATUS - 1].latency.count, 2 * (30 - 23));
    assert_int_equal(total, 60);
    /* A code seen before the table filled keeps its own entry. */
    lm_metrics_service_request(s, 105, 0.01);
    assert_int_equal(s->by_status[5].latency.count, 3);
    free(s);
}

static void test_init(void **state) {
    lm_metrics_service s;
    char err[LM_ERRLEN] = "";
    assert_int_equal(lm_metrics_service_init(&s, NULL, NULL, NULL, err), LM_OK);
    assert_string_equal(s.name, "");
    assert_int_equal(s.nstatus, 0);
    /* Too long, with a 3-byte character across the cut: cut before it. */
    char longname[260];
    memset(longname, 'a', sizeof longname);
    memcpy(longname + 198, "\xE2\x82\xAC", 3); /* the euro sign at bytes 198..200 */
    longname[sizeof longname - 1] = 0;
    assert_int_equal(lm_metrics_service_init(&s, longname, "f", "r", err), LM_ERR);
    assert_non_null(strstr(err, "service name is too long"));
    assert_int_equal(strlen(s.name), 198);
    assert_string_equal(s.function, "f");
    char longrt[100];
    memset(longrt, 'r', sizeof longrt);
    longrt[99] = 0;
    assert_int_equal(lm_metrics_service_init(&s, "n", "f", longrt, err), LM_ERR);
    assert_non_null(strstr(err, "runtime name is too long"));
    assert_int_equal(strlen(s.runtime), sizeof s.runtime - 1);
}

/* ---- the exposition ----------------------------------------------------- */

#define FIB "{service=\"fibonacci@wasm-aot\",function=\"fibonacci\",runtime=\"wasm-aot\""

static void test_known_answers(void **state) {
    lm_metrics_service *s = new_service("fibonacci@wasm-aot", "fibonacci", "wasm-aot");
    lm_metrics_service_request(s, 200, 0.0003);
    lm_metrics_service_request(s, 200, 0.002);
    lm_metrics_service_request(s, 200, 7);
    lm_metrics_service_request(s, 503, 0.0001);
    s->cold_starts = 2;
    lm_histogram_observe(&s->cold_start, 0.5);
    lm_histogram_observe(&s->cold_start, 45);
    lm_histogram_observe(&s->cold_start, 100);
    s->instance_failures[LM_METRICS_FAIL_CRASH] = 1;
    s->instance_failures[LM_METRICS_FAIL_TIMEOUT] = 2;
    s->instance_failures[LM_METRICS_FAIL_OOM] = 3;
    s->instance_failures[LM_METRICS_FAIL_START] = 4;
    s->instances_idle = 1;
    s->instances_busy = 2;
    s->instances_starting = 3;
    s->queue_depth = 4;
    s->desired_instances = 5;
    s->panic = 1;
    s->cpu_seconds_total = 1.0 / 3;
    s->memory_bytes = UINT64_MAX;
    lm_metrics_global g = {.start_time_seconds = 1700000000.25,
                           .http_requests_other = 7,
                           .results_rows_written = 100,
                           .results_rows_pending = 3,
                           .results_rows_lost = 1,
                           .has_results = 1};
    const lm_metrics_service *sv[] = {s};
    char *text = render(sv, 1, &g);

    const char *hist = "# HELP lumos_request_duration_seconds Gateway latency from ingress to "
                       "response, by HTTP status.\n"
                       "# TYPE lumos_request_duration_seconds histogram\n"
#define B(le, v)                                                                                   \
    "lumos_request_duration_seconds_bucket" FIB ",status=\"200\",le=\"" le "\"} " v "\n"
        B("0.0001", "0") B("0.00025", "0") B("0.0005", "1") B("0.001", "1") B("0.0025", "2")
            B("0.005", "2") B("0.01", "2") B("0.025", "2") B("0.05", "2") B("0.1", "2")
                B("0.25", "2") B("0.5", "2") B("1", "2") B("2.5", "2") B("5", "2") B("10", "3")
                    B("30", "3") B("60", "3") B("+Inf", "3")
#undef B
                        "lumos_request_duration_seconds_sum" FIB ",status=\"200\"} 7.0023\n"
                        "lumos_request_duration_seconds_count" FIB ",status=\"200\"} 3\n"
                        "lumos_request_duration_seconds_bucket" FIB
                        ",status=\"503\",le=\"0.0001\"} 1\n";
    assert_non_null(strstr(text, hist));
    assert_true(has_line(text, "lumos_requests_total" FIB ",status=\"200\"} 3"));
    assert_true(has_line(text, "lumos_requests_total" FIB ",status=\"503\"} 1"));
    assert_true(has_line(text, "lumos_request_duration_seconds_sum" FIB ",status=\"503\"} 0.0001"));

    assert_true(has_line(text, "lumos_cold_starts_total" FIB "} 2"));
    assert_true(has_line(text, "lumos_cold_start_duration_seconds_bucket" FIB ",le=\"0.25\"} 0"));
    assert_true(has_line(text, "lumos_cold_start_duration_seconds_bucket" FIB ",le=\"0.5\"} 1"));
    assert_true(has_line(text, "lumos_cold_start_duration_seconds_bucket" FIB ",le=\"30\"} 1"));
    assert_true(has_line(text, "lumos_cold_start_duration_seconds_bucket" FIB ",le=\"60\"} 2"));
    assert_true(has_line(text, "lumos_cold_start_duration_seconds_bucket" FIB ",le=\"+Inf\"} 3"));
    assert_true(has_line(text, "lumos_cold_start_duration_seconds_sum" FIB "} 145.5"));
    assert_true(has_line(text, "lumos_cold_start_duration_seconds_count" FIB "} 3"));
    assert_true(has_line(text, "lumos_queue_wait_seconds_bucket" FIB ",le=\"+Inf\"} 0"));
    assert_true(has_line(text, "lumos_queue_wait_seconds_sum" FIB "} 0"));
    assert_true(has_line(text, "lumos_queue_wait_seconds_count" FIB "} 0"));

    assert_true(has_line(text, "lumos_instance_failures_total" FIB ",reason=\"crash\"} 1"));
    assert_true(has_line(text, "lumos_instance_failures_total" FIB ",reason=\"timeout\"} 2"));
    assert_true(has_line(text, "lumos_instance_failures_total" FIB ",reason=\"oom\"} 3"));
    assert_true(has_line(text, "lumos_instance_failures_total" FIB ",reason=\"start\"} 4"));
    assert_true(has_line(text, "lumos_instances" FIB ",state=\"idle\"} 1"));
    assert_true(has_line(text, "lumos_instances" FIB ",state=\"busy\"} 2"));
    assert_true(has_line(text, "lumos_instances" FIB ",state=\"starting\"} 3"));
    assert_true(has_line(text, "lumos_queue_depth" FIB "} 4"));
    assert_true(has_line(text, "lumos_desired_instances" FIB "} 5"));
    assert_true(has_line(text, "lumos_autoscaler_panic" FIB "} 1"));
    assert_true(has_line(text, "lumos_cpu_seconds_total" FIB "} 0.3333333333333333"));
    assert_true(has_line(text, "lumos_memory_bytes" FIB "} 18446744073709551615"));
    assert_true(has_line(text, "# TYPE lumos_memory_bytes gauge"));
    assert_true(has_line(text, "# TYPE lumos_requests_total counter"));

    assert_true(has_line(text, "lumos_http_other_requests_total 7"));
    assert_true(has_line(text, "lumos_start_time_seconds 1700000000.25"));
    assert_true(has_line(text, "lumos_results_rows_written_total 100"));
    assert_true(has_line(text, "lumos_results_rows_pending 3"));
    assert_true(has_line(text, "lumos_results_rows_lost_total 1"));

    /* Every family once, in order, and 2 statuses x 21 + 3 x 21 + the rest. */
    layout l = check_layout(text);
    assert_int_equal(l.nfamilies, NFAMILIES);
    for (int f = 0; f < NFAMILIES; f++)
        assert_string_equal(l.names[f], all_families[f]);
    assert_int_equal(l.nsamples, 2 + 2 * 21 + 1 + 21 + 21 + 4 + 3 + 5 + 5);
    promtool_check(text);
    free(text);

    /* Without results: those three families are gone; the rest stays. */
    g.has_results = 0;
    text = render(sv, 1, &g);
    assert_null(strstr(text, "lumos_results_"));
    assert_int_equal(check_layout(text).nfamilies, NFAMILIES - 3);
    free(text);
    free(s);
}

static void test_special_values(void **state) {
    lm_metrics_service *s = new_service("x", "", "");
    const lm_metrics_service *sv[] = {s};
    /* Counts that disagree (a hand-filled struct): +Inf and _count follow
     * the buckets, so the histogram stays monotonic. */
    s->queue_wait.buckets[0] = 5;
    s->queue_wait.count = 2;
    s->queue_wait.sum_s = 0.1;
    s->cpu_seconds_total = NAN;
    s->desired_instances = -2;
    s->nstatus = 99; /* out of range: clamped to the array */
    for (int i = 0; i < LM_METRICS_NSTATUS; i++)
        s->by_status[i].status = 200 + i;
    lm_metrics_global g = {.start_time_seconds = INFINITY};
    char *text = render(sv, 1, &g);
#define X "{service=\"x\",function=\"\",runtime=\"\""
    assert_true(has_line(text, "lumos_queue_wait_seconds_bucket" X ",le=\"+Inf\"} 5"));
    assert_true(has_line(text, "lumos_queue_wait_seconds_count" X "} 5"));
    assert_true(has_line(text, "lumos_queue_wait_seconds_sum" X "} 0.1"));
    assert_true(has_line(text, "lumos_cpu_seconds_total" X "} NaN"));
    assert_true(has_line(text, "lumos_desired_instances" X "} -2"));
    assert_true(has_line(text, "lumos_start_time_seconds +Inf"));
#undef X
    assert_int_equal(count_lines_starting(text, "lumos_requests_total{"), LM_METRICS_NSTATUS);
    check_layout(text);
    promtool_check(text);
    free(text);
    /* A full hand-filled table takes a new code without growing. */
    s->nstatus = LM_METRICS_NSTATUS;
    lm_metrics_service_request(s, 999, 0.5);
    lm_metrics_service_request(s, LM_METRICS_STATUS_OTHER, 0.5);
    assert_int_equal(s->nstatus, LM_METRICS_NSTATUS);
    assert_int_equal(s->by_status[LM_METRICS_NSTATUS - 1].latency.count, 2);
    free(s);
}

/* Parses every sample of text and checks that each service label is one
 * of want[0..n) (exactly, after unescaping). Returns the samples seen. */
static size_t check_service_labels(const char *text, const char *const *want, int n) {
    size_t seen = 0;
    sample *s = malloc(sizeof *s);
    assert_non_null(s);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        if (p[0] != '#') {
            assert_int_equal(parse_sample(p, (size_t)(nl - p), s), 0);
            const char *v = label(s, "service");
            if (v) {
                int found = 0;
                for (int i = 0; i < n && !found; i++)
                    found = strcmp(v, want[i]) == 0;
                if (!found) fail_msg("service label %s is none of the services", v);
                seen++;
            }
        }
        p = nl + 1;
    }
    free(s);
    return seen;
}

static void test_escaping(void **state) {
    const char *name = "we\"ird\\na\nme\\\"";
    lm_metrics_service *s = new_service(name, "f\"n", "r\\t");
    lm_metrics_service_request(s, 200, 0.01);
    const lm_metrics_service *sv[] = {s};
    char *text = render(sv, 1, NULL);
    /* The escaped form, byte for byte. */
    assert_true(has_line(text, "lumos_requests_total{service=\"we\\\"ird\\\\na\\nme\\\\\\\"\","
                               "function=\"f\\\"n\",runtime=\"r\\\\t\",status=\"200\"} 1"));
    /* And read back. */
    assert_true(check_service_labels(text, &name, 1) > 0);
    sample *p = malloc(sizeof *p);
    assert_non_null(p);
    const char *line = strstr(text, "\nlumos_memory_bytes{") + 1;
    assert_int_equal(parse_sample(line, (size_t)(strchr(line, '\n') - line), p), 0);
    assert_string_equal(label(p, "service"), name);
    assert_string_equal(label(p, "function"), "f\"n");
    assert_string_equal(label(p, "runtime"), "r\\t");
    free(p);
    /* No family lost its layout to the odd name. */
    assert_int_equal(check_layout(text).nfamilies, NFAMILIES - 5);
    promtool_check(text);
    free(text);
    free(s);
}

/* Invalid UTF-8 comes out as U+FFFD, one per byte that starts no valid
 * sequence; valid multi-byte characters pass untouched. */
static void test_utf8_repair(void **state) {
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"caf\xC3\xA9", "caf\xC3\xA9"},
        {"\xF0\x9F\x98\x80 ok", "\xF0\x9F\x98\x80 ok"},
        {"a\xFF"
         "b",
         "a\xEF\xBF\xBD"
         "b"},
        {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},                 /* overlong '/' */
        {"\xE0\x80\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* overlong, 3 bytes */
        {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* surrogate D800 */
        {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* > 10FFFF */
        {"x\xE2\x82", "x\xEF\xBF\xBD\xEF\xBF\xBD"}, /* cut at the end */
        {"\xE2\x82"
         "A",
         "\xEF\xBF\xBD\xEF\xBF\xBD"
         "A"},
        {"\x80\"", "\xEF\xBF\xBD\""}, /* stray continuation, then a quote */
        {"\xEF\xBF\xBF\xF4\x8F\xBF\xBF", "\xEF\xBF\xBF\xF4\x8F\xBF\xBF"}, /* U+FFFF, U+10FFFF */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lm_metrics_service *s = new_service(cases[i].in, "f", "r");
        const lm_metrics_service *sv[] = {s};
        char *text = render(sv, 1, NULL);
        assert_int_equal(check_service_labels(text, &cases[i].out, 1), 1 + 2 * 21 + 4 + 3 + 5);
        promtool_check(text);
        free(text);
        free(s);
    }
}

static void test_zero_services(void **state) {
    lm_metrics_global g = {.start_time_seconds = 1.5e9, .has_results = 1};
    char *text = render(NULL, 0, &g);
    layout l = check_layout(text);
    assert_int_equal(l.nfamilies, NFAMILIES);
    for (int f = 0; f < NFAMILIES; f++)
        assert_string_equal(l.names[f], all_families[f]);
    assert_int_equal(l.nsamples, 5);
    assert_true(has_line(text, "lumos_start_time_seconds 1500000000"));
    assert_true(has_line(text, "lumos_http_other_requests_total 0"));
    promtool_check(text);
    free(text);

    /* Nothing at all: headers only, still a valid page. */
    text = render(NULL, 0, NULL);
    l = check_layout(text);
    assert_int_equal(l.nfamilies, NFAMILIES - 5);
    assert_int_equal(l.nsamples, 0);
    promtool_check(text);
    free(text);
}

static void test_bad_args(void **state) {
    char err[LM_ERRLEN];
    lm_buf b = {0};
    assert_int_equal(lm_buf_printf(&b, "before\n"), LM_OK);
    lm_metrics_service *s = new_service("a", "b", "c");
    const lm_metrics_service *sv[] = {s, NULL};
    assert_int_equal(lm_metrics_write(sv, 2, NULL, &b, err), LM_ERR);
    assert_non_null(strstr(err, "service 1 of 2 is NULL"));
    assert_int_equal(lm_metrics_write(sv, -1, NULL, &b, err), LM_ERR);
    assert_non_null(strstr(err, "negative"));
    assert_int_equal(lm_metrics_write(NULL, 3, NULL, &b, err), LM_ERR);
    assert_int_equal(lm_metrics_write(sv, 1, NULL, NULL, err), LM_ERR);
    assert_string_equal(b.data, "before\n");
    /* Appends after what the buffer holds. */
    assert_int_equal(lm_metrics_write(sv, 1, NULL, &b, err), LM_OK);
    assert_int_equal(strncmp(b.data, "before\n# HELP lumos_requests_total ", 35), 0);
    lm_buf_free(&b);
    free(s);
}

/* A registry like a run of `lumos serve` would have. */
static void test_promtool_realistic(void **state) {
    static const char *const fn[] = {"fibonacci", "image-resize", "json-parse", "aes-gcm"};
    static const char *const rt[] = {"native", "wasm-aot", "wasm-interp", "node"};
    lm_metrics_service *s[16];
    const lm_metrics_service *sv[16];
    char namebuf[16][64];
    const char *names[16];
    for (int i = 0; i < 16; i++) {
        snprintf(namebuf[i], sizeof namebuf[i], "%s@%s", fn[i / 4], rt[i % 4]);
        names[i] = namebuf[i];
        s[i] = new_service(names[i], fn[i / 4], rt[i % 4]);
        for (int r = 0; r < 200; r++) {
            int status = r % 50 == 0 ? 503 : r % 97 == 0 ? 500 : r % 31 == 0 ? 404 : 200;
            lm_metrics_service_request(s[i], status, 0.0002 * (r + 1) * (i + 1));
            lm_histogram_observe(&s[i]->queue_wait, r % 3 ? 0 : 0.001 * r);
        }
        s[i]->cold_starts = (uint64_t)i + 1;
        for (int c = 0; c <= i; c++)
            lm_histogram_observe(&s[i]->cold_start, 0.05 * (c + 1));
        s[i]->instance_failures[i % 4] = (uint64_t)i;
        s[i]->instances_idle = i % 3;
        s[i]->instances_busy = i % 5;
        s[i]->desired_instances = i % 7;
        s[i]->panic = i == 3;
        s[i]->queue_depth = i * 2;
        s[i]->cpu_seconds_total = 0.125 * i;
        s[i]->memory_bytes = (uint64_t)i << 24;
        sv[i] = s[i];
    }
    lm_metrics_global g = {.start_time_seconds = 1718000000.123456,
                           .http_requests_other = 42,
                           .results_rows_written = 3200,
                           .results_rows_pending = 12,
                           .has_results = 1};
    char *text = render(sv, 16, &g);
    layout l = check_layout(text);
    assert_int_equal(l.nfamilies, NFAMILIES);
    assert_true(check_service_labels(text, names, 16) > 16 * 40);
    if (promtool_check(text) == 0) print_message("promtool passed %zu samples\n", l.nsamples);
    free(text);
    for (int i = 0; i < 16; i++)
        free(s[i]);
}

static void test_many(void **state) {
    enum { N = 40 };
    lm_metrics_service *s[N];
    const lm_metrics_service *sv[N];
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "svc-%02d@native", i);
        s[i] = new_service(name, "f", "native");
        for (int code = 100; code < 100 + i; code++)
            lm_metrics_service_request(s[i], code, 0.001 * code);
        sv[i] = s[i];
    }
    char *text = render(sv, N, NULL);
    size_t statuses = 0;
    for (int i = 0; i < N; i++)
        statuses += (size_t)(i < LM_METRICS_NSTATUS ? i : LM_METRICS_NSTATUS);
    assert_int_equal(count_lines_starting(text, "lumos_requests_total{"), statuses);
    assert_int_equal(count_lines_starting(text, "lumos_request_duration_seconds_bucket{"),
                     statuses * (LM_METRICS_NBUCKETS + 1));
    assert_int_equal(count_lines_starting(text, "lumos_instances{"), 3 * N);
    assert_int_equal(count_lines_starting(text, "# HELP "), NFAMILIES - 5);
    assert_int_equal(count_lines_starting(text, "# TYPE "), NFAMILIES - 5);
    assert_true(has_line(text, "lumos_requests_total{service=\"svc-39@native\",function=\"f\","
                               "runtime=\"native\",status=\"other\"} 16"));
    check_layout(text);
    promtool_check(text);
    free(text);
    for (int i = 0; i < N; i++)
        free(s[i]);
}

/* ---- random names and observations -------------------------------------- */

static uint64_t rng;
static uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint32_t rnd_below(uint32_t n) { return (uint32_t)(rnd() % n); }

/* Writes code point c as UTF-8 into o; returns its length. */
static size_t put_utf8(char *o, uint32_t c) {
    unsigned char *u = (unsigned char *)o;
    if (c < 0x80) {
        u[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        u[0] = (unsigned char)(0xC0 | c >> 6);
        u[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        u[0] = (unsigned char)(0xE0 | c >> 12);
        u[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
        u[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    }
    u[0] = (unsigned char)(0xF0 | c >> 18);
    u[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
    u[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
    u[3] = (unsigned char)(0x80 | (c & 0x3F));
    return 4;
}

/* A random string of up to max-1 bytes: valid UTF-8 from every plane with
 * the format's special characters often, or (utf8 == 0) any bytes but NUL. */
static void random_name(char *o, size_t max, int utf8) {
    size_t n = 0, want = rnd_below((uint32_t)max);
    while (n + 4 < max && n < want) {
        if (!utf8) {
            o[n++] = (char)(1 + rnd_below(255));
            continue;
        }
        uint32_t c;
        switch (rnd_below(6)) {
        case 0: c = "\"\\\n{}=, \t\r#"[rnd_below(11)]; break;
        case 1: c = 1 + rnd_below(0x7F); break;
        case 2: c = 0x80 + rnd_below(0x800 - 0x80); break;
        case 3:
            c = 0x800 + rnd_below(0x10000 - 0x800);
            if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;
            break;
        case 4: c = 0x10000 + rnd_below(0x110000 - 0x10000); break;
        default: c = 'a' + rnd_below(26); break;
        }
        n += put_utf8(o + n, c);
    }
    o[n] = 0;
}

/* The repair the writer must do, decoded by code point value rather than
 * by the writer's byte-range table. */
static void ref_repair(const char *in, char *out) {
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;
    while (*p) {
        int len = *p < 0x80             ? 1
                  : (*p & 0xE0) == 0xC0 ? 2
                  : (*p & 0xF0) == 0xE0 ? 3
                  : (*p & 0xF8) == 0xF0 ? 4
                                        : 0;
        uint32_t c = len == 1 ? *p : len == 2 ? *p & 0x1Fu : len == 3 ? *p & 0x0Fu : *p & 0x07u;
        int ok = len > 0;
        for (int i = 1; ok && i < len; i++) {
            ok = (p[i] & 0xC0) == 0x80;
            c = c << 6 | (p[i] & 0x3Fu);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (ok && (c < min[len] || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)) ok = 0;
        if (ok) {
            memcpy(out + o, p, (size_t)len);
            o += (size_t)len;
            p += len;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        }
    }
    out[o] = 0;
}

static double random_seconds(void) {
    switch (rnd_below(8)) {
    case 0: return lm_metrics_bucket_le[rnd_below(LM_METRICS_NBUCKETS)];
    case 1: return -(double)rnd_below(1000) / 7;
    case 2: return NAN;
    case 3: return rnd_below(2) ? INFINITY : 1e300;
    case 4: return 1e-300 * rnd_below(10);
    default: return ldexp((double)(rnd() >> 11), -53) * pow(10, (int)rnd_below(8) - 5);
    }
}

static void test_fuzz_promtool(void **state) {
    const char *env = getenv("LUMOS_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5EEDull;
    print_message("metrics fuzz seed %llu (set LUMOS_TEST_SEED to repeat another)\n",
                  (unsigned long long)seed);
    rng = seed;
    for (int run = 0; run < 20; run++) {
        int n = (int)rnd_below(7), utf8 = run % 2 == 0;
        lm_metrics_service *s = calloc((size_t)n + 1, sizeof *s);
        const lm_metrics_service **sv = calloc((size_t)n + 1, sizeof *sv);
        char(*want)[700] = calloc((size_t)n + 1, sizeof *want);
        const char **wantp = calloc((size_t)n + 1, sizeof *wantp);
        assert_true(s && sv && want && wantp);
        for (int i = 0; i < n; i++) {
            char raw[190], name[256], fn[128], rt[64];
            random_name(raw, sizeof raw, utf8);
            /* A distinct prefix keeps names unique even after repair. */
            snprintf(name, sizeof name, "%d:%s", i, raw);
            random_name(fn, sizeof fn, utf8);
            random_name(rt, sizeof rt, utf8);
            assert_int_equal(lm_metrics_service_init(&s[i], name, fn, rt, NULL), LM_OK);
            ref_repair(name, want[i]);
            if (utf8) assert_string_equal(want[i], name);
            wantp[i] = want[i];
            int nreq = (int)rnd_below(60);
            for (int r = 0; r < nreq; r++) {
                int status =
                    rnd_below(4) ? 100 + (int)rnd_below(40) * 10 : (int)rnd_below(1200) - 10;
                lm_metrics_service_request(&s[i], status, random_seconds());
            }
            for (int r = (int)rnd_below(10); r > 0; r--) {
                lm_histogram_observe(&s[i].cold_start, random_seconds());
                lm_histogram_observe(&s[i].queue_wait, random_seconds());
            }
            s[i].cold_starts = rnd();
            for (int f = 0; f < LM_METRICS_NFAIL; f++)
                s[i].instance_failures[f] = rnd() >> rnd_below(64);
            s[i].instances_idle = (int)rnd();
            s[i].instances_busy = (int)rnd_below(100);
            s[i].instances_starting = (int)rnd_below(3);
            s[i].queue_depth = (int)rnd();
            s[i].desired_instances = (int)rnd_below(50);
            s[i].panic = (int)rnd_below(2);
            s[i].cpu_seconds_total = random_seconds();
            s[i].memory_bytes = rnd();
            sv[i] = &s[i];
        }
        lm_metrics_global g = {.start_time_seconds = random_seconds(),
                               .http_requests_other = rnd(),
                               .results_rows_written = rnd(),
                               .results_rows_pending = rnd_below(100),
                               .results_rows_lost = rnd_below(3),
                               .has_results = (int)rnd_below(2)};
        char *text = render(sv, n, rnd_below(5) ? &g : NULL);
        promtool_check(text);
        check_layout(text);
        check_service_labels(text, wantp, n);
        free(text);
        free(wantp);
        free(want);
        free(sv);
        free(s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_observe_bounds), cmocka_unit_test(test_status_entries),
        cmocka_unit_test(test_init),           cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_special_values), cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_utf8_repair),    cmocka_unit_test(test_zero_services),
        cmocka_unit_test(test_bad_args),       cmocka_unit_test(test_promtool_realistic),
        cmocka_unit_test(test_many),           cmocka_unit_test(test_fuzz_promtool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
