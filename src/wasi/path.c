/*
 * Confined path resolution (see path.h and the "Paths" section of README.md).
 *
 * Two strategies give the same answers:
 *
 *  - openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: the kernel
 *    resolves the whole path and refuses (EXDEV) any step that would leave
 *    dirfd: a ".." above it, an absolute path or symlink target, a magic
 *    /proc link.  It also guards against renames racing with "..".
 *
 *  - the walker, for kernels without openat2 (before 5.6): it resolves one
 *    component at a time from directory fds it holds, never letting the
 *    kernel follow a symlink or a "..":
 *      * each component is opened with O_PATH|O_NOFOLLOW relative to the
 *        directory on top of a stack of fds, and fstat'ed: the answer is
 *        about the object we hold, so a concurrent swap cannot fool it;
 *      * a directory is pushed; ".." pops, and popping the bottom (dirfd)
 *        is an escape;
 *      * a symlink is read through its own fd (readlinkat(fd, "")) and its
 *        target is spliced in front of the rest of the path, to be walked
 *        the same way from the directory that holds the link;
 *      * the last component is opened with the caller's flags plus
 *        O_NOFOLLOW, so the kernel itself never follows anything.
 *    The work is bounded: at most 40 symlinks (then ELOOP, as the kernel),
 *    and the spliced path stays below PATH_MAX (else ENAMETOOLONG).
 */
#define _GNU_SOURCE
#include "wasi/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_LINKS 40            /* the kernel's MAXSYMLINKS */
#define OPENAT2_TRIES 4         /* EAGAIN: a rename or mount raced a ".."; then the walker decides */

/* The only global state: set by the tests, and once when the kernel says
   it has no openat2. */
static atomic_bool force_walker;
enum { OPENAT2_UNKNOWN, OPENAT2_YES, OPENAT2_NO };
static atomic_int openat2_state;

void path_force_walker(bool on)
{
    atomic_store(&force_walker, on);
}

bool path_uses_openat2(void)
{
    if (atomic_load(&force_walker))
        return false;
    int s = atomic_load(&openat2_state);
    if (s == OPENAT2_UNKNOWN) {
        /* An openat2 that cannot succeed (bad dirfd): a kernel that has it
           says EBADF.  EPERM is what some seccomp filters answer for system
           calls they do not know; take that as "missing" too. */
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH };
        int saved = errno;
        long r = syscall(SYS_openat2, -1, "x", &how, sizeof how);
        if (r >= 0)
            close((int)r);
        s = r < 0 && (errno == ENOSYS || errno == EPERM) ? OPENAT2_NO : OPENAT2_YES;
        errno = saved;
        atomic_store(&openat2_state, s);   /* racing probes store the same answer */
    }
    return s == OPENAT2_YES;
}

/* The checks both functions make before resolving anything. */
static int check_path(const char *path, size_t len)
{
    if (len == 0)
        return ENOENT;
    if (memchr(path, '\0', len))
        return EINVAL;
    if (path[0] == '/')
        return PATH_ENOTCAPABLE;
    if (len >= PATH_MAX)
        return ENAMETOOLONG;
    return 0;
}

static bool creates(int flags)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* Returns 0, an errno, or -1: "the walker must answer" (no openat2, or it
   kept being raced). */
