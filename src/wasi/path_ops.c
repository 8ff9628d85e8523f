/*
 * WASI path_* functions.  Each names a file by a directory fd of the
 * caller's table and a relative path, which path.c resolves beneath that
 * directory and nowhere else (openat2 RESOLVE_BENEATH, or a walk one
 * component at a time).  Calls that act on the last component itself
 * (mkdir, unlink, rename, link, symlink, readlink, and the no-follow stat
 * and set-times) get its parent directory and name from path.c, and pass
 * them to the *at system call, which never follows a last symlink.
 */
#define _GNU_SOURCE
#include "wasi/wasi_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wasi/path.h"

#define LOOKUP_FOLLOW 1u   /* __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW */
enum { OF_CREAT = 1, OF_DIRECTORY = 2, OF_EXCL = 4, OF_TRUNC = 8 };

/* A directory fd of the caller's with rights `need`, and the guest path [ptr, ptr+len). */
typedef struct {
    FdEntry *dir;
    const char *path;
    uint32_t len;
} PathArg;

static uint16_t path_arg(lw_exec *ex, lw_wasi *w, const Mem *m, uint32_t fd, uint64_t need, uint32_t ptr,
                         uint32_t len, PathArg *out)
{
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, w, NULL), fd, need, &err);
    if (!e)
        return err;
    if (e->res->type != FT_DIR)
        return W_NOTDIR;
    const uint8_t *p = mem_at(m, ptr, len);
    if (!p)
        return W_FAULT;
    *out = (PathArg){ e, (const char *)p, len };
    return W_SUCCESS;
}

/*
 * The parent directory and last name of a path (path_parent_beneath).
 * A trailing slash is kept on the name ("dir/"), so that the *at call
 * itself insists on a directory, as it would on the host.
 */
typedef struct {
    int parent;
    char name[258];
} Last;

static uint16_t last_of(const PathArg *a, Last *l)
{
    bool slash = false;
    int r = path_parent_beneath(a->dir->res->fd, a->path, a->len, &l->parent, l->name, &slash);
    if (r)
        return errno_to_wasi(r);
    if (slash && strcmp(l->name, ".") != 0)
        strcat(l->name, "/");
    return W_SUCCESS;
}

/* Host errno of the last call, as the call's result. */
#define HOST(ok) ((ok) ? W_SUCCESS : errno_to_wasi(errno))

/* ---- path_open ---- */

/* path_open(fd, dirflags, path, path_len, oflags, rights_base i64, rights_inheriting i64, fdflags, fd_ptr) -> errno */
static lw_status wasi_path_open(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0], dirflags = (uint32_t)slots[1];
    uint32_t oflags = (uint32_t)slots[4], fdflags = (uint32_t)slots[7], out = (uint32_t)slots[8];
    uint64_t base = slots[5], inh = slots[6];
    Mem m;
    PathArg a = {0};
    if (!mem_of(ex, &m))
        RET(W_FAULT);
    if (oflags & ~15u || fdflags & ~31u)
        RET(W_INVAL);
    uint64_t need = R_PATH_OPEN | (oflags & OF_CREAT ? R_PATH_CREATE_FILE : 0) |
                    (oflags & OF_TRUNC ? R_PATH_FILESTAT_SET_SIZE : 0);
    uint16_t err = path_arg(ex, env, &m, fd, need, (uint32_t)slots[2], (uint32_t)slots[3], &a);
    if (err)
        RET(err);
    if (!mem_at(&m, out, 4))
        RET(W_FAULT);
    /* A new fd gets at most what its directory passes on. */
    if ((base & ~a.dir->inheriting) || (inh & ~a.dir->inheriting))
        RET(W_NOTCAPABLE);

    bool rd = base & (R_FD_READ | R_FD_READDIR);
    bool wr = base & (R_FD_WRITE | R_FD_ALLOCATE | R_FD_FILESTAT_SET_SIZE);
    int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;   /* non-blocking: opening a FIFO must not wait */
    if ((oflags & (OF_DIRECTORY | OF_CREAT)) == (OF_DIRECTORY | OF_CREAT))
        RET(W_INVAL);   /* what Linux 6.4+ answers; older kernels differed, so it is decided here */
    if (oflags & OF_DIRECTORY) {
        flags |= O_DIRECTORY | O_RDONLY;
        if (wr)
            RET(W_ISDIR);
    } else {
        flags |= rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY;
    }
    if (oflags & OF_CREAT)
        flags |= O_CREAT;
    if (oflags & OF_EXCL)
        flags |= O_EXCL;
    if (oflags & OF_TRUNC)
        flags |= O_TRUNC;
    if (fdflags & FDF_APPEND)
        flags |= O_APPEND;
    if (fdflags & FDF_DSYNC)
        flags |= O_DSYNC;
    if (fdflags & FDF_SYNC)
        flags |= O_SYNC;
    if (fdflags & FDF_RSYNC)
        flags |= O_RSYNC;
    int hfd;
    int r = path_open_beneath(a.dir->res->fd, a.path, a.len, flags, 0666, dirflags & LOOKUP_FOLLOW, &hfd);
    if (r)
        RET(errno_to_wasi(r));
    Res *res = res_new(hfd);
    WasiTable *t = res ? table_own(ex, env) : NULL;
    int64_t nfd = t ? table_add(t, res, base, inh, (uint16_t)fdflags) : -1;
    if (nfd < 0) {
        if (res)
            res_unref(res);
        else
            close(hfd);
        RET(t ? W_NFILE : W_NOMEM);
    }
    put32(&m, out, (uint32_t)nfd);
    RET(W_SUCCESS);
}

