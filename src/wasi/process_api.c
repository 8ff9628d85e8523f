/*
 * leonardo's process API for guests: the import module "leonardo"
 * (include/leonardo/process.h, docs/ABI.md).
 *
 * Each function is an lw_host_fn running on the calling process's worker.
 * Functions that wait (receive, sleep, yield) never hold the worker: they
 * record what they wait for and return LW_BLOCK; the interpreter stops at
 * the call and, once the process is woken, calls the function again, which
 * then finds its message or its timer (see src/sched/sched.h).  So such a
 * function looks at p->wait to tell a first call from a repeat.
 *
 * Every pointer and length is checked against the caller's memory, and
 * every id against what the caller owns; a bad one is a trap that ends the
 * caller with a reason naming the function.
 */
#include "sched/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interp/runtime.h"
#include "interp/store.h"
#include "mem/memory.h"
#include "wasi/wasi.h"

#define SELF(ex) ((Proc *)lw_exec_userdata(ex))

static lw_status fault(lw_exec *ex, const char *what)
{
    lw_exec_set_trap(ex, what);
    return LW_TRAP;
}

/* The guest bytes [ptr, ptr + len), or NULL when they are not all in memory 0. */
static uint8_t *guest(lw_exec *ex, uint32_t ptr, uint64_t len)
{
    lw_memory *m = lw_exec_caller_memory(ex);
    if (!m || (uint64_t)ptr + len > m->size)
        return NULL;
    memory_touch(m, (uint64_t)ptr + len);   /* some callers write there */
    return m->data + ptr;
}

#define GUEST_OR_FAULT(var, ex, ptr, len, fname) \
    uint8_t *var = guest(ex, ptr, len); \
    if (!var) \
        return fault(ex, "leonardo." fname ": pointer or length out of bounds of memory")

/* ---- identity, spawning ---- */

static lw_status api_self(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    s[0] = SELF(ex)->pid;
    return LW_OK;
}

/* The configuration a spawn gives its child: id 0 is a copy of the caller's own. */
static const ProcConfig *config_of(Proc *p, uint64_t id)
{
    if (id == 0)
        return &p->config;
    return idtable_get(&p->configs, id);
}

/*
 * Every spawn: module m (the caller's own when NULL), the entry by export
 * name or by index in table 0.  Returns the
 * child's pid, 0 if it could not start (no capability, instantiation
 * failed), or a trap for a guest fault (bad pointer, unknown id, a
 * function that cannot take the arguments).
 */
static lw_status spawn_common(lw_exec *ex, uint64_t *s, lw_module *m, uint32_t name_ptr, uint32_t name_len,
                              uint32_t fn_index, bool by_name, uint32_t args_ptr, uint32_t nargs, uint32_t flags,
                              uint64_t config)
{
    Proc *p = SELF(ex);
    lw_runtime *rt = p->rt;
    s[0] = 0;
    if (nargs > 8)
        return fault(ex, "leonardo.spawn: at most 8 arguments");
    GUEST_OR_FAULT(argp, ex, args_ptr, (uint64_t)nargs * 8, "spawn");
    int64_t args[8];
    memcpy(args, argp, (size_t)nargs * 8);
    const char *name = NULL;
    if (by_name) {
        GUEST_OR_FAULT(np, ex, name_ptr, name_len, "spawn_export");
        name = (const char *)np;
    }
    const ProcConfig *cfg = config_of(p, config);
    if (!cfg)
        return fault(ex, "leonardo.spawn: unknown configuration id");
    if (!(p->config.caps & LW_CAP_SPAWN))
        return LW_OK;   /* not allowed: 0 */

    lw_error err;
    Proc *c = proc_new(rt, m ? m : p->inst->module, cfg, p->pid, &err);
    if (!c) {
        if (rt->verbose)
            fprintf(stderr, "leonardo: process %llu: spawn failed: %s\n", (unsigned long long)p->pid, err.msg);
        return LW_OK;
    }
    lw_func *f = NULL;
    if (by_name) {
        lw_extern e;
        if (lw_instance_export_n(c->inst, name, name_len, &e) && e.kind == LW_EXTERN_FUNC)
            f = e.of.func;
    } else {
        lw_table *t = c->inst->m->ntables ? c->inst->tables[0] : NULL;
        if (t && t->elem == VT_FUNCREF && fn_index < t->size)
            f = (lw_func *)(uintptr_t)t->elems[fn_index];
    }
    const FuncSig *sig = f ? f->sig : NULL;
    bool fits = sig && sig->nparams == nargs;
    for (uint32_t i = 0; fits && i < nargs; i++)
        fits = sig->params[i] == VT_I32 || sig->params[i] == VT_I64;
    if (!fits) {
        proc_discard(c);
        return fault(ex, f ? "leonardo.spawn: the function does not take that many integer arguments"
                           : "leonardo.spawn: no such function");
    }
    c->entry = f;
    c->nargs = nargs;
    for (uint32_t i = 0; i < nargs; i++) {
        c->args[i].type = sig->params[i];
        if (sig->params[i] == VT_I32)
            c->args[i].of.i32 = (uint32_t)args[i];
        else
            c->args[i].of.i64 = (uint64_t)args[i];
    }
    if (!wasi_proc_inherit(p, c)) {
        proc_discard(c);
        return LW_OK;
    }
    /* Link and monitor before the child can run, so that it cannot end unseen. */
    if (((flags & LW_SPAWN_LINK) && !proc_link_new(p, c)) || ((flags & LW_SPAWN_MONITOR) && !proc_monitor_new(p, c))) {
        proc_discard(c);
        return LW_OK;
    }
    uint64_t pid = c->pid;   /* once started, c may run, end and be freed on another worker */
    if (!proc_start(c)) {
        proc_discard(c);
        return LW_OK;
    }
    s[0] = pid;
    return LW_OK;
}

