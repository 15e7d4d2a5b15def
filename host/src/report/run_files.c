/* run_files.c — the run's growing CSV files, written row by row as the
 * portfolio produces them (report.h). Row formats: docs/portfolio.md
 * ("Run directory"). */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The strategy's name as a CSV field ("" when unknown). */
static const char *strat_name(const struct qts_run_files *rf, uint32_t id, char *buf, size_t cap)
{
    const char *n = rf->strategy_name ? rf->strategy_name(rf->name_ctx, id) : NULL;
    qts_csv_clean(buf, cap, n ? n : "");
    return buf;
}

/* The first write error is kept and reported by finish; later rows are
 * dropped so one error does not flood. */
static bool rf_ready(struct qts_run_files *rf)
{
    if (rf->err_code)
        return false;
    if (rf->opened)
        return true;
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_report_mkdir_p(rf->dir, &err);
    if (!rc && !(rc = qts_wfile_open(&rf->equity, rf->dir, "equity.csv", &err)))
        fputs("ts_ns,equity,cash,gross_exposure\n", rf->equity.f);
    if (!rc && !(rc = qts_wfile_open(&rf->prices, rf->dir, "prices.csv", &err)))
        fputs("ts_ns,instrument,symbol,px\n", rf->prices.f);
    if (!rc && !(rc = qts_wfile_open(&rf->fills, rf->dir, "fills.csv", &err)))
        fputs("ts_ns,order_id,fill_id,strategy_id,tag,instrument,symbol,side,px,qty,"
              "is_maker,notional,fee,realized,cash_after,pos_after,strat_pos_after,strategy\n",
              rf->fills.f);
    if (!rc && !(rc = qts_wfile_open(&rf->trades, rf->dir, "trades.csv", &err)))
        fputs("strategy_id,instrument,symbol,dir,open_ts_ns,close_ts_ns,max_qty,realized,"
              "fees,pnl,strategy\n",
              rf->trades.f);
    if (!rc && !(rc = qts_wfile_open(&rf->decisions, rf->dir, "decisions.csv", &err)))
        fputs("ts_ns,strategy_id,tag,instrument,symbol,side,type,qty_asked,px_asked,stage,"
              "outcome,qty_decided,px_decided,codes,reason,order_id,inputs\n",
              rf->decisions.f);
    rf->opened = true;
    if (rc) {
        rf->err_code = rc;
        qts_strlcpy(rf->err_msg, err.msg, sizeof rf->err_msg);
        return false;
    }
    return true;
}

static void on_sample(void *ctx, const struct qts_equity_point *e, const struct qts_price_point *px,
                      size_t n_px)
{
    struct qts_run_files *rf = ctx;
    if (!rf_ready(rf))
        return;
    char a[48], b[48], c[48], s1[QTS_SYMBOL_MAX];
    fprintf(rf->equity.f, "%" PRId64 ",%s,%s,%s\n", e->ts_ns,
            qts_report_fx(a, sizeof a, e->equity, QTS_CASH_EXP),
            qts_report_fx(b, sizeof b, e->cash, QTS_CASH_EXP),
            qts_report_fx(c, sizeof c, e->gross_exposure, QTS_CASH_EXP));
    for (size_t i = 0; i < n_px; i++) {
        qts_csv_clean(s1, sizeof s1, qts_portfolio_symbol(rf->pf, px[i].instrument));
        fprintf(rf->prices.f, "%" PRId64 ",%" PRIu32 ",%s,%s\n", px[i].ts_ns, px[i].instrument, s1,
                qts_report_fx(a, sizeof a, px[i].px, px[i].px_exp));
    }
}

static void on_ledger(void *ctx, const struct qts_ledger_entry *l)
{
    struct qts_run_files *rf = ctx;
    if (!rf_ready(rf))
        return;
    char a[48], b[48], c[48], d[48], e[48], f1[48], f2[48], f3[48];
    char s1[QTS_SYMBOL_MAX], t1[QTS_TAG_MAX], n1[64];
    qts_csv_clean(s1, sizeof s1, qts_portfolio_symbol(rf->pf, l->instrument));
    qts_csv_clean(t1, sizeof t1, l->tag);
    fprintf(rf->fills.f,
            "%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu32 ",%s,%" PRIu32
            ",%s,%s,%s,%s,%d,%s,%s,%s,%s,%s,%s,%s\n",
            l->ts_ns, l->order_id, l->fill_id, l->strategy_id, t1, l->instrument, s1,
            l->side == QTS_SIDE_BUY ? "buy" : "sell", qts_report_fx(a, sizeof a, l->px, l->px_exp),
            qts_report_fx(b, sizeof b, l->qty, l->qty_exp), l->is_maker,
            qts_report_fx(c, sizeof c, l->notional, QTS_CASH_EXP),
            qts_report_fx(d, sizeof d, l->fee, QTS_CASH_EXP),
            qts_report_fx(e, sizeof e, l->realized, QTS_CASH_EXP),
            qts_report_fx(f1, sizeof f1, l->cash_after, QTS_CASH_EXP),
            qts_report_fx(f2, sizeof f2, l->pos_after, l->qty_exp),
            qts_report_fx(f3, sizeof f3, l->strat_pos_after, l->qty_exp),
            strat_name(rf, l->strategy_id, n1, sizeof n1));
}

