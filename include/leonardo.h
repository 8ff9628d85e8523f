/*
 * leonardo's embedding API.
 *
 * A host loads a module (decode, validate, translate), makes host objects
 * (functions, memories, tables, globals), defines them under
 * "module"."name" pairs in a store, instantiates modules against the store
 * and calls exported functions on an execution context.
 *
 * An execution context (lw_exec) holds the wasm frame stack.  Wasm calls
 * never recurse on the C stack, so lw_exec_call() can stop at any
 * instruction boundary when its fuel slice runs out (LW_YIELD) and
 * lw_exec_resume() carries on exactly there.  The scheduler builds on this.
 */
#ifndef LEONARDO_H
#define LEONARDO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lw_module lw_module;     /* decoded, validated, translated; shared, read-only */
typedef struct lw_store lw_store;       /* owns instances and host objects, and the name table */
typedef struct lw_instance lw_instance;
typedef struct lw_func lw_func;         /* a function instance (wasm or host) */
typedef struct lw_memory lw_memory;
typedef struct lw_table lw_table;
typedef struct lw_global lw_global;
typedef struct lw_exec lw_exec;         /* frame stack + fuel + trap state */

/* Value types, by their binary encoding. */
typedef enum {
    LW_I32 = 0x7F,
    LW_I64 = 0x7E,
    LW_F32 = 0x7D,
    LW_F64 = 0x7C,
    LW_V128 = 0x7B,
    LW_FUNCREF = 0x70,
    LW_EXTERNREF = 0x6F,
} lw_valtype;

/*
 * A value.  Floats are kept as bit patterns so NaN payloads survive.
 * A funcref is an lw_func* (NULL is ref.null); an externref is an opaque
 * pointer-sized host value (0 is ref.null).
 */
typedef struct {
    uint8_t type; /* lw_valtype */
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32;
        uint64_t f64;
        uint8_t v128[16];
        lw_func *func;
        uintptr_t ext;
    } of;
} lw_value;

typedef enum {
    LW_OK = 0,
    LW_TRAP,      /* a trap; see lw_exec_trap_message()/lw_exec_backtrace() */
    LW_YIELD,     /* the fuel slice ran out; lw_exec_resume() continues */
    LW_EXIT,      /* a host function asked to end the program (proc_exit); see lw_exec_exit_code() */
    LW_BLOCK,     /* a host function parked the call (a process waiting for a message or a timer):
                     lw_exec_resume() continues by calling that host function again */
} lw_status;

/* Errors from loading, linking and instantiating. */
typedef enum {
    LW_ERR_NONE = 0,
    LW_ERR_MALFORMED,     /* binary or text does not decode */
    LW_ERR_INVALID,       /* decodes but does not validate */
    LW_ERR_LINK,          /* an import is missing or has the wrong type */
    LW_ERR_TRAP,          /* a trap during instantiation (segments, start function) */
    LW_ERR_IO,
    LW_ERR_NOEXPORT,      /* lw_runtime_spawn: no such exported function, or not with those arguments */
} lw_errkind;

typedef struct {
    lw_errkind kind;
    size_t offset;        /* byte offset in the binary, or (size_t)-1 */
    char msg[256];        /* human-readable, says where (section, function, offset) */
} lw_error;

/* ---- modules ---- */

/* Decode, validate and prepare a binary module.  NULL and *err on failure. */
lw_module *lw_module_load(const uint8_t *bytes, size_t len, lw_error *err);
/* Parse a text module (one `(module ...)` or its bare fields) and load it. */
lw_module *lw_module_load_wat(const char *text, size_t len, const char *filename, lw_error *err);
void lw_module_free(lw_module *m);
uint64_t lw_module_hash(const lw_module *m);
/*
 * Print to `out` the threaded code the interpreter runs for the module's
 * defined functions, translating those not yet translated: each under a
 * `;; NAME` line, one instruction a line (`leonardo dis`; src/interp/README.md
 * says how to read it).  With `name` non-NULL, only the functions that go
 * by it: a name-section name, an export's name, `func[N]` or N, the index
 * in the function index space.  Returns how many functions it printed.
 */
