/* pg_read.c — the PostgreSQL store's reads (load_state, query) through
 * store_rows.h. */
#include "store_postgres.h"

/* ------------------------------------------------------------- reads */

/* store_rows.h reader over row->row of a PGresult (row->res); values come
 * as text. */
static int64_t v_fixed(const struct store_row *x, int col, unsigned exp)
{
    if (PQgetisnull(x->res, x->row, col))
        return QTS_STORE_NULL;
    int64_t v;
    return store_parse_fixed(PQgetvalue(x->res, x->row, col), exp, &v) == 0 ? v : QTS_STORE_NULL;
}

static int64_t v_ts(const struct store_row *x, int col)
{
    if (PQgetisnull(x->res, x->row, col))
        return QTS_STORE_NULL;
    int64_t v;
    return store_parse_ts(PQgetvalue(x->res, x->row, col), &v) == 0 ? v : QTS_STORE_NULL;
}

static double v_dbl(const struct store_row *x, int col)
{
    return PQgetisnull(x->res, x->row, col) ? NAN : strtod(PQgetvalue(x->res, x->row, col), NULL);
}

static int64_t v_i64(const struct store_row *x, int col)
{
    return PQgetisnull(x->res, x->row, col) ? 0
                                            : strtoll(PQgetvalue(x->res, x->row, col), NULL, 10);
}

/* PQgetvalue gives "" for NULL */
static const char *v_str(const struct store_row *x, int col)
{
    return PQgetvalue(x->res, x->row, col);
}

static const struct store_row_reader pg_reader = {
    .str = v_str, .i64 = v_i64, .dbl = v_dbl, .fixed = v_fixed, .ts = v_ts,
};

static int feedback_aggs(struct pg *s, int64_t from, int64_t to, const char *symbol, const char *tag,
                         int group, qts_store_record_fn cb, void *arg, struct qts_err *err)
{
    p_str(s, 0, s->host_id);
    p_ts(s, 1, from);
    p_ts(s, 2, to);
    p_str(s, 3, symbol);
    p_str(s, 4, tag);
    const char *sql =
        group ? "SELECT symbol, coalesce(strategy_tag, ''), count(*), avg(total_slippage_bps), "
                "avg(market_impact_bps), avg(execution_quality_score), avg(avg_fill_latency_ms), "
                "avg(fill_ratio) FROM feedback_data WHERE host_id = $1 AND time >= $2 AND time < $3 "
                "AND $4::text IS NOT NULL AND $5::text IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
              : "SELECT $4::text, $5::text, count(*), avg(total_slippage_bps), avg(market_impact_bps), "
                "avg(execution_quality_score), avg(avg_fill_latency_ms), avg(fill_ratio) "
                "FROM feedback_data WHERE host_id = $1 AND time >= $2 AND time < $3 "
                "AND ($4 = '' OR symbol = $4) AND ($5 = '' OR strategy_tag = $5)";
    PGresult *r = pg_select(s, sql, 5, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        struct qts_store_feedback_agg a;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_feedback_agg(&row, from, &a);
        rc = cb(arg, &a.h);
    }
    PQclear(r);
    return rc;
}

int pg_load_state(void *self, const struct qts_store_load_opts *o, qts_store_record_fn cb,
                  void *arg, struct qts_err *err)
{
    struct pg *s = self;
    unsigned pe = o->px_exp, qe = o->qty_exp;
    int rc = 0;
    p_str(s, 0, s->host_id);
    PGresult *r = pg_select(s, "SELECT symbol, strategy_type, qty, avg_price, market, exposure_value, "
                            "exposure_pct, unrealized_pnl, updated_at, rec_id FROM positions "
                            "WHERE host_id = $1 ORDER BY symbol, strategy_type", 1, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        struct qts_store_position p;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_position(&row, pe, qe, &p);
        rc = cb(arg, &p.h);
    }
    PQclear(r);
    if (rc)
        return rc;
    p_str(s, 0, s->host_id);
    r = pg_select(s, "SELECT order_id, client_order_id, venue_order_id, symbol, strategy_tag, strategy_id, "
                  "side, order_type, tif, state, price, qty, filled_qty, avg_fill_price, decision_price, "
                  "decided_at, sent_at, done_at, updated_at, rec_id FROM orders "
                  "WHERE host_id = $1 AND state NOT IN (4, 6, 7, 8) ORDER BY order_id", 1, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        struct qts_store_order x;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_order(&row, pe, qe, &x);
        rc = cb(arg, &x.h);
    }
    PQclear(r);
    if (rc)
        return rc;
    p_str(s, 0, s->host_id);
    r = pg_select(s, "SELECT strategy_id, param_name, value, value_type, description, updated_at, rec_id "
                  "FROM strategies WHERE host_id = $1 ORDER BY strategy_id, param_name", 1, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        struct qts_store_param p;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_param(&row, &p);
        rc = cb(arg, &p.h);
    }
    PQclear(r);
    if (rc)
        return rc;
    p_str(s, 0, s->host_id);
    r = pg_select(s, "SELECT config_key, value, description, updated_at, rec_id FROM risk_configs "
                  "WHERE host_id = $1 ORDER BY config_key", 1, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        struct qts_store_risk_config c;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_risk_config(&row, &c);
        rc = cb(arg, &c.h);
    }
    PQclear(r);
    if (rc)
        return rc;
    int64_t lb = o->feedback_lookback_ns > 0 ? o->feedback_lookback_ns : 24 * STORE_NS_PER_HOUR;
    return feedback_aggs(s, o->now_ns - lb, o->now_ns, "", "", 1, cb, arg, err);
}

