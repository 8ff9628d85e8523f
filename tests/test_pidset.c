/*
 * The pid set (src/sched/pidset.c) against a plain array of booleans
 * (and each id's pointer against the one it was put with):
 * random adds and deletes, every membership compared after each step.
 * Small universes keep the table small and full enough that runs of
 * entries often wrap around its end, where deletion is easiest to get
 * wrong; a large one makes it grow and shrink through many sizes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sched/pidset.h"

static uint32_t rng_state;

static uint32_t rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* ops random operations on pids 1..universe; full comparison every `every` ops. */
static void random_ops(uint32_t universe, uint32_t ops, uint32_t every, uint32_t seed)
{
    PidSet s = {0};
    bool *in = calloc(universe + 1, 1);
    ck_assert_ptr_nonnull(in);
    rng_state = seed;
    uint32_t count = 0, max_cap = 0;
    for (uint32_t op = 0; op < ops; op++) {
        uint64_t pid = 1 + rnd() % universe;
        /* more adds than deletes while small, the other way while big: it
           fills up and drains again */
        bool add = rnd() % 100 < (count < universe / 2 ? 60u : 40u);
        /* Plain ifs in the loop: check records every ck_assert that
           passes, which for millions of them takes most of a minute. */
        if (add) {
            /* every id carries a pointer made from it: it must move with it */
            if (!pidset_put(&s, pid, (void *)(uintptr_t)(2 * pid + 1)))
                ck_abort_msg("out of memory");
            count += !in[pid];
            in[pid] = true;
        } else {
            pidset_del(&s, pid);
            count -= in[pid];
            in[pid] = false;
        }
        if (s.count != count || (s.cap && 2 * s.count > s.cap))
            ck_abort_msg("op %u: count %u (expected %u), cap %u", op, s.count, count, s.cap);
        if (s.cap > max_cap)
            max_cap = s.cap;
        if (op % every == 0)
            for (uint64_t q = 1; q <= universe; q++)
                if (pidset_has(&s, q) != in[q] ||
                    pidset_get(&s, q) != (in[q] ? (void *)(uintptr_t)(2 * q + 1) : NULL))
                    ck_abort_msg("pid %llu after op %u", (unsigned long long)q, op);
    }
    for (uint64_t q = 1; q <= universe; q++)
        if (pidset_has(&s, q) != in[q])
            ck_abort_msg("pid %llu at the end", (unsigned long long)q);
    ck_assert_uint_ge(max_cap, 2 * universe / 4);   /* it did grow */
    free(in);
    pidset_free(&s);
}

/*
 * 0 marks a free slot, so it is never a member.  Deleting it from a set
 * whose slot for it was free used to count as a removal: the count fell
 * behind, the table stopped growing and filled up, and the next probe
 * never ended (a guest's cancel_timer(0) did that to the runtime's timer
 * set; tests/test_host_fuzz.c found it).
 */
START_TEST(zero_is_never_a_member)
{
    PidSet s = {0};
    ck_assert(!pidset_has(&s, 0));
    ck_assert_ptr_null(pidset_del(&s, 0));
    for (uint64_t id = 1; id <= 3; id++)
        ck_assert(pidset_add(&s, id));
    for (int i = 0; i < 100; i++)
        ck_assert_ptr_null(pidset_del(&s, 0));
    ck_assert_uint_eq(s.count, 3);
    ck_assert(!pidset_has(&s, 0));
    ck_assert(!pidset_add(&s, 0));
    ck_assert(!pidset_put(&s, 0, &s));
    for (uint64_t id = 4; id <= 1000; id++)
        ck_assert(pidset_add(&s, id));
    ck_assert_uint_eq(s.count, 1000);
    for (uint64_t id = 1; id <= 1000; id++)
        ck_assert(pidset_has(&s, id));
    pidset_free(&s);
}
END_TEST

START_TEST(small_universes)
{
    for (uint32_t u = 3; u <= 40; u++)
        random_ops(u, 20000, 1, u * 7919u);
}
END_TEST

START_TEST(large_universe)
{
    random_ops(100000, 1000000, 50000, 42);
}
END_TEST

/* Draining shrinks the table back to its minimum; take empties the set. */
START_TEST(shrink_and_take)
{
    PidSet s = {0};
    ck_assert(!pidset_has(&s, 1));
    pidset_del(&s, 1);   /* on an empty set: nothing */
    for (uint64_t p = 1; p <= 10000; p++)
        if (!pidset_add(&s, p))
            ck_abort_msg("out of memory");
    ck_assert(pidset_add(&s, 5));   /* already in: still one */
    ck_assert(pidset_put(&s, 5, &s));   /* a pointer for an id already in */
    ck_assert_ptr_eq(pidset_get(&s, 5), &s);
    ck_assert_ptr_null(pidset_get(&s, 6));   /* added without one */
    ck_assert_ptr_null(pidset_get(&s, 20000));   /* absent */
    ck_assert_ptr_eq(pidset_del(&s, 5), &s);     /* removing gives the pointer back */
    ck_assert(!pidset_has(&s, 5));
    ck_assert_ptr_null(pidset_del(&s, 5));
    ck_assert(pidset_add(&s, 5));
    ck_assert_uint_eq(s.count, 10000);
    ck_assert_uint_ge(s.cap, 20000);
    for (uint64_t p = 1; p <= 9990; p++)
        pidset_del(&s, p);
    ck_assert_uint_eq(s.count, 10);
    ck_assert_uint_le(s.cap, 128);
    uint32_t cap, seen = 0;
    uint64_t *t = pidset_take(&s, &cap);
    for (uint32_t i = 0; i < cap; i++)
        if (t[i]) {
            ck_assert(t[i] > 9990 && t[i] <= 10000);
            seen++;
        }
    ck_assert_uint_eq(seen, 10);
    free(t);
    ck_assert_uint_eq(s.count, 0);
    ck_assert(!pidset_has(&s, 10000));
    pidset_free(&s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("pidset");
    TCase *t = tcase_create("pidset");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, zero_is_never_a_member);
    tcase_add_test(t, small_universes);
    tcase_add_test(t, large_universe);
    tcase_add_test(t, shrink_and_take);
    suite_add_tcase(su, t);
    SRunner *r = srunner_create(su);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
