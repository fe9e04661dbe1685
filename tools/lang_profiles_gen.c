/* lang_profiles_gen.c -- builds the language-detection trigram profiles from
 * the translated message catalogs Debian ships and writes them as C source.
 *
 * Usage: lang_profiles_gen SOURCES PROFILES_C WORDS_C DEPS
 *   SOURCES     tools/lang_sources.txt: the languages and their catalogs
 *   PROFILES_C  build/gen/lang_profiles.c (format: src/functions/lang_profiles.h)
 *   WORDS_C     build/gen/lang_words.c: each language's most frequent words, for
 *               the data generator (format: src/data/lang_words.h)
 *   DEPS        a make fragment naming every catalog read as a prerequisite of
 *               PROFILES_C (less a trailing ".tmp"), so the profiles are rebuilt
 *               only when a catalog changes
 *
 * The text model is in lang_profiles.h, the held-out rule in lang_catalog.h.
 * All arithmetic is on integers and every ordering has a tie-break, so the
 * same packages give the same bytes. A missing catalog ends the program,
 * before anything is written, with a message naming its Debian package and
 * exit status 1. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang_catalog.h"
#include "lang_profiles.h"

#define PROG "lang_profiles_gen"
/* Words per language in the data generator's table. */
#define WORDS_KEPT 1000

/* One kept trigram of a language: its code points packed 21 bits apiece. */
typedef struct {
    uint64_t key;
    uint64_t weight;
    uint8_t code;
} kept_tri;

typedef struct {
    uint32_t ntri;
    uint16_t cost[LM_LANG_LEVELS];
    kept_tri *tri;
} lang_result;

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "%s: out of memory (%zu bytes)\n", PROG, n);
        exit(1);
    }
    return p;
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        exit(1);
    }
    return p;
}

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "%s: out of memory (%zu bytes)\n", PROG, n);
        exit(1);
    }
    return p;
}

/* ---- trigram counts ------------------------------------------------------ */

typedef struct {
    uint64_t key; /* 0 marks an empty slot: a real key always has a letter */
    uint64_t weight;
} tri_slot;

typedef struct {
    tri_slot *tab;
    size_t cap, n;
} tri_map;

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static void tri_add(tri_map *m, uint64_t key, uint64_t w) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1 << 14;
        tri_slot *nt = xcalloc(ncap, sizeof(tri_slot));
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->tab[i].key) continue;
            size_t j = mix64(m->tab[i].key) & (ncap - 1);
            while (nt[j].key)
                j = (j + 1) & (ncap - 1);
            nt[j] = m->tab[i];
        }
        free(m->tab);
        m->tab = nt;
        m->cap = ncap;
    }
    size_t j = mix64(key) & (m->cap - 1);
    while (m->tab[j].key && m->tab[j].key != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->tab[j].key) {
        m->tab[j].key = key;
        m->n++;
    }
    m->tab[j].weight += w;
}

#define PACK3(a, b, c) (((uint64_t)(a) << 42) | ((uint64_t)(b) << 21) | (uint64_t)(c))

/* log2(x) in 16.16 fixed point, for x > 0, from the top 32 bits of x. */
static uint64_t log2_fx(uint64_t x) {
    int e = 63 - __builtin_clzll(x);
    uint64_t m = e >= 31 ? x >> (e - 31) : x << (31 - e); /* [2^31, 2^32): 1.31 */
    uint64_t r = (uint64_t)e << 16;
    for (int bit = 15; bit >= 0; bit--) {
        m = (m * m) >> 31;
        if (m >= (1ULL << 32)) {
            m >>= 1;
            r |= 1ULL << bit;
        }
    }
    return r;
}

