/*
 * Processes: the process table, messages, links, monitors, the registry,
 * and what happens when a process ends.  The workers that run processes
 * are in worker.c; see sched.h for the locking rules.
 */
#include "sched/sched.h"

#include <stddef.h>
#include <xxhash.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interp/runtime.h"
#include "interp/store.h"
#include "mem/arena.h"
#include "mem/memory.h"

/* A spawned process's stacks: one arena slot holds its frames and value slots. */
#define PROC_MAX_DEPTH 1000

uint64_t runtime_next_id(lw_runtime *rt)
{
    return atomic_fetch_add_explicit(&rt->next_id, 1, memory_order_relaxed);
}

Msg *msg_new(uint32_t kind, uint64_t sender, int64_t tag, const void *data, uint32_t len)
{
    Msg *m = malloc(sizeof *m + len);
    if (!m)
        return NULL;
    m->next = NULL;
    m->sender = sender;
    m->tag = tag;
    m->kind = kind;
    m->len = len;
    if (len)
        memcpy(m->data, data, len);
    return m;
}

/* A notification (EXIT or DOWN): an lw_notice, then the reason as text. */
static Msg *notice_new(uint32_t kind, uint64_t from, int64_t reason, uint64_t ref, const char *text)
{
    size_t tl = strlen(text);
    Msg *m = malloc(sizeof *m + sizeof(lw_notice) + tl);
    if (!m)
        return NULL;
    m->next = NULL;
    m->sender = from;
    m->tag = kind == LW_MSG_EXIT ? LW_TAG_EXIT : LW_TAG_DOWN;
    m->kind = kind;
    m->len = (uint32_t)(sizeof(lw_notice) + tl);
    lw_notice n = { .reason = reason, .ref = ref };
    memcpy(m->data, &n, sizeof n);
    memcpy(m->data + sizeof n, text, tl);
    return m;
}

bool config_narrows(const ProcConfig *parent, const ProcConfig *child)
{
    if (child->max_memory > parent->max_memory)
        return false;
    if ((child->rights & ~parent->rights) || (parent->no_env && !child->no_env))
        return false;
    if (parent->max_fuel && (!child->max_fuel || child->max_fuel > parent->max_fuel))
        return false;
    return (child->caps & ~parent->caps) == 0;
}

/* ---- the process table ---- */

static ProcShard *shard_of(lw_runtime *rt, uint64_t pid)
{
    return &rt->shards[pid % PROC_SHARDS];
}

static uint32_t bucket_of(const ProcShard *sh, uint64_t pid)
{
    return (uint32_t)((pid / PROC_SHARDS) & (sh->nbuckets - 1));
}

static bool table_insert(lw_runtime *rt, Proc *p)
{
    ProcShard *sh = shard_of(rt, p->pid);
    pthread_mutex_lock(&sh->lock);
    if (sh->count >= sh->nbuckets * 2) {
        /* Double the buckets and rehash: chains stay short. */
        uint32_t n = sh->nbuckets ? sh->nbuckets * 2 : 64;
        Proc **nb = calloc(n, sizeof *nb);
        if (!nb && !sh->nbuckets) {
            pthread_mutex_unlock(&sh->lock);
            return false;
        }
        if (nb) {
            Proc **old = sh->buckets;
            uint32_t oldn = sh->nbuckets;
            sh->buckets = nb;
            sh->nbuckets = n;
            for (uint32_t i = 0; i < oldn; i++)
                for (Proc *q = old[i], *next; q; q = next) {
                    next = q->table_next;
                    uint32_t b = bucket_of(sh, q->pid);
                    q->table_next = nb[b];
                    nb[b] = q;
                }
            free(old);
        }
    }
    uint32_t b = bucket_of(sh, p->pid);
    p->table_next = sh->buckets[b];
    sh->buckets[b] = p;
    sh->count++;
    pthread_mutex_unlock(&sh->lock);
    return true;
}

