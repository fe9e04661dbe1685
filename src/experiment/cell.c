/* cell.c -- one cell of an experiment, from `running` to `done`
 * (internal.h): its requests go through the gateway with the load client,
 * every one carrying X-Lumos-Cell; afterwards the gateway's rows are
 * flushed, the client's times joined to them by request id, and their
 * start types checked against the cell's. */
#include "experiment/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "load/load.h"
#include "proto/clock.h"
#include "trace/gen.h"
#include "trace/trace.h"

/* The requests of one load run, and what they point at. */
typedef struct {
    lm_load_req *reqs;
    size_t n;
    char **owned; /* paths and header strings made for them */
    size_t nowned;
} batch;

static void batch_free(batch *b) {
    for (size_t i = 0; i < b->nowned; i++)
        free(b->owned[i]);
    free(b->owned);
    free(b->reqs);
    memset(b, 0, sizeof *b);
}

static char *keep(batch *b, char *s) {
    if (!s) return NULL;
    b->owned[b->nowned++] = s;
    return s;
}

static char *fmt(const char *f, const char *a, const char *b) {
    size_t n = strlen(f) + strlen(a) + (b ? strlen(b) : 0) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, f, a, b ? b : "");
    return s;
}

static int alloc(batch *b, size_t n, char *err) {
    b->reqs = calloc(n ? n : 1, sizeof *b->reqs);
    b->owned = calloc(2 * n + 4, sizeof *b->owned);
    if (!b->reqs || !b->owned) return lm_errf(err, "out of memory for %zu requests", n);
    b->n = n;
    return LM_OK;
}

/* n copies of one function's request (closed loop: offsets unused). */
static int same_requests(const lm__exp_ctx *x, const lm_exp_cell *c, size_t n, batch *b,
                         char *err) {
    const char *body = x->body(x->body_arg, c->function, c->payload, err);
    if (!body || alloc(b, n, err) != LM_OK) return LM_ERR;
    char *path = keep(b, fmt("/function/%s@%s", c->function, c->runtime));
    if (!path) return lm_errf(err, "out of memory");
    for (size_t i = 0; i < n; i++)
        b->reqs[i] = (lm_load_req){.path = path, .body = body, .body_len = strlen(body)};
    return LM_OK;
}

/* Open loop at rate_rps for duration_s: the trace generator's poisson or
 * constant pattern (docs/trace.md) for the cell's function, runtime and
 * payload, seeded by the spec's seed and the cell's id, so every run (and
 * a resumed one) sends the same schedule. */
int lm__exp_open_trace(const lm__exp_ctx *x, const lm_exp_cell *c, lm_trace **t, char *err) {
    lm_trace_gen_opts g;
    lm_trace_gen_defaults(&g);
    g.pattern = c->load->poisson ? "poisson" : "constant";
    g.seed = (uint64_t)x->spec->seed * 1000003u + (uint64_t)c->id;
    g.rate_rps = c->load->rate_rps;
    g.duration_s = c->load->duration_s;
    g.function = c->function;
    g.runtime = c->runtime;
    g.payload = c->payload;
    return lm_trace_gen(&g, t, err);
}

/* A trace's rows, each with its function, runtime, payload and start. */
static int trace_requests(const lm__exp_ctx *x, const lm_trace *t, batch *b, char *err) {
    if (alloc(b, t->nrows, err) != LM_OK) return LM_ERR;
    const char *last_fn = NULL, *last_rt = NULL, *last_pl = NULL, *path = NULL, *body = NULL;
    for (size_t i = 0; i < t->nrows; i++) {
        const lm_trace_row *r = &t->rows[i];
        if (r->payload->path)
            return lm_errf(err, "%s: file: payloads are not sent by experiments yet (row %zu)",
                           t->dir, i + 1);
        if (r->function != last_fn || r->runtime != last_rt) {
            path = keep(b, *r->runtime ? fmt("/function/%s@%s", r->function, r->runtime)
                                       : fmt("/function/%s%s", r->function, NULL));
            if (!path) return lm_errf(err, "out of memory");
        }
        if (r->function != last_fn || r->payload->text != last_pl) {
            body = x->body(x->body_arg, r->function, r->payload->text, err);
            if (!body) return LM_ERR;
        }
        last_fn = r->function;
        last_rt = r->runtime;
        last_pl = r->payload->text;
        b->reqs[i] =
            (lm_load_req){.offset_ns = (uint64_t)r->offset_us * 1000u,
                          .path = path,
                          .body = body,
                          .body_len = strlen(body),
                          .headers = r->start == LM_START_COLD ? "X-Lumos-Start: cold\r\n" : NULL};
    }
    return LM_OK;
}

