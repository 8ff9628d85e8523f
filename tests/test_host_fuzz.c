/*
 * Hostile guests against every host function.
 *
 * Each round writes a WAT program that imports every function leonardo
 * offers guests (WASI's and the process API's, read from the tables that
 * define them: src/wasi/wasi.h host_tables) and runs it with `leonardo run`
 * on a sandbox directory.  Its root spawns many processes, each calling
 * imports at random with arguments drawn from two pools: hostile ones
 * (pointers and lengths at and past the end of memory, 0xffffffff, unknown
 * ids, pids nearby, -1) and tame ones (small numbers, pointers into a
 * scratch area, the addresses and lengths of strings the program holds:
 * paths, names, a module in binary and in text).  Processes fault, trap,
 * kill each other, link, sleep, block forever, open and write files, grow
 * their memories out of their pooled slots, and park reading stdin (a pipe
 * a line trickles into) where others kill them.
 *
 * It found five bugs, each now fixed: unlink(self) deadlocked a worker; a
 * guest's cancel_timer(0) made the timer set spin forever; monitors leaked
 * at shutdown; a failed spawn left its slot dirty (a double free); a late
 * I/O report touched a process being freed (TSan).
 *
 * What must hold, whatever they do (docs/ABI.md: a guest's mistake is a
 * process death, never a runtime crash):
 *   - the runtime exits with the root's status (0) within the time limit:
 *     no crash, no hang;
 *   - no sanitizer report (`make check-asan` runs this on build-asan/);
 *   - nothing outside the preopened directory changed.
 *
 * LW_HOST_FUZZ_ROUNDS and LW_HOST_FUZZ_SEED run a longer campaign;
 * LW_HOST_FUZZ_KEEP=1 keeps each round's directory (program, stderr, files);
 * LW_HOST_FUZZ_THREADS sets the number of workers of every round.
 */
#define _GNU_SOURCE   /* nftw */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leonardo.h"
#include "wasi/wasi.h"

#define CHILDREN 400  /* fuzzing processes per round */
#define AT_ONCE 32     /* alive at a time */
#define CALLS 400      /* calls each makes, unless it dies first (most do) */
#define BINMOD 18      /* strings[BINMOD]: a module in binary */
#define ROUND_TIMEOUT_S 60
#define ERR_KEEP (1 << 20)   /* the runtime's stderr: its last MiB is searched */
#define ROOT_PID 1   /* the first process: pids and references share one counter from 1 */

typedef struct {
    char *p;
    size_t len, cap;
} Buf;

static void bprintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        ck_assert_ptr_nonnull(b->p);
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Bytes the guest holds at known places, so that tame arguments name them. */
static const struct {
    const char *s;
    size_t len;
} strings[] = {
#define S(lit) {lit, sizeof lit - 1}
    S("fuzz"), S("noop"), S("run"), S("a"), S("a/b"), S("."), S(".."), S("../secret"), S("/secret"),
    S("sub/../../secret"), S("sub"), S("sub/f.txt"), S("f.txt"), S("new"), S("new/deeper"), S("lnk"),
    S("x\0y"), S(""),
    /* a module exporting "run", in binary and in text (module_compile) */
    S("\0asm\1\0\0\0\1\4\1\x60\0\0\3\2\1\0\7\7\1\3run\0\0\12\4\1\2\0\13"),
    S("(module (func (export \"run\")))"),
#undef S
};
#define NSTR (sizeof strings / sizeof strings[0])
#define STR_AT 4096   /* the strings, one after another */
#define TAB_AT 8192   /* (offset, length) of each, as two i32 */
#define SCRATCH_AT 1024
#define ARGS_AT 64    /* the root's spawn arguments */
#define TAGS_AT 128   /* the root's receive tags */
#define KEPT_AT 256   /* the last 8 i64 results, for tame arguments */
#define IOV_AT 512    /* 8 iovecs (buffer, length) over the scratch area */

/* A WAT string literal of n bytes. */
static void wat_bytes(Buf *b, const char *s, size_t n)
{
    bprintf(b, "\"");
    for (size_t i = 0; i < n; i++)
        bprintf(b, "\\%02x", (unsigned char)s[i]);
    bprintf(b, "\"");
}

