/* test_wasi.c -- Lumos' WASI host called directly, as an embedding would,
 * on a malloc'd 64 KiB guest memory: bounds checks, sandbox escapes (with
 * openat2 and with the component walk older kernels get), errno values,
 * readdir cookies, seek and tell, struct layouts, polling. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/util.h"
#include "wasi/internal.h"
#include "wasi/wasi.h"

#define MEM 65536

/* One host over a scratch tree:
 *   root/box/           preopened as /box (guest fd 3)
 *     file.txt          "hello\n"
 *     sub/inner.txt     "inner"
 *     link_in -> file.txt, link_out -> ../outside, link_abs -> /etc,
 *     loop1 -> loop2 -> loop1
 *   root/outside/secret.txt */
typedef struct {
    char root[256], box[300];
    lm_wasi *w;
    lm_wasi_mem m;
    int out[2]; /* the guest's stdout: a pipe the test reads */
} fixture;

static void put(const char *dir, const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void link_at(const char *dir, const char *name, const char *target) {
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof(*f));
    snprintf(f->root, sizeof(f->root), "%s/lumos-wasi-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->root));
    char sub[400], outside[300];
    snprintf(f->box, sizeof(f->box), "%s/box", f->root);
    snprintf(sub, sizeof(sub), "%s/sub", f->box);
    snprintf(outside, sizeof(outside), "%s/outside", f->root);
    assert_int_equal(mkdir(f->box, 0755), 0);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(mkdir(outside, 0755), 0);
    put(f->box, "file.txt", "hello\n");
    put(sub, "inner.txt", "inner");
    put(outside, "secret.txt", "secret");
    link_at(f->box, "link_in", "file.txt");
    link_at(f->box, "link_out", "../outside");
    link_at(f->box, "link_abs", "/etc");
    link_at(f->box, "loop1", "loop2");
    link_at(f->box, "loop2", "loop1");
    assert_int_equal(pipe2(f->out, O_NONBLOCK), 0);
    char *argv[] = {"prog", "a", "bc", NULL};
    char *env[] = {"K=V", "EMPTY=", NULL};
    lm_wasi_dir dirs[] = {{f->box, "/box"}};
    lm_wasi_config cfg = {3, argv, env, dirs, 1, -1, f->out[1], -1};
    char err[LM_WASI_ERRLEN];
    f->w = lm_wasi_new(&cfg, err);
    assert_non_null(f->w);
    f->m.base = calloc(1, MEM);
    f->m.size = MEM;
    lm__wasi_force_walk = 0;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    lm_wasi_free(f->w);
    close(f->out[0]);
    close(f->out[1]);
    free(f->m.base);
    lm_rmtree(f->root);
    free(f);
    lm__wasi_force_walk = 0;
    return 0;
}

/* Calls preview1 function name with the given arguments. */
static uint32_t call(fixture *f, const char *name, int n, ...) {
    const lm_wasi_func *fn = lm_wasi_find(name);
    assert_non_null(fn);
    assert_int_equal((int)strlen(fn->params), n);
    uint64_t a[12] = {0};
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        a[i] = va_arg(ap, uint64_t);
    va_end(ap);
    return fn->fn(f->w, f->m, a);
}
#define U(x) ((uint64_t)(x))

/* Puts a string at ptr (no NUL) and returns its length. */
static uint64_t str(fixture *f, uint64_t ptr, const char *s) {
    memcpy(f->m.base + ptr, s, strlen(s));
    return strlen(s);
}

static uint32_t ld32(fixture *f, uint64_t p) { return lm__wasi_ld32(f->m, p); }
static uint64_t ld64(fixture *f, uint64_t p) { return lm__wasi_ld64(f->m, p); }

/* path_open beneath fd 3 with read rights; the new fd, or the errno
 * negated. */
static int64_t open_at(fixture *f, const char *path, uint64_t lookup, uint64_t oflags,
                       uint64_t rights) {
    uint64_t len = str(f, 1000, path);
    uint32_t e =
        call(f, "path_open", 9, U(3), lookup, U(1000), len, oflags, rights, U(0), U(0), U(900));
    return e ? -(int64_t)e : (int64_t)ld32(f, 900);
}
#define RD (LM_R_FD_READ | LM_R_FD_SEEK | LM_R_FD_TELL | LM_R_FD_FILESTAT_GET | LM_R_FD_READDIR)
#define RW (RD | LM_R_FILE)

/* ---- the function table ---------------------------------------------- */

static void test_table(void **state) {
    (void)state;
    size_t n;
    const lm_wasi_func *fs = lm_wasi_funcs(&n);
    assert_int_equal(n, 46);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(lm_wasi_find(fs[i].name), &fs[i]);
        assert_true(strspn(fs[i].params, "iI") == strlen(fs[i].params));
        assert_string_equal(fs[i].results, strcmp(fs[i].name, "proc_exit") ? "i" : "");
    }
    assert_string_equal(lm_wasi_find("path_open")->params, "iiiiiIIii");
    assert_string_equal(lm_wasi_find("clock_time_get")->params, "iIi");
    assert_non_null(lm_wasi_find("sock_accept"));
    assert_null(lm_wasi_find("fd_nonesuch"));
    assert_null(lm_wasi_find(""));
    lm_wasi_free(NULL); /* harmless */
}

