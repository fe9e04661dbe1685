/* build.h -- compiles function artifacts: a static native executable and a
 * stripped wasm32-wasi module per function, and an index of their sizes. */
#ifndef LM_BUILD_H
#define LM_BUILD_H

#include <stddef.h>

#include "util/util.h"

typedef struct {
    const char *out;     /* artifact folder */
    const char *source;  /* source tree (LM_SOURCE_DIR unless overridden) */
    const char *gen;     /* generated sources (LM_GEN_DIR unless overridden) */
    const char *only;    /* build this function alone, or NULL for all */
    const char *targets; /* "native,wasm" (default) or one of them */
    int jobs;            /* compilers run at once */
    int force;           /* rebuild even when up to date */
    int quiet;           /* no progress */
} lm_build_opts;

typedef struct {
    char function[64];
    char target[16];
    char path[1024];
    long long bytes;
    int rebuilt;
} lm_artifact;

/* Builds what opts asks for. On LM_OK *arts (malloc'd, caller frees) holds
 * every artifact and *n their count. On LM_ERR err names the failed
 * compile and where its log is. */
int lm_build(const lm_build_opts *opts, lm_artifact **arts, size_t *n, char *err);

#endif
