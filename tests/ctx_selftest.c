/*
 * Tests of the context switch (src/sched/ctx.h) as a plain C program, so
 * that it can be cross-built and run where the check library is not
 * installed (`make check-aarch64` runs it under qemu-aarch64).
 *
 * Each test is a function that returns NULL on success or a message saying
 * what went wrong.  main() runs them all.  tests/test_ctx.c includes this
 * file with LW_CTX_SELFTEST_NO_MAIN defined and runs the same functions as
 * check tests, so the native and the cross-built runs test the same things.
 *
 * A coroutine cannot simply return a failure (its function never returns),
 * so a failing coroutine stores its message and switches back for good.
 */
#include <fenv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/ctx.h"

#define FAIL_IF(cond, ...) do { \
        if (cond) { \
            static char msg_[256]; \
            snprintf(msg_, sizeof msg_, __VA_ARGS__); \
            return msg_; \
        } \
    } while (0)

static void *stack_new(size_t size)
{
    void *p = aligned_alloc(16, size);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- ping-pong: two coroutines pass values back and forth ---- */

enum { PP_ROUNDS = 200000 };

static struct {
    lw_ctx main, a, b;
    uint64_t msg;
    long b_rounds;
    const char *err;
} pp;

/* A sends i, B answers 2i+1; each checks what it receives. */
static void pp_a(void *arg)
{
    (void)arg;
    for (long i = 0; i < PP_ROUNDS; i++) {
        pp.msg = (uint64_t)i;
        lw_ctx_switch(&pp.a, &pp.b);
        if (pp.msg != 2 * (uint64_t)i + 1) {
            pp.err = "A received a wrong answer";
            break;
        }
    }
    lw_ctx_exit(&pp.a, &pp.main);
}

static void pp_b(void *arg)
{
    (void)arg;
    for (uint64_t expect = 0;; expect++) {
        if (pp.msg != expect) {
            pp.err = "B received a wrong value";
            lw_ctx_exit(&pp.b, &pp.main);
        }
        pp.msg = 2 * pp.msg + 1;
        pp.b_rounds++;
        lw_ctx_switch(&pp.b, &pp.a);
    }
}

static const char *test_ping_pong(void)
{
    void *sa = stack_new(64 << 10), *sb = stack_new(64 << 10);
    memset(&pp, 0, sizeof pp);
    lw_ctx_init(&pp.a, sa, 64 << 10, pp_a, NULL);
    lw_ctx_init(&pp.b, sb, 64 << 10, pp_b, NULL);
    lw_ctx_switch(&pp.main, &pp.a);     /* back when A ends (or a check fails) */
    lw_ctx_release(&pp.a);
    lw_ctx_release(&pp.b);
    free(sa);
    free(sb);
    FAIL_IF(pp.err, "%s", pp.err);
    FAIL_IF(pp.b_rounds != PP_ROUNDS, "B ran %ld rounds, expected %d", pp.b_rounds, PP_ROUNDS);
    return NULL;
}

/* ---- a generator resumes exactly where it was ---- */

static struct {
    lw_ctx main, gen;
    int i, j, done;
} gn;

static void generator(void *arg)
{
    int limit = *(int *)arg;
    for (int i = 0; i < limit; i++)
        for (int j = 0; j <= i; j++) {
            gn.i = i;
            gn.j = j;
            lw_ctx_switch(&gn.gen, &gn.main);
        }
    gn.done = 1;
    lw_ctx_exit(&gn.gen, &gn.main);
}

static const char *test_generator(void)
{
    int limit = 300;
    void *s = stack_new(32 << 10);
    memset(&gn, 0, sizeof gn);
    lw_ctx_init(&gn.gen, s, 32 << 10, generator, &limit);
    for (int i = 0; i < limit; i++)
        for (int j = 0; j <= i; j++) {
            lw_ctx_switch(&gn.main, &gn.gen);
            FAIL_IF(gn.done || gn.i != i || gn.j != j,
                    "generator yielded (%d,%d) done=%d, expected (%d,%d)", gn.i, gn.j, gn.done, i, j);
        }
    lw_ctx_switch(&gn.main, &gn.gen);
    FAIL_IF(!gn.done, "generator did not finish");
    lw_ctx_release(&gn.gen);
    free(s);
    return NULL;
}

/* ---- round robin: the main context schedules several coroutines ---- */

enum { RR_N = 8, RR_ROUNDS = 5000 };

static struct {
    lw_ctx main, co[RR_N];
    int turn;           /* which coroutine main resumed */
    long count[RR_N];
    const char *err;
} rr;

static void rr_body(void *arg)
{
    int me = (int)(intptr_t)arg;
    long mine = 0;      /* lives on this coroutine's stack, or in a register */
    for (;;) {
        if (rr.turn != me)
            rr.err = "a coroutine ran when another one was resumed";
        mine++;
        rr.count[me] = mine;
        lw_ctx_switch(&rr.co[me], &rr.main);
    }
}

static const char *test_round_robin(void)
{
    void *stacks[RR_N];
    memset(&rr, 0, sizeof rr);
    for (int k = 0; k < RR_N; k++) {
        stacks[k] = stack_new(16 << 10);
        lw_ctx_init(&rr.co[k], stacks[k], 16 << 10, rr_body, (void *)(intptr_t)k);
    }
    for (int r = 0; r < RR_ROUNDS; r++)
        for (int k = 0; k < RR_N; k++) {
            rr.turn = k;
            lw_ctx_switch(&rr.main, &rr.co[k]);
            FAIL_IF(rr.err, "%s", rr.err);
            FAIL_IF(rr.count[k] != r + 1, "coroutine %d counted %ld, expected %d", k, rr.count[k], r + 1);
        }
    for (int k = 0; k < RR_N; k++) {
        lw_ctx_release(&rr.co[k]);
        free(stacks[k]);
    }
    return NULL;
}

/* ---- live values across a switch, at -O2 ----
 *
 * mix() keeps 16 integers and 8 doubles live across a call through a
 * function pointer, which the compiler cannot see into: it must keep them
 * in callee-saved registers or in its stack frame.  Called with a callback
 * that switches away (while the other side computes with different values
 * in the same registers) it must give the same result as with a callback
 * that does nothing. */

static __attribute__((noinline)) uint64_t mix(uint64_t seed, void (*between)(void *), void *arg)
{
    uint64_t v[16];
    double d[8];
    for (int k = 0; k < 16; k++)
        v[k] = (seed + (uint64_t)k) * 0x9e3779b97f4a7c15ull ^ (seed >> k);
    for (int k = 0; k < 8; k++)
        d[k] = (double)(seed % 1000) * 0.5 + k;
    uint64_t a0 = v[0], a1 = v[1], a2 = v[2], a3 = v[3], a4 = v[4], a5 = v[5], a6 = v[6], a7 = v[7];
    uint64_t a8 = v[8], a9 = v[9], a10 = v[10], a11 = v[11], a12 = v[12], a13 = v[13], a14 = v[14], a15 = v[15];
    double d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3], d4 = d[4], d5 = d[5], d6 = d[6], d7 = d[7];
    between(arg);
    uint64_t h = a0 ^ (a1 << 1) ^ (a2 << 2) ^ (a3 << 3) ^ (a4 << 4) ^ (a5 << 5) ^ (a6 << 6) ^ (a7 << 7);
    h += a8 * 3 + a9 * 5 + a10 * 7 + a11 * 11 + a12 * 13 + a13 * 17 + a14 * 19 + a15 * 23;
    double s = d0 * 1 + d1 * 2 + d2 * 3 + d3 * 4 + d4 * 5 + d5 * 6 + d6 * 7 + d7 * 8;
    return h ^ (uint64_t)s;
}

