/*
 * Tests of the confined path resolver (src/wasi/path.c).
 *
 * A sandbox in a mkdtemp directory: root/ is the "preopen", and beside it
 * outside/ holds what no resolution may ever reach.  root/ holds files,
 * directories and symlinks of every kind: inside, climbing out, absolute,
 * chained, looping.
 *
 * Every test is a loop test run twice: _i == 0 with openat2 where the kernel
 * has it, _i == 1 with the walker forced.  On a kernel without openat2 both
 * passes use the walker (t_strategy checks which one ran); nothing is
 * skipped either way.
 *
 * Every test also checks that it ends with as many open fds as it began.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "wasi/path.h"

static char g_tmp[PATH_MAX];           /* the sandbox */
static int g_rootfd = -1;              /* root/, O_RDONLY|O_DIRECTORY */
static struct stat g_outside_st, g_secret_st, g_outf_st, g_slash_st;
static bool g_kernel_openat2;          /* asked directly, not through path.c */
static bool g_exchange;                /* renameat2(RENAME_EXCHANGE) works in the sandbox */

/* ---- helpers ---- */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static const char *strategy(void)
{
    return path_uses_openat2() ? "openat2" : "walker";
}

static const char *errname(int e)
{
    return e == PATH_ENOTCAPABLE ? "ENOTCAPABLE" : e == 0 ? "success" : strerror(e);
}

/* Each test starts with BEGIN (picks the strategy from the loop index and
   counts fds) and ends with END (no fd leaked). */
#define BEGIN()                                   \
    path_force_walker(_i == 1);                   \
    int fds_at_start_ = count_fds()
#define END() ck_assert_int_eq(count_fds(), fds_at_start_)

static bool same(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Nothing a resolution returns may be outside root/. */
static bool outside(int fd)
{
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    return same(&st, &g_outside_st) || same(&st, &g_secret_st) || same(&st, &g_outf_st) ||
           same(&st, &g_slash_st);
}

/* The file a sandbox path names (relative to g_tmp), not following it. */
static struct stat lstat_tmp(const char *rel)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", g_tmp, rel);
    struct stat st;
    ck_assert_msg(lstat(p, &st) == 0, "lstat %s: %s", p, strerror(errno));
    return st;
}

static bool exists_tmp(const char *rel)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", g_tmp, rel);
    struct stat st;
    return lstat(p, &st) == 0;
}

static void assert_is(int fd, const char *rel)
{
    struct stat st, want = lstat_tmp(rel);
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_msg(same(&st, &want), "[%s] fd is not %s", strategy(), rel);
}

static void assert_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    ck_assert_int_ge(fl, 0);
    ck_assert_msg(fl & FD_CLOEXEC, "fd without O_CLOEXEC");
}

static int open_ok_len(const char *p, size_t len, int flags, bool follow)
{
    int fd = 12345;
    int err = path_open_beneath(g_rootfd, p, len, flags, 0640, follow, &fd);
    ck_assert_msg(err == 0, "[%s] open \"%.*s\" flags %#o follow %d: %s", strategy(), (int)len, p, flags,
                  follow, errname(err));
    ck_assert_int_ge(fd, 0);
    assert_cloexec(fd);
    ck_assert_msg(!outside(fd), "[%s] \"%s\" escaped", strategy(), p);
    return fd;
}

static int open_ok(const char *p, int flags, bool follow)
{
    return open_ok_len(p, strlen(p), flags, follow);
}

static void open_err_len(const char *p, size_t len, int flags, bool follow, int want)
{
    int fd = 12345;
    int err = path_open_beneath(g_rootfd, p, len, flags, 0640, follow, &fd);
    if (err == 0)
        close(fd);
    ck_assert_msg(err == want, "[%s] open \"%.*s\" flags %#o follow %d: got %s, want %s", strategy(),
                  (int)len, p, flags, follow, errname(err), errname(want));
    ck_assert_int_eq(fd, -1);
}

static void open_err(const char *p, int flags, bool follow, int want)
{
    open_err_len(p, strlen(p), flags, follow, want);
}

/* Opens p (following), checks its contents, closes it. */
static void reads(const char *p, const char *want)
{
    int fd = open_ok(p, O_RDONLY, true);
    char buf[64] = { 0 };
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    ck_assert_int_eq(n, (ssize_t)strlen(want));
    ck_assert_str_eq(buf, want);
}

/* path_parent_beneath, expecting success: returns the parent fd. */
static int parent_ok_len(const char *p, size_t len, const char *want_name, bool want_slash)
{
    int fd = 12345;
    char name[256];
    bool slash = !want_slash;
    int err = path_parent_beneath(g_rootfd, p, len, &fd, name, &slash);
    ck_assert_msg(err == 0, "[%s] parent \"%.*s\": %s", strategy(), (int)len, p, errname(err));
    ck_assert_int_ge(fd, 0);
    assert_cloexec(fd);
    ck_assert_msg(!outside(fd), "[%s] parent of \"%s\" escaped", strategy(), p);
    ck_assert_str_eq(name, want_name);
    ck_assert_int_eq(slash, want_slash);
    return fd;
}

static int parent_ok(const char *p, const char *want_name, bool want_slash)
{
    return parent_ok_len(p, strlen(p), want_name, want_slash);
}

