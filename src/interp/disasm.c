/*
 * A disassembler for threaded code, for debugging the translator and for
 * reading what the interpreter runs (`leonardo dis`): disasm_func(stdout, cf)
 * prints one instruction per line, its cell offset, its handler and its
 * operand cells,
 *
 *   0005  A32I+            9,0 #4294967295
 *   0008  CALL_LOCAL       9,4 func[9]
 *
 * (src/interp/README.md, "Reading the disassembly", says what each part
 * means).  Names come from opcodes.def and the handler lists in
 * translate.h; the operand layout of each handler is given by a format
 * string (below), so the printer itself knows no opcode.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "leonardo.h"
#include "interp/translate.h"

static const char *const wasm_names[] = {
#define OP(id, text, prefix, code, imm, sig) text,
#include "decode/opcodes.def"
#undef OP
};
static const char *const op_sigs[] = {
#define OP(id, text, prefix, code, imm, sig) sig,
#include "decode/opcodes.def"
#undef OP
};
static const char *const op_imms[] = {
#define OP(id, text, prefix, code, imm, sig) #imm,
#include "decode/opcodes.def"
#undef OP
};

static const struct { int h; const char *name, *fmt; } extras[] = {
#define X(id, fmt) { H_##id, #id, fmt },
    LW_EXTRA_HANDLERS(X)
#undef X
#define X(id) { H_##id##_IMM, #id "_IMM", "pi" },
    LW_IMM_OPS(X)
#undef X
#define X(id, op, t32, t64, neg) { H_JMP_I32_##id, "JMP_I32_" #id, "ppt" }, \
    { H_JMP_I32_##id##_IMM, "JMP_I32_" #id "_IMM", "pitn" }, { H_JMP_I64_##id, "JMP_I64_" #id, "ppt" }, \
    { H_JMP_I64_##id##_IMM, "JMP_I64_" #id "_IMM", "pitn" },
    LW_CMP_OPS(X)
#undef X
#define X(id, op, t32, t64, neg) { H_ADD_JMP_I32_##id, "ADD_JMP_I32_" #id, "ppipt" }, \
    { H_ADD_JMP_I32_##id##_IMM, "ADD_JMP_I32_" #id "_IMM", "ppipt" }, \
    { H_ADD_JMP_I64_##id, "ADD_JMP_I64_" #id, "ppipt" }, \
    { H_ADD_JMP_I64_##id##_IMM, "ADD_JMP_I64_" #id "_IMM", "ppipt" }, \
    { H_ADDI_JMP_I32_##id, "ADDI_JMP_I32_" #id, "ppipt" }, \
    { H_ADDI_JMP_I32_##id##_IMM, "ADDI_JMP_I32_" #id "_IMM", "ppipt" }, \
    { H_ADDI_JMP_I64_##id, "ADDI_JMP_I64_" #id, "ppipt" }, \
    { H_ADDI_JMP_I64_##id##_IMM, "ADDI_JMP_I64_" #id "_IMM", "ppipt" },
    LW_CMP_OPS(X)
#undef X
#define X(id, T, expr) { H_##id##_AI, #id "_ADDI", "pp" }, { H_##id##_AR, #id "_ADD", "pp" },
    LW_LOAD_OPS(X)
#undef X
#define X(id) { H_##id, #id, "pp" },
    LW_MULADD_OPS(X)
#undef X
#define X(id) { H_##id, #id, "pi" },
    LW_ADD_MEM_OPS(X)
#undef X
#define X(op, load, LT, T, get, put, expr) { H_##op##_M_##load, #op "_M_" #load, "ppp" }, \
    { H_##op##_M_##load##_K, #op "_M_" #load "_K", "ppp" },
    LW_MEMOP_OPS(X)
#undef X
#define X(id, T) { H_##id##_ADD, #id "_THEN_ADD", "pppi" }, { H_##id##_ADDI, #id "_THEN_ADD_IMM", "pipi" },
    LW_STORE_ADD_OPS(X)
#undef X
#define X(id, op, t32, t64, neg) { H_JMP_LD32_AI_##id, "JMP_LD32_AI_" #id, "ppptn" }, \
    { H_JMP_LD32_AR_##id, "JMP_LD32_AR_" #id, "ppptn" }, { H_JMP_LD8U_AI_##id, "JMP_LD8U_AI_" #id, "ppptn" }, \
    { H_JMP_LD8U_AR_##id, "JMP_LD8U_AR_" #id, "ppptn" },
    LW_CMP_OPS(X)
#undef X
};

/* 64 or 32 where h's immediate is an f64 or an f32 (`x op const`), else 0. */
static int float_imm_bits(int h)
{
    if (h == H_F64_ADD_IMM || h == H_F64_SUB_IMM || h == H_F64_MUL_IMM || h == H_F64_DIV_IMM)
        return 64;
    if (h == H_F32_ADD_IMM || h == H_F32_SUB_IMM || h == H_F32_MUL_IMM || h == H_F32_DIV_IMM)
        return 32;
    return 0;
}

