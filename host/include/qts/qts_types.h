/* qts_types.h — the data types shared by the core, plugins and the Lua FFI.
 *
 * Prices and quantities are int64 fixed-point. Each instrument has a price
 * exponent and a quantity exponent (decimal places): a price of 60000.01 with
 * px_exp 8 is stored as 6000001000000. Market events carry both exponents so
 * any consumer (a plugin, a Lua accessor) can convert without a lookup.
 * Cash amounts (fees, PnL, cash balances) use the fixed exponent QTS_CASH_EXP.
 *
 * Layout rules: every struct that crosses the plugin boundary starts with
 * `uint32_t struct_size`; fields are only appended. The Lua prelude mirrors
 * these layouts and a test compares ffi.sizeof/ffi.offsetof with C.
 * Time stamps are nanoseconds: `_ns`. Strings inside events are fixed
 * arrays so events can be copied into rings without owning memory.
 */
#ifndef QTS_TYPES_H
#define QTS_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QTS_CASH_EXP 6      /* cash amounts: micro-units of the quote currency */
#define QTS_SYMBOL_MAX 32   /* including the NUL */
#define QTS_CLORDID_MAX 40  /* client order id, including the NUL */
#define QTS_VENUE_ID_MAX 48 /* venue order id, including the NUL */
#define QTS_TAG_MAX 24      /* strategy tag on an order, including the NUL */
#define QTS_MAX_EXP 18

/* Powers of ten for fixed-point conversion, index = exponent (0..18). */
/* clang-format off */
static const int64_t qts_pow10_i64[QTS_MAX_EXP + 1] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL,
    100000000LL, 1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL,
    10000000000000LL, 100000000000000LL, 1000000000000000LL,
    10000000000000000LL, 100000000000000000LL, 1000000000000000000LL};
/* clang-format on */

static inline double qts_fixed_to_double(int64_t v, unsigned exp)
{
    return (double)v / (double)qts_pow10_i64[exp <= QTS_MAX_EXP ? exp : QTS_MAX_EXP];
}

/* Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static inline int64_t qts_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

enum qts_side {
    QTS_SIDE_NONE = 0,
    QTS_SIDE_BUY = 1,
    QTS_SIDE_SELL = 2,
};

enum qts_ord_type {
    QTS_ORD_MARKET = 1,
    QTS_ORD_LIMIT = 2,
    /* stop (market): px is the trigger; once the market trades at or
     * through it the order executes as a market order (ABI 1.4) */
    QTS_ORD_STOP = 3,
};

enum qts_tif {
    QTS_TIF_GTC = 0,  /* good till cancelled */
    QTS_TIF_IOC = 1,  /* immediate or cancel */
    QTS_TIF_FOK = 2,  /* fill or kill */
    QTS_TIF_DAY = 3,  /* expires at session end */
    QTS_TIF_POST = 4, /* post only (rejected if it would take) */
};

enum qts_algo {
    QTS_ALGO_DIRECT = 0,
    QTS_ALGO_TWAP = 1,
    QTS_ALGO_VWAP = 2,
    QTS_ALGO_ICEBERG = 3,
    /* the host chooses direct, TWAP or iceberg and the slice count from the
     * predicted impact and recent volume before the pipeline sees the order
     * (docs/feedback.md); never reaches the pipeline */
    QTS_ALGO_AUTO = 4,
};

/* Order states of the OMS state machine (docs/execution.md). */
enum qts_order_state {
    QTS_OS_NEW = 0,
    QTS_OS_PENDING_SEND = 1,
    QTS_OS_ACCEPTED = 2,
    QTS_OS_PARTIALLY_FILLED = 3,
    QTS_OS_FILLED = 4,
    QTS_OS_CANCEL_PENDING = 5,
    QTS_OS_CANCELLED = 6,
    QTS_OS_REJECTED = 7,
    QTS_OS_EXPIRED = 8,
    QTS_OS_UNKNOWN = 9,
};

/* Run modes (ARCHITECTURE §6). */
enum qts_mode {
    QTS_MODE_REPLAY = 0,
    QTS_MODE_PAPER = 1,
    QTS_MODE_LIVE = 2,
};

/* ---------------------------------------------------------------- instruments */

