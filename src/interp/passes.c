/*
 * Passes over a function's finished threaded code, before its branch
 * targets become pointers: the float register, and pairs of adds.
 *
 * The float register: a pass over a function's finished threaded code
 * that lets an f64 value go from the instruction that makes it to the one
 * that uses it in a machine register (`facc` in interp.c) instead of a
 * frame slot.  A chain of dependent float operations through slots pays a
 * store-to-load forward on every link (about 7 cycles on the machines we
 * measure, against 3-4 for the operation itself); through the register it
 * pays nothing.
 *
 * The pass walks each straight-line run.  A producer P whose result goes
 * to a temp slot d (an operand-stack slot: tempbase and up) is pending.
 * The translator's temps follow the operand stack, so the first later
 * instruction that reads d is the one that pops it, and nothing reads d
 * after it.  If that reader C reads d once, in an operand that has a
 * register variant, P becomes its _R variant and C its register-operand
 * variant.  A producer whose result goes to a local (a `local.set` the
 * translator folded in) works the same way when no temp is waiting: its
 * _W variant writes both the register and the local's slot, so the next
 * reader takes the register and any later one the slot.
 * Between P and C there may be other instructions whose slots
 * are known and do not touch d; anything else ends the run: a branch
 * target, a branch, a call, or a handler this pass does not describe.  So
 * the register is never live where the interpreter can stop (fuel is
 * checked only at branches and calls) or join another path.
 */
#include <pthread.h>
#include <string.h>
#include "decode/decode_ops.h"
#include "interp/translate.h"

/* Operand layouts, by which slots an instruction reads and writes. */
enum {
    K_NONE,       /* unknown: ends the run */
    K_UN,         /* [dst|a] */
    K_BIN,        /* [dst|a][b|-] */
    K_IMM,        /* [dst|a][imm] */
    K_LOAD,       /* [dst|addr][off] */
    K_STORE,      /* [addr|val][off] */
    K_CONST,      /* [dst|-][imm] */
    K_CHARGE,     /* [n|-] */
    K_LOAD_AR,    /* [dst|x][y|off] */
    K_MEMOP,      /* [dst|a][x|c][off|-] */
    K_MULADD,     /* [dst|a][x|y] and [dst|x][y|z] */
    K_RMW,        /* [addr|x][off] */
    K_RMW_MUL,    /* [addr|x][y|-][off] */
    K_RMW_MUL3,   /* [addr|x][y|z][off] */
    K_STORE_ADD,  /* [dst|x][y|-][addr|val][off] */
    K_STORE_ADDI, /* [dst|x][imm][addr|val][off] */
};

/* Positions are 2 * cell + half: 2 is cell 1's a half, 3 its b half, ... */
static const struct { uint8_t nr, r[4], nw, w[2]; } layout[] = {
    [K_NONE] = { 0, {0}, 0, {0} },
    [K_UN] = { 1, {3}, 1, {2} },
    [K_BIN] = { 2, {3, 4}, 1, {2} },
    [K_IMM] = { 1, {3}, 1, {2} },
    [K_LOAD] = { 1, {3}, 1, {2} },
    [K_STORE] = { 2, {2, 3}, 0, {0} },
    [K_CONST] = { 0, {0}, 1, {2} },
    [K_CHARGE] = { 0, {0}, 0, {0} },
    [K_LOAD_AR] = { 2, {3, 4}, 1, {2} },
    [K_MEMOP] = { 2, {3, 4}, 1, {2} },
    [K_MULADD] = { 3, {3, 4, 5}, 1, {2} },
    [K_RMW] = { 2, {2, 3}, 0, {0} },
    [K_RMW_MUL] = { 3, {2, 3, 4}, 0, {0} },
    [K_RMW_MUL3] = { 4, {2, 3, 4, 5}, 0, {0} },
    [K_STORE_ADD] = { 4, {3, 4, 6, 7}, 1, {2} },
    [K_STORE_ADDI] = { 3, {3, 6, 7}, 1, {2} },
};

static uint8_t kind[H__COUNT];

static const struct { uint16_t h, base; uint8_t pos, out; } variants[] = {
#define X(name, base, pos, out) { H_##name, base, pos, out },
    LW_FACC_HANDLERS(X)
#undef X
};

