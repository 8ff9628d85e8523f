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

/*
 * A kernel saves every register it uses, and on x86-64 the interpreter
 * calls it by an asm that says so (SELF_CALL), so the one call site costs
 * the interpreter nothing around it.  An ordinary call there made GCC move
 * one of the interpreter's hot values (the frame pointer `fr`) from a
 * register to the stack, and fib ran 6% slower.  The attribute on the
 * function type alone did not stop that.  The kernels use only general
 * registers, as the attribute requires.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define SELF_KERNEL_DEF __attribute__((no_caller_saved_registers, target("general-regs-only")))
/*
 * interp_run makes calls, so it keeps nothing in the red zone the call's
 * return address lands in.  The attribute does not save the vector
 * registers, and the asm does not list them as clobbered (listing them
 * made GCC keep nbody's floats worse: 36% slower): a kernel never uses
 * them, being general-registers-only, and calls nothing (its stores are
 * inline).  Under ASan and TSan, whose instrumentation calls into their
 * runtimes, the kernels are ordinary functions called the ordinary way.
 */
#define SELF_CALL(fn, s) ({ \
        SelfLoop *a_ = (s); \
        int r_; \
        __asm__ volatile ("call *%[f]" : "=a"(r_), "+D"(a_) : [f] "r"(fn) \
                          : "memory", "cc"); \
        r_; \
    })
#else
#define SELF_KERNEL_DEF
#define SELF_CALL(fn, s) ((fn)(s))
#endif

/*
 * A self-loop's state, in and out.  The interpreter fills it and calls the
 * kernel from one shared place (a call in each of the many handlers made
 * GCC allocate the whole interpreter worse: nbody ran 36% slower).
 */
typedef struct SelfLoop SelfLoop;
struct SelfLoop {
    int (*run)(SelfLoop *s);  /* the kernel */
    uint8_t *mem;
    uint64_t msize, off;
    uint64_t v, add, rhs;     /* the value stored, the counter's step and bound */
    uint64_t c;               /* in and out: the counter */
    uint32_t p;               /* in and out: the pointer */
    uint32_t stride, paid;
    int64_t fuel;             /* in and out */
    /* the interpreter's, not the kernel's: the slots, the fall-through */
    uint32_t ps, cs, fall;
    const Cell *next;
};

/*
 * How many taken back-edges, charged `paid` each, leave `fuel` above zero;
 * and the fuel that `taken` of them leave.  (Macros: a kernel's target
 * options differ from the default, so GCC would not inline functions.)
 */
#ifdef LW_NO_FUEL
#define SELF_ROOM(fuel, paid) ((void)(paid), UINT64_MAX)
#define SELF_CHARGE(fuel, taken, paid) ((void)(taken), (void)(paid), (fuel))
#else
#define SELF_ROOM(fuel, paid) \
    ((fuel) <= 0 ? 0 : (paid) ? (uint64_t)((fuel) - 1) / (paid) : UINT64_MAX)
#define SELF_CHARGE(fuel, taken, paid) ((fuel) - (int64_t)((taken) * (paid)))
#endif

/*
 * Store v at p + off, p += stride, then STEP (the counter c moves), and go
 * round while c op rhs; returns why it stopped.  The bounds test compares
 * p alone with a limit worked out once.
 */
#define SELF_KERNEL(P, Q, VT, T, CT, op, STEP) \
static SELF_KERNEL_DEF int self_##P##__##Q(SelfLoop *s) \
{ \
    uint32_t p = s->p, stride = s->stride, paid = s->paid; \
    T c = (T)s->c; \
    const T add = (T)s->add, rhs = (T)s->rhs; \
    const VT v = (VT)s->v; \
    const int64_t fuel = s->fuel; \
    uint64_t room = SELF_ROOM(fuel, paid), left = room, taken; \
    (void)add; \
    int why; \
    if (s->off + sizeof(VT) > s->msize) { \
        taken = 0; \
        why = SELF_OOB; \
        goto out; \
    } \
    const uint64_t lim = s->msize - s->off - sizeof(VT); \
    uint8_t *base = s->mem + s->off; \
    for (;;) { \
        if (__builtin_expect(p > lim, 0)) { \
            taken = room - left; \
            why = SELF_OOB; \
            break; \
        } \
        memcpy(base + p, &v, sizeof v); \
        p += stride; \
        STEP; \
        if (!((CT)c op (CT)rhs)) { \
            taken = room - left; \
            why = SELF_DONE; \
            break; \
        } \
        if (__builtin_expect(__builtin_sub_overflow(left, 1, &left), 0)) {   /* left was 0 */ \
            taken = room + 1; \
            why = SELF_FUEL; \
            break; \
        } \
    } \
out: \
    s->p = p; \
    s->c = c; \
    s->fuel = SELF_CHARGE(fuel, taken, paid); \
    return why; \
}
#define SELF_KERNEL_SLOT(P, VT, SK, Q, T, CT, op) SELF_KERNEL(P, Q, VT, T, CT, op, c = (T)(c + add))
#define SELF_KERNEL_IMM SELF_KERNEL_SLOT
#define SELF_KERNEL_NONE(P, VT, SK, Q, T, CT, op) SELF_KERNEL(P, Q, VT, T, CT, op, c = p)
#define X(P, VT, SK, Q, T, CT, op, AK, RK) SELF_KERNEL_##AK(P, VT, SK, Q, T, CT, op)
LW_SELF_OPS(X)
#undef X

#endif
