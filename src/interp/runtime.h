/*
 * Internal runtime objects behind include/leonardo.h.
 *
 * runtime.c owns the store, host objects, instantiation and the lw_exec_*
 * entry points; translate.c turns a function body into threaded code;
 * interp.c runs it.  This header is the contract between them.
 */
#ifndef LEONARDO_RUNTIME_H
#define LEONARDO_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include "leonardo.h"
#include "decode/module.h"

typedef struct CompiledFunc CompiledFunc; /* translate.h */

/*
 * A function type interned in the process-wide type table, so two types are
 * equal exactly when their pointers are (call_indirect checks one compare).
 */
typedef struct FuncSig {
    uint32_t nparams, nresults;
    const ValType *params, *results;
} FuncSig;

const FuncSig *sig_intern(const FuncType *t);   /* thread-safe, never freed */

struct lw_func {
    const FuncSig *sig;
    bool is_host;
    union {
        struct {
            lw_instance *inst;
            uint32_t index;              /* in the module's function index space */
            CompiledFunc *code;          /* NULL until translated (lazy) */
        } wasm;
        struct {
            lw_host_fn fn;
            void *env;
            char *name;
        } host;
    } u;
};

struct lw_memory {
    uint8_t *data;          /* may move on grow: the interpreter reloads it (see README) */
    uint64_t size;          /* bytes */
    uint32_t pages, max_pages;  /* max_pages: the declared max, or 65536 */
    bool has_max;
    struct lw_arena *pool;  /* data is a slot of this arena (a process's memory), or NULL: its own mapping */
    uint64_t touched;       /* bytes from the start that may have been written: size, except while
                               pooled, where it grows as the memory is used (memory_touch) */
    const uint8_t *image;   /* pooled: the initial contents, [0, image_size), copied in as touched grows */
    uint64_t image_size;
};

struct lw_table {
    ValType elem;
    uint32_t size, max;     /* max: the declared max, or UINT32_MAX */
    bool has_max;
    bool elems_in_block;    /* elems is part of a spawned process's instance block, not malloc'd
                               (instance.c): growing copies them out, and nobody frees them */
    uint64_t *elems;        /* lw_func* or externref value, 0 = null */
};

struct lw_global {
    ValType type;
    bool mut;
    uint64_t val;           /* same slot encoding as the interpreter; a v128's low half */
    uint64_t hi;            /* a v128's high half (lanes 8-15 of its bytes) */
};

struct lw_instance {
    lw_module *module;
    const Module *m;        /* == &module->... decoded representation */
    lw_func **funcs;        /* nfuncs: imports resolved, then own */
    lw_table **tables;
    lw_memory **mems;
    lw_global **globals;
    const FuncSig **types;  /* interned, by type index */
    bool *elem_dropped;     /* nelems */
    bool *data_dropped;     /* ndatas */
    lw_memory *mem0;        /* mems[0] or NULL: the interpreter's fast path */
};

struct lw_module {
    Module *m;
    CompiledFunc **code;    /* per defined function, shared by every instance; lazily filled */
    const FuncSig **sigs;   /* interned, by type index */
    /* instance_new: the imports as resolved and checked in the first store
       processes of this module were made against (instance.c) */
    struct ImportCache *_Atomic imports;
    /* instance_new: memory 0 as the active data segments leave it, shared by
       the module's processes, which copy in what they touch (instance.c) */
    struct DataImage *_Atomic image;
};

/*
 * One activation record on an lw_exec's frame stack.  frames[d] describes
 * the function running at depth d; frames[base] (base = entry_depth - 1) is
 * a sentinel, or the wasm frame of the host function that called in.
 *
 * A call within one instance writes only ret_ip, fp and code: the instance
 * and its memory stay in the interpreter's registers.  So `inst` is written
 * only where it is read: for the entry frame, for the top frame whenever the
 * interpreter leaves its loop (host call, yield), and for a frame that calls
 * into another instance.  Such a call also saves its return address in
 * xret_ip and gives the callee a ret_ip whose handler restores both.
 */
typedef struct Frame {
    const void *ret_ip;     /* where the caller continues when this returns */
    uint64_t *fp;           /* first slot of this frame: params, locals, operands (translate.c) */
    CompiledFunc *code;     /* NULL for the sentinel */
    lw_instance *inst;      /* the instance this frame runs in (see above for when it is set) */
    const void *xret_ip;    /* during a call into another instance: where this frame continues */
    const FuncSig *xsig;    /* and, when the callee's frames are of the other width, its type */
    uint64_t *xfp;          /* and its frame: the results are moved to this frame's width there */
} Frame;

