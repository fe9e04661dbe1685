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
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lm_errf(err, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        lm_errf(err, "%s is not a regular file", path);
        return NULL;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        lm_errf(err, "out of memory reading %s (%zu bytes)", path, size);
        return NULL;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(buf);
        lm_errf(err, "short read of %s", path);
        return NULL;
    }
    buf[size] = 0;
    if (len) *len = size;
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
