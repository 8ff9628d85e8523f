/*
 * Wide frames: a module that uses v128 anywhere runs with two slots (16
 * bytes) per value (translate.c).  These tests move v128 values through
 * every path that copies values without computing on them — locals,
 * params, results, block results and branches, select, globals, calls —
 * and check that scalars still work beside them, that host functions get
 * their arguments packed and give results back, and that wide and narrow
 * modules call each other with their values moved between the widths.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leonardo.h"

static lw_module *load(const char *text)
{
    lw_error err;
    lw_module *m = lw_module_load_wat(text, strlen(text), "wide.wat", &err);
    if (!m)
        fprintf(stderr, "%s\n", err.msg);
    ck_assert_ptr_nonnull(m);
    return m;
}

static lw_value v128_of(uint64_t lo, uint64_t hi)
{
    lw_value v;
    memset(&v, 0, sizeof v);
    v.type = LW_V128;
    memcpy(v.of.v128, &lo, 8);
    memcpy(v.of.v128 + 8, &hi, 8);
    return v;
}

static void check_v128(const lw_value *v, uint64_t lo, uint64_t hi)
{
    uint64_t got[2];
    ck_assert_int_eq(v->type, LW_V128);
    memcpy(got, v->of.v128, 16);
    ck_assert_msg(got[0] == lo && got[1] == hi, "got %016llx:%016llx, wanted %016llx:%016llx",
                  (unsigned long long)got[1], (unsigned long long)got[0], (unsigned long long)hi,
                  (unsigned long long)lo);
}

static const char wide_text[] =
    "(module\n"
    "  (import \"host\" \"mix\" (func $mix (param i32 i64 f64) (result i64)))\n"
    "  (global $g (mut v128) (v128.const i64x2 0x1111 0x2222))\n"
    /* params, locals and results: v128 beside scalars */
    "  (func $swap (export \"swap\") (param $a v128) (param $n i32) (param $b v128) (result v128 i32 v128)\n"
    "    (local $t v128)\n"
    "    (local.set $t (local.get $a))\n"
    "    (local.get $b) (i32.add (local.get $n) (i32.const 1)) (local.get $t))\n"
    /* a call between wide functions, and block results and branches */
    "  (func (export \"call\") (param $a v128) (param $b v128) (result v128)\n"
    "    (block $out (result v128)\n"
    "      (call $swap (local.get $a) (i32.const 41) (local.get $b))\n"
    "      (drop) (drop)\n"
    "      (br $out)))\n"
    /* select of v128 */
    "  (func (export \"pick\") (param $c i32) (param $a v128) (param $b v128) (result v128)\n"
    "    (select (local.get $a) (local.get $b) (local.get $c)))\n"
    /* a v128 global */
    "  (func (export \"get\") (result v128) (global.get $g))\n"
    "  (func (export \"set\") (param v128) (global.set $g (local.get 0)))\n"
    /* a host call from a wide frame: its arguments packed, its result back */
    "  (func (export \"host\") (param $x i32) (result i64)\n"
    "    (local v128)\n"
    "    (call $mix (local.get $x) (i64.const 1000) (f64.const 0.5)))\n"
    /* scalar arithmetic and a loop in a wide frame */
    "  (func (export \"sum\") (param $n i32) (result i64) (local $i i32) (local $s i64) (local v128)\n"
    "    (loop $l\n"
    "      (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $i))))\n"
    "      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))\n"
    "    (local.get $s))\n"
    ")";

static lw_status host_mix(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex;
    (void)env;
    double d;
    memcpy(&d, &slots[2], 8);
    slots[0] = (uint64_t)(uint32_t)slots[0] * 7 + slots[1] + (uint64_t)(d * 4);
    return LW_OK;
}

typedef struct {
    lw_store *s;
    lw_module *m;
    lw_instance *inst;
    lw_exec *ex;
} Env;

static void env_open(Env *e)
{
    e->s = lw_store_new();
    lw_valtype p[3] = {LW_I32, LW_I64, LW_F64}, r = LW_I64;
    lw_func *f = lw_func_new_host(e->s, p, 3, &r, 1, host_mix, NULL, "mix");
    lw_store_define(e->s, "host", "mix", (lw_extern){.kind = LW_EXTERN_FUNC, .of.func = f});
    e->m = load(wide_text);
    e->ex = lw_exec_new(e->s, NULL);
    lw_error err;
    e->inst = lw_instantiate(e->s, e->m, e->ex, &err);
    if (!e->inst)
        fprintf(stderr, "%s\n", err.msg);
    ck_assert_ptr_nonnull(e->inst);
}

static void env_close(Env *e)
{
    lw_exec_free(e->ex);
    lw_store_free(e->s);
    lw_module_free(e->m);
}

static lw_status call(Env *e, const char *name, const lw_value *args, uint32_t n)
{
    lw_extern x;
    ck_assert(lw_instance_export(e->inst, name, &x));
    lw_status st = lw_exec_call(e->ex, x.of.func, args, n);
    ck_assert_msg(st == LW_OK, "%s: %s", name, lw_exec_trap_message(e->ex));
    return st;
}

START_TEST(params_locals_results)
{
    Env e;
    env_open(&e);
    lw_value args[3] = {v128_of(1, 2), {.type = LW_I32, .of.i32 = 41}, v128_of(3, 4)};
    call(&e, "swap", args, 3);
    lw_value r[3];
    lw_exec_results(e.ex, r, 3);
    check_v128(&r[0], 3, 4);
    ck_assert_int_eq(r[1].type, LW_I32);
    ck_assert_uint_eq(r[1].of.i32, 42);
    check_v128(&r[2], 1, 2);

    lw_value two[2] = {v128_of(5, 6), v128_of(7, 8)};
    call(&e, "call", two, 2);
    lw_exec_results(e.ex, r, 1);
    check_v128(&r[0], 7, 8);
    env_close(&e);
}
END_TEST

