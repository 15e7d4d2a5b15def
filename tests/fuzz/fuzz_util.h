/* fuzz_util.h — helpers shared by the libFuzzer harnesses: input split into
 * lines, and input handed to file-reading code through an in-memory file. */
#ifndef QTS_FUZZ_UTIL_H
#define QTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Calls fn(arg, line, n) for each '\n'-separated line of data (without the
 * '\n'; lines borrowed, not NUL-terminated), as the file readers hand them. */
static inline void fuzz_each_line(const uint8_t *data, size_t size,
                                  void (*fn)(void *arg, const char *line, size_t n), void *arg)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        /* each line in its own exact-size allocation, so ASan sees a read
         * one past the end of the line */
        char *copy = malloc(n ? n : 1);
        if (!copy)
            abort();
        memcpy(copy, p, n);
        fn(arg, copy, n);
        free(copy);
        p += n + 1;
    }
}

/* The data as a file (memfd); writes its path into path (cap bytes) and
 * returns the fd to close after use, or -1. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t k = write(fd, data + off, size - off);
        if (k <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)k;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

/* A NUL-terminated copy of the data (exact size + 1), owned by the caller. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
