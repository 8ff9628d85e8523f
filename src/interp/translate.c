/*
 * Translation of a validated wasm function body into threaded code
 * (see translate.h for the code format).
 *
 * The translator simulates the operand stack.  Each stack entry says where
 * its value is: in its "home" slot (tempbase + its height), in a local's
 * slot (a pending local.get: an alias), or nowhere yet (a constant).  An
 * instruction reads its operands straight from wherever they are and writes
 * its result to the home slot of the result's height, so local.get and
 * most constants cost nothing.  Aliases are made real ("materialised")
 * before the local they name is overwritten and at block entry; values
 * crossing a label are moved to the label's home slots.
 *
 * Frame layout: params | declared locals | a slot that stays 0 | constant
 * slots | operand stack (the "home" slots).  A call puts its arguments in
 * its top home slots, and the callee's frame starts there.  Constant
 * operands inside loops get a constant slot, set once on function entry by
 * a CONSTS instruction (code starts after it when there are none); the
 * constant 0 is read from the zero slot.
 *
 * Peepholes (the "last" instruction, when it just made the top entry):
 * local.set/tee retarget its result into the local; br_if and if fuse an
 * integer comparison into one conditional branch; a load fuses the
 * i32.add that computed its address; return writes a single result
 * straight into fp[0].  The arithmetic and memory fusions (a multiply
 * into an add, a load into its user, read-modify-write) are in fuse.c;
 * the state they share with this file is in translate_state.h.
 *
 * Fuel: `pending` counts the wasm instructions since the last charge.  The
 * count is charged by the instruction that leaves the straight-line run (a
 * branch, call or return carries it), or by a CHARGE where a run falls into
 * a join (loop header, targeted block end).  The interpreter checks the
 * fuel at taken backward branches (every loop back-edge) and before calls.
 *
 * The input is validated code; the translator still never reads past the
 * body, and reports what it cannot translate as an error.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "interp/translate_state.h"
#include "decode/leb128.h"

/* ---- facts from the opcode table ---- */

/* The decoder's per-opcode facts (decode/decode_ops.h): immediates, signature, lookup. */
static const OpTables *ops;
#define OPI(op) (&ops->ops[op])

/* The immediate-operand variant of a binary op, or 0. */
static const uint16_t imm_variant[OP__COUNT] = {
#define X(id) [OP_##id] = H_##id##_IMM,
    LW_IMM_OPS(X)
#undef X
};

/* Fused compare-and-branch: comparison k (LW_CMP_OPS order) and its negation. */
enum {
#define X(id, op, t32, t64, neg) CMPI_##id,
    LW_CMP_OPS(X)
#undef X
};
static const uint8_t cmp_negate[] = {
#define X(id, op, t32, t64, neg) [CMPI_##id] = CMPI_##neg,
    LW_CMP_OPS(X)
#undef X
};
#define H_JMP_CMP(k, is64, imm) (H_JMP_I32_EQ + 4 * (k) + 2 * (is64) + (imm))
#define H_JMP_LOAD(k, load8, ar) (H_JMP_LD32_AI_EQ + 4 * (k) + 2 * (load8) + (ar))
#define H_ADD_JMP(k, addi, is64, imm) (H_ADD_JMP_I32_EQ + 8 * (k) + 4 * (addi) + 2 * (is64) + (imm))

/* Constant slots per function, at most (each costs a store per call). */
#define MAX_CONST_SLOTS 32

/* ---- reading the body ---- */

static uint32_t rd_u32(T *t)
{
    uint32_t v;
    if (leb_u32(&t->p, t->end, &v) != LEB_OK)
        fail(t, "malformed function body");
    return v;
}

static uint8_t rd_byte(T *t)
{
    if (t->p >= t->end)
        fail(t, "malformed function body");
    return *t->p++;
}

static void rd_blocktype(T *t, uint32_t *np, uint32_t *nr)
{
    if (t->p >= t->end)
        fail(t, "malformed function body");
    uint8_t b = *t->p;
    if (b == 0x40) {
        t->p++;
        *np = *nr = 0;
    } else if (b & 0x40 && !(b & 0x80)) {   /* a one-byte negative s33: a value type */
        t->p++;
        *np = 0;
        *nr = 1;
    } else {
        int64_t idx;
        if (leb_s33(&t->p, t->end, &idx) != LEB_OK || idx < 0 || (uint64_t)idx >= t->m->ntypes)
            fail(t, "malformed block type");
        *np = t->m->types[idx].nparams;
        *nr = t->m->types[idx].nresults;
    }
}

/* Read an opcode; returns its OP_ id. */
static int rd_op(T *t)
{
    uint8_t b = rd_byte(t);
    uint16_t op;
    if (b == 0xFC) {
        uint32_t sub = rd_u32(t);
        op = sub < OPS_FC_MAX ? ops->by_fc[sub] : OP_ILLEGAL;
    } else if (b == 0xFD) {
        uint32_t sub = rd_u32(t);
        op = sub < OPS_FD_MAX ? ops->by_fd[sub] : OP_ILLEGAL;
    } else {
        op = ops->by_byte[b];
    }
    if (op == OP_ILLEGAL)
        fail(t, "unsupported instruction");
    return op;
}

/* Step over the immediates of `op` (dead code). */
static void skip_imm(T *t, int op)
{
    uint32_t n, np, nr;
    switch (OPI(op)->imm) {
    case IMM_NONE: break;
    case IMM_BLOCK: rd_blocktype(t, &np, &nr); break;
    case IMM_LABEL: case IMM_FUNC: case IMM_LOCAL: case IMM_GLOBAL: case IMM_TABLE:
    case IMM_ELEM: case IMM_DATA: case IMM_I32: case IMM_I64:
        t->p = leb_skip(t->p, t->end);
        break;
    case IMM_BR_TABLE:
        n = rd_u32(t);
        for (uint64_t i = 0; i <= n; i++)
            t->p = leb_skip(t->p, t->end);
        break;
    case IMM_CALL_IND: case IMM_MEMARG: case IMM_TABLE2: case IMM_ELEM_TABLE:
        t->p = leb_skip(t->p, t->end);
        t->p = leb_skip(t->p, t->end);
        break;
    case IMM_MEM: case IMM_REFTYPE: rd_byte(t); break;
    case IMM_MEM2: rd_byte(t); rd_byte(t); break;
    case IMM_DATA_MEM: t->p = leb_skip(t->p, t->end); rd_byte(t); break;
    case IMM_F32: if (t->end - t->p < 4) fail(t, "malformed function body"); t->p += 4; break;
    case IMM_F64: if (t->end - t->p < 8) fail(t, "malformed function body"); t->p += 8; break;
    case IMM_SELECT_T:
        n = rd_u32(t);
        for (uint32_t i = 0; i < n; i++)
            rd_byte(t);
        break;
    case IMM_V128: case IMM_SHUFFLE:
        if (t->end - t->p < 16) fail(t, "malformed function body");
        t->p += 16;
        break;
    case IMM_LANE: rd_byte(t); break;
    case IMM_MEMARG_LANE:
        t->p = leb_skip(t->p, t->end);
        t->p = leb_skip(t->p, t->end);
        rd_byte(t);
        break;
    default:
        fail(t, "unsupported instruction");
    }
}

