/*
 * WASI preview 1 (import module "wasi_snapshot_preview1"): all 45
 * functions, as wasi/api.h of wasi-libc defines them, over a capability
 * table per process (see README.md).
 *
 * An lw_wasi holds what the embedder grants: the arguments, the
 * environment, the standard streams, preopened directories and sockets.
 * Root processes start with all of it; a process spawns children with its
 * own table, narrowed by the spawn's configuration, never widened.
 *
 * Every guest pointer and length is checked against the calling instance's
 * memory; a bad one gets EFAULT, never a host crash.
 */
#ifndef LEONARDO_WASI_H
#define LEONARDO_WASI_H

#include "leonardo.h"

typedef struct lw_wasi lw_wasi;

typedef struct {
    const char *host;          /* a host directory */
    const char *guest;         /* the name the guest knows it by (NULL: the host path) */
} lw_wasi_dir;

typedef struct {
    int argc;                  /* argv[0] is the program name the guest sees */
    const char *const *argv;
    int envc;                  /* "KEY=VALUE" strings, passed through as given */
    const char *const *envp;
    int stdin_fd, stdout_fd, stderr_fd; /* host descriptors behind guest fds 0-2 (-1: none) */
    uint32_t ndirs;            /* preopened directories: guest fds 3, 4, ... */
    const lw_wasi_dir *dirs;
    uint32_t nsockets;         /* host sockets (listening or connected), after the directories */
    const int *sockets;
} lw_wasi_config;

#define LW_WASI_ERR_MAX 256

/* Copies everything in `cfg` (the host fds are duplicated, the directories
   opened).  NULL and a message in err[LW_WASI_ERR_MAX] (if not NULL) when a
   directory cannot be opened or memory runs out. */
lw_wasi *lw_wasi_new(const lw_wasi_config *cfg, char *err);
void lw_wasi_free(lw_wasi *w);

/* Define every function in `s` under "wasi_snapshot_preview1", for calls
   outside processes (lw_exec_call).  `w` must outlive the store's use of
   them.  false when out of memory. */
bool lw_wasi_define(lw_wasi *w, lw_store *s);
/* The same for a runtime's processes: its root processes start with w's
   table.  Call before the first spawn. */
bool lw_wasi_attach(lw_wasi *w, lw_runtime *rt);

/* A table of host functions: wasm types as strings, 'i' i32 and 'I' i64. */
typedef struct {
    const char *name, *params, *results;
    lw_host_fn fn;
} HostDef;

/* Define defs[0..n) in `s` under `module`, each with `env`.  false when out of memory. */
bool host_define_all(lw_store *s, const char *module, const HostDef *defs, size_t n, void *env);

/* Every table of functions a guest can import, WASI's and the process
   API's, for the tests that must reach each one (tests/test_host_fuzz.c). */
typedef struct {
    const char *module;
    const HostDef *defs;
    size_t n;
} HostTable;
#define HOST_TABLES_MAX 8
size_t host_tables(HostTable out[HOST_TABLES_MAX]);
const HostDef *process_api_defs(size_t *n);

#endif