static void test_new_bad_dir(void **state) {
    (void)state;
    lm_wasi_dir dirs[] = {{"/nonexistent/lumos-dir", "/d"}};
    lm_wasi_config cfg = {0, NULL, NULL, dirs, 1, 0, 1, 2};
    char err[LM_WASI_ERRLEN] = "";
    assert_null(lm_wasi_new(&cfg, err));
    assert_non_null(strstr(err, "/nonexistent/lumos-dir"));
}

/* ---- guest memory bounds ---------------------------------------------- */

static void test_bounds(void **state) {
    fixture *f = *state;
    /* iovec array at, across and wrapping past the end */
    assert_int_equal(call(f, "fd_write", 4, U(1), U(MEM), U(1), U(0)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "fd_write", 4, U(1), U(MEM - 4), U(1), U(0)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "fd_write", 4, U(1), U(8), U(0x20000001), U(0)), LM_WASI_EFAULT);
    /* a buffer across the end, and one whose end wraps 32 bits */
    lm__wasi_st32(f->m, 8, MEM - 6);
    lm__wasi_st32(f->m, 12, 100);
    assert_int_equal(call(f, "fd_write", 4, U(1), U(8), U(1), U(0)), LM_WASI_EFAULT);
    lm__wasi_st32(f->m, 8, 0xfffffff0u);
    lm__wasi_st32(f->m, 12, 0x20);
    assert_int_equal(call(f, "fd_write", 4, U(1), U(8), U(1), U(0)), LM_WASI_EFAULT);
    /* a good buffer but no room for the count: nothing is written */
    str(f, 100, "LEAK");
    lm__wasi_st32(f->m, 8, 100);
    lm__wasi_st32(f->m, 12, 4);
    assert_int_equal(call(f, "fd_write", 4, U(1), U(8), U(1), U(MEM - 2)), LM_WASI_EFAULT);
    char buf[16];
    assert_int_equal(read(f->out[0], buf, sizeof(buf)), -1);
    assert_int_equal(call(f, "fd_write", 4, U(1), U(8), U(1), U(16)), 0);
    assert_int_equal(ld32(f, 16), 4);
    assert_int_equal(read(f->out[0], buf, sizeof(buf)), 4);
    /* zero bytes at the very end are in bounds; one byte is not */
    assert_int_equal(call(f, "random_get", 2, U(MEM), U(0)), 0);
    assert_int_equal(call(f, "random_get", 2, U(MEM), U(1)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "random_get", 2, U(0xffffffff), U(2)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "clock_time_get", 3, U(1), U(0), U(MEM - 8)), 0);
    assert_int_equal(call(f, "clock_time_get", 3, U(1), U(0), U(MEM - 7)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "args_sizes_get", 2, U(MEM - 2), U(0)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "args_get", 2, U(MEM - 8), U(0)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "args_get", 2, U(0), U(MEM - 3)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "environ_get", 2, U(0), U(0xffffffff)), LM_WASI_EFAULT);
    assert_int_equal(
        call(f, "path_open", 9, U(3), U(0), U(MEM - 2), U(100), U(0), U(RD), U(0), U(0), U(0)),
        LM_WASI_EFAULT);
    assert_int_equal(call(f, "path_open", 9, U(3), U(0), U(1000), str(f, 1000, "file.txt"), U(0),
                          U(RD), U(0), U(0), U(MEM)),
                     LM_WASI_EFAULT);
    assert_int_equal(call(f, "fd_filestat_get", 2, U(1), U(MEM - 63)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "fd_fdstat_get", 2, U(1), U(MEM - 23)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "fd_prestat_get", 2, U(3), U(MEM - 7)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "fd_prestat_dir_name", 3, U(3), U(MEM - 2), U(4)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "fd_readdir", 5, U(3), U(MEM - 10), U(100), U(0), U(0)),
                     LM_WASI_EFAULT);
    assert_int_equal(call(f, "poll_oneoff", 4, U(0), U(MEM - 16), U(1), U(48)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "poll_oneoff", 4, U(0), U(64), U(0x10000000), U(48)), LM_WASI_EFAULT);
    /* a memory of size 0 (a module without memory) */
    lm_wasi_mem saved = f->m;
    f->m = (lm_wasi_mem){NULL, 0};
    assert_int_equal(call(f, "random_get", 2, U(0), U(1)), LM_WASI_EFAULT);
    assert_int_equal(call(f, "random_get", 2, U(0), U(0)), 0);
    assert_int_equal(call(f, "fd_write", 4, U(1), U(0), U(0), U(0)), LM_WASI_EFAULT);
    f->m = saved;
}