int pg_query(void *self, const struct qts_store_query *q, qts_store_record_fn cb, void *arg,
             struct qts_err *err)
{
    struct pg *s = self;
    unsigned pe = q->px_exp, qe = q->qty_exp;
    const char *sql;
    switch (q->kind) {
    case QTS_Q_TICKS:
        sql = "SELECT time, symbol, kind, price, volume, bid, ask, source, rec_id FROM tick_data "
              "WHERE symbol = $1 AND time >= $2 AND time < $3 AND $5::text IS NOT NULL "
              "ORDER BY time, rec_id LIMIT $4";
        break;
    case QTS_Q_BARS_1M:
        sql = "SELECT bucket, symbol, open, high, low, close, volume, tick_count FROM ohlcv_1m "
              "WHERE symbol = $1 AND bucket >= $2 AND bucket < $3 AND $5::text IS NOT NULL "
              "ORDER BY bucket LIMIT $4";
        break;
    case QTS_Q_BARS_1D:
        sql = "SELECT time, symbol, open, high, low, close, volume, 0 FROM ohlcv_1d "
              "WHERE symbol = $1 AND time >= $2 AND time < $3 AND $5::text IS NOT NULL "
              "ORDER BY time LIMIT $4";
        break;
    case QTS_Q_LEDGER:
        sql = "SELECT timestamp, symbol, side, qty, price, amount, fee, strategy_tag, order_id, broker, "
              "realized_pnl, rec_id FROM t_ledger WHERE host_id = $5 AND ($1 = '' OR symbol = $1) "
              "AND timestamp >= $2 AND timestamp < $3 ORDER BY timestamp DESC, id DESC LIMIT $4";
        break;
    case QTS_Q_DAILY_METRICS:
        sql = "SELECT day, trades, buy_amount, sell_amount, fees, realized_pnl, symbols FROM daily_metrics "
              "WHERE host_id = $5 AND $1::text IS NOT NULL AND day >= ($2::timestamptz AT TIME ZONE "
              "'Asia/Seoul')::date AND day < ($3::timestamptz AT TIME ZONE 'Asia/Seoul')::date "
              "ORDER BY day LIMIT $4";
        break;
    case QTS_Q_FEEDBACK_SUMMARY:
        return feedback_aggs(s, q->from_ns, q->to_ns, q->symbol, q->tag, 0, cb, arg, err);
    default:
        return qts_err_set(err, QTS_EUNSUPPORTED, "store_postgres: query kind %u", q->kind);
    }
    p_str(s, 0, q->symbol);
    p_ts(s, 1, q->from_ns);
    p_ts(s, 2, q->to_ns);
    if (q->limit)
        p_i64(s, 3, q->limit);
    else
        s->val[3] = NULL; /* LIMIT NULL = no limit */
    p_str(s, 4, s->host_id);
    PGresult *r = pg_select(s, sql, 5, err);
    if (!r)
        return err ? err->code : QTS_EDB;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        union qts_store_any u;
        struct store_row row = {.rd = &pg_reader, .res = r, .row = i};
        store_row_query(&row, q->kind, pe, qe, &u);
        rc = cb(arg, &u.h);
    }
    PQclear(r);
    return rc;
}
