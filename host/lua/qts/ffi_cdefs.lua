-- qts/ffi_cdefs.lua: the C layouts shared with Lua, hand-written from
-- host/include/qts/qts_types.h and host/src/lua/lua_strategy.h. Loaded once per
-- lua_State by the host prelude; tests/lua/test_lua_ffi_layout.c compares
-- every ffi.sizeof/ffi.offsetof here with the C compiler's values.
--
-- Naming: fields keep their C names, except where an accessor method of the
-- same name exists (cdata fields shadow metatype methods): there the raw
-- field gets a trailing underscore (fill.qty_ is the int64, fill:qty() the
-- number).
local ffi = require("ffi")

ffi.cdef[[
struct qts_instrument {
    uint32_t struct_size;
    uint32_t id;
    char symbol[32];
    char venue[16];
    uint8_t px_exp;
    uint8_t qty_exp;
    uint16_t reserved0;
    uint32_t flags;
    int64_t tick_size;
    int64_t lot_size;
    int64_t min_qty;
};

struct qts_ev_hdr {
    uint32_t struct_size;
    uint16_t type;
    uint8_t px_exp;
    uint8_t qty_exp;
    uint32_t instrument;
    uint32_t flags;
    int64_t ts_exch_ns;
    int64_t ts_recv_ns;
    uint64_t seq;
};

struct qts_trade {
    struct qts_ev_hdr h;
    int64_t px;
    int64_t qty_;
    uint64_t trade_id;
    uint8_t aggressor;
    uint8_t reserved[7];
};

struct qts_quote {
    struct qts_ev_hdr h;
    int64_t bid_px;
    int64_t bid_qty_;
    int64_t ask_px;
    int64_t ask_qty_;
    uint64_t update_id;
};

struct qts_level {
    int64_t px;
    int64_t qty;
};

struct qts_book_update {
    struct qts_ev_hdr h;
    uint64_t first_update_id;
    uint64_t last_update_id;
    uint64_t prev_update_id;
    uint32_t n_bids_;
    uint32_t n_asks_;
    const struct qts_level *bids;
    const struct qts_level *asks;
};

struct qts_bar {
    struct qts_ev_hdr h;
    int64_t period_ns;
    int64_t open_;
    int64_t high_;
    int64_t low_;
    int64_t close_;
    int64_t volume_;
    int64_t n_trades;
};

struct qts_order_intent {
    uint32_t struct_size;
    uint32_t strategy_id;
    uint32_t instrument;
    uint8_t side;
    uint8_t type;
    uint8_t tif;
    uint8_t algo;
    int64_t px;
    int64_t qty;
    int64_t algo_duration_ns;
    int64_t algo_display_qty;
    uint32_t algo_slices;
    float edge_bps;
    uint64_t order_id;
    int64_t ts_decision_ns;
    char tag[24];
    uint32_t confidence_bp;
    uint32_t reserved1;
};

struct qts_order_event {
    struct qts_ev_hdr h;
    uint64_t order_id_;
    uint32_t strategy_id;
    uint8_t kind_;
    uint8_t side_;
    uint8_t state;
    uint8_t reserved0;
    int32_t code_;
    int32_t reserved1;
    int64_t filled_qty_;
    int64_t leaves_qty_;
    int64_t avg_px;
    char reason_[96];
    char tag_[24];
};

struct qts_fill {
    struct qts_ev_hdr h;
    uint64_t order_id_;
    uint32_t strategy_id;
    uint8_t side_;
    uint8_t is_maker_;
    uint16_t reserved0;
    int64_t px;
    int64_t qty_;
    int64_t fee_;
    uint64_t fill_id;
    char tag_[24];
};

struct qts_timer_event {
    struct qts_ev_hdr h;
    uint64_t timer_id;
};

struct qts_lua_strategy;

const struct qts_ev_hdr *qts_ffi_next_event(struct qts_lua_strategy *s);
int qts_ffi_order(struct qts_lua_strategy *s, struct qts_order_intent *in,
                  uint64_t *id_out, const char **err);
int qts_ffi_cancel(struct qts_lua_strategy *s, uint64_t order_id, const char **err);
int qts_ffi_position(struct qts_lua_strategy *s, uint32_t instrument, int64_t *qty_out);
int qts_ffi_operating_state(struct qts_lua_strategy *s);
int qts_ffi_account(struct qts_lua_strategy *s, int64_t *cash_out, int64_t *equity_out);
int qts_ffi_book(struct qts_lua_strategy *s, uint32_t instrument,
                 const struct qts_book_update **out);
int qts_ffi_bars(struct qts_lua_strategy *s, uint32_t instrument, int64_t period_ns,
                 struct qts_bar *out, uint32_t cap);
int qts_ffi_history(struct qts_lua_strategy *s, uint32_t instrument, int64_t period_ns,
                    struct qts_bar *out, uint32_t cap);
int qts_ffi_set_timer(struct qts_lua_strategy *s, int64_t after_ns, int64_t every_ns,
                      uint64_t *id_out);
int qts_ffi_cancel_timer(struct qts_lua_strategy *s, uint64_t id);
int qts_ffi_log(struct qts_lua_strategy *s, int level, const char *msg);
int qts_ffi_instrument_count(struct qts_lua_strategy *s);
int qts_ffi_instrument_at(struct qts_lua_strategy *s, uint32_t i,
                          const struct qts_instrument **out);
double qts_ffi_now(struct qts_lua_strategy *s);

struct qts_feedback_summary {
    uint32_t struct_size;
    int32_t sample_count;
    double avg_slippage_bps;
    double avg_market_impact_bps;
    double avg_quality_score;
    double avg_fill_latency_ms;
    double avg_fill_ratio;
    double volatility;
    double spread_bps;
    double depth;
    int32_t is_default;
    int32_t model_fitted;
    double expected_slippage_bps;
    double expected_impact_bps;
    double fill_prob;
    double model_k, model_beta;
    double recent_volume;
};
int qts_ffi_feedback(struct qts_lua_strategy *s, uint32_t instrument, double qty,
                     double dist_ticks, double horizon_s, struct qts_feedback_summary *out);
]]

return true
