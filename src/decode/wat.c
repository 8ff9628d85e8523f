/*
 * The WAT parser, part 1: module fields and the binary encoding.
 *
 * The text is tokenized whole, then read twice.  Pass 1 walks the fields to
 * bind every $name of the module-level index spaces (a function may call one
 * defined further down) and to record the explicit type definitions, whose
 * indices come first.  Pass 2 parses every field fully and appends its
 * encoding to the contents of its section; the sections are then assembled
 * in the binary order.  Instructions are in wat_instr.c.
 */
#include "wat.h"
#include "wat_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    SEC_CUSTOM, SEC_TYPE, SEC_IMPORT, SEC_FUNC, SEC_TABLE, SEC_MEM, SEC_GLOBAL,
    SEC_EXPORT, SEC_START, SEC_ELEM, SEC_CODE, SEC_DATA, SEC_DATACOUNT,
};

/* ---- Small helpers ---- */

static void *owned_alloc(WatParser *p, size_t n)
{
    if (p->nowned == p->owned_cap) {
        size_t cap = p->owned_cap ? p->owned_cap * 2 : 16;
        void **o = realloc(p->owned, cap * sizeof *o);
        if (!o) wat_fail(p, wat_cur(p), "out of memory");
        p->owned = o;
        p->owned_cap = cap;
    }
    void *m = malloc(n ? n : 1);
    if (!m) wat_fail(p, wat_cur(p), "out of memory");
    p->owned[p->nowned++] = m;
    return m;
}

/* Append the decoded contents of the string token at the cursor to b. */
static void string_into(WatParser *p, WBuf *b)
{
    const WatToken *t = wat_cur(p);
    uint8_t *s;
    size_t n;
    if (t->kind != TOK_STRING) wat_unexpected(p);
    /* Decoding never lengthens, so reserving first leaves nothing to fail
       while `s` is held. */
    wbuf_reserve(p, b, t->len);
    if (!wat_string(t, &s, &n)) wat_fail(p, t, "malformed string");
    memcpy(b->data + b->len, s, n);
    b->len += n;
    free(s);
    wat_advance(p);
}

/* A name (import, export): a string that must be valid UTF-8, encoded as vec(byte). */
static void parse_name(WatParser *p, WBuf *out)
{
    const WatToken *t = wat_cur(p);
    WBuf *tmp = &p->fbody;
    tmp->len = 0;
    string_into(p, tmp);
    if (!wat_utf8_valid(tmp->data, tmp->len)) wat_fail(p, t, "malformed UTF-8 encoding");
    wbuf_u32(p, out, (uint32_t)tmp->len);
    wbuf_bytes(p, out, tmp->data, tmp->len);
}

static void skip_sexpr(WatParser *p)
{
    size_t depth = 0;
    do {
        const WatToken *t = wat_cur(p);
        if (t->kind == TOK_EOF) wat_unexpected(p);
        if (t->kind == TOK_LPAREN) depth++;
        else if (t->kind == TOK_RPAREN) depth--;
        wat_advance(p);
    } while (depth > 0);
}

static const char *const space_keywords[SP__COUNT] = {
    "type", "func", "table", "memory", "global", "elem", "data",
};

/* An optional $id at the cursor names the next entry of `space`. */
static uint32_t bind_next(WatParser *p, int space)
{
    uint32_t idx = p->counts[space]++;
    const WatToken *t = wat_cur(p);
    if (t->kind == TOK_ID) {
        if (!wnames_add(p, &p->names[space], t->text, t->len, idx))
            wat_fail(p, t, "duplicate %s %.*s", space_keywords[space], (int)t->len, t->text);
        wat_advance(p);
    }
    return idx;
}

static int space_of_keyword(const WatToken *t)
{
    for (int s = SP_FUNC; s <= SP_GLOBAL; s++)
        if (wat_tok_is(t, space_keywords[s])) return s;
    return -1;
}

static const char *const def_kinds[SP__COUNT] = {
    [SP_FUNC] = "function", [SP_TABLE] = "table", [SP_MEM] = "memory", [SP_GLOBAL] = "global",
};

/* ---- Pass 1: names and explicit types ---- */

static void scan_import_order(WatParser *p, const WatToken *at)
{
    if (p->first_def) wat_fail(p, at, "import after %s", p->first_def);
}

