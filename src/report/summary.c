/* summary.c -- statistics over a run's samples and the report files. Warm
 * statistics use only the measured warm requests that answered 2xx. */
#include "summary.h"
#include "util/csv.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int lm_samples_add(lm_samples *s, const lm_sample *x) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        lm_sample *v = realloc(s->v, cap * sizeof(*v));
        if (!v) return LM_ERR;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *x;
    return LM_OK;
}

void lm_samples_free(lm_samples *s) {
    if (!s) return;
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static int ok(const lm_sample *x) { return x->status >= 200 && x->status < 300; }

size_t lm_samples_failed(const lm_samples *s) {
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += !ok(&s->v[i]);
    return n;
}

/* Statistics of one function on one runtime. */
typedef struct {
    const char *function, *runtime, *group;
    size_t warm_ok, failed;
    double cold_start_ms, placement_ms, cold_latency_ms;
    double lat_median, lat_mean, lat_sd, lat_min, lat_max, lat_p95;
    double deser_ms, io_ms, compute_ms, ser_ms; /* medians */
    double cpu_ms;                              /* median CPU time of a warm request */
    uint64_t mem_peak_bytes;                    /* the highest peak of a warm request */
    uint64_t io_bytes;
} pair_stats;

#define MAX_PAIRS 256

static double median_of(double *v, size_t n) {
    lm_sort_doubles(v, n);
    return lm_percentile(v, n, 50);
}

static size_t collect(const lm_samples *s, pair_stats *out) {
    size_t np = 0, last = 0;
    for (size_t i = 0; i < s->n && np < MAX_PAIRS; i++) {
        /* A run writes a pair's requests one after the other: the pair of
         * the request before is the first guess. */
        int seen = np && !strcmp(out[last].function, s->v[i].function) &&
                   !strcmp(out[last].runtime, s->v[i].runtime) &&
                   !strcmp(out[last].group, s->v[i].group);
        for (size_t p = 0; p < np && !seen; p++)
            if (!strcmp(out[p].function, s->v[i].function) &&
                !strcmp(out[p].runtime, s->v[i].runtime) && !strcmp(out[p].group, s->v[i].group))
                seen = 1, last = p;
        if (seen) continue;
        last = np;
        pair_stats *ps = &out[np++];
        memset(ps, 0, sizeof(*ps));
        ps->function = s->v[i].function;
        ps->runtime = s->v[i].runtime;
        ps->group = s->v[i].group;
        ps->cold_start_ms = ps->cold_latency_ms = NAN;
        double *lat = calloc(s->n, sizeof(double)), *cpu = calloc(s->n, sizeof(double)), *ph[4];
        for (int k = 0; k < 4; k++)
            ph[k] = calloc(s->n, sizeof(double));
        size_t m = 0;
        /* No request before i is of this pair (it would have made it). */
        for (size_t j = i; j < s->n; j++) {
            const lm_sample *x = &s->v[j];
            if (strcmp(x->function, ps->function) || strcmp(x->runtime, ps->runtime) ||
                strcmp(x->group, ps->group))
                continue;
            if (!ok(x)) ps->failed++;
            if (!strcmp(x->kind, "cold") && isnan(ps->cold_start_ms) && x->cold_start_ms > 0) {
                ps->cold_start_ms = x->cold_start_ms;
                ps->placement_ms = x->placement_ms;
                if (ok(x)) ps->cold_latency_ms = x->latency_ms;
            }
            if (strcmp(x->kind, "warm") || !ok(x)) continue;
            lat[m] = x->latency_ms;
            cpu[m] = x->cpu_ms;
            if (x->mem_peak_bytes > ps->mem_peak_bytes) ps->mem_peak_bytes = x->mem_peak_bytes;
            for (int k = 0; k < 4; k++)
                ph[k][m] = (double)x->probes[LM_PROBE_DESER_NS + k] / 1e6;
            ps->io_bytes = x->probes[LM_PROBE_IO_READ_BYTES] + x->probes[LM_PROBE_IO_WRITE_BYTES];
            m++;
        }
        ps->warm_ok = m;
        if (m) {
            double sum = 0, sq = 0;
            for (size_t j = 0; j < m; j++)
                sum += lat[j];
            ps->lat_mean = sum / (double)m;
            for (size_t j = 0; j < m; j++)
                sq += (lat[j] - ps->lat_mean) * (lat[j] - ps->lat_mean);
            ps->lat_sd = m > 1 ? sqrt(sq / (double)(m - 1)) : 0;
            ps->lat_median = median_of(lat, m);
            ps->lat_min = lat[0];
            ps->lat_max = lat[m - 1];
            ps->lat_p95 = lm_percentile(lat, m, 95);
            ps->deser_ms = median_of(ph[0], m);
            ps->io_ms = median_of(ph[1], m);
            ps->compute_ms = median_of(ph[2], m);
            ps->ser_ms = median_of(ph[3], m);
            ps->cpu_ms = median_of(cpu, m);
        }
        free(lat);
        free(cpu);
        for (int k = 0; k < 4; k++)
            free(ph[k]);
    }
    return np;
}

/* A lumos run's report (its settings known), or a platform's records. */
static int is_run(const lm_run_info *info) { return !info->source || !strcmp(info->source, "run"); }

static const pair_stats *find(const pair_stats *p, size_t n, const char *fn, const char *group,
                              const char *rt) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(p[i].function, fn) && !strcmp(p[i].runtime, rt) && !strcmp(p[i].group, group))
            return &p[i];
    return NULL;
}

