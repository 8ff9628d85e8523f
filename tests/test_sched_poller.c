/*
 * Tests of the poller (src/sched/poller.c): one-shot readiness, wakes from
 * other threads and from signal handlers, wakes before the wait, coalescing,
 * timeouts (never early, and EINTR does not cut them short), and several
 * threads sharing one poller without losing or duplicating a report.
 *
 * Timing bounds are loose on the "not too late" side (the machine is
 * shared) and exact on the "not too early" side, which is the promise.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sched/poller.h"
#include "sched/timer.h"

#define MS 1000000ull

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- readiness ---- */

START_TEST(pipe_readable_reported_once)
{
    lw_poller *p = poller_new();
    ck_assert_ptr_nonnull(p);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    int tok_a, tok_b;
    void *got[4] = { NULL };

    ck_assert(poller_watch(p, fds[0], EPOLLIN, &tok_a));
    ck_assert_int_eq(poller_wait(p, 0, got, 4), 0);         /* empty pipe */
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert_int_eq(poller_wait(p, 1000 * MS, got, 4), 1);
    ck_assert_ptr_eq(got[0], &tok_a);
    /* Still readable, but one-shot: not reported again until re-armed. */
    got[0] = NULL;
    ck_assert_int_eq(poller_wait(p, 0, got, 4), 0);
    uint64_t t0 = lw_now_ns();
    ck_assert_int_eq(poller_wait(p, 30 * MS, got, 4), 0);
    ck_assert_uint_ge(lw_now_ns() - t0, 30 * MS);
    ck_assert_ptr_null(got[0]);

    /* Re-armed (with a new token): reported again, once. */
    ck_assert(poller_watch(p, fds[0], EPOLLIN, &tok_b));
    ck_assert_int_eq(poller_wait(p, 1000 * MS, got, 4), 1);
    ck_assert_ptr_eq(got[0], &tok_b);
    ck_assert_int_eq(poller_wait(p, 0, got, 4), 0);

    /* Unwatched: nothing, and a second unwatch says it was not watched. */
    ck_assert(poller_watch(p, fds[0], EPOLLIN, &tok_a));
    ck_assert(poller_unwatch(p, fds[0]));
    ck_assert_int_eq(poller_wait(p, 0, got, 4), 0);
    errno = 0;
    ck_assert(!poller_unwatch(p, fds[0]));
    ck_assert_int_eq(errno, ENOENT);
    /* And it can be watched again after an unwatch. */
    ck_assert(poller_watch(p, fds[0], EPOLLIN, &tok_a));
    ck_assert_int_eq(poller_wait(p, 1000 * MS, got, 4), 1);
    ck_assert_ptr_eq(got[0], &tok_a);
    ck_assert_uint_eq(poller_wakes_seen(p), 0);

    close(fds[0]);
    close(fds[1]);
    poller_free(p);
}
END_TEST

START_TEST(writable_and_hangup)
{
    lw_poller *p = poller_new();
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    int tok_w, tok_r;
    void *got[4];
    /* An empty pipe's write end is writable at once. */
    ck_assert(poller_watch(p, fds[1], EPOLLOUT, &tok_w));
    ck_assert_int_eq(poller_wait(p, 1000 * MS, got, 4), 1);
    ck_assert_ptr_eq(got[0], &tok_w);
    ck_assert(poller_unwatch(p, fds[1]));
    /* The reader sees the writer go away (EPOLLHUP, always reported). */
    ck_assert(poller_watch(p, fds[0], EPOLLIN, &tok_r));
    ck_assert_int_eq(poller_wait(p, 0, got, 4), 0);
    close(fds[1]);
    ck_assert_int_eq(poller_wait(p, 1000 * MS, got, 4), 1);
    ck_assert_ptr_eq(got[0], &tok_r);
    close(fds[0]);
    poller_free(p);
}
END_TEST

