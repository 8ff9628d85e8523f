/*
 * Tests of the work-stealing deque (src/sched/deque.c): the owner's LIFO
 * order, the thieves' FIFO order, empty cases, growth with items intact,
 * and the concurrent stress test of tests/deque_stress.c (one owner, three
 * thieves, 2^20 items, each taken exactly once).
 */
#include <check.h>
#include <stdint.h>

#include "sched/deque.h"

/* The stress test, without its main(). */
#define DEQUE_STRESS_NO_MAIN
#include "deque_stress.c"

/* Distinct non-NULL items: addresses of the elements of a static array. */
static int vals[5000];
#define V(i) ((void *)&vals[(i)])

static lw_deque_array *array_of(lw_deque *d)
{
    return atomic_load_explicit(&d->array, memory_order_relaxed);
}

START_TEST(empty)
{
    lw_deque d;
    ck_assert(deque_init(&d, 3));
    void *out = V(7);
    ck_assert_ptr_null(deque_pop(&d));
    ck_assert_int_eq(deque_steal(&d, &out), DEQUE_EMPTY);
    ck_assert_ptr_eq(out, V(7));   /* untouched unless DEQUE_OK */
    ck_assert_uint_eq(deque_size_hint(&d), 0);
    /* A pop of an empty deque must leave it as it was: items pushed next
     * come out normally, at both ends. */
    ck_assert_ptr_null(deque_pop(&d));
    ck_assert(deque_push(&d, V(1)));
    ck_assert(deque_push(&d, V(2)));
    ck_assert_uint_eq(deque_size_hint(&d), 2);
    ck_assert_int_eq(deque_steal(&d, &out), DEQUE_OK);
    ck_assert_ptr_eq(out, V(1));
    ck_assert_ptr_eq(deque_pop(&d), V(2));
    ck_assert_ptr_null(deque_pop(&d));
    ck_assert_int_eq(deque_steal(&d, &out), DEQUE_EMPTY);
    ck_assert_uint_eq(deque_size_hint(&d), 0);
    deque_destroy(&d);
}
END_TEST

START_TEST(owner_lifo)
{
    lw_deque d;
    ck_assert(deque_init(&d, 3));
    for (int i = 0; i < 5; i++)
        ck_assert(deque_push(&d, V(i)));
    ck_assert_uint_eq(deque_size_hint(&d), 5);
    for (int i = 4; i >= 0; i--)
        ck_assert_ptr_eq(deque_pop(&d), V(i));
    ck_assert_ptr_null(deque_pop(&d));
    deque_destroy(&d);
}
END_TEST

START_TEST(steal_fifo)
{
    lw_deque d;
    ck_assert(deque_init(&d, 3));
    for (int i = 0; i < 5; i++)
        ck_assert(deque_push(&d, V(i)));
    for (int i = 0; i < 5; i++) {
        void *out = NULL;
        ck_assert_int_eq(deque_steal(&d, &out), DEQUE_OK);
        ck_assert_ptr_eq(out, V(i));
        ck_assert_uint_eq(deque_size_hint(&d), (size_t)(4 - i));
    }
    void *out = NULL;
    ck_assert_int_eq(deque_steal(&d, &out), DEQUE_EMPTY);
    ck_assert_ptr_null(deque_pop(&d));
    deque_destroy(&d);
}
END_TEST

START_TEST(both_ends)
{
    /* Owner and thief meet in the middle; the last item goes to whoever
     * asks first. */
    lw_deque d;
    ck_assert(deque_init(&d, 3));
    for (int i = 0; i < 5; i++)
        ck_assert(deque_push(&d, V(i)));
    void *out = NULL;
    ck_assert_int_eq(deque_steal(&d, &out), DEQUE_OK);
    ck_assert_ptr_eq(out, V(0));
    ck_assert_ptr_eq(deque_pop(&d), V(4));
    ck_assert_int_eq(deque_steal(&d, &out), DEQUE_OK);
    ck_assert_ptr_eq(out, V(1));
    ck_assert_ptr_eq(deque_pop(&d), V(3));
    ck_assert_int_eq(deque_steal(&d, &out), DEQUE_OK);   /* the last one, stolen */
    ck_assert_ptr_eq(out, V(2));
    ck_assert_ptr_null(deque_pop(&d));
    ck_assert_int_eq(deque_steal(&d, &out), DEQUE_EMPTY);

    ck_assert(deque_push(&d, V(9)));
    ck_assert_ptr_eq(deque_pop(&d), V(9));               /* the last one, popped */
    ck_assert_int_eq(deque_steal(&d, &out), DEQUE_EMPTY);
    ck_assert_ptr_null(deque_pop(&d));
    deque_destroy(&d);
}
END_TEST

