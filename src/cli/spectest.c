/*
 * The `spectest` host module that the spec test scripts import from,
 * defined as the reference interpreter defines it (interpreter/host/spectest.ml).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/wast.h"

/* Which print function a host call is; its parameter types come from the store. */
typedef struct {
    const char *name;
    uint32_t nparams;
    lw_valtype params[2];
} PrintFn;

static const PrintFn print_fns[] = {
    {"print", 0, {0, 0}},
    {"print_i32", 1, {LW_I32, 0}},
    {"print_i64", 1, {LW_I64, 0}},
    {"print_f32", 1, {LW_F32, 0}},
    {"print_f64", 1, {LW_F64, 0}},
    {"print_i32_f32", 2, {LW_I32, LW_F32}},
    {"print_f64_f64", 2, {LW_F64, LW_F64}},
};

/* Printing is noise in a suite run, so it is off unless the runner is verbose. */
static bool print_enabled;

static lw_status spectest_print(lw_exec *ex, void *env, uint64_t *slots)
{
    (void)ex;
    const PrintFn *p = env;
    if (!print_enabled)
        return LW_OK;
    /* The reference prints one "value : type" line per argument. */
    for (uint32_t i = 0; i < p->nparams; i++) {
        uint64_t s = slots[i];
        switch (p->params[i]) {
        case LW_I32:
            printf("%" PRId32 " : i32\n", (int32_t)(uint32_t)s);
            break;
        case LW_I64:
            printf("%" PRId64 " : i64\n", (int64_t)s);
            break;
        case LW_F32: {
            uint32_t bits = (uint32_t)s;
            float f;
            memcpy(&f, &bits, sizeof f);
            printf("%.9g : f32\n", (double)f);
            break;
        }
        default: {
            double d;
            memcpy(&d, &s, sizeof d);
            printf("%.17g : f64\n", d);
            break;
        }
        }
    }
    fflush(stdout);
    return LW_OK;
}

static void define_global(lw_store *s, const char *name, lw_value v)
{
    lw_extern e = {.kind = LW_EXTERN_GLOBAL};
    e.of.global = lw_global_new(s, v, false);
    lw_store_define(s, "spectest", name, e);
}

void spectest_define(lw_store *s, bool verbose)
{
    print_enabled = verbose;

    for (size_t i = 0; i < sizeof print_fns / sizeof print_fns[0]; i++) {
        const PrintFn *p = &print_fns[i];
        lw_extern e = {.kind = LW_EXTERN_FUNC};
        e.of.func = lw_func_new_host(s, p->params, p->nparams, NULL, 0, spectest_print,
                                     (void *)p, p->name);
        lw_store_define(s, "spectest", p->name, e);
    }

    /* 666.6 is rounded from the double literal, as F32.of_float 666.6 does. */
    float f32 = (float)666.6;
    double f64 = 666.6;
    lw_value v;
    v = (lw_value){.type = LW_I32, .of.i32 = 666};
    define_global(s, "global_i32", v);
    v = (lw_value){.type = LW_I64, .of.i64 = 666};
    define_global(s, "global_i64", v);
    v = (lw_value){.type = LW_F32};
    memcpy(&v.of.f32, &f32, sizeof f32);
    define_global(s, "global_f32", v);
    v = (lw_value){.type = LW_F64};
    memcpy(&v.of.f64, &f64, sizeof f64);
    define_global(s, "global_f64", v);

    lw_value null_func = {.type = LW_FUNCREF, .of.func = NULL};
    lw_extern t = {.kind = LW_EXTERN_TABLE};
    t.of.table = lw_table_new(s, LW_FUNCREF, 10, 20, null_func);
    lw_store_define(s, "spectest", "table", t);

    lw_extern m = {.kind = LW_EXTERN_MEMORY};
    m.of.memory = lw_memory_new(s, 1, 2);
    lw_store_define(s, "spectest", "memory", m);
}
