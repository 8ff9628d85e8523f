/*
 * WASI poll_oneoff and the sock_* functions.
 *
 * poll_oneoff looks at every subscription at once, without waiting; if
 * nothing is ready it parks the process until one of its fds is ready or
 * its earliest clock is due (one fd: watched directly; several: through an
 * epoll instance of its own, itself watched), then looks again.  A relative
 * timeout counts from the first call, however many times the call runs.
 *
 * Sockets are the ones the embedder handed in (lw_wasi_config.sockets) and
 * the connections accepted from them; I/O on them parks like a pipe's.
 */
#define _GNU_SOURCE
#include "wasi/wasi_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "sched/timer.h"

enum { EV_CLOCK = 0, EV_FD_READ = 1, EV_FD_WRITE = 2 };
enum { SUB_SIZE = 48, EVENT_SIZE = 32 };

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint8_t *event_at(uint8_t *out, uint32_t k, uint64_t userdata, uint16_t error, uint8_t type)
{
    uint8_t *e = out + (size_t)k * EVENT_SIZE;
    memset(e, 0, EVENT_SIZE);
    st64(e, userdata);
    st16(e + 8, error);
    e[10] = type;
    return e;
}

/*
 * Look at every subscription once.  Ready ones become events in `out`;
 * the return value is how many.  Otherwise *deadline is the earliest clock
 * (lw_now_ns time; UINT64_MAX if none) and pfds[0..*npfds) the streams to
 * wait for.
 */
static uint32_t poll_scan(WasiTable *t, const uint8_t *in, uint8_t *out, uint32_t n, uint64_t since,
                          uint64_t *deadline, struct pollfd *pfds, uint32_t *slot_of, uint32_t *npfds)
{
    uint64_t now = lw_now_ns();
    uint32_t k = 0, np = 0;
    *deadline = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = in + (size_t)i * SUB_SIZE;
        uint64_t ud = ld64(s);
        uint8_t tag = s[8];
        if (tag == EV_CLOCK) {
            uint32_t id = ld32(s + 16);
            uint64_t timeout = ld64(s + 24);
            bool abs = ld16(s + 40) & 1;
            uint64_t due;
            if (id == 0 && abs) {           /* realtime, absolute: as far from now as it is on that clock */
                uint64_t real = clock_ns(CLOCK_REALTIME);
                due = timeout <= real ? now : now + (timeout - real);
            } else if (id == 1 && abs) {    /* monotonic, absolute: lw_now_ns is that clock */
                due = timeout;
            } else if (id <= 1) {
                due = since + timeout < since ? UINT64_MAX - 1 : since + timeout;
            } else {
                event_at(out, k++, ud, W_NOTSUP, tag);
                continue;
            }
            if (due <= now)
                event_at(out, k++, ud, W_SUCCESS, tag);
            else if (due < *deadline)
                *deadline = due;
            continue;
        }
        if (tag != EV_FD_READ && tag != EV_FD_WRITE) {
            event_at(out, k++, ud, W_INVAL, tag);
            continue;
        }
        uint16_t err;
        FdEntry *e = fd_get(t, ld32(s + 16), R_POLL_FD_READWRITE, &err);
        if (!e) {
            event_at(out, k++, ud, err, tag);
            continue;
        }
        Res *r = e->res;
        if (r->type == FT_REGULAR || r->type == FT_DIR || r->type == FT_BLOCK) {
            /* Files are always ready; a read says how much is left. */
            uint8_t *ev = event_at(out, k++, ud, W_SUCCESS, tag);
            struct stat st;
            off_t pos = lseek(r->fd, 0, SEEK_CUR);
            if (tag == EV_FD_READ && fstat(r->fd, &st) == 0 && pos >= 0 && st.st_size > pos)
                st64(ev + 16, (uint64_t)(st.st_size - pos));
            continue;
        }
        pfds[np] = (struct pollfd){ .fd = r->fd, .events = tag == EV_FD_READ ? POLLIN : POLLOUT };
        slot_of[np++] = i;
    }
    *npfds = np;
    if (np == 0 || poll(pfds, np, 0) <= 0)
        return k;
    for (uint32_t j = 0; j < np; j++) {
        short re = pfds[j].revents;
        if (!re)
            continue;
        const uint8_t *s = in + (size_t)slot_of[j] * SUB_SIZE;
        uint16_t err = re & POLLNVAL ? W_BADF : W_SUCCESS;
        uint8_t *ev = event_at(out, k++, ld64(s), err, s[8]);
        int avail = 0;
        if (s[8] == EV_FD_READ && ioctl(pfds[j].fd, FIONREAD, &avail) == 0 && avail > 0)
            st64(ev + 16, (uint64_t)avail);
        if (re & POLLHUP)
            st16(ev + 24, 1);   /* __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP */
    }
    return k;
}

