/*
 * The `leonardo` command line.
 *
 *   leonardo run [--invoke NAME] [--fuel N] [--threads N] [--slice N] [--verbose]
 *                [--env K=V]... [--inherit-env] [--dir H[::G]]... [--tcplisten A:P]... FILE [ARGS...]
 *   leonardo wast [--fuel-slice K] [-v] FILE...
 *   leonardo dis FILE [NAME...]
 *   leonardo --help | --version
 *
 * Exit statuses follow <sysexits.h>, so that they stay apart from the small
 * numbers programs usually exit with (README.md, "Exit status"):
 *   the program's own status  _start returned (0) or it called proc_exit(N) (255 if N > 255)
 *   64 (EX_USAGE)      bad command line
 *   65 (EX_DATAERR)    the module does not load: malformed, invalid, or an import is missing
 *   66 (EX_NOINPUT)    the file cannot be read
 *   70 (EX_SOFTWARE)   a trap (including "out of fuel"), or the host ran out of memory
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "leonardo.h"
#include "leonardo/process.h"
#include "cli/wast.h"
#include "wasi/wasi.h"

#define LEONARDO_VERSION "0.1.0"

static const char usage_text[] =
    "usage: leonardo run [OPTIONS] FILE [ARGS...]\n"
    "       leonardo wast [--fuel-slice K] [-v] FILE...\n"
    "       leonardo dis FILE [NAME...]\n"
    "       leonardo --help | --version\n"
    "\n"
    "leonardo is a WebAssembly runtime.  `run` loads FILE (a binary .wasm, or\n"
    "the text format) with WASI preview 1 imports and calls its `_start`\n"
    "export; ARGS become the program's argv[1...].  `wast` runs spec test\n"
    "scripts.  `dis` prints the threaded code the interpreter runs for\n"
    "FILE's functions, or for those named (name section or export name,\n"
    "func[N] or N).\n"
    "\n"
    "run options:\n"
    "  --invoke NAME    run export NAME instead of _start; ARGS are its\n"
    "                   arguments (i32/i64 decimal or 0x hex, f32/f64 decimal,\n"
    "                   v128 as SHAPE:LANE,... e.g. i32x4:1,2,3,-4), and its\n"
    "                   results are printed one per line\n"
    "  --fuel N         trap with \"out of fuel\" after about N instructions\n"
    "                   (each process, under _start)\n"
    "  --threads N      worker threads running processes (default: one per core)\n"
    "  --slice N        fuel units a process runs before others get a turn\n"
    "  --verbose        report each abnormal process death with its whole backtrace\n"
    "  --env K=V        give the program environment variable K (repeatable)\n"
    "  --inherit-env    pass on leonardo's own environment too (--env wins)\n"
    "  --dir H[::G]     grant host directory H, known to the program as G\n"
    "                   (default H); repeatable\n"
    "  --tcplisten A:P  grant a socket listening on address A, port P (repeatable)\n"
    "  --               end of options\n"
    "\n"
    "exit status: the program's own (0 when _start returns), 64 bad usage,\n"
    "65 the module does not load, 66 the file cannot be read, 70 a trap.\n";

__attribute__((format(printf, 1, 2))) static void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "leonardo: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see `leonardo --help`)\n");
    va_end(ap);
}

/* ---- reading and loading ---- */

#define MAX_FILE_SIZE (1 << 30)