static void scan_field(WatParser *p)
{
    size_t start = p->pos;
    const WatToken *kw = wat_peek(p, 1);
    if (wat_cur(p)->kind != TOK_LPAREN) wat_unexpected(p);
    p->pos += 2;
    int space = space_of_keyword(kw);
    if (wat_tok_is(kw, "type")) {
        bind_next(p, SP_TYPE);
        if (!wat_at_sexpr(p, "func")) wat_unexpected(p);
        p->pos += 2;
        if (wat_at_sexpr(p, "type")) wat_unexpected(p);
        uint32_t unused;
        wat_parse_sig(p, TU_IGNORE_IDS, &unused);
        wat_expect_rparen(p);
        wat_expect_rparen(p);
        wat_add_type(p, p->tparams.data, (uint32_t)p->tparams.len,
                     p->tresults.data, (uint32_t)p->tresults.len);
    } else if (wat_tok_is(kw, "import")) {
        scan_import_order(p, kw);
        while (wat_cur(p)->kind == TOK_STRING) wat_advance(p);
        int s = wat_cur(p)->kind == TOK_LPAREN ? space_of_keyword(wat_peek(p, 1)) : -1;
        if (s < 0) wat_unexpected(p);
        p->pos += 2;
        bind_next(p, s);
    } else if (space >= 0) {
        bind_next(p, space);
        while (wat_at_sexpr(p, "export")) skip_sexpr(p);
        if (wat_at_sexpr(p, "import")) {
            scan_import_order(p, wat_peek(p, 1));
        } else {
            if (!p->first_def) p->first_def = def_kinds[space];
            /* Inline segments take the next elem or data index. */
            if (space == SP_TABLE && wat_at_valtype(p) && wat_peek(p, 1)->kind == TOK_LPAREN &&
                wat_tok_is(wat_peek(p, 2), "elem"))
                p->counts[SP_ELEM]++;
            if (space == SP_MEM && wat_at_sexpr(p, "data")) p->counts[SP_DATA]++;
        }
    } else if (wat_tok_is(kw, "elem")) {
        bind_next(p, SP_ELEM);
    } else if (wat_tok_is(kw, "data")) {
        bind_next(p, SP_DATA);
    } else if (!wat_tok_is(kw, "export") && !wat_tok_is(kw, "start")) {
        p->pos = start + 1;
        wat_unexpected(p);
    }
    p->pos = start;
    skip_sexpr(p);
}

/* ---- Pass 2: types of tables, memories and globals ---- */

static void parse_limits(WatParser *p, WBuf *out)
{
    uint32_t min = wat_parse_u32_tok(p);
    if (wat_cur(p)->kind == TOK_NUMBER) {
        uint32_t max = wat_parse_u32_tok(p);
        wbuf_byte(p, out, 1);
        wbuf_u32(p, out, min);
        wbuf_u32(p, out, max);
    } else {
        wbuf_byte(p, out, 0);
        wbuf_u32(p, out, min);
    }
}

static void parse_tabletype(WatParser *p, WBuf *out)
{
    WBuf *lim = &p->flocals;
    lim->len = 0;
    parse_limits(p, lim);
    wbuf_byte(p, out, wat_parse_reftype(p));
    wbuf_bytes(p, out, lim->data, lim->len);
}

static void parse_globaltype(WatParser *p, WBuf *out)
{
    if (wat_at_sexpr(p, "mut")) {
        p->pos += 2;
        wbuf_byte(p, out, wat_parse_valtype(p));
        wbuf_byte(p, out, 1);
        wat_expect_rparen(p);
    } else {
        wbuf_byte(p, out, wat_parse_valtype(p));
        wbuf_byte(p, out, 0);
    }
}

/* A constant expression (or any instruction sequence) up to `)`, then `end`. */
static void parse_expr(WatParser *p, WBuf *out)
{
    wat_reset_func(p);
    wat_parse_instrs(p, out);
    wbuf_byte(p, out, 0x0B);
}

/* An offset: `(offset instr*)` or one folded instruction. */
static void parse_offset(WatParser *p, WBuf *out)
{
    wat_reset_func(p);
    if (wat_at_sexpr(p, "offset")) {
        p->pos += 2;
        wat_parse_instrs(p, out);
        wat_expect_rparen(p);
    } else {
        wat_parse_folded(p, out);
    }
    wbuf_byte(p, out, 0x0B);
}

static void record_func_name(WatParser *p, const WatToken *id, uint32_t idx)
{
    if (id->kind != TOK_ID) return;
    WName w = { idx, id };
    wbuf_bytes(p, &p->func_names, &w, sizeof w);
}

/* `(export "name")*` after a definition's $id. */
static void parse_inline_exports(WatParser *p, uint8_t kind, uint32_t idx)
{
    while (wat_at_sexpr(p, "export")) {
        p->pos += 2;
        parse_name(p, &p->sec[SEC_EXPORT]);
        wbuf_byte(p, &p->sec[SEC_EXPORT], kind);
        wbuf_u32(p, &p->sec[SEC_EXPORT], idx);
        p->sec_count[SEC_EXPORT]++;
        wat_expect_rparen(p);
    }
}