static void make_program(Buf *b, uint64_t seed)
{
    HostTable tabs[HOST_TABLES_MAX];
    size_t ntabs = host_tables(tabs), nf = 0;
    ck_assert(strings[BINMOD].len > 4 && memcmp(strings[BINMOD].s, "\0asm", 4) == 0);
    bprintf(b, "(module\n");
    for (size_t t = 0; t < ntabs; t++)
        for (size_t i = 0; i < tabs[t].n; i++, nf++) {
            const HostDef *d = &tabs[t].defs[i];
            bprintf(b, "  (import \"%s\" \"%s\" (func $f%zu", tabs[t].module, d->name, nf);
            if (*d->params) {
                bprintf(b, " (param");
                for (const char *p = d->params; *p; p++)
                    bprintf(b, " %s", *p == 'I' ? "i64" : "i32");
                bprintf(b, ")");
            }
            if (*d->results)
                bprintf(b, " (result %s)", *d->results == 'I' ? "i64" : "i32");
            bprintf(b, "))\n");
        }
    bprintf(b, "  (memory 1 8)\n  (table 2 funcref)\n  (elem (i32.const 0) $noop $noop)\n");
    for (uint32_t i = 0; i < 8; i++) {
        uint32_t iov[2] = {SCRATCH_AT + 128 * i, 1u + 17 * i};
        bprintf(b, "  (data (i32.const %u) ", IOV_AT + 8 * i);
        wat_bytes(b, (const char *)iov, sizeof iov);
        bprintf(b, ")\n");
    }
    size_t off = STR_AT;
    for (size_t i = 0; i < NSTR; i++) {
        bprintf(b, "  (data (i32.const %zu) ", off);
        wat_bytes(b, strings[i].s, strings[i].len);
        bprintf(b, ")\n  (data (i32.const %zu) ", (size_t)TAB_AT + 8 * i);
        uint32_t pair[2] = {(uint32_t)off, (uint32_t)strings[i].len};
        wat_bytes(b, (const char *)pair, sizeof pair);
        bprintf(b, ")\n");
        off += strings[i].len + 1;
    }
    /* Randomness (an LCG), the argument pools, and the guard that keeps the root alive. */
    bprintf(b,
            "  (global $seed (mut i64) (i64.const 0))\n"
            "  (global $tame (mut i32) (i32.const 0))\n"
            "  (global $self (mut i64) (i64.const 0))\n"
            "  (global $last (mut i32) (i32.const 0))\n"
            "  (global $pend (mut i32) (i32.const -1))   ;; the string whose address was just given\n"
            "  (func $keep (param $v i64) (result i64)   ;; results worth passing back: ids, pids, refs\n"
            "    (i64.store (i32.add (i32.const %d) (i32.shl (global.get $last) (i32.const 3))) (local.get $v))\n"
            "    (global.set $last (i32.and (i32.add (global.get $last) (i32.const 1)) (i32.const 7)))\n"
            "    (local.get $v))\n"
            "  (func $noop)\n"
            "  (func (export \"noop\") (param i64))\n"
            "  (func $rand (result i64)\n"
            "    (global.set $seed (i64.add (i64.mul (global.get $seed) (i64.const 6364136223846793005))\n"
            "                               (i64.const 1442695040888963407)))\n"
            "    (i64.shr_u (global.get $seed) (i64.const 17)))\n"
            "  (func $str (param $i i64) (param $len i32) (result i32)\n"
            "    (i32.load (i32.add (i32.const %d) (i32.add (i32.mul (i32.wrap_i64 (i64.rem_u (local.get $i)\n"
            "      (i64.const %zu))) (i32.const 8)) (i32.shl (local.get $len) (i32.const 2))))))\n"
            "  (func $a32 (result i32) (local $r i64) (local $v i64)\n"
            "    (local.set $r (call $rand))\n"
            "    (local.set $v (i64.shr_u (local.get $r) (i64.const 8)))\n"
            "    (if (global.get $tame) (then\n"
            "      ;; a string's length right after its address, mostly: paths and names come in pairs\n"
            "      (if (i32.and (i32.ne (global.get $pend) (i32.const -1)) (i64.ne (i64.and (local.get $r) (i64.const 12))\n"
            "                                                               (i64.const 0))) (then\n"
            "        (local.set $v (i64.extend_i32_u (global.get $pend)))\n"
            "        (global.set $pend (i32.const -1))\n"
            "        (return (call $str (local.get $v) (i32.const 1)))))\n"
            "      (global.set $pend (i32.const -1))\n"
            "      (block $t4 (block $t3 (block $t2 (block $t1 (block $t0\n"
            "        (br_table $t0 $t1 $t2 $t3 $t4 (i32.wrap_i64 (i64.rem_u (local.get $r) (i64.const 5)))))\n"
            "        (return (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 8)))))\n"
            "        (return (i32.add (i32.const %d) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 2048))))))\n"
            "        (global.set $pend (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const %zu))))\n"
            "        (return (call $str (local.get $v) (i32.const 0))))\n"
            "        (return (call $str (local.get $v) (i32.const 1))))\n"
            "      ;; one of the ready-made iovecs (fd_read, fd_write ...)\n"
            "      (return (i32.add (i32.const %d) (i32.shl (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 8)))\n"
            "                                               (i32.const 3))))))\n"
            "    (block $h7 (block $h6 (block $h5 (block $h4 (block $h3 (block $h2 (block $h1 (block $h0\n"
            "      (br_table $h0 $h1 $h2 $h3 $h4 $h5 $h6 $h7 (i32.wrap_i64 (i64.and (local.get $r) (i64.const 7)))))\n"
            "      (return (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 8)))))\n"
            "      (return (i32.sub (i32.const 65536) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 9))))))\n"
            "      (return (i32.add (i32.const 65536) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 9))))))\n"
            "      (return (i32.sub (i32.const -1) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 4))))))\n"
            "      (return (i32.const 0x80000000)))\n"
            "      (return (call $str (local.get $v) (i32.const 0))))\n"
            "      (return (i32.wrap_i64 (local.get $v))))\n"
            "    (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 65536))))\n"
            "  (func $a64 (result i64) (local $r i64) (local $v i64)\n"
            "    (local.set $r (call $rand))\n"
            "    (local.set $v (i64.shr_u (local.get $r) (i64.const 8)))\n"
            "    (if (global.get $tame) (then\n"
            "      (block $t3 (block $t2 (block $t1 (block $t0\n"
            "        (br_table $t0 $t1 $t2 $t3 $t3 $t3 (i32.wrap_i64 (i64.rem_u (local.get $r) (i64.const 6)))))\n"
            "        (return (i64.rem_u (local.get $v) (i64.const 8))))\n"
            "        (return (i64.add (global.get $self) (i64.rem_u (local.get $v) (i64.const 3)))))\n"
            "        (return (i64.rem_u (local.get $v) (i64.const 50))))\n"
            "      (return (i64.load (i32.add (i32.const %d) (i32.shl (i32.wrap_i64 (i64.and (local.get $v)\n"
            "        (i64.const 7))) (i32.const 3)))))))\n"
            "    (block $h7 (block $h6 (block $h5 (block $h4 (block $h3 (block $h2 (block $h1 (block $h0\n"
            "      (br_table $h0 $h1 $h2 $h3 $h4 $h5 $h6 $h7 (i32.wrap_i64 (i64.and (local.get $r) (i64.const 7)))))\n"
            "      (return (i64.rem_u (local.get $v) (i64.const 64))))\n"
            "      (return (i64.sub (global.get $self) (i64.rem_u (local.get $v) (i64.const 8)))))\n"
            "      (return (i64.const -1)))\n"
            "      (return (i64.const -2)))\n"
            "      (return (i64.shl (i64.const 1) (i64.rem_u (local.get $v) (i64.const 64)))))\n"
            "      (return (local.get $r)))\n"
            "      (return (i64.rem_u (local.get $v) (i64.const 1000))))\n"
            "    (i64.const 0))\n"
            "  (func $not_root (param $p i64) (result i64)\n"
            "    (select (global.get $self) (local.get $p) (i64.eq (local.get $p) (i64.const %d))))\n",
            KEPT_AT, TAB_AT, NSTR, SCRATCH_AT, NSTR, IOV_AT, KEPT_AT, ROOT_PID);
    /* One call of import k, with fresh arguments. */
    bprintf(b, "  (func $step (param $k i32)\n");
    nf = 0;
    for (size_t t = 0; t < ntabs; t++)
        for (size_t i = 0; i < tabs[t].n; i++, nf++) {
            const HostDef *d = &tabs[t].defs[i];
            bool ends = !strcmp(d->name, "exit") || !strcmp(d->name, "proc_exit");
            bool kills = !strcmp(d->name, "kill");
            bprintf(b, "    (if (i32.eq (local.get $k) (i32.const %zu)) (then\n", nf);
            if (ends)   /* rarely: every process would end in a few dozen calls */
                bprintf(b, "      (br_if 1 (i64.ne (i64.rem_u (call $rand) (i64.const 40)) (i64.const 0)))\n");
            bprintf(b, "      (call $f%zu", nf);
            for (const char *p = d->params; *p; p++) {
                if (kills && p == d->params)
                    bprintf(b, " (call $not_root (call $a64))");
                else
                    bprintf(b, " (call $a%s)", *p == 'I' ? "64" : "32");
            }
            bprintf(b, ")%s\n      (return)))\n",
                    !*d->results ? "" : *d->results == 'I' ? " (call $keep) (drop)" : " (drop)");
        }
    bprintf(b, "  )\n");
    bprintf(b,
            "  (func (export \"fuzz\") (param $s i64) (local $i i32)\n"
            "    (global.set $seed (local.get $s))\n"
            "    (global.set $self (call $self))\n"
            "    ;; ids worth passing: a configuration and a compiled module (config ids and\n"
            "    ;; module ids from nowhere are faults, and would end most processes at once)\n"
            "    (drop (call $keep (call $config_new)))\n"
            "    (drop (call $keep (call $module_compile (call $str (i64.const %d) (i32.const 0))\n"
            "                                            (call $str (i64.const %d) (i32.const 1)))))\n"
            "    (loop $l\n"
            "      ;; now and then a read of stdin, where a line comes every 100 ms or so: the\n"
            "      ;; process parks in I/O, and others may kill it there\n"
            "      (if (i64.eqz (i64.rem_u (call $rand) (i64.const 64))) (then\n"
            "        (drop (call $fd_read (i32.const 0) (i32.const %d) (i32.const 2) (i32.const %d)))))\n"
            "      ;; and now and then a page more: past 4 pages the memory moves out of its pooled slot\n"
            "      (if (i64.eqz (i64.rem_u (call $rand) (i64.const 48))) (then (drop (memory.grow (i32.const 1)))))\n"
            "      (global.set $tame (i64.ne (i64.and (call $rand) (i64.const 3)) (i64.const 0)))\n"
            "      (call $step (i32.wrap_i64 (i64.rem_u (call $rand) (i64.const %zu))))\n"
            "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
            "      (br_if $l (i32.lt_u (local.get $i) (i32.const %d)))))\n",
            BINMOD, BINMOD, IOV_AT, SCRATCH_AT + 2040, nf, CALLS);
    /* The root: AT_ONCE fuzzers, each monitored, and a new one for each that
       ends, CHILDREN in all; then it waits for the rest until a second goes
       by without an end (some block forever, by design). */
    bprintf(b,
            "  (func $start_one (param $i i32)\n"
            "    (i64.store (i32.const %d) (i64.add (i64.const %llu) (i64.extend_i32_u (local.get $i))))\n"
            "    (drop (call $spawn_export (i32.const %d) (i32.const 4) (i32.const %d) (i32.const 1)\n"
            "                              (i32.const 2) (i64.const 0))))\n"
            "  (func (export \"_start\") (local $i i32) (local $n i32)\n"
            "    (if (i64.ne (call $self) (i64.const %d)) (then (call $proc_exit (i32.const 3))))\n"
            "    (drop (call $trap_exit (i32.const 1)))\n"
            "    (loop $l\n"
            "      (call $start_one (local.get $i))\n"
            "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
            "      (br_if $l (i32.lt_u (local.get $i) (i32.const %d))))\n"
            "    (i64.store (i32.const %d) (i64.const -2))\n"
            "    (block $done (loop $w\n"
            "      (br_if $done (i32.eq (call $receive (i32.const %d) (i32.const 1) (i64.const 1000)) (i32.const -1)))\n"
            "      (local.set $n (i32.add (local.get $n) (i32.const 1)))\n"
            "      (if (i32.lt_u (local.get $i) (i32.const %d)) (then\n"
            "        (call $start_one (local.get $i))\n"
            "        (local.set $i (i32.add (local.get $i) (i32.const 1)))))\n"
            "      (br_if $w (i32.lt_u (local.get $n) (i32.const %d)))))\n"
            "    (call $proc_exit (i32.const 0)))\n",
            ARGS_AT, (unsigned long long)seed * 1000003ull, STR_AT, ARGS_AT, ROOT_PID, AT_ONCE, TAGS_AT,
            TAGS_AT, CHILDREN, CHILDREN);
    /* Named aliases for the imports the code above calls by name. */
    static const char *const named[] = {"self", "trap_exit", "spawn_export", "receive", "proc_exit",
                                        "config_new", "module_compile", "fd_read"};
    nf = 0;
    for (size_t t = 0; t < ntabs; t++)
        for (size_t i = 0; i < tabs[t].n; i++, nf++) {
            const HostDef *d = &tabs[t].defs[i];
            bool want = false;
            for (size_t k = 0; k < sizeof named / sizeof named[0]; k++)
                want |= !strcmp(d->name, named[k]);
            if (!want)
                continue;
            bprintf(b, "  (func $%s (param", d->name);
            int k = 0;
            for (const char *p = d->params; *p; p++, k++)
                bprintf(b, " %s", *p == 'I' ? "i64" : "i32");
            bprintf(b, ")%s", *d->results ? (*d->results == 'I' ? " (result i64)" : " (result i32)") : "");
            for (int j = 0; j < k; j++)
                bprintf(b, " (local.get %d)", j);
            bprintf(b, " (call $f%zu))\n", nf);
        }
    bprintf(b, ")\n");
}

