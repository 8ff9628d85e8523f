/* FNV-1a over a buffer, many times: a tight loop of byte loads, xor and
   32-bit multiplies. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 120;
    const size_t n = 4 * 1024 * 1024;
    uint8_t *buf = malloc(n);
    if (!buf)
        return 1;
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) { /* xorshift32 fill */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
    uint32_t checksum = 0;
    for (int r = 0; r < rounds; r++) {
        uint32_t h = 2166136261u ^ (uint32_t)r;
        for (size_t i = 0; i < n; i++) {
            h ^= buf[i];
            h *= 16777619u;
        }
        checksum ^= h;
    }
    printf("fnv1a(%zu bytes) x%d checksum %08x\n", n, rounds, (unsigned)checksum);
    free(buf);
    return 0;
}