/* An inline `(import "m" "n")`, if present: starts the import entry. */
static bool parse_inline_import(WatParser *p, uint8_t kind)
{
    if (!wat_at_sexpr(p, "import")) return false;
    p->pos += 2;
    WBuf *out = &p->sec[SEC_IMPORT];
    parse_name(p, out);
    parse_name(p, out);
    wat_expect_rparen(p);
    wbuf_byte(p, out, kind);
    p->sec_count[SEC_IMPORT]++;
    return true;
}

/* ---- Pass 2: fields ---- */

static void parse_import(WatParser *p)
{
    WBuf *out = &p->sec[SEC_IMPORT];
    parse_name(p, out);
    parse_name(p, out);
    wat_expect_lparen(p);
    int space = space_of_keyword(wat_cur(p));
    if (space < 0) wat_unexpected(p);
    wat_advance(p);
    const WatToken *id = wat_cur(p);
    uint32_t idx = p->counts[space]++;
    if (id->kind == TOK_ID) wat_advance(p);
    switch (space) {
    case SP_FUNC:
        record_func_name(p, id, idx);
        wbuf_byte(p, out, EXT_FUNC);
        wbuf_u32(p, out, wat_parse_typeuse(p, TU_IGNORE_IDS));
        break;
    case SP_TABLE:
        wbuf_byte(p, out, EXT_TABLE);
        parse_tabletype(p, out);
        break;
    case SP_MEM:
        wbuf_byte(p, out, EXT_MEMORY);
        parse_limits(p, out);
        break;
    default:
        wbuf_byte(p, out, EXT_GLOBAL);
        parse_globaltype(p, out);
        break;
    }
    wat_expect_rparen(p);
    p->sec_count[SEC_IMPORT]++;
}

/* Local declarations as runs of (count, type). */
static void encode_locals(WatParser *p, WBuf *out, const WBuf *types)
{
    uint32_t runs = 0;
    for (size_t i = 0; i < types->len; i++)
        if (i == 0 || types->data[i] != types->data[i - 1]) runs++;
    wbuf_u32(p, out, runs);
    for (size_t i = 0; i < types->len;) {
        size_t j = i;
        while (j < types->len && types->data[j] == types->data[i]) j++;
        wbuf_u32(p, out, (uint32_t)(j - i));
        wbuf_byte(p, out, types->data[i]);
        i = j;
    }
}

static void add_local_names(WatParser *p, uint32_t func)
{
    size_t n = p->local_names.len / sizeof(WName);
    if (n == 0) return;
    WBuf *out = &p->local_name_sub;
    wbuf_u32(p, out, func);
    wbuf_u32(p, out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        WName w;
        memcpy(&w, p->local_names.data + i * sizeof w, sizeof w);
        wbuf_u32(p, out, w.idx);
        wbuf_u32(p, out, (uint32_t)w.id->len - 1);
        wbuf_bytes(p, out, w.id->text + 1, w.id->len - 1);
    }
    p->nlocal_name_funcs++;
}

static void parse_func(WatParser *p)
{
    const WatToken *id = wat_cur(p);
    uint32_t idx = p->counts[SP_FUNC]++;
    if (id->kind == TOK_ID) wat_advance(p);
    record_func_name(p, id, idx);
    parse_inline_exports(p, EXT_FUNC, idx);
    if (parse_inline_import(p, EXT_FUNC)) {
        wbuf_u32(p, &p->sec[SEC_IMPORT], wat_parse_typeuse(p, TU_IGNORE_IDS));
        return;
    }
    wat_reset_func(p);
    p->local_names.len = 0;
    uint32_t type = wat_parse_typeuse(p, TU_BIND_LOCALS);
    wbuf_u32(p, &p->sec[SEC_FUNC], type);
    p->sec_count[SEC_FUNC]++;

    WBuf *ltypes = &p->flocals;
    ltypes->len = 0;
    while (wat_at_sexpr(p, "local")) {
        p->pos += 2;
        const WatToken *lid = wat_cur(p);
        if (lid->kind == TOK_ID) {
            wat_advance(p);
            if (!wnames_add(p, &p->locals, lid->text, lid->len, p->nlocals))
                wat_fail(p, lid, "duplicate local %.*s", (int)lid->len, lid->text);
            WName w = { p->nlocals, lid };
            wbuf_bytes(p, &p->local_names, &w, sizeof w);
            wbuf_byte(p, ltypes, wat_parse_valtype(p));
            p->nlocals++;
        } else {
            while (wat_at_valtype(p)) {
                wbuf_byte(p, ltypes, wat_parse_valtype(p));
                p->nlocals++;
            }
        }
        wat_expect_rparen(p);
    }
    WBuf *body = &p->fbody;
    body->len = 0;
    p->body_map.len = 0;
    encode_locals(p, body, ltypes);
    wat_parse_instrs(p, body);
    wat_map_here(p, body);   /* the final `end` is the function's closing paren */
    wbuf_byte(p, body, 0x0B);
    wbuf_u32(p, &p->sec[SEC_CODE], (uint32_t)body->len);
    /* The body's map entries, now relative to the code section. */
    const WMapEntry *e = (const WMapEntry *)(const void *)p->body_map.data;
    for (size_t i = 0; i < p->body_map.len / sizeof *e; i++) {
        WMapEntry c = { (uint32_t)(p->sec[SEC_CODE].len + e[i].offset), e[i].tok };
        wbuf_bytes(p, &p->code_map, &c, sizeof c);
    }
    wbuf_bytes(p, &p->sec[SEC_CODE], body->data, body->len);
    p->sec_count[SEC_CODE]++;
    add_local_names(p, idx);
}

