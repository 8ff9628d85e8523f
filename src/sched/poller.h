/*
 * The poller: where an idle worker sleeps, and how it learns that an fd is
 * ready or that another thread has work for it.
 *
 * One epoll instance plus one eventfd.  A process that must wait for I/O is
 * parked and its fd watched with a token (usually the process itself); the
 * token comes back from poller_wait when the fd is ready, and the process
 * is made runnable again.  The eventfd is how poller_wake interrupts a
 * sleeping waiter from any thread, or from a signal handler.
 *
 * Every function is thread-safe.  Watches are one-shot (EPOLLONESHOT): a
 * readiness is reported once, to one waiter, and the fd stays quiet until
 * it is watched again.  That is what parking needs: exactly one wakeup per
 * wait, no matter how many workers sleep in the same poller.
 */
#ifndef LW_SCHED_POLLER_H
#define LW_SCHED_POLLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

typedef struct lw_poller lw_poller;

/* NULL if the kernel refuses an epoll instance or an eventfd (errno says
 * why) or memory runs out. */
lw_poller *poller_new(void);
void poller_free(lw_poller *p);

/* Watch fd once for `events` (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLPRI; error
 * and hang-up are always reported): its next readiness is reported once,
 * with `token`, and then the fd is disarmed until watched again.  Watching
 * an fd that is already watched re-arms it with the new events and token.
 * A token must not be NULL.  False with errno on failure (EBADF, EPERM for
 * a regular file, ENOMEM, ...). */
bool poller_watch(lw_poller *p, int fd, uint32_t events, void *token);

/* Stop watching fd.  False with errno (ENOENT) if it was not watched.
 * A wait already under way in another thread may still report the old
 * token (the kernel may have handed it out already), so a token's owner
 * must tolerate one late report.  Unwatch an fd before closing it: epoll
 * forgets a closed fd only once every duplicate of it is closed. */
bool poller_unwatch(lw_poller *p, int fd);

/* Wait up to timeout_ns (UINT64_MAX: forever; 0: just look) for readiness
 * or a wake.  Stores up to `max` (>= 1) tokens in `tokens` and returns how
 * many; 0 on a timeout or a wake; -1 with errno on an error (EINVAL for
 * max < 1).  Never returns before the timeout unless something happened:
 * a signal (EINTR) makes it wait again for the time that is left. */
int poller_wait(lw_poller *p, uint64_t timeout_ns, void **tokens, int max);

/* The same with an absolute deadline on lw_now_ns's clock (UINT64_MAX:
 * forever), which is what a worker has: timers_next() of its heap. */
int poller_wait_until(lw_poller *p, uint64_t deadline_ns, void **tokens, int max);

/* A look without waiting, for a worker too busy to sleep in the poller:
 * the ready tokens (up to max >= 1), never the wake (that stays for the
 * waiter it is meant for, and is not drained). */
int poller_check(lw_poller *p, void **tokens, int max);
/* Make the current poller_wait return promptly, or the next one if none is
 * under way: a wake is never lost.  Wakes that come before the wait sees
 * them coalesce into one.  Async-signal-safe (keeps errno) and callable
 * from any thread.  What the caller wrote before poller_wake is visible to
 * the thread whose wait it ends. */
void poller_wake(lw_poller *p);

/* Tests: make every wait in this process use epoll_wait's millisecond
 * timeouts (true), as on a kernel without epoll_pwait2, or go back to
 * epoll_pwait2 where it exists (false). */
void poller_use_ms_timeouts(bool on);

/* How many waits ended because of a wake (tests and statistics). */
uint64_t poller_wakes_seen(const lw_poller *p);

#endif
