/* lua_sub.c — see lua_sub.h. */
#include "lua_sub.h"

#include <string.h>

#include "instruments.h"
#include "lua_runtime.h"
#include "tca.h"

static void lua_on_order(void *self, const struct qts_order_event *ev)
{
    struct qts_lua_pub *pub = self;
    if (pub->rt)
        qts_lua_runtime_post(pub->rt, &ev->h);
}

static void lua_on_fill(void *self, const struct qts_fill *f)
{
    struct qts_lua_pub *pub = self;
    if (pub->rt)
        qts_lua_runtime_post(pub->rt, &f->h);
}

void qts_lua_pub_feedback(struct qts_lua_pub *pub, const struct qts_tca_row *row)
{
    const struct qts_instrument *in = qts_instruments_get(pub->instruments, row->instrument);
    struct qts_ev_hdr h;
    memset(&h, 0, sizeof h);
    h.struct_size = sizeof h;
    h.type = QTS_EV_FEEDBACK;
    h.instrument = row->instrument;
    h.px_exp = in ? in->px_exp : 0;
    h.qty_exp = in ? in->qty_exp : 0;
    h.ts_exch_ns = h.ts_recv_ns = row->ts_end_ns;
    h.seq = ++*pub->seq;
    qts_lua_runtime_post(pub->rt, &h);
}

struct qts_bus_sub qts_lua_sub(struct qts_lua_pub *pub)
{
    return (struct qts_bus_sub){
        .name = "lua", .on_order = lua_on_order, .on_fill = lua_on_fill, .self = pub};
}
