/*
 * WASI preview 1: the shared helpers (guest memory, errno, iovecs, waiting),
 * arguments, environment, clocks, random bytes, exit and yield, and the
 * definition of every function.  The fd_* functions are in fd.c, path_* in
 * path_ops.c, poll_oneoff and sock_* in poll.c; the table in table.c.
 *
 * Numbers and layouts follow wasi/api.h of wasi-libc (witx
 * "wasi_snapshot_preview1").  Output goes straight to the host descriptor,
 * each fd_write looping until every byte is out, so nothing is buffered
 * here and nothing can be lost at proc_exit or on a trap.
 */
#define _GNU_SOURCE
#include "wasi/wasi_impl.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "mem/memory.h"
#include "wasi/path.h"

/* ---- guest memory ---- */

bool mem_of(lw_exec *ex, Mem *m)
{
    lw_memory *mem = lw_exec_caller_memory(ex);
    if (!mem)
        return false;
    m->base = lw_memory_data(mem, &m->size);
    m->mem = mem;
    return true;
}

uint8_t *mem_at(const Mem *m, uint32_t ptr, uint64_t len)
{
    static uint8_t empty; /* so a zero-length range in an empty memory is still non-NULL */
    if ((uint64_t)ptr + len > m->size)
        return NULL;
    memory_touch(m->mem, (uint64_t)ptr + len);   /* the caller may write there */
    return m->base ? m->base + ptr : &empty;
}

bool put32(const Mem *m, uint32_t ptr, uint32_t v)
{
    uint8_t *p = mem_at(m, ptr, 4);
    if (p)
        st32(p, v);
    return p != NULL;
}

bool put64(const Mem *m, uint32_t ptr, uint64_t v)
{
    uint8_t *p = mem_at(m, ptr, 8);
    if (p)
        st64(p, v);
    return p != NULL;
}

struct iovec *iovs_get(const Mem *m, uint32_t iovs, uint32_t n, size_t *total)
{
    static struct iovec none;
    const uint8_t *v = mem_at(m, iovs, (uint64_t)n * 8);
    if (!v || n > IOV_MAX)
        return NULL;
    if (n == 0) {
        *total = 0;
        return &none;
    }
    struct iovec *io = malloc(n * sizeof *io);
    if (!io)
        return NULL;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = ld32(v + 8 * i + 4);
        uint8_t *p = mem_at(m, ld32(v + 8 * i), len);
        if (!p) {
            free(io);
            return NULL;
        }
        io[i] = (struct iovec){ p, len };
        sum += len;
    }
    *total = sum;
    return io;
}

/* ---- errors and file types ---- */

