/* A process's handles (see idtable.h). */
#include "sched/idtable.h"

#include <stdlib.h>

static uint32_t slot_of(const IdTable *t, uint64_t id)
{
    uint32_t low = (uint32_t)id;
    if (low == 0 || low > t->used || t->gen[low - 1] != (uint32_t)(id >> 32) || !t->items[low - 1])
        return UINT32_MAX;
    return low - 1;
}

uint64_t idtable_add(IdTable *t, void *item)
{
    uint32_t i;
    if (t->nfree) {
        i = t->free[--t->nfree];
    } else {
        if (t->used == t->cap) {
            if (t->cap == UINT32_MAX / 2)
                return 0;
            uint32_t cap = t->cap ? 2 * t->cap : 4;
            void **items = realloc(t->items, cap * sizeof *items);
            if (!items)
                return 0;
            t->items = items;
            uint32_t *gen = realloc(t->gen, cap * sizeof *gen);
            if (!gen)
                return 0;
            t->gen = gen;
            uint32_t *fr = realloc(t->free, cap * sizeof *fr);
            if (!fr)
                return 0;
            t->free = fr;
            t->cap = cap;
        }
        i = t->used++;
        t->gen[i] = 0;
    }
    t->items[i] = item;
    return (uint64_t)t->gen[i] << 32 | (i + 1);
}

void *idtable_get(const IdTable *t, uint64_t id)
{
    uint32_t i = slot_of(t, id);
    return i == UINT32_MAX ? NULL : t->items[i];
}

void *idtable_remove(IdTable *t, uint64_t id)
{
    uint32_t i = slot_of(t, id);
    if (i == UINT32_MAX)
        return NULL;
    void *item = t->items[i];
    t->items[i] = NULL;
    t->gen[i]++;   /* a generation that wraps after 2^32 frees of one slot: ids are not forever */
    t->free[t->nfree++] = i;
    return item;
}

void idtable_free(IdTable *t, void (*destroy)(void *))
{
    if (!t->cap)
        return;   /* most processes make nothing: skip the free(NULL) calls on the exit path */
    for (uint32_t i = 0; i < t->used; i++)
        if (t->items[i])
            destroy(t->items[i]);
    free(t->items);
    free(t->gen);
    free(t->free);
    *t = (IdTable){0};
}