static lw_status api_spawn(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    return spawn_common(ex, s, NULL, 0, 0, (uint32_t)s[0], false, (uint32_t)s[1], (uint32_t)s[2], (uint32_t)s[3],
                        s[4]);
}

static lw_status api_spawn_export(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    return spawn_common(ex, s, NULL, (uint32_t)s[0], (uint32_t)s[1], 0, true, (uint32_t)s[2], (uint32_t)s[3],
                        (uint32_t)s[4], s[5]);
}

/* ---- other modules ---- */

/* Compile a module from the caller's bytes: binary, or the text format. */
static lw_status api_module_compile(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    uint32_t len = (uint32_t)s[1];
    GUEST_OR_FAULT(bytes, ex, (uint32_t)s[0], len, "module_compile");
    s[0] = 0;
    if (!(p->config.caps & LW_CAP_COMPILE))
        return LW_OK;
    lw_error err;
    lw_module *m = len >= 4 && memcmp(bytes, "\0asm", 4) == 0
                       ? lw_module_load(bytes, len, &err)
                       : lw_module_load_wat((const char *)bytes, len, "module_compile", &err);
    if (!m) {
        if (p->rt->verbose)
            fprintf(stderr, "leonardo: process %llu: module_compile: %s\n", (unsigned long long)p->pid, err.msg);
        return LW_OK;
    }
    s[0] = idtable_add(&p->modules, m);
    if (!s[0]) {
        lw_module_free(m);
        return fault(ex, "leonardo.module_compile: out of memory");
    }
    return LW_OK;
}

static lw_module *own_module(Proc *p, uint64_t id)
{
    return idtable_get(&p->modules, id);
}

static lw_status api_spawn_module(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    lw_module *m = own_module(SELF(ex), s[0]);
    if (!m)
        return fault(ex, "leonardo.spawn_module: unknown module id");
    return spawn_common(ex, s, m, (uint32_t)s[1], (uint32_t)s[2], 0, true, (uint32_t)s[3], (uint32_t)s[4],
                        (uint32_t)s[5], s[6]);
}

static lw_status api_module_free(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    lw_module *m = idtable_remove(&p->modules, s[0]);
    if (!m)
        return fault(ex, "leonardo.module_free: unknown module id");
    lw_module_free(m);   /* processes running it hold their own reference */
    return LW_OK;
}

/* ---- messages ---- */

