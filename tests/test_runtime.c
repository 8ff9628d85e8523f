/*
 * Tests of the runtime objects: linear memory, tables, the store's name
 * table, function type interning, import resolution and instantiation.
 * Modules are tiny hand-encoded binaries, so these tests depend only on the
 * binary decoder and validator.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leonardo.h"
#include "interp/runtime.h"
#include "interp/store.h"
#include "mem/memory.h"

/* ---- linear memory ---- */

START_TEST(memory_zero_pages)
{
    lw_memory *m = memory_new(0, 0, false);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->size, 0);
    ck_assert_uint_eq(m->pages, 0);
    ck_assert_int_eq(memory_grow(m, 0), 0);
    ck_assert_int_eq(memory_grow(m, 1), 0);
    ck_assert_uint_eq(m->size, 65536);
    for (uint32_t i = 0; i < 65536; i++)
        ck_assert_uint_eq(m->data[i], 0);
    memory_free(m);
}
END_TEST

START_TEST(memory_grow_limits)
{
    lw_memory *m = memory_new(1, 3, true);
    ck_assert_ptr_nonnull(m);
    m->data[0] = 42;
    m->data[65535] = 7;
    ck_assert_int_eq(memory_grow(m, 1), 1);
    ck_assert_int_eq(memory_grow(m, 2), -1);    /* past the maximum: unchanged */
    ck_assert_uint_eq(m->pages, 2);
    ck_assert_int_eq(memory_grow(m, 1), 2);
    ck_assert_int_eq(memory_grow(m, 1), -1);
    ck_assert_int_eq(memory_grow(m, 0), 3);
    ck_assert_uint_eq(m->size, 3 * 65536);
    /* old contents kept, new pages zero */
    ck_assert_uint_eq(m->data[0], 42);
    ck_assert_uint_eq(m->data[65535], 7);
    ck_assert_uint_eq(m->data[65536], 0);
    ck_assert_uint_eq(m->data[3 * 65536 - 1], 0);
    memory_free(m);

    ck_assert_ptr_null(memory_new(2, 1, true));       /* min > max */
    ck_assert_ptr_null(memory_new(65537, 0, false));   /* over 4 GiB */
    ck_assert_ptr_null(memory_new(0, 65537, true));

    m = memory_new(0, 0, false);
    ck_assert_int_eq(memory_grow(m, 65537), -1);       /* over 4 GiB */
    ck_assert_int_eq(memory_grow(m, UINT32_MAX), -1);
    ck_assert_int_eq(memory_grow(m, 2), 0);
    ck_assert_int_eq(memory_grow(m, 65535), -1);
    ck_assert_uint_eq(m->pages, 2);
    memory_free(m);

    m = memory_new(1, 1, true);
    ck_assert_int_eq(memory_grow(m, 1), -1);
    memory_free(m);
}
END_TEST

START_TEST(table_grow_limits)
{
    lw_store *s = lw_store_new();
    lw_value null = { .type = LW_FUNCREF };
    lw_table *t = lw_table_new(s, LW_FUNCREF, 2, 4, null);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(lw_table_size(t), 2);
    ck_assert_int_eq(table_grow(t, 1, 0x1234), 2);
    ck_assert_uint_eq(t->elems[2], 0x1234);
    ck_assert_uint_eq(t->elems[1], 0);
    ck_assert_int_eq(table_grow(t, 2, 0), -1);
    ck_assert_int_eq(table_grow(t, 1, 0), 3);
    ck_assert_int_eq(table_grow(t, 0, 0), 4);
    ck_assert_uint_eq(lw_table_size(t), 4);

    lw_table *u = lw_table_new(s, LW_EXTERNREF, 0, UINT32_MAX, (lw_value){ .type = LW_EXTERNREF });
    ck_assert_int_eq(table_grow(u, UINT32_MAX, 0), -1);   /* too big: fails cleanly */
    ck_assert_int_eq(table_grow(u, 10, 0), 0);
    ck_assert_uint_eq(lw_table_size(u), 10);
    lw_store_free(s);
}
END_TEST