struct lw_exec {
    lw_store *store;
    bool borrowed_stacks;  /* the stack (and at first the frames) live in a block the creator owns (exec_new_in) */
    bool frames_owned;     /* frames is this exec's own allocation */
    uint32_t frames_cap;   /* entries in frames; grows up to max_depth + 2 (exec_grow_frames) */
    uint64_t *stack, *stack_end;   /* value slots for all frames; stack_end may be a soft limit: */
    uint64_t *stack_limit;         /* the real end (exec_grow_stack moves stack_end towards it) */
    uint64_t *sp;          /* first free slot while a host function runs */
    Frame *frames;         /* max_depth + 2 entries */
    uint32_t depth, max_depth;

    /* Fuel: `fuel` counts down within a slice; the interpreter yields (or,
       past the hard limit, traps) when it is <= 0 at a check point: a taken
       branch or a call. */
    int64_t fuel;
    int64_t slice;         /* 0: no slicing */
    int64_t limit;         /* 0: no hard limit; else on `used` counted from limit_base */
    uint64_t limit_base;
    int64_t budget;        /* what `fuel` started at in the current slice */
    uint64_t used;         /* fuel consumed by finished slices */

    /* Saved state while suspended (LW_YIELD): fp and instance come from frames[depth]. */
    const void *ip;
    bool suspended, running;
    uint32_t entry_depth;  /* depth of the frame lw_exec_call entered */
    lw_func *entry;        /* the function lw_exec_call entered */
    uint64_t *entry_fp;    /* where its args went and its results come back */
    uint32_t entry_scale;  /* 2: the entry function's frame is wide (a value every two slots) */
    const void *exit_h;    /* a one-cell code stream: the EXIT handler (entry frame's ret_ip) */

    const char *trap;      /* static string, or trap_buf */
    char trap_buf[160];
    char *backtrace;       /* malloc'd */
    int exit_code;
    void *userdata;
};

/*
 * interp.c: run from the state in `ex` (ex->ip, ex->depth and the frames
 * set up by lw_exec_call, or a suspended state) until the entry frame
 * returns, a trap, an exit, or the fuel slice ends.
 */
lw_status interp_run(lw_exec *ex);

/*
 * exec.c: an lw_exec whose frames and value stack are carved from `block`
 * (size bytes, zeroed), which the caller owns and frees after lw_exec_free:
 * a process's stacks come from a pooled arena (src/mem/arena.h).
 */
lw_exec *exec_new_in(void *block, size_t size, uint32_t max_depth);

/*
 * exec.c: a call needs frame fr + 1 and the frame array is full: move it to
 * one twice as large (frames hold no pointers into themselves, so only the
 * interpreter's fr moves).  The new fr, or NULL past max_depth or out of
 * memory.  A small process thus starts with a few frames inside its stack
 * block's first page and pays for depth only when it goes deep.
 */
Frame *exec_grow_frames(lw_exec *ex, Frame *fr);

/*
 * exec.c: a frame needs the slots up to `need` and they pass stack_end.
 * false past the real end ("call stack exhausted"); else stack_end moves
 * on, in steps of a page.  A process's stack_end starts soft, 128 slots
 * in, so stack_end says how much of its block was ever used, with nothing
 * counted on the interpreter's hot path; the block can then be cleaned for
 * reuse with a memset of just that much.
 */
bool exec_grow_stack(lw_exec *ex, const uint64_t *need);

/*
 * exec.c: record trap `msg` (static, or ex->trap_buf) at the state in ex
 * (ex->depth): the backtrace comes from the frames, then the frames unwind
 * to the entry.
 */
void exec_record_trap(lw_exec *ex, const char *msg);

/*
 * runtime.c: grow table `t` by `delta` elements set to `init` (a slot value).
 * Returns the old size, or -1 (table unchanged) past its maximum, past the
 * implementation limit, or when memory is short.  `elems` may move.
 */
int64_t table_grow(lw_table *t, uint32_t delta, uint64_t init);
/*
 * runtime.c: set up table `t` of `min` elements set to `init`; they are
 * calloc'd, or with block_elems (zeroed, min of them) taken from there
 * (elems_in_block).  False past the implementation limit or when memory
 * is short.
 */
bool table_init(lw_table *t, ValType elem, uint32_t min, uint32_t max, bool has_max, uint64_t init,
                uint64_t *block_elems);

#endif
