/*
 * Confined path resolution for WASI: every path a guest gives a `path_*`
 * call is resolved beneath the directory fd it is relative to (a preopen, or
 * a directory opened from one), and can never name anything outside it,
 * whatever `..`, symlinks or concurrent renames it tries.
 *
 * openat2(2) with RESOLVE_BENEATH does this in the kernel where it exists;
 * elsewhere a component-by-component walker does it in user space.  Both give
 * the same answers (tests/test_wasi_path.c runs every case both ways).
 * Thread-safe: no global state but two atomic flags.
 */
#ifndef LW_WASI_PATH_H
#define LW_WASI_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Returned (instead of a host errno) when a path would leave its directory:
   the WASI functions map it to __WASI_ERRNO_NOTCAPABLE. */
#define PATH_ENOTCAPABLE 10000

/* Resolve with the component-by-component walker even where openat2 exists
   (the tests run every case both ways). */
void path_force_walker(bool on);
/* Whether openat2(RESOLVE_BENEATH) is in use (false once it answered ENOSYS, or when forced).
   The first call asks the kernel once (an openat2 that cannot succeed). */
bool path_uses_openat2(void);

/*
 * Open `path` (`len` bytes, not NUL-terminated, relative) beneath the
 * directory `dirfd`, with open(2) `flags` (O_CREAT, O_DIRECTORY, O_PATH,
 * O_NOFOLLOW... as given) and `mode`.  `follow`: whether a symlink as the
 * LAST component is followed (if false, O_NOFOLLOW semantics: ELOOP on a
 * symlink, or with O_PATH the link itself may be opened).  Symlinks in the
 * middle are always followed, but only while every step stays beneath dirfd.
 * Returns 0 and *out (a new fd, O_CLOEXEC), or a positive errno /
 * PATH_ENOTCAPABLE (and *out = -1).
 *
 * As open(2): O_NOFOLLOW in `flags` means follow = false; a trailing slash
 * ("dir/") makes the last component a directory that is followed even when
 * follow is false, and with O_CREAT gives EISDIR.  With O_PATH, only
 * O_DIRECTORY and O_NOFOLLOW of the other flags count (open(2) ignores the
 * rest; openat2 would refuse them).  A path of PATH_MAX bytes or more:
 * ENAMETOOLONG.
 */
int path_open_beneath(int dirfd, const char *path, size_t len, int flags, mode_t mode, bool follow, int *out);

/*
 * For the calls that act on the last component itself (mkdirat, unlinkat,
 * renameat, linkat, symlinkat, readlinkat, fstatat with AT_SYMLINK_NOFOLLOW,
 * utimensat with AT_SYMLINK_NOFOLLOW): open the directory that holds the
 * last component, beneath dirfd, and give that component's name.
 * *parent is a new fd (O_PATH|O_DIRECTORY|O_CLOEXEC: the *at calls accept
 * it) the caller closes; `name` receives the last component, NUL-terminated
 * (at most NAME_MAX bytes, else ENAMETOOLONG).  A trailing slash ("dir/")
 * is allowed and sets *trailing_slash (the caller may need it: e.g. unlink
 * of "file/" must fail with ENOTDIR).  A last component of "." or "..":
 * the whole path is resolved as a directory (beneath dirfd — so ".." at the
 * top is PATH_ENOTCAPABLE) and that directory is *parent, with name ".".
 * The last component itself is not looked at (it may be missing, or a
 * symlink pointing anywhere).  Returns 0, or a positive errno /
 * PATH_ENOTCAPABLE (and *parent = -1).
 */
int path_parent_beneath(int dirfd, const char *path, size_t len, int *parent, char name[256], bool *trailing_slash);

#endif
