/*
 * Differential test of the translator's fusions and passes.
 *
 * Each round writes a random function in the text format, shaped like
 * compiled C: address arithmetic feeding loads and stores, a local.tee of
 * an address or of a loaded value, read-modify-writes of memory, float
 * chains with square roots, byte hashes, fill loops (three latches),
 * counted loops with their latches, scans (a partition's `while (a[i] <
 * x) i++`), branches on loaded values, calls and recursion; a quarter of
 * the modules also use v128 somewhere, which gives all their functions
 * wide frames (two slots a value).  Those are the shapes the
 * fusions (src/interp/fuse.c, translate.c) and the passes (passes.c:
 * the float register, pairs, self-loops, forwarding pairs) look for.  The
 * function runs three ways, each in a module of its own so each has its
 * own translation:
 *
 *   - plain: lw_translate_plain set, so no fusion and no pass, only each
 *     instruction's own handler; this is the oracle;
 *   - optimized, straight through;
 *   - optimized, in fuel slices of 1 to 13 units, resumed after each.
 *
 * All three must end the same way (result bits, or trap message), leave
 * the same memory, and run under the same hard fuel limit, so loops end
 * and the instruction count must agree too.  NaNs are avoided where their
 * payload could differ legitimately (what an f64 local or memory gets is
 * never a NaN: gen_f64_bounded), and f64 words of memory compare as equal
 * when both are NaNs all the same.
 *
 *   build/tests/test_fusions                 (2,000 programs, fixed seed)
 *   FUSIONS_PROGRAMS=20000 FUSIONS_SEED=7 build/tests/test_fusions
 *   FUSIONS_ONLY=N ...                       (only program N of that run)
 *   FUSIONS_DUMP=DIR ...                     (each program also to DIR/pN.wat)
 *
 * The programs depend only on the seed, the same on every platform (each
 * out() takes at most one random argument: C leaves the order of a call's
 * arguments open).  `make check-aarch64` runs it under qemu too.
 *
 * A failure prints the program and its arguments; `leonardo run --invoke f
 * FILE ARGS` runs its optimized translation.  What it found when it was
 * written: a float-register load after an add was paired and lost its
 * register (passes.c), and `(local.tee L (load)) op (local.get L)` read
 * L's old value (fuse.c); both have tests in test_translate.c now.
 */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leonardo.h"
#include "decode/wat.h"
#include "interp/translate.h"

/* ---- randomness (xorshift64*) ---- */

static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

static int below(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

/* ---- the program text ---- */

static char *buf;
static size_t len, cap;

static void out(const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(buf + len, cap - len, fmt, ap);
        va_end(ap);
        if ((size_t)n < cap - len) {
            len += (size_t)n;
            return;
        }
        cap = cap * 2 + (size_t)n + 64;
        buf = realloc(buf, cap);
        ck_assert_ptr_nonnull(buf);
    }
}

/*
 * Locals: params 0 (i32 p), 1 (i32 q), 2 (i64), 3 (f64); then i32 4-9,
 * i64 10-11, f64 12-15, and 16-19, i32, the counters of loops (one per
 * nesting level, so an inner loop never resets an outer one's); 20 f64
 * scratch; 21-24, i64, counted loops' 64-bit counts (level + 5 past its
 * i32 counter).
 */
enum { I32_FIRST = 4, I32_N = 6, I64_FIRST = 10, I64_N = 2, F64_FIRST = 12, F64_N = 4, CTR_FIRST = 16 };

static int i32_local(void)
{
    int k = below(I32_N + 2);
    return k < 2 ? k : I32_FIRST + k - 2;
}

static int i64_local(void)
{
    int k = below(I64_N + 1);
    return k == 0 ? 2 : I64_FIRST + k - 1;
}

static int f64_local(void)
{
    int k = below(F64_N + 1);
    return k == 0 ? 3 : F64_FIRST + k - 1;
}

static void gen_i32(int d);
static void gen_i64(int d);
static void gen_f64(int d);
static void gen_f64_bounded(int d);

