/*
 * Facts about each opcode, derived once from opcodes.def, shared by the
 * decoder and the validator (decode.c builds them).  Nothing here lists an
 * opcode: the immediate kinds, signatures and natural alignments all come
 * from the table's own columns.
 */
#ifndef LEONARDO_DECODE_OPS_H
#define LEONARDO_DECODE_OPS_H

#include <stdint.h>
#include "module.h"

/* Immediate kinds, the `imm` column of opcodes.def. */
enum {
    IMM_NONE, IMM_BLOCK, IMM_LABEL, IMM_BR_TABLE, IMM_FUNC, IMM_CALL_IND,
    IMM_LOCAL, IMM_GLOBAL, IMM_TABLE, IMM_MEMARG, IMM_MEM, IMM_I32, IMM_I64,
    IMM_F32, IMM_F64, IMM_SELECT_T, IMM_REFTYPE, IMM_TABLE2, IMM_ELEM_TABLE,
    IMM_ELEM, IMM_DATA_MEM, IMM_DATA, IMM_MEM2, IMM_V128, IMM_SHUFFLE,
    IMM_LANE, IMM_MEMARG_LANE,
};

/* "No such opcode" in the lookup tables below. */
#define OP_ILLEGAL 0xFFFF

/* Sizes of the lookup tables of 0xFC and 0xFD sub-opcodes. */
#define OPS_FC_MAX 32
#define OPS_FD_MAX 256

typedef struct {
    const char *text;    /* mnemonic, for messages */
    uint8_t imm;         /* IMM_* */
    uint8_t prefix;      /* 0, 0xFC or 0xFD */
    uint32_t code;
    /* The parsed `sig` column: `simple` ops pop npop values of types
       pop[0..npop) (pop[npop-1] on top) and push `push` unless it is 0. */
    uint8_t simple;
    uint8_t npop;
    ValType pop[3];
    ValType push;
    uint8_t natural_align; /* memory accesses: log2 of the access width in bytes */
    uint8_t lanes;         /* LANE and MEMARG_LANE ops: how many lanes the index picks from */
} OpInfo;

typedef struct {
    OpInfo ops[OP__COUNT];
    uint16_t by_byte[256];          /* one-byte opcodes; OP_ILLEGAL elsewhere */
    uint16_t by_fc[OPS_FC_MAX];     /* 0xFC sub-opcodes */
    uint16_t by_fd[OPS_FD_MAX];     /* 0xFD sub-opcodes (SIMD) */
} OpTables;

/*
 * A constant expression the decoder could not reduce to one constant
 * instruction (ConstExpr.op == OP_NOP) says why in u.i32; the validator
 * reports it ("constant expression required" / "type mismatch").
 */
enum { CONST_BAD_NONCONST = 1, CONST_BAD_ARITY = 2 };

/* The tables, built on first use (thread-safe). */
const OpTables *op_tables(void);

#endif