/* The whole file, malloc'd; NULL with a message printed. */
static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "leonardo: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        fprintf(stderr, "leonardo: %s: is a directory\n", path);
        close(fd);
        return NULL;
    }
    /* Read to the end rather than trusting st_size: FILE may be a pipe. */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    size_t n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= MAX_FILE_SIZE) { /* e.g. /dev/zero: give up rather than eat all memory */
                fprintf(stderr, "leonardo: %s: larger than %d MiB\n", path, MAX_FILE_SIZE >> 20);
                free(buf);
                close(fd);
                return NULL;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            fprintf(stderr, "leonardo: %s: %s\n", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    if (!buf) {
        fprintf(stderr, "leonardo: %s: out of memory\n", path);
        return NULL;
    }
    *len = n;
    return buf;
}

static const char *errkind_name(lw_errkind k)
{
    switch (k) {
    case LW_ERR_MALFORMED: return "malformed module";
    case LW_ERR_INVALID: return "invalid module";
    case LW_ERR_LINK: return "link error";
    case LW_ERR_TRAP: return "trap";
    case LW_ERR_IO: return "i/o error";
    default: return "error";
    }
}

/* The length of a "FILE:LINE:COL: " prefix of `msg`, or 0 if it has none. */
static size_t position_prefix(const char *msg, const char *path)
{
    size_t n = strlen(path);
    if (strncmp(msg, path, n) != 0 || msg[n] != ':')
        return 0;
    n++;
    for (int field = 0; field < 2; field++) {
        size_t start = n;
        while (msg[n] >= '0' && msg[n] <= '9')
            n++;
        if (n == start || msg[n] != ':')
            return 0;
        n++;
    }
    return msg[n] == ' ' ? n + 1 : 0;
}

/* Print a load or link error so that it names the file and the place. */
static void print_load_error(const char *path, const lw_error *err)
{
    /* Errors in text already start with "FILE:LINE:COL: ".  A syntax error
       says what it is; for the others the kind goes after the position. */
    size_t pos = position_prefix(err->msg, path);
    if (pos > 0) {
        if (err->kind == LW_ERR_MALFORMED)
            fprintf(stderr, "leonardo: %s\n", err->msg);
        else
            fprintf(stderr, "leonardo: %.*s%s: %s\n", (int)pos, err->msg,
                    errkind_name(err->kind), err->msg + pos);
        return;
    }
    fprintf(stderr, "leonardo: %s: %s: %s", path, errkind_name(err->kind), err->msg);
    if (err->offset != (size_t)-1 && !strstr(err->msg, "byte"))
        fprintf(stderr, " (at byte offset %zu)", err->offset);
    fputc('\n', stderr);
}

/* Binary when it starts with the magic "\0asm", text otherwise. */
static lw_module *load_module(const char *path, const uint8_t *bytes, size_t len, lw_error *err)
{
    if (len >= 4 && memcmp(bytes, "\0asm", 4) == 0)
        return lw_module_load(bytes, len, err);
    return lw_module_load_wat((const char *)bytes, len, path, err);
}

/* ---- values on the command line ---- */

/* An integer of `bits` bits: optional sign, then decimal or 0x hex.  Both
   the signed and the unsigned range are accepted, as in the text format. */
static bool parse_int(const char *s, int bits, uint64_t *out)
{
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    uint64_t v = 0, umax = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    for (; *s; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            return false;
        if (v > (umax - (uint64_t)d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (neg) {
        if (v > (umax >> 1) + 1) /* below the signed minimum */
            return false;
        v = (0 - v) & umax;
    }
    *out = v;
    return true;
}

static bool parse_float(const char *s, int bits, uint64_t *out)
{
    char *end;
    if (bits == 32) {
        float f = strtof(s, &end);
        uint32_t u;
        memcpy(&u, &f, 4);
        *out = u;
    } else {
        double d = strtod(s, &end);
        memcpy(out, &d, 8);
    }
    return end != s && !*end;
}

/* A v128 as SHAPE:LANE,LANE,... (i8x16, i16x8, i32x4, i64x2, f32x4 or
   f64x2), lane 0 first, as the text format's v128.const writes it. */
static bool parse_v128(const char *s, uint8_t out[16])
{
    static const struct { const char *name; int bits; bool fp; } shapes[] = {
        { "i8x16:", 8, false }, { "i16x8:", 16, false }, { "i32x4:", 32, false },
        { "i64x2:", 64, false }, { "f32x4:", 32, true }, { "f64x2:", 64, true },
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        size_t n = strlen(shapes[k].name);
        if (strncmp(s, shapes[k].name, n) != 0)
            continue;
        int bits = shapes[k].bits, lanes = 128 / bits;
        const char *p = s + n;
        for (int i = 0; i < lanes; i++) {
            const char *comma = strchr(p, ',');
            if ((i < lanes - 1) != (comma != NULL))
                return false;   /* too few or too many lanes */
            char lane[64];
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (len == 0 || len >= sizeof lane)
                return false;
            memcpy(lane, p, len);
            lane[len] = 0;
            uint64_t x;
            if (!(shapes[k].fp ? parse_float(lane, bits, &x) : parse_int(lane, bits, &x)))
                return false;
            for (int b = 0; b < bits / 8; b++)
                out[i * (bits / 8) + b] = (uint8_t)(x >> (8 * b));   /* little-endian lanes */
            p += len + 1;
        }
        return true;
    }
    return false;
}

static bool parse_value(const char *s, lw_valtype t, lw_value *v)
{
    v->type = (uint8_t)t;
    switch (t) {
    case LW_I32: {
        uint64_t x;
        if (!parse_int(s, 32, &x))
            return false;
        v->of.i32 = (uint32_t)x;
        return true;
    }
    case LW_I64:
        return parse_int(s, 64, &v->of.i64);
    case LW_F32: {
        uint64_t x;
        if (!parse_float(s, 32, &x))
            return false;
        v->of.f32 = (uint32_t)x;
        return true;
    }
    case LW_F64:
        return parse_float(s, 64, &v->of.f64);
    case LW_V128:
        return parse_v128(s, v->of.v128);
    default:
        return false; /* references have no command-line form */
    }
}

static const char *valtype_name(uint8_t t)
{
    switch (t) {
    case LW_I32: return "i32";
    case LW_I64: return "i64";
    case LW_F32: return "f32";
    case LW_F64: return "f64";
    case LW_V128: return "v128";
    case LW_FUNCREF: return "funcref";
    case LW_EXTERNREF: return "externref";
    default: return "?";
    }
}

/* The shortest %g form that reads back as the same number. */
static void print_float(double d, int maxprec, bool is_f32)
{
    char buf[64];
    for (int p = 1; p <= maxprec; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, d);
        if (is_f32 ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d)
            break;
    }
    printf("%s\n", buf);
}

/* NaNs as the text format writes them: "nan", or "nan:0x..." with a payload. */
static void print_nan(bool negative, uint64_t payload, bool canonical)
{
    if (canonical)
        printf("%snan\n", negative ? "-" : "");
    else
        printf("%snan:0x%" PRIx64 "\n", negative ? "-" : "", payload);
}

static void print_value(const lw_value *v)
{
    switch (v->type) {
    case LW_I32:
        printf("%" PRId32 "\n", (int32_t)v->of.i32);
        break;
    case LW_I64:
        printf("%" PRId64 "\n", (int64_t)v->of.i64);
        break;
    case LW_F32: {
        float f;
        memcpy(&f, &v->of.f32, 4);
        uint32_t payload = v->of.f32 & 0x7fffff;
        if (isnan(f))
            print_nan(v->of.f32 >> 31, payload, payload == 0x400000);
        else
            print_float(f, 9, true);
        break;
    }
    case LW_F64: {
        double d;
        memcpy(&d, &v->of.f64, 8);
        uint64_t payload = v->of.f64 & 0xfffffffffffffull;
        if (isnan(d))
            print_nan(v->of.f64 >> 63, payload, payload == 0x8000000000000ull);
        else
            print_float(d, 17, false);
        break;
    }
    case LW_V128:
        printf("v128");
        for (int i = 0; i < 16; i++)
            printf(" %02x", v->of.v128[i]);
        printf("\n");
        break;
    case LW_FUNCREF:
        printf(v->of.func ? "ref.func\n" : "ref.null func\n");
        break;
    case LW_EXTERNREF:
        if (v->of.ext)
            printf("ref.extern %" PRIuPTR "\n", v->of.ext);
        else
            printf("ref.null extern\n");
        break;
    }
}

/* ---- leonardo run ---- */

typedef struct {
    const char *invoke;       /* NULL: call _start */
    int64_t fuel;             /* 0: unlimited */
    uint32_t threads;         /* 0: one per core */
    int64_t slice;            /* 0: the runtime's default */
    bool verbose;
    const char **env;
    int nenv;
    bool inherit_env;
    lw_wasi_dir *dirs;
    uint32_t ndirs;
    const char **listen;      /* --tcplisten addresses */
    uint32_t nlisten;
    const char *file;
    char **args;              /* after FILE */
    int nargs;
} RunOptions;

/* The value of an option given as "--opt VALUE" or "--opt=VALUE"; NULL and
   a message when it is missing. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (*i + 1 >= argc) {
        usage_error("option %s needs a value", name);
        return NULL;
    }
    return argv[++*i];
}

static bool has_option(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/* Parse the options of `run`; false (after a message) on a usage error. */
static bool parse_run_options(int argc, char **argv, RunOptions *o)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') /* FILE ("-" alone is not an option either) */
            break;
        if (has_option(a, "--invoke")) {
            if (!(v = option_value(argc, argv, &i, "--invoke")))
                return false;
            o->invoke = v;
        } else if (has_option(a, "--fuel")) {
            if (!(v = option_value(argc, argv, &i, "--fuel")))
                return false;
            uint64_t n;
            if (!parse_int(v, 64, &n) || v[0] == '-' || n == 0 || n > INT64_MAX) {
                usage_error("--fuel needs a positive integer, not '%s'", v);
                return false;
            }
            o->fuel = (int64_t)n;
        } else if (has_option(a, "--threads") || has_option(a, "--slice")) {
            bool threads = has_option(a, "--threads");
            const char *name = threads ? "--threads" : "--slice";
            if (!(v = option_value(argc, argv, &i, name)))
                return false;
            uint64_t n;
            if (!parse_int(v, 64, &n) || v[0] == '-' || n == 0 || n > (threads ? 1024 : INT64_MAX)) {
                usage_error("%s needs a positive integer%s, not '%s'", name, threads ? " up to 1024" : "", v);
                return false;
            }
            if (threads)
                o->threads = (uint32_t)n;
            else
                o->slice = (int64_t)n;
        } else if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (has_option(a, "--env")) {
            if (!(v = option_value(argc, argv, &i, "--env")))
                return false;
            if (!strchr(v, '=') || v[0] == '=') {
                usage_error("--env needs KEY=VALUE, not '%s'", v);
                return false;
            }
            o->env[o->nenv++] = v;
        } else if (strcmp(a, "--inherit-env") == 0) {
            o->inherit_env = true;
        } else if (has_option(a, "--dir")) {
            if (!(v = option_value(argc, argv, &i, "--dir")))
                return false;
            const char *sep = strstr(v, "::");
            char *host = sep ? strndup(v, (size_t)(sep - v)) : strdup(v);
            if (!host || !host[0] || (sep && !sep[2])) {
                free(host);
                usage_error("--dir needs HOST or HOST::GUEST, not '%s'", v);
                return false;
            }
            o->dirs[o->ndirs++] = (lw_wasi_dir){ host, sep ? sep + 2 : host };
        } else if (has_option(a, "--tcplisten")) {
            if (!(v = option_value(argc, argv, &i, "--tcplisten")))
                return false;
            o->listen[o->nlisten++] = v;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            exit(0);
        } else {
            usage_error("unknown option '%s'", a);
            return false;
        }
    }
    if (i >= argc) {
        usage_error("run: no FILE given");
        return false;
    }
    o->file = argv[i];
    o->args = argv + i + 1;
    o->nargs = argc - i - 1;
    return true;
}

/* Report a trap with its backtrace; returns the exit status for it. */
static int report_trap_bt(const char *msg, const char *bt)
{
    fflush(stdout);
    fprintf(stderr, "leonardo: trap: %s\n", msg ? msg : "unknown trap");
    if (bt && *bt) {
        fprintf(stderr, "backtrace (innermost first):\n");
        int depth = 0;
        for (const char *p = bt; *p;) {
            const char *nl = strchr(p, '\n');
            int n = nl ? (int)(nl - p) : (int)strlen(p);
            if (n == 3 && memcmp(p, "...", 3) == 0) /* the runtime cut a deep one short */
                fprintf(stderr, "  ...\n");
            else if (n > 0)
                fprintf(stderr, "  #%d %.*s\n", depth++, n, p);
            p += n + (nl ? 1 : 0);
        }
    }
    return EX_SOFTWARE;
}

/*
 * --invoke: ARGS parsed by the export's parameter types into args[]
 * (at most LW_PROC_MAX_RESULTS, as a process takes).  0, or the exit
 * status after a message.
 */
static int invoke_args(const lw_module *m, const RunOptions *o, lw_value *args, uint32_t *nargs)
{
    const lw_valtype *params, *results;
    uint32_t np, nr;
    if (!lw_module_export_type(m, o->invoke, &params, &np, &results, &nr)) {
        fprintf(stderr, "leonardo: %s: no exported function '%s'\n", o->file, o->invoke);
        return EX_USAGE;
    }
    if ((uint32_t)o->nargs != np) {
        fprintf(stderr, "leonardo: %s takes %" PRIu32 " argument%s (", o->invoke, np, np == 1 ? "" : "s");
        for (uint32_t i = 0; i < np; i++)
            fprintf(stderr, "%s%s", i ? " " : "", valtype_name(params[i]));
        fprintf(stderr, "), %d given\n", o->nargs);
        return EX_USAGE;
    }
    if (np > LW_PROC_MAX_RESULTS || nr > LW_PROC_MAX_RESULTS) {
        fprintf(stderr, "leonardo: --invoke %s: at most %d parameters and %d results\n", o->invoke,
                LW_PROC_MAX_RESULTS, LW_PROC_MAX_RESULTS);
        return EX_USAGE;
    }
    for (uint32_t i = 0; i < np; i++) {
        if (!parse_value(o->args[i], params[i], &args[i])) {
            fprintf(stderr, "leonardo: argument %" PRIu32 " of %s: '%s' is not a valid %s%s\n", i + 1,
                    o->invoke, o->args[i], valtype_name(params[i]),
                    params[i] == LW_V128 ? " (write SHAPE:LANE,..., e.g. i32x4:1,2,3,-4 or f64x2:0.5,1)" : "");
            return EX_USAGE;
        }
    }
    *nargs = np;
    return 0;
}

/*
 * `run FILE`: _start (or the --invoke export, with args) runs as the root
 * process of a runtime, which may spawn others; the runtime ends with the
 * root, and the status is the root's.  An --invoke export's results are
 * printed one per line.  Deaths of other processes are reported as they
 * happen.
 */
static int run_root(const RunOptions *o, lw_module *m, lw_wasi *wasi, const lw_value *args, uint32_t nargs)
{
    lw_runtime_config cfg = {
        .threads = o->threads, .slice = o->slice, .verbose = o->verbose, .max_fuel = (uint64_t)o->fuel,
    };
    lw_runtime *rt = lw_runtime_new(&cfg);
    if (!rt || !lw_wasi_attach(wasi, rt)) {
        lw_runtime_free(rt);
        fprintf(stderr, "leonardo: cannot start the runtime: out of memory\n");
        return EX_SOFTWARE;
    }
    fflush(stdout); /* keep our own output in order with the program's */
    lw_error err = {0};
    uint64_t pid = lw_runtime_spawn(rt, m, o->invoke ? o->invoke : "_start", args, nargs, &err);
    int rc;
    if (!pid) {
        if (err.kind == LW_ERR_NOEXPORT) {
            fprintf(stderr, "leonardo: %s: %s (use --invoke NAME)\n", o->file, err.msg);
            rc = EX_USAGE;
        } else if (err.kind == LW_ERR_TRAP) {
            rc = report_trap_bt(err.msg, NULL);
        } else {
            print_load_error(o->file, &err);
            rc = EX_DATAERR;
        }
        lw_runtime_free(rt);
        return rc;
    }
    lw_proc_result r;
    lw_runtime_wait(rt, pid, &r);
    if (o->invoke && r.returned)
        for (uint32_t i = 0; i < r.nresults; i++)
            print_value(&r.results[i]);
    if (r.reason == LW_REASON_TRAP)
        rc = report_trap_bt(r.text + strlen("trap: "), r.backtrace);
    else if (r.reason < 0) {
        fprintf(stderr, "leonardo: the root process ended: %s\n", r.text);
        rc = EX_SOFTWARE;
    } else
        rc = r.reason > 255 ? 255 : (int)r.reason;
    lw_runtime_free(rt);
    return rc;
}

/* The environment the program sees: leonardo's own with --inherit-env,
   then the --env pairs, a later KEY replacing an earlier one. */
static const char **program_env(const RunOptions *o, int *n)
{
    extern char **environ;
    int host = 0;
    while (o->inherit_env && environ[host])
        host++;
    const char **v = calloc((size_t)(host + o->nenv + 1), sizeof *v);
    if (!v)
        return NULL;
    int k = 0;
    for (int i = 0; i < host + o->nenv; i++) {
        const char *kv = i < host ? environ[i] : o->env[i - host];
        size_t klen = strcspn(kv, "=");
        int j = 0;
        while (j < k && !(strncmp(v[j], kv, klen) == 0 && v[j][klen] == '='))
            j++;
        v[j] = kv;
        if (j == k)
            k++;
    }
    *n = k;
    return v;
}

/* --tcplisten ADDR:PORT: a listening TCP socket, or -1 after a message. */
static int listen_on(const char *spec)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1]) {
        usage_error("--tcplisten needs ADDRESS:PORT, not '%s'", spec);
        return -1;
    }
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {   /* [::1]:8080 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *ai;
    int r = getaddrinfo(host, colon + 1, &hints, &ai);
    if (r != 0) {
        fprintf(stderr, "leonardo: --tcplisten %s: %s\n", spec, gai_strerror(r));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        fprintf(stderr, "leonardo: --tcplisten %s: %s\n", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int cmd_run(int argc, char **argv)
{
    /* A closed pipe on stdout should reach the program as fd_write's EPIPE,
       as on a native system with SIGPIPE ignored, not kill the runtime. */
    signal(SIGPIPE, SIG_IGN);
    RunOptions o = {0};
    o.env = calloc((size_t)argc + 1, sizeof *o.env);
    o.dirs = calloc((size_t)argc + 1, sizeof *o.dirs);
    o.listen = calloc((size_t)argc + 1, sizeof *o.listen);
    int rc = EX_SOFTWARE;
    size_t len = 0;
    uint8_t *bytes = NULL;
    lw_module *m = NULL;
    lw_store *s = NULL;
    lw_exec *ex = NULL;
    lw_wasi *wasi = NULL;
    const char **wargv = NULL;
    const char **envp = NULL;
    int *socks = NULL;
    lw_error err = {0};
    if (!o.env || !o.dirs || !o.listen)
        goto oom;
    if (!parse_run_options(argc, argv, &o)) {
        rc = EX_USAGE;
        goto out;
    }

    bytes = read_file(o.file, &len);
    if (!bytes) {
        rc = EX_NOINPUT;
        goto out;
    }
    m = load_module(o.file, bytes, len, &err);
    if (!m) {
        print_load_error(o.file, &err);
        rc = EX_DATAERR;
        goto out;
    }

    /* The program's argv: FILE, then ARGS (none with --invoke: those are the export's). */
    int wargc = o.invoke ? 1 : 1 + o.nargs;
    wargv = calloc((size_t)wargc + 1, sizeof *wargv);
    if (!wargv)
        goto oom;
    wargv[0] = o.file;
    for (int i = 1; i < wargc; i++)
        wargv[i] = o.args[i - 1];
    int envc = 0;
    if (!(envp = program_env(&o, &envc)))
        goto oom;
    socks = calloc(o.nlisten + 1, sizeof *socks);
    if (!socks)
        goto oom;
    for (uint32_t i = 0; i < o.nlisten; i++) {
        socks[i] = listen_on(o.listen[i]);
        if (socks[i] < 0) {
            for (uint32_t j = 0; j < i; j++)
                close(socks[j]);
            rc = EX_USAGE;
            goto out;
        }
    }
    lw_wasi_config wc = {
        .argc = wargc, .argv = wargv, .envc = envc, .envp = envp,
        .stdin_fd = 0, .stdout_fd = 1, .stderr_fd = 2,
        .ndirs = o.ndirs, .dirs = o.dirs, .nsockets = o.nlisten, .sockets = socks,
    };
    char werr[LW_WASI_ERR_MAX];
    wasi = lw_wasi_new(&wc, werr);
    for (uint32_t i = 0; i < o.nlisten; i++)
        close(socks[i]);   /* lw_wasi_new took copies */
    if (!wasi) {
        fprintf(stderr, "leonardo: %s\n", werr);
        rc = EX_NOINPUT;
        goto out;
    }
    lw_value args[LW_PROC_MAX_RESULTS];
    uint32_t nargs = 0;
    if (o.invoke && (rc = invoke_args(m, &o, args, &nargs)) != 0)
        goto out;
    rc = run_root(&o, m, wasi, args, nargs);
    goto out;

oom:
    fprintf(stderr, "leonardo: out of memory\n");
    rc = EX_SOFTWARE;
out:
    fflush(stdout);
    if (ex)
        lw_exec_free(ex);
    lw_store_free(s);
    lw_module_free(m);
    lw_wasi_free(wasi);
    free(wargv);
    free(bytes);
    free(o.env);
    free(envp);
    free(socks);
    for (uint32_t i = 0; o.dirs && i < o.ndirs; i++)
        free((char *)o.dirs[i].host);
    free(o.dirs);
    free(o.listen);
    return rc;
}