static void init_kinds(void)
{
    const OpTables *ops = op_tables();
    for (int h = 0; h < OP__COUNT; h++) {
        const OpInfo *o = &ops->ops[h];
        if (!o->simple)
            continue;
        if (o->imm == IMM_NONE && o->npop == 1 && o->push)
            kind[h] = K_UN;
        else if (o->imm == IMM_NONE && o->npop == 2 && o->push)
            kind[h] = K_BIN;
        else if (o->imm == IMM_MEMARG && o->npop == 1 && o->push)
            kind[h] = K_LOAD;
        else if (o->imm == IMM_MEMARG && o->npop == 2 && !o->push)
            kind[h] = K_STORE;
    }
    kind[H_MOV] = K_UN;
    kind[H_CONST] = K_CONST;
    kind[H_CHARGE] = K_CHARGE;
#define X(id) kind[H_##id##_IMM] = K_IMM;
    LW_IMM_OPS(X)
#undef X
#define X(id, T, expr) kind[H_##id##_AI] = K_UN; kind[H_##id##_AR] = K_LOAD_AR;
    LW_LOAD_OPS(X)
#undef X
#define X(op, load, LT, T, get, put, expr) kind[H_##op##_M_##load] = K_MEMOP;
    LW_MEMOP_OPS(X)
#undef X
#define X(id) kind[H_##id] = K_MULADD;
    LW_MULADD_OPS(X)
#undef X
#define X(id) kind[H_##id] = K_RMW;
    LW_ADD_MEM_OPS(X)
#undef X
    kind[H_F32_SUB_MEM] = kind[H_F64_SUB_MEM] = K_RMW;
    kind[H_F32_ADD_MEM_MUL] = kind[H_F64_ADD_MEM_MUL] = K_RMW_MUL;
    kind[H_F32_SUB_MEM_MUL] = kind[H_F64_SUB_MEM_MUL] = K_RMW_MUL;
    kind[H_F32_ADD_MEM_MUL3] = kind[H_F64_ADD_MEM_MUL3] = K_RMW_MUL3;
    kind[H_F32_SUB_MEM_MUL3] = kind[H_F64_SUB_MEM_MUL3] = K_RMW_MUL3;
#define X(id, T) kind[H_##id##_ADD] = K_STORE_ADD; kind[H_##id##_ADDI] = K_STORE_ADDI;
    LW_STORE_ADD_OPS(X)
#undef X
}

/* The variant of base handler h that reads facc at position pos (0: none) and puts its
   result in its slot (out 0), facc (1) or both (2). */
static int variant(int h, int pos, int out)
{
    if (pos == 0 && !out)
        return h;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (variants[i].base == h && variants[i].pos == pos && variants[i].out == out)
            return variants[i].h;
    return -1;
}

static uint32_t slot_at(const Cell *c, int pos)
{
    return pos & 1 ? c[pos / 2].s.b : c[pos / 2].s.a;
}

void facc_pass(Cell *code, uint16_t *hid, const bool *target, size_t len, uint32_t tempbase,
               const void *const *hs)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_kinds);
    size_t pend = SIZE_MAX;   /* the pending producer, its slot, base handler and facc operand */
    uint32_t pslot = 0;
    int pbase = 0, ppos = 0, pout = 1;
    for (size_t pc = 0; pc < len; pc++) {
        if (!hid[pc])
            continue;
        int h = hid[pc] - 1;
        const Cell *c = &code[pc];
        if (target[pc])
            pend = SIZE_MAX;
        if (kind[h] == K_NONE) {
            pend = SIZE_MAX;
            continue;
        }
        const __typeof__(layout[0]) *l = &layout[kind[h]];
        int in = 0;   /* the operand this instruction ends up taking from facc */
        if (pend != SIZE_MAX) {
            int n = 0, at = 0;
            for (int k = 0; k < l->nr; k++)
                if (slot_at(c, l->r[k]) == pslot) {
                    n++;
                    at = l->r[k];
                }
            int v = n == 1 ? variant(h, at, 0) : -1;
            if (v >= 0) {
                int pv = variant(pbase, ppos, pout);
                code[pend].h = hs[pv];
                code[pc].h = hs[v];
                /* hid follows, so that pair_pass sees what will run: the
                   pairs know only base handlers, so a variant joins none */
                hid[pend] = (uint16_t)(1 + pv);
                hid[pc] = (uint16_t)(1 + v);
                in = at;
                pend = SIZE_MAX;
            } else if (n) {
                pend = SIZE_MAX;
            }
            for (int k = 0; k < l->nw; k++)
                if (pend != SIZE_MAX && slot_at(c, l->w[k]) == pslot)
                    pend = SIZE_MAX;
        }
        if (l->nw && l->w[0] == 2) {
            /* A temp's value lives only in facc; a local's goes to its slot too, for its later
               readers, and does not displace a temp still waiting for its reader. */
            uint32_t d = slot_at(c, 2);
            int out = d >= tempbase ? 1 : 2;
            if ((out == 1 || pend == SIZE_MAX) && variant(h, in, out) >= 0) {
                pend = pc;
                pslot = d;
                pbase = h;
                ppos = in;
                pout = out;
            }
        }
    }
}

