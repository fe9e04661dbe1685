/* schema.c -- the results database's file: opening it in WAL mode, checking
 * or creating the versioned schema and its meta rows, and the prepared
 * statements batches are written with. */
#include "results/internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The schema is version 1 plus each migration's DDL in order (migrations
 * below): a new file is built exactly like a migrated one, so both have the
 * same columns in the same order and `SELECT *` (the CSV export) gives them
 * the same shape. Units are in the column names; docs/results.md says what
 * each column means. */
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
    "CREATE INDEX samples_by_instance ON samples(instance_id, t_ns);"
    "CREATE INDEX events_by_time ON events(t_ns);";

/* The requests table's indexes are built when the writer closes the file,
 * not kept up to date row by row: that halves the cost of a row (2.1 us
 * against 1.1 us, bench/results_bench), which the gateway pays for every
 * request. A file whose writer died has its rows and lacks these indexes;
 * the next writer to close it builds them. */
static const char deferred_indexes[] =
    "CREATE INDEX IF NOT EXISTS requests_by_service ON requests(service_id);"
    "CREATE INDEX IF NOT EXISTS requests_by_instance ON requests(instance_id);";

/* migrations[v - 1] takes a file from version v to v + 1: ddl changes the
 * schema (also run on a new file, after schema_v1), fill derives the new
 * columns of the rows already there (run on a migrated file only). */
static const struct {
    const char *ddl, *fill;
} migrations[] = {
    /* 2: requests.cpu_ns, the exact CPU total (store.h says why). Old rows
     * get user + system, which is what they measured. */
    {"ALTER TABLE requests ADD COLUMN cpu_ns INTEGER;",
     "UPDATE requests SET cpu_ns = cpu_user_ns + cpu_system_ns"
     " WHERE cpu_user_ns IS NOT NULL AND cpu_system_ns IS NOT NULL;"},
    /* 3: experiments. cells (one measured combination of an experiment
     * spec, and its state, for --resume), artifacts (what ran, its size),
     * and each request's cell and why it is out of its cell's statistics.
     * Older rows belong to no cell. */
    {"CREATE TABLE cells(id INTEGER PRIMARY KEY, name TEXT UNIQUE, function TEXT, runtime TEXT,"
     " payload TEXT, start TEXT, load TEXT, concurrency INTEGER, rate_rps REAL,"
     " repetition INTEGER, service_id INTEGER REFERENCES services(id),"
     " planned_requests INTEGER, status TEXT, started_ns INTEGER, finished_ns INTEGER,"
     " error TEXT);"
     "CREATE TABLE artifacts(function TEXT, runtime TEXT, kind TEXT, path TEXT, bytes INTEGER);"
     "ALTER TABLE requests ADD COLUMN cell_id INTEGER REFERENCES cells(id);"
     "ALTER TABLE requests ADD COLUMN excluded TEXT;",
     ""},
    /* 4: the phases of every cold start (docs/cold-start.md), durations in
     * ns, on its instance and on the requests that waited for it, with the
     * clock note; how long a placement done ahead of need took. Older rows
     * were not split: NULL. */
    {"ALTER TABLE instances ADD COLUMN phase_placement_ns INTEGER;"
     "ALTER TABLE instances ADD COLUMN phase_spawn_ns INTEGER;"
     "ALTER TABLE instances ADD COLUMN phase_create_ns INTEGER;"
     "ALTER TABLE instances ADD COLUMN phase_start_ns INTEGER;"
     "ALTER TABLE instances ADD COLUMN phase_runtime_ns INTEGER;"
     "ALTER TABLE instances ADD COLUMN phase_load_ns INTEGER;"
     "ALTER TABLE instances ADD COLUMN phase_instantiate_ns INTEGER;"
     "ALTER TABLE instances ADD COLUMN phase_init_ns INTEGER;"
     "ALTER TABLE instances ADD COLUMN phase_ready_ns INTEGER;"
     "ALTER TABLE instances ADD COLUMN phase_clock TEXT;"
     "ALTER TABLE instances ADD COLUMN placement_ahead_ns INTEGER;"
     "ALTER TABLE requests ADD COLUMN phase_placement_ns INTEGER;"
     "ALTER TABLE requests ADD COLUMN phase_spawn_ns INTEGER;"
     "ALTER TABLE requests ADD COLUMN phase_create_ns INTEGER;"
     "ALTER TABLE requests ADD COLUMN phase_start_ns INTEGER;"
     "ALTER TABLE requests ADD COLUMN phase_runtime_ns INTEGER;"
     "ALTER TABLE requests ADD COLUMN phase_load_ns INTEGER;"
     "ALTER TABLE requests ADD COLUMN phase_instantiate_ns INTEGER;"
     "ALTER TABLE requests ADD COLUMN phase_init_ns INTEGER;"
     "ALTER TABLE requests ADD COLUMN phase_ready_ns INTEGER;"
     "ALTER TABLE requests ADD COLUMN phase_clock TEXT;",
     ""},
    /* 5: emulated nodes (docs/nodes.md): the node profile every instance
     * ran on and every request was served on, and each cell's node and
     * network axes. NULL: on the host itself (every older row). */
    {"ALTER TABLE instances ADD COLUMN node TEXT;"
     "ALTER TABLE requests ADD COLUMN node TEXT;"
     "ALTER TABLE cells ADD COLUMN node TEXT;"
     "ALTER TABLE cells ADD COLUMN network TEXT;",
     ""},
    /* 6: the platform (docs/knative-front.md): which platform each service
     * was deployed on ("local": `lumos serve` on one machine, "knative": a
     * cluster), and the Kubernetes pod each instance ran in (its name and
     * uid, the key `lumos agent` reads its cgroup by). Every older row is
     * the one machine's, without a pod. */
    {"ALTER TABLE services ADD COLUMN platform TEXT;"
     "ALTER TABLE instances ADD COLUMN pod TEXT;"
     "ALTER TABLE instances ADD COLUMN pod_uid TEXT;",
     "UPDATE services SET platform = 'local';"},
};
_Static_assert(sizeof migrations / sizeof migrations[0] == LM_RESULTS_SCHEMA_VERSION - 1,
               "one migration per schema version after the first");

