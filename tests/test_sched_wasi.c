/*
 * WASI under the scheduler (and, as a test_sched_*.c, under TSan too):
 *
 * - a process blocked in fd_read on a pipe parks, and on one worker another
 *   process runs and writes to stdout meanwhile;
 * - with a process computing beside them, file writes go to the I/O
 *   threads while their processes park, and every byte lands;
 * - a process killed while its file write runs on an I/O thread ends only
 *   when the write is done, and leaves nothing behind.
 */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leonardo.h"
#include "wasi/wasi.h"

#define IMPORTS \
    "  (import \"wasi_snapshot_preview1\" \"fd_read\" (func $fd_read (param i32 i32 i32 i32) (result i32)))\n" \
    "  (import \"wasi_snapshot_preview1\" \"fd_write\" (func $fd_write (param i32 i32 i32 i32) (result i32)))\n" \
    "  (import \"wasi_snapshot_preview1\" \"path_open\"\n" \
    "    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n" \
    "  (import \"leonardo\" \"spawn_export\" (func $spawn (param i32 i32 i32 i32 i32 i64) (result i64)))\n" \
    "  (import \"leonardo\" \"receive\" (func $recv (param i32 i32 i64) (result i32)))\n" \
    "  (import \"leonardo\" \"kill\" (func $kill (param i64) (result i32)))\n" \
    "  (import \"leonardo\" \"sleep\" (func $sleep (param i64)))\n" \
    "  (import \"leonardo\" \"exit\" (func $exit (param i64)))\n"

/* Memory: 0 "counter", 8 "spin", 16 "writer", 32 "counted\n", 48 an iovec,
   64 the spawn argument, 128 file names "f0".."f3" and "fk", 4096.. a block to write. */
static const char module_text[] =
    "(module\n" IMPORTS
    "  (memory (export \"memory\") 2)\n"
    "  (data (i32.const 0) \"counter\")\n"
    "  (data (i32.const 8) \"spin\")\n"
    "  (data (i32.const 16) \"writer\")\n"
    "  (data (i32.const 32) \"counted\\n\")\n"
    "  (data (i32.const 128) \"f0f1f2f3fk\")\n"
    /* counter(): count to 2,000,000, then write "counted\n" to stdout */
    "  (func (export \"counter\") (param i64) (local $i i64)\n"
    "    (loop $l (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 2000000))))\n"
    "    (i32.store (i32.const 48) (i32.const 32)) (i32.store (i32.const 52) (i32.const 8))\n"
    "    (drop (call $fd_write (i32.const 1) (i32.const 48) (i32.const 1) (i32.const 56))))\n"
    "  (func (export \"spin\") (param i64) (loop $l (br $l)))\n"
    /* writer(i): create file i (fk for i = 4) and write 64 blocks of 4 KiB; i = 4 writes forever */
    "  (func (export \"writer\") (param $i i64) (local $fd i32) (local $n i32)\n"
    "    (if (i32.ne (call $path_open (i32.const 3) (i32.const 0)\n"
    "                  (i32.add (i32.const 128) (i32.shl (i32.wrap_i64 (local.get $i)) (i32.const 1))) (i32.const 2)\n"
    "                  (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 60)) (i32.const 0))\n"
    "      (then (call $exit (i64.const 100))))\n"
    "    (local.set $fd (i32.load (i32.const 60)))\n"
    "    (loop $l\n"
    "      (i32.store (i32.const 1024) (i32.const 4096)) (i32.store (i32.const 1028) (i32.const 4096))\n"
    "      (if (i32.ne (call $fd_write (local.get $fd) (i32.const 1024) (i32.const 1) (i32.const 1032)) (i32.const 0))\n"
    "        (then (call $exit (i64.const 101))))\n"
    "      (if (i32.ne (i32.load (i32.const 1032)) (i32.const 4096)) (then (call $exit (i64.const 102))))\n"
    "      (local.set $n (i32.add (local.get $n) (i32.const 1)))\n"
    "      (br_if $l (i32.or (i64.eq (local.get $i) (i64.const 4)) (i32.lt_u (local.get $n) (i32.const 64))))))\n"
    /* reader(): start the counter, then read one byte of stdin and write it to stdout */
    "  (func (export \"reader\")\n"
    "    (drop (call $spawn (i32.const 0) (i32.const 7) (i32.const 64) (i32.const 1) (i32.const 0) (i64.const 0)))\n"
    "    (i32.store (i32.const 48) (i32.const 100)) (i32.store (i32.const 52) (i32.const 1))\n"
    "    (if (i32.ne (call $fd_read (i32.const 0) (i32.const 48) (i32.const 1) (i32.const 56)) (i32.const 0))\n"
    "      (then (call $exit (i64.const 200))))\n"
    "    (drop (call $fd_write (i32.const 1) (i32.const 48) (i32.const 1) (i32.const 56))))\n"
    /* files(): a spinner; four writers, waited for by monitor; ten writers killed mid-write; done */
    "  (func (export \"files\") (local $i i64) (local $spinner i64) (local $k i64)\n"
    "    (local.set $spinner (call $spawn (i32.const 8) (i32.const 4) (i32.const 64) (i32.const 1) (i32.const 0) (i64.const 0)))\n"
    "    (loop $l\n"
    "      (i64.store (i32.const 64) (local.get $i))\n"
    "      (drop (call $spawn (i32.const 16) (i32.const 6) (i32.const 64) (i32.const 1) (i32.const 2) (i64.const 0)))\n"
    "      (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 4))))\n"
    "    (local.set $i (i64.const 0))\n"
    "    (loop $l\n"
    "      (if (i32.ne (call $recv (i32.const 0) (i32.const 0) (i64.const 20000)) (i32.const 2)) (then (call $exit (i64.const 300))))\n"
    "      (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 4))))\n"
    "    (local.set $i (i64.const 0))\n"
    "    (i64.store (i32.const 64) (i64.const 4))\n"
    "    (loop $l\n"
    "      (local.set $k (call $spawn (i32.const 16) (i32.const 6) (i32.const 64) (i32.const 1) (i32.const 0) (i64.const 0)))\n"
    "      (call $sleep (i64.const 2))\n"
    "      (drop (call $kill (local.get $k)))\n"
    "      (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 1))) (i64.const 10))))\n"
    "    (drop (call $kill (local.get $spinner))))\n"
    ")";