/* ---- the sandbox -------------------------------------------------------- */

static void escapes(fixture *f) {
    assert_int_equal(open_at(f, "../outside/secret.txt", 1, 0, RD), -LM_WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "sub/../../outside/secret.txt", 1, 0, RD), -LM_WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "/etc/passwd", 1, 0, RD), -LM_WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "link_out/secret.txt", 1, 0, RD), -LM_WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "link_abs/passwd", 1, 0, RD), -LM_WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "link_out", 1, LM_O_DIRECTORY, RD), -LM_WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "..", 1, LM_O_DIRECTORY, RD), -LM_WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "link_out/new.txt", 1, LM_O_CREAT, RW), -LM_WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "loop1", 1, 0, RD), -LM_WASI_ELOOP);
    assert_int_equal(open_at(f, "link_in", 0, 0, RD), -LM_WASI_ELOOP); /* not followed */
    int64_t fd = open_at(f, "sub/../link_in", 1, 0, RD);
    assert_true(fd > 3);
    assert_int_equal(call(f, "fd_close", 1, U(fd)), 0);
    fd = open_at(f, "sub/..", 1, LM_O_DIRECTORY, RD);
    assert_true(fd > 3);
    assert_int_equal(call(f, "fd_close", 1, U(fd)), 0);
    /* the path calls: stat, create, remove, rename, link, symlink, readlink */
    uint64_t n = str(f, 1000, "..");
    assert_int_equal(call(f, "path_filestat_get", 5, U(3), U(0), U(1000), n, U(2000)),
                     LM_WASI_ENOTCAPABLE);
    n = str(f, 1000, "link_out");
    assert_int_equal(call(f, "path_filestat_get", 5, U(3), U(1), U(1000), n, U(2000)),
                     LM_WASI_ENOTCAPABLE);
    assert_int_equal(call(f, "path_filestat_get", 5, U(3), U(0), U(1000), n, U(2000)), 0);
    assert_int_equal(f->m.base[2000 + 16], LM_WASI_FT_SYMLINK);
    n = str(f, 1000, "link_out/x");
    assert_int_equal(call(f, "path_create_directory", 3, U(3), U(1000), n), LM_WASI_ENOTCAPABLE);
    n = str(f, 1000, "..");
    assert_int_equal(call(f, "path_remove_directory", 3, U(3), U(1000), n), LM_WASI_ENOTCAPABLE);
    n = str(f, 1000, "../outside/secret.txt");
    assert_int_equal(call(f, "path_unlink_file", 3, U(3), U(1000), n), LM_WASI_ENOTCAPABLE);
    uint64_t m = str(f, 1100, "stolen");
    assert_int_equal(call(f, "path_rename", 6, U(3), U(1000), n, U(3), U(1100), m),
                     LM_WASI_ENOTCAPABLE);
    assert_int_equal(call(f, "path_link", 7, U(3), U(0), U(1000), n, U(3), U(1100), m),
                     LM_WASI_ENOTCAPABLE);
    n = str(f, 1000, "link_out");
    assert_int_equal(call(f, "path_link", 7, U(3), U(1), U(1000), n, U(3), U(1100), m),
                     LM_WASI_ENOTCAPABLE);
    n = str(f, 1000, "x");
    m = str(f, 1100, "link_out/evil");
    assert_int_equal(call(f, "path_symlink", 5, U(1000), n, U(3), U(1100), m), LM_WASI_ENOTCAPABLE);
    n = str(f, 1000, "/etc/passwd");
    m = str(f, 1100, "abs");
    assert_int_equal(call(f, "path_symlink", 5, U(1000), n, U(3), U(1100), m), LM_WASI_EPERM);
    n = str(f, 1000, "link_out/secret.txt");
    assert_int_equal(call(f, "path_filestat_set_times", 7, U(3), U(1), U(1000), n, U(0), U(0),
                          U(LM_FST_MTIM_NOW)),
                     LM_WASI_ENOTCAPABLE);
    n = str(f, 1000, "link_out");
    assert_int_equal(call(f, "path_readlink", 6, U(3), U(1000), n, U(2000), U(64), U(2100)), 0);
    assert_int_equal(ld32(f, 2100), 10);
    assert_memory_equal(f->m.base + 2000, "../outside", 10);
    /* nothing outside changed */
    char p[400];
    snprintf(p, sizeof(p), "%s/outside/secret.txt", f->root);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 6);
    assert_int_equal(st.st_nlink, 1);
    snprintf(p, sizeof(p), "%s/outside", f->root);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_nlink, 2); /* no new subfolder */
}

