/*
 * Context switch for x86-64, System V ABI (see ctx.h for the interface).
 *
 * A suspended context is its stack pointer.  Just below it, on its own
 * stack, lie the registers the ABI says a function must preserve, pushed
 * by lw_ctx_swap when the context switched away:
 *
 *     sp + 56   return address: where lw_ctx_swap returns to when resumed
 *     sp + 48   rbp
 *     sp + 40   rbx
 *     sp + 32   r12
 *     sp + 24   r13
 *     sp + 16   r14
 *     sp +  8   r15
 *     sp +  4   x87 control word (2 bytes, then 2 bytes unused)
 *     sp +  0   MXCSR (4 bytes)
 *
 * Why exactly these: the ABI makes rbx, rbp and r12-r15 callee-saved, so
 * the code that called lw_ctx_swap may keep live values in them and expects
 * them back; every other general register is dead across a call.  The
 * ABI also makes the control bits of MXCSR and the x87 control word
 * callee-saved: a process that changes the rounding mode (or turns on
 * flush-to-zero) must not change it for the scheduler or the next process.
 * The vector registers xmm0-15 are all caller-saved, so none is saved.
 *
 * The saved stack pointer is 16-byte aligned: the call into lw_ctx_swap
 * left rsp at 8 mod 16, and the pushes below take 56 more bytes.
 *
 * Resuming with `ret` would cost a mispredicted branch on every switch:
 * the CPU predicts returns from a stack of the calls it saw, and that
 * stack belongs to the context being left.  So lw_ctx_swap pops the return
 * address and jumps to it; the indirect-branch predictor learns where a
 * switch goes (in a ping-pong loop, a round trip took 11 ns instead of
 * 25 ns on a 2-core AMD EPYC VM).
 *
 * CET: the two functions start with endbr64 (a no-op on CPUs without
 * CET).  An indirect jump may only land on an endbr64, which return
 * addresses do not have, so when the code is built for indirect branch
 * tracking (-fcf-protection, which defines __CET__) lw_ctx_swap returns
 * with `ret` instead, and only then is the object marked IBT-compatible.
 * A shadow stack cannot follow a stack switch without more work, so this
 * file never claims shadow-stack support; the linker then turns it off
 * for the program, which is the correct outcome.
 */
#if defined(__x86_64__)

#if defined(__CET__) && (__CET__ & 1)
#define LW_CTX_IBT 1
/* Mark this object as IBT-compatible (GNU_PROPERTY_X86_FEATURE_1_IBT), but
 * not SHSTK-compatible. */
        .section .note.gnu.property, "a"
        .p2align 3
        .long 4, 16, 5                  /* name size, desc size, NT_GNU_PROPERTY_TYPE_0 */
        .asciz "GNU"
        .long 0xc0000002, 4, 1          /* X86_FEATURE_1_AND: IBT */
        .p2align 3
#endif

        .text

/* lw_ctx *lw_ctx_swap(lw_ctx *from = rdi, lw_ctx *to = rsi)
 * Returns (in the context that is later resumed) the `from` of the switch
 * that resumed it. */
        .globl  lw_ctx_swap
        .type   lw_ctx_swap, @function
        .p2align 4
lw_ctx_swap:
        .cfi_startproc
        endbr64
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r12, 0
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r13, 0
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r14, 0
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r15, 0
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        stmxcsr (%rsp)
        fnstcw  4(%rsp)

        /* The switch itself.  The frame on the other stack has the same
         * layout, so the unwind notes above stay true for it. */
        movq    %rsp, (%rdi)
        movq    (%rsi), %rsp

        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        .cfi_adjust_cfa_offset -8
        popq    %r15
        .cfi_adjust_cfa_offset -8
        .cfi_restore r15
        popq    %r14
        .cfi_adjust_cfa_offset -8
        .cfi_restore r14
        popq    %r13
        .cfi_adjust_cfa_offset -8
        .cfi_restore r13
        popq    %r12
        .cfi_adjust_cfa_offset -8
        .cfi_restore r12
        popq    %rbx
        .cfi_adjust_cfa_offset -8
        .cfi_restore rbx
        popq    %rbp
        .cfi_adjust_cfa_offset -8
        .cfi_restore rbp
        movq    %rdi, %rax              /* who switched here */
#ifdef LW_CTX_IBT
        ret
#else
        popq    %rcx
        .cfi_adjust_cfa_offset -8
        .cfi_register rip, rcx
        jmpq    *%rcx
