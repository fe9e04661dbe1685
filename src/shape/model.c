/* model.c -- the link model: each message's delivery time from the
 * condition in force, a seeded random stream and the line's state
 * (shape.h, docs/network.md). Pure: no clock, no I/O. */
#include <math.h>
#include <string.h>

#include "shape/internal.h"

/* Linux's tcp_retries2: a segment lost this many times more ends the
 * connection; and TCP_RTO_MAX, the ceiling of the doubling timeout. */
#define RETRIES_MAX 15
#define RTO_MAX_NS (120ull * 1000000000ull)
/* Redraws of a negative total delay before giving up at 0. */
#define REDRAWS 64

void lm_shape_model_init(lm_shape_model *m, const lm_shape_sched *sched, uint64_t start_ns,
                         uint64_t seed, int fifo, lm_shape_loss_mode loss_mode) {
    memset(m, 0, sizeof(*m));
    m->sched = sched;
    m->start_ns = start_ns;
    m->rng.s = seed;
    m->fifo = fifo;
    m->loss_mode = loss_mode;
}

static double normal(lm_rng *r) {
    /* Box-Muller, one of the pair: a draw costs two uniforms, always, so the
     * stream's use does not depend on earlier draws. */
    double u1 = lm_rng_open01(r), u2 = lm_rng_open01(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double lm_shape_draw(lm_rng *r, lm_shape_dist dist) {
    switch (dist) {
    case LM_SHAPE_JITTER_UNIFORM: return 2.0 * lm_rng_open01(r) - 1.0;
    case LM_SHAPE_JITTER_PARETO_NORMAL: {
        /* netem's paretonormal mixes a quarter normal with three quarters
         * Pareto (shape a = 3). Pareto(a = 3, x_m = 1) has mean 3/2 and sd
         * sqrt(3)/2; standardized, the sum 0.25 Z + 0.75 P has variance
         * 0.0625 + 0.5625 = 0.625, so dividing by sqrt(0.625) gives sd 1. */
        double z = normal(r);
        double p = (pow(lm_rng_open01(r), -1.0 / 3.0) - 1.5) / 0.8660254037844386;
        return (0.25 * z + 0.75 * p) / 0.7905694150420949;
    }
    case LM_SHAPE_JITTER_NORMAL:
    default: return normal(r);
    }
}

static const lm_shape_cond *cond_at(const lm_shape_model *m, uint64_t t) {
    return lm_shape_sched_at(m->sched, t > m->start_ns ? t - m->start_ns : 0);
}

/* delay + jitter, truncated at 0 by redrawing. */
static uint64_t travel(lm_shape_model *m, const lm_shape_cond *c) {
    if (!c->jitter_ns) return c->delay_ns;
    for (int i = 0; i < REDRAWS; i++) {
        double d = (double)c->delay_ns + (double)c->jitter_ns * lm_shape_draw(&m->rng, c->dist);
        if (d >= 0) return (uint64_t)llround(d);
    }
    return 0;
}

lm_shape_fate lm_shape_deliver(lm_shape_model *m, size_t bytes, uint64_t now) {
    lm_shape_fate f = {0};
    const lm_shape_cond *c = cond_at(m, now);
    uint64_t t = now;
    if (c->rate_bps) {
        /* The line sends one message after another at the rate: a token
         * bucket one message deep. */
        if (m->line_free_ns > t) t = m->line_free_ns;
        t += (uint64_t)ceil((double)bytes * 8e9 / (double)c->rate_bps);
        m->line_free_ns = t;
    }
    /* Each attempt is lost with the loss of the condition in force then. */
    uint64_t rto = lm_shape_rto_ns(c);
    while (c->loss > 0 && lm_rng_open01(&m->rng) < c->loss) {
        if (m->loss_mode == LM_SHAPE_DROP || f.retransmits == RETRIES_MAX) {
            f.dropped = 1;
            return f;
        }
        f.retransmits++;
        t += rto;
        rto = rto * 2 > RTO_MAX_NS ? RTO_MAX_NS : rto * 2;
        c = cond_at(m, t);
    }
    t += travel(m, c);
    if (c->reorder > 0 && lm_rng_open01(&m->rng) < c->reorder) {
        f.reordered = 1;
        t += c->reorder_gap_ns ? c->reorder_gap_ns : c->delay_ns;
    }
    if (m->fifo && t < m->last_at_ns) t = m->last_at_ns;
    if (t > m->last_at_ns) m->last_at_ns = t;
    f.at_ns = t;
    return f;
}
