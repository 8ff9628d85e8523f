/*
 * Tests of the translator and the interpreter: how values move between
 * frame slots at block boundaries, branches, br_table, loops with params,
 * if/else, local.set of a local that is still on the operand stack, the
 * fused compare-and-branch forms, the fused load and store forms (an
 * operation on a loaded value, store-then-add, load-compare-branch),
 * calls, traps with backtraces, and fuel
 * (slices that yield and resume, the hard limit).
 *
 * Modules are written in the text format and go through the whole chain
 * (parser, decoder, validator, instantiation), so a failure here can lie
 * outside the translator; the spec suite narrows such cases down.
 */
#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leonardo.h"
#include "interp/translate.h"

static lw_store *store;
static lw_exec *ex;

static void setup(void)
{
    store = lw_store_new();
    ex = lw_exec_new(store, NULL);
}

static void teardown(void)
{
    lw_exec_free(ex);
    lw_store_free(store);
}

static lw_instance *load(const char *wat)
{
    lw_error err;
    lw_module *m = lw_module_load_wat(wat, strlen(wat), "test", &err);
    ck_assert_msg(m != NULL, "load: %s", err.msg);
    lw_instance *inst = lw_instantiate(store, m, ex, &err);
    ck_assert_msg(inst != NULL, "instantiate: %s", err.msg);
    return inst;
}

static lw_func *export_func(lw_instance *inst, const char *name)
{
    lw_extern e;
    ck_assert_msg(lw_instance_export(inst, name, &e), "no export %s", name);
    ck_assert_int_eq(e.kind, LW_EXTERN_FUNC);
    return e.of.func;
}

static lw_value i32(uint32_t v) { lw_value x = { .type = LW_I32 }; x.of.i32 = v; return x; }
static lw_value i64(uint64_t v) { lw_value x = { .type = LW_I64 }; x.of.i64 = v; return x; }

/* Call `name` with i32 args; returns its first i32 result (or traps the test). */
static uint32_t call_i32(lw_instance *inst, const char *name, int nargs, ...)
{
    lw_value args[8];
    va_list ap;
    va_start(ap, nargs);
    for (int i = 0; i < nargs; i++)
        args[i] = i32(va_arg(ap, uint32_t));
    va_end(ap);
    lw_status st = lw_exec_call(ex, export_func(inst, name), args, (uint32_t)nargs);
    ck_assert_msg(st == LW_OK, "%s: status %d, trap %s", name, st, lw_exec_trap_message(ex));
    lw_value r;
    lw_exec_results(ex, &r, 1);
    return r.of.i32;
}

static char *disasm_export(lw_instance *inst, const char *name);

static const char *call_trap(lw_instance *inst, const char *name, int nargs, ...)
{
    lw_value args[8];
    va_list ap;
    va_start(ap, nargs);
    for (int i = 0; i < nargs; i++)
        args[i] = i32(va_arg(ap, uint32_t));
    va_end(ap);
    lw_status st = lw_exec_call(ex, export_func(inst, name), args, (uint32_t)nargs);
    ck_assert_int_eq(st, LW_TRAP);
    return lw_exec_trap_message(ex);
}

/* ---- blocks and branches ---- */

START_TEST(block_results)
{
    lw_instance *inst = load(
        "(module"
        " (func (export \"f\") (param i32) (result i32)"
        "   (i32.const 100)"
        "   (block (result i32) (local.get 0) (i32.const 1) (i32.add))"
        "   (i32.const 10) (i32.mul) (i32.add))"
        /* results of a targeted block arrive by a branch and by fallthrough */
        " (func (export \"g\") (param i32) (result i32)"
        "   (i32.const 1000)"
        "   (block (result i32)"
        "     (i32.const 7) (local.get 0) (br_if 0) (drop) (i32.const 8))"
        "   (i32.add))"
        " (func (export \"multi\") (result i32)"
        "   (block (result i32 i32) (i32.const 3) (i32.const 4))"
        "   (i32.sub)))");
    ck_assert_uint_eq(call_i32(inst, "f", 1, 4), 150);
    ck_assert_uint_eq(call_i32(inst, "g", 1, 1), 1007);
    ck_assert_uint_eq(call_i32(inst, "g", 1, 0), 1008);
    ck_assert_uint_eq(call_i32(inst, "multi", 0), (uint32_t)-1);
}
END_TEST

START_TEST(br_nested_with_values)
{
    lw_instance *inst = load(
        "(module"
        " (func (export \"f\") (param i32) (result i32)"
        "   (i32.const 1)"
        "   (block (result i32 i32)"
        "     (i32.const 50)"
        "     (block (result i32)"
        "       (i32.const 60)"
        "       (block (result i32)"
        "         (i32.const 2) (i32.const 3)"
        "         (local.get 0) (br_if 2)"   /* two values out of three blocks */
        "         (drop) (drop) (i32.const 5))"
        "       (i32.add)))"
        "   (i32.mul) (i32.add))"
        /* br (not br_if) out of nested blocks, dropping what is below */
        " (func (export \"g\") (result i32)"
        "   (block (result i32)"
        "     (i32.const 9) (i32.const 9)"
        "     (block (result i32) (i32.const 8) (i32.const 42) (br 1))"
        "     (drop) (drop)))"
        ")");
    ck_assert_uint_eq(call_i32(inst, "f", 1, 1), 1 + 2 * 3);
    ck_assert_uint_eq(call_i32(inst, "f", 1, 0), 1 + 50 * 65);
    ck_assert_uint_eq(call_i32(inst, "g", 0), 42);
}
END_TEST

START_TEST(br_table_values)
{
    lw_instance *inst = load(
        "(module"
        " (func (export \"f\") (param i32) (result i32)"
        "   (block (result i32)"
        "     (i32.const 1000)"
        "     (block (result i32)"
        "       (i32.const 100)"
        "       (block (result i32)"
        "         (i32.const 10) (i32.const 7) (local.get 0)"
        "         (br_table 0 1 2))"      /* each label at its own height */
        "       (i32.add))"
        "     (i32.add)))"
        " (func (export \"ret\") (param i32) (result i32)"
        "   (block (result i32) (i32.const 5) (local.get 0) (br_table 1 0))"
        "   (drop) (i32.const 6)))");
    ck_assert_uint_eq(call_i32(inst, "f", 1, 0), 7 + 100 + 1000);
    ck_assert_uint_eq(call_i32(inst, "f", 1, 1), 7 + 1000);
    ck_assert_uint_eq(call_i32(inst, "f", 1, 2), 7);
    ck_assert_uint_eq(call_i32(inst, "f", 1, 99), 7);
    ck_assert_uint_eq(call_i32(inst, "ret", 1, 0), 5);   /* label 1 is the function */
    ck_assert_uint_eq(call_i32(inst, "ret", 1, 1), 6);
}
END_TEST

START_TEST(loop_params)
{
    lw_instance *inst = load(
        "(module"
        /* sum 1..n with the running sum and counter as loop params */
        " (func (export \"sum\") (param i32) (result i32)"
        "   (i32.const 0) (local.get 0)"
        "   (loop (param i32 i32) (result i32)"
        "     (local.set 0)"
        "     (local.get 0) (i32.add)"
        "     (local.get 0) (i32.const 1) (i32.sub)"
        "     (local.tee 0) (br_if 0 (i32.ne (local.get 0) (i32.const 0)))"
        "     (drop)))"
        /* a count-down loop with a fused compare-and-branch back-edge */
        " (func (export \"count\") (param i32) (result i32) (local i32)"
        "   (loop"
        "     (local.set 1 (i32.add (local.get 1) (i32.const 3)))"
        "     (br_if 0 (i32.gt_s (local.tee 0 (i32.sub (local.get 0) (i32.const 1))) (i32.const 0))))"
        "   (local.get 1)))");
    ck_assert_uint_eq(call_i32(inst, "sum", 1, 10), 55);
    ck_assert_uint_eq(call_i32(inst, "sum", 1, 1), 1);
    ck_assert_uint_eq(call_i32(inst, "count", 1, 5), 15);
}
END_TEST

/* add-then-branch loops fuse into one instruction: every shape of them */
START_TEST(add_and_branch)
{
    lw_instance *inst = load(
        "(module"
        /* count down with sub and branch on the local itself */
        " (func (export \"down\") (param i32) (result i32) (local i32)"
        "   (loop (local.set 1 (i32.add (local.get 1) (i32.const 2)))"
        "     (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))"
        "   (local.get 1))"
        /* i64 step by a register, compare with a register */
        " (func (export \"step\") (param i64 i64) (result i32) (local i64 i32)"
        "   (loop (local.set 3 (i32.add (local.get 3) (i32.const 1)))"
        "     (br_if 0 (i64.lt_s (local.tee 2 (i64.add (local.get 2) (local.get 0))) (local.get 1))))"
        "   (local.get 3))"
        /* the compared register is the incremented local itself */
        " (func (export \"self\") (param i32) (result i32)"
        "   (loop (br_if 0 (i32.ne (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (local.get 0))))"
        "   (local.get 0))"
        /* a negative i64 immediate step and an unsigned compare */
        " (func (export \"neg64\") (param i64) (result i32) (local i32)"
        "   (loop (local.set 1 (i32.add (local.get 1) (i32.const 1)))"
        "     (local.set 0 (i64.add (local.get 0) (i64.const -5)))"
        "     (br_if 0 (i64.gt_u (local.get 0) (i64.const 100))))"
        "   (local.get 1)))");
    ck_assert_uint_eq(call_i32(inst, "down", 1, 10), 20);
    lw_value a[2] = { i64(3), i64(31) };
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "step"), a, 2), LW_OK);
    lw_value r;
    lw_exec_results(ex, &r, 1);
    ck_assert_uint_eq(r.of.i32, 11);   /* 3, 6, ..., 33 */
    ck_assert_uint_eq(call_i32(inst, "self", 1, 7), 8);
    lw_value v = i64(200);
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "neg64"), &v, 1), LW_OK);
    lw_exec_results(ex, &r, 1);
    ck_assert_uint_eq(r.of.i32, 20);   /* 195 ... 100 */
}
END_TEST

