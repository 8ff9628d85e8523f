/*
 * Stress test of the work-stealing deque (src/sched/deque.c): one owner
 * thread pushes and pops while thief threads steal, and every item must
 * come out exactly once.
 *
 * It is a plain C program (no check library) so that it can also be
 * cross-built and run on other architectures, where weaker memory models
 * than x86's make a missing order show up:
 *
 *     deque_stress [ITEMS [THIEVES]]     (default 1048576 items, 3 thieves)
 *
 * returns 0 on success, or prints what went wrong and returns 1.
 * tests/test_deque.c includes this file with DEQUE_STRESS_NO_MAIN defined
 * and calls deque_stress() from a check test.
 *
 * What it checks:
 * - each item is taken exactly once: a per-item counter, bumped atomically
 *   by whoever takes it, must end at 1 (0 = lost, 2 = duplicated);
 * - the item's contents travel with it: the owner writes a check value into
 *   the item with plain stores before pushing it, and the taker reads it
 *   with plain loads and then overwrites it.  Without the deque's
 *   release/acquire hand-over the taker could read a stale value, and
 *   under ThreadSanitizer (make check-tsan) those plain accesses are a
 *   reported data race.
 * The owner works in bursts of random size: long runs of pushes make the
 * array grow (it starts with 16 slots); single push-then-pop rounds, and
 * short runs popped back to empty, keep the deque near empty so that the
 * owner and the thieves often race for the last item, the delicate case.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sched/deque.h"

#define STRESS_MAX_THIEVES 16

typedef struct {
    uint64_t id;
    uint64_t check;   /* stress_check(id) while in the deque; plain, on purpose */
} stress_item;

typedef struct stress_state stress_state;

typedef struct {
    stress_state *st;
    pthread_t thread;
    size_t stolen;    /* items this thief took */
    size_t aborts;    /* steals that lost a race */
} stress_thief;

struct stress_state {
    lw_deque dq;
    size_t n;
    stress_item *items;
    _Atomic unsigned *taken;       /* per item: how many times it was taken */
    atomic_size_t bad;             /* items taken with a wrong check value */
    atomic_bool owner_done;        /* every item pushed, the deque drained */
    size_t popped;                 /* items the owner took back */
    stress_thief thieves[STRESS_MAX_THIEVES];
};

static uint64_t stress_check(uint64_t id)
{
    return (id + 1) * 0x9E3779B97F4A7C15u;
}

static uint64_t stress_rand(uint64_t *s)   /* xorshift64 */
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The taker's side: the item must be one of ours, carry the owner's check
 * value, and not have been taken before. */
static void stress_take(stress_state *st, void *p)
{
    uintptr_t u = (uintptr_t)p, lo = (uintptr_t)st->items;
    if (u < lo || u - lo >= st->n * sizeof *st->items || (u - lo) % sizeof *st->items) {
        atomic_fetch_add(&st->bad, 1);
        return;
    }
    stress_item *it = p;
    if (it->check != stress_check(it->id))
        atomic_fetch_add(&st->bad, 1);
    it->check = 0;   /* a plain write too: two takers would race on it */
    atomic_fetch_add_explicit(&st->taken[it - st->items], 1, memory_order_relaxed);
}

static void *stress_thief_main(void *arg)
{
    stress_thief *th = arg;
    stress_state *st = th->st;
    for (;;) {
        /* Read the flag before stealing: if it was already set, the deque
         * was drained for good before this steal, so EMPTY means done. */
        bool done = atomic_load_explicit(&st->owner_done, memory_order_acquire);
        void *item;
        switch (deque_steal(&st->dq, &item)) {
        case DEQUE_OK:
            stress_take(st, item);
            th->stolen++;
            break;
        case DEQUE_ABORT:
            th->aborts++;
            break;
        case DEQUE_EMPTY:
            if (done)
                return NULL;
            /* Wait for work a little while, to be there when it comes,
             * then let the owner run (the machine may have few cores). */
            for (int spin = 0; spin < 1000 && deque_size_hint(&st->dq) == 0; spin++)
                ;
            if (deque_size_hint(&st->dq) == 0)
                sched_yield();
            break;
        }
    }
}

static bool stress_push(stress_state *st, size_t i)
{
    st->items[i].id = i;
    st->items[i].check = stress_check(i);
    if (!deque_push(&st->dq, &st->items[i])) {
        fprintf(stderr, "deque_stress: deque_push failed (out of memory)\n");
        return false;
    }
    return true;
}