static void parent_err_len(const char *p, size_t len, int want)
{
    int fd = 12345;
    char name[256];
    bool slash;
    int err = path_parent_beneath(g_rootfd, p, len, &fd, name, &slash);
    if (err == 0)
        close(fd);
    ck_assert_msg(err == want, "[%s] parent \"%.*s\": got %s, want %s", strategy(), (int)len, p,
                  errname(err), errname(want));
    ck_assert_int_eq(fd, -1);
}

static void parent_err(const char *p, int want)
{
    parent_err_len(p, strlen(p), want);
}

/* ---- the strategy flags ---- */

START_TEST(t_strategy)
{
    BEGIN();
    if (_i == 1)
        ck_assert(!path_uses_openat2());
    else
        ck_assert_int_eq(path_uses_openat2(), g_kernel_openat2);
    path_force_walker(false);
    ck_assert_int_eq(path_uses_openat2(), g_kernel_openat2);
    path_force_walker(true);
    ck_assert(!path_uses_openat2());
    END();
}
END_TEST

/* ---- path_open_beneath ---- */

START_TEST(t_basic)
{
    BEGIN();
    reads("file", "hello");
    reads("sub/file", "subfile");
    reads("./sub/../file", "hello");
    reads("sub//file", "subfile");
    reads("sub/./deeper/../file", "subfile");
    reads("sub/deeper/../../file", "hello");
    /* len counts, not the NUL: "fileXYZ" cut to 4 bytes is "file" */
    int fd = open_ok_len("fileXYZ", 4, O_RDONLY, true);
    assert_is(fd, "root/file");
    close(fd);
    fd = open_ok("sub", O_RDONLY | O_DIRECTORY, true);
    assert_is(fd, "root/sub");
    close(fd);
    fd = open_ok("sub/deeper/x", O_PATH, true);
    assert_is(fd, "root/sub/deeper/x");
    close(fd);
    /* writing through a resolved fd */
    fd = open_ok("sub/deeper/x", O_WRONLY | O_TRUNC, true);
    ck_assert_int_eq(write(fd, "x", 1), 1);
    close(fd);
    open_err("missing", O_RDONLY, true, ENOENT);
    open_err("sub/missing", O_RDONLY, true, ENOENT);
    open_err("missing/file", O_RDONLY, true, ENOENT);
    open_err("file/x", O_RDONLY, true, ENOTDIR);
    END();
}
END_TEST

