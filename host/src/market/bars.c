/* bars.c — time bars from trades (see bars.h). */
#include "bars.h"

#include <string.h>

#include "qts/qts_err.h"

int64_t qts_bar_open_ns(int64_t ts_ns, int64_t period_ns)
{
    int64_t r = ts_ns % period_ns;
    if (r < 0)
        r += period_ns;
    return ts_ns - r;
}

int qts_bar_builder_init(struct qts_bar_builder *b, int64_t period_ns)
{
    memset(b, 0, sizeof *b);
    if (period_ns < QTS_NS_PER_SEC || period_ns > QTS_NS_PER_DAY ||
        period_ns % QTS_NS_PER_SEC != 0 || QTS_NS_PER_DAY % period_ns != 0)
        return QTS_EINVAL;
    b->period_ns = period_ns;
    return 0;
}

static void emit(struct qts_bar_builder *b, struct qts_bar *out)
{
    *out = b->cur;
    b->has_bar = false;
    b->has_emitted = true;
    b->last_open_ns = b->cur.h.ts_exch_ns;
    b->n_bars++;
}

int qts_bar_builder_push(struct qts_bar_builder *b, const struct qts_trade *t, struct qts_bar *out)
{
    if (t->qty < 0)
        return QTS_EINVAL;
    int64_t open = qts_bar_open_ns(t->h.ts_exch_ns, b->period_ns);
    if (b->has_bar && (t->h.instrument != b->cur.h.instrument || t->h.px_exp != b->cur.h.px_exp ||
                       t->h.qty_exp != b->cur.h.qty_exp))
        return QTS_EINVAL;
    if (b->has_emitted && open <= b->last_open_ns) {
        b->n_late++;
        return 0;
    }
    int emitted = 0;
    if (b->has_bar && open != b->cur.h.ts_exch_ns) {
        if (open < b->cur.h.ts_exch_ns) { /* earlier than the open bar: late */
            b->n_late++;
            return 0;
        }
        emit(b, out);
        emitted = 1;
    }
    struct qts_bar *c = &b->cur;
    if (!b->has_bar) {
        memset(c, 0, sizeof *c);
        c->h.struct_size = sizeof(struct qts_bar);
        c->h.type = QTS_EV_BAR;
        c->h.px_exp = t->h.px_exp;
        c->h.qty_exp = t->h.qty_exp;
        c->h.instrument = t->h.instrument;
        c->h.ts_exch_ns = open;
        c->period_ns = b->period_ns;
        c->open = c->high = c->low = t->px;
        b->has_bar = true;
    }
    if (t->px > c->high)
        c->high = t->px;
    if (t->px < c->low)
        c->low = t->px;
    c->close = t->px;
    c->volume += t->qty;
    c->n_trades++;
    if (t->h.ts_recv_ns > c->h.ts_recv_ns)
        c->h.ts_recv_ns = t->h.ts_recv_ns; /* latest receive time in the bar */
    return emitted;
}

int qts_bar_builder_poll(struct qts_bar_builder *b, int64_t now_ns, struct qts_bar *out)
{
    if (!b->has_bar || now_ns < b->cur.h.ts_exch_ns + b->period_ns)
        return 0;
    emit(b, out);
    return 1;
}

int qts_bar_builder_flush(struct qts_bar_builder *b, struct qts_bar *out)
{
    if (!b->has_bar)
        return 0;
    emit(b, out);
    return 1;
}