/* ---- acting on the last component ---- */

/* The one-path calls: the directory fd, its rights, the path, and what to do. */
typedef enum { DO_MKDIR, DO_RMDIR, DO_UNLINK } OnePath;

static lw_status one_path(lw_exec *ex, lw_wasi *w, uint64_t *slots, OnePath op)
{
    static const uint64_t need[] = { R_PATH_CREATE_DIRECTORY, R_PATH_REMOVE_DIRECTORY, R_PATH_UNLINK_FILE };
    Mem m;
    PathArg a = {0};
    Last l;
    if (!mem_of(ex, &m))
        RET(W_FAULT);
    uint16_t err = path_arg(ex, w, &m, (uint32_t)slots[0], need[op], (uint32_t)slots[1], (uint32_t)slots[2], &a);
    if (err || (err = last_of(&a, &l)))
        RET(err);
    bool ok;
    switch (op) {
    case DO_MKDIR: ok = mkdirat(l.parent, l.name, 0777) == 0; break;
    case DO_RMDIR: ok = unlinkat(l.parent, l.name, AT_REMOVEDIR) == 0; break;
    default: ok = unlinkat(l.parent, l.name, 0) == 0; break;
    }
    err = HOST(ok);
    close(l.parent);
    RET(err);
}

/* path_create_directory(fd, path, path_len) -> errno */
static lw_status wasi_path_create_directory(lw_exec *ex, void *env, uint64_t *slots)
{
    return one_path(ex, env, slots, DO_MKDIR);
}

/* path_remove_directory(fd, path, path_len) -> errno */
static lw_status wasi_path_remove_directory(lw_exec *ex, void *env, uint64_t *slots)
{
    return one_path(ex, env, slots, DO_RMDIR);
}

/* path_unlink_file(fd, path, path_len) -> errno */
static lw_status wasi_path_unlink_file(lw_exec *ex, void *env, uint64_t *slots)
{
    return one_path(ex, env, slots, DO_UNLINK);
}

/* A path that follows its last symlink, as a descriptor of its own (O_PATH). */
static uint16_t follow_open(const PathArg *a, int *fd)
{
    return errno_to_wasi(path_open_beneath(a->dir->res->fd, a->path, a->len, O_PATH | O_CLOEXEC, 0, true, fd));
}

/* "/proc/self/fd/N": how a call that has no fd form reaches an O_PATH descriptor. */
static void proc_path(char buf[40], int fd)
{
    snprintf(buf, 40, "/proc/self/fd/%d", fd);
}

