/* test_broker_paper_flow.c — the paper broker plugin (the real .so,
 * broker_paper_fixture.h) over long order flows: a replay of real Binance
 * data into a portfolio whose accounting must hold at every report, and
 * random order flow checked against the venue's properties. */
#include "broker_paper_fixture.h"

#include <zlib.h>

#include "portfolio.h"

/* ------------------------------------------------ replay of real Binance data */

struct replay {
    struct qts_portfolio *pf;
    uint64_t hash;
    int64_t n_fills, n_maker, n_taker, n_reports, n_rejects;
    int64_t last_ts;
    char open_buy[QTS_CLORDID_MAX], open_sell[QTS_CLORDID_MAX];
    int64_t cum[4096]; /* per order number: filled quantity */
    uint32_t last_fill_id[4096];
    int64_t qty[4096];
};
static struct replay R;

static int order_no(const char *clordid) { return atoi(clordid + 1); }

static void replay_sink(const struct qts_exec_report *r)
{
    R.n_reports++;
    int64_t f[] = {r->exec_type, r->last_px,          r->last_qty,    r->cum_qty, r->leaves_qty,
                   r->fee,       (int64_t)r->fill_id, r->ts_venue_ns, r->is_maker};
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
        R.hash = (R.hash ^ (uint64_t)f[k]) * 1099511628211ULL;
    int no = order_no(r->client_order_id);
    assert_true(no >= 0 && no < 4096);
    if (r->exec_type == QTS_EXEC_REJECT)
        R.n_rejects++;
    if (r->exec_type == QTS_EXEC_FILL) {
        /* fill ids run 1, 2, 3 per order; never more than ordered */
        assert_int_equal(r->fill_id, R.last_fill_id[no] + 1);
        R.last_fill_id[no] = (uint32_t)r->fill_id;
        R.cum[no] += r->last_qty;
        assert_int_equal(R.cum[no], r->cum_qty);
        assert_true(R.cum[no] <= R.qty[no]);
        assert_int_equal(r->leaves_qty, R.qty[no] - R.cum[no]);
        R.n_fills++;
        if (r->is_maker)
            R.n_maker++;
        else
            R.n_taker++;
        struct qts_fill fl;
        memset(&fl, 0, sizeof fl);
        fl.h.struct_size = sizeof fl;
        fl.h.instrument = r->instrument;
        fl.h.px_exp = r->px_exp;
        fl.h.qty_exp = r->qty_exp;
        fl.h.ts_exch_ns = r->ts_venue_ns;
        fl.order_id = (uint64_t)no;
        fl.fill_id = r->fill_id;
        fl.strategy_id = 1 + (uint32_t)(no % 2);
        fl.side = r->side;
        fl.is_maker = r->is_maker;
        fl.px = r->last_px;
        fl.qty = r->last_qty;
        fl.fee = r->fee;
        assert_int_equal(qts_portfolio_apply_fill(R.pf, &fl), 0);
        int64_t eq = qts_portfolio_equity(R.pf);
        assert_int_equal(eq, qts_portfolio_initial_cash(R.pf) + qts_portfolio_realized(R.pf) +
                                 qts_portfolio_unrealized(R.pf) - qts_portfolio_fees(R.pf));
    }
    bool done = r->exec_type == QTS_EXEC_REJECT || r->exec_type == QTS_EXEC_CANCELLED ||
                r->exec_type == QTS_EXEC_EXPIRED ||
                (r->exec_type == QTS_EXEC_FILL && r->leaves_qty == 0);
    if (done && strcmp(r->client_order_id, R.open_buy) == 0)
        R.open_buy[0] = '\0';
    if (done && strcmp(r->client_order_id, R.open_sell) == 0)
        R.open_sell[0] = '\0';
}

/* The text after `key` ("\"p\":\"") up to the next '"'. */
static const char *jstr(const char *line, const char *key, size_t *n)
{
    const char *p = strstr(line, key);
    if (!p)
        return NULL;
    p += strlen(key);
    const char *e = strchr(p, '"');
    *n = e ? (size_t)(e - p) : 0;
    return e ? p : NULL;
}

static int64_t jint(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : 0;
}

static int64_t fixed(const char *s, size_t n, unsigned exp)
{
    int64_t v = 0;
    assert_int_equal(qts_parse_fixed(s, n, exp, &v), 0);
    return v;
}