START_TEST(many_ready_fds_none_lost)
{
    enum { N = 150 };
    lw_poller *p = poller_new();
    int fds[N][2];
    int seen[N] = { 0 };
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(pipe(fds[i]), 0);
        ck_assert_int_eq(write(fds[i][1], "x", 1), 1);
        ck_assert(poller_watch(p, fds[i][0], EPOLLIN, &seen[i]));
    }
    /* Fewer slots than ready fds: each report still arrives exactly once,
     * over several waits. */
    int total = 0;
    void *got[7];
    for (;;) {
        int n = poller_wait(p, 0, got, 7);
        ck_assert_int_ge(n, 0);
        ck_assert_int_le(n, 7);
        if (n == 0)
            break;
        for (int i = 0; i < n; i++)
            (*(int *)got[i])++;
        total += n;
    }
    ck_assert_int_eq(total, N);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(seen[i], 1);
        close(fds[i][0]);
        close(fds[i][1]);
    }
    poller_free(p);
}
END_TEST

START_TEST(bad_arguments)
{
    lw_poller *p = poller_new();
    int tok;
    void *got[1];
    errno = 0;
    ck_assert_int_eq(poller_wait(p, 0, got, 0), -1);
    ck_assert_int_eq(errno, EINVAL);
    errno = 0;
    ck_assert(!poller_watch(p, -1, EPOLLIN, &tok));
    ck_assert_int_eq(errno, EBADF);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    errno = 0;
    ck_assert(!poller_watch(p, fds[0], EPOLLIN, NULL));
    ck_assert_int_eq(errno, EINVAL);
    errno = 0;
    ck_assert(!poller_watch(p, fds[0], EPOLLIN | EPOLLET, &tok));  /* we choose the mode */
    ck_assert_int_eq(errno, EINVAL);
    /* epoll refuses regular files (they are always ready). */
    int f = open("/proc/self/exe", O_RDONLY);
    ck_assert_int_ge(f, 0);
    errno = 0;
    ck_assert(!poller_watch(p, f, EPOLLIN, &tok));
    ck_assert_int_eq(errno, EPERM);
    close(f);
    close(fds[0]);
    close(fds[1]);
    poller_free(p);
}
END_TEST

/* ---- waking ---- */

struct waker_arg {
    lw_poller *p;
    uint64_t delay_ns;
    int payload;        /* plain int: the wake must publish it */
};

static void *waker(void *v)
{
    struct waker_arg *a = v;
    sleep_ns(a->delay_ns);
    a->payload = 42;
    poller_wake(a->p);
    return NULL;
}

START_TEST(wake_from_thread_ends_forever_wait)
{
    lw_poller *p = poller_new();
    struct waker_arg a = { p, 50 * MS, 0 };
    pthread_t th;
    void *got[4];
    uint64_t t0 = lw_now_ns();
    ck_assert_int_eq(pthread_create(&th, NULL, waker, &a), 0);
    ck_assert_int_eq(poller_wait(p, UINT64_MAX, got, 4), 0);
    uint64_t dt = lw_now_ns() - t0;
    /* It returned because of the wake: not before it, soon after it. */
    ck_assert_uint_ge(dt, 50 * MS);
    ck_assert_uint_lt(dt, 1000 * MS);
    ck_assert_uint_eq(poller_wakes_seen(p), 1);
    ck_assert_int_eq(a.payload, 42);
    pthread_join(th, NULL);
    /* The wake was consumed: the next wait times out. */
    ck_assert_int_eq(poller_wait(p, 20 * MS, got, 4), 0);
    ck_assert_uint_eq(poller_wakes_seen(p), 1);
    poller_free(p);
}
END_TEST