static void nothing(void *arg)
{
    (void)arg;
}

static struct {
    lw_ctx main, co;
    uint64_t got;
} lv;

static void to_main(void *arg)
{
    (void)arg;
    lw_ctx_switch(&lv.co, &lv.main);
}

static void lv_body(void *arg)
{
    for (uint64_t seed = (uint64_t)(uintptr_t)arg;; seed++)
        lv.got = mix(seed, to_main, NULL);
}

static const char *test_live_values(void)
{
    void *s = stack_new(32 << 10);
    lw_ctx_init(&lv.co, s, 32 << 10, lv_body, (void *)(uintptr_t)1000);
    lw_ctx_switch(&lv.main, &lv.co);                 /* to the middle of mix(1000) */
    for (uint64_t seed = 1000; seed < 3000; seed++) {
        /* compute with other values while the coroutine waits mid-mix */
        uint64_t mine = mix(seed * 7, nothing, NULL);
        lw_ctx_switch(&lv.main, &lv.co);             /* it finishes mix(seed), starts the next */
        FAIL_IF(lv.got != mix(seed, nothing, NULL), "mix(%llu) came back wrong across a switch",
                (unsigned long long)seed);
        FAIL_IF(mine != mix(seed * 7, nothing, NULL), "main's own value changed");
    }
    lw_ctx_release(&lv.co);
    free(s);
    return NULL;
}

