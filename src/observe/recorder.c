/* recorder.c -- outcomes into results rows (recorder.h). */
#include "observe/recorder.h"

#include "proto/frame.h"

/* A timestamp or count that did not happen (0) is NULL. */
static int64_t or_null(uint64_t v) { return v ? (int64_t)v : LM_RESULTS_NULL; }

/* The phases' columns (unknown ones NULL). */
static void put_phases(lm_results_phases *row, const lm_cold_phases *ph) {
    int64_t *cols[LM_PHASE_COUNT] = {
        [LM_PHASE_PLACEMENT] = &row->placement_ns,
        [LM_PHASE_SPAWN] = &row->spawn_ns,
        [LM_PHASE_CREATE] = &row->create_ns,
        [LM_PHASE_START] = &row->start_ns,
        [LM_PHASE_RUNTIME] = &row->runtime_ns,
        [LM_PHASE_LOAD] = &row->load_ns,
        [LM_PHASE_INSTANTIATE] = &row->instantiate_ns,
        [LM_PHASE_INIT] = &row->init_ns,
        [LM_PHASE_READY] = &row->ready_ns,
    };
    for (int i = 0; i < LM_PHASE_COUNT; i++)
        *cols[i] = ph->ns[i] >= 0 ? ph->ns[i] : LM_RESULTS_NULL;
    row->clock = ph->clock;
}

void lm_record_request(lm_results *db, const lm_request_record *r) {
    if (!db) return;
    lm_results_request row;
    lm_results_request_init(&row);
    row.id = r->id;
    if (r->cell_id > 0) row.cell_id = r->cell_id;
    row.service_id = r->service_id;
    row.instance_id = r->instance_id;
    if (r->status) row.status_http = r->status;
    if (r->cold >= 0) row.cold = r->cold;
    row.ingress_ns = or_null(r->t.ingress);
    row.queued_ns = or_null(r->t.queued);
    row.acquired_ns = or_null(r->t.acquired);
    row.cold_begin_ns = or_null(r->t.cold_begin);
    row.cold_ready_ns = or_null(r->t.cold_ready);
    row.dispatch_ns = or_null(r->t.dispatch);
    row.result_ns = or_null(r->t.result);
    row.response_ns = or_null(r->response_ns);
    if (r->res) {
        const uint64_t *p = r->res->probes;
        row.deser_ns = (int64_t)p[LM_PROBE_DESER_NS];
        row.io_ns = (int64_t)p[LM_PROBE_IO_NS];
        row.compute_ns = (int64_t)p[LM_PROBE_COMPUTE_NS];
        row.ser_ns = (int64_t)p[LM_PROBE_SER_NS];
        row.func_total_ns = (int64_t)p[LM_PROBE_TOTAL_NS];
        row.io_read_bytes = (int64_t)p[LM_PROBE_IO_READ_BYTES];
        row.io_write_bytes = (int64_t)p[LM_PROBE_IO_WRITE_BYTES];
        row.io_calls = (int64_t)p[LM_PROBE_IO_CALLS];
    }
    if (r->usage != LM_RECORD_USAGE_NONE) {
        row.cpu_ns = (int64_t)r->cpu_ns;
        row.mem_peak_bytes = or_null(r->mem_peak_bytes);
    }
    if (r->usage == LM_RECORD_USAGE_SPLIT) {
        row.cpu_user_ns = (int64_t)r->cpu_user_ns;
        row.cpu_system_ns = (int64_t)r->cpu_system_ns;
        row.cpu_ns = (int64_t)(r->cpu_user_ns + r->cpu_system_ns);
    }
    row.error = r->error;
    row.node = r->node;
    if (r->phases) put_phases(&row.phases, r->phases);
    lm_results_add_request(db, &row, NULL);
}

void lm_record_service(lm_results *db, int64_t id, const char *name, const char *function,
                       const char *runtime, const char *config_json) {
    if (!db) return;
    lm_results_service row;
    lm_results_service_init(&row);
    row.id = id;
    row.name = name;
    row.function = function;
    row.runtime = runtime;
    row.config_json = config_json;
    row.platform = "local";
    row.created_ns = (int64_t)lm_now_ns();
    lm_results_add_service(db, &row, NULL);
}

void lm_record_instance_start(lm_results *db, const lm_instance *inst, int64_t service_id,
                              uint64_t decided_ns) {
    if (!db) return;
    lm_results_instance row;
    lm_results_instance_init(&row);
    row.id = inst->id;
    row.service_id = service_id;
    row.runtime = inst->runtime ? inst->runtime->name : NULL;
    row.pid = inst->child.pid;
    row.cgroup = inst->cgroup.version ? inst->cgroup.dirs[0] : NULL;
    row.start_ns = (int64_t)decided_ns;
    row.spawn_ns = (int64_t)inst->spawn_ns;
    row.node = inst->node[0] ? inst->node : NULL;
    lm_results_add_instance(db, &row, NULL);
}

void lm_record_instance_ready(lm_results *db, const lm_instance *inst, uint64_t decided_ns,
                              uint64_t ready_ns) {
    if (!db) return;
    lm_results_instance row;
    lm_results_instance_init(&row);
    row.id = inst->id;
    row.ready_ns = (int64_t)ready_ns;
    row.placement_ms = (double)(inst->spawn_ns - decided_ns) / 1e6;
    row.cold_start_ms = (double)(ready_ns - inst->spawn_ns) / 1e6;
    lm_cold_phases ph;
    if (lm_instance_phases(inst, &ph) == LM_OK) put_phases(&row.phases, &ph);
    if (ph.placed_ahead_ns) row.placement_ahead_ns = (int64_t)ph.placed_ahead_ns;
    lm_results_update_instance(db, &row, NULL);
}

void lm_record_instance_end(lm_results *db, const char *instance_id, const char *reason,
                            uint64_t stop_ns) {
    if (!db) return;
    lm_results_instance row;
    lm_results_instance_init(&row);
    row.id = instance_id;
    row.end_reason = reason;
    row.stop_ns = or_null(stop_ns);
    lm_results_update_instance(db, &row, NULL);
}

void lm_record_instance_reaped(lm_results *db, const char *instance_id, int status,
                               uint64_t stop_ns) {
    if (!db) return;
    lm_results_instance row;
    lm_results_instance_init(&row);
    row.id = instance_id;
    row.stop_ns = (int64_t)stop_ns;
    if (status != -1) row.exit_status = status;
    lm_results_update_instance(db, &row, NULL);
}

void lm_record_event(lm_results *db, int64_t service_id, const char *instance_id, const char *kind,
                     const char *detail_json) {
    if (!db) return;
    lm_results_event e;
    lm_results_event_init(&e);
    e.t_ns = (int64_t)lm_now_ns();
    e.kind = kind;
    e.service_id = service_id;
    e.instance_id = instance_id;
    e.detail_json = detail_json;
    lm_results_add_event(db, &e, NULL);
}

void lm_record_sample(lm_results *db, const char *instance_id, uint64_t t_ns, const lm_usage *u) {
    if (!db || !u) return;
    lm_results_sample row;
    lm_results_sample_init(&row);
    row.instance_id = instance_id;
    row.t_ns = (int64_t)t_ns;
    row.cpu_user_ns = (int64_t)u->cpu_user_ns;
    row.cpu_system_ns = (int64_t)u->cpu_system_ns;
    row.mem_current_bytes = (int64_t)u->mem_current_bytes;
    row.mem_peak_bytes = or_null(u->mem_peak_bytes);
    lm_results_add_sample(db, &row, NULL);
}
