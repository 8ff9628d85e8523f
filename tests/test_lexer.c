/*
 * Tests of the text-format lexer (src/decode/wat_lex.c): token kinds and
 * positions, comments, strings and their escapes, and the conversions of
 * integer and float literals, including their edge values.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/wat_lex.h"

/* Lex all of `src`; returns the number of tokens (EOF included) or -1 on error. */
static int lex_all(const char *src, WatToken *toks, int max, WasmError *err)
{
    WatLexer lx;
    wat_lex_init(&lx, src, strlen(src), "t.wat");
    for (int n = 0; n < max; n++) {
        if (!wat_lex_next(&lx, &toks[n], err)) return -1;
        if (toks[n].kind == TOK_EOF) return n + 1;
    }
    return max;
}

static WatTokKind kind_of(const char *src)
{
    WatToken t[4];
    WasmError err;
    ck_assert_int_eq(lex_all(src, t, 4, &err), 2);
    return t[0].kind;
}

static bool lex_fails(const char *src, const char *msg)
{
    WatToken t[16];
    WasmError err;
    if (lex_all(src, t, 16, &err) >= 0) return false;
    ck_assert_int_eq(err.kind, ERR_MALFORMED);
    if (!strstr(err.msg, msg)) {
        fprintf(stderr, "%s: got \"%s\"\n", src, err.msg);
        return false;
    }
    return true;
}

/* ---- tokens ---- */

START_TEST(token_kinds)
{
    WatToken t[16];
    WasmError err;
    int n = lex_all("(module $m \"s\" 42 -1.5 i32.add offset=4 0x 1_ )", t, 16, &err);
    ck_assert_int_eq(n, 12);
    WatTokKind want[] = { TOK_LPAREN, TOK_KEYWORD, TOK_ID, TOK_STRING, TOK_NUMBER, TOK_NUMBER,
                          TOK_KEYWORD, TOK_KEYWORD, TOK_RESERVED, TOK_RESERVED, TOK_RPAREN };
    for (int i = 0; i < 11; i++) ck_assert_int_eq(t[i].kind, want[i]);
    ck_assert_int_eq(t[2].len, 2);
    ck_assert(memcmp(t[6].text, "i32.add", 7) == 0);
}
END_TEST

START_TEST(token_numbers_and_specials)
{
    ck_assert_int_eq(kind_of("inf"), TOK_NUMBER);
    ck_assert_int_eq(kind_of("-inf"), TOK_NUMBER);
    ck_assert_int_eq(kind_of("+nan"), TOK_NUMBER);
    ck_assert_int_eq(kind_of("nan:0x7f_ffff"), TOK_NUMBER);
    ck_assert_int_eq(kind_of("nan:0x"), TOK_KEYWORD);
    ck_assert_int_eq(kind_of("0x1.8p-3"), TOK_NUMBER);
    ck_assert_int_eq(kind_of("1e10"), TOK_NUMBER);
    ck_assert_int_eq(kind_of("1.e10"), TOK_NUMBER);
    ck_assert_int_eq(kind_of("1."), TOK_NUMBER);
    ck_assert_int_eq(kind_of(".5"), TOK_RESERVED);
    ck_assert_int_eq(kind_of("1__0"), TOK_RESERVED);
    ck_assert_int_eq(kind_of("_1"), TOK_RESERVED);
    ck_assert_int_eq(kind_of("1_.5"), TOK_RESERVED);
    ck_assert_int_eq(kind_of("1._5"), TOK_RESERVED);
    ck_assert_int_eq(kind_of("0x_1"), TOK_RESERVED);
    ck_assert_int_eq(kind_of("1e"), TOK_RESERVED);
    ck_assert_int_eq(kind_of("1e+_1"), TOK_RESERVED);
    ck_assert_int_eq(kind_of("$"), TOK_RESERVED);
    ck_assert_int_eq(kind_of("$a$b"), TOK_ID);
    ck_assert_int_eq(kind_of("Abc"), TOK_RESERVED);
}
END_TEST