START_TEST(ring_reuse)
{
    /* Indices keep growing while the deque never holds more than its
     * capacity: the slots are reused round the ring, and it never grows. */
    lw_deque d;
    ck_assert(deque_init(&d, 2));   /* 4 slots */
    lw_deque_array *a = array_of(&d);
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 4; i++)
            ck_assert(deque_push(&d, V(round * 4 + i)));
        void *out = NULL;
        ck_assert_int_eq(deque_steal(&d, &out), DEQUE_OK);
        ck_assert_ptr_eq(out, V(round * 4));
        ck_assert_ptr_eq(deque_pop(&d), V(round * 4 + 3));
        ck_assert_int_eq(deque_steal(&d, &out), DEQUE_OK);
        ck_assert_ptr_eq(out, V(round * 4 + 1));
        ck_assert_ptr_eq(deque_pop(&d), V(round * 4 + 2));
        ck_assert_ptr_null(deque_pop(&d));
    }
    ck_assert_ptr_eq(array_of(&d), a);
    /* One more than the capacity, though, and it must grow. */
    for (int i = 0; i < 5; i++)
        ck_assert(deque_push(&d, V(i)));
    ck_assert_ptr_ne(array_of(&d), a);
    deque_destroy(&d);
}
END_TEST

START_TEST(growth)
{
    /* From 1 slot to 4096 and more, with items intact in both orders. */
    lw_deque d;
    ck_assert(deque_init(&d, 0));
    for (int i = 0; i < 5000; i++)
        ck_assert(deque_push(&d, V(i)));
    ck_assert_uint_eq(deque_size_hint(&d), 5000);
    for (int i = 0; i < 100; i++) {
        void *out = NULL;
        ck_assert_int_eq(deque_steal(&d, &out), DEQUE_OK);
        ck_assert_ptr_eq(out, V(i));
    }
    for (int i = 4999; i >= 100; i--)
        ck_assert_ptr_eq(deque_pop(&d), V(i));
    ck_assert_ptr_null(deque_pop(&d));
    deque_destroy(&d);
}
END_TEST

START_TEST(growth_wrapped)
{
    /* Grow while the live items wrap round the end of the array, with top
     * well past 0: the copy must keep each item at its index. */
    lw_deque d;
    ck_assert(deque_init(&d, 3));   /* 8 slots */
    void *out = NULL;
    int next = 0, first = 0;
    for (int i = 0; i < 6; i++)
        ck_assert(deque_push(&d, V(next++)));
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(deque_steal(&d, &out), DEQUE_OK);
        ck_assert_ptr_eq(out, V(first++));
    }
    /* top = 5: slots 5..7 then 0.. hold the items, then it grows twice. */
    lw_deque_array *a = array_of(&d);
    while (next < 6 + 30)
        ck_assert(deque_push(&d, V(next++)));
    ck_assert_ptr_ne(array_of(&d), a);
    ck_assert_uint_eq(deque_size_hint(&d), (size_t)(next - first));
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(deque_steal(&d, &out), DEQUE_OK);
        ck_assert_ptr_eq(out, V(first++));
    }
    while (next > first)
        ck_assert_ptr_eq(deque_pop(&d), V(--next));
    ck_assert_ptr_null(deque_pop(&d));
    ck_assert_int_eq(deque_steal(&d, &out), DEQUE_EMPTY);
    deque_destroy(&d);
}
END_TEST

START_TEST(init_limits)
{
    lw_deque d;
    ck_assert(!deque_init(&d, 31));
    ck_assert(!deque_init(&d, 64));
    ck_assert(deque_init(&d, 10));
    deque_destroy(&d);
    ck_assert_ptr_null(array_of(&d));
}
END_TEST

START_TEST(stress)
{
    /* One owner, three thieves, 2^20 items: every one taken exactly once,
     * with its contents intact (see tests/deque_stress.c). */
    ck_assert_int_eq(deque_stress((size_t)1 << 20, 3), 0);
}
END_TEST

static Suite *deque_suite(void)
{
    Suite *s = suite_create("deque");
    TCase *tc = tcase_create("single thread");
    tcase_add_test(tc, empty);
    tcase_add_test(tc, owner_lifo);
    tcase_add_test(tc, steal_fifo);
    tcase_add_test(tc, both_ends);
    tcase_add_test(tc, ring_reuse);
    tcase_add_test(tc, growth);
    tcase_add_test(tc, growth_wrapped);
    tcase_add_test(tc, init_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrent");
    /* Well under a second at -O2 and about one under TSan; the margin is
     * for a loaded machine. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, stress);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(deque_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
