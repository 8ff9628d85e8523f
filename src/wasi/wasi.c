/*
 * The minimal WASI preview 1; see wasi.h for what is here and what is not.
 *
 * Each function is an lw_host_fn: its arguments arrive in `slots` (i32 in the
 * low 32 bits, i64 whole) and it leaves its errno in slots[0].  Numbers and
 * layouts follow wasi/api.h of wasi-libc (witx "wasi_snapshot_preview1").
 *
 * Output goes straight to the host descriptor with write(2), looping until
 * every byte is out, so nothing is buffered here and nothing can be lost at
 * proc_exit or on a trap.
 */
#define _GNU_SOURCE
#include "wasi/wasi.h"
#include "mem/memory.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* WASI errno values (api.h __WASI_ERRNO_*). */
enum {
    W_SUCCESS = 0, W_ACCES = 2, W_AGAIN = 6, W_BADF = 8, W_FAULT = 21,
    W_INTR = 27, W_INVAL = 28, W_IO = 29, W_ISDIR = 31, W_NOSPC = 51,
    W_NOSYS = 52, W_OVERFLOW = 61, W_PERM = 63, W_PIPE = 64, W_SPIPE = 70,
};

/* Rights bits (api.h __WASI_RIGHTS_*) and file types (__WASI_FILETYPE_*). */
#define R_FD_READ           (1ull << 1)
#define R_FD_SEEK           (1ull << 2)
#define R_FD_FDSTAT_SET     (1ull << 3)
#define R_FD_TELL           (1ull << 5)
#define R_FD_WRITE          (1ull << 6)
#define R_POLL_FD_READWRITE (1ull << 27)
enum { FT_UNKNOWN = 0, FT_BLOCK = 1, FT_CHAR = 2, FT_DIR = 3, FT_REGULAR = 4 };

#define NFDS 3

/* A NUL-separated string list as the guest sees it: argv or environ. */
typedef struct {
    uint32_t count;
    char *buf;          /* the strings back to back, each NUL-terminated */
    uint32_t buf_len;
} StrList;

struct lw_wasi {
    StrList args, env;
    int host_fd[NFDS];  /* -1 once the guest closed it */
};

/* ---- guest memory access ---- */

/* The caller's memory 0; every pointer a function receives is checked here. */
typedef struct {
    uint8_t *base;
    uint64_t size;
    lw_memory *mem;
} Mem;

static bool mem_of(lw_exec *ex, Mem *m)
{
    lw_memory *mem = lw_exec_caller_memory(ex);
    if (!mem)
        return false;
    m->base = lw_memory_data(mem, &m->size);
    m->mem = mem;
    return true;
}

/* &mem[ptr], if [ptr, ptr+len) lies inside the memory; else NULL. */
static uint8_t *mem_at(const Mem *m, uint32_t ptr, uint64_t len)
{
    static uint8_t empty; /* so a zero-length range in an empty memory is still non-NULL */
    if ((uint64_t)ptr + len > m->size)
        return NULL;
    memory_touch(m->mem, (uint64_t)ptr + len);   /* the caller may write there */
    return m->base ? m->base + ptr : &empty;
}

/* Little-endian loads and stores, byte by byte: guest data is unaligned. */
static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Store a u32 result at a guest pointer; false if it is out of bounds. */
static bool put32(const Mem *m, uint32_t ptr, uint32_t v)
{
    uint8_t *p = mem_at(m, ptr, 4);
    if (!p)
        return false;
    st32(p, v);
    return true;
}

static uint16_t errno_to_wasi(int e)
{
    switch (e) {
    case EBADF: return W_BADF;
    case EPIPE: return W_PIPE;
    case ENOSPC: return W_NOSPC;
    case EAGAIN: return W_AGAIN;
    case EINTR: return W_INTR;
    case EINVAL: return W_INVAL;
    case ESPIPE: return W_SPIPE;
    case EACCES: return W_ACCES;
    case EPERM: return W_PERM;
    case EISDIR: return W_ISDIR;
    case EOVERFLOW: return W_OVERFLOW;
    case EFAULT: return W_FAULT;
    default: return W_IO;
    }
}

#define RET(e) do { slots[0] = (e); return LW_OK; } while (0)

static int host_fd(const lw_wasi *w, uint32_t fd)
{
    return fd < NFDS ? w->host_fd[fd] : -1;
}

/* ---- iovecs ---- */