START_TEST(wake_before_wait_is_kept)
{
    lw_poller *p = poller_new();
    void *got[4];
    poller_wake(p);
    uint64_t t0 = lw_now_ns();
    ck_assert_int_eq(poller_wait(p, UINT64_MAX, got, 4), 0);
    ck_assert_uint_lt(lw_now_ns() - t0, 500 * MS);
    ck_assert_uint_eq(poller_wakes_seen(p), 1);
    /* Consumed once only. */
    t0 = lw_now_ns();
    ck_assert_int_eq(poller_wait(p, 20 * MS, got, 4), 0);
    ck_assert_uint_ge(lw_now_ns() - t0, 20 * MS);
    ck_assert_uint_eq(poller_wakes_seen(p), 1);
    /* Kept across a wait that ended for another reason (a ready fd): the
     * wake still ends a wait, this one or the next. */
    int fds[2], tok;
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "x", 1), 1);
    ck_assert(poller_watch(p, fds[0], EPOLLIN, &tok));
    poller_wake(p);
    int n = poller_wait(p, UINT64_MAX, got, 4);
    ck_assert_int_eq(n, 1);
    ck_assert_ptr_eq(got[0], &tok);
    ck_assert_uint_eq(poller_wakes_seen(p), 2);    /* this wait took the wake too */
    t0 = lw_now_ns();
    ck_assert_int_eq(poller_wait(p, 20 * MS, got, 4), 0);
    ck_assert_uint_ge(lw_now_ns() - t0, 20 * MS);
    close(fds[0]);
    close(fds[1]);
    poller_free(p);
}
END_TEST

struct spam_arg {
    lw_poller *p;
    int n;
};

static void *spam_wakes(void *v)
{
    struct spam_arg *a = v;
    for (int i = 0; i < a->n; i++)
        poller_wake(a->p);
    return NULL;
}

START_TEST(many_wakes_coalesce)
{
    lw_poller *p = poller_new();
    void *got[4];
    enum { THREADS = 4 };
    pthread_t th[THREADS];
    struct spam_arg a = { p, 20000 };
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, spam_wakes, &a), 0);
    for (int i = 0; i < 1000; i++)
        poller_wake(p);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    /* 81,000 wakes and no waiter: one wait returns at once, the next one
     * sleeps its full timeout. */
    uint64_t t0 = lw_now_ns();
    ck_assert_int_eq(poller_wait(p, UINT64_MAX, got, 4), 0);
    ck_assert_uint_lt(lw_now_ns() - t0, 500 * MS);
    ck_assert_uint_eq(poller_wakes_seen(p), 1);
    t0 = lw_now_ns();
    ck_assert_int_eq(poller_wait(p, 30 * MS, got, 4), 0);
    ck_assert_uint_ge(lw_now_ns() - t0, 30 * MS);
    ck_assert_uint_eq(poller_wakes_seen(p), 1);
    poller_free(p);
}
END_TEST

/* Two threads bounce a counter through two pollers: each waits forever
 * for its turn.  A lost wake would leave both asleep; the 5 s timeout turns
 * that into a failure instead of a hang. */
struct pingpong {
    lw_poller *p[2];
    atomic_int turn;    /* whose move: 0 or 1 */
    int rounds;
    atomic_int timeouts;
};

static void play(struct pingpong *g, int me)
{
    void *got[2];
    for (int r = 0; r < g->rounds; r++) {
        while (atomic_load(&g->turn) != me) {
            uint64_t t0 = lw_now_ns();
            if (poller_wait(g->p[me], 5000 * MS, got, 2) == 0 && lw_now_ns() - t0 >= 5000 * MS) {
                atomic_fetch_add(&g->timeouts, 1);
                return;
            }
        }
        atomic_store(&g->turn, 1 - me);
        poller_wake(g->p[1 - me]);
    }
}

static void *play_1(void *v)
{
    play(v, 1);
    return NULL;
}