/* ---------------------------------------------------------------- running */

static const char *leonardo_bin(void)
{
    static char path[512];
    const char *v = getenv("LEONARDO");
    if (!v || !*v)
        v = "./leonardo";
    snprintf(path, sizeof path, "%s%s", strchr(v, '/') ? "" : "./", v);
    return path;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    Buf b = {0};
    bprintf(&b, "%s", "");
    char tmp[65536];
    size_t n;
    while (b.len < ERR_KEEP && (n = fread(tmp, 1, sizeof tmp, f)) > 0) {   /* enough to compare */
        if (b.len + n + 1 > b.cap) {
            b.cap = (b.len + n + 1) * 2;
            b.p = realloc(b.p, b.cap);
            ck_assert_ptr_nonnull(b.p);
        }
        memcpy(b.p + b.len, tmp, n);
        b.len += n;
        b.p[b.len] = 0;
    }
    fclose(f);
    return b.p;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* Run one round: the status, and the runtime's stderr (to be freed). */
static int run_round(uint64_t seed, const char *dir, char **err_out)
{
    /* Rounds vary the scheduling: two workers, one, and many with tiny slices. */
    static const char *const sched[][4] = {
        {"--threads", "2", "--slice", "20000"},
        {"--threads", "1", "--slice", "20000"},
        {"--threads", "4", "--slice", "50"},
    };
    const char *sa[4];
    memcpy(sa, sched[seed % 3], sizeof sa);
    if (getenv("LW_HOST_FUZZ_THREADS"))   /* e.g. as many as a big machine has cores */
        sa[1] = getenv("LW_HOST_FUZZ_THREADS");
    char wat[300], root[300], errp[300], arg[700];
    snprintf(wat, sizeof wat, "%s/fuzz.wat", dir);
    snprintf(root, sizeof root, "%s/root", dir);
    snprintf(errp, sizeof errp, "%s/stderr", dir);
    snprintf(arg, sizeof arg, "%s::/", root);
    Buf prog = {0};
    make_program(&prog, seed);
    spit(wat, prog.p);
    free(prog.p);

    /* stderr through a pipe, of which the last ERR_KEEP bytes are kept:
       guests write there too, without limit, and may seek (on a file they
       made one sparse file of 128 GiB). */
    /* stdin is a pipe that a line trickles into, now and then: reads of it
       and polls on it park their processes, which others then kill. */
    int ep[2], ip[2];
    ck_assert_int_eq(pipe(ep), 0);
    ck_assert_int_eq(pipe(ip), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int out = open("/dev/null", O_WRONLY);
        if (out < 0)
            _exit(126);
        dup2(ip[0], 0);
        dup2(out, 1);
        dup2(ep[1], 2);
        close(ip[0]);
        close(ip[1]);
        close(ep[0]);
        close(ep[1]);
        execl(leonardo_bin(), leonardo_bin(), "run", sa[0], sa[1], sa[2], sa[3], "--dir", arg, "--env", "FUZZ=1",
              "--env", "HOME=/", wat, "an argument", "another", (char *)NULL);
        _exit(127);
    }
    close(ep[1]);
    close(ip[0]);
    signal(SIGPIPE, SIG_IGN);   /* the runtime may be gone when a line is due */
    fcntl(ip[1], F_SETFL, fcntl(ip[1], F_GETFL) | O_NONBLOCK);
    fcntl(ep[0], F_SETFL, fcntl(ep[0], F_GETFL) | O_NONBLOCK);
    Buf err = {0};
    bprintf(&err, "%s", "");
    bool timed_out = false, open_ = true;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (open_) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > ROUND_TIMEOUT_S) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd pf = {ep[0], POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0) {
            ssize_t w = write(ip[1], "a line of input\n", 16);
            (void)w;   /* a full pipe, or a runtime gone (its end shows on the other pipe) */
            continue;
        }
        char tmp[65536];
        ssize_t n = read(ep[0], tmp, sizeof tmp);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            open_ = false;
        } else if (n > 0) {
            if (err.len + (size_t)n > 2 * ERR_KEEP) {
                memmove(err.p, err.p + err.len - ERR_KEEP, ERR_KEEP);
                err.len = ERR_KEEP;
            }
            if (err.len + (size_t)n + 1 > err.cap) {
                err.cap = 2 * ERR_KEEP + 1;
                err.p = realloc(err.p, err.cap);
                ck_assert_ptr_nonnull(err.p);
            }
            memcpy(err.p + err.len, tmp, (size_t)n);
            err.len += (size_t)n;
            err.p[err.len] = 0;
        }
    }
    close(ep[0]);
    close(ip[1]);
    int ws = 0;
    waitpid(pid, &ws, 0);
    /* Guests write arbitrary bytes: NULs would hide what follows from strstr. */
    for (size_t i = 0; i < err.len; i++)
        if (!err.p[i])
            err.p[i] = ' ';
    spit(errp, err.p);   /* for LW_HOST_FUZZ_KEEP */
    *err_out = err.p;
    if (timed_out)
        return -1;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static uint64_t env_u64(const char *name, uint64_t fallback)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : fallback;
}

