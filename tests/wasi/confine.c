/*
 * Escape attempts: each tries to read, write, create, remove, link, rename
 * or stat something outside the preopened directory (fd 3, guest name
 * "/"), or to use an fd or a right it was never given.  Each prints one
 * line:
 *
 *   NAME: refused (ERRNO)
 *   NAME: ESCAPED                       it worked: the runtime is wrong
 *   NAME: refused (ERRNO), wanted WANT  refused, but with the wrong errno
 *
 * then "attempts: N escaped: E wrong errno: W".  Lines starting "info:" are
 * things allowed on purpose: reading a symlink's own text, and opening the
 * directories and files that later attempts use.  Nothing read
 * from outside is ever printed: an attempt that opens a file closes it
 * unread, and stat data is never shown.
 *
 * The harness lays out, beside the preopen's directory root/:
 *   outside/secret, outside/dir/
 * and inside root/:
 *   file.txt, sub/file.txt
 *   link_out      -> ../outside/secret
 *   link_dir_out  -> ../outside
 *   chain1 -> chain2 -> sub/chain3 -> ../../outside/secret
 *   link_root     -> /
 *   link_abs      -> <absolute host path of outside/secret>
 *   link_etc      -> /etc/passwd
 *   up            -> .          (harmless alone; ../ after it is not)
 *   dangle_out    -> ../outside/created   (which does not exist)
 * and for "race" (below) also flip/ and other -> ../outside.
 *
 * Most attempts use the raw WASI calls on fd 3, so that what is tested is
 * the host's confinement, not wasi-libc's path handling.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

enum { ROOT = 3 };

static int attempts, escaped, wrong;

/* Record one attempt: err is the WASI errno it returned (0: it worked);
   want is the one errno that is right, or 0 when any refusal is. */
static void attempt(const char *name, int err, int want)
{
    attempts++;
    if (err == 0) {
        escaped++;
        printf("%s: ESCAPED\n", name);
    } else if (want != 0 && err != want) {
        wrong++;
        printf("%s: refused (%s), wanted %s\n", name, errname(err), errname(want));
    } else {
        printf("%s: refused (%s)\n", name, errname(err));
    }
}

/* libc calls report through errno. */
static void attempt_libc(const char *name, long r, int want)
{
    attempt(name, r < 0 ? errno : 0, want);
    if (r >= 0 && strstr(name, "open"))
        close((int)r);
}

static const __wasi_rights_t READ = __WASI_RIGHTS_FD_READ;

/* path_open; a success is closed at once, unread. */
static int try_open(int dirfd, __wasi_lookupflags_t lookup, const char *path, __wasi_oflags_t oflags,
                    __wasi_rights_t rights)
{
    int32_t fd = -1;
    int e = raw_path_open(dirfd, (int32_t)lookup, path, (int32_t)strlen(path), (int32_t)oflags,
                          (int64_t)rights, 0, 0, &fd);
    if (e == 0)
        (void)__wasi_fd_close((__wasi_fd_t)fd);
    return e;
}

static int try_stat(int dirfd, __wasi_lookupflags_t lookup, const char *path)
{
    __wasi_filestat_t st;   /* never printed */
    return __wasi_path_filestat_get((__wasi_fd_t)dirfd, lookup, path, &st);
}

/* With the argument "race": the harness swaps root/flip, an empty
   directory, with a symlink to ../outside, again and again (renameat2
   RENAME_EXCHANGE) while this opens and stats flip/secret.  Resolving
   flip while it changes must never lead out: each try fails (ENOENT while
   flip is the directory, a refusal while it is the link). */
