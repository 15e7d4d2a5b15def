/* store_cols.h — store records -> table columns, shared by the store
 * plugins (header-only, like store_rows.h, which does the way back).
 *
 * One column table per record kind says, once for every backend, which
 * table a record goes to, each column's name and where its value sits in
 * the record, and the table's conflict rule. From it come the INSERT
 * statement (store_insert_sql) and a record's values in column order
 * (store_values); a backend only binds typed values (SQLite: prepared
 * statements; PostgreSQL: text parameters and COPY text).
 *
 * Value conventions (each backend keeps them in its own types):
 *   TEXT  the field's text, "" stays "";   TEXTN "" -> NULL;
 *   INT   an integer field;                INTN  QTS_STORE_NULL -> NULL;
 *   FIXED fixed point with `exp` decimals, QTS_STORE_NULL -> NULL;
 *   TS    nanoseconds since the epoch;     TSN   QTS_STORE_NULL -> NULL;
 *   DBL   NaN -> NULL;  BOOL 0/1;  HASH 32 bytes or NULL. */
#ifndef QTS_STORE_COLS_H
#define QTS_STORE_COLS_H

#include <inttypes.h>
#include <stddef.h>

#include "qts/qts_err.h"
#include "store_fmt.h"

enum store_col_type {
    STORE_TEXT,
    STORE_TEXTN,
    STORE_INT,
    STORE_INTN,
    STORE_FIXED,
    STORE_TS,
    STORE_TSN,
    STORE_DBL,
    STORE_BOOL,
    STORE_HASH,
};

/* Where a column's value comes from. */
enum store_col_src {
    SRC_FIELD,     /* the record field at `off` */
    SRC_HOST,      /* the store's host_id (text) */
    SRC_SIDE,      /* the uint8_t side at `off`, as BUY/SELL (text) */
    SRC_TICK_KIND, /* the uint8_t tick kind at `off`: 2 for a quote, else 1 (int) */
};

struct store_col {
    const char *name;
    uint8_t type;      /* enum store_col_type */
    uint8_t src;       /* enum store_col_src */
    uint8_t is_signed; /* integer field of a signed type narrower than 64 bits */
    uint16_t size;     /* bytes of the field (an integer's width, a string's capacity) */
    uint16_t off;      /* offset of the field in the record */
    /* FIXED: offset of the uint8_t exponent field, or STORE_EXP(n) for a
     * constant; HASH: offset of the uint8_t "present" flag */
    int16_t aux;
    const char *dflt; /* TEXT: written for ""; INT: written for 0 (decimal) */
};

#define STORE_EXP(n) ((int16_t)(-1 - (n)))

#define STORE_FIELD_(R, f) (((const R *)0)->f)
#define STORE_COL_S_(nm, ty, src, R, f, is_signed, aux, dflt)                                   \
    {                                                                                           \
        nm, ty, src, is_signed, (uint16_t)sizeof(STORE_FIELD_(R, f)), (uint16_t)offsetof(R, f), \
            (int16_t)(aux), dflt                                                                \
    }
#define STORE_COL_(nm, ty, src, R, f, aux, dflt) STORE_COL_S_(nm, ty, src, R, f, 0, aux, dflt)
/* a field of record type R */
#define COL(nm, ty, R, f) STORE_COL_(nm, ty, SRC_FIELD, R, f, 0, NULL)
#define COL_OR(nm, ty, R, f, dflt) STORE_COL_(nm, ty, SRC_FIELD, R, f, 0, dflt)
#define COL_FIXED(nm, R, f, e) STORE_COL_(nm, STORE_FIXED, SRC_FIELD, R, f, offsetof(R, e), NULL)
#define COL_CASH(nm, R, f) \
    STORE_COL_(nm, STORE_FIXED, SRC_FIELD, R, f, STORE_EXP(QTS_CASH_EXP), NULL)
#define COL_SIDE(nm, R, f) STORE_COL_(nm, STORE_TEXT, SRC_SIDE, R, f, 0, NULL)
/* the header's fields and the host */
#define COL_HOST                                          \
    {                                                     \
        "host_id", STORE_TEXT, SRC_HOST, 0, 0, 0, 0, NULL \
    }
#define COL_REC_ID(R) COL("rec_id", STORE_INT, R, h.rec_id)
#define COL_TIME(nm, R) COL(nm, STORE_TS, R, h.ts_ns)
/* the run that wrote the row (appended field; "" for records without it) */
#define COL_RUN(R) COL("run_id", STORE_TEXT, R, run_id)
/* the leading columns of every append (time series) table */
#define COLS_APPEND(R) COL_HOST, COL_REC_ID(R), COL_TIME("time", R)

