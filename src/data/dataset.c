/* dataset.c -- deterministic benchmark inputs: texts from Debian's word
 * lists, the encrypted text, the manifest with the benchmark requests. */
#include "dataset.h"
#include "lang_words.h"
#include "util/hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static const lm_group groups[] = {
    {"xs", 1024, 1000, 96},
    {"s", 50 * 1024, 1000, 640},
    {"1", 512 * 1024, 10000, 2048},
    {"2", 1024 * 1024, 100000, 2896},
    {"3", 2048 * 1024, 1000000, 4096},
};

const lm_group *lm_groups(size_t *n) {
    *n = sizeof(groups) / sizeof(groups[0]);
    return groups;
}

const lm_group *lm_group_find(const char *name) {
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (strcmp(groups[i].name, name) == 0) return &groups[i];
    return NULL;
}

double lm_group_size(const lm_group *g, const char *function, const char **unit) {
    static const char *const text[] = {"fuzzy-search", "language-detection", "encrypt-message",
                                       "decrypt-message", "audio-generation"};
    if (strcmp(function, "fibonacci") == 0 || strcmp(function, "prime-numbers") == 0) {
        *unit = "n";
        return (double)g->n;
    }
    if (strcmp(function, "mandelbrot-bitmap") == 0) {
        *unit = "pixels";
        return (double)g->mandel_size * (double)g->mandel_size;
    }
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (strcmp(function, text[i]) == 0) {
            *unit = "bytes";
            return (double)g->text_bytes;
        }
    *unit = NULL;
    return NAN;
}

/* ---- word lists --------------------------------------------------------- */

typedef struct {
    const char *code, *file, *package;
} word_source;

/* The languages a language-detection text can be made in. */
static const word_source sources[] = {
    {"eng", "american-english", "wamerican"},
    {"deu", "ngerman", "wngerman"},
    {"fra", "french", "wfrench"},
    {"spa", "spanish", "wspanish"},
    {"ita", "italian", "witalian"},
    {"por", "portuguese", "wportuguese"},
    {"nld", "dutch", "wdutch"},
    {"swe", "swedish", "wswedish"},
    {"dan", "danish", "wdanish"},
    {"nob", "bokmaal", "wnorwegian"},
    {"pol", "polish", "wpolish"},
    {"cat", "catalan", "wcatalan"},
    {"bul", "bulgarian", "wbulgarian"},
    {"ukr", "ukrainian", "wukrainian"},
};

typedef struct {
    char *text; /* all words, NUL-separated */
    char **words;
    size_t n;
} wordlist;

static int valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n) return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

