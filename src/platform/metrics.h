/* metrics.h -- the Prometheus text exposition (format version 0.0.4) that
 * `lumos serve` answers GET /metrics with: per-service request counts and
 * latency histograms, cold starts, queue waits, instance failures and
 * states, the autoscaler's decision, CPU and memory, and a few process-wide
 * counters. Serve the page with
 *   Content-Type: text/plain; version=0.0.4; charset=utf-8
 *
 * The module owns no state and does no I/O: the gateway keeps one
 * lm_metrics_service per service (updating it with lm_metrics_service_request
 * and lm_histogram_observe as things happen, and setting the gauges just
 * before a scrape), then calls lm_metrics_write to render all of them into
 * an lm_buf, whose data/len it hands to evbuffer_add. Nothing here locks:
 * call everything from the one thread that owns the structs (the gateway's
 * event loop), or merge per-thread histograms with lm_histogram_merge.
 *
 * Output guarantees (checked by tests/unit/test_metrics.c with the real
 * `promtool check metrics`):
 *  - every family has exactly one # HELP and one # TYPE line, always written
 *    (also with zero services; the results_* families only when has_results),
 *    followed by all of its samples and nothing else;
 *  - label values are escaped (\ " and newline) and are valid UTF-8: a byte
 *    that does not start a valid UTF-8 sequence (stray continuation byte,
 *    overlong form, surrogate, beyond U+10FFFF, cut-off sequence) is written
 *    as U+FFFD, because one invalid byte would make Prometheus reject the
 *    whole page. The gateway only creates services from validated names, so
 *    this is a safety net, not a feature;
 *  - numbers: unsigned counters as integers, doubles in the shortest form
 *    that reads back exactly (at most 17 significant digits), NaN as "NaN"
 *    and infinities as "+Inf"/"-Inf". printf's %g follows LC_NUMERIC: keep
 *    it "C" (lumos never calls setlocale).
 *  - samples carry no timestamps; per service, the labels are
 *    service, function, runtime (then status, reason, state or le).
 * Cost: each service's labels are escaped once per write; 100 services with
 * 24 status codes each (8.7 MB of text) take about 6 ms at -O2 here, which
 * blocks the event loop for that long.
 * Service names must be unique across the array (the gateway's map keys
 * them); two services with the same labels would yield duplicate series.
 *
 * Families (service families are labelled {service,function,runtime}):
 *   lumos_requests_total{...,status}                   counter
 *   lumos_request_duration_seconds{...,status}         histogram
 *   lumos_cold_starts_total{...}                       counter
 *   lumos_cold_start_duration_seconds{...}             histogram
 *   lumos_queue_wait_seconds{...}                      histogram
 *   lumos_instance_failures_total{...,reason}          counter (crash|timeout|oom|start)
 *   lumos_instances{...,state}                         gauge   (idle|busy|starting)
 *   lumos_desired_instances{...}                       gauge
 *   lumos_autoscaler_panic{...}                        gauge   (0 or 1)
 *   lumos_queue_depth{...}                             gauge
 *   lumos_cpu_seconds_total{...}                       counter
 *   lumos_memory_bytes{...}                            gauge
 *   lumos_http_other_requests_total                    counter
 *   lumos_start_time_seconds                           gauge
 *   lumos_results_rows_written_total                   counter (has_results)
 *   lumos_results_rows_pending                         gauge   (has_results)
 *   lumos_results_rows_lost_total                      counter (has_results)
 */
#ifndef LM_METRICS_H
#define LM_METRICS_H

#include <stdint.h>

#include "util/util.h"

/* Latency histogram bucket upper bounds in seconds (le, inclusive):
 * 0.0001 0.00025 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1
 * 2.5 5 10 30 60, plus +Inf (which equals the count). */
#define LM_METRICS_NBUCKETS 18
extern const double lm_metrics_bucket_le[LM_METRICS_NBUCKETS];

/* A fixed-bucket histogram. buckets[i] counts the observations that fell
 * into bucket i alone (le[i-1] < v <= le[i]), not cumulatively: the writer
 * makes them cumulative. count counts every observation, so those above
 * the last bound are count minus the sum of buckets. Zero it to start. */
