/*
 * A process blocked in fd_read on a pipe (or, with the argument "sleep",
 * asleep in poll_oneoff) does not stop the others: run
 * with --threads 1, the root process spawns a child, then reads stdin, a
 * pipe the harness holds open and writes nothing to until it has seen all
 * of the child's lines on stdout.  If the read held the only worker, the
 * child would never print, and the harness would time out.
 *
 * The child counts (a busy loop, so it also needs the worker's time) and
 * prints five progress lines, sleeping a little between them, then
 * "child: done".  Output goes through write(): the child is a fresh
 * instance of the module, and its stdio would be a second buffer.
 */
#include <leonardo/process.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static void say(const char *text)
{
    size_t n = strlen(text);
    CHECK(write(1, text, n) == (ssize_t)n);
}

static void child(int64_t lines)
{
    char line[64];
    volatile uint64_t sum = 0;
    for (int64_t i = 1; i <= lines; i++) {
        for (uint32_t k = 0; k < 50000; k++)
            sum = sum + k;
        snprintf(line, sizeof line, "child: line %d of %d\n", (int)i, (int)lines);
        say(line);
        lw_sleep(10);
    }
    say(sum ? "child: done\n" : "child: sum is zero\n");
}

/* With the argument "sleep", the root process sleeps 500 ms in
   poll_oneoff (nanosleep) instead of reading: the child must finish while
   it sleeps, so its lines come before "main: woke". */
static int sleep_mode(void)
{
    say("main: spawning the child, then sleeping\n");
    uint64_t pid = lw_spawn(child, 5, 0);
    CHECK(pid != 0);
    struct timespec ts = {0, 500 * 1000 * 1000};
    CHECK(nanosleep(&ts, NULL) == 0);
    say("main: woke\n");
    printf("checks failed: %d\n", check_failures);
    return check_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "sleep") == 0)
        return sleep_mode();
    say("main: spawning the child, then reading stdin\n");
    uint64_t pid = lw_spawn(child, 5, 0);
    CHECK(pid != 0);

    char buf[256];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(0, buf + got, sizeof buf - 1 - got);
        if (n < 0) {
            printf("main: read: %s\n", errname(errno));
            return 1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = 0;
    printf("main: read %zu bytes: %s", got, buf);
    printf("checks failed: %d\n", check_failures);
    return check_failures ? 1 : 0;
}
