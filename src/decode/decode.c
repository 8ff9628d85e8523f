/*
 * The WebAssembly 2.0 binary decoder: bytes in, Module out.
 *
 * It checks everything the spec calls *malformed* (the binary grammar,
 * LEB128 limits, UTF-8 names, section order and sizes, the structure of
 * instruction sequences) and leaves everything the spec calls *invalid*
 * (types, indices, limits) to validate.c.  So it walks every function body
 * once, decoding each instruction's immediates, but keeps no types.
 *
 * Reads go through a cursor bounded by the end of the current section or
 * function body; running past it fails with a message.  Failures unwind
 * with longjmp to module_decode, which frees the half-built Module (every
 * allocation is attached to it at once, with counts that match).
 *
 * SIMD (0xFD opcodes, v128) decodes like the rest; the 16 bytes of a
 * v128.const or a shuffle are read whole, a lane index is one byte.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "module.h"
#include "leb128.h"
#include "decode_ops.h"

/* Implementation limit on the declared locals of one function: the spec
   only bounds them by 2^32, web engines by 50000. */
#define MAX_LOCALS 50000u

/* And on all the locals of a module, so that a few bytes declaring 50000
   locals each cannot make a small module expand into gigabytes of local
   types: 16 per byte of binary, plus a million. */
#define MAX_MODULE_LOCALS(len) (16 * (uint64_t)(len) + (1u << 20))

/* ------------------------------------------------------------------------ */
/* Opcode tables, from opcodes.def                                          */

static const struct {
    const char *text;
    uint8_t prefix;
    uint32_t code;
    uint8_t imm;
    const char *sig;
} op_rows[] = {
#define OP(id, text, prefix, code, imm, sig) { text, prefix, code, IMM_##imm, sig },
#include "opcodes.def"
#undef OP
};

static OpTables g_ops;
static pthread_once_t g_ops_once = PTHREAD_ONCE_INIT;

static ValType sig_char_type(char c)
{
    switch (c) {
    case 'i': return VT_I32;
    case 'l': return VT_I64;
    case 'f': return VT_F32;
    case 'd': return VT_F64;
    case 'v': return VT_V128;
    default:  return 0;
    }
}

/* log2 of the access width, read from the mnemonic: the number after
   "load"/"store" ("load8_s", "load8x8_s"), else the width of the type. */
static uint8_t natural_align_of(const char *text)
{
    const char *s = strstr(text, "load");
    if (s)
        s += 4;
    else if ((s = strstr(text, "store")))
        s += 5;
    else
        return 0;
    unsigned bits;
    if (*s >= '0' && *s <= '9') {
        char *e;
        bits = (unsigned)strtoul(s, &e, 10);
        if (*e == 'x')
            bits *= (unsigned)strtoul(e + 1, NULL, 10);
    } else {
        bits = text[0] == 'v' ? 128 : (text[1] == '3' ? 32 : 64);
    }
    uint8_t a = 0;
    while ((8u << a) < bits)
        a++;
    return a;
}

static void build_op_tables(void)
{
    for (int i = 0; i < 256; i++)
        g_ops.by_byte[i] = OP_ILLEGAL;
    for (int i = 0; i < OPS_FC_MAX; i++)
        g_ops.by_fc[i] = OP_ILLEGAL;
    for (int i = 0; i < OPS_FD_MAX; i++)
        g_ops.by_fd[i] = OP_ILLEGAL;
    for (int i = 0; i < OP__COUNT; i++) {
        OpInfo *o = &g_ops.ops[i];
        o->text = op_rows[i].text;
        o->imm = op_rows[i].imm;
        o->prefix = op_rows[i].prefix;
        o->code = op_rows[i].code;
        if (o->prefix == 0)
            g_ops.by_byte[o->code & 0xFF] = (uint16_t)i;
        else if (o->prefix == 0xFC && o->code < OPS_FC_MAX)
            g_ops.by_fc[o->code] = (uint16_t)i;
        else if (o->prefix == 0xFD && o->code < OPS_FD_MAX)
            g_ops.by_fd[o->code] = (uint16_t)i;
        const char *sig = op_rows[i].sig;
        if (strcmp(sig, "*") != 0) {
            o->simple = 1;
            const char *s = sig;
            while (*s && *s != '>' && o->npop < 3)
                o->pop[o->npop++] = sig_char_type(*s++);
            if (*s == '>' && s[1])
                o->push = sig_char_type(s[1]);
        }
        if (o->imm == IMM_MEMARG || o->imm == IMM_MEMARG_LANE)
            o->natural_align = natural_align_of(o->text);
        /* Lanes: a lane load or store has 16 / its access width of them
           (v128.load16_lane: 8); other lane ops name their shape (i16x8: 8). */
        if (o->imm == IMM_MEMARG_LANE)
            o->lanes = (uint8_t)(16 >> o->natural_align);
        else if (o->imm == IMM_LANE)
            o->lanes = (uint8_t)strtoul(strchr(o->text, 'x') + 1, NULL, 10);
    }
}

const OpTables *op_tables(void)
{
    pthread_once(&g_ops_once, build_op_tables);
    return &g_ops;
}

/* ------------------------------------------------------------------------ */
/* The cursor and its failures                                              */

typedef struct {
    Module *m;
    const OpTables *ot;
    const uint8_t *base;        /* m->bytes */
    const uint8_t *module_end;
    const uint8_t *p, *end;     /* cursor, and the end of what it may read */
    WasmError *err;
    jmp_buf *jb;
    /* Where we are, for messages. */
    const char *section;        /* NULL outside sections */
    const char *item_kind;      /* "function", "segment", ... or NULL */
    uint32_t item;
    bool in_code;               /* scanning a function body (not a constant expression) */
    /* Nesting of the body being scanned: one byte per open block. */
    uint8_t *blk;
    size_t blk_cap;
    uint32_t nfunc_decls;       /* entries of the function section */
    uint32_t ncode;             /* entries of the code section */
    uint64_t total_locals;      /* declared locals of all bodies so far */
    ValType *extra_locals;      /* locals of a body beyond the function count */
} Dec;

