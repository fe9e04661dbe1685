/* cond.c -- a link condition: the compact and JSON parsers (strict) and
 * the formatter that the compact parser reads back (shape.h). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shape/internal.h"
#include "util/util.h"

#define NS_PER_MS 1000000ull
/* Bounds that keep every product below 2^64 and catch typos (a delay of a
 * day is a mistake, not a link). */
#define TIME_MAX_NS (3600ull * 1000000000ull)
#define RATE_MAX_BPS 1000000000000000ull /* 1 Pbit/s */

static const char *dist_names[] = {"normal", "uniform", "pareto-normal"};

const char *lm__shape_dist_name(lm_shape_dist d) { return (unsigned)d < 3 ? dist_names[d] : "?"; }

int lm__shape_dist_find(const char *s, size_t n, lm_shape_dist *out) {
    for (unsigned i = 0; i < 3; i++)
        if (strlen(dist_names[i]) == n && memcmp(dist_names[i], s, n) == 0) {
            *out = (lm_shape_dist)i;
            return LM_OK;
        }
    return LM_ERR;
}

/* A non-negative decimal number at the start of s[0..n): digits with an
 * optional fraction and exponent (what %.17g writes), no sign, no spaces,
 * no hex, inf or nan. *used gets its length. */
static int number(const char *s, size_t n, double *v, size_t *used) {
    size_t i = 0;
    while (i < n && isdigit((unsigned char)s[i]))
        i++;
    size_t digits = i;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, digits++;
    }
    if (digits == 0) return LM_ERR;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '-' || s[j] == '+')) j++;
        size_t k = j;
        while (k < n && isdigit((unsigned char)s[k]))
            k++;
        if (k > j && k - j <= 3)
            i = k;
        else
            return LM_ERR;
    }
    char buf[64];
    if (i >= sizeof(buf)) return LM_ERR;
    memcpy(buf, s, i);
    buf[i] = 0;
    errno = 0;
    *v = strtod(buf, NULL);
    if (errno || !isfinite(*v)) return LM_ERR;
    *used = i;
    return LM_OK;
}

static int unit_is(const char *u, size_t n, const char *name) {
    return strlen(name) == n && memcmp(u, name, n) == 0;
}

int lm__shape_time(const char *s, size_t n, uint64_t *out, char *err) {
    double v;
    size_t used;
    if (number(s, n, &v, &used) != LM_OK)
        return lm_errf(err, "'%.*s': not a time (e.g. 20ms, 1.5s, 2m)", (int)n, s);
    const char *u = s + used;
    size_t un = n - used;
    double mult;
    if (un == 0 || unit_is(u, un, "ms"))
        mult = 1e6;
    else if (unit_is(u, un, "ns"))
        mult = 1;
    else if (unit_is(u, un, "us"))
        mult = 1e3;
    else if (unit_is(u, un, "s"))
        mult = 1e9;
    else if (unit_is(u, un, "m"))
        mult = 60e9;
    else
        return lm_errf(err, "'%.*s': unknown time unit (ns, us, ms, s, m)", (int)n, s);
    double ns = v * mult;
    if (ns > (double)TIME_MAX_NS) return lm_errf(err, "'%.*s': more than an hour", (int)n, s);
    *out = (uint64_t)llround(ns);
    return LM_OK;
}

