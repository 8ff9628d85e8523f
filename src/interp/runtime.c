/*
 * The runtime objects: interned function types, loaded modules (with a
 * content-addressed cache), the store and its name table, and host-made
 * functions, memories, tables and globals.  Instantiation is in instance.c;
 * running code (lw_exec_*) is in exec.c and interp.c.
 */
#include "interp/runtime.h"
#include "interp/store.h"
#include "interp/translate.h"
#include "decode/wat.h"
#include "mem/memory.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Tables above this many elements are refused (an implementation limit the
   spec allows), so that a huge table.grow fails cleanly instead of asking
   the allocator for tens of gigabytes. */
#define TABLE_MAX_ELEMS (1u << 24)

bool ptrvec_push(PtrVec *v, void *p)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void **items = realloc(v->items, cap * sizeof *items);
        if (!items)
            return false;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = p;
    return true;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "leonardo: out of memory\n");
        abort();
    }
    return p;
}

static char *copy_name(const char *s, uint32_t len)
{
    char *c = xcalloc(len + 1, 1);
    if (len)
        memcpy(c, s, len);
    return c;
}

/* ---- interned function types ---- */

/* The interned record: FuncSig first, so a const FuncSig* leads back here.
   The lw_valtype copies serve lw_func_type, whose enum is wider than ValType. */
typedef struct {
    FuncSig sig;
    uint64_t hash;
    lw_valtype *lparams, *lresults;
    ValType types[];                 /* params then results */
} SigEntry;

static struct {
    pthread_mutex_t lock;
    SigEntry **slots;                /* open addressing, power-of-two capacity */
    uint32_t cap, count;
} sigs = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t sig_hash(const ValType *params, uint32_t np, const ValType *results, uint32_t nr)
{
    /* The counts go into the seed so that (i32)->() and ()->(i32) differ. */
    uint64_t h = XXH3_64bits_withSeed(results, nr, ((uint64_t)np << 32) | nr);
    return XXH3_64bits_withSeed(params, np, h);
}

static bool sig_equal(const FuncSig *s, const ValType *params, uint32_t np, const ValType *results, uint32_t nr)
{
    return s->nparams == np && s->nresults == nr && (np == 0 || memcmp(s->params, params, np) == 0) &&
           (nr == 0 || memcmp(s->results, results, nr) == 0);
}

static void sig_table_insert(SigEntry *e)
{
    uint32_t i = (uint32_t)e->hash & (sigs.cap - 1);
    while (sigs.slots[i])
        i = (i + 1) & (sigs.cap - 1);
    sigs.slots[i] = e;
}

static const FuncSig *sig_intern_raw(const ValType *params, uint32_t np, const ValType *results, uint32_t nr)
{
    uint64_t h = sig_hash(params, np, results, nr);
    pthread_mutex_lock(&sigs.lock);
    if (sigs.cap) {
        for (uint32_t i = (uint32_t)h & (sigs.cap - 1); sigs.slots[i]; i = (i + 1) & (sigs.cap - 1)) {
            SigEntry *e = sigs.slots[i];
            if (e->hash == h && sig_equal(&e->sig, params, np, results, nr)) {
                pthread_mutex_unlock(&sigs.lock);
                return &e->sig;
            }
        }
    }
    if ((sigs.count + 1) * 2 > sigs.cap) {   /* keep the load under one half */
        SigEntry **old = sigs.slots;
        uint32_t old_cap = sigs.cap;
        sigs.cap = old_cap ? old_cap * 2 : 64;
        sigs.slots = xcalloc(sigs.cap, sizeof *sigs.slots);
        for (uint32_t i = 0; i < old_cap; i++)
            if (old[i])
                sig_table_insert(old[i]);
        free(old);
    }
    SigEntry *e = xcalloc(1, sizeof *e + (size_t)np + nr);
    e->hash = h;
    if (np)
        memcpy(e->types, params, np);
    if (nr)
        memcpy(e->types + np, results, nr);
    e->sig.nparams = np;
    e->sig.nresults = nr;
    e->sig.params = e->types;
    e->sig.results = e->types + np;
    e->lparams = xcalloc(np, sizeof *e->lparams);
    e->lresults = xcalloc(nr, sizeof *e->lresults);
    for (uint32_t i = 0; i < np; i++)
        e->lparams[i] = (lw_valtype)params[i];
    for (uint32_t i = 0; i < nr; i++)
        e->lresults[i] = (lw_valtype)results[i];
    sig_table_insert(e);
    sigs.count++;
    pthread_mutex_unlock(&sigs.lock);
    return &e->sig;
}

