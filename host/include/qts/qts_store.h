/* qts_store.h — durable record layouts shared by the host's store writer and
 * the store plugins (store_sqlite, store_postgres).
 *
 * A record is a flat, pointer-free struct: it can be copied into a ring,
 * written to the spill journal byte for byte and read back. Every record
 * starts with `struct qts_store_record` (struct_size = size of the whole
 * record, kind = enum qts_store_kind). Fields are only appended; a plugin
 * reads a field only if `offsetof + sizeof <= struct_size`.
 *
 * Values: prices and quantities are int64 fixed-point with the exponents
 * carried in the record (px_exp, qty_exp); cash amounts use QTS_CASH_EXP.
 * Optional integers use QTS_STORE_NULL (written as SQL NULL); optional
 * doubles use NaN (written as NULL: the database never sees a NaN).
 * Strings are NUL-terminated fixed arrays; an empty string is stored as NULL
 * where the column is nullable.
 *
 * Idempotency: `rec_id` is assigned by the store writer, unique per host
 * (host_id) and increasing in hand-off order. Stores write appends with
 * "ON CONFLICT DO NOTHING" on (host_id, rec_id) and apply an upsert only if
 * its rec_id is not older than the stored row's, so a record replayed from
 * the spill journal is written exactly once and never rolls state back.
 */
#ifndef QTS_STORE_H
#define QTS_STORE_H

#include <stdint.h>

#include "qts_plugin.h"
#include "qts_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QTS_STORE_NULL INT64_MIN /* "no value" for optional int64 fields */
/* Size of the run id appended to the records a run writes (the host's
 * run_id.h QTS_RUN_ID_MAX): "" = no run (imports, older journals). */
#define QTS_STORE_RUN_ID_MAX 64

enum qts_store_kind {
    /* appends (time series) */
    QTS_REC_TICK = 1,        /* tick_data: a trade print or a top-of-book quote */
    QTS_REC_BAR = 2,         /* ohlcv_1m (period 60 s) or ohlcv_1d (period 1 d) */
    QTS_REC_ORDER = 3,       /* orders: latest state of an order (upsert) */
    QTS_REC_ORDER_EVENT = 4, /* order_events */
    QTS_REC_FILL = 5,        /* fills */
    QTS_REC_EXEC_LOG = 6,    /* execution_logs */
    QTS_REC_FEEDBACK = 7,    /* feedback_data */
    QTS_REC_DECISION = 8,    /* decision_log */
    /* upserts (regular tables) */
    QTS_REC_POSITION = 9,     /* positions, key (symbol, strategy_type) */
    QTS_REC_PARAM = 10,       /* strategies, key (strategy_id, param_name) */
    QTS_REC_RISK_CONFIG = 11, /* risk_configs, key config_key */
    QTS_REC_LEDGER = 12,      /* t_ledger (append; import dedups by src_hash) */
    QTS_REC_ACCOUNT = 13,     /* account_history, key date */
    QTS_REC_CONFIG = 14,      /* config, key (scope, key) */
    /* read side only (load_state / query results) */
    QTS_REC_FEEDBACK_AGG = 15, /* rolling feedback summary per symbol and tag */
    QTS_REC_DAILY_METRIC = 16, /* daily_metrics rollup row */
    /* appended */
    QTS_REC_RUN = 17, /* runs: one row per run of the host, key run_id (upsert) */
    QTS_REC_KIND_COUNT = 18,
};

/* Head of every record. */
struct qts_store_record {
    uint32_t struct_size; /* size of the whole record */
    uint16_t kind;        /* enum qts_store_kind */
    uint16_t flags;       /* per-kind */
    uint64_t rec_id;      /* assigned by the store writer (idempotency key) */
    int64_t ts_ns;        /* event time, UTC ns; the partition key of time series */
};

enum qts_tick_kind { QTS_TICK_TRADE = 1, QTS_TICK_QUOTE = 2 };

struct qts_store_tick {
    struct qts_store_record h;
    char symbol[QTS_SYMBOL_MAX];
    char source[16];   /* feed name; "" = NULL */
    uint8_t tick_kind; /* enum qts_tick_kind */
    uint8_t px_exp;
    uint8_t qty_exp;
    uint8_t reserved[5];
    int64_t px;                        /* trade price; for a quote the mid */
    int64_t qty;                       /* print quantity (0 for a quote) */
    int64_t bid;                       /* QTS_STORE_NULL if unknown */
    int64_t ask;                       /* QTS_STORE_NULL if unknown */
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
};

