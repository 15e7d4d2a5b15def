/* test_md_binance.c — the Binance decoder and the book against real captures:
 * every bookTicker whose update id equals the book's last applied update id
 * must match the rebuilt best bid and ask, price and quantity. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "md_source.h"

#include <zlib.h>

struct pending {
    struct qts_quote *v;
    size_t head, n, cap;
};

struct check {
    uint64_t checked, equal, events, malformed, quotes, snapshots, gaps;
};

static void compare(const struct qts_book *b, const struct qts_quote *q, struct check *c)
{
    struct qts_level bid, ask;
    qts_book_best_bid(b, &bid);
    qts_book_best_ask(b, &ask);
    c->checked++;
    if (bid.px == q->bid_px && bid.qty == q->bid_qty && ask.px == q->ask_px &&
        ask.qty == q->ask_qty) {
        c->equal++;
    } else if (c->checked - c->equal <= 5) {
        fprintf(stderr, "mismatch at u=%llu: book %lld/%lld x %lld/%lld, ticker %lld/%lld x %lld/%lld\n",
                (unsigned long long)q->update_id, (long long)bid.px, (long long)bid.qty,
                (long long)ask.px, (long long)ask.qty, (long long)q->bid_px,
                (long long)q->bid_qty, (long long)q->ask_px, (long long)q->ask_qty);
    }
}

/* Replays `files` (one capture, in order) and checks the book. */
static void replay_capture(const char *const *files, size_t nfiles, const char *symbols,
                           struct check *c)
{
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    assert_int_equal(qts_md_symtab_configure(&syms, symbols, NULL), 0);
    struct qts_book book;
    qts_book_init(&book);
    struct pending pq = {0};
    pq.cap = 1 << 16;
    pq.v = calloc(pq.cap, sizeof *pq.v);
    for (size_t fi = 0; fi < nfiles; fi++) {
        const char *path = files[fi][0] == '/' ? files[fi] : qts_test_data_path(files[fi]);
        assert_non_null(path);
        struct qts_md_source src;
        struct qts_err err;
        struct qts_md_source_opts o = {.format = QTS_MD_FMT_BINANCE};
        assert_int_equal(qts_md_source_open(&src, path, &o, &syms, &err), 0);
        union qts_md_event ev;
        int rc;
        while ((rc = qts_md_source_next(&src, &ev, &err)) != 0) {
            if (rc < 0) {
                fprintf(stderr, "%s\n", err.msg);
                c->malformed++;
                continue;
            }
            c->events++;
            if (ev.h.type == QTS_EV_BOOK) {
                if (ev.h.flags & QTS_BOOK_SNAPSHOT)
                    c->snapshots++;
                int r = qts_book_apply(&book, &ev.book);
                if (r == QTS_BOOK_GAP)
                    c->gaps++;
                if (r != QTS_BOOK_APPLIED)
                    continue;
                while (pq.n && pq.v[pq.head].update_id <= book.last_update_id) {
                    if (pq.v[pq.head].update_id == book.last_update_id)
                        compare(&book, &pq.v[pq.head], c);
                    pq.head = (pq.head + 1) % pq.cap;
                    pq.n--;
                }
            } else if (ev.h.type == QTS_EV_QUOTE) {
                c->quotes++;
                if (!book.has_snapshot || book.is_stale)
                    continue;
                if (ev.quote.update_id == book.last_update_id) {
                    compare(&book, &ev.quote, c);
                } else if (ev.quote.update_id > book.last_update_id) {
                    assert_true(pq.n < pq.cap);
                    pq.v[(pq.head + pq.n) % pq.cap] = ev.quote;
                    pq.n++;
                }
            }
        }
        qts_md_source_close(&src);
    }
    free(pq.v);
    qts_book_cleanup(&book);
    qts_md_symtab_cleanup(&syms);
}

static int have_data(void)
{
    return qts_test_data_path("binance/spot_btcusdt_20240808.gz") != NULL;
}

static uint64_t total_checked;

