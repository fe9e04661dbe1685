/* hash.h -- the host's one non-cryptographic hash, 64-bit FNV-1a: cache
 * keys and data set checksums need change detection, not strength. (The
 * AoT cache keys use SHA-256 from OpenSSL; the language-detection function
 * has its own 32-bit FNV-1a on the guest side.) */
#ifndef LM_UTIL_HASH_H
#define LM_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The FNV-1a 64 offset basis: the hash of nothing. */
#define LM_FNV1A64_INIT 0xcbf29ce484222325ull

/* Continues hash h over p[0..n): lm_fnv1a64(LM_FNV1A64_INIT, p, n) is the
 * FNV-1a 64 of those bytes, and feeding a text in pieces gives the same
 * value as feeding it whole. */
uint64_t lm_fnv1a64(uint64_t h, const void *p, size_t n);

/* Continues h over the bytes of the file at path, read in pieces (any size).
 * LM_OK with *h, or LM_ERR with err naming the file and the cause. */
int lm_fnv1a64_file(uint64_t h, const char *path, uint64_t *out, char *err);

#endif