/*
 * An element segment's encoding (binary flags 0-7): `exprs` selects
 * expressions over bare function indices, `items` holds them encoded.
 */
static void emit_elem(WatParser *p, int mode, uint32_t table, const WBuf *offset, ValType type,
                      bool exprs, uint32_t count, const WBuf *items)
{
    WBuf *out = &p->sec[SEC_ELEM];
    if (mode == SEG_ACTIVE && table == 0 && type == VT_FUNCREF) {
        wbuf_byte(p, out, exprs ? 4 : 0);
        wbuf_bytes(p, out, offset->data, offset->len);
    } else if (mode == SEG_ACTIVE) {
        wbuf_byte(p, out, exprs ? 6 : 2);
        wbuf_u32(p, out, table);
        wbuf_bytes(p, out, offset->data, offset->len);
        wbuf_byte(p, out, exprs ? type : 0x00);
    } else {
        wbuf_byte(p, out, (mode == SEG_PASSIVE ? 1 : 3) | (exprs ? 4 : 0));
        wbuf_byte(p, out, exprs ? type : 0x00);
    }
    wbuf_u32(p, out, count);
    wbuf_bytes(p, out, items->data, items->len);
    p->sec_count[SEC_ELEM]++;
}

/* Items of an element list into `items`: bare function indices (returns
   false) or expressions (returns true), *count set. */
static bool parse_elem_items(WatParser *p, bool exprs, WBuf *items, uint32_t *count)
{
    *count = 0;
    items->len = 0;
    if (!exprs) {
        while (wat_at_index(p)) {
            wbuf_u32(p, items, wat_parse_index(p, SP_FUNC));
            (*count)++;
        }
        return false;
    }
    while (wat_cur(p)->kind == TOK_LPAREN) {
        if (wat_at_sexpr(p, "item")) {
            p->pos += 2;
            parse_expr(p, items);
            wat_expect_rparen(p);
        } else {
            wat_reset_func(p);
            wat_parse_folded(p, items);
            wbuf_byte(p, items, 0x0B);
        }
        (*count)++;
    }
    return true;
}

static void parse_elem(WatParser *p)
{
    p->counts[SP_ELEM]++;
    if (wat_cur(p)->kind == TOK_ID) wat_advance(p);
    int mode = SEG_PASSIVE;
    uint32_t table = 0;
    WBuf *offset = &p->flocals;
    offset->len = 0;
    if (wat_tok_is(wat_cur(p), "declare")) {
        mode = SEG_DECLARATIVE;
        wat_advance(p);
    } else {
        if (wat_at_sexpr(p, "table")) {
            p->pos += 2;
            table = wat_parse_index(p, SP_TABLE);
            wat_expect_rparen(p);
            if (wat_cur(p)->kind != TOK_LPAREN) wat_unexpected(p);
        }
        if (wat_cur(p)->kind == TOK_LPAREN) {
            mode = SEG_ACTIVE;
            parse_offset(p, offset);
        }
    }
    /* The element list: `func x*`, `reftype expr*`, or (active) bare `x*`. */
    ValType type = VT_FUNCREF;
    bool exprs = false;
    if (wat_tok_is(wat_cur(p), "func")) {
        wat_advance(p);
    } else if (wat_at_valtype(p)) {
        type = wat_parse_reftype(p);
        exprs = true;
    } else if (mode != SEG_ACTIVE) {
        wat_unexpected(p);
    }
    WBuf *items = &p->fbody;
    uint32_t count;
    parse_elem_items(p, exprs, items, &count);
    emit_elem(p, mode, table, offset, type, exprs, count, items);
    wat_expect_rparen(p);
}

