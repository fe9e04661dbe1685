/* fuzzy.h -- the string-similarity core of the fuzzy-search function,
 * exposed so unit tests can check it on known pairs directly.
 *
 * Jaro-Winkler as Winkler's strcmp95 and most libraries define it: two
 * characters match when equal and no farther apart than
 * max(len_a, len_b) / 2 - 1 positions (at least 0); t is half the number of
 * matched characters that are out of order (rounded down);
 *   jaro = (m / len_a + m / len_b + (m - t) / m) / 3   (0 when m = 0)
 * and, only when jaro > 0.7, the Winkler boost with prefix scale 0.1 and
 * the common prefix l counted up to 4 characters:
 *   jw = jaro + l * 0.1 * (1 - jaro).
 * Two empty strings score 1, one empty string scores 0. */
#ifndef LM_FUZZY_H
#define LM_FUZZY_H

#include <stddef.h>
#include <stdint.h>

/* Jaro-Winkler similarity in [0, 1] of the code point sequences a[0..na)
 * and b[0..nb), compared exactly (fold case first if wanted). Allocates a
 * work area only when na + nb exceeds 512; returns -1.0 if that fails. */
double lm_jaro_winkler(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);

/* Decodes n bytes of UTF-8 into code points with Unicode simple case
 * folding over ASCII, Latin-1, Latin Extended-A, Greek U+0386..U+03AB (and
 * final sigma) and Cyrillic U+0400..U+042F, writing at most n code points
 * to out. Each byte of an invalid or truncated sequence
 * becomes one U+FFFD. Returns the number of code points written. */
size_t lm_fuzzy_decode(const uint8_t *s, size_t n, uint32_t *out);

/* The simple case folding of one code point (itself when it has none in
 * the ranges above). */
uint32_t lm_fuzzy_fold(uint32_t c);

#endif
