/* place.c -- the placement policies: which node a new instance goes on. */
#include "node/node.h"

#include <string.h>

const char *const lm_place_names[LM_PLACE_COUNT] = {"spread", "bin-pack", "affinity"};

int lm_place_find(const char *name) {
    for (int i = 0; i < LM_PLACE_COUNT; i++)
        if (strcmp(lm_place_names[i], name) == 0) return i;
    return -1;
}

/* The available node with the fewest instances (ties: the first), among
 * those want() accepts; -1 when none. */
static int fewest(const lm_place_node *nodes, int n, const char *function,
                  int (*want)(const lm_place_node *, const char *)) {
    int best = -1;
    for (int i = 0; i < n; i++) {
        if (!nodes[i].available || (want && !want(&nodes[i], function))) continue;
        if (best < 0 || nodes[i].instances < nodes[best].instances) best = i;
    }
    return best;
}

static int has_affinity(const lm_place_node *pn, const char *function) {
    for (int i = 0; function && i < pn->p->naffinity; i++)
        if (strcmp(pn->p->affinity[i], function) == 0) return 1;
    return 0;
}

int lm_place(int policy, const lm_place_node *nodes, int n, const char *function) {
    if (policy == LM_PLACE_BINPACK) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            const lm_place_node *pn = &nodes[i];
            if (!pn->available || pn->instances >= pn->p->max_instances) continue;
            if (best < 0 || pn->instances > nodes[best].instances) best = i;
        }
        return best >= 0 ? best : fewest(nodes, n, function, NULL);
    }
    if (policy == LM_PLACE_AFFINITY) {
        int best = fewest(nodes, n, function, has_affinity);
        if (best >= 0) return best;
    }
    return fewest(nodes, n, function, NULL);
}
