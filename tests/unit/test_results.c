/* test_results.c -- the results store (src/store): rows written in batches
 * and read back exactly with sqlite3 itself, the WAL mode and schema
 * version, refusals, the migration of a version-1 file (also by several
 * processes at once), the background writer's time and count triggers,
 * failed writes, and the CSV export read back by a CSV parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "results/internal.h" /* LM_RESULTS_MULTI */
#include "results/results.h"

/* ---- helpers ------------------------------------------------------------ */

static char dir[256];
static char dbpath[512];

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/lumos-test-results-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/run.db", dir);
    return 0;
}

static int teardown(void **state) {
    lm_rmtree(dir);
    return 0;
}

static sqlite3 *raw_open(const char *path) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

static long long raw_int(sqlite3 *db, const char *sql) {
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static long long count_rows(const char *table) {
    sqlite3 *db = raw_open(dbpath);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    long long n = raw_int(db, sql);
    sqlite3_close(db);
    return n;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Strings that need CSV quoting, and one that does not. */
static const char *const tricky[] = {"plain",      "comma, here", "a \"quoted\" word",
                                     "two\nlines", "cr\r\nlf",    ""};
#define NTRICKY (sizeof tricky / sizeof tricky[0])

/* A request whose every integer field is derived from i, or NULL for some. */
/* A cold start's phases with a value in every column but one (a phase a
 * runtime does not have is 0; unknown is NULL). */
static lm_results_phases known_phases(void) {
    lm_results_phases p = {.placement_ns = 21,
                           .spawn_ns = 22,
                           .create_ns = 0,
                           .start_ns = LM_RESULTS_NULL,
                           .runtime_ns = 25,
                           .load_ns = INT64_MAX,
                           .instantiate_ns = 27,
                           .init_ns = 28,
                           .ready_ns = 29,
                           .clock = "monotonic"};
    return p;
}

/* Checks the ten phase columns at st's columns from, from+1, ... */
static void assert_phases(sqlite3_stmt *st, int from, const lm_results_phases *p) {
    const int64_t v[] = {p->placement_ns,   p->spawn_ns,   p->create_ns,
                         p->start_ns,       p->runtime_ns, p->load_ns,
                         p->instantiate_ns, p->init_ns,    p->ready_ns};
    for (int i = 0; i < 9; i++) {
        if (v[i] == LM_RESULTS_NULL) {
            assert_int_equal(sqlite3_column_type(st, from + i), SQLITE_NULL);
        } else {
            assert_int_equal(sqlite3_column_type(st, from + i), SQLITE_INTEGER);
            assert_int_equal(sqlite3_column_int64(st, from + i), v[i]);
        }
    }
    if (p->clock)
        assert_string_equal((const char *)sqlite3_column_text(st, from + 9), p->clock);
    else
        assert_int_equal(sqlite3_column_type(st, from + 9), SQLITE_NULL);
}

static void make_request(lm_results_request *q, int64_t i) {
    lm_results_request_init(q);
    q->id = i;
    q->service_id = 7;
    q->instance_id = "fib@native#1";
    q->node = i == 1 ? "pi4" : NULL;
    q->status_http = 200;
    q->cold = i == 0;
    q->intended_send_ns = 1000 * i + 1;
    q->send_ns = 1000 * i + 2;
    q->ingress_ns = 1000 * i + 3;
    q->queued_ns = 1000 * i + 4;
    q->acquired_ns = 1000 * i + 5;
    if (i == 0) {
        q->cold_begin_ns = 6;
        q->cold_ready_ns = 7;
    }
    q->dispatch_ns = 1000 * i + 8;
    q->result_ns = 1000 * i + 9;
    q->response_ns = 1000 * i + 10;
    q->receive_ns = 1000 * i + 11;
    q->deser_ns = 12;
    q->io_ns = 13;
    q->compute_ns = INT64_MAX; /* the extremes survive */
    q->ser_ns = 0;
    q->func_total_ns = -1;
    q->io_read_bytes = 51200;
    q->io_write_bytes = 0;
    q->io_calls = 2;
    q->cpu_user_ns = 900;
    q->cpu_system_ns = 100;
    q->cpu_ns = 1000;
    if (i == 1) { /* as the gateway writes it: the exact total, no split */
        q->cpu_user_ns = LM_RESULTS_NULL;
        q->cpu_system_ns = LM_RESULTS_NULL;
        q->cpu_ns = 123456789;
    }
    if (i == 2) q->cpu_ns = LM_RESULTS_NULL; /* stored as given, not derived */
    q->mem_peak_bytes = 1 << 20;
    q->error = tricky[i % NTRICKY];
    if (i == 0) { /* the cold one: its instance's phases */
        q->phases = known_phases();
    }
}

/* The known set: one service, an instance added then updated, NTRICKY+1
 * requests (the last with every optional field NULL), a sample, an event. */
static void write_known(lm_results *r) {
    char err[LM_ERRLEN];
    lm_results_service s;
    lm_results_service_init(&s);
    s.id = 7;
    s.name = "fib@native";
    s.function = "fibonacci";
    s.runtime = "native";
    s.config_json = "{\"min_scale\":0, \"note\":\"a,b\\nc\"}";
    s.created_ns = 123;
    s.platform = "knative"; /* schema 6 */
    assert_int_equal(lm_results_add_service(r, &s, err), LM_OK);

    lm_results_instance in;
    lm_results_instance_init(&in);
    in.id = "fib@native#1";
    in.service_id = 7;
    in.runtime = "native";
    in.pid = 4242;
    in.cgroup = "/sys/fs/cgroup/lumos/fib,1";
    in.start_ns = 1;
    in.spawn_ns = 2;
    in.ready_ns = 3;
    in.placement_ms = 0.125;
    in.cold_start_ms = 1.0 / 3.0;
    in.node = "pi4"; /* schema 5: the node it ran on, kept by the updates below */
    in.pod = "fib-00001-deployment-7d9f";
    in.pod_uid = "0c6f-uid"; /* schema 6: its pod, kept by the updates too */
    assert_int_equal(lm_results_add_instance(r, &in, err), LM_OK);
    /* The phases come with READY, as an update (lm_record_instance_ready). */
    lm_results_instance ph;
    lm_results_instance_init(&ph);
    ph.id = "fib@native#1";
    ph.phases = known_phases();
    ph.placement_ahead_ns = 12000000;
    assert_int_equal(lm_results_update_instance(r, &ph, err), LM_OK);
    lm_results_instance up;
    lm_results_instance_init(&up);
    up.id = "fib@native#1";
    up.stop_ns = 99;
    up.end_reason = "idle";
    up.exit_status = 0;
    assert_int_equal(lm_results_update_instance(r, &up, err), LM_OK);

    lm_results_request q;
    for (int64_t i = 0; i < (int64_t)NTRICKY; i++) {
        make_request(&q, i);
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    lm_results_request_init(&q);
    q.id = 1000;
    assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);

    lm_results_sample m;
    lm_results_sample_init(&m);
    m.instance_id = "fib@native#1";
    m.t_ns = 50;
    m.cpu_user_ns = 51;
    m.cpu_system_ns = 52;
    m.mem_current_bytes = 53;
    assert_int_equal(lm_results_add_sample(r, &m, err), LM_OK);

    lm_results_event e;
    lm_results_event_init(&e);
    e.t_ns = 60;
    e.kind = "scale";
    e.service_id = 7;
    e.detail_json = "{\"from\":0,\"to\":1}";
    assert_int_equal(lm_results_add_event(r, &e, err), LM_OK);
}

/* ---- experiments: cells, artifacts, the client's view ------------------- */

/* A cell is an upsert (NULL keeps what is stored), a request names its
 * cell, the client's times update the gateway's row in order, after it
 * was added in the same batch, and an unknown id updates nothing. */
static void test_cells_and_client_times(void **state) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(dbpath, NULL, err);
    assert_non_null(r);
    lm_results_cell c;
    lm_results_cell_init(&c);
    c.id = 4;
    c.name = "fibonacci@native/group:1/cold/closed:1/rep1";
    c.function = "fibonacci";
    c.runtime = "native";
    c.payload = "group:1";
    c.start = "cold";
    c.load = "closed";
    c.concurrency = 1;
    c.repetition = 1;
    c.planned_requests = 3;
    c.status = "running";
    c.started_ns = 100;
    assert_int_equal(lm_results_put_cell(r, &c, err), LM_OK);
    lm_results_request q;
    for (int i = 1; i <= 3; i++) {
        lm_results_request_init(&q);
        q.id = i;
        q.cell_id = 4;
        q.ingress_ns = 1000 * i;
        if (i == 3) q.excluded = "warm in a cold cell";
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    lm_results_client_times t;
    lm_results_client_times_init(&t);
    t.id = 2;
    t.intended_send_ns = 1990;
    t.send_ns = 1995;
    t.receive_ns = 2500;
    assert_int_equal(lm_results_add_client_times(r, &t, err), LM_OK);
    t.id = 99; /* no such row */
    assert_int_equal(lm_results_add_client_times(r, &t, err), LM_OK);
    lm_results_cell_init(&c);
    c.id = 4;
    c.status = "done";
    c.finished_ns = 200;
    assert_int_equal(lm_results_put_cell(r, &c, err), LM_OK);
    lm_results_artifact a;
    lm_results_artifact_init(&a);
    a.function = "fibonacci";
    a.runtime = "wasm-aot";
    a.kind = "executable";
    a.path = "build/artifacts/fibonacci.aot";
    a.bytes = 123456;
    assert_int_equal(lm_results_add_artifact(r, &a, err), LM_OK);
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    lm_results_stats st;
    lm_results_stats_get(r, &st);
    assert_int_equal(st.rows_rejected, 0);
    lm_results_close(r);

    sqlite3 *db = raw_open(dbpath);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM cells"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM cells WHERE status='done' AND"
                                 " started_ns=100 AND finished_ns=200 AND planned_requests=3"
                                 " AND start='cold' AND function='fibonacci'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests WHERE cell_id=4"), 3);
    assert_int_equal(raw_int(db, "SELECT send_ns FROM requests WHERE id=2"), 1995);
    assert_int_equal(raw_int(db, "SELECT receive_ns - intended_send_ns FROM requests WHERE id=2"),
                     510);
    assert_int_equal(raw_int(db, "SELECT ingress_ns FROM requests WHERE id=2"), 2000);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests WHERE send_ns IS NOT NULL"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests WHERE excluded IS NOT NULL"), 1);
    assert_int_equal(raw_int(db, "SELECT bytes FROM artifacts WHERE runtime='wasm-aot'"), 123456);
    sqlite3_close(db);
}

