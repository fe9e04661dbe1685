/* lang_catalog.h -- reading the language sources for tools/lang_profiles_gen.c:
 * the list in tools/lang_sources.txt and the translated message catalogs
 * (GNU gettext .mo files) it names.
 *
 * tools/lang_sources.txt has one record a line ('#' starts a comment):
 *   lang CODE SCRIPT NAME...   a language (ISO 639-3 code, script name, English name)
 *   cat PACKAGE PATH           a catalog of the language above and its Debian package
 *                              (a .mo file, or a Firefox langpack's .ftl or .properties
 *                              file, unpacked by scripts/setup, lang_l10n.c)
 *   lat PACKAGE PATH           a catalog in Serbian Cyrillic of the language above (Serbian
 *                              in Latin script), read transliterated (lang_translit.c)
 *   test PACKAGE PATH          a catalog held out of training (skipped here)
 *   man PACKAGE                a manpages-* package, the held-out set (skipped here)
 *
 * The held-out test set (tools/lang_heldout.py) is independent of training:
 * translated manual pages, or for a language without them the catalogs of
 * held-out domains (test lines).
 *
 * Held-out rule (the unit test keeps these messages for its catalog
 * paragraphs): a message is HELD OUT of training when the 32-bit FNV-1a hash of
 * its msgid (the singular form, as bytes) is 0 modulo 5. Because the rule
 * looks at the msgid alone, the same messages are held out of every language
 * and every catalog. */
#ifndef LM_LANG_CATALOG_H
#define LM_LANG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#define LM_CAT_MAX_LANGS 128
#define LM_CAT_HOLDOUT_MOD 5u

typedef struct {
    char *package, *path;
    int sr_latin; /* a lat line: transliterate from Serbian Cyrillic */
} lm_cat_file;

typedef struct {
    char code[8], script[16], name[48];
    lm_cat_file *files;
    size_t nfiles;
} lm_cat_lang;

typedef struct {
    lm_cat_lang langs[LM_CAT_MAX_LANGS];
    size_t nlangs;
} lm_cat_sources;

/* Parses the sources list at path into *s. Returns 0, or -1 after printing a
 * message (naming the file and line) to stderr. Free with lm_cat_sources_free. */
int lm_cat_sources_read(const char *path, lm_cat_sources *s);
void lm_cat_sources_free(lm_cat_sources *s);

/* Called for each message of a catalog: msgid and msgstr are the singular
 * forms (not NUL-terminated), msgstr is never empty. */
typedef void (*lm_cat_message_fn)(void *arg, const uint8_t *msgid, size_t idlen,
                                  const uint8_t *msgstr, size_t strlen_);

/* Reads the .mo file at path and calls fn for each translated message
 * (the header entry and empty translations are skipped), in file order.
 * Returns 0, or -1 when the file cannot be read or is no catalog. */
int lm_cat_read_mo(const char *path, lm_cat_message_fn fn, void *arg);

/* As lm_cat_read_mo for any catalog of the sources list: a path ending in
 * .ftl (Fluent) or .properties is one of Firefox's translated files, whose
 * message keys stand for msgids (lang_l10n.c); any other path is a .mo file. */
int lm_cat_read(const char *path, lm_cat_message_fn fn, void *arg);

/* As lm_cat_read for a file of the sources list: the messages of a lat line
 * are transliterated (lm_cat_sr_latin) before fn sees them. */
int lm_cat_read_file(const lm_cat_file *f, lm_cat_message_fn fn, void *arg);

/* Copies s into out (room for n * 3 / 2 bytes) with each Serbian Cyrillic
 * letter in Latin script (ђ đ, љ lj, њ nj, ћ ć, џ dž, ...); anything else
 * stays. Returns the length. */
size_t lm_cat_sr_latin(const uint8_t *s, size_t n, uint8_t *out);

/* Whether the message with this msgid is held out of training. */
int lm_cat_held_out(const uint8_t *msgid, size_t n);

/* Copies a message into out (room for n bytes) as running text: printf
 * conversions (%s, %1$d, %-10lu, %%) and markup tags (<b>, </a>) become a
 * space; accelerator marks ('_' and '&') are dropped. Returns the length. */
size_t lm_cat_clean(const uint8_t *s, size_t n, uint8_t *out);

#endif
