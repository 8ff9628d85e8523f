/*
 * The interpreter: runs threaded code (translate.h) with direct threading.
 *
 * One C function holds the whole loop so that the hot state (ip, fp, the
 * memory base and size, fuel, the instance) lives in registers.  Wasm calls
 * push a Frame on ex->frames and carry on in the same loop: the C stack
 * never grows with wasm recursion, and the state can be saved at any
 * instruction boundary for LW_YIELD.
 *
 * Handlers read all their operands before they write their result: the
 * translator relies on it when it retargets a result into a local that
 * the instruction also reads.
 */
/* Each handler rounds as its wasm instruction does: never fuse a*b+c.
   No cross-jumping: GCC would merge handler tails (and so move their
   indirect jumps); measured, the hash benchmark ran 2x slower with it. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off", "no-crossjumping")
#endif

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "interp/translate.h"
#include "interp/numeric.h"
#include "interp/simd.h"
#include "interp/self_loop.h"
#include "mem/memory.h"

static const void *const *handler_table;

const void *const *interp_handlers(void)
{
    if (!handler_table)
        interp_run(NULL);
    return handler_table;
}

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#ifdef LW_NO_FUEL
#define CHARGE_FUEL(n) ((void)(n))
#define FUEL_CHECK() ((void)0)
#define OUT_OF_FUEL_IF(c) ((void)0)
#else
#define CHARGE_FUEL(n) (fuel -= (n))
/* At a check point the state is clean at ip: save it there and stop. */
#define FUEL_CHECK() do { if (UNLIKELY(fuel <= 0)) goto out_of_fuel; } while (0)
#define OUT_OF_FUEL_IF(c) do { if (c) goto out_of_fuel; } while (0)
#endif

#ifdef LW_PROFILE_PAIRS
/* A developer build (make ... CFLAGS="-O2 -DLW_PROFILE_PAIRS"): count which
   handler follows which, to find the pairs worth fusing.  Printed at exit. */
void prof_pair(const void *h);
#define NEXT() do { prof_pair(ip->h); goto *ip->h; } while (0)
#else
#define NEXT() goto *ip->h
#endif

/* Compiled functions are published by other threads (translate.c). */
#define LOAD_CODE(cf) __atomic_load_n(&(cf)->code, __ATOMIC_ACQUIRE)
#define FRAME_SLOTS(cf) __atomic_load_n(&(cf)->frame_slots, __ATOMIC_RELAXED)

/*
 * Zero a callee's n locals: ZERO_AHEAD slots always (frames have room),
 * then four at a time, the last four overlapping the ones before so that
 * nothing past the n-th is written.  The empty asm keeps GCC from calling
 * memset, whose register spills would cost every call.
 */
#define ZERO_LOCALS(from, n) do { \
        uint64_t *z_ = (from); \
        uint32_t n_ = (n); \
        z_[0] = z_[1] = z_[2] = z_[3] = 0; \
        if (UNLIKELY(n_ > ZERO_AHEAD)) { \
            for (uint64_t *l_ = z_ + 4, *e_ = z_ + n_ - 4; l_ < e_; l_ += 4) { \
                __asm__("" : "+r"(l_)); \
                l_[0] = l_[1] = l_[2] = l_[3] = 0; \
            } \
            z_ += n_ - 4; \
            z_[0] = z_[1] = z_[2] = z_[3] = 0; \
        } \
    } while (0)
/*
 * The memory registers follow `inst`: every frame of one instance sees the
 * same memory, so a call within the instance keeps them, and they are
 * reloaded only where the memory may have moved behind the loop's back
 * (host calls, returns from other instances) or the instance changes.
 */
#define LOAD_MEM() do { \
        const lw_memory *m_ = inst->mem0; \
        mem = m_ ? m_->data : NULL; \
        msize = m_ ? m_->touched : 0;   /* see memory_touch */ \
    } while (0)
/*
 * Predicted jumps.  A branch target or a callee's entry is a load from the
 * code stream, and everything after the jump waits for it: about 5 cycles
 * on every iteration of a tight loop, where the rest overlaps.  So the
 * interpreter keeps the last backward target (the loop register `lh`) and
 * the last direct callee and its entry (`lc_cf`, `lc_entry`) in locals, and
 * compares: the comparison is a branch, which the CPU predicts, so on the
 * likely path it goes on with the register at once.  Forward branches are
 * left alone: a register for them as well made short loops with an if
 * inside (quicksort's partition) mispredict and run 6% slower.
 *
 * SAME(x, r) is x == r as a branch.  GCC must not learn that the two are
 * equal (it would jump to the loaded x) nor turn the two paths into a cmov
 * (a data dependence again): hence the asm.  Elsewhere it is plain ==,
 * which is correct, only without the gain.
 */
#if defined(__x86_64__)
#define SAME(x, r) ({ bool eq_; __asm__ ("cmp %2, %1" : "=@ccz"(eq_) : "r"(x), "r"(r)); eq_; })
#elif defined(__aarch64__)
#define SAME(x, r) ({ bool eq_; __asm__ ("cmp %1, %2" : "=@cceq"(eq_) : "r"(x), "r"(r)); eq_; })
#else
#define SAME(x, r) ((x) == (r))
#endif
/*
 * Take a branch, its run already charged.  A forward jump goes straight
 * on: it cannot close a loop, so it needs no fuel check (the next
 * back-edge or call checks what it charged), and it keeps no register.
 * A backward one goes through the loop register, then checks the fuel.
 */
#define TAKE(target) do { \
        const Cell *t_ = (target); \
        if (t_ > ip) { \
            ip = t_; \
            NEXT(); \
        } \
        if (LIKELY(SAME(t_, lh))) { \
            ip = lh; \
        } else { \
            __asm__ volatile ("");   /* no cmov */ \
            ip = lh = t_; \
        } \
        FUEL_CHECK(); \
        NEXT(); \
    } while (0)
/* A taken conditional branch pays its run (n, read before ip moves). */
#define TAKE_PAID(target, n) do { CHARGE_FUEL(n); TAKE(target); } while (0)
#define TRAP(msg) do { trap_msg = (msg); goto trap; } while (0)

/* Operand cells (see translate.h for each handler's layout). */
#define PA(c) ip[c].s.a
#define PB(c) ip[c].s.b
#define IMM(c) ip[c].u64

/* The most values a host function called from a wide frame takes or returns. */
#define HOST_MAX_VALUES 32

