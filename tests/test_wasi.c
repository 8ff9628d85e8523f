/*
 * Tests of the minimal WASI (src/wasi) through the embedding API: a small
 * module re-exports the WASI imports, the test writes arguments into its
 * memory, calls them, and checks the errno, the memory and what arrived on
 * the host descriptors (pipes and files standing in for stdin and stdout).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leonardo.h"
#include "wasi/wasi.h"

/* Each WASI function, re-exported under the same name. */
static const char forward_wat[] =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_write\" (func $fd_write (param i32 i32 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_read\" (func $fd_read (param i32 i32 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_seek\" (func $fd_seek (param i32 i64 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_tell\" (func $fd_tell (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_close\" (func $fd_close (param i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_fdstat_get\" (func $fd_fdstat_get (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"args_sizes_get\" (func $args_sizes_get (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"args_get\" (func $args_get (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"environ_sizes_get\" (func $environ_sizes_get (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"environ_get\" (func $environ_get (param i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"clock_time_get\" (func $clock_time_get (param i32 i64 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $proc_exit (param i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (func (export \"fd_write\") (param i32 i32 i32 i32) (result i32)\n"
    "    (call $fd_write (local.get 0) (local.get 1) (local.get 2) (local.get 3)))\n"
    "  (func (export \"fd_read\") (param i32 i32 i32 i32) (result i32)\n"
    "    (call $fd_read (local.get 0) (local.get 1) (local.get 2) (local.get 3)))\n"
    "  (func (export \"fd_seek\") (param i32 i64 i32 i32) (result i32)\n"
    "    (call $fd_seek (local.get 0) (local.get 1) (local.get 2) (local.get 3)))\n"
    "  (func (export \"fd_tell\") (param i32 i32) (result i32) (call $fd_tell (local.get 0) (local.get 1)))\n"
    "  (func (export \"fd_close\") (param i32) (result i32) (call $fd_close (local.get 0)))\n"
    "  (func (export \"fd_fdstat_get\") (param i32 i32) (result i32) (call $fd_fdstat_get (local.get 0) (local.get 1)))\n"
    "  (func (export \"args_sizes_get\") (param i32 i32) (result i32) (call $args_sizes_get (local.get 0) (local.get 1)))\n"
    "  (func (export \"args_get\") (param i32 i32) (result i32) (call $args_get (local.get 0) (local.get 1)))\n"
    "  (func (export \"environ_sizes_get\") (param i32 i32) (result i32) (call $environ_sizes_get (local.get 0) (local.get 1)))\n"
    "  (func (export \"environ_get\") (param i32 i32) (result i32) (call $environ_get (local.get 0) (local.get 1)))\n"
    "  (func (export \"clock_time_get\") (param i32 i64 i32) (result i32)\n"
    "    (call $clock_time_get (local.get 0) (local.get 1) (local.get 2)))\n"
    "  (func (export \"proc_exit\") (param i32) (call $proc_exit (local.get 0))))\n";

/* A module without a memory: every pointer is out of bounds. */
static const char nomem_wat[] =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_write\" (func $fd_write (param i32 i32 i32 i32) (result i32)))\n"
    "  (func (export \"fd_write\") (param i32 i32 i32 i32) (result i32)\n"
    "    (call $fd_write (local.get 0) (local.get 1) (local.get 2) (local.get 3))))\n";

enum { E_SUCCESS = 0, E_BADF = 8, E_FAULT = 21, E_INVAL = 28, E_SPIPE = 70, E_NOTCAPABLE = 76 };

typedef struct {
    lw_module *mod;
    lw_store *store;
    lw_exec *ex;
    lw_wasi *wasi;
    lw_instance *inst;
    uint8_t *mem;
    uint64_t mem_size;
} Env;

static void env_open(Env *e, const char *wat, const lw_wasi_config *cfg)
{
    lw_error err;
    memset(e, 0, sizeof *e);
    e->mod = lw_module_load_wat(wat, strlen(wat), "test.wat", &err);
    ck_assert_msg(e->mod != NULL, "%s", err.msg);
    e->store = lw_store_new();
    e->ex = lw_exec_new(e->store, NULL);
    e->wasi = lw_wasi_new(cfg, NULL);
    ck_assert_ptr_nonnull(e->wasi);
    ck_assert(lw_wasi_define(e->wasi, e->store));
    e->inst = lw_instantiate(e->store, e->mod, e->ex, &err);
    ck_assert_msg(e->inst != NULL, "%s", err.msg);
    lw_extern mem;
    if (lw_instance_export(e->inst, "memory", &mem))
        e->mem = lw_memory_data(mem.of.memory, &e->mem_size);
}

