/*
 * Threaded code: the form a wasm function body runs in.
 *
 * translate.c turns a validated body into an array of Cells.  An
 * instruction is one handler address (direct threading: interp.c jumps to
 * it with `goto *ip->h`) followed by operand cells.  Operands are frame
 * slot indices (the frame is `uint64_t *fp`: params, locals, a slot that
 * stays 0, constant slots, then the operand stack; every value one slot),
 * immediates, branch targets (Cell pointers) or fuel amounts.  Block
 * results and branch values are moved at translation time, so the
 * interpreter has no value stack of its own.
 *
 * Handlers: every wasm opcode has the handler id H_<id> == OP_<id> (many are
 * never emitted: block, local.get, drop ... vanish into operands), followed
 * by the extra handlers listed below: moves, calls and fuel; immediate
 * operands; fused forms (compare-and-branch, add-and-branch, add-and-load,
 * read-modify-write, float multiply-add, an operation with a loaded
 * operand, store-then-add, load-compare-branch); then the float-register
 * variants and the pairs that passes.c substitutes in finished code.
 */
#ifndef LEONARDO_TRANSLATE_H
#define LEONARDO_TRANSLATE_H

#include <stddef.h>
#include <stdint.h>
#include "interp/runtime.h"

typedef union Cell {
    const void *h;                  /* handler address */
    const union Cell *t;            /* branch target */
    uint64_t u64;                   /* immediate */
    struct { uint32_t a, b; } s;    /* two slot indices (or a slot and a small count) */
    const void *p;                  /* a pointer (CompiledFunc *) */
} Cell;

/*
 * Binary operations that also come with an immediate right operand
 * (`x op const`, the common shape of loop counters, masks and scalings).
 */
#define LW_IMM_OPS(X) \
    X(I32_ADD) X(I32_SUB) X(I32_MUL) X(I32_AND) X(I32_OR) X(I32_XOR) \
    X(I32_SHL) X(I32_SHR_S) X(I32_SHR_U) X(I32_ROTL) X(I32_ROTR) \
    X(I32_EQ) X(I32_NE) X(I32_LT_S) X(I32_LT_U) X(I32_GT_S) X(I32_GT_U) \
    X(I32_LE_S) X(I32_LE_U) X(I32_GE_S) X(I32_GE_U) \
    X(I64_ADD) X(I64_SUB) X(I64_MUL) X(I64_AND) X(I64_OR) X(I64_XOR) \
    X(I64_SHL) X(I64_SHR_S) X(I64_SHR_U) X(I64_ROTL) X(I64_ROTR) \
    X(I64_EQ) X(I64_NE) X(I64_LT_S) X(I64_LT_U) X(I64_GT_S) X(I64_GT_U) \
    X(I64_LE_S) X(I64_LE_U) X(I64_GE_S) X(I64_GE_U) \
    X(F32_ADD) X(F32_SUB) X(F32_MUL) X(F32_DIV) \
    X(F64_ADD) X(F64_SUB) X(F64_MUL) X(F64_DIV)

/*
 * Loads that fuse with the i32.add computing their address:
 * H_<id>_AI  [dst|x][c|offset]  address (uint32_t)(x + c) + offset
 * H_<id>_AR  [dst|x][y|offset]  address (uint32_t)(x + y) + offset
 * X(id, C type read, slot value) in opcode order.
 */
#define LW_LOAD_OPS(X) \
    X(I32_LOAD, uint32_t, v) X(I64_LOAD, uint64_t, v) X(F32_LOAD, uint32_t, v) \
    X(F64_LOAD, uint64_t, v) X(I32_LOAD8_S, int8_t, (uint32_t)(int32_t)v) \
    X(I32_LOAD8_U, uint8_t, v) X(I32_LOAD16_S, int16_t, (uint32_t)(int32_t)v) \
    X(I32_LOAD16_U, uint16_t, v) X(I64_LOAD8_S, int8_t, (uint64_t)(int64_t)v) \
    X(I64_LOAD8_U, uint8_t, v) X(I64_LOAD16_S, int16_t, (uint64_t)(int64_t)v) \
    X(I64_LOAD16_U, uint16_t, v) X(I64_LOAD32_S, int32_t, (uint64_t)(int64_t)v) \
    X(I64_LOAD32_U, uint32_t, v)