/* ---- callee-saved registers, explicitly ----
 *
 * regs_call(fn, arg, seed) (assembly, below) loads every callee-saved
 * register with seed + 1, seed + 2, ..., calls fn(arg), and returns a bit
 * mask of the registers that did not come back with their value.  Two
 * coroutines run it with different seeds and fn switching to the other: if
 * the switch lost a register, one of them would see the other's value. */

uint64_t lw_test_regs_call(void (*fn)(void *), void *arg, uint64_t seed);

#if defined(__x86_64__)
/* Bits: rbx rbp r12 r13 r14 r15. */
__asm__(
    "   .text\n"
    "   .globl lw_test_regs_call\n"
    "   .type lw_test_regs_call, @function\n"
    "lw_test_regs_call:\n"
    "   pushq %rbp\n"
    "   pushq %rbx\n"
    "   pushq %r12\n"
    "   pushq %r13\n"
    "   pushq %r14\n"
    "   pushq %r15\n"
    "   subq $8, %rsp\n"            /* 16-byte aligned for the call; seed saved here */
    "   movq %rdx, (%rsp)\n"
    "   movq %rdi, %rax\n"
    "   movq %rsi, %rdi\n"
    "   leaq 1(%rdx), %rbx\n"
    "   leaq 2(%rdx), %rbp\n"
    "   leaq 3(%rdx), %r12\n"
    "   leaq 4(%rdx), %r13\n"
    "   leaq 5(%rdx), %r14\n"
    "   leaq 6(%rdx), %r15\n"
    "   call *%rax\n"
    "   movq (%rsp), %rdx\n"
    "   xorl %eax, %eax\n"
    "   leaq 1(%rdx), %rcx\n  cmpq %rcx, %rbx\n  je 1f\n  orl $1, %eax\n1:\n"
    "   leaq 2(%rdx), %rcx\n  cmpq %rcx, %rbp\n  je 1f\n  orl $2, %eax\n1:\n"
    "   leaq 3(%rdx), %rcx\n  cmpq %rcx, %r12\n  je 1f\n  orl $4, %eax\n1:\n"
    "   leaq 4(%rdx), %rcx\n  cmpq %rcx, %r13\n  je 1f\n  orl $8, %eax\n1:\n"
    "   leaq 5(%rdx), %rcx\n  cmpq %rcx, %r14\n  je 1f\n  orl $16, %eax\n1:\n"
    "   leaq 6(%rdx), %rcx\n  cmpq %rcx, %r15\n  je 1f\n  orl $32, %eax\n1:\n"
    "   addq $8, %rsp\n"
    "   popq %r15\n"
    "   popq %r14\n"
    "   popq %r13\n"
    "   popq %r12\n"
    "   popq %rbx\n"
    "   popq %rbp\n"
    "   ret\n"
    "   .size lw_test_regs_call, .-lw_test_regs_call\n");
#elif defined(__aarch64__)
/* Bits 0-10: x19-x29; bits 11-18: d8-d15. */
#define LW_CHECK_X(r, k) \
    "   add x10, x2, #" #k "\n  cmp " #r ", x10\n  b.eq 1f\n  orr x0, x0, #(1 << (" #k " - 1))\n1:\n"