static lw_status api_send(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    uint32_t len = (uint32_t)s[3];
    GUEST_OR_FAULT(data, ex, (uint32_t)s[2], len, "send");
    Msg *m = msg_new(LW_MSG_DATA, p->pid, (int64_t)s[1], data, len);
    if (!m)
        return fault(ex, "leonardo.send: out of memory");
    s[0] = proc_send(p->rt, s[0], m) ? 0 : 1;
    return LW_OK;
}

static lw_status api_receive(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    uint32_t ntags = (uint32_t)s[1];
    int64_t timeout_ms = (int64_t)s[2];
    if (ntags > PROC_MAX_TAGS)
        return fault(ex, "leonardo.receive: more than 16 tags");
    GUEST_OR_FAULT(tags, ex, (uint32_t)s[0], (uint64_t)ntags * 8, "receive");

    pthread_mutex_lock(&p->lock);
    bool first = p->wait == WAIT_NONE;
    if (first) {
        free(p->current);
        p->current = NULL;
        memcpy(p->wait_tags, tags, (size_t)ntags * 8);
        p->wait_ntags = ntags;
        p->timer_fired = false;
    }
    Msg *m = proc_take_locked(p);
    bool timed_out = !m && (timeout_ms == 0 || p->timer_fired);
    if (m || timed_out) {
        p->wait = WAIT_NONE;
        p->timer_fired = false;
    } else {
        p->wait = WAIT_RECEIVE;
    }
    pthread_mutex_unlock(&p->lock);

    if (m || timed_out) {
        if (!first)
            sched_cancel_timer(p);
        p->current = m;
        s[0] = (uint32_t)(m ? (int32_t)m->kind : LW_MSG_TIMEOUT);
        return LW_OK;
    }
    if (first && timeout_ms > 0)
        sched_arm_timer(p, lw_now_ns() + (uint64_t)timeout_ms * 1000000u);
    return LW_BLOCK;
}

static lw_status api_msg_tag(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Msg *m = SELF(ex)->current;
    s[0] = m ? (uint64_t)m->tag : 0;
    return LW_OK;
}

static lw_status api_msg_sender(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Msg *m = SELF(ex)->current;
    s[0] = m ? m->sender : 0;
    return LW_OK;
}

static lw_status api_msg_len(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Msg *m = SELF(ex)->current;
    s[0] = m ? m->len : 0;
    return LW_OK;
}

static lw_status api_msg_read(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Msg *m = SELF(ex)->current;
    uint32_t len = (uint32_t)s[1];
    uint32_t n = m ? (m->len < len ? m->len : len) : 0;
    GUEST_OR_FAULT(dst, ex, (uint32_t)s[0], n, "msg_read");
    if (n)
        memcpy(dst, m->data, n);
    s[0] = n;
    return LW_OK;
}

/* ---- links, monitors, ends ---- */

static lw_status api_link(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    s[0] = proc_link(p->rt, p, s[0]) ? 0 : 1;
    return LW_OK;
}

static lw_status api_unlink(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    proc_unlink(p->rt, p, s[0]);
    s[0] = 0;
    return LW_OK;
}

static lw_status api_monitor(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    s[0] = proc_monitor(p->rt, p, s[0]);
    return s[0] ? LW_OK : fault(ex, "leonardo.monitor: out of memory");
}

static lw_status api_demonitor(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    s[0] = proc_demonitor(p->rt, p, s[0]) ? 0 : 1;
    return LW_OK;
}

static lw_status api_kill(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    uint64_t pid = s[0];
    s[0] = proc_kill(p->rt, pid, LW_REASON_KILLED) ? 0 : 1;
    /* Killing itself: stop here; the worker sees the kill as the slice ends. */
    return pid == p->pid ? LW_BLOCK : LW_OK;
}

static lw_status api_exit(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    p->exited = true;
    p->exit_reason = (int64_t)s[0];
    lw_exec_set_exit(ex, (int)s[0]);
    return LW_EXIT;
}

static lw_status api_trap_exit(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    pthread_mutex_lock(&p->lock);
    bool old = p->trap_exit;
    p->trap_exit = (uint32_t)s[0] != 0;
    pthread_mutex_unlock(&p->lock);
    s[0] = old;
    return LW_OK;
}

/* ---- the registry ---- */

#define NAME_MAX_LEN 255