static void env_close(Env *e)
{
    lw_exec_free(e->ex);
    lw_store_free(e->store);
    lw_module_free(e->mod);
    lw_wasi_free(e->wasi);
}

/* Call export `name` with i32 arguments (an i64 where `i64_at` says) and
   return its i32 result, or -1 for a function without one. */
static int call(Env *e, const char *name, int n, const uint64_t *args, int i64_at, lw_status *st)
{
    lw_extern f;
    lw_value v[8];
    ck_assert_msg(lw_instance_export(e->inst, name, &f), "no export %s", name);
    for (int i = 0; i < n; i++) {
        if (i == i64_at)
            v[i] = (lw_value){.type = LW_I64, .of.i64 = args[i]};
        else
            v[i] = (lw_value){.type = LW_I32, .of.i32 = (uint32_t)args[i]};
    }
    lw_status s = lw_exec_call(e->ex, f.of.func, v, (uint32_t)n);
    if (st)
        *st = s;
    else
        ck_assert_int_eq(s, LW_OK);
    if (s != LW_OK)
        return -1;
    const lw_valtype *p, *r;
    uint32_t np, nr;
    lw_func_type(f.of.func, &p, &np, &r, &nr);
    if (nr == 0)
        return -1;
    lw_value res;
    lw_exec_results(e->ex, &res, 1);
    return (int)res.of.i32;
}

#define CALL(e, name, ...)                                                      \
    call((e), (name), (int)(sizeof((uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t)), \
         (uint64_t[]){__VA_ARGS__}, -1, NULL)

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* the host is little-endian, as wasm is */
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static lw_wasi_config plain_config(int out_fd)
{
    static const char *const argv[] = {"prog"};
    return (lw_wasi_config){.argc = 1, .argv = argv, .stdin_fd = 0, .stdout_fd = out_fd, .stderr_fd = 2};
}

/* ---- fd_write ---- */

START_TEST(write_gathers_iovecs)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    lw_wasi_config cfg = plain_config(p[1]);
    Env e;
    env_open(&e, forward_wat, &cfg);
    memcpy(e.mem + 100, "hello, ", 7);
    memcpy(e.mem + 200, "world", 5);
    put32(e.mem + 0, 100);
    put32(e.mem + 4, 7);
    put32(e.mem + 8, 200);
    put32(e.mem + 12, 5);
    ck_assert_int_eq(CALL(&e, "fd_write", 1, 0, 2, 16), E_SUCCESS);
    ck_assert_uint_eq(get32(e.mem + 16), 12);
    char buf[32] = {0};
    ck_assert_int_eq(read(p[0], buf, sizeof buf), 12);
    ck_assert_str_eq(buf, "hello, world");
    env_close(&e);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(write_bad_iovec_writes_nothing)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    lw_wasi_config cfg = plain_config(p[1]);
    Env e;
    env_open(&e, forward_wat, &cfg);
    memcpy(e.mem + 100, "first", 5);
    put32(e.mem + 0, 100);
    put32(e.mem + 4, 5);
    put32(e.mem + 8, 65530);   /* runs past the end of the one page */
    put32(e.mem + 12, 10);
    put32(e.mem + 16, 0xdead);
    ck_assert_int_eq(CALL(&e, "fd_write", 1, 0, 2, 16), E_FAULT);
    ck_assert_uint_eq(get32(e.mem + 16), 0xdead); /* untouched */
    char c;
    ck_assert_int_eq(read(p[0], &c, 1), -1);      /* nothing was written */
    /* The iovec array itself out of bounds, and a length that would wrap. */
    ck_assert_int_eq(CALL(&e, "fd_write", 1, 65532, 1, 16), E_FAULT);
    ck_assert_int_eq(CALL(&e, "fd_write", 1, 0, 0x80000000u, 16), E_FAULT);
    ck_assert_int_eq(CALL(&e, "fd_write", 1, 0, 0, 0xfffffffeu), E_FAULT);
    env_close(&e);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(close_then_write_is_ebadf)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    lw_wasi_config cfg = plain_config(p[1]);
    Env e;
    env_open(&e, forward_wat, &cfg);
    ck_assert_int_eq(CALL(&e, "fd_close", 1), E_SUCCESS);
    ck_assert_int_eq(CALL(&e, "fd_close", 1), E_BADF);
    ck_assert_int_eq(CALL(&e, "fd_write", 1, 0, 0, 16), E_BADF);
    ck_assert_int_eq(CALL(&e, "fd_write", 3, 0, 0, 16), E_BADF);
    ck_assert_int_eq(CALL(&e, "fd_close", 9), E_BADF);
    env_close(&e);
    /* The host descriptor stays open: only the guest's handle went away. */
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(no_memory_is_efault)
{
    lw_wasi_config cfg = plain_config(1);
    Env e;
    env_open(&e, nomem_wat, &cfg);
    ck_assert_int_eq(CALL(&e, "fd_write", 1, 0, 0, 0), E_FAULT);
    env_close(&e);
}
END_TEST

/* ---- fd_read, fd_seek, fd_tell, fd_fdstat_get ---- */

START_TEST(read_stdin)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], "abc", 3), 3);
    close(p[1]);
    static const char *const argv[] = {"prog"};
    lw_wasi_config cfg = {.argc = 1, .argv = argv, .stdin_fd = p[0], .stdout_fd = 1, .stderr_fd = 2};
    Env e;
    env_open(&e, forward_wat, &cfg);
    put32(e.mem + 0, 100);
    put32(e.mem + 4, 10);
    ck_assert_int_eq(CALL(&e, "fd_read", 0, 0, 1, 16), E_SUCCESS);
    ck_assert_uint_eq(get32(e.mem + 16), 3);
    ck_assert_mem_eq(e.mem + 100, "abc", 3);
    ck_assert_int_eq(CALL(&e, "fd_read", 0, 0, 1, 16), E_SUCCESS); /* end of input */
    ck_assert_uint_eq(get32(e.mem + 16), 0);
    ck_assert_int_eq(CALL(&e, "fd_read", 1, 0, 1, 16), E_NOTCAPABLE);   /* stdout has no right to read */
    env_close(&e);
    close(p[0]);
}
END_TEST

