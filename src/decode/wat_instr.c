/*
 * The WAT parser, part 2: the helpers every field uses (buffers, name maps,
 * tokens, value types, type uses) and the instructions, plain and folded,
 * encoded straight into binary.  Mnemonics come from opcodes.def.
 */
#include "wat_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- Errors and buffers ---- */

_Noreturn void wat_fail(WatParser *p, const WatToken *at, const char *fmt, ...)
{
    WasmError *err = p->err;
    err->kind = ERR_MALFORMED;
    err->offset = (size_t)-1;
    int k = snprintf(err->msg, sizeof err->msg, "%s:%u:%u: ", p->filename,
                     at ? at->line : 0, at ? at->col : 0);
    if (k >= 0 && (size_t)k < sizeof err->msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg + k, sizeof err->msg - (size_t)k, fmt, ap);
        va_end(ap);
    }
    longjmp(p->fail, 1);
}

void wbuf_reserve(WatParser *p, WBuf *b, size_t extra)
{
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) wat_fail(p, wat_cur(p), "out of memory");
    b->data = d;
    b->cap = cap;
}

void wbuf_byte(WatParser *p, WBuf *b, uint8_t v)
{
    wbuf_reserve(p, b, 1);
    b->data[b->len++] = v;
}

void wbuf_bytes(WatParser *p, WBuf *b, const void *data, size_t n)
{
    if (n == 0) return;
    wbuf_reserve(p, b, n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
}

void wbuf_u32(WatParser *p, WBuf *b, uint32_t v)
{
    do {
        uint8_t byte = v & 0x7F;
        v >>= 7;
        wbuf_byte(p, b, byte | (v ? 0x80 : 0));
    } while (v);
}

void wbuf_s64(WatParser *p, WBuf *b, int64_t v)
{
    for (;;) {
        uint8_t byte = (uint8_t)((uint64_t)v & 0x7F);
        /* Arithmetic shift of a negative value, written without relying on it. */
        v = v < 0 ? ~(~v >> 7) : v >> 7;
        bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
        wbuf_byte(p, b, byte | (done ? 0 : 0x80));
        if (done) return;
    }
}

void wbuf_s32(WatParser *p, WBuf *b, int32_t v)
{
    wbuf_s64(p, b, v);
}

/* ---- Name maps (open addressing, keyed by XXH3 of the name) ---- */

static size_t wnames_slot(const WNameMap *m, const char *name, size_t len)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)XXH3_64bits(name, len) & mask;
    while (m->slots[i].name &&
           !(m->slots[i].len == len && memcmp(m->slots[i].name, name, len) == 0))
        i = (i + 1) & mask;
    return i;
}

bool wnames_find(const WNameMap *m, const char *name, size_t len, uint32_t *idx)
{
    if (m->cap == 0) return false;
    size_t i = wnames_slot(m, name, len);
    if (!m->slots[i].name) return false;
    *idx = m->slots[i].idx;
    return true;
}

bool wnames_add(WatParser *p, WNameMap *m, const char *name, size_t len, uint32_t idx)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        WNameEntry *slots = calloc(cap, sizeof *slots);
        if (!slots) wat_fail(p, wat_cur(p), "out of memory");
        WNameMap grown = { slots, cap, 0 };
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].name) {
                grown.slots[wnames_slot(&grown, m->slots[i].name, m->slots[i].len)] = m->slots[i];
                grown.count++;
            }
        free(m->slots);
        *m = grown;
    }
    size_t i = wnames_slot(m, name, len);
    if (m->slots[i].name) return false;
    m->slots[i] = (WNameEntry){ name, len, idx };
    m->count++;
    return true;
}

void wnames_clear(WNameMap *m)
{
    if (m->slots) memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->count = 0;
}

/* ---- Tokens ---- */

bool wat_tok_is(const WatToken *t, const char *keyword)
{
    size_t n = strlen(keyword);
    return t->kind == TOK_KEYWORD && t->len == n && memcmp(t->text, keyword, n) == 0;
}

bool wat_at_sexpr(const WatParser *p, const char *keyword)
{
    return wat_cur(p)->kind == TOK_LPAREN && wat_tok_is(wat_peek(p, 1), keyword);
}

typedef struct OpInfo OpInfo;
static const OpInfo *lookup_op(const WatToken *t);

