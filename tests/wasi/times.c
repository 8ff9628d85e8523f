/*
 * File times: set to exact values, to the nanosecond, through every call
 * that sets them (utimensat by path, futimens by fd, on a symlink itself
 * with AT_SYMLINK_NOFOLLOW, and the raw calls with each flag), one time
 * alone or both, "now", then read back.
 *
 * Not compared with node: node's WASI (uvwasi) drops the fraction of a
 * second and refuses UTIME_NOW for both times, so the expected output here
 * is what POSIX and the WASI spec say.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static void print_times(const char *label, const struct stat *st)
{
    printf("%s: atime %lld.%09ld mtime %lld.%09ld\n", label, (long long)st->st_atim.tv_sec,
           st->st_atim.tv_nsec, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

int main(void)
{
    struct stat st;
    int fd = open("t.txt", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0);
    close(fd);

    struct timespec ts[2] = {{1000000000, 123456789}, {1500000000, 987654321}};
    show("utimensat", utimensat(AT_FDCWD, "t.txt", ts, 0));
    CHECK(stat("t.txt", &st) == 0);
    print_times("after utimensat", &st);

    fd = open("t.txt", O_RDWR);
    struct timespec ts2[2] = {{1234567890, 1}, {987654321, 999999999}};
    show("futimens", futimens(fd, ts2));
    CHECK(fstat(fd, &st) == 0);
    print_times("after futimens", &st);

    /* Leaving one time alone, and "now".  Through the raw calls: this
       wasi-libc (Debian's, 2022) turns UTIME_OMIT for mtime and UTIME_NOW
       into EINVAL itself, and a NULL times array into the epoch. */
    show_raw("fd_filestat_set_times mtime only",
             __wasi_fd_filestat_set_times((__wasi_fd_t)fd, 0, 1600000000000000005ull, __WASI_FSTFLAGS_MTIM));
    CHECK(fstat(fd, &st) == 0);
    print_times("after mtime only", &st);
    show_raw("path_filestat_set_times atime only",
             __wasi_path_filestat_set_times(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "t.txt", 1700000000000000007ull, 0,
                                            __WASI_FSTFLAGS_ATIM));
    CHECK(stat("t.txt", &st) == 0);
    print_times("after atime only", &st);
    /* The same through futimens with UTIME_OMIT for the atime, which this
       wasi-libc does pass on. */
    struct timespec omit_a[2] = {{0, UTIME_OMIT}, {1650000000, 3}};
    show("futimens omit atime", futimens(fd, omit_a));
    CHECK(fstat(fd, &st) == 0);
    print_times("after omit atime", &st);
    show_raw("fd_filestat_set_times both now",
             __wasi_fd_filestat_set_times((__wasi_fd_t)fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW));
    CHECK(fstat(fd, &st) == 0);
    printf("now is plausible: %d %d\n", st.st_atim.tv_sec > 1577836800 && st.st_atim.tv_sec < 4102444800,
           st.st_mtim.tv_sec > 1577836800 && st.st_mtim.tv_sec < 4102444800);
    show_raw("path_filestat_set_times mtime now, atime given",
             __wasi_path_filestat_set_times(3, 0, "t.txt", 1000000000000000000ull, 0,
                                            __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM_NOW));
    CHECK(stat("t.txt", &st) == 0);
    printf("atime given, mtime now: %lld.%09ld, %d\n", (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           st.st_mtim.tv_sec > 1577836800);
    /* ATIM with ATIM_NOW is a contradiction: EINVAL. */
    show_raw("fd_filestat_set_times ATIM and ATIM_NOW",
             __wasi_fd_filestat_set_times((__wasi_fd_t)fd, 5, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    close(fd);

    /* A nanosecond count of a second or more is EINVAL. */
    struct timespec bad[2] = {{1, 1000000000}, {1, 0}};
    show("utimensat tv_nsec 1e9", utimensat(AT_FDCWD, "t.txt", bad, 0));

    /* On a symlink itself: the link's times change, the target's do not. */
    CHECK(utimensat(AT_FDCWD, "t.txt", ts, 0) == 0);
    CHECK(symlink("t.txt", "link") == 0);
    struct timespec lts[2] = {{1100000000, 11}, {1200000000, 22}};
    show("utimensat link nofollow", utimensat(AT_FDCWD, "link", lts, AT_SYMLINK_NOFOLLOW));
    CHECK(lstat("link", &st) == 0);
    print_times("lstat link", &st);
    CHECK(stat("link", &st) == 0);
    print_times("stat link (the target)", &st);
    /* And through the link, following it: the target's change. */
    show("utimensat link follow", utimensat(AT_FDCWD, "link", ts2, 0));
    CHECK(stat("t.txt", &st) == 0);
    print_times("target after follow", &st);

    show("utimensat missing", utimensat(AT_FDCWD, "missing", ts, 0));
    printf("checks failed: %d\n", check_failures);
    return check_failures ? 1 : 0;
}
