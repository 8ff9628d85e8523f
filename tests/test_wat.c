/*
 * Tests of the text-format parser (src/decode/wat*.c): small modules are
 * parsed and their binary encodings compared byte for byte with what the
 * spec's binary format prescribes; malformed modules must fail with the
 * right message at the right line and column.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/wat.h"

#define HEADER 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00

static void dump(const char *what, const uint8_t *b, size_t n)
{
    fprintf(stderr, "%s (%zu):", what, n);
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %02x", b[i]);
    fprintf(stderr, "\n");
}

static void check_bytes(const char *text, const uint8_t *want, size_t wantlen)
{
    size_t n = 0;
    WasmError err;
    uint8_t *got = wat_to_wasm(text, strlen(text), "t.wat", &n, &err);
    ck_assert_msg(got != NULL, "%s: %s", text, err.msg);
    if (n != wantlen || memcmp(got, want, n) != 0) {
        dump("got ", got, n);
        dump("want", want, wantlen);
    }
    ck_assert_uint_eq(n, wantlen);
    ck_assert(memcmp(got, want, n) == 0);
    free(got);
}
#define CHECK(text, ...) do { \
        static const uint8_t want_[] = { __VA_ARGS__ }; \
        check_bytes(text, want_, sizeof want_); \
    } while (0)

/* The code section holding one function body with no locals. */
#define CODE1(...) 0x0A, (uint8_t)(sizeof((uint8_t[]){ __VA_ARGS__ }) + 3), 0x01, \
                   (uint8_t)(sizeof((uint8_t[]){ __VA_ARGS__ }) + 1), 0x00, __VA_ARGS__

static void check_error(const char *text, const char *want)
{
    size_t n = 0;
    WasmError err;
    uint8_t *got = wat_to_wasm(text, strlen(text), "t.wat", &n, &err);
    ck_assert_msg(got == NULL, "%s: parsed", text);
    ck_assert_int_eq(err.kind, ERR_MALFORMED);
    ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s: got \"%s\", want \"%s\"",
                  text, err.msg, want);
}

/* ---- encodings ---- */

START_TEST(empty_module)
{
    CHECK("(module)", HEADER);
    CHECK("", HEADER);
    CHECK("(module $m)", HEADER, 0x00, 0x09, 0x04, 'n', 'a', 'm', 'e', 0x00, 0x02, 0x01, 'm');
}
END_TEST

START_TEST(func_add)
{
    CHECK("(module (func (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))",
          HEADER,
          0x01, 0x07, 0x01, 0x60, 0x02, 0x7F, 0x7F, 0x01, 0x7F,
          0x03, 0x02, 0x01, 0x00,
          CODE1(0x20, 0x00, 0x20, 0x01, 0x6A, 0x0B));
}
END_TEST

START_TEST(folded_and_names)
{
    /* Folded operands come first; $names resolve; the name section names
       the function and its locals. */
    CHECK("(module (func $f (param $a i32) (result i32) (local $b i64)"
          "  (i32.add (local.get $a) (i32.const -1))))",
          HEADER,
          0x01, 0x06, 0x01, 0x60, 0x01, 0x7F, 0x01, 0x7F,
          0x03, 0x02, 0x01, 0x00,
          0x0A, 0x0B, 0x01, 0x09, 0x01, 0x01, 0x7E, 0x20, 0x00, 0x41, 0x7F, 0x6A, 0x0B,
          0x00, 0x16, 0x04, 'n', 'a', 'm', 'e',
          0x01, 0x04, 0x01, 0x00, 0x01, 'f',
          0x02, 0x09, 0x01, 0x00, 0x02, 0x00, 0x01, 'a', 0x01, 0x01, 'b');
}
END_TEST