static int collect_cell(void *arg, int64_t id, const char *name, const char *status, int64_t rows) {
    char *out = arg;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%lld:%s:%s:%lld;", (long long)id, name ? name : "-",
             status ? status : "-", (long long)rows);
    return LM_OK;
}

/* What --resume and a second writer read: the ids in use (instance ids by
 * the number after their last '-'), every cell with its status and rows,
 * clearing an unfinished cell, and the start-type check of a finished one. */
static void test_cells_resume(void **state) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(dbpath, NULL, err);
    assert_non_null(r);
    lm_results_ids ids;
    assert_int_equal(lm_results_used_ids(r, &ids, err), LM_OK);
    assert_int_equal(ids.request + ids.service + ids.instance_seq, 0);
    const char *inst[] = {"wasm-aot-12", "native-3", "odd-", "x-9z"};
    for (int i = 0; i < 4; i++) {
        lm_results_instance x;
        lm_results_instance_init(&x);
        x.id = inst[i];
        assert_int_equal(lm_results_add_instance(r, &x, err), LM_OK);
    }
    lm_results_service sv;
    lm_results_service_init(&sv);
    sv.id = 5;
    assert_int_equal(lm_results_add_service(r, &sv, err), LM_OK);
    for (int c = 1; c <= 2; c++) {
        lm_results_cell cell;
        lm_results_cell_init(&cell);
        cell.id = c;
        cell.name = c == 1 ? "a" : "b";
        cell.status = c == 1 ? "done" : "running";
        assert_int_equal(lm_results_put_cell(r, &cell, err), LM_OK);
    }
    /* Cell 1 (cold): a cold row, a warm one, one that reached no instance;
     * cell 2: two rows. */
    int cells[] = {1, 1, 1, 2, 2}, cold[] = {1, 0, -1, 0, 0};
    for (int i = 0; i < 5; i++) {
        lm_results_request q;
        lm_results_request_init(&q);
        q.id = 40 + i;
        q.cell_id = cells[i];
        if (cold[i] >= 0) {
            q.cold = cold[i];
            q.instance_id = "native-3";
        }
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    /* Read back without a flush: each call writes what is pending first. */
    assert_int_equal(lm_results_used_ids(r, &ids, err), LM_OK);
    assert_int_equal(ids.request, 44);
    assert_int_equal(ids.service, 5);
    assert_int_equal(ids.instance_seq, 12);
    char seen[256] = "";
    assert_int_equal(lm_results_cells(r, collect_cell, seen, err), LM_OK);
    assert_string_equal(seen, "1:a:done:3;2:b:running:2;");
    int64_t rows, mismatched;
    assert_int_equal(lm_results_check_cell(r, 1, 1, &rows, &mismatched, err), LM_OK);
    assert_int_equal(rows, 3);
    assert_int_equal(mismatched, 1);
    assert_int_equal(lm_results_check_cell(r, 1, 1, &rows, &mismatched, err), LM_OK);
    assert_int_equal(mismatched, 0); /* already excluded */
    assert_int_equal(lm_results_check_cell(r, 2, -1, &rows, &mismatched, err), LM_OK);
    assert_int_equal(rows, 2);
    assert_int_equal(mismatched, 0);
    assert_int_equal(lm_results_clear_cell(r, 2, err), LM_OK);
    seen[0] = 0;
    assert_int_equal(lm_results_cells(r, collect_cell, seen, err), LM_OK);
    assert_string_equal(seen, "1:a:done:3;2:b:running:0;");
    lm_results_close(r);
    sqlite3 *db = raw_open(dbpath);
    assert_int_equal(
        raw_int(db, "SELECT count(*) FROM requests WHERE id=41 AND excluded='warm in a cold cell'"),
        1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests WHERE excluded IS NOT NULL"), 1);
    sqlite3_close(db);
}

/* ---- NULL handles ------------------------------------------------------- */

static void test_null_handles(void **state) {
    char err[LM_ERRLEN];
    lm_results_close(NULL); /* harmless */
    assert_int_equal(lm_results_flush(NULL, err), LM_ERR);
    lm_results_request q;
    lm_results_request_init(&q);
    assert_int_equal(lm_results_add_request(NULL, &q, err), LM_ERR);
    assert_null(lm_results_path(NULL));
    lm_results_stats st;
    lm_results_stats_get(NULL, &st);
    assert_int_equal(st.rows_added, 0);
    assert_null(lm_results_open(NULL, NULL, err));
    assert_null(lm_results_open("", NULL, err));
}

/* ---- exact values ------------------------------------------------------- */

static void test_roundtrip(void **state) {
    char err[LM_ERRLEN];
    lm_results_opts o = {.lumos_version = "9.8.7",
                         .anchor_realtime_ns = 1700000000123456789LL,
                         .anchor_monotonic_ns = 42};
    lm_results *r = lm_results_open(dbpath, &o, err);
    assert_non_null(r);
    assert_string_equal(lm_results_path(r), dbpath);
    write_known(r);
    /* Nothing reaches the file before a flush. */
    assert_int_equal(count_rows("requests"), 0);
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    lm_results_stats st;
    lm_results_stats_get(r, &st);
    assert_int_equal(st.rows_added, NTRICKY + 7);
    assert_int_equal(st.rows_written, NTRICKY + 7);
    assert_int_equal(st.rows_pending, 0);
    assert_int_equal(st.flushes, 1);

    sqlite3 *db = raw_open(dbpath);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), LM_RESULTS_SCHEMA_VERSION);
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    assert_int_equal(LM_RESULTS_SCHEMA_VERSION, 6);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM instances WHERE node = 'pi4'"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM instances WHERE pod = "
                                 "'fib-00001-deployment-7d9f' AND pod_uid = '0c6f-uid'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM services WHERE platform = 'knative'"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests WHERE node = 'pi4' AND id = 1"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests WHERE node IS NULL"), NTRICKY);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 6);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key='schema_version'"), 6);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM meta WHERE key='migrated_from'"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_table_info('requests') WHERE "
                                 "name='cpu_ns' AND type='INTEGER'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key='anchor_realtime_ns'"),
                     1700000000123456789LL);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key='anchor_monotonic_ns'"), 42);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM meta WHERE key='lumos_version' AND "
                                 "value='9.8.7'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM meta WHERE key IN ('host_name', "
                                 "'host_os', 'host_kernel', 'host_arch', 'host_cpus')"),
                     5);
    /* The requests indexes are built at close, not row by row. */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='index' AND "
                                 "name IN ('requests_by_service', 'requests_by_instance')"),
                     0);

    /* The service, strings byte for byte. */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id, name, function, runtime, config_json, "
                                        "created_ns FROM services",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), 7);
    assert_string_equal((const char *)sqlite3_column_text(s, 1), "fib@native");
    assert_string_equal((const char *)sqlite3_column_text(s, 4),
                        "{\"min_scale\":0, \"note\":\"a,b\\nc\"}");
    assert_int_equal(sqlite3_column_int64(s, 5), 123);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);

    /* The instance: the update kept what it left NULL. */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT pid, cgroup, start_ns, ready_ns, stop_ns, "
                                        "end_reason, exit_status, placement_ms, "
                                        "cold_start_ms FROM instances",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), 4242);
    assert_string_equal((const char *)sqlite3_column_text(s, 1), "/sys/fs/cgroup/lumos/fib,1");
    assert_int_equal(sqlite3_column_int64(s, 2), 1);
    assert_int_equal(sqlite3_column_int64(s, 3), 3);
    assert_int_equal(sqlite3_column_int64(s, 4), 99);
    assert_string_equal((const char *)sqlite3_column_text(s, 5), "idle");
    assert_int_equal(sqlite3_column_type(s, 6), SQLITE_INTEGER);
    assert_true(sqlite3_column_double(s, 7) == 0.125);
    assert_true(sqlite3_column_double(s, 8) == 1.0 / 3.0);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    /* Its phases, version 4's columns, last and in this order. */
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM instances", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_column_count(s), 27);
    assert_string_equal(sqlite3_column_name(s, 24), "node");
    assert_string_equal(sqlite3_column_name(s, 25), "pod"); /* version 6's, last */
    assert_string_equal(sqlite3_column_name(s, 26), "pod_uid");
    assert_string_equal(sqlite3_column_name(s, 13), "phase_placement_ns");
    assert_string_equal(sqlite3_column_name(s, 21), "phase_ready_ns");
    assert_string_equal(sqlite3_column_name(s, 22), "phase_clock");
    assert_string_equal(sqlite3_column_name(s, 23), "placement_ahead_ns");
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    lm_results_phases want_ph = known_phases();
    assert_phases(s, 13, &want_ph);
    assert_int_equal(sqlite3_column_int64(s, 23), 12000000);
    assert_int_equal(sqlite3_column_int64(s, 10), 0); /* exit_status kept */
    sqlite3_finalize(s);

    /* Requests: every column against make_request, NULLs where unset. */
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM requests ORDER BY id", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_column_count(s), 42);
    /* Later columns last: as in a migrated file. */
    assert_string_equal(sqlite3_column_name(s, 28), "cpu_ns");
    assert_string_equal(sqlite3_column_name(s, 29), "cell_id");
    assert_string_equal(sqlite3_column_name(s, 30), "excluded");
    const char *const phase_cols[] = {"phase_placement_ns",   "phase_spawn_ns",   "phase_create_ns",
                                      "phase_start_ns",       "phase_runtime_ns", "phase_load_ns",
                                      "phase_instantiate_ns", "phase_init_ns",    "phase_ready_ns",
                                      "phase_clock"};
    for (int c = 0; c < 10; c++)
        assert_string_equal(sqlite3_column_name(s, 31 + c), phase_cols[c]);
    for (int64_t i = 0; i < (int64_t)NTRICKY; i++) {
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        lm_results_request q;
        make_request(&q, i);
        const int64_t want[] = {q.id,
                                q.service_id,
                                0,
                                q.status_http,
                                q.cold,
                                q.intended_send_ns,
                                q.send_ns,
                                q.ingress_ns,
                                q.queued_ns,
                                q.acquired_ns,
                                q.cold_begin_ns,
                                q.cold_ready_ns,
                                q.dispatch_ns,
                                q.result_ns,
                                q.response_ns,
                                q.receive_ns,
                                q.deser_ns,
                                q.io_ns,
                                q.compute_ns,
                                q.ser_ns,
                                q.func_total_ns,
                                q.io_read_bytes,
                                q.io_write_bytes,
                                q.io_calls,
                                q.cpu_user_ns,
                                q.cpu_system_ns,
                                q.mem_peak_bytes};
        for (int c = 0; c < 27; c++) {
            if (c == 2) continue;
            if (want[c] == LM_RESULTS_NULL) {
                assert_int_equal(sqlite3_column_type(s, c), SQLITE_NULL);
            } else {
                assert_int_equal(sqlite3_column_type(s, c), SQLITE_INTEGER);
                assert_int_equal(sqlite3_column_int64(s, c), want[c]);
            }
        }
        assert_string_equal((const char *)sqlite3_column_text(s, 2), "fib@native#1");
        assert_int_equal(sqlite3_column_type(s, 27), SQLITE_TEXT);
        assert_string_equal((const char *)sqlite3_column_text(s, 27), q.error);
        if (q.cpu_ns == LM_RESULTS_NULL) {
            assert_int_equal(sqlite3_column_type(s, 28), SQLITE_NULL);
        } else {
            assert_int_equal(sqlite3_column_type(s, 28), SQLITE_INTEGER);
            assert_int_equal(sqlite3_column_int64(s, 28), q.cpu_ns);
        }
        assert_phases(s, 31, &q.phases); /* the cold one's; NULL when warm */
    }
    assert_int_equal(sqlite3_step(s), SQLITE_ROW); /* id 1000: all NULL */
    assert_int_equal(sqlite3_column_int64(s, 0), 1000);
    for (int c = 1; c < 41; c++)
        assert_int_equal(sqlite3_column_type(s, c), SQLITE_NULL);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);

    assert_int_equal(raw_int(db, "SELECT count(*) FROM samples WHERE instance_id='fib@native#1' "
                                 "AND t_ns=50 AND cpu_user_ns=51 AND cpu_system_ns=52 AND "
                                 "mem_current_bytes=53 AND mem_peak_bytes IS NULL"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM events WHERE t_ns=60 AND kind='scale' AND "
                                 "service_id=7 AND instance_id IS NULL AND "
                                 "detail_json='{\"from\":0,\"to\":1}'"),
                     1);
    sqlite3_close(db);
    lm_results_close(r);
    db = raw_open(dbpath);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='index' AND "
                                 "name IN ('requests_by_service', 'requests_by_instance')"),
                     2);
    sqlite3_close(db);

    /* Reopening keeps the rows and the first run's anchor. */
    lm_results_opts o2 = {.anchor_realtime_ns = 5, .anchor_monotonic_ns = 6};
    r = lm_results_open(dbpath, &o2, err);
    assert_non_null(r);
    lm_results_close(r);
    db = raw_open(dbpath);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key='anchor_monotonic_ns'"), 42);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests"), NTRICKY + 1);
    sqlite3_close(db);
}

