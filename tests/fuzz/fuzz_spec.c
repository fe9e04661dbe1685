/* fuzz_spec.c -- libFuzzer target for the experiment spec reader
 * (src/experiment/spec.c) and the matrix (matrix.c): every input is read as
 * a spec. It must give either a non-empty error that names the spec, or a
 * spec whose every name is known, whose every load is in range, whose
 * compact text reads back to the same text, and whose matrix has the
 * number of cells its lists multiply to; never a crash, undefined
 * behaviour or a leak (ASan, UBSan, LeakSanitizer).
 *
 * Built alone by tests/fuzz/run_spec: the runtime registry and the payload
 * groups are stood in for below, so the target needs only the reader, the
 * matrix, the catalog, the service config reader and util. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "experiment/experiment.h"
#include "functions/catalog.h"
#include "node/node.h"
#include "runtime/runtime.h"
#include "shape/shape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- stand-ins for the host ------------------------------------------- */

static const lm_runtime runtimes[] = {
    {.name = "native"},   {.name = "wasm-jit"},  {.name = "wasm-interp"},
    {.name = "wasm-aot"}, {.name = "container"}, {.name = "container-slim"},
    {.name = "wasmtime"},
};
#define NRUNTIMES (sizeof(runtimes) / sizeof(runtimes[0]))

const lm_runtime *const *lm_runtime_all(void) {
    static const lm_runtime *list[NRUNTIMES + 1];
    for (size_t i = 0; i < NRUNTIMES; i++)
        list[i] = &runtimes[i];
    return list;
}

const lm_runtime *lm_runtime_find(const char *name, char *err) {
    for (size_t i = 0; i < NRUNTIMES; i++)
        if (strcmp(runtimes[i].name, name) == 0) return &runtimes[i];
    lm_errf(err, "unknown runtime '%s'", name);
    return NULL;
}

static const lm_group groups[] = {
    {"xs", 0, 0, 0}, {"s", 0, 0, 0}, {"1", 0, 0, 0}, {"2", 0, 0, 0}, {"3", 0, 0, 0}};

const lm_group *lm_groups(size_t *n) {
    *n = sizeof groups / sizeof groups[0];
    return groups;
}

const lm_group *lm_group_find(const char *name) {
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (strcmp(groups[i].name, name) == 0) return &groups[i];
    return NULL;
}

/* ---- the properties ---------------------------------------------------- */

static void die(const char *what, const char *detail) {
    fprintf(stderr, "fuzz_spec: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void check(const lm_exp_spec *s) {
    for (size_t i = 0; i < s->nfunctions; i++)
        if (!lm_catalog_find(s->functions[i])) die("unknown function accepted", s->functions[i]);
    for (size_t i = 0; i < s->nruntimes; i++)
        if (!lm_runtime_find(s->runtimes[i], NULL)) die("unknown runtime accepted", s->runtimes[i]);
    for (size_t i = 0; i < s->npayloads; i++)
        if (strncmp(s->payloads[i], "group:", 6) || !lm_group_find(s->payloads[i] + 6))
            die("bad payload accepted", s->payloads[i]);
    if (!s->nfunctions || !s->nruntimes || !s->npayloads || !s->nstarts || !s->nloads)
        die("an empty list accepted", NULL);
    if (s->repetitions < 1 || s->warmup < 0 || s->timeout_ms < 1) die("a bad count", NULL);
    /* The environment axes: known profiles (or host), conditions that
     * read back to themselves, no value twice. */
    lm_node_config cfg;
    char why[LM_ERRLEN];
    if (s->nnodes && lm_node_config_load(NULL, &cfg, why) != LM_OK) die("no node config", why);
    for (size_t i = 0; i < s->nnodes; i++) {
        if (strcmp(s->nodes[i], "host") && !lm_node_profile_find(&cfg, s->nodes[i], why))
            die("unknown node accepted", s->nodes[i]);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->nodes[i], s->nodes[j])) die("a node listed twice", s->nodes[i]);
    }
    for (size_t i = 0; i < s->nnetworks; i++) {
        lm_shape_cond c;
        char b[256];
        if (!s->networks[i] || !s->network_conds[i]) die("a network without its condition", NULL);
        if (lm_shape_cond_parse(s->network_conds[i], &c, why) != LM_OK)
            die("a network condition that does not parse", s->network_conds[i]);
        if (s->network_conds[i][0] &&
            strcmp(lm_shape_cond_format(&c, b, sizeof b), s->network_conds[i]) != 0)
            die("a network condition not in its compact form", s->network_conds[i]);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->networks[i], s->networks[j]))
                die("a network listed twice", s->networks[i]);
    }
    size_t envs = (s->nnodes ? s->nnodes : 1) * (s->nnetworks ? s->nnetworks : 1);
    size_t per_rep = 0;
    for (size_t l = 0; l < s->nloads; l++) {
        const lm_exp_load *x = &s->loads[l];
        if (x->kind == LM_EXP_CLOSED && (x->concurrency < 1 || x->requests < 1))
            die("a bad closed load", NULL);
        if (x->kind == LM_EXP_OPEN && !(x->rate_rps > 0 && x->duration_s > 0))
            die("a bad open load", NULL);
        if (x->kind == LM_EXP_TRACE && (!x->trace || !x->trace[0]))
            die("a trace without a file", NULL);
        per_rep +=
            x->kind == LM_EXP_TRACE ? 1 : s->nfunctions * s->nruntimes * s->npayloads * s->nstarts;
    }
    /* The text is what --resume compares: it reads back to itself. */
    char err[LM_ERRLEN] = "";
    lm_exp_spec *again = NULL;
    if (lm_exp_spec_parse(s->text, strlen(s->text), "again", ".", &again, err) != LM_OK)
        die("the spec's own text does not parse", err);
    if (strcmp(again->text, s->text) != 0) die("the text does not read back the same", s->text);
    lm_exp_spec_free(again);
    /* A matrix too large to hold is not this test's business. */
    per_rep *= envs;
    if (per_rep * (size_t)s->repetitions > 100000) return;
    lm_exp_cell *cells = NULL;
    size_t n = 0;
    if (lm_exp_cells(s, s->runtimes, s->nruntimes, &cells, &n, err) != LM_OK)
        die("the matrix failed", err);
    if (n != per_rep * (size_t)s->repetitions) die("the matrix has the wrong size", NULL);
    for (size_t i = 0; i < n; i++) {
        if (cells[i].id != (int64_t)i + 1) die("cell ids are not 1..n in order", cells[i].name);
        if (cells[i].env < 0 || (size_t)cells[i].env >= envs)
            die("a cell's env out of range", NULL);
        if ((s->nnodes != 0) != (cells[i].node != NULL) ||
            (s->nnetworks != 0) != (cells[i].network != NULL))
            die("a cell's environment does not match the axes", cells[i].name);
        /* Names are identities (--resume): no two cells share one. */
        for (size_t j = i + 1; j < n && j < i + 64; j++)
            if (!strcmp(cells[i].name, cells[j].name))
                die("two cells with one name", cells[i].name);
    }
    free(cells);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[LM_ERRLEN] = "";
    lm_exp_spec *s = NULL;
    if (lm_exp_spec_parse((const char *)data, size, "fuzz.json", ".", &s, err) == LM_OK) {
        check(s);
        lm_exp_spec_free(s);
    } else {
        if (!memchr(err, 0, LM_ERRLEN)) die("error message not terminated", NULL);
        if (strncmp(err, "fuzz.json", 9) != 0) die("an error that does not name the spec", err);
        if (s) die("an error with a spec", NULL);
    }
    return 0;
}