/*
 * Memory: f64 values live in [0, 1024) and are only ever finite doubles,
 * 8-aligned (so no store can splice a NaN out of two of them: a NaN's
 * payload may legitimately differ between two correct translations, and
 * a byte load would see it); integer stores go to [1024, 2048).  Loads of
 * any width read anywhere.
 */
enum { R_ANY, R_FLOAT, R_INT };

/*
 * An address in `region`, aligned to `align`: mostly a value masked into
 * the region, written as `(i32.add (i32.and x m) (i32.const c))` so the
 * address fusions see their shape; for loads, now and then a raw value,
 * which may trap (all three runs must trap alike).  The caller adds an
 * offset= sometimes (memarg: at most 7 * align).
 */
static void gen_addr(int d, int align, int region)
{
    int base = region == R_INT ? 1024 : 0, mask = region == R_INT ? 504 : region == R_FLOAT ? 504 : 1016;
    mask &= -align;
    switch (below(40)) {
    case 0:
        if (region == R_ANY) {
            gen_i32(d);   /* raw: may be out of bounds */
            return;
        }
        /* fall through */
    case 1: case 2: case 3: case 4:
        out("(i32.add (i32.and (local.get 0) (i32.const %d)) (i32.const %d))", mask, base);
        return;
    case 5: case 6: case 7: case 8:
        out("(local.tee %d (i32.add (i32.and ", i32_local());
        gen_i32(d);
        out(" (i32.const %d)) (i32.const %d)))", mask, base);
        return;
    default:
        out("(i32.add (i32.and ");
        gen_i32(d);
        out(" (i32.const %d)) (i32.const %d))", mask, base + below(16) * align);
        return;
    }
}

static const char *memarg(int align)
{
    static char s[32];
    if (below(3))
        return "";
    snprintf(s, sizeof s, "offset=%d ", below(8) * align);
    return s;
}

static void gen_i32(int d)
{
    static const char *const bin[] = { "add", "sub", "mul", "and", "or", "xor", "shl", "shr_u",
                                       "shr_s", "rotl", "lt_s", "lt_u", "gt_u", "ne", "eq", "le_s" };
    int pick = d <= 0 ? below(3) : below(16);
    switch (pick) {
    case 0: out("(local.get %d)", i32_local()); return;
    case 1: out("(i32.const %d)", below(4) ? below(64) - 8 : (int)(uint32_t)rnd()); return;
    case 2: {
        int l = i32_local();
        out("(i32.add (local.get %d) (i32.const %d))", l, below(9) - 4);
        return;
    }
    case 3: case 4: case 5:
        out("(i32.%s ", bin[below(16)]);
        gen_i32(d - 1);
        out(" ");
        gen_i32(d - 1);
        out(")");
        return;
    case 6: out("(i32.load %s", memarg(4)); gen_addr(d - 1, 4, R_ANY); out(")"); return;
    case 7: out("(i32.load8_u %s", memarg(1)); gen_addr(d - 1, 1, R_ANY); out(")"); return;
    case 8:   /* a hash step on a loaded byte */
        out("(i32.mul (i32.%s ", below(2) ? "xor" : "add");
        gen_i32(d - 1);
        out(" (i32.load8_u %s", memarg(1));
        gen_addr(d - 1, 1, R_ANY);
        out(")) (i32.const %d))", below(2) ? 16777619 : 31);
        return;
    case 9: out("(local.tee %d ", i32_local()); gen_i32(d - 1); out(")"); return;
    case 10: out("(i32.wrap_i64 "); gen_i64(d - 1); out(")"); return;
    case 11: out("(i32.trunc_sat_f64_s "); gen_f64(d - 1); out(")"); return;
    case 12:
        out("(select ");
        gen_i32(d - 1);
        out(" ");
        gen_i32(d - 1);
        out(" ");
        gen_i32(d - 1);
        out(")");
        return;
    case 13:
        if (below(2)) {
            out("(call $h ");
            gen_i32(d - 1);
            out(" ");
            gen_i32(d - 1);
            out(")");
        } else {   /* recursion: calls, returns and the adds around them */
            out("(call $fib (i32.and ");
            gen_i32(d - 1);
            out(" (i32.const 7)))");
        }
        return;
    case 14: out("(i32.eqz "); gen_i32(d - 1); out(")"); return;
    default:   /* a loaded value kept in a local and used */
        out("(i32.add (local.tee %d ", i32_local());
        out("(i32.load %s", memarg(4));
        gen_addr(d - 1, 4, R_ANY);
        out(")) ");
        gen_i32(d - 1);
        out(")");
        return;
    }
}

