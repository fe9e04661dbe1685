/* text.h -- UTF-8 and decimal helpers shared by functions, the SDK and the
 * build-time generators. Plain C, libc only. */
#ifndef LM_TEXT_H
#define LM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define LM_UTF8_REPLACEMENT 0xFFFDu

/* Decodes one code point at s[0..n), n >= 1. Returns the bytes consumed:
 * the sequence length for a valid sequence, or 1 with *cp = U+FFFD for a
 * byte that does not start one (overlong forms, surrogates, values past
 * U+10FFFF, truncated or broken sequences). */
size_t lm_utf8_next(const uint8_t *s, size_t n, uint32_t *cp);

/* Writes the UTF-8 encoding of cp (a Unicode scalar value) to out; returns
 * its length, 1 to 4. */
size_t lm_utf8_put(uint32_t cp, uint8_t out[4]);

/* True when s[0..n) is entirely valid UTF-8. */
int lm_utf8_valid(const uint8_t *s, size_t n);

/* Writes v in decimal at out (at most 20 bytes, no NUL); returns the number
 * of digits. Our own loop: no printf format decides the bytes, and it is
 * fast enough for serializing millions of numbers. */
size_t lm_u64_dec(uint64_t v, char *out);

#endif