/* ---- refusals ----------------------------------------------------------- */

static void test_refuses(void **state) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(dbpath, NULL, err);
    assert_non_null(r);
    lm_results_close(r);

    /* The next version, which this code does not know. */
    sqlite3 *db = raw_open(dbpath);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(lm_results_open(dbpath, NULL, err));
    assert_non_null(strstr(err, dbpath));
    assert_non_null(strstr(err, "schema version 7, newer than this Lumos knows (6)"));
    assert_null(strstr(err, "migrat"));

    db = raw_open(dbpath);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(lm_results_open(dbpath, NULL, err));
    assert_non_null(strstr(err, dbpath));
    assert_non_null(strstr(err, "newer"));
    assert_non_null(strstr(err, "99"));

    /* user_version is signed: a negative one is no version of ours. */
    db = raw_open(dbpath);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = -1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(lm_results_open(dbpath, NULL, err));
    assert_non_null(strstr(err, dbpath));

    /* Someone else's database. */
    char other[600];
    snprintf(other, sizeof other, "%s/other.db", dir);
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(lm_results_open(other, NULL, err));
    assert_non_null(strstr(err, "not a Lumos results database"));

    /* Not a database at all. */
    snprintf(other, sizeof other, "%s/text.db", dir);
    const char junk[] = "this is not a SQLite file, but it is long enough to look like one....."
                        "................................................................";
    assert_int_equal(lm_file_write(other, junk, sizeof junk, err), LM_OK);
    assert_null(lm_results_open(other, NULL, err));
    assert_non_null(strstr(err, other));

    /* A folder that does not exist. */
    snprintf(other, sizeof other, "%s/missing/run.db", dir);
    assert_null(lm_results_open(other, NULL, err));
    assert_non_null(strstr(err, other));
    assert_non_null(strstr(err, "folder"));
}

