/* synth_stats.c — the figures of docs/market-data.md ("The demo market")
 * measured on the synthetic generator, to set beside those of the real
 * capture (tools/measure_market.py prints the same names).
 *
 *   build/bench/synth_stats [key=value ...]
 *
 * Keys, those of feed_synthetic: events, seed, rate, start_price, tick, lot,
 * vol_ticks, vol_bps_min, trade_size_median, trade_size_sigma, depth; the
 * defaults are config/qts.yaml's demo market. Prices have 2 decimals and
 * quantities 5, as the demo's BTCUSDT. The top of book is read after every
 * event that changes it, as Binance's bookTicker stream reports it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_synth.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* stdev of the log returns of the last mid of consecutive step_ns buckets */
static double ret_stdev(const int64_t *t, const double *mid, size_t n, int64_t step_ns,
                        size_t *n_out)
{
    double sum = 0, sumsq = 0, prev = 0;
    int64_t prev_b = -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t b = t[i] / step_ns;
        if (i + 1 < n && t[i + 1] / step_ns == b)
            continue; /* not the bucket's last */
        if (prev_b >= 0 && b == prev_b + 1) {
            double r = log(mid[i] / prev);
            sum += r;
            sumsq += r * r;
            k++;
        }
        prev_b = b;
        prev = mid[i];
    }
    *n_out = k;
    if (k < 2)
        return NAN;
    double m = sum / (double)k;
    return sqrt(sumsq / (double)k - m * m);
}

static int64_t fixed(const char *s, int exp)
{
    return (int64_t)llround(strtod(s, NULL) * pow(10, exp));
}

int main(int argc, char **argv)
{
    struct qts_md_inst in = {.symbol = "BTCUSDT", .venue = "synthetic", .px_exp = 2, .qty_exp = 5};
    /* config/qts.yaml's demo market */
    struct qts_md_synth_opts o = {.seed = 42,
                                  .start_ns = 1700000000LL * 1000000000LL,
                                  .rate_per_s = 0.15,
                                  .start_px = 6000000,
                                  .tick = 1,
                                  .lot = 2500,
                                  .depth = 20,
                                  .vol_bps_min = 8,
                                  .trade_median = 67,
                                  .trade_sigma = 2.7,
                                  .max_events = 1000000};
    for (int i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "synth_stats: '%s' is not key=value\n", argv[i]);
            return 2;
        }
        size_t kl = (size_t)(eq - argv[i]);
        const char *v = eq + 1;
#define KEY(name) (kl == strlen(name) && memcmp(argv[i], name, kl) == 0)
        if (KEY("events"))
            o.max_events = strtoull(v, NULL, 10);
        else if (KEY("seed"))
            o.seed = strtoull(v, NULL, 10);
        else if (KEY("rate"))
            o.rate_per_s = strtod(v, NULL);
        else if (KEY("start_price"))
            o.start_px = fixed(v, 2);
        else if (KEY("tick"))
            o.tick = fixed(v, 2);
        else if (KEY("lot"))
            o.lot = fixed(v, 5);
        else if (KEY("depth"))
            o.depth = (uint32_t)strtoul(v, NULL, 10);
        else if (KEY("vol_ticks"))
            o.vol_ticks = strtod(v, NULL);
        else if (KEY("vol_bps_min"))
            o.vol_bps_min = strtod(v, NULL);
        else if (KEY("trade_size_median"))
            o.trade_median = fixed(v, 5);
        else if (KEY("trade_size_sigma"))
            o.trade_sigma = strtod(v, NULL);
        else {
            fprintf(stderr, "synth_stats: unknown key '%.*s'\n", (int)kl, argv[i]);
            return 2;
        }
#undef KEY
    }
    struct qts_md_synth s;
    qts_md_synth_init(&s, &o, &in);
    size_t cap = (size_t)o.max_events + 1, n_top = 0, n_tr = 0;
    int64_t *t = malloc(cap * sizeof *t), *sizes = malloc(cap * sizeof *sizes);
    int64_t *tops = malloc(2 * cap * sizeof *tops);
    double *mid = malloc(cap * sizeof *mid);
    size_t sp1 = 0, sp2 = 0, sp3 = 0;
    int64_t first_tr = 0, last_tr = 0, pbb = 0, pba = 0, pbq = -1, paq = -1;
    union qts_md_event ev;
    if (!t || !sizes || !tops || !mid)
        return 1;
    while (qts_md_synth_next(&s, &ev) == 1) {
        if (ev.h.type == QTS_EV_TRADE) {
            if (!n_tr)
                first_tr = ev.h.ts_exch_ns;
            last_tr = ev.h.ts_exch_ns;
            sizes[n_tr++] = ev.trade.qty;
        }
        if (s.bb == pbb && s.ba == pba && s.bid_q[0] == pbq && s.ask_q[0] == paq)
            continue; /* the top did not change: no bookTicker message */
        pbb = s.bb, pba = s.ba, pbq = s.bid_q[0], paq = s.ask_q[0];
        int64_t spread = s.ba - s.bb;
        sp1 += spread == 1, sp2 += spread == 2, sp3 += spread >= 3;
        tops[2 * n_top] = s.bid_q[0];
        tops[2 * n_top + 1] = s.ask_q[0];
        t[n_top] = ev.h.ts_exch_ns;
        mid[n_top++] = 0.5 * (double)(s.bb + s.ba) * (double)o.tick;
    }
    qsort(sizes, n_tr, sizeof *sizes, cmp_i64);
    qsort(tops, 2 * n_top, sizeof *tops, cmp_i64);
    double span = (double)(last_tr - first_tr) / 1e9, size_sum = 0;
    for (size_t i = 0; i < n_tr; i++)
        size_sum += (double)sizes[i];
    size_t n60, n1;
    double r60 = ret_stdev(t, mid, n_top, 60000000000LL, &n60);
    double r1 = ret_stdev(t, mid, n_top, 1000000000LL, &n1);
    double q = 1e-5;
    printf("{\n \"span_s\": %.1f,\n \"trades\": %zu,\n \"trade_rate_per_s\": %.4f,\n", span, n_tr,
           span > 0 ? (double)n_tr / span : 0);
    printf(" \"trade_size_median\": %.5f,\n \"trade_size_mean\": %.5f,\n", sizes[n_tr / 2] * q,
           size_sum / (double)n_tr * q);
    printf(" \"trade_size_p90\": %.5f,\n \"trade_size_p99\": %.5f,\n",
           sizes[(size_t)(0.9 * (double)(n_tr - 1))] * q,
           sizes[(size_t)(0.99 * (double)(n_tr - 1))] * q);
    printf(" \"spread_1_tick_share\": %.4f,\n \"spread_2_ticks_share\": %.4f,\n"
           " \"spread_3plus_ticks_share\": %.4f,\n",
           (double)sp1 / (double)n_top, (double)sp2 / (double)n_top, (double)sp3 / (double)n_top);
    printf(" \"top_qty_median\": %.5f,\n", tops[n_top] * q);
    double ts = 0;
    for (size_t i = 0; i < 2 * n_top; i++)
        ts += (double)tops[i];
    printf(" \"top_qty_mean\": %.5f,\n", ts / (double)(2 * n_top) * q);
    printf(" \"ret_1m_stdev_bps\": %.3f,\n \"ret_1m_samples\": %zu,\n", r60 * 1e4, n60);
    printf(" \"ret_1s_stdev_bps\": %.3f,\n \"ret_1s_samples\": %zu\n}\n", r1 * 1e4, n1);
    qts_md_synth_cleanup(&s);
    free(t);
    free(sizes);
    free(tops);
    free(mid);
    return 0;
}
