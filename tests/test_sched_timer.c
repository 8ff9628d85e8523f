/*
 * Tests of the timer heap (src/sched/timer.c): firing order, ties in
 * insertion order, cancel anywhere in the heap, pop_due's boundary, and a
 * long random run against a simple reference model.  timers_check (heap
 * property and every entry's index) runs after each operation.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/timer.h"

/* xorshift64: a fixed seed keeps every run the same. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Pop everything due at `now`, checking the heap after each pop. */
static int pop_all(lw_timers *t, uint64_t now, lw_timer **out, int max)
{
    int n = 0;
    lw_timer *e;
    while ((e = timers_pop_due(t, now)) != NULL) {
        ck_assert_int_lt(n, max);
        ck_assert(!timers_pending(e));
        ck_assert(timers_check(t));
        out[n++] = e;
    }
    return n;
}

START_TEST(empty_heap)
{
    lw_timers t;
    ck_assert(timers_init(&t));
    ck_assert_uint_eq(timers_next(&t), UINT64_MAX);
    ck_assert_uint_eq(timers_count(&t), 0);
    ck_assert_ptr_null(timers_pop_due(&t, UINT64_MAX));
    ck_assert(timers_check(&t));
    timers_destroy(&t);
}
END_TEST

START_TEST(random_deadlines_fire_in_order)
{
    enum { N = 5000 };
    lw_timers t;
    ck_assert(timers_init(&t));
    lw_timer *e = calloc(N, sizeof *e);
    lw_timer **out = malloc(N * sizeof *out);
    for (int i = 0; i < N; i++) {
        /* A small range, so many deadlines tie. */
        uint64_t d = 1000 + rng() % 2000;
        ck_assert(timers_add(&t, &e[i], d, &e[i]));
        ck_assert(timers_pending(&e[i]));
        ck_assert_ptr_eq(e[i].payload, &e[i]);
        ck_assert(timers_check(&t));
    }
    ck_assert_uint_eq(timers_count(&t), N);
    ck_assert_ptr_null(timers_pop_due(&t, 999));
    int n = pop_all(&t, UINT64_MAX, out, N);
    ck_assert_int_eq(n, N);
    for (int i = 1; i < N; i++) {
        ck_assert_uint_le(out[i - 1]->deadline, out[i]->deadline);
        if (out[i - 1]->deadline == out[i]->deadline)
            ck_assert_uint_lt(out[i - 1]->seq, out[i]->seq);
    }
    /* Each entry came out exactly once. */
    for (int i = 0; i < N; i++)
        out[i]->payload = NULL;
    for (int i = 0; i < N; i++)
        ck_assert_ptr_null(e[i].payload);
    ck_assert_uint_eq(timers_next(&t), UINT64_MAX);
    timers_destroy(&t);
    free(out);
    free(e);
}
END_TEST

START_TEST(ties_fire_in_insertion_order)
{
    enum { N = 300 };
    lw_timers t;
    ck_assert(timers_init(&t));
    lw_timer e[N];
    memset(e, 0, sizeof e);
    lw_timer *out[N];
    /* Three deadlines, added interleaved and in descending deadline order
     * within each round, so insertion order and heap order differ. */
    for (int i = 0; i < N; i++)
        ck_assert(timers_add(&t, &e[i], (uint64_t)(2 - i % 3) * 10, (void *)(intptr_t)i));
    ck_assert_int_eq(pop_all(&t, UINT64_MAX, out, N), N);
    int k = 0;
    for (int d = 0; d <= 2; d++)
        for (int i = 0; i < N; i++)
            if (2 - i % 3 == d) {
                ck_assert_int_eq((int)(intptr_t)out[k]->payload, i);
                ck_assert_uint_eq(out[k]->deadline, (uint64_t)d * 10);
                k++;
            }
    ck_assert_int_eq(k, N);

    /* All equal: pure insertion order. */
    for (int i = 0; i < N; i++)
        ck_assert(timers_add(&t, &e[i], 7, (void *)(intptr_t)i));
    ck_assert_int_eq(pop_all(&t, 7, out, N), N);
    for (int i = 0; i < N; i++)
        ck_assert_ptr_eq(out[i], &e[i]);
    timers_destroy(&t);
}
END_TEST