#define LW_CHECK_D(r, k) \
    "   add x10, x2, #" #k "\n  fmov x11, " #r "\n  cmp x11, x10\n  b.eq 1f\n  orr x0, x0, #(1 << (" #k " - 1))\n1:\n"
#define LW_LOAD_D(r, k) "   add x10, x2, #" #k "\n  fmov " #r ", x10\n"
__asm__(
    "   .text\n"
    "   .globl lw_test_regs_call\n"
    "   .type lw_test_regs_call, %function\n"
    "lw_test_regs_call:\n"
    "   stp x29, x30, [sp, #-176]!\n"
    "   stp x19, x20, [sp, #16]\n"
    "   stp x21, x22, [sp, #32]\n"
    "   stp x23, x24, [sp, #48]\n"
    "   stp x25, x26, [sp, #64]\n"
    "   stp x27, x28, [sp, #80]\n"
    "   stp d8, d9, [sp, #96]\n"
    "   stp d10, d11, [sp, #112]\n"
    "   stp d12, d13, [sp, #128]\n"
    "   stp d14, d15, [sp, #144]\n"
    "   str x2, [sp, #160]\n"
    "   mov x9, x0\n"
    "   mov x0, x1\n"
    "   add x19, x2, #1\n  add x20, x2, #2\n  add x21, x2, #3\n  add x22, x2, #4\n"
    "   add x23, x2, #5\n  add x24, x2, #6\n  add x25, x2, #7\n  add x26, x2, #8\n"
    "   add x27, x2, #9\n  add x28, x2, #10\n  add x29, x2, #11\n"
    LW_LOAD_D(d8, 12) LW_LOAD_D(d9, 13) LW_LOAD_D(d10, 14) LW_LOAD_D(d11, 15)
    LW_LOAD_D(d12, 16) LW_LOAD_D(d13, 17) LW_LOAD_D(d14, 18) LW_LOAD_D(d15, 19)
    "   blr x9\n"
    "   ldr x2, [sp, #160]\n"
    "   mov x0, #0\n"
    LW_CHECK_X(x19, 1) LW_CHECK_X(x20, 2) LW_CHECK_X(x21, 3) LW_CHECK_X(x22, 4)
    LW_CHECK_X(x23, 5) LW_CHECK_X(x24, 6) LW_CHECK_X(x25, 7) LW_CHECK_X(x26, 8)
    LW_CHECK_X(x27, 9) LW_CHECK_X(x28, 10) LW_CHECK_X(x29, 11)
    LW_CHECK_D(d8, 12) LW_CHECK_D(d9, 13) LW_CHECK_D(d10, 14) LW_CHECK_D(d11, 15)
    LW_CHECK_D(d12, 16) LW_CHECK_D(d13, 17) LW_CHECK_D(d14, 18) LW_CHECK_D(d15, 19)
    "   ldp x19, x20, [sp, #16]\n"
    "   ldp x21, x22, [sp, #32]\n"
    "   ldp x23, x24, [sp, #48]\n"
    "   ldp x25, x26, [sp, #64]\n"
    "   ldp x27, x28, [sp, #80]\n"
    "   ldp d8, d9, [sp, #96]\n"
    "   ldp d10, d11, [sp, #112]\n"
    "   ldp d12, d13, [sp, #128]\n"
    "   ldp d14, d15, [sp, #144]\n"
    "   ldp x29, x30, [sp], #176\n"
    "   ret\n"
    "   .size lw_test_regs_call, .-lw_test_regs_call\n");
#else
#error "no context switch for this architecture"
#endif

static struct {
    lw_ctx main, a, b;
    uint64_t bad_a, bad_b;
    int rounds_a, rounds_b;
} rg;

static void rg_switch_to_b(void *arg) { (void)arg; lw_ctx_switch(&rg.a, &rg.b); }
static void rg_switch_to_a(void *arg) { (void)arg; lw_ctx_switch(&rg.b, &rg.a); }
static void rg_main_to_a(void *arg) { (void)arg; lw_ctx_switch(&rg.main, &rg.a); }

