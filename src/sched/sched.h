/*
 * Processes and the scheduler: the contract between src/sched (which runs
 * processes) and src/wasi/process_api.c (the host functions guests call).
 *
 * A process (Proc) is an instance of a compiled module with its own lw_exec
 * (frame and value stacks, fuel), mailbox, links, monitors and
 * configuration.  Workers (worker.c) run processes one slice of fuel at a
 * time; everything a process waits for (a message, a timer) parks it with
 * no native stack held: the waiting host function returns LW_BLOCK, the
 * interpreter stops at the call, and when the process is woken the call
 * runs again and finds what it waited for (see README.md).
 *
 * Locking: each process's `lock` guards its mailbox, links, monitors and
 * wait state.  When two processes' locks are needed, the lower pid's is
 * taken first.  The process table, the registry and the timers each have
 * their own lock, never held while taking a process lock the other way
 * round (table/registry/timer lock first, then a process lock, is allowed).
 */
#ifndef LW_SCHED_SCHED_H
#define LW_SCHED_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "leonardo.h"
#include "leonardo/process.h"
#include "sched/timer.h"
#include "sched/pidset.h"
#include "sched/idtable.h"

typedef struct Proc Proc;
typedef struct Worker Worker;

/* A message in a mailbox. */
typedef struct Msg {
    struct Msg *next;
    uint64_t sender;
    int64_t tag;            /* LW_TAG_EXIT / LW_TAG_DOWN for notifications */
    uint32_t kind;          /* LW_MSG_DATA, LW_MSG_EXIT, LW_MSG_DOWN */
    uint32_t len;
    uint8_t data[];
} Msg;

Msg *msg_new(uint32_t kind, uint64_t sender, int64_t tag, const void *data, uint32_t len);

/* What a process may do and use; a child's can only be narrower (lw_config_narrows). */
typedef struct ProcConfig {
    uint64_t max_memory;    /* bytes of linear memory; a grow past it fails */
    uint64_t max_fuel;      /* 0: unlimited; else running out traps */
    uint32_t caps;          /* LW_CAP_* bits */
    /* WASI (src/wasi/table.c): which of the spawner's fds the child gets
       (bit i: fd i; bit 63: fds 63 and up), the rights it keeps at most on
       each, and whether it sees the environment variables. */
    uint64_t fd_mask;
    uint64_t rights;
    bool no_env;
} ProcConfig;

bool config_narrows(const ProcConfig *parent, const ProcConfig *child);

typedef enum {
    PROC_RUNNABLE,          /* in a run queue */
    PROC_RUNNING,           /* on a worker */
    PROC_WAITING,           /* parked: a message or timer makes it runnable */
    PROC_DONE,
} ProcState;

typedef enum { WAIT_NONE, WAIT_RECEIVE, WAIT_SLEEP, WAIT_IO, WAIT_JOB } WaitKind;

/*
 * Blocking work handed to the I/O threads (iopool.c): regular-file reads
 * and writes, which no poller can make wait.  The WASI side embeds this in
 * a bigger struct holding the call's arguments and results.
 */
typedef struct IoJob {
    struct IoJob *next;
    void (*run)(struct IoJob *);    /* on an I/O thread */
    void (*destroy)(struct IoJob *);/* frees it, if its process ends without collecting it */
    Proc *proc;
} IoJob;

#define PROC_MAX_TAGS 16    /* a receive names at most this many tags */

struct Proc {
    uint64_t pid;
    lw_runtime *rt;
    Proc *table_next;       /* process table chain (table lock) */
    atomic_uint refs;       /* the table holds one; lookups take one while they use it */

