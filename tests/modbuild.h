/*
 * A tiny module builder for the check tests: binary modules written byte
 * by byte, so a test shows exactly what the decoder or validator is fed.
 * Header-only; each test program includes it once.
 */
#ifndef LEONARDO_TESTS_MODBUILD_H
#define LEONARDO_TESTS_MODBUILD_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *d;
    size_t n, cap;
} Buf;

static inline void put(Buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
        ck_assert_ptr_nonnull(b->d);
    }
    if (n)
        memcpy(b->d + b->n, p, n);
    b->n += n;
}

static inline void put_u32(Buf *b, uint32_t v)
{
    do {
        uint8_t x = v & 0x7F;
        v >>= 7;
        if (v)
            x |= 0x80;
        put(b, &x, 1);
    } while (v);
}

/* Append section `id` holding `c`, and empty `c` for the next one. */
static inline void section(Buf *m, uint8_t id, Buf *c)
{
    put(m, &id, 1);
    put_u32(m, (uint32_t)c->n);
    put(m, c->d, c->n);
    c->n = 0;
}

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

#endif