/* path_filestat_get(fd, flags, path, path_len, filestat_ptr) -> errno */
static lw_status wasi_path_filestat_get(lw_exec *ex, void *env, uint64_t *slots)
{
    Mem m;
    PathArg a = {0};
    uint8_t *p;
    if (!mem_of(ex, &m))
        RET(W_FAULT);
    uint16_t err = path_arg(ex, env, &m, (uint32_t)slots[0], R_PATH_FILESTAT_GET, (uint32_t)slots[2],
                            (uint32_t)slots[3], &a);
    if (err)
        RET(err);
    if (!(p = mem_at(&m, (uint32_t)slots[4], 64)))
        RET(W_FAULT);
    struct stat st;
    bool ok;
    if ((uint32_t)slots[1] & LOOKUP_FOLLOW) {
        int fd;
        if ((err = follow_open(&a, &fd)))
            RET(err);
        ok = fstat(fd, &st) == 0;
        err = HOST(ok);
        close(fd);
    } else {
        Last l;
        if ((err = last_of(&a, &l)))
            RET(err);
        ok = fstatat(l.parent, l.name, &st, AT_SYMLINK_NOFOLLOW) == 0;
        err = HOST(ok);
        close(l.parent);
    }
    if (ok)
        put_filestat(p, &st);
    RET(err);
}

/* path_filestat_set_times(fd, flags, path, path_len, atim i64, mtim i64, fst_flags) -> errno */
static lw_status wasi_path_filestat_set_times(lw_exec *ex, void *env, uint64_t *slots)
{
    Mem m;
    PathArg a = {0};
    struct timespec ts[2];
    if (!mem_of(ex, &m))
        RET(W_FAULT);
    uint16_t err = path_arg(ex, env, &m, (uint32_t)slots[0], R_PATH_FILESTAT_SET_TIMES, (uint32_t)slots[2],
                            (uint32_t)slots[3], &a);
    if (err)
        RET(err);
    if (!wasi_times(slots[4], slots[5], (uint16_t)slots[6], ts))
        RET(W_INVAL);
    if ((uint32_t)slots[1] & LOOKUP_FOLLOW) {
        int fd;
        char pp[40];
        if ((err = follow_open(&a, &fd)))
            RET(err);
        proc_path(pp, fd);
        err = HOST(utimensat(AT_FDCWD, pp, ts, 0) == 0);
        close(fd);
    } else {
        Last l;
        if ((err = last_of(&a, &l)))
            RET(err);
        err = HOST(utimensat(l.parent, l.name, ts, AT_SYMLINK_NOFOLLOW) == 0);
        close(l.parent);
    }
    RET(err);
}

/* path_readlink(fd, path, path_len, buf, buf_len, bufused_ptr) -> errno: cut to buf_len, no NUL. */
static lw_status wasi_path_readlink(lw_exec *ex, void *env, uint64_t *slots)
{
    Mem m;
    PathArg a = {0};
    Last l;
    uint8_t *buf;
    uint32_t len = (uint32_t)slots[4];
    if (!mem_of(ex, &m))
        RET(W_FAULT);
    uint16_t err = path_arg(ex, env, &m, (uint32_t)slots[0], R_PATH_READLINK, (uint32_t)slots[1],
                            (uint32_t)slots[2], &a);
    if (err)
        RET(err);
    if (!(buf = mem_at(&m, (uint32_t)slots[3], len)) || !mem_at(&m, (uint32_t)slots[5], 4))
        RET(W_FAULT);
    if ((err = last_of(&a, &l)))
        RET(err);
    char target[4096];
    ssize_t k = readlinkat(l.parent, l.name, target, sizeof target);
    err = HOST(k >= 0);
    close(l.parent);
    if (err)
        RET(err);
    if ((size_t)k > len)
        k = len;
    memcpy(buf, target, (size_t)k);
    put32(&m, (uint32_t)slots[5], (uint32_t)k);
    RET(W_SUCCESS);
}

/* path_symlink(old_path, old_len, fd, new_path, new_len) -> errno.  The
   link's text is not checked: it is confined whenever it is followed. */
