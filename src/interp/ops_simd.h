/*
 * The SIMD handlers, included into interp_run's body (interp.c), like
 * ops_facc.h.  Each is a thin shell: it reads its v128 operands from frame
 * slots (16 bytes, two slots, in a wide frame: see translate.c), calls the
 * instruction's semantics from simd.h, and writes the result back.  The
 * operand layouts are the translator's (op_simd and the generic unary,
 * binary, load and store paths):
 *
 *   unary, test, splat      [dst|a]
 *   binary, shift           [dst|a][b|-]
 *   v128.bitselect          [dst|a][b|c]
 *   v128.const              [dst|-][lo][hi]
 *   i8x16.shuffle           [dst|a][b|-][lanes 0-7][lanes 8-15]
 *   extract_lane            [dst|a][lane|-]
 *   replace_lane            [dst|a][x|lane]
 *   loads                   [dst|addr][offset]
 *   v128.store              [addr|val][offset]
 *   load*_lane              [dst|addr][v|lane][offset]
 *   store*_lane             [addr|v][lane|-][offset]
 *
 * Memory accesses check `ea + width > msize` like every other access, so a
 * pooled memory's touched bound (oob:) applies to them too.
 */

#define V_GET(slot) v128_load(fp + (slot))
#define V_PUT(slot, v) v128_store(fp + (slot), (v))

op_V128_CONST:
    fp[PA(1)] = IMM(2);
    fp[PA(1) + 1] = IMM(3);
    ip += 4;
    NEXT();

#define X(id, fn) \
op_##id: { \
    lw_v128 r_ = fn(V_GET(PB(1))); \
    V_PUT(PA(1), r_); \
    ip += 2; \
    NEXT(); \
}
    LW_SIMD_UNOPS(X)
#undef X

#define X(id, fn) \
op_##id: { \
    lw_v128 r_ = fn(V_GET(PB(1)), V_GET(PA(2))); \
    V_PUT(PA(1), r_); \
    ip += 3; \
    NEXT(); \
}
    LW_SIMD_BINOPS(X)
#undef X

#define X(id, fn) \
op_##id: { \
    lw_v128 r_ = fn(V_GET(PB(1)), V_GET(PA(2)), V_GET(PB(2))); \
    V_PUT(PA(1), r_); \
    ip += 3; \
    NEXT(); \
}
    LW_SIMD_TERNOPS(X)
#undef X

/* v128 -> i32: any_true, all_true, bitmask */
#define X(id, fn) \
op_##id: \
    fp[PA(1)] = (uint32_t)fn(V_GET(PB(1))); \
    ip += 2; \
    NEXT();
    LW_SIMD_TESTS(X)
#undef X

/* v128, i32 count -> v128 */
#define X(id, fn) \
op_##id: { \
    lw_v128 r_ = fn(V_GET(PB(1)), (uint32_t)fp[PA(2)]); \
    V_PUT(PA(1), r_); \
    ip += 3; \
    NEXT(); \
}
    LW_SIMD_SHIFTS(X)
#undef X

op_I8X16_SHUFFLE: {
    uint8_t lanes[16];
    memcpy(lanes, &ip[3].u64, 8);
    memcpy(lanes + 8, &ip[4].u64, 8);
    lw_v128 r_ = simd_i8x16_shuffle(V_GET(PB(1)), V_GET(PA(2)), lanes);
    V_PUT(PA(1), r_);
    ip += 5;
    NEXT();
}

/* Scalars in slots: i32 in the low 32 bits, i64 whole, floats as their bits. */
#define SLOT_GET_i(s) ((uint32_t)fp[s])
#define SLOT_GET_l(s) (fp[s])
#define SLOT_GET_f(s) f32_of((uint32_t)fp[s])
#define SLOT_GET_d(s) f64_of(fp[s])
#define SLOT_PUT_i(s, v) (fp[s] = (uint32_t)(v))
#define SLOT_PUT_l(s, v) (fp[s] = (uint64_t)(v))
#define SLOT_PUT_f(s, v) (fp[s] = bits_f32(v))
#define SLOT_PUT_d(s, v) (fp[s] = bits_f64(v))

#define X(id, fn, k) \
op_##id: { \
    lw_v128 r_ = fn(SLOT_GET_##k(PB(1))); \
    V_PUT(PA(1), r_); \
    ip += 2; \
    NEXT(); \
}
    LW_SIMD_SPLATS(X)
#undef X

#define X(id, fn, k) \
op_##id: \
    SLOT_PUT_##k(PA(1), fn(V_GET(PB(1)), PA(2))); \
    ip += 3; \
    NEXT();
    LW_SIMD_EXTRACTS(X)
#undef X

#define X(id, fn, k) \
op_##id: { \
    lw_v128 r_ = fn(V_GET(PB(1)), PB(2), SLOT_GET_##k(PA(2))); \
    V_PUT(PA(1), r_); \
    ip += 3; \
    NEXT(); \
}
    LW_SIMD_REPLACES(X)
#undef X

/* ---- memory ---- */

op_V128_LOAD: {
    uint64_t ea = (uint32_t)fp[PB(1)] + IMM(2);
    if (UNLIKELY(ea + 16 > msize))
        goto oob;
    lw_v128 r_ = v128_load(mem + ea);
    V_PUT(PA(1), r_);
    ip += 3;
    NEXT();
}
op_V128_STORE: {
    uint64_t ea = (uint32_t)fp[PA(1)] + IMM(2);
    if (UNLIKELY(ea + 16 > msize))
        goto oob;
    v128_store(mem + ea, V_GET(PB(1)));
    ip += 3;
    NEXT();
}

/* The extending, splatting and zero-filling loads read `n` bytes. */
#define X(id, fn, n) \
op_##id: { \
    uint64_t ea = (uint32_t)fp[PB(1)] + IMM(2); \
    if (UNLIKELY(ea + (n) > msize)) \
        goto oob; \
    lw_v128 r_ = fn(mem + ea); \
    V_PUT(PA(1), r_); \
    ip += 3; \
    NEXT(); \
}
    LW_SIMD_LOADS(X)
#undef X

#define X(id, fn, n) \
op_##id: { \
    uint64_t ea = (uint32_t)fp[PB(1)] + IMM(3); \
    if (UNLIKELY(ea + (n) > msize)) \
        goto oob; \
    lw_v128 r_ = fn(mem + ea, V_GET(PA(2)), PB(2)); \
    V_PUT(PA(1), r_); \
    ip += 4; \
    NEXT(); \
}
    LW_SIMD_LANE_LOADS(X)
#undef X

#define X(id, fn, n) \
op_##id: { \
    uint64_t ea = (uint32_t)fp[PA(1)] + IMM(3); \
    if (UNLIKELY(ea + (n) > msize)) \
        goto oob; \
    fn(mem + ea, V_GET(PB(1)), PA(2)); \
    ip += 4; \
    NEXT(); \
}
    LW_SIMD_LANE_STORES(X)
#undef X

#undef SLOT_GET_i
#undef SLOT_GET_l
#undef SLOT_GET_f
#undef SLOT_GET_d
#undef SLOT_PUT_i
#undef SLOT_PUT_l
#undef SLOT_PUT_f
#undef SLOT_PUT_d
#undef V_GET
#undef V_PUT