START_TEST(if_else_results)
{
    lw_instance *inst = load(
        "(module"
        " (func (export \"pick\") (param i32) (result i32)"
        "   (if (result i32) (local.get 0) (then (i32.const 11)) (else (i32.const 22))))"
        " (func (export \"two\") (param i32) (result i32)"
        "   (if (result i32 i32) (i32.lt_s (local.get 0) (i32.const 5))"
        "     (then (i32.const 1) (i32.const 2))"
        "     (else (i32.const 30) (i32.const 40)))"
        "   (i32.sub))"
        /* if with params and no else: the params are the results */
        " (func (export \"noelse\") (param i32) (result i32)"
        "   (i32.const 7)"
        "   (if (param i32) (result i32) (local.get 0) (then (i32.const 2) (i32.mul))))"
        " (func (export \"eqz\") (param i32) (result i32)"
        "   (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1)) (else (i32.const 0)))))");
    ck_assert_uint_eq(call_i32(inst, "pick", 1, 1), 11);
    ck_assert_uint_eq(call_i32(inst, "pick", 1, 0), 22);
    ck_assert_uint_eq(call_i32(inst, "two", 1, 3), (uint32_t)-1);
    ck_assert_uint_eq(call_i32(inst, "two", 1, 9), (uint32_t)-10);
    ck_assert_uint_eq(call_i32(inst, "two", 1, (uint32_t)-9), (uint32_t)-1);
    ck_assert_uint_eq(call_i32(inst, "noelse", 1, 1), 14);
    ck_assert_uint_eq(call_i32(inst, "noelse", 1, 0), 7);
    ck_assert_uint_eq(call_i32(inst, "eqz", 1, 0), 1);
    ck_assert_uint_eq(call_i32(inst, "eqz", 1, 3), 0);
}
END_TEST

/* local.get pushes an alias of the local's slot: a later write must not change it. */
START_TEST(local_set_under_alias)
{
    lw_instance *inst = load(
        "(module"
        " (func (export \"set\") (param i32) (result i32)"
        "   (local.get 0) (local.set 0 (i32.const 5)) (local.get 0) (i32.sub))"
        " (func (export \"tee\") (param i32) (result i32)"
        "   (local.get 0) (local.tee 0 (i32.const 5)) (i32.mul) (local.get 0) (i32.add))"
        /* the write happens on one path only */
        " (func (export \"path\") (param i32 i32) (result i32)"
        "   (local.get 0)"
        "   (if (local.get 1) (then (local.set 0 (i32.const 99))))"
        "   (local.get 0) (i32.const 1000) (i32.mul) (i32.add))"
        /* retargeting a result into a local that its own instruction reads */
        " (func (export \"self\") (param i32) (result i32)"
        "   (local.set 0 (i32.add (local.get 0) (local.get 0))) (local.get 0))"
        /* results returned in swapped local order */
        " (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))"
        " (func (export \"swap\") (param i32 i32) (result i32)"
        "   (call $swap (local.get 0) (local.get 1)) (i32.sub)))");
    ck_assert_uint_eq(call_i32(inst, "set", 1, 20), 15);
    ck_assert_uint_eq(call_i32(inst, "tee", 1, 3), 20);
    ck_assert_uint_eq(call_i32(inst, "path", 2, 4, 0), 4004);
    ck_assert_uint_eq(call_i32(inst, "path", 2, 4, 1), 99004);
    ck_assert_uint_eq(call_i32(inst, "self", 1, 21), 42);
    ck_assert_uint_eq(call_i32(inst, "swap", 2, 10, 3), (uint32_t)-7);
}
END_TEST

START_TEST(calls_and_memory)
{
    lw_instance *inst = load(
        "(module (memory 1)"
        " (func $fib (export \"fib\") (param i32) (result i32)"
        "   (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))"
        "     (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))"
        "                    (call $fib (i32.sub (local.get 0) (i32.const 2)))))))"
        " (func (export \"mem\") (param i32) (result i32) (local i32)"
        "   (loop"
        "     (i32.store8 (i32.add (local.get 1) (i32.const 16)) (local.get 1))"
        "     (br_if 0 (i32.lt_u (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (i32.const 8))))"
        "   (i32.load (i32.add (local.get 0) (i32.const 16))))"
        " (func (export \"grow\") (result i32)"
        "   (drop (memory.grow (i32.const 1))) (i32.store (i32.const 70000) (i32.const 5))"
        "   (i32.add (memory.size) (i32.load (i32.const 70000)))))");
    ck_assert_uint_eq(call_i32(inst, "fib", 1, 20), 6765);
    ck_assert_uint_eq(call_i32(inst, "mem", 1, 0), 0x03020100);
    ck_assert_uint_eq(call_i32(inst, "mem", 1, 4), 0x07060504);
    ck_assert_str_eq(call_trap(inst, "mem", 1, 65534), "out of bounds memory access");
    ck_assert_uint_eq(call_i32(inst, "grow", 0), 2 + 5);
}
END_TEST

START_TEST(i64_and_floats)
{
    lw_instance *inst = load(
        "(module"
        " (func (export \"mulsub\") (param f64 f64 f64) (result f64)"
        "   (f64.sub (local.get 0) (f64.mul (local.get 1) (local.get 2))))"
        " (func (export \"mul3\") (param f64 f64 f64) (result f64)"
        "   (f64.mul (f64.mul (local.get 0) (local.get 1)) (local.get 2)))"
        " (func (export \"cmp64\") (param i64) (result i32)"
        "   (block (br_if 0 (i64.ge_u (local.get 0) (i64.const 10))) (return (i32.const 1)))"
        "   (i32.const 2)))");
    lw_value args[3] = { { .type = LW_F64 }, { .type = LW_F64 }, { .type = LW_F64 } };
    double a = 1.0, b = 0.1, c = 3.0, r;
    memcpy(&args[0].of.f64, &a, 8);
    memcpy(&args[1].of.f64, &b, 8);
    memcpy(&args[2].of.f64, &c, 8);
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "mulsub"), args, 3), LW_OK);
    lw_value out;
    lw_exec_results(ex, &out, 1);
    memcpy(&r, &out.of.f64, 8);
    volatile double m = b * c;   /* two roundings, never a fused multiply-add */
    ck_assert(r == a - m);

    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "mul3"), args, 3), LW_OK);
    lw_exec_results(ex, &out, 1);
    memcpy(&r, &out.of.f64, 8);
    volatile double p = a * b;
    ck_assert(r == p * c);

    lw_value v = i64(9);
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "cmp64"), &v, 1), LW_OK);
    lw_exec_results(ex, &out, 1);
    ck_assert_uint_eq(out.of.i32, 1);
    v = i64(1ull << 40);
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "cmp64"), &v, 1), LW_OK);
    lw_exec_results(ex, &out, 1);
    ck_assert_uint_eq(out.of.i32, 2);
}
END_TEST

/* i32.wrap_i64 folds into the instruction that reads it as an i32 */
START_TEST(wrap_folding)
{
    lw_instance *inst = load(
        "(module (memory 1)"
        " (func (export \"add\") (param i64) (result i32)"
        "   (i32.add (i32.wrap_i64 (local.get 0)) (i32.const 1)))"
        " (func (export \"eqz\") (param i64) (result i32)"
        "   (i32.eqz (i32.wrap_i64 (local.get 0))))"
        " (func (export \"mem\") (param i64) (result i32)"
        "   (i32.store8 (i32.wrap_i64 (local.get 0)) (i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const 8))))"
        "   (i32.load8_u (i32.add (i32.const 0) (i32.wrap_i64 (local.get 0))))))");
    lw_value v = i64(0x100000005ull), r;
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "add"), &v, 1), LW_OK);
    lw_exec_results(ex, &r, 1);
    ck_assert_uint_eq(r.of.i32, 6);
    v = i64(0x100000000ull);
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "eqz"), &v, 1), LW_OK);
    lw_exec_results(ex, &r, 1);
    ck_assert_uint_eq(r.of.i32, 1);
    v = i64(0xAB000000ABCD0010ull);   /* wraps to 0xABCD0010: out of bounds */
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "mem"), &v, 1), LW_TRAP);
    v = i64(0xFFFFFFFF00002A10ull);   /* wraps to 0x2A10; stores byte 0x2A */
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "mem"), &v, 1), LW_OK);
    lw_exec_results(ex, &r, 1);
    ck_assert_uint_eq(r.of.i32, 0x2A);
}
END_TEST