static void parse_table(WatParser *p)
{
    const WatToken *id = wat_cur(p);
    uint32_t idx = p->counts[SP_TABLE]++;
    if (id->kind == TOK_ID) wat_advance(p);
    parse_inline_exports(p, EXT_TABLE, idx);
    if (parse_inline_import(p, EXT_TABLE)) {
        parse_tabletype(p, &p->sec[SEC_IMPORT]);
        return;
    }
    WBuf *out = &p->sec[SEC_TABLE];
    p->sec_count[SEC_TABLE]++;
    if (!wat_at_valtype(p)) {
        parse_tabletype(p, out);
        return;
    }
    /* `reftype (elem ...)`: a table exactly as large as its inline segment. */
    ValType type = wat_parse_reftype(p);
    if (!wat_at_sexpr(p, "elem")) wat_unexpected(p);
    p->pos += 2;
    bool exprs = wat_cur(p)->kind == TOK_LPAREN;
    WBuf *items = &p->fbody;
    uint32_t count;
    parse_elem_items(p, exprs, items, &count);
    wat_expect_rparen(p);
    wbuf_byte(p, out, type);
    wbuf_byte(p, out, 1);
    wbuf_u32(p, out, count);
    wbuf_u32(p, out, count);
    WBuf *offset = &p->flocals;
    offset->len = 0;
    wbuf_byte(p, offset, 0x41);
    wbuf_byte(p, offset, 0);
    wbuf_byte(p, offset, 0x0B);
    p->counts[SP_ELEM]++;
    emit_elem(p, SEG_ACTIVE, idx, offset, type, exprs, count, items);
}

static void emit_data(WatParser *p, int mode, uint32_t mem, const WBuf *offset, const WBuf *bytes)
{
    WBuf *out = &p->sec[SEC_DATA];
    if (mode == SEG_PASSIVE) {
        wbuf_byte(p, out, 1);
    } else if (mem == 0) {
        wbuf_byte(p, out, 0);
        wbuf_bytes(p, out, offset->data, offset->len);
    } else {
        wbuf_byte(p, out, 2);
        wbuf_u32(p, out, mem);
        wbuf_bytes(p, out, offset->data, offset->len);
    }
    wbuf_u32(p, out, (uint32_t)bytes->len);
    wbuf_bytes(p, out, bytes->data, bytes->len);
    p->sec_count[SEC_DATA]++;
}

static void parse_data_strings(WatParser *p, WBuf *bytes)
{
    bytes->len = 0;
    while (wat_cur(p)->kind == TOK_STRING) string_into(p, bytes);
}

static void parse_memory(WatParser *p)
{
    const WatToken *id = wat_cur(p);
    uint32_t idx = p->counts[SP_MEM]++;
    if (id->kind == TOK_ID) wat_advance(p);
    parse_inline_exports(p, EXT_MEMORY, idx);
    if (parse_inline_import(p, EXT_MEMORY)) {
        parse_limits(p, &p->sec[SEC_IMPORT]);
        return;
    }
    WBuf *out = &p->sec[SEC_MEM];
    p->sec_count[SEC_MEM]++;
    if (!wat_at_sexpr(p, "data")) {
        parse_limits(p, out);
        return;
    }
    /* `(data ...)`: a memory exactly as large as its inline segment. */
    p->pos += 2;
    WBuf *bytes = &p->fbody;
    parse_data_strings(p, bytes);
    wat_expect_rparen(p);
    uint32_t pages = (uint32_t)((bytes->len + 65535) / 65536);
    wbuf_byte(p, out, 1);
    wbuf_u32(p, out, pages);
    wbuf_u32(p, out, pages);
    WBuf *offset = &p->flocals;
    offset->len = 0;
    wbuf_byte(p, offset, 0x41);
    wbuf_byte(p, offset, 0);
    wbuf_byte(p, offset, 0x0B);
    p->counts[SP_DATA]++;
    emit_data(p, SEG_ACTIVE, idx, offset, bytes);
}

static void parse_data(WatParser *p)
{
    p->counts[SP_DATA]++;
    if (wat_cur(p)->kind == TOK_ID) wat_advance(p);
    int mode = SEG_PASSIVE;
    uint32_t mem = 0;
    WBuf *offset = &p->flocals;
    offset->len = 0;
    if (wat_at_sexpr(p, "memory")) {
        p->pos += 2;
        mem = wat_parse_index(p, SP_MEM);
        wat_expect_rparen(p);
        if (wat_cur(p)->kind != TOK_LPAREN) wat_unexpected(p);
    }
    if (wat_cur(p)->kind == TOK_LPAREN) {
        mode = SEG_ACTIVE;
        parse_offset(p, offset);
    }
    WBuf *bytes = &p->fbody;
    parse_data_strings(p, bytes);
    emit_data(p, mode, mem, offset, bytes);
    wat_expect_rparen(p);
}