/* Check an iovec array and every buffer it names; returns the array or NULL. */
static const uint8_t *iovs_check(const Mem *m, uint32_t iovs, uint32_t n, uint64_t *total)
{
    const uint8_t *v = mem_at(m, iovs, (uint64_t)n * 8);
    if (!v)
        return NULL;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = ld32(v + 8 * i + 4);
        if (!mem_at(m, ld32(v + 8 * i), len))
            return NULL;
        sum += len;
    }
    *total = sum;
    return v;
}

/* ---- fd_* ---- */

/* fd_write(fd, iovs, iovs_len, nwritten_ptr) -> errno */
static lw_status wasi_fd_write(lw_exec *ex, void *env, uint64_t *slots)
{
    lw_wasi *w = env;
    uint32_t fd = (uint32_t)slots[0], iovs = (uint32_t)slots[1];
    uint32_t n = (uint32_t)slots[2], out = (uint32_t)slots[3];
    int hfd = host_fd(w, fd);
    Mem m;
    uint64_t total;
    if (hfd < 0 || fd == 0)
        RET(W_BADF);
    if (!mem_of(ex, &m))
        RET(W_FAULT);
    /* Check everything before writing anything, so a bad pointer writes nothing. */
    const uint8_t *v = iovs_check(&m, iovs, n, &total);
    if (!v || !mem_at(&m, out, 4))
        RET(W_FAULT);
    if (total > UINT32_MAX)
        RET(W_INVAL);
    uint32_t done = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = ld32(v + 8 * i + 4);
        const uint8_t *p = mem_at(&m, ld32(v + 8 * i), len); /* checked above */
        while (len > 0) {
            ssize_t k = write(hfd, p, len);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                /* Report what did get out, as POSIX writev does. */
                if (done > 0)
                    goto out;
                RET(errno_to_wasi(errno));
            }
            p += k;
            len -= (uint32_t)k;
            done += (uint32_t)k;
        }
    }
out:
    put32(&m, out, done);
    RET(W_SUCCESS);
}

/* fd_read(fd, iovs, iovs_len, nread_ptr) -> errno: standard input only. */
static lw_status wasi_fd_read(lw_exec *ex, void *env, uint64_t *slots)
{
    lw_wasi *w = env;
    uint32_t fd = (uint32_t)slots[0], iovs = (uint32_t)slots[1];
    uint32_t n = (uint32_t)slots[2], out = (uint32_t)slots[3];
    int hfd = host_fd(w, fd);
    Mem m;
    uint64_t total;
    if (hfd < 0 || fd != 0)
        RET(W_BADF);
    if (!mem_of(ex, &m))
        RET(W_FAULT);
    const uint8_t *v = iovs_check(&m, iovs, n, &total);
    if (!v || !mem_at(&m, out, 4))
        RET(W_FAULT);
    uint32_t done = 0;
    for (uint32_t i = 0; i < n; i++) {
        /* Checked again here: a buffer read into earlier may have been the
           iovec array itself, so this entry may have changed since. */
        uint32_t len = ld32(v + 8 * i + 4);
        uint8_t *p = mem_at(&m, ld32(v + 8 * i), len);
        if (!p) {
            if (done > 0)
                break;
            RET(W_FAULT);
        }
        if (len == 0)
            continue;
        ssize_t k;
        do
            k = read(hfd, p, len);
        while (k < 0 && errno == EINTR);
        if (k < 0) {
            if (done > 0)
                break;
            RET(errno_to_wasi(errno));
        }
        done += (uint32_t)k;
        if ((uint32_t)k < len) /* a short read: don't block for more */
            break;
    }
    put32(&m, out, done);
    RET(W_SUCCESS);
}

/* fd_seek(fd, offset i64, whence, newoffset_ptr) -> errno */
static lw_status wasi_fd_seek(lw_exec *ex, void *env, uint64_t *slots)
{
    lw_wasi *w = env;
    uint32_t fd = (uint32_t)slots[0], whence = (uint32_t)slots[2], out = (uint32_t)slots[3];
    int64_t off = (int64_t)slots[1];
    int hfd = host_fd(w, fd);
    Mem m;
    if (hfd < 0)
        RET(W_BADF);
    if (!mem_of(ex, &m) || !mem_at(&m, out, 8))
        RET(W_FAULT);
    int how;
    switch (whence) { /* __WASI_WHENCE_SET, CUR, END */
    case 0: how = SEEK_SET; break;
    case 1: how = SEEK_CUR; break;
    case 2: how = SEEK_END; break;
    default: RET(W_INVAL);
    }
    off_t r = lseek(hfd, (off_t)off, how);
    if (r < 0)
        RET(errno_to_wasi(errno));
    st64(mem_at(&m, out, 8), (uint64_t)r);
    RET(W_SUCCESS);
}