#define T_(R) struct qts_store_##R

static const struct store_col store_cols_tick[] = {
    COLS_APPEND(T_(tick)),
    COL("symbol", STORE_TEXT, T_(tick), symbol),
    STORE_COL_("kind", STORE_INT, SRC_TICK_KIND, T_(tick), tick_kind, 0, NULL),
    COL_FIXED("price", T_(tick), px, px_exp),
    COL_FIXED("volume", T_(tick), qty, qty_exp),
    COL_FIXED("bid", T_(tick), bid, px_exp),
    COL_FIXED("ask", T_(tick), ask, px_exp),
    COL("source", STORE_TEXTN, T_(tick), source),
    COL_RUN(T_(tick)),
};

#define BAR_PRICES(R)                                                           \
    COL_FIXED("open", R, open, px_exp), COL_FIXED("high", R, high, px_exp),     \
        COL_FIXED("low", R, low, px_exp), COL_FIXED("close", R, close, px_exp), \
        COL_FIXED("volume", R, volume, qty_exp)

static const struct store_col store_cols_bar_1m[] = {
    COL_TIME("bucket", T_(bar)),
    COL("symbol", STORE_TEXT, T_(bar), symbol),
    BAR_PRICES(T_(bar)),
    COL("tick_count", STORE_INT, T_(bar), n_trades),
};

static const struct store_col store_cols_bar_1d[] = {
    COL_TIME("time", T_(bar)),
    COL("symbol", STORE_TEXT, T_(bar), symbol),
    BAR_PRICES(T_(bar)),
};

static const struct store_col store_cols_order[] = {
    COL_HOST,
    COL("order_id", STORE_INT, T_(order), order_id),
    COL_REC_ID(T_(order)),
    COL("client_order_id", STORE_TEXT, T_(order), client_order_id),
    COL("venue_order_id", STORE_TEXTN, T_(order), venue_order_id),
    COL("symbol", STORE_TEXT, T_(order), symbol),
    COL("strategy_tag", STORE_TEXTN, T_(order), tag),
    COL("strategy_id", STORE_INT, T_(order), strategy_id),
    COL_SIDE("side", T_(order), side),
    COL("order_type", STORE_INT, T_(order), type),
    COL("tif", STORE_INT, T_(order), tif),
    COL("state", STORE_INT, T_(order), state),
    COL_FIXED("price", T_(order), px, px_exp),
    COL_FIXED("qty", T_(order), qty, qty_exp),
    COL_FIXED("filled_qty", T_(order), filled_qty, qty_exp),
    COL_FIXED("avg_fill_price", T_(order), avg_fill_px, px_exp),
    COL_FIXED("decision_price", T_(order), decision_px, px_exp),
    COL("decided_at", STORE_TS, T_(order), ts_decided_ns),
    COL("sent_at", STORE_TSN, T_(order), ts_sent_ns),
    COL("done_at", STORE_TSN, T_(order), ts_done_ns),
    COL_TIME("updated_at", T_(order)),
    COL_RUN(T_(order)),
};

static const struct store_col store_cols_order_event[] = {
    COLS_APPEND(T_(order_event)),
    COL("order_id", STORE_INT, T_(order_event), order_id),
    COL("client_order_id", STORE_TEXT, T_(order_event), client_order_id),
    COL("event", STORE_INT, T_(order_event), event),
    COL("state", STORE_INT, T_(order_event), state),
    STORE_COL_S_("code", STORE_INT, SRC_FIELD, T_(order_event), code, 1, 0, NULL), /* int32_t */
    COL_FIXED("filled_qty", T_(order_event), filled_qty, qty_exp),
    COL_FIXED("leaves_qty", T_(order_event), leaves_qty, qty_exp),
    COL_FIXED("avg_price", T_(order_event), avg_px, px_exp),
    COL("reason", STORE_TEXTN, T_(order_event), reason),
    COL_RUN(T_(order_event)),
};