static void parse_global(WatParser *p)
{
    const WatToken *id = wat_cur(p);
    uint32_t idx = p->counts[SP_GLOBAL]++;
    if (id->kind == TOK_ID) wat_advance(p);
    parse_inline_exports(p, EXT_GLOBAL, idx);
    if (parse_inline_import(p, EXT_GLOBAL)) {
        parse_globaltype(p, &p->sec[SEC_IMPORT]);
        return;
    }
    WBuf *out = &p->sec[SEC_GLOBAL];
    parse_globaltype(p, out);
    parse_expr(p, out);
    p->sec_count[SEC_GLOBAL]++;
}

static void parse_export(WatParser *p)
{
    WBuf *out = &p->sec[SEC_EXPORT];
    parse_name(p, out);
    wat_expect_lparen(p);
    int space = space_of_keyword(wat_cur(p));
    if (space < 0) wat_unexpected(p);
    wat_advance(p);
    static const uint8_t kinds[SP__COUNT] = {
        [SP_FUNC] = EXT_FUNC, [SP_TABLE] = EXT_TABLE, [SP_MEM] = EXT_MEMORY, [SP_GLOBAL] = EXT_GLOBAL,
    };
    wbuf_byte(p, out, kinds[space]);
    wbuf_u32(p, out, wat_parse_index(p, space));
    wat_expect_rparen(p);
    p->sec_count[SEC_EXPORT]++;
}

static void parse_field(WatParser *p)
{
    const WatToken *kw = wat_peek(p, 1);
    if (wat_tok_is(kw, "type")) {
        /* Fully handled by pass 1. */
        skip_sexpr(p);
        return;
    }
    p->pos += 2;
    if (wat_tok_is(kw, "import")) parse_import(p);
    else if (wat_tok_is(kw, "func")) parse_func(p);
    else if (wat_tok_is(kw, "table")) parse_table(p);
    else if (wat_tok_is(kw, "memory")) parse_memory(p);
    else if (wat_tok_is(kw, "global")) parse_global(p);
    else if (wat_tok_is(kw, "export")) parse_export(p);
    else if (wat_tok_is(kw, "elem")) { parse_elem(p); return; }
    else if (wat_tok_is(kw, "data")) { parse_data(p); return; }
    else if (wat_tok_is(kw, "start")) {
        if (p->has_start) wat_fail(p, kw, "multiple start sections");
        p->has_start = true;
        wbuf_u32(p, &p->sec[SEC_START], wat_parse_index(p, SP_FUNC));
    }
    wat_expect_rparen(p);
}

/* ---- Assembly ---- */

static void emit_section(WatParser *p, WBuf *out, uint8_t id, const WBuf *body, bool counted,
                         uint32_t count)
{
    WBuf *tmp = &p->fbody;
    tmp->len = 0;
    if (counted) wbuf_u32(p, tmp, count);
    wbuf_bytes(p, tmp, body->data, body->len);
    wbuf_byte(p, out, id);
    wbuf_u32(p, out, (uint32_t)tmp->len);
    wbuf_bytes(p, out, tmp->data, tmp->len);
}

static void name_into(WatParser *p, WBuf *out, const WatToken *id)
{
    wbuf_u32(p, out, (uint32_t)id->len - 1);
    wbuf_bytes(p, out, id->text + 1, id->len - 1);
}

/* The "name" custom section: module name, function names, local names. */
static void emit_name_section(WatParser *p, WBuf *out)
{
    size_t nfuncs = p->func_names.len / sizeof(WName);
    if (!p->module_id && nfuncs == 0 && p->nlocal_name_funcs == 0) return;
    WBuf *body = &p->flocals, *sub = &p->tresults;
    body->len = 0;
    wbuf_u32(p, body, 4);
    wbuf_bytes(p, body, "name", 4);
    if (p->module_id) {
        sub->len = 0;
        name_into(p, sub, p->module_id);
        wbuf_byte(p, body, 0);
        wbuf_u32(p, body, (uint32_t)sub->len);
        wbuf_bytes(p, body, sub->data, sub->len);
    }
    if (nfuncs) {
        sub->len = 0;
        wbuf_u32(p, sub, (uint32_t)nfuncs);
        for (size_t i = 0; i < nfuncs; i++) {
            WName w;
            memcpy(&w, p->func_names.data + i * sizeof w, sizeof w);
            wbuf_u32(p, sub, w.idx);
            name_into(p, sub, w.id);
        }
        wbuf_byte(p, body, 1);
        wbuf_u32(p, body, (uint32_t)sub->len);
        wbuf_bytes(p, body, sub->data, sub->len);
    }
    if (p->nlocal_name_funcs) {
        sub->len = 0;
        wbuf_u32(p, sub, p->nlocal_name_funcs);
        wbuf_bytes(p, sub, p->local_name_sub.data, p->local_name_sub.len);
        wbuf_byte(p, body, 2);
        wbuf_u32(p, body, (uint32_t)sub->len);
        wbuf_bytes(p, body, sub->data, sub->len);
    }
    emit_section(p, out, SEC_CUSTOM, body, false, 0);
}

