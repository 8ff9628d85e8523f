/*
 * Tests of the pooled arenas (src/mem/arena.c): slot placement and zeroing,
 * the full arena, concurrent use, RSS returned on release, and that the
 * number of mappings does not grow with the number of slots.
 *
 * check runs each test in its own child process, so the RSS and mapping
 * counts below see only what the test itself did.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem/arena.h"

/* Under ASan, arena_release poisons a released slot: the shadow bytes it
   writes (one per 8 bytes of slot) are resident memory too. */
#if defined(__SANITIZE_ADDRESS__)
#define SHADOW_SHARE 8
#else
#define SHADOW_SHARE 0
#endif

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* Resident set size in bytes, from /proc/self/statm (second field, pages). */
static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    unsigned long size, resident;
    ck_assert_int_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return resident * page_size();
}

/* Number of mappings: lines of /proc/self/maps. */
static int mapping_count(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    int lines = 0, c;
    while ((c = getc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines;
}

/* ---- placement, zeroing, full ---- */

START_TEST(slots_distinct_aligned_zeroed)
{
    size_t ps = page_size();
    lw_arena *a = arena_new(10000, 8);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(arena_slot_size(a), (10000 + ps - 1) / ps * ps);
    ck_assert_uint_eq(arena_max_slots(a), 8);
    size_t sz = arena_slot_size(a);

    char *s[8];
    for (int i = 0; i < 8; i++) {
        s[i] = arena_alloc(a);
        ck_assert_ptr_nonnull(s[i]);
        ck_assert_uint_eq((uintptr_t)s[i] % ps, 0);
        ck_assert(arena_contains(a, s[i]));
        ck_assert(arena_contains(a, s[i] + sz - 1));
        ck_assert(all_zero(s[i], sz));
        for (int j = 0; j < i; j++) {
            /* distinct and not overlapping */
            uintptr_t x = (uintptr_t)s[i], y = (uintptr_t)s[j];
            ck_assert(x >= y + sz || y >= x + sz);
        }
        memset(s[i], 0xa5, sz);     /* a write must not show in another slot */
    }
    ck_assert_uint_eq(arena_in_use(a), 8);

    /* The slots tile [lowest, lowest + 8 * sz) exactly. */
    char *lo = s[0];
    for (int i = 1; i < 8; i++)
        if (s[i] < lo)
            lo = s[i];
    ck_assert(!arena_contains(a, lo - 1));
    ck_assert(!arena_contains(a, lo + 8 * sz));
    ck_assert(!arena_contains(a, &sz));

    for (int i = 0; i < 8; i++)
        arena_release(a, s[i], sz);
    ck_assert_uint_eq(arena_in_use(a), 0);
    arena_free_all(a);
    arena_free_all(NULL);
}
END_TEST

START_TEST(bad_arguments)
{
    ck_assert_ptr_null(arena_new(0, 10));
    ck_assert_ptr_null(arena_new(4096, 0));
    ck_assert_ptr_null(arena_new(4096, UINT32_MAX));
    ck_assert_ptr_null(arena_new(SIZE_MAX / 4, 8));     /* the size overflows */
    ck_assert_ptr_null(arena_new(SIZE_MAX, 1));
}
END_TEST

START_TEST(big_reservation)
{
    /* A million 64 KiB slots: 64 GiB of address space, nothing touched. */
    lw_arena *a = arena_new(64 * 1024, 1000000);
    ck_assert_ptr_nonnull(a);
    char *p = arena_alloc(a);
    ck_assert_ptr_nonnull(p);
    p[65535] = 1;
    arena_release(a, p, 65536);
    arena_free_all(a);
}
END_TEST

/* Write a pattern into `written` bytes, release with `used`, and check that
   the slot handed out next (the same one: free lists are LIFO) is all zero. */
static void check_rezeroed(lw_arena *a, size_t written, size_t used)
{
    size_t sz = arena_slot_size(a);
    char *p = arena_alloc(a);
    ck_assert_ptr_nonnull(p);
    ck_assert(all_zero(p, sz));
    for (size_t i = 0; i < written; i++)
        p[i] = (char)(i * 7 + 1) | 1;
    arena_release(a, p, used);
    char *q = arena_alloc(a);
    ck_assert_ptr_eq(q, p);
    ck_assert(all_zero(q, sz));
    arena_release(a, q, 0);
}

START_TEST(zeroed_after_release)
{
    size_t ps = page_size();
    lw_arena *a = arena_new(8 * ps, 4);
    ck_assert_ptr_nonnull(a);
    check_rezeroed(a, 8 * ps, 8 * ps);          /* all written: cold (madvise) */
    check_rezeroed(a, 8 * ps, SIZE_MAX);        /* `used` past the slot is clamped */
    check_rezeroed(a, 100, 100);                /* small: warm (memset) */
    check_rezeroed(a, ps, ps);
    check_rezeroed(a, ps + 1, ps + 1);          /* a page and a byte: two pages */
    check_rezeroed(a, 3 * ps + 5, 3 * ps + 5);  /* <= 16 KiB: still warm */
    check_rezeroed(a, 5 * ps, 5 * ps);          /* > 16 KiB: cold */

    /* The same with the warm cache off: every size goes through madvise. */
    arena_set_warm(a, 0, 0);
    check_rezeroed(a, 100, 100);
    check_rezeroed(a, ps + 1, ps + 1);
    check_rezeroed(a, 8 * ps, 8 * ps);
    check_rezeroed(a, 0, 0);
    arena_free_all(a);
}
END_TEST

START_TEST(full_and_recovers)
{
    lw_arena *a = arena_new(4096, 5);
    ck_assert_ptr_nonnull(a);
    void *s[5];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5; i++) {
            s[i] = arena_alloc(a);
            ck_assert_ptr_nonnull(s[i]);
        }
        ck_assert_ptr_null(arena_alloc(a));
        ck_assert_ptr_null(arena_alloc(a));
        ck_assert_uint_eq(arena_in_use(a), 5);

        arena_release(a, s[2], 4096);           /* cold */
        void *t = arena_alloc(a);
        ck_assert_ptr_eq(t, s[2]);
        ck_assert_ptr_null(arena_alloc(a));

        arena_release(a, s[4], 1);              /* warm */
        t = arena_alloc(a);
        ck_assert_ptr_eq(t, s[4]);
        ck_assert_ptr_null(arena_alloc(a));

        /* Release everything, half warm and half cold, and start over. */
        for (int i = 0; i < 5; i++)
            arena_release(a, s[i], i % 2 ? 4096 : 8);
        ck_assert_uint_eq(arena_in_use(a), 0);
    }
    arena_free_all(a);
}
END_TEST