static void table_remove(lw_runtime *rt, Proc *p)
{
    ProcShard *sh = shard_of(rt, p->pid);
    pthread_mutex_lock(&sh->lock);
    for (Proc **q = &sh->buckets[bucket_of(sh, p->pid)]; *q; q = &(*q)->table_next)
        if (*q == p) {
            *q = p->table_next;
            sh->count--;
            break;
        }
    pthread_mutex_unlock(&sh->lock);
}

Proc *proc_get(lw_runtime *rt, uint64_t pid)
{
    ProcShard *sh = shard_of(rt, pid);
    Proc *found = NULL;
    pthread_mutex_lock(&sh->lock);
    if (sh->nbuckets)
        for (Proc *q = sh->buckets[bucket_of(sh, pid)]; q; q = q->table_next)
            if (q->pid == pid) {
                atomic_fetch_add_explicit(&q->refs, 1, memory_order_relaxed);
                found = q;
                break;
            }
    pthread_mutex_unlock(&sh->lock);
    return found;
}

static void module_destroy(void *m)
{
    lw_module_free(m);
}

static void mon_unref(Monitor *m);

static void proc_free(Proc *p)
{
    for (Msg *m = p->mbox, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    free(p->current);
    /* Monitors are left only in a process that never ended, freed when the
       runtime is (proc_finish and proc_discard take them out otherwise):
       each side drops its own reference, so a monitor goes with the second
       of its two processes. */
    for (Monitor *m = p->watchers, *next; m; m = next) {
        next = m->next;
        mon_unref(m);
    }
    for (uint32_t i = 0; i < p->monitoring.cap; i++)
        if (p->monitoring.slots[i])
            mon_unref(p->monitoring.vals[i]);
    pidset_free(&p->links);
    pidset_free(&p->monitoring);
    idtable_free(&p->configs, free);
    idtable_free(&p->modules, module_destroy);
    free(p->backtrace);
    wasi_proc_release(p);
    instance_destroy(p->inst);
    pthread_mutex_destroy(&p->lock);
    void *slot = p->stack_slot;
    if (!slot) {
        lw_exec_free(p->ex);
        free(p);
        return;
    }
    /* p itself lives in the slot (proc_new): the slot goes last, cleaned as
       far as the stack ever reached (everything before it was written).
       Without an lw_exec (its spawn failed) the instance may still have
       been built, anywhere in the slot's first half: clean all of that, or
       the next process here would find its pointers (and free them). */
    lw_arena *stacks = p->rt->stacks;
    size_t used = p->ex ? (size_t)((char *)p->ex->stack_end - (char *)slot) : arena_slot_size(stacks) / 2;
    if (p->ex)
        lw_exec_free(p->ex);
    arena_release(stacks, slot, used);
}

void proc_unref(Proc *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        proc_free(p);
}

/* ---- creating ---- */

static void set_error(lw_error *err, lw_errkind kind, const char *msg)
{
    err->kind = kind;
    err->offset = (size_t)-1;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
}

/*
 * A spawned process lives in one slot of rt->stacks: the Proc, its instance
 * (when it fits), then its lw_exec, its first frames and its value stack
 * (exec_new_in), so that spawning allocates little of its own and a small
 * process touches a page or two.  The root keeps roomy defaults on the heap.
 */
Proc *proc_new(lw_runtime *rt, lw_module *m, const ProcConfig *config, uint64_t parent, lw_error *err)
{
    bool pooled = parent != 0;
    void *slot = pooled ? arena_alloc(rt->stacks) : NULL;
    Proc *p = pooled ? slot : calloc(1, sizeof *p);   /* a slot reads as zero */
    if (!p) {
        set_error(err, LW_ERR_TRAP, "out of memory");
        return NULL;
    }
    p->stack_slot = slot;
    p->pid = runtime_next_id(rt);
    p->rt = rt;
    p->parent = parent;
    p->config = *config;
    atomic_init(&p->refs, 1);
    pthread_mutex_init(&p->lock, NULL);
    p->mbox_tail = &p->mbox;
    p->state = PROC_RUNNABLE;

    /* The instance goes in the slot after the Proc, when it fits in the
       first half: the slot is zeroed memory, and a spawn allocates nothing. */
    size_t at = (sizeof *p + 63) & ~(size_t)63;
    InstanceBlock place = { 0 };
    if (pooled) {
        place.at = (char *)slot + at;
        place.size = arena_slot_size(rt->stacks) / 2 - at;
    }
    p->inst = instance_new(rt->imports, m, pooled ? rt->memories : NULL, pooled ? &place : NULL, err);
    if (!p->inst) {
        proc_free(p);
        return NULL;
    }
    lw_memory *mem = p->inst->mem0;
    if (mem && config->max_memory) {
        uint64_t limit = config->max_memory / WASM_PAGE_SIZE;
        if (mem->pages > limit) {
            err->kind = LW_ERR_TRAP;
            snprintf(err->msg, sizeof err->msg,
                     "its initial memory (%u pages) exceeds the configured maximum of %llu bytes", mem->pages,
                     (unsigned long long)config->max_memory);
            proc_free(p);
            return NULL;
        }
        if (mem->max_pages > limit)
            mem->max_pages = (uint32_t)limit;   /* memory.grow past it returns -1, as the spec allows */
    }
    if (pooled) {
        at = (at + place.used + 63) & ~(size_t)63;
        p->ex = exec_new_in((char *)slot + at, arena_slot_size(rt->stacks) - at, PROC_MAX_DEPTH);
    } else {
        p->ex = lw_exec_new(NULL, NULL);
    }
    if (!p->ex) {
        set_error(err, LW_ERR_TRAP, "out of memory");
        proc_free(p);
        return NULL;
    }
    lw_exec_set_fuel_slice(p->ex, rt->slice);
    if (config->max_fuel)
        lw_exec_set_fuel_limit(p->ex, (int64_t)config->max_fuel);
    lw_exec_set_userdata(p->ex, p);
    p->phase = p->inst->m->has_start ? 0 : 1;
    return p;
}

bool proc_start(Proc *p)
{
    lw_runtime *rt = p->rt;
    atomic_fetch_add(&rt->live, 1);
    if (!table_insert(rt, p)) {
        atomic_fetch_sub(&rt->live, 1);
        return false;
    }
    sched_enqueue_new(p);
    return true;
}

static void mon_release(lw_runtime *rt, Monitor *m, int other);

void proc_discard(Proc *p)
{
    /* A spawn that failed after proc_link_new or proc_monitor_new: the
       parent holds the link and the record too.  The child never ran, so
       no EXIT and no DOWN. */
    uint32_t cap;
    uint64_t *links = pidset_take(&p->links, &cap);
    for (uint32_t i = 0; i < cap; i++) {
        Proc *q = links[i] ? proc_get(p->rt, links[i]) : NULL;
        if (q) {
            pthread_mutex_lock(&q->lock);
            pidset_del(&q->links, p->pid);
            pthread_mutex_unlock(&q->lock);
            proc_unref(q);
        }
    }
    free(links);
    for (Monitor *m = p->watchers, *next; m; m = next) {
        next = m->next;
        mon_release(p->rt, m, MON_WATCHER);
    }
    p->watchers = NULL;
    proc_free(p);
}

/* ---- messages ---- */

static bool wanted(const Proc *p, int64_t tag)
{
    if (p->wait_ntags == 0)
        return true;
    for (uint32_t i = 0; i < p->wait_ntags; i++)
        if (p->wait_tags[i] == tag)
            return true;
    return false;
}

/* Append m to q's mailbox and wake q if it waits for it.  Under q->lock. */
static void deliver_locked(Proc *q, Msg *m)
{
    *q->mbox_tail = m;
    q->mbox_tail = &m->next;
    if (q->wait == WAIT_RECEIVE && wanted(q, m->tag))
        sched_wake_locked(q);
}

bool proc_send(lw_runtime *rt, uint64_t pid, Msg *m)
{
    Proc *q = proc_get(rt, pid);
    if (!q) {
        free(m);
        return false;
    }
    pthread_mutex_lock(&q->lock);
    bool alive = q->state != PROC_DONE;
    if (alive)
        deliver_locked(q, m);
    pthread_mutex_unlock(&q->lock);
    proc_unref(q);
    if (!alive)
        free(m);
    return alive;
}

Msg *proc_take_locked(Proc *p)
{
    for (Msg **mp = &p->mbox; *mp; mp = &(*mp)->next) {
        Msg *m = *mp;
        if (!wanted(p, m->tag))
            continue;
        *mp = m->next;
        if (p->mbox_tail == &m->next)
            p->mbox_tail = mp;
        m->next = NULL;
        return m;
    }
    return NULL;
}

/* ---- links and monitors ---- */

static void lock_two(Proc *a, Proc *b)
{
    if (a->pid < b->pid) {
        pthread_mutex_lock(&a->lock);
        pthread_mutex_lock(&b->lock);
    } else {
        pthread_mutex_lock(&b->lock);
        pthread_mutex_lock(&a->lock);
    }
}

static void unlock_two(Proc *a, Proc *b)
{
    pthread_mutex_unlock(&a->lock);
    pthread_mutex_unlock(&b->lock);
}

bool proc_link(lw_runtime *rt, Proc *self, uint64_t other)
{
    if (other == self->pid)
        return true;
    Proc *q = proc_get(rt, other);
    if (!q)
        return false;
    lock_two(self, q);
    bool ok = q->state != PROC_DONE;
    if (ok) {
        ok = pidset_add(&self->links, other) && pidset_add(&q->links, self->pid);
        if (!ok) {
            pidset_del(&self->links, other);
            pidset_del(&q->links, self->pid);
        }
    }
    unlock_two(self, q);
    proc_unref(q);
    return ok;
}

/* A child not yet started is seen by nobody else: only the parent's lock is needed. */
bool proc_link_new(Proc *parent, Proc *child)
{
    pthread_mutex_lock(&parent->lock);
    bool ok = pidset_add(&parent->links, child->pid) && pidset_add(&child->links, parent->pid);
    if (!ok)
        pidset_del(&parent->links, child->pid);
    pthread_mutex_unlock(&parent->lock);
    return ok;
}

/* ---- monitors (see Monitor in sched.h) ---- */

static void mon_push(Monitor **head, Monitor *m)
{
    m->next = *head;
    m->pprev = head;
    if (*head)
        (*head)->pprev = &m->next;
    *head = m;
}

static void mon_unlink(Monitor *m)
{
    *m->pprev = m->next;
    if (m->next)
        m->next->pprev = m->pprev;
    m->pprev = NULL;
}

static void mon_unref(Monitor *m)
{
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        free(m);
}

/* Take m out of side `side` of process q (under q's lock); false if it
   was out already. */
static bool mon_take(Proc *q, Monitor *m, int side)
{
    if (side == MON_TARGET) {
        if (!m->pprev)
            return false;
        mon_unlink(m);
        return true;
    }
    if (pidset_get(&q->monitoring, m->ref) != m)
        return false;
    pidset_del(&q->monitoring, m->ref);
    return true;
}

/* m is out of the caller's side: take it out of the `other` side too (if
   it is still there, under that process's lock), dropping that side's
   reference, then drop the caller's. */
static void mon_release(lw_runtime *rt, Monitor *m, int other)
{
    Proc *q = proc_get(rt, other == MON_WATCHER ? m->watcher : m->target);
    if (q) {
        pthread_mutex_lock(&q->lock);
        bool in = mon_take(q, m, other);
        pthread_mutex_unlock(&q->lock);
        proc_unref(q);
        if (in)
            mon_unref(m);
    }
    mon_unref(m);
}

static Monitor *mon_new(uint64_t ref, uint64_t watcher, uint64_t target)
{
    Monitor *m = calloc(1, sizeof *m);
    if (m) {
        m->ref = ref;
        m->watcher = watcher;
        m->target = target;
        atomic_init(&m->refs, 2);
    }
    return m;
}

/* A child not yet started is seen by nobody else: only the parent's lock is needed. */
bool proc_monitor_new(Proc *parent, Proc *child)
{
    /* LW_SPAWN_MONITOR: the reference is the child's pid */
    Monitor *m = mon_new(child->pid, parent->pid, child->pid);
    if (!m)
        return false;
    pthread_mutex_lock(&parent->lock);
    bool ok = pidset_put(&parent->monitoring, m->ref, m);
    if (ok)
        mon_push(&child->watchers, m);
    pthread_mutex_unlock(&parent->lock);
    if (!ok)
        free(m);
    return ok;
}

void proc_unlink(lw_runtime *rt, Proc *self, uint64_t other)
{
    if (other == self->pid)
        return;   /* never linked (proc_link), and lock_two would take one lock twice */
    Proc *q = proc_get(rt, other);
    if (!q) {
        pthread_mutex_lock(&self->lock);
        pidset_del(&self->links, other);
        pthread_mutex_unlock(&self->lock);
        return;
    }
    lock_two(self, q);
    pidset_del(&self->links, other);
    pidset_del(&q->links, self->pid);
    unlock_two(self, q);
    proc_unref(q);
}

uint64_t proc_monitor(lw_runtime *rt, Proc *self, uint64_t target)
{
    uint64_t ref = runtime_next_id(rt);
    Monitor *m = mon_new(ref, self->pid, target);
    if (!m)
        return 0;
    Proc *q = proc_get(rt, target);
    bool attached = false;
    if (q) {
        if (q == self)
            pthread_mutex_lock(&q->lock);
        else
            lock_two(self, q);
        bool alive = q->state != PROC_DONE;
        if (alive && !pidset_put(&self->monitoring, ref, m))
            ref = 0;   /* out of memory */
        else if (alive) {
            mon_push(&q->watchers, m);
            attached = true;
        }
        pthread_mutex_unlock(&q->lock);
        if (q != self)
            pthread_mutex_unlock(&self->lock);
        proc_unref(q);
    }
    if (!ref) {
        free(m);
        return 0;
    }
    if (!attached) {
        /* Nothing to watch: DOWN at once, as Erlang does. */
        free(m);
        Msg *msg = notice_new(LW_MSG_DOWN, target, LW_REASON_NOPROC, ref, "no such process");
        if (msg)
            proc_send(rt, self->pid, msg);
    }
    return ref;
}

/* After it answers true, no DOWN for ref arrives: a DOWN is delivered only
   while the monitor is still in the watcher's set, under its lock. */
bool proc_demonitor(lw_runtime *rt, Proc *self, uint64_t ref)
{
    pthread_mutex_lock(&self->lock);
    Monitor *m = pidset_del(&self->monitoring, ref);
    pthread_mutex_unlock(&self->lock);
    if (!m)
        return false;   /* unknown, or over (its DOWN already delivered) */
    mon_release(rt, m, MON_TARGET);
    return true;
}

/* p has ended: tell each watcher still watching (DOWN), and take the
   monitors out of the watchers' sets.  chain: p's watchers, detached. */
static void mon_finish_watchers(Proc *p, Monitor *chain)
{
    for (Monitor *m = chain, *next; m; m = next) {
        next = m->next;
        Proc *q = proc_get(p->rt, m->watcher);
        if (q) {
            Msg *msg = notice_new(LW_MSG_DOWN, p->pid, p->reason, m->ref, p->reason_text);
            pthread_mutex_lock(&q->lock);
            /* Still in its set: not demonitored, and q has not ended (an
               ending process empties its own set under this lock). */
            bool in = mon_take(q, m, MON_WATCHER);
            if (in) {
                if (msg)
                    deliver_locked(q, msg);
                msg = NULL;
            }
            pthread_mutex_unlock(&q->lock);
            free(msg);
            proc_unref(q);
            if (in)
                mon_unref(m);
        }
        mon_unref(m);
    }
}

/* p has ended: take the monitors it held (its set, detached) out of their
   targets' lists. */
static void mon_finish_monitoring(Proc *p, PidSet *held)
{
    for (uint32_t i = 0; i < held->cap; i++)
        if (held->slots[i])
            mon_release(p->rt, held->vals[i], MON_TARGET);
    pidset_free(held);
}

bool proc_kill(lw_runtime *rt, uint64_t pid, int64_t reason)
{
    Proc *q = proc_get(rt, pid);
    if (!q)
        return false;
    pthread_mutex_lock(&q->lock);
    bool alive = q->state != PROC_DONE;
    if (alive) {
        int64_t none = 0;
        atomic_compare_exchange_strong(&q->killed, &none, reason);   /* the first reason stands */
        sched_wake_locked(q);
    }
    pthread_mutex_unlock(&q->lock);
    proc_unref(q);
    return alive;
}

/* ---- the registry ---- */

/*
 * The registry: names to pids, in a pid set (pidset.c) keyed by each
 * name's XXH3, whose pointer heads a chain of the names with that hash
 * (almost always one), so that register and whereis stay O(1) with any
 * number of names.  Names are bytes (a NUL among them included), compared
 * with their length.  All under reg_lock.
 */
static uint64_t reg_key(uint64_t hash)
{
    return hash ? hash : 1;   /* the set's ids are nonzero */
}

static RegName *reg_find(lw_runtime *rt, const char *name, uint32_t len, uint64_t hash)
{
    for (RegName *r = pidset_get(&rt->names, reg_key(hash)); r; r = r->next)
        if (r->len == len && memcmp(r->name, name, len) == 0)
            return r;
    return NULL;
}

/* Take entry n out of the registry and free it; its process (if any) has
   no name any more. */
static void reg_drop(lw_runtime *rt, RegName *n, Proc *owner)
{
    uint64_t key = reg_key(n->hash);
    RegName *head = pidset_get(&rt->names, key);
    if (head == n) {
        if (n->next)
            (void)pidset_put(&rt->names, key, n->next);   /* present: no allocation, cannot fail */
        else
            pidset_del(&rt->names, key);
    } else {
        RegName *r = head;
        while (r->next != n)
            r = r->next;
        r->next = n->next;
    }
    if (owner) {
        owner->name = NULL;   /* a process's name is only touched under reg_lock */
        atomic_store_explicit(&owner->named, false, memory_order_relaxed);
    }
    free(n);
}

/* The registry entry a process's name belongs to. */
static RegName *reg_of_name(const char *name)
{
    return (RegName *)(void *)(name - offsetof(RegName, name));
}

int registry_register(lw_runtime *rt, Proc *p, const char *name, uint32_t len)
{
    uint64_t h = XXH3_64bits(name, len);
    pthread_mutex_lock(&rt->reg_lock);
    int rc = 1;   /* the name is taken, or this process has one already, or no memory */
    if (!p->name && !reg_find(rt, name, len, h)) {
        RegName *n = malloc(sizeof *n + len + 1);
        if (n) {
            n->pid = p->pid;
            n->hash = h;
            n->len = len;
            memcpy(n->name, name, len);
            n->name[len] = 0;
            n->next = pidset_get(&rt->names, reg_key(h));
            if (pidset_put(&rt->names, reg_key(h), n)) {
                p->name = n->name;
                atomic_store_explicit(&p->named, true, memory_order_relaxed);
                rc = 0;
            } else {
                free(n);
            }
        }
    }
    pthread_mutex_unlock(&rt->reg_lock);
    return rc;
}

uint64_t registry_whereis(lw_runtime *rt, const char *name, uint32_t len)
{
    uint64_t h = XXH3_64bits(name, len);
    pthread_mutex_lock(&rt->reg_lock);
    RegName *r = reg_find(rt, name, len, h);
    uint64_t pid = r ? r->pid : 0;
    pthread_mutex_unlock(&rt->reg_lock);
    return pid;
}

int registry_unregister(lw_runtime *rt, const char *name, uint32_t len)
{
    uint64_t h = XXH3_64bits(name, len);
    pthread_mutex_lock(&rt->reg_lock);
    RegName *r = reg_find(rt, name, len, h);
    if (r) {
        Proc *q = proc_get(rt, r->pid);
        reg_drop(rt, r, q);
        if (q)
            proc_unref(q);
    }
    pthread_mutex_unlock(&rt->reg_lock);
    return r ? 0 : 1;
}

/* ---- the end of a process ---- */

static void report_death(const Proc *p, const char *name)
{
    lw_runtime *rt = p->rt;
    if (p->reason == LW_REASON_NORMAL)
        return;
    char who[96];
    if (name)
        snprintf(who, sizeof who, "process %llu (%s)", (unsigned long long)p->pid, name);
    else
        snprintf(who, sizeof who, "process %llu", (unsigned long long)p->pid);
    const char *bt = p->backtrace ? p->backtrace : "";
    if (rt->verbose || !*bt) {
        fprintf(stderr, "leonardo: %s died: %s\n%s", who, p->reason_text, bt);
        return;
    }
    /* One line: the innermost frames joined by " < ", then "..." if there are more. */
    char line[400];
    size_t n = 0;
    int frames = 1;
    for (const char *s = bt; *s && n + 8 < sizeof line; s++) {
        if (*s != '\n') {
            line[n++] = *s;
            continue;
        }
        if (!s[1])
            break;
        if (++frames > 8) {
            memcpy(line + n, " < ...", 6);
            n += 6;
            break;
        }
        memcpy(line + n, " < ", 3);
        n += 3;
    }
    line[n] = 0;
    fprintf(stderr, "leonardo: %s died: %s [%s]\n", who, p->reason_text, line);
}

void proc_finish(Proc *p)
{
    lw_runtime *rt = p->rt;
    pthread_mutex_lock(&p->lock);
    p->state = PROC_DONE;
    uint32_t links_cap;
    uint64_t *links = pidset_take(&p->links, &links_cap);
    /* Every monitor of both kinds is now out of p's side. */
    Monitor *watchers = p->watchers;
    p->watchers = NULL;
    for (Monitor *m = watchers; m; m = m->next)
        m->pprev = NULL;
    PidSet monitoring = p->monitoring;
    p->monitoring = (PidSet){0};
    pthread_mutex_unlock(&p->lock);
    sched_cancel_timer(p);
    sched_forget_io(p);
    table_remove(rt, p);

    /* Only p registers p, and p has stopped: no name now means none to drop. */
    char name[64] = "";
    bool named = atomic_load_explicit(&p->named, memory_order_relaxed);
    if (named)
        pthread_mutex_lock(&rt->reg_lock);
    if (named && p->name) {
        snprintf(name, sizeof name, "%s", p->name);
        /* p->name lies in its own entry, still registered (unregister
           clears p->name under this lock): no lookup by the name, which
           may hold a NUL byte. */
        reg_drop(rt, reg_of_name(p->name), p);
    }
    if (named)
        pthread_mutex_unlock(&rt->reg_lock);
    /* The embedder reports the processes it waits for itself (the CLI's root). */
    if (!runtime_record_end(rt, p))
        report_death(p, name[0] ? name : NULL);

    for (uint32_t i = 0; i < links_cap; i++) {
        if (!links[i])
            continue;
        Proc *q = proc_get(rt, links[i]);
        if (!q)
            continue;
        pthread_mutex_lock(&q->lock);
        pidset_del(&q->links, p->pid);
        if (q->state != PROC_DONE) {
            if (q->trap_exit) {
                Msg *m = notice_new(LW_MSG_EXIT, p->pid, p->reason, 0, p->reason_text);
                if (m)
                    deliver_locked(q, m);
            } else if (p->reason != LW_REASON_NORMAL) {
                int64_t none = 0;
                if (atomic_compare_exchange_strong(&q->killed, &none, LW_REASON_LINK))
                    q->link_from = p->pid;   /* under q->lock: set_end reads it there */
                sched_wake_locked(q);
            }
        }
        pthread_mutex_unlock(&q->lock);
        proc_unref(q);
    }
    free(links);
    mon_finish_watchers(p, watchers);
    mon_finish_monitoring(p, &monitoring);
    proc_unref(p);   /* the table's reference */
    if (atomic_fetch_sub(&rt->live, 1) == 1) {
        pthread_mutex_lock(&rt->ended_lock);
        pthread_cond_broadcast(&rt->ended_cond);
        pthread_mutex_unlock(&rt->ended_lock);
    }
}
