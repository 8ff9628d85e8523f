/*
 * Validator tests: modules built as byte arrays, decoded, then validated;
 * each case says whether it must validate and, if not, a piece of the
 * message (the spec test suite's wording).
 *
 * Function bodies are checked in one fixed module (see body_module) so a
 * case is just a signature and the bytes of a body.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "decode/module.h"

#include "modbuild.h"


static void put_sig(Buf *b, const char *params, const char *results)
{
    static const char map[] = "i\x7Fl\x7E" "f\x7D" "d\x7C" "r\x70" "e\x6F";
    put(b, BYTES(0x60));
    const char *lists[2] = { params, results };
    for (int k = 0; k < 2; k++) {
        put_u32(b, (uint32_t)strlen(lists[k]));
        for (const char *s = lists[k]; *s; s++)
            put(b, strchr(map, *s) + 1, 1);
    }
}

/* Decode and validate; returns NULL when valid, else the message (static). */
static const char *check_module(const Buf *m)
{
    static WasmError err;
    Module *mod = module_decode(m->d, m->n, &err);
    if (!mod) {
        ck_abort_msg("module does not decode: %s", err.msg);
        return err.msg;
    }
    bool ok = module_validate(mod, &err);
    module_free(mod);
    if (ok)
        return NULL;
    ck_assert_int_eq(err.kind, ERR_INVALID);
    return err.msg;
}

/*
 * The module every body case runs in:
 *   types   0: the case's signature, 1: (i32) -> (i32 i32), 2: [] -> [],
 *           3: (i32 i32) -> (i32)
 *   funcs   0: the case's body, 1: type 3 (exported, so declared),
 *           2: type 2 (not declared anywhere)
 *   tables  0: funcref, 1: externref
 *   memory  0: 1 page
 *   globals 0: immutable i32, 1: mutable i64
 *   elems   0: passive funcref (ref.func 1)
 *   data    0: passive, with a data count section
 */
static Buf body_module(const char *params, const char *results, const uint8_t *body, size_t len)
{
    Buf m = {0}, c = {0};
    put(&m, "\0asm\1\0\0\0", 8);
    put_u32(&c, 4);
    put_sig(&c, params, results);
    put_sig(&c, "i", "ii");
    put_sig(&c, "", "");
    put_sig(&c, "ii", "i");
    section(&m, 1, &c);
    put(&c, BYTES(3, 0, 3, 2));
    section(&m, 3, &c);
    put(&c, BYTES(2, 0x70, 0, 1, 0x6F, 0, 1));
    section(&m, 4, &c);
    put(&c, BYTES(1, 0, 1));
    section(&m, 5, &c);
    put(&c, BYTES(2, 0x7F, 0, 0x41, 0, 0x0B, 0x7E, 1, 0x42, 0, 0x0B));
    section(&m, 6, &c);
    put(&c, BYTES(1, 1, 'f', 0, 1));
    section(&m, 7, &c);
    put(&c, BYTES(1, 1, 0, 1, 1));    /* passive, elemkind funcref, [1] */
    section(&m, 9, &c);
    put(&c, BYTES(1));
    section(&m, 12, &c);
    put_u32(&c, 3);
    put_u32(&c, (uint32_t)len);
    put(&c, body, len);
    put(&c, BYTES(7, 0, 0x20, 0, 0x20, 1, 0x6A, 0x0B));
    put(&c, BYTES(2, 0, 0x0B));
    section(&m, 10, &c);
    put(&c, BYTES(1, 1, 1, 'x'));
    section(&m, 11, &c);
    free(c.d);
    return m;
}

typedef struct {
    const char *name;
    const char *params, *results;
    const uint8_t *body;   /* locals, instructions, final end */
    size_t len;
    const char *err;       /* NULL: must validate */
} BodyCase;

#define OK NULL
#define MISMATCH "type mismatch"

