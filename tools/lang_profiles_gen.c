/* lang_profiles_gen.c -- builds the language-detection trigram profiles from
 * Debian's word lists and prints them as C source (build/gen/lang_profiles.c).
 *
 * Run by the Makefile as `build/lang_profiles_gen > build/gen/lang_profiles.c`;
 * it takes no arguments. The languages, their word lists and the text model
 * (words, trigrams, the held-out rule, the weighting) are defined in
 * src/functions/lang_profiles.h. All arithmetic is on integers and every
 * ordering has a tie-break, so the same word lists give the same bytes. A
 * missing word list, or one that does not decode as declared, ends the program
 * with a message naming the package and exit status 1. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang_profiles.h"

#define PROG "lang_profiles_gen"

typedef struct {
    const char *code, *name, *script;
    int script_id;
    const char *package, *dict;
    int encoding;
} lang_def;

#define LANG_DEF(code, name, script, sid, pkg, dict, enc) {code, name, script, sid, pkg, dict, enc},
static const lang_def defs[] = {LM_LANG_LIST(LANG_DEF)};
#define NLANG (sizeof(defs) / sizeof(defs[0]))

/* One kept trigram of a language: its code points packed 21 bits apiece. */
typedef struct {
    uint64_t key;
    uint64_t weight;
    uint8_t code;
} kept_tri;

typedef struct {
    uint32_t words, held_out, ntri;
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

/* ---- reading a word list ------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0) break;
        n += got;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Checks that a list decodes as declared. A UTF-8 list must be valid UTF-8;
 * an ISO-8859-1 list must not be valid UTF-8 with multi-byte sequences (that
 * would mean the package now ships UTF-8). Returns 0 or -1 with a message. */
static int check_encoding(const lang_def *d, const uint8_t *s, size_t n) {
    size_t line = 1, multi = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = lm_utf8_next(s + i, n - i, &cp);
        if (k == 1 && s[i] >= 0x80) {
            if (d->encoding == LM_LANG_LATIN1) return 0;
            fprintf(stderr,
                    "%s: %s (package %s) is not valid UTF-8 at line %zu; lang_profiles.h declares "
                    "it UTF-8: check the package's encoding and update LM_LANG_LIST\n",
                    PROG, d->dict, d->package, line);
            return -1;
        }
        if (k > 1) multi++;
        if (s[i] == '\n') line++;
        i += k;
    }
    if (d->encoding == LM_LANG_LATIN1 && multi > 0) {
        fprintf(stderr,
                "%s: %s (package %s) is valid UTF-8, but lang_profiles.h declares it ISO-8859-1: "
                "update LM_LANG_LIST\n",
                PROG, d->dict, d->package);
        return -1;
    }
    return 0;
}

/* ---- a set of words ------------------------------------------------------ */

typedef struct {
    uint32_t hash; /* FNV-1a of the word; 0 marks an empty slot (hash 0 is stored as 1) */
    uint32_t len;
    uint64_t off; /* into the arena */
} slot;

typedef struct {
    slot *tab;
    size_t cap, n;
    uint8_t *arena;
    size_t alen, acap;
} word_set;

static uint32_t slot_hash(uint32_t h) { return h ? h : 1; }

static void set_grow(word_set *s) {
    size_t ncap = s->cap ? s->cap * 2 : 1 << 16;
    slot *nt = xcalloc(ncap, sizeof(slot));
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->tab[i].hash) continue;
        size_t j = s->tab[i].hash & (ncap - 1);
        while (nt[j].hash)
            j = (j + 1) & (ncap - 1);
        nt[j] = s->tab[i];
    }
    free(s->tab);
    s->tab = nt;
    s->cap = ncap;
}

/* Adds a word (UTF-8 bytes) unless it is already in the set. */
static void set_add(word_set *s, const uint8_t *w, size_t n) {
    if ((s->n + 1) * 2 > s->cap) set_grow(s);
    uint32_t h = slot_hash(lm_lang_fnv1a(w, n));
    size_t j = h & (s->cap - 1);
    while (s->tab[j].hash) {
        if (s->tab[j].hash == h && s->tab[j].len == n &&
            memcmp(s->arena + s->tab[j].off, w, n) == 0)
            return;
        j = (j + 1) & (s->cap - 1);
    }
    if (s->alen + n > s->acap) {
        s->acap = s->acap ? s->acap * 2 : 1 << 20;
        while (s->alen + n > s->acap)
            s->acap *= 2;
        s->arena = xrealloc(s->arena, s->acap);
    }
    memcpy(s->arena + s->alen, w, n);
    s->tab[j] = (slot){h, (uint32_t)n, s->alen};
    s->alen += n;
    s->n++;
}

static void set_free(word_set *s) {
    free(s->tab);
    free(s->arena);
}

/* Adds every word of a list to the set; words longer than LM_LANG_MAX_WORD
 * are skipped. */
