/* lua_ffi.c — the C functions strategies reach through the prelude's
 * ffi.C. Rules (STYLE §3): scalar arguments or one struct pointer, an int
 * code back (0 or a negative QTS_E*; counts where documented), a static
 * string in *err, never a Lua error, never a call back into Lua. They run
 * on the strategy's worker thread and touch only that strategy's object
 * and the append-only instrument table. */
#include <math.h>
#include <string.h>

#include "bar_history.h"
#include "clock.h"
#include "log.h"
#include "lua_strategy.h"
#include "portfolio.h"
#include "util.h"

#define QTS_FFI __attribute__((visibility("default")))

/* Prototypes here (not in a header): only Lua calls these. */
QTS_FFI const struct qts_ev_hdr *qts_ffi_next_event(struct qts_lua_strategy *s);
QTS_FFI int qts_ffi_order(struct qts_lua_strategy *s, struct qts_order_intent *in, uint64_t *id_out,
                          const char **err);
QTS_FFI int qts_ffi_cancel(struct qts_lua_strategy *s, uint64_t order_id, const char **err);
QTS_FFI int qts_ffi_position(struct qts_lua_strategy *s, uint32_t instrument, int64_t *qty_out);
QTS_FFI int qts_ffi_operating_state(struct qts_lua_strategy *s);
QTS_FFI int qts_ffi_account(struct qts_lua_strategy *s, int64_t *cash_out, int64_t *equity_out);
QTS_FFI int qts_ffi_book(struct qts_lua_strategy *s, uint32_t instrument,
                         const struct qts_book_update **out);
QTS_FFI int qts_ffi_bars(struct qts_lua_strategy *s, uint32_t instrument, int64_t period_ns,
                         struct qts_bar *out, uint32_t cap);
QTS_FFI int qts_ffi_history(struct qts_lua_strategy *s, uint32_t instrument, int64_t period_ns,
                            struct qts_bar *out, uint32_t cap);
QTS_FFI int qts_ffi_set_timer(struct qts_lua_strategy *s, int64_t after_ns, int64_t every_ns,
                              uint64_t *id_out);
QTS_FFI int qts_ffi_cancel_timer(struct qts_lua_strategy *s, uint64_t id);
QTS_FFI int qts_ffi_log(struct qts_lua_strategy *s, int level, const char *msg);
QTS_FFI int qts_ffi_instrument_count(struct qts_lua_strategy *s);
QTS_FFI int qts_ffi_instrument_at(struct qts_lua_strategy *s, uint32_t i,
                                  const struct qts_instrument **out);
QTS_FFI double qts_ffi_now(struct qts_lua_strategy *s);

/* Replay: the strategy's time is the time of the event it handles (the
 * runtime clock is only advanced per step). */
static int64_t now_ns(const struct qts_lua_strategy *s)
{
    int64_t c = qts_clock_now(s->clock);
    return s->event_time && s->cur_ts_ns > c ? s->cur_ts_ns : c;
}

static const struct qts_instrument *inst_get(struct qts_lua_strategy *s, uint32_t id)
{
    size_t n = atomic_load_explicit(&s->instruments->n, memory_order_acquire);
    if (s->instruments->pos_of_id) {
        if (id >= s->instruments->cap)
            return NULL;
        uint32_t p = s->instruments->pos_of_id[id];
        return p && p <= n ? &s->instruments->v[p - 1] : NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (s->instruments->v[i].id == id)
            return &s->instruments->v[i];
    return NULL;
}

QTS_FFI const struct qts_ev_hdr *qts_ffi_next_event(struct qts_lua_strategy *s)
{
    if (s->batch_pos >= s->batch_n || (s->stop_on_intent && s->intents_this_event))
        return NULL;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != QTS_LUA_ST_RUNNING)
        return NULL;
    s->cur_evno = s->evno_base + s->batch_idx[s->batch_pos];
    const struct qts_ev_hdr *ev = s->batch[s->batch_pos++];
    s->intents_this_event = 0;
    s->cur_ts_ns = ev->ts_exch_ns;
    /* a bar is known at its close (docs/market-data.md): that is its time */
    if (ev->type == QTS_EV_BAR && ((const struct qts_bar *)ev)->period_ns > 0)
        s->cur_ts_ns += ((const struct qts_bar *)ev)->period_ns;
    qts_lua_strategy_mirror(s, ev);
    atomic_fetch_add_explicit(&s->n_events, 1, memory_order_relaxed);
    return ev;
}