struct qts_store_bar {
    struct qts_store_record h; /* h.ts_ns = bar open time */
    char symbol[QTS_SYMBOL_MAX];
    uint8_t px_exp;
    uint8_t qty_exp;
    uint8_t reserved[6];
    int64_t period_ns; /* 60e9 -> ohlcv_1m, 86400e9 -> ohlcv_1d */
    int64_t open, high, low, close;
    int64_t volume;
    int64_t n_trades;
};

/* Latest state of a parent order (upsert by order_id). h.ts_ns = update time. */
struct qts_store_order {
    struct qts_store_record h;
    uint64_t order_id; /* host order id */
    char client_order_id[QTS_CLORDID_MAX];
    char venue_order_id[QTS_VENUE_ID_MAX];
    char symbol[QTS_SYMBOL_MAX];
    char tag[QTS_TAG_MAX]; /* strategy tag */
    uint32_t strategy_id;
    uint8_t side, type, tif, state; /* enum qts_side/ord_type/tif/order_state */
    uint8_t px_exp, qty_exp;
    uint8_t reserved[6];
    int64_t px; /* limit price; 0 for market */
    int64_t qty;
    int64_t filled_qty;
    int64_t avg_fill_px; /* QTS_STORE_NULL before the first fill */
    int64_t decision_px; /* QTS_STORE_NULL if unknown */
    int64_t ts_decided_ns;
    int64_t ts_sent_ns;                /* QTS_STORE_NULL if not sent */
    int64_t ts_done_ns;                /* QTS_STORE_NULL while working */
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
};

struct qts_store_order_event {
    struct qts_store_record h;
    uint64_t order_id;
    char client_order_id[QTS_CLORDID_MAX];
    uint8_t event; /* enum qts_order_event_kind */
    uint8_t state; /* enum qts_order_state */
    uint8_t px_exp, qty_exp;
    int32_t code;
    int64_t filled_qty;
    int64_t leaves_qty;
    int64_t avg_px; /* QTS_STORE_NULL if none */
    char reason[96];
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
};

struct qts_store_fill {
    struct qts_store_record h;
    uint64_t order_id;
    uint64_t fill_id; /* venue execution id */
    char client_order_id[QTS_CLORDID_MAX];
    char symbol[QTS_SYMBOL_MAX];
    char tag[QTS_TAG_MAX];
    uint8_t side, is_maker, px_exp, qty_exp;
    uint32_t reserved;
    int64_t px;
    int64_t qty;
    int64_t fee;                       /* cash units */
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
};

struct qts_store_exec_log {
    struct qts_store_record h;
    char order_id[QTS_CLORDID_MAX];
    char symbol[QTS_SYMBOL_MAX];
    char stage[16];      /* PRECHECK, SPLITTING, SENDING, MONITORING, ADJUSTING, ESCAPING, FILL */
    char error_code[16]; /* "" = NULL */
    int64_t latency_us;  /* QTS_STORE_NULL if unknown */
    uint8_t success;
    uint8_t reserved[7];
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
};

struct qts_store_feedback {
    struct qts_store_record h; /* h.ts_ns = execution end */
    char order_id[QTS_CLORDID_MAX];
    char symbol[QTS_SYMBOL_MAX];
    char tag[QTS_TAG_MAX];
    char strategy_type[12];
    char order_type[12];
    uint8_t side, px_exp, qty_exp, score_version;
    uint32_t reserved;
    int64_t execution_start_ns;
    int64_t decision_px;
    int64_t avg_fill_px; /* QTS_STORE_NULL if no fill */
    int64_t original_qty;
    int64_t filled_qty;
    int64_t depth;       /* QTS_STORE_NULL if unknown */
    double fill_ratio;   /* 0..1 */
    double slippage_bps; /* NaN = NULL, for every double below */
    double avg_fill_latency_ms;
    double first_fill_latency_ms;
    double complete_fill_latency_ms;
    double volatility;
    double spread_bps;
    double post_spread_bps;
    double impact_bps;
    double realized_impact_bps;
    double quality_score;
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
};

