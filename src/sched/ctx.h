/*
 * Context switching for leonardo's processes.
 *
 * Coroutines: each runs on its own small stack until it switches to
 * another (a worker runs processes on one, src/sched/worker.c).  A
 * suspended context is nothing but a stack pointer: lw_ctx_swap pushes the
 * callee-saved registers onto the stack it is leaving, stores the stack
 * pointer in *from, loads the one in *to and pops that stack's registers.
 * The frame layouts and the reasons for each saved register are in
 * ctx_x86_64.S and ctx_aarch64.S; src/sched/README.md has the overview.
 *
 * Only callee-saved state is saved.  lw_ctx_swap is an ordinary call, so
 * the compiler already keeps every caller-saved register it still needs in
 * memory (or in a callee-saved register) across it: saving those again
 * would only cost time.
 *
 * Typical use, from the scheduler's side:
 *
 *     lw_ctx sched, proc;
 *     lw_ctx_init(&proc, stack, size, body, arg);
 *     lw_ctx_switch(&sched, &proc);    // runs body until it switches back
 *
 * and inside body, lw_ctx_switch(&proc, &sched) to yield, or
 * lw_ctx_exit(&proc, &sched) to end.
 *
 * Under AddressSanitizer and ThreadSanitizer the switch also tells the
 * sanitizer that the stack changed (see the end of this file); lw_ctx then
 * carries a few more fields, which only the C wrappers below use.
 */
#ifndef LW_SCHED_CTX_H
#define LW_SCHED_CTX_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define LW_CTX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LW_CTX_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define LW_CTX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LW_CTX_TSAN 1
#endif
#endif

#ifdef LW_CTX_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef LW_CTX_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* A suspended context: its saved registers sit on its own stack, at sp. */
typedef struct lw_ctx {
    void *sp;                   /* must stay first: the assembly uses offset 0 */
#ifdef LW_CTX_ASAN
    const void *asan_stack;     /* this context's stack, for ASan */
    size_t asan_size;
#endif
#ifdef LW_CTX_TSAN
    void *tsan_fiber;           /* TSan's record of this context */
#endif
} lw_ctx;

/*
 * The two primitives, in assembly (ctx_<arch>.S).
 *
 * lw_ctx_swap saves the current context into *from, resumes *to, and
 * returns when something switches back to *from.  It returns the `from`
 * of that later switch: the context that resumed this one.
 *
 * lw_ctx_make sets *c up so that the first switch to it calls fn(arg) on
 * the stack [stack, stack + size), with the floating-point control state
 * at the ABI's defaults (round to nearest, exceptions masked).  The entry
 * trampoline passes, as a second argument, the lw_ctx that first switched
 * to it (only the sanitizer entry below uses that).  fn must never return:
 * if it does, the trampoline traps (ud2 / brk).
 */
lw_ctx *lw_ctx_swap(lw_ctx *from, lw_ctx *to);
_Noreturn void lw_ctx_jump(lw_ctx *from, lw_ctx *to);
void lw_ctx_make(lw_ctx *c, void *stack, size_t size, void (*fn)(void *), void *arg);

#if !defined(LW_CTX_ASAN) && !defined(LW_CTX_TSAN)

/* Save the current context into *from and resume *to.  Returns when
 * something switches back to *from. */
static inline void lw_ctx_switch(lw_ctx *from, lw_ctx *to)
{
    lw_ctx_swap(from, to);
}

/* Make *c start fn(arg) on the stack [stack, stack + size) when first
 * switched to.  fn must never return: it ends with lw_ctx_exit (or a last
 * lw_ctx_switch that nothing ever answers).  The stack needs no particular
 * alignment; the top is rounded down to 16 bytes. */
static inline void lw_ctx_init(lw_ctx *c, void *stack, size_t size,
                               void (*fn)(void *), void *arg)
{
    lw_ctx_make(c, stack, size, fn, arg);
}

/* Switch from *from to *to for good: the current context is finished. */
static inline _Noreturn void lw_ctx_exit(lw_ctx *from, lw_ctx *to)
{
    lw_ctx_jump(from, to);
}