/* Park p until one of pfds is ready or the deadline: LW_BLOCK, or LW_TRAP if it cannot be watched. */
static lw_status poll_park(Proc *p, struct pollfd *pfds, uint32_t np, uint64_t deadline)
{
    if (np == 0)
        return sched_wait_io_until(p, -1, 0, deadline);
    bool one = true;
    for (uint32_t j = 1; j < np; j++)
        one &= pfds[j].fd == pfds[0].fd;
    if (one) {
        uint32_t ev = 0;
        for (uint32_t j = 0; j < np; j++)
            ev |= pfds[j].events & POLLIN ? EPOLLIN : EPOLLOUT;
        return sched_wait_io_until(p, pfds[0].fd, ev, deadline);
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return LW_TRAP;
    for (uint32_t j = 0; j < np; j++) {
        struct epoll_event ee = { .events = pfds[j].events & POLLIN ? EPOLLIN : EPOLLOUT };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, pfds[j].fd, &ee) != 0 && errno == EEXIST) {
            ee.events = EPOLLIN | EPOLLOUT;   /* both a read and a write subscription on it */
            epoll_ctl(ep, EPOLL_CTL_MOD, pfds[j].fd, &ee);
        }
    }
    p->wasi_epfd = ep;
    return sched_wait_io_until(p, ep, EPOLLIN, deadline);
}

/* poll_oneoff(in, out, nsubscriptions, nevents_ptr) -> errno */
static lw_status wasi_poll_oneoff(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t inp = (uint32_t)slots[0], outp = (uint32_t)slots[1], n = (uint32_t)slots[2];
    uint32_t nev = (uint32_t)slots[3];
    Proc *p;
    WasiTable *t = table_of(ex, env, &p);
    bool repeat = p && p->wait == WAIT_IO;
    if (io_pending(p))
        return LW_BLOCK;
    if (p && p->wasi_epfd > 0) {
        close(p->wasi_epfd);
        p->wasi_epfd = 0;
    }
    if (n == 0)
        RET(W_INVAL);
    Mem m;
    const uint8_t *in;
    uint8_t *out;
    if (!mem_of(ex, &m) || !(in = mem_at(&m, inp, (uint64_t)n * SUB_SIZE)) ||
        !(out = mem_at(&m, outp, (uint64_t)n * EVENT_SIZE)) || !mem_at(&m, nev, 4))
        RET(W_FAULT);
    struct pollfd *pfds = malloc((size_t)n * sizeof *pfds);
    uint32_t *slot_of = malloc((size_t)n * sizeof *slot_of);
    if (!pfds || !slot_of) {
        free(pfds);
        free(slot_of);
        RET(W_NOMEM);
    }
    uint64_t since = repeat ? p->wasi_since : lw_now_ns();
    uint16_t result = W_SUCCESS;
    for (;;) {
        uint64_t deadline;
        uint32_t np;
        uint32_t k = poll_scan(t, in, out, n, since, &deadline, pfds, slot_of, &np);
        if (k > 0) {
            put32(&m, nev, k);
            break;
        }
        if (p) {
            p->wasi_since = since;
            lw_status st = poll_park(p, pfds, np, deadline);
            if (st == LW_BLOCK) {
                free(pfds);
                free(slot_of);
                return LW_BLOCK;
            }
            result = W_NOMEM;   /* the fds could not be watched */
            break;
        }
        /* Outside a process: wait right here, then look again. */
        uint64_t now = lw_now_ns();
        int ms = deadline == UINT64_MAX ? -1 : deadline <= now ? 0 : (int)((deadline - now + 999999) / 1000000);
        if (deadline != UINT64_MAX && deadline - now > (uint64_t)INT32_MAX * 1000000)
            ms = INT32_MAX;
        if (poll(pfds, np, ms) < 0 && errno != EINTR) {
            result = errno_to_wasi(errno);
            break;
        }
    }
    free(pfds);
    free(slot_of);
    RET(result);
}