enum { RG_ROUNDS = 1000 };

static void rg_a(void *arg)
{
    (void)arg;
    for (rg.rounds_a = 0; rg.rounds_a < RG_ROUNDS; rg.rounds_a++)
        rg.bad_a |= lw_test_regs_call(rg_switch_to_b, NULL, 0x1111000000000000ull + (uint64_t)rg.rounds_a * 64);
    lw_ctx_exit(&rg.a, &rg.main);
}

static void rg_b(void *arg)
{
    (void)arg;
    for (;; rg.rounds_b++)
        rg.bad_b |= lw_test_regs_call(rg_switch_to_a, NULL, 0x2222000000000000ull + (uint64_t)rg.rounds_b * 64);
}

static const char *test_callee_saved(void)
{
    void *sa = stack_new(32 << 10), *sb = stack_new(32 << 10);
    memset(&rg, 0, sizeof rg);
    lw_ctx_init(&rg.a, sa, 32 << 10, rg_a, NULL);
    lw_ctx_init(&rg.b, sb, 32 << 10, rg_b, NULL);
    /* The helper itself, with no switch, must come back clean. */
    uint64_t bad_main = lw_test_regs_call(nothing, NULL, 0x3333000000000000ull);
    /* main's own registers go through the same test: its switch into A
     * comes back only when A has ended. */
    bad_main |= lw_test_regs_call(rg_main_to_a, NULL, 0x4444000000000000ull);
    lw_ctx_release(&rg.a);
    lw_ctx_release(&rg.b);
    free(sa);
    free(sb);
    /* B's last call never returns: A ended while B waited in it. */
    FAIL_IF(rg.rounds_a != RG_ROUNDS || rg.rounds_b != RG_ROUNDS - 1,
            "rounds: A %d, B %d, expected %d and %d", rg.rounds_a, rg.rounds_b, RG_ROUNDS, RG_ROUNDS - 1);
    FAIL_IF(rg.bad_a || rg.bad_b || bad_main,
            "registers changed across a switch (bit masks: A %#llx, B %#llx, main %#llx)",
            (unsigned long long)rg.bad_a, (unsigned long long)rg.bad_b, (unsigned long long)bad_main);
    return NULL;
}

/* ---- the rounding mode belongs to each context ----
 *
 * fesetround changes MXCSR and the x87 control word on x86-64 and FPCR on
 * AArch64: all saved per context.  The divisions use volatile operands so
 * the compiler cannot fold them at one rounding mode. */

static volatile double one = 1.0, three = 3.0;

/* 1/3 rounded down is below 1/3 rounded up: which of the two we get tells
 * the rounding mode the hardware really used.  Not inlined, so that the
 * compiler cannot move the division across a fesetround call (C lets it,
 * without FENV_ACCESS, which GCC does not support). */
static __attribute__((noinline)) double third(void)
{
    return one / three;
}

#if defined(__x86_64__)
static unsigned mxcsr_rounding(void)
{
    unsigned m;
    __asm__ volatile("stmxcsr %0" : "=m"(m));
    return (m >> 13) & 3;       /* 0 nearest, 1 down, 2 up, 3 toward zero */
}
#endif

static struct {
    lw_ctx main, co;
    int co_mode_first, co_mode_later;
    double co_third;
} rd;

static void rd_body(void *arg)
{
    (void)arg;
    rd.co_mode_first = fegetround();   /* a new context starts at the default */
    fesetround(FE_DOWNWARD);
    lw_ctx_switch(&rd.co, &rd.main);
    rd.co_mode_later = fegetround();   /* still downward, whatever main did */
    rd.co_third = third();
#if defined(__x86_64__)
    if (mxcsr_rounding() != 1)
        rd.co_mode_later = -1;
#endif
    lw_ctx_exit(&rd.co, &rd.main);
}