START_TEST(blocks_and_labels)
{
    const char *plain =
        "(module (func (param i32) (result i32)"
        "  block $out (result i32)"
        "    loop $l"
        "      local.get 0 br_if $l"
        "      i32.const 7 br $out"
        "    end $l"
        "    i32.const 1"
        "  end"
        "  if $i (result i32) i32.const 2 else $i i32.const 3 end $i))";
    CHECK(plain, HEADER,
          0x01, 0x06, 0x01, 0x60, 0x01, 0x7F, 0x01, 0x7F,
          0x03, 0x02, 0x01, 0x00,
          CODE1(0x02, 0x7F, 0x03, 0x40, 0x20, 0x00, 0x0D, 0x00, 0x41, 0x07, 0x0C, 0x01, 0x0B,
                0x41, 0x01, 0x0B,
                0x04, 0x7F, 0x41, 0x02, 0x05, 0x41, 0x03, 0x0B, 0x0B));
    /* The folded if: condition first, then `if`, then the arms. */
    CHECK("(module (func (param i32) (result i32)"
          "  (if $l (result i32) (local.get 0) (then (br $l (i32.const 1))) (else (i32.const 2)))))",
          HEADER,
          0x01, 0x06, 0x01, 0x60, 0x01, 0x7F, 0x01, 0x7F,
          0x03, 0x02, 0x01, 0x00,
          CODE1(0x20, 0x00, 0x04, 0x7F, 0x41, 0x01, 0x0C, 0x00, 0x05, 0x41, 0x02, 0x0B, 0x0B));
    CHECK("(module (func (block (block (br_table 0 1 0 (i32.const 0))))))",
          HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
          CODE1(0x02, 0x40, 0x02, 0x40, 0x41, 0x00, 0x0E, 0x02, 0x00, 0x01, 0x00, 0x0B, 0x0B, 0x0B));
}
END_TEST

START_TEST(block_type_index)
{
    /* A block with parameters uses a type index: here the implicit type
       [i32] -> [i32], appended after the function's own type. */
    CHECK("(module (func (i32.const 1) (block (param i32) (result i32)) drop))",
          HEADER,
          0x01, 0x09, 0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7F, 0x01, 0x7F,
          0x03, 0x02, 0x01, 0x00,
          CODE1(0x41, 0x01, 0x02, 0x01, 0x0B, 0x1A, 0x0B));
}
END_TEST

START_TEST(implicit_types)
{
    /* Inline signatures reuse a matching type, explicit ones included even
       when defined later; otherwise a type is appended after the explicit ones. */
    CHECK("(module (func (result i32) i32.const 0) (func (param i32)) (type (func (param i32)))"
          " (func (result i32) i32.const 1))",
          HEADER,
          0x01, 0x09, 0x02, 0x60, 0x01, 0x7F, 0x00, 0x60, 0x00, 0x01, 0x7F,
          0x03, 0x04, 0x03, 0x01, 0x00, 0x01,
          0x0A, 0x0E, 0x03, 0x04, 0x00, 0x41, 0x00, 0x0B, 0x02, 0x00, 0x0B, 0x04, 0x00, 0x41, 0x01, 0x0B);
}
END_TEST

START_TEST(imports_exports)
{
    CHECK("(module"
          "  (func $p (import \"m\" \"f\") (param i32))"
          "  (global (import \"m\" \"g\") (mut i64))"
          "  (func (export \"a\") (export \"b\") call $p)"
          "  (memory (export \"mem\") 1 2)"
          "  (export \"p\" (func $p)))",
          HEADER,
          0x01, 0x08, 0x02, 0x60, 0x01, 0x7F, 0x00, 0x60, 0x00, 0x00,
          0x02, 0x0E, 0x02, 0x01, 'm', 0x01, 'f', 0x00, 0x00, 0x01, 'm', 0x01, 'g', 0x03, 0x7E, 0x01,
          0x03, 0x02, 0x01, 0x01,
          0x05, 0x04, 0x01, 0x01, 0x01, 0x02,
          0x07, 0x13, 0x04, 0x01, 'a', 0x00, 0x01, 0x01, 'b', 0x00, 0x01,
          0x03, 'm', 'e', 'm', 0x02, 0x00, 0x01, 'p', 0x00, 0x00,
          CODE1(0x10, 0x00, 0x0B),
          0x00, 0x0B, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x04, 0x01, 0x00, 0x01, 'p');
}
END_TEST

