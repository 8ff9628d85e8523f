/*
 * A deterministic smoke fuzzer for the front end.
 *
 * It takes every `(module ...)` form of the spec suite's .wast scripts
 * (${WASM_TESTSUITE:-../shared/wasm-testsuite}/2.0), gives the text to the
 * text parser (wat_to_wasm) and the binaries it produces to the decoder and
 * the validator (module_decode, module_validate), then does the same with
 * truncated, bit-flipped and otherwise damaged copies.  Whatever validates
 * has every function translated and disassembled (translate_all), and is
 * instantiated and its exports are called, under a fuel limit,
 * which puts damaged but valid code through the translator and the
 * interpreter, twice: straight through, and in tiny fuel slices, and the
 * two runs must agree (see run_module).  Nothing may crash, read out of
 * bounds or leak; `make check-asan` runs it under ASan+UBSan.  Rejecting an
 * input is fine: that is what most damaged inputs deserve.
 *
 *   fuzz_smoke [MIN_INPUTS [SEED]]     (default 300000, and a fixed seed)
 *
 * The files are read in sorted order, so a run with the same seed feeds
 * the same inputs and a crash reproduces.  `make fuzz-smoke` uses the
 * fixed seed; a longer campaign passes others.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leonardo.h"
#include "decode/module.h"
#include "decode/wat.h"

/* ---- deterministic randomness (xorshift64*) ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Uniform-enough in [0, n); n > 0. */
static size_t below(size_t n)
{
    return (size_t)(rnd() % n);
}

/* ---- the corpus ---- */

typedef struct {
    const char *text;   /* points into a file buffer */
    size_t text_len;
    uint8_t *bin;       /* wat_to_wasm's output, NULL if the text is rejected */
    size_t bin_len;
} Sample;

static Sample *samples;
static size_t nsamples, cap_samples;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "fuzz_smoke: out of memory\n");
        exit(2);
    }
    return p;
}

static void add_sample(const char *text, size_t len)
{
    if (nsamples == cap_samples) {
        cap_samples = cap_samples ? cap_samples * 2 : 1024;
        samples = realloc(samples, cap_samples * sizeof *samples);
        if (!samples) {
            fprintf(stderr, "fuzz_smoke: out of memory\n");
            exit(2);
        }
    }
    samples[nsamples++] = (Sample){.text = text, .text_len = len};
}

/*
 * Skip a string, a line comment or a block comment starting at s[i], if one
 * starts there; returns the index after it (or i if none starts there).
 */
static size_t skip_atom(const char *s, size_t n, size_t i)
{
    if (s[i] == '"') {
        for (i++; i < n && s[i] != '"'; i++)
            if (s[i] == '\\' && i + 1 < n)
                i++;
        return i < n ? i + 1 : n;
    }
    if (s[i] == ';' && i + 1 < n && s[i + 1] == ';') {
        while (i < n && s[i] != '\n')
            i++;
        return i;
    }
    if (s[i] == '(' && i + 1 < n && s[i + 1] == ';') {
        int depth = 0;
        while (i + 1 < n) {
            if (s[i] == '(' && s[i + 1] == ';') {
                depth++;
                i += 2;
            } else if (s[i] == ';' && s[i + 1] == ')') {
                i += 2;
                if (--depth == 0)
                    return i;
            } else {
                i++;
            }
        }
        return n;
    }
    return i;
}

/* Every `(module ...)` form of a script, at any depth, as text samples. */
static void collect_modules(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = skip_atom(s, n, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (s[i] == '(' && n - i > 8 && memcmp(s + i + 1, "module", 6) == 0 &&
            strchr(" \t\r\n()", s[i + 7])) {
            /* Find the matching parenthesis. */
            size_t k = i + 1;
            int depth = 1;
            while (k < n && depth > 0) {
                size_t a = skip_atom(s, n, k);
                if (a != k) {
                    k = a;
                    continue;
                }
                depth += s[k] == '(';
                depth -= s[k] == ')';
                k++;
            }
            if (depth == 0) {
                add_sample(s + i, k - i);
                i = k;
                continue;
            }
        }
        i++;
    }
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "fuzz_smoke: out of memory\n");
                exit(2);
            }
            buf = nb;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- feeding the front end ---- */

static unsigned long n_inputs, n_text, n_binary, n_decoded, n_valid;

