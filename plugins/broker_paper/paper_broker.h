/* paper_broker.h — internal to broker_paper: the venue's state (struct pb),
 * its instruments with their books (struct pb_inst), orders (struct
 * pb_order) and requests in flight (struct pb_action), and the functions the
 * plugin's files share. Not an ABI: only the files of plugins/broker_paper
 * include it.
 *
 *   broker_paper.c  the broker operations (submit, cancel, modify, queries,
 *                   market events), configuration, lifecycle, descriptor
 *   paper_book.c    the venue's book per instrument, reports, the venue's
 *                   own cash, reservations and positions
 *   paper_match.c   fills, matching against the book, market impact and
 *                   the queue model at our price
 *   paper_orders.c  requests in flight (latency, jitter), their execution
 *                   at the venue clock (checks, new, cancel, modify), the
 *                   order list and the request timer
 *   paper_bars.c    fills from OHLCV bars for instruments without finer data
 *   paper_state.c   state transfer (export_state / import_state)
 *
 * Everything runs on the host's loop thread. Pointers to struct pb,
 * pb_inst, pb_order and pb_side passed between these files are borrowed:
 * struct pb owns the instrument array, the orders (each one allocated, see
 * `ord`), the request queue and the scratch array, all from host->alloc,
 * freed by pb_destroy. A struct pb_inst pointer is valid until the next
 * pb_inst_get (the array may move); a struct pb_order pointer until
 * pb_gc_orders runs at depth 0. */
#ifndef PAPER_BROKER_H
#define PAPER_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_fixed.h"
#include "qts/qts_plugin.h"

#define PB_MAGIC "QTSPB\0\0\1"
#define PB_STATE_VERSION 2u

enum pb_state { PB_PENDING = 0, PB_RESTING = 1, PB_DONE = 2 };
enum pb_kind { PB_ACT_NEW = 1, PB_ACT_CANCEL = 2, PB_ACT_MODIFY = 3 };

struct pb_level {
    int64_t px;
    int64_t qty;
};

/* Levels run from the worst price (index 0) to the best (index n - 1):
 * bids ascending, asks descending. Most changes happen at the touch, so
 * they move only the levels between the change and the best price, never
 * the whole side (docs/paper-broker.md). Read them through pb_side_level. */
struct pb_side {
    struct pb_level *v;
    uint32_t n, cap;
};

/* The k-th best level (0 = the best), k < s->n; borrowed from the side. */
static inline const struct pb_level *pb_side_level(const struct pb_side *s, uint32_t k)
{
    return &s->v[s->n - 1 - k];
}

/* Plain data: exported byte for byte by export_state. `position` and
 * `cost` are the simulated venue's own books, kept on purpose apart from
 * the host's portfolio (the owner of the host's positions): they are what
 * a real venue would hold, answer position queries, and let
 * reconciliation find a difference. */
struct pb_inst_data {
    uint32_t id;
    uint8_t px_exp, qty_exp, has_l2, has_def;
    char symbol[QTS_SYMBOL_MAX];
    int64_t tick_size, lot_size, min_qty;
    int64_t last_trade_px;
    int64_t position;      /* signed, quantity units */
    int64_t cost;          /* cost basis of the position, cash units, signed */
    int64_t reserved_sell; /* open sell quantity (no-short check) */
    /* Bars (paper_bars.c): the last bar seen, and how much of its volume
     * our fills used (the volume cap). has_tick: a trade, quote or book
     * update was seen, and those (finer) fill the orders instead. */
    uint8_t has_bar, has_tick, reserved1[6];
    int64_t bar_open, bar_high, bar_low, bar_close, bar_volume;
    int64_t bar_used;
};

/* Trades of the recent window (impact model's volume V); not exported:
 * after a state transfer the window starts empty. */
struct pb_vol {
    int64_t *ts, *qty; /* ring, cap entries */
    uint32_t head, n, cap;
    int64_t sum;
};

struct pb_inst {
    struct pb_inst_data d;
    struct pb_side bid, ask;
    struct pb_vol vol;
    /* The instrument's resting orders in arrival (seq) order, so a market
     * event visits only them, not every order of the venue. Borrowed
     * pointers into pb->ord, kept by pb_order_set_state; the array is
     * owned (host->alloc). */
    struct pb_order **resting;
    uint32_t n_resting, cap_resting;
};

/* Market impact of taking orders (docs/paper-broker.md, docs/feedback.md):
 * impact_bps = k * (qty / V)^beta, V = traded volume of the window. */
