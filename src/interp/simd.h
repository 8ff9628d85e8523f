/*
 * The semantics of WebAssembly 2.0's fixed-width SIMD instructions, one
 * static inline function per instruction, in portable C over GCC/clang
 * vector extensions (the same code builds for x86-64 and AArch64).
 *
 * Values.  The carrier of a v128 is lw_v128, two 64-bit halves: the same
 * shape as the two frame slots a v128 occupies in the interpreter.  Each
 * function views it in the lane shape it works on (lw_u8x16, lw_i16x8,
 * lw_f32x4, ...) by a cast between vector types of equal size, which GCC
 * and clang define as a reinterpretation of the bits: no pointer punning.
 * Lanes are little-endian: wasm lane 0 is the lowest-addressed bytes, which
 * is vector element 0 on the (little-endian) hosts we support.
 *
 * Naming.  The instruction with opcode-table id I8X16_ADD_SAT_S is
 * simd_i8x16_add_sat_s.  The X-macro lists at the end group the
 * instructions by operand shape so the interpreter can generate its
 * handlers; v128.load, v128.store, v128.const and i8x16.shuffle are in no
 * list (their handlers are written out by hand).
 *
 * Exactness.  Where C or the hardware differ from the spec, the spec wins:
 * integer arithmetic is done on unsigned lanes (wrapping, never signed
 * overflow), shift counts are taken modulo the lane width, float min/max
 * propagate NaN and order -0 below +0, float-to-int conversions saturate and
 * map NaN to 0 with explicit range checks (C leaves out-of-range conversions
 * undefined), swizzle gives 0 for indices >= 16.  Float arithmetic may give
 * any NaN where the spec allows any (canonical or arithmetic) NaN.
 * Rounding functions assume the default rounding mode (to nearest even),
 * which wasm code cannot change.
 *
 * Lane indices and shuffle indices are masked to their range, so a bad
 * index (which the validator rejects) can never touch memory out of bounds.
 * The memory instructions take a pointer to exactly the bytes they access;
 * the caller does the bounds check.
 */
#ifndef LEONARDO_SIMD_H
#define LEONARDO_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "interp/numeric.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "simd.h assumes a little-endian host (wasm lane 0 = vector element 0)"
#endif

typedef int8_t   lw_i8x16 __attribute__((vector_size(16)));
typedef uint8_t  lw_u8x16 __attribute__((vector_size(16)));
typedef int16_t  lw_i16x8 __attribute__((vector_size(16)));
typedef uint16_t lw_u16x8 __attribute__((vector_size(16)));
typedef int32_t  lw_i32x4 __attribute__((vector_size(16)));
typedef uint32_t lw_u32x4 __attribute__((vector_size(16)));
typedef int64_t  lw_i64x2 __attribute__((vector_size(16)));
typedef uint64_t lw_u64x2 __attribute__((vector_size(16)));
typedef float    lw_f32x4 __attribute__((vector_size(16)));
typedef double   lw_f64x2 __attribute__((vector_size(16)));

/* The canonical carrier of a v128 value. */
typedef lw_u64x2 lw_v128;

/* From and to memory at any alignment (memcpy: no alignment assumed). */
static inline lw_v128 v128_load(const void *p)
{
    lw_v128 v;
    memcpy(&v, p, 16);
    return v;
}

static inline void v128_store(void *p, lw_v128 v)
{
    memcpy(p, &v, 16);
}

/* The instructions v128.load and v128.store, by the same names as the rest. */
static inline lw_v128 simd_v128_load(const uint8_t *p) { return v128_load(p); }
static inline void simd_v128_store(uint8_t *p, lw_v128 v) { v128_store(p, v); }

/* Lanes where m is all ones come from a, the others from b. */
static inline lw_v128 lw_select(lw_v128 m, lw_v128 a, lw_v128 b)
{
    return (a & m) | (b & ~m);
}

/* ------------------------------------------------------------------ */
/* Splat, extract and replace lane                                     */
/* ------------------------------------------------------------------ */

/* (A scalar operand of a vector operation applies to every lane.) */
static inline lw_v128 simd_i8x16_splat(uint32_t x)
{
    lw_u8x16 zero = { 0 };
    return (lw_v128)(zero + (uint8_t)x);
}

static inline lw_v128 simd_i16x8_splat(uint32_t x)
{
    lw_u16x8 zero = { 0 };
    return (lw_v128)(zero + (uint16_t)x);
}

static inline lw_v128 simd_i32x4_splat(uint32_t x)
{
    lw_u32x4 r = { x, x, x, x };
    return (lw_v128)r;
}

static inline lw_v128 simd_i64x2_splat(uint64_t x)
{
    lw_v128 r = { x, x };
    return r;
}

static inline lw_v128 simd_f32x4_splat(float x)
{
    lw_f32x4 r = { x, x, x, x };
    return (lw_v128)r;
}

static inline lw_v128 simd_f64x2_splat(double x)
{
    lw_f64x2 r = { x, x };
    return (lw_v128)r;
}

/* Signed extracts sign-extend the lane to an i32, returned as its bits. */
static inline uint32_t simd_i8x16_extract_lane_s(lw_v128 a, uint32_t lane)
{
    return (uint32_t)(int32_t)((lw_i8x16)a)[lane & 15];
}

static inline uint32_t simd_i8x16_extract_lane_u(lw_v128 a, uint32_t lane)
{
    return ((lw_u8x16)a)[lane & 15];
}

static inline uint32_t simd_i16x8_extract_lane_s(lw_v128 a, uint32_t lane)
{
    return (uint32_t)(int32_t)((lw_i16x8)a)[lane & 7];
}

static inline uint32_t simd_i16x8_extract_lane_u(lw_v128 a, uint32_t lane)
{
    return ((lw_u16x8)a)[lane & 7];
}

static inline uint32_t simd_i32x4_extract_lane(lw_v128 a, uint32_t lane)
{
    return ((lw_u32x4)a)[lane & 3];
}

static inline uint64_t simd_i64x2_extract_lane(lw_v128 a, uint32_t lane)
{
    return a[lane & 1];
}

static inline float simd_f32x4_extract_lane(lw_v128 a, uint32_t lane)
{
    return ((lw_f32x4)a)[lane & 3];
}

static inline double simd_f64x2_extract_lane(lw_v128 a, uint32_t lane)
{
    return ((lw_f64x2)a)[lane & 1];
}

/* Replacing takes the low bits of the i32 operand for the narrow shapes. */
static inline lw_v128 simd_i8x16_replace_lane(lw_v128 a, uint32_t lane, uint32_t x)
{
    lw_u8x16 v = (lw_u8x16)a;
    v[lane & 15] = (uint8_t)x;
    return (lw_v128)v;
}

static inline lw_v128 simd_i16x8_replace_lane(lw_v128 a, uint32_t lane, uint32_t x)
{
    lw_u16x8 v = (lw_u16x8)a;
    v[lane & 7] = (uint16_t)x;
    return (lw_v128)v;
}

static inline lw_v128 simd_i32x4_replace_lane(lw_v128 a, uint32_t lane, uint32_t x)
{
    lw_u32x4 v = (lw_u32x4)a;
    v[lane & 3] = x;
    return (lw_v128)v;
}

static inline lw_v128 simd_i64x2_replace_lane(lw_v128 a, uint32_t lane, uint64_t x)
{
    a[lane & 1] = x;
    return a;
}

static inline lw_v128 simd_f32x4_replace_lane(lw_v128 a, uint32_t lane, float x)
{
    lw_f32x4 v = (lw_f32x4)a;
    v[lane & 3] = x;
    return (lw_v128)v;
}

