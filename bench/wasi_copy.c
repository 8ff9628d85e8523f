/*
 * A file copy through WASI: read SRC and write DST in 64 KiB blocks, then
 * print the byte count and a checksum.  With a third argument "busy" (only
 * under leonardo) it first spawns a process that computes for as long as
 * the copy runs, on the same worker with --threads 1: then every read and
 * write goes to the I/O threads instead of stalling that process, which is
 * what the second bench line measures.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#ifdef __wasm__
#include <leonardo/process.h>

static volatile uint64_t spins;

static void spin(int64_t unused)
{
    (void)unused;
    for (;;)
        spins++;
}
#endif

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: wasi_copy SRC DST [busy]\n");
        return 2;
    }
#ifdef __wasm__
    uint64_t busy = 0;
    if (argc > 3 && strcmp(argv[3], "busy") == 0)
        busy = lw_spawn(spin, 0, 0);
#endif
    int in = open(argv[1], O_RDONLY);
    int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) {
        perror("open");
        return 1;
    }
    static unsigned char buf[65536];
    uint64_t total = 0, sum = 0;
    for (;;) {
        ssize_t k = read(in, buf, sizeof buf);
        if (k < 0) {
            perror("read");
            return 1;
        }
        if (k == 0)
            break;
        for (ssize_t i = 0; i < k; i += 4096)
            sum = sum * 31 + buf[i];
        for (ssize_t done = 0; done < k;) {
            ssize_t w = write(out, buf + done, (size_t)(k - done));
            if (w <= 0) {
                perror("write");
                return 1;
            }
            done += w;
        }
        total += (uint64_t)k;
    }
    close(in);
    close(out);
#ifdef __wasm__
    if (busy)
        lw_kill(busy);
#endif
    printf("copied %llu bytes, checksum %llu\n", (unsigned long long)total, (unsigned long long)sum);
    return 0;
}
