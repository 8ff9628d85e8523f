/*
 * A byte scan and a dot product, in wasm SIMD (wasm_simd128.h, built with
 * -msimd128) or in plain scalar C (-DSCALAR): `make bench` runs both
 * builds under leonardo and compares them (bench/simd.sh).  Both print the
 * same checksum.
 *
 *   simd ROUNDS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#ifndef SCALAR
#include <wasm_simd128.h>
#endif

#define N (1 << 20)

static uint8_t text[N];
static int16_t xs[N], ys[N];

/* How many bytes of text equal c. */
static uint32_t count_byte(uint8_t c)
{
    uint32_t n = 0;
#ifdef SCALAR
    for (uint32_t i = 0; i < N; i++)
        n += text[i] == c;
#else
    v128_t want = wasm_i8x16_splat((int8_t)c);
    for (uint32_t i = 0; i < N; i += 16 * 255) {
        /* Count in 8-bit lanes for up to 255 blocks, then widen. */
        v128_t acc = wasm_i8x16_splat(0);
        uint32_t end = i + 16 * 255 < N ? i + 16 * 255 : N;
        for (uint32_t j = i; j < end; j += 16)
            acc = wasm_i8x16_sub(acc, wasm_i8x16_eq(wasm_v128_load(text + j), want));
        v128_t w = wasm_u16x8_extadd_pairwise_u8x16(acc);
        w = wasm_u32x4_extadd_pairwise_u16x8(w);
        n += wasm_u32x4_extract_lane(w, 0) + wasm_u32x4_extract_lane(w, 1) +
             wasm_u32x4_extract_lane(w, 2) + wasm_u32x4_extract_lane(w, 3);
    }
#endif
    return n;
}

/* The dot product of xs and ys, in 64 bits. */
static int64_t dot(void)
{
    int64_t s = 0;
#ifdef SCALAR
    for (uint32_t i = 0; i < N; i++)
        s += (int32_t)xs[i] * ys[i];
#else
    for (uint32_t i = 0; i < N; i += 1024) {
        v128_t acc = wasm_i32x4_splat(0);   /* 1024 products of 2^30 at most: no overflow in 32 bits per lane pair sum */
        for (uint32_t j = i; j < i + 1024; j += 8)
            acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_v128_load(xs + j), wasm_v128_load(ys + j)));
        s += (int64_t)wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) +
             wasm_i32x4_extract_lane(acc, 2) + wasm_i32x4_extract_lane(acc, 3);
    }
#endif
    return s;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    uint32_t seed = 12345;
    for (uint32_t i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        text[i] = (uint8_t)(seed >> 16) % 64;
        xs[i] = (int16_t)(seed >> 8) % 1000;
        ys[i] = (int16_t)(seed >> 12) % 1000;
    }
    uint64_t sum = 0;
    for (int r = 0; r < rounds; r++) {
        sum += count_byte((uint8_t)(r % 64));
        sum += (uint64_t)dot();
        xs[r % N] += 1;
    }
    printf("%llu\n", (unsigned long long)sum);
    return 0;
}