/* Parse [["px","qty"],...] after `key` into lv; returns the count. */
static uint32_t jlevels(const char *line, const char *key, struct qts_level *lv, uint32_t cap)
{
    const char *p = strstr(line, key);
    uint32_t n = 0;
    if (!p)
        return 0;
    p += strlen(key);
    while (*p == '[' || *p == ',') {
        if (p[0] == ',' && p[1] != '[')
            break;
        if (*p == ',')
            p++;
        if (p[0] != '[' || p[1] != '"')
            break;
        const char *a = p + 2, *ae = strchr(a, '"');
        const char *b = ae + 3, *be = strchr(b, '"');
        if (n < cap) {
            lv[n].px = fixed(a, (size_t)(ae - a), 2);
            lv[n].qty = fixed(b, (size_t)(be - b), 8);
            n++;
        }
        p = be + 2; /* past "] */
    }
    return n;
}

static void rhdr(struct qts_ev_hdr *h, size_t size, int type, int64_t ts)
{
    memset(h, 0, size);
    h->struct_size = (uint32_t)size;
    h->type = (uint16_t)type;
    h->px_exp = 2;
    h->qty_exp = 8;
    h->instrument = 3;
    h->ts_exch_ns = ts;
    h->ts_recv_ns = ts;
}

#define MAX_LV 1200
#define LOT 1000000 /* 0.01 BTC at 8 decimals */

/* Replays the first BTCUSDT spot file. A simple script quotes one buy at the
 * best bid and, when long, one sell at the best ask, re-quoting when the
 * price moves; every 400 trades it also sends a market order. */
static uint64_t replay_once(const char *path, int64_t *n_fills_out)
{
    cfg_reset();
    memset(&R, 0, sizeof R);
    R.hash = 1469598103934665603ULL;
    R.pf = qts_portfolio_new(1000000000000LL); /* 1 000 000 */
    g_sink = replay_sink;
    cfg_i("latency_jitter_ns", 2000000);
    cfg_i("seed", 11);
    void *v = venue_open();
    gzFile gz = gzopen(path, "rb");
    assert_non_null(gz);
    static char line[1 << 17];
    static struct qts_level bids[MAX_LV], asks[MAX_LV];
    int64_t snap_id = -1, best_bid = 0, best_ask = 0, n_trades = 0, last_sample = 0;
    int next_no = 1;
    while (gzgets(gz, line, sizeof line)) {
        int64_t ts = 0;
        if (!strstr(line, "\"stream\"")) {
            snap_id = jint(line, "\"lastUpdateId\":");
            struct qts_book_update b;
            ts = R.last_ts;
            rhdr(&b.h, sizeof b, QTS_EV_BOOK, ts);
            b.h.flags = QTS_BOOK_SNAPSHOT;
            b.n_bids = jlevels(line, "\"bids\":[", bids, MAX_LV);
            b.n_asks = jlevels(line, "\"asks\":[", asks, MAX_LV);
            b.bids = bids;
            b.asks = asks;
            g_ops->on_market(v, &b.h);
            continue;
        }
        if (strstr(line, "@depth")) {
            if (snap_id < 0 || jint(line, "\"u\":") <= snap_id)
                continue;
            ts = jint(line, "\"E\":") * 1000000;
            struct qts_book_update b;
            rhdr(&b.h, sizeof b, QTS_EV_BOOK, ts);
            b.n_bids = jlevels(line, "\"b\":[", bids, MAX_LV);
            b.n_asks = jlevels(line, "\"a\":[", asks, MAX_LV);
            b.bids = bids;
            b.asks = asks;
            H.now = ts > H.now ? ts : H.now;
            g_ops->on_market(v, &b.h);
        } else if (strstr(line, "@bookTicker")) {
            size_t n;
            const char *s;
            if ((s = jstr(line, "\"b\":\"", &n)))
                best_bid = fixed(s, n, 2);
            if ((s = jstr(line, "\"a\":\"", &n)))
                best_ask = fixed(s, n, 2);
            continue; /* the strategy's view; the venue has the L2 book */
        } else if (strstr(line, "@trade")) {
            size_t np, nq;
            const char *ps = jstr(line, "\"p\":\"", &np), *qs = jstr(line, "\"q\":\"", &nq);
            ts = jint(line, "\"T\":") * 1000000;
            struct qts_trade t;
            rhdr(&t.h, sizeof t, QTS_EV_TRADE, ts);
            t.px = fixed(ps, np, 2);
            t.qty = fixed(qs, nq, 8);
            t.aggressor = strstr(line, "\"m\":true") ? QTS_SIDE_SELL : QTS_SIDE_BUY;
            H.now = ts > H.now ? ts : H.now;
            g_ops->on_market(v, &t.h);
            qts_portfolio_mark(R.pf, 3, t.px, 2);
            n_trades++;
        } else {
            continue;
        }
        R.last_ts = ts > R.last_ts ? ts : R.last_ts;
        if (R.last_ts - last_sample >= 1000000000LL) {
            qts_portfolio_sample(R.pf, R.last_ts);
            last_sample = R.last_ts;
        }
        if (!best_bid || !best_ask || next_no >= 4000)
            continue;
        char id[16];
        const struct qts_position *pos = qts_portfolio_position(R.pf, 3);
        int64_t held = pos ? pos->qty : 0;
        if (!R.open_buy[0] && held < 5 * LOT) {
            snprintf(id, sizeof id, "o%d", next_no);
            R.qty[next_no++] = LOT;
            submit(v, id, "BTCUSDT.B", QTS_SIDE_BUY, QTS_ORD_LIMIT, QTS_TIF_GTC, best_bid, LOT);
            snprintf(R.open_buy, sizeof R.open_buy, "%s", id);
        }
        if (!R.open_sell[0] && held >= LOT) {
            snprintf(id, sizeof id, "o%d", next_no);
            R.qty[next_no++] = LOT;
            submit(v, id, "BTCUSDT.B", QTS_SIDE_SELL, QTS_ORD_LIMIT, QTS_TIF_GTC, best_ask, LOT);
            snprintf(R.open_sell, sizeof R.open_sell, "%s", id);
        }
        if (n_trades % 400 == 399 && held >= 2 * LOT) {
            snprintf(id, sizeof id, "o%d", next_no);
            R.qty[next_no++] = LOT;
            submit(v, id, "BTCUSDT.B", QTS_SIDE_SELL, QTS_ORD_MARKET, QTS_TIF_IOC, 0, LOT);
        }
        if (n_trades % 150 == 149 && R.open_buy[0])
            g_ops->cancel(v, R.open_buy, NULL); /* re-quote at the new best */
    }
    gzclose(gz);
    /* the venue's position is the sum of the fills the portfolio saw */
    H.last_pos_qty = 0;
    g_ops->query_positions(v, 1);
    const struct qts_position *pos = qts_portfolio_position(R.pf, 3);
    assert_int_equal(H.last_pos_qty, pos ? pos->qty : 0);
    if (pos && pos->qty)
        assert_int_equal(H.last_pos_avg, qts_position_avg_px(pos));
    venue_close(v);
    g_sink = NULL;
    *n_fills_out = R.n_fills;
    fprintf(stderr,
            "replay: %d orders, %lld reports, %lld fills (%lld maker, %lld taker), "
            "equity %lld\n",
            next_no - 1, (long long)R.n_reports, (long long)R.n_fills, (long long)R.n_maker,
            (long long)R.n_taker, (long long)qts_portfolio_equity(R.pf));
    assert_true(R.n_maker > 0);
    assert_true(R.n_taker > 0);
    assert_int_equal(R.n_rejects, 0);
    qts_portfolio_free(R.pf);
    return R.hash;
}