static void test_escapes_openat2(void **state) { escapes(*state); }

static void test_escapes_walk(void **state) {
    lm__wasi_force_walk = 1;
    escapes(*state);
}

/* The walk resolves what openat2 resolves inside the sandbox. */
static void test_walk_resolves(void **state) {
    fixture *f = *state;
    lm__wasi_force_walk = 1;
    const char *ok[] = {"file.txt",          "./file.txt", "sub//inner.txt",
                        "sub/./../file.txt", "link_in",    "sub/../sub/inner.txt"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t fd = open_at(f, ok[i], 1, 0, RD);
        assert_true(fd > 3);
        assert_int_equal(call(f, "fd_close", 1, U(fd)), 0);
    }
    assert_int_equal(open_at(f, "", 1, 0, RD), -LM_WASI_ENOENT);
    assert_int_equal(open_at(f, "missing/x", 1, 0, RD), -LM_WASI_ENOENT);
    assert_int_equal(open_at(f, "file.txt/x", 1, 0, RD), -LM_WASI_ENOTDIR);
    /* a dangling symlink inside: O_CREAT makes its target; O_EXCL refuses */
    char p[400];
    snprintf(p, sizeof(p), "%s/dangling", f->box);
    assert_int_equal(symlink("made.txt", p), 0);
    assert_int_equal(open_at(f, "dangling", 1, LM_O_CREAT | LM_O_EXCL, RW), -LM_WASI_EEXIST);
    int64_t fd = open_at(f, "dangling", 1, LM_O_CREAT, RW);
    assert_true(fd > 3);
    snprintf(p, sizeof(p), "%s/made.txt", f->box);
    assert_int_equal(access(p, F_OK), 0);
    uint64_t n = str(f, 1000, "sub/newdir/");
    assert_int_equal(call(f, "path_create_directory", 3, U(3), U(1000), n), 0);
    assert_int_equal(call(f, "path_remove_directory", 3, U(3), U(1000), n), 0);
}

/* ---- errno values ------------------------------------------------------ */