static const BodyCase body_cases[] = {
    /* plain numeric ops, from the `sig` column */
    { "i32.add", "ii", "i", BYTES(0, 0x20, 0, 0x20, 1, 0x6A, 0x0B), OK },
    { "i32.add of i64", "il", "i", BYTES(0, 0x20, 0, 0x20, 1, 0x6A, 0x0B), "expected i32, found i64" },
    { "i32.add short", "i", "i", BYTES(0, 0x20, 0, 0x6A, 0x0B), MISMATCH },
    { "conversion", "d", "l", BYTES(0, 0x20, 0, 0xB0, 0x0B), OK },
    { "compare result", "ff", "f", BYTES(0, 0x20, 0, 0x20, 1, 0x5B, 0x0B), "expected f32, found i32" },
    { "trunc_sat", "d", "i", BYTES(0, 0x20, 0, 0xFC, 2, 0x0B), OK },
    { "missing result", "", "i", BYTES(0, 0x0B), MISMATCH },
    { "extra value", "", "", BYTES(0, 0x41, 1, 0x0B), MISMATCH },
    { "drop empty", "", "", BYTES(0, 0x1A, 0x0B), MISMATCH },
    { "nop", "", "", BYTES(0, 0x01, 0x0B), OK },

    /* stack-polymorphism */
    { "unreachable then add", "", "", BYTES(0, 0x00, 0x6A, 0x1A, 0x0B), OK },
    { "unreachable then result", "", "i", BYTES(0, 0x00, 0x0B), OK },
    { "unreachable still typed", "", "", BYTES(0, 0x00, 0x42, 0, 0x6A, 0x1A, 0x0B), "expected i32, found i64" },
    { "br then anything", "", "", BYTES(0, 0x02, 0x40, 0x0C, 0, 0x6A, 0x1A, 0x0B, 0x0B), OK },
    { "return then anything", "", "l", BYTES(0, 0x42, 1, 0x0F, 0x6A, 0x0B), "expected i64, found i32" },
    { "return value", "", "l", BYTES(0, 0x42, 1, 0x0F, 0x0B), OK },
    { "polymorphic block end", "", "", BYTES(0, 0x02, 0x7F, 0x00, 0x0B, 0x1A, 0x0B), OK },
    { "unreachable keeps base", "", "", BYTES(0, 0x41, 0, 0x02, 0x40, 0x00, 0x1A, 0x1A, 0x0B, 0x1A, 0x0B), OK },
    { "polymorphic select", "", "", BYTES(0, 0x00, 0x1B, 0x1A, 0x0B), OK },

    /* blocks and block types */
    { "block result", "", "i", BYTES(0, 0x02, 0x7F, 0x41, 1, 0x0B, 0x0B), OK },
    { "block result wrong", "", "i", BYTES(0, 0x02, 0x7F, 0x42, 1, 0x0B, 0x0B), "expected i32, found i64" },
    { "block sees no outer values", "", "i", BYTES(0, 0x41, 1, 0x02, 0x7F, 0x0B, 0x0B), MISMATCH },
    { "multi-value block", "", "i", BYTES(0, 0x41, 1, 0x02, 1, 0x41, 2, 0x0B, 0x6A, 0x0B), OK },
    { "multi-value block param", "", "", BYTES(0, 0x02, 1, 0x41, 2, 0x0B, 0x1A, 0x1A, 0x0B), MISMATCH },
    { "unknown block type", "", "", BYTES(0, 0x02, 9, 0x0B, 0x0B), "unknown type" },
    { "loop label is params", "", "", BYTES(0, 0x41, 0, 0x03, 1, 0x0C, 0, 0x0B, 0x1A, 0x1A, 0x0B), OK },
    { "loop br carries params", "", "", BYTES(0, 0x41, 0, 0x03, 1, 0x42, 0, 0x0C, 0, 0x0B, 0x1A, 0x1A, 0x0B),
      "expected i32, found i64" },
    { "if else", "i", "i", BYTES(0, 0x20, 0, 0x04, 0x7F, 0x41, 1, 0x05, 0x41, 2, 0x0B, 0x0B), OK },
    { "if needs i32", "l", "", BYTES(0, 0x20, 0, 0x04, 0x40, 0x0B, 0x0B), "expected i32, found i64" },
    { "if without else, result", "i", "i", BYTES(0, 0x20, 0, 0x04, 0x7F, 0x41, 1, 0x0B, 0x0B), MISMATCH },
    { "if without else, params!=results", "", "",
      BYTES(0, 0x41, 0, 0x41, 0, 0x41, 1, 0x04, 3, 0x6A, 0x0B, 0x1A, 0x0B), MISMATCH },
    { "if without else, empty", "i", "", BYTES(0, 0x20, 0, 0x04, 2, 0x01, 0x0B, 0x0B), OK },
    { "else branch typed", "i", "i", BYTES(0, 0x20, 0, 0x04, 0x7F, 0x41, 1, 0x05, 0x42, 2, 0x0B, 0x0B),
      "expected i32, found i64" },

    /* branches */
    { "br_if", "i", "i", BYTES(0, 0x02, 0x7F, 0x41, 1, 0x20, 0, 0x0D, 0, 0x0B, 0x0B), OK },
    { "br_if value type", "i", "i", BYTES(0, 0x02, 0x7F, 0x42, 1, 0x20, 0, 0x0D, 0, 0x1A, 0x41, 0, 0x0B, 0x0B),
      "expected i32, found i64" },
    { "unknown label", "", "", BYTES(0, 0x0C, 1, 0x0B), "unknown label" },
    { "br to function", "", "i", BYTES(0, 0x41, 1, 0x0C, 0, 0x0B), OK },
    { "br_table", "i", "i",
      BYTES(0, 0x02, 0x7F, 0x02, 0x7F, 0x41, 7, 0x20, 0, 0x0E, 2, 0, 1, 0, 0x0B, 0x0B, 0x0B), OK },
    { "br_table arity", "i", "",
      BYTES(0, 0x02, 0x40, 0x02, 0x7F, 0x41, 7, 0x20, 0, 0x0E, 1, 0, 1, 0x0B, 0x1A, 0x0B, 0x0B),
      "type mismatch" },
    { "br_table unreachable", "", "",
      BYTES(0, 0x02, 0x40, 0x02, 0x7F, 0x00, 0x0E, 1, 0, 1, 0x0B, 0x1A, 0x0B, 0x0B), "type mismatch" },
    { "br_table polymorphic ok", "", "i",
      BYTES(0, 0x02, 0x7F, 0x02, 0x7F, 0x00, 0x0E, 1, 0, 1, 0x0B, 0x0B, 0x0B), OK },
    { "br_table unknown label", "i", "", BYTES(0, 0x20, 0, 0x0E, 1, 0, 5, 0x0B), "unknown label" },

    /* calls */
    { "call", "", "i", BYTES(0, 0x41, 1, 0x41, 2, 0x10, 1, 0x0B), OK },
    { "call args", "", "i", BYTES(0, 0x41, 1, 0x10, 1, 0x0B), MISMATCH },
    { "call unknown", "", "", BYTES(0, 0x10, 9, 0x0B), "unknown function" },
    { "call_indirect", "", "i", BYTES(0, 0x41, 1, 0x41, 2, 0x41, 0, 0x11, 3, 0, 0x0B), OK },
    { "call_indirect externref table", "", "", BYTES(0, 0x41, 0, 0x11, 2, 1, 0x0B), MISMATCH },
    { "call_indirect unknown table", "", "", BYTES(0, 0x41, 0, 0x11, 2, 5, 0x0B), "unknown table" },
    { "call_indirect unknown type", "", "", BYTES(0, 0x41, 0, 0x11, 9, 0, 0x0B), "unknown type" },

    /* parametric */
    { "select", "ii", "i", BYTES(0, 0x20, 0, 0x20, 1, 0x41, 1, 0x1B, 0x0B), OK },
    { "select mixed", "il", "i", BYTES(0, 0x20, 0, 0x20, 1, 0x41, 1, 0x1B, 0x0B), MISMATCH },
    { "select refs untyped", "", "",
      BYTES(0, 0xD0, 0x70, 0xD0, 0x70, 0x41, 1, 0x1B, 0x1A, 0x0B), MISMATCH },
    { "select typed refs", "", "",
      BYTES(0, 0xD0, 0x70, 0xD0, 0x70, 0x41, 1, 0x1C, 1, 0x70, 0x1A, 0x0B), OK },
    { "select two types", "ii", "i",
      BYTES(0, 0x20, 0, 0x20, 1, 0x41, 1, 0x1C, 2, 0x7F, 0x7F, 0x0B), "invalid result arity" },
    { "select no types", "ii", "i",
      BYTES(0, 0x20, 0, 0x20, 1, 0x41, 1, 0x1C, 0, 0x0B), "invalid result arity" },

    /* variables */
    { "locals", "i", "d", BYTES(1, 2, 0x7C, 0x20, 2, 0x21, 1, 0x20, 1, 0x0B), OK },
    { "local.tee", "i", "i", BYTES(0, 0x41, 1, 0x22, 0, 0x0B), OK },
    { "local type", "i", "", BYTES(0, 0x42, 1, 0x21, 0, 0x0B), "expected i32, found i64" },
    { "unknown local", "i", "", BYTES(1, 1, 0x7F, 0x20, 2, 0x1A, 0x0B), "unknown local" },
    { "global.get", "", "i", BYTES(0, 0x23, 0, 0x0B), OK },
    { "global.set", "", "", BYTES(0, 0x42, 1, 0x24, 1, 0x0B), OK },
    { "global immutable", "", "", BYTES(0, 0x41, 1, 0x24, 0, 0x0B), "global is immutable" },
    { "unknown global", "", "", BYTES(0, 0x23, 7, 0x1A, 0x0B), "unknown global" },

    /* memory */
    { "load", "i", "l", BYTES(0, 0x20, 0, 0x29, 3, 0, 0x0B), OK },
    { "alignment", "i", "i", BYTES(0, 0x20, 0, 0x2C, 1, 0, 0x0B), "alignment must not be larger than natural" },
    { "store", "il", "", BYTES(0, 0x20, 0, 0x20, 1, 0x3C, 0, 0, 0x0B), OK },
    { "store16 align", "il", "", BYTES(0, 0x20, 0, 0x20, 1, 0x3D, 2, 0, 0x0B), "alignment" },
    { "memory.grow", "", "i", BYTES(0, 0x41, 1, 0x40, 0, 0x0B), OK },
    { "memory.fill", "", "", BYTES(0, 0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 11, 0, 0x0B), OK },
    { "memory.init", "", "", BYTES(0, 0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 8, 0, 0, 0x0B), OK },
    { "memory.init unknown", "", "", BYTES(0, 0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 8, 1, 0, 0x0B),
      "unknown data segment" },
    { "data.drop unknown", "", "", BYTES(0, 0xFC, 9, 3, 0x0B), "unknown data segment" },

    /* references and tables */
    { "ref.func declared", "", "", BYTES(0, 0xD2, 1, 0x1A, 0x0B), OK },
    { "ref.func undeclared", "", "", BYTES(0, 0xD2, 2, 0x1A, 0x0B), "undeclared function reference" },
    { "ref.func unknown", "", "", BYTES(0, 0xD2, 9, 0x1A, 0x0B), "unknown function" },
    { "ref.is_null", "", "i", BYTES(0, 0xD0, 0x6F, 0xD1, 0x0B), OK },
    { "ref.is_null of i32", "", "i", BYTES(0, 0x41, 0, 0xD1, 0x0B), MISMATCH },
    { "ref.null type", "", "", BYTES(0, 0x41, 0, 0xD0, 0x6F, 0x26, 0, 0x0B), "expected funcref, found externref" },
    { "table.get", "", "", BYTES(0, 0x41, 0, 0x25, 1, 0x1A, 0x0B), OK },
    { "table.set", "", "", BYTES(0, 0x41, 0, 0xD0, 0x6F, 0x26, 1, 0x0B), OK },
    { "table.grow", "", "i", BYTES(0, 0xD0, 0x70, 0x41, 1, 0xFC, 15, 0, 0x0B), OK },
    { "table.fill", "", "", BYTES(0, 0x41, 0, 0xD0, 0x6F, 0x41, 1, 0xFC, 17, 1, 0x0B), OK },
    { "table.fill type", "", "", BYTES(0, 0x41, 0, 0xD0, 0x70, 0x41, 1, 0xFC, 17, 1, 0x0B), MISMATCH },
    { "table.size", "", "i", BYTES(0, 0xFC, 16, 1, 0x0B), OK },
    { "table.size unknown", "", "i", BYTES(0, 0xFC, 16, 2, 0x0B), "unknown table" },
    { "table.init", "", "", BYTES(0, 0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 12, 0, 0, 0x0B), OK },
    { "table.init type", "", "", BYTES(0, 0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 12, 0, 1, 0x0B), MISMATCH },
    { "table.copy type", "", "", BYTES(0, 0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 14, 0, 1, 0x0B), MISMATCH },
    { "elem.drop", "", "", BYTES(0, 0xFC, 13, 0, 0x0B), OK },
    { "elem.drop unknown", "", "", BYTES(0, 0xFC, 13, 1, 0x0B), "unknown elem segment" },
};

