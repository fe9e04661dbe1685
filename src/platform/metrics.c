/* metrics.c -- the Prometheus text exposition of `lumos serve` (contract in
 * metrics.h). Rendering is one pass per family over the services, so each
 * family's samples come out together right after its HELP and TYPE lines. */
#include "platform/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double lm_metrics_bucket_le[LM_METRICS_NBUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};

/* The same bounds as written in le labels (exactly as declared, rather than
 * through the float printer, so dashboards can match them literally). */
static const char *const bucket_le_text[LM_METRICS_NBUCKETS] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",    "0.5",    "1",     "2.5",    "5",     "10",   "30",    "60"};

/* ---- histograms and per-service recording ------------------------------- */

void lm_histogram_observe(lm_histogram *h, double seconds) {
    if (isnan(seconds) || isinf(seconds)) return;
    if (seconds < 0) seconds = 0;
    h->count++;
    h->sum_s += seconds;
    for (int i = 0; i < LM_METRICS_NBUCKETS; i++) {
        if (seconds <= lm_metrics_bucket_le[i]) {
            h->buckets[i]++;
            return;
        }
    }
    /* Above the last bound: only in count (the +Inf bucket). */
}

void lm_histogram_merge(lm_histogram *dst, const lm_histogram *src) {
    dst->count += src->count;
    dst->sum_s += src->sum_s;
    for (int i = 0; i < LM_METRICS_NBUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
}

/* Copies src into dst[cap], cutting at a character boundary (never inside
 * a UTF-8 sequence). Returns 1 when it had to cut. */
static int copy_cut(char *dst, size_t cap, const char *src) {
    if (!src) src = "";
    size_t len = strlen(src);
    int cut = len >= cap;
    if (cut) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, src, len);
    dst[len] = 0;
    return cut;
}

int lm_metrics_service_init(lm_metrics_service *s, const char *name, const char *function,
                            const char *runtime, char *err) {
    memset(s, 0, sizeof *s);
    int bad = 0;
    if (copy_cut(s->name, sizeof s->name, name))
        bad = lm_errf(err, "service name is too long (at most %zu bytes)", sizeof s->name - 1);
    if (copy_cut(s->function, sizeof s->function, function))
        bad = lm_errf(err, "function name is too long (at most %zu bytes)", sizeof s->function - 1);
    if (copy_cut(s->runtime, sizeof s->runtime, runtime))
        bad = lm_errf(err, "runtime name is too long (at most %zu bytes)", sizeof s->runtime - 1);
    return bad ? LM_ERR : LM_OK;
}

static int clamp_nstatus(int n) {
    return n < 0 ? 0 : n > LM_METRICS_NSTATUS ? LM_METRICS_NSTATUS : n;
}

/* The entry for status, added in sorted place (codes ascending, other
 * last) when new; when the codes' room is used up, the other entry. */
static lm_metrics_status *status_entry(lm_metrics_service *s, int status) {
    int n = clamp_nstatus(s->nstatus);
    for (int i = 0; i < n; i++)
        if (s->by_status[i].status == status) return &s->by_status[i];
    int has_other = n > 0 && s->by_status[n - 1].status == LM_METRICS_STATUS_OTHER;
    if (status != LM_METRICS_STATUS_OTHER && n - has_other >= LM_METRICS_NSTATUS - 1) {
        if (has_other) return &s->by_status[n - 1];
        status = LM_METRICS_STATUS_OTHER;
    }
    /* Full without an other entry: only a hand-filled table gets here. */
    if (n == LM_METRICS_NSTATUS) return &s->by_status[n - 1];
    int at = n;
    if (status != LM_METRICS_STATUS_OTHER) {
        at = 0;
        while (at < n && s->by_status[at].status != LM_METRICS_STATUS_OTHER &&
               s->by_status[at].status < status)
            at++;
    }
    memmove(&s->by_status[at + 1], &s->by_status[at], (size_t)(n - at) * sizeof s->by_status[0]);
    memset(&s->by_status[at], 0, sizeof s->by_status[at]);
    s->by_status[at].status = status;
    s->nstatus = n + 1;
    return &s->by_status[at];
}

void lm_metrics_service_request(lm_metrics_service *s, int status, double seconds) {
    if (status < 100 || status > 999) status = LM_METRICS_STATUS_OTHER;
    lm_histogram_observe(&status_entry(s, status)->latency, seconds);
}

/* ---- the writer --------------------------------------------------------- */