static _Noreturn __attribute__((format(printf, 3, 4)))
void dec_fail(Dec *d, const uint8_t *at, const char *fmt, ...)
{
    char what[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    WasmError *e = d->err;
    e->kind = ERR_MALFORMED;
    e->offset = (size_t)(at - d->base);
    if (d->section && d->item_kind)
        snprintf(e->msg, sizeof e->msg, "%s, %s %u (at byte 0x%zx): %s",
                 d->section, d->item_kind, d->item, e->offset, what);
    else if (d->section)
        snprintf(e->msg, sizeof e->msg, "%s (at byte 0x%zx): %s", d->section, e->offset, what);
    else
        snprintf(e->msg, sizeof e->msg, "at byte 0x%zx: %s", e->offset, what);
    longjmp(*d->jb, 1);
}

/* The spec tests tell "unexpected end" of the module apart from running
   past the end of a section or function body. */
static _Noreturn void fail_end(Dec *d)
{
    dec_fail(d, d->end, d->section ? "unexpected end of section or function" : "unexpected end");
}

static void *dec_alloc(Dec *d, size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        dec_fail(d, d->p, "out of memory");
    return p;
}

static void *dec_realloc(Dec *d, void *old, size_t n)
{
    void *p = realloc(old, n ? n : 1);
    if (!p)
        dec_fail(d, d->p, "out of memory");
    return p;
}

/* Extend an index space that imports opened: `old` entries kept, the
   rest zeroed (a constant expression may look at a later one). */
static void *dec_extend(Dec *d, void *p, size_t old, size_t total, size_t elem)
{
    uint8_t *q = dec_realloc(d, p, total * elem);
    memset(q + old * elem, 0, (total - old) * elem);
    return q;
}

/* A LEB128 of `bits` bits starting at `at` failed with `r`. */
static _Noreturn void leb_fail(Dec *d, const uint8_t *at, int r, unsigned bits, bool is_signed)
{
    if (r == LEB_END) {
        /* Cut off by the section end: if the bytes beyond would make it too
           long or too large anyway, say that, as the spec tests expect. */
        const uint8_t *q = at;
        uint64_t u;
        int64_t s;
        r = is_signed ? leb_signed(&q, d->module_end, bits, &s) : leb_unsigned(&q, d->module_end, bits, &u);
        if (r == LEB_OK || r == LEB_END)
            fail_end(d);
    }
    dec_fail(d, at, r == LEB_TOO_LONG ? "integer representation too long" : "integer too large");
}

static inline uint8_t rd_u8(Dec *d)
{
    if (d->p >= d->end)
        fail_end(d);
    return *d->p++;
}

static inline uint32_t rd_u32(Dec *d)
{
    const uint8_t *at = d->p;
    uint32_t v;
    int r = leb_u32(&d->p, d->end, &v);
    if (r)
        leb_fail(d, at, r, 32, false);
    return v;
}

static inline int32_t rd_s32(Dec *d)
{
    const uint8_t *at = d->p;
    int32_t v;
    int r = leb_s32(&d->p, d->end, &v);
    if (r)
        leb_fail(d, at, r, 32, true);
    return v;
}

static inline int64_t rd_s64(Dec *d)
{
    const uint8_t *at = d->p;
    int64_t v;
    int r = leb_s64(&d->p, d->end, &v);
    if (r)
        leb_fail(d, at, r, 64, true);
    return v;
}

static size_t remaining(const Dec *d) { return (size_t)(d->end - d->p); }

/*
 * A vector length or byte count: it must fit in what is left, each entry
 * taking at least a byte.  Checking before allocating keeps a forged count
 * from asking for gigabytes.  Like the reference interpreter, a count
 * larger than the rest of the module (counted from the count itself) is
 * "length out of bounds", one that only overruns the section is an
 * "unexpected end".
 */
static uint32_t rd_count(Dec *d)
{
    const uint8_t *at = d->p;
    uint32_t n = rd_u32(d);
    if (n > remaining(d)) {
        if (n > (size_t)(d->module_end - at))
            dec_fail(d, at, "length out of bounds: %u exceeds the %zu bytes left", n,
                     (size_t)(d->module_end - d->p));
        dec_fail(d, at, "unexpected end of section or function: %u entries cannot fit in %zu bytes",
                 n, remaining(d));
    }
    return n;
}

static uint32_t rd_len(Dec *d) { return rd_count(d); }

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;   /* continuation byte, overlong lead or beyond U+10FFFF */
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
            return false;   /* overlong, or a surrogate */
        if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
            return false;
        i += len;
    }
    return true;
}

/* A name: its bytes stay in m->bytes; *len gets the length. */
static const uint8_t *rd_name(Dec *d, uint32_t *len)
{
    *len = rd_len(d);
    const uint8_t *s = d->p;
    if (!utf8_valid(s, *len))
        dec_fail(d, s, "malformed UTF-8 encoding");
    d->p += *len;
    return s;
}

/* A NUL-terminated heap copy (names may hold NUL bytes: keep the length). */
static char *dup_name(Dec *d, const uint8_t *s, uint32_t len)
{
    char *c = dec_alloc(d, (size_t)len + 1);
    memcpy(c, s, len);
    return c;
}