static void test_replay_real_data(void **state)
{
    (void)state;
    const char *path = qts_test_data_path("binance/spot_btcusdt_20240808.gz");
    if (!path) {
        fprintf(stderr, "skipped: ../shared/data/binance/spot_btcusdt_20240808.gz absent\n");
        skip();
    }
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    int64_t n1, n2;
    uint64_t a = replay_once(p, &n1), b = replay_once(p, &n2);
    assert_true(n1 > 20);
    assert_int_equal(n1, n2);
    assert_true(a == b);
}

/* ------------------------------------------- random order flow: properties */

#define RN 600
static struct {
    int64_t sent[RN], limit[RN], qty[RN], cum[RN], new_px[RN];
    uint8_t side[RN], type[RN];
    uint32_t fill_id[RN];
    bool done[RN];
    int64_t position, n_fills, n_maker;
} F;

static void flow_sink(const struct qts_exec_report *r)
{
    int no = atoi(r->client_order_id + 1);
    assert_true(no >= 0 && no < RN);
    assert_true(r->ts_venue_ns >= F.sent[no] + 1000000); /* never before arrival */
    switch (r->exec_type) {
    case QTS_EXEC_FILL: {
        assert_false(F.done[no]);
        assert_true(r->last_qty > 0);
        assert_int_equal(r->fill_id, F.fill_id[no] + 1);
        F.fill_id[no]++;
        F.cum[no] += r->last_qty;
        assert_int_equal(r->cum_qty, F.cum[no]);
        assert_true(F.cum[no] <= F.qty[no]);
        assert_int_equal(r->leaves_qty, F.qty[no] - F.cum[no]);
        if (F.type[no] == QTS_ORD_LIMIT) /* never worse than the limit */
            assert_true(F.side[no] == QTS_SIDE_BUY ? r->last_px <= F.limit[no]
                                                   : r->last_px >= F.limit[no]);
        if (r->is_maker) {
            assert_int_equal(r->last_px, F.limit[no]);
            F.n_maker++;
        }
        assert_int_equal(r->fee, fee(r->last_px, r->last_qty, r->is_maker ? 1.0 : 5.0));
        F.position += F.side[no] == QTS_SIDE_BUY ? r->last_qty : -r->last_qty;
        F.n_fills++;
        if (r->leaves_qty == 0)
            F.done[no] = true;
        break;
    }
    case QTS_EXEC_REPLACED:
        F.qty[no] = r->cum_qty + r->leaves_qty;
        F.limit[no] = F.new_px[no];
        break;
    case QTS_EXEC_REJECT:
    case QTS_EXEC_CANCELLED:
    case QTS_EXEC_EXPIRED:
        assert_false(F.done[no]);
        F.done[no] = true;
        break;
    default: break;
    }
}