static int race(void)
{
    enum { TRIES = 4000 };
    int escapes = 0;
    for (int i = 0; i < TRIES; i++) {
        escapes += try_open(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "flip/secret", 0, READ) == 0;
        escapes += try_stat(ROOT, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "flip/secret") == 0;
    }
    printf("race: %d tries, %d escapes\n", TRIES, escapes);
    return escapes ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "race") == 0)
        return race();
    const __wasi_lookupflags_t FOLLOW = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    /* Directories are opened with the rights the preopen passes on, as
       wasi-libc does (asking for more would itself be refused), less the
       write rights, which a directory cannot have. */
    __wasi_fdstat_t fds;
    CHECK(__wasi_fd_fdstat_get(ROOT, &fds) == 0);
    const __wasi_rights_t DIR_RIGHTS =
        fds.fs_rights_inheriting & ~(__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_ALLOCATE |
                                     __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_DATASYNC);

    /* The preopen is what we think it is. */
    __wasi_prestat_t pre;
    char prename[8] = {0};
    CHECK(__wasi_fd_prestat_get(ROOT, &pre) == 0 && pre.u.dir.pr_name_len == 1);
    CHECK(__wasi_fd_prestat_dir_name(ROOT, (uint8_t *)prename, 1) == 0 && prename[0] == '/');

    /* ---- forged fd numbers ---- */
    char buf[16];
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    __wasi_size_t nio;
    attempt("fd_read fd 99", __wasi_fd_read(99, &iov, 1, &nio), __WASI_ERRNO_BADF);
    attempt("fd_write fd 99", __wasi_fd_write(99, &ciov, 1, &nio), __WASI_ERRNO_BADF);
    attempt("path_open on fd 99", try_open(99, 0, "file.txt", 0, READ), __WASI_ERRNO_BADF);
    /* fds 0-3 are the whole table so far (stdio and the one preopen): 4 is forged. */
    attempt("path_open on fd 4", try_open(4, 0, "file.txt", 0, READ), __WASI_ERRNO_BADF);
    attempt("fd_read fd 4", __wasi_fd_read(4, &iov, 1, &nio), __WASI_ERRNO_BADF);
    attempt("path_open on fd -1", try_open(-1, 0, "file.txt", 0, READ), __WASI_ERRNO_BADF);
    attempt("fd_prestat_get fd 4", __wasi_fd_prestat_get(4, &pre), __WASI_ERRNO_BADF);
    attempt("path_open on stdin as a directory", try_open(0, 0, "file.txt", 0, READ), 0);

    /* ---- .. chains ---- */
    attempt("open ../outside/secret", try_open(ROOT, 0, "../outside/secret", 0, READ), 0);
    attempt("open sub/../../outside/secret", try_open(ROOT, 0, "sub/../../outside/secret", 0, READ), 0);
    attempt("open sub/./../sub/../../outside/secret",
            try_open(ROOT, 0, "sub/./../sub/../../outside/secret", 0, READ), 0);
    attempt("open dir ./../..", try_open(ROOT, 0, "./../..", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS), 0);
    attempt("open dir ..", try_open(ROOT, 0, "..", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS), 0);
    attempt("open up/../outside/secret (up -> .)", try_open(ROOT, FOLLOW, "up/../outside/secret", 0, READ), 0);
    attempt_libc("libc open ../outside/secret", open("../outside/secret", O_RDONLY), 0);

    /* ---- absolute paths ---- */
    attempt("open /etc/passwd", try_open(ROOT, 0, "/etc/passwd", 0, READ), 0);
    attempt("open dir /", try_open(ROOT, 0, "/", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS), 0);
    attempt_libc("libc open /etc/passwd", open("/etc/passwd", O_RDONLY), 0);

    /* ---- symlinks out, made by the harness ---- */
    attempt("open link_out", try_open(ROOT, FOLLOW, "link_out", 0, READ), 0);
    attempt("open link_dir_out/secret", try_open(ROOT, FOLLOW, "link_dir_out/secret", 0, READ), 0);
    attempt("open chain1 (3 links, the last out)", try_open(ROOT, FOLLOW, "chain1", 0, READ), 0);
    attempt("open link_root/etc/passwd", try_open(ROOT, FOLLOW, "link_root/etc/passwd", 0, READ), 0);
    attempt("open dir link_root", try_open(ROOT, FOLLOW, "link_root", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS), 0);
    attempt("open link_abs", try_open(ROOT, FOLLOW, "link_abs", 0, READ), 0);
    attempt("open link_etc", try_open(ROOT, FOLLOW, "link_etc", 0, READ), 0);
    attempt_libc("libc open link_out", open("link_out", O_RDONLY), 0);
    /* A dangling link whose target would be outside: creating through it
       would make a file there. */
    attempt("create through dangle_out (-> ../outside/created)",
            try_open(ROOT, FOLLOW, "dangle_out", __WASI_OFLAGS_CREAT, READ | __WASI_RIGHTS_FD_WRITE), 0);
    attempt_libc("libc create through dangle_out", open("dangle_out", O_CREAT | O_WRONLY, 0644), 0);
    /* A hard link of the symlink itself stays inside (and may be allowed);
       following the copy must not lead out. */
    (void)__wasi_path_link(ROOT, 0, "link_out", ROOT, "link_out_copy");
    attempt("open a hard link of link_out", try_open(ROOT, FOLLOW, "link_out_copy", 0, READ), 0);

    /* Reading a link's own text is allowed: it names, it does not reach. */
    char text[128];
    __wasi_size_t used = 0;
    int e = __wasi_path_readlink(ROOT, "link_out", (uint8_t *)text, sizeof text, &used);
    printf("info: readlink link_out: %s [%.*s]\n", errname(e), (int)(e ? 0 : used), text);

    /* ---- symlinks out, made by the guest ---- */
    /* Making the link may be refused or allowed; following it must not work. */
    (void)__wasi_path_symlink("../../outside/secret", ROOT, "sub/mine");
    attempt("open guest link sub/mine -> ../../outside/secret", try_open(ROOT, FOLLOW, "sub/mine", 0, READ), 0);
    (void)__wasi_path_symlink("/etc/passwd", ROOT, "mine_abs");
    attempt("open guest link mine_abs -> /etc/passwd", try_open(ROOT, FOLLOW, "mine_abs", 0, READ), 0);
    (void)__wasi_path_symlink("..", ROOT, "mine_up");
    attempt("open guest link mine_up/outside/secret", try_open(ROOT, FOLLOW, "mine_up/outside/secret", 0, READ), 0);
    (void)symlink("../outside/secret", "mine2");
    attempt_libc("libc open of a guest link mine2 -> ../outside/secret", open("mine2", O_RDONLY), 0);
    attempt("symlink placed outside", __wasi_path_symlink("file.txt", ROOT, "../outside/planted_link"), 0);

    /* ---- creating, writing, removing outside ---- */
    attempt("create ../outside/new", try_open(ROOT, 0, "../outside/new", __WASI_OFLAGS_CREAT,
                                              READ | __WASI_RIGHTS_FD_WRITE), 0);
    attempt("create link_dir_out/new", try_open(ROOT, FOLLOW, "link_dir_out/new", __WASI_OFLAGS_CREAT,
                                                READ | __WASI_RIGHTS_FD_WRITE), 0);
    attempt("truncate link_out", try_open(ROOT, FOLLOW, "link_out", __WASI_OFLAGS_TRUNC,
                                          READ | __WASI_RIGHTS_FD_WRITE), 0);
    attempt("mkdir ../outside/newdir", __wasi_path_create_directory(ROOT, "../outside/newdir"), 0);
    attempt("mkdir link_dir_out/newdir", __wasi_path_create_directory(ROOT, "link_dir_out/newdir"), 0);
    attempt("unlink ../outside/secret", __wasi_path_unlink_file(ROOT, "../outside/secret"), 0);
    attempt("unlink link_dir_out/secret", __wasi_path_unlink_file(ROOT, "link_dir_out/secret"), 0);
    attempt("rmdir ../outside/dir", __wasi_path_remove_directory(ROOT, "../outside/dir"), 0);
    attempt("rmdir link_dir_out/dir", __wasi_path_remove_directory(ROOT, "link_dir_out/dir"), 0);
    attempt("set times through link_out",
            __wasi_path_filestat_set_times(ROOT, FOLLOW, "link_out", 1, 1,
                                           __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM), 0);

    /* ---- stat outside ---- */
    attempt("stat ../outside/secret", try_stat(ROOT, 0, "../outside/secret"), 0);
    attempt("stat ..", try_stat(ROOT, 0, ".."), 0);
    attempt("stat link_out (follow)", try_stat(ROOT, FOLLOW, "link_out"), 0);
    attempt("stat link_dir_out/secret", try_stat(ROOT, 0, "link_dir_out/secret"), 0);
    attempt("stat /etc/passwd", try_stat(ROOT, 0, "/etc/passwd"), 0);
    struct stat st;
    attempt_libc("libc stat ../outside/secret", stat("../outside/secret", &st), 0);

    /* ---- hard links out and in ---- */
    attempt("link ../outside/secret to stolen", __wasi_path_link(ROOT, 0, "../outside/secret", ROOT, "stolen"), 0);
    attempt("link link_out (follow) to stolen2", __wasi_path_link(ROOT, FOLLOW, "link_out", ROOT, "stolen2"), 0);
    attempt("link file.txt to ../outside/planted",
            __wasi_path_link(ROOT, 0, "file.txt", ROOT, "../outside/planted"), 0);
    attempt("link file.txt to link_dir_out/planted",
            __wasi_path_link(ROOT, 0, "file.txt", ROOT, "link_dir_out/planted"), 0);

    /* ---- renaming out and in ---- */
    attempt("rename file.txt to ../outside/file.txt",
            __wasi_path_rename(ROOT, "file.txt", ROOT, "../outside/file.txt"), 0);
    attempt("rename sub/file.txt to link_dir_out/planted",
            __wasi_path_rename(ROOT, "sub/file.txt", ROOT, "link_dir_out/planted"), 0);
    attempt("rename ../outside/secret to stolen3",
            __wasi_path_rename(ROOT, "../outside/secret", ROOT, "stolen3"), 0);
    attempt("rename sub to ../outside/sub", __wasi_path_rename(ROOT, "sub", ROOT, "../outside/sub"), 0);
    attempt_libc("libc rename file.txt ../outside/f", rename("file.txt", "../outside/f"), 0);

    /* ---- a subdirectory's fd is its own root ---- */
    int32_t subfd = -1;
    e = raw_path_open(ROOT, 0, "sub", 3, __WASI_OFLAGS_DIRECTORY, (int64_t)DIR_RIGHTS,
                      (int64_t)fds.fs_rights_inheriting, 0, &subfd);
    printf("info: open dir sub: %s\n", errname(e));
    int32_t dotfd = -1;
    e = raw_path_open(subfd, 0, ".", 1, __WASI_OFLAGS_DIRECTORY, (int64_t)DIR_RIGHTS,
                      (int64_t)fds.fs_rights_inheriting, 0, &dotfd);
    printf("info: open . from sub's fd: %s\n", errname(e));
    if (e == 0)
        (void)__wasi_fd_close((__wasi_fd_t)dotfd);
    attempt("open dir .. from sub's fd", try_open(subfd, 0, "..", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS), 0);
    attempt("open ../file.txt from sub's fd", try_open(subfd, 0, "../file.txt", 0, READ), 0);
    attempt("open ../../outside/secret from sub's fd", try_open(subfd, 0, "../../outside/secret", 0, READ), 0);

    /* ---- rights that were not granted ---- */
    int32_t ro = -1;
    e = raw_path_open(ROOT, 0, "file.txt", 8, 0, (int64_t)READ, 0, 0, &ro);
    printf("info: open file.txt with FD_READ only: %s\n", errname(e));
    int32_t written = 0;
    attempt("fd_write on an fd with FD_READ only", raw_fd_write(ro, &ciov, 1, &written), __WASI_ERRNO_NOTCAPABLE);
    attempt("fd_filestat_set_size on an fd with FD_READ only", __wasi_fd_filestat_set_size((__wasi_fd_t)ro, 0),
            __WASI_ERRNO_NOTCAPABLE);
    attempt("fd_fdstat_set_rights widening", __wasi_fd_fdstat_set_rights((__wasi_fd_t)ro, READ | __WASI_RIGHTS_FD_WRITE, 0),
            __WASI_ERRNO_NOTCAPABLE);
    /* The right is gone, not hidden: after narrowing to nothing, reading fails too. */
    printf("info: narrow the rights to none: %s\n", errname(__wasi_fd_fdstat_set_rights((__wasi_fd_t)ro, 0, 0)));
    attempt("fd_read after narrowing the rights away", __wasi_fd_read((__wasi_fd_t)ro, &iov, 1, &nio),
            __WASI_ERRNO_NOTCAPABLE);
    (void)__wasi_fd_close((__wasi_fd_t)ro);

    /* A directory whose inheriting rights lack FD_WRITE: files opened
       beneath it cannot ask for it. */
    int32_t ro_dir = -1;
    e = raw_path_open(ROOT, 0, "sub", 3, __WASI_OFLAGS_DIRECTORY, (int64_t)DIR_RIGHTS,
                      (int64_t)(READ | __WASI_RIGHTS_FD_SEEK), 0, &ro_dir);
    printf("info: open dir sub passing on FD_READ|FD_SEEK only: %s\n", errname(e));
    attempt("path_open FD_WRITE beneath a dir that does not pass it on",
            try_open(ro_dir, 0, "file.txt", 0, READ | __WASI_RIGHTS_FD_WRITE), __WASI_ERRNO_NOTCAPABLE);
    /* A directory without PATH_OPEN cannot open anything. */
    int32_t noopen = -1;
    e = raw_path_open(ROOT, 0, "sub", 3, __WASI_OFLAGS_DIRECTORY,
                      (int64_t)(DIR_RIGHTS & ~__WASI_RIGHTS_PATH_OPEN), (int64_t)fds.fs_rights_inheriting, 0,
                      &noopen);
    printf("info: open dir sub without PATH_OPEN: %s\n", errname(e));
    attempt("path_open beneath a dir without PATH_OPEN", try_open(noopen, 0, "file.txt", 0, READ),
            __WASI_ERRNO_NOTCAPABLE);

    /* ---- a NUL byte inside the path ---- */
    static const char nul1[] = "file.txt\0../../outside/secret";
    int32_t fd = -1;
    e = raw_path_open(ROOT, 0, nul1, (int32_t)sizeof nul1 - 1, 0, (int64_t)READ, 0, 0, &fd);
    if (e == 0)
        (void)__wasi_fd_close((__wasi_fd_t)fd);
    attempt("path_open file.txt NUL ../../outside/secret", e, 0);
    static const char nul2[] = "../outside/secret\0";
    e = raw_path_open(ROOT, 0, nul2, (int32_t)sizeof nul2 - 1, 0, (int64_t)READ, 0, 0, &fd);
    if (e == 0)
        (void)__wasi_fd_close((__wasi_fd_t)fd);
    attempt("path_open ../outside/secret NUL", e, 0);
    static const char nul3[] = "new\0file";
    e = raw_path_open(ROOT, 0, nul3, (int32_t)sizeof nul3 - 1, __WASI_OFLAGS_CREAT,
                      (int64_t)(READ | __WASI_RIGHTS_FD_WRITE), 0, 0, &fd);
    if (e == 0)
        (void)__wasi_fd_close((__wasi_fd_t)fd);
    attempt("path_open O_CREAT new NUL file", e, 0);
    __wasi_filestat_t fst;
    attempt("path_filestat_get file.txt NUL", raw_path_filestat_get(ROOT, 0, nul1, (int32_t)sizeof nul1 - 1, &fst), 0);
    attempt("path_create_directory d NUL x", raw_path_create_directory(ROOT, "d\0x", 3), 0);

    printf("attempts: %d escaped: %d wrong errno: %d\n", attempts, escaped, wrong);
    printf("checks failed: %d\n", check_failures);
    return escaped || wrong || check_failures ? 1 : 0;
}
