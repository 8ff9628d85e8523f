/*
 * stdin piped in: read it all, in reads of odd sizes, and print the byte
 * count, the line count and an FNV-1a checksum, so that every byte is
 * accounted for.  The harness pipes in more than a pipe's buffer holds.
 * With the argument "stdio", reads with fgets instead of read().
 */
#include <unistd.h>

#include "common.h"

int main(int argc, char **argv)
{
    uint32_t hash = 2166136261u;
    unsigned long bytes = 0, lines = 0, reads = 0;
    if (argc > 1 && strcmp(argv[1], "stdio") == 0) {
        char line[300];
        while (fgets(line, sizeof line, stdin)) {
            size_t n = strlen(line);
            for (size_t i = 0; i < n; i++) {
                hash = (hash ^ (uint8_t)line[i]) * 16777619u;
                lines += line[i] == '\n';
            }
            bytes += n;
        }
        printf("ferror %d feof %d\n", ferror(stdin), feof(stdin));
    } else {
        static char buf[7919];   /* a prime, so reads end at every offset */
        for (;;) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n < 0) {
                printf("read: %s\n", errname(errno));
                return 1;
            }
            if (n == 0)
                break;
            reads++;
            for (ssize_t i = 0; i < n; i++) {
                hash = (hash ^ (uint8_t)buf[i]) * 16777619u;
                lines += buf[i] == '\n';
            }
            bytes += (unsigned long)n;
        }
        /* At the end, read keeps returning 0. */
        printf("read after eof: %zd\n", read(0, buf, sizeof buf));
    }
    printf("bytes %lu lines %lu fnv1a %08x\n", bytes, lines, hash);
    return 0;
}