START_TEST(token_runs_need_separators)
{
    /* An id or keyword glued to a string is one reserved token. */
    ck_assert_int_eq(kind_of("$l\"a\""), TOK_RESERVED);
    ck_assert_int_eq(kind_of("\"a\"\"b\""), TOK_RESERVED);
    ck_assert_int_eq(kind_of("0$l"), TOK_RESERVED);
    ck_assert_int_eq(kind_of("i32.const0"), TOK_KEYWORD);
    /* Parentheses separate. */
    WatToken t[8];
    WasmError err;
    ck_assert_int_eq(lex_all("(nop)nop", t, 8, &err), 5);
    ck_assert_int_eq(t[3].kind, TOK_KEYWORD);
}
END_TEST

START_TEST(token_positions)
{
    WatToken t[8];
    WasmError err;
    ck_assert_int_eq(lex_all("(a\n  b (; x\n ;) c)", t, 8, &err), 6);
    ck_assert_uint_eq(t[1].line, 1);
    ck_assert_uint_eq(t[1].col, 2);
    ck_assert_uint_eq(t[2].line, 2);
    ck_assert_uint_eq(t[2].col, 3);
    ck_assert_uint_eq(t[3].line, 3);
    ck_assert_uint_eq(t[3].col, 5);
    ck_assert_uint_eq(t[3].offset, 16);
}
END_TEST

START_TEST(comments)
{
    WatToken t[8];
    WasmError err;
    ck_assert_int_eq(lex_all(";; line\n(;(;nested;);) a ;;x", t, 8, &err), 2);
    ck_assert_int_eq(t[0].kind, TOK_KEYWORD);
    ck_assert_int_eq(lex_all("a;;b\nc", t, 8, &err), 3);
    ck_assert_int_eq(lex_all("(;;)", t, 8, &err), 1);
    /* A line comment ends at LF, CR or CR LF; each counts one line. */
    ck_assert_int_eq(lex_all(";;a\rb;;c\r\nd", t, 8, &err), 3);
    ck_assert_uint_eq(t[0].line, 2);
    ck_assert_uint_eq(t[1].line, 3);
    ck_assert(lex_fails("(; (; ;)", "unclosed comment"));
    ck_assert(lex_fails(";; \xff\n", "malformed UTF-8"));
    ck_assert(lex_fails("a ; b", "unexpected character"));
}
END_TEST

/* ---- strings ---- */

static void check_string(const char *src, const char *want, size_t wantlen)
{
    WatToken t[4];
    WasmError err;
    ck_assert_int_eq(lex_all(src, t, 4, &err), 2);
    ck_assert_int_eq(t[0].kind, TOK_STRING);
    uint8_t *s;
    size_t n;
    ck_assert(wat_string(&t[0], &s, &n));
    ck_assert_uint_eq(n, wantlen);
    ck_assert(memcmp(s, want, n) == 0);
    free(s);
}

