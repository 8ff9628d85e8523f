/*
 * The one in-memory representation of a WebAssembly module.
 *
 * The binary decoder (decode.c) builds it; the text parser reaches it by
 * encoding binary and handing that to the decoder, so there is one path.
 * The validator checks it, and the translator (src/interp/) reads it.
 *
 * A Module owns a private copy of the binary it was decoded from; code
 * bodies, data bytes and names point into that copy (`bytes`), so decoding
 * allocates little and the hot parts stay contiguous.
 */
#ifndef LEONARDO_MODULE_H
#define LEONARDO_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value types, by their binary encoding. */
enum {
    VT_I32 = 0x7F,
    VT_I64 = 0x7E,
    VT_F32 = 0x7D,
    VT_F64 = 0x7C,
    VT_V128 = 0x7B,
    VT_FUNCREF = 0x70,
    VT_EXTERNREF = 0x6F,
};
typedef uint8_t ValType;

static inline bool valtype_is_ref(ValType t) { return t == VT_FUNCREF || t == VT_EXTERNREF; }
static inline bool valtype_is_num(ValType t)
{
    return t == VT_I32 || t == VT_I64 || t == VT_F32 || t == VT_F64;
}

/* External kinds, by their binary encoding (imports and exports). */
enum { EXT_FUNC = 0, EXT_TABLE = 1, EXT_MEMORY = 2, EXT_GLOBAL = 3 };

/* The opcodes, from the one table. */
enum {
#define OP(id, text, prefix, code, imm, sig) OP_##id,
#include "opcodes.def"
#undef OP
    OP__COUNT
};

typedef struct {
    uint32_t nparams, nresults;
    ValType *params;  /* nparams entries */
    ValType *results; /* nresults entries */
} FuncType;

typedef struct {
    uint32_t min;
    uint32_t max;     /* valid only if has_max */
    bool has_max;
} Limits;

typedef struct {
    ValType elem;     /* VT_FUNCREF or VT_EXTERNREF */
    Limits limits;
} TableType;

typedef struct {
    Limits limits;    /* in 64 KiB pages */
} MemType;

typedef struct {
    ValType type;
    bool mut;
} GlobalType;

/*
 * A constant expression.  In 2.0 every constant expression is exactly one
 * instruction followed by `end`, so it is kept decoded.
 */
typedef struct {
    uint16_t op;       /* OP_I32_CONST, OP_I64_CONST, OP_F32_CONST, OP_F64_CONST,
                          OP_V128_CONST, OP_REF_NULL, OP_REF_FUNC or OP_GLOBAL_GET */
    ValType type;      /* the type it produces */
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32;  /* bit pattern, so NaN payloads survive */
        uint64_t f64;  /* bit pattern */
        uint32_t index;/* ref.func function index, or global.get index */
        ValType reftype; /* ref.null */
        uint8_t v128[16];/* v128.const, lane 0 first */
    } u;
    uint32_t offset;   /* byte offset of the expression in the binary */
} ConstExpr;

typedef struct {
    char *module;      /* NUL-terminated copies (names may hold NUL bytes: use the lengths) */
    char *name;
    uint32_t module_len, name_len;
    uint8_t kind;      /* EXT_* */
    union {
        uint32_t func_type; /* type index */
        TableType table;
        MemType mem;
        GlobalType global;
    } u;
} Import;

typedef struct {
    char *name;
    uint32_t name_len;
    uint8_t kind;      /* EXT_* */
    uint32_t index;    /* in the index space of that kind (imports first) */
} Export;

/* A function defined in the module (imported functions have none). */
typedef struct {
    uint32_t type;          /* type index */
    uint32_t nlocals;       /* declared locals, not counting parameters */
    ValType *local_types;   /* nlocals entries */
    const uint8_t *code;    /* the instruction bytes, after the locals, up to and including the final `end` */
    uint32_t code_len;
    uint32_t code_offset;   /* byte offset of `code` in the binary, for messages */
} Func;

typedef struct {
    GlobalType type;
    ConstExpr init;
} Global;

enum { SEG_ACTIVE, SEG_PASSIVE, SEG_DECLARATIVE };

typedef struct {
    uint8_t mode;        /* SEG_* */
    ValType type;        /* VT_FUNCREF or VT_EXTERNREF */
    uint32_t table;      /* active only */
    ConstExpr offset;    /* active only */
    uint32_t count;
    ConstExpr *items;    /* each ref.func, ref.null or global.get */
} Elem;

typedef struct {
    uint8_t mode;        /* SEG_ACTIVE or SEG_PASSIVE */
    uint32_t memory;     /* active only */
    ConstExpr offset;    /* active only */
    const uint8_t *bytes;
    uint32_t len;
} Data;

typedef struct {
    char *name;
    uint32_t name_len;
    const uint8_t *bytes;
    uint32_t len;
    uint32_t offset;     /* byte offset of the section payload */
} CustomSection;

typedef struct {
    uint8_t *bytes;      /* the module's own copy of its binary */
    size_t len;
    uint64_t hash;       /* XXH3-64 of the binary: the module cache key */

    uint32_t ntypes;
    FuncType *types;

    uint32_t nimports;
    Import *imports;

    /* Index spaces: imports first, then definitions. */
    uint32_t nfuncs, nfunc_imports;      /* nfuncs counts both */
    uint32_t *func_types;                /* nfuncs entries: type index of every function */
    Func *funcs;                         /* nfuncs - nfunc_imports defined functions */

    uint32_t ntables, ntable_imports;
    TableType *tables;                   /* ntables entries, imports first */

    uint32_t nmems, nmem_imports;
    MemType *mems;                       /* nmems entries, imports first */

    uint32_t nglobals, nglobal_imports;
    GlobalType *global_types;            /* nglobals entries, imports first */
    Global *globals;                     /* nglobals - nglobal_imports defined globals */

    uint32_t nexports;
    Export *exports;

    bool has_start;
    uint32_t start;

    uint32_t nelems;
    Elem *elems;

    bool has_data_count;
    bool uses_v128;                      /* a v128 type or a SIMD instruction anywhere: its frames are wide */
    uint32_t data_count;
    uint32_t ndatas;
    Data *datas;

    uint32_t ncustoms;
    CustomSection *customs;

    /* From the "name" custom section, when present and well formed. */
    char *module_name;
    char **func_names;                   /* nfuncs entries, NULL where unnamed; NULL if none */

    /* Functions that appear in a ref.func outside function bodies (elements,
       globals, exports): the only ones a body's ref.func may name. */
    uint8_t *func_declared;              /* nfuncs flags */
} Module;

/* Where a decode or validation error happened and what it was. */
enum { ERR_NONE = 0, ERR_MALFORMED, ERR_INVALID, ERR_LINK, ERR_TRAP, ERR_IO };

typedef struct {
    int kind;            /* ERR_* */
    size_t offset;       /* byte offset in the binary, or (size_t)-1 */
    char msg[256];       /* e.g. "code section, function 3: type mismatch ... (at byte 0x1a2)" */
} WasmError;

/* Decode a binary module.  Returns NULL and fills *err (ERR_MALFORMED) on failure. */
Module *module_decode(const uint8_t *bytes, size_t len, WasmError *err);

/* Validate a decoded module.  Returns false and fills *err (ERR_INVALID). */
bool module_validate(const Module *m, WasmError *err);

void module_free(Module *m);

/* Name of function `idx` for messages: its name-section name or "func[idx]". */
const char *module_func_name(const Module *m, uint32_t idx, char *buf, size_t buflen);

#endif
