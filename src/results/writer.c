/* results.c -- the results store's batches: add_* copy rows into an
 * in-memory log, a flush (or the background writer) swaps it out and writes
 * it in one transaction. */
#include "results/internal.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A batch is one byte log of records, in the order they were added:
 *   rec_head, then the row struct as the caller passed it (its string
 *   pointers are meaningless there), then each string field of the kind as
 *   a uint32_t length (UINT32_MAX: NULL) and its bytes plus a NUL.
 * Reading it back copies the struct out and points its strings into the log,
 * which stays put while it is written. Nothing is allocated per row once the
 * log has grown to its working size. */
typedef struct {
    uint32_t kind;
    uint32_t len; /* of the whole record, head included */
} rec_head;

#define MAX_STR 10
typedef struct {
    size_t size;
    int nstr;
    size_t str[MAX_STR]; /* offsetof each const char * field */
    const char *table;
} kind_desc;

static const kind_desc kinds[LM_RK_COUNT] = {
    [LM_RK_SERVICE] = {sizeof(lm_results_service),
                       5,
                       {offsetof(lm_results_service, name), offsetof(lm_results_service, function),
                        offsetof(lm_results_service, runtime),
                        offsetof(lm_results_service, config_json),
                        offsetof(lm_results_service, platform)},
                       "services"},
    [LM_RK_INSTANCE] = {sizeof(lm_results_instance),
                        8,
                        {offsetof(lm_results_instance, id), offsetof(lm_results_instance, runtime),
                         offsetof(lm_results_instance, cgroup),
                         offsetof(lm_results_instance, end_reason),
                         offsetof(lm_results_instance, phases.clock),
                         offsetof(lm_results_instance, node), offsetof(lm_results_instance, pod),
                         offsetof(lm_results_instance, pod_uid)},
                        "instances"},
    [LM_RK_REQUEST] = {sizeof(lm_results_request),
                       5,
                       {offsetof(lm_results_request, instance_id),
                        offsetof(lm_results_request, error), offsetof(lm_results_request, excluded),
                        offsetof(lm_results_request, phases.clock),
                        offsetof(lm_results_request, node)},
                       "requests"},
    [LM_RK_SAMPLE] = {sizeof(lm_results_sample),
                      1,
                      {offsetof(lm_results_sample, instance_id)},
                      "samples"},
    [LM_RK_EVENT] = {sizeof(lm_results_event),
                     3,
                     {offsetof(lm_results_event, kind), offsetof(lm_results_event, instance_id),
                      offsetof(lm_results_event, detail_json)},
                     "events"},
    [LM_RK_CELL] = {sizeof(lm_results_cell),
                    10,
                    {offsetof(lm_results_cell, name), offsetof(lm_results_cell, function),
                     offsetof(lm_results_cell, runtime), offsetof(lm_results_cell, payload),
                     offsetof(lm_results_cell, start), offsetof(lm_results_cell, load),
                     offsetof(lm_results_cell, status), offsetof(lm_results_cell, error),
                     offsetof(lm_results_cell, node), offsetof(lm_results_cell, network)},
                    "cells"},
    [LM_RK_ARTIFACT] = {sizeof(lm_results_artifact),
                        4,
                        {offsetof(lm_results_artifact, function),
                         offsetof(lm_results_artifact, runtime),
                         offsetof(lm_results_artifact, kind), offsetof(lm_results_artifact, path)},
                        "artifacts"},
    [LM_RK_CLIENT] = {sizeof(lm_results_client_times),
                      1,
                      {offsetof(lm_results_client_times, excluded)},
                      "requests"},
};

/* ---- NULL-filled rows --------------------------------------------------- */

#define N LM_RESULTS_NULL
#define NULL_PHASES                                                                                \
    {                                                                                              \
        .placement_ns = N, .spawn_ns = N, .create_ns = N, .start_ns = N, .runtime_ns = N,          \
        .load_ns = N, .instantiate_ns = N, .init_ns = N, .ready_ns = N                             \
    }

void lm_results_service_init(lm_results_service *s) {
    *s = (lm_results_service){.id = N, .created_ns = N};
}

