/*
 * Linear memory: allocation, growth and release of an lw_memory.
 *
 * The interpreter checks every access against `size` explicitly, so there are
 * no guard pages and the data may move when memory grows.  The interface is
 * kept narrow (new, grow, free) so that a later allocator can pool memories
 * in arenas without touching the rest of the engine.
 */
#ifndef LEONARDO_MEMORY_H
#define LEONARDO_MEMORY_H

#include <stdbool.h>
#include <stdint.h>
#include "interp/runtime.h"

#define WASM_PAGE_SIZE 65536u
#define WASM_MAX_PAGES 65536u   /* 4 GiB: the most a 32-bit memory can address */

/*
 * A memory of `min_pages` zeroed pages.  With has_max, it never grows beyond
 * `max_pages`.  NULL if min > max, a limit is over 65536 pages, or memory is
 * short.  A memory of 0 pages is valid: data is NULL and size 0.
 */
lw_memory *memory_new(uint32_t min_pages, uint32_t max_pages, bool has_max);

/*
 * Grow by `delta` pages, zeroing the new ones.  Returns the old page count,
 * or -1 (memory unchanged) when the result would pass the maximum or 65536
 * pages or memory is short.  `data` may move.
 */
int64_t memory_grow(lw_memory *m, uint32_t delta);

void memory_free(lw_memory *m);
/* Give back a memory's pages but not the lw_memory itself (memory_init_pooled's). */
void memory_release(lw_memory *m);

/*
 * A memory in a slot of `pool` (src/mem/arena.h) while it fits there, so
 * that a million processes' memories are not a million mappings; growing
 * past the slot moves it to a mapping of its own (the interpreter
 * bounds-checks explicitly and reloads the base after a grow, so moving is
 * safe).  Falls back to memory_new when the arena is full.
 */
struct lw_arena;
lw_memory *memory_new_pooled(struct lw_arena *pool, uint32_t min_pages, uint32_t max_pages, bool has_max);
/* The same in a zeroed lw_memory the caller provides (a process keeps it
   in its instance's block); pool NULL: a mapping of its own, as
   memory_new.  memory_release undoes it. */
bool memory_init_pooled(lw_memory *m, struct lw_arena *pool, uint32_t min_pages, uint32_t max_pages, bool has_max);

/*
 * A pooled memory keeps `touched`: how far from its start it may have been
 * written, so that giving its slot back cleans just that much (a memset for
 * the few pages a small process uses, instead of an madvise whose TLB
 * shootdown stops every worker).  The interpreter bounds-checks against
 * `touched`, not `size`; an access past it lands in the out-of-bounds path,
 * which calls memory_touch_more and runs the access again, and only traps
 * once `touched` is the whole size.  Host functions that write guest memory
 * call memory_touch with the end of what they write.
 */
void memory_touch(lw_memory *m, uint64_t end);
/* A pooled memory may also start with an `image` of its initial contents,
   shared with other processes, which memory_touch copies in as it grows: a
   process pays for the data segments it uses, not for all of them. */
/* Double `touched` (at least a page), up to size; false if it was the whole size already. */
bool memory_touch_more(lw_memory *m);

#endif