/* One load run; each answered request's client times go to the database
 * (excluded as warm-up when warmup), the others are counted. */
static int drive(const lm__exp_ctx *x, const batch *b, lm_load_mode mode, unsigned concurrency,
                 const char *headers, int warmup, lm__cell_outcome *o, char *err) {
    lm_load_opts lo = {.url = x->url,
                       .mode = mode,
                       .concurrency = concurrency,
                       .timeout_ns = (uint64_t)x->spec->timeout_ms * 1000000u,
                       .headers = headers,
                       .stop = x->stop};
    lm_load_result res = {0};
    if (lm_load_run(b->reqs, b->n, &lo, &res, err) != LM_OK) {
        lm_load_result_free(&res);
        return LM_ERR;
    }
    for (size_t i = 0; i < res.nrecords; i++) {
        const lm_load_record *r = &res.records[i];
        if (r->send_ns) o->sent++;
        if (!r->request_id) {
            if (r->send_ns) o->failed_client++;
            continue;
        }
        lm_results_client_times t;
        lm_results_client_times_init(&t);
        t.id = (int64_t)r->request_id;
        t.intended_send_ns = (int64_t)r->intended_ns;
        t.send_ns = (int64_t)r->send_ns;
        if (r->receive_ns) t.receive_ns = (int64_t)r->receive_ns;
        t.excluded = warmup ? "warm-up" : NULL;
        if (warmup) o->warmup++;
        if (lm_results_add_client_times(x->db, &t, err) != LM_OK) {
            lm_load_result_free(&res);
            return LM_ERR;
        }
    }
    lm_load_result_free(&res);
    if (x->stop && *x->stop) return lm_errf(err, "stopped");
    return LM_OK;
}

int lm__exp_put_status(const lm__exp_ctx *x, const lm_exp_cell *c, const char *status,
                       const char *error, char *err) {
    lm_results_cell row;
    lm_results_cell_init(&row);
    row.id = c->id;
    row.status = status;
    row.error = error;
    if (strcmp(status, "running") == 0) {
        row.name = c->name;
        row.function = c->function;
        row.runtime = c->runtime;
        row.payload = c->payload;
        row.start = c->start == LM_EXP_COLD ? "cold" : c->start == LM_EXP_WARM ? "warm" : "any";
        const lm_exp_load *l = c->load;
        row.load = l->kind == LM_EXP_CLOSED ? "closed" : l->kind == LM_EXP_OPEN ? "open" : "trace";
        if (l->kind == LM_EXP_CLOSED) {
            row.concurrency = l->concurrency;
            row.planned_requests = l->requests;
        } else if (l->kind == LM_EXP_OPEN) {
            row.rate_rps = l->rate_rps; /* planned_requests: its schedule's, below */
        }
        row.repetition = c->repetition;
        row.node = c->node;
        row.network = c->network;
        row.started_ns = (int64_t)lm_now_ns();
    } else {
        row.finished_ns = (int64_t)lm_now_ns();
    }
    if (lm_results_put_cell(x->db, &row, err) != LM_OK) return LM_ERR;
    return lm_results_flush(x->db, err);
}