static void test_errnos(void **state) {
    fixture *f = *state;
    assert_int_equal(call(f, "fd_read", 4, U(99), U(8), U(1), U(16)), LM_WASI_EBADF);
    assert_int_equal(call(f, "fd_close", 1, U(99)), LM_WASI_EBADF);
    assert_int_equal(call(f, "fd_close", 1, U(0xffffffff)), LM_WASI_EBADF);
    assert_int_equal(open_at(f, "missing.txt", 1, 0, RD), -LM_WASI_ENOENT);
    assert_int_equal(open_at(f, "file.txt", 1, LM_O_DIRECTORY, RD), -LM_WASI_ENOTDIR);
    assert_int_equal(open_at(f, "file.txt", 1, LM_O_CREAT | LM_O_EXCL, RW), -LM_WASI_EEXIST);
    assert_int_equal(open_at(f, "sub", 1, 0, RW), -LM_WASI_EISDIR);
    /* path calls need a directory fd */
    uint64_t n = str(f, 1000, "x");
    assert_int_equal(call(f, "path_create_directory", 3, U(1), U(1000), n), LM_WASI_ENOTDIR);
    assert_int_equal(call(f, "path_create_directory", 3, U(77), U(1000), n), LM_WASI_EBADF);
    n = str(f, 1000, "sub");
    assert_int_equal(call(f, "path_unlink_file", 3, U(3), U(1000), n), LM_WASI_EISDIR);
    assert_int_equal(call(f, "path_remove_directory", 3, U(3), U(1000), n), LM_WASI_ENOTEMPTY);
    uint64_t m = str(f, 1100, "empty");
    assert_int_equal(call(f, "path_create_directory", 3, U(3), U(1100), m), 0);
    assert_int_equal(call(f, "path_create_directory", 3, U(3), U(1100), m), LM_WASI_EEXIST);
    assert_int_equal(call(f, "path_rename", 6, U(3), U(1100), m, U(3), U(1000), n),
                     LM_WASI_ENOTEMPTY);
    n = str(f, 1000, "file.txt");
    assert_int_equal(call(f, "path_remove_directory", 3, U(3), U(1000), n), LM_WASI_ENOTDIR);
    assert_int_equal(call(f, "path_rename", 6, U(3), U(1000), n, U(3), U(1100), m), LM_WASI_EISDIR);
    n = str(f, 1000, "");
    assert_int_equal(call(f, "path_unlink_file", 3, U(3), U(1000), n), LM_WASI_ENOENT);
    /* a NUL inside a path */
    memcpy(f->m.base + 1000, "a\0b", 3);
    assert_int_equal(call(f, "path_unlink_file", 3, U(3), U(1000), U(3)), LM_WASI_EINVAL);
    assert_int_equal(call(f, "path_unlink_file", 3, U(3), U(1000), U(LM_WASI_PATH_MAX)),
                     LM_WASI_ENAMETOOLONG);
    assert_int_equal(call(f, "clock_time_get", 3, U(4), U(0), U(8)), LM_WASI_EINVAL);
    assert_int_equal(call(f, "clock_res_get", 2, U(99), U(8)), LM_WASI_EINVAL);
    assert_int_equal(call(f, "proc_raise", 1, U(6)), LM_WASI_ENOSYS);
    assert_int_equal(call(f, "sock_accept", 3, U(99), U(0), U(8)), LM_WASI_EBADF);
    assert_int_equal(call(f, "sock_shutdown", 2, U(3), U(1)), LM_WASI_ENOTSOCK);
    assert_int_equal(call(f, "sched_yield", 0), 0);
    /* rights: a read-only fd refuses writes and truncation */
    int64_t fd = open_at(f, "file.txt", 1, 0, RD);
    lm__wasi_st32(f->m, 8, 100);
    lm__wasi_st32(f->m, 12, 1);
    assert_int_equal(call(f, "fd_write", 4, U(fd), U(8), U(1), U(16)), LM_WASI_ENOTCAPABLE);
    assert_int_equal(call(f, "fd_filestat_set_size", 2, U(fd), U(0)), LM_WASI_ENOTCAPABLE);
    assert_int_equal(call(f, "fd_readdir", 5, U(fd), U(100), U(100), U(0), U(16)),
                     LM_WASI_ENOTCAPABLE);
    /* narrowing rights works, widening does not */
    assert_int_equal(call(f, "fd_fdstat_set_rights", 3, U(fd), U(LM_R_FD_SEEK), U(0)), 0);
    assert_int_equal(call(f, "fd_read", 4, U(fd), U(8), U(1), U(16)), LM_WASI_ENOTCAPABLE);
    assert_int_equal(call(f, "fd_fdstat_set_rights", 3, U(fd), U(RD), U(0)), LM_WASI_ENOTCAPABLE);
    /* renumber onto a closed fd fails; onto an open one replaces it */
    assert_int_equal(call(f, "fd_renumber", 2, U(fd), U(50)), LM_WASI_EBADF);
    int64_t other = open_at(f, "sub/inner.txt", 1, 0, RD);
    assert_int_equal(call(f, "fd_renumber", 2, U(other), U(fd)), 0);
    assert_int_equal(call(f, "fd_close", 1, U(other)), LM_WASI_EBADF);
    assert_int_equal(call(f, "fd_read", 4, U(fd), U(8), U(1), U(16)), 0);
    assert_int_equal(f->m.base[100], 'i');
    /* the errno translation */
    assert_int_equal(lm__wasi_errno(0), 0);
    assert_int_equal(lm__wasi_errno(EOPNOTSUPP), LM_WASI_ENOTSUP);
    assert_int_equal(lm__wasi_errno(EXDEV), LM_WASI_EXDEV);
    assert_int_equal(lm__wasi_errno(ENOMEDIUM), LM_WASI_EIO);
}

/* ---- directories -------------------------------------------------------- */

/* Reads the directory from cookie with a len-byte buffer at 4096: the
 * bytes used, and the first entry's name and d_next. */
