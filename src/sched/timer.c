/*
 * Timers: a 1-based binary min-heap of lw_timer pointers ordered by
 * (deadline, seq).  See timer.h for the contract.
 *
 * Every move of an entry goes through heap_put, which also records the new
 * slot in the entry, so `index` is always exact and cancel can find an
 * entry in O(1) and remove it in O(log n).
 */
#include "sched/timer.h"

#include <stdlib.h>
#include <time.h>

#define INITIAL_CAP 16

/* Strict order: a before b.  seq is unique, so no two entries compare equal
 * and equal deadlines come out in insertion order. */
static inline bool before(const lw_timer *a, const lw_timer *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return a->seq < b->seq;
}

static inline void heap_put(lw_timers *t, uint32_t i, lw_timer *e)
{
    t->heap[i] = e;
    e->index = i;
}

/* Move e up from slot i until its parent is before it.  Moving the hole
 * rather than swapping writes each entry once. */
static void sift_up(lw_timers *t, uint32_t i, lw_timer *e)
{
    while (i > 1) {
        lw_timer *parent = t->heap[i / 2];
        if (!before(e, parent))
            break;
        heap_put(t, i, parent);
        i /= 2;
    }
    heap_put(t, i, e);
}

/* Move e down from slot i until both children are after it. */
static void sift_down(lw_timers *t, uint32_t i, lw_timer *e)
{
    uint32_t n = t->len;
    for (;;) {
        uint32_t c = 2 * i;     /* no overflow: len <= cap <= UINT32_MAX / 2 */
        if (c > n)
            break;
        if (c + 1 <= n && before(t->heap[c + 1], t->heap[c]))
            c++;
        if (!before(t->heap[c], e))
            break;
        heap_put(t, i, t->heap[c]);
        i = c;
    }
    heap_put(t, i, e);
}

/* Put e (which is not in the heap) into slot i, whose previous occupant has
 * left: it may have to go up or down, never both. */
static void place(lw_timers *t, uint32_t i, lw_timer *e)
{
    if (i > 1 && before(e, t->heap[i / 2]))
        sift_up(t, i, e);
    else
        sift_down(t, i, e);
}

bool timers_init(lw_timers *t)
{
    t->heap = malloc((INITIAL_CAP + 1) * sizeof *t->heap);
    t->len = 0;
    t->cap = t->heap ? INITIAL_CAP : 0;
    t->next_seq = 0;
    return t->heap != NULL;
}

void timers_destroy(lw_timers *t)
{
    for (uint32_t i = 1; i <= t->len; i++)
        t->heap[i]->index = TIMER_NONE;
    free(t->heap);
    t->heap = NULL;
    t->len = t->cap = 0;
}

static bool grow(lw_timers *t)
{
    /* Keep 2 * cap + 1 within uint32_t so child indices cannot overflow. */
    if (t->cap >= UINT32_MAX / 4)
        return false;
    uint32_t cap = t->cap ? t->cap * 2 : INITIAL_CAP;
    lw_timer **h = realloc(t->heap, ((size_t)cap + 1) * sizeof *h);
    if (!h)
        return false;
    t->heap = h;
    t->cap = cap;
    return true;
}

/* Is e pending in this heap?  Checking the slot (not just e->index) makes a
 * stale or foreign entry harmless instead of corrupting the heap. */
static inline bool owns(const lw_timers *t, const lw_timer *e)
{
    return e->index != TIMER_NONE && e->index <= t->len && t->heap[e->index] == e;
}

bool timers_add(lw_timers *t, lw_timer *e, uint64_t deadline, void *payload)
{
    if (owns(t, e)) {
        /* Re-arm in place: no allocation, and a new seq so it ties after
         * everything added before. */
        e->deadline = deadline;
        e->seq = t->next_seq++;
        e->payload = payload;
        place(t, e->index, e);
        return true;
    }
    if (t->len == t->cap && !grow(t))
        return false;
    e->deadline = deadline;
    e->seq = t->next_seq++;
    e->payload = payload;
    t->len++;
    sift_up(t, t->len, e);
    return true;
}

/* Take the entry in slot i out of the heap: the last entry fills the hole
 * and moves up or down from there. */
static void remove_at(lw_timers *t, uint32_t i)
{
    lw_timer *e = t->heap[i];
    lw_timer *last = t->heap[t->len];
    t->len--;
    if (last != e)
        place(t, i, last);
    e->index = TIMER_NONE;
}

bool timers_cancel(lw_timers *t, lw_timer *e)
{
    if (!owns(t, e))
        return false;
    remove_at(t, e->index);
    return true;
}

lw_timer *timers_pop_due(lw_timers *t, uint64_t now)
{
    if (t->len == 0 || t->heap[1]->deadline > now)
        return NULL;
    lw_timer *e = t->heap[1];
    remove_at(t, 1);
    return e;
}

uint64_t lw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool timers_check(const lw_timers *t)
{
    if (t->len > t->cap)
        return false;
    for (uint32_t i = 1; i <= t->len; i++) {
        const lw_timer *e = t->heap[i];
        if (!e || e->index != i)
            return false;
        if (i > 1 && before(e, t->heap[i / 2]))
            return false;
    }
    return true;
}
