/* bus.c — see bus.h. */
#include "bus.h"

#include <stdio.h>
#include <string.h>

void qts_bus_init(struct qts_bus *b) { memset(b, 0, sizeof *b); }

int qts_bus_add(struct qts_bus *b, const struct qts_bus_sub *sub)
{
    if (b->n_subs == QTS_BUS_MAX_SUBS)
        return QTS_EFULL;
    b->subs[b->n_subs++] = *sub;
    struct qts_bus_call c = {.self = sub->self};
    /* one entry per kind the subscriber handles, in the order added */
#define ADD_CALL(kind, member, handler)         \
    if (sub->handler) {                         \
        c.fn.member = sub->handler;             \
        b->calls[kind][b->n_calls[kind]++] = c; \
    }
    ADD_CALL(QTS_BUS_MARKET, market, on_market)
    ADD_CALL(QTS_BUS_ORDER, order, on_order)
    ADD_CALL(QTS_BUS_FILL, fill, on_fill)
    ADD_CALL(QTS_BUS_SAFETY, safety, on_safety)
    ADD_CALL(QTS_BUS_DECISION, decision, on_decision)
    ADD_CALL(QTS_BUS_RUN_END, run_end, on_run_end)
#undef ADD_CALL
    return 0;
}

/* Call `member` of every subscriber of `kind`, in order. */
#define DELIVER(b, kind, member, arg)                      \
    do {                                                   \
        const struct qts_bus_call *c_ = (b)->calls[kind];  \
        for (size_t i_ = 0; i_ < (b)->n_calls[kind]; i_++) \
            c_[i_].fn.member(c_[i_].self, arg);            \
    } while (0)

void qts_bus_market(const struct qts_bus *b, const struct qts_bus_market *m)
{
    DELIVER(b, QTS_BUS_MARKET, market, m);
}

void qts_bus_order(const struct qts_bus *b, const struct qts_order_event *ev)
{
    DELIVER(b, QTS_BUS_ORDER, order, ev);
}

void qts_bus_fill(const struct qts_bus *b, const struct qts_fill *f)
{
    DELIVER(b, QTS_BUS_FILL, fill, f);
}

void qts_bus_safety(const struct qts_bus *b, const struct qts_safety_change *sc)
{
    DELIVER(b, QTS_BUS_SAFETY, safety, sc);
}

void qts_bus_decision(const struct qts_bus *b, const struct qts_decision *d)
{
    DELIVER(b, QTS_BUS_DECISION, decision, d);
}

int qts_bus_run_end(const struct qts_bus *b, const struct qts_run_end *end, struct qts_err *err)
{
    const struct qts_bus_call *c = b->calls[QTS_BUS_RUN_END];
    for (size_t i = 0; i < b->n_calls[QTS_BUS_RUN_END]; i++) {
        int rc = c[i].fn.run_end(c[i].self, end, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void qts_bus_describe(const struct qts_bus *b, char *out, size_t cap)
{
    size_t o = 0;
    if (cap)
        out[0] = '\0';
    for (size_t i = 0; i < b->n_subs && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", b->subs[i].name);
}
