/*
 * The text format.  A WAT module is parsed and encoded as a binary module,
 * which then goes through the one binary decoder (module_decode), so text and
 * binary share every later stage.
 */
#ifndef LEONARDO_WAT_H
#define LEONARDO_WAT_H

#include "module.h"

/*
 * Parse `text` (a `(module ...)` form, or bare module fields) and encode it as
 * a binary module.  Returns malloc'd bytes and sets *out_len, or NULL with
 * *err filled: kind ERR_MALFORMED and msg "FILE:LINE:COL: message".
 * `(module binary ...)` and `(module quote ...)` are accepted too.
 */
uint8_t *wat_to_wasm(const char *text, size_t len, const char *filename,
                     size_t *out_len, WasmError *err);

/*
 * Where each instruction of the encoded code section came from, so that a
 * validation error, which knows only a byte offset in the binary, can be
 * reported at the FILE:LINE:COL of the text.  Sorted by offset.
 */
typedef struct {
    uint32_t offset;     /* byte offset of the instruction in the binary */
    uint32_t line, col;  /* its mnemonic in the text */
} WatSrcPos;

/* wat_to_wasm, and also the source map (malloc'd; NULL and 0 if none). */
uint8_t *wat_to_wasm_map(const char *text, size_t len, const char *filename,
                         size_t *out_len, WasmError *err, WatSrcPos **map, size_t *nmap);

/* The entry of `map` at or before `offset`, or NULL. */
const WatSrcPos *wat_srcpos_find(const WatSrcPos *map, size_t n, size_t offset);

#endif
