/*
 * The translator's state and the small helpers that translate.c and the
 * fusions in fuse.c share (private to src/interp).  See translate.c for
 * how the simulated operand stack works.
 */
#ifndef LW_TRANSLATE_STATE_H
#define LW_TRANSLATE_STATE_H

#include <setjmp.h>
#include <stdlib.h>
#include "interp/translate.h"
#include "decode/decode_ops.h"

/* ---- translator state ---- */
enum { E_TEMP, E_LOCAL, E_CONST };
typedef struct {
    uint8_t kind;
    uint32_t slot;        /* E_LOCAL: the local's slot */
    uint64_t val;         /* E_CONST */
} Ent;

enum { C_FUNC, C_BLOCK, C_LOOP, C_IF };
typedef struct {
    uint8_t kind;
    bool dead;            /* the rest of this block is unreachable */
    bool targeted;        /* a forward branch names this label */
    bool in_else;
    uint32_t nparams, nresults;
    uint32_t height;      /* stack height at entry, below the params */
    size_t loop_pc;       /* C_LOOP: code index of the header */
    size_t else_chain;    /* C_IF: chain of the false branch (patched at else/end) */
    size_t chain;         /* forward branches to this label: a chain through the cells */
} Ctl;

typedef struct {
    CompiledFunc *cf;
    lw_module *mod;
    const Module *m;
    const void *const *hs;
    const uint8_t *p, *end;
    Cell *code;
    size_t len, cap;
    uint16_t *hid;        /* per code cell: 1 + the handler id where an instruction starts (passes.c) */
    size_t hid_cap;
    Ent *stk;
    uint32_t h, max_h;
    size_t stk_cap;
    Ctl *ctl;
    uint32_t nctl;
    size_t ctl_cap;
    size_t *tgts;         /* cells that hold a code index to turn into a pointer */
    size_t ntgts, tgts_cap;
    uint32_t tempbase;
    uint32_t s;           /* slots per value: 1, or 2 in a module that uses v128 (cf->scale) */
    uint32_t zero;        /* a slot that is always 0: after the declared locals */
    bool plain;           /* lw_translate_plain: no fusions, no passes */
    uint32_t cbase, ncmax; /* constant slots: ncmax of them from cbase (see operand()) */
    uint32_t nconsts;
    uint64_t *consts;
    uint32_t loops;       /* loops enclosing the current instruction */
    uint32_t pending;
    uint32_t nalias;
    bool in_entry;        /* no label yet: straight-line code from the function entry */
    uint8_t *zeroed;      /* per local: still holds its entry 0 (valid while in_entry) */
    size_t fold_cell;     /* see set_fold() */
    int fold_half;
    bool fold_ok;
    /* Peephole: the last instruction, when it wrote the top entry's home slot. */
    size_t last, last_end;
    int last_h;
    size_t prev;          /* the instruction just before `last`, or SIZE_MAX */
    int prev_h;
    size_t prev2;         /* and the one before that, or SIZE_MAX */
    int prev2_h;
    size_t prev3;         /* and the one before that */
    int prev3_h;
    jmp_buf fail;
    const char *err;
} T;

static inline _Noreturn void fail(T *t, const char *msg)
{
    t->err = msg;
    longjmp(t->fail, 1);
}

static inline void *grow(T *t, void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * elem);
    if (!q)
        fail(t, "out of memory");
    *cap = n;
    return q;
}

static inline Cell *cell(T *t)
{
    t->code = grow(t, t->code, &t->cap, t->len + 1, sizeof *t->code);
    t->hid = grow(t, t->hid, &t->hid_cap, t->len + 1, sizeof *t->hid);
    t->hid[t->len] = 0;
    Cell *c = &t->code[t->len++];
    c->u64 = 0;
    return c;
}

static inline size_t emit_h(T *t, int h)
{
    size_t at = t->len;
    /* The window slides: the last instruction becomes the one before it. */
    bool chain = t->last != SIZE_MAX && t->last_end == at;
    t->prev3 = chain ? t->prev2 : SIZE_MAX;
    t->prev3_h = t->prev2_h;
    t->prev2 = chain ? t->prev : SIZE_MAX;
    t->prev2_h = t->prev_h;
    t->prev = chain ? t->last : SIZE_MAX;
    t->prev_h = t->last_h;
    cell(t)->h = t->hs[h];
    t->hid[at] = (uint16_t)(h + 1);
    t->last = SIZE_MAX;   /* a new instruction ends any peephole window */
    return at;
}