/*
 * Binary operations whose right operand comes straight from a load, fused
 * into one instruction: [dst|a][x|c][off|-],
 * dst = fp[a] op mem[(uint32_t)(fp[x] + c) + off]  (c is 0 for a plain load).
 * The loaded value goes nowhere else, unless a local.tee kept it: then
 * H_<op>_M_<load>_K, [dst|a][x|c][off|ld], also stores it to fp[ld].  (One
 * handler testing ld cost nbody 3%: the test is on its hot path.)
 * X(op, load, type read, op's type, get, put, expr of x and y): the last
 * four as in ops_num.h.  Handler H_<op>_M_<load>.  The pairs are the
 * shapes of hot loops: accumulating array elements, hashing bytes,
 * differences of struct fields.
 */
#define LW_MEMOP_OPS(X) \
    X(I32_ADD, I32_LOAD, uint32_t, uint32_t, U32, PUT32, x + y) \
    X(I32_SUB, I32_LOAD, uint32_t, uint32_t, U32, PUT32, x - y) \
    X(I32_MUL, I32_LOAD, uint32_t, uint32_t, U32, PUT32, x * y) \
    X(I32_AND, I32_LOAD, uint32_t, uint32_t, U32, PUT32, x & y) \
    X(I32_OR, I32_LOAD, uint32_t, uint32_t, U32, PUT32, x | y) \
    X(I32_XOR, I32_LOAD, uint32_t, uint32_t, U32, PUT32, x ^ y) \
    X(I32_ADD, I32_LOAD8_U, uint8_t, uint32_t, U32, PUT32, x + y) \
    X(I32_XOR, I32_LOAD8_U, uint8_t, uint32_t, U32, PUT32, x ^ y) \
    X(I64_ADD, I64_LOAD, uint64_t, uint64_t, U64, PUT64, x + y) \
    X(I64_SUB, I64_LOAD, uint64_t, uint64_t, U64, PUT64, x - y) \
    X(I64_MUL, I64_LOAD, uint64_t, uint64_t, U64, PUT64, x * y) \
    X(I64_AND, I64_LOAD, uint64_t, uint64_t, U64, PUT64, x & y) \
    X(I64_OR, I64_LOAD, uint64_t, uint64_t, U64, PUT64, x | y) \
    X(I64_XOR, I64_LOAD, uint64_t, uint64_t, U64, PUT64, x ^ y) \
    X(F32_ADD, F32_LOAD, uint32_t, float, f32_of, bits_f32, x + y) \
    X(F32_SUB, F32_LOAD, uint32_t, float, f32_of, bits_f32, x - y) \
    X(F32_MUL, F32_LOAD, uint32_t, float, f32_of, bits_f32, x * y) \
    X(F32_DIV, F32_LOAD, uint32_t, float, f32_of, bits_f32, x / y) \
    X(F64_ADD, F64_LOAD, uint64_t, double, f64_of, bits_f64, x + y) \
    X(F64_SUB, F64_LOAD, uint64_t, double, f64_of, bits_f64, x - y) \
    X(F64_MUL, F64_LOAD, uint64_t, double, f64_of, bits_f64, x * y) \
    X(F64_DIV, F64_LOAD, uint64_t, double, f64_of, bits_f64, x / y)

/*
 * A store followed by an i32.add (the pointer bump of `*p = v; p += k`):
 * H_<id>_ADD  [dst|x][y|-][addr|val][offset]   store, then dst = x + fp[y]
 * H_<id>_ADDI [dst|x][imm][addr|val][offset]   store, then dst = x + imm
 * X(id, C type written) in opcode order.
 */
#define LW_STORE_ADD_OPS(X) \
    X(I32_STORE, uint32_t) X(I64_STORE, uint64_t) X(F32_STORE, uint32_t) \
    X(F64_STORE, uint64_t) X(I32_STORE8, uint8_t) X(I32_STORE16, uint16_t) \
    X(I64_STORE8, uint8_t) X(I64_STORE16, uint16_t) X(I64_STORE32, uint32_t)

/*
 * Float multiply fused with the add or subtract that consumes it (two
 * roundings, as separate instructions would give): [dst|a][x|y]
 * dst = a + x*y or a - x*y; and with another multiply.
 */
#define LW_MULADD_OPS(X) X(F32_ADD_MUL) X(F32_SUB_MUL) X(F64_ADD_MUL) X(F64_SUB_MUL) \
    X(F32_MUL3) X(F64_MUL3)   /* [dst|x][y|z]: (x*y)*z */

/*
 * `load p; add; store p` as one read-modify-write: [addr|x][offset],
 * mem[addr + offset] = x + mem[addr + offset].
 */
#define LW_ADD_MEM_OPS(X) X(I32_ADD_MEM) X(I64_ADD_MEM) X(F32_ADD_MEM) X(F64_ADD_MEM)