static int cmp_kept(const void *a, const void *b) {
    const kept_tri *x = a, *y = b;
    if (x->weight != y->weight) return x->weight > y->weight ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static void *tri_find(tri_map *m, uint64_t key) {
    if (!m->cap) return NULL;
    size_t j = mix64(key) & (m->cap - 1);
    while (m->tab[j].key && m->tab[j].key != key)
        j = (j + 1) & (m->cap - 1);
    return m->tab[j].key ? &m->tab[j] : NULL;
}

/* ---- counting one language's text --------------------------------------- */

/* A counted word: its bytes live in an arena. */
typedef struct {
    uint64_t off, count;
    uint32_t len;
} word_rec;

typedef struct {
    int script_id; /* the language's script: only its words count */
    int english;   /* trained on the msgids */
    tri_map tri;   /* trigram -> occurrences */
    tri_map seen;  /* FNV-1a 64 of each text already counted (| 1) -> 1 */
    tri_map widx;  /* FNV-1a 64 of a word (| 1) -> index + 1 in words */
    word_rec *words;
    size_t nwords, wcap;
    uint8_t *arena;
    size_t alen, acap;
    uint32_t messages, held_out;
    uint64_t letters;
} lang_acc;

static uint64_t fnv64(const uint8_t *s, size_t n) {
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int script_matches(int lang_script, int word_script) {
    /* Japanese is written in kana and Han together. */
    return word_script == lang_script ||
           (lang_script == LM_SCRIPT_KANA && word_script == LM_SCRIPT_HAN);
}

static void count_word(lang_acc *a, const uint8_t *w, size_t n) {
    uint64_t h = fnv64(w, n) | 1;
    tri_slot *s = tri_find(&a->widx, h);
    /* A 64-bit hash collision between two words would merge them; the words
     * are compared to make that an error instead of a silent merge. */
    if (s) {
        word_rec *r = &a->words[s->weight - 1];
        if (r->len != n || memcmp(a->arena + r->off, w, n) != 0) {
            fprintf(stderr, "%s: FNV-1a 64 collision between two words\n", PROG);
            exit(1);
        }
        r->count++;
        return;
    }
    if (a->nwords == a->wcap) {
        a->wcap = a->wcap ? a->wcap * 2 : 4096;
        a->words = xrealloc(a->words, a->wcap * sizeof(word_rec));
    }
    if (a->alen + n > a->acap) {
        a->acap = a->acap ? a->acap * 2 : 1 << 16;
        while (a->alen + n > a->acap)
            a->acap *= 2;
        a->arena = xrealloc(a->arena, a->acap);
    }
    memcpy(a->arena + a->alen, w, n);
    a->words[a->nwords] = (word_rec){a->alen, 1, (uint32_t)n};
    a->alen += n;
    tri_add(&a->widx, h, ++a->nwords);
}

static void count_text(lang_acc *a, const uint8_t *s, size_t n) {
    uint8_t word[LM_LANG_WORD_BYTES];
    size_t pos = 0, len, bytes;
    int script = 0;
    uint32_t cp[LM_LANG_MAX_WORD + 2];
    while ((len = lm_lang_next_word(s, n, &pos, word, &bytes, &script)) > 0) {
        if (len > LM_LANG_MAX_WORD || !script_matches(a->script_id, script)) continue;
        a->letters += len;
        count_word(a, word, bytes);
        size_t k = 0;
        cp[k++] = ' ';
        for (size_t i = 0; i < bytes;)
            i += lm_utf8_next(word + i, bytes - i, &cp[k++]);
        cp[k++] = ' ';
        for (size_t i = 0; i + 2 < k; i++)
            tri_add(&a->tri, PACK3(cp[i], cp[i + 1], cp[i + 2]), 1);
    }
}

static void on_message(void *arg, const uint8_t *id, size_t idn, const uint8_t *str, size_t sn) {
    lang_acc *a = arg;
    if (lm_cat_held_out(id, idn)) {
        a->held_out++;
        return;
    }
    const uint8_t *text = a->english ? id : str;
    size_t n = a->english ? idn : sn;
    /* A translation equal to its msgid is left untranslated: not this
     * language's text. */
    if (!a->english && idn == sn && memcmp(id, str, sn) == 0) return;
    uint64_t h = fnv64(text, n) | 1;
    if (tri_find(&a->seen, h)) return;
    tri_add(&a->seen, h, 1);
    a->messages++;
    uint8_t *clean = xmalloc(n);
    size_t cn = lm_cat_clean(text, n, clean);
    count_text(a, clean, cn);
    free(clean);
}

static void acc_free(lang_acc *a) {
    free(a->tri.tab);
    free(a->seen.tab);
    free(a->widx.tab);
    free(a->words);
    free(a->arena);
}

/* Builds one language's profile from its trigram counts into r. */
static void build_profile(const tri_map *m, lang_result *r) {
    kept_tri *all = xmalloc(m->n * sizeof(kept_tri));
    size_t na = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->tab[i].key) continue;
        all[na++] = (kept_tri){m->tab[i].key, m->tab[i].weight, 0};
        total += m->tab[i].weight;
    }
    qsort(all, na, sizeof(kept_tri), cmp_kept);
    size_t keep = na < LM_LANG_TOP ? na : LM_LANG_TOP;

    /* Cost of a trigram: -log2(weight / total) in 1/16 bit, rounded. */
    uint64_t lt = log2_fx(total);
    uint32_t lo = (uint32_t)((lt - log2_fx(all[0].weight) + 2048) >> 12);
    uint32_t hi = (uint32_t)((lt - log2_fx(all[keep - 1].weight) + 2048) >> 12);
    uint32_t span = hi - lo, steps = LM_LANG_LEVELS - 2;
    for (size_t i = 0; i < keep; i++) {
        uint32_t c = (uint32_t)((lt - log2_fx(all[i].weight) + 2048) >> 12);
        all[i].code = (uint8_t)(span ? 1 + ((c - lo) * steps + span / 2) / span : 1);
    }
    for (uint32_t k = 1; k < LM_LANG_LEVELS; k++)
        r->cost[k] = (uint16_t)(lo + ((k - 1) * span + steps / 2) / steps);
    r->cost[0] = (uint16_t)(hi + 16 * LM_LANG_ABSENT_BITS);
    r->ntri = (uint32_t)keep;
    r->tri = all;
}

