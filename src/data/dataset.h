/* dataset.h -- the benchmark inputs: generated deterministically from a seed
 * (same seed, same bytes), written as files under a folder whose layout is
 * the storage key space (DIR/<key>), described by DIR/manifest.json, and
 * loaded into Redis or a data folder. docs/data.md lists the keys. */
#ifndef LM_DATASET_H
#define LM_DATASET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/storage.h"
#include "util/rng.h" /* lm_rng, the generator the data set is made with */
#include "util/util.h"

#define LM_DATASET_VERSION 1
#define LM_FUZZY_TERM "serverless"
/* The fixed benchmark key (32 bytes of text) the decryption input is made
 * with; the manifest's requests carry it. */
#define LM_BENCH_KEY "lumos-benchmark-key-0123456789ab"

/* A payload group: the sizes FUNCTIONS.md names, plus small ones. */
typedef struct {
    const char *name;     /* "xs", "s", "1", "2", "3" */
    size_t text_bytes;    /* data-heavy inputs and audio output */
    uint64_t n;           /* fibonacci n and prime limit */
    uint32_t mandel_size; /* pixels a side */
} lm_group;

/* All groups, *n their count. */
const lm_group *lm_groups(size_t *n);
const lm_group *lm_group_find(const char *name);

/* The size of function's benchmark request in group g (the manifest's
 * requests): fibonacci's n and prime-numbers' limit (*unit "n"),
 * mandelbrot-bitmap's pixels (size squared, "pixels"), the text inputs of
 * fuzzy-search, language-detection, encrypt-message and decrypt-message
 * and audio-generation's output ("bytes", the group's text_bytes). NaN
 * (and *unit NULL) for a function without one (noop, faulty). */
double lm_group_size(const lm_group *g, const char *function, const char **unit);

typedef struct {
    uint64_t seed;
    const char *out;    /* folder to write */
    const char *groups; /* comma-separated group names, NULL for all */
    const char *lang;   /* language of the language-detection text ("deu") */
    int quiet;
} lm_datagen_opts;

/* Generates the data set. LM_OK, or LM_ERR with err (a word list missing:
 * names the package). */
int lm_datagen(const lm_datagen_opts *o, char *err);

/* The cached data set of seed with group under the source tree's
 * build/data/seed-S-group-G, generated when missing; its folder into dir
 * (n bytes). LM_OK, or LM_ERR with err (generating failed). */
int lm_dataset_cached(long long seed, const char *group, char *dir, size_t n, char *err);

/* Reads DIR/manifest.json; NULL with err when missing or malformed. The
 * caller owns the reference. */
json_t *lm_dataset_manifest(const char *dir, char *err);

/* Loads the objects of group (NULL: all) from dir into store. *count and
 * *bytes (if not NULL) receive what was loaded. */
int lm_dataset_load(const char *dir, lm_store *store, const char *group, size_t *count,
                    size_t *bytes, char *err);

#endif