#define QTS_INST_TRADABLE (1u << 0)

struct qts_instrument {
    uint32_t struct_size;
    uint32_t id;                 /* host-assigned, dense, stable for the run */
    char symbol[QTS_SYMBOL_MAX]; /* "BTCUSDT", "005930" */
    char venue[16];              /* "binance", "krx", "synthetic" */
    uint8_t px_exp;              /* price decimals */
    uint8_t qty_exp;             /* quantity decimals */
    uint16_t reserved0;
    uint32_t flags;    /* QTS_INST_* */
    int64_t tick_size; /* in price units (fixed-point); 0 = any */
    int64_t lot_size;  /* in quantity units; 0 = any */
    int64_t min_qty;   /* in quantity units */
};

/* ------------------------------------------------------------- market events */

enum qts_event_type {
    QTS_EV_NONE = 0,
    QTS_EV_TRADE = 1,
    QTS_EV_QUOTE = 2, /* top of book */
    QTS_EV_BOOK = 3,  /* L2 snapshot or diff (struct qts_book_update) */
    QTS_EV_BAR = 4,
    QTS_EV_ORDER = 5, /* order update to a strategy (struct qts_order_event) */
    QTS_EV_FILL = 6,  /* fill to a strategy (struct qts_fill) */
    QTS_EV_TIMER = 7,
    QTS_EV_FEEDBACK = 8,
};

/* Common head of every event. 40 bytes. */
struct qts_ev_hdr {
    uint32_t struct_size; /* size of the whole event struct */
    uint16_t type;        /* enum qts_event_type */
    uint8_t px_exp;       /* price exponent of `instrument` */
    uint8_t qty_exp;      /* quantity exponent of `instrument` */
    uint32_t instrument;  /* instrument id (struct qts_instrument.id) */
    uint32_t flags;       /* per-type flags */
    int64_t ts_exch_ns;   /* exchange time (UTC ns since epoch) */
    int64_t ts_recv_ns;   /* local receive time */
    uint64_t seq;         /* host sequence number, assigned on entry */
};

struct qts_trade {
    struct qts_ev_hdr h;
    int64_t px;
    int64_t qty;
    uint64_t trade_id;
    uint8_t aggressor; /* enum qts_side of the taker; NONE if unknown */
    uint8_t reserved[7];
};

struct qts_quote {
    struct qts_ev_hdr h;
    int64_t bid_px;
    int64_t bid_qty;
    int64_t ask_px;
    int64_t ask_qty;
    uint64_t update_id; /* venue book update id, 0 if none */
};

struct qts_level {
    int64_t px;
    int64_t qty; /* 0 in a diff = delete the level */
};

#define QTS_BOOK_SNAPSHOT (1u << 0) /* replaces the whole book */
#define QTS_BOOK_HAS_PREV (1u << 1) /* prev_update_id is valid (futures `pu`) */

/* An L2 snapshot or diff. `bids` and `asks` are borrowed: valid only during
 * the call that delivers the update. */
struct qts_book_update {
    struct qts_ev_hdr h;      /* h.flags: QTS_BOOK_* */
    uint64_t first_update_id; /* Binance U */
    uint64_t last_update_id;  /* Binance u (or lastUpdateId of a snapshot) */
    uint64_t prev_update_id;  /* Binance pu, when QTS_BOOK_HAS_PREV */
    uint32_t n_bids;
    uint32_t n_asks;
    const struct qts_level *bids; /* borrowed, best first not required */
    const struct qts_level *asks; /* borrowed */
};

struct qts_bar {
    struct qts_ev_hdr h; /* h.ts_exch_ns = bar open time */
    int64_t period_ns;   /* bar length: 60e9 for one minute */
    int64_t open;
    int64_t high;
    int64_t low;
    int64_t close;
    int64_t volume;   /* quantity units */
    int64_t n_trades; /* 0 if unknown */
};

/* ---------------------------------------------------------------- orders */