static inline lw_v128 simd_f64x2_replace_lane(lw_v128 a, uint32_t lane, double x)
{
    lw_f64x2 v = (lw_f64x2)a;
    v[lane & 1] = x;
    return (lw_v128)v;
}

/* ------------------------------------------------------------------ */
/* Shuffle and swizzle                                                 */
/* ------------------------------------------------------------------ */

/* Indices 0-15 pick from a, 16-31 from b (the validator checks < 32). */
static inline lw_v128 simd_i8x16_shuffle(lw_v128 a, lw_v128 b, const uint8_t lanes[16])
{
    uint8_t both[32];
    lw_u8x16 r = { 0 };
    memcpy(both, &a, 16);
    memcpy(both + 16, &b, 16);
    for (int i = 0; i < 16; i++)
        r[i] = both[lanes[i] & 31];
    return (lw_v128)r;
}

/* Indices come from a vector, so any byte can occur: >= 16 gives 0. */
static inline lw_v128 simd_i8x16_swizzle(lw_v128 a, lw_v128 s)
{
    lw_u8x16 x = (lw_u8x16)a, idx = (lw_u8x16)s, r = { 0 };
    for (int i = 0; i < 16; i++)
        r[i] = idx[i] < 16 ? x[idx[i]] : 0;
    return (lw_v128)r;
}

/* ------------------------------------------------------------------ */
/* Bitwise operations and tests                                        */
/* ------------------------------------------------------------------ */

static inline lw_v128 simd_v128_not(lw_v128 a) { return ~a; }
static inline lw_v128 simd_v128_and(lw_v128 a, lw_v128 b) { return a & b; }
static inline lw_v128 simd_v128_andnot(lw_v128 a, lw_v128 b) { return a & ~b; }
static inline lw_v128 simd_v128_or(lw_v128 a, lw_v128 b) { return a | b; }
static inline lw_v128 simd_v128_xor(lw_v128 a, lw_v128 b) { return a ^ b; }

/* Bits of a where c is 1, bits of b where c is 0. */
static inline lw_v128 simd_v128_bitselect(lw_v128 a, lw_v128 b, lw_v128 c)
{
    return lw_select(c, a, b);
}

static inline uint32_t simd_v128_any_true(lw_v128 a)
{
    return (a[0] | a[1]) != 0;
}

/*
 * all_true and bitmask for each integer shape.  The bitmask collects the
 * top (sign) bit of each lane, lane i into bit i.
 */
#define LW_LANE_TESTS(sh, U, N, BITS)                                       \
static inline uint32_t simd_##sh##_all_true(lw_v128 a)                      \
{                                                                           \
    U v = (U)a;                                                             \
    for (int i = 0; i < (N); i++)                                           \
        if (v[i] == 0)                                                      \
            return 0;                                                       \
    return 1;                                                               \
}                                                                           \
static inline uint32_t simd_##sh##_bitmask(lw_v128 a)                       \
{                                                                           \
    U v = (U)a;                                                             \
    uint32_t r = 0;                                                         \
    for (int i = 0; i < (N); i++)                                           \
        r |= (uint32_t)(v[i] >> ((BITS) - 1)) << i;                         \
    return r;                                                               \
}
LW_LANE_TESTS(i8x16, lw_u8x16, 16, 8)
LW_LANE_TESTS(i16x8, lw_u16x8, 8, 16)
LW_LANE_TESTS(i32x4, lw_u32x4, 4, 32)
LW_LANE_TESTS(i64x2, lw_u64x2, 2, 64)
#undef LW_LANE_TESTS

/* ------------------------------------------------------------------ */
/* Comparisons: each lane all ones when true, all zeros when false     */
/* ------------------------------------------------------------------ */

/*
 * Lane-wise a op b on the view T, for comparisons here and arithmetic
 * below (unsigned views wrap, as wasm does).  A vector comparison in
 * GCC/clang already yields -1/0 lanes of the operands' width.  Float
 * comparisons are false when either lane is NaN, except ne, which is
 * true: exactly IEEE's (and wasm's) rules.
 */
