/*
 * The work-stealing deque of a scheduler worker (Chase and Lev, 2005), in
 * the form proved correct for weak memory models by Lê, Pop, Cohen and
 * Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak Memory
 * Models", PPoPP 2013.  src/sched/README.md explains how it is used.
 *
 * Each worker owns one deque of runnable items (pointers, never NULL).
 * Only the owner pushes and pops, at the bottom, without any
 * read-modify-write in the common case; any other thread may steal from the
 * top.  The owner and the thieves race only when one item is left, and a
 * compare-and-swap on `top` settles who gets it.
 *
 * The struct is public so that a worker can embed its deque; its fields
 * are private to deque.c.
 */
#ifndef LW_SCHED_DEQUE_H
#define LW_SCHED_DEQUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One circular array of slots; the deque replaces it by one twice as large
 * when it fills up (deque.c). */
typedef struct lw_deque_array lw_deque_array;

/* Bytes assumed per cache line: `top` (written by every thief) and
 * `bottom` (written by the owner on every push and pop) are kept at least
 * this far apart, so that stealing does not slow the owner down by taking
 * its cache line away (false sharing).  Padding rather than _Alignas keeps
 * the struct's alignment ordinary, so a worker that embeds it can still be
 * allocated with malloc. */
#define LW_DEQUE_LINE 64

typedef struct lw_deque {
    /* Index of the oldest item: thieves take it and advance `top` by CAS. */
    _Atomic int64_t top;
    char pad_top[LW_DEQUE_LINE - sizeof(_Atomic int64_t)];
    /* One past the newest item; written only by the owner. */
    _Atomic int64_t bottom;
    /* The current array; replaced only by the owner (when it grows). */
    _Atomic(lw_deque_array *) array;
    char pad_bottom[LW_DEQUE_LINE - sizeof(_Atomic int64_t) - sizeof(void *)];
} lw_deque;

/* An empty deque with room for 2^log2_capacity items before it first
 * grows.  False when out of memory or when log2_capacity is over 30. */
bool deque_init(lw_deque *d, unsigned log2_capacity);

/* Frees every array the deque has used.  No other thread may touch the
 * deque any more; items still in it are dropped (they are not freed). */
void deque_destroy(lw_deque *d);

/* Owner only.  Adds `item` (not NULL) at the bottom, growing the array when
 * it is full.  False only when growing fails for lack of memory; the
 * deque is then unchanged. */
bool deque_push(lw_deque *d, void *item);

/* Owner only.  Takes the newest item (LIFO), or NULL when the deque is
 * empty or a thief took the last item first. */
void *deque_pop(lw_deque *d);

typedef enum {
    DEQUE_EMPTY,   /* nothing to steal */
    DEQUE_ABORT,   /* lost a race with another thief or the owner: may retry */
    DEQUE_OK,      /* *out is the oldest item (FIFO), now the caller's */
} deque_steal_result;

/* Any thread.  Takes the oldest item into *out (only written on DEQUE_OK). */
deque_steal_result deque_steal(lw_deque *d, void **out);

/* How many items the deque holds, read without synchronisation: it may be
 * out of date by the time it returns.  For heuristics only (which victim to
 * steal from, whether to wake an idle worker). */
/* Inline: the scheduler asks on every yield whether anyone else waits. */
static inline size_t deque_size_hint(const lw_deque *d)
{
    /* Relaxed, and the two loads are not taken together: a heuristic only. */
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
    return b > t ? (size_t)(b - t) : 0;
}

#endif