uint16_t errno_to_wasi(int e)
{
    switch (e) {
    case 0: return W_SUCCESS;
    case PATH_ENOTCAPABLE: return W_NOTCAPABLE;
    case E2BIG: return W_2BIG;
    case EACCES: return W_ACCES;
    case EADDRINUSE: return W_ADDRINUSE;
    case EADDRNOTAVAIL: return W_ADDRNOTAVAIL;
    case EAFNOSUPPORT: return W_AFNOSUPPORT;
    case EAGAIN: return W_AGAIN;
    case EALREADY: return W_ALREADY;
    case EBADF: return W_BADF;
    case EBUSY: return W_BUSY;
    case ECANCELED: return W_CANCELED;
    case ECONNABORTED: return W_CONNABORTED;
    case ECONNREFUSED: return W_CONNREFUSED;
    case ECONNRESET: return W_CONNRESET;
    case EDEADLK: return W_DEADLK;
    case EDESTADDRREQ: return W_DESTADDRREQ;
    case EDQUOT: return W_DQUOT;
    case EEXIST: return W_EXIST;
    case EFAULT: return W_FAULT;
    case EFBIG: return W_FBIG;
    case EHOSTUNREACH: return W_HOSTUNREACH;
    case EILSEQ: return W_ILSEQ;
    case EINPROGRESS: return W_INPROGRESS;
    case EINTR: return W_INTR;
    case EINVAL: return W_INVAL;
    case EIO: return W_IO;
    case EISCONN: return W_ISCONN;
    case EISDIR: return W_ISDIR;
    case ELOOP: return W_LOOP;
    case EMFILE: return W_MFILE;
    case EMLINK: return W_MLINK;
    case EMSGSIZE: return W_MSGSIZE;
    case ENAMETOOLONG: return W_NAMETOOLONG;
    case ENETDOWN: return W_NETDOWN;
    case ENETRESET: return W_NETRESET;
    case ENETUNREACH: return W_NETUNREACH;
    case ENFILE: return W_NFILE;
    case ENOBUFS: return W_NOBUFS;
    case ENODEV: return W_NODEV;
    case ENOENT: return W_NOENT;
    case ENOEXEC: return W_NOEXEC;
    case ENOLCK: return W_NOLCK;
    case ENOMEM: return W_NOMEM;
    case ENOPROTOOPT: return W_NOPROTOOPT;
    case ENOSPC: return W_NOSPC;
    case ENOSYS: return W_NOSYS;
    case ENOTCONN: return W_NOTCONN;
    case ENOTDIR: return W_NOTDIR;
    case ENOTEMPTY: return W_NOTEMPTY;
    case ENOTSOCK: return W_NOTSOCK;
    case EOPNOTSUPP: return W_NOTSUP;
    case ENOTTY: return W_NOTTY;
    case ENXIO: return W_NXIO;
    case EOVERFLOW: return W_OVERFLOW;
    case EPERM: return W_PERM;
    case EPIPE: return W_PIPE;
    case EPROTO: return W_PROTO;
    case ERANGE: return W_RANGE;
    case EROFS: return W_ROFS;
    case ESPIPE: return W_SPIPE;
    case ESRCH: return W_SRCH;
    case ESTALE: return W_STALE;
    case ETIMEDOUT: return W_TIMEDOUT;
    case ETXTBSY: return W_TXTBSY;
    case EXDEV: return W_XDEV;
    default: return W_IO;
    }
}

uint8_t filetype_of(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFBLK: return FT_BLOCK;
    case S_IFCHR: return FT_CHAR;
    case S_IFDIR: return FT_DIR;
    case S_IFREG: return FT_REGULAR;
    case S_IFSOCK: return FT_SOCK_STREAM;
    case S_IFLNK: return FT_SYMLINK;
    default: return FT_UNKNOWN;   /* FIFOs too, as wasi-libc expects */
    }
}