static void gen_i64(int d)
{
    static const char *const bin[] = { "add", "sub", "mul", "xor", "and", "shr_u" };
    switch (d <= 0 ? below(2) : below(6)) {
    case 0: out("(local.get %d)", i64_local()); return;
    case 1: out("(i64.const %lld)", (long long)(below(2) ? below(100) : (int64_t)rnd())); return;
    case 2: case 3:
        out("(i64.%s ", bin[below(6)]);
        gen_i64(d - 1);
        out(" ");
        gen_i64(d - 1);
        out(")");
        return;
    case 4: out("(i64.extend_i32_u "); gen_i32(d - 1); out(")"); return;
    default: out("(i64.load %s", memarg(8)); gen_addr(d - 1, 8, R_ANY); out(")"); return;
    }
}

/*
 * f64 values stay finite and their NaNs deterministic: operands of sqrt
 * go through abs, divisors are 1 + |x| * x's own square, results are
 * squashed by dividing by (1 + |y|) where they could grow, and loads read
 * memory the program filled with finite values (see the data segment and
 * gen_stmt's stores, which store only these).
 */
static void gen_f64(int d)
{
    switch (d <= 0 ? below(2) : below(10)) {
    case 0: out("(local.get %d)", f64_local()); return;
    case 1: {
        int whole = below(20) - 10;
        out("(f64.const %d.%d)", whole, below(100));
        return;
    }
    case 2: case 3:
        out("(f64.%s ", below(2) ? "add" : below(2) ? "sub" : "mul");
        gen_f64(d - 1);
        out(" ");
        gen_f64(d - 1);
        out(")");
        return;
    case 4: out("(f64.sqrt (f64.abs "); gen_f64(d - 1); out("))"); return;
    case 5:
        out("(f64.div ");
        gen_f64(d - 1);
        out(" (f64.add (f64.const 1) (f64.abs ");
        gen_f64(d - 1);
        out(")))");
        return;
    case 6: out("(f64.load %s", memarg(8)); gen_addr(d - 1, 8, R_FLOAT); out(")"); return;
    case 7: out("(f64.convert_i32_s "); gen_i32(d - 1); out(")"); return;
    case 8:   /* x op load, the loaded value kept by a tee (memory holds finite values only) */
        out("(f64.%s ", below(2) ? "sub" : "mul");
        gen_f64(d - 1);
        out(" (local.tee %d ", f64_local());
        out("(f64.load %s", memarg(8));
        gen_addr(d - 1, 8, R_FLOAT);
        out(")))");
        return;
    default: out("(f64.mul (local.tee %d ", f64_local()); gen_f64_bounded(d - 1); out(") (f64.const 0.5))"); return;
    }
}

/*
 * What goes into an f64 local or memory: a NaN becomes 0 and the rest is
 * clamped to +-1e9, so values stay finite across loop rounds (and a NaN's
 * payload, which two correct translations may choose differently, never
 * reaches memory, where byte loads could see it).  Local 20 is scratch.
 */
static void gen_f64_bounded(int d)
{
    out("(f64.min (f64.const 1e9) (f64.max (f64.const -1e9) (select (local.tee 20 ");
    gen_f64(d);
    out(") (f64.const 0) (f64.eq (local.get 20) (local.get 20)))))");
}

static void gen_stmts(int depth, int n);