static lw_module *load(void)
{
    lw_error err;
    lw_module *m = lw_module_load_wat(module_text, strlen(module_text), "wasi.wat", &err);
    if (!m)
        fprintf(stderr, "%s\n", err.msg);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* Read from fd until `want` has arrived (or 5 s pass); true if it did. */
static bool read_until(int fd, const char *want)
{
    char buf[256];
    size_t have = 0;
    while (have < sizeof buf - 1) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 5000) <= 0)
            return false;
        ssize_t k = read(fd, buf + have, sizeof buf - 1 - have);
        if (k <= 0)
            return false;
        have += (size_t)k;
        buf[have] = 0;
        if (strstr(buf, want))
            return true;
    }
    return false;
}

START_TEST(read_parks_on_one_worker)
{
    lw_module *m = load();
    int in[2], out[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    static const char *const argv[] = {"prog"};
    lw_wasi_config wc = {.argc = 1, .argv = argv, .stdin_fd = in[0], .stdout_fd = out[1], .stderr_fd = 2};
    lw_wasi *w = lw_wasi_new(&wc, NULL);
    ck_assert_ptr_nonnull(w);
    lw_runtime_config cfg = {.threads = 1};
    lw_runtime *rt = lw_runtime_new(&cfg);
    ck_assert(lw_wasi_attach(w, rt));
    lw_error err;
    uint64_t pid = lw_runtime_spawn(rt, m, "reader", NULL, 0, &err);
    ck_assert_uint_ne(pid, 0);
    /* The reader is blocked on stdin; the counter still runs and prints. */
    ck_assert_msg(read_until(out[0], "counted\n"), "the counter did not run while the reader waited");
    ck_assert_int_eq(write(in[1], "x", 1), 1);
    ck_assert(read_until(out[0], "x"));
    lw_proc_result r;
    lw_runtime_wait(rt, pid, &r);
    ck_assert_msg(r.reason == 0, "reader ended with %lld (%s)", (long long)r.reason, r.text);
    lw_runtime_free(rt);
    lw_wasi_free(w);
    lw_module_free(m);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
}
END_TEST

START_TEST(file_io_beside_a_spinner)
{
    lw_module *m = load();
    char dir[] = "/tmp/lw-sched-wasi-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    static const char *const argv[] = {"prog"};
    lw_wasi_dir d = {dir, "."};
    lw_wasi_config wc = {.argc = 1, .argv = argv, .stdin_fd = -1, .stdout_fd = 1, .stderr_fd = 2,
                         .ndirs = 1, .dirs = &d};
    char msg[LW_WASI_ERR_MAX];
    lw_wasi *w = lw_wasi_new(&wc, msg);
    ck_assert_msg(w != NULL, "%s", msg);
    lw_runtime_config cfg = {.threads = 2};
    lw_runtime *rt = lw_runtime_new(&cfg);
    ck_assert(lw_wasi_attach(w, rt));
    lw_error err;
    uint64_t pid = lw_runtime_spawn(rt, m, "files", NULL, 0, &err);
    ck_assert_uint_ne(pid, 0);
    lw_proc_result r;
    lw_runtime_wait(rt, pid, &r);
    ck_assert_msg(r.reason == 0, "files ended with %lld (%s)", (long long)r.reason, r.text);
    lw_runtime_free(rt);
    lw_wasi_free(w);
    lw_module_free(m);
    for (int i = 0; i < 5; i++) {
        char path[128];
        struct stat st;
        snprintf(path, sizeof path, "%s/f%c", dir, i < 4 ? '0' + i : 'k');
        ck_assert_int_eq(stat(path, &st), 0);
        if (i < 4)
            ck_assert_int_eq(st.st_size, 64 * 4096);
        else
            ck_assert_int_eq(st.st_size % 4096, 0);   /* killed between writes, never inside one */
        unlink(path);
    }
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sched_wasi");
    TCase *t = tcase_create("wasi");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, read_parks_on_one_worker);
    tcase_add_test(t, file_io_beside_a_spinner);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
