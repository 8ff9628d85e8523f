/*
 * The float-register variants (LW_FACC_HANDLERS in translate.h), included
 * inside interp_run().  Each is its base handler with one operand read
 * from `facc` or its result written to it; the operations and their
 * rounding are the base handler's.
 */

#define FS(c) f64_of(fp[c])                   /* a slot operand */
#define TO_SLOT(v) (fp[PA(1)] = bits_f64(v))
#define TO_REG(v) (facc = (v))
#define TO_BOTH(v) (facc = (v), fp[PA(1)] = bits_f64(facc))

/* [dst|a][b|-], [dst|a][imm], [dst|a]: X the a operand, Y the b operand */
#define FACC_OP(name, X, Y, PUT, expr, cells) \
op_##name: { \
    double x = (X), y = (Y); \
    (void)y; \
    PUT(expr); \
    ip += (cells); \
    NEXT(); \
}
#define FACC_BIN(id, expr) \
    FACC_OP(id##_R, FS(PB(1)), FS(PA(2)), TO_REG, expr, 3) \
    FACC_OP(id##_RA, facc, FS(PA(2)), TO_SLOT, expr, 3) \
    FACC_OP(id##_RB, FS(PB(1)), facc, TO_SLOT, expr, 3) \
    FACC_OP(id##_RA_R, facc, FS(PA(2)), TO_REG, expr, 3) \
    FACC_OP(id##_RB_R, FS(PB(1)), facc, TO_REG, expr, 3) \
    FACC_OP(id##_IMM_R, FS(PB(1)), f64_of(IMM(2)), TO_REG, expr, 3) \
    FACC_OP(id##_IMM_RA, facc, f64_of(IMM(2)), TO_SLOT, expr, 3) \
    FACC_OP(id##_IMM_RA_R, facc, f64_of(IMM(2)), TO_REG, expr, 3) \
    FACC_OP(id##_W, FS(PB(1)), FS(PA(2)), TO_BOTH, expr, 3) \
    FACC_OP(id##_RA_W, facc, FS(PA(2)), TO_BOTH, expr, 3) \
    FACC_OP(id##_RB_W, FS(PB(1)), facc, TO_BOTH, expr, 3) \
    FACC_OP(id##_IMM_W, FS(PB(1)), f64_of(IMM(2)), TO_BOTH, expr, 3) \
    FACC_OP(id##_IMM_RA_W, facc, f64_of(IMM(2)), TO_BOTH, expr, 3)
    FACC_BIN(F64_ADD, x + y)
    FACC_BIN(F64_SUB, x - y)
    FACC_BIN(F64_MUL, x * y)
    FACC_BIN(F64_DIV, x / y)
#undef FACC_BIN

/* -x and fabs(x) only flip or clear the sign bit, as f64.neg and f64.abs do, NaNs included. */
#define FACC_UN(id, expr) \
    FACC_OP(id##_R, FS(PB(1)), 0, TO_REG, expr, 2) \
    FACC_OP(id##_RA, facc, 0, TO_SLOT, expr, 2) \
    FACC_OP(id##_RA_R, facc, 0, TO_REG, expr, 2) \
    FACC_OP(id##_W, FS(PB(1)), 0, TO_BOTH, expr, 2) \
    FACC_OP(id##_RA_W, facc, 0, TO_BOTH, expr, 2)
    FACC_UN(F64_SQRT, sqrt(x))
    FACC_UN(F64_NEG, -x)
    FACC_UN(F64_ABS, fabs(x))
#undef FACC_UN

/* [dst|a][x|y]: a + x*y and a - x*y (two roundings, as in the base handlers) */
#define FACC_MULADD(name, A, X, Y, PUT, op) \
op_##name: { \
    double a = (A), x = (X), y = (Y); \
    double m = x * y; \
    PUT(a op m); \
    ip += 3; \
    NEXT(); \
}
#define FACC_MULADD_V(id, op) \
    FACC_MULADD(id##_R, FS(PB(1)), FS(PA(2)), FS(PB(2)), TO_REG, op) \
    FACC_MULADD(id##_RA, facc, FS(PA(2)), FS(PB(2)), TO_SLOT, op) \
    FACC_MULADD(id##_RX, FS(PB(1)), facc, FS(PB(2)), TO_SLOT, op) \
    FACC_MULADD(id##_RY, FS(PB(1)), FS(PA(2)), facc, TO_SLOT, op) \
    FACC_MULADD(id##_RA_R, facc, FS(PA(2)), FS(PB(2)), TO_REG, op) \
    FACC_MULADD(id##_RX_R, FS(PB(1)), facc, FS(PB(2)), TO_REG, op) \
    FACC_MULADD(id##_RY_R, FS(PB(1)), FS(PA(2)), facc, TO_REG, op) \
    FACC_MULADD(id##_W, FS(PB(1)), FS(PA(2)), FS(PB(2)), TO_BOTH, op) \
    FACC_MULADD(id##_RA_W, facc, FS(PA(2)), FS(PB(2)), TO_BOTH, op) \
    FACC_MULADD(id##_RX_W, FS(PB(1)), facc, FS(PB(2)), TO_BOTH, op) \
    FACC_MULADD(id##_RY_W, FS(PB(1)), FS(PA(2)), facc, TO_BOTH, op)
    FACC_MULADD_V(F64_ADD_MUL, +)
    FACC_MULADD_V(F64_SUB_MUL, -)
#undef FACC_MULADD_V
#undef FACC_MULADD

/* [dst|x][y|z]: (x*y)*z */
#define FACC_MUL3(name, X, PUT) \
op_##name: { \
    double x = (X), y = FS(PA(2)), z = FS(PB(2)); \
    double m = x * y; \
    PUT(m * z); \
    ip += 3; \
    NEXT(); \
}
    FACC_MUL3(F64_MUL3_R, FS(PB(1)), TO_REG)
    FACC_MUL3(F64_MUL3_RX, facc, TO_SLOT)
    FACC_MUL3(F64_MUL3_RX_R, facc, TO_REG)
#undef FACC_MUL3

    /* int -> f64 conversions, result to the register */
    FACC_OP(F64_CONVERT_I32_S_R, (double)(int32_t)fp[PB(1)], 0, TO_REG, x, 2)
    FACC_OP(F64_CONVERT_I32_U_R, (double)(uint32_t)fp[PB(1)], 0, TO_REG, x, 2)
    FACC_OP(F64_CONVERT_I64_S_R, (double)(int64_t)fp[PB(1)], 0, TO_REG, x, 2)
    FACC_OP(F64_CONVERT_I64_U_R, (double)fp[PB(1)], 0, TO_REG, x, 2)
#undef FACC_OP

/* [dst|a][x|c][off|-]: a op (value loaded from fp[x] + c + off) */
#define FACC_MEMOP(name, A, PUT, op) \
op_##name: { \
    uint64_t ea = (uint64_t)(uint32_t)((uint32_t)fp[PA(2)] + PB(2)) + PA(3); \
    if (UNLIKELY(ea + 8 > msize)) \
        goto oob; \
    uint64_t m; \
    memcpy(&m, mem + ea, sizeof m); \
    double x = (A), y = f64_of(m); \
    PUT(x op y); \
    ip += 4; \
    NEXT(); \
}
#define FACC_MEMOP_V(id, op) \
    FACC_MEMOP(id##_R, FS(PB(1)), TO_REG, op) \
    FACC_MEMOP(id##_RA, facc, TO_SLOT, op) \
    FACC_MEMOP(id##_RA_R, facc, TO_REG, op) \
    FACC_MEMOP(id##_W, FS(PB(1)), TO_BOTH, op) \
    FACC_MEMOP(id##_RA_W, facc, TO_BOTH, op)
    FACC_MEMOP_V(F64_ADD_M_F64_LOAD, +)
    FACC_MEMOP_V(F64_SUB_M_F64_LOAD, -)
    FACC_MEMOP_V(F64_MUL_M_F64_LOAD, *)
    FACC_MEMOP_V(F64_DIV_M_F64_LOAD, /)
#undef FACC_MEMOP_V
#undef FACC_MEMOP

/* Loads into the register: [dst|addr][off], and the fused address forms [dst|x][c|off], [dst|x][y|off]. */
#define FACC_LOAD(name, EA) \
op_##name: { \
    uint64_t ea = (EA); \
    if (UNLIKELY(ea + 8 > msize)) \
        goto oob; \
    uint64_t v; \
    memcpy(&v, mem + ea, sizeof v); \
    facc = f64_of(v); \
    ip += 3; \
    NEXT(); \
}
    FACC_LOAD(F64_LOAD_R, (uint32_t)fp[PB(1)] + IMM(2))
    FACC_LOAD(F64_LOAD_AI_R, (uint64_t)(uint32_t)((uint32_t)fp[PB(1)] + PA(2)) + PB(2))
    FACC_LOAD(F64_LOAD_AR_R, (uint64_t)(uint32_t)((uint32_t)fp[PB(1)] + (uint32_t)fp[PA(2)]) + PB(2))
#undef FACC_LOAD

/* Stores and read-modify-writes of the register's value: [addr|val][off] ... */
#define FACC_RMW(name, offcell, cells, stmt) \
op_##name: { \
    uint64_t ea = (uint32_t)fp[PA(1)] + IMM(offcell); \
    if (UNLIKELY(ea + 8 > msize)) \
        goto oob; \
    uint64_t v; \
    memcpy(&v, mem + ea, sizeof v); \
    double o = f64_of(v); \
    (void)o; \
    stmt; \
    memcpy(mem + ea, &v, sizeof v); \
    ip += (cells); \
    NEXT(); \
}
    FACC_RMW(F64_ADD_MEM_RX, 2, 3, v = bits_f64(facc + o))
    FACC_RMW(F64_SUB_MEM_RX, 2, 3, v = bits_f64(o - facc))
    FACC_RMW(F64_ADD_MEM_MUL_RX, 3, 4, double m = facc * FS(PA(2)); v = bits_f64(m + o))
    FACC_RMW(F64_SUB_MEM_MUL_RX, 3, 4, double m = facc * FS(PA(2)); v = bits_f64(o - m))
    FACC_RMW(F64_ADD_MEM_MUL3_RX, 3, 4, double m = (facc * FS(PA(2))) * FS(PB(2)); v = bits_f64(m + o))
    FACC_RMW(F64_SUB_MEM_MUL3_RX, 3, 4, double m = (facc * FS(PA(2))) * FS(PB(2)); v = bits_f64(o - m))
#undef FACC_RMW
op_F64_STORE_RV: {
    uint64_t ea = (uint32_t)fp[PA(1)] + IMM(2);
    if (UNLIKELY(ea + 8 > msize))
        goto oob;
    uint64_t v = bits_f64(facc);
    memcpy(mem + ea, &v, sizeof v);
    ip += 3;
    NEXT();
}

#undef FS
#undef TO_SLOT
#undef TO_REG
#undef TO_BOTH