static uint32_t readdir_at(fixture *f, uint64_t fd, uint64_t cookie, uint64_t len, char *name,
                           uint64_t *next) {
    memset(f->m.base + 4096, 0xee, len);
    assert_int_equal(call(f, "fd_readdir", 5, fd, U(4096), len, cookie, U(64)), 0);
    uint32_t used = ld32(f, 64);
    if (used >= 24) {
        uint32_t namlen = ld32(f, 4096 + 16);
        *next = ld64(f, 4096);
        size_t k = used - 24 < namlen ? used - 24 : namlen;
        memcpy(name, f->m.base + 4096 + 24, k);
        name[k] = 0;
    }
    return used;
}

static void test_readdir_cookies(void **state) {
    fixture *f = *state;
    /* one entry per call, by cookies, lists each entry once */
    char names[16][64], name[64];
    int n = 0;
    uint64_t cookie = 0, next = 0;
    while (n < 16 && readdir_at(f, 3, cookie, 24 + 32, name, &next) >= 24) {
        snprintf(names[n++], sizeof(names[0]), "%s", name);
        assert_int_equal(next, (uint64_t)n); /* small numbers: telldir keeps them in a long */
        cookie = next;
    }
    assert_int_equal(n, 9); /* . .. file.txt sub link_in link_out link_abs loop1 loop2 */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            assert_string_not_equal(names[i], names[j]);
    /* resuming anywhere gives the same entry again */
    assert_true(readdir_at(f, 3, 4, 64, name, &next) >= 24);
    assert_string_equal(name, names[4]);
    assert_int_equal(next, 5);
    /* past the end: nothing */
    assert_int_equal(readdir_at(f, 3, 1000, 64, name, &next), 0);
    /* a buffer too small for a whole entry is filled to its last byte */
    assert_int_equal(readdir_at(f, 3, 0, 25, name, &next), 25);
    assert_int_equal(readdir_at(f, 3, 0, 10, name, &next), 10);
    /* the header layout: d_type at 20 */
    int found = 0;
    for (cookie = 0; readdir_at(f, 3, cookie, 24 + 64, name, &next) >= 24; cookie = next) {
        if (strcmp(name, "sub") == 0) found |= f->m.base[4096 + 20] == LM_WASI_FT_DIR;
        if (strcmp(name, "file.txt") == 0) found |= (f->m.base[4096 + 20] == LM_WASI_FT_FILE) << 1;
        if (strcmp(name, "link_in") == 0)
            found |= (f->m.base[4096 + 20] == LM_WASI_FT_SYMLINK) << 2;
    }
    assert_int_equal(found, 7);
    /* a big buffer holds them all, back to back */
    assert_int_equal(call(f, "fd_readdir", 5, U(3), U(4096), U(8192), U(0), U(64)), 0);
    uint32_t used = ld32(f, 64), at = 0;
    int count = 0;
    while (at + 24 <= used) {
        at += 24 + ld32(f, 4096 + at + 16);
        count++;
    }
    assert_int_equal(at, used);
    assert_int_equal(count, n);
    assert_int_equal(call(f, "fd_readdir", 5, U(1), U(4096), U(100), U(0), U(64)),
                     LM_WASI_ENOTCAPABLE);
}

/* ---- files: seek, tell, layouts ------------------------------------------ */

