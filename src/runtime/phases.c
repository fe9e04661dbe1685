/* phases.c -- a cold start split into its phases (runtime.h): the marks
 * an instance's programs report, filed into its boundaries, and the
 * durations between them. docs/cold-start.md says what each phase holds. */
#include "runtime.h"

#include "proto/mark.h"

const char *const lm_phase_names[LM_PHASE_COUNT] = {
    "placement", "spawn", "create", "start", "runtime", "load", "instantiate", "init", "ready",
};

void lm_instance_mark(lm_instance *inst, uint64_t kind, uint64_t t) {
    int b;
    switch (kind) {
    case LM_MARK_PROGRAM:
        /* The first program is the runtime (or the container launcher);
         * a second one is the program inside the container. */
        b = !inst->marks[LM_B_SPAWNED] ? LM_B_SPAWNED : LM_B_STARTED;
        break;
    case LM_MARK_CREATED: b = LM_B_CREATED; break;
    case LM_MARK_LOAD_BEGIN: b = LM_B_LOAD_BEGIN; break;
    case LM_MARK_LOADED: b = LM_B_LOADED; break;
    case LM_MARK_GUEST_MAIN: b = LM_B_MAIN; break;
    case LM_MARK_READY_SENT: b = LM_B_READY_SENT; break;
    default: return; /* a kind this host does not know */
    }
    if (!inst->marks[b] && t) inst->marks[b] = t;
}

/* A boundary the programs did not report takes the time of the one before
 * it (its phase is 0), except where the next phase does not exist for this
 * runtime: SPAWNED (a native function's first instruction is its main, so
 * spawn runs to MAIN), in a container (CREATED set) STARTED (a plain
 * container's program is the guest itself: start runs to MAIN), and in a
 * container whose runtime does not say when it created it (crun) CREATED
 * (create runs to the container's program, and start is 0). */
static int takes_next(const uint64_t *m, int b, int container) {
    return b == LM_B_SPAWNED || (b == LM_B_STARTED && m[LM_B_CREATED]) ||
           (b == LM_B_CREATED && container);
}

int lm_instance_phases(const lm_instance *inst, lm_cold_phases *out) {
    for (int i = 0; i < LM_PHASE_COUNT; i++)
        out->ns[i] = -1;
    out->total_ns = 0;
    out->clock = NULL;
    out->placed_ahead_ns = inst->placed_ahead_ns;
    const uint64_t *m = inst->marks;
    if (!m[LM_B_START] || !m[LM_B_READY] || m[LM_B_READY] < m[LM_B_START]) return LM_ERR;
    out->total_ns = m[LM_B_READY] - m[LM_B_START];
    uint64_t b[LM_B_COUNT];
    b[LM_B_START] = m[LM_B_START];
    b[LM_B_PLACED] = m[LM_B_PLACED] ? m[LM_B_PLACED] : m[LM_B_START];
    b[LM_B_READY] = m[LM_B_READY];
    if (b[LM_B_PLACED] > b[LM_B_READY]) b[LM_B_PLACED] = b[LM_B_READY];
    out->ns[LM_PHASE_PLACEMENT] = (int64_t)(b[LM_B_PLACED] - b[LM_B_START]);
    if (inst->other_clock) {
        out->clock = "time-namespace";
        return LM_OK;
    }
    int reported = 0, ordered = 1;
    for (int i = LM_B_SPAWNED; i < LM_B_READY; i++)
        reported |= m[i] != 0;
    if (!reported) {
        out->clock = "host-only";
        return LM_OK;
    }
    /* The programs' marks must lie in order between PLACED and READY. */
    uint64_t last = b[LM_B_PLACED];
    for (int i = LM_B_SPAWNED; i < LM_B_READY && ordered; i++) {
        if (!m[i]) continue;
        ordered = m[i] >= last && m[i] <= b[LM_B_READY];
        last = m[i];
    }
    if (!ordered) {
        out->clock = "unaligned";
        return LM_OK;
    }
    for (int i = LM_B_SPAWNED; i < LM_B_READY; i++) {
        if (m[i]) {
            b[i] = m[i];
            continue;
        }
        b[i] = b[i - 1];
        if (takes_next(m, i, inst->runtime && inst->runtime->own_cgroup)) {
            int j = i + 1;
            while (j < LM_B_READY && !m[j])
                j++;
            b[i] = j < LM_B_READY ? m[j] : b[LM_B_READY];
        }
    }
    for (int i = 0; i < LM_PHASE_COUNT; i++)
        out->ns[i] = (int64_t)(b[i + 1] - b[i]);
    out->clock = "monotonic";
    return LM_OK;
}