/* ---- sockets ---- */

/* A socket entry of the caller's with rights `need`, or NULL and *err. */
static FdEntry *sock_get(WasiTable *t, uint32_t fd, uint64_t need, uint16_t *err)
{
    FdEntry *e = fd_get(t, fd, 0, err);
    if (e && !e->res->socket) {
        *err = W_NOTSOCK;
        return NULL;
    }
    if (e && (e->base & need) != need) {
        *err = W_NOTCAPABLE;
        return NULL;
    }
    return e;
}

/* sock_accept(fd, flags, fd_ptr) -> errno */
static lw_status wasi_sock_accept(lw_exec *ex, void *env, uint64_t *slots)
{
    uint32_t fd = (uint32_t)slots[0], flags = (uint32_t)slots[1], out = (uint32_t)slots[2];
    Proc *p;
    WasiTable *t = table_of(ex, env, &p);
    if (io_pending(p))
        return LW_BLOCK;
    uint16_t err;
    FdEntry *e = sock_get(t, fd, R_SOCK_ACCEPT, &err);
    if (!e)
        RET(err);
    if (flags & ~(uint32_t)FDF_NONBLOCK)
        RET(W_INVAL);
    Mem m;
    if (!mem_of(ex, &m) || !mem_at(&m, out, 4))
        RET(W_FAULT);
    for (;;) {
        int c = accept4(e->res->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c >= 0) {
            uint64_t rights = (RIGHTS_SOCKET & ~R_SOCK_ACCEPT) & e->inheriting;
            Res *r = res_new(c);
            WasiTable *own = r ? table_own(ex, env) : NULL;
            int64_t nfd = own ? table_add(own, r, rights, 0, (uint16_t)flags) : -1;
            if (nfd < 0) {
                if (r)
                    res_unref(r);
                else
                    close(c);
                RET(W_NOMEM);
            }
            put32(&m, out, (uint32_t)nfd);
            RET(W_SUCCESS);
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || (e->flags & FDF_NONBLOCK))
            RET(errno_to_wasi(errno));
        lw_status st = io_wait(p, e->res->fd, EPOLLIN);
        if (st == LW_BLOCK)
            return LW_BLOCK;
        if (st != LW_OK)
            RET(W_IO);
    }
}