/*
 * Integer comparisons that fuse with a following br_if / if into one
 * conditional branch: X(name, C operator, 32-bit type, 64-bit type, negation).
 */
#define LW_CMP_OPS(X) \
    X(EQ, ==, uint32_t, uint64_t, NE)  X(NE, !=, uint32_t, uint64_t, EQ) \
    X(LT_S, <, int32_t, int64_t, GE_S) X(LT_U, <, uint32_t, uint64_t, GE_U) \
    X(GT_S, >, int32_t, int64_t, LE_S) X(GT_U, >, uint32_t, uint64_t, LE_U) \
    X(LE_S, <=, int32_t, int64_t, GT_S) X(LE_U, <=, uint32_t, uint64_t, GT_U) \
    X(GE_S, >=, int32_t, int64_t, LT_S) X(GE_U, >=, uint32_t, uint64_t, LT_U)

/*
 * The extra handlers, X(id, format).  The format names the operand cells
 * after the handler, one character each (the disassembler reads it):
 *   p  a pair of 32-bit values "a,b"    i  a 64-bit immediate
 *   t  a branch target                  f  a function (CompiledFunc *)
 *   n  a fuel amount (32 bits) and 0
 * A conditional branch charges n when taken, and f when not: f is n plus
 * the run that falls through it into a join (which then needs no CHARGE
 * of its own), added up by the translator so that either way the branch
 * subtracts one number.
 */
#define LW_EXTRA_HANDLERS(X) \
    X(MOV, "p")            /* [dst|src]            fp[dst] = fp[src] */ \
    X(MOV2, "p")           /* [dst|src]            16 bytes: a move in a wide frame */ \
    X(SELECT2, "pp")       /* [dst|a][b|cond]      16 bytes: select in a wide frame */ \
    X(GLOBAL_GET2, "p")    /* [dst|global]         a v128 global */ \
    X(GLOBAL_SET2, "p")    /* [src|global]         */ \
    X(CONSTS, "pi")        /* [base|k][values *]   function entry: set k constant slots */ \
    X(CONST, "pi")         /* [dst|-][imm]         fp[dst] = imm */ \
    X(CHARGE, "n")         /* [n|-]                fuel -= n: a run falling into a join */ \
    X(JMP, "nt")           /* [n|-][target]        charge, jump (checks fuel: may be a back-edge) */ \
    X(JMP_IF, "ptn")       /* [cond|n][target][f|-] jump if cond != 0; f: n + the run falling through */ \
    X(JMP_UNLESS, "ptn")   /* [cond|n][target][f|-] jump if cond == 0 */ \
    X(JMP_TABLE, "pi")     /* [index|n][count][count+1 targets] */ \
    X(RET, "n")            /* [n|-]                results already in fp[0..) */ \
    X(CALL_LOCAL, "pf")    /* [args|n][callee]     callee defined in this module */ \
    X(CALL_IMPORT, "pp")   /* [args|n][func|-]     through inst->funcs[] */ \
    X(CALL_IND, "ppp")     /* [args|n][type|table][index|-] */ \
    X(F32_ADD_MEM_MUL, "ppi")  /* [addr|x][y|-][offset]  mem[addr + offset] = x*y + mem (ADD_MEM) */ \
    X(F64_ADD_MEM_MUL, "ppi")  \
    X(F32_ADD_MEM_MUL3, "ppi") /* [addr|x][y|z][offset]  mem[addr + offset] = (x*y)*z + mem */ \
    X(F64_ADD_MEM_MUL3, "ppi") \
    X(F32_SUB_MEM, "pi")   /* [addr|x][offset]  mem[addr + offset] -= x */ \
    X(F64_SUB_MEM, "pi")   \
    X(F32_SUB_MEM_MUL, "ppi")  /* [addr|x][y|-][offset]  mem[addr + offset] = mem - x*y */ \
    X(F64_SUB_MEM_MUL, "ppi")  \
    X(F32_SUB_MEM_MUL3, "ppi") /* [addr|x][y|z][offset]  mem[addr + offset] = mem - (x*y)*z */ \
    X(F64_SUB_MEM_MUL3, "ppi") \
    X(EXIT, "")            /* the entry frame returned (its ret_ip) */ \
    X(LAZY, "")            /* an untranslated function's code: translate, then run it */