START_TEST(constants_and_memargs)
{
    CHECK("(module (memory 1) (func"
          "  (i64.const -0x8000_0000_0000_0000) drop"
          "  (f32.const -nan:0x200000) drop"
          "  (f64.const 1.5) drop"
          "  (i32.load8_u offset=0x10 align=1 (i32.const 0)) drop"
          "  (i64.store (i32.const 0) (i64.const 0))))",
          HEADER,
          0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
          0x03, 0x02, 0x01, 0x00,
          0x05, 0x03, 0x01, 0x00, 0x01,
          CODE1(0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F, 0x1A,
                0x43, 0x00, 0x00, 0xA0, 0xFF, 0x1A,
                0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F, 0x1A,
                0x41, 0x00, 0x2D, 0x00, 0x10, 0x1A,
                0x41, 0x00, 0x42, 0x00, 0x37, 0x03, 0x00, 0x0B));
}
END_TEST

START_TEST(segments)
{
    /* Inline data and elements make exactly-sized memories and tables. */
    CHECK("(module (memory (data \"ab\" \"c\")) (table funcref (elem $f $f)) (func $f))",
          HEADER,
          0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
          0x03, 0x02, 0x01, 0x00,
          0x04, 0x05, 0x01, 0x70, 0x01, 0x02, 0x02,
          0x05, 0x04, 0x01, 0x01, 0x01, 0x01,
          0x09, 0x08, 0x01, 0x00, 0x41, 0x00, 0x0B, 0x02, 0x00, 0x00,
          0x0C, 0x01, 0x01,
          CODE1(0x0B),
          0x0B, 0x09, 0x01, 0x00, 0x41, 0x00, 0x0B, 0x03, 'a', 'b', 'c',
          0x00, 0x0B, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x04, 0x01, 0x00, 0x01, 'f');
    /* Passive, declarative and expression segments; memory.init uses data count. */
    CHECK("(module (table 1 externref) (memory 1) (func $f)"
          "  (elem $e funcref (ref.func $f) (item ref.null func))"
          "  (elem declare func $f)"
          "  (elem (table 0) (offset (i32.const 0)) externref (ref.null extern))"
          "  (data $d \"x\")"
          "  (func (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1)) (data.drop 0) (elem.drop $e)))",
          HEADER,
          0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
          0x03, 0x03, 0x02, 0x00, 0x00,
          0x04, 0x04, 0x01, 0x6F, 0x00, 0x01,
          0x05, 0x03, 0x01, 0x00, 0x01,
          0x09, 0x18, 0x03,
          0x05, 0x70, 0x02, 0xD2, 0x00, 0x0B, 0xD0, 0x70, 0x0B,
          0x03, 0x00, 0x01, 0x00,
          0x06, 0x00, 0x41, 0x00, 0x0B, 0x6F, 0x01, 0xD0, 0x6F, 0x0B,
          0x0C, 0x01, 0x01,
          0x0A, 0x17, 0x02, 0x02, 0x00, 0x0B,
          0x12, 0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x01, 0xFC, 0x08, 0x00, 0x00,
          0xFC, 0x09, 0x00, 0xFC, 0x0D, 0x00, 0x0B,
          0x0B, 0x04, 0x01, 0x01, 0x01, 'x',
          0x00, 0x0B, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x04, 0x01, 0x00, 0x01, 'f');
}
END_TEST

START_TEST(table_inline_expressions)
{
    /* A second table, of externref, with an inline segment of expressions:
       binary flag 6 names the table and the reference type. */
    CHECK("(module (table 0 funcref) (table externref (elem (ref.null extern) (item ref.null extern))))",
          HEADER,
          0x04, 0x08, 0x02, 0x70, 0x00, 0x00, 0x6F, 0x01, 0x02, 0x02,
          0x09, 0x0E, 0x01, 0x06, 0x01, 0x41, 0x00, 0x0B, 0x6F, 0x02, 0xD0, 0x6F, 0x0B, 0xD0, 0x6F, 0x0B);
}
END_TEST