/* One statement per row kind, indexed by LM_RK_*. Instances are upserts:
 * a NULL keeps what is stored (lm_results_update_instance). */
static const char *const insert_sql[LM_RK_COUNT] = {
    [LM_RK_SERVICE] = "INSERT INTO services(id, name, function, runtime, config_json,"
                      " created_ns, platform) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [LM_RK_INSTANCE] =
        "INSERT INTO instances(id, service_id, runtime, pid, cgroup, start_ns, spawn_ns,"
        " ready_ns, stop_ns, end_reason, exit_status, placement_ms, cold_start_ms,"
        " phase_placement_ns, phase_spawn_ns, phase_create_ns, phase_start_ns,"
        " phase_runtime_ns, phase_load_ns, phase_instantiate_ns, phase_init_ns,"
        " phase_ready_ns, phase_clock, placement_ahead_ns, node, pod, pod_uid)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)"
        " ON CONFLICT(id) DO UPDATE SET"
        " service_id = coalesce(excluded.service_id, service_id),"
        " runtime = coalesce(excluded.runtime, runtime), pid = coalesce(excluded.pid, pid),"
        " cgroup = coalesce(excluded.cgroup, cgroup),"
        " start_ns = coalesce(excluded.start_ns, start_ns),"
        " spawn_ns = coalesce(excluded.spawn_ns, spawn_ns),"
        " ready_ns = coalesce(excluded.ready_ns, ready_ns),"
        " stop_ns = coalesce(excluded.stop_ns, stop_ns),"
        " end_reason = coalesce(excluded.end_reason, end_reason),"
        " exit_status = coalesce(excluded.exit_status, exit_status),"
        " placement_ms = coalesce(excluded.placement_ms, placement_ms),"
        " cold_start_ms = coalesce(excluded.cold_start_ms, cold_start_ms),"
        " phase_placement_ns = coalesce(excluded.phase_placement_ns, phase_placement_ns),"
        " phase_spawn_ns = coalesce(excluded.phase_spawn_ns, phase_spawn_ns),"
        " phase_create_ns = coalesce(excluded.phase_create_ns, phase_create_ns),"
        " phase_start_ns = coalesce(excluded.phase_start_ns, phase_start_ns),"
        " phase_runtime_ns = coalesce(excluded.phase_runtime_ns, phase_runtime_ns),"
        " phase_load_ns = coalesce(excluded.phase_load_ns, phase_load_ns),"
        " phase_instantiate_ns = coalesce(excluded.phase_instantiate_ns, phase_instantiate_ns),"
        " phase_init_ns = coalesce(excluded.phase_init_ns, phase_init_ns),"
        " phase_ready_ns = coalesce(excluded.phase_ready_ns, phase_ready_ns),"
        " phase_clock = coalesce(excluded.phase_clock, phase_clock),"
        " placement_ahead_ns = coalesce(excluded.placement_ahead_ns, placement_ahead_ns),"
        " node = coalesce(excluded.node, node), pod = coalesce(excluded.pod, pod),"
        " pod_uid = coalesce(excluded.pod_uid, pod_uid)",
    [LM_RK_REQUEST] =
        "INSERT INTO requests(id, service_id, instance_id, status_http, cold, intended_send_ns,"
        " send_ns, ingress_ns, queued_ns, acquired_ns, cold_begin_ns, cold_ready_ns,"
        " dispatch_ns, result_ns, response_ns, receive_ns, deser_ns, io_ns, compute_ns, ser_ns,"
        " func_total_ns, io_read_bytes, io_write_bytes, io_calls, cpu_user_ns, cpu_system_ns,"
        " mem_peak_bytes, error, cpu_ns, cell_id, excluded, phase_placement_ns, phase_spawn_ns,"
        " phase_create_ns, phase_start_ns, phase_runtime_ns, phase_load_ns,"
        " phase_instantiate_ns, phase_init_ns, phase_ready_ns, phase_clock, node)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34,"
        " ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42)",
    [LM_RK_SAMPLE] = "INSERT INTO samples(instance_id, t_ns, cpu_user_ns, cpu_system_ns,"
                     " mem_current_bytes, mem_peak_bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [LM_RK_EVENT] = "INSERT INTO events(t_ns, kind, service_id, instance_id, detail_json)"
                    " VALUES(?1, ?2, ?3, ?4, ?5)",
    [LM_RK_CELL] =
        "INSERT INTO cells(id, name, function, runtime, payload, start, load, concurrency,"
        " rate_rps, repetition, service_id, planned_requests, status, started_ns, finished_ns,"
        " error, node, network) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14, ?15, ?16, ?17, ?18)"
        " ON CONFLICT(id) DO UPDATE SET name = coalesce(excluded.name, name),"
        " function = coalesce(excluded.function, function),"
        " runtime = coalesce(excluded.runtime, runtime),"
        " payload = coalesce(excluded.payload, payload), start = coalesce(excluded.start, start),"
        " load = coalesce(excluded.load, load),"
        " concurrency = coalesce(excluded.concurrency, concurrency),"
        " rate_rps = coalesce(excluded.rate_rps, rate_rps),"
        " repetition = coalesce(excluded.repetition, repetition),"
        " service_id = coalesce(excluded.service_id, service_id),"
        " planned_requests = coalesce(excluded.planned_requests, planned_requests),"
        " status = coalesce(excluded.status, status),"
        " started_ns = coalesce(excluded.started_ns, started_ns),"
        " finished_ns = coalesce(excluded.finished_ns, finished_ns),"
        " error = coalesce(excluded.error, error), node = coalesce(excluded.node, node),"
        " network = coalesce(excluded.network, network)",
    [LM_RK_ARTIFACT] = "INSERT INTO artifacts(function, runtime, kind, path, bytes)"
                       " VALUES(?1, ?2, ?3, ?4, ?5)",
    /* The load client's view, joined to the gateway's row by id. */
    [LM_RK_CLIENT] = "UPDATE requests SET intended_send_ns = coalesce(?2, intended_send_ns),"
                     " send_ns = coalesce(?3, send_ns), receive_ns = coalesce(?4, receive_ns),"
                     " excluded = coalesce(?5, excluded) WHERE id = ?1",
};

