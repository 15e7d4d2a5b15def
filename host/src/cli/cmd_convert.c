/* cmd_convert.c — `qts convert IN OUT`: any supported market-data file to the
 * qts binary event format, streamed (constant memory). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "md_binfile.h"
#include "md_source.h"

static const char USAGE[] =
    "usage: qts convert IN OUT [--format auto|binance|csv-trades|csv-quotes|csv-bars|binary]\n"
    "                          [--symbol SYM] [--symbols SYM:px_exp:qty_exp,...]\n"
    "                          [--bar-period SECONDS] [--default-exp PX:QTY]\n"
    "\n"
    "Converts a market-data file (plain or gzip) to the qts binary event format\n"
    "(docs/market-data.md) for fast repeated replays. --format defaults to auto\n"
    "(binary and Binance captures are recognised, CSV by its header's columns).\n"
    "--bar-period defaults to 86400 when the times are dates alone, else 60.\n"
    "--symbol names the instrument of a CSV file without a symbol column.\n"
    "--symbols sets per-symbol price/quantity decimals (default 8:8).\n"
    "Malformed records are reported with file and line and skipped.\n";

static int run_convert(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *symbols = NULL, *defexp = NULL;
    struct qts_md_source_opts o = {.format = QTS_MD_FMT_AUTO};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--format") == 0 && has_val) {
            o.format = qts_md_format_parse(argv[++i]);
            if (o.format < 0) {
                fprintf(stderr, "qts convert: unknown format '%s'\n%s", argv[i], USAGE);
                return QTS_EXIT_USAGE;
            }
        } else if (strcmp(a, "--symbol") == 0 && has_val) {
            o.symbol = argv[++i];
        } else if (strcmp(a, "--symbols") == 0 && has_val) {
            symbols = argv[++i];
        } else if (strcmp(a, "--default-exp") == 0 && has_val) {
            defexp = argv[++i];
        } else if (strcmp(a, "--bar-period") == 0 && has_val) {
            char *e;
            long s = strtol(argv[++i], &e, 10);
            if (*e || s <= 0) {
                fprintf(stderr, "qts convert: bad --bar-period '%s'\n", argv[i]);
                return QTS_EXIT_USAGE;
            }
            o.bar_period_ns = (int64_t)s * 1000000000LL;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "qts convert: unknown option '%s'\n%s", a, USAGE);
            return QTS_EXIT_USAGE;
        } else if (!in) {
            in = a;
        } else if (!out) {
            out = a;
        } else {
            fprintf(stderr, "%s", USAGE);
            return QTS_EXIT_USAGE;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "%s", USAGE);
        return QTS_EXIT_USAGE;
    }
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    struct qts_err err;
    if (defexp) {
        unsigned px, qty;
        if (sscanf(defexp, "%u:%u", &px, &qty) != 2 || px > QTS_MAX_EXP || qty > QTS_MAX_EXP) {
            fprintf(stderr, "qts convert: bad --default-exp '%s' (want PX:QTY)\n", defexp);
            qts_md_symtab_cleanup(&syms);
            return QTS_EXIT_USAGE;
        }
        syms.def_px_exp = (uint8_t)px;
        syms.def_qty_exp = (uint8_t)qty;
    }
    if (symbols && qts_md_symtab_configure(&syms, symbols, &err) < 0) {
        fprintf(stderr, "qts convert: %s\n", err.msg);
        qts_md_symtab_cleanup(&syms);
        return QTS_EXIT_USAGE;
    }
    struct qts_md_source src;
    if (qts_md_source_open(&src, in, &o, &syms, &err) < 0) {
        fprintf(stderr, "qts convert: %s\n", err.msg);
        qts_md_symtab_cleanup(&syms);
        return QTS_EXIT_FAILURE;
    }
    if (src.format == QTS_MD_FMT_BINANCE) { /* not yet used: take the venue */
        strcpy(syms.def_venue, "binance");
        for (size_t i = 0; i < syms.n; i++)
            strcpy(syms.v[i]->venue, "binance");
    }
    struct qts_md_binwriter w;
    if (qts_md_binwriter_open(&w, out, &err) < 0) {
        fprintf(stderr, "qts convert: %s\n", err.msg);
        qts_md_source_close(&src);
        qts_md_symtab_cleanup(&syms);
        return QTS_EXIT_FAILURE;
    }
    int status = QTS_EXIT_OK;
    union qts_md_event ev;
    int rc;
    uint64_t reported = 0;
    while ((rc = qts_md_source_next(&src, &ev, &err)) != 0) {
        if (rc < 0) {
            if (reported++ < 50)
                fprintf(stderr, "qts convert: skipped: %s\n", err.msg);
            continue;
        }
        /* with no define callback, ids are symtab indexes */
        if (qts_md_binwriter_write(&w, syms.v[ev.h.instrument], &ev, &err) < 0) {
            fprintf(stderr, "qts convert: %s: %s\n", out, err.msg);
            status = QTS_EXIT_FAILURE;
            break;
        }
    }
    uint64_t n = w.n_events;
    if (qts_md_binwriter_close(&w, &err) < 0) {
        fprintf(stderr, "qts convert: %s: %s\n", out, err.msg);
        status = QTS_EXIT_FAILURE;
    }
    if (src.failed) { /* the events before the damage are in OUT */
        fprintf(stderr, "qts convert: %s is damaged: OUT holds the events before the damage\n", in);
        status = QTS_EXIT_FAILURE;
    }
    fprintf(stderr, "qts convert: %s -> %s: format=%s events=%llu malformed=%llu\n", in, out,
            qts_md_format_name(src.format), (unsigned long long)n,
            (unsigned long long)src.n_malformed);
    qts_md_source_close(&src);
    qts_md_symtab_cleanup(&syms);
    return status;
}

QTS_COMMAND(qts_cmd_convert, "convert", "convert market data to the qts binary event format", USAGE,
            run_convert);
