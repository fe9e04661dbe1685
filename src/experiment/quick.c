/* quick.c -- the built-in spec: experiments/quick.json, embedded when
 * lumos is built (scripts/embed.sh), so `lumos run` needs no file. */
#include "experiment/experiment.h"

#include "quick_json.h"

const char *lm_exp_quick_json(void) { return lm_quick_json; }