static int rate(const char *s, size_t n, uint64_t *out, char *err) {
    double v;
    size_t used;
    if (number(s, n, &v, &used) != LM_OK)
        return lm_errf(err, "'%.*s': not a rate (e.g. 100mbit)", (int)n, s);
    const char *u = s + used;
    size_t un = n - used;
    static const struct {
        const char *name;
        double mult;
    } units[] = {{"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9},
                 {"bps", 8}, {"kbps", 8e3}, {"mbps", 8e6}, {"gbps", 8e9}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (!unit_is(u, un, units[i].name)) continue;
        double bps = v * units[i].mult;
        if (bps > (double)RATE_MAX_BPS) return lm_errf(err, "'%.*s': too fast", (int)n, s);
        *out = (uint64_t)llround(bps);
        if (*out == 0) return lm_errf(err, "'%.*s': a rate must be at least 1bit", (int)n, s);
        return LM_OK;
    }
    return lm_errf(
        err, "'%.*s': a rate needs a unit (bit, kbit, mbit, gbit; kbps, mbps, gbps are bytes)",
        (int)n, s);
}

static int prob(const char *s, size_t n, double *out, char *err) {
    double v;
    size_t used;
    if (number(s, n, &v, &used) != LM_OK)
        return lm_errf(err, "'%.*s': not a probability (e.g. 1%% or 0.01)", (int)n, s);
    if (used + 1 == n && s[used] == '%')
        v /= 100;
    else if (used != n)
        return lm_errf(err, "'%.*s': not a probability (e.g. 1%% or 0.01)", (int)n, s);
    if (v > 1) return lm_errf(err, "'%.*s': a probability is at most 1 (100%%)", (int)n, s);
    *out = v;
    return LM_OK;
}

int lm__shape_cond_check(const lm_shape_cond *c, char *err) {
    if (c->reorder_gap_ns && c->reorder == 0)
        return lm_errf(err, "a reorder gap without a reorder probability");
    if (!(c->loss >= 0 && c->loss <= 1)) return lm_errf(err, "loss must be in [0, 1]");
    if (!(c->reorder >= 0 && c->reorder <= 1)) return lm_errf(err, "reorder must be in [0, 1]");
    if (c->rto_ns && c->rto_ns < NS_PER_MS) return lm_errf(err, "rto must be at least 1ms");
    if (c->delay_ns > TIME_MAX_NS || c->jitter_ns > TIME_MAX_NS ||
        c->reorder_gap_ns > TIME_MAX_NS || c->rto_ns > TIME_MAX_NS)
        return lm_errf(err, "a time of more than an hour");
    if (c->rate_bps > RATE_MAX_BPS) return lm_errf(err, "rate too fast");
    if ((unsigned)c->dist > LM_SHAPE_JITTER_PARETO_NORMAL)
        return lm_errf(err, "unknown jitter distribution");
    return LM_OK;
}

int lm_shape_cond_parse(const char *s, lm_shape_cond *out, char *err) {
    memset(out, 0, sizeof(*out));
    if (!s) return lm_errf(err, "no condition");
    if (!*s || strcmp(s, "none") == 0) return LM_OK;
    unsigned seen = 0;
    static const char *keys[] = {"delay", "jitter", "loss", "rate", "reorder", "rto"};
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (!eq) {
            lm_errf(err,
                    "condition: '%.*s' is not key=value (keys: delay, jitter, loss, rate, reorder, "
                    "rto)",
                    (int)n, p);
            goto bad;
        }
        size_t kn = (size_t)(eq - p);
        const char *v = eq + 1;
        size_t vn = n - kn - 1;
        unsigned k = 0;
        while (k < 6 && !(strlen(keys[k]) == kn && memcmp(keys[k], p, kn) == 0))
            k++;
        if (k == 6) {
            lm_errf(err,
                    "condition: unknown key '%.*s' (keys: delay, jitter, loss, rate, reorder, rto)",
                    (int)kn, p);
            goto bad;
        }
        if (seen & (1u << k)) {
            lm_errf(err, "condition: '%s' given twice", keys[k]);
            goto bad;
        }
        seen |= 1u << k;
        const char *colon = memchr(v, ':', vn);
        size_t head = colon ? (size_t)(colon - v) : vn;
        if (colon && k != 1 && k != 4) {
            lm_errf(err, "condition: '%.*s': only jitter and reorder take a ':' part", (int)n, p);
            goto bad;
        }
        int rc = LM_OK;
        switch (k) {
        case 0: rc = lm__shape_time(v, vn, &out->delay_ns, err); break;
        case 1:
            rc = lm__shape_time(v, head, &out->jitter_ns, err);
            if (rc == LM_OK && colon &&
                lm__shape_dist_find(colon + 1, vn - head - 1, &out->dist) != LM_OK)
                rc = lm_errf(err,
                             "'%.*s': unknown jitter distribution (normal, uniform, pareto-normal)",
                             (int)(vn - head - 1), colon + 1);
            break;
        case 2: rc = prob(v, vn, &out->loss, err); break;
        case 3: rc = rate(v, vn, &out->rate_bps, err); break;
        case 4:
            rc = prob(v, head, &out->reorder, err);
            if (rc == LM_OK && colon)
                rc = lm__shape_time(colon + 1, vn - head - 1, &out->reorder_gap_ns, err);
            break;
        case 5: rc = lm__shape_time(v, vn, &out->rto_ns, err); break;
        }
        if (rc != LM_OK) goto bad;
        if (!end) break;
        p = end + 1;
    }
    if (lm__shape_cond_check(out, err) != LM_OK) goto bad;
    return LM_OK;
bad:
    memset(out, 0, sizeof(*out));
    return LM_ERR;
}