struct qts_store_decision {
    struct qts_store_record h;
    char cycle_id[40];
    char symbol[QTS_SYMBOL_MAX];
    char action[12];
    char tag[QTS_TAG_MAX];
    char operating_state[16];
    char act_status[16];
    char reason[96];
    uint8_t px_exp, qty_exp, feedback_applied, capital_blocked, approved;
    uint8_t reserved[3];
    int64_t px;                                                       /* QTS_STORE_NULL if none */
    int64_t qty;                                                      /* QTS_STORE_NULL if none */
    double confidence, risk_score, fb_slippage_bps, fb_quality_score; /* NaN = NULL */
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
    uint64_t order_id;                 /* appended: the parent order it became; 0 = none */
    char codes[64];                    /* appended: safety/risk codes, comma-separated */
    char inputs[256];                  /* appended: JSON object of what the stage used */
};

struct qts_store_position {
    struct qts_store_record h;
    char symbol[QTS_SYMBOL_MAX];
    char strategy_type[12]; /* NET, SCALP, SWING, PORTFOLIO; "" = NET */
    char market[12];
    uint8_t px_exp, qty_exp;
    uint8_t reserved[6];
    int64_t qty;
    int64_t avg_px;
    int64_t exposure_value;            /* cash; QTS_STORE_NULL if unknown */
    int64_t unrealized_pnl;            /* cash; QTS_STORE_NULL if unknown */
    double exposure_pct;               /* NaN = NULL */
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
};

struct qts_store_param {
    struct qts_store_record h;
    char strategy_id[52];
    char param_name[100];
    char value_type[8]; /* string, int, float, bool, json */
    char value[256];
    char description[128];
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
};

struct qts_store_risk_config {
    struct qts_store_record h;
    char config_key[100];
    char description[128];
    int64_t value; /* fixed-point, `exp` decimals */
    uint8_t exp;
    uint8_t reserved[7];
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
};

struct qts_store_ledger {
    struct qts_store_record h; /* h.ts_ns = trade time */
    char symbol[QTS_SYMBOL_MAX];
    char strategy_tag[52];
    char order_id[64];
    char broker[20];
    uint8_t side, px_exp, qty_exp, has_src_hash;
    uint32_t reserved;
    int64_t qty;
    int64_t px;
    int64_t amount;                    /* cash */
    int64_t fee;                       /* cash */
    int64_t realized_pnl;              /* cash; QTS_STORE_NULL if unknown */
    uint8_t src_hash[32];              /* import: hash of the source row (has_src_hash) */
    char run_id[QTS_STORE_RUN_ID_MAX]; /* appended: the run that wrote it; "" = none */
};

struct qts_store_account {
    struct qts_store_record h; /* h.ts_ns = midnight UTC of `date` */
    char date[11];             /* YYYY-MM-DD */
    char note[117];
    int64_t total_equity;   /* cash */
    int64_t daily_pnl;      /* cash; QTS_STORE_NULL if unknown */
    int64_t high_watermark; /* cash; QTS_STORE_NULL if unknown */
    double daily_return, cumulative_return, volatility_20d, drawdown, mdd; /* NaN = NULL */
};

struct qts_store_config {
    struct qts_store_record h;
    char scope[8]; /* GLOBAL, SCALP, SWING, LOCAL */
    char category[52];
    char subcategory[52];
    char key[100]; /* upper-case */
    char value[256];
    char description[128];
    char tag[52];
};

/* One run of the host (upsert by run_id): written at start (status
 * "running") and at the end ("done"/"failed", counts, end time). Times
 * started_ns/ended_ns are wall clock; data_from/data_to the first and last
 * event time (QTS_STORE_NULL if none). h.ts_ns = started_ns. */
struct qts_store_run {
    struct qts_store_record h;
    char run_id[QTS_STORE_RUN_ID_MAX];
    char mode[8];    /* replay, paper, live */
    char status[12]; /* running, done, failed */
    char config_path[256];
    int64_t started_ns;
    int64_t ended_ns; /* QTS_STORE_NULL while running */
    int64_t data_from_ns, data_to_ns;
    int64_t events, orders, rejected, fills; /* QTS_STORE_NULL while running */
    char host_id[64]; /* read side (QTS_Q_RUNS): the host that ran it; not written */
};