static void collect_words(const lang_def *d, const uint8_t *s, size_t n, word_set *set) {
    uint8_t word[LM_LANG_WORD_BYTES];
    size_t pos = 0, len, bytes;
    while ((len = lm_lang_next_word(s, n, &pos, (lm_lang_encoding)d->encoding, word, &bytes)) > 0)
        if (len <= LM_LANG_MAX_WORD) set_add(set, word, bytes);
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

/* Builds one language's profile from its word set into r. */
static void build_profile(const word_set *set, lang_result *r) {
    static const uint32_t share[LM_LANG_LENGTH_CAP + 1] = LM_LANG_LENGTH_SHARE;
    uint64_t hist[LM_LANG_LENGTH_CAP + 1] = {0};
    r->words = (uint32_t)set->n;
    r->held_out = 0;
    for (size_t i = 0; i < set->cap; i++) {
        const slot *s = &set->tab[i];
        if (!s->hash) continue;
        const uint8_t *w = set->arena + s->off;
        if (lm_lang_held_out(w, s->len)) {
            r->held_out++;
            continue;
        }
        size_t cps = 0;
        for (size_t k = 0; k < s->len; k++)
            cps += (w[k] & 0xC0) != 0x80;
        hist[cps < LM_LANG_LENGTH_CAP ? cps : LM_LANG_LENGTH_CAP]++;
    }

    tri_map m = {0};
    uint32_t cp[LM_LANG_MAX_WORD + 2];
    for (size_t i = 0; i < set->cap; i++) {
        const slot *s = &set->tab[i];
        if (!s->hash) continue;
        const uint8_t *w = set->arena + s->off;
        if (lm_lang_held_out(w, s->len)) continue;
        size_t n = 0;
        cp[n++] = ' ';
        for (size_t k = 0; k < s->len;)
            k += lm_utf8_next(w + k, s->len - k, &cp[n++]);
        cp[n++] = ' ';
        size_t len = n - 2;
        size_t b = len < LM_LANG_LENGTH_CAP ? len : LM_LANG_LENGTH_CAP;
        /* Every length class gets its share of the total weight, split evenly
         * among its words; 2^40 keeps the quotient exact enough. */
        uint64_t w8 = ((uint64_t)share[b] << 40) / hist[b];
        for (size_t k = 0; k + 2 < n; k++)
            tri_add(&m, PACK3(cp[k], cp[k + 1], cp[k + 2]), w8);
    }

    kept_tri *all = xmalloc(m.n * sizeof(kept_tri));
    size_t na = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < m.cap; i++) {
        if (!m.tab[i].key) continue;
        all[na++] = (kept_tri){m.tab[i].key, m.tab[i].weight, 0};
        total += m.tab[i].weight;
    }
    free(m.tab);
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
    r->cost[0] = (uint16_t)(hi + 16); /* absent: one bit rarer than the rarest kept */
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

static void print_u32s(const char *decl, const uint32_t *v, size_t n) {
    printf("%s = {", decl);
    for (size_t i = 0; i < n; i++)
        printf("%s%u,", i % 12 ? " " : "\n    ", v[i]);
    printf("\n};\n");
}

static void print_u8s(const char *decl, const uint8_t *v, size_t n) {
    printf("%s = {", decl);
    for (size_t i = 0; i < n; i++)
        printf("%s0x%02x,", i % 16 ? " " : "\n    ", v[i]);
    printf("\n};\n");
}

int main(void) {
    int missing = 0;
    for (size_t i = 0; i < NLANG; i++) {
        FILE *f = fopen(defs[i].dict, "rb");
        if (f) {
            fclose(f);
            continue;
        }
        fprintf(stderr,
                "%s: cannot read the %s word list %s (%s): install the Debian package %s "
                "(scripts/setup does)\n",
                PROG, defs[i].name, defs[i].dict, strerror(errno), defs[i].package);
        missing = 1;
    }
    if (missing) return 1;

    static lang_result res[NLANG];
    for (size_t i = 0; i < NLANG; i++) {
        size_t n;
        uint8_t *buf = read_file(defs[i].dict, &n);
        if (!buf) {
            fprintf(stderr, "%s: cannot read %s (%s): reinstall the Debian package %s\n", PROG,
                    defs[i].dict, strerror(errno), defs[i].package);
            return 1;
        }
        if (check_encoding(&defs[i], buf, n) != 0) return 1;
        word_set set = {0};
        collect_words(&defs[i], buf, n, &set);
        free(buf);
        if (set.n < 1000) {
            fprintf(stderr, "%s: %s (package %s) has only %zu words; is it damaged?\n", PROG,
                    defs[i].dict, defs[i].package, set.n);
            return 1;
        }
        build_profile(&set, &res[i]);
        set_free(&set);
    }

    /* The alphabet: every code point of every kept trigram (the padding space
     * sorts first, so it is symbol 0). */
    size_t ncp = 0;
    for (size_t i = 0; i < NLANG; i++)
        ncp += 3 * (size_t)res[i].ntri;
    uint32_t *cps = xmalloc(ncp * sizeof(uint32_t));
    ncp = 0;
    for (size_t i = 0; i < NLANG; i++)
        for (uint32_t t = 0; t < res[i].ntri; t++)
            for (int k = 0; k < 3; k++)
                cps[ncp++] = (uint32_t)(res[i].tri[t].key >> (21 * (2 - k))) & 0x1FFFFF;
    qsort(cps, ncp, sizeof(uint32_t), cmp_u32);
    size_t nalpha = 0;
    for (size_t i = 0; i < ncp; i++)
        if (nalpha == 0 || cps[i] != cps[nalpha - 1]) cps[nalpha++] = cps[i];
    if (cps[0] != ' ' || nalpha + 1 > 255) {
        fprintf(stderr, "%s: unexpected alphabet (%zu symbols, first U+%04X)\n", PROG, nalpha,
                cps[0]);
        return 1;
    }
    uint32_t limit = cps[nalpha - 1] + 1;
    uint8_t *symbol = xmalloc(limit);
    memset(symbol, (int)nalpha, limit);
    for (size_t i = 0; i < nalpha; i++)
        symbol[cps[i]] = (uint8_t)i;
    uint32_t radix = (uint32_t)nalpha + 1;

    printf(
        "/* lang_profiles.c -- generated by tools/lang_profiles_gen.c from Debian's word "
        "lists;\n * do not edit. The format is described in src/functions/lang_profiles.h. */\n");
    /* The header sits in src/functions: find it whichever include path the
     * build gives (the generated file lives in build/gen). */
    printf("#if defined(__has_include)\n#if __has_include(\"lang_profiles.h\")\n"
           "#include \"lang_profiles.h\"\n#elif __has_include(\"functions/lang_profiles.h\")\n"
           "#include \"functions/lang_profiles.h\"\n#else\n"
           "#include \"../../src/functions/lang_profiles.h\"\n#endif\n#else\n"
           "#include \"functions/lang_profiles.h\"\n#endif\n\n");

    printf("const lm_lang_profile lm_lang_profiles[] = {\n");
    for (size_t i = 0; i < NLANG; i++) {
        const lang_def *d = &defs[i];
        printf("    {\"%s\", \"%s\", \"%s\", %d, \"%s\", \"%s\", %d, %u, %u, %u,\n     {", d->code,
               d->name, d->script, d->script_id, d->package, d->dict, d->encoding, res[i].words,
               res[i].held_out, res[i].ntri);
        for (int k = 0; k < LM_LANG_LEVELS; k++)
            printf("%s%u", k ? ", " : "", res[i].cost[k]);
        printf("}},\n");
    }
    printf("};\nconst unsigned lm_lang_count = %zu;\n\n", NLANG);

    /* One table per script, in the order the scripts first appear. */
    int table_of[NLANG];
    int nt = 0, table_sid[NLANG];
    for (size_t i = 0; i < NLANG; i++) {
        int t = 0;
        while (t < nt && table_sid[t] != defs[i].script_id)
            t++;
        if (t == nt) table_sid[nt++] = defs[i].script_id;
        table_of[i] = t;
    }
    uint32_t t_nlang[NLANG], t_rows[NLANG], t_rb[NLANG];
    uint8_t t_langs[NLANG][LM_LANG_MAX_PER_TABLE];
    for (int t = 0; t < nt; t++) {
        size_t ne = 0;
        t_nlang[t] = 0;
        for (size_t i = 0; i < NLANG; i++) {
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
                e[ne++] = (table_entry){(a * radix + b) * radix + c, (uint8_t)j, r->tri[k].code};
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
        print_u32s(decl, keys, rows);
        snprintf(decl, sizeof(decl), "static const uint8_t levels_%d[%u]", t, rows * rb);
        print_u8s(decl, levels, (size_t)rows * rb);
        printf("\n");
        t_rows[t] = rows;
        t_rb[t] = rb;
        free(keys);
        free(levels);
        free(e);
    }
    printf("const lm_lang_table lm_lang_tables[] = {\n");
    for (int t = 0; t < nt; t++) {
        printf("    {%d, \"%s\", %u, {", table_sid[t], defs[t_langs[t][0]].script, t_nlang[t]);
        for (uint32_t j = 0; j < t_nlang[t]; j++)
            printf("%s%u", j ? ", " : "", t_langs[t][j]);
        printf("}, %u, %u, keys_%d, levels_%d},\n", t_rows[t], t_rb[t], t, t);
    }
    printf("};\nconst unsigned lm_lang_table_count = %d;\n\n", nt);

    print_u32s("const uint32_t lm_lang_alphabet[]", cps, nalpha);
    printf("const uint32_t lm_lang_alphabet_size = %zu;\n", nalpha);
    print_u8s("const uint8_t lm_lang_symbol[]", symbol, limit);
    printf("const uint32_t lm_lang_symbol_limit = %u;\n", limit);

    for (size_t i = 0; i < NLANG; i++)
        free(res[i].tri);
    free(cps);
    free(symbol);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: cannot write the output: %s\n", PROG, strerror(errno));
        return 1;
    }
    return 0;
}
