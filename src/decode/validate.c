/*
 * The WebAssembly 2.0 validator.
 *
 * Module-level rules (indices, limits, constant expressions, exports,
 * start) are checked in the spec's order; function bodies follow the
 * algorithm of the spec's appendix: an operand stack of value types and a
 * control stack of open blocks, where after unreachable/br/br_table/return
 * the current block is stack-polymorphic (popping below its base yields
 * "unknown", which matches anything).
 *
 * Bodies were already decoded once by decode.c, which guarantees that
 * opcodes, immediates and the block structure are well formed, so here
 * immediates are re-read without error paths of their own.
 *
 * Speed: the stacks are flat arrays reused across functions and grown only
 * when a function needs more; ops with a plain signature in opcodes.def
 * (the `sig` column, e.g. "ii>i") are checked from one table with a fast
 * path for the common case where the operands are already on top.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "leb128.h"
#include "decode_ops.h"

#define VT_UNKNOWN 0          /* the type of a value popped from a polymorphic stack */
#define KIND_FUNC OP__COUNT   /* control frame of the function body itself */
#define MAX_PAGES 65536u

typedef struct {
    uint32_t height;          /* operand stack height when the block was entered */
    uint16_t kind;            /* OP_BLOCK, OP_LOOP, OP_IF, OP_ELSE or KIND_FUNC */
    bool unreachable;
    uint32_t nparams, nresults;
    const ValType *params, *results;
} Ctrl;

typedef struct {
    const Module *m;
    const OpTables *ot;
    WasmError *err;
    jmp_buf *jb;
    /* Where we are, for messages. */
    const char *section;
    const char *item_kind;
    uint32_t item;
    const uint8_t *at;        /* start of the instruction being checked */
    /* Stacks, reused across functions. */
    ValType *vals;
    uint32_t nvals, vcap;
    Ctrl *ctrls;
    uint32_t nctrls, ccap;
    ValType *locals;          /* params then declared locals */
    uint32_t nlocals, lcap;
} Val;

static const char *type_name(ValType t)
{
    switch (t) {
    case VT_I32: return "i32";
    case VT_I64: return "i64";
    case VT_F32: return "f32";
    case VT_F64: return "f64";
    case VT_V128: return "v128";
    case VT_FUNCREF: return "funcref";
    case VT_EXTERNREF: return "externref";
    case VT_UNKNOWN: return "any";
    default: return "?";
    }
}

static _Noreturn __attribute__((format(printf, 2, 3)))
void val_fail(Val *v, const char *fmt, ...)
{
    char what[176];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    WasmError *e = v->err;
    e->kind = ERR_INVALID;
    e->offset = v->at ? (size_t)(v->at - v->m->bytes) : (size_t)-1;
    /* Built piecewise: where, then the offset, then what. */
    char *msg = e->msg;
    size_t cap = sizeof e->msg, n;
    if (v->item_kind && v->m->func_names && strcmp(v->item_kind, "function") == 0 &&
        v->item < v->m->nfuncs && v->m->func_names[v->item])
        snprintf(msg, cap, "%s, %s %u \"%.40s\"", v->section, v->item_kind, v->item,
                 v->m->func_names[v->item]);
    else if (v->item_kind)
        snprintf(msg, cap, "%s, %s %u", v->section, v->item_kind, v->item);
    else
        snprintf(msg, cap, "%s", v->section ? v->section : "module");
    n = strlen(msg);
    if (v->at)
        snprintf(msg + n, cap - n, " (at byte 0x%zx)", e->offset);
    n = strlen(msg);
    snprintf(msg + n, cap - n, ": %s", what);
    longjmp(*v->jb, 1);
}

static void *val_grow(Val *v, void *p, uint32_t *cap, uint32_t need, size_t elem)
{
    uint32_t c = *cap ? *cap : 256;
    while (c < need) {
        if (c > UINT32_MAX / 2)
            val_fail(v, "out of memory");
        c *= 2;
    }
    void *q = realloc(p, (size_t)c * elem);
    if (!q)
        val_fail(v, "out of memory");
    *cap = c;
    return q;
}

