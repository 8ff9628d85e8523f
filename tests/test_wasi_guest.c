/*
 * WASI with real programs: the C programs of tests/wasi/, built for
 * wasm32-wasi with clang and wasi-libc (the GNUmakefile puts them in
 * build/tests/wasi/), run by `leonardo run` in a fresh sandbox directory
 * preopened as "/", with their stdin a pipe this program writes.  Each
 * test checks the exact stdout (tests/wasi/NAME.expected, or computed
 * here), the exit status, and where it matters what the program left in
 * the sandbox.  The escape attempts of tests/wasi/confine.c must all be
 * refused, with the directory beside the preopen unchanged byte for byte,
 * its secret not even read (its atime is set so that a read would move it).
 *
 * Where node is installed, several programs also run under node's own
 * WASI (tests/wasi/node_run.mjs), the reference, and leonardo's stdout and
 * status must equal node's (node 18, Debian 12's, and node 20 agree with
 * leonardo on those).  Not every program: node's WASI departs from the
 * spec in places (file times to the second, O_NOFOLLOW, poll_oneoff's
 * absolute deadlines, node 18's readdir cookies) and is no sandbox (confine.c escapes it through
 * symlinked directories); those programs are checked against their
 * expected output only (tests/wasi/README.md says more).
 *
 * Environment: LEONARDO (default ./leonardo), WASI_GUESTS (default
 * build/tests/wasi), NODE (default node, from PATH).  Run from the
 * repository root, as `make check` does.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

typedef struct {
    char *p;
    size_t len, cap;
} Buf;

static void buf_add(Buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        ck_assert_ptr_nonnull(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(Buf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* The whole of a file, NUL-terminated; NULL if it cannot be read. */
static char *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    Buf b = {0};
    char tmp[8192];
    size_t n;
    buf_add(&b, "", 0);
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_add(&b, tmp, n);
    fclose(f);
    if (len_out)
        *len_out = b.len;
    return b.p;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* The makefile exports LEONARDO as it names the target ("leonardo",
   "build-asan/leonardo"): a name without a slash is in the current
   directory, not on PATH. */
static const char *leonardo_bin(void)
{
    static char path[512];
    const char *v = env_or("LEONARDO", "./leonardo");
    snprintf(path, sizeof path, "%s%s", strchr(v, '/') ? "" : "./", v);
    return path;
}

static const char *guests_dir(void)
{
    return env_or("WASI_GUESTS", "build/tests/wasi");
}

/* The path of a guest's .wasm; the test fails, saying how to build it, if
   it is not there (no clang for wasm32-wasi when `make tests` ran). */
static const char *guest_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s.wasm", guests_dir(), name);
    ck_assert_msg(access(path, R_OK) == 0,
                  "%s is missing: the WASI guest programs were not built.  `make tests` builds them "
                  "with clang --target=wasm32-wasi (Debian: apt-get install clang lld wasi-libc "
                  "libclang-rt-14-dev-wasm32, or tools/deps.sh bench as root)",
                  path);
    return path;
}

/* ---------------------------------------------------------------- sandboxes */

typedef struct {
    char dir[64];    /* /tmp/lw-wasi-XXXXXX */
    char root[96];   /* dir/root: preopened as "/" */
} Sandbox;

