/* matrix.c -- a spec's cells (experiment.h): their order, ids and names. */
#include "experiment/experiment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *start_name(int s) {
    return s == LM_EXP_COLD ? "cold" : s == LM_EXP_WARM ? "warm" : "any";
}

/* "closed:4x20", "open:50rps:2s:poisson", "trace:FILE" */
static void load_name(const lm_exp_load *l, char *out, size_t n) {
    if (l->kind == LM_EXP_CLOSED)
        snprintf(out, n, "closed:%dx%d", l->concurrency, l->requests);
    else if (l->kind == LM_EXP_OPEN)
        snprintf(out, n, "open:%grps:%gs:%s", l->rate_rps, l->duration_s,
                 l->poisson ? "poisson" : "constant");
    else {
        const char *slash = strrchr(l->trace, '/');
        snprintf(out, n, "trace:%s", slash ? slash + 1 : l->trace);
    }
}

static int wanted(const char *rt, char *const *runtimes, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(rt, runtimes[i]) == 0) return 1;
    return 0;
}

int lm_exp_cells(const lm_exp_spec *s, char *const *runtimes, size_t nrt, lm_exp_cell **out,
                 size_t *ncells, char *err) {
    *out = NULL;
    *ncells = 0;
    /* Ids count every combination of the spec, run here or not, so a cell
     * keeps its id whichever runtimes this machine has. */
    size_t per_load = s->nfunctions * s->nruntimes * s->npayloads * s->nstarts;
    size_t per_rep = 0;
    for (size_t l = 0; l < s->nloads; l++)
        per_rep += s->loads[l].kind == LM_EXP_TRACE ? 1 : per_load;
    size_t nn = s->nnodes ? s->nnodes : 1, nw = s->nnetworks ? s->nnetworks : 1;
    size_t max = per_rep * nn * nw * (size_t)s->repetitions;
    lm_exp_cell *c = calloc(max ? max : 1, sizeof *c);
    if (!c) return lm_errf(err, "out of memory for %zu cells", max);
    size_t n = 0;
    int64_t id = 0;
    for (int rep = 1; rep <= s->repetitions; rep++)
        for (size_t e = 0; e < nn * nw; e++)
            for (size_t l = 0; l < s->nloads; l++) {
                const lm_exp_load *ld = &s->loads[l];
                /* The environment: absent axes add nothing to the name, so a
                 * spec without them names its cells as before. */
                const char *node = s->nnodes ? s->nodes[e / nw] : NULL;
                const char *net = s->nnetworks ? s->networks[e % nw] : NULL;
                const char *cond = s->nnetworks ? s->network_conds[e % nw] : NULL;
                char lname[128], env[128] = "";
                load_name(ld, lname, sizeof lname);
                if (node) snprintf(env, sizeof env, "/node:%s", node);
                if (net) snprintf(env + strlen(env), sizeof env - strlen(env), "/net:%s", net);
                if (ld->kind == LM_EXP_TRACE) {
                    c[n] = (lm_exp_cell){.id = ++id,
                                         .start = LM_EXP_ANY,
                                         .load = ld,
                                         .repetition = rep,
                                         .node = node,
                                         .network = net,
                                         .network_cond = cond,
                                         .env = (int)e};
                    snprintf(c[n].name, sizeof c[n].name, "%s%s/rep%d", lname, env, rep);
                    n++;
                    continue;
                }
                for (size_t f = 0; f < s->nfunctions; f++)
                    for (size_t r = 0; r < s->nruntimes; r++)
                        for (size_t p = 0; p < s->npayloads; p++)
                            for (size_t st = 0; st < s->nstarts; st++) {
                                ++id;
                                if (!wanted(s->runtimes[r], runtimes, nrt)) continue;
                                lm_exp_cell *x = &c[n++];
                                *x = (lm_exp_cell){.id = id,
                                                   .function = s->functions[f],
                                                   .runtime = s->runtimes[r],
                                                   .payload = s->payloads[p],
                                                   .start = s->starts[st],
                                                   .load = ld,
                                                   .repetition = rep,
                                                   .node = node,
                                                   .network = net,
                                                   .network_cond = cond,
                                                   .env = (int)e};
                                snprintf(x->name, sizeof x->name, "%s@%s/%s/%s/%s%s/rep%d",
                                         x->function, x->runtime, x->payload, start_name(x->start),
                                         lname, env, rep);
                            }
            }
    *out = c;
    *ncells = n;
    return LM_OK;
}