/* ---- output -------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    uint32_t key;
    uint8_t lang; /* index within the table */
    uint8_t code;
} table_entry;

static int cmp_entry(const void *a, const void *b) {
    const table_entry *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->lang < y->lang ? -1 : x->lang > y->lang;
}

static void print_u32s(FILE *o, const char *decl, const uint32_t *v, size_t n) {
    fprintf(o, "%s = {", decl);
    for (size_t i = 0; i < n; i++)
        fprintf(o, "%s%u,", i % 12 ? " " : "\n    ", v[i]);
    fprintf(o, "\n};\n");
}

static void print_u8s(FILE *o, const char *decl, const uint8_t *v, size_t n) {
    fprintf(o, "%s = {", decl);
    for (size_t i = 0; i < n; i++)
        fprintf(o, "%s0x%02x,", i % 16 ? " " : "\n    ", v[i]);
    fprintf(o, "\n};\n");
}

static void print_u16s(FILE *o, const char *decl, const uint16_t *v, size_t n) {
    fprintf(o, "%s = {", decl);
    for (size_t i = 0; i < n; i++)
        fprintf(o, "%s%u,", i % 16 ? " " : "\n    ", v[i]);
    fprintf(o, "\n};\n");
}

/* Prints bytes as the body of a C string literal (octal escapes: a hex escape
 * would swallow a following hex digit). */
static void print_cstr(FILE *o, const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7F && s[i] != '"' && s[i] != '\\' && s[i] != '?')
            fputc(s[i], o);
        else
            fprintf(o, "\\%03o", s[i]);
    }
}

static const char *const script_names[LM_SCRIPT_COUNT] = {
    "none",       "Latin", "Cyrillic", "Greek",  "Armenian", "Hebrew", "Arabic",
    "Devanagari", "Thai",  "Georgian", "Hangul", "Kana",     "Han"};

static int script_id_of(const char *name) {
    for (int s = 1; s < LM_SCRIPT_COUNT; s++)
        if (strcmp(script_names[s], name) == 0) return s;
    return -1;
}

/* The #include that finds a header of src/ from build/gen whichever include
 * path the build gives. */
static void print_include(FILE *o, const char *room, const char *header) {
    fprintf(o,
            "#if defined(__has_include)\n#if __has_include(\"%s\")\n#include \"%s\"\n"
            "#elif __has_include(\"%s/%s\")\n#include \"%s/%s\"\n#else\n"
            "#include \"../../src/%s/%s\"\n#endif\n#else\n#include \"%s/%s\"\n#endif\n\n",
            header, header, room, header, room, header, room, header, room, header);
}

static FILE *open_out(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write %s: %s\n", PROG, path, strerror(errno));
        exit(1);
    }
    return f;
}

static void close_out(FILE *f, const char *path) {
    if (fflush(f) != 0 || ferror(f) || fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write %s: %s\n", PROG, path, strerror(errno));
        exit(1);
    }
}

typedef struct {
    const word_rec *w;
    const uint8_t *arena;
} word_ref;

static int cmp_word(const void *a, const void *b) {
    const word_ref *x = a, *y = b;
    if (x->w->count != y->w->count) return x->w->count > y->w->count ? -1 : 1;
    size_t n = x->w->len < y->w->len ? x->w->len : y->w->len;
    int c = memcmp(x->arena + x->w->off, y->arena + y->w->off, n);
    if (c) return c;
    return x->w->len < y->w->len ? -1 : x->w->len > y->w->len;
}

/* The language's most frequent words (two letters or more, except in scripts
 * written without spaces), space-separated; returns how many. */
