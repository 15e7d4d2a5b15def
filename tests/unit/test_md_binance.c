/* test_md_binance.c — the Binance decoder and the book against real captures:
 * every bookTicker whose update id equals an update id the book reached
 * (snapshot or last id of an applied diff) must match the rebuilt best bid
 * and ask at that point, price and quantity. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "md_source.h"

#include <zlib.h>

/* Top of book after an applied update, keyed by its update id. */
struct state {
    uint64_t u;
    struct qts_level bid, ask;
};

struct check {
    uint64_t checked, equal, events, malformed, quotes, snapshots, gaps;
    uint64_t unreached; /* ticker ids of diffs the book never stood at (pre-sync) */
};

static int cmp_state(const void *k, const void *e)
{
    uint64_t u = *(const uint64_t *)k, v = ((const struct state *)e)->u;
    return (u > v) - (u < v);
}

/* Replays `files` (one capture, in order). Every book state is recorded with
 * its last update id, every bookTicker kept; afterwards each bookTicker whose
 * update id names a recorded state is compared with it. So the check does not
 * depend on whether the ticker arrived before or after the depth diff. */
static void replay_capture(const char *const *files, size_t nfiles, const char *symbols,
                           struct check *c)
{
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    assert_int_equal(qts_md_symtab_configure(&syms, symbols, NULL), 0);
    struct qts_book book;
    qts_book_init(&book);
    size_t n_st = 0, cap_st = 1 << 15, n_q = 0, cap_q = 1 << 17;
    struct state *st = malloc(cap_st * sizeof *st);
    struct qts_quote *qs = malloc(cap_q * sizeof *qs);
    size_t n_all = 0, cap_all = 1 << 15;
    struct state *all = malloc(cap_all * sizeof *all); /* every diff's u */
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
                if (ev.h.flags & QTS_BOOK_SNAPSHOT) {
                    c->snapshots++;
                } else {
                    if (n_all == cap_all)
                        all = realloc(all, (cap_all *= 2) * sizeof *all);
                    all[n_all++].u = ev.book.last_update_id;
                }
                int r = qts_book_apply(&book, &ev.book);
                if (r == QTS_BOOK_GAP)
                    c->gaps++;
                if (r != QTS_BOOK_APPLIED)
                    continue;
                if (n_st == cap_st)
                    st = realloc(st, (cap_st *= 2) * sizeof *st);
                assert_true(n_st == 0 || book.last_update_id > st[n_st - 1].u);
                st[n_st].u = book.last_update_id;
                qts_book_best_bid(&book, &st[n_st].bid);
                qts_book_best_ask(&book, &st[n_st].ask);
                n_st++;
            } else if (ev.h.type == QTS_EV_QUOTE) {
                c->quotes++;
                if (n_q == cap_q)
                    qs = realloc(qs, (cap_q *= 2) * sizeof *qs);
                qs[n_q++] = ev.quote;
            }
        }
        qts_md_source_close(&src);
    }
    for (size_t i = 0; i < n_q; i++) {
        const struct qts_quote *q = &qs[i];
        const struct state *s = bsearch(&q->update_id, st, n_st, sizeof *st, cmp_state);
        if (!s) {
            c->unreached += bsearch(&q->update_id, all, n_all, sizeof *all, cmp_state) != NULL;
            continue;
        }
        c->checked++;
        if (s->bid.px == q->bid_px && s->bid.qty == q->bid_qty && s->ask.px == q->ask_px &&
            s->ask.qty == q->ask_qty) {
            c->equal++;
        } else if (c->checked - c->equal <= 5) {
            fprintf(
                stderr,
                "mismatch at u=%llu: book %lld/%lld x %lld/%lld, ticker %lld/%lld x %lld/%lld\n",
                (unsigned long long)q->update_id, (long long)s->bid.px, (long long)s->bid.qty,
                (long long)s->ask.px, (long long)s->ask.qty, (long long)q->bid_px,
                (long long)q->bid_qty, (long long)q->ask_px, (long long)q->ask_qty);
        }
    }
    free(st);
    free(qs);
    free(all);
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
    printf("%s: events=%llu quotes=%llu snapshots=%llu checked=%llu equal=%llu gaps=%llu "
           "malformed=%llu unreached=%llu\n",
           name, (unsigned long long)c.events, (unsigned long long)c.quotes,
           (unsigned long long)c.snapshots, (unsigned long long)c.checked,
           (unsigned long long)c.equal, (unsigned long long)c.gaps, (unsigned long long)c.malformed,
           (unsigned long long)c.unreached);
    assert_int_equal(c.malformed, 0);
    assert_int_equal(c.gaps, 0);
    assert_int_equal(c.snapshots, 1);
    assert_int_equal(c.unreached, 0); /* every ticker naming a diff's id was checked */
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
    assert_int_equal(
        qts_md_file_open(&f, qts_test_data_path("binance/spot_ethusdt_20240808.gz"), NULL), 0);
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
           (unsigned long long)c.checked, (unsigned long long)c.equal, (unsigned long long)c.gaps,
           (unsigned long long)c.malformed);
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
        cmocka_unit_test(test_spot_btcusdt),         cmocka_unit_test(test_spot_ethusdt),
        cmocka_unit_test(test_usdm_btcusdt),         cmocka_unit_test(test_total_checks),
        cmocka_unit_test(test_gap_marks_book_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