static unsigned long n_instantiated, n_calls, n_yields, n_out_of_fuel;

/*
 * Valid modules run twice, side by side: instance A straight through, and
 * instance B (its own store) in fuel slices of 1 to 16 units, resumed after
 * every yield.  Both get the same hard fuel limit, so loops end, and the
 * same calls.  They must agree on everything a program can see: how each
 * call ends, its results bit for bit, its trap message, and the exported
 * memories and globals afterwards.  So every handler, fused ones included,
 * must stop at its check points and go on exactly, which the spec suite
 * checks only on the spec's own modules (--fuel-slice).
 */
#define RUN_FUEL 5000

static _Noreturn void diverged(const char *what, const char *export)
{
    fprintf(stderr, "fuzz_smoke: straight and sliced runs differ (%s) after export \"%s\"\n", what, export);
    abort();
}

static lw_status call_sliced(lw_exec *ex, lw_func *f, const lw_value *args, uint32_t n)
{
    lw_status st = lw_exec_call(ex, f, args, n);
    while (st == LW_YIELD) {
        n_yields++;
        st = lw_exec_resume(ex);
    }
    return st;
}

static bool same_value(const lw_value *a, const lw_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case LW_I32: case LW_F32: return a->of.i32 == b->of.i32;
    case LW_I64: case LW_F64: return a->of.i64 == b->of.i64;
    case LW_V128: return memcmp(a->of.v128, b->of.v128, 16) == 0;
    case LW_FUNCREF: return (a->of.func == NULL) == (b->of.func == NULL);   /* each instance has its own */
    default: return a->of.ext == b->of.ext;
    }
}

/* The exported memories and globals of the two instances, compared. */
static void compare_state(const Module *m, lw_instance *a, lw_instance *b, const char *after)
{
    for (uint32_t i = 0; i < m->nexports; i++) {
        const Export *e = &m->exports[i];
        lw_extern xa, xb;
        if (strlen(e->name) != e->name_len || !lw_instance_export(a, e->name, &xa) ||
            !lw_instance_export(b, e->name, &xb))
            continue;
        if (e->kind == EXT_MEMORY) {
            uint64_t na, nb;
            uint8_t *da = lw_memory_data(xa.of.memory, &na), *db = lw_memory_data(xb.of.memory, &nb);
            if (na != nb || (na && memcmp(da, db, na) != 0))
                diverged("memory", after);
        } else if (e->kind == EXT_GLOBAL) {
            lw_value ga = lw_global_get(xa.of.global), gb = lw_global_get(xb.of.global);
            if (!same_value(&ga, &gb))
                diverged("global", after);
        }
    }
}

/*
 * Modules with imports, or with large memories or tables, are skipped.
 * Each exported function is called with zero arguments.
 */
static void run_module(const Module *m, lw_module *lm)
{
    if (m->nimports)
        return;
    for (uint32_t i = 0; i < m->nmems; i++)
        if (m->mems[i].limits.min > 16)
            return;
    for (uint32_t i = 0; i < m->ntables; i++)
        if (m->tables[i].limits.min > 10000)
            return;
    lw_error err;
    lw_store *sa = lw_store_new(), *sb = lw_store_new();
    lw_exec *exa = lw_exec_new(sa, NULL), *exb = lw_exec_new(sb, NULL);
    lw_exec_set_fuel_limit(exa, RUN_FUEL);
    lw_exec_set_fuel_limit(exb, RUN_FUEL);
    lw_exec_set_fuel_slice(exb, 1 + (int64_t)below(16));
    lw_instance *a = lw_instantiate(sa, lm, exa, &err);
    lw_instance *b = lw_instantiate(sb, lm, exb, &err);
    if (!a != !b)
        diverged("instantiation", "(start)");
    if (a) {
        n_instantiated++;
        compare_state(m, a, b, "(start)");
        for (uint32_t i = 0; i < m->nexports; i++) {
            const Export *e = &m->exports[i];
            lw_extern fa, fb;
            if (e->kind != EXT_FUNC || strlen(e->name) != e->name_len ||
                !lw_instance_export(a, e->name, &fa) || !lw_instance_export(b, e->name, &fb))
                continue;
            const lw_valtype *params, *results;
            uint32_t np, nr;
            lw_func_type(fa.of.func, &params, &np, &results, &nr);
            lw_value args[16];
            if (np > 16 || nr > 16)
                continue;
            memset(args, 0, sizeof args);
            for (uint32_t k = 0; k < np; k++)
                args[k].type = (uint8_t)params[k];
            lw_exec_set_fuel_limit(exa, RUN_FUEL);
            lw_exec_set_fuel_limit(exb, RUN_FUEL);
            n_calls++;
            lw_status sta = lw_exec_call(exa, fa.of.func, args, np);
            lw_status stb = call_sliced(exb, fb.of.func, args, np);
            if (sta != stb)
                diverged("status", e->name);
            if (sta == LW_OK) {
                lw_value ra[16], rb[16];
                lw_exec_results(exa, ra, nr);
                lw_exec_results(exb, rb, nr);
                for (uint32_t k = 0; k < nr; k++)
                    if (!same_value(&ra[k], &rb[k]))
                        diverged("result", e->name);
            } else if (sta == LW_TRAP) {
                if (strcmp(lw_exec_trap_message(exa), lw_exec_trap_message(exb)) != 0)
                    diverged("trap message", e->name);
                n_out_of_fuel += strcmp(lw_exec_trap_message(exa), "out of fuel") == 0;
            }
            compare_state(m, a, b, e->name);
        }
    }
    lw_exec_free(exa);
    lw_exec_free(exb);
    lw_store_free(sa);
    lw_store_free(sb);
}