/* ---- concurrency ---- */

#define NTHREADS 4
#define HOLD 8                  /* slots each thread holds at most */
#define OPS 100000              /* allocations per thread */

typedef struct {
    lw_arena *a;
    _Atomic int *owner;         /* owner[slot index]: thread id + 1, or 0 */
    int id;
    long errors;                /* a slot given to two owners, or not zero */
    long nulls;                 /* arena_alloc said full */
} worker_arg;

#define OWNERS (NTHREADS * (HOLD + 1))

/* The owner word of slot s.  Slots lie one slot size apart, so address /
   size numbers them with consecutive integers, and the arena's OWNERS slots
   get distinct numbers modulo OWNERS. */
static _Atomic int *owner_of(const worker_arg *w, const char *s)
{
    size_t sz = arena_slot_size(w->a);
    return &w->owner[((uintptr_t)s / sz) % OWNERS];
}

static void *worker(void *p)
{
    worker_arg *w = p;
    size_t sz = arena_slot_size(w->a), ps = page_size();
    char *kept = arena_alloc(w->a);     /* held all along, so fewer slots circulate */
    char *held[HOLD] = { 0 };
    size_t used[HOLD] = { 0 };
    unsigned rng = 12345u + (unsigned)w->id * 7919u;
    int tag = w->id + 1;

    for (int op = 0; op < OPS; op++) {
        rng = rng * 1103515245u + 12345u;
        int k = (int)((rng >> 16) % HOLD);
        if (held[k]) {
            /* Still ours?  Another owner would have overwritten the marks. */
            char *s = held[k];
            if (s[0] != tag || s[used[k] - 1] != tag)
                w->errors++;
            int expect = tag;
            if (!atomic_compare_exchange_strong(owner_of(w, s), &expect, 0))
                w->errors++;
            arena_release(w->a, s, used[k]);
            held[k] = NULL;
        }
        char *s = arena_alloc(w->a);
        if (!s) {
            w->nulls++;
            continue;
        }
        int expect = 0;
        if (!atomic_compare_exchange_strong(owner_of(w, s), &expect, tag))
            w->errors++;
        /* One slot in eight is written all over and goes back through
           madvise; the others only touch their first page and stay warm
           while the warm cache has room. */
        size_t u = (rng >> 8) % 8 == 0 ? sz : ps;
        if (s[0] != 0 || s[u - 1] != 0 || s[sz - 1] != 0)
            w->errors++;
        s[0] = (char)tag;
        s[u - 1] = (char)tag;
        held[k] = s;
        used[k] = u;
    }
    for (int k = 0; k < HOLD; k++)
        if (held[k]) {
            int expect = tag;
            if (!atomic_compare_exchange_strong(owner_of(w, held[k]), &expect, 0))
                w->errors++;
            arena_release(w->a, held[k], used[k]);
        }
    if (kept)
        arena_release(w->a, kept, 0);
    else
        w->nulls++;
    return NULL;
}

