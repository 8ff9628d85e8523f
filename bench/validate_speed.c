/*
 * How fast module_decode + module_validate get through code.
 *
 * Builds a large synthetic module in memory (many functions of straight-line
 * integer and float arithmetic, locals, loads, nested blocks, loops and
 * br_if), decodes and validates it several times and prints the best rate:
 *
 *   bench validate_mb_per_s <value> MB/s
 *
 * MB are 10^6 bytes of the whole binary, nearly all of which is code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode/module.h"

typedef struct {
    uint8_t *data;
    size_t len, cap;
} Buf;

static void put(Buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data) {
            perror("realloc");
            exit(1);
        }
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u32(Buf *b, uint32_t v)
{
    do {
        uint8_t byte = v & 0x7F;
        v >>= 7;
        if (v)
            byte |= 0x80;
        put(b, &byte, 1);
    } while (v);
}

static void put_section(Buf *out, uint8_t id, const Buf *content)
{
    put(out, &id, 1);
    put_u32(out, (uint32_t)content->len);
    put(out, content->data, content->len);
}

/* One repetition of the body pattern.  Locals: 0,1 params i32; 2,3 i32;
   4,5 i64; 6 f64. */
static const uint8_t pattern[] = {
    0x02, 0x40,                         /* block */
    0x20, 0x00, 0x20, 0x01, 0x6A,       /*   local.get 0, local.get 1, i32.add */
    0x41, 0xE4, 0x00, 0x6C,             /*   i32.const 100, i32.mul */
    0x22, 0x02, 0x45, 0x0D, 0x00,       /*   local.tee 2, i32.eqz, br_if 0 */
    0x20, 0x02, 0xAD,                   /*   local.get 2, i64.extend_i32_u */
    0x42, 0x07, 0x7E, 0x21, 0x04,       /*   i64.const 7, i64.mul, local.set 4 */
    0x20, 0x02, 0x28, 0x02, 0x04,       /*   local.get 2, i32.load align=4 offset=4 */
    0x21, 0x03,                         /*   local.set 3 */
    0x03, 0x40,                         /*   loop */
    0x20, 0x03, 0x41, 0x01, 0x6B,       /*     local.get 3, i32.const 1, i32.sub */
    0x22, 0x03, 0x0D, 0x00,             /*     local.tee 3, br_if 0 */
    0x0B,                               /*   end */
    0x44, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, /*   f64.const 1.5 */
    0x20, 0x06, 0xA0, 0x21, 0x06,       /*   local.get 6, f64.add, local.set 6 */
    0x20, 0x04, 0x20, 0x05, 0x51,       /*   local.get 4, local.get 5, i64.eq */
    0x04, 0x7F, 0x41, 0x01,             /*   if (result i32) i32.const 1 */
    0x05, 0x41, 0x02, 0x0B,             /*   else i32.const 2 end */
    0x1A,                               /*   drop */
    0x0B,                               /* end */
};

static Buf build_module(uint32_t nfuncs, uint32_t reps)
{
    Buf mod = {0}, sec = {0}, body = {0};
    put(&mod, "\0asm\1\0\0\0", 8);

    /* type 0: (i32 i32) -> i32 */
    put(&sec, "\x01\x60\x02\x7F\x7F\x01\x7F", 7);
    put_section(&mod, 1, &sec);

    sec.len = 0;
    put_u32(&sec, nfuncs);
    for (uint32_t i = 0; i < nfuncs; i++)
        put(&sec, "\x00", 1);
    put_section(&mod, 3, &sec);

    sec.len = 0;
    put(&sec, "\x01\x00\x01", 3);        /* one memory, min 1 page */
    put_section(&mod, 5, &sec);

    /* Every body is the same; build it once. */
    put(&body, "\x03\x02\x7F\x02\x7E\x01\x7C", 7);   /* locals: 2 i32, 2 i64, 1 f64 */
    for (uint32_t r = 0; r < reps; r++)
        put(&body, pattern, sizeof pattern);
    put(&body, "\x20\x02\x0B", 3);                     /* local.get 2, end */

    sec.len = 0;
    put_u32(&sec, nfuncs);
    for (uint32_t i = 0; i < nfuncs; i++) {
        put_u32(&sec, (uint32_t)body.len);
        put(&sec, body.data, body.len);
    }
    put_section(&mod, 10, &sec);

    free(sec.data);
    free(body.data);
    return mod;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    uint32_t nfuncs = argc > 1 ? (uint32_t)atoi(argv[1]) : 2000;
    uint32_t reps = argc > 2 ? (uint32_t)atoi(argv[2]) : 200;
    Buf mod = build_module(nfuncs, reps);

    double best = 1e30;
    for (int run = 0; run < 7; run++) {
        WasmError err;
        double t0 = now();
        Module *m = module_decode(mod.data, mod.len, &err);
        if (!m) {
            fprintf(stderr, "decode failed: %s\n", err.msg);
            return 1;
        }
        if (!module_validate(m, &err)) {
            fprintf(stderr, "validate failed: %s\n", err.msg);
            return 1;
        }
        double t = now() - t0;
        module_free(m);
        if (t < best)
            best = t;
    }
    fprintf(stderr, "module: %u functions, %.1f MB, best of 7: %.3f s\n",
            nfuncs, mod.len / 1e6, best);
    printf("bench validate_mb_per_s %.0f MB/s\n", mod.len / 1e6 / best);
    free(mod.data);
    return 0;
}