static const struct store_col store_cols_fill[] = {
    COLS_APPEND(T_(fill)),
    COL("order_id", STORE_INT, T_(fill), order_id),
    COL("fill_id", STORE_INT, T_(fill), fill_id),
    COL("client_order_id", STORE_TEXT, T_(fill), client_order_id),
    COL("symbol", STORE_TEXT, T_(fill), symbol),
    COL("strategy_tag", STORE_TEXTN, T_(fill), tag),
    COL_SIDE("side", T_(fill), side),
    COL("is_maker", STORE_BOOL, T_(fill), is_maker),
    COL_FIXED("price", T_(fill), px, px_exp),
    COL_FIXED("qty", T_(fill), qty, qty_exp),
    COL_CASH("fee", T_(fill), fee),
    COL_RUN(T_(fill)),
};

static const struct store_col store_cols_exec_log[] = {
    COLS_APPEND(T_(exec_log)),
    COL("order_id", STORE_TEXT, T_(exec_log), order_id),
    COL("symbol", STORE_TEXT, T_(exec_log), symbol),
    COL("stage", STORE_TEXT, T_(exec_log), stage),
    STORE_COL_("latency_ms", STORE_FIXED, SRC_FIELD, T_(exec_log), latency_us, STORE_EXP(3), NULL),
    COL("success", STORE_BOOL, T_(exec_log), success),
    COL("error_code", STORE_TEXTN, T_(exec_log), error_code),
    COL_RUN(T_(exec_log)),
};

static const struct store_col store_cols_feedback[] = {
    COLS_APPEND(T_(feedback)),
    COL("symbol", STORE_TEXT, T_(feedback), symbol),
    COL("order_id", STORE_TEXT, T_(feedback), order_id),
    COL("strategy_tag", STORE_TEXTN, T_(feedback), tag),
    COL("strategy_type", STORE_TEXTN, T_(feedback), strategy_type),
    COL_SIDE("side", T_(feedback), side),
    COL("order_type", STORE_TEXTN, T_(feedback), order_type),
    COL("execution_start", STORE_TS, T_(feedback), execution_start_ns),
    COL_TIME("feedback_generated_at", T_(feedback)),
    COL_FIXED("decision_price", T_(feedback), decision_px, px_exp),
    COL_FIXED("avg_fill_price", T_(feedback), avg_fill_px, px_exp),
    COL_FIXED("original_qty", T_(feedback), original_qty, qty_exp),
    COL_FIXED("total_filled_qty", T_(feedback), filled_qty, qty_exp),
    COL("fill_ratio", STORE_DBL, T_(feedback), fill_ratio),
    COL("total_slippage_bps", STORE_DBL, T_(feedback), slippage_bps),
    COL("avg_fill_latency_ms", STORE_DBL, T_(feedback), avg_fill_latency_ms),
    COL("first_fill_latency_ms", STORE_DBL, T_(feedback), first_fill_latency_ms),
    COL("complete_fill_latency_ms", STORE_DBL, T_(feedback), complete_fill_latency_ms),
    COL("volatility_at_execution", STORE_DBL, T_(feedback), volatility),
    COL("spread_at_execution", STORE_DBL, T_(feedback), spread_bps),
    COL("post_spread_bps", STORE_DBL, T_(feedback), post_spread_bps),
    COL("depth_at_execution", STORE_INTN, T_(feedback), depth),
    COL("market_impact_bps", STORE_DBL, T_(feedback), impact_bps),
    COL("realized_impact_bps", STORE_DBL, T_(feedback), realized_impact_bps),
    COL("execution_quality_score", STORE_DBL, T_(feedback), quality_score),
    COL_OR("score_version", STORE_INT, T_(feedback), score_version, "1"),
    COL_RUN(T_(feedback)),
};

static const struct store_col store_cols_decision[] = {
    COLS_APPEND(T_(decision)),
    COL("cycle_id", STORE_TEXT, T_(decision), cycle_id),
    COL("symbol", STORE_TEXT, T_(decision), symbol),
    COL("action", STORE_TEXT, T_(decision), action),
    COL("strategy_tag", STORE_TEXTN, T_(decision), tag),
    COL_FIXED("price", T_(decision), px, px_exp),
    COL_FIXED("qty", T_(decision), qty, qty_exp),
    COL("signal_confidence", STORE_DBL, T_(decision), confidence),
    COL("risk_score", STORE_DBL, T_(decision), risk_score),
    COL("operating_state", STORE_TEXTN, T_(decision), operating_state),
    COL("feedback_applied", STORE_BOOL, T_(decision), feedback_applied),
    COL("feedback_slippage_bps", STORE_DBL, T_(decision), fb_slippage_bps),
    COL("feedback_quality_score", STORE_DBL, T_(decision), fb_quality_score),
    COL("capital_blocked", STORE_BOOL, T_(decision), capital_blocked),
    COL("approved", STORE_BOOL, T_(decision), approved),
    COL("reason", STORE_TEXTN, T_(decision), reason),
    COL("act_status", STORE_TEXTN, T_(decision), act_status),
    COL_RUN(T_(decision)),
    COL("order_id", STORE_INT, T_(decision), order_id),
    COL("codes", STORE_TEXTN, T_(decision), codes),
    COL("inputs", STORE_TEXTN, T_(decision), inputs),
};