static uint64_t g_rnd;
static uint64_t RND(void)
{
    g_rnd ^= g_rnd << 13;
    g_rnd ^= g_rnd >> 7;
    g_rnd ^= g_rnd << 17;
    return g_rnd;
}

static void test_random_flow_properties(void **state)
{
    (void)state;
    cfg_reset();
    memset(&F, 0, sizeof F);
    cfg_b("allow_short", true);
    cfg_d("initial_cash", 5000.0);
    void *v = venue_open();
    g_sink = flow_sink;
    g_rnd = 0x9E3779B97F4A7C15ULL;
    std_book(v, H.now);
    int next = 0;
    for (int step = 0; step < 20000; step++) {
        int64_t ts = H.now + (int64_t)(RND() % 400000);
        int64_t mid = P(100.0) + (int64_t)(RND() % 41) - 20;
        switch (RND() % 4) {
        case 0: { /* a few L2 levels change */
            struct qts_level lv[3];
            for (int k = 0; k < 3; k++)
                lv[k] = (struct qts_level){mid - 1 - (int64_t)(RND() % 10),
                                           (int64_t)(RND() % 4) * Q(0.5)};
            struct qts_level la[3];
            for (int k = 0; k < 3; k++)
                la[k] =
                    (struct qts_level){mid + (int64_t)(RND() % 10), (int64_t)(RND() % 4) * Q(0.5)};
            book(v, ts, false, lv, 3, la, 3);
            break;
        }
        case 1:
            trade(v, ts, mid - 10 + (int64_t)(RND() % 20), Q(0.1) * (1 + (int64_t)(RND() % 20)),
                  (int)(RND() % 3));
            break;
        default: H.now = ts; break;
        }
        if (next < RN && RND() % 25 == 0) {
            char id[16];
            int no = next++;
            snprintf(id, sizeof id, "o%d", no);
            F.sent[no] = H.now;
            F.side[no] = RND() % 2 ? QTS_SIDE_BUY : QTS_SIDE_SELL;
            F.type[no] = RND() % 4 ? QTS_ORD_LIMIT : QTS_ORD_MARKET;
            F.qty[no] = Q(0.1) * (1 + (int64_t)(RND() % 30));
            F.limit[no] = F.type[no] == QTS_ORD_LIMIT ? mid - 15 + (int64_t)(RND() % 30) : 0;
            int tif = (int)(RND() % 5);
            if (F.type[no] == QTS_ORD_MARKET && tif == QTS_TIF_POST)
                tif = QTS_TIF_IOC;
            assert_int_equal(
                submit(v, id, "BTCUSDT", F.side[no], F.type[no], tif, F.limit[no], F.qty[no]), 0);
        }
        if (next && RND() % 40 == 0) { /* cancel or modify a random order */
            int no = (int)(RND() % (uint64_t)next);
            char id[16];
            snprintf(id, sizeof id, "o%d", no);
            if (RND() % 2) {
                g_ops->cancel(v, id, NULL);
            } else if (F.type[no] == QTS_ORD_LIMIT && !F.new_px[no]) {
                F.new_px[no] = F.limit[no] + (int64_t)(RND() % 5) - 2;
                int64_t nq = F.qty[no] + Q(0.1) * ((int64_t)(RND() % 5) - 2);
                modify(v, id, F.new_px[no], nq > 0 ? nq : Q(0.1));
            }
        }
    }
    H.last_pos_qty = 0;
    g_ops->query_positions(v, 9);
    assert_int_equal(H.last_pos_qty, F.position);
    fprintf(stderr, "random flow: %d orders, %lld fills (%lld maker)\n", next, (long long)F.n_fills,
            (long long)F.n_maker);
    assert_true(F.n_fills > 50);
    assert_true(F.n_maker > 10);
    g_sink = NULL;
    venue_close(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_real_data),
        cmocka_unit_test(test_random_flow_properties),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