void lm_report_print_table(FILE *f, const lm_run_info *info, const lm_samples *s) {
    pair_stats *p = calloc(MAX_PAIRS, sizeof(*p));
    size_t n = collect(s, p);
    if (is_run(info))
        fprintf(f,
                "group %s, %d warm runs after %d warm-up, storage %s; medians of warm requests\n\n",
                info->group, info->runs, info->warmup, info->storage);
    else if (!strcmp(info->source, "experiment"))
        fprintf(f,
                "experiment %s (lumos run SPEC): its %zu requests of closed-loop cells of one "
                "client; medians of warm requests (every cell: lumos results summary)\n\n",
                info->experiment ? info->experiment : "", s->n);
    else
        fprintf(f, "recorded by lumos serve, %zu requests; medians of warm requests\n\n", s->n);
    fprintf(f, "%-20s %-21s %-5s %9s %9s %11s %9s %9s %11s %9s %9s %9s %9s %5s\n", "function",
            "runtime", "group", "cold_ms", "first_ms", "latency_ms", "p95_ms", "deser_ms",
            "compute_ms", "io_ms", "ser_ms", "cpu_ms", "peak_mib", "fail");
    for (size_t i = 0; i < n; i++)
        fprintf(f,
                "%-20s %-21s %-5s %9.3f %9.3f %11.3f %9.3f %9.3f %11.3f %9.3f %9.3f %9.3f %9.1f "
                "%5zu\n",
                p[i].function, p[i].runtime, p[i].group, p[i].cold_start_ms, p[i].cold_latency_ms,
                p[i].lat_median, p[i].lat_p95, p[i].deser_ms, p[i].compute_ms, p[i].io_ms,
                p[i].ser_ms, p[i].cpu_ms, (double)p[i].mem_peak_bytes / 1048576.0, p[i].failed);
    free(p);
}

/* One pair's statistics; built member by member, since a json_pack format
 * this long is easy to get wrong. */