/* ---- emitting branch targets ---- */

static void note_target(T *t, size_t at)
{
    t->tgts = grow(t, t->tgts, &t->tgts_cap, t->ntgts + 1, sizeof *t->tgts);
    t->tgts[t->ntgts++] = at;
}

/* A target cell pointing at code index `to` (known: a loop header). */
static void emit_target_at(T *t, size_t to)
{
    note_target(t, t->len);
    emit_u64(t, to);
}

/* A forward target cell, linked into `*chain` (values are index + 1; 0 ends). */
static void emit_target_chain(T *t, size_t *chain)
{
    note_target(t, t->len);
    emit_u64(t, *chain);
    *chain = t->len;   /* == index + 1 of the cell just emitted */
}

static void patch_chain(T *t, size_t chain, size_t to)
{
    while (chain) {
        size_t at = chain - 1;
        chain = t->code[at].u64;
        t->code[at].u64 = to;
    }
}

/* ---- the simulated operand stack (its basics: translate_state.h) ---- */

/* A move of one value: 16 bytes in a wide frame, where any value may be a v128. */
static int mov_h(T *t) { return t->s == 2 ? H_MOV2 : H_MOV; }

static void set_height(T *t, uint32_t h)
{
    while (t->h > h)
        if (t->stk[--t->h].kind == E_LOCAL)
            t->nalias--;
}

/* Make entry i live in its home slot. */
static void materialise(T *t, uint32_t i)
{
    Ent *e = &t->stk[i];
    if (e->kind == E_LOCAL) {
        emit_h(t, mov_h(t));
        emit_pair(t, home(t, i), e->slot);
        t->nalias--;
    } else if (e->kind == E_CONST) {
        emit_h(t, H_CONST);
        emit_pair(t, home(t, i), 0);
        emit_u64(t, e->val);
    }
    e->kind = E_TEMP;
}

/* Materialise the aliases of local `slot` (UINT32_MAX: of every local) below index `upto`. */
static void materialise_aliases(T *t, uint32_t slot, uint32_t upto)
{
    for (uint32_t i = 0; t->nalias && i < upto; i++)
        if (t->stk[i].kind == E_LOCAL && (slot == UINT32_MAX || t->stk[i].slot == slot))
            materialise(t, i);
}

static uint32_t pop_slot(T *t)
{
    Ent e = pop(t);
    return operand(t, e, t->h);
}

/* Copy entry i (without changing it) into slot dst. */
static void move_to(T *t, uint32_t i, uint32_t dst)
{
    Ent e = t->stk[i];
    if (e.kind == E_CONST) {
        emit_h(t, H_CONST);
        emit_pair(t, dst, 0);
        emit_u64(t, e.val);
        return;
    }
    uint32_t src = e.kind == E_LOCAL ? e.slot : home(t, i);
    if (src != dst) {
        emit_h(t, mov_h(t));
        emit_pair(t, dst, src);
    }
}

/*
 * Copy the n entries below the top `skip` ones into dst0.. in ascending
 * order.  Safe for label slots: every source that is a temp lies at or
 * above its destination, and locals lie below all of them.
 */
static void move_top(T *t, uint32_t n, uint32_t dst0, uint32_t skip)
{
    for (uint32_t k = 0; k < n; k++)
        move_to(t, t->h - skip - n + k, dst0 + k * t->s);
}

static bool in_place(T *t, uint32_t n, uint32_t dst0, uint32_t skip)
{
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = t->h - skip - n + k;
        if (t->stk[i].kind != E_TEMP || home(t, i) != dst0 + k * t->s)
            return false;
    }
    return true;
}

static uint32_t take_pending(T *t)
{
    uint32_t n = t->pending;
    t->pending = 0;
    return n;
}

/*
 * Where the run that falls through the last conditional branch (or call)
 * can be charged: its not-taken fuel count.  Any label ends the run.
 */
static void set_fold(T *t, size_t cell, int half)
{
    t->fold_cell = cell;
    t->fold_half = half;
    t->fold_ok = true;
}

/* Charge the pending run before a join: on the branch it fell through, else by a CHARGE. */
static void charge(T *t)
{
    if (!t->pending)
        return;
    if (t->fold_ok) {
        Cell *c = &t->code[t->fold_cell];
        if (t->fold_half)
            c->s.b += take_pending(t);
        else
            c->s.a += take_pending(t);
        return;
    }
    emit_h(t, H_CHARGE);
    emit_pair(t, take_pending(t), 0);
}

static Ctl *label(T *t, uint32_t depth)
{
    if (depth >= t->nctl)
        fail(t, "unknown label");
    return &t->ctl[t->nctl - 1 - depth];
}

static uint32_t label_arity(T *t, Ctl *c)
{
    if (c->kind == C_FUNC)
        return t->cf->nresults;
    return c->kind == C_LOOP ? c->nparams : c->nresults;
}

static void emit_label_target(T *t, Ctl *c)
{
    if (c->kind == C_LOOP) {
        emit_target_at(t, c->loop_pc);
    } else {
        c->targeted = true;
        emit_target_chain(t, &c->chain);
    }
}

/*
 * Return with the n results below the top `skip` entries.  Results go to
 * fp[0..n) in order, which may overwrite locals that later results still
 * alias: those are first copied to their home slots (in this path only).
 */
static void emit_return(T *t, uint32_t skip)
{
    uint32_t n = t->cf->nresults;
    if (n == 1 && skip == 0 && last_makes_top(t)) {
        t->code[t->last + 1].s.a = 0;   /* compute the result straight into fp[0] */
    } else {
        uint32_t small[16], *src = small;
        if (n > 16 && !(src = malloc(n * sizeof *src)))
            fail(t, "out of memory");
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = t->h - skip - n + k;
            Ent e = t->stk[i];
            src[k] = e.kind == E_LOCAL ? e.slot : home(t, i);
            /* Only a local below its destination can be overwritten first. */
            if (e.kind == E_LOCAL && e.slot < k * t->s) {
                emit_h(t, mov_h(t));
                emit_pair(t, home(t, i), e.slot);
                src[k] = home(t, i);
            }
        }
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = t->h - skip - n + k;
            uint32_t dst = k * t->s;
            if (t->stk[i].kind == E_CONST) {
                emit_h(t, H_CONST);
                emit_pair(t, dst, 0);
                emit_u64(t, t->stk[i].val);
            } else if (src[k] != dst) {
                emit_h(t, mov_h(t));
                emit_pair(t, dst, src[k]);
            }
        }
        if (src != small)
            free(src);
    }
    emit_h(t, H_RET);
    emit_pair(t, take_pending(t), 0);
}

/* Unconditional branch to label `depth`, the values being below the top `skip` entries. */
static void emit_br(T *t, uint32_t depth, uint32_t skip)
{
    Ctl *c = label(t, depth);
    if (c->kind == C_FUNC) {
        emit_return(t, skip);
        return;
    }
    move_top(t, label_arity(t, c), home(t, c->height), skip);
    emit_h(t, H_JMP);
    emit_pair(t, take_pending(t), 0);
    emit_label_target(t, c);
}