/* `leonardo dis FILE [NAME...]`: the translated code of FILE's functions. */
static int cmd_dis(int argc, char **argv)
{
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    else if (first < argc && argv[first][0] == '-' && argv[first][1]) {
        usage_error("dis: unknown option '%s'", argv[first]);
        return EX_USAGE;
    }
    if (first >= argc) {
        usage_error("dis: no FILE given");
        return EX_USAGE;
    }
    const char *file = argv[first];
    size_t len = 0;
    uint8_t *bytes = read_file(file, &len);
    if (!bytes)
        return EX_NOINPUT;
    lw_error err = {0};
    lw_module *m = load_module(file, bytes, len, &err);
    free(bytes);
    if (!m) {
        print_load_error(file, &err);
        return EX_DATAERR;
    }
    int rc = 0;
    if (first + 1 == argc)
        lw_module_disassemble(m, NULL, stdout);
    for (int i = first + 1; i < argc; i++) {
        if (i > first + 1)
            putchar('\n');
        if (lw_module_disassemble(m, argv[i], stdout) == 0) {
            fprintf(stderr, "leonardo: %s: no defined function '%s'\n", file, argv[i]);
            rc = EX_USAGE;
        }
    }
    lw_module_free(m);
    if (fflush(stdout) != 0)
        rc = EX_IOERR;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EX_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "wast") == 0)
        return wast_main(argc - 1, argv + 1);
    if (strcmp(cmd, "dis") == 0)
        return cmd_dis(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("leonardo %s\n", LEONARDO_VERSION);
        return 0;
    }
    usage_error("unknown command '%s'", cmd);
    return EX_USAGE;
}
