/*
 * What a value costs to go through a frame slot, on the machine at hand: a
 * chain of dependent additions whose value is stored to memory and loaded
 * back at every link, as handlers do with their operand slots, against the
 * same chain kept in a register.  Integer and f64, each with the slot
 * addressed the interpreter's way (base + index * 8, the index in a
 * register) and the load using another index register than the store,
 * as two different handlers would.
 *
 *     cc -std=gnu11 -O2 bench/slot_chain.c -o build/slot_chain && build/slot_chain
 *
 * prints the cycles a link takes (`bench slot_int_cycles ...`, `bench
 * slot_f64_cycles ...`), calibrated against a chain of 3-cycle integer
 * multiplies; `make bench` runs it.  On the 2-core AMD EPYC VM (Zen 4) of
 * the README, 2026-11-25: integer 1-2 cycles a link through a slot, 1 in a
 * register; f64 about 12 through a slot, 3 in a register.  So the CPU hands an integer from a
 * store to the load that reads it back at almost no cost (it renames the
 * memory operand), and a float for about nine cycles: the float register
 * of src/interp/passes.c exists for that, and keeping integers in
 * registers instead of slots would gain little.
 * x86-64 only (inline asm).
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#if defined(__x86_64__)
enum { N = 100000000 };

static uint64_t slots[64];

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
    uint64_t *fp = slots;
    long i1 = 5, i2 = 5;
    __asm__ volatile("" : "+r"(i2));   /* two registers, one value */
    double one = 1.0, x = 0.0;
    uint64_t r = 1, k = 0;
    long n;
    /* Each loop is all asm, so that the compiler keeps nothing of the
       chain anywhere else (it moved a double through a general register). */
    double t0 = now_ns();
    n = N;
    __asm__ volatile("1: imulq $3, %0, %0\n\tdecq %1\n\tjnz 1b" : "+r"(r), "+r"(n));
    double t1 = now_ns();
    n = N;
    __asm__ volatile("1: movq (%1,%2,8), %%rax\n\taddq $1, %%rax\n\tmovq %%rax, (%1,%3,8)\n\t"
                     "decq %0\n\tjnz 1b"
                     : "+r"(n) : "r"(fp), "r"(i1), "r"(i2) : "rax", "memory");
    double t2 = now_ns();
    n = N;
    __asm__ volatile("1: movsd (%1,%2,8), %%xmm0\n\taddsd %4, %%xmm0\n\tmovsd %%xmm0, (%1,%3,8)\n\t"
                     "decq %0\n\tjnz 1b"
                     : "+r"(n) : "r"(fp), "r"(i1), "r"(i2), "x"(one) : "xmm0", "memory");
    double t3 = now_ns();
    n = N;
    __asm__ volatile("1: addsd %2, %0\n\tdecq %1\n\tjnz 1b" : "+x"(x), "+r"(n) : "x"(one));
    double t4 = now_ns();
    n = N;
    __asm__ volatile("1: addq $1, %0\n\tdecq %1\n\tjnz 1b" : "+r"(k), "+r"(n));
    double t5 = now_ns();
    double cyc = (t1 - t0) / N / 3;   /* ns a cycle: imul takes 3 */
    printf("bench slot_int_cycles %.1f cycles    # an integer add's link through a slot; %.1f in a register (%llu)\n",
           (t2 - t1) / N / cyc, (t5 - t4) / N / cyc, (unsigned long long)((r ^ k) & 1));
    printf("bench slot_f64_cycles %.1f cycles    # an f64 add's link through a slot; %.1f in a register (%g)\n",
           (t3 - t2) / N / cyc, (t4 - t3) / N / cyc, x > 0 ? 1.0 : 0.0);
    return 0;
}
#else
int main(void)
{
    puts("bench slot_int_cycles - (x86-64 only)");
    return 0;
}
#endif