static ValType rd_valtype(Dec *d)
{
    const uint8_t *at = d->p;
    uint8_t b = rd_u8(d);
    switch (b) {
    case VT_V128:
        d->m->uses_v128 = true;
        return b;
    case VT_I32: case VT_I64: case VT_F32: case VT_F64:
    case VT_FUNCREF: case VT_EXTERNREF:
        return b;
    default:
        dec_fail(d, at, "malformed value type 0x%02x", b);
    }
}

static ValType rd_reftype(Dec *d)
{
    const uint8_t *at = d->p;
    uint8_t b = rd_u8(d);
    if (b != VT_FUNCREF && b != VT_EXTERNREF)
        dec_fail(d, at, "malformed reference type 0x%02x", b);
    return b;
}

static void rd_limits(Dec *d, Limits *l)
{
    /* The flag is read as a 1-bit LEB128, which is what makes 0x02 "integer
       too large" and 0x81 0x00 "integer representation too long". */
    const uint8_t *at = d->p;
    uint64_t flag;
    int r = leb_unsigned(&d->p, d->end, 1, &flag);
    if (r)
        leb_fail(d, at, r, 1, false);
    l->min = rd_u32(d);
    l->has_max = flag == 1;
    l->max = l->has_max ? rd_u32(d) : 0;
}

static void rd_tabletype(Dec *d, TableType *t)
{
    t->elem = rd_reftype(d);
    rd_limits(d, &t->limits);
}

static void rd_globaltype(Dec *d, GlobalType *g)
{
    g->type = rd_valtype(d);
    const uint8_t *at = d->p;
    uint8_t mut = rd_u8(d);
    if (mut > 1)
        dec_fail(d, at, "malformed mutability 0x%02x", mut);
    g->mut = mut;
}

static uint8_t rd_zero_byte(Dec *d)
{
    const uint8_t *at = d->p;
    uint8_t b = rd_u8(d);
    if (b != 0)
        dec_fail(d, at, "zero byte expected (memory index 0x%02x; multiple memories are not in 2.0)", b);
    return b;
}

/* ------------------------------------------------------------------------ */
/* Instruction sequences                                                    */

/* What the scanner learns about an expression, for constant expressions. */
typedef struct {
    uint32_t count;      /* instructions before the final end */
    bool nonconst;       /* one of them is not allowed in a constant expression */
    uint16_t first_op;
    uint64_t first_imm;
} ExprInfo;

enum { BLK_PLAIN, BLK_IF };   /* kinds on the nesting stack; else is legal only in an if */

static void blk_push(Dec *d, size_t depth, uint8_t kind)
{
    if (depth >= d->blk_cap) {
        size_t cap = d->blk_cap ? d->blk_cap * 2 : 64;
        d->blk = dec_realloc(d, d->blk, cap);
        d->blk_cap = cap;
    }
    d->blk[depth] = kind;
}

static void rd_blocktype(Dec *d)
{
    const uint8_t *at = d->p;
    if (d->p >= d->end)
        fail_end(d);
    uint8_t b = *d->p;
    if (b == 0x40) {
        d->p++;
        return;
    }
    if (b == VT_I32 || b == VT_I64 || b == VT_F32 || b == VT_F64 || b == VT_V128 ||
        b == VT_FUNCREF || b == VT_EXTERNREF) {
        if (b == VT_V128)
            d->m->uses_v128 = true;
        d->p++;
        return;
    }
    int64_t idx;
    int r = leb_s33(&d->p, d->end, &idx);
    if (r)
        leb_fail(d, at, r, 33, true);
    if (idx < 0)
        dec_fail(d, at, "malformed block type");
}

static bool op_is_const(uint16_t op)
{
    return op == OP_I32_CONST || op == OP_I64_CONST || op == OP_F32_CONST ||
           op == OP_F64_CONST || op == OP_V128_CONST || op == OP_REF_NULL || op == OP_REF_FUNC ||
           op == OP_GLOBAL_GET;
}

/* The scanner keeps its cursor in a local (so it can live in a register)
   and syncs d->p only around the checked readers. */
static inline uint32_t scan_u32(Dec *d, const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        *pp = p + 1;
        return *p;
    }
    d->p = p;
    uint32_t v = rd_u32(d);
    *pp = d->p;
    return v;
}

/*
 * Scan an instruction sequence up to and including the `end` that closes
 * it, checking opcodes, immediates and block structure.  An `else` outside
 * an `if` (or a second one) stops the enclosing sequence where an `end` was
 * due, hence the reference interpreter's "END opcode expected".  `info`,
 * when not NULL, receives what constant expressions need.
 */
