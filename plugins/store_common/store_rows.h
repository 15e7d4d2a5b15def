/* store_rows.h — result rows -> store records, shared by the store plugins
 * (header-only, like store_fmt.h). The record layouts are filled here once;
 * each backend supplies a reader for one row of its own result type and the
 * SELECT, whose column order the decoder below names.
 *
 * Reader conventions (a backend's reader keeps these whatever its column
 * types): str: NULL -> ""; i64: NULL -> 0; dbl: NULL -> NAN; fixed:
 * fixed-point with `exp` decimals, NULL or unparsable -> QTS_STORE_NULL;
 * ts: nanoseconds since the epoch, NULL -> QTS_STORE_NULL. */
#ifndef QTS_STORE_ROWS_H
#define QTS_STORE_ROWS_H

#include "store_fmt.h"

struct store_row;

struct store_row_reader {
    const char *(*str)(const struct store_row *r, int col); /* borrowed: valid for the row */
    int64_t (*i64)(const struct store_row *r, int col);
    double (*dbl)(const struct store_row *r, int col);
    int64_t (*fixed)(const struct store_row *r, int col, unsigned exp);
    int64_t (*ts)(const struct store_row *r, int col);
};

struct store_row {
    const struct store_row_reader *rd;
    void *res; /* borrowed: the backend's result (sqlite3_stmt *, PGresult *) */
    int row;   /* row index, for a backend whose result holds every row */
};

#define ROW_STR(r, c) ((r)->rd->str((r), (c)))
#define ROW_I64(r, c) ((r)->rd->i64((r), (c)))
#define ROW_DBL(r, c) ((r)->rd->dbl((r), (c)))
#define ROW_FIXED(r, c, e) ((r)->rd->fixed((r), (c), (e)))
#define ROW_TS(r, c) ((r)->rd->ts((r), (c)))

/* symbol, strategy_type, qty, avg_price, market, exposure_value,
 * exposure_pct, unrealized_pnl, updated_at, rec_id */
static inline void store_row_position(const struct store_row *r, unsigned pe, unsigned qe,
                                      struct qts_store_position *p)
{
    memset(p, 0, sizeof *p);
    p->h.struct_size = sizeof *p;
    p->h.kind = QTS_REC_POSITION;
    store_copy(p->symbol, sizeof p->symbol, ROW_STR(r, 0));
    store_copy(p->strategy_type, sizeof p->strategy_type, ROW_STR(r, 1));
    p->px_exp = (uint8_t)pe;
    p->qty_exp = (uint8_t)qe;
    p->qty = ROW_FIXED(r, 2, qe);
    p->avg_px = ROW_FIXED(r, 3, pe);
    store_copy(p->market, sizeof p->market, ROW_STR(r, 4));
    p->exposure_value = ROW_FIXED(r, 5, QTS_CASH_EXP);
    p->exposure_pct = ROW_DBL(r, 6);
    p->unrealized_pnl = ROW_FIXED(r, 7, QTS_CASH_EXP);
    p->h.ts_ns = ROW_TS(r, 8);
    p->h.rec_id = (uint64_t)ROW_I64(r, 9);
}

/* order_id, client_order_id, venue_order_id, symbol, strategy_tag,
 * strategy_id, side, order_type, tif, state, price, qty, filled_qty,
 * avg_fill_price, decision_price, decided_at, sent_at, done_at, updated_at,
 * rec_id */
static inline void store_row_order(const struct store_row *r, unsigned pe, unsigned qe,
                                   struct qts_store_order *x)
{
    memset(x, 0, sizeof *x);
    x->h.struct_size = sizeof *x;
    x->h.kind = QTS_REC_ORDER;
    x->order_id = (uint64_t)ROW_I64(r, 0);
    store_copy(x->client_order_id, sizeof x->client_order_id, ROW_STR(r, 1));
    store_copy(x->venue_order_id, sizeof x->venue_order_id, ROW_STR(r, 2));
    store_copy(x->symbol, sizeof x->symbol, ROW_STR(r, 3));
    store_copy(x->tag, sizeof x->tag, ROW_STR(r, 4));
    x->strategy_id = (uint32_t)ROW_I64(r, 5);
    x->side = (uint8_t)store_side_parse(ROW_STR(r, 6));
    x->type = (uint8_t)ROW_I64(r, 7);
    x->tif = (uint8_t)ROW_I64(r, 8);
    x->state = (uint8_t)ROW_I64(r, 9);
    x->px_exp = (uint8_t)pe;
    x->qty_exp = (uint8_t)qe;
    x->px = ROW_FIXED(r, 10, pe);
    x->qty = ROW_FIXED(r, 11, qe);
    x->filled_qty = ROW_FIXED(r, 12, qe);
    x->avg_fill_px = ROW_FIXED(r, 13, pe);
    x->decision_px = ROW_FIXED(r, 14, pe);
    x->ts_decided_ns = ROW_TS(r, 15);
    x->ts_sent_ns = ROW_TS(r, 16);
    x->ts_done_ns = ROW_TS(r, 17);
    x->h.ts_ns = ROW_TS(r, 18);
    x->h.rec_id = (uint64_t)ROW_I64(r, 19);
}

