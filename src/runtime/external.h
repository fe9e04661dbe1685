/* external.h -- command-line Wasm runtimes from templates (external.c). */
#ifndef LM_EXTERNAL_H
#define LM_EXTERNAL_H

#include "runtime.h"

/* Loads the built-in templates and the user's file ($LUMOS_RUNTIMES, or
 * ~/.config/lumos/runtimes.json) once, and writes up to max runtimes into
 * out; returns how many. Names of builtin runtimes cannot be reused. */
size_t lm_external_load(const lm_runtime *const *builtin, const lm_runtime **out, size_t max);

/* Why the user's runtimes file was not (fully) read, or NULL. */
const char *lm_external_error(void);

#endif