/* ---- the store ---- */

START_TEST(store_define_lookup)
{
    lw_store *s = lw_store_new();
    lw_value v = { .type = LW_I32, .of.i32 = 5 };
    lw_global *g1 = lw_global_new(s, v, false);
    v.of.i32 = 6;
    lw_global *g2 = lw_global_new(s, v, true);
    lw_extern e = { .kind = LW_EXTERN_GLOBAL, .of.global = g1 }, out;

    ck_assert(!store_lookup(s, "m", 1, "g", 1, &out));
    lw_store_define(s, "m", "g", e);
    ck_assert(store_lookup(s, "m", 1, "g", 1, &out));
    ck_assert_ptr_eq(out.of.global, g1);
    ck_assert(!store_lookup(s, "m", 1, "h", 1, &out));
    ck_assert(!store_lookup(s, "mg", 2, "", 0, &out));   /* the split matters */

    e.of.global = g2;
    lw_store_define(s, "m", "g", e);                      /* replaces */
    ck_assert(store_lookup(s, "m", 1, "g", 1, &out));
    ck_assert_ptr_eq(out.of.global, g2);
    ck_assert_uint_eq(lw_global_get(out.of.global).of.i32, 6);

    /* names holding NUL bytes are distinct from their prefixes */
    store_define_n(s, "m", 1, "a\0b", 3, e);
    ck_assert(store_lookup(s, "m", 1, "a\0b", 3, &out));
    ck_assert(!store_lookup(s, "m", 1, "a", 1, &out));

    /* many names: the table rehashes and keeps them all */
    char name[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "n%d", i);
        e.of.global = (i & 1) ? g1 : g2;
        lw_store_define(s, "many", name, e);
    }
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "n%d", i);
        ck_assert(store_lookup(s, "many", 4, name, (uint32_t)strlen(name), &out));
        ck_assert_ptr_eq(out.of.global, (i & 1) ? g1 : g2);
    }
    ck_assert(store_lookup(s, "m", 1, "g", 1, &out));
    lw_store_free(s);
}
END_TEST

START_TEST(sig_interning)
{
    ValType i32 = VT_I32, i64 = VT_I64;
    ValType two[2] = { VT_I32, VT_F64 };
    FuncType a = { 1, 0, &i32, NULL };       /* (i32) -> () */
    FuncType a2 = { 1, 0, &i32, NULL };
    FuncType b = { 0, 1, NULL, &i32 };       /* () -> (i32) */
    FuncType c = { 1, 0, &i64, NULL };       /* (i64) -> () */
    FuncType d = { 2, 0, two, NULL };
    FuncType e = { 1, 1, two, two + 1 };     /* (i32) -> (f64) */
    const FuncSig *sa = sig_intern(&a);
    ck_assert_ptr_eq(sa, sig_intern(&a2));
    ck_assert_ptr_ne(sa, sig_intern(&b));
    ck_assert_ptr_ne(sa, sig_intern(&c));
    ck_assert_ptr_ne(sig_intern(&d), sig_intern(&e));
    ck_assert_uint_eq(sa->nparams, 1);
    ck_assert_uint_eq(sa->params[0], VT_I32);

    /* host functions intern the same way, and report their type back */
    lw_store *s = lw_store_new();
    lw_valtype p = LW_I32;
    lw_func *f = lw_func_new_host(s, &p, 1, NULL, 0, NULL, NULL, "f");
    ck_assert_ptr_eq(f->sig, sa);
    const lw_valtype *params, *results;
    uint32_t np, nr;
    lw_func_type(f, &params, &np, &results, &nr);
    ck_assert_uint_eq(np, 1);
    ck_assert_uint_eq(nr, 0);
    ck_assert_int_eq(params[0], LW_I32);
    lw_store_free(s);
}
END_TEST

