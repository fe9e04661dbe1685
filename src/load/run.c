/* run.c -- lm_load_run: the load client's one epoll loop. Open loop: a
 * timer-driven sender that sleeps in epoll_pwait2 (nanosecond timeout,
 * timer slack 1 ns) until spin_ns before the next send time, then
 * busy-waits to it, and gives each request an idle connection, a new one
 * while the pool is under its cap, or else the first connection that
 * frees (the request is then "waited"). Closed loop: `concurrency`
 * requests always in flight, each client sending its next as soon as its
 * answer is in. Timeouts come off a list ordered by deadline (every
 * request has the same timeout, so the order of sending is that order). */
#include "load/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256

static void fill_defaults(lm_load_opts *o, size_t n) {
    if (o->concurrency == 0) o->concurrency = 1;
    if (o->requests == 0) o->requests = n;
    if (o->max_connections == 0) o->max_connections = 1024;
    if (o->timeout_ns == 0) o->timeout_ns = 10000000000ull;
    if (o->late_ns == 0) o->late_ns = 1000000;
    if (o->spin_ns == 0) o->spin_ns = 50000;
    if (o->spin_ns < 0) o->spin_ns = 0;
    if (o->hist_digits == 0) o->hist_digits = 3;
    if (o->progress_ms == 0) o->progress_ms = 250;
}

static int resolve(lm__run *r, char *err) {
    const char *h = strcmp(r->target.host, "localhost") == 0 ? "127.0.0.1" : r->target.host;
    memset(&r->addr, 0, sizeof(r->addr));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&r->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&r->addr;
    if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)r->target.port);
        r->addrlen = sizeof(*a4);
    } else if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)r->target.port);
        r->addrlen = sizeof(*a6);
    } else {
        return lm_errf(err, "%s: not a numeric address", h);
    }
    return LM_OK;
}

/* A new record for reqs[req] meant for time intended; its index, or -1. */
static int64_t new_record(lm__run *r, size_t req, uint64_t intended) {
    if (r->nrec == r->caprec) {
        size_t cap = r->caprec ? r->caprec * 2 : 1024;
        lm_load_record *p = realloc(r->rec, cap * sizeof(*p));
        if (!p) return -1;
        r->rec = p;
        r->caprec = cap;
    }
    lm_load_record *q = &r->rec[r->nrec];
    memset(q, 0, sizeof(*q));
    q->req = (uint32_t)req;
    q->intended_ns = intended;
    r->st->requests++;
    return (int64_t)r->nrec++;
}

void lm__run_note_error(lm__run *r, size_t rec, int kind, int e, const char *msg) {
    lm_load_record *q = &r->rec[rec];
    q->error = (uint8_t)kind;
    q->sys_errno = e;
    r->st->errors[kind]++;
    if (kind == LM_LOAD_E_TIMEOUT || kind == LM_LOAD_E_UNSENT || kind == LM_LOAD_E_STOPPED)
        r->st->dropped++;
    char *first = r->out->first_error[kind];
    if (!first[0]) {
        if (msg && *msg)
            snprintf(first, sizeof(r->out->first_error[0]), "%s", msg);
        else
            lm_load_record_error(q, first, sizeof(r->out->first_error[0]));
    }
}

static void idle_push(lm__run *r, lm__conn *c) {
    c->idle_pos = r->nidle;
    r->idle[r->nidle++] = c;
}

static void idle_remove(lm__run *r, lm__conn *c) {
    if (c->idle_pos < 0) return;
    lm__conn *last = r->idle[--r->nidle];
    r->idle[c->idle_pos] = last;
    last->idle_pos = c->idle_pos;
    c->idle_pos = -1;
}

/* Open loop: the next request is due (or overdue) and a connection is
 * free or may be opened. Returns 1 when it was handled (sent, or failed
 * to connect), 0 when it must wait for a connection. */
static int open_send_next(lm__run *r) {
    size_t i = r->next;
    lm__conn *c = NULL;
    if (r->nidle > 0) {
        c = r->idle[r->nidle - 1];
        idle_remove(r, c);
    } else {
        int e;
        c = lm__conn_open(r, &e);
        if (!c && e) {
            r->next++;
            lm__run_note_error(r, i, LM_LOAD_E_CONNECT, e, NULL);
            return 1;
        }
        if (!c) return 0;
    }
    r->next++;
    lm__conn_assign(r, c, i);
    return 1;
}

/* Open loop: sends every request whose time has come, as connections
 * allow; marks the ones that must wait. */
