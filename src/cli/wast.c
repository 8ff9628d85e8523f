/*
 * The .wast script runner: reads a spec test script, runs its commands
 * against one store and one execution context, and counts the outcomes.
 *
 * The script is lexed whole with the shared WAT lexer first, and every '('
 * is paired with its ')', so a command that the runner cannot make sense of
 * fails on its own and the next command still runs.  Module forms are
 * handed to wat_to_wasm as source text (text modules, quote) or decoded
 * from their strings (binary), so the module pipeline is the real one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli/wast.h"
#include "decode/wat.h"
#include "decode/wat_lex.h"
#include "interp/store.h"   /* lw_instance_export_n: export names may hold NUL bytes */

typedef struct {
    char *name;            /* "$M" as written */
    lw_instance *inst;
} NamedInstance;

typedef struct {
    const char *file;
    char *src;
    size_t len;
    WatToken *toks;        /* ends with TOK_EOF */
    size_t ntoks;
    size_t *close;         /* for each TOK_LPAREN, the index of its TOK_RPAREN */

    lw_store *store;
    lw_exec *ex;
    lw_module **mods;      /* every module loaded, freed after the store */
    size_t nmods, capmods;
    NamedInstance *named;
    size_t nnamed, capnamed;
    lw_instance *current;  /* the last module defined: target of unnamed actions */

    int64_t fuel_slice;
    bool verbose;
    unsigned passed, failed;
} Wast;

/* ---- small helpers ---- */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "leonardo: out of memory\n");
        exit(2);
    }
    return q;
}

static bool tok_eq(const WatToken *t, const char *s)
{
    size_t n = strlen(s);
    return t->len == n && memcmp(t->text, s, n) == 0;
}

static bool tok_is(const WatToken *t, WatTokKind kind, const char *s)
{
    return t->kind == kind && tok_eq(t, s);
}

/* The child after child `j` of a form: skips a whole sub-form. */
static size_t next_child(const Wast *w, size_t j)
{
    return w->toks[j].kind == TOK_LPAREN ? w->close[j] + 1 : j + 1;
}

static void vsnprintf_trunc(char *buf, size_t n, const char *fmt, va_list ap)
{
    if (n)
        vsnprintf(buf, n, fmt, ap);
}