/* ---- migration from version 1 ------------------------------------------- */

/* The version-1 schema exactly as Lumos wrote it (src/store/schema.c before
 * version 2), kept here so a v1 file can be made without old code. */
static const char schema_v1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE services(id INTEGER PRIMARY KEY, name TEXT, function TEXT, runtime TEXT,"
    " config_json TEXT, created_ns INTEGER);"
    "CREATE TABLE instances(id TEXT PRIMARY KEY, service_id INTEGER REFERENCES services(id),"
    " runtime TEXT, pid INTEGER, cgroup TEXT, start_ns INTEGER, spawn_ns INTEGER,"
    " ready_ns INTEGER, stop_ns INTEGER, end_reason TEXT, exit_status INTEGER,"
    " placement_ms REAL, cold_start_ms REAL);"
    "CREATE TABLE requests(id INTEGER PRIMARY KEY, service_id INTEGER REFERENCES services(id),"
    " instance_id TEXT REFERENCES instances(id), status_http INTEGER, cold INTEGER,"
    " intended_send_ns INTEGER, send_ns INTEGER, ingress_ns INTEGER, queued_ns INTEGER,"
    " acquired_ns INTEGER, cold_begin_ns INTEGER, cold_ready_ns INTEGER, dispatch_ns INTEGER,"
    " result_ns INTEGER, response_ns INTEGER, receive_ns INTEGER, deser_ns INTEGER,"
    " io_ns INTEGER, compute_ns INTEGER, ser_ns INTEGER, func_total_ns INTEGER,"
    " io_read_bytes INTEGER, io_write_bytes INTEGER, io_calls INTEGER, cpu_user_ns INTEGER,"
    " cpu_system_ns INTEGER, mem_peak_bytes INTEGER, error TEXT);"
    "CREATE TABLE samples(instance_id TEXT REFERENCES instances(id), t_ns INTEGER,"
    " cpu_user_ns INTEGER, cpu_system_ns INTEGER, mem_current_bytes INTEGER,"
    " mem_peak_bytes INTEGER);"
    "CREATE TABLE events(t_ns INTEGER, kind TEXT, service_id INTEGER, instance_id TEXT,"
    " detail_json TEXT);"
    "CREATE INDEX instances_by_service ON instances(service_id);"
    "CREATE INDEX requests_by_service ON requests(service_id);"
    "CREATE INDEX requests_by_instance ON requests(instance_id);"
    "CREATE INDEX samples_by_instance ON samples(instance_id, t_ns);"
    "CREATE INDEX events_by_time ON events(t_ns);";

/* A v1 file's content: meta as a v1 Lumos wrote it, a service, an instance,
 * a sample, an event, and three requests: one with its CPU split measured,
 * one without (it failed before reaching an instance), one with only half of
 * it (which gives no total). */
static const char v1_rows[] =
    "PRAGMA user_version = 1;"
    "INSERT INTO meta VALUES('schema_version', 1), ('lumos_version', '0.1.0'),"
    " ('anchor_realtime_ns', 1700000000000000000), ('anchor_monotonic_ns', 42),"
    " ('host_name', 'old-host'), ('host_cpus', 2), ('sqlite_version', '3.40.1');"
    "INSERT INTO services VALUES(7, 'fib@native', 'fibonacci', 'native', '{\"a\":1}', 5);"
    "INSERT INTO instances VALUES('fib@native#1', 7, 'native', 4242, '/sys/fs/cgroup/x', 10,"
    " 11, 12, 99, 'idle', 0, 0.125, 0.5);"
    "INSERT INTO requests VALUES(1, 7, 'fib@native#1', 200, 1, 100, 101, 102, 103, 104, 105,"
    " 106, 107, 108, 109, 110, 12, 13, 14, 0, 39, 51200, 0, 2, 900, 100, 1048576,"
    " NULL);"
    "INSERT INTO requests VALUES(2, 7, NULL, 502, NULL, 200, 201, 202, 203, NULL, NULL, NULL,"
    " NULL, NULL, 209, 210, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " 'no instance, \"spawn\" failed');"
    "INSERT INTO requests(id, service_id, cpu_user_ns) VALUES(3, 7, 700);"
    "INSERT INTO samples VALUES('fib@native#1', 50, 51, 52, 53, 54);"
    "INSERT INTO events VALUES(60, 'scale', 7, NULL, '{\"from\":0,\"to\":1}');";