/* Appends to out; after the first failure every call does nothing, and the
 * caller checks ok once at the end. Each service's label set
 * {service="..",function="..",runtime=".." is escaped once per write into
 * labels (service k at labels.data + at[k], up to at[k + 1]), since every
 * sample line repeats it. */
typedef struct {
    lm_buf *out;
    int ok;
    lm_buf labels;
    size_t *at;
} writer;

static void put(writer *w, const char *p, size_t n) {
    if (w->ok && lm_buf_append(w->out, p, n) != LM_OK) w->ok = 0;
}

static void puts_(writer *w, const char *s) { put(w, s, strlen(s)); }

static void putf(writer *w, const char *fmt, ...) LM_PRINTF(2, 3);
static void putf(writer *w, const char *fmt, ...) {
    if (!w->ok) return;
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    /* Every format here is a number or a short constant. */
    if (n < 0 || (size_t)n >= sizeof tmp) {
        w->ok = 0;
        return;
    }
    put(w, tmp, (size_t)n);
}

/* A label value, quoted: \ " and newline escaped as the format requires,
 * invalid UTF-8 bytes replaced by U+FFFD. s holds at most max bytes (the
 * fixed arrays of lm_metrics_service need not be terminated). */
static void put_label_value(writer *w, const char *s, size_t max) {
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strnlen(s, max), run = 0; /* run: bytes from p[i-run] copied as they are */
    put(w, "\"", 1);
    for (size_t i = 0; i < n;) {
        const char *esc = NULL;
        size_t len = lm_utf8_len(p + i, n - i);
        if (len == 0)
            esc = "\xEF\xBF\xBD";
        else if (p[i] == '\\')
            esc = "\\\\";
        else if (p[i] == '"')
            esc = "\\\"";
        else if (p[i] == '\n')
            esc = "\\n";
        if (!esc) {
            run += len;
            i += len;
            continue;
        }
        put(w, (const char *)p + i - run, run);
        puts_(w, esc);
        run = 0;
        i++;
    }
    put(w, (const char *)p + n - run, run);
    put(w, "\"", 1);
}

/* The shortest of %.15g..%.17g that reads back as the same double. */
static void put_double(writer *w, double v) {
    char tmp[40];
    if (isnan(v) || isinf(v)) {
        puts_(w, isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) break;
    }
    puts_(w, tmp);
}

static void put_u64(writer *w, uint64_t v) { putf(w, "%" PRIu64, v); }

static void header(writer *w, const char *name, const char *type, const char *help) {
    putf(w, "# HELP %s ", name);
    puts_(w, help);
    putf(w, "\n# TYPE %s %s\n", name, type);
}

/* Fills w->labels and w->at for services[0..n). */
static void escape_labels(writer *w, const lm_metrics_service *const *sv, int n) {
    w->at = malloc(((size_t)n + 1) * sizeof *w->at);
    if (!w->at) {
        w->ok = 0;
        return;
    }
    lm_buf *out = w->out;
    w->out = &w->labels;
    for (int k = 0; k < n; k++) {
        w->at[k] = w->labels.len;
        puts_(w, "{service=");
        put_label_value(w, sv[k]->name, sizeof sv[k]->name);
        puts_(w, ",function=");
        put_label_value(w, sv[k]->function, sizeof sv[k]->function);
        puts_(w, ",runtime=");
        put_label_value(w, sv[k]->runtime, sizeof sv[k]->runtime);
    }
    w->at[n] = w->labels.len;
    w->out = out;
}

/* Starts a sample line of service k: name+suffix, its labels, then extra
 * (NULL, or more labels as ",k=\"v\"" with values that need no escaping)
 * and "} ". */
static void series(writer *w, const char *name, const char *suffix, int k, const char *extra) {
    if (!w->ok) return; /* w->at may be missing */
    puts_(w, name);
    puts_(w, suffix);
    put(w, w->labels.data + w->at[k], w->at[k + 1] - w->at[k]);
    if (extra) puts_(w, extra);
    puts_(w, "} ");
}

/* The observations of h: count, or the sum of the buckets when a
 * hand-filled struct has fewer (so the histogram stays monotonic). */
static uint64_t hist_total(const lm_histogram *h) {
    uint64_t c = 0;
    for (int i = 0; i < LM_METRICS_NBUCKETS; i++)
        c += h->buckets[i];
    return h->count > c ? h->count : c;
}

/* One histogram series: cumulative _bucket lines up to +Inf, _sum, _count.
 * extra as for series(). */
