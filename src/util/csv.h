/* csv.h -- the one CSV writer (RFC 4180): every CSV file Lumos writes
 * (a run's requests.csv and summary.csv, `lumos export`) quotes its fields
 * through it. */
#ifndef LM_UTIL_CSV_H
#define LM_UTIL_CSV_H

#include <stddef.h>
#include <stdio.h>

enum {
    /* Quote the field even when nothing in it needs quoting (a column of
     * free text, so that an empty value reads as "" and not as missing). */
    LM_CSV_QUOTE = 1,
    /* Write CR and LF as spaces, so that every record stays one line (for
     * line-oriented tools); without it they are kept inside the quotes. */
    LM_CSV_ONE_LINE = 2,
};

/* Writes s[0..n) as one field: quoted when it holds a comma, a quote, CR or
 * LF (or when flags has LM_CSV_QUOTE), quotes inside doubled. s may be NULL
 * when n is 0 (an empty field, which reads as SQL NULL in `lumos export`). */
void lm_csv_field(FILE *out, const char *s, size_t n, int flags);

#endif