/* Wide frame slots (a value every 2) to packed ones (a v128 in 2, the rest in 1), and back. */
static void host_pack(uint64_t *to, const uint64_t *from, const ValType *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        *to++ = from[2 * i];
        if (types[i] == VT_V128)
            *to++ = from[2 * i + 1];
    }
}

static void host_unpack(uint64_t *to, const uint64_t *from, const ValType *types, uint32_t n)
{
    uint32_t at[HOST_MAX_VALUES];
    for (uint32_t i = 0, q = 0; i < n; i++) {
        at[i] = q;
        q += types[i] == VT_V128 ? 2 : 1;
    }
    /* From the last: a packed result never lies above its wide place. */
    for (uint32_t i = n; i-- > 0;) {
        if (types[i] == VT_V128)
            to[2 * i + 1] = from[at[i] + 1];
        to[2 * i] = from[at[i]];
    }
}

/*
 * n values at p from one frame width to the other (scale 1: a value a slot;
 * 2: a value every two).  No v128 crosses: a module of narrow frames has
 * none.  In place, in the order that never overwrites an unmoved value.
 */
static void rescale(uint64_t *p, uint32_t n, uint32_t from, uint32_t to)
{
    if (from == 2 && to == 1)
        for (uint32_t i = 0; i < n; i++)
            p[i] = p[2 * i];
    else if (from == 1 && to == 2)
        for (uint32_t i = n; i-- > 0;)
            p[2 * i] = p[i];
}

static uint64_t elem_value(lw_instance *inst, const ConstExpr *e)
{
    switch (e->op) {
    case OP_REF_FUNC: return (uint64_t)(uintptr_t)inst->funcs[e->u.index];
    case OP_GLOBAL_GET: return inst->globals[e->u.index]->val;
    default: return 0;   /* ref.null */
    }
}