START_TEST(t_refused_inputs)
{
    BEGIN();
    open_err_len("", 0, O_RDONLY, true, ENOENT);
    open_err_len("file", 0, O_RDONLY, true, ENOENT);
    open_err_len("fi\0le", 5, O_RDONLY, true, EINVAL);
    open_err_len("file\0", 5, O_RDONLY, true, EINVAL);
    open_err_len("\0", 1, O_RDONLY, true, EINVAL);
    open_err("/", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("/etc/passwd", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("//file", O_RDONLY, true, PATH_ENOTCAPABLE);
    char abs[PATH_MAX * 2];
    snprintf(abs, sizeof abs, "%s/root/file", g_tmp);   /* even when it names something inside */
    open_err(abs, O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("/x", O_CREAT | O_WRONLY, true, PATH_ENOTCAPABLE);

    /* PATH_MAX bytes or more: ENAMETOOLONG; just below is fine */
    static char longp[PATH_MAX + 8];
    memset(longp, 0, sizeof longp);
    for (size_t i = 0; i + 2 <= PATH_MAX - 5; i += 2)
        memcpy(longp + i, "./", 2);
    size_t n = strlen(longp);
    memcpy(longp + n, "file", 5);
    ck_assert_uint_lt(strlen(longp), PATH_MAX);
    int fd = open_ok(longp, O_RDONLY, true);
    assert_is(fd, "root/file");
    close(fd);
    memset(longp, 'a', PATH_MAX);
    longp[PATH_MAX] = '\0';
    open_err(longp, O_RDONLY, true, ENAMETOOLONG);
    END();
}
END_TEST

START_TEST(t_dotdot)
{
    BEGIN();
    open_err("..", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("../", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("../outside/secret", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("sub/../../outside/secret", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("sub/deeper/../../../outside", O_RDONLY, true, PATH_ENOTCAPABLE);
    /* out and back in is still out */
    open_err("../root/file", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("sub/../../root/file", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("./../root", O_RDONLY, true, PATH_ENOTCAPABLE);
    /* O_CREAT outside creates nothing */
    open_err("../outside/created_by_dotdot", O_CREAT | O_WRONLY, true, PATH_ENOTCAPABLE);
    ck_assert(!exists_tmp("outside/created_by_dotdot"));
    /* ".." that stays inside */
    int fd = open_ok("sub/..", O_RDONLY | O_DIRECTORY, true);
    assert_is(fd, "root");
    close(fd);
    fd = open_ok("sub/deeper/..", O_PATH, true);
    assert_is(fd, "root/sub");
    close(fd);
    reads("sub/../sub/deeper/../file", "subfile");
    END();
}
END_TEST

START_TEST(t_symlinks)
{
    BEGIN();
    reads("in", "subfile");                          /* in -> sub/file */
    reads("subl/file", "subfile");                   /* subl -> sub */
    reads("subl/deeper/../file", "subfile");
    reads("subl/../file", "hello");                  /* ".." of sub, where subl led */
    reads("sub/back", "hello");                      /* sub/back -> ../file */
    reads("selfdir/selfdir/file", "hello");          /* selfdir -> . */
    int fd = open_ok("subl", O_RDONLY | O_DIRECTORY, true);
    assert_is(fd, "root/sub");
    close(fd);
    /* out */
    open_err("up", O_RDONLY, true, PATH_ENOTCAPABLE);              /* ../outside/secret */
    open_err("abs", O_RDONLY, true, PATH_ENOTCAPABLE);             /* absolute, to outside/secret */
    open_err("absdir/secret", O_RDONLY, true, PATH_ENOTCAPABLE);   /* absolute, to outside/ */
    open_err("absin", O_RDONLY, true, PATH_ENOTCAPABLE);           /* absolute, even to root/file */
    open_err("chain1", O_RDONLY, true, PATH_ENOTCAPABLE);          /* -> chain2 -> ../outside */
    open_err("chain1/secret", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("root_link", O_RDONLY, true, PATH_ENOTCAPABLE);       /* -> / */
    open_err("root_link/etc/passwd", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("dotdot", O_RDONLY, true, PATH_ENOTCAPABLE);          /* -> .. */
    open_err("dotdot/outside/secret", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("dotdot/root/file", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("sub/out/secret", O_RDONLY, true, PATH_ENOTCAPABLE);  /* -> ../../outside */
    open_err("comeback", O_RDONLY, true, PATH_ENOTCAPABLE);        /* -> ../root/file */
    open_err("subl/out/secret", O_RDONLY, true, PATH_ENOTCAPABLE);
    open_err("up", O_PATH, true, PATH_ENOTCAPABLE);
    open_err("chain1/", O_PATH | O_DIRECTORY, true, PATH_ENOTCAPABLE);
    /* loops and long chains: 40 links are followed, the 41st is ELOOP */
    open_err("loop1", O_RDONLY, true, ELOOP);
    open_err("loop1/x", O_RDONLY, true, ELOOP);
    reads("n0", "hello");                            /* n0 -> n1 -> ... -> n39 -> file */
    open_err("m0", O_RDONLY, true, ELOOP);           /* m0 -> ... -> m40 -> file */
    open_err("m0", O_PATH, true, ELOOP);
    END();
}
END_TEST

START_TEST(t_nofollow)
{
    BEGIN();
    open_err("in", O_RDONLY, false, ELOOP);
    open_err("in", O_RDONLY | O_NOFOLLOW, true, ELOOP);     /* the flag wins over follow */
    open_err("up", O_RDONLY, false, ELOOP);
    open_err("loop1", O_RDONLY, false, ELOOP);
    /* with O_PATH the link itself opens: it is inside, wherever it points */
    const char *links[] = { "in", "up", "abs", "root_link", "dotdot", "loop1", "subl" };
    for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
        int fd = open_ok(links[i], O_PATH, false);
        char rel[64];
        snprintf(rel, sizeof rel, "root/%s", links[i]);
        assert_is(fd, rel);
        close(fd);
        fd = open_ok(links[i], O_PATH | O_NOFOLLOW, true);
        assert_is(fd, rel);
        close(fd);
    }
    /* links in the middle are still followed */
    reads("subl/file", "subfile");
    int fd = open_ok("subl/file", O_RDONLY, false);
    assert_is(fd, "root/sub/file");
    close(fd);
    open_err("up/x", O_RDONLY, false, PATH_ENOTCAPABLE);
    open_err("chain1/secret", O_PATH, false, PATH_ENOTCAPABLE);
    /* a trailing slash follows even so (as open(2)) */
    fd = open_ok("subl/", O_RDONLY, false);
    assert_is(fd, "root/sub");
    close(fd);
    open_err("chain1/", O_RDONLY, false, PATH_ENOTCAPABLE);
    open_err("in/", O_RDONLY, false, ENOTDIR);
    END();
}
END_TEST

START_TEST(t_directory)
{
    BEGIN();
    open_err("file", O_RDONLY | O_DIRECTORY, true, ENOTDIR);
    open_err("file/", O_RDONLY, true, ENOTDIR);
    open_err("file/.", O_RDONLY, true, ENOTDIR);
    open_err("file/..", O_RDONLY, true, ENOTDIR);
    open_err("in", O_RDONLY | O_DIRECTORY, true, ENOTDIR);
    open_err("in/", O_RDONLY, true, ENOTDIR);
    /* O_DIRECTORY|O_NOFOLLOW on a link to a directory: ENOTDIR, as open(2) */
    open_err("subl", O_RDONLY | O_DIRECTORY, false, ENOTDIR);
    open_err("sub", O_WRONLY, true, EISDIR);
    open_err("sub/", O_RDWR, true, EISDIR);
    int fd = open_ok("sub/", O_RDONLY, true);
    assert_is(fd, "root/sub");
    close(fd);
    fd = open_ok("subl//", O_PATH, true);
    assert_is(fd, "root/sub");
    close(fd);
    fd = open_ok("sub", O_PATH | O_DIRECTORY, true);
    assert_is(fd, "root/sub");
    close(fd);
    END();
}
END_TEST

START_TEST(t_dot_last)
{
    BEGIN();
    int fd = open_ok(".", O_RDONLY | O_DIRECTORY, true);
    assert_is(fd, "root");
    close(fd);
    fd = open_ok("./", O_PATH, true);
    assert_is(fd, "root");
    close(fd);
    fd = open_ok("sub/.", O_RDONLY, true);
    assert_is(fd, "root/sub");
    close(fd);
    fd = open_ok("subl/.", O_RDONLY, false);
    assert_is(fd, "root/sub");
    close(fd);
    fd = open_ok("sub/deeper/..", O_RDONLY, true);
    assert_is(fd, "root/sub");
    close(fd);
    fd = open_ok("./././.", O_PATH, true);
    assert_is(fd, "root");
    close(fd);
    open_err(".", O_WRONLY, true, EISDIR);
    END();
}
END_TEST

START_TEST(t_create)
{
    BEGIN();
    char p[64], rel[64];
    /* a new file, with its mode */
    snprintf(p, sizeof p, "new%d", _i);
    snprintf(rel, sizeof rel, "root/new%d", _i);
    int fd = open_ok(p, O_CREAT | O_WRONLY | O_EXCL, true);
    ck_assert_int_eq(write(fd, "abc", 3), 3);
    close(fd);
    struct stat st = lstat_tmp(rel);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(st.st_mode & 07777, 0640);
    ck_assert_int_eq(st.st_size, 3);
    /* again: O_EXCL says EEXIST, without it the file opens */
    open_err(p, O_CREAT | O_WRONLY | O_EXCL, true, EEXIST);
    fd = open_ok(p, O_CREAT | O_RDONLY, true);
    assert_is(fd, rel);
    close(fd);
    open_err("file", O_CREAT | O_EXCL | O_WRONLY, true, EEXIST);
    /* O_EXCL never follows: a link is "existing" */
    open_err("in", O_CREAT | O_EXCL | O_WRONLY, true, EEXIST);
    open_err("up", O_CREAT | O_EXCL | O_WRONLY, true, EEXIST);
    /* in a subdirectory, and through a link to one */
    snprintf(p, sizeof p, "subl/new%d", _i);
    snprintf(rel, sizeof rel, "root/sub/new%d", _i);
    fd = open_ok(p, O_CREAT | O_WRONLY, true);
    assert_is(fd, rel);
    close(fd);
    /* through a dangling link inside: creates its target */
    snprintf(p, sizeof p, "dangling%d", _i);
    snprintf(rel, sizeof rel, "root/target%d", _i);
    ck_assert(!exists_tmp(rel));
    open_err(p, O_CREAT | O_WRONLY, false, ELOOP);          /* not following: refused */
    ck_assert(!exists_tmp(rel));
    fd = open_ok(p, O_CREAT | O_WRONLY, true);
    assert_is(fd, rel);
    close(fd);
    /* through a link out: refused, nothing created */
    open_err("dang_out", O_CREAT | O_WRONLY, true, PATH_ENOTCAPABLE);
    ck_assert(!exists_tmp("outside/created"));
    open_err("up", O_CREAT | O_WRONLY, true, PATH_ENOTCAPABLE);
    open_err("absdir/created", O_CREAT | O_WRONLY, true, PATH_ENOTCAPABLE);
    ck_assert(!exists_tmp("outside/created"));
    open_err("chain1/created", O_CREAT | O_WRONLY, true, PATH_ENOTCAPABLE);
    ck_assert(!exists_tmp("outside/created"));
    /* the errors of open(2) */
    open_err("missing/new", O_CREAT | O_WRONLY, true, ENOENT);
    open_err("file/new", O_CREAT | O_WRONLY, true, ENOTDIR);
    open_err("newdir/", O_CREAT | O_WRONLY, true, EISDIR);
    ck_assert(!exists_tmp("root/newdir"));
    open_err("file/", O_CREAT | O_RDONLY, true, EISDIR);
    open_err("sub/", O_CREAT | O_RDONLY, true, EISDIR);
    open_err("sub/.", O_CREAT | O_RDONLY, true, EISDIR);
    open_err("sub/.", O_CREAT | O_EXCL | O_RDONLY, true, EEXIST);
    open_err("sub", O_CREAT | O_WRONLY, true, EISDIR);
    END();
}
END_TEST

START_TEST(t_name_max)
{
    BEGIN();
    char name[NAME_MAX + 8];
    memset(name, 'a' + _i, NAME_MAX);
    name[NAME_MAX] = '\0';
    int fd = open_ok(name, O_CREAT | O_WRONLY | O_EXCL, true);
    close(fd);
    char p[NAME_MAX + 16];
    snprintf(p, sizeof p, "root/%s", name);
    ck_assert(exists_tmp(p));
    name[NAME_MAX] = 'a';
    name[NAME_MAX + 1] = '\0';
    open_err(name, O_CREAT | O_WRONLY, true, ENAMETOOLONG);
    open_err(name, O_RDONLY, true, ENAMETOOLONG);
    snprintf(p, sizeof p, "sub/%s/x", name);
    open_err(p, O_RDONLY, true, ENAMETOOLONG);
    END();
}
END_TEST

/* Deeper than the walker's first 16 fds: its stack grows. */
START_TEST(t_deep)
{
    BEGIN();
    char p[256] = "deep";
    for (int i = 0; i < 40; i++)
        strcat(p, "/d");
    strcat(p, "/bottom");
    reads(p, "bottom");
    /* 40 levels down, 40 up, and one more is out */
    strcpy(p, "deep");
    for (int i = 0; i < 40; i++)
        strcat(p, "/d");
    for (int i = 0; i < 40; i++)
        strcat(p, "/..");
    int fd = open_ok(p, O_PATH, true);
    assert_is(fd, "root/deep");
    close(fd);
    strcat(p, "/../..");
    open_err(p, O_PATH, true, PATH_ENOTCAPABLE);
    strcat(p, "/root");
    parent_err(p, PATH_ENOTCAPABLE);
    END();
}
END_TEST

/* A preopen held as an O_PATH fd works the same. */
START_TEST(t_opath_dirfd)
{
    BEGIN();
    int dfd = openat(g_rootfd, "sub", O_PATH | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(dfd, 0);
    int fd = -2;
    ck_assert_int_eq(path_open_beneath(dfd, "file", 4, O_RDONLY, 0, true, &fd), 0);
    assert_is(fd, "root/sub/file");
    close(fd);
    ck_assert_int_eq(path_open_beneath(dfd, "deeper/..", 9, O_PATH, 0, true, &fd), 0);
    assert_is(fd, "root/sub");
    close(fd);
    /* sub is now the top: its ".." is out, and so is back -> ../file */
    ck_assert_int_eq(path_open_beneath(dfd, "..", 2, O_RDONLY, 0, true, &fd), PATH_ENOTCAPABLE);
    ck_assert_int_eq(path_open_beneath(dfd, "back", 4, O_RDONLY, 0, true, &fd), PATH_ENOTCAPABLE);
    ck_assert_int_eq(path_open_beneath(dfd, "../sub/file", 11, O_RDONLY, 0, true, &fd), PATH_ENOTCAPABLE);
    char name[256];
    bool slash;
    ck_assert_int_eq(path_parent_beneath(dfd, "back", 4, &fd, name, &slash), 0);
    assert_is(fd, "root/sub");
    ck_assert_str_eq(name, "back");
    close(fd);
    ck_assert_int_eq(path_parent_beneath(dfd, "back/x", 6, &fd, name, &slash), PATH_ENOTCAPABLE);
    ck_assert_int_eq(path_parent_beneath(dfd, "..", 2, &fd, name, &slash), PATH_ENOTCAPABLE);
    close(dfd);
    END();
}
END_TEST

/* The walker splices a link's target in front of the rest of the path and
   keeps the whole below PATH_MAX; the kernel holds them apart, so openat2
   takes what the walker refuses. */
START_TEST(t_splice_bound)
{
    BEGIN();
    static char p[PATH_MAX];
    memset(p, 0, sizeof p);
    strcpy(p, "longlink/");                 /* longlink -> ./././... (4000 bytes) sub */
    for (size_t i = strlen(p); i + 2 < 300; i += 2)
        memcpy(p + i, "./", 2);
    strcat(p, "file");
    if (path_uses_openat2()) {
        reads(p, "subfile");
    } else {
        open_err(p, O_RDONLY, true, ENAMETOOLONG);
        reads("longlink/file", "subfile");
    }
    END();
}
END_TEST

/* ---- path_parent_beneath ---- */

START_TEST(t_parent_basic)
{
    BEGIN();
    int fd = parent_ok("file", "file", false);
    assert_is(fd, "root");
    close(fd);
    fd = parent_ok("sub/file", "file", false);
    assert_is(fd, "root/sub");
    close(fd);
    fd = parent_ok("sub/deeper/x", "x", false);
    assert_is(fd, "root/sub/deeper");
    close(fd);
    fd = parent_ok("subl/file", "file", false);                  /* links on the way followed */
    assert_is(fd, "root/sub");
    close(fd);
    fd = parent_ok("sub/back/", "back", true);
    assert_is(fd, "root/sub");
    close(fd);
    fd = parent_ok_len("sub/fileXYZ", 8, "file", false);
    assert_is(fd, "root/sub");
    close(fd);
    /* the last component is not looked at: missing, or a link anywhere */
    fd = parent_ok("missing", "missing", false);
    assert_is(fd, "root");
    close(fd);
    const char *links[] = { "in", "up", "abs", "root_link", "dotdot", "loop1", "chain1" };
    for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
        fd = parent_ok(links[i], links[i], false);
        assert_is(fd, "root");
        close(fd);
    }
    fd = parent_ok("sub/out", "out", false);
    assert_is(fd, "root/sub");
    close(fd);
    /* trailing slashes */
    fd = parent_ok("file/", "file", true);
    assert_is(fd, "root");
    close(fd);
    fd = parent_ok("sub//", "sub", true);
    assert_is(fd, "root");
    close(fd);
    fd = parent_ok("sub/deeper///", "deeper", true);
    assert_is(fd, "root/sub");
    close(fd);
    fd = parent_ok("sub//deeper", "deeper", false);
    assert_is(fd, "root/sub");
    close(fd);
    /* "." and "..": the directory itself, name "." */
    fd = parent_ok(".", ".", false);
    assert_is(fd, "root");
    close(fd);
    fd = parent_ok("./", ".", true);
    assert_is(fd, "root");
    close(fd);
    fd = parent_ok("sub/.", ".", false);
    assert_is(fd, "root/sub");
    close(fd);
    fd = parent_ok("sub/..", ".", false);
    assert_is(fd, "root");
    close(fd);
    fd = parent_ok("sub/deeper/../", ".", true);
    assert_is(fd, "root/sub");
    close(fd);
    fd = parent_ok("subl/.", ".", false);
    assert_is(fd, "root/sub");
    close(fd);
    fd = parent_ok("sub/../sub/deeper/../x", "x", false);
    assert_is(fd, "root/sub");
    close(fd);
    END();
}
END_TEST

START_TEST(t_parent_refused)
{
    BEGIN();
    parent_err_len("", 0, ENOENT);
    parent_err_len("a\0b", 3, EINVAL);
    parent_err_len("sub/\0", 5, EINVAL);
    parent_err("/", PATH_ENOTCAPABLE);
    parent_err("/etc/passwd", PATH_ENOTCAPABLE);
    parent_err("/tmp", PATH_ENOTCAPABLE);
    parent_err("..", PATH_ENOTCAPABLE);
    parent_err("../", PATH_ENOTCAPABLE);
    parent_err("../x", PATH_ENOTCAPABLE);
    parent_err("../outside/secret", PATH_ENOTCAPABLE);
    parent_err("sub/../..", PATH_ENOTCAPABLE);
    parent_err("sub/../../x", PATH_ENOTCAPABLE);
    parent_err("sub/../../root/x", PATH_ENOTCAPABLE);
    parent_err("up/x", PATH_ENOTCAPABLE);
    parent_err("abs/x", PATH_ENOTCAPABLE);
    parent_err("absdir/secret", PATH_ENOTCAPABLE);
    parent_err("chain1/secret", PATH_ENOTCAPABLE);
    parent_err("chain1/.", PATH_ENOTCAPABLE);
    parent_err("root_link/etc", PATH_ENOTCAPABLE);
    parent_err("root_link/.", PATH_ENOTCAPABLE);
    parent_err("dotdot/x", PATH_ENOTCAPABLE);
    parent_err("dotdot/..", PATH_ENOTCAPABLE);
    parent_err("sub/out/x", PATH_ENOTCAPABLE);
    parent_err("comeback/x", PATH_ENOTCAPABLE);
    parent_err("loop1/x", ELOOP);
    parent_err("m0/x", ELOOP);
    parent_err("missing/x", ENOENT);
    parent_err("file/x", ENOTDIR);
    parent_err("file/.", ENOTDIR);
    parent_err("in/x", ENOTDIR);
    /* names: NAME_MAX bytes fit, one more does not */
    char p[NAME_MAX + 16];
    memset(p, 0, sizeof p);
    memcpy(p, "sub/", 4);
    memset(p + 4, 'n', NAME_MAX);
    int fd = parent_ok(p, p + 4, false);
    assert_is(fd, "root/sub");
    close(fd);
    p[4 + NAME_MAX] = 'n';
    parent_err(p, ENAMETOOLONG);
    p[4 + NAME_MAX + 1] = '/';
    parent_err(p, ENAMETOOLONG);
    END();
}
END_TEST

/* The *at calls take the parent fd as intended. */
START_TEST(t_parent_use)
{
    BEGIN();
    char p[64], name[256], rel[64];
    bool slash;
    int fd;
    snprintf(p, sizeof p, "subl/made%d/", _i);
    snprintf(rel, sizeof rel, "root/sub/made%d", _i);
    ck_assert_int_eq(path_parent_beneath(g_rootfd, p, strlen(p), &fd, name, &slash), 0);
    ck_assert(slash);
    ck_assert_int_eq(mkdirat(fd, name, 0755), 0);
    close(fd);
    ck_assert(S_ISDIR(lstat_tmp(rel).st_mode));
    /* a symlink made through the parent, then read back without following */
    snprintf(p, sizeof p, "sub/made%d/ln", _i);
    ck_assert_int_eq(path_parent_beneath(g_rootfd, p, strlen(p), &fd, name, &slash), 0);
    ck_assert(!slash);
    ck_assert_int_eq(symlinkat("../../outside/secret", fd, name), 0);
    char buf[64];
    ssize_t n = readlinkat(fd, name, buf, sizeof buf);
    ck_assert_int_eq(n, 20);
    struct stat st;
    ck_assert_int_eq(fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(unlinkat(fd, name, 0), 0);
    close(fd);
    /* rmdir of the directory made above */
    snprintf(p, sizeof p, "sub/made%d", _i);
    ck_assert_int_eq(path_parent_beneath(g_rootfd, p, strlen(p), &fd, name, &slash), 0);
    ck_assert_int_eq(unlinkat(fd, name, AT_REMOVEDIR), 0);
    close(fd);
    ck_assert(!exists_tmp(rel));
    END();
}
END_TEST

/* ---- threads ---- */

struct case_ {
    const char *path;
    int flags;
    bool follow;
    int err;       /* from path_open_beneath */
    int perr;      /* from path_parent_beneath */
};
static const struct case_ thread_cases[] = {
    { "file", O_RDONLY, true, 0, 0 },
    { "sub/deeper/x", O_RDONLY, true, 0, 0 },
    { "in", O_RDONLY, true, 0, 0 },
    { "subl/file", O_PATH, true, 0, 0 },
    { "up", O_RDONLY, true, PATH_ENOTCAPABLE, 0 },
    { "chain1/secret", O_RDONLY, true, PATH_ENOTCAPABLE, PATH_ENOTCAPABLE },
    { "sub/../../outside", O_RDONLY, true, PATH_ENOTCAPABLE, PATH_ENOTCAPABLE },
    { "loop1", O_RDONLY, true, ELOOP, 0 },
    { "loop1/x", O_RDONLY, true, ELOOP, ELOOP },
    { "in", O_RDONLY, false, ELOOP, 0 },
    { "missing", O_RDONLY, true, ENOENT, 0 },
    { "n0", O_RDONLY, true, 0, 0 },
};

/* Several threads resolve at once (TSan checks the sharing); each counts
   the answers that differ from the expected ones. */
static void *thread_main(void *arg)
{
    (void)arg;
    long bad = 0;
    for (int rep = 0; rep < 100; rep++)
        for (size_t i = 0; i < sizeof thread_cases / sizeof *thread_cases; i++) {
            const struct case_ *c = &thread_cases[i];
            int fd;
            int err = path_open_beneath(g_rootfd, c->path, strlen(c->path), c->flags, 0, c->follow, &fd);
            if (err != c->err)
                bad++;
            if (err == 0)
                close(fd);
            char name[256];
            bool slash;
            err = path_parent_beneath(g_rootfd, c->path, strlen(c->path), &fd, name, &slash);
            if (err != c->perr)
                bad++;
            if (err == 0)
                close(fd);
        }
    return (void *)bad;
}

START_TEST(t_threads)
{
    BEGIN();
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, NULL), 0);
    long bad = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad += (long)r;
    }
    ck_assert_int_eq(bad, 0);
    END();
}
END_TEST

/* ---- the race ---- */

/* A thread keeps swapping race/ (a real directory holding f) with swap (a
   link to ../outside, which also holds an f), and race2/ with swap2 (an
   absolute link to outside/), while this thread resolves paths through
   them.  No answer may ever be an fd outside; both outcomes must show up. */

static atomic_bool race_stop;

static void exchange(const char *a, const char *b)
{
    if (g_exchange) {
        ck_assert_int_eq(renameat2(g_rootfd, a, g_rootfd, b, RENAME_EXCHANGE), 0);
        return;
    }
    /* no RENAME_EXCHANGE here: three renames (with a moment of ENOENT) */
    ck_assert_int_eq(renameat(g_rootfd, a, g_rootfd, "swap_tmp"), 0);
    ck_assert_int_eq(renameat(g_rootfd, b, g_rootfd, a), 0);
    ck_assert_int_eq(renameat(g_rootfd, "swap_tmp", g_rootfd, b), 0);
}

static void *swapper(void *arg)
{
    (void)arg;
    while (!atomic_load(&race_stop)) {
        exchange("race", "swap");
        exchange("race2", "swap2");
    }
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

START_TEST(t_race)
{
    BEGIN();
    static const struct {
        const char *path;
        int flags;
        bool follow;
    } cases[] = {
        { "race/f", O_RDONLY, true },
        { "race2/f", O_RDONLY, true },
        { "race", O_RDONLY, true },
        { "race", O_RDONLY | O_DIRECTORY, true },
        { "race", O_PATH, true },
        { "race2", O_PATH | O_DIRECTORY, true },
        { "race/", O_RDONLY, false },
        { "race/../race/f", O_RDONLY, true },
        { "race/.", O_PATH, true },
        { "race2/../race2/f", O_RDONLY, false },
    };
    long ok = 0, refused = 0, other = 0;
    int other_err = 0;
    const char *other_path = "";
    atomic_store(&race_stop, false);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, swapper, NULL), 0);
    double t0 = now();
    /* at least 150 ms, and until both outcomes were seen (at most 2 s) */
    while (now() - t0 < 0.15 || ((ok == 0 || refused == 0) && now() - t0 < 2.0)) {
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            const char *p = cases[i].path;
            int fd;
            int err = path_open_beneath(g_rootfd, p, strlen(p), cases[i].flags, 0, cases[i].follow, &fd);
            if (err == 0) {
                ck_assert_msg(!outside(fd), "[%s] %s escaped in the race", strategy(), p);
                close(fd);
                ok++;
            } else if (err == PATH_ENOTCAPABLE) {
                refused++;
            } else if (!(err == ENOENT && !g_exchange)) {
                other++;
                other_err = err;
                other_path = p;
            }
            char name[256];
            bool slash;
            err = path_parent_beneath(g_rootfd, p, strlen(p), &fd, name, &slash);
            if (err == 0) {
                ck_assert_msg(!outside(fd), "[%s] parent of %s escaped in the race", strategy(), p);
                close(fd);
            } else if (err != PATH_ENOTCAPABLE && !(err == ENOENT && !g_exchange)) {
                other++;
                other_err = err;
                other_path = p;
            }
        }
    }
    atomic_store(&race_stop, true);
    pthread_join(th, NULL);
    /* leave race/ a directory for the other pass */
    struct stat st = lstat_tmp("root/race");
    if (S_ISLNK(st.st_mode))
        exchange("race", "swap");
    st = lstat_tmp("root/race2");
    if (S_ISLNK(st.st_mode))
        exchange("race2", "swap2");
    /* every answer is an fd inside, or ENOTCAPABLE: nothing else */
    ck_assert_msg(other == 0, "[%s] %ld unexpected errors, the last %s for %s", strategy(), other,
                  errname(other_err), other_path);
    ck_assert_msg(ok > 0 && refused > 0, "race not exercised: %ld ok, %ld refused", ok, refused);
    END();
}
END_TEST

/* ---- the sandbox ---- */

static void put(const char *rel, const char *text)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", g_tmp, rel);
    FILE *f = fopen(p, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(p);
        exit(2);
    }
}

static void dir(const char *rel)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", g_tmp, rel);
    if (mkdir(p, 0755) != 0) {
        perror(p);
        exit(2);
    }
}

static void link_(const char *target, const char *rel)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", g_tmp, rel);
    if (symlink(target, p) != 0) {
        perror(p);
        exit(2);
    }
}

static struct stat stat_or_die(const char *p)
{
    struct stat st;
    if (lstat(p, &st) != 0) {
        perror(p);
        exit(2);
    }
    return st;
}

static void make_sandbox(void)
{
    umask(022);
    strcpy(g_tmp, "/tmp/test_wasi_path.XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        exit(2);
    }
    dir("outside");
    put("outside/secret", "SECRET");
    put("outside/f", "outside f");
    dir("root");
    put("root/file", "hello");
    dir("root/sub");
    put("root/sub/file", "subfile");
    dir("root/sub/deeper");
    put("root/sub/deeper/x", "x");
    link_("sub/file", "root/in");
    link_("../outside/secret", "root/up");
    char abs[PATH_MAX * 2];
    snprintf(abs, sizeof abs, "%s/outside/secret", g_tmp);
    link_(abs, "root/abs");
    snprintf(abs, sizeof abs, "%s/outside", g_tmp);
    link_(abs, "root/absdir");
    link_(abs, "root/swap2");
    snprintf(abs, sizeof abs, "%s/root/file", g_tmp);
    link_(abs, "root/absin");
    link_("chain2", "root/chain1");
    link_("../outside", "root/chain2");
    link_("/", "root/root_link");
    link_("..", "root/dotdot");
    link_("loop2", "root/loop1");
    link_("loop1", "root/loop2");
    link_("sub", "root/subl");
    link_(".", "root/selfdir");
    link_("../file", "root/sub/back");
    link_("../../outside", "root/sub/out");
    link_("../root/file", "root/comeback");
    link_("target0", "root/dangling0");
    link_("target1", "root/dangling1");
    link_("../outside/created", "root/dang_out");
    dir("root/race");
    put("root/race/f", "inside f");
    dir("root/race2");
    put("root/race2/f", "inside f2");
    link_("../outside", "root/swap");
    char a[32], b[32];
    for (int i = 0; i < 40; i++) {              /* n0 -> ... -> n39 -> file: 40 links */
        snprintf(a, sizeof a, "root/n%d", i);
        snprintf(b, sizeof b, "n%d", i + 1);
        link_(i == 39 ? "file" : b, a);
    }
    for (int i = 0; i < 41; i++) {              /* m0 -> ... -> m40 -> file: 41 links */
        snprintf(a, sizeof a, "root/m%d", i);
        snprintf(b, sizeof b, "m%d", i + 1);
        link_(i == 40 ? "file" : b, a);
    }
    char deep[256] = "root/deep";
    dir(deep);
    for (int i = 0; i < 40; i++) {
        strcat(deep, "/d");
        dir(deep);
    }
    strcat(deep, "/bottom");
    put(deep, "bottom");
    static char longt[4100];                    /* ./././... sub: 4000 bytes */
    for (size_t i = 0; i < 3996; i += 2)
        memcpy(longt + i, "./", 2);
    strcpy(longt + 3996, "sub");
    link_(longt, "root/longlink");

    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/root", g_tmp);
    g_rootfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (g_rootfd < 0) {
        perror(p);
        exit(2);
    }
    snprintf(p, sizeof p, "%s/outside", g_tmp);
    g_outside_st = stat_or_die(p);
    snprintf(p, sizeof p, "%s/outside/secret", g_tmp);
    g_secret_st = stat_or_die(p);
    snprintf(p, sizeof p, "%s/outside/f", g_tmp);
    g_outf_st = stat_or_die(p);
    g_slash_st = stat_or_die("/");

    /* Does this kernel have openat2?  (Asked here without path.c.) */
    struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH };
    long fd = syscall(SYS_openat2, g_rootfd, "sub", &how, sizeof how);
    g_kernel_openat2 = fd >= 0;
    if (fd >= 0)
        close((int)fd);
    /* Does the filesystem take RENAME_EXCHANGE?  (Twice: back as it was.) */
    g_exchange = renameat2(g_rootfd, "race", g_rootfd, "swap", RENAME_EXCHANGE) == 0 &&
                 renameat2(g_rootfd, "race", g_rootfd, "swap", RENAME_EXCHANGE) == 0;
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(p);
}

static Suite *path_suite(void)
{
    Suite *s = suite_create("wasi_path");
    TCase *tc = tcase_create("open");
    /* _i == 0: openat2 (where the kernel has it); _i == 1: the walker */
    tcase_add_loop_test(tc, t_strategy, 0, 2);
    tcase_add_loop_test(tc, t_basic, 0, 2);
    tcase_add_loop_test(tc, t_refused_inputs, 0, 2);
    tcase_add_loop_test(tc, t_dotdot, 0, 2);
    tcase_add_loop_test(tc, t_symlinks, 0, 2);
    tcase_add_loop_test(tc, t_nofollow, 0, 2);
    tcase_add_loop_test(tc, t_directory, 0, 2);
    tcase_add_loop_test(tc, t_dot_last, 0, 2);
    tcase_add_loop_test(tc, t_create, 0, 2);
    tcase_add_loop_test(tc, t_name_max, 0, 2);
    tcase_add_loop_test(tc, t_deep, 0, 2);
    tcase_add_loop_test(tc, t_opath_dirfd, 0, 2);
    tcase_add_loop_test(tc, t_splice_bound, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("parent");
    tcase_add_loop_test(tc, t_parent_basic, 0, 2);
    tcase_add_loop_test(tc, t_parent_refused, 0, 2);
    tcase_add_loop_test(tc, t_parent_use, 0, 2);
    suite_add_tcase(s, tc);
    tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 20);
    tcase_add_loop_test(tc, t_threads, 0, 2);
    tcase_add_loop_test(tc, t_race, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    make_sandbox();
    SRunner *sr = srunner_create(path_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    close(g_rootfd);
    nftw(g_tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