/* ------------------------------------------------------------------------ */
/* Operand and control stacks (the spec appendix's push_val, pop_val, ...) */

static inline void need_vals(Val *v, uint32_t more)
{
    if (v->vcap - v->nvals < more) {
        if (v->nvals > UINT32_MAX - more)
            val_fail(v, "operand stack overflow");
        v->vals = val_grow(v, v->vals, &v->vcap, v->nvals + more, sizeof *v->vals);
    }
}

static inline void push(Val *v, ValType t)
{
    need_vals(v, 1);
    v->vals[v->nvals++] = t;
}

static inline Ctrl *top(Val *v) { return &v->ctrls[v->nctrls - 1]; }

static _Noreturn void fail_empty(Val *v, ValType want)
{
    if (want == VT_UNKNOWN)
        val_fail(v, "type mismatch: expected a value, found nothing on the stack");
    val_fail(v, "type mismatch: expected %s, found nothing on the stack", type_name(want));
}

static inline ValType pop_any(Val *v)
{
    Ctrl *c = top(v);
    if (v->nvals == c->height) {
        if (c->unreachable)
            return VT_UNKNOWN;
        fail_empty(v, VT_UNKNOWN);
    }
    return v->vals[--v->nvals];
}

static inline ValType pop_expect(Val *v, ValType want)
{
    Ctrl *c = top(v);
    if (v->nvals == c->height) {
        if (c->unreachable)
            return want;
        fail_empty(v, want);
    }
    ValType got = v->vals[--v->nvals];
    if (got != want && got != VT_UNKNOWN)
        val_fail(v, "type mismatch: expected %s, found %s", type_name(want), type_name(got));
    return want;
}

static void pop_vals(Val *v, const ValType *types, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;)
        pop_expect(v, types[i]);
}

static void push_vals(Val *v, const ValType *types, uint32_t n)
{
    if (n == 0)
        return;
    need_vals(v, n);
    memcpy(v->vals + v->nvals, types, n);
    v->nvals += n;
}

static void push_ctrl(Val *v, uint16_t kind, uint32_t np, const ValType *params,
                      uint32_t nr, const ValType *results)
{
    if (v->nctrls == v->ccap)
        v->ctrls = val_grow(v, v->ctrls, &v->ccap, v->nctrls + 1, sizeof *v->ctrls);
    Ctrl *c = &v->ctrls[v->nctrls++];
    c->height = v->nvals;
    c->kind = kind;
    c->unreachable = false;
    c->nparams = np;
    c->params = params;
    c->nresults = nr;
    c->results = results;
    push_vals(v, params, np);
}

static Ctrl pop_ctrl(Val *v)
{
    Ctrl *c = top(v);
    pop_vals(v, c->results, c->nresults);
    if (v->nvals != c->height)
        val_fail(v, "type mismatch: %u extra value%s on the stack at the end of the block",
                 v->nvals - c->height, v->nvals - c->height == 1 ? "" : "s");
    v->nctrls--;
    return *c;
}

static void set_unreachable(Val *v)
{
    Ctrl *c = top(v);
    v->nvals = c->height;
    c->unreachable = true;
}

/* The types a branch to this frame carries: a loop's parameters, otherwise its results. */
static inline uint32_t label_arity(const Ctrl *c) { return c->kind == OP_LOOP ? c->nparams : c->nresults; }
static inline const ValType *label_types(const Ctrl *c) { return c->kind == OP_LOOP ? c->params : c->results; }

/*
 * Check that the stack top matches a label's types without changing it:
 * the same as the appendix's push_vals(pop_vals(types)) for br_table,
 * because below a polymorphic base pop_vals would only yield unknowns.
 */
