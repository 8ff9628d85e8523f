/*
 * Bad pointers and lengths from the guest: every WASI call must check
 * them.  argv[1] names one case; the program makes that one call with a
 * pointer or length outside its linear memory and prints
 *
 *   NAME: ERRNO
 *
 * The test accepts EFAULT, or the process killed with a clear message
 * (the issue allows either), and nothing else: no other errno, no success,
 * and above all no crash of the runtime.  One case a run, since a killed
 * process runs no further.
 */
#include "common.h"

WASI_IMPORT("fd_write") int32_t raw_write(int32_t fd, int32_t iovs, int32_t n, int32_t out);
WASI_IMPORT("fd_read") int32_t raw_read(int32_t fd, int32_t iovs, int32_t n, int32_t out);
WASI_IMPORT("path_open")
int32_t raw_open(int32_t fd, int32_t dirflags, int32_t path, int32_t len, int32_t oflags, int64_t base,
                 int64_t inheriting, int32_t fdflags, int32_t out);
WASI_IMPORT("args_get") int32_t raw_args_get(int32_t argv, int32_t buf);
WASI_IMPORT("environ_get") int32_t raw_environ_get(int32_t env, int32_t buf);
WASI_IMPORT("clock_time_get") int32_t raw_clock_time_get(int32_t id, int64_t precision, int32_t out);
WASI_IMPORT("random_get") int32_t raw_random_get(int32_t buf, int32_t len);
WASI_IMPORT("poll_oneoff") int32_t raw_poll_oneoff(int32_t in, int32_t out, int32_t n, int32_t nevents);
WASI_IMPORT("fd_readdir") int32_t raw_readdir(int32_t fd, int32_t buf, int32_t len, int64_t cookie, int32_t used);
WASI_IMPORT("fd_prestat_dir_name") int32_t raw_prestat_dir_name(int32_t fd, int32_t buf, int32_t len);
WASI_IMPORT("path_readlink")
int32_t raw_readlink(int32_t fd, int32_t path, int32_t len, int32_t buf, int32_t buf_len, int32_t used);
WASI_IMPORT("fd_filestat_get") int32_t raw_fd_filestat_get(int32_t fd, int32_t out);

/* Beyond any memory a wasm32 program can have: the last 16 bytes of the
   4 GiB address space, and a range that wraps past its end. */
#define OOB ((int32_t)0xfffffff0)

static int32_t iov_ok[2];      /* one iovec: a valid buffer, a valid length */
static char data[64];
static int32_t out_ok[4];

static int run(const char *name)
{
    int32_t p_iov = (int32_t)(uintptr_t)iov_ok, p_out = (int32_t)(uintptr_t)out_ok;
    iov_ok[0] = (int32_t)(uintptr_t)data;
    iov_ok[1] = 4;
    memcpy(data, "bad\n", 4);
    if (!strcmp(name, "fd_write_iovs"))
        return raw_write(1, OOB, 1, p_out);
    if (!strcmp(name, "fd_write_iovs_len"))   /* 2^28 iovecs of 8 bytes: 2 GiB of them */
        return raw_write(1, p_iov, 0x10000000, p_out);
    if (!strcmp(name, "fd_write_buf")) {
        iov_ok[0] = OOB;
        iov_ok[1] = 0x100;   /* wraps past 4 GiB */
        return raw_write(1, p_iov, 1, p_out);
    }
    if (!strcmp(name, "fd_write_len")) {
        iov_ok[1] = 0x7fffffff;
        return raw_write(1, p_iov, 1, p_out);
    }
    if (!strcmp(name, "fd_write_result"))
        return raw_write(1, p_iov, 1, OOB);
    if (!strcmp(name, "fd_read_buf")) {
        iov_ok[0] = OOB;
        iov_ok[1] = 0x100;
        return raw_read(0, p_iov, 1, p_out);
    }
    if (!strcmp(name, "path_open_path"))
        return raw_open(3, 0, OOB, 100, 0, __WASI_RIGHTS_FD_READ, 0, 0, p_out);
    if (!strcmp(name, "path_open_len"))
        return raw_open(3, 0, (int32_t)(uintptr_t)data, 0x7fffffff, 0, __WASI_RIGHTS_FD_READ, 0, 0, p_out);
    if (!strcmp(name, "path_open_result")) {
        memcpy(data, ".", 2);
        return raw_open(3, 0, (int32_t)(uintptr_t)data, 1, __WASI_OFLAGS_DIRECTORY, 0, 0, 0, OOB);
    }
    if (!strcmp(name, "args_get"))
        return raw_args_get(OOB, OOB);
    if (!strcmp(name, "environ_get"))
        return raw_environ_get(OOB, OOB);
    if (!strcmp(name, "clock_time_get"))
        return raw_clock_time_get(1, 1, OOB);
    if (!strcmp(name, "random_get"))
        return raw_random_get(OOB, 0x100);
    if (!strcmp(name, "poll_oneoff_in"))
        return raw_poll_oneoff(OOB, p_out, 1, p_out);
    if (!strcmp(name, "poll_oneoff_out")) {
        static __wasi_subscription_t s;
        s.u.tag = __WASI_EVENTTYPE_CLOCK;
        s.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        return raw_poll_oneoff((int32_t)(uintptr_t)&s, OOB, 1, p_out);
    }
    if (!strcmp(name, "poll_oneoff_count"))   /* 2^26 subscriptions of 48 bytes */
        return raw_poll_oneoff((int32_t)(uintptr_t)data, (int32_t)(uintptr_t)data, 0x4000000, p_out);
    if (!strcmp(name, "fd_readdir_buf"))
        return raw_readdir(3, OOB, 0x100, 0, p_out);
    if (!strcmp(name, "fd_prestat_dir_name"))
        return raw_prestat_dir_name(3, OOB, 1);
    if (!strcmp(name, "path_readlink_buf")) {
        memcpy(data, "lnk", 4);
        return raw_readlink(3, (int32_t)(uintptr_t)data, 3, OOB, 0x100, p_out);
    }
    if (!strcmp(name, "fd_filestat_get"))
        return raw_fd_filestat_get(3, OOB);
    printf("unknown case %s\n", name);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("usage: badptr CASE\n");
        return 2;
    }
    int e = run(argv[1]);
    printf("%s: %s\n", argv[1], errname(e));
    return 0;
}