/*
 * Increment-and-test: when the instruction at `at` (just before the branch
 * being emitted, at the end of the code) is an add of the same width that
 * wrote the compared slot `a`, replace both by one add-and-branch
 * [x|src][y|b][imm][n|f][target] (y: a slot, or a 32-bit immediate
 * addend).  Returns false (emitting nothing) when the pattern is not there.
 */
/* Comparison with its operands swapped (x < y == y > x), or -1. */
static int swapped(int op)
{
    static const uint8_t sw[] = {
        [CMPI_EQ] = CMPI_EQ, [CMPI_NE] = CMPI_NE, [CMPI_LT_S] = CMPI_GT_S, [CMPI_LT_U] = CMPI_GT_U,
        [CMPI_GT_S] = CMPI_LT_S, [CMPI_GT_U] = CMPI_LT_U, [CMPI_LE_S] = CMPI_GE_S,
        [CMPI_LE_U] = CMPI_GE_U, [CMPI_GE_S] = CMPI_LE_S, [CMPI_GE_U] = CMPI_LE_U,
    };
    switch (op) {
    case OP_I32_ADD: case OP_I32_MUL: case OP_I32_AND: case OP_I32_OR: case OP_I32_XOR:
    case OP_I64_ADD: case OP_I64_MUL: case OP_I64_AND: case OP_I64_OR: case OP_I64_XOR:
        return op;
    }
    if (op >= OP_I32_EQ && op <= OP_I32_GE_U)
        return OP_I32_EQ + sw[op - OP_I32_EQ];
    if (op >= OP_I64_EQ && op <= OP_I64_GE_U)
        return OP_I64_EQ + sw[op - OP_I64_EQ];
    return -1;
}

static bool add_and_branch(T *t, size_t at, int ah, int k, bool is64, bool imm,
                           uint32_t a, uint32_t b, uint64_t immv, uint32_t fuel, size_t *fall_cell)
{
    if (t->plain)
        return false;
    if (at == SIZE_MAX)
        return false;
    int add = is64 ? OP_I64_ADD : OP_I32_ADD, addi = is64 ? H_I64_ADD_IMM : H_I32_ADD_IMM;
    if (ah != add && ah != addi)
        return false;
    const Cell *ai = &t->code[at];
    uint32_t x = ai[1].s.a, src = ai[1].s.b, y;
    if (x != a && !imm && x == b) {
        /* the add made the right operand: compare the other way round */
        k = swapped(OP_I32_EQ + k) - OP_I32_EQ;
        b = a;
        a = x;
    }
    if (x != a)
        return false;
    if (ah == addi) {
        int64_t c = (int64_t)ai[2].u64;
        if (!is64)
            c = (int32_t)(uint32_t)c;
        if (c < INT32_MIN || c > INT32_MAX)
            return false;
        y = (uint32_t)(int32_t)c;
    } else {
        y = ai[2].s.a;
    }
    t->len = at;
    t->last = t->prev = SIZE_MAX;
    size_t h = emit_h(t, H_ADD_JMP(k, ah == addi, is64, imm));
    emit_pair(t, x, src);
    emit_pair(t, y, b);
    emit_u64(t, immv);
    emit_pair(t, fuel, 0);
    *fall_cell = h + 4;
    return true;
}

/*
 * `i32.load[8_u] p; compare a with b; branch` where the load at `at`
 * wrote a: one load-compare-branch.  It still writes a when a is a local,
 * which may be read later; a temp is read by nothing after the branch, so
 * it gets LW_NO_SLOT and the handler stores nothing (sieve -2.6%: stores
 * queue behind its cache misses).  b is a slot, or the immediate immv when
 * imm.
 */
static bool load_and_branch(T *t, size_t at, int lh, int k, bool is64, bool imm,
                            uint32_t a, uint32_t b, uint64_t immv, uint32_t fuel)
{
    if (t->plain)
        return false;
    if (at == SIZE_MAX || is64)
        return false;
    const Cell *li = &t->code[at];
    if (li[1].s.a != a && !imm && li[1].s.a == b) {
        /* b was loaded: compare the other way round (x < y is y > x) */
        k = swapped(OP_I32_EQ + k) - OP_I32_EQ;
        b = a;
        a = li[1].s.a;
    }
    if (li[1].s.a != a)
        return false;
    bool load8, ar = false;
    uint32_t x = li[1].s.b, y = 0;
    uint64_t off;
    if (lh == OP_I32_LOAD || lh == OP_I32_LOAD8_U) {
        load8 = lh == OP_I32_LOAD8_U;
        off = li[2].u64;
    } else if (lh == H_I32_LOAD_AI || lh == H_I32_LOAD8_U_AI || lh == H_I32_LOAD_AR || lh == H_I32_LOAD8_U_AR) {
        load8 = lh == H_I32_LOAD8_U_AI || lh == H_I32_LOAD8_U_AR;
        ar = lh == H_I32_LOAD_AR || lh == H_I32_LOAD8_U_AR;
        y = li[2].s.a;
        off = li[2].s.b;
    } else {
        return false;
    }
    if (imm) {
        b = const_slot(t, immv);
        if (b == UINT32_MAX)
            return false;
    }
    if (off > UINT32_MAX)
        return false;
    t->len = at;
    t->last = t->prev = SIZE_MAX;
    emit_h(t, H_JMP_LOAD(k, load8, ar));
    emit_pair(t, a >= t->tempbase ? LW_NO_SLOT : a, x);   /* a temp: nothing reads it after */
    emit_pair(t, y, (uint32_t)off);
    emit_pair(t, b, fuel);   /* then the target and the fall-through charge, as JMP_IF */
    return true;
}

/*
 * Pop the condition and branch when it is non-zero (negate: when zero) to
 * label c, or to the chain *skip when c is NULL.  A comparison just before
 * fuses into the branch.
 */
