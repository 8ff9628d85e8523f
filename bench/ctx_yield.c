/*
 * The cost of a context switch: the scheduler switches to a coroutine,
 * which switches straight back, many million times.  One round trip is two
 * lw_ctx_switch calls, the cost of a process yielding to its scheduler and
 * being resumed, without the scheduler's own work.
 *
 *     make libleonardo.a
 *     cc -std=gnu11 -O2 -Iinclude -Isrc bench/ctx_yield.c libleonardo.a -o build/ctx_yield
 *     build/ctx_yield [ROUNDS_PER_BATCH [BATCHES]]      (default 2000000 15)
 *
 * It prints the median over the batches, in nanoseconds per round trip,
 * and on stderr the minimum, median and maximum:
 *
 *     bench ctx_switch_ns 10.6 ns
 *
 * (2-core AMD EPYC VM at 2.6 GHz, gcc 12 -O2; src/sched/README.md says
 * what the time is made of.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sched/ctx.h"

static lw_ctx sched_ctx, proc_ctx;
static volatile uint64_t yields;

static void proc(void *arg)
{
    (void)arg;
    for (;;) {
        yields++;
        lw_ctx_switch(&proc_ctx, &sched_ctx);
    }
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 2000000;
    int batches = argc > 2 ? atoi(argv[2]) : 15;
    if (rounds <= 0 || batches <= 0 || batches > 1000) {
        fprintf(stderr, "usage: ctx_yield [ROUNDS_PER_BATCH [BATCHES]]\n");
        return 2;
    }
    enum { STACK = 16 << 10 };
    void *stack = aligned_alloc(64, STACK);
    double *ns = malloc(sizeof(double) * (size_t)batches);
    if (!stack || !ns)
        return 2;
    lw_ctx_init(&proc_ctx, stack, STACK, proc, NULL);

    /* one warm-up batch, not counted */
    for (long i = 0; i < rounds; i++)
        lw_ctx_switch(&sched_ctx, &proc_ctx);
    for (int b = 0; b < batches; b++) {
        double t0 = now_ns();
        for (long i = 0; i < rounds; i++)
            lw_ctx_switch(&sched_ctx, &proc_ctx);
        ns[b] = (now_ns() - t0) / (double)rounds;
    }
    if (yields != (uint64_t)rounds * (uint64_t)(batches + 1)) {
        fprintf(stderr, "ctx_yield: %llu yields, expected %llu\n", (unsigned long long)yields,
                (unsigned long long)rounds * (unsigned long long)(batches + 1));
        return 1;
    }
    qsort(ns, (size_t)batches, sizeof ns[0], cmp_double);
    printf("bench ctx_switch_ns %.1f ns\n", ns[batches / 2]);
    fprintf(stderr, "ctx_yield: %d batches of %ld round trips: min %.2f, median %.2f, max %.2f ns\n",
            batches, rounds, ns[0], ns[batches / 2], ns[batches - 1]);
    lw_ctx_release(&proc_ctx);
    free(stack);
    free(ns);
    return 0;
}
