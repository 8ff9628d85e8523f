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

/* Set up a zeroed lw_memory with its own mapping (see memory_new). */
static bool memory_init(lw_memory *m, uint32_t min_pages, uint32_t max_pages, bool has_max)
{
    if (min_pages > WASM_MAX_PAGES || (has_max && (max_pages > WASM_MAX_PAGES || max_pages < min_pages)))
        return false;
    m->has_max = has_max;
    m->max_pages = has_max ? max_pages : WASM_MAX_PAGES;
    m->data = empty_memory;
    if (min_pages > 0) {
        m->data = map_pages((uint64_t)min_pages * WASM_PAGE_SIZE);
        if (!m->data)
            return false;
    }
    m->pages = min_pages;
    m->size = m->touched = (uint64_t)min_pages * WASM_PAGE_SIZE;
    return true;
}

lw_memory *memory_new(uint32_t min_pages, uint32_t max_pages, bool has_max)
{
    lw_memory *m = calloc(1, sizeof *m);
    if (m && !memory_init(m, min_pages, max_pages, has_max)) {
        free(m);
        return NULL;
    }
    return m;
}

bool memory_init_pooled(lw_memory *m, struct lw_arena *pool, uint32_t min_pages, uint32_t max_pages, bool has_max)
{
    uint64_t bytes = (uint64_t)min_pages * WASM_PAGE_SIZE;
    if (!pool || bytes > arena_slot_size(pool))
        return memory_init(m, min_pages, max_pages, has_max);
    if (!memory_init(m, 0, max_pages, has_max))
        return false;
    m->pool = pool;
    m->touched = 0;
    if (min_pages > 0 && memory_grow(m, min_pages) < 0) {
        memory_release(m);
        return false;
    }
    return true;
}

lw_memory *memory_new_pooled(struct lw_arena *pool, uint32_t min_pages, uint32_t max_pages, bool has_max)
{
    lw_memory *m = calloc(1, sizeof *m);
    if (m && !memory_init_pooled(m, pool, min_pages, max_pages, has_max)) {
        free(m);
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
    if (m->pages > 0)
        memory_touch(m, m->image_size);   /* a mapping of its own is touched all over: bring the image in */
    uint8_t *p = map_pages(new_size);
    if (!p)
        return NULL;
    if (m->pages > 0) {
        memcpy(p, m->data, m->touched);   /* the rest is zero on both sides */
        arena_release(m->pool, m->data, m->touched);
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
    if (!m->pool)
        m->touched = new_size;
    m->pages = old + delta;
    return old;
}

void memory_touch(lw_memory *m, uint64_t end)
{
    if (end <= m->touched)
        return;
    end = (end + 4095) & ~(uint64_t)4095;
    if (end > m->size)
        end = m->size;
    /* What the data segments put in this stretch arrives now, on first use. */
    if (m->touched < m->image_size) {
        uint64_t to = end < m->image_size ? end : m->image_size;
        memcpy(m->data + m->touched, m->image + m->touched, to - m->touched);
    }
    m->touched = end;
}

bool memory_touch_more(lw_memory *m)
{
    if (m->touched >= m->size)
        return false;
    memory_touch(m, m->touched ? m->touched * 2 : 4096);
    return true;
}

void memory_release(lw_memory *m)
{
    if (m->pool && m->pages > 0)
        arena_release(m->pool, m->data, m->touched);
    else if (m->pages > 0)
        munmap(m->data, m->size);
    m->pages = 0;
    m->data = empty_memory;
    m->size = m->touched = 0;
}

void memory_free(lw_memory *m)
{
    if (!m)
        return;
    memory_release(m);
    free(m);
}
