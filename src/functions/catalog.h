/* catalog.h -- what the host knows about each built-in function: its
 * sources (for `lumos build`), its parameters (for `lumos functions`), and
 * its benchmark profile. The function code itself knows none of this. */
#ifndef LM_CATALOG_H
#define LM_CATALOG_H

#include <stddef.h>

typedef struct {
    const char *name;
    const char *type; /* "integer", "number", "string" */
    const char *doc;  /* range, default, meaning */
} lm_param;

typedef struct {
    const char *name;     /* "fuzzy-search" */
    const char *source;   /* "src/functions/fuzzy_search.c" */
    const char *extra[3]; /* more guest sources; "gen:" prefix = generated dir */
    const char *cpu, *io; /* "high" / "low", as FUNCTIONS.md */
    const char *summary;
    int benchmark; /* 1 for the eight benchmark functions, 0 for utilities */
    lm_param params[8];
} lm_fn_info;

/* All functions, benchmark ones first; *n receives the count. */
const lm_fn_info *lm_catalog(size_t *n);
/* The function named name, or NULL. */
const lm_fn_info *lm_catalog_find(const char *name);

#endif
