/* lang_profiles.h -- trigram profiles for language detection, generated at
 * build time by tools/lang_profiles_gen.c from Debian's word lists.
 * (Placeholder contract: the language-detection work defines it fully.) */
#ifndef LM_LANG_PROFILES_H
#define LM_LANG_PROFILES_H

typedef struct {
    const char *code;   /* ISO 639-3 */
    const char *name;   /* English name */
    const char *script; /* "Latin", "Cyrillic" */
} lm_lang_profile;

extern const lm_lang_profile lm_lang_profiles[];
extern const unsigned lm_lang_count;

#endif
