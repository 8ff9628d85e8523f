/*
 * Execution contexts: the lw_exec_* half of include/leonardo.h.
 *
 * An lw_exec owns a slot stack and a frame stack.  lw_exec_call puts the
 * arguments at the first free slot, pushes the entry frame (whose return
 * address is the EXIT handler) and runs interp_run; fuel slices and the
 * hard limit are accounted here, around each run of the interpreter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interp/translate.h"

#define DEFAULT_MAX_DEPTH 10000
#define DEFAULT_STACK_SLOTS (1u << 20)   /* 8 MiB, committed lazily by the OS */
#define BACKTRACE_MAX_LINES 64

lw_exec *lw_exec_new(lw_store *s, const lw_exec_config *cfg)
{
    lw_exec *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->store = s;
    ex->max_depth = cfg && cfg->max_call_depth ? cfg->max_call_depth : DEFAULT_MAX_DEPTH;
    size_t slots = cfg && cfg->stack_slots ? cfg->stack_slots : DEFAULT_STACK_SLOTS;
    ex->stack = malloc(slots * sizeof *ex->stack);
    ex->frames = calloc((size_t)ex->max_depth + 2, sizeof *ex->frames);
    ex->frames_cap = ex->max_depth + 2;
    ex->frames_owned = true;
    if (!ex->stack || !ex->frames) {
        lw_exec_free(ex);
        return NULL;
    }
    ex->stack_end = ex->stack_limit = ex->stack + slots;
    ex->exit_h = interp_handlers()[H_EXIT];
    ex->frames[0].fp = ex->stack;
    return ex;
}

/* Frames a process starts with inside its stack block: its first page holds them and the first slots. */
#define EMBEDDED_FRAMES 16

lw_exec *exec_new_in(void *block, size_t size, uint32_t max_depth)
{
    uint32_t cap = max_depth + 2 < EMBEDDED_FRAMES ? max_depth + 2 : EMBEDDED_FRAMES;
    size_t frames_bytes = (size_t)cap * sizeof(Frame);
    size_t head = (sizeof(lw_exec) + 15) & ~(size_t)15;
    if (size < head + frames_bytes + 64 * sizeof(uint64_t))
        return NULL;
    lw_exec *ex = block;   /* zeroed, as the block is */
    block = (char *)block + head;
    size -= head;
    ex->borrowed_stacks = true;
    ex->frames_cap = cap;
    ex->max_depth = max_depth;
    ex->frames = block;
    ex->stack = (uint64_t *)((char *)block + frames_bytes);
    ex->stack_limit = ex->stack + (size - frames_bytes) / sizeof(uint64_t);
    /* Soft at first, 128 slots in: enough for a small process, and what is
       cleaned when it ends is what it could have written (exec_grow_stack). */
    uint64_t *soft = ex->stack + 128;
    ex->stack_end = soft < ex->stack_limit ? soft : ex->stack_limit;
    ex->exit_h = interp_handlers()[H_EXIT];
    ex->frames[0].fp = ex->stack;
    return ex;
}

void lw_exec_free(lw_exec *ex)
{
    if (!ex)
        return;
    if (!ex->borrowed_stacks)
        free(ex->stack);
    if (ex->frames_owned)
        free(ex->frames);
    free(ex->backtrace);
    if (!ex->borrowed_stacks)
        free(ex);
}

bool exec_grow_stack(lw_exec *ex, const uint64_t *need)
{
    if (need > ex->stack_limit)
        return false;
    /* Round up to a page's worth of slots beyond the need. */
    size_t at = (size_t)(need - ex->stack) + 512;
    size_t max = (size_t)(ex->stack_limit - ex->stack);
    ex->stack_end = ex->stack + (at < max ? at : max);
    return true;
}

Frame *exec_grow_frames(lw_exec *ex, Frame *fr)
{
    uint32_t limit = ex->max_depth + 2;
    if (ex->frames_cap >= limit)
        return NULL;
    uint32_t cap = ex->frames_cap * 2 < limit ? ex->frames_cap * 2 : limit;
    Frame *f = ex->frames_owned ? realloc(ex->frames, (size_t)cap * sizeof *f) : malloc((size_t)cap * sizeof *f);
    if (!f)
        return NULL;
    if (!ex->frames_owned)
        memcpy(f, ex->frames, (size_t)ex->frames_cap * sizeof *f);
    size_t at = (size_t)(fr - ex->frames);
    ex->frames = f;
    ex->frames_cap = cap;
    ex->frames_owned = true;
    return f + at;
}

void lw_exec_set_fuel_slice(lw_exec *ex, int64_t slice) { ex->slice = slice > 0 ? slice : 0; }

void lw_exec_set_fuel_limit(lw_exec *ex, int64_t limit)
{
    ex->limit = limit > 0 ? limit : 0;
    ex->limit_base = ex->used;
}

uint64_t lw_exec_fuel_used(const lw_exec *ex) { return ex->used; }

/* ---- traps ---- */

static void set_trap_msg(lw_exec *ex, const char *msg)
{
    if (msg != ex->trap_buf)
        snprintf(ex->trap_buf, sizeof ex->trap_buf, "%s", msg ? msg : "trap");
    ex->trap = ex->trap_buf;
}

