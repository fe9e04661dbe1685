/* results.h -- the results store: one SQLite database (WAL) per experiment with
 * a versioned schema (services, instances, requests, samples, events, meta),
 * written in batches off the request path, and exported as CSV.
 *
 * Writing: the lm_results_add_* calls only copy a row into an in-memory batch
 * (no SQLite call, no system call once the batch buffer has grown to its
 * working size); lm_results_flush writes the whole batch in one transaction
 * with prepared statements. With opts.background a writer thread does the
 * flushing (every flush_ms, or as soon as flush_rows rows are pending), so
 * the producer never waits for the disk: two buffers are swapped under one
 * mutex, which is the only thing producer and writer share.
 *
 * Threads: add_* may be called from one producer thread while the writer (or
 * another thread calling lm_results_flush / lm_results_export_csv) writes.
 * Every call on one handle is safe against the writer thread; two producers
 * at once are safe too (they serialize on the mutex) but not the intended use.
 *
 * Clocks: every *_ns column is nanoseconds. Timestamps are CLOCK_MONOTONIC
 * (lm_now_ns()); durations are marked "(duration)" below. The meta table
 * holds one CLOCK_REALTIME anchor with the CLOCK_MONOTONIC reading taken at
 * the same moment, to place monotonic timestamps on the wall clock.
 *
 * NULLs: an integer field set to LM_RESULTS_NULL, a double field that is NaN
 * and a string pointer that is NULL are stored as SQL NULL ("not measured").
 * The lm_results_*_init functions set every field to NULL; use them, then
 * fill what you measured. Strings are copied by add_*: the caller keeps
 * ownership of its strings and may reuse them as soon as add_* returns.
 *
 * Errors: LM_OK / LM_ERR with a message in the caller's err buffer
 * (LM_ERRLEN bytes; err may be NULL when the caller does not want it). */
#ifndef LM_RESULTS_STORE_H
#define LM_RESULTS_STORE_H

