/*
 * A set of pids (nonzero 64-bit ids): what a process keeps of its links.
 * Open addressing with linear probing (0 marks a free slot), at most half
 * full and, above the minimum size, at least an eighth; deletion moves
 * later entries back into the hole instead of leaving tombstones, so a
 * set that shrank is as fast as a new one.  Every operation is O(1) on
 * average.  A plain array made linking n processes to one O(n^2).
 *
 * Not thread-safe: the owner's lock guards it (Proc.links).
 */
#ifndef LW_SCHED_PIDSET_H
#define LW_SCHED_PIDSET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct PidSet {
    uint64_t *slots;    /* cap of them, 0 = free (NULL while cap is 0) */
    uint32_t count, cap;
} PidSet;

bool pidset_has(const PidSet *s, uint64_t pid);
/* Add pid (nonzero); true if it is in the set now, false if out of memory. */
bool pidset_add(PidSet *s, uint64_t pid);
/* Remove pid if present. */
void pidset_del(PidSet *s, uint64_t pid);
/* Take the whole table out (the caller frees it): the set is empty after. */
uint64_t *pidset_take(PidSet *s, uint32_t *cap);
void pidset_free(PidSet *s);

#endif