/*
 * Pairs (LW_PAIR_OPS): an instruction whose handler starts a pair, followed
 * by one that ends it and is not a branch target, becomes that pair.  Only
 * the first handler cell changes.  Greedy from the left; the second of a
 * pair does not start another.  A fill pair whose latch branches back to
 * its first half is the whole loop: it becomes the self-loop handler
 * (LW_SELF_OPS), and a pair with a forwarding form whose second half reads
 * the first's result takes that form (LW_FWD_OPS).
 */
enum {
#define X(P, h, cells) F_##P,
    LW_PAIR_FIRST(X)
#undef X
    F__COUNT
};

static int8_t first_kind[H__COUNT];
static uint16_t pair_of[F__COUNT][H__COUNT];
/* Per fill pair: its self-loop form, and which of its operands are slots. */
static uint16_t self_of[H__COUNT];
/* Per pair: its forwarding form (LW_FWD_OPS), if it has one. */
static uint16_t fwd_of[H__COUNT];
static struct { bool stride, addend, rhs, cmp; } self_ops[H__COUNT];

static void init_pairs(void)
{
    memset(first_kind, -1, sizeof first_kind);
#define X(P, h, cells) first_kind[h] = F_##P;
    LW_PAIR_FIRST(X)
#undef X
#define X(P, Q) pair_of[F_##P][H_##Q] = H_PAIR_##P##__##Q;
    LW_PAIR_OPS(X)
#undef X
#define X(P, Q) fwd_of[H_PAIR_##P##__##Q] = H_FWD_##P##__##Q;
    LW_FWD_OPS(X)
#undef X
#define X(P, VT, SK, Q, T, CT, op, AK, RK) self_of[H_PAIR_##P##__##Q] = H_SELF_##P##__##Q; \
    self_ops[H_PAIR_##P##__##Q].stride = LW_SELF_IS_##SK; \
    self_ops[H_PAIR_##P##__##Q].addend = LW_SELF_IS_##AK; \
    self_ops[H_PAIR_##P##__##Q].rhs = LW_SELF_IS_##RK; \
    self_ops[H_PAIR_##P##__##Q].cmp = LW_SELF_CMP_##AK;
    LW_SELF_OPS(X)
#undef X
}

/*
 * Can fill pair f, P at p and its latch Q at q, be the self-loop?  Q must
 * branch back to P, and the slots must let the interpreter keep two of
 * them in registers: the pointer (P's address, base and result) and the
 * counter (Q's result and source; the pointer itself where Q only
 * compares), with no other operand of either naming them.
 */
static bool self_loop(const Cell *code, size_t p, size_t q, uint16_t f)
{
    const Cell *pc = &code[p], *qc = &code[q];   /* P: [a1|b1][stride][a3|b3][off] */
    uint32_t ptr = pc[1].s.a;
    if (pc[3].s.a != ptr || pc[1].s.b != ptr)
        return false;
    uint32_t ctr, others[4];
    size_t n = 0;
    others[n++] = pc[3].s.b;                     /* the value stored */
    if (self_ops[f].stride)
        others[n++] = pc[2].s.a;
    if (self_ops[f].cmp) {                       /* Q: [a|b][n|f][target] */
        if (qc[3].u64 != p || qc[1].s.a != ptr)
            return false;
        ctr = ptr;
        others[n++] = qc[1].s.b;
    } else {                                     /* Q: [x|src][y|b][imm][n|f][target] */
        if (qc[5].u64 != p || qc[1].s.b != qc[1].s.a || qc[1].s.a == ptr)
            return false;
        ctr = qc[1].s.a;
        if (self_ops[f].addend)
            others[n++] = qc[2].s.a;
        if (self_ops[f].rhs)
            others[n++] = qc[2].s.b;
    }
    for (size_t k = 0; k < n; k++)
        if (others[k] == ptr || others[k] == ctr)
            return false;
    return true;
}

void pair_pass(Cell *code, const uint16_t *hid, const bool *target, size_t len, const void *const *hs)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_pairs);
    size_t prev = SIZE_MAX;   /* the last instruction, if it can start a pair */
    for (size_t pc = 0; pc < len; pc++) {
        if (!hid[pc])
            continue;
        int h = hid[pc] - 1;
        if (prev != SIZE_MAX && !target[pc]) {
            uint16_t f = pair_of[first_kind[hid[prev] - 1]][h];
            /* a latch that branches back to the pair's first half: a self-loop */
            if (self_of[f] && self_loop(code, prev, pc, f))
                f = self_of[f];
            /* Q reads P's result (both start [dst|src]): hand it over */
            if (fwd_of[f] && code[pc + 1].s.b == code[prev + 1].s.a)
                f = fwd_of[f];
            if (f) {
                code[prev].h = hs[f];
                prev = SIZE_MAX;
                continue;
            }
        }
        prev = first_kind[h] >= 0 ? pc : SIZE_MAX;
    }
}
