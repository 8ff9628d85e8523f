/*
 * Decoder tests: LEB128 limits, every section accepted and rejected, the
 * fields of a module that uses every section, and robustness (truncated
 * and corrupted modules must fail cleanly).  Modules are byte arrays.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "decode/leb128.h"
#include "decode/module.h"

#include "modbuild.h"

#define HEADER 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00

/* ---- LEB128 ---- */

enum { U32, S32, S33, S64 };

typedef struct {
    int kind;
    const uint8_t *bytes;
    size_t len;
    int status;
    int64_t value;
} LebCase;

static const LebCase leb_cases[] = {
    { U32, BYTES(0x00), LEB_OK, 0 },
    { U32, BYTES(0x7F), LEB_OK, 127 },
    { U32, BYTES(0x80, 0x01), LEB_OK, 128 },
    { U32, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x0F), LEB_OK, 0xFFFFFFFF },
    { U32, BYTES(0x80, 0x80, 0x80, 0x80, 0x00), LEB_OK, 0 },           /* padded: allowed */
    { U32, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), LEB_TOO_LONG, 0 },
    { U32, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x1F), LEB_TOO_LARGE, 0 },    /* bit 32 set */
    { U32, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x4F), LEB_TOO_LARGE, 0 },
    { U32, BYTES(0x82, 0x80, 0x80, 0x80, 0x70), LEB_TOO_LARGE, 0 },
    { U32, BYTES(0x80), LEB_END, 0 },
    { U32, BYTES(0xFF, 0xFF), LEB_END, 0 },
    { S32, BYTES(0x7F), LEB_OK, -1 },
    { S32, BYTES(0x40), LEB_OK, -64 },
    { S32, BYTES(0x3F), LEB_OK, 63 },
    { S32, BYTES(0xC0, 0x00), LEB_OK, 64 },
    { S32, BYTES(0x80, 0x80, 0x80, 0x80, 0x78), LEB_OK, INT32_MIN },
    { S32, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x07), LEB_OK, INT32_MAX },
    { S32, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x7F), LEB_OK, -1 },          /* padded with sign bits */
    { S32, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x0F), LEB_TOO_LARGE, 0 },    /* sign bit 31 set, unused bits clear */
    { S32, BYTES(0x80, 0x80, 0x80, 0x80, 0x70), LEB_TOO_LARGE, 0 },
    { S32, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F), LEB_TOO_LONG, 0 },
    { S32, BYTES(0xC0), LEB_END, 0 },
    { S33, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0x0F), LEB_OK, 0xFFFFFFFF },
    { S33, BYTES(0x80, 0x80, 0x80, 0x80, 0x70), LEB_OK, -(INT64_C(1) << 32) },
    { S33, BYTES(0x80, 0x80, 0x80, 0x80, 0x10), LEB_TOO_LARGE, 0 },
    { S33, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), LEB_TOO_LONG, 0 },
    { S64, BYTES(0x7F), LEB_OK, -1 },
    { S64, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F), LEB_OK, INT64_MIN },
    { S64, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00), LEB_OK, INT64_MAX },
    { S64, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), LEB_OK, 0 },
    { S64, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), LEB_TOO_LARGE, 0 },
    { S64, BYTES(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7E), LEB_TOO_LARGE, 0 },
    { S64, BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), LEB_TOO_LONG, 0 },
};

START_TEST(test_leb)
{
    const LebCase *c = &leb_cases[_i];
    const uint8_t *p = c->bytes, *end = c->bytes + c->len;
    int status;
    int64_t v = 0;
    if (c->kind == U32) {
        uint32_t x = 0;
        status = leb_u32(&p, end, &x);
        v = x;
    } else if (c->kind == S32) {
        int32_t x = 0;
        status = leb_s32(&p, end, &x);
        v = x;
    } else if (c->kind == S33) {
        status = leb_s33(&p, end, &v);
    } else {
        status = leb_s64(&p, end, &v);
    }
    ck_assert_int_eq(status, c->status);
    if (status == LEB_OK) {
        ck_assert_int_eq(v, c->value);
        ck_assert_ptr_eq(p, end);       /* consumed exactly */
    } else {
        ck_assert_ptr_eq(p, c->bytes);  /* cursor untouched on failure */
    }
}
END_TEST

START_TEST(test_leb_skip)
{
    const uint8_t b[] = { 0x80, 0x80, 0x01, 0x05 };
    ck_assert_ptr_eq(leb_skip(b, b + 4), b + 3);
    ck_assert_ptr_eq(leb_skip(b, b + 2), b + 2);   /* never past the end */
}
END_TEST

/* ---- whole modules: accepted or rejected with a message ---- */

typedef struct {
    const char *name;
    const uint8_t *bytes;   /* the whole binary */
    size_t len;
    const char *err;        /* NULL: must decode */
} DecCase;

/* type ()->(), one function, one memory; then a code section holding the
   one body given (locals and instructions). */