static void test_seek_tell_filestat(void **state) {
    fixture *f = *state;
    int64_t fd = open_at(f, "new.txt", 1, LM_O_CREAT | LM_O_TRUNC, RW);
    assert_true(fd > 3);
    lm__wasi_st32(f->m, 8, 100);
    lm__wasi_st32(f->m, 12, 10);
    str(f, 100, "0123456789");
    assert_int_equal(call(f, "fd_write", 4, U(fd), U(8), U(1), U(16)), 0);
    assert_int_equal(ld32(f, 16), 10);
    assert_int_equal(call(f, "fd_tell", 2, U(fd), U(24)), 0);
    assert_int_equal(ld64(f, 24), 10);
    assert_int_equal(call(f, "fd_seek", 4, U(fd), U(-3), U(2), U(24)), 0);
    assert_int_equal(ld64(f, 24), 7);
    assert_int_equal(call(f, "fd_seek", 4, U(fd), U(-2), U(1), U(24)), 0);
    assert_int_equal(ld64(f, 24), 5);
    assert_int_equal(call(f, "fd_seek", 4, U(fd), U(-1), U(0), U(24)), LM_WASI_EINVAL);
    assert_int_equal(call(f, "fd_seek", 4, U(fd), U(0), U(3), U(24)), LM_WASI_EINVAL);
    assert_int_equal(call(f, "fd_seek", 4, U(fd), U(0), U(0), U(MEM - 4)), LM_WASI_EFAULT);
    lm__wasi_st32(f->m, 12, 3);
    assert_int_equal(call(f, "fd_read", 4, U(fd), U(8), U(1), U(16)), 0);
    assert_memory_equal(f->m.base + 100, "567", 3);
    assert_int_equal(call(f, "fd_pread", 5, U(fd), U(8), U(1), U(1), U(16)), 0);
    assert_memory_equal(f->m.base + 100, "123", 3);
    assert_int_equal(call(f, "fd_pread", 5, U(fd), U(8), U(1), U(-1), U(16)), LM_WASI_EINVAL);
    /* filestat: 64 bytes, filetype at 16, nlink at 24, size at 32 */
    memset(f->m.base + 200, 0xee, 64);
    assert_int_equal(call(f, "fd_filestat_set_size", 2, U(fd), U(4)), 0);
    assert_int_equal(call(f, "fd_filestat_set_times", 4, U(fd), U(5), U(1000000007),
                          U(LM_FST_ATIM | LM_FST_MTIM)),
                     0);
    assert_int_equal(call(f, "fd_filestat_get", 2, U(fd), U(200)), 0);
    assert_int_equal(f->m.base[200 + 16], LM_WASI_FT_FILE);
    assert_int_equal(f->m.base[200 + 17], 0); /* padding cleared */
    assert_int_equal(ld64(f, 200 + 24), 1);
    assert_int_equal(ld64(f, 200 + 32), 4);
    assert_int_equal(ld64(f, 200 + 40), 5);
    assert_int_equal(ld64(f, 200 + 48), 1000000007);
    assert_int_equal(
        call(f, "fd_filestat_set_times", 4, U(fd), U(0), U(0), U(LM_FST_MTIM | LM_FST_MTIM_NOW)),
        LM_WASI_EINVAL);
    /* fdstat: 24 bytes, type at 0, flags at 2, rights at 8 and 16 */
    assert_int_equal(call(f, "fd_fdstat_set_flags", 2, U(fd), U(LM_FDFLAG_APPEND)), 0);
    assert_int_equal(call(f, "fd_fdstat_get", 2, U(fd), U(300)), 0);
    assert_int_equal(f->m.base[300], LM_WASI_FT_FILE);
    assert_int_equal(lm__wasi_ld16(f->m, 302), LM_FDFLAG_APPEND);
    assert_true(ld64(f, 308) & LM_R_FD_WRITE);
    assert_int_equal(ld64(f, 316), 0);
    assert_int_equal(call(f, "fd_fdstat_set_flags", 2, U(fd), U(LM_FDFLAG_SYNC)), LM_WASI_ENOTSUP);
    assert_int_equal(call(f, "fd_allocate", 3, U(fd), U(0), U(100)), 0);
    assert_int_equal(call(f, "fd_advise", 4, U(fd), U(0), U(0), U(1)), 0);
    assert_int_equal(call(f, "fd_advise", 4, U(fd), U(0), U(0), U(9)), LM_WASI_EINVAL);
    assert_int_equal(call(f, "fd_sync", 1, U(fd)), 0);
    assert_int_equal(call(f, "fd_datasync", 1, U(fd)), 0);
    /* path_filestat_get of a directory, and of a symlink unfollowed */
    uint64_t n = str(f, 1000, "sub");
    assert_int_equal(call(f, "path_filestat_get", 5, U(3), U(1), U(1000), n, U(200)), 0);
    assert_int_equal(f->m.base[200 + 16], LM_WASI_FT_DIR);
    n = str(f, 1000, "link_in");
    assert_int_equal(call(f, "path_filestat_get", 5, U(3), U(1), U(1000), n, U(200)), 0);
    assert_int_equal(ld64(f, 200 + 32), 6);
    assert_int_equal(call(f, "path_filestat_get", 5, U(3), U(0), U(1000), n, U(200)), 0);
    assert_int_equal(f->m.base[200 + 16], LM_WASI_FT_SYMLINK);
}

/* ---- preopens, args, env ------------------------------------------------- */