/* Binary operations fused with the load of their right operand. */
START_TEST(load_operand_fusion)
{
    lw_instance *inst = load(
        "(module (memory 1) (data (i32.const 16) \"\\05\\01\\00\\00\\ff\")"
        " (func (export \"sub\") (param i32 i32) (result i32)"   /* x - mem[p + 4 + 12] */
        "   (i32.sub (local.get 0) (i32.load offset=12 (i32.add (local.get 1) (i32.const 4)))))"
        " (func $xor8 (export \"xor8\") (param i32 i32) (result i32)"
        "   (i32.xor (local.get 0) (i32.load8_u offset=4 (local.get 1))))"
        " (func (export \"acc\") (param i32) (result i32)"      /* mem[p] += 3, read back */
        "   (i32.store (local.get 0) (i32.add (i32.const 3) (i32.load (local.get 0))))"
        "   (i32.load (local.get 0)))"
        " (func (export \"fsub\") (param i32) (result i32)"
        "   (f64.store (i32.const 64) (f64.const 2.5))"
        "   (i32.trunc_f64_s (f64.sub (f64.const 10) (f64.load (i32.add (local.get 0) (i32.const 64))))))"
        /* the loaded value also goes to a local (local.tee), read afterwards */
        " (func $tee (export \"tee\") (param i32 i32) (result i32) (local i32)"
        "   (i32.add (i32.mul (local.get 1) (local.tee 2 (i32.load (local.get 0)))) (local.get 2)))"
        /* the tee'd value on both sides: twice the loaded value, not the local's old one
           (test_fusions found the fused form reading the old one) */
        " (func (export \"twice\") (param i32) (result i32) (local i32)"
        "   (local.set 1 (i32.const 1000))"
        "   (i32.add (local.tee 1 (i32.load (local.get 0))) (local.get 1))))");
    ck_assert_uint_eq(call_i32(inst, "sub", 2, 1000, 0), 1000u - 0x105);
    ck_assert_uint_eq(call_i32(inst, "sub", 2, 7, 0xFFFFFFFC), 7);   /* the add wraps: reads 12 */
    ck_assert_str_eq(call_trap(inst, "sub", 2, 7, 65536 - 18), "out of bounds memory access");
    ck_assert_uint_eq(call_i32(inst, "xor8", 2, 0x0F, 16), 0xF0);
    ck_assert_str_eq(call_trap(inst, "xor8", 2, 0, 65532), "out of bounds memory access");
    char *d = disasm_export(inst, "xor8");
    ck_assert_msg(strstr(d, "I32_XOR_M_I32_LOAD8_U") && !strstr(d, "i32.load8_u"), "%s", d);
    free(d);
    ck_assert_uint_eq(call_i32(inst, "acc", 1, 16), 0x108);
    ck_assert_uint_eq(call_i32(inst, "acc", 1, 16), 0x10B);
    ck_assert_uint_eq(call_i32(inst, "fsub", 1, 0), 7);
    ck_assert_uint_eq(call_i32(inst, "twice", 1, 16), 2 * 0x10B);   /* "acc" made it 0x10B */
    ck_assert_uint_eq(call_i32(inst, "tee", 2, 16, 3), 4 * 0x10B);   /* "acc" made it 0x10B */
    ck_assert_str_eq(call_trap(inst, "tee", 2, 65534, 3), "out of bounds memory access");
    d = disasm_export(inst, "tee");   /* the form that also keeps the value, in local 2 */
    ck_assert_msg(strstr(d, "I32_MUL_M_I32_LOAD_K") && strstr(d, " 0,2\n"), "%s", d);
    free(d);

    /* mem += x*y*z and mem += x*y, the product taken into the read-modify-write */
    inst = load(
        "(module (memory 1)"
        " (func (export \"acc3\") (param i32 i32) (result i32) (local f64)"
        "   (local.set 2 (f64.convert_i32_s (local.get 1)))"
        "   (f64.store (local.get 0) (f64.add (f64.mul (f64.mul (local.get 2) (local.get 2)) (local.get 2))"
        "                                     (f64.load (local.get 0))))"
        "   (i32.trunc_f64_s (f64.load (local.get 0))))"
        " (func (export \"acc2\") (param i32 i32) (result i32) (local f32)"
        "   (local.set 2 (f32.convert_i32_s (local.get 1)))"
        "   (f32.store (local.get 0) (f32.add (f32.mul (local.get 2) (local.get 2)) (f32.load (local.get 0))))"
        "   (i32.trunc_f32_s (f32.load (local.get 0)))))");
    ck_assert_uint_eq(call_i32(inst, "acc3", 2, 8, 3), 27);
    ck_assert_uint_eq(call_i32(inst, "acc3", 2, 8, 1), 28);
    ck_assert_str_eq(call_trap(inst, "acc3", 2, 65530, 1), "out of bounds memory access");
    ck_assert_uint_eq(call_i32(inst, "acc2", 2, 100, 4), 16);
    ck_assert_uint_eq(call_i32(inst, "acc2", 2, 100, 3), 25);

    /* mem = mem + x, the load on the left, as C's a[i] += x comes: the same
       read-modify-write */
    inst = load(
        "(module (memory 1)"
        " (func $addi (export \"addi\") (param i32 i32) (result i32)"
        "   (i32.store offset=4 (local.get 0) (i32.add (i32.load offset=4 (local.get 0)) (local.get 1)))"
        "   (i32.load offset=4 (local.get 0)))"
        " (func $addf (export \"addf\") (param i32 i32) (result i32) (local f64)"
        "   (local.set 2 (f64.convert_i32_s (local.get 1)))"
        "   (f64.store (local.get 0) (f64.add (f64.load (local.get 0)) (local.get 2)))"
        "   (i32.trunc_f64_s (f64.load (local.get 0)))))");
    ck_assert_uint_eq(call_i32(inst, "addi", 2, 8, 5), 5);
    ck_assert_uint_eq(call_i32(inst, "addi", 2, 8, 0xFFFFFFFF), 4);   /* wraps */
    ck_assert_str_eq(call_trap(inst, "addi", 2, 65532, 1), "out of bounds memory access");
    ck_assert_uint_eq(call_i32(inst, "addf", 2, 64, 7), 7);
    ck_assert_uint_eq(call_i32(inst, "addf", 2, 64, -2), 5);
    d = disasm_export(inst, "addi");
    ck_assert_msg(strstr(d, "I32_ADD_MEM") && !strstr(d, "i32.add"), "%s", d);
    free(d);
    d = disasm_export(inst, "addf");
    ck_assert_msg(strstr(d, "F64_ADD_MEM"), "%s", d);
    free(d);

    /* mem +=/-= y*z with the load first: the multiply-add becomes the
       read-modify-write, rounded the same (product, then sum) */
    inst = load(
        "(module (memory 1)"
        " (func $addmul (export \"addmul\") (param i32 i32 i32) (result i32) (local f64 f64)"
        "   (local.set 3 (f64.convert_i32_s (local.get 1)))"
        "   (local.set 4 (f64.convert_i32_s (local.get 2)))"
        "   (f64.store (local.get 0) (f64.add (f64.load (local.get 0)) (f64.mul (local.get 3) (local.get 4))))"
        "   (i32.trunc_f64_s (f64.load (local.get 0))))"
        " (func $submul (export \"submul\") (param i32 i32 i32) (result i32) (local f32 f32)"
        "   (local.set 3 (f32.convert_i32_s (local.get 1)))"
        "   (local.set 4 (f32.convert_i32_s (local.get 2)))"
        "   (f32.store offset=4 (local.get 0) (f32.sub (f32.load offset=4 (local.get 0))"
        "     (f32.mul (local.get 3) (local.get 4))))"
        "   (i32.trunc_f32_s (f32.load offset=4 (local.get 0)))))");
    ck_assert_uint_eq(call_i32(inst, "addmul", 3, 16, 3, 4), 12);
    ck_assert_uint_eq(call_i32(inst, "addmul", 3, 16, -2, 5), 2);
    ck_assert_str_eq(call_trap(inst, "addmul", 3, 65530, 1, 1), "out of bounds memory access");
    ck_assert_uint_eq(call_i32(inst, "submul", 3, 32, 3, 4), (uint32_t)-12);
    ck_assert_uint_eq(call_i32(inst, "submul", 3, 32, -3, 4), 0);
    d = disasm_export(inst, "addmul");
    ck_assert_msg(strstr(d, "F64_ADD_MEM_MUL") && !strstr(d, "F64_ADD_MUL"), "%s", d);
    free(d);
    d = disasm_export(inst, "submul");
    ck_assert_msg(strstr(d, "F32_SUB_MEM_MUL"), "%s", d);
    free(d);

    /* mem -= product: the load moves into the read-modify-write */
    inst = load(
        "(module (memory 1)"
        " (func (export \"sub3\") (param i32 i32) (result i32) (local f64)"
        "   (local.set 2 (f64.convert_i32_s (local.get 1)))"
        "   (f64.store (local.get 0) (f64.sub (f64.load (local.get 0))"
        "                                     (f64.mul (f64.mul (local.get 2) (local.get 2)) (local.get 2))))"
        "   (i32.trunc_f64_s (f64.load (local.get 0))))"
        /* the product also kept in a local: it stays, the subtraction still fuses */
        " (func (export \"sub_keep\") (param i32 i32) (result i32) (local f64 f64)"
        "   (local.set 2 (f64.convert_i32_s (local.get 1)))"
        "   (f64.store (local.get 0) (f64.sub (f64.load (local.get 0))"
        "                                     (local.tee 3 (f64.mul (local.get 2) (local.get 2)))))"
        "   (i32.add (i32.trunc_f64_s (f64.load (local.get 0))) (i32.trunc_f64_s (local.get 3))))"
        /* the loaded value is read by the product: no fusion may reorder them */
        " (func (export \"sub_self\") (param i32 i32) (result i32) (local f64 f64)"
        "   (local.set 2 (f64.convert_i32_s (local.get 1)))"
        "   (f64.store (local.get 0) (f64.sub (local.tee 3 (f64.load (local.get 0)))"
        "                                     (f64.mul (local.get 3) (local.get 2))))"
        "   (i32.trunc_f64_s (f64.load (local.get 0)))))");
    ck_assert_uint_eq(call_i32(inst, "sub3", 2, 8, 2), (uint32_t)-8);
    ck_assert_uint_eq(call_i32(inst, "sub3", 2, 8, 1), (uint32_t)-9);
    ck_assert_str_eq(call_trap(inst, "sub3", 2, 65530, 1), "out of bounds memory access");
    ck_assert_uint_eq(call_i32(inst, "sub_keep", 2, 16, 3), (uint32_t)-9 + 9);
    ck_assert_uint_eq(call_i32(inst, "sub_keep", 2, 16, 2), (uint32_t)-13 + 4);
    ck_assert_uint_eq(call_i32(inst, "sub_self", 2, 24, 0), 0);
    ck_assert_uint_eq(call_i32(inst, "sub_keep", 2, 24, 2), (uint32_t)-4 + 4);   /* mem[24] = -4 */
    ck_assert_uint_eq(call_i32(inst, "sub_self", 2, 24, 3), 8);                   /* -4 - (-4)*3 */
}
END_TEST

/* A store and the i32.add right after it run as one instruction. */
START_TEST(store_then_add)
{
    lw_instance *inst = load(
        "(module (memory 1)"
        " (func $fill (export \"fill\") (param i32 i32) (result i32) (local i32)"   /* n bytes of 7 at p, step 3 */
        "   (local.set 2 (local.get 0))"
        "   (block (loop"
        "     (br_if 1 (i32.eqz (local.get 1)))"
        "     (i32.store8 (local.get 2) (i32.const 7))"
        "     (local.set 2 (i32.add (local.get 2) (i32.const 3)))"
        "     (local.set 1 (i32.sub (local.get 1) (i32.const 1)))"
        "     (br 0)))"
        "   (i32.add (i32.load8_u (i32.const 3)) (local.get 2)))"
        " (func (export \"bump\") (param i32 i32) (result i32)"   /* store, then p + k (k a local) */
        "   (i32.store (local.get 0) (local.get 1))"
        "   (i32.add (local.get 0) (local.get 1)))"
        " (func (export \"st32\") (param i32 i32) (result i32)"
        "   (i64.store32 (local.get 0) (i64.extend_i32_u (local.get 1)))"
        "   (local.set 0 (i32.add (local.get 0) (i32.const 1)))"
        "   (i32.add (i32.load (i32.const 200)) (local.get 0)))"
        /* the add makes the right operand of the comparison */
        " (func (export \"count\") (param i32) (result i32) (local i32)"
        "   (loop (br_if 0 (i32.gt_u (local.get 0) (local.tee 1 (i32.add (local.get 1) (i32.const 1))))))"
        "   (local.get 1)))");
    ck_assert_uint_eq(call_i32(inst, "st32", 2, 200, 5), 5 + 201);
    ck_assert_uint_eq(call_i32(inst, "count", 1, 5), 5);
    ck_assert_uint_eq(call_i32(inst, "count", 1, 0), 1);
    ck_assert_uint_eq(call_i32(inst, "fill", 2, 0, 4), 7 + 12);
    ck_assert_uint_eq(call_i32(inst, "bump", 2, 100, 5), 105);
    /* the store traps before the add: nothing is returned */
    ck_assert_str_eq(call_trap(inst, "bump", 2, 65534, 5), "out of bounds memory access");
    ck_assert_str_eq(call_trap(inst, "fill", 2, 65535, 2), "out of bounds memory access");
    ck_assert_uint_eq(call_i32(inst, "fill", 2, 65533, 1), 7 + 65536);
}
END_TEST