static json_t *pair_json(const pair_stats *p) {
    json_t *o = json_object();
    json_object_set_new(o, "function", json_string(p->function));
    json_object_set_new(o, "runtime", json_string(p->runtime));
    json_object_set_new(o, "payload_group", json_string(p->group));
    json_object_set_new(o, "warm_ok", json_integer((json_int_t)p->warm_ok));
    json_object_set_new(o, "failed", json_integer((json_int_t)p->failed));
    int cold = !isnan(p->cold_start_ms);
    const struct {
        const char *key;
        double v;
    } reals[] = {
        {"cold_start_ms", cold ? p->cold_start_ms : -1.0},
        {"placement_ms", cold ? p->placement_ms : -1.0},
        {"first_latency_ms", isnan(p->cold_latency_ms) ? -1.0 : p->cold_latency_ms},
        {"latency_median_ms", p->lat_median},
        {"latency_mean_ms", p->lat_mean},
        {"latency_sd_ms", p->lat_sd},
        {"latency_min_ms", p->lat_min},
        {"latency_max_ms", p->lat_max},
        {"latency_p95_ms", p->lat_p95},
        {"deser_median_ms", p->deser_ms},
        {"io_median_ms", p->io_ms},
        {"compute_median_ms", p->compute_ms},
        {"ser_median_ms", p->ser_ms},
        {"cpu_median_ms", p->cpu_ms},
    };
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
        json_object_set_new(o, reals[i].key, json_real(reals[i].v));
    json_object_set_new(o, "io_bytes", json_integer((json_int_t)p->io_bytes));
    json_object_set_new(o, "mem_peak_max_bytes", json_integer((json_int_t)p->mem_peak_bytes));
    return o;
}

/* The summary as JSON: what lumos run says of its settings (null in a
 * database of lumos serve, which has none) and one object per pair. */
static json_t *summary_json(const lm_run_info *info, const lm_samples *s) {
    pair_stats *p = calloc(MAX_PAIRS, sizeof(*p));
    size_t n = collect(s, p);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, pair_json(&p[i]));
    free(p);
    int run = is_run(info);
    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(1));
    json_object_set_new(o, "source", json_string(run ? "run" : info->source));
    json_object_set_new(o, "group", run ? json_string(info->group) : json_null());
    json_object_set_new(o, "runs", run ? json_integer(info->runs) : json_null());
    json_object_set_new(o, "warmup", run ? json_integer(info->warmup) : json_null());
    json_object_set_new(o, "seed", run ? json_integer((json_int_t)info->seed) : json_null());
    json_object_set_new(o, "storage", run ? json_string(info->storage) : json_null());
    json_object_set_new(o, "results", arr);
    return o;
}

/* 15 significant digits: a millisecond figure keeps its nanoseconds up to
 * 10^9 ms (9 digits lost them above 10 ms). */
void lm_report_print_json(FILE *f, const lm_run_info *info, const lm_samples *s) {
    json_t *j = summary_json(info, s);
    json_dumpf(j, f, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    fputc('\n', f);
    json_decref(j);
}

/* Findings: each runtime against native, on the geometric mean over the
 * functions both ran. */
static void findings(FILE *f, const pair_stats *p, size_t n) {
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rt = p[i].runtime;
        if (!strcmp(rt, "native")) continue;
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= !strcmp(p[j].runtime, rt);
        if (seen) continue;
        double lc = 0, ll = 0, ls = 0;
        int k = 0;
        for (size_t j = 0; j < n; j++) {
            if (strcmp(p[j].runtime, rt)) continue;
            const pair_stats *nat = find(p, n, p[j].function, p[j].group, "native");
            if (!nat || !nat->warm_ok || !p[j].warm_ok || nat->compute_ms <= 0 ||
                p[j].compute_ms <= 0)
                continue;
            lc += log(p[j].compute_ms / nat->compute_ms);
            ll += log(p[j].lat_median / nat->lat_median);
            ls += log(p[j].cold_start_ms / nat->cold_start_ms);
            k++;
        }
        if (!k) continue;
        any = 1;
        int groups = 0; /* one pair per function, or per function and payload group */
        for (size_t j = 0; j < n; j++) {
            int first = 1;
            for (size_t m = 0; m < j; m++)
                first &= strcmp(p[m].group, p[j].group) != 0;
            groups += first;
        }
        fprintf(f,
                "- %s against native, geometric mean over %d functions%s: compute %.2fx, warm "
                "latency %.2fx, cold start %.2fx.\n",
                rt, k, groups > 1 ? " and payload groups" : "", exp(lc / k), exp(ll / k),
                exp(ls / k));
    }
    if (!any)
        fprintf(f, "- Only one runtime ran, or no function answered on two: nothing to compare.\n");
}

