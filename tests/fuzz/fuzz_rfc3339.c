/* fuzz_rfc3339.c -- libFuzzer target for lm_rfc3339_ns (src/util/rfc3339.c),
 * which reads the creation time in runc's state.json. Properties: never a
 * crash, undefined behaviour or a read past the string (ASan, UBSan); a
 * time it takes prints back (strftime of its seconds, then its nine
 * fraction digits) to the input's date and time, and reads back to itself.
 *
 * Built alone by tests/fuzz/run_rfc3339 with the parser only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    uint64_t ns = lm_rfc3339_ns(s);
    if (ns) {
        time_t t = (time_t)(ns / 1000000000u);
        struct tm tm;
        char back[64];
        if (!gmtime_r(&t, &tm)) abort();
        size_t n = strftime(back, sizeof(back), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(back + n, sizeof(back) - n, ".%09uZ", (unsigned)(ns % 1000000000u));
        if (lm_rfc3339_ns(back) != ns) {
            fprintf(stderr, "fuzz_rfc3339: \"%s\" -> %llu -> \"%s\" reads differently\n", s,
                    (unsigned long long)ns, back);
            abort();
        }
        /* The same date and time as given, a second of 60 aside. */
        if (memcmp(back, s, 19) != 0 && s[17] != '6') {
            fprintf(stderr, "fuzz_rfc3339: \"%s\" came back as \"%s\"\n", s, back);
            abort();
        }
    }
    free(s);
    return 0;
}
