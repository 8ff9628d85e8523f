/*
 * Pooled arenas: fixed-size slots carved from one large anonymous mapping.
 *
 * Layout.  arena_new makes a single mmap(MAP_NORESERVE) holding first the
 * free-list links (one 32-bit word per slot), then the slots.  Everything is
 * reserved up front rather than grown in chunks: address space is plentiful
 * (a million 64 KiB slots is 64 GiB of a 128 TiB user space; 16 TiB maps fine
 * here), MAP_NORESERVE keeps it out of the overcommit accounting, and the kernel
 * backs only the pages that are touched.  One mapping means one entry in
 * /proc/self/maps however many slots are used, a slot's index is a
 * subtraction and a division, and arena_contains is a range check.  (With
 * vm.overcommit_memory=2 the kernel ignores MAP_NORESERVE and a large arena
 * would be refused; growing in chunks would not really help there either,
 * since every chunk would be charged in full.)
 *
 * Slots are never split off by mprotect or munmap (that would add mappings),
 * so there are no guard pages: the interpreter bounds-checks every access.
 *
 * Free slots live on two lock-free stacks (Treiber stacks).  A stack's head
 * is a 64-bit word: the index + 1 of its top slot (0: empty) in the low half
 * and a tag in the high half that every successful update increments, so a
 * pop that read head A and next B cannot succeed after others popped A,
 * popped B and pushed A back (the ABA problem): the tag has moved on (it
 * would have to wrap, 2^32 updates, while one thread sits between its load
 * and its compare-and-swap).  The
 * links are in their own array, not inside the slots, so that a free slot's
 * pages stay untouched (and returned to the kernel).  Slots never handed out
 * come from a bump counter, `fresh`.
 *
 * Zeroing.  A slot must read as zero when it is handed out, so release
 * zeroes the `used` bytes the owner may have written.  Measured on the
 * development machine (2-core EPYC VM, Linux 6.18), cycling 4096 slots of
 * 64 KiB (so the memsets miss the cache; at release, the pages are usually
 * still cached and one page takes some 50 ns):
 *
 *   pages written   memset   madvise(DONTNEED) + refault   same, with a second thread alive
 *   1                0.4 us           3.7 us                        15.6 us
 *   4                1.1 us           8.6 us                        26.5 us
 *   16               2.6 us          30.5 us                        42.6 us
 *
 * The syscall alone is 0.7 us (2 to 2.5 us once the process has another
 * thread: the kernel must shoot down the other CPUs' TLB entries), and each
 * page then faults again on its next first write, at some 3 us in this VM.
 * memset therefore wins at every size; madvise is there only to give the RAM
 * back.  Hence two stacks:
 *
 *   warm: slots whose `used` was at most warm_max_used (16 KiB by default),
 *         zeroed by memset and kept resident, at most warm_max of them (256):
 *         they hold at most 4 MiB of RAM and make the common spawn-exit-spawn
 *         cycle free of syscalls and page faults.
 *   cold: all other slots, their pages returned with madvise(MADV_DONTNEED).
 *
 * Zeroing happens in arena_release, while the dying process's pages are still
 * in cache and off the spawn path; arena_alloc takes warm slots first (their
 * pages are mapped and cached), then cold ones, then fresh ones.
 *
 * MADV_FREE would be cheaper than MADV_DONTNEED (the kernel reclaims lazily,
 * only under memory pressure), but it guarantees nothing about contents: a
 * page may read back as its old data or as zero, so every reuse would need a
 * memset of all `used` bytes anyway, and RSS would not drop when a process
 * exits, which is what makes an idle million processes affordable.
 * MADV_DONTNEED on private anonymous memory guarantees zero-fill on the next
 * touch and frees the pages at once.
 *
 * Lock-free rather than a mutex: measured (bench/arena_speed.c), a pthread
 * mutex around an array of free slots costs the same uncontended (12 ns
 * against 13 ns per alloc + release) and about the same with two threads
 * (24 ns against 27 ns per cycle), but a thread preempted while holding it
 * would stall every spawner, and the scheduler's threads share cores.
 *
 * Counting.  `in_use` is the number of slots handed out plus reserved.  An
 * allocation first reserves (a compare-and-swap that fails when in_use equals
 * max_slots), then looks for a slot.  A release pushes the slot before
 * decrementing in_use, so every reservation has a free slot somewhere, and
 * NULL means exactly "max_slots slots are in use", even under concurrency.
 * A reserver that finds both stacks empty and no fresh slot left has lost a
 * race (another reserver took the slot it would have found, or a release's
 * push is not visible yet); a slot is owed to it, so it tries again.
 */