/* A read that overwrites the iovec array itself must not then trust the new
   entries: here the first buffer is the second iovec, and the data turns it
   into one that runs past the end of memory.  The iovecs are read (and
   checked) once, before the read, as readv(2) does. */
START_TEST(read_into_own_iovecs)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    uint8_t evil[8];
    put32(evil, 65530);
    put32(evil + 4, 1000);
    ck_assert_int_eq(write(p[1], evil, 8), 8);
    char more[100];
    memset(more, 'x', sizeof more);    /* what an unchecked second read would write */
    ck_assert_int_eq(write(p[1], more, sizeof more), (int)sizeof more);
    close(p[1]);
    static const char *const argv[] = {"prog"};
    lw_wasi_config cfg = {.argc = 1, .argv = argv, .stdin_fd = p[0], .stdout_fd = 1, .stderr_fd = 2};
    Env e;
    env_open(&e, forward_wat, &cfg);
    put32(e.mem + 0, 8);    /* iov[0] = {8, 8}: the bytes of iov[1] */
    put32(e.mem + 4, 8);
    put32(e.mem + 8, 100);  /* iov[1] = {100, 4} until the read replaces it */
    put32(e.mem + 12, 4);
    ck_assert_int_eq(CALL(&e, "fd_read", 0, 0, 2, 32), E_SUCCESS);
    ck_assert_uint_eq(get32(e.mem + 32), 12);
    ck_assert_uint_eq(get32(e.mem + 8), 65530);
    ck_assert_mem_eq(e.mem + 100, "xxxx", 4);   /* the second buffer is the one checked first */
    env_close(&e);
    close(p[0]);
}
END_TEST

START_TEST(seek_and_fdstat)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    lw_wasi_config cfg = plain_config(p[1]);
    Env e;
    env_open(&e, forward_wat, &cfg);
    /* A pipe: no seeking, not a regular file, no seek rights. */
    ck_assert_int_eq(call(&e, "fd_seek", 4, (uint64_t[]){1, 0, 1, 16}, 1, NULL), E_SPIPE);
    ck_assert_int_eq(CALL(&e, "fd_fdstat_get", 1, 32), E_SUCCESS);
    ck_assert_uint_eq(e.mem[32], 0);                    /* filetype unknown */
    ck_assert_uint_eq(get64(e.mem + 40) & (1u << 6), 1u << 6); /* fd_write right */
    ck_assert_uint_eq(get64(e.mem + 40) & (1u << 2), 0);        /* no fd_seek right */
    ck_assert_int_eq(CALL(&e, "fd_fdstat_get", 1, 65530), E_FAULT);
    ck_assert_int_eq(CALL(&e, "fd_fdstat_get", 5, 32), E_BADF);
    env_close(&e);
    close(p[0]);
    close(p[1]);

    /* A regular file: seekable, and fd_tell follows the writes. */
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    cfg = plain_config(fileno(f));
    env_open(&e, forward_wat, &cfg);
    ck_assert_int_eq(CALL(&e, "fd_fdstat_get", 1, 32), E_SUCCESS);
    ck_assert_uint_eq(e.mem[32], 4);                    /* regular file */
    ck_assert_uint_eq(get64(e.mem + 40) & (1u << 2), 1u << 2);
    memcpy(e.mem + 100, "xyz", 3);
    put32(e.mem + 0, 100);
    put32(e.mem + 4, 3);
    ck_assert_int_eq(CALL(&e, "fd_write", 1, 0, 1, 16), E_SUCCESS);
    ck_assert_int_eq(CALL(&e, "fd_tell", 1, 24), E_SUCCESS);
    ck_assert_uint_eq(get64(e.mem + 24), 3);
    ck_assert_int_eq(call(&e, "fd_seek", 4, (uint64_t[]){1, 1, 0, 24}, 1, NULL), E_SUCCESS);
    ck_assert_uint_eq(get64(e.mem + 24), 1);
    ck_assert_int_eq(call(&e, "fd_seek", 4, (uint64_t[]){1, 0, 7, 24}, 1, NULL), E_INVAL);
    env_close(&e);
    fclose(f);
}
END_TEST