/* A Latin-1 (ISO-8859-1/15) list as UTF-8: every byte >= 0x80 becomes two. */
static char *latin1_to_utf8(const char *s, size_t n, size_t *out_len) {
    char *o = malloc(2 * n + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            o[k++] = (char)c;
        } else {
            o[k++] = (char)(0xC0 | (c >> 6));
            o[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    o[k] = 0;
    *out_len = k;
    return o;
}

/* Keeps words made of letters only (no apostrophes, digits, affix flags),
 * 2 to 24 bytes; with lower_only, no capitalized (proper) nouns. */
static int keep_word(const char *w, size_t len, int lower_only) {
    if (len < 2 || len > 24) return 0;
    if (lower_only && w[0] >= 'A' && w[0] <= 'Z') return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return 0;
    }
    return 1;
}

static int wordlist_load(const word_source *src, int lower_only, wordlist *wl, char *err) {
    char path[256];
    snprintf(path, sizeof(path), "/usr/share/dict/%s", src->file);
    size_t len;
    char *raw = lm_file_read(path, &len, NULL);
    if (!raw)
        return lm_errf(err, "word list %s is missing: run scripts/setup (Debian package %s)", path,
                       src->package);
    if (!valid_utf8((unsigned char *)raw, len)) {
        char *u = latin1_to_utf8(raw, len, &len);
        free(raw);
        if (!u) return lm_errf(err, "out of memory");
        raw = u;
    }
    size_t cap = 1024, n = 0;
    char **words = malloc(cap * sizeof(char *));
    for (char *p = raw; words && p < raw + len;) {
        char *nl = memchr(p, '\n', (size_t)(raw + len - p));
        char *end = nl ? nl : raw + len;
        *end = 0;
        char *slash = strchr(p, '/');
        if (slash) *slash = 0;
        size_t wlen = strlen(p);
        if (wlen && p[wlen - 1] == '\r') p[--wlen] = 0;
        if (keep_word(p, wlen, lower_only)) {
            if (n == cap) {
                char **nw = realloc(words, (cap *= 2) * sizeof(char *));
                if (!nw) break;
                words = nw;
            }
            words[n++] = p;
        }
        p = end + 1;
    }
    if (!words || n < 100) {
        free(words);
        free(raw);
        return lm_errf(err, "word list %s has too few usable words", path);
    }
    wl->text = raw;
    wl->words = words;
    wl->n = n;
    return LM_OK;
}

/* The embedded word list of a language without a Debian word list
 * (lang_words.h): the first list of that code (Serbian: its Latin one). */
static int wordlist_embedded(const char *code, wordlist *wl, char *err) {
    const lm_lang_words *lw = NULL;
    for (unsigned i = 0; i < lm_lang_word_list_count && !lw; i++)
        if (strcmp(lm_lang_word_lists[i].code, code) == 0) lw = &lm_lang_word_lists[i];
    if (!lw) {
        char codes[1024];
        size_t k = 0;
        for (unsigned i = 0; i < lm_lang_word_list_count && k + 8 < sizeof(codes); i++)
            if (!i || strcmp(lm_lang_word_lists[i].code, lm_lang_word_lists[i - 1].code))
                k += (size_t)snprintf(codes + k, sizeof(codes) - k, "%s%s", i ? " " : "",
                                      lm_lang_word_lists[i].code);
        return lm_errf(err, "no word list for language '%s' (languages: %s)", code, codes);
    }
    wl->text = strdup(lw->words);
    wl->words = malloc((lw->n ? lw->n : 1) * sizeof(char *));
    if (!wl->text || !wl->words) {
        free(wl->text);
        free(wl->words);
        return lm_errf(err, "out of memory");
    }
    size_t n = 0;
    for (char *save, *t = strtok_r(wl->text, " ", &save); t && n < lw->n;
         t = strtok_r(NULL, " ", &save))
        wl->words[n++] = t;
    wl->n = n;
    if (n < 10) {
        free(wl->text);
        free(wl->words);
        return lm_errf(err, "the word list of '%s' has too few words", code);
    }
    return LM_OK;
}

static void wordlist_free(wordlist *wl) {
    free(wl->words);
    free(wl->text);
}

/* ---- texts -------------------------------------------------------------- */

/* Lines of 6 to 14 lowercase words, up to limit bytes. With plant, about one
 * line in 200 gets the fuzzy-search term in place of one word; their
 * numbers (from 1) go to planted. */
static void make_lines(lm_buf *b, const wordlist *wl, lm_rng *r, size_t limit, json_t *planted) {
    size_t line = 0;
    char tmp[512];
    for (;;) {
        line++;
        size_t words = 6 + lm_rng_below(r, 9), k = 0;
        int plant = planted && lm_rng_below(r, 200) == 0;
        size_t at = plant ? lm_rng_below(r, words) : words;
        for (size_t i = 0; i < words; i++) {
            const char *w = i == at ? LM_FUZZY_TERM : wl->words[lm_rng_below(r, wl->n)];
            k += (size_t)snprintf(tmp + k, sizeof(tmp) - k, "%s%s", i ? " " : "", w);
        }
        tmp[k++] = '\n';
        if (b->len + k > limit) break;
        lm_buf_append(b, tmp, k);
        if (plant) json_array_append_new(planted, json_integer((json_int_t)line));
    }
}

/* Sentences of 5 to 15 words in one language, up to limit bytes. */
static void make_sentences(lm_buf *b, const wordlist *wl, lm_rng *r, size_t limit) {
    char tmp[1024];
    for (;;) {
        size_t words = 5 + lm_rng_below(r, 11), k = 0;
        for (size_t i = 0; i < words; i++)
            k += (size_t)snprintf(tmp + k, sizeof(tmp) - k, "%s%s", i ? " " : "",
                                  wl->words[lm_rng_below(r, wl->n)]);
        /* ASCII-capitalize the first letter, as a sentence would. */
        if (tmp[0] >= 'a' && tmp[0] <= 'z') tmp[0] = (char)(tmp[0] - 'a' + 'A');
        k += (size_t)snprintf(tmp + k, sizeof(tmp) - k, "%s", lm_rng_below(r, 4) ? ". " : ".\n");
        if (b->len + k > limit) break;
        lm_buf_append(b, tmp, k);
    }
}

/* AES-256-GCM as encrypt-message does it (12-byte nonce, 16-byte tag, no
 * associated data), by OpenSSL: the host makes the data set with an
 * implementation of its own, so decrypt-message reading it is a check of
 * the functions' AES-GCM against OpenSSL's. LM_OK or LM_ERR. */
#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16
static int gcm_encrypt(const uint8_t key[32], const uint8_t nonce[GCM_NONCE_LEN], const uint8_t *pt,
                       size_t n, uint8_t *ct, uint8_t tag[GCM_TAG_LEN]) {
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, ok = c && n <= INT32_MAX &&
                      EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
                      EVP_EncryptUpdate(c, ct, &len, pt, (int)n) == 1 &&
                      EVP_EncryptFinal_ex(c, ct + len, &len) == 1 &&
                      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? LM_OK : LM_ERR;
}

static int put_object(const char *out, json_t *objects, const char *key, const char *group,
                      const char *function, const void *data, size_t len, char *err) {
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", out, key);
    char *slash = strrchr(path, '/');
    *slash = 0;
    if (lm_mkdirs(path, err) != LM_OK) return LM_ERR;
    *slash = '/';
    if (lm_file_write(path, data, len, err) != LM_OK) return LM_ERR;
    char sum[17];
    snprintf(sum, sizeof(sum), "%016llx",
             (unsigned long long)lm_fnv1a64(LM_FNV1A64_INIT, data, len));
    json_array_append_new(objects,
                          json_pack("{s:s,s:s,s:s,s:I,s:s}", "key", key, "group", group, "function",
                                    function, "bytes", (json_int_t)len, "fnv1a64", sum));
    return LM_OK;
}

/* The benchmark request of each function for group g. */
static json_t *requests_for(const lm_group *g) {
    char k[8][96];
    snprintf(k[0], 96, "audio-generation/out-%s.wav", g->name);
    snprintf(k[1], 96, "fuzzy-search/%s.txt", g->name);
    snprintf(k[2], 96, "language-detection/%s.txt", g->name);
    snprintf(k[3], 96, "encrypt-message/%s.txt", g->name);
    snprintf(k[4], 96, "encrypt-message/out-%s.b64", g->name);
    snprintf(k[5], 96, "decrypt-message/%s.b64", g->name);
    snprintf(k[6], 96, "decrypt-message/out-%s.txt", g->name);
    snprintf(k[7], 96, "mandelbrot-bitmap/out-%s.pbm", g->name);
    return json_pack(
        "{s:{s:I,s:s},s:{s:s,s:s},s:{s:s},s:{s:s,s:s,s:s},s:{s:s,s:s,s:s},s:{s:I},s:{s:I},"
        "s:{s:I,s:s}}",
        "audio-generation", "size_kb", (json_int_t)(g->text_bytes / 1024), "output_key", k[0],
        "fuzzy-search", "term", LM_FUZZY_TERM, "input_key", k[1], "language-detection", "input_key",
        k[2], "encrypt-message", "key", LM_BENCH_KEY, "input_key", k[3], "output_key", k[4],
        "decrypt-message", "key", LM_BENCH_KEY, "input_key", k[5], "output_key", k[6], "fibonacci",
        "n", (json_int_t)g->n, "prime-numbers", "limit", (json_int_t)g->n, "mandelbrot-bitmap",
        "size", (json_int_t)g->mandel_size, "output_key", k[7]);
}

static int gen_group(const lm_datagen_opts *o, const lm_group *g, const wordlist *eng,
                     const wordlist *lang, json_t *objects, json_t *planted, json_t *requests,
                     char *err) {
    /* One stream per group and purpose, so groups do not depend on each other. */
    lm_rng r = {o->seed ^ lm_fnv1a64(LM_FNV1A64_INIT, g->name, strlen(g->name))};
    char key[96];
    lm_buf b = {0};
    int rc = LM_ERR;

    json_t *lines = json_array();
    make_lines(&b, eng, &r, g->text_bytes, lines);
    snprintf(key, sizeof(key), "fuzzy-search/%s.txt", g->name);
    json_object_set_new(
        planted, g->name,
        json_pack("{s:s,s:s,s:o}", "key", key, "term", LM_FUZZY_TERM, "lines", lines));
    if (put_object(o->out, objects, key, g->name, "fuzzy-search", b.data, b.len, err)) goto out;

    b.len = 0;
    make_sentences(&b, lang, &r, g->text_bytes);
    snprintf(key, sizeof(key), "language-detection/%s.txt", g->name);
    if (put_object(o->out, objects, key, g->name, "language-detection", b.data, b.len, err))
        goto out;

    b.len = 0;
    make_lines(&b, eng, &r, g->text_bytes, NULL);
    snprintf(key, sizeof(key), "encrypt-message/%s.txt", g->name);
    if (put_object(o->out, objects, key, g->name, "encrypt-message", b.data, b.len, err)) goto out;

    /* The decryption input: that text under the benchmark key, in the
     * format encrypt-message writes: base64(nonce || ciphertext || tag). */
    uint8_t nonce[GCM_NONCE_LEN];
    for (size_t i = 0; i < sizeof(nonce); i++)
        nonce[i] = (uint8_t)lm_rng_next(&r);
    size_t n = b.len, raw_len = GCM_NONCE_LEN + n + GCM_TAG_LEN;
    uint8_t *raw = malloc(raw_len);
    char *b64 = malloc(4 * ((raw_len + 2) / 3) + 1);
    if (!raw || !b64) {
        free(raw);
        free(b64);
        lm_errf(err, "out of memory");
        goto out;
    }
    memcpy(raw, nonce, sizeof(nonce));
    if (gcm_encrypt((const uint8_t *)LM_BENCH_KEY, nonce, (const uint8_t *)b.data, n,
                    raw + GCM_NONCE_LEN, raw + GCM_NONCE_LEN + n) != LM_OK) {
        free(raw);
        free(b64);
        lm_errf(err, "AES-256-GCM encryption of the decryption input failed (OpenSSL)");
        goto out;
    }
    size_t blen = (size_t)EVP_EncodeBlock((unsigned char *)b64, raw, (int)raw_len);
    snprintf(key, sizeof(key), "decrypt-message/%s.b64", g->name);
    rc = put_object(o->out, objects, key, g->name, "decrypt-message", b64, blen, err);
    free(raw);
    free(b64);
    if (rc == LM_OK) json_object_set_new(requests, g->name, requests_for(g));
out:
    lm_buf_free(&b);
    return rc;
}

int lm_datagen(const lm_datagen_opts *o, char *err) {
    const char *lang = o->lang ? o->lang : "deu";
    const word_source *ls = NULL;
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
        if (strcmp(sources[i].code, lang) == 0) ls = &sources[i];
    wordlist probe;
    if (!ls) { /* a language without a Debian word list: its embedded words */
        if (wordlist_embedded(lang, &probe, err) != LM_OK) return LM_ERR;
        wordlist_free(&probe);
    }
    size_t ng;
    const lm_group *gs = lm_groups(&ng);
    const lm_group *chosen[8];
    size_t nc = 0;
    if (o->groups) {
        char list[128];
        snprintf(list, sizeof(list), "%s", o->groups);
        for (char *save, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            const lm_group *g = lm_group_find(t);
            if (!g) return lm_errf(err, "unknown group '%s' (groups: xs, s, 1, 2, 3)", t);
            if (nc < 8) chosen[nc++] = g;
        }
    } else {
        for (size_t i = 0; i < ng; i++)
            chosen[nc++] = &gs[i];
    }
    if (lm_mkdirs(o->out, err) != LM_OK) return LM_ERR;
    wordlist eng, other;
    if (wordlist_load(&sources[0], 1, &eng, err) != LM_OK) return LM_ERR;
    if ((ls ? wordlist_load(ls, 0, &other, err) : wordlist_embedded(lang, &other, err)) != LM_OK) {
        wordlist_free(&eng);
        return LM_ERR;
    }
    json_t *objects = json_array(), *planted = json_object(), *requests = json_object();
    int rc = LM_OK;
    int progress = !o->quiet && lm_progress_enabled();
    for (size_t i = 0; i < nc && rc == LM_OK; i++) {
        if (progress) fprintf(stderr, "\r\033[Kdata gen: group %s", chosen[i]->name);
        rc = gen_group(o, chosen[i], &eng, &other, objects, planted, requests, err);
    }
    if (progress) fprintf(stderr, "\r\033[K");
    wordlist_free(&eng);
    wordlist_free(&other);
    json_t *m = json_pack("{s:i,s:I,s:s,s:o,s:o,s:o}", "version", LM_DATASET_VERSION, "seed",
                          (json_int_t)o->seed, "language", lang, "objects", objects,
                          "fuzzy_planted", planted, "requests", requests);
    if (rc == LM_OK) {
        char *text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
        char path[2048];
        snprintf(path, sizeof(path), "%s/manifest.json", o->out);
        rc = text ? lm_file_write(path, text, strlen(text), err) : lm_errf(err, "out of memory");
        free(text);
    }
    json_decref(m);
    return rc;
}

json_t *lm_dataset_manifest(const char *dir, char *err) {
    char path[2048];
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    if (!m) {
        lm_errf(err, "cannot read %s: %s (generate it with `lumos data gen --out %s`)", path,
                je.text, dir);
        return NULL;
    }
    json_t *v = json_object_get(m, "version");
    if (!json_is_integer(v) || json_integer_value(v) != LM_DATASET_VERSION ||
        !json_is_array(json_object_get(m, "objects"))) {
        lm_errf(err, "%s is not a version %d Lumos data set: generate it again", path,
                LM_DATASET_VERSION);
        json_decref(m);
        return NULL;
    }
    return m;
}

int lm_dataset_load(const char *dir, lm_store *store, const char *group, size_t *count,
                    size_t *bytes, char *err) {
    json_t *m = lm_dataset_manifest(dir, err);
    if (!m) return LM_ERR;
    size_t i, nobj = 0, nbytes = 0;
    json_t *obj;
    int rc = LM_OK;
    json_array_foreach(json_object_get(m, "objects"), i, obj) {
        const char *key = json_string_value(json_object_get(obj, "key"));
        const char *g = json_string_value(json_object_get(obj, "group"));
        if (!key || !g) {
            rc = lm_errf(err, "%s/manifest.json: object %zu has no key or group", dir, i);
            break;
        }
        if (group && strcmp(group, g) != 0) continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, key);
        size_t len;
        char *data = lm_file_read(path, &len, err);
        if (!data) {
            rc = LM_ERR;
            break;
        }
        rc = store->put(store, key, data, len, err);
        free(data);
        if (rc != LM_OK) break;
        nobj++;
        nbytes += len;
    }
    json_decref(m);
    if (count) *count = nobj;
    if (bytes) *bytes = nbytes;
    return rc;
}

int lm_dataset_cached(long long seed, const char *group, char *dir, size_t n, char *err) {
    snprintf(dir, n, "%s/build/data/seed-%lld-group-%s", LM_SOURCE_DIR, seed, group);
    json_t *m = lm_dataset_manifest(dir, NULL);
    if (m) {
        json_decref(m);
        return LM_OK;
    }
    lm_datagen_opts g = {(uint64_t)seed, dir, group, NULL, 0};
    return lm_datagen(&g, err);
}