/* A load fused with the comparison and branch that consume it. */
START_TEST(load_compare_branch)
{
    lw_instance *inst = load(
        "(module (memory 1) (data (i32.const 8) \"\\00\\03\\00\\09\\00\\00\\00\\80\")"
        " (func $first_nonzero (export \"first_nonzero\") (param i32) (result i32)"   /* index of the first non-zero byte from p */
        "   (block (loop"
        "     (br_if 1 (i32.load8_u (local.get 0)))"
        "     (local.set 0 (i32.add (local.get 0) (i32.const 1)))"
        "     (br 0)))"
        "   (local.get 0))"
        " (func (export \"count_lt\") (param i32 i32) (result i32) (local i32)"   /* i32 words < x, signed, from p, 2 */
        "   (if (i32.lt_s (i32.load (i32.add (local.get 0) (i32.const 0))) (local.get 1))"
        "     (then (local.set 2 (i32.const 1))))"
        "   (if (i32.gt_s (local.get 1) (i32.load offset=4 (local.get 0)))"
        "     (then (local.set 2 (i32.add (local.get 2) (i32.const 1)))))"
        "   (local.get 2))"
        /* the loaded byte kept in a local and read after the branch */
        " (func $kept (export \"kept\") (param i32 i32) (result i32) (local i32)"
        "   (local.set 2 (i32.load8_u (local.get 0)))"
        "   (block (br_if 0 (i32.lt_u (local.get 2) (local.get 1)))"
        "     (local.set 2 (i32.add (local.get 2) (i32.const 100))))"
        "   (local.get 2)))");
    ck_assert_uint_eq(call_i32(inst, "kept", 2, 9, 5), 3);
    ck_assert_uint_eq(call_i32(inst, "kept", 2, 11, 5), 109);
    ck_assert_uint_eq(call_i32(inst, "first_nonzero", 1, 0), 9);
    ck_assert_uint_eq(call_i32(inst, "first_nonzero", 1, 10), 11);
    ck_assert_str_eq(call_trap(inst, "first_nonzero", 1, 65530), "out of bounds memory access");
    /* a byte only compared goes to no slot: one store fewer */
    char *d = disasm_export(inst, "first_nonzero");
    ck_assert_msg(strstr(d, "JMP_LD8U_AI_NE   4294967295,"), "%s", d);
    free(d);
    d = disasm_export(inst, "kept");   /* and a local still gets its byte */
    ck_assert_msg(strstr(d, "JMP_LD8U_AI_LT_U 2,"), "%s", d);
    free(d);

    /* words at 8: 0x09000300, at 12: 0x80000000 (negative) */
    ck_assert_uint_eq(call_i32(inst, "count_lt", 2, 8, 0x09000301), 2);
    ck_assert_uint_eq(call_i32(inst, "count_lt", 2, 8, 0), 1);
    ck_assert_uint_eq(call_i32(inst, "count_lt", 2, 8, 0x80000000), 0);
    ck_assert_str_eq(call_trap(inst, "count_lt", 2, 65533, 0), "out of bounds memory access");
}
END_TEST

/* ---- traps ---- */

START_TEST(traps_and_backtrace)
{
    lw_instance *inst = load(
        "(module"
        " (func $inner (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))"
        " (func $middle (param i32) (result i32) (call $inner (local.get 0)))"
        " (func (export \"outer\") (param i32) (result i32) (call $middle (local.get 0)))"
        " (func $rec (export \"rec\") (param i32) (result i32) (call $rec (local.get 0)))"
        " (func (export \"unreachable\") (result i32) (unreachable)))");
    ck_assert_uint_eq(call_i32(inst, "outer", 1, 1), 1);
    ck_assert_str_eq(call_trap(inst, "outer", 1, 0), "integer divide by zero");
    ck_assert_str_eq(lw_exec_backtrace(ex), "inner\nmiddle\nouter\n");
    ck_assert_str_eq(call_trap(inst, "rec", 1, 0), "call stack exhausted");
    ck_assert_str_eq(call_trap(inst, "unreachable", 0), "unreachable");
    /* the context is usable again after a trap */
    ck_assert_uint_eq(call_i32(inst, "outer", 1, 1), 1);
}
END_TEST

/* ---- fuel ---- */

static const char *loop_wat =
    "(module"
    " (func (export \"loop\") (param i32) (result i32) (local i32)"
    "   (block (loop"
    "     (br_if 1 (i32.eqz (local.get 0)))"
    "     (local.set 1 (i32.add (local.get 1) (local.get 0)))"
    "     (local.set 0 (i32.sub (local.get 0) (i32.const 1)))"
    "     (br 0)))"
    "   (local.get 1))"
    " (func $f (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))"
    " (func (export \"calls\") (param i32) (result i32) (local i32)"
    "   (block (loop"
    "     (br_if 1 (i32.eqz (local.get 0)))"
    "     (local.set 1 (call $f (local.get 1)))"
    "     (local.set 0 (i32.sub (local.get 0) (i32.const 1)))"
    "     (br 0)))"
    "   (local.get 1)))";

START_TEST(fuel_slices)
{
    lw_instance *inst = load(loop_wat);
    uint64_t u0 = lw_exec_fuel_used(ex);
    ck_assert_uint_eq(call_i32(inst, "loop", 1, 500), 125250);
    uint64_t half = lw_exec_fuel_used(ex) - u0;
    u0 = lw_exec_fuel_used(ex);
    ck_assert_uint_eq(call_i32(inst, "loop", 1, 1000), 500500);
    uint64_t whole = lw_exec_fuel_used(ex) - u0;
    /* one unit per wasm instruction: 12 in each iteration of the loop's body */
    ck_assert_uint_eq(whole - half, 500 * 12);
    /* the same where the loop's back-edge is a fused conditional branch */
    lw_instance *latch = load(
        "(module"
        " (func (export \"down\") (param i32) (result i32) (local i32)"   /* 9 a round */
        "   (loop (local.set 1 (i32.add (local.get 1) (local.get 0)))"
        "         (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))"
        "   (local.get 1))"
        " (func (export \"up\") (param i32) (result i32) (local i32 i32)"    /* 11 a round */
        "   (loop (local.set 2 (i32.add (local.get 2) (i32.const 2)))"
        "         (br_if 0 (i32.lt_u (local.tee 1 (i32.add (local.get 1) (i32.const 1))) (local.get 0))))"
        "   (local.get 2))"
        /* 15 a round, through a conditional branch that is not taken */
        " (func (export \"skip\") (param i32) (result i32) (local i32)"
        "   (loop $l"
        "     (block $b (br_if $b (i32.eq (local.get 0) (i32.const -1)))"
        "               (local.set 1 (i32.add (local.get 1) (i32.const 1))))"
        "     (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))"
        "   (local.get 1))"
        /* the same with a register-register comparison (x < 0 unsigned: never) */
        " (func (export \"skip2\") (param i32) (result i32) (local i32 i32)"
        "   (loop $l"
        "     (block $b (br_if $b (i32.lt_u (local.get 0) (local.get 2)))"
        "               (local.set 1 (i32.add (local.get 1) (i32.const 1))))"
        "     (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))"
        "   (local.get 1)))");
    const char *fn[] = { "down", "up", "skip", "skip2" };
    const uint64_t per[] = { 9, 11, 15, 15 };
    for (int k = 0; k < 4; k++) {
        uint64_t used[2];
        for (int r = 0; r < 2; r++) {
            u0 = lw_exec_fuel_used(ex);
            (void)call_i32(latch, fn[k], 1, 100 * (r + 1));
            used[r] = lw_exec_fuel_used(ex) - u0;
        }
        ck_assert_uint_eq(used[1] - used[0], 100 * per[k]);
    }

    for (int64_t slice = 1; slice <= 13; slice += 3) {
        lw_exec_set_fuel_slice(ex, slice);
        uint64_t before = lw_exec_fuel_used(ex);
        lw_value arg = i32(1000);
        lw_status st = lw_exec_call(ex, export_func(inst, "loop"), &arg, 1);
        int yields = 0;
        while (st == LW_YIELD) {
            yields++;
            st = lw_exec_resume(ex);
        }
        ck_assert_int_eq(st, LW_OK);
        ck_assert_int_gt(yields, 0);
        lw_value r;
        lw_exec_results(ex, &r, 1);
        ck_assert_uint_eq(r.of.i32, 500500);
        /* the same work is charged whatever the slicing */
        ck_assert_uint_eq(lw_exec_fuel_used(ex) - before, whole);

        arg = i32(50);
        st = lw_exec_call(ex, export_func(inst, "calls"), &arg, 1);
        while (st == LW_YIELD)
            st = lw_exec_resume(ex);
        ck_assert_int_eq(st, LW_OK);
        lw_exec_results(ex, &r, 1);
        ck_assert_uint_eq(r.of.i32, 50);
    }
}
END_TEST

/*
 * The interpreter keeps the last backward branch target and the last
 * direct callee in registers and jumps there when the loaded target equals
 * them (TAKE in interp.c).  Here three loops take turns, the inner two run 0
 * to 4 times (so the register is often stale), and two callees alternate,
 * run whole and in slices that stop at every kind of branch.
 */
static lw_value call_resumed(lw_instance *inst, const char *name, const lw_value *args, uint32_t nargs);

static uint32_t nest_reference(uint32_t n)
{
    uint32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < i % 5; j++)
            acc += i * j;
        for (uint32_t k = 0; k < i % 3; k++)
            acc ^= k + i;
        acc = acc * 31 + ((i & 1) ? i << 1 : i + 1);
    }
    return acc;
}

