/* read.c -- the strict trace reader (trace.h): the header line, the column
 * line, then every row checked before the caller sees any of it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"

enum { C_OFFSET, C_FUNCTION, C_RUNTIME, C_PAYLOAD, C_START, NCOLS };
static const char *const col_names[NCOLS] = {"offset_us", "function", "runtime", "payload",
                                             "start"};
#define COLUMNS "offset_us,function,runtime,payload,start"

static int header_pair(lm__csv *c, lm_trace *t, char *tok, int *have_mode, char *conc, char *err) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok) return lm__csv_errf(c, err, "header: '%s' is not key=value", tok);
    *eq = '\0';
    const char *key = tok, *val = eq + 1;
    if (!*val) return lm__csv_errf(c, err, "header: %s= has no value", key);
    int dup = lm_trace_get_key(t, key) != NULL;
    if (strcmp(key, "mode") == 0) {
        dup = *have_mode;
        if (!dup) {
            if (strcmp(val, "open") == 0)
                t->mode = LM_TRACE_OPEN;
            else if (strcmp(val, "closed") == 0)
                t->mode = LM_TRACE_CLOSED;
            else
                return lm__csv_errf(c, err, "mode: '%s' is neither open nor closed", val);
            *have_mode = 1;
        }
    } else if (strcmp(key, "concurrency") == 0) {
        dup = *conc != '\0';
        if (!dup) snprintf(conc, 32, "%.31s", val);
    }
    if (dup) return lm__csv_errf(c, err, "header: %s given twice", key);
    if (strcmp(key, "mode") == 0 || strcmp(key, "concurrency") == 0) return LM_OK;
    char e[LM_ERRLEN];
    if (lm_trace_set_key(t, key, val, e) != LM_OK) return lm__csv_errf(c, err, "%s", e);
    return LM_OK;
}

/* Line 1: "# lumos-trace 1" and key=value pairs. */
static int read_header(lm__csv *c, lm_trace *t, char *err) {
    int r = lm__csv_next(c, err);
    if (r < 0) return LM_ERR;
    if (r == 0)
        return lm_errf(err,
                       "%s: the file is empty (a trace starts with '# lumos-trace 1 "
                       "mode=open')",
                       c->name);
    char *save = NULL, *tok = strtok_r(c->line, " \t", &save);
    if (!tok || strcmp(tok, "#") != 0 || !(tok = strtok_r(NULL, " \t", &save)) ||
        strcmp(tok, "lumos-trace") != 0)
        return lm__csv_errf(c, err,
                            "not a Lumos trace: the first line must be '# lumos-trace 1 "
                            "mode=open' (or mode=closed concurrency=N)");
    tok = strtok_r(NULL, " \t", &save);
    if (!tok || strcmp(tok, "1") != 0)
        return lm__csv_errf(c, err,
                            "version '%s' is not supported (this Lumos reads lumos-trace 1)",
                            tok ? tok : "");
    int have_mode = 0;
    char conc[32] = "";
    while ((tok = strtok_r(NULL, " \t", &save)))
        if (header_pair(c, t, tok, &have_mode, conc, err) != LM_OK) return LM_ERR;
    if (!have_mode) return lm__csv_errf(c, err, "header: no mode=open or mode=closed");
    if (t->mode == LM_TRACE_OPEN && *conc)
        return lm__csv_errf(c, err,
                            "concurrency: only a mode=closed trace has clients (remove it, or "
                            "use mode=closed)");
    if (t->mode == LM_TRACE_CLOSED) {
        uint64_t n;
        if (!*conc)
            return lm__csv_errf(c, err,
                                "header: mode=closed needs concurrency=N (the number of clients)");
        if (lm__parse_uint(conc, 100000, &n) != LM_OK || n == 0)
            return lm__csv_errf(c, err, "concurrency: '%s' is not a whole number from 1 to 100000",
                                conc);
        t->concurrency = (int)n;
    }
    return LM_OK;
}

/* Line 2: the five columns, by name. */
static int read_columns(lm__csv *c, int *col_of, char *err) {
    int r = lm__csv_next(c, err);
    if (r < 0) return LM_ERR;
    if (r == 0)
        return lm_errf(err, "%s: no column line after the header (want %s)", c->name, COLUMNS);
    if (lm__csv_split(c, err) != LM_OK) return LM_ERR;
    int seen[NCOLS] = {0};
    for (size_t i = 0; i < c->nfields; i++) {
        int k = 0;
        while (k < NCOLS && strcmp(c->fields[i], col_names[k]) != 0)
            k++;
        if (k == NCOLS)
            return lm__csv_errf(c, err, "column '%s' is not a trace column (%s)", c->fields[i],
                                COLUMNS);
        if (seen[k]) return lm__csv_errf(c, err, "column '%s' given twice", col_names[k]);
        seen[k] = 1;
        col_of[k] = (int)i;
    }
    for (int k = 0; k < NCOLS; k++)
        if (!seen[k])
            return lm__csv_errf(c, err, "missing column '%s' (a trace has %s)", col_names[k],
                                COLUMNS);
    return LM_OK;
}