static void scan_expr(Dec *d, ExprInfo *info)
{
    const OpInfo *ops = d->ot->ops;
    const uint16_t *by_byte = d->ot->by_byte;
    const uint8_t *p = d->p, *end = d->end;
    size_t depth = 0;
    if (info) {
        info->count = 0;
        info->nonconst = false;
        info->first_op = OP_ILLEGAL;
        info->first_imm = 0;
    }

    for (;;) {
        const uint8_t *at = p;
        if (p >= end)
            dec_fail(d, at, "unexpected end of section or function: END opcode expected");
        uint8_t b = *p++;
        uint16_t op = by_byte[b];
        if (op == OP_ILLEGAL) {
            if (b == 0xFC) {
                uint32_t sub = scan_u32(d, &p, end);
                op = sub < OPS_FC_MAX ? d->ot->by_fc[sub] : OP_ILLEGAL;
                if (op == OP_ILLEGAL)
                    dec_fail(d, at, "illegal opcode 0xfc %u", sub);
            } else if (b == 0xFD) {
                d->m->uses_v128 = true;
                uint32_t sub = scan_u32(d, &p, end);
                op = sub < OPS_FD_MAX ? d->ot->by_fd[sub] : OP_ILLEGAL;
                if (op == OP_ILLEGAL)
                    dec_fail(d, at, "illegal opcode 0xfd %u", sub);
            } else {
                dec_fail(d, at, "illegal opcode 0x%02x", b);
            }
        }

        uint64_t imm = 0;
        switch (ops[op].imm) {
        case IMM_NONE:
            break;
        case IMM_LABEL: case IMM_FUNC: case IMM_LOCAL: case IMM_GLOBAL:
        case IMM_TABLE: case IMM_ELEM: case IMM_DATA:
            imm = scan_u32(d, &p, end);
            break;
        case IMM_CALL_IND: case IMM_TABLE2: case IMM_ELEM_TABLE:
            scan_u32(d, &p, end);
            scan_u32(d, &p, end);
            break;
        case IMM_MEMARG:
        case IMM_MEMARG_LANE: {
            const uint8_t *a = p;
            uint32_t align = scan_u32(d, &p, end);
            if (align >= 32)
                dec_fail(d, a, "malformed memop flags: alignment exponent %u", align);
            scan_u32(d, &p, end);
            if (ops[op].imm == IMM_MEMARG_LANE) {
                if (p >= end) {
                    d->p = p;
                    fail_end(d);
                }
                p++;   /* the lane index (checked by the validator) */
            }
            break;
        }
        case IMM_LANE:
            if (p >= end) {
                d->p = p;
                fail_end(d);
            }
            p++;
            break;
        case IMM_V128:
        case IMM_SHUFFLE:
            if ((size_t)(end - p) < 16) {
                d->p = p;
                fail_end(d);
            }
            imm = (uint64_t)(p - d->base);   /* where the 16 bytes are (v128.const in a constant) */
            p += 16;
            break;
        case IMM_I32:
            if (p < end && *p < 0x40) {   /* small non-negative: one byte */
                imm = *p++;
                break;
            }
            d->p = p;
            imm = (uint32_t)rd_s32(d);
            p = d->p;
            break;
        case IMM_I64:
            d->p = p;
            imm = (uint64_t)rd_s64(d);
            p = d->p;
            break;
        case IMM_F32:
        case IMM_F64: {
            unsigned n = ops[op].imm == IMM_F32 ? 4 : 8;
            if ((size_t)(end - p) < n) {
                d->p = p;
                fail_end(d);
            }
            for (unsigned i = 0; i < n; i++)
                imm |= (uint64_t)p[i] << (8 * i);
            p += n;
            break;
        }
        default:
            /* The rarer immediates go through the checked readers. */
            d->p = p;
            switch (ops[op].imm) {
            case IMM_BLOCK:
                rd_blocktype(d);
                break;
            case IMM_BR_TABLE: {
                uint32_t n = rd_count(d);
                for (uint32_t i = 0; i < n; i++)
                    rd_u32(d);
                rd_u32(d);
                break;
            }
            case IMM_MEM:
                rd_zero_byte(d);
                break;
            case IMM_MEM2:
                rd_zero_byte(d);
                rd_zero_byte(d);
                break;
            case IMM_DATA_MEM:
                rd_u32(d);
                rd_zero_byte(d);
                break;
            case IMM_SELECT_T: {
                uint32_t n = rd_count(d);
                for (uint32_t i = 0; i < n; i++)
                    rd_valtype(d);
                break;
            }
            case IMM_REFTYPE:
                imm = rd_reftype(d);
                break;
            default:
                dec_fail(d, at, "unsupported instruction %s", ops[op].text);
            }
            p = d->p;
            break;
        }

        switch (op) {
        case OP_BLOCK:
        case OP_LOOP:
            blk_push(d, depth++, BLK_PLAIN);
            break;
        case OP_IF:
            blk_push(d, depth++, BLK_IF);
            break;
        case OP_ELSE:
            if (depth == 0 || d->blk[depth - 1] != BLK_IF)
                dec_fail(d, at, "END opcode expected, found else");
            d->blk[depth - 1] = BLK_PLAIN;
            break;
        case OP_END:
            if (depth == 0) {
                d->p = p;
                return;
            }
            depth--;
            break;
        case OP_MEMORY_INIT:
        case OP_DATA_DROP:
            if (d->in_code && !d->m->has_data_count)
                dec_fail(d, at, "data count section required by %s", ops[op].text);
            break;
        default:
            break;
        }
        if (info) {
            if (info->count == 0) {
                info->first_op = op;
                info->first_imm = imm;
            }
            if (!op_is_const(op))
                info->nonconst = true;
            info->count++;
        }
    }
}

/*
 * A constant expression.  2.0 allows exactly one constant instruction, but
 * too many or non-constant instructions are *invalid*, not malformed, so the
 * decoder accepts any expression and records what was wrong in a form the
 * validator reports: op OP_NOP with u.i32 = CONST_BAD_*.
 */
