/*
 * Workers: the threads that run processes, their run queues, the timers,
 * and the runtime's public entry points (lw_runtime_*).
 *
 * Each worker owns a Chase-Lev deque (deque.c).  It pushes runnable
 * processes at the bottom and takes them from the top with deque_steal,
 * exactly as idle workers steal from it, so each queue is FIFO.  A process
 * that used up its slice (or yielded) goes to the back of a private ring,
 * `turns`, which the worker serves in alternation with the deque, so
 * nobody starves and taking turns needs no atomic operation; the ring
 * spills into the deque when another worker idles.  The one exception is
 * `runnext`: the process most recently woken by the running one (a
 * message reply) runs next, for the cache's sake, but only a few times in
 * a row before the queue gets its turn.
 *
 * Processes run on the worker's process stack, switched to with the
 * assembly context switch (ctx.h).  Waiting never keeps the stack: a
 * waiting host function returns LW_BLOCK and the interpreter stops at the
 * call (see sched.h), so one stack per worker serves every process it
 * runs, and run_body() goes from slice to slice on it until the worker
 * has nothing to do and switches back to sleep.
 *
 * A worker with nothing to do sleeps until work is pushed, its next timer
 * is due or an fd it polls for is ready: one such worker at a time in the
 * poller (epoll), the others on a condition variable.  A sleeper counts
 * itself in `sleeping` and then looks for work once more; a pusher pushes
 * and then reads `sleeping`; with sequentially consistent fences between,
 * at least one of the two sees the other, so no wakeup is lost.
 */
#define _GNU_SOURCE
#include "sched/sched.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "interp/runtime.h"
#include "sched/ctx.h"
#include "sched/iopool.h"
#include "sched/deque.h"
#include "sched/poller.h"
#include "mem/arena.h"

/* Fuel units per slice.  Measured (README.md, "Performance"): each slice
   costs ~150 ns, so 20,000 keeps that near 2% of a compute loop while a
   process behind a busy one waits ~10 us. */
#define DEFAULT_SLICE 20000
#define NATIVE_STACK_SIZE (256 * 1024)   /* each worker's stack for running processes on */
#define RUNNEXT_LIMIT 8            /* runnext picks in a row before the queue's turn */
#define TURNS 256                  /* a worker's private queue of slices ended (a power of two) */
/* Every this many scheduling rounds a busy worker looks at the global queue
   first and at the poller: otherwise processes woken from outside (I/O
   threads, ready fds) would wait for as long as its own queue is never
   empty.  (Go's scheduler uses the same number for the same reason.) */
#define FAIRNESS_TICKS 61
#define PROC_SLOTS (1u << 21)      /* processes alive at once, at most */
#define PROC_STACKS_SLOT (128 * 1024)
#define PROC_MEMORY_SLOT (256 * 1024)   /* 4 wasm pages; a bigger memory gets its own mapping */

struct Worker {
    lw_runtime *rt;
    uint32_t index;
    pthread_t thread;
    lw_deque runq;
    Proc *runnext;
    uint32_t runnext_streak;
    uint32_t turns_head, turns_len;   /* the ring below */
    lw_ctx sched_ctx, proc_ctx;
    void *stack;
    Proc *current;                 /* the process whose slice runs now */
    Proc *next;                    /* the first process of a busy period, for run_body */
    uint32_t ticks;                /* scheduling rounds */
    uint32_t fair_in;              /* rounds until the next fair one (a countdown, not ticks % 61) */
    uint32_t rng;
    /* Processes whose slice ended (a yield, or fuel): a FIFO ring that
       only this worker touches, so a switch between processes takes no
       atomic read-modify-write.  Spilled into runq when a worker idles.
       Last, so that the fields every round reads share cache lines. */
    Proc *turns[TURNS];
};

typedef struct SendAfter {
    lw_timer timer;                /* payload NULL: tells it from a process's own timer */
    struct SendAfter *next;        /* fire_timers' list of due ones */
    uint64_t ref, pid;
    Msg *msg;
} SendAfter;

static __thread Worker *this_worker;

/*
 * A full fence, for the sleeper/pusher handshake above.  GCC refuses
 * atomic_thread_fence under -fsanitize=thread (TSan cannot model fences),
 * so the TSan build uses a sequentially consistent read-modify-write of a
 * shared word instead, which is also a full barrier on x86-64 and AArch64.
 */
#if defined(__SANITIZE_THREAD__)
static atomic_int fence_word;
#define FULL_FENCE() ((void)atomic_fetch_add(&fence_word, 0))
#else
#define FULL_FENCE() atomic_thread_fence(memory_order_seq_cst)
#endif

/* ---- run queues ---- */

/* Wake an idle worker, if any: one on the condition variable, else the one in the poller. */
static void wake_sleeper(lw_runtime *rt)
{
    FULL_FENCE();
    if (atomic_load_explicit(&rt->sleeping, memory_order_relaxed) > 0) {
        pthread_mutex_lock(&rt->idle_lock);
        bool poll = rt->cond_waiters == 0 && rt->polling;
        if (!poll)
            pthread_cond_signal(&rt->idle_cond);
        pthread_mutex_unlock(&rt->idle_lock);
        if (poll)
            poller_wake(rt->poller);
    }
}

