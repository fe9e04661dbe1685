/* fuzz_nodes.c -- libFuzzer target for the node config reader
 * (src/node/profile.c): every input is read as a `--nodes-config` file.
 * Each read must give either profiles that satisfy the documented bounds
 * (docs/nodes.md) or a non-empty error message; never a crash, undefined
 * behaviour or a leak (ASan, UBSan, LeakSanitizer). A config it takes is
 * also placed on (every policy gives an index in range, or -1 when none
 * is available).
 *
 * Built alone by tests/fuzz/run_nodes with the parser, the placement
 * policies and util's errors and files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static lm_node_config c;
    char err[LM_ERRLEN] = "";
    if (lm_node_config_parse((const char *)data, size, "fuzz", &c, err) != LM_OK) {
        if (!err[0] || c.n != 0) abort();
        return 0;
    }
    if (c.n < 1 || c.n > LM_NODE_MAX_PROFILES) abort();
    lm_place_node pn[LM_NODE_MAX_PROFILES];
    for (int i = 0; i < c.n; i++) {
        const lm_node_profile *p = &c.profiles[i];
        if (!p->name[0] || p->cpus < 1 || p->cpus > 256 || p->max_instances < 1 ||
            p->cpu_fraction < 0 || p->cpu_fraction > 1 || p->cpu_period_us < 1000 ||
            p->naffinity > LM_NODE_MAX_AFFINITY || p->target_score < 0)
            abort();
        for (int j = 0; j < i; j++)
            if (strcmp(c.profiles[j].name, p->name) == 0) abort();
        pn[i] = (lm_place_node){.p = p,
                                .available = (int)(size + (size_t)i) % 3 != 0,
                                .instances = (int)((size * 7 + (size_t)i) % 5)};
    }
    for (int policy = 0; policy < LM_PLACE_COUNT; policy++) {
        int k = lm_place(policy, pn, c.n, c.profiles[0].affinity[0]);
        if (k < -1 || k >= c.n || (k >= 0 && !pn[k].available)) abort();
    }
    return 0;
}
