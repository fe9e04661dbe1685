/* compare.h -- the same cells of two results databases side by side
 * (`lumos compare DB1 DB2`): two machines, two versions, two settings. Each
 * database is read into groups with their statistics by the report room's
 * cells (report/cells.h: by cell, or by service and start type when either
 * file has no cells), the groups are matched by name (else, for cells, by
 * function, runtime, payload, start, load, concurrency, rate and
 * repetition), and each pair gets the ratio of DB2's median to DB1's with a
 * percentile bootstrap interval (stats.h); a pair whose interval excludes 1
 * is a change, slower (above 1) or faster. Groups only in one file are
 * listed. docs/model.md ("lumos compare") is the method. */
#ifndef LM_MODEL_COMPARE_H
#define LM_MODEL_COMPARE_H

#include <stdio.h>

#include "report/cells.h"

typedef struct {
    size_t a, b;            /* indexes into s1.groups and s2.groups */
    const char *matched_by; /* "name" or "key" */
    int ok;                 /* 0: no ratio (err says why) */
    char err[160];
    lm_stats_ratio r; /* median(b) / median(a), its interval */
    double p99_ratio; /* p99(b) / p99(a), a point estimate (NaN when not given) */
    int change;       /* +1 slower (interval above 1), -1 faster (below), 0 none */
    int same_source;  /* 0: the two sides' e2e values come from different sources */
} lm_model_cmp_row;

typedef struct {
    const char *db1, *db2;
    lm_report_metric metric;
    lm_stats_boot_opts boot; /* B, seed, level; center is the median */
    /* Filled by lm_model_compare_run: */
    lm_report_summary s1, s2;
    int by_cell;
    char note[256]; /* why the files are compared by service, or "" */
    lm_model_cmp_row *rows;
    size_t nrows;
    size_t *only1, *only2; /* groups of one file without a match in the other */
    size_t nonly1, nonly2;
    size_t slower, faster;
} lm_model_compare;

/* Reads both files and compares them. LM_ERR with err: a file cannot be
 * read or is newer than this Lumos, or holds no request of a cell or
 * service ("... holds no request: nothing to compare"), or out of memory. */
int lm_model_compare_run(lm_model_compare *c, char *err);

/* Frees what run made. NULL is a harmless no-op. */
void lm_model_compare_free(lm_model_compare *c);

/* A table for a terminal; JSON; a self-contained HTML page (no script, no
 * external resource) into path through a temporary and a rename. */
void lm_model_compare_print_text(FILE *out, const lm_model_compare *c);
void lm_model_compare_print_json(FILE *out, const lm_model_compare *c);
int lm_model_compare_write_html(const char *path, const lm_model_compare *c, char *err);

#endif
