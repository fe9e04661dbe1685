/* launch_main.c -- lumos-launch, the small static program that places an
 * instance ahead of need, and waits for crun's containers.
 *
 *   lumos-launch park [--mkdir DIR]... [--write FILE=VALUE]... [--try FILE=VALUE]...
 *                     [--join CGROUP.PROCS]...
 *
 * Placement ahead of need: makes the instance's cgroup (the directories,
 * the limits; --try writes may fail), joins it, reports on fd 4, then
 * waits on fd 3 for the command to run and execs it, already placed. Its
 * stdin and stdout are the instance's channel from the start. The report
 * is one line: "ok T0 T1\n" (CLOCK_MONOTONIC ns around the placement) or
 * "error STEP PATH\n" (then it says why on stderr and exits 3). The command is a u32 LE length
 * and that many bytes: the program's path, its argv, an empty string, its
 * environment, an empty string, each NUL-terminated. End of input on fd 3
 * before a command (lumos let it go) exits 0.
 *
 *   lumos-launch reap PIDFILE -- ARGV...
 *
 * For crun, whose `run` deletes the container (and its cgroup, with the
 * OOM killer's count) when its process ends: runs ARGV (`crun run --detach
 * --pid-file PIDFILE ...`) as a child subreaper, inherits the container's
 * process when ARGV exits, waits for it and exits with its status (128 + N
 * for a signal N, as runc run does); SIGTERM and SIGINT go to it.
 *
 * Exit status: 2 for a bad command line; 3 when placement fails; 127 when
 * the command cannot be executed; else (reap) the container's. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/mark.h"

enum { EXIT_USAGE = 2, EXIT_PLACE = 3, EXIT_EXEC = 127 };
#define CMD_FD 3
#define STATUS_FD 4

extern char **environ;

static void usage(const char *why) {
    fprintf(stderr,
            "lumos-launch: %s\nusage: lumos-launch park [--mkdir DIR]... [--write FILE=VALUE]... "
            "[--try FILE=VALUE]... [--join PROCS]...\n"
            "       lumos-launch reap PIDFILE -- ARGV...\n",
            why);
    exit(EXIT_USAGE);
}

/* Writes value into file; 0 or an errno. */
static int write_file(const char *file, const char *value) {
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    size_t n = strlen(value);
    int e = write(fd, value, n) == (ssize_t)n ? 0 : errno ? errno : EIO;
    close(fd);
    return e;
}

static void report(const char *fmt, const char *a, const char *b) {
    char line[1200];
    int n = snprintf(line, sizeof(line), fmt, a, b);
    if (n > 0 && write(STATUS_FD, line, (size_t)n) < 0) exit(EXIT_PLACE);
}

/* Reads exactly n bytes from fd; 0 at a clean end before any, -1 short. */
static long read_all(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return got ? -1 : 0;
        got += (size_t)r;
    }
    return (long)got;
}