static void emit_cond(T *t, bool negate, Ctl *c, size_t *skip)
{
    uint32_t fuel = take_pending(t);
    size_t fall_cell = 0;
    int lh = t->last_h;
    if (last_makes_top(t)) {
        const Cell *li = &t->code[t->last];
        int k = -1;
        bool is64 = false, imm = false;
        uint64_t immv = 0;
        uint32_t a = li[1].s.b, b = 0;
        if (lh >= OP_I32_EQ && lh <= OP_I32_GE_U) {
            k = lh - OP_I32_EQ;
        } else if (lh >= OP_I64_EQ && lh <= OP_I64_GE_U) {
            k = lh - OP_I64_EQ;
            is64 = true;
        } else if (lh >= H_I32_EQ_IMM && lh <= H_I32_GE_U_IMM) {
            k = lh - H_I32_EQ_IMM;
            imm = true;
        } else if (lh >= H_I64_EQ_IMM && lh <= H_I64_GE_U_IMM) {
            k = lh - H_I64_EQ_IMM;
            is64 = imm = true;
        } else if (lh == OP_I64_EQZ) {
            k = CMPI_EQ;
            is64 = imm = true;
        }
        if (k >= 0 || lh == OP_I32_EQZ) {
            if (imm)
                immv = lh == OP_I64_EQZ ? 0 : li[2].u64;
            else if (k >= 0)
                b = li[2].s.a;
            t->len = t->last;   /* drop the comparison: the branch does it */
            pop(t);
            if (lh == OP_I32_EQZ) {
                if (add_and_branch(t, t->prev, t->prev_h, negate ? CMPI_NE : CMPI_EQ, false, true, a, 0, 0, fuel, &fall_cell))
                    goto target;
                emit_h(t, negate ? H_JMP_IF : H_JMP_UNLESS);
                emit_pair(t, a, fuel);
            } else {
                if (negate)
                    k = cmp_negate[k];
                if (add_and_branch(t, t->prev, t->prev_h, k, is64, imm, a, b, immv, fuel, &fall_cell) ||
                    load_and_branch(t, t->prev, t->prev_h, k, is64, imm, a, b, immv, fuel))
                    goto target;
                size_t at = emit_h(t, H_JMP_CMP(k, is64, imm));
                if (imm) {
                    emit_pair(t, a, fuel);
                    emit_u64(t, immv);
                } else {
                    emit_pair(t, a, b);
                    emit_pair(t, fuel, 0);
                    fall_cell = at + 2;   /* the not-taken charge shares the fuel cell */
                }
            }
            goto target;
        }
    }
    /* A plain condition: maybe a value just loaded (x != 0) ... */
    if (last_makes_top(t) &&
        load_and_branch(t, t->last, lh, negate ? CMPI_EQ : CMPI_NE, false, false,
                        home(t, t->h - 1), t->zero, 0, fuel)) {
        pop(t);
        goto target;
    }
    /* ... or the local an add just wrote. */
    Ent e = t->stk[t->h - 1];
    if (e.kind == E_LOCAL && t->last != SIZE_MAX && t->last_end == t->len &&
        add_and_branch(t, t->last, t->last_h, negate ? CMPI_EQ : CMPI_NE, false, true,
                       e.slot, 0, 0, fuel, &fall_cell)) {
        pop(t);
        goto target;
    }
    uint32_t cs = pop_slot(t);
    emit_h(t, negate ? H_JMP_UNLESS : H_JMP_IF);
    emit_pair(t, cs, fuel);
target:
    if (c)
        emit_label_target(t, c);
    else
        emit_target_chain(t, skip);
    /* The fall-through charge starts as the branch's own run, so that a
       branch not taken subtracts one number; charge() adds the run after. */
    if (fall_cell) {
        t->code[fall_cell].s.b = fuel;
        set_fold(t, fall_cell, 1);
    } else {
        set_fold(t, t->len, 0);
        emit_pair(t, fuel, 0);
    }
}

static void br_if(T *t, uint32_t depth)
{
    Ctl *c = label(t, depth);
    uint32_t n = label_arity(t, c);
    if (c->kind != C_FUNC && in_place(t, n, home(t, c->height), 1)) {
        emit_cond(t, false, c, NULL);
        return;
    }
    size_t skip = 0;
    emit_cond(t, true, NULL, &skip);
    emit_br(t, depth, 0);
    patch_chain(t, skip, t->len);
    t->fold_ok = t->in_entry = false;
}

static void br_table(T *t)
{
    uint32_t n = rd_u32(t);
    if ((uint64_t)n + 1 > (uint64_t)(t->end - t->p))
        fail(t, "malformed br_table");
    uint32_t *labels = malloc(((size_t)n + 1) * sizeof *labels);
    if (!labels)
        fail(t, "out of memory");
    for (uint32_t k = 0; k <= n; k++) {
        if (leb_u32(&t->p, t->end, &labels[k]) != LEB_OK || labels[k] >= t->nctl) {
            free(labels);
            fail(t, "malformed br_table");
        }
    }
    uint32_t is = pop_slot(t);
    emit_h(t, H_JMP_TABLE);
    emit_pair(t, is, take_pending(t));
    emit_u64(t, n);
    size_t base = t->len;
    for (uint32_t k = 0; k <= n; k++) {
        note_target(t, t->len);
        emit_u64(t, 0);
    }
    for (uint32_t k = 0; k <= n; k++) {
        Ctl *c = label(t, labels[k]);
        uint32_t ar = label_arity(t, c);
        if (c->kind == C_LOOP && in_place(t, ar, home(t, c->height), 0)) {
            t->code[base + k].u64 = c->loop_pc;
        } else if (c->kind != C_FUNC && c->kind != C_LOOP && in_place(t, ar, home(t, c->height), 0)) {
            c->targeted = true;
            t->code[base + k].u64 = c->chain;
            c->chain = base + k + 1;
        } else {
            /* A stub after the table moves the values, then jumps. */
            t->code[base + k].u64 = t->len;
            emit_br(t, labels[k], 0);
        }
    }
    free(labels);
}