typedef struct {
    uint64_t count;
    uint64_t buckets[LM_METRICS_NBUCKETS];
    double sum_s;
} lm_histogram;

/* Records one duration in seconds. A negative value (clock step) counts as
 * 0; NaN and infinities are not durations and are ignored. */
void lm_histogram_observe(lm_histogram *h, double seconds);
/* Adds src into dst (per-thread histograms merged for a scrape). */
void lm_histogram_merge(lm_histogram *dst, const lm_histogram *src);

/* Status codes kept apart per service. When a service has seen
 * LM_METRICS_NSTATUS - 1 distinct codes, every further new code folds into
 * one entry with status LM_METRICS_STATUS_OTHER (exported as
 * status="other"), so the totals stay exact while the series stay bounded.
 * A status outside 100..999 also counts as other. */
#define LM_METRICS_NSTATUS 24
#define LM_METRICS_STATUS_OTHER 0

typedef struct {
    int status;           /* HTTP status code, or LM_METRICS_STATUS_OTHER */
    lm_histogram latency; /* gateway total: ingress -> response */
} lm_metrics_status;

/* Instance failure reasons (index of lm_metrics_service.instance_failures,
 * and the reason label: crash, timeout, oom, start). */
enum { LM_METRICS_FAIL_CRASH, LM_METRICS_FAIL_TIMEOUT, LM_METRICS_FAIL_OOM, LM_METRICS_FAIL_START };
#define LM_METRICS_NFAIL 4

/* One service (one function on one runtime). The counters and histograms
 * only grow; the gauges are whatever they are at the scrape. */
typedef struct {
    char name[200]; /* "fibonacci@wasm-aot" (service label) */
    char function[128], runtime[64];
    /* One entry per status code seen, sorted by code, other (if any) last.
     * Maintained by lm_metrics_service_request. */
    lm_metrics_status by_status[LM_METRICS_NSTATUS];
    int nstatus;
    uint64_t cold_starts;                         /* instances started */
    lm_histogram cold_start;                      /* cold start durations (seconds) */
    lm_histogram queue_wait;                      /* time requests waited in the queue (seconds) */
    uint64_t instance_failures[LM_METRICS_NFAIL]; /* index LM_METRICS_FAIL_* */
    int instances_idle, instances_busy, instances_starting;
    int queue_depth;
    int desired_instances;    /* the autoscaler's latest decision */
    int panic;                /* 1 in panic mode */
    double cpu_seconds_total; /* CPU of all its instances, user+system, ever (stopped ones too) */
    uint64_t memory_bytes;    /* current memory of its instances now (sum) */
} lm_metrics_service;

/* Zeroes s and copies the three strings (NULL counts as ""). A string that
 * does not fit is cut at a UTF-8 character boundary and LM_ERR is returned
 * with err naming it; s is usable either way. */
int lm_metrics_service_init(lm_metrics_service *s, const char *name, const char *function,
                            const char *runtime, char *err);

/* Records one answered request: its status code and the seconds from
 * ingress to response. Adds the status entry when the code is new (see
 * LM_METRICS_NSTATUS for what happens beyond that). */
void lm_metrics_service_request(lm_metrics_service *s, int status, double seconds);

/* Process-wide numbers. */
typedef struct {
    double start_time_seconds; /* process start, unix time */
    /* requests not for a service: 404 paths, /services, /metrics, malformed */
    uint64_t http_requests_other;
    /* the results store */
    uint64_t results_rows_written, results_rows_pending, results_rows_lost;
    int has_results; /* 0: omit the results_* families */
} lm_metrics_global;

/* Appends the whole exposition for services[0..n) and g to out (an lm_buf
 * the caller owns: zero-initialize it, or reuse one after setting len = 0;
 * free it with lm_buf_free). services may be NULL when n is 0; g may be NULL,
 * which omits the process-wide families. Returns LM_OK, or LM_ERR with err
 * set (n < 0, a NULL service, out of memory), in which case out->len is put
 * back to what it was. */
int lm_metrics_write(const lm_metrics_service *const *services, int n, const lm_metrics_global *g,
                     lm_buf *out, char *err);

/* The Content-Type to answer /metrics with. */
#define LM_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