/* ---- modules and instantiation ---- */

#define HEADER 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
#define TYPE_VOID 0x01, 0x04, 0x01, 0x60, 0x00, 0x00          /* type 0: () -> () */

/* (import "env" "f" (func (type 0))) */
static const uint8_t import_func[] = {
    HEADER, TYPE_VOID,
    0x02, 0x09, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'f', 0x00, 0x00,
};
/* (import "env" "mem" (memory 2)) */
static const uint8_t import_mem_min2[] = {
    HEADER,
    0x02, 0x0c, 0x01, 0x03, 'e', 'n', 'v', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x02,
};
/* (import "env" "mem" (memory 1 3)) */
static const uint8_t import_mem_max3[] = {
    HEADER,
    0x02, 0x0d, 0x01, 0x03, 'e', 'n', 'v', 0x03, 'm', 'e', 'm', 0x02, 0x01, 0x01, 0x03,
};
/* (import "env" "g" (global i32)) */
static const uint8_t import_global[] = {
    HEADER,
    0x02, 0x0a, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'g', 0x03, 0x7f, 0x00,
};
/* (import "env" "mem" (memory 1))
   (data (i32.const 0) "hi") (data (i32.const 65535) "xyz") -- the second traps */
static const uint8_t data_trap[] = {
    HEADER,
    0x02, 0x0c, 0x01, 0x03, 'e', 'n', 'v', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x01,
    0x0b, 0x12, 0x02,
    0x00, 0x41, 0x00, 0x0b, 0x02, 'h', 'i',
    0x00, 0x41, 0xff, 0xff, 0x03, 0x0b, 0x03, 'x', 'y', 'z',
};
/* (import "env" "tab" (table 2 funcref)) (func)
   (elem (i32.const 0) 0) (elem (i32.const 2) 0) -- the second traps */
static const uint8_t elem_trap[] = {
    HEADER, TYPE_VOID,
    0x02, 0x0d, 0x01, 0x03, 'e', 'n', 'v', 0x03, 't', 'a', 'b', 0x01, 0x70, 0x00, 0x02,
    0x03, 0x02, 0x01, 0x00,
    0x09, 0x0d, 0x02,
    0x00, 0x41, 0x00, 0x0b, 0x01, 0x00,
    0x00, 0x41, 0x02, 0x0b, 0x01, 0x00,
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,
};
/* (memory (export "mem") 1) (global (export "g") i32 (i32.const 77))
   (data (i32.const 3) "ok") */
static const uint8_t exporter[] = {
    HEADER,
    0x05, 0x03, 0x01, 0x00, 0x01,
    0x06, 0x07, 0x01, 0x7f, 0x00, 0x41, 0xcd, 0x00, 0x0b,
    0x07, 0x0b, 0x02, 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x01, 'g', 0x03, 0x00,
    0x0b, 0x08, 0x01, 0x00, 0x41, 0x03, 0x0b, 0x02, 'o', 'k',
};

static lw_module *load(const uint8_t *b, size_t len)
{
    lw_error err;
    lw_module *m = lw_module_load(b, len, &err);
    ck_assert_msg(m != NULL, "load failed: %s", err.msg);
    return m;
}

static void expect_link_error(lw_store *s, lw_module *m, const char *prefix)
{
    lw_error err;
    ck_assert_ptr_null(lw_instantiate(s, m, NULL, &err));
    ck_assert_int_eq(err.kind, LW_ERR_LINK);
    ck_assert_msg(strncmp(err.msg, prefix, strlen(prefix)) == 0, "message: %s", err.msg);
}

static lw_status nop_host(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex, (void)env, (void)slots;
    return LW_OK;
}