static void run(const char *const *files, size_t n, const char *symbols, const char *name)
{
    struct check c = {0};
    replay_capture(files, n, symbols, &c);
    printf("%s: events=%llu quotes=%llu snapshots=%llu checked=%llu equal=%llu gaps=%llu malformed=%llu\n",
           name, (unsigned long long)c.events, (unsigned long long)c.quotes,
           (unsigned long long)c.snapshots, (unsigned long long)c.checked,
           (unsigned long long)c.equal, (unsigned long long)c.gaps,
           (unsigned long long)c.malformed);
    assert_int_equal(c.malformed, 0);
    assert_int_equal(c.gaps, 0);
    assert_int_equal(c.snapshots, 1);
    assert_true(c.checked > 100);
    assert_int_equal(c.checked, c.equal);
    total_checked += c.checked;
}

static void test_spot_btcusdt(void **state)
{
    (void)state;
    const char *f[] = {"binance/spot_btcusdt_20240808.gz", "binance/spot_btcusdt_20240809.gz"};
    run(f, 2, "BTCUSDT:2:8", "spot BTCUSDT");
}

static void test_spot_ethusdt(void **state)
{
    (void)state;
    const char *f[] = {"binance/spot_ethusdt_20240808.gz", "binance/spot_ethusdt_20240809.gz"};
    run(f, 2, "ETHUSDT:2:8", "spot ETHUSDT");
}

static void test_usdm_btcusdt(void **state)
{
    (void)state;
    const char *f[] = {"binance/usdm_btcusdt_20240808.gz"};
    run(f, 1, "BTCUSDT:1:3", "usdm BTCUSDT");
}

/* A copy of a capture with one depth diff removed and one damaged: both are
 * sequence gaps (the damaged line is malformed and skipped); the book goes
 * stale and, with no later snapshot in the file, stays stale. Every check
 * made before that still matches. */
static void test_gap_marks_book_stale(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char out[1024];
    snprintf(out, sizeof out, "%s/gap.gz", dir);
    struct qts_md_file f;
    assert_int_equal(qts_md_file_open(&f, qts_test_data_path("binance/spot_ethusdt_20240808.gz"), NULL), 0);
    gzFile gz = gzopen(out, "wb1");
    assert_non_null(gz);
    const char *line;
    size_t n;
    int depth = 0;
    while (qts_md_file_line(&f, &line, &n, NULL) == 1) {
        if (strstr(line, "@depth") && ++depth == 2000)
            continue; /* dropped */
        if (depth == 2500 && strstr(line, "@depth")) {
            char *p = strstr((char *)line, "\"b\":[[\"");
            if (p)
                p[7] = 'x'; /* bad number in the first bid price */
        }
        gzwrite(gz, line, (unsigned)n);
        gzwrite(gz, "\n", 1);
    }
    gzclose(gz);
    qts_md_file_close(&f);
    const char *files[] = {out};
    struct check c = {0};
    replay_capture(files, 1, "ETHUSDT:2:8", &c);
    printf("gap copy: checked=%llu equal=%llu gaps=%llu malformed=%llu\n",
           (unsigned long long)c.checked, (unsigned long long)c.equal,
           (unsigned long long)c.gaps, (unsigned long long)c.malformed);
    assert_int_equal(c.gaps, 1);
    assert_int_equal(c.malformed, 1); /* the damaged line, reported and skipped */
    assert_true(c.checked > 100);
    assert_int_equal(c.checked, c.equal);
    qts_test_rmtree(dir);
    free(dir);
}

/* Runs last: the three captures together give thousands of checks. */
static void test_total_checks(void **state)
{
    (void)state;
    printf("total bookTicker checks: %llu (all equal)\n", (unsigned long long)total_checked);
    assert_true(total_checked > 1000);
}

int main(void)
{
    if (!have_data()) {
        printf("skipped: ../shared/data/binance absent\n");
        return QTS_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spot_btcusdt),
        cmocka_unit_test(test_spot_ethusdt),
        cmocka_unit_test(test_usdm_btcusdt),
        cmocka_unit_test(test_total_checks),
        cmocka_unit_test(test_gap_marks_book_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
