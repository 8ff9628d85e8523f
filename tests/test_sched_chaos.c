/*
 * A chaos run of the scheduler: 3,000 processes that link, monitor, kill,
 * message, register, set timers and trap at random among their neighbours,
 * on two workers.  It asserts only that everything ends as it should (the
 * root normally), but under `make check-tsan` and `make check-asan` it is
 * the test that finds races and use-after-free in the ends of processes:
 * it found four (a send_after reference read after its timer could fire,
 * a link's "killed by" written outside the lock, timers freed in the wrong
 * order at shutdown, and a module's import cache taken for a new store
 * that a freed one's address had come back as).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "leonardo.h"

static const char chaos_wat[] =
    "(module\n"
    "  (import \"leonardo\" \"self\" (func $self (result i64)))\n"
    "  (import \"leonardo\" \"spawn_export\" (func $spawn (param i32 i32 i32 i32 i32 i64) (result i64)))\n"
    "  (import \"leonardo\" \"send\" (func $send (param i64 i64 i32 i32) (result i32)))\n"
    "  (import \"leonardo\" \"receive\" (func $recv (param i32 i32 i64) (result i32)))\n"
    "  (import \"leonardo\" \"link\" (func $link (param i64) (result i32)))\n"
    "  (import \"leonardo\" \"monitor\" (func $monitor (param i64) (result i64)))\n"
    "  (import \"leonardo\" \"kill\" (func $kill (param i64) (result i32)))\n"
    "  (import \"leonardo\" \"trap_exit\" (func $trap_exit (param i32) (result i32)))\n"
    "  (import \"leonardo\" \"register\" (func $register (param i32 i32) (result i32)))\n"
    "  (import \"leonardo\" \"send_after\" (func $send_after (param i64 i64 i64 i32 i32) (result i64)))\n"
    "  (import \"leonardo\" \"exit\" (func $exit (param i64)))\n"
    "  (memory 1)\n"
    "  (data (i32.const 0) \"worker\")\n"
    "  (global $seed (mut i64) (i64.const 0))\n"
    "  (func $rand (result i64)\n"
    "    (global.set $seed (i64.add (i64.mul (global.get $seed) (i64.const 6364136223846793005)) (i64.const 1442695040888963407)))\n"
    "    (i64.shr_u (global.get $seed) (i64.const 33)))\n"
    "  ;; worker(seed): act randomly on pids near its own\n"
    "  (func (export \"worker\") (param $s i64) (local $i i32) (local $me i64) (local $t i64) (local $r i64)\n"
    "    (global.set $seed (local.get $s))\n"
    "    (local.set $me (call $self))\n"
    "    (drop (call $trap_exit (i32.wrap_i64 (i64.and (call $rand) (i64.const 1)))))\n"
    "    (i64.store8 (i32.const 100) (i64.add (i64.const 65) (i64.and (call $rand) (i64.const 15))))\n"
    "    (drop (call $register (i32.const 100) (i32.const 1)))\n"
    "    (loop $l\n"
    "      (local.set $t (i64.sub (local.get $me) (i64.rem_u (call $rand) (i64.const 50))))\n"
    "      (local.set $r (i64.rem_u (call $rand) (i64.const 8)))\n"
    "      (if (i64.lt_s (local.get $t) (i64.const 2)) (then (local.set $r (i64.const 7))))\n"
    "      (if (i64.eq (local.get $r) (i64.const 0)) (then (drop (call $link (local.get $t)))))\n"
    "      (if (i64.eq (local.get $r) (i64.const 1)) (then (drop (call $monitor (local.get $t)))))\n"
    "      (if (i64.eq (local.get $r) (i64.const 2)) (then (if (i64.eqz (i64.rem_u (call $rand) (i64.const 20))) (then (drop (call $kill (local.get $t)))))))\n"
    "      (if (i64.eq (local.get $r) (i64.const 3)) (then (drop (call $send (local.get $t) (i64.const 5) (i32.const 0) (i32.const 6)))))\n"
    "      (if (i64.eq (local.get $r) (i64.const 4)) (then (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 1)))))\n"
    "      (if (i64.eq (local.get $r) (i64.const 5)) (then (drop (call $send_after (local.get $t) (i64.const 1) (i64.const 6) (i32.const 0) (i32.const 3)))))\n"
    "      (if (i64.eq (local.get $r) (i64.const 6)) (then (if (i64.eqz (i64.rem_u (call $rand) (i64.const 30))) (then unreachable))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (i32.const 200)))))\n"
    "  (func (export \"_start\") (local $i i64)\n"
    "    (drop (call $trap_exit (i32.const 1)))\n"
    "    (loop $l\n"
    "      (i64.store (i32.const 64) (i64.add (local.get $i) (i64.const 12345)))\n"
    "      (drop (call $spawn (i32.const 0) (i32.const 6) (i32.const 64) (i32.const 1) (i32.const 0) (i64.const 0)))\n"
    "      (local.set $i (i64.add (local.get $i) (i64.const 1)))\n"
    "      (br_if $l (i64.lt_u (local.get $i) (i64.const 3000))))\n"
    "    ;; drain for a while\n"
    "    (loop $d (br_if $d (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 200)) (i32.const -1))))\n"
    "    (call $exit (i64.const 0)))\n"
    ")\n";

START_TEST(chaos)
{
    /* Thousands of deaths are reported on stderr: not this test's business. */
    int devnull = open("/dev/null", O_WRONLY);
    ck_assert_int_ge(devnull, 0);
    dup2(devnull, 2);
    lw_error err;
    lw_module *m = lw_module_load_wat(chaos_wat, strlen(chaos_wat), "chaos.wat", &err);
    ck_assert_ptr_nonnull(m);
    for (int round = 0; round < 2; round++) {
        lw_runtime_config cfg = {.threads = 2, .slice = 500};
        lw_runtime *rt = lw_runtime_new(&cfg);
        ck_assert_ptr_nonnull(rt);
        uint64_t pid = lw_runtime_spawn(rt, m, "_start", NULL, 0, &err);
        ck_assert_uint_ne(pid, 0);
        lw_proc_result r;
        lw_runtime_wait(rt, pid, &r);
        ck_assert_int_eq(r.reason, 0);
        lw_runtime_free(rt);
    }
    lw_module_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sched_chaos");
    TCase *t = tcase_create("chaos");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, chaos);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