static void gq_push(lw_runtime *rt, Proc *p)
{
    p->run_next = NULL;
    pthread_mutex_lock(&rt->gq_lock);
    if (rt->gq_tail)
        rt->gq_tail->run_next = p;
    else
        rt->gq_head = p;
    rt->gq_tail = p;
    atomic_fetch_add(&rt->gq_len, 1);
    pthread_mutex_unlock(&rt->gq_lock);
}

static Proc *gq_pop(lw_runtime *rt)
{
    if (atomic_load_explicit(&rt->gq_len, memory_order_relaxed) == 0)
        return NULL;
    pthread_mutex_lock(&rt->gq_lock);
    Proc *p = rt->gq_head;
    if (p) {
        rt->gq_head = p->run_next;
        if (!rt->gq_head)
            rt->gq_tail = NULL;
        atomic_fetch_sub(&rt->gq_len, 1);
    }
    pthread_mutex_unlock(&rt->gq_lock);
    return p;
}

/*
 * Make p runnable from this thread: the worker's own queue, else the global
 * one.  A worker pushing to itself is awake and will get to the process, so
 * a sleeper is woken only when there is more than it can start next: waking
 * one for every message would cost a futex call and two context switches
 * per message, which is most of a ping-pong's time.
 */
static void push_runnable(lw_runtime *rt, Proc *p, bool as_next)
{
    Worker *w = this_worker;
    if (!w || w->rt != rt) {
        gq_push(rt, p);
        wake_sleeper(rt);
        return;
    }
    Proc *queued = p;
    if (as_next) {
        queued = w->runnext;
        w->runnext = p;
        if (!queued)
            return;
    }
    if (!deque_push(&w->runq, queued))
        gq_push(rt, queued);
    if (deque_size_hint(&w->runq) > 1 || w->runnext)
        wake_sleeper(rt);
}

void sched_wake_locked(Proc *p)
{
    if (p->state == PROC_WAITING) {
        p->state = PROC_RUNNABLE;
        push_runnable(p->rt, p, true);
    } else if (p->state == PROC_RUNNING) {
        p->wake_pending = true;   /* it parks soon and must not sleep through this */
    }
}

bool sched_others_runnable(void)
{
    Worker *w = this_worker;
    if (!w)
        return true;
    return w->runnext || w->turns_len || deque_size_hint(&w->runq) > 0 ||
           atomic_load_explicit(&w->rt->gq_len, memory_order_relaxed) > 0;
}

/* ---- the private queue of ended slices (Worker.turns) ---- */

static bool turns_push(Worker *w, Proc *p)
{
    if (w->turns_len == TURNS)
        return false;
    w->turns[(w->turns_head + w->turns_len++) & (TURNS - 1)] = p;
    return true;
}

static Proc *turns_pop(Worker *w)
{
    Proc *p = w->turns[w->turns_head];
    w->turns_head = (w->turns_head + 1) & (TURNS - 1);
    w->turns_len--;
    return p;
}

/*
 * Another worker is idle, and it cannot see the private queue: move the
 * older half of it to the deque, where it can steal them, and wake it.
 * Each round looks (one relaxed load), so an idle worker waits at most
 * about a slice.  A queue of one is kept: giving away the only process
 * would only move the idling, at the price of a wakeup every slice.
 */
static void spill_turns(Worker *w)
{
    for (uint32_t n = w->turns_len / 2; n > 0; n--) {
        Proc *p = turns_pop(w);
        if (!deque_push(&w->runq, p))
            gq_push(w->rt, p);
    }
    wake_sleeper(w->rt);
}

lw_status sched_yield_call(Proc *p)
{
    /* Alone on this worker, with no kill pending: the back of the queue is
       the front.  Otherwise the call ends the slice (run() requeues). */
    if (!atomic_load_explicit(&p->killed, memory_order_relaxed) && !sched_others_runnable())
        return LW_OK;
    return LW_YIELD;
}

void sched_enqueue_new(Proc *p)
{
    push_runnable(p->rt, p, false);
}

static Proc *take_own(Worker *w)
{
    void *item;
    for (;;) {
        deque_steal_result r = deque_steal(&w->runq, &item);
        if (r == DEQUE_OK)
            return item;
        if (r == DEQUE_EMPTY)
            return NULL;
    }
}

static Proc *steal_other(Worker *w)
{
    lw_runtime *rt = w->rt;
    uint32_t n = rt->nworkers;
    w->rng = w->rng * 1103515245u + 12345u;
    uint32_t start = (w->rng >> 16) % n;
    for (uint32_t i = 0; i < n; i++) {
        Worker *v = &rt->workers[(start + i) % n];
        if (v == w)
            continue;
        void *item;
        for (int tries = 0; tries < 4; tries++) {
            deque_steal_result r = deque_steal(&v->runq, &item);
            if (r == DEQUE_OK)
                return item;
            if (r == DEQUE_EMPTY)
                break;
        }
    }
    return NULL;
}

