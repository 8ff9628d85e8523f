/*
 * Numeric handlers, included inside interp_run().  Layouts: unary
 * [dst|a], binary [dst|a][b|-], immediate [dst|a][imm] (translate.h).
 */

#define U32(v) ((uint32_t)(v))
#define U64(v) ((uint64_t)(v))
#define PUT32(v) ((uint64_t)(uint32_t)(v))
#define PUT64(v) ((uint64_t)(v))

#define UNOP(id, T, get, put, expr) \
op_##id: { \
    T x = get(fp[PB(1)]); \
    fp[PA(1)] = put(expr); \
    ip += 2; \
    NEXT(); \
}
#define BINOP(id, T, get, put, expr) \
op_##id: { \
    T x = get(fp[PB(1)]), y = get(fp[PA(2)]); \
    fp[PA(1)] = put(expr); \
    ip += 3; \
    NEXT(); \
}
/* The same operation, and its variant with an immediate right operand. */
#define BINOP_I(id, T, get, put, expr) \
    BINOP(id, T, get, put, expr) \
op_##id##_IMM: { \
    T x = get(fp[PB(1)]), y = get(IMM(2)); \
    fp[PA(1)] = put(expr); \
    ip += 3; \
    NEXT(); \
}

    /* i32 */
    UNOP(I32_EQZ, uint32_t, U32, PUT32, x == 0)
    BINOP_I(I32_EQ, uint32_t, U32, PUT32, x == y)
    BINOP_I(I32_NE, uint32_t, U32, PUT32, x != y)
    BINOP_I(I32_LT_S, uint32_t, U32, PUT32, (int32_t)x < (int32_t)y)
    BINOP_I(I32_LT_U, uint32_t, U32, PUT32, x < y)
    BINOP_I(I32_GT_S, uint32_t, U32, PUT32, (int32_t)x > (int32_t)y)
    BINOP_I(I32_GT_U, uint32_t, U32, PUT32, x > y)
    BINOP_I(I32_LE_S, uint32_t, U32, PUT32, (int32_t)x <= (int32_t)y)
    BINOP_I(I32_LE_U, uint32_t, U32, PUT32, x <= y)
    BINOP_I(I32_GE_S, uint32_t, U32, PUT32, (int32_t)x >= (int32_t)y)
    BINOP_I(I32_GE_U, uint32_t, U32, PUT32, x >= y)
    UNOP(I32_CLZ, uint32_t, U32, PUT32, clz32(x))
    UNOP(I32_CTZ, uint32_t, U32, PUT32, ctz32(x))
    UNOP(I32_POPCNT, uint32_t, U32, PUT32, __builtin_popcount(x))
    BINOP_I(I32_ADD, uint32_t, U32, PUT32, x + y)
    BINOP_I(I32_SUB, uint32_t, U32, PUT32, x - y)
    BINOP_I(I32_MUL, uint32_t, U32, PUT32, x * y)
    BINOP_I(I32_AND, uint32_t, U32, PUT32, x & y)
    BINOP_I(I32_OR, uint32_t, U32, PUT32, x | y)
    BINOP_I(I32_XOR, uint32_t, U32, PUT32, x ^ y)
    BINOP_I(I32_SHL, uint32_t, U32, PUT32, x << (y & 31))
    BINOP_I(I32_SHR_S, uint32_t, U32, PUT32, (int32_t)x >> (y & 31))
    BINOP_I(I32_SHR_U, uint32_t, U32, PUT32, x >> (y & 31))
    BINOP_I(I32_ROTL, uint32_t, U32, PUT32, rotl32(x, y))
    BINOP_I(I32_ROTR, uint32_t, U32, PUT32, rotr32(x, y))