static void gen_stmt(int depth)
{
    int lp = CTR_FIRST + depth;   /* this level's loop counter: depth 0-3 */
    /* nesting stops at depth 3: there, simple statements only */
    switch (below(depth >= 3 ? 8 : depth < 2 ? 17 : 12)) {
    case 0: case 1:
        out("(local.set %d ", i32_local());
        gen_i32(3);
        out(")\n");
        return;
    case 2:
        out("(local.set %d ", i64_local());
        gen_i64(2);
        out(")\n");
        return;
    case 3:
        out("(local.set %d ", f64_local());
        gen_f64_bounded(3);
        out(")\n");
        return;
    case 4:
        out("(i32.store%s ", below(2) ? "" : "8");
        out("%s", memarg(4));
        gen_addr(2, 4, R_INT);
        out(" ");
        gen_i32(2);
        out(")\n");
        return;
    case 5:
        out("(f64.store %s", memarg(8));
        gen_addr(2, 8, R_FLOAT);
        out(" ");
        gen_f64_bounded(2);
        out(")\n");
        return;
    case 6: {   /* float read-modify-write: mem op= x * y (* z), x[i] += k * y[j] */
        int a = i32_local(), off = below(4) * 8, shape = below(3);
        out("(f64.store offset=%d (local.tee %d (i32.and ", off, a);
        gen_i32(1);
        out(" (i32.const 504))) (f64.%s (f64.load offset=%d (local.get %d)) ", below(2) ? "add" : "sub", off, a);
        if (shape == 0) {   /* a product of bounded locals (finite), or a local */
            if (below(2)) {
                out("(f64.mul (local.get %d) ", f64_local());
                out("(local.get %d))", f64_local());
            } else {
                out("(local.get %d)", f64_local());
            }
        } else if (shape == 1) {
            out("(f64.mul (f64.mul (local.get %d) ", f64_local());
            out("(local.get %d)) (f64.const 0.25))", f64_local());
        } else {   /* x[i] += k * y[i], y beside x */
            int o = below(8) * 8;
            out("(f64.mul (f64.load offset=%d (local.get %d)) (f64.const %d.5))", o, a, below(5) - 2);
        }
        out("))\n");
        return;
    }
    case 7: {   /* integer read-modify-write: mem += x */
        int a = i32_local();
        out("(i32.store (local.tee %d (i32.add (i32.and ", a);
        gen_i32(1);
        out(" (i32.const 1020)) (i32.const 1024))) (i32.add (i32.load (local.get %d)) ", a);
        if (below(2))
            out("(local.get %d)", i32_local());
        else
            gen_i32(2);
        out("))\n");
        return;
    }
    case 8:   /* branch on a loaded value: a byte, or a word compared */
        if (below(2)) {
            out("(block (br_if 0 (i32.load8_u %s", memarg(1));
            gen_addr(1, 1, R_ANY);
            out("))\n");
        } else {
            static const char *const cmp[] = { "lt_s", "gt_s", "ne", "eq", "lt_u", "ge_s", "le_u" };
            out("(block (br_if 0 (i32.%s ", cmp[below(7)]);
            out("(i32.load %s", memarg(4));
            gen_addr(1, 4, R_ANY);
            out(") ");
            gen_i32(1);
            out("))\n");
        }
        gen_stmts(depth + 1, 1 + below(2));
        out(")\n");
        return;
    case 9:
        out("(if ");
        gen_i32(2);
        out(" (then\n");
        gen_stmts(depth + 1, 1 + below(2));
        out(") (else\n");
        gen_stmts(depth + 1, below(2));
        out("))\n");
        return;
    case 10:   /* a hash over bytes, as in hash.c */
        out("(local.set %d (i32.const %d))\n", lp, below(64) * 4);
        out("(local.set 4 (i32.const -2128831035))\n");
        out("(loop $h%d (local.set 4 (i32.mul (i32.xor (local.get 4) (i32.load8_u (local.get %d)))"
            " (i32.const 16777619)))\n", depth, lp);
        out("  (local.set 4 (i32.mul (i32.%s (local.get 4) (i32.load8_u offset=1 (local.get %d)))"
            " (i32.const 16777619)))\n", below(2) ? "xor" : "add", lp);
        out("  (br_if $h%d (i32.lt_u (local.tee %d (i32.add (local.get %d) (i32.const 2))) (i32.const %d))))\n",
            depth, lp, lp, 256 + below(512));
        return;
    case 11: {   /* a fill loop: store, bump, latch (a self-loop when alone) */
        int w = below(3), size = w == 0 ? 1 : w == 1 ? 4 : 8, latch = below(3);
        const char *st = w == 0 ? "i32.store8" : w == 1 ? "i32.store" : "i64.store";
        int stride = size * (1 + below(5)), end = 1324 + below(700);
        out("(local.set %d (i32.const %d))\n", lp, 1024 + below(32) * size);
        if (latch == 2)   /* a separate count of rounds, counting down */
            out("(local.set 9 (i32.const %d))\n", 1 + (end - 1024) / stride);
        out("(loop $f%d (%s (local.get %d) ", depth, st, lp);
        if (w == 2)
            gen_i64(1);
        else if (below(2))
            gen_i32(1);
        else
            out("(i32.const %d)", below(256));
        out(")\n");
        if (latch == 0) {
            out("  (br_if $f%d (i32.lt_u (local.tee %d (i32.add (local.get %d) (i32.const %d)))"
                " (i32.const %d))))\n", depth, lp, lp, stride, end);
        } else {   /* the bump as its own statement, as sieve's inner loop */
            out("  (local.set %d (i32.add (local.get %d) (i32.const %d)))\n", lp, lp, stride);
            if (latch == 1)
                out("  (br_if $f%d (i32.lt_u (local.get %d) (i32.const %d))))\n", depth, lp, end);
            else
                out("  (br_if $f%d (local.tee 9 (i32.sub (local.get 9) (i32.const 1)))))\n", depth);
        }
        return;
    }
    case 13: {   /* f32 read-modify-writes, in [2048, 2560) (zero, then only finite values) */
        int a = i32_local(), shape = below(3);
        out("(f32.store (local.tee %d (i32.add (i32.and ", a);
        gen_i32(1);
        out(" (i32.const 508)) (i32.const 2048))) (f32.%s (f32.load (local.get %d)) ",
            below(2) ? "add" : "sub", a);
        /* f64 locals are within 1e9: their products stay finite as f32 */
        int factors = shape + 1;
        for (int k = 0; k < factors - 1; k++)
            out("(f32.mul ");
        for (int k = 0; k < factors; k++)
            out(k ? " (f32.demote_f64 (local.get %d)))" : "(f32.demote_f64 (local.get %d))", f64_local());
        out("))\n");
        return;
    }
    case 12: {   /* a scan, as in a partition: while (a[i] < x) i++, bounded by the region */
        const char *cmp = below(2) ? "lt_s" : "gt_u";
        out("(local.set %d (i32.const %d))\n", lp, 1024 + below(64) * 4);
        out("(block $s%d (loop $t%d\n", depth, depth);
        out("  (br_if $s%d (i32.ge_u (local.get %d) (i32.const 2040)))\n", depth, lp);
        out("  (br_if $s%d (i32.eqz (i32.%s (i32.load (local.get %d)) ", depth, cmp, lp);
        gen_i32(1);
        out(")))\n  (local.set %d (i32.add (local.get %d) (i32.const 4)))\n", lp, lp);
        out("  (local.set %d (i32.add (local.get %d) (i32.const 1)))\n", i32_local(), I32_FIRST);
        out("  (br $t%d)))\n", depth);
        return;
    }
    default: {   /* a counted loop: body, then the latch */
        int n = 1 + below(12), step = 1 + below(3);
        out("(local.set %d (i32.const 0))\n(local.set %d (i64.const 0))\n", lp, lp + 5);
        out("(loop $l%d\n", depth);
        gen_stmts(depth + 1, 1 + below(3));
        int latch = below(4);
        if (latch == 0)
            out("(br_if $l%d (i32.lt_u (local.tee %d (i32.add (local.get %d) (i32.const %d))) (i32.const %d))))\n",
                depth, lp, lp, step, n * step);
        else if (latch == 1)
            out("(local.set %d (i32.add (local.get %d) (i32.const %d)))\n"
                "(br_if $l%d (i32.ne (local.get %d) (i32.const %d))))\n",
                lp, lp, step, depth, lp, n * step);
        else   /* a 64-bit count beside it, as sieve's (an i64 latch) */
            out("(local.set %d (i32.add (local.get %d) (i32.const %d)))\n"
                "(br_if $l%d (i64.%s (local.tee %d (i64.add (local.get %d) (i64.const 1))) (i64.const %d))))\n",
                lp, lp, step, depth, latch == 2 ? "ne" : "lt_u", lp + 5, lp + 5, n);
        return;
    }
    }
}

