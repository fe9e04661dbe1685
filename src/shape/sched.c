/* sched.c -- a schedule of conditions: the text and JSON parsers, the
 * lookup by time (shape.h). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shape/internal.h"
#include "util/util.h"

/* More steps than any experiment needs; bounds what a parser allocates. */
#define STEPS_MAX 10000

static int add(lm_shape_sched *s, size_t *cap, uint64_t at, const lm_shape_cond *c, char *err) {
    if (s->n && at <= s->steps[s->n - 1].at_ns)
        return lm_errf(err, "schedule: step %zu: times must increase strictly", s->n + 1);
    if (s->n == STEPS_MAX) return lm_errf(err, "schedule: more than %d steps", STEPS_MAX);
    if (s->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        lm_shape_step *p = realloc(s->steps, nc * sizeof(*p));
        if (!p) return lm_errf(err, "schedule: out of memory");
        s->steps = p, *cap = nc;
    }
    s->steps[s->n].at_ns = at;
    s->steps[s->n].cond = *c;
    s->n++;
    return LM_OK;
}

static int parse_json(const char *text, lm_shape_sched *out, char *err) {
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!j) return lm_errf(err, "schedule: bad JSON at line %d: %s", je.line, je.text);
    int rc = LM_OK;
    size_t cap = 0, i;
    json_t *e;
    if (!json_is_array(j) || json_array_size(j) == 0) {
        rc = lm_errf(err, "schedule: a non-empty array of {\"at_s\", \"condition\"}");
        goto done;
    }
    json_array_foreach(j, i, e) {
        json_t *at = json_object_get(e, "at_s"), *c = json_object_get(e, "condition");
        if (!json_is_object(e) || json_object_size(e) != 2 || !json_is_number(at) || !c) {
            rc = lm_errf(err, "schedule: step %zu must be {\"at_s\": SECONDS, \"condition\": ...}",
                         i + 1);
            break;
        }
        double s = json_number_value(at);
        if (!isfinite(s) || s < 0 || s > 86400.0 * 365) {
            rc = lm_errf(err, "schedule: step %zu: at_s must be in [0, one year]", i + 1);
            break;
        }
        lm_shape_cond cond;
        char cerr[LM_ERRLEN];
        if (lm__shape_cond_from_json(c, &cond, cerr) != LM_OK) {
            rc = lm_errf(err, "schedule: step %zu: %s", i + 1, cerr);
            break;
        }
        if ((rc = add(out, &cap, (uint64_t)llround(s * 1e9), &cond, err)) != LM_OK) break;
    }
done:
    json_decref(j);
    return rc;
}

/* One step of the text form, s[0..n) without comment, trimmed. */
static int text_step(const char *s, size_t n, int only, lm_shape_sched *out, size_t *cap,
                     char *err) {
    size_t sp = 0;
    while (sp < n && !isspace((unsigned char)s[sp]))
        sp++;
    char buf[1024], cerr[LM_ERRLEN];
    lm_shape_cond c;
    uint64_t at = 0;
    const char *cs = s;
    size_t cn = n;
    if (sp == n && (memchr(s, '=', n) || (n == 4 && memcmp(s, "none", 4) == 0))) {
        if (!only)
            return lm_errf(err, "schedule: step %zu: '%.*s' needs its time (e.g. '2m %.*s')",
                           out->n + 1, (int)n, s, (int)n, s);
    } else {
        if (sp == n)
            return lm_errf(
                err, "schedule: step %zu: '%.*s' is not 'AT CONDITION' (e.g. '2m delay=200ms')",
                out->n + 1, (int)n, s);
        if (!isalpha((unsigned char)s[sp - 1]))
            return lm_errf(err, "schedule: step %zu: '%.*s' needs a unit (s, m, ms)", out->n + 1,
                           (int)sp, s);
        if (lm__shape_time(s, sp, &at, cerr) != LM_OK)
            return lm_errf(err, "schedule: step %zu: %s", out->n + 1, cerr);
        cs = s + sp, cn = n - sp;
        while (cn && isspace((unsigned char)*cs))
            cs++, cn--;
        for (size_t k = 0; k < cn; k++)
            if (isspace((unsigned char)cs[k]))
                return lm_errf(err, "schedule: step %zu: no spaces inside a condition", out->n + 1);
    }
    if (cn >= sizeof(buf))
        return lm_errf(err, "schedule: step %zu: condition too long", out->n + 1);
    memcpy(buf, cs, cn);
    buf[cn] = 0;
    if (lm_shape_cond_parse(buf, &c, cerr) != LM_OK)
        return lm_errf(err, "schedule: step %zu: %s", out->n + 1, cerr);
    return add(out, cap, at, &c, err);
}

int lm_shape_sched_parse(const char *text, lm_shape_sched *out, char *err) {
    memset(out, 0, sizeof(*out));
    if (!text) return lm_errf(err, "schedule: no text");
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    int rc = LM_OK;
    if (*p == '[') {
        rc = parse_json(p, out, err);
    } else {
        /* Split into trimmed steps first, so a lone condition can be told apart. */
        size_t cap = 0, nsteps = 0;
        for (int pass = 0; pass < 2 && rc == LM_OK; pass++) {
            const char *q = text;
            while (*q && rc == LM_OK) {
                size_t n = strcspn(q, ";\n#");
                const char *a = q, *b = q + n;
                while (a < b && isspace((unsigned char)*a))
                    a++;
                while (b > a && isspace((unsigned char)b[-1]))
                    b--;
                if (b > a) {
                    if (pass == 0)
                        nsteps++;
                    else
                        rc = text_step(a, (size_t)(b - a), nsteps == 1, out, &cap, err);
                }
                q += n;
                if (*q == '#') q += strcspn(q, "\n");
                if (*q) q++;
            }
        }
        if (rc == LM_OK && nsteps == 0) rc = lm_errf(err, "schedule: no steps");
    }
    if (rc != LM_OK) lm_shape_sched_free(out);
    return rc;
}

int lm_shape_sched_const(const lm_shape_cond *c, lm_shape_sched *out, char *err) {
    memset(out, 0, sizeof(*out));
    size_t cap = 0;
    return add(out, &cap, 0, c, err);
}

int lm__shape_sched_copy(const lm_shape_sched *s, lm_shape_sched *out, char *err) {
    memset(out, 0, sizeof(*out));
    if (!s || !s->n) return LM_OK;
    out->steps = malloc(s->n * sizeof(*s->steps));
    if (!out->steps) return lm_errf(err, "schedule: out of memory");
    memcpy(out->steps, s->steps, s->n * sizeof(*s->steps));
    out->n = s->n;
    return LM_OK;
}

int lm__shape_sched_is_none(const lm_shape_sched *s) {
    for (size_t i = 0; s && i < s->n; i++)
        if (!lm_shape_cond_is_none(&s->steps[i].cond)) return 0;
    return 1;
}

const lm_shape_cond *lm_shape_sched_at(const lm_shape_sched *s, uint64_t t) {
    static const lm_shape_cond none;
    if (!s || !s->n || t < s->steps[0].at_ns) return &none;
    /* The last step at or before t (binary search: schedules may be long). */
    size_t lo = 0, hi = s->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->steps[mid].at_ns <= t)
            lo = mid;
        else
            hi = mid;
    }
    return &s->steps[lo].cond;
}

void lm_shape_sched_free(lm_shape_sched *s) {
    if (!s) return;
    free(s->steps);
    s->steps = NULL;
    s->n = 0;
}