START_TEST(select_and_globals)
{
    Env e;
    env_open(&e);
    lw_value args[3] = {{.type = LW_I32, .of.i32 = 1}, v128_of(10, 11), v128_of(20, 21)};
    lw_value r;
    call(&e, "pick", args, 3);
    lw_exec_results(e.ex, &r, 1);
    check_v128(&r, 10, 11);
    args[0].of.i32 = 0;
    call(&e, "pick", args, 3);
    lw_exec_results(e.ex, &r, 1);
    check_v128(&r, 20, 21);

    call(&e, "get", NULL, 0);
    lw_exec_results(e.ex, &r, 1);
    check_v128(&r, 0x1111, 0x2222);
    lw_value v = v128_of(0xAAAABBBBCCCCDDDDull, 0x1234567890ABCDEFull);
    call(&e, "set", &v, 1);
    call(&e, "get", NULL, 0);
    lw_exec_results(e.ex, &r, 1);
    check_v128(&r, 0xAAAABBBBCCCCDDDDull, 0x1234567890ABCDEFull);
    env_close(&e);
}
END_TEST

START_TEST(host_calls_and_scalars)
{
    Env e;
    env_open(&e);
    lw_value x = {.type = LW_I32, .of.i32 = 3};
    lw_value r;
    call(&e, "host", &x, 1);
    lw_exec_results(e.ex, &r, 1);
    ck_assert_uint_eq(r.of.i64, 3 * 7 + 1000 + 2);
    x.of.i32 = 1000;
    call(&e, "sum", &x, 1);
    lw_exec_results(e.ex, &r, 1);
    ck_assert_uint_eq(r.of.i64, 999 * 1000 / 2);
    env_close(&e);
}
END_TEST

/* Calls between a wide and a narrow module, both ways: the arguments and
   results move between the two widths. */
START_TEST(wide_and_narrow_call_each_other)
{
    static const char narrow[] =
        "(module (import \"w\" \"mul\" (func $mul (param i32 i64 f64) (result i64 f64 i32)))\n"
        "  (func (export \"three\") (param $a i32) (param $b i64) (result i64 i32 f64) (local $f f64) (local $i i32)\n"
        "    (call $mul (local.get $a) (local.get $b) (f64.const 1.5))\n"
        "    (local.set $i)\n"
        "    (local.set $f)\n"
        "    (i32.add (local.get $i) (i32.const 100))\n"
        "    (local.get $f)))";
    static const char wide[] =
        "(module (import \"n\" \"plus\" (func $plus (param i64 i64) (result i64)))\n"
        "  (func (export \"mul\") (param $a i32) (param $b i64) (param $c f64) (result i64 f64 i32) (local v128)\n"
        "    (i64.mul (i64.extend_i32_u (local.get $a)) (local.get $b))\n"
        "    (f64.mul (local.get $c) (f64.const 2))\n"
        "    (local.get $a))\n"
        "  (func (export \"viaplus\") (param i64) (result i64) (local v128)\n"
        "    (call $plus (local.get 0) (i64.const 5))))";
    lw_store *s = lw_store_new();
    lw_exec *ex = lw_exec_new(s, NULL);
    lw_module *mw = load(wide);
    lw_error err;
    /* A narrow "plus" for the wide module, then the narrow module that
       calls the wide one's "mul". */
    static const char plus_only[] =
        "(module (func (export \"plus\") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1))))";
    lw_module *mp = load(plus_only);
    lw_instance *ip = lw_instantiate(s, mp, ex, &err);
    ck_assert_ptr_nonnull(ip);
    lw_extern x;
    ck_assert(lw_instance_export(ip, "plus", &x));
    lw_store_define(s, "n", "plus", x);
    lw_instance *iw = lw_instantiate(s, mw, ex, &err);
    ck_assert_ptr_nonnull(iw);
    ck_assert(lw_instance_export(iw, "mul", &x));
    lw_store_define(s, "w", "mul", x);
    lw_module *mn = load(narrow);
    lw_instance *in = lw_instantiate(s, mn, ex, &err);
    ck_assert_ptr_nonnull(in);

    /* narrow -> wide */
    ck_assert(lw_instance_export(in, "three", &x));
    lw_value args[2] = {{.type = LW_I32, .of.i32 = 6}, {.type = LW_I64, .of.i64 = 7}};
    ck_assert_int_eq(lw_exec_call(ex, x.of.func, args, 2), LW_OK);
    lw_value r[3];
    lw_exec_results(ex, r, 3);
    ck_assert_uint_eq(r[0].of.i64, 42);
    ck_assert_uint_eq(r[1].of.i32, 106);
    double f;
    memcpy(&f, &r[2].of.f64, 8);
    ck_assert(f == 3.0);
    /* wide -> narrow */
    ck_assert(lw_instance_export(iw, "viaplus", &x));
    lw_value a = {.type = LW_I64, .of.i64 = 37};
    ck_assert_int_eq(lw_exec_call(ex, x.of.func, &a, 1), LW_OK);
    lw_exec_results(ex, r, 1);
    ck_assert_uint_eq(r[0].of.i64, 42);
    lw_exec_free(ex);
    lw_store_free(s);
    lw_module_free(mn);
    lw_module_free(mw);
    lw_module_free(mp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wide");
    TCase *t = tcase_create("frames");
    tcase_add_test(t, params_locals_results);
    tcase_add_test(t, select_and_globals);
    tcase_add_test(t, host_calls_and_scalars);
    tcase_add_test(t, wide_and_narrow_call_each_other);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
