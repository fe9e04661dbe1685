/* internal.h -- what the storage room's files share and no one else
 * uses: entering a network namespace around a connect. */
#ifndef LM_STORAGE_INTERNAL_H
#define LM_STORAGE_INTERNAL_H

/* Moves the calling thread into the network namespace at path, keeping
 * its own in *self (a descriptor for lm__netns_leave). LM_OK, or LM_ERR
 * with err (nothing changed). */
int lm__netns_enter(const char *path, int *self, char *err);
/* Back to the namespace in self, and closes it. */
void lm__netns_leave(int self);

#endif
