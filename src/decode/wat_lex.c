/*
 * The lexer of the WebAssembly text format (spec 2.0, section 6.3), and the
 * conversions of numeric and string tokens.
 *
 * A token is a parenthesis, or a maximal run of "idchars" and strings.  A
 * run that is one string alone is a string token; a run of idchars alone is
 * a number, an identifier, a keyword or a reserved token; anything mixed
 * (`$l"a"`, `0"a"`) is reserved, which the parser then rejects.  This is how
 * the spec demands white space between such tokens.
 */
#include "wat_lex.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wat_lex_init(WatLexer *lx, const char *src, size_t len, const char *filename)
{
    lx->src = src;
    lx->len = len;
    lx->pos = 0;
    lx->line = 1;
    lx->col = 1;
    lx->filename = filename ? filename : "<text>";
}

static bool is_idchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-./:<=>?@\\^_`|~", c) != NULL;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Length of the well-formed UTF-8 sequence at p (rem bytes left), 0 if none. */
static size_t utf8_seq_len(const unsigned char *p, size_t rem)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
    else return 0;
    if (rem < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    /* Reject overlong forms, surrogates and code points past U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp < 0xE000))
        return 0;
    return n;
}

static void lex_error(const WatLexer *lx, uint32_t line, uint32_t col, WasmError *err,
                      const char *fmt, ...)
{
    if (!err) return;
    err->kind = ERR_MALFORMED;
    err->offset = (size_t)-1;
    int k = snprintf(err->msg, sizeof err->msg, "%s:%u:%u: ", lx->filename, line, col);
    if (k < 0 || (size_t)k >= sizeof err->msg) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + k, sizeof err->msg - (size_t)k, fmt, ap);
    va_end(ap);
}

/* Advance over n bytes that hold no newline. */
static void advance(WatLexer *lx, size_t n)
{
    lx->pos += n;
    lx->col += (uint32_t)n;
}

static void advance_newline(WatLexer *lx)
{
    lx->pos++;
    lx->line++;
    lx->col = 1;
}

static int peek(const WatLexer *lx, size_t ahead)
{
    return lx->pos + ahead < lx->len ? (unsigned char)lx->src[lx->pos + ahead] : -1;
}

/* Skip one character of comment text: a newline, or a well-formed UTF-8 character. */
static bool skip_comment_char(WatLexer *lx, WasmError *err)
{
    char c = lx->src[lx->pos];
    if (c == '\n' || (c == '\r' && peek(lx, 1) != '\n')) {
        advance_newline(lx);
        return true;
    }
    size_t n = utf8_seq_len((const unsigned char *)lx->src + lx->pos, lx->len - lx->pos);
    if (n == 0) {
        lex_error(lx, lx->line, lx->col, err, "malformed UTF-8 encoding");
        return false;
    }
    advance(lx, n);
    return true;
}

/* Skip white space and comments. */
static bool skip_space(WatLexer *lx, WasmError *err)
{
    for (;;) {
        int c = peek(lx, 0);
        if (c == ' ' || c == '\t' || (c == '\r' && peek(lx, 1) == '\n')) {
            advance(lx, 1);
        } else if (c == '\n' || c == '\r') {
            /* A newline is LF, CR or CR LF. */
            advance_newline(lx);
        } else if (c == ';' && peek(lx, 1) == ';') {
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n' && lx->src[lx->pos] != '\r')
                if (!skip_comment_char(lx, err)) return false;
        } else if (c == '(' && peek(lx, 1) == ';') {
            uint32_t line = lx->line, col = lx->col;
            unsigned depth = 1;
            advance(lx, 2);
            while (depth > 0) {
                if (lx->pos >= lx->len) {
                    lex_error(lx, line, col, err, "unclosed comment");
                    return false;
                }
                if (peek(lx, 0) == '(' && peek(lx, 1) == ';') {
                    depth++;
                    advance(lx, 2);
                } else if (peek(lx, 0) == ';' && peek(lx, 1) == ')') {
                    depth--;
                    advance(lx, 2);
                } else if (!skip_comment_char(lx, err)) {
                    return false;
                }
            }
        } else {
            return true;
        }
    }
}

/* Scan a string token starting at the opening quote, checking escapes and UTF-8. */
static bool scan_string(WatLexer *lx, WasmError *err)
{
    uint32_t line = lx->line, col = lx->col;
    advance(lx, 1);
    for (;;) {
        if (lx->pos >= lx->len) {
            lex_error(lx, line, col, err, "unclosed string");
            return false;
        }
        unsigned char c = (unsigned char)lx->src[lx->pos];
        if (c == '"') {
            advance(lx, 1);
            return true;
        }
        if (c == '\n') {
            lex_error(lx, line, col, err, "unclosed string");
            return false;
        }
        if (c < 0x20 || c == 0x7F) {
            lex_error(lx, lx->line, lx->col, err, "illegal control character in string");
            return false;
        }
        if (c != '\\') {
            size_t n = utf8_seq_len((const unsigned char *)lx->src + lx->pos, lx->len - lx->pos);
            if (n == 0) {
                lex_error(lx, lx->line, lx->col, err, "malformed UTF-8 encoding");
                return false;
            }
            advance(lx, n);
            continue;
        }
        /* An escape. */
        uint32_t eline = lx->line, ecol = lx->col;
        int e = peek(lx, 1);
        if (e >= 0 && strchr("tnr\"'\\", e)) {
            advance(lx, 2);
        } else if (hex_value((unsigned char)e) >= 0 && peek(lx, 2) >= 0 &&
                   hex_value((unsigned char)peek(lx, 2)) >= 0) {
            advance(lx, 3);
        } else if (e == 'u' && peek(lx, 2) == '{') {
            advance(lx, 3);
            uint32_t cp = 0;
            bool any = false, prev_digit = false;
            int d;
            while ((d = peek(lx, 0)) >= 0 && d != '}') {
                int v = hex_value((unsigned char)d);
                if (v >= 0) {
                    cp = cp > 0x10FFFF ? cp : cp * 16 + (uint32_t)v;
                    any = prev_digit = true;
                } else if (d == '_' && prev_digit && hex_value((unsigned char)peek(lx, 1)) >= 0) {
                    prev_digit = false;
                } else {
                    break;
                }
                advance(lx, 1);
            }
            if (!any || peek(lx, 0) != '}' || cp >= 0x110000 || (cp >= 0xD800 && cp < 0xE000)) {
                lex_error(lx, eline, ecol, err, "malformed unicode escape");
                return false;
            }
            advance(lx, 1);
        } else {
            lex_error(lx, eline, ecol, err, "unknown escape sequence");
            return false;
        }
    }
}

/* ---- Number syntax ---- */

/* Scan `digit ('_'? digit)*` (hex digits if hex) at s[i]; returns the index
   after it, or (size_t)-1 if there is no well-formed digit run there. */
static size_t scan_digits(const char *s, size_t n, size_t i, bool hex)
{
    size_t start = i;
    for (;;) {
        if (i >= n) break;
        unsigned char c = (unsigned char)s[i];
        bool digit = hex ? hex_value(c) >= 0 : (c >= '0' && c <= '9');
        if (digit) {
            i++;
        } else if (c == '_' && i > start && i + 1 < n &&
                   (hex ? hex_value((unsigned char)s[i + 1]) >= 0
                        : (s[i + 1] >= '0' && s[i + 1] <= '9'))) {
            i++;
        } else {
            break;
        }
    }
    return i > start ? i : (size_t)-1;
}

typedef enum { NUM_NONE, NUM_INT, NUM_FLOAT } NumKind;

static bool has_prefix(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && memcmp(s, p, k) == 0;
}

/* Classify a token's text: an integer literal (which is also a valid float),
   some other float literal, or not a number. */
static NumKind classify_number(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) i = 1;
    s += i;
    n -= i;
    if (n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0))
        return NUM_FLOAT;
    if (has_prefix(s, n, "nan:0x"))
        return scan_digits(s, n, 6, true) == n ? NUM_FLOAT : NUM_NONE;
    bool hex = has_prefix(s, n, "0x");
    i = scan_digits(s, n, hex ? 2 : 0, hex);
    if (i == (size_t)-1) return NUM_NONE;
    if (i == n) return NUM_INT;
    if (s[i] == '.') {
        i++;
        if (i < n && (hex ? hex_value((unsigned char)s[i]) >= 0 : (s[i] >= '0' && s[i] <= '9'))) {
            i = scan_digits(s, n, i, hex);
            if (i == (size_t)-1) return NUM_NONE;
        }
    }
    if (i < n && (hex ? (s[i] == 'p' || s[i] == 'P') : (s[i] == 'e' || s[i] == 'E'))) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        i = scan_digits(s, n, i, false);
        if (i == (size_t)-1) return NUM_NONE;
    }
    return i == n ? NUM_FLOAT : NUM_NONE;
}

bool wat_lex_next(WatLexer *lx, WatToken *tok, WasmError *err)
{
    if (!skip_space(lx, err)) return false;
    tok->line = lx->line;
    tok->col = lx->col;
    tok->offset = lx->pos;
    tok->text = lx->src + lx->pos;
    tok->len = 0;
    int c = peek(lx, 0);
    if (c < 0) {
        tok->kind = TOK_EOF;
        return true;
    }
    if (c == '(' || c == ')') {
        tok->kind = c == '(' ? TOK_LPAREN : TOK_RPAREN;
        tok->len = 1;
        advance(lx, 1);
        return true;
    }
    if (!is_idchar((unsigned char)c) && c != '"') {
        if (c >= 0x80 && utf8_seq_len((const unsigned char *)lx->src + lx->pos, lx->len - lx->pos) == 0)
            lex_error(lx, lx->line, lx->col, err, "malformed UTF-8 encoding");
        else
            lex_error(lx, lx->line, lx->col, err, "unexpected character");
        return false;
    }
    /* A run of idchars and strings. */
    bool idchars = false;
    unsigned strings = 0;
    for (;;) {
        c = peek(lx, 0);
        if (c >= 0 && is_idchar((unsigned char)c)) {
            idchars = true;
            advance(lx, 1);
        } else if (c == '"') {
            if (!scan_string(lx, err)) return false;
            strings++;
        } else {
            break;
        }
    }
    tok->len = lx->pos - tok->offset;
    if (strings > 0)
        tok->kind = (strings == 1 && !idchars) ? TOK_STRING : TOK_RESERVED;
    else if (classify_number(tok->text, tok->len) != NUM_NONE)
        tok->kind = TOK_NUMBER;
    else if (tok->text[0] == '$' && tok->len > 1)
        tok->kind = TOK_ID;
    else if (tok->text[0] >= 'a' && tok->text[0] <= 'z')
        tok->kind = TOK_KEYWORD;
    else
        tok->kind = TOK_RESERVED;
    return true;
}

/* ---- Number conversions ---- */

/* Value of a digit run (syntax already checked or checked here), false on
   overflow past `max`. */
static bool digits_value(const char *s, size_t n, bool hex, uint64_t max, uint64_t *out)
{
    if (n == 0 || scan_digits(s, n, 0, hex) != n) return false;
    uint64_t base = hex ? 16 : 10, v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') continue;
        uint64_t d = (uint64_t)hex_value((unsigned char)s[i]);
        if (v > (max - d) / base) return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

static bool unsigned_value(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (has_prefix(s, n, "0x")) return digits_value(s + 2, n - 2, true, max, out);
    return digits_value(s, n, false, max, out);
}

bool wat_parse_u64(const char *s, size_t n, uint64_t *out)
{
    return unsigned_value(s, n, UINT64_MAX, out);
}

bool wat_parse_u32(const char *s, size_t n, uint32_t *out)
{
    uint64_t v;
    if (!unsigned_value(s, n, UINT32_MAX, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

/* An iN literal: unsigned up to 2^N-1, or signed in [-2^(N-1), 2^(N-1)-1].
   The result is the two's-complement bit pattern. */
static bool signed_value(const char *s, size_t n, unsigned bits, uint64_t *out)
{
    uint64_t umax = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    uint64_t half = UINT64_C(1) << (bits - 1);
    uint64_t v;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        bool neg = s[0] == '-';
        if (!unsigned_value(s + 1, n - 1, neg ? half : half - 1, &v)) return false;
        *out = (neg ? (uint64_t)0 - v : v) & umax;
        return true;
    }
    if (!unsigned_value(s, n, umax, &v)) return false;
    *out = v;
    return true;
}

bool wat_parse_i32(const char *s, size_t n, uint32_t *out)
{
    uint64_t v;
    if (!signed_value(s, n, 32, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

bool wat_parse_i64(const char *s, size_t n, uint64_t *out)
{
    return signed_value(s, n, 64, out);
}

/*
 * Floats.  glibc's strtof/strtod round decimal and hexadecimal input
 * correctly; f32 is parsed with strtof directly, because rounding to double
 * first and then to float can round twice.  The text is copied without its
 * `_` separators.  A finite literal that rounds to infinity is out of range.
 * Returns 0 on success, with the result in *f or *d.
 */
static bool float_text(const char *s, size_t n, bool *neg, const char **mag, size_t *magn)
{
    if (classify_number(s, n) == NUM_NONE) return false;
    *neg = n > 0 && s[0] == '-';
    size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    *mag = s + i;
    *magn = n - i;
    return true;
}

static char *copy_without_underscores(const char *s, size_t n)
{
    char *buf = malloc(n + 1);
    if (!buf) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_') buf[k++] = s[i];
    buf[k] = '\0';
    return buf;
}

/* The bits that differ between the two float widths. */
typedef struct {
    uint64_t sign, exp_all_ones, quiet, payload_max;
    bool single;
} FloatFormat;

static const FloatFormat f32_format = { UINT64_C(0x80000000), UINT64_C(0x7F800000),
                                        UINT64_C(0x00400000), UINT64_C(0x7FFFFF), true };
static const FloatFormat f64_format = { UINT64_C(0x8000000000000000), UINT64_C(0x7FF0000000000000),
                                        UINT64_C(0x0008000000000000), UINT64_C(0xFFFFFFFFFFFFF), false };

static bool parse_float(const char *s, size_t n, const FloatFormat *f, uint64_t *bits)
{
    bool neg;
    const char *m;
    size_t mn;
    if (!float_text(s, n, &neg, &m, &mn)) return false;
    uint64_t sign = neg ? f->sign : 0;
    if (mn == 3 && memcmp(m, "inf", 3) == 0) {
        *bits = sign | f->exp_all_ones;
        return true;
    }
    if (mn == 3 && memcmp(m, "nan", 3) == 0) {
        *bits = sign | f->exp_all_ones | f->quiet;
        return true;
    }
    if (has_prefix(m, mn, "nan:0x")) {
        uint64_t payload;
        if (!digits_value(m + 6, mn - 6, true, f->payload_max, &payload) || payload == 0)
            return false;
        *bits = sign | f->exp_all_ones | payload;
        return true;
    }
    char *buf = copy_without_underscores(m, mn);
    if (!buf) return false;
    /* strtof rounds once, straight to single precision: going through
       double first could round twice. */
    uint64_t u;
    bool inf;
    if (f->single) {
        float x = strtof(buf, NULL);
        uint32_t v;
        memcpy(&v, &x, sizeof v);
        u = v;
        inf = isinf(x);
    } else {
        double x = strtod(buf, NULL);
        memcpy(&u, &x, sizeof u);
        inf = isinf(x);
    }
    free(buf);
    if (inf) return false;   /* a finite literal that rounds to infinity */
    *bits = sign | u;
    return true;
}

bool wat_parse_f32(const char *s, size_t n, uint32_t *bits)
{
    uint64_t b;
    if (!parse_float(s, n, &f32_format, &b)) return false;
    *bits = (uint32_t)b;
    return true;
}

bool wat_parse_f64(const char *s, size_t n, uint64_t *bits)
{
    return parse_float(s, n, &f64_format, bits);
}

bool wat_is_int_literal(const char *s, size_t n)
{
    return classify_number(s, n) == NUM_INT;
}

/* ---- Strings ---- */

static size_t put_utf8(uint8_t *p, uint32_t cp)
{
    if (cp < 0x80) { p[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        p[0] = (uint8_t)(0xC0 | (cp >> 6));
        p[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (uint8_t)(0xE0 | (cp >> 12));
        p[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        p[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (uint8_t)(0xF0 | (cp >> 18));
    p[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    p[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    p[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

bool wat_string(const WatToken *tok, uint8_t **out, size_t *len)
{
    if (tok->kind != TOK_STRING || tok->len < 2) return false;
    const char *s = tok->text + 1;
    size_t n = tok->len - 2;
    /* Decoding never grows the text: every escape is at least as long as its bytes. */
    uint8_t *buf = malloc(n + 1);
    if (!buf) return false;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            buf[k++] = (uint8_t)s[i++];
            continue;
        }
        char e = i + 1 < n ? s[i + 1] : 0;
        switch (e) {
        case 't': buf[k++] = '\t'; i += 2; continue;
        case 'n': buf[k++] = '\n'; i += 2; continue;
        case 'r': buf[k++] = '\r'; i += 2; continue;
        case '"': case '\'': case '\\': buf[k++] = (uint8_t)e; i += 2; continue;
        default: break;
        }
        if (e == 'u' && i + 2 < n && s[i + 2] == '{') {
            uint32_t cp = 0;
            size_t j = i + 3;
            for (; j < n && s[j] != '}'; j++) {
                int v = hex_value((unsigned char)s[j]);
                if (v >= 0 && cp <= 0x10FFFF) cp = cp * 16 + (uint32_t)v;
                else if (v < 0 && s[j] != '_') break;
            }
            if (j >= n || s[j] != '}' || cp >= 0x110000 || (cp >= 0xD800 && cp < 0xE000)) {
                free(buf);
                return false;
            }
            k += put_utf8(buf + k, cp);
            i = j + 1;
            continue;
        }
        if (i + 2 < n && hex_value((unsigned char)s[i + 1]) >= 0 &&
            hex_value((unsigned char)s[i + 2]) >= 0) {
            buf[k++] = (uint8_t)(hex_value((unsigned char)s[i + 1]) * 16 +
                                 hex_value((unsigned char)s[i + 2]));
            i += 3;
            continue;
        }
        free(buf);
        return false;
    }
    buf[k] = 0;
    *out = buf;
    *len = k;
    return true;
}

bool wat_utf8_valid(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len(s + i, n - i);
        if (k == 0) return false;
        i += k;
    }
    return true;
}
