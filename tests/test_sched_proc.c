/*
 * Processes under the scheduler, end to end: guest programs in WAT use the
 * "leonardo" import module (include/leonardo/process.h) and end the test's
 * root process with exit(7) when everything they checked held, or with
 * another value that says what went wrong.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leonardo.h"
#include "leonardo/process.h"

/* Every import of the API, the memory, and $go: spawn export (name at n, length l) with one argument. */
#define PRELUDE \
    "(import \"leonardo\" \"self\" (func $self (result i64)))\n" \
    "(import \"leonardo\" \"spawn_export\" (func $spawn (param i32 i32 i32 i32 i32 i64) (result i64)))\n" \
    "(import \"leonardo\" \"send\" (func $send (param i64 i64 i32 i32) (result i32)))\n" \
    "(import \"leonardo\" \"receive\" (func $recv (param i32 i32 i64) (result i32)))\n" \
    "(import \"leonardo\" \"msg_tag\" (func $tag (result i64)))\n" \
    "(import \"leonardo\" \"msg_sender\" (func $sender (result i64)))\n" \
    "(import \"leonardo\" \"msg_read\" (func $mread (param i32 i32) (result i32)))\n" \
    "(import \"leonardo\" \"link\" (func $link (param i64) (result i32)))\n" \
    "(import \"leonardo\" \"unlink\" (func $unlink (param i64) (result i32)))\n" \
    "(import \"leonardo\" \"monitor\" (func $monitor (param i64) (result i64)))\n" \
    "(import \"leonardo\" \"demonitor\" (func $demonitor (param i64) (result i32)))\n" \
    "(import \"leonardo\" \"kill\" (func $kill (param i64) (result i32)))\n" \
    "(import \"leonardo\" \"exit\" (func $exit (param i64)))\n" \
    "(import \"leonardo\" \"trap_exit\" (func $trap_exit (param i32) (result i32)))\n" \
    "(import \"leonardo\" \"register\" (func $register (param i32 i32) (result i32)))\n" \
    "(import \"leonardo\" \"whereis\" (func $whereis (param i32 i32) (result i64)))\n" \
    "(import \"leonardo\" \"sleep\" (func $sleep (param i64)))\n" \
    "(import \"leonardo\" \"yield\" (func $yield))\n" \
    "(import \"leonardo\" \"send_after\" (func $send_after (param i64 i64 i64 i32 i32) (result i64)))\n" \
    "(import \"leonardo\" \"cancel_timer\" (func $cancel (param i64) (result i32)))\n" \
    "(import \"leonardo\" \"config_new\" (func $config_new (result i64)))\n" \
    "(import \"leonardo\" \"config_set_max_memory\" (func $cfg_mem (param i64 i64) (result i32)))\n" \
    "(import \"leonardo\" \"config_set_max_fuel\" (func $cfg_fuel (param i64 i64) (result i32)))\n" \
    "(import \"leonardo\" \"config_set_caps\" (func $cfg_caps (param i64 i32) (result i32)))\n" \
    "(import \"leonardo\" \"module_compile\" (func $compile (param i32 i32) (result i64)))\n" \
    "(import \"test\" \"rss_kib\" (func $rss (result i64)))\n" \
    "(import \"leonardo\" \"spawn_module\" (func $spawn_mod (param i64 i32 i32 i32 i32 i32 i64) (result i64)))\n" \
    "(memory (export \"memory\") 1)\n" \
    "(func $go (param $n i32) (param $l i32) (param $arg i64) (param $flags i32) (param $cfg i64) (result i64)\n" \
    "  (i64.store (i32.const 1024) (local.get $arg))\n" \
    "  (call $spawn (local.get $n) (local.get $l) (i32.const 1024) (i32.const 1) (local.get $flags) (local.get $cfg)))\n" \
    /* $reason: the lw_notice.reason of the message just received */ \
    "(func $reason (result i64) (drop (call $mread (i32.const 2048) (i32.const 16))) (i64.load (i32.const 2048)))\n"

/* test.rss_kib: the runtime's resident set, in KiB (/proc/self/statm). */
static lw_status rss_kib(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex;
    (void)env;
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    slots[0] = resident * (uint64_t)(sysconf(_SC_PAGESIZE) / 1024);
    return LW_OK;
}

/* Run export "main" of the module as the root process, with argument `arg`; return its end reason. */
static int64_t run_main_arg(const char *body, uint32_t threads, int64_t arg_value, lw_proc_result *out)
{
    size_t n = strlen(PRELUDE) + strlen(body) + 32;
    char *text = malloc(n);
    snprintf(text, n, "(module\n%s%s)", PRELUDE, body);
    lw_error err;
    lw_module *m = lw_module_load_wat(text, strlen(text), "test.wat", &err);
    if (!m)
        fprintf(stderr, "%s\n", err.msg);
    ck_assert_ptr_nonnull(m);
    lw_runtime_config cfg = {.threads = threads, .slice = 2000};
    lw_runtime *rt = lw_runtime_new(&cfg);
    ck_assert_ptr_nonnull(rt);
    lw_valtype i64 = LW_I64;
    lw_func *rss = lw_func_new_host(lw_runtime_store(rt), NULL, 0, &i64, 1, rss_kib, NULL, "rss_kib");
    lw_store_define(lw_runtime_store(rt), "test", "rss_kib", (lw_extern){.kind = LW_EXTERN_FUNC, .of.func = rss});
    lw_value arg = {.type = LW_I64, .of.i64 = (uint64_t)arg_value};
    uint64_t pid = lw_runtime_spawn(rt, m, "main", &arg, 1, &err);
    if (!pid)
        fprintf(stderr, "%s\n", err.msg);
    ck_assert_uint_ne(pid, 0);
    lw_proc_result r;
    lw_runtime_wait(rt, pid, &r);
    if (r.reason != 7)
        fprintf(stderr, "main ended: %lld %s\n%s", (long long)r.reason, r.text, r.backtrace);
    if (out)
        *out = r;
    lw_runtime_free(rt);
    lw_module_free(m);
    free(text);
    return r.reason;
}

static int64_t run_main(const char *body, uint32_t threads, lw_proc_result *out)
{
    return run_main_arg(body, threads, 0, out);
}

/* Sanitizers keep shadow memory for every page touched, and their allocators
   keep freed blocks: there the RSS is not the runtime's own. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RSS_IS_OURS 0
#else
#define RSS_IS_OURS 1
#endif

/* 100 children that return at once; a monitor's DOWN for each, reason normal. */
START_TEST(spawn_and_exit)
{
    const char *body =
        "(data (i32.const 0) \"child\")\n"
        "(func (export \"child\") (param i64))\n"
        "(func (export \"main\") (param i64) (local $i i32) (local $ok i64)\n"
        "  (loop $s (drop (call $go (i32.const 0) (i32.const 5) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "    (br_if $s (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 100))))\n"
        "  (local.set $i (i32.const 0))\n"
        "  (loop $r\n"
        "    (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const -1)) (i32.const 2)) (then (call $exit (i64.const 1))))\n"
        "    (if (i64.ne (call $reason) (i64.const 0)) (then (call $exit (i64.const 2))))\n"
        "    (br_if $r (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 100))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
}
END_TEST

