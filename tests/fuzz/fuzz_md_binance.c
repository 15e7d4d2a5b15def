/* fuzz_md_binance.c — the Binance capture decoder (`<recv ns> <JSON>` lines)
 * on arbitrary input, line by line as the market-data source feeds it. */
#include "fuzz_util.h"
#include "md_binance.h"

static void one_line(void *arg, const char *line, size_t n)
{
    union qts_md_event ev;
    struct qts_err err = {0};
    qts_md_binance_decode(arg, line, n, &ev, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    qts_md_symtab_configure(&syms, "BTCUSDT:2:8,ETHUSDT:2:8", NULL);
    struct qts_md_binance d;
    qts_md_binance_init(&d, &syms);
    fuzz_each_line(data, size, one_line, &d);
    qts_md_binance_cleanup(&d);
    qts_md_symtab_cleanup(&syms);
    return 0;
}
