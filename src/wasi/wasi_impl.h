/*
 * What the WASI files share (not a public header): the numbers of
 * wasi/api.h, guest-memory access, and the capability table.
 *
 * Each function is an lw_host_fn: its arguments arrive in `slots` (i32 in
 * the low 32 bits, i64 whole) and it leaves its errno in slots[0].  A call
 * that would block parks the process (LW_BLOCK) and runs again from the top
 * when the process is woken, so each such function first asks whether it is
 * that second call (io_pending, sched_job_take).
 */
#ifndef LW_WASI_IMPL_H
#define LW_WASI_IMPL_H

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include "leonardo.h"
#include "sched/sched.h"
#include "wasi/wasi.h"

/* ---- numbers from wasi/api.h ---- */

enum {
    W_SUCCESS = 0, W_2BIG = 1, W_ACCES = 2, W_ADDRINUSE = 3, W_ADDRNOTAVAIL = 4, W_AFNOSUPPORT = 5,
    W_AGAIN = 6, W_ALREADY = 7, W_BADF = 8, W_BUSY = 10, W_CANCELED = 11, W_CONNABORTED = 13,
    W_CONNREFUSED = 14, W_CONNRESET = 15, W_DEADLK = 16, W_DESTADDRREQ = 17, W_DQUOT = 19, W_EXIST = 20,
    W_FAULT = 21, W_FBIG = 22, W_HOSTUNREACH = 23, W_ILSEQ = 25, W_INPROGRESS = 26, W_INTR = 27,
    W_INVAL = 28, W_IO = 29, W_ISCONN = 30, W_ISDIR = 31, W_LOOP = 32, W_MFILE = 33, W_MLINK = 34,
    W_MSGSIZE = 35, W_NAMETOOLONG = 37, W_NETDOWN = 38, W_NETRESET = 39, W_NETUNREACH = 40, W_NFILE = 41,
    W_NOBUFS = 42, W_NODEV = 43, W_NOENT = 44, W_NOEXEC = 45, W_NOLCK = 46, W_NOMEM = 48,
    W_NOPROTOOPT = 50, W_NOSPC = 51, W_NOSYS = 52, W_NOTCONN = 53, W_NOTDIR = 54, W_NOTEMPTY = 55,
    W_NOTSOCK = 57, W_NOTSUP = 58, W_NOTTY = 59, W_NXIO = 60, W_OVERFLOW = 61, W_PERM = 63, W_PIPE = 64,
    W_PROTO = 65, W_RANGE = 68, W_ROFS = 69, W_SPIPE = 70, W_SRCH = 71, W_STALE = 72, W_TIMEDOUT = 73,
    W_TXTBSY = 74, W_XDEV = 75, W_NOTCAPABLE = 76,
};

/* Rights (__WASI_RIGHTS_*): bit numbers in api.h order. */
#define R(n) ((uint64_t)1 << (n))
#define R_FD_DATASYNC R(0)
#define R_FD_READ R(1)
#define R_FD_SEEK R(2)
#define R_FD_FDSTAT_SET_FLAGS R(3)
#define R_FD_SYNC R(4)
#define R_FD_TELL R(5)
#define R_FD_WRITE R(6)
#define R_FD_ADVISE R(7)
#define R_FD_ALLOCATE R(8)
#define R_PATH_CREATE_DIRECTORY R(9)
#define R_PATH_CREATE_FILE R(10)
#define R_PATH_LINK_SOURCE R(11)
#define R_PATH_LINK_TARGET R(12)
#define R_PATH_OPEN R(13)
#define R_FD_READDIR R(14)
#define R_PATH_READLINK R(15)
#define R_PATH_RENAME_SOURCE R(16)
#define R_PATH_RENAME_TARGET R(17)
#define R_PATH_FILESTAT_GET R(18)
#define R_PATH_FILESTAT_SET_SIZE R(19)
#define R_PATH_FILESTAT_SET_TIMES R(20)
#define R_FD_FILESTAT_GET R(21)
#define R_FD_FILESTAT_SET_SIZE R(22)
#define R_FD_FILESTAT_SET_TIMES R(23)
#define R_PATH_SYMLINK R(24)
#define R_PATH_REMOVE_DIRECTORY R(25)
#define R_PATH_UNLINK_FILE R(26)
#define R_POLL_FD_READWRITE R(27)
#define R_SOCK_SHUTDOWN R(28)
#define R_SOCK_ACCEPT R(29)
#define R_ALL (R(30) - 1)