/* The v1 requests columns, to compare old data after the migration. */
#define V1_REQUEST_COLUMNS                                                                         \
    "id, service_id, instance_id, status_http, cold, intended_send_ns, send_ns, ingress_ns,"       \
    " queued_ns, acquired_ns, cold_begin_ns, cold_ready_ns, dispatch_ns, result_ns,"               \
    " response_ns, receive_ns, deser_ns, io_ns, compute_ns, ser_ns, func_total_ns,"                \
    " io_read_bytes, io_write_bytes, io_calls, cpu_user_ns, cpu_system_ns, mem_peak_bytes,"        \
    " error"

/* The v1 instances columns (version 4 adds the phases after them). */
#define V1_INSTANCE_COLUMNS                                                                        \
    "id, service_id, runtime, pid, cgroup, start_ns, spawn_ns, ready_ns, stop_ns, end_reason,"     \
    " exit_status, placement_ms, cold_start_ms"

/* Creates a version-1 file at path, in WAL mode as Lumos left it. */
static void make_v1(const char *path) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; BEGIN; ", NULL, NULL, &msg);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, schema_v1, NULL, NULL, &msg);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, v1_rows, NULL, NULL, &msg);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
    if (rc != SQLITE_OK) print_error("making the v1 file: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

/* Every row of a query as text, each value tagged with its SQLite type, so
 * two dumps are equal only when values and types are. Caller frees. */
static char *dump(sqlite3 *db, const char *sql) {
    lm_buf b = {0};
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            int t = sqlite3_column_type(st, c);
            const char *v = (const char *)sqlite3_column_text(st, c);
            assert_int_equal(lm_buf_printf(&b, "%d:%s|", t, v ? v : ""), LM_OK);
        }
        assert_int_equal(lm_buf_append(&b, "\n", 1), LM_OK);
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    return b.data ? b.data : strdup("");
}

/* What a migration must keep: every table but the new column and the two
 * meta rows it rewrites. */
static const char *const kept[] = {
    "SELECT " V1_REQUEST_COLUMNS " FROM requests ORDER BY id",
    "SELECT id, name, function, runtime, config_json, created_ns FROM services ORDER BY rowid",
    "SELECT " V1_INSTANCE_COLUMNS " FROM instances ORDER BY rowid",
    "SELECT * FROM samples ORDER BY rowid",
    "SELECT * FROM events ORDER BY rowid",
    "SELECT * FROM meta WHERE key NOT IN ('schema_version', 'migrated_from') ORDER BY key",
};
#define NKEPT (sizeof kept / sizeof kept[0])

/* The schema's SQL text, every table and index. Caller frees. */
static char *schema_text(const char *path) {
    sqlite3 *db = raw_open(path);
    char *s = dump(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY name");
    sqlite3_close(db);
    return s;
}

/* A migrated v1 file holds what a v4 Lumos expects: version 4 everywhere,
 * migrated_from 1, cpu_ns = user + system for the first request and NULL
 * for the others, the cells and artifacts tables, no request in a cell,
 * the phase columns NULL in old rows. */
static void assert_migrated(const char *path) {
    sqlite3 *db = raw_open(path);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 6);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key='schema_version'"), 6);
    /* 6: an old file's services were the one machine's, without pods. */
    assert_int_equal(raw_int(db, "SELECT count(*) FROM services WHERE platform = 'local'"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM instances WHERE pod IS NULL"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM instances WHERE phase_spawn_ns IS NULL AND "
                                 "phase_clock IS NULL AND placement_ahead_ns IS NULL"),
                     1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests WHERE id <= 3 AND "
                                 "phase_placement_ns IS NULL AND phase_ready_ns IS NULL AND "
                                 "phase_clock IS NULL"),
                     3);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM cells"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM artifacts"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests WHERE cell_id IS NOT NULL"), 0);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key='migrated_from'"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_table_info('requests') WHERE "
                                 "name='cpu_ns' AND type='INTEGER'"),
                     1);
    assert_int_equal(raw_int(db, "SELECT cpu_ns FROM requests WHERE id=1"), 1000);
    assert_int_equal(raw_int(db, "SELECT typeof(cpu_ns) = 'integer' FROM requests WHERE id=1"), 1);
    assert_int_equal(raw_int(db, "SELECT cpu_ns IS NULL FROM requests WHERE id=2"), 1);
    assert_int_equal(raw_int(db, "SELECT cpu_ns IS NULL FROM requests WHERE id=3"), 1);
    sqlite3_close(db);
}