/* Which entry sits in the last slot of the heap (the "tail"). */
static lw_timer *tail_entry(lw_timers *t, lw_timer *e, int n)
{
    for (int i = 0; i < n; i++)
        if (timers_pending(&e[i]) && e[i].index == timers_count(t))
            return &e[i];
    return NULL;
}

START_TEST(cancel_head_middle_tail)
{
    enum { N = 31 };
    lw_timers t;
    ck_assert(timers_init(&t));
    lw_timer e[N];
    memset(e, 0, sizeof e);
    bool gone[N] = { false };
    for (int i = 0; i < N; i++)
        ck_assert(timers_add(&t, &e[i], 100 + (uint64_t)((i * 17) % N), NULL));

    /* The head: the earliest deadline, 100, is entry 0. */
    ck_assert_uint_eq(e[0].index, 1);
    ck_assert(timers_cancel(&t, &e[0]));
    gone[0] = true;
    ck_assert(!timers_pending(&e[0]));
    ck_assert(timers_check(&t));
    ck_assert_uint_eq(timers_next(&t), 101);

    /* The tail: removing the last slot moves nothing. */
    lw_timer *tl = tail_entry(&t, e, N);
    ck_assert_ptr_nonnull(tl);
    ck_assert(timers_cancel(&t, tl));
    gone[tl - e] = true;
    ck_assert(timers_check(&t));

    /* The middle: every entry at depth 2 and 3, one at a time. */
    for (int i = 0; i < N; i++) {
        if (!timers_pending(&e[i]) || e[i].index < 4 || e[i].index > 15)
            continue;
        ck_assert(timers_cancel(&t, &e[i]));
        gone[i] = true;
        ck_assert(timers_check(&t));
    }
    /* The rest come out in deadline order, and only the rest. */
    lw_timer *out[N];
    int n = pop_all(&t, UINT64_MAX, out, N);
    int expect = 0;
    for (int i = 0; i < N; i++)
        expect += !gone[i];
    ck_assert_int_eq(n, expect);
    for (int i = 0; i < n; i++) {
        ck_assert(!gone[out[i] - e]);
        if (i)
            ck_assert_uint_lt(out[i - 1]->deadline, out[i]->deadline);
    }
    timers_destroy(&t);
}
END_TEST

START_TEST(cancel_of_not_pending)
{
    lw_timers t, other;
    ck_assert(timers_init(&t));
    ck_assert(timers_init(&other));
    lw_timer never = { 0 };
    ck_assert(!timers_pending(&never));
    ck_assert(!timers_cancel(&t, &never));

    lw_timer a = { 0 }, b = { 0 }, c = { 0 };
    ck_assert(timers_add(&t, &a, 5, NULL));
    ck_assert(timers_add(&t, &b, 6, NULL));
    ck_assert(timers_add(&other, &c, 1, NULL));
    ck_assert_ptr_eq(timers_pop_due(&t, 5), &a);   /* fired */
    ck_assert(!timers_cancel(&t, &a));
    ck_assert(timers_cancel(&t, &b));
    ck_assert(!timers_cancel(&t, &b));             /* cancelled twice */
    ck_assert(!timers_cancel(&t, &c));             /* another heap's */
    ck_assert(timers_pending(&c));
    ck_assert(timers_check(&t));
    ck_assert(timers_check(&other));
    ck_assert_uint_eq(timers_count(&t), 0);
    ck_assert_uint_eq(timers_count(&other), 1);

    /* A fired entry can be re-armed at once. */
    ck_assert(timers_add(&t, &a, 9, NULL));
    ck_assert(timers_pending(&a));
    ck_assert(timers_cancel(&t, &a));
    timers_destroy(&t);
    timers_destroy(&other);
}
END_TEST

