/* csv.c -- CSV fields with RFC 4180 quoting (csv.h). */
#include "util/csv.h"

void lm_csv_field(FILE *out, const char *s, size_t n, int flags) {
    int quote = flags & LM_CSV_QUOTE;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        if (n) fwrite(s, 1, n, out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') fputc('"', out);
        if ((flags & LM_CSV_ONE_LINE) && (c == '\n' || c == '\r')) c = ' ';
        fputc(c, out);
    }
    fputc('"', out);
}