START_TEST(test_body_case)
{
    const BodyCase *c = &body_cases[_i];
    Buf m = body_module(c->params, c->results, c->body, c->len);
    const char *msg = check_module(&m);
    if (!c->err)
        ck_assert_msg(msg == NULL, "%s: expected valid, got: %s", c->name, msg);
    else
        ck_assert_msg(msg && strstr(msg, c->err), "%s: expected \"%s\", got: %s", c->name, c->err,
                      msg ? msg : "valid");
    free(m.d);
}
END_TEST

START_TEST(test_message_says_where)
{
    /* Function 0, at the i64.const... i32.add: the offset is the add's. */
    const uint8_t body[] = { 0, 0x41, 1, 0x42, 1, 0x6A, 0x1A, 0x0B };
    Buf m = body_module("", "", body, sizeof body);
    WasmError err;
    Module *mod = module_decode(m.d, m.n, &err);
    ck_assert_ptr_nonnull(mod);
    ck_assert(!module_validate(mod, &err));
    ck_assert_int_eq(err.kind, ERR_INVALID);
    ck_assert_msg(strstr(err.msg, "code section, function 0"), "%s", err.msg);
    ck_assert_uint_eq(err.offset, mod->funcs[0].code_offset + 4);
    ck_assert_uint_eq(m.d[err.offset], 0x6A);
    module_free(mod);
    free(m.d);
}
END_TEST