static const struct store_col store_cols_position[] = {
    COL_HOST,
    COL("symbol", STORE_TEXT, T_(position), symbol),
    COL_OR("strategy_type", STORE_TEXT, T_(position), strategy_type, "NET"),
    COL_REC_ID(T_(position)),
    COL_FIXED("qty", T_(position), qty, qty_exp),
    COL_FIXED("avg_price", T_(position), avg_px, px_exp),
    COL("market", STORE_TEXTN, T_(position), market),
    COL_CASH("exposure_value", T_(position), exposure_value),
    COL("exposure_pct", STORE_DBL, T_(position), exposure_pct),
    COL_CASH("unrealized_pnl", T_(position), unrealized_pnl),
    COL_TIME("updated_at", T_(position)),
    COL_RUN(T_(position)),
};

static const struct store_col store_cols_param[] = {
    COL_HOST,
    COL("strategy_id", STORE_TEXT, T_(param), strategy_id),
    COL("param_name", STORE_TEXT, T_(param), param_name),
    COL_REC_ID(T_(param)),
    COL("value", STORE_TEXT, T_(param), value),
    COL_OR("value_type", STORE_TEXT, T_(param), value_type, "string"),
    COL("description", STORE_TEXTN, T_(param), description),
    COL_TIME("updated_at", T_(param)),
    COL_RUN(T_(param)),
};

static const struct store_col store_cols_risk_config[] = {
    COL_HOST,
    COL("config_key", STORE_TEXT, T_(risk_config), config_key),
    COL_REC_ID(T_(risk_config)),
    COL_FIXED("value", T_(risk_config), value, exp),
    COL("description", STORE_TEXTN, T_(risk_config), description),
    COL_TIME("updated_at", T_(risk_config)),
    COL_RUN(T_(risk_config)),
};

static const struct store_col store_cols_ledger[] = {
    COL_HOST,
    COL_REC_ID(T_(ledger)),
    COL_TIME("timestamp", T_(ledger)),
    COL("symbol", STORE_TEXT, T_(ledger), symbol),
    COL_SIDE("side", T_(ledger), side),
    COL_FIXED("qty", T_(ledger), qty, qty_exp),
    COL_FIXED("price", T_(ledger), px, px_exp),
    COL_CASH("amount", T_(ledger), amount),
    COL_CASH("fee", T_(ledger), fee),
    COL("strategy_tag", STORE_TEXTN, T_(ledger), strategy_tag),
    COL("order_id", STORE_TEXTN, T_(ledger), order_id),
    COL("broker", STORE_TEXTN, T_(ledger), broker),
    COL_CASH("realized_pnl", T_(ledger), realized_pnl),
    STORE_COL_("src_hash", STORE_HASH, SRC_FIELD, T_(ledger), src_hash,
               offsetof(T_(ledger), has_src_hash), NULL),
    COL_RUN(T_(ledger)),
};

static const struct store_col store_cols_account[] = {
    COL_HOST,
    COL("date", STORE_TEXT, T_(account), date),
    COL_REC_ID(T_(account)),
    COL_CASH("total_equity", T_(account), total_equity),
    COL_CASH("daily_pnl", T_(account), daily_pnl),
    COL("daily_return", STORE_DBL, T_(account), daily_return),
    COL("cumulative_return", STORE_DBL, T_(account), cumulative_return),
    COL("volatility_20d", STORE_DBL, T_(account), volatility_20d),
    COL_CASH("high_watermark", T_(account), high_watermark),
    COL("drawdown", STORE_DBL, T_(account), drawdown),
    COL("mdd", STORE_DBL, T_(account), mdd),
    COL("note", STORE_TEXTN, T_(account), note),
};