/* A float immediate as the shortest decimal that reads back as the same value. */
static void print_float_imm(FILE *out, uint64_t bits, int width)
{
    double d;
    if (width == 32) {
        uint32_t b = (uint32_t)bits;
        float f;
        memcpy(&f, &b, sizeof f);
        d = f;
    } else {
        memcpy(&d, &bits, sizeof d);
    }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        double back = strtod(buf, NULL);
        if (width == 32 ? (float)back == (float)d : back == d)
            break;
    }
    fprintf(out, " #%s", buf);
}

/* The float-register variants print as their base handler does. */
static const struct { int h, base; const char *name; } facc_vars[] = {
#define X(name, base, pos, out) { H_##name, base, #name },
    LW_FACC_HANDLERS(X)
#undef X
};

static int facc_base(int h)
{
    for (size_t i = 0; i < sizeof facc_vars / sizeof facc_vars[0]; i++)
        if (facc_vars[i].h == h)
            return (int)i;
    return -1;
}

/* A pair prints as its first instruction, marked "+" ("*" for a self-loop,
   ">" for a forwarding pair), then the second as itself. */
static const struct { int h, first; const char *name; } pairs[] = {
#define X(P, Q) { H_PAIR_##P##__##Q, -1, #P "+" },
    LW_PAIR_OPS(X)
#undef X
#define X(P, Q) { H_FWD_##P##__##Q, -1, #P ">" },
    LW_FWD_OPS(X)
#undef X
#define X(P, VT, SK, Q, T, CT, op, AK, RK) { H_SELF_##P##__##Q, -1, #P "*" },
    LW_SELF_OPS(X)
#undef X
};

static int pair_first(int h)
{
    static const struct { const char *p; int h; } firsts[] = {
#define X(P, hid, cells) { #P, hid },
        LW_PAIR_FIRST(X)
#undef X
    };
    static const char *const pnames[] = {   /* the first halves, in the order of pairs[] */
#define X(P, Q) #P,
        LW_PAIR_OPS(X)
        LW_FWD_OPS(X)
#undef X
#define X(P, VT, SK, Q, T, CT, op, AK, RK) #P,
        LW_SELF_OPS(X)
#undef X
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i].h == h)
            for (size_t k = 0; k < sizeof firsts / sizeof firsts[0]; k++)
                if (strcmp(firsts[k].p, pnames[i]) == 0)
                    return firsts[k].h;
    return -1;
}

const char *handler_name(int h)
{
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i].h == h)
            return pairs[i].name;
    int v = facc_base(h);
    if (v >= 0)
        return facc_vars[v].name;
    if (h >= 0 && h < OP__COUNT)
        return wasm_names[h];
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++)
        if (extras[i].h == h)
            return extras[i].name;
    return "?";
}

/* The operand cells of a wasm-opcode handler, from its table row. */
static const char *wasm_fmt(int h)
{
    switch (h) {
    case OP_UNREACHABLE: return "";
    case OP_SELECT: return "pp";
    case OP_GLOBAL_GET: case OP_GLOBAL_SET: case OP_REF_FUNC: case OP_REF_IS_NULL:
    case OP_TABLE_SIZE: case OP_MEMORY_SIZE: case OP_MEMORY_GROW:
    case OP_DATA_DROP: case OP_ELEM_DROP:
        return "p";
    case OP_TABLE_GET: case OP_TABLE_SET: case OP_TABLE_GROW: case OP_TABLE_FILL:
    case OP_MEMORY_INIT: case OP_MEMORY_COPY: case OP_MEMORY_FILL:
        return "pp";
    case OP_TABLE_COPY: case OP_TABLE_INIT: return "ppp";
    }
    if (strcmp(op_imms[h], "MEMARG") == 0)
        return "pi";
    /* SIMD: see the layouts in ops_simd.h */
    if (strcmp(op_imms[h], "V128") == 0)
        return "pii";
    if (strcmp(op_imms[h], "SHUFFLE") == 0)
        return "ppii";
    if (strcmp(op_imms[h], "LANE") == 0)
        return "pp";
    if (strcmp(op_imms[h], "MEMARG_LANE") == 0)
        return "ppi";
    if (strcmp(op_sigs[h], "vvv>v") == 0)
        return "pp";
    const char *gt = strchr(op_sigs[h], '>');
    return gt && gt - op_sigs[h] == 2 ? "pp" : "p";
}

