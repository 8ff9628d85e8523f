/*
 * Tests of the context switch (src/sched/ctx.h, ctx_<arch>.S).
 *
 * The tests themselves are in tests/ctx_selftest.c, a plain C program that
 * `make check-aarch64` also cross-builds and runs under qemu; this file
 * runs the same functions as check tests, plus the ones that need check's
 * fork-per-test (a test that must die of a signal).
 */
#include <check.h>
#include <signal.h>

#define LW_CTX_SELFTEST_NO_MAIN
#include "ctx_selftest.c"

#define SELFTEST(name) \
    START_TEST(ctx_##name) \
    { \
        const char *err = test_##name(); \
        ck_assert_msg(err == NULL, "%s", err ? err : ""); \
    } \
    END_TEST

SELFTEST(ping_pong)
SELFTEST(generator)
SELFTEST(round_robin)
SELFTEST(live_values)
SELFTEST(callee_saved)
SELFTEST(rounding_mode)
SELFTEST(deep_recursion)
SELFTEST(end_and_reuse)

/* A context whose function returns has nowhere to go: the entry
 * trampoline traps (ud2 on x86-64, brk on AArch64) instead of running off
 * into whatever lies above the stack. */
#if defined(__x86_64__)
#define RETURN_SIGNAL SIGILL
#else
#define RETURN_SIGNAL SIGTRAP
#endif

static lw_ctx ret_main, ret_co;
static int ret_ran;

static void returns(void *arg)
{
    (void)arg;
    ret_ran = 1;
}

START_TEST(return_traps)
{
    static char stack[16 << 10] __attribute__((aligned(16)));
    lw_ctx_init(&ret_co, stack, sizeof stack, returns, NULL);
    lw_ctx_switch(&ret_main, &ret_co);
    ck_abort_msg("the switch came back after the function returned (ran=%d)", ret_ran);
}
END_TEST

static Suite *ctx_suite(void)
{
    Suite *s = suite_create("ctx");
    TCase *tc = tcase_create("switch");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, ctx_ping_pong);
    tcase_add_test(tc, ctx_generator);
    tcase_add_test(tc, ctx_round_robin);
    tcase_add_test(tc, ctx_live_values);
    tcase_add_test(tc, ctx_callee_saved);
    tcase_add_test(tc, ctx_rounding_mode);
    tcase_add_test(tc, ctx_deep_recursion);
    tcase_add_test(tc, ctx_end_and_reuse);
    tcase_add_test_raise_signal(tc, return_traps, RETURN_SIGNAL);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ctx_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