/* Forget *c (made by lw_ctx_init, and never to run again) before its stack
 * is reused.  Only the sanitizer builds have anything to free. */
static inline void lw_ctx_release(lw_ctx *c)
{
    (void)c;
}

#else /* sanitizer builds */

/*
 * ASan keeps a record of "the current stack" per thread, and TSan a shadow
 * call stack per thread.  Switching stacks behind their backs leads to
 * false reports (ASan) or a shadow stack that only grows (TSan), so here
 * each switch is announced:
 *
 * - ASan: __sanitizer_start_switch_fiber(&fake, bottom, size) names the
 *   stack being switched to; the context that then runs calls
 *   __sanitizer_finish_switch_fiber, which reports the stack it came from.
 *   That report is how a context never made by lw_ctx_init (the
 *   scheduler's own, on the thread's stack) learns its bounds: lw_ctx_swap
 *   returns the context that switched here, and the bounds go into it.  A
 *   new context's first finish call happens in lw_ctx_asan_entry, which
 *   lw_ctx_init puts in front of fn.  lw_ctx_init also unpoisons the whole
 *   stack: a stack reused from a pool still carries the redzones of the
 *   frames its last process abandoned when it ended.
 * - TSan: each context made by lw_ctx_init is a TSan fiber; the others
 *   are whatever fiber was current when they switched away.
 */

#ifdef LW_CTX_ASAN
/* What a new context calls first, stored at the top of its stack. */
struct lw_ctx_asan_start {
    void (*fn)(void *);
    void *arg;
};

static inline void lw_ctx_asan_entry(void *start, lw_ctx *prev)
{
    struct lw_ctx_asan_start s = *(struct lw_ctx_asan_start *)start;
    __sanitizer_finish_switch_fiber(NULL, &prev->asan_stack, &prev->asan_size);
    s.fn(s.arg);
    __builtin_trap();
}
#endif

static inline void lw_ctx_switch(lw_ctx *from, lw_ctx *to)
{
#ifdef LW_CTX_TSAN
    from->tsan_fiber = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#ifdef LW_CTX_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, to->asan_stack, to->asan_size);
    lw_ctx *prev = lw_ctx_swap(from, to);
    __sanitizer_finish_switch_fiber(fake, &prev->asan_stack, &prev->asan_size);
#else
    lw_ctx_swap(from, to);
#endif
}

static inline void lw_ctx_init(lw_ctx *c, void *stack, size_t size,
                               void (*fn)(void *), void *arg)
{
#ifdef LW_CTX_TSAN
    c->tsan_fiber = __tsan_create_fiber(0);
#endif
#ifdef LW_CTX_ASAN
    __asan_unpoison_memory_region(stack, size);
    c->asan_stack = stack;
    c->asan_size = size;
    uintptr_t top = ((uintptr_t)stack + size - sizeof(struct lw_ctx_asan_start)) & ~(uintptr_t)15;
    struct lw_ctx_asan_start *s = (struct lw_ctx_asan_start *)top;
    s->fn = fn;
    s->arg = arg;
    /* The trampoline calls the entry with a second argument; the cast
     * through void (*)(void) says the mismatch is meant. */
    lw_ctx_make(c, stack, top - (uintptr_t)stack,
                (void (*)(void *))(void (*)(void))lw_ctx_asan_entry, s);
#else
    lw_ctx_make(c, stack, size, fn, arg);
#endif
}

static inline _Noreturn void lw_ctx_exit(lw_ctx *from, lw_ctx *to)
{
#ifdef LW_CTX_TSAN
    from->tsan_fiber = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
#ifdef LW_CTX_ASAN
    /* NULL: this stack is done, so ASan may drop its fake stack. */
    __sanitizer_start_switch_fiber(NULL, to->asan_stack, to->asan_size);
#endif
    lw_ctx_swap(from, to);
    __builtin_trap();
}

static inline void lw_ctx_release(lw_ctx *c)
{
#ifdef LW_CTX_TSAN
    __tsan_destroy_fiber(c->tsan_fiber);
    c->tsan_fiber = NULL;
#else
    (void)c;
#endif
}

#endif /* sanitizer builds */

#endif