/* sock_recv(fd, ri_data, ri_data_len, ri_flags, ro_datalen_ptr, ro_flags_ptr) -> errno */
static lw_status wasi_sock_recv(lw_exec *ex, void *env, uint64_t *slots)
{
    enum { PEEK = 1, WAITALL = 2 };
    uint32_t fd = (uint32_t)slots[0], iovs = (uint32_t)slots[1], niov = (uint32_t)slots[2];
    uint32_t riflags = (uint32_t)slots[3], out_len = (uint32_t)slots[4], out_flags = (uint32_t)slots[5];
    Proc *p;
    WasiTable *t = table_of(ex, env, &p);
    if (io_pending(p))
        return LW_BLOCK;
    uint16_t err;
    FdEntry *e = sock_get(t, fd, R_FD_READ, &err);
    if (!e)
        RET(err);
    if (riflags & ~3u)
        RET(W_INVAL);
    Mem m;
    size_t total;
    struct iovec *iov;
    if (!mem_of(ex, &m) || !mem_at(&m, out_len, 4) || !mem_at(&m, out_flags, 2) ||
        !(iov = iovs_get(&m, iovs, niov, &total)))
        RET(W_FAULT);
    bool all = (riflags & WAITALL) && !(riflags & PEEK);
    size_t moved = all && p ? p->wasi_done : 0;
    int n = (int)niov;
    struct iovec *cur = iov_skip(iov, &n, moved);
    bool truncated = false;
    uint16_t result = W_SUCCESS;
    while (n > 0) {
        struct msghdr mh = { .msg_iov = cur, .msg_iovlen = (size_t)n };
        ssize_t k = recvmsg(e->res->fd, &mh, MSG_DONTWAIT | (riflags & PEEK ? MSG_PEEK : 0));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !(e->flags & FDF_NONBLOCK)) {
            if (p)
                p->wasi_done = (uint32_t)moved;
            lw_status st = io_wait(p, e->res->fd, EPOLLIN);
            if (st == LW_BLOCK) {
                if (niov)
                    free(iov);
                return LW_BLOCK;
            }
            if (st == LW_OK)
                continue;
            errno = EIO;
        }
        if (k < 0) {
            if (moved == 0)
                result = errno_to_wasi(errno);
            break;
        }
        moved += (size_t)k;
        truncated |= (mh.msg_flags & MSG_TRUNC) != 0;
        if (!all || k == 0)
            break;
        cur = iov_skip(cur, &n, (size_t)k);
    }
    if (p)
        p->wasi_done = 0;
    if (niov)
        free(iov);
    if (result == W_SUCCESS) {
        put32(&m, out_len, (uint32_t)moved);
        st16(mem_at(&m, out_flags, 2), truncated ? 1 : 0);   /* __WASI_ROFLAGS_RECV_DATA_TRUNCATED */
    }
    RET(result);
}

/* sock_send(fd, si_data, si_data_len, si_flags, so_datalen_ptr) -> errno: an fd_write on a socket. */
static lw_status wasi_sock_send(lw_exec *ex, void *env, uint64_t *slots)
{
    Proc *p;
    WasiTable *t = table_of(ex, env, &p);
    if (!(p && (p->wait == WAIT_IO || p->job))) {   /* the first call: check it is a socket */
        uint16_t err;
        if (!sock_get(t, (uint32_t)slots[0], R_FD_WRITE, &err))
            RET(err);
        if ((uint32_t)slots[3] != 0)
            RET(W_INVAL);   /* no send flags are defined */
    }
    slots[3] = slots[4];
    return wasi_transfer(ex, env, slots, true, false);
}

/* sock_shutdown(fd, how) -> errno: how is __WASI_SDFLAGS_RD (1) | WR (2). */
static lw_status wasi_sock_shutdown(lw_exec *ex, void *env, uint64_t *slots)
{
    static const int how[] = { 0, SHUT_RD, SHUT_WR, SHUT_RDWR };
    uint32_t h = (uint32_t)slots[1];
    uint16_t err;
    FdEntry *e = sock_get(table_of(ex, env, NULL), (uint32_t)slots[0], R_SOCK_SHUTDOWN, &err);
    if (!e)
        RET(err);
    if (h == 0 || h > 3)
        RET(W_INVAL);
    RET(shutdown(e->res->fd, how[h]) == 0 ? W_SUCCESS : errno_to_wasi(errno));
}

const HostDef wasi_poll_funcs[] = {
    {"poll_oneoff", "iiii", "i", wasi_poll_oneoff},
    {"sock_accept", "iii", "i", wasi_sock_accept},
    {"sock_recv", "iiiiii", "i", wasi_sock_recv},
    {"sock_send", "iiiii", "i", wasi_sock_send},
    {"sock_shutdown", "ii", "i", wasi_sock_shutdown},
};
const size_t wasi_poll_nfuncs = sizeof wasi_poll_funcs / sizeof wasi_poll_funcs[0];