START_TEST(concurrent_single_owner)
{
    /* Exactly as many slots as the threads can hold at once (HOLD each, plus
       one kept slot each): arena_alloc must never say full, and no slot
       may ever have two owners. */
    size_t max = NTHREADS * (HOLD + 1);
    lw_arena *a = arena_new(2 * page_size(), max);
    ck_assert_ptr_nonnull(a);
    arena_set_warm(a, 8, page_size());          /* small, so both stacks stay busy */
    _Atomic int owner[OWNERS];
    for (size_t i = 0; i < sizeof owner / sizeof owner[0]; i++)
        atomic_init(&owner[i], 0);
    pthread_t th[NTHREADS];
    worker_arg w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker_arg){ .a = a, .owner = owner, .id = i };
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    long errors = 0, nulls = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        errors += w[i].errors;
        nulls += w[i].nulls;
    }
    ck_assert_int_eq(errors, 0);
    ck_assert_int_eq(nulls, 0);
    ck_assert_uint_eq(arena_in_use(a), 0);
    for (size_t i = 0; i < sizeof owner / sizeof owner[0]; i++)
        ck_assert_int_eq(atomic_load(&owner[i]), 0);
    /* Everything came back: max slots can be taken again, and no more. */
    void *s[NTHREADS * (HOLD + 1)];
    for (size_t i = 0; i < max; i++)
        ck_assert_ptr_nonnull(s[i] = arena_alloc(a));
    ck_assert_ptr_null(arena_alloc(a));
    for (size_t i = 0; i < max; i++)
        arena_release(a, s[i], 0);
    arena_free_all(a);
}
END_TEST

/* ---- what it costs the process ---- */

START_TEST(rss_drops_after_release)
{
    size_t slot = 64 * 1024, n = 1024;          /* 64 MiB worth of slots */
    size_t total = slot * n;
    lw_arena *a = arena_new(slot, n);
    ck_assert_ptr_nonnull(a);
    char **s = malloc(n * sizeof *s);
    ck_assert_ptr_nonnull(s);
    size_t before = rss_bytes();
    for (size_t i = 0; i < n; i++) {
        s[i] = arena_alloc(a);
        ck_assert_ptr_nonnull(s[i]);
    }
    ck_assert_uint_lt(rss_bytes(), before + (1 << 20));     /* allocation alone costs nothing */
    for (size_t i = 0; i < n; i++)
        memset(s[i], 0x5a, slot);
    size_t touched = rss_bytes();
    ck_assert_uint_ge(touched, before + total - (1 << 20));
    for (size_t i = 0; i < n; i++)
        arena_release(a, s[i], slot);
    size_t after = rss_bytes();
    ck_assert_uint_ge(touched - after, total - (SHADOW_SHARE ? total / SHADOW_SHARE : 0) - (1 << 20));

    /* Lightly used slots: the warm cache keeps at most ARENA_WARM_SLOTS of
       them resident (one page each here), the rest go back to the kernel. */
    size_t ps = page_size();
    for (size_t i = 0; i < n; i++) {
        s[i] = arena_alloc(a);
        s[i][0] = 1;
    }
    touched = rss_bytes();
    ck_assert_uint_ge(touched, after + n * ps - (1 << 20));
    for (size_t i = 0; i < n; i++)
        arena_release(a, s[i], 1);
    size_t kept = rss_bytes();
    size_t shadow = SHADOW_SHARE ? total / SHADOW_SHARE : 0;
    ck_assert_uint_le(kept, after + ARENA_WARM_SLOTS * ps + shadow + (256 << 10));
    ck_assert_uint_ge(kept, after + ARENA_WARM_SLOTS * ps - (256 << 10));

    free(s);
    arena_free_all(a);
}
END_TEST

START_TEST(mappings_do_not_grow)
{
    size_t n = 100000;
    char **s = malloc(n * sizeof *s);
    ck_assert_ptr_nonnull(s);
    lw_arena *a = arena_new(16 * 1024, n);
    ck_assert_ptr_nonnull(a);
    int before = mapping_count();
    for (size_t i = 0; i < n; i++) {
        s[i] = arena_alloc(a);
        ck_assert_ptr_nonnull(s[i]);
        s[i][i % 16384] = 1;                    /* a page really mapped in each */
    }
    ck_assert_ptr_null(arena_alloc(a));
    int during = mapping_count();
    for (size_t i = 0; i < n; i++)
        arena_release(a, s[i], 16 * 1024);
    int after = mapping_count();
    ck_assert_int_le(during, before + 3);
    ck_assert_int_le(after, before + 3);
    arena_free_all(a);
    free(s);
}
END_TEST

/* Not a pass/fail check: the cost of the spawn-exit cycle, for the log. */
START_TEST(speed_info)
{
    lw_arena *a = arena_new(64 * 1024, 1024);
    ck_assert_ptr_nonnull(a);
    int n = 200000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        char *p = arena_alloc(a);
        p[0] = 1;
        arena_release(a, p, page_size());
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
    printf("arena: alloc + touch one page + release: %.0f ns (warm cache)\n", ns);
    ck_assert_uint_eq(arena_in_use(a), 0);
    arena_free_all(a);
}
END_TEST

static Suite *arena_suite(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("slots");
    tcase_add_test(tc, slots_distinct_aligned_zeroed);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, big_reservation);
    tcase_add_test(tc, zeroed_after_release);
    tcase_add_test(tc, full_and_recovers);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, concurrent_single_owner);
    suite_add_tcase(s, tc);
    tc = tcase_create("footprint");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rss_drops_after_release);
    tcase_add_test(tc, mappings_do_not_grow);
    tcase_add_test(tc, speed_info);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(arena_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
