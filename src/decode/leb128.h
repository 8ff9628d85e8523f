/*
 * LEB128 readers that hold to the limits of the WebAssembly binary format.
 *
 * An N-bit integer takes at most ceil(N/7) bytes.  In the last allowed byte
 * the bits beyond N must be zero (unsigned) or copies of the sign bit
 * (signed): otherwise the value is "integer too large".  A continuation bit
 * in that byte makes it "integer representation too long".  The payload is
 * checked before the continuation bit, as the reference interpreter does, so
 * both conditions report the same message as the spec tests expect.
 *
 * Every reader takes the cursor by address, never reads at or past `end`,
 * and advances the cursor only on success.
 */
#ifndef LEONARDO_LEB128_H
#define LEONARDO_LEB128_H

#include <stdint.h>

enum { LEB_OK = 0, LEB_END, LEB_TOO_LONG, LEB_TOO_LARGE };

/* Unsigned, `bits` <= 64 significant bits. */
static inline int leb_unsigned(const uint8_t **pp, const uint8_t *end, unsigned bits, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (p >= end)
            return LEB_END;
        uint8_t b = *p++;
        unsigned left = bits - shift;          /* value bits still to come */
        if (left == 0)
            return LEB_TOO_LONG;
        if (left < 7) {
            if (b & (uint8_t)((0xFFu << left) & 0x7F))
                return LEB_TOO_LARGE;
            if (b & 0x80)
                return LEB_TOO_LONG;
        }
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            break;
    }
    *pp = p;
    *out = v;
    return LEB_OK;
}

/* Signed, `bits` <= 64 significant bits, sign-extended into *out. */
static inline int leb_signed(const uint8_t **pp, const uint8_t *end, unsigned bits, int64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        if (p >= end)
            return LEB_END;
        uint8_t b = *p++;
        unsigned left = bits - shift;
        if (left == 0)
            return LEB_TOO_LONG;
        if (left < 7) {
            /* The unused high bits of the last byte must all equal the sign bit. */
            uint8_t mask = (uint8_t)((0xFFu << (left - 1)) & 0x7F);
            if ((b & mask) != 0 && (b & mask) != mask)
                return LEB_TOO_LARGE;
            if (b & 0x80)
                return LEB_TOO_LONG;
        }
        v |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << shift;
            break;
        }
    }
    *pp = p;
    *out = (int64_t)v;   /* two's complement conversion: GCC defines it */
    return LEB_OK;
}

/* The common cases, with a one-byte fast path. */
static inline int leb_u32(const uint8_t **pp, const uint8_t *end, uint32_t *out)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        *out = *p;
        *pp = p + 1;
        return LEB_OK;
    }
    uint64_t v;
    int r = leb_unsigned(pp, end, 32, &v);
    if (r == LEB_OK)
        *out = (uint32_t)v;
    return r;
}

static inline int leb_s32(const uint8_t **pp, const uint8_t *end, int32_t *out)
{
    int64_t v;
    int r = leb_signed(pp, end, 32, &v);
    if (r == LEB_OK)
        *out = (int32_t)v;
    return r;
}

static inline int leb_s33(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
    return leb_signed(pp, end, 33, out);
}

static inline int leb_s64(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
    return leb_signed(pp, end, 64, out);
}

/* Step over a LEB128 of any length without decoding it (already checked). */
static inline const uint8_t *leb_skip(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p & 0x80))
        p++;
    return p < end ? p + 1 : end;
}

#endif