/* The method of a lumos run, for report.md. */
static void write_method(FILE *f, const lm_run_info *info) {
    fprintf(f,
            "## Method\n\n"
            "For each function and runtime, Lumos starts a fresh instance and times its cold "
            "start from the runtime's exec to the READY frame (`cold_start_ms`); what the "
            "platform does before, making the instance's cgroup and placing it there, is "
            "`placement_ms` (on cgroup v1 the first placement after a quiet moment waits for "
            "an RCU grace period, about 12 ms: see docs/runtimes.md). It sends the group's "
            "benchmark request once "
            "(`first_ms`: the first, cold request), %d warm-up requests, then %d measured warm "
            "requests, one at a time. `latency_ms` is measured on the host from writing the "
            "INVOKE frame to reading the RESULT frame (CLOCK_MONOTONIC). `deser_ms`, "
            "`io_ms`, `compute_ms` and `ser_ms` are the function's own probes, timed with its "
            "own monotonic clock (WASI clock_time_get inside Wasm); the four add up to the "
            "function's time. Storage I/O crosses the channel to the host, which reads and "
            "writes Redis. `cpu_ms` is the CPU time (user and system) the instance's cgroup "
            "used during the request, and `peak_mib` the highest memory peak of a warm request "
            "(the peak is reset before each request); an instance serves one request at a "
            "time, so both belong to that request (docs/telemetry.md). Every other value below "
            "is the median over the measured warm requests that answered 2xx; every request is "
            "in requests.csv.\n\n",
            info->warmup, info->runs);
}

void lm_report_print_findings(FILE *f, const lm_run_info *info, const lm_samples *s) {
    (void)info;
    pair_stats *p = calloc(MAX_PAIRS, sizeof(*p));
    if (!p) return;
    size_t n = collect(s, p);
    findings(f, p, n);
    size_t failed = lm_samples_failed(s);
    if (failed) fprintf(f, "- %zu requests failed.\n", failed);
    free(p);
}

