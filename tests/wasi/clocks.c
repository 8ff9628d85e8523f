/*
 * Clocks and random_get.  Prints only facts that hold on any machine:
 * the monotonic clock never goes back and does advance, the realtime clock
 * is between 2020 and 2100, resolutions are small and positive, the CPU-time clocks count, two draws of random bytes differ.
 */
#include <time.h>
#include <unistd.h>

#include "common.h"

static uint64_t now(__wasi_clockid_t id)
{
    __wasi_timestamp_t t = 0;
    int e = __wasi_clock_time_get(id, 1, &t);
    CHECK(e == 0);
    return t;
}

int main(void)
{
    /* Monotonic: never backwards over many reads, and forwards over a spin. */
    uint64_t prev = now(__WASI_CLOCKID_MONOTONIC), first = prev;
    int backwards = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t t = now(__WASI_CLOCKID_MONOTONIC);
        backwards += t < prev;
        prev = t;
    }
    printf("monotonic: backwards %d, advanced %d\n", backwards, prev > first);

    /* clock_gettime through libc agrees with the raw call to within a second. */
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    uint64_t libc_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    uint64_t raw = now(__WASI_CLOCKID_MONOTONIC);
    printf("monotonic via libc agrees: %d\n", raw >= libc_ns && raw - libc_ns < 1000000000u);

    /* Realtime: between 2020-01-01 and 2100-01-01; time() agrees. */
    uint64_t real = now(__WASI_CLOCKID_REALTIME);
    printf("realtime plausible: %d\n", real > 1577836800ull * 1000000000u && real < 4102444800ull * 1000000000u);
    time_t t = time(NULL);
    printf("time() agrees: %d\n", (uint64_t)t + 2 >= real / 1000000000u && (uint64_t)t <= real / 1000000000u + 2);

    /* Resolutions: positive; at most a millisecond for the wall clocks, a
       second for the CPU-time clocks (node says 10 ms for the thread's). */
    const char *names[4] = {"realtime", "monotonic", "process_cputime", "thread_cputime"};
    for (__wasi_clockid_t id = 0; id < 4; id++) {
        __wasi_timestamp_t res = 0;
        int e = __wasi_clock_res_get(id, &res);
        uint64_t most = id < 2 ? 1000000u : 1000000000u;
        printf("res %s: %s, in (0, %s]: %d\n", names[id], e ? errname(e) : "ok", id < 2 ? "1ms" : "1s",
               res > 0 && res <= most);
    }
    struct timespec r;
    CHECK(clock_getres(CLOCK_MONOTONIC, &r) == 0);
    printf("clock_getres monotonic in (0, 1ms]: %d\n", r.tv_sec == 0 && r.tv_nsec > 0 && r.tv_nsec <= 1000000);

    /* CPU time grows over a busy loop (given 2 s of wall time to reach 20 ms).
       It is not compared with the wall clock: the runtime's process may be
       all of its worker threads. */
    uint64_t c0 = now(__WASI_CLOCKID_PROCESS_CPUTIME_ID), w0 = now(__WASI_CLOCKID_MONOTONIC);
    volatile uint64_t x = 0;
    while (now(__WASI_CLOCKID_PROCESS_CPUTIME_ID) - c0 < 20000000u && now(__WASI_CLOCKID_MONOTONIC) - w0 < 2000000000u)
        for (int i = 0; i < 1000; i++)
            x = x + (uint64_t)i;
    uint64_t c1 = now(__WASI_CLOCKID_PROCESS_CPUTIME_ID);
    printf("process cputime advanced 20 ms over a busy loop: %d\n", c1 - c0 >= 20000000u);
    CHECK(x > 0);
    uint64_t th = now(__WASI_CLOCKID_THREAD_CPUTIME_ID);
    /* Only positive: a process may move between worker threads. */
    printf("thread cputime positive: %d\n", th > 0);

    /* An unknown clock: EINVAL. */
    __wasi_timestamp_t dummy;
    printf("clock 99: %s\n", errname(__wasi_clock_time_get(99, 1, &dummy)));
    printf("res of clock 99: %s\n", errname(__wasi_clock_res_get(99, &dummy)));

    /* random_get: two draws differ, nothing is left all zero, 0 bytes is fine. */
    uint8_t a[32], b[32];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    show("getentropy a", getentropy(a, sizeof a));
    show("getentropy b", getentropy(b, sizeof b));
    printf("draws differ: %d\n", memcmp(a, b, sizeof a) != 0);
    static uint8_t big[65536];
    printf("random_get 64 KiB: %s\n", errname(__wasi_random_get(big, sizeof big)));
    int zeros = 0;
    for (size_t i = 0; i < sizeof big; i++)
        zeros += big[i] == 0;
    /* About 256 zeros expected out of 65536; far more means it was not filled. */
    printf("zero bytes fewer than 1000: %d\n", zeros < 1000);
    printf("random_get 0 bytes: %s\n", errname(__wasi_random_get(big, 0)));
    /* arc4random is built on it. */
    printf("arc4random draws differ: %d\n", arc4random() != arc4random() || arc4random() != arc4random());

    printf("checks failed: %d\n", check_failures);
    return check_failures ? 1 : 0;
}