#define _GNU_SOURCE
#include "mem/arena.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Under AddressSanitizer, free slots are poisoned so that a use after
   arena_release is reported. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define NO_SLOT UINT32_MAX

struct lw_arena {
    /* Fixed at creation (the warm limits: before the arena is shared). */
    char *map;                  /* the whole mapping: links, then slots */
    size_t map_len;
    char *base;                 /* slot 0 */
    size_t slot_size;           /* a multiple of the page size */
    size_t page_size;
    uint32_t max_slots;
    uint32_t warm_max;          /* most slots on the warm stack */
    size_t warm_max_used;       /* largest `used` that may go warm */
    _Atomic uint32_t *next;     /* next[i]: index + 1 of the slot below i on its stack */

    /* The words every warm alloc and release updates share one cache line
       (each operation then moves one line between cores, not three), away
       from the read-only fields above.  The cold path's words have another. */
    alignas(64) _Atomic uint64_t warm_head;
    _Atomic uint32_t in_use;
    _Atomic uint32_t warm_count;        /* >= the warm stack's size, <= warm_max */
    alignas(64) _Atomic uint64_t cold_head;
    _Atomic uint64_t fresh;             /* slots [fresh, max_slots) never used */
};

/* ---- the tagged stacks ---- */

static inline uint64_t head_make(uint32_t index_plus_1, uint32_t tag)
{
    return (uint64_t)tag << 32 | index_plus_1;
}

static void stack_push(lw_arena *a, _Atomic uint64_t *head, uint32_t i)
{
    uint64_t old = atomic_load_explicit(head, memory_order_relaxed);
    uint64_t new;
    do {
        /* The link may be read concurrently by a pop that has a stale head
           (its CAS then fails), hence an atomic, relaxed store. */
        atomic_store_explicit(&a->next[i], (uint32_t)old, memory_order_relaxed);
        new = head_make(i + 1, (uint32_t)(old >> 32) + 1);
        /* release: the slot's zeroing and the link happen before any pop
           that sees this head. */
    } while (!atomic_compare_exchange_weak_explicit(head, &old, new, memory_order_release,
                                                    memory_order_relaxed));
}

static uint32_t stack_pop(lw_arena *a, _Atomic uint64_t *head)
{
    uint64_t old = atomic_load_explicit(head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)old;
        if (top == 0)
            return NO_SLOT;
        /* If another thread pops `top` meanwhile, this link may be stale,
           but then the head's tag has changed and the CAS below fails. */
        uint32_t below = atomic_load_explicit(&a->next[top - 1], memory_order_relaxed);
        uint64_t new = head_make(below, (uint32_t)(old >> 32) + 1);
        if (atomic_compare_exchange_weak_explicit(head, &old, new, memory_order_acquire,
                                                  memory_order_acquire))
            return top - 1;
    }
}

/* ---- creation ---- */

lw_arena *arena_new(size_t slot_size, size_t max_slots)
{
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 ? (size_t)ps : 4096;
    if (slot_size == 0 || max_slots == 0 || max_slots >= UINT32_MAX || slot_size > SIZE_MAX / 2)
        return NULL;
    slot_size = (slot_size + page - 1) & ~(page - 1);
    size_t links = (max_slots * sizeof(uint32_t) + page - 1) & ~(page - 1);
    if (max_slots > (SIZE_MAX - links) / slot_size)
        return NULL;
    size_t len = links + max_slots * slot_size;

    lw_arena *a = aligned_alloc(alignof(lw_arena), sizeof *a);
    if (!a)
        return NULL;
    memset(a, 0, sizeof *a);
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        free(a);
        return NULL;
    }
    /* Transparent huge pages would back 512 small pages at once, so one
       touched byte could make 2 MiB of a slot (and its neighbours) resident
       and a partial madvise would have to split the huge page.  Per-page
       accounting is the point here.  Failure (no THP in the kernel) is fine. */
    (void)madvise(m, len, MADV_NOHUGEPAGE);

    a->map = m;
    a->map_len = len;
    a->base = (char *)m + links;
    a->slot_size = slot_size;
    a->page_size = page;
    a->max_slots = (uint32_t)max_slots;
    a->next = (_Atomic uint32_t *)m;
    a->warm_max = ARENA_WARM_SLOTS;
    a->warm_max_used = ARENA_WARM_BYTES;
    atomic_init(&a->warm_head, 0);
    atomic_init(&a->cold_head, 0);
    atomic_init(&a->in_use, 0);
    atomic_init(&a->warm_count, 0);
    atomic_init(&a->fresh, 0);
    return a;
}

