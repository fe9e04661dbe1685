/* reaper.c -- one thread, a FIFO of instances to stop. */
#include "reaper.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct job {
    lm_instance inst;
    int grace_ms;
    lm_reaped_fn done;
    void *arg;
    struct job *next;
} job;

struct lm_reaper {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    int pending; /* queued or being stopped */
    int quit;
};

static void stop_one(job *j) {
    lm_instance *inst = &j->inst;
    int status = inst->exited ? inst->exit_status : -1;
    if (inst->child.pid > 0) {
        /* EOF on its stdin asks it to end; after the grace, SIGKILL. */
        if (inst->child.in >= 0) close(inst->child.in);
        inst->child.in = -1;
        if (lm_child_wait(&inst->child, j->grace_ms, &status) != LM_OK) {
            kill(inst->child.pid, SIGKILL);
            if (waitpid(inst->child.pid, &status, 0) < 0) status = -1;
        }
        inst->child.pid = -1;
    }
    uint64_t stop_ns = lm_now_ns();
    lm_instance_stop(inst, 0); /* the clean-up: pipes, runtime, cgroup */
    if (j->done) j->done(j->arg, inst, status, stop_ns);
}

static void *loop(void *arg) {
    lm_reaper *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->head && !r->quit)
            pthread_cond_wait(&r->cv, &r->mu);
        if (!r->head) break; /* quit, and nothing left */
        job *j = r->head;
        r->head = j->next;
        if (!r->head) r->tail = NULL;
        pthread_mutex_unlock(&r->mu);
        stop_one(j);
        free(j);
        pthread_mutex_lock(&r->mu);
        r->pending--;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

lm_reaper *lm_reaper_start(char *err) {
    lm_reaper *r = calloc(1, sizeof(*r));
    if (!r) {
        lm_errf(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, loop, r) != 0) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cv);
        free(r);
        lm_errf(err, "cannot start the reaper thread");
        return NULL;
    }
    return r;
}

void lm_reaper_stop(lm_reaper *r, const lm_instance *inst, int grace_ms, lm_reaped_fn done,
                    void *arg) {
    job *j = malloc(sizeof(*j));
    if (!j || !r) {
        job local = {*inst, grace_ms, done, arg, NULL};
        stop_one(&local);
        free(j);
        return;
    }
    *j = (job){*inst, grace_ms, done, arg, NULL};
    pthread_mutex_lock(&r->mu);
    if (r->tail)
        r->tail->next = j;
    else
        r->head = j;
    r->tail = j;
    r->pending++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

int lm_reaper_pending(lm_reaper *r) {
    pthread_mutex_lock(&r->mu);
    int n = r->pending;
    pthread_mutex_unlock(&r->mu);
    return n;
}

void lm_reaper_free(lm_reaper *r) {
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->quit = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
