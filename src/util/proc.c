/* proc.c -- child processes: spawn with pipes, wait with a timeout, stop. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* What the child needs, and what it leaves for its parent: it runs in the
 * parent's memory (CLONE_VM) while the parent waits (CLONE_VFORK), so it
 * writes its report straight into this struct. */
typedef struct {
    char *const *argv;
    char **envp;
    const char *path, *cwd;
    const char *const *join;
    int pipes, stderr_fd;
    const char *netns; /* a network namespace to join (setns) before exec, or NULL */
    const int *extra;  /* dup2'd to fds 3, 4, ... */
    int nextra;
    int in[2], out[2];
    sigset_t mask; /* the parent's signal mask, restored before exec */
    /* The report. */
    uint64_t joined_ns; /* cgroups joined */
    uint64_t exec_ns;   /* about to exec */
    int err;            /* errno of the step that failed, or 0 */
    const char *step;   /* which step failed */
} spawn_args;

/* The child, on its own small stack in the parent's memory: only system
 * calls and writes into a (no allocation, no locks, no stdio). Signals
 * are blocked from the parent's clone until the exec; every handled
 * signal goes back to its default first, so none can run a handler of the
 * parent's in this shared memory once they are unblocked. */
__attribute__((no_sanitize("address", "undefined"))) static int spawn_child(void *arg) {
    spawn_args *a = arg;
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) != 0) continue;
        /* SIGPIPE is ignored by lumos; the program gets the default. */
        if (sa.sa_handler != SIG_DFL && (sa.sa_handler != SIG_IGN || sig == SIGPIPE)) {
            sa.sa_handler = SIG_DFL;
            sa.sa_flags = 0;
            sigemptyset(&sa.sa_mask);
            sigaction(sig, &sa, NULL);
        }
    }
    if (a->pipes && (dup2(a->in[0], 0) < 0 || dup2(a->out[1], 1) < 0)) {
        a->step = "dup2";
        goto fail;
    }
    if (a->stderr_fd >= 0) {
        dup2(a->stderr_fd, 2);
        if (!a->pipes) dup2(a->stderr_fd, 1);
    }
    /* Extra descriptors go to 3, 4, ...: first out of the way (one of them
     * may already be numbered 3), then into place. */
    int moved[8];
    for (int i = 0; i < a->nextra && i < 8; i++)
        if ((moved[i] = fcntl(a->extra[i], F_DUPFD_CLOEXEC, 64)) < 0) {
            a->step = "dup";
            goto fail;
        }
    for (int i = 0; i < a->nextra && i < 8; i++)
        if (dup2(moved[i], 3 + i) < 0) {
            a->step = "dup2";
            goto fail;
        }
    /* If lumos dies, its children (a private redis-server, instances)
     * must not outlive it. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if ((a->err = join_cgroups(a->join)) != 0) {
        a->step = "joining its cgroup";
        goto fail_errno;
    }
    if (a->join && a->join[0]) a->joined_ns = lm_now_ns();
    if (a->netns) {
        int fd = open(a->netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
            a->err = errno;
            if (fd >= 0) close(fd);
            a->step = "joining its network namespace";
            goto fail_errno;
        }
        close(fd);
    }
    if (a->cwd && chdir(a->cwd) != 0) {
        a->step = "chdir";
        goto fail;
    }
    /* The moment the program proper begins: after the cgroup joins. */
    a->exec_ns = lm_now_ns();
    sigprocmask(SIG_SETMASK, &a->mask, NULL);
    execve(a->path, a->argv, a->envp);
    a->step = "exec";
fail:
    a->err = errno;
fail_errno:
    _exit(127);
}

int lm_spawn_in(char *const argv[], char *const env[], const char *cwd, int pipes, int stderr_fd,
                const char *const *join, lm_child *c, char *err) {
    return lm_spawn_fds(argv, env, cwd, pipes, stderr_fd, join, NULL, 0, c, err);
}

int lm_spawn_fds(char *const argv[], char *const env[], const char *cwd, int pipes, int stderr_fd,
                 const char *const *join, const int *extra, int nextra, lm_child *c, char *err) {
    return lm_spawn_netns(argv, env, cwd, pipes, stderr_fd, join, NULL, extra, nextra, c, err);
}

