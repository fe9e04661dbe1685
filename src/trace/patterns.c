/* patterns.c -- the arrival processes of `lumos trace gen` (gen.h), each a
 * sequence of send offsets handed to an emit callback. Their parameters
 * have been checked by gen.c.
 *
 * constant, poisson, onoff, ramp and step are one method: a rate function
 * lambda(t) over [0, S), its integral Lambda(t), and arrivals at
 * t_k = Lambda^-1(y_k), where y_k are the arrivals of a unit-rate process:
 * y_k = k (k = 0, 1, ...; deterministic arrivals, the first at 0) or the
 * partial sums of Exp(1) draws (a Poisson process; by the time change
 * theorem the t_k are then a Poisson process of rate lambda(t)). Arrivals
 * stop at the first y_k >= Lambda(S). mmpp, delayed and closed have their
 * own loops below. Offsets are t_k in microseconds, rounded to nearest. */
#include <math.h>

#include "trace/internal.h"

typedef struct {
    const lm_trace_gen_opts *o;
    lm__pattern kind;                   /* constant or poisson (one rate), onoff, ramp, step */
    double rate;                        /* P_RATE, P_ONOFF */
    double total;                       /* Lambda(S) */
    size_t step;                        /* P_STEP: the step y last fell in (y only grows) */
    double cum[LM_TRACE_MAX_STEPS + 1]; /* P_STEP: Lambda at each step's start */
} timechange;

/* Lambda^-1(y) in seconds, for 0 <= y < Lambda(S). */
static double inverse(timechange *c, double y) {
    const lm_trace_gen_opts *o = c->o;
    switch (c->kind) {
    case LM__ONOFF: {
        /* Lambda grows by rate * on_s in each period of on_s + off_s. */
        double per = c->rate * o->on_s, k = floor(y / per);
        return k * (o->on_s + o->off_s) + (y - k * per) / c->rate;
    }
    case LM__RAMP: {
        /* Lambda(t) = r1 t + (r2 - r1) t^2 / (2 S): the root of the quadratic
         * in the form that loses no precision when r2 - r1 is small. */
        double r1 = o->from_rps, d = (o->to_rps - o->from_rps) / o->duration_s;
        if (y <= 0) return 0;
        return 2 * y / (r1 + sqrt(r1 * r1 + 2 * d * y));
    }
    case LM__STEP: {
        while (c->step + 1 < o->nsteps && y >= c->cum[c->step + 1])
            c->step++;
        /* The step holds y, so its rate is > 0. */
        return (double)c->step * o->step_s + (y - c->cum[c->step]) / o->steps_rps[c->step];
    }
    default: return y / c->rate;
    }
}

static void setup(timechange *c, lm__pattern p, const lm_trace_gen_opts *o) {
    c->o = o;
    c->kind = p;
    c->step = 0;
    double S = o->duration_s;
    switch (p) {
    case LM__ONOFF: {
        double per = o->on_s + o->off_s, full = floor(S / per);
        c->rate = o->rate_rps;
        c->total = o->rate_rps * (full * o->on_s + fmin(S - full * per, o->on_s));
        break;
    }
    case LM__RAMP: c->total = (o->from_rps + o->to_rps) / 2 * S; break;
    case LM__STEP:
        c->cum[0] = 0;
        for (size_t i = 0; i < o->nsteps; i++)
            c->cum[i + 1] = c->cum[i] + o->steps_rps[i] * o->step_s;
        c->total = c->cum[o->nsteps];
        break;
    default: c->rate = o->rate_rps; c->total = o->rate_rps * S;
    }
}

static int64_t us(double t_s) { return (int64_t)llround(t_s * 1e6); }

static int run_timechange(lm__pattern p, const lm_trace_gen_opts *o, int poisson, lm_rng *r,
                          lm__emit_fn emit, void *ctx, char *err) {
    timechange c;
    setup(&c, p, o);
    uint64_t k = 0;
    double y = poisson ? lm__exp1(r) : 0;
    while (y < c.total) {
        if (emit(ctx, us(inverse(&c, y)), err) != LM_OK) return LM_ERR;
        k++;
        y = poisson ? y + lm__exp1(r) : (double)k;
    }
    return LM_OK;
}

/* Two-state Markov-modulated Poisson process: state 0 first; each stay is
 * Exp with the state's mean sojourn; within it, a Poisson process of the
 * state's rate. A gap drawn past the switch is dropped (memorylessness
 * makes that exact) and the next state draws afresh. */
static int run_mmpp(const lm_trace_gen_opts *o, lm_rng *r, lm__emit_fn emit, void *ctx, char *err) {
    int st = 0;
    double t = 0, S = o->duration_s, sw = lm__exp1(r) * o->sojourn_s[0];
    while (t < S) {
        double lam = o->mmpp_rate_rps[st];
        double next = lam > 0 ? t + lm__exp1(r) / lam : INFINITY;
        if (next < sw) {
            if (next >= S) break;
            if (emit(ctx, us(next), err) != LM_OK) return LM_ERR;
            t = next;
        } else {
            t = sw;
            st ^= 1;
            sw = t + lm__exp1(r) * o->sojourn_s[st];
        }
    }
    return LM_OK;
}

int lm__pattern_run(lm__pattern p, const lm_trace_gen_opts *o, lm_rng *r, lm__emit_fn emit,
                    void *ctx, char *err) {
    switch (p) {
    case LM__MMPP: return run_mmpp(o, r, emit, ctx, err);
    case LM__DELAYED:
        for (uint64_t k = 0; k < o->count; k++)
            if (emit(ctx, us((double)k * (o->idle_timeout_s + o->margin_s)), err) != LM_OK)
                return LM_ERR;
        return LM_OK;
    case LM__CLOSED:
        for (uint64_t k = 0; k < o->requests; k++)
            if (emit(ctx, 0, err) != LM_OK) return LM_ERR;
        return LM_OK;
    case LM__CONSTANT: return run_timechange(p, o, 0, r, emit, ctx, err);
    case LM__POISSON: return run_timechange(p, o, 1, r, emit, ctx, err);
    default: return run_timechange(p, o, o->arrivals == LM_ARRIVALS_POISSON, r, emit, ctx, err);
    }
}
