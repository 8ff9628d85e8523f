/*
 * The poller: one epoll instance and one eventfd.  See poller.h for the
 * contract; the comments here say why it is built this way.
 *
 * Waking.  The eventfd is registered level-triggered, so once written it
 * stays readable, and every wait returns at once, until someone reads it.
 * That is what makes a wake sent while nobody waits count for the next
 * wait.  To make many wakes cost one system call, a flag `wake_pending`
 * says "the eventfd has been written and not yet drained":
 *
 *   poller_wake:  if exchange(pending, true) was false: write(eventfd, 1)
 *   the waiter:   when the eventfd is ready: read(eventfd); exchange(pending, false)
 *
 * The waiter drains before it clears.  A wake that runs between the two
 * finds the flag still set and writes nothing; that is right, because the
 * waiter is about to return anyway, and its exchange (acquire) reads the
 * waker's exchange (release), so the waiter sees what the waker wrote
 * before waking it.  A wake after the clear finds the flag false and writes
 * again, so no wake is ever lost.  Had the waiter cleared first and drained
 * second, a wake in between would be drained along with the old one while
 * the flag stayed set, and every later wake would be skipped forever.
 *
 * Timeouts.  epoll_pwait2 takes a timespec, so a 20 µs sleep is 20 µs
 * (plus the kernel's timer slack, 50 µs by default: late, never early).
 * Where it is missing (glibc before 2.35, kernels before 5.11, or a seccomp
 * filter that refuses it) epoll_wait takes milliseconds, and the timeout is
 * rounded up: rounding down would return before the deadline with nothing
 * to do, and the worker would go round again and again until it passes (a
 * spin).  Either way a wait that comes back empty-handed before its
 * deadline (the kernel should never do that; checking costs one clock
 * read) waits again for what is left.
 */
#define _GNU_SOURCE
#include "sched/poller.h"

#include "sched/timer.h"    /* lw_now_ns */

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define HAVE_EPOLL_PWAIT2 1
#else
#define HAVE_EPOLL_PWAIT2 0
#endif

/* The most events taken from the kernel per call (they live on the stack).
 * More ready fds are simply reported by the next wait. */
#define MAX_EVENTS 64

struct lw_poller {
    int epfd;
    int efd;                        /* the eventfd poller_wake writes */
    atomic_bool wake_pending;       /* efd written and not yet drained */
    /* Bumped (release) by every poller_watch before it arms the fd, read
     * (acquire) by a wait that got tokens.  The kernel already orders the
     * arming before the report, but neither the C memory model nor TSan
     * can see through the system call; this makes the order explicit, so
     * whatever the watcher wrote into the token's object is visible to the
     * thread that receives the token. */
    atomic_uint_fast64_t arms;
    atomic_uint_fast64_t wakes_seen;
};

/* epoll_event.data of the eventfd: an address no caller's token can have. */
static char wake_token;

lw_poller *poller_new(void)
{
    lw_poller *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    atomic_init(&p->wake_pending, false);
    atomic_init(&p->arms, 0);
    atomic_init(&p->wakes_seen, 0);
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    /* Non-blocking: when several threads wait in one poller, all may see
     * the eventfd ready and only one gets to read it. */
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->epfd >= 0 && p->efd >= 0) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &wake_token };
        if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->efd, &ev) == 0)
            return p;
    }
    int saved = errno;
    if (p->epfd >= 0)
        close(p->epfd);
    if (p->efd >= 0)
        close(p->efd);
    free(p);
    errno = saved;
    return NULL;
}

void poller_free(lw_poller *p)
{
    if (!p)
        return;
    close(p->epfd);
    close(p->efd);
    free(p);
}

bool poller_watch(lw_poller *p, int fd, uint32_t events, void *token)
{
    const uint32_t allowed = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLERR | EPOLLHUP;
    if (!token || (events & ~allowed) || fd == p->efd) {
        errno = EINVAL;
        return false;
    }
    struct epoll_event ev = { .events = events | EPOLLONESHOT, .data.ptr = token };
    atomic_fetch_add_explicit(&p->arms, 1, memory_order_release);
    /* Re-arming a watched fd is the common case (a process waits on the
     * same socket again and again), so try MOD first: one system call.  A
     * new fd costs a failed MOD and an ADD; two threads adding the same fd
     * at once end with one ADD and one MOD. */
    if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return true;
    if (errno != ENOENT)
        return false;
    if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return true;
    if (errno != EEXIST)
        return false;
    return epoll_ctl(p->epfd, EPOLL_CTL_MOD, fd, &ev) == 0;
}

bool poller_unwatch(lw_poller *p, int fd)
{
    if (fd == p->efd) {
        errno = EINVAL;
        return false;
    }
    /* A non-NULL event pointer keeps kernels before 2.6.9 happy. */
    struct epoll_event ev = { 0 };
    return epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, &ev) == 0;
}

#if HAVE_EPOLL_PWAIT2
/* Cleared, once for the whole process, when the kernel turns out not to
 * have epoll_pwait2 (or by poller_use_ms_timeouts, for tests). */
static atomic_bool pwait2_works = true;
#endif

void poller_use_ms_timeouts(bool on)
{
#if HAVE_EPOLL_PWAIT2
    atomic_store_explicit(&pwait2_works, !on, memory_order_relaxed);
#else
    (void)on;
#endif
}

