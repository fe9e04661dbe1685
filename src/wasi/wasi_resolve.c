/* wasi_resolve.c -- the sandbox: every guest path is resolved beneath the
 * directory fd it is relative to. The kernel does it where it can
 * (openat2(2) with RESOLVE_BENEATH, Linux 5.6+: "..", absolute paths and
 * symlinks that would leave the directory fail with EXDEV, reported as
 * ENOTCAPABLE); older kernels get a component walk in user space that
 * opens each directory with O_NOFOLLOW and expands symlinks itself. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wasi/internal.h"

int lm__wasi_force_walk;
static int no_openat2;

/* Symlinks expanded in one resolution before ELOOP (Linux's limit). */
#define MAX_LINKS 40
/* Directories open at once during a walk (deeper paths: ENAMETOOLONG). */
#define MAX_DEPTH 256

static uint32_t open_kernel(int dirfd, const char *path, int flags, unsigned mode, int *out) {
    struct open_how how = {0};
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    if (flags & O_CREAT) how.mode = mode;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    /* EAGAIN: a concurrent rename raced the lookup; the kernel asks for a
     * retry. */
    for (int tries = 0;; tries++) {
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (fd >= 0) {
            *out = (int)fd;
            return LM_WASI_ESUCCESS;
        }
        if (errno == EAGAIN && tries < 64) continue;
        if (errno == EXDEV) return LM_WASI_ENOTCAPABLE;
        return lm__wasi_errno(errno);
    }
}

typedef struct {
    int root;
    int fds[MAX_DEPTH]; /* directories entered below root */
    int n;
} walk_stack;

static int cur(const walk_stack *s) { return s->n ? s->fds[s->n - 1] : s->root; }

static void unwind(walk_stack *s) {
    while (s->n)
        close(s->fds[--s->n]);
}

/* Walks path beneath root: *dir gets an O_PATH fd of the directory the last
 * component is in, last the component (with its trailing slashes). The
 * last component is a symlink only when follow_last is 0; "." or ".." as
 * the last component stay as they are (they cannot name a new entry, and
 * ".." above root is refused here). */