static int handler_of(const void *const *hs, const void *addr)
{
    for (int h = 0; h < H__COUNT; h++)
        if (hs[h] == addr)
            return h;
    return -1;
}

void disasm_func(FILE *out, const CompiledFunc *cf)
{
    if (!cf || !cf->translated) {
        fprintf(out, "(not translated%s%s)\n", cf && cf->error ? ": " : "", cf && cf->error ? cf->error : "");
        return;
    }
    const void *const *hs = interp_handlers();
    const Cell *code = cf->code;
    fprintf(out, "func[%" PRIu32 "] params %" PRIu32 " locals %" PRIu32 " results %" PRIu32 " slots %" PRIu32 "\n",
            cf->func_index, cf->nparams, cf->nlocals, cf->nresults, cf->frame_slots);
    size_t pc = 0;
    while (pc < cf->ncells) {
        int h = handler_of(hs, code[pc].h);
        if (h < 0) {
            fprintf(out, "%04zu  <bad handler>\n", pc);
            return;
        }
        const char *name = handler_name(h), *fmt = "";
        int v = facc_base(h), first = pair_first(h);
        if (v >= 0)
            h = facc_vars[v].base;
        if (first >= 0)
            h = first;
        if (h < OP__COUNT) {
            fmt = wasm_fmt(h);
        } else {
            for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++)
                if (extras[i].h == h)
                    fmt = extras[i].fmt;
        }
        fprintf(out, "%04zu  %-16s", pc, name);
        size_t at = pc + 1;
        for (const char *f = fmt; *f && at < cf->ncells; f++, at++) {
            const Cell *c = &code[at];
            switch (*f) {
            case 'p': fprintf(out, " %" PRIu32 ",%" PRIu32, c->s.a, c->s.b); break;
            case 'n': fprintf(out, " fuel=%" PRIu32, c->s.a); break;
            case 'i':
                if (float_imm_bits(h))
                    print_float_imm(out, c->u64, float_imm_bits(h));
                else
                    fprintf(out, " #%" PRId64, (int64_t)c->u64);
                break;
            case 't': fprintf(out, " ->%04td", c->t - code); break;
            case 'f': fprintf(out, " func[%" PRIu32 "]", ((const CompiledFunc *)c->p)->func_index); break;
            }
        }
        if (h == H_JMP_TABLE && at <= cf->ncells) {
            uint64_t n = code[pc + 2].u64;
            for (uint64_t k = 0; k <= n && at < cf->ncells; k++, at++)
                fprintf(out, " ->%04td", code[at].t - code);
        }
        fputc('\n', out);
        pc = at;
    }
}

/* Does function `idx` (of the whole function index space) go by `name`:
   its name-section name, an export's name, `func[N]` or plain N? */
static bool func_called(const Module *m, uint32_t idx, const char *name)
{
    char buf[32];
    if (strcmp(module_func_name(m, idx, buf, sizeof buf), name) == 0)
        return true;
    snprintf(buf, sizeof buf, "%" PRIu32, idx);
    if (strcmp(buf, name) == 0)
        return true;
    snprintf(buf, sizeof buf, "func[%" PRIu32 "]", idx);
    if (strcmp(buf, name) == 0)
        return true;
    size_t len = strlen(name);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const Export *e = &m->exports[i];
        if (e->kind == EXT_FUNC && e->index == idx && e->name_len == len && memcmp(e->name, name, len) == 0)
            return true;
    }
    return false;
}

size_t lw_module_disassemble(lw_module *mod, const char *name, FILE *out)
{
    const Module *m = mod->m;
    size_t n = 0;
    for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++) {
        uint32_t idx = m->nfunc_imports + i;
        if (name && !func_called(m, idx, name))
            continue;
        /* Its name-section name, else its first export's name, else func[N]. */
        char buf[32];
        const char *shown = module_func_name(m, idx, buf, sizeof buf);
        int len = (int)strlen(shown);
        for (uint32_t e = 0; shown == buf && e < m->nexports; e++)
            if (m->exports[e].kind == EXT_FUNC && m->exports[e].index == idx) {
                shown = m->exports[e].name;
                len = (int)m->exports[e].name_len;
            }
        fprintf(out, "%s;; %.*s\n", n ? "\n" : "", len, shown);
        CompiledFunc *cf = code_get(mod, i);
        if (cf)
            (void)translate_func(cf);
        disasm_func(out, cf);   /* a failure prints as "(not translated: why)" */
        n++;
    }
    return n;
}