static void open_dispatch(lm__run *r, uint64_t now) {
    while (!r->stopping && r->next < r->n && r->rec[r->next].intended_ns <= now) {
        if (!open_send_next(r)) {
            if (r->marked < r->next) r->marked = r->next;
            while (r->marked < r->n && r->rec[r->marked].intended_ns <= now) {
                r->rec[r->marked++].waited = 1;
                r->st->waited++;
            }
            return;
        }
    }
}

/* Closed loop: a new request on a new connection for each missing
 * client (at most concurrency tries, so a refusing server cannot hold
 * the loop). */
static void closed_top_up(lm__run *r) {
    for (unsigned tries = 0; tries < r->o.concurrency && r->in_flight < r->o.concurrency; tries++) {
        if (r->stopping || (r->bounded && r->next >= r->total)) return;
        int e;
        lm__conn *c = lm__conn_open(r, &e);
        if (!c && !e) return;
        int64_t i = new_record(r, r->next % r->n, lm_now_ns());
        if (i < 0) {
            r->stopping = 1;
            if (c) lm__conn_close(r, c);
            return;
        }
        r->next++;
        if (!c)
            lm__run_note_error(r, (size_t)i, LM_LOAD_E_CONNECT, e, NULL);
        else
            lm__conn_assign(r, c, (size_t)i);
    }
}

void lm__run_conn_free(lm__run *r, lm__conn *c, int keep_open) {
    if (!keep_open) {
        idle_remove(r, c);
        return; /* the loop opens what is missing */
    }
    if (r->o.mode == LM_LOAD_CLOSED) {
        if (r->stopping || (r->bounded && r->next >= r->total)) {
            idle_push(r, c);
            return;
        }
        int64_t i = new_record(r, r->next % r->n, lm_now_ns());
        if (i < 0) {
            r->stopping = 1;
            idle_push(r, c);
            return;
        }
        r->next++;
        lm__conn_assign(r, c, (size_t)i);
        return;
    }
    /* Open loop: a request waiting for a connection takes it at once. */
    if (!r->stopping && r->next < r->n && r->rec[r->next].intended_ns <= lm_now_ns()) {
        size_t i = r->next++;
        lm__conn_assign(r, c, i);
        return;
    }
    idle_push(r, c);
}

static void expire(lm__run *r, uint64_t now) {
    while (r->head && r->head->deadline <= now)
        lm__conn_fail(r, r->head, LM_LOAD_E_TIMEOUT, 0, NULL);
}

static void cpu_now(uint64_t *user, uint64_t *sys) {
    struct rusage ru;
#ifdef RUSAGE_THREAD
    getrusage(RUSAGE_THREAD, &ru);
#else
    getrusage(RUSAGE_SELF, &ru);
#endif
    *user = (uint64_t)ru.ru_utime.tv_sec * 1000000000ull + (uint64_t)ru.ru_utime.tv_usec * 1000;
    *sys = (uint64_t)ru.ru_stime.tv_sec * 1000000000ull + (uint64_t)ru.ru_stime.tv_usec * 1000;
}

static int wait_events(lm__run *r, uint64_t wake, uint64_t now) {
    struct epoll_event evs[MAX_EVENTS];
    uint64_t d = wake > now ? wake - now : 0;
    if (d > 1000000000u) d = 1000000000u; /* look at the clock and the stop flag each second */
    struct timespec ts = {.tv_sec = (time_t)(d / 1000000000u), .tv_nsec = (long)(d % 1000000000u)};
    int n = epoll_pwait2(r->ep, evs, MAX_EVENTS, &ts, NULL);
    if (n < 0 && errno == ENOSYS) /* kernels before 5.11: whole milliseconds, rounded down
                                     (the last one is polled, not slept) */
        n = epoll_wait(r->ep, evs, MAX_EVENTS, (int)(d / 1000000));
    for (int k = 0; k < n; k++) {
        uint32_t slot = (uint32_t)evs[k].data.u64, gen = (uint32_t)(evs[k].data.u64 >> 32);
        lm__conn *c = slot < r->nslots ? r->slots[slot] : NULL;
        if (!c || c->gen != gen || c->state == LM__CONN_FREE) continue; /* closed since */
        lm__conn_event(r, c, evs[k].events);
    }
    return n;
}