START_TEST(ping_pong_loses_no_wake)
{
    struct pingpong g = { { poller_new(), poller_new() }, 0, 5000, 0 };
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, play_1, &g), 0);
    play(&g, 0);
    pthread_join(th, NULL);
    ck_assert_int_eq(atomic_load(&g.timeouts), 0);
    ck_assert_int_eq(atomic_load(&g.turn), 0);
    /* Each side slept at most once per round. */
    ck_assert_uint_le(poller_wakes_seen(g.p[0]), 5000);
    ck_assert_uint_le(poller_wakes_seen(g.p[1]), 5000);
    poller_free(g.p[0]);
    poller_free(g.p[1]);
}
END_TEST

/* One thread wakes as fast as it can while another waits and returns over
 * and over, so that wakes land at every point of the waiter's path, the
 * drain-then-clear window included.  Should a wake ever be lost for good
 * (the flag left set with the eventfd empty), every later wake would be
 * skipped and the waiter would sleep until its 1 s timeout. */
struct storm {
    lw_poller *p;
    atomic_bool done;
    atomic_long sent;
};

static void *wake_storm(void *v)
{
    struct storm *s = v;
    uint64_t end = lw_now_ns() + 300 * MS;
    while (lw_now_ns() < end) {
        for (int i = 0; i < 64; i++)
            poller_wake(s->p);
        atomic_fetch_add(&s->sent, 64);
    }
    atomic_store(&s->done, true);
    poller_wake(s->p);
    return NULL;
}

START_TEST(wake_storm_loses_nothing)
{
    struct storm s = { poller_new(), false, 0 };
    pthread_t th;
    void *got[2];
    long rounds = 0;
    ck_assert_int_eq(pthread_create(&th, NULL, wake_storm, &s), 0);
    while (!atomic_load(&s.done)) {
        uint64_t t0 = lw_now_ns();
        ck_assert_int_eq(poller_wait(s.p, 1000 * MS, got, 2), 0);
        if (!atomic_load(&s.done))
            ck_assert_uint_lt(lw_now_ns() - t0, 1000 * MS);
        rounds++;
    }
    pthread_join(th, NULL);
    ck_assert_int_gt(rounds, 10);
    ck_assert_int_ge(poller_wakes_seen(s.p), rounds - 1);
    ck_assert_int_le(poller_wakes_seen(s.p), rounds + 1);
    poller_free(s.p);
}
END_TEST

/* ---- signals ---- */

static lw_poller *sig_poller;
static volatile sig_atomic_t sig_count;

static void wake_handler(int sig)
{
    (void)sig;
    sig_count++;
    poller_wake(sig_poller);
}

static void quiet_handler(int sig)
{
    (void)sig;
    sig_count++;
}

struct kill_arg {
    pthread_t target;
    int sig;
    uint64_t delay_ns;
};

static void *send_signal(void *v)
{
    struct kill_arg *a = v;
    sleep_ns(a->delay_ns);
    pthread_kill(a->target, a->sig);
    return NULL;
}

static void install(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;    /* no SA_RESTART: epoll returns EINTR either way */
    ck_assert_int_eq(sigaction(sig, &sa, NULL), 0);
}

START_TEST(wake_from_signal_handler)
{
    sig_poller = poller_new();
    sig_count = 0;
    install(SIGUSR1, wake_handler);
    struct kill_arg a = { pthread_self(), SIGUSR1, 50 * MS };
    pthread_t th;
    void *got[2];
    uint64_t t0 = lw_now_ns();
    ck_assert_int_eq(pthread_create(&th, NULL, send_signal, &a), 0);
    ck_assert_int_eq(poller_wait(sig_poller, UINT64_MAX, got, 2), 0);
    uint64_t dt = lw_now_ns() - t0;
    pthread_join(th, NULL);
    ck_assert_int_eq(sig_count, 1);
    ck_assert_uint_ge(dt, 50 * MS);
    ck_assert_uint_lt(dt, 1000 * MS);
    ck_assert_uint_eq(poller_wakes_seen(sig_poller), 1);
    poller_free(sig_poller);
}
END_TEST

