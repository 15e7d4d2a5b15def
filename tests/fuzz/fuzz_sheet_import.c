/* fuzz_sheet_import.c — `qts import sheets DIR` up to the store write: the
 * sheet CSV exports read, parsed and validated (qts_sheet_import_load).
 * The input is the folder's files in import order, separated by a form
 * feed (\f): History, Position, T_Ledger, Strategy, Config_Local,
 * Config_Scalp, Config_Swing; an empty part leaves that file out. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fuzz_util.h"
#include "sheet_import.h"

static const char *const files[] = {"History.csv",     "Position.csv",     "T_Ledger.csv",
                                    "Strategy.csv",    "Config_Local.csv", "Config_Scalp.csv",
                                    "Config_Swing.csv"};
#define N_FILES (sizeof files / sizeof files[0])

static char dir[64];

static void put(size_t k, const uint8_t *p, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, files[k]);
    if (n == 0) {
        unlink(path);
        return;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    if (write(fd, p, n) != (ssize_t)n)
        abort();
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        /* one private folder per process, in memory when /dev/shm exists */
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof dir, "%s/qts-fuzz-sheets-%d", base, (int)getpid());
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            abort();
    }
    const uint8_t *p = data, *end = data + size;
    for (size_t k = 0; k < N_FILES; k++) {
        const uint8_t *ff = p < end ? memchr(p, '\f', (size_t)(end - p)) : NULL;
        size_t n = p < end ? (ff ? (size_t)(ff - p) : (size_t)(end - p)) : 0;
        put(k, p, n);
        p = ff ? ff + 1 : end;
    }
    struct qts_sheet_import imp;
    qts_sheet_import_load(dir, NULL, 1700000000000000000LL, &imp);
    qts_sheet_import_free(&imp);
    return 0;
}