static const char *test_rounding_mode(void)
{
    void *s = stack_new(32 << 10);
    double near = third();
    fesetround(FE_UPWARD);
    double up = third();
    fesetround(FE_DOWNWARD);
    double down = third();
    FAIL_IF(!(down < up), "this machine ignores fesetround");

    memset(&rd, 0, sizeof rd);
    fesetround(FE_UPWARD);
    lw_ctx_init(&rd.co, s, 32 << 10, rd_body, NULL);
    lw_ctx_switch(&rd.main, &rd.co);
    int main_mode = fegetround();
    double main_third = third();
#if defined(__x86_64__)
    unsigned main_mxcsr = mxcsr_rounding();
#endif
    lw_ctx_switch(&rd.main, &rd.co);
    int main_mode_end = fegetround();
    fesetround(FE_TONEAREST);
    lw_ctx_release(&rd.co);
    free(s);

    FAIL_IF(rd.co_mode_first != FE_TONEAREST, "a new context did not start rounding to nearest");
    FAIL_IF(main_mode != FE_UPWARD || main_third != up, "the coroutine's rounding mode leaked into main");
#if defined(__x86_64__)
    FAIL_IF(main_mxcsr != 2, "MXCSR rounding in main is %u, expected 2 (up)", main_mxcsr);
#endif
    FAIL_IF(rd.co_mode_later != FE_DOWNWARD || rd.co_third != down,
            "main's rounding mode leaked into the coroutine");
    FAIL_IF(main_mode_end != FE_UPWARD, "main's rounding mode was lost");
    FAIL_IF(near != third(), "rounding to nearest was not restored");
    return NULL;
}

/* ---- deep recursion on a small stack ----
 *
 * 64 KiB of stack; the recursion uses about half of it.  The coroutine
 * also checks that its frames really are on its own stack. */

enum { DEEP_STACK = 64 << 10, DEEP_DEPTH = 100 };

static struct {
    lw_ctx main, co;
    char *stack;
    uintptr_t lowest;
    uint64_t sum;
    int yields;
} dp;

/* Not instrumented by ASan: with detect_stack_use_after_return, ASan would
 * move buf to a "fake stack" on the heap, and the test wants it on the
 * coroutine's stack. */
static __attribute__((noinline, no_sanitize_address)) uint64_t recurse(int depth)
{
    enum { BUF = 256 };
    volatile unsigned char buf[BUF];   /* about 300 bytes a frame */
    for (size_t k = 0; k < BUF; k++)
        buf[k] = (unsigned char)(depth + k);
    if ((uintptr_t)buf < dp.lowest)
        dp.lowest = (uintptr_t)buf;
    uint64_t below = 0;
    if (depth > 0)
        below = recurse(depth - 1);
    else {
        /* switch away at the deepest point and come back */
        dp.yields++;
        lw_ctx_switch(&dp.co, &dp.main);
    }
    uint64_t here = 0;
    for (size_t k = 0; k < BUF; k++)
        here += buf[k];
    return below + here;
}

static void dp_body(void *arg)
{
    (void)arg;
    dp.sum = recurse(DEEP_DEPTH);
    lw_ctx_exit(&dp.co, &dp.main);
}

static const char *test_deep_recursion(void)
{
    memset(&dp, 0, sizeof dp);
    dp.stack = stack_new(DEEP_STACK);
    dp.lowest = UINTPTR_MAX;
    lw_ctx_init(&dp.co, dp.stack, DEEP_STACK, dp_body, NULL);
    lw_ctx_switch(&dp.main, &dp.co);
    /* clobber main's own stack a little while the coroutine sleeps deep */
    volatile char scratch[4096];
    memset((char *)scratch, 0x5a, sizeof scratch);
    lw_ctx_switch(&dp.main, &dp.co);
    lw_ctx_release(&dp.co);

    uint64_t expect = 0;
    for (int depth = 0; depth <= DEEP_DEPTH; depth++)
        for (int k = 0; k < 256; k++)
            expect += (unsigned char)(depth + k);
    uintptr_t base = (uintptr_t)dp.stack, used = base + DEEP_STACK - dp.lowest;
    int on_stack = dp.lowest >= base && dp.lowest < base + DEEP_STACK;
    free(dp.stack);
    FAIL_IF(dp.yields != 1, "recursion bottomed out %d times", dp.yields);
    FAIL_IF(dp.sum != expect, "sum %llu, expected %llu", (unsigned long long)dp.sum,
            (unsigned long long)expect);
    FAIL_IF(!on_stack, "the coroutine's frames are not on its stack");
    FAIL_IF(used < 25600, "the recursion used only %lu bytes of stack", (unsigned long)used);
    return NULL;
}