op_I32_DIV_S: {
    uint32_t x = U32(fp[PB(1)]), y = U32(fp[PA(2)]);
    if (UNLIKELY(y == 0))
        TRAP("integer divide by zero");
    if (UNLIKELY(x == 0x80000000u && y == 0xFFFFFFFFu))
        TRAP("integer overflow");
    fp[PA(1)] = PUT32((int32_t)x / (int32_t)y);
    ip += 3;
    NEXT();
}
op_I32_DIV_U: {
    uint32_t x = U32(fp[PB(1)]), y = U32(fp[PA(2)]);
    if (UNLIKELY(y == 0))
        TRAP("integer divide by zero");
    fp[PA(1)] = PUT32(x / y);
    ip += 3;
    NEXT();
}
op_I32_REM_S: {
    uint32_t x = U32(fp[PB(1)]), y = U32(fp[PA(2)]);
    if (UNLIKELY(y == 0))
        TRAP("integer divide by zero");
    fp[PA(1)] = y == 0xFFFFFFFFu ? 0 : PUT32((int32_t)x % (int32_t)y);
    ip += 3;
    NEXT();
}
op_I32_REM_U: {
    uint32_t x = U32(fp[PB(1)]), y = U32(fp[PA(2)]);
    if (UNLIKELY(y == 0))
        TRAP("integer divide by zero");
    fp[PA(1)] = PUT32(x % y);
    ip += 3;
    NEXT();
}

    /* i64 */
    UNOP(I64_EQZ, uint64_t, U64, PUT32, x == 0)
    BINOP_I(I64_EQ, uint64_t, U64, PUT32, x == y)
    BINOP_I(I64_NE, uint64_t, U64, PUT32, x != y)
    BINOP_I(I64_LT_S, uint64_t, U64, PUT32, (int64_t)x < (int64_t)y)
    BINOP_I(I64_LT_U, uint64_t, U64, PUT32, x < y)
    BINOP_I(I64_GT_S, uint64_t, U64, PUT32, (int64_t)x > (int64_t)y)
    BINOP_I(I64_GT_U, uint64_t, U64, PUT32, x > y)
    BINOP_I(I64_LE_S, uint64_t, U64, PUT32, (int64_t)x <= (int64_t)y)
    BINOP_I(I64_LE_U, uint64_t, U64, PUT32, x <= y)
    BINOP_I(I64_GE_S, uint64_t, U64, PUT32, (int64_t)x >= (int64_t)y)
    BINOP_I(I64_GE_U, uint64_t, U64, PUT32, x >= y)
    UNOP(I64_CLZ, uint64_t, U64, PUT64, clz64(x))
    UNOP(I64_CTZ, uint64_t, U64, PUT64, ctz64(x))
    UNOP(I64_POPCNT, uint64_t, U64, PUT64, __builtin_popcountll(x))
    BINOP_I(I64_ADD, uint64_t, U64, PUT64, x + y)
    BINOP_I(I64_SUB, uint64_t, U64, PUT64, x - y)
    BINOP_I(I64_MUL, uint64_t, U64, PUT64, x * y)
    BINOP_I(I64_AND, uint64_t, U64, PUT64, x & y)
    BINOP_I(I64_OR, uint64_t, U64, PUT64, x | y)
    BINOP_I(I64_XOR, uint64_t, U64, PUT64, x ^ y)
    BINOP_I(I64_SHL, uint64_t, U64, PUT64, x << (y & 63))
    BINOP_I(I64_SHR_S, uint64_t, U64, PUT64, (int64_t)x >> (y & 63))
    BINOP_I(I64_SHR_U, uint64_t, U64, PUT64, x >> (y & 63))
    BINOP_I(I64_ROTL, uint64_t, U64, PUT64, rotl64(x, y))
    BINOP_I(I64_ROTR, uint64_t, U64, PUT64, rotr64(x, y))