    lw_module *module;
    lw_instance *inst;
    lw_exec *ex;
    void *stack_slot;       /* ex's frames and stack, a slot of rt->stacks (NULL: ex owns them) */
    lw_func *entry;         /* run on the first slice, after the start function */
    lw_value args[8];
    Proc *run_next;         /* the global run queue's link */
    uint32_t nargs;
    uint8_t phase;          /* 0: start function next, 1: entry next, 2: entry running */
    bool in_call;           /* a call is suspended in ex: resume it */
    bool requeued;          /* queued again while still RUNNING (yield, slice over): run() needs no lock */
    bool exited;            /* ended by the API's exit(reason) */
    bool returned;          /* its entry function returned: its results are in ex */
    int64_t exit_reason;
    IdTable configs;        /* configurations it made (config_new), by id */
    IdTable modules;        /* modules it compiled (module_compile), by id */
    uint64_t parent;

    pthread_mutex_t lock;
    ProcState state;        /* under lock */
    Msg *mbox, **mbox_tail; /* under lock; oldest first */
    Msg *current;           /* the message the last receive returned (owner only) */

    /* The wait this process is in (under lock). */
    WaitKind wait;
    int64_t wait_tags[PROC_MAX_TAGS];
    uint32_t wait_ntags;
    bool wake_pending;      /* woken while still RUNNING, before it parked */
    bool timer_fired;       /* its timer (receive timeout, sleep) went off */
    bool io_ready;          /* the fd it waits for (WAIT_IO) is ready */
    bool io_open;           /* io_fd is open: a dup of the fd waited for, so that
                               processes waiting on one fd each have their own watch */
    int io_fd;
    IoJob *job;             /* handed to an I/O thread (WAIT_JOB); owner only */
    bool job_done;          /* under lock: the I/O thread finished it */
    atomic_bool io_armed;   /* watched in the poller (token: the pid); whoever clears it counts the wait out */
    lw_timer timer;         /* under the runtime's timer lock */
    bool timer_used;        /* it was ever armed (only the process itself arms it) */

    bool trap_exit;         /* link deaths arrive as LW_MSG_EXIT messages */
    _Atomic int64_t killed; /* nonzero: die at the next scheduling point, with this reason */
    uint64_t link_from;     /* killed with LW_REASON_LINK: by whose end */
    PidSet links;           /* the pids it is linked to, under lock */
    struct Monitor *watchers;   /* the monitors of this process, under lock (see Monitor) */
    PidSet monitoring;          /* the monitors it holds on others, by reference, under lock */
    ProcConfig config;
    struct WasiTable *wasi; /* its WASI capability table (src/wasi), shared copy-on-write */
    uint32_t wasi_done;     /* bytes a parked fd_write/sock_recv call has moved so far */
    uint64_t wasi_since;    /* when a parked poll_oneoff began: its relative timeouts count from there */
    int wasi_epfd;          /* poll_oneoff's epoll fd while it waits on several fds (0: none) */
    char *name;             /* registered name, or NULL (registry lock) */
    atomic_bool named;      /* name != NULL, readable without the lock */

    /* How it ended (written by its worker before the process is DONE). */
    int64_t reason;         /* LW_REASON_* or the exit() value */
    char reason_text[200];
    char *backtrace;
};

/*
 * A monitor is one record held by both sides: it is in the target's
 * `watchers` list (under the target's lock; pprev is NULL once it is out)
 * and in the watcher's `monitoring` set by reference (under the watcher's
 * lock).  Whoever takes it out of a side (the target ending, the watcher
 * ending, demonitor, or the DOWN's delivery) drops that side's reference,
 * and the last reference frees it: so removal is O(1) from either side, and
 * neither process keeps a record of a monitor that is over.
 */
enum { MON_TARGET, MON_WATCHER };
typedef struct Monitor {
    uint64_t ref, watcher, target;
    struct Monitor *next, **pprev;   /* in the target's watchers */
    atomic_uint refs;                /* one per side that holds it */
} Monitor;

/* ---- proc.c ---- */

/* The process table: look a pid up, taking a reference (proc_unref drops it). */
Proc *proc_get(lw_runtime *rt, uint64_t pid);
void proc_unref(Proc *p);
/*
 * A new process of module m (its instance made, nothing run): the caller
 * sets entry and args, then proc_start() makes it live and runnable, or
 * proc_discard() frees it.  NULL and *err on failure.
 */
