/* A minimal stand-in for the check library, for tests cross-built for AArch64
   (make check-aarch64), where no AArch64 build of libcheck exists: runs every
   test in-process, counts failures by longjmp out of a failing test. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
typedef void (*TFun)(void);
typedef struct { const char *name; TFun f; } TTest;
typedef struct TCase { const char *name; const TTest *t[64]; int n; } TCase;
typedef struct Suite { const char *name; TCase *c[8]; int n; } Suite;
typedef struct SRunner { Suite *s; int failed, run; } SRunner;
static jmp_buf ck_jb;
static const char *ck_cur;
#define START_TEST(name) static void name##_fn(void); static const TTest name##_t = { #name, name##_fn }; \
    static const TTest *name = &name##_t; static void name##_fn(void) {
#define END_TEST }
#define ck_abort_msg(...) do { printf("FAIL %s:%d (%s): ", __FILE__, __LINE__, ck_cur); printf(__VA_ARGS__); printf("\n"); longjmp(ck_jb, 1); } while (0)
#define ck_assert_msg(c, ...) do { if (!(c)) ck_abort_msg(__VA_ARGS__); } while (0)
#define ck_assert(c) ck_assert_msg((c), "%s", #c)
#define ck_assert_uint_eq(a, b) do { unsigned long long a_ = (a), b_ = (b); ck_assert_msg(a_ == b_, "%s == %s: %llx vs %llx", #a, #b, a_, b_); } while (0)
#define ck_assert_uint_lt(a, b) do { unsigned long long a_ = (a), b_ = (b); ck_assert_msg(a_ < b_, "%s < %s", #a, #b); } while (0)
#define ck_assert_int_eq(a, b) do { long long a_ = (a), b_ = (b); ck_assert_msg(a_ == b_, "%s == %s: %lld vs %lld", #a, #b, a_, b_); } while (0)
#define ck_assert_str_eq(a, b) do { const char *a_ = (a), *b_ = (b); ck_assert_msg(strcmp(a_, b_) == 0, "%s vs %s", a_, b_); } while (0)
#define ck_assert_ptr_nonnull(p) ck_assert_msg((p) != NULL, "%s is NULL", #p)
#define tcase_set_timeout(c, t) ((void)(c), (void)(t))
#define CK_NORMAL 0
static Suite *suite_create(const char *n) { Suite *s = calloc(1, sizeof *s); s->name = n; return s; }
static TCase *tcase_create(const char *n) { TCase *c = calloc(1, sizeof *c); c->name = n; return c; }
static void tcase_add_test(TCase *c, const TTest *t) { c->t[c->n++] = t; }
static void suite_add_tcase(Suite *s, TCase *c) { s->c[s->n++] = c; }
static SRunner *srunner_create(Suite *s) { SRunner *r = calloc(1, sizeof *r); r->s = s; return r; }
static void srunner_run_all(SRunner *r, int mode) { (void)mode;
    for (volatile int i = 0; i < r->s->n; i++) for (volatile int j = 0; j < r->s->c[i]->n; j++) {
        const TTest *t = r->s->c[i]->t[j]; ck_cur = t->name; r->run++;
        if (setjmp(ck_jb) == 0) t->f(); else r->failed++; }
    printf("%d tests, %d failed\n", r->run, r->failed); }
static int srunner_ntests_failed(SRunner *r) { return r->failed; }
static void srunner_free(SRunner *r) { (void)r; }
