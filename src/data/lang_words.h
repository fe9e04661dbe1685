/* lang_words.h -- the most frequent words of every language that language
 * detection knows, from the same translated message catalogs its profiles are
 * trained on; generated at build time by tools/lang_profiles_gen.c into
 * build/gen/lang_words.c and linked into the lumos command only (not into the
 * functions). The data generator builds its language-detection texts from
 * them, so `lumos data gen --lang CODE` works for every supported language. */
#ifndef LM_LANG_WORDS_H
#define LM_LANG_WORDS_H

typedef struct {
    const char *code;   /* ISO 639-3, as the detector answers it */
    const char *name;   /* English name */
    const char *script; /* the script its words are written in */
    const char *words;  /* the words, most frequent first, separated by one space */
    unsigned n;         /* how many */
} lm_lang_words;

/* Every language in tools/lang_sources.txt order; a code that is written in
 * two scripts (Serbian) appears twice, Cyrillic after Latin. */
extern const lm_lang_words lm_lang_word_lists[];
extern const unsigned lm_lang_word_list_count;

#endif
