/*
 * Instantiation with WebAssembly 2.0 semantics, in the spec's order:
 *
 *   1. resolve every import by (module, name) and check its type;
 *   2. allocate the instance: functions, tables, memories, globals
 *      (global initialisers are constant expressions evaluated here);
 *   3. apply active element segments in order, then drop them and the
 *      declarative ones;
 *   4. apply active data segments in order, then drop them;
 *   5. run the start function.
 *
 * Once step 2 is done the instance belongs to the store, because in 2.0 a
 * trap in step 3 or 4 leaves the writes of earlier segments in place: a
 * shared table may now hold this instance's functions, which must stay
 * callable even though instantiation failed.
 */
#include "interp/runtime.h"
#include "interp/store.h"
#include "mem/memory.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most table elements a process's instance block holds (build); a
   bigger table, or one that grows, gets them from the heap. */
#define BLOCK_TABLE_ELEMS 512

static void fail(lw_error *err, lw_errkind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(lw_error *err, lw_errkind kind, const char *fmt, ...)
{
    if (!err)
        return;
    err->kind = kind;
    err->offset = (size_t)-1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

static const char *kind_name(uint8_t kind)
{
    static const char *names[] = { "function", "table", "memory", "global" };
    return kind < 4 ? names[kind] : "unknown";
}

/* Import limits matching: the actual object's current size and maximum
   against what the import declares. */
static bool limits_match(uint32_t size, bool has_max, uint32_t max, const Limits *want)
{
    if (size < want->min)
        return false;
    if (want->has_max && (!has_max || max > want->max))
        return false;
    return true;
}

/* Step 1: check one resolved import against its declaration. */
static bool import_matches(const lw_module *module, const Import *imp, const lw_extern *ext)
{
    /* A host may have defined a NULL object: it matches nothing. */
    if ((uint8_t)ext->kind != imp->kind || !ext->of.func)
        return false;
    switch (imp->kind) {
    case EXT_FUNC:
        /* Interned signatures: equal types are the same pointer. */
        return ext->of.func->sig == module->sigs[imp->u.func_type];
    case EXT_TABLE: {
        const lw_table *t = ext->of.table;
        return t->elem == imp->u.table.elem && limits_match(t->size, t->has_max, t->max, &imp->u.table.limits);
    }
    case EXT_MEMORY: {
        const lw_memory *mem = ext->of.memory;
        return limits_match(mem->pages, mem->has_max, mem->max_pages, &imp->u.mem.limits);
    }
    case EXT_GLOBAL:
        return ext->of.global->type == imp->u.global.type && ext->of.global->mut == imp->u.global.mut;
    }
    return false;
}

/* A constant expression's value in slot encoding.  Validation has checked
   the indices; global.get sees only globals already initialised. */
static uint64_t eval_const(const lw_instance *inst, const ConstExpr *e)
{
    uint64_t lo;
    switch (e->op) {
    case OP_V128_CONST: memcpy(&lo, e->u.v128, 8); return lo;
    case OP_I32_CONST: return e->u.i32;
    case OP_I64_CONST: return e->u.i64;
    case OP_F32_CONST: return e->u.f32;
    case OP_F64_CONST: return e->u.f64;
    case OP_REF_NULL: return 0;
    case OP_REF_FUNC: return (uint64_t)(uintptr_t)inst->funcs[e->u.index];
    case OP_GLOBAL_GET: return inst->globals[e->u.index]->val;
    default: return 0;
    }
}

/* The high half of a v128 constant expression (0 for every other type). */
static uint64_t eval_const_hi(const lw_instance *inst, const ConstExpr *e)
{
    uint64_t hi = 0;
    if (e->op == OP_V128_CONST)
        memcpy(&hi, e->u.v128 + 8, 8);
    else if (e->op == OP_GLOBAL_GET)
        hi = inst->globals[e->u.index]->hi;
    return hi;
}

void instance_free(Instance *in)
{
    lw_instance *inst = &in->pub;
    if (in->owns_objects) {
        const Module *m = inst->m;
        /* The lw_table and lw_memory structs are in the block (build). */
        for (uint32_t i = m->ntable_imports; i < m->ntables && inst->tables[i]; i++)
            if (!inst->tables[i]->elems_in_block)
                free(inst->tables[i]->elems);
        for (uint32_t i = m->nmem_imports; i < m->nmems && inst->mems[i]; i++)
            memory_release(inst->mems[i]);
        /* its own globals are in the block, with the arrays (build) */
    }
    if (!in->in_block)
        free(in);
}

/*
 * The imports of a module as resolved and type-checked in one store, kept
 * in the module: every process of a module is made against its runtime's
 * store, which is set up before the first spawn and not changed after, so
 * a spawn need not look each name up again.
 */
struct ImportCache {
    uint64_t store_gen;     /* the store's gen when these were resolved */
    lw_extern ext[];
};

/* Step 1.  false (and *err) when an import is missing or mistyped.  With
   `cache`, use or fill the module's ImportCache for store s. */
static bool resolve_imports(const lw_store *s, lw_module *module, lw_instance *inst, bool cache, lw_error *err)
{
    const Module *m = module->m;
    struct ImportCache *c = cache ? atomic_load_explicit(&module->imports, memory_order_acquire) : NULL;
    bool hit = c && c->store_gen == s->gen;
    struct ImportCache *fill = NULL;
    if (cache && !c && m->nimports)
        fill = malloc(sizeof *fill + m->nimports * sizeof(lw_extern));
    uint32_t nf = 0, nt = 0, nm = 0, ng = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const Import *imp = &m->imports[i];
        lw_extern ext;
        if (hit) {
            ext = c->ext[i];
        } else if (!store_lookup(s, imp->module, imp->module_len, imp->name, imp->name_len, &ext)) {
            free(fill);
            fail(err, LW_ERR_LINK, "unknown import \"%s\".\"%s\" (import %u, a %s)", imp->module, imp->name, i,
                 kind_name(imp->kind));
            return false;
        }
        if (!hit && !import_matches(module, imp, &ext)) {
            free(fill);
            fail(err, LW_ERR_LINK, "incompatible import type for \"%s\".\"%s\" (import %u: wanted a %s, got a %s)",
                 imp->module, imp->name, i, kind_name(imp->kind), kind_name((uint8_t)ext.kind));
            return false;
        }
        if (fill)
            fill->ext[i] = ext;
        switch (imp->kind) {
        case EXT_FUNC: inst->funcs[nf++] = ext.of.func; break;
        case EXT_TABLE: inst->tables[nt++] = ext.of.table; break;
        case EXT_MEMORY: inst->mems[nm++] = ext.of.memory; break;
        case EXT_GLOBAL: inst->globals[ng++] = ext.of.global; break;
        }
    }
    if (fill) {
        fill->store_gen = s->gen;
        struct ImportCache *none = NULL;
        if (!atomic_compare_exchange_strong_explicit(&module->imports, &none, fill, memory_order_release,
                                                     memory_order_relaxed))
            free(fill);   /* another thread published first */
    }
    return true;
}

/* Step 2 for the instance's own tables, memories and globals. */
static bool allocate_definitions(lw_store *s, struct lw_arena *pool, lw_instance *inst, lw_error *err)
{
    const Module *m = inst->m;
    Instance *in = (Instance *)inst;
    uint64_t *elems = in->table_elems;
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const TableType *tt = &m->tables[i];
        if (s) {
            inst->tables[i] = store_new_table(s, tt->elem, tt->limits.min, tt->limits.max, tt->limits.has_max, 0);
        } else {
            /* A process's own table: the struct in the block, and the elems
               too if build found room (they start null, like the block). */
            lw_table *t = &in->own_tables[i - m->ntable_imports];
            bool ok = table_init(t, tt->elem, tt->limits.min, tt->limits.max, tt->limits.has_max, 0, elems);
            if (elems)
                elems += tt->limits.min;
            inst->tables[i] = ok ? t : NULL;
        }
        if (!inst->tables[i]) {
            fail(err, LW_ERR_TRAP, "cannot allocate table %u of %u elements", i, tt->limits.min);
            return false;
        }
    }
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
        const MemType *mt = &m->mems[i];
        if (s) {
            inst->mems[i] = store_new_memory(s, mt->limits.min, mt->limits.max, mt->limits.has_max);
        } else {
            lw_memory *mem = &in->own_mems[i - m->nmem_imports];
            bool ok = memory_init_pooled(mem, pool, mt->limits.min, mt->limits.max, mt->limits.has_max);
            inst->mems[i] = ok ? mem : NULL;
        }
        if (!inst->mems[i]) {
            fail(err, LW_ERR_TRAP, "cannot allocate memory %u of %u pages", i, mt->limits.min);
            return false;
        }
    }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        const Global *g = &m->globals[i - m->nglobal_imports];
        uint64_t v = eval_const(inst, &g->init);
        if (!s) {
            /* An instance of its own keeps its globals in its block. */
            lw_global *own = &((Instance *)inst)->own_globals[i - m->nglobal_imports];
            own->type = g->type.type;
            own->mut = g->type.mut;
            own->val = v;
            own->hi = eval_const_hi(inst, &g->init);
            inst->globals[i] = own;
            continue;
        }
        inst->globals[i] = store_new_global(s, g->type.type, g->type.mut, v);
        if (!inst->globals[i]) {
            fail(err, LW_ERR_TRAP, "cannot allocate global %u", i);
            return false;
        }
        inst->globals[i]->hi = eval_const_hi(inst, &g->init);
    }
    return true;
}