/* A child sends 1000 messages tagged 0..999; they arrive in that order. */
START_TEST(message_order)
{
    const char *body =
        "(data (i32.const 0) \"child\")\n"
        "(func (export \"child\") (param $to i64) (local $i i64)\n"
        "  (loop $s (drop (call $send (local.get $to) (local.get $i) (i32.const 0) (i32.const 0)))\n"
        "    (br_if $s (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 1000)))))\n"
        "(func (export \"main\") (param i64) (local $i i64)\n"
        "  (drop (call $go (i32.const 0) (i32.const 5) (call $self) (i32.const 0) (i64.const 0)))\n"
        "  (loop $r (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1)))\n"
        "    (if (i64.ne (call $tag) (local.get $i)) (then (call $exit (i64.add (i64.const 1000) (local.get $i)))))\n"
        "    (br_if $r (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 1000))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/* Tags 1, 2, 3 sent; receiving 3, then 2, then 1 by tag finds each, older ones left waiting. */
START_TEST(selective_receive)
{
    const char *body =
        "(data (i32.const 0) \"child\")\n"
        "(func (export \"child\") (param $to i64)\n"
        "  (drop (call $send (local.get $to) (i64.const 1) (i32.const 0) (i32.const 0)))\n"
        "  (drop (call $send (local.get $to) (i64.const 2) (i32.const 0) (i32.const 0)))\n"
        "  (drop (call $send (local.get $to) (i64.const 3) (i32.const 0) (i32.const 0))))\n"
        "(func $want (param $t i64) (result i64)\n"
        "  (i64.store (i32.const 512) (local.get $t))\n"
        "  (drop (call $recv (i32.const 512) (i32.const 1) (i64.const -1))) (call $tag))\n"
        "(func (export \"main\") (param i64)\n"
        "  (drop (call $go (i32.const 0) (i32.const 5) (call $self) (i32.const 0) (i64.const 0)))\n"
        "  (if (i64.ne (call $want (i64.const 3)) (i64.const 3)) (then (call $exit (i64.const 3))))\n"
        "  (if (i64.ne (call $want (i64.const 2)) (i64.const 2)) (then (call $exit (i64.const 2))))\n"
        "  (if (i64.ne (call $want (i64.const 1)) (i64.const 1)) (then (call $exit (i64.const 1))))\n"
        /* nothing else is there: a poll (timeout 0) says so */
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 0)) (i32.const -1)) (then (call $exit (i64.const 4))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/* A receive with nothing to come times out; one with a tag nobody sends does too, while other messages wait. */
START_TEST(receive_timeout)
{
    const char *body =
        "(func (export \"main\") (param i64)\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 30)) (i32.const -1)) (then (call $exit (i64.const 1))))\n"
        "  (drop (call $send (call $self) (i64.const 5) (i32.const 0) (i32.const 0)))\n"
        "  (i64.store (i32.const 512) (i64.const 6))\n"
        "  (if (i32.ne (call $recv (i32.const 512) (i32.const 1) (i64.const 20)) (i32.const -1)) (then (call $exit (i64.const 2))))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 20)) (i32.const 0)) (then (call $exit (i64.const 3))))\n"
        "  (if (i64.ne (call $tag) (i64.const 5)) (then (call $exit (i64.const 4))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/* main (trapping exits) -> mid -> leaf, linked; leaf traps: mid dies of the link, main gets EXIT from mid. */
START_TEST(link_cascade_and_trap_exit)
{
    const char *body =
        "(data (i32.const 0) \"mid\") (data (i32.const 8) \"leaf\")\n"
        "(func (export \"leaf\") (param i64) (call $sleep (i64.const 5)) unreachable)\n"
        "(func (export \"mid\") (param i64)\n"
        "  (drop (call $go (i32.const 8) (i32.const 4) (i64.const 0) (i32.const 1) (i64.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1))))\n"
        "(func (export \"main\") (param i64) (local $mid i64)\n"
        "  (drop (call $trap_exit (i32.const 1)))\n"
        "  (local.set $mid (call $go (i32.const 0) (i32.const 3) (i64.const 0) (i32.const 1) (i64.const 0)))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 1)) (then (call $exit (i64.const 1))))\n"
        "  (if (i64.ne (call $sender) (local.get $mid)) (then (call $exit (i64.const 2))))\n"
        "  (if (i64.ne (call $tag) (i64.const -1)) (then (call $exit (i64.const 3))))\n"
        "  (if (i64.ne (call $reason) (i64.const -3)) (then (call $exit (i64.const 4))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/* A linked child that ends normally kills nobody; one that exits abnormally kills a non-trapping parent. */
START_TEST(link_normal_and_abnormal)
{
    const char *normal =
        "(data (i32.const 0) \"child\")\n"
        "(func (export \"child\") (param i64))\n"
        "(func (export \"main\") (param i64)\n"
        "  (drop (call $go (i32.const 0) (i32.const 5) (i64.const 0) (i32.const 1) (i64.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 50)))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(normal, 2, NULL), 7);
    const char *abnormal =
        "(data (i32.const 0) \"child\")\n"
        "(func (export \"child\") (param i64) (call $exit (i64.const 3)))\n"
        "(func (export \"main\") (param i64)\n"
        "  (drop (call $go (i32.const 0) (i32.const 5) (i64.const 0) (i32.const 1) (i64.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (call $exit (i64.const 7)))\n";
    lw_proc_result r;
    ck_assert_int_eq(run_main(abnormal, 2, &r), LW_REASON_LINK);
    ck_assert_ptr_nonnull(strstr(r.text, "ended abnormally"));
}
END_TEST

/*
 * A process links to itself, unlinks itself, and monitors itself: no
 * effect, no error (Erlang's link(self()) is a no-op too).  Unlinking
 * itself used to take its own lock twice and hang its worker (found by
 * tests/test_host_fuzz.c).  Then a normal end: reason 7.
 */
START_TEST(links_to_self)
{
    const char *body =
        "(func (export \"main\") (param i64) (local $me i64) (local $ref i64)\n"
        "  (local.set $me (call $self))\n"
        "  (if (i32.ne (call $link (local.get $me)) (i32.const 0)) (then (call $exit (i64.const 1))))\n"
        "  (if (i32.ne (call $unlink (local.get $me)) (i32.const 0)) (then (call $exit (i64.const 2))))\n"
        "  (if (i32.ne (call $unlink (local.get $me)) (i32.const 0)) (then (call $exit (i64.const 3))))\n"
        "  (local.set $ref (call $monitor (local.get $me)))\n"
        "  (if (i32.ne (call $demonitor (local.get $ref)) (i32.const 0)) (then (call $exit (i64.const 4))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
}
END_TEST

/*
 * Many links on one process: main (trapping exits) links to 3,000 waiters,
 * links to each again (no second link), unlinks every other one, and
 * kills them all: exactly the 1,500 still linked send EXIT, once each.
 */
START_TEST(many_links)
{
    const char *body =
        "(data (i32.const 0) \"waiter\")\n"
        "(func (export \"waiter\") (param i64) (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1))))\n"
        /* pids at 8192, EXITs seen at 40960 */
        "(func (export \"main\") (param i64) (local $i i32) (local $j i32) (local $from i64)\n"
        "  (drop (call $trap_exit (i32.const 1)))\n"
        "  (loop $s\n"
        "    (i64.store (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3)))\n"
        "      (call $go (i32.const 0) (i32.const 6) (i64.const 0) (i32.const 1) (i64.const 0)))\n"
        "    (if (i32.ne (call $link (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3))))) (i32.const 0))\n"
        "      (then (call $exit (i64.const 1))))\n"
        "    (br_if $s (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 3000))))\n"
        "  (local.set $i (i32.const 1))\n"
        "  (loop $u\n"
        "    (drop (call $unlink (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3))))))\n"
        "    (br_if $u (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 2))) (i32.const 3000))))\n"
        "  (local.set $i (i32.const 0))\n"
        "  (loop $k\n"
        "    (drop (call $kill (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3))))))\n"
        "    (br_if $k (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 3000))))\n"
        "  (local.set $i (i32.const 0))\n"
        "  (loop $r\n"
        "    (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 1)) (then (call $exit (i64.const 2))))\n"
        "    (local.set $from (call $sender))\n"
        "    (local.set $j (i32.const 0))\n"
        "    (block $f (loop $l\n"
        "      (br_if $f (i64.eq (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $j) (i32.const 3)))) (local.get $from)))\n"
        "      (br_if $l (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 3000)))))\n"
        "    (if (i32.eq (local.get $j) (i32.const 3000)) (then (call $exit (i64.const 3))))\n"
        "    (if (i32.and (local.get $j) (i32.const 1)) (then (call $exit (i64.const 4))))\n"   /* an unlinked one */
        "    (if (i32.load8_u (i32.add (i32.const 40960) (local.get $j))) (then (call $exit (i64.const 5))))\n"
        "    (i32.store8 (i32.add (i32.const 40960) (local.get $j)) (i32.const 1))\n"
        "    (br_if $r (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 1500))))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 200)) (i32.const -1)) (then (call $exit (i64.const 6))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
}
END_TEST

/* A monitored child that traps: DOWN with LW_REASON_TRAP and the trap's words. */
START_TEST(monitor_trap)
{
    const char *body =
        "(data (i32.const 0) \"child\")\n"
        "(func (export \"child\") (param i64) (drop (i32.div_u (i32.const 1) (i32.wrap_i64 (local.get 0)))))\n"
        "(func (export \"main\") (param i64) (local $c i64)\n"
        "  (local.set $c (call $go (i32.const 0) (i32.const 5) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "  (i64.store (i32.const 512) (i64.const -2))\n"
        "  (if (i32.ne (call $recv (i32.const 512) (i32.const 1) (i64.const 5000)) (i32.const 2)) (then (call $exit (i64.const 1))))\n"
        "  (if (i64.ne (call $sender) (local.get $c)) (then (call $exit (i64.const 2))))\n"
        "  (if (i64.ne (call $reason) (i64.const -1)) (then (call $exit (i64.const 3))))\n"
        /* the text after the 16-byte notice: "trap: integer divide by zero"; byte 6 is 'i' */
        "  (drop (call $mread (i32.const 2048) (i32.const 64)))\n"
        "  (if (i32.ne (i32.load8_u (i32.const 2070)) (i32.const 105)) (then (call $exit (i64.const 5))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/*
 * Monitors between processes that are still alive when the runtime is
 * freed go with them: "waiter" monitors "sleeper", both wait forever, and
 * main ends.  Under ASan (make check-asan) a monitor left behind is a leak
 * report, which fails the test; tests/test_host_fuzz.c found one.
 */
START_TEST(monitors_of_the_living_at_shutdown)
{
    const char *body =
        "(data (i32.const 0) \"sleeper\")\n"
        "(data (i32.const 16) \"waiter\")\n"
        "(func (export \"sleeper\") (param i64) (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1))))\n"
        "(func (export \"waiter\") (param $main i64) (param $sleeper i64)\n"
        "  (drop (call $monitor (local.get $sleeper)))\n"
        "  (drop (call $send (local.get $main) (i64.const 1) (i32.const 0) (i32.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1))))\n"
        "(func (export \"main\") (param i64) (local $s i64)\n"
        "  (local.set $s (call $go (i32.const 0) (i32.const 7) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
        "  (i64.store (i32.const 1032) (local.get $s))\n"
        "  (i64.store (i32.const 1024) (call $self))\n"
        "  (drop (call $spawn (i32.const 16) (i32.const 6) (i32.const 1024) (i32.const 2) (i32.const 0) (i64.const 0)))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 0)) (then (call $exit (i64.const 1))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/*
 * A spawn that fails after the child's instance was built in its slot (its
 * initial memory is over the configuration's maximum) leaves that slot
 * clean for the next process: "run" of a small module, spawned next, gets
 * the same slot, and its lw_exec lies where the failed child's instance
 * was.  It used to find that instance's pointers there (only the Proc was
 * cleaned, as no lw_exec said how far the slot had been written), and its
 * end freed them (tests/test_host_fuzz.c found it: "double free").
 */
START_TEST(failed_spawn_leaves_its_slot_clean)
{
    const char *body =
        "(data (i32.const 0) \"child\")\n"
        "(data (i32.const 8) \"run\")\n"
        "(data (i32.const 16) \"\\00asm\\01\\00\\00\\00\\01\\04\\01\\60\\00\\00\\03\\02\\01\\00\\07\\07\\01\\03run\\00\\00\\0a\\04\\01\\02\\00\\0b\")\n"
        "(func (export \"child\") (param i64))\n"
        "(func (export \"main\") (param i64) (local $cfg i64) (local $m i64) (local $i i32)\n"
        "  (local.set $cfg (call $config_new))\n"
        "  (drop (call $cfg_mem (local.get $cfg) (i64.const 1)))\n"
        "  (local.set $m (call $compile (i32.const 16) (i32.const 33)))\n"
        "  (if (i64.eqz (local.get $m)) (then (call $exit (i64.const 1))))\n"
        "  (loop $l\n"
        "    (if (i64.ne (call $go (i32.const 0) (i32.const 5) (i64.const 0) (i32.const 0) (local.get $cfg)) (i64.const 0))\n"
        "      (then (call $exit (i64.const 2))))\n"
        "    (if (i64.eqz (call $spawn_mod (local.get $m) (i32.const 8) (i32.const 3) (i32.const 1024) (i32.const 0)\n"
        "                                  (i32.const 2) (i64.const 0))) (then (call $exit (i64.const 3))))\n"
        "    (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 2)) (then (call $exit (i64.const 4))))\n"
        "    (if (i64.ne (call $reason) (i64.const 0)) (then (call $exit (i64.const 5))))\n"
        "    (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/*
 * demonitor: 0 stops the monitor (no DOWN when the target then dies), 1
 * for a reference that is unknown or over (its DOWN already delivered).
 */
START_TEST(demonitor)
{
    const char *body =
        "(data (i32.const 0) \"waiter\")\n"
        "(func (export \"waiter\") (param i64) (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1))))\n"
        "(func (export \"main\") (param i64) (local $c i64) (local $ref i64)\n"
        /* monitor, demonitor, kill: nothing arrives */
        "  (local.set $c (call $go (i32.const 0) (i32.const 6) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
        "  (local.set $ref (call $monitor (local.get $c)))\n"
        "  (if (i32.ne (call $demonitor (local.get $ref)) (i32.const 0)) (then (call $exit (i64.const 1))))\n"
        "  (if (i32.ne (call $demonitor (local.get $ref)) (i32.const 1)) (then (call $exit (i64.const 2))))\n"
        "  (drop (call $kill (local.get $c)))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 200)) (i32.const -1)) (then (call $exit (i64.const 3))))\n"
        /* monitor, kill, DOWN with the reference: then the reference is over */
        "  (local.set $c (call $go (i32.const 0) (i32.const 6) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
        "  (local.set $ref (call $monitor (local.get $c)))\n"
        "  (drop (call $kill (local.get $c)))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 2)) (then (call $exit (i64.const 4))))\n"
        "  (drop (call $mread (i32.const 2048) (i32.const 16)))\n"
        "  (if (i64.ne (i64.load (i32.const 2056)) (local.get $ref)) (then (call $exit (i64.const 5))))\n"
        "  (if (i32.ne (call $demonitor (local.get $ref)) (i32.const 1)) (then (call $exit (i64.const 6))))\n"
        /* a reference never made */
        "  (if (i32.ne (call $demonitor (i64.const 123456789)) (i32.const 1)) (then (call $exit (i64.const 8))))\n"
        /* two monitors on one process, one taken back: exactly one DOWN */
        "  (local.set $c (call $go (i32.const 0) (i32.const 6) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
        "  (local.set $ref (call $monitor (local.get $c)))\n"
        "  (if (i32.ne (call $demonitor (call $monitor (local.get $c))) (i32.const 0)) (then (call $exit (i64.const 9))))\n"
        "  (drop (call $kill (local.get $c)))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 2)) (then (call $exit (i64.const 10))))\n"
        "  (drop (call $mread (i32.const 2048) (i32.const 16)))\n"
        "  (if (i64.ne (i64.load (i32.const 2056)) (local.get $ref)) (then (call $exit (i64.const 11))))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 200)) (i32.const -1)) (then (call $exit (i64.const 12))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
}
END_TEST

/*
 * A monitor that is over leaves nothing behind on either side: a
 * long-lived process that monitors 200,000 short-lived ones in turn (DOWN
 * for each), and one monitored by 200,000 short-lived ones, keep their
 * memory flat.  (A record left behind per monitor would be 48 bytes or
 * more: about 9 MiB.)
 */
START_TEST(monitors_do_not_pile_up)
{
    const char *body =
        "(data (i32.const 0) \"child\")\n"
        "(data (i32.const 8) \"watcher\")\n"
        "(func (export \"child\") (param i64))\n"
        /* a watcher monitors its parent (the argument), then ends */
        "(func (export \"watcher\") (param i64) (drop (call $monitor (local.get 0))))\n"
        /* $round(name, len, arg): spawn n processes monitored, one at a time, each to its DOWN */
        "(func $round (param $n i32) (param $l i32) (param $arg i64) (local $i i32)\n"
        "  (loop $s\n"
        "    (drop (call $go (local.get $n) (local.get $l) (local.get $arg) (i32.const 2) (i64.const 0)))\n"
        "    (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 2)) (then (call $exit (i64.const 1))))\n"
        "    (br_if $s (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 200000)))))\n"
        "(func (export \"main\") (param $check i64) (local $r0 i64) (local $r1 i64) (local $r2 i64)\n"
        "  (call $round (i32.const 0) (i32.const 5) (i64.const 0))\n"   /* warm up: the pools, the heap */
        "  (local.set $r0 (call $rss))\n"
        "  (call $round (i32.const 0) (i32.const 5) (i64.const 0))\n"
        "  (local.set $r1 (call $rss))\n"
        "  (call $round (i32.const 8) (i32.const 7) (call $self))\n"
        "  (local.set $r2 (call $rss))\n"
        "  (if (i64.eqz (local.get $check)) (then (call $exit (i64.const 7))))\n"
        "  (if (i64.gt_s (i64.sub (local.get $r1) (local.get $r0)) (i64.const 2048)) (then (call $exit (i64.const 2))))\n"
        "  (if (i64.gt_s (i64.sub (local.get $r2) (local.get $r1)) (i64.const 2048)) (then (call $exit (i64.const 3))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main_arg(body, 2, RSS_IS_OURS, NULL), 7);
}
END_TEST

/*
 * demonitor racing the targets' deaths, on two workers: 2,000 monitored
 * processes are killed by another process while main takes the monitors
 * back one by one.  For each, exactly one of the two must hold: demonitor
 * answered 0 and no DOWN came, or it answered 1 (over) and its DOWN came.
 */
START_TEST(demonitor_races_death)
{
    const char *body =
        "(data (i32.const 0) \"waiter\")\n"
        "(data (i32.const 16) \"killer\")\n"
        "(func (export \"waiter\") (param i64) (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1))))\n"
        "(func (export \"killer\") (param i64) (local $i i32)\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1)))\n"
        "  (drop (call $mread (i32.const 8192) (i32.const 16000)))\n"
        "  (loop $k\n"
        "    (drop (call $kill (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3))))))\n"
        "    (br_if $k (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 2000)))))\n"
        /* pids at 8192, refs at 24576, demonitor's answers at 40960, DOWNs seen at 43008 */
        "(func (export \"main\") (param i64) (local $i i32) (local $j i32) (local $k i64) (local $ref i64) (local $over i32)\n"
        "  (loop $s\n"
        "    (i64.store (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3)))\n"
        "      (call $go (i32.const 0) (i32.const 6) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
        "    (i64.store (i32.add (i32.const 24576) (i32.shl (local.get $i) (i32.const 3)))\n"
        "      (call $monitor (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3))))))\n"
        "    (br_if $s (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 2000))))\n"
        "  (local.set $k (call $go (i32.const 16) (i32.const 6) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
        "  (drop (call $send (local.get $k) (i64.const 5) (i32.const 8192) (i32.const 16000)))\n"
        /* from the last, while the killer goes from the first: they meet */
        "  (local.set $i (i32.const 2000))\n"
        "  (loop $d\n"
        "    (local.set $i (i32.sub (local.get $i) (i32.const 1)))\n"
        "    (i32.store8 (i32.add (i32.const 40960) (local.get $i))\n"
        "      (call $demonitor (i64.load (i32.add (i32.const 24576) (i32.shl (local.get $i) (i32.const 3))))))\n"
        "    (br_if $d (local.get $i)))\n"
        /* A monitor that was over (1) had its DOWN delivered before: they
           are all in the mailbox already, so they are taken without waiting,
           and then nothing more may come. */
        "  (local.set $i (i32.const 0))\n"
        "  (loop $n\n"
        "    (local.set $over (i32.add (local.get $over) (i32.load8_u (i32.add (i32.const 40960) (local.get $i)))))\n"
        "    (br_if $n (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 2000))))\n"
        "  (block $done (loop $c\n"
        "    (br_if $done (i32.eqz (local.get $over)))\n"
        "    (local.set $over (i32.sub (local.get $over) (i32.const 1)))\n"
        "    (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 0)) (i32.const 2)) (then (call $exit (i64.const 4))))\n"
        "    (drop (call $mread (i32.const 2048) (i32.const 16)))\n"
        "    (local.set $ref (i64.load (i32.const 2056)))\n"
        "    (local.set $j (i32.const 0))\n"
        "    (block $f (loop $l\n"
        "      (br_if $f (i64.eq (i64.load (i32.add (i32.const 24576) (i32.shl (local.get $j) (i32.const 3)))) (local.get $ref)))\n"
        "      (br_if $l (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (i32.const 2000)))))\n"
        "    (if (i32.eq (local.get $j) (i32.const 2000)) (then (call $exit (i64.const 1))))\n"   /* a DOWN for no monitor of ours */
        "    (if (i32.load8_u (i32.add (i32.const 43008) (local.get $j))) (then (call $exit (i64.const 2))))\n"   /* a second DOWN */
        "    (i32.store8 (i32.add (i32.const 43008) (local.get $j)) (i32.const 1))\n"
        "    (br $c)))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 300)) (i32.const -1)) (then (call $exit (i64.const 5))))\n"
        "  (local.set $i (i32.const 0))\n"
        "  (loop $v\n"
        "    (if (i32.ne (i32.load8_u (i32.add (i32.const 40960) (local.get $i))) (i32.load8_u (i32.add (i32.const 43008) (local.get $i))))\n"
        "      (then (call $exit (i64.const 3))))\n"
        "    (br_if $v (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 2000))))\n"
        "  (call $exit (i64.const 7)))\n";
    for (int round = 0; round < 5; round++)
        ck_assert_int_eq(run_main(body, 2, NULL), 7);
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
}
END_TEST

/* kill() ends a process that never stops on its own: DOWN, reason killed. */
START_TEST(kill_spinner)
{
    const char *body =
        "(data (i32.const 0) \"spin\")\n"
        "(func (export \"spin\") (param i64) (loop $l (br $l)))\n"
        "(func (export \"main\") (param i64) (local $c i64)\n"
        "  (local.set $c (call $go (i32.const 0) (i32.const 4) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "  (call $sleep (i64.const 10))\n"
        "  (if (i32.ne (call $kill (local.get $c)) (i32.const 0)) (then (call $exit (i64.const 1))))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 2)) (then (call $exit (i64.const 2))))\n"
        "  (if (i64.ne (call $reason) (i64.const -2)) (then (call $exit (i64.const 3))))\n"
        "  (if (i32.ne (call $kill (local.get $c)) (i32.const 1)) (then (call $exit (i64.const 4))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
}
END_TEST

/* A registered name finds its process, is taken while it lives, and goes when it dies. */
START_TEST(registry)
{
    const char *body =
        "(data (i32.const 0) \"svc\") (data (i32.const 8) \"child\")\n"
        "(func (export \"child\") (param i64)\n"
        "  (if (i32.ne (call $register (i32.const 0) (i32.const 3)) (i32.const 0)) (then unreachable))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1))))\n"
        "(func (export \"main\") (param i64) (local $c i64)\n"
        "  (local.set $c (call $go (i32.const 8) (i32.const 5) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "  (block $b (loop $w (br_if $b (i64.ne (call $whereis (i32.const 0) (i32.const 3)) (i64.const 0)))\n"
        "    (call $sleep (i64.const 1)) (br $w)))\n"
        "  (if (i64.ne (call $whereis (i32.const 0) (i32.const 3)) (local.get $c)) (then (call $exit (i64.const 1))))\n"
        "  (if (i32.ne (call $register (i32.const 0) (i32.const 3)) (i32.const 1)) (then (call $exit (i64.const 2))))\n"
        "  (drop (call $send (local.get $c) (i64.const 9) (i32.const 0) (i32.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $whereis (i32.const 0) (i32.const 3)) (i64.const 0)) (then (call $exit (i64.const 3))))\n"
        "  (if (i32.ne (call $register (i32.const 0) (i32.const 3)) (i32.const 0)) (then (call $exit (i64.const 4))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/*
 * Many names, each of 8 raw bytes (the child's index, NUL bytes and all):
 * 5,000 waiters register themselves; whereis finds each one's pid; once
 * they are killed (a DOWN for each) every name is gone, and free again.
 */
START_TEST(many_names)
{
    const char *body =
        "(data (i32.const 0) \"named\")\n"
        "(func (export \"named\") (param i64)\n"
        "  (i64.store (i32.const 256) (local.get 0))\n"
        "  (if (i32.ne (call $register (i32.const 256) (i32.const 8)) (i32.const 0)) (then unreachable))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1))))\n"
        /* $find(i): whereis of the 8 bytes of i */
        "(func $find (param $i i32) (result i64)\n"
        "  (i64.store (i32.const 256) (i64.extend_i32_u (local.get $i)))\n"
        "  (call $whereis (i32.const 256) (i32.const 8)))\n"
        "(func (export \"main\") (param i64) (local $i i32)\n"
        "  (loop $s\n"
        "    (i64.store (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3)))\n"
        "      (call $go (i32.const 0) (i32.const 5) (i64.extend_i32_u (local.get $i)) (i32.const 2) (i64.const 0)))\n"
        "    (br_if $s (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 5000))))\n"
        "  (local.set $i (i32.const 0))\n"
        "  (loop $w\n"
        "    (block $b (loop $poll (br_if $b (i64.ne (call $find (local.get $i)) (i64.const 0)))\n"
        "      (call $sleep (i64.const 1)) (br $poll)))\n"
        "    (if (i64.ne (call $find (local.get $i)) (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3)))))\n"
        "      (then (call $exit (i64.const 1))))\n"
        "    (br_if $w (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 5000))))\n"
        "  (local.set $i (i32.const 0))\n"
        "  (loop $k\n"
        "    (drop (call $kill (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3))))))\n"
        "    (br_if $k (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 5000))))\n"
        "  (local.set $i (i32.const 0))\n"
        "  (loop $d\n"
        "    (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 2)) (then (call $exit (i64.const 2))))\n"
        "    (br_if $d (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 5000))))\n"
        "  (local.set $i (i32.const 0))\n"
        "  (loop $g\n"
        "    (if (i64.ne (call $find (local.get $i)) (i64.const 0)) (then (call $exit (i64.const 3))))\n"
        "    (br_if $g (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 5000))))\n"
        /* a dead one's name can be taken again */
        "  (i64.store (i32.const 256) (i64.const 0))\n"
        "  (if (i32.ne (call $register (i32.const 256) (i32.const 8)) (i32.const 0)) (then (call $exit (i64.const 4))))\n"
        "  (if (i64.ne (call $whereis (i32.const 256) (i32.const 8)) (call $self)) (then (call $exit (i64.const 5))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/* send_after delivers later; a cancelled one never comes; cancelling a fired one says so. */
START_TEST(send_after_and_cancel)
{
    const char *body =
        "(func (export \"main\") (param i64) (local $a i64) (local $b i64)\n"
        "  (local.set $a (call $send_after (call $self) (i64.const 10) (i64.const 5) (i32.const 0) (i32.const 0)))\n"
        "  (local.set $b (call $send_after (call $self) (i64.const 10) (i64.const 6) (i32.const 0) (i32.const 0)))\n"
        "  (if (i32.ne (call $cancel (local.get $b)) (i32.const 1)) (then (call $exit (i64.const 1))))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 0)) (i32.const -1)) (then (call $exit (i64.const 2))))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 0)) (then (call $exit (i64.const 3))))\n"
        "  (if (i64.ne (call $tag) (i64.const 5)) (then (call $exit (i64.const 4))))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 50)) (i32.const -1)) (then (call $exit (i64.const 5))))\n"
        "  (if (i32.ne (call $cancel (local.get $a)) (i32.const 0)) (then (call $exit (i64.const 6))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/*
 * Many timers at once: 20,000 send_after messages to itself, tag i due
 * i / 100 ms after 50 ms (so deadlines grow with i, a hundred a
 * millisecond), every third one cancelled (1) as soon as it is set, and
 * cancelled again (0: unknown now).  Exactly the others arrive, each once, in the order of
 * their deadlines, also when many fire at once; afterwards cancelling
 * one that fired answers 0.
 */
START_TEST(many_timers)
{
    const char *body =
        /* refs at 8192 (20,000 x 8 bytes), arrivals counted at 172032 */
        "(func $due (param $i i32) (result i64)\n"
        "  (i64.extend_i32_u (i32.add (i32.const 50) (i32.div_u (local.get $i) (i32.const 100)))))\n"
        "(func (export \"main\") (param i64) (local $i i32) (local $t i32) (local $last i64)\n"
        "  (drop (memory.grow (i32.const 3)))\n"
        "  (local.set $last (i64.const -1))\n"
        /* each cancel right after its send_after, long before the deadline even in a sanitizer build */
        "  (loop $s\n"
        "    (i64.store (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3)))\n"
        "      (call $send_after (call $self) (call $due (local.get $i)) (i64.extend_i32_u (local.get $i)) (i32.const 0) (i32.const 0)))\n"
        "    (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 3))) (then\n"
        "      (if (i32.ne (call $cancel (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3))))) (i32.const 1))\n"
        "        (then (call $exit (i64.const 1))))\n"
        "      (if (i32.ne (call $cancel (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3))))) (i32.const 0))\n"
        "        (then (call $exit (i64.const 2))))))\n"
        "    (br_if $s (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20000))))\n"
        /* 13,333 arrive: 20,000 less the 6,667 cancelled */
        "  (local.set $i (i32.const 0))\n"
        "  (loop $r\n"
        "    (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 0)) (then (call $exit (i64.const 3))))\n"
        "    (local.set $t (i32.wrap_i64 (call $tag)))\n"
        "    (if (i32.eqz (i32.rem_u (local.get $t) (i32.const 3))) (then (call $exit (i64.const 4))))\n"   /* a cancelled one */
        "    (if (i32.load8_u (i32.add (i32.const 172032) (local.get $t))) (then (call $exit (i64.const 5))))\n"   /* twice */
        "    (i32.store8 (i32.add (i32.const 172032) (local.get $t)) (i32.const 1))\n"
        "    (if (i64.lt_s (i64.extend_i32_u (local.get $t)) (local.get $last)) (then (call $exit (i64.const 6))))\n"   /* out of order */
        "    (local.set $last (i64.extend_i32_u (local.get $t)))\n"
        "    (br_if $r (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 13333))))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 100)) (i32.const -1)) (then (call $exit (i64.const 8))))\n"
        "  (if (i32.ne (call $cancel (i64.load (i32.const 8200))) (i32.const 0)) (then (call $exit (i64.const 9))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/* Max memory: a grow past it fails (-1); max fuel: running out is a trap. */
START_TEST(limits)
{
    const char *body =
        "(data (i32.const 0) \"grow\") (data (i32.const 8) \"spin\")\n"
        "(func (export \"grow\") (param i64)\n"
        "  (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1)) (then (call $exit (i64.const 6))))\n"
        "  (call $exit (i64.const 5)))\n"
        "(func (export \"spin\") (param i64) (loop $l (br $l)))\n"
        "(func (export \"main\") (param i64) (local $cfg i64)\n"
        "  (local.set $cfg (call $config_new))\n"
        "  (if (i32.ne (call $cfg_mem (local.get $cfg) (i64.const 65536)) (i32.const 0)) (then (call $exit (i64.const 1))))\n"
        "  (drop (call $go (i32.const 0) (i32.const 4) (i64.const 0) (i32.const 2) (local.get $cfg)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const 5)) (then (call $exit (i64.const 2))))\n"
        "  (local.set $cfg (call $config_new))\n"
        "  (if (i32.ne (call $cfg_fuel (local.get $cfg) (i64.const 100000)) (i32.const 0)) (then (call $exit (i64.const 3))))\n"
        "  (drop (call $go (i32.const 8) (i32.const 4) (i64.const 0) (i32.const 2) (local.get $cfg)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const -1)) (then (call $exit (i64.const 4))))\n"
        /* "trap: out of fuel": byte 16 + 6 is 'o' */
        "  (drop (call $mread (i32.const 2048) (i32.const 64)))\n"
        "  (if (i32.ne (i32.load8_u (i32.const 2070)) (i32.const 111)) (then (call $exit (i64.const 5))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/* A configuration can be narrowed, never widened; a child without the spawn capability cannot spawn. */
START_TEST(attenuation)
{
    const char *body =
        "(data (i32.const 0) \"child\") (data (i32.const 8) \"leaf\")\n"
        "(func (export \"leaf\") (param i64))\n"
        "(func (export \"child\") (param i64) (local $cfg i64)\n"
        "  (if (i64.ne (call $go (i32.const 8) (i32.const 4) (i64.const 0) (i32.const 0) (i64.const 0)) (i64.const 0))\n"
        "    (then (call $exit (i64.const 6))))\n"
        "  (if (i64.ne (call $config_new) (i64.const 0)) (then (call $exit (i64.const 8))))\n"
        "  (call $exit (i64.const 5)))\n"
        "(func (export \"main\") (param i64) (local $cfg i64)\n"
        "  (local.set $cfg (call $config_new))\n"
        "  (if (i32.ne (call $cfg_mem (local.get $cfg) (i64.const 0x200000000)) (i32.const -1)) (then (call $exit (i64.const 1))))\n"
        "  (if (i32.ne (call $cfg_caps (local.get $cfg) (i32.const 0)) (i32.const 0)) (then (call $exit (i64.const 2))))\n"
        "  (if (i32.ne (call $cfg_caps (local.get $cfg) (i32.const 8)) (i32.const -1)) (then (call $exit (i64.const 3))))\n"
        "  (drop (call $go (i32.const 0) (i32.const 5) (i64.const 0) (i32.const 2) (local.get $cfg)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const 5)) (then (call $exit (call $reason))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/*
 * Isolation and fairness: a process that traps, one that exhausts its
 * stack, one that exhausts memory, and one that loops forever do not stop
 * a ping-pong pair from finishing 1000 round trips, even on one worker.
 */
static const char isolation_body[] =
    "(data (i32.const 0) \"trap\") (data (i32.const 8) \"deep\") (data (i32.const 16) \"hog\")\n"
    "(data (i32.const 24) \"spin\") (data (i32.const 32) \"pong\")\n"
    "(func (export \"trap\") (param i64) unreachable)\n"
    "(func $deep (export \"deep\") (param i64) (call $deep (i64.add (local.get 0) (i64.const 1))))\n"
    "(func (export \"hog\") (param i64) (loop $l (br_if $l (i32.ne (memory.grow (i32.const 64)) (i32.const -1)))) unreachable)\n"
    "(func (export \"spin\") (param i64) (loop $l (br $l)))\n"
    "(func (export \"pong\") (param i64)\n"
    "  (loop $l (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1)))\n"
    "    (drop (call $send (call $sender) (call $tag) (i32.const 0) (i32.const 0))) (br $l)))\n"
    "(func (export \"main\") (param i64) (local $spin i64) (local $pong i64) (local $i i64)\n"
    "  (drop (call $go (i32.const 0) (i32.const 4) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
    "  (drop (call $go (i32.const 8) (i32.const 4) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
    "  (drop (call $go (i32.const 16) (i32.const 3) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
    "  (local.set $spin (call $go (i32.const 24) (i32.const 4) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
    "  (local.set $pong (call $go (i32.const 32) (i32.const 4) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
    "  (loop $l (drop (call $send (local.get $pong) (local.get $i) (i32.const 0) (i32.const 0)))\n"
    "    (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1)))\n"
    "    (if (i64.ne (call $tag) (local.get $i)) (then (call $exit (i64.const 1))))\n"
    "    (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 1000))))\n"
    "  (drop (call $kill (local.get $spin))) (drop (call $kill (local.get $pong)))\n"
    "  (call $exit (i64.const 7)))\n";

START_TEST(isolation_and_fairness)
{
    ck_assert_int_eq(run_main(isolation_body, 1, NULL), 7);
    ck_assert_int_eq(run_main(isolation_body, 2, NULL), 7);
}
END_TEST

/* 1,000,000 messages from 100 senders: none lost, each sender's in order. */
START_TEST(million_messages)
{
    const char *body =
        "(data (i32.const 0) \"sender\")\n"
        "(func (export \"sender\") (param $arg i64) (local $i i64) (local $to i64)\n"
        /* arg: parent pid * 128 + index */
        "  (local.set $to (i64.shr_u (local.get $arg) (i64.const 7)))\n"
        "  (i32.store (i32.const 256) (i32.wrap_i64 (i64.and (local.get $arg) (i64.const 127))))\n"
        "  (loop $s (drop (call $send (local.get $to) (local.get $i) (i32.const 256) (i32.const 4)))\n"
        "    (br_if $s (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 10000)))))\n"
        "(func (export \"main\") (param i64) (local $i i64) (local $k i32) (local $slot i32)\n"
        "  (loop $s (drop (call $go (i32.const 0) (i32.const 6)\n"
        "      (i64.or (i64.shl (call $self) (i64.const 7)) (local.get $i)) (i32.const 0) (i64.const 0)))\n"
        "    (br_if $s (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 100))))\n"
        "  (local.set $i (i64.const 0))\n"
        "  (loop $r (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1)))\n"
        "    (drop (call $mread (i32.const 2048) (i32.const 4)))\n"
        "    (local.set $slot (i32.add (i32.const 4096) (i32.shl (i32.load (i32.const 2048)) (i32.const 3))))\n"
        /* next expected tag of that sender, kept at 4096 + 8 * index */
        "    (if (i64.ne (call $tag) (i64.load (local.get $slot))) (then (call $exit (i64.const 1))))\n"
        "    (i64.store (local.get $slot) (i64.add (call $tag) (i64.const 1)))\n"
        "    (br_if $r (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 1000000))))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 0)) (i32.const -1)) (then (call $exit (i64.const 2))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/* A spawned process starts with a few frames and grows them: recursion 900 deep works, 5000 deep traps. */
START_TEST(deep_recursion)
{
    const char *body =
        "(data (i32.const 0) \"sum\")\n"
        "(func $sum (param $n i64) (result i64)\n"
        "  (if (result i64) (i64.eqz (local.get $n)) (then (i64.const 0))\n"
        "    (else (i64.add (local.get $n) (call $sum (i64.sub (local.get $n) (i64.const 1)))))))\n"
        "(func (export \"sum\") (param $n i64) (call $exit (call $sum (local.get $n))))\n"
        "(func (export \"main\") (param i64)\n"
        "  (drop (call $go (i32.const 0) (i32.const 3) (i64.const 900) (i32.const 2) (i64.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const 405450)) (then (call $exit (i64.const 1))))\n"
        "  (drop (call $go (i32.const 0) (i32.const 3) (i64.const 5000) (i32.const 2) (i64.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const -1)) (then (call $exit (i64.const 2))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/* A process compiles another module from bytes it holds (here, text) and spawns it; without the capability it cannot. */
START_TEST(spawn_other_module)
{
    static const char inner[] =
        "(module (import \\\"leonardo\\\" \\\"exit\\\" (func $e (param i64)))"
        " (func (export \\\"m\\\") (param i64) (call $e (i64.add (local.get 0) (i64.const 2)))))";
    size_t inner_len = strlen(inner) - 6;   /* six quotes, each two characters here and one byte in memory */
    char body[2048];
    snprintf(body, sizeof body,
        "(data (i32.const 0) \"m\") (data (i32.const 8) \"child\") (data (i32.const 4096) \"%s\")\n"
        "(func (export \"child\") (param i64)\n"
        "  (if (i64.ne (call $compile (i32.const 4096) (i32.const %zu)) (i64.const 0)) (then (call $exit (i64.const 5))))\n"
        "  (call $exit (i64.const 6)))\n"
        "(func (export \"main\") (param i64) (local $m i64) (local $cfg i64)\n"
        "  (local.set $m (call $compile (i32.const 4096) (i32.const %zu)))\n"
        "  (if (i64.eqz (local.get $m)) (then (call $exit (i64.const 1))))\n"
        "  (if (i64.ne (call $compile (i32.const 8) (i32.const 5)) (i64.const 0)) (then (call $exit (i64.const 2))))\n"
        "  (i64.store (i32.const 1024) (i64.const 7))\n"
        "  (drop (call $spawn_mod (local.get $m) (i32.const 0) (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 2) (i64.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const 9)) (then (call $exit (i64.const 3))))\n"
        "  (local.set $cfg (call $config_new))\n"
        "  (drop (call $cfg_caps (local.get $cfg) (i32.const 1)))\n"
        "  (drop (call $go (i32.const 8) (i32.const 5) (i64.const 0) (i32.const 2) (local.get $cfg)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const 6)) (then (call $exit (i64.const 4))))\n"
        "  (call $exit (i64.const 7)))\n",
        inner, inner_len, inner_len);
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/*
 * Memory slots are reused: what one process wrote (by itself, or by the
 * host into its memory) must be gone for the next one, wherever it wrote.
 */
START_TEST(memory_reuse_is_clean)
{
    const char *body =
        "(data (i32.const 0) \"dirty\") (data (i32.const 8) \"check\")\n"
        "(func (export \"dirty\") (param i64)\n"
        /* a write of its own low down; then the host writes the message high up */
        "  (i64.store (i32.const 5000) (i64.const -1))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1)))\n"
        "  (drop (call $mread (i32.const 50000) (i32.const 8))))\n"
        "(func (export \"check\") (param i64)\n"
        "  (if (i64.ne (i64.or (i64.load (i32.const 5000)) (i64.load (i32.const 50000))) (i64.const 0))\n"
        "    (then (call $exit (i64.const 6))))\n"
        "  (call $exit (i64.const 5)))\n"
        "(func (export \"main\") (param i64) (local $i i32) (local $c i64)\n"
        "  (loop $l\n"
        "    (local.set $c (call $go (i32.const 0) (i32.const 5) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "    (i64.store (i32.const 256) (i64.const -1))\n"
        "    (drop (call $send (local.get $c) (i64.const 1) (i32.const 256) (i32.const 8)))\n"
        "    (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "    (drop (call $go (i32.const 8) (i32.const 5) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "    (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "    (if (i64.ne (call $reason) (i64.const 5)) (then (call $exit (i64.const 1))))\n"
        "    (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 50))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/*
 * A process's own tables live in its instance's block, with their first
 * elements when they are few (src/interp/instance.c: build).  50 children
 * in turn, in the same reused slots: each must find its table as the elem
 * segment left it (entry 3 null, whatever the last child put there), grow
 * it twice (the first grow moves the elements out of the block) and call
 * through old and new entries.  With `extra`, a second table of 600 makes
 * too many elements for the block, so the heap path is tested the same way.
 */
static void process_tables(const char *extra)
{
    char body[4096];
    snprintf(body, sizeof body,
        "(type $r (func (result i32)))\n"
        "(table $t 4 funcref)\n%s\n"
        "(elem (table $t) (i32.const 0) func $f1 $f2)\n"
        "(elem declare func $f3)\n"
        "(data (i32.const 0) \"tabs\")\n"
        "(func $f1 (result i32) (i32.const 11))\n"
        "(func $f2 (result i32) (i32.const 22))\n"
        "(func $f3 (result i32) (i32.const 33))\n"
        "(func $bad (call $exit (i64.const 6)))\n"
        "(func (export \"tabs\") (param i64)\n"
        "  (if (i32.eqz (ref.is_null (table.get $t (i32.const 3)))) (then (call $bad)))\n"
        "  (table.set $t (i32.const 3) (ref.func $f3))\n"
        "  (if (i32.ne (table.grow $t (ref.func $f3) (i32.const 300)) (i32.const 4)) (then (call $bad)))\n"
        "  (if (i32.ne (i32.add (i32.add (call_indirect $t (type $r) (i32.const 0))\n"
        "                               (call_indirect $t (type $r) (i32.const 1)))\n"
        "                       (i32.add (call_indirect $t (type $r) (i32.const 3))\n"
        "                               (call_indirect $t (type $r) (i32.const 303))))\n"
        "              (i32.const 99)) (then (call $bad)))\n"
        "  (if (i32.ne (table.grow $t (ref.null func) (i32.const 1000)) (i32.const 304)) (then (call $bad)))\n"
        "  (if (i32.ne (table.size $t) (i32.const 1304)) (then (call $bad)))\n"
        "  (if (i32.ne (call_indirect $t (type $r) (i32.const 1)) (i32.const 22)) (then (call $bad)))\n"
        "  (if (i32.eqz (ref.is_null (table.get $t (i32.const 1303)))) (then (call $bad)))\n"
        "  (call $exit (i64.const 5)))\n"
        "(func (export \"main\") (param i64) (local $i i32)\n"
        "  (loop $l\n"
        "    (drop (call $go (i32.const 0) (i32.const 4) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "    (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "    (if (i64.ne (call $reason) (i64.const 5)) (then (call $exit (i64.const 1))))\n"
        "    (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 50))))\n"
        "  (call $exit (i64.const 7)))\n", extra);
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}

START_TEST(tables_in_the_block)
{
    process_tables("");
    process_tables("(table $big 600 funcref)");
}
END_TEST

/* Processes that yield take turns and each yield returns; a kill still reaches one that keeps yielding. */
START_TEST(yields)
{
    const char *body =
        "(data (i32.const 0) \"yielder\") (data (i32.const 8) \"forever\")\n"
        "(func (export \"yielder\") (param $n i64) (local $i i64)\n"
        "  (loop $l (call $yield) (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (local.get $n))))\n"
        "  (call $exit (i64.const 5)))\n"
        "(func (export \"forever\") (param i64) (loop $l (call $yield) (br $l)))\n"
        "(func (export \"main\") (param i64) (local $f i64)\n"
        "  (local.set $f (call $go (i32.const 8) (i32.const 7) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "  (drop (call $go (i32.const 0) (i32.const 7) (i64.const 1000) (i32.const 2) (i64.const 0)))\n"
        "  (drop (call $go (i32.const 0) (i32.const 7) (i64.const 2000) (i32.const 2) (i64.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const 5)) (then (call $exit (i64.const 1))))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const 5)) (then (call $exit (i64.const 2))))\n"
        "  (drop (call $kill (local.get $f)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const -2)) (then (call $exit (i64.const 3))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/*
 * A worker serves the processes whose slice ended (its private ring) and
 * its deque of new and woken ones in turn: with one worker and two
 * processes yielding forever, a process spawned now (into the deque)
 * still runs, and its message arrives well before the timeout.
 */
START_TEST(yielders_leave_room_for_new)
{
    const char *body =
        "(data (i32.const 0) \"forever\") (data (i32.const 8) \"notify\")\n"
        "(func (export \"forever\") (param i64) (loop $l (call $yield) (br $l)))\n"
        "(func (export \"notify\") (param $to i64) (drop (call $send (local.get $to) (i64.const 42) (i32.const 0) (i32.const 0))))\n"
        "(func (export \"main\") (param i64) (local $a i64) (local $b i64)\n"
        "  (local.set $a (call $go (i32.const 0) (i32.const 7) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
        "  (local.set $b (call $go (i32.const 0) (i32.const 7) (i64.const 0) (i32.const 0) (i64.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 20)))   ;; both are yielding now\n"
        "  (drop (call $go (i32.const 8) (i32.const 6) (call $self) (i32.const 0) (i64.const 0)))\n"
        "  (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)) (i32.const 0)) (then (call $exit (i64.const 1))))\n"
        "  (if (i64.ne (call $tag) (i64.const 42)) (then (call $exit (i64.const 2))))\n"
        "  (drop (call $kill (local.get $a))) (drop (call $kill (local.get $b)))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 1, NULL), 7);
}
END_TEST

/*
 * A spawned process gets its data segments as it touches them (a shared
 * image): what it reads is what the segments say, wherever it reads first,
 * through the host or after its memory moved out of its slot.
 */
START_TEST(data_segments_arrive_lazily)
{
    const char *body =
        "(data (i32.const 0) \"reader\") (data (i32.const 8) \"mover\") (data (i32.const 16) \"sender\")\n"
        "(data (i32.const 30000) \"\\2a\") (data (i32.const 60000) \"\\07\\08\") (data (i32.const 60001) \"\\09\")\n"
        "(func $sum (result i64)\n"
        "  (i64.extend_i32_u (i32.add (i32.add (i32.load8_u (i32.const 30000)) (i32.load8_u (i32.const 60000)))\n"
        "                             (i32.load8_u (i32.const 60001)))))\n"
        /* 42 + 7 + 9 (the later segment wins) = 58 */
        "(func (export \"reader\") (param i64) (call $exit (call $sum)))\n"
        "(func (export \"mover\") (param i64)\n"
        "  (if (i32.eq (memory.grow (i32.const 8)) (i32.const -1)) (then unreachable))\n"
        "  (call $exit (call $sum)))\n"
        /* the host reads the data first: send 2 bytes from 60000 to the parent */
        "(func (export \"sender\") (param $to i64)\n"
        "  (drop (call $send (local.get $to) (i64.const 1) (i32.const 60000) (i32.const 2))))\n"
        "(func (export \"main\") (param i64) (local $x i32)\n"
        "  (drop (call $go (i32.const 0) (i32.const 6) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const 58)) (then (call $exit (i64.const 1))))\n"
        "  (drop (call $go (i32.const 8) (i32.const 5) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "  (if (i64.ne (call $reason) (i64.const 58)) (then (call $exit (i64.const 2))))\n"
        "  (drop (call $go (i32.const 16) (i32.const 6) (call $self) (i32.const 0) (i64.const 0)))\n"
        "  (i64.store (i32.const 512) (i64.const 1))\n"
        "  (drop (call $recv (i32.const 512) (i32.const 1) (i64.const 5000)))\n"
        "  (drop (call $mread (i32.const 600) (i32.const 2)))\n"
        "  (if (i32.ne (i32.load16_u (i32.const 600)) (i32.const 0x0907)) (then (call $exit (i64.const 3))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(body, 2, NULL), 7);
}
END_TEST

/*
 * Memory comes back: 20,000 processes waiting in receive, each having
 * written a few KiB of its memory, raise the RSS; once they are all dead
 * (kill, and a monitor's DOWN for each) most of it is gone again.
 */
START_TEST(memory_goes_back)
{
    const char *body =
        "(data (i32.const 0) \"waiter\")\n"
        "(func (export \"waiter\") (param i64)\n"
        "  (memory.fill (i32.const 0) (i32.const 1) (i32.const 12000))\n"
        "  (drop (call $recv (i32.const 0) (i32.const 0) (i64.const -1))))\n"
        /* main(check_rss): 0 under sanitizers, whose shadow memory swamps the figures */
        "(func (export \"main\") (param $check i64) (local $i i32) (local $r0 i64) (local $r1 i64) (local $r2 i64)\n"
        "  (drop (memory.grow (i32.const 2)))\n"   /* room for 20,000 pids at 8192 */
        "  (local.set $r0 (call $rss))\n"
        "  (loop $s\n"
        "    (i64.store (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3)))\n"
        "      (call $go (i32.const 0) (i32.const 6) (i64.const 0) (i32.const 2) (i64.const 0)))\n"
        "    (br_if $s (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20000))))\n"
        "  (call $sleep (i64.const 300))\n"   /* all of them run up to their receive */
        "  (local.set $r1 (call $rss))\n"
        "  (local.set $i (i32.const 0))\n"
        "  (loop $k\n"
        "    (drop (call $kill (i64.load (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 3))))))\n"
        "    (br_if $k (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20000))))\n"
        "  (local.set $i (i32.const 0))\n"
        "  (loop $d (drop (call $recv (i32.const 0) (i32.const 0) (i64.const 5000)))\n"
        "    (br_if $d (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 20000))))\n"
        "  (local.set $r2 (call $rss))\n"
        /* up by at least 12 KiB a process (its memory writes), then down by at least half of that */
        "  (if (i64.eqz (local.get $check)) (then (call $exit (i64.const 7))))\n"
        "  (if (i64.lt_u (i64.sub (local.get $r1) (local.get $r0)) (i64.const 240000)) (then (call $exit (i64.const 1))))\n"
        "  (if (i64.gt_u (i64.sub (local.get $r2) (local.get $r0)) (i64.shr_u (i64.sub (local.get $r1) (local.get $r0)) (i64.const 1)))\n"
        "    (then (call $exit (i64.const 2))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main_arg(body, 2, RSS_IS_OURS, NULL), 7);
}
END_TEST

/* A guest fault in an API call kills the caller with a reason naming the function. */
START_TEST(guest_fault)
{
    const char *body =
        "(func (export \"main\") (param i64)\n"
        "  (drop (call $send (call $self) (i64.const 1) (i32.const 65530) (i32.const 100)))\n"
        "  (call $exit (i64.const 7)))\n";
    lw_proc_result r;
    ck_assert_int_eq(run_main(body, 2, &r), LW_REASON_TRAP);
    ck_assert_ptr_nonnull(strstr(r.text, "leonardo.send: pointer or length out of bounds"));

    /* ids the caller does not own */
    const char *bad_config =
        "(data (i32.const 0) \"main\")\n"
        "(func (export \"main\") (param i64)\n"
        "  (drop (call $go (i32.const 0) (i32.const 4) (i64.const 0) (i32.const 0) (i64.const 99)))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(bad_config, 2, &r), LW_REASON_TRAP);
    ck_assert_ptr_nonnull(strstr(r.text, "leonardo.spawn: unknown configuration id"));
    const char *bad_module =
        "(func (export \"main\") (param i64)\n"
        "  (drop (call $spawn_mod (i64.const 5) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0)))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main(bad_module, 2, &r), LW_REASON_TRAP);
    ck_assert_ptr_nonnull(strstr(r.text, "leonardo.spawn_module: unknown module id"));
    /* an export that cannot take integer arguments, and one that is not there */
    const char *bad_function =
        "(data (i32.const 0) \"float\") (data (i32.const 8) \"nothere\")\n"
        "(func (export \"float\") (param f64))\n"
        "(func (export \"main\") (param $which i64)\n"
        "  (if (i64.eqz (local.get $which))\n"
        "    (then (drop (call $go (i32.const 0) (i32.const 5) (i64.const 0) (i32.const 0) (i64.const 0))))\n"
        "    (else (drop (call $go (i32.const 8) (i32.const 7) (i64.const 0) (i32.const 0) (i64.const 0)))))\n"
        "  (call $exit (i64.const 7)))\n";
    ck_assert_int_eq(run_main_arg(bad_function, 2, 0, &r), LW_REASON_TRAP);
    ck_assert_ptr_nonnull(strstr(r.text, "does not take that many integer arguments"));
    ck_assert_int_eq(run_main_arg(bad_function, 2, 1, &r), LW_REASON_TRAP);
    ck_assert_ptr_nonnull(strstr(r.text, "leonardo.spawn: no such function"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sched_proc");
    TCase *t = tcase_create("processes");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, spawn_and_exit);
    tcase_add_test(t, message_order);
    tcase_add_test(t, selective_receive);
    tcase_add_test(t, receive_timeout);
    tcase_add_test(t, link_cascade_and_trap_exit);
    tcase_add_test(t, link_normal_and_abnormal);
    tcase_add_test(t, links_to_self);
    tcase_add_test(t, monitors_of_the_living_at_shutdown);
    tcase_add_test(t, failed_spawn_leaves_its_slot_clean);
    tcase_add_test(t, many_links);
    tcase_add_test(t, monitor_trap);
    tcase_add_test(t, demonitor);
    tcase_add_test(t, demonitor_races_death);
    tcase_add_test(t, monitors_do_not_pile_up);
    tcase_add_test(t, kill_spinner);
    tcase_add_test(t, registry);
    tcase_add_test(t, many_names);
    tcase_add_test(t, send_after_and_cancel);
    tcase_add_test(t, many_timers);
    tcase_add_test(t, limits);
    tcase_add_test(t, attenuation);
    tcase_add_test(t, isolation_and_fairness);
    tcase_add_test(t, million_messages);
    tcase_add_test(t, guest_fault);
    tcase_add_test(t, deep_recursion);
    tcase_add_test(t, spawn_other_module);
    tcase_add_test(t, memory_reuse_is_clean);
    tcase_add_test(t, tables_in_the_block);
    tcase_add_test(t, yields);
    tcase_add_test(t, yielders_leave_room_for_new);
    tcase_add_test(t, data_segments_arrive_lazily);
    tcase_add_test(t, memory_goes_back);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