START_TEST(call_indirect_select_tables)
{
    CHECK("(module (type $t (func (result i32))) (table $a 0 funcref) (table $b 0 funcref)"
          "  (func (result i32)"
          "    (call_indirect $b (type $t) (i32.const 0))"
          "    (select (result i32) (i32.const 1) (i32.const 2))"
          "    (table.copy $a $b (i32.const 0) (i32.const 0) (i32.const 0))"
          "    (table.init $b 0 (i32.const 0) (i32.const 0) (i32.const 0))"
          "    (drop (table.size $b))"
          "    select)"
          "  (elem func))",
          HEADER,
          0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7F,
          0x03, 0x02, 0x01, 0x00,
          0x04, 0x07, 0x02, 0x70, 0x00, 0x00, 0x70, 0x00, 0x00,
          0x09, 0x04, 0x01, 0x01, 0x00, 0x00,
          CODE1(0x41, 0x00, 0x11, 0x00, 0x01,
                0x41, 0x01, 0x41, 0x02, 0x1C, 0x01, 0x7F,
                0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x0E, 0x00, 0x01,
                0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x0C, 0x00, 0x01,
                0xFC, 0x10, 0x01, 0x1A,
                0x1B, 0x0B));
}
END_TEST

START_TEST(module_binary_and_quote)
{
    CHECK("(module binary \"\\00asm\" \"\\01\\00\\00\\00\")", HEADER);
    CHECK("(module $m binary \"\\00asm\\01\\00\\00\\00\")", HEADER);
    CHECK("(module quote \"(func\" \" (result i32) i32.const 3)\")",
          HEADER, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7F, 0x03, 0x02, 0x01, 0x00,
          CODE1(0x41, 0x03, 0x0B));
    /* Bare fields, without `(module ...)`. */
    CHECK("(global i32 (i32.const 5))", HEADER, 0x06, 0x06, 0x01, 0x7F, 0x00, 0x41, 0x05, 0x0B);
}
END_TEST

/* ---- errors ---- */

START_TEST(errors_positions)
{
    check_error("(module (func (i32.add2)))", "t.wat:1:16: unknown operator");
    check_error("(module\n  (func\n    i32.const 0x1_0000_0000))", "t.wat:3:15: constant out of range");
    check_error("(module (func br 0drop))", "t.wat:1:18: unknown operator");
    check_error("(module (func \"a\"x))", "t.wat:1:15: unknown operator");
    check_error("(module (data $l\"a\"))", "t.wat:1:15: unknown operator");
    check_error("(module (func (block $l (br_table $l0))))", "t.wat:1:35: unknown label");
    check_error("(module (func block $a end $b))", "t.wat:1:28: mismatching label");
    check_error("(module (func block end $b))", "t.wat:1:25: mismatching label");
    check_error("(module (func (local.get $x)))", "t.wat:1:26: unknown local");
    check_error("(module (func call $g))", "t.wat:1:20: unknown function");
    check_error("(module (func \"abc))", "t.wat:1:15: unclosed string");
    check_error("(module (func)", "t.wat:1:15: unexpected end of input");
}
END_TEST

START_TEST(errors_module_rules)
{
    check_error("(func) (import \"\" \"\" (global i64))", "t.wat:1:9: import after function");
    check_error("(memory 0) (func (import \"\" \"\"))", "t.wat:1:19: import after memory");
    check_error("(global i64 (i64.const 0)) (import \"\" \"\" (func))", "t.wat:1:29: import after global");
    check_error("(table 0 funcref) (table $t (import \"\" \"\") 0 funcref)", "t.wat:1:30: import after table");
    check_error("(func $f) (func $f)", "t.wat:1:17: duplicate func");
    check_error("(import \"\" \"\" (memory $m 1)) (memory $m 1)", "t.wat:1:38: duplicate memory");
    check_error("(func (param $x i32) (local $x i32))", "t.wat:1:29: duplicate local");
    check_error("(start 0) (start 0) (func)", "t.wat:1:12: multiple start sections");
    check_error("(type $t (func (param i32))) (func (type $t) (param i64))",
                "t.wat:1:42: inconsistent type");
    check_error("(func (type 3) (param i32))", "t.wat:1:13: unknown type");
    check_error("(memory 1) (func (i32.load align=3 (i32.const 0)))",
                "t.wat:1:28: alignment must be a power of two");
    check_error("(memory 0x1_0000_0000)", "t.wat:1:9: i32 constant out of range");
    check_error("(memory 1) (func (i32.load offset=-1 (i32.const 0)))",
                "t.wat:1:28: unknown operator offset=-1");
    check_error("(func (param i32) (result i32) (param i32))", "t.wat:1:33: unexpected token \"param\"");
    check_error("(func (nop) (local i32))", "t.wat:1:14: unexpected token");
    check_error("(func (f32.const nan:1))", "t.wat:1:18: unknown operator nan:1");
    check_error("(func (f32.const 0x1p128))", "t.wat:1:18: constant out of range");
    check_error("(func (f64.const nan:0x0))", "t.wat:1:18: constant out of range");
    check_error("(func (block (param $x i32)))", "t.wat:1:21: unexpected token");
    check_error("(import \"\\ff\" \"\" (func))", "t.wat:1:9: malformed UTF-8 encoding");
    check_error("(module quote \"(func (nop)\")", "t.wat:1:12: unexpected end of input");
}
END_TEST