static int open_openat2(int dirfd, const char *cpath, int flags, mode_t mode, int *out)
{
    struct open_how how = {
        .flags = (uint64_t)(unsigned)flags,
        /* openat2 refuses a mode when not creating, and mode bits beyond
           07777, where open(2) ignores them */
        .mode = creates(flags) ? (mode & 07777) : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    for (int i = 0; i < OPENAT2_TRIES; i++) {
        long fd = syscall(SYS_openat2, dirfd, cpath, &how, sizeof how);
        if (fd >= 0) {
            *out = (int)fd;
            return 0;
        }
        if (errno == EAGAIN)
            continue;
        if (errno == ENOSYS) {
            atomic_store(&openat2_state, OPENAT2_NO);
            return -1;
        }
        return errno == EXDEV ? PATH_ENOTCAPABLE : errno;
    }
    return -1;
}

/* ---- the walker ---- */

struct walk {
    int *fds;              /* fds[0] is the caller's dirfd (not ours), fds[1..depth] are ours */
    size_t depth, cap;
    int small[16];         /* most paths are shallow: no malloc */
    char link[PATH_MAX];   /* a symlink's target, while it is spliced */
};

static int push(struct walk *w, int fd)
{
    if (w->depth + 1 == w->cap) {
        size_t cap = w->cap * 2;
        int *fds = w->fds == w->small ? malloc(cap * sizeof *fds) : realloc(w->fds, cap * sizeof *fds);
        if (!fds) {
            close(fd);
            return ENOMEM;
        }
        if (w->fds == w->small)
            memcpy(fds, w->small, sizeof w->small);
        w->fds = fds;
        w->cap = cap;
    }
    w->fds[++w->depth] = fd;
    return 0;
}

/* Read the symlink `fd` is open on (O_PATH|O_NOFOLLOW) and make `buf` its
   target followed by `rest` (which points into buf).  Closes fd. */
static int splice_link(struct walk *w, int fd, char *buf, const char *rest, int *links)
{
    if (++*links > MAX_LINKS) {
        close(fd);
        return ELOOP;
    }
    ssize_t n = readlinkat(fd, "", w->link, sizeof w->link);
    int err = n < 0 ? errno : 0;
    close(fd);
    if (err)
        return err;
    if ((size_t)n == sizeof w->link)
        return ENAMETOOLONG;            /* cut short: the kernel keeps targets below PATH_MAX */
    size_t tlen = (size_t)n, rlen = strlen(rest);
    if (tlen == 0)
        return ENOENT;                  /* as the kernel, for an empty target */
    if (w->link[0] == '/')
        return PATH_ENOTCAPABLE;
    if (tlen + rlen >= PATH_MAX)
        return ENAMETOOLONG;
    memmove(buf + tlen, rest, rlen + 1);
    memcpy(buf, w->link, tlen);
    return 0;
}

/* The type (S_IFMT bits) of what fd is open on and *err = 0, or 0 and *err. */
static mode_t file_type(int fd, int *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        *err = errno;
        return 0;
    }
    *err = 0;
    return st.st_mode & S_IFMT;
}