/* Read side: rolling feedback summary (load_state; QTS_Q_FEEDBACK_SUMMARY). */
struct qts_store_feedback_agg {
    struct qts_store_record h; /* h.ts_ns = start of the lookback window */
    char symbol[QTS_SYMBOL_MAX];
    char tag[QTS_TAG_MAX];
    int64_t sample_count;
    double avg_slippage_bps, avg_impact_bps, avg_quality_score, avg_fill_latency_ms, avg_fill_ratio;
};

/* Read side: one daily_metrics row (QTS_Q_DAILY_METRICS). */
struct qts_store_daily_metric {
    struct qts_store_record h; /* h.ts_ns = midnight UTC of `day` */
    char day[11];
    char reserved[5];
    int64_t trades;
    int64_t buy_amount, sell_amount, fees, realized_pnl; /* cash */
    int64_t symbols;
};

/* The largest record; the writer's ring slot size. */
union qts_store_any {
    struct qts_store_record h;
    struct qts_store_tick tick;
    struct qts_store_bar bar;
    struct qts_store_order order;
    struct qts_store_order_event order_event;
    struct qts_store_fill fill;
    struct qts_store_exec_log exec_log;
    struct qts_store_feedback feedback;
    struct qts_store_decision decision;
    struct qts_store_position position;
    struct qts_store_param param;
    struct qts_store_risk_config risk_config;
    struct qts_store_ledger ledger;
    struct qts_store_account account;
    struct qts_store_config config;
    struct qts_store_feedback_agg feedback_agg;
    struct qts_store_daily_metric daily_metric;
    struct qts_store_run run;
};

/* Record callback of load_state and query: `rec` is borrowed for the call.
 * A non-zero return stops the iteration and is returned by the operation. */
typedef int (*qts_store_record_fn)(void *arg, const struct qts_store_record *rec);

enum qts_store_query_kind {
    QTS_Q_TICKS = 1,            /* tick_data rows of `symbol` in [from, to), by time */
    QTS_Q_BARS_1M = 2,          /* ohlcv_1m of `symbol` in [from, to) */
    QTS_Q_BARS_1D = 3,          /* ohlcv_1d of `symbol` in [from, to) */
    QTS_Q_LEDGER = 4,           /* t_ledger in [from, to), symbol optional, newest first */
    QTS_Q_FEEDBACK_SUMMARY = 5, /* one FEEDBACK_AGG over [from, to); symbol/tag optional */
    QTS_Q_DAILY_METRICS = 6,    /* daily_metrics rows with day in [from, to) */
    QTS_Q_RUNS = 7,             /* RUN rows started in [from, to), newest first */
    /* appended: the newest `limit` bars of `symbol` opening in [from, to),
     * newest first (warm-up history, ctx:history) */
    QTS_Q_BARS_1M_LAST = 8,
    QTS_Q_BARS_1D_LAST = 9,
};

struct qts_store_query {
    uint32_t struct_size;
    uint32_t kind;               /* enum qts_store_query_kind */
    char symbol[QTS_SYMBOL_MAX]; /* "" = all (where allowed) */
    char tag[QTS_TAG_MAX];       /* "" = all */
    int64_t from_ns;
    int64_t to_ns;
    uint32_t limit; /* 0 = no limit */
    uint8_t px_exp; /* exponents the results are converted to */
    uint8_t qty_exp;
    uint8_t reserved[2];
};

/* What load_state delivers, in this order: POSITION rows, ORDER rows of
 * working orders (state not terminal), PARAM rows, RISK_CONFIG rows, then
 * FEEDBACK_AGG rows (one per symbol and tag over the last 24 h before
 * `now_ns`). Values are converted to the exponents given here. */
struct qts_store_load_opts {
    uint32_t struct_size;
    uint8_t px_exp;
    uint8_t qty_exp;
    uint8_t reserved[2];
    int64_t now_ns;
    int64_t feedback_lookback_ns; /* 0 = 24 h */
    /* appended: only the rows this run wrote (positions, orders, parameters,
     * risk configs); "" or a struct_size without it = every run's rows */
    char run_id[QTS_STORE_RUN_ID_MAX];
};

#ifdef __cplusplus
}
#endif
#endif /* QTS_STORE_H */
