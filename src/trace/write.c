/* write.c -- a trace written in the file format (trace.h). */
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"
#include "util/csv.h"

static void field(FILE *out, const char *s) { lm_csv_field(out, s, strlen(s), 0); }

int lm_trace_write(FILE *out, const lm_trace *t) {
    fprintf(out, "# lumos-trace %d mode=%s", LM_TRACE_VERSION,
            t->mode == LM_TRACE_CLOSED ? "closed" : "open");
    if (t->mode == LM_TRACE_CLOSED) fprintf(out, " concurrency=%d", t->concurrency);
    for (size_t i = 0; i < t->nkeys; i++)
        fprintf(out, " %s=%s", t->keys[i].key, t->keys[i].value);
    fputs("\noffset_us,function,runtime,payload,start\n", out);
    for (size_t i = 0; i < t->nrows; i++) {
        const lm_trace_row *r = &t->rows[i];
        fprintf(out, "%lld,", (long long)r->offset_us);
        field(out, r->function);
        fputc(',', out);
        field(out, r->runtime);
        fputc(',', out);
        field(out, r->payload->text);
        fprintf(out, ",%s\n", lm_trace_start_name(r->start));
    }
    return ferror(out) ? LM_ERR : LM_OK;
}

int lm_trace_save(const char *path, const lm_trace *t, char *err) {
    if (strcmp(path, "-") == 0) {
        if (lm_trace_write(stdout, t) != LM_OK || fflush(stdout) != 0)
            return lm_errf(err, "cannot write the trace to stdout");
        return LM_OK;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) return lm_errf(err, "out of memory");
    int rc = lm_trace_write(m, t);
    if (fclose(m) != 0) rc = LM_ERR;
    if (rc != LM_OK) {
        free(buf);
        return lm_errf(err, "%s: out of memory while writing the trace", path);
    }
    rc = lm_file_write(path, buf, len, err);
    free(buf);
    return rc;
}
