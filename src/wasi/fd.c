/*
 * WASI fd_* functions: I/O, seeking, metadata and directory listing on the
 * fds of the caller's capability table (table.c).  Every call first checks
 * that the fd is in the table with the rights the call needs.
 *
 * I/O that would block never holds the worker.  On pipes, terminals and
 * sockets (non-blocking descriptors of our own) a call that gets EAGAIN
 * parks the process until the poller says the fd is ready, then runs again;
 * a write remembers how far it got (p->wasi_done), so a guest's write is
 * always written whole, as a blocking write would be.  Regular files
 * cannot be waited for that way: when other processes wait to run on this
 * worker, their I/O goes to an I/O thread (sched_offload) while the
 * process parks; alone, it is done right here, which is cheaper.
 */
#define _GNU_SOURCE
#include "wasi/wasi_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- blocking file work on an I/O thread ---- */

enum { OP_READ, OP_WRITE, OP_PREAD, OP_PWRITE, OP_SYNC, OP_DATASYNC };

typedef struct {
    IoJob job;
    int op, fd;
    off_t off;
    struct iovec *iov;
    int n;
    ssize_t result;     /* bytes moved, or -1 and err */
    int err;
} FileJob;

/* Advance an iovec array past `skip` bytes (the array is ours to change). */
struct iovec *iov_skip(struct iovec *iov, int *n, size_t skip)
{
    while (*n > 0 && skip >= iov->iov_len) {
        skip -= iov->iov_len;
        iov++;
        (*n)--;
    }
    if (*n > 0) {
        iov->iov_base = (char *)iov->iov_base + skip;
        iov->iov_len -= skip;
    }
    return iov;
}

/* Do a file job's work; a write goes on until everything is written. */
static void file_work(FileJob *j)
{
    ssize_t done = 0;
    struct iovec *iov = j->iov;
    int n = j->n;
    for (;;) {
        ssize_t k;
        switch (j->op) {
        case OP_READ: k = readv(j->fd, iov, n); break;
        case OP_WRITE: k = writev(j->fd, iov, n); break;
        case OP_PREAD: k = preadv(j->fd, iov, n, j->off); break;
        case OP_PWRITE: k = pwritev(j->fd, iov, n, j->off + done); break;
        case OP_SYNC: k = fsync(j->fd); break;
        default: k = fdatasync(j->fd); break;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            j->err = errno;
            j->result = done > 0 ? done : -1;
            return;
        }
        done += k;
        bool writing = j->op == OP_WRITE || j->op == OP_PWRITE;
        if (!writing || k == 0)
            break;
        iov = iov_skip(iov, &n, (size_t)k);
        if (n == 0)
            break;
    }
    j->result = done;
}

static void file_job_run(IoJob *job)
{
    file_work((FileJob *)job);
}

static void job_free(FileJob *j)
{
    if (j->n > 0)
        free(j->iov);
    free(j);
}

static void file_job_destroy(IoJob *job)
{
    job_free((FileJob *)job);
}

/*
 * Run a file job: on an I/O thread if other processes wait for this
 * worker (then LW_BLOCK; the repeat call collects it with take_job), else
 * here.  Takes over j (and its iov).
 */
static lw_status file_job(Proc *p, FileJob *j)
{
    if (p && sched_others_runnable()) {
        j->job.run = file_job_run;
        j->job.destroy = file_job_destroy;
        return sched_offload(p, &j->job);
    }
    file_work(j);
    return LW_OK;
}

/* The finished job of a call that parked for one (NULL: none, or not finished). */
static FileJob *take_job(Proc *p, bool *waiting)
{
    *waiting = p && p->job;
    if (!*waiting)
        return NULL;
    FileJob *j = (FileJob *)sched_job_take(p);
    *waiting = j == NULL;
    return j;
}

