/* lang_translit.c -- Serbian Cyrillic to Latin script (see lang_catalog.h). */
#include "lang_catalog.h"

#include <stdlib.h>
#include <string.h>

/* Gaj's Latin alphabet for the 30 letters of Serbian Cyrillic (U+0402 to
 * U+045F), capitals as the lowercase ones with a capital first letter: the
 * one-to-one mapping Serbian is written in both scripts by. NULL: no Serbian
 * letter, left as it is. */
static const char *sr_latin(unsigned u) {
    static const char *low[32] = {"a", "b", "v", "g",  "d",  "e",  "ž",  "z",  "i",  NULL, "k",
                                  "l", "m", "n", "o",  "p",  "r",  "s",  "t",  "u",  "f",  "h",
                                  "c", "č", "š", NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    static const char *cap[32] = {"A", "B", "V", "G",  "D",  "E",  "Ž",  "Z",  "I",  NULL, "K",
                                  "L", "M", "N", "O",  "P",  "R",  "S",  "T",  "U",  "F",  "H",
                                  "C", "Č", "Š", NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    if (u >= 0x430 && u <= 0x44f) return low[u - 0x430];
    if (u >= 0x410 && u <= 0x42f) return cap[u - 0x410];
    switch (u) {
    case 0x452: return "đ";
    case 0x402: return "Đ";
    case 0x458: return "j";
    case 0x408: return "J";
    case 0x459: return "lj";
    case 0x409: return "Lj";
    case 0x45a: return "nj";
    case 0x40a: return "Nj";
    case 0x45b: return "ć";
    case 0x40b: return "Ć";
    case 0x45f: return "dž";
    case 0x40f: return "Dž";
    default: return NULL;
    }
}

size_t lm_cat_sr_latin(const uint8_t *s, size_t n, uint8_t *out) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        /* Cyrillic letters are two-byte sequences D0 80 .. D1 BF. */
        if (i + 1 < n && (s[i] == 0xd0 || s[i] == 0xd1) && (s[i + 1] & 0xc0) == 0x80) {
            unsigned u = (unsigned)(s[i] & 0x1f) << 6 | (s[i + 1] & 0x3f);
            const char *l = sr_latin(u);
            if (l) {
                size_t m = strlen(l);
                memcpy(out + k, l, m);
                k += m;
                i += 2;
                continue;
            }
        }
        out[k++] = s[i++];
    }
    return k;
}

typedef struct {
    lm_cat_message_fn fn;
    void *arg;
} translit_ctx;

static void on_cyrillic(void *arg, const uint8_t *id, size_t idn, const uint8_t *str, size_t sn) {
    translit_ctx *c = arg;
    uint8_t *l = malloc(sn * 3 / 2 + 1); /* two bytes become at most three (dž) */
    if (!l) return;
    size_t ln = lm_cat_sr_latin(str, sn, l);
    c->fn(c->arg, id, idn, l, ln);
    free(l);
}

int lm_cat_read_file(const lm_cat_file *f, lm_cat_message_fn fn, void *arg) {
    if (!f->sr_latin) return lm_cat_read(f->path, fn, arg);
    translit_ctx c = {fn, arg};
    return lm_cat_read(f->path, on_cyrillic, &c);
}