/*
 * Translate every function of a valid module, and disassemble it, where a
 * call reaches only what the exports call: the translator must take any
 * valid body, imports or not.  It runs after run_module, so that the calls
 * there still translate their functions lazily, on the way.  The text goes
 * nowhere; it is made to run the disassembler over every handler layout
 * the translator emits.
 */
static unsigned long n_translated;

static void translate_all(lw_module *lm)
{
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w"))) {
        perror("fuzz_smoke: /dev/null");
        exit(1);
    }
    n_translated += lw_module_disassemble(lm, NULL, sink);
}

/* Decode and validate one binary; what happens is fine as long as nothing crashes. */
static void feed_binary(const uint8_t *bytes, size_t len)
{
    WasmError err;
    n_inputs++;
    n_binary++;
    Module *m = module_decode(bytes, len, &err);
    if (!m)
        return;
    n_decoded++;
    if (module_validate(m, &err)) {
        n_valid++;
        lw_error lerr;
        lw_module *lm = lw_module_load(bytes, len, &lerr);
        if (lm) {
            run_module(m, lm);
            translate_all(lm);
            lw_module_free(lm);
        }
    }
    module_free(m);
}

/* Parse one text; a binary it produces goes on to the decoder.  The binary
   is returned (malloc'd) when `keep` is set, else freed. */
static uint8_t *feed_text(const char *text, size_t len, size_t *out_len, int keep)
{
    WasmError err;
    size_t blen = 0;
    n_inputs++;
    n_text++;
    /* wat_to_wasm gets an exact-length copy so ASan sees any read past the end. */
    char *copy = xmalloc(len);
    memcpy(copy, text, len);
    uint8_t *bin = wat_to_wasm(copy, len, "fuzz.wat", &blen, &err);
    free(copy);
    if (bin)
        feed_binary(bin, blen);
    if (bin && keep) {
        *out_len = blen;
        return bin;
    }
    free(bin);
    return NULL;
}

/* ---- mutations ---- */

/* Characters that matter to the text grammar, to make damage interesting. */
static const char text_chars[] = "()\"; $0x9.-_\\\n=:+pinfa";