/* Store a job's outcome for the guest: the count at `out`, and the errno. */
static lw_status job_result(lw_exec *ex, uint64_t *slots, FileJob *j, uint32_t out)
{
    Mem m;
    ssize_t r = j->result;
    int err = j->err;
    job_free(j);
    if (r < 0)
        RET(errno_to_wasi(err));
    if (!mem_of(ex, &m) || !put32(&m, out, (uint32_t)r))
        RET(W_FAULT);
    RET(W_SUCCESS);
}

/* ---- reading and writing ---- */

static bool is_file(const Res *r)
{
    return !r->nonblock && !r->socket && (r->type == FT_REGULAR || r->type == FT_BLOCK);
}

/*
 * fd_read, fd_pread, fd_write, fd_pwrite:
 * (fd, iovs, iovs_len, [offset i64,] count_ptr) -> errno
 */
lw_status wasi_transfer(lw_exec *ex, lw_wasi *w, uint64_t *slots, bool write, bool positional)
{
    uint32_t fd = (uint32_t)slots[0], iovs = (uint32_t)slots[1], niov = (uint32_t)slots[2];
    uint64_t offset = positional ? slots[3] : 0;
    uint32_t out = (uint32_t)slots[positional ? 4 : 3];
    Proc *p;
    WasiTable *t = table_of(ex, w, &p);
    bool waiting;
    FileJob *done_job = take_job(p, &waiting);
    if (done_job)
        return job_result(ex, slots, done_job, out);
    if (waiting || io_pending(p))
        return LW_BLOCK;

    uint16_t err;
    uint64_t need = (write ? R_FD_WRITE : R_FD_READ) | (positional ? R_FD_SEEK : 0);
    FdEntry *e = fd_get(t, fd, 0, &err);
    if (!e)
        RET(err);
    Res *r = e->res;
    if (positional && !is_file(r) && r->type != FT_DIR)
        RET(W_SPIPE);
    if ((e->base & need) != need)
        RET(W_NOTCAPABLE);
    if (r->type == FT_DIR)
        RET(W_ISDIR);
    if (positional && offset > INT64_MAX)
        RET(W_INVAL);
    Mem m;
    size_t total;
    struct iovec *iov;
    if (!mem_of(ex, &m) || !mem_at(&m, out, 4) || !(iov = iovs_get(&m, iovs, niov, &total)))
        RET(W_FAULT);
    if (total > UINT32_MAX) {
        if (niov)
            free(iov);
        RET(W_INVAL);
    }

    if (is_file(r)) {
        FileJob *j = calloc(1, sizeof *j);
        if (!j) {
            if (niov)
                free(iov);
            RET(W_NOMEM);
        }
        *j = (FileJob){ .op = write ? (positional ? OP_PWRITE : OP_WRITE) : (positional ? OP_PREAD : OP_READ),
                        .fd = r->fd, .off = (off_t)offset, .iov = iov, .n = (int)niov };
        if (file_job(p, j) == LW_BLOCK)
            return LW_BLOCK;
        return job_result(ex, slots, j, out);
    }

    /* A stream: pipe, terminal, character device or socket. */
    size_t moved = write && p ? p->wasi_done : 0;
    int n = (int)niov;
    struct iovec *cur = iov_skip(iov, &n, moved);
    uint16_t result = W_SUCCESS;
    for (;;) {
        if (n == 0 && (write || moved > 0))
            break;
        ssize_t k;
        if (r->socket) {
            struct msghdr mh = { .msg_iov = cur, .msg_iovlen = (size_t)n };
            k = write ? sendmsg(r->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) : recvmsg(r->fd, &mh, MSG_DONTWAIT);
        } else {
            k = write ? writev(r->fd, cur, n) : readv(r->fd, cur, n);
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !(e->flags & FDF_NONBLOCK)) {
            if (p)
                p->wasi_done = (uint32_t)moved;
            lw_status st = io_wait(p, r->fd, write ? EPOLLOUT : EPOLLIN);
            if (st == LW_BLOCK) {
                if (niov)
                    free(iov);
                return LW_BLOCK;
            }
            if (st == LW_OK)
                continue;   /* outside a process: it waited; try again */
            errno = EIO;    /* the fd cannot be watched */
            k = -1;
        }
        if (k < 0) {
            if (moved == 0)
                result = errno_to_wasi(errno);
            break;
        }
        moved += (size_t)k;
        if (!write || k == 0)
            break;   /* a read returns what there is; it never waits for more */
        cur = iov_skip(cur, &n, (size_t)k);
    }
    if (p)
        p->wasi_done = 0;
    if (niov)
        free(iov);
    if (result == W_SUCCESS)
        put32(&m, out, (uint32_t)moved);
    RET(result);
}