START_TEST(pop_due_boundary)
{
    lw_timers t;
    ck_assert(timers_init(&t));
    lw_timer e[4];
    memset(e, 0, sizeof e);
    /* Added out of order. */
    ck_assert(timers_add(&t, &e[2], 30, NULL));
    ck_assert(timers_add(&t, &e[0], 10, NULL));
    ck_assert(timers_add(&t, &e[3], 40, NULL));
    ck_assert(timers_add(&t, &e[1], 20, NULL));
    ck_assert_uint_eq(timers_next(&t), 10);
    ck_assert_ptr_null(timers_pop_due(&t, 9));
    lw_timer *out[4];
    ck_assert_int_eq(pop_all(&t, 25, out, 4), 2);
    ck_assert_ptr_eq(out[0], &e[0]);
    ck_assert_ptr_eq(out[1], &e[1]);
    ck_assert_uint_eq(timers_next(&t), 30);
    /* A deadline equal to now is due. */
    ck_assert_int_eq(pop_all(&t, 30, out, 4), 1);
    ck_assert_ptr_eq(out[0], &e[2]);
    ck_assert_ptr_null(timers_pop_due(&t, 39));
    ck_assert_uint_eq(timers_next(&t), 40);
    ck_assert_int_eq(pop_all(&t, UINT64_MAX, out, 4), 1);
    ck_assert_ptr_eq(out[0], &e[3]);
    ck_assert_uint_eq(timers_next(&t), UINT64_MAX);
    timers_destroy(&t);
}
END_TEST

START_TEST(add_pending_moves_it)
{
    lw_timers t;
    ck_assert(timers_init(&t));
    lw_timer a = { 0 }, b = { 0 }, c = { 0 };
    ck_assert(timers_add(&t, &a, 10, NULL));
    ck_assert(timers_add(&t, &b, 20, NULL));
    ck_assert(timers_add(&t, &c, 20, NULL));
    uint64_t old_seq = a.seq;
    /* a moves behind b and c, and ties after them. */
    ck_assert(timers_add(&t, &a, 20, (void *)&t));
    ck_assert_uint_gt(a.seq, old_seq);
    ck_assert_ptr_eq(a.payload, &t);
    ck_assert_uint_eq(timers_count(&t), 3);
    ck_assert(timers_check(&t));
    ck_assert_ptr_eq(timers_pop_due(&t, 20), &b);
    ck_assert_ptr_eq(timers_pop_due(&t, 20), &c);
    ck_assert_ptr_eq(timers_pop_due(&t, 20), &a);
    /* And forward again. */
    ck_assert(timers_add(&t, &a, 50, NULL));
    ck_assert(timers_add(&t, &b, 60, NULL));
    ck_assert(timers_add(&t, &b, 5, NULL));
    ck_assert(timers_check(&t));
    ck_assert_uint_eq(timers_next(&t), 5);
    /* destroy marks what is left as not pending. */
    timers_destroy(&t);
    ck_assert(!timers_pending(&a));
    ck_assert(!timers_pending(&b));
}
END_TEST

/* ck_assert reports every passing check to the test runner (a system
 * call each), too slow for a loop of 100,000 operations: this one stays
 * quiet unless it fails. */
