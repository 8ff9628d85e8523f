/*
 * The kernels of the self-loops (LW_SELF_OPS in translate.h; their
 * handlers are in interp.c): a fill loop run as plain C, out of line, so
 * that the pointer, the counter and the loop's invariants all live in
 * registers and an iteration makes only its own store.
 *
 * Fuel: each taken back-edge charges `paid` and then stops the loop if the
 * fuel is at or below zero, as the pair's handlers would.  Rather than test
 * the fuel on every iteration, the kernel counts down the back-edges that
 * leave it above zero, `room`, and charges them all when it leaves.
 */
#ifndef LW_SELF_LOOP_H
#define LW_SELF_LOOP_H

#include <stdint.h>
#include <string.h>
#include "interp/translate.h"

enum { SELF_DONE, SELF_OOB, SELF_FUEL };
typedef struct {
    uint64_t c;       /* the counter, then the pointer: their slots' new values */
    uint32_t p;
    int why;          /* SELF_DONE: the latch fell through; SELF_OOB: the next store traps */
    int64_t fuel;
} SelfOut;

/* How many taken back-edges, charged `paid` each, leave `fuel` above zero. */
static inline uint64_t self_room(int64_t fuel, uint32_t paid)
{
#ifdef LW_NO_FUEL
    (void)fuel, (void)paid;
    return UINT64_MAX;
#else
    if (fuel <= 0)
        return 0;
    return paid ? (uint64_t)(fuel - 1) / paid : UINT64_MAX;
#endif
}

/* `taken` back-edges were charged: the fuel they leave. */
static inline int64_t self_charge(int64_t fuel, uint64_t taken, uint32_t paid)
{
#ifdef LW_NO_FUEL
    (void)taken, (void)paid;
    return fuel;
#else
    return fuel - (int64_t)(taken * paid);
#endif
}

/*
 * Store v at p + off, p += stride, then STEP (the counter c moves), and go
 * round while c op rhs.  The bounds test compares p alone with a limit
 * worked out once.
 */
#define SELF_KERNEL(P, Q, VT, T, CT, op, STEP) \
static __attribute__((noinline)) SelfOut self_##P##__##Q( \
    uint8_t *mem, uint64_t msize, uint32_t p, T c, VT v, uint32_t stride, T add, T rhs, \
    uint64_t off, int64_t fuel, uint32_t paid) \
{ \
    (void)add; \
    uint64_t room = self_room(fuel, paid), left = room; \
    if (off + sizeof(VT) > msize) \
        return (SelfOut){ c, p, SELF_OOB, fuel }; \
    const uint64_t lim = msize - off - sizeof(VT); \
    uint8_t *base = mem + off; \
    for (;;) { \
        if (__builtin_expect(p > lim, 0)) \
            return (SelfOut){ c, p, SELF_OOB, self_charge(fuel, room - left, paid) }; \
        memcpy(base + p, &v, sizeof v); \
        p += stride; \
        STEP; \
        if (!((CT)c op (CT)rhs)) \
            return (SelfOut){ c, p, SELF_DONE, self_charge(fuel, room - left, paid) }; \
        if (__builtin_expect(__builtin_sub_overflow(left, 1, &left), 0))   /* left was 0 */ \
            return (SelfOut){ c, p, SELF_FUEL, self_charge(fuel, room + 1, paid) }; \
    } \
}
#define SELF_KERNEL_SLOT(P, VT, SK, Q, T, CT, op) SELF_KERNEL(P, Q, VT, T, CT, op, c = (T)(c + add))
#define SELF_KERNEL_IMM SELF_KERNEL_SLOT
#define SELF_KERNEL_NONE(P, VT, SK, Q, T, CT, op) SELF_KERNEL(P, Q, VT, T, CT, op, c = p)
#define X(P, VT, SK, Q, T, CT, op, AK, RK) SELF_KERNEL_##AK(P, VT, SK, Q, T, CT, op)
LW_SELF_OPS(X)
#undef X

#endif