static void peek_vals(Val *v, const ValType *types, uint32_t n)
{
    const Ctrl *c = top(v);
    uint32_t avail = v->nvals - c->height;
    for (uint32_t i = 0; i < n; i++) {
        ValType want = types[n - 1 - i];
        if (i >= avail) {
            if (!c->unreachable)
                fail_empty(v, want);
            return;
        }
        ValType got = v->vals[v->nvals - 1 - i];
        if (got != want && got != VT_UNKNOWN)
            val_fail(v, "type mismatch: expected %s, found %s", type_name(want), type_name(got));
    }
}

/* ------------------------------------------------------------------------ */
/* Immediates (well formed: the decoder has checked them)                  */

static inline uint32_t imm_u32(Val *v, const uint8_t **pp, const uint8_t *end)
{
    uint32_t x;
    if (leb_u32(pp, end, &x) != LEB_OK)
        val_fail(v, "malformed immediate (module not from module_decode?)");
    return x;
}

static const ValType one_type[] = { VT_I32, VT_I64, VT_F32, VT_F64, VT_V128, VT_FUNCREF, VT_EXTERNREF };

static const ValType *single(ValType t)
{
    for (size_t i = 0; i < sizeof one_type / sizeof one_type[0]; i++)
        if (one_type[i] == t)
            return &one_type[i];
    return NULL;
}

/* A block type: empty, one value type, or a type index (multi-value). */
static void read_blocktype(Val *v, const uint8_t **pp, const uint8_t *end,
                           uint32_t *np, const ValType **params, uint32_t *nr, const ValType **results)
{
    uint8_t b = **pp;
    *np = *nr = 0;
    *params = *results = NULL;
    if (b == 0x40) {
        (*pp)++;
        return;
    }
    const ValType *t = single(b);
    if (t) {
        (*pp)++;
        *nr = 1;
        *results = t;
        return;
    }
    int64_t idx;
    if (leb_s33(pp, end, &idx) != LEB_OK || idx < 0)
        val_fail(v, "malformed block type");
    if ((uint64_t)idx >= v->m->ntypes)
        val_fail(v, "unknown type %lld", (long long)idx);
    const FuncType *ft = &v->m->types[idx];
    *np = ft->nparams;
    *params = ft->params;
    *nr = ft->nresults;
    *results = ft->results;
}

static const Ctrl *label(Val *v, uint32_t depth)
{
    if (depth >= v->nctrls)
        val_fail(v, "unknown label %u", depth);
    return &v->ctrls[v->nctrls - 1 - depth];
}

static void need_memory(Val *v, uint32_t idx)
{
    if (idx >= v->m->nmems)
        val_fail(v, "unknown memory %u", idx);
}

static const TableType *table(Val *v, uint32_t idx)
{
    if (idx >= v->m->ntables)
        val_fail(v, "unknown table %u", idx);
    return &v->m->tables[idx];
}

static void need_elem(Val *v, uint32_t idx)
{
    if (idx >= v->m->nelems)
        val_fail(v, "unknown elem segment %u", idx);
}

static void need_data(Val *v, uint32_t idx)
{
    /* The decoder made sure a data count section exists where this is used. */
    if (idx >= v->m->data_count)
        val_fail(v, "unknown data segment %u", idx);
}

static const FuncType *func_type_of(Val *v, uint32_t f)
{
    if (f >= v->m->nfuncs)
        val_fail(v, "unknown function %u", f);
    return &v->m->types[v->m->func_types[f]];   /* type indices checked before bodies */
}

/* ------------------------------------------------------------------------ */
/* Function bodies                                                          */

/* The stack effect of an op whose `sig` is plain, with a fast path for the
   common case where the operands are already on top with the right types. */