Proc *proc_new(lw_runtime *rt, lw_module *m, const ProcConfig *config, uint64_t parent, lw_error *err);
bool proc_start(Proc *p);
void proc_discard(Proc *p);
/* Under p->lock: unlink and return the oldest message the current wait wants, or NULL. */
Msg *proc_take_locked(Proc *p);
/* Deliver a message (taking ownership of it).  False (and the message freed) if pid is not alive. */
bool proc_send(lw_runtime *rt, uint64_t pid, Msg *m);
/* Link a and b both ways; false if either is gone. */
bool proc_link(lw_runtime *rt, Proc *self, uint64_t other);
void proc_unlink(lw_runtime *rt, Proc *self, uint64_t other);
/* At spawn, before proc_start(child): link, or monitor (the reference is the child's pid). */
bool proc_link_new(Proc *parent, Proc *child);
bool proc_monitor_new(Proc *parent, Proc *child);
uint64_t proc_monitor(lw_runtime *rt, Proc *self, uint64_t target);
bool proc_demonitor(lw_runtime *rt, Proc *self, uint64_t ref);
/* Ask pid to die with `reason` (a kill, or a linked death).  False if it is gone. */
bool proc_kill(lw_runtime *rt, uint64_t pid, int64_t reason);
/* A process ended: tell its links and monitors, drop its name, report it, free it. */
void proc_finish(Proc *p);

int registry_register(lw_runtime *rt, Proc *p, const char *name, uint32_t len);
uint64_t registry_whereis(lw_runtime *rt, const char *name, uint32_t len);
int registry_unregister(lw_runtime *rt, const char *name, uint32_t len);

/* ---- worker.c ---- */

/* Make a WAITING process runnable (under its lock: the caller holds p->lock). */
void sched_wake_locked(Proc *p);
/* Whether anything else waits to run on this worker (a yield with nobody to yield to goes straight on). */
bool sched_others_runnable(void);
/*
 * A host function's yield (the process API's, WASI's sched_yield), to
 * return from it: LW_YIELD (the call is done and the slice ends: to the
 * back of the run queue), or LW_OK when there is nobody to yield to.
 */
lw_status sched_yield_call(Proc *p);
/* Put a new process in a run queue. */
void sched_enqueue_new(Proc *p);
/*
 * For host functions that wait for a file descriptor (WASI I/O): the first
 * call arms the poller for `events` (EPOLLIN/EPOLLOUT) on fd and returns
 * LW_BLOCK; when the fd is ready the process is woken, the host function
 * runs again, and this returns LW_OK: now do the I/O.
 */
lw_status sched_wait_io(Proc *p, int fd, uint32_t events);
/*
 * The same with a deadline (lw_now_ns clock; UINT64_MAX: none) and fd -1
 * allowed (then only the deadline).  LW_OK means the fd is ready or the
 * deadline passed: the caller looks again to tell which.
 */
lw_status sched_wait_io_until(Proc *p, int fd, uint32_t events, uint64_t deadline);
/*
 * Blocking work for an I/O thread (regular-file I/O): the first call hands
 * `job` over and returns LW_BLOCK; the process parks until the job is done.
 * When the host function runs again, sched_job_take returns the finished
 * job (NULL if it is not finished yet: return LW_BLOCK again).  A process
 * killed meanwhile ends only once its job is done, since the job writes
 * into its memory.
 */