static void on_trade(void *ctx, const struct qts_trade_rt *t)
{
    struct qts_run_files *rf = ctx;
    if (!rf_ready(rf))
        return;
    char a[48], b[48], c[48], d[48], s1[QTS_SYMBOL_MAX], n1[64];
    qts_csv_clean(s1, sizeof s1, qts_portfolio_symbol(rf->pf, t->instrument));
    fprintf(rf->trades.f, "%" PRIu32 ",%" PRIu32 ",%s,%s,%" PRId64 ",%" PRId64 ",%s,%s,%s,%s,%s\n",
            t->strategy_id, t->instrument, s1, t->dir > 0 ? "long" : "short", t->open_ts_ns,
            t->close_ts_ns, qts_report_fx(a, sizeof a, t->max_qty, t->qty_exp),
            qts_report_fx(b, sizeof b, t->realized, QTS_CASH_EXP),
            qts_report_fx(c, sizeof c, t->fees, QTS_CASH_EXP),
            qts_report_fx(d, sizeof d, t->pnl, QTS_CASH_EXP),
            strat_name(rf, t->strategy_id, n1, sizeof n1));
}

void qts_run_files_decision(struct qts_run_files *rf, const struct qts_decision *d)
{
    if (!rf_ready(rf))
        return;
    const struct qts_order_intent *in = d->intent;
    char a[48], b[48], c[48], e[48], s1[QTS_SYMBOL_MAX], t1[QTS_TAG_MAX];
    qts_csv_clean(s1, sizeof s1, d->symbol);
    qts_csv_clean(t1, sizeof t1, in->tag);
    FILE *f = rf->decisions.f;
    fprintf(f, "%" PRId64 ",%" PRIu32 ",%s,%" PRIu32 ",%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,", d->ts_ns,
            in->strategy_id, t1, in->instrument, s1, in->side == QTS_SIDE_BUY ? "buy" : "sell",
            in->type == QTS_ORD_LIMIT  ? "limit"
            : in->type == QTS_ORD_STOP ? "stop"
                                       : "market",
            qts_report_fx(a, sizeof a, in->qty, d->qty_exp),
            in->px ? qts_report_fx(b, sizeof b, in->px, d->px_exp) : "", d->stage, d->outcome,
            qts_report_fx(c, sizeof c, d->qty_decided, d->qty_exp),
            d->px_decided ? qts_report_fx(e, sizeof e, d->px_decided, d->px_exp) : "", d->codes);
    qts_csv_write_quoted(f, d->reason);
    fprintf(f, ",%" PRIu64 ",", d->order_id);
    qts_csv_write_quoted(f, d->inputs);
    fputc('\n', f);
}

void qts_run_files_attach(struct qts_run_files *rf, const char *dir, struct qts_portfolio *pf)
{
    memset(rf, 0, sizeof *rf);
    qts_strlcpy(rf->dir, dir, sizeof rf->dir);
    rf->pf = pf;
    struct qts_portfolio_listener l = {
        .on_ledger = on_ledger, .on_trade = on_trade, .on_sample = on_sample, .ctx = rf};
    qts_portfolio_set_listener(pf, &l);
}

void qts_run_files_discard(struct qts_run_files *rf)
{
    if (rf->pf)
        qts_portfolio_set_listener(rf->pf, NULL);
    rf->pf = NULL;
    qts_wfile_discard(&rf->equity);
    qts_wfile_discard(&rf->prices);
    qts_wfile_discard(&rf->fills);
    qts_wfile_discard(&rf->trades);
    qts_wfile_discard(&rf->decisions);
}