void lm_results_instance_init(lm_results_instance *i) {
    *i = (lm_results_instance){.service_id = N,
                               .pid = N,
                               .start_ns = N,
                               .spawn_ns = N,
                               .ready_ns = N,
                               .stop_ns = N,
                               .exit_status = N,
                               .placement_ms = NAN,
                               .cold_start_ms = NAN,
                               .phases = NULL_PHASES,
                               .placement_ahead_ns = N};
}

void lm_results_request_init(lm_results_request *r) {
    *r = (lm_results_request){.id = N,
                              .service_id = N,
                              .status_http = N,
                              .cold = N,
                              .intended_send_ns = N,
                              .send_ns = N,
                              .ingress_ns = N,
                              .queued_ns = N,
                              .acquired_ns = N,
                              .cold_begin_ns = N,
                              .cold_ready_ns = N,
                              .dispatch_ns = N,
                              .result_ns = N,
                              .response_ns = N,
                              .receive_ns = N,
                              .deser_ns = N,
                              .io_ns = N,
                              .compute_ns = N,
                              .ser_ns = N,
                              .func_total_ns = N,
                              .io_read_bytes = N,
                              .io_write_bytes = N,
                              .io_calls = N,
                              .cpu_user_ns = N,
                              .cpu_system_ns = N,
                              .cpu_ns = N,
                              .mem_peak_bytes = N,
                              .cell_id = N,
                              .phases = NULL_PHASES};
}

void lm_results_sample_init(lm_results_sample *s) {
    *s = (lm_results_sample){.t_ns = N,
                             .cpu_user_ns = N,
                             .cpu_system_ns = N,
                             .mem_current_bytes = N,
                             .mem_peak_bytes = N};
}

void lm_results_event_init(lm_results_event *e) {
    *e = (lm_results_event){.t_ns = N, .service_id = N};
}

void lm_results_cell_init(lm_results_cell *c) {
    *c = (lm_results_cell){.id = N,
                           .concurrency = N,
                           .rate_rps = NAN,
                           .repetition = N,
                           .service_id = N,
                           .planned_requests = N,
                           .started_ns = N,
                           .finished_ns = N};
}

void lm_results_artifact_init(lm_results_artifact *a) { *a = (lm_results_artifact){.bytes = N}; }

void lm_results_client_times_init(lm_results_client_times *t) {
    *t = (lm_results_client_times){.id = N, .intended_send_ns = N, .send_ns = N, .receive_ns = N};
}

#undef N

/* ---- adding (the producer's side) --------------------------------------- */

static int push(lm_results *r, int kind, const void *row, char *err) {
    if (!r || !row) return lm_errf(err, "results store: no handle or no row (nothing recorded)");
    const kind_desc *d = &kinds[kind];
    const char *s[MAX_STR];
    uint32_t sl[MAX_STR];
    size_t len = sizeof(rec_head) + d->size;
    for (int i = 0; i < d->nstr; i++) {
        memcpy(&s[i], (const char *)row + d->str[i], sizeof s[i]);
        size_t n = s[i] ? strlen(s[i]) : 0;
        if (n >= UINT32_MAX) return lm_errf(err, "results store: a string of %zu bytes", n);
        sl[i] = s[i] ? (uint32_t)n : UINT32_MAX;
        len += sizeof(uint32_t) + (s[i] ? n + 1 : 0);
    }
    pthread_mutex_lock(&r->mu);
    if (lm_buf_reserve(&r->active, len) != LM_OK) {
        pthread_mutex_unlock(&r->mu);
        return lm_errf(err, "results store: out of memory for a %s row", d->table);
    }
    char *p = r->active.data + r->active.len;
    rec_head h = {(uint32_t)kind, (uint32_t)len};
    memcpy(p, &h, sizeof h);
    p += sizeof h;
    memcpy(p, row, d->size);
    p += d->size;
    for (int i = 0; i < d->nstr; i++) {
        memcpy(p, &sl[i], sizeof sl[i]);
        p += sizeof sl[i];
        if (s[i]) {
            memcpy(p, s[i], sl[i] + 1);
            p += sl[i] + 1;
        }
    }
    r->active.len += len;
    r->active_rows++;
    r->stats.rows_added++;
    /* Wake the writer once, when the batch reaches its size. */
    if (r->background && r->active_rows == r->flush_rows) pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->mu);
    return LM_OK;
}

