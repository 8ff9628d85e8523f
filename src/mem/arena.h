/*
 * Pooled arenas: many fixed-size memory slots carved from one large mapping.
 *
 * A million processes cannot each own an mmap (vm.max_map_count is 65,530
 * here), so per-process memory (linear memory, value stack, native stack)
 * comes from arenas: one MAP_NORESERVE anonymous mapping per arena, cut into
 * slots.  A slot costs only the pages written to it; releasing it hands those
 * pages back to the kernel (or, for a few lightly used slots, zeroes them and
 * keeps them warm for the next spawn).  See arena.c and src/mem/README.md.
 */
#ifndef LEONARDO_ARENA_H
#define LEONARDO_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct lw_arena lw_arena;

/*
 * An arena of at most `max_slots` slots of `slot_size` bytes (rounded up to
 * the page size), reserved up front as one mapping.  NULL when an argument is
 * 0 or too large (max_slots must be below 2^32 - 1) or the kernel refuses the
 * reservation.
 */
lw_arena *arena_new(size_t slot_size, size_t max_slots);

/* Unmaps everything.  No slot may be in use any more.  NULL is ignored. */
void arena_free_all(lw_arena *a);

/*
 * A slot whose bytes all read as zero, page-aligned, or NULL when all
 * max_slots slots are in use.  Thread-safe and lock-free; no syscall.
 */
void *arena_alloc(lw_arena *a);

/*
 * Gives back a slot from arena_alloc.  `used` bounds the bytes from the start
 * of the slot that may have been written since it was allocated (pass the
 * slot size if unknown; larger values are clamped).  Those pages are zeroed
 * again: returned to the kernel with madvise(MADV_DONTNEED), so RSS drops, or
 * for a small `used` and while the warm cache has room, cleared with memset
 * and kept.  Thread-safe.  Aborts if `slot` is not a slot of this arena;
 * releasing a slot twice is undefined.
 */
void arena_release(lw_arena *a, void *slot, size_t used);

size_t arena_slot_size(const lw_arena *a);
size_t arena_max_slots(const lw_arena *a);

/* Whether p points into the arena's slot area (any slot, in use or not). */
bool arena_contains(const lw_arena *a, const void *p);

/* How many slots are allocated now (a snapshot under concurrency). */
size_t arena_in_use(const lw_arena *a);

/*
 * The warm cache: up to `max_slots` released slots whose `used` was at most
 * `max_used` bytes are zeroed by memset and kept resident instead of being
 * madvised, so the next arena_alloc gets pages that are already mapped.  It
 * bounds the RSS kept by free slots to max_slots * max_used.  Defaults:
 * ARENA_WARM_SLOTS and ARENA_WARM_BYTES; (0, 0) turns it off.  Call before
 * the arena is shared between threads.
 */
#define ARENA_WARM_SLOTS 256
#define ARENA_WARM_BYTES (16 * 1024)
void arena_set_warm(lw_arena *a, size_t max_slots, size_t max_used);

#endif
