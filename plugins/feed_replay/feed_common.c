/* feed_common.c — see feed_common.h. */
#include "feed_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int feed_define(void *arg, struct qts_md_inst *inst, struct qts_err *err)
{
    const struct feed_host *fh = arg;
    struct qts_instrument in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    feed_copy(in.symbol, inst->symbol, sizeof in.symbol);
    feed_copy(in.venue, inst->venue, sizeof in.venue);
    in.px_exp = inst->px_exp;
    in.qty_exp = inst->qty_exp;
    in.flags = QTS_INST_TRADABLE;
    uint32_t id = 0;
    int rc = fh->host->instrument_define(fh->owner, &in, &id);
    if (rc < 0)
        return qts_err_set(err, rc, "instrument_define %s failed: %s", inst->symbol,
                           qts_strerror(rc));
    const struct qts_instrument *known =
        fh->host->instrument_find ? fh->host->instrument_find(fh->owner, inst->symbol) : NULL;
    if (known && (known->px_exp != inst->px_exp || known->qty_exp != inst->qty_exp))
        return qts_err_set(err, QTS_ECONFIG,
                           "%s is defined with exponents %u/%u, the feed uses %u/%u", inst->symbol,
                           known->px_exp, known->qty_exp, inst->px_exp, inst->qty_exp);
    inst->id = id;
    return 0;
}

int feed_emit(const struct feed_host *fh, const union qts_md_event *ev)
{
    const struct qts_host_api *h = fh->host;
    switch (ev->h.type) {
    case QTS_EV_TRADE: return h->emit_trade(fh->owner, &ev->trade);
    case QTS_EV_QUOTE: return h->emit_quote(fh->owner, &ev->quote);
    case QTS_EV_BOOK: return h->emit_book(fh->owner, &ev->book);
    case QTS_EV_BAR: return h->emit_bar(fh->owner, &ev->bar);
    default: return QTS_EINVAL;
    }
}

char *feed_cfg_list(const struct feed_host *fh, const char *key, struct qts_err *err)
{
    const char *s = NULL;
    int rc = fh->host->cfg_str(fh->owner, key, &s, err);
    if (rc == 0 && s)
        return feed_strdup(s);
    char *out = NULL;
    size_t len = 0;
    for (int i = 0;; i++) {
        char k[128];
        snprintf(k, sizeof k, "%s.%d", key, i);
        const char *v = NULL;
        if (fh->host->cfg_str(fh->owner, k, &v, NULL) != 0 || !v)
            break;
        size_t n = strlen(v);
        out = feed_realloc(out, len + n + 2);
        if (len)
            out[len++] = ',';
        memcpy(out + len, v, n + 1);
        len += n;
    }
    if (out && err)
        qts_err_clear(err);
    return out;
}
