/* fs.c -- whole-file reads and writes, directories, PATH look-up. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

char *lm_file_read(const char *path, size_t *len, char *err) {
    return lm_file_read_max(path, 0, len, err);
}

char *lm_file_read_max(const char *path, size_t max, size_t *len, char *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lm_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) st.st_mode = 0;
    /* A regular file's size sizes the buffer once; a pipe or a /proc file
     * says 0 and grows it. One byte past max tells a file that is too big. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096, got = 0;
    if (max && cap > max + 1) cap = max + 1;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            close(fd);
            lm_errf(err, "%s: out of memory for %zu bytes", path, cap);
            return NULL;
        }
        if (got == cap) {
            if (max && got > max) break;
            size_t ncap = max && cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) free(buf);
            buf = nb;
            cap = ncap;
            continue;
        }
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            lm_errf(err, "%s: cannot read: %s", path, strerror(e));
            return NULL;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (max && got > max) {
        free(buf);
        lm_errf(err, "%s: larger than the limit of %zu bytes", path, max);
        return NULL;
    }
    buf[got] = 0;
    if (len) *len = got;
    return buf;
}

int lm_file_write(const char *path, const void *data, size_t len, char *err) {
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
        return lm_errf(err, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return lm_errf(err, "cannot create %s: %s", tmp, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    if (close(fd) != 0 || done != len) {
        unlink(tmp);
        return lm_errf(err, "cannot write %s: %s", path, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return lm_errf(err, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    }
    return LM_OK;
}

int lm_mkdirs(const char *path, char *err) {
    char p[PATH_MAX];
    if ((size_t)snprintf(p, sizeof(p), "%s", path) >= sizeof(p))
        return lm_errf(err, "path too long: %s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return lm_errf(err, "cannot create directory %s: %s", p, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        return lm_errf(err, "cannot create directory %s: %s", p, strerror(errno));
    if (!lm_is_dir(p)) return lm_errf(err, "%s exists and is not a directory", p);
    return LM_OK;
}

long long lm_file_size(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    return (long long)st.st_size;
}

int lm_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int lm_rmtree(const char *path) {
    if (access(path, F_OK) != 0) return LM_OK;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? LM_OK : LM_ERR;
}

int lm_which(const char *name, char *out, size_t n) {
    if (strchr(name, '/')) {
        if (access(name, X_OK) != 0) return LM_ERR;
        snprintf(out, n, "%s", name);
        return LM_OK;
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        if ((size_t)snprintf(out, n, "%.*s/%s", (int)len, path, name) < n && access(out, X_OK) == 0)
            return LM_OK;
        path += len + (colon ? 1 : 0);
    }
    return LM_ERR;
}

int lm_pathf(char *out, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    return r < 0 || (size_t)r >= n ? LM_ERR : LM_OK;
}