static inline __attribute__((always_inline)) void sig_effect(Val *v, const OpInfo *o)
{
    uint32_t n = v->nvals, avail = n - top(v)->height;
    ValType *s = v->vals;
    if (o->npop == 2 && avail >= 2 && s[n - 1] == o->pop[1] && s[n - 2] == o->pop[0]) {
        if (o->push) {           /* binary op: the result replaces the operands */
            s[n - 2] = o->push;
            v->nvals = n - 1;
            return;
        }
        v->nvals = n - 2;
    } else if (o->npop == 1 && avail >= 1 && s[n - 1] == o->pop[0]) {
        if (o->push) {
            s[n - 1] = o->push;
            return;
        }
        v->nvals = n - 1;
    } else {
        pop_vals(v, o->pop, o->npop);
    }
    if (o->push)
        push(v, o->push);
}

/* The immediates and stack effect of an op whose `sig` is plain. */
static inline const uint8_t *simple_op(Val *v, const OpInfo *o, const uint8_t *p, const uint8_t *end)
{
    switch (o->imm) {
    case IMM_NONE:
        break;
    case IMM_MEMARG:
    case IMM_MEMARG_LANE: {
        need_memory(v, 0);
        uint32_t align = imm_u32(v, &p, end);
        if (align > o->natural_align)
            val_fail(v, "alignment must not be larger than natural (%s: 2^%u > 2^%u)",
                     o->text, align, o->natural_align);
        p = leb_skip(p, end);
        if (o->imm == IMM_MEMARG_LANE && *p++ >= o->lanes)
            val_fail(v, "invalid lane index %u (%s has %u lanes)", p[-1], o->text, o->lanes);
        break;
    }
    case IMM_LANE:
        if (*p++ >= o->lanes)
            val_fail(v, "invalid lane index %u (%s has %u lanes)", p[-1], o->text, o->lanes);
        break;
    case IMM_V128:
        p += 16;
        break;
    case IMM_SHUFFLE:
        for (int i = 0; i < 16; i++, p++)
            if (*p >= 32)
                val_fail(v, "invalid lane index %u (i8x16.shuffle picks from 32 lanes)", *p);
        break;
    case IMM_MEM:
        need_memory(v, 0);
        p++;
        break;
    case IMM_MEM2:
        need_memory(v, 0);
        p += 2;
        break;
    case IMM_I32:
    case IMM_I64:
        p = leb_skip(p, end);
        break;
    case IMM_F32:
        p += 4;
        break;
    case IMM_F64:
        p += 8;
        break;
    case IMM_DATA_MEM: {
        uint32_t d = imm_u32(v, &p, end);
        need_memory(v, 0);
        need_data(v, d);
        p++;
        break;
    }
    case IMM_DATA:
        need_data(v, imm_u32(v, &p, end));
        break;
    case IMM_ELEM:
        need_elem(v, imm_u32(v, &p, end));
        break;
    case IMM_ELEM_TABLE: {
        uint32_t e = imm_u32(v, &p, end);
        const TableType *t = table(v, imm_u32(v, &p, end));
        need_elem(v, e);
        if (v->m->elems[e].type != t->elem)
            val_fail(v, "type mismatch: table.init of %s elements into a %s table",
                     type_name(v->m->elems[e].type), type_name(t->elem));
        break;
    }
    case IMM_TABLE2: {
        const TableType *dst = table(v, imm_u32(v, &p, end));
        const TableType *src = table(v, imm_u32(v, &p, end));
        if (dst->elem != src->elem)
            val_fail(v, "type mismatch: table.copy from a %s table to a %s table",
                     type_name(src->elem), type_name(dst->elem));
        break;
    }
    case IMM_TABLE:
        table(v, imm_u32(v, &p, end));
        break;
    default:
        val_fail(v, "unsupported instruction %s", o->text);
    }

    sig_effect(v, o);
    return p;
}