static size_t print_words(FILE *o, const lang_acc *a) {
    word_ref *refs = xmalloc(a->nwords * sizeof(word_ref));
    size_t n = 0;
    int cjk = a->script_id == LM_SCRIPT_HAN || a->script_id == LM_SCRIPT_KANA ||
              a->script_id == LM_SCRIPT_THAI;
    for (size_t i = 0; i < a->nwords; i++) {
        size_t cps = 0;
        for (size_t k = 0; k < a->words[i].len; k++)
            cps += (a->arena[a->words[i].off + k] & 0xC0) != 0x80;
        if ((cps >= 2 || cjk) && cps <= 16) refs[n++] = (word_ref){&a->words[i], a->arena};
    }
    qsort(refs, n, sizeof(word_ref), cmp_word);
    size_t keep = n < WORDS_KEPT ? n : WORDS_KEPT;
    fprintf(o, "\"");
    for (size_t i = 0; i < keep; i++) {
        if (i) fprintf(o, " ");
        if (i % 16 == 15) fprintf(o, "\"\n     \"");
        print_cstr(o, a->arena + refs[i].w->off, refs[i].w->len);
    }
    fprintf(o, "\"");
    free(refs);
    return keep;
}

static int cmp_cstr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct packages of a language's catalogs, sorted, comma-separated
 * (caller frees). */
static char *package_list(const lm_cat_lang *l) {
    char **p = xmalloc(l->nfiles * sizeof(char *));
    size_t total = 1;
    for (size_t i = 0; i < l->nfiles; i++) {
        p[i] = l->files[i].package;
        total += strlen(p[i]) + 2;
    }
    qsort(p, l->nfiles, sizeof(char *), cmp_cstr);
    char *s = xmalloc(total);
    size_t k = 0;
    for (size_t i = 0; i < l->nfiles; i++) {
        if (i && strcmp(p[i], p[i - 1]) == 0) continue;
        k += (size_t)sprintf(s + k, "%s%s", k ? ", " : "", p[i]);
    }
    s[k] = 0;
    free(p);
    return s;
}

/* ---- the close groups' word stage (lang_profiles.h) --------------------- */

/* The close groups: languages the trigram stage confuses most on the held-out
 * set (docs/functions/language-detection.md has the confusions). */
static const struct {
    const char *script;
    const char *codes[LM_LANG_GROUP_MAX + 1];
} close_groups[] = {
    {"Latin", {"hrv", "srp", "bos", NULL}},
    {"Latin", {"ind", "msa", NULL}},
    {"Latin", {"glg", "por", "spa", NULL}},
};
/* A word must occur this often in a member's catalogs to be kept for it. */
#define GROUP_MIN_COUNT 3

typedef struct {
    const uint8_t *bytes;
    uint32_t len;
    int64_t rank;  /* log-odds times log2 of its count, for choosing */
    uint32_t hash; /* FNV-1a 32 */
} group_word;

