/* invoke.h -- runs a function's handler in-process for unit tests, with an
 * in-memory object store standing in for Redis and the data directory (the
 * integration tests use the real ones through the real channel). */
#ifndef LM_TEST_INVOKE_H
#define LM_TEST_INVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "lumos.h"
#include "proto/frame.h"

typedef struct lm_test_store lm_test_store;

/* A new empty store; free with lm_test_store_free() (NULL is a no-op). */
lm_test_store *lm_test_store_new(void);
void lm_test_store_free(lm_test_store *s);
/* Copies data in under key, replacing any earlier value. */
void lm_test_store_put(lm_test_store *s, const char *key, const void *data, size_t len);
/* The value under key (owned by the store) or NULL; *len set when found. */
const uint8_t *lm_test_store_get(const lm_test_store *s, const char *key, size_t *len);

typedef struct {
    int status; /* HTTP status of the reply */
    char *body; /* the response envelope, NUL-terminated, owned */
    size_t body_len;
    uint64_t probes[LM_PROBE_COUNT]; /* the probe record */
} lm_test_reply;

/* Invokes fn on a NUL-terminated body with runtime "test". store may be NULL
 * (every storage call then fails as a storage fault). Returns the status. */
int lm_test_invoke(const lm_function *fn, const char *body, lm_test_store *store,
                   lm_test_reply *out);
void lm_test_reply_free(lm_test_reply *r);

/* The "data" member of a reply, reparsed; NULL if the reply is no success.
 * The caller frees the returned document with lm_json_free(); *data is the
 * member inside it. */
lm_json_doc *lm_test_reply_data(const lm_test_reply *r, const lm_json **data);

#endif