static const struct store_col store_cols_config[] = {
    COL_HOST,
    COL("scope", STORE_TEXT, T_(config), scope),
    COL("key", STORE_TEXT, T_(config), key),
    COL_REC_ID(T_(config)),
    COL("category", STORE_TEXT, T_(config), category),
    COL("subcategory", STORE_TEXT, T_(config), subcategory),
    COL("value", STORE_TEXT, T_(config), value),
    COL("description", STORE_TEXTN, T_(config), description),
    COL("tag", STORE_TEXTN, T_(config), tag),
    COL_TIME("updated_at", T_(config)),
};

static const struct store_col store_cols_run[] = {
    COL_HOST,
    COL("run_id", STORE_TEXT, T_(run), run_id),
    COL_REC_ID(T_(run)),
    COL("mode", STORE_TEXT, T_(run), mode),
    COL("config_path", STORE_TEXTN, T_(run), config_path),
    COL("started_at", STORE_TS, T_(run), started_ns),
    COL("ended_at", STORE_TSN, T_(run), ended_ns),
    COL("data_from", STORE_TSN, T_(run), data_from_ns),
    COL("data_to", STORE_TSN, T_(run), data_to_ns),
    COL("events", STORE_INTN, T_(run), events),
    COL("orders", STORE_INTN, T_(run), orders),
    COL("rejected", STORE_INTN, T_(run), rejected),
    COL("fills", STORE_INTN, T_(run), fills),
    COL("status", STORE_TEXT, T_(run), status),
};

#undef T_
#undef BAR_PRICES

/* A table and its conflict rule. `key` NULL: an append (a replayed row is
 * ignored); else the upsert's key columns: every other column is updated,
 * and with is_guarded only when the stored row's rec_id is not newer (a
 * replay never rolls state back). */
struct store_tab {
    const char *name;
    const char *key;
    int is_guarded;
    const struct store_col *cols;
    int n;
};

enum {
    STORE_T_TICK,
    STORE_T_BAR_1M,
    STORE_T_BAR_1D,
    STORE_T_ORDER,
    STORE_T_ORDER_EVENT,
    STORE_T_FILL,
    STORE_T_EXEC_LOG,
    STORE_T_FEEDBACK,
    STORE_T_DECISION,
    STORE_T_POSITION,
    STORE_T_PARAM,
    STORE_T_RISK,
    STORE_T_LEDGER,
    STORE_T_ACCOUNT,
    STORE_T_CONFIG,
    STORE_T_RUN,
    STORE_T_COUNT
};

#define STORE_TAB(nm, key, guard, cols)                           \
    {                                                             \
        nm, key, guard, cols, (int)(sizeof cols / sizeof cols[0]) \
    }

static const struct store_tab store_tabs[STORE_T_COUNT] = {
    [STORE_T_TICK] = STORE_TAB("tick_data", NULL, 0, store_cols_tick),
    [STORE_T_BAR_1M] = STORE_TAB("ohlcv_1m", "symbol, bucket", 0, store_cols_bar_1m),
    [STORE_T_BAR_1D] = STORE_TAB("ohlcv_1d", "symbol, time", 0, store_cols_bar_1d),
    [STORE_T_ORDER] = STORE_TAB("orders", "host_id, run_id, order_id", 1, store_cols_order),
    [STORE_T_ORDER_EVENT] = STORE_TAB("order_events", NULL, 0, store_cols_order_event),
    [STORE_T_FILL] = STORE_TAB("fills", NULL, 0, store_cols_fill),
    [STORE_T_EXEC_LOG] = STORE_TAB("execution_logs", NULL, 0, store_cols_exec_log),
    [STORE_T_FEEDBACK] = STORE_TAB("feedback_data", NULL, 0, store_cols_feedback),
    [STORE_T_DECISION] = STORE_TAB("decision_log", NULL, 0, store_cols_decision),
    [STORE_T_POSITION] =
        STORE_TAB("positions", "host_id, run_id, symbol, strategy_type", 1, store_cols_position),
    [STORE_T_PARAM] =
        STORE_TAB("strategies", "host_id, run_id, strategy_id, param_name", 1, store_cols_param),
    [STORE_T_RISK] =
        STORE_TAB("risk_configs", "host_id, run_id, config_key", 1, store_cols_risk_config),
    [STORE_T_LEDGER] = STORE_TAB("t_ledger", NULL, 0, store_cols_ledger),
    [STORE_T_ACCOUNT] = STORE_TAB("account_history", "host_id, date", 1, store_cols_account),
    [STORE_T_CONFIG] = STORE_TAB("config", "host_id, scope, key", 1, store_cols_config),
    [STORE_T_RUN] = STORE_TAB("runs", "host_id, run_id", 1, store_cols_run),
};