static inline void emit_pair(T *t, uint32_t a, uint32_t b)
{
    Cell *c = cell(t);
    c->s.a = a;
    c->s.b = b;
}

static inline void emit_u64(T *t, uint64_t v) { cell(t)->u64 = v; }

/* Mark the end of a simple instruction whose result is the new top entry. */
static inline void set_last(T *t, size_t at, int h)
{
    t->last = at;
    t->last_end = t->len;
    t->last_h = h;
}

static inline uint32_t home(T *t, uint32_t i) { return t->tempbase + i * t->s; }

static inline void push(T *t, uint8_t kind, uint32_t slot, uint64_t val)
{
    t->stk = grow(t, t->stk, &t->stk_cap, (size_t)t->h + 1, sizeof *t->stk);
    Ent *e = &t->stk[t->h++];
    e->kind = kind;
    e->slot = slot;
    e->val = val;
    if (kind == E_LOCAL)
        t->nalias++;
    if (t->h > t->max_h)
        t->max_h = t->h;
}

static inline void push_temp(T *t) { push(t, E_TEMP, 0, 0); }

static inline Ent pop(T *t)
{
    if (t->h <= t->ctl[t->nctl - 1].height)
        fail(t, "operand stack underflow");   /* validated code never does this */
    Ent e = t->stk[--t->h];
    if (e.kind == E_LOCAL)
        t->nalias--;
    return e;
}

/*
 * Inside a loop a constant operand gets a slot of its own, set once on
 * function entry, rather than a CONST on every iteration.  UINT32_MAX when
 * there is none to give.
 */
static inline uint32_t const_slot(T *t, uint64_t v)
{
    if (v == 0)
        return t->zero;
    if (!t->loops)
        return UINT32_MAX;
    for (uint32_t k = 0; k < t->nconsts; k++)
        if (t->consts[k] == v)
            return t->cbase + k;
    if (t->nconsts == t->ncmax)
        return UINT32_MAX;
    t->consts[t->nconsts] = v;
    return t->cbase + t->nconsts++;
}

/* The slot an instruction reads entry e (at index i) from; constants get materialised. */
static inline uint32_t operand(T *t, Ent e, uint32_t i)
{
    if (e.kind == E_TEMP)
        return home(t, i);
    if (e.kind == E_LOCAL)
        return e.slot;
    if (e.val == 0)
        return t->zero;
    uint32_t cs = const_slot(t, e.val);
    if (cs != UINT32_MAX)
        return cs;
    emit_h(t, H_CONST);
    emit_pair(t, home(t, i), 0);
    emit_u64(t, e.val);
    return home(t, i);
}

/* Does the last instruction produce the top entry (so its dst may be retargeted)? */
static inline bool last_makes_top(T *t)
{
    return t->last != SIZE_MAX && t->last_end == t->len && t->h > 0 &&
           t->stk[t->h - 1].kind == E_TEMP && t->code[t->last + 1].s.a == home(t, t->h - 1);
}

/* Emit [h][dst|a][b|c] whose result, in the next home slot, is the new top entry. */
static inline void emit_to_top(T *t, int h, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t d = home(t, t->h);
    size_t at = emit_h(t, h);
    emit_pair(t, d, a);
    emit_pair(t, b, c);
    push_temp(t);
    set_last(t, at, h);
}

/* ---- fusions (fuse.c): each returns false, emitting nothing, when its pattern is not there ---- */

bool fuse_muladd(T *t, int op);
bool fuse_muladd_to_mem(T *t, int store, uint64_t off);
bool fuse_mul3(T *t, int op);
bool fuse_load_operand(T *t, int op);
bool take_store(T *t, Cell st[2], int *h, bool imm);
bool fuse_add_to_mem(T *t, int store, uint64_t off);
bool fuse_sub_to_mem(T *t, int store, uint64_t off);
bool fuse_axpy_to_mem(T *t, int store, uint64_t off);

#endif
