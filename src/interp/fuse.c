/*
 * Fusions: peepholes that the translator (translate.c) tries as it emits
 * an arithmetic instruction or a store, folding the instructions just
 * emitted (the window t->last, prev, prev2, prev3) into one handler:
 *
 *   x + y*z, x - y*z, (x*y)*z          fuse_muladd, fuse_mul3
 *   x op load(p)                        fuse_load_operand
 *   *p = v; p += k                      take_store
 *   mem[p] += x, mem[p] -= y*z          fuse_add_to_mem, fuse_sub_to_mem
 *   x[i] += k * y[i]                    fuse_axpy_to_mem
 *   mem[p] += y*z, the load first        fuse_muladd_to_mem
 *
 * Each checks that the instructions it removes wrote only temps that
 * nothing else reads, so the fused code computes and traps exactly as
 * the separate instructions would.
 */
#include <string.h>
#include "interp/translate_state.h"

/* x - y*z or x + y*z where the multiply just made the top entry. */
bool fuse_muladd(T *t, int op)
{
    if (t->plain)
        return false;
    int mul, h;
    switch (op) {
    case OP_F32_ADD: mul = OP_F32_MUL; h = H_F32_ADD_MUL; break;
    case OP_F32_SUB: mul = OP_F32_MUL; h = H_F32_SUB_MUL; break;
    case OP_F64_ADD: mul = OP_F64_MUL; h = H_F64_ADD_MUL; break;
    case OP_F64_SUB: mul = OP_F64_MUL; h = H_F64_SUB_MUL; break;
    default: return false;
    }
    if (!last_makes_top(t) || t->last_h != mul || t->stk[t->h - 2].kind == E_CONST)
        return false;
    const Cell *li = &t->code[t->last];
    uint32_t x = li[1].s.b, y = li[2].s.a;
    size_t pv = t->prev;   /* what ran before the multiply runs before this */
    int pvh = t->prev_h;
    t->len = t->last;
    pop(t);
    uint32_t ia = t->h - 1;
    Ent ea = pop(t);
    emit_to_top(t, h, operand(t, ea, ia), x, y);
    t->prev = pv;
    t->prev_h = pvh;
    return true;
}

/* (x*y)*z where the first multiply just made the entry below the top. */
bool fuse_mul3(T *t, int op)
{
    if (t->plain)
        return false;
    if ((op != OP_F32_MUL && op != OP_F64_MUL) || t->last == SIZE_MAX || t->last_h != op ||
        t->last_end != t->len || t->h < 2)
        return false;
    uint32_t ia = t->h - 2, ib = t->h - 1;
    const Cell *li = &t->code[t->last];
    if (t->stk[ia].kind != E_TEMP || li[1].s.a != home(t, ia))
        return false;
    /* z must not need a CONST that would land on an operand of the first multiply */
    Ent eb = t->stk[ib];
    uint32_t z;
    if (eb.kind == E_CONST) {
        z = const_slot(t, eb.val);
        if (z == UINT32_MAX)
            return false;
    } else {
        z = eb.kind == E_LOCAL ? eb.slot : home(t, ib);
    }
    uint32_t x = li[1].s.b, y = li[2].s.a;
    size_t pv = t->prev;   /* what ran before the first multiply runs before this */
    int pvh = t->prev_h;
    t->len = t->last;
    pop(t);
    pop(t);
    int h = op == OP_F32_MUL ? H_F32_MUL3 : H_F64_MUL3;
    size_t at = emit_h(t, h);
    t->prev = pv;
    t->prev_h = pvh;
    emit_pair(t, home(t, t->h), x);
    emit_pair(t, y, z);
    push_temp(t);
    set_last(t, at, h);
    return true;
}

/*
 * `x; load p; op` where the load just made the top entry (or a local.tee
 * of it): one instruction that loads and operates (LW_MEMOP_OPS).  A
 * temp is read by nothing else, so the loaded value goes nowhere; a
 * local the tee named still gets it, from the _K form.
 */
