/*
 * The lexer of the text format, shared by the WAT module parser (wat.c) and
 * the WAST script runner (src/cli/wast.c).
 *
 * Tokens point into the source; numbers and strings are converted on
 * demand, because whether a numeral is an integer or a float depends on
 * where the parser meets it.
 */
#ifndef LEONARDO_WAT_LEX_H
#define LEONARDO_WAT_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "module.h"

typedef enum {
    TOK_EOF,
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_KEYWORD,   /* starts with a lowercase letter: module, i32.add, offset=4, nan:canonical ... */
    TOK_ID,        /* $name */
    TOK_STRING,    /* "..." with its quotes; decode with wat_string() */
    TOK_NUMBER,    /* integer or float literal, signed or not, inf, nan, nan:0x... */
    TOK_RESERVED,  /* any other idchars run: an error wherever the parser meets it */
} WatTokKind;

typedef struct {
    WatTokKind kind;
    const char *text;  /* points into the source */
    size_t len;
    uint32_t line, col; /* 1-based */
    size_t offset;     /* byte offset in the source */
} WatToken;

typedef struct {
    const char *src;
    size_t len, pos;
    uint32_t line, col;
    const char *filename;
} WatLexer;

void wat_lex_init(WatLexer *lx, const char *src, size_t len, const char *filename);
/* Next token, skipping white space and comments (";;" and nested "(; ;)").
   false and *err ("FILE:LINE:COL: msg") on a lexical error. */
bool wat_lex_next(WatLexer *lx, WatToken *tok, WasmError *err);

/* Number conversions; false if the text is not a literal of that kind or out of range. */
bool wat_parse_u32(const char *s, size_t n, uint32_t *out);  /* unsigned only */
bool wat_parse_u64(const char *s, size_t n, uint64_t *out);
bool wat_parse_i32(const char *s, size_t n, uint32_t *out);  /* signed or unsigned range */
bool wat_parse_i64(const char *s, size_t n, uint64_t *out);
bool wat_parse_f32(const char *s, size_t n, uint32_t *bits); /* correctly rounded; nan:0x.. payloads */
bool wat_parse_f64(const char *s, size_t n, uint64_t *bits);
/* Whether a numeral is an integer literal (no fraction, exponent, inf or nan). */
bool wat_is_int_literal(const char *s, size_t n);

/* Decode a TOK_STRING's escapes into a malloc'd buffer (NUL-terminated too). */
bool wat_string(const WatToken *tok, uint8_t **out, size_t *len);

/* Whether bytes are well-formed UTF-8 (names must be). */
bool wat_utf8_valid(const uint8_t *s, size_t n);

#endif