static int cmp_group_rank(const void *a, const void *b) {
    const group_word *x = a, *y = b;
    if (x->rank != y->rank) return x->rank > y->rank ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->bytes, y->bytes, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int cmp_group_hash(const void *a, const void *b) {
    const group_word *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->bytes, y->bytes, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* How often language a's catalogs have the word. */
static uint64_t word_count(const lang_acc *a, const uint8_t *w, size_t n) {
    tri_slot *s = tri_find((tri_map *)&a->widx, fnv64(w, n) | 1);
    if (!s) return 0;
    const word_rec *r = &a->words[s->weight - 1];
    return (r->len == n && memcmp(a->arena + r->off, w, n) == 0) ? r->count : 0;
}

static uint64_t word_tokens(const lang_acc *a) {
    uint64_t t = 0;
    for (size_t i = 0; i < a->nwords; i++)
        t += a->words[i].count;
    return t;
}

/* Writes group g's word table; m holds the members' indices. */
static size_t print_group(FILE *o, int g, const lang_acc *acc, const size_t *m, size_t k) {
    uint64_t tokens[LM_LANG_GROUP_MAX];
    for (size_t j = 0; j < k; j++)
        tokens[j] = word_tokens(&acc[m[j]]);
    group_word *kept = NULL;
    size_t nkept = 0;
    for (size_t j = 0; j < k; j++) {
        const lang_acc *a = &acc[m[j]];
        group_word *cand = xmalloc(a->nwords * sizeof(group_word));
        size_t nc = 0;
        for (size_t i = 0; i < a->nwords; i++) {
            const word_rec *r = &a->words[i];
            if (r->count < GROUP_MIN_COUNT) continue;
            const uint8_t *w = a->arena + r->off;
            /* The largest log2 of the smoothed frequency ratio against one
             * other member (16.16): a word two members share and the third
             * lacks tells them from the third (ijekavian "vrijeme" in
             * Croatian and Bosnian, "dugme" in Serbian and Bosnian), which
             * Bosnian, between its neighbours, is told apart by. */
            int64_t lo = INT64_MIN;
            for (size_t q = 0; q < k; q++) {
                if (q == j) continue;
                uint64_t c_q = word_count(&acc[m[q]], w, r->len);
                int64_t l = (int64_t)log2_fx(2 * r->count + 1) - (int64_t)log2_fx(2 * tokens[j]) -
                            (int64_t)log2_fx(2 * c_q + 1) + (int64_t)log2_fx(2 * tokens[q]);
                if (l > lo) lo = l;
            }
            if (lo < (1 << 16)) continue; /* at least twice as frequent */
            int64_t rank = (lo >> 4) * (int64_t)(log2_fx(r->count + 1) >> 8);
            cand[nc++] = (group_word){w, r->len, rank, lm_lang_fnv1a(w, r->len)};
        }
        qsort(cand, nc, sizeof(group_word), cmp_group_rank);
        size_t take = nc < LM_LANG_GROUP_WORDS ? nc : LM_LANG_GROUP_WORDS;
        kept = xrealloc(kept, (nkept + take) * sizeof(group_word));
        memcpy(kept + nkept, cand, take * sizeof(group_word));
        nkept += take;
        free(cand);
    }
    /* One entry per hash: the same word kept twice, or (rarely) two words of
     * one FNV-1a 32, keep the first in byte order. */
    qsort(kept, nkept, sizeof(group_word), cmp_group_hash);
    size_t nw = 0;
    for (size_t i = 0; i < nkept; i++)
        if (nw == 0 || kept[nw - 1].hash != kept[i].hash) kept[nw++] = kept[i];
    uint32_t *hashes = xmalloc((nw ? nw : 1) * sizeof(uint32_t));
    uint16_t *costs = xmalloc((nw ? nw : 1) * k * sizeof(uint16_t));
    for (size_t i = 0; i < nw; i++) {
        hashes[i] = kept[i].hash;
        uint32_t c[LM_LANG_GROUP_MAX], lo = UINT32_MAX;
        for (size_t j = 0; j < k; j++) {
            uint64_t n = word_count(&acc[m[j]], kept[i].bytes, kept[i].len);
            c[j] = (uint32_t)((log2_fx(2 * tokens[j]) - log2_fx(2 * n + 1) + 2048) >> 12);
            if (c[j] < lo) lo = c[j];
        }
        for (size_t j = 0; j < k; j++) {
            uint32_t cap = lo + 16 * LM_LANG_GROUP_CAP_BITS;
            costs[i * k + j] = (uint16_t)(c[j] < cap ? c[j] : cap);
        }
    }
    char decl[64];
    snprintf(decl, sizeof(decl), "static const uint32_t group_hashes_%d[%zu]", g, nw ? nw : 1);
    print_u32s(o, decl, hashes, nw ? nw : 1);
    snprintf(decl, sizeof(decl), "static const uint16_t group_costs_%d[%zu]", g, nw ? nw * k : k);
    print_u16s(o, decl, costs, nw ? nw * k : k);
    fprintf(o, "\n");
    free(hashes);
    free(costs);
    free(kept);
    return nw;
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Whether every member of a group has a catalog named name. */
static int in_every_member(const lm_cat_sources *src, const size_t *m, size_t k, const char *name) {
    for (size_t j = 0; j < k; j++) {
        const lm_cat_lang *l = &src->langs[m[j]];
        size_t f = 0;
        while (f < l->nfiles && strcmp(base_name(l->files[f].path), name) != 0)
            f++;
        if (f == l->nfiles) return 0;
    }
    return 1;
}

/* Every close group's words; a member missing from SOURCES is an error. */
static void print_groups(FILE *o, const lm_cat_sources *src, const lang_acc *acc) {
    size_t ng = sizeof(close_groups) / sizeof(close_groups[0]);
    size_t members[sizeof(close_groups) / sizeof(close_groups[0])][LM_LANG_GROUP_MAX];
    size_t nmem[sizeof(close_groups) / sizeof(close_groups[0])];
    size_t nwords[sizeof(close_groups) / sizeof(close_groups[0])];
    for (size_t g = 0; g < ng; g++) {
        nmem[g] = 0;
        for (size_t c = 0; close_groups[g].codes[c]; c++) {
            size_t i = 0;
            while (i < src->nlangs && (strcmp(src->langs[i].code, close_groups[g].codes[c]) != 0 ||
                                       strcmp(src->langs[i].script, close_groups[g].script) != 0))
                i++;
            if (i == src->nlangs) {
                fprintf(stderr, "%s: close group member %s (%s) is not in the sources\n", PROG,
                        close_groups[g].codes[c], close_groups[g].script);
                exit(1);
            }
            members[g][nmem[g]++] = i;
        }
        /* Each member's words are counted again from its catalogs of the
         * domains every member has, so that the words tell the languages
         * apart rather than the domains (Croatian has 26 catalogs, Serbian in
         * Latin script 8). */
        static lang_acc shared[LM_CAT_MAX_LANGS];
        size_t idx[LM_LANG_GROUP_MAX];
        for (size_t j = 0; j < nmem[g]; j++) {
            const lm_cat_lang *l = &src->langs[members[g][j]];
            lang_acc *a = &shared[j];
            memset(a, 0, sizeof(*a));
            a->script_id = acc[members[g][j]].script_id;
            for (size_t f = 0; f < l->nfiles; f++) {
                if (!in_every_member(src, members[g], nmem[g], base_name(l->files[f].path)))
                    continue;
                if (lm_cat_read_file(&l->files[f], on_message, a) != 0) {
                    fprintf(stderr, "%s: %s is no readable message catalog\n", PROG,
                            l->files[f].path);
                    exit(1);
                }
            }
            idx[j] = j;
        }
        nwords[g] = print_group(o, (int)g, shared, idx, nmem[g]);
        for (size_t j = 0; j < nmem[g]; j++)
            acc_free(&shared[j]);
    }
    fprintf(o, "const lm_lang_group lm_lang_groups[] = {\n");
    for (size_t g = 0; g < ng; g++) {
        fprintf(o, "    {%d, %zu, {", script_id_of(close_groups[g].script), nmem[g]);
        for (size_t j = 0; j < nmem[g]; j++)
            fprintf(o, "%s%zu", j ? ", " : "", members[g][j]);
        fprintf(o, "}, %zu, group_hashes_%zu, group_costs_%zu},\n", nwords[g], g, g);
    }
    fprintf(o, "};\nconst unsigned lm_lang_group_count = %zu;\n", ng);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s SOURCES PROFILES_C WORDS_C DEPS\n", PROG);
        return 2;
    }
    static lm_cat_sources src;
    if (lm_cat_sources_read(argv[1], &src) != 0) return 1;
    size_t nl = src.nlangs;
    int sid[LM_CAT_MAX_LANGS];
    int missing = 0;
    for (size_t i = 0; i < nl; i++) {
        const lm_cat_lang *l = &src.langs[i];
        sid[i] = script_id_of(l->script);
        if (sid[i] < 0) {
            fprintf(stderr, "%s: %s: unknown script '%s' for %s\n", PROG, argv[1], l->script,
                    l->code);
            return 1;
        }
        if (l->nfiles == 0) {
            fprintf(stderr, "%s: %s: no catalogs for %s\n", PROG, argv[1], l->code);
            return 1;
        }
        for (size_t j = 0; j < l->nfiles; j++) {
            FILE *f = fopen(l->files[j].path, "rb");
            if (f) {
                fclose(f);
                continue;
            }
            fprintf(stderr,
                    "%s: cannot read %s (%s, %s): install the Debian package %s "
                    "(scripts/setup does; a Firefox langpack it downloads and unpacks)\n",
                    PROG, l->files[j].path, l->name, strerror(errno), l->files[j].package);
            missing = 1;
        }
    }
    if (missing) return 1;

    /* Count every language's text; languages whose script has no other
     * language need no profile. */
    static lang_acc acc[LM_CAT_MAX_LANGS];
    static lang_result res[LM_CAT_MAX_LANGS];
    int profiled[LM_CAT_MAX_LANGS];
    for (size_t i = 0; i < nl; i++) {
        profiled[i] = 0;
        for (size_t k = 0; k < nl; k++)
            if (k != i && sid[k] == sid[i]) profiled[i] = 1;
        lang_acc *a = &acc[i];
        a->script_id = sid[i];
        a->english = strcmp(src.langs[i].code, "eng") == 0;
        for (size_t j = 0; j < src.langs[i].nfiles; j++)
            if (lm_cat_read_file(&src.langs[i].files[j], on_message, a) != 0) {
                fprintf(stderr, "%s: %s is no readable message catalog: reinstall %s\n", PROG,
                        src.langs[i].files[j].path, src.langs[i].files[j].package);
                return 1;
            }
        /* Enough text for a profile and the data generator's word list (Hebrew, whose
         * held-out domains leave it the least, has 12k letters and needs no profile). */
        if (a->letters < 10000) {
            fprintf(stderr, "%s: %s has only %llu letters of text in its catalogs\n", PROG,
                    src.langs[i].code, (unsigned long long)a->letters);
            return 1;
        }
        if (profiled[i]) build_profile(&a->tri, &res[i]);
    }

    /* The alphabet: every code point of every kept trigram (the padding space
     * sorts first, so it is symbol 0). */
    size_t ncp = 0;
    for (size_t i = 0; i < nl; i++)
        ncp += 3 * (size_t)res[i].ntri;
    uint32_t *cps = xmalloc(ncp * sizeof(uint32_t));
    ncp = 0;
    for (size_t i = 0; i < nl; i++)
        for (uint32_t t = 0; t < res[i].ntri; t++)
            for (int k = 0; k < 3; k++)
                cps[ncp++] = (uint32_t)(res[i].tri[t].key >> (21 * (2 - k))) & 0x1FFFFF;
    qsort(cps, ncp, sizeof(uint32_t), cmp_u32);
    size_t nalpha = 0;
    for (size_t i = 0; i < ncp; i++)
        if (nalpha == 0 || cps[i] != cps[nalpha - 1]) cps[nalpha++] = cps[i];
    uint64_t radix = (uint64_t)nalpha + 1;
    if (nalpha == 0 || cps[0] != ' ' || radix * radix * radix > UINT32_MAX) {
        fprintf(stderr, "%s: unexpected alphabet (%zu symbols)\n", PROG, nalpha);
        return 1;
    }
    uint32_t limit = cps[nalpha - 1] + 1;
    uint16_t *symbol = xmalloc(limit * sizeof(uint16_t));
    for (uint32_t c = 0; c < limit; c++)
        symbol[c] = (uint16_t)nalpha;
    for (size_t i = 0; i < nalpha; i++)
        symbol[cps[i]] = (uint16_t)i;

    FILE *o = open_out(argv[2]);
    fprintf(o, "/* lang_profiles.c -- generated by tools/lang_profiles_gen.c from the message "
               "catalogs\n * in tools/lang_sources.txt; do not edit. The format is described in "
               "src/functions/lang_profiles.h. */\n");
    print_include(o, "functions", "lang_profiles.h");
    fprintf(o, "const lm_lang_profile lm_lang_profiles[] = {\n");
    for (size_t i = 0; i < nl; i++) {
        const lm_cat_lang *l = &src.langs[i];
        char *pk = package_list(l);
        fprintf(o, "    {\"%s\", \"%s\", \"%s\", %d, \"%s\", %zu, %u, %u, %llu, %u,\n     {",
                l->code, l->name, l->script, sid[i], pk, l->nfiles, acc[i].messages,
                acc[i].held_out, (unsigned long long)acc[i].letters, res[i].ntri);
        free(pk);
        for (int k = 0; k < LM_LANG_LEVELS; k++)
            fprintf(o, "%s%u", k ? ", " : "", res[i].cost[k]);
        fprintf(o, "}},\n");
    }
    fprintf(o, "};\nconst unsigned lm_lang_count = %zu;\n\n", nl);

    /* One table per profiled script, in the order the scripts first appear. */
    int table_of[LM_CAT_MAX_LANGS], table_sid[LM_CAT_MAX_LANGS], nt = 0;
    for (size_t i = 0; i < nl; i++) {
        table_of[i] = -1;
        if (!profiled[i]) continue;
        int t = 0;
        while (t < nt && table_sid[t] != sid[i])
            t++;
        if (t == nt) table_sid[nt++] = sid[i];
        table_of[i] = t;
    }
    uint32_t t_nlang[LM_CAT_MAX_LANGS], t_rows[LM_CAT_MAX_LANGS], t_rb[LM_CAT_MAX_LANGS];
    uint8_t t_langs[LM_CAT_MAX_LANGS][LM_LANG_MAX_PER_TABLE];
    for (int t = 0; t < nt; t++) {
        size_t ne = 0;
        t_nlang[t] = 0;
        for (size_t i = 0; i < nl; i++) {
            if (table_of[i] != t) continue;
            if (t_nlang[t] == LM_LANG_MAX_PER_TABLE) {
                fprintf(stderr, "%s: more than %d languages in one script\n", PROG,
                        LM_LANG_MAX_PER_TABLE);
                return 1;
            }
            t_langs[t][t_nlang[t]++] = (uint8_t)i;
            ne += res[i].ntri;
        }
        table_entry *e = xmalloc(ne * sizeof(table_entry));
        ne = 0;
        for (uint32_t j = 0; j < t_nlang[t]; j++) {
            const lang_result *r = &res[t_langs[t][j]];
            for (uint32_t k = 0; k < r->ntri; k++) {
                uint64_t key = r->tri[k].key;
                uint32_t a = symbol[(key >> 42) & 0x1FFFFF], b = symbol[(key >> 21) & 0x1FFFFF],
                         c = symbol[key & 0x1FFFFF];
                e[ne++] = (table_entry){(uint32_t)((a * radix + b) * radix + c), (uint8_t)j,
                                        r->tri[k].code};
            }
        }
        qsort(e, ne, sizeof(table_entry), cmp_entry);
        uint32_t rb = (t_nlang[t] + 1) / 2;
        uint32_t *keys = xmalloc(ne * sizeof(uint32_t));
        uint8_t *levels = xcalloc(ne * rb, 1);
        uint32_t rows = 0;
        for (size_t k = 0; k < ne; k++) {
            if (rows == 0 || keys[rows - 1] != e[k].key) keys[rows++] = e[k].key;
            uint8_t *row = levels + (size_t)(rows - 1) * rb;
            row[e[k].lang / 2] |= (uint8_t)(e[k].code << (4 * (e[k].lang & 1)));
        }
        char decl[64];
        snprintf(decl, sizeof(decl), "static const uint32_t keys_%d[%u]", t, rows);
        print_u32s(o, decl, keys, rows);
        snprintf(decl, sizeof(decl), "static const uint8_t levels_%d[%u]", t, rows * rb);
        print_u8s(o, decl, levels, (size_t)rows * rb);
        fprintf(o, "\n");
        t_rows[t] = rows;
        t_rb[t] = rb;
        free(keys);
        free(levels);
        free(e);
    }
    fprintf(o, "const lm_lang_table lm_lang_tables[] = {\n");
    for (int t = 0; t < nt; t++) {
        fprintf(o, "    {%d, \"%s\", %u, {", table_sid[t], script_names[table_sid[t]], t_nlang[t]);
        for (uint32_t j = 0; j < t_nlang[t]; j++)
            fprintf(o, "%s%u", j ? ", " : "", t_langs[t][j]);
        fprintf(o, "}, %u, %u, keys_%d, levels_%d},\n", t_rows[t], t_rb[t], t, t);
    }
    fprintf(o, "};\nconst unsigned lm_lang_table_count = %d;\n\n", nt);
    print_u32s(o, "const uint32_t lm_lang_alphabet[]", cps, nalpha);
    fprintf(o, "const uint32_t lm_lang_alphabet_size = %zu;\n", nalpha);
    print_u16s(o, "const uint16_t lm_lang_symbol[]", symbol, limit);
    fprintf(o, "const uint32_t lm_lang_symbol_limit = %u;\n\n", limit);
    print_groups(o, &src, acc);
    close_out(o, argv[2]);

    o = open_out(argv[3]);
    fprintf(o, "/* lang_words.c -- generated by tools/lang_profiles_gen.c: the most frequent "
               "words of\n * each language's catalogs; do not edit (src/data/lang_words.h). */\n");
    print_include(o, "data", "lang_words.h");
    fprintf(o, "const lm_lang_words lm_lang_word_lists[] = {\n");
    for (size_t i = 0; i < nl; i++) {
        fprintf(o, "    {\"%s\", \"%s\", \"%s\",\n     ", src.langs[i].code, src.langs[i].name,
                src.langs[i].script);
        size_t n = print_words(o, &acc[i]);
        fprintf(o, ", %zu},\n", n);
    }
    fprintf(o, "};\nconst unsigned lm_lang_word_list_count = %zu;\n", nl);
    close_out(o, argv[3]);

    /* The catalogs as make prerequisites, each with an empty rule of its own
     * so that a removed one reruns this program (which names its package)
     * instead of stopping make. */
    o = open_out(argv[4]);
    size_t tl = strlen(argv[2]);
    if (tl > 4 && strcmp(argv[2] + tl - 4, ".tmp") == 0) tl -= 4;
    fprintf(o, "%.*s:", (int)tl, argv[2]);
    for (size_t i = 0; i < nl; i++)
        for (size_t j = 0; j < src.langs[i].nfiles; j++)
            fprintf(o, " \\\n  %s", src.langs[i].files[j].path);
    fprintf(o, "\n");
    for (size_t i = 0; i < nl; i++)
        for (size_t j = 0; j < src.langs[i].nfiles; j++)
            fprintf(o, "%s:\n", src.langs[i].files[j].path);
    close_out(o, argv[4]);

    for (size_t i = 0; i < nl; i++) {
        free(res[i].tri);
        acc_free(&acc[i]);
    }
    lm_cat_sources_free(&src);
    free(cps);
    free(symbol);
    return 0;
}