START_TEST(test_deep_nesting)
{
    /* 10000 nested blocks with results: the stacks grow as needed. */
    Buf b = {0};
    put(&b, BYTES(0));
    for (int i = 0; i < 10000; i++)
        put(&b, BYTES(0x02, 0x7F));
    put(&b, BYTES(0x41, 5));
    for (int i = 0; i < 10000; i++)
        put(&b, BYTES(0x0B));
    put(&b, BYTES(0x0B));
    Buf m = body_module("", "i", b.d, b.n);
    ck_assert_ptr_null(check_module(&m));
    free(m.d);
    free(b.d);
}
END_TEST

/* ---- module-level rules ---- */

typedef struct {
    const char *name;
    const uint8_t *bytes;   /* the whole module after the header */
    size_t len;
    const char *err;
} ModCase;

static const ModCase mod_cases[] = {
    { "two memories", BYTES(5, 5, 2, 0, 1, 0, 1), "multiple memories" },
    { "imported and defined memory",
      BYTES(2, 8, 1, 1, 'a', 1, 'b', 2, 0, 0, 5, 3, 1, 0, 1), "multiple memories" },
    { "memory too big", BYTES(5, 5, 1, 0, 0x81, 0x80, 4), "memory size must be at most 65536 pages" },
    { "memory max too big", BYTES(5, 6, 1, 1, 0, 0x81, 0x80, 4), "memory size must be at most 65536 pages" },
    { "memory 65536 ok", BYTES(5, 5, 1, 0, 0x80, 0x80, 4), NULL },
    { "memory min > max", BYTES(5, 4, 1, 1, 2, 1), "size minimum must not be greater than maximum" },
    { "table min > max", BYTES(4, 5, 1, 0x70, 1, 2, 1), "size minimum must not be greater than maximum" },
    { "table huge ok", BYTES(4, 8, 1, 0x70, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F), NULL },
    { "unknown func type", BYTES(1, 4, 1, 0x60, 0, 0, 3, 2, 1, 1, 10, 4, 1, 2, 0, 0x0B), "unknown type" },
    { "unknown import type", BYTES(2, 7, 1, 1, 'a', 1, 'b', 0, 0), "unknown type" },
    { "duplicate export",
      BYTES(1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 7, 9, 2, 1, 'a', 0, 0, 1, 'a', 0, 0, 10, 4, 1, 2, 0, 0x0B),
      "duplicate export name" },
    { "distinct exports",
      BYTES(1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 7, 9, 2, 1, 'a', 0, 0, 1, 'b', 0, 0, 10, 4, 1, 2, 0, 0x0B), NULL },
    { "export unknown function", BYTES(7, 5, 1, 1, 'a', 0, 0), "unknown function" },
    { "export unknown memory", BYTES(7, 5, 1, 1, 'a', 2, 0), "unknown memory" },
    { "export unknown global", BYTES(7, 5, 1, 1, 'a', 3, 0), "unknown global" },
    { "start", BYTES(1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 8, 1, 0, 10, 4, 1, 2, 0, 0x0B), NULL },
    { "start with params",
      BYTES(1, 5, 1, 0x60, 1, 0x7F, 0, 3, 2, 1, 0, 8, 1, 0, 10, 4, 1, 2, 0, 0x0B), "start function" },
    { "start unknown", BYTES(8, 1, 0), "unknown function" },
    { "global init type", BYTES(6, 6, 1, 0x7F, 0, 0x42, 0, 0x0B), "type mismatch" },
    { "global init non-constant",
      BYTES(6, 7, 1, 0x7F, 0, 0x41, 0, 0x68, 0x0B), "constant expression required" },
    { "global init two values",
      BYTES(6, 8, 1, 0x7F, 0, 0x41, 0, 0x41, 0, 0x0B), "type mismatch" },
    { "global init empty", BYTES(6, 4, 1, 0x7F, 0, 0x0B), "type mismatch" },
    { "global.get of defined global",
      BYTES(6, 11, 2, 0x7F, 0, 0x41, 0, 0x0B, 0x7F, 0, 0x23, 0, 0x0B), "unknown global 0" },
    { "global.get of imported global",
      BYTES(2, 8, 1, 1, 'a', 1, 'b', 3, 0x7F, 0, 6, 6, 1, 0x7F, 0, 0x23, 0, 0x0B), NULL },
    { "global.get of mutable import",
      BYTES(2, 8, 1, 1, 'a', 1, 'b', 3, 0x7F, 1, 6, 6, 1, 0x7F, 0, 0x23, 0, 0x0B), "constant expression required" },
    { "global ref.func", BYTES(1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 6, 6, 1, 0x70, 0, 0xD2, 0, 0x0B,
                               10, 4, 1, 2, 0, 0x0B), NULL },
    { "global ref.func unknown", BYTES(6, 6, 1, 0x70, 0, 0xD2, 0, 0x0B), "unknown function" },
    { "elem unknown table", BYTES(9, 6, 1, 0, 0x41, 0, 0x0B, 0), "unknown table" },
    { "elem offset type", BYTES(4, 4, 1, 0x70, 0, 1, 9, 6, 1, 0, 0x42, 0, 0x0B, 0), "type mismatch" },
    { "elem into externref table",
      BYTES(4, 4, 1, 0x6F, 0, 1, 9, 6, 1, 0, 0x41, 0, 0x0B, 0), "type mismatch" },
    { "elem externref exprs",
      BYTES(4, 4, 1, 0x6F, 0, 1, 9, 11, 1, 6, 0, 0x41, 0, 0x0B, 0x6F, 1, 0xD0, 0x6F, 0x0B), NULL },
    { "elem item type", BYTES(9, 7, 1, 5, 0x70, 1, 0xD0, 0x6F, 0x0B), "type mismatch" },
    { "elem item unknown function", BYTES(9, 5, 1, 1, 0, 1, 7), "unknown function" },
    { "data unknown memory", BYTES(11, 6, 1, 0, 0x41, 0, 0x0B, 0), "unknown memory" },
    { "data offset type", BYTES(5, 3, 1, 0, 1, 11, 6, 1, 0, 0x42, 0, 0x0B, 0), "type mismatch" },
    { "data offset non-constant",
      BYTES(5, 3, 1, 0, 1, 11, 7, 1, 0, 0x41, 0, 0x68, 0x0B, 0), "constant expression required" },
    { "passive data without memory", BYTES(11, 3, 1, 1, 0), NULL },
    { "load without memory",
      BYTES(1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 10, 1, 8, 0, 0x41, 0, 0x28, 2, 0, 0x1A, 0x0B), "unknown memory" },
};