static lw_status wasi_fd_read(lw_exec *ex, void *env, uint64_t *slots)
{
    return wasi_transfer(ex, env, slots, false, false);
}

static lw_status wasi_fd_pread(lw_exec *ex, void *env, uint64_t *slots)
{
    return wasi_transfer(ex, env, slots, false, true);
}

static lw_status wasi_fd_write(lw_exec *ex, void *env, uint64_t *slots)
{
    return wasi_transfer(ex, env, slots, true, false);
}

static lw_status wasi_fd_pwrite(lw_exec *ex, void *env, uint64_t *slots)
{
    return wasi_transfer(ex, env, slots, true, true);
}

/* fd_sync(fd), fd_datasync(fd) -> errno: on an I/O thread like other file work. */
static lw_status sync_common(lw_exec *ex, lw_wasi *w, uint64_t *slots, bool data)
{
    Proc *p;
    WasiTable *t = table_of(ex, w, &p);
    bool waiting;
    FileJob *j = take_job(p, &waiting);
    if (!j) {
        if (waiting)
            return LW_BLOCK;
        uint16_t err;
        FdEntry *e = fd_get(t, (uint32_t)slots[0], data ? R_FD_DATASYNC : R_FD_SYNC, &err);
        if (!e)
            RET(err);
        if (!(j = calloc(1, sizeof *j)))
            RET(W_NOMEM);
        *j = (FileJob){ .op = data ? OP_DATASYNC : OP_SYNC, .fd = e->res->fd };
        if (file_job(p, j) == LW_BLOCK)
            return LW_BLOCK;
    }
    ssize_t r = j->result;
    int err = j->err;
    job_free(j);
    RET(r < 0 ? errno_to_wasi(err) : W_SUCCESS);
}

static lw_status wasi_fd_sync(lw_exec *ex, void *env, uint64_t *slots)
{
    return sync_common(ex, env, slots, false);
}

static lw_status wasi_fd_datasync(lw_exec *ex, void *env, uint64_t *slots)
{
    return sync_common(ex, env, slots, true);
}

/* ---- position ---- */

/* fd_seek(fd, offset, whence, newoffset_ptr) and fd_tell(fd, offset_ptr): the new position at `out`. */
static lw_status seek(lw_exec *ex, lw_wasi *w, uint64_t *slots, uint32_t fd, int64_t off, uint32_t whence, uint32_t out)
{
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, w, NULL), fd, 0, &err);
    if (!e)
        RET(err);
    if (!is_file(e->res) && e->res->type != FT_DIR)
        RET(W_SPIPE);
    /* Asking where it is needs only the right to tell. */
    uint64_t need = off == 0 && whence == 1 ? R_FD_TELL : R_FD_SEEK;
    if (!(e->base & need))
        RET(W_NOTCAPABLE);
    int how;
    switch (whence) { /* __WASI_WHENCE_SET, CUR, END */
    case 0: how = SEEK_SET; break;
    case 1: how = SEEK_CUR; break;
    case 2: how = SEEK_END; break;
    default: RET(W_INVAL);
    }
    Mem m;
    if (!mem_of(ex, &m) || !mem_at(&m, out, 8))
        RET(W_FAULT);
    off_t r = lseek(e->res->fd, (off_t)off, how);
    if (r < 0)
        RET(errno_to_wasi(errno));
    put64(&m, out, (uint64_t)r);
    RET(W_SUCCESS);
}