lw_status interp_run(lw_exec *ex)
{
    static const void *const labels[H__COUNT] = {
#define OP(id, text, prefix, code, imm, sig) [H_##id] = &&op_##id,
#define OPV(id, text, code, imm, sig) [H_##id] = &&op_##id,
#include "decode/opcodes.def"
#undef OPV
#undef OP
#define X(id, fmt) [H_##id] = &&op_##id,
        LW_EXTRA_HANDLERS(X)
#undef X
#define X(id) [H_##id##_IMM] = &&op_##id##_IMM,
        LW_IMM_OPS(X)
#undef X
#define X(id, op, t32, t64, neg) [H_JMP_I32_##id] = &&op_JMP_I32_##id, \
        [H_JMP_I32_##id##_IMM] = &&op_JMP_I32_##id##_IMM, [H_JMP_I64_##id] = &&op_JMP_I64_##id, \
        [H_JMP_I64_##id##_IMM] = &&op_JMP_I64_##id##_IMM,
        LW_CMP_OPS(X)
#undef X
#define X(id, op, t32, t64, neg) [H_ADD_JMP_I32_##id] = &&op_ADD_JMP_I32_##id, \
        [H_ADD_JMP_I32_##id##_IMM] = &&op_ADD_JMP_I32_##id##_IMM, [H_ADD_JMP_I64_##id] = &&op_ADD_JMP_I64_##id, \
        [H_ADD_JMP_I64_##id##_IMM] = &&op_ADD_JMP_I64_##id##_IMM, \
        [H_ADDI_JMP_I32_##id] = &&op_ADDI_JMP_I32_##id, \
        [H_ADDI_JMP_I32_##id##_IMM] = &&op_ADDI_JMP_I32_##id##_IMM, [H_ADDI_JMP_I64_##id] = &&op_ADDI_JMP_I64_##id, \
        [H_ADDI_JMP_I64_##id##_IMM] = &&op_ADDI_JMP_I64_##id##_IMM,
        LW_CMP_OPS(X)
#undef X
#define X(id, T, expr) [H_##id##_AI] = &&op_##id##_AI, [H_##id##_AR] = &&op_##id##_AR,
        LW_LOAD_OPS(X)
#undef X
#define X(id) [H_##id] = &&op_##id,
        LW_MULADD_OPS(X)
        LW_ADD_MEM_OPS(X)
#undef X
#define X(op, load, LT, T, get, put, expr) [H_##op##_M_##load] = &&op_##op##_M_##load, \
        [H_##op##_M_##load##_K] = &&op_##op##_M_##load##_K,
        LW_MEMOP_OPS(X)
#undef X
#define X(id, T) [H_##id##_ADD] = &&op_##id##_ADD, [H_##id##_ADDI] = &&op_##id##_ADDI,
        LW_STORE_ADD_OPS(X)
#undef X
#define X(id, op, t32, t64, neg) [H_JMP_LD32_AI_##id] = &&op_JMP_LD32_AI_##id, \
        [H_JMP_LD32_AR_##id] = &&op_JMP_LD32_AR_##id, [H_JMP_LD8U_AI_##id] = &&op_JMP_LD8U_AI_##id, \
        [H_JMP_LD8U_AR_##id] = &&op_JMP_LD8U_AR_##id,
        LW_CMP_OPS(X)
#undef X
#define X(name, base, pos, out) [H_##name] = &&op_##name,
        LW_FACC_HANDLERS(X)
#undef X
#define X(P, Q) [H_PAIR_##P##__##Q] = &&op_PAIR_##P##__##Q,
        LW_PAIR_OPS(X)
#undef X
#define X(P, Q) [H_FWD_##P##__##Q] = &&op_FWD_##P##__##Q,
        LW_FWD_OPS(X)
#undef X
#define X(P, VT, SK, Q, T, CT, op, AK, RK) [H_SELF_##P##__##Q] = &&op_SELF_##P##__##Q,
        LW_SELF_OPS(X)
#undef X
    };
    /* The ret_ip of a call into another instance (see Frame). */
    static const Cell xret_code[1] = { { .h = &&op_XRET } };
    if (!ex) {
        handler_table = labels;
        return LW_OK;
    }

    Frame *fr = &ex->frames[ex->depth];
    Frame *frames_end = ex->frames + ex->frames_cap - 1;   /* moves when the frames grow */
    uint64_t *stack_end = ex->stack_end;   /* may be soft: exec_grow_stack moves it */
    const Cell *ip = ex->ip;
    uint64_t *fp = fr->fp;
    lw_instance *inst = fr->inst;
    uint8_t *mem;
    uint64_t msize;
    LOAD_MEM();
    int64_t fuel = ex->fuel;
    const char *trap_msg = NULL;
    /* Predicted jumps (see SAME): the last backward target, the last direct callee. */
    const Cell *lh = NULL;
    const CompiledFunc *lc_cf = NULL;
    const Cell *lc_entry = NULL;
    double facc = 0;   /* the float register (passes.c): never live across a branch or call */

    /* The self-loop being run, for the shared call of its kernel. */
    SelfLoop sl;

    /* The callee of the call being made, for the shared call paths. */
    lw_func *cfn;
    CompiledFunc *ccf;
    uint64_t *nfp;
    const Cell *cret;

    NEXT();

    /* ---- moves, constants, fuel ---- */
op_MOV:
    fp[PA(1)] = fp[PB(1)];
    ip += 2;
    NEXT();
op_CONST:
    fp[PA(1)] = IMM(2);
    ip += 3;
    NEXT();
op_CONSTS: {
    const uint64_t *v = ip[2].p;
    for (volatile uint64_t *d = fp + PA(1), *e = d + PB(1); d < e; d++)
        *d = *v++;
    ip += 3;
    NEXT();
}
op_CHARGE:
    CHARGE_FUEL(PA(1));
    ip += 2;
    NEXT();

    /* ---- branches ---- */
op_JMP:
    CHARGE_FUEL(PA(1));
    TAKE(ip[2].t);
op_JMP_IF:
    if ((uint32_t)fp[PA(1)])
        TAKE_PAID(ip[2].t, PB(1));
    CHARGE_FUEL(PA(3));   /* its run and the one that falls through */
    ip += 4;
    NEXT();
op_JMP_UNLESS:
    if (!(uint32_t)fp[PA(1)])
        TAKE_PAID(ip[2].t, PB(1));
    CHARGE_FUEL(PA(3));
    ip += 4;
    NEXT();
op_JMP_TABLE: {
    CHARGE_FUEL(PB(1));
    uint64_t i = (uint32_t)fp[PA(1)], n = IMM(2);
    TAKE(ip[3 + (i < n ? i : n)].t);
}

/* Fused: [a|b][n|f][target] and [a|n][imm][target][f|-]; f = n + the run falling through. */
#define JMP_CMP(id, op, t32, t64, neg) \
op_JMP_I32_##id: \
    if ((t32)fp[PA(1)] op (t32)fp[PB(1)]) \
        TAKE_PAID(ip[3].t, PA(2)); \
    CHARGE_FUEL(PB(2)); \
    ip += 4; \
    NEXT(); \
op_JMP_I32_##id##_IMM: \
    if ((t32)fp[PA(1)] op (t32)IMM(2)) \
        TAKE_PAID(ip[3].t, PB(1)); \
    CHARGE_FUEL(PA(4)); \
    ip += 5; \
    NEXT(); \
op_JMP_I64_##id: \
    if ((t64)fp[PA(1)] op (t64)fp[PB(1)]) \
        TAKE_PAID(ip[3].t, PA(2)); \
    CHARGE_FUEL(PB(2)); \
    ip += 4; \
    NEXT(); \
op_JMP_I64_##id##_IMM: \
    if ((t64)fp[PA(1)] op (t64)IMM(2)) \
        TAKE_PAID(ip[3].t, PB(1)); \
    CHARGE_FUEL(PA(4)); \
    ip += 5; \
    NEXT();
    LW_CMP_OPS(JMP_CMP)
#undef JMP_CMP

/* Load-compare-branch: [a|x][y|offset][b|n][target][f|-]; y an immediate or a
   slot; a is LW_NO_SLOT where nothing reads the value loaded (translate.c). */
#define JMP_LOAD_ONE(name, T, t32, op, y) \
op_##name: { \
    uint64_t ea = (uint64_t)(uint32_t)((uint32_t)fp[PB(1)] + (uint32_t)(y)) + PB(2); \
    if (UNLIKELY(ea + sizeof(T) > msize)) \
        goto oob; \
    T v; \
    memcpy(&v, mem + ea, sizeof v); \
    if (PA(1) != LW_NO_SLOT) \
        fp[PA(1)] = v; \
    if ((t32)(uint32_t)v op (t32)fp[PA(3)]) \
        TAKE_PAID(ip[4].t, PB(3)); \
    CHARGE_FUEL(PA(5)); \
    ip += 6; \
    NEXT(); \
}
#define JMP_LOAD(id, op, t32, t64, neg) \
    JMP_LOAD_ONE(JMP_LD32_AI_##id, uint32_t, t32, op, PA(2)) \
    JMP_LOAD_ONE(JMP_LD32_AR_##id, uint32_t, t32, op, fp[PA(2)]) \
    JMP_LOAD_ONE(JMP_LD8U_AI_##id, uint8_t, t32, op, PA(2)) \
    JMP_LOAD_ONE(JMP_LD8U_AR_##id, uint8_t, t32, op, fp[PA(2)])
    LW_CMP_OPS(JMP_LOAD)
#undef JMP_LOAD
#undef JMP_LOAD_ONE

/*
 * Increment-and-test: [x|src][y|b][imm][n|f][target].  x = src + y, then
 * branch on x compared with fp[b] (read after the write, as the separate
 * instructions would) or with imm.
 */
#define ADD_JMP_ONE(name, T, CT, op, addend, rhs) \
op_##name: { \
    T v = (T)((T)fp[PB(1)] + (T)(addend)); \
    fp[PA(1)] = v; \
    if ((CT)v op (CT)(rhs)) \
        TAKE_PAID(ip[5].t, PA(4)); \
    CHARGE_FUEL(PB(4)); \
    ip += 6; \
    NEXT(); \
}
#define ADD_JMP(id, op, t32, t64, neg) \
    ADD_JMP_ONE(ADD_JMP_I32_##id, uint32_t, t32, op, fp[PA(2)], fp[PB(2)]) \
    ADD_JMP_ONE(ADD_JMP_I32_##id##_IMM, uint32_t, t32, op, fp[PA(2)], IMM(3)) \
    ADD_JMP_ONE(ADD_JMP_I64_##id, uint64_t, t64, op, fp[PA(2)], fp[PB(2)]) \
    ADD_JMP_ONE(ADD_JMP_I64_##id##_IMM, uint64_t, t64, op, fp[PA(2)], IMM(3)) \
    ADD_JMP_ONE(ADDI_JMP_I32_##id, uint32_t, t32, op, PA(2), fp[PB(2)]) \
    ADD_JMP_ONE(ADDI_JMP_I32_##id##_IMM, uint32_t, t32, op, PA(2), IMM(3)) \
    ADD_JMP_ONE(ADDI_JMP_I64_##id, uint64_t, t64, op, (int64_t)(int32_t)PA(2), fp[PB(2)]) \
    ADD_JMP_ONE(ADDI_JMP_I64_##id##_IMM, uint64_t, t64, op, (int64_t)(int32_t)PA(2), IMM(3))
    LW_CMP_OPS(ADD_JMP)
#undef ADD_JMP
#undef ADD_JMP_ONE


/*
 * Pairs (translate.h): the first instruction's work, on its operand cells
 * from ip[1], then the second's handler, entered directly with ip at it.
 * A trap in either stops at it; a yield can only come from the second
 * (its own checks), after the first's work, with ip at the second.
 */
#define PAIR_A32I fp[PA(1)] = (uint32_t)((uint32_t)fp[PB(1)] + (uint32_t)IMM(2))
#define PAIR_A32R fp[PA(1)] = (uint32_t)((uint32_t)fp[PB(1)] + (uint32_t)fp[PA(2)])
#define PAIR_A64I fp[PA(1)] = fp[PB(1)] + IMM(2)
#define PAIR_A64R fp[PA(1)] = fp[PB(1)] + fp[PA(2)]
#define PAIR_MOV fp[PA(1)] = fp[PB(1)]
#define PAIR_SHL32I fp[PA(1)] = (uint32_t)((uint32_t)fp[PB(1)] << (IMM(2) & 31))
#define PAIR_SHRU32I fp[PA(1)] = (uint32_t)((uint32_t)fp[PB(1)] >> (IMM(2) & 31))
/* The byte pairs' work, into v_: fp[b] op the byte at (uint32_t)(fp[x] + c) + off. */
#define LD8_OP(op) \
    uint64_t ea_ = (uint64_t)(uint32_t)((uint32_t)fp[PA(2)] + PB(2)) + PA(3); \
    if (UNLIKELY(ea_ + 1 > msize)) \
        goto oob; \
    uint32_t v_ = (uint32_t)fp[PB(1)] op mem[ea_]
#define PAIR_LD8(op) do { \
        LD8_OP(op); \
        fp[PA(1)] = v_; \
    } while (0)
#define PAIR_XORLD8 PAIR_LD8(^)
#define PAIR_ADDLD8 PAIR_LD8(+)
#define PAIR_ST(T, y) do { \
        uint64_t ea_ = (uint32_t)fp[PA(3)] + IMM(4); \
        if (UNLIKELY(ea_ + sizeof(T) > msize)) \
            goto oob; \
        T v_ = (T)fp[PB(3)]; \
        memcpy(mem + ea_, &v_, sizeof v_); \
        fp[PA(1)] = (uint32_t)((uint32_t)fp[PB(1)] + (uint32_t)(y)); \
    } while (0)
#define PAIR_ST8_ADD PAIR_ST(uint8_t, fp[PA(2)])
#define PAIR_ST8_ADDI PAIR_ST(uint8_t, IMM(2))
#define PAIR_ST32_ADD PAIR_ST(uint32_t, fp[PA(2)])
#define PAIR_ST32_ADDI PAIR_ST(uint32_t, IMM(2))
#define PAIR_ST64_ADD PAIR_ST(uint64_t, fp[PA(2)])
#define PAIR_ST64_ADDI PAIR_ST(uint64_t, IMM(2))
#define X(P, h, cells) enum { PAIR_LEN_##P = cells };
    LW_PAIR_FIRST(X)
#undef X
#define X(P, Q) \
op_PAIR_##P##__##Q: \
    PAIR_##P; \
    ip += PAIR_LEN_##P; \
    goto op_##Q;
    LW_PAIR_OPS(X)
#undef X

/* Forwarding pairs (translate.h): the byte pair's result goes to the
   multiply in a register; Q is [dst|src][imm] at ip[4..6], src the pair's
   result. */
#define FWD_LD8_MULI(P, op) \
op_FWD_##P##__I32_MUL_IMM: { \
    LD8_OP(op); \
    fp[PA(1)] = v_; \
    fp[PA(5)] = (uint32_t)(v_ * (uint32_t)IMM(6)); \
    ip += 7; \
    NEXT(); \
}
    FWD_LD8_MULI(XORLD8, ^)
    FWD_LD8_MULI(ADDLD8, +)
#undef FWD_LD8_MULI

/*
 * Self-loops (translate.h), ip at P, q_ at Q: the loop runs in its kernel
 * (self_loop.h), out of line, where the pointer, the counter and the loop's
 * invariants all get registers.  passes.c made sure that the pointer slot
 * is P's address, base and result, the counter slot Q's result and source
 * (the pointer itself for a compare-only latch), and that no other slot
 * the loop reads is either.  The kernel returns the two, which go back to
 * their slots, so the state is the pair's at the same point: on a trap the
 * store of that iteration has not happened; out of fuel, ip is at P, the
 * loop header.
 */
#define SELF_RUN(P, VT, SK, Q, T, cslot, add_, rhs_, paid_, qlen, fall_) \
op_SELF_##P##__##Q: { \
    const Cell *q_ = ip + PAIR_LEN_##P; \
    sl.ps = PA(1); \
    sl.cs = (cslot); \
    sl.p = (uint32_t)fp[sl.ps]; \
    sl.c = (T)fp[sl.cs]; \
    sl.v = (VT)fp[PB(3)]; \
    sl.stride = (uint32_t)(LW_SELF_IS_##SK ? fp[PA(2)] : IMM(2)); \
    sl.off = IMM(4); \
    sl.add = (add_); \
    sl.rhs = (rhs_); \
    sl.paid = (paid_); \
    sl.fall = (fall_); \
    sl.next = q_ + (qlen); \
    sl.run = self_##P##__##Q; \
    goto self_loop; \
}
/* Q = [x|src][y|b][imm][n|f][target]: x = src + y (or imm); compare x with b or imm. */
#define SELF_LOOP_ADD(P, VT, SK, Q, T, CT, op, AK, RK) \
    SELF_RUN(P, VT, SK, Q, T, q_[1].s.a, \
             LW_SELF_IS_##AK ? (T)fp[q_[2].s.a] : (T)(int64_t)(int32_t)q_[2].s.a, \
             LW_SELF_IS_##RK ? (T)fp[q_[2].s.b] : (T)q_[3].u64, q_[4].s.a, 6, q_[4].s.b)
/* Q = [a|b][n|f][target], a the pointer: compare it with b. */
#define SELF_LOOP_NONE(P, VT, SK, Q, T, CT, op, AK, RK) \
    SELF_RUN(P, VT, SK, Q, T, sl.ps, 0, (T)fp[q_[1].s.b], q_[2].s.a, 4, q_[2].s.b)
#define SELF_LOOP_SLOT SELF_LOOP_ADD
#define SELF_LOOP_IMM SELF_LOOP_ADD
#define X(P, VT, SK, Q, T, CT, op, AK, RK) SELF_LOOP_##AK(P, VT, SK, Q, T, CT, op, AK, RK)
    LW_SELF_OPS(X)
#undef X
self_loop: {
    sl.mem = mem;
    sl.msize = msize;
    sl.fuel = fuel;
    int why = SELF_CALL(sl.run, &sl);
    fp[sl.cs] = sl.c;
    fp[sl.ps] = sl.p;
    fuel = sl.fuel;
    if (why == SELF_OOB)
        goto oob;
    OUT_OF_FUEL_IF(why == SELF_FUEL);
    CHARGE_FUEL(sl.fall);
    ip = sl.next;
    NEXT();
}

    /* ---- calls and returns ---- */
op_CALL_LOCAL: {
    FUEL_CHECK();   /* test before charging: a resume re-runs this call */
    CHARGE_FUEL(PB(1));
    CompiledFunc *cf = (CompiledFunc *)ip[2].p;
    uint64_t *cfp = fp + PA(1);
    const Cell *entry;
    if (LIKELY(SAME(cf, lc_cf))) {
        entry = lc_entry;   /* see SAME */
    } else {
        __asm__ volatile ("");
        entry = LOAD_CODE(cf);   /* before frame_slots: see translate.c */
        lc_cf = cf;
        lc_entry = entry;
    }
    if (UNLIKELY(fr + 1 >= frames_end || cfp + FRAME_SLOTS(cf) > stack_end))
        goto grow_stacks;
    ZERO_LOCALS(cfp + cf->nparams, cf->nlocals);
    /* Locals only (not the shared call path's variables): fewer spills. */
    Frame *nf = fr + 1;
    nf->ret_ip = ip + 3;
    nf->fp = cfp;
    nf->code = cf;
    fr = nf;
    fp = cfp;
    ip = entry;
    NEXT();
}
op_CALL_IMPORT:
    FUEL_CHECK();
    CHARGE_FUEL(PB(1));
    cfn = inst->funcs[PA(2)];
    nfp = fp + PA(1);
    cret = ip + 3;
    goto call_func;
op_CALL_IND: {
    FUEL_CHECK();
    CHARGE_FUEL(PB(1));
    lw_table *tab = inst->tables[PB(2)];
    uint32_t i = (uint32_t)fp[PA(3)];
    if (UNLIKELY(i >= tab->size))
        TRAP("undefined element");
    cfn = (lw_func *)(uintptr_t)tab->elems[i];
    if (UNLIKELY(!cfn)) {
        snprintf(ex->trap_buf, sizeof ex->trap_buf, "uninitialized element %" PRIu32, i);
        TRAP(ex->trap_buf);
    }
    if (UNLIKELY(cfn->sig != inst->types[PA(2)]))
        TRAP("indirect call type mismatch");
    nfp = fp + PA(1);
    cret = ip + 4;
    goto call_func;
}
call_func: {
    if (cfn->is_host)
        goto host_call;
    lw_instance *ci = cfn->u.wasm.inst;
    ccf = __atomic_load_n(&cfn->u.wasm.code, __ATOMIC_ACQUIRE);
    if (UNLIKELY(!ccf)) {
        ccf = code_get(ci->module, cfn->u.wasm.index - ci->m->nfunc_imports);
        if (!ccf)
            TRAP("out of memory");
        __atomic_store_n(&cfn->u.wasm.code, ccf, __ATOMIC_RELEASE);
    }
    const Cell *entry = LOAD_CODE(ccf);
    if (UNLIKELY(fr + 1 >= frames_end || nfp + FRAME_SLOTS(ccf) > stack_end))
        goto grow_stacks;
    /* A module that uses v128 has wide frames (two slots a value), others
       not; a call between the two (always between instances) moves the
       arguments to the callee's width here, before its locals are zeroed
       over where wide arguments lay, and XRET moves the results back. */
    if (UNLIKELY(ccf->scale != fr->code->scale)) {
        rescale(nfp, cfn->sig->nparams, fr->code->scale, ccf->scale);
        fr->xsig = cfn->sig;
        fr->xfp = nfp;
    } else if (ci != inst) {
        fr->xsig = NULL;
    }
    ZERO_LOCALS(nfp + ccf->nparams, ccf->nlocals);
    if (ci != inst) {
        /* Returning must bring back this instance and its memory. */
        fr->inst = inst;
        fr->xret_ip = cret;
        cret = xret_code;
        inst = ci;
        LOAD_MEM();
    }
    fr++;
    fr->ret_ip = cret;
    fr->fp = nfp;
    fr->code = ccf;
    fp = nfp;
    ip = entry;
    NEXT();
}
host_call: {
    const FuncSig *sig = cfn->sig;
    uint32_t room = sig->nparams > sig->nresults ? sig->nparams : sig->nresults;
    ex->depth = (uint32_t)(fr - ex->frames);
    ex->fuel = fuel;
    ex->sp = nfp + room * fr->code->scale;
    ex->ip = ip;
    fr->inst = inst;         /* lw_exec_caller_instance reads it */
    /* Host functions take their slots packed (a v128 in two); a wide
       caller's values are 16 bytes apart, so they go through a copy. */
    uint64_t packed[2 * HOST_MAX_VALUES];
    uint64_t *args = nfp;
    if (fr->code->scale == 2) {
        if (UNLIKELY(room > HOST_MAX_VALUES))
            TRAP("too many host function parameters");
        host_pack(packed, nfp, sig->params, sig->nparams);
        args = packed;
    }
    lw_status st = cfn->u.host.fn(ex, cfn->u.host.env, args);
    if ((st == LW_OK || st == LW_YIELD) && args == packed)
        host_unpack(nfp, packed, sig->results, sig->nresults);
    fuel = ex->fuel;
    LOAD_MEM();              /* the host may have grown memory */
    lc_cf = NULL;            /* or freed a module, and so lc_cf */
    if (UNLIKELY(st != LW_OK)) {
        if (st == LW_EXIT)
            return LW_EXIT;
        if (st == LW_YIELD) {
            /* Done, and the slice ends after the call (depth, fuel and
               the frame's instance were saved above). */
            ex->ip = cret;
            return LW_YIELD;
        }
        if (st == LW_BLOCK) {
            /* Park at the call itself (ip has not moved): a resume calls the host
               function again.  The call's run is charged again then, so refund it. */
            CHARGE_FUEL(-(int64_t)PB(1));
            ex->ip = ip;
            ex->fuel = fuel;
            return LW_BLOCK;
        }
        TRAP(ex->trap ? ex->trap : "host function failed");
    }
    ip = cret;
    NEXT();
}
grow_stacks:
    /*
     * Out of the hot path: the call at ip needs frame fr + 1, or slots past
     * stack_end.  Grow the frames, or the stack by a page (exec.c), then
     * run the call again from its start, its run's fuel given back (every
     * call instruction charges PB(1)); a call needing more comes back here.
     */
    CHARGE_FUEL(-(int64_t)PB(1));
    if (fr + 1 >= frames_end) {
        Frame *nfr = exec_grow_frames(ex, fr);
        if (!nfr)
            TRAP("call stack exhausted");
        fr = nfr;
        frames_end = ex->frames + ex->frames_cap - 1;
    } else {
        if (!exec_grow_stack(ex, stack_end + 1))
            TRAP("call stack exhausted");
        stack_end = ex->stack_end;
    }
    NEXT();
op_RET:
    CHARGE_FUEL(PA(1));
    ip = fr->ret_ip;
    fr--;
    fp = fr->fp;
    NEXT();
op_XRET:
    /* A call into another instance returned to frame fr (see Frame). */
    if (UNLIKELY(fr->xsig != NULL))
        rescale(fr->xfp, fr->xsig->nresults, 3 - fr->code->scale, fr->code->scale);
    inst = fr->inst;
    ip = fr->xret_ip;
    LOAD_MEM();
    NEXT();
op_LAZY:
    /* The frame is pushed; translate the function and start it. */
    ccf = fr->code;
    lc_cf = NULL;   /* its entry was this LAZY cell: call it afresh */
    if (!translate_func(ccf))
        TRAP(ccf->error);
    if (fp + FRAME_SLOTS(ccf) > stack_end) {
        if (!exec_grow_stack(ex, fp + FRAME_SLOTS(ccf)))
            TRAP("call stack exhausted");
        stack_end = ex->stack_end;
    }
    ip = LOAD_CODE(ccf);
    NEXT();
op_EXIT:
    ex->depth = (uint32_t)(fr - ex->frames);
    ex->fuel = fuel;
    return LW_OK;

    /* ---- parametric and variables ---- */
op_UNREACHABLE:
    TRAP("unreachable");

op_SELECT: {
    uint64_t a = fp[PB(1)], b = fp[PA(2)];
    fp[PA(1)] = (uint32_t)fp[PB(2)] ? a : b;
    ip += 3;
    NEXT();
}
op_GLOBAL_GET:
    fp[PA(1)] = inst->globals[PB(1)]->val;
    ip += 2;
    NEXT();
op_GLOBAL_SET:
    inst->globals[PB(1)]->val = fp[PA(1)];
    ip += 2;
    NEXT();

    /* ---- wide frames (modules that use v128): every value 16 bytes ---- */
op_MOV2: {
    uint64_t lo = fp[PB(1)], hi = fp[PB(1) + 1];
    fp[PA(1)] = lo;
    fp[PA(1) + 1] = hi;
    ip += 2;
    NEXT();
}
op_SELECT2: {
    uint32_t from = (uint32_t)fp[PB(2)] ? PB(1) : PA(2);
    uint64_t lo = fp[from], hi = fp[from + 1];
    fp[PA(1)] = lo;
    fp[PA(1) + 1] = hi;
    ip += 3;
    NEXT();
}
op_GLOBAL_GET2: {
    const lw_global *g = inst->globals[PB(1)];
    fp[PA(1)] = g->val;
    fp[PA(1) + 1] = g->hi;
    ip += 2;
    NEXT();
}
op_GLOBAL_SET2: {
    lw_global *g = inst->globals[PB(1)];
    g->val = fp[PA(1)];
    g->hi = fp[PA(1) + 1];
    ip += 2;
    NEXT();
}

    /* ---- references and tables ---- */
op_REF_IS_NULL:
    fp[PA(1)] = fp[PB(1)] == 0;
    ip += 2;
    NEXT();
op_REF_FUNC:
    fp[PA(1)] = (uint64_t)(uintptr_t)inst->funcs[PB(1)];
    ip += 2;
    NEXT();
op_TABLE_GET: {
    lw_table *tab = inst->tables[PA(2)];
    uint32_t i = (uint32_t)fp[PB(1)];
    if (UNLIKELY(i >= tab->size))
        TRAP("out of bounds table access");
    fp[PA(1)] = tab->elems[i];
    ip += 3;
    NEXT();
}
op_TABLE_SET: {
    lw_table *tab = inst->tables[PA(2)];
    uint32_t i = (uint32_t)fp[PA(1)];
    if (UNLIKELY(i >= tab->size))
        TRAP("out of bounds table access");
    tab->elems[i] = fp[PB(1)];
    ip += 3;
    NEXT();
}
op_TABLE_SIZE:
    fp[PA(1)] = inst->tables[PB(1)]->size;
    ip += 2;
    NEXT();
op_TABLE_GROW: {
    uint64_t init = fp[PB(1)];
    uint32_t n = (uint32_t)fp[PA(2)];
    fp[PA(1)] = (uint32_t)table_grow(inst->tables[PB(2)], n, init);
    ip += 3;
    NEXT();
}
op_TABLE_FILL: {
    lw_table *tab = inst->tables[PB(2)];
    uint32_t i = (uint32_t)fp[PA(1)], n = (uint32_t)fp[PA(2)];
    uint64_t v = fp[PB(1)];
    if (UNLIKELY((uint64_t)i + n > tab->size))
        TRAP("out of bounds table access");
    for (uint32_t k = 0; k < n; k++)
        tab->elems[i + k] = v;
    ip += 3;
    NEXT();
}
op_TABLE_COPY: {
    lw_table *dt = inst->tables[PA(3)], *st = inst->tables[PB(3)];
    uint32_t d = (uint32_t)fp[PA(1)], s = (uint32_t)fp[PB(1)], n = (uint32_t)fp[PA(2)];
    if (UNLIKELY((uint64_t)d + n > dt->size || (uint64_t)s + n > st->size))
        TRAP("out of bounds table access");
    if (n)
        memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof *dt->elems);
    ip += 4;
    NEXT();
}
op_TABLE_INIT: {
    lw_table *tab = inst->tables[PA(3)];
    uint32_t seg = PB(2);
    uint32_t d = (uint32_t)fp[PA(1)], s = (uint32_t)fp[PB(1)], n = (uint32_t)fp[PA(2)];
    const Elem *el = &inst->m->elems[seg];
    uint64_t len = inst->elem_dropped[seg] ? 0 : el->count;
    if (UNLIKELY((uint64_t)s + n > len || (uint64_t)d + n > tab->size))
        TRAP("out of bounds table access");
    for (uint32_t k = 0; k < n; k++)
        tab->elems[d + k] = elem_value(inst, &el->items[s + k]);
    ip += 4;
    NEXT();
}
op_ELEM_DROP:
    inst->elem_dropped[PA(1)] = true;
    ip += 2;
    NEXT();

    /* ---- memory ---- */
#define LOAD(id, T, expr) \
op_##id: { \
    uint64_t ea = (uint32_t)fp[PB(1)] + IMM(2); \
    if (UNLIKELY(ea + sizeof(T) > msize)) \
        goto oob; \
    T v; \
    memcpy(&v, mem + ea, sizeof v); \
    fp[PA(1)] = (expr); \
    ip += 3; \
    NEXT(); \
}
#define STORE(id, T) \
op_##id: { \
    uint64_t ea = (uint32_t)fp[PA(1)] + IMM(2); \
    if (UNLIKELY(ea + sizeof(T) > msize)) \
        goto oob; \
    T v = (T)fp[PB(1)]; \
    memcpy(mem + ea, &v, sizeof v); \
    ip += 3; \
    NEXT(); \
}
/* The address computed by a fused i32.add wraps at 32 bits, as in wasm. */
#define LOAD_ADD(id, T, expr) \
op_##id##_AI: { \
    uint64_t ea = (uint64_t)(uint32_t)((uint32_t)fp[PB(1)] + PA(2)) + PB(2); \
    if (UNLIKELY(ea + sizeof(T) > msize)) \
        goto oob; \
    T v; \
    memcpy(&v, mem + ea, sizeof v); \
    fp[PA(1)] = (expr); \
    ip += 3; \
    NEXT(); \
} \
op_##id##_AR: { \
    uint64_t ea = (uint64_t)(uint32_t)((uint32_t)fp[PB(1)] + (uint32_t)fp[PA(2)]) + PB(2); \
    if (UNLIKELY(ea + sizeof(T) > msize)) \
        goto oob; \
    T v; \
    memcpy(&v, mem + ea, sizeof v); \
    fp[PA(1)] = (expr); \
    ip += 3; \
    NEXT(); \
}
    LW_LOAD_OPS(LOAD)
    LW_LOAD_OPS(LOAD_ADD)
#undef LOAD_ADD

/* Read-modify-write: x + mem, in that operand order (as `x; load; add`). */
#define ADD_MEM(id, T, get, put, expr) \
op_##id: { \
    uint64_t ea = (uint32_t)fp[PA(1)] + IMM(2); \
    if (UNLIKELY(ea + sizeof(T) > msize)) \
        goto oob; \
    T v; \
    memcpy(&v, mem + ea, sizeof v); \
    v = put(expr); \
    memcpy(mem + ea, &v, sizeof v); \
    ip += 3; \
    NEXT(); \
}
    ADD_MEM(I32_ADD_MEM, uint32_t, , , (uint32_t)fp[PB(1)] + v)
    ADD_MEM(I64_ADD_MEM, uint64_t, , , fp[PB(1)] + v)
    ADD_MEM(F32_ADD_MEM, uint32_t, , (uint32_t)bits_f32, f32_of(fp[PB(1)]) + f32_of(v))
    ADD_MEM(F64_ADD_MEM, uint64_t, , bits_f64, f64_of(fp[PB(1)]) + f64_of(v))
    /* and mem - x, for `a[i] -= x` */
    ADD_MEM(F32_SUB_MEM, uint32_t, , (uint32_t)bits_f32, f32_of(v) - f32_of(fp[PB(1)]))
    ADD_MEM(F64_SUB_MEM, uint64_t, , bits_f64, f64_of(v) - f64_of(fp[PB(1)]))
#undef ADD_MEM

/* The same with the product added or subtracted (`a[i] += x*y*z`), rounded at each step. */
#define ADD_MEM_MUL(id, T, fT, get, put, prod, combine) \
op_##id: { \
    uint64_t ea = (uint32_t)fp[PA(1)] + IMM(3); \
    if (UNLIKELY(ea + sizeof(T) > msize)) \
        goto oob; \
    fT x = get(fp[PB(1)]), y = get(fp[PA(2)]), z = get(fp[PB(2)]); \
    (void)z; \
    fT m = prod; \
    T v; \
    memcpy(&v, mem + ea, sizeof v); \
    fT o = get(v); \
    v = (T)put(combine); \
    memcpy(mem + ea, &v, sizeof v); \
    ip += 4; \
    NEXT(); \
}
    ADD_MEM_MUL(F32_ADD_MEM_MUL, uint32_t, float, f32_of, bits_f32, x * y, m + o)
    ADD_MEM_MUL(F64_ADD_MEM_MUL, uint64_t, double, f64_of, bits_f64, x * y, m + o)
    ADD_MEM_MUL(F32_ADD_MEM_MUL3, uint32_t, float, f32_of, bits_f32, (x * y) * z, m + o)
    ADD_MEM_MUL(F64_ADD_MEM_MUL3, uint64_t, double, f64_of, bits_f64, (x * y) * z, m + o)
    ADD_MEM_MUL(F32_SUB_MEM_MUL, uint32_t, float, f32_of, bits_f32, x * y, o - m)
    ADD_MEM_MUL(F64_SUB_MEM_MUL, uint64_t, double, f64_of, bits_f64, x * y, o - m)
    ADD_MEM_MUL(F32_SUB_MEM_MUL3, uint32_t, float, f32_of, bits_f32, (x * y) * z, o - m)
    ADD_MEM_MUL(F64_SUB_MEM_MUL3, uint64_t, double, f64_of, bits_f64, (x * y) * z, o - m)
#undef ADD_MEM_MUL

    STORE(I32_STORE, uint32_t)
    STORE(I64_STORE, uint64_t)
    STORE(F32_STORE, uint32_t)
    STORE(F64_STORE, uint64_t)
    STORE(I32_STORE8, uint8_t)
    STORE(I32_STORE16, uint16_t)
    STORE(I64_STORE8, uint8_t)
    STORE(I64_STORE16, uint16_t)
    STORE(I64_STORE32, uint32_t)
/* The store first: if it traps, the add has not happened. */
#define STORE_ADD(id, T) \
op_##id##_ADD: { \
    uint64_t ea = (uint32_t)fp[PA(3)] + IMM(4); \
    if (UNLIKELY(ea + sizeof(T) > msize)) \
        goto oob; \
    T v = (T)fp[PB(3)]; \
    memcpy(mem + ea, &v, sizeof v); \
    fp[PA(1)] = (uint32_t)((uint32_t)fp[PB(1)] + (uint32_t)fp[PA(2)]); \
    ip += 5; \
    NEXT(); \
} \
op_##id##_ADDI: { \
    uint64_t ea = (uint32_t)fp[PA(3)] + IMM(4); \
    if (UNLIKELY(ea + sizeof(T) > msize)) \
        goto oob; \
    T v = (T)fp[PB(3)]; \
    memcpy(mem + ea, &v, sizeof v); \
    fp[PA(1)] = (uint32_t)((uint32_t)fp[PB(1)] + (uint32_t)IMM(2)); \
    ip += 5; \
    NEXT(); \
}
    LW_STORE_ADD_OPS(STORE_ADD)
#undef STORE_ADD
#undef LOAD
#undef STORE

op_MEMORY_SIZE:
    fp[PA(1)] = inst->mem0 ? inst->mem0->pages : 0;
    ip += 2;
    NEXT();
op_MEMORY_GROW: {
    uint32_t n = (uint32_t)fp[PB(1)];
    int64_t old = inst->mem0 ? memory_grow(inst->mem0, n) : -1;
    LOAD_MEM();
    fp[PA(1)] = (uint32_t)old;
    ip += 2;
    NEXT();
}
op_MEMORY_INIT: {
    uint32_t d = (uint32_t)fp[PA(1)], s = (uint32_t)fp[PB(1)], n = (uint32_t)fp[PA(2)];
    uint32_t seg = PB(2);
    const Data *ds = &inst->m->datas[seg];
    uint64_t len = inst->data_dropped[seg] ? 0 : ds->len;
    if (UNLIKELY((uint64_t)s + n > len || (uint64_t)d + n > msize))
        goto oob;
    if (n)
        memcpy(mem + d, ds->bytes + s, n);
    ip += 3;
    NEXT();
}
op_DATA_DROP:
    inst->data_dropped[PA(1)] = true;
    ip += 2;
    NEXT();
op_MEMORY_COPY: {
    uint32_t d = (uint32_t)fp[PA(1)], s = (uint32_t)fp[PB(1)], n = (uint32_t)fp[PA(2)];
    if (UNLIKELY((uint64_t)s + n > msize || (uint64_t)d + n > msize))
        goto oob;
    if (n)
        memmove(mem + d, mem + s, n);
    ip += 3;
    NEXT();
}
op_MEMORY_FILL: {
    uint32_t d = (uint32_t)fp[PA(1)], n = (uint32_t)fp[PA(2)];
    uint8_t v = (uint8_t)fp[PB(1)];
    if (UNLIKELY((uint64_t)d + n > msize))
        goto oob;
    if (n)
        memset(mem + d, v, n);
    ip += 3;
    NEXT();
}

    /* ---- numeric ---- */
#include "interp/ops_num.h"

/* A binary operation on fp[a] and a value loaded as by the fused load; the
   _K form also keeps that value in fp[ld]. */
#define MEMOP_ONE(name, LT, T, get, put, expr, keep) \
op_##name: { \
    uint64_t ea = (uint64_t)(uint32_t)((uint32_t)fp[PA(2)] + PB(2)) + PA(3); \
    if (UNLIKELY(ea + sizeof(LT) > msize)) \
        goto oob; \
    LT m; \
    memcpy(&m, mem + ea, sizeof m); \
    T x = get(fp[PB(1)]), y = get((uint64_t)m); \
    if (keep) \
        fp[PB(3)] = m; \
    fp[PA(1)] = put(expr); \
    ip += 4; \
    NEXT(); \
}
#define MEMOP(op, load, LT, T, get, put, expr) \
    MEMOP_ONE(op##_M_##load, LT, T, get, put, expr, 0) \
    MEMOP_ONE(op##_M_##load##_K, LT, T, get, put, expr, 1)
    LW_MEMOP_OPS(MEMOP)
#undef MEMOP_ONE
#undef MEMOP

#include "interp/ops_facc.h"
#include "interp/ops_simd.h"

    /* Opcodes that vanish at translation (never in threaded code). */
op_NOP: op_BLOCK: op_LOOP: op_IF: op_ELSE: op_END: op_BR: op_BR_IF: op_BR_TABLE:
op_RETURN: op_CALL: op_CALL_INDIRECT: op_DROP: op_SELECT_T: op_LOCAL_GET:
op_LOCAL_SET: op_LOCAL_TEE: op_I32_CONST: op_I64_CONST: op_F32_CONST:
op_F64_CONST: op_REF_NULL:
    TRAP("internal error: untranslated instruction");

    /* ---- leaving the loop ---- */
oob:
    /* Past what a pooled memory has touched, but maybe not past its size:
       widen and run the access again (every access checks before it acts). */
    if (inst->mem0 && memory_touch_more(inst->mem0)) {
        LOAD_MEM();
        NEXT();
    }
    trap_msg = "out of bounds memory access";
trap:
    ex->depth = (uint32_t)(fr - ex->frames);
    ex->fuel = fuel;
    exec_record_trap(ex, trap_msg);
    return LW_TRAP;
#ifndef LW_NO_FUEL
out_of_fuel:
    ex->ip = ip;
    fr->inst = inst;   /* the resume starts from it */
    ex->depth = (uint32_t)(fr - ex->frames);
    ex->fuel = fuel;
    return LW_YIELD;
#endif
}