/* What each kind of resource can do at most. */
#define RIGHTS_FILE (R_FD_DATASYNC | R_FD_READ | R_FD_SEEK | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_TELL | \
                     R_FD_WRITE | R_FD_ADVISE | R_FD_ALLOCATE | R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_SIZE | \
                     R_FD_FILESTAT_SET_TIMES | R_POLL_FD_READWRITE)
#define RIGHTS_DIR (R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_ADVISE | R_PATH_CREATE_DIRECTORY | \
                    R_PATH_CREATE_FILE | R_PATH_LINK_SOURCE | R_PATH_LINK_TARGET | R_PATH_OPEN | R_FD_READDIR | \
                    R_PATH_READLINK | R_PATH_RENAME_SOURCE | R_PATH_RENAME_TARGET | R_PATH_FILESTAT_GET | \
                    R_PATH_FILESTAT_SET_SIZE | R_PATH_FILESTAT_SET_TIMES | R_FD_FILESTAT_GET | \
                    R_FD_FILESTAT_SET_TIMES | R_PATH_SYMLINK | R_PATH_REMOVE_DIRECTORY | R_PATH_UNLINK_FILE)
#define RIGHTS_STREAM (R_FD_READ | R_FD_WRITE | R_FD_FDSTAT_SET_FLAGS | R_FD_FILESTAT_GET | R_POLL_FD_READWRITE)
#define RIGHTS_SOCKET (RIGHTS_STREAM | R_SOCK_SHUTDOWN | R_SOCK_ACCEPT)

enum {
    FT_UNKNOWN = 0, FT_BLOCK = 1, FT_CHAR = 2, FT_DIR = 3, FT_REGULAR = 4, FT_SOCK_DGRAM = 5,
    FT_SOCK_STREAM = 6, FT_SYMLINK = 7,
};
enum { FDF_APPEND = 1, FDF_DSYNC = 2, FDF_NONBLOCK = 4, FDF_RSYNC = 8, FDF_SYNC = 16 };

/* ---- the capability table ---- */

/* A host resource behind one or more guest fds, in one or more tables. */
typedef struct Res {
    atomic_uint refs;
    int fd;                 /* the host descriptor, owned */
    uint8_t type;           /* FT_* */
    bool nonblock;          /* fd is O_NONBLOCK, ours alone: I/O that would block parks the process */
    bool socket;            /* I/O through recv/send with MSG_DONTWAIT */
    char *preopen;          /* a preopened directory's guest name (fd_prestat_*), else NULL */
    uint32_t preopen_len;
    pthread_mutex_t dir_lock;   /* fd_readdir's stream (directories) */
    DIR *dir;
    uint64_t dir_pos;       /* entries read from dir: the cookie it stands at */
} Res;

typedef struct {
    Res *res;               /* NULL: a free slot */
    uint64_t base, inheriting;
    uint16_t flags;         /* FDF_*: what fd_fdstat_get reports; NONBLOCK makes a would-block call EAGAIN */
} FdEntry;

/*
 * A process's table: guest fd -> entry.  Shared copy-on-write: a child
 * spawned with its parent's rights holds the same table, and whichever
 * changes it first (open, close, renumber...) takes a copy.  Only the
 * owning process ever changes or copies a table it holds.
 */
typedef struct WasiTable {
    atomic_uint refs;
    uint32_t n;             /* entries in use: the highest fd + 1 */
    uint32_t cap;
    bool no_env;            /* environment variables withheld (config_clear_env) */
    FdEntry *fds;
} WasiTable;