/*
 * The float register (facc, see passes.c): f64 handlers in variants that
 * take one operand from a machine register, or leave their result in it,
 * so that a chain of float operations does not round-trip through frame
 * slots (a store then a load: about 7 cycles on each link).  The
 * variants keep their base handler's cells.  Suffixes: _R the result goes
 * to facc (the dst cell is ignored); _W to both facc and its slot (a
 * local, read again later); _RA, _RB, _RX, _RY, _RV that operand comes
 * from facc.  X(name, base handler, operand position, result: 0 slot,
 * 1 facc, 2 both), a position being 2 * cell + half: 3 is the b half of
 * cell 1, 4 the a half of cell 2.
 */
#define LW_FACC_BIN_V(X, id) X(id##_R, H_##id, 0, 1) X(id##_RA, H_##id, 3, 0) \
    X(id##_RB, H_##id, 4, 0) X(id##_RA_R, H_##id, 3, 1) X(id##_RB_R, H_##id, 4, 1) \
    X(id##_W, H_##id, 0, 2) X(id##_RA_W, H_##id, 3, 2) X(id##_RB_W, H_##id, 4, 2)
#define LW_FACC_UN_V(X, id) X(id##_R, H_##id, 0, 1) X(id##_RA, H_##id, 3, 0) X(id##_RA_R, H_##id, 3, 1) \
    X(id##_W, H_##id, 0, 2) X(id##_RA_W, H_##id, 3, 2)
#define LW_FACC_MULADD_V(X, id) X(id##_R, H_##id, 0, 1) X(id##_RA, H_##id, 3, 0) \
    X(id##_RX, H_##id, 4, 0) X(id##_RY, H_##id, 5, 0) X(id##_RA_R, H_##id, 3, 1) \
    X(id##_RX_R, H_##id, 4, 1) X(id##_RY_R, H_##id, 5, 1) X(id##_W, H_##id, 0, 2) \
    X(id##_RA_W, H_##id, 3, 2) X(id##_RX_W, H_##id, 4, 2) X(id##_RY_W, H_##id, 5, 2)
#define LW_FACC_HANDLERS(X) \
    LW_FACC_BIN_V(X, F64_ADD) LW_FACC_BIN_V(X, F64_SUB) LW_FACC_BIN_V(X, F64_MUL) LW_FACC_BIN_V(X, F64_DIV) \
    LW_FACC_UN_V(X, F64_ADD_IMM) LW_FACC_UN_V(X, F64_SUB_IMM) LW_FACC_UN_V(X, F64_MUL_IMM) \
    LW_FACC_UN_V(X, F64_DIV_IMM) LW_FACC_UN_V(X, F64_SQRT) LW_FACC_UN_V(X, F64_NEG) LW_FACC_UN_V(X, F64_ABS) \
    LW_FACC_UN_V(X, F64_ADD_M_F64_LOAD) LW_FACC_UN_V(X, F64_SUB_M_F64_LOAD) \
    LW_FACC_UN_V(X, F64_MUL_M_F64_LOAD) LW_FACC_UN_V(X, F64_DIV_M_F64_LOAD) \
    LW_FACC_MULADD_V(X, F64_ADD_MUL) LW_FACC_MULADD_V(X, F64_SUB_MUL) \
    X(F64_MUL3_R, H_F64_MUL3, 0, 1) X(F64_MUL3_RX, H_F64_MUL3, 3, 0) X(F64_MUL3_RX_R, H_F64_MUL3, 3, 1) \
    X(F64_CONVERT_I32_S_R, H_F64_CONVERT_I32_S, 0, 1) X(F64_CONVERT_I32_U_R, H_F64_CONVERT_I32_U, 0, 1) \
    X(F64_CONVERT_I64_S_R, H_F64_CONVERT_I64_S, 0, 1) X(F64_CONVERT_I64_U_R, H_F64_CONVERT_I64_U, 0, 1) \
    X(F64_LOAD_R, H_F64_LOAD, 0, 1) X(F64_LOAD_AI_R, H_F64_LOAD_AI, 0, 1) X(F64_LOAD_AR_R, H_F64_LOAD_AR, 0, 1) \
    X(F64_STORE_RV, H_F64_STORE, 3, 0) X(F64_ADD_MEM_RX, H_F64_ADD_MEM, 3, 0) \
    X(F64_SUB_MEM_RX, H_F64_SUB_MEM, 3, 0) X(F64_ADD_MEM_MUL_RX, H_F64_ADD_MEM_MUL, 3, 0) \
    X(F64_SUB_MEM_MUL_RX, H_F64_SUB_MEM_MUL, 3, 0) X(F64_ADD_MEM_MUL3_RX, H_F64_ADD_MEM_MUL3, 3, 0) \
    X(F64_SUB_MEM_MUL3_RX, H_F64_SUB_MEM_MUL3, 3, 0)

/*
 * Pairs: two adjacent instructions that run as one dispatch (passes.c).
 * The first's handler cell becomes PAIR_<P>__<Q>, which does the first
 * instruction's work and then enters the second's handler by a direct
 * jump, with ip at the second's cells; the second keeps its cells, so no
 * code moves.  The pairs are the frequent ones in profiles of compiled C
 * (a developer build with -DLW_PROFILE_PAIRS counts them): induction
 * variables bumped next to a loop latch or a memory access, address
 * scaling, hash mixing steps, `f(n - 1)`, `return a + b`.
 *
 * First halves, X(P, handler, cells): the work is a macro PAIR_<P> in interp.c.
 */
#define LW_PAIR_FIRST(X) \
    X(A32I, H_I32_ADD_IMM, 3) X(A32R, OP_I32_ADD, 3) X(A64I, H_I64_ADD_IMM, 3) \
    X(A64R, OP_I64_ADD, 3) X(MOV, H_MOV, 2) X(SHL32I, H_I32_SHL_IMM, 3) \
    X(SHRU32I, H_I32_SHR_U_IMM, 3) X(XORLD8, H_I32_XOR_M_I32_LOAD8_U, 4) \
    X(ADDLD8, H_I32_ADD_M_I32_LOAD8_U, 4) X(ST8_ADD, H_I32_STORE8_ADD, 5) \
    X(ST8_ADDI, H_I32_STORE8_ADDI, 5) X(ST32_ADD, H_I32_STORE_ADD, 5) \
    X(ST32_ADDI, H_I32_STORE_ADDI, 5) X(ST64_ADD, H_I64_STORE_ADD, 5) X(ST64_ADDI, H_I64_STORE_ADDI, 5)

/* second halves that follow a simple add or move */
#define LW_PAIR_AFTER_ADD(X, P) X(P, I32_ADD_IMM) X(P, I32_ADD) X(P, I64_ADD_IMM) X(P, I64_ADD) \
    X(P, MOV) X(P, CALL_LOCAL) X(P, RET)
/* loop latches: add-compare-branch in its eight forms, for one comparison */
#define LW_PAIR_LATCH_CMP(X, P, c) X(P, ADD_JMP_I32_##c) X(P, ADD_JMP_I32_##c##_IMM) \
    X(P, ADD_JMP_I64_##c) X(P, ADD_JMP_I64_##c##_IMM) X(P, ADDI_JMP_I32_##c) \
    X(P, ADDI_JMP_I32_##c##_IMM) X(P, ADDI_JMP_I64_##c) X(P, ADDI_JMP_I64_##c##_IMM)
#define LW_PAIR_LATCH(X, P) LW_PAIR_LATCH_CMP(X, P, EQ) LW_PAIR_LATCH_CMP(X, P, NE) \
    LW_PAIR_LATCH_CMP(X, P, LT_S) LW_PAIR_LATCH_CMP(X, P, LT_U) LW_PAIR_LATCH_CMP(X, P, GT_S) \
    LW_PAIR_LATCH_CMP(X, P, GT_U) LW_PAIR_LATCH_CMP(X, P, LE_S) LW_PAIR_LATCH_CMP(X, P, LE_U) \
    LW_PAIR_LATCH_CMP(X, P, GE_S) LW_PAIR_LATCH_CMP(X, P, GE_U)
/* the usual latches of fill and copy loops */
#define LW_PAIR_FILL_LATCH(X, P) X(P, ADD_JMP_I32_NE) X(P, ADD_JMP_I32_NE_IMM) X(P, ADD_JMP_I64_NE_IMM) \
    X(P, ADD_JMP_I32_LT_U_IMM) X(P, ADD_JMP_I64_LT_U_IMM) X(P, ADDI_JMP_I32_NE_IMM) \
    X(P, ADDI_JMP_I64_NE_IMM) X(P, ADDI_JMP_I32_LT_U_IMM) X(P, ADDI_JMP_I64_LT_U_IMM) \
    X(P, ADDI_JMP_I32_NE) X(P, ADDI_JMP_I32_LT_S) X(P, JMP_I32_NE) X(P, JMP_I32_LT_U)
/* memory accesses next to an independent add */
#define LW_PAIR_MEM(X, P) X(P, I32_LOAD) X(P, I64_LOAD) X(P, F32_LOAD) X(P, F64_LOAD) \
    X(P, I32_LOAD8_U) X(P, I32_LOAD8_S) X(P, I32_LOAD16_U) X(P, I32_LOAD16_S) \
    X(P, I32_STORE) X(P, I64_STORE) X(P, F32_STORE) X(P, F64_STORE) X(P, I32_STORE8) X(P, I32_STORE16) \
    X(P, I32_STORE_ADD) X(P, I32_STORE_ADDI) X(P, I64_STORE_ADD) X(P, I64_STORE_ADDI) \
    X(P, I32_STORE8_ADD) X(P, I32_STORE8_ADDI) X(P, F64_STORE_ADD) X(P, F64_STORE_ADDI) \
    X(P, F64_ADD_MEM) X(P, F64_SUB_MEM) X(P, F64_ADD_MEM_MUL) X(P, F64_SUB_MEM_MUL) \
    X(P, F64_ADD_MEM_MUL3) X(P, F64_SUB_MEM_MUL3) X(P, F32_ADD_MEM) X(P, F32_SUB_MEM) \
    X(P, F32_ADD_MEM_MUL) X(P, F32_SUB_MEM_MUL) X(P, F32_ADD_MEM_MUL3) X(P, F32_SUB_MEM_MUL3) \
    X(P, JMP_LD32_AI_LT_S) X(P, JMP_LD32_AI_GT_S) X(P, JMP_LD32_AI_NE) X(P, JMP_LD8U_AR_NE)
#define LW_PAIR_OPS(X) \
    LW_PAIR_AFTER_ADD(X, A32I) LW_PAIR_AFTER_ADD(X, A32R) LW_PAIR_AFTER_ADD(X, A64I) \
    LW_PAIR_AFTER_ADD(X, A64R) LW_PAIR_AFTER_ADD(X, MOV) \
    LW_PAIR_LATCH(X, A32I) LW_PAIR_LATCH(X, A64I) LW_PAIR_MEM(X, A32I) \
    X(SHL32I, I32_ADD) X(SHL32I, I32_XOR) X(SHL32I, I32_OR) \
    X(SHRU32I, I32_ADD) X(SHRU32I, I32_XOR) X(SHRU32I, I32_OR) \
    X(XORLD8, I32_MUL_IMM) X(ADDLD8, I32_MUL_IMM) \
    LW_PAIR_FILL_LATCH(X, ST8_ADD) LW_PAIR_FILL_LATCH(X, ST8_ADDI) LW_PAIR_FILL_LATCH(X, ST32_ADD) \
    LW_PAIR_FILL_LATCH(X, ST32_ADDI) LW_PAIR_FILL_LATCH(X, ST64_ADD) LW_PAIR_FILL_LATCH(X, ST64_ADDI)

/*
 * Forwarding pairs: a pair of LW_PAIR_OPS whose second half reads the
 * first's result, in a chain where each step waits on the last (a hash's
 * `h = (h ^ byte) * prime`).  The pair form stores that result to its
 * slot and the second half loads it back: a store-to-load forwarding on
 * the chain each step, some 5 cycles.  These handlers hand it over in a
 * register (and still store it).  X(P, Q): passes.c uses H_FWD_P__Q in
 * place of H_PAIR_P__Q when Q's source is P's result.
 */
#define LW_FWD_OPS(X) X(XORLD8, I32_MUL_IMM) X(ADDLD8, I32_MUL_IMM)

/*
 * Self-loops: a loop whose whole body is one fill pair, a store that bumps
 * its pointer (P) and the latch (Q) that branches back to it, becomes one
 * handler that iterates inside itself (passes.c).  It keeps the pointer
 * and the latch's counter in machine registers and writes them back to
 * their slots whenever it leaves: the loop ends, the fuel runs out, or the
 * store traps.  Each iteration then makes one store, as compiled code
 * does, where the pair made three (the element and both slots).  A
 * strided fill over more memory than the cache holds waits on its store
 * buffer, so the two extra stores tripled the wait: the sieve's inner loop
 * is such a fill, and the sieve ran 31% faster.  passes.c makes one only
 * where the slots are distinct as registers need them to be; elsewhere
 * the pair stays.
 *
 * X(P, VT, SK, Q, T, CT, op, AK, RK): P stores a VT and adds a stride
 * (SK: a SLOT or an IMMediate); Q adds AK (SLOT or IMM) to its counter,
 * of type T, and compares it (op, as CT) with RK (SLOT or IMM); a latch
 * with AK NONE compares the pointer itself.  The latches are those of
 * LW_PAIR_FILL_LATCH.
 */
#define LW_SELF_LATCHES(X, P, VT, SK) \
    X(P, VT, SK, ADD_JMP_I32_NE, uint32_t, uint32_t, !=, SLOT, SLOT) \
    X(P, VT, SK, ADD_JMP_I32_NE_IMM, uint32_t, uint32_t, !=, SLOT, IMM) \
    X(P, VT, SK, ADD_JMP_I64_NE_IMM, uint64_t, uint64_t, !=, SLOT, IMM) \
    X(P, VT, SK, ADD_JMP_I32_LT_U_IMM, uint32_t, uint32_t, <, SLOT, IMM) \
    X(P, VT, SK, ADD_JMP_I64_LT_U_IMM, uint64_t, uint64_t, <, SLOT, IMM) \
    X(P, VT, SK, ADDI_JMP_I32_NE_IMM, uint32_t, uint32_t, !=, IMM, IMM) \
    X(P, VT, SK, ADDI_JMP_I64_NE_IMM, uint64_t, uint64_t, !=, IMM, IMM) \
    X(P, VT, SK, ADDI_JMP_I32_LT_U_IMM, uint32_t, uint32_t, <, IMM, IMM) \
    X(P, VT, SK, ADDI_JMP_I64_LT_U_IMM, uint64_t, uint64_t, <, IMM, IMM) \
    X(P, VT, SK, ADDI_JMP_I32_NE, uint32_t, uint32_t, !=, IMM, SLOT) \
    X(P, VT, SK, ADDI_JMP_I32_LT_S, uint32_t, int32_t, <, IMM, SLOT) \
    X(P, VT, SK, JMP_I32_NE, uint32_t, uint32_t, !=, NONE, SLOT) \
    X(P, VT, SK, JMP_I32_LT_U, uint32_t, uint32_t, <, NONE, SLOT)
#define LW_SELF_OPS(X) \
    LW_SELF_LATCHES(X, ST8_ADD, uint8_t, SLOT) LW_SELF_LATCHES(X, ST8_ADDI, uint8_t, IMM) \
    LW_SELF_LATCHES(X, ST32_ADD, uint32_t, SLOT) LW_SELF_LATCHES(X, ST32_ADDI, uint32_t, IMM) \
    LW_SELF_LATCHES(X, ST64_ADD, uint64_t, SLOT) LW_SELF_LATCHES(X, ST64_ADDI, uint64_t, IMM)
/* Those kinds as numbers: whether the operand is a slot, and whether the latch only compares. */
#define LW_SELF_IS_SLOT 1
#define LW_SELF_IS_IMM 0
#define LW_SELF_IS_NONE 0
#define LW_SELF_CMP_SLOT 0
#define LW_SELF_CMP_IMM 0
#define LW_SELF_CMP_NONE 1

enum {
#define OP(id, text, prefix, code, imm, sig) H_##id,
#include "decode/opcodes.def"
#undef OP
#define X(id, fmt) H_##id,
    LW_EXTRA_HANDLERS(X)
#undef X
#define X(id) H_##id##_IMM,
    LW_IMM_OPS(X)
#undef X
/* fused: [a|b][n|f][target] and [a|n][imm][target][f|-] */
#define X(id, op, t32, t64, neg) H_JMP_I32_##id, H_JMP_I32_##id##_IMM, H_JMP_I64_##id, H_JMP_I64_##id##_IMM,
    LW_CMP_OPS(X)
#undef X
/*
 * add-and-branch: [x|src][y|b][imm][n|f][target]: x = src + fp[y] (ADD_JMP)
 * or src + y as a signed 32-bit immediate (ADDI_JMP), then compare x with
 * fp[b] or imm (_IMM).
 */
#define X(id, op, t32, t64, neg) H_ADD_JMP_I32_##id, H_ADD_JMP_I32_##id##_IMM, \
    H_ADD_JMP_I64_##id, H_ADD_JMP_I64_##id##_IMM, H_ADDI_JMP_I32_##id, H_ADDI_JMP_I32_##id##_IMM, \
    H_ADDI_JMP_I64_##id, H_ADDI_JMP_I64_##id##_IMM,
    LW_CMP_OPS(X)
#undef X
#define X(id, T, expr) H_##id##_AI, H_##id##_AR,
    LW_LOAD_OPS(X)
#undef X
#define X(id) H_##id,
    LW_MULADD_OPS(X)
    LW_ADD_MEM_OPS(X)
#undef X
#define X(op, load, LT, T, get, put, expr) H_##op##_M_##load, H_##op##_M_##load##_K,
    LW_MEMOP_OPS(X)
#undef X
#define X(id, T) H_##id##_ADD, H_##id##_ADDI,
    LW_STORE_ADD_OPS(X)
#undef X
/*
 * Compare-and-branch on a value just loaded by i32.load (LD32) or
 * i32.load8_u (LD8U): [a|x][y|offset][b|n][target][f|-]: fp[a] = mem[ea],
 * then branch if fp[a] op fp[b], with ea = (uint32_t)(fp[x] + y) + offset
 * (_AI: y an immediate, 0 for a plain load) or (uint32_t)(fp[x] + fp[y])
 * + offset (_AR).  `if (a[i])` is the NE form with b the zero slot.
 */
#define X(id, op, t32, t64, neg) H_JMP_LD32_AI_##id, H_JMP_LD32_AR_##id, \
    H_JMP_LD8U_AI_##id, H_JMP_LD8U_AR_##id,
    LW_CMP_OPS(X)
#undef X
#define X(name, base, pos, out) H_##name,
    LW_FACC_HANDLERS(X)
#undef X
#define X(P, Q) H_PAIR_##P##__##Q,
    LW_PAIR_OPS(X)
#undef X
#define X(P, Q) H_FWD_##P##__##Q,
    LW_FWD_OPS(X)
#undef X
#define X(P, VT, SK, Q, T, CT, op, AK, RK) H_SELF_##P##__##Q,
    LW_SELF_OPS(X)
#undef X
    H__COUNT
};

/* An operand cell that names no slot: a loaded value nobody reads (the load-compare-branch),
   which the handler then does not store. */
#define LW_NO_SLOT UINT32_MAX

/* A call zeroes this many slots after the params unconditionally (cheaper than a loop). */
#define ZERO_AHEAD 4

/* A translated function; shared by every instance of its module. */
struct CompiledFunc {
    const Cell *code;        /* the entry point; until translated, `stub` */
    Cell stub[1];            /* a LAZY instruction: translate on first call */
    bool translated;
    Cell *code_base;         /* the allocation (code may start after a CONSTS) */
    uint64_t *consts;        /* values for the constant slots, or NULL */
    size_t ncells;
    lw_module *mod;
    uint32_t func_index;     /* in the module's function index space */
    uint32_t scale;          /* slots per value: 1, or 2 (16 bytes) in a module that uses v128 */
    uint32_t nparams;        /* slots of the params (their count times scale) */
    uint32_t nresults;       /* results (a count: result k is in fp[k * scale]) */
    uint32_t nlocals;        /* slots zeroed on entry, after the params: the declared
                                locals, then one that stays zero (operand for 0 constants) */
    uint32_t frame_slots;    /* params + locals + deepest operand stack; at least
                                nparams + max(nlocals, ZERO_AHEAD), even before translation */
    const char *error;       /* why translation failed (static), or NULL */
};

/*
 * The compiled function for defined function `defined_idx` of `mod`; the
 * shell is made on first use, the body is translated by translate_func().
 * Thread-safe: modules are shared between threads (see translate.c).
 */
CompiledFunc *code_get(lw_module *mod, uint32_t defined_idx);

/*
 * For tests: while nonzero, functions translated from then on get no
 * fusions (fuse.c, and the branch fusions of translate.c) and no passes
 * (passes.c), only each instruction's own handler and its `x op const`
 * and compare-and-branch forms.  tests/fuzz_fusions.c runs random
 * programs both ways and compares: the plain translation is its oracle.
 */
extern int lw_translate_plain;

/* Translate cf's body if not done yet.  False (and cf->error) on failure. */
bool translate_func(CompiledFunc *cf);

/*
 * passes.c: move f64 values between adjacent producers and consumers into
 * the float register.  hid[i] is 1 + the handler id of the instruction
 * starting at code[i] (0 inside an instruction), target[i] is true where a
 * branch lands; temps are the slots from tempbase up.  It sets hid[i] to
 * the variant it puts at code[i].
 */
void facc_pass(Cell *code, uint16_t *hid, const bool *target, size_t len, uint32_t tempbase,
               const void *const *hs);

/* passes.c: run the pairs of LW_PAIR_OPS as one dispatch (same arguments). */
void pair_pass(Cell *code, const uint16_t *hid, const bool *target, size_t len, const void *const *hs);

/* Free one compiled function (lw_module_free calls this for mod->code[i]). */
void compiled_func_free(CompiledFunc *cf);

/* interp.c: the handler address table, indexed by H_*. */
const void *const *interp_handlers(void);

/* disasm.c: print the translated code of cf to `out`. */
#include <stdio.h>
void disasm_func(FILE *out, const CompiledFunc *cf);
const char *handler_name(int h);

#endif