/* The function's name: name section, else an export name, else func[N]. */
static const char *func_name(const CompiledFunc *cf, char *buf, size_t len)
{
    const Module *m = cf->mod->m;
    uint32_t idx = cf->func_index;
    if (m->func_names && m->func_names[idx])
        return m->func_names[idx];
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == EXT_FUNC && m->exports[i].index == idx)
            return m->exports[i].name;
    return module_func_name(m, idx, buf, len);
}

void exec_record_trap(lw_exec *ex, const char *msg)
{
    set_trap_msg(ex, msg);
    free(ex->backtrace);
    ex->backtrace = NULL;

    size_t cap = 256, len = 0;
    char *bt = malloc(cap);
    uint32_t lines = 0;
    for (uint32_t d = ex->depth; bt && d >= ex->entry_depth && d > 0; d--) {
        const Frame *f = &ex->frames[d];
        char buf[48];
        const char *name = "...";
        if (lines++ == BACKTRACE_MAX_LINES)
            d = ex->entry_depth;   /* the last line says the rest was left out */
        else if (f->code)   /* NULL: the sentinel */
            name = func_name(f->code, buf, sizeof buf);
        size_t n = strlen(name);
        if (len + n + 2 > cap) {
            cap = (len + n + 2) * 2;
            char *nb = realloc(bt, cap);
            if (!nb) {
                free(bt);
                bt = NULL;
                break;
            }
            bt = nb;
        }
        memcpy(bt + len, name, n);
        len += n;
        bt[len++] = '\n';
        bt[len] = 0;
    }
    if (bt && len == 0)
        bt[0] = 0;
    ex->backtrace = bt;
    ex->depth = ex->entry_depth ? ex->entry_depth - 1 : 0;
    ex->suspended = false;
}

/* ---- running ---- */

static lw_value slot_value(ValType t, uint64_t s)
{
    lw_value v;
    memset(&v, 0, sizeof v);
    v.type = t;
    switch (t) {
    case VT_I32: v.of.i32 = (uint32_t)s; break;
    case VT_F32: v.of.f32 = (uint32_t)s; break;
    case VT_I64: v.of.i64 = s; break;
    case VT_F64: v.of.f64 = s; break;
    case VT_FUNCREF: v.of.func = (lw_func *)(uintptr_t)s; break;
    case VT_EXTERNREF: v.of.ext = (uintptr_t)s; break;
    default: break;
    }
    return v;
}

static uint64_t value_slot(const lw_value *v);

/* Arguments into slots: wide (scale 2: a value every two slots), else
   packed (scale 0: a v128 in two, the rest in one), or one each. */
static void place_args(uint64_t *sp, const lw_value *args, uint32_t n, uint32_t scale)
{
    for (uint32_t i = 0; i < n; i++) {
        if (args[i].type == LW_V128)
            memcpy(sp, args[i].of.v128, 16);
        else
            *sp = value_slot(&args[i]);
        sp += scale == 2 || args[i].type == LW_V128 ? 2 : 1;
    }
}

static uint64_t value_slot(const lw_value *v)
{
    switch (v->type) {
    case LW_I32: return v->of.i32;
    case LW_F32: return v->of.f32;
    case LW_I64: return v->of.i64;
    case LW_F64: return v->of.f64;
    case LW_FUNCREF: return (uint64_t)(uintptr_t)v->of.func;
    case LW_EXTERNREF: return (uint64_t)v->of.ext;
    default: return 0;
    }
}

static void start_slice(lw_exec *ex)
{
    int64_t b = INT64_MAX / 2;
    if (ex->slice > 0)
        b = ex->slice;
    if (ex->limit > 0) {
        int64_t left = ex->limit - (int64_t)(ex->used - ex->limit_base);
        if (left < b)
            b = left;
    }
    ex->budget = b;
    ex->fuel = b;
}

/* Run the interpreter until the call finishes or the slice ends. */
static lw_status run(lw_exec *ex)
{
    for (;;) {
        ex->running = true;
        lw_status st = interp_run(ex);
        ex->running = false;
        ex->used += (uint64_t)(ex->budget - ex->fuel);
        ex->budget = ex->fuel;
        if (st == LW_BLOCK) {
            ex->suspended = true;   /* parked in a host call; resuming calls it again */
            return LW_BLOCK;
        }
        if (st != LW_YIELD) {
            ex->suspended = false;
            if (st == LW_EXIT)
                ex->depth = ex->entry_depth - 1;
            return st;
        }
        if (ex->limit > 0 && ex->used - ex->limit_base >= (uint64_t)ex->limit) {
            exec_record_trap(ex, "out of fuel");
            return LW_TRAP;
        }
        if (ex->slice > 0) {
            ex->suspended = true;
            return LW_YIELD;
        }
        start_slice(ex);   /* the no-slice budget ran out: just carry on */
    }
}