size_t lw_module_disassemble(lw_module *m, const char *name, FILE *out);

/* ---- store and host objects ---- */

lw_store *lw_store_new(void);
void lw_store_free(lw_store *s);   /* frees everything made in it */

/*
 * A host function.  `slots` holds the arguments on entry (one uint64_t
 * each: i32 and f32 in the low 32 bits, refs as pointers; a v128 takes two,
 * lanes 0-7's bytes first) and receives the results on return, packed the
 * same way.  Return LW_OK, LW_TRAP (after lw_exec_set_trap), LW_EXIT
 * (after lw_exec_set_exit), or, in a process, LW_BLOCK to park it (the
 * function runs again when the process is woken) or LW_YIELD: the call is
 * done (its results written) and the slice ends right after it, as if the
 * fuel had run out there.
 */
typedef lw_status (*lw_host_fn)(lw_exec *ex, void *env, uint64_t *slots);

lw_func *lw_func_new_host(lw_store *s, const lw_valtype *params, uint32_t nparams,
                          const lw_valtype *results, uint32_t nresults,
                          lw_host_fn fn, void *env, const char *name);
/* max_pages = UINT32_MAX means no maximum. */
lw_memory *lw_memory_new(lw_store *s, uint32_t min_pages, uint32_t max_pages);
lw_table *lw_table_new(lw_store *s, lw_valtype elem, uint32_t min, uint32_t max, lw_value init);
lw_global *lw_global_new(lw_store *s, lw_value v, bool mutable_);

typedef enum { LW_EXTERN_FUNC = 0, LW_EXTERN_TABLE = 1, LW_EXTERN_MEMORY = 2, LW_EXTERN_GLOBAL = 3 } lw_externkind;
typedef struct {
    lw_externkind kind;
    union { lw_func *func; lw_table *table; lw_memory *memory; lw_global *global; } of;
} lw_extern;

/* Make `ext` importable as module.name.  Later definitions replace earlier ones. */
void lw_store_define(lw_store *s, const char *module, const char *name, lw_extern ext);
/* Define every export of `inst` under module name `name` (the wast `register`). */
void lw_store_register(lw_store *s, const char *name, lw_instance *inst);

/* ---- instances ---- */

/*
 * Instantiate `m`: resolve and type-check imports against the store,
 * initialise globals, tables and memories (2.0 semantics: segments in
 * order, a trap leaves earlier writes in place) and run the start
 * function on `ex`.  NULL and *err (LW_ERR_LINK or LW_ERR_TRAP) on failure.
 * The instance belongs to the store.
 */
lw_instance *lw_instantiate(lw_store *s, lw_module *m, lw_exec *ex, lw_error *err);
bool lw_instance_export(lw_instance *inst, const char *name, lw_extern *out);
const lw_module *lw_instance_module(const lw_instance *inst);

/* The type of function export `name` of m (false if there is none), as lw_func_type gives it. */
bool lw_module_export_type(const lw_module *m, const char *name, const lw_valtype **params, uint32_t *nparams,
                           const lw_valtype **results, uint32_t *nresults);
void lw_func_type(const lw_func *f, const lw_valtype **params, uint32_t *nparams,
                  const lw_valtype **results, uint32_t *nresults);
lw_value lw_global_get(const lw_global *g);
uint8_t *lw_memory_data(lw_memory *mem, uint64_t *size_bytes);
uint32_t lw_table_size(const lw_table *t);

/* ---- execution ---- */

typedef struct {
    uint32_t max_call_depth; /* frames; exceeding it traps "call stack exhausted" (0: default) */
    size_t stack_slots;      /* value slots for all frames (0: default) */
} lw_exec_config;

lw_exec *lw_exec_new(lw_store *s, const lw_exec_config *cfg);
void lw_exec_free(lw_exec *ex);