/* A JSON number >= 0 (integer or real) into *v. */
static int json_num(json_t *j, const char *key, double *v, char *err) {
    if (!json_is_number(j)) return lm_errf(err, "condition: \"%s\" must be a number", key);
    *v = json_number_value(j);
    if (!isfinite(*v) || *v < 0) return lm_errf(err, "condition: \"%s\" must be >= 0", key);
    return LM_OK;
}

static int json_ms(json_t *j, const char *key, uint64_t *out, char *err) {
    double v;
    if (json_num(j, key, &v, err) != LM_OK) return LM_ERR;
    if (v * 1e6 > (double)TIME_MAX_NS)
        return lm_errf(err, "condition: \"%s\" more than an hour", key);
    *out = (uint64_t)llround(v * 1e6);
    return LM_OK;
}

int lm__shape_cond_from_json(json_t *j, lm_shape_cond *out, char *err) {
    memset(out, 0, sizeof(*out));
    if (json_is_string(j)) return lm_shape_cond_parse(json_string_value(j), out, err);
    if (!json_is_object(j)) return lm_errf(err, "condition: a string or an object");
    const char *key;
    json_t *v;
    int rc = LM_OK;
    json_object_foreach(j, key, v) {
        double d;
        if (strcmp(key, "rate_bps") == 0) {
            rc = json_num(v, key, &d, err);
            if (rc == LM_OK && (d > (double)RATE_MAX_BPS || (d > 0 && d < 1)))
                rc = lm_errf(err, "condition: \"rate_bps\" out of range");
            if (rc == LM_OK) out->rate_bps = (uint64_t)llround(d);
        } else if (strcmp(key, "delay_ms") == 0) {
            rc = json_ms(v, key, &out->delay_ns, err);
        } else if (strcmp(key, "jitter_ms") == 0) {
            rc = json_ms(v, key, &out->jitter_ns, err);
        } else if (strcmp(key, "reorder_gap_ms") == 0) {
            rc = json_ms(v, key, &out->reorder_gap_ns, err);
        } else if (strcmp(key, "rto_ms") == 0) {
            rc = json_ms(v, key, &out->rto_ns, err);
        } else if (strcmp(key, "loss") == 0 || strcmp(key, "reorder") == 0) {
            rc = json_num(v, key, &d, err);
            if (rc == LM_OK && d > 1)
                rc = lm_errf(err, "condition: \"%s\" is a probability in [0, 1]", key);
            if (rc == LM_OK) *(key[0] == 'l' ? &out->loss : &out->reorder) = d;
        } else if (strcmp(key, "jitter_dist") == 0) {
            const char *s = json_string_value(v);
            if (!s || lm__shape_dist_find(s, strlen(s), &out->dist) != LM_OK)
                rc = lm_errf(err,
                             "condition: \"jitter_dist\" is one of normal, uniform, pareto-normal");
        } else {
            rc = lm_errf(
                err,
                "condition: unknown key \"%s\" (rate_bps, delay_ms, jitter_ms, jitter_dist, loss, "
                "reorder, reorder_gap_ms, rto_ms)",
                key);
        }
        if (rc != LM_OK) break;
    }
    if (rc == LM_OK) rc = lm__shape_cond_check(out, err);
    if (rc != LM_OK) memset(out, 0, sizeof(*out));
    return rc;
}