bool fuse_load_operand(T *t, int op)
{
    if (t->plain)
        return false;
    if (t->h < 2 || t->stk[t->h - 2].kind == E_CONST || t->last == SIZE_MAX || t->last_end != t->len)
        return false;
    int lh = t->last_h, load;
    const Cell *li = &t->code[t->last];
    /* the load made the top entry, or wrote a local (local.tee) that the top entry reads */
    Ent top = t->stk[t->h - 1];
    if (!last_makes_top(t) && !(top.kind == E_LOCAL && top.slot == li[1].s.a))
        return false;
    uint32_t ld = li[1].s.a;
    bool keep = ld < t->tempbase;
    /* `(local.tee L (load)) op (local.get L)` wants the loaded value on both
       sides, but the handler reads its left operand before it stores L */
    Ent x0 = t->stk[t->h - 2];
    if (keep && x0.kind == E_LOCAL && x0.slot == ld)
        return false;
    uint32_t x = li[1].s.b, c;
    uint64_t off;
    if (lh >= OP_I32_LOAD && lh <= OP_I64_LOAD32_U) {
        load = lh;
        c = 0;
        off = li[2].u64;
    } else if (lh >= H_I32_LOAD_AI && lh <= H_I64_LOAD32_U_AI && (lh - H_I32_LOAD_AI) % 2 == 0) {
        load = OP_I32_LOAD + (lh - H_I32_LOAD_AI) / 2;
        c = li[2].s.a;
        off = li[2].s.b;
    } else {
        return false;
    }
    int h = -1;
#define X(o, l, LT, TT, get, put, expr) \
    if (op == OP_##o && load == OP_##l) \
        h = keep ? H_##o##_M_##l##_K : H_##o##_M_##l;
    LW_MEMOP_OPS(X)
#undef X
    if (h < 0 || off > UINT32_MAX)
        return false;
    size_t pv = t->prev;   /* what ran before the load runs before this */
    int pvh = t->prev_h;
    t->len = t->last;
    pop(t);
    uint32_t ia = t->h - 1;
    uint32_t as = operand(t, pop(t), ia);   /* a temp or a local: emits nothing */
    size_t at = emit_h(t, h);
    t->prev = pv;
    t->prev_h = pvh;
    emit_pair(t, home(t, t->h), as);
    emit_pair(t, x, c);
    emit_pair(t, (uint32_t)off, keep ? ld : 0);
    push_temp(t);
    set_last(t, at, h);
    return true;
}

/*
 * An i32.add right after a plain store takes the store in (*h becomes the
 * fused id, st its operand cells): `*p = v; p += k` in one dispatch.
 */
bool take_store(T *t, Cell st[2], int *h, bool imm)
{
    if (t->plain)
        return false;
    if (t->last == SIZE_MAX || t->last_end != t->len)
        return false;
    int fused = -1;
#define X(id, TY) if (t->last_h == OP_##id) fused = imm ? H_##id##_ADDI : H_##id##_ADD;
    LW_STORE_ADD_OPS(X)
#undef X
    if (fused < 0)
        return false;
    st[0] = t->code[t->last + 1];
    st[1] = t->code[t->last + 2];
    t->len = t->last;
    t->last = t->prev = SIZE_MAX;
    *h = fused;
    return true;
}

/*
 * The slot holding the address of the store being translated (the entry
 * below its value), for the read-modify-write fusions: a temp's home, a
 * local, or the zero slot for address 0; UINT32_MAX for another constant.
 */
static uint32_t store_addr(T *t)
{
    Ent ea = t->stk[t->h - 2];
    if (ea.kind == E_TEMP)
        return home(t, t->h - 2);
    if (ea.kind == E_LOCAL)
        return ea.slot;
    return ea.val == 0 ? t->zero : UINT32_MAX;
}

/*
 * Finish a read-modify-write fusion: the code from `at` on goes, except n
 * cells from `keep` (an instruction that must still run, moved up to
 * `at`); the store's address and value leave the stack; and the fused
 * store is emitted, [addr|x]([more])[offset].
 */
static bool emit_rmw(T *t, size_t at, size_t keep, size_t n, int h, uint32_t addr, uint32_t x,
                     const Cell *more, uint64_t off)
{
    Cell m = more ? *more : (Cell){ .u64 = 0 };   /* it may lie in the code that goes */
    memmove(&t->code[at], &t->code[keep], n * sizeof *t->code);
    memmove(&t->hid[at], &t->hid[keep], n * sizeof *t->hid);
    t->len = at + n;
    t->last = SIZE_MAX;
    pop(t);
    pop(t);
    emit_h(t, h);
    emit_pair(t, addr, x);
    if (more)
        *cell(t) = m;
    emit_u64(t, off);
    return true;
}

/*
 * `load p; add x, that; store p` on the same address and type: one
 * read-modify-write instruction [addr|x][offset], mem += x.
 */
bool fuse_add_to_mem(T *t, int store, uint64_t off)
{
    if (t->plain)
        return false;
    int load, add, madd, h;
    switch (store) {
    case OP_I32_STORE: load = OP_I32_LOAD; add = OP_I32_ADD; madd = H_I32_ADD_M_I32_LOAD; h = H_I32_ADD_MEM; break;
    case OP_I64_STORE: load = OP_I64_LOAD; add = OP_I64_ADD; madd = H_I64_ADD_M_I64_LOAD; h = H_I64_ADD_MEM; break;
    case OP_F32_STORE: load = OP_F32_LOAD; add = OP_F32_ADD; madd = H_F32_ADD_M_F32_LOAD; h = H_F32_ADD_MEM; break;
    case OP_F64_STORE: load = OP_F64_LOAD; add = OP_F64_ADD; madd = H_F64_ADD_M_F64_LOAD; h = H_F64_ADD_MEM; break;
    default: return false;
    }
    if (!last_makes_top(t))
        return false;
    uint32_t addr = store_addr(t);
    if (addr == UINT32_MAX)
        return false;
    const Cell *li = &t->code[t->last];
    uint32_t x = li[1].s.b;
    size_t start;
    if (t->last_h == madd) {
        /* the add already took the load in (fuse_load_operand) */
        if (li[2].s.a != addr || li[2].s.b != 0 || li[3].s.a != off)
            return false;
        start = t->last;
    } else {
        if (t->last_h != add || t->prev == SIZE_MAX || t->prev_h != load)
            return false;
        const Cell *pi = &t->code[t->prev];
        uint32_t loaded = pi[1].s.a;
        if (x == loaded) {
            /* mem + x, as C's a[i] += x comes: the same sum (a NaN's payload
               may differ, which wasm leaves open) */
            x = li[2].s.a;
            if (x == loaded)
                return false;
        } else if (li[2].s.a != loaded) {
            return false;
        }
        if (pi[2].u64 != off || loaded < t->tempbase)
            return false;
        if (pi[1].s.b != addr || addr == loaded)
            return false;
        start = t->prev;
    }
    /* x just made by a float multiply, a temp read only here: take it in too. */
    int mh = -1;
    if (start == t->last && t->prev != SIZE_MAX && x >= t->tempbase && x != addr &&
        t->code[t->prev + 1].s.a == x) {
        if (store == OP_F64_STORE)
            mh = t->prev_h == OP_F64_MUL ? H_F64_ADD_MEM_MUL : t->prev_h == H_F64_MUL3 ? H_F64_ADD_MEM_MUL3 : -1;
        else if (store == OP_F32_STORE)
            mh = t->prev_h == OP_F32_MUL ? H_F32_ADD_MEM_MUL : t->prev_h == H_F32_MUL3 ? H_F32_ADD_MEM_MUL3 : -1;
    }
    if (mh >= 0) {
        const Cell *mi = &t->code[t->prev];   /* [x|a][b|-] or [x|a][b|c] */
        return emit_rmw(t, t->prev, 0, 0, mh, addr, mi[1].s.b, &mi[2], off);
    }
    return emit_rmw(t, start, 0, 0, h, addr, x, NULL, off);
}

/*
 * `load p (into a); b = a product not reading a; a - b; store p`: the load
 * leaves, the multiply moves up into its place, and the subtraction and
 * store become one read-modify-write [addr|b][offset], mem -= b.
 */
bool fuse_sub_to_mem(T *t, int store, uint64_t off)
{
    if (t->plain)
        return false;
    int load, sub, h;
    switch (store) {
    case OP_F32_STORE: load = OP_F32_LOAD; sub = OP_F32_SUB; h = H_F32_SUB_MEM; break;
    case OP_F64_STORE: load = OP_F64_LOAD; sub = OP_F64_SUB; h = H_F64_SUB_MEM; break;
    default: return false;
    }
    if (!last_makes_top(t) || t->last_h != sub || t->prev == SIZE_MAX || t->prev2 == SIZE_MAX ||
        t->prev2_h != load)
        return false;
    int mh = t->prev_h;
    bool mul3 = mh == H_F32_MUL3 || mh == H_F64_MUL3;
    if (!mul3 && mh != OP_F32_MUL && mh != OP_F64_MUL)
        return false;
    uint32_t addr = store_addr(t);
    if (addr == UINT32_MAX)
        return false;
    const Cell *li = &t->code[t->last], *mi = &t->code[t->prev], *pi = &t->code[t->prev2];
    uint32_t a = li[1].s.b, b = li[2].s.a;
    if (pi[1].s.a != a || pi[1].s.b != addr || pi[2].u64 != off || a < t->tempbase || a == addr)
        return false;
    /* the product makes b, reads neither a nor ... and b is not the address */
    if (mi[1].s.a != b || b == a || b == addr || mi[1].s.b == a || mi[2].s.a == a ||
        (mul3 && mi[2].s.b == a))
        return false;
    size_t at = t->prev2, n = t->last - t->prev;
    if (b >= t->tempbase) {
        /* b is read only here: the product goes into the instruction too */
        Cell more = mi[2];
        if (!mul3)
            more.s.b = 0;
        if (store == OP_F64_STORE)
            h = mul3 ? H_F64_SUB_MEM_MUL3 : H_F64_SUB_MEM_MUL;
        else
            h = mul3 ? H_F32_SUB_MEM_MUL3 : H_F32_SUB_MEM_MUL;
        return emit_rmw(t, at, 0, 0, h, addr, mi[1].s.b, &more, off);
    }
    return emit_rmw(t, at, t->prev, n, h, addr, b, NULL, off);
}

/*
 * `load p (into a); load q (into c); b = c * K; a + b (or b + a, or
 * a - b); store p`, the shape of `x[i] += k * y[i]`: the first load
 * leaves, the second stays, and the rest becomes one read-modify-write
 * with K in a constant slot, [addr|c][k|-][offset], mem = c*k + mem (or
 * mem - c*k).  Nothing between the two loads' reads of memory writes it,
 * and either load can only trap as the read-modify-write would.
 */
bool fuse_axpy_to_mem(T *t, int store, uint64_t off)
{
    if (t->plain)
        return false;
    int load, add, sub, mul, hadd, hsub;
    switch (store) {
    case OP_F32_STORE:
        load = OP_F32_LOAD, add = OP_F32_ADD, sub = OP_F32_SUB, mul = H_F32_MUL_IMM;
        hadd = H_F32_ADD_MEM_MUL, hsub = H_F32_SUB_MEM_MUL;
        break;
    case OP_F64_STORE:
        load = OP_F64_LOAD, add = OP_F64_ADD, sub = OP_F64_SUB, mul = H_F64_MUL_IMM;
        hadd = H_F64_ADD_MEM_MUL, hsub = H_F64_SUB_MEM_MUL;
        break;
    default:
        return false;
    }
    if (!last_makes_top(t) || (t->last_h != add && t->last_h != sub) || t->prev == SIZE_MAX ||
        t->prev_h != mul || t->prev2 == SIZE_MAX || t->prev2_h != load || t->prev3 == SIZE_MAX ||
        t->prev3_h != load)
        return false;
    uint32_t addr = store_addr(t);
    if (addr == UINT32_MAX)
        return false;
    const Cell *li = &t->code[t->last], *mi = &t->code[t->prev];
    const Cell *ci = &t->code[t->prev2], *ai = &t->code[t->prev3];
    uint32_t a = ai[1].s.a, c = ci[1].s.a, b = mi[1].s.a;
    /* the first load reads p into a temp that only the add reads */
    if (ai[1].s.b != addr || ai[2].u64 != off || a < t->tempbase || a == addr)
        return false;
    /* the second writes neither a nor the address; the product reads it */
    if (c == a || c == addr || mi[1].s.b != c)
        return false;
    /* b: a temp that only the add reads (it may be c's home, reused) */
    if (b < t->tempbase || b == a || b == addr)
        return false;
    bool is_sub = t->last_h == sub;
    uint32_t x = li[1].s.b, y = li[2].s.a;
    if (!(x == a && y == b) && (is_sub || !(x == b && y == a)))
        return false;
    uint32_t k = const_slot(t, mi[2].u64);
    if (k == UINT32_MAX)
        return false;
    Cell more = { .s = { k, 0 } };
    return emit_rmw(t, t->prev3, t->prev2, t->prev - t->prev2, is_sub ? hsub : hadd, addr, c, &more, off);
}

/*
 * `load p (into a); a + y*z (or a - y*z) as one multiply-add; store p`, the
 * shape of `a[i] += x * y` with the load first: one read-modify-write
 * [addr|y][z|-][offset], mem = mem + y*z (or mem - y*z), rounded as the
 * multiply-add was (the product, then the sum).
 */
bool fuse_muladd_to_mem(T *t, int store, uint64_t off)
{
    if (t->plain)
        return false;
    int load, hadd, hsub, madd, msub;
    switch (store) {
    case OP_F32_STORE:
        load = OP_F32_LOAD, madd = H_F32_ADD_MUL, msub = H_F32_SUB_MUL;
        hadd = H_F32_ADD_MEM_MUL, hsub = H_F32_SUB_MEM_MUL;
        break;
    case OP_F64_STORE:
        load = OP_F64_LOAD, madd = H_F64_ADD_MUL, msub = H_F64_SUB_MUL;
        hadd = H_F64_ADD_MEM_MUL, hsub = H_F64_SUB_MEM_MUL;
        break;
    default:
        return false;
    }
    if (!last_makes_top(t) || (t->last_h != madd && t->last_h != msub) || t->prev == SIZE_MAX ||
        t->prev_h != load)
        return false;
    uint32_t addr = store_addr(t);
    if (addr == UINT32_MAX)
        return false;
    const Cell *li = &t->code[t->last], *pi = &t->code[t->prev];   /* [dst|x][y|z], [a|p][off] */
    uint32_t a = pi[1].s.a, y = li[2].s.a, z = li[2].s.b;
    /* the load reads p into a temp that only the multiply-add reads, as x */
    if (pi[1].s.b != addr || pi[2].u64 != off || a < t->tempbase || a == addr || li[1].s.b != a ||
        y == a || z == a)
        return false;
    Cell more = { .s = { z, 0 } };
    return emit_rmw(t, t->prev, 0, 0, t->last_h == madd ? hadd : hsub, addr, y, &more, off);
}