START_TEST(predicted_jumps)
{
    lw_instance *inst = load(
        "(module"
        " (func $f (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))"
        " (func $g (param i32) (result i32) (i32.shl (local.get 0) (i32.const 1)))"
        " (func (export \"nest\") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $acc i32)"
        "  (block $done (loop $outer"
        "   (br_if $done (i32.ge_u (local.get $i) (local.get $n)))"
        "   (local.set $j (i32.const 0))"
        "   (block $b1 (loop $l1"
        "     (br_if $b1 (i32.ge_u (local.get $j) (i32.rem_u (local.get $i) (i32.const 5))))"
        "     (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $j))))"
        "     (local.set $j (i32.add (local.get $j) (i32.const 1)))"
        "     (br $l1)))"
        "   (local.set $j (i32.const 0))"
        "   (block $b2 (loop $l2"
        "     (br_if $b2 (i32.ge_u (local.get $j) (i32.rem_u (local.get $i) (i32.const 3))))"
        "     (local.set $acc (i32.xor (local.get $acc) (i32.add (local.get $j) (local.get $i))))"
        "     (local.set $j (i32.add (local.get $j) (i32.const 1)))"
        "     (br $l2)))"
        "   (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31))"
        "     (if (result i32) (i32.and (local.get $i) (i32.const 1))"
        "       (then (call $g (local.get $i))) (else (call $f (local.get $i))))))"
        "   (local.set $i (i32.add (local.get $i) (i32.const 1)))"
        "   (br $outer)))"
        "  (local.get $acc)))");
    ck_assert_uint_eq(call_i32(inst, "nest", 1, 2000), nest_reference(2000));
    for (int64_t slice = 1; slice <= 7; slice++) {
        lw_exec_set_fuel_slice(ex, slice);
        lw_value arg = i32(300 + (uint32_t)slice);
        ck_assert_uint_eq(call_resumed(inst, "nest", &arg, 1).of.i32, nest_reference(300 + (uint32_t)slice));
    }
}
END_TEST

START_TEST(fuel_limit)
{
    lw_instance *inst = load(loop_wat);
    lw_exec_set_fuel_limit(ex, 1000);
    ck_assert_str_eq(call_trap(inst, "loop", 1, 100000), "out of fuel");
    ck_assert_str_eq(lw_exec_backtrace(ex), "loop\n");
    lw_exec_set_fuel_limit(ex, 1000000);
    ck_assert_uint_eq(call_i32(inst, "loop", 1, 10), 55);
    ck_assert_uint_gt(lw_exec_fuel_used(ex), 1000);
}
END_TEST

/* ---- host functions ---- */

static lw_status host_add(lw_exec *e, void *env, uint64_t *slots)
{
    (void)e;
    slots[0] = (uint32_t)(slots[0] + slots[1] + *(uint32_t *)env);
    return LW_OK;
}

static lw_status host_trap(lw_exec *e, void *env, uint64_t *slots)
{
    (void)env;
    (void)slots;
    lw_exec_set_trap(e, "host says no");
    return LW_TRAP;
}

START_TEST(host_calls)
{
    static uint32_t bias = 1000;
    lw_valtype p[2] = { LW_I32, LW_I32 }, r[1] = { LW_I32 };
    lw_extern e = { .kind = LW_EXTERN_FUNC };
    e.of.func = lw_func_new_host(store, p, 2, r, 1, host_add, &bias, "add");
    lw_store_define(store, "env", "add", e);
    e.of.func = lw_func_new_host(store, NULL, 0, NULL, 0, host_trap, NULL, "no");
    lw_store_define(store, "env", "no", e);
    lw_instance *inst = load(
        "(module (import \"env\" \"add\" (func $add (param i32 i32) (result i32)))"
        " (import \"env\" \"no\" (func $no))"
        " (table funcref (elem $add))"
        " (type $t (func (param i32 i32) (result i32)))"
        " (func (export \"f\") (param i32) (result i32)"
        "   (i32.mul (call $add (local.get 0) (i32.const 2)) (i32.const 2)))"
        " (func (export \"ind\") (param i32) (result i32)"
        "   (call_indirect (type $t) (i32.const 1) (i32.const 2) (local.get 0)))"
        " (func (export \"no\") (result i32) (call $no) (i32.const 0)))");
    ck_assert_uint_eq(call_i32(inst, "f", 1, 5), 2 * 1007);
    ck_assert_uint_eq(call_i32(inst, "ind", 1, 0), 1003);
    ck_assert_str_eq(call_trap(inst, "ind", 1, 1), "undefined element");
    ck_assert_str_eq(call_trap(inst, "no", 0), "host says no");
}
END_TEST

/*
 * Calls between instances: the caller's instance and memory come back on
 * return (a call within one instance keeps them in registers), also when the
 * callee grew a shared memory and when fuel slices end anywhere in between.
 */
static lw_status host_who(lw_exec *e, void *env, uint64_t *slots)
{
    (void)slots;
    *(lw_instance **)env = lw_exec_caller_instance(e);
    return LW_OK;
}

/* Call `name`, resuming through every yield; its first result. */
static lw_value call_resumed(lw_instance *inst, const char *name, const lw_value *args, uint32_t nargs)
{
    lw_status st = lw_exec_call(ex, export_func(inst, name), args, nargs);
    while (st == LW_YIELD)
        st = lw_exec_resume(ex);
    ck_assert_msg(st == LW_OK, "%s: status %d, trap %s", name, st, lw_exec_trap_message(ex));
    lw_value r;
    lw_exec_results(ex, &r, 1);
    return r;
}

static uint32_t call_sliced(lw_instance *inst, const char *name)
{
    return call_resumed(inst, name, NULL, 0).of.i32;
}

START_TEST(cross_instance_calls)
{
    static lw_instance *who;
    lw_extern e = { .kind = LW_EXTERN_FUNC };
    e.of.func = lw_func_new_host(store, NULL, 0, NULL, 0, host_who, &who, "who");
    lw_store_define(store, "env", "who", e);
    lw_instance *a = load(
        "(module (import \"env\" \"who\" (func $who))"
        " (memory (export \"mem\") 1) (table (export \"tab\") 2 funcref)"
        " (func $grow (export \"grow\") (result i32) (call $who) (memory.grow (i32.const 1)))"
        " (func $sum (param i32) (result i32) (local i32)"
        "   (block (loop (br_if 1 (i32.eqz (local.get 0)))"
        "     (local.set 1 (i32.add (local.get 1) (local.get 0)))"
        "     (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br 0)))"
        "   (local.get 1))"
        " (func (export \"probe\") (result i32)"
        "   (i32.store (i32.const 70000) (i32.const 42)) (i32.load (i32.const 70000)))"
        " (elem (i32.const 0) $grow $sum))");
    lw_store_register(store, "A", a);
    lw_instance *b = load(
        "(module (import \"env\" \"who\" (func $who))"
        " (import \"A\" \"mem\" (memory 1)) (import \"A\" \"grow\" (func $grow (result i32)))"
        " (import \"A\" \"tab\" (table 2 funcref))"
        " (type $t (func (result i32))) (type $s (func (param i32) (result i32)))"
        " (func $inner (result i32) (call $grow))"
        /* memory grows two calls down, in the other instance */
        " (func (export \"run\") (result i32)"
        "   (drop (call_indirect (type $s) (i32.const 100) (i32.const 1)))"
        "   (drop (call $inner))"
        "   (i32.store (i32.const 70000) (i32.const 7))"
        "   (i32.add (i32.load (i32.const 70000)) (memory.size)) (call $who))"
        " (func (export \"run2\") (result i32)"
        "   (drop (call_indirect (type $t) (i32.const 0)))"
        "   (i32.add (call_indirect (type $s) (i32.const 10) (i32.const 1)) (memory.size))))");
    /* c has a memory of its own */
    lw_instance *c = load(
        "(module (import \"A\" \"probe\" (func $probe (result i32)))"
        " (memory 1) (data (i32.const 0) \"\\07\")"
        " (func (export \"own\") (result i32)"
        "   (i32.add (call $probe) (i32.load8_u (i32.const 0)))))");
    for (int64_t slice = 0; slice <= 7; slice++) {
        lw_exec_set_fuel_slice(ex, slice);
        uint32_t pages = (uint32_t)(2 + 2 * slice);   /* each round grows A's memory twice */
        ck_assert_uint_eq(call_sliced(b, "run"), 7 + pages);
        ck_assert_ptr_eq(who, b);
        ck_assert_uint_eq(call_sliced(b, "run2"), 55 + pages + 1);
        ck_assert_ptr_eq(who, a);
        ck_assert_uint_eq(call_sliced(a, "probe"), 42);
        ck_assert_uint_eq(call_sliced(c, "own"), 49);
    }
}
END_TEST

/*
 * Locals start at zero whatever an earlier call left in their slots: each
 * function ORs its locals together right after $dirty filled the slots.
 */
START_TEST(locals_zeroed)
{
    static const int shapes[][2] = { { 0, 5 }, { 2, 8 }, { 1, 9 }, { 0, 13 }, { 3, 19 } };
    enum { NSHAPES = sizeof shapes / sizeof shapes[0] };
    static char wat[8192];
    int n = 0;
#define OUT(...) (n += snprintf(wat + n, sizeof wat - (size_t)n, __VA_ARGS__))
    OUT("(module (func $dirty (local");
    for (int i = 0; i < 24; i++)
        OUT(" i64");
    OUT(")");
    for (int i = 0; i < 24; i++)
        OUT(" i64.const -1 local.set %d", i);
    OUT(")\n");
    for (int f = 0; f < NSHAPES; f++) {
        int np = shapes[f][0], nl = shapes[f][1];
        OUT(" (func $z%d (param", f);
        for (int i = 0; i < np; i++)
            OUT(" i32");
        OUT(") (result i64) (local");
        for (int i = 0; i < nl; i++)
            OUT(" i64");
        OUT(") i64.const 0");
        for (int i = np; i < np + nl; i++)
            OUT(" local.get %d i64.or", i);
        OUT(")\n");
    }
    OUT(" (func (export \"run\") (result i64)");
    for (int f = 0; f < NSHAPES; f++) {
        OUT(" call $dirty");
        for (int i = 0; i < shapes[f][0]; i++)
            OUT(" i32.const 9");
        OUT(" call $z%d%s", f, f ? " i64.or" : "");
    }
    OUT("))");
#undef OUT
    ck_assert_int_lt(n, (int)sizeof wat);
    lw_instance *inst = load(wat);
    lw_status st = lw_exec_call(ex, export_func(inst, "run"), NULL, 0);
    ck_assert_int_eq(st, LW_OK);
    lw_value r;
    lw_exec_results(ex, &r, 1);
    ck_assert_uint_eq(r.of.i64, 0);
}
END_TEST