START_TEST(every_import_with_hostile_arguments)
{
    uint64_t rounds = env_u64("LW_HOST_FUZZ_ROUNDS", 3), seed0 = env_u64("LW_HOST_FUZZ_SEED", 1);
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t seed = seed0 + r;
        char dir[64] = "/tmp/lw-hostfuzz-XXXXXX", p[300];
        ck_assert_ptr_nonnull(mkdtemp(dir));
        /* Outside the preopened root: must not change.  Inside: things to find. */
        static const char secret[] = "TOP SECRET: never to be read or changed\n";
        snprintf(p, sizeof p, "%s/secret", dir);
        spit(p, secret);
        snprintf(p, sizeof p, "%s/root", dir);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/root/sub", dir);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/root/sub/f.txt", dir);
        spit(p, "a file\n");
        snprintf(p, sizeof p, "%s/root/f.txt", dir);
        spit(p, "another file\n");
        snprintf(p, sizeof p, "%s/root/lnk", dir);
        ck_assert_int_eq(symlink("../secret", p), 0);

        char *err = NULL;
        int status = run_round(seed, dir, &err);
        const char *bad = NULL;
        static const char *const reports[] = {"AddressSanitizer", "LeakSanitizer", "runtime error:",
                                              "ThreadSanitizer", "UndefinedBehaviorSanitizer"};
        for (size_t i = 0; i < sizeof reports / sizeof reports[0] && !bad; i++)
            if (strstr(err, reports[i]))
                bad = reports[i];
        size_t elen = strlen(err);
        ck_assert_msg(status == 0 && !bad,
                      "seed %llu: leonardo %s%d%s; its stderr ends: %s", (unsigned long long)seed,
                      status < 0 ? "timed out (" : "exited with status ", status < 0 ? ROUND_TIMEOUT_S : status,
                      bad ? ", with a sanitizer report" : "", err + (elen > 3000 ? elen - 3000 : 0));
        /* The guests faulted and trapped (each death is one line on stderr). */
        ck_assert_msg(strstr(err, "leonardo.") != NULL, "seed %llu: no process faulted in the host API",
                      (unsigned long long)seed);
        free(err);

        snprintf(p, sizeof p, "%s/secret", dir);
        char *now = slurp(p);
        ck_assert_msg(strcmp(now, secret) == 0, "seed %llu: the file outside the sandbox changed",
                      (unsigned long long)seed);
        free(now);
        if (getenv("LW_HOST_FUZZ_KEEP"))
            fprintf(stderr, "seed %llu: kept %s\n", (unsigned long long)seed, dir);
        else
            nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_fuzz");
    TCase *tc = tcase_create("host_fuzz");
    tcase_set_timeout(tc, 0);   /* each round has its own limit */
    tcase_add_test(tc, every_import_with_hostile_arguments);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
