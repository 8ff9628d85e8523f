/*
 * Tests of the SIMD semantics in src/interp/simd.h, lane by lane, with the
 * cases where hardware or naive C differ from the spec first in mind: NaN
 * and signed zeros in min/max/pmin/pmax, saturation edges, abs of INT_MIN,
 * the q15mulr corner, narrowing, trunc_sat of NaN/inf/range ends, shift
 * counts >= the lane width, out-of-range swizzle indices, nearest's ties.
 * Vectors marked "suite" are copied from ../shared/wasm-testsuite/2.0.
 *
 * The last tests check the X-macro lists against the opcode table itself
 * (decode/opcodes.def): every SIMD row is in exactly one list (or handled
 * by hand), under the function its mnemonic names, with the right
 * signature.  Memory functions are run on buffers of exactly the bytes
 * they may touch, so ASan catches any access beyond them.
 */
#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/simd.h"

/* Vector literals in each lane shape. */
#define I8(...)  ((lw_v128)(lw_i8x16){ __VA_ARGS__ })
#define U8(...)  ((lw_v128)(lw_u8x16){ __VA_ARGS__ })
#define I16(...) ((lw_v128)(lw_i16x8){ __VA_ARGS__ })
#define U16(...) ((lw_v128)(lw_u16x8){ __VA_ARGS__ })
#define I32(...) ((lw_v128)(lw_i32x4){ __VA_ARGS__ })
#define U32(...) ((lw_v128)(lw_u32x4){ __VA_ARGS__ })
#define I64(...) ((lw_v128)(lw_i64x2){ __VA_ARGS__ })
#define U64(...) ((lw_v128)(lw_u64x2){ __VA_ARGS__ })
#define F32(...) ((lw_v128)(lw_f32x4){ __VA_ARGS__ })
#define F64(...) ((lw_v128)(lw_f64x2){ __VA_ARGS__ })

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float ffrom(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint64_t dbits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static double dfrom(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }

static void ck_v_at(lw_v128 got, lw_v128 want, const char *expr, int line)
{
    if (memcmp(&got, &want, 16) == 0)
        return;
    uint8_t g[16], w[16];
    char gs[64], ws[64];
    memcpy(g, &got, 16);
    memcpy(w, &want, 16);
    for (int i = 0; i < 16; i++) {
        sprintf(gs + 3 * i, "%02x ", g[i]);
        sprintf(ws + 3 * i, "%02x ", w[i]);
    }
    ck_abort_msg("line %d: %s\n  got  %s\n  want %s", line, expr, gs, ws);
}
/* Exact bits, lane 0's lowest byte first. */
#define CK_V(got, want) ck_v_at((got), (want), #got, __LINE__)

/* Lane i of an f32x4 / f64x2 is a quiet (arithmetic) NaN. */
#define CK_QNAN32(v, i) do { uint32_t b_ = ((lw_u32x4)(v))[i]; \
    ck_assert_msg((b_ & 0x7fc00000u) == 0x7fc00000u, "lane %d: %08x is not a quiet NaN", (i), b_); } while (0)
#define CK_QNAN64(v, i) do { uint64_t b_ = ((lw_u64x2)(v))[i]; \
    ck_assert_msg((b_ & 0x7ff8000000000000ull) == 0x7ff8000000000000ull, \
                  "lane %d: %016llx is not a quiet NaN", (i), (unsigned long long)b_); } while (0)

/*
 * Hides a value from the optimizer.  With constant operands, clang folds
 * x * 1.0 to x even for a signaling NaN x; the interpreter never has
 * constant operands, so the tests of NaN quieting must not either.
 */
static lw_v128 launder(lw_v128 v)
{
    volatile lw_v128 t = v;
    return t;
}

#define NAN32 ffrom(0x7fc00000u)      /* canonical */
#define SNAN32 ffrom(0x7fa00000u)     /* signaling, payload 0x200000 */
#define PNAN32 ffrom(0xffc01234u)     /* negative, with payload */
#define NAN64 dfrom(0x7ff8000000000000ull)
#define SNAN64 dfrom(0x7ff4000000000000ull)

/* ---- memory views, splat, lanes ---- */

START_TEST(load_store_and_lane_order)
{
    uint8_t buf[40];
    for (int i = 0; i < 40; i++)
        buf[i] = (uint8_t)i;
    /* unaligned: from buf + 3 */
    lw_v128 v = v128_load(buf + 3);
    CK_V(v, U8(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18));
    /* wasm lane 0 is the lowest bytes, little-endian */
    ck_assert_uint_eq(simd_i32x4_extract_lane(v, 0), 0x06050403u);
    ck_assert_uint_eq(simd_i16x8_extract_lane_u(v, 7), 0x1211u);
    ck_assert_uint_eq(simd_i64x2_extract_lane(v, 1), 0x1211100f0e0d0c0bull);
    uint8_t out[20] = { 0 };
    v128_store(out + 1, v);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_int_eq(memcmp(out + 1, buf + 3, 16), 0);
    ck_assert_uint_eq(out[17], 0);
    CK_V(simd_v128_load(buf + 5), v128_load(buf + 5));
    simd_v128_store(out, v);
    ck_assert_int_eq(memcmp(out, buf + 3, 16), 0);
}
END_TEST

START_TEST(splat_extract_replace)
{
    CK_V(simd_i8x16_splat(0x1ff), U8(255, 255, 255, 255, 255, 255, 255, 255,
                                     255, 255, 255, 255, 255, 255, 255, 255));
    CK_V(simd_i16x8_splat(0x12345), U16(0x2345, 0x2345, 0x2345, 0x2345, 0x2345, 0x2345, 0x2345, 0x2345));
    CK_V(simd_i32x4_splat(0x80000000u), U32(0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u));
    CK_V(simd_i64x2_splat(0x0123456789abcdefull), U64(0x0123456789abcdefull, 0x0123456789abcdefull));
    /* a signaling NaN keeps its bits through splat and extract */
    lw_v128 s = simd_f32x4_splat(SNAN32);
    CK_V(s, U32(0x7fa00000u, 0x7fa00000u, 0x7fa00000u, 0x7fa00000u));
    ck_assert_uint_eq(fbits(simd_f32x4_extract_lane(s, 3)), 0x7fa00000u);
    lw_v128 d = simd_f64x2_splat(-0.0);
    CK_V(d, U64(0x8000000000000000ull, 0x8000000000000000ull));
    ck_assert_uint_eq(dbits(simd_f64x2_extract_lane(simd_f64x2_splat(SNAN64), 1)), 0x7ff4000000000000ull);

    lw_v128 v = I8(-1, 2, -128, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -5);
    ck_assert_uint_eq(simd_i8x16_extract_lane_s(v, 0), 0xffffffffu);
    ck_assert_uint_eq(simd_i8x16_extract_lane_u(v, 0), 0xffu);
    ck_assert_uint_eq(simd_i8x16_extract_lane_s(v, 2), 0xffffff80u);
    ck_assert_uint_eq(simd_i8x16_extract_lane_u(v, 2), 0x80u);
    ck_assert_uint_eq(simd_i8x16_extract_lane_s(v, 3), 127);
    ck_assert_uint_eq(simd_i8x16_extract_lane_s(v, 15), (uint32_t)-5);
    lw_v128 h = I16(-32768, 32767, -1, 0, 0, 0, 0, 0);
    ck_assert_uint_eq(simd_i16x8_extract_lane_s(h, 0), 0xffff8000u);
    ck_assert_uint_eq(simd_i16x8_extract_lane_u(h, 0), 0x8000u);
    ck_assert_uint_eq(simd_i16x8_extract_lane_s(h, 1), 32767);
    ck_assert_uint_eq(simd_i16x8_extract_lane_u(h, 2), 0xffffu);
    ck_assert(simd_f64x2_extract_lane(F64(1.5, -2.25), 1) == -2.25);
    ck_assert(simd_f32x4_extract_lane(F32(1, 2, 3, 4.5f), 3) == 4.5f);

    /* replace takes the low bits; other lanes untouched */
    lw_v128 z = U64(0, 0);
    CK_V(simd_i8x16_replace_lane(z, 15, 0x1234), U8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x34));
    CK_V(simd_i16x8_replace_lane(z, 1, 0xabcdef), U16(0, 0xcdef, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i32x4_replace_lane(z, 2, 0xdeadbeef), U32(0, 0, 0xdeadbeef, 0));
    CK_V(simd_i64x2_replace_lane(z, 1, 0x1122334455667788ull), U64(0, 0x1122334455667788ull));
    CK_V(simd_f32x4_replace_lane(z, 0, SNAN32), U32(0x7fa00000u, 0, 0, 0));
    CK_V(simd_f64x2_replace_lane(z, 0, -0.0), U64(0x8000000000000000ull, 0));
    /* lane indices are masked to the lane count, never out of bounds */
    ck_assert_uint_eq(simd_i8x16_extract_lane_u(v, 16 + 3), 127);
    CK_V(simd_i32x4_replace_lane(z, 4 + 1, 7), U32(0, 7, 0, 0));
}
END_TEST