#define REQUIRE(cond) \
    do { \
        if (!(cond)) \
            ck_abort_msg("%s:%d: op %d: %s", __FILE__, __LINE__, op, #cond); \
    } while (0)

/* The reference model: per entry, pending or not, and its (deadline, seq);
 * the earliest is found by looking at every entry. */
START_TEST(random_ops_against_model)
{
    enum { N = 600, OPS = 100000 };
    lw_timers t;
    ck_assert(timers_init(&t));
    lw_timer *e = calloc(N, sizeof *e);
    bool pend[N] = { false };
    uint64_t dl[N], sq[N];
    uint64_t seq = 0, now = 0;
    uint32_t count = 0, most = 0;
    long fired = 0, cancelled = 0;

    for (int op = 0; op < OPS; op++) {
        uint64_t r = rng();
        int i = (int)(r % N);
        switch ((r >> 32) % 8) {
        case 0: case 1: case 2: {       /* add (or move, if pending) */
            uint64_t d = now + rng() % 2000;
            REQUIRE(timers_add(&t, &e[i], d, &e[i]));
            if (!pend[i])
                count++;
            pend[i] = true;
            dl[i] = d;
            sq[i] = seq++;
            REQUIRE(e[i].seq == sq[i]);
            break;
        }
        case 3: case 4:                 /* cancel */
            REQUIRE(timers_cancel(&t, &e[i]) == pend[i]);
            if (pend[i]) {
                count--;
                cancelled++;
            }
            pend[i] = false;
            break;
        default: {                      /* time passes; pop what is due */
            now += rng() % 4;
            for (;;) {
                int best = -1;
                for (int j = 0; j < N; j++)
                    if (pend[j] && dl[j] <= now &&
                        (best < 0 || dl[j] < dl[best] || (dl[j] == dl[best] && sq[j] < sq[best])))
                        best = j;
                lw_timer *got = timers_pop_due(&t, now);
                if (best < 0) {
                    REQUIRE(got == NULL);
                    break;
                }
                REQUIRE(got == &e[best]);
                REQUIRE(got->payload == &e[best]);
                pend[best] = false;
                count--;
                fired++;
            }
            break;
        }
        }
        REQUIRE(timers_count(&t) == count);
        if (count > most)
            most = count;
        REQUIRE(timers_check(&t));
        for (int j = 0; j < N; j += 37)
            REQUIRE(timers_pending(&e[j]) == pend[j]);
        if (op % 64 == 0) {
            uint64_t next = UINT64_MAX;
            for (int j = 0; j < N; j++)
                if (pend[j] && dl[j] < next)
                    next = dl[j];
            REQUIRE(timers_next(&t) == next);
        }
    }
    /* The run did all three things many times. */
    ck_assert_int_gt(fired, 5000);
    ck_assert_int_gt(cancelled, 5000);
    ck_assert_uint_gt(most, N / 3);     /* and the heap grew deep */
    timers_destroy(&t);
    free(e);
}
END_TEST

START_TEST(now_is_monotonic_ns)
{
    uint64_t a = lw_now_ns();
    struct timespec ts = { 0, 2000000 };   /* 2 ms */
    nanosleep(&ts, NULL);
    uint64_t b = lw_now_ns();
    ck_assert_uint_ge(b - a, 2000000);
    ck_assert_uint_lt(b - a, 2000000000u);
    struct timespec m;
    clock_gettime(CLOCK_MONOTONIC, &m);
    uint64_t c = lw_now_ns();
    uint64_t mono = (uint64_t)m.tv_sec * 1000000000u + (uint64_t)m.tv_nsec;
    ck_assert_uint_ge(c, mono);
    ck_assert_uint_lt(c - mono, 1000000000u);
}
END_TEST

static Suite *timer_suite(void)
{
    Suite *s = suite_create("sched_timer");
    TCase *tc = tcase_create("heap");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, empty_heap);
    tcase_add_test(tc, random_deadlines_fire_in_order);
    tcase_add_test(tc, ties_fire_in_insertion_order);
    tcase_add_test(tc, cancel_head_middle_tail);
    tcase_add_test(tc, cancel_of_not_pending);
    tcase_add_test(tc, pop_due_boundary);
    tcase_add_test(tc, add_pending_moves_it);
    tcase_add_test(tc, random_ops_against_model);
    tcase_add_test(tc, now_is_monotonic_ns);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(timer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