static Proc *find_work(Worker *w, bool fair_round)
{
    /* Processes woken from outside the workers (by an I/O thread, or
       yielded) wait in the global queue: every other round it goes first
       while it has any, so they wait about one slice, not until this
       worker's own queue runs dry. */
    Proc *p;
    bool global_first = fair_round ||
                        ((w->ticks & 1) && atomic_load_explicit(&w->rt->gq_len, memory_order_relaxed) > 0);
    if (global_first && (p = gq_pop(w->rt)))
        return p;
    p = w->runnext;
    if (p && w->runnext_streak < RUNNEXT_LIMIT) {
        w->runnext = NULL;
        w->runnext_streak++;
        return p;
    }
    w->runnext_streak = 0;
    /* Ended slices and the deque (new and woken processes) take turns,
       so that neither starves the other.  An empty deque is known by its
       size hint without a fence: only thieves move its top, and a stale
       top only makes it look fuller. */
    if (w->turns_len && ((w->ticks & 2) || deque_size_hint(&w->runq) == 0))
        return turns_pop(w);
    if ((p = take_own(w)) || (p = gq_pop(w->rt)))
        return p;
    if (w->turns_len)
        return turns_pop(w);
    if (w->runnext) {
        p = w->runnext;
        w->runnext = NULL;
        return p;
    }
    return steal_other(w);
}

/* ---- timers ---- */

static void update_next_deadline(lw_runtime *rt)
{
    atomic_store(&rt->next_deadline, timers_next(&rt->timers));
}

void sched_arm_timer(Proc *p, uint64_t deadline)
{
    lw_runtime *rt = p->rt;
    p->timer_used = true;
    pthread_mutex_lock(&rt->timer_lock);
    uint64_t before = timers_next(&rt->timers);
    timers_add(&rt->timers, &p->timer, deadline, p);
    update_next_deadline(rt);
    pthread_mutex_unlock(&rt->timer_lock);
    if (deadline < before)
        wake_sleeper(rt);   /* a sleeping worker may be waiting for a later deadline */
}

void sched_cancel_timer(Proc *p)
{
    lw_runtime *rt = p->rt;
    if (!p->timer_used)
        return;   /* never armed, so nothing can be firing it either */
    pthread_mutex_lock(&rt->timer_lock);
    timers_cancel(&rt->timers, &p->timer);
    update_next_deadline(rt);
    pthread_mutex_unlock(&rt->timer_lock);
}

/*
 * Pending send_after timers are found by reference in rt->send_afters (a
 * pid set, pidset.c, with each timer as its pointer), under timer_lock:
 * cancel_timer finds one and a firing one leaves in O(1).  (One list made
 * both a scan: 100,000 pending timers took 12.7 s to fire, now they take
 * as long as their deadlines.)
 */
uint64_t sched_send_after(lw_runtime *rt, uint64_t pid, uint64_t deadline, Msg *msg)
{
    SendAfter *sa = calloc(1, sizeof *sa);
    if (!sa) {
        free(msg);
        return 0;
    }
    uint64_t ref = sa->ref = runtime_next_id(rt);   /* once listed, sa may fire and go on another worker */
    sa->pid = pid;
    sa->msg = msg;
    pthread_mutex_lock(&rt->timer_lock);
    uint64_t before = timers_next(&rt->timers);
    if (!pidset_put(&rt->send_afters, ref, sa)) {
        pthread_mutex_unlock(&rt->timer_lock);
        free(msg);
        free(sa);
        return 0;
    }
    if (!timers_add(&rt->timers, &sa->timer, deadline, NULL)) {
        pidset_del(&rt->send_afters, ref);
        pthread_mutex_unlock(&rt->timer_lock);
        free(msg);
        free(sa);
        return 0;
    }
    update_next_deadline(rt);
    pthread_mutex_unlock(&rt->timer_lock);
    if (deadline < before)
        wake_sleeper(rt);
    return ref;
}

bool sched_cancel_send_after(lw_runtime *rt, uint64_t ref)
{
    pthread_mutex_lock(&rt->timer_lock);
    SendAfter *sa = pidset_del(&rt->send_afters, ref);
    if (sa) {
        timers_cancel(&rt->timers, &sa->timer);
        update_next_deadline(rt);
    }
    pthread_mutex_unlock(&rt->timer_lock);
    if (!sa)
        return false;
    free(sa->msg);
    free(sa);
    return true;
}

/* The timers due at `now` (fire_timers below).  Apart from the check,
   so that a round with nothing due does not pay for this frame. */