static uint32_t walk(int root, const char *path, int follow_last, int *dir, char *last) {
    if (!*path) return LM_WASI_ENOENT;
    if (path[0] == '/') return LM_WASI_ENOTCAPABLE;
    size_t cap = 2 * LM_WASI_PATH_MAX;
    char *rest = malloc(cap), *target = malloc(LM_WASI_PATH_MAX);
    walk_stack s = {.root = root};
    uint32_t e = LM_WASI_ENOMEM;
    int links = 0;
    if (!rest || !target) goto out;
    strcpy(rest, path);
    for (size_t pos = 0;;) {
        while (rest[pos] == '/')
            pos++;
        char *name = rest + pos;
        size_t len = strcspn(name, "/");
        size_t after = pos + len;
        size_t tail = after;
        while (rest[tail] == '/')
            tail++;
        int is_last = rest[tail] == 0, slash = rest[after] == '/';
        if (len == 0) { /* nothing left: the path named a directory */
            strcpy(last, ".");
            break;
        }
        int dot = len == 1 && name[0] == '.', dotdot = len == 2 && !strncmp(name, "..", 2);
        if (dotdot && s.n == 0) {
            e = LM_WASI_ENOTCAPABLE;
            goto out;
        }
        if (is_last && strlen(name) >= LM_WASI_PATH_MAX) {
            e = LM_WASI_ENAMETOOLONG;
            goto out;
        }
        if (is_last && (dot || dotdot || (!follow_last && !slash))) {
            memcpy(last, name, strlen(name) + 1);
            break;
        }
        if (dot) {
            pos = after;
            continue;
        }
        if (dotdot) {
            close(s.fds[--s.n]);
            pos = after;
            continue;
        }
        char comp[NAME_MAX + 1];
        if (len > NAME_MAX) {
            e = LM_WASI_ENAMETOOLONG;
            goto out;
        }
        memcpy(comp, name, len);
        comp[len] = 0;
        ssize_t n = readlinkat(cur(&s), comp, target, LM_WASI_PATH_MAX);
        if (n >= 0) {
            /* A symlink: its target takes its place in what is left. */
            if (++links > MAX_LINKS) {
                e = LM_WASI_ELOOP;
                goto out;
            }
            if ((size_t)n >= LM_WASI_PATH_MAX) {
                e = LM_WASI_ENAMETOOLONG;
                goto out;
            }
            if (n == 0 || target[0] == '/') {
                e = n == 0 ? LM_WASI_ENOENT : LM_WASI_ENOTCAPABLE;
                goto out;
            }
            size_t restlen = strlen(rest + after);
            if ((size_t)n + restlen + 1 > cap) {
                e = LM_WASI_ENAMETOOLONG;
                goto out;
            }
            memmove(rest + n, rest + after, restlen + 1);
            memcpy(rest, target, (size_t)n);
            pos = 0;
            continue;
        }
        if (errno != EINVAL && errno != ENOENT) {
            e = lm__wasi_errno(errno);
            goto out;
        }
        if (is_last) { /* not a symlink (or not there): the caller's to open */
            memcpy(last, name, strlen(name) + 1);
            break;
        }
        if (s.n == MAX_DEPTH) {
            e = LM_WASI_ENAMETOOLONG;
            goto out;
        }
        int fd = openat(cur(&s), comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            /* A symlink swapped in since readlinkat fails here as ENOTDIR:
             * safe, if not precise. */
            e = lm__wasi_errno(errno);
            goto out;
        }
        s.fds[s.n++] = fd;
        pos = after;
    }
    e = LM_WASI_ESUCCESS;
    if (s.n) {
        *dir = s.fds[--s.n];
    } else if ((*dir = openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        e = lm__wasi_errno(errno);
    }
out:
    unwind(&s);
    free(rest);
    free(target);
    return e;
}

static int use_kernel(void) { return !lm__wasi_force_walk && !no_openat2; }

uint32_t lm__wasi_open_beneath(int dirfd, const char *path, int flags, unsigned mode, int *out) {
    if (use_kernel()) {
        uint32_t e = open_kernel(dirfd, path, flags, mode, out);
        if (e != LM_WASI_ENOSYS) return e;
        no_openat2 = 1; /* a kernel before 5.6 (or a seccomp filter) */
    }
    int dir;
    char *last = malloc(LM_WASI_PATH_MAX);
    if (!last) return LM_WASI_ENOMEM;
    /* O_CREAT|O_EXCL never follows a last symlink (EEXIST, as open(2)). */
    int excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
    uint32_t e = walk(dirfd, path, !(flags & O_NOFOLLOW) && !excl, &dir, last);
    if (e == LM_WASI_ESUCCESS) {
        /* The last component was found not to be a symlink (or is not to
         * be followed): O_NOFOLLOW turns a symlink swapped in meanwhile
         * into ELOOP rather than a way out. */
        int fd = openat(dir, last, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        e = fd < 0 ? lm__wasi_errno(errno) : LM_WASI_ESUCCESS;
        if (fd >= 0) *out = fd;
        close(dir);
    }
    free(last);
    return e;
}

uint32_t lm__wasi_parent_beneath(int dirfd, const char *path, int *parent, char *last) {
    if (!*path) return LM_WASI_ENOENT;
    if (path[0] == '/') return LM_WASI_ENOTCAPABLE;
    if (!use_kernel()) return walk(dirfd, path, 0, parent, last);
    size_t end = strlen(path);
    while (end > 0 && path[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    strcpy(last, path + start);
    char *dir = strndup(path, start);
    if (!dir) return LM_WASI_ENOMEM;
    uint32_t e = lm__wasi_open_beneath(dirfd, start ? dir : ".", O_PATH | O_DIRECTORY, 0, parent);
    free(dir);
    if (e != LM_WASI_ESUCCESS) return e;
    if (end - start == 2 && !strncmp(path + start, "..", 2)) {
        /* "x/..": whatever is done with it, it must not be above dirfd. */
        int fd;
        e = lm__wasi_open_beneath(dirfd, path, O_PATH, 0, &fd);
        if (e == LM_WASI_ESUCCESS) close(fd);
        if (e == LM_WASI_ENOTCAPABLE) {
            close(*parent);
            return e;
        }
    }
    return LM_WASI_ESUCCESS;
}
