/* pool_scale.c -- a service's autoscaler on the loop: a timer every tick_ms
 * asks autoscaler.c for a decision from the concurrency observed, logs the
 * decisions that change something as "scale" events, and starts or retires
 * instances to follow them. */
#include "platform/internal.h"

#include <stdio.h>
#include <stdlib.h>

static void on_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    lm__scale_tick(arg);
}

static void kpa_config(const lm_service_config *c, lm_kpa_config *k) {
    lm_kpa_config_defaults(k);
    k->target = c->target;
    k->stable_window_ms = c->stable_window_ms;
    k->panic_window_ms = c->panic_window_ms;
    k->panic_threshold = c->panic_threshold;
    k->tick_ms = c->tick_ms;
    k->min_scale = c->min_scale;
    k->max_scale = c->max_scale;
}

int lm__scale_setup(lm_service *s, char *err) {
    lm__scale_free(s);
    if (s->cfg.autoscaler != LM_AUTOSCALER_KPA) return LM_OK;
    lm_kpa_config k;
    kpa_config(&s->cfg, &k);
    if (lm_kpa_config_check(&k, err) != LM_OK) return LM_ERR;
    s->kpa = lm_kpa_new(&k, lm_now_ns());
    s->tick = event_new(s->pool->base, -1, EV_PERSIST, on_tick, s);
    if (!s->kpa || !s->tick) {
        lm__scale_free(s);
        return lm_errf(err, "out of memory");
    }
    lm_kpa_observe(s->kpa, lm_now_ns(), s->load + s->queued);
    struct timeval tv = {s->cfg.tick_ms / 1000, (s->cfg.tick_ms % 1000) * 1000};
    event_add(s->tick, &tv);
    return LM_OK;
}

void lm__scale_free(lm_service *s) {
    if (s->tick) event_free(s->tick);
    lm_kpa_free(s->kpa);
    s->tick = NULL;
    s->kpa = NULL;
}

void lm__scale_tick(lm_service *s) {
    if (!s->kpa) return;
    lm_kpa_decision d;
    lm_kpa_decide(s->kpa, lm_now_ns(), s->ninstances, &d);
    s->decision = d;
    if (d.changed) {
        char json[512];
        lm_kpa_decision_json(&d, json, sizeof(json));
        lm__pool_event(s, "scale", NULL, json);
    }
    char err[LM_ERRLEN];
    /* Up: new instances take the queue as they become ready. An idle
     * timeout of 0 means "every request cold": nothing is started ahead. */
    if (s->cfg.idle_timeout_ms > 0 || s->queued > 0) {
        while (s->ninstances < d.desired)
            if (!lm__inst_start(s, NULL, err)) {
                fprintf(stderr, "lumos serve: %s: %s\n", s->name, err);
                break;
            }
    }
    /* Down: idle instances go now, busy ones when they are done. */
    int floor = d.desired > s->cfg.min_scale ? d.desired : s->cfg.min_scale;
    int excess = s->ninstances - floor;
    for (pool_inst *pi = s->instances, *next; pi && excess > 0; pi = next) {
        next = pi->next;
        if (pi->retiring) {
            excess--;
        } else if (pi->ready && pi->load == 0) {
            lm__inst_retire(pi, "scale-down", 1000);
            excess--;
        }
    }
    for (pool_inst *pi = s->instances; pi && excess > 0; pi = pi->next)
        if (!pi->retiring && pi->ready) {
            pi->retiring = 1;
            excess--;
        }
}