#define STORE_COLS_MAX 32

/* The table a record is written to (STORE_T_*), or a negative QTS_E* with
 * err filled for a record no table takes. */
static inline int store_tab_of(const struct qts_store_record *r, struct qts_err *err)
{
    switch (r->kind) {
    case QTS_REC_TICK: return STORE_T_TICK;
    case QTS_REC_BAR: {
        int64_t period = ((const struct qts_store_bar *)(const void *)r)->period_ns;
        if (period == STORE_NS_PER_DAY)
            return STORE_T_BAR_1D;
        if (period == STORE_NS_PER_MIN)
            return STORE_T_BAR_1M;
        return qts_err_set(err, QTS_EINVAL, "bar period %" PRId64 " ns not stored", period);
    }
    case QTS_REC_ORDER: return STORE_T_ORDER;
    case QTS_REC_ORDER_EVENT: return STORE_T_ORDER_EVENT;
    case QTS_REC_FILL: return STORE_T_FILL;
    case QTS_REC_EXEC_LOG: return STORE_T_EXEC_LOG;
    case QTS_REC_FEEDBACK: return STORE_T_FEEDBACK;
    case QTS_REC_DECISION: return STORE_T_DECISION;
    case QTS_REC_POSITION: return STORE_T_POSITION;
    case QTS_REC_PARAM: return STORE_T_PARAM;
    case QTS_REC_RISK_CONFIG: return STORE_T_RISK;
    case QTS_REC_LEDGER: return STORE_T_LEDGER;
    case QTS_REC_ACCOUNT: return STORE_T_ACCOUNT;
    case QTS_REC_CONFIG: return STORE_T_CONFIG;
    case QTS_REC_RUN: return STORE_T_RUN;
    default: return qts_err_set(err, QTS_EINVAL, "record kind %u not writable", r->kind);
    }
}

/* One column's value, typed. Text is borrowed from the record (or static). */
struct store_val {
    uint8_t type; /* enum store_col_type */
    uint8_t exp;  /* FIXED */
    int is_null;
    const char *s;       /* TEXT, TEXTN */
    int64_t i;           /* INT, INTN, FIXED, TS, TSN, BOOL */
    double d;            /* DBL */
    const uint8_t *hash; /* HASH: 32 bytes */
};

static inline int64_t store_int_field(const char *p, unsigned size, int is_signed)
{
    if (size == 1)
        return is_signed ? (int64_t) * (const int8_t *)p : (int64_t) * (const uint8_t *)p;
    if (size == 2)
        return is_signed ? (int64_t) * (const int16_t *)(const void *)p
                         : (int64_t) * (const uint16_t *)(const void *)p;
    if (size == 4)
        return is_signed ? (int64_t) * (const int32_t *)(const void *)p
                         : (int64_t) * (const uint32_t *)(const void *)p;
    return *(const int64_t *)(const void *)p;
}

/* The values of record `r` for table `t`, in column order, into v[t->n]. */
static inline void store_values(const struct store_tab *t, const struct qts_store_record *r,
                                const char *host_id, struct store_val *v)
{
    const char *base = (const char *)r;
    for (int k = 0; k < t->n; k++) {
        const struct store_col *c = &t->cols[k];
        const char *p = base + c->off;
        struct store_val *x = &v[k];
        memset(x, 0, sizeof *x);
        x->type = c->type;
        switch (c->src) {
        case SRC_HOST: x->s = host_id; break;
        case SRC_SIDE: x->s = store_side_str(*(const uint8_t *)p); break;
        case SRC_TICK_KIND: x->i = *(const uint8_t *)p == QTS_TICK_QUOTE ? 2 : 1; break;
        default:
            if (c->off >= r->struct_size) {
                /* a field appended after this record was made (an older
                 * journal's record): its text is "" and its number 0 */
                x->s = c->dflt ? c->dflt : "";
                x->is_null = c->type != STORE_TEXT && c->type != STORE_INT &&
                             c->type != STORE_BOOL && c->type != STORE_TS;
                break;
            }
            switch (c->type) {
            case STORE_TEXT:
            case STORE_TEXTN:
                x->s = p[0] || !c->dflt ? p : c->dflt;
                x->is_null = c->type == STORE_TEXTN && !x->s[0];
                break;
            case STORE_DBL:
                x->d = *(const double *)(const void *)p;
                x->is_null = isnan(x->d);
                break;
            case STORE_HASH:
                x->hash = (const uint8_t *)p;
                x->is_null = !*(const uint8_t *)(base + c->aux);
                break;
            default:
                x->i = store_int_field(p, c->size, c->is_signed);
                if (x->i == 0 && c->dflt)
                    x->i = strtoll(c->dflt, NULL, 10);
                if (c->type == STORE_BOOL)
                    x->i = x->i != 0;
                if (c->type == STORE_FIXED)
                    x->exp =
                        c->aux < 0 ? (uint8_t)(-1 - c->aux) : *(const uint8_t *)(base + c->aux);
                x->is_null =
                    (c->type == STORE_INTN || c->type == STORE_TSN || c->type == STORE_FIXED) &&
                    x->i == QTS_STORE_NULL;
            }
        }
    }
}