/* ---- threads share a module's compiled code ---- */

static const char *shared_wat =
    "(module"
    " (func $fib (export \"fib\") (param i32) (result i32)"
    "   (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))"
    "     (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))"
    "                    (call $fib (i32.sub (local.get 0) (i32.const 2)))))))"
    " (func (export \"sum\") (param i32) (result i32) (local i32)"
    "   (block (loop (br_if 1 (i32.eqz (local.get 0)))"
    "     (local.set 1 (i32.add (local.get 1) (local.get 0)))"
    "     (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br 0)))"
    "   (local.get 1)))";

static void *thread_main(void *arg)
{
    (void)arg;
    lw_store *s = lw_store_new();
    lw_exec *e = lw_exec_new(s, NULL);
    lw_error err;
    lw_module *m = lw_module_load_wat(shared_wat, strlen(shared_wat), "shared", &err);
    lw_instance *inst = m ? lw_instantiate(s, m, e, &err) : NULL;
    uintptr_t ok = inst != NULL;
    for (int round = 0; ok && round < 20; round++) {
        lw_extern x;
        lw_value a = i32(15), r;
        ok = lw_instance_export(inst, round & 1 ? "fib" : "sum", &x) &&
             lw_exec_call(e, x.of.func, &a, 1) == LW_OK;
        lw_exec_results(e, &r, 1);
        ok = ok && r.of.i32 == (round & 1 ? 610u : 120u);
    }
    lw_exec_free(e);
    lw_store_free(s);
    if (m)
        lw_module_free(m);
    return (void *)ok;
}

START_TEST(threads_share_code)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *ok;
        pthread_join(th[i], &ok);
        ck_assert_ptr_nonnull(ok);
    }
}
END_TEST

/* ---- the disassembler ---- */

/* ---- the float register (passes.c) ---- */

/* The disassembly of the function named $name (translated by the calls before). */
static char *disasm_export(lw_instance *inst, const char *name)
{
    (void)export_func(inst, name);
    const lw_module *m = lw_instance_module(inst);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    for (uint32_t i = 0; i < m->m->nfuncs - m->m->nfunc_imports; i++)
        if (m->code[i] && strcmp(module_func_name(m->m, m->code[i]->func_index, (char[64]){0}, 64), name) == 0)
            disasm_func(out, m->code[i]);
    fclose(out);
    return buf;
}

static double call_f64(lw_instance *inst, const char *name, double a, double b)
{
    lw_value args[2] = { { .type = LW_F64 }, { .type = LW_F64 } };
    memcpy(&args[0].of.f64, &a, 8);
    memcpy(&args[1].of.f64, &b, 8);
    lw_value r = call_resumed(inst, name, args, 2);
    double d;
    memcpy(&d, &r.of.f64, 8);
    return d;
}

START_TEST(float_register)
{
    lw_instance *inst = load(
        "(module (memory 1)"
        /* a chain: each result feeds the next, with integer work in between */
        " (func $chain (export \"chain\") (param f64 f64) (result f64)"
        "   (f64.store (i32.const 8) (local.get 1))"
        "   (f64.sub (f64.div (f64.add (f64.mul (local.get 0) (f64.const 1.5))"
        "                              (f64.load (i32.add (i32.const 4) (i32.const 4))))"
        "                     (f64.const 2))"
        "            (f64.sqrt (local.get 0))))"
        /* the product reaches the add through a join: it must go by its slot */
        " (func $join (export \"join\") (param f64 f64) (result f64)"
        "   (f64.add (block (result f64)"
        "              (br_if 0 (f64.const 5) (f64.lt (local.get 1) (f64.const 0)))"
        "              (drop) (f64.mul (local.get 0) (local.get 0)))"
        "            (f64.const 1)))"
        /* a call between the product and its use: the register does not survive calls */
        " (func $one (result f64) (f64.const 1))"
        " (func $call (export \"call\") (param f64 f64) (result f64)"
        "   (f64.add (f64.mul (local.get 0) (local.get 1)) (call $one)))"
        /* a loop of dependent steps, run in small fuel slices too */
        " (func (export \"loop\") (param f64 f64) (result f64) (local i32)"
        "   (local.set 2 (i32.const 100))"
        "   (loop $l"
        "     (local.set 0 (f64.mul (f64.add (f64.mul (local.get 0) (local.get 1)) (f64.const 0.25))"
        "                           (f64.const 0.5)))"
        "     (f64.store (i32.const 16) (f64.neg (f64.abs (local.get 0))))"
        "     (br_if $l (local.tee 2 (i32.sub (local.get 2) (i32.const 1)))))"
        "   (f64.add (local.get 0) (f64.load (i32.const 16))))"
        /* through a local: the register carries it to its next reader, the slot to the rest */
        " (func $local (export \"local\") (param f64 f64) (result f64) (local f64)"
        "   (local.set 2 (f64.add (f64.mul (local.get 0) (local.get 1)) (f64.const 1)))"
        "   (local.set 2 (f64.sqrt (local.get 2)))"
        "   (f64.add (f64.mul (local.get 1) (local.get 2)) (local.get 2))))");
    double x = 9, y = 3;
    ck_assert(call_f64(inst, "chain", x, y) == ((x * 1.5 + y) / 2) - 3);
    ck_assert(call_f64(inst, "join", 4, 1) == 17);
    ck_assert(call_f64(inst, "join", 4, -1) == 6);
    ck_assert(call_f64(inst, "call", 4, 2.5) == 11);
    double v = 0.75;
    for (int i = 0; i < 100; i++)
        v = (v * 1.25 + 0.25) * 0.5;
    ck_assert(call_f64(inst, "loop", 0.75, 1.25) == v + -v);
    lw_exec_set_fuel_slice(ex, 3);
    ck_assert(call_f64(inst, "loop", 0.75, 1.25) == v + -v);
    ck_assert(call_f64(inst, "chain", x, y) == ((x * 1.5 + y) / 2) - 3);
    ck_assert(call_f64(inst, "local", 4, 2) == 2 * 3 + 3);
    lw_exec_set_fuel_slice(ex, 0);
    ck_assert(call_f64(inst, "local", 4, 2) == 2 * 3 + 3);
    ck_assert(call_f64(inst, "local", 12, 2) == 2 * 5 + 5);

    /* the chain runs through the register; the join and the call do not */
    char *d = disasm_export(inst, "chain");
    ck_assert_msg(strstr(d, "F64_MUL_IMM_R ") && strstr(d, "_RA_R") && strstr(d, "F64_SUB_RB"), "%s", d);
    free(d);
    d = disasm_export(inst, "local");
    ck_assert_msg(strstr(d, "_RA_W") && strstr(d, "F64_SQRT_RA_W"), "%s", d);
    free(d);
    d = disasm_export(inst, "join");
    ck_assert_msg(strstr(d, "f64.mul") && !strstr(d, "_R"), "%s", d);
    free(d);
    d = disasm_export(inst, "call");
    ck_assert_msg(strstr(d, "CALL_LOCAL") && !strstr(d, "_R"), "%s", d);
    free(d);
}
END_TEST

/* Pairs (passes.c): two adjacent instructions in one dispatch; each pair's result, traps and yields. */
/*
 * `x[i] += k * y[i]` (and -=): the load of x[i] leaves, the product and
 * the sum become one read-modify-write with k in a constant slot.  The
 * functions loop n times over the same element, so the constant slot
 * exists (functions with loops have them) and each round's result feeds
 * the next.
 */
START_TEST(axpy_to_mem)
{
    lw_instance *inst = load(
        "(module (memory 1)"
        " (func $set (export \"set\") (param i32 i32) (f64.store (local.get 0) (f64.convert_i32_s (local.get 1))))"
        " (func $get (export \"get\") (param i32) (result i32) (i32.trunc_f64_s (f64.load (local.get 0))))"
        " (func $axpy (export \"axpy\") (param $p i32) (param $q i32) (param $n i32) (result i32)"
        "   (loop $l"
        "     (f64.store (local.get $p) (f64.add (f64.load (local.get $p))"
        "                                        (f64.mul (f64.load offset=8 (local.get $q)) (f64.const 2.5))))"
        "     (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))"
        "   (i32.trunc_f64_s (f64.load (local.get $p))))"
        " (func $axmy (export \"axmy\") (param $p i32) (param $q i32) (param $n i32) (result i32)"
        "   (loop $l"
        "     (f64.store offset=16 (local.get $p) (f64.sub (f64.load offset=16 (local.get $p))"
        "                                        (f64.mul (f64.load (local.get $q)) (f64.const 3))))"
        "     (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))"
        "   (i32.trunc_f64_s (f64.load offset=16 (local.get $p))))"
        /* single precision, and the second load kept in a local read afterwards */
        " (func $axpy32 (export \"axpy32\") (param $p i32) (param $q i32) (param $n i32) (result i32) (local f32)"
        "   (f32.store (local.get $q) (f32.const 1.5))"
        "   (loop $l"
        "     (f32.store (local.get $p) (f32.add (f32.load (local.get $p))"
        "                                        (f32.mul (local.tee 3 (f32.load (local.get $q))) (f32.const 2))))"
        "     (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))"
        "   (i32.add (i32.trunc_f32_s (f32.load (local.get $p))) (i32.trunc_f32_s (local.get 3)))))");
    /* x = 1, y = 4: x + 2.5*4 three times */
    call_i32(inst, "set", 2, 0, 1);
    call_i32(inst, "set", 2, 72, 4);
    ck_assert_uint_eq(call_i32(inst, "axpy", 3, 0, 64, 3), 31);
    /* x and y the same element (72): x += 2.5x, twice: 4 -> 14 -> 49 */
    ck_assert_uint_eq(call_i32(inst, "axpy", 3, 72, 64, 2), 49);
    /* x - 3y: 10 - 3*4 - 3*4 */
    call_i32(inst, "set", 2, 216, 10);
    call_i32(inst, "set", 2, 72, 4);
    ck_assert_uint_eq(call_i32(inst, "axmy", 3, 200, 72, 2), (uint32_t)-14);
    /* y out of bounds: the trap comes before any store, so x is as it was */
    ck_assert_str_eq(call_trap(inst, "axpy", 3, 0, 65530, 1), "out of bounds memory access");
    ck_assert_uint_eq(call_i32(inst, "get", 1, 0), 31);
    /* x out of bounds (y fine): the same trap */
    ck_assert_str_eq(call_trap(inst, "axpy", 3, 65530, 64, 1), "out of bounds memory access");
    ck_assert_str_eq(call_trap(inst, "axmy", 3, 65520, 72, 1), "out of bounds memory access");
    /* f32: x = 0 at 300, y = 1.5 at 400: 0 + 3 + 3, plus the local's 1.5 -> 1 */
    ck_assert_uint_eq(call_i32(inst, "axpy32", 3, 300, 400, 2), 6 + 1);

    char *d = disasm_export(inst, "axpy");
    ck_assert_msg(strstr(d, "F64_ADD_MEM_MUL"), "%s", d);
    free(d);
    d = disasm_export(inst, "axmy");
    ck_assert_msg(strstr(d, "F64_SUB_MEM_MUL"), "%s", d);
    free(d);
    d = disasm_export(inst, "axpy32");
    ck_assert_msg(strstr(d, "F32_ADD_MEM_MUL"), "%s", d);
    free(d);
}
END_TEST

