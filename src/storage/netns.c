/* netns.c -- a connect made from inside another network namespace
 * (internal.h): setns(2) moves only the calling thread, and a socket keeps
 * the namespace it was created in, so a thread can step in, make the
 * socket and step back. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "storage/internal.h"
#include "util/util.h"

int lm__netns_enter(const char *path, int *self, char *err) {
    *self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (*self < 0)
        return lm_errf(err, "cannot open this thread's network namespace: %s", strerror(errno));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        lm_errf(err, "cannot enter the network namespace %s: %s (root is needed)", path,
                strerror(errno));
        if (fd >= 0) close(fd);
        close(*self);
        *self = -1;
        return LM_ERR;
    }
    close(fd);
    return LM_OK;
}

void lm__netns_leave(int self) {
    if (self < 0) return;
    (void)setns(self, CLONE_NEWNET); /* back home: cannot fail for our own namespace */
    close(self);
}