/* One epoll wait that ends no later than `deadline` (UINT64_MAX: never),
 * as far as the kernel's timeout resolution allows, and never earlier. */
static int epoll_wait_deadline(int epfd, struct epoll_event *evs, int n, uint64_t deadline)
{
    uint64_t left = 0;
    if (deadline != UINT64_MAX) {
        uint64_t now = lw_now_ns();
        left = deadline > now ? deadline - now : 0;
    }
#if HAVE_EPOLL_PWAIT2
    if (atomic_load_explicit(&pwait2_works, memory_order_relaxed)) {
        struct timespec ts = { .tv_sec = (time_t)(left / 1000000000u),
                               .tv_nsec = (long)(left % 1000000000u) };
        int r = epoll_pwait2(epfd, evs, n, deadline == UINT64_MAX ? NULL : &ts, NULL);
        /* ENOSYS: an older kernel.  EPERM: a seccomp filter that refuses
         * system calls it does not know (epoll_pwait2 has no EPERM of its
         * own). */
        if (r >= 0 || (errno != ENOSYS && errno != EPERM))
            return r;
        atomic_store_explicit(&pwait2_works, false, memory_order_relaxed);
    }
#endif
    int ms;
    if (deadline == UINT64_MAX)
        ms = -1;
    else if (left / 1000000u >= (uint64_t)INT_MAX)
        ms = INT_MAX;   /* 24 days; the caller waits again for the rest */
    else
        ms = (int)((left + 999999u) / 1000000u);    /* round up, never early */
    return epoll_wait(epfd, evs, n, ms);
}

/* The eventfd was ready: drain it and clear the flag, in that order (see
 * the top of the file).  False if another waiter drained it first. */
static bool take_wake(lw_poller *p)
{
    uint64_t count;
    if (read(p->efd, &count, sizeof count) != (ssize_t)sizeof count)
        return false;   /* EAGAIN: someone else took this wake */
    atomic_exchange_explicit(&p->wake_pending, false, memory_order_acq_rel);
    atomic_fetch_add_explicit(&p->wakes_seen, 1, memory_order_relaxed);
    return true;
}

int poller_wait_until(lw_poller *p, uint64_t deadline_ns, void **tokens, int max)
{
    if (max < 1) {
        errno = EINVAL;
        return -1;
    }
    struct epoll_event evs[MAX_EVENTS];
    int n_evs = max < MAX_EVENTS ? max : MAX_EVENTS;
    for (;;) {
        int n = epoll_wait_deadline(p->epfd, evs, n_evs, deadline_ns);
        if (n < 0) {
            if (errno == EINTR)
                continue;   /* a signal: wait again for what is left */
            return -1;
        }
        if (n == 0) {
            if (deadline_ns != UINT64_MAX && lw_now_ns() >= deadline_ns)
                return 0;
            continue;       /* woke early with nothing: not a timeout yet */
        }
        /* Every reported fd is disarmed now (one-shot), so each token must
         * reach the caller: n_evs <= max guarantees there is room. */
        int got = 0;
        bool woke = false;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &wake_token)
                woke = true;
            else
                tokens[got++] = evs[i].data.ptr;
        }
        if (woke)
            take_wake(p);
        if (got > 0)
            (void)atomic_load_explicit(&p->arms, memory_order_acquire);
        return got;
    }
}

int poller_check(lw_poller *p, void **tokens, int max)
{
    struct epoll_event evs[MAX_EVENTS];
    int n_evs = max < MAX_EVENTS ? max : MAX_EVENTS;
    int n;
    do
        n = epoll_wait(p->epfd, evs, n_evs, 0);
    while (n < 0 && errno == EINTR);
    int got = 0;
    for (int i = 0; i < n; i++)
        if (evs[i].data.ptr != &wake_token)   /* left for the waiter it is meant for */
            tokens[got++] = evs[i].data.ptr;
    if (got > 0)
        (void)atomic_load_explicit(&p->arms, memory_order_acquire);
    return got;
}

int poller_wait(lw_poller *p, uint64_t timeout_ns, void **tokens, int max)
{
    uint64_t deadline = UINT64_MAX;
    if (timeout_ns != UINT64_MAX) {
        uint64_t now = lw_now_ns();
        /* Saturate: a timeout of centuries is forever. */
        deadline = timeout_ns < UINT64_MAX - now ? now + timeout_ns : UINT64_MAX;
    }
    return poller_wait_until(p, deadline, tokens, max);
}

void poller_wake(lw_poller *p)
{
    /* Release: what the caller wrote before this is published to the
     * waiter whose exchange reads our flag. */
    if (atomic_exchange_explicit(&p->wake_pending, true, memory_order_acq_rel))
        return;     /* a wake is already on its way: coalesce */
    int saved = errno;  /* we may be in a signal handler */
    uint64_t one = 1;
    ssize_t r = write(p->efd, &one, sizeof one);
    (void)r;        /* cannot fail: the counter is at most 1 here */
    errno = saved;
}

uint64_t poller_wakes_seen(const lw_poller *p)
{
    return atomic_load_explicit(&p->wakes_seen, memory_order_relaxed);
}
