/* fuzz_interp_load.c -- libFuzzer target for the interpreter's decoder,
 * validator and translator (lm_interp_load, src/interp): any bytes as a
 * module. Properties: never a crash, undefined behaviour, leak or read past
 * the input (ASan, UBSan); a refused module says why, starting with
 * "malformed: " or "invalid: ". A module that loads is instantiated (every
 * function import bound to a host stub that traps, other imports refused),
 * when its memory and tables are small, and each exported function is
 * called with zero arguments and a little fuel: the translated code must
 * run, trap or stop for fuel, never crash.
 *
 * Built alone by tests/fuzz/run_interp_load with src/interp only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/internal.h"
#include "interp/interp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SMALL_PAGES 64     /* memories up to 4 MiB are instantiated, and run... */
#define SMALL_TABLE 100000 /* ...tables up to this many elements */
#define FUEL 2000

static int stub(void *ctx, lm_interp_instance *caller, uint64_t *args, char *msg) {
    (void)ctx, (void)caller, (void)args;
    snprintf(msg, LM_INTERP_ERRLEN, "fuzz stub");
    return 1;
}

static int bind(void *ud, const lm_interp_import *imp, lm_interp_binding *b, char *why) {
    (void)ud;
    if (imp->kind != LM_INTERP_FUNC) {
        snprintf(why, LM_INTERP_ERRLEN, "only function imports are bound");
        return 1;
    }
    *b = (lm_interp_binding){.fn = stub};
    return 0;
}

/* Small enough to instantiate and run: memory and tables bounded even when
 * grown (a missing maximum counts as large). */
static int small(const lm_interp_module *m) {
    if (m->nmems && (m->mem.min > SMALL_PAGES || m->mem.max > SMALL_PAGES)) return 0;
    for (uint32_t i = 0; i < m->ntables; i++)
        if (m->tables[i].min > SMALL_TABLE || m->tables[i].max > SMALL_TABLE) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[LM_INTERP_ERRLEN];
    err[0] = 0;
    lm_interp_module *m = lm_interp_load(data, size, err);
    if (!m) {
        if (strncmp(err, "malformed: ", 11) != 0 && strncmp(err, "invalid: ", 9) != 0) {
            fprintf(stderr, "fuzz_interp_load: refusal without its class: \"%s\"\n", err);
            abort();
        }
        return 0;
    }
    if (small(m)) {
        lm_interp_instance *inst = lm_interp_instantiate(m, bind, NULL, err, NULL);
        for (size_t i = 0; inst && i < lm_interp_export_count(m); i++) {
            enum lm_interp_kind kind;
            lm_interp_export_at(m, i, &kind);
            if (kind != LM_INTERP_FUNC) continue;
            lm_interp_functype t = lm_interp_export_functype(m, i);
            uint64_t args[64] = {0}, results[64];
            if (t.nparams > 64 || t.nresults > 64) continue;
            lm_interp_set_fuel(inst, FUEL);
            lm_interp_invoke(inst, i, args, results);
        }
        lm_interp_instance_free(inst);
        lm_interp_release_failed();
    }
    lm_interp_module_free(m);
    return 0;
}