static __attribute__((noinline)) void fire_due_timers(lw_runtime *rt, uint64_t now)
{
    SendAfter *due = NULL, **due_tail = &due;   /* in deadline order, as they pop */
    pthread_mutex_lock(&rt->timer_lock);
    lw_timer *e;
    while ((e = timers_pop_due(&rt->timers, now))) {
        if (e->payload) {
            /* A process's own timer.  It cancels it (under this lock) before
               it is freed, so it is alive here. */
            Proc *p = e->payload;
            pthread_mutex_lock(&p->lock);
            p->timer_fired = true;
            if (p->wait != WAIT_NONE)
                sched_wake_locked(p);
            pthread_mutex_unlock(&p->lock);
        } else {
            SendAfter *sa = (SendAfter *)e;
            pidset_del(&rt->send_afters, sa->ref);
            sa->next = NULL;
            *due_tail = sa;
            due_tail = &sa->next;
        }
    }
    update_next_deadline(rt);
    /* Deliver outside the timer lock (sending takes other locks), but in
       the order the timers came due, also when another worker pops the
       next ones meanwhile: the delivery lock is taken before the timer
       lock is let go. */
    bool delivering = due != NULL;
    if (delivering)
        pthread_mutex_lock(&rt->sa_deliver_lock);
    pthread_mutex_unlock(&rt->timer_lock);
    while (due) {
        SendAfter *sa = due;
        due = sa->next;
        proc_send(rt, sa->pid, sa->msg);
        free(sa);
    }
    if (delivering)
        pthread_mutex_unlock(&rt->sa_deliver_lock);
}

static void fire_timers(lw_runtime *rt)
{
    uint64_t next = atomic_load_explicit(&rt->next_deadline, memory_order_relaxed);
    if (next == UINT64_MAX)
        return;   /* no timer at all: not even a clock read */
    uint64_t now = lw_now_ns();
    if (now >= next)
        fire_due_timers(rt, now);
}

/* ---- running a process ---- */

/* One slice of p, on the process stack. */
static lw_status run_slice(Proc *p)
{
    lw_exec *ex = p->ex;
    for (;;) {
        lw_status st;
        if (p->in_call) {
            st = lw_exec_resume(ex);
        } else if (p->phase == 0) {
            p->in_call = true;
            st = lw_exec_call(ex, p->inst->funcs[p->inst->m->start], NULL, 0);
        } else {
            p->in_call = true;
            p->phase = 2;
            st = lw_exec_call(ex, p->entry, p->args, p->nargs);
        }
        if (st == LW_YIELD || st == LW_BLOCK)
            return st;
        p->in_call = false;
        if (st == LW_OK && p->phase == 0) {
            p->phase = 1;   /* the start function is done: on to the entry */
            continue;
        }
        return st;
    }
}


/* Record how p ended, from the status of its last slice (or a kill). */
static void set_end(Proc *p, lw_status st, int64_t killed)
{
    lw_exec *ex = p->ex;
    if (killed) {
        p->reason = killed;
        if (killed == LW_REASON_LINK) {
            pthread_mutex_lock(&p->lock);   /* the killer writes link_from under it, after the kill */
            uint64_t from = p->link_from;
            pthread_mutex_unlock(&p->lock);
            snprintf(p->reason_text, sizeof p->reason_text, "linked process %llu ended abnormally",
                     (unsigned long long)from);
        } else
            snprintf(p->reason_text, sizeof p->reason_text, "killed");
        return;
    }
    switch (st) {
    case LW_OK:
        p->reason = LW_REASON_NORMAL;
        p->returned = true;
        snprintf(p->reason_text, sizeof p->reason_text, "normal");
        break;
    case LW_EXIT:
        /* proc_exit's code is a u32: never mistaken for a negative LW_REASON_* */
        p->reason = p->exited ? p->exit_reason : (int64_t)(uint32_t)lw_exec_exit_code(ex);
        snprintf(p->reason_text, sizeof p->reason_text, p->reason ? "exit(%lld)" : "normal",
                 (long long)p->reason);
        break;
    default:
        p->reason = LW_REASON_TRAP;
        snprintf(p->reason_text, sizeof p->reason_text, "trap: %s", lw_exec_trap_message(ex));
        p->backtrace = strdup(lw_exec_backtrace(ex));
        break;
    }
}

/* Run p's next slice (unless it was killed) and do what its end asks for. */
static void run(Worker *w, Proc *p)
{
    if (p->requeued) {
        /* Requeued while RUNNING (a yield, or its slice ran out): still
           RUNNING, so no lock.  A wake_pending set meanwhile stays, and at
           worst turns its next park into one more look at its mailbox. */
        p->requeued = false;
    } else {
        pthread_mutex_lock(&p->lock);
        p->state = PROC_RUNNING;
        p->wake_pending = false;
        pthread_mutex_unlock(&p->lock);
    }

    int64_t killed = atomic_load(&p->killed);
    lw_status st = LW_OK;
    if (!killed) {
        w->current = p;
        st = run_slice(p);
        w->current = NULL;
        killed = atomic_load(&p->killed);
    }
    if (!killed && st == LW_YIELD) {
        /* Out of fuel, or a yield: straight to the back of the queue.  Its
           state stays RUNNING, which to a waker means the same as RUNNABLE
           (it will run and see what came), so no lock is needed. */
        p->requeued = true;
        if (!turns_push(w, p) && !deque_push(&w->runq, p))
            gq_push(w->rt, p);
        return;
    }
    if (!killed && st == LW_BLOCK) {
        pthread_mutex_lock(&p->lock);
        bool again = p->wake_pending;
        p->wake_pending = false;
        p->state = again ? PROC_RUNNABLE : PROC_WAITING;
        pthread_mutex_unlock(&p->lock);
        if (again && !deque_push(&w->runq, p))
            gq_push(w->rt, p);
        return;
    }
    if (killed && p->job) {
        /* An I/O thread still writes into its memory: it ends once the job
           is done (the job's end wakes it again). */
        pthread_mutex_lock(&p->lock);
        bool busy = !p->job_done;
        if (busy)
            p->state = PROC_WAITING;
        pthread_mutex_unlock(&p->lock);
        if (busy)
            return;
    }
    set_end(p, st, killed);
    proc_finish(p);
}