int lm_results_add_service(lm_results *r, const lm_results_service *row, char *err) {
    return push(r, LM_RK_SERVICE, row, err);
}
int lm_results_add_instance(lm_results *r, const lm_results_instance *row, char *err) {
    return push(r, LM_RK_INSTANCE, row, err);
}
int lm_results_update_instance(lm_results *r, const lm_results_instance *row, char *err) {
    return push(r, LM_RK_INSTANCE, row, err);
}
int lm_results_add_request(lm_results *r, const lm_results_request *row, char *err) {
    return push(r, LM_RK_REQUEST, row, err);
}
int lm_results_add_sample(lm_results *r, const lm_results_sample *row, char *err) {
    return push(r, LM_RK_SAMPLE, row, err);
}
int lm_results_add_event(lm_results *r, const lm_results_event *row, char *err) {
    return push(r, LM_RK_EVENT, row, err);
}
int lm_results_put_cell(lm_results *r, const lm_results_cell *row, char *err) {
    return push(r, LM_RK_CELL, row, err);
}
int lm_results_add_artifact(lm_results *r, const lm_results_artifact *row, char *err) {
    return push(r, LM_RK_ARTIFACT, row, err);
}
int lm_results_add_client_times(lm_results *r, const lm_results_client_times *row, char *err) {
    return push(r, LM_RK_CLIENT, row, err);
}

/* ---- writing (under write_mu) ------------------------------------------- */