static void validate_body(Val *v, uint32_t fidx)
{
    const Module *m = v->m;
    const Func *f = &m->funcs[fidx - m->nfunc_imports];
    const FuncType *ft = &m->types[m->func_types[fidx]];
    const OpInfo *ops = v->ot->ops;

    /* Locals: params, then the declared locals. */
    uint64_t nl = (uint64_t)ft->nparams + f->nlocals;
    if (nl > UINT32_MAX)
        val_fail(v, "too many locals");
    if (nl > v->lcap)
        v->locals = val_grow(v, v->locals, &v->lcap, (uint32_t)nl, 1);
    if (ft->nparams)
        memcpy(v->locals, ft->params, ft->nparams);
    if (f->nlocals)
        memcpy(v->locals + ft->nparams, f->local_types, f->nlocals);
    v->nlocals = (uint32_t)nl;

    v->nvals = 0;
    v->nctrls = 0;
    push_ctrl(v, KIND_FUNC, 0, NULL, ft->nresults, ft->results);

    const uint8_t *p = f->code, *end = f->code + f->code_len;
    while (p < end) {
        v->at = p;
        uint8_t b = *p++;
        uint16_t op = v->ot->by_byte[b];
        if (b == 0xFC) {
            uint32_t sub = imm_u32(v, &p, end);
            op = sub < OPS_FC_MAX ? v->ot->by_fc[sub] : OP_ILLEGAL;
        } else if (b == 0xFD) {
            uint32_t sub = imm_u32(v, &p, end);
            op = sub < OPS_FD_MAX ? v->ot->by_fd[sub] : OP_ILLEGAL;
        }
        if (op == OP_ILLEGAL)
            val_fail(v, "illegal opcode (module not from module_decode?)");
        const OpInfo *o = &ops[op];
        if (o->simple) {
            if (o->imm == IMM_NONE)
                sig_effect(v, o);
            else
                p = simple_op(v, o, p, end);
            continue;
        }

        switch (op) {
        case OP_UNREACHABLE:
            set_unreachable(v);
            break;

        case OP_BLOCK:
        case OP_LOOP:
        case OP_IF: {
            uint32_t np, nr;
            const ValType *params, *results;
            read_blocktype(v, &p, end, &np, &params, &nr, &results);
            if (op == OP_IF)
                pop_expect(v, VT_I32);
            pop_vals(v, params, np);
            push_ctrl(v, op, np, params, nr, results);
            break;
        }
        case OP_ELSE: {
            Ctrl c = pop_ctrl(v);
            push_ctrl(v, OP_ELSE, c.nparams, c.params, c.nresults, c.results);
            break;
        }
        case OP_END: {
            Ctrl c = pop_ctrl(v);
            /* An if without else has an empty else that must turn the
               parameters into the results. */
            if (c.kind == OP_IF &&
                (c.nparams != c.nresults || (c.nparams && memcmp(c.params, c.results, c.nparams))))
                val_fail(v, "type mismatch: if without else must have matching parameter and result types");
            if (v->nctrls == 0) {
                if (p != end)
                    val_fail(v, "code after the function's final end");
                return;
            }
            push_vals(v, c.results, c.nresults);
            break;
        }
        case OP_BR: {
            const Ctrl *l = label(v, imm_u32(v, &p, end));
            pop_vals(v, label_types(l), label_arity(l));
            set_unreachable(v);
            break;
        }
        case OP_BR_IF: {
            const Ctrl *l = label(v, imm_u32(v, &p, end));
            pop_expect(v, VT_I32);
            pop_vals(v, label_types(l), label_arity(l));
            push_vals(v, label_types(l), label_arity(l));
            break;
        }
        case OP_BR_TABLE: {
            uint32_t n = imm_u32(v, &p, end);
            const uint8_t *targets = p;
            for (uint32_t i = 0; i < n; i++)
                p = leb_skip(p, end);
            const Ctrl *def = label(v, imm_u32(v, &p, end));
            uint32_t arity = label_arity(def);
            pop_expect(v, VT_I32);
            for (uint32_t i = 0; i < n; i++) {
                const Ctrl *l = label(v, imm_u32(v, &targets, end));
                if (label_arity(l) != arity)
                    val_fail(v, "type mismatch: br_table targets have different arities (%u and %u)",
                             label_arity(l), arity);
                peek_vals(v, label_types(l), arity);
            }
            pop_vals(v, label_types(def), arity);
            set_unreachable(v);
            break;
        }
        case OP_RETURN:
            pop_vals(v, ft->results, ft->nresults);
            set_unreachable(v);
            break;

        case OP_CALL: {
            const FuncType *t = func_type_of(v, imm_u32(v, &p, end));
            pop_vals(v, t->params, t->nparams);
            push_vals(v, t->results, t->nresults);
            break;
        }
        case OP_CALL_INDIRECT: {
            uint32_t ti = imm_u32(v, &p, end);
            const TableType *tab = table(v, imm_u32(v, &p, end));
            if (tab->elem != VT_FUNCREF)
                val_fail(v, "type mismatch: call_indirect through a %s table", type_name(tab->elem));
            if (ti >= m->ntypes)
                val_fail(v, "unknown type %u", ti);
            const FuncType *t = &m->types[ti];
            pop_expect(v, VT_I32);
            pop_vals(v, t->params, t->nparams);
            push_vals(v, t->results, t->nresults);
            break;
        }

        case OP_DROP:
            pop_any(v);
            break;
        case OP_SELECT: {
            pop_expect(v, VT_I32);
            ValType t1 = pop_any(v), t2 = pop_any(v);
            /* Numeric or vector operands: a select of references needs its type. */
            bool ok1 = t1 == VT_UNKNOWN || valtype_is_num(t1) || t1 == VT_V128;
            bool ok2 = t2 == VT_UNKNOWN || valtype_is_num(t2) || t2 == VT_V128;
            if (!ok1 || !ok2)
                val_fail(v, "type mismatch: select without a type needs numeric operands, found %s",
                         type_name(ok1 ? t2 : t1));
            if (t1 != t2 && t1 != VT_UNKNOWN && t2 != VT_UNKNOWN)
                val_fail(v, "type mismatch: select operands are %s and %s", type_name(t2), type_name(t1));
            push(v, t1 == VT_UNKNOWN ? t2 : t1);
            break;
        }
        case OP_SELECT_T: {
            uint32_t n = imm_u32(v, &p, end);
            if (n != 1)
                val_fail(v, "invalid result arity: select must have one result type, has %u", n);
            ValType t = *p++;
            pop_expect(v, VT_I32);
            pop_expect(v, t);
            pop_expect(v, t);
            push(v, t);
            break;
        }

        case OP_LOCAL_GET:
        case OP_LOCAL_SET:
        case OP_LOCAL_TEE: {
            uint32_t x = imm_u32(v, &p, end);
            if (x >= v->nlocals)
                val_fail(v, "unknown local %u", x);
            ValType t = v->locals[x];
            if (op != OP_LOCAL_GET)
                pop_expect(v, t);
            if (op != OP_LOCAL_SET)
                push(v, t);
            break;
        }
        case OP_GLOBAL_GET:
        case OP_GLOBAL_SET: {
            uint32_t x = imm_u32(v, &p, end);
            if (x >= m->nglobals)
                val_fail(v, "unknown global %u", x);
            const GlobalType *g = &m->global_types[x];
            if (op == OP_GLOBAL_GET) {
                push(v, g->type);
            } else {
                if (!g->mut)
                    val_fail(v, "global is immutable: global.set %u", x);
                pop_expect(v, g->type);
            }
            break;
        }

        case OP_TABLE_GET: {
            const TableType *t = table(v, imm_u32(v, &p, end));
            pop_expect(v, VT_I32);
            push(v, t->elem);
            break;
        }
        case OP_TABLE_SET: {
            const TableType *t = table(v, imm_u32(v, &p, end));
            pop_expect(v, t->elem);
            pop_expect(v, VT_I32);
            break;
        }
        case OP_TABLE_GROW: {
            const TableType *t = table(v, imm_u32(v, &p, end));
            pop_expect(v, VT_I32);
            pop_expect(v, t->elem);
            push(v, VT_I32);
            break;
        }
        case OP_TABLE_FILL: {
            const TableType *t = table(v, imm_u32(v, &p, end));
            pop_expect(v, VT_I32);
            pop_expect(v, t->elem);
            pop_expect(v, VT_I32);
            break;
        }

        case OP_REF_NULL:
            push(v, *p++);
            break;
        case OP_REF_IS_NULL: {
            ValType t = pop_any(v);
            if (t != VT_UNKNOWN && !valtype_is_ref(t))
                val_fail(v, "type mismatch: ref.is_null needs a reference, found %s", type_name(t));
            push(v, VT_I32);
            break;
        }
        case OP_REF_FUNC: {
            uint32_t x = imm_u32(v, &p, end);
            func_type_of(v, x);
            if (!m->func_declared[x])
                val_fail(v, "undeclared function reference %u (ref.func needs it in an element segment, "
                         "global or export)", x);
            push(v, VT_FUNCREF);
            break;
        }

        default:
            val_fail(v, "unsupported instruction %s", o->text);
        }
    }
    val_fail(v, "function body ends without its final end");
}