static void test_migrate_v1(void **state) {
    char err[LM_ERRLEN];
    make_v1(dbpath);
    sqlite3 *db = raw_open(dbpath);
    char *before[NKEPT];
    for (size_t i = 0; i < NKEPT; i++)
        before[i] = dump(db, kept[i]);
    sqlite3_close(db);

    lm_results *r = lm_results_open(dbpath, NULL, err);
    if (!r) print_error("%s\n", err);
    assert_non_null(r);
    assert_migrated(dbpath);
    db = raw_open(dbpath);
    for (size_t i = 0; i < NKEPT; i++) {
        char *after = dump(db, kept[i]);
        assert_string_equal(after, before[i]); /* old data intact, types too */
        free(after);
    }
    sqlite3_close(db);

    /* The handle writes v4 rows into it. */
    lm_results_request q;
    make_request(&q, 10);
    assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    lm_results_close(r);
    db = raw_open(dbpath);
    assert_int_equal(raw_int(db, "SELECT cpu_ns FROM requests WHERE id=10"), 1000);
    assert_int_equal(raw_int(db, "SELECT cpu_user_ns FROM requests WHERE id=10"), 900);
    /* A marker a second migration's fill would overwrite. */
    assert_int_equal(
        sqlite3_exec(db, "UPDATE requests SET cpu_ns = 5 WHERE id = 1", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    /* Opening again migrates nothing. */
    r = lm_results_open(dbpath, NULL, err);
    assert_non_null(r);
    lm_results_close(r);
    db = raw_open(dbpath);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 6);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key='migrated_from'"), 1);
    assert_int_equal(raw_int(db, "SELECT cpu_ns FROM requests WHERE id=1"), 5);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests"), 4);
    sqlite3_close(db);

    /* Same tables, columns in the same order, as a new file: the CSV export
     * of either has one shape. */
    char fresh[600];
    snprintf(fresh, sizeof fresh, "%s/fresh.db", dir);
    r = lm_results_open(fresh, NULL, err);
    assert_non_null(r);
    lm_results_close(r);
    char *a = schema_text(dbpath), *b = schema_text(fresh);
    assert_string_equal(a, b);
    free(a);
    free(b);
    for (size_t i = 0; i < NKEPT; i++)
        free(before[i]);
}

/* Versions 2 and 3's changes exactly as Lumos made them (src/results/
 * schema.c), kept here so a v3 file can be made without old code. */
static const char to_v3[] =
    "ALTER TABLE requests ADD COLUMN cpu_ns INTEGER;"
    "UPDATE requests SET cpu_ns = cpu_user_ns + cpu_system_ns"
    " WHERE cpu_user_ns IS NOT NULL AND cpu_system_ns IS NOT NULL;"
    "CREATE TABLE cells(id INTEGER PRIMARY KEY, name TEXT UNIQUE, function TEXT, runtime TEXT,"
    " payload TEXT, start TEXT, load TEXT, concurrency INTEGER, rate_rps REAL,"
    " repetition INTEGER, service_id INTEGER REFERENCES services(id),"
    " planned_requests INTEGER, status TEXT, started_ns INTEGER, finished_ns INTEGER,"
    " error TEXT);"
    "CREATE TABLE artifacts(function TEXT, runtime TEXT, kind TEXT, path TEXT, bytes INTEGER);"
    "ALTER TABLE requests ADD COLUMN cell_id INTEGER REFERENCES cells(id);"
    "ALTER TABLE requests ADD COLUMN excluded TEXT;"
    "INSERT INTO cells(id, name, status) VALUES(4, 'fibonacci@native/xs/cold/closed/1', 'done');"
    "UPDATE requests SET cell_id = 4, excluded = 'warm' WHERE id = 1;"
    "UPDATE meta SET value = 3 WHERE key = 'schema_version';"
    "INSERT INTO meta VALUES('migrated_from', 1);"
    "PRAGMA user_version = 3;";

/* A version-3 file (a v1 file taken to v3 as v3 Lumos did) is migrated to
 * version 4: the phase columns appear, NULL in its old rows (which were
 * not split), every old value and type is kept, migrated_from says 3, and
 * the file has the shape of a new one; a v4 row then stores its phases. */
static void test_migrate_v3(void **state) {
    char err[LM_ERRLEN];
    make_v1(dbpath);
    sqlite3 *db = raw_open(dbpath);
    char *msg = NULL;
    if (sqlite3_exec(db, to_v3, NULL, NULL, &msg) != SQLITE_OK) print_error("%s\n", msg);
    sqlite3_free(msg);
    const char *const v3_kept[] = {
        "SELECT " V1_REQUEST_COLUMNS ", cpu_ns, cell_id, excluded FROM requests ORDER BY id",
        "SELECT " V1_INSTANCE_COLUMNS " FROM instances ORDER BY rowid",
        "SELECT id, name, function, runtime, payload, start, load, concurrency, rate_rps,"
        " repetition, service_id, planned_requests, status, started_ns, finished_ns, error"
        " FROM cells ORDER BY rowid",
        "SELECT * FROM meta WHERE key NOT IN ('schema_version', 'migrated_from') ORDER BY key",
    };
    char *before[4];
    for (int i = 0; i < 4; i++)
        before[i] = dump(db, v3_kept[i]);
    sqlite3_close(db);

    lm_results *r = lm_results_open(dbpath, NULL, err);
    if (!r) print_error("%s\n", err);
    assert_non_null(r);
    db = raw_open(dbpath);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 6);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key='schema_version'"), 6);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key='migrated_from'"), 3);
    for (int i = 0; i < 4; i++) {
        char *after = dump(db, v3_kept[i]);
        assert_string_equal(after, before[i]);
        free(after);
        free(before[i]);
    }
    assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_table_info('instances') WHERE "
                                 "name LIKE 'phase_%' OR name = 'placement_ahead_ns'"),
                     11);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_table_info('requests') WHERE "
                                 "name LIKE 'phase_%'"),
                     10);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM requests WHERE coalesce(phase_placement_ns,"
                                 " phase_spawn_ns, phase_create_ns, phase_start_ns,"
                                 " phase_runtime_ns, phase_load_ns, phase_instantiate_ns,"
                                 " phase_init_ns, phase_ready_ns, phase_clock) IS NOT NULL"),
                     0);
    assert_int_equal(raw_int(db, "SELECT cell_id FROM requests WHERE id=1"), 4);
    sqlite3_close(db);

    /* A v4 row with its phases. */
    lm_results_request q;
    make_request(&q, 0);
    q.id = 20;
    assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    lm_results_close(r);
    db = raw_open(dbpath);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT phase_placement_ns, phase_spawn_ns,"
                                        " phase_create_ns, phase_start_ns, phase_runtime_ns,"
                                        " phase_load_ns, phase_instantiate_ns, phase_init_ns,"
                                        " phase_ready_ns, phase_clock FROM requests WHERE id=20",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    lm_results_phases want = known_phases();
    assert_phases(st, 0, &want);
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* The same shape as a new file. */
    char fresh[600];
    snprintf(fresh, sizeof fresh, "%s/fresh4.db", dir);
    r = lm_results_open(fresh, NULL, err);
    assert_non_null(r);
    lm_results_close(r);
    char *a = schema_text(dbpath), *b = schema_text(fresh);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* A version-1 file whose requests table lacks the CPU columns: the ALTER
 * TABLE succeeds, the fill fails, the error says so, and the file is left as
 * it was, without the new column (one transaction). */
static void test_migrate_fails_whole(void **state) {
    char err[LM_ERRLEN];
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
                                  "CREATE TABLE requests(id INTEGER PRIMARY KEY);"
                                  "INSERT INTO meta VALUES('schema_version', 1);"
                                  "PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_null(lm_results_open(dbpath, NULL, err));
    print_message("broken v1 file: %s\n", err);
    assert_non_null(strstr(err, dbpath));
    assert_non_null(strstr(err, "migrating it from schema version 1 to 6 failed"));
    assert_non_null(strstr(err, "cpu_user_ns"));
    db = raw_open(dbpath);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_table_info('requests')"), 1);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key='schema_version'"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM meta WHERE key='migrated_from'"), 0);
    sqlite3_close(db);
}

/* Several processes open the same v1 file at once. To make them collide,
 * this process holds the write lock while they start: each reads version 1,
 * then waits for the lock; when it is released one migrates and the others
 * must find the work done (a second ALTER TABLE would fail). */