static void histogram(writer *w, const char *name, int k, const char *extra,
                      const lm_histogram *h) {
    uint64_t cum = 0;
    char labels[96];
    for (int i = 0; i < LM_METRICS_NBUCKETS; i++) {
        cum += h->buckets[i];
        snprintf(labels, sizeof labels, "%s,le=\"%s\"", extra ? extra : "", bucket_le_text[i]);
        series(w, name, "_bucket", k, labels);
        putf(w, "%" PRIu64 "\n", cum);
    }
    uint64_t total = hist_total(h);
    snprintf(labels, sizeof labels, "%s,le=\"+Inf\"", extra ? extra : "");
    series(w, name, "_bucket", k, labels);
    putf(w, "%" PRIu64 "\n", total);
    series(w, name, "_sum", k, extra);
    put_double(w, h->sum_s);
    puts_(w, "\n");
    series(w, name, "_count", k, extra);
    putf(w, "%" PRIu64 "\n", total);
}

/* A number of one of three kinds, so that counters print exactly. */
typedef struct {
    enum { NUM_U, NUM_I, NUM_F } kind;
    uint64_t u;
    int64_t i;
    double f;
} num;

static num num_u(uint64_t v) { return (num){.kind = NUM_U, .u = v}; }
static num num_i(int64_t v) { return (num){.kind = NUM_I, .i = v}; }
static num num_f(double v) { return (num){.kind = NUM_F, .f = v}; }

static void put_num(writer *w, num v) {
    if (v.kind == NUM_U)
        put_u64(w, v.u);
    else if (v.kind == NUM_I)
        putf(w, "%" PRId64, v.i);
    else
        put_double(w, v.f);
}

/* Per-service families with one sample per service. */
typedef struct {
    const char *name, *type, *help;
    num (*get)(const lm_metrics_service *s);
} simple_family;

static num get_cold_starts(const lm_metrics_service *s) { return num_u(s->cold_starts); }
static num get_desired(const lm_metrics_service *s) { return num_i(s->desired_instances); }
static num get_panic(const lm_metrics_service *s) { return num_i(s->panic); }
static num get_queue_depth(const lm_metrics_service *s) { return num_i(s->queue_depth); }
static num get_cpu(const lm_metrics_service *s) { return num_f(s->cpu_seconds_total); }
static num get_memory(const lm_metrics_service *s) { return num_u(s->memory_bytes); }

static void simple(writer *w, const lm_metrics_service *const *sv, int n, const simple_family *f) {
    header(w, f->name, f->type, f->help);
    for (int k = 0; k < n; k++) {
        series(w, f->name, "", k, NULL);
        put_num(w, f->get(sv[k]));
        puts_(w, "\n");
    }
}

/* ",status=\"200\"", or ",status=\"other\"". */
static void status_label(char *out, size_t n, int status) {
    if (status == LM_METRICS_STATUS_OTHER)
        snprintf(out, n, ",status=\"other\"");
    else
        snprintf(out, n, ",status=\"%d\"", status);
}

static void requests(writer *w, const lm_metrics_service *const *sv, int n) {
    static const char name[] = "lumos_requests_total", dname[] = "lumos_request_duration_seconds";
    char st[32];
    header(w, name, "counter", "Requests answered by a service, by HTTP status.");
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < clamp_nstatus(sv[k]->nstatus); i++) {
            status_label(st, sizeof st, sv[k]->by_status[i].status);
            series(w, name, "", k, st);
            /* The same number as the histogram's _count. */
            put_u64(w, hist_total(&sv[k]->by_status[i].latency));
            puts_(w, "\n");
        }
    }
    header(w, dname, "histogram", "Gateway latency from ingress to response, by HTTP status.");
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < clamp_nstatus(sv[k]->nstatus); i++) {
            status_label(st, sizeof st, sv[k]->by_status[i].status);
            histogram(w, dname, k, st, &sv[k]->by_status[i].latency);
        }
    }
}

/* A per-service histogram family without extra labels; offset picks the
 * lm_histogram member. */
static void histogram_family(writer *w, const lm_metrics_service *const *sv, int n,
                             const char *name, const char *help, size_t offset) {
    header(w, name, "histogram", help);
    for (int k = 0; k < n; k++)
        histogram(w, name, k, NULL, (const lm_histogram *)((const char *)sv[k] + offset));
}