/* Whether a keyword belongs to the text format's grammar (not an instruction). */
static bool grammar_keyword(const WatToken *t)
{
    static const char *const words[] = {
        "module", "type", "func", "param", "result", "local", "import", "export", "table",
        "memory", "global", "elem", "data", "start", "offset", "item", "declare", "mut",
        "then", "else", "end", "block", "loop", "if", "i32", "i64", "f32", "f64", "v128",
        "funcref", "externref", "extern", "binary", "quote", "nan:arithmetic", "nan:canonical",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (wat_tok_is(t, words[i])) return true;
    return (t->len > 7 && memcmp(t->text, "offset=", 7) == 0) ||
           (t->len > 6 && memcmp(t->text, "align=", 6) == 0);
}

/* The error for a token the grammar does not allow here.  Like the
   reference interpreter, a reserved token or a keyword that is no word of
   the language is an "unknown operator". */
_Noreturn void wat_unexpected(WatParser *p)
{
    const WatToken *t = wat_cur(p);
    int n = (int)(t->len > 40 ? 40 : t->len);
    if (t->kind == TOK_EOF) wat_fail(p, t, "unexpected end of input");
    if (t->kind == TOK_RESERVED || (t->kind == TOK_KEYWORD && !grammar_keyword(t) && !lookup_op(t)))
        wat_fail(p, t, "unknown operator %.*s", n, t->text);
    wat_fail(p, t, "unexpected token \"%.*s\"", n, t->text);
}
void wat_expect_lparen(WatParser *p)
{
    if (wat_cur(p)->kind != TOK_LPAREN) wat_unexpected(p);
    wat_advance(p);
}

void wat_expect_rparen(WatParser *p)
{
    if (wat_cur(p)->kind != TOK_RPAREN) wat_unexpected(p);
    wat_advance(p);
}

void wat_expect_keyword(WatParser *p, const char *keyword)
{
    if (!wat_tok_is(wat_cur(p), keyword)) wat_unexpected(p);
    wat_advance(p);
}

uint32_t wat_parse_u32_tok(WatParser *p)
{
    const WatToken *t = wat_cur(p);
    uint32_t v;
    if (t->kind != TOK_NUMBER || !wat_is_int_literal(t->text, t->len)) wat_unexpected(p);
    if (!wat_parse_u32(t->text, t->len, &v)) wat_fail(p, t, "i32 constant out of range");
    wat_advance(p);
    return v;
}

static const char *const space_names[SP__COUNT] = {
    "type", "function", "table", "memory", "global", "elem segment", "data segment",
};

bool wat_at_index(const WatParser *p)
{
    const WatToken *t = wat_cur(p);
    return t->kind == TOK_ID || (t->kind == TOK_NUMBER && wat_is_int_literal(t->text, t->len));
}

static uint32_t resolve_index(WatParser *p, const WNameMap *m, const char *what)
{
    const WatToken *t = wat_cur(p);
    uint32_t idx;
    if (t->kind == TOK_ID) {
        if (!wnames_find(m, t->text, t->len, &idx))
            wat_fail(p, t, "unknown %s %.*s", what, (int)t->len, t->text);
        wat_advance(p);
        return idx;
    }
    return wat_parse_u32_tok(p);
}

uint32_t wat_parse_index(WatParser *p, int space)
{
    return resolve_index(p, &p->names[space], space_names[space]);
}

/* ---- Types ---- */

static int valtype_code(const WatToken *t)
{
    static const struct { const char *name; ValType code; } types[] = {
        { "i32", VT_I32 }, { "i64", VT_I64 }, { "f32", VT_F32 }, { "f64", VT_F64 },
        { "v128", VT_V128 }, { "funcref", VT_FUNCREF }, { "externref", VT_EXTERNREF },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (wat_tok_is(t, types[i].name)) return types[i].code;
    return -1;
}

bool wat_at_valtype(const WatParser *p)
{
    return valtype_code(wat_cur(p)) >= 0;
}

ValType wat_parse_valtype(WatParser *p)
{
    int c = valtype_code(wat_cur(p));
    if (c < 0) wat_unexpected(p);
    wat_advance(p);
    return (ValType)c;
}

ValType wat_parse_reftype(WatParser *p)
{
    int c = valtype_code(wat_cur(p));
    if (c != VT_FUNCREF && c != VT_EXTERNREF) wat_unexpected(p);
    wat_advance(p);
    return (ValType)c;
}

static bool same_types(const ValType *a, uint32_t na, const ValType *b, uint32_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

/* The smallest index of a type equal to params -> results; a new type is
   appended when none matches (the implicit type definition of the spec). */
uint32_t wat_type_index(WatParser *p, const ValType *params, uint32_t np,
                        const ValType *results, uint32_t nr)
{
    for (uint32_t i = 0; i < p->ntypes; i++) {
        const WType *t = &p->types[i];
        if (same_types(t->params, t->nparams, params, np) &&
            same_types(t->results, t->nresults, results, nr))
            return i;
    }
    return wat_add_type(p, params, np, results, nr);
}

uint32_t wat_add_type(WatParser *p, const ValType *params, uint32_t np,
                      const ValType *results, uint32_t nr)
{
    if (p->ntypes == p->types_cap) {
        uint32_t cap = p->types_cap ? p->types_cap * 2 : 16;
        WType *t = realloc(p->types, cap * sizeof *t);
        if (!t) wat_fail(p, wat_cur(p), "out of memory");
        p->types = t;
        p->types_cap = cap;
    }
    WType *t = &p->types[p->ntypes];
    *t = (WType){ NULL, NULL, np, nr };
    t->params = malloc(np + nr + 1);
    if (!t->params) wat_fail(p, wat_cur(p), "out of memory");
    t->results = t->params + np;
    if (np) memcpy(t->params, params, np);
    if (nr) memcpy(t->results, results, nr);
    return p->ntypes++;
}

/*
 * A type use: `(type x)? (param ...)* (result ...)*`, the parameters and
 * results left in p->tparams and p->tresults.  With TU_BIND_LOCALS the
 * parameters become the function's first locals, named where they have ids.
 * Returns whether there was a `(type x)`, and x in *idx; without one the
 * caller decides (see parse_blocktype); callers wanting an index in every
 * case use wat_parse_typeuse.
 */
bool wat_parse_sig(WatParser *p, int mode, uint32_t *idx)
{
    const WatToken *type_tok = NULL;
    uint32_t type_idx = 0;
    p->tparams.len = p->tresults.len = 0;
    if (wat_at_sexpr(p, "type")) {
        type_tok = wat_peek(p, 2);
        p->pos += 2;
        type_idx = wat_parse_index(p, SP_TYPE);
        wat_expect_rparen(p);
    }
    while (wat_at_sexpr(p, "param")) {
        p->pos += 2;
        if (wat_cur(p)->kind == TOK_ID) {
            const WatToken *id = wat_cur(p);
            if (mode == TU_NO_IDS) wat_unexpected(p);
            wat_advance(p);
            wbuf_byte(p, &p->tparams, wat_parse_valtype(p));
            if (mode == TU_BIND_LOCALS &&
                !wnames_add(p, &p->locals, id->text, id->len, (uint32_t)p->tparams.len - 1))
                wat_fail(p, id, "duplicate local %.*s", (int)id->len, id->text);
            if (mode == TU_BIND_LOCALS) {
                WName w = { (uint32_t)p->tparams.len - 1, id };
                wbuf_bytes(p, &p->local_names, &w, sizeof w);
            }
        } else {
            while (wat_at_valtype(p)) wbuf_byte(p, &p->tparams, wat_parse_valtype(p));
        }
        wat_expect_rparen(p);
    }
    while (wat_at_sexpr(p, "result")) {
        p->pos += 2;
        while (wat_at_valtype(p)) wbuf_byte(p, &p->tresults, wat_parse_valtype(p));
        wat_expect_rparen(p);
    }
    /* Clauses out of order are a syntax error, before any type check. */
    if (wat_at_sexpr(p, "type") || wat_at_sexpr(p, "param")) {
        p->pos++;
        wat_unexpected(p);
    }
    uint32_t np = (uint32_t)p->tparams.len, nr = (uint32_t)p->tresults.len;
    /* A numeric index past the types is left for the validator to reject,
       unless a signature beside it would need the type to check against. */
    if (type_tok && type_idx >= p->ntypes && (np || nr))
        wat_fail(p, type_tok, "unknown type");
    if (type_tok && type_idx < p->ntypes) {
        const WType *t = &p->types[type_idx];
        if ((np || nr) && !(same_types(t->params, t->nparams, p->tparams.data, np) &&
                            same_types(t->results, t->nresults, p->tresults.data, nr)))
            wat_fail(p, type_tok, "inconsistent type: inline function type does not match");
        if (np == 0) {
            /* The type's parameters, unnamed. */
            p->tparams.len = 0;
            wbuf_bytes(p, &p->tparams, t->params, t->nparams);
        }
    }
    if (mode == TU_BIND_LOCALS) p->nlocals = (uint32_t)p->tparams.len;
    *idx = type_idx;
    return type_tok != NULL;
}

uint32_t wat_parse_typeuse(WatParser *p, int mode)
{
    uint32_t idx;
    if (wat_parse_sig(p, mode, &idx)) return idx;
    return wat_type_index(p, p->tparams.data, (uint32_t)p->tparams.len,
                          p->tresults.data, (uint32_t)p->tresults.len);
}

void wat_reset_func(WatParser *p)
{
    wnames_clear(&p->locals);
    p->nlocals = 0;
    p->nlabels = 0;
}

/* ---- The opcode table ---- */

enum {
    WIMM_NONE, WIMM_BLOCK, WIMM_LABEL, WIMM_BR_TABLE, WIMM_FUNC, WIMM_CALL_IND, WIMM_LOCAL,
    WIMM_GLOBAL, WIMM_TABLE, WIMM_MEMARG, WIMM_MEM, WIMM_I32, WIMM_I64, WIMM_F32, WIMM_F64,
    WIMM_SELECT_T, WIMM_REFTYPE, WIMM_TABLE2, WIMM_ELEM_TABLE, WIMM_ELEM, WIMM_DATA_MEM,
    WIMM_DATA, WIMM_MEM2, WIMM_V128, WIMM_SHUFFLE, WIMM_LANE, WIMM_MEMARG_LANE,
};

struct OpInfo {
    const char *text;
    uint8_t prefix, imm;
    uint32_t code;
};

static const OpInfo op_info[] = {
#define OP(id, text, prefix, code, imm, sig) { text, prefix, WIMM_##imm, code },
#include "opcodes.def"
#undef OP
};

static WNameMap op_map;
static pthread_once_t op_map_once = PTHREAD_ONCE_INIT;
static bool op_map_ok;

static void build_op_map(void)
{
    size_t n = sizeof op_info / sizeof op_info[0];
    size_t cap = 16;
    while (cap < n * 2) cap *= 2;
    op_map.slots = calloc(cap, sizeof *op_map.slots);
    if (!op_map.slots) return;
    op_map.cap = cap;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(op_info[i].text);
        size_t s = wnames_slot(&op_map, op_info[i].text, len);
        /* The first row wins: `select` then finds its plain form. */
        if (!op_map.slots[s].name) {
            op_map.slots[s] = (WNameEntry){ op_info[i].text, len, (uint32_t)i };
            op_map.count++;
        }
    }
    op_map_ok = true;
}

static const OpInfo *lookup_op(const WatToken *t)
{
    pthread_once(&op_map_once, build_op_map);
    uint32_t i;
    if (!op_map_ok || t->kind != TOK_KEYWORD || !wnames_find(&op_map, t->text, t->len, &i))
        return NULL;
    return &op_info[i];
}

static void emit_op(WatParser *p, WBuf *out, const OpInfo *op)
{
    if (op->prefix) {
        wbuf_byte(p, out, op->prefix);
        wbuf_u32(p, out, op->code);
    } else {
        wbuf_byte(p, out, (uint8_t)op->code);
    }
}

/* ---- Labels ---- */

static void push_label(WatParser *p, const WatToken *id)
{
    if (p->nlabels == p->labels_cap) {
        size_t cap = p->labels_cap ? p->labels_cap * 2 : 16;
        const WatToken **l = realloc(p->labels, cap * sizeof *l);
        if (!l) wat_fail(p, id, "out of memory");
        p->labels = l;
        p->labels_cap = cap;
    }
    p->labels[p->nlabels++] = id;
}

static bool same_id(const WatToken *a, const WatToken *b)
{
    return a && b && a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

/* The optional $id after `end` or `else` must repeat the block's label. */
static void match_label(WatParser *p)
{
    const WatToken *t = wat_cur(p);
    if (t->kind != TOK_ID) return;
    if (!same_id(t, p->labels[p->nlabels - 1])) wat_fail(p, t, "mismatching label");
    wat_advance(p);
}

static uint32_t parse_label(WatParser *p)
{
    const WatToken *t = wat_cur(p);
    if (t->kind == TOK_ID) {
        for (size_t i = p->nlabels; i-- > 0;)
            if (same_id(t, p->labels[i])) {
                wat_advance(p);
                return (uint32_t)(p->nlabels - 1 - i);
            }
        wat_fail(p, t, "unknown label %.*s", (int)t->len, t->text);
    }
    return wat_parse_u32_tok(p);
}

/* ---- Immediates ---- */

/* Block type: empty, one result type, or a type index (s33). */
static void parse_blocktype(WatParser *p, WBuf *out)
{
    uint32_t idx;
    if (!wat_parse_sig(p, TU_NO_IDS, &idx)) {
        if (p->tparams.len == 0 && p->tresults.len == 0) {
            wbuf_byte(p, out, 0x40);
            return;
        }
        if (p->tparams.len == 0 && p->tresults.len == 1) {
            wbuf_byte(p, out, p->tresults.data[0]);
            return;
        }
        idx = wat_type_index(p, p->tparams.data, (uint32_t)p->tparams.len,
                             p->tresults.data, (uint32_t)p->tresults.len);
    }
    wbuf_s64(p, out, idx);
}

/* Natural alignment (log2) of a memory access, from its mnemonic:
   i32.load16_s accesses 2 bytes, f64.store 8, v128.load8x8_s 8 (8 lanes
   of 8 bits), v128.load 16. */
static uint32_t natural_align(const char *text)
{
    const char *dot = strchr(text, '.');
    const char *op = dot ? dot + 1 : text;
    const char *digits = op;
    while (*digits && (*digits < '0' || *digits > '9')) digits++;
    unsigned bits;
    if (*digits) {
        char *end;
        bits = (unsigned)strtoul(digits, &end, 10);
        if (*end == 'x') bits *= (unsigned)strtoul(end + 1, NULL, 10);
    } else {
        bits = (unsigned)strtoul(text + 1, NULL, 10);  /* i32.load: 32 */
    }
    uint32_t a = 0;
    while ((8u << a) < bits) a++;
    return a;
}

/* The number after `offset=` or `align=`: an unsigned literal, else the
   keyword as a whole is unknown. */
static uint32_t memarg_value(WatParser *p, const WatToken *t, size_t skip)
{
    const char *v = t->text + skip;
    size_t n = t->len - skip;
    uint32_t x;
    if (!wat_is_int_literal(v, n) || v[0] == '-' || v[0] == '+')
        wat_fail(p, t, "unknown operator %.*s", (int)(t->len > 40 ? 40 : t->len), t->text);
    if (!wat_parse_u32(v, n, &x)) wat_fail(p, t, "i32 constant out of range");
    return x;
}

static void parse_memarg(WatParser *p, WBuf *out, const char *mnemonic)
{
    uint32_t offset = 0, align = natural_align(mnemonic);
    const WatToken *t = wat_cur(p);
    if (t->kind == TOK_KEYWORD && t->len > 7 && memcmp(t->text, "offset=", 7) == 0) {
        offset = memarg_value(p, t, 7);
        wat_advance(p);
        t = wat_cur(p);
    }
    if (t->kind == TOK_KEYWORD && t->len > 6 && memcmp(t->text, "align=", 6) == 0) {
        uint32_t a = memarg_value(p, t, 6);
        if (a == 0 || (a & (a - 1)) != 0) wat_fail(p, t, "alignment must be a power of two");
        for (align = 0; (1u << align) < a; align++) {}
        wat_advance(p);
    }
    wbuf_u32(p, out, align);
    wbuf_u32(p, out, offset);
}

static void parse_const(WatParser *p, WBuf *out, int imm)
{
    const WatToken *t = wat_cur(p);
    if (t->kind != TOK_NUMBER) wat_unexpected(p);
    if ((imm == WIMM_I32 || imm == WIMM_I64) && !wat_is_int_literal(t->text, t->len))
        wat_unexpected(p);
    switch (imm) {
    case WIMM_I32: {
        uint32_t v;
        if (!wat_parse_i32(t->text, t->len, &v)) wat_fail(p, t, "constant out of range");
        wbuf_s32(p, out, (int32_t)v);
        break;
    }
    case WIMM_I64: {
        uint64_t v;
        if (!wat_parse_i64(t->text, t->len, &v)) wat_fail(p, t, "constant out of range");
        wbuf_s64(p, out, (int64_t)v);
        break;
    }
    case WIMM_F32: {
        uint32_t v;
        if (!wat_parse_f32(t->text, t->len, &v)) wat_fail(p, t, "constant out of range");
        uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
        wbuf_bytes(p, out, b, 4);
        break;
    }
    default: {
        uint64_t v;
        if (!wat_parse_f64(t->text, t->len, &v)) wat_fail(p, t, "constant out of range");
        uint8_t b[8];
        for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
        wbuf_bytes(p, out, b, 8);
        break;
    }
    }
    wat_advance(p);
}

/* ---- SIMD immediates ---- */

/* A lane index: a u8 literal.  As the reference interpreter words it, a
   shuffle's bad index is a "malformed lane index", while another lane
   operand that is no unsigned integer is an unexpected token. */
static uint8_t parse_lane_index(WatParser *p, bool shuffle)
{
    const WatToken *t = wat_cur(p);
    uint32_t v;
    bool is_uint = t->kind == TOK_NUMBER && wat_is_int_literal(t->text, t->len) &&
                   t->text[0] != '-' && t->text[0] != '+';
    if (!is_uint && !(shuffle && t->kind == TOK_NUMBER)) wat_unexpected(p);
    if (!is_uint || !wat_parse_u32(t->text, t->len, &v) || v > 255)
        wat_fail(p, t, "malformed lane index");
    wat_advance(p);
    return (uint8_t)v;
}

/* An integer lane of `bits` bits: unsigned up to 2^bits-1 or signed. */
static uint64_t parse_int_lane(WatParser *p, unsigned bits)
{
    const WatToken *t = wat_cur(p);
    uint64_t v;
    if (!wat_is_int_literal(t->text, t->len)) wat_unexpected(p);
    wat_advance(p);
    if (bits == 64) {
        if (!wat_parse_i64(t->text, t->len, &v)) wat_fail(p, t, "constant out of range");
        return v;
    }
    uint32_t u;
    if (!wat_parse_i32(t->text, t->len, &u)) wat_fail(p, t, "constant out of range");
    int64_t lo = -((int64_t)1 << (bits - 1)), hi = ((int64_t)1 << bits) - 1;
    int64_t val = t->text[0] == '-' ? (int64_t)(int32_t)u : (int64_t)u;
    if (t->text[0] == '+') hi = ((int64_t)1 << (bits - 1)) - 1;
    if (val < lo || val > hi) wat_fail(p, t, "constant out of range");
    return (uint64_t)val;
}

/* `v128.const shape lane*`: 16 bytes, little endian lanes. */
static void parse_v128_const(WatParser *p, WBuf *out)
{
    static const struct { const char *name; unsigned lanes, bits; bool fp; } shapes[] = {
        { "i8x16", 16, 8, false }, { "i16x8", 8, 16, false }, { "i32x4", 4, 32, false },
        { "i64x2", 2, 64, false }, { "f32x4", 4, 32, true }, { "f64x2", 2, 64, true },
    };
    size_t s = 0;
    while (s < sizeof shapes / sizeof shapes[0] && !wat_tok_is(wat_cur(p), shapes[s].name)) s++;
    if (s == sizeof shapes / sizeof shapes[0]) wat_unexpected(p);
    wat_advance(p);
    uint8_t bytes[16];
    unsigned size = shapes[s].bits / 8;
    for (unsigned i = 0; i < shapes[s].lanes; i++) {
        const WatToken *t = wat_cur(p);
        if (t->kind == TOK_KEYWORD || t->kind == TOK_RESERVED) wat_unexpected(p);
        if (t->kind != TOK_NUMBER) wat_fail(p, t, "wrong number of lane literals");
        uint64_t v;
        if (!shapes[s].fp) {
            v = parse_int_lane(p, shapes[s].bits);
        } else {
            uint32_t f;
            bool ok = size == 4 ? wat_parse_f32(t->text, t->len, &f) : wat_parse_f64(t->text, t->len, &v);
            if (!ok) wat_fail(p, t, "constant out of range");
            if (size == 4) v = f;
            wat_advance(p);
        }
        for (unsigned b = 0; b < size; b++) bytes[i * size + b] = (uint8_t)(v >> (8 * b));
    }
    if (wat_cur(p)->kind == TOK_NUMBER) wat_fail(p, wat_cur(p), "wrong number of lane literals");
    wbuf_bytes(p, out, bytes, sizeof bytes);
}

/* `i8x16.shuffle` takes exactly 16 lane indices. */
static void parse_shuffle(WatParser *p, WBuf *out)
{
    uint8_t lanes[16];
    unsigned n = 0;
    const WatToken *first = wat_cur(p);
    while (wat_cur(p)->kind == TOK_NUMBER) {
        uint8_t l = parse_lane_index(p, true);
        if (n < 16) lanes[n] = l;
        n++;
    }
    if (n != 16) wat_fail(p, first, "invalid lane length");
    wbuf_bytes(p, out, lanes, sizeof lanes);
}

/* Note that the instruction about to be written to `out` comes from the
   current token (function bodies only: they are what the validator checks
   instruction by instruction). */
void wat_map_here(WatParser *p, const WBuf *out)
{
    if (!p->want_map || out != &p->fbody) return;
    WMapEntry e = { (uint32_t)out->len, (uint32_t)p->pos };
    wbuf_bytes(p, &p->body_map, &e, sizeof e);
}

/* A plain instruction other than block, loop and if: mnemonic and immediates. */
static void parse_op(WatParser *p, WBuf *out)
{
    wat_map_here(p, out);
    const WatToken *t = wat_cur(p);
    const OpInfo *op = lookup_op(t);
    if (!op) wat_unexpected(p);
    wat_advance(p);
    if (op->code == 0x1B && op->prefix == 0 && wat_at_sexpr(p, "result")) {
        /* Typed select: `select (result t)*`. */
        WBuf *types = &p->tresults;
        types->len = 0;
        while (wat_at_sexpr(p, "result")) {
            p->pos += 2;
            while (wat_at_valtype(p)) wbuf_byte(p, types, wat_parse_valtype(p));
            wat_expect_rparen(p);
        }
        wbuf_byte(p, out, 0x1C);
        wbuf_u32(p, out, (uint32_t)types->len);
        wbuf_bytes(p, out, types->data, types->len);
        return;
    }
    switch (op->imm) {
    case WIMM_NONE:
        emit_op(p, out, op);
        break;
    case WIMM_LABEL: {
        uint32_t l = parse_label(p);
        emit_op(p, out, op);
        wbuf_u32(p, out, l);
        break;
    }
    case WIMM_BR_TABLE: {
        /* Labels go to a scratch buffer first: the count leads the encoding. */
        WBuf *labels = &p->tparams;
        labels->len = 0;
        uint32_t n = 0;
        while (wat_at_index(p)) {
            uint32_t l = parse_label(p);
            wbuf_bytes(p, labels, &l, sizeof l);
            n++;
        }
        if (n == 0) wat_unexpected(p);
        emit_op(p, out, op);
        wbuf_u32(p, out, n - 1);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t l;
            memcpy(&l, labels->data + i * sizeof l, sizeof l);
            wbuf_u32(p, out, l);
        }
        break;
    }
    case WIMM_FUNC: {
        uint32_t f = wat_parse_index(p, SP_FUNC);
        emit_op(p, out, op);
        wbuf_u32(p, out, f);
        break;
    }
    case WIMM_CALL_IND: {
        uint32_t table = wat_at_index(p) ? wat_parse_index(p, SP_TABLE) : 0;
        uint32_t type = wat_parse_typeuse(p, TU_NO_IDS);
        emit_op(p, out, op);
        wbuf_u32(p, out, type);
        wbuf_u32(p, out, table);
        break;
    }
    case WIMM_LOCAL: {
        uint32_t l = resolve_index(p, &p->locals, "local");
        emit_op(p, out, op);
        wbuf_u32(p, out, l);
        break;
    }
    case WIMM_GLOBAL:
    case WIMM_TABLE:
    case WIMM_ELEM:
    case WIMM_DATA: {
        int space = op->imm == WIMM_GLOBAL ? SP_GLOBAL : op->imm == WIMM_TABLE ? SP_TABLE
                  : op->imm == WIMM_ELEM ? SP_ELEM : SP_DATA;
        /* A table index is optional (table 0); the others are not. */
        uint32_t idx = (space != SP_TABLE || wat_at_index(p)) ? wat_parse_index(p, space) : 0;
        if (space == SP_DATA) p->uses_data_count = true;
        emit_op(p, out, op);
        wbuf_u32(p, out, idx);
        break;
    }
    case WIMM_MEMARG:
        emit_op(p, out, op);
        parse_memarg(p, out, op->text);
        break;
    case WIMM_MEM:
        emit_op(p, out, op);
        wbuf_byte(p, out, 0);
        break;
    case WIMM_MEM2:
        emit_op(p, out, op);
        wbuf_byte(p, out, 0);
        wbuf_byte(p, out, 0);
        break;
    case WIMM_I32:
    case WIMM_I64:
    case WIMM_F32:
    case WIMM_F64:
        emit_op(p, out, op);
        parse_const(p, out, op->imm);
        break;
    case WIMM_REFTYPE: {
        const WatToken *h = wat_cur(p);
        uint8_t rt;
        if (wat_tok_is(h, "func")) rt = VT_FUNCREF;
        else if (wat_tok_is(h, "extern")) rt = VT_EXTERNREF;
        else wat_unexpected(p);
        wat_advance(p);
        emit_op(p, out, op);
        wbuf_byte(p, out, rt);
        break;
    }
    case WIMM_TABLE2: {
        uint32_t dst = 0, src = 0;
        if (wat_at_index(p)) {
            dst = wat_parse_index(p, SP_TABLE);
            src = wat_parse_index(p, SP_TABLE);
        }
        emit_op(p, out, op);
        wbuf_u32(p, out, dst);
        wbuf_u32(p, out, src);
        break;
    }
    case WIMM_ELEM_TABLE: {
        /* `table.init x? y`: with two indices the first is the table. */
        uint32_t table = 0, elem;
        if (wat_at_index(p) && (wat_peek(p, 1)->kind == TOK_ID || wat_peek(p, 1)->kind == TOK_NUMBER))
            table = wat_parse_index(p, SP_TABLE);
        elem = wat_parse_index(p, SP_ELEM);
        emit_op(p, out, op);
        wbuf_u32(p, out, elem);
        wbuf_u32(p, out, table);
        break;
    }
    case WIMM_DATA_MEM: {
        uint32_t data = wat_parse_index(p, SP_DATA);
        p->uses_data_count = true;
        emit_op(p, out, op);
        wbuf_u32(p, out, data);
        wbuf_byte(p, out, 0);
        break;
    }
    case WIMM_V128:
        emit_op(p, out, op);
        parse_v128_const(p, out);
        break;
    case WIMM_SHUFFLE:
        emit_op(p, out, op);
        parse_shuffle(p, out);
        break;
    case WIMM_LANE: {
        uint8_t lane = parse_lane_index(p, false);
        emit_op(p, out, op);
        wbuf_byte(p, out, lane);
        break;
    }
    case WIMM_MEMARG_LANE:
        emit_op(p, out, op);
        parse_memarg(p, out, op->text);
        wbuf_byte(p, out, parse_lane_index(p, false));
        break;
    default:
        wat_fail(p, t, "unsupported instruction %s", op->text);
    }
}

/* ---- Instruction sequences ---- */

static void parse_block_rest(WatParser *p, WBuf *out, bool is_if);

/* Nesting is parsed by recursion, so its depth is bounded to keep the
   stack bounded on hostile input. */
enum { MAX_NESTING = 10000 };

static void enter(WatParser *p)
{
    if (++p->depth > MAX_NESTING) wat_fail(p, wat_cur(p), "nesting too deep");
}

/* A plain block, loop or if: `block $l? bt instr* end $l?`. */
static void parse_plain_block(WatParser *p, WBuf *out)
{
    const WatToken *t = wat_cur(p);
    enter(p);
    bool is_if = wat_tok_is(t, "if");
    wat_map_here(p, out);
    wbuf_byte(p, out, wat_tok_is(t, "block") ? 0x02 : wat_tok_is(t, "loop") ? 0x03 : 0x04);
    wat_advance(p);
    const WatToken *label = wat_cur(p)->kind == TOK_ID ? wat_cur(p) : NULL;
    if (label) wat_advance(p);
    parse_blocktype(p, out);
    push_label(p, label);
    parse_block_rest(p, out, is_if);
}

static void parse_block_rest(WatParser *p, WBuf *out, bool is_if)
{
    wat_parse_instrs(p, out);
    if (is_if && wat_tok_is(wat_cur(p), "else")) {
        wat_map_here(p, out);
        wat_advance(p);
        match_label(p);
        wbuf_byte(p, out, 0x05);
        wat_parse_instrs(p, out);
    }
    if (!wat_tok_is(wat_cur(p), "end")) wat_unexpected(p);
    wat_map_here(p, out);
    wat_advance(p);
    match_label(p);
    wbuf_byte(p, out, 0x0B);
    p->nlabels--;
    p->depth--;
}

void wat_parse_instrs(WatParser *p, WBuf *out)
{
    for (;;) {
        const WatToken *t = wat_cur(p);
        if (t->kind == TOK_LPAREN) {
            wat_parse_folded(p, out);
        } else if (t->kind == TOK_RPAREN || t->kind == TOK_EOF || wat_tok_is(t, "end") ||
                   wat_tok_is(t, "else")) {
            return;
        } else if (wat_tok_is(t, "block") || wat_tok_is(t, "loop") || wat_tok_is(t, "if")) {
            parse_plain_block(p, out);
        } else {
            parse_op(p, out);
        }
    }
}

/* Move the bytes out[from .. mid) behind out[mid .. len): an operator
   written before its folded operands goes after them.  Source-map entries
   move with their bytes; those at or past `from` are the newest ones. */
static void rotate(WatParser *p, WBuf *out, size_t from, size_t mid)
{
    if (p->want_map && out == &p->fbody) {
        WMapEntry *e = (WMapEntry *)(void *)p->body_map.data;
        for (size_t i = p->body_map.len / sizeof *e; i-- > 0 && e[i].offset >= from;)
            e[i].offset = e[i].offset < mid ? (uint32_t)(e[i].offset + (out->len - mid))
                                            : (uint32_t)(e[i].offset - (mid - from));
    }
    uint8_t *d = out->data;
    size_t ends[3][2] = { { from, mid }, { mid, out->len }, { from, out->len } };
    for (int k = 0; k < 3; k++)
        for (size_t i = ends[k][0], j = ends[k][1]; i + 1 < j; i++, j--) {
            uint8_t c = d[i];
            d[i] = d[j - 1];
            d[j - 1] = c;
        }
}

/* A folded instruction: `(op imm* folded*)`, `(block ...)`, `(loop ...)` or
   `(if $l? bt folded* (then instr*) (else instr*)?)`. */
void wat_parse_folded(WatParser *p, WBuf *out)
{
    enter(p);
    wat_expect_lparen(p);
    const WatToken *t = wat_cur(p);
    if (wat_tok_is(t, "block") || wat_tok_is(t, "loop")) {
        wat_map_here(p, out);
        wbuf_byte(p, out, wat_tok_is(t, "block") ? 0x02 : 0x03);
        wat_advance(p);
        const WatToken *label = wat_cur(p)->kind == TOK_ID ? wat_cur(p) : NULL;
        if (label) wat_advance(p);
        parse_blocktype(p, out);
        push_label(p, label);
        wat_parse_instrs(p, out);
        wat_map_here(p, out);
    wbuf_byte(p, out, 0x0B);
        p->nlabels--;
    } else if (wat_tok_is(t, "if")) {
        wat_advance(p);
        const WatToken *label = wat_cur(p)->kind == TOK_ID ? wat_cur(p) : NULL;
        if (label) wat_advance(p);
        /* The block type comes before the condition but is encoded after it. */
        size_t at = out->len;
        wat_map_here(p, out);
        wbuf_byte(p, out, 0x04);
        parse_blocktype(p, out);
        size_t mid = out->len;
        while (wat_cur(p)->kind == TOK_LPAREN && !wat_at_sexpr(p, "then"))
            wat_parse_folded(p, out);
        rotate(p, out, at, mid);
        push_label(p, label);
        if (!wat_at_sexpr(p, "then")) wat_unexpected(p);
        p->pos += 2;
        wat_parse_instrs(p, out);
        wat_expect_rparen(p);
        if (wat_at_sexpr(p, "else")) {
            p->pos += 2;
            wat_map_here(p, out);
            wbuf_byte(p, out, 0x05);
            wat_parse_instrs(p, out);
            wat_expect_rparen(p);
        }
        wat_map_here(p, out);
    wbuf_byte(p, out, 0x0B);
        p->nlabels--;
    } else {
        size_t at = out->len;
        parse_op(p, out);
        size_t mid = out->len;
        while (wat_cur(p)->kind == TOK_LPAREN) wat_parse_folded(p, out);
        rotate(p, out, at, mid);
    }
    wat_expect_rparen(p);
    p->depth--;
}