static int park(int argc, char **argv) {
    uint64_t t0 = lm_mark_now();
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) usage("an option needs a value");
        const char *opt = argv[i];
        char *val = argv[i + 1];
        int e = 0;
        if (strcmp(opt, "--mkdir") == 0) {
            if (mkdir(val, 0755) != 0 && errno != EEXIST) e = errno;
        } else if (strcmp(opt, "--write") == 0 || strcmp(opt, "--try") == 0) {
            char *eq = strchr(val, '=');
            if (!eq) usage("--write needs FILE=VALUE");
            *eq = 0;
            e = write_file(val, eq + 1);
            if (opt[2] == 't') e = 0;
        } else if (strcmp(opt, "--join") == 0) {
            e = write_file(val, "0");
        } else {
            usage("unknown option");
        }
        if (e) {
            report("error %s %s\n", opt + 2, val);
            fprintf(stderr, "lumos-launch: %s %s: %s\n", opt + 2, val, strerror(e));
            return EXIT_PLACE;
        }
    }
    char line[64];
    int n = snprintf(line, sizeof(line), "ok %llu %llu\n", (unsigned long long)t0,
                     (unsigned long long)lm_mark_now());
    if (write(STATUS_FD, line, (size_t)n) != n) return EXIT_PLACE;
    close(STATUS_FD);
    uint8_t lenb[4];
    long r = read_all(CMD_FD, lenb, 4);
    if (r == 0) return 0; /* let go unused */
    uint32_t len = (uint32_t)lenb[0] | (uint32_t)lenb[1] << 8 | (uint32_t)lenb[2] << 16 |
                   (uint32_t)lenb[3] << 24;
    char *cmd = r == 4 && len < (64u << 20) ? malloc((size_t)len + 1) : NULL;
    if (!cmd || read_all(CMD_FD, cmd, len) != (long)len) {
        fprintf(stderr, "lumos-launch: a short command on fd %d\n", CMD_FD);
        return EXIT_EXEC;
    }
    cmd[len] = 0;
    close(CMD_FD);
    /* path, argv..., "", env..., "" */
    char **v = calloc((size_t)len + 2, sizeof(char *));
    if (!v) return EXIT_EXEC;
    size_t nv = 0;
    for (size_t off = 0; off < len; off += strlen(cmd + off) + 1)
        v[nv++] = cmd + off;
    size_t a = 1;
    while (a < nv && *v[a])
        a++;
    if (nv < 2 || a >= nv) {
        fprintf(stderr, "lumos-launch: a malformed command\n");
        return EXIT_EXEC;
    }
    v[a] = NULL;
    char **env = v + a + 1;
    if (nv > a + 1) v[nv - 1] = NULL; /* the closing "" */
    execve(v[0], v + 1, env);
    fprintf(stderr, "lumos-launch: cannot execute %s: %s\n", v[0], strerror(errno));
    return EXIT_EXEC;
}

/* The container's process, once known: a SIGTERM or SIGINT for us goes to
 * it (as runc run forwards them). */
static volatile sig_atomic_t container_pid;

static void forward(int sig) {
    if (container_pid > 0) kill((pid_t)container_pid, sig);
}

static int exit_code(int st) {
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
}

/* reap PIDFILE -- ARGV...: runs ARGV (`crun run --detach --pid-file
 * PIDFILE ...`: crun's run without --detach deletes the container, its
 * cgroup and the OOM killer's count with it, when the process ends) as a
 * child subreaper, so the container's process becomes ours when ARGV
 * exits; waits for it and exits with its status. */
static int reap(int argc, char **argv) {
    if (argc < 5 || strcmp(argv[3], "--") != 0) usage("reap takes PIDFILE -- ARGV...");
    const char *pidfile = argv[2];
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    struct sigaction sa = {.sa_handler = forward};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        execv(argv[4], argv + 4);
        fprintf(stderr, "lumos-launch: cannot execute %s: %s\n", argv[4], strerror(errno));
        _exit(EXIT_EXEC);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 1;
    if (st != 0) return exit_code(st);
    char buf[32] = "";
    int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
    ssize_t k = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0) close(fd);
    buf[k > 0 ? k : 0] = 0;
    pid_t init = (pid_t)atoi(buf);
    if (init <= 0) {
        fprintf(stderr, "lumos-launch: no container pid in %s\n", pidfile);
        return 1;
    }
    container_pid = init;
    for (;;) { /* reap whatever comes until the container's process */
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0 && errno == EINTR) continue;
        if (p < 0) return 1; /* it was never ours */
        if (p == init) return exit_code(st);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) usage("no mode given");
    signal(SIGPIPE, SIG_DFL);
    if (strcmp(argv[1], "park") == 0) return park(argc, argv);
    if (strcmp(argv[1], "reap") == 0) return reap(argc, argv);
    usage("unknown mode");
    return EXIT_USAGE;
}
