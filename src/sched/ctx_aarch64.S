/*
 * Context switch for AArch64, AAPCS64 (see ctx.h for the interface).
 *
 * A suspended context is its stack pointer.  At it, on its own stack, lies
 * the frame lw_ctx_swap stored when the context switched away (176 bytes,
 * keeping sp 16-byte aligned as AArch64 requires at all times):
 *
 *     sp +   0  x19 x20
 *     sp +  16  x21 x22
 *     sp +  32  x23 x24
 *     sp +  48  x25 x26
 *     sp +  64  x27 x28
 *     sp +  80  x29 (frame pointer)  x30 (lr: where lw_ctx_swap returns to)
 *     sp +  96  d8 d9
 *     sp + 112  d10 d11
 *     sp + 128  d12 d13
 *     sp + 144  d14 d15
 *     sp + 160  FPCR, then 8 bytes unused
 *
 * Why exactly these: AAPCS64 makes x19-x28, the frame pointer x29 and the
 * low 64 bits of v8-v15 (d8-d15) callee-saved, so the code that called
 * lw_ctx_swap may keep live values in them; lr holds the address to resume
 * at.  Every other register is dead across a call.  FPCR holds the
 * rounding mode and the flush-to-zero and default-NaN bits: it is saved so
 * that a process that changes them does not change them for the scheduler
 * or the next process (the same reason MXCSR is saved on x86-64).  Writing
 * FPCR can be slow on some cores, so it is written only when the value
 * changes, which is almost never.
 */
#if defined(__aarch64__)

#if defined(__ARM_FEATURE_BTI_DEFAULT)
#define BTI_C hint #34                  /* bti c: a valid target of an indirect call */
/* Mark this object as BTI-compatible (GNU_PROPERTY_AARCH64_FEATURE_1_BTI). */
        .section .note.gnu.property, "a"
        .p2align 3
        .word 4, 16, 5
        .asciz "GNU"
        .word 0xc0000000, 4, 1
        .p2align 3
#else
#define BTI_C
#endif

        .text

/* The second half of a switch: with sp at a saved frame and x9 = the FPCR
 * in force, load the frame's FPCR (only if it differs: writing FPCR can
 * be slow, reading it is not) and registers, and pop the frame. */
        .macro  RESTORE
        ldr     x10, [sp, #160]
        cmp     x9, x10
        b.eq    1f
        msr     fpcr, x10
1:      ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #176
        .endm

/* lw_ctx *lw_ctx_swap(lw_ctx *from = x0, lw_ctx *to = x1)
 * Returns (in the context that is later resumed) the `from` of the switch
 * that resumed it: x0 is left untouched throughout. */
        .globl  lw_ctx_swap
        .type   lw_ctx_swap, %function
        .p2align 4
lw_ctx_swap:
        .cfi_startproc
        BTI_C
        sub     sp, sp, #176
        .cfi_adjust_cfa_offset 176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        .cfi_rel_offset x19, 0
        .cfi_rel_offset x20, 8
        .cfi_rel_offset x21, 16
        .cfi_rel_offset x22, 24
        .cfi_rel_offset x23, 32
        .cfi_rel_offset x24, 40
        .cfi_rel_offset x25, 48
        .cfi_rel_offset x26, 56
        .cfi_rel_offset x27, 64
        .cfi_rel_offset x28, 72
        .cfi_rel_offset x29, 80
        .cfi_rel_offset x30, 88
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]

        /* The switch itself.  The frame on the other stack has the same
         * layout, so the unwind notes above stay true for it. */
        mov     x10, sp
        str     x10, [x0]
        ldr     x10, [x1]
        mov     sp, x10

        RESTORE
        .cfi_adjust_cfa_offset -176
        ret
        .cfi_endproc
        .size   lw_ctx_swap, .-lw_ctx_swap

/* _Noreturn void lw_ctx_jump(lw_ctx *from = x0, lw_ctx *to = x1)
 * The second half of lw_ctx_swap alone: resume *to without saving
 * anything, for a context that has finished (lw_ctx_exit).  x0 = from, as
 * after a swap; from->sp is left as it was. */
        .globl  lw_ctx_jump
        .type   lw_ctx_jump, %function
        .p2align 4
lw_ctx_jump:
        .cfi_startproc
        .cfi_undefined x30
        BTI_C
        ldr     x10, [x1]
        mov     sp, x10
        mrs     x9, fpcr
        RESTORE
        ret
        .cfi_endproc
        .size   lw_ctx_jump, .-lw_ctx_jump

/* void lw_ctx_make(lw_ctx *c = x0, void *stack = x1, size_t size = x2,
 *                  void (*fn)(void *) = x3, void *arg = x4)
 *
 * Builds, at the top of the new stack, the frame lw_ctx_swap would have
 * left there, so that the first switch to *c "returns" into lw_ctx_entry
 * with fn in x19 and arg in x20: x30 = lw_ctx_entry, x29 = 0 (frame-pointer
 * backtraces end here), FPCR = 0 (the ABI's default: round to nearest, no
 * flush-to-zero, no default NaN), everything else 0.  The frame sits at
 * top - 176 with top = (stack + size) rounded down to 16, so sp is
 * 16-byte aligned when lw_ctx_entry calls fn. */
        .globl  lw_ctx_make
        .type   lw_ctx_make, %function
        .p2align 4
lw_ctx_make:
        .cfi_startproc
        BTI_C
        add     x9, x1, x2
        and     x9, x9, #~15
        sub     x9, x9, #176
        stp     x3, x4, [x9, #0]        /* x19 = fn, x20 = arg */
        stp     xzr, xzr, [x9, #16]
        stp     xzr, xzr, [x9, #32]
        stp     xzr, xzr, [x9, #48]
        stp     xzr, xzr, [x9, #64]
        adr     x10, lw_ctx_entry
        stp     xzr, x10, [x9, #80]     /* x29 = 0, x30 = lw_ctx_entry */
        stp     xzr, xzr, [x9, #96]
        stp     xzr, xzr, [x9, #112]
        stp     xzr, xzr, [x9, #128]
        stp     xzr, xzr, [x9, #144]
        stp     xzr, xzr, [x9, #160]    /* FPCR = 0 */
        str     x9, [x0]
        ret
        .cfi_endproc
        .size   lw_ctx_make, .-lw_ctx_make

/* The first code a new context runs, reached by lw_ctx_swap's `ret` (a
 * return, so it needs no BTI landing pad).  x0 still holds that switch's
 * `from`: it goes to fn as a second argument (fn may ignore it).  fn must
 * never return; if it does, brk stops the program here.  The unwind note
 * says there is no caller, so debuggers stop here too. */
        .type   lw_ctx_entry, %function
        .p2align 4
lw_ctx_entry:
        .cfi_startproc
        .cfi_undefined x30
        mov     x1, x0
        mov     x0, x20
        blr     x19
        brk     #0x1
        .cfi_endproc
        .size   lw_ctx_entry, .-lw_ctx_entry

#endif /* __aarch64__ */

        .section .note.GNU-stack, "", %progbits
