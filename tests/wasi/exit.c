/*
 * The exit status, and output written just before the end.  argv[1] says how
 * to end, argv[2] (default 0) the status:
 *
 *   return N     return N from main (stdio is flushed by libc's exit path)
 *   exit N       exit(N) from a nested call
 *   raw N        __wasi_proc_exit(N) directly: no libc flush, so the line is
 *                written with write() first
 *   partial N    printf without a newline, then exit(N): must still arrive
 *   stderr N     a partial line on stderr (unbuffered), then _Exit(N)
 *   trap         write() a line, then trap (unreachable)
 *   atexit N     an atexit handler prints, then exit(N)
 *   big N        one write() of 1 MiB (more than a pipe holds), then
 *                proc_exit(N) at once: every byte must still arrive
 *   bigtrap      the same, then a trap
 */
#include <unistd.h>

#include "common.h"

static void nested(int depth, int status)
{
    if (depth == 0) {
        printf("exit(%d) from depth 5\n", status);
        exit(status);
    }
    nested(depth - 1, status);
    printf("not reached\n");
}

static void handler(void)
{
    printf("atexit handler ran\n");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "return";
    int status = argc > 2 ? atoi(argv[2]) : 0;
    if (!strcmp(mode, "return")) {
        printf("returning %d from main\n", status);
        return status;
    }
    if (!strcmp(mode, "exit"))
        nested(5, status);
    if (!strcmp(mode, "raw")) {
        /* Buffered stdio output would be lost here, by design; write() is not. */
        char line[64];
        int n = snprintf(line, sizeof line, "proc_exit(%d) directly\n", status);
        CHECK(write(1, line, (size_t)n) == n);
        __wasi_proc_exit((__wasi_exitcode_t)status);
    }
    if (!strcmp(mode, "partial")) {
        printf("no newline at the end, status %d", status);
        exit(status);
    }
    if (!strcmp(mode, "stderr")) {
        fprintf(stderr, "partial line on stderr");
        _Exit(status);
    }
    if (!strcmp(mode, "trap")) {
        CHECK(write(1, "about to trap\n", 14) == 14);
        __builtin_trap();
    }
    if (!strcmp(mode, "atexit")) {
        atexit(handler);
        printf("exit(%d) with a handler\n", status);
        exit(status);
    }
    if (!strcmp(mode, "big") || !strcmp(mode, "bigtrap")) {
        enum { SIZE = 1 << 20 };
        char *buf = malloc(SIZE);
        for (int i = 0; i < SIZE; i++)
            buf[i] = (char)('a' + i % 26);
        buf[SIZE - 1] = '\n';
        ssize_t n = write(1, buf, SIZE);
        if (n != SIZE)
            fprintf(stderr, "write returned %zd\n", n);
        if (!strcmp(mode, "bigtrap"))
            __builtin_trap();
        __wasi_proc_exit((__wasi_exitcode_t)status);
    }
    printf("unknown mode %s\n", mode);
    return 99;
}
