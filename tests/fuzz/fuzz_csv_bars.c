/* fuzz_csv_bars.c — the CSV bar decoder (header, then OHLCV rows) on
 * arbitrary input, line by line as the market-data source feeds it. */
#include "fuzz_util.h"
#include "md_csv.h"

static void one_line(void *arg, const char *line, size_t n)
{
    union qts_md_event ev;
    struct qts_err err = {0};
    qts_md_csv_decode(arg, line, n, &ev, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    qts_md_symtab_configure(&syms, "GOOG:6:4", NULL);
    struct qts_md_csv c;
    if (qts_md_csv_init(&c, QTS_MD_CSV_BARS, &syms, "GOOG", 60LL * 1000000000LL, NULL) == 0)
        fuzz_each_line(data, size, one_line, &c);
    qts_md_symtab_cleanup(&syms);
    return 0;
}