op_I64_DIV_S: {
    uint64_t x = fp[PB(1)], y = fp[PA(2)];
    if (UNLIKELY(y == 0))
        TRAP("integer divide by zero");
    if (UNLIKELY(x == 0x8000000000000000u && y == UINT64_MAX))
        TRAP("integer overflow");
    fp[PA(1)] = (uint64_t)((int64_t)x / (int64_t)y);
    ip += 3;
    NEXT();
}
op_I64_DIV_U: {
    uint64_t x = fp[PB(1)], y = fp[PA(2)];
    if (UNLIKELY(y == 0))
        TRAP("integer divide by zero");
    fp[PA(1)] = x / y;
    ip += 3;
    NEXT();
}
op_I64_REM_S: {
    uint64_t x = fp[PB(1)], y = fp[PA(2)];
    if (UNLIKELY(y == 0))
        TRAP("integer divide by zero");
    fp[PA(1)] = y == UINT64_MAX ? 0 : (uint64_t)((int64_t)x % (int64_t)y);
    ip += 3;
    NEXT();
}
op_I64_REM_U: {
    uint64_t x = fp[PB(1)], y = fp[PA(2)];
    if (UNLIKELY(y == 0))
        TRAP("integer divide by zero");
    fp[PA(1)] = x % y;
    ip += 3;
    NEXT();
}

    /* f32: abs, neg and copysign only touch the sign bit, so NaN payloads survive */
    UNOP(F32_ABS, uint32_t, U32, PUT32, x & 0x7FFFFFFFu)
    UNOP(F32_NEG, uint32_t, U32, PUT32, x ^ 0x80000000u)
    BINOP(F32_COPYSIGN, uint32_t, U32, PUT32, (x & 0x7FFFFFFFu) | (y & 0x80000000u))
    UNOP(F32_CEIL, float, f32_of, bits_f32, isnan(x) ? x + x : ceilf(x))
    UNOP(F32_FLOOR, float, f32_of, bits_f32, isnan(x) ? x + x : floorf(x))
    UNOP(F32_TRUNC, float, f32_of, bits_f32, isnan(x) ? x + x : truncf(x))
    UNOP(F32_NEAREST, float, f32_of, bits_f32, isnan(x) ? x + x : nearbyintf(x))
    UNOP(F32_SQRT, float, f32_of, bits_f32, sqrtf(x))
    BINOP_I(F32_ADD, float, f32_of, bits_f32, x + y)
    BINOP_I(F32_SUB, float, f32_of, bits_f32, x - y)
    BINOP_I(F32_MUL, float, f32_of, bits_f32, x * y)
    BINOP_I(F32_DIV, float, f32_of, bits_f32, x / y)
    BINOP(F32_MIN, float, f32_of, bits_f32, wasm_fminf(x, y))
    BINOP(F32_MAX, float, f32_of, bits_f32, wasm_fmaxf(x, y))
    BINOP(F32_EQ, float, f32_of, PUT32, x == y)
    BINOP(F32_NE, float, f32_of, PUT32, x != y)
    BINOP(F32_LT, float, f32_of, PUT32, x < y)
    BINOP(F32_GT, float, f32_of, PUT32, x > y)
    BINOP(F32_LE, float, f32_of, PUT32, x <= y)
    BINOP(F32_GE, float, f32_of, PUT32, x >= y)

    /* f64 */
    UNOP(F64_ABS, uint64_t, U64, PUT64, x & 0x7FFFFFFFFFFFFFFFu)
    UNOP(F64_NEG, uint64_t, U64, PUT64, x ^ 0x8000000000000000u)
    BINOP(F64_COPYSIGN, uint64_t, U64, PUT64, (x & 0x7FFFFFFFFFFFFFFFu) | (y & 0x8000000000000000u))
    UNOP(F64_CEIL, double, f64_of, bits_f64, isnan(x) ? x + x : ceil(x))
    UNOP(F64_FLOOR, double, f64_of, bits_f64, isnan(x) ? x + x : floor(x))
    UNOP(F64_TRUNC, double, f64_of, bits_f64, isnan(x) ? x + x : trunc(x))
    UNOP(F64_NEAREST, double, f64_of, bits_f64, isnan(x) ? x + x : nearbyint(x))
    UNOP(F64_SQRT, double, f64_of, bits_f64, sqrt(x))
    BINOP_I(F64_ADD, double, f64_of, bits_f64, x + y)
    BINOP_I(F64_SUB, double, f64_of, bits_f64, x - y)
    BINOP_I(F64_MUL, double, f64_of, bits_f64, x * y)
    BINOP_I(F64_DIV, double, f64_of, bits_f64, x / y)
    BINOP(F64_MIN, double, f64_of, bits_f64, wasm_fmin(x, y))
    BINOP(F64_MAX, double, f64_of, bits_f64, wasm_fmax(x, y))
    BINOP(F64_EQ, double, f64_of, PUT32, x == y)
    BINOP(F64_NE, double, f64_of, PUT32, x != y)
    BINOP(F64_LT, double, f64_of, PUT32, x < y)
    BINOP(F64_GT, double, f64_of, PUT32, x > y)
    BINOP(F64_LE, double, f64_of, PUT32, x <= y)
    BINOP(F64_GE, double, f64_of, PUT32, x >= y)