static void stress_pop(stress_state *st, size_t count)
{
    for (size_t k = 0; k < count; k++) {
        void *item = deque_pop(&st->dq);
        if (!item)
            return;
        stress_take(st, item);
        st->popped++;
    }
}

/* The owner: pushes every item in bursts, pops some back between bursts,
 * then drains the deque.  False if pushing failed. */
static bool stress_owner(stress_state *st)
{
    uint64_t rng = 0x2545F4914F6CDD1Du;
    size_t next = 0;
    while (next < st->n) {
        uint64_t r = stress_rand(&rng);
        size_t burst, pops;
        switch (r % 8) {
        case 0:
        case 1:   /* one item, popped at once: the race for the last item */
            burst = 1, pops = 1;
            break;
        case 2:   /* a long run: the array grows */
            burst = 1 + (r >> 8) % 4096, pops = (r >> 24) % 64;
            break;
        case 3:
        case 4:   /* a short run, popped back to empty: races at the end */
            burst = 1 + (r >> 8) % 64, pops = SIZE_MAX;
            break;
        default:  /* a short run, popping about half back */
            burst = 1 + (r >> 8) % 64, pops = (r >> 16) % (burst + 1);
            break;
        }
        for (size_t k = 0; k < burst && next < st->n; k++)
            if (!stress_push(st, next++))
                return false;
        stress_pop(st, pops);
        if ((r >> 40) % 16 == 0)
            sched_yield();
    }
    stress_pop(st, SIZE_MAX);
    return true;
}

/* Runs the stress test with `n` items and `nthieves` thieves (at most
 * STRESS_MAX_THIEVES).  0 on success; otherwise prints what failed and
 * returns 1. */
static int deque_stress(size_t n, unsigned nthieves)
{
    stress_state *st = calloc(1, sizeof *st);
    if (!st || nthieves > STRESS_MAX_THIEVES) {
        fprintf(stderr, "deque_stress: bad arguments or out of memory\n");
        free(st);
        return 1;
    }
    st->n = n;
    st->items = calloc(n, sizeof *st->items);
    st->taken = calloc(n, sizeof *st->taken);
    if (!st->items || !st->taken || !deque_init(&st->dq, 4)) {
        fprintf(stderr, "deque_stress: out of memory\n");
        free(st->items), free(st->taken), free(st);
        return 1;
    }

    int failed = 0;
    unsigned started = 0;
    for (; started < nthieves; started++) {
        st->thieves[started].st = st;
        if (pthread_create(&st->thieves[started].thread, NULL, stress_thief_main,
                           &st->thieves[started]) != 0) {
            fprintf(stderr, "deque_stress: pthread_create failed\n");
            failed = 1;
            break;
        }
    }
    if (!failed && !stress_owner(st))
        failed = 1;
    atomic_store_explicit(&st->owner_done, true, memory_order_release);
    size_t stolen = 0, aborts = 0;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(st->thieves[i].thread, NULL);
        stolen += st->thieves[i].stolen;
        aborts += st->thieves[i].aborts;
    }

    /* Every thread is joined: plain reads from here on. */
    size_t lost = 0, dup = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = atomic_load_explicit(&st->taken[i], memory_order_relaxed);
        if (c != 1 && lost + dup < 10)
            fprintf(stderr, "deque_stress: item %zu taken %u times\n", i, c);
        lost += c == 0;
        dup += c > 1;
    }
    size_t bad = atomic_load(&st->bad);
    if (lost || dup || bad || stolen + st->popped != n) {
        fprintf(stderr, "deque_stress: FAILED: %zu lost, %zu duplicated, %zu with wrong contents, "
                        "%zu popped + %zu stolen != %zu\n", lost, dup, bad, st->popped, stolen, n);
        failed = 1;
    } else if (nthieves > 0 && n >= 65536 && stolen == 0) {
        /* Nothing raced: the test would prove nothing.  (With a handful of
         * items the owner may well finish before a thief starts.) */
        fprintf(stderr, "deque_stress: FAILED: the thieves stole nothing\n");
        failed = 1;
    }
    if (!failed)
        printf("deque_stress: %zu items exactly once: owner popped %zu, %u thieves stole %zu "
               "(%zu lost races)\n", n, st->popped, nthieves, stolen, aborts);
    deque_destroy(&st->dq);
    free(st->items);
    free(st->taken);
    free(st);
    return failed;
}

#ifndef DEQUE_STRESS_NO_MAIN
int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : (size_t)1 << 20;
    unsigned thieves = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 3;
    return deque_stress(n, thieves);
}
#endif