/* What a strategy asks for. Built by the Lua bridge, consumed by the OMS. */
struct qts_order_intent {
    uint32_t struct_size;
    uint32_t strategy_id;
    uint32_t instrument;
    uint8_t side;             /* enum qts_side */
    uint8_t type;             /* enum qts_ord_type */
    uint8_t tif;              /* enum qts_tif */
    uint8_t algo;             /* enum qts_algo */
    int64_t px;               /* limit price (fixed); 0 for market */
    int64_t qty;              /* quantity (fixed) */
    int64_t algo_duration_ns; /* TWAP/VWAP horizon */
    int64_t algo_display_qty; /* iceberg display quantity */
    uint32_t algo_slices;     /* TWAP/VWAP slice count (0 = default) */
    float edge_bps;           /* expected edge the strategy states (bps); 0 = none.
                               * Feedback defers the order while its predicted cost
                               * is above it (docs/feedback.md) */
    uint64_t order_id;        /* assigned by the host on acceptance */
    int64_t ts_decision_ns;   /* when the strategy decided (event time) */
    char tag[QTS_TAG_MAX];
    uint32_t confidence_bp; /* the strategy's confidence x 10000 (1..10000); 0 = not given */
    uint32_t reserved1;
};

/* Order update delivered to a strategy's on_order. */
enum qts_order_event_kind {
    QTS_OE_ACCEPTED = 1,
    QTS_OE_REJECTED = 2,
    QTS_OE_CANCELLED = 3,
    QTS_OE_COMPLETE = 4, /* parent fully filled */
    QTS_OE_ESCAPED = 5,  /* EmergencyEscape finished it */
    QTS_OE_FAILED = 6,
    QTS_OE_EXPIRED = 7,
    QTS_OE_REPLACED = 8,
};

struct qts_order_event {
    struct qts_ev_hdr h;
    uint64_t order_id;
    uint32_t strategy_id;
    uint8_t kind; /* enum qts_order_event_kind */
    uint8_t side;
    uint8_t state; /* enum qts_order_state */
    uint8_t reserved0;
    int32_t code; /* QTS_E* or a safety/risk code number (GRnnn -> nnn) */
    int32_t reserved1;
    int64_t filled_qty;
    int64_t leaves_qty;
    int64_t avg_px;
    char reason[96];
    char tag[QTS_TAG_MAX];
};

/* A fill, as seen by the portfolio and delivered to a strategy's on_fill. */
struct qts_fill {
    struct qts_ev_hdr h;
    uint64_t order_id; /* parent order id */
    uint32_t strategy_id;
    uint8_t side; /* enum qts_side */
    uint8_t is_maker;
    uint16_t reserved0;
    int64_t px;
    int64_t qty;      /* always positive */
    int64_t fee;      /* cash units (QTS_CASH_EXP); negative = rebate */
    uint64_t fill_id; /* unique per venue execution */
    char tag[QTS_TAG_MAX];
};

/* ---------------------------------------------------------------- broker side */

/* A child order handed to a broker plugin. Borrowed for the call. */
struct qts_broker_order {
    uint32_t struct_size;
    uint32_t instrument;
    char symbol[QTS_SYMBOL_MAX];
    char client_order_id[QTS_CLORDID_MAX]; /* idempotency key: a retry reuses it */
    uint8_t side;                          /* enum qts_side */
    uint8_t type;                          /* enum qts_ord_type */
    uint8_t tif;                           /* enum qts_tif */
    uint8_t px_exp;
    uint8_t qty_exp;
    uint8_t reserved[3];
    int64_t px;
    int64_t qty;
    int64_t ts_sent_ns;
};

/* Modify (replace) of a working order. Borrowed for the call. */
struct qts_broker_modify {
    uint32_t struct_size;
    uint32_t instrument;
    char symbol[QTS_SYMBOL_MAX];
    char client_order_id[QTS_CLORDID_MAX]; /* the order to modify */
    char venue_order_id[QTS_VENUE_ID_MAX];
    int64_t new_px;
    int64_t new_qty; /* total quantity after the modify */
};

enum qts_exec_type {
    QTS_EXEC_ACK = 1, /* accepted by the venue */
    QTS_EXEC_REJECT = 2,
    QTS_EXEC_FILL = 3, /* partial or full; see leaves_qty */
    QTS_EXEC_CANCELLED = 4,
    QTS_EXEC_CANCEL_REJECT = 5,
    QTS_EXEC_EXPIRED = 6,
    QTS_EXEC_REPLACED = 7,
    QTS_EXEC_STATUS = 8, /* reconciliation: current state of an open order */
};