/* Step 3: table.init then elem.drop for each active segment, in order. */
static bool init_elems(lw_instance *inst, lw_error *err)
{
    const Module *m = inst->m;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const Elem *e = &m->elems[i];
        if (e->mode == SEG_DECLARATIVE) {
            inst->elem_dropped[i] = true;
            continue;
        }
        if (e->mode != SEG_ACTIVE)
            continue;
        lw_table *t = inst->tables[e->table];
        uint32_t off = (uint32_t)eval_const(inst, &e->offset);
        if ((uint64_t)off + e->count > t->size) {
            fail(err, LW_ERR_TRAP, "out of bounds table access");
            return false;
        }
        for (uint32_t j = 0; j < e->count; j++)
            t->elems[off + j] = eval_const(inst, &e->items[j]);
        inst->elem_dropped[i] = true;
    }
    return true;
}

/*
 * A module's memory 0 as its active data segments leave it, for instances
 * whose memory is pooled: they take it lazily (memory_touch) instead of
 * copying every segment at every spawn.  NULL when that is not exactly the
 * same as applying the segments: a segment for another memory, an offset
 * that is not a constant, or one that does not fit the initial memory
 * (that must trap, after the writes before it).  Made once per module.
 */
struct DataImage {
    uint64_t size;
    uint8_t bytes[];
};