enum pb_impact_kind { PB_IMPACT_NONE = 0, PB_IMPACT_POWER = 1, PB_IMPACT_LEARNED = 2 };

struct pb_learned {
    char symbol[QTS_SYMBOL_MAX];
    double n, k, beta;
};

struct pb_order {
    uint64_t seq;  /* arrival order, also venue order id */
    uint64_t prio; /* time priority at its price (changes on re-queue) */
    char clordid[QTS_CLORDID_MAX];
    char venue_id[QTS_VENUE_ID_MAX];
    char symbol[QTS_SYMBOL_MAX];
    uint32_t instrument;
    uint8_t side, type, tif, state;
    int64_t px, qty, cum;  /* qty = total ordered, cum = filled */
    int64_t ahead;         /* displayed quantity ahead of us at px */
    int64_t traded_unseen; /* trades at px not yet seen as a level decrease */
    int64_t lvl_before;    /* scratch: level quantity before a book change */
    int64_t reserved_cash; /* cash held for an open buy */
    uint32_t next_fill_id;
    uint32_t reserved0;
};

struct pb_action {
    int64_t due_ns;
    uint64_t seq;
    uint32_t kind;
    uint32_t reserved0;
    char clordid[QTS_CLORDID_MAX];
    int64_t new_px, new_qty;
};

struct pb_cfg {
    int64_t order_latency_ns, feed_latency_ns, jitter_ns;
    uint64_t seed;
    int64_t maker_fee_e8, taker_fee_e8; /* fee rate in 1e-8 of notional */
    int64_t band_bps;                   /* 0 = no price band */
    int64_t initial_cash;               /* cash units */
    bool allow_short, check_cash;
    int cancel_rule; /* enum pb_cancel_rule */
    int impact;      /* enum pb_impact_kind */
    double impact_coef_bps, impact_exponent;
    int64_t impact_window_ns;
    int bar_fill;           /* enum pb_bar_fill */
    double bar_volume_cap;  /* fraction of a bar's volume we may fill; 0 = no cap */
    int64_t slippage_ticks; /* bar fills of market orders: ticks against us */
    double slippage_bps;    /* and/or basis points against us, rounded to the tick */
};

/* Price of a market order on bar data (docs/paper-broker.md "Bars"). */
enum pb_bar_fill { PB_BAR_NEXT_OPEN = 0, PB_BAR_CLOSE = 1 };

/* Where cancels at our price sit in the queue (docs/paper-broker.md). */
enum pb_cancel_rule { PB_CANCEL_PRO_RATA = 0, PB_CANCEL_FRONT = 1, PB_CANCEL_BACK = 2 };

struct pb {
    const struct qts_host_api *host;
    void *owner;
    struct pb_cfg cfg;
    uint64_t rng;
    uint64_t next_seq;
    int64_t vnow;       /* venue clock */
    int64_t applied_ns; /* time of the last market event applied to the book */
    int64_t last_due;   /* requests never overtake each other */
    int64_t cash, reserved_cash;
    struct pb_inst *inst;
    uint32_t n_inst, cap_inst;
    uint32_t last_inst;    /* index of the last instrument looked up (a hint) */
    struct pb_order **ord; /* each allocated: pointers survive a re-entrant submit */
    uint32_t n_ord, cap_ord;
    int depth;                 /* nesting of venue processing; gc only at 0 */
    bool gc_due;               /* an order is done since the last gc */
    struct pb_order **scratch; /* trade matching: eligible orders */
    uint32_t cap_scratch;
    struct pb_action *act; /* sorted by (due_ns, seq) */
    uint32_t n_act, cap_act;
    uint64_t timer_id;
    bool timer_armed, stopping;
    uint64_t n_reports;
    struct pb_learned *learned; /* impact_model: learned; host-allocated */
    uint32_t n_learned;
};

static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- paper_book.c */

/* `p` (owned by pb, host->alloc) grown to hold n + 1 elements; returns the
 * array, possibly moved (the old one is freed). Aborts on OOM. */