/* ---- ending, and reusing the stack ----
 *
 * A coroutine that ends switches away for good; its stack can then be
 * made into a new context at once.  The stack here is deliberately
 * misaligned: lw_ctx_init rounds the top down to 16 bytes, and the new
 * function must still find its stack 16-byte aligned, as the ABI says. */

uintptr_t lw_test_caller_sp(void);

#if defined(__x86_64__)
/* The caller's stack pointer just before its call instruction. */
__asm__(
    "   .text\n"
    "   .globl lw_test_caller_sp\n"
    "   .type lw_test_caller_sp, @function\n"
    "lw_test_caller_sp:\n"
    "   leaq 8(%rsp), %rax\n"
    "   ret\n"
    "   .size lw_test_caller_sp, .-lw_test_caller_sp\n");
#elif defined(__aarch64__)
__asm__(
    "   .text\n"
    "   .globl lw_test_caller_sp\n"
    "   .type lw_test_caller_sp, %function\n"
    "lw_test_caller_sp:\n"
    "   mov x0, sp\n"
    "   ret\n"
    "   .size lw_test_caller_sp, .-lw_test_caller_sp\n");
#endif

static struct {
    lw_ctx main, co;
    int ran;
    uintptr_t sp;
    void *arg;
} en;

static void en_body(void *arg)
{
    en.sp = lw_test_caller_sp();
    en.arg = arg;
    en.ran++;
    lw_ctx_exit(&en.co, &en.main);
}

static const char *test_end_and_reuse(void)
{
    enum { SIZE = 16 << 10 };
    char *mem = stack_new(SIZE + 64);
    memset(&en, 0, sizeof en);
    for (int k = 0; k < 100; k++) {
        /* a different misalignment of base and size each time */
        char *stack = mem + (k % 16);
        size_t size = SIZE - (size_t)(k % 13);
        lw_ctx_init(&en.co, stack, size, en_body, stack + 1);
        lw_ctx_switch(&en.main, &en.co);
        lw_ctx_release(&en.co);
        FAIL_IF(en.ran != k + 1, "run %d: the coroutine ran %d times in all", k, en.ran);
        FAIL_IF(en.arg != stack + 1, "run %d: the wrong argument", k);
        FAIL_IF(en.sp % 16 != 0, "run %d: sp %% 16 = %lu at a call in the new function", k,
                (unsigned long)(en.sp % 16));
        FAIL_IF(en.sp <= (uintptr_t)stack || en.sp >= (uintptr_t)stack + size,
                "run %d: the new function does not run on its stack", k);
    }
    free(mem);
    return NULL;
}

#ifndef LW_CTX_SELFTEST_NO_MAIN
/* ctx_selftest [NAME...]: all the tests, or the ones named. */
int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        const char *(*run)(void);
    } tests[] = {
        {"ping_pong", test_ping_pong},
        {"generator", test_generator},
        {"round_robin", test_round_robin},
        {"live_values", test_live_values},
        {"callee_saved", test_callee_saved},
        {"rounding_mode", test_rounding_mode},
        {"deep_recursion", test_deep_recursion},
        {"end_and_reuse", test_end_and_reuse},
    };
    int failed = 0, ran = 0, n = (int)(sizeof tests / sizeof tests[0]);
    for (int k = 0; k < n; k++) {
        int wanted = argc == 1;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], tests[k].name) == 0;
        if (!wanted)
            continue;
        ran++;
        printf("%-16s ", tests[k].name);
        fflush(stdout);                 /* the name shows even if the test crashes */
        const char *err = tests[k].run();
        printf("%s%s\n", err ? "FAIL: " : "ok", err ? err : "");
        failed += err != NULL;
    }
    printf("ctx_selftest: %d passed, %d failed\n", ran - failed, failed);
    return failed != 0 || ran == 0;
}
#endif