static const struct DataImage *data_image(lw_module *module)
{
    struct DataImage *img = atomic_load_explicit(&module->image, memory_order_acquire);
    if (img)
        return img->size ? img : NULL;
    const Module *m = module->m;
    uint64_t end = 0, mem_size = m->nmems ? (uint64_t)m->mems[0].limits.min * WASM_PAGE_SIZE : 0;
    bool ok = m->nmem_imports == 0;
    for (uint32_t i = 0; ok && i < m->ndatas; i++) {
        const Data *d = &m->datas[i];
        if (d->mode != SEG_ACTIVE)
            continue;
        ok = d->memory == 0 && d->offset.op == OP_I32_CONST && (uint64_t)d->offset.u.i32 + d->len <= mem_size;
        if (ok && (uint64_t)d->offset.u.i32 + d->len > end)
            end = (uint64_t)d->offset.u.i32 + d->len;
    }
    if (!ok)
        end = 0;   /* recorded as size 0: "use the segments" */
    img = calloc(1, sizeof *img + end);
    if (!img)
        return NULL;
    img->size = end;
    for (uint32_t i = 0; end && i < m->ndatas; i++) {
        const Data *d = &m->datas[i];
        if (d->mode == SEG_ACTIVE && d->len)
            memcpy(img->bytes + d->offset.u.i32, d->bytes, d->len);
    }
    struct DataImage *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&module->image, &none, img, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        free(img);
        img = none;   /* another thread's, the same */
    }
    return img->size ? img : NULL;
}

/* Step 4: memory.init then data.drop for each active segment, in order. */
static bool init_datas(lw_instance *inst, lw_error *err)
{
    const Module *m = inst->m;
    lw_memory *mem0 = m->nmems ? inst->mems[0] : NULL;
    const struct DataImage *img;
    if (mem0 && mem0->pool && mem0->touched == 0 && (img = data_image(inst->module))) {
        mem0->image = img->bytes;
        mem0->image_size = img->size;
        for (uint32_t i = 0; i < m->ndatas; i++)
            if (m->datas[i].mode == SEG_ACTIVE)
                inst->data_dropped[i] = true;
        return true;
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const Data *d = &m->datas[i];
        if (d->mode != SEG_ACTIVE)
            continue;
        lw_memory *mem = inst->mems[d->memory];
        uint32_t off = (uint32_t)eval_const(inst, &d->offset);
        if ((uint64_t)off + d->len > mem->size) {
            fail(err, LW_ERR_TRAP, "out of bounds memory access");
            return false;
        }
        if (d->len) {
            memcpy(mem->data + off, d->bytes, d->len);
            memory_touch(mem, (uint64_t)off + d->len);
        }
        inst->data_dropped[i] = true;
    }
    return true;
}

