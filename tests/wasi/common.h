/*
 * Shared by the guest programs of tests/wasi (C compiled to wasm32-wasi,
 * run by tests/test_wasi_guest.c under leonardo and under node's WASI).
 *
 * Output must be the same on every run and every runtime: errors are
 * printed by their WASI names (wasi-libc's errno values are WASI's), never
 * with strerror or numbers that depend on the host.
 */
#ifndef WASI_GUEST_COMMON_H
#define WASI_GUEST_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

/* The WASI errno names, in the order of their values (api.h). */
static const char *const wasi_errno_names[] = {
    "ok", "E2BIG", "EACCES", "EADDRINUSE", "EADDRNOTAVAIL", "EAFNOSUPPORT", "EAGAIN", "EALREADY",
    "EBADF", "EBADMSG", "EBUSY", "ECANCELED", "ECHILD", "ECONNABORTED", "ECONNREFUSED", "ECONNRESET",
    "EDEADLK", "EDESTADDRREQ", "EDOM", "EDQUOT", "EEXIST", "EFAULT", "EFBIG", "EHOSTUNREACH",
    "EIDRM", "EILSEQ", "EINPROGRESS", "EINTR", "EINVAL", "EIO", "EISCONN", "EISDIR",
    "ELOOP", "EMFILE", "EMLINK", "EMSGSIZE", "EMULTIHOP", "ENAMETOOLONG", "ENETDOWN", "ENETRESET",
    "ENETUNREACH", "ENFILE", "ENOBUFS", "ENODEV", "ENOENT", "ENOEXEC", "ENOLCK", "ENOLINK",
    "ENOMEM", "ENOMSG", "ENOPROTOOPT", "ENOSPC", "ENOSYS", "ENOTCONN", "ENOTDIR", "ENOTEMPTY",
    "ENOTRECOVERABLE", "ENOTSOCK", "ENOTSUP", "ENOTTY", "ENXIO", "EOVERFLOW", "EOWNERDEAD", "EPERM",
    "EPIPE", "EPROTO", "EPROTONOSUPPORT", "EPROTOTYPE", "ERANGE", "EROFS", "ESPIPE", "ESRCH",
    "ESTALE", "ETIMEDOUT", "ETXTBSY", "EXDEV", "ENOTCAPABLE",
};

static inline const char *errname(int e)
{
    static char other[24];
    if (e >= 0 && e < (int)(sizeof wasi_errno_names / sizeof wasi_errno_names[0]))
        return wasi_errno_names[e];
    snprintf(other, sizeof other, "errno %d", e);
    return other;
}

/* "label: ok" when a libc call succeeded (r >= 0), else "label: ENAME". */
static inline void show(const char *label, long r)
{
    if (r < 0)
        printf("%s: %s\n", label, errname(errno));
    else
        printf("%s: ok\n", label);
}

/* The same for a raw WASI call, which returns the errno itself. */
static inline void show_raw(const char *label, int e)
{
    printf("%s: %s\n", label, e ? errname(e) : "ok");
}

/* Invariants that print nothing when they hold: a failure is one line that
   names the source line, and makes the program exit 1 at the end. */
static int check_failures;
#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            printf("CHECK FAILED at line %d: %s\n", __LINE__, #cond);     \
            check_failures++;                                             \
        }                                                                 \
    } while (0)

/*
 * The raw imports, declared here with the lengths of their strings: the
 * wrappers in <wasi/api.h> take NUL-terminated strings and call strlen, so
 * they cannot pass a path with a NUL inside, or a length that lies.
 */
#define WASI_IMPORT(name) \
    __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))

WASI_IMPORT("path_open")
int32_t raw_path_open(int32_t fd, int32_t dirflags, const char *path, int32_t path_len, int32_t oflags,
                      int64_t rights_base, int64_t rights_inheriting, int32_t fdflags, int32_t *fd_out);
WASI_IMPORT("path_filestat_get")
int32_t raw_path_filestat_get(int32_t fd, int32_t flags, const char *path, int32_t path_len,
                              __wasi_filestat_t *out);
WASI_IMPORT("path_create_directory")
int32_t raw_path_create_directory(int32_t fd, const char *path, int32_t path_len);
WASI_IMPORT("fd_write")
int32_t raw_fd_write(int32_t fd, const __wasi_ciovec_t *iovs, int32_t iovs_len, int32_t *nwritten);
WASI_IMPORT("fd_read")
int32_t raw_fd_read(int32_t fd, const __wasi_iovec_t *iovs, int32_t iovs_len, int32_t *nread);

/* Rights for a raw path_open of a file that reads and writes, or a directory that may do anything. */
#define RIGHTS_FILE_RW                                                                            \
    (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL | \
     __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE)
#define RIGHTS_ALL ((__wasi_rights_t)0x1fffffff)

#endif