START_TEST(shuffle_swizzle)
{
    lw_v128 a = U8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    lw_v128 b = U8(16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
    lw_v128 b2 = U8(100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115);
    const uint8_t lanes[16] = { 31, 0, 16, 15, 1, 17, 30, 2, 3, 3, 3, 3, 18, 19, 20, 21 };
    CK_V(simd_i8x16_shuffle(a, b2, lanes),
         U8(115, 0, 100, 15, 1, 101, 114, 2, 3, 3, 3, 3, 102, 103, 104, 105));
    /* (suite: simd_lane.wast) swizzle with indices >= 16 gives 0, also for
       "negative" bytes, which hardware like x86's pshufb reads specially */
    lw_v128 idx = U8(15, 16, 0, 255, 128, 127, 1, 17, 31, 32, 14, 0x8f, 0x10, 2, 3, 4);
    CK_V(simd_i8x16_swizzle(b, idx), U8(31, 0, 16, 0, 0, 0, 17, 0, 0, 0, 30, 0, 0, 18, 19, 20));
    CK_V(simd_i8x16_swizzle(a, a), a);
}
END_TEST

/* ---- bitwise and tests ---- */

START_TEST(bitwise)
{
    lw_v128 a = U64(0xff00ff00f0f0aaaaull, 0x0123456789abcdefull);
    lw_v128 b = U64(0x0ff00ff0ffff5555ull, 0xffffffff00000000ull);
    lw_v128 c = U64(0xffffffff00000000ull, 0x00ff00ff00ff00ffull);
    CK_V(simd_v128_not(a), U64(0x00ff00ff0f0f5555ull, 0xfedcba9876543210ull));
    CK_V(simd_v128_and(a, b), U64(0x0f000f00f0f00000ull, 0x0123456700000000ull));
    CK_V(simd_v128_andnot(a, b), U64(0xf000f0000000aaaaull, 0x0000000089abcdefull));
    CK_V(simd_v128_or(a, b), U64(0xfff0fff0ffffffffull, 0xffffffff89abcdefull));
    CK_V(simd_v128_xor(a, b), U64(0xf0f0f0f00f0fffffull, 0xfedcba9889abcdefull));
    /* bits of a where c is 1, of b where c is 0 */
    CK_V(simd_v128_bitselect(a, b, c), U64(0xff00ff00ffff5555ull, 0xff23ff6700ab00efull));
    ck_assert_uint_eq(simd_v128_any_true(U64(0, 0)), 0);
    ck_assert_uint_eq(simd_v128_any_true(U64(0, 1ull << 63)), 1);
    ck_assert_uint_eq(simd_v128_any_true(U8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)), 1);
}
END_TEST

START_TEST(all_true_bitmask)
{
    lw_v128 one_zero8 = U8(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0);
    ck_assert_uint_eq(simd_i8x16_all_true(one_zero8), 0);
    ck_assert_uint_eq(simd_i8x16_all_true(simd_i8x16_splat(0x80)), 1);
    /* a zero i8 lane inside a nonzero i16 lane */
    ck_assert_uint_eq(simd_i16x8_all_true(U16(0x100, 1, 1, 1, 1, 1, 1, 1)), 1);
    ck_assert_uint_eq(simd_i8x16_all_true(U16(0x100, 1, 1, 1, 1, 1, 1, 1)), 0);
    ck_assert_uint_eq(simd_i16x8_all_true(U16(1, 1, 1, 1, 1, 1, 0, 1)), 0);
    ck_assert_uint_eq(simd_i32x4_all_true(U32(1, 1u << 31, 0x10000, 1)), 1);
    ck_assert_uint_eq(simd_i32x4_all_true(U32(1, 1, 1, 0)), 0);
    ck_assert_uint_eq(simd_i64x2_all_true(U64(1ull << 63, 1ull << 32)), 1);
    ck_assert_uint_eq(simd_i64x2_all_true(U64(0, 5)), 0);

    ck_assert_uint_eq(simd_i8x16_bitmask(I8(-1, 0, 127, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -2)), 0x8009u);
    ck_assert_uint_eq(simd_i8x16_bitmask(simd_i8x16_splat(0xff)), 0xffffu);
    /* suite: simd_boolean.wast:107,109 */
    ck_assert_uint_eq(simd_i16x8_bitmask(simd_i16x8_splat(0xffff)), 0xffu);
    ck_assert_uint_eq(simd_i16x8_bitmask(I16(-1, 0, 1, 2, 0xb, 0xc, 0xd, 0xf)), 0x1u);
    ck_assert_uint_eq(simd_i16x8_bitmask(I16(0, -32768, 0x7fff, 0, 0, 0, 0, -1)), 0x82u);
    ck_assert_uint_eq(simd_i32x4_bitmask(I32(-1, 0, INT32_MIN, INT32_MAX)), 0x5u);
    ck_assert_uint_eq(simd_i64x2_bitmask(I64(0, INT64_MIN)), 0x2u);
    ck_assert_uint_eq(simd_i64x2_bitmask(I64(-1, INT64_MAX)), 0x1u);
}
END_TEST

/* ---- comparisons ---- */