const FuncSig *sig_intern(const FuncType *t)
{
    return sig_intern_raw(t->params, t->nparams, t->results, t->nresults);
}

bool lw_module_export_type(const lw_module *mod, const char *name, const lw_valtype **params, uint32_t *nparams,
                           const lw_valtype **results, uint32_t *nresults)
{
    const Module *m = mod->m;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const Export *x = &m->exports[i];
        if (x->kind != EXT_FUNC || x->name_len != strlen(name) || memcmp(x->name, name, x->name_len) != 0)
            continue;
        const SigEntry *e = (const SigEntry *)sig_intern(&m->types[m->func_types[x->index]]);
        if (!e)
            return false;
        if (params)
            *params = e->lparams;
        if (nparams)
            *nparams = e->sig.nparams;
        if (results)
            *results = e->lresults;
        if (nresults)
            *nresults = e->sig.nresults;
        return true;
    }
    return false;
}

void lw_func_type(const lw_func *f, const lw_valtype **params, uint32_t *nparams,
                  const lw_valtype **results, uint32_t *nresults)
{
    const SigEntry *e = (const SigEntry *)f->sig;
    if (params)
        *params = e->lparams;
    if (nparams)
        *nparams = e->sig.nparams;
    if (results)
        *results = e->lresults;
    if (nresults)
        *nresults = e->sig.nresults;
}

/* ---- modules and the module cache ---- */

/*
 * Loading the same bytes twice returns the same lw_module with one more
 * reference: decoding, validation and (lazy) translation are then shared.
 * The key is the XXH3 content hash; the bytes are compared too, so a hash
 * collision only costs a miss.
 */
