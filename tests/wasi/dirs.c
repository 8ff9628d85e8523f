/*
 * Directories: mkdir (nested, and again: EEXIST), a listing of 150 entries
 * (more than one fd_readdir buffer, so the cookies must resume exactly),
 * telldir/seekdir and rewinddir, the raw fd_readdir in buffers that cut
 * entries off, d_type, and rmdir of a full directory (ENOTEMPTY), then of
 * the emptied one.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

enum { N = 150 };

/* Long names, so that 150 entries need several fd_readdir buffers. */
static void name_of(int i, char *out, size_t size)
{
    snprintf(out, size, "entry_with_a_rather_long_name_%03d", i);
}

/* Which of the N names a directory entry is, or -1. */
static int index_of(const char *name)
{
    const char *prefix = "entry_with_a_rather_long_name_";
    size_t len = strlen(prefix);
    if (strncmp(name, prefix, len) != 0 || strlen(name) != len + 3)
        return -1;
    int i = atoi(name + len);
    return i >= 0 && i < N ? i : -1;
}

/* Read the rest of a directory; count each of the N names; return the
   number of entries other than . and .. (including unknown ones). */
static int read_all(DIR *d, int seen[N], int *unknown)
{
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        count++;
        int i = index_of(e->d_name);
        if (i < 0)
            (*unknown)++;
        else
            seen[i]++;
    }
    return count;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    show("mkdir d", mkdir("d", 0755));
    show("mkdir d again", mkdir("d", 0755));
    show("mkdir a", mkdir("a", 0755));
    show("mkdir a/b", mkdir("a/b", 0755));
    show("mkdir a/b/c", mkdir("a/b/c", 0755));
    show("mkdir x/y (no x)", mkdir("x/y", 0755));

    char name[64], path[80];
    for (int i = 0; i < N; i++) {
        name_of(i, name, sizeof name);
        snprintf(path, sizeof path, "d/%s", name);
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        CHECK(fd >= 0);
        close(fd);
    }

    /* Every name exactly once. */
    int seen[N] = {0}, unknown = 0;
    DIR *d = opendir("d");
    CHECK(d != NULL);
    int count = read_all(d, seen, &unknown);
    int once = 0;
    for (int i = 0; i < N; i++)
        once += seen[i] == 1;
    printf("listing: %d entries, %d names seen exactly once, %d unknown\n", count, once, unknown);

    /* rewinddir: the same again. */
    rewinddir(d);
    memset(seen, 0, sizeof seen);
    unknown = 0;
    count = read_all(d, seen, &unknown);
    once = 0;
    for (int i = 0; i < N; i++)
        once += seen[i] == 1;
    printf("after rewinddir: %d entries, %d names seen exactly once, %d unknown\n", count, once, unknown);

    /* telldir/seekdir, deep into the listing (past the first buffer):
       after seekdir the same entries come again, in the same order. */
    rewinddir(d);
    struct dirent *e;
    for (int i = 0; i < 120; i++)
        CHECK(readdir(d) != NULL);
    long pos = telldir(d);
    char first[10][64];
    for (int i = 0; i < 10; i++) {
        e = readdir(d);
        CHECK(e != NULL);
        snprintf(first[i], sizeof first[i], "%s", e ? e->d_name : "");
    }
    for (int i = 0; i < 15; i++)
        readdir(d);
    seekdir(d, pos);
    int same = 0;
    for (int i = 0; i < 10; i++) {
        e = readdir(d);
        same += e != NULL && strcmp(e->d_name, first[i]) == 0;
    }
    printf("seekdir: %d of 10 entries the same\n", same);
    closedir(d);

    /* The raw fd_readdir with small buffers, resuming from the cookie of
       the last whole entry each time: a buffer that ends inside an entry
       is full (bufused == buf_len), and the entry comes whole next time. */
    static const uint32_t sizes[] = {64, 100, 250, 1000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int fd = open("d", O_RDONLY | O_DIRECTORY);
        CHECK(fd >= 0);
        memset(seen, 0, sizeof seen);
        unknown = 0;
        uint8_t buf[1000];
        __wasi_dircookie_t cookie = 0;
        int calls = 0, entries = 0, full = 1;
        while (full && calls < 10000) {
            __wasi_size_t used = 0;
            int e = __wasi_fd_readdir((__wasi_fd_t)fd, buf, sizes[k], cookie, &used);
            if (e) {
                printf("fd_readdir: %s\n", errname(e));
                break;
            }
            calls++;
            full = used == sizes[k];
            size_t off = 0;
            while (off + sizeof(__wasi_dirent_t) <= used) {
                __wasi_dirent_t d;
                memcpy(&d, buf + off, sizeof d);
                if (off + sizeof d + d.d_namlen > used)
                    break;   /* cut off: comes again from this cookie */
                char nm[64];
                snprintf(nm, sizeof nm, "%.*s", (int)d.d_namlen, (const char *)buf + off + sizeof d);
                if (strcmp(nm, ".") && strcmp(nm, "..")) {
                    int i = index_of(nm);
                    if (i < 0)
                        unknown++;
                    else
                        seen[i]++;
                    entries++;
                }
                cookie = d.d_next;
                off += sizeof d + d.d_namlen;
            }
        }
        close(fd);
        once = 0;
        for (int i = 0; i < N; i++)
            once += seen[i] == 1;
        printf("fd_readdir in %u-byte buffers: %d entries, %d names exactly once, %d unknown\n",
               (unsigned)sizes[k], entries, once, unknown);
    }

    /* d_type, and a sorted listing of a small directory. */
    CHECK(close(open("a/file", O_CREAT | O_WRONLY, 0644)) == 0);
    CHECK(symlink("file", "a/link") == 0);
    d = opendir("a");
    CHECK(d != NULL);
    char *names[8];
    int n = 0;
    while ((e = readdir(d)) != NULL && n < 8) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        const char *type = e->d_type == DT_DIR ? "dir" : e->d_type == DT_REG ? "file"
                         : e->d_type == DT_LNK ? "symlink" : "other";
        char *s = malloc(80);
        snprintf(s, 80, "%s (%s)", e->d_name, type);
        names[n++] = s;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    for (int i = 0; i < n; i++) {
        printf("a/%s\n", names[i]);
        free(names[i]);
    }

    /* An empty directory lists nothing but . and .. (if it lists those). */
    d = opendir("a/b/c");
    CHECK(d != NULL);
    memset(seen, 0, sizeof seen);
    unknown = 0;
    printf("a/b/c: %d entries\n", read_all(d, seen, &unknown));
    closedir(d);
    show("opendir a/file", opendir("a/file") ? 0 : -1);
    show("opendir missing", opendir("missing") ? 0 : -1);

    /* rmdir: not while full; not a file; then emptied. */
    show("rmdir d (full)", rmdir("d"));
    show("rmdir a/file", rmdir("a/file"));
    show("rmdir a/b (has c)", rmdir("a/b"));
    for (int i = 0; i < N; i++) {
        name_of(i, name, sizeof name);
        snprintf(path, sizeof path, "d/%s", name);
        CHECK(unlink(path) == 0);
    }
    show("rmdir d (emptied)", rmdir("d"));
    struct stat st;
    show("stat d", stat("d", &st));
    show("rmdir a/b/c", rmdir("a/b/c"));
    show("rmdir a/b", rmdir("a/b"));
    show("rmdir missing", rmdir("missing"));

    /* What is left at the top, sorted. */
    d = opendir(".");
    CHECK(d != NULL);
    n = 0;
    while ((e = readdir(d)) != NULL && n < 8) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    printf("left:");
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    printf("checks failed: %d\n", check_failures);
    return check_failures ? 1 : 0;
}
