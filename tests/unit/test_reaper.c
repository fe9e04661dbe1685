/* test_reaper.c -- instances stopped off the caller's thread: one that ends
 * on stdin EOF is reaped with its own exit status, one that ignores EOF is
 * killed after its grace, handing over returns at once, the callback sees
 * every instance once, and freeing waits for all of them. Also
 * lm_json_quote, which the pool's event records use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <pthread.h>

#include "platform/reaper.h"

typedef struct {
    pthread_mutex_t mu;
    int calls;
    int status[8];
    uint64_t stop_ns[8];
} seen;

static void on_reaped(void *arg, const lm_instance *inst, int status, uint64_t stop_ns) {
    seen *s = arg;
    pthread_mutex_lock(&s->mu);
    int i = inst->function[0] - '0'; /* the test numbers its instances */
    s->status[i] = status;
    s->stop_ns[i] = stop_ns;
    s->calls++;
    pthread_mutex_unlock(&s->mu);
}

/* A fake instance around a real process (no runtime: nothing to clean). */
static void spawn(lm_instance *inst, char *const argv[], int n) {
    char err[LM_ERRLEN];
    memset(inst, 0, sizeof(*inst));
    inst->stderr_capture = -1;
    snprintf(inst->function, sizeof(inst->function), "%d", n);
    snprintf(inst->id, sizeof(inst->id), "test-%d", n);
    assert_int_equal(lm_spawn(argv, NULL, NULL, 1, -1, &inst->child, err), LM_OK);
}

static void test_eof_and_kill(void **state) {
    (void)state;
    char err[LM_ERRLEN];
    seen s = {.calls = 0};
    pthread_mutex_init(&s.mu, NULL);
    lm_reaper *r = lm_reaper_start(err);
    assert_non_null(r);
    char *cat[] = {"cat", NULL};
    char *sleeper[] = {"sh", "-c", "exec sleep 30 </dev/null", NULL};
    char *exits[] = {"sh", "-c", "read x; exit 7", NULL};
    lm_instance a, b, c;
    spawn(&a, cat, 0);
    spawn(&b, sleeper, 1);
    spawn(&c, exits, 2);
    uint64_t t0 = lm_now_ns();
    lm_reaper_stop(r, &a, 5000, on_reaped, &s);
    lm_reaper_stop(r, &b, 200, on_reaped, &s);
    lm_reaper_stop(r, &c, 5000, on_reaped, &s);
    /* Handing over does not wait for any of them. */
    assert_true(lm_now_ns() - t0 < 150000000ull);
    lm_reaper_free(r); /* waits for all three */
    assert_int_equal(s.calls, 3);
    assert_true(WIFEXITED(s.status[0]) && WEXITSTATUS(s.status[0]) == 0);
    assert_true(WIFSIGNALED(s.status[1]) && WTERMSIG(s.status[1]) == SIGKILL);
    assert_true(WIFEXITED(s.status[2]) && WEXITSTATUS(s.status[2]) == 7);
    /* The one that ignored EOF was given its grace first. */
    assert_true(s.stop_ns[1] - t0 >= 200000000ull);
    pthread_mutex_destroy(&s.mu);
}

static void test_already_reaped(void **state) {
    (void)state;
    char err[LM_ERRLEN];
    seen s = {.calls = 0};
    pthread_mutex_init(&s.mu, NULL);
    lm_reaper *r = lm_reaper_start(err);
    char *truecmd[] = {"true", NULL};
    lm_instance a;
    spawn(&a, truecmd, 0);
    int st;
    assert_int_equal(lm_child_wait(&a.child, 5000, &st), LM_OK);
    a.child.pid = -1;
    a.exited = 1;
    a.exit_status = st;
    lm_reaper_stop(r, &a, 1000, on_reaped, &s);
    lm_reaper_free(r);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.status[0], st);
    lm_reaper_free(NULL);
    pthread_mutex_destroy(&s.mu);
}

static void test_json_quote(void **state) {
    (void)state;
    char out[64];
    assert_string_equal(lm_json_quote(out, sizeof(out), "a\"b\\c\n\x01"),
                        "\"a\\\"b\\\\c\\u000a\\u0001\"");
    assert_string_equal(lm_json_quote(out, sizeof(out), NULL), "\"\"");
    /* Cut short at a character boundary, still a closed literal. */
    char small[8];
    assert_string_equal(lm_json_quote(small, sizeof(small), "h\xc3\xa9llo"), "\"h\xc3\xa9ll\"");
    assert_string_equal(lm_json_quote(small, 6, "h\xc3\xa9llo"), "\"h\xc3\xa9\"");
    assert_string_equal(lm_json_quote(small, 5, "h\xc3\xa9llo"), "\"h\"");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eof_and_kill),
        cmocka_unit_test(test_already_reaped),
        cmocka_unit_test(test_json_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