lw_status sched_offload(Proc *p, IoJob *job);
IoJob *sched_job_take(Proc *p);
/* The process whose call `ex` is running on this worker, or NULL (not a process). */
Proc *sched_proc_of(lw_exec *ex);
/* A process ends: take it out of the poller if it is there. */
void sched_forget_io(Proc *p);
/* Arm p's own timer (receive timeout, sleep) for `deadline`. */
void sched_arm_timer(Proc *p, uint64_t deadline);
void sched_cancel_timer(Proc *p);
/* send_after: deliver msg to pid at deadline.  Returns a timer reference (never 0). */
uint64_t sched_send_after(lw_runtime *rt, uint64_t pid, uint64_t deadline, Msg *msg);
bool sched_cancel_send_after(lw_runtime *rt, uint64_t ref);

/* ---- the runtime ---- */

#define PROC_SHARDS 64      /* the process table is split so that lookups seldom contend */

typedef struct {
    pthread_mutex_t lock;
    Proc **buckets;         /* chained through Proc.table_next */
    uint32_t nbuckets, count;
} ProcShard;

typedef struct RegName {
    struct RegName *next;
    uint64_t pid;
    uint64_t hash;          /* XXH3 of the name: its key in the registry */
    uint32_t len;
    char name[];            /* len bytes (any, NUL included), then a NUL */
} RegName;

/* A process that ended and was spawned by the embedder: lw_runtime_wait reads it. */
typedef struct Ended {
    struct Ended *next;
    uint64_t pid;
    lw_proc_result result;
    char *backtrace;
} Ended;

struct lw_runtime {
    lw_store *imports;
    struct lw_arena *stacks;            /* each spawned process's frame and value stacks: one slot */
    struct lw_arena *memories;          /* and its linear memory while it fits a slot */
    ProcConfig root_config;
    int64_t slice;
    bool verbose;
    _Atomic uint64_t next_id;           /* pids, monitor and timer references */
    atomic_long live;                   /* processes not yet finished */

    ProcShard shards[PROC_SHARDS];

    pthread_mutex_t reg_lock;
    PidSet names;                       /* the registry (proc.c), under reg_lock */

    /* worker.c */
    Worker *workers;
    uint32_t nworkers;
    pthread_mutex_t gq_lock;            /* the global run queue: yielded and injected processes, FIFO */
    Proc *gq_head, *gq_tail;
    atomic_int gq_len;
    pthread_mutex_t idle_lock;
    pthread_cond_t idle_cond;
    atomic_int sleeping;                /* idle workers: on idle_cond, or in the poller */
    int cond_waiters;                   /* of those, on idle_cond (under idle_lock) */
    bool polling;                       /* one of them waits in the poller (under idle_lock) */
    struct lw_poller *poller;           /* I/O readiness, and the idle worker's sleep */
    atomic_int io_waiters;              /* processes whose fd is in the poller: busy workers look then */
    struct IoPool *iopool;              /* threads for blocking file I/O (iopool.c) */
    struct lw_wasi *wasi;               /* the WASI the root processes start with (src/wasi), or NULL */
    pthread_mutex_t timer_lock;
    lw_timers timers;
    _Atomic uint64_t next_deadline;     /* timers_next(), readable without the lock */
    PidSet send_afters;                 /* pending send_after timers by reference (worker.c; under timer_lock) */
    pthread_mutex_t sa_deliver_lock;    /* due send_afters go out in the order they came due */
    atomic_bool stopping;

    pthread_mutex_t ended_lock;
    pthread_cond_t ended_cond;
    Ended *ended;
    uint64_t *watched;                  /* pids lw_runtime_spawn started: their ends are kept */
    uint32_t nwatched, watched_cap;
};

uint64_t runtime_next_id(lw_runtime *rt);
/* A process ended: keep its result if the embedder waits for it (then true). */
bool runtime_record_end(lw_runtime *rt, Proc *p);

/* src/wasi/process_api.c: define the "leonardo" import module in `s`. */
bool process_api_define(lw_store *s);
/* src/wasi/table.c: a spawned child's WASI table, derived from its parent's
   and narrowed by its configuration (false: out of memory); and a process's
   WASI state dropped when it is freed. */
bool wasi_proc_inherit(Proc *parent, Proc *child);
void wasi_proc_release(Proc *p);

#endif