/* fd_seek(fd, offset i64, whence, newoffset_ptr) -> errno */
static lw_status wasi_fd_seek(lw_exec *ex, void *env, uint64_t *slots)
{
    return seek(ex, env, slots, (uint32_t)slots[0], (int64_t)slots[1], (uint32_t)slots[2], (uint32_t)slots[3]);
}

/* fd_tell(fd, offset_ptr) -> errno */
static lw_status wasi_fd_tell(lw_exec *ex, void *env, uint64_t *slots)
{
    return seek(ex, env, slots, (uint32_t)slots[0], 0, 1, (uint32_t)slots[1]);
}

/* ---- the descriptor itself ---- */

/* fd_close(fd) -> errno.  The resource closes when no table holds it. */
static lw_status wasi_fd_close(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0];
    uint16_t err;
    if (!fd_get(table_of(ex, env, NULL), fd, 0, &err))
        RET(err);
    WasiTable *t = table_own(ex, env);
    if (!t)
        RET(W_NOMEM);
    res_unref(t->fds[fd].res);
    t->fds[fd] = (FdEntry){ 0 };
    while (t->n > 0 && !t->fds[t->n - 1].res)
        t->n--;
    RET(W_SUCCESS);
}

/* fd_renumber(from, to) -> errno: `to` must be open; it is closed first. */
static lw_status wasi_fd_renumber(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t from = (uint32_t)slots[0], to = (uint32_t)slots[1];
    uint16_t err;
    WasiTable *t = table_of(ex, env, NULL);
    if (!fd_get(t, from, 0, &err) || !fd_get(t, to, 0, &err))
        RET(err);
    if (from == to)
        RET(W_SUCCESS);
    if (!(t = table_own(ex, env)))
        RET(W_NOMEM);
    res_unref(t->fds[to].res);
    t->fds[to] = t->fds[from];
    t->fds[from] = (FdEntry){ 0 };
    while (t->n > 0 && !t->fds[t->n - 1].res)
        t->n--;
    RET(W_SUCCESS);
}

/* fd_fdstat_get(fd, fdstat_ptr) -> errno.  __wasi_fdstat_t is 24 bytes:
   filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16. */
static lw_status wasi_fd_fdstat_get(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0], out = (uint32_t)slots[1];
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, env, NULL), fd, 0, &err);
    if (!e)
        RET(err);
    Mem m;
    uint8_t *p;
    if (!mem_of(ex, &m) || !(p = mem_at(&m, out, 24)))
        RET(W_FAULT);
    memset(p, 0, 24);
    p[0] = e->res->type;
    st16(p + 2, e->flags);
    st64(p + 8, e->base);
    st64(p + 16, e->inheriting);
    RET(W_SUCCESS);
}

/* fd_fdstat_set_flags(fd, flags u16) -> errno.  APPEND reaches the host
   descriptor; NONBLOCK only changes what a would-block call does here
   (EAGAIN instead of parking); the sync flags are recorded. */
static lw_status wasi_fd_fdstat_set_flags(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0];
    uint16_t flags = (uint16_t)slots[1], err;
    if (flags & ~(FDF_APPEND | FDF_DSYNC | FDF_NONBLOCK | FDF_RSYNC | FDF_SYNC))
        RET(W_INVAL);
    if (!fd_get(table_of(ex, env, NULL), fd, R_FD_FDSTAT_SET_FLAGS, &err))
        RET(err);
    WasiTable *t = table_own(ex, env);
    if (!t)
        RET(W_NOMEM);
    FdEntry *e = &t->fds[fd];
    if ((flags ^ e->flags) & FDF_APPEND) {
        int fl = fcntl(e->res->fd, F_GETFL);
        if (fl < 0 || fcntl(e->res->fd, F_SETFL, (flags & FDF_APPEND) ? fl | O_APPEND : fl & ~O_APPEND) < 0)
            RET(errno_to_wasi(errno));
    }
    e->flags = flags;
    RET(W_SUCCESS);
}