static void assemble(WatParser *p, WBuf *out)
{
    static const uint8_t header[8] = { 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00 };
    wbuf_bytes(p, out, header, sizeof header);

    for (uint32_t i = 0; i < p->ntypes; i++) {
        const WType *t = &p->types[i];
        wbuf_byte(p, &p->sec[SEC_TYPE], 0x60);
        wbuf_u32(p, &p->sec[SEC_TYPE], t->nparams);
        wbuf_bytes(p, &p->sec[SEC_TYPE], t->params, t->nparams);
        wbuf_u32(p, &p->sec[SEC_TYPE], t->nresults);
        wbuf_bytes(p, &p->sec[SEC_TYPE], t->results, t->nresults);
    }
    if (p->ntypes) emit_section(p, out, SEC_TYPE, &p->sec[SEC_TYPE], true, p->ntypes);

    static const uint8_t order[] = {
        SEC_IMPORT, SEC_FUNC, SEC_TABLE, SEC_MEM, SEC_GLOBAL, SEC_EXPORT,
    };
    for (size_t i = 0; i < sizeof order; i++)
        if (p->sec_count[order[i]])
            emit_section(p, out, order[i], &p->sec[order[i]], true, p->sec_count[order[i]]);
    if (p->has_start) emit_section(p, out, SEC_START, &p->sec[SEC_START], false, 0);
    if (p->sec_count[SEC_ELEM])
        emit_section(p, out, SEC_ELEM, &p->sec[SEC_ELEM], true, p->sec_count[SEC_ELEM]);
    if (p->counts[SP_DATA] || p->uses_data_count) {
        WBuf empty = { 0 };
        emit_section(p, out, SEC_DATACOUNT, &empty, true, p->counts[SP_DATA]);
    }
    if (p->sec_count[SEC_CODE]) {
        emit_section(p, out, SEC_CODE, &p->sec[SEC_CODE], true, p->sec_count[SEC_CODE]);
        /* The section's contents end the binary so far. */
        p->code_base = out->len - p->sec[SEC_CODE].len;
    }
    if (p->sec_count[SEC_DATA])
        emit_section(p, out, SEC_DATA, &p->sec[SEC_DATA], true, p->sec_count[SEC_DATA]);
    emit_name_section(p, out);
}

/* ---- Entry ---- */

static void tokenize(WatParser *p, const char *text, size_t len)
{
    WatLexer lx;
    wat_lex_init(&lx, text, len, p->filename);
    size_t cap = 0;
    for (;;) {
        if (p->ntoks + 2 >= cap) {
            cap = cap ? cap * 2 : 256;
            WatToken *t = realloc(p->toks, cap * sizeof *t);
            if (!t) wat_fail(p, NULL, "out of memory");
            p->toks = t;
        }
        WatToken *t = &p->toks[p->ntoks];
        if (!wat_lex_next(&lx, t, p->err)) longjmp(p->fail, 1);
        p->ntoks++;
        if (t->kind == TOK_EOF) break;
    }
    /* A second EOF, so that looking two tokens ahead stays in bounds. */
    p->toks[p->ntoks] = p->toks[p->ntoks - 1];
    p->ntoks++;
}

/* Concatenate the strings up to `)`; the `(module ... binary|quote` is read. */
static WBuf *module_strings(WatParser *p)
{
    WBuf *b = &p->fbody;
    b->len = 0;
    while (wat_cur(p)->kind == TOK_STRING) string_into(p, b);
    wat_expect_rparen(p);
    if (wat_cur(p)->kind != TOK_EOF) wat_unexpected(p);
    return b;
}