/* Resolve `buf` (NUL-terminated, relative, ours to rewrite) beneath dirfd. */
static int walk(int dirfd, char *buf, int flags, mode_t mode, bool follow, int *out)
{
    struct walk w = { .small = { dirfd }, .depth = 0, .cap = 16 };
    w.fds = w.small;
    char name[NAME_MAX + 1];
    char *p = buf;
    int links = 0, err = 0, fd = -1;

    for (;;) {
        int top = w.fds[w.depth];
        while (*p == '/')
            p++;
        if (*p == '\0') {
            /* The path ended on a directory (".", "..", or a trailing
               slash): open the top itself.  "." never leaves it. */
            fd = openat(top, ".", flags | O_CLOEXEC, mode);
            err = fd < 0 ? errno : 0;
            break;
        }
        char *end = strchrnul(p, '/');
        size_t clen = (size_t)(end - p);
        if (clen > NAME_MAX) {
            err = ENAMETOOLONG;
            break;
        }
        memcpy(name, p, clen);
        name[clen] = '\0';
        char *comp = p;
        p = end;                        /* the rest, with its leading slashes */
        if (strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0) {
            if (w.depth == 0) {
                err = PATH_ENOTCAPABLE;
                break;
            }
            close(w.fds[w.depth--]);
            continue;
        }

        if (*end == '/') {
            /* A directory on the way (or a last one with a trailing slash,
               which open(2) follows and requires to be a directory). */
            if (end[strspn(end, "/")] == '\0' && (flags & O_CREAT)) {
                err = EISDIR;           /* as open(2): "name/" with O_CREAT */
                break;
            }
            fd = openat(top, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                err = errno;
                break;
            }
            mode_t type = file_type(fd, &err);
            if (err) {
                close(fd);
                break;
            }
            if (type == S_IFLNK) {
                err = splice_link(&w, fd, buf, p, &links);
                fd = -1;
                if (err)
                    break;
                p = buf;
                continue;
            }
            if (type != S_IFDIR) {
                close(fd);
                err = ENOTDIR;
                break;
            }
            if ((err = push(&w, fd)) != 0)
                break;
            continue;
        }

        /* The last component: the kernel opens it, but never follows it. */
        fd = openat(top, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        err = fd < 0 ? errno : 0;
        if (!follow)
            break;
        if (fd >= 0) {
            /* Without O_PATH, O_NOFOLLOW never opens a symlink; with it,
               we may hold one that must be followed. */
            if (!(flags & O_PATH))
                break;
            mode_t type = file_type(fd, &err);
            if (type != S_IFLNK) {
                if (err) {
                    close(fd);
                    fd = -1;
                }
                break;
            }
        } else {
            /* A symlink refused by O_NOFOLLOW answers ELOOP, or ENOTDIR
               with O_DIRECTORY: look at what is there. */
            if (err != ELOOP && err != ENOTDIR)
                break;
            int first = err;
            fd = openat(top, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                err = errno;
                break;
            }
            mode_t type = file_type(fd, &err);
            if (type != S_IFLNK) {
                close(fd);
                fd = -1;
                if (err)
                    break;
                /* Not a symlink.  A non-directory explains ENOTDIR: the
                   refusal stands.  Anything else was swapped in between
                   the two opens: try the name again, counted as a link so
                   that endless swapping ends in ELOOP. */
                if (first == ENOTDIR && type != S_IFDIR) {
                    err = ENOTDIR;
                    break;
                }
                if (++links > MAX_LINKS) {
                    err = ELOOP;
                    break;
                }
                p = comp;
                continue;
            }
        }
        /* Follow the symlink we hold: its target replaces the name. */
        err = splice_link(&w, fd, buf, p, &links);
        fd = -1;
        if (err)
            break;
        p = buf;
    }

    while (w.depth > 0)
        close(w.fds[w.depth--]);
    if (w.fds != w.small)
        free(w.fds);
    if (err)
        return err;
    *out = fd;
    return 0;
}

/* Both strategies, on a NUL-terminated path in a buffer of PATH_MAX bytes
   that may be rewritten. */
static int open_beneath(int dirfd, char *buf, int flags, mode_t mode, bool follow, int *out)
{
    if (flags & O_PATH)
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW;     /* what open(2) keeps */
    if (flags & O_NOFOLLOW)
        follow = false;
    if (!follow)
        flags |= O_NOFOLLOW;
    flags |= O_CLOEXEC;
    if (path_uses_openat2()) {
        int err = open_openat2(dirfd, buf, flags, mode, out);
        if (err >= 0)
            return err;
    }
    return walk(dirfd, buf, flags, mode, follow, out);
}

int path_open_beneath(int dirfd, const char *path, size_t len, int flags, mode_t mode, bool follow, int *out)
{
    *out = -1;
    int err = check_path(path, len);
    if (err)
        return err;
    char buf[PATH_MAX];
    memcpy(buf, path, len);
    buf[len] = '\0';
    return open_beneath(dirfd, buf, flags, mode, follow, out);
}

int path_parent_beneath(int dirfd, const char *path, size_t len, int *parent, char name[256], bool *trailing_slash)
{
    *parent = -1;
    int err = check_path(path, len);
    if (err)
        return err;
    char buf[PATH_MAX];
    memcpy(buf, path, len);
    size_t n = len;
    bool slash = false;
    while (buf[n - 1] == '/') {         /* stops at buf[0], which is not '/' */
        n--;
        slash = true;
    }
    buf[n] = '\0';
    size_t start = n;
    while (start > 0 && buf[start - 1] != '/')
        start--;
    size_t llen = n - start;
    if (llen > NAME_MAX)
        return ENAMETOOLONG;
    if ((llen == 1 && buf[start] == '.') || (llen == 2 && buf[start] == '.' && buf[start + 1] == '.')) {
        /* "." or "..": the directory the whole path names */
        strcpy(name, ".");
    } else {
        memcpy(name, buf + start, llen);
        name[llen] = '\0';
        if (start == 0)
            strcpy(buf, ".");
        else
            buf[start] = '\0';          /* "a/b/": the slash only says "a directory" */
    }
    err = open_beneath(dirfd, buf, O_PATH | O_DIRECTORY, 0, true, parent);
    if (err == 0)
        *trailing_slash = slash;
    return err;
}
