/*
 * A process's handle table (src/sched/idtable.c): ids name what they were
 * made for until freed and nothing afterwards, even when the slot is
 * reused; random adds and removes against a list of live ids; memory is
 * bounded by the most handles held at once.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sched/idtable.h"

static int destroyed;

static void count_destroy(void *item)
{
    (void)item;
    destroyed++;
}

START_TEST(ids)
{
    IdTable t = {0};
    int a, b, c;
    ck_assert_ptr_null(idtable_get(&t, 0));
    ck_assert_ptr_null(idtable_get(&t, 1));
    uint64_t ia = idtable_add(&t, &a), ib = idtable_add(&t, &b);
    ck_assert_uint_eq(ia, 1);   /* the first ids are 1, 2, ... */
    ck_assert_uint_eq(ib, 2);
    ck_assert_ptr_eq(idtable_get(&t, ia), &a);
    ck_assert_ptr_eq(idtable_get(&t, ib), &b);
    ck_assert_ptr_eq(idtable_remove(&t, ia), &a);
    ck_assert_ptr_null(idtable_get(&t, ia));      /* freed: unknown */
    ck_assert_ptr_null(idtable_remove(&t, ia));   /* twice: unknown */
    uint64_t ic = idtable_add(&t, &c);            /* reuses the slot ... */
    ck_assert_uint_eq((uint32_t)ic, (uint32_t)ia);
    ck_assert_uint_ne(ic, ia);                    /* ... under a new id */
    ck_assert_ptr_null(idtable_get(&t, ia));      /* the old id still names nothing */
    ck_assert_ptr_eq(idtable_get(&t, ic), &c);
    ck_assert_ptr_null(idtable_get(&t, 3));       /* a slot never used */
    ck_assert_ptr_null(idtable_get(&t, (uint64_t)7 << 32 | 2));   /* a generation never made */
    destroyed = 0;
    idtable_free(&t, count_destroy);
    ck_assert_int_eq(destroyed, 2);   /* b and c: what was still in it */
    ck_assert_ptr_null(idtable_get(&t, ib));
}
END_TEST

/* Random adds and removes against the list of live ids. */
START_TEST(random_ops)
{
    enum { LIVE = 500, OPS = 200000 };
    IdTable t = {0};
    static uint64_t live[LIVE], dead[OPS];
    static int items[LIVE];
    uint32_t nlive = 0, ndead = 0, seed = 7;
    for (uint32_t op = 0; op < OPS; op++) {
        seed = seed * 1103515245u + 12345u;
        bool add = nlive == 0 || (nlive < LIVE && (seed >> 16) % 2);
        if (add) {
            uint64_t id = idtable_add(&t, &items[nlive]);
            if (!id)
                ck_abort_msg("out of memory");
            live[nlive++] = id;
        } else {
            uint32_t k = (seed >> 8) % nlive;
            if (!idtable_remove(&t, live[k]))
                ck_abort_msg("op %u: a live id was not found", op);
            dead[ndead++] = live[k];
            live[k] = live[--nlive];
        }
        if (op % 1000 == 0) {
            for (uint32_t i = 0; i < nlive; i++)
                if (!idtable_get(&t, live[i]))
                    ck_abort_msg("op %u: live id %llx lost", op, (unsigned long long)live[i]);
            for (uint32_t i = 0; i < ndead; i++)
                if (idtable_get(&t, dead[i]))
                    ck_abort_msg("op %u: freed id %llx names something", op, (unsigned long long)dead[i]);
        }
    }
    ck_assert_uint_le(t.cap, 2 * LIVE);   /* the most held at once, not the most ever made */
    idtable_free(&t, count_destroy);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("idtable");
    TCase *t = tcase_create("idtable");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, ids);
    tcase_add_test(t, random_ops);
    suite_add_tcase(su, t);
    SRunner *r = srunner_create(su);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