/* fd_fdstat_set_rights(fd, base i64, inheriting i64) -> errno: only ever narrower. */
static lw_status wasi_fd_fdstat_set_rights(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0];
    uint64_t base = slots[1], inh = slots[2];
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, env, NULL), fd, 0, &err);
    if (!e)
        RET(err);
    if ((base & ~e->base) || (inh & ~e->inheriting))
        RET(W_NOTCAPABLE);
    WasiTable *t = table_own(ex, env);
    if (!t)
        RET(W_NOMEM);
    t->fds[fd].base = base;
    t->fds[fd].inheriting = inh;
    RET(W_SUCCESS);
}

/* fd_advise(fd, offset i64, len i64, advice) -> errno */
static lw_status wasi_fd_advise(lw_exec *ex, void *env, uint64_t *slots)
{
    static const int advice[] = { POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                  POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE };
    uint32_t fd = (uint32_t)slots[0], a = (uint32_t)slots[3];
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, env, NULL), fd, R_FD_ADVISE, &err);
    if (!e)
        RET(err);
    if (a >= 6 || (int64_t)slots[1] < 0 || (int64_t)slots[2] < 0)
        RET(W_INVAL);
    if (e->res->type == FT_DIR)
        RET(W_BADF);
    int r = posix_fadvise(e->res->fd, (off_t)slots[1], (off_t)slots[2], advice[a]);
    RET(errno_to_wasi(r));
}

/* fd_allocate(fd, offset i64, len i64) -> errno */
static lw_status wasi_fd_allocate(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0];
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, env, NULL), fd, R_FD_ALLOCATE, &err);
    if (!e)
        RET(err);
    if ((int64_t)slots[1] < 0 || (int64_t)slots[2] <= 0)
        RET(W_INVAL);
    if (e->res->type == FT_DIR)
        RET(W_BADF);
    RET(errno_to_wasi(posix_fallocate(e->res->fd, (off_t)slots[1], (off_t)slots[2])));
}

/* ---- metadata ---- */

/* fd_filestat_get(fd, filestat_ptr) -> errno */
static lw_status wasi_fd_filestat_get(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0], out = (uint32_t)slots[1];
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, env, NULL), fd, R_FD_FILESTAT_GET, &err);
    if (!e)
        RET(err);
    Mem m;
    uint8_t *p;
    struct stat st;
    if (!mem_of(ex, &m) || !(p = mem_at(&m, out, 64)))
        RET(W_FAULT);
    if (fstat(e->res->fd, &st) != 0)
        RET(errno_to_wasi(errno));
    put_filestat(p, &st);
    RET(W_SUCCESS);
}

/* fd_filestat_set_size(fd, size i64) -> errno */
static lw_status wasi_fd_filestat_set_size(lw_exec *ex, void *env, uint64_t *slots)
{
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, env, NULL), (uint32_t)slots[0], R_FD_FILESTAT_SET_SIZE, &err);
    if (!e)
        RET(err);
    if ((int64_t)slots[1] < 0)
        RET(W_INVAL);
    RET(ftruncate(e->res->fd, (off_t)slots[1]) == 0 ? W_SUCCESS : errno_to_wasi(errno));
}

bool wasi_times(uint64_t atim, uint64_t mtim, uint16_t fst, struct timespec ts[2])
{
    enum { ATIM = 1, ATIM_NOW = 2, MTIM = 4, MTIM_NOW = 8 };
    if ((fst & ~15) || ((fst & ATIM) && (fst & ATIM_NOW)) || ((fst & MTIM) && (fst & MTIM_NOW)))
        return false;
    const uint64_t t[2] = { atim, mtim };
    for (int i = 0; i < 2; i++) {
        uint16_t set = i ? MTIM : ATIM, now = i ? MTIM_NOW : ATIM_NOW;
        if (fst & set)
            ts[i] = (struct timespec){ .tv_sec = (time_t)(t[i] / 1000000000u), .tv_nsec = (long)(t[i] % 1000000000u) };
        else
            ts[i] = (struct timespec){ .tv_nsec = (fst & now) ? UTIME_NOW : UTIME_OMIT };
    }
    return true;
}