/* The table record `r` goes to (STORE_T_*) and its values in v, or a
 * negative QTS_E* with err filled. */
static inline int store_record_values(const struct qts_store_record *r, const char *host_id,
                                      struct store_val *v, struct qts_err *err)
{
    int t = store_tab_of(r, err);
    if (t >= 0)
        store_values(&store_tabs[t], r, host_id, v);
    return t;
}

/* The way back for export_table: values in column order (FIXED with the
 * exponent they carry) into a record of table `t` in *u, exponent fields
 * set to the values' exponent, constant-exponent columns rescaled. The
 * host column is not kept (the writing store stamps its own). Returns the
 * record inside u. */
static inline const struct qts_store_record *
store_record_from_values(int t, const struct store_val *v, union qts_store_any *u)
{
    static const struct {
        uint16_t kind;
        uint32_t size;
    } rec[STORE_T_COUNT] = {
        [STORE_T_TICK] = {QTS_REC_TICK, sizeof(struct qts_store_tick)},
        [STORE_T_BAR_1M] = {QTS_REC_BAR, sizeof(struct qts_store_bar)},
        [STORE_T_BAR_1D] = {QTS_REC_BAR, sizeof(struct qts_store_bar)},
        [STORE_T_ORDER] = {QTS_REC_ORDER, sizeof(struct qts_store_order)},
        [STORE_T_ORDER_EVENT] = {QTS_REC_ORDER_EVENT, sizeof(struct qts_store_order_event)},
        [STORE_T_FILL] = {QTS_REC_FILL, sizeof(struct qts_store_fill)},
        [STORE_T_EXEC_LOG] = {QTS_REC_EXEC_LOG, sizeof(struct qts_store_exec_log)},
        [STORE_T_FEEDBACK] = {QTS_REC_FEEDBACK, sizeof(struct qts_store_feedback)},
        [STORE_T_DECISION] = {QTS_REC_DECISION, sizeof(struct qts_store_decision)},
        [STORE_T_POSITION] = {QTS_REC_POSITION, sizeof(struct qts_store_position)},
        [STORE_T_PARAM] = {QTS_REC_PARAM, sizeof(struct qts_store_param)},
        [STORE_T_RISK] = {QTS_REC_RISK_CONFIG, sizeof(struct qts_store_risk_config)},
        [STORE_T_LEDGER] = {QTS_REC_LEDGER, sizeof(struct qts_store_ledger)},
        [STORE_T_ACCOUNT] = {QTS_REC_ACCOUNT, sizeof(struct qts_store_account)},
        [STORE_T_CONFIG] = {QTS_REC_CONFIG, sizeof(struct qts_store_config)},
        [STORE_T_RUN] = {QTS_REC_RUN, sizeof(struct qts_store_run)},
    };
    memset(u, 0, sizeof *u);
    char *base = (char *)u;
    u->h.kind = rec[t].kind;
    u->h.struct_size = rec[t].size;
    if (t == STORE_T_BAR_1M || t == STORE_T_BAR_1D)
        u->bar.period_ns = t == STORE_T_BAR_1M ? STORE_NS_PER_MIN : STORE_NS_PER_DAY;
    const struct store_tab *tab = &store_tabs[t];
    for (int k = 0; k < tab->n; k++) {
        const struct store_col *c = &tab->cols[k];
        const struct store_val *x = &v[k];
        char *p = base + c->off;
        int64_t i = x->i;
        switch (c->src) {
        case SRC_HOST: continue;
        case SRC_SIDE: *(uint8_t *)p = (uint8_t)store_side_parse(x->s ? x->s : ""); continue;
        case SRC_TICK_KIND: *(uint8_t *)p = x->i == 2 ? QTS_TICK_QUOTE : QTS_TICK_TRADE; continue;
        default: break;
        }
        switch (c->type) {
        case STORE_TEXT:
        case STORE_TEXTN: store_copy(p, c->size, x->is_null || !x->s ? "" : x->s); continue;
        case STORE_DBL: *(double *)(void *)p = x->is_null ? NAN : x->d; continue;
        case STORE_HASH:
            if (!x->is_null && x->hash) {
                memcpy(p, x->hash, 32);
                base[c->aux] = 1;
            }
            continue;
        case STORE_FIXED:
            if (x->is_null)
                i = QTS_STORE_NULL;
            else if (c->aux < 0)
                i = store_rescale(i, x->exp, (unsigned)(-1 - c->aux));
            else
                *(uint8_t *)(base + c->aux) = x->exp;
            break;
        default:
            if (x->is_null)
                i = c->type == STORE_INTN || c->type == STORE_TSN ? QTS_STORE_NULL : 0;
        }
        switch (c->size) {
        case 1: *(uint8_t *)p = (uint8_t)i; break;
        case 2: *(uint16_t *)(void *)p = (uint16_t)i; break;
        case 4: *(uint32_t *)(void *)p = (uint32_t)i; break;
        default: *(int64_t *)(void *)p = i;
        }
    }
    return &u->h;
}

