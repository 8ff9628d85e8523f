/*
 * Linear memory on anonymous mappings.
 *
 * mmap gives zeroed pages that the kernel only backs when touched, so a big
 * declared minimum costs address space, not RAM.  Growth uses mremap, which
 * may move the data (the interpreter bounds-checks explicitly and reloads the
 * base after a grow) and also zero-fills the new tail.
 */
#define _GNU_SOURCE
#include "mem/memory.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "mem/arena.h"

/* What a memory of zero pages points at: never NULL, so that a zero-length
   memset/memcpy on it is well defined, and never written through (every
   access to it is out of bounds). */
static uint8_t empty_memory[16] __attribute__((aligned(16)));

static uint8_t *map_pages(uint64_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

lw_memory *memory_new(uint32_t min_pages, uint32_t max_pages, bool has_max)
{
    if (min_pages > WASM_MAX_PAGES || (has_max && (max_pages > WASM_MAX_PAGES || max_pages < min_pages)))
        return NULL;
    lw_memory *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->has_max = has_max;
    m->max_pages = has_max ? max_pages : WASM_MAX_PAGES;
    m->data = empty_memory;
    if (min_pages > 0) {
        m->data = map_pages((uint64_t)min_pages * WASM_PAGE_SIZE);
        if (!m->data) {
            free(m);
            return NULL;
        }
    }
    m->pages = min_pages;
    m->size = (uint64_t)min_pages * WASM_PAGE_SIZE;
    return m;
}

lw_memory *memory_new_pooled(struct lw_arena *pool, uint32_t min_pages, uint32_t max_pages, bool has_max)
{
    uint64_t bytes = (uint64_t)min_pages * WASM_PAGE_SIZE;
    if (bytes > arena_slot_size(pool))
        return memory_new(min_pages, max_pages, has_max);
    lw_memory *m = memory_new(0, max_pages, has_max);
    if (!m)
        return NULL;
    m->pool = pool;
    if (min_pages > 0 && memory_grow(m, min_pages) < 0) {
        memory_free(m);
        return NULL;
    }
    return m;
}

/* Grow a pooled memory: in its slot while it fits, else onto a mapping of its own. */
static uint8_t *grow_pooled(lw_memory *m, uint64_t new_size)
{
    size_t slot = arena_slot_size(m->pool);
    if (m->pages == 0 && new_size <= slot) {
        uint8_t *p = arena_alloc(m->pool);   /* zeroed */
        if (p)
            return p;
    } else if (m->pages > 0 && new_size <= slot) {
        return m->data;                      /* the rest of the slot is zero already */
    }
    uint8_t *p = map_pages(new_size);
    if (!p)
        return NULL;
    if (m->pages > 0) {
        memcpy(p, m->data, m->size);
        arena_release(m->pool, m->data, m->size);
    }
    m->pool = NULL;
    return p;
}

int64_t memory_grow(lw_memory *m, uint32_t delta)
{
    uint32_t old = m->pages;
    if (delta > m->max_pages - old)   /* max_pages >= pages always holds */
        return -1;
    if (delta == 0)
        return old;
    uint64_t new_size = (uint64_t)(old + delta) * WASM_PAGE_SIZE;
    uint8_t *p;
    if (m->pool) {
        p = grow_pooled(m, new_size);
    } else if (old == 0) {
        p = map_pages(new_size);
    } else {
        void *r = mremap(m->data, m->size, new_size, MREMAP_MAYMOVE);
        p = r == MAP_FAILED ? NULL : r;
    }
    if (!p)
        return -1;
    m->data = p;
    m->size = new_size;
    m->pages = old + delta;
    return old;
}

/*
 * How many bytes from the start of a pooled memory may have been written:
 * up to its last resident page, as mincore(2) says.  A process that never
 * touched its memory (most small ones) then gives its slot back with
 * nothing to clean, and one that touched a page or two with a short memset,
 * instead of an madvise whose TLB shootdown stops every worker.
 */
static size_t touched_bytes(const lw_memory *m)
{
    enum { PAGE = 4096, MAXV = 1024 };
    size_t pages = (m->size + PAGE - 1) / PAGE;
    if (pages > MAXV)
        return m->size;   /* large: let the arena madvise it all */
    unsigned char vec[MAXV];
    if (mincore(m->data, m->size, vec) != 0)
        return m->size;
    size_t last = pages;
    while (last > 0 && !(vec[last - 1] & 1))
        last--;
    return last * PAGE;
}

void memory_free(lw_memory *m)
{
    if (!m)
        return;
    if (m->pool && m->pages > 0)
        arena_release(m->pool, m->data, touched_bytes(m));
    else if (m->pages > 0)
        munmap(m->data, m->size);
    free(m);
}