static int parse_offset(lm__csv *c, const char *s, int64_t prev, int64_t *out, char *err) {
    uint64_t v;
    if (!*s) return lm__csv_errf(c, err, "offset_us: empty (a whole number of microseconds)");
    if (s[0] == '-' && lm__parse_uint(s + 1, UINT64_MAX, &v) == LM_OK)
        return lm__csv_errf(c, err,
                            "offset_us: %s is negative (offsets count from the trace's "
                            "start)",
                            s);
    if (lm__parse_uint(s, UINT64_MAX, &v) != LM_OK)
        return lm__csv_errf(c, err, "offset_us: '%s' is not a whole number of microseconds", s);
    if (v > (uint64_t)LM_TRACE_MAX_OFFSET_US)
        return lm__csv_errf(c, err, "offset_us: %s is above the limit of %lld", s,
                            (long long)LM_TRACE_MAX_OFFSET_US);
    if ((int64_t)v < prev)
        return lm__csv_errf(c, err,
                            "offset_us: %s is before the previous row's %lld (the trace must be "
                            "sorted)",
                            s, (long long)prev);
    *out = (int64_t)v;
    return LM_OK;
}

static int read_row(lm__csv *c, lm_trace *t, const int *col_of, char *err) {
    char e[LM_ERRLEN];
    if (c->len == 0) return lm__csv_errf(c, err, "an empty line (a row has %d fields)", NCOLS);
    if (lm__csv_split(c, err) != LM_OK) return LM_ERR;
    if (c->nfields != NCOLS)
        return lm__csv_errf(c, err, "%zu field%s, but the column line has %d", c->nfields,
                            c->nfields == 1 ? "" : "s", NCOLS);
    const char *f[NCOLS];
    for (int k = 0; k < NCOLS; k++)
        f[k] = c->fields[col_of[k]];
    int64_t off = 0;
    if (parse_offset(c, f[C_OFFSET], t->nrows ? t->rows[t->nrows - 1].offset_us : 0, &off, err) !=
        LM_OK)
        return LM_ERR;
    int added;
    const char *fn = lm__trace_str(t, LM__FUNCTION, f[C_FUNCTION], &added);
    if (!fn) return lm_errf(err, "out of memory");
    if (added && lm_trace_check_function(fn, e) != LM_OK)
        return lm__csv_errf(c, err, "function: %s", e);
    const char *rt = lm__trace_str(t, LM__RUNTIME, f[C_RUNTIME], &added);
    if (!rt) return lm_errf(err, "out of memory");
    if (added && lm_trace_check_runtime(rt, e) != LM_OK)
        return lm__csv_errf(c, err, "runtime: %s", e);
    const lm_trace_payload *p = lm__trace_payload(t, f[C_PAYLOAD], &added, e);
    if (!p || (added && lm_trace_check_payload(f[C_PAYLOAD], t->dir, e) != LM_OK))
        return lm__csv_errf(c, err, "payload: %s", e);
    lm_trace_start st;
    if (lm_trace_parse_start(f[C_START], &st, e) != LM_OK)
        return lm__csv_errf(c, err, "start: %s", e);
    if (lm__trace_push(t, off, fn, rt, p, st, e) != LM_OK) return lm__csv_errf(c, err, "%s", e);
    return LM_OK;
}

int lm_trace_read_stream(FILE *in, const char *name, const char *dir, lm_trace **out, char *err) {
    *out = NULL;
    lm_trace *t = lm_trace_new(LM_TRACE_OPEN, 0, dir);
    if (!t) return lm_errf(err, "out of memory");
    lm__csv c;
    lm__csv_init(&c, in, name);
    int col_of[NCOLS], r = 0;
    if (read_header(&c, t, err) != LM_OK || read_columns(&c, col_of, err) != LM_OK) goto fail;
    while ((r = lm__csv_next(&c, err)) > 0)
        if (read_row(&c, t, col_of, err) != LM_OK) goto fail;
    if (r < 0) goto fail;
    if (t->nrows == 0) {
        lm_errf(err, "%s: no rows after the column line (a trace needs at least one request)",
                name);
        goto fail;
    }
    lm__csv_free(&c);
    *out = t;
    return LM_OK;
fail:
    lm__csv_free(&c);
    lm_trace_free(t);
    return LM_ERR;
}

int lm_trace_read(const char *path, lm_trace **out, char *err) {
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return lm_errf(err, "%s: cannot open: %s", path, strerror(errno));
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    int rc = lm_trace_read_stream(f, path, dir, out, err);
    fclose(f);
    return rc;
}
