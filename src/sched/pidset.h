/*
 * A set of ids (nonzero 64-bit pids or references), each with an optional
 * pointer: a process's links (no pointers), its monitors by reference, and
 * the runtime's pending send_after timers by reference.
 * Open addressing with linear probing (0 marks a free slot), at most half
 * full and, above the minimum size, at least an eighth; deletion moves
 * later entries back into the hole instead of leaving tombstones, so a
 * set that shrank is as fast as a new one.  Every operation is O(1) on
 * average.  A plain array made linking n processes to one O(n^2).
 *
 * Not thread-safe: the owner's lock guards it.
 */
#ifndef LW_SCHED_PIDSET_H
#define LW_SCHED_PIDSET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct PidSet {
    uint64_t *slots;    /* cap of them, 0 = free (NULL while cap is 0) */
    void **vals;        /* each slot's pointer */
    uint32_t count, cap;
} PidSet;

bool pidset_has(const PidSet *s, uint64_t id);
/* id's pointer (NULL if id is absent, or was added without one). */
void *pidset_get(const PidSet *s, uint64_t id);
/* Add id, or keep it if present; false if out of memory or id is 0 (never a member). */
bool pidset_add(PidSet *s, uint64_t id);
/* Add id with pointer val, or set the pointer if id is present; false as for pidset_add. */
bool pidset_put(PidSet *s, uint64_t id, void *val);
/* Remove id if present; returns its pointer (NULL if absent or none). */
void *pidset_del(PidSet *s, uint64_t id);
/* Take the ids out (cap slots, 0 = none; the caller frees the array): the
   set is empty after. */
uint64_t *pidset_take(PidSet *s, uint32_t *cap);
void pidset_free(PidSet *s);

#endif
