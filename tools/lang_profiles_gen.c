/* Placeholder generator: emits an empty profile table. */
#include <stdio.h>

#include "lang_profiles.h"

int main(void) {
    printf("#include \"lang_profiles.h\"\n");
    printf("const lm_lang_profile lm_lang_profiles[] = {{\"und\", \"undetermined\", \"Latin\"}};\n");
    printf("const unsigned lm_lang_count = 0;\n");
    return 0;
}