/* fd_tell(fd, offset_ptr) -> errno */
static lw_status wasi_fd_tell(lw_exec *ex, void *env, uint64_t *slots)
{
    lw_wasi *w = env;
    uint32_t fd = (uint32_t)slots[0], out = (uint32_t)slots[1];
    int hfd = host_fd(w, fd);
    Mem m;
    uint8_t *p;
    if (hfd < 0)
        RET(W_BADF);
    if (!mem_of(ex, &m) || !(p = mem_at(&m, out, 8)))
        RET(W_FAULT);
    off_t r = lseek(hfd, 0, SEEK_CUR);
    if (r < 0)
        RET(errno_to_wasi(errno));
    st64(p, (uint64_t)r);
    RET(W_SUCCESS);
}

/* fd_close(fd) -> errno.  The host's standard streams stay open; the guest
   just loses its handle. */
static lw_status wasi_fd_close(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex;
    lw_wasi *w = env;
    uint32_t fd = (uint32_t)slots[0];
    if (host_fd(w, fd) < 0)
        RET(W_BADF);
    w->host_fd[fd] = -1;
    RET(W_SUCCESS);
}

/* fd_fdstat_get(fd, fdstat_ptr) -> errno.  __wasi_fdstat_t is 24 bytes:
   filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16. */
static lw_status wasi_fd_fdstat_get(lw_exec *ex, void *env, uint64_t *slots)
{
    lw_wasi *w = env;
    uint32_t fd = (uint32_t)slots[0], out = (uint32_t)slots[1];
    int hfd = host_fd(w, fd);
    Mem m;
    uint8_t *p;
    if (hfd < 0)
        RET(W_BADF);
    if (!mem_of(ex, &m) || !(p = mem_at(&m, out, 24)))
        RET(W_FAULT);
    struct stat st;
    uint8_t type = FT_UNKNOWN;
    uint64_t rights = (fd == 0 ? R_FD_READ : R_FD_WRITE) | R_POLL_FD_READWRITE | R_FD_FDSTAT_SET;
    if (fstat(hfd, &st) == 0) {
        if (S_ISCHR(st.st_mode))
            type = FT_CHAR;
        else if (S_ISBLK(st.st_mode))
            type = FT_BLOCK;
        else if (S_ISDIR(st.st_mode))
            type = FT_DIR;
        else if (S_ISREG(st.st_mode))
            type = FT_REGULAR;
    }
    /* wasi-libc's isatty() is "a character device without seek rights". */
    if (type == FT_REGULAR || type == FT_BLOCK)
        rights |= R_FD_SEEK | R_FD_TELL;
    memset(p, 0, 24);
    p[0] = type;
    st16(p + 2, 0);
    st64(p + 8, rights);
    st64(p + 16, 0);
    RET(W_SUCCESS);
}

/* fd_prestat_get(fd, prestat_ptr) and fd_prestat_dir_name(fd, path, len):
   there are no preopened directories yet. */
static lw_status wasi_fd_prestat_get(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex;
    (void)env;
    RET(W_BADF);
}

static lw_status wasi_fd_prestat_dir_name(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex;
    (void)env;
    RET(W_BADF);
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
    sizes_get(&((lw_wasi *)env)->env, ex, slots);
    return LW_OK;
}

static lw_status wasi_environ_get(lw_exec *ex, void *env, uint64_t *slots)
{
    list_get(&((lw_wasi *)env)->env, ex, slots);
    return LW_OK;
}

/* ---- clock, random, exit ---- */

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
    st64(p, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
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

/* sched_yield() -> errno: one thread per program, nothing to yield to. */
static lw_status wasi_sched_yield(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex;
    (void)env;
    RET(W_SUCCESS);
}

/* The rest of preview 1 answers ENOSYS for now, so that a program that
   merely links them (wasi-libc's stat, opendir, poll...) still runs. */
static lw_status wasi_nosys(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex;
    (void)env;
    RET(W_NOSYS);
}

/* proc_exit(code): ends the program; the embedder reads lw_exec_exit_code(). */
static lw_status wasi_proc_exit(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)env;
    lw_exec_set_exit(ex, (int)(uint32_t)slots[0]);
    return LW_EXIT;
}

/* ---- setup ---- */

static bool strlist_init(StrList *l, int n, const char *const *v)
{
    size_t size = 0;
    for (int i = 0; i < n; i++)
        size += strlen(v[i]) + 1;
    if (size > UINT32_MAX / 2)
        return false;
    l->buf = malloc(size ? size : 1);
    if (!l->buf)
        return false;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t k = strlen(v[i]) + 1;
        memcpy(l->buf + off, v[i], k);
        off += k;
    }
    l->count = (uint32_t)n;
    l->buf_len = (uint32_t)size;
    return true;
}