/* strategy_id, param_name, value, value_type, description, updated_at,
 * rec_id */
static inline void store_row_param(const struct store_row *r, struct qts_store_param *p)
{
    memset(p, 0, sizeof *p);
    p->h.struct_size = sizeof *p;
    p->h.kind = QTS_REC_PARAM;
    store_copy(p->strategy_id, sizeof p->strategy_id, ROW_STR(r, 0));
    store_copy(p->param_name, sizeof p->param_name, ROW_STR(r, 1));
    store_copy(p->value, sizeof p->value, ROW_STR(r, 2));
    store_copy(p->value_type, sizeof p->value_type, ROW_STR(r, 3));
    store_copy(p->description, sizeof p->description, ROW_STR(r, 4));
    p->h.ts_ns = ROW_TS(r, 5);
    p->h.rec_id = (uint64_t)ROW_I64(r, 6);
}

/* config_key, value (8 decimals), description, updated_at, rec_id */
static inline void store_row_risk_config(const struct store_row *r, struct qts_store_risk_config *c)
{
    memset(c, 0, sizeof *c);
    c->h.struct_size = sizeof *c;
    c->h.kind = QTS_REC_RISK_CONFIG;
    store_copy(c->config_key, sizeof c->config_key, ROW_STR(r, 0));
    c->exp = 8;
    c->value = ROW_FIXED(r, 1, 8);
    store_copy(c->description, sizeof c->description, ROW_STR(r, 2));
    c->h.ts_ns = ROW_TS(r, 3);
    c->h.rec_id = (uint64_t)ROW_I64(r, 4);
}

/* What load_state delivers, in this order, each from one SELECT whose
 * columns are those its decoder above names; the feedback aggregates
 * (store_row_feedback_agg, the backend's own query) come last. */
enum {
    STORE_LOAD_POSITIONS,
    STORE_LOAD_ORDERS,
    STORE_LOAD_PARAMS,
    STORE_LOAD_RISK,
    STORE_LOAD_COUNT
};

static const char *const store_load_what[STORE_LOAD_COUNT] = {"positions", "orders", "parameters",
                                                              "risk configs"};

/* The SELECT of each load step, host_id as $1 and the run id as $2 (''
 * = every run's rows): PostgreSQL's parameters, and for SQLite named
 * parameters, numbered 1 and 2 in the order they first appear. */
static const char *const store_load_sql[STORE_LOAD_COUNT] = {
    [STORE_LOAD_POSITIONS] =
        "SELECT symbol, strategy_type, qty, avg_price, market, exposure_value, "
        "exposure_pct, unrealized_pnl, updated_at, rec_id FROM positions "
        "WHERE host_id = $1 AND ($2 = '' OR run_id = $2) ORDER BY symbol, strategy_type",
    /* working orders */
    [STORE_LOAD_ORDERS] =
        "SELECT order_id, client_order_id, venue_order_id, symbol, strategy_tag, "
        "strategy_id, side, order_type, tif, state, price, qty, filled_qty, "
        "avg_fill_price, decision_price, decided_at, sent_at, done_at, updated_at, "
        "rec_id FROM orders WHERE host_id = $1 AND ($2 = '' OR run_id = $2) "
        "AND state NOT IN (4, 6, 7, 8) "
        "ORDER BY order_id",
    [STORE_LOAD_PARAMS] = "SELECT strategy_id, param_name, value, value_type, description, "
                          "updated_at, rec_id FROM strategies WHERE host_id = $1 "
                          "AND ($2 = '' OR run_id = $2) "
                          "ORDER BY strategy_id, param_name",
    /* values with 8 decimals */
    /* parenthesized: clang's -Wstring-concatenation takes two literals in
     * an array initializer for a missing comma */
    [STORE_LOAD_RISK] = ("SELECT config_key, value, description, updated_at, rec_id "
                         "FROM risk_configs WHERE host_id = $1 AND ($2 = '' OR run_id = $2) "
                         "ORDER BY config_key"),
};

