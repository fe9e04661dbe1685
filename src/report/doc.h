/* doc.h -- the whole report of a results database (`lumos report DB
 * --out DIR`, `--format text|json|html`, and `lumos run`'s report): every
 * cell's statistics (cells.h), the figures of the paper and beyond (SVG and
 * PNG by gnuplot, each beside its data as CSV), the findings with their
 * confidence, the paper's six findings beside this machine's, the method,
 * the machine and the runtimes, and every request's raw row per cell under
 * DIR/rows/ so that each number links to the rows it came from.
 * docs/report.md is the method of every figure and finding.
 *
 * A report is read once (lm_report_doc_read: one pass over the requests),
 * then written in any of its forms. It reports what a file has: a cell
 * with no successful request, a runtime missing from a cell, or a file
 * with no requests at all give notes (lm_report_doc_notes) and the rest of
 * the report, not an error. */
#ifndef LM_REPORT_DOC_H
#define LM_REPORT_DOC_H

#include <stdint.h>
#include <stdio.h>

/* The SLO the concurrency findings hold p99 against, by default. */
#define LM_REPORT_SLO_MS 100.0

typedef struct {
    const char *db;       /* the results database */
    const char *dir;      /* the report's folder (index.html, figures/, rows/); NULL: none */
    double slo_ms;        /* 0: LM_REPORT_SLO_MS */
    const char *baseline; /* runtime the ratios are to; NULL: container (else native) for
                             sizes, cold start, latency, CPU and memory, native (else
                             container) for I/O and serialization */
    unsigned resamples;   /* bootstrap B (0: LM_STATS_BOOT_B) */
    uint64_t seed;        /* bootstrap seed (0: 1) */
    const char *gnuplot;  /* the program that draws the figures (NULL: gnuplot on PATH) */
    int progress;         /* 1: progress lines on stderr */
    /* The environment the others are set against, "NODE" or "NODE/NETWORK"
     * ("host", "none": no node, unshaped); NULL: the host, unshaped, else
     * the first the cells name (docs/report.md). */
    const char *env_reference;
} lm_report_doc_opts;

typedef struct lm_report_doc lm_report_doc;

/* Reads o->db and computes everything; with o->dir, also writes
 * DIR/rows/ (the raw rows, one CSV per cell) in the same pass. o's strings
 * must outlive the report. LM_OK with *out (free with lm_report_doc_free),
 * or LM_ERR with err: the file cannot be read (missing, not a results
 * database, a newer schema), the folder cannot be written, out of memory. */
int lm_report_doc_read(const lm_report_doc_opts *o, lm_report_doc **out, char *err);

/* Writes DIR/index.html and DIR/figures/ (the figures' CSV, gnuplot script,
 * SVG and PNG). Without gnuplot the figures' data and scripts are written
 * and a note says so (not an error). LM_ERR with err when the folder
 * cannot be written or o->dir was NULL. */
int lm_report_doc_write_html(lm_report_doc *d, char *err);

/* The report as text tables (for a terminal) and as JSON (version 1: the
 * keys of docs/report.md). */
void lm_report_doc_print_text(const lm_report_doc *d, FILE *f);
void lm_report_doc_print_json(const lm_report_doc *d, FILE *f);

/* The notes: what the report could not do and why (a cell without a
 * successful request, a baseline missing from a cell, no gnuplot), in the
 * order found. *notes points into the report. Returns how many. */
size_t lm_report_doc_notes(const lm_report_doc *d, const char *const **notes);

/* How many requests the file holds, and the figures made (0 without
 * gnuplot, or before lm_report_doc_write_html). */
size_t lm_report_doc_requests(const lm_report_doc *d);
size_t lm_report_doc_figures(const lm_report_doc *d);

/* NULL is a harmless no-op. */
void lm_report_doc_free(lm_report_doc *d);

#endif
