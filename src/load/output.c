/* output.c -- a load run's summary, JSON and CSV (output.h). */
#include "load/output.h"

#include <errno.h>
#include <string.h>

#include "util/csv.h"

static const double pcts[] = {50, 90, 99, 99.9, 99.99};
static const char *const pct_keys[] = {"p50_ns", "p90_ns", "p99_ns", "p99_9_ns", "p99_99_ns"};
#define NPCT (sizeof(pcts) / sizeof(pcts[0]))

static double run_s(const lm_load_stats *s) {
    return s->end_ns > s->start_ns ? (double)(s->end_ns - s->start_ns) / 1e9 : 0;
}

static void hist_row(FILE *out, const char *name, const lm_hist *h) {
    fprintf(out, "    %-12s", name);
    if (!h || lm_hist_count(h) == 0) {
        fputs("         (none)\n", out);
        return;
    }
    for (size_t i = 0; i < NPCT; i++)
        fprintf(out, " %9.1f", (double)lm_hist_percentile(h, pcts[i]) / 1e3);
    fprintf(out, " %9.1f %9.1f\n", (double)lm_hist_max(h) / 1e3, lm_hist_mean(h) / 1e3);
}

void lm_load_print_summary(FILE *out, const lm_load_info *info, const lm_load_result *r) {
    const lm_load_stats *s = &r->stats;
    const uint64_t *e = s->errors;
    uint64_t nerr = 0;
    for (int k = 1; k < LM_LOAD_E_COUNT; k++)
        if (k != LM_LOAD_E_UNSENT && k != LM_LOAD_E_STOPPED) nerr += e[k];
    double secs = s->last_receive_ns > s->start_ns ? (s->last_receive_ns - s->start_ns) / 1e9 : 0;
    fprintf(out, "lumos load: %s, %s\n", info->url, info->mode_text);
    fprintf(out, "  requests/s     %.1f achieved (%llu sent, %llu answered in %.3f s)\n",
            s->achieved_rps, (unsigned long long)s->sent, (unsigned long long)s->completed, secs);
    fprintf(out, "  latency, us  %10s%10s%10s%10s%10s%10s%10s\n", "p50", "p90", "p99", "p99.9",
            "p99.99", "max", "mean");
    hist_row(out, "corrected", r->corrected);
    hist_row(out, "uncorrected", r->uncorrected);
    hist_row(out, "send lag", r->send_lag);
    fprintf(out, "  late           %llu (sent more than %.3f ms after their intended time)\n",
            (unsigned long long)s->late, (double)s->late_ns / 1e6);
    if (info->opts && info->opts->mode == LM_LOAD_OPEN)
        fprintf(out, "  waited         %llu (for a free connection, the pool at its cap)\n",
                (unsigned long long)s->waited);
    fprintf(out, "  dropped        %llu (%llu never sent, %llu timed out, %llu stopped)\n",
            (unsigned long long)s->dropped, (unsigned long long)e[LM_LOAD_E_UNSENT],
            (unsigned long long)e[LM_LOAD_E_TIMEOUT], (unsigned long long)e[LM_LOAD_E_STOPPED]);
    fprintf(out,
            "  errors         %llu (connect %llu, write %llu, closed %llu, protocol %llu, timeout "
            "%llu)\n",
            (unsigned long long)nerr, (unsigned long long)e[LM_LOAD_E_CONNECT],
            (unsigned long long)e[LM_LOAD_E_WRITE], (unsigned long long)e[LM_LOAD_E_CLOSED],
            (unsigned long long)e[LM_LOAD_E_PROTOCOL], (unsigned long long)e[LM_LOAD_E_TIMEOUT]);
    for (int k = 1; k < LM_LOAD_E_COUNT; k++)
        if (r->first_error[k][0] && k != LM_LOAD_E_UNSENT && k != LM_LOAD_E_STOPPED)
            fprintf(out, "                 first %s error: %s\n", lm_load_error_name(k),
                    r->first_error[k]);
    fprintf(out, "  answers        %llu 2xx, %llu other\n", (unsigned long long)s->status_2xx,
            (unsigned long long)s->status_other);
    fprintf(out, "  connections    %llu made, at most %llu requests in flight\n",
            (unsigned long long)s->connections, (unsigned long long)s->max_in_flight);
    double cpu = (double)(s->cpu_user_ns + s->cpu_system_ns) / 1e9, t = run_s(s);
    fprintf(out,
            "  client         CPU %.3f s (user %.3f, system %.3f; %.1f%% of the run), max RSS "
            "%.1f MiB\n",
            cpu, s->cpu_user_ns / 1e9, s->cpu_system_ns / 1e9, t > 0 ? cpu / t * 100 : 0.0,
            (double)s->max_rss_bytes / 1048576.0);
}