op_F32_ADD_MUL: {
    float a = f32_of(fp[PB(1)]), x = f32_of(fp[PA(2)]), y = f32_of(fp[PB(2)]);
    float m = x * y;
    fp[PA(1)] = bits_f32(a + m);
    ip += 3;
    NEXT();
}
op_F32_SUB_MUL: {
    float a = f32_of(fp[PB(1)]), x = f32_of(fp[PA(2)]), y = f32_of(fp[PB(2)]);
    float m = x * y;
    fp[PA(1)] = bits_f32(a - m);
    ip += 3;
    NEXT();
}
op_F64_ADD_MUL: {
    double a = f64_of(fp[PB(1)]), x = f64_of(fp[PA(2)]), y = f64_of(fp[PB(2)]);
    double m = x * y;
    fp[PA(1)] = bits_f64(a + m);
    ip += 3;
    NEXT();
}
op_F64_SUB_MUL: {
    double a = f64_of(fp[PB(1)]), x = f64_of(fp[PA(2)]), y = f64_of(fp[PB(2)]);
    double m = x * y;
    fp[PA(1)] = bits_f64(a - m);
    ip += 3;
    NEXT();
}

op_F32_MUL3: {
    float x = f32_of(fp[PB(1)]), y = f32_of(fp[PA(2)]), z = f32_of(fp[PB(2)]);
    float m = x * y;
    fp[PA(1)] = bits_f32(m * z);
    ip += 3;
    NEXT();
}
op_F64_MUL3: {
    double x = f64_of(fp[PB(1)]), y = f64_of(fp[PA(2)]), z = f64_of(fp[PB(2)]);
    double m = x * y;
    fp[PA(1)] = bits_f64(m * z);
    ip += 3;
    NEXT();
}

    /* conversions */
    UNOP(I32_WRAP_I64, uint64_t, U64, PUT32, x)
    UNOP(I64_EXTEND_I32_S, uint32_t, U32, PUT64, (int64_t)(int32_t)x)
    UNOP(I64_EXTEND_I32_U, uint32_t, U32, PUT64, x)
    UNOP(I32_EXTEND8_S, uint32_t, U32, PUT32, (int32_t)(int8_t)x)
    UNOP(I32_EXTEND16_S, uint32_t, U32, PUT32, (int32_t)(int16_t)x)
    UNOP(I64_EXTEND8_S, uint64_t, U64, PUT64, (int64_t)(int8_t)x)
    UNOP(I64_EXTEND16_S, uint64_t, U64, PUT64, (int64_t)(int16_t)x)
    UNOP(I64_EXTEND32_S, uint64_t, U64, PUT64, (int64_t)(int32_t)x)
    UNOP(F32_CONVERT_I32_S, uint32_t, U32, bits_f32, (float)(int32_t)x)
    UNOP(F32_CONVERT_I32_U, uint32_t, U32, bits_f32, (float)x)
    UNOP(F32_CONVERT_I64_S, uint64_t, U64, bits_f32, (float)(int64_t)x)
    UNOP(F32_CONVERT_I64_U, uint64_t, U64, bits_f32, (float)x)
    UNOP(F64_CONVERT_I32_S, uint32_t, U32, bits_f64, (double)(int32_t)x)
    UNOP(F64_CONVERT_I32_U, uint32_t, U32, bits_f64, (double)x)
    UNOP(F64_CONVERT_I64_S, uint64_t, U64, bits_f64, (double)(int64_t)x)
    UNOP(F64_CONVERT_I64_U, uint64_t, U64, bits_f64, (double)x)
    UNOP(F32_DEMOTE_F64, double, f64_of, bits_f32, (float)x)
    UNOP(F64_PROMOTE_F32, float, f32_of, bits_f64, (double)x)
    UNOP(I32_REINTERPRET_F32, uint32_t, U32, PUT32, x)
    UNOP(I64_REINTERPRET_F64, uint64_t, U64, PUT64, x)
    UNOP(F32_REINTERPRET_I32, uint32_t, U32, PUT32, x)
    UNOP(F64_REINTERPRET_I64, uint64_t, U64, PUT64, x)