/* ------------------------------------------------------------------------ */
/* Module-level rules                                                       */

static void check_table_limits(Val *v, const Limits *l)
{
    if (l->has_max && l->min > l->max)
        val_fail(v, "size minimum must not be greater than maximum (%u > %u)", l->min, l->max);
}

static void check_mem_limits(Val *v, const Limits *l)
{
    if (l->min > MAX_PAGES || (l->has_max && l->max > MAX_PAGES))
        val_fail(v, "memory size must be at most 65536 pages (4GiB)");
    if (l->has_max && l->min > l->max)
        val_fail(v, "size minimum must not be greater than maximum (%u > %u)", l->min, l->max);
}

/* 2.0 constant expressions: one constant instruction, where global.get
   may only read an immutable imported global. */
static void check_const(Val *v, const ConstExpr *ce, ValType want)
{
    const Module *m = v->m;
    v->at = m->bytes + ce->offset;
    ValType got = ce->type;
    switch (ce->op) {
    case OP_NOP:
        if (ce->u.i32 == CONST_BAD_NONCONST)
            val_fail(v, "constant expression required");
        val_fail(v, "type mismatch: a constant expression must be exactly one instruction");
    case OP_GLOBAL_GET:
        if (ce->u.index >= m->nglobal_imports)
            val_fail(v, "unknown global %u (constant expressions may only read imported globals)",
                     ce->u.index);
        if (m->global_types[ce->u.index].mut)
            val_fail(v, "constant expression required (global %u is mutable)", ce->u.index);
        got = m->global_types[ce->u.index].type;
        break;
    case OP_REF_FUNC:
        if (ce->u.index >= m->nfuncs)
            val_fail(v, "unknown function %u", ce->u.index);
        break;
    default:
        break;
    }
    if (got != want)
        val_fail(v, "type mismatch: expected %s, found %s", type_name(want), type_name(got));
}