#define FUNC_PRELUDE HEADER, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1
#define FUNC_PRELUDE_DC HEADER, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1, 12, 1, 1

static const DecCase dec_cases[] = {
    /* header */
    { "empty", BYTES(0), "unexpected end" },
    { "short magic", BYTES(0, 'a', 's'), "unexpected end" },
    { "no version", BYTES(0, 'a', 's', 'm'), "unexpected end" },
    { "short version", BYTES(0, 'a', 's', 'm', 1, 0, 0), "unexpected end" },
    { "bad magic", BYTES(0, 'A', 'S', 'M', 1, 0, 0, 0), "magic header not detected" },
    { "bad version", BYTES(0, 'a', 's', 'm', 2, 0, 0, 0), "unknown binary version" },
    { "empty module", BYTES(HEADER), NULL },

    /* section framing and order */
    { "section id 13", BYTES(HEADER, 13, 0), "malformed section id" },
    { "section past the end", BYTES(HEADER, 1, 5, 0), "length out of bounds" },
    { "section left over", BYTES(HEADER, 1, 2, 0, 0), "section size mismatch" },
    { "section too short", BYTES(HEADER, 1, 1, 1), "unexpected end of section or function" },
    { "out of order", BYTES(HEADER, 3, 1, 0, 1, 1, 0), "unexpected content after last section" },
    { "repeated", BYTES(HEADER, 1, 1, 0, 1, 1, 0), "unexpected content after last section" },
    { "data count after code", BYTES(HEADER, 10, 1, 0, 12, 1, 0), "unexpected content after last section" },
    { "data count before code", BYTES(HEADER, 12, 1, 0, 10, 1, 0), NULL },
    { "customs everywhere", BYTES(HEADER, 0, 2, 1, 'a', 1, 1, 0, 0, 3, 1, 'b', 7, 3, 1, 0, 0, 2, 1, 'c'), NULL },
    { "custom name not UTF-8", BYTES(HEADER, 0, 2, 1, 0xFF), "malformed UTF-8 encoding" },
    { "custom name too long", BYTES(HEADER, 0, 2, 5, 'a'), "length out of bounds" },
    { "custom name past section", BYTES(HEADER, 0, 2, 5, 'a', 1, 1, 0), "unexpected end of section or function" },
    { "huge vector", BYTES(HEADER, 1, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F), "length out of bounds" },
    { "vector past section", BYTES(HEADER, 1, 1, 3, 0x60, 0, 0), "unexpected end of section or function" },

    /* types */
    { "multi-value type", BYTES(HEADER, 1, 7, 1, 0x60, 1, 0x7F, 2, 0x7E, 0x70), NULL },
    { "bad type form", BYTES(HEADER, 1, 4, 1, 0x61, 0, 0), "malformed function type" },
    { "type form too long", BYTES(HEADER, 1, 5, 1, 0xE0, 0x7F, 0, 0), "integer representation too long" },
    { "v128 param", BYTES(HEADER, 1, 5, 1, 0x60, 1, 0x7B, 0), NULL },
    { "bad value type", BYTES(HEADER, 1, 5, 1, 0x60, 1, 0x7A, 0), "malformed value type" },

    /* imports */
    { "import every kind",
      BYTES(HEADER, 1, 4, 1, 0x60, 0, 0,
            2, 30, 4, 1, 'm', 1, 'f', 0, 0, 1, 'm', 1, 't', 1, 0x70, 0, 1, 1, 'm', 1, 'm', 2, 1, 1, 2,
            1, 'm', 1, 'g', 3, 0x7E, 1), NULL },
    { "import kind 4", BYTES(HEADER, 2, 4, 1, 0, 0, 4), "malformed import kind" },
    { "import name overlong UTF-8", BYTES(HEADER, 2, 7, 1, 2, 0xC0, 0x80, 0, 0, 0), "malformed UTF-8 encoding" },
    { "import name surrogate", BYTES(HEADER, 2, 8, 1, 3, 0xED, 0xA0, 0x80, 0, 0, 0), "malformed UTF-8 encoding" },
    { "import name truncated UTF-8", BYTES(HEADER, 2, 6, 1, 1, 0xE2, 0, 0, 0), "malformed UTF-8 encoding" },
    { "import name beyond U+10FFFF", BYTES(HEADER, 2, 9, 1, 4, 0xF4, 0x90, 0x80, 0x80, 0, 0, 0),
      "malformed UTF-8 encoding" },
    { "import name 4-byte UTF-8", BYTES(HEADER, 1, 4, 1, 0x60, 0, 0, 2, 9, 1, 4, 0xF0, 0x9F, 0x98, 0x80, 0, 0, 0),
      NULL },

    /* tables, memories, globals, exports, start */
    { "table", BYTES(HEADER, 4, 6, 1, 0x6F, 1, 0, 0x80, 1), NULL },
    { "table reftype", BYTES(HEADER, 4, 4, 1, 0x7F, 0, 0), "malformed reference type" },
    { "limits flag 2", BYTES(HEADER, 4, 4, 1, 0x70, 2, 0), "integer too large" },
    { "limits flag too long", BYTES(HEADER, 4, 6, 1, 0x70, 0x81, 0, 0, 0), "integer representation too long" },
    { "shared memory", BYTES(HEADER, 5, 4, 1, 3, 1, 1), "integer too large" },
    { "memory limit too long", BYTES(HEADER, 5, 8, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0),
      "integer representation too long" },
    { "global", BYTES(HEADER, 6, 6, 1, 0x7E, 1, 0x42, 0x7F, 0x0B), NULL },
    { "global mutability 2", BYTES(HEADER, 6, 6, 1, 0x7F, 2, 0x41, 0, 0x0B), "malformed mutability" },
    { "global init without end", BYTES(HEADER, 6, 5, 1, 0x7F, 0, 0x41, 0), "END opcode expected" },
    { "export kind 4", BYTES(HEADER, 7, 5, 1, 1, 'a', 4, 0), "malformed export kind" },
    { "export name not UTF-8", BYTES(HEADER, 7, 5, 1, 1, 0x80, 0, 0), "malformed UTF-8 encoding" },
    { "start", BYTES(HEADER, 8, 1, 0), NULL },
    { "start index too long", BYTES(HEADER, 8, 6, 0x80, 0x80, 0x80, 0x80, 0x80, 0), "integer representation too long" },

    /* functions and code */
    { "function without code", BYTES(HEADER, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0),
      "function and code section have inconsistent lengths" },
    { "code without function", BYTES(HEADER, 10, 4, 1, 2, 0, 0x0B),
      "function and code section have inconsistent lengths" },
    { "two bodies, one function", BYTES(HEADER, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 7, 2, 2, 0, 0x0B, 2, 0, 0x0B),
      "function and code section have inconsistent lengths" },
    { "minimal function", BYTES(FUNC_PRELUDE, 10, 4, 1, 2, 0, 0x0B), NULL },
    { "locals", BYTES(FUNC_PRELUDE, 10, 8, 1, 6, 2, 3, 0x7F, 1, 0x7C, 0x0B), NULL },
    { "too many locals", BYTES(FUNC_PRELUDE, 10, 10, 1, 8, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x0B),
      "too many locals" },
    { "locals overflow u32", BYTES(FUNC_PRELUDE, 10, 16, 1, 14, 2, 0x80, 0x80, 0x80, 0x80, 0x08, 0x7F,
                                   0x80, 0x80, 0x80, 0x80, 0x08, 0x7E, 0x0B), "too many locals" },
    { "local type bad", BYTES(FUNC_PRELUDE, 10, 6, 1, 4, 1, 1, 0x40, 0x0B), "malformed value type" },
    { "missing end", BYTES(FUNC_PRELUDE, 10, 4, 1, 2, 0, 0x01), "END opcode expected" },
    { "bytes after end", BYTES(FUNC_PRELUDE, 10, 5, 1, 3, 0, 0x0B, 0x01), "section size mismatch" },
    { "body past module", BYTES(FUNC_PRELUDE, 10, 4, 1, 9, 0, 0x0B), "length out of bounds" },
    { "body past section", BYTES(FUNC_PRELUDE, 10, 4, 1, 9, 0, 0x0B, 0, 1, 0, 0, 0, 0, 0, 0), "unexpected end of section or function" },
    { "else without if", BYTES(FUNC_PRELUDE, 10, 7, 1, 5, 0, 0x02, 0x40, 0x05, 0x0B), "END opcode expected" },
    { "two elses", BYTES(FUNC_PRELUDE, 10, 11, 1, 9, 0, 0x41, 0, 0x04, 0x40, 0x05, 0x05, 0x0B, 0x0B),
      "END opcode expected" },
    { "nested blocks", BYTES(FUNC_PRELUDE, 10, 15, 1, 13, 0, 0x02, 0x40, 0x03, 0x40, 0x41, 0, 0x04, 0x40,
                             0x0B, 0x0B, 0x0B, 0x0B), NULL },
    { "illegal opcode", BYTES(FUNC_PRELUDE, 10, 5, 1, 3, 0, 0xFF, 0x0B), "illegal opcode" },
    { "illegal opcode 0x06", BYTES(FUNC_PRELUDE, 10, 5, 1, 3, 0, 0x06, 0x0B), "illegal opcode" },
    { "illegal 0xFC sub-opcode", BYTES(FUNC_PRELUDE, 10, 6, 1, 4, 0, 0xFC, 99, 0x0B), "illegal opcode" },
    { "v128.const cut short", BYTES(FUNC_PRELUDE, 10, 6, 1, 4, 0, 0xFD, 12, 0x0B), "unexpected end" },
    { "SIMD sub-opcode in a gap", BYTES(FUNC_PRELUDE, 10, 6, 1, 4, 0, 0xFD, 0x9A, 0x01, 0x0B), "illegal opcode 0xfd 154" },
    { "lane index cut short", BYTES(FUNC_PRELUDE, 10, 5, 1, 3, 0, 0xFD, 0x15), "unexpected end" },
    { "v128 block type", BYTES(FUNC_PRELUDE, 10, 7, 1, 5, 0, 0x02, 0x7B, 0x0B, 0x0B), NULL },
    { "block type index", BYTES(FUNC_PRELUDE, 10, 7, 1, 5, 0, 0x02, 0x00, 0x0B, 0x0B), NULL },
    { "block type negative", BYTES(FUNC_PRELUDE, 10, 7, 1, 5, 0, 0x02, 0x7A, 0x0B, 0x0B), "malformed block type" },
    { "block type s33 too large", BYTES(FUNC_PRELUDE, 10, 11, 1, 9, 0, 0x02, 0x80, 0x80, 0x80, 0x80, 0x10,
                                        0x0B, 0x0B), "integer too large" },
    { "memarg align 32", BYTES(FUNC_PRELUDE, 10, 10, 1, 8, 0, 0x41, 0, 0x28, 0x20, 0, 0x1A, 0x0B),
      "malformed memop flags" },
    { "memarg align 31 decodes", BYTES(FUNC_PRELUDE, 10, 10, 1, 8, 0, 0x41, 0, 0x28, 0x1F, 0, 0x1A, 0x0B), NULL },
    { "memory.size reserved byte", BYTES(FUNC_PRELUDE, 10, 7, 1, 5, 0, 0x3F, 1, 0x1A, 0x0B), "zero byte expected" },
    { "memory.grow reserved LEB", BYTES(FUNC_PRELUDE, 10, 10, 1, 8, 0, 0x41, 0, 0x40, 0x80, 0x00, 0x1A, 0x0B),
      "zero byte expected" },
    { "i32.const too large", BYTES(FUNC_PRELUDE, 10, 11, 1, 9, 0, 0x41, 0x80, 0x80, 0x80, 0x80, 0x70, 0x1A, 0x0B),
      "integer too large" },
    { "i64.const too long", BYTES(FUNC_PRELUDE, 10, 17, 1, 15, 0, 0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                  0x80, 0x80, 0x80, 0x00, 0x1A, 0x0B), "integer representation too long" },
    { "f64.const cut", BYTES(FUNC_PRELUDE, 10, 6, 1, 4, 0, 0x44, 0, 0), "unexpected end" },
    { "br_table huge", BYTES(FUNC_PRELUDE, 10, 10, 1, 8, 0, 0x0E, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0B),
      "length out of bounds" },
    { "select with two types decodes", BYTES(FUNC_PRELUDE, 10, 15, 1, 13, 0, 0x41, 0, 0x41, 0, 0x41, 0, 0x1C, 2,
                                             0x7F, 0x7F, 0x1A, 0x0B), NULL },
    { "ref.null bad type", BYTES(FUNC_PRELUDE, 10, 7, 1, 5, 0, 0xD0, 0x7F, 0x1A, 0x0B), "malformed reference type" },
    { "data.drop needs data count", BYTES(FUNC_PRELUDE, 10, 7, 1, 5, 0, 0xFC, 9, 0, 0x0B, 11, 3, 1, 1, 0),
      "data count section required" },
    { "memory.init needs data count",
      BYTES(FUNC_PRELUDE, 10, 14, 1, 12, 0, 0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 8, 0, 0, 0x0B, 11, 3, 1, 1, 0),
      "data count section required" },
    { "data.drop with data count", BYTES(FUNC_PRELUDE_DC, 10, 7, 1, 5, 0, 0xFC, 9, 0, 0x0B, 11, 3, 1, 1, 0), NULL },
    { "memory.init bad memory byte",
      BYTES(FUNC_PRELUDE_DC, 10, 14, 1, 12, 0, 0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 8, 0, 1, 0x0B, 11, 3, 1, 1, 0),
      "zero byte expected" },

    /* elements and data */
    { "elem kind 8", BYTES(HEADER, 9, 3, 1, 8, 0), "malformed elements segment kind" },
    { "elem kind too long", BYTES(HEADER, 9, 8, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0),
      "integer representation too long" },
    { "elem element kind 1", BYTES(HEADER, 9, 4, 1, 1, 1, 0), "malformed element kind" },
    { "elem reftype i32", BYTES(HEADER, 9, 7, 1, 5, 0x7F, 1, 0xD0, 0x70, 0x0B), "malformed reference type" },
    { "elem item illegal opcode", BYTES(HEADER, 9, 7, 1, 5, 0x70, 1, 0xF3, 0, 0x0B), "illegal opcode" },
    { "elem non-constant decodes", BYTES(HEADER, 9, 6, 1, 5, 0x70, 1, 0x01, 0x0B), NULL },
    { "data kind 3", BYTES(HEADER, 11, 3, 1, 3, 0), "malformed data segment kind" },
    { "data bytes cut", BYTES(HEADER, 11, 4, 1, 1, 5, 'a'), "length out of bounds" },
    { "data bytes past section", BYTES(HEADER, 11, 4, 1, 1, 5, 'a', 0, 3, 1, 'c', 0), "unexpected end of section or function" },
    { "data count mismatch", BYTES(HEADER, 12, 1, 2, 11, 3, 1, 1, 0),
      "data count and data section have inconsistent lengths" },
    { "data count, no data", BYTES(HEADER, 12, 1, 1),
      "data count and data section have inconsistent lengths" },
    { "data count zero, no data", BYTES(HEADER, 12, 1, 0), NULL },
};