START_TEST(numeric_type_index_is_left_to_validator)
{
    /* `(type 5)` alone is well formed text; the validator rejects it. */
    size_t n;
    WasmError err;
    const char *text = "(func (type 5))";
    uint8_t *b = wat_to_wasm(text, strlen(text), "t.wat", &n, &err);
    ck_assert_ptr_nonnull(b);
    free(b);
    /* The largest index is an index too, not "no type given". */
    CHECK("(type (func)) (func (call_indirect (type 0xffffffff) (i32.const 0)))",
          HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
          CODE1(0x41, 0x00, 0x11, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 0x0B));
}
END_TEST

START_TEST(simd_is_clean)
{
    /* SIMD is encoded once opcodes.def has its rows; until then it is a
       clean "unknown operator", never a crash. */
    const char *text = "(func (result v128) (v128.const i32x4 1 -1 0x10 0))";
    size_t n;
    WasmError err;
    uint8_t *b = wat_to_wasm(text, strlen(text), "t.wat", &n, &err);
    if (b) {
        static const uint8_t want[] = {
            HEADER, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7B, 0x03, 0x02, 0x01, 0x00,
            CODE1(0xFD, 0x0C, 0x01, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
                  0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0B),
        };
        ck_assert_uint_eq(n, sizeof want);
        ck_assert(memcmp(b, want, n) == 0);
        free(b);
    } else {
        ck_assert_str_eq(err.msg, "t.wat:1:22: unknown operator v128.const");
    }
}
END_TEST

/* The source map follows folded instructions, whose operator is encoded
   after its operands, and names each instruction's mnemonic. */
START_TEST(source_map)
{
    const char *text = "(module (func (result i32)\n"
                       "  (i32.add\n"
                       "    (i32.const 1)\n"
                       "    (i32.const 2))))";
    size_t n, nmap;
    WasmError err;
    WatSrcPos *map;
    uint8_t *b = wat_to_wasm_map(text, strlen(text), "t.wat", &n, &err, &map, &nmap);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(nmap, 4);   /* two consts, the add, the final end */
    static const uint8_t want_op[] = { 0x41, 0x41, 0x6A };
    static const uint32_t want_line[] = { 3, 4, 2 }, want_col[] = { 6, 6, 4 };
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(b[map[i].offset], want_op[i]);
        ck_assert_uint_eq(map[i].line, want_line[i]);
        ck_assert_uint_eq(map[i].col, want_col[i]);
        ck_assert_ptr_eq(wat_srcpos_find(map, nmap, map[i].offset), &map[i]);
    }
    ck_assert_ptr_null(wat_srcpos_find(map, nmap, map[0].offset - 1));
    free(map);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wat");
    TCase *tc = tcase_create("wat");
    tcase_add_test(tc, empty_module);
    tcase_add_test(tc, func_add);
    tcase_add_test(tc, folded_and_names);
    tcase_add_test(tc, blocks_and_labels);
    tcase_add_test(tc, block_type_index);
    tcase_add_test(tc, implicit_types);
    tcase_add_test(tc, imports_exports);
    tcase_add_test(tc, constants_and_memargs);
    tcase_add_test(tc, segments);
    tcase_add_test(tc, table_inline_expressions);
    tcase_add_test(tc, call_indirect_select_tables);
    tcase_add_test(tc, module_binary_and_quote);
    tcase_add_test(tc, errors_positions);
    tcase_add_test(tc, errors_module_rules);
    tcase_add_test(tc, numeric_type_index_is_left_to_validator);
    tcase_add_test(tc, simd_is_clean);
    tcase_add_test(tc, source_map);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