lw_status lw_exec_call(lw_exec *ex, lw_func *f, const lw_value *args, uint32_t nargs)
{
    const FuncSig *sig = f->sig;
    if (ex->running) {
        /* A host function calling back into wasm: run nested, above its slots. */
        set_trap_msg(ex, "nested calls into wasm from host functions are not supported");
        return LW_TRAP;
    }
    ex->suspended = false;
    ex->trap = NULL;
    free(ex->backtrace);
    ex->backtrace = NULL;
    ex->entry = f;
    ex->depth = 0;
    ex->entry_depth = 1;

    if (nargs != sig->nparams) {
        set_trap_msg(ex, "wrong number of arguments");
        return LW_TRAP;
    }
    for (uint32_t i = 0; i < nargs; i++)
        if (args[i].type != sig->params[i]) {
            set_trap_msg(ex, "argument type mismatch");
            return LW_TRAP;
        }
    uint64_t *sp = ex->stack;
    /* Two slots a value covers both layouts: packed for a host function (a
       v128 in two), wide (a value every two) for a module that uses v128. */
    uint32_t room = 2 * (sig->nparams > sig->nresults ? sig->nparams : sig->nresults);
    if (sp + room > ex->stack_end && !exec_grow_stack(ex, sp + room)) {
        set_trap_msg(ex, "call stack exhausted");
        return LW_TRAP;
    }
    ex->entry_fp = sp;
    ex->entry_scale = 1;

    if (f->is_host) {
        place_args(sp, args, nargs, 0);
        ex->sp = sp + room;
        ex->running = true;
        lw_status st = f->u.host.fn(ex, f->u.host.env, sp);
        ex->running = false;
        if (st == LW_BLOCK) {
            set_trap_msg(ex, "a host function blocked with no wasm caller to resume");
            return LW_TRAP;
        }
        if (st == LW_TRAP && !ex->backtrace)
            set_trap_msg(ex, ex->trap);
        return st;
    }

    lw_instance *inst = f->u.wasm.inst;
    CompiledFunc *cf = __atomic_load_n(&f->u.wasm.code, __ATOMIC_ACQUIRE);
    if (!cf) {
        cf = code_get(inst->module, f->u.wasm.index - inst->m->nfunc_imports);
        if (!cf) {
            set_trap_msg(ex, "out of memory");
            return LW_TRAP;
        }
        __atomic_store_n(&f->u.wasm.code, cf, __ATOMIC_RELEASE);
    }
    if (!translate_func(cf)) {
        set_trap_msg(ex, cf->error);
        return LW_TRAP;
    }
    if (ex->max_depth < 1 || (sp + cf->frame_slots > ex->stack_end && !exec_grow_stack(ex, sp + cf->frame_slots))) {
        set_trap_msg(ex, "call stack exhausted");
        return LW_TRAP;
    }
    place_args(sp, args, nargs, cf->scale);
    ex->entry_scale = cf->scale;
    for (uint32_t i = cf->nparams; i < cf->nparams + cf->nlocals; i++)
        sp[i] = 0;
    Frame *fr = &ex->frames[1];
    fr->ret_ip = &ex->exit_h;
    fr->fp = sp;
    fr->code = cf;
    fr->inst = inst;
    ex->depth = 1;
    ex->ip = cf->code;
    start_slice(ex);
    return run(ex);
}

lw_status lw_exec_resume(lw_exec *ex)
{
    if (!ex->suspended || ex->running) {
        set_trap_msg(ex, "nothing to resume");
        return LW_TRAP;
    }
    start_slice(ex);
    return run(ex);
}

void lw_exec_results(lw_exec *ex, lw_value *out, uint32_t n)
{
    if (!ex->entry)
        return;
    const FuncSig *sig = ex->entry->sig;
    const uint64_t *s = ex->entry_fp;
    for (uint32_t i = 0; i < n && i < sig->nresults; i++) {
        /* Wide: result i at 2i.  Packed (a host function): a v128 takes two. */
        out[i] = slot_value(sig->results[i], *s);
        if (sig->results[i] == VT_V128)
            memcpy(out[i].of.v128, s, 16);
        s += ex->entry_scale == 2 || sig->results[i] == VT_V128 ? 2 : 1;
    }
}

const char *lw_exec_trap_message(const lw_exec *ex) { return ex->trap ? ex->trap : ""; }
const char *lw_exec_backtrace(const lw_exec *ex) { return ex->backtrace ? ex->backtrace : ""; }
int lw_exec_exit_code(const lw_exec *ex) { return ex->exit_code; }

lw_memory *lw_exec_caller_memory(lw_exec *ex)
{
    lw_instance *inst = lw_exec_caller_instance(ex);
    return inst ? inst->mem0 : NULL;
}

lw_instance *lw_exec_caller_instance(lw_exec *ex)
{
    if (!ex->running || ex->depth == 0)
        return NULL;
    return ex->frames[ex->depth].inst;
}

void lw_exec_set_trap(lw_exec *ex, const char *msg) { set_trap_msg(ex, msg); }
void lw_exec_set_exit(lw_exec *ex, int code) { ex->exit_code = code; }
void *lw_exec_userdata(lw_exec *ex) { return ex->userdata; }
void lw_exec_set_userdata(lw_exec *ex, void *p) { ex->userdata = p; }