static void rd_const(Dec *d, ConstExpr *ce)
{
    ce->offset = (uint32_t)(d->p - d->base);
    ExprInfo info;
    bool was_code = d->in_code;
    d->in_code = false;
    scan_expr(d, &info);
    d->in_code = was_code;
    if (info.nonconst || info.count != 1) {
        ce->op = OP_NOP;
        ce->type = 0;
        ce->u.i32 = info.nonconst ? CONST_BAD_NONCONST : CONST_BAD_ARITY;
        return;
    }
    ce->op = info.first_op;
    switch (info.first_op) {
    case OP_I32_CONST: ce->type = VT_I32; ce->u.i32 = (uint32_t)info.first_imm; break;
    case OP_I64_CONST: ce->type = VT_I64; ce->u.i64 = info.first_imm; break;
    case OP_F32_CONST: ce->type = VT_F32; ce->u.f32 = (uint32_t)info.first_imm; break;
    case OP_F64_CONST: ce->type = VT_F64; ce->u.f64 = info.first_imm; break;
    case OP_V128_CONST: ce->type = VT_V128; memcpy(ce->u.v128, d->base + info.first_imm, 16); break;
    case OP_REF_NULL:
        ce->type = (ValType)info.first_imm;
        ce->u.reftype = (ValType)info.first_imm;
        break;
    case OP_REF_FUNC: ce->type = VT_FUNCREF; ce->u.index = (uint32_t)info.first_imm; break;
    case OP_GLOBAL_GET:
        ce->u.index = (uint32_t)info.first_imm;
        /* The type is known when the global is; otherwise validation fails. */
        ce->type = ce->u.index < d->m->nglobals ? d->m->global_types[ce->u.index].type : 0;
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                 */

static void dec_types(Dec *d)
{
    Module *m = d->m;
    uint32_t n = rd_count(d);
    m->types = dec_alloc(d, (size_t)n * sizeof *m->types);
    m->ntypes = n;
    d->item_kind = "type";
    for (uint32_t i = 0; i < n; i++) {
        d->item = i;
        FuncType *t = &m->types[i];
        /* The form is a 7-bit signed LEB128 (-0x20), so 0xE0 0x7F is "too long". */
        const uint8_t *at = d->p;
        int64_t form;
        int r = leb_signed(&d->p, d->end, 7, &form);
        if (r)
            leb_fail(d, at, r, 7, true);
        if (form != -0x20)
            dec_fail(d, at, "malformed function type form 0x%02x (expected 0x60)", *at);
        /* Params and results share one allocation: results follow params. */
        uint32_t np = rd_count(d);
        ValType *buf = dec_alloc(d, np);
        t->params = buf;
        for (uint32_t k = 0; k < np; k++)
            buf[k] = rd_valtype(d);
        uint32_t nr = rd_count(d);
        buf = dec_realloc(d, buf, (size_t)np + nr);
        t->params = buf;
        for (uint32_t k = 0; k < nr; k++)
            buf[np + k] = rd_valtype(d);
        t->nparams = np;
        t->nresults = nr;
        t->results = buf + np;
    }
}

static void dec_imports(Dec *d)
{
    Module *m = d->m;
    uint32_t n = rd_count(d);
    m->imports = dec_alloc(d, (size_t)n * sizeof *m->imports);
    m->nimports = n;
    d->item_kind = "import";
    uint32_t nf = 0, nt = 0, nm = 0, ng = 0;
    for (uint32_t i = 0; i < n; i++) {
        d->item = i;
        Import *im = &m->imports[i];
        const uint8_t *s = rd_name(d, &im->module_len);
        im->module = dup_name(d, s, im->module_len);
        s = rd_name(d, &im->name_len);
        im->name = dup_name(d, s, im->name_len);
        const uint8_t *at = d->p;
        im->kind = rd_u8(d);
        switch (im->kind) {
        case EXT_FUNC: im->u.func_type = rd_u32(d); nf++; break;
        case EXT_TABLE: rd_tabletype(d, &im->u.table); nt++; break;
        case EXT_MEMORY: rd_limits(d, &im->u.mem.limits); nm++; break;
        case EXT_GLOBAL: rd_globaltype(d, &im->u.global); ng++; break;
        default: dec_fail(d, at, "malformed import kind 0x%02x", im->kind);
        }
    }
    /* Imports open every index space. */
    m->func_types = dec_alloc(d, (size_t)nf * sizeof *m->func_types);
    m->tables = dec_alloc(d, (size_t)nt * sizeof *m->tables);
    m->mems = dec_alloc(d, (size_t)nm * sizeof *m->mems);
    m->global_types = dec_alloc(d, (size_t)ng * sizeof *m->global_types);
    m->nfuncs = m->nfunc_imports = nf;
    m->ntables = m->ntable_imports = nt;
    m->nmems = m->nmem_imports = nm;
    m->nglobals = m->nglobal_imports = ng;
    nf = nt = nm = ng = 0;
    for (uint32_t i = 0; i < n; i++) {
        Import *im = &m->imports[i];
        switch (im->kind) {
        case EXT_FUNC: m->func_types[nf++] = im->u.func_type; break;
        case EXT_TABLE: m->tables[nt++] = im->u.table; break;
        case EXT_MEMORY: m->mems[nm++] = im->u.mem; break;
        case EXT_GLOBAL: m->global_types[ng++] = im->u.global; break;
        }
    }
}

static void dec_funcs(Dec *d)
{
    Module *m = d->m;
    uint32_t n = rd_count(d);
    m->func_types = dec_extend(d, m->func_types, m->nfunc_imports, (size_t)m->nfunc_imports + n,
                               sizeof *m->func_types);
    m->funcs = dec_alloc(d, (size_t)n * sizeof *m->funcs);
    m->nfuncs = m->nfunc_imports + n;
    d->nfunc_decls = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = rd_u32(d);
        m->func_types[m->nfunc_imports + i] = t;
        m->funcs[i].type = t;
    }
}

static void dec_tables(Dec *d)
{
    Module *m = d->m;
    uint32_t n = rd_count(d);
    m->tables = dec_extend(d, m->tables, m->ntable_imports, (size_t)m->ntable_imports + n, sizeof *m->tables);
    m->ntables = m->ntable_imports + n;
    d->item_kind = "table";
    for (uint32_t i = 0; i < n; i++) {
        d->item = m->ntable_imports + i;
        rd_tabletype(d, &m->tables[m->ntable_imports + i]);
    }
}

static void dec_mems(Dec *d)
{
    Module *m = d->m;
    uint32_t n = rd_count(d);
    m->mems = dec_extend(d, m->mems, m->nmem_imports, (size_t)m->nmem_imports + n, sizeof *m->mems);
    m->nmems = m->nmem_imports + n;
    d->item_kind = "memory";
    for (uint32_t i = 0; i < n; i++) {
        d->item = m->nmem_imports + i;
        rd_limits(d, &m->mems[m->nmem_imports + i].limits);
    }
}

static void dec_globals(Dec *d)
{
    Module *m = d->m;
    uint32_t n = rd_count(d);
    m->global_types = dec_extend(d, m->global_types, m->nglobal_imports, (size_t)m->nglobal_imports + n,
                                 sizeof *m->global_types);
    m->globals = dec_alloc(d, (size_t)n * sizeof *m->globals);
    m->nglobals = m->nglobal_imports + n;
    d->item_kind = "global";
    for (uint32_t i = 0; i < n; i++) {
        d->item = m->nglobal_imports + i;
        Global *g = &m->globals[i];
        rd_globaltype(d, &g->type);
        m->global_types[m->nglobal_imports + i] = g->type;
        rd_const(d, &g->init);
    }
}

static void dec_exports(Dec *d)
{
    Module *m = d->m;
    uint32_t n = rd_count(d);
    m->exports = dec_alloc(d, (size_t)n * sizeof *m->exports);
    m->nexports = n;
    d->item_kind = "export";
    for (uint32_t i = 0; i < n; i++) {
        d->item = i;
        Export *e = &m->exports[i];
        const uint8_t *s = rd_name(d, &e->name_len);
        e->name = dup_name(d, s, e->name_len);
        const uint8_t *at = d->p;
        e->kind = rd_u8(d);
        if (e->kind > EXT_GLOBAL)
            dec_fail(d, at, "malformed export kind 0x%02x", e->kind);
        e->index = rd_u32(d);
    }
}

static void dec_start(Dec *d)
{
    d->m->has_start = true;
    d->m->start = rd_u32(d);
}

/*
 * Element segments, encodings 0-7.  Bit 0: passive or declarative (else
 * active); bit 1: with bit 0 declarative, without it an explicit table
 * index; bit 2: items are expressions rather than function indices.  A
 * reference type (expressions) or element kind (indices) is present unless
 * both low bits are clear.
 */
static void dec_elems(Dec *d)
{
    Module *m = d->m;
    uint32_t n = rd_count(d);
    m->elems = dec_alloc(d, (size_t)n * sizeof *m->elems);
    m->nelems = n;
    d->item_kind = "segment";
    for (uint32_t i = 0; i < n; i++) {
        d->item = i;
        Elem *e = &m->elems[i];
        const uint8_t *at = d->p;
        uint32_t flags = rd_u32(d);
        if (flags > 7)
            dec_fail(d, at, "malformed elements segment kind %u", flags);
        bool exprs = flags & 4;
        if (flags & 1) {
            e->mode = (flags & 2) ? SEG_DECLARATIVE : SEG_PASSIVE;
        } else {
            e->mode = SEG_ACTIVE;
            e->table = (flags & 2) ? rd_u32(d) : 0;
            rd_const(d, &e->offset);
        }
        e->type = VT_FUNCREF;
        if (flags & 3) {
            if (exprs) {
                e->type = rd_reftype(d);
            } else {
                const uint8_t *k = d->p;
                if (rd_u8(d) != 0x00)
                    dec_fail(d, k, "malformed element kind 0x%02x", *k);
            }
        }
        uint32_t count = rd_count(d);
        e->items = dec_alloc(d, (size_t)count * sizeof *e->items);
        e->count = count;
        for (uint32_t k = 0; k < count; k++) {
            ConstExpr *ce = &e->items[k];
            if (exprs) {
                rd_const(d, ce);
            } else {
                ce->offset = (uint32_t)(d->p - d->base);
                ce->op = OP_REF_FUNC;
                ce->type = VT_FUNCREF;
                ce->u.index = rd_u32(d);
            }
        }
    }
}

static void dec_datacount(Dec *d)
{
    d->m->has_data_count = true;
    d->m->data_count = rd_u32(d);
}

static void dec_code(Dec *d)
{
    Module *m = d->m;
    uint32_t n = rd_count(d);
    /* A count that differs from the function section is reported after the
       last section (as the reference interpreter does); extra bodies are
       decoded into a scratch Func meanwhile. */
    d->ncode = n;
    d->item_kind = "function";
    const uint8_t *section_end = d->end;
    Func extra;
    for (uint32_t i = 0; i < n; i++) {
        Func *f = i < d->nfunc_decls ? &m->funcs[i] : &extra;
        d->item = m->nfunc_imports + i;
        uint32_t size = rd_len(d);
        const uint8_t *body_end = d->p + size;
        d->end = body_end;

        /* Locals: count the groups first so the array is allocated once. */
        uint32_t ngroups = rd_count(d);
        const uint8_t *groups = d->p;
        uint64_t total = 0;
        for (uint32_t g = 0; g < ngroups; g++) {
            const uint8_t *c = d->p;
            total += rd_u32(d);
            rd_valtype(d);
            if (total > MAX_LOCALS)
                dec_fail(d, c, "too many locals (%llu; the limit is %u)",
                         (unsigned long long)total, MAX_LOCALS);
        }
        d->total_locals += total;
        if (d->total_locals > MAX_MODULE_LOCALS(m->len))
            dec_fail(d, groups, "too many locals in the module (%llu; the limit for this size is %llu)",
                     (unsigned long long)d->total_locals, (unsigned long long)MAX_MODULE_LOCALS(m->len));
        f->local_types = dec_alloc(d, (size_t)total);
        f->nlocals = (uint32_t)total;
        if (f == &extra) {
            free(d->extra_locals);
            d->extra_locals = f->local_types;
        }
        d->p = groups;
        for (uint32_t g = 0, k = 0; g < ngroups; g++) {
            uint32_t c = rd_u32(d);
            ValType t = rd_valtype(d);
            memset(f->local_types + k, t, c);
            k += c;
        }

        f->code = d->p;
        f->code_offset = (uint32_t)(d->p - d->base);
        d->in_code = true;
        scan_expr(d, NULL);
        d->in_code = false;
        f->code_len = (uint32_t)(d->p - f->code);
        if (d->p != body_end)
            dec_fail(d, d->p, "section size mismatch: %zu bytes after the function's final end",
                     (size_t)(body_end - d->p));
        d->end = section_end;
    }
}

static void dec_datas(Dec *d)
{
    Module *m = d->m;
    uint32_t n = rd_count(d);
    m->datas = dec_alloc(d, (size_t)n * sizeof *m->datas);
    m->ndatas = n;
    d->item_kind = "segment";
    for (uint32_t i = 0; i < n; i++) {
        d->item = i;
        Data *s = &m->datas[i];
        const uint8_t *at = d->p;
        uint32_t flags = rd_u32(d);
        if (flags > 2)
            dec_fail(d, at, "malformed data segment kind %u", flags);
        if (flags == 1) {
            s->mode = SEG_PASSIVE;
        } else {
            s->mode = SEG_ACTIVE;
            s->memory = flags == 2 ? rd_u32(d) : 0;
            rd_const(d, &s->offset);
        }
        s->len = rd_len(d);
        s->bytes = d->p;
        d->p += s->len;
    }
}

static void dec_custom(Dec *d)
{
    Module *m = d->m;
    uint32_t len;
    const uint8_t *s = rd_name(d, &len);
    m->customs = dec_realloc(d, m->customs, ((size_t)m->ncustoms + 1) * sizeof *m->customs);
    CustomSection *c = &m->customs[m->ncustoms++];
    memset(c, 0, sizeof *c);
    c->name = dup_name(d, s, len);
    c->name_len = len;
    c->bytes = d->p;
    c->len = (uint32_t)remaining(d);
    c->offset = (uint32_t)(c->bytes - d->base);
    d->p = d->end;
}

/* ------------------------------------------------------------------------ */
/* The "name" custom section: best effort, never an error                  */

static bool guarded_names(Dec *d, const CustomSection *c);

static void dec_names(Dec *d)
{
    Module *m = d->m;
    for (uint32_t i = 0; i < m->ncustoms; i++) {
        const CustomSection *c = &m->customs[i];
        if (c->name_len != 4 || memcmp(c->name, "name", 4) != 0)
            continue;
        /* Custom sections are not validated: on bad name data keep nothing. */
        WasmError scratch;
        WasmError *real = d->err;
        jmp_buf *real_jb = d->jb;
        d->err = &scratch;
        bool ok = guarded_names(d, c);
        d->err = real;
        d->jb = real_jb;
        if (!ok) {
            free(m->module_name);
            m->module_name = NULL;
            if (m->func_names)
                for (uint32_t k = 0; k < m->nfuncs; k++)
                    free(m->func_names[k]);
            free(m->func_names);
            m->func_names = NULL;
        }
        return;   /* only the first one counts */
    }
}

static void parse_names(Dec *d, const CustomSection *c)
{
    Module *m = d->m;
    d->section = "name section";
    d->item_kind = NULL;
    d->p = c->bytes;
    d->end = c->bytes + c->len;
    const uint8_t *section_end = d->end;
    int last_id = -1;
    while (d->p < section_end) {
        d->end = section_end;
        uint8_t id = rd_u8(d);
        uint32_t size = rd_len(d);
        if ((int)id <= last_id)
            dec_fail(d, d->p, "name subsections out of order");
        last_id = id;
        const uint8_t *sub_end = d->p + size;
        d->end = sub_end;
        if (id == 0) {
            uint32_t len;
            const uint8_t *s = rd_name(d, &len);
            m->module_name = dup_name(d, s, len);
        } else if (id == 1) {
            uint32_t n = rd_count(d);
            m->func_names = dec_alloc(d, (size_t)m->nfuncs * sizeof *m->func_names);
            for (uint32_t k = 0; k < n; k++) {
                uint32_t idx = rd_u32(d);
                uint32_t len;
                const uint8_t *s = rd_name(d, &len);
                if (idx >= m->nfuncs)
                    dec_fail(d, s, "function index out of range");
                free(m->func_names[idx]);
                m->func_names[idx] = dup_name(d, s, len);
            }
        } else {
            d->p = sub_end;   /* local names and later additions: not needed */
        }
        if (d->p != sub_end)
            dec_fail(d, d->p, "name subsection size mismatch");
    }
}

static bool guarded_names(Dec *d, const CustomSection *c)
{
    jmp_buf jb;
    d->jb = &jb;
    if (setjmp(jb))
        return false;
    parse_names(d, c);
    return true;
}

/* ------------------------------------------------------------------------ */
/* The module                                                               */

static const char *const section_names[13] = {
    "custom section", "type section", "import section", "function section",
    "table section", "memory section", "global section", "export section",
    "start section", "element section", "code section", "data section",
    "data count section",
};

/* Where each section id must come: data count sits between element and code. */
static const uint8_t section_rank[13] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10 };