/* ---- idling ---- */

static bool work_visible(lw_runtime *rt)
{
    if (atomic_load(&rt->gq_len) > 0 || atomic_load(&rt->stopping))
        return true;
    for (uint32_t i = 0; i < rt->nworkers; i++)
        if (deque_size_hint(&rt->workers[i].runq) > 0)
            return true;
    return lw_now_ns() >= atomic_load(&rt->next_deadline);
}

/*
 * An fd a process waits for is ready.  The poller's token is the process's
 * pid, not a pointer: a wait under way in another thread may still report
 * a token after its watch is gone (poller.h), and by then the process may
 * have ended and its slot gone to another.  A pid is never reused, so a
 * late report finds no process, or one whose watch is disarmed.
 */
static void io_ready(lw_runtime *rt, void *token)
{
    Proc *p = proc_get(rt, (uint64_t)(uintptr_t)token);
    if (!p)
        return;   /* it has ended */
    bool armed = true;
    if (atomic_compare_exchange_strong(&p->io_armed, &armed, false)) {
        atomic_fetch_sub_explicit(&rt->io_waiters, 1, memory_order_relaxed);
        pthread_mutex_lock(&p->lock);
        p->io_ready = true;
        if (p->wait == WAIT_IO)
            sched_wake_locked(p);
        pthread_mutex_unlock(&p->lock);
    }   /* else its wait ended meanwhile, and io_disarm took it out */
    proc_unref(p);
}

/* A wait is over (ready, timed out, or the process ends): drop its watch and its dup. */
static void io_disarm(Proc *p)
{
    bool armed = true;
    if (atomic_compare_exchange_strong(&p->io_armed, &armed, false))
        atomic_fetch_sub_explicit(&p->rt->io_waiters, 1, memory_order_relaxed);
    if (p->io_open) {
        poller_unwatch(p->rt->poller, p->io_fd);
        close(p->io_fd);
        p->io_open = false;
    }
}

lw_status sched_wait_io_until(Proc *p, int fd, uint32_t events, uint64_t deadline)
{
    pthread_mutex_lock(&p->lock);
    if (p->wait == WAIT_IO) {
        bool ready = p->io_ready || p->timer_fired;
        if (ready) {
            p->wait = WAIT_NONE;
            p->io_ready = false;
            p->timer_fired = false;
        }
        pthread_mutex_unlock(&p->lock);
        if (!ready)
            return LW_BLOCK;
        sched_cancel_timer(p);
        io_disarm(p);
        return LW_OK;
    }
    p->wait = WAIT_IO;
    p->io_ready = false;
    p->timer_fired = false;
    pthread_mutex_unlock(&p->lock);
    if (fd >= 0) {
        /* Watch a duplicate: epoll keeps one watch per fd number, and other
           processes may wait on this same descriptor at the same time. */
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (dup < 0) {
            pthread_mutex_lock(&p->lock);
            p->wait = WAIT_NONE;
            pthread_mutex_unlock(&p->lock);
            return LW_TRAP;   /* the caller says why (out of descriptors) */
        }
        p->io_fd = dup;
        p->io_open = true;
        atomic_fetch_add_explicit(&p->rt->io_waiters, 1, memory_order_relaxed);
        atomic_store(&p->io_armed, true);
        if (!poller_watch(p->rt->poller, dup, events, (void *)(uintptr_t)p->pid)) {
            io_disarm(p);
            pthread_mutex_lock(&p->lock);
            p->wait = WAIT_NONE;
            pthread_mutex_unlock(&p->lock);
            return LW_TRAP;   /* the caller says why (a bad fd) */
        }
    }
    if (deadline != UINT64_MAX)
        sched_arm_timer(p, deadline);
    return LW_BLOCK;
}

lw_status sched_wait_io(Proc *p, int fd, uint32_t events)
{
    return sched_wait_io_until(p, fd, events, UINT64_MAX);
}

void sched_forget_io(Proc *p)
{
    io_disarm(p);
}

/* ---- blocking work on the I/O threads ---- */

/* On the I/O thread: the job is done; wake its process. */
static void job_done(IoJob *job)
{
    Proc *p = job->proc;
    pthread_mutex_lock(&p->lock);
    p->job_done = true;
    sched_wake_locked(p);
    pthread_mutex_unlock(&p->lock);
}