int lm_spawn_netns(char *const argv[], char *const env[], const char *cwd, int pipes, int stderr_fd,
                   const char *const *join, const char *netns, const int *extra, int nextra,
                   lm_child *c, char *err) {
    spawn_args a = {.argv = argv,
                    .netns = netns,
                    .cwd = cwd,
                    .join = join,
                    .pipes = pipes,
                    .stderr_fd = stderr_fd,
                    .extra = extra,
                    .nextra = nextra > 8 ? 8 : nextra};
    a.in[0] = a.in[1] = a.out[0] = a.out[1] = -1;
    c->pid = -1;
    c->in = c->out = -1;
    c->exec_ns = c->joined_ns = 0;
    char path[4096];
    if (lm_which(argv[0], path, sizeof(path)) != LM_OK)
        return lm_errf(err, "%s not found on PATH: run scripts/setup", argv[0]);
    a.path = path;
    if (!(a.envp = merged_env(env))) return lm_errf(err, "out of memory");
    if (pipes && (pipe2(a.in, O_CLOEXEC) || pipe2(a.out, O_CLOEXEC))) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (a.in[i] >= 0) close(a.in[i]);
            if (a.out[i] >= 0) close(a.out[i]);
        }
        free(a.envp);
        return lm_errf(err, "pipe: %s", strerror(e));
    }
    if (pipes) {
        /* 1 MiB pipes (the default cap of pipe-max-size) move a large object in
         * a few context switches instead of one per 64 KiB; best effort. */
        fcntl(a.in[1], F_SETPIPE_SZ, 1 << 20);
        fcntl(a.out[1], F_SETPIPE_SZ, 1 << 20);
    }
    /* The child's stack: it runs only spawn_child, a few system calls. */
    size_t stack_size = 64 * 1024;
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        free(a.envp);
        if (pipes)
            for (int i = 0; i < 2; i++)
                close(a.in[i]), close(a.out[i]);
        return lm_errf(err, "cannot map a stack to spawn %s: %s", path, strerror(errno));
    }
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &a.mask);
    /* The parent resumes once the child has exec'd or exited. */
    pid_t pid = clone(spawn_child, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &a.mask, NULL);
    munmap(stack, stack_size);
    free(a.envp);
    if (pipes) {
        close(a.in[0]);
        close(a.out[1]);
    }
    if (pid < 0 || a.step) {
        if (pid > 0) waitpid(pid, NULL, 0);
        if (pipes) {
            close(a.in[1]);
            close(a.out[0]);
        }
        if (pid < 0) return lm_errf(err, "cannot start %s: clone: %s", path, strerror(clone_errno));
        if (strcmp(a.step, "exec") == 0)
            return lm_errf(err, "cannot start %s: %s", path, strerror(a.err));
        return lm_errf(err, "cannot start %s: %s: %s", path, a.step, strerror(a.err));
    }
    c->pid = pid;
    c->in = pipes ? a.in[1] : -1;
    c->out = pipes ? a.out[0] : -1;
    c->exec_ns = a.exec_ns;
    c->joined_ns = a.joined_ns;
    return LM_OK;
}

int lm_exec_send(int fd, char *const argv[], char *const env[], char *err) {
    char path[4096];
    if (lm_which(argv[0], path, sizeof(path)) != LM_OK)
        return lm_errf(err, "%s not found on PATH: run scripts/setup", argv[0]);
    char **envp = merged_env(env);
    if (!envp) return lm_errf(err, "out of memory");
    lm_buf b = {0};
    int rc = lm_buf_append(&b, "\0\0\0\0", 4);
    rc |= lm_buf_append(&b, path, strlen(path) + 1);
    for (size_t i = 0; argv[i]; i++)
        rc |= lm_buf_append(&b, argv[i], strlen(argv[i]) + 1);
    rc |= lm_buf_append(&b, "", 1);
    for (size_t i = 0; envp[i]; i++)
        rc |= lm_buf_append(&b, envp[i], strlen(envp[i]) + 1);
    rc |= lm_buf_append(&b, "", 1);
    free(envp);
    if (rc != LM_OK) {
        lm_buf_free(&b);
        return lm_errf(err, "out of memory");
    }
    uint32_t len = (uint32_t)(b.len - 4);
    for (int i = 0; i < 4; i++)
        b.data[i] = (char)(len >> (8 * i));
    size_t done = 0;
    while (done < b.len) {
        ssize_t w = write(fd, b.data + done, b.len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    int e = errno, whole = done == b.len;
    lm_buf_free(&b);
    if (!whole) return lm_errf(err, "cannot hand %s to its launcher: %s", path, strerror(e));
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
