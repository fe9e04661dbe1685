/* results_impl.h -- what the results store's files share inside src/store:
 * the handle, its prepared statements and the locking rules. Not a contract
 * for other rooms (they use store.h). */
#ifndef LM_RESULTS_IMPL_H
#define LM_RESULTS_IMPL_H

#include <pthread.h>
#include <sqlite3.h>

#include "results/results.h"

/* Kinds of rows in a batch; each has one prepared statement. */
enum {
    LM_RK_SERVICE,
    LM_RK_INSTANCE,
    LM_RK_REQUEST,
    LM_RK_SAMPLE,
    LM_RK_EVENT,
    LM_RK_CELL,
    LM_RK_ARTIFACT,
    LM_RK_CLIENT,
    LM_RK_COUNT
};

/* Requests written by one multi-row INSERT (writer.c). */
#define LM_RESULTS_MULTI 32
/* The values of one request row (schema version 5). */
#define LM__RESULTS_REQUEST_COLUMNS 42

/* Any row, as a batch holds it. */
typedef union {
    lm_results_service s;
    lm_results_instance i;
    lm_results_request q;
    lm_results_sample m;
    lm_results_event e;
    lm_results_cell c;
    lm_results_artifact a;
    lm_results_client_times t;
} lm__results_row;

/* Locking: mu guards active, active_rows, the counters, bg_err and stop; it
 * is the only lock a producer takes, and never across a database call.
 * write_mu guards db, the statements and spare: whoever writes to the file
 * (the writer thread, lm_results_flush, export) holds it, so batches reach
 * the file in the order they were swapped out. Order: write_mu before mu. */
struct lm_results {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *st[LM_RK_COUNT];
    sqlite3_stmt *multi; /* LM_RESULTS_MULTI requests in one INSERT */
    lm__results_row group[LM_RESULTS_MULTI];

    pthread_mutex_t mu;
    pthread_cond_t wake; /* signals the writer: rows reached flush_rows, or stop */
    lm_buf active;       /* the batch add_* appends to */
    uint64_t active_rows;
    lm_results_stats stats; /* rows_pending is computed on demand */
    int bg_failed;          /* a background write failed since the last flush() */
    char bg_err[LM_ERRLEN];
    int stop;

    pthread_mutex_t write_mu;
    lm_buf spare; /* the batch being written */

    int background;
    pthread_t thread;
    unsigned flush_ms, flush_rows;
};

/* Opens the file, checks or creates the schema, prepares the statements
 * (schema.c). Fills r->db and r->st; LM_OK or LM_ERR with err. */
int lm__results_db_open(lm_results *r, const lm_results_opts *o, char *err);
/* Finalizes the statements and closes the database (schema.c). */
void lm__results_db_close(lm_results *r);
/* Builds the indexes kept out of the way of writing (schema.c). */
int lm__results_db_index(lm_results *r, char *err);
/* Writes everything pending, under write_mu (results.c). */
int lm__results_drain(lm_results *r, char *err);

/* The read-only handle (reader.c; reader_cells.c reads through it too). */
struct lm_results_reader {
    sqlite3 *db;
    char *path;
    long long version; /* PRAGMA user_version, 1..LM_RESULTS_SCHEMA_VERSION */
};

/* Writes table (a name lm__results_table_known accepts) of db as CSV
 * (export.c) or JSON (export_json.c) to out, the way results.h says;
 * path names the file in errors. The caller holds whatever lock db needs. */
int lm__results_csv(sqlite3 *db, const char *path, const char *table, FILE *out, char *err);
int lm__results_json(sqlite3 *db, const char *path, const char *table, FILE *out, char *err);
/* 1 when table is one of lm_results_tables. */
int lm__results_table_known(const char *table);

#endif