/* The run whose rows load_state delivers ("" = every run's): a caller
 * built before the field was appended passes a shorter struct. */
static inline const char *store_load_run(const struct qts_store_load_opts *o)
{
    size_t end = offsetof(struct qts_store_load_opts, run_id) + sizeof o->run_id;
    return o->struct_size >= end && o->run_id[0] ? o->run_id : "";
}

/* One row of load step `which` into *u; the record (inside u) is returned. */
static inline const struct qts_store_record *store_row_load(const struct store_row *r, int which,
                                                            unsigned pe, unsigned qe,
                                                            union qts_store_any *u)
{
    switch (which) {
    case STORE_LOAD_POSITIONS: store_row_position(r, pe, qe, &u->position); break;
    case STORE_LOAD_ORDERS: store_row_order(r, pe, qe, &u->order); break;
    case STORE_LOAD_PARAMS: store_row_param(r, &u->param); break;
    default: store_row_risk_config(r, &u->risk_config); break;
    }
    return &u->h;
}

/* symbol, tag, count, avg(total_slippage_bps), avg(market_impact_bps),
 * avg(execution_quality_score), avg(avg_fill_latency_ms), avg(fill_ratio);
 * the aggregate is stamped with the start of its window, `from_ns`. */
static inline void store_row_feedback_agg(const struct store_row *r, int64_t from_ns,
                                          struct qts_store_feedback_agg *a)
{
    memset(a, 0, sizeof *a);
    a->h.struct_size = sizeof *a;
    a->h.kind = QTS_REC_FEEDBACK_AGG;
    a->h.ts_ns = from_ns;
    store_copy(a->symbol, sizeof a->symbol, ROW_STR(r, 0));
    store_copy(a->tag, sizeof a->tag, ROW_STR(r, 1));
    a->sample_count = ROW_I64(r, 2);
    a->avg_slippage_bps = ROW_DBL(r, 3);
    a->avg_impact_bps = ROW_DBL(r, 4);
    a->avg_quality_score = ROW_DBL(r, 5);
    a->avg_fill_latency_ms = ROW_DBL(r, 6);
    a->avg_fill_ratio = ROW_DBL(r, 7);
}

/* One row of a query (ops->query) of kind QTS_Q_TICKS, QTS_Q_BARS_1M,
 * QTS_Q_BARS_1D, QTS_Q_LEDGER or QTS_Q_DAILY_METRICS (any other kind reads
 * as a daily metric), columns:
 *   ticks:   time, symbol, kind, price, volume, bid, ask, source, rec_id
 *   bars:    time, symbol, open, high, low, close, volume, trade count
 *   ledger:  timestamp, symbol, side, qty, price, amount, fee, strategy_tag,
 *            order_id, broker, realized_pnl, rec_id
 *   daily:   day ("YYYY-MM-DD"), trades, buy_amount, sell_amount, fees,
 *            realized_pnl, symbols
 *   runs:    run_id, mode, status, config_path, started_at, ended_at,
 *            data_from, data_to, events, orders, rejected, fills, host_id */