START_TEST(signal_does_not_cut_timeout_short)
{
    lw_poller *p = poller_new();
    sig_count = 0;
    install(SIGUSR2, quiet_handler);
    struct kill_arg a = { pthread_self(), SIGUSR2, 20 * MS };
    pthread_t th;
    void *got[2];
    uint64_t t0 = lw_now_ns();
    ck_assert_int_eq(pthread_create(&th, NULL, send_signal, &a), 0);
    ck_assert_int_eq(poller_wait(p, 100 * MS, got, 2), 0);
    uint64_t dt = lw_now_ns() - t0;
    pthread_join(th, NULL);
    ck_assert_int_eq(sig_count, 1);     /* the wait really was interrupted */
    ck_assert_uint_ge(dt, 100 * MS);
    ck_assert_uint_lt(dt, 1000 * MS);
    ck_assert_uint_eq(poller_wakes_seen(p), 0);
    poller_free(p);
}
END_TEST

/* ---- timeouts ---- */

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits of various lengths end no earlier than asked, not much later, and
 * sleep rather than spin: the thread burns almost no CPU while waiting. */
static void check_wait_lengths(lw_poller *p)
{
    void *got[2];
    /* 20 ms, and odd sizes that a millisecond clock would round down. */
    const uint64_t waits[] = { 20 * MS, 1 * MS, 1500000, 250000, 3 * MS + 1,
                               1900000, 1900000, 1900000, 1900000, 1900000,
                               1900000, 1900000, 1900000, 1900000, 1900000 };
    uint64_t cpu0 = thread_cpu_ns();
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
        uint64_t t0 = lw_now_ns();
        ck_assert_int_eq(poller_wait(p, waits[i], got, 2), 0);
        uint64_t dt = lw_now_ns() - t0;
        ck_assert_uint_ge(dt, waits[i]);
        ck_assert_uint_lt(dt, 1000 * MS);
    }
    /* Each wait is a few system calls: some 30 us of CPU in all, a few
     * times that under the sanitizers.  A wait that spun out the last
     * fraction of a millisecond would use about 0.9 ms for each 1.9 ms
     * wait, 9 ms in all. */
    ck_assert_uint_lt(thread_cpu_ns() - cpu0, 4 * MS);
}

START_TEST(timeouts_are_honoured)
{
    lw_poller *p = poller_new();
    void *got[2];
    check_wait_lengths(p);
    /* The same with millisecond timeouts, rounded up. */
    poller_use_ms_timeouts(true);
    check_wait_lengths(p);
    poller_use_ms_timeouts(false);
    /* 0 only looks. */
    uint64_t t0 = lw_now_ns();
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(poller_wait(p, 0, got, 2), 0);
    ck_assert_uint_lt(lw_now_ns() - t0, 500 * MS);
    /* Absolute deadlines: past ones return at once, future ones not early. */
    t0 = lw_now_ns();
    ck_assert_int_eq(poller_wait_until(p, 0, got, 2), 0);
    ck_assert_int_eq(poller_wait_until(p, t0, got, 2), 0);
    ck_assert_uint_lt(lw_now_ns() - t0, 500 * MS);
    uint64_t deadline = lw_now_ns() + 10 * MS;
    ck_assert_int_eq(poller_wait_until(p, deadline, got, 2), 0);
    ck_assert_uint_ge(lw_now_ns(), deadline);
    /* A timeout too large to add to the clock is forever, not a wrap into
     * the past: a wake ends it. */
    struct waker_arg a = { p, 30 * MS, 0 };
    pthread_t th;
    t0 = lw_now_ns();
    ck_assert_int_eq(pthread_create(&th, NULL, waker, &a), 0);
    ck_assert_int_eq(poller_wait(p, UINT64_MAX - 1, got, 2), 0);
    ck_assert_uint_ge(lw_now_ns() - t0, 30 * MS);
    ck_assert_uint_eq(poller_wakes_seen(p), 1);
    pthread_join(th, NULL);
    poller_free(p);
}
END_TEST

