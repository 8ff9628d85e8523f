/*
 * poll_oneoff: clock timeouts, relative and absolute, several at once (the
 * earliest fires first), a zero timeout, fd subscriptions on stdout
 * (writable) and stdin (the harness gives a pipe already holding "ping" and
 * closed, so it is readable), and sleeps through libc.  Times are checked
 * against the monotonic clock with generous upper bounds (2 s), so a busy
 * machine does not fail them.
 *
 * Not compared with node: node's WASI (uvwasi, node 20) sleeps for
 * decades on an absolute monotonic deadline and on one already past.
 */
#include <time.h>
#include <unistd.h>

#include "common.h"

static uint64_t mono(void)
{
    __wasi_timestamp_t t = 0;
    CHECK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) == 0);
    return t;
}

static __wasi_subscription_t clock_sub(uint64_t userdata, __wasi_clockid_t id, uint64_t timeout,
                                       __wasi_subclockflags_t flags)
{
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = userdata;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = id;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.precision = 0;
    s.u.u.clock.flags = flags;
    return s;
}

static __wasi_subscription_t fd_sub(uint64_t userdata, __wasi_eventtype_t type, __wasi_fd_t fd)
{
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = userdata;
    s.u.tag = type;
    s.u.u.fd_read.file_descriptor = fd;
    return s;
}