static void hist_json(FILE *out, const char *key, const lm_hist *h) {
    fprintf(out, "\"%s\":{\"count\":%llu", key, (unsigned long long)lm_hist_count(h));
    for (size_t i = 0; i < NPCT; i++)
        fprintf(out, ",\"%s\":%llu", pct_keys[i],
                (unsigned long long)lm_hist_percentile(h, pcts[i]));
    fprintf(out, ",\"min_ns\":%llu,\"max_ns\":%llu,\"mean_ns\":%.1f}",
            (unsigned long long)lm_hist_min(h), (unsigned long long)lm_hist_max(h),
            lm_hist_mean(h));
}

void lm_load_print_json(FILE *out, const lm_load_info *info, const lm_load_result *r) {
    const lm_load_stats *s = &r->stats;
    char q[2048];
    const lm_load_opts *o = info->opts;
    fprintf(out, "{\"url\":%s", lm_json_quote(q, sizeof(q), info->url));
    fprintf(out, ",\"mode\":\"%s\"", o && o->mode == LM_LOAD_CLOSED ? "closed" : "open");
    fprintf(out, ",\"description\":%s", lm_json_quote(q, sizeof(q), info->mode_text));
    fprintf(out, ",\"requests\":%llu,\"sent\":%llu,\"completed\":%llu",
            (unsigned long long)s->requests, (unsigned long long)s->sent,
            (unsigned long long)s->completed);
    fprintf(out, ",\"achieved_rps\":%.3f,\"duration_ns\":%llu", s->achieved_rps,
            (unsigned long long)(s->end_ns - s->start_ns));
    fputc(',', out);
    hist_json(out, "latency_corrected", r->corrected);
    fputc(',', out);
    hist_json(out, "latency_uncorrected", r->uncorrected);
    fputc(',', out);
    hist_json(out, "send_lag", r->send_lag);
    fprintf(out, ",\"late\":%llu,\"late_threshold_ns\":%llu,\"waited\":%llu,\"dropped\":%llu",
            (unsigned long long)s->late, (unsigned long long)s->late_ns,
            (unsigned long long)s->waited, (unsigned long long)s->dropped);
    fputs(",\"errors\":{", out);
    for (int k = 1; k < LM_LOAD_E_COUNT; k++)
        fprintf(out, "%s\"%s\":%llu", k > 1 ? "," : "", lm_load_error_name(k),
                (unsigned long long)s->errors[k]);
    fputs("},\"first_errors\":{", out);
    int first = 1;
    for (int k = 1; k < LM_LOAD_E_COUNT; k++) {
        if (!r->first_error[k][0]) continue;
        fprintf(out, "%s\"%s\":%s", first ? "" : ",", lm_load_error_name(k),
                lm_json_quote(q, sizeof(q), r->first_error[k]));
        first = 0;
    }
    fprintf(out, "},\"status_2xx\":%llu,\"status_other\":%llu", (unsigned long long)s->status_2xx,
            (unsigned long long)s->status_other);
    fprintf(out, ",\"connections\":%llu,\"max_in_flight\":%llu", (unsigned long long)s->connections,
            (unsigned long long)s->max_in_flight);
    fprintf(out,
            ",\"client_cpu_user_ns\":%llu,\"client_cpu_system_ns\":%llu,"
            "\"client_max_rss_bytes\":%llu}\n",
            (unsigned long long)s->cpu_user_ns, (unsigned long long)s->cpu_system_ns,
            (unsigned long long)s->max_rss_bytes);
}

/* An empty field for "not measured", else the number. */
static void num(FILE *out, int have, uint64_t v) {
    if (have) fprintf(out, "%llu", (unsigned long long)v);
    fputc(',', out);
}

int lm_load_write_csv(FILE *out, const lm_load_result *r, const lm_load_req *reqs,
                      const char *default_path, char *err) {
    fputs("seq,req,path,intended_send_ns,send_ns,receive_ns,latency_corrected_ns,"
          "latency_uncorrected_ns,send_lag_ns,status_http,response_bytes,request_id,connection,"
          "waited,error\n",
          out);
    for (size_t i = 0; i < r->nrecords; i++) {
        const lm_load_record *q = &r->records[i];
        const char *path = reqs[q->req].path ? reqs[q->req].path : default_path;
        int done = q->receive_ns != 0, sent = q->send_ns != 0;
        fprintf(out, "%zu,%u,", i + 1, q->req);
        lm_csv_field(out, path, strlen(path), 0);
        fputc(',', out);
        num(out, q->intended_ns != 0, q->intended_ns);
        num(out, sent, q->send_ns);
        num(out, done, q->receive_ns);
        num(out, done, q->receive_ns - q->intended_ns);
        num(out, done, q->receive_ns - q->send_ns);
        num(out, sent, q->send_ns - q->intended_ns);
        num(out, q->status != 0, q->status);
        num(out, done, q->bytes);
        num(out, q->request_id != 0, q->request_id);
        num(out, q->conn != 0, q->conn);
        fprintf(out, "%d,", q->waited);
        char e[160];
        lm_load_record_error(q, e, sizeof(e));
        lm_csv_field(out, e, strlen(e), 0);
        fputc('\n', out);
    }
    if (fflush(out) != 0 || ferror(out))
        return lm_errf(err, "writing the requests failed: %s", strerror(errno));
    return LM_OK;
}
