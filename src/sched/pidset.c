/* A set of pids (see pidset.h). */
#include "sched/pidset.h"

#include <stdlib.h>

#define PIDSET_MIN 8

static uint32_t home(const PidSet *s, uint64_t pid)
{
    return (uint32_t)((pid * 0x9E3779B97F4A7C15ull) >> 32) & (s->cap - 1);
}

bool pidset_has(const PidSet *s, uint64_t pid)
{
    if (!s->cap)
        return false;
    for (uint32_t i = home(s, pid);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == pid)
            return true;
        if (s->slots[i] == 0)
            return false;
    }
}

static void put(PidSet *s, uint64_t pid)
{
    uint32_t i = home(s, pid);
    while (s->slots[i])
        i = (i + 1) & (s->cap - 1);
    s->slots[i] = pid;
}

/* Move the entries into a table of cap slots (false: out of memory, unchanged). */
static bool resize(PidSet *s, uint32_t cap)
{
    uint64_t *old = s->slots, *t = calloc(cap, sizeof *t);
    uint32_t old_cap = s->cap;
    if (!t)
        return false;
    s->slots = t;
    s->cap = cap;
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i])
            put(s, old[i]);
    free(old);
    return true;
}

bool pidset_add(PidSet *s, uint64_t pid)
{
    if (pidset_has(s, pid))
        return true;
    if (2 * (s->count + 1) > s->cap && !resize(s, s->cap ? 2 * s->cap : PIDSET_MIN))
        return false;
    put(s, pid);
    s->count++;
    return true;
}

void pidset_del(PidSet *s, uint64_t pid)
{
    if (!s->cap)
        return;
    uint32_t mask = s->cap - 1, i = home(s, pid);
    while (s->slots[i] != pid) {
        if (!s->slots[i])
            return;
        i = (i + 1) & mask;
    }
    /* Close the hole at i: an entry further on in the run moves into it
       unless its home lies cyclically in (i, j], where a probe from its
       home would never pass the hole. */
    for (uint32_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        uint32_t k = home(s, s->slots[j]);
        bool stays = i < j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = 0;
    s->count--;
    if (s->cap > PIDSET_MIN && 8 * s->count < s->cap)
        (void)resize(s, s->cap / 2);   /* if that fails, the bigger table stays */
}

uint64_t *pidset_take(PidSet *s, uint32_t *cap)
{
    uint64_t *t = s->slots;
    *cap = s->cap;
    s->slots = NULL;
    s->count = s->cap = 0;
    return t;
}

void pidset_free(PidSet *s)
{
    free(s->slots);
    s->slots = NULL;
    s->count = s->cap = 0;
}