START_TEST(string_escapes)
{
    check_string("\"\"", "", 0);
    check_string("\"a\\tb\\nc\\r\\\"\\'\\\\\"", "a\tb\nc\r\"'\\", 9);
    check_string("\"\\00\\ff\\7F\"", "\x00\xff\x7f", 3);
    check_string("\"\\u{41}\\u{e9}\\u{20AC}\\u{1F600}\"", "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10);
    check_string("\"\\u{1_0000}\"", "\xf0\x90\x80\x80", 4);
    check_string("\"h\xc3\xa9\"", "h\xc3\xa9", 3);
}
END_TEST

START_TEST(string_errors)
{
    ck_assert(lex_fails("\"abc", "unclosed string"));
    ck_assert(lex_fails("\"a\nb\"", "unclosed string"));
    ck_assert(lex_fails("\"\\x\"", "unknown escape"));
    ck_assert(lex_fails("\"\\0\"", "unknown escape"));
    ck_assert(lex_fails("\"\\u{D800}\"", "unicode escape"));
    ck_assert(lex_fails("\"\\u{110000}\"", "unicode escape"));
    ck_assert(lex_fails("\"\\u{}\"", "unicode escape"));
    ck_assert(lex_fails("\"\xc0\x80\"", "malformed UTF-8"));
    ck_assert(lex_fails("\"\xed\xa0\x80\"", "malformed UTF-8"));
    ck_assert(lex_fails("\"\xe2\x82\"", "malformed UTF-8"));
    ck_assert(lex_fails("\"\x01\"", "control character"));
    ck_assert(lex_fails("\"\t\"", "control character"));
    WasmError err;
    WatToken t[4];
    ck_assert_int_eq(lex_all("\n  \"\\q\"", t, 4, &err), -1);
    ck_assert_str_eq(err.msg, "t.wat:2:4: unknown escape sequence");
}
END_TEST

START_TEST(utf8_names)
{
    ck_assert(wat_utf8_valid((const uint8_t *)"abc\xc3\xa9", 5));
    ck_assert(!wat_utf8_valid((const uint8_t *)"\xff", 1));
    ck_assert(!wat_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
}
END_TEST

/* ---- integers ---- */

#define U32(s, v) do { uint32_t x; ck_assert(wat_parse_u32(s, strlen(s), &x)); ck_assert_uint_eq(x, v); } while (0)
#define I32(s, v) do { uint32_t x; ck_assert(wat_parse_i32(s, strlen(s), &x)); ck_assert_uint_eq(x, v); } while (0)
#define I64(s, v) do { uint64_t x; ck_assert(wat_parse_i64(s, strlen(s), &x)); ck_assert_uint_eq(x, v); } while (0)
#define NO_U32(s) do { uint32_t x; ck_assert(!wat_parse_u32(s, strlen(s), &x)); } while (0)
#define NO_I32(s) do { uint32_t x; ck_assert(!wat_parse_i32(s, strlen(s), &x)); } while (0)
#define NO_I64(s) do { uint64_t x; ck_assert(!wat_parse_i64(s, strlen(s), &x)); } while (0)

START_TEST(integers)
{
    U32("0", 0);
    U32("4294967295", 0xFFFFFFFFu);
    U32("0xFFFF_FFFF", 0xFFFFFFFFu);
    U32("1_000", 1000);
    NO_U32("4294967296");
    NO_U32("-1");
    NO_U32("+1");
    NO_U32("1__0");
    NO_U32("1_");
    NO_U32("0x");
    NO_U32("");

    I32("-2147483648", 0x80000000u);
    I32("-0x8000_0000", 0x80000000u);
    I32("+2147483647", 0x7FFFFFFFu);
    I32("4294967295", 0xFFFFFFFFu);
    I32("-1", 0xFFFFFFFFu);
    I32("-0", 0);
    NO_I32("-2147483649");
    NO_I32("+2147483648");
    NO_I32("4294967296");
    NO_I32("1.0");

    I64("18446744073709551615", UINT64_MAX);
    I64("-9223372036854775808", UINT64_C(0x8000000000000000));
    I64("0x7fff_ffff_ffff_ffff", UINT64_C(0x7FFFFFFFFFFFFFFF));
    I64("-0x1", UINT64_MAX);
    NO_I64("18446744073709551616");
    NO_I64("-9223372036854775809");
    NO_I64("0x1_0000_0000_0000_0000");

    ck_assert(wat_is_int_literal("-0x1F", 5));
    ck_assert(!wat_is_int_literal("1e3", 3));
    ck_assert(!wat_is_int_literal("nan", 3));
}
END_TEST

/* ---- floats ---- */

#define F32(s, v) do { uint32_t x = 0; ck_assert_msg(wat_parse_f32(s, strlen(s), &x), "%s", s); \
                       ck_assert_msg(x == (uint32_t)(v), "%s: %08x", s, x); } while (0)
#define F64(s, v) do { uint64_t x = 0; ck_assert_msg(wat_parse_f64(s, strlen(s), &x), "%s", s); \
                       ck_assert_msg(x == (uint64_t)(v), "%s: %016llx", s, (unsigned long long)x); } while (0)
#define NO_F32(s) do { uint32_t x; ck_assert_msg(!wat_parse_f32(s, strlen(s), &x), "%s", s); } while (0)
#define NO_F64(s) do { uint64_t x; ck_assert_msg(!wat_parse_f64(s, strlen(s), &x), "%s", s); } while (0)

