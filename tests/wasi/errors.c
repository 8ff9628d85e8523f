/*
 * errno values: each failing call prints the WASI name of its error.
 * ENOENT, EEXIST, ENOTDIR, EISDIR, EBADF (closed and never-opened fds),
 * ESPIPE (seeking a pipe: stdin is one here), EINVAL, ENAMETOOLONG, and
 * rights: writing an fd opened read-only.  Where POSIX and WASI allow two
 * answers (EBADF or ENOTCAPABLE for a missing right) it prints "refused".
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
    struct stat st;
    char buf[16];

    CHECK(mkdir("dir", 0755) == 0);
    int fd = open("file", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && write(fd, "contents", 8) == 8);
    close(fd);

    /* ENOENT */
    show("open missing", open("missing", O_RDONLY));
    show("open missing/x", open("missing/x", O_RDONLY));
    show("stat missing", stat("missing", &st));
    show("unlink missing", unlink("missing"));
    show("open dir/missing O_CREAT under a missing dir", open("nodir/new", O_CREAT | O_WRONLY, 0644));

    /* EEXIST */
    show("open file O_CREAT|O_EXCL", open("file", O_CREAT | O_EXCL | O_WRONLY, 0644));
    show("open dir O_CREAT|O_EXCL", open("dir", O_CREAT | O_EXCL | O_WRONLY, 0644));
    show("mkdir file", mkdir("file", 0755));
    show("mkdir dir", mkdir("dir", 0755));

    /* ENOTDIR */
    show("open file/x", open("file/x", O_RDONLY));
    show("stat file/x", stat("file/x", &st));
    show("mkdir file/x", mkdir("file/x", 0755));
    show("open file O_DIRECTORY", open("file", O_RDONLY | O_DIRECTORY));
    show("rmdir file", rmdir("file"));

    /* EISDIR */
    show("open dir O_WRONLY", open("dir", O_WRONLY));
    show("open dir O_RDWR", open("dir", O_RDWR));
    show("unlink dir", unlink("dir"));
    fd = open("dir", O_RDONLY | O_DIRECTORY);
    show("open dir O_DIRECTORY", fd);
    ssize_t rd = read(fd, buf, sizeof buf);
    printf("read a directory fd: %zd (%s)\n", rd, rd < 0 && (errno == EISDIR || errno == EBADF || errno == ENOTCAPABLE)
                                                        ? "refused" : errname(errno));
    close(fd);

    /* EBADF: a closed fd, a never-opened one, a negative one. */
    fd = open("file", O_RDONLY);
    CHECK(fd >= 0);
    show("close", close(fd));
    show("read closed fd", read(fd, buf, sizeof buf));
    show("write closed fd", write(fd, "x", 1));
    show("close closed fd", close(fd));
    show("fstat closed fd", fstat(fd, &st));
    show("lseek closed fd", lseek(fd, 0, SEEK_SET));
    show("read fd 1000", read(1000, buf, sizeof buf));
    show("fstat fd 1000", fstat(1000, &st));
    printf("raw fd_close 1000: %s\n", errname(__wasi_fd_close(1000)));
    printf("raw fd_renumber 1000 -> 20: %s\n", errname(__wasi_fd_renumber(1000, 20)));

    /* ESPIPE: stdin is a pipe. */
    show("lseek stdin", lseek(0, 0, SEEK_CUR));
    show("pread stdin", pread(0, buf, 1, 0));

    /* EINVAL */
    fd = open("file", O_RDONLY);
    show("lseek whence 7", lseek(fd, 0, 7));
    show("lseek to -1", lseek(fd, -1, SEEK_SET));
    __wasi_filesize_t pos;
    printf("raw fd_seek whence 3: %s\n", errname(__wasi_fd_seek((__wasi_fd_t)fd, 0, 3, &pos)));

    /* Rights: a read-only fd refuses a write (which errno is the runtime's
       own: WASI has no write right there, so ENOTCAPABLE or EBADF). */
    ssize_t w = write(fd, "x", 1);
    printf("write to O_RDONLY fd: %zd (%s)\n", w, w < 0 && (errno == ENOTCAPABLE || errno == EBADF)
                                                      ? "refused" : errname(errno));
    close(fd);
    fd = open("file", O_WRONLY);
    ssize_t r = read(fd, buf, sizeof buf);
    printf("read from O_WRONLY fd: %zd (%s)\n", r, r < 0 && (errno == ENOTCAPABLE || errno == EBADF)
                                                      ? "refused" : errname(errno));
    show("ftruncate of a writable fd", ftruncate(fd, 4));
    close(fd);
    CHECK(stat("file", &st) == 0);
    printf("file size now %lld\n", (long long)st.st_size);

    /* Rename and link into a missing directory, and of a name ending in /. */
    show("rename file into missing dir", rename("file", "nodir/file"));
    show("link file into missing dir", link("file", "nodir/file"));
    show("rename dir into itself", rename("dir", "dir/sub"));

    /* ENAMETOOLONG: a 300-byte component (Linux's limit is 255). */
    char longname[301];
    memset(longname, 'n', 300);
    longname[300] = 0;
    show("open 300-byte name", open(longname, O_CREAT | O_WRONLY, 0644));

    /* A path longer than PATH_MAX (4096), of short components. */
    char longpath[5000];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    for (size_t i = 100; i < sizeof longpath - 1; i += 100)
        longpath[i] = '/';
    show("stat a 5000-byte path", stat(longpath, &st));

    /* stdin is for reading: a write to it fails (EBADF: no right to write). */
    ssize_t w0 = write(0, "x", 1);
    printf("write to stdin: %zd (%s)\n", w0, w0 < 0 && (errno == ENOTCAPABLE || errno == EBADF) ? "refused"
                                                                                        : errname(errno));

    printf("checks failed: %d\n", check_failures);
    return check_failures ? 1 : 0;
}