static int cmp_export(const void *a, const void *b)
{
    const Export *x = *(const Export *const *)a, *y = *(const Export *const *)b;
    if (x->name_len != y->name_len)
        return x->name_len < y->name_len ? -1 : 1;
    return memcmp(x->name, y->name, x->name_len);
}

static void check_exports(Val *v)
{
    const Module *m = v->m;
    v->section = "export section";
    v->item_kind = "export";
    for (uint32_t i = 0; i < m->nexports; i++) {
        const Export *e = &m->exports[i];
        v->item = i;
        static const char *const what[] = { "function", "table", "memory", "global" };
        uint32_t n = e->kind == EXT_FUNC ? m->nfuncs : e->kind == EXT_TABLE ? m->ntables
                   : e->kind == EXT_MEMORY ? m->nmems : m->nglobals;
        if (e->index >= n)
            val_fail(v, "unknown %s %u", what[e->kind], e->index);
    }
    v->item_kind = NULL;
    if (m->nexports < 2)
        return;
    const Export **sorted = malloc(m->nexports * sizeof *sorted);
    if (!sorted)
        val_fail(v, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++)
        sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof *sorted, cmp_export);
    for (uint32_t i = 1; i < m->nexports; i++)
        if (cmp_export(&sorted[i - 1], &sorted[i]) == 0) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(sorted[i]->name_len < 60 ? sorted[i]->name_len : 60),
                     sorted[i]->name);
            free(sorted);
            val_fail(v, "duplicate export name \"%s\"", name);
        }
    free(sorted);
}