static void sandbox_new(Sandbox *sb)
{
    snprintf(sb->dir, sizeof sb->dir, "/tmp/lw-wasi-XXXXXX");
    ck_assert_msg(mkdtemp(sb->dir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(sb->root, sizeof sb->root, "%s/root", sb->dir);
    ck_assert_int_eq(mkdir(sb->root, 0755), 0);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void sandbox_free(Sandbox *sb)
{
    nftw(sb->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---------------------------------------------------------------- running */

typedef struct {
    char *out, *err;
    size_t out_len, err_len;
    int status;        /* the exit status, or 128 + the signal */
    bool timed_out;
    /* For `wait_for`: the stdout seen when it appeared (before stdin was written). */
    char *out_before_input;
} Run;

typedef struct {
    const char *input;       /* piped to stdin, then closed (NULL: nothing) */
    size_t input_len;
    int timeout_ms;          /* default 20 s */
    const char *wait_for;    /* hold stdin open, unwritten, until stdout contains this */
} RunOpts;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Run argv (argv[0] a path, or a name looked up in PATH), feeding and
   capturing its standard streams, killing it after the timeout. */
static Run run_argv(char *const argv[], const RunOpts *o)
{
    int in[2], out[2], err[2];
    ck_assert(pipe(in) == 0 && pipe(out) == 0 && pipe(err) == 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        for (int fd = 3; fd < 256; fd++)
            close(fd);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    set_nonblock(in[1]);
    set_nonblock(out[0]);
    set_nonblock(err[0]);

    Run r = {0};
    Buf ob = {0}, eb = {0};
    buf_add(&ob, "", 0);
    buf_add(&eb, "", 0);
    size_t sent = 0;
    bool holding = o->wait_for != NULL;   /* stdin stays open and unwritten */
    int infd = in[1];
    if (!holding && (!o->input || o->input_len == 0)) {
        close(infd);
        infd = -1;
    }
    int outfd = out[0], errfd = err[0];
    double deadline = now_ms() + (o->timeout_ms ? o->timeout_ms : 20000);
    while (outfd >= 0 || errfd >= 0) {
        double left = deadline - now_ms();
        if (left <= 0) {
            r.timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p[3];
        int np = 0, iout = -1, ierr = -1, iin = -1;
        if (outfd >= 0)
            iout = np, p[np++] = (struct pollfd){outfd, POLLIN, 0};
        if (errfd >= 0)
            ierr = np, p[np++] = (struct pollfd){errfd, POLLIN, 0};
        if (infd >= 0 && !holding)
            iin = np, p[np++] = (struct pollfd){infd, POLLOUT, 0};
        if (poll(p, (nfds_t)np, (int)left + 1) < 0)
            continue;
        char tmp[65536];
        if (iout >= 0 && p[iout].revents) {
            ssize_t n = read(outfd, tmp, sizeof tmp);
            if (n > 0) {
                buf_add(&ob, tmp, (size_t)n);
                if (holding && strstr(ob.p, o->wait_for)) {
                    holding = false;
                    r.out_before_input = strdup(ob.p);
                    if (!o->input || o->input_len == 0) {
                        close(infd);
                        infd = -1;
                    }
                }
            } else if (n == 0 || errno != EAGAIN) {
                close(outfd);
                outfd = -1;
            }
        }
        if (ierr >= 0 && p[ierr].revents) {
            ssize_t n = read(errfd, tmp, sizeof tmp);
            if (n > 0)
                buf_add(&eb, tmp, (size_t)n);
            else if (n == 0 || errno != EAGAIN) {
                close(errfd);
                errfd = -1;
            }
        }
        if (iin >= 0 && p[iin].revents) {
            ssize_t n = write(infd, o->input + sent, o->input_len - sent);
            if (n > 0)
                sent += (size_t)n;
            if ((n < 0 && errno != EAGAIN) || sent == o->input_len) {
                close(infd);   /* done, or the program stopped reading (EPIPE) */
                infd = -1;
            }
        }
    }
    if (infd >= 0)
        close(infd);
    if (outfd >= 0)
        close(outfd);
    if (errfd >= 0)
        close(errfd);
    int ws = 0;
    waitpid(pid, &ws, 0);
    r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    r.out = ob.p;
    r.out_len = ob.len;
    r.err = eb.p;
    r.err_len = eb.len;
    return r;
}

static void run_free(Run *r)
{
    free(r->out);
    free(r->err);
    free(r->out_before_input);
}

/* A program run: which guest, its arguments, environment and stdin. */
typedef struct {
    const char *guest;
    const char *args[8];      /* NULL-terminated */
    const char *env[8];       /* K=V, NULL-terminated */
    const char *flags[4];     /* more `leonardo run` flags (leonardo only) */
    const char *input;
    size_t input_len;
    const char *extra_dir;    /* a second preopen, "HOST::GUEST" relative to the sandbox */
} Case;

static int node_state = -1;   /* -1 not asked yet, 0 absent, 1 there */
static int node_major;        /* node's version, 18 or 20... */

/* argv for `leonardo run` or node_run.mjs, in the same order. */
static void build_argv(const Case *c, const Sandbox *sb, bool node, char **argv, char *store, size_t size)
{
    int n = 0;
    size_t used = 0;
#define KEEP(s) (snprintf(store + used, size - used, "%s", (s)), argv[n++] = store + used, used += strlen(store + used) + 1)
    if (node) {
        KEEP(env_or("NODE", "node"));
        /* Before node 20, WASI is behind this flag. */
        if (node_major < 20)
            KEEP("--experimental-wasi-unstable-preview1");
        KEEP("--no-warnings");
        KEEP("tests/wasi/node_run.mjs");
    } else {
        KEEP(leonardo_bin());
        KEEP("run");
        for (int i = 0; c->flags[i]; i++)
            KEEP(c->flags[i]);
    }
    char spec[300];
    snprintf(spec, sizeof spec, "%s::/", sb->root);
    KEEP("--dir");
    KEEP(spec);
    if (c->extra_dir) {
        snprintf(spec, sizeof spec, "%s/%s", sb->dir, c->extra_dir);
        KEEP("--dir");
        KEEP(spec);
    }
    for (int i = 0; c->env[i]; i++) {
        KEEP("--env");
        KEEP(c->env[i]);
    }
    KEEP(guest_path(c->guest));
    for (int i = 0; c->args[i]; i++)
        KEEP(c->args[i]);
    argv[n] = NULL;
#undef KEEP
}

/* Run a case in the given sandbox, under leonardo or node. */
static Run run_case_in(const Case *c, const Sandbox *sb, bool node)
{
    if (c->extra_dir) {
        char path[300];
        snprintf(path, sizeof path, "%s/%s", sb->dir, c->extra_dir);
        char *sep = strstr(path, "::");
        if (sep)
            *sep = 0;
        mkdir(path, 0755);
    }
    char *argv[64];
    static char store[8192];
    build_argv(c, sb, node, argv, store, sizeof store);
    RunOpts o = {.input = c->input, .input_len = c->input_len};
    Run r = run_argv(argv, &o);
    ck_assert_msg(!r.timed_out, "%s %s: timed out\nstdout:\n%s\nstderr:\n%s", node ? "node" : "leonardo", c->guest,
                  r.out, r.err);
    ck_assert_msg(!strstr(r.err, "AddressSanitizer") && !strstr(r.err, "runtime error:") &&
                      !strstr(r.err, "ThreadSanitizer"),
                  "%s: sanitizer report:\n%s", c->guest, r.err);
    return r;
}

/* Where two texts first differ, as a message naming the line. */
static void assert_same_text(const char *what, const char *got, const char *want)
{
    if (strcmp(got, want) == 0)
        return;
    int line = 1;
    const char *g = got, *w = want;
    while (*g && *g == *w) {
        if (*g == '\n')
            line++;
        g++, w++;
    }
    /* Back to the start of the line, and show that line of each. */
    while (g > got && g[-1] != '\n')
        g--, w--;
    int gl = (int)strcspn(g, "\n"), wl = (int)strcspn(w, "\n");
    fprintf(stderr, "---- %s: got\n%s---- wanted\n%s----\n", what, got, want);
    ck_abort_msg("%s: line %d differs:\n   got: [%.*s]%s\nwanted: [%.*s]%s", what, line, gl, g,
                 *g ? "" : " (end of output)", wl, w, *w ? "" : " (end of output)");
}

static char *expected_text(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "tests/wasi/%s.expected", name);
    char *t = slurp(path, NULL);
    ck_assert_msg(t != NULL, "cannot read %s", path);
    return t;
}

/* Run under leonardo in a fresh sandbox; check stdout against `want` and
   the status.  The sandbox is kept for the caller's checks when `keep`. */
static Run expect_run(const Case *c, const char *want, int status, Sandbox *keep)
{
    Sandbox sb;
    sandbox_new(&sb);
    Run r = run_case_in(c, &sb, false);
    char what[128];
    snprintf(what, sizeof what, "leonardo run %s stdout", c->guest);
    assert_same_text(what, r.out, want);
    ck_assert_msg(r.status == status, "leonardo run %s: exit status %d, wanted %d; stderr:\n%s", c->guest, r.status,
                  status, r.err);
    if (keep)
        *keep = sb;
    else
        sandbox_free(&sb);
    return r;
}

static void expect_file(const Case *c, const char *expected_name, int status)
{
    char *want = expected_text(expected_name);
    Run r = expect_run(c, want, status, NULL);
    run_free(&r);
    free(want);
}

/* ---------------------------------------------------------------- node */

/* Asked once, in main, before the tests fork (so without ck_assert). */
static bool have_node(void)
{
    if (node_state < 0) {
        char cmd[600], version[64] = "";
        snprintf(cmd, sizeof cmd, "'%s' --version 2>/dev/null", env_or("NODE", "node"));
        FILE *p = popen(cmd, "r");
        if (p) {
            if (!fgets(version, sizeof version, p))
                version[0] = 0;
            pclose(p);
        }
        node_state = version[0] == 'v';
        node_major = node_state ? atoi(version + 1) : 0;
        if (!node_state)
            printf("node is not installed: leonardo's output is not compared with node's WASI "
                   "(apt-get install nodejs)\n");
        else
            printf("comparing with node %s", version);
    }
    return node_state == 1;
}

/* The same case under leonardo and under node, each in a fresh sandbox:
   stdout and exit status must be equal. */
static void compare_with_node(const Case *c)
{
    if (!have_node())
        return;
    Sandbox a, b;
    sandbox_new(&a);
    sandbox_new(&b);
    Run lr = run_case_in(c, &a, false);
    Run nr = run_case_in(c, &b, true);
    char what[160];
    snprintf(what, sizeof what, "%s %s: leonardo's stdout against node's", c->guest, c->args[0] ? c->args[0] : "");
    assert_same_text(what, lr.out, nr.out);
    ck_assert_msg(lr.status == nr.status, "%s: leonardo's exit status %d, node's %d (node's stderr: %s)", c->guest,
                  lr.status, nr.status, nr.err);
    run_free(&lr);
    run_free(&nr);
    sandbox_free(&a);
    sandbox_free(&b);
}

/* ---------------------------------------------------------------- tests */

static const Case stdio_case = {
    .guest = "stdio",
    .args = {"one", "two words", "", "\xc3\xbc"},
    .env = {"GREETING=hi", "B=2", "EMPTY=", "EQ=a=b"},
};

START_TEST(stdio_args_environ)
{
    char *want = expected_text("stdio");
    Run r = expect_run(&stdio_case, want, 0, NULL);
    assert_same_text("stdio stderr", r.err, "to stderr\n");
    run_free(&r);
    free(want);
    compare_with_node(&stdio_case);
}
END_TEST

/* Two preopens: fd 3 and fd 4, with their guest names. */
START_TEST(stdio_two_preopens)
{
    Case c = stdio_case;
    c.extra_dir = "data::/data";
    Sandbox sb;
    sandbox_new(&sb);
    Run r = run_case_in(&c, &sb, false);
    ck_assert_msg(strstr(r.out, "preopen fd 3: [/]\npreopen fd 4: [/data]\nprestat fd 5: EBADF\n") != NULL,
                  "the preopens are not fd 3 [/] and fd 4 [/data]:\n%s", r.out);
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
    sandbox_free(&sb);
    compare_with_node(&c);
}
END_TEST

/* --dir HOST alone: the guest sees the directory under the host's name. */
START_TEST(dir_without_guest_name)
{
    Sandbox sb;
    sandbox_new(&sb);
    char *argv[] = {(char *)leonardo_bin(), "run", "--dir", sb.root, (char *)guest_path("stdio"), NULL};
    RunOpts o = {0};
    Run r = run_argv(argv, &o);
    char want[200];
    snprintf(want, sizeof want, "preopen fd 3: [%s]\nprestat fd 4: EBADF\n", sb.root);
    ck_assert_msg(strstr(r.out, want) != NULL, "--dir %s: wanted [%s] in:\n%s\nstderr:\n%s", sb.root, want, r.out,
                  r.err);
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
    sandbox_free(&sb);
}
END_TEST

/* --inherit-env passes the host's environment through; without it, none. */
START_TEST(inherit_env)
{
    setenv("LW_WASI_TEST_VAR", "inherited value", 1);
    setenv("HOME", "/home/somebody", 1);
    Case c = {.guest = "stdio", .flags = {"--inherit-env"}, .env = {"GREETING=hi"}};
    Sandbox sb;
    sandbox_new(&sb);
    Run r = run_case_in(&c, &sb, false);
    ck_assert_msg(strstr(r.out, "=[LW_WASI_TEST_VAR=inherited value]\n") && strstr(r.out, "getenv(HOME)=set\n") &&
                      strstr(r.out, "getenv(GREETING)=hi\n"),
                  "--inherit-env: the host's environment (and --env) should be there:\n%s", r.out);
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
    Case plain = {.guest = "stdio"};
    r = run_case_in(&plain, &sb, false);
    ck_assert_msg(strstr(r.out, "envc=0\n") && strstr(r.out, "getenv(HOME)=(none)\n"),
                  "without --inherit-env the environment must be empty:\n%s", r.out);
    run_free(&r);
    sandbox_free(&sb);
}
END_TEST

START_TEST(files)
{
    Case c = {.guest = "files"};
    Sandbox sb;
    char *want = expected_text("files");
    Run r = expect_run(&c, want, 0, &sb);
    /* What the program left: data.txt is "abcdef"; big.txt is gone. */
    char path[256];
    snprintf(path, sizeof path, "%s/data.txt", sb.root);
    char *data = slurp(path, NULL);
    ck_assert_msg(data && strcmp(data, "abcdef") == 0, "data.txt holds [%s], wanted [abcdef]", data ? data : "(none)");
    free(data);
    snprintf(path, sizeof path, "%s/big.txt", sb.root);
    ck_assert_msg(access(path, F_OK) != 0, "big.txt was not removed");
    run_free(&r);
    free(want);
    sandbox_free(&sb);
    compare_with_node(&c);
}
END_TEST

/* as < 0: the atime is not checked (following a symlink reads it, which
   moves its atime). */
static void check_times(const char *path, bool follow, long long as, long an, long long ms, long mn)
{
    struct stat st;
    ck_assert_int_eq(follow ? stat(path, &st) : lstat(path, &st), 0);
    ck_assert_msg((as < 0 || (st.st_atim.tv_sec == as && st.st_atim.tv_nsec == an)) && st.st_mtim.tv_sec == ms &&
                      st.st_mtim.tv_nsec == mn,
                  "%s: atime %lld.%09ld mtime %lld.%09ld, wanted %lld.%09ld and %lld.%09ld", path,
                  (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                  as, an, ms, mn);
}

START_TEST(times)
{
    Case c = {.guest = "times"};
    Sandbox sb;
    char *want = expected_text("times");
    Run r = expect_run(&c, want, 0, &sb);
    /* The host sees the same times, to the nanosecond. */
    char path[256];
    snprintf(path, sizeof path, "%s/t.txt", sb.root);
    check_times(path, true, 1234567890, 1, 987654321, 999999999);
    snprintf(path, sizeof path, "%s/link", sb.root);
    check_times(path, false, -1, 0, 1200000000, 22);
    run_free(&r);
    free(want);
    sandbox_free(&sb);
}
END_TEST

START_TEST(dirs)
{
    Case c = {.guest = "dirs"};
    Sandbox sb;
    char *want = expected_text("dirs");
    Run r = expect_run(&c, want, 0, &sb);
    /* Left: a/ holding file and link, nothing else. */
    char path[256];
    snprintf(path, sizeof path, "%s/d", sb.root);
    ck_assert_msg(access(path, F_OK) != 0, "d/ was not removed");
    snprintf(path, sizeof path, "%s/a/file", sb.root);
    ck_assert_msg(access(path, F_OK) == 0, "a/file is missing");
    run_free(&r);
    free(want);
    sandbox_free(&sb);
    /* Not compared with node: node 18's readdir cookies break seekdir. */
}
END_TEST

START_TEST(links)
{
    Case c = {.guest = "links"};
    Sandbox sb;
    char *want = expected_text("links");
    Run r = expect_run(&c, want, 0, &sb);
    /* The hard link is a real one on the host, and the symlink's text is as written. */
    char path[256], text[64];
    struct stat st;
    snprintf(path, sizeof path, "%s/hard", sb.root);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq((int)st.st_nlink, 1);
    snprintf(path, sizeof path, "%s/sym2", sb.root);
    ssize_t n = readlink(path, text, sizeof text);
    ck_assert_msg(n == 3 && memcmp(text, "sym", 3) == 0, "sym2 should be a symlink to \"sym\"");
    run_free(&r);
    free(want);
    sandbox_free(&sb);
    compare_with_node(&c);
}
END_TEST

START_TEST(strict)
{
    Case c = {.guest = "strict"};
    expect_file(&c, "strict", 0);
}
END_TEST

START_TEST(clocks_random)
{
    Case c = {.guest = "clocks"};
    expect_file(&c, "clocks", 0);
    compare_with_node(&c);
}
END_TEST

START_TEST(poll_timeouts)
{
    Case c = {.guest = "poll", .input = "ping", .input_len = 4};
    double t0 = now_ms();
    expect_file(&c, "poll", 0);
    /* 50 + 30 + 40 + 40 ms of clocks and 50 ms of sleeps, at the least. */
    ck_assert_msg(now_ms() - t0 >= 200, "poll ran in %.0f ms: the timeouts did not wait", now_ms() - t0);
}
END_TEST

/* stdin: 300 KB (more than a pipe holds), checked by the same sums here. */
static char *stdin_data(size_t *len)
{
    Buf b = {0};
    for (int i = 0; b.len < 300000; i++)
        buf_printf(&b, "line %d: %.*s\n", i, i % 61, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    *len = b.len;
    return b.p;
}

static void stdin_expected(const char *data, size_t len, bool stdio, Buf *out)
{
    uint32_t h = 2166136261u;
    unsigned long lines = 0;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (uint8_t)data[i]) * 16777619u;
        lines += data[i] == '\n';
    }
    if (stdio)
        buf_printf(out, "ferror 0 feof 1\n");
    else
        buf_printf(out, "read after eof: 0\n");
    buf_printf(out, "bytes %zu lines %lu fnv1a %08x\n", len, lines, h);
}

START_TEST(stdin_piped)
{
    size_t len;
    char *data = stdin_data(&len);
    for (int stdio = 0; stdio <= 1; stdio++) {
        Case c = {.guest = "stdin", .args = {stdio ? "stdio" : NULL}, .input = data, .input_len = len};
        Buf want = {0};
        stdin_expected(data, len, stdio, &want);
        Run r = expect_run(&c, want.p, 0, NULL);
        run_free(&r);
        free(want.p);
        compare_with_node(&c);
    }
    /* Empty stdin: at once end of file. */
    Case empty = {.guest = "stdin"};
    Run r = expect_run(&empty, "read after eof: 0\nbytes 0 lines 0 fnv1a 811c9dc5\n", 0, NULL);
    run_free(&r);
    free(data);
}
END_TEST

/* Each way to end, its status, and the output written just before. */
static const struct {
    const char *mode, *status;
    const char *out, *err;
    int want;
    bool node;   /* node agrees (node's trap status is node_run's own) */
} exits[] = {
    {"return", "0", "returning 0 from main\n", "", 0, true},
    {"return", "3", "returning 3 from main\n", "", 3, true},
    {"exit", "42", "exit(42) from depth 5\n", "", 42, true},
    {"exit", "0", "exit(0) from depth 5\n", "", 0, true},
    {"raw", "7", "proc_exit(7) directly\n", "", 7, true},
    {"raw", "255", "proc_exit(255) directly\n", "", 255, true},
    {"partial", "5", "no newline at the end, status 5", "", 5, true},
    {"stderr", "9", "", "partial line on stderr", 9, true},
    {"atexit", "1", "exit(1) with a handler\natexit handler ran\n", "", 1, true},
    {"trap", NULL, "about to trap\n", NULL, -1, false},
};

START_TEST(exit_codes)
{
    for (size_t i = 0; i < sizeof exits / sizeof exits[0]; i++) {
        Case c = {.guest = "exit", .args = {exits[i].mode, exits[i].status}};
        Sandbox sb;
        sandbox_new(&sb);
        Run r = run_case_in(&c, &sb, false);
        char what[96];
        snprintf(what, sizeof what, "exit %s %s: stdout", exits[i].mode, exits[i].status ? exits[i].status : "");
        assert_same_text(what, r.out, exits[i].out);
        if (exits[i].err) {
            snprintf(what, sizeof what, "exit %s %s: stderr", exits[i].mode, exits[i].status);
            assert_same_text(what, r.err, exits[i].err);
        }
        if (exits[i].want >= 0)
            ck_assert_msg(r.status == exits[i].want, "exit %s %s: status %d, wanted %d", exits[i].mode,
                          exits[i].status, r.status, exits[i].want);
        else   /* a trap: a failure status, and leonardo says why */
            ck_assert_msg(r.status != 0 && strstr(r.err, "unreachable"), "trap: status %d, stderr:\n%s", r.status,
                          r.err);
        run_free(&r);
        sandbox_free(&sb);
        if (exits[i].node)
            compare_with_node(&c);
    }
}
END_TEST

/* 1 MiB in one write, then proc_exit or a trap at once: all of it arrives,
   in order. */
START_TEST(exit_after_big_write)
{
    for (int trap = 0; trap <= 1; trap++) {
        Case c = {.guest = "exit", .args = {trap ? "bigtrap" : "big", "6"}};
        Sandbox sb;
        sandbox_new(&sb);
        Run r = run_case_in(&c, &sb, false);
        ck_assert_msg(r.out_len == 1 << 20, "%s: %zu bytes of 1 MiB arrived (stderr: %s)", c.args[0], r.out_len,
                      r.err);
        size_t bad = 0;
        for (size_t i = 0; i + 1 < r.out_len; i++)
            bad += r.out[i] != (char)('a' + i % 26);
        ck_assert_msg(bad == 0 && r.out[r.out_len - 1] == '\n', "%s: %zu bytes of the 1 MiB differ", c.args[0], bad);
        if (trap)
            ck_assert_msg(r.status != 0 && strstr(r.err, "unreachable"), "bigtrap: status %d, stderr:\n%s", r.status,
                          r.err);
        else
            ck_assert_int_eq(r.status, 6);
        run_free(&r);
        sandbox_free(&sb);
        if (!trap)
            compare_with_node(&c);
    }
}
END_TEST

START_TEST(errors)
{
    Case c = {.guest = "errors", .input = "x", .input_len = 1};
    expect_file(&c, "errors", 0);
    compare_with_node(&c);
}
END_TEST

/* Each bad pointer or length: EFAULT, or the process killed with a message;
   never another answer, and never a crash (a signal, a sanitizer report). */
START_TEST(bad_pointers)
{
    static const char *const cases[] = {
        "fd_write_iovs",  "fd_write_iovs_len", "fd_write_buf",      "fd_write_len",     "fd_write_result",
        "fd_read_buf",    "path_open_path",    "path_open_len",     "path_open_result", "args_get",
        "environ_get",    "clock_time_get",    "random_get",        "poll_oneoff_in",   "poll_oneoff_out",
        "poll_oneoff_count", "fd_readdir_buf", "fd_prestat_dir_name", "path_readlink_buf", "fd_filestat_get",
    };
    Sandbox sb;
    sandbox_new(&sb);
    char path[200];
    snprintf(path, sizeof path, "%s/lnk", sb.root);
    ck_assert_int_eq(symlink("target", path), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Case c = {.guest = "badptr", .args = {cases[i]}, .input = "x", .input_len = 1};
        Run r = run_case_in(&c, &sb, false);
        char want[100];
        snprintf(want, sizeof want, "%s: EFAULT\n", cases[i]);
        bool efault = r.status == 0 && strcmp(r.out, want) == 0;
        bool killed = r.status > 0 && r.status < 128 && r.out[0] == 0 && r.err[0] != 0;
        ck_assert_msg(efault || killed, "badptr %s: status %d, stdout [%s], stderr [%s]: wanted EFAULT or the "
                      "process killed with a message", cases[i], r.status, r.out, r.err);
        run_free(&r);
    }
    sandbox_free(&sb);
}
END_TEST

/* ---------------------------------------------------------------- confinement */

static void confine_setup(const Sandbox *sb)
{
    char p[256], q[256];
#define PATH(buf, ...) snprintf(buf, sizeof buf, __VA_ARGS__)
    PATH(p, "%s/outside", sb->dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    PATH(p, "%s/outside/secret", sb->dir);
    spit(p, "TOP SECRET: never to be read\n");
    /* atime before mtime: under relatime (or strictatime) any read moves it. */
    struct timespec ts[2] = {{1000000000, 0}, {1500000000, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
    PATH(p, "%s/outside/dir", sb->dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
    PATH(p, "%s/sub", sb->root);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    PATH(p, "%s/file.txt", sb->root);
    spit(p, "inside\n");
    PATH(p, "%s/sub/file.txt", sb->root);
    spit(p, "inside sub\n");
    static const char *const links[][2] = {
        {"link_out", "../outside/secret"}, {"link_dir_out", "../outside"}, {"chain1", "chain2"},
        {"chain2", "sub/chain3"},         {"sub/chain3", "../../outside/secret"},
        {"link_root", "/"},               {"link_etc", "/etc/passwd"},  {"up", "."},
        {"dangle_out", "../outside/created"},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        PATH(p, "%s/%s", sb->root, links[i][0]);
        ck_assert_int_eq(symlink(links[i][1], p), 0);
    }
    PATH(p, "%s/link_abs", sb->root);
    PATH(q, "%s/outside/secret", sb->dir);
    ck_assert_int_eq(symlink(q, p), 0);
#undef PATH
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Everything about a tree that an escape could change: names, types,
   sizes, modes, link counts, times to the nanosecond, contents.  Files and
   directories are read with O_NOATIME (the test owns them), so taking the
   snapshot moves no atime, and an atime that moved means the program read. */
static void snapshot(const char *dir, const char *rel, Buf *out)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOATIME);
    ck_assert_msg(dfd >= 0, "open %s: %s", path, strerror(errno));
    DIR *d = fdopendir(dfd);
    ck_assert_ptr_nonnull(d);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_name);
    for (int i = 0; i < n; i++) {
        char sub[512], full[1024];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        snprintf(full, sizeof full, "%s/%s", dir, sub);
        free(names[i]);
        struct stat st;
        ck_assert_int_eq(lstat(full, &st), 0);
        buf_printf(out, "%s mode %o size %lld nlink %ld ino %llu atime %lld.%09ld mtime %lld.%09ld\n", sub,
                   (unsigned)st.st_mode, (long long)st.st_size, (long)st.st_nlink, (unsigned long long)st.st_ino,
                   (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        if (S_ISDIR(st.st_mode)) {
            snapshot(dir, sub, out);
        } else if (S_ISREG(st.st_mode)) {
            int fd = open(full, O_RDONLY | O_NOATIME);
            ck_assert_msg(fd >= 0, "open %s: %s", full, strerror(errno));
            char data[256];
            ssize_t len = read(fd, data, sizeof data);
            close(fd);
            buf_printf(out, "  contents [%.*s]\n", (int)(len > 0 ? len : 0), data);
        }
    }
}

/* A hard link to outside/secret anywhere under root. */
static int find_inode(const char *dir, ino_t ino, dev_t dev, char *found, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int hits = 0;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        if (st.st_ino == ino && st.st_dev == dev) {
            snprintf(found, size, "%s", path);
            hits++;
        }
        if (S_ISDIR(st.st_mode))
            hits += find_inode(path, ino, dev, found, size);
    }
    closedir(d);
    return hits;
}

/* "NAME: refused (EXYZ)" becomes "NAME: refused": the errno is the
   runtime's choice (ENOTCAPABLE, ENOENT, EPERM...) except where confine.c
   itself insists on one, and then a wrong one prints ", wanted ..." and
   stays. */
static char *normalize_refusals(const char *out)
{
    Buf b = {0};
    buf_add(&b, "", 0);
    const char *line = out;
    while (*line) {
        size_t len = strcspn(line, "\n");
        const char *r = strstr(line, ": refused (");
        if (r && r < line + len && line[len - 1] == ')') {
            buf_add(&b, line, (size_t)(r - line));
            buf_add(&b, ": refused\n", 10);
        } else {
            buf_add(&b, line, len);
            buf_add(&b, "\n", 1);
        }
        line += len + (line[len] == '\n');
    }
    return b.p;
}

START_TEST(confinement)
{
    Case c = {.guest = "confine"};
    Sandbox sb;
    sandbox_new(&sb);
    confine_setup(&sb);
    char outside[256];
    snprintf(outside, sizeof outside, "%s/outside", sb.dir);
    Buf before = {0}, after = {0};
    buf_add(&before, "", 0);
    buf_add(&after, "", 0);
    snapshot(outside, "", &before);

    Run r = run_case_in(&c, &sb, false);
    snapshot(outside, "", &after);
    /* First what matters most: nothing outside moved, nothing was let in. */
    assert_same_text("outside/ before and after the escape attempts (a changed atime means the secret was read)",
                     after.p, before.p);
    char secret[300], found[1024] = "";
    snprintf(secret, sizeof secret, "%s/secret", outside);
    struct stat st;
    ck_assert_int_eq(stat(secret, &st), 0);
    ck_assert_msg(find_inode(sb.root, st.st_ino, st.st_dev, found, sizeof found) == 0,
                  "a hard link to outside/secret was made inside the preopen: %s", found);
    ck_assert_msg(!strstr(r.out, "TOP SECRET") && !strstr(r.err, "TOP SECRET"), "the secret was printed");

    /* Then every attempt refused, the wanted errno where one is wanted. */
    ck_assert_msg(!strstr(r.out, "ESCAPED"), "escapes:\n%s", r.out);
    char *got = normalize_refusals(r.out);
    char *want = expected_text("confine");
    assert_same_text("confine (errnos left out)", got, want);
    ck_assert_msg(r.status == 0, "confine: exit status %d", r.status);
    free(got);
    free(want);
    free(before.p);
    free(after.p);
    run_free(&r);
    sandbox_free(&sb);
}
END_TEST

/* A symlink swapped in during resolution: while confine.c's "race" opens
   flip/secret over and over, a child process here swaps flip (an empty
   directory) with a symlink to ../outside, atomically. */
START_TEST(confinement_race)
{
    Sandbox sb;
    sandbox_new(&sb);
    confine_setup(&sb);
    char flip[256], other[256], outside[256];
    snprintf(flip, sizeof flip, "%s/flip", sb.root);
    snprintf(other, sizeof other, "%s/other", sb.root);
    snprintf(outside, sizeof outside, "%s/outside", sb.dir);
    ck_assert_int_eq(mkdir(flip, 0755), 0);
    ck_assert_int_eq(symlink("../outside", other), 0);
    Buf before = {0}, after = {0};
    buf_add(&before, "", 0);
    buf_add(&after, "", 0);
    snapshot(outside, "", &before);

    pid_t swapper = fork();
    ck_assert_int_ge(swapper, 0);
    if (swapper == 0) {
        /* Atomically where the filesystem can (RENAME_EXCHANGE), else in
           three renames: either way flip keeps changing under the program. */
        char tmp[300];
        snprintf(tmp, sizeof tmp, "%s/tmp", sb.root);
        for (;;)
            if (renameat2(AT_FDCWD, flip, AT_FDCWD, other, RENAME_EXCHANGE) != 0 &&
                (rename(flip, tmp) != 0 || rename(other, flip) != 0 || rename(tmp, other) != 0))
                _exit(1);
    }
    Case c = {.guest = "confine", .args = {"race"}};
    Run r = run_case_in(&c, &sb, false);
    kill(swapper, SIGKILL);
    int ws;
    waitpid(swapper, &ws, 0);
    ck_assert_msg(WIFSIGNALED(ws), "the swapper stopped early: a rename failed");
    snapshot(outside, "", &after);
    assert_same_text("outside/ before and after the race", after.p, before.p);
    assert_same_text("confine race", r.out, "race: 4000 tries, 0 escapes\n");
    ck_assert_int_eq(r.status, 0);
    free(before.p);
    free(after.p);
    run_free(&r);
    sandbox_free(&sb);
}
END_TEST

/* A preopen that does not exist is an error of the command line. */
START_TEST(missing_preopen)
{
    char *argv[] = {(char *)leonardo_bin(), "run", "--dir", "/nonexistent/lw-wasi-test::/",
                    (char *)guest_path("stdio"), NULL};
    RunOpts o = {.timeout_ms = 20000};
    Run r = run_argv(argv, &o);
    ck_assert_msg(r.status != 0 && r.err[0], "--dir of a missing directory: status %d, stderr [%s]", r.status, r.err);
    ck_assert_msg(!strstr(r.out, "argc="), "the program ran although its preopen is missing");
    run_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- parking */

/* With one worker, the root process blocks in fd_read on a pipe that this
   test writes only once the child's lines have all arrived: if the read
   held the worker, they never would (and the run times out). */
START_TEST(pipe_read_parks)
{
    Case c = {.guest = "pipe_park", .flags = {"--threads", "1"}};
    Sandbox sb;
    sandbox_new(&sb);
    static const char input[] = "written after the child finished\n";
    RunOpts o = {.input = input, .input_len = sizeof input - 1, .timeout_ms = 10000, .wait_for = "child: done\n"};
    char *argv[64];
    static char store[4096];
    build_argv(&c, &sb, false, argv, store, sizeof store);
    Run r = run_argv(argv, &o);
    ck_assert_msg(!r.timed_out && r.out_before_input != NULL,
                  "the child's lines did not all arrive while the root process was blocked reading stdin "
                  "(a blocked fd_read holds the only worker?)\nstdout so far:\n%s\nstderr:\n%s",
                  r.out, r.err);
    assert_same_text("pipe_park: stdout before stdin was written", r.out_before_input,
                     "main: spawning the child, then reading stdin\n"
                     "child: line 1 of 5\nchild: line 2 of 5\nchild: line 3 of 5\nchild: line 4 of 5\n"
                     "child: line 5 of 5\nchild: done\n");
    assert_same_text("pipe_park: stdout", r.out,
                     "main: spawning the child, then reading stdin\n"
                     "child: line 1 of 5\nchild: line 2 of 5\nchild: line 3 of 5\nchild: line 4 of 5\n"
                     "child: line 5 of 5\nchild: done\n"
                     "main: read 33 bytes: written after the child finished\nchecks failed: 0\n");
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
    sandbox_free(&sb);
}
END_TEST

/* The same for a sleep in poll_oneoff: the child runs while the root sleeps. */
START_TEST(sleep_parks)
{
    Case c = {.guest = "pipe_park", .flags = {"--threads", "1"}, .args = {"sleep"}};
    double t0 = now_ms();
    Run r = expect_run(&c,
                       "main: spawning the child, then sleeping\n"
                       "child: line 1 of 5\nchild: line 2 of 5\nchild: line 3 of 5\nchild: line 4 of 5\n"
                       "child: line 5 of 5\nchild: done\nmain: woke\nchecks failed: 0\n",
                       0, NULL);
    ck_assert_msg(now_ms() - t0 >= 500, "the 500 ms sleep took %.0f ms", now_ms() - t0);
    run_free(&r);
}
END_TEST

static Suite *wasi_guest_suite(void)
{
    Suite *s = suite_create("wasi_guest");
    TCase *tc = tcase_create("programs");
    /* Whole programs, some twice (leonardo and node), under ASan too. */
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, stdio_args_environ);
    tcase_add_test(tc, stdio_two_preopens);
    tcase_add_test(tc, dir_without_guest_name);
    tcase_add_test(tc, inherit_env);
    tcase_add_test(tc, files);
    tcase_add_test(tc, times);
    tcase_add_test(tc, dirs);
    tcase_add_test(tc, links);
    tcase_add_test(tc, strict);
    tcase_add_test(tc, clocks_random);
    tcase_add_test(tc, poll_timeouts);
    tcase_add_test(tc, stdin_piped);
    tcase_add_test(tc, exit_codes);
    tcase_add_test(tc, exit_after_big_write);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, missing_preopen);
    tcase_add_test(tc, bad_pointers);
    suite_add_tcase(s, tc);
    tc = tcase_create("confinement");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, confinement);
    tcase_add_test(tc, confinement_race);
    suite_add_tcase(s, tc);
    tc = tcase_create("parking");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, pipe_read_parks);
    tcase_add_test(tc, sleep_parks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* A program that stops reading its stdin must not kill this one. */
    signal(SIGPIPE, SIG_IGN);
    have_node();
    SRunner *sr = srunner_create(wasi_guest_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
