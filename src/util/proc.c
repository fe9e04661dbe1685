/* proc.c -- child processes: spawn with pipes, wait with a timeout, stop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

/* Builds environ plus extra entries (an extra K=V replaces an inherited K). */
static char **merged_env(char *const extra[]) {
    size_t n = 0, m = 0;
    while (environ[n])
        n++;
    while (extra && extra[m])
        m++;
    char **env = calloc(n + m + 1, sizeof(char *));
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        int replaced = 0;
        for (size_t j = 0; j < m; j++)
            if (strncmp(extra[j], environ[i], klen) == 0 && extra[j][klen] == '=') replaced = 1;
        if (!replaced) env[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        env[k++] = extra[j];
    env[k] = NULL;
    return env;
}

int lm_spawn(char *const argv[], char *const env[], const char *cwd, int pipes, int stderr_fd,
             lm_child *c, char *err) {
    return lm_spawn_in(argv, env, cwd, pipes, stderr_fd, NULL, c, err);
}

/* In the child: writes "0" (itself) into each cgroup.procs file. Returns 0
 * or the errno of the first failure. */
static int join_cgroups(const char *const *join) {
    for (size_t i = 0; join && join[i]; i++) {
        int fd = open(join[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0) return errno;
        ssize_t w = write(fd, "0", 1);
        int e = errno;
        close(fd);
        if (w != 1) return e ? e : EIO;
    }
    return 0;
}

/* What the child tells its parent through the report pipe. */
typedef struct {
    uint64_t exec_ns; /* when it was about to exec */
    int err;          /* errno of a failed step, or 0 */
} spawn_report;

int lm_spawn_in(char *const argv[], char *const env[], const char *cwd, int pipes, int stderr_fd,
                const char *const *join, lm_child *c, char *err) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
    c->pid = -1;
    c->in = c->out = -1;
    c->exec_ns = 0;
    char path[4096];
    if (lm_which(argv[0], path, sizeof(path)) != LM_OK)
        return lm_errf(err, "%s not found on PATH: run scripts/setup", argv[0]);
    char **envp = merged_env(env);
    if (!envp) return lm_errf(err, "out of memory");
    /* errp carries an exec failure's errno back from the child. */
    if ((pipes && (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))) || pipe2(errp, O_CLOEXEC)) {
        free(envp);
        return lm_errf(err, "pipe: %s", strerror(errno));
    }
    if (pipes) {
        /* 1 MiB pipes (the default cap of pipe-max-size) move a large object in
         * a few context switches instead of one per 64 KiB; best effort. */
        fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
        fcntl(out[1], F_SETPIPE_SZ, 1 << 20);
    }
    pid_t pid = fork();
    if (pid < 0) {
        free(envp);
        return lm_errf(err, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        if (pipes) {
            dup2(in[0], 0);
            dup2(out[1], 1);
        }
        if (stderr_fd >= 0) {
            dup2(stderr_fd, 2);
            if (!pipes) dup2(stderr_fd, 1);
        }
        signal(SIGPIPE, SIG_DFL);
        /* If lumos dies, its children (a private redis-server, instances)
         * must not outlive it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        spawn_report rep = {0, join_cgroups(join)};
        if (!rep.err && cwd && chdir(cwd) != 0) rep.err = errno;
        /* The moment the program proper begins: after the cgroup joins. */
        rep.exec_ns = lm_now_ns();
        if (write(errp[1], &rep, sizeof(rep)) < 0 || rep.err) _exit(126);
        execve(path, argv, envp);
        rep.err = errno;
        if (write(errp[1], &rep, sizeof(rep)) < 0) _exit(127);
        _exit(127);
    }
    free(envp);
    close(errp[1]);
    /* First report: set-up done (or failed); a second one: exec failed. */
    spawn_report rep = {0, 0};
    int child_errno = 0;
    ssize_t r;
    do
        r = read(errp[0], &rep, sizeof(rep));
    while (r < 0 && errno == EINTR);
    if (r == (ssize_t)sizeof(rep) && !rep.err) {
        c->exec_ns = rep.exec_ns;
        do
            r = read(errp[0], &rep, sizeof(rep));
        while (r < 0 && errno == EINTR);
    }
    child_errno = r > 0 ? rep.err : 0;
    close(errp[0]);
    if (pipes) {
        close(in[0]);
        close(out[1]);
    }
    if (r > 0) {
        waitpid(pid, NULL, 0);
        if (pipes) {
            close(in[1]);
            close(out[0]);
        }
        return lm_errf(err, "cannot start %s: %s", path, strerror(child_errno));
    }
    c->pid = pid;
    c->in = pipes ? in[1] : -1;
    c->out = pipes ? out[0] : -1;
    return LM_OK;
}

int lm_child_wait(lm_child *c, int timeout_ms, int *status) {
    uint64_t deadline = lm_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000u;
    for (;;) {
        pid_t r = waitpid(c->pid, status, timeout_ms < 0 ? 0 : WNOHANG);
        if (r == c->pid) {
            c->pid = -1;
            return LM_OK;
        }
        if (r < 0 && errno != EINTR) return LM_ERR;
        if (timeout_ms >= 0 && lm_now_ns() >= deadline) return LM_ERR;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

void lm_child_stop(lm_child *c, int grace_ms) {
    if (c->in >= 0) close(c->in);
    if (c->out >= 0) close(c->out);
    c->in = c->out = -1;
    if (c->pid <= 0) return;
    int status;
    if (lm_child_wait(c, grace_ms, &status) == LM_OK) return;
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &status, 0);
    c->pid = -1;
}

int lm_run(char *const argv[], int quiet, char *err) {
    int devnull = -1;
    if (quiet) devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    lm_child c;
    int rc = lm_spawn(argv, NULL, NULL, 0, devnull, &c, err);
    if (devnull >= 0) close(devnull);
    if (rc != LM_OK) return -1;
    int status;
    lm_child_wait(&c, -1, &status);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    char d[64];
    lm_describe_status(status, d, sizeof(d));
    lm_errf(err, "%s %s", argv[0], d);
    return -1;
}

void lm_describe_status(int status, char *out, size_t n) {
    if (WIFEXITED(status))
        snprintf(out, n, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, n, "wait status 0x%x", status);
}

int lm_run_logged(char *const argv[], const char *log, int *status, char *err) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return lm_errf(err, "cannot write %s: %s", log, strerror(errno));
    lm_child c;
    int rc = lm_spawn(argv, NULL, NULL, 0, fd, &c, err);
    close(fd);
    if (rc != LM_OK) return LM_ERR;
    lm_child_wait(&c, -1, status);
    return LM_OK;
}