/* A damaged copy of `src` (malloc'd, length in *out_len). */
static uint8_t *mutate(const uint8_t *src, size_t len, int is_text, size_t *out_len)
{
    uint8_t *b = xmalloc(len + 8);
    memcpy(b, src, len);
    size_t n = len;
    switch (below(6)) {
    case 0: /* truncate */
        n = below(len + 1);
        break;
    case 1: /* flip one to three bits */
        if (len == 0)
            break;
        for (int k = 1 + (int)below(3); k > 0; k--)
            b[below(len)] ^= (uint8_t)(1u << below(8));
        break;
    case 2: /* overwrite one byte with something significant */
        if (len == 0)
            break;
        if (is_text) {
            b[below(len)] = (uint8_t)text_chars[below(sizeof text_chars - 1)];
        } else {
            static const uint8_t vals[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x0b, 0x41};
            b[below(len)] = vals[below(sizeof vals)];
        }
        break;
    case 3: { /* delete a short range */
        if (len == 0)
            break;
        size_t at = below(len), k = 1 + below(16);
        if (k > len - at)
            k = len - at;
        memmove(b + at, b + at + k, len - at - k);
        n = len - k;
        break;
    }
    case 4: { /* insert up to 8 bytes */
        size_t at = below(len + 1), k = 1 + below(8);
        memmove(b + at + k, b + at, len - at);
        for (size_t i = 0; i < k; i++)
            b[at + i] = is_text ? (uint8_t)text_chars[below(sizeof text_chars - 1)]
                                : (uint8_t)(below(2) ? 0xff : rnd());
        n = len + k;
        break;
    }
    default: /* a huge LEB128 (or a run of digits) in place */
        if (len < 5)
            break;
        {
            size_t at = below(len - 4);
            for (int i = 0; i < 4; i++)
                b[at + i] = is_text ? '9' : 0xff;
            b[at + 4] = is_text ? '9' : 0x0f;
        }
        break;
    }
    *out_len = n;
    return b;
}

int main(int argc, char **argv)
{
    unsigned long target = argc > 1 ? strtoul(argv[1], NULL, 10) : 300000;
    if (argc > 2)
    {
        /* Mixed, not `| 1` (which made seeds 2k and 2k+1 the same run);
           xorshift needs a non-zero state. */
        rng_state = strtoull(argv[2], NULL, 0) ^ 0x9E3779B97F4A7C15ull;
        if (!rng_state)
            rng_state = 1;
    }
    const char *root = getenv("WASM_TESTSUITE");
    if (!root || !*root)
        root = "../shared/wasm-testsuite";
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s/2.0", root);

    DIR *d = opendir(dirpath);
    if (!d) {
        fprintf(stderr, "fuzz_smoke: cannot open %s (set WASM_TESTSUITE)\n", dirpath);
        return 1;
    }
    char **names = NULL;
    size_t nnames = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".wast") == 0) {
            char **nn = realloc(names, (nnames + 1) * sizeof *names);
            if (!nn)
                return 2;
            names = nn;
            names[nnames++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, nnames, sizeof *names, cmp_str);

    char **files = xmalloc(nnames * sizeof *files);
    for (size_t i = 0; i < nnames; i++) {
        char path[8192];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dirpath, names[i]);
        files[i] = read_all(path, &len);
        if (files[i])
            collect_modules(files[i], len);
    }
    if (nsamples == 0) {
        fprintf(stderr, "fuzz_smoke: no modules found under %s\n", dirpath);
        return 1;
    }

    /* Round 0: every module as it is; the binaries become the binary corpus. */
    size_t nparsed = 0;
    for (size_t i = 0; i < nsamples; i++) {
        samples[i].bin = feed_text(samples[i].text, samples[i].text_len, &samples[i].bin_len, 1);
        nparsed += samples[i].bin != NULL;
    }

    /* Then damaged copies, round after round, until the target is met. */
    unsigned rounds = 0;
    while (n_inputs < target) {
        rounds++;
        for (size_t i = 0; i < nsamples && n_inputs < target; i++) {
            Sample *s = &samples[i];
            size_t n;
            uint8_t *t = mutate((const uint8_t *)s->text, s->text_len, 1, &n);
            feed_text((const char *)t, n, NULL, 0);
            free(t);
            if (s->bin) {
                for (int k = 0; k < 3; k++) {
                    uint8_t *b = mutate(s->bin, s->bin_len, 0, &n);
                    feed_binary(b, n);
                    free(b);
                }
            }
        }
    }

    printf("fuzz-smoke: %lu inputs (%lu texts, %lu binaries; %lu decoded, %lu valid, %lu functions translated, "
           "%lu instantiated, %lu calls run twice (%lu out of fuel), %lu yields) from %zu modules (%zu parse) in %zu files, "
           "%u rounds: no crash\n",
           n_inputs, n_text, n_binary, n_decoded, n_valid, n_translated, n_instantiated, n_calls, n_out_of_fuel, n_yields, nsamples,
           nparsed, nnames, rounds);

    for (size_t i = 0; i < nsamples; i++)
        free(samples[i].bin);
    free(samples);
    for (size_t i = 0; i < nnames; i++) {
        free(files[i]);
        free(names[i]);
    }
    free(files);
    free(names);
    return 0;
}