START_TEST(import_func_errors)
{
    lw_store *s = lw_store_new();
    lw_module *m = load(import_func, sizeof import_func);
    expect_link_error(s, m, "unknown import");

    lw_valtype p = LW_I32;
    lw_func *wrong = lw_func_new_host(s, &p, 1, NULL, 0, nop_host, NULL, "wrong");
    lw_store_define(s, "env", "f", (lw_extern){ .kind = LW_EXTERN_FUNC, .of.func = wrong });
    expect_link_error(s, m, "incompatible import type");

    lw_memory *mem = lw_memory_new(s, 1, UINT32_MAX);
    lw_store_define(s, "env", "f", (lw_extern){ .kind = LW_EXTERN_MEMORY, .of.memory = mem });
    expect_link_error(s, m, "incompatible import type");

    lw_func *right = lw_func_new_host(s, NULL, 0, NULL, 0, nop_host, NULL, "right");
    lw_store_define(s, "env", "f", (lw_extern){ .kind = LW_EXTERN_FUNC, .of.func = right });
    lw_error err;
    lw_instance *inst = lw_instantiate(s, m, NULL, &err);
    ck_assert_msg(inst != NULL, "%s", err.msg);
    ck_assert_ptr_eq(inst->funcs[0], right);
    ck_assert_ptr_eq(lw_instance_module(inst), m);
    lw_module_free(m);   /* the instance keeps it alive until the store goes */
    lw_store_free(s);
}
END_TEST

START_TEST(import_memory_limits)
{
    lw_store *s = lw_store_new();
    lw_module *min2 = load(import_mem_min2, sizeof import_mem_min2);
    lw_module *max3 = load(import_mem_max3, sizeof import_mem_max3);
    lw_error err;
    lw_extern e = { .kind = LW_EXTERN_MEMORY };

    e.of.memory = lw_memory_new(s, 1, UINT32_MAX);
    lw_store_define(s, "env", "mem", e);
    expect_link_error(s, min2, "incompatible import type");     /* too small */
    expect_link_error(s, max3, "incompatible import type");     /* no maximum */
    ck_assert_int_eq(memory_grow(e.of.memory, 1), 1);            /* the current size counts */
    ck_assert_ptr_nonnull(lw_instantiate(s, min2, NULL, &err));

    e.of.memory = lw_memory_new(s, 1, 4);
    lw_store_define(s, "env", "mem", e);
    expect_link_error(s, max3, "incompatible import type");     /* maximum too big */
    e.of.memory = lw_memory_new(s, 2, 3);
    lw_store_define(s, "env", "mem", e);
    ck_assert_ptr_nonnull(lw_instantiate(s, max3, NULL, &err));

    lw_module_free(min2);
    lw_module_free(max3);
    lw_store_free(s);
}
END_TEST

START_TEST(import_global_type)
{
    lw_store *s = lw_store_new();
    lw_module *m = load(import_global, sizeof import_global);
    lw_extern e = { .kind = LW_EXTERN_GLOBAL };
    e.of.global = lw_global_new(s, (lw_value){ .type = LW_I64, .of.i64 = 1 }, false);
    lw_store_define(s, "env", "g", e);
    expect_link_error(s, m, "incompatible import type");     /* wrong value type */
    e.of.global = lw_global_new(s, (lw_value){ .type = LW_I32, .of.i32 = 1 }, true);
    lw_store_define(s, "env", "g", e);
    expect_link_error(s, m, "incompatible import type");     /* wrong mutability */
    e.of.global = lw_global_new(s, (lw_value){ .type = LW_I32, .of.i32 = 1 }, false);
    lw_store_define(s, "env", "g", e);
    lw_error err;
    ck_assert_ptr_nonnull(lw_instantiate(s, m, NULL, &err));
    lw_module_free(m);
    lw_store_free(s);
}
END_TEST