void *pb_grow(struct pb *pb, void *p, uint32_t n, uint32_t *cap, size_t elem);
/* px*qty in cash units, rounded as the host portfolio (qts_fixed.h). */
int64_t pb_notional(int64_t px, unsigned px_exp, int64_t qty, unsigned qty_exp);
int64_t pb_fee_of(int64_t notional_cash, int64_t rate_e8);
/* Borrowed from pb->inst; NULL when the venue has not seen the instrument. */
struct pb_inst *pb_inst_by_id(struct pb *pb, uint32_t id);
/* Borrowed; created empty with the exponents when new. */
struct pb_inst *pb_inst_get(struct pb *pb, uint32_t id, uint8_t px_exp, uint8_t qty_exp);
int64_t pb_side_qty(const struct pb_side *s, bool is_bid, int64_t px);
/* Sets the level at px (qty <= 0 removes it). */
void pb_side_set(struct pb *pb, struct pb_side *s, bool is_bid, int64_t px, int64_t qty);
/* Applies n levels in order, as n pb_side_set calls would; `lv` borrowed.
 * A snapshot's levels (an emptied side, levels best first) are written in
 * one pass. */
void pb_side_apply(struct pb *pb, struct pb_side *s, bool is_bid, const struct qts_level *lv,
                   uint32_t n);
/* Moves o to `state`, keeping its instrument's resting index and the gc
 * flag up to date: every change of an order's state goes through here. */
void pb_order_set_state(struct pb *pb, struct pb_order *o, uint8_t state);
int64_t pb_ref_price(const struct pb_inst *in);
/* Reports go to host->emit_exec_report, which copies them; `text` borrowed. */
void pb_report(struct pb *pb, const struct pb_order *o, int exec_type, int64_t ts, int code,
               const char *text);
void pb_report_fill(struct pb *pb, struct pb_order *o, int64_t px, int64_t qty, int64_t fee,
                    bool is_maker, int64_t ts);
int64_t pb_max_fee_rate(const struct pb *pb);
void pb_reserve_update(struct pb *pb, struct pb_order *o, const struct pb_inst *in);
void pb_sell_reserve(struct pb_inst *in, const struct pb_order *o, int64_t delta);
void pb_position_add(struct pb_inst *in, int64_t d, int64_t n);
int64_t pb_avg_px(const struct pb_inst *in);

/* ---- paper_match.c */

/* Executes qty at px for o: the venue's cash and position, the report. */
void pb_fill(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t px, int64_t qty,
             bool is_maker, int64_t ts);

bool pb_crosses(const struct pb_order *o, int64_t level_px);
int64_t pb_takeable(const struct pb_inst *in, const struct pb_order *o, int64_t want,
                    int64_t *cost);
void pb_vol_add(struct pb *pb, struct pb_inst *in, int64_t ts, int64_t qty);
void pb_take(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t ts);
void pb_join_queue(struct pb *pb, struct pb_order *o, struct pb_inst *in);
void pb_levels_before(struct pb *pb, struct pb_inst *in);
void pb_levels_after(struct pb *pb, struct pb_inst *in, int64_t ts, bool top_only);
/* `t` borrowed: the host's event, valid for the call. */
void pb_on_trade_side(struct pb *pb, struct pb_inst *in, const struct qts_trade *t, uint8_t side,
                      int64_t ts);

/* ---- paper_orders.c */

/* Borrowed; the open (not done) order with that client id, or NULL. */
struct pb_order *pb_order_find(struct pb *pb, const char *clordid);
/* A new zeroed order, owned by pb (in pb->ord); the pointer is borrowed. */
struct pb_order *pb_order_new(struct pb *pb);
void pb_gc_orders(struct pb *pb);
void pb_advance(struct pb *pb, int64_t t);
void pb_arm_timer(struct pb *pb);
/* `clordid` copied into the request. */
void pb_enqueue(struct pb *pb, uint32_t kind, const char *clordid, int64_t new_px, int64_t new_qty);

/* ---- paper_bars.c */

/* The instrument fills from bars: it has had a bar and no finer data. */
bool pb_bar_mode(const struct pb_inst *in);
/* A new order accepted on a bar-mode instrument: filled at the last close
 * (bar_fill: close) or left waiting for the next bar. */
void pb_bar_arrive(struct pb *pb, struct pb_order *o, struct pb_inst *in, int64_t ts);
/* A bar (borrowed, valid for the call) reached the venue at ts. */
void pb_on_bar(struct pb *pb, struct pb_inst *in, const struct qts_bar *b, int64_t ts);

/* The replay's data ended: market orders waiting for a bar fill at the
 * last close. */
void pb_bars_data_end(struct pb *pb);

/* ---- paper_state.c */

/* Appends the state to `out` (borrowed, the host's buffer). */
int pb_export(void *self, struct qts_buf *out);
/* Reads `p` (borrowed, n bytes) into a fresh instance; copies what it keeps. */
int pb_import(void *self, const void *p, size_t n);

#endif