#define NPROC 3
static void test_migrate_concurrent(void **state) {
    make_v1(dbpath);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t kids[NPROC];
    /* Children are forked before this process opens the file: SQLite state
     * must not cross a fork. */
    for (int i = 0; i < NPROC; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            close(go[1]);
            char c;
            if (read(go[0], &c, 1) < 0) _exit(3); /* EOF: go */
            char err[LM_ERRLEN];
            lm_results_opts o = {.busy_timeout_ms = 60000};
            lm_results *r = lm_results_open(dbpath, &o, err);
            if (!r) {
                fprintf(stderr, "child %d: %s\n", i, err);
                _exit(1);
            }
            lm_results_request q;
            make_request(&q, 100 + i);
            int rc =
                lm_results_add_request(r, &q, err) == LM_OK && lm_results_flush(r, err) == LM_OK;
            if (!rc) fprintf(stderr, "child %d: %s\n", i, err);
            lm_results_close(r);
            _exit(rc ? 0 : 2);
        }
    }
    close(go[0]);
    sqlite3 *db = raw_open(dbpath);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    close(go[1]);  /* all children start */
    sleep_ms(500); /* they read version 1 and queue for the lock (if slower, */
                   /* they find version 2: the test is weaker, never wrong) */
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    for (int i = 0; i < NPROC; i++) {
        int status = 0;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_migrated(dbpath);
    assert_int_equal(count_rows("requests"), 3 + NPROC);
}

/* ---- the background writer ---------------------------------------------- */

static void test_writer_by_time(void **state) {
    char err[LM_ERRLEN];
    lm_results_opts o = {.background = 1, .flush_ms = 50, .flush_rows = 1000000};
    lm_results *r = lm_results_open(dbpath, &o, err);
    assert_non_null(r);
    lm_results_request q;
    for (int i = 0; i < 10; i++) {
        make_request(&q, i);
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    long long n = 0;
    for (int t = 0; t < 200 && n < 10; t++) { /* up to 2 s */
        sleep_ms(10);
        n = count_rows("requests");
    }
    assert_int_equal(n, 10); /* written by the timer: no flush, no row threshold */
    lm_results_stats st;
    lm_results_stats_get(r, &st);
    assert_int_equal(st.rows_written, 10);
    assert_int_equal(st.rows_pending, 0);
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    lm_results_close(r);
}

static void test_writer_by_count(void **state) {
    char err[LM_ERRLEN];
    lm_results_opts o = {.background = 1, .flush_ms = 600000, .flush_rows = 100};
    lm_results *r = lm_results_open(dbpath, &o, err);
    assert_non_null(r);
    lm_results_request q;
    for (int i = 0; i < 99; i++) {
        make_request(&q, i);
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    sleep_ms(100);
    assert_int_equal(count_rows("requests"), 0); /* below the count, long before the time */
    for (int i = 99; i < 250; i++) {
        make_request(&q, i);
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    long long n = 0;
    for (int t = 0; t < 200 && n < 100; t++) {
        sleep_ms(10);
        n = count_rows("requests");
    }
    assert_true(n >= 100);
    lm_results_close(r); /* stops the writer, flushes the rest */
    assert_int_equal(count_rows("requests"), 250);
}

static void test_close_flushes(void **state) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(dbpath, NULL, err);
    assert_non_null(r);
    write_known(r);
    lm_results_close(r);
    assert_int_equal(count_rows("requests"), NTRICKY + 1);
    assert_int_equal(count_rows("instances"), 1);
    assert_int_equal(count_rows("events"), 1);
}

/* ---- volume ------------------------------------------------------------- */

static void test_100k(void **state) {
    char err[LM_ERRLEN];
    lm_results_opts o = {.background = 1};
    lm_results *r = lm_results_open(dbpath, &o, err);
    assert_non_null(r);
    lm_results_request q;
    uint64_t t0 = lm_now_ns();
    for (int64_t i = 0; i < 100000; i++) {
        make_request(&q, i);
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    uint64_t t1 = lm_now_ns();
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    uint64_t t2 = lm_now_ns();
    lm_results_close(r);
    assert_int_equal(count_rows("requests"), 100000);
    print_message("100000 requests: adds %.1f ms (%.0f ns each), all written %.1f ms after the "
                  "first add (%.0f rows/s)\n",
                  (double)(t1 - t0) / 1e6, (double)(t1 - t0) / 1e5, (double)(t2 - t0) / 1e6,
                  1e5 / ((double)(t2 - t0) / 1e9));
}

/* ---- failures ----------------------------------------------------------- */

static void test_dir_removed(void **state) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(dbpath, NULL, err);
    assert_non_null(r);
    write_known(r);
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    assert_int_equal(lm_rmtree(dir), 0);
    lm_results_request q;
    for (int i = 100; i < 110; i++) {
        make_request(&q, i);
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    err[0] = 0;
    assert_int_equal(lm_results_flush(r, err), LM_ERR);
    assert_non_null(strstr(err, dbpath));
    assert_non_null(strstr(err, "lost"));
    print_message("directory removed: %s\n", err);
    lm_results_stats st;
    lm_results_stats_get(r, &st);
    assert_int_equal(st.rows_lost, 10);
    assert_int_equal(st.rows_pending, 0);
    lm_results_close(r);                          /* nothing pending: no crash, no message */
    assert_int_equal(lm_mkdirs(dir, err), LM_OK); /* for teardown */
}

static void test_locked(void **state) {
    char err[LM_ERRLEN];
    lm_results_opts o = {.busy_timeout_ms = 20};
    lm_results *r = lm_results_open(dbpath, &o, err);
    assert_non_null(r);
    sqlite3 *db = raw_open(dbpath);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    write_known(r);
    assert_int_equal(lm_results_flush(r, err), LM_ERR);
    assert_non_null(strstr(err, "lock"));
    print_message("locked: %s\n", err);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* The next batch goes through. */
    write_known(r);
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    lm_results_close(r);
    assert_int_equal(count_rows("requests"), NTRICKY + 1);
}

static void test_background_failure_reported(void **state) {
    char err[LM_ERRLEN];
    lm_results_opts o = {.background = 1, .flush_ms = 10, .busy_timeout_ms = 20};
    lm_results *r = lm_results_open(dbpath, &o, err);
    assert_non_null(r);
    sqlite3 *db = raw_open(dbpath);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    write_known(r);
    lm_results_stats st = {0};
    for (int t = 0; t < 200 && st.rows_lost == 0; t++) {
        sleep_ms(10);
        lm_results_stats_get(r, &st);
    }
    assert_true(st.rows_lost > 0);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    /* The writer's failure comes out of the next flush, once. */
    assert_int_equal(lm_results_flush(r, err), LM_ERR);
    assert_non_null(strstr(err, "lock"));
    assert_int_equal(lm_results_flush(r, err), LM_OK);
    lm_results_close(r);
}

static void test_rejected_row(void **state) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(dbpath, NULL, err);
    assert_non_null(r);
    lm_results_request q;
    for (int i = 0; i < 3; i++) {
        make_request(&q, i == 2 ? 0 : i); /* the third repeats id 0 */
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
    }
    assert_int_equal(lm_results_flush(r, err), LM_ERR);
    assert_non_null(strstr(err, "requests"));
    lm_results_stats st;
    lm_results_stats_get(r, &st);
    assert_int_equal(st.rows_written, 2);
    assert_int_equal(st.rows_rejected, 1);
    lm_results_close(r);
    assert_int_equal(count_rows("requests"), 2);
}

/* Requests are written LM_RESULTS_MULTI to an INSERT: a group holding a
 * duplicate id is written row by row, so exactly that row is refused;
 * groups cut by another kind of row or by the end of the batch, and every
 * value of every row, land as with one INSERT a row. */
static int64_t multi_id(int i) { /* row LM_RESULTS_MULTI + 5 repeats row 3's id */
    return i == 3 || i == LM_RESULTS_MULTI + 5 ? 3 : 100 + i;
}

static void test_multirow_groups(void **state) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(dbpath, NULL, err);
    assert_non_null(r);
    const int n = 3 * LM_RESULTS_MULTI + 7;
    lm_results_request q;
    for (int i = 0; i < n; i++) {
        make_request(&q, multi_id(i));
        assert_int_equal(lm_results_add_request(r, &q, err), LM_OK);
        if (i == 2 * LM_RESULTS_MULTI + 1) {
            lm_results_event e;
            lm_results_event_init(&e);
            e.kind = "between";
            assert_int_equal(lm_results_add_event(r, &e, err), LM_OK);
        }
    }
    assert_int_equal(lm_results_flush(r, err), LM_ERR);
    lm_results_stats st;
    lm_results_stats_get(r, &st);
    assert_int_equal(st.rows_rejected, 1);
    assert_int_equal(st.rows_written, n - 1 + 1); /* the event too */
    lm_results_close(r);
    assert_int_equal(count_rows("requests"), n - 1);
    assert_int_equal(count_rows("events"), 1);
    sqlite3 *db = raw_open(dbpath);
    /* make_request's values, per row, as the single-row path writes them. */
    for (int i = 0; i < n; i++) {
        if (i == LM_RESULTS_MULTI + 5) continue;
        make_request(&q, multi_id(i));
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM requests WHERE id = %lld AND intended_send_ns = %lld AND "
                 "compute_ns = %lld",
                 (long long)q.id, (long long)q.intended_send_ns, (long long)q.compute_ns);
        assert_int_equal(raw_int(db, sql), 1);
    }
    sqlite3_close(db);
}