START_TEST(int_compare)
{
    lw_v128 a = U8(0x80, 0x7f, 5, 5, 0, 0xff, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0);
    lw_v128 b = U8(0x7f, 0x80, 5, 6, 0xff, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 1);
#define T 0xff
    CK_V(simd_i8x16_eq(a, b), U8(0, 0, T, 0, 0, 0, 0, 0, T, T, T, T, T, T, T, 0));
    CK_V(simd_i8x16_ne(a, b), U8(T, T, 0, T, T, T, T, T, 0, 0, 0, 0, 0, 0, 0, T));
    /* -128 < 127 signed, 128 > 127 unsigned */
    CK_V(simd_i8x16_lt_s(a, b), U8(T, 0, 0, T, 0, T, T, 0, 0, 0, 0, 0, 0, 0, 0, T));
    CK_V(simd_i8x16_lt_u(a, b), U8(0, T, 0, T, T, 0, T, 0, 0, 0, 0, 0, 0, 0, 0, T));
    CK_V(simd_i8x16_gt_s(a, b), U8(0, T, 0, 0, T, 0, 0, T, 0, 0, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i8x16_gt_u(a, b), U8(T, 0, 0, 0, 0, T, 0, T, 0, 0, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i8x16_le_s(a, b), U8(T, 0, T, T, 0, T, T, 0, T, T, T, T, T, T, T, T));
    CK_V(simd_i8x16_le_u(a, b), U8(0, T, T, T, T, 0, T, 0, T, T, T, T, T, T, T, T));
    CK_V(simd_i8x16_ge_s(a, b), U8(0, T, T, 0, T, 0, 0, T, T, T, T, T, T, T, T, 0));
    CK_V(simd_i8x16_ge_u(a, b), U8(T, 0, T, 0, 0, T, 0, T, T, T, T, T, T, T, T, 0));
#undef T
    lw_v128 h1 = U16(0x8000, 0x7fff, 3, 0xffff, 0, 0, 0, 0);
    lw_v128 h2 = U16(0x7fff, 0x8000, 3, 0, 0, 0, 0, 1);
    CK_V(simd_i16x8_lt_s(h1, h2), U16(0xffff, 0, 0, 0xffff, 0, 0, 0, 0xffff));
    CK_V(simd_i16x8_lt_u(h1, h2), U16(0, 0xffff, 0, 0, 0, 0, 0, 0xffff));
    CK_V(simd_i16x8_ge_u(h1, h2), U16(0xffff, 0, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0));
    CK_V(simd_i16x8_eq(h1, h2), U16(0, 0, 0xffff, 0, 0xffff, 0xffff, 0xffff, 0));
    CK_V(simd_i16x8_ne(h1, h2), U16(0xffff, 0xffff, 0, 0xffff, 0, 0, 0, 0xffff));
    CK_V(simd_i16x8_gt_s(h1, h2), U16(0, 0xffff, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i16x8_gt_u(h1, h2), U16(0xffff, 0, 0, 0xffff, 0, 0, 0, 0));
    CK_V(simd_i16x8_le_s(h1, h2), U16(0xffff, 0, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff));
    CK_V(simd_i16x8_le_u(h1, h2), U16(0, 0xffff, 0xffff, 0, 0xffff, 0xffff, 0xffff, 0xffff));
    CK_V(simd_i16x8_ge_s(h1, h2), U16(0, 0xffff, 0xffff, 0, 0xffff, 0xffff, 0xffff, 0));
    lw_v128 w1 = U32(0x80000000u, 1, 7, 0xffffffffu);
    lw_v128 w2 = U32(0x7fffffffu, 1, 8, 0);
    CK_V(simd_i32x4_eq(w1, w2), U32(0, ~0u, 0, 0));
    CK_V(simd_i32x4_ne(w1, w2), U32(~0u, 0, ~0u, ~0u));
    CK_V(simd_i32x4_lt_s(w1, w2), U32(~0u, 0, ~0u, ~0u));
    CK_V(simd_i32x4_lt_u(w1, w2), U32(0, 0, ~0u, 0));
    CK_V(simd_i32x4_gt_s(w1, w2), U32(0, 0, 0, 0));
    CK_V(simd_i32x4_gt_u(w1, w2), U32(~0u, 0, 0, ~0u));
    CK_V(simd_i32x4_le_s(w1, w2), U32(~0u, ~0u, ~0u, ~0u));
    CK_V(simd_i32x4_le_u(w1, w2), U32(0, ~0u, ~0u, 0));
    CK_V(simd_i32x4_ge_s(w1, w2), U32(0, ~0u, 0, 0));
    CK_V(simd_i32x4_ge_u(w1, w2), U32(~0u, ~0u, 0, ~0u));
    lw_v128 q1 = I64(INT64_MIN, 5), q2 = I64(INT64_MAX, 5);
    CK_V(simd_i64x2_eq(q1, q2), U64(0, ~0ull));
    CK_V(simd_i64x2_ne(q1, q2), U64(~0ull, 0));
    CK_V(simd_i64x2_lt_s(q1, q2), U64(~0ull, 0));
    CK_V(simd_i64x2_gt_s(q1, q2), U64(0, 0));
    CK_V(simd_i64x2_le_s(q1, q2), U64(~0ull, ~0ull));
    CK_V(simd_i64x2_ge_s(q1, q2), U64(0, ~0ull));
    CK_V(simd_i64x2_gt_s(I64(-1, 0), I64(-2, -1)), U64(~0ull, ~0ull));
}
END_TEST

START_TEST(float_compare)
{
    /* NaN compares false, except ne; -0 == +0 */
    lw_v128 a = F32(NAN32, 1.0f, -0.0f, 2.0f);
    lw_v128 b = F32(NAN32, NAN32, 0.0f, 1.0f);
    CK_V(simd_f32x4_eq(a, b), U32(0, 0, ~0u, 0));
    CK_V(simd_f32x4_ne(a, b), U32(~0u, ~0u, 0, ~0u));
    CK_V(simd_f32x4_lt(a, b), U32(0, 0, 0, 0));
    CK_V(simd_f32x4_gt(a, b), U32(0, 0, 0, ~0u));
    CK_V(simd_f32x4_le(a, b), U32(0, 0, ~0u, 0));
    CK_V(simd_f32x4_ge(a, b), U32(0, 0, ~0u, ~0u));
    lw_v128 c = F64(NAN64, -INFINITY), d = F64(0.0, -INFINITY);
    CK_V(simd_f64x2_eq(c, d), U64(0, ~0ull));
    CK_V(simd_f64x2_ne(c, d), U64(~0ull, 0));
    CK_V(simd_f64x2_lt(c, d), U64(0, 0));
    CK_V(simd_f64x2_gt(c, d), U64(0, 0));
    CK_V(simd_f64x2_le(c, d), U64(0, ~0ull));
    CK_V(simd_f64x2_ge(c, d), U64(0, ~0ull));
    CK_V(simd_f64x2_lt(F64(-0.0, 1.0), F64(0.0, 2.0)), U64(0, ~0ull));
}
END_TEST

/* ---- integer arithmetic ---- */

START_TEST(int_add_sub_mul_neg_abs)
{
    CK_V(simd_i8x16_add(U8(255, 127, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200),
                        U8(1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100)),
         U8(0, 128, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 44));
    CK_V(simd_i8x16_sub(U8(0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                        U8(1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
         U8(255, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i16x8_add(I16(32767, -32768, 0, 0, 0, 0, 0, 1), I16(1, -1, 0, 0, 0, 0, 0, 2)),
         I16(-32768, 32767, 0, 0, 0, 0, 0, 3));
    CK_V(simd_i16x8_sub(I16(-32768, 0, 0, 0, 0, 0, 0, 0), I16(1, 1, 0, 0, 0, 0, 0, 0)),
         I16(32767, -1, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i16x8_mul(U16(0xffff, 0x8000, 300, 3, 0, 0, 0, 0), U16(0xffff, 2, 300, 0xffff, 0, 0, 0, 0)),
         U16(1, 0, 90000 & 0xffff, 0xfffd, 0, 0, 0, 0));
    CK_V(simd_i32x4_add(I32(INT32_MAX, INT32_MIN, 1, -1), I32(1, -1, 2, -1)),
         I32(INT32_MIN, INT32_MAX, 3, -2));
    CK_V(simd_i32x4_sub(I32(INT32_MIN, 0, 5, 0), I32(1, 1, 7, INT32_MIN)),
         I32(INT32_MAX, -1, -2, INT32_MIN));
    CK_V(simd_i32x4_mul(U32(0x10000, 0xffffffffu, 0x80000000u, 12345), U32(0x10000, 0xffffffffu, 2, 1000)),
         U32(0, 1, 0, 12345000));
    CK_V(simd_i64x2_add(I64(INT64_MAX, -1), I64(1, 1)), I64(INT64_MIN, 0));
    CK_V(simd_i64x2_sub(I64(INT64_MIN, 0), I64(1, -5)), I64(INT64_MAX, 5));
    CK_V(simd_i64x2_mul(U64(0x100000000ull, 0xffffffffffffffffull), U64(0x100000000ull, 3)),
         U64(0, 0xfffffffffffffffdull));
    /* neg and abs of INT_MIN stay INT_MIN */
    CK_V(simd_i8x16_neg(I8(-128, 1, -1, 0, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5)),
         I8(-128, -1, 1, 0, -127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -5));
    CK_V(simd_i8x16_abs(I8(-128, 1, -1, 0, 127, -127, 0, 0, 0, 0, 0, 0, 0, 0, 0, -5)),
         U8(0x80, 1, 1, 0, 127, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5));
    CK_V(simd_i16x8_neg(I16(-32768, 1, -1, 0, 32767, 0, 0, 0)), I16(-32768, -1, 1, 0, -32767, 0, 0, 0));
    CK_V(simd_i16x8_abs(I16(-32768, 1, -1, 0, 32767, -32767, 0, 0)), U16(0x8000, 1, 1, 0, 32767, 32767, 0, 0));
    CK_V(simd_i32x4_neg(I32(INT32_MIN, 1, -1, INT32_MAX)), I32(INT32_MIN, -1, 1, -INT32_MAX));
    CK_V(simd_i32x4_abs(I32(INT32_MIN, 1, -1, -INT32_MAX)), U32(0x80000000u, 1, 1, INT32_MAX));
    CK_V(simd_i64x2_neg(I64(INT64_MIN, 1)), I64(INT64_MIN, -1));
    CK_V(simd_i64x2_abs(I64(INT64_MIN, -INT64_MAX)), U64(0x8000000000000000ull, INT64_MAX));
    CK_V(simd_i8x16_popcnt(U8(0, 1, 3, 0x80, 0xff, 0x55, 0xaa, 0x0f, 0xf0, 7, 0x81, 0x7f, 0xfe, 2, 4, 0x10)),
         U8(0, 1, 2, 1, 8, 4, 4, 4, 4, 3, 2, 7, 7, 1, 1, 1));
}
END_TEST

START_TEST(saturating)
{
    /* suite: simd_i8x16_sat_arith.wast:34 (64 + 64 = 127) */
    CK_V(simd_i8x16_add_sat_s(simd_i8x16_splat(64), simd_i8x16_splat(64)), simd_i8x16_splat(127));
    CK_V(simd_i8x16_add_sat_s(I8(127, -128, -128, 100, -100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127),
                              I8(1, -1, -128, 27, -28, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127)),
         I8(127, -128, -128, 127, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127));
    CK_V(simd_i8x16_sub_sat_s(I8(-128, 127, 127, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                              I8(1, -1, -128, 127, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
         I8(-128, 127, 127, -128, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i8x16_add_sat_u(U8(255, 200, 1, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 254),
                              U8(1, 100, 1, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)),
         U8(255, 255, 2, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255));
    CK_V(simd_i8x16_sub_sat_u(U8(0, 100, 255, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
                              U8(1, 200, 255, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255)),
         U8(0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i16x8_add_sat_s(I16(32767, -32768, -32768, 20000, -20000, 1, 0, 0),
                              I16(1, -1, -32768, 20000, -20000, 2, 0, 0)),
         I16(32767, -32768, -32768, 32767, -32768, 3, 0, 0));
    CK_V(simd_i16x8_sub_sat_s(I16(-32768, 32767, 32767, 0, 5, 0, 0, 0),
                              I16(1, -1, -32768, -32768, 7, 0, 0, 0)),
         I16(-32768, 32767, 32767, 32767, -2, 0, 0, 0));
    CK_V(simd_i16x8_add_sat_u(U16(65535, 40000, 1, 0, 0, 0, 0, 0), U16(1, 40000, 1, 0, 0, 0, 0, 0)),
         U16(65535, 65535, 2, 0, 0, 0, 0, 0));
    CK_V(simd_i16x8_sub_sat_u(U16(0, 100, 65535, 5, 0, 0, 0, 0), U16(1, 200, 65535, 4, 0, 0, 0, 0)),
         U16(0, 0, 0, 1, 0, 0, 0, 0));
}
END_TEST

START_TEST(min_max_avgr)
{
    lw_v128 a = I8(-1, 1, -128, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    lw_v128 b = I8(1, -1, 127, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5);
    CK_V(simd_i8x16_min_s(a, b), I8(-1, -1, -128, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i8x16_max_s(a, b), I8(1, 1, 127, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5));
    CK_V(simd_i8x16_min_u(a, b), I8(1, 1, 127, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i8x16_max_u(a, b), I8(-1, -1, -128, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5));
    lw_v128 c = I16(-1, 1, -32768, 32767, 0, 0, 0, 0), d = I16(1, -1, 32767, -32768, 0, 0, 0, 0);
    CK_V(simd_i16x8_min_s(c, d), I16(-1, -1, -32768, -32768, 0, 0, 0, 0));
    CK_V(simd_i16x8_max_s(c, d), I16(1, 1, 32767, 32767, 0, 0, 0, 0));
    CK_V(simd_i16x8_min_u(c, d), I16(1, 1, 32767, 32767, 0, 0, 0, 0));
    CK_V(simd_i16x8_max_u(c, d), I16(-1, -1, -32768, -32768, 0, 0, 0, 0));
    lw_v128 e = I32(-1, 1, INT32_MIN, 3), f = I32(1, -1, INT32_MAX, 3);
    CK_V(simd_i32x4_min_s(e, f), I32(-1, -1, INT32_MIN, 3));
    CK_V(simd_i32x4_max_s(e, f), I32(1, 1, INT32_MAX, 3));
    CK_V(simd_i32x4_min_u(e, f), I32(1, 1, INT32_MAX, 3));
    CK_V(simd_i32x4_max_u(e, f), I32(-1, -1, INT32_MIN, 3));
    /* (a + b + 1) >> 1 without overflow */
    CK_V(simd_i8x16_avgr_u(U8(255, 0, 1, 0, 254, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200),
                           U8(255, 1, 2, 0, 255, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100)),
         U8(255, 1, 2, 0, 255, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 150));
    CK_V(simd_i16x8_avgr_u(U16(65535, 65535, 0, 1, 2, 0, 0, 0), U16(65535, 0, 1, 2, 2, 0, 0, 0)),
         U16(65535, 32768, 1, 2, 2, 0, 0, 0));
}
END_TEST

START_TEST(q15mulr_dot)
{
    /* suite: simd_i16x8_q15mulr_sat_s.wast:58 and :64 */
    CK_V(simd_i16x8_q15mulr_sat_s(simd_i16x8_splat(0x8000), simd_i16x8_splat(0xffff)), simd_i16x8_splat(1));
    CK_V(simd_i16x8_q15mulr_sat_s(I16(-32768, 32767, 16384, 1, -1, -3, 0, -32768),
                                  I16(-32768, 32767, 16384, 16384, 16384, 16384, 5, 32767)),
         I16(32767, 32766, 8192, 1, 0, -1, 0, -32767));
    /* suite: simd_i32x4_dot_i16x8.wast:28,31 */
    CK_V(simd_i32x4_dot_i16x8_s(simd_i16x8_splat(16383), simd_i16x8_splat(16384)), simd_i32x4_splat(536838144));
    CK_V(simd_i32x4_dot_i16x8_s(simd_i16x8_splat(16384), simd_i16x8_splat(16384)), simd_i32x4_splat(536870912));
    /* the sum of two -32768^2 wraps to INT32_MIN */
    CK_V(simd_i32x4_dot_i16x8_s(I16(-32768, -32768, 1, 2, -1, 1, 32767, -32768),
                                I16(-32768, -32768, 3, 4, 5, 7, 32767, -32768)),
         U32(0x80000000u, 11, 2, 32767 * 32767 + 32768 * 32768u));
}
END_TEST

START_TEST(extend_extmul_extadd)
{
    lw_v128 b = I8(-128, -1, 0, 1, 127, 2, 3, 4, -2, -3, 100, -100, 5, 6, 7, -7);
    CK_V(simd_i16x8_extend_low_i8x16_s(b), I16(-128, -1, 0, 1, 127, 2, 3, 4));
    CK_V(simd_i16x8_extend_high_i8x16_s(b), I16(-2, -3, 100, -100, 5, 6, 7, -7));
    CK_V(simd_i16x8_extend_low_i8x16_u(b), I16(128, 255, 0, 1, 127, 2, 3, 4));
    CK_V(simd_i16x8_extend_high_i8x16_u(b), I16(254, 253, 100, 156, 5, 6, 7, 249));
    lw_v128 h = I16(-32768, -1, 32767, 2, -5, 6, 65535 & 0x7fff, 0);
    CK_V(simd_i32x4_extend_low_i16x8_s(h), I32(-32768, -1, 32767, 2));
    CK_V(simd_i32x4_extend_high_i16x8_s(h), I32(-5, 6, 32767, 0));
    CK_V(simd_i32x4_extend_low_i16x8_u(h), I32(32768, 65535, 32767, 2));
    CK_V(simd_i32x4_extend_high_i16x8_u(h), I32(65531, 6, 32767, 0));
    lw_v128 w = I32(INT32_MIN, -1, 7, INT32_MAX);
    CK_V(simd_i64x2_extend_low_i32x4_s(w), I64(INT32_MIN, -1));
    CK_V(simd_i64x2_extend_high_i32x4_s(w), I64(7, INT32_MAX));
    CK_V(simd_i64x2_extend_low_i32x4_u(w), I64(0x80000000ll, 0xffffffffll));
    CK_V(simd_i64x2_extend_high_i32x4_u(w), I64(7, INT32_MAX));

    lw_v128 x8 = I8(-128, -128, 127, -1, 0, 0, 0, 0, -128, 127, -1, 2, 0, 0, 0, 0);
    lw_v128 y8 = I8(-128, 127, 127, -1, 0, 0, 0, 0, -128, -128, -1, 3, 0, 0, 0, 0);
    CK_V(simd_i16x8_extmul_low_i8x16_s(x8, y8), I16(16384, -16256, 16129, 1, 0, 0, 0, 0));
    CK_V(simd_i16x8_extmul_high_i8x16_s(x8, y8), I16(16384, -16256, 1, 6, 0, 0, 0, 0));
    CK_V(simd_i16x8_extmul_low_i8x16_u(x8, y8), U16(16384, 128 * 127, 16129, 65025, 0, 0, 0, 0));
    CK_V(simd_i16x8_extmul_high_i8x16_u(x8, y8), U16(16384, 127 * 128, 65025, 6, 0, 0, 0, 0));
    lw_v128 x16 = I16(-32768, -32768, -1, 3, -1, 32767, -32768, 2);
    lw_v128 y16 = I16(-32768, 32767, -1, -4, -1, 32767, 32767, 2);
    CK_V(simd_i32x4_extmul_low_i16x8_s(x16, y16), I32(1 << 30, -32768 * 32767, 1, -12));
    CK_V(simd_i32x4_extmul_high_i16x8_s(x16, y16), I32(1, 32767 * 32767, -32768 * 32767, 4));
    CK_V(simd_i32x4_extmul_low_i16x8_u(x16, y16), U32(1u << 30, 32768u * 32767u, 0xfffe0001u, 3u * 65532u));
    CK_V(simd_i32x4_extmul_high_i16x8_u(x16, y16), U32(0xfffe0001u, 32767u * 32767u, 32768u * 32767u, 4));
    lw_v128 x32 = I32(INT32_MIN, -1, INT32_MIN, 3), y32 = I32(INT32_MIN, -1, INT32_MAX, -4);
    CK_V(simd_i64x2_extmul_low_i32x4_s(x32, y32), I64(1ll << 62, 1));
    CK_V(simd_i64x2_extmul_high_i32x4_s(x32, y32), I64((int64_t)INT32_MIN * INT32_MAX, -12));
    CK_V(simd_i64x2_extmul_low_i32x4_u(x32, y32), U64(1ull << 62, 0xfffffffe00000001ull));
    CK_V(simd_i64x2_extmul_high_i32x4_u(x32, y32), U64(0x80000000ull * 0x7fffffffull, 3ull * 0xfffffffcull));

    CK_V(simd_i16x8_extadd_pairwise_i8x16_s(I8(-128, -128, 127, 127, -1, 1, 0, 5, 0, 0, 0, 0, 0, 0, -3, -4)),
         I16(-256, 254, 0, 5, 0, 0, 0, -7));
    CK_V(simd_i16x8_extadd_pairwise_i8x16_u(I8(-1, -1, 127, 127, -1, 1, 0, 5, 0, 0, 0, 0, 0, 0, -128, 0)),
         I16(510, 254, 256, 5, 0, 0, 0, 128));
    CK_V(simd_i32x4_extadd_pairwise_i16x8_s(I16(-32768, -32768, 32767, 32767, -1, 1, 0, -7)),
         I32(-65536, 65534, 0, -7));
    CK_V(simd_i32x4_extadd_pairwise_i16x8_u(I16(-1, -1, 32767, -32768, -1, 1, 0, 9)),
         I32(131070, 65535, 65536, 9));
}
END_TEST

START_TEST(narrow)
{
    CK_V(simd_i8x16_narrow_i16x8_s(I16(128, -129, 127, -128, 300, -300, 0, -1),
                                   I16(32767, -32768, 1, 2, 3, 4, 5, 6)),
         I8(127, -128, 127, -128, 127, -128, 0, -1, 127, -128, 1, 2, 3, 4, 5, 6));
    /* unsigned narrowing reads signed input: -1 saturates to 0 (suite:
       simd_conversions.wast:381), 256 to 255 */
    CK_V(simd_i8x16_narrow_i16x8_u(I16(-1, 256, 255, 0, -32768, 32767, 128, 1),
                                   I16(0, -1, 1000, 2, 3, 4, 5, 6)),
         U8(0, 255, 255, 0, 0, 255, 128, 1, 0, 0, 255, 2, 3, 4, 5, 6));
    CK_V(simd_i16x8_narrow_i32x4_s(I32(32768, -32769, INT32_MAX, INT32_MIN), I32(-1, 32767, -32768, 5)),
         I16(32767, -32768, 32767, -32768, -1, 32767, -32768, 5));
    CK_V(simd_i16x8_narrow_i32x4_u(I32(-1, 65536, 65535, INT32_MIN), I32(INT32_MAX, 32768, 0, 7)),
         U16(0, 65535, 65535, 0, 65535, 32768, 0, 7));
}
END_TEST

START_TEST(int_shifts)
{
    lw_v128 b = I8(-128, -64, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
    /* suite: simd_bit_shift.wast:136 */
    CK_V(simd_i8x16_shr_s(b, 1), U8(192, 224, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6));
    /* counts are taken modulo the lane width */
    CK_V(simd_i8x16_shr_s(b, 9), simd_i8x16_shr_s(b, 1));
    CK_V(simd_i8x16_shr_s(b, 8), b);
    CK_V(simd_i8x16_shr_u(b, 1), U8(64, 96, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6));
    CK_V(simd_i8x16_shr_u(b, 0xffffffffu), simd_i8x16_shr_u(b, 7));
    CK_V(simd_i8x16_shr_u(b, 7), U8(1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i8x16_shl(b, 1), U8(0, 128, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26));
    CK_V(simd_i8x16_shl(b, 16), b);
    CK_V(simd_i8x16_shl(b, 7), U8(0, 0, 0, 128, 0, 128, 0, 128, 0, 128, 0, 128, 0, 128, 0, 128));
    lw_v128 h = I16(-32768, -1, 1, 0x4000, 3, 0, 0, 0x7fff);
    CK_V(simd_i16x8_shl(h, 17), I16(0, -2, 2, -32768, 6, 0, 0, -2));
    CK_V(simd_i16x8_shl(h, 16), h);
    CK_V(simd_i16x8_shr_s(h, 15), I16(-1, -1, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i16x8_shr_s(h, 31), I16(-1, -1, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i16x8_shr_u(h, 15), I16(1, 1, 0, 0, 0, 0, 0, 0));
    CK_V(simd_i16x8_shr_u(h, 33), U16(0x4000, 0x7fff, 0, 0x2000, 1, 0, 0, 0x3fff));
    lw_v128 w = I32(INT32_MIN, -1, 1, 0x40000000);
    CK_V(simd_i32x4_shl(w, 33), I32(0, -2, 2, INT32_MIN));
    CK_V(simd_i32x4_shl(w, 32), w);
    CK_V(simd_i32x4_shr_s(w, 31), I32(-1, -1, 0, 0));
    CK_V(simd_i32x4_shr_s(w, 0xffffffffu), I32(-1, -1, 0, 0));
    CK_V(simd_i32x4_shr_u(w, 31), I32(1, 1, 0, 0));
    CK_V(simd_i32x4_shr_u(w, 64 + 4), U32(0x08000000u, 0x0fffffffu, 0, 0x04000000u));
    lw_v128 q = I64(INT64_MIN, 3);
    CK_V(simd_i64x2_shl(q, 64), q);
    CK_V(simd_i64x2_shl(q, 65), I64(0, 6));
    CK_V(simd_i64x2_shl(q, 63), U64(0, 1ull << 63));
    CK_V(simd_i64x2_shr_s(q, 63), I64(-1, 0));
    CK_V(simd_i64x2_shr_s(q, 127), I64(-1, 0));
    CK_V(simd_i64x2_shr_u(q, 63), I64(1, 0));
    CK_V(simd_i64x2_shr_u(q, 1 + 64 * 5), U64(1ull << 62, 1));
}
END_TEST

/* ---- floating point ---- */

START_TEST(float_arith)
{
    CK_V(simd_f32x4_add(F32(1.5f, -0.0f, INFINITY, 3e38f), F32(2.25f, -0.0f, 1.0f, 3e38f)),
         F32(3.75f, -0.0f, INFINITY, INFINITY));
    CK_V(simd_f32x4_sub(F32(1.0f, 0.0f, 3.0f, -1.0f), F32(0.5f, 0.0f, 5.0f, -1.0f)), F32(0.5f, 0.0f, -2.0f, 0.0f));
    CK_V(simd_f32x4_mul(F32(1.5f, -2.0f, 0.0f, 3.0f), F32(2.0f, 0.0f, -1.0f, 3.0f)), F32(3.0f, -0.0f, -0.0f, 9.0f));
    CK_V(simd_f32x4_div(F32(1.0f, -1.0f, 0.0f, 9.0f), F32(0.0f, 0.0f, -1.0f, 4.0f)),
         F32(INFINITY, -INFINITY, -0.0f, 2.25f));
    CK_V(simd_f64x2_add(F64(0.1, -0.0), F64(0.2, -0.0)), F64(0.1 + 0.2, -0.0));
    CK_V(simd_f64x2_sub(F64(1.0, -1.0), F64(0.25, -1.0)), F64(0.75, 0.0));
    CK_V(simd_f64x2_mul(F64(1e300, -3.0), F64(1e300, 2.0)), F64(INFINITY, -6.0));
    CK_V(simd_f64x2_div(F64(1.0, 7.0), F64(-0.0, 2.0)), F64(-INFINITY, 3.5));
    CK_V(simd_f32x4_sqrt(F32(4.0f, 2.0f, -0.0f, INFINITY)), F32(2.0f, sqrtf(2.0f), -0.0f, INFINITY));
    CK_V(simd_f64x2_sqrt(F64(0.25, 2.0)), F64(0.5, sqrt(2.0)));
    /* invalid operations give a NaN (any, quiet) */
    lw_v128 n = simd_f32x4_div(F32(0.0f, 1.0f, INFINITY, 0.0f), F32(0.0f, 1.0f, INFINITY, 1.0f));
    CK_QNAN32(n, 0);
    CK_QNAN32(n, 2);
    n = simd_f32x4_sub(F32(INFINITY, 0, 0, 0), F32(INFINITY, 0, 0, 0));
    CK_QNAN32(n, 0);
    n = simd_f32x4_sqrt(F32(-1.0f, SNAN32, 0, 0));
    CK_QNAN32(n, 0);
    CK_QNAN32(n, 1);
    lw_v128 m = simd_f64x2_mul(launder(F64(0.0, SNAN64)), launder(F64(INFINITY, 1.0)));
    CK_QNAN64(m, 0);
    CK_QNAN64(m, 1);
    m = simd_f64x2_sqrt(F64(-INFINITY, 4.0));
    CK_QNAN64(m, 0);
    /* abs and neg only touch the sign bit, payload kept, even for NaN */
    CK_V(simd_f32x4_neg(U32(0x7fc01234u, 0, 0x80000000u, 0x3f800000u)),
         U32(0xffc01234u, 0x80000000u, 0, 0xbf800000u));
    CK_V(simd_f32x4_abs(U32(0xffa00001u, 0x80000000u, 0xbf800000u, 0x7f800000u)),
         U32(0x7fa00001u, 0, 0x3f800000u, 0x7f800000u));
    CK_V(simd_f64x2_neg(U64(0x7ff4000000000001ull, 0)), U64(0xfff4000000000001ull, 0x8000000000000000ull));
    CK_V(simd_f64x2_abs(U64(0xfff8000000000000ull, 0x8000000000000000ull)), U64(0x7ff8000000000000ull, 0));
}
END_TEST

START_TEST(float_min_max)
{
    /* -0 < +0 in both operand orders (suite: simd_f32x4.wast:145) */
    CK_V(simd_f32x4_min(F32(-0.0f, 0.0f, -0.0f, 0.0f), F32(0.0f, -0.0f, -0.0f, 0.0f)),
         F32(-0.0f, -0.0f, -0.0f, 0.0f));
    CK_V(simd_f32x4_max(F32(-0.0f, 0.0f, -0.0f, 0.0f), F32(0.0f, -0.0f, -0.0f, 0.0f)),
         F32(0.0f, 0.0f, -0.0f, 0.0f));
    CK_V(simd_f32x4_min(F32(1.0f, -INFINITY, 3.0f, -5.0f), F32(2.0f, 0.0f, INFINITY, -6.0f)),
         F32(1.0f, -INFINITY, 3.0f, -6.0f));
    CK_V(simd_f32x4_max(F32(1.0f, -INFINITY, 3.0f, -5.0f), F32(2.0f, 0.0f, INFINITY, -6.0f)),
         F32(2.0f, 0.0f, INFINITY, -5.0f));
    /* a NaN in either position gives a NaN, even against infinities */
    lw_v128 r = simd_f32x4_min(F32(NAN32, 1.0f, PNAN32, -INFINITY), F32(1.0f, NAN32, 0.0f, SNAN32));
    for (int i = 0; i < 4; i++)
        CK_QNAN32(r, i);
    r = simd_f32x4_max(F32(NAN32, 1.0f, SNAN32, INFINITY), F32(-1.0f, NAN32, 0.0f, PNAN32));
    for (int i = 0; i < 4; i++)
        CK_QNAN32(r, i);
    /* a canonical NaN operand (with a non-NaN) gives a canonical NaN */
    r = simd_f32x4_min(F32(NAN32, 1.0f, 0, 0), F32(1.0f, NAN32, 0, 0));
    ck_assert_uint_eq(((lw_u32x4)r)[0] & 0x7fffffffu, 0x7fc00000u);
    ck_assert_uint_eq(((lw_u32x4)r)[1] & 0x7fffffffu, 0x7fc00000u);

    CK_V(simd_f64x2_min(F64(-0.0, 0.0), F64(0.0, -0.0)), F64(-0.0, -0.0));
    CK_V(simd_f64x2_max(F64(-0.0, 0.0), F64(0.0, -0.0)), F64(0.0, 0.0));
    CK_V(simd_f64x2_min(F64(1.0, -1.0), F64(2.0, -2.0)), F64(1.0, -2.0));
    CK_V(simd_f64x2_max(F64(1.0, -1.0), F64(2.0, -2.0)), F64(2.0, -1.0));
    lw_v128 d = simd_f64x2_min(F64(NAN64, -INFINITY), F64(-INFINITY, SNAN64));
    CK_QNAN64(d, 0);
    CK_QNAN64(d, 1);
    d = simd_f64x2_max(F64(INFINITY, SNAN64), F64(NAN64, INFINITY));
    CK_QNAN64(d, 0);
    CK_QNAN64(d, 1);
}
END_TEST

START_TEST(float_pmin_pmax)
{
    /* pmin(a,b) = b < a ? b : a: a comes back bit for bit when either is NaN */
    lw_v128 a = U32(0x7fc01234u, 0x3f800000u, 0x80000000u, 0x00000000u);   /* nan:0x1234, 1, -0, +0 */
    lw_v128 b = U32(0x00000000u, 0xffa00000u, 0x00000000u, 0x80000000u);   /* 0, -snan, +0, -0 */
    CK_V(simd_f32x4_pmin(a, b), a);
    CK_V(simd_f32x4_pmax(a, b), a);
    CK_V(simd_f32x4_pmin(b, a), b);
    CK_V(simd_f32x4_pmax(b, a), b);
    CK_V(simd_f32x4_pmin(F32(1.0f, 2.0f, -1.0f, INFINITY), F32(2.0f, 1.0f, -INFINITY, 0.0f)),
         F32(1.0f, 1.0f, -INFINITY, 0.0f));
    CK_V(simd_f32x4_pmax(F32(1.0f, 2.0f, -1.0f, INFINITY), F32(2.0f, 1.0f, -INFINITY, 0.0f)),
         F32(2.0f, 2.0f, -1.0f, INFINITY));
    /* suite: simd_f32x4_pmin_pmax.wast:4809 (nan against 0 gives the nan) */
    CK_V(simd_f32x4_pmin(simd_f32x4_splat(NAN32), simd_f32x4_splat(0.0f)), simd_f32x4_splat(NAN32));
    lw_v128 c = U64(0x7ff8000000000abcull, 0x8000000000000000ull);   /* nan:0xabc, -0 */
    lw_v128 e = U64(0x3ff0000000000000ull, 0x0000000000000000ull);   /* 1, +0 */
    CK_V(simd_f64x2_pmin(c, e), c);
    CK_V(simd_f64x2_pmax(c, e), c);
    CK_V(simd_f64x2_pmin(e, c), e);
    CK_V(simd_f64x2_pmax(e, c), e);
    CK_V(simd_f64x2_pmin(F64(3.0, -1.0), F64(2.0, 5.0)), F64(2.0, -1.0));
    CK_V(simd_f64x2_pmax(F64(3.0, -1.0), F64(2.0, 5.0)), F64(3.0, 5.0));
}
END_TEST

START_TEST(float_rounding)
{
    CK_V(simd_f32x4_ceil(F32(-0.5f, 0.5f, -0.0f, 1.0001f)), F32(-0.0f, 1.0f, -0.0f, 2.0f));
    CK_V(simd_f32x4_floor(F32(-0.5f, 0.5f, -0.0f, -1.0001f)), F32(-1.0f, 0.0f, -0.0f, -2.0f));
    CK_V(simd_f32x4_trunc(F32(-0.5f, 1.9f, -1.9f, 8388609.0f)), F32(-0.0f, 1.0f, -1.0f, 8388609.0f));
    /* ties to even, sign kept (suite: simd_f32x4_rounding.wast:287,289) */
    CK_V(simd_f32x4_nearest(F32(0.5f, -0.5f, 1.5f, 2.5f)), F32(0.0f, -0.0f, 2.0f, 2.0f));
    CK_V(simd_f32x4_nearest(F32(-1.5f, -2.5f, 3.5f, 0.49999997f)), F32(-2.0f, -2.0f, 4.0f, 0.0f));
    CK_V(simd_f32x4_nearest(F32(8388609.0f, -INFINITY, INFINITY, -0.0f)),
         F32(8388609.0f, -INFINITY, INFINITY, -0.0f));
    CK_V(simd_f64x2_ceil(F64(-0.5, 4503599627370497.0)), F64(-0.0, 4503599627370497.0));
    CK_V(simd_f64x2_floor(F64(-0.5, 0.5)), F64(-1.0, 0.0));
    CK_V(simd_f64x2_trunc(F64(-0.9, 2.9)), F64(-0.0, 2.0));
    CK_V(simd_f64x2_nearest(F64(2.5, -0.5)), F64(2.0, -0.0));
    CK_V(simd_f64x2_nearest(F64(3.5, 4503599627370497.0)), F64(4.0, 4503599627370497.0));
    /* NaNs stay NaN, and come out quiet: glibc's ceilf(sNaN) would not */
    lw_v128 (*const f32ops[])(lw_v128) = { simd_f32x4_ceil, simd_f32x4_floor, simd_f32x4_trunc,
                                           simd_f32x4_nearest };
    for (int k = 0; k < 4; k++) {
        lw_v128 r = f32ops[k](F32(SNAN32, NAN32, PNAN32, ffrom(0xff800001u)));
        for (int i = 0; i < 4; i++)
            CK_QNAN32(r, i);
    }
    lw_v128 (*const f64ops[])(lw_v128) = { simd_f64x2_ceil, simd_f64x2_floor, simd_f64x2_trunc,
                                           simd_f64x2_nearest };
    for (int k = 0; k < 4; k++) {
        lw_v128 r = f64ops[k](F64(SNAN64, NAN64));
        CK_QNAN64(r, 0);
        CK_QNAN64(r, 1);
    }
}
END_TEST

/* ---- conversions ---- */

START_TEST(trunc_sat)
{
    CK_V(simd_i32x4_trunc_sat_f32x4_s(F32(NAN32, -NAN32, INFINITY, -INFINITY)), I32(0, 0, INT32_MAX, INT32_MIN));
    /* suite: simd_i32x4_trunc_sat_f32x4.wast:28-32 */
    CK_V(simd_i32x4_trunc_sat_f32x4_s(F32(-2147483520.0f, 2147483648.0f, -2147483648.0f, 4294967294.0f)),
         I32(-2147483520, INT32_MAX, INT32_MIN, INT32_MAX));
    CK_V(simd_i32x4_trunc_sat_f32x4_s(F32(2147483520.0f, -2147483904.0f, 1.9f, -1.9f)),
         I32(2147483520, INT32_MIN, 1, -1));
    CK_V(simd_i32x4_trunc_sat_f32x4_s(F32(-0.0f, SNAN32, 0.99999994f, -0.99999994f)), I32(0, 0, 0, 0));
    CK_V(simd_i32x4_trunc_sat_f32x4_u(F32(NAN32, -1.0f, INFINITY, -INFINITY)), U32(0, 0, UINT32_MAX, 0));
    CK_V(simd_i32x4_trunc_sat_f32x4_u(F32(-0.9f, 4294967040.0f, 4294967296.0f, 2147483648.0f)),
         U32(0, 4294967040u, UINT32_MAX, 0x80000000u));
    CK_V(simd_i32x4_trunc_sat_f32x4_u(F32(1.9f, 1e30f, -1e30f, PNAN32)), U32(1, UINT32_MAX, 0, 0));

    CK_V(simd_i32x4_trunc_sat_f64x2_s_zero(F64(NAN64, INFINITY)), I32(0, INT32_MAX, 0, 0));
    CK_V(simd_i32x4_trunc_sat_f64x2_s_zero(F64(2147483647.9, -2147483648.9)), I32(INT32_MAX, INT32_MIN, 0, 0));
    CK_V(simd_i32x4_trunc_sat_f64x2_s_zero(F64(2147483648.0, -2147483649.0)), I32(INT32_MAX, INT32_MIN, 0, 0));
    CK_V(simd_i32x4_trunc_sat_f64x2_s_zero(F64(-1.5, -INFINITY)), I32(-1, INT32_MIN, 0, 0));
    CK_V(simd_i32x4_trunc_sat_f64x2_u_zero(F64(4294967295.9, 4294967296.0)), U32(UINT32_MAX, UINT32_MAX, 0, 0));
    CK_V(simd_i32x4_trunc_sat_f64x2_u_zero(F64(-0.9, NAN64)), U32(0, 0, 0, 0));
    CK_V(simd_i32x4_trunc_sat_f64x2_u_zero(F64(-INFINITY, 3.99)), U32(0, 3, 0, 0));
}
END_TEST

START_TEST(convert_demote_promote)
{
    /* round to nearest, ties to even, above 2^24 */
    CK_V(simd_f32x4_convert_i32x4_s(I32(INT32_MIN, 16777217, 16777219, -16777217)),
         F32(-2147483648.0f, 16777216.0f, 16777220.0f, -16777216.0f));
    CK_V(simd_f32x4_convert_i32x4_s(I32(INT32_MAX, -1, 0, 1)), F32(2147483648.0f, -1.0f, 0.0f, 1.0f));
    CK_V(simd_f32x4_convert_i32x4_u(U32(0xffffffffu, 0x80000000u, 16777217, 0x80000080u)),
         F32(4294967296.0f, 2147483648.0f, 16777216.0f, 2147483648.0f));
    /* 2^31 + 384 is a tie between 2^31 + 256 (odd) and 2^31 + 512 (even) */
    CK_V(simd_f32x4_convert_i32x4_u(U32(0x80000081u, 0x80000180u, 0, 1)),
         F32(2147483904.0f, 2147484160.0f, 0.0f, 1.0f));
    CK_V(simd_f64x2_convert_low_i32x4_s(I32(INT32_MIN, -1, 5, 6)), F64(-2147483648.0, -1.0));
    CK_V(simd_f64x2_convert_low_i32x4_u(I32(INT32_MIN, -1, 5, 6)), F64(2147483648.0, 4294967295.0));

    CK_V(simd_f32x4_demote_f64x2_zero(F64(1e300, -0.0)), F32(INFINITY, -0.0f, 0.0f, 0.0f));
    CK_V(simd_f32x4_demote_f64x2_zero(F64(1.0 / 3.0, -1e-300)), F32(1.0f / 3.0f, -0.0f, 0.0f, 0.0f));
    /* rounds to nearest even: 1 + 2^-24 is a tie between 1 and 1 + 2^-23 */
    CK_V(simd_f32x4_demote_f64x2_zero(F64(1.0 + 0x1p-24, 1.0 + 0x1p-24 + 0x1p-40)),
         F32(1.0f, 1.0f + 0x1p-23f, 0.0f, 0.0f));
    lw_v128 n = simd_f32x4_demote_f64x2_zero(F64(NAN64, SNAN64));
    CK_QNAN32(n, 0);
    CK_QNAN32(n, 1);
    ck_assert_uint_eq(((lw_u32x4)n)[0], 0x7fc00000u);   /* canonical in, canonical out */
    ck_assert_uint_eq(((lw_u64x2)n)[1], 0);

    CK_V(simd_f64x2_promote_low_f32x4(F32(0.1f, -0.0f, 7.0f, 8.0f)), F64((double)0.1f, -0.0));
    CK_V(simd_f64x2_promote_low_f32x4(F32(INFINITY, 0x1p-149f, 0, 0)), F64(INFINITY, 0x1p-149));
    lw_v128 p = simd_f64x2_promote_low_f32x4(F32(NAN32, SNAN32, 0, 0));
    CK_QNAN64(p, 0);
    CK_QNAN64(p, 1);
    ck_assert_uint_eq(((lw_u64x2)p)[0], 0x7ff8000000000000ull);
}
END_TEST

/* ---- memory ---- */

START_TEST(extending_splat_zero_loads)
{
    const uint8_t m[16] = { 0x80, 0x7f, 0xff, 0x01, 0x00, 0x80, 0xfe, 0xff,
                            0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x22 };
    CK_V(simd_v128_load8x8_s(m), I16(-128, 127, -1, 1, 0, -128, -2, -1));
    CK_V(simd_v128_load8x8_u(m), I16(128, 127, 255, 1, 0, 128, 254, 255));
    CK_V(simd_v128_load16x4_s(m), I32(0x7f80, 0x01ff, -32768, -2));
    CK_V(simd_v128_load16x4_u(m), I32(0x7f80, 0x01ff, 0x8000, 0xfffe));
    CK_V(simd_v128_load32x2_s(m), I64(0x01ff7f80, (int32_t)0xfffe8000u));
    CK_V(simd_v128_load32x2_u(m), I64(0x01ff7f80, 0xfffe8000ll));
    CK_V(simd_v128_load8_splat(m + 1), simd_i8x16_splat(0x7f));
    CK_V(simd_v128_load16_splat(m + 1), simd_i16x8_splat(0xff7f));
    CK_V(simd_v128_load32_splat(m + 3), simd_i32x4_splat(0xfe800001u));
    CK_V(simd_v128_load64_splat(m + 8), simd_i64x2_splat(0x2211ffeeddccbbaaull));
    CK_V(simd_v128_load32_zero(m + 8), U32(0xddccbbaau, 0, 0, 0));
    CK_V(simd_v128_load64_zero(m + 8), U64(0x2211ffeeddccbbaaull, 0));
}
END_TEST

START_TEST(lane_loads_stores)
{
    lw_v128 v = U8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const uint8_t m[8] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7 };
    CK_V(simd_v128_load8_lane(m, v, 15), U8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xa0));
    CK_V(simd_v128_load16_lane(m, v, 1), U8(0, 1, 0xa0, 0xa1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    CK_V(simd_v128_load32_lane(m, v, 3), U8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xa0, 0xa1, 0xa2, 0xa3));
    CK_V(simd_v128_load64_lane(m, v, 0), U8(0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                            8, 9, 10, 11, 12, 13, 14, 15));
    uint8_t out[10];
    memset(out, 0xee, sizeof out);
    simd_v128_store8_lane(out + 1, v, 9);
    ck_assert_uint_eq(out[0], 0xee);
    ck_assert_uint_eq(out[1], 9);
    ck_assert_uint_eq(out[2], 0xee);
    simd_v128_store16_lane(out + 1, v, 7);
    ck_assert_uint_eq(out[1], 14);
    ck_assert_uint_eq(out[2], 15);
    ck_assert_uint_eq(out[3], 0xee);
    simd_v128_store32_lane(out + 1, v, 2);
    const uint8_t w32[6] = { 0xee, 8, 9, 10, 11, 0xee };
    ck_assert_int_eq(memcmp(out, w32, 6), 0);
    simd_v128_store64_lane(out + 1, v, 1);
    const uint8_t w64[10] = { 0xee, 8, 9, 10, 11, 12, 13, 14, 15, 0xee };
    ck_assert_int_eq(memcmp(out, w64, 10), 0);
}
END_TEST

/* ---- the lists against the opcode table ---- */

enum { K_UN, K_BIN, K_TERN, K_TEST, K_SHIFT, K_SPLAT, K_EXTRACT, K_REPLACE, K_LOAD, K_LLOAD, K_LSTORE, K_HAND };

struct listed { const char *id, *fn; int kind; char scalar; int bytes; };

#define E_UN(id, fn) { #id, #fn, K_UN, 0, 0 },
#define E_BIN(id, fn) { #id, #fn, K_BIN, 0, 0 },
#define E_TERN(id, fn) { #id, #fn, K_TERN, 0, 0 },
#define E_TEST(id, fn) { #id, #fn, K_TEST, 0, 0 },
#define E_SHIFT(id, fn) { #id, #fn, K_SHIFT, 0, 0 },
#define E_SPLAT(id, fn, k) { #id, #fn, K_SPLAT, #k[0], 0 },
#define E_EXTRACT(id, fn, k) { #id, #fn, K_EXTRACT, #k[0], 0 },
#define E_REPLACE(id, fn, k) { #id, #fn, K_REPLACE, #k[0], 0 },
#define E_LOAD(id, fn, n) { #id, #fn, K_LOAD, 0, n },
#define E_LLOAD(id, fn, n) { #id, #fn, K_LLOAD, 0, n },
#define E_LSTORE(id, fn, n) { #id, #fn, K_LSTORE, 0, n },

static const struct listed listed[] = {
    LW_SIMD_UNOPS(E_UN) LW_SIMD_BINOPS(E_BIN) LW_SIMD_TERNOPS(E_TERN) LW_SIMD_TESTS(E_TEST)
    LW_SIMD_SHIFTS(E_SHIFT) LW_SIMD_SPLATS(E_SPLAT) LW_SIMD_EXTRACTS(E_EXTRACT)
    LW_SIMD_REPLACES(E_REPLACE) LW_SIMD_LOADS(E_LOAD) LW_SIMD_LANE_LOADS(E_LLOAD)
    LW_SIMD_LANE_STORES(E_LSTORE)
    /* the four the interpreter writes out by hand */
    { "V128_LOAD", "simd_v128_load", K_HAND, 0, 16 },
    { "V128_STORE", "simd_v128_store", K_HAND, 0, 16 },
    { "V128_CONST", NULL, K_HAND, 0, 0 },
    { "I8X16_SHUFFLE", "simd_i8x16_shuffle", K_HAND, 0, 0 },
};
#define N_LISTED (sizeof listed / sizeof listed[0])

struct row { const char *id, *text; unsigned code; const char *imm, *sig; };

static const struct row rows[] = {
#define OP(id, text, prefix, code, imm, sig)
#define OPV(id, text, code, imm, sig) { #id, text, code, #imm, sig },
#include "decode/opcodes.def"
#undef OPV
#undef OP
};
#define N_ROWS (sizeof rows / sizeof rows[0])

/* The list entries type-check against the handlers' call shapes. */
#define FNPTR(id, fn, ...) fn,
static lw_v128 (*const unop_fns[])(lw_v128) = { LW_SIMD_UNOPS(FNPTR) };
static lw_v128 (*const binop_fns[])(lw_v128, lw_v128) = { LW_SIMD_BINOPS(FNPTR) };
static lw_v128 (*const ternop_fns[])(lw_v128, lw_v128, lw_v128) = { LW_SIMD_TERNOPS(FNPTR) };
static uint32_t (*const test_fns[])(lw_v128) = { LW_SIMD_TESTS(FNPTR) };
static lw_v128 (*const shift_fns[])(lw_v128, uint32_t) = { LW_SIMD_SHIFTS(FNPTR) };
static lw_v128 (*const loads[])(const uint8_t *) = { LW_SIMD_LOADS(FNPTR) };
static lw_v128 (*const lane_loads[])(const uint8_t *, lw_v128, uint32_t) = { LW_SIMD_LANE_LOADS(FNPTR) };
static void (*const lane_stores[])(uint8_t *, lw_v128, uint32_t) = { LW_SIMD_LANE_STORES(FNPTR) };
#define NBYTES(id, fn, n) n,
static const int load_bytes[] = { LW_SIMD_LOADS(NBYTES) };
static const int lane_load_bytes[] = { LW_SIMD_LANE_LOADS(NBYTES) };
static const int lane_store_bytes[] = { LW_SIMD_LANE_STORES(NBYTES) };

START_TEST(lists_match_opcode_table)
{
    ck_assert_uint_eq(N_ROWS, 236);
    ck_assert_uint_eq(N_LISTED, 236);
    for (size_t r = 0; r < N_ROWS; r++) {
        const struct row *row = &rows[r];
        int found = -1;
        for (size_t i = 0; i < N_LISTED; i++)
            if (strcmp(listed[i].id, row->id) == 0) {
                ck_assert_msg(found < 0, "%s listed twice", row->id);
                found = (int)i;
            }
        ck_assert_msg(found >= 0, "%s is in no list", row->id);
        const struct listed *l = &listed[found];
        /* the function is named after the mnemonic */
        if (l->fn) {
            char want[64] = "simd_";
            for (size_t k = 0; row->text[k]; k++)
                want[5 + k] = row->text[k] == '.' ? '_' : row->text[k];
            ck_assert_str_eq(l->fn, want);
        }
        /* the list agrees with the table's signature and immediate */
        char sig[8];
        switch (l->kind) {
        case K_UN: ck_assert_str_eq(row->sig, "v>v"); ck_assert_str_eq(row->imm, "NONE"); break;
        case K_BIN: ck_assert_str_eq(row->sig, "vv>v"); ck_assert_str_eq(row->imm, "NONE"); break;
        case K_TERN: ck_assert_str_eq(row->sig, "vvv>v"); break;
        case K_TEST: ck_assert_str_eq(row->sig, "v>i"); break;
        case K_SHIFT: ck_assert_str_eq(row->sig, "vi>v"); break;
        case K_SPLAT:
            snprintf(sig, sizeof sig, "%c>v", l->scalar);
            ck_assert_str_eq(row->sig, sig);
            break;
        case K_EXTRACT:
            snprintf(sig, sizeof sig, "v>%c", l->scalar);
            ck_assert_str_eq(row->sig, sig);
            ck_assert_str_eq(row->imm, "LANE");
            break;
        case K_REPLACE:
            snprintf(sig, sizeof sig, "v%c>v", l->scalar);
            ck_assert_str_eq(row->sig, sig);
            ck_assert_str_eq(row->imm, "LANE");
            break;
        case K_LOAD: ck_assert_str_eq(row->sig, "i>v"); ck_assert_str_eq(row->imm, "MEMARG"); break;
        case K_LLOAD: ck_assert_str_eq(row->sig, "iv>v"); ck_assert_str_eq(row->imm, "MEMARG_LANE"); break;
        case K_LSTORE: ck_assert_str_eq(row->sig, "iv>"); ck_assert_str_eq(row->imm, "MEMARG_LANE"); break;
        default: break;
        }
        /* table rows are in sub-opcode order */
        if (r > 0)
            ck_assert_uint_lt(rows[r - 1].code, row->code);
    }
}
END_TEST

/*
 * Every memory function on a heap block of exactly its byte count, at the
 * block's end: reading or writing one byte more is an ASan error.  The
 * loads must also read exactly those bytes: changing any of them changes
 * the result.
 */
START_TEST(memory_functions_touch_only_their_bytes)
{
    lw_v128 v = U8(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    for (size_t i = 0; i < sizeof loads / sizeof loads[0]; i++) {
        int n = load_bytes[i];
        uint8_t *p = malloc((size_t)n);
        for (int k = 0; k < n; k++)
            p[k] = (uint8_t)(0x31 + k);
        lw_v128 r = loads[i](p);
        for (int k = 0; k < n; k++) {
            p[k] ^= 0x80;
            lw_v128 r2 = loads[i](p);
            ck_assert_msg(memcmp(&r, &r2, 16) != 0, "load %zu ignores byte %d", i, k);
            p[k] ^= 0x80;
        }
        free(p);
    }
    for (size_t i = 0; i < sizeof lane_loads / sizeof lane_loads[0]; i++) {
        int n = lane_load_bytes[i];
        uint8_t *p = malloc((size_t)n);
        memset(p, 0xc5, (size_t)n);
        for (uint32_t lane = 0; lane < 16u / (uint32_t)n; lane++) {
            lw_v128 r = lane_loads[i](p, v, lane);
            uint8_t rb[16], vb[16];
            memcpy(rb, &r, 16);
            memcpy(vb, &v, 16);
            for (int k = 0; k < 16; k++) {
                int in_lane = k >= (int)lane * n && k < ((int)lane + 1) * n;
                ck_assert_uint_eq(rb[k], in_lane ? 0xc5 : vb[k]);
            }
        }
        free(p);
    }
    for (size_t i = 0; i < sizeof lane_stores / sizeof lane_stores[0]; i++) {
        int n = lane_store_bytes[i];
        uint8_t *p = malloc((size_t)n);
        for (uint32_t lane = 0; lane < 16u / (uint32_t)n; lane++) {
            lane_stores[i](p, v, lane);
            for (int k = 0; k < n; k++)
                ck_assert_uint_eq(p[k], 1 + lane * (uint32_t)n + (uint32_t)k);
        }
        free(p);
    }
    uint8_t *p = malloc(16);
    simd_v128_store(p, v);
    CK_V(simd_v128_load(p), v);
    free(p);
}
END_TEST

/* Smoke: every listed function runs (the interpreter calls them this way). */
START_TEST(every_listed_function_runs)
{
    lw_v128 a = U32(0x3f800000u, 0xc0000000u, 0x7fc00000u, 0x80000001u);
    lw_v128 b = U32(0x40400000u, 0x00000000u, 0xffffffffu, 0x00000007u);
    lw_v128 acc = U64(0, 0);
    for (size_t i = 0; i < sizeof unop_fns / sizeof unop_fns[0]; i++)
        acc ^= unop_fns[i](a);
    for (size_t i = 0; i < sizeof binop_fns / sizeof binop_fns[0]; i++)
        acc ^= binop_fns[i](a, b);
    for (size_t i = 0; i < sizeof ternop_fns / sizeof ternop_fns[0]; i++)
        acc ^= ternop_fns[i](a, b, acc);
    for (size_t i = 0; i < sizeof shift_fns / sizeof shift_fns[0]; i++)
        acc ^= shift_fns[i](a, 200);
    uint32_t t = 0;
    for (size_t i = 0; i < sizeof test_fns / sizeof test_fns[0]; i++)
        t += test_fns[i](a);
    /* any_true 1; all_true 0, 0, 1, 1; bitmasks (top bits of bytes 2, 7,
       10, 15; of i16 lanes 3 and 7; of i32 lanes 1 and 3; of both i64) */
    ck_assert_uint_eq(t, 1 + (0 + 0 + 1 + 1) + (0x8484 + 0x88 + 0xa + 0x3));
    ck_assert_uint_eq(sizeof unop_fns / sizeof unop_fns[0] + sizeof binop_fns / sizeof binop_fns[0] +
                      sizeof ternop_fns / sizeof ternop_fns[0] + sizeof test_fns / sizeof test_fns[0] +
                      sizeof shift_fns / sizeof shift_fns[0] + 6 + 8 + 6 +
                      sizeof loads / sizeof loads[0] + sizeof lane_loads / sizeof lane_loads[0] +
                      sizeof lane_stores / sizeof lane_stores[0], 232);
    (void)acc;
}
END_TEST

static Suite *simd_suite(void)
{
    Suite *s = suite_create("simd");
    TCase *tc = tcase_create("semantics");
    tcase_add_test(tc, load_store_and_lane_order);
    tcase_add_test(tc, splat_extract_replace);
    tcase_add_test(tc, shuffle_swizzle);
    tcase_add_test(tc, bitwise);
    tcase_add_test(tc, all_true_bitmask);
    tcase_add_test(tc, int_compare);
    tcase_add_test(tc, float_compare);
    tcase_add_test(tc, int_add_sub_mul_neg_abs);
    tcase_add_test(tc, saturating);
    tcase_add_test(tc, min_max_avgr);
    tcase_add_test(tc, q15mulr_dot);
    tcase_add_test(tc, extend_extmul_extadd);
    tcase_add_test(tc, narrow);
    tcase_add_test(tc, int_shifts);
    tcase_add_test(tc, float_arith);
    tcase_add_test(tc, float_min_max);
    tcase_add_test(tc, float_pmin_pmax);
    tcase_add_test(tc, float_rounding);
    tcase_add_test(tc, trunc_sat);
    tcase_add_test(tc, convert_demote_promote);
    tcase_add_test(tc, extending_splat_zero_loads);
    tcase_add_test(tc, lane_loads_stores);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("lists");
    tcase_add_test(tl, lists_match_opcode_table);
    tcase_add_test(tl, memory_functions_touch_only_their_bytes);
    tcase_add_test(tl, every_listed_function_runs);
    suite_add_tcase(s, tl);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(simd_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
