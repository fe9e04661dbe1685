/* fuzz_model_target.c -- libFuzzer target for what `lumos model --predict`
 * and `--holdout` read (src/model/target.c): the input is one NUL-free
 * string, read as a target and as a level to hold out. Properties: each
 * gives LM_OK or LM_ERR with a non-empty message; a target read has a
 * non-empty function and runtime shorter than their fields, a size that is
 * unset or above 0, a start that is unset, cold or warm, a load that is
 * unset, closed, open or trace, not both a size and a payload, not both a
 * concurrency and a rate; a level read names exactly one of payload, size,
 * concurrency and rate; and never a crash, undefined behaviour or a read
 * past the input (ASan, UBSan).
 *
 * Built alone by tests/fuzz/run_model_target with the reader and util. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what) {
    fprintf(stderr, "fuzz_model_target: %s\n", what);
    abort();
}

static void check(const lm_model_target *t, int whole) {
    if (whole && (!t->function[0] || !t->runtime[0])) die("an empty function or runtime");
    if (strnlen(t->function, sizeof t->function) == sizeof t->function ||
        strnlen(t->runtime, sizeof t->runtime) == sizeof t->runtime)
        die("a name fills its field");
    if (!isnan(t->size) && !(t->size > 0 && isfinite(t->size))) die("a size not above 0");
    if (t->start[0] && strcmp(t->start, "cold") && strcmp(t->start, "warm")) die("a bad start");
    if (t->load[0] && strcmp(t->load, "closed") && strcmp(t->load, "open") &&
        strcmp(t->load, "trace"))
        die("a bad load");
    if (!isnan(t->size) && t->payload[0]) die("both a size and a payload");
    if (t->concurrency != LM__MODEL_NONE && !isnan(t->rate_rps))
        die("both a concurrency and a rate");
    if (t->concurrency != LM__MODEL_NONE && t->concurrency < 1) die("a concurrency below 1");
    if (!isnan(t->rate_rps) && !(t->rate_rps > 0)) die("a rate not above 0");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (memchr(data, 0, size)) return 0;
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    lm_model_target t;
    char err[LM_ERRLEN];
    err[0] = 0;
    if (lm_model_target_parse(s, &t, err) == LM_OK)
        check(&t, 1);
    else if (!err[0])
        die("a target refused without a message");
    err[0] = 0;
    if (lm_model_holdout_parse(s, &t, err) == LM_OK) {
        check(&t, 0);
        int n = (t.payload[0] != 0) + !isnan(t.size) + (t.concurrency != LM__MODEL_NONE) +
                !isnan(t.rate_rps);
        if (n != 1) die("a level that is not exactly one");
    } else if (!err[0]) {
        die("a level refused without a message");
    }
    free(s);
    return 0;
}
