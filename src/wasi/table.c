/*
 * The capability table: which host resources a process can reach, as guest
 * fds with rights (see wasi_impl.h).  There is no other way to name
 * anything: every path_* call is relative to a directory fd in here, and
 * confined beneath it (path.c).
 *
 * Tables are shared copy-on-write, so a spawn whose child keeps its
 * parent's rights costs one reference count; resources are reference
 * counted across tables, so a child closing an fd leaves its parent's open.
 */
#define _GNU_SOURCE
#include "wasi/wasi_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

Res *res_ref(Res *r)
{
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    return r;
}

void res_unref(Res *r)
{
    if (!r || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (r->dir)
        closedir(r->dir);
    pthread_mutex_destroy(&r->dir_lock);
    close(r->fd);
    free(r->preopen);
    free(r);
}

Res *res_new(int fd)
{
    Res *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    struct stat st;
    atomic_init(&r->refs, 1);
    r->fd = fd;
    r->type = fstat(fd, &st) == 0 ? filetype_of(st.st_mode) : FT_UNKNOWN;
    r->socket = r->type == FT_SOCK_STREAM || r->type == FT_SOCK_DGRAM;
    /* Pipes and character devices opened non-blocking (ours) park on EAGAIN;
       O_NONBLOCK means nothing to regular files and directories. */
    int fl = fcntl(fd, F_GETFL);
    r->nonblock = (r->type == FT_CHAR || r->type == FT_UNKNOWN) && fl >= 0 && (fl & O_NONBLOCK);
    pthread_mutex_init(&r->dir_lock, NULL);
    return r;
}

WasiTable *table_ref(WasiTable *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void table_unref(WasiTable *t)
{
    if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (uint32_t i = 0; i < t->n; i++)
        res_unref(t->fds[i].res);
    free(t->fds);
    free(t);
}

static WasiTable *table_new(uint32_t cap)
{
    WasiTable *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    atomic_init(&t->refs, 1);
    t->cap = cap < 4 ? 4 : cap;
    t->fds = calloc(t->cap, sizeof *t->fds);
    if (!t->fds) {
        free(t);
        return NULL;
    }
    return t;
}

/* A copy of t narrowed by a spawn's configuration (NULL: no narrowing). */
static WasiTable *table_copy(const WasiTable *t, const ProcConfig *c)
{
    WasiTable *u = table_new(t->n);
    if (!u)
        return NULL;
    u->no_env = t->no_env || (c && c->no_env);
    for (uint32_t i = 0; i < t->n; i++) {
        const FdEntry *e = &t->fds[i];
        if (!e->res)
            continue;
        FdEntry ne = *e;
        if (c) {
            uint64_t bit = (uint64_t)1 << (i < 63 ? i : 63);
            if (!(c->fd_mask & bit))
                continue;
            ne.base &= c->rights;
            ne.inheriting &= c->rights;
        }
        ne.res = res_ref(e->res);
        u->fds[i] = ne;
        u->n = i + 1;
    }
    return u;
}

int64_t table_add(WasiTable *t, Res *r, uint64_t base, uint64_t inheriting, uint16_t flags)
{
    uint32_t fd = 0;
    while (fd < t->n && t->fds[fd].res)
        fd++;
    if (fd == t->cap) {
        if (t->cap >= (1u << 20))
            return -1;   /* a bound on what a guest can make the host hold */
        FdEntry *more = realloc(t->fds, (size_t)t->cap * 2 * sizeof *more);
        if (!more)
            return -1;
        memset(more + t->cap, 0, (size_t)t->cap * sizeof *more);
        t->fds = more;
        t->cap *= 2;
    }
    t->fds[fd] = (FdEntry){ .res = r, .base = base, .inheriting = inheriting, .flags = flags };
    if (fd >= t->n)
        t->n = fd + 1;
    return fd;
}

FdEntry *fd_get(WasiTable *t, uint32_t fd, uint64_t need, uint16_t *err)
{
    if (fd >= t->n || !t->fds[fd].res) {
        *err = W_BADF;
        return NULL;
    }
    FdEntry *e = &t->fds[fd];
    if ((e->base & need) != need) {
        *err = W_NOTCAPABLE;
        return NULL;
    }
    return e;
}

/* ---- which table a call uses ---- */

WasiTable *table_of(lw_exec *ex, lw_wasi *w, Proc **proc)
{
    Proc *p = sched_proc_of(ex);
    if (proc)
        *proc = p;
    if (!p)
        return w->direct;
    if (!p->wasi)
        p->wasi = table_ref(w->root);   /* a root process: what the embedder granted */
    return p->wasi;
}

WasiTable *table_own(lw_exec *ex, lw_wasi *w)
{
    Proc *p;
    WasiTable *t = table_of(ex, w, &p);
    if (atomic_load_explicit(&t->refs, memory_order_acquire) == 1)
        return t;
    WasiTable *u = table_copy(t, NULL);
    if (!u)
        return NULL;
    if (p)
        p->wasi = u;
    else
        w->direct = u;
    table_unref(t);
    return u;
}

bool wasi_proc_inherit(Proc *parent, Proc *child)
{
    WasiTable *t = parent->wasi;
    if (!t) {
        lw_wasi *w = parent->rt->wasi;
        if (!w)
            return true;   /* no WASI in this runtime */
        t = parent->wasi = table_ref(w->root);
    }
    const ProcConfig *c = &child->config;
    bool narrows = ~c->fd_mask != 0 || ~c->rights != 0 || (c->no_env && !t->no_env);
    child->wasi = narrows ? table_copy(t, c) : table_ref(t);
    return child->wasi != NULL;
}

void wasi_proc_release(Proc *p)
{
    table_unref(p->wasi);
    p->wasi = NULL;
    if (p->wasi_epfd > 0) {
        close(p->wasi_epfd);
        p->wasi_epfd = 0;
    }
    if (p->job)     /* a job the process was killed before collecting */
        p->job->destroy(p->job);
    p->job = NULL;
}

/* ---- the first table: standard streams, preopened directories, sockets ---- */

/*
 * A standard stream for the guest.  Pipes, terminals and character devices
 * are opened again through /proc/self/fd with O_NONBLOCK: a description of
 * our own, so a read or write that would block parks the process instead
 * of the worker, without making the descriptor the shell shares with us
 * non-blocking.  Sockets use MSG_DONTWAIT per call; regular files need
 * neither.
 */
static Res *stream_res(int hfd, bool in)
{
    struct stat st;
    if (hfd < 0 || fstat(hfd, &st) != 0)
        return NULL;
    int fd = -1;
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", hfd);
        fd = open(path, (in ? O_RDONLY : O_WRONLY) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    }
    if (fd < 0)
        fd = fcntl(hfd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return NULL;
    Res *r = res_new(fd);
    if (!r)
        close(fd);
    return r;
}

static uint64_t stream_rights(const Res *r, bool in)
{
    if (r->socket)
        return RIGHTS_SOCKET & ~R_SOCK_ACCEPT;
    uint64_t rights = (in ? R_FD_READ : R_FD_WRITE) | R_FD_FDSTAT_SET_FLAGS | R_FD_FILESTAT_GET | R_POLL_FD_READWRITE;
    /* wasi-libc's isatty() is "a character device without seek and tell rights". */
    if (r->type == FT_REGULAR || r->type == FT_BLOCK)
        rights |= RIGHTS_FILE & ~(in ? R_FD_WRITE : R_FD_READ);
    return rights;
}

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

static lw_wasi *fail(lw_wasi *w, char *err, const char *fmt, const char *what, int e)
{
    if (err)
        snprintf(err, LW_WASI_ERR_MAX, fmt, what, strerror(e));
    lw_wasi_free(w);
    return NULL;
}

lw_wasi *lw_wasi_new(const lw_wasi_config *cfg, char *err)
{
    lw_wasi *w = calloc(1, sizeof *w);
    if (!w || !strlist_init(&w->args, cfg->argc, cfg->argv) || !strlist_init(&w->env, cfg->envc, cfg->envp) ||
        !(w->root = table_new(3 + cfg->ndirs + cfg->nsockets)))
        return fail(w, err, "%s%s", "", ENOMEM);
    WasiTable *t = w->root;
    const int std[3] = { cfg->stdin_fd, cfg->stdout_fd, cfg->stderr_fd };
    for (int i = 0; i < 3; i++) {
        Res *r = stream_res(std[i], i == 0);
        if (r)
            t->fds[i] = (FdEntry){ .res = r, .base = stream_rights(r, i == 0) };
    }
    t->n = 3;
    for (uint32_t i = 0; i < cfg->ndirs; i++) {
        const lw_wasi_dir *d = &cfg->dirs[i];
        int fd = open(d->host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return fail(w, err, "--dir %s: %s", d->host, errno);
        Res *r = res_new(fd);
        const char *guest = d->guest ? d->guest : d->host;
        if (!r || !(r->preopen = strdup(guest))) {
            res_unref(r);
            if (!r)
                close(fd);
            return fail(w, err, "%s%s", "", ENOMEM);
        }
        r->preopen_len = (uint32_t)strlen(guest);
        /* At the end, not in a free slot: preopens are fds 3, 4, ... even without a stdin. */
        t->fds[t->n++] = (FdEntry){ .res = r, .base = RIGHTS_DIR, .inheriting = R_ALL & ~(R_SOCK_ACCEPT | R_SOCK_SHUTDOWN) };
    }
    /* Sockets after the directories: wasi-libc's scan for preopens stops at
       the first fd that is not one. */
    for (uint32_t i = 0; i < cfg->nsockets; i++) {
        int fd = fcntl(cfg->sockets[i], F_DUPFD_CLOEXEC, 3);
        Res *r = fd >= 0 ? res_new(fd) : NULL;
        if (!r) {
            if (fd >= 0)
                close(fd);
            return fail(w, err, "socket %s: %s", "", fd < 0 ? errno : ENOMEM);
        }
        int listening = 0;
        socklen_t len = sizeof listening;
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
        uint64_t base = listening ? R_SOCK_ACCEPT | R_POLL_FD_READWRITE | R_FD_FDSTAT_SET_FLAGS | R_FD_FILESTAT_GET
                                  : RIGHTS_SOCKET & ~R_SOCK_ACCEPT;
        t->fds[t->n++] = (FdEntry){ .res = r, .base = base, .inheriting = listening ? RIGHTS_SOCKET & ~R_SOCK_ACCEPT : 0 };
    }
    w->direct = table_ref(t);
    return w;
}

void lw_wasi_free(lw_wasi *w)
{
    if (!w)
        return;
    table_unref(w->root);
    table_unref(w->direct);
    free(w->args.buf);
    free(w->env.buf);
    free(w);
}
