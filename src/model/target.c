/* target.c -- what --predict and --holdout name (model.h): "F@R" and
 * comma-separated key=value parts, checked strictly (a fuzz harness,
 * tests/fuzz/fuzz_model_target.c, reads any bytes through it). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"

static int number(const char *s, int suffixes, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v)) return LM_ERR;
    if (suffixes && *end) {
        static const struct {
            const char *sfx;
            double mult;
        } units[] = {{"k", 1e3},
                     {"M", 1e6},
                     {"G", 1e9},
                     {"Ki", 1024},
                     {"Mi", 1024.0 * 1024},
                     {"Gi", 1024.0 * 1024 * 1024}};
        size_t i = 0;
        while (i < sizeof units / sizeof units[0] && strcmp(end, units[i].sfx) != 0)
            i++;
        if (i == sizeof units / sizeof units[0]) return LM_ERR;
        v *= units[i].mult;
        end += strlen(end);
    }
    if (*end || !isfinite(v)) return LM_ERR;
    *out = v;
    return LM_OK;
}

static int copy(char *dst, size_t n, const char *s, size_t len) {
    if (len == 0 || len >= n) return LM_ERR;
    memcpy(dst, s, len);
    dst[len] = 0;
    return LM_OK;
}

static void target_init(lm_model_target *t) {
    memset(t, 0, sizeof *t);
    t->size = NAN;
    t->rate_rps = NAN;
    t->concurrency = LM__MODEL_NONE;
}

/* The key=value parts of s (comma-separated) into t. */
static int parse_keys(const char *p, lm_model_target *t, char *err) {
    while (p) {
        const char *k = p, *e = strchr(k, ','), *eq = strchr(k, '=');
        size_t len = e ? (size_t)(e - k) : strlen(k);
        if (!eq || (size_t)(eq - k) >= len || eq == k)
            return lm_errf(err,
                           "'%.*s': want key=value (start, size, payload, load, concurrency, "
                           "rate)",
                           (int)(len > 100 ? 100 : len), k);
        size_t kl = (size_t)(eq - k), vl = len - kl - 1;
        char key[16], val[128];
        if (copy(key, sizeof key, k, kl) != LM_OK || copy(val, sizeof val, eq + 1, vl) != LM_OK)
            return lm_errf(err, "'%.*s': the key or value is empty or too long",
                           (int)(len > 100 ? 100 : len), k);
        double v;
        if (strcmp(key, "start") == 0) {
            if (strcmp(val, "cold") != 0 && strcmp(val, "warm") != 0)
                return lm_errf(err, "start=%s: start is cold or warm", val);
            snprintf(t->start, sizeof t->start, "%.5s", val);
        } else if (strcmp(key, "size") == 0) {
            if (number(val, 1, &v) != LM_OK || !(v > 0) || v > 1e18)
                return lm_errf(err,
                               "size=%s: want a number above 0, at most 1e18 (suffixes k, M, G, "
                               "Ki, Mi, Gi)",
                               val);
            t->size = v;
        } else if (strcmp(key, "payload") == 0) {
            snprintf(t->payload, sizeof t->payload, "%s", val);
        } else if (strcmp(key, "load") == 0) {
            if (strcmp(val, "closed") != 0 && strcmp(val, "open") != 0 && strcmp(val, "trace") != 0)
                return lm_errf(err, "load=%s: load is closed, open or trace", val);
            snprintf(t->load, sizeof t->load, "%.6s", val);
        } else if (strcmp(key, "concurrency") == 0) {
            if (number(val, 0, &v) != LM_OK || v < 1 || v > 1e6 || v != floor(v))
                return lm_errf(err, "concurrency=%s: want a whole number of clients, 1 or more",
                               val);
            t->concurrency = (int64_t)v;
        } else if (strcmp(key, "rate") == 0) {
            if (number(val, 0, &v) != LM_OK || !(v > 0) || v > 1e9)
                return lm_errf(err, "rate=%s: want requests per second above 0", val);
            t->rate_rps = v;
        } else {
            return lm_errf(err, "'%s': unknown key (start, size, payload, load, concurrency, rate)",
                           key);
        }
        p = e ? e + 1 : NULL;
    }
    if (!isnan(t->size) && t->payload[0])
        return lm_errf(err, "size and payload both say the size: give one");
    if (t->concurrency != LM__MODEL_NONE && !isnan(t->rate_rps))
        return lm_errf(err, "concurrency (closed loop) and rate (open loop): give one");
    return LM_OK;
}

int lm_model_target_parse(const char *s, lm_model_target *t, char *err) {
    target_init(t);
    const char *comma = strchr(s, ','), *at = strchr(s, '@');
    size_t head = comma ? (size_t)(comma - s) : strlen(s);
    if (!at || (size_t)(at - s) >= head)
        return lm_errf(err, "'%.100s': say the function and runtime first: F@R[,key=value]...", s);
    if (copy(t->function, sizeof t->function, s, (size_t)(at - s)) != LM_OK ||
        copy(t->runtime, sizeof t->runtime, at + 1, head - (size_t)(at - s) - 1) != LM_OK)
        return lm_errf(err, "'%.*s': the function or runtime is empty or too long",
                       (int)(head > 100 ? 100 : head), s);
    return parse_keys(comma ? comma + 1 : NULL, t, err);
}

int lm_model_holdout_parse(const char *s, lm_model_target *t, char *err) {
    target_init(t);
    if (parse_keys(s, t, err) != LM_OK) return LM_ERR;
    int n = (t->payload[0] != 0) + !isnan(t->size) + (t->concurrency != LM__MODEL_NONE) +
            !isnan(t->rate_rps);
    if (n != 1 || t->start[0] || t->load[0])
        return lm_errf(err,
                       "'%.100s': hold out one level: payload=P, size=X, concurrency=N or "
                       "rate=R",
                       s);
    return LM_OK;
}