static lw_status api_register(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    uint32_t len = (uint32_t)s[1];
    GUEST_OR_FAULT(name, ex, (uint32_t)s[0], len, "register");
    s[0] = len == 0 || len > NAME_MAX_LEN ? 1 : (uint32_t)registry_register(p->rt, p, (const char *)name, len);
    return LW_OK;
}

static lw_status api_whereis(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    uint32_t len = (uint32_t)s[1];
    GUEST_OR_FAULT(name, ex, (uint32_t)s[0], len, "whereis");
    s[0] = registry_whereis(SELF(ex)->rt, (const char *)name, len);
    return LW_OK;
}

static lw_status api_unregister(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    uint32_t len = (uint32_t)s[1];
    GUEST_OR_FAULT(name, ex, (uint32_t)s[0], len, "unregister");
    s[0] = (uint32_t)registry_unregister(SELF(ex)->rt, (const char *)name, len);
    return LW_OK;
}

/* ---- time ---- */

/* sleep(ms); with ms <= 0 a yield: to the back of the run queue, then on. */
static lw_status sleep_ms(lw_exec *ex, int64_t ms)
{
    Proc *p = SELF(ex);
    pthread_mutex_lock(&p->lock);
    if (p->wait == WAIT_SLEEP) {
        bool done = p->timer_fired;
        if (done) {
            p->wait = WAIT_NONE;
            p->timer_fired = false;
        }
        pthread_mutex_unlock(&p->lock);
        return done ? LW_OK : LW_BLOCK;
    }
    p->wait = WAIT_SLEEP;
    p->timer_fired = ms <= 0;   /* sleep(0) is a yield: back of the queue, then done */
    if (ms <= 0)
        p->wake_pending = true;
    pthread_mutex_unlock(&p->lock);
    if (ms > 0)
        sched_arm_timer(p, lw_now_ns() + (uint64_t)ms * 1000000u);
    return LW_BLOCK;
}

static lw_status api_sleep(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    return sleep_ms(ex, (int64_t)s[0]);
}

static lw_status api_yield(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    (void)s;   /* no parameters, no results: no slots to touch */
    return sched_yield_call(SELF(ex));
}

static lw_status api_send_after(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    int64_t ms = (int64_t)s[1];
    uint32_t len = (uint32_t)s[4];
    GUEST_OR_FAULT(data, ex, (uint32_t)s[3], len, "send_after");
    Msg *m = msg_new(LW_MSG_DATA, p->pid, (int64_t)s[2], data, len);
    if (!m)
        return fault(ex, "leonardo.send_after: out of memory");
    uint64_t deadline = lw_now_ns() + (ms > 0 ? (uint64_t)ms * 1000000u : 0);
    s[0] = sched_send_after(p->rt, s[0], deadline, m);
    return s[0] ? LW_OK : fault(ex, "leonardo.send_after: out of memory");
}

static lw_status api_cancel_timer(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    s[0] = sched_cancel_send_after(SELF(ex)->rt, s[0]) ? 1 : 0;
    return LW_OK;
}

/* ---- configurations ---- */

static lw_status api_config_new(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    s[0] = 0;
    if (!(p->config.caps & LW_CAP_CONFIG))
        return LW_OK;
    ProcConfig *c = malloc(sizeof *c);
    if (c) {
        *c = p->config;
        c->fd_mask = ~(uint64_t)0;   /* it names the caller's own fds: all of them, to begin with */
        s[0] = idtable_add(&p->configs, c);
    }
    if (!s[0]) {
        free(c);
        return fault(ex, "leonardo.config_new: out of memory");
    }
    return LW_OK;
}

/* The caller's own configuration `id` for changing, or NULL (a fault). */
static ProcConfig *own_config(Proc *p, uint64_t id)
{
    return idtable_get(&p->configs, id);
}

/* Which setting a config_set_* call changes. */
typedef enum { SET_MAX_MEMORY, SET_MAX_FUEL, SET_CAPS, SET_FDS, SET_RIGHTS, SET_NO_ENV } ConfigField;

