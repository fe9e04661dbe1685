/* catalog.c -- the built-in functions, their sources and parameters. */
#include "catalog.h"

#include <string.h>

#define STORAGE_PARAM                                                                              \
    { "storage", "string", "\"redis\" (default when a key is given), \"file\" or \"inline\"" }

static const lm_fn_info functions[] = {
    {"audio-generation",
     "src/functions/audio_generation.c",
     {0},
     "high",
     "high",
     "writes a 16-bit PCM mono WAV file of a requested size",
     1,
     {{"size_kb", "integer", "total file size in KiB, 1..32768 (rounded down to whole samples)"},
      {"output_key", "string", "where the WAV goes (inline storage: returned as base64)"},
      {"frequency_hz", "number", "sine frequency, default 440"},
      {"sample_rate", "integer", "samples per second, default 44100"},
      STORAGE_PARAM}},
    {"fuzzy-search",
     "src/functions/fuzzy_search.c",
     {0},
     "high",
     "high",
     "finds the lines of a stored text with a word similar to a term (Jaro-Winkler)",
     1,
     {{"term", "string", "the word to look for"},
      {"input_key", "string", "the text of lines (or \"text\" inline)"},
      {"threshold", "number", "minimum similarity 0..1, default 0.8"},
      {"limit", "integer", "most matches returned"},
      STORAGE_PARAM}},
    {"language-detection",
     "src/functions/language_detection.c",
     {"gen:lang_profiles.c"},
     "high",
     "high",
     "names the language of a stored text (trigram profiles)",
     1,
     {{"input_key", "string", "the text (or \"text\" inline)"}, STORAGE_PARAM}},
    {"encrypt-message",
     "src/functions/encrypt_message.c",
     {"src/functions/aes_gcm.c"},
     "high",
     "low",
     "AES-256-GCM encrypts a message; answers base64(nonce || ciphertext || tag)",
     1,
     {{"key", "string", "exactly 32 bytes of text: the AES-256 key"},
      {"message", "string", "the plaintext (or \"input_key\" in storage)"},
      {"output_key", "string", "where the encrypted text goes (optional)"},
      {"nonce", "string", "24 hex digits, for reproducible tests only"},
      STORAGE_PARAM}},
    {"decrypt-message",
     "src/functions/decrypt_message.c",
     {"src/functions/aes_gcm.c"},
     "high",
     "low",
     "decrypts and authenticates an AES-256-GCM message (422 when it fails)",
     1,
     {{"key", "string", "exactly 32 bytes of text"},
      {"encrypted", "string", "base64(nonce || ciphertext || tag) (or \"input_key\")"},
      {"output_key", "string", "where the plaintext goes (optional)"},
      STORAGE_PARAM}},
    {"fibonacci",
     "src/functions/fibonacci.c",
     {0},
     "high",
     "low",
     "the n-th Fibonacci number modulo 2^64, iteratively",
     1,
     {{"n", "integer", "0..1000000000"}}},
    {"prime-numbers",
     "src/functions/prime_numbers.c",
     {0},
     "high",
     "low",
     "all primes up to a limit, by trial division or a sieve",
     1,
     {{"limit", "integer", "0..100000000"},
      {"method", "string", "\"trial\" (default) or \"sieve\""}}},
    {"mandelbrot-bitmap",
     "src/functions/mandelbrot_bitmap.c",
     {0},
     "high",
     "high",
     "renders the Mandelbrot set as a PBM bitmap (Benchmarks Game definition)",
     1,
     {{"size", "integer", "pixels per side, rounded up to a multiple of 8"},
      {"output_key", "string", "where the PBM goes (inline storage: returned as base64)"},
      STORAGE_PARAM}},
    {"noop",
     "src/functions/noop.c",
     {0},
     "low",
     "low",
     "does nothing but an optional GET: the yardstick for the channel and the platform",
     0,
     {{"input_key", "string", "an object to read (optional)"},
      {"echo", "string", "a string to answer back (optional)"},
      STORAGE_PARAM}},
};

const lm_fn_info *lm_catalog(size_t *n) {
    *n = sizeof(functions) / sizeof(functions[0]);
    return functions;
}

const lm_fn_info *lm_catalog_find(const char *name) {
    size_t n;
    const lm_fn_info *f = lm_catalog(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0) return &f[i];
    return NULL;
}