START_TEST(data_trap_keeps_earlier_writes)
{
    lw_store *s = lw_store_new();
    lw_memory *mem = lw_memory_new(s, 1, UINT32_MAX);
    lw_store_define(s, "env", "mem", (lw_extern){ .kind = LW_EXTERN_MEMORY, .of.memory = mem });
    lw_module *m = load(data_trap, sizeof data_trap);
    lw_error err;
    ck_assert_ptr_null(lw_instantiate(s, m, NULL, &err));
    ck_assert_int_eq(err.kind, LW_ERR_TRAP);
    ck_assert_str_eq(err.msg, "out of bounds memory access");
    uint64_t size;
    uint8_t *data = lw_memory_data(mem, &size);
    ck_assert_uint_eq(size, 65536);
    ck_assert_uint_eq(data[0], 'h');
    ck_assert_uint_eq(data[1], 'i');
    ck_assert_uint_eq(data[65535], 0);   /* the failing segment wrote nothing */
    lw_module_free(m);
    lw_store_free(s);
}
END_TEST

START_TEST(elem_trap_keeps_earlier_writes)
{
    lw_store *s = lw_store_new();
    lw_table *t = lw_table_new(s, LW_FUNCREF, 2, UINT32_MAX, (lw_value){ .type = LW_FUNCREF });
    lw_store_define(s, "env", "tab", (lw_extern){ .kind = LW_EXTERN_TABLE, .of.table = t });
    lw_module *m = load(elem_trap, sizeof elem_trap);
    lw_error err;
    ck_assert_ptr_null(lw_instantiate(s, m, NULL, &err));
    ck_assert_int_eq(err.kind, LW_ERR_TRAP);
    ck_assert_str_eq(err.msg, "out of bounds table access");
    /* the first segment's function is in the shared table and still usable */
    lw_func *f = (lw_func *)(uintptr_t)t->elems[0];
    ck_assert_ptr_nonnull(f);
    ck_assert(!f->is_host);
    ck_assert_uint_eq(f->u.wasm.index, 0);
    ck_assert_ptr_eq(f->u.wasm.inst->module, m);
    ck_assert_uint_eq(t->elems[1], 0);
    lw_module_free(m);   /* the failed instance still holds the module */
    ck_assert_uint_eq(f->u.wasm.inst->m->nfuncs, 1);
    lw_store_free(s);
}
END_TEST

START_TEST(exports_and_register)
{
    lw_store *s = lw_store_new();
    lw_module *m = load(exporter, sizeof exporter);
    lw_error err;
    lw_instance *inst = lw_instantiate(s, m, NULL, &err);
    ck_assert_msg(inst != NULL, "%s", err.msg);
    lw_extern e;
    ck_assert(lw_instance_export(inst, "mem", &e));
    ck_assert_int_eq(e.kind, LW_EXTERN_MEMORY);
    uint64_t size;
    uint8_t *data = lw_memory_data(e.of.memory, &size);
    ck_assert_uint_eq(size, 65536);
    ck_assert(memcmp(data + 3, "ok", 2) == 0);
    ck_assert(lw_instance_export(inst, "g", &e));
    ck_assert_int_eq(e.kind, LW_EXTERN_GLOBAL);
    ck_assert_uint_eq(lw_global_get(e.of.global).of.i32, 77);
    ck_assert(!lw_instance_export(inst, "nope", &e));

    /* register, then a module importing from it links */
    lw_store_register(s, "env", inst);
    lw_module *m2 = load(import_mem_max3, sizeof import_mem_max3);
    expect_link_error(s, m2, "incompatible import type");   /* exporter's memory has no max */
    lw_module *m3 = load(import_global, sizeof import_global);
    ck_assert_ptr_nonnull(lw_instantiate(s, m3, NULL, &err));
    lw_module_free(m);
    lw_module_free(m2);
    lw_module_free(m3);
    lw_store_free(s);
}
END_TEST

