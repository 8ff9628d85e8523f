/*
 * A process's handles for what it made: configurations (config_new) and
 * compiled modules (module_compile).  An id is the slot's index + 1 in its
 * low 32 bits and the slot's generation in its high 32 bits: freeing bumps
 * the generation, so the slot is reused while the old id never names
 * anything again (it is reported as unknown).  A process that makes and
 * frees handles forever thus uses memory for the most it held at once.
 *
 * Not thread-safe: only the owning process touches its tables.
 */
#ifndef LW_SCHED_IDTABLE_H
#define LW_SCHED_IDTABLE_H

#include <stdint.h>

typedef struct IdTable {
    void **items;       /* cap slots; NULL: free */
    uint32_t *gen;      /* each slot's generation */
    uint32_t *free;     /* the free slots, a stack */
    uint32_t cap, used, nfree;   /* slots, slots ever used, free ones among them */
} IdTable;

/* The id of a new handle to item (non-NULL); 0 if out of memory. */
uint64_t idtable_add(IdTable *t, void *item);
/* The item id names, or NULL if it names nothing (never made, or freed). */
void *idtable_get(const IdTable *t, uint64_t id);
/* Forget id: returns its item (NULL if id names nothing). */
void *idtable_remove(IdTable *t, uint64_t id);
/* Free the table, calling destroy on each item still in it. */
void idtable_free(IdTable *t, void (*destroy)(void *));

#endif