static void gen_stmts(int depth, int n)
{
    for (int i = 0; i < n; i++)
        gen_stmt(depth);
}

static void gen_program(void)
{
    len = 0;
    out("(module (memory 1)\n (data (i32.const 0) \"");
    for (int i = 0; i < 1024; i += 8) {
        /* finite doubles, so any f64 load reads a number */
        double v = (double)(below(2001) - 1000) / 8.0;
        uint64_t bits;
        memcpy(&bits, &v, 8);
        for (int k = 0; k < 8; k++)
            out("\\%02x", (unsigned)(bits >> (8 * k)) & 0xff);
    }
    out("\")\n");
    out(" (func $h (param i32 i32) (result i32) (i32.add (i32.mul (local.get 0) (i32.const 3)) (local.get 1)))\n");
    /* a module that uses v128 anywhere gets wide frames, two slots a value
       (src/interp/README.md): every fusion again, at the other width */
    if (below(4) == 0)
        out(" (func (export \"wide\") (result v128) (v128.const i64x2 1 2))\n");
    out(" (func $fib (param i32) (result i32)\n"
        "  (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))\n"
        "   (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))\n"
        "                  (call $fib (i32.sub (local.get 0) (i32.const 2)))))))\n");
    out(" (func $f (export \"f\") (param i32 i32 i64 f64) (result i64)\n");
    out("  (local i32 i32 i32 i32 i32 i32 i64 i64 f64 f64 f64 f64 i32 i32 i32 i32 f64 i64 i64 i64 i64)\n");
    gen_stmts(0, 3 + below(8));
    /* everything the function computed, in one value (floats by value, NaN as one) */
    out("  (i64.add (i64.xor (i64.extend_i32_u (i32.xor (local.get 4) (i32.rotl (local.get 5) (i32.const 7))))\n");
    out("    (i64.mul (i64.extend_i32_u (i32.add (local.get 6) (i32.add (local.get 7) (i32.add (local.get 8) (local.get 9))))) (i64.const 31)))\n");
    out("   (i64.add (i64.add (local.get 10) (local.get 11))\n");
    out("    (i64.trunc_sat_f64_s (f64.mul (f64.add (f64.add (local.get 12) (local.get 13)) (f64.add (local.get 14) (local.get 15))) (f64.const 1000)))))))\n");
}