lw_status sched_offload(Proc *p, IoJob *job)
{
    lw_runtime *rt = p->rt;
    job->proc = p;
    pthread_mutex_lock(&p->lock);
    p->wait = WAIT_JOB;
    p->job_done = false;
    pthread_mutex_unlock(&p->lock);
    p->job = job;
    if (!iopool_submit(rt->iopool, job)) {
        /* No thread could start: do it here, which is slow but correct. */
        job->run(job);
        pthread_mutex_lock(&p->lock);
        p->job_done = true;
        p->wake_pending = true;
        pthread_mutex_unlock(&p->lock);
    }
    return LW_BLOCK;
}

IoJob *sched_job_take(Proc *p)
{
    pthread_mutex_lock(&p->lock);
    IoJob *job = p->job_done ? p->job : NULL;
    if (job) {
        p->job = NULL;
        p->job_done = false;
        p->wait = WAIT_NONE;
    }
    pthread_mutex_unlock(&p->lock);
    return job;
}

Proc *sched_proc_of(lw_exec *ex)
{
    Worker *w = this_worker;
    return w && w->current && w->current->ex == ex ? w->current : NULL;
}

/*
 * Nothing to do: sleep until work is pushed, a timer is due, or an fd is
 * ready.  One idle worker at a time waits in the poller (with the next
 * timer's deadline as its timeout), the others on the condition variable.
 */
static void idle_wait(Worker *w)
{
    lw_runtime *rt = w->rt;
    pthread_mutex_lock(&rt->idle_lock);
    atomic_fetch_add(&rt->sleeping, 1);
    FULL_FENCE();
    if (work_visible(rt) || w->runnext) {
        atomic_fetch_sub(&rt->sleeping, 1);
        pthread_mutex_unlock(&rt->idle_lock);
        return;
    }
    uint64_t deadline = atomic_load(&rt->next_deadline);
    if (!rt->polling) {
        rt->polling = true;
        pthread_mutex_unlock(&rt->idle_lock);
        void *tokens[64];
        int n = poller_wait_until(rt->poller, deadline, tokens, 64);
        pthread_mutex_lock(&rt->idle_lock);
        rt->polling = false;
        atomic_fetch_sub(&rt->sleeping, 1);
        pthread_mutex_unlock(&rt->idle_lock);
        for (int i = 0; i < n; i++)
            io_ready(rt, tokens[i]);
        return;
    }
    rt->cond_waiters++;
    if (deadline == UINT64_MAX) {
        pthread_cond_wait(&rt->idle_cond, &rt->idle_lock);
    } else {
        struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000000u),
                               .tv_nsec = (long)(deadline % 1000000000u) };
        pthread_cond_timedwait(&rt->idle_cond, &rt->idle_lock, &ts);
    }
    rt->cond_waiters--;
    atomic_fetch_sub(&rt->sleeping, 1);
    pthread_mutex_unlock(&rt->idle_lock);
}

/* Wake the processes whose fds are ready, without waiting.  Apart, so
   that its array of tokens is not on the stack of every round. */
static __attribute__((noinline)) void poll_now(lw_runtime *rt)
{
    void *tokens[64];
    int n = poller_check(rt->poller, tokens, 64);
    for (int i = 0; i < n; i++)
        io_ready(rt, tokens[i]);
}

/* One scheduling round: due timers, now and then the poller, then the
   next process to run (NULL: nothing, or the runtime is stopping). */
static Proc *next_work(Worker *w)
{
    lw_runtime *rt = w->rt;
    if (atomic_load_explicit(&rt->stopping, memory_order_acquire))
        return NULL;
    fire_timers(rt);
    if (w->turns_len > 1 && atomic_load_explicit(&rt->sleeping, memory_order_relaxed) > 0)
        spill_turns(w);
    w->ticks++;
    bool fair_round = w->fair_in-- == 0;   /* one round in FAIRNESS_TICKS */
    if (fair_round)
        w->fair_in = FAIRNESS_TICKS - 1;
    if (fair_round && atomic_load_explicit(&rt->io_waiters, memory_order_relaxed) > 0)
        poll_now(rt);
    return find_work(w, fair_round);
}

/*
 * The worker's busy period, on its process stack.  A slice that ends holds
 * no native state (a waiting process is parked at its call instruction, see
 * sched.h), so the stack is free again as soon as run() returns, and the
 * next round's process runs on it directly: a switch to it and back would
 * only save and restore registers nothing uses.  The worker goes back to
 * its thread's stack when it finds nothing to run, to sleep there.
 */
static void run_body(void *arg)
{
    Worker *w = arg;
    for (Proc *p = w->next; p; p = next_work(w))
        run(w, p);
    lw_ctx_exit(&w->proc_ctx, &w->sched_ctx);
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    lw_runtime *rt = w->rt;
    this_worker = w;
    while (!atomic_load_explicit(&rt->stopping, memory_order_acquire)) {
        Proc *p = next_work(w);
        if (p) {
            w->next = p;
            lw_ctx_init(&w->proc_ctx, w->stack, NATIVE_STACK_SIZE, run_body, w);
            lw_ctx_switch(&w->sched_ctx, &w->proc_ctx);
            lw_ctx_release(&w->proc_ctx);
            /* run_body came back because its last round found nothing. */
            if (atomic_load_explicit(&rt->stopping, memory_order_acquire))
                break;
        }
        idle_wait(w);
    }
    this_worker = NULL;
    return NULL;
}