/* ---- args, environ, clock, exit ---- */

START_TEST(args_and_environ_layout)
{
    static const char *const argv[] = {"prog", "a", "bc"};
    static const char *const envp[] = {"K=V"};
    lw_wasi_config cfg = {.argc = 3, .argv = argv, .envc = 1, .envp = envp,
                          .stdin_fd = 0, .stdout_fd = 1, .stderr_fd = 2};
    Env e;
    env_open(&e, forward_wat, &cfg);
    ck_assert_int_eq(CALL(&e, "args_sizes_get", 0, 4), E_SUCCESS);
    ck_assert_uint_eq(get32(e.mem + 0), 3);
    ck_assert_uint_eq(get32(e.mem + 4), 10);            /* "prog\0a\0bc\0" */
    ck_assert_int_eq(CALL(&e, "args_get", 100, 200), E_SUCCESS);
    ck_assert_uint_eq(get32(e.mem + 100), 200);
    ck_assert_uint_eq(get32(e.mem + 104), 205);
    ck_assert_uint_eq(get32(e.mem + 108), 207);
    ck_assert_mem_eq(e.mem + 200, "prog\0a\0bc\0", 10);
    ck_assert_int_eq(CALL(&e, "args_get", 65532, 200), E_FAULT);
    ck_assert_int_eq(CALL(&e, "args_get", 100, 65530), E_FAULT);

    ck_assert_int_eq(CALL(&e, "environ_sizes_get", 0, 4), E_SUCCESS);
    ck_assert_uint_eq(get32(e.mem + 0), 1);
    ck_assert_uint_eq(get32(e.mem + 4), 4);
    ck_assert_int_eq(CALL(&e, "environ_get", 300, 400), E_SUCCESS);
    ck_assert_uint_eq(get32(e.mem + 300), 400);
    ck_assert_str_eq((const char *)e.mem + 400, "K=V");
    env_close(&e);
}
END_TEST

START_TEST(clock_and_exit)
{
    lw_wasi_config cfg = plain_config(1);
    Env e;
    env_open(&e, forward_wat, &cfg);
    ck_assert_int_eq(call(&e, "clock_time_get", 3, (uint64_t[]){1, 0, 0}, 1, NULL), E_SUCCESS);
    ck_assert_int_eq(call(&e, "clock_time_get", 3, (uint64_t[]){1, 0, 8}, 1, NULL), E_SUCCESS);
    ck_assert_uint_ge(get64(e.mem + 8), get64(e.mem + 0)); /* monotonic */
    ck_assert_int_eq(call(&e, "clock_time_get", 3, (uint64_t[]){0, 0, 16}, 1, NULL), E_SUCCESS);
    ck_assert_uint_gt(get64(e.mem + 16), 1600000000ull * 1000000000ull); /* realtime, in ns */
    ck_assert_int_eq(call(&e, "clock_time_get", 3, (uint64_t[]){4, 0, 0}, 1, NULL), E_INVAL);

    lw_status st;
    call(&e, "proc_exit", 1, (uint64_t[]){42}, -1, &st);
    ck_assert_int_eq(st, LW_EXIT);
    ck_assert_int_eq(lw_exec_exit_code(e.ex), 42);
    env_close(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wasi");
    TCase *tc = tcase_create("wasi");
    tcase_add_test(tc, write_gathers_iovecs);
    tcase_add_test(tc, write_bad_iovec_writes_nothing);
    tcase_add_test(tc, close_then_write_is_ebadf);
    tcase_add_test(tc, no_memory_is_efault);
    tcase_add_test(tc, read_stdin);
    tcase_add_test(tc, read_into_own_iovecs);
    tcase_add_test(tc, seek_and_fdstat);
    tcase_add_test(tc, args_and_environ_layout);
    tcase_add_test(tc, clock_and_exit);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