START_TEST(pairs)
{
    lw_instance *inst = load(
        "(module (memory 1)"
        /* adds and moves side by side, an add before a latch, before a call and a return */
        " (func $sum (export \"sum\") (param i32) (result i32) (local i32 i32 i64)"
        "   (block (br_if 0 (i32.eqz (local.get 0)))"
        "     (loop $l"
        "       (local.set 1 (i32.add (local.get 1) (local.get 0)))"
        "       (local.set 2 (i32.add (local.get 2) (i32.const 3)))"
        "       (local.set 3 (i64.add (local.get 3) (i64.const 5)))"
        "       (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))"
        "   (i32.add (i32.add (local.get 1) (local.get 2)) (i32.wrap_i64 (local.get 3))))"
        " (func $down (export \"down\") (param i32) (result i32)"
        "   (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))"
        "     (else (i32.add (call $down (i32.sub (local.get 0) (i32.const 1)))"
        "                    (call $down (i32.sub (local.get 0) (i32.const 2)))))))"
        /* a byte store and pointer bump before the latch; the store traps out of bounds */
        " (func $fill (export \"fill\") (param i32 i32) (result i32) (local i32)"
        "   (local.set 2 (local.get 0))"
        "   (loop $l"
        "     (i32.store8 (local.get 2) (i32.const 9))"
        "     (local.set 2 (i32.add (local.get 2) (i32.const 3)))"
        "     (br_if $l (i32.lt_u (local.get 2) (local.get 1))))"
        "   (i32.add (i32.load8_u (local.get 0)) (i32.load8_u offset=3 (local.get 0))))"
        /* FNV-style: xor a loaded byte, multiply */
        " (func (export \"fnv\") (param i32 i32) (result i32) (local i32)"
        "   (local.set 2 (i32.const 2166136261))"
        "   (loop $l"
        "     (local.set 2 (i32.mul (i32.xor (local.get 2) (i32.load8_u (local.get 0))) (i32.const 16777619)))"
        "     (br_if $l (i32.ne (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (local.get 1))))"
        "   (local.get 2)))");
    ck_assert_uint_eq(call_i32(inst, "sum", 1, 10), 55 + 30 + 50);
    ck_assert_uint_eq(call_i32(inst, "down", 1, 20), 6765);
    ck_assert_uint_eq(call_i32(inst, "fill", 2, 100, 110), 18);
    ck_assert_str_eq(call_trap(inst, "fill", 2, 65530, 65540), "out of bounds memory access");
    uint32_t h = 2166136261u;
    for (int i = 100; i < 110; i++)
        h = (h ^ 9u * ((i - 100) % 3 == 0)) * 16777619u;   /* fill put 9 at 100, 103, ... */
    ck_assert_uint_eq(call_i32(inst, "fnv", 2, 100, 110), h);

    /* the same with a yield every unit: pairs resume at their second half */
    for (int64_t slice = 1; slice <= 3; slice++) {
        lw_exec_set_fuel_slice(ex, slice);
        lw_value arg = i32(20);
        ck_assert_uint_eq(call_resumed(inst, "down", &arg, 1).of.i32, 6765);
        arg = i32(1000);
        ck_assert_uint_eq(call_resumed(inst, "sum", &arg, 1).of.i32, 500500 + 3000 + 5000);
    }
    lw_exec_set_fuel_slice(ex, 0);

    /* and they were made */
    char *d = disasm_export(inst, "down");
    ck_assert_msg(strstr(d, "A32I+") && strstr(d, "CALL_LOCAL"), "%s", d);
    free(d);
    d = disasm_export(inst, "fill");
    ck_assert_msg(strstr(d, "ST8_ADDI*"), "%s", d);   /* the whole loop: a self-loop */
    free(d);

    /* A float-register load (facc_pass) after an add is no pair's second
       half: the pair would run the load that writes its slot, and the
       sqrt, which reads the register, would get a stale value (it did). */
    inst = load(
        "(module (memory 1) (data (i32.const 8) \"\\00\\00\\00\\00\\00\\00\\22\\40\")"   /* 9.0 */
        " (func $root (export \"root\") (param i32) (result f64) (local i32)"
        "   (f64.add (f64.const 1) (f64.sqrt (f64.load (local.tee 1 (i32.add (local.get 0) (i32.const 8))))))))");
    lw_value at = i32(0);
    double root;
    lw_value rv = call_resumed(inst, "root", &at, 1);
    memcpy(&root, &rv.of.f64, sizeof root);
    ck_assert(root == 4.0);
    d = disasm_export(inst, "root");
    ck_assert_msg(strstr(d, "F64_LOAD_R") && !strstr(d, "A32I+"), "%s", d);
    free(d);
}
END_TEST

/*
 * Forwarding pairs (LW_FWD_OPS): a byte pair whose multiply reads its
 * result gets it in a register.  Each form against a C model: xor and
 * add (at an offset), a multiply that reads something else (the plain
 * pair stays), a trap, and fuel slices.
 */
START_TEST(forwarding_pairs)
{
    lw_instance *inst = load(
        "(module (memory 1) (data (i32.const 100) \"\\01\\fe\\37\\80\\00\\ff\\10\\22\")"
        " (func $fnv (export \"fnv\") (param i32 i32) (result i32) (local i32)"
        "   (local.set 2 (i32.const 2166136261))"
        "   (loop $l"
        "     (local.set 2 (i32.mul (i32.xor (local.get 2) (i32.load8_u (local.get 0))) (i32.const 16777619)))"
        "     (br_if $l (i32.ne (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (local.get 1))))"
        "   (local.get 2))"
        /* h = (h + byte) * 31 */
        " (func $poly (export \"poly\") (param i32 i32) (result i32) (local i32)"
        "   (loop $l"
        "     (local.set 2 (i32.mul (i32.add (local.get 2) (i32.load8_u offset=1 (local.get 0)))"
        "                           (i32.const 31)))"
        "     (br_if $l (i32.ne (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (local.get 1))))"
        "   (local.get 2))"
        /* the multiply reads another local: no forwarding */
        " (func $other (export \"other\") (param i32) (result i32) (local i32 i32)"
        "   (local.set 1 (i32.xor (local.get 0) (i32.load8_u (i32.const 101))))"
        "   (local.set 2 (i32.mul (local.get 0) (i32.const 3)))"
        "   (i32.sub (local.get 1) (local.get 2))))");
    uint8_t bytes[] = { 0x01, 0xfe, 0x37, 0x80, 0x00, 0xff, 0x10, 0x22 };
    uint32_t h = 2166136261u, p = 0;
    for (int i = 0; i < 8; i++)
        h = (h ^ bytes[i]) * 16777619u;
    for (int i = 1; i < 8; i++)
        p = (p + bytes[i]) * 31u;
    ck_assert_uint_eq(call_i32(inst, "fnv", 2, 100, 108), h);
    ck_assert_uint_eq(call_i32(inst, "poly", 2, 100, 107), p);
    ck_assert_uint_eq(call_i32(inst, "other", 1, 7), (7u ^ 0xfe) - 21u);
    ck_assert_str_eq(call_trap(inst, "fnv", 2, 65534, 2), "out of bounds memory access");
    ck_assert_str_eq(call_trap(inst, "poly", 2, 65533, 2), "out of bounds memory access");
    for (int64_t slice = 1; slice <= 5; slice += 2) {
        lw_exec_set_fuel_slice(ex, slice);
        lw_value args[2] = { i32(100), i32(108) };
        ck_assert_uint_eq(call_resumed(inst, "fnv", args, 2).of.i32, h);
        args[1] = i32(107);
        ck_assert_uint_eq(call_resumed(inst, "poly", args, 2).of.i32, p);
    }
    lw_exec_set_fuel_slice(ex, 0);

    char *d = disasm_export(inst, "fnv");
    ck_assert_msg(strstr(d, "XORLD8>") && strstr(d, "I32_MUL_IMM"), "%s", d);
    free(d);
    d = disasm_export(inst, "poly");
    ck_assert_msg(strstr(d, "ADDLD8>"), "%s", d);
    free(d);
    d = disasm_export(inst, "other");
    ck_assert_msg(strstr(d, "XORLD8+") && !strstr(d, "XORLD8>"), "%s", d);
    free(d);
}
END_TEST

