/*
 * Files: create, write, read, pread/pwrite, seek and tell, O_APPEND,
 * truncate, stat/fstat, sync.  Works in the preopened directory (relative
 * paths resolve against it).  Times are times.c's.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static void print_file(const char *path)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf);
    CHECK(n >= 0);
    printf("%s (%zd bytes): [", path, n);
    for (ssize_t i = 0; i < n; i++)
        putchar(buf[i] ? buf[i] : '0');   /* zeros show as '0' */
    printf("]\n");
    close(fd);
}

int main(void)
{
    /* Create, and again exclusively: EEXIST. */
    int fd = open("data.txt", O_CREAT | O_EXCL | O_RDWR, 0644);
    show("create data.txt", fd);
    show("create data.txt again O_EXCL", open("data.txt", O_CREAT | O_EXCL | O_RDWR, 0644));

    CHECK(write(fd, "hello, world\n", 13) == 13);
    printf("tell after write: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    CHECK(write(fd, "second line\n", 12) == 12);

    /* Seeks from each origin, and what a read then sees. */
    char buf[64];
    printf("seek set 7: %lld\n", (long long)lseek(fd, 7, SEEK_SET));
    ssize_t n = read(fd, buf, 5);
    printf("read 5: [%.*s]\n", (int)n, buf);
    printf("seek cur -3: %lld\n", (long long)lseek(fd, -3, SEEK_CUR));
    n = read(fd, buf, 4);
    printf("read 4: [%.*s]\n", (int)n, buf);
    printf("seek end -5: %lld\n", (long long)lseek(fd, -5, SEEK_END));
    n = read(fd, buf, sizeof buf);
    printf("read rest: %zd [%.*s]\n", n, (int)n - 1, buf);
    printf("read at eof: %zd\n", read(fd, buf, sizeof buf));
    show("seek to -1", lseek(fd, -1, SEEK_SET));
    /* Seeking past the end is allowed; a write there leaves a hole of zeros. */
    printf("seek end +3: %lld\n", (long long)lseek(fd, 3, SEEK_END));
    CHECK(write(fd, "!", 1) == 1);

    /* pread/pwrite do not move the position. */
    off_t before = lseek(fd, 2, SEEK_SET);
    n = pread(fd, buf, 5, 13);
    printf("pread 5 at 13: [%.*s]\n", (int)n, buf);
    CHECK(pwrite(fd, "WORLD", 5, 7) == 5);
    printf("position after pread/pwrite: %lld (was %lld)\n", (long long)lseek(fd, 0, SEEK_CUR),
           (long long)before);
    n = pread(fd, buf, sizeof buf, 100);
    printf("pread past the end: %zd\n", n);

    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    printf("fstat: size %lld regular %d dir %d\n", (long long)st.st_size, S_ISREG(st.st_mode),
           S_ISDIR(st.st_mode));
    close(fd);
    print_file("data.txt");

    /* Truncate: shorter, then longer (the new bytes are zeros). */
    fd = open("data.txt", O_RDWR);
    CHECK(ftruncate(fd, 5) == 0);
    CHECK(fstat(fd, &st) == 0);
    printf("after ftruncate 5: size %lld\n", (long long)st.st_size);
    CHECK(ftruncate(fd, 8) == 0);
    CHECK(stat("data.txt", &st) == 0);
    printf("after ftruncate 8: size %lld\n", (long long)st.st_size);
    close(fd);
    print_file("data.txt");
    CHECK(truncate("data.txt", 3) == 0);
    print_file("data.txt");

    /* O_TRUNC empties; O_APPEND writes at the end whatever the position. */
    fd = open("data.txt", O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0);
    CHECK(write(fd, "abc", 3) == 3);
    close(fd);
    fd = open("data.txt", O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    printf("append flag: %d\n", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    lseek(fd, 0, SEEK_SET);
    CHECK(write(fd, "def", 3) == 3);
    close(fd);
    print_file("data.txt");

    /* fopen/fprintf/fgets, a file larger than stdio's buffers. */
    FILE *f = fopen("big.txt", "w");
    CHECK(f != NULL);
    for (int i = 0; i < 5000; i++)
        fprintf(f, "line %d\n", i);
    CHECK(fclose(f) == 0);
    f = fopen("big.txt", "r");
    CHECK(f != NULL);
    int lines = 0, last = -1;
    char line[64];
    while (fgets(line, sizeof line, f)) {
        lines++;
        last = atoi(line + 5);
    }
    fclose(f);
    CHECK(stat("big.txt", &st) == 0);
    printf("big.txt: %d lines, last %d, size %lld\n", lines, last, (long long)st.st_size);

    /* fsync, fdatasync and fadvise succeed on a regular file. */
    fd = open("big.txt", O_RDWR);
    show("fsync", fsync(fd));
    show("fdatasync", fdatasync(fd));
    printf("posix_fadvise: %s\n", errname(posix_fadvise(fd, 0, 100, POSIX_FADV_SEQUENTIAL)));
    close(fd);

    /* posix_fallocate (fd_allocate) grows a file, never shrinks it. */
    fd = open("alloc.bin", O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0 && write(fd, "xy", 2) == 2);
    printf("posix_fallocate 0+100: %s\n", errname(posix_fallocate(fd, 0, 100)));
    CHECK(fstat(fd, &st) == 0);
    printf("size after fallocate: %lld\n", (long long)st.st_size);
    printf("posix_fallocate 0+10: %s\n", errname(posix_fallocate(fd, 0, 10)));
    CHECK(fstat(fd, &st) == 0);
    printf("size after a smaller fallocate: %lld\n", (long long)st.st_size);

    /* fcntl F_SETFL O_APPEND (fd_fdstat_set_flags): later writes append. */
    lseek(fd, 0, SEEK_SET);
    show("fcntl F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
    /* (F_GETFL is not printed: node's WASI does not report the flag set.) */
    CHECK(write(fd, "END", 3) == 3);
    CHECK(fstat(fd, &st) == 0);
    printf("size after an appended write: %lld\n", (long long)st.st_size);

    /* fd_renumber: the file moves to the other number, which is closed first;
       the old number is then free. */
    int other = open("data.txt", O_RDONLY);
    CHECK(other >= 0);
    printf("fd_renumber: %s\n", errname(__wasi_fd_renumber((__wasi_fd_t)fd, (__wasi_fd_t)other)));
    printf("fstat of the old number: %s\n", fstat(fd, &st) < 0 ? errname(errno) : "ok");
    CHECK(fstat(other, &st) == 0);
    printf("the new number is alloc.bin: size %lld\n", (long long)st.st_size);
    close(other);
    CHECK(unlink("alloc.bin") == 0);

    /* A name in UTF-8, with spaces: made, listed and removed as it is. */
    static const char utf8[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93.txt";
    fd = open(utf8, O_CREAT | O_WRONLY, 0644);
    show("create a UTF-8 name", fd);
    close(fd);
    DIR *d = opendir(".");
    CHECK(d != NULL);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL)
        found += strcmp(e->d_name, utf8) == 0;
    closedir(d);
    printf("listed: %d [%s]\n", found, utf8);
    show("unlink the UTF-8 name", unlink(utf8));

    /* stat of the directory itself, and of a missing file. */
    CHECK(stat(".", &st) == 0);
    printf("stat .: dir %d\n", S_ISDIR(st.st_mode));
    show("stat missing", stat("missing", &st));

    CHECK(unlink("big.txt") == 0);
    printf("checks failed: %d\n", check_failures);
    return check_failures ? 1 : 0;
}