#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/* The schema this code writes (PRAGMA user_version and meta.schema_version).
 * 1: the first. 2: adds requests.cpu_ns. 3: adds cells, artifacts,
 * requests.cell_id and requests.excluded (experiments). 4: cold-start
 * phases. 5: node profiles. 6: services.platform, instances.pod and
 * instances.pod_uid (a cluster's runs).
 * A database with a newer version is refused; an older one is migrated in
 * place when opened (lm_results_open). */
#define LM_RESULTS_SCHEMA_VERSION 6

/* The NULL sentinel of integer fields. */
#define LM_RESULTS_NULL INT64_MIN

typedef struct lm_results lm_results;

typedef struct {
    int background;            /* 1: start the writer thread */
    unsigned flush_ms;         /* writer flushes at least this often (0: 200 ms) */
    unsigned flush_rows;       /* ... and as soon as this many rows wait (0: 4096) */
    unsigned busy_timeout_ms;  /* how long a write waits for a lock held elsewhere (0: 2000) */
    const char *lumos_version; /* written to meta when the file is created (NULL: "unknown") */
    /* The run's clock anchor, written to meta when the file is created; both
     * 0: read both clocks now. */
    int64_t anchor_realtime_ns;
    int64_t anchor_monotonic_ns;
} lm_results_opts;

/* services: a function on a runtime, as deployed. */
typedef struct {
    int64_t id;              /* caller-assigned, unique */
    const char *name;        /* "fibonacci@wasm-aot" */
    const char *function;    /* "fibonacci" */
    const char *runtime;     /* "wasm-aot" */
    const char *config_json; /* the service's settings as JSON */
    int64_t created_ns;      /* when it was deployed */
    /* Where it was deployed (since version 6): "local" (`lumos serve`),
     * "knative" (a cluster, `lumos run --platform knative`). */
    const char *platform;
} lm_results_service;

/* The phases of one cold start (since version 4; docs/cold-start.md):
 * durations in ns, LM_RESULTS_NULL when unknown; they add up to the cold
 * start from the start call to READY (instances.ready_ns - start_ns). */
typedef struct {
    int64_t placement_ns;   /* the cgroup made and joined */
    int64_t spawn_ns;       /* the process made, to the runtime's first instruction */
    int64_t create_ns;      /* containers: runc create (namespaces, mounts, cgroup) */
    int64_t start_ns;       /* containers: runc start, to the container's program */
    int64_t runtime_ns;     /* the runtime's start-up, to reading the module */
    int64_t load_ns;        /* reading, validating, compiling the module */
    int64_t instantiate_ns; /* instantiating it, to the guest's main */
    int64_t init_ns;        /* the guest's main to READY sent */
    int64_t ready_ns;       /* READY sent to READY read by the host */
    /* "monotonic" (every mark on the host's clock, in order), "host-only"
     * (the programs reported no marks), "unaligned" (their marks could not
     * be placed on the host's clock); NULL: no cold start recorded. */
    const char *clock;
} lm_results_phases;

/* instances: one started copy of a service. */
typedef struct {
    const char *id; /* unique, e.g. "fibonacci@wasm-aot#3" */
    int64_t service_id;
    const char *runtime;
    int64_t pid;
    const char *cgroup;       /* its cgroup path, or NULL */
    int64_t start_ns;         /* the pool decided to start it */
    int64_t spawn_ns;         /* the runtime's program was exec'd (placement done) */
    int64_t ready_ns;         /* READY received: the cold start ends */
    int64_t stop_ns;          /* stopped or found dead */
    const char *end_reason;   /* "idle", "oom", "crash", "timeout", "shutdown", ... */
    int64_t exit_status;      /* the wait status as waitpid gives it */
    double placement_ms;      /* start -> spawn (duration, milliseconds) */
    double cold_start_ms;     /* spawn -> ready (duration, milliseconds) */
    lm_results_phases phases; /* its cold start's phases (since version 4) */
    /* Placement done ahead of need by a parked launcher (duration, not in
     * the cold start); NULL when the instance was placed during its start. */
    int64_t placement_ahead_ns;
    const char *node; /* the node profile it ran on (since version 5), NULL: the host */
    /* The Kubernetes pod it ran in, its name and metadata.uid (since
     * version 6); NULL on the one-machine platform. */
    const char *pod, *pod_uid;
} lm_results_instance;

/* requests: one row per request, the whole life of it. */
typedef struct {
    int64_t id; /* caller-assigned, unique (X-Lumos-Request-Id) */
    int64_t service_id;
    const char *instance_id; /* NULL when it never reached an instance */
    int64_t status_http;
    int64_t cold;             /* 1 cold, 0 warm */
    int64_t intended_send_ns; /* the load client's schedule */
    int64_t send_ns;          /* the load client sent it */
    int64_t ingress_ns;       /* the gateway read its first byte */
    int64_t queued_ns;        /* entered the service's queue */
    int64_t acquired_ns;      /* got an instance */
    int64_t cold_begin_ns;    /* cold start began (NULL when warm) */
    int64_t cold_ready_ns;    /* cold start ended (NULL when warm) */
    int64_t dispatch_ns;      /* INVOKE frame written */
    int64_t result_ns;        /* RESULT frame read */
    int64_t response_ns;      /* response written by the gateway */
    int64_t receive_ns;       /* the load client had the whole response */
    int64_t deser_ns;         /* the function's probes (durations) ... */
    int64_t io_ns;
    int64_t compute_ns;
    int64_t ser_ns;
    int64_t func_total_ns; /* ... and its whole handler (duration) */
    int64_t io_read_bytes;
    int64_t io_write_bytes;
    int64_t io_calls;
    /* CPU time attributed to the request (durations). cpu_ns is user +
     * system, exact (the cgroup's total: cpuacct.usage, cpu.stat
     * usage_usec). The split comes from tick-sampled counters, meaningless
     * for a sub-millisecond request, so the gateway fills only cpu_ns and
     * leaves the split NULL; `lumos run` fills all three. */
    int64_t cpu_user_ns;
    int64_t cpu_system_ns;
    int64_t cpu_ns;
    int64_t mem_peak_bytes; /* the instance's peak memory during it */
    const char *error;      /* why it failed, or NULL */
    int64_t cell_id;        /* the experiment cell it was sent for (X-Lumos-Cell), or NULL */
    /* Why it is left out of its cell's statistics (its start type is not
     * the cell's, ...), or NULL: it counts. */
    const char *excluded;
    /* The phases of the cold start it waited for, its instance's (since
     * version 4); all NULL when warm. */
    lm_results_phases phases;
    const char *node; /* the node profile that served it (since version 5), NULL: the host */
} lm_results_request;

/* cells: one measured combination of an experiment (function, runtime,
 * payload, start type, load, repetition) and how far it got. Written with
 * lm_results_put_cell, an upsert: NULL fields keep what is stored. */
typedef struct {
    int64_t id; /* caller-assigned, unique, stable across --resume */
    const char *name;
    const char *function, *runtime;
    const char *payload; /* "group:1", "file:..." */
    const char *start;   /* "cold", "warm" */
    const char *load;    /* how it was driven: "closed", "open", "trace:FILE" */
    int64_t concurrency; /* closed loop clients, or NULL */
    double rate_rps;     /* open loop rate, or NaN */
    int64_t repetition;  /* 1-based */
    int64_t service_id;
    int64_t planned_requests; /* measured requests it is to send */
    const char *status;       /* "running", "done", "failed" */
    int64_t started_ns, finished_ns;
    const char *error; /* why it failed, or NULL */
    /* Its environment axes (since version 5): the node profile and the
     * network condition; NULL when the spec names none. */
    const char *node, *network;
} lm_results_cell;

/* artifacts: what a run executed, and its size on disk. */
typedef struct {
    const char *function, *runtime;
    const char *kind; /* "executable", "module", "image", ... */
    const char *path;
    int64_t bytes;
} lm_results_artifact;

/* The load client's view of a request, joined to the gateway's row with
 * the same id (an UPDATE, applied in order after the row was added): NULL
 * fields keep what is stored. */
typedef struct {
    int64_t id;
    int64_t intended_send_ns, send_ns, receive_ns;
    const char *excluded;
} lm_results_client_times;

/* samples: periodic telemetry of one instance. */
typedef struct {
    const char *instance_id;
    int64_t t_ns;          /* when sampled */
    int64_t cpu_user_ns;   /* cumulative CPU time of the instance (duration) */
    int64_t cpu_system_ns; /* (duration) */
    int64_t mem_current_bytes;
    int64_t mem_peak_bytes;
} lm_results_sample;

/* events: anything else worth a line (autoscaler decisions, OOM kills). */
typedef struct {
    int64_t t_ns;
    const char *kind; /* "scale", "oom", "evict", ... */
    int64_t service_id;
    const char *instance_id;
    const char *detail_json;
} lm_results_event;

/* Counters since open (a snapshot; see lm_results_stats). */
typedef struct {
    uint64_t rows_added;    /* accepted by add_* */
    uint64_t rows_written;  /* committed to the file */
    uint64_t rows_rejected; /* refused by the database one by one (e.g. a duplicate id) */
    uint64_t rows_lost;     /* in batches whose transaction failed (disk gone, locked, ...) */
    uint64_t rows_pending;  /* added, not yet written */
    uint64_t flushes;       /* transactions committed */
} lm_results_stats;

/* Fill every field with NULL (LM_RESULTS_NULL, NaN, NULL pointers). */
void lm_results_service_init(lm_results_service *s);
void lm_results_instance_init(lm_results_instance *i);
void lm_results_request_init(lm_results_request *r);
void lm_results_sample_init(lm_results_sample *s);
void lm_results_event_init(lm_results_event *e);
void lm_results_cell_init(lm_results_cell *c);
void lm_results_artifact_init(lm_results_artifact *a);
void lm_results_client_times_init(lm_results_client_times *t);

/* Creates (schema, meta) or opens the database at path, in WAL mode with
 * synchronous=NORMAL. opts may be NULL (defaults: no writer thread). Returns
 * a handle the caller frees with lm_results_close, or NULL with err set: the
 * folder is missing or not writable, the file is not a SQLite database or not
 * a Lumos results database, its schema version is newer than this code, or
 * migrating it failed. A file with an older schema version is migrated to
 * LM_RESULTS_SCHEMA_VERSION in one transaction (meta.migrated_from records
 * the version it had); two processes opening it at once migrate it once. */
lm_results *lm_results_open(const char *path, const lm_results_opts *opts, char *err);

/* Copy one row into the pending batch. LM_OK, or LM_ERR only when out of
 * memory or when r is NULL (the row is then not recorded). Never touches
 * the database. */
int lm_results_add_service(lm_results *r, const lm_results_service *row, char *err);
int lm_results_add_instance(lm_results *r, const lm_results_instance *row, char *err);
/* Updates the instance row with the same id: fields that are NULL in row
 * keep their stored value, the others replace it (an unknown id inserts
 * the row). Applied in order with add_instance. */
int lm_results_update_instance(lm_results *r, const lm_results_instance *row, char *err);
int lm_results_add_request(lm_results *r, const lm_results_request *row, char *err);
int lm_results_add_sample(lm_results *r, const lm_results_sample *row, char *err);
int lm_results_add_event(lm_results *r, const lm_results_event *row, char *err);
int lm_results_put_cell(lm_results *r, const lm_results_cell *row, char *err);
int lm_results_add_artifact(lm_results *r, const lm_results_artifact *row, char *err);
/* An id the database does not hold updates nothing (not an error). */
int lm_results_add_client_times(lm_results *r, const lm_results_client_times *row, char *err);

/* Writes everything pending in one transaction and waits for it. LM_OK, or
 * LM_ERR when this write, or a background write since the last call to
 * lm_results_flush, failed (err says what; that error is then cleared).
 * A batch whose transaction fails is dropped and counted in rows_lost; a row
 * the database refuses alone is skipped and counted in rows_rejected. */
int lm_results_flush(lm_results *r, char *err);

/* Writes a meta entry now (replacing one with the same key). */
int lm_results_set_meta(lm_results *r, const char *key, const char *value, char *err);

/* A snapshot of the counters. */
void lm_results_stats_get(lm_results *r, lm_results_stats *out);

/* The file's path (owned by the handle). */
const char *lm_results_path(const lm_results *r);

/* Flushes what is pending first, then writes table ("services", "instances",
 * "requests", "samples", "events", "cells", "artifacts" or "meta") to out as CSV: a header row of
 * column names, one line per row in insertion order, fields quoted (with
 * doubled quotes) when they hold a comma, quote, CR or LF, SQL NULL as an
 * empty field and an empty string as "". LM_OK or LM_ERR (unknown table,
 * write error on out, database error). */
int lm_results_export_csv(lm_results *r, const char *table, FILE *out, char *err);

/* ---- experiments (cells.c): each call first writes what is pending ---- */

/* The largest ids the file holds: requests.id, services.id, and the
 * largest number after the last '-' of an instances.id ("native-12"). A
 * second writer of the same file (a resumed run, `lumos serve --results`
 * on an existing file) numbers its rows after them. */
typedef struct {
    int64_t request, service, instance_seq;
} lm_results_ids;
int lm_results_used_ids(lm_results *r, lm_results_ids *out, char *err);

/* Called for every cell in id order with its status (NULL when none was
 * written) and the number of request rows it holds; return LM_OK to go on.
 * The strings are valid during the call only. */
typedef int (*lm_results_cell_fn)(void *arg, int64_t id, const char *name, const char *status,
                                  int64_t rows);
int lm_results_cells(lm_results *r, lm_results_cell_fn fn, void *arg, char *err);

/* Deletes every request row of cell id: an unfinished cell, before it runs
 * again. */
int lm_results_clear_cell(lm_results *r, int64_t id, char *err);

/* A finished cell: marks excluded (`warm in a cold cell`, `cold in a warm
 * cell`) its rows that reached an instance and are not excluded yet, when
 * their start type is not want_cold (1 cold, 0 warm, -1: any start counts);
 * *mismatched receives how many, *rows the cell's rows. */
int lm_results_check_cell(lm_results *r, int64_t id, int want_cold, int64_t *rows,
                          int64_t *mismatched, char *err);

/* Reading a database back (reader.c), for reports: read-only, any file this
 * code or an older one wrote (a file with a newer schema is refused). */
typedef struct lm_results_reader lm_results_reader;

/* Opens path read-only. NULL with err when it is missing, not a SQLite
 * database, not a Lumos results database, or newer than this code. */
lm_results_reader *lm_results_reader_open(const char *path, char *err);

/* The meta value of key as text into out (n bytes): LM_OK, or LM_ERR when
 * there is none. */
int lm_results_reader_meta(lm_results_reader *r, const char *key, char *out, size_t n);

/* One request as a report reads it: the row as written (NULL columns as the
 * NULL values of the write structs), with its service's function and
 * runtime (NULL when it reached no service) and its instance's placement
 * and cold start (NaN when it reached none, or that instance never became
 * ready). The strings are valid during the callback only. */
typedef struct {
    lm_results_request q;
    const char *function, *runtime;
    double placement_ms, cold_start_ms;
    /* Its experiment cell's payload ("group:s"), load ("closed", "open",
     * "trace") and concurrency (closed loops; LM_RESULTS_NULL otherwise);
     * NULL / LM_RESULTS_NULL outside a cell. */
    const char *cell_payload, *cell_load;
    int64_t cell_concurrency;
} lm_results_request_view;

/* Called for each request; return LM_OK to go on, LM_ERR to stop. */
typedef int (*lm_results_request_fn)(void *arg, const lm_results_request_view *v);

/* Calls fn for every request in id order (the order they were recorded
 * in). LM_OK, or LM_ERR with err when reading fails or fn stopped it (then
 * err is whatever fn left there). */
int lm_results_reader_requests(lm_results_reader *r, lm_results_request_fn fn, void *arg,
                               char *err);

/* The file's schema version (1 to LM_RESULTS_SCHEMA_VERSION). */
int lm_results_reader_version(const lm_results_reader *r);

/* Called for each cell (reader_cells.c), the row as written (NULL columns
 * as the NULL values of lm_results_cell). The strings are valid during the
 * callback only. Return LM_OK to go on, LM_ERR to stop. */
typedef int (*lm_results_cell_row_fn)(void *arg, const lm_results_cell *c);

/* Calls fn for every cell in id order; a file older than version 3 has
 * none (LM_OK without a call). LM_ERR with err as for requests. */
int lm_results_reader_cells(lm_results_reader *r, lm_results_cell_row_fn fn, void *arg, char *err);

/* Every table this code knows, in schema order, NULL-terminated. */
extern const char *const lm_results_tables[];

/* 1 when the file has table (cells and artifacts came with version 3),
 * 0 when it does not or table is unknown. */
int lm_results_reader_has_table(lm_results_reader *r, const char *table);

/* Called for every row of a table: its n columns' names and values as
 * text (SQLite's text of an INTEGER or REAL; NULL for SQL NULL), valid
 * during the call only. Return LM_OK to go on, LM_ERR to stop. */
typedef int (*lm_results_row_fn)(void *arg, int n, const char *const *names,
                                 const char *const *values);

/* Calls fn for every row of table (one of lm_results_tables) in insertion
 * order, with whatever columns the file's version has (reader_rows.c). A
 * table the file does not have has no rows (LM_OK without a call). LM_ERR
 * with err: an unknown table, a database error, or fn stopped it (err is
 * then whatever fn left there). */
int lm_results_reader_rows(lm_results_reader *r, const char *table, lm_results_row_fn fn, void *arg,
                           char *err);

typedef enum { LM_RESULTS_CSV, LM_RESULTS_JSON } lm_results_format;

/* Writes table to out, read-only. CSV: exactly what lm_results_export_csv
 * writes (the same code). JSON: an array of one object per row in
 * insertion order, one row per line, keys the column names in order;
 * INTEGER as a JSON integer, REAL with 17 significant digits (always with
 * a '.' or an exponent; an infinity as null), TEXT and BLOB as strings
 * (bytes that are not UTF-8 become U+FFFD), SQL NULL as null. LM_ERR:
 * an unknown table, one the file does not have (naming its version), a
 * database or write error. */
int lm_results_reader_export(lm_results_reader *r, const char *table, lm_results_format format,
                             FILE *out, char *err);

/* Closes it. NULL is a harmless no-op. */
void lm_results_reader_close(lm_results_reader *r);

/* Joins the load client's times into the rows of their ids now, all in
 * one transaction (client_times.c), as lm_results_add_client_times would
 * at its next flush (NULL fields keep what is stored), but saying which
 * rows were there: matched[i] (matched may be NULL) is 1 when rows[i].id
 * had a row, and *updated (may be NULL) gets how many. An id with no row
 * is not an error (another process's writer may not have written it yet:
 * call again for the unmatched ones). LM_OK, or LM_ERR with err when the
 * transaction failed (nothing is then changed). */
int lm_results_set_client_times(lm_results *r, const lm_results_client_times *rows, size_t n,
                                unsigned char *matched, size_t *updated, char *err);

/* Stops the writer thread, flushes what is pending and closes the file.
 * Errors of that last flush are reported on stderr. NULL is a harmless
 * no-op. */
void lm_results_close(lm_results *r);

#endif
