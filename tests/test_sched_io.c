/*
 * Waiting for a file descriptor parks the process, not the worker: a host
 * function built on sched_wait_io (as WASI's I/O will be) waits for a pipe
 * while, on the same single worker, other processes keep running; the
 * poller wakes it when the test writes to the pipe.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "leonardo.h"
#include "sched/sched.h"

/* test.read_byte(fd) -> the next byte of fd, waiting for it without holding the worker. */
static lw_status read_byte(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)env;
    Proc *p = lw_exec_userdata(ex);
    int fd = (int)(uint32_t)slots[0];
    lw_status st = sched_wait_io(p, fd, EPOLLIN);
    if (st != LW_OK) {
        if (st == LW_TRAP)
            lw_exec_set_trap(ex, "test.read_byte: cannot watch that fd");
        return st;
    }
    unsigned char c = 0;
    slots[0] = read(fd, &c, 1) == 1 ? c : 0xFFFFFFFFu;
    return LW_OK;
}

static const char module_text[] =
    "(module\n"
    "  (import \"test\" \"read_byte\" (func $read_byte (param i32) (result i32)))\n"
    "  (import \"leonardo\" \"spawn_export\" (func $spawn (param i32 i32 i32 i32 i32 i64) (result i64)))\n"
    "  (import \"leonardo\" \"send\" (func $send (param i64 i64 i32 i32) (result i32)))\n"
    "  (import \"leonardo\" \"receive\" (func $recv (param i32 i32 i64) (result i32)))\n"
    "  (import \"leonardo\" \"msg_tag\" (func $tag (result i64)))\n"
    "  (import \"leonardo\" \"self\" (func $self (result i64)))\n"
    "  (import \"leonardo\" \"exit\" (func $exit (param i64)))\n"
    "  (memory 1)\n"
    "  (data (i32.const 0) \"counter\")\n"
    /* counter(parent): count to 2,000,000 (many slices, well under the test's 0.5 s), then tell the parent */
    "  (func (export \"counter\") (param $to i64) (local $i i64)\n"
    "    (loop $l (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 2000000))))\n"
    "    (drop (call $send (local.get $to) (i64.const 1) (i32.const 0) (i32.const 0))))\n"
    /* main(fd): start the counter, wait for a byte on fd; the counter must have finished meanwhile on the
       one worker (a receive that only looks finds its message); exit with the byte */
    "  (func (export \"main\") (param $fd i32) (local $b i32)\n"
    "    (i64.store (i32.const 64) (call $self))\n"
    "    (drop (call $spawn (i32.const 0) (i32.const 7) (i32.const 64) (i32.const 1) (i32.const 0) (i64.const 0)))\n"
    "    (local.set $b (call $read_byte (local.get $fd)))\n"
    "    (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 0)) (i32.const 0)) (then (call $exit (i64.const 1001))))\n"
    "    (if (i64.ne (call $tag) (i64.const 1)) (then (call $exit (i64.const 1000))))\n"
    "    (call $exit (i64.extend_i32_u (local.get $b))))\n"
    ")";

START_TEST(wait_for_a_pipe)
{
    lw_error err;
    lw_module *m = lw_module_load_wat(module_text, strlen(module_text), "io.wat", &err);
    if (!m)
        fprintf(stderr, "%s\n", err.msg);
    ck_assert_ptr_nonnull(m);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);

    lw_runtime_config cfg = {.threads = 1};   /* one worker: the counter must run while main waits */
    lw_runtime *rt = lw_runtime_new(&cfg);
    ck_assert_ptr_nonnull(rt);
    lw_valtype i32 = LW_I32;
    lw_func *f = lw_func_new_host(lw_runtime_store(rt), &i32, 1, &i32, 1, read_byte, NULL, "read_byte");
    lw_store_define(lw_runtime_store(rt), "test", "read_byte", (lw_extern){.kind = LW_EXTERN_FUNC, .of.func = f});
    lw_value arg = {.type = LW_I32, .of.i32 = (uint32_t)fds[0]};
    uint64_t pid = lw_runtime_spawn(rt, m, "main", &arg, 1, &err);
    ck_assert_uint_ne(pid, 0);

    struct timespec pause = {0, 500 * 1000 * 1000};
    nanosleep(&pause, NULL);   /* main is parked on the pipe; the counter has had time to finish */
    ck_assert_int_eq(write(fds[1], "*", 1), 1);
    lw_proc_result r;
    lw_runtime_wait(rt, pid, &r);
    ck_assert_msg(r.reason == '*', "main ended with %lld (%s)", (long long)r.reason, r.text);
    lw_runtime_free(rt);
    lw_module_free(m);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

/* A process that ends while it waits for an fd leaves nothing behind in the poller. */
START_TEST(killed_while_waiting)
{
    static const char text[] =
        "(module\n"
        "  (import \"test\" \"read_byte\" (func $read_byte (param i32) (result i32)))\n"
        "  (import \"leonardo\" \"exit\" (func $exit (param i64)))\n"
        "  (func (export \"main\") (param $fd i32) (drop (call $read_byte (local.get $fd)))))";
    lw_error err;
    lw_module *m = lw_module_load_wat(text, strlen(text), "io2.wat", &err);
    ck_assert_ptr_nonnull(m);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    lw_runtime_config cfg = {.threads = 2};
    lw_runtime *rt = lw_runtime_new(&cfg);
    lw_valtype i32 = LW_I32;
    lw_func *f = lw_func_new_host(lw_runtime_store(rt), &i32, 1, &i32, 1, read_byte, NULL, "read_byte");
    lw_store_define(lw_runtime_store(rt), "test", "read_byte", (lw_extern){.kind = LW_EXTERN_FUNC, .of.func = f});
    lw_value arg = {.type = LW_I32, .of.i32 = (uint32_t)fds[0]};
    for (int i = 0; i < 20; i++)
        ck_assert_uint_ne(lw_runtime_spawn(rt, m, "main", &arg, 1, &err), 0);
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    lw_runtime_free(rt);   /* they all wait on the pipe: freed with the runtime, poller and all */
    lw_module_free(m);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sched_io");
    TCase *t = tcase_create("io");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, wait_for_a_pipe);
    tcase_add_test(t, killed_while_waiting);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
