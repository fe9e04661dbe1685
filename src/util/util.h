/* util.h -- host-side helpers shared by every room: error buffers, files,
 * child processes, the clock. Error convention for the host: functions
 * return LM_OK (0) or LM_ERR (-1) and write a message a user can act on into
 * the caller's err buffer (LM_ERRLEN bytes). */
#ifndef LM_UTIL_H
#define LM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/clock.h"

#ifndef LM_OK
#define LM_OK 0
#define LM_ERR -1
/* Length of the valid UTF-8 sequence starting at p (at most n bytes, n >
 * 0): 1 for ASCII, 2 to 4, or 0 when p[0] does not start one (Unicode 15,
 * table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF). */
size_t lm_utf8_len(const unsigned char *p, size_t n);

#endif
#define LM_ERRLEN 512

#if defined(__GNUC__)
#define LM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LM_PRINTF(a, b)
/* Length of the valid UTF-8 sequence starting at p (at most n bytes, n >
 * 0): 1 for ASCII, 2 to 4, or 0 when p[0] does not start one (Unicode 15,
 * table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF). */
size_t lm_utf8_len(const unsigned char *p, size_t n);

#endif

/* Writes a message into err (if not NULL) and returns LM_ERR. */
int lm_errf(char *err, const char *fmt, ...) LM_PRINTF(2, 3);

/* lm_now_ns(), the monotonic clock, is the protocol room's (guest and
 * host share it): proto/clock.h, included above. */
/* Wall-clock nanoseconds since the epoch (the one anchor per run). */
uint64_t lm_wall_ns(void);

/* An RFC 3339 UTC time with up to nine fraction digits, as runc writes
 * it ("2026-12-02T07:40:01.123456789Z"; more digits are cut), in ns since
 * the epoch; 0 when s is not one (NULL, another shape, an offset other
 * than Z, a field out of range, before 1970 or past what ns in 64 bits
 * hold, the year 2554). */
uint64_t lm_rfc3339_ns(const char *s);

/* A growing byte buffer. Fields may be read directly; data is NUL-terminated
 * after every append (the NUL is not counted in len). */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} lm_buf;
int lm_buf_reserve(lm_buf *b, size_t extra); /* LM_OK or LM_ERR (out of memory) */
int lm_buf_append(lm_buf *b, const void *p, size_t n);
int lm_buf_printf(lm_buf *b, const char *fmt, ...) LM_PRINTF(2, 3);
void lm_buf_free(lm_buf *b); /* NULL is a harmless no-op */

/* Writes s as a JSON string literal, quotes included, into out (n bytes,
 * always NUL-terminated; a string too long is cut at a character boundary
 * before the closing quote). Control characters become \u00XX; bytes of
 * 0x80 and above are copied (the caller's text is UTF-8). Returns out. */
char *lm_json_quote(char *out, size_t n, const char *s);

/* Reads a whole file (regular, a pipe, /proc) into a malloc'd,
 * NUL-terminated buffer the caller frees; *len (len may be NULL) gets its
 * length. Returns NULL with err set when it cannot (naming the file). */
char *lm_file_read(const char *path, size_t *len, char *err);
/* lm_file_read of at most max bytes (0: no limit): a longer file is an
 * error ("PATH: larger than the limit of N bytes") and is never read whole.
 * Errors read "PATH: cannot open: REASON", "PATH: cannot read: REASON". */
char *lm_file_read_max(const char *path, size_t max, size_t *len, char *err);
/* Writes a whole file (through a temporary and rename, so readers never see
 * half a file). */
int lm_file_write(const char *path, const void *data, size_t len, char *err);
/* mkdir -p. */
int lm_mkdirs(const char *path, char *err);
/* Size of a file in bytes, or -1. */
long long lm_file_size(const char *path);
int lm_is_dir(const char *path);
/* Removes a directory tree (rm -rf); missing is fine. */
int lm_rmtree(const char *path);
/* Finds an executable on PATH; writes its path into out. LM_OK or LM_ERR. */
int lm_which(const char *name, char *out, size_t n);

/* A child process with pipes. */
typedef struct {
    pid_t pid;
    int in;  /* write end of the child's stdin, or -1 */
    int out; /* read end of the child's stdout, or -1 */
    /* Monotonic time the child was about to exec, its set-up (cgroup
     * joins) done: where the started program's own time begins. */
    uint64_t exec_ns;
    /* Monotonic time the child had joined its cgroups (lm_spawn_in with a
     * join list), 0 otherwise. */
    uint64_t joined_ns;
} lm_child;

