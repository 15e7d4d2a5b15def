/* md_binfile.c — see md_binfile.h. */
#include "md_binfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define EV_HDR 24u /* type,flags,inst,len + ts_exch + ts_recv */
#define TRADE_LEN (EV_HDR + 32u)
#define QUOTE_LEN (EV_HDR + 40u)
#define BOOK_FIXED (EV_HDR + 32u)
#define BAR_LEN (EV_HDR + 56u)
#define INST_LEN 64u

static inline void put64(uint8_t *p, int64_t v) { memcpy(p, &v, 8); }
static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline int64_t get64(const uint8_t *p)
{
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

int qts_md_binwriter_open(struct qts_md_binwriter *w, const char *path, struct qts_err *err)
{
    memset(w, 0, sizeof *w);
    w->fp = fopen(path, "wb");
    if (!w->fp)
        return qts_err_set(err, QTS_EIO, "%s: %s", path, strerror(errno));
    w->iobuf = qts_xmalloc(1 << 20);
    setvbuf(w->fp, w->iobuf, _IOFBF, 1 << 20);
    uint8_t h[QTS_MD_BIN_HDR];
    memcpy(h, QTS_MD_BIN_MAGIC, 8);
    put32(h + 8, QTS_MD_BIN_VERSION);
    put32(h + 12, 0);
    fwrite(h, 1, sizeof h, w->fp);
    return 0;
}

static void rec_head(uint8_t *p, unsigned type, unsigned flags, uint32_t inst, uint32_t len)
{
    p[0] = (uint8_t)type;
    p[1] = (uint8_t)flags;
    uint16_t i = (uint16_t)inst;
    memcpy(p + 2, &i, 2);
    put32(p + 4, len);
}

int qts_md_binwriter_write(struct qts_md_binwriter *w, const struct qts_md_inst *in,
                           const union qts_md_event *ev, struct qts_err *err)
{
    if (in->index >= w->map_n) {
        size_t n = in->index + 16;
        w->map = qts_xrealloc(w->map, n * sizeof *w->map);
        memset(w->map + w->map_n, 0, (n - w->map_n) * sizeof *w->map);
        w->map_n = n;
    }
    if (!w->map[in->index]) {
        if (w->n_inst >= 65535)
            return qts_err_set(err, QTS_ERANGE, "more than 65535 instruments");
        uint8_t r[INST_LEN];
        memset(r, 0, sizeof r);
        rec_head(r, QTS_MD_BIN_INST, 0, w->n_inst, INST_LEN);
        r[8] = in->px_exp;
        r[9] = in->qty_exp;
        memcpy(r + 12, in->symbol, QTS_SYMBOL_MAX);
        memcpy(r + 44, in->venue, 16);
        r[44 + 15] = '\0';
        fwrite(r, 1, sizeof r, w->fp);
        w->map[in->index] = ++w->n_inst;
    }
    uint32_t fi = w->map[in->index] - 1;
    uint8_t *r = w->scratch;
    uint32_t len;
    switch (ev->h.type) {
    case QTS_EV_TRADE:
        len = TRADE_LEN;
        put64(r + 24, ev->trade.px);
        put64(r + 32, ev->trade.qty);
        put64(r + 40, (int64_t)ev->trade.trade_id);
        memset(r + 48, 0, 8);
        r[48] = ev->trade.aggressor;
        break;
    case QTS_EV_QUOTE:
        len = QUOTE_LEN;
        put64(r + 24, ev->quote.bid_px);
        put64(r + 32, ev->quote.bid_qty);
        put64(r + 40, ev->quote.ask_px);
        put64(r + 48, ev->quote.ask_qty);
        put64(r + 56, (int64_t)ev->quote.update_id);
        break;
    case QTS_EV_BAR:
        len = BAR_LEN;
        put64(r + 24, ev->bar.period_ns);
        put64(r + 32, ev->bar.open);
        put64(r + 40, ev->bar.high);
        put64(r + 48, ev->bar.low);
        put64(r + 56, ev->bar.close);
        put64(r + 64, ev->bar.volume);
        put64(r + 72, ev->bar.n_trades);
        break;
    case QTS_EV_BOOK: {
        const struct qts_book_update *b = &ev->book;
        uint64_t l = BOOK_FIXED + 16ull * ((uint64_t)b->n_bids + b->n_asks);
        if (l > QTS_MD_MAX_RECORD)
            return qts_err_set(err, QTS_ERANGE, "book update too large");
        len = (uint32_t)l;
        put64(r + 24, (int64_t)b->first_update_id);
        put64(r + 32, (int64_t)b->last_update_id);
        put64(r + 40, (int64_t)b->prev_update_id);
        put32(r + 48, b->n_bids);
        put32(r + 52, b->n_asks);
        break;
    }
    default: return qts_err_set(err, QTS_EINVAL, "event type %u has no binary form", ev->h.type);
    }
    rec_head(r, ev->h.type, ev->h.type == QTS_EV_BOOK ? ev->h.flags & 0xff : 0, fi, len);
    put64(r + 8, ev->h.ts_exch_ns);
    put64(r + 16, ev->h.ts_recv_ns);
    if (ev->h.type == QTS_EV_BOOK) {
        fwrite(r, 1, BOOK_FIXED, w->fp);
        if (ev->book.n_bids)
            fwrite(ev->book.bids, sizeof(struct qts_level), ev->book.n_bids, w->fp);
        if (ev->book.n_asks)
            fwrite(ev->book.asks, sizeof(struct qts_level), ev->book.n_asks, w->fp);
    } else {
        fwrite(r, 1, len, w->fp);
    }
    w->n_events++;
    return ferror(w->fp) ? qts_err_set(err, QTS_EIO, "write failed") : 0;
}

int qts_md_binwriter_close(struct qts_md_binwriter *w, struct qts_err *err)
{
    int rc = 0;
    if (w->fp) {
        if (ferror(w->fp) | fclose(w->fp))
            rc = qts_err_set(err, QTS_EIO, "write failed: %s", strerror(errno));
    }
    free(w->iobuf);
    free(w->map);
    memset(w, 0, sizeof *w);
    return rc;
}

void qts_md_binreader_init(struct qts_md_binreader *r, struct qts_md_symtab *syms)
{
    memset(r, 0, sizeof *r);
    r->syms = syms;
}

void qts_md_binreader_cleanup(struct qts_md_binreader *r)
{
    free(r->insts);
    qts_md_levels_free(&r->bids);
    qts_md_levels_free(&r->asks);
    memset(r, 0, sizeof *r);
}

static void load_levels(struct qts_md_levels *l, const uint8_t *p, uint32_t n)
{
    if (n > l->cap) {
        l->cap = n;
        l->v = qts_xrealloc(l->v, (size_t)n * sizeof *l->v);
    }
    memcpy(l->v, p, (size_t)n * sizeof *l->v);
    l->n = n;
}

int qts_md_binreader_next(struct qts_md_binreader *r, struct qts_md_file *f, union qts_md_event *ev,
                          struct qts_err *err)
{
    const uint8_t *p;
    long avail;
    if (QTS_UNLIKELY(!r->header_ok)) {
        avail = qts_md_file_peek(f, QTS_MD_BIN_HDR, &p, err);
        if (avail < 0)
            return (int)avail;
        if (avail < (long)QTS_MD_BIN_HDR || memcmp(p, QTS_MD_BIN_MAGIC, 8) != 0)
            return qts_err_set(err, QTS_EIO, "not a qts binary event file (bad magic)");
        if (get32(p + 8) != QTS_MD_BIN_VERSION)
            return qts_err_set(err, QTS_EIO, "binary format version %u not supported",
                               get32(p + 8));
        qts_md_file_consume(f, QTS_MD_BIN_HDR);
        r->header_ok = true;
    }
    for (;;) {
        avail = qts_md_file_peek(f, EV_HDR, &p, err);
        if (avail < 0)
            return (int)avail;
        if (avail == 0)
            return 0;
        if (avail < 8)
            return qts_err_set(err, QTS_EIO, "truncated record header at byte %llu",
                               (unsigned long long)f->rec_off);
        unsigned type = p[0], flags = p[1];
        uint16_t idx;
        memcpy(&idx, p + 2, 2);
        uint32_t len = get32(p + 4);
        uint32_t want;
        switch (type) {
        case QTS_EV_TRADE: want = TRADE_LEN; break;
        case QTS_EV_QUOTE: want = QUOTE_LEN; break;
        case QTS_EV_BAR: want = BAR_LEN; break;
        case QTS_MD_BIN_INST: want = INST_LEN; break;
        case QTS_EV_BOOK: /* length must agree with the level counts */
            if ((size_t)avail < BOOK_FIXED) {
                avail = qts_md_file_peek(f, BOOK_FIXED, &p, err);
                if (avail < 0)
                    return (int)avail;
                if ((size_t)avail < BOOK_FIXED)
                    return qts_err_set(err, QTS_EIO, "truncated record at byte %llu",
                                       (unsigned long long)f->rec_off);
            }
            want = (uint32_t)QTS_MIN((uint64_t)BOOK_FIXED +
                                         16ull * ((uint64_t)get32(p + 48) + get32(p + 52)),
                                     (uint64_t)UINT32_MAX);
            break;
        default:
            return qts_err_set(err, QTS_EIO, "unknown record type %u at byte %llu", type,
                               (unsigned long long)f->rec_off);
        }
        if (len != want || len > QTS_MD_MAX_RECORD)
            return qts_err_set(err, QTS_EIO, "bad record length %u at byte %llu", len,
                               (unsigned long long)f->rec_off);
        if ((size_t)avail < len) {
            avail = qts_md_file_peek(f, len, &p, err);
            if (avail < 0)
                return (int)avail;
            if ((size_t)avail < len)
                return qts_err_set(err, QTS_EIO, "truncated record at byte %llu",
                                   (unsigned long long)f->rec_off);
        }
        qts_md_file_consume(f, len);
        if (type == QTS_MD_BIN_INST) {
            char sym[QTS_SYMBOL_MAX], venue[16];
            memcpy(sym, p + 12, sizeof sym);
            memcpy(venue, p + 44, sizeof venue);
            sym[QTS_SYMBOL_MAX - 1] = venue[15] = '\0';
            if (idx != r->n_insts)
                return qts_err_set(err, QTS_EIO, "instrument index %u out of order", idx);
            struct qts_md_inst *in = qts_md_symtab_put(r->syms, sym, venue, p[8], p[9], err);
            if (!in)
                return QTS_EIO;
            if (r->n_insts == r->cap_insts) {
                r->cap_insts = r->cap_insts ? r->cap_insts * 2 : 8;
                r->insts = qts_xrealloc(r->insts, r->cap_insts * sizeof *r->insts);
            }
            r->insts[r->n_insts++] = in;
            continue;
        }
        if (QTS_UNLIKELY(idx >= r->n_insts))
            return qts_err_set(err, QTS_EPARSE, "record uses undefined instrument %u", idx);
        const struct qts_md_inst *in = r->insts[idx];
        struct qts_ev_hdr *h = &ev->h;
        h->type = (uint16_t)type;
        h->px_exp = in->px_exp;
        h->qty_exp = in->qty_exp;
        h->instrument = in->id;
        h->flags = 0;
        h->ts_exch_ns = get64(p + 8);
        h->ts_recv_ns = get64(p + 16);
        h->seq = 0;
        switch (type) {
        case QTS_EV_TRADE:
            h->struct_size = sizeof ev->trade;
            ev->trade.px = get64(p + 24);
            ev->trade.qty = get64(p + 32);
            ev->trade.trade_id = (uint64_t)get64(p + 40);
            ev->trade.aggressor = p[48];
            memset(ev->trade.reserved, 0, sizeof ev->trade.reserved);
            return 1;
        case QTS_EV_QUOTE:
            h->struct_size = sizeof ev->quote;
            ev->quote.bid_px = get64(p + 24);
            ev->quote.bid_qty = get64(p + 32);
            ev->quote.ask_px = get64(p + 40);
            ev->quote.ask_qty = get64(p + 48);
            ev->quote.update_id = (uint64_t)get64(p + 56);
            return 1;
        case QTS_EV_BAR:
            h->struct_size = sizeof ev->bar;
            ev->bar.period_ns = get64(p + 24);
            ev->bar.open = get64(p + 32);
            ev->bar.high = get64(p + 40);
            ev->bar.low = get64(p + 48);
            ev->bar.close = get64(p + 56);
            ev->bar.volume = get64(p + 64);
            ev->bar.n_trades = get64(p + 72);
            return 1;
        default: { /* book */
            uint32_t nb = get32(p + 48), na = get32(p + 52);
            h->struct_size = sizeof ev->book;
            h->flags = flags;
            ev->book.first_update_id = (uint64_t)get64(p + 24);
            ev->book.last_update_id = (uint64_t)get64(p + 32);
            ev->book.prev_update_id = (uint64_t)get64(p + 40);
            ev->book.n_bids = nb;
            ev->book.n_asks = na;
            /* Record lengths are multiples of 8 and the file header is 16
             * bytes, so levels are 8-byte aligned in the read buffer: lend
             * them in place (valid until the next read). Copy otherwise. */
            if (QTS_LIKELY(((uintptr_t)p & 7u) == 0)) {
                ev->book.bids = (const struct qts_level *)(const void *)(p + BOOK_FIXED);
                ev->book.asks = ev->book.bids + nb;
            } else {
                load_levels(&r->bids, p + BOOK_FIXED, nb);
                load_levels(&r->asks, p + BOOK_FIXED + 16u * nb, na);
                ev->book.bids = r->bids.v;
                ev->book.asks = r->asks.v;
            }
            return 1;
        }
        }
    }
}
