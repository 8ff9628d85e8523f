/* A set of ids with optional pointers (see pidset.h). */
#include "sched/pidset.h"

#include <stdlib.h>

#define PIDSET_MIN 8

static uint32_t home(const PidSet *s, uint64_t pid)
{
    return (uint32_t)((pid * 0x9E3779B97F4A7C15ull) >> 32) & (s->cap - 1);
}

/* id's slot, or UINT32_MAX.  0 marks a free slot, so it is never a member:
   found, a free slot would be taken for it (pidset_del would count a
   removal, and a table whose count fell behind fills up: its probes then
   never end).  Guests pass 0 freely, to cancel_timer for one. */
static uint32_t find(const PidSet *s, uint64_t id)
{
    if (!s->cap || !id)
        return UINT32_MAX;
    for (uint32_t i = home(s, id);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == id)
            return i;
        if (s->slots[i] == 0)
            return UINT32_MAX;
    }
}

bool pidset_has(const PidSet *s, uint64_t id)
{
    return find(s, id) != UINT32_MAX;
}

void *pidset_get(const PidSet *s, uint64_t id)
{
    uint32_t i = find(s, id);
    return i == UINT32_MAX ? NULL : s->vals[i];
}

static void put(PidSet *s, uint64_t id, void *val)
{
    uint32_t i = home(s, id);
    while (s->slots[i])
        i = (i + 1) & (s->cap - 1);
    s->slots[i] = id;
    s->vals[i] = val;
}

/* Move the entries into a table of cap slots (false: out of memory, unchanged). */
static bool resize(PidSet *s, uint32_t cap)
{
    uint64_t *old = s->slots, *t = calloc(cap, sizeof *t);
    void **old_vals = s->vals, **v = calloc(cap, sizeof *v);
    uint32_t old_cap = s->cap;
    if (!t || !v) {
        free(t);
        free(v);
        return false;
    }
    s->slots = t;
    s->vals = v;
    s->cap = cap;
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i])
            put(s, old[i], old_vals[i]);
    free(old);
    free(old_vals);
    return true;
}

bool pidset_put(PidSet *s, uint64_t id, void *val)
{
    if (!id)
        return false;
    uint32_t i = find(s, id);
    if (i != UINT32_MAX) {
        s->vals[i] = val;
        return true;
    }
    if (2 * (s->count + 1) > s->cap && !resize(s, s->cap ? 2 * s->cap : PIDSET_MIN))
        return false;
    put(s, id, val);
    s->count++;
    return true;
}

bool pidset_add(PidSet *s, uint64_t id)
{
    return pidset_has(s, id) || pidset_put(s, id, NULL);
}

void *pidset_del(PidSet *s, uint64_t id)
{
    uint32_t mask = s->cap - 1, i = find(s, id);
    if (i == UINT32_MAX)
        return NULL;
    void *val = s->vals[i];
    /* Close the hole at i: an entry further on in the run moves into it
       unless its home lies cyclically in (i, j], where a probe from its
       home would never pass the hole. */
    for (uint32_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        uint32_t k = home(s, s->slots[j]);
        bool stays = i < j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            s->vals[i] = s->vals[j];
            i = j;
        }
    }
    s->slots[i] = 0;
    s->vals[i] = NULL;
    s->count--;
    if (s->cap > PIDSET_MIN && 8 * s->count < s->cap)
        (void)resize(s, s->cap / 2);   /* if that fails, the bigger table stays */
    return val;
}

uint64_t *pidset_take(PidSet *s, uint32_t *cap)
{
    if (!s->cap) {
        *cap = 0;
        return NULL;
    }
    uint64_t *t = s->slots;
    *cap = s->cap;
    free(s->vals);
    *s = (PidSet){0};
    return t;
}

void pidset_free(PidSet *s)
{
    if (!s->cap)
        return;   /* nothing allocated: the common case on a process's exit path */
    free(s->slots);
    free(s->vals);
    *s = (PidSet){0};
}