static lw_status wasi_path_symlink(lw_exec *ex, void *env, uint64_t *slots)
{
    Mem m;
    PathArg a = {0};
    Last l;
    uint32_t olen = (uint32_t)slots[1];
    const uint8_t *old;
    if (!mem_of(ex, &m) || !(old = mem_at(&m, (uint32_t)slots[0], olen)))
        RET(W_FAULT);
    uint16_t err = path_arg(ex, env, &m, (uint32_t)slots[2], R_PATH_SYMLINK, (uint32_t)slots[3],
                            (uint32_t)slots[4], &a);
    if (err)
        RET(err);
    if (olen == 0 || memchr(old, 0, olen))
        RET(olen ? W_INVAL : W_NOENT);
    if (olen >= 4096)
        RET(W_NAMETOOLONG);
    char target[4096];
    memcpy(target, old, olen);
    target[olen] = 0;
    if ((err = last_of(&a, &l)))
        RET(err);
    err = HOST(symlinkat(target, l.parent, l.name) == 0);
    close(l.parent);
    RET(err);
}

/* path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len) -> errno */
static lw_status wasi_path_link(lw_exec *ex, void *env, uint64_t *slots)
{
    Mem m;
    PathArg src = {0}, dst = {0};
    Last ls, ld;
    if (!mem_of(ex, &m))
        RET(W_FAULT);
    uint16_t err = path_arg(ex, env, &m, (uint32_t)slots[0], R_PATH_LINK_SOURCE, (uint32_t)slots[2],
                            (uint32_t)slots[3], &src);
    if (!err)
        err = path_arg(ex, env, &m, (uint32_t)slots[4], R_PATH_LINK_TARGET, (uint32_t)slots[5],
                       (uint32_t)slots[6], &dst);
    if (err || (err = last_of(&dst, &ld)))
        RET(err);
    if ((uint32_t)slots[1] & LOOKUP_FOLLOW) {
        int fd;
        char pp[40];
        if (!(err = follow_open(&src, &fd))) {
            proc_path(pp, fd);
            err = HOST(linkat(AT_FDCWD, pp, ld.parent, ld.name, AT_SYMLINK_FOLLOW) == 0);
            close(fd);
        }
    } else if (!(err = last_of(&src, &ls))) {
        err = HOST(linkat(ls.parent, ls.name, ld.parent, ld.name, 0) == 0);
        close(ls.parent);
    }
    close(ld.parent);
    RET(err);
}

/* path_rename(fd, old_path, old_len, new_fd, new_path, new_len) -> errno */
static lw_status wasi_path_rename(lw_exec *ex, void *env, uint64_t *slots)
{
    Mem m;
    PathArg src = {0}, dst = {0};
    Last ls, ld;
    if (!mem_of(ex, &m))
        RET(W_FAULT);
    uint16_t err = path_arg(ex, env, &m, (uint32_t)slots[0], R_PATH_RENAME_SOURCE, (uint32_t)slots[1],
                            (uint32_t)slots[2], &src);
    if (!err)
        err = path_arg(ex, env, &m, (uint32_t)slots[3], R_PATH_RENAME_TARGET, (uint32_t)slots[4],
                       (uint32_t)slots[5], &dst);
    if (err || (err = last_of(&src, &ls)))
        RET(err);
    if (!(err = last_of(&dst, &ld))) {
        err = HOST(renameat(ls.parent, ls.name, ld.parent, ld.name) == 0);
        close(ld.parent);
    }
    close(ls.parent);
    RET(err);
}

const HostDef wasi_path_funcs[] = {
    {"path_create_directory", "iii", "i", wasi_path_create_directory},
    {"path_filestat_get", "iiiii", "i", wasi_path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", "i", wasi_path_filestat_set_times},
    {"path_link", "iiiiiii", "i", wasi_path_link},
    {"path_open", "iiiiiIIii", "i", wasi_path_open},
    {"path_readlink", "iiiiii", "i", wasi_path_readlink},
    {"path_remove_directory", "iii", "i", wasi_path_remove_directory},
    {"path_rename", "iiiiii", "i", wasi_path_rename},
    {"path_symlink", "iiiii", "i", wasi_path_symlink},
    {"path_unlink_file", "iii", "i", wasi_path_unlink_file},
};
const size_t wasi_path_nfuncs = sizeof wasi_path_funcs / sizeof wasi_path_funcs[0];