static inline int store_key_has(const char *key, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = key; p && *p;) {
        p += strspn(p, ", ");
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, name, n) == 0)
            return 1;
        p += k;
    }
    return 0;
}

/* The INSERT of table `t` with parameters `mark`1..n ('?' for SQLite, '$'
 * for PostgreSQL) and its conflict rule. Returns the length, or -1 if
 * `cap` is too small. */
static inline int store_insert_sql(const struct store_tab *t, char mark, char *buf, size_t cap)
{
    size_t n = 0;
#define PUT(...)                                                        \
    do {                                                                \
        int w_ = snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__); \
        n += w_ > 0 ? (size_t)w_ : 0;                                   \
    } while (0)
    PUT("INSERT INTO %s (", t->name);
    for (int k = 0; k < t->n; k++)
        PUT("%s%s", k ? ", " : "", t->cols[k].name);
    PUT(") VALUES (");
    for (int k = 0; k < t->n; k++)
        PUT("%s%c%d", k ? "," : "", mark, k + 1);
    if (!t->key) {
        PUT(") ON CONFLICT DO NOTHING");
    } else {
        PUT(") ON CONFLICT (%s) DO UPDATE SET ", t->key);
        int first = 1;
        for (int k = 0; k < t->n; k++) {
            if (store_key_has(t->key, t->cols[k].name))
                continue;
            PUT("%s%s=excluded.%s", first ? "" : ", ", t->cols[k].name, t->cols[k].name);
            first = 0;
        }
        if (t->is_guarded)
            PUT(" WHERE %s.rec_id <= excluded.rec_id", t->name);
    }
#undef PUT
    return n < cap ? (int)n : -1;
}

/* Event-time ranges a batch touched, for the rollups' dirty marks: trades
 * (not quotes) for the bars, ledger rows for the PnL rollups. */
struct store_dirty {
    int64_t tick_lo, tick_hi, led_lo, led_hi;
};

/* Extend the event-time range [*lo, *hi] (QTS_STORE_NULL = empty) by t. */
static inline void store_range_add(int64_t *lo, int64_t *hi, int64_t t)
{
    if (*lo == QTS_STORE_NULL || t < *lo)
        *lo = t;
    if (*hi == QTS_STORE_NULL || t > *hi)
        *hi = t;
}

static inline void store_dirty_clear(struct store_dirty *d)
{
    d->tick_lo = d->tick_hi = d->led_lo = d->led_hi = QTS_STORE_NULL;
}

static inline void store_dirty_add(struct store_dirty *d, const struct qts_store_record *r)
{
    const struct qts_store_tick *t = (const struct qts_store_tick *)(const void *)r;
    /* a run's own trade prints do not dirty the bars: the host writes the
     * bars it built from them (two runs over the same prints would count
     * each print twice) */
    if (r->kind == QTS_REC_TICK && t->tick_kind != QTS_TICK_QUOTE &&
        !(r->struct_size > offsetof(struct qts_store_tick, run_id) && t->run_id[0]))
        store_range_add(&d->tick_lo, &d->tick_hi, r->ts_ns);
    else if (r->kind == QTS_REC_LEDGER)
        store_range_add(&d->led_lo, &d->led_hi, r->ts_ns);
}

#endif
