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

#endif
