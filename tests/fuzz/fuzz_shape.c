/* fuzz_shape.c -- libFuzzer target for the shape room's parsers
 * (src/shape/cond.c, sched.c): every input is read as a compact condition,
 * as a JSON condition and as a schedule. Each read gives either a result
 * or a non-empty, terminated error (and then an empty result); never a
 * crash, undefined behaviour or a leak (ASan, UBSan, LSan).
 *   - an accepted condition formats to text that parses back to the same
 *     condition, and passes the range checks;
 *   - an accepted schedule has strictly increasing steps, and the model
 *     run over it gives delivery times that never go back with fifo.
 * Built alone by tests/fuzz/run_shape with the shape room's pure files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shape/shape.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_shape: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void check_error(int rc, const char *err) {
    if (rc != LM_ERR) die("neither LM_OK nor LM_ERR", NULL);
    if (!memchr(err, 0, LM_ERRLEN)) die("error message not terminated", NULL);
    if (!err[0]) die("refused without an error message", NULL);
}

static void check_cond(const lm_shape_cond *c) {
    if (!(c->loss >= 0 && c->loss <= 1) || !(c->reorder >= 0 && c->reorder <= 1))
        die("a probability out of [0, 1]", NULL);
    char out[512], err[LM_ERRLEN] = "";
    lm_shape_cond_format(c, out, sizeof out);
    lm_shape_cond back;
    if (lm_shape_cond_parse(out, &back, err) != LM_OK)
        die("a formatted condition does not parse", out);
    if (memcmp(c, &back, sizeof back) != 0) die("the round trip changed the condition", out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    char err[LM_ERRLEN];
    lm_shape_cond c;

    err[0] = 0;
    int rc = lm_shape_cond_parse(s, &c, err);
    if (rc == LM_OK)
        check_cond(&c);
    else
        check_error(rc, err),
            lm_shape_cond_is_none(&c) ? (void)0 : die("a refused condition left fields", s);

    err[0] = 0;
    rc = lm_shape_cond_parse_json(s, &c, err);
    if (rc == LM_OK)
        check_cond(&c);
    else
        check_error(rc, err);

    lm_shape_sched sc;
    err[0] = 0;
    rc = lm_shape_sched_parse(s, &sc, err);
    if (rc == LM_OK) {
        if (sc.n == 0) die("an empty schedule accepted", NULL);
        for (size_t i = 0; i < sc.n; i++) {
            if (i && sc.steps[i].at_ns <= sc.steps[i - 1].at_ns) die("steps out of order", NULL);
            check_cond(&sc.steps[i].cond);
        }
        lm_shape_model m;
        lm_shape_model_init(&m, &sc, 0, size, 1, LM_SHAPE_RETRANSMIT);
        uint64_t last = 0;
        for (int i = 0; i < 64; i++) {
            lm_shape_fate f =
                lm_shape_deliver(&m, (size_t)(i * 977 % 70000), (uint64_t)i * 7000000000ull);
            if (f.dropped) continue;
            if (f.at_ns < last) die("fifo delivery went back in time", NULL);
            last = f.at_ns;
        }
        lm_shape_sched_free(&sc);
    } else {
        check_error(rc, err);
        if (sc.steps || sc.n) die("a refused schedule left steps", NULL);
    }
    free(s);
    return 0;
}
