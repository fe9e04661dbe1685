/* autoscaling.c -- a service's settings as Knative's per-revision
 * autoscaling annotations (serving's autoscaling.knative.dev keys), with
 * the rounding and ranges Knative's webhook enforces: windows and delays
 * in whole seconds, the stable window from 6 s to 1 h, the panic window
 * 1% to 100% of it, the panic threshold 110% to 1000%, the scale-down
 * delay at most 1 h. The target is absolute: target-utilization-percentage
 * is 100 (Knative's default of 70 would scale at 70% of it). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define KEY(k) "autoscaling.knative.dev/" k

static void put(json_t *o, const char *k, const char *fmt, ...) LM_PRINTF(3, 4);
static void put(json_t *o, const char *k, const char *fmt, ...) {
    char v[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof(v), fmt, ap);
    va_end(ap);
    json_object_set_new(o, k, json_string(v));
}

static void note(lm_buf *notes, const lm_service_spec *s, const char *fmt, ...) LM_PRINTF(3, 4);
static void note(lm_buf *notes, const lm_service_spec *s, const char *fmt, ...) {
    if (!notes) return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    lm_buf_printf(notes, "%s: %s\n", s->name[0] ? s->name : "defaults", line);
}

/* A number as Knative reads it back (strconv.ParseFloat): at most three
 * decimals, no trailing zeros ("0.7", "1", "33.333"). */
static void put_num(json_t *o, const char *k, double v) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%.3f", v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0')
            *end-- = 0;
        if (end == dot) *end = 0;
    }
    json_object_set_new(o, k, json_string(buf));
}

void *lm_deploy_autoscaling_annotations(const lm_service_spec *s, lm_buf *notes) {
    const lm_service_config *c = &s->cfg;
    json_t *a = json_object();
    put(a, KEY("class"), "kpa.autoscaling.knative.dev");
    put(a, KEY("metric"), "concurrency");
    double target = c->target;
    if (c->autoscaler == LM_AUTOSCALER_NONE) {
        /* No Knative mode starts an instance per waiting request; the
         * nearest: aim at full instances and panic at the first excess. */
        target = c->container_concurrency;
        note(notes, s,
             "autoscaler none has no Knative equivalent: KPA with target = "
             "container_concurrency (%d) and a panic threshold of 110%%",
             c->container_concurrency);
    }
    if (target < 0.01) {
        note(notes, s, "target %g is below Knative's least, 0.01: 0.01", target);
        target = 0.01;
    }
    put_num(a, KEY("target"), target);
    put(a, KEY("target-utilization-percentage"), "100");
    /* Windows in whole seconds. */
    long window = lround(c->stable_window_ms / 1000.0);
    if (window < 6 || window > 3600) {
        long w = window < 6 ? 6 : 3600;
        note(notes, s, "stable_window_ms %d is outside Knative's 6 s to 1 h: %ld s",
             c->stable_window_ms, w);
        window = w;
    } else if (window * 1000 != c->stable_window_ms) {
        note(notes, s, "stable_window_ms %d rounded to %ld s (Knative takes whole seconds)",
             c->stable_window_ms, window);
    }
    put(a, KEY("window"), "%lds", window);
    double panic_pct = 100.0 * c->panic_window_ms / (window * 1000.0);
    if (c->autoscaler == LM_AUTOSCALER_NONE) panic_pct = 1.0;
    if (panic_pct < 1.0 || panic_pct > 100.0) {
        double p = panic_pct < 1.0 ? 1.0 : 100.0;
        note(notes, s, "panic_window_ms %d is %.3g%% of the window, outside Knative's 1%% to 100%%",
             c->panic_window_ms, panic_pct);
        panic_pct = p;
    }
    put_num(a, KEY("panic-window-percentage"), panic_pct);
    double thr = c->autoscaler == LM_AUTOSCALER_NONE ? 110.0 : 100.0 * c->panic_threshold;
    put_num(a, KEY("panic-threshold-percentage"), thr);
    put(a, KEY("min-scale"), "%d", c->min_scale);
    put(a, KEY("max-scale"), "%d", c->max_scale);
    /* Lumos starts min_scale instances and scales from zero on the first
     * request; Knative's default starts one pod at once. initial-scale 0
     * needs allow-zero-initial-scale (02-config-autoscaler.yaml). */
    put(a, KEY("initial-scale"), "%d", c->min_scale);
    long delay = (c->idle_timeout_ms + 999) / 1000;
    if (delay > 3600) {
        note(notes, s, "idle_timeout_ms %d is above Knative's scale-down-delay of 1 h: 1 h",
             c->idle_timeout_ms);
        delay = 3600;
    } else if (delay * 1000 != c->idle_timeout_ms) {
        note(notes, s, "idle_timeout_ms %d rounded up to %ld s (scale-down-delay)",
             c->idle_timeout_ms, delay);
    }
    put(a, KEY("scale-down-delay"), "%lds", delay);
    return a;
}
