/*
 * A C program for leonardo, built with wasi-libc:
 *
 *   clang --target=wasm32-wasi -O2 examples/hello.c -o hello.wasm
 *   ./leonardo run --env NAME=Ada hello.wasm one two
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    const char *name = getenv("NAME");
    printf("hello, %s, from WebAssembly\n", name ? name : "world");
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    printf("seconds since 1970: %lld\n", (long long)t.tv_sec);
    return argc > 1 ? 0 : 3; /* try `echo $?` */
}