START_TEST(test_module_case)
{
    const ModCase *c = &mod_cases[_i];
    Buf m = {0};
    put(&m, "\0asm\1\0\0\0", 8);
    put(&m, c->bytes, c->len);
    const char *msg = check_module(&m);
    if (!c->err)
        ck_assert_msg(msg == NULL, "%s: expected valid, got: %s", c->name, msg);
    else
        ck_assert_msg(msg && strstr(msg, c->err), "%s: expected \"%s\", got: %s", c->name, c->err,
                      msg ? msg : "valid");
    free(m.d);
}
END_TEST

START_TEST(test_validate_twice)
{
    /* Validation only reads the module: it can be run again (or from threads). */
    const uint8_t body[] = { 0, 0x20, 0, 0x20, 1, 0x6A, 0x0B };
    Buf m = body_module("ii", "i", body, sizeof body);
    WasmError err;
    Module *mod = module_decode(m.d, m.n, &err);
    ck_assert_ptr_nonnull(mod);
    ck_assert(module_validate(mod, &err));
    ck_assert(module_validate(mod, NULL));
    ck_assert_int_eq(err.kind, ERR_NONE);
    module_free(mod);
    free(m.d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("bodies");
    tcase_add_loop_test(tc, test_body_case, 0, (int)(sizeof body_cases / sizeof body_cases[0]));
    tcase_add_test(tc, test_message_says_where);
    tcase_add_test(tc, test_deep_nesting);
    suite_add_tcase(s, tc);
    tc = tcase_create("module");
    tcase_add_loop_test(tc, test_module_case, 0, (int)(sizeof mod_cases / sizeof mod_cases[0]));
    tcase_add_test(tc, test_validate_twice);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
