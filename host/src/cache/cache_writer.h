/* cache_writer.h — coalescing write-through from the core to the cache
 * plugin (cache_memory or cache_redis).
 *
 * The core calls qts_cache_writer_<kind>() after each relevant change. A
 * call only copies the new value into the key's slot and marks it dirty:
 * O(1), no allocation, no I/O, never waits for the cache. On the core loop
 * (a uv_check handle, i.e. once per loop turn after I/O) the writer sends the
 * latest value of every dirty key through the plugin's ops, so when the
 * cache is slower than the updates, intermediate values are skipped, never
 * queued. While the plugin reports more than `max_pending` commands in
 * flight, nothing is sent and keys stay dirty (coalescing further).
 *
 * Long-lived keys (positions, open orders, risk, strategies) are re-sent
 * before half their TTL has passed, so they stay present while the host
 * runs and reappear after the cache was down. Prices and books are not
 * refreshed: a missing price key means "no recent quote".
 *
 * Keys (without the plugin's host prefix) and fields: docs/cache.md.
 * All functions run on the core loop thread.
 */
#ifndef QTS_CACHE_WRITER_H
#define QTS_CACHE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "qts/qts_err.h"
#include "qts/qts_plugin.h"
#include "qts/qts_types.h"

#define QTS_CACHE_ID_MAX 48       /* symbol / strategy id bytes, incl. NUL */
#define QTS_CACHE_BOOK_MAX 20     /* levels per side */
#define QTS_CACHE_STRAT_PARAMS 16 /* parameters per strategy */

struct qts_cache_writer_cfg {
    uint32_t max_keys;    /* slots (symbols x kinds + open orders); 0 = 4096 */
    uint32_t max_pending; /* plugin commands in flight before holding back; 0 = 4096 */
    uint32_t refresh_ms;  /* how often refresh-due keys are looked for; 0 = 100 */
    uint32_t book_depth;  /* levels written per side; 0 = 10, max QTS_CACHE_BOOK_MAX */
    /* TTLs; 0 = the default in parentheses */
    int64_t ttl_price_ms; /* price:{sym}      (100) */
    int64_t ttl_pos_ms;   /* pos:{sym}        (1000) */
    int64_t ttl_ord_ms;   /* ord:{id}         (60000) */
    int64_t ttl_risk_ms;  /* risk:account     (5000) */
    int64_t ttl_strat_ms; /* strat:{id}       (60000) */
    int64_t ttl_book_ms;  /* book:{sym}:bid|ask (50) */
};

/* Values are fixed-point with the given exponents (qts_types.h); cash
 * amounts use QTS_CASH_EXP. Times are Unix milliseconds. */
struct qts_cache_price {
    int64_t bid, ask, last, volume;
    int64_t ts_ms;
    uint8_t px_exp, qty_exp;
};

struct qts_cache_position {
    int64_t qty; /* signed; 0 deletes the key */
    int64_t avg_px;
    int64_t unrealized_pnl; /* cash */
    int64_t exposure_value; /* cash */
    double exposure_pct;    /* of equity, percent */
    int64_t ts_ms;
    uint8_t px_exp, qty_exp;
};

struct qts_cache_order {
    const char *symbol; /* borrowed for the call (copied) */
    const char *status; /* "NEW", "PARTIALLY_FILLED", ... borrowed (copied) */
    int side;           /* enum qts_side */
    int64_t qty, filled_qty, pending_qty, avg_fill_px, limit_px;
    int64_t ts_ms;
    uint8_t px_exp, qty_exp;
    bool is_terminal; /* filled / cancelled / rejected: written once more, not refreshed */
};

struct qts_cache_risk {
    int64_t exposure_used;    /* cash */
    int64_t daily_pnl;        /* cash */
    int64_t remaining_limit;  /* cash */
    int64_t daily_loss_limit; /* cash */
    int64_t trade_count;
    double max_exposure_pct;
    const char *safety_state; /* "NORMAL", ... borrowed (copied); NULL = omitted */
    int64_t ts_ms;
};

struct qts_cache_strategy {
    bool is_active;
    size_t n;                 /* <= QTS_CACHE_STRAT_PARAMS (more are dropped) */
    const char *const *names; /* borrowed (copied) */
    const double *values;     /* borrowed (copied) */
    int64_t ts_ms;
};

struct qts_cache_writer_stats {
    uint64_t updates;   /* calls accepted */
    uint64_t coalesced; /* updates that replaced a value not yet sent */
    uint64_t writes;    /* plugin operations issued */
    uint64_t errors;    /* plugin operations refused (logged once per streak) */
    uint64_t full;      /* updates refused: no free slot */
    uint64_t refreshes; /* keys re-sent before their TTL ran out */
    uint32_t dirty;     /* keys waiting to be sent */
    uint32_t keys;      /* slots in use */
};

struct qts_cache_writer;

/* `ops`/`self` are the cache plugin's (borrowed; must outlive the writer or
 * be replaced with qts_cache_writer_set_target). `loop` borrowed. `cfg` may
 * be NULL (defaults); copied. *out owned: qts_cache_writer_free. */
int qts_cache_writer_new(uv_loop_t *loop, const struct qts_cache_ops *ops, void *self,
                         const struct qts_cache_writer_cfg *cfg, struct qts_cache_writer **out,
                         struct qts_err *err);
/* Flushes what is dirty (best effort), closes the handles. The memory is
 * released once the loop has run the close callbacks. NULL is a no-op. */
void qts_cache_writer_free(struct qts_cache_writer *w);

/* Point the writer at another plugin instance (reload), or NULL to hold
 * every write. All keys are marked dirty so the new target gets them. */
void qts_cache_writer_set_target(struct qts_cache_writer *w, const struct qts_cache_ops *ops,
                                 void *self);

/* Hot path. Return 0, QTS_EINVAL (empty or too long id) or QTS_EFULL. The
 * structs and strings are copied. */
int qts_cache_writer_price(struct qts_cache_writer *w, const char *symbol,
                           const struct qts_cache_price *p);
int qts_cache_writer_position(struct qts_cache_writer *w, const char *symbol,
                              const struct qts_cache_position *p);
int qts_cache_writer_order(struct qts_cache_writer *w, uint64_t order_id,
                           const struct qts_cache_order *o);
int qts_cache_writer_risk(struct qts_cache_writer *w, const struct qts_cache_risk *r);
int qts_cache_writer_strategy(struct qts_cache_writer *w, const char *strategy_id,
                              const struct qts_cache_strategy *s);
/* Levels borrowed for the call; best first (bids descending, asks ascending);
 * at most book_depth per side are kept. */
int qts_cache_writer_book(struct qts_cache_writer *w, const char *symbol,
                          const struct qts_level *bids, size_t n_bids, const struct qts_level *asks,
                          size_t n_asks, uint8_t px_exp, uint8_t qty_exp, int64_t ts_ms);

/* Send every dirty key now (the loop does this by itself once per turn).
 * Returns the number of plugin operations issued. */
int qts_cache_writer_flush(struct qts_cache_writer *w);
/* Mark keys due for refresh dirty (the writer's timer does this). */
void qts_cache_writer_refresh(struct qts_cache_writer *w);

void qts_cache_writer_stats(const struct qts_cache_writer *w, struct qts_cache_writer_stats *out);

#endif /* QTS_CACHE_WRITER_H */