/* fd_filestat_set_times(fd, atim i64, mtim i64, fst_flags) -> errno */
static lw_status wasi_fd_filestat_set_times(lw_exec *ex, void *env, uint64_t *slots)
{
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, env, NULL), (uint32_t)slots[0], R_FD_FILESTAT_SET_TIMES, &err);
    if (!e)
        RET(err);
    struct timespec ts[2];
    if (!wasi_times(slots[1], slots[2], (uint16_t)slots[3], ts))
        RET(W_INVAL);
    RET(futimens(e->res->fd, ts) == 0 ? W_SUCCESS : errno_to_wasi(errno));
}

/* ---- preopened directories ---- */

/* fd_prestat_get(fd, prestat_ptr) -> errno: tag 0 (a directory) @0, name length u32 @4. */
static lw_status wasi_fd_prestat_get(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0], out = (uint32_t)slots[1];
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, env, NULL), fd, 0, &err);
    if (!e || !e->res->preopen)
        RET(W_BADF);
    Mem m;
    uint8_t *p;
    if (!mem_of(ex, &m) || !(p = mem_at(&m, out, 8)))
        RET(W_FAULT);
    memset(p, 0, 8);
    st32(p + 4, e->res->preopen_len);
    RET(W_SUCCESS);
}

/* fd_prestat_dir_name(fd, path, len) -> errno: the name, without a NUL. */
static lw_status wasi_fd_prestat_dir_name(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0], buf = (uint32_t)slots[1], len = (uint32_t)slots[2];
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, env, NULL), fd, 0, &err);
    if (!e || !e->res->preopen)
        RET(W_BADF);
    if (len < e->res->preopen_len)
        RET(W_NAMETOOLONG);
    Mem m;
    uint8_t *p;
    if (!mem_of(ex, &m) || !(p = mem_at(&m, buf, len)))   /* the whole buffer the guest named */
        RET(W_FAULT);
    memcpy(p, e->res->preopen, e->res->preopen_len);
    RET(W_SUCCESS);
}

/* ---- listing a directory ---- */

static uint8_t dtype_of(int dirfd, const struct dirent *d)
{
    switch (d->d_type) {
    case DT_BLK: return FT_BLOCK;
    case DT_CHR: return FT_CHAR;
    case DT_DIR: return FT_DIR;
    case DT_REG: return FT_REGULAR;
    case DT_SOCK: return FT_SOCK_STREAM;
    case DT_LNK: return FT_SYMLINK;
    case DT_FIFO: return FT_UNKNOWN;
    default: {
        struct stat st;
        return fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? filetype_of(st.st_mode) : FT_UNKNOWN;
    }
    }
}

/*
 * fd_readdir(fd, buf, buf_len, cookie i64, bufused_ptr) -> errno
 *
 * Entries are __wasi_dirent_t (d_next u64 @0, d_ino u64 @8, d_namlen u32
 * @16, d_type u8 @20; 24 bytes) each followed by its name.  A cookie is the
 * number of entries before the next one: wasi-libc keeps cookies in a
 * `long`, 32 bits on wasm32, so the host's own 64-bit directory offsets
 * will not do.  The resource keeps its stream and how far it has read, so
 * reading on from where the last call stopped (the usual case) costs no
 * seek; any other cookie rewinds and skips.  When the buffer fills, the
 * last entry is cut off where it ends: bufused equal to buf_len is how
 * wasi-libc knows to call again with a bigger buffer.
 */