/* Functions a body's ref.func may name (C.refs): those in element
   segments, global initialisers and exports. */
static void mark_declared(Dec *d)
{
    Module *m = d->m;
    m->func_declared = dec_alloc(d, m->nfuncs);
    for (uint32_t i = 0; i < m->nelems; i++)
        for (uint32_t k = 0; k < m->elems[i].count; k++) {
            const ConstExpr *ce = &m->elems[i].items[k];
            if (ce->op == OP_REF_FUNC && ce->u.index < m->nfuncs)
                m->func_declared[ce->u.index] = 1;
        }
    for (uint32_t i = 0; i < m->nglobals - m->nglobal_imports; i++) {
        const ConstExpr *ce = &m->globals[i].init;
        if (ce->op == OP_REF_FUNC && ce->u.index < m->nfuncs)
            m->func_declared[ce->u.index] = 1;
    }
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == EXT_FUNC && m->exports[i].index < m->nfuncs)
            m->func_declared[m->exports[i].index] = 1;
}

static void decode_module(Dec *d)
{
    Module *m = d->m;
    d->p = d->base;
    d->end = d->module_end;
    if (m->len < 4)
        fail_end(d);
    if (memcmp(d->base, "\0asm", 4) != 0)
        dec_fail(d, d->base, "magic header not detected");
    if (m->len < 8)
        fail_end(d);
    if (memcmp(d->base + 4, "\1\0\0\0", 4) != 0)
        dec_fail(d, d->base + 4, "unknown binary version");
    d->p = d->base + 8;

    unsigned last_rank = 0;
    while (d->p < d->module_end) {
        d->section = NULL;
        d->item_kind = NULL;
        d->end = d->module_end;
        const uint8_t *at = d->p;
        uint8_t id = rd_u8(d);
        if (id > 12)
            dec_fail(d, at, "malformed section id %u", id);
        uint32_t size = rd_len(d);
        d->end = d->p + size;
        if (id != 0) {
            if (section_rank[id] <= last_rank)
                dec_fail(d, at, "unexpected content after last section (%s out of order or repeated)",
                         section_names[id]);
            last_rank = section_rank[id];
        }
        d->section = section_names[id];
        switch (id) {
        case 0: dec_custom(d); break;
        case 1: dec_types(d); break;
        case 2: dec_imports(d); break;
        case 3: dec_funcs(d); break;
        case 4: dec_tables(d); break;
        case 5: dec_mems(d); break;
        case 6: dec_globals(d); break;
        case 7: dec_exports(d); break;
        case 8: dec_start(d); break;
        case 9: dec_elems(d); break;
        case 10: dec_code(d); break;
        case 11: dec_datas(d); break;
        case 12: dec_datacount(d); break;
        }
        d->item_kind = NULL;
        if (d->p != d->end)
            dec_fail(d, d->p, "section size mismatch: %zu bytes left over", remaining(d));
    }
    d->section = NULL;
    d->end = d->module_end;
    if (d->ncode != d->nfunc_decls)
        dec_fail(d, d->p, "function and code section have inconsistent lengths (%u functions, %u bodies)",
                 d->nfunc_decls, d->ncode);
    if (m->has_data_count && m->data_count != m->ndatas)
        dec_fail(d, d->p, "data count and data section have inconsistent lengths (%u and %u)",
                 m->data_count, m->ndatas);
    mark_declared(d);
    dec_names(d);
}