static uint64_t ns_of(struct timespec ts)
{
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void put_filestat(uint8_t *p, const struct stat *st)
{
    memset(p, 0, 64);
    st64(p, (uint64_t)st->st_dev);
    st64(p + 8, (uint64_t)st->st_ino);
    p[16] = filetype_of(st->st_mode);
    st64(p + 24, (uint64_t)st->st_nlink);
    st64(p + 32, (uint64_t)st->st_size);
    st64(p + 40, ns_of(st->st_atim));
    st64(p + 48, ns_of(st->st_mtim));
    st64(p + 56, ns_of(st->st_ctim));
}

/* ---- waiting ---- */

bool io_pending(Proc *p)
{
    return p && p->wait == WAIT_IO && sched_wait_io_until(p, -1, 0, 0) == LW_BLOCK;
}

lw_status io_wait(Proc *p, int fd, uint32_t events)
{
    if (p)
        return sched_wait_io(p, fd, events);
    struct pollfd pf = { .fd = fd, .events = (short)((events & EPOLLIN ? POLLIN : 0) | (events & EPOLLOUT ? POLLOUT : 0)) };
    while (poll(&pf, 1, -1) < 0 && errno == EINTR)
        ;
    return LW_OK;
}

/* ---- args and environ ---- */

static void sizes_get(const StrList *l, lw_exec *ex, uint64_t *slots)
{
    uint32_t count_ptr = (uint32_t)slots[0], size_ptr = (uint32_t)slots[1];
    Mem m;
    if (!mem_of(ex, &m) || !mem_at(&m, count_ptr, 4) || !mem_at(&m, size_ptr, 4)) {
        slots[0] = W_FAULT;
        return;
    }
    put32(&m, count_ptr, l->count);
    put32(&m, size_ptr, l->buf_len);
    slots[0] = W_SUCCESS;
}

/* Write the pointer array at `ptrs` and the strings at `buf`. */
static void list_get(const StrList *l, lw_exec *ex, uint64_t *slots)
{
    uint32_t ptrs = (uint32_t)slots[0], buf = (uint32_t)slots[1];
    Mem m;
    uint8_t *pp, *bp;
    if (!mem_of(ex, &m) || !(pp = mem_at(&m, ptrs, (uint64_t)l->count * 4)) ||
        !(bp = mem_at(&m, buf, l->buf_len))) {
        slots[0] = W_FAULT;
        return;
    }
    if (l->buf_len)
        memcpy(bp, l->buf, l->buf_len);
    uint32_t off = 0;
    for (uint32_t i = 0; i < l->count; i++) {
        st32(pp + 4 * i, buf + off); /* fits: buf + buf_len was checked */
        off += (uint32_t)strlen(l->buf + off) + 1;
    }
    slots[0] = W_SUCCESS;
}

static const StrList no_env;

/* The environment this caller sees: none if its configuration withheld it. */
static const StrList *env_of(lw_exec *ex, lw_wasi *w)
{
    return table_of(ex, w, NULL)->no_env ? &no_env : &w->env;
}

static lw_status wasi_args_sizes_get(lw_exec *ex, void *env, uint64_t *slots)
{
    sizes_get(&((lw_wasi *)env)->args, ex, slots);
    return LW_OK;
}

static lw_status wasi_args_get(lw_exec *ex, void *env, uint64_t *slots)
{
    list_get(&((lw_wasi *)env)->args, ex, slots);
    return LW_OK;
}

static lw_status wasi_environ_sizes_get(lw_exec *ex, void *env, uint64_t *slots)
{
    sizes_get(env_of(ex, env), ex, slots);
    return LW_OK;
}

static lw_status wasi_environ_get(lw_exec *ex, void *env, uint64_t *slots)
{
    list_get(env_of(ex, env), ex, slots);
    return LW_OK;
}

/* ---- clock, random, exit, yield ---- */

/* Write clock `id`'s time or resolution (`query`) at guest address `out`, in nanoseconds. */
static lw_status clock_query(lw_exec *ex, uint64_t *slots, uint32_t id, uint32_t out,
                             int (*query)(clockid_t, struct timespec *))
{
    static const clockid_t clocks[] = {
        CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
    };
    Mem m;
    uint8_t *p;
    struct timespec ts;
    if (id >= sizeof clocks / sizeof clocks[0])
        RET(W_INVAL);
    if (!mem_of(ex, &m) || !(p = mem_at(&m, out, 8)))
        RET(W_FAULT);
    if (query(clocks[id], &ts) != 0)
        RET(errno_to_wasi(errno));
    st64(p, ns_of(ts));
    RET(W_SUCCESS);
}

/* clock_time_get(id, precision i64, time_ptr) -> errno */
static lw_status wasi_clock_time_get(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)env;
    return clock_query(ex, slots, (uint32_t)slots[0], (uint32_t)slots[2], clock_gettime);
}

/* clock_res_get(id, resolution_ptr) -> errno */
static lw_status wasi_clock_res_get(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)env;
    return clock_query(ex, slots, (uint32_t)slots[0], (uint32_t)slots[1], clock_getres);
}

/* random_get(buf, len) -> errno */
static lw_status wasi_random_get(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)env;
    uint32_t buf = (uint32_t)slots[0], len = (uint32_t)slots[1];
    Mem m;
    uint8_t *p;
    if (!mem_of(ex, &m) || !(p = mem_at(&m, buf, len)))
        RET(W_FAULT);
    while (len > 0) {
        ssize_t k = getrandom(p, len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            RET(errno_to_wasi(errno));
        p += k;
        len -= (uint32_t)k;
    }
    RET(W_SUCCESS);
}