#endif
        .cfi_endproc
        .size   lw_ctx_swap, .-lw_ctx_swap

/* _Noreturn void lw_ctx_jump(lw_ctx *from = rdi, lw_ctx *to = rsi)
 * The second half of lw_ctx_swap alone: resume *to without saving
 * anything, for a context that has finished (lw_ctx_exit).  Saving would
 * be wasted work, and stmxcsr, microcoded on the CPUs we measured, is the
 * dearest instruction of a switch (about 4 ns on its own).  rax = from,
 * as after a swap; from->sp is left as it was. */
        .globl  lw_ctx_jump
        .type   lw_ctx_jump, @function
        .p2align 4
lw_ctx_jump:
        .cfi_startproc
        .cfi_undefined rip
        endbr64
        movq    (%rsi), %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        movq    8(%rsp), %r15
        movq    16(%rsp), %r14
        movq    24(%rsp), %r13
        movq    32(%rsp), %r12
        movq    40(%rsp), %rbx
        movq    48(%rsp), %rbp
        movq    %rdi, %rax
#ifdef LW_CTX_IBT
        addq    $56, %rsp
        ret
#else
        movq    56(%rsp), %rcx
        addq    $64, %rsp
        jmpq    *%rcx
#endif
        .cfi_endproc
        .size   lw_ctx_jump, .-lw_ctx_jump

/* void lw_ctx_make(lw_ctx *c = rdi, void *stack = rsi, size_t size = rdx,
 *                  void (*fn)(void *) = rcx, void *arg = r8)
 *
 * Builds, at the top of the new stack, the frame lw_ctx_swap would have
 * left there, so that the first switch to *c "returns" into lw_ctx_entry
 * with fn in r12 and arg in r13:
 *
 *     top - 16 .. top    zero (nothing above the first frame)
 *     sp + 56 = top - 24 lw_ctx_entry
 *     sp + 48            rbp = 0: frame-pointer backtraces end here
 *     sp + 32, + 24      r12 = fn, r13 = arg
 *     sp + 40, + 16, + 8 rbx, r14, r15 = 0
 *     sp + 0             MXCSR 0x1f80, x87 control word 0x037f: the ABI's
 *                        initial values (round to nearest, all exceptions
 *                        masked, x87 in extended precision)
 *
 * with top = (stack + size) rounded down to 16 and sp = top - 80, so that
 * after the jump into lw_ctx_entry rsp = top - 16 is 16-byte aligned, as
 * the call into fn needs. */
        .globl  lw_ctx_make
        .type   lw_ctx_make, @function
        .p2align 4
lw_ctx_make:
        .cfi_startproc
        endbr64
        leaq    (%rsi,%rdx), %rax
        andq    $-16, %rax
        subq    $80, %rax
        movl    $0x1f80, 0(%rax)
        movl    $0x037f, 4(%rax)
        xorl    %edx, %edx
        movq    %rdx, 8(%rax)           /* r15 */
        movq    %rdx, 16(%rax)          /* r14 */
        movq    %r8, 24(%rax)           /* r13 = arg */
        movq    %rcx, 32(%rax)          /* r12 = fn */
        movq    %rdx, 40(%rax)          /* rbx */
        movq    %rdx, 48(%rax)          /* rbp */
        leaq    lw_ctx_entry(%rip), %rcx
        movq    %rcx, 56(%rax)
        movq    %rdx, 64(%rax)
        movq    %rdx, 72(%rax)
        movq    %rax, (%rdi)
        ret
        .cfi_endproc
        .size   lw_ctx_make, .-lw_ctx_make

/* The first code a new context runs, reached by the jump (or the `ret`)
 * at the end of lw_ctx_swap.
 * rdi still holds that switch's `from`: it goes to fn as a second
 * argument (fn may ignore it).  fn must never return; if it does, ud2
 * stops the program here rather than running off into garbage.  The
 * unwind note says there is no caller, so debuggers stop here too. */
        .type   lw_ctx_entry, @function
        .p2align 4
lw_ctx_entry:
        .cfi_startproc
        .cfi_undefined rip
        movq    %rdi, %rsi
        movq    %r13, %rdi
        call    *%r12
        ud2
        .cfi_endproc
        .size   lw_ctx_entry, .-lw_ctx_entry

#endif /* __x86_64__ */

        .section .note.GNU-stack, "", @progbits
