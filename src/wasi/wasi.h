/*
 * A minimal WASI preview 1 (import module "wasi_snapshot_preview1"): what a
 * C program built with wasi-libc needs to start, print, allocate, read its
 * arguments and environment, read the clock and get random bytes.
 *
 * Implemented: args_get, args_sizes_get, environ_get, environ_sizes_get,
 * clock_time_get, clock_res_get, random_get, proc_exit, sched_yield,
 * fd_write, fd_read, fd_seek, fd_tell, fd_close, fd_fdstat_get,
 * fd_prestat_get, fd_prestat_dir_name.  Only the three standard streams
 * exist; there are no preopened directories yet (fd_prestat_get answers
 * EBADF, which ends wasi-libc's preopen scan).  Every other preview 1
 * function is defined with its proper type and answers ENOSYS, so programs
 * that merely link them still run.  The full WASI is a later piece of work.
 *
 * Every guest pointer and length is checked against the calling instance's
 * memory; a bad one gets EFAULT, never a host crash.
 */
#ifndef LEONARDO_WASI_H
#define LEONARDO_WASI_H

#include "leonardo.h"

typedef struct lw_wasi lw_wasi;

typedef struct {
    int argc;                  /* argv[0] is the program name the guest sees */
    const char *const *argv;
    int envc;                  /* "KEY=VALUE" strings, passed through as given */
    const char *const *envp;
    int stdin_fd, stdout_fd, stderr_fd; /* host descriptors behind guest fds 0-2 */
} lw_wasi_config;

/* Copies everything in `cfg`; NULL when out of memory. */
lw_wasi *lw_wasi_new(const lw_wasi_config *cfg);
void lw_wasi_free(lw_wasi *w);

/* Define every function above in `s` under "wasi_snapshot_preview1".
   `w` must outlive the store's use of them.  false when out of memory. */
bool lw_wasi_define(lw_wasi *w, lw_store *s);

/* A table of host functions: wasm types as strings, 'i' i32 and 'I' i64. */
typedef struct {
    const char *name, *params, *results;
    lw_host_fn fn;
} HostDef;

/* Define defs[0..n) in `s` under `module`, each with `env`.  false when out of memory. */
bool host_define_all(lw_store *s, const char *module, const HostDef *defs, size_t n, void *env);

#endif