static void b_i64(sqlite3_stmt *st, int i, int64_t v) {
    if (v == LM_RESULTS_NULL)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, v);
}
static void b_dbl(sqlite3_stmt *st, int i, double v) {
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}
static void b_txt(sqlite3_stmt *st, int i, const char *s) {
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* A cold start's phases at parameters base + 1 .. base + 10. */
static void bind_phases(sqlite3_stmt *st, int base, const lm_results_phases *p) {
    const int64_t v[] = {p->placement_ns,   p->spawn_ns,   p->create_ns,
                         p->start_ns,       p->runtime_ns, p->load_ns,
                         p->instantiate_ns, p->init_ns,    p->ready_ns};
    for (int i = 0; i < (int)(sizeof v / sizeof v[0]); i++)
        b_i64(st, base + i + 1, v[i]);
    b_txt(st, base + 10, p->clock);
}

/* A request row's LM__RESULTS_REQUEST_COLUMNS values at parameters base + 1 .. */
static void bind_request(sqlite3_stmt *st, int base, const lm_results_request *q) {
    const int64_t v[] = {q->id,
                         q->service_id,
                         0 /* instance_id */,
                         q->status_http,
                         q->cold,
                         q->intended_send_ns,
                         q->send_ns,
                         q->ingress_ns,
                         q->queued_ns,
                         q->acquired_ns,
                         q->cold_begin_ns,
                         q->cold_ready_ns,
                         q->dispatch_ns,
                         q->result_ns,
                         q->response_ns,
                         q->receive_ns,
                         q->deser_ns,
                         q->io_ns,
                         q->compute_ns,
                         q->ser_ns,
                         q->func_total_ns,
                         q->io_read_bytes,
                         q->io_write_bytes,
                         q->io_calls,
                         q->cpu_user_ns,
                         q->cpu_system_ns,
                         q->mem_peak_bytes};
    for (int i = 0; i < (int)(sizeof v / sizeof v[0]); i++)
        if (i != 2) b_i64(st, base + i + 1, v[i]);
    b_txt(st, base + 3, q->instance_id);
    b_txt(st, base + 28, q->error);
    b_i64(st, base + 29, q->cpu_ns);
    b_i64(st, base + 30, q->cell_id);
    b_txt(st, base + 31, q->excluded);
    bind_phases(st, base + 31, &q->phases);
    b_txt(st, base + 42, q->node);
}

/* Binds one record's row (strings point into the log). */
static void bind_row(sqlite3_stmt *st, int kind, const void *row) {
    switch (kind) {
    case LM_RK_SERVICE: {
        const lm_results_service *s = row;
        b_i64(st, 1, s->id);
        b_txt(st, 2, s->name);
        b_txt(st, 3, s->function);
        b_txt(st, 4, s->runtime);
        b_txt(st, 5, s->config_json);
        b_i64(st, 6, s->created_ns);
        b_txt(st, 7, s->platform);
        break;
    }
    case LM_RK_INSTANCE: {
        const lm_results_instance *x = row;
        b_txt(st, 1, x->id);
        b_i64(st, 2, x->service_id);
        b_txt(st, 3, x->runtime);
        b_i64(st, 4, x->pid);
        b_txt(st, 5, x->cgroup);
        b_i64(st, 6, x->start_ns);
        b_i64(st, 7, x->spawn_ns);
        b_i64(st, 8, x->ready_ns);
        b_i64(st, 9, x->stop_ns);
        b_txt(st, 10, x->end_reason);
        b_i64(st, 11, x->exit_status);
        b_dbl(st, 12, x->placement_ms);
        b_dbl(st, 13, x->cold_start_ms);
        bind_phases(st, 13, &x->phases);
        b_i64(st, 24, x->placement_ahead_ns);
        b_txt(st, 25, x->node);
        b_txt(st, 26, x->pod);
        b_txt(st, 27, x->pod_uid);
        break;
    }
    case LM_RK_REQUEST: bind_request(st, 0, row); break;
    case LM_RK_CELL: {
        const lm_results_cell *c = row;
        b_i64(st, 1, c->id);
        b_txt(st, 2, c->name);
        b_txt(st, 3, c->function);
        b_txt(st, 4, c->runtime);
        b_txt(st, 5, c->payload);
        b_txt(st, 6, c->start);
        b_txt(st, 7, c->load);
        b_i64(st, 8, c->concurrency);
        b_dbl(st, 9, c->rate_rps);
        b_i64(st, 10, c->repetition);
        b_i64(st, 11, c->service_id);
        b_i64(st, 12, c->planned_requests);
        b_txt(st, 13, c->status);
        b_i64(st, 14, c->started_ns);
        b_i64(st, 15, c->finished_ns);
        b_txt(st, 16, c->error);
        b_txt(st, 17, c->node);
        b_txt(st, 18, c->network);
        break;
    }
    case LM_RK_ARTIFACT: {
        const lm_results_artifact *a = row;
        b_txt(st, 1, a->function);
        b_txt(st, 2, a->runtime);
        b_txt(st, 3, a->kind);
        b_txt(st, 4, a->path);
        b_i64(st, 5, a->bytes);
        break;
    }
    case LM_RK_CLIENT: {
        const lm_results_client_times *t = row;
        b_i64(st, 1, t->id);
        b_i64(st, 2, t->intended_send_ns);
        b_i64(st, 3, t->send_ns);
        b_i64(st, 4, t->receive_ns);
        b_txt(st, 5, t->excluded);
        break;
    }
    case LM_RK_SAMPLE: {
        const lm_results_sample *s = row;
        b_txt(st, 1, s->instance_id);
        b_i64(st, 2, s->t_ns);
        b_i64(st, 3, s->cpu_user_ns);
        b_i64(st, 4, s->cpu_system_ns);
        b_i64(st, 5, s->mem_current_bytes);
        b_i64(st, 6, s->mem_peak_bytes);
        break;
    }
    case LM_RK_EVENT: {
        const lm_results_event *e = row;
        b_i64(st, 1, e->t_ns);
        b_txt(st, 2, e->kind);
        b_i64(st, 3, e->service_id);
        b_txt(st, 4, e->instance_id);
        b_txt(st, 5, e->detail_json);
        break;
    }
    }
}

/* The record at off in b into *h and *row (its strings point into b);
 * returns the offset of the next record. */
static size_t decode(const lm_buf *b, size_t off, rec_head *h, lm__results_row *row) {
    memcpy(h, b->data + off, sizeof *h);
    const kind_desc *d = &kinds[h->kind];
    const char *p = b->data + off + sizeof *h;
    memcpy(row, p, d->size);
    p += d->size;
    for (int i = 0; i < d->nstr; i++) {
        uint32_t n;
        memcpy(&n, p, sizeof n);
        p += sizeof n;
        const char *s = n == UINT32_MAX ? NULL : p;
        memcpy((char *)row + d->str[i], &s, sizeof s);
        if (s) p += n + 1;
    }
    return off + h->len;
}

/* A hint for the user by the kind of failure. */
static const char *hint(int code) {
    switch (code) {
    case SQLITE_READONLY_DBMOVED: return "the file was moved or deleted while open: open a new one";
    case SQLITE_FULL: return "the disk is full";
    case SQLITE_BUSY: return "another process holds a lock on it: stop it or use another file";
    default:
        if ((code & 0xff) == SQLITE_READONLY) return "the file or its folder is not writable";
        if ((code & 0xff) == SQLITE_IOERR) return "check the disk and that the folder still exists";
        return "check the file and the disk";
    }
}

/* A row the database refuses on its own (the transaction stays usable). */
static int row_error(int code) {
    int c = code & 0xff;
    return c == SQLITE_CONSTRAINT || c == SQLITE_MISMATCH || c == SQLITE_TOOBIG;
}

/* Writes the log b (rows records) in one transaction. Counts into *written,
 * *rejected and *lost. LM_OK, or LM_ERR with err (the first problem). */
static int write_log(lm_results *r, const lm_buf *b, uint64_t rows, uint64_t *written,
                     uint64_t *rejected, uint64_t *lost, char *err) {
    *written = *rejected = *lost = 0;
    if (rows == 0) return LM_OK;
    /* In WAL mode SQLite keeps writing into a file that was deleted (or
     * whose folder was) while open, and the rows would vanish silently. */
    int moved = 0;
    if (sqlite3_file_control(r->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved) {
        *lost = rows;
        return lm_errf(err, "results database %s: writing failed (%s): %llu rows lost", r->path,
                       hint(SQLITE_READONLY_DBMOVED), (unsigned long long)rows);
    }
    int rc = sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        *lost = rows;
        return lm_errf(err, "results database %s: cannot begin a write (%s: %s): %llu rows lost",
                       r->path, sqlite3_errmsg(r->db), hint(sqlite3_extended_errcode(r->db)),
                       (unsigned long long)rows);
    }
    int failed = 0;
    uint64_t ok = 0;
    lm__results_row row;
    lm__results_row *group = r->group;
    for (size_t off = 0; off < b->len;) {
        rec_head h;
        off = decode(b, off, &h, &row);
        /* Requests go LM_RESULTS_MULTI at a time in one INSERT when they
         * come in a run: a third of the cost of a row is the statement's
         * own. A group the database refuses is written row by row. */
        if (h.kind == LM_RK_REQUEST && r->multi) {
            size_t n = 0, next = off;
            group[n++] = row;
            while (n < LM_RESULTS_MULTI && next < b->len) {
                rec_head h2;
                memcpy(&h2, b->data + next, sizeof h2);
                if (h2.kind != LM_RK_REQUEST) break;
                next = decode(b, next, &h2, &group[n++]);
            }
            if (n == LM_RESULTS_MULTI) {
                for (size_t j = 0; j < n; j++)
                    bind_request(r->multi, (int)(j * LM__RESULTS_REQUEST_COLUMNS), &group[j].q);
                rc = sqlite3_step(r->multi);
                sqlite3_reset(r->multi);
                if (rc == SQLITE_DONE) {
                    ok += n;
                    off = next;
                    continue;
                }
            }
        }
        const kind_desc *d = &kinds[h.kind];
        sqlite3_stmt *st = r->st[h.kind];
        bind_row(st, (int)h.kind, &row);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE) {
            ok++;
            continue;
        }
        int code = sqlite3_extended_errcode(r->db);
        if (row_error(code) && !sqlite3_get_autocommit(r->db)) {
            if (!failed)
                lm_errf(err, "results database %s: a %s row was refused (%s)", r->path, d->table,
                        sqlite3_errmsg(r->db));
            failed = 1;
            (*rejected)++;
            continue;
        }
        lm_errf(err, "results database %s: writing %s failed (%s: %s): %llu rows lost", r->path,
                d->table, sqlite3_errmsg(r->db), hint(code),
                (unsigned long long)(rows - *rejected));
        if (!sqlite3_get_autocommit(r->db)) sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        *lost = rows - *rejected;
        return LM_ERR;
    }
    rc = sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int code = sqlite3_extended_errcode(r->db);
        lm_errf(err, "results database %s: committing failed (%s: %s): %llu rows lost", r->path,
                sqlite3_errmsg(r->db), hint(code), (unsigned long long)ok);
        if (!sqlite3_get_autocommit(r->db)) sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        *lost = ok;
        return LM_ERR;
    }
    *written = ok;
    return failed ? LM_ERR : LM_OK;
}