static bool guarded_decode(Dec *d)
{
    jmp_buf jb;
    d->jb = &jb;
    if (setjmp(jb))
        return false;
    decode_module(d);
    return true;
}

Module *module_decode(const uint8_t *bytes, size_t len, WasmError *err)
{
    WasmError scratch;
    if (!err)
        err = &scratch;
    memset(err, 0, sizeof *err);
    err->offset = (size_t)-1;

    if (len > UINT32_MAX) {
        err->kind = ERR_MALFORMED;
        snprintf(err->msg, sizeof err->msg, "module too large (%zu bytes; the limit is 4 GiB)", len);
        return NULL;
    }
    Module *m = calloc(1, sizeof *m);
    uint8_t *copy = malloc(len ? len : 1);
    if (!m || !copy) {
        free(m);
        free(copy);
        err->kind = ERR_MALFORMED;
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return NULL;
    }
    if (len)
        memcpy(copy, bytes, len);
    m->bytes = copy;
    m->len = len;
    m->hash = XXH3_64bits(copy, len);

    Dec d = {
        .m = m,
        .ot = op_tables(),
        .base = copy,
        .module_end = copy + len,
        .err = err,
    };
    bool ok = guarded_decode(&d);
    free(d.blk);
    free(d.extra_locals);
    if (!ok) {
        module_free(m);
        return NULL;
    }
    return m;
}

void module_free(Module *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->ntypes; i++)
        free(m->types[i].params);   /* results share this allocation */
    free(m->types);
    for (uint32_t i = 0; i < m->nimports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    free(m->func_types);
    if (m->funcs)
        for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
            free(m->funcs[i].local_types);
    free(m->funcs);
    free(m->tables);
    free(m->mems);
    free(m->global_types);
    free(m->globals);
    for (uint32_t i = 0; i < m->nexports; i++)
        free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    for (uint32_t i = 0; i < m->ncustoms; i++)
        free(m->customs[i].name);
    free(m->customs);
    free(m->module_name);
    if (m->func_names)
        for (uint32_t i = 0; i < m->nfuncs; i++)
            free(m->func_names[i]);
    free(m->func_names);
    free(m->func_declared);
    free(m->bytes);
    free(m);
}

const char *module_func_name(const Module *m, uint32_t idx, char *buf, size_t buflen)
{
    if (m && m->func_names && idx < m->nfuncs && m->func_names[idx])
        return m->func_names[idx];
    snprintf(buf, buflen, "func[%u]", idx);
    return buf;
}