/* ---- running it ---- */

/* The arguments of the current call, as `leonardo run --invoke f FILE` takes them. */
static char call_args[128];
static int cur_program;

/* Check's messages are short: the program goes to stderr first. */
#define EXPECT(cond, ...) do { \
        if (!(cond)) { \
            fprintf(stderr, "test_fusions: program %d (FUSIONS_ONLY=%d), called with %s:\n%.*s\n", \
                    cur_program, cur_program, call_args, (int)len, buf); \
            ck_abort_msg(__VA_ARGS__); \
        } \
    } while (0)

#define RUN_FUEL 200000

typedef struct {
    lw_status st;
    uint64_t result;
    char trap[128];
    uint8_t mem[65536];
} Outcome;

static void run(const uint8_t *bin, size_t n, bool plain, int64_t slice, const lw_value *args, Outcome *o)
{
    lw_translate_plain = plain;
    lw_error err;
    lw_module *m = lw_module_load(bin, n, &err);
    EXPECT(m != NULL, "%s", err.msg);
    lw_store *s = lw_store_new();
    lw_exec *ex = lw_exec_new(s, NULL);
    lw_exec_set_fuel_limit(ex, RUN_FUEL);
    if (slice)
        lw_exec_set_fuel_slice(ex, slice);
    lw_instance *inst = lw_instantiate(s, m, ex, &err);
    ck_assert_ptr_nonnull(inst);
    lw_extern f, mem;
    ck_assert(lw_instance_export(inst, "f", &f));
    o->st = lw_exec_call(ex, f.of.func, args, 4);
    while (o->st == LW_YIELD)
        o->st = lw_exec_resume(ex);
    o->result = 0;
    o->trap[0] = 0;
    if (o->st == LW_OK) {
        lw_value r;
        lw_exec_results(ex, &r, 1);
        o->result = (uint64_t)r.of.i64;
    } else {
        snprintf(o->trap, sizeof o->trap, "%s", lw_exec_trap_message(ex));
    }
    memset(o->mem, 0, sizeof o->mem);
    if (lw_instance_export(inst, "memory", &mem)) {
        uint64_t size;
        uint8_t *d = lw_memory_data(mem.of.memory, &size);
        memcpy(o->mem, d, size < sizeof o->mem ? size : sizeof o->mem);
    }
    lw_exec_free(ex);
    lw_store_free(s);
    lw_module_free(m);
    lw_translate_plain = 0;
}