int lm_shape_cond_parse_json(const char *text, lm_shape_cond *out, char *err) {
    memset(out, 0, sizeof(*out));
    json_error_t je;
    json_t *j = json_loads(text ? text : "", JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!j) return lm_errf(err, "condition: bad JSON at line %d: %s", je.line, je.text);
    int rc = lm__shape_cond_from_json(j, out, err);
    json_decref(j);
    return rc;
}

int lm_shape_cond_is_none(const lm_shape_cond *c) {
    return !c->rate_bps && !c->delay_ns && !c->jitter_ns && c->loss == 0 && c->reorder == 0 &&
           !c->reorder_gap_ns && !c->rto_ns && c->dist == LM_SHAPE_JITTER_NORMAL;
}

uint64_t lm_shape_rto_ns(const lm_shape_cond *c) {
    if (c->rto_ns) return c->rto_ns;
    uint64_t r = 2 * c->delay_ns + 8 * c->jitter_ns;
    return r > 200 * NS_PER_MS ? r : 200 * NS_PER_MS;
}

/* A probability in the shortest form that reads back exactly: a percentage
 * when one does ("1%"), else the plain number. */
static void fmt_prob(char *out, size_t n, double p) {
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(out, n, "%.*g%%", digits, p * 100);
        if (strtod(out, NULL) / 100 == p && !strchr(out, 'e')) return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(out, n, "%.*g", digits, p);
        if (strtod(out, NULL) == p) return;
    }
}

/* A time in the largest unit that holds it exactly. */
static void fmt_time(char *out, size_t n, uint64_t ns) {
    if (ns && ns % 1000000000ull == 0)
        snprintf(out, n, "%llus", (unsigned long long)(ns / 1000000000ull));
    else if (ns % 1000000ull == 0)
        snprintf(out, n, "%llums", (unsigned long long)(ns / 1000000ull));
    else if (ns % 1000ull == 0)
        snprintf(out, n, "%lluus", (unsigned long long)(ns / 1000ull));
    else
        snprintf(out, n, "%lluns", (unsigned long long)ns);
}

static void fmt_rate(char *out, size_t n, uint64_t bps) {
    if (bps % 1000000000ull == 0)
        snprintf(out, n, "%llugbit", (unsigned long long)(bps / 1000000000ull));
    else if (bps % 1000000ull == 0)
        snprintf(out, n, "%llumbit", (unsigned long long)(bps / 1000000ull));
    else if (bps % 1000ull == 0)
        snprintf(out, n, "%llukbit", (unsigned long long)(bps / 1000ull));
    else
        snprintf(out, n, "%llubit", (unsigned long long)bps);
}

char *lm_shape_cond_format(const lm_shape_cond *c, char *out, size_t n) {
    if (!n) return out;
    out[0] = 0;
    if (lm_shape_cond_is_none(c)) {
        snprintf(out, n, "none");
        return out;
    }
    char parts[6][64], t[40];
    int k = 0;
    if (c->delay_ns) fmt_time(t, sizeof t, c->delay_ns), snprintf(parts[k++], 64, "delay=%s", t);
    if (c->jitter_ns || c->dist != LM_SHAPE_JITTER_NORMAL) {
        fmt_time(t, sizeof t, c->jitter_ns);
        snprintf(parts[k++], 64, "jitter=%s:%s", t, lm__shape_dist_name(c->dist));
    }
    if (c->loss != 0) fmt_prob(t, sizeof t, c->loss), snprintf(parts[k++], 64, "loss=%s", t);
    if (c->rate_bps) fmt_rate(t, sizeof t, c->rate_bps), snprintf(parts[k++], 64, "rate=%s", t);
    if (c->reorder != 0 || c->reorder_gap_ns) {
        fmt_prob(t, sizeof t, c->reorder);
        int w = snprintf(parts[k], 64, "reorder=%s", t);
        if (c->reorder_gap_ns)
            fmt_time(t, sizeof t, c->reorder_gap_ns),
                snprintf(parts[k] + w, 64 - (size_t)w, ":%s", t);
        k++;
    }
    if (c->rto_ns) fmt_time(t, sizeof t, c->rto_ns), snprintf(parts[k++], 64, "rto=%s", t);
    size_t len = 0;
    for (int i = 0; i < k && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? "," : "", parts[i]);
    return out;
}
