/*
 * `leonardo wast FILE.wast...`: the runner of the WebAssembly spec test
 * scripts (the .wast format of the reference interpreter).
 */
#ifndef LEONARDO_CLI_WAST_H
#define LEONARDO_CLI_WAST_H

#include <stdbool.h>
#include "leonardo.h"

/*
 * argv[0] is the subcommand's name ("wast"); then options and files:
 *   -v               print every command and its outcome
 *   --fuel-slice K   run with a fuel slice of K, resuming after each yield
 * Prints one `FILE: N passed, M failed` line per file, each failure above
 * it.  Returns 0 when nothing failed, 1 when something did, 64 (EX_USAGE) on
 * a bad command line, like the rest of the CLI.
 */
int wast_main(int argc, char **argv);

/*
 * Define the reference interpreter's `spectest` module in `s`: globals
 * global_i32/i64/f32/f64 (666, 666.6), table (10 20 funcref), memory (1 2)
 * and the print functions.  The print functions write their arguments to
 * stdout only when `verbose` is set.
 */
void spectest_define(lw_store *s, bool verbose);

#endif
