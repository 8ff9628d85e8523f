/*
 * Private state of the WAT parser, shared by wat.c (module fields and the
 * binary encoding) and wat_instr.c (instructions and type uses).
 *
 * Errors unwind with longjmp to wat_to_wasm, so every allocation made while
 * parsing hangs off the parser and is freed in one place.
 */
#ifndef LEONARDO_WAT_INTERNAL_H
#define LEONARDO_WAT_INTERNAL_H

#include <setjmp.h>
#include "wat_lex.h"

/* A growable byte buffer. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} WBuf;

/* A hash map from $names (token text, pointing into the source) to indices. */
typedef struct {
    const char *name;
    size_t len;
    uint32_t idx;
} WNameEntry;

typedef struct {
    WNameEntry *slots;
    size_t cap, count;
} WNameMap;

/* The module-level index spaces. */
enum { SP_TYPE, SP_FUNC, SP_TABLE, SP_MEM, SP_GLOBAL, SP_ELEM, SP_DATA, SP__COUNT };

typedef struct {
    ValType *params, *results;
    uint32_t nparams, nresults;
} WType;

/* A name for the name section: an index and the $id token naming it. */
typedef struct {
    uint32_t idx;
    const WatToken *id;
} WName;

typedef struct WatParser {
    const char *filename;
    WatToken *toks;
    size_t ntoks, pos;
    jmp_buf fail;
    WasmError *err;

    WNameMap names[SP__COUNT];
    uint32_t counts[SP__COUNT];   /* pass 1: entries seen; pass 2: entries emitted */

    WType *types;                 /* explicit types, then implicit ones */
    uint32_t ntypes, types_cap;

    /* The function (or constant expression) being parsed. */
    WNameMap locals;
    uint32_t nlocals;             /* parameters and locals */
    const WatToken **labels;      /* label stack; NULL where unnamed */
    size_t nlabels, labels_cap;
    unsigned depth;               /* nesting of blocks and folded instructions */
    WBuf tparams, tresults;       /* scratch for type uses */
    bool uses_data_count;         /* memory.init or data.drop seen */
    WBuf fbody, flocals;          /* scratch: a function's code entry and local types */
    WBuf local_names;             /* scratch: (index, token) of the named locals, as WName */

    /* Pass 2 output: section contents by section id, without their counts. */
    WBuf sec[13];
    uint32_t sec_count[13];
    bool has_start;
    const WatToken *module_id;    /* (module $name ...) */
    WBuf func_names;              /* WName entries, by function index */
    WBuf local_name_sub;          /* the name section's local names, encoded */
    uint32_t nlocal_name_funcs;
    WBuf out;                     /* the binary being assembled */

    /* Source map: (offset in fbody, token index) for the body being parsed,
       then (offset in sec[SEC_CODE], token index) for the whole section. */
    bool want_map;
    WBuf body_map, code_map;
    size_t code_base;             /* offset of the code section's contents in the binary */
    const char *first_def;        /* pass 1: the kind of the first definition, for "import after" */

    /* Memory owned by the parse, freed at the end. */
    void **owned;
    size_t nowned, owned_cap;
} WatParser;

/* One source-map entry: a byte offset and the token there. */
typedef struct {
    uint32_t offset, tok;
} WMapEntry;

/* Record that the next instruction written to `out` comes from the current
   token (for function bodies; see WatSrcPos in wat.h). */
void wat_map_here(WatParser *p, const WBuf *out);

_Noreturn void wat_fail(WatParser *p, const WatToken *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Buffers; they fail the parse when memory runs out. */
void wbuf_reserve(WatParser *p, WBuf *b, size_t extra);
void wbuf_byte(WatParser *p, WBuf *b, uint8_t v);
void wbuf_bytes(WatParser *p, WBuf *b, const void *data, size_t n);
void wbuf_u32(WatParser *p, WBuf *b, uint32_t v);
void wbuf_s32(WatParser *p, WBuf *b, int32_t v);
void wbuf_s64(WatParser *p, WBuf *b, int64_t v);

/* Name maps: add returns false on a duplicate. */
bool wnames_add(WatParser *p, WNameMap *m, const char *name, size_t len, uint32_t idx);
bool wnames_find(const WNameMap *m, const char *name, size_t len, uint32_t *idx);
void wnames_clear(WNameMap *m);

/* Tokens. */
static inline const WatToken *wat_cur(const WatParser *p) { return &p->toks[p->pos]; }
static inline const WatToken *wat_peek(const WatParser *p, size_t k)
{
    size_t i = p->pos + k;
    return &p->toks[i < p->ntoks ? i : p->ntoks - 1];
}
static inline void wat_advance(WatParser *p)
{
    if (p->pos + 1 < p->ntoks) p->pos++;
}
bool wat_tok_is(const WatToken *t, const char *keyword);
_Noreturn void wat_unexpected(WatParser *p);
/* Whether the next tokens are "(" keyword. */
bool wat_at_sexpr(const WatParser *p, const char *keyword);
void wat_expect_lparen(WatParser *p);
void wat_expect_rparen(WatParser *p);
void wat_expect_keyword(WatParser *p, const char *keyword);
uint32_t wat_parse_u32_tok(WatParser *p);

/* An index in a module-level space: a number or a bound $id. */
uint32_t wat_parse_index(WatParser *p, int space);
bool wat_at_index(const WatParser *p);

ValType wat_parse_valtype(WatParser *p);
ValType wat_parse_reftype(WatParser *p);
bool wat_at_valtype(const WatParser *p);

/* Type uses: how ids on parameters are treated. */
enum { TU_BIND_LOCALS, TU_IGNORE_IDS, TU_NO_IDS };
uint32_t wat_parse_typeuse(WatParser *p, int mode);
/* The same, but false when there is no `(type x)`: the signature is then
   only in p->tparams and p->tresults. */
bool wat_parse_sig(WatParser *p, int mode, uint32_t *idx);
/* Append a type definition, whether or not an equal one exists. */
uint32_t wat_add_type(WatParser *p, const ValType *params, uint32_t np,
                      const ValType *results, uint32_t nr);
uint32_t wat_type_index(WatParser *p, const ValType *params, uint32_t np,
                        const ValType *results, uint32_t nr);

/* Instructions: a sequence up to `)` (not consumed), and one folded one. */
void wat_parse_instrs(WatParser *p, WBuf *out);
void wat_parse_folded(WatParser *p, WBuf *out);
/* Reset the function context (locals and labels). */
void wat_reset_func(WatParser *p);

#endif