/* ---- CSV ---------------------------------------------------------------- */

/* Parses RFC 4180 CSV: fields[row][col] (malloc'd strings), quoted[row][col]
 * says whether the field was quoted. Returns the number of rows. */
#define MAXR 32
#define MAXC 48
static int parse_csv(const char *s, char *fields[MAXR][MAXC], int quoted[MAXR][MAXC],
                     int ncols[MAXR]) {
    int row = 0, col = 0;
    while (*s) {
        assert_true(row < MAXR && col < MAXC);
        lm_buf b = {0};
        int q = 0;
        if (*s == '"') {
            q = 1;
            s++;
            for (;;) {
                assert_true(*s != 0);
                if (*s == '"' && s[1] == '"') {
                    lm_buf_append(&b, "\"", 1);
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    lm_buf_append(&b, s++, 1);
                }
            }
        } else {
            while (*s && *s != ',' && *s != '\n')
                lm_buf_append(&b, s++, 1);
        }
        fields[row][col] = b.data ? b.data : strdup("");
        quoted[row][col] = q;
        col++;
        if (*s == ',') {
            s++;
        } else {
            assert_int_equal(*s, '\n');
            s++;
            ncols[row++] = col;
            col = 0;
        }
    }
    assert_int_equal(col, 0);
    return row;
}

static void test_csv(void **state) {
    char err[LM_ERRLEN];
    lm_results *r = lm_results_open(dbpath, NULL, err);
    assert_non_null(r);
    write_known(r); /* export flushes first */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(lm_results_export_csv(r, "requests", f, err), LM_OK);
    fclose(f);

    static char *fields[MAXR][MAXC];
    static int quoted[MAXR][MAXC], ncols[MAXR];
    int rows = parse_csv(text, fields, quoted, ncols);
    assert_int_equal(rows, 1 + NTRICKY + 1);
    assert_int_equal(ncols[0], 42);
    assert_string_equal(fields[0][0], "id");
    assert_string_equal(fields[0][31], "phase_placement_ns");
    assert_string_equal(fields[0][40], "phase_clock");
    assert_string_equal(fields[0][41], "node");
    assert_string_equal(fields[0][5], "intended_send_ns");
    assert_string_equal(fields[0][27], "error");
    assert_string_equal(fields[0][28], "cpu_ns");
    for (int i = 0; i < (int)NTRICKY; i++) {
        lm_results_request q;
        make_request(&q, i);
        char num[32];
        assert_int_equal(ncols[i + 1], 42);
        assert_string_equal(fields[i + 1][31], i == 0 ? "21" : ""); /* the cold one's phases */
        assert_string_equal(fields[i + 1][40], i == 0 ? "monotonic" : "");
        snprintf(num, sizeof num, "%lld", (long long)q.intended_send_ns);
        assert_string_equal(fields[i + 1][5], num);
        snprintf(num, sizeof num, "%lld", (long long)q.compute_ns);
        assert_string_equal(fields[i + 1][18], num);
        assert_string_equal(fields[i + 1][20], "-1");
        assert_string_equal(fields[i + 1][27], q.error); /* commas, quotes, newlines */
        if (i == 0)
            assert_string_equal(fields[i + 1][10], "6");
        else
            assert_string_equal(fields[i + 1][10], ""); /* NULL */
        assert_false(quoted[i + 1][10]);
        assert_string_equal(fields[i + 1][28], i == 1 ? "123456789" : i == 2 ? "" : "1000");
    }
    assert_true(quoted[NTRICKY][27]); /* the empty string is "" */
    assert_string_equal(fields[NTRICKY + 1][0], "1000");
    assert_string_equal(fields[NTRICKY + 1][27], "");
    assert_false(quoted[NTRICKY + 1][27]); /* NULL is an empty field */
    assert_string_equal(fields[NTRICKY + 1][28], "");
    for (int i = 0; i < rows; i++)
        for (int c = 0; c < ncols[i]; c++)
            free(fields[i][c]);
    free(text);

    /* Instances: the REAL columns come back exactly. */
    text = NULL;
    f = open_memstream(&text, &len);
    assert_int_equal(lm_results_export_csv(r, "instances", f, err), LM_OK);
    fclose(f);
    rows = parse_csv(text, fields, quoted, ncols);
    assert_int_equal(rows, 2);
    assert_string_equal(fields[0][12], "cold_start_ms");
    assert_true(strtod(fields[1][12], NULL) == 1.0 / 3.0);
    assert_string_equal(fields[1][4], "/sys/fs/cgroup/lumos/fib,1");
    for (int i = 0; i < rows; i++)
        for (int c = 0; c < ncols[i]; c++)
            free(fields[i][c]);
    free(text);

    /* Bad input: an unknown table (no SQL from the caller reaches SQLite),
     * and an output that cannot be written. */
    assert_int_equal(lm_results_export_csv(r, "requests; DROP TABLE requests", stdout, err),
                     LM_ERR);
    assert_non_null(strstr(err, "unknown table"));
    assert_int_equal(lm_results_export_csv(r, NULL, stdout, err), LM_ERR);
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        assert_int_equal(lm_results_export_csv(r, "requests", full, err), LM_ERR);
        assert_non_null(strstr(err, "writing the output failed"));
        fclose(full);
    }
    lm_results_close(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_fails_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_by_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_by_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_100k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_failure_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multirow_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cells_and_client_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cells_resume, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