static lw_status wasi_fd_readdir(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0], buf = (uint32_t)slots[1], len = (uint32_t)slots[2];
    uint64_t cookie = slots[3];
    uint32_t out = (uint32_t)slots[4];
    uint16_t err;
    FdEntry *e = fd_get(table_of(ex, env, NULL), fd, R_FD_READDIR, &err);
    if (!e)
        RET(err);
    Res *r = e->res;
    if (r->type != FT_DIR)
        RET(W_NOTDIR);
    Mem m;
    uint8_t *p;
    if (!mem_of(ex, &m) || !(p = mem_at(&m, buf, len)) || !mem_at(&m, out, 4))
        RET(W_FAULT);

    pthread_mutex_lock(&r->dir_lock);
    if (!r->dir) {
        int dfd = openat(r->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r->dir = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!r->dir) {
            int e2 = errno;
            if (dfd >= 0)
                close(dfd);
            pthread_mutex_unlock(&r->dir_lock);
            RET(errno_to_wasi(e2));
        }
        r->dir_pos = 0;
    }
    uint16_t result = W_SUCCESS;
    /* A read that filled the buffer last time left the stream one entry
       past its cookie (the entry cut off), so that case rewinds too. */
    if (cookie != r->dir_pos) {
        rewinddir(r->dir);
        r->dir_pos = 0;
        while (r->dir_pos < cookie && readdir(r->dir))
            r->dir_pos++;
    }
    uint32_t used = 0;
    while (used < len) {
        errno = 0;
        struct dirent *d = readdir(r->dir);
        if (!d) {
            if (errno)
                result = errno_to_wasi(errno);
            break;
        }
        r->dir_pos++;
        uint8_t head[24] = { 0 };
        uint32_t namlen = (uint32_t)strlen(d->d_name);
        st64(head, r->dir_pos);
        st64(head + 8, (uint64_t)d->d_ino);
        st32(head + 16, namlen);
        head[20] = dtype_of(dirfd(r->dir), d);
        uint32_t k = len - used < 24 ? len - used : 24;
        memcpy(p + used, head, k);
        used += k;
        k = len - used < namlen ? len - used : namlen;
        memcpy(p + used, d->d_name, k);
        used += k;
        if (k < namlen)
            r->dir_pos = UINT64_MAX;   /* cut off: the next call must not read on from here */
    }
    pthread_mutex_unlock(&r->dir_lock);
    if (result == W_SUCCESS)
        put32(&m, out, used);
    RET(result);
}

const HostDef wasi_fd_funcs[] = {
    {"fd_advise", "iIIi", "i", wasi_fd_advise},
    {"fd_allocate", "iII", "i", wasi_fd_allocate},
    {"fd_close", "i", "i", wasi_fd_close},
    {"fd_datasync", "i", "i", wasi_fd_datasync},
    {"fd_fdstat_get", "ii", "i", wasi_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", "i", wasi_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", "i", wasi_fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", "i", wasi_fd_filestat_get},
    {"fd_filestat_set_size", "iI", "i", wasi_fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi", "i", wasi_fd_filestat_set_times},
    {"fd_pread", "iiiIi", "i", wasi_fd_pread},
    {"fd_prestat_get", "ii", "i", wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "iii", "i", wasi_fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", "i", wasi_fd_pwrite},
    {"fd_read", "iiii", "i", wasi_fd_read},
    {"fd_readdir", "iiiIi", "i", wasi_fd_readdir},
    {"fd_renumber", "ii", "i", wasi_fd_renumber},
    {"fd_seek", "iIii", "i", wasi_fd_seek},
    {"fd_sync", "i", "i", wasi_fd_sync},
    {"fd_tell", "ii", "i", wasi_fd_tell},
    {"fd_write", "iiii", "i", wasi_fd_write},
};
const size_t wasi_fd_nfuncs = sizeof wasi_fd_funcs / sizeof wasi_fd_funcs[0];
