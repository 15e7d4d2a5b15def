/* fuzz_md_binary.c — the binary event file reader (QTSEVT01) on arbitrary
 * file contents: header, instrument records, events, lengths. */
#include "fuzz_util.h"
#include "md_binfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    struct qts_md_file f;
    if (qts_md_file_open(&f, path, NULL) == 0) {
        struct qts_md_binreader r;
        qts_md_binreader_init(&r, &syms);
        union qts_md_event ev;
        /* as the source does: go on past a skipped record, stop at the end
         * or on a damaged file; bounded so a reader bug cannot hang a run */
        for (int i = 0; i < 100000; i++) {
            struct qts_err err = {0};
            int rc = qts_md_binreader_next(&r, &f, &ev, &err);
            if (rc == 0 || rc == QTS_EIO)
                break;
        }
        qts_md_binreader_cleanup(&r);
        qts_md_file_close(&f);
    }
    qts_md_symtab_cleanup(&syms);
    close(fd);
    return 0;
}
