/* machine.c -- the machine an experiment ran on, into meta (internal.h).
 * The results file already holds host_* (name, kernel, arch, cpus, memory)
 * from its creation; this adds what a reader needs to compare machines. */
#include "experiment/internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* The value of the first "key\t: value" line of /proc/cpuinfo. */
static void cpuinfo(const char *key, char *out, size_t n) {
    snprintf(out, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, key, kl) != 0 || !colon) continue;
        colon++;
        while (*colon == ' ')
            colon++;
        colon[strcspn(colon, "\n")] = 0;
        snprintf(out, n, "%s", colon);
        break;
    }
    if (f) fclose(f);
}

int lm__exp_machine_meta(lm_results *db, char *const *runtimes, size_t n, char *err) {
    char v[512], key[128];
    cpuinfo("model name", v, sizeof v);
    if (lm_results_set_meta(db, "machine.cpu_model", v, err) != LM_OK) return LM_ERR;
    snprintf(v, sizeof v, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
    if (lm_results_set_meta(db, "machine.cores_online", v, err) != LM_OK) return LM_ERR;
    cpuinfo("cpu MHz", v, sizeof v);
    if (lm_results_set_meta(db, "machine.cpu_mhz", v, err) != LM_OK) return LM_ERR;
    long long mem = (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
    snprintf(v, sizeof v, "%lld", mem);
    if (lm_results_set_meta(db, "machine.mem_bytes", v, err) != LM_OK) return LM_ERR;
    FILE *f = fopen("/proc/sys/kernel/osrelease", "r");
    if (f && fgets(v, sizeof v, f)) {
        v[strcspn(v, "\n")] = 0;
        if (lm_results_set_meta(db, "machine.kernel", v, err) != LM_OK) {
            fclose(f);
            return LM_ERR;
        }
    }
    if (f) fclose(f);
    for (size_t i = 0; i < n; i++) {
        const lm_runtime *rt = lm_runtime_find(runtimes[i], NULL);
        if (!rt || !rt->version) continue;
        rt->version(rt, v, sizeof v);
        snprintf(key, sizeof key, "machine.runtime.%s", rt->name);
        if (lm_results_set_meta(db, key, v, err) != LM_OK) return LM_ERR;
    }
    return LM_OK;
}