#define LW_BINOP(name, T, op)                                               \
static inline lw_v128 simd_##name(lw_v128 a, lw_v128 b)                     \
{                                                                           \
    return (lw_v128)((T)a op (T)b);                                         \
}
#define LW_INT_CMPS(sh, S, U)                                               \
    LW_BINOP(sh##_eq, U, ==) LW_BINOP(sh##_ne, U, !=)                           \
    LW_BINOP(sh##_lt_s, S, <) LW_BINOP(sh##_lt_u, U, <)                         \
    LW_BINOP(sh##_gt_s, S, >) LW_BINOP(sh##_gt_u, U, >)                         \
    LW_BINOP(sh##_le_s, S, <=) LW_BINOP(sh##_le_u, U, <=)                       \
    LW_BINOP(sh##_ge_s, S, >=) LW_BINOP(sh##_ge_u, U, >=)
LW_INT_CMPS(i8x16, lw_i8x16, lw_u8x16)
LW_INT_CMPS(i16x8, lw_i16x8, lw_u16x8)
LW_INT_CMPS(i32x4, lw_i32x4, lw_u32x4)
/* i64x2 has only the signed orderings. */
LW_BINOP(i64x2_eq, lw_u64x2, ==) LW_BINOP(i64x2_ne, lw_u64x2, !=)
LW_BINOP(i64x2_lt_s, lw_i64x2, <) LW_BINOP(i64x2_gt_s, lw_i64x2, >)
LW_BINOP(i64x2_le_s, lw_i64x2, <=) LW_BINOP(i64x2_ge_s, lw_i64x2, >=)
#define LW_FLOAT_CMPS(sh, F)                                                \
    LW_BINOP(sh##_eq, F, ==) LW_BINOP(sh##_ne, F, !=)                           \
    LW_BINOP(sh##_lt, F, <) LW_BINOP(sh##_gt, F, >)                             \
    LW_BINOP(sh##_le, F, <=) LW_BINOP(sh##_ge, F, >=)
LW_FLOAT_CMPS(f32x4, lw_f32x4)
LW_FLOAT_CMPS(f64x2, lw_f64x2)
#undef LW_INT_CMPS
#undef LW_FLOAT_CMPS

/* ------------------------------------------------------------------ */
/* Integer arithmetic common to every shape                            */
/* ------------------------------------------------------------------ */

/* min and max pick a whole lane, so one mask selects in any view. */
#define LW_PICK(name, T, op)                                                \
static inline lw_v128 simd_##name(lw_v128 a, lw_v128 b)                     \
{                                                                           \
    return lw_select((lw_v128)((T)a op (T)b), a, b);                        \
}

/*
 * abs through the sign mask m (all ones for negative lanes):
 * (x ^ m) - m negates exactly the negative lanes, in unsigned arithmetic,
 * so abs(INT_MIN) wraps to INT_MIN as wasm says.  Shift counts are taken
 * modulo the lane width, before C sees them.
 */
#define LW_INT_SHAPE(sh, S, U, BITS)                                        \
LW_BINOP(sh##_add, U, +)                                                    \
LW_BINOP(sh##_sub, U, -)                                                    \
static inline lw_v128 simd_##sh##_neg(lw_v128 a)                            \
{                                                                           \
    return (lw_v128)(-(U)a);                                                \
}                                                                           \
static inline lw_v128 simd_##sh##_abs(lw_v128 a)                            \
{                                                                           \
    U m = (U)((S)a >> ((BITS) - 1));                                        \
    return (lw_v128)(((U)a ^ m) - m);                                       \
}                                                                           \
static inline lw_v128 simd_##sh##_shl(lw_v128 a, uint32_t n)                \
{                                                                           \
    return (lw_v128)((U)a << (n & ((BITS) - 1)));                           \
}                                                                           \
static inline lw_v128 simd_##sh##_shr_s(lw_v128 a, uint32_t n)              \
{                                                                           \
    return (lw_v128)((S)a >> (n & ((BITS) - 1)));                           \
}                                                                           \
static inline lw_v128 simd_##sh##_shr_u(lw_v128 a, uint32_t n)              \
{                                                                           \
    return (lw_v128)((U)a >> (n & ((BITS) - 1)));                           \
}
LW_INT_SHAPE(i8x16, lw_i8x16, lw_u8x16, 8)
LW_INT_SHAPE(i16x8, lw_i16x8, lw_u16x8, 16)
LW_INT_SHAPE(i32x4, lw_i32x4, lw_u32x4, 32)
LW_INT_SHAPE(i64x2, lw_i64x2, lw_u64x2, 64)
#undef LW_INT_SHAPE

/* Multiplication (not for i8x16).  Vector lanes are not promoted to int. */
LW_BINOP(i16x8_mul, lw_u16x8, *)
LW_BINOP(i32x4_mul, lw_u32x4, *)
LW_BINOP(i64x2_mul, lw_u64x2, *)

/* min and max (not for i64x2). */
#define LW_MINMAX(sh, S, U)                                                 \
    LW_PICK(sh##_min_s, S, <) LW_PICK(sh##_min_u, U, <)                     \
    LW_PICK(sh##_max_s, S, >) LW_PICK(sh##_max_u, U, >)
LW_MINMAX(i8x16, lw_i8x16, lw_u8x16)
LW_MINMAX(i16x8, lw_i16x8, lw_u16x8)
LW_MINMAX(i32x4, lw_i32x4, lw_u32x4)
#undef LW_MINMAX

/* ------------------------------------------------------------------ */
/* Narrow-lane integer arithmetic (i8x16, i16x8)                       */
/* ------------------------------------------------------------------ */

/*
 * Saturating arithmetic, unsigned: a wrapped sum below a means the sum
 * overflowed (use all ones); a wrapped difference is kept only where
 * a >= b (else 0).  Signed: compute in int, then clamp.  The rounding
 * average (a + b + 1) / 2 needs no widening: it is (a | b) minus half the
 * bits where a and b differ.
 */
#define LW_SAT(sh, S, U, N, LO, HI)                                         \
static inline lw_v128 simd_##sh##_add_sat_u(lw_v128 a, lw_v128 b)           \
{                                                                           \
    U s = (U)a + (U)b;                                                      \
    return (lw_v128)(s | (U)(s < (U)a));                                    \
}                                                                           \
static inline lw_v128 simd_##sh##_sub_sat_u(lw_v128 a, lw_v128 b)           \
{                                                                           \
    return (lw_v128)(((U)a - (U)b) & (U)((U)a >= (U)b));                    \
}                                                                           \
static inline lw_v128 simd_##sh##_add_sat_s(lw_v128 a, lw_v128 b)           \
{                                                                           \
    S x = (S)a, y = (S)b, r = { 0 };                                        \
    for (int i = 0; i < (N); i++) {                                         \
        int v = (int)x[i] + (int)y[i];                                      \
        r[i] = v < (LO) ? (LO) : v > (HI) ? (HI) : v;                       \
    }                                                                       \
    return (lw_v128)r;                                                      \
}                                                                           \
static inline lw_v128 simd_##sh##_sub_sat_s(lw_v128 a, lw_v128 b)           \
{                                                                           \
    S x = (S)a, y = (S)b, r = { 0 };                                        \
    for (int i = 0; i < (N); i++) {                                         \
        int v = (int)x[i] - (int)y[i];                                      \
        r[i] = v < (LO) ? (LO) : v > (HI) ? (HI) : v;                       \
    }                                                                       \
    return (lw_v128)r;                                                      \
}                                                                           \
static inline lw_v128 simd_##sh##_avgr_u(lw_v128 a, lw_v128 b)              \
{                                                                           \
    return (lw_v128)(((U)a | (U)b) - (((U)a ^ (U)b) >> 1));                 \
}
LW_SAT(i8x16, lw_i8x16, lw_u8x16, 16, INT8_MIN, INT8_MAX)
LW_SAT(i16x8, lw_i16x8, lw_u16x8, 8, INT16_MIN, INT16_MAX)
#undef LW_SAT

static inline lw_v128 simd_i8x16_popcnt(lw_v128 a)
{
    lw_u8x16 v = (lw_u8x16)a, r = { 0 };
    for (int i = 0; i < 16; i++)
        r[i] = (uint8_t)__builtin_popcount(v[i]);
    return (lw_v128)r;
}

/*
 * Q15 fixed-point multiply, rounded: (a * b + 2^14) >> 15.  Only
 * -32768 * -32768 leaves the i16 range (giving 32768), so only the top
 * needs saturating.  The product fits an int32; >> of a negative int is
 * an arithmetic shift with GCC and clang.
 */
static inline lw_v128 simd_i16x8_q15mulr_sat_s(lw_v128 a, lw_v128 b)
{
    lw_i16x8 x = (lw_i16x8)a, y = (lw_i16x8)b, r = { 0 };
    for (int i = 0; i < 8; i++) {
        int32_t v = ((int32_t)x[i] * y[i] + 0x4000) >> 15;
        r[i] = (int16_t)(v > INT16_MAX ? INT16_MAX : v);
    }
    return (lw_v128)r;
}

/* ------------------------------------------------------------------ */
/* Narrowing and widening                                              */
/* ------------------------------------------------------------------ */

/* The narrows read their inputs as signed and saturate them to the output
   lanes' range [lo, hi]: a gives the low half of the result, b the high half. */
#define SIMD_NARROW(name, IN, OUT, n, lo, hi) \
    static inline lw_v128 name(lw_v128 a, lw_v128 b) \
    { \
        IN x = (IN)a, y = (IN)b; \
        OUT r = { 0 }; \
        for (int i = 0; i < (n); i++) { \
            r[i] = (__typeof__(r[0]))(x[i] < (lo) ? (lo) : x[i] > (hi) ? (hi) : x[i]); \
            r[i + (n)] = (__typeof__(r[0]))(y[i] < (lo) ? (lo) : y[i] > (hi) ? (hi) : y[i]); \
        } \
        return (lw_v128)r; \
    }
SIMD_NARROW(simd_i8x16_narrow_i16x8_s, lw_i16x8, lw_i8x16, 8, INT8_MIN, INT8_MAX)
SIMD_NARROW(simd_i8x16_narrow_i16x8_u, lw_i16x8, lw_u8x16, 8, 0, UINT8_MAX)
SIMD_NARROW(simd_i16x8_narrow_i32x4_s, lw_i32x4, lw_i16x8, 4, INT16_MIN, INT16_MAX)
SIMD_NARROW(simd_i16x8_narrow_i32x4_u, lw_i32x4, lw_u16x8, 4, 0, UINT16_MAX)
#undef SIMD_NARROW

/*
 * extend and extmul, low and high, from a narrow view N (n lanes) to a
 * wide view W (n/2 lanes): the low forms read lanes 0 .. n/2-1, the high
 * forms n/2 .. n-1.  extmul multiplies in WT, where the product always
 * fits (and u16 * u16 is done in uint32, as C would otherwise promote it
 * to int and could overflow).
 */
#define LW_WIDEN(dst, src, sx, N, W, WT, n)                                 \
static inline lw_v128 simd_##dst##_extend_low_##src##_##sx(lw_v128 a)       \
{                                                                           \
    N x = (N)a;                                                             \
    W r = { 0 };                                                            \
    for (int i = 0; i < (n) / 2; i++)                                       \
        r[i] = (WT)x[i];                                                    \
    return (lw_v128)r;                                                      \
}                                                                           \
static inline lw_v128 simd_##dst##_extend_high_##src##_##sx(lw_v128 a)      \
{                                                                           \
    N x = (N)a;                                                             \
    W r = { 0 };                                                            \
    for (int i = 0; i < (n) / 2; i++)                                       \
        r[i] = (WT)x[i + (n) / 2];                                          \
    return (lw_v128)r;                                                      \
}                                                                           \
static inline lw_v128 simd_##dst##_extmul_low_##src##_##sx(lw_v128 a, lw_v128 b) \
{                                                                           \
    N x = (N)a, y = (N)b;                                                   \
    W r = { 0 };                                                            \
    for (int i = 0; i < (n) / 2; i++)                                       \
        r[i] = (WT)((WT)x[i] * (WT)y[i]);                                   \
    return (lw_v128)r;                                                      \
}                                                                           \
static inline lw_v128 simd_##dst##_extmul_high_##src##_##sx(lw_v128 a, lw_v128 b) \
{                                                                           \
    N x = (N)a, y = (N)b;                                                   \
    W r = { 0 };                                                            \
    for (int i = 0; i < (n) / 2; i++)                                       \
        r[i] = (WT)((WT)x[i + (n) / 2] * (WT)y[i + (n) / 2]);               \
    return (lw_v128)r;                                                      \
}
/* WT for the products: int32/uint32 for the i16 results so that neither
   signed overflow nor int promotion can bite, then truncated to the lane. */
LW_WIDEN(i16x8, i8x16, s, lw_i8x16, lw_i16x8, int16_t, 16)
LW_WIDEN(i16x8, i8x16, u, lw_u8x16, lw_u16x8, uint32_t, 16)
LW_WIDEN(i32x4, i16x8, s, lw_i16x8, lw_i32x4, int32_t, 8)
LW_WIDEN(i32x4, i16x8, u, lw_u16x8, lw_u32x4, uint32_t, 8)
LW_WIDEN(i64x2, i32x4, s, lw_i32x4, lw_i64x2, int64_t, 4)
LW_WIDEN(i64x2, i32x4, u, lw_u32x4, lw_u64x2, uint64_t, 4)
#undef LW_WIDEN

/*
 * Pairwise widening adds, on the wide view: each wide lane holds the pair
 * to add, the even (low) element in its low half and the odd one in its
 * high half.  Shifting picks each half out, sign- or zero-extended, and
 * the sum always fits the wide lane.
 */
static inline lw_v128 simd_i16x8_extadd_pairwise_i8x16_s(lw_v128 a)
{
    lw_u16x8 v = (lw_u16x8)a;
    lw_i16x8 lo = (lw_i16x8)(v << 8) >> 8, hi = (lw_i16x8)v >> 8;
    return (lw_v128)((lw_u16x8)lo + (lw_u16x8)hi);
}

static inline lw_v128 simd_i16x8_extadd_pairwise_i8x16_u(lw_v128 a)
{
    lw_u16x8 v = (lw_u16x8)a;
    return (lw_v128)((v & 0xff) + (v >> 8));
}

static inline lw_v128 simd_i32x4_extadd_pairwise_i16x8_s(lw_v128 a)
{
    lw_u32x4 v = (lw_u32x4)a;
    lw_i32x4 lo = (lw_i32x4)(v << 16) >> 16, hi = (lw_i32x4)v >> 16;
    return (lw_v128)((lw_u32x4)lo + (lw_u32x4)hi);
}

static inline lw_v128 simd_i32x4_extadd_pairwise_i16x8_u(lw_v128 a)
{
    lw_u32x4 v = (lw_u32x4)a;
    return (lw_v128)((v & 0xffff) + (v >> 16));
}

/*
 * Dot product of neighbouring i16 pairs, with the pairs split into low and
 * high halves of i32 lanes as for extadd_pairwise.  Each product fits an
 * int32, but the sum of two does not (-32768^2 * 2 = 2^31) and wasm wraps
 * it; multiplying and adding as uint32 gives those bits without overflow.
 */
static inline lw_v128 simd_i32x4_dot_i16x8_s(lw_v128 a, lw_v128 b)
{
    lw_u32x4 x = (lw_u32x4)a, y = (lw_u32x4)b;
    lw_u32x4 xlo = (lw_u32x4)((lw_i32x4)(x << 16) >> 16), xhi = (lw_u32x4)((lw_i32x4)x >> 16);
    lw_u32x4 ylo = (lw_u32x4)((lw_i32x4)(y << 16) >> 16), yhi = (lw_u32x4)((lw_i32x4)y >> 16);
    return (lw_v128)(xlo * ylo + xhi * yhi);
}

/* ------------------------------------------------------------------ */
/* Floating point                                                      */
/* ------------------------------------------------------------------ */

/*
 * abs and neg only touch the sign bit, NaNs included (they are bit
 * operations in wasm, not arithmetic).
 */
static inline lw_v128 simd_f32x4_abs(lw_v128 a)
{
    return (lw_v128)((lw_u32x4)a & 0x7fffffffu);
}

static inline lw_v128 simd_f32x4_neg(lw_v128 a)
{
    return (lw_v128)((lw_u32x4)a ^ 0x80000000u);
}

static inline lw_v128 simd_f64x2_abs(lw_v128 a)
{
    return a & 0x7fffffffffffffffull;
}

static inline lw_v128 simd_f64x2_neg(lw_v128 a)
{
    return a ^ 0x8000000000000000ull;
}

LW_BINOP(f32x4_add, lw_f32x4, +)
LW_BINOP(f32x4_sub, lw_f32x4, -)
LW_BINOP(f32x4_mul, lw_f32x4, *)
LW_BINOP(f32x4_div, lw_f32x4, /)
LW_BINOP(f64x2_add, lw_f64x2, +)
LW_BINOP(f64x2_sub, lw_f64x2, -)
LW_BINOP(f64x2_mul, lw_f64x2, *)
LW_BINOP(f64x2_div, lw_f64x2, /)

/* min and max are the scalar ones (numeric.h: NaN in, NaN out; -0 below +0),
   lane by lane; hardware min/max instructions get one or both rules wrong
   (x86's minps returns the second operand for NaN and for equal zeros). */

/* Lane-wise scalar function f on the float view F of n lanes. */
#define LW_FMAP1(name, F, n, f)                                             \
static inline lw_v128 simd_##name(lw_v128 a)                                \
{                                                                           \
    F x = (F)a;                                                             \
    for (int i = 0; i < (n); i++)                                           \
        x[i] = f(x[i]);                                                     \
    return (lw_v128)x;                                                      \
}
#define LW_FMAP2(name, F, n, f)                                             \
static inline lw_v128 simd_##name(lw_v128 a, lw_v128 b)                     \
{                                                                           \
    F x = (F)a, y = (F)b;                                                   \
    for (int i = 0; i < (n); i++)                                           \
        x[i] = f(x[i], y[i]);                                               \
    return (lw_v128)x;                                                      \
}
LW_FMAP2(f32x4_min, lw_f32x4, 4, wasm_fminf)
LW_FMAP2(f32x4_max, lw_f32x4, 4, wasm_fmaxf)
LW_FMAP2(f64x2_min, lw_f64x2, 2, wasm_fmin)
LW_FMAP2(f64x2_max, lw_f64x2, 2, wasm_fmax)

/*
 * The rounding functions keep -0.  nearest is round half to even:
 * nearbyint in the default rounding mode.  A NaN must come out quiet (an
 * arithmetic NaN), but glibc's ceil, floor and trunc hand a signaling NaN
 * back unchanged, so NaNs go through x + x instead, which quiets them.
 */
#define LW_ROUNDING(name, T, f)                                             \
static inline T name(T x)                                                   \
{                                                                           \
    return isnan(x) ? x + x : f(x);                                         \
}
LW_ROUNDING(lw_ceilf, float, ceilf)
LW_ROUNDING(lw_floorf, float, floorf)
LW_ROUNDING(lw_truncf, float, truncf)
LW_ROUNDING(lw_nearestf, float, nearbyintf)
LW_ROUNDING(lw_ceil, double, ceil)
LW_ROUNDING(lw_floor, double, floor)
LW_ROUNDING(lw_trunc, double, trunc)
LW_ROUNDING(lw_nearest, double, nearbyint)
#undef LW_ROUNDING
LW_FMAP1(f32x4_sqrt, lw_f32x4, 4, sqrtf)
LW_FMAP1(f32x4_ceil, lw_f32x4, 4, lw_ceilf)
LW_FMAP1(f32x4_floor, lw_f32x4, 4, lw_floorf)
LW_FMAP1(f32x4_trunc, lw_f32x4, 4, lw_truncf)
LW_FMAP1(f32x4_nearest, lw_f32x4, 4, lw_nearestf)
LW_FMAP1(f64x2_sqrt, lw_f64x2, 2, sqrt)
LW_FMAP1(f64x2_ceil, lw_f64x2, 2, lw_ceil)
LW_FMAP1(f64x2_floor, lw_f64x2, 2, lw_floor)
LW_FMAP1(f64x2_trunc, lw_f64x2, 2, lw_trunc)
LW_FMAP1(f64x2_nearest, lw_f64x2, 2, lw_nearest)
#undef LW_FMAP1
#undef LW_FMAP2

/*
 * pmin and pmax are defined as b < a ? b : a and a < b ? b : a, exactly:
 * with a NaN the comparison is false and a (whatever it is) comes back,
 * bit for bit.  That is what x86's minps/maxps do.
 */
static inline lw_v128 simd_f32x4_pmin(lw_v128 a, lw_v128 b)
{
    return lw_select((lw_v128)((lw_f32x4)b < (lw_f32x4)a), b, a);
}

static inline lw_v128 simd_f32x4_pmax(lw_v128 a, lw_v128 b)
{
    return lw_select((lw_v128)((lw_f32x4)a < (lw_f32x4)b), b, a);
}

static inline lw_v128 simd_f64x2_pmin(lw_v128 a, lw_v128 b)
{
    return lw_select((lw_v128)((lw_f64x2)b < (lw_f64x2)a), b, a);
}

static inline lw_v128 simd_f64x2_pmax(lw_v128 a, lw_v128 b)
{
    return lw_select((lw_v128)((lw_f64x2)a < (lw_f64x2)b), b, a);
}

/* ------------------------------------------------------------------ */
/* Conversions                                                         */
/* ------------------------------------------------------------------ */

/*
 * Saturating truncation to i32/u32.  C leaves the conversion of an
 * out-of-range float undefined, so the ends are checked first, against
 * bounds that are exact powers of two in both float and double:
 * NaN -> 0, <= -2^31 -> INT32_MIN, >= 2^31 -> INT32_MAX (signed);
 * not > 0 -> 0, >= 2^32 -> UINT32_MAX (unsigned, NaN fails x > 0).
 * Whatever is left truncates toward zero within range.
 */
static inline uint32_t lw_trunc_sat_s32(double x)
{
    if (isnan(x))
        return 0;
    if (x <= -2147483648.0)
        return (uint32_t)INT32_MIN;
    if (x >= 2147483648.0)
        return INT32_MAX;
    return (uint32_t)(int32_t)x;
}

static inline uint32_t lw_trunc_sat_u32(double x)
{
    if (!(x > 0))
        return 0;
    if (x >= 4294967296.0)
        return UINT32_MAX;
    return (uint32_t)x;
}

/* (float -> double is exact, so one double helper serves both widths.) */
static inline lw_v128 simd_i32x4_trunc_sat_f32x4_s(lw_v128 a)
{
    lw_f32x4 x = (lw_f32x4)a;
    lw_u32x4 r = { 0 };
    for (int i = 0; i < 4; i++)
        r[i] = lw_trunc_sat_s32(x[i]);
    return (lw_v128)r;
}

static inline lw_v128 simd_i32x4_trunc_sat_f32x4_u(lw_v128 a)
{
    lw_f32x4 x = (lw_f32x4)a;
    lw_u32x4 r = { 0 };
    for (int i = 0; i < 4; i++)
        r[i] = lw_trunc_sat_u32(x[i]);
    return (lw_v128)r;
}

/* The _zero forms fill lanes 2 and 3 with 0. */
static inline lw_v128 simd_i32x4_trunc_sat_f64x2_s_zero(lw_v128 a)
{
    lw_f64x2 x = (lw_f64x2)a;
    lw_u32x4 r = { lw_trunc_sat_s32(x[0]), lw_trunc_sat_s32(x[1]), 0, 0 };
    return (lw_v128)r;
}

static inline lw_v128 simd_i32x4_trunc_sat_f64x2_u_zero(lw_v128 a)
{
    lw_f64x2 x = (lw_f64x2)a;
    lw_u32x4 r = { lw_trunc_sat_u32(x[0]), lw_trunc_sat_u32(x[1]), 0, 0 };
    return (lw_v128)r;
}

/* Integer to float rounds to nearest even (C's conversion, default mode). */
static inline lw_v128 simd_f32x4_convert_i32x4_s(lw_v128 a)
{
    lw_i32x4 x = (lw_i32x4)a;
    lw_f32x4 r = { 0 };
    for (int i = 0; i < 4; i++)
        r[i] = (float)x[i];
    return (lw_v128)r;
}

static inline lw_v128 simd_f32x4_convert_i32x4_u(lw_v128 a)
{
    lw_u32x4 x = (lw_u32x4)a;
    lw_f32x4 r = { 0 };
    for (int i = 0; i < 4; i++)
        r[i] = (float)x[i];
    return (lw_v128)r;
}

/* i32 -> f64 is exact. */
static inline lw_v128 simd_f64x2_convert_low_i32x4_s(lw_v128 a)
{
    lw_i32x4 x = (lw_i32x4)a;
    lw_f64x2 r = { (double)x[0], (double)x[1] };
    return (lw_v128)r;
}

static inline lw_v128 simd_f64x2_convert_low_i32x4_u(lw_v128 a)
{
    lw_u32x4 x = (lw_u32x4)a;
    lw_f64x2 r = { (double)x[0], (double)x[1] };
    return (lw_v128)r;
}

/*
 * Demotion rounds to nearest (overflowing to infinity, as IEEE 754 and C's
 * Annex F define); NaNs stay NaNs, quieted.  The high lanes become 0.
 */
static inline lw_v128 simd_f32x4_demote_f64x2_zero(lw_v128 a)
{
    lw_f64x2 x = (lw_f64x2)a;
    lw_f32x4 r = { (float)x[0], (float)x[1], 0.0f, 0.0f };
    return (lw_v128)r;
}

static inline lw_v128 simd_f64x2_promote_low_f32x4(lw_v128 a)
{
    lw_f32x4 x = (lw_f32x4)a;
    lw_f64x2 r = { (double)x[0], (double)x[1] };
    return (lw_v128)r;
}

#undef LW_BINOP
#undef LW_PICK

/* ------------------------------------------------------------------ */
/* Memory: each takes a pointer to exactly the bytes it reads/writes   */
/* ------------------------------------------------------------------ */

/* Load 8 bytes as 8/4/2 narrow lanes, widened to twice their width. */
#define LW_LOAD_EXTEND(name, NT, WT, n, W)                                  \
static inline lw_v128 simd_##name(const uint8_t *p)                         \
{                                                                           \
    NT in[n];                                                               \
    W r = { 0 };                                                            \
    memcpy(in, p, 8);                                                       \
    for (int i = 0; i < (n); i++)                                           \
        r[i] = (WT)in[i];                                                   \
    return (lw_v128)r;                                                      \
}
LW_LOAD_EXTEND(v128_load8x8_s, int8_t, int16_t, 8, lw_i16x8)
LW_LOAD_EXTEND(v128_load8x8_u, uint8_t, uint16_t, 8, lw_u16x8)
LW_LOAD_EXTEND(v128_load16x4_s, int16_t, int32_t, 4, lw_i32x4)
LW_LOAD_EXTEND(v128_load16x4_u, uint16_t, uint32_t, 4, lw_u32x4)
LW_LOAD_EXTEND(v128_load32x2_s, int32_t, int64_t, 2, lw_i64x2)
LW_LOAD_EXTEND(v128_load32x2_u, uint32_t, uint64_t, 2, lw_u64x2)
#undef LW_LOAD_EXTEND

static inline lw_v128 simd_v128_load8_splat(const uint8_t *p)
{
    return simd_i8x16_splat(p[0]);
}

static inline lw_v128 simd_v128_load16_splat(const uint8_t *p)
{
    uint16_t x;
    memcpy(&x, p, 2);
    return simd_i16x8_splat(x);
}

static inline lw_v128 simd_v128_load32_splat(const uint8_t *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return simd_i32x4_splat(x);
}

static inline lw_v128 simd_v128_load64_splat(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return simd_i64x2_splat(x);
}

/* The bytes go to lane 0 (the low bytes); the rest is zero. */
static inline lw_v128 simd_v128_load32_zero(const uint8_t *p)
{
    lw_v128 r = { 0, 0 };
    memcpy(&r, p, 4);
    return r;
}

static inline lw_v128 simd_v128_load64_zero(const uint8_t *p)
{
    lw_v128 r = { 0, 0 };
    memcpy(&r, p, 8);
    return r;
}

/* Lane loads replace one lane of v; lane stores write one lane out. */
#define LW_LANE_MEM(bits, size, n)                                          \
static inline lw_v128 simd_v128_load##bits##_lane(const uint8_t *p, lw_v128 v, uint32_t lane) \
{                                                                           \
    memcpy((uint8_t *)&v + (lane & ((n) - 1)) * (size), p, (size));         \
    return v;                                                               \
}                                                                           \
static inline void simd_v128_store##bits##_lane(uint8_t *p, lw_v128 v, uint32_t lane) \
{                                                                           \
    memcpy(p, (const uint8_t *)&v + (lane & ((n) - 1)) * (size), (size));   \
}
LW_LANE_MEM(8, 1, 16)
LW_LANE_MEM(16, 2, 8)
LW_LANE_MEM(32, 4, 4)
LW_LANE_MEM(64, 8, 2)
#undef LW_LANE_MEM

/* ------------------------------------------------------------------ */
/* The instructions grouped by operand shape: X(ID, function, ...)     */
/* ------------------------------------------------------------------ */

/* v128 -> v128 */
#define LW_SIMD_UNOPS(X) \
    X(V128_NOT, simd_v128_not) \
    X(F32X4_DEMOTE_F64X2_ZERO, simd_f32x4_demote_f64x2_zero) \
    X(F64X2_PROMOTE_LOW_F32X4, simd_f64x2_promote_low_f32x4) \
    X(I8X16_ABS, simd_i8x16_abs) \
    X(I8X16_NEG, simd_i8x16_neg) \
    X(I8X16_POPCNT, simd_i8x16_popcnt) \
    X(F32X4_CEIL, simd_f32x4_ceil) \
    X(F32X4_FLOOR, simd_f32x4_floor) \
    X(F32X4_TRUNC, simd_f32x4_trunc) \
    X(F32X4_NEAREST, simd_f32x4_nearest) \
    X(F64X2_CEIL, simd_f64x2_ceil) \
    X(F64X2_FLOOR, simd_f64x2_floor) \
    X(F64X2_TRUNC, simd_f64x2_trunc) \
    X(I16X8_EXTADD_PAIRWISE_I8X16_S, simd_i16x8_extadd_pairwise_i8x16_s) \
    X(I16X8_EXTADD_PAIRWISE_I8X16_U, simd_i16x8_extadd_pairwise_i8x16_u) \
    X(I32X4_EXTADD_PAIRWISE_I16X8_S, simd_i32x4_extadd_pairwise_i16x8_s) \
    X(I32X4_EXTADD_PAIRWISE_I16X8_U, simd_i32x4_extadd_pairwise_i16x8_u) \
    X(I16X8_ABS, simd_i16x8_abs) \
    X(I16X8_NEG, simd_i16x8_neg) \
    X(I16X8_EXTEND_LOW_I8X16_S, simd_i16x8_extend_low_i8x16_s) \
    X(I16X8_EXTEND_HIGH_I8X16_S, simd_i16x8_extend_high_i8x16_s) \
    X(I16X8_EXTEND_LOW_I8X16_U, simd_i16x8_extend_low_i8x16_u) \
    X(I16X8_EXTEND_HIGH_I8X16_U, simd_i16x8_extend_high_i8x16_u) \
    X(F64X2_NEAREST, simd_f64x2_nearest) \
    X(I32X4_ABS, simd_i32x4_abs) \
    X(I32X4_NEG, simd_i32x4_neg) \
    X(I32X4_EXTEND_LOW_I16X8_S, simd_i32x4_extend_low_i16x8_s) \
    X(I32X4_EXTEND_HIGH_I16X8_S, simd_i32x4_extend_high_i16x8_s) \
    X(I32X4_EXTEND_LOW_I16X8_U, simd_i32x4_extend_low_i16x8_u) \
    X(I32X4_EXTEND_HIGH_I16X8_U, simd_i32x4_extend_high_i16x8_u) \
    X(I64X2_ABS, simd_i64x2_abs) \
    X(I64X2_NEG, simd_i64x2_neg) \
    X(I64X2_EXTEND_LOW_I32X4_S, simd_i64x2_extend_low_i32x4_s) \
    X(I64X2_EXTEND_HIGH_I32X4_S, simd_i64x2_extend_high_i32x4_s) \
    X(I64X2_EXTEND_LOW_I32X4_U, simd_i64x2_extend_low_i32x4_u) \
    X(I64X2_EXTEND_HIGH_I32X4_U, simd_i64x2_extend_high_i32x4_u) \
    X(F32X4_ABS, simd_f32x4_abs) \
    X(F32X4_NEG, simd_f32x4_neg) \
    X(F32X4_SQRT, simd_f32x4_sqrt) \
    X(F64X2_ABS, simd_f64x2_abs) \
    X(F64X2_NEG, simd_f64x2_neg) \
    X(F64X2_SQRT, simd_f64x2_sqrt) \
    X(I32X4_TRUNC_SAT_F32X4_S, simd_i32x4_trunc_sat_f32x4_s) \
    X(I32X4_TRUNC_SAT_F32X4_U, simd_i32x4_trunc_sat_f32x4_u) \
    X(F32X4_CONVERT_I32X4_S, simd_f32x4_convert_i32x4_s) \
    X(F32X4_CONVERT_I32X4_U, simd_f32x4_convert_i32x4_u) \
    X(I32X4_TRUNC_SAT_F64X2_S_ZERO, simd_i32x4_trunc_sat_f64x2_s_zero) \
    X(I32X4_TRUNC_SAT_F64X2_U_ZERO, simd_i32x4_trunc_sat_f64x2_u_zero) \
    X(F64X2_CONVERT_LOW_I32X4_S, simd_f64x2_convert_low_i32x4_s) \
    X(F64X2_CONVERT_LOW_I32X4_U, simd_f64x2_convert_low_i32x4_u)

/* v128, v128 -> v128 (i8x16.shuffle, with its immediate, is not here) */
#define LW_SIMD_BINOPS(X) \
    X(I8X16_SWIZZLE, simd_i8x16_swizzle) \
    X(I8X16_EQ, simd_i8x16_eq) \
    X(I8X16_NE, simd_i8x16_ne) \
    X(I8X16_LT_S, simd_i8x16_lt_s) \
    X(I8X16_LT_U, simd_i8x16_lt_u) \
    X(I8X16_GT_S, simd_i8x16_gt_s) \
    X(I8X16_GT_U, simd_i8x16_gt_u) \
    X(I8X16_LE_S, simd_i8x16_le_s) \
    X(I8X16_LE_U, simd_i8x16_le_u) \
    X(I8X16_GE_S, simd_i8x16_ge_s) \
    X(I8X16_GE_U, simd_i8x16_ge_u) \
    X(I16X8_EQ, simd_i16x8_eq) \
    X(I16X8_NE, simd_i16x8_ne) \
    X(I16X8_LT_S, simd_i16x8_lt_s) \
    X(I16X8_LT_U, simd_i16x8_lt_u) \
    X(I16X8_GT_S, simd_i16x8_gt_s) \
    X(I16X8_GT_U, simd_i16x8_gt_u) \
    X(I16X8_LE_S, simd_i16x8_le_s) \
    X(I16X8_LE_U, simd_i16x8_le_u) \
    X(I16X8_GE_S, simd_i16x8_ge_s) \
    X(I16X8_GE_U, simd_i16x8_ge_u) \
    X(I32X4_EQ, simd_i32x4_eq) \
    X(I32X4_NE, simd_i32x4_ne) \
    X(I32X4_LT_S, simd_i32x4_lt_s) \
    X(I32X4_LT_U, simd_i32x4_lt_u) \
    X(I32X4_GT_S, simd_i32x4_gt_s) \
    X(I32X4_GT_U, simd_i32x4_gt_u) \
    X(I32X4_LE_S, simd_i32x4_le_s) \
    X(I32X4_LE_U, simd_i32x4_le_u) \
    X(I32X4_GE_S, simd_i32x4_ge_s) \
    X(I32X4_GE_U, simd_i32x4_ge_u) \
    X(F32X4_EQ, simd_f32x4_eq) \
    X(F32X4_NE, simd_f32x4_ne) \
    X(F32X4_LT, simd_f32x4_lt) \
    X(F32X4_GT, simd_f32x4_gt) \
    X(F32X4_LE, simd_f32x4_le) \
    X(F32X4_GE, simd_f32x4_ge) \
    X(F64X2_EQ, simd_f64x2_eq) \
    X(F64X2_NE, simd_f64x2_ne) \
    X(F64X2_LT, simd_f64x2_lt) \
    X(F64X2_GT, simd_f64x2_gt) \
    X(F64X2_LE, simd_f64x2_le) \
    X(F64X2_GE, simd_f64x2_ge) \
    X(V128_AND, simd_v128_and) \
    X(V128_ANDNOT, simd_v128_andnot) \
    X(V128_OR, simd_v128_or) \
    X(V128_XOR, simd_v128_xor) \
    X(I8X16_NARROW_I16X8_S, simd_i8x16_narrow_i16x8_s) \
    X(I8X16_NARROW_I16X8_U, simd_i8x16_narrow_i16x8_u) \
    X(I8X16_ADD, simd_i8x16_add) \
    X(I8X16_ADD_SAT_S, simd_i8x16_add_sat_s) \
    X(I8X16_ADD_SAT_U, simd_i8x16_add_sat_u) \
    X(I8X16_SUB, simd_i8x16_sub) \
    X(I8X16_SUB_SAT_S, simd_i8x16_sub_sat_s) \
    X(I8X16_SUB_SAT_U, simd_i8x16_sub_sat_u) \
    X(I8X16_MIN_S, simd_i8x16_min_s) \
    X(I8X16_MIN_U, simd_i8x16_min_u) \
    X(I8X16_MAX_S, simd_i8x16_max_s) \
    X(I8X16_MAX_U, simd_i8x16_max_u) \
    X(I8X16_AVGR_U, simd_i8x16_avgr_u) \
    X(I16X8_Q15MULR_SAT_S, simd_i16x8_q15mulr_sat_s) \
    X(I16X8_NARROW_I32X4_S, simd_i16x8_narrow_i32x4_s) \
    X(I16X8_NARROW_I32X4_U, simd_i16x8_narrow_i32x4_u) \
    X(I16X8_ADD, simd_i16x8_add) \
    X(I16X8_ADD_SAT_S, simd_i16x8_add_sat_s) \
    X(I16X8_ADD_SAT_U, simd_i16x8_add_sat_u) \
    X(I16X8_SUB, simd_i16x8_sub) \
    X(I16X8_SUB_SAT_S, simd_i16x8_sub_sat_s) \
    X(I16X8_SUB_SAT_U, simd_i16x8_sub_sat_u) \
    X(I16X8_MUL, simd_i16x8_mul) \
    X(I16X8_MIN_S, simd_i16x8_min_s) \
    X(I16X8_MIN_U, simd_i16x8_min_u) \
    X(I16X8_MAX_S, simd_i16x8_max_s) \
    X(I16X8_MAX_U, simd_i16x8_max_u) \
    X(I16X8_AVGR_U, simd_i16x8_avgr_u) \
    X(I16X8_EXTMUL_LOW_I8X16_S, simd_i16x8_extmul_low_i8x16_s) \
    X(I16X8_EXTMUL_HIGH_I8X16_S, simd_i16x8_extmul_high_i8x16_s) \
    X(I16X8_EXTMUL_LOW_I8X16_U, simd_i16x8_extmul_low_i8x16_u) \
    X(I16X8_EXTMUL_HIGH_I8X16_U, simd_i16x8_extmul_high_i8x16_u) \
    X(I32X4_ADD, simd_i32x4_add) \
    X(I32X4_SUB, simd_i32x4_sub) \
    X(I32X4_MUL, simd_i32x4_mul) \
    X(I32X4_MIN_S, simd_i32x4_min_s) \
    X(I32X4_MIN_U, simd_i32x4_min_u) \
    X(I32X4_MAX_S, simd_i32x4_max_s) \
    X(I32X4_MAX_U, simd_i32x4_max_u) \
    X(I32X4_DOT_I16X8_S, simd_i32x4_dot_i16x8_s) \
    X(I32X4_EXTMUL_LOW_I16X8_S, simd_i32x4_extmul_low_i16x8_s) \
    X(I32X4_EXTMUL_HIGH_I16X8_S, simd_i32x4_extmul_high_i16x8_s) \
    X(I32X4_EXTMUL_LOW_I16X8_U, simd_i32x4_extmul_low_i16x8_u) \
    X(I32X4_EXTMUL_HIGH_I16X8_U, simd_i32x4_extmul_high_i16x8_u) \
    X(I64X2_ADD, simd_i64x2_add) \
    X(I64X2_SUB, simd_i64x2_sub) \
    X(I64X2_MUL, simd_i64x2_mul) \
    X(I64X2_EQ, simd_i64x2_eq) \
    X(I64X2_NE, simd_i64x2_ne) \
    X(I64X2_LT_S, simd_i64x2_lt_s) \
    X(I64X2_GT_S, simd_i64x2_gt_s) \
    X(I64X2_LE_S, simd_i64x2_le_s) \
    X(I64X2_GE_S, simd_i64x2_ge_s) \
    X(I64X2_EXTMUL_LOW_I32X4_S, simd_i64x2_extmul_low_i32x4_s) \
    X(I64X2_EXTMUL_HIGH_I32X4_S, simd_i64x2_extmul_high_i32x4_s) \
    X(I64X2_EXTMUL_LOW_I32X4_U, simd_i64x2_extmul_low_i32x4_u) \
    X(I64X2_EXTMUL_HIGH_I32X4_U, simd_i64x2_extmul_high_i32x4_u) \
    X(F32X4_ADD, simd_f32x4_add) \
    X(F32X4_SUB, simd_f32x4_sub) \
    X(F32X4_MUL, simd_f32x4_mul) \
    X(F32X4_DIV, simd_f32x4_div) \
    X(F32X4_MIN, simd_f32x4_min) \
    X(F32X4_MAX, simd_f32x4_max) \
    X(F32X4_PMIN, simd_f32x4_pmin) \
    X(F32X4_PMAX, simd_f32x4_pmax) \
    X(F64X2_ADD, simd_f64x2_add) \
    X(F64X2_SUB, simd_f64x2_sub) \
    X(F64X2_MUL, simd_f64x2_mul) \
    X(F64X2_DIV, simd_f64x2_div) \
    X(F64X2_MIN, simd_f64x2_min) \
    X(F64X2_MAX, simd_f64x2_max) \
    X(F64X2_PMIN, simd_f64x2_pmin) \
    X(F64X2_PMAX, simd_f64x2_pmax)

/* v128, v128, v128 -> v128 */
#define LW_SIMD_TERNOPS(X) \
    X(V128_BITSELECT, simd_v128_bitselect)

/* v128 -> i32 */
#define LW_SIMD_TESTS(X) \
    X(V128_ANY_TRUE, simd_v128_any_true) \
    X(I8X16_ALL_TRUE, simd_i8x16_all_true) \
    X(I8X16_BITMASK, simd_i8x16_bitmask) \
    X(I16X8_ALL_TRUE, simd_i16x8_all_true) \
    X(I16X8_BITMASK, simd_i16x8_bitmask) \
    X(I32X4_ALL_TRUE, simd_i32x4_all_true) \
    X(I32X4_BITMASK, simd_i32x4_bitmask) \
    X(I64X2_ALL_TRUE, simd_i64x2_all_true) \
    X(I64X2_BITMASK, simd_i64x2_bitmask)

/* v128, i32 count -> v128 */
#define LW_SIMD_SHIFTS(X) \
    X(I8X16_SHL, simd_i8x16_shl) \
    X(I8X16_SHR_S, simd_i8x16_shr_s) \
    X(I8X16_SHR_U, simd_i8x16_shr_u) \
    X(I16X8_SHL, simd_i16x8_shl) \
    X(I16X8_SHR_S, simd_i16x8_shr_s) \
    X(I16X8_SHR_U, simd_i16x8_shr_u) \
    X(I32X4_SHL, simd_i32x4_shl) \
    X(I32X4_SHR_S, simd_i32x4_shr_s) \
    X(I32X4_SHR_U, simd_i32x4_shr_u) \
    X(I64X2_SHL, simd_i64x2_shl) \
    X(I64X2_SHR_S, simd_i64x2_shr_s) \
    X(I64X2_SHR_U, simd_i64x2_shr_u)

/*
 * The scalar kind k is the opcode table's letter for the scalar operand or
 * result: i (i32 as uint32_t), l (i64 as uint64_t), f (float), d (double).
 */

/* k scalar -> v128 */
#define LW_SIMD_SPLATS(X) \
    X(I8X16_SPLAT, simd_i8x16_splat, i) \
    X(I16X8_SPLAT, simd_i16x8_splat, i) \
    X(I32X4_SPLAT, simd_i32x4_splat, i) \
    X(I64X2_SPLAT, simd_i64x2_splat, l) \
    X(F32X4_SPLAT, simd_f32x4_splat, f) \
    X(F64X2_SPLAT, simd_f64x2_splat, d)

/* v128, lane immediate -> k scalar */
#define LW_SIMD_EXTRACTS(X) \
    X(I8X16_EXTRACT_LANE_S, simd_i8x16_extract_lane_s, i) \
    X(I8X16_EXTRACT_LANE_U, simd_i8x16_extract_lane_u, i) \
    X(I16X8_EXTRACT_LANE_S, simd_i16x8_extract_lane_s, i) \
    X(I16X8_EXTRACT_LANE_U, simd_i16x8_extract_lane_u, i) \
    X(I32X4_EXTRACT_LANE, simd_i32x4_extract_lane, i) \
    X(I64X2_EXTRACT_LANE, simd_i64x2_extract_lane, l) \
    X(F32X4_EXTRACT_LANE, simd_f32x4_extract_lane, f) \
    X(F64X2_EXTRACT_LANE, simd_f64x2_extract_lane, d)

/* v128, lane immediate, k scalar -> v128 (the lane count is in the name;
   the function masks the lane to it) */
#define LW_SIMD_REPLACES(X) \
    X(I8X16_REPLACE_LANE, simd_i8x16_replace_lane, i) \
    X(I16X8_REPLACE_LANE, simd_i16x8_replace_lane, i) \
    X(I32X4_REPLACE_LANE, simd_i32x4_replace_lane, i) \
    X(I64X2_REPLACE_LANE, simd_i64x2_replace_lane, l) \
    X(F32X4_REPLACE_LANE, simd_f32x4_replace_lane, f) \
    X(F64X2_REPLACE_LANE, simd_f64x2_replace_lane, d)

/* memory bytes -> v128, reading n bytes (v128.load itself is not here) */
#define LW_SIMD_LOADS(X) \
    X(V128_LOAD8X8_S, simd_v128_load8x8_s, 8) \
    X(V128_LOAD8X8_U, simd_v128_load8x8_u, 8) \
    X(V128_LOAD16X4_S, simd_v128_load16x4_s, 8) \
    X(V128_LOAD16X4_U, simd_v128_load16x4_u, 8) \
    X(V128_LOAD32X2_S, simd_v128_load32x2_s, 8) \
    X(V128_LOAD32X2_U, simd_v128_load32x2_u, 8) \
    X(V128_LOAD8_SPLAT, simd_v128_load8_splat, 1) \
    X(V128_LOAD16_SPLAT, simd_v128_load16_splat, 2) \
    X(V128_LOAD32_SPLAT, simd_v128_load32_splat, 4) \
    X(V128_LOAD64_SPLAT, simd_v128_load64_splat, 8) \
    X(V128_LOAD32_ZERO, simd_v128_load32_zero, 4) \
    X(V128_LOAD64_ZERO, simd_v128_load64_zero, 8)

/* memory bytes, v128, lane -> v128, reading n bytes */
#define LW_SIMD_LANE_LOADS(X) \
    X(V128_LOAD8_LANE, simd_v128_load8_lane, 1) \
    X(V128_LOAD16_LANE, simd_v128_load16_lane, 2) \
    X(V128_LOAD32_LANE, simd_v128_load32_lane, 4) \
    X(V128_LOAD64_LANE, simd_v128_load64_lane, 8)

/* v128, lane -> n bytes of memory */
#define LW_SIMD_LANE_STORES(X) \
    X(V128_STORE8_LANE, simd_v128_store8_lane, 1) \
    X(V128_STORE16_LANE, simd_v128_store16_lane, 2) \
    X(V128_STORE32_LANE, simd_v128_store32_lane, 4) \
    X(V128_STORE64_LANE, simd_v128_store64_lane, 8)

#endif
