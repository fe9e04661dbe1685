/* results_bench.c -- what recording costs: the time of one
 * lm_results_add_request call (the platform's hot path), alone and with the
 * background writer flushing beside it, and the rows per second a flush
 * writes to a real WAL database. Prints figures; it is not a test.
 * Usage: results_bench [ROWS] [DIR]: ROWS in bursts (default 1000000),
 * ROWS/5 paced at 100,000 rows/s; the database goes to DIR (default /tmp). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results/results.h"

static void fill(lm_results_request *q, int64_t i, const char *inst) {
    lm_results_request_init(q);
    int64_t t = (int64_t)lm_now_ns();
    q->id = i;
    q->service_id = 1;
    q->instance_id = inst;
    q->status_http = 200;
    q->cold = 0;
    q->intended_send_ns = t;
    q->send_ns = t + 1;
    q->ingress_ns = t + 2;
    q->queued_ns = t + 3;
    q->acquired_ns = t + 4;
    q->dispatch_ns = t + 5;
    q->result_ns = t + 6;
    q->response_ns = t + 7;
    q->receive_ns = t + 8;
    q->deser_ns = 100;
    q->io_ns = 200;
    q->compute_ns = 300;
    q->ser_ns = 400;
    q->func_total_ns = 1000;
    q->io_read_bytes = 51200;
    q->io_write_bytes = 0;
    q->io_calls = 1;
    q->cpu_user_ns = 900;
    q->cpu_system_ns = 100;
    q->mem_peak_bytes = 1 << 20;
}

static void remove_db(const char *path) {
    char p[600];
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    unlink(path);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Bursts of 10,000 adds, each followed by a synchronous flush: the cost of
 * the copy alone and the write throughput. */
static int burst(const char *dir, long rows) {
    char path[512], err[LM_ERRLEN];
    snprintf(path, sizeof path, "%s/lumos-results-bench-%d-a.db", dir, (int)getpid());
    lm_results_opts o = {.lumos_version = "bench"};
    lm_results *r = lm_results_open(path, &o, err);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const long batch = 10000;
    lm_results_request q;
    fill(&q, 0, "fibonacci@native#1");
    uint64_t add_ns = 0, flush_ns = 0, best = UINT64_MAX;
    for (long done = 0; done < rows; done += batch) {
        uint64_t t0 = lm_now_ns();
        for (long i = 0; i < batch; i++) {
            q.id = done + i;
            if (lm_results_add_request(r, &q, err) != LM_OK) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
        }
        uint64_t t1 = lm_now_ns();
        add_ns += t1 - t0;
        if (t1 - t0 < best) best = t1 - t0;
        if (lm_results_flush(r, err) != LM_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        flush_ns += lm_now_ns() - t1;
    }
    lm_results_close(r);
    printf("bursts, flush every 10000 rows: add_request %.1f ns/row (best batch %.1f ns/row); "
           "flush %.0f rows/s\n",
           (double)add_ns / (double)rows, (double)best / (double)batch,
           (double)rows / ((double)flush_ns / 1e9));
    remove_db(path);
    return 0;
}

/* One add every 1e9/rate ns with the background writer flushing beside it,
 * each call timed on its own: what a gateway serving `rate` requests/s
 * pays per request. */
static int paced(const char *dir, long rows, long rate) {
    char path[512], err[LM_ERRLEN];
    snprintf(path, sizeof path, "%s/lumos-results-bench-%d-b.db", dir, (int)getpid());
    lm_results_opts o = {.background = 1, .lumos_version = "bench"};
    lm_results *r = lm_results_open(path, &o, err);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    uint64_t *lat = malloc((size_t)rows * sizeof *lat);
    lm_results_request q;
    fill(&q, 0, "fibonacci@native#1");
    uint64_t gap = 1000000000ull / (uint64_t)rate, next = lm_now_ns();
    for (long i = 0; i < rows; i++) {
        while (lm_now_ns() < next)
            ;
        next += gap;
        q.id = i;
        uint64_t t0 = lm_now_ns();
        int rc = lm_results_add_request(r, &q, err);
        lat[i] = lm_now_ns() - t0;
        if (rc != LM_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    }
    uint64_t t = lm_now_ns();
    lm_results_close(r);
    double close_ms = (double)(lm_now_ns() - t) / 1e6;
    qsort(lat, (size_t)rows, sizeof *lat, cmp_u64);
    uint64_t sum = 0;
    for (long i = 0; i < rows; i++)
        sum += lat[i];
    printf("paced %ld rows/s, background writer: add_request mean %.1f ns, p50 %llu ns, p99 %llu "
           "ns, max %llu ns (timer included); close %.1f ms\n",
           rate, (double)sum / (double)rows, (unsigned long long)lat[rows / 2],
           (unsigned long long)lat[rows * 99 / 100], (unsigned long long)lat[rows - 1], close_ms);
    free(lat);
    remove_db(path);
    return 0;
}

int main(int argc, char **argv) {
    long rows = argc > 1 ? atol(argv[1]) : 1000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    if (rows < 10000) rows = 10000;
    rows -= rows % 10000;
    printf("results store: %ld request rows, sizeof(lm_results_request) = %zu bytes\n", rows,
           sizeof(lm_results_request));
    return burst(dir, rows) || paced(dir, rows / 5, 100000);
}