/* Fill loops whose body is one store-and-bump pair: the self-loop handlers. */
static const char *self_wat =
    "(module (memory 1)"
    /* a byte every `stride`, counted by a separate i64 (the sieve's inner loop) */
    " (func $strided (export \"strided\") (param $p i32) (param $stride i32) (param $j i64) (param $step i64)"
    "   (result i64)"
    "   (loop $l"
    "     (i32.store8 (local.get $p) (i32.const 7))"
    "     (local.set $p (i32.add (local.get $p) (local.get $stride)))"
    "     (br_if $l (i64.lt_u (local.tee $j (i64.add (local.get $j) (local.get $step))) (i64.const 1000))))"
    "   (i64.add (local.get $j) (i64.extend_i32_u (local.get $p))))"
    /* words, at an offset, counted down */
    " (func $fill32 (export \"fill32\") (param $p i32) (param $n i32) (param $v i32) (result i32)"
    "   (loop $l"
    "     (i32.store offset=8 (local.get $p) (local.get $v))"
    "     (local.set $p (i32.add (local.get $p) (i32.const 4)))"
    "     (br_if $l (i32.ne (local.tee $n (i32.add (local.get $n) (i32.const -1))) (i32.const 0))))"
    "   (i32.add (local.get $p) (local.get $n)))"
    /* the pointer is the counter: up to an end pointer */
    " (func $fill64 (export \"fill64\") (param $p i32) (param $end i32) (param $v i64) (result i32)"
    "   (loop $l"
    "     (i64.store (local.get $p) (local.get $v))"
    "     (br_if $l (i32.ne (local.tee $p (i32.add (local.get $p) (i32.const 8))) (local.get $end))))"
    "   (local.get $p))"
    /* the value stored is the pointer: no register copy, the pair stays */
    " (func $self_value (export \"self_value\") (param $p i32) (param $n i32) (result i32)"
    "   (loop $l"
    "     (i32.store (local.get $p) (local.get $p))"
    "     (local.set $p (i32.add (local.get $p) (i32.const 4)))"
    "     (br_if $l (i32.ne (local.tee $n (i32.add (local.get $n) (i32.const -1))) (i32.const 0))))"
    "   (local.get $p))"
    " (func (export \"clear\") (memory.fill (i32.const 0) (i32.const 0) (i32.const 65536)))"
    " (func (export \"peek8\") (param i32) (result i32) (i32.load8_u (local.get 0)))"
    " (func (export \"peek32\") (param i32) (result i32) (i32.load (local.get 0)))"
    " (func (export \"peek64\") (param i32) (result i64) (i64.load (local.get 0))))";

static uint64_t fuel_of(lw_instance *inst, const char *name, const lw_value *args, uint32_t n)
{
    uint64_t u0 = lw_exec_fuel_used(ex);
    (void)call_resumed(inst, name, args, n);
    return lw_exec_fuel_used(ex) - u0;
}

START_TEST(self_loops)
{
    lw_instance *inst = load(self_wat);
    const lw_value strided[4] = { i32(100), i32(7), i64(0), i64(3) };   /* 334 rounds */
    uint64_t whole = 0;
    /* no slices; a yield at every back-edge; some back-edges a slice (the kernel's countdown) */
    const int64_t slices[] = { 0, 1, 3, 5, 100, 1001 };
    for (size_t k = 0; k < sizeof slices / sizeof slices[0]; k++) {
        int64_t slice = slices[k];
        lw_exec_set_fuel_slice(ex, slice);
        (void)call_resumed(inst, "clear", NULL, 0);
        uint64_t used = fuel_of(inst, "strided", strided, 4);
        if (!slice)
            whole = used;
        /* one unit a wasm instruction: `loop`; 14 a round; the loop's and the function's
           `end` and the four that make the result */
        ck_assert_uint_eq(whole, 1 + 334 * 14 + 6);
        ck_assert_uint_eq(used, whole);   /* the same charge, however sliced */
        ck_assert_uint_eq(call_resumed(inst, "strided", strided, 4).of.i64, 1002 + 100 + 7 * 334);
        ck_assert_uint_eq(call_i32(inst, "peek8", 1, 100), 7);
        ck_assert_uint_eq(call_i32(inst, "peek8", 1, 100 + 7 * 333), 7);
        ck_assert_uint_eq(call_i32(inst, "peek8", 1, 100 + 7 * 334), 0);
        ck_assert_uint_eq(call_i32(inst, "peek8", 1, 101), 0);

        lw_value a[3] = { i32(4000), i32(50), i32(0xdeadbeef) };
        ck_assert_uint_eq(call_resumed(inst, "fill32", a, 3).of.i32, 4200);
        ck_assert_uint_eq(call_i32(inst, "peek32", 1, 4008), 0xdeadbeef);
        ck_assert_uint_eq(call_i32(inst, "peek32", 1, 4204), 0xdeadbeef);
        ck_assert_uint_eq(call_i32(inst, "peek32", 1, 4208), 0);
        ck_assert_uint_eq(call_i32(inst, "peek32", 1, 4004), 0);

        a[0] = i32(8000), a[1] = i32(8160), a[2] = i64(0x0123456789abcdefull);
        ck_assert_uint_eq(call_resumed(inst, "fill64", a, 3).of.i32, 8160);
        lw_value at = i32(8152);
        ck_assert_uint_eq(call_resumed(inst, "peek64", &at, 1).of.i64, 0x0123456789abcdefull);
        at = i32(8160);
        ck_assert_uint_eq(call_resumed(inst, "peek64", &at, 1).of.i64, 0);

        a[0] = i32(12000), a[1] = i32(10);
        ck_assert_uint_eq(call_resumed(inst, "self_value", a, 2).of.i32, 12040);
        ck_assert_uint_eq(call_i32(inst, "peek32", 1, 12036), 12036);
    }
    lw_exec_set_fuel_slice(ex, 0);

    /* 14 wasm instructions a round, charged each round (334 and 167 rounds) */
    const lw_value half[4] = { i32(100), i32(7), i64(0), i64(6) };
    ck_assert_uint_eq(whole - fuel_of(inst, "strided", half, 4), 167 * 14);

    /* a store out of bounds traps with the earlier ones made, the later not */
    (void)call_resumed(inst, "clear", NULL, 0);
    lw_value args[4] = { i32(65536 - 7 * 5 + 3), i32(7), i64(0), i64(1) };
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "strided"), args, 4), LW_TRAP);
    ck_assert_str_eq(lw_exec_trap_message(ex), "out of bounds memory access");
    ck_assert_uint_eq(call_i32(inst, "peek8", 1, 65536 - 7 * 5 + 3), 7);
    ck_assert_uint_eq(call_i32(inst, "peek8", 1, 65536 - 7 + 3), 7);
    args[0] = i32(65536 - 16), args[1] = i32(65536 + 48), args[2] = i64(1);
    ck_assert_int_eq(lw_exec_call(ex, export_func(inst, "fill64"), args, 3), LW_TRAP);
    ck_assert_str_eq(lw_exec_trap_message(ex), "out of bounds memory access");
    ck_assert_uint_eq(call_i32(inst, "peek32", 1, 65536 - 8), 1);

    /* and they were made, except where the value is the pointer */
    const char *fn[] = { "strided", "fill32", "fill64", "self_value" };
    const char *want[] = { "ST8_ADD*", "ST32_ADDI*", "ST64_ADDI*", "ST32_ADDI+" };
    for (int k = 0; k < 4; k++) {
        char *d = disasm_export(inst, fn[k]);
        ck_assert_msg(strstr(d, want[k]), "%s", d);
        free(d);
    }
}
END_TEST

/*
 * The strided fill against a model in C, over random starts, strides and
 * steps (some wrapping the pointer past 4 GiB, some running off the end of
 * memory) and random fuel slices.
 */
START_TEST(self_loop_model)
{
    lw_instance *inst = load(self_wat);
    static uint8_t model[65536];
    uint64_t rng = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 60; round++) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        uint32_t p0 = (uint32_t)(rng >> 33) % 70000;
        uint32_t stride = (uint32_t)(rng >> 20) % 97 + 1;
        if (round % 7 == 0)
            stride = (uint32_t)-stride;   /* backwards: wraps below 0 */
        uint64_t step = (rng >> 12) % 40 + 1;
        int64_t slice = (int64_t)((rng >> 5) % 4 == 0 ? 0 : (rng >> 40) % 50 + 1);
        lw_exec_set_fuel_slice(ex, slice);
        (void)call_resumed(inst, "clear", NULL, 0);

        memset(model, 0, sizeof model);
        uint32_t p = p0;
        uint64_t j = 0;
        bool trap = false;
        do {
            if (p >= sizeof model) {
                trap = true;
                break;
            }
            model[p] = 7;
            p += stride;
            j += step;
        } while (j < 1000);

        lw_value args[4] = { i32(p0), i32(stride), i64(0), i64(step) };
        lw_status st = lw_exec_call(ex, export_func(inst, "strided"), args, 4);
        while (st == LW_YIELD)
            st = lw_exec_resume(ex);
        if (trap) {
            ck_assert_int_eq(st, LW_TRAP);
            ck_assert_str_eq(lw_exec_trap_message(ex), "out of bounds memory access");
        } else {
            ck_assert_int_eq(st, LW_OK);
            lw_value r;
            lw_exec_results(ex, &r, 1);
            ck_assert_uint_eq(r.of.i64, j + p);
        }
        lw_exec_set_fuel_slice(ex, 0);
        for (uint32_t a = 0; a < sizeof model; a += 1 + a % 13)
            ck_assert_msg(call_i32(inst, "peek8", 1, a) == model[a], "round %d: byte %u", round, a);
    }
}
END_TEST

START_TEST(disasm_smoke)
{
    lw_instance *inst = load(
        "(module (func (export \"f\") (param i32) (result i32)"
        "  (block (result i32) (i32.const 1) (local.get 0) (br_table 0 0))))");
    ck_assert_uint_eq(call_i32(inst, "f", 1, 0), 1);
    const lw_module *m = lw_instance_module(inst);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    disasm_func(out, m->code[0]);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(buf, "JMP_TABLE"));
    ck_assert_ptr_nonnull(strstr(buf, "RET"));
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("translate");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, block_results);
    tcase_add_test(tc, br_nested_with_values);
    tcase_add_test(tc, br_table_values);
    tcase_add_test(tc, loop_params);
    tcase_add_test(tc, if_else_results);
    tcase_add_test(tc, add_and_branch);
    tcase_add_test(tc, local_set_under_alias);
    tcase_add_test(tc, calls_and_memory);
    tcase_add_test(tc, i64_and_floats);
    tcase_add_test(tc, wrap_folding);
    tcase_add_test(tc, load_operand_fusion);
    tcase_add_test(tc, store_then_add);
    tcase_add_test(tc, load_compare_branch);
    tcase_add_test(tc, traps_and_backtrace);
    tcase_add_test(tc, fuel_slices);
    tcase_add_test(tc, fuel_limit);
    tcase_add_test(tc, host_calls);
    tcase_add_test(tc, cross_instance_calls);
    tcase_add_test(tc, locals_zeroed);
    tcase_add_test(tc, disasm_smoke);
    tcase_add_test(tc, float_register);
    tcase_add_test(tc, axpy_to_mem);
    tcase_add_test(tc, pairs);
    tcase_add_test(tc, forwarding_pairs);
    tcase_add_test(tc, self_loops);
    tcase_add_test(tc, self_loop_model);
    tcase_add_test(tc, predicted_jumps);
    tcase_add_test(tc, threads_share_code);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