/* Configuration s[0] with `field` set to s[1], unless that would widen the caller's own (then -1). */
static lw_status config_set(lw_exec *ex, uint64_t *s, ConfigField field, const char *fault_msg)
{
    Proc *p = SELF(ex);
    ProcConfig *c = own_config(p, s[0]);
    if (!c)
        return fault(ex, fault_msg);
    ProcConfig next = *c;
    switch (field) {
    case SET_MAX_MEMORY: next.max_memory = s[1]; break;
    case SET_MAX_FUEL: next.max_fuel = s[1]; break;
    case SET_FDS: next.fd_mask = s[1]; break;
    case SET_RIGHTS: next.rights = s[1]; break;
    case SET_NO_ENV: next.no_env = true; break;
    case SET_CAPS: next.caps = (uint32_t)s[1]; break;
    }
    if (!config_narrows(&p->config, &next)) {
        s[0] = (uint32_t)-1;
        return LW_OK;
    }
    *c = next;
    s[0] = 0;
    return LW_OK;
}

static lw_status api_config_set_max_memory(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    return config_set(ex, s, SET_MAX_MEMORY, "leonardo.config_set_max_memory: unknown configuration id");
}

static lw_status api_config_set_max_fuel(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    return config_set(ex, s, SET_MAX_FUEL, "leonardo.config_set_max_fuel: unknown configuration id");
}

static lw_status api_config_set_caps(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    return config_set(ex, s, SET_CAPS, "leonardo.config_set_caps: unknown configuration id");
}

static lw_status api_config_set_fds(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    return config_set(ex, s, SET_FDS, "leonardo.config_set_fds: unknown configuration id");
}

static lw_status api_config_set_rights(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    return config_set(ex, s, SET_RIGHTS, "leonardo.config_set_rights: unknown configuration id");
}

static lw_status api_config_clear_env(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    return config_set(ex, s, SET_NO_ENV, "leonardo.config_clear_env: unknown configuration id");
}

static lw_status api_config_free(lw_exec *ex, void *env, uint64_t *s)
{
    (void)env;
    Proc *p = SELF(ex);
    ProcConfig *c = idtable_remove(&p->configs, s[0]);
    if (!c)
        return fault(ex, "leonardo.config_free: unknown configuration id");
    free(c);
    return LW_OK;
}

static const HostDef process_api[] = {
    {"self", "", "I", api_self},
    {"spawn", "iiiiI", "I", api_spawn},
    {"spawn_export", "iiiiiI", "I", api_spawn_export},
    {"module_compile", "ii", "I", api_module_compile},
    {"spawn_module", "IiiiiiI", "I", api_spawn_module},
    {"module_free", "I", "", api_module_free},
    {"send", "IIii", "i", api_send},
    {"receive", "iiI", "i", api_receive},
    {"msg_tag", "", "I", api_msg_tag},
    {"msg_sender", "", "I", api_msg_sender},
    {"msg_len", "", "i", api_msg_len},
    {"msg_read", "ii", "i", api_msg_read},
    {"link", "I", "i", api_link},
    {"unlink", "I", "i", api_unlink},
    {"monitor", "I", "I", api_monitor},
    {"demonitor", "I", "i", api_demonitor},
    {"kill", "I", "i", api_kill},
    {"exit", "I", "", api_exit},
    {"trap_exit", "i", "i", api_trap_exit},
    {"register", "ii", "i", api_register},
    {"whereis", "ii", "I", api_whereis},
    {"unregister", "ii", "i", api_unregister},
    {"sleep", "I", "", api_sleep},
    {"yield", "", "", api_yield},
    {"send_after", "IIIii", "I", api_send_after},
    {"cancel_timer", "I", "i", api_cancel_timer},
    {"config_new", "", "I", api_config_new},
    {"config_set_max_memory", "II", "i", api_config_set_max_memory},
    {"config_set_max_fuel", "II", "i", api_config_set_max_fuel},
    {"config_set_caps", "Ii", "i", api_config_set_caps},
    {"config_set_fds", "II", "i", api_config_set_fds},
    {"config_set_rights", "II", "i", api_config_set_rights},
    {"config_clear_env", "I", "i", api_config_clear_env},
    {"config_free", "I", "", api_config_free},
};

const HostDef *process_api_defs(size_t *n)
{
    *n = sizeof process_api / sizeof process_api[0];
    return process_api;
}

bool process_api_define(lw_store *s)
{
    size_t n;
    const HostDef *defs = process_api_defs(&n);
    return host_define_all(s, "leonardo", defs, n, NULL);
}
