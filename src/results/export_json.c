/* export_json.c -- one table of the results database as JSON (results.h,
 * lm_results_reader_export): an array of one object per row, one row per
 * line, SQL types kept (INTEGER as an integer, REAL as a number with a
 * fraction or an exponent, NULL as null), text escaped by RFC 8259 with
 * anything that is not UTF-8 replaced by U+FFFD, so any file gives valid
 * JSON. */
#include "results/internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void put_string(FILE *out, const unsigned char *s, int n) {
    fputc('"', out);
    for (int i = 0; i < n;) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            int len = (int)lm_utf8_len(s + i, (size_t)(n - i));
            if (len) {
                fwrite(s + i, 1, (size_t)len, out);
                i += len;
            } else {
                fputs("\xEF\xBF\xBD", out);
                i++;
            }
            continue;
        }
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 0x20)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
        i++;
    }
    fputc('"', out);
}

static void put_real(FILE *out, double v) {
    if (!isfinite(v)) {
        fputs("null", out);
        return;
    }
    char b[40];
    snprintf(b, sizeof b, "%.17g", v);
    /* 3.0 prints as "3": keep it a real for a reader that tells them apart. */
    fputs(b, out);
    if (!strpbrk(b, ".eE")) fputs(".0", out);
}

static void put_value(FILE *out, sqlite3_stmt *st, int c) {
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_NULL: fputs("null", out); break;
    case SQLITE_INTEGER: fprintf(out, "%lld", (long long)sqlite3_column_int64(st, c)); break;
    case SQLITE_FLOAT: put_real(out, sqlite3_column_double(st, c)); break;
    default: {
        const unsigned char *s = sqlite3_column_text(st, c);
        put_string(out, s ? s : (const unsigned char *)"", sqlite3_column_bytes(st, c));
    }
    }
}

int lm__results_json(sqlite3 *db, const char *path, const char *table, FILE *out, char *err) {
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY rowid", table);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        lm_errf(err, "results database %s: reading %s failed (%s)", path, table,
                sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return LM_ERR;
    }
    int cols = sqlite3_column_count(st);
    long long rows = 0;
    fputc('[', out);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fputs(rows++ ? ",\n{" : "\n{", out);
        for (int c = 0; c < cols; c++) {
            if (c) fputc(',', out);
            const char *name = sqlite3_column_name(st, c);
            put_string(out, (const unsigned char *)name, (int)strlen(name));
            fputc(':', out);
            put_value(out, st, c);
        }
        fputc('}', out);
    }
    fputs(rows ? "\n]\n" : "]\n", out);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return lm_errf(err, "results database %s: reading %s failed (%s)", path, table,
                       sqlite3_errmsg(db));
    if (fflush(out) != 0 || ferror(out))
        return lm_errf(err,
                       "JSON export of %s: writing the output failed: check the disk and the path",
                       table);
    return LM_OK;
}