void arena_free_all(lw_arena *a)
{
    if (!a)
        return;
#ifdef ARENA_ASAN
    /* Released slots are poisoned; the shadow must be clean before these
       addresses can be mapped again by anyone else. */
    uint64_t used = atomic_load_explicit(&a->fresh, memory_order_relaxed);
    if (used > a->max_slots)
        used = a->max_slots;
    UNPOISON(a->base, (size_t)used * a->slot_size);
#endif
    munmap(a->map, a->map_len);
    free(a);
}

void arena_set_warm(lw_arena *a, size_t max_slots, size_t max_used)
{
    a->warm_max = max_slots > UINT32_MAX ? UINT32_MAX : (uint32_t)max_slots;
    a->warm_max_used = max_used;
}

/* ---- alloc and release ---- */

static inline void *slot_at(const lw_arena *a, uint64_t i)
{
    return a->base + (size_t)i * a->slot_size;
}

void *arena_alloc(lw_arena *a)
{
    /* Reserve a slot, or report the arena full. */
    uint32_t n = atomic_load_explicit(&a->in_use, memory_order_relaxed);
    do {
        if (n >= a->max_slots)
            return NULL;
    } while (!atomic_compare_exchange_weak_explicit(&a->in_use, &n, n + 1, memory_order_acquire,
                                                    memory_order_relaxed));
    for (;;) {
        uint32_t i = stack_pop(a, &a->warm_head);
        if (i != NO_SLOT) {
            atomic_fetch_sub_explicit(&a->warm_count, 1, memory_order_relaxed);
            UNPOISON(slot_at(a, i), a->slot_size);
            return slot_at(a, i);
        }
        i = stack_pop(a, &a->cold_head);
        if (i != NO_SLOT) {
            UNPOISON(slot_at(a, i), a->slot_size);
            return slot_at(a, i);
        }
        /* Never-used slots are zero already.  The load first keeps `fresh`
           from creeping past max_slots by more than the number of threads. */
        if (atomic_load_explicit(&a->fresh, memory_order_relaxed) < a->max_slots) {
            uint64_t f = atomic_fetch_add_explicit(&a->fresh, 1, memory_order_relaxed);
            if (f < a->max_slots)
                return slot_at(a, f);
        }
        /* Our slot is being pushed by a release right now (see the top). */
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

void arena_release(lw_arena *a, void *slot, size_t used)
{
    char *p = slot;
    if (!arena_contains(a, p) || (size_t)(p - a->base) % a->slot_size != 0)
        abort();    /* not one of ours: corrupting the free lists would be worse */
    uint32_t i = (uint32_t)((size_t)(p - a->base) / a->slot_size);
    if (used > a->slot_size)
        used = a->slot_size;

    /* Warm if small and there is room; warm_count is raised before the push
       and lowered after the pop, so the warm stack never exceeds warm_max. */
    bool warm = false;
    if (used <= a->warm_max_used &&
        atomic_load_explicit(&a->warm_count, memory_order_relaxed) < a->warm_max) {
        if (atomic_fetch_add_explicit(&a->warm_count, 1, memory_order_relaxed) < a->warm_max)
            warm = true;
        else
            atomic_fetch_sub_explicit(&a->warm_count, 1, memory_order_relaxed);
    }
    if (warm) {
        /* Not for used == 0: glibc's memset does a 0-byte call with a masked
           vector store, which on an unmapped page (a slot never written)
           takes a microcode assist of some 150 ns here. */
        if (used)
            memset(p, 0, used);
    } else {
        size_t len = (used + a->page_size - 1) & ~(a->page_size - 1);
        /* madvise cannot fail on a page-aligned range of a private anonymous
           mapping; if it ever did, memset still gives the zeros promised. */
        if (len && madvise(p, len, MADV_DONTNEED) != 0)
            memset(p, 0, used);
    }
    POISON(p, a->slot_size);
    stack_push(a, warm ? &a->warm_head : &a->cold_head, i);
    /* After the push (release: a reserver that sees the count drop will
       find the slot on its stack). */
    atomic_fetch_sub_explicit(&a->in_use, 1, memory_order_release);
}

/* ---- queries ---- */

size_t arena_slot_size(const lw_arena *a)
{
    return a->slot_size;
}

size_t arena_max_slots(const lw_arena *a)
{
    return a->max_slots;
}

bool arena_contains(const lw_arena *a, const void *p)
{
    uintptr_t x = (uintptr_t)p, lo = (uintptr_t)a->base;
    return x >= lo && x - lo < (uintptr_t)a->max_slots * a->slot_size;
}

size_t arena_in_use(const lw_arena *a)
{
    return atomic_load_explicit(&a->in_use, memory_order_relaxed);
}
