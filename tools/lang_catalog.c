/* lang_catalog.c -- the sources list and .mo catalogs (see lang_catalog.h). */
#include "lang_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int lm_cat_sources_read(const char *path, lm_cat_sources *s) {
    memset(s, 0, sizeof(*s));
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char line[4096];
    size_t lineno = 0, cap = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || line[0] == 0) continue;
        /* Held-out test sources: read by tools/lang_heldout.py, never trained on. */
        if (strncmp(line, "test ", 5) == 0 || strncmp(line, "man ", 4) == 0) continue;
        char a[64], b[2048];
        int off = 0;
        if (sscanf(line, "lang %7s %15s %n", a, b, &off) == 2 && off > 0) {
            if (s->nlangs == LM_CAT_MAX_LANGS) {
                fprintf(stderr, "%s:%zu: more than %d languages\n", path, lineno, LM_CAT_MAX_LANGS);
                rc = -1;
                break;
            }
            lm_cat_lang *l = &s->langs[s->nlangs++];
            if (strlen(a) >= sizeof(l->code) || strlen(b) >= sizeof(l->script) ||
                strlen(line + off) >= sizeof(l->name)) {
                fprintf(stderr, "%s:%zu: code, script or name too long\n", path, lineno);
                rc = -1;
                break;
            }
            memcpy(l->code, a, strlen(a) + 1);
            memcpy(l->script, b, strlen(b) + 1);
            memcpy(l->name, line + off, strlen(line + off) + 1);
            cap = 0;
        } else if ((sscanf(line, "cat %63s %2047s", a, b) == 2 ||
                    sscanf(line, "lat %63s %2047s", a, b) == 2) &&
                   s->nlangs > 0) {
            lm_cat_lang *l = &s->langs[s->nlangs - 1];
            if (l->nfiles == cap) {
                cap = cap ? cap * 2 : 32;
                lm_cat_file *nf = realloc(l->files, cap * sizeof(*nf));
                if (!nf) {
                    rc = -1;
                    break;
                }
                l->files = nf;
            }
            l->files[l->nfiles++] = (lm_cat_file){dup_str(a), dup_str(b), line[0] == 'l'};
        } else {
            fprintf(stderr,
                    "%s:%zu: expected 'lang CODE SCRIPT NAME', 'cat PACKAGE PATH', 'lat PACKAGE "
                    "PATH', 'test PACKAGE PATH' or 'man PACKAGE'\n",
                    path, lineno);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

void lm_cat_sources_free(lm_cat_sources *s) {
    if (!s) return;
    for (size_t i = 0; i < s->nlangs; i++) {
        for (size_t j = 0; j < s->langs[i].nfiles; j++) {
            free(s->langs[i].files[j].package);
            free(s->langs[i].files[j].path);
        }
        free(s->langs[i].files);
    }
    s->nlangs = 0;
}

static uint32_t rd32(const uint8_t *p, int big) {
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int lm_cat_read_mo(const char *path, lm_cat_message_fn fn, void *arg) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 28) {
        fclose(f);
        return -1;
    }
    uint8_t *b = malloc((size_t)size);
    int ok = b && fread(b, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!ok) {
        free(b);
        return -1;
    }
    size_t n = (size_t)size;
    uint32_t magic = rd32(b, 0);
    int big = magic == 0xde120495u;
    if (!big && magic != 0x950412deu) {
        free(b);
        return -1;
    }
    uint32_t count = rd32(b + 8, big), ids = rd32(b + 12, big), strs = rd32(b + 16, big);
    if ((uint64_t)ids + 8ull * count > n || (uint64_t)strs + 8ull * count > n) {
        free(b);
        return -1;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint32_t il = rd32(b + ids + 8 * i, big), io = rd32(b + ids + 8 * i + 4, big);
        uint32_t sl = rd32(b + strs + 8 * i, big), so = rd32(b + strs + 8 * i + 4, big);
        if ((uint64_t)io + il > n || (uint64_t)so + sl > n) {
            free(b);
            return -1;
        }
        if (il == 0) continue; /* the header entry */
        /* Plural forms are NUL-separated: keep the first. */
        size_t idn = strnlen((const char *)b + io, il), sn = strnlen((const char *)b + so, sl);
        if (sn > 0) fn(arg, b + io, idn, b + so, sn);
    }
    free(b);
    return 0;
}

int lm_cat_held_out(const uint8_t *msgid, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= msgid[i];
        h *= 16777619u;
    }
    return h % LM_CAT_HOLDOUT_MOD == 0;
}

/* Length of a printf conversion at s[0] == '%', or 0 when it is none. */
static size_t conversion_len(const uint8_t *s, size_t n) {
    size_t i = 1;
    size_t d = i;
    while (d < n && s[d] >= '0' && s[d] <= '9')
        d++;
    if (d > i && d < n && s[d] == '$') i = d + 1;
    while (i < n && strchr("-+ #0'", s[i]) && s[i])
        i++;
    if (i < n && s[i] == '*')
        i++;
    else
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i < n && s[i] == '*')
            i++;
        else
            while (i < n && s[i] >= '0' && s[i] <= '9')
                i++;
    }
    while (i < n && s[i] && strchr("hlLqjzt", s[i]))
        i++;
    if (i < n && (s[i] == '%' || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))) return i + 1;
    return 0;
}

size_t lm_cat_clean(const uint8_t *s, size_t n, uint8_t *out) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '%') {
            size_t c = conversion_len(s + i, n - i);
            if (c) {
                out[k++] = ' ';
                i += c;
                continue;
            }
        }
        if (s[i] == '<') {
            size_t j = i + 1;
            while (j < n && j - i <= 63 && s[j] != '<' && s[j] != '>')
                j++;
            if (j < n && s[j] == '>' && j - i <= 63) {
                out[k++] = ' ';
                i = j + 1;
                continue;
            }
        }
        if (s[i] == '_' || s[i] == '&') {
            i++;
            continue;
        }
        out[k++] = s[i++];
    }
    return k;
}
