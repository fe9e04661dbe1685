/* launch_main.c -- lumos-launch, the small static program between lumos
 * and an instance's runtime, in two modes.
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
 *   lumos-launch oci RUNC ROOT BUNDLE NAME
 *
 * A container, its stdio passed through, and the end of its create step
 * (namespaces, mounts, cgroup made, the process waiting to be started)
 * reported as a MARK frame on stdout. runc: `RUNC --root ROOT run --keep
 * --bundle BUNDLE NAME`, the create step's end seen with inotify (runc
 * writes ROOT/NAME/state.json then, and starts the process in the same
 * run). Another runtime (crun, whose run marks nothing on disk first):
 * `create --pid-file`, the mark, `start`, then, as a child subreaper, the
 * wait for the container's process. Exits with the container's status
 * (128 + N for a signal N), as runc run does.
 *
 * Exit status: 2 for a bad command line; 3 when placement fails; 127 when
 * the command cannot be executed; in oci mode, runc's. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
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
            "       lumos-launch oci RUNC ROOT BUNDLE NAME\n",
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

/* The container's runtime (runc run), once started: a SIGTERM or SIGINT
 * for us goes to it too, and it forwards it to the container. */
static volatile sig_atomic_t child_pid;

static void forward(int sig) {
    if (child_pid > 0) kill((pid_t)child_pid, sig);
}

static int exit_code(int st) {
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
}

/* Runs argv to its end with our stdio; its wait status, or -1. */
static int run_to_end(char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execv(argv[0], argv);
        fprintf(stderr, "lumos-launch: cannot execute %s: %s\n", argv[0], strerror(errno));
        _exit(EXIT_EXEC);
    }
    child_pid = pid;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    child_pid = 0;
    return st;
}

/* crun: `create` then `start`, whose `run` marks nothing on disk before
 * the container's process runs. crun is C and starts in about a
 * millisecond, so two invocations cost little. As a child subreaper the
 * launcher inherits the container's process when `create` exits, and
 * waits for it. */
static int oci_split(char *runc, char *root, char *bundle, char *name) {
    char pidfile[4200];
    snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", bundle, name);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    char *create[] = {runc,   "--root",     root,    "create", "--bundle",
                      bundle, "--pid-file", pidfile, name,     NULL};
    int st = run_to_end(create);
    if (st != 0) return st < 0 ? 1 : exit_code(st);
    lm_mark_write(1, LM_MARK_CREATED, lm_mark_now());
    char buf[32] = "";
    int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
    ssize_t k = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0) close(fd);
    buf[k > 0 ? k : 0] = 0;
    pid_t init = (pid_t)atoi(buf);
    char *start[] = {runc, "--root", root, "start", name, NULL};
    st = run_to_end(start);
    if (st != 0) return st < 0 ? 1 : exit_code(st);
    child_pid = init; /* signals go to the container's process now */
    for (;;) {
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0 && errno == EINTR) continue;
        if (p < 0) return 1; /* it was never ours */
        if (p == init || init <= 0) return exit_code(st);
    }
}

/* `RUNC --root ROOT run --keep --bundle BUNDLE NAME`, with our stdio (the
 * channel), watching ROOT/NAME with inotify: runc writes state.json there
 * once the container is created (its namespaces, mounts and cgroup made,
 * its process waiting to be started) and starts it right after, in the
 * same process, so the mark costs nothing `run` does not do anyway. */
static int oci(int argc, char **argv) {
    if (argc != 6) usage("oci takes RUNC ROOT BUNDLE NAME");
    lm_mark_write(1, LM_MARK_PROGRAM, lm_mark_now());
    char *runc = argv[2], *root = argv[3], *bundle = argv[4], *name = argv[5];
    const char *base = strrchr(runc, '/');
    struct sigaction sa = {.sa_handler = forward};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (strcmp(base ? base + 1 : runc, "runc") != 0) return oci_split(runc, root, bundle, name);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/%s", root, name);
    int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    int wroot = ino >= 0 ? inotify_add_watch(ino, root, IN_CREATE | IN_ONLYDIR) : -1;
    int wdir = -1;
    char *run[] = {runc, "--root", root, "run", "--keep", "--bundle", bundle, name, NULL};
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "lumos-launch: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        execv(runc, run);
        fprintf(stderr, "lumos-launch: cannot execute %s: %s\n", runc, strerror(errno));
        _exit(EXIT_EXEC);
    }
    child_pid = pid;
    /* Until created (or runc is gone): the events of ROOT, then of ROOT/NAME. */
    int created = wroot < 0;
    while (!created) {
        struct pollfd pfd = {ino, POLLIN, 0};
        int r = poll(&pfd, 1, 100);
        if (r < 0 && errno != EINTR) break;
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
            break; /* runc ended before the container was created */
        if (r <= 0) continue;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t len;
        while ((len = read(ino, buf, sizeof(buf))) > 0) {
            for (char *p = buf; p < buf + len;) {
                const struct inotify_event *ev = (const struct inotify_event *)p;
                if (ev->wd == wroot && ev->len && strcmp(ev->name, name) == 0 && wdir < 0) {
                    wdir = inotify_add_watch(ino, dir, IN_MOVED_TO | IN_CLOSE_WRITE);
                    /* Written before the watch came: created already. */
                    char state[4200];
                    snprintf(state, sizeof(state), "%s/state.json", dir);
                    if (access(state, F_OK) == 0) created = 1;
                }
                if (ev->wd == wdir && ev->len && strcmp(ev->name, "state.json") == 0) created = 1;
                p += sizeof(*ev) + ev->len;
            }
        }
        if (created) lm_mark_write(1, LM_MARK_CREATED, lm_mark_now());
    }
    if (ino >= 0) close(ino);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return 1;
    child_pid = 0;
    return exit_code(st);
}

int main(int argc, char **argv) {
    if (argc < 2) usage("no mode given");
    signal(SIGPIPE, SIG_DFL);
    if (strcmp(argv[1], "park") == 0) return park(argc, argv);
    if (strcmp(argv[1], "oci") == 0) return oci(argc, argv);
    usage("unknown mode");
    return EXIT_USAGE;
}