/* sched_yield() -> errno: to the back of the run queue, if anyone else waits. */
static lw_status wasi_sched_yield(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)env;
    Proc *p = sched_proc_of(ex);
    slots[0] = W_SUCCESS;
    return p ? sched_yield_call(p) : LW_OK;
}

/* proc_exit(code): ends the process; for the root, leonardo exits with it. */
static lw_status wasi_proc_exit(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)env;
    lw_exec_set_exit(ex, (int)(uint32_t)slots[0]);
    return LW_EXIT;
}

/* proc_raise(sig) -> errno: signals are not part of this sandbox. */
static lw_status wasi_proc_raise(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex;
    (void)env;
    RET(W_NOSYS);
}

/* ---- definitions ---- */

static const HostDef wasi_funcs[] = {
    {"args_get", "ii", "i", wasi_args_get},
    {"args_sizes_get", "ii", "i", wasi_args_sizes_get},
    {"environ_get", "ii", "i", wasi_environ_get},
    {"environ_sizes_get", "ii", "i", wasi_environ_sizes_get},
    {"clock_res_get", "ii", "i", wasi_clock_res_get},
    {"clock_time_get", "iIi", "i", wasi_clock_time_get},
    {"random_get", "ii", "i", wasi_random_get},
    {"proc_exit", "i", "", wasi_proc_exit},
    {"proc_raise", "i", "i", wasi_proc_raise},
    {"sched_yield", "", "i", wasi_sched_yield},
};

static uint32_t types_of(const char *s, lw_valtype *out)
{
    uint32_t n = 0;
    for (; *s; s++)
        out[n++] = *s == 'I' ? LW_I64 : LW_I32;
    return n;
}

bool host_define_all(lw_store *s, const char *module, const HostDef *defs, size_t n, void *env)
{
    for (size_t i = 0; i < n; i++) {
        lw_valtype params[10], results[1];
        uint32_t np = types_of(defs[i].params, params);
        uint32_t nr = types_of(defs[i].results, results);
        lw_func *f = lw_func_new_host(s, params, np, results, nr, defs[i].fn, env, defs[i].name);
        if (!f)
            return false;
        lw_extern e = {.kind = LW_EXTERN_FUNC, .of.func = f};
        lw_store_define(s, module, defs[i].name, e);
    }
    return true;
}

/* WASI's tables, which lw_wasi_define defines and host_tables lists. */
static size_t wasi_tables(HostTable out[HOST_TABLES_MAX])
{
    static const char mod[] = "wasi_snapshot_preview1";
    size_t n = 0;
    out[n++] = (HostTable){mod, wasi_funcs, sizeof wasi_funcs / sizeof wasi_funcs[0]};
    out[n++] = (HostTable){mod, wasi_fd_funcs, wasi_fd_nfuncs};
    out[n++] = (HostTable){mod, wasi_path_funcs, wasi_path_nfuncs};
    out[n++] = (HostTable){mod, wasi_poll_funcs, wasi_poll_nfuncs};
    return n;
}

size_t host_tables(HostTable out[HOST_TABLES_MAX])
{
    size_t n = wasi_tables(out), k;
    const HostDef *p = process_api_defs(&k);
    out[n++] = (HostTable){"leonardo", p, k};
    return n;
}

bool lw_wasi_define(lw_wasi *w, lw_store *s)
{
    HostTable t[HOST_TABLES_MAX];
    size_t n = wasi_tables(t);
    for (size_t i = 0; i < n; i++)
        if (!host_define_all(s, t[i].module, t[i].defs, t[i].n, w))
            return false;
    return true;
}

bool lw_wasi_attach(lw_wasi *w, lw_runtime *rt)
{
    rt->wasi = w;
    return lw_wasi_define(w, lw_runtime_store(rt));
}
