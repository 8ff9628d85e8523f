/*
 * What a slot costs on the spawn path (src/mem/arena.c).
 *
 * The headline figure is one spawn-exit cycle's share of it: arena_alloc,
 * write into the slot's first page, arena_release(used = one page), with the
 * arena's default settings (the slot comes back through the warm cache):
 *
 *   bench arena_alloc_release_ns <value> ns
 *
 * Then, for the design notes: the same cycle with the warm cache off (every
 * release is a madvise and every first write a page fault), the bare free
 * list (used = 0) on one and on two threads, and for comparison a free list
 * that is an array under a pthread mutex, on one and two threads.
 * Each figure is the best of 5 runs (of 9 for the last line).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "mem/arena.h"

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static size_t page;

/* ---- the arena ---- */

typedef struct {
    lw_arena *a;        /* NULL: the work alone */
    int n;
    size_t used;        /* bytes written into each slot, and passed to release */
    int work;           /* iterations of other work after each cycle */
} cycle_arg;

/* Stands for the rest of a spawn, so that two threads' cycles interleave
   as they would in a runtime rather than running back to back. */
static void other_work(int iterations)
{
    for (volatile int i = 0; i < iterations; i++) {
    }
}

static void *arena_cycles(void *p)
{
    cycle_arg *c = p;
    for (int i = 0; i < c->n; i++) {
        if (c->a) {
            char *s = arena_alloc(c->a);
            if (!s)
                abort();
            if (c->used)
                s[c->used - 1] = 1;
            arena_release(c->a, s, c->used);
        }
        other_work(c->work);
    }
    return NULL;
}

/* ---- the mutex comparison: a stack of free slot pointers ---- */

typedef struct {
    pthread_mutex_t lock;
    void **free;
    size_t top;
} mutex_pool;

typedef struct {
    mutex_pool *m;
    int n;
    int work;
} mutex_arg;

static void *mutex_cycles(void *p)
{
    mutex_arg *c = p;
    mutex_pool *m = c->m;
    for (int i = 0; i < c->n; i++) {
        pthread_mutex_lock(&m->lock);
        void *s = m->free[--m->top];
        pthread_mutex_unlock(&m->lock);
        __asm__ volatile("" : : "r"(s) : "memory");
        pthread_mutex_lock(&m->lock);
        m->free[m->top++] = s;
        pthread_mutex_unlock(&m->lock);
        other_work(c->work);
    }
    return NULL;
}

/* ns per cycle of one run: `threads` threads each running fn(arg[i]). */
static double run_once(int threads, void *(*fn)(void *), void *args, size_t arg_size, int n)
{
    pthread_t th[8];
    double t0 = now_ns();
    for (int i = 0; i < threads; i++)
        if (pthread_create(&th[i], NULL, fn, (char *)args + i * arg_size) != 0)
            abort();
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    return (now_ns() - t0) / n;
}

static double best_of_5(int threads, void *(*fn)(void *), void *args, size_t arg_size, int n)
{
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double ns = run_once(threads, fn, args, arg_size, n);
        if (ns < best)
            best = ns;
    }
    return best;
}

static double min2(double x, double y)
{
    return x < y ? x : y;
}

int main(void)
{
    page = (size_t)sysconf(_SC_PAGESIZE);
    lw_arena *a = arena_new(64 * 1024, 1 << 20);
    if (!a) {
        fprintf(stderr, "arena_new failed\n");
        return 1;
    }
    cycle_arg c[2] = { { a, 2000000, page, 0 }, { a, 2000000, page, 0 } };
    /* Run in a thread even alone, so every figure pays the same thread start. */
    double warm = best_of_5(1, arena_cycles, c, sizeof c[0], c[0].n);
    printf("bench arena_alloc_release_ns %.0f ns\n", warm);

    cycle_arg bare[2] = { { a, 4000000, 0, 0 }, { a, 4000000, 0, 0 } };
    double bare1 = best_of_5(1, arena_cycles, bare, sizeof bare[0], bare[0].n);
    double bare2 = best_of_5(2, arena_cycles, bare, sizeof bare[0], bare[0].n);
    double touch2 = best_of_5(2, arena_cycles, c, sizeof c[0], c[0].n);

    lw_arena *cold_arena = arena_new(64 * 1024, 1 << 20);
    arena_set_warm(cold_arena, 0, 0);
    cycle_arg cold[1] = { { cold_arena, 100000, page, 0 } };
    double cold1 = best_of_5(1, arena_cycles, cold, sizeof cold[0], cold[0].n);

    mutex_pool m = { .lock = PTHREAD_MUTEX_INITIALIZER, .top = 64 };
    m.free = calloc(64, sizeof *m.free);
    mutex_arg ma[2] = { { &m, 4000000, 0 }, { &m, 4000000, 0 } };
    double mutex1 = best_of_5(1, mutex_cycles, ma, sizeof ma[0], ma[0].n);
    double mutex2 = best_of_5(2, mutex_cycles, ma, sizeof ma[0], ma[0].n);

    /* Two threads with some 100-200 ns of other work between cycles: the
       extra time per cycle over the work alone. */
    int work = 100, nw = 1000000;
    cycle_arg w0[2] = { { NULL, nw, 0, work }, { NULL, nw, 0, work } };
    cycle_arg wa[2] = { { a, nw, 0, work }, { a, nw, 0, work } };
    mutex_arg wm[2] = { { &m, nw, work }, { &m, nw, work } };
    double alone = 1e30, with_arena = 1e30, with_mutex = 1e30;
    for (int r = 0; r < 9; r++) {       /* interleaved, so that noise hits all three alike */
        alone = min2(alone, run_once(2, arena_cycles, w0, sizeof w0[0], nw));
        with_arena = min2(with_arena, run_once(2, arena_cycles, wa, sizeof wa[0], nw));
        with_mutex = min2(with_mutex, run_once(2, mutex_cycles, wm, sizeof wm[0], nw));
    }
    with_arena -= alone;
    with_mutex -= alone;

    printf("  the cycle with the warm cache off (madvise + page fault): %.0f ns\n", cold1);
    printf("  the cycle, 2 threads at once: %.0f ns per cycle per thread\n", touch2);
    printf("  alloc + release alone (lock-free stacks): 1 thread %.1f ns, 2 threads %.1f ns\n", bare1,
           bare2);
    printf("  the same through a pthread mutex:         1 thread %.1f ns, 2 threads %.1f ns\n",
           mutex1, mutex2);
    printf("  2 threads, %.0f ns of other work between cycles: lock-free +%.1f ns, mutex +%.1f ns\n",
           alone, with_arena, with_mutex);
    free(m.free);
    arena_free_all(cold_arena);
    arena_free_all(a);
    return 0;
}
