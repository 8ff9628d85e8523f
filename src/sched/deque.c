/*
 * Chase-Lev work-stealing deque, as written for C11 atomics in Lê, Pop,
 * Cohen and Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak
 * Memory Models" (PPoPP 2013, figure 1).  The memory orders and fences are
 * the paper's, which it proves sufficient; each is explained where it is
 * used.  The one addition (a release store under ThreadSanitizer) is
 * explained at DEQUE_PUBLISH below.
 *
 * The items live in a circular array indexed by two counters that only
 * grow: the deque holds indices [top, bottom).  The owner pushes at
 * `bottom` and pops at `bottom - 1`; thieves take `top` and advance it with
 * a compare-and-swap.  An index i lives in slot i mod capacity, so the
 * array is reused round and round without moving items.
 *
 * The indices are signed 64-bit: pop first lowers `bottom` and then
 * compares, and with an empty deque at index 0 that makes bottom - 1 = -1,
 * which must compare below top = 0 (the paper's size_t would wrap to the
 * largest value and "find" an item).  2^63 pushes are out of reach.
 */
#include "sched/deque.h"

#include <stdlib.h>

struct lw_deque_array {
    size_t mask;             /* capacity - 1, capacity a power of two */
    lw_deque_array *older;   /* the array this one replaced, or NULL */
    /* Atomic slots: a thief reads a slot while the owner may be writing it
     * (the thief then loses its CAS and ignores what it read); plain
     * pointers would make that a data race, undefined behaviour. */
    _Atomic(void *) slots[];
};

/* ThreadSanitizer does not model atomic_thread_fence: it would not see
 * that push's release fence orders the item before `bottom`, and would
 * report a race between the owner's writes to an item and a thief's reads
 * of it.  Under TSan only, push therefore also stores `bottom` with
 * release.  That is at least as strong (the fence stays), so the algorithm
 * TSan checks is the paper's plus an order, never minus one. */
#if defined(__SANITIZE_THREAD__)
#define DEQUE_PUBLISH memory_order_release
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DEQUE_PUBLISH memory_order_release
#endif
#endif
#ifndef DEQUE_PUBLISH
#define DEQUE_PUBLISH memory_order_relaxed
#endif

/* A zeroed array: a thief holding an out-of-date `top` may read a slot of
 * a new array that nothing was copied into; it then loses its CAS and
 * throws the value away, but the read itself must be of an initialised
 * object. */
static lw_deque_array *array_new(size_t capacity)
{
    lw_deque_array *a = calloc(1, sizeof *a + capacity * sizeof a->slots[0]);
    if (a) {
        a->mask = capacity - 1;
        a->older = NULL;
    }
    return a;
}

static inline _Atomic(void *) *slot(lw_deque_array *a, int64_t i)
{
    return &a->slots[(size_t)i & a->mask];
}

bool deque_init(lw_deque *d, unsigned log2_capacity)
{
    if (log2_capacity > 30)
        return false;
    lw_deque_array *a = array_new((size_t)1 << log2_capacity);
    if (!a)
        return false;
    /* Plain initialisation: the deque is not shared yet.  Creating the
     * threads that use it orders these writes before their accesses. */
    atomic_init(&d->top, 0);
    atomic_init(&d->bottom, 0);
    atomic_init(&d->array, a);
    return true;
}

void deque_destroy(lw_deque *d)
{
    /* Arrays that the deque outgrew are only freed here: a thief that
     * loaded the array pointer just before it was replaced may still be
     * reading a slot of the old one, and nothing tells the owner when it
     * is done.  Each array keeps the one before it, so the whole chain is
     * freed from the newest.  Growth doubles, so the old arrays together
     * are smaller than the current one. */
    lw_deque_array *a = atomic_load_explicit(&d->array, memory_order_relaxed);
    while (a) {
        lw_deque_array *older = a->older;
        free(a);
        a = older;
    }
    atomic_store_explicit(&d->array, NULL, memory_order_relaxed);
}

/* Owner only: replaces the full array `old`, holding indices [t, b), by one
 * twice as large with the same items at the same indices. */
static lw_deque_array *grow(lw_deque *d, lw_deque_array *old, int64_t t, int64_t b)
{
    size_t capacity = old->mask + 1;
    if (capacity > (SIZE_MAX - sizeof *old) / 2 / sizeof old->slots[0])
        return NULL;
    lw_deque_array *a = array_new(capacity * 2);
    if (!a)
        return NULL;
    /* Relaxed copies: only the owner writes slots, and the release store
     * below publishes them together with the array. */
    for (int64_t i = t; i < b; i++)
        atomic_store_explicit(slot(a, i), atomic_load_explicit(slot(old, i), memory_order_relaxed),
                              memory_order_relaxed);
    a->older = old;
    /* Release: a thief that loads the new pointer (consume, in steal) sees
     * its capacity and the copied slots.  Slots of the old array still hold
     * the same items, so a thief that keeps using the old array for one
     * more steal reads the right item too. */
    atomic_store_explicit(&d->array, a, memory_order_release);
    return a;
}