static void set_msg(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_msg(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf_trunc(buf, n, fmt, ap);
    va_end(ap);
}

/* The command name of the form whose '(' is toks[cmd], for messages. */
static void cmd_name(const Wast *w, size_t cmd, char *buf, size_t n)
{
    const WatToken *k = &w->toks[cmd + 1];
    if (k->kind != TOK_KEYWORD) {
        set_msg(buf, n, "command");
        return;
    }
    size_t len = k->len < n ? k->len : n - 1;
    memcpy(buf, k->text, len);
    buf[len] = '\0';
}

static void fail(Wast *w, size_t cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(Wast *w, size_t cmd, const char *fmt, ...)
{
    char name[64], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf_trunc(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cmd_name(w, cmd, name, sizeof name);
    const WatToken *t = &w->toks[cmd];
    printf("%s:%u:%u: %s: FAIL: %s\n", w->file, t->line, t->col, name, msg);
    w->failed++;
}

static void pass(Wast *w, size_t cmd)
{
    w->passed++;
    if (w->verbose) {
        char name[64];
        cmd_name(w, cmd, name, sizeof name);
        const WatToken *t = &w->toks[cmd];
        printf("%s:%u:%u: %s: ok\n", w->file, t->line, t->col, name);
    }
}

/* Decode a string token into a NUL-terminated malloc'd C string. */
static char *tok_cstring(const WatToken *t, size_t *len_out)
{
    uint8_t *s;
    size_t len;
    if (t->kind != TOK_STRING || !wat_string(t, &s, &len))
        return NULL;
    if (len_out)
        *len_out = len;
    return (char *)s;
}

/* ---- lexing the whole script ---- */

static bool lex_script(Wast *w, char *err, size_t errlen)
{
    WatLexer lx;
    size_t cap = 0;
    wat_lex_init(&lx, w->src, w->len, w->file);
    for (;;) {
        if (w->ntoks == cap) {
            cap = cap ? cap * 2 : 1024;
            w->toks = xrealloc(w->toks, cap * sizeof *w->toks);
        }
        WasmError e = {0};
        WatToken *t = &w->toks[w->ntoks];
        if (!wat_lex_next(&lx, t, &e)) {
            set_msg(err, errlen, "%s", e.msg[0] ? e.msg : "lexical error");
            return false;
        }
        w->ntoks++;
        if (t->kind == TOK_EOF)
            break;
    }

    /* Pair the parentheses so that every command has a known extent. */
    w->close = xrealloc(NULL, w->ntoks * sizeof *w->close);
    size_t *stack = xrealloc(NULL, w->ntoks * sizeof *stack);
    size_t depth = 0;
    bool ok = true;
    for (size_t i = 0; i < w->ntoks && ok; i++) {
        const WatToken *t = &w->toks[i];
        w->close[i] = 0;
        if (t->kind == TOK_LPAREN) {
            stack[depth++] = i;
        } else if (t->kind == TOK_RPAREN) {
            if (depth == 0) {
                set_msg(err, errlen, "%s:%u:%u: unexpected ')'", w->file, t->line, t->col);
                ok = false;
            } else {
                w->close[stack[--depth]] = i;
            }
        } else if (t->kind == TOK_EOF && depth > 0) {
            const WatToken *o = &w->toks[stack[depth - 1]];
            set_msg(err, errlen, "%s:%u:%u: unclosed '('", w->file, o->line, o->col);
            ok = false;
        }
    }
    free(stack);
    return ok;
}

/* ---- modules ---- */

static void keep_module(Wast *w, lw_module *m)
{
    if (w->nmods == w->capmods) {
        w->capmods = w->capmods ? w->capmods * 2 : 16;
        w->mods = xrealloc(w->mods, w->capmods * sizeof *w->mods);
    }
    w->mods[w->nmods++] = m;
}

static void bind_name(Wast *w, const WatToken *id, lw_instance *inst)
{
    if (w->nnamed == w->capnamed) {
        w->capnamed = w->capnamed ? w->capnamed * 2 : 8;
        w->named = xrealloc(w->named, w->capnamed * sizeof *w->named);
    }
    char *s = xrealloc(NULL, id->len + 1);
    memcpy(s, id->text, id->len);
    s[id->len] = '\0';
    w->named[w->nnamed++] = (NamedInstance){s, inst};
}

/* The instance named by `id`, or the current one if id is NULL.  The latest binding wins. */
static lw_instance *find_instance(const Wast *w, const WatToken *id)
{
    if (!id)
        return w->current;
    for (size_t k = w->nnamed; k-- > 0;) {
        const char *s = w->named[k].name;
        if (strlen(s) == id->len && memcmp(s, id->text, id->len) == 0)
            return w->named[k].inst;
    }
    return NULL;
}

/* Concatenate the string tokens in [j, end) into one malloc'd buffer. */
static bool concat_strings(const Wast *w, size_t j, size_t end, uint8_t **out, size_t *outlen,
                           char *err, size_t errlen)
{
    uint8_t *buf = xrealloc(NULL, 1);
    size_t len = 0;
    for (; j < end; j++) {
        const WatToken *t = &w->toks[j];
        uint8_t *s;
        size_t n;
        if (t->kind != TOK_STRING || !wat_string(t, &s, &n)) {
            set_msg(err, errlen, "%s:%u:%u: expected a string", w->file, t->line, t->col);
            free(buf);
            return false;
        }
        buf = xrealloc(buf, len + n + 1);
        memcpy(buf + len, s, n);
        len += n;
        free(s);
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return true;
}

/*
 * wat_to_wasm counts lines and columns from the start of the text it is
 * given, so when a module form fails, parse it again behind blank lines and
 * spaces that put it where it is in the file: the error then names the
 * file's own line and column.  Only failures pay for this.
 */
static void reparse_for_position(const Wast *w, const WatToken *open, size_t len, WasmError *we)
{
    size_t pad = (size_t)(open->line - 1) + (open->col - 1);
    char *buf = xrealloc(NULL, pad + len);
    memset(buf, '\n', open->line - 1);
    memset(buf + open->line - 1, ' ', open->col - 1);
    memcpy(buf + pad, w->src + open->offset, len);
    WasmError again = {0};
    size_t n;
    uint8_t *bytes = wat_to_wasm(buf, pad + len, w->file, &n, &again);
    free(buf);
    if (bytes)
        free(bytes);   /* cannot happen: the same text failed a moment ago */
    else
        *we = again;
}

/*
 * Load the (module ...) form whose '(' is toks[i]: parse or decode,
 * validate, translate.  NULL with err->kind LW_ERR_MALFORMED or
 * LW_ERR_INVALID when the module is bad, LW_ERR_IO when the form is one
 * this runner does not know.  *name is its $id token or NULL.
 */
static lw_module *load_module(Wast *w, size_t i, const WatToken **name, lw_error *err)
{
    const WatToken *toks = w->toks;
    size_t end = w->close[i];
    size_t j = i + 2;
    uint8_t *bytes = NULL;
    size_t nbytes = 0;
    WasmError we = {0};

    memset(err, 0, sizeof *err);
    *name = NULL;
    if (j < end && toks[j].kind == TOK_ID)
        *name = &toks[j++];

    if (j < end && tok_is(&toks[j], TOK_KEYWORD, "binary")) {
        if (!concat_strings(w, j + 1, end, &bytes, &nbytes, err->msg, sizeof err->msg)) {
            err->kind = LW_ERR_IO;
            return NULL;
        }
    } else if (j < end && tok_is(&toks[j], TOK_KEYWORD, "quote")) {
        uint8_t *text;
        size_t tlen;
        if (!concat_strings(w, j + 1, end, &text, &tlen, err->msg, sizeof err->msg)) {
            err->kind = LW_ERR_IO;
            return NULL;
        }
        /* Positions in the quoted text are relative to the quote. */
        bytes = wat_to_wasm((const char *)text, tlen, "(quote)", &nbytes, &we);
        free(text);
    } else if (j < end && toks[j].kind == TOK_KEYWORD &&
               (tok_eq(&toks[j], "definition") || tok_eq(&toks[j], "instance"))) {
        err->kind = LW_ERR_IO;
        set_msg(err->msg, sizeof err->msg, "module %.*s is not a 2.0 command",
                (int)toks[j].len, toks[j].text);
        return NULL;
    } else {
        size_t start = toks[i].offset;
        size_t stop = toks[end].offset + 1;
        bytes = wat_to_wasm(w->src + start, stop - start, w->file, &nbytes, &we);
        if (!bytes)
            reparse_for_position(w, &toks[i], stop - start, &we);
    }

    if (!bytes) {
        err->kind = we.kind == ERR_INVALID ? LW_ERR_INVALID : LW_ERR_MALFORMED;
        err->offset = we.offset;
        set_msg(err->msg, sizeof err->msg, "%s", we.msg[0] ? we.msg : "text does not parse");
        return NULL;
    }
    lw_module *m = lw_module_load(bytes, nbytes, err);
    free(bytes);
    if (m)
        keep_module(w, m);
    else if (err->kind == LW_ERR_NONE)
        err->kind = LW_ERR_MALFORMED;
    return m;
}

static const char *errkind_name(lw_errkind k)
{
    switch (k) {
    case LW_ERR_NONE: return "no error";
    case LW_ERR_MALFORMED: return "malformed";
    case LW_ERR_INVALID: return "invalid";
    case LW_ERR_LINK: return "unlinkable";
    case LW_ERR_TRAP: return "trap";
    case LW_ERR_IO: return "unsupported";
    case LW_ERR_NOEXPORT: return "no such export";
    }
    return "?";
}

/* ---- values ---- */

static const char *valtype_name(uint8_t t)
{
    switch (t) {
    case LW_I32: return "i32";
    case LW_I64: return "i64";
    case LW_F32: return "f32";
    case LW_F64: return "f64";
    case LW_V128: return "v128";
    case LW_FUNCREF: return "funcref";
    case LW_EXTERNREF: return "externref";
    }
    return "?";
}

/* ---- v128 literals ---- */

/*
 * (v128.const SHAPE LANE...) names how its 16 bytes are cut into lanes and
 * gives every lane as a scalar literal.  The bytes hold the lanes
 * little-endian, lane 0 first, whatever the shape, so one pair of helpers
 * reads and writes a lane of any width.  Comparisons go lane by lane in the
 * shape the script wrote, because that is what decides how NaN patterns
 * and lane widths apply.
 */
typedef struct {
    const char *name;
    unsigned lanes, bytes;   /* lane count and lane width in bytes: lanes * bytes == 16 */
    bool fp;                 /* float lanes (f32x4, f64x2) */
} V128Shape;

static const V128Shape v128_shapes[] = {
    {"i8x16", 16, 1, false}, {"i16x8", 8, 2, false}, {"i32x4", 4, 4, false},
    {"i64x2", 2, 8, false},  {"f32x4", 4, 4, true},  {"f64x2", 2, 8, true},
};

/* What a lane of an expected result accepts: exactly its bits, or any NaN of a class. */
typedef enum { WANT_BITS, WANT_NAN_CANONICAL, WANT_NAN_ARITHMETIC } LaneWant;

/* A parsed v128.const.  want[] is WANT_BITS except in float lanes of an expected result. */
typedef struct {
    const V128Shape *shape;
    uint8_t bytes[16];
    LaneWant want[16];
} V128Const;

/* Lane k of a v128 cut into lanes of `size` bytes. */
static uint64_t v128_lane(const uint8_t b[16], unsigned size, unsigned k)
{
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;)
        v = v << 8 | b[k * size + i];
    return v;
}

static void v128_set_lane(uint8_t b[16], unsigned size, unsigned k, uint64_t v)
{
    for (unsigned i = 0; i < size; i++)
        b[k * size + i] = (uint8_t)(v >> 8 * i);
}

/* nan:canonical or nan:arithmetic where a float literal goes (a sign is tolerated), else WANT_BITS. */
static LaneWant nan_pattern(const WatToken *t)
{
    const char *s = t->text;
    size_t n = t->len;
    if (n && (s[0] == '+' || s[0] == '-')) {
        s++;
        n--;
    }
    if (n == 13 && memcmp(s, "nan:canonical", 13) == 0)
        return WANT_NAN_CANONICAL;
    if (n == 14 && memcmp(s, "nan:arithmetic", 14) == 0)
        return WANT_NAN_ARITHMETIC;
    return WANT_BITS;
}

/* Whether `bits` (a float of width 32 or 64) matches nan:canonical / nan:arithmetic. */
static bool nan_matches(uint64_t bits, bool is64, bool canonical)
{
    uint64_t exp_quiet = is64 ? 0x7ff8000000000000ull : 0x7fc00000ull;
    uint64_t abs_mask = is64 ? 0x7fffffffffffffffull : 0x7fffffffull;
    if (canonical)
        return (bits & abs_mask) == exp_quiet;   /* either sign, zero payload beyond the quiet bit */
    return (bits & exp_quiet) == exp_quiet;      /* any NaN with the quiet bit set */
}

/*
 * An integer lane literal of `bits` bits, read as the text format reads
 * it: without a sign, 0 to 2^bits - 1; with one, -2^(bits-1) to
 * 2^(bits-1) - 1.  Hex and `_` separators come with wat_parse_i64.
 */
static bool parse_int_lane(const WatToken *t, unsigned bits, uint64_t *out)
{
    uint64_t v;
    if (t->kind != TOK_NUMBER || !wat_parse_i64(t->text, t->len, &v))
        return false;
    if (bits < 64) {
        uint64_t max = (UINT64_C(1) << bits) - 1;
        if (t->text[0] == '+' || t->text[0] == '-') {
            int64_t sv = (int64_t)v;   /* wat_parse_i64 applied the sign: two's complement */
            int64_t half = (int64_t)1 << (bits - 1);
            if (sv < -half || sv >= half)
                return false;
        } else if (v > max) {
            return false;
        }
        v &= max;
    }
    *out = v;
    return true;
}

/*
 * Parse the (v128.const SHAPE LANE...) at toks[i].  With `patterns` (an
 * expected result), a float lane may also be nan:canonical or
 * nan:arithmetic; its bytes are then left zero.
 */
static bool parse_v128(const Wast *w, size_t i, bool patterns, V128Const *c, char *why, size_t whylen)
{
    size_t end = w->close[i];
    size_t j = i + 2;   /* toks[i + 1] is v128.const; toks[end] is its ')' */
    const WatToken *sh = &w->toks[j];
    memset(c, 0, sizeof *c);
    for (size_t k = 0; k < sizeof v128_shapes / sizeof v128_shapes[0]; k++)
        if (tok_is(sh, TOK_KEYWORD, v128_shapes[k].name))
            c->shape = &v128_shapes[k];
    if (!c->shape) {
        set_msg(why, whylen, "%u:%u: expected a lane shape (i8x16 i16x8 i32x4 i64x2 f32x4 f64x2)",
                sh->line, sh->col);
        return false;
    }
    const V128Shape *s = c->shape;
    j++;

    unsigned n = 0;
    for (size_t k = j; k < end; k = next_child(w, k))
        n++;
    if (n != s->lanes) {
        set_msg(why, whylen, "%u:%u: v128.const %s takes %u lanes, got %u", w->toks[i].line,
                w->toks[i].col, s->name, s->lanes, n);
        return false;
    }
    for (unsigned k = 0; k < s->lanes; k++, j++) {
        const WatToken *t = &w->toks[j];
        uint64_t bits = 0;
        bool ok;
        if (patterns && s->fp)
            c->want[k] = nan_pattern(t);
        if (c->want[k] != WANT_BITS)
            continue;   /* a class of NaN: no bits to store */
        if (t->kind == TOK_LPAREN) {
            ok = false;
        } else if (!s->fp) {
            ok = parse_int_lane(t, s->bytes * 8, &bits);
        } else if (s->bytes == 4) {
            uint32_t f;
            ok = wat_parse_f32(t->text, t->len, &f);
            bits = f;
        } else {
            ok = wat_parse_f64(t->text, t->len, &bits);
        }
        if (!ok) {
            set_msg(why, whylen, "%u:%u: bad %s lane %.*s", t->line, t->col, s->name, (int)t->len, t->text);
            return false;
        }
        v128_set_lane(c->bytes, s->bytes, k, bits);
    }
    return true;
}

/* A float lane as the shortest literal that reads back to the same bits; NaNs as nan:0xPAYLOAD. */
static void format_float_lane(uint64_t bits, bool is64, char *buf, size_t n)
{
    unsigned mbits = is64 ? 52 : 23;
    uint64_t mant = bits & ((UINT64_C(1) << mbits) - 1);
    uint64_t expo_all = is64 ? 0x7ff : 0xff;
    const char *sign = bits >> (is64 ? 63 : 31) ? "-" : "";
    if ((bits >> mbits & expo_all) == expo_all && mant) {
        if (mant == UINT64_C(1) << (mbits - 1))
            set_msg(buf, n, "%snan", sign);   /* the canonical NaN, as the text format writes it */
        else
            set_msg(buf, n, "%snan:0x%" PRIx64, sign, mant);
        return;
    }
    double d;
    if (is64) {
        memcpy(&d, &bits, sizeof d);
    } else {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        d = f;
    }
    /* 9 (f32) or 17 (f64) digits always read back; fewer usually do and read better. */
    for (int prec = 1; prec <= 17; prec++) {
        set_msg(buf, n, "%.*g", prec, d);
        if (is64 ? strtod(buf, NULL) == d : strtof(buf, NULL) == (float)d)
            return;
    }
}

/*
 * "i32x4 1 2 3 4": the bytes b cut into lanes of shape s, integer lanes as
 * signed decimal.  With `want`, a lane that accepts a class of NaN shows
 * the class (nan:canonical) rather than its bytes.
 */
static void format_v128(const uint8_t b[16], const V128Shape *s, const LaneWant *want, char *buf, size_t n)
{
    set_msg(buf, n, "%s", s->name);
    for (unsigned k = 0; k < s->lanes; k++) {
        char lane[48];
        uint64_t v = v128_lane(b, s->bytes, k);
        if (want && want[k] != WANT_BITS) {
            set_msg(lane, sizeof lane, want[k] == WANT_NAN_CANONICAL ? "nan:canonical" : "nan:arithmetic");
        } else if (s->fp) {
            format_float_lane(v, s->bytes == 8, lane, sizeof lane);
        } else {
            uint64_t half = UINT64_C(1) << (s->bytes * 8 - 1);
            set_msg(lane, sizeof lane, "%" PRId64, (int64_t)((v ^ half) - half));   /* sign-extended */
        }
        size_t at = strlen(buf);
        set_msg(buf + at, n - at, " %s", lane);
    }
}

static void format_value(const lw_value *v, char *buf, size_t n)
{
    switch (v->type) {
    case LW_I32:
        set_msg(buf, n, "(i32.const %" PRId32 ") [0x%08" PRIx32 "]", (int32_t)v->of.i32, v->of.i32);
        break;
    case LW_I64:
        set_msg(buf, n, "(i64.const %" PRId64 ") [0x%016" PRIx64 "]", (int64_t)v->of.i64, v->of.i64);
        break;
    case LW_F32: {
        float f;
        memcpy(&f, &v->of.f32, sizeof f);
        set_msg(buf, n, "(f32.const %.9g) [0x%08" PRIx32 "]", (double)f, v->of.f32);
        break;
    }
    case LW_F64: {
        double d;
        memcpy(&d, &v->of.f64, sizeof d);
        set_msg(buf, n, "(f64.const %.17g) [0x%016" PRIx64 "]", d, v->of.f64);
        break;
    }
    case LW_FUNCREF:
        set_msg(buf, n, v->of.func ? "(ref.func)" : "(ref.null func)");
        break;
    case LW_EXTERNREF:
        if (v->of.ext)
            set_msg(buf, n, "(ref.extern %" PRIuPTR ")", v->of.ext - 1);
        else
            set_msg(buf, n, "(ref.null extern)");
        break;
    case LW_V128: {
        /* No shape to go by here (the expected value was not a v128): show the bits. */
        const uint8_t *b = v->of.v128;
        set_msg(buf, n, "(v128.const i32x4 0x%08" PRIx64 " 0x%08" PRIx64 " 0x%08" PRIx64 " 0x%08" PRIx64 ")",
                v128_lane(b, 4, 0), v128_lane(b, 4, 1), v128_lane(b, 4, 2), v128_lane(b, 4, 3));
        break;
    }
    default:
        set_msg(buf, n, "(%s value)", valtype_name(v->type));
        break;
    }
}

/* The operator keyword and, if there is one, the single literal of the const form at toks[i]. */
static bool const_parts(const Wast *w, size_t i, const WatToken **op, const WatToken **lit,
                        char *why, size_t whylen)
{
    const WatToken *t = &w->toks[i];
    size_t end = w->close[i];
    if (t->kind != TOK_LPAREN || i + 1 >= end || w->toks[i + 1].kind != TOK_KEYWORD) {
        set_msg(why, whylen, "%u:%u: expected a constant like (i32.const 1)", t->line, t->col);
        return false;
    }
    *op = &w->toks[i + 1];
    *lit = i + 2 < end ? &w->toks[i + 2] : NULL;
    if (i + 3 < end && !tok_eq(*op, "v128.const") && !tok_eq(*op, "either")) {
        set_msg(why, whylen, "%u:%u: too many operands in a constant", t->line, t->col);
        return false;
    }
    return true;
}

/* Parse the constant (an invoke argument) at toks[i]. */
static bool parse_const(const Wast *w, size_t i, lw_value *v, char *why, size_t whylen)
{
    const WatToken *op, *lit;
    if (!const_parts(w, i, &op, &lit, why, whylen))
        return false;
    memset(v, 0, sizeof *v);
    bool ok = false;
    if (tok_eq(op, "v128.const")) {
        V128Const c;
        if (!parse_v128(w, i, false, &c, why, whylen))
            return false;
        v->type = LW_V128;
        memcpy(v->of.v128, c.bytes, sizeof c.bytes);
        return true;
    }
    if (!lit) {
        set_msg(why, whylen, "%u:%u: constant without a value", op->line, op->col);
        return false;
    }
    if (tok_eq(op, "i32.const")) {
        v->type = LW_I32;
        ok = lit->kind == TOK_NUMBER && wat_parse_i32(lit->text, lit->len, &v->of.i32);
    } else if (tok_eq(op, "i64.const")) {
        v->type = LW_I64;
        ok = lit->kind == TOK_NUMBER && wat_parse_i64(lit->text, lit->len, &v->of.i64);
    } else if (tok_eq(op, "f32.const")) {
        v->type = LW_F32;
        ok = wat_parse_f32(lit->text, lit->len, &v->of.f32);
    } else if (tok_eq(op, "f64.const")) {
        v->type = LW_F64;
        ok = wat_parse_f64(lit->text, lit->len, &v->of.f64);
    } else if (tok_eq(op, "ref.null")) {
        if (tok_eq(lit, "func") || tok_eq(lit, "funcref")) {
            v->type = LW_FUNCREF;
            ok = true;
        } else if (tok_eq(lit, "extern") || tok_eq(lit, "externref")) {
            v->type = LW_EXTERNREF;
            ok = true;
        }
    } else if (tok_eq(op, "ref.extern")) {
        uint32_t n = 0;
        v->type = LW_EXTERNREF;
        /* 0 is the null externref, so host value N is N + 1. */
        ok = lit->kind == TOK_NUMBER && wat_parse_u32(lit->text, lit->len, &n);
        v->of.ext = (uintptr_t)n + 1;
    } else {
        set_msg(why, whylen, "%u:%u: unknown constant %.*s", op->line, op->col, (int)op->len, op->text);
        return false;
    }
    if (!ok)
        set_msg(why, whylen, "%u:%u: bad %.*s operand %.*s", lit->line, lit->col, (int)op->len,
                op->text, (int)lit->len, lit->text);
    return ok;
}

/*
 * Does `got` match the expected (v128.const ...) at toks[i]?  Lane by lane
 * in the shape written there: integer lanes exactly, float lanes by bits,
 * or by NaN class for nan:canonical and nan:arithmetic, as scalars are.
 */
static bool match_v128(const Wast *w, size_t i, const lw_value *got, char *why, size_t whylen)
{
    V128Const want;
    if (!parse_v128(w, i, true, &want, why, whylen))
        return false;
    if (got->type != LW_V128) {
        char gs[128];
        format_value(got, gs, sizeof gs);
        set_msg(why, whylen, "expected a v128, got %s", gs);
        return false;
    }
    const V128Shape *s = want.shape;
    for (unsigned k = 0; k < s->lanes; k++) {
        uint64_t g = v128_lane(got->of.v128, s->bytes, k);
        bool ok = want.want[k] == WANT_BITS
                      ? g == v128_lane(want.bytes, s->bytes, k)
                      : nan_matches(g, s->bytes == 8, want.want[k] == WANT_NAN_CANONICAL);
        if (!ok) {
            char gs[192], ws[192];
            format_v128(got->of.v128, s, NULL, gs, sizeof gs);
            format_v128(want.bytes, s, want.want, ws, sizeof ws);
            set_msg(why, whylen, "got %s, expected %s (lane %u differs)", gs, ws, k);
            return false;
        }
    }
    return true;
}

/* Does `got` match the expected result at toks[i]?  If not, *why says how. */
static bool match_result(const Wast *w, size_t i, const lw_value *got, char *why, size_t whylen)
{
    const WatToken *op, *lit;
    char gs[128];
    if (!const_parts(w, i, &op, &lit, why, whylen))
        return false;
    format_value(got, gs, sizeof gs);

    if (tok_eq(op, "either")) {
        /* (either r1 r2 ...) matches when any alternative does. */
        V128Const alt = {0};
        for (size_t j = i + 2; j < w->close[i]; j = next_child(w, j)) {
            if (match_result(w, j, got, why, whylen))
                return true;
            /* A v128 reads best in the shape of the first v128 alternative. */
            if (got->type == LW_V128 && !alt.shape && w->toks[j].kind == TOK_LPAREN &&
                tok_is(&w->toks[j + 1], TOK_KEYWORD, "v128.const") && parse_v128(w, j, true, &alt, why, whylen))
                format_v128(got->of.v128, alt.shape, NULL, gs, sizeof gs);
        }
        set_msg(why, whylen, "got %s, none of the alternatives", gs);
        return false;
    }
    if (tok_eq(op, "v128.const"))
        return match_v128(w, i, got, why, whylen);
    if (tok_eq(op, "ref.func")) {
        /* Function identity is not observable from here: any non-null funcref. */
        if (got->type == LW_FUNCREF && got->of.func)
            return true;
        set_msg(why, whylen, "expected (ref.func), got %s", gs);
        return false;
    }
    if (lit && (tok_eq(op, "f32.const") || tok_eq(op, "f64.const"))) {
        LaneWant nan = nan_pattern(lit);
        if (nan != WANT_BITS) {
            bool is64 = tok_eq(op, "f64.const");
            uint8_t want = is64 ? LW_F64 : LW_F32;
            uint64_t bits = is64 ? got->of.f64 : got->of.f32;
            if (got->type == want && nan_matches(bits, is64, nan == WANT_NAN_CANONICAL))
                return true;
            set_msg(why, whylen, "expected (%.*s %.*s), got %s", (int)op->len, op->text,
                    (int)lit->len, lit->text, gs);
            return false;
        }
    }

    lw_value want;
    if (!parse_const(w, i, &want, why, whylen))
        return false;
    bool eq = want.type == got->type;
    if (eq) {
        switch (want.type) {
        case LW_I32: case LW_F32: eq = want.of.i32 == got->of.i32; break;   /* floats by bits */
        case LW_I64: case LW_F64: eq = want.of.i64 == got->of.i64; break;
        case LW_FUNCREF: eq = got->of.func == NULL; break;                  /* only ref.null parses */
        case LW_EXTERNREF: eq = want.of.ext == got->of.ext; break;
        default: eq = false; break;
        }
    }
    if (!eq) {
        char ws[128];
        format_value(&want, ws, sizeof ws);
        set_msg(why, whylen, "expected %s, got %s", ws, gs);
    }
    return eq;
}

/* ---- actions ---- */

typedef enum { ACT_OK, ACT_TRAP, ACT_ERROR } ActResult;

/* Run a call to completion, resuming after every fuel-slice yield. */
static lw_status call_to_end(Wast *w, lw_func *f, const lw_value *args, uint32_t nargs)
{
    lw_status st = lw_exec_call(w->ex, f, args, nargs);
    while (st == LW_YIELD)
        st = lw_exec_resume(w->ex);
    return st;
}

/*
 * Run the (invoke ...) or (get ...) at toks[i].  ACT_OK: the results are
 * in *res (malloc'd, *nres of them).  ACT_TRAP: msg is the trap message.
 * ACT_ERROR: msg says why the action could not run at all.
 */
static ActResult run_action(Wast *w, size_t i, lw_value **res, uint32_t *nres, char *msg, size_t msglen)
{
    const WatToken *toks = w->toks;
    size_t end = w->close[i];
    *res = NULL;
    *nres = 0;
    if (toks[i].kind != TOK_LPAREN || i + 1 >= end) {
        set_msg(msg, msglen, "%u:%u: expected an action", toks[i].line, toks[i].col);
        return ACT_ERROR;
    }
    const WatToken *kw = &toks[i + 1];
    bool invoke = tok_is(kw, TOK_KEYWORD, "invoke");
    if (!invoke && !tok_is(kw, TOK_KEYWORD, "get")) {
        set_msg(msg, msglen, "%u:%u: expected invoke or get", kw->line, kw->col);
        return ACT_ERROR;
    }
    size_t j = i + 2;
    const WatToken *id = NULL;
    if (j < end && toks[j].kind == TOK_ID)
        id = &toks[j++];
    lw_instance *inst = find_instance(w, id);
    if (!inst) {
        if (id)
            set_msg(msg, msglen, "unknown module %.*s", (int)id->len, id->text);
        else
            set_msg(msg, msglen, "no current module");
        return ACT_ERROR;
    }
    size_t namelen;
    char *name = j < end ? tok_cstring(&toks[j], &namelen) : NULL;
    if (!name) {
        set_msg(msg, msglen, "%u:%u: expected an export name", toks[j].line, toks[j].col);
        return ACT_ERROR;
    }
    j++;

    lw_extern ext;
    if (namelen > UINT32_MAX || !lw_instance_export_n(inst, name, (uint32_t)namelen, &ext)) {
        set_msg(msg, msglen, "no export \"%s\"", name);
        free(name);
        return ACT_ERROR;
    }

    if (!invoke) {
        if (ext.kind != LW_EXTERN_GLOBAL || j != end) {
            set_msg(msg, msglen, "export \"%s\" is not a global", name);
            free(name);
            return ACT_ERROR;
        }
        free(name);
        *res = xrealloc(NULL, sizeof **res);
        **res = lw_global_get(ext.of.global);
        *nres = 1;
        return ACT_OK;
    }
    if (ext.kind != LW_EXTERN_FUNC) {
        set_msg(msg, msglen, "export \"%s\" is not a function", name);
        free(name);
        return ACT_ERROR;
    }

    const lw_valtype *params, *results;
    uint32_t np, nr;
    lw_func_type(ext.of.func, &params, &np, &results, &nr);

    uint32_t nargs = 0;
    for (size_t k = j; k < end; k = next_child(w, k))
        nargs++;
    lw_value *args = xrealloc(NULL, (nargs ? nargs : 1) * sizeof *args);
    ActResult r = ACT_ERROR;
    uint32_t a = 0;
    for (size_t k = j; k < end; k = next_child(w, k), a++)
        if (!parse_const(w, k, &args[a], msg, msglen))
            goto out;
    if (nargs != np) {
        set_msg(msg, msglen, "\"%s\" takes %u arguments, got %u", name, np, nargs);
        goto out;
    }
    for (a = 0; a < nargs; a++) {
        if (args[a].type != params[a]) {
            set_msg(msg, msglen, "argument %u of \"%s\" is %s, expected %s", a, name,
                    valtype_name(args[a].type), valtype_name(params[a]));
            goto out;
        }
    }

    lw_status st = call_to_end(w, ext.of.func, args, nargs);
    if (st == LW_OK) {
        *res = xrealloc(NULL, (nr ? nr : 1) * sizeof **res);
        lw_exec_results(w->ex, *res, nr);
        /* Stamp the types from the signature: the comparison goes by them. */
        for (uint32_t k = 0; k < nr; k++)
            (*res)[k].type = results[k];
        *nres = nr;
        r = ACT_OK;
    } else if (st == LW_TRAP) {
        const char *tm = lw_exec_trap_message(w->ex);
        set_msg(msg, msglen, "%s", tm ? tm : "");
        r = ACT_TRAP;
    } else {
        set_msg(msg, msglen, "the call exited (code %d)", lw_exec_exit_code(w->ex));
    }
out:
    free(args);
    free(name);
    return r;
}

/* ---- commands ---- */

static void cmd_module(Wast *w, size_t i)
{
    const WatToken *name;
    lw_error err;
    lw_module *m = load_module(w, i, &name, &err);
    if (!m) {
        fail(w, i, "module does not load (%s): %s", errkind_name(err.kind), err.msg);
        w->current = NULL;   /* later unnamed actions must not hit an older module */
        return;
    }
    lw_instance *inst = lw_instantiate(w->store, m, w->ex, &err);
    if (!inst) {
        fail(w, i, "module does not instantiate (%s): %s", errkind_name(err.kind), err.msg);
        w->current = NULL;
        return;
    }
    w->current = inst;
    if (name)
        bind_name(w, name, inst);
    pass(w, i);
}

static void cmd_register(Wast *w, size_t i)
{
    size_t end = w->close[i];
    size_t j = i + 2;
    char *name = j < end ? tok_cstring(&w->toks[j], NULL) : NULL;
    if (!name) {
        fail(w, i, "expected a module name string");
        return;
    }
    j++;
    const WatToken *id = j < end && w->toks[j].kind == TOK_ID ? &w->toks[j] : NULL;
    lw_instance *inst = find_instance(w, id);
    if (!inst && id)
        fail(w, i, "unknown module %.*s", (int)id->len, id->text);
    else if (!inst)
        fail(w, i, "no current module");
    else {
        lw_store_register(w->store, name, inst);
        pass(w, i);
    }
    free(name);
}

static void cmd_action(Wast *w, size_t i)
{
    lw_value *res;
    uint32_t nres;
    char msg[512];
    ActResult r = run_action(w, i, &res, &nres, msg, sizeof msg);
    free(res);
    if (r == ACT_OK)
        pass(w, i);
    else
        fail(w, i, "%s%s", r == ACT_TRAP ? "unexpected trap: " : "", msg);
}

static void cmd_assert_return(Wast *w, size_t i)
{
    size_t end = w->close[i];
    size_t act = i + 2;
    if (act >= end || w->toks[act].kind != TOK_LPAREN) {
        fail(w, i, "expected an action");
        return;
    }
    lw_value *res;
    uint32_t nres;
    char msg[512];
    ActResult r = run_action(w, act, &res, &nres, msg, sizeof msg);
    if (r != ACT_OK) {
        fail(w, i, "%s%s", r == ACT_TRAP ? "unexpected trap: " : "", msg);
        return;
    }
    uint32_t nwant = 0;
    for (size_t k = next_child(w, act); k < end; k = next_child(w, k))
        nwant++;
    if (nwant != nres) {
        fail(w, i, "expected %u results, got %u", nwant, nres);
        free(res);
        return;
    }
    uint32_t n = 0;
    for (size_t k = next_child(w, act); k < end; k = next_child(w, k), n++) {
        if (!match_result(w, k, &res[n], msg, sizeof msg)) {
            fail(w, i, "result %u: %s", n, msg);
            free(res);
            return;
        }
    }
    free(res);
    pass(w, i);
}

/* The expected-message string that ends an assertion, after child `j`. */
static char *assertion_text(Wast *w, size_t i, size_t j)
{
    size_t k = next_child(w, j);
    return k < w->close[i] ? tok_cstring(&w->toks[k], NULL) : NULL;
}

/* assert_trap on an action, or assert_exhaustion: the trap message must start with the text. */
static void cmd_assert_action_trap(Wast *w, size_t i)
{
    size_t act = i + 2;
    if (act >= w->close[i] || w->toks[act].kind != TOK_LPAREN) {
        fail(w, i, "expected an action");
        return;
    }
    char *want = assertion_text(w, i, act);
    if (!want) {
        fail(w, i, "expected a message string");
        return;
    }
    lw_value *res;
    uint32_t nres;
    char msg[512];
    ActResult r = run_action(w, act, &res, &nres, msg, sizeof msg);
    free(res);
    if (r == ACT_ERROR)
        fail(w, i, "%s", msg);
    else if (r == ACT_OK)
        fail(w, i, "expected trap \"%s\", but the call returned", want);
    else if (strncmp(msg, want, strlen(want)) != 0)
        fail(w, i, "expected trap \"%s\", got \"%s\"", want, msg);
    else
        pass(w, i);
    free(want);
}

/*
 * assert_malformed, assert_invalid (the module must not load, with that
 * kind of error), assert_unlinkable, assert_uninstantiable and assert_trap
 * on a module (it must load but not instantiate).  Only the kind of error
 * is checked, never the wording, except for traps.
 */
static void cmd_assert_module(Wast *w, size_t i, lw_errkind want)
{
    size_t mod = i + 2;
    if (mod >= w->close[i] || w->toks[mod].kind != TOK_LPAREN ||
        !tok_is(&w->toks[mod + 1], TOK_KEYWORD, "module")) {
        fail(w, i, "expected a module");
        return;
    }
    char *text = assertion_text(w, i, mod);
    if (!text) {
        fail(w, i, "expected a message string");
        return;
    }
    const WatToken *name;
    lw_error err;
    lw_module *m = load_module(w, mod, &name, &err);
    if (m) {
        err.kind = LW_ERR_NONE;
        if (want == LW_ERR_LINK || want == LW_ERR_TRAP) {
            lw_instance *inst = lw_instantiate(w->store, m, w->ex, &err);
            if (inst)
                err.kind = LW_ERR_NONE;
        }
    }
    if (err.kind == LW_ERR_IO)
        fail(w, i, "%s", err.msg);
    else if (err.kind != want)
        fail(w, i, "expected %s (\"%s\"), got %s%s%s", errkind_name(want), text,
             errkind_name(err.kind), err.kind ? ": " : "", err.kind ? err.msg : "");
    else if (want == LW_ERR_TRAP && !strstr(err.msg, text))
        fail(w, i, "expected trap \"%s\", got \"%s\"", text, err.msg);
    else {
        if (w->verbose)
            printf("  expected \"%s\", got: %s\n", text, err.msg);
        pass(w, i);
    }
    free(text);
}

static void run_command(Wast *w, size_t i)
{
    const WatToken *kw = &w->toks[i + 1];
    if (kw->kind != TOK_KEYWORD || i + 1 >= w->close[i]) {
        fail(w, i, "expected a command keyword");
        return;
    }
    if (tok_eq(kw, "module"))
        cmd_module(w, i);
    else if (tok_eq(kw, "register"))
        cmd_register(w, i);
    else if (tok_eq(kw, "invoke") || tok_eq(kw, "get"))
        cmd_action(w, i);
    else if (tok_eq(kw, "assert_return"))
        cmd_assert_return(w, i);
    else if (tok_eq(kw, "assert_exhaustion"))
        cmd_assert_action_trap(w, i);
    else if (tok_eq(kw, "assert_trap")) {
        size_t sub = i + 2;
        if (sub < w->close[i] && w->toks[sub].kind == TOK_LPAREN &&
            tok_is(&w->toks[sub + 1], TOK_KEYWORD, "module"))
            cmd_assert_module(w, i, LW_ERR_TRAP);
        else
            cmd_assert_action_trap(w, i);
    } else if (tok_eq(kw, "assert_malformed"))
        cmd_assert_module(w, i, LW_ERR_MALFORMED);
    else if (tok_eq(kw, "assert_invalid"))
        cmd_assert_module(w, i, LW_ERR_INVALID);
    else if (tok_eq(kw, "assert_unlinkable"))
        cmd_assert_module(w, i, LW_ERR_LINK);
    else if (tok_eq(kw, "assert_uninstantiable"))
        cmd_assert_module(w, i, LW_ERR_TRAP);
    else
        fail(w, i, "unknown command %.*s", (int)kw->len, kw->text);
}

/* Script commands; a file that starts with anything else is one inline module. */
static bool is_command(const WatToken *kw)
{
    static const char *const cmds[] = {
        "module", "register", "invoke", "get", "assert_return", "assert_trap",
        "assert_exhaustion", "assert_malformed", "assert_invalid", "assert_unlinkable",
        "assert_uninstantiable", "script", "input", "output",
    };
    if (kw->kind != TOK_KEYWORD)
        return false;
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
        if (tok_eq(kw, cmds[k]))
            return true;
    return false;
}

/* The whole file is a module's fields, as the reference interpreter allows. */
static void run_inline_module(Wast *w)
{
    WasmError we = {0};
    lw_error err;
    size_t n;
    uint8_t *bytes = wat_to_wasm(w->src, w->len, w->file, &n, &we);
    if (!bytes) {
        fail(w, 0, "inline module does not parse: %s", we.msg);
        return;
    }
    lw_module *m = lw_module_load(bytes, n, &err);
    free(bytes);
    if (!m) {
        fail(w, 0, "inline module does not load (%s): %s", errkind_name(err.kind), err.msg);
        return;
    }
    keep_module(w, m);
    lw_instance *inst = lw_instantiate(w->store, m, w->ex, &err);
    if (!inst) {
        fail(w, 0, "inline module does not instantiate (%s): %s", errkind_name(err.kind), err.msg);
        return;
    }
    w->current = inst;
    pass(w, 0);
}

/* ---- files ---- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_msg(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 65536;
            buf = xrealloc(buf, cap + 1);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    if (bad)
        set_msg(err, errlen, "%s", strerror(errno));
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Run one script file; adds to the totals and says whether all of it passed. */
static bool run_file(const char *path, int64_t slice, bool verbose, unsigned *tpass, unsigned *tfail)
{
    Wast w = {.file = path, .fuel_slice = slice, .verbose = verbose};
    char err[512];

    w.src = read_file(path, &w.len, err, sizeof err);
    if (!w.src) {
        printf("%s: cannot read: %s\n", path, err);
        w.failed = 1;
    } else if (!lex_script(&w, err, sizeof err)) {
        printf("%s (syntax error: the script is not run)\n", err);
        w.failed = 1;
    } else {
        w.store = lw_store_new();
        spectest_define(w.store, verbose);
        w.ex = lw_exec_new(w.store, NULL);
        if (slice > 0)
            lw_exec_set_fuel_slice(w.ex, slice);
        bool inline_module = w.toks[0].kind == TOK_LPAREN && w.toks[1].kind == TOK_KEYWORD &&
                             !is_command(&w.toks[1]);
        if (inline_module)
            run_inline_module(&w);
        for (size_t i = 0; !inline_module && w.toks[i].kind != TOK_EOF; i = next_child(&w, i)) {
            if (w.toks[i].kind != TOK_LPAREN) {
                const WatToken *t = &w.toks[i];
                printf("%s:%u:%u: FAIL: syntax error: expected '(' of a command\n", path, t->line, t->col);
                w.failed++;
                break;
            }
            run_command(&w, i);
        }
        lw_exec_free(w.ex);
        lw_store_free(w.store);
    }

    printf("%s: %u passed, %u failed\n", path, w.passed, w.failed);
    fflush(stdout);
    *tpass += w.passed;
    *tfail += w.failed;

    for (size_t k = 0; k < w.nmods; k++)
        lw_module_free(w.mods[k]);
    for (size_t k = 0; k < w.nnamed; k++)
        free(w.named[k].name);
    free(w.mods);
    free(w.named);
    free(w.toks);
    free(w.close);
    free(w.src);
    return w.failed == 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: leonardo wast [-v] [--fuel-slice K] FILE.wast...\n");
    return EX_USAGE;
}

int wast_main(int argc, char **argv)
{
    bool verbose = false;
    int64_t slice = 0;
    int nfiles = 0;

    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[a], "--fuel-slice") == 0) {
            char *endp;
            if (a + 1 >= argc)
                return usage();
            errno = 0;
            long long k = strtoll(argv[++a], &endp, 10);
            if (errno || *endp || endp == argv[a] || k < 0) {
                fprintf(stderr, "leonardo wast: bad --fuel-slice value '%s'\n", argv[a]);
                return EX_USAGE;
            }
            slice = k;
        } else if (argv[a][0] == '-' && argv[a][1] != '\0') {
            fprintf(stderr, "leonardo wast: unknown option '%s'\n", argv[a]);
            return usage();
        } else {
            nfiles++;
        }
    }
    if (nfiles == 0)
        return usage();

    unsigned tpass = 0, tfail = 0;
    bool all_ok = true;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--fuel-slice") == 0) {
            a++;
            continue;
        }
        if (argv[a][0] == '-' && argv[a][1] != '\0')
            continue;
        if (!run_file(argv[a], slice, verbose, &tpass, &tfail))
            all_ok = false;
    }
    if (nfiles > 1)
        printf("total: %d files, %u passed, %u failed\n", nfiles, tpass, tfail);
    return all_ok ? 0 : 1;
}