int lm__results_drain(lm_results *r, char *err) {
    pthread_mutex_lock(&r->write_mu);
    pthread_mutex_lock(&r->mu);
    lm_buf t = r->active;
    r->active = r->spare;
    r->spare = t;
    uint64_t rows = r->active_rows;
    r->active_rows = 0;
    pthread_mutex_unlock(&r->mu);

    uint64_t written, rejected, lost;
    int rc = write_log(r, &r->spare, rows, &written, &rejected, &lost, err);
    r->spare.len = 0;

    pthread_mutex_lock(&r->mu);
    r->stats.rows_written += written;
    r->stats.rows_rejected += rejected;
    r->stats.rows_lost += lost;
    if (rows && written + rejected == rows) r->stats.flushes++;
    pthread_mutex_unlock(&r->mu);
    pthread_mutex_unlock(&r->write_mu);
    return rc;
}

/* ---- the writer thread --------------------------------------------------- */

static void *writer(void *arg) {
    lm_results *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += r->flush_ms / 1000;
        dl.tv_nsec += (long)(r->flush_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        while (!r->stop && r->active_rows < r->flush_rows)
            if (pthread_cond_timedwait(&r->wake, &r->mu, &dl) == ETIMEDOUT) break;
        if (r->stop) break;
        if (r->active_rows == 0) continue;
        pthread_mutex_unlock(&r->mu);
        char e[LM_ERRLEN];
        int rc = lm__results_drain(r, e);
        pthread_mutex_lock(&r->mu);
        if (rc != LM_OK && !r->bg_failed) {
            r->bg_failed = 1;
            memcpy(r->bg_err, e, sizeof e);
        }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- open, flush, close ------------------------------------------------- */

static void free_handle(lm_results *r) {
    lm__results_db_close(r);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->write_mu);
    pthread_cond_destroy(&r->wake);
    lm_buf_free(&r->active);
    lm_buf_free(&r->spare);
    free(r->path);
    free(r);
}

lm_results *lm_results_open(const char *path, const lm_results_opts *opts, char *err) {
    if (!path || !*path) {
        lm_errf(err, "results store: no database file name given");
        return NULL;
    }
    lm_results_opts o = opts ? *opts : (lm_results_opts){0};
    lm_results *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        lm_errf(err, "results store: out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->write_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->wake, &ca);
    pthread_condattr_destroy(&ca);
    r->flush_ms = o.flush_ms ? o.flush_ms : 200;
    r->flush_rows = o.flush_rows ? o.flush_rows : 4096;
    if (lm__results_db_open(r, &o, err) != LM_OK) {
        free_handle(r);
        return NULL;
    }
    if (o.background) {
        r->background = 1;
        int rc = pthread_create(&r->thread, NULL, writer, r);
        if (rc != 0) {
            lm_errf(err, "results database %s: cannot start the writer thread (%s)", path,
                    strerror(rc));
            free_handle(r);
            return NULL;
        }
    }
    return r;
}

int lm_results_flush(lm_results *r, char *err) {
    if (!r) return lm_errf(err, "results store: flush without a handle");
    int rc = lm__results_drain(r, err);
    pthread_mutex_lock(&r->mu);
    if (r->bg_failed) {
        if (rc == LM_OK && err) memcpy(err, r->bg_err, LM_ERRLEN);
        r->bg_failed = 0;
        rc = LM_ERR;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void lm_results_stats_get(lm_results *r, lm_results_stats *out) {
    memset(out, 0, sizeof *out);
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    out->rows_pending =
        r->stats.rows_added - r->stats.rows_written - r->stats.rows_rejected - r->stats.rows_lost;
    pthread_mutex_unlock(&r->mu);
}

const char *lm_results_path(const lm_results *r) { return r ? r->path : NULL; }

void lm_results_close(lm_results *r) {
    if (!r) return;
    if (r->background) {
        pthread_mutex_lock(&r->mu);
        r->stop = 1;
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
    }
    char err[LM_ERRLEN];
    if (lm_results_flush(r, err) != LM_OK) fprintf(stderr, "lumos: %s\n", err);
    if (r->db && lm__results_db_index(r, err) != LM_OK) fprintf(stderr, "lumos: %s\n", err);
    free_handle(r);
}
