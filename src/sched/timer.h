/*
 * Timers: a binary min-heap of deadlines, one per worker thread.
 *
 * A process that sleeps, waits in `receive` with a timeout, or has a
 * `send_after` message pending is parked; an lw_timer entry (usually
 * embedded in the process or message) goes into its worker's heap, and the
 * worker pops it when the deadline passes.  The worker sleeps no longer than
 * timers_next() says.
 *
 * Single-threaded by design: each worker owns its lw_timers, so there is no
 * locking inside.  Another thread that wants a timer set or cancelled asks
 * the owning worker (by message), it never touches the heap itself.
 *
 * Costs: add, cancel and pop are O(log n); timers_next is O(1).  Entries are
 * caller-allocated, so the heap only holds pointers and adding never
 * allocates unless the pointer array must grow.
 *
 * Order: entries fire earliest deadline first; equal deadlines fire in the
 * order they were added (each add takes the next sequence number and the
 * heap orders by (deadline, seq)), so runs are deterministic.
 */
#ifndef LW_SCHED_TIMER_H
#define LW_SCHED_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* The heap is 1-based (the children of slot i are 2i and 2i+1, its parent
 * i/2), so index 0 is free to mean "not in a heap": an entry that is all
 * zero bytes (calloc'ed, or `= {0}`) is correctly not pending. */
#define TIMER_NONE 0u

typedef struct lw_timer lw_timer;
typedef struct lw_timers lw_timers;

/* One timer.  The caller owns the memory and must keep it alive (and not
 * move it) while it is pending.  Fields are read-only to the caller except
 * `payload`, which is the caller's own. */
struct lw_timer {
    uint64_t deadline;  /* monotonic ns (lw_now_ns's clock) */
    uint64_t seq;       /* this arming's id: unique within its lw_timers, ties
                           break on it; lets a woken process tell a stale
                           timeout from the one it armed last */
    uint32_t index;     /* position in the heap (1-based), or TIMER_NONE */
    void *payload;      /* what the caller wants back when it fires */
};

struct lw_timers {
    lw_timer **heap;    /* heap[1..len]; heap[0] unused */
    uint32_t len;       /* pending entries */
    uint32_t cap;       /* usable slots (heap has cap + 1 pointers) */
    uint64_t next_seq;  /* the seq the next add takes */
};

bool timers_init(lw_timers *t);
/* Frees the heap.  Entries still pending are marked not pending. */
void timers_destroy(lw_timers *t);

/* Arm `e` to fire at `deadline` (absolute, monotonic ns) with `payload`.
 * If `e` is already pending in `t` it is moved to the new deadline and
 * takes a new seq (it now ties after entries added before this call).
 * False only when the heap cannot grow (out of memory); `e` is then left
 * as it was. */
bool timers_add(lw_timers *t, lw_timer *e, uint64_t deadline, void *payload);

/* Disarm `e`.  False if it was not pending in `t` (never added, already
 * fired or already cancelled). */
bool timers_cancel(lw_timers *t, lw_timer *e);

static inline bool timers_pending(const lw_timer *e)
{
    return e->index != TIMER_NONE;
}

/* Earliest pending deadline, or UINT64_MAX when nothing is pending. */
static inline uint64_t timers_next(const lw_timers *t)
{
    return t->len ? t->heap[1]->deadline : UINT64_MAX;
}

static inline uint32_t timers_count(const lw_timers *t)
{
    return t->len;
}

/* Remove and return the earliest entry whose deadline is <= now, or NULL
 * if none is due.  Call it in a loop to fire everything due; ties come out
 * in insertion order.  The returned entry is no longer pending, so it may
 * be re-added at once (a periodic timer). */
lw_timer *timers_pop_due(lw_timers *t, uint64_t now);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t lw_now_ns(void);

/* Debugging and tests: true when the heap property holds and every
 * pending entry's index names its own slot.  O(n). */
bool timers_check(const lw_timers *t);

#endif