static void validate_module(Val *v)
{
    const Module *m = v->m;

    v->section = "import section";
    v->item_kind = "import";
    for (uint32_t i = 0; i < m->nimports; i++) {
        const Import *im = &m->imports[i];
        v->item = i;
        if (im->kind == EXT_FUNC && im->u.func_type >= m->ntypes)
            val_fail(v, "unknown type %u", im->u.func_type);
        if (im->kind == EXT_TABLE)
            check_table_limits(v, &im->u.table.limits);
        if (im->kind == EXT_MEMORY)
            check_mem_limits(v, &im->u.mem.limits);
    }

    v->section = "function section";
    v->item_kind = "function";
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        v->item = i;
        if (m->func_types[i] >= m->ntypes)
            val_fail(v, "unknown type %u", m->func_types[i]);
    }

    v->section = "table section";
    v->item_kind = "table";
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        v->item = i;
        check_table_limits(v, &m->tables[i].limits);
    }

    v->section = "memory section";
    v->item_kind = "memory";
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
        v->item = i;
        check_mem_limits(v, &m->mems[i].limits);
    }
    v->item_kind = NULL;
    if (m->nmems > 1)
        val_fail(v, "multiple memories (%u; 2.0 allows one)", m->nmems);

    v->section = "global section";
    v->item_kind = "global";
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        v->item = i;
        const Global *g = &m->globals[i - m->nglobal_imports];
        check_const(v, &g->init, g->type.type);
    }
    v->at = NULL;

    v->section = "element section";
    v->item_kind = "segment";
    for (uint32_t i = 0; i < m->nelems; i++) {
        const Elem *e = &m->elems[i];
        v->item = i;
        v->at = m->bytes + e->offset.offset;
        if (e->mode == SEG_ACTIVE) {
            const TableType *t = table(v, e->table);
            if (t->elem != e->type)
                val_fail(v, "type mismatch: %s segment for a %s table", type_name(e->type), type_name(t->elem));
            check_const(v, &e->offset, VT_I32);
        }
        for (uint32_t k = 0; k < e->count; k++)
            check_const(v, &e->items[k], e->type);
    }
    v->at = NULL;

    v->section = "data section";
    v->item_kind = "segment";
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const Data *d = &m->datas[i];
        v->item = i;
        v->at = m->bytes + d->offset.offset;
        if (d->mode == SEG_ACTIVE) {
            need_memory(v, d->memory);
            check_const(v, &d->offset, VT_I32);
        }
    }
    v->at = NULL;

    v->section = "code section";
    v->item_kind = "function";
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        v->item = i;
        validate_body(v, i);
    }
    v->at = NULL;
    v->item_kind = NULL;

    if (m->has_start) {
        v->section = "start section";
        const FuncType *t = func_type_of(v, m->start);
        if (t->nparams || t->nresults)
            val_fail(v, "start function %u must have type [] -> [], has %u params and %u results",
                     m->start, t->nparams, t->nresults);
    }

    check_exports(v);
}

static bool guarded_validate(Val *v)
{
    jmp_buf jb;
    v->jb = &jb;
    if (setjmp(jb))
        return false;
    validate_module(v);
    return true;
}

bool module_validate(const Module *m, WasmError *err)
{
    WasmError scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    err->offset = (size_t)-1;
    Val v = { .m = m, .ot = op_tables(), .err = err };
    bool ok = guarded_validate(&v);
    free(v.vals);
    free(v.ctrls);
    free(v.locals);
    return ok;
}