static int push_msg(struct qts_lua_strategy *s, const struct qts_lua_msg *m, const char **err)
{
    int rc = qts_ring_push(&s->intents, m);
    if (rc != 0) {
        atomic_fetch_add(&s->n_intents_full, 1);
        *err = "intent queue full (core not draining)";
        return QTS_EFULL;
    }
    s->intents_this_event++;
    return 0;
}

QTS_FFI int qts_ffi_order(struct qts_lua_strategy *s, struct qts_order_intent *in, uint64_t *id_out,
                          const char **err)
{
    static const char *none = "";
    *err = none;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != QTS_LUA_ST_RUNNING) {
        *err = "strategy is halted";
        return QTS_EHALTED;
    }
    if (!inst_get(s, in->instrument)) {
        *err = "unknown instrument";
        return QTS_EINVAL;
    }
    if (in->side != QTS_SIDE_BUY && in->side != QTS_SIDE_SELL) {
        *err = "bad side";
        return QTS_EINVAL;
    }
    if (in->type != QTS_ORD_MARKET && in->type != QTS_ORD_LIMIT && in->type != QTS_ORD_STOP) {
        *err = "bad order type";
        return QTS_EINVAL;
    }
    if (in->qty <= 0 || (in->type != QTS_ORD_MARKET && in->px <= 0)) {
        *err = "quantity and limit or stop price must be positive";
        return QTS_EINVAL;
    }
    if (in->tif > QTS_TIF_POST || in->algo > QTS_ALGO_AUTO) {
        *err = "bad tif or algo";
        return QTS_EINVAL;
    }
    /* built in place in the ring: no extra copy of the 200-byte message */
    struct qts_lua_msg *m = qts_ring_reserve(&s->intents);
    if (!m) {
        atomic_fetch_add(&s->n_intents_full, 1);
        *err = "intent queue full (core not draining)";
        return QTS_EFULL;
    }
    m->kind = QTS_LUA_MSG_ORDER;
    m->strategy_id = s->id;
    m->evno = s->cur_evno;
    m->intent = *in;
    m->intent.struct_size = sizeof m->intent;
    m->intent.strategy_id = s->id;
    m->intent.tag[QTS_TAG_MAX - 1] = '\0';
    /* the OMS's id for this order, handed back to the strategy now */
    m->intent.order_id = qts_oms_strategy_id_next(&s->order_ids, s->id);
    m->intent.ts_decision_ns = s->cur_ts_ns;
    m->order_id = m->intent.order_id;
    *id_out = m->order_id;
    qts_ring_commit(&s->intents);
    s->intents_this_event++;
    return 0;
}

QTS_FFI int qts_ffi_cancel(struct qts_lua_strategy *s, uint64_t order_id, const char **err)
{
    static const char *none = "";
    *err = none;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != QTS_LUA_ST_RUNNING) {
        *err = "strategy is halted";
        return QTS_EHALTED;
    }
    if (!qts_oms_strategy_id_issued(&s->order_ids, s->id, order_id)) {
        *err = "not an order of this strategy";
        return QTS_ENOENT;
    }
    struct qts_lua_msg m;
    memset(&m, 0, sizeof m);
    m.kind = QTS_LUA_MSG_CANCEL;
    m.strategy_id = s->id;
    m.order_id = order_id;
    m.evno = s->cur_evno;
    return push_msg(s, &m, err);
}

QTS_FFI int qts_ffi_operating_state(struct qts_lua_strategy *s)
{
    return atomic_load_explicit(&s->op_state, memory_order_relaxed);
}

QTS_FFI int qts_ffi_position(struct qts_lua_strategy *s, uint32_t instrument, int64_t *qty_out)
{
    *qty_out = instrument < s->pos_cap ? s->pos[instrument].qty : 0;
    return 0;
}

/* Cash units (QTS_CASH_EXP), exact: the same integer arithmetic as the
 * portfolio's (each position valued with qts_cash_notional at the last price
 * the strategy saw); ctx:cash()/equity() turn them into numbers. */