static int write_run_csv(const char *dir, const struct qts_portfolio *pf,
                         const struct qts_report_meta *meta, struct qts_err *err)
{
    struct qts_wfile w;
    int rc = qts_wfile_open(&w, dir, "run.csv", err);
    if (rc)
        return rc;
    char a[48], title[128];
    qts_csv_clean(title, sizeof title, meta->title && meta->title[0] ? meta->title : "qts run");
    fprintf(w.f,
            "key,value\ntitle,%s\ninitial_cash,%s\nperiod_ns,%" PRId64
            "\nperiods_per_year,%.6f\nrisk_free_annual,%.6f\ncagr_min_days,%" PRId64 "\n",
            title, qts_report_fx(a, sizeof a, qts_portfolio_initial_cash(pf), QTS_CASH_EXP),
            meta->perf.period_ns, meta->perf.periods_per_year, meta->perf.risk_free_annual,
            meta->perf.cagr_min_days);
    if (meta->mode && meta->mode[0]) /* for `qts runs` */
        fprintf(w.f, "mode,%s\n", meta->mode);
    if (meta->interrupted && meta->interrupted[0]) { /* a run stopped before its end */
        char why[128];
        qts_csv_clean(why, sizeof why, meta->interrupted);
        fprintf(w.f, "interrupted,%s\n", why);
    }
    return qts_wfile_close(&w, err);
}

static void strategy_row(FILE *f, const struct qts_run_files *rf,
                         const struct qts_strategy_stats *s)
{
    char a[48], b[48], c[48], d[48], e[48], n1[64];
    fprintf(f, "%" PRIu32 ",%s,%s,%s,%s,%" PRId64 ",%" PRId64 ",%s,%s\n", s->strategy_id,
            qts_report_fx(a, sizeof a, s->realized, QTS_CASH_EXP),
            qts_report_fx(b, sizeof b, s->unrealized, QTS_CASH_EXP),
            qts_report_fx(c, sizeof c, s->fees, QTS_CASH_EXP),
            qts_report_fx(d, sizeof d, s->net_pnl, QTS_CASH_EXP), s->n_fills, s->n_trades,
            qts_report_fx(e, sizeof e, s->turnover, QTS_CASH_EXP),
            strat_name(rf, s->strategy_id, n1, sizeof n1));
}

/* One row per strategy with activity, and one of zeros per named strategy
 * that never traded (every configured strategy is listed), by id. */
static int write_strategies_csv(const char *dir, const struct qts_run_files *rf,
                                const struct qts_portfolio *pf, struct qts_err *err)
{
    struct qts_wfile w;
    int rc = qts_wfile_open(&w, dir, "strategies.csv", err);
    if (rc)
        return rc;
    struct qts_strategy_stats *ss;
    size_t n = qts_portfolio_strategy_stats(pf, &ss);
    fprintf(w.f, "strategy_id,realized,unrealized,fees,net_pnl,n_fills,n_trades,turnover,"
                 "strategy\n");
    size_t i = 0;
    /* named ids run from 1 without holes; stats rows are merged in by id */
    for (uint32_t id = 1; rf->strategy_name && rf->strategy_name(rf->name_ctx, id); id++) {
        for (; i < n && ss[i].strategy_id < id; i++)
            strategy_row(w.f, rf, &ss[i]);
        if (i < n && ss[i].strategy_id == id) {
            strategy_row(w.f, rf, &ss[i++]);
        } else {
            struct qts_strategy_stats zero = {.strategy_id = id};
            strategy_row(w.f, rf, &zero);
        }
    }
    for (; i < n; i++)
        strategy_row(w.f, rf, &ss[i]);
    free(ss);
    return qts_wfile_close(&w, err);
}

int qts_run_files_finish(struct qts_run_files *rf, const struct qts_report_meta *meta,
                         struct qts_err *err)
{
    struct qts_report_meta def;
    if (!meta) {
        qts_report_meta_default(&def);
        meta = &def;
    }
    struct qts_portfolio *pf = rf->pf;
    qts_portfolio_flush_sample(pf); /* the last sample is final now */
    rf_ready(rf);                   /* a run without a row still has its files */
    int rc = rf->err_code;
    if (rc) {
        qts_err_set(err, rc, "%s", rf->err_msg);
        qts_run_files_discard(rf);
        return rc;
    }
    qts_portfolio_set_listener(pf, NULL);
    rf->pf = NULL;
    struct qts_wfile *streams[] = {&rf->equity, &rf->prices, &rf->fills, &rf->trades,
                                   &rf->decisions};
    for (size_t i = 0; i < QTS_ARRAY_LEN(streams); i++)
        if (!rc)
            rc = qts_wfile_close(streams[i], err);
        else
            qts_wfile_discard(streams[i]);
    if (rc || (rc = write_run_csv(rf->dir, pf, meta, err)) ||
        (rc = write_strategies_csv(rf->dir, rf, pf, err)))
        return rc;
    return qts_report_render(rf->dir, err);
}
