/* sampler.c -- the background sampler: a thread that reads every
 * registered instance once per interval (lm_telemetry_read) and hands each
 * reading to a callback. */
#include "telemetry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_S 1000000000ull

typedef struct {
    char id[64]; /* "" = a free slot */
    lm_cgroup cg;
    pid_t pid;
} entry;

struct lm_sampler {
    pthread_t thread;
    pthread_mutex_t mu;    /* guards entries, n, cap, stop */
    pthread_mutex_t sweep; /* held while a round reads and calls back */
    pthread_cond_t wake;
    entry *entries;
    int n, cap;
    int stop;
    uint64_t interval_ns;
    lm_sampler_fn cb;
    void *arg;
};

static struct timespec mono_ts(uint64_t ns) {
    struct timespec ts = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};
    return ts;
}

static void *sampler_main(void *p) {
    lm_sampler *s = p;
    uint64_t next = lm_now_ns() + s->interval_ns;
    entry *e = malloc(sizeof(*e));
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->stop && lm_now_ns() < next) {
            struct timespec ts = mono_ts(next);
            pthread_cond_timedwait(&s->wake, &s->mu, &ts);
        }
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop) break;
        /* The next round is due an interval after this one was due; a
         * round that overran starts the next at once, without catching up. */
        next += s->interval_ns;
        uint64_t now = lm_now_ns();
        if (next < now) next = now;
        pthread_mutex_lock(&s->sweep);
        for (int i = 0; e; i++) {
            pthread_mutex_lock(&s->mu);
            int more = i < s->n;
            int used = more && s->entries[i].id[0];
            if (used) *e = s->entries[i];
            pthread_mutex_unlock(&s->mu);
            if (!more) break;
            if (!used) continue;
            lm_usage u;
            char err[LM_ERRLEN];
            int rc = lm_telemetry_read(&e->cg, e->pid, &u, err);
            s->cb(s->arg, e->id, lm_now_ns(), rc == LM_OK ? &u : NULL);
        }
        pthread_mutex_unlock(&s->sweep);
    }
    free(e);
    return NULL;
}

lm_sampler *lm_sampler_start(int interval_ms, lm_sampler_fn cb, void *arg, char *err) {
    if (interval_ms < 1 || !cb) {
        lm_errf(err, "sampler: interval_ms must be 1 or more and cb not NULL (got %d)",
                interval_ms);
        return NULL;
    }
    lm_sampler *s = calloc(1, sizeof(*s));
    if (!s) {
        lm_errf(err, "sampler: out of memory");
        return NULL;
    }
    s->interval_ns = (uint64_t)interval_ms * 1000000ull;
    s->cb = cb;
    s->arg = arg;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->sweep, NULL);
    int e = pthread_create(&s->thread, NULL, sampler_main, s);
    if (e != 0) {
        lm_errf(err, "sampler: cannot start its thread: %s", strerror(e));
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->mu);
        pthread_mutex_destroy(&s->sweep);
        free(s);
        return NULL;
    }
    return s;
}

int lm_sampler_add(lm_sampler *s, const char *instance_id, const lm_cgroup *cg, pid_t pid) {
    if (!s || !instance_id || !instance_id[0] || strlen(instance_id) >= sizeof(((entry *)0)->id))
        return LM_ERR;
    int has_cg = cg && cg->version && cg->ndirs;
    if (!has_cg && pid <= 0) return LM_ERR;
    int rc = LM_ERR, slot = -1;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->entries[i].id, instance_id) == 0) goto out; /* a duplicate */
        if (!s->entries[i].id[0] && slot < 0) slot = i;
    }
    if (slot < 0) {
        if (s->n == s->cap) {
            int cap = s->cap ? s->cap * 2 : 8;
            entry *v = realloc(s->entries, (size_t)cap * sizeof(*v));
            if (!v) goto out;
            s->entries = v;
            s->cap = cap;
        }
        slot = s->n++;
    }
    entry *e = &s->entries[slot];
    memset(e, 0, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "%s", instance_id);
    if (has_cg) e->cg = *cg;
    e->pid = pid;
    rc = LM_OK;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void lm_sampler_remove(lm_sampler *s, const char *instance_id) {
    if (!s || !instance_id) return;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++)
        if (s->entries[i].id[0] && strcmp(s->entries[i].id, instance_id) == 0)
            s->entries[i].id[0] = 0;
    pthread_mutex_unlock(&s->mu);
    /* Wait for a round in progress (which may have read it already), unless
     * this is that round's callback. */
    if (!pthread_equal(pthread_self(), s->thread)) {
        pthread_mutex_lock(&s->sweep);
        pthread_mutex_unlock(&s->sweep);
    }
}

void lm_sampler_stop(lm_sampler *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->sweep);
    free(s->entries);
    free(s);
}
