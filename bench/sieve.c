/* A byte sieve of Eratosthenes, run several times: byte loads and stores. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 40;
    const unsigned n = 8 * 1000 * 1000;
    unsigned char *composite = malloc(n + 1);
    if (!composite)
        return 1;
    uint64_t checksum = 0;
    for (int r = 0; r < rounds; r++) {
        memset(composite, 0, n + 1);
        unsigned count = 0;
        for (unsigned i = 2; i <= n; i++) {
            if (composite[i])
                continue;
            count++;
            for (uint64_t j = (uint64_t)i * i; j <= n; j += i)
                composite[j] = 1;
        }
        checksum = checksum * 31 + count;
    }
    printf("sieve(%u) x%d checksum %" PRIu64 "\n", n, rounds, checksum);
    free(composite);
    return 0;
}