#define CACHE_BUCKETS 1024
static struct {
    pthread_mutex_t lock;
    LoadedModule *buckets[CACHE_BUCKETS];
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void set_error(lw_error *err, lw_errkind kind, size_t offset, const char *msg)
{
    if (!err)
        return;
    err->kind = kind;
    err->offset = offset;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
}

static lw_errkind map_error_kind(int kind)
{
    switch (kind) {
    case ERR_MALFORMED: return LW_ERR_MALFORMED;
    case ERR_INVALID: return LW_ERR_INVALID;
    case ERR_LINK: return LW_ERR_LINK;
    case ERR_TRAP: return LW_ERR_TRAP;
    case ERR_IO: return LW_ERR_IO;
    default: return LW_ERR_MALFORMED;
    }
}

/*
 * Under the cache lock: a live module with these bytes, with a reference
 * taken for the caller.  One whose count reached 0 is being freed by the
 * thread that dropped it there (lw_module_free) and is skipped: a count
 * never comes back from 0, which is what lets references be taken and
 * dropped without the lock.
 */
static LoadedModule *cache_find(uint64_t h, const uint8_t *bytes, size_t len)
{
    for (LoadedModule *lm = cache.buckets[h % CACHE_BUCKETS]; lm; lm = lm->next) {
        const Module *m = lm->pub.m;
        if (lm->key != h || m->len != len || (len != 0 && memcmp(m->bytes, bytes, len) != 0))
            continue;
        unsigned refs = atomic_load(&lm->refs);
        while (refs != 0)
            if (atomic_compare_exchange_weak(&lm->refs, &refs, refs + 1))
                return lm;
    }
    return NULL;
}

static void module_destroy(LoadedModule *lm)
{
    lw_module *m = &lm->pub;
    uint32_t ndefined = m->m->nfuncs - m->m->nfunc_imports;
    for (uint32_t i = 0; i < ndefined; i++)
        if (m->code[i])
            compiled_func_free(m->code[i]);
    free(m->code);
    free(m->sigs);
    free(atomic_load(&m->imports));
    free(atomic_load(&m->image));
    module_free(m->m);
    free(lm);
}

lw_module *lw_module_load(const uint8_t *bytes, size_t len, lw_error *err)
{
    if (err) {
        err->kind = LW_ERR_NONE;
        err->offset = (size_t)-1;
        err->msg[0] = 0;
    }
    uint64_t h = XXH3_64bits(bytes, len);
    pthread_mutex_lock(&cache.lock);
    LoadedModule *hit = cache_find(h, bytes, len);
    pthread_mutex_unlock(&cache.lock);
    if (hit)
        return &hit->pub;

    WasmError we = { 0 };
    Module *m = module_decode(bytes, len, &we);
    if (!m) {
        set_error(err, map_error_kind(we.kind), we.offset, we.msg);
        return NULL;
    }
    if (!module_validate(m, &we)) {
        set_error(err, map_error_kind(we.kind), we.offset, we.msg);
        module_free(m);
        return NULL;
    }
    LoadedModule *lm = xcalloc(1, sizeof *lm);
    atomic_init(&lm->refs, 1);
    lm->key = h;
    lm->pub.m = m;
    lm->pub.code = xcalloc(m->nfuncs - m->nfunc_imports, sizeof *lm->pub.code);
    lm->pub.sigs = xcalloc(m->ntypes, sizeof *lm->pub.sigs);
    for (uint32_t i = 0; i < m->ntypes; i++)
        lm->pub.sigs[i] = sig_intern(&m->types[i]);

    /* Another thread may have loaded the same bytes meanwhile: share its. */
    pthread_mutex_lock(&cache.lock);
    hit = cache_find(h, m->bytes, m->len);
    if (!hit) {
        LoadedModule **b = &cache.buckets[h % CACHE_BUCKETS];
        lm->next = *b;
        *b = lm;
    }
    pthread_mutex_unlock(&cache.lock);
    if (hit) {
        module_destroy(lm);
        return &hit->pub;
    }
    return &lm->pub;
}

lw_module *lw_module_load_wat(const char *text, size_t len, const char *filename, lw_error *err)
{
    WasmError we = { 0 };
    size_t blen = 0, nmap = 0;
    WatSrcPos *map = NULL;
    const char *fname = filename ? filename : "<text>";
    uint8_t *bin = wat_to_wasm_map(text, len, fname, &blen, &we, &map, &nmap);
    if (!bin) {
        set_error(err, map_error_kind(we.kind), we.offset, we.msg);
        return NULL;
    }
    lw_module *m = lw_module_load(bin, blen, err);
    /* A validation error knows only its offset in the binary made from the
       text: say where in the text that instruction was. */
    const WatSrcPos *at;
    if (!m && err && err->offset != (size_t)-1 && (at = wat_srcpos_find(map, nmap, err->offset))) {
        char msg[sizeof err->msg + 64];
        int n = snprintf(msg, sizeof msg, "%s:%" PRIu32 ":%" PRIu32 ": %s", fname, at->line, at->col,
                         err->msg);
        if (n > 0) {   /* a long message loses its tail */
            size_t k = (size_t)n < sizeof err->msg - 1 ? (size_t)n : sizeof err->msg - 1;
            memcpy(err->msg, msg, k);
            err->msg[k] = '\0';
        }
    }
    free(map);
    free(bin);
    return m;
}

/* The caller holds a reference already, so the count is above 0: no lock (a spawn does this). */
void module_retain(lw_module *m)
{
    atomic_fetch_add_explicit(&((LoadedModule *)m)->refs, 1, memory_order_relaxed);
}

void lw_module_free(lw_module *m)
{
    if (!m)
        return;
    LoadedModule *lm = (LoadedModule *)m;
    if (atomic_fetch_sub_explicit(&lm->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* The last reference: nobody can take another (cache_find skips it). */
    pthread_mutex_lock(&cache.lock);
    LoadedModule **p = &cache.buckets[lm->key % CACHE_BUCKETS];
    while (*p != lm)
        p = &(*p)->next;
    *p = lm->next;
    pthread_mutex_unlock(&cache.lock);
    module_destroy(lm);
}

uint64_t lw_module_hash(const lw_module *m)
{
    return m->m->hash;
}

/* ---- the store's name table ---- */

static uint64_t name_hash(const char *module, uint32_t module_len, const char *name, uint32_t name_len)
{
    /* The module's hash seeds the name's, so ("ab","c") and ("a","bc") differ. */
    return XXH3_64bits_withSeed(name, name_len, XXH3_64bits(module, module_len) + module_len);
}

static bool name_equal(const NameEntry *e, const char *module, uint32_t module_len, const char *name,
                       uint32_t name_len)
{
    return e->module_len == module_len && e->name_len == name_len && memcmp(e->module, module, module_len) == 0 &&
           memcmp(e->name, name, name_len) == 0;
}

/* The slot holding (module, name), or the empty slot where it would go. */
static NameEntry *name_slot(const lw_store *s, uint64_t h, const char *module, uint32_t module_len,
                            const char *name, uint32_t name_len)
{
    uint32_t mask = s->names_cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        NameEntry *e = &s->names[i];
        if (!e->module || (e->hash == h && name_equal(e, module, module_len, name, name_len)))
            return e;
    }
}

/* Store generations (see lw_store.gen). */
static _Atomic uint64_t store_gens = 1;

void store_define_n(lw_store *s, const char *module, uint32_t module_len, const char *name, uint32_t name_len,
                    lw_extern ext)
{
    s->gen = atomic_fetch_add(&store_gens, 1);
    if ((s->names_count + 1) * 2 > s->names_cap) {   /* keep the load under one half */
        NameEntry *old = s->names;
        uint32_t old_cap = s->names_cap;
        s->names_cap = old_cap ? old_cap * 2 : 64;
        s->names = xcalloc(s->names_cap, sizeof *s->names);
        for (uint32_t i = 0; i < old_cap; i++)
            if (old[i].module)
                *name_slot(s, old[i].hash, old[i].module, old[i].module_len, old[i].name, old[i].name_len) = old[i];
        free(old);
    }
    uint64_t h = name_hash(module, module_len, name, name_len);
    NameEntry *e = name_slot(s, h, module, module_len, name, name_len);
    if (!e->module) {
        e->module = copy_name(module, module_len);
        e->name = copy_name(name, name_len);
        e->module_len = module_len;
        e->name_len = name_len;
        e->hash = h;
        s->names_count++;
    }
    e->ext = ext;   /* a later definition replaces an earlier one */
}

bool store_lookup(const lw_store *s, const char *module, uint32_t module_len, const char *name, uint32_t name_len,
                  lw_extern *out)
{
    if (!s->names_cap)
        return false;
    NameEntry *e = name_slot(s, name_hash(module, module_len, name, name_len), module, module_len, name, name_len);
    if (!e->module)
        return false;
    *out = e->ext;
    return true;
}

void lw_store_define(lw_store *s, const char *module, const char *name, lw_extern ext)
{
    store_define_n(s, module, (uint32_t)strlen(module), name, (uint32_t)strlen(name), ext);
}

void lw_store_register(lw_store *s, const char *name, lw_instance *inst)
{
    const Module *m = inst->m;
    uint32_t name_len = (uint32_t)strlen(name);
    for (uint32_t i = 0; i < m->nexports; i++) {
        lw_extern ext;
        if (lw_instance_export_n(inst, m->exports[i].name, m->exports[i].name_len, &ext))
            store_define_n(s, name, name_len, m->exports[i].name, m->exports[i].name_len, ext);
    }
}

/* ---- the store ---- */

lw_store *lw_store_new(void)
{
    lw_store *s = calloc(1, sizeof(lw_store));
    if (s)
        s->gen = atomic_fetch_add(&store_gens, 1);
    return s;
}

void lw_store_free(lw_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->instances.n; i++) {
        Instance *in = s->instances.items[i];
        lw_module_free(in->pub.module);
        instance_free(in);
    }
    for (size_t i = 0; i < s->funcs.n; i++) {
        lw_func *f = s->funcs.items[i];
        free(f->u.host.name);
        free(f);
    }
    for (size_t i = 0; i < s->memories.n; i++)
        memory_free(s->memories.items[i]);
    for (size_t i = 0; i < s->tables.n; i++) {
        lw_table *t = s->tables.items[i];
        free(t->elems);
        free(t);
    }
    for (size_t i = 0; i < s->globals.n; i++)
        free(s->globals.items[i]);
    free(s->instances.items);
    free(s->funcs.items);
    free(s->memories.items);
    free(s->tables.items);
    free(s->globals.items);
    for (uint32_t i = 0; i < s->names_cap; i++) {
        free(s->names[i].module);
        free(s->names[i].name);
    }
    free(s->names);
    free(s);
}

/* ---- host objects ---- */

uint64_t value_to_slot(lw_value v)
{
    switch (v.type) {
    case LW_I32: return v.of.i32;
    case LW_F32: return v.of.f32;
    case LW_I64: return v.of.i64;
    case LW_F64: return v.of.f64;
    case LW_FUNCREF: return (uint64_t)(uintptr_t)v.of.func;
    case LW_EXTERNREF: return (uint64_t)v.of.ext;
    case LW_V128: {
        uint64_t lo;   /* the low half; a v128's high half lives beside it */
        memcpy(&lo, v.of.v128, 8);
        return lo;
    }
    default: return 0;
    }
}

lw_value slot_to_value(ValType t, uint64_t slot)
{
    lw_value v;
    memset(&v, 0, sizeof v);
    v.type = t;
    switch (t) {
    case VT_I32: v.of.i32 = (uint32_t)slot; break;
    case VT_F32: v.of.f32 = (uint32_t)slot; break;
    case VT_I64: v.of.i64 = slot; break;
    case VT_F64: v.of.f64 = slot; break;
    case VT_FUNCREF: v.of.func = (lw_func *)(uintptr_t)slot; break;
    case VT_EXTERNREF: v.of.ext = (uintptr_t)slot; break;
    default: break;
    }
    return v;
}

lw_func *lw_func_new_host(lw_store *s, const lw_valtype *params, uint32_t nparams, const lw_valtype *results,
                          uint32_t nresults, lw_host_fn fn, void *env, const char *name)
{
    ValType *p = xcalloc(nparams, 1), *r = xcalloc(nresults, 1);
    for (uint32_t i = 0; i < nparams; i++)
        p[i] = (ValType)params[i];
    for (uint32_t i = 0; i < nresults; i++)
        r[i] = (ValType)results[i];
    lw_func *f = xcalloc(1, sizeof *f);
    f->sig = sig_intern_raw(p, nparams, r, nresults);
    free(p);
    free(r);
    f->is_host = true;
    f->u.host.fn = fn;
    f->u.host.env = env;
    f->u.host.name = name ? copy_name(name, (uint32_t)strlen(name)) : NULL;
    if (!ptrvec_push(&s->funcs, f)) {
        free(f->u.host.name);
        free(f);
        return NULL;
    }
    return f;
}

lw_memory *store_new_memory(lw_store *s, uint32_t min, uint32_t max, bool has_max)
{
    lw_memory *m = memory_new(min, max, has_max);
    if (m && s && !ptrvec_push(&s->memories, m)) {
        memory_free(m);
        return NULL;
    }
    return m;
}

lw_memory *lw_memory_new(lw_store *s, uint32_t min_pages, uint32_t max_pages)
{
    return store_new_memory(s, min_pages, max_pages, max_pages != UINT32_MAX);
}

bool table_init(lw_table *t, ValType elem, uint32_t min, uint32_t max, bool has_max, uint64_t init,
                uint64_t *block_elems)
{
    if (min > TABLE_MAX_ELEMS || (has_max && max < min))
        return false;
    uint64_t *elems = block_elems ? block_elems : calloc(min ? min : 1, sizeof *elems);
    if (!elems)
        return false;
    for (uint32_t i = 0; init && i < min; i++)
        elems[i] = init;
    t->elem = elem;
    t->size = min;
    t->max = has_max ? max : UINT32_MAX;
    t->has_max = has_max;
    t->elems = elems;
    t->elems_in_block = block_elems != NULL;
    return true;
}

lw_table *store_new_table(lw_store *s, ValType elem, uint32_t min, uint32_t max, bool has_max, uint64_t init)
{
    lw_table *t = calloc(1, sizeof *t);
    if (!t || !table_init(t, elem, min, max, has_max, init, NULL)) {
        free(t);
        return NULL;
    }
    if (s && !ptrvec_push(&s->tables, t)) {
        free(t->elems);
        free(t);
        return NULL;
    }
    return t;
}

lw_table *lw_table_new(lw_store *s, lw_valtype elem, uint32_t min, uint32_t max, lw_value init)
{
    if (elem != LW_FUNCREF && elem != LW_EXTERNREF)
        return NULL;
    return store_new_table(s, (ValType)elem, min, max, max != UINT32_MAX, value_to_slot(init));
}

lw_global *store_new_global(lw_store *s, ValType type, bool mut, uint64_t val)
{
    lw_global *g = calloc(1, sizeof *g);
    if (!g || (s && !ptrvec_push(&s->globals, g))) {
        free(g);
        return NULL;
    }
    g->type = type;
    g->mut = mut;
    g->val = val;
    return g;
}

lw_global *lw_global_new(lw_store *s, lw_value v, bool mutable_)
{
    lw_global *g = store_new_global(s, v.type, mutable_, value_to_slot(v));
    if (g && v.type == LW_V128)
        memcpy(&g->hi, v.of.v128 + 8, 8);
    return g;
}

/* ---- object access ---- */

int64_t table_grow(lw_table *t, uint32_t delta, uint64_t init)
{
    uint32_t old = t->size;
    uint32_t limit = t->max < TABLE_MAX_ELEMS ? t->max : TABLE_MAX_ELEMS;
    if (old > limit || delta > limit - old)
        return -1;
    if (delta == 0)
        return old;
    size_t bytes = ((size_t)old + delta) * sizeof(uint64_t);
    uint64_t *elems = t->elems_in_block ? malloc(bytes) : realloc(t->elems, bytes);
    if (!elems)
        return -1;
    if (t->elems_in_block)
        memcpy(elems, t->elems, (size_t)old * sizeof *elems);
    t->elems_in_block = false;
    for (uint32_t i = old; i < old + delta; i++)
        elems[i] = init;
    t->elems = elems;
    t->size = old + delta;
    return old;
}

lw_value lw_global_get(const lw_global *g)
{
    lw_value v = slot_to_value(g->type, g->val);
    if (g->type == VT_V128) {
        memcpy(v.of.v128, &g->val, 8);
        memcpy(v.of.v128 + 8, &g->hi, 8);
    }
    return v;
}

uint8_t *lw_memory_data(lw_memory *mem, uint64_t *size_bytes)
{
    if (size_bytes)
        *size_bytes = mem->size;
    return mem->data;
}

uint32_t lw_table_size(const lw_table *t)
{
    return t->size;
}