/* ---- the runtime ---- */

lw_runtime *lw_runtime_new(const lw_runtime_config *cfg)
{
    lw_runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rt->slice = cfg && cfg->slice > 0 ? cfg->slice : DEFAULT_SLICE;
    rt->verbose = cfg && cfg->verbose;
    rt->root_config.max_memory = cfg && cfg->max_memory ? cfg->max_memory : (uint64_t)65536 * 65536;
    rt->root_config.max_fuel = cfg ? cfg->max_fuel : 0;
    rt->root_config.caps = LW_CAP_ALL;
    rt->root_config.fd_mask = ~(uint64_t)0;
    rt->root_config.rights = ~(uint64_t)0;
    atomic_init(&rt->next_id, 1);
    atomic_init(&rt->next_deadline, UINT64_MAX);
    for (int i = 0; i < PROC_SHARDS; i++)
        pthread_mutex_init(&rt->shards[i].lock, NULL);
    pthread_mutex_init(&rt->reg_lock, NULL);
    pthread_mutex_init(&rt->gq_lock, NULL);
    pthread_mutex_init(&rt->idle_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* deadlines are lw_now_ns() values */
    pthread_cond_init(&rt->idle_cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&rt->timer_lock, NULL);
    pthread_mutex_init(&rt->sa_deliver_lock, NULL);
    pthread_mutex_init(&rt->ended_lock, NULL);
    pthread_cond_init(&rt->ended_cond, NULL);
    rt->imports = lw_store_new();
    /* Address space only (MAP_NORESERVE): a slot costs the pages a process touches. */
    rt->poller = poller_new();
    rt->stacks = arena_new(PROC_STACKS_SLOT, PROC_SLOTS);
    rt->memories = arena_new(PROC_MEMORY_SLOT, PROC_SLOTS);
    rt->iopool = iopool_new(job_done);
    bool ok = rt->imports && rt->poller && rt->iopool && rt->stacks && rt->memories && timers_init(&rt->timers) && process_api_define(rt->imports);

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    rt->nworkers = cfg && cfg->threads ? cfg->threads : (ncpu > 0 ? (uint32_t)ncpu : 1);
    rt->workers = calloc(rt->nworkers, sizeof *rt->workers);
    ok = ok && rt->workers;
    for (uint32_t i = 0; ok && i < rt->nworkers; i++) {
        Worker *w = &rt->workers[i];
        w->rt = rt;
        w->index = i;
        w->rng = 2654435761u * (i + 1);
        void *stack = mmap(NULL, NATIVE_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        w->stack = stack == MAP_FAILED ? NULL : stack;
        ok = w->stack && deque_init(&w->runq, 8);
    }
    for (uint32_t i = 0; ok && i < rt->nworkers; i++)
        ok = pthread_create(&rt->workers[i].thread, NULL, worker_main, &rt->workers[i]) == 0;
    if (!ok) {
        lw_runtime_free(rt);
        return NULL;
    }
    return rt;
}

lw_store *lw_runtime_store(lw_runtime *rt)
{
    return rt->imports;
}

uint64_t lw_runtime_spawn(lw_runtime *rt, lw_module *m, const char *name, const lw_value *args, uint32_t nargs,
                          lw_error *err)
{
    lw_error dummy;
    if (!err)
        err = &dummy;
    err->kind = LW_ERR_LINK;
    err->offset = (size_t)-1;
    if (nargs > 8) {
        snprintf(err->msg, sizeof err->msg, "at most 8 arguments");
        return 0;
    }
    Proc *p = proc_new(rt, m, &rt->root_config, 0, err);
    if (!p)
        return 0;
    lw_extern ext;
    if (!lw_instance_export(p->inst, name, &ext) || ext.kind != LW_EXTERN_FUNC ||
        ext.of.func->sig->nparams != nargs) {
        bool exists = lw_instance_export(p->inst, name, &ext) && ext.kind == LW_EXTERN_FUNC;
        err->kind = LW_ERR_NOEXPORT;
        snprintf(err->msg, sizeof err->msg, exists ? "'%s' takes %u parameters, not %u" : "no exported function '%s'",
                 name, exists ? ext.of.func->sig->nparams : 0, nargs);
        proc_discard(p);
        return 0;
    }
    p->entry = ext.of.func;
    if (nargs)
        memcpy(p->args, args, nargs * sizeof *args);
    p->nargs = nargs;
    uint64_t pid = p->pid;
    pthread_mutex_lock(&rt->ended_lock);
    if (rt->nwatched == rt->watched_cap) {
        uint32_t cap = rt->watched_cap ? rt->watched_cap * 2 : 4;
        uint64_t *wl = realloc(rt->watched, cap * sizeof *wl);
        if (wl) {
            rt->watched = wl;
            rt->watched_cap = cap;
        }
    }
    bool watched = rt->nwatched < rt->watched_cap;
    if (watched)
        rt->watched[rt->nwatched++] = pid;
    pthread_mutex_unlock(&rt->ended_lock);
    if (!watched || !proc_start(p)) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        proc_discard(p);
        return 0;
    }
    return pid;
}

bool runtime_record_end(lw_runtime *rt, Proc *p)
{
    bool watched = false;
    pthread_mutex_lock(&rt->ended_lock);
    for (uint32_t i = 0; i < rt->nwatched; i++) {
        if (rt->watched[i] != p->pid)
            continue;
        Ended *e = calloc(1, sizeof *e);
        if (e) {
            e->pid = p->pid;
            e->result.reason = p->reason;
            snprintf(e->result.text, sizeof e->result.text, "%s", p->reason_text);
            e->backtrace = p->backtrace ? strdup(p->backtrace) : NULL;
            e->result.backtrace = e->backtrace ? e->backtrace : "";
            if (p->returned && p->entry) {
                uint32_t n = p->entry->sig->nresults;
                e->result.returned = true;
                e->result.nresults = n < LW_PROC_MAX_RESULTS ? n : LW_PROC_MAX_RESULTS;
                lw_exec_results(p->ex, e->result.results, e->result.nresults);
            }
            e->next = rt->ended;
            rt->ended = e;
        }
        rt->watched[i] = rt->watched[--rt->nwatched];
        pthread_cond_broadcast(&rt->ended_cond);
        watched = true;
        break;
    }
    pthread_mutex_unlock(&rt->ended_lock);
    return watched;
}

void lw_runtime_wait(lw_runtime *rt, uint64_t pid, lw_proc_result *out)
{
    pthread_mutex_lock(&rt->ended_lock);
    for (;;) {
        Ended *e = rt->ended;
        while (e && e->pid != pid)
            e = e->next;
        if (e) {
            *out = e->result;
            break;
        }
        bool pending = false;
        for (uint32_t i = 0; i < rt->nwatched; i++)
            pending |= rt->watched[i] == pid;
        if (!pending) {
            memset(out, 0, sizeof *out);
            out->reason = LW_REASON_NOPROC;
            snprintf(out->text, sizeof out->text, "no such process");
            out->backtrace = "";
            break;
        }
        pthread_cond_wait(&rt->ended_cond, &rt->ended_lock);
    }
    pthread_mutex_unlock(&rt->ended_lock);
}

void lw_runtime_free(lw_runtime *rt)
{
    if (!rt)
        return;
    atomic_store(&rt->stopping, true);
    pthread_mutex_lock(&rt->idle_lock);
    pthread_cond_broadcast(&rt->idle_cond);
    pthread_mutex_unlock(&rt->idle_lock);
    if (rt->poller)
        poller_wake(rt->poller);
    for (uint32_t i = 0; rt->workers && i < rt->nworkers; i++) {
        Worker *w = &rt->workers[i];
        if (w->thread)
            pthread_join(w->thread, NULL);
    }
    /* Jobs still running write into their processes: let them finish first. */
    iopool_free(rt->iopool);
    /* Whatever still lives is freed without ceremony: nobody is left to tell. */
    for (int i = 0; i < PROC_SHARDS; i++) {
        ProcShard *sh = &rt->shards[i];
        for (uint32_t b = 0; b < sh->nbuckets; b++)
            for (Proc *p = sh->buckets[b], *next; p; p = next) {
                next = p->table_next;
                sched_cancel_timer(p);
                sched_forget_io(p);
                proc_unref(p);
            }
        free(sh->buckets);
        pthread_mutex_destroy(&sh->lock);
    }
    for (uint32_t i = 0; rt->workers && i < rt->nworkers; i++) {
        Worker *w = &rt->workers[i];
        if (w->stack)
            munmap(w->stack, NATIVE_STACK_SIZE);
        if (w->runq.array)
            deque_destroy(&w->runq);
    }
    free(rt->workers);
    timers_destroy(&rt->timers);   /* first: it marks the entries still pending, freed next */
    for (uint32_t i = 0; i < rt->send_afters.cap; i++) {
        SendAfter *sa = rt->send_afters.vals[i];   /* each pending one's pointer */
        if (sa) {
            free(sa->msg);
            free(sa);
        }
    }
    pidset_free(&rt->send_afters);
    for (uint32_t i = 0; i < rt->names.cap; i++)
        for (RegName *r = rt->names.vals[i], *next; r; r = next) {   /* each hash's chain */
            next = r->next;
            free(r);
        }
    pidset_free(&rt->names);
    for (Ended *e = rt->ended, *next; e; e = next) {
        next = e->next;
        free(e->backtrace);
        free(e);
    }
    free(rt->watched);
    lw_store_free(rt->imports);
    poller_free(rt->poller);
    arena_free_all(rt->stacks);
    arena_free_all(rt->memories);
    free(rt);
}