/* Step 5. */
static bool run_start(lw_store *s, lw_instance *inst, lw_exec *ex, lw_error *err)
{
    const Module *m = inst->m;
    if (!m->has_start)
        return true;
    lw_exec *own = NULL;
    if (!ex)
        ex = own = lw_exec_new(s, NULL);
    if (!ex) {
        fail(err, LW_ERR_TRAP, "cannot create an execution context for the start function");
        return false;
    }
    lw_status st = lw_exec_call(ex, inst->funcs[m->start], NULL, 0);
    while (st == LW_YIELD)
        st = lw_exec_resume(ex);
    bool ok = true;
    if (st == LW_TRAP) {
        const char *msg = lw_exec_trap_message(ex);
        fail(err, LW_ERR_TRAP, "%s", msg ? msg : "trap");
        ok = false;
    } else if (st == LW_EXIT) {
        fail(err, LW_ERR_TRAP, "start function exited with code %d", lw_exec_exit_code(ex));
        ok = false;
    }
    if (own)
        lw_exec_free(own);
    return ok;
}

/*
 * Steps 1 and 2 up to the instance's own objects.  With `owner` a store,
 * the store takes the instance (and, through store_new_*, its objects) as
 * soon as it exists; with owner NULL the instance owns them.  NULL and
 * *err on failure, having freed whatever nobody owns.
 */
static Instance *build(const lw_store *imports, lw_store *owner, struct lw_arena *pool, lw_module *module,
                       InstanceBlock *place, lw_error *err)
{
    if (err) {
        err->kind = LW_ERR_NONE;
        err->offset = (size_t)-1;
        err->msg[0] = 0;
    }
    const Module *m = module->m;
    /*
     * One block: the instance, then its arrays, its functions and (when it
     * owns them) its globals, tables and memory descriptors, pointer-aligned
     * things first.  A spawn makes one of these per process, in the
     * process's slot (InstanceBlock), so no allocation instead of a dozen.
     */
    uint32_t ndefined = m->nfuncs - m->nfunc_imports;
    uint32_t nown_globals = owner ? 0 : m->nglobals - m->nglobal_imports;
    /* An instance of its own (a process) keeps its tables' and memories'
       structs here as well, and its tables' first elements when they are
       few (a C program's one function table usually is). */
    uint32_t nown_tables = owner ? 0 : m->ntables - m->ntable_imports;
    uint32_t nown_mems = owner ? 0 : m->nmems - m->nmem_imports;
    uint64_t nblock_elems = 0;
    for (uint32_t i = m->ntable_imports; !owner && i < m->ntables; i++)
        nblock_elems += m->tables[i].limits.min;
    if (nblock_elems > BLOCK_TABLE_ELEMS)
        nblock_elems = 0;
    size_t size = sizeof(Instance) + (size_t)m->nfuncs * sizeof(lw_func *) + (size_t)m->ntables * sizeof(lw_table *) +
                  (size_t)m->nmems * sizeof(lw_memory *) + (size_t)m->nglobals * sizeof(lw_global *) +
                  (size_t)ndefined * sizeof(lw_func) + (size_t)nown_globals * sizeof(lw_global) +
                  (size_t)nown_tables * sizeof(lw_table) + (size_t)nown_mems * sizeof(lw_memory) +
                  (size_t)nblock_elems * sizeof(uint64_t) + m->nelems + m->ndatas;
    size = (size + 15) & ~(size_t)15;
    Instance *in;
    if (place && size <= place->size) {
        in = place->at;   /* zeroed, as the caller promises */
        place->used = size;
    } else {
        in = calloc(1, size);
        if (place)
            place->used = 0;
    }
    if (!in) {
        fail(err, LW_ERR_TRAP, "out of memory");
        return NULL;
    }
    in->in_block = place && place->used;
    char *at = (char *)(in + 1);
#define CARVE(n, T) ((T *)(at += (size_t)(n) * sizeof(T), at - (size_t)(n) * sizeof(T)))
    lw_instance *inst = &in->pub;
    inst->module = module;
    inst->m = m;
    inst->types = module->sigs;
    inst->funcs = CARVE(m->nfuncs, lw_func *);
    inst->tables = CARVE(m->ntables, lw_table *);
    inst->mems = CARVE(m->nmems, lw_memory *);
    inst->globals = CARVE(m->nglobals, lw_global *);
    in->own_funcs = CARVE(ndefined, lw_func);
    in->own_globals = CARVE(nown_globals, lw_global);
    in->own_tables = CARVE(nown_tables, lw_table);
    in->own_mems = CARVE(nown_mems, lw_memory);
    in->table_elems = nblock_elems ? CARVE(nblock_elems, uint64_t) : NULL;
    inst->elem_dropped = CARVE(m->nelems, bool);
    inst->data_dropped = CARVE(m->ndatas, bool);
#undef CARVE

    if (!resolve_imports(imports, module, inst, !owner, err))
        goto free_unowned;

    for (uint32_t i = 0; i < ndefined; i++) {
        lw_func *f = &in->own_funcs[i];
        f->sig = module->sigs[m->funcs[i].type];
        f->is_host = false;
        f->u.wasm.inst = inst;
        f->u.wasm.index = m->nfunc_imports + i;
        /* Another thread may be translating into module->code[i] right now. */
        f->u.wasm.code = __atomic_load_n(&module->code[i], __ATOMIC_ACQUIRE);
        inst->funcs[m->nfunc_imports + i] = f;
    }
    if (owner && !ptrvec_push(&owner->instances, in)) {
        fail(err, LW_ERR_TRAP, "out of memory");
        goto free_unowned;
    }
    /* From here on the owner has the instance (see the top comment). */
    in->owns_objects = !owner;
    module_retain(module);
    if (!allocate_definitions(owner, pool, inst, err)) {
        if (!owner)
            instance_destroy(inst);
        return NULL;
    }
    inst->mem0 = m->nmems ? inst->mems[0] : NULL;
    return in;

free_unowned:
    instance_free(in);   /* the module was not retained yet */
    return NULL;
}