enum { MS = 1000000 };

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* each line out as it is printed */
    __wasi_event_t ev[4];
    __wasi_size_t n = 0;

    /* One relative clock of 50 ms. */
    __wasi_subscription_t s1 = clock_sub(42, __WASI_CLOCKID_MONOTONIC, 50 * MS, 0);
    uint64_t t0 = mono();
    int e = __wasi_poll_oneoff(&s1, ev, 1, &n);
    uint64_t dt = mono() - t0;
    printf("50 ms clock: %s, %u event(s), userdata %llu, type %d, error %d\n", errname(e), (unsigned)n,
           (unsigned long long)ev[0].userdata, ev[0].type, ev[0].error);
    printf("  waited at least 50 ms: %d, less than 2 s: %d\n", dt >= 50 * MS, dt < 2000 * MS);

    /* Two clocks at once: the 30 ms one fires, well before the 1500 ms one. */
    __wasi_subscription_t two[2] = {clock_sub(2, __WASI_CLOCKID_MONOTONIC, 1500 * MS, 0),
                                    clock_sub(1, __WASI_CLOCKID_MONOTONIC, 30 * MS, 0)};
    t0 = mono();
    e = __wasi_poll_oneoff(two, ev, 2, &n);
    dt = mono() - t0;
    printf("30 ms and 1500 ms clocks: %s, %u event(s), first userdata %llu\n", errname(e), (unsigned)n,
           (unsigned long long)ev[0].userdata);
    printf("  waited at least 30 ms: %d, less than 1500 ms: %d\n", dt >= 30 * MS, dt < 1500 * MS);

    /* An absolute deadline on the monotonic clock, 40 ms ahead. */
    __wasi_subscription_t abs_s = clock_sub(7, __WASI_CLOCKID_MONOTONIC, mono() + 40 * MS,
                                            __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    t0 = mono();
    e = __wasi_poll_oneoff(&abs_s, ev, 1, &n);
    dt = mono() - t0;
    printf("absolute monotonic deadline: %s, %u event(s), userdata %llu\n", errname(e), (unsigned)n,
           (unsigned long long)ev[0].userdata);
    printf("  waited at least 30 ms: %d, less than 2 s: %d\n", dt >= 30 * MS, dt < 2000 * MS);

    /* An absolute deadline on the realtime clock, 40 ms ahead. */
    __wasi_timestamp_t real = 0;
    CHECK(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &real) == 0);
    __wasi_subscription_t abs_r = clock_sub(6, __WASI_CLOCKID_REALTIME, real + 40 * MS,
                                            __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    t0 = mono();
    e = __wasi_poll_oneoff(&abs_r, ev, 1, &n);
    dt = mono() - t0;
    printf("absolute realtime deadline: %s, %u event(s), userdata %llu\n", errname(e), (unsigned)n,
           (unsigned long long)ev[0].userdata);
    printf("  waited at least 30 ms: %d, less than 2 s: %d\n", dt >= 30 * MS, dt < 2000 * MS);

    /* An absolute deadline in the past, on the realtime clock: at once. */
    __wasi_subscription_t past = clock_sub(8, __WASI_CLOCKID_REALTIME, 1000000000ull * MS,
                                           __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME);
    t0 = mono();
    e = __wasi_poll_oneoff(&past, ev, 1, &n);
    dt = mono() - t0;
    printf("deadline in the past: %s, %u event(s), at once: %d\n", errname(e), (unsigned)n, dt < 1000 * MS);

    /* No subscription at all: EINVAL. */
    __wasi_subscription_t zero = clock_sub(9, __WASI_CLOCKID_MONOTONIC, 0, 0);
    printf("no subscriptions: %s\n", errname(__wasi_poll_oneoff(&zero, ev, 0, &n)));

    /* A zero timeout: at once. */
    t0 = mono();
    e = __wasi_poll_oneoff(&zero, ev, 1, &n);
    dt = mono() - t0;
    printf("zero timeout: %s, %u event(s), userdata %llu, at once: %d\n", errname(e), (unsigned)n,
           (unsigned long long)ev[0].userdata, dt < 1000 * MS);

    /* stdout is writable: with a 1 s clock beside it, the fd event comes at once. */
    fflush(stdout);
    __wasi_subscription_t w[2] = {clock_sub(10, __WASI_CLOCKID_MONOTONIC, 1000 * MS, 0),
                                  fd_sub(11, __WASI_EVENTTYPE_FD_WRITE, 1)};
    t0 = mono();
    e = __wasi_poll_oneoff(w, ev, 2, &n);
    dt = mono() - t0;
    printf("stdout writable: %s, %u event(s), userdata %llu, type %d, error %d, at once: %d\n", errname(e),
           (unsigned)n, (unsigned long long)ev[0].userdata, ev[0].type, ev[0].error, dt < 900 * MS);

    /* stdin holds data (or its end): readable at once. */
    __wasi_subscription_t r[2] = {clock_sub(12, __WASI_CLOCKID_MONOTONIC, 1000 * MS, 0),
                                  fd_sub(13, __WASI_EVENTTYPE_FD_READ, 0)};
    t0 = mono();
    e = __wasi_poll_oneoff(r, ev, 2, &n);
    dt = mono() - t0;
    printf("stdin readable: %s, %u event(s), userdata %llu, type %d, error %d, at once: %d\n", errname(e),
           (unsigned)n, (unsigned long long)ev[0].userdata, ev[0].type, ev[0].error, dt < 900 * MS);
    char buf[16];
    ssize_t got = read(0, buf, sizeof buf);
    printf("stdin: [%.*s]\n", (int)(got < 0 ? 0 : got), buf);

    /* Sleeps through libc, which are poll_oneoff underneath. */
    struct timespec req = {0, 30 * MS};
    t0 = mono();
    show("nanosleep 30 ms", nanosleep(&req, NULL));
    dt = mono() - t0;
    printf("  waited at least 30 ms: %d, less than 2 s: %d\n", dt >= 30 * MS, dt < 2000 * MS);
    t0 = mono();
    show("usleep 20 ms", usleep(20000));
    dt = mono() - t0;
    printf("  waited at least 20 ms: %d, less than 2 s: %d\n", dt >= 20 * MS, dt < 2000 * MS);

    printf("sched_yield: %s\n", errname(__wasi_sched_yield()));

    printf("checks failed: %d\n", check_failures);
    return check_failures ? 1 : 0;
}