/* ---- several waiters in one poller ---- */

struct shared {
    lw_poller *p;
    atomic_bool stop;
    atomic_int reports;
    int counts[64];     /* per fd; written by whichever thread got its token */
};

static void *shared_waiter(void *v)
{
    struct shared *s = v;
    void *got[4];
    while (!atomic_load(&s->stop)) {
        int n = poller_wait(s->p, UINT64_MAX, got, 4);
        for (int i = 0; i < n; i++) {
            (*(int *)got[i])++;     /* one-shot: no other thread has this token now */
            atomic_fetch_add(&s->reports, 1);
        }
    }
    return NULL;
}

START_TEST(shared_poller_reports_each_once)
{
    enum { WAITERS = 3, FDS = 64, ROUNDS = 20 };
    struct shared s;
    memset(&s, 0, sizeof s);
    s.p = poller_new();
    atomic_init(&s.stop, false);
    atomic_init(&s.reports, 0);
    int fds[FDS][2];
    for (int i = 0; i < FDS; i++) {
        ck_assert_int_eq(pipe(fds[i]), 0);
        ck_assert_int_eq(write(fds[i][1], "x", 1), 1);  /* always readable */
    }
    pthread_t th[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, shared_waiter, &s), 0);
    /* Arm every fd, wait until all reports are in, and again: each arming
     * gives exactly one report, to one thread. */
    for (int r = 1; r <= ROUNDS; r++) {
        for (int i = 0; i < FDS; i++)
            ck_assert(poller_watch(s.p, fds[i][0], EPOLLIN, &s.counts[i]));
        uint64_t t0 = lw_now_ns();
        while (atomic_load(&s.reports) < r * FDS) {
            ck_assert_uint_lt(lw_now_ns() - t0, 5000 * MS);
            sleep_ns(100000);
        }
        ck_assert_int_eq(atomic_load(&s.reports), r * FDS);
    }
    atomic_store(&s.stop, true);
    /* Every waiter must see a wake to notice `stop`; a wake ends at least
     * one wait, so keep waking until all have left. */
    for (int i = 0; i < WAITERS; i++) {
        for (;;) {
            poller_wake(s.p);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 10 * MS;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            if (pthread_timedjoin_np(th[i], NULL, &ts) == 0)
                break;
        }
    }
    sleep_ns(20 * MS);  /* any late report would show up as an extra count */
    ck_assert_int_eq(atomic_load(&s.reports), ROUNDS * FDS);
    for (int i = 0; i < FDS; i++) {
        ck_assert_int_eq(s.counts[i], ROUNDS);
        close(fds[i][0]);
        close(fds[i][1]);
    }
    poller_free(s.p);
}
END_TEST

static Suite *poller_suite(void)
{
    Suite *s = suite_create("sched_poller");
    TCase *tc = tcase_create("readiness");
    tcase_add_test(tc, pipe_readable_reported_once);
    tcase_add_test(tc, writable_and_hangup);
    tcase_add_test(tc, many_ready_fds_none_lost);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    tc = tcase_create("wake");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, wake_from_thread_ends_forever_wait);
    tcase_add_test(tc, wake_before_wait_is_kept);
    tcase_add_test(tc, many_wakes_coalesce);
    tcase_add_test(tc, ping_pong_loses_no_wake);
    tcase_add_test(tc, wake_storm_loses_nothing);
    tcase_add_test(tc, wake_from_signal_handler);
    tcase_add_test(tc, signal_does_not_cut_timeout_short);
    suite_add_tcase(s, tc);
    tc = tcase_create("timeouts");
    tcase_add_test(tc, timeouts_are_honoured);
    suite_add_tcase(s, tc);
    tc = tcase_create("shared");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, shared_poller_reports_each_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(poller_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