static void spin_until(uint64_t t) {
    while (lm_now_ns() < t) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

static void loop(lm__run *r) {
    const lm_load_opts *o = &r->o;
    int open = o->mode == LM_LOAD_OPEN;
    uint64_t send_end = o->duration_ns ? r->start + o->duration_ns : UINT64_MAX;
    uint64_t next_progress = r->start + (uint64_t)o->progress_ms * 1000000u;
    for (;;) {
        uint64_t now = lm_now_ns();
        if (!r->stopping && (now >= send_end || (o->stop && *o->stop))) r->stopping = 1;
        if (o->stop && *o->stop) break;
        if (open)
            open_dispatch(r, now);
        else
            closed_top_up(r);
        expire(r, now);
        int more = open ? r->next < r->n : !r->bounded || r->next < r->total;
        if ((r->stopping || !more) && r->in_flight == 0) break;
        if (o->progress && now >= next_progress) {
            r->st->end_ns = now;
            o->progress(o->progress_arg, r->st);
            next_progress = now + (uint64_t)o->progress_ms * 1000000u;
        }
        uint64_t wake = o->progress ? next_progress : UINT64_MAX;
        if (r->head && r->head->deadline < wake) wake = r->head->deadline;
        if (!r->stopping && send_end < wake) wake = send_end;
        uint64_t t_send = 0;
        if (open && !r->stopping && r->next < r->n && (r->nidle > 0 || r->nfree > 0)) {
            t_send = r->rec[r->next].intended_ns;
            uint64_t early = t_send > (uint64_t)o->spin_ns ? t_send - (uint64_t)o->spin_ns : 0;
            if (early < wake) wake = early;
        }
        /* A closed-loop client short of its connection tries again at once. */
        if (!open && !r->stopping && more && r->in_flight < o->concurrency) wake = now;
        wait_events(r, wake, now);
        if (t_send) {
            uint64_t t = lm_now_ns();
            if (t < t_send && t_send - t <= (uint64_t)o->spin_ns) spin_until(t_send);
        }
    }
}

/* What is left at the end: requests never sent, answers never come. */
static void finish(lm__run *r) {
    while (r->head)
        lm__conn_fail(r, r->head, LM_LOAD_E_STOPPED, 0, NULL);
    if (r->o.mode == LM_LOAD_OPEN) {
        for (; r->next < r->n; r->next++)
            lm__run_note_error(r, r->next, LM_LOAD_E_UNSENT, 0, NULL);
    } else if (r->bounded) {
        for (; r->next < r->total; r->next++) {
            int64_t i = new_record(r, r->next % r->n, 0);
            if (i < 0) break;
            lm__run_note_error(r, (size_t)i, LM_LOAD_E_UNSENT, 0, NULL);
        }
    }
    for (uint32_t s = 0; s < r->nslots; s++)
        if (r->slots[s]) lm__conn_close(r, r->slots[s]);
}

static int setup(lm__run *r, const lm_load_req *reqs, size_t n, char *err) {
    if (!reqs || n == 0) return lm_errf(err, "load: no requests to send");
    if (n > UINT32_MAX) return lm_errf(err, "load: too many requests (%zu)", n);
    if (lm_load_parse_url(r->o.url, &r->target, err) != LM_OK) return LM_ERR;
    if (resolve(r, err) != LM_OK) return LM_ERR;
    if (r->o.mode != LM_LOAD_OPEN && r->o.mode != LM_LOAD_CLOSED)
        return lm_errf(err, "load: mode must be open or closed");
    for (size_t i = 0; i < n; i++) {
        const lm_load_req *q = &reqs[i];
        if (r->o.mode == LM_LOAD_OPEN && i > 0 && q->offset_ns < reqs[i - 1].offset_ns)
            return lm_errf(err,
                           "load: request %zu is meant for %llu ns, before request %zu's %llu ns "
                           "(open-loop requests must be sorted by offset)",
                           i, (unsigned long long)q->offset_ns, i - 1,
                           (unsigned long long)reqs[i - 1].offset_ns);
        if (q->body_len && !q->body) return lm_errf(err, "load: request %zu has no body", i);
    }
    r->reqs = reqs;
    r->n = n;
    r->bounded = r->o.requests != LM_LOAD_UNBOUNDED;
    if (r->o.mode == LM_LOAD_CLOSED && !r->bounded && !r->o.duration_ns && !r->o.stop)
        return lm_errf(err, "load: a closed loop without a request count needs a duration");
    r->total = r->o.requests;
    r->nslots = r->o.mode == LM_LOAD_OPEN ? r->o.max_connections : r->o.concurrency;
    r->slots = calloc(r->nslots, sizeof(*r->slots));
    r->free_slots = malloc(r->nslots * sizeof(*r->free_slots));
    r->idle = malloc(r->nslots * sizeof(*r->idle));
    r->buflen = 64 * 1024;
    r->buf = malloc(r->buflen);
    lm_load_result *out = r->out;
    out->corrected = lm_hist_new(r->o.hist_digits, 0, err);
    out->uncorrected = lm_hist_new(r->o.hist_digits, 0, err);
    out->send_lag = lm_hist_new(r->o.hist_digits, 0, err);
    if (!out->corrected || !out->uncorrected || !out->send_lag) return LM_ERR;
    if (!r->slots || !r->free_slots || !r->idle || !r->buf)
        return lm_errf(err, "load: out of memory");
    for (uint32_t s = 0; s < r->nslots; s++)
        r->free_slots[r->nfree++] = r->nslots - 1 - s;
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    if (r->ep < 0) return lm_errf(err, "load: epoll_create1: %s", strerror(errno));
    return LM_OK;
}

static void teardown(lm__run *r) {
    for (uint32_t s = 0; r->slots && s < r->nslots; s++) {
        if (!r->slots[s]) continue;
        lm_buf_free(&r->slots[s]->out);
        free(r->slots[s]);
    }
    free(r->slots);
    free(r->free_slots);
    free(r->idle);
    free(r->buf);
    if (r->ep >= 0) close(r->ep);
}

int lm_load_run(const lm_load_req *reqs, size_t n, const lm_load_opts *opts, lm_load_result *out,
                char *err) {
    memset(out, 0, sizeof(*out));
    if (!opts) return lm_errf(err, "load: no options");
    lm__run r = {.o = *opts, .ep = -1, .out = out, .st = &out->stats};
    fill_defaults(&r.o, n);
    r.st->late_ns = r.o.late_ns;
    int rc = setup(&r, reqs, n, err);
    if (rc == LM_OK && r.o.mode == LM_LOAD_OPEN) {
        for (size_t i = 0; i < n; i++)
            if (new_record(&r, i, 0) < 0) {
                rc = lm_errf(err, "load: out of memory for %zu records", n);
                break;
            }
    }
    if (rc != LM_OK) {
        teardown(&r);
        out->records = r.rec;
        out->nrecords = r.nrec;
        return LM_ERR;
    }
    int old_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
    uint64_t u0, s0, u1, s1;
    cpu_now(&u0, &s0);
    r.start = lm_now_ns();
    r.st->start_ns = r.start;
    if (r.o.mode == LM_LOAD_OPEN)
        for (size_t i = 0; i < n; i++)
            r.rec[i].intended_ns = r.start + reqs[i].offset_ns;
    loop(&r);
    finish(&r);
    r.st->end_ns = lm_now_ns();
    cpu_now(&u1, &s1);
    if (old_slack > 0) prctl(PR_SET_TIMERSLACK, (unsigned long)old_slack, 0, 0, 0);
    r.st->cpu_user_ns = u1 - u0;
    r.st->cpu_system_ns = s1 - s0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r.st->max_rss_bytes = (uint64_t)ru.ru_maxrss * 1024u;
    if (r.st->last_receive_ns > r.start)
        r.st->achieved_rps =
            (double)r.st->completed * 1e9 / (double)(r.st->last_receive_ns - r.start);
    teardown(&r);
    out->records = r.rec;
    out->nrecords = r.nrec;
    return LM_OK;
}

void lm_load_result_free(lm_load_result *r) {
    if (!r) return;
    free(r->records);
    lm_hist_free(r->corrected);
    lm_hist_free(r->uncorrected);
    lm_hist_free(r->send_lag);
    memset(r, 0, sizeof(*r));
}

const char *lm_load_error_name(int kind) {
    static const char *const names[LM_LOAD_E_COUNT] = {"",         "connect", "write",  "closed",
                                                       "protocol", "timeout", "unsent", "stopped"};
    return kind >= 0 && kind < LM_LOAD_E_COUNT ? names[kind] : "unknown";
}

char *lm_load_record_error(const lm_load_record *q, char *out, size_t n) {
    if (!q->error)
        snprintf(out, n, "%s", "");
    else if (q->sys_errno)
        snprintf(out, n, "%s: %s", lm_load_error_name(q->error), strerror(q->sys_errno));
    else
        snprintf(out, n, "%s", lm_load_error_name(q->error));
    return out;
}