static void failures(writer *w, const lm_metrics_service *const *sv, int n) {
    static const char name[] = "lumos_instance_failures_total";
    static const char *const reason[LM_METRICS_NFAIL] = {",reason=\"crash\"", ",reason=\"timeout\"",
                                                         ",reason=\"oom\"", ",reason=\"start\""};
    header(w, name, "counter", "Instances that failed, by reason (crash, timeout, oom, start).");
    for (int k = 0; k < n; k++) {
        for (int i = 0; i < LM_METRICS_NFAIL; i++) {
            series(w, name, "", k, reason[i]);
            put_u64(w, sv[k]->instance_failures[i]);
            puts_(w, "\n");
        }
    }
}

static void instances(writer *w, const lm_metrics_service *const *sv, int n) {
    static const char name[] = "lumos_instances";
    static const char *const state[3] = {",state=\"idle\"", ",state=\"busy\"",
                                         ",state=\"starting\""};
    header(w, name, "gauge", "Instances of a service now, by state (idle, busy, starting).");
    for (int k = 0; k < n; k++) {
        const int v[3] = {sv[k]->instances_idle, sv[k]->instances_busy, sv[k]->instances_starting};
        for (int i = 0; i < 3; i++) {
            series(w, name, "", k, state[i]);
            putf(w, "%d\n", v[i]);
        }
    }
}

static void global(writer *w, const lm_metrics_global *g) {
    header(w, "lumos_http_other_requests_total", "counter",
           "Requests not for a service: unknown paths, /services, /metrics, malformed.");
    putf(w, "lumos_http_other_requests_total %" PRIu64 "\n", g->http_requests_other);
    header(w, "lumos_start_time_seconds", "gauge",
           "Start time of the lumos serve process since the unix epoch in seconds.");
    puts_(w, "lumos_start_time_seconds ");
    put_double(w, g->start_time_seconds);
    puts_(w, "\n");
    if (!g->has_results) return;
    header(w, "lumos_results_rows_written_total", "counter",
           "Rows the results store has written to its database.");
    putf(w, "lumos_results_rows_written_total %" PRIu64 "\n", g->results_rows_written);
    header(w, "lumos_results_rows_pending", "gauge",
           "Rows waiting in the results store's batch to be written.");
    putf(w, "lumos_results_rows_pending %" PRIu64 "\n", g->results_rows_pending);
    header(w, "lumos_results_rows_lost_total", "counter",
           "Rows the results store could not write and dropped.");
    putf(w, "lumos_results_rows_lost_total %" PRIu64 "\n", g->results_rows_lost);
}

int lm_metrics_write(const lm_metrics_service *const *services, int n, const lm_metrics_global *g,
                     lm_buf *out, char *err) {
    if (!out) return lm_errf(err, "metrics: no output buffer");
    if (n < 0) return lm_errf(err, "metrics: negative service count %d", n);
    if (n > 0 && !services) return lm_errf(err, "metrics: %d services but no array", n);
    for (int k = 0; k < n; k++)
        if (!services[k]) return lm_errf(err, "metrics: service %d of %d is NULL", k, n);
    static const simple_family cold = {"lumos_cold_starts_total", "counter",
                                       "Instances started for a service (cold starts).",
                                       get_cold_starts};
    static const simple_family rest[] = {
        {"lumos_desired_instances", "gauge",
         "Instances the autoscaler last decided a service needs.", get_desired},
        {"lumos_autoscaler_panic", "gauge",
         "1 while the autoscaler of a service is in panic mode, else 0.", get_panic},
        {"lumos_queue_depth", "gauge", "Requests waiting in a service's queue now.",
         get_queue_depth},
        {"lumos_cpu_seconds_total", "counter",
         "CPU time (user and system) of all instances of a service, stopped ones included.",
         get_cpu},
        {"lumos_memory_bytes", "gauge", "Memory of all running instances of a service now.",
         get_memory},
    };
    size_t len0 = out->len;
    writer w = {.out = out, .ok = 1};
    escape_labels(&w, services, n);
    requests(&w, services, n);
    simple(&w, services, n, &cold);
    histogram_family(&w, services, n, "lumos_cold_start_duration_seconds",
                     "Time from starting an instance until it is ready.",
                     offsetof(lm_metrics_service, cold_start));
    histogram_family(&w, services, n, "lumos_queue_wait_seconds",
                     "Time requests waited in a service's queue for an instance.",
                     offsetof(lm_metrics_service, queue_wait));
    failures(&w, services, n);
    instances(&w, services, n);
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
        simple(&w, services, n, &rest[i]);
    if (g) global(&w, g);
    free(w.at);
    lm_buf_free(&w.labels);
    if (!w.ok) {
        out->len = len0;
        if (out->data) out->data[len0] = 0;
        return lm_errf(err, "metrics: out of memory rendering %d services", n);
    }
    return LM_OK;
}