START_TEST(test_dec_case)
{
    const DecCase *c = &dec_cases[_i];
    WasmError err;
    Module *m = module_decode(c->bytes, c->len, &err);
    if (!c->err) {
        ck_assert_msg(m != NULL, "%s: expected to decode, got: %s", c->name, err.msg);
        ck_assert_int_eq(err.kind, ERR_NONE);
    } else {
        ck_assert_msg(m == NULL, "%s: expected \"%s\", but it decoded", c->name, c->err);
        ck_assert_int_eq(err.kind, ERR_MALFORMED);
        ck_assert_msg(strstr(err.msg, c->err), "%s: expected \"%s\", got: %s", c->name, c->err, err.msg);
        ck_assert_msg(err.offset <= c->len, "%s: offset %zu beyond %zu", c->name, err.offset, c->len);
    }
    module_free(m);
}
END_TEST

START_TEST(test_error_says_where)
{
    const uint8_t b[] = { FUNC_PRELUDE, 10, 9, 2, 2, 0, 0x0B, 4, 0, 0x01, 0xFF, 0x0B };
    WasmError err;
    ck_assert_ptr_null(module_decode(b, sizeof b, &err));
    ck_assert_int_eq(err.kind, ERR_MALFORMED);
    ck_assert_uint_eq(err.offset, sizeof b - 2);     /* the 0xFF */
    ck_assert_msg(strstr(err.msg, "code section, function 1"), "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "illegal opcode 0xff"), "%s", err.msg);
}
END_TEST

/* ---- a module with every section, and its decoded fields ---- */

static Buf rich_module(void)
{
    Buf m = {0}, c = {0};
    put(&m, BYTES(HEADER));
    put(&c, BYTES(5, 'h', 'e', 'l', 'l', 'o', 0xAB));
    section(&m, 0, &c);
    put(&c, BYTES(3, 0x60, 2, 0x7F, 0x7F, 1, 0x7F, 0x60, 0, 0, 0x60, 1, 0x7F, 2, 0x7F, 0x7E));
    section(&m, 1, &c);
    put(&c, BYTES(4, 3, 'e', 'n', 'v', 1, 'f', 0, 1,
                  3, 'e', 'n', 'v', 1, 't', 1, 0x70, 1, 0, 10,
                  3, 'e', 'n', 'v', 1, 'm', 2, 1, 1, 2,
                  3, 'e', 'n', 'v', 1, 'g', 3, 0x7F, 0));
    section(&m, 2, &c);
    put(&c, BYTES(2, 0, 1));
    section(&m, 3, &c);
    put(&c, BYTES(1, 0x6F, 0, 0));
    section(&m, 4, &c);
    put(&c, BYTES(3, 0x7F, 0, 0x41, 0x7B, 0x0B,                          /* i32 -5 */
                  0x7D, 1, 0x43, 0x01, 0x00, 0xC0, 0x7F, 0x0B,           /* mut f32 NaN payload */
                  0x70, 0, 0xD2, 1, 0x0B));                               /* ref.func 1 */
    section(&m, 6, &c);
    put(&c, BYTES(2, 3, 'a', 'd', 'd', 0, 1, 3, 'm', 'e', 'm', 2, 0));
    section(&m, 7, &c);
    put(&c, BYTES(2));
    section(&m, 8, &c);
    put(&c, BYTES(8,
                  0, 0x41, 0, 0x0B, 1, 0,                                 /* 0: active table 0, funcidx */
                  1, 0, 1, 2,                                             /* 1: passive */
                  2, 0, 0x41, 1, 0x0B, 0, 1, 1,                           /* 2: active, explicit table */
                  3, 0, 1, 0,                                             /* 3: declarative */
                  4, 0x41, 2, 0x0B, 2, 0xD2, 0, 0x0B, 0xD0, 0x70, 0x0B,   /* 4: active, exprs */
                  5, 0x70, 1, 0xD0, 0x70, 0x0B,                           /* 5: passive, exprs */
                  6, 1, 0x41, 0, 0x0B, 0x6F, 1, 0xD0, 0x6F, 0x0B,         /* 6: active table 1, exprs */
                  7, 0x70, 1, 0xD2, 2, 0x0B));                            /* 7: declarative, exprs */
    section(&m, 9, &c);
    put(&c, BYTES(3));
    section(&m, 12, &c);
    put(&c, BYTES(2, 11, 2, 2, 0x7F, 1, 0x7C, 0x20, 0, 0x20, 1, 0x6A, 0x0B,
                  2, 0, 0x0B));
    section(&m, 10, &c);
    put(&c, BYTES(3, 0, 0x41, 0, 0x0B, 2, 'h', 'i',
                  1, 1, 'x',
                  2, 0, 0x41, 8, 0x0B, 2, 'y', 'z'));
    section(&m, 11, &c);
    put(&c, BYTES(4, 'n', 'a', 'm', 'e',
                  0, 5, 4, 'r', 'i', 'c', 'h',
                  1, 13, 2, 1, 3, 'a', 'd', 'd', 2, 5, 's', 't', 'a', 'r', 't',
                  2, 3, 1, 0, 0));                                        /* local names: skipped */
    section(&m, 0, &c);
    free(c.d);
    return m;
}

START_TEST(test_rich_module)
{
    Buf b = rich_module();
    WasmError err;
    Module *m = module_decode(b.d, b.n, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);

    ck_assert_uint_eq(m->len, b.n);
    ck_assert_ptr_ne(m->bytes, b.d);
    ck_assert_uint_eq(m->hash, XXH3_64bits(b.d, b.n));

    ck_assert_uint_eq(m->ntypes, 3);
    ck_assert_uint_eq(m->types[2].nparams, 1);
    ck_assert_uint_eq(m->types[2].nresults, 2);
    ck_assert_uint_eq(m->types[2].results[1], VT_I64);

    ck_assert_uint_eq(m->nimports, 4);
    ck_assert_str_eq(m->imports[0].module, "env");
    ck_assert_str_eq(m->imports[3].name, "g");
    ck_assert_uint_eq(m->nfuncs, 3);
    ck_assert_uint_eq(m->nfunc_imports, 1);
    ck_assert_uint_eq(m->func_types[0], 1);
    ck_assert_uint_eq(m->func_types[1], 0);
    ck_assert_uint_eq(m->func_types[2], 1);
    ck_assert_uint_eq(m->ntables, 2);
    ck_assert_uint_eq(m->ntable_imports, 1);
    ck_assert_uint_eq(m->tables[0].limits.max, 10);
    ck_assert_uint_eq(m->tables[1].elem, VT_EXTERNREF);
    ck_assert_uint_eq(m->nmems, 1);
    ck_assert(m->mems[0].limits.has_max);
    ck_assert_uint_eq(m->mems[0].limits.max, 2);
    ck_assert_uint_eq(m->nglobals, 4);
    ck_assert_uint_eq(m->nglobal_imports, 1);
    ck_assert_uint_eq(m->globals[0].init.op, OP_I32_CONST);
    ck_assert_uint_eq(m->globals[0].init.u.i32, (uint32_t)-5);
    ck_assert_uint_eq(m->globals[1].init.u.f32, 0x7FC00001);
    ck_assert(m->global_types[2].mut);
    ck_assert_uint_eq(m->globals[2].init.op, OP_REF_FUNC);
    ck_assert_uint_eq(m->globals[2].init.u.index, 1);

    ck_assert_uint_eq(m->nexports, 2);
    ck_assert_str_eq(m->exports[1].name, "mem");
    ck_assert_uint_eq(m->exports[1].kind, EXT_MEMORY);
    ck_assert(m->has_start);
    ck_assert_uint_eq(m->start, 2);

    ck_assert_uint_eq(m->nelems, 8);
    static const uint8_t modes[8] = { SEG_ACTIVE, SEG_PASSIVE, SEG_ACTIVE, SEG_DECLARATIVE,
                                      SEG_ACTIVE, SEG_PASSIVE, SEG_ACTIVE, SEG_DECLARATIVE };
    for (int i = 0; i < 8; i++)
        ck_assert_uint_eq(m->elems[i].mode, modes[i]);
    ck_assert_uint_eq(m->elems[2].offset.u.i32, 1);
    ck_assert_uint_eq(m->elems[2].items[0].op, OP_REF_FUNC);
    ck_assert_uint_eq(m->elems[2].items[0].u.index, 1);
    ck_assert_uint_eq(m->elems[4].count, 2);
    ck_assert_uint_eq(m->elems[4].items[1].op, OP_REF_NULL);
    ck_assert_uint_eq(m->elems[6].table, 1);
    ck_assert_uint_eq(m->elems[6].type, VT_EXTERNREF);
    ck_assert_uint_eq(m->elems[7].items[0].u.index, 2);

    ck_assert(m->has_data_count);
    ck_assert_uint_eq(m->ndatas, 3);
    ck_assert_uint_eq(m->datas[0].len, 2);
    ck_assert_int_eq(memcmp(m->datas[0].bytes, "hi", 2), 0);
    ck_assert_uint_eq(m->datas[1].mode, SEG_PASSIVE);
    ck_assert_uint_eq(m->datas[2].offset.u.i32, 8);
    ck_assert_int_eq(memcmp(m->datas[2].bytes, "yz", 2), 0);
    /* data bytes point into the module's copy: they end where the name section starts */
    ck_assert_ptr_eq(m->datas[2].bytes + 2, m->bytes + m->customs[1].offset - 7);

    ck_assert_uint_eq(m->funcs[0].nlocals, 3);
    ck_assert_uint_eq(m->funcs[0].local_types[1], VT_I32);
    ck_assert_uint_eq(m->funcs[0].local_types[2], VT_F64);
    ck_assert_uint_eq(m->funcs[0].code_len, 6);
    ck_assert_uint_eq(m->funcs[0].code[4], 0x6A);
    ck_assert_ptr_eq(m->funcs[0].code, m->bytes + m->funcs[0].code_offset);
    ck_assert_uint_eq(m->funcs[1].code_len, 1);

    ck_assert_uint_eq(m->ncustoms, 2);
    ck_assert_str_eq(m->customs[0].name, "hello");
    ck_assert_uint_eq(m->customs[0].len, 1);
    ck_assert_uint_eq(m->customs[0].bytes[0], 0xAB);
    ck_assert_str_eq(m->module_name, "rich");
    ck_assert_ptr_nonnull(m->func_names);
    ck_assert_ptr_null(m->func_names[0]);
    ck_assert_str_eq(m->func_names[2], "start");
    char buf[32];
    ck_assert_str_eq(module_func_name(m, 1, buf, sizeof buf), "add");
    ck_assert_str_eq(module_func_name(m, 0, buf, sizeof buf), "func[0]");

    for (int i = 0; i < 3; i++)
        ck_assert(m->func_declared[i]);

    ck_assert_msg(module_validate(m, &err), "%s", err.msg);
    module_free(m);
    free(b.d);
}
END_TEST

START_TEST(test_private_copy)
{
    Buf b = rich_module();
    WasmError err;
    Module *m = module_decode(b.d, b.n, &err);
    ck_assert_ptr_nonnull(m);
    memset(b.d, 0, b.n);   /* the module must not notice */
    ck_assert_int_eq(memcmp(m->datas[0].bytes, "hi", 2), 0);
    ck_assert_str_eq(m->func_names[1], "add");
    module_free(m);
    free(b.d);
}
END_TEST

START_TEST(test_declared_functions)
{
    /* func 0 is exported, func 1 only appears in a body, func 2 in a global. */
    const uint8_t b[] = { HEADER, 1, 4, 1, 0x60, 0, 0, 3, 4, 3, 0, 0, 0,
                          6, 6, 1, 0x70, 0, 0xD2, 2, 0x0B, 7, 5, 1, 1, 'e', 0, 0,
                          10, 13, 3, 2, 0, 0x0B, 5, 0, 0xD2, 1, 0x1A, 0x0B, 2, 0, 0x0B };
    WasmError err;
    Module *m = module_decode(b, sizeof b, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    ck_assert(m->func_declared[0]);
    ck_assert(!m->func_declared[1]);
    ck_assert(m->func_declared[2]);
    ck_assert(!module_validate(m, &err));
    ck_assert_msg(strstr(err.msg, "undeclared function reference"), "%s", err.msg);
    module_free(m);
}
END_TEST

START_TEST(test_bad_name_section_ignored)
{
    /* Custom sections are not validated: broken name data is dropped. */
    static const uint8_t subsections[][12] = {
        { 1, 9, 1, 0, 5, 'a', 'b' },                    /* name runs past its subsection */
        { 1, 4, 1, 7, 1, 'a' },                         /* function index out of range */
        { 0, 2, 1, 0xFF },                              /* bad UTF-8 */
        { 1, 4, 1, 0, 1, 'a', 0, 2, 1, 'x' },           /* subsections out of order */
        { 1, 0x80 },                                    /* truncated size */
    };
    static const uint8_t lens[] = { 7, 6, 4, 10, 2 };
    for (size_t k = 0; k < sizeof lens; k++) {
        Buf b = {0}, c = {0};
        put(&b, BYTES(HEADER, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 4, 1, 2, 0, 0x0B));
        put(&c, BYTES(4, 'n', 'a', 'm', 'e'));
        put(&c, subsections[k], lens[k]);
        section(&b, 0, &c);
        WasmError err;
        Module *m = module_decode(b.d, b.n, &err);
        ck_assert_msg(m != NULL, "case %zu: %s", k, err.msg);
        ck_assert_ptr_null(m->func_names);
        ck_assert_ptr_null(m->module_name);
        ck_assert_uint_eq(m->ncustoms, 1);
        char buf[16];
        ck_assert_str_eq(module_func_name(m, 0, buf, sizeof buf), "func[0]");
        module_free(m);
        free(b.d);
        free(c.d);
    }
}
END_TEST

START_TEST(test_const_expr_forms)
{
    /* Non-constant and wrong-arity initialisers decode; validation rejects them. */
    const uint8_t b[] = { HEADER, 6, 14, 2, 0x7F, 0, 0x41, 0, 0x68, 0x0B, 0x7F, 0, 0x41, 0, 0x41, 0, 0x0B };
    WasmError err;
    Module *m = module_decode(b, sizeof b, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    ck_assert_uint_eq(m->globals[0].init.op, OP_NOP);
    ck_assert_uint_eq(m->globals[1].init.op, OP_NOP);
    ck_assert(!module_validate(m, &err));
    ck_assert_msg(strstr(err.msg, "constant expression required"), "%s", err.msg);
    module_free(m);
}
END_TEST

/* ---- robustness ---- */

START_TEST(test_every_truncation_fails)
{
    Buf b = rich_module();
    for (size_t n = 0; n < b.n; n++) {
        WasmError err;
        Module *m = module_decode(b.d, n, &err);
        /* A cut at a section boundary is a smaller valid module; a cut in
           the trailing name section leaves a shorter custom section. */
        if (m) {
            module_free(m);
            continue;
        }
        ck_assert_int_eq(err.kind, ERR_MALFORMED);
        ck_assert_msg(err.offset <= n, "cut at %zu: offset %zu", n, err.offset);
    }
    free(b.d);
}
END_TEST

START_TEST(test_locals_budget)
{
    /* 40 tiny bodies of 50000 locals each: allowed one by one, but the
       module would expand 10000-fold, so the decoder refuses. */
    Buf b = {0}, c = {0};
    put(&b, BYTES(HEADER, 1, 4, 1, 0x60, 0, 0));
    put(&c, BYTES(40));
    for (int i = 0; i < 40; i++)
        put(&c, BYTES(0));
    section(&b, 3, &c);
    put(&c, BYTES(40));
    for (int i = 0; i < 40; i++)
        put(&c, BYTES(6, 1, 0xD0, 0x86, 0x03, 0x7F, 0x0B));   /* 50000 i32 locals */
    section(&b, 10, &c);
    WasmError err;
    ck_assert_ptr_null(module_decode(b.d, b.n, &err));
    ck_assert_msg(strstr(err.msg, "too many locals in the module"), "%s", err.msg);
    /* A few such bodies are fine. */
    b.n = 0;
    put(&b, BYTES(HEADER, 1, 4, 1, 0x60, 0, 0, 3, 3, 2, 0, 0, 10, 15, 2,
                  6, 1, 0xD0, 0x86, 0x03, 0x7F, 0x0B, 6, 1, 0xD0, 0x86, 0x03, 0x7C, 0x0B));
    Module *m = module_decode(b.d, b.n, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    ck_assert_uint_eq(m->funcs[1].nlocals, 50000);
    ck_assert_uint_eq(m->funcs[1].local_types[49999], VT_F64);
    ck_assert(module_validate(m, &err));
    module_free(m);
    free(b.d);
    free(c.d);
}
END_TEST

START_TEST(test_every_byte_corrupted)
{
    /* Each byte set to a few nasty values: never a crash (run under ASan by
       `make check-asan`), always a clean verdict. */
    Buf b = rich_module();
    static const uint8_t vals[] = { 0x00, 0x01, 0x0B, 0x7F, 0x80, 0xFF };
    uint8_t *copy = malloc(b.n);
    for (size_t i = 0; i < b.n; i++)
        for (size_t k = 0; k < sizeof vals; k++) {
            memcpy(copy, b.d, b.n);
            copy[i] = vals[k];
            WasmError err;
            Module *m = module_decode(copy, b.n, &err);
            if (m) {
                module_validate(m, &err);
                module_free(m);
            } else {
                ck_assert_int_eq(err.kind, ERR_MALFORMED);
            }
        }
    free(copy);
    free(b.d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("leb128");
    tcase_add_loop_test(tc, test_leb, 0, (int)(sizeof leb_cases / sizeof leb_cases[0]));
    tcase_add_test(tc, test_leb_skip);
    suite_add_tcase(s, tc);

    tc = tcase_create("sections");
    tcase_add_loop_test(tc, test_dec_case, 0, (int)(sizeof dec_cases / sizeof dec_cases[0]));
    tcase_add_test(tc, test_error_says_where);
    suite_add_tcase(s, tc);

    tc = tcase_create("fields");
    tcase_add_test(tc, test_rich_module);
    tcase_add_test(tc, test_private_copy);
    tcase_add_test(tc, test_declared_functions);
    tcase_add_test(tc, test_bad_name_section_ignored);
    tcase_add_test(tc, test_const_expr_forms);
    suite_add_tcase(s, tc);

    tc = tcase_create("robustness");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_locals_budget);
    tcase_add_test(tc, test_every_truncation_fails);
    tcase_add_test(tc, test_every_byte_corrupted);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