static uint8_t *parse_module(WatParser *p, size_t *out_len)
{
    bool wrapped = wat_at_sexpr(p, "module");
    if (wrapped) {
        p->pos += 2;
        if (wat_cur(p)->kind == TOK_ID) {
            p->module_id = wat_cur(p);
            wat_advance(p);
        }
        if (wat_tok_is(wat_cur(p), "binary")) {
            wat_advance(p);
            WBuf *b = module_strings(p);
            uint8_t *bytes = malloc(b->len ? b->len : 1);
            if (!bytes) wat_fail(p, NULL, "out of memory");
            if (b->len) memcpy(bytes, b->data, b->len);
            *out_len = b->len;
            return bytes;
        }
        if (wat_tok_is(wat_cur(p), "quote")) {
            wat_advance(p);
            WBuf *b = module_strings(p);
            char *src = owned_alloc(p, b->len + 1);
            if (b->len) memcpy(src, b->data, b->len);
            src[b->len] = '\0';
            uint8_t *bytes = wat_to_wasm(src, b->len, p->filename, out_len, p->err);
            if (!bytes) longjmp(p->fail, 1);
            return bytes;
        }
    }
    size_t fields = p->pos;
    while (wat_cur(p)->kind == TOK_LPAREN) scan_field(p);
    memset(p->counts, 0, sizeof p->counts);
    p->pos = fields;
    while (wat_cur(p)->kind == TOK_LPAREN) parse_field(p);
    if (wrapped) wat_expect_rparen(p);
    if (wat_cur(p)->kind != TOK_EOF) wat_unexpected(p);

    assemble(p, &p->out);
    /* The binary now belongs to the caller. */
    uint8_t *bytes = p->out.data;
    *out_len = p->out.len;
    p->out = (WBuf){ 0 };
    return bytes;
}

static void parser_free(WatParser *p)
{
    free(p->toks);
    for (int s = 0; s < SP__COUNT; s++) free(p->names[s].slots);
    for (uint32_t i = 0; i < p->ntypes; i++) free(p->types[i].params);
    free(p->types);
    free(p->locals.slots);
    free(p->labels);
    WBuf *bufs[] = { &p->tparams, &p->tresults, &p->fbody, &p->flocals, &p->local_names,
                     &p->func_names, &p->local_name_sub, &p->body_map, &p->code_map };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]->data);
    for (size_t i = 0; i < sizeof p->sec / sizeof p->sec[0]; i++) free(p->sec[i].data);
    for (size_t i = 0; i < p->nowned; i++) free(p->owned[i]);
    free(p->owned);
    free(p->out.data);
    free(p);
}

uint8_t *wat_to_wasm(const char *text, size_t len, const char *filename,
                     size_t *out_len, WasmError *err)
{
    return wat_to_wasm_map(text, len, filename, out_len, err, NULL, NULL);
}

static int srcpos_cmp(const void *a, const void *b)
{
    uint32_t x = ((const WatSrcPos *)a)->offset, y = ((const WatSrcPos *)b)->offset;
    return (x > y) - (x < y);
}

/* The source map in its final form: binary offsets and line:col, sorted
   (folded instructions were recorded before their operands). */
static void export_map(WatParser *p, WatSrcPos **map, size_t *nmap)
{
    const WMapEntry *e = (const WMapEntry *)(const void *)p->code_map.data;
    size_t n = p->code_map.len / sizeof *e;
    WatSrcPos *m = n ? malloc(n * sizeof *m) : NULL;
    if (!m) return;
    for (size_t i = 0; i < n; i++) {
        const WatToken *t = &p->toks[e[i].tok];
        m[i] = (WatSrcPos){ (uint32_t)(p->code_base + e[i].offset), t->line, t->col };
    }
    qsort(m, n, sizeof *m, srcpos_cmp);
    *map = m;
    *nmap = n;
}

const WatSrcPos *wat_srcpos_find(const WatSrcPos *map, size_t n, size_t offset)
{
    size_t lo = 0, hi = n;   /* the first entry past `offset` is in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (map[mid].offset <= offset) lo = mid + 1;
        else hi = mid;
    }
    return lo ? &map[lo - 1] : NULL;
}

uint8_t *wat_to_wasm_map(const char *text, size_t len, const char *filename,
                         size_t *out_len, WasmError *err, WatSrcPos **map, size_t *nmap)
{
    if (map) *map = NULL;
    if (nmap) *nmap = 0;
    WasmError scratch;
    if (!err) err = &scratch;
    err->kind = ERR_NONE;
    err->offset = (size_t)-1;
    err->msg[0] = '\0';
    WatParser *volatile p = calloc(1, sizeof *p);
    if (!p) {
        err->kind = ERR_MALFORMED;
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", filename ? filename : "<text>");
        return NULL;
    }
    p->filename = filename ? filename : "<text>";
    p->err = err;
    p->want_map = map && nmap;
    uint8_t *volatile result = NULL;
    size_t n = 0;
    if (setjmp(p->fail) == 0) {
        tokenize(p, text, len);
        result = parse_module(p, &n);
        *out_len = n;
        if (p->want_map) export_map(p, map, nmap);
    }
    parser_free(p);
    return result;
}