static void test_prestat_args_env(void **state) {
    fixture *f = *state;
    memset(f->m.base + 8, 0xee, 8);
    assert_int_equal(call(f, "fd_prestat_get", 2, U(3), U(8)), 0);
    assert_int_equal(f->m.base[8], 0);
    assert_int_equal(f->m.base[9], 0);
    assert_int_equal(ld32(f, 12), 4);
    assert_int_equal(call(f, "fd_prestat_dir_name", 3, U(3), U(100), U(4)), 0);
    assert_memory_equal(f->m.base + 100, "/box", 4);
    assert_int_equal(call(f, "fd_prestat_dir_name", 3, U(3), U(100), U(3)), LM_WASI_ENAMETOOLONG);
    assert_int_equal(call(f, "fd_prestat_get", 2, U(0), U(8)), LM_WASI_EBADF);
    assert_int_equal(call(f, "fd_prestat_get", 2, U(4), U(8)), LM_WASI_EBADF);
    /* args: 3 strings, "prog\0a\0bc\0" */
    assert_int_equal(call(f, "args_sizes_get", 2, U(0), U(4)), 0);
    assert_int_equal(ld32(f, 0), 3);
    assert_int_equal(ld32(f, 4), 10);
    assert_int_equal(call(f, "args_get", 2, U(16), U(100)), 0);
    assert_int_equal(ld32(f, 16), 100);
    assert_int_equal(ld32(f, 20), 105);
    assert_int_equal(ld32(f, 24), 107);
    assert_memory_equal(f->m.base + 100, "prog\0a\0bc\0", 10);
    assert_int_equal(call(f, "environ_sizes_get", 2, U(0), U(4)), 0);
    assert_int_equal(ld32(f, 0), 2);
    assert_int_equal(ld32(f, 4), 11);
    assert_int_equal(call(f, "environ_get", 2, U(16), U(200)), 0);
    assert_memory_equal(f->m.base + 200, "K=V\0EMPTY=\0", 11);
    assert_int_equal(ld32(f, 20), 204);
}

/* ---- polling ------------------------------------------------------------ */

static void sub_clock(fixture *f, uint64_t p, uint64_t userdata, uint64_t timeout, int abs) {
    memset(f->m.base + p, 0, 48);
    lm__wasi_st64(f->m, p, userdata);
    lm__wasi_st32(f->m, p + 16, 1); /* monotonic */
    lm__wasi_st64(f->m, p + 24, timeout);
    lm__wasi_st16(f->m, p + 40, (uint16_t)abs);
}

static void test_poll(void **state) {
    fixture *f = *state;
    assert_int_equal(call(f, "poll_oneoff", 4, U(0), U(512), U(0), U(8)), LM_WASI_EINVAL);
    uint64_t t0 = lm_now_ns();
    sub_clock(f, 0, 42, 2000000, 0);
    assert_int_equal(call(f, "poll_oneoff", 4, U(0), U(512), U(1), U(8)), 0);
    assert_true(lm_now_ns() - t0 >= 2000000);
    assert_int_equal(ld32(f, 8), 1);
    assert_int_equal(ld64(f, 512), 42);
    assert_int_equal(lm__wasi_ld16(f->m, 520), 0);
    assert_int_equal(f->m.base[522], 0); /* type clock */
    /* an absolute deadline in the past fires at once; the in and out
     * buffers may overlap */
    sub_clock(f, 0, 43, 1, 1);
    assert_int_equal(call(f, "poll_oneoff", 4, U(0), U(0), U(1), U(2000)), 0);
    assert_int_equal(ld64(f, 0), 43);
    /* fd subscriptions: a bad fd reports EBADF; stdout (a pipe) is writable,
     * and wins over a long timeout */
    memset(f->m.base, 0, 3 * 48);
    lm__wasi_st64(f->m, 0, 1);
    f->m.base[8] = 2; /* fd_write */
    lm__wasi_st32(f->m, 16, 1);
    lm__wasi_st64(f->m, 48, 2);
    f->m.base[56] = 1; /* fd_read */
    lm__wasi_st32(f->m, 64, 99);
    sub_clock(f, 96, 3, 10000000000ull, 0);
    t0 = lm_now_ns();
    assert_int_equal(call(f, "poll_oneoff", 4, U(0), U(512), U(3), U(8)), 0);
    assert_true(lm_now_ns() - t0 < 1000000000ull);
    assert_int_equal(ld32(f, 8), 2);
    assert_int_equal(ld64(f, 512), 1);
    assert_int_equal(lm__wasi_ld16(f->m, 520), 0);
    assert_int_equal(f->m.base[522], 2);
    assert_int_equal(ld64(f, 544), 2);
    assert_int_equal(lm__wasi_ld16(f->m, 552), LM_WASI_EBADF);
    f->m.base[8] = 9; /* unknown tag */
    assert_int_equal(call(f, "poll_oneoff", 4, U(0), U(512), U(1), U(8)), LM_WASI_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_new_bad_dir),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes_openat2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_resolves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errnos, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readdir_cookies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seek_tell_filestat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prestat_args_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