/* Enter a block whose np params are the top entries (below `skip` more). */
static Ctl *enter_block(T *t, uint8_t kind, uint32_t np, uint32_t nr, uint32_t skip)
{
    /* An alias must not outlive a path on which its local changes: make them real now. */
    materialise_aliases(t, UINT32_MAX, t->h - skip);
    for (uint32_t i = t->h - skip - np; i < t->h - skip; i++)
        materialise(t, i);
    t->ctl = grow(t, t->ctl, &t->ctl_cap, (size_t)t->nctl + 1, sizeof *t->ctl);
    Ctl *c = &t->ctl[t->nctl++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    if (kind == C_LOOP)
        t->loops++;
    c->nparams = np;
    c->nresults = nr;
    c->height = t->h - skip - np;
    return c;
}

static void end_block(T *t)
{
    Ctl *c = &t->ctl[t->nctl - 1];
    if (c->kind == C_FUNC) {
        if (!c->dead)
            emit_return(t, 0);
        t->nctl--;
        return;
    }
    bool join = c->kind != C_LOOP && (c->targeted || (c->kind == C_IF && !c->in_else));
    if (join) {
        if (!c->dead) {
            move_top(t, c->nresults, home(t, c->height), 0);
            charge(t);
        }
        set_height(t, c->height);
        for (uint32_t k = 0; k < c->nresults; k++)
            push_temp(t);
        if (c->kind == C_IF && !c->in_else)
            patch_chain(t, c->else_chain, t->len);
        patch_chain(t, c->chain, t->len);
        t->last = SIZE_MAX;
        t->fold_ok = t->in_entry = false;
    }
    bool dead = c->dead && !join;
    if (c->kind == C_LOOP)
        t->loops--;
    t->nctl--;
    if (dead) {
        set_height(t, c->height);
        t->ctl[t->nctl - 1].dead = true;
    }
}

static void op_else(T *t)
{
    Ctl *c = &t->ctl[t->nctl - 1];
    if (c->kind != C_IF || c->in_else)
        fail(t, "else without if");
    if (!c->dead) {
        move_top(t, c->nresults, home(t, c->height), 0);
        emit_h(t, H_JMP);
        emit_pair(t, take_pending(t), 0);
        emit_label_target(t, c);
    }
    patch_chain(t, c->else_chain, t->len);
    c->else_chain = 0;
    c->in_else = true;
    c->dead = false;
    set_height(t, c->height);
    for (uint32_t k = 0; k < c->nparams; k++)
        push_temp(t);
    t->pending = 0;
    t->last = SIZE_MAX;
    t->fold_ok = t->in_entry = false;
}

/* Mark the rest of the current block unreachable. */
static void go_dead(T *t)
{
    t->ctl[t->nctl - 1].dead = true;
    t->pending = 0;
}

/* ---- instructions ---- */

/*
 * i32.wrap_i64 just before an instruction that takes entry i as an i32
 * is dropped: handlers read i32 operands as the low 32 bits of a slot
 * anyway, so the instruction can read the i64 directly.  (Validation
 * guarantees whatever consumes a wrap's result takes an i32.)
 */
static void unwrap(T *t, uint32_t i)
{
    Ent *e = &t->stk[i];
    if (e->kind != E_TEMP || t->last == SIZE_MAX || t->last_end != t->len ||
        t->last_h != OP_I32_WRAP_I64 || t->code[t->last + 1].s.a != home(t, i))
        return;
    uint32_t src = t->code[t->last + 1].s.b;
    t->len = t->last;
    t->last = t->prev = SIZE_MAX;
    if (src != home(t, i)) {
        e->kind = E_LOCAL;   /* read-only alias of the i64's slot, consumed at once */
        e->slot = src;
        t->nalias++;
    }
}

static void op_unary(T *t, int h)
{
    unwrap(t, t->h - 1);
    uint32_t a = pop_slot(t);
    uint32_t d = home(t, t->h);
    size_t at = emit_h(t, h);
    emit_pair(t, d, a);
    push_temp(t);
    set_last(t, at, h);
}

static void op_binary(T *t, int op)
{
    if (fuse_muladd(t, op) || fuse_mul3(t, op) || fuse_load_operand(t, op))
        return;
    uint32_t ib = t->h - 1, ia = t->h - 2;
    unwrap(t, ib);
    unwrap(t, ia);
    Ent eb = pop(t), ea = pop(t);
    if (imm_variant[op] && eb.kind != E_CONST && ea.kind == E_CONST && swapped(op) >= 0) {
        Ent e = ea; ea = eb; eb = e;
        uint32_t i = ia; ia = ib; ib = i;
        op = swapped(op);
    }
    if (eb.kind == E_CONST && (op == OP_I32_SUB || op == OP_I64_SUB)) {
        /* x - c is x + (-c): one form for loop counters to fuse with */
        eb.val = op == OP_I32_SUB ? (uint32_t)-(uint32_t)eb.val : -eb.val;
        op = op == OP_I32_SUB ? OP_I32_ADD : OP_I64_ADD;
    }
    uint32_t d = home(t, t->h);
    size_t at;
    int h;
    Cell st[2];
    bool fused;
    if (imm_variant[op] && eb.kind == E_CONST) {
        uint32_t as = operand(t, ea, ia);
        h = imm_variant[op];
        fused = op == OP_I32_ADD && take_store(t, st, &h, true);
        at = emit_h(t, h);
        emit_pair(t, d, as);
        emit_u64(t, eb.val);
    } else {
        uint32_t bs = operand(t, eb, ib), as = operand(t, ea, ia);
        h = op;
        fused = op == OP_I32_ADD && take_store(t, st, &h, false);
        at = emit_h(t, h);
        emit_pair(t, d, as);
        emit_pair(t, bs, 0);
    }
    if (fused) {
        *cell(t) = st[0];
        *cell(t) = st[1];
    }
    push_temp(t);
    set_last(t, at, h);
}

/* v128.bitselect: [dst|a][b|c]. */
static void op_ternary(T *t, int h)
{
    uint32_t c = pop_slot(t), b = pop_slot(t), a = pop_slot(t);
    emit_to_top(t, h, a, b, c);
}

/* 16 bytes of the body as two little-endian words. */
static void rd_bytes16(T *t, uint64_t w[2])
{
    if (t->end - t->p < 16)
        fail(t, "malformed function body");
    memcpy(w, t->p, 16);   /* lane 0 first: both hosts are little-endian */
    t->p += 16;
}

/*
 * The SIMD instructions with immediates of their own (the others are
 * plain unary and binary operations, loads and stores):
 *   v128.const          V128_CONST [dst|-][lo][hi]
 *   i8x16.shuffle       [dst|a][b|-][lanes 0-7][lanes 8-15]
 *   extract_lane        [dst|a][lane|-]
 *   replace_lane        [dst|a][x|lane]
 *   load*_lane          [dst|addr][v|lane][offset]
 *   store*_lane         [addr|v][lane|-][offset]
 */
static void op_simd(T *t, int op)
{
    uint64_t w[2];
    uint32_t d, a, b;
    size_t at;
    switch (OPI(op)->imm) {
    case IMM_V128:
        rd_bytes16(t, w);
        d = home(t, t->h);
        at = emit_h(t, H_V128_CONST);
        emit_pair(t, d, 0);
        emit_u64(t, w[0]);
        emit_u64(t, w[1]);
        push_temp(t);
        set_last(t, at, H_V128_CONST);
        return;
    case IMM_SHUFFLE:
        rd_bytes16(t, w);
        b = pop_slot(t);
        a = pop_slot(t);
        d = home(t, t->h);
        at = emit_h(t, op);
        emit_pair(t, d, a);
        emit_pair(t, b, 0);
        emit_u64(t, w[0]);
        emit_u64(t, w[1]);
        break;
    case IMM_LANE: {
        uint32_t lane = rd_byte(t);
        if (OPI(op)->npop == 1) {          /* extract: "v>x" */
            a = pop_slot(t);
            d = home(t, t->h);
            at = emit_h(t, op);
            emit_pair(t, d, a);
            emit_pair(t, lane, 0);
        } else {                           /* replace: "vx>v" */
            uint32_t x = pop_slot(t);
            a = pop_slot(t);
            d = home(t, t->h);
            at = emit_h(t, op);
            emit_pair(t, d, a);
            emit_pair(t, x, lane);
        }
        break;
    }
    case IMM_MEMARG_LANE: {
        rd_u32(t);                         /* alignment: a hint */
        uint32_t off = rd_u32(t), lane = rd_byte(t);
        uint32_t v = pop_slot(t), addr = pop_slot(t);
        if (OPI(op)->push) {               /* load: "iv>v" */
            d = home(t, t->h);
            at = emit_h(t, op);
            emit_pair(t, d, addr);
            emit_pair(t, v, lane);
            emit_u64(t, off);
            break;
        }
        at = emit_h(t, op);
        emit_pair(t, addr, v);
        emit_pair(t, lane, 0);
        emit_u64(t, off);
        set_last(t, at, op);
        return;
    }
    default:
        fail(t, "unsupported instruction");
    }
    push_temp(t);
    set_last(t, at, op);
}

static void op_local_set(T *t, uint32_t x, bool tee)
{
    if (x >= t->zero)
        fail(t, "unknown local");
    Ent top = t->stk[t->h - 1];
    if (top.kind == E_LOCAL && top.slot == x) {
        if (!tee)
            pop(t);
        return;
    }
    if (t->in_entry && t->zeroed[x] && top.kind == E_CONST && top.val == 0) {
        /* Setting a local to 0 before any label: it is 0 already. */
        pop(t);
        if (tee)
            push(t, E_LOCAL, x, 0);
        return;
    }
    t->zeroed[x] = 0;
    materialise_aliases(t, x, t->h - 1);
    if (last_makes_top(t)) {
        /* The producer writes the local directly.  It stays `last` (for
           add-and-branch fusion) but no longer makes the top entry. */
        t->code[t->last + 1].s.a = x;
    } else {
        uint32_t i = t->h - 1;
        if (top.kind == E_CONST) {
            emit_h(t, H_CONST);
            emit_pair(t, x, 0);
            emit_u64(t, top.val);
        } else {
            emit_h(t, mov_h(t));
            emit_pair(t, x, top.kind == E_LOCAL ? top.slot : home(t, i));
        }
    }
    pop(t);
    if (tee)
        push(t, E_LOCAL, x, 0);
}

static void op_call(T *t, int h, uint32_t fi, uint32_t type, uint32_t table)
{
    const Module *m = t->m;
    if (type >= m->ntypes)
        fail(t, "unknown type");
    const FuncType *ft = &m->types[type];
    uint32_t idx_slot = 0;
    if (h == H_CALL_IND)
        idx_slot = pop_slot(t);
    if (t->h < ft->nparams)
        fail(t, "operand stack underflow");
    uint32_t base = t->h - ft->nparams;
    for (uint32_t i = base; i < t->h; i++)
        materialise(t, i);
    set_height(t, base);
    /* The run after the call is charged with it (early, exactly once). */
    set_fold(t, emit_h(t, h) + 1, 1);
    emit_pair(t, home(t, base), take_pending(t));
    if (h == H_CALL_LOCAL) {
        CompiledFunc *callee = code_get(t->mod, fi - m->nfunc_imports);
        if (!callee)
            fail(t, "out of memory");
        cell(t)->p = callee;
    } else if (h == H_CALL_IMPORT) {
        emit_pair(t, fi, 0);
    } else {
        emit_pair(t, type, table);
        emit_pair(t, idx_slot, 0);
    }
    for (uint32_t k = 0; k < ft->nresults; k++)
        push_temp(t);
}

/* Emit `h dst, operands...` for an instruction with pop operands and an optional result. */
static bool global_is_v128(T *t, uint32_t g)
{
    return g < t->m->nglobals && t->m->global_types[g].type == VT_V128;
}

static void op_generic(T *t, int h, uint32_t npop, bool result, uint32_t imm1, uint32_t imm2)
{
    uint32_t s[3] = { 0, 0, 0 };
    for (uint32_t k = npop; k-- > 0;)
        s[k] = pop_slot(t);
    uint32_t d = home(t, t->h);
    size_t at = emit_h(t, h);
    switch (h) {
    case H_MEMORY_SIZE: emit_pair(t, d, 0); break;
    case H_MEMORY_GROW: emit_pair(t, d, s[0]); break;
    case H_GLOBAL_GET: case H_GLOBAL_GET2: emit_pair(t, d, imm1); break;
    case H_GLOBAL_SET: case H_GLOBAL_SET2: emit_pair(t, s[0], imm1); break;
    case H_REF_FUNC: emit_pair(t, d, imm1); break;
    case H_TABLE_GET: emit_pair(t, d, s[0]); emit_pair(t, imm1, 0); break;
    case H_TABLE_SET: emit_pair(t, s[0], s[1]); emit_pair(t, imm1, 0); break;
    case H_TABLE_SIZE: emit_pair(t, d, imm1); break;
    case H_TABLE_GROW: emit_pair(t, d, s[0]); emit_pair(t, s[1], imm1); break;
    case H_TABLE_FILL: emit_pair(t, s[0], s[1]); emit_pair(t, s[2], imm1); break;
    case H_TABLE_COPY: emit_pair(t, s[0], s[1]); emit_pair(t, s[2], 0); emit_pair(t, imm1, imm2); break;
    case H_TABLE_INIT: emit_pair(t, s[0], s[1]); emit_pair(t, s[2], imm1); emit_pair(t, imm2, 0); break;
    case H_ELEM_DROP: case H_DATA_DROP: emit_pair(t, imm1, 0); break;
    case H_MEMORY_INIT: emit_pair(t, s[0], s[1]); emit_pair(t, s[2], imm1); break;
    case H_MEMORY_COPY: case H_MEMORY_FILL: emit_pair(t, s[0], s[1]); emit_pair(t, s[2], 0); break;
    case H_SELECT: case H_SELECT2: emit_pair(t, d, s[0]); emit_pair(t, s[1], s[2]); break;
    default: fail(t, "internal error: op_generic");
    }
    if (result) {
        push_temp(t);
        set_last(t, at, h);
    }
}

static uint64_t rd_bytes_le(T *t, unsigned n)
{
    if ((size_t)(t->end - t->p) < n)
        fail(t, "malformed function body");
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v |= (uint64_t)t->p[k] << (8 * k);
    t->p += n;
    return v;
}

static void translate_op(T *t, int op)
{
    const Module *m = t->m;
    uint32_t a, b, np, nr;
    int64_t sv;
    Ctl *c;

    switch (op) {
    case OP_UNREACHABLE:
        emit_h(t, H_UNREACHABLE);
        go_dead(t);
        return;
    case OP_NOP:
        return;
    case OP_BLOCK:
        rd_blocktype(t, &np, &nr);
        enter_block(t, C_BLOCK, np, nr, 0);
        return;
    case OP_LOOP:
        rd_blocktype(t, &np, &nr);
        c = enter_block(t, C_LOOP, np, nr, 0);
        charge(t);
        c->loop_pc = t->len;
        t->last = SIZE_MAX;
        t->fold_ok = t->in_entry = false;
        return;
    case OP_IF: {
        rd_blocktype(t, &np, &nr);
        /* Params are made real before the branch so that both arms see them. */
        materialise_aliases(t, UINT32_MAX, t->h - 1);
        for (uint32_t i = t->h - 1 - np; i < t->h - 1; i++)
            materialise(t, i);
        size_t chain = 0;
        emit_cond(t, true, NULL, &chain);
        c = enter_block(t, C_IF, np, nr, 0);
        c->else_chain = chain;
        return;
    }
    case OP_ELSE:
        op_else(t);
        return;
    case OP_END:
        end_block(t);
        return;
    case OP_BR:
        emit_br(t, rd_u32(t), 0);
        go_dead(t);
        return;
    case OP_BR_IF:
        br_if(t, rd_u32(t));
        return;
    case OP_BR_TABLE:
        br_table(t);
        go_dead(t);
        return;
    case OP_RETURN:
        emit_return(t, 0);
        go_dead(t);
        return;
    case OP_CALL:
        a = rd_u32(t);
        if (a >= m->nfuncs)
            fail(t, "unknown function");
        op_call(t, a >= m->nfunc_imports ? H_CALL_LOCAL : H_CALL_IMPORT, a, m->func_types[a], 0);
        return;
    case OP_CALL_INDIRECT:
        a = rd_u32(t);
        b = rd_u32(t);
        op_call(t, H_CALL_IND, 0, a, b);
        return;
    case OP_DROP:
        pop(t);
        return;
    case OP_SELECT_T:
        a = rd_u32(t);
        for (uint32_t k = 0; k < a; k++)
            rd_byte(t);
        /* fall through */
    case OP_SELECT:
        op_generic(t, t->s == 2 ? H_SELECT2 : H_SELECT, 3, true, 0, 0);
        return;
    case OP_LOCAL_GET:
        a = rd_u32(t);
        if ((uint64_t)a * t->s >= t->zero)
            fail(t, "unknown local");
        push(t, E_LOCAL, a * t->s, 0);
        return;
    case OP_LOCAL_SET:
    case OP_LOCAL_TEE:
        a = rd_u32(t);
        if ((uint64_t)a * t->s >= t->zero)
            fail(t, "unknown local");
        op_local_set(t, a * t->s, op == OP_LOCAL_TEE);
        return;
    case OP_GLOBAL_GET:
        a = rd_u32(t);
        op_generic(t, global_is_v128(t, a) ? H_GLOBAL_GET2 : H_GLOBAL_GET, 0, true, a, 0);
        return;
    case OP_GLOBAL_SET:
        a = rd_u32(t);
        op_generic(t, global_is_v128(t, a) ? H_GLOBAL_SET2 : H_GLOBAL_SET, 1, false, a, 0);
        return;
    case OP_TABLE_GET:
        op_generic(t, H_TABLE_GET, 1, true, rd_u32(t), 0);
        return;
    case OP_TABLE_SET:
        op_generic(t, H_TABLE_SET, 2, false, rd_u32(t), 0);
        return;
    case OP_MEMORY_SIZE:
        rd_byte(t);
        op_generic(t, H_MEMORY_SIZE, 0, true, 0, 0);
        return;
    case OP_MEMORY_GROW:
        rd_byte(t);
        op_generic(t, H_MEMORY_GROW, 1, true, 0, 0);
        return;
    case OP_I32_CONST:
        if (leb_s32(&t->p, t->end, (int32_t *)&a) != LEB_OK)
            fail(t, "malformed i32.const");
        push(t, E_CONST, 0, a);
        return;
    case OP_I64_CONST:
        if (leb_s64(&t->p, t->end, &sv) != LEB_OK)
            fail(t, "malformed i64.const");
        push(t, E_CONST, 0, (uint64_t)sv);
        return;
    case OP_F32_CONST:
        push(t, E_CONST, 0, rd_bytes_le(t, 4));
        return;
    case OP_F64_CONST:
        push(t, E_CONST, 0, rd_bytes_le(t, 8));
        return;
    case OP_REF_NULL:
        rd_byte(t);
        push(t, E_CONST, 0, 0);
        return;
    case OP_REF_IS_NULL:
        op_unary(t, H_REF_IS_NULL);
        return;
    case OP_REF_FUNC:
        op_generic(t, H_REF_FUNC, 0, true, rd_u32(t), 0);
        return;
    case OP_MEMORY_INIT:
        a = rd_u32(t);
        rd_byte(t);
        op_generic(t, H_MEMORY_INIT, 3, false, a, 0);
        return;
    case OP_DATA_DROP:
        op_generic(t, H_DATA_DROP, 0, false, rd_u32(t), 0);
        return;
    case OP_MEMORY_COPY:
        rd_byte(t);
        rd_byte(t);
        op_generic(t, H_MEMORY_COPY, 3, false, 0, 0);
        return;
    case OP_MEMORY_FILL:
        rd_byte(t);
        op_generic(t, H_MEMORY_FILL, 3, false, 0, 0);
        return;
    case OP_TABLE_INIT:
        a = rd_u32(t);
        b = rd_u32(t);
        op_generic(t, H_TABLE_INIT, 3, false, a, b);
        return;
    case OP_ELEM_DROP:
        op_generic(t, H_ELEM_DROP, 0, false, rd_u32(t), 0);
        return;
    case OP_TABLE_COPY:
        a = rd_u32(t);
        b = rd_u32(t);
        op_generic(t, H_TABLE_COPY, 3, false, a, b);
        return;
    case OP_TABLE_GROW:
        op_generic(t, H_TABLE_GROW, 2, true, rd_u32(t), 0);
        return;
    case OP_TABLE_SIZE:
        op_generic(t, H_TABLE_SIZE, 0, true, rd_u32(t), 0);
        return;
    case OP_TABLE_FILL:
        op_generic(t, H_TABLE_FILL, 3, false, rd_u32(t), 0);
        return;
    }

    if (OPI(op)->imm >= IMM_V128) {
        op_simd(t, op);
        return;
    }
    /* The rest is typed by the table's sig column: loads, stores, numeric. */
    if (!OPI(op)->simple)
        fail(t, "unsupported instruction");
    uint32_t npop = OPI(op)->npop, npush = OPI(op)->push != 0;
    if (OPI(op)->imm == IMM_MEMARG) {
        rd_u32(t);                 /* alignment: a hint */
        uint64_t off = rd_u32(t);
        /* A constant address joins the offset (their sum is the 33-bit
           effective address either way) and the zero slot stands in. */
        uint32_t ai = t->h - (npush == 1 ? 1 : 2);
        unwrap(t, ai);
        if (npush == 0)
            unwrap(t, t->h - 1);
        if (t->stk[ai].kind == E_CONST) {
            off += (uint32_t)t->stk[ai].val;
            t->stk[ai].val = 0;
        }
        if (!t->plain && npush == 1 && off <= UINT32_MAX && op <= OP_I64_LOAD32_U && last_makes_top(t) &&
            (t->last_h == H_I32_ADD_IMM || t->last_h == OP_I32_ADD)) {
            /* i32.add then load: one instruction that adds (wrapping) and loads. */
            const Cell *li = &t->code[t->last];
            uint32_t x = li[1].s.b;
            uint32_t y = t->last_h == OP_I32_ADD ? li[2].s.a : (uint32_t)li[2].u64;
            int h = (t->last_h == OP_I32_ADD ? H_I32_LOAD_AR : H_I32_LOAD_AI) + 2 * (op - OP_I32_LOAD);
            t->len = t->last;
            pop(t);
            uint32_t d = home(t, t->h);
            size_t at = emit_h(t, h);
            emit_pair(t, d, x);
            emit_pair(t, y, (uint32_t)off);
            push_temp(t);
            set_last(t, at, h);
            return;
        }
        if (npush == 1) {
            uint32_t as = pop_slot(t);
            uint32_t d = home(t, t->h);
            size_t at = emit_h(t, op);
            emit_pair(t, d, as);
            emit_u64(t, off);
            push_temp(t);
            set_last(t, at, op);
        } else {
            if (fuse_add_to_mem(t, op, off) || fuse_sub_to_mem(t, op, off) ||
                fuse_axpy_to_mem(t, op, off) || fuse_muladd_to_mem(t, op, off))
                return;
            uint32_t vs = pop_slot(t), as = pop_slot(t);
            size_t at = emit_h(t, op);
            emit_pair(t, as, vs);
            emit_u64(t, off);
            /* `last` without a result (last_makes_top is false): an
               i32.add right after may take the store in (op_binary). */
            set_last(t, at, op);
        }
        return;
    }
    if (OPI(op)->imm != IMM_NONE || npush != 1)
        fail(t, "unsupported instruction");
    if (npop == 1)
        op_unary(t, op);
    else if (npop == 2)
        op_binary(t, op);
    else if (npop == 3 && op == OP_V128_BITSELECT)
        op_ternary(t, op);
    else
        fail(t, "unsupported instruction");
}

static void translate_body(T *t)
{
    const Module *m = t->m;
    CompiledFunc *cf = t->cf;
    const Func *fn = &m->funcs[cf->func_index - m->nfunc_imports];
    t->p = fn->code;
    t->end = fn->code + fn->code_len;
    /* Count the constants (an upper bound on the constant slots needed). */
    uint32_t nconst = 0;
    while (t->p < t->end && nconst < MAX_CONST_SLOTS) {
        int op = rd_op(t);
        if (op == OP_I32_CONST || op == OP_I64_CONST || op == OP_F32_CONST || op == OP_F64_CONST)
            nconst++;
        skip_imm(t, op);
    }
    t->p = fn->code;
    t->s = cf->scale;
    t->zero = cf->nparams + cf->nlocals - t->s;
    t->cbase = t->zero + t->s;
    t->ncmax = nconst;
    t->consts = calloc(nconst ? nconst : 1, sizeof *t->consts);
    if (!t->consts)
        fail(t, "out of memory");
    t->tempbase = (t->cbase + nconst + t->s - 1) / t->s * t->s;   /* wide values stay 16-byte aligned */
    t->last = SIZE_MAX;
    t->zeroed = calloc(t->zero ? t->zero : 1, 1);
    if (!t->zeroed)
        fail(t, "out of memory");
    memset(t->zeroed + cf->nparams, 1, t->zero - cf->nparams);
    t->in_entry = true;
    /* Room for the entry instruction that sets the constant slots; the
       code starts after it when there are none. */
    emit_h(t, H_CONSTS);
    emit_pair(t, t->cbase, 0);
    emit_u64(t, 0);
    enter_block(t, C_FUNC, 0, cf->nresults, 0);
    uint32_t dead_depth = 0;
    while (t->nctl > 0) {
        int op = rd_op(t);
        if (t->ctl[t->nctl - 1].dead) {
            /* Unreachable code: only track its nesting. */
            if (op == OP_BLOCK || op == OP_LOOP || op == OP_IF) {
                skip_imm(t, op);
                dead_depth++;
                continue;
            }
            if (op == OP_END && dead_depth > 0) {
                dead_depth--;
                continue;
            }
            if ((op != OP_END && op != OP_ELSE) || dead_depth > 0) {
                skip_imm(t, op);
                continue;
            }
        }
        t->pending++;
        translate_op(t, op);
    }
    if (t->p != t->end)
        fail(t, "code after the function's end");
}

/*
 * Modules (and so compiled functions) are shared between threads: shells
 * are made under one lock, bodies translated under another, and a body is
 * published with a release store of cf->code (the interpreter loads it
 * with acquire) after everything it needs is in place.
 */
static pthread_mutex_t shell_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t translate_lock = PTHREAD_MUTEX_INITIALIZER;

static bool translate_locked(CompiledFunc *cf);

int lw_translate_plain;

bool translate_func(CompiledFunc *cf)
{
    if (__atomic_load_n(&cf->translated, __ATOMIC_ACQUIRE))
        return true;
    pthread_mutex_lock(&translate_lock);
    bool ok = translate_locked(cf);
    pthread_mutex_unlock(&translate_lock);
    return ok;
}

static bool translate_locked(CompiledFunc *cf)
{
    if (cf->translated)
        return true;
    if (cf->error)
        return false;
    ops = op_tables();   /* under translate_lock, like every use */

    T *t = calloc(1, sizeof *t);
    if (!t) {
        cf->error = "out of memory";
        return false;
    }
    t->cf = cf;
    t->mod = cf->mod;
    t->m = cf->mod->m;
    t->hs = interp_handlers();
    t->plain = __atomic_load_n(&lw_translate_plain, __ATOMIC_RELAXED);
    bool ok = false;
    if (setjmp(t->fail) == 0) {
        translate_body(t);
        bool *target = calloc(t->len + 1, sizeof *target);
        if (!target)
            fail(t, "out of memory");
        for (size_t k = 0; k < t->ntgts; k++)
            target[t->code[t->tgts[k]].u64] = true;
        if (!t->plain) {
            facc_pass(t->code, t->hid, target, t->len, t->tempbase, t->hs);
            pair_pass(t->code, t->hid, target, t->len, t->hs);
        }
        free(target);
        /* Branch targets were code indices while the buffer could move. */
        for (size_t k = 0; k < t->ntgts; k++) {
            Cell *c = &t->code[t->tgts[k]];
            c->t = &t->code[c->u64];
        }
        size_t entry = 0;
        if (t->nconsts) {
            t->code[1].s.b = t->nconsts;
            t->code[2].p = t->consts;
            cf->consts = t->consts;
            t->consts = NULL;
        } else {
            entry = 3;
        }
        uint32_t slots = t->tempbase + (t->max_h + 1) * t->s;
        if (slots < cf->nresults * t->s)
            slots = cf->nresults * t->s;
        if (slots > cf->frame_slots)
            __atomic_store_n(&cf->frame_slots, slots, __ATOMIC_RELAXED);
        cf->ncells = t->len - entry;
        cf->code_base = t->code;
        __atomic_store_n(&cf->code, (const Cell *)t->code + entry, __ATOMIC_RELEASE);
        __atomic_store_n(&cf->translated, true, __ATOMIC_RELEASE);
        t->code = NULL;
        ok = true;
    } else {
        cf->error = t->err;
    }
    free(t->code);
    free(t->hid);
    free(t->stk);
    free(t->ctl);
    free(t->tgts);
    free(t->consts);
    free(t->zeroed);
    free(t);
    return ok;
}

CompiledFunc *code_get(lw_module *mod, uint32_t i)
{
    const Module *m = mod->m;
    if (i >= m->nfuncs - m->nfunc_imports)
        return NULL;
    CompiledFunc *cf = __atomic_load_n(&mod->code[i], __ATOMIC_ACQUIRE);
    if (cf)
        return cf;
    pthread_mutex_lock(&shell_lock);
    cf = mod->code[i];
    if (cf || !(cf = calloc(1, sizeof *cf))) {
        pthread_mutex_unlock(&shell_lock);
        return cf;
    }
    const Func *fn = &m->funcs[i];
    const FuncType *ft = &m->types[fn->type];
    cf->mod = mod;
    cf->func_index = m->nfunc_imports + i;
    /* A module that uses v128 anywhere gets wide frames: two slots (16
       bytes) per value, so a v128 fits wherever any value can go. */
    cf->scale = m->uses_v128 ? 2 : 1;
    cf->nparams = ft->nparams * cf->scale;
    cf->nresults = ft->nresults;
    cf->nlocals = (fn->nlocals + 1) * cf->scale;   /* + the zero slot */
    cf->frame_slots = cf->nparams + (cf->nlocals > ZERO_AHEAD ? cf->nlocals : ZERO_AHEAD);
    cf->stub[0].h = interp_handlers()[H_LAZY];
    cf->code = cf->stub;
    __atomic_store_n(&mod->code[i], cf, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&shell_lock);
    return cf;
}

void compiled_func_free(CompiledFunc *cf)
{
    if (!cf)
        return;
    free(cf->code_base);
    free(cf->consts);
    free(cf);
}
