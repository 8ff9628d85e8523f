/*
 * Handler-pair counts for the developer build with -DLW_PROFILE_PAIRS (see
 * interp.c): which handler runs right after which, summed over the run and
 * printed to stderr at exit, most frequent first.  Fusion candidates come
 * from here.  Not thread-safe; single-process runs only.
 */
#ifdef LW_PROFILE_PAIRS
#include <stdio.h>
#include <stdlib.h>
#include "interp/translate.h"

static uint64_t *counts;   /* [prev * H__COUNT + cur] */
static int prev = -1;
static const void **sorted;
static int *sorted_id;

static int by_addr(const void *a, const void *b)
{
    const void *x = *(const void *const *)a, *y = *(const void *const *)b;
    return x < y ? -1 : x > y;
}

static uint64_t total;      /* every dispatch */

static void report(void)
{
    fprintf(stderr, "dispatches %llu\n", (unsigned long long)total);
    for (int n = 0; n < 40; n++) {
        size_t best = 0;
        for (size_t i = 1; i < (size_t)H__COUNT * H__COUNT; i++)
            if (counts[i] > counts[best])
                best = i;
        if (!counts[best])
            break;
        fprintf(stderr, "pair %12llu  %s -> %s\n", (unsigned long long)counts[best],
                handler_name((int)(best / H__COUNT)), handler_name((int)(best % H__COUNT)));
        counts[best] = 0;
    }
}

void prof_pair(const void *h)
{
    if (!counts) {
        counts = calloc((size_t)H__COUNT * H__COUNT, sizeof *counts);
        sorted = malloc(H__COUNT * sizeof *sorted);
        sorted_id = malloc(H__COUNT * sizeof *sorted_id);
        const void *const *hs = interp_handlers();
        for (int i = 0; i < H__COUNT; i++)
            sorted[i] = hs[i];
        qsort(sorted, H__COUNT, sizeof *sorted, by_addr);
        for (int i = 0; i < H__COUNT; i++)
            for (int k = 0; k < H__COUNT; k++)
                if (hs[k] == sorted[i]) {
                    sorted_id[i] = k;
                    break;
                }
        atexit(report);
    }
    total++;
    int lo = 0, hi = H__COUNT - 1, id = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (sorted[mid] == h) {
            id = sorted_id[mid];
            break;
        }
        if ((const char *)sorted[mid] < (const char *)h)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    if (id >= 0 && prev >= 0)
        counts[(size_t)prev * H__COUNT + id]++;
    prev = id;
}
#endif