START_TEST(module_cache)
{
    lw_module *a = load(exporter, sizeof exporter);
    uint8_t copy[sizeof exporter];
    memcpy(copy, exporter, sizeof copy);
    lw_module *b = load(copy, sizeof copy);
    ck_assert_ptr_eq(a, b);   /* same bytes, same module */
    ck_assert_uint_eq(lw_module_hash(a), lw_module_hash(b));
    lw_module *c = load(import_global, sizeof import_global);
    ck_assert_ptr_ne(a, c);
    ck_assert_uint_ne(lw_module_hash(a), lw_module_hash(c));
    lw_module_free(a);
    lw_module_free(b);
    lw_module_free(c);
    /* after the last reference, a reload decodes afresh and works */
    a = load(exporter, sizeof exporter);
    lw_module_free(a);

    lw_error err;
    static const uint8_t bad[] = { 0x00, 0x61, 0x73, 0x6d, 0x02 };
    ck_assert_ptr_null(lw_module_load(bad, sizeof bad, &err));
    ck_assert_int_eq(err.kind, LW_ERR_MALFORMED);
}
END_TEST

START_TEST(wat_globals_and_exports)
{
    static const char text[] =
        "(module\n"
        "  (import \"env\" \"base\" (global i32))\n"
        "  (func $f (export \"f\") (param i64) (result f32) (f32.const 1))\n"
        "  (global (export \"copy\") i32 (global.get 0))\n"
        "  (global (export \"fref\") funcref (ref.func $f))\n"
        "  (global (export \"f64\") (mut f64) (f64.const -0.5))\n"
        "  (table (export \"t\") 3 funcref)\n"
        "  (elem (i32.const 1) $f))\n";
    lw_error err;
    lw_module *m = lw_module_load_wat(text, sizeof text - 1, "test.wat", &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    lw_store *s = lw_store_new();
    lw_global *base = lw_global_new(s, (lw_value){ .type = LW_I32, .of.i32 = 99 }, false);
    lw_store_define(s, "env", "base", (lw_extern){ .kind = LW_EXTERN_GLOBAL, .of.global = base });
    lw_instance *inst = lw_instantiate(s, m, NULL, &err);
    ck_assert_msg(inst != NULL, "%s", err.msg);

    lw_extern f, e;
    ck_assert(lw_instance_export(inst, "f", &f));
    ck_assert_int_eq(f.kind, LW_EXTERN_FUNC);
    const lw_valtype *params, *results;
    uint32_t np, nr;
    lw_func_type(f.of.func, &params, &np, &results, &nr);
    ck_assert_uint_eq(np, 1);
    ck_assert_uint_eq(nr, 1);
    ck_assert_int_eq(params[0], LW_I64);
    ck_assert_int_eq(results[0], LW_F32);

    ck_assert(lw_instance_export(inst, "copy", &e));
    ck_assert_uint_eq(lw_global_get(e.of.global).of.i32, 99);
    ck_assert(lw_instance_export(inst, "fref", &e));
    lw_value v = lw_global_get(e.of.global);
    ck_assert_int_eq(v.type, LW_FUNCREF);
    ck_assert_ptr_eq(v.of.func, f.of.func);
    ck_assert(lw_instance_export(inst, "f64", &e));
    ck_assert_uint_eq(lw_global_get(e.of.global).of.f64, 0xBFE0000000000000ull);
    ck_assert(e.of.global->mut);
    ck_assert(lw_instance_export(inst, "t", &e));
    ck_assert_uint_eq(lw_table_size(e.of.table), 3);
    ck_assert_uint_eq(e.of.table->elems[0], 0);
    ck_assert_ptr_eq((lw_func *)(uintptr_t)e.of.table->elems[1], f.of.func);
    lw_store_free(s);
    lw_module_free(m);   /* after the store: either order is fine */

    ck_assert_ptr_null(lw_module_load_wat("(module (func (i32.add)))", 25, "bad.wat", &err));
    ck_assert_int_eq(err.kind, LW_ERR_INVALID);
    ck_assert_ptr_null(lw_module_load_wat("(module (fun))", 14, "bad.wat", &err));
    ck_assert_int_eq(err.kind, LW_ERR_MALFORMED);
}
END_TEST

START_TEST(start_function)
{
    /* The start function loops long enough to use many fuel slices:
       instantiation must resume it until it finishes. */
    static const char text[] =
        "(module (memory (export \"m\") 1)\n"
        "  (func $s (local i32)\n"
        "    (loop (local.set 0 (i32.add (local.get 0) (i32.const 1)))\n"
        "          (br_if 0 (i32.lt_u (local.get 0) (i32.const 1000))))\n"
        "    (i32.store (i32.const 0) (local.get 0)))\n"
        "  (start $s))\n";
    static const char trapping[] =
        "(module (memory (export \"m\") 1) (data (i32.const 0) \"a\")\n"
        "  (func $s unreachable) (start $s))\n";
    lw_error err;
    lw_store *s = lw_store_new();
    lw_exec *ex = lw_exec_new(s, NULL);
    lw_exec_set_fuel_slice(ex, 10);
    lw_module *m = lw_module_load_wat(text, sizeof text - 1, "start.wat", &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    lw_instance *inst = lw_instantiate(s, m, ex, &err);
    ck_assert_msg(inst != NULL, "%s", err.msg);
    lw_extern e;
    ck_assert(lw_instance_export(inst, "m", &e));
    uint32_t v;
    memcpy(&v, lw_memory_data(e.of.memory, NULL), 4);
    ck_assert_uint_eq(v, 1000);
    ck_assert_uint_ge(lw_exec_fuel_used(ex), 3000);

    /* without an lw_exec, instantiation makes one for the start function */
    ck_assert_ptr_nonnull(lw_instantiate(s, m, NULL, &err));

    lw_module *t = lw_module_load_wat(trapping, sizeof trapping - 1, "trap.wat", &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    ck_assert_ptr_null(lw_instantiate(s, t, ex, &err));
    ck_assert_int_eq(err.kind, LW_ERR_TRAP);
    ck_assert_str_eq(err.msg, "unreachable");
    lw_exec_free(ex);
    lw_store_free(s);
    lw_module_free(m);
    lw_module_free(t);
}
END_TEST

/* A host function that returns LW_YIELD: its call is done (results
   written), and the call into wasm stops right after it; a resume goes on
   from the next instruction, without calling the host again. */
static int yield_host_calls;

static lw_status double_and_yield(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex;
    (void)env;
    yield_host_calls++;
    slots[0] = (uint32_t)(2 * (uint32_t)slots[0]);
    return LW_YIELD;
}

static void check_host_yield(const char *text, int64_t slice)
{
    lw_error err;
    lw_store *s = lw_store_new();
    lw_valtype i32 = LW_I32;
    lw_func *h = lw_func_new_host(s, &i32, 1, &i32, 1, double_and_yield, NULL, "dbl");
    lw_store_define(s, "env", "dbl", (lw_extern){ .kind = LW_EXTERN_FUNC, .of.func = h });
    lw_module *m = lw_module_load_wat(text, strlen(text), "yield.wat", &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    lw_instance *inst = lw_instantiate(s, m, NULL, &err);
    ck_assert_msg(inst != NULL, "%s", err.msg);
    lw_extern f;
    ck_assert(lw_instance_export(inst, "run", &f));
    lw_exec *ex = lw_exec_new(s, NULL);
    lw_exec_set_fuel_slice(ex, slice);
    yield_host_calls = 0;
    lw_value arg = { .type = LW_I32, .of.i32 = 5 };
    lw_status st = lw_exec_call(ex, f.of.func, &arg, 1);
    int stops = 0;
    while (st == LW_YIELD) {
        stops++;
        ck_assert_int_le(stops, 3);
        st = lw_exec_resume(ex);
    }
    ck_assert_int_eq(st, LW_OK);
    /* With a slice, each of the three calls stops the run once; without
       one there is nobody to stop for, and the call runs straight on. */
    ck_assert_int_eq(stops, slice > 0 ? 3 : 0);
    ck_assert_int_eq(yield_host_calls, 3);
    lw_value r;
    lw_exec_results(ex, &r, 1);
    ck_assert_uint_eq(r.of.i32, 5 * 2 * 2 * 2 + 1);
    lw_exec_free(ex);
    lw_module_free(m);
    lw_store_free(s);
}

START_TEST(host_yield)
{
    static const char narrow[] =
        "(module (import \"env\" \"dbl\" (func $d (param i32) (result i32)))\n"
        "  (func (export \"run\") (param i32) (result i32)\n"
        "    (i32.add (call $d (call $d (call $d (local.get 0)))) (i32.const 1))))\n";
    /* A v128 anywhere makes every frame wide: results go through host_unpack. */
    static const char wide[] =
        "(module (import \"env\" \"dbl\" (func $d (param i32) (result i32)))\n"
        "  (func (export \"run\") (param i32) (result i32) (local v128)\n"
        "    (i32.add (call $d (call $d (call $d (local.get 0)))) (i32.const 1))))\n";
    check_host_yield(narrow, 1000000);
    check_host_yield(narrow, 0);
    check_host_yield(wide, 1000000);
    check_host_yield(wide, 0);
}
END_TEST

/* Interning and the module cache are shared by every thread. */
enum { NTHREADS = 4, NTYPES = 64 };

static void *intern_worker(void *arg)
{
    const FuncSig **out = arg;
    ValType params[NTYPES];
    for (int i = 0; i < NTYPES; i++)
        params[i] = (i & 1) ? VT_I64 : VT_I32;
    for (int i = 0; i < NTYPES; i++) {
        FuncType t = { (uint32_t)i, 0, params, NULL };
        out[i] = sig_intern(&t);
    }
    for (int i = 0; i < 50; i++) {
        lw_error err;
        lw_module *m = lw_module_load(exporter, sizeof exporter, &err);
        if (!m)
            return "load failed";
        out[NTYPES] = (const FuncSig *)(uintptr_t)lw_module_hash(m);
        lw_module_free(m);
    }
    return NULL;
}

START_TEST(threads_share_types_and_modules)
{
    pthread_t th[NTHREADS];
    const FuncSig *got[NTHREADS][NTYPES + 1];
    for (int i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, intern_worker, got[i]), 0);
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        ck_assert_ptr_null(r);
    }
    for (int i = 1; i < NTHREADS; i++)
        for (int j = 0; j <= NTYPES; j++)
            ck_assert_ptr_eq(got[i][j], got[0][j]);
    for (int j = 1; j < NTYPES; j++)
        ck_assert_ptr_ne(got[0][j], got[0][j - 1]);
}
END_TEST

static Suite *runtime_suite(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("memory");
    tcase_add_test(tc, memory_zero_pages);
    tcase_add_test(tc, memory_grow_limits);
    tcase_add_test(tc, table_grow_limits);
    suite_add_tcase(s, tc);
    tc = tcase_create("store");
    tcase_add_test(tc, store_define_lookup);
    tcase_add_test(tc, sig_interning);
    suite_add_tcase(s, tc);
    tc = tcase_create("instantiate");
    tcase_add_test(tc, import_func_errors);
    tcase_add_test(tc, import_memory_limits);
    tcase_add_test(tc, import_global_type);
    tcase_add_test(tc, data_trap_keeps_earlier_writes);
    tcase_add_test(tc, elem_trap_keeps_earlier_writes);
    tcase_add_test(tc, exports_and_register);
    tcase_add_test(tc, module_cache);
    tcase_add_test(tc, wat_globals_and_exports);
    tcase_add_test(tc, start_function);
    tcase_add_test(tc, host_yield);
    tcase_add_test(tc, threads_share_types_and_modules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(runtime_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