/* A NUL-separated string list as the guest sees it: argv or environ. */
typedef struct {
    uint32_t count;
    char *buf;
    uint32_t buf_len;
} StrList;

struct lw_wasi {
    StrList args, env;
    WasiTable *root;        /* the table root processes (and direct calls) start from */
    WasiTable *direct;      /* the table of calls made outside any process (lw_exec_call) */
};

Res *res_ref(Res *r);
void res_unref(Res *r);
WasiTable *table_ref(WasiTable *t);
void table_unref(WasiTable *t);

/* The calling process's table (made on first use), and the process or NULL. */
WasiTable *table_of(lw_exec *ex, lw_wasi *w, Proc **proc);
/* The same, writable: copied first if it is shared.  NULL when out of memory. */
WasiTable *table_own(lw_exec *ex, lw_wasi *w);
/* The entry of guest fd `fd` if it is open and has every right in `need`; else NULL and *err. */
FdEntry *fd_get(WasiTable *t, uint32_t fd, uint64_t need, uint16_t *err);
/* Put r (its reference taken over) in the lowest free slot; the fd or -1. */
int64_t table_add(WasiTable *t, Res *r, uint64_t base, uint64_t inheriting, uint16_t flags);
/* A new resource for a host fd it now owns (type from fstat). */
Res *res_new(int fd);

/* ---- guest memory ---- */

typedef struct {
    uint8_t *base;
    uint64_t size;
    lw_memory *mem;
} Mem;

bool mem_of(lw_exec *ex, Mem *m);
/* &mem[ptr], if [ptr, ptr+len) lies inside the memory; else NULL. */
uint8_t *mem_at(const Mem *m, uint32_t ptr, uint64_t len);

static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static inline void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Store a result at a guest pointer; false if it is out of bounds. */
bool put32(const Mem *m, uint32_t ptr, uint32_t v);
bool put64(const Mem *m, uint32_t ptr, uint64_t v);

/* A host errno as a WASI one (PATH_ENOTCAPABLE included). */
uint16_t errno_to_wasi(int e);

/* The host's file type as a WASI one. */
uint8_t filetype_of(mode_t mode);
/* __wasi_filestat_t (64 bytes) from a struct stat. */
void put_filestat(uint8_t *p, const struct stat *st);

/*
 * Iovec arrays: check the array and every buffer it names, and build host
 * iovecs (at most IOV_MAX; *total the byte count).  NULL: a bad pointer.
 */
struct iovec *iovs_get(const Mem *m, uint32_t iovs, uint32_t n, size_t *total);

/* fd_filestat_set_times' and path_filestat_set_times' arguments as utimensat's; false: EINVAL. */
bool wasi_times(uint64_t atim, uint64_t mtim, uint16_t fst, struct timespec ts[2]);

/* Advance an iovec array past `skip` bytes (changing it); *n is what is left. */
struct iovec *iov_skip(struct iovec *iov, int *n, size_t skip);
/* fd_read, fd_pread, fd_write and fd_pwrite (fd.c): (fd, iovs, iovs_len, [offset,] count_ptr). */
lw_status wasi_transfer(lw_exec *ex, lw_wasi *w, uint64_t *slots, bool write, bool positional);

/* Is this call the repeat of one that parked for I/O, and still not ready? */
bool io_pending(Proc *p);
/*
 * The I/O would block: park the process until `fd` is ready for `events`
 * (then the call runs again), or outside a process wait right here.
 * LW_BLOCK: return it.  LW_OK: try again now.  LW_TRAP: the fd cannot be
 * watched (out of descriptors): fail the call with EIO.
 */
lw_status io_wait(Proc *p, int fd, uint32_t events);

#define RET(e) do { slots[0] = (e); return LW_OK; } while (0)

/* The function tables of each file, for lw_wasi_define. */
extern const HostDef wasi_fd_funcs[];
extern const size_t wasi_fd_nfuncs;
extern const HostDef wasi_path_funcs[];
extern const size_t wasi_path_nfuncs;
extern const HostDef wasi_poll_funcs[];
extern const size_t wasi_poll_nfuncs;

#endif