START_TEST(floats_basic)
{
    F32("0", 0);
    F32("-0", 0x80000000);
    F32("1", 0x3F800000);
    F32("1.5", 0x3FC00000);
    F32("-1e1", 0xC1200000);
    F32("1_000.000_1", 0x447A0002);
    F32("0x10", 0x41800000);
    F32("0x1p-1", 0x3F000000);
    F32("0x1.8p1", 0x40400000);
    F32("0x1.fffffep127", 0x7F7FFFFF);
    F32("0x1p-149", 0x00000001);
    F32("1e-50", 0);
    F64("1", UINT64_C(0x3FF0000000000000));
    F64("0.1", UINT64_C(0x3FB999999999999A));
    F64("0x1.fffffffffffffp1023", UINT64_C(0x7FEFFFFFFFFFFFFF));
    F64("0x1p-1074", 1);
    F64("1e308", UINT64_C(0x7FE1CCF385EBC8A0));
    F64("+0x1_0p0", UINT64_C(0x4030000000000000));
}
END_TEST

START_TEST(floats_rounding)
{
    /* Ties to even, in decimal and in hex. */
    F32("0x1.000001p0", 0x3F800000);
    F32("0x1.000003p0", 0x3F800002);
    F32("0x1.0000010000000000000000001p0", 0x3F800001);
    F32("16777217", 0x4B800000);
    F32("16777219", 0x4B800002);
    /* Parsed as double then float this would round twice and be wrong. */
    F32("1.00000005960464477550", 0x3F800001);
    F32("+0x1.00000100000000000p-50", 0x26800000);
    F64("0x1.00000000000008p0", UINT64_C(0x3FF0000000000000));
    F64("0x1.00000000000018p0", UINT64_C(0x3FF0000000000002));
    F64("9007199254740993", UINT64_C(0x4340000000000000));
    /* The largest values that still round down to the largest finite ones. */
    F32("0x1.fffffefffffffp127", 0x7F7FFFFF);
    F32("3.4028235677973366e38", 0x7F7FFFFF);
    F64("0x1.fffffffffffff7ffffp1023", UINT64_C(0x7FEFFFFFFFFFFFFF));
}
END_TEST

START_TEST(floats_special)
{
    F32("inf", 0x7F800000);
    F32("-inf", 0xFF800000);
    F32("nan", 0x7FC00000);
    F32("-nan", 0xFFC00000);
    F32("nan:0x1", 0x7F800001);
    F32("nan:0x200000", 0x7FA00000);
    F32("-nan:0x7f_ffff", 0xFFFFFFFF);
    F64("nan", UINT64_C(0x7FF8000000000000));
    F64("+nan:0x1", UINT64_C(0x7FF0000000000001));
    F64("-nan:0xf_ffff_ffff_ffff", UINT64_C(0xFFFFFFFFFFFFFFFF));
    F64("-inf", UINT64_C(0xFFF0000000000000));
    NO_F32("nan:0x0");
    NO_F32("nan:0x80_0000");
    NO_F64("nan:0x10_0000_0000_0000");
    NO_F32("infinity");
    NO_F32("nan:1");
}
END_TEST

START_TEST(floats_out_of_range)
{
    NO_F32("0x1p128");
    NO_F32("1e39");
    NO_F32("0x1.ffffffp127");
    NO_F32("3.4028236e38");
    NO_F64("0x1p1024");
    NO_F64("1e309");
    NO_F64("0x1.fffffffffffff8p1023");
    NO_F32("1.5_");
    NO_F32("0x1.p");
    NO_F64("");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lexer");
    TCase *tc = tcase_create("lexer");
    tcase_add_test(tc, token_kinds);
    tcase_add_test(tc, token_numbers_and_specials);
    tcase_add_test(tc, token_runs_need_separators);
    tcase_add_test(tc, token_positions);
    tcase_add_test(tc, comments);
    tcase_add_test(tc, string_escapes);
    tcase_add_test(tc, string_errors);
    tcase_add_test(tc, utf8_names);
    tcase_add_test(tc, integers);
    tcase_add_test(tc, floats_basic);
    tcase_add_test(tc, floats_rounding);
    tcase_add_test(tc, floats_special);
    tcase_add_test(tc, floats_out_of_range);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
