/* sizes.c -- the artifact sizes section of a run's report: what each
 * runtime deploys for each function, from the build's index.json (the real
 * sizes of the files on disk), and how the runtimes compare. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

/* What a runtime deploys: an image when it has one, else the AoT code,
 * else the built target (the native executable or the .wasm). */
static const char *const deploy_kinds[] = {"image-compressed", "aot-executable", "compiled", NULL};

static json_int_t target_size(json_t *index, const char *fn, const char *target) {
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(index, "targets"), i, t) {
        if (!strcmp(json_string_value(json_object_get(t, "function")), fn) &&
            !strcmp(json_string_value(json_object_get(t, "target")), target))
            return json_integer_value(json_object_get(t, "size_bytes"));
    }
    return -1;
}

/* The deployable size of fn on runtime rt, and what it is; -1 if unknown. */
static json_int_t deploy_size(json_t *index, const char *fn, const char *rt, const char *target,
                              const char **kind) {
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(index, "runtimes"), i, r) {
        if (strcmp(json_string_value(json_object_get(r, "function")), fn) ||
            strcmp(json_string_value(json_object_get(r, "runtime")), rt))
            continue;
        for (size_t k = 0; deploy_kinds[k]; k++) {
            size_t j;
            json_t *file;
            json_array_foreach(json_object_get(r, "files"), j, file) {
                if (!strcmp(json_string_value(json_object_get(file, "kind")), deploy_kinds[k])) {
                    *kind = deploy_kinds[k];
                    return json_integer_value(json_object_get(file, "size_bytes"));
                }
            }
        }
    }
    /* Nothing prepared: the runtime runs the built target itself. */
    if (!target) return -1;
    *kind = strcmp(target, "native") == 0 ? "native executable" : "wasm module";
    return target_size(index, fn, target);
}

void lm_report_sizes(FILE *f, const char *artifacts, const char *const *functions, size_t nfn,
                     const char *const *runtimes, const char *const *targets, size_t nrt) {
    char path[4200];
    snprintf(path, sizeof(path), "%s/index.json", artifacts);
    json_t *index = json_load_file(path, 0, NULL);
    fprintf(f, "\n## Artifact sizes (bytes)\n\n");
    if (!index) {
        fprintf(f, "No build index at %s (run `lumos build`).\n", path);
        return;
    }
    fprintf(f,
            "What each runtime deploys, from %s (the sizes of the files on disk): "
            "an OCI image's compressed blobs, an AoT executable, or else the native "
            "executable or the .wasm module.\n\n| function |",
            path);
    for (size_t r = 0; r < nrt; r++)
        fprintf(f, " %s |", runtimes[r]);
    fprintf(f, "\n|---|");
    for (size_t r = 0; r < nrt; r++)
        fprintf(f, "---:|");
    fprintf(f, "\n");
    for (size_t i = 0; i < nfn; i++) {
        fprintf(f, "| %s |", functions[i]);
        for (size_t r = 0; r < nrt; r++) {
            const char *kind = "";
            json_int_t b =
                deploy_size(index, functions[i], runtimes[r], targets ? targets[r] : NULL, &kind);
            if (b >= 0)
                fprintf(f, " %lld |", (long long)b);
            else
                fprintf(f, " - |");
        }
        fprintf(f, "\n");
    }
    json_decref(index);
}
