/* A hand-written quicksort of 32-bit ints (median of three, insertion sort
   for short runs): compares, swaps, recursion and array indexing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void insertion_sort(int32_t *a, long n)
{
    for (long i = 1; i < n; i++) {
        int32_t v = a[i];
        long j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void swap(int32_t *a, long i, long j)
{
    int32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void quicksort(int32_t *a, long n)
{
    while (n > 16) {
        long mid = n / 2;
        if (a[mid] < a[0]) swap(a, mid, 0);
        if (a[n - 1] < a[0]) swap(a, n - 1, 0);
        if (a[n - 1] < a[mid]) swap(a, n - 1, mid);
        int32_t pivot = a[mid];
        long i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i >= j)
                break;
            swap(a, i, j);
            i++;
            j--;
        }
        /* Recurse into the smaller part, loop on the larger: O(log n) stack. */
        long left = j + 1;
        if (left < n - left) {
            quicksort(a, left);
            a += left;
            n -= left;
        } else {
            quicksort(a + left, n - left);
            n = left;
        }
    }
    insertion_sort(a, n);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 8000000;
    int32_t *a = malloc((size_t)n * sizeof *a);
    if (!a)
        return 1;
    uint64_t x = 88172645463325252ull;
    for (long i = 0; i < n; i++) { /* xorshift64 */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        a[i] = (int32_t)(uint32_t)x;
    }
    quicksort(a, n);
    uint64_t checksum = 0;
    for (long i = 0; i < n; i++) {
        if (i > 0 && a[i - 1] > a[i]) {
            printf("sort: not sorted at %ld\n", i);
            return 1;
        }
        checksum = checksum * 1000003u + (uint32_t)a[i];
    }
    printf("sort(%ld ints) checksum %016llx\n", n, (unsigned long long)checksum);
    free(a);
    return 0;
}