bool deque_push(lw_deque *d, void *item)
{
    /* Relaxed: only the owner writes `bottom` and `array`, so it reads its
     * own latest values. */
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
    /* Acquire: synchronises with the CAS of the thief that last advanced
     * `top`.  That thief read its item's slot before its CAS, so the read
     * happens before any overwrite of the slot that this push may do when
     * b wraps round onto it.  Without it, the thief's read could see the
     * new item, and one item would be taken twice and another lost. */
    int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
    lw_deque_array *a = atomic_load_explicit(&d->array, memory_order_relaxed);
    if (b - t > (int64_t)a->mask) {   /* full: b - t == capacity */
        a = grow(d, a, t, b);
        if (!a)
            return false;
    }
    atomic_store_explicit(slot(a, b), item, memory_order_relaxed);
    /* Release fence: whoever reads the new `bottom` below with acquire
     * (a thief in steal) also sees the slot just written and everything
     * the owner wrote to the item before pushing it.  That is the
     * hand-over of the item from one thread to another. */
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&d->bottom, b + 1, DEQUE_PUBLISH);
    return true;
}

void *deque_pop(lw_deque *d)
{
    /* Claim the newest item first by lowering `bottom` (relaxed: only the
     * owner writes it), and only then look at `top`. */
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
    lw_deque_array *a = atomic_load_explicit(&d->array, memory_order_relaxed);
    atomic_store_explicit(&d->bottom, b, memory_order_relaxed);
    /* Sequentially consistent fence, paired with the one in steal.  The
     * store to `bottom` above and the load of `top` below must not be
     * reordered: hardware may let a load pass an earlier store (even x86
     * does), and then the owner and a thief could each read the other's
     * old index and both take the same last item.  All seq_cst fences
     * fall in one total order: if the owner's comes first, the thief sees
     * the lowered `bottom` and leaves the item alone; if the thief's comes
     * first, the owner sees the `top` the thief read, finds one item left
     * (t == b), and both go to the CAS on `top`, which only one wins. */
    atomic_thread_fence(memory_order_seq_cst);
    int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
    void *item = NULL;
    if (t <= b) {
        /* Not empty.  Relaxed: the owner wrote this slot itself. */
        item = atomic_load_explicit(slot(a, b), memory_order_relaxed);
        if (t == b) {
            /* The last item: thieves may be after it too, so take it the
             * way they do, by advancing `top` with a CAS (seq_cst as in the
             * paper: it belongs to the same total order as the fences).
             * Failure means a thief got it. */
            if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                                         memory_order_relaxed))
                item = NULL;
            /* Either way the deque is now empty with top == b + 1: put
             * `bottom` back level with it. */
            atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
        }
    } else {
        /* Empty: undo the decrement. */
        atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    }
    return item;
}

deque_steal_result deque_steal(lw_deque *d, void **out)
{
    /* Acquire, as in the paper: synchronises with the CAS that set this
     * `top`, so that this thief's later reads are at least as recent as
     * what the thread that won that CAS had seen. */
    int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
    /* Sequentially consistent fence, paired with pop's (see there): the
     * load of `top` above must not be reordered after the load of
     * `bottom` below. */
    atomic_thread_fence(memory_order_seq_cst);
    /* Acquire: synchronises with push's release fence, so the slot and the
     * item's contents written before the push are visible here. */
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_acquire);
    if (t >= b)
        return DEQUE_EMPTY;
    /* Consume, as in the paper: the array's capacity and slots are read
     * through this pointer, so ordering the reads that depend on it after
     * the owner's release store in grow is enough.  (Compilers implement
     * consume as acquire.) */
    lw_deque_array *a = atomic_load_explicit(&d->array, memory_order_consume);
    void *item = atomic_load_explicit(slot(a, t), memory_order_relaxed);
    /* The item is ours only if `top` is still t: another thief, or the
     * owner popping the last item, may have taken it since we read `top`
     * (and the slot may even have been refilled).  seq_cst as in the
     * paper, for the same total order as the fences. */
    if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
        return DEQUE_ABORT;
    *out = item;
    return DEQUE_OK;
}