/*
 * Truncation traps outside the target range.  The bounds are exact
 * powers of two, so comparing in the float type is exact and the C
 * conversion that follows is always defined.
 */
#define TRUNC(id, FT, get, IT, put, lo, hi) \
op_##id: { \
    FT x = get(fp[PB(1)]); \
    if (UNLIKELY(isnan(x))) \
        TRAP("invalid conversion to integer"); \
    if (UNLIKELY(!(x lo && x hi))) \
        TRAP("integer overflow"); \
    fp[PA(1)] = put((IT)x); \
    ip += 2; \
    NEXT(); \
}
    TRUNC(I32_TRUNC_F32_S, float, f32_of, int32_t, PUT32, >= -2147483648.0f, < 2147483648.0f)
    TRUNC(I32_TRUNC_F32_U, float, f32_of, uint32_t, PUT32, > -1.0f, < 4294967296.0f)
    TRUNC(I32_TRUNC_F64_S, double, f64_of, int32_t, PUT32, > -2147483649.0, < 2147483648.0)
    TRUNC(I32_TRUNC_F64_U, double, f64_of, uint32_t, PUT32, > -1.0, < 4294967296.0)
    TRUNC(I64_TRUNC_F32_S, float, f32_of, int64_t, PUT64, >= -9223372036854775808.0f, < 9223372036854775808.0f)
    TRUNC(I64_TRUNC_F32_U, float, f32_of, uint64_t, PUT64, > -1.0f, < 18446744073709551616.0f)
    TRUNC(I64_TRUNC_F64_S, double, f64_of, int64_t, PUT64, >= -9223372036854775808.0, < 9223372036854775808.0)
    TRUNC(I64_TRUNC_F64_U, double, f64_of, uint64_t, PUT64, > -1.0, < 18446744073709551616.0)
#undef TRUNC

/* Saturating truncation: NaN gives 0, out-of-range values clamp. */
#define TRUNC_SAT(id, FT, get, IT, put, lo, hi, minv, maxv) \
op_##id: { \
    FT x = get(fp[PB(1)]); \
    IT r; \
    if (isnan(x)) \
        r = 0; \
    else if (!(x lo)) \
        r = (minv); \
    else if (!(x hi)) \
        r = (maxv); \
    else \
        r = (IT)x; \
    fp[PA(1)] = put(r); \
    ip += 2; \
    NEXT(); \
}
    TRUNC_SAT(I32_TRUNC_SAT_F32_S, float, f32_of, int32_t, PUT32, >= -2147483648.0f, < 2147483648.0f, INT32_MIN, INT32_MAX)
    TRUNC_SAT(I32_TRUNC_SAT_F32_U, float, f32_of, uint32_t, PUT32, > -1.0f, < 4294967296.0f, 0, UINT32_MAX)
    TRUNC_SAT(I32_TRUNC_SAT_F64_S, double, f64_of, int32_t, PUT32, > -2147483649.0, < 2147483648.0, INT32_MIN, INT32_MAX)
    TRUNC_SAT(I32_TRUNC_SAT_F64_U, double, f64_of, uint32_t, PUT32, > -1.0, < 4294967296.0, 0, UINT32_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F32_S, float, f32_of, int64_t, PUT64, >= -9223372036854775808.0f, < 9223372036854775808.0f, INT64_MIN, INT64_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F32_U, float, f32_of, uint64_t, PUT64, > -1.0f, < 18446744073709551616.0f, 0, UINT64_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F64_S, double, f64_of, int64_t, PUT64, >= -9223372036854775808.0, < 9223372036854775808.0, INT64_MIN, INT64_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F64_U, double, f64_of, uint64_t, PUT64, > -1.0, < 18446744073709551616.0, 0, UINT64_MAX)
#undef TRUNC_SAT

#undef UNOP
#undef BINOP
#undef BINOP_I