static bool is_nan64(const uint8_t *p)
{
    double v;
    memcpy(&v, p, 8);
    return isnan(v);
}

static void compare(const Outcome *a, const Outcome *b, const char *which)
{
    EXPECT(a->st == b->st, "%s: status %d, plain %d", which, b->st, a->st);
    EXPECT(a->result == b->result, "%s: result %llx, plain %llx", which,
           (unsigned long long)b->result, (unsigned long long)a->result);
    EXPECT(strcmp(a->trap, b->trap) == 0, "%s: trap \"%s\", plain \"%s\"", which, b->trap, a->trap);
    for (size_t i = 0; i < sizeof a->mem; i += 8)
        EXPECT(memcmp(a->mem + i, b->mem + i, 8) == 0 || (is_nan64(a->mem + i) && is_nan64(b->mem + i)),
               "%s: memory at %zu differs", which, i);
}

START_TEST(random_programs)
{
    const char *np = getenv("FUSIONS_PROGRAMS"), *sd = getenv("FUSIONS_SEED");
    int programs = np ? atoi(np) : 2000;
    rng = 0x9E3779B97F4A7C15ull ^ (sd ? strtoull(sd, NULL, 10) * 0x100000001B3ull : 0);
    static Outcome plain, fused, sliced;
    int traps = 0, fuel_outs = 0;
    for (int i = 0; i < programs; i++) {
        gen_program();
        size_t n;
        WasmError err;
        uint8_t *bin = wat_to_wasm(buf, len, "fusions", &n, &err);
        EXPECT(bin != NULL, "%s", err.msg);
        lw_value args[4] = { { .type = LW_I32 }, { .type = LW_I32 }, { .type = LW_I64 }, { .type = LW_F64 } };
        args[0].of.i32 = (int32_t)below(1024);
        args[1].of.i32 = (int32_t)rnd();
        args[2].of.i64 = (int64_t)rnd();
        double x = (double)(below(200) - 100) / 4.0;
        memcpy(&args[3].of.f64, &x, sizeof x);
        int64_t slice = 1 + below(13);
        cur_program = i;
        if (getenv("FUSIONS_DUMP")) {
            char path[256];
            snprintf(path, sizeof path, "%s/p%d.wat", getenv("FUSIONS_DUMP"), i);
            FILE *f = fopen(path, "w");
            if (f) {
                fwrite(buf, 1, len, f);
                fclose(f);
            }
        }
        if (getenv("FUSIONS_ONLY") && atoi(getenv("FUSIONS_ONLY")) != i) {
            free(bin);
            continue;
        }

        snprintf(call_args, sizeof call_args, "%d %d %lld %g", args[0].of.i32, args[1].of.i32,
                 (long long)args[2].of.i64, x);
        run(bin, n, true, 0, args, &plain);
        run(bin, n, false, 0, args, &fused);
        run(bin, n, false, slice, args, &sliced);
        compare(&plain, &fused, "optimized");
        compare(&plain, &sliced, "optimized, in slices");
        traps += plain.st == LW_TRAP;
        fuel_outs += plain.st == LW_TRAP && strcmp(plain.trap, "out of fuel") == 0;
        free(bin);
    }
    /* the programs must do something: not all trap, and loops run */
    ck_assert_msg(traps < programs / 2, "%d of %d programs trapped", traps, programs);
    fprintf(stderr, "test_fusions: %d programs, %d trapped (%d out of fuel)\n", programs, traps, fuel_outs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fusions");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, random_programs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(buf);
    return failed ? 1 : 0;
}