/* Starts argv[0] (searched on PATH) with extra environment entries env
 * ("K=V", NULL-terminated, may be NULL) added to this process's. With pipes
 * set, the child's stdin and stdout are pipes (in/out set, close-on-exec on
 * our side); otherwise they are inherited. stderr_fd >= 0 replaces the
 * child's stderr (and its stdout too when pipes is 0), -1 inherits it. cwd may be NULL. */
int lm_spawn(char *const argv[], char *const env[], const char *cwd, int pipes, int stderr_fd,
             lm_child *c, char *err);
/* lm_spawn, where the child first joins the control groups whose
 * cgroup.procs files join lists (NULL-terminated; NULL = none), so that
 * everything it runs is accounted there from its first instruction.
 * Both spawn with clone(CLONE_VM | CLONE_VFORK), as posix_spawn does: the
 * child borrows the caller's memory until it execs, so a large caller (the
 * gateway) pays no page-table copy and no teardown, and the caller waits
 * only for the exec itself. */
int lm_spawn_in(char *const argv[], char *const env[], const char *cwd, int pipes, int stderr_fd,
                const char *const *join, lm_child *c, char *err);
/* lm_spawn_in, and the child gets extra[0..nextra) (at most 8) as its
 * descriptors 3, 4, ... */
int lm_spawn_fds(char *const argv[], char *const env[], const char *cwd, int pipes, int stderr_fd,
                 const char *const *join, const int *extra, int nextra, lm_child *c, char *err);
/* lm_spawn_fds, and the child joins the network namespace whose file is
 * netns (/run/netns/NAME; NULL: stays in ours) after its cgroups and
 * before it execs: an emulated node's instance (src/node/node.h). */
int lm_spawn_netns(char *const argv[], char *const env[], const char *cwd, int pipes, int stderr_fd,
                   const char *const *join, const char *netns, const int *extra, int nextra,
                   lm_child *c, char *err);
/* Hands argv (argv[0] searched on PATH) with env added to this process's
 * environment to a launcher waiting on fd (lumos-launch park: a u32 LE
 * length, then the path, argv, "", env, "", each NUL-terminated), which
 * execs it. LM_OK, or LM_ERR with err. */
int lm_exec_send(int fd, char *const argv[], char *const env[], char *err);
/* Waits for the child up to timeout_ms (-1: forever). Returns LM_OK with
 * *status as waitpid gives it, or LM_ERR on timeout (the child still runs). */
int lm_child_wait(lm_child *c, int timeout_ms, int *status);
/* Closes its pipes, asks it to end (stdin EOF), waits grace_ms, then kills
 * it (SIGKILL) and reaps it. Safe to call twice. */
void lm_child_stop(lm_child *c, int grace_ms);
/* Runs a command to completion, its output to this process's stdout/stderr
 * unless quiet (then to /dev/null). Returns the exit status, or -1 when it
 * could not run or died by a signal (err says which). */
int lm_run(char *const argv[], int quiet, char *err);

/* Runs a command to completion with its stdout and stderr in the file log
 * (created or truncated). LM_OK with *status as waitpid gives it, or
 * LM_ERR (err says why) when the log or the command could not be opened. */
int lm_run_logged(char *const argv[], const char *log, int *status, char *err);

/* snprintf for paths: LM_ERR when the result did not fit (it is then cut,
 * and opening it fails with a clear name). */
int lm_pathf(char *out, size_t n, const char *fmt, ...) LM_PRINTF(3, 4);

/* Describes a wait status: "exit status 3", "killed by signal 9 (SIGKILL)". */
void lm_describe_status(int status, char *out, size_t n);

/* Parses "HOST:PORT". LM_OK or LM_ERR. */
int lm_parse_hostport(const char *s, char *host, size_t hostlen, int *port, char *err);

/* True when stderr is a terminal and progress lines should be drawn. */
int lm_progress_enabled(void);

/* Percentile p (0..100) of n sorted values by linear interpolation. */
double lm_percentile(const double *sorted, size_t n, double p);
void lm_sort_doubles(double *v, size_t n);

/* Length of the valid UTF-8 sequence starting at p (at most n bytes, n >
 * 0): 1 for ASCII, 2 to 4, or 0 when p[0] does not start one (Unicode 15,
 * table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF). */
size_t lm_utf8_len(const unsigned char *p, size_t n);

#endif