/*
 * Fuel.  Every instruction costs one unit, charged per straight-line run.
 * With a slice of K > 0, a call returns LW_YIELD after about K units and
 * lw_exec_resume() continues exactly where it stopped.  A hard limit > 0
 * makes running out the trap "out of fuel".  0 means none.
 */
void lw_exec_set_fuel_slice(lw_exec *ex, int64_t slice);
void lw_exec_set_fuel_limit(lw_exec *ex, int64_t limit);
uint64_t lw_exec_fuel_used(const lw_exec *ex);

/* Call `f` with args (checked against its type).  LW_OK leaves results for lw_exec_results(). */
lw_status lw_exec_call(lw_exec *ex, lw_func *f, const lw_value *args, uint32_t nargs);
lw_status lw_exec_resume(lw_exec *ex);
/* Copy the results of the last finished call (n is the function's result count). */
void lw_exec_results(lw_exec *ex, lw_value *out, uint32_t n);

/* The trap of the last LW_TRAP, with the spec's wording, e.g. "integer divide by zero". */
const char *lw_exec_trap_message(const lw_exec *ex);
/* The backtrace of the last trap, innermost first, one function name per line. */
const char *lw_exec_backtrace(const lw_exec *ex);
int lw_exec_exit_code(const lw_exec *ex);

/* For host functions: the calling instance's memory 0 (NULL if none), and trap/exit. */
lw_memory *lw_exec_caller_memory(lw_exec *ex);
lw_instance *lw_exec_caller_instance(lw_exec *ex);
void lw_exec_set_trap(lw_exec *ex, const char *msg);
void lw_exec_set_exit(lw_exec *ex, int code);
void *lw_exec_userdata(lw_exec *ex);
void lw_exec_set_userdata(lw_exec *ex, void *p);

/* ---- processes (src/sched) ---- */

/*
 * A runtime runs processes: each an instance of a module with its own
 * memory, stacks, mailbox and configuration, on `threads` worker threads,
 * preempted every `slice` units of fuel.  Processes import leonardo's
 * process API from the module "leonardo" (include/leonardo/process.h) and
 * whatever else the embedder defines in lw_runtime_store().
 */
typedef struct lw_runtime lw_runtime;
typedef struct {
    uint32_t threads;       /* worker threads; 0: one per core */
    int64_t slice;          /* fuel per time slice; 0: the default */
    bool verbose;           /* report deaths with their whole backtrace */
    uint64_t max_memory;    /* the root configuration: linear memory bytes (0: the spec's limit) */
    uint64_t max_fuel;      /* fuel per process (0: none) */
} lw_runtime_config;

#define LW_PROC_MAX_RESULTS 8

typedef struct {
    int64_t reason;         /* 0 normal, an exit value, or LW_REASON_* (leonardo/process.h) */
    char text[256];         /* the reason in words, e.g. "trap: integer divide by zero" */
    const char *backtrace;  /* for a trap: innermost function first (valid until lw_runtime_free) */
    bool returned;          /* its function returned (not exit, trap or kill): results below */
    uint32_t nresults;      /* at most LW_PROC_MAX_RESULTS are kept */
    lw_value results[LW_PROC_MAX_RESULTS];
} lw_proc_result;

lw_runtime *lw_runtime_new(const lw_runtime_config *cfg);
/* The store processes import from; define host functions in it before the first spawn. */
lw_store *lw_runtime_store(lw_runtime *rt);
/* Start a process running export `name` of `m`; its pid, or 0 and *err. */
uint64_t lw_runtime_spawn(lw_runtime *rt, lw_module *m, const char *name, const lw_value *args,
                          uint32_t nargs, lw_error *err);
/* Run until that process ends, and say how it ended. */
void lw_runtime_wait(lw_runtime *rt, uint64_t pid, lw_proc_result *out);
/* Kill what still runs, stop the workers, free everything. */
void lw_runtime_free(lw_runtime *rt);

#ifdef __cplusplus
}
#endif
#endif