/* The requests an open-loop cell sends: as many as its schedule has. */
int lm__exp_put_planned(const lm__exp_ctx *x, const lm_exp_cell *c, int64_t n, char *err) {
    lm_results_cell row;
    lm_results_cell_init(&row);
    row.id = c->id;
    row.planned_requests = n;
    return lm_results_put_cell(x->db, &row, err);
}

int lm__exp_run_cell(const lm__exp_ctx *x, const lm_exp_cell *c, lm__cell_outcome *o, char *err) {
    memset(o, 0, sizeof *o);
    uint64_t t0 = lm_now_ns();
    if (lm_results_clear_cell(x->db, c->id, err) != LM_OK ||
        lm__exp_put_status(x, c, "running", NULL, err) != LM_OK)
        return LM_ERR;
    char headers[96];
    snprintf(headers, sizeof headers, "X-Lumos-Cell: %lld\r\n%s", (long long)c->id,
             c->start == LM_EXP_COLD ? "X-Lumos-Start: cold\r\n" : "");
    const lm_exp_load *l = c->load;
    batch b = {0};
    int rc = LM_OK;
    lm_trace *t = NULL;
    if (l->kind == LM_EXP_TRACE) {
        rc = lm_trace_read(l->trace, &t, err);
        if (rc == LM_OK) rc = trace_requests(x, t, &b, err);
        if (rc == LM_OK)
            rc = drive(x, &b, t->mode == LM_TRACE_CLOSED ? LM_LOAD_CLOSED : LM_LOAD_OPEN,
                       (unsigned)t->concurrency, headers, 0, o, err);
    } else {
        unsigned clients = l->kind == LM_EXP_CLOSED ? (unsigned)l->concurrency : 1;
        /* Warm cells: each client's warm-ups first, so that every instance
         * the measured requests may reach is started. */
        if (c->start == LM_EXP_WARM && x->spec->warmup > 0) {
            rc = same_requests(x, c, (size_t)x->spec->warmup * clients, &b, err);
            if (rc == LM_OK) rc = drive(x, &b, LM_LOAD_CLOSED, clients, headers, 1, o, err);
            batch_free(&b);
        }
        if (rc == LM_OK && l->kind == LM_EXP_CLOSED)
            rc = same_requests(x, c, (size_t)l->requests, &b, err);
        if (rc == LM_OK && l->kind == LM_EXP_OPEN) {
            rc = lm__exp_open_trace(x, c, &t, err);
            if (rc == LM_OK) rc = trace_requests(x, t, &b, err);
            if (rc == LM_OK) rc = lm__exp_put_planned(x, c, (int64_t)t->nrows, err);
        }
        if (rc == LM_OK)
            rc = drive(x, &b, l->kind == LM_EXP_CLOSED ? LM_LOAD_CLOSED : LM_LOAD_OPEN, clients,
                       headers, 0, o, err);
    }
    batch_free(&b);
    lm_trace_free(t);
    if (rc != LM_OK) return LM_ERR; /* stays `running`: --resume does it again */

    /* Every row of the cell is in the file, then the client's times. */
    int64_t rows = 0, mismatched = 0;
    if (lm__gw_flush(x->gw, err) != LM_OK ||
        lm_results_check_cell(x->db, c->id, c->start, &rows, &mismatched, err) != LM_OK)
        return LM_ERR;
    o->rows = (uint64_t)rows;
    o->excluded_start = (uint64_t)mismatched;
    char problem[200] = "";
    if (o->failed_client)
        snprintf(problem, sizeof problem, "%llu requests got no answer from the gateway",
                 (unsigned long long)o->failed_client);
    else if (o->rows != o->sent)
        snprintf(problem, sizeof problem, "%llu rows for %llu requests sent",
                 (unsigned long long)o->rows, (unsigned long long)o->sent);
    o->seconds = (double)(lm_now_ns() - t0) / 1e9;
    return lm__exp_put_status(x, c, "done", problem[0] ? problem : NULL, err);
}