lw_instance *lw_instantiate(lw_store *s, lw_module *module, lw_exec *ex, lw_error *err)
{
    Instance *in = build(s, s, NULL, module, NULL, err);
    if (!in)
        return NULL;
    lw_instance *inst = &in->pub;
    if (!init_elems(inst, err) || !init_datas(inst, err) || !run_start(s, inst, ex, err))
        return NULL;
    return inst;
}

lw_instance *instance_new(const lw_store *imports, lw_module *module, struct lw_arena *pool, InstanceBlock *place,
                          lw_error *err)
{
    Instance *in = build(imports, NULL, pool, module, place, err);
    if (!in)
        return NULL;
    lw_instance *inst = &in->pub;
    if (!init_elems(inst, err) || !init_datas(inst, err)) {
        instance_destroy(inst);
        return NULL;
    }
    return inst;
}

void instance_destroy(lw_instance *inst)
{
    if (!inst)
        return;
    lw_module *module = inst->module;
    instance_free((Instance *)inst);
    lw_module_free(module);   /* drops the reference build() took */
}

bool lw_instance_export_n(lw_instance *inst, const char *name, uint32_t name_len, lw_extern *out)
{
    const Module *m = inst->m;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const Export *e = &m->exports[i];
        if (e->name_len != name_len || memcmp(e->name, name, name_len) != 0)
            continue;
        out->kind = (lw_externkind)e->kind;
        switch (e->kind) {
        case EXT_FUNC: out->of.func = inst->funcs[e->index]; break;
        case EXT_TABLE: out->of.table = inst->tables[e->index]; break;
        case EXT_MEMORY: out->of.memory = inst->mems[e->index]; break;
        case EXT_GLOBAL: out->of.global = inst->globals[e->index]; break;
        default: return false;
        }
        return true;
    }
    return false;
}

bool lw_instance_export(lw_instance *inst, const char *name, lw_extern *out)
{
    return lw_instance_export_n(inst, name, (uint32_t)strlen(name), out);
}

const lw_module *lw_instance_module(const lw_instance *inst)
{
    return inst->module;
}