static inline void store_row_query(const struct store_row *r, unsigned kind, unsigned pe,
                                   unsigned qe, union qts_store_any *u)
{
    memset(u, 0, sizeof *u);
    if (kind == QTS_Q_TICKS) {
        struct qts_store_tick *t = &u->tick;
        t->h.struct_size = sizeof *t;
        t->h.kind = QTS_REC_TICK;
        t->h.ts_ns = ROW_TS(r, 0);
        store_copy(t->symbol, sizeof t->symbol, ROW_STR(r, 1));
        t->tick_kind = (uint8_t)ROW_I64(r, 2);
        t->px_exp = (uint8_t)pe;
        t->qty_exp = (uint8_t)qe;
        t->px = ROW_FIXED(r, 3, pe);
        t->qty = ROW_FIXED(r, 4, qe);
        t->bid = ROW_FIXED(r, 5, pe);
        t->ask = ROW_FIXED(r, 6, pe);
        store_copy(t->source, sizeof t->source, ROW_STR(r, 7));
        t->h.rec_id = (uint64_t)ROW_I64(r, 8);
    } else if (kind == QTS_Q_BARS_1M || kind == QTS_Q_BARS_1D || kind == QTS_Q_BARS_1M_LAST ||
               kind == QTS_Q_BARS_1D_LAST) {
        struct qts_store_bar *b = &u->bar;
        b->h.struct_size = sizeof *b;
        b->h.kind = QTS_REC_BAR;
        b->h.ts_ns = ROW_TS(r, 0);
        store_copy(b->symbol, sizeof b->symbol, ROW_STR(r, 1));
        b->px_exp = (uint8_t)pe;
        b->qty_exp = (uint8_t)qe;
        b->period_ns = kind == QTS_Q_BARS_1M || kind == QTS_Q_BARS_1M_LAST ? STORE_NS_PER_MIN
                                                                           : STORE_NS_PER_DAY;
        b->open = ROW_FIXED(r, 2, pe);
        b->high = ROW_FIXED(r, 3, pe);
        b->low = ROW_FIXED(r, 4, pe);
        b->close = ROW_FIXED(r, 5, pe);
        b->volume = ROW_FIXED(r, 6, qe);
        b->n_trades = ROW_I64(r, 7);
    } else if (kind == QTS_Q_LEDGER) {
        struct qts_store_ledger *l = &u->ledger;
        l->h.struct_size = sizeof *l;
        l->h.kind = QTS_REC_LEDGER;
        l->h.ts_ns = ROW_TS(r, 0);
        store_copy(l->symbol, sizeof l->symbol, ROW_STR(r, 1));
        l->side = (uint8_t)store_side_parse(ROW_STR(r, 2));
        l->px_exp = (uint8_t)pe;
        l->qty_exp = (uint8_t)qe;
        l->qty = ROW_FIXED(r, 3, qe);
        l->px = ROW_FIXED(r, 4, pe);
        l->amount = ROW_FIXED(r, 5, QTS_CASH_EXP);
        l->fee = ROW_FIXED(r, 6, QTS_CASH_EXP);
        store_copy(l->strategy_tag, sizeof l->strategy_tag, ROW_STR(r, 7));
        store_copy(l->order_id, sizeof l->order_id, ROW_STR(r, 8));
        store_copy(l->broker, sizeof l->broker, ROW_STR(r, 9));
        l->realized_pnl = ROW_FIXED(r, 10, QTS_CASH_EXP);
        l->h.rec_id = (uint64_t)ROW_I64(r, 11);
    } else if (kind == QTS_Q_RUNS) {
        struct qts_store_run *x = &u->run;
        x->h.struct_size = sizeof *x;
        x->h.kind = QTS_REC_RUN;
        store_copy(x->run_id, sizeof x->run_id, ROW_STR(r, 0));
        store_copy(x->mode, sizeof x->mode, ROW_STR(r, 1));
        store_copy(x->status, sizeof x->status, ROW_STR(r, 2));
        store_copy(x->config_path, sizeof x->config_path, ROW_STR(r, 3));
        x->started_ns = x->h.ts_ns = ROW_TS(r, 4);
        x->ended_ns = ROW_TS(r, 5);
        x->data_from_ns = ROW_TS(r, 6);
        x->data_to_ns = ROW_TS(r, 7);
        x->events = ROW_FIXED(r, 8, 0);
        x->orders = ROW_FIXED(r, 9, 0);
        x->rejected = ROW_FIXED(r, 10, 0);
        x->fills = ROW_FIXED(r, 11, 0);
        store_copy(x->host_id, sizeof x->host_id, ROW_STR(r, 12));
    } else {
        struct qts_store_daily_metric *d = &u->daily_metric;
        d->h.struct_size = sizeof *d;
        d->h.kind = QTS_REC_DAILY_METRIC;
        store_copy(d->day, sizeof d->day, ROW_STR(r, 0));
        int y = 0, m = 0, dd = 0;
        sscanf(d->day, "%d-%d-%d", &y, &m, &dd);
        d->h.ts_ns = qts_days_from_civil(y, (unsigned)m, (unsigned)dd) * STORE_NS_PER_DAY;
        d->trades = ROW_I64(r, 1);
        d->buy_amount = ROW_FIXED(r, 2, QTS_CASH_EXP);
        d->sell_amount = ROW_FIXED(r, 3, QTS_CASH_EXP);
        d->fees = ROW_FIXED(r, 4, QTS_CASH_EXP);
        d->realized_pnl = ROW_FIXED(r, 5, QTS_CASH_EXP);
        d->symbols = ROW_I64(r, 6);
    }
}

#endif