/* Execution report from a broker plugin to the host. Borrowed for the call;
 * the host copies what it keeps. Reports may arrive twice, late or out of
 * order: the OMS applies each fill once by (client_order_id, fill_id). */
struct qts_exec_report {
    uint32_t struct_size;
    uint8_t exec_type; /* enum qts_exec_type */
    uint8_t side;
    uint8_t is_maker;
    uint8_t px_exp;
    uint32_t instrument;
    uint8_t qty_exp;
    uint8_t reserved[3];
    char client_order_id[QTS_CLORDID_MAX];
    char venue_order_id[QTS_VENUE_ID_MAX];
    int64_t last_px;    /* fill price (FILL) */
    int64_t last_qty;   /* fill quantity (FILL) */
    int64_t cum_qty;    /* total filled so far, if the venue reports it */
    int64_t leaves_qty; /* open quantity left; -1 if unknown */
    int64_t fee;        /* cash units for this fill */
    uint64_t fill_id;   /* venue execution id; unique per order */
    int64_t ts_venue_ns;
    int32_t code;       /* QTS_E* for rejects, 0 otherwise */
    int32_t venue_code; /* the venue's own numeric code if any */
    char text[128];     /* venue message, kept for the operator */
};

/* Position as reported by a broker (reconciliation). Borrowed for the call. */
struct qts_broker_position {
    uint32_t struct_size;
    uint32_t instrument;
    char symbol[QTS_SYMBOL_MAX];
    uint8_t qty_exp;
    uint8_t px_exp;
    uint8_t reserved[6];
    int64_t qty; /* signed: negative = short */
    int64_t avg_px;
};

/* ---------------------------------------------------------------- feedback */

/* What a strategy learns about its execution costs on one instrument
 * (ctx:feedback, docs/feedback.md). Averages are over the rolling window;
 * with no rows they are the spec's defaults and is_default = 1. */
struct qts_feedback_summary {
    uint32_t struct_size;
    int32_t sample_count;         /* finished orders in the window */
    double avg_slippage_bps;      /* against the decision mid; + = adverse */
    double avg_market_impact_bps; /* ex-ante impact of the filled quantity */
    double avg_quality_score;     /* 0..1 */
    double avg_fill_latency_ms;
    double avg_fill_ratio;        /* 0..1 */
    double volatility;            /* range ratio over the recent window */
    double spread_bps;            /* now */
    double depth;                 /* mean top-5 opposite depth at decision, instrument units */
    int32_t is_default;           /* 1: no rows, the values are defaults */
    int32_t model_fitted;         /* 1: the impact model has >= min_samples samples */
    double expected_slippage_bps; /* for the quantity asked, against the arrival mid */
    double expected_impact_bps;   /* the impact part of it */
    double fill_prob;             /* passive order at the distance/horizon asked */
    double model_k, model_beta;   /* impact = k * (qty / volume)^beta */
    double recent_volume;         /* traded in the recent window, instrument units */
    /* appended: the symbol's fitted law, how far to trust it */
    double model_confidence; /* n/(n+min_samples)/(1+resid_sd), 0 until fitted (docs/feedback.md) */
    double model_resid_sd;   /* residual sd of ln(impact); NaN until fitted */
};

/* ------------------------------------------------------------ account (ABI 1.2) */

/* What the account can buy of one instrument, as the venue computes it
 * (answer to qts_broker_ops.query_buying_power). Copied by the host. */
struct qts_buying_power {
    uint32_t struct_size;
    uint32_t instrument; /* 0 when the venue answered for a symbol the host does not know */
    char symbol[QTS_SYMBOL_MAX];
    uint8_t qty_exp;
    uint8_t px_exp;
    uint8_t cash_exp; /* cash = cash_units * 10^-cash_exp (KRW: 0) */
    uint8_t reserved[5];
    uint64_t req_id; /* the query's id */
    int64_t px;      /* price the venue computed for; 0 = market price */
    int64_t cash;    /* orderable cash, cash units */
    int64_t max_qty; /* buyable quantity at `px`, quantity units */
};

#ifdef __cplusplus
}
#endif
#endif /* QTS_TYPES_H */