QTS_FFI int qts_ffi_account(struct qts_lua_strategy *s, int64_t *cash_out, int64_t *equity_out)
{
    int64_t cash = s->initial_cash + s->cash;
    int64_t eq = cash;
    for (size_t i = 0; i < s->pos_cap; i++) {
        const struct qts_lua_pos *p = &s->pos[i];
        if (p->qty)
            eq += qts_cash_notional(p->last_px, p->px_exp, p->qty, p->qty_exp);
    }
    *cash_out = cash;
    *equity_out = eq;
    return 0;
}

QTS_FFI int qts_ffi_book(struct qts_lua_strategy *s, uint32_t instrument,
                         const struct qts_book_update **out)
{
    if (instrument >= s->books_cap || s->books[instrument].u.h.type != QTS_EV_BOOK)
        return QTS_ENOENT;
    *out = &s->books[instrument].u.book;
    return 0;
}

QTS_FFI int qts_ffi_bars(struct qts_lua_strategy *s, uint32_t instrument, int64_t period_ns,
                         struct qts_bar *out, uint32_t cap)
{
    for (size_t i = 0; i < s->n_bars; i++) {
        struct qts_lua_bars *r = &s->bars[i];
        if (r->instrument != instrument || r->period_ns != period_ns)
            continue;
        uint32_t n = (uint32_t)QTS_MIN((size_t)cap, r->n);
        /* oldest of the last n first */
        for (uint32_t k = 0; k < n; k++) {
            size_t at = (r->head + QTS_LUA_BAR_KEEP - n + k) % QTS_LUA_BAR_KEEP;
            out[k] = r->v[at];
        }
        return (int)n;
    }
    return 0;
}

/* ctx:history: the store's bars that closed by the strategy's time (the
 * history is read-only once strategies run: no lock). */
QTS_FFI int qts_ffi_history(struct qts_lua_strategy *s, uint32_t instrument, int64_t period_ns,
                            struct qts_bar *out, uint32_t cap)
{
    const struct qts_instrument *ins = inst_get(s, instrument);
    if (!ins || !s->history)
        return 0;
    return (int)qts_bar_history_get(s->history, ins->symbol, period_ns, now_ns(s), out, cap);
}

QTS_FFI int qts_ffi_set_timer(struct qts_lua_strategy *s, int64_t after_ns, int64_t every_ns,
                              uint64_t *id_out)
{
    for (int i = 0; i < QTS_LUA_MAX_TIMERS; i++) {
        if (s->timers[i].used)
            continue;
        s->timers[i].used = true;
        s->timers[i].id = ++s->timer_seq;
        /* at least 1 ns ahead: a timer re-armed at 0 s cannot spin */
        s->timers[i].due_ns = now_ns(s) + (after_ns > 0 ? after_ns : 1);
        s->timers[i].every_ns = every_ns > 0 ? every_ns : 0;
        *id_out = s->timers[i].id;
        if (s->event_time)
            s->intents_this_event++; /* replay: the step must end here (see step()) */
        return 0;
    }
    return QTS_EFULL;
}

QTS_FFI int qts_ffi_cancel_timer(struct qts_lua_strategy *s, uint64_t id)
{
    for (int i = 0; i < QTS_LUA_MAX_TIMERS; i++)
        if (s->timers[i].used && s->timers[i].id == id) {
            s->timers[i].used = false;
            return 0;
        }
    return QTS_ENOENT;
}

QTS_FFI int qts_ffi_log(struct qts_lua_strategy *s, int level, const char *msg)
{
    if (level < QTS_LOG_TRACE || level > QTS_LOG_ERROR)
        level = QTS_LOG_INFO;
    if (qts_log_enabled(level))
        qts_log(level, "strategy=%s %s", s->name, msg ? msg : "");
    return 0;
}

QTS_FFI int qts_ffi_instrument_count(struct qts_lua_strategy *s)
{
    return (int)atomic_load_explicit(&s->instruments->n, memory_order_acquire);
}

QTS_FFI int qts_ffi_instrument_at(struct qts_lua_strategy *s, uint32_t i,
                                  const struct qts_instrument **out)
{
    if (i >= atomic_load_explicit(&s->instruments->n, memory_order_acquire))
        return QTS_ERANGE;
    *out = &s->instruments->v[i];
    return 0;
}

QTS_FFI double qts_ffi_now(struct qts_lua_strategy *s) { return (double)now_ns(s) / 1e9; }
