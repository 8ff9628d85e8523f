/*
 * Private to the runtime objects (runtime.c, instance.c): the store's layout
 * and the helpers instantiation shares with it.  The interpreter never needs
 * these; it sees only runtime.h.
 */
#ifndef LEONARDO_STORE_H
#define LEONARDO_STORE_H

#include <stdatomic.h>
#include "interp/runtime.h"

/* A growable array of owned pointers. */
typedef struct {
    void **items;
    size_t n, cap;
} PtrVec;

bool ptrvec_push(PtrVec *v, void *p);

/* One (module, name) -> extern binding.  Names are copied and may hold NUL bytes. */
typedef struct {
    char *module, *name;
    uint32_t module_len, name_len;
    uint64_t hash;
    lw_extern ext;
} NameEntry;

struct lw_store {
    /* Which store, as it is now: new for each store and after each define,
       never reused (the import cache of instance.c is keyed by it, since a
       freed store's address can come back as another's). */
    uint64_t gen;
    NameEntry *names;        /* open addressing; module == NULL marks an empty slot */
    uint32_t names_cap, names_count;

    /* Everything made in this store, freed by lw_store_free. */
    PtrVec instances, funcs, memories, tables, globals;
};

/* The module wrapper behind lw_module: a refcount for the content cache. */
typedef struct LoadedModule {
    struct lw_module pub;
    atomic_uint refs;              /* see lw_module_free: a module at 0 is dying and never comes back */
    uint64_t key;                  /* XXH3-64 of the bytes: the cache key */
    struct LoadedModule *next;     /* cache bucket chain */
} LoadedModule;

/* The instance wrapper behind lw_instance: blocks it owns. */
typedef struct {
    struct lw_instance pub;
    lw_func *own_funcs;            /* the module's defined functions, in the instance's block */
    lw_global *own_globals;        /* instance_new: its globals, in the block too */
    lw_table *own_tables;          /* instance_new: its tables, in the block (and their first elems, */
    uint64_t *table_elems;         /*   here, when few enough: NULL otherwise) */
    lw_memory *own_mems;           /* instance_new: its memories' lw_memory, in the block */
    bool owns_objects;             /* instance_new: its tables, memories, globals are its own */
    bool in_block;                 /* it lives in memory its creator owns (InstanceBlock) */
} Instance;

/* Free an instance's own arrays and itself (not its module reference). */
void instance_free(Instance *in);

/*
 * A process's instance (src/sched): imports are looked up in `imports`
 * (only read, so many threads may instantiate against one store at once),
 * and the instance owns everything else; it belongs to no store.  Segments
 * are applied; the start function is not run (the caller runs it on the
 * process's own lw_exec).  Memories come from `pool` while they fit in its
 * slots (NULL: mappings of their own).  NULL and *err on failure.
 */
struct lw_arena;
/* Zeroed memory an instance may be built in, if it fits; `used` says how much it took (0: it did not). */
typedef struct {
    void *at;
    size_t size, used;
} InstanceBlock;
lw_instance *instance_new(const lw_store *imports, lw_module *module, struct lw_arena *pool, InstanceBlock *place,
                          lw_error *err);
/* Free an instance_new instance, its own objects and its module reference. */
void instance_destroy(lw_instance *inst);

/* Take one more reference to a module (an instance keeps its module alive). */
void module_retain(lw_module *m);

/* Bind (module, name) given with lengths, so names holding NUL work. */
void store_define_n(lw_store *s, const char *module, uint32_t module_len,
                    const char *name, uint32_t name_len, lw_extern ext);
/* Look up (module, name); false if undefined. */
bool store_lookup(const lw_store *s, const char *module, uint32_t module_len,
                  const char *name, uint32_t name_len, lw_extern *out);

/* Objects created by instantiation, owned by the store like host-made ones;
   with s == NULL, owned by the caller (an instance made by instance_new). */
lw_table *store_new_table(lw_store *s, ValType elem, uint32_t min, uint32_t max, bool has_max, uint64_t init);
lw_memory *store_new_memory(lw_store *s, uint32_t min, uint32_t max, bool has_max);
lw_global *store_new_global(lw_store *s, ValType type, bool mut, uint64_t val);

/* Find export `name` (with its length, so names holding NUL work). */
bool lw_instance_export_n(lw_instance *inst, const char *name, uint32_t name_len, lw_extern *out);

/* Slot encoding of values (the interpreter's): lw_value <-> uint64_t. */
uint64_t value_to_slot(lw_value v);
lw_value slot_to_value(ValType t, uint64_t slot);

#endif