lw_wasi *lw_wasi_new(const lw_wasi_config *cfg)
{
    lw_wasi *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (!strlist_init(&w->args, cfg->argc, cfg->argv) ||
        !strlist_init(&w->env, cfg->envc, cfg->envp)) {
        lw_wasi_free(w);
        return NULL;
    }
    w->host_fd[0] = cfg->stdin_fd;
    w->host_fd[1] = cfg->stdout_fd;
    w->host_fd[2] = cfg->stderr_fd;
    return w;
}

void lw_wasi_free(lw_wasi *w)
{
    if (!w)
        return;
    free(w->args.buf);
    free(w->env.buf);
    free(w);
}

/* The functions and their wasm types: 'i' i32, 'I' i64 ("" for none). */
static const HostDef wasi_funcs[] = {
    {"args_get", "ii", "i", wasi_args_get},
    {"args_sizes_get", "ii", "i", wasi_args_sizes_get},
    {"environ_get", "ii", "i", wasi_environ_get},
    {"environ_sizes_get", "ii", "i", wasi_environ_sizes_get},
    {"clock_time_get", "iIi", "i", wasi_clock_time_get},
    {"random_get", "ii", "i", wasi_random_get},
    {"proc_exit", "i", "", wasi_proc_exit},
    {"fd_write", "iiii", "i", wasi_fd_write},
    {"fd_read", "iiii", "i", wasi_fd_read},
    {"fd_seek", "iIii", "i", wasi_fd_seek},
    {"fd_close", "i", "i", wasi_fd_close},
    {"fd_fdstat_get", "ii", "i", wasi_fd_fdstat_get},
    {"fd_prestat_get", "ii", "i", wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "iii", "i", wasi_fd_prestat_dir_name},
    {"fd_tell", "ii", "i", wasi_fd_tell},
    {"clock_res_get", "ii", "i", wasi_clock_res_get},
    {"sched_yield", "", "i", wasi_sched_yield},
    /* Not implemented yet: ENOSYS.  Types per the witx ABI (pointers and
       lengths i32, 64-bit offsets, sizes, rights and times i64). */
    {"fd_advise", "iIIi", "i", wasi_nosys},
    {"fd_allocate", "iII", "i", wasi_nosys},
    {"fd_datasync", "i", "i", wasi_nosys},
    {"fd_fdstat_set_flags", "ii", "i", wasi_nosys},
    {"fd_fdstat_set_rights", "iII", "i", wasi_nosys},
    {"fd_filestat_get", "ii", "i", wasi_nosys},
    {"fd_filestat_set_size", "iI", "i", wasi_nosys},
    {"fd_filestat_set_times", "iIIi", "i", wasi_nosys},
    {"fd_pread", "iiiIi", "i", wasi_nosys},
    {"fd_pwrite", "iiiIi", "i", wasi_nosys},
    {"fd_readdir", "iiiIi", "i", wasi_nosys},
    {"fd_renumber", "ii", "i", wasi_nosys},
    {"fd_sync", "i", "i", wasi_nosys},
    {"path_create_directory", "iii", "i", wasi_nosys},
    {"path_filestat_get", "iiiii", "i", wasi_nosys},
    {"path_filestat_set_times", "iiiiIIi", "i", wasi_nosys},
    {"path_link", "iiiiiii", "i", wasi_nosys},
    {"path_open", "iiiiiIIii", "i", wasi_nosys},
    {"path_readlink", "iiiiii", "i", wasi_nosys},
    {"path_remove_directory", "iii", "i", wasi_nosys},
    {"path_rename", "iiiiii", "i", wasi_nosys},
    {"path_symlink", "iiiii", "i", wasi_nosys},
    {"path_unlink_file", "iii", "i", wasi_nosys},
    {"poll_oneoff", "iiii", "i", wasi_nosys},
    {"proc_raise", "i", "i", wasi_nosys},
    {"sock_accept", "iii", "i", wasi_nosys},
    {"sock_recv", "iiiiii", "i", wasi_nosys},
    {"sock_send", "iiiii", "i", wasi_nosys},
    {"sock_shutdown", "ii", "i", wasi_nosys},
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

bool lw_wasi_define(lw_wasi *w, lw_store *s)
{
    return host_define_all(s, "wasi_snapshot_preview1", wasi_funcs, sizeof wasi_funcs / sizeof wasi_funcs[0], w);
}