/* Runs SQL that returns at most one integer; -1 with err on failure. */
static int query_int(lm_results *r, const char *sql, long long *out, char *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return LM_OK;
    }
    lm_errf(err, "results database %s: cannot read it (%s): is it a SQLite database?", r->path,
            sqlite3_errmsg(r->db));
    sqlite3_finalize(st);
    return LM_ERR;
}

static int exec(lm_results *r, const char *sql, const char *what, char *err) {
    char *msg = NULL;
    if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) == SQLITE_OK) return LM_OK;
    lm_errf(err, "results database %s: %s failed (%s)", r->path, what,
            msg ? msg : sqlite3_errmsg(r->db));
    sqlite3_free(msg);
    return LM_ERR;
}

/* Text value when value is not NULL, else the integer n. */
static int meta_put(lm_results *r, const char *key, const char *value, long long n, char *err) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", -1,
                                &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (value)
            sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, 2, n);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return LM_OK;
    return lm_errf(err, "results database %s: writing meta '%s' failed (%s)", r->path, key,
                   sqlite3_errmsg(r->db));
}

/* The meta rows written once, when the file is created. */
static int meta_initial(lm_results *r, const lm_results_opts *o, char *err) {
    struct utsname u;
    if (uname(&u) != 0) memset(&u, 0, sizeof u);
    int64_t wall = o->anchor_realtime_ns, mono = o->anchor_monotonic_ns;
    if (wall == 0 && mono == 0) {
        wall = (int64_t)lm_wall_ns();
        mono = (int64_t)lm_now_ns();
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long long mem = (long long)sysconf(_SC_PHYS_PAGES) * (long long)sysconf(_SC_PAGESIZE);
    struct {
        const char *key;
        const char *s; /* NULL: the integer n */
        long long n;
    } rows[] = {
        {"schema_version", NULL, LM_RESULTS_SCHEMA_VERSION},
        {"lumos_version", o->lumos_version ? o->lumos_version : "unknown", 0},
        {"anchor_realtime_ns", NULL, (long long)wall},
        {"anchor_monotonic_ns", NULL, (long long)mono},
        {"host_name", u.nodename, 0},
        {"host_os", u.sysname, 0},
        {"host_kernel", u.release, 0},
        {"host_arch", u.machine, 0},
        {"host_cpus", NULL, cpus},
        {"host_mem_bytes", NULL, mem},
        {"sqlite_version", sqlite3_libversion(), 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (meta_put(r, rows[i].key, rows[i].s, rows[i].n, err) != LM_OK) return LM_ERR;
    return LM_OK;
}

/* The refusals by version alone (v is PRAGMA user_version): newer than this
 * code, negative, or 0 in a file that already has tables. */
static int check_version(lm_results *r, long long v, char *err) {
    if (v > LM_RESULTS_SCHEMA_VERSION)
        return lm_errf(err,
                       "results database %s has schema version %lld, newer than this Lumos "
                       "knows (%d): open it with a newer Lumos, or write to a new file",
                       r->path, v, LM_RESULTS_SCHEMA_VERSION);
    if (v < 0)
        return lm_errf(err,
                       "results database %s has schema version %lld, which no Lumos writes: it "
                       "is not a Lumos results database; write to a new file",
                       r->path, v);
    if (v != 0) return LM_OK;
    long long tables = 0;
    if (query_int(r, "SELECT count(*) FROM sqlite_schema", &tables, err) != LM_OK) return LM_ERR;
    if (tables != 0)
        return lm_errf(err,
                       "results database %s: not a Lumos results database (it has tables but no "
                       "schema version): choose a new file name",
                       r->path);
    return LM_OK;
}

/* A new file: version 1, every migration's DDL, the initial meta rows. */
static int create_schema(lm_results *r, const lm_results_opts *o, char *err) {
    if (exec(r, schema_v1, "creating the schema", err) != LM_OK) return LM_ERR;
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++)
        if (exec(r, migrations[i].ddl, "creating the schema", err) != LM_OK) return LM_ERR;
    return meta_initial(r, o, err);
}

/* An older file, version `from`: each migration's DDL and fill in turn. */
static int migrate_schema(lm_results *r, long long from, char *err) {
    char what[96];
    snprintf(what, sizeof what, "migrating it from schema version %lld to %d", from,
             LM_RESULTS_SCHEMA_VERSION);
    for (long long v = from; v < LM_RESULTS_SCHEMA_VERSION; v++)
        if (exec(r, migrations[v - 1].ddl, what, err) != LM_OK ||
            exec(r, migrations[v - 1].fill, what, err) != LM_OK)
            return LM_ERR;
    if (meta_put(r, "schema_version", NULL, LM_RESULTS_SCHEMA_VERSION, err) != LM_OK ||
        meta_put(r, "migrated_from", NULL, from, err) != LM_OK)
        return LM_ERR;
    return LM_OK;
}

/* Brings the file to LM_RESULTS_SCHEMA_VERSION in one transaction: creates
 * the schema in a new file or migrates an older one. The version is read
 * again under the write lock, so when two processes open the file at once
 * the second finds the work done (or a version to refuse) and does nothing. */
static int upgrade_schema(lm_results *r, const lm_results_opts *o, char *err) {
    if (exec(r, "BEGIN IMMEDIATE", "locking it to create or migrate the schema", err) != LM_OK)
        return LM_ERR;
    long long v = 0;
    if (query_int(r, "PRAGMA user_version", &v, err) != LM_OK || check_version(r, v, err) != LM_OK)
        goto fail;
    if (v == LM_RESULTS_SCHEMA_VERSION) return exec(r, "COMMIT", "opening", err);
    if ((v == 0 ? create_schema(r, o, err) : migrate_schema(r, v, err)) != LM_OK) goto fail;
    char setv[64];
    snprintf(setv, sizeof setv, "PRAGMA user_version = %d", LM_RESULTS_SCHEMA_VERSION);
    if (exec(r, setv, "setting the schema version", err) != LM_OK) goto fail;
    return exec(r, "COMMIT", "committing the schema", err);
fail:
    sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    return LM_ERR;
}

int lm__results_db_open(lm_results *r, const lm_results_opts *o, char *err) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(r->path, &r->db, flags, NULL) != SQLITE_OK) {
        lm_errf(err,
                "results database %s: cannot open it (%s): check that its folder exists and "
                "is writable",
                r->path, r->db ? sqlite3_errmsg(r->db) : "out of memory");
        return LM_ERR;
    }
    sqlite3_extended_result_codes(r->db, 1);
    sqlite3_busy_timeout(r->db, o->busy_timeout_ms ? (int)o->busy_timeout_ms : 2000);
    if (sqlite3_db_readonly(r->db, "main") == 1)
        return lm_errf(err,
                       "results database %s: the file is read-only: make it writable or "
                       "choose another file",
                       r->path);
    long long v = 0;
    if (query_int(r, "PRAGMA user_version", &v, err) != LM_OK || check_version(r, v, err) != LM_OK)
        return LM_ERR;
    /* A new file gets 16 KiB pages: a row is written in fewer page
     * operations (bench/results_bench: flush 8% faster than with 4 KiB).
     * It takes effect only before the first table, so old files keep theirs. */
    if (v == 0 && exec(r, "PRAGMA page_size=16384", "setting the page size", err) != LM_OK)
        return LM_ERR;
    /* journal_mode answers with the mode it is in: not "wal" means refused. */
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(r->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_ROW &&
             strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!ok)
        return lm_errf(err,
                       "results database %s: cannot switch it to WAL mode (%s): put it on a "
                       "local file system",
                       r->path, sqlite3_errmsg(r->db));
    if (exec(r, "PRAGMA synchronous=NORMAL", "setting synchronous=NORMAL", err) != LM_OK)
        return LM_ERR;
    if (v < LM_RESULTS_SCHEMA_VERSION && upgrade_schema(r, o, err) != LM_OK) return LM_ERR;
    for (int k = 0; k < LM_RK_COUNT; k++)
        if (sqlite3_prepare_v3(r->db, insert_sql[k], -1, SQLITE_PREPARE_PERSISTENT, &r->st[k],
                               NULL) != SQLITE_OK)
            return lm_errf(err, "results database %s: preparing a statement failed (%s)", r->path,
                           sqlite3_errmsg(r->db));
    /* The requests' INSERT with LM_RESULTS_MULTI rows of one "?" per column. */
    const char *one = insert_sql[LM_RK_REQUEST];
    const char *values = strstr(one, " VALUES(");
    char sql[8192];
    size_t n = (size_t)(values - one);
    memcpy(sql, one, n);
    n += (size_t)snprintf(sql + n, sizeof sql - n, " VALUES");
    for (int j = 0; j < LM_RESULTS_MULTI; j++) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s(", j ? "," : "");
        for (int c = 0; c < LM__RESULTS_REQUEST_COLUMNS; c++)
            n += (size_t)snprintf(sql + n, sizeof sql - n, "%s?", c ? "," : "");
        n += (size_t)snprintf(sql + n, sizeof sql - n, ")");
    }
    if (n >= sizeof sql ||
        sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &r->multi, NULL) != SQLITE_OK)
        return lm_errf(err, "results database %s: preparing a statement failed (%s)", r->path,
                       sqlite3_errmsg(r->db));
    return LM_OK;
}

int lm__results_db_index(lm_results *r, char *err) {
    return exec(r, deferred_indexes, "building the requests indexes", err);
}

void lm__results_db_close(lm_results *r) {
    for (int k = 0; k < LM_RK_COUNT; k++) {
        sqlite3_finalize(r->st[k]);
        r->st[k] = NULL;
    }
    sqlite3_finalize(r->multi);
    r->multi = NULL;
    sqlite3_close(r->db);
    r->db = NULL;
}

int lm_results_set_meta(lm_results *r, const char *key, const char *value, char *err) {
    if (!r || !key || !value) return lm_errf(err, "lm_results_set_meta: missing argument");
    pthread_mutex_lock(&r->write_mu);
    int rc = meta_put(r, key, value, 0, err);
    pthread_mutex_unlock(&r->write_mu);
    return rc;
}