int lm_report_write(const char *dir, const lm_run_info *info, const lm_samples *s, char *err) {
    char path[2100];
    pair_stats *p = calloc(MAX_PAIRS, sizeof(*p));
    if (!p) return lm_errf(err, "out of memory");
    size_t n = collect(s, p);

    snprintf(path, sizeof(path), "%s/summary.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        free(p);
        return lm_errf(err, "cannot write %s", path);
    }
    fprintf(f,
            "function,runtime,warm_ok,failed,cold_start_ms,placement_ms,first_latency_ms,"
            "latency_median_ms,"
            "latency_mean_ms,latency_sd_ms,latency_min_ms,latency_max_ms,latency_p95_ms,"
            "deser_median_ms,io_median_ms,compute_median_ms,ser_median_ms,io_bytes,cpu_median_ms,"
            "mem_peak_max_bytes\n");
    for (size_t i = 0; i < n; i++) {
        /* Names come from the database (an external runtime's from a user's
         * config): quoted when they must be. */
        lm_csv_field(f, p[i].function, strlen(p[i].function), 0);
        fputc(',', f);
        lm_csv_field(f, p[i].runtime, strlen(p[i].runtime), 0);
        fprintf(f,
                ",%zu,%zu,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,"
                "%llu,%.6f,%llu\n",
                p[i].warm_ok, p[i].failed, p[i].cold_start_ms, p[i].placement_ms,
                p[i].cold_latency_ms, p[i].lat_median, p[i].lat_mean, p[i].lat_sd, p[i].lat_min,
                p[i].lat_max, p[i].lat_p95, p[i].deser_ms, p[i].io_ms, p[i].compute_ms, p[i].ser_ms,
                (unsigned long long)p[i].io_bytes, p[i].cpu_ms,
                (unsigned long long)p[i].mem_peak_bytes);
    }
    fclose(f);

    json_t *j = summary_json(info, s);
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    int jrc = json_dump_file(j, path, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(j);
    if (jrc != 0) {
        free(p);
        return lm_errf(err, "cannot write %s", path);
    }

    snprintf(path, sizeof(path), "%s/report.md", dir);
    if (!(f = fopen(path, "w"))) {
        free(p);
        return lm_errf(err, "cannot write %s", path);
    }
    /* The machine is the one the database names (it may be reported
     * elsewhere), this one's when it names none. */
    struct utsname u;
    uname(&u);
    const char *host = info->host_name && *info->host_name ? info->host_name : u.nodename;
    const char *kernel = info->host_kernel && *info->host_kernel ? info->host_kernel : u.release;
    const char *arch = info->host_arch && *info->host_arch ? info->host_arch : u.machine;
    long cpus = info->host_cpus > 0 ? info->host_cpus : sysconf(_SC_NPROCESSORS_ONLN);
    time_t t = (time_t)(info->started_wall_ns / 1000000000u);
    char when[64];
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    if (!is_run(info)) {
        int exp = !strcmp(info->source, "experiment");
        if (exp)
            fprintf(f,
                    "# Lumos experiment %s\n\nRun by `lumos run SPEC` through the platform's "
                    "gateway; this report is of its closed-loop cells of one client, per payload "
                    "group (`lumos results summary` gives every cell).\n\n",
                    info->experiment ? info->experiment : "");
        else
            fprintf(f, "# Lumos platform records\n\n");
        fprintf(f,
                "Recorded by lumos serve from %s on %s %s %s (%ld CPUs).\n\n## Method\n\n"
                "Every request the gateway served is a row of the results database. A request "
                "is cold when it waited for the start of the instance that served it "
                "(`cold_start_ms`: the runtime's exec to the READY frame; `placement_ms`: the "
                "platform's part before). `latency_ms` is measured %s; `deser_ms`, `io_ms`, "
                "`compute_ms` and "
                "`ser_ms` are the function's own probes; `cpu_ms` and `peak_mib` come from the "
                "instance's cgroup (docs/telemetry.md). Every other value is the median over the "
                "warm requests that answered 2xx.\n\n",
                when, host, kernel, arch, cpus,
                exp ? "end to end by the load client, from the request's first byte sent to the "
                      "answer's last byte received (the gateway, the queue and any cold start are "
                      "in it)"
                    : "on the host from writing the INVOKE frame to reading the RESULT frame");
    } else {
        fprintf(f, "# Lumos run\n\n");
        fprintf(f,
                "Started %s on %s %s %s (%ld CPUs). Payload group %s, data seed %llu, storage "
                "%s.\n\n",
                when, host, kernel, arch, cpus, info->group, info->seed, info->storage);
        write_method(f, info);
    }
    fprintf(f, "## Results (milliseconds)\n\n| function | runtime | cold_start_ms | "
               "placement_ms | first_ms | "
               "latency_ms (median) | latency_ms (mean ± sd) | p95_ms | deser_ms | io_ms | "
               "compute_ms | ser_ms | cpu_ms | peak_mib | failed |\n|---|---|---:|---:|---:|---:|"
               "---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f,
                "| %s | %s | %.3f | %.3f | %.3f | %.3f | %.3f ± %.3f | %.3f | %.3f | %.3f | %.3f | "
                "%.3f | %.3f | %.1f | %zu |\n",
                p[i].function, p[i].runtime, p[i].cold_start_ms, p[i].placement_ms,
                p[i].cold_latency_ms, p[i].lat_median, p[i].lat_mean, p[i].lat_sd, p[i].lat_p95,
                p[i].deser_ms, p[i].io_ms, p[i].compute_ms, p[i].ser_ms, p[i].cpu_ms,
                (double)p[i].mem_peak_bytes / 1048576.0, p[i].failed);
    if (info->artifacts)
        lm_report_sizes(f, info->artifacts, info->functions, info->nfunctions, info->runtimes,
                        info->targets, info->nruntimes);
    fprintf(f, "\n## Findings\n\n");
    findings(f, p, n);
    size_t failed = lm_samples_failed(s);
    if (failed) fprintf(f, "- %zu requests failed; their errors are in requests.csv.\n", failed);
    fclose(f);
    free(p);
    return LM_OK;
}
