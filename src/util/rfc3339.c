/* rfc3339.c -- RFC 3339 UTC times as runc writes them into its state
 * (util.h lm_rfc3339_ns). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

uint64_t lm_rfc3339_ns(const char *s) {
    if (!s) return 0;
    /* Exactly YYYY-MM-DDTHH:MM:SS, each field its digits. */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < sizeof(shape) - 1; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return 0;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = atoi(s) - 1900;
    tm.tm_mon = atoi(s + 5) - 1;
    tm.tm_mday = atoi(s + 8);
    tm.tm_hour = atoi(s + 11);
    tm.tm_min = atoi(s + 14);
    tm.tm_sec = atoi(s + 17);
    if (tm.tm_year < 70 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return 0;
    const char *p = s + sizeof(shape) - 1;
    uint64_t frac = 0;
    int digits = 0;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9) frac = frac * 10 + (uint64_t)(*p - '0');
        if (digits == 0) return 0;
        for (int k = digits; k < 9; k++)
            frac *= 10;
    }
    if (p[0] != 'Z' || p[1] != 0) return 0;
    struct tm want = tm;
    time_t t = timegm(&tm);
    /* A day the month does not have (February 30) would be moved on. */
    if (tm.tm_mday != want.tm_mday || tm.tm_mon != want.tm_mon || tm.tm_year != want.tm_year)
        return 0;
    /* In ns since 1970 a uint64_t holds up to the year 2554 (the fuzzer
     * found the overflow past it). */
    if (t == (time_t)-1 || t < 0 || (uint64_t)t > (UINT64_MAX - 999999999u) / 1000000000u) return 0;
    return (uint64_t)t * 1000000000u + frac;
}
