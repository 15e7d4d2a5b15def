/* cache_writer.c — see cache_writer.h.
 *
 * Slots live in one preallocated array; an open-addressing index (linear
 * probing, backward-shift deletion) maps (kind, id) to a slot. A dirty slot
 * is on the dirty stack exactly once. Nothing on the update path allocates.
 */
#include "cache_writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

enum slot_kind { K_FREE = 0, K_PRICE, K_POS, K_ORD, K_RISK, K_STRAT, K_BOOK };

struct slot {
    uint64_t hash;
    uint64_t num;  /* order id */
    uint32_t ipos; /* position in the index */
    uint8_t kind;
    bool is_dirty;
    bool is_terminal; /* order: remove the slot once written */
    bool is_deleted;  /* position at zero: key deleted, not refreshed */
    int64_t sent_ms;  /* loop time of the last successful hand-over; 0 = never */
    char id[QTS_CACHE_ID_MAX];
    union {
        struct qts_cache_price price;
        struct qts_cache_position pos;
        struct {
            struct qts_cache_order o; /* o.symbol / o.status point at the arrays below */
            char symbol[QTS_CACHE_ID_MAX];
            char status[24];
        } ord;
        struct {
            struct qts_cache_risk r;
            char state[16];
        } risk;
        struct {
            bool is_active;
            uint32_t n;
            int64_t ts_ms;
            char names[QTS_CACHE_STRAT_PARAMS][32];
            double values[QTS_CACHE_STRAT_PARAMS];
        } strat;
        struct {
            uint8_t px_exp, qty_exp;
            uint8_t nb, na;
            int64_t ts_ms;
            struct qts_level bids[QTS_CACHE_BOOK_MAX];
            struct qts_level asks[QTS_CACHE_BOOK_MAX];
        } book;
    } u;
};

struct qts_cache_writer {
    uv_loop_t *loop;
    const struct qts_cache_ops *ops; /* borrowed */
    void *self;
    struct qts_cache_writer_cfg cfg;
    struct slot *slots;
    uint32_t n_slots;
    uint32_t *index; /* slot + 1; 0 = empty */
    uint32_t index_mask;
    uint32_t *free_stack;
    uint32_t n_free;
    uint32_t *dirty;
    uint32_t n_dirty;
    uv_check_t check;
    uv_timer_t refresh_timer;
    int open_handles;
    bool is_failing; /* inside a streak of refused writes (logged once) */
    struct qts_cache_writer_stats st;
};

/* ------------------------------------------------------------------ index */

static uint64_t hash_id(uint8_t kind, const char *id, size_t n, uint64_t num)
{
    uint64_t h = 1469598103934665603ULL ^ kind;
    h *= 1099511628211ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)id[i];
        h *= 1099511628211ULL;
    }
    h ^= num;
    h *= 1099511628211ULL;
    return h ^ (h >> 29);
}

static struct slot *find_or_add(struct qts_cache_writer *w, uint8_t kind, const char *id, size_t n,
                                uint64_t num)
{
    uint64_t h = hash_id(kind, id, n, num);
    uint32_t i = (uint32_t)h & w->index_mask;
    for (;;) {
        uint32_t v = w->index[i];
        if (v == 0)
            break;
        struct slot *s = &w->slots[v - 1];
        if (s->hash == h && s->kind == kind && s->num == num && strncmp(s->id, id, n) == 0 &&
            s->id[n] == '\0')
            return s;
        i = (i + 1) & w->index_mask;
    }
    if (w->n_free == 0) {
        w->st.full++;
        return NULL;
    }
    uint32_t si = w->free_stack[--w->n_free];
    struct slot *s = &w->slots[si];
    memset(s, 0, offsetof(struct slot, u));
    s->hash = h;
    s->num = num;
    s->kind = kind;
    s->ipos = i;
    memcpy(s->id, id, n);
    s->id[n] = '\0';
    w->index[i] = si + 1;
    w->st.keys++;
    return s;
}

static void remove_slot(struct qts_cache_writer *w, struct slot *s)
{
    uint32_t mask = w->index_mask;
    uint32_t i = s->ipos;
    w->index[i] = 0;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t v = w->index[j];
        if (v == 0)
            break;
        uint32_t k = (uint32_t)w->slots[v - 1].hash & mask;
        /* move j back to i unless its home k lies cyclically in (i, j] */
        bool stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            w->index[i] = v;
            w->slots[v - 1].ipos = i;
            w->index[j] = 0;
            i = j;
        }
    }
    s->kind = K_FREE;
    w->free_stack[w->n_free++] = (uint32_t)(s - w->slots);
    w->st.keys--;
}

static void mark_dirty(struct qts_cache_writer *w, struct slot *s)
{
    w->st.updates++;
    if (s->is_dirty) {
        w->st.coalesced++;
        return;
    }
    s->is_dirty = true;
    w->dirty[w->n_dirty++] = (uint32_t)(s - w->slots);
}

static int id_len(const char *id, size_t *n)
{
    if (!id)
        return QTS_EINVAL;
    size_t l = strnlen(id, QTS_CACHE_ID_MAX);
    if (l == 0 || l >= QTS_CACHE_ID_MAX)
        return QTS_EINVAL;
    *n = l;
    return 0;
}

/* ------------------------------------------------------------- hot path */

int qts_cache_writer_price(struct qts_cache_writer *w, const char *symbol,
                           const struct qts_cache_price *p)
{
    size_t n;
    if (id_len(symbol, &n) < 0 || !p)
        return QTS_EINVAL;
    struct slot *s = find_or_add(w, K_PRICE, symbol, n, 0);
    if (!s)
        return QTS_EFULL;
    s->u.price = *p;
    mark_dirty(w, s);
    return 0;
}

int qts_cache_writer_position(struct qts_cache_writer *w, const char *symbol,
                              const struct qts_cache_position *p)
{
    size_t n;
    if (id_len(symbol, &n) < 0 || !p)
        return QTS_EINVAL;
    struct slot *s = find_or_add(w, K_POS, symbol, n, 0);
    if (!s)
        return QTS_EFULL;
    s->u.pos = *p;
    s->is_deleted = false;
    mark_dirty(w, s);
    return 0;
}

int qts_cache_writer_order(struct qts_cache_writer *w, uint64_t order_id,
                           const struct qts_cache_order *o)
{
    if (!o || order_id == 0)
        return QTS_EINVAL;
    struct slot *s = find_or_add(w, K_ORD, "", 0, order_id);
    if (!s)
        return QTS_EFULL;
    s->u.ord.o = *o;
    qts_strlcpy(s->u.ord.symbol, o->symbol ? o->symbol : "", sizeof s->u.ord.symbol);
    qts_strlcpy(s->u.ord.status, o->status ? o->status : "", sizeof s->u.ord.status);
    s->u.ord.o.symbol = NULL;
    s->u.ord.o.status = NULL;
    s->is_terminal = o->is_terminal;
    mark_dirty(w, s);
    return 0;
}

int qts_cache_writer_risk(struct qts_cache_writer *w, const struct qts_cache_risk *r)
{
    if (!r)
        return QTS_EINVAL;
    struct slot *s = find_or_add(w, K_RISK, "account", 7, 0);
    if (!s)
        return QTS_EFULL;
    s->u.risk.r = *r;
    s->u.risk.r.safety_state = NULL;
    s->u.risk.state[0] = '\0';
    if (r->safety_state)
        qts_strlcpy(s->u.risk.state, r->safety_state, sizeof s->u.risk.state);
    mark_dirty(w, s);
    return 0;
}

int qts_cache_writer_strategy(struct qts_cache_writer *w, const char *strategy_id,
                              const struct qts_cache_strategy *st)
{
    size_t n;
    if (id_len(strategy_id, &n) < 0 || !st || (st->n && (!st->names || !st->values)))
        return QTS_EINVAL;
    struct slot *s = find_or_add(w, K_STRAT, strategy_id, n, 0);
    if (!s)
        return QTS_EFULL;
    size_t k = QTS_MIN(st->n, (size_t)QTS_CACHE_STRAT_PARAMS);
    s->u.strat.is_active = st->is_active;
    s->u.strat.ts_ms = st->ts_ms;
    s->u.strat.n = (uint32_t)k;
    for (size_t i = 0; i < k; i++) {
        qts_strlcpy(s->u.strat.names[i], st->names[i] ? st->names[i] : "?",
                    sizeof s->u.strat.names[i]);
        s->u.strat.values[i] = st->values[i];
    }
    mark_dirty(w, s);
    return 0;
}

int qts_cache_writer_book(struct qts_cache_writer *w, const char *symbol,
                          const struct qts_level *bids, size_t n_bids, const struct qts_level *asks,
                          size_t n_asks, uint8_t px_exp, uint8_t qty_exp, int64_t ts_ms)
{
    size_t n;
    if (id_len(symbol, &n) < 0 || (n_bids && !bids) || (n_asks && !asks))
        return QTS_EINVAL;
    struct slot *s = find_or_add(w, K_BOOK, symbol, n, 0);
    if (!s)
        return QTS_EFULL;
    size_t nb = QTS_MIN(n_bids, (size_t)w->cfg.book_depth);
    size_t na = QTS_MIN(n_asks, (size_t)w->cfg.book_depth);
    if (nb)
        memcpy(s->u.book.bids, bids, nb * sizeof *bids);
    if (na)
        memcpy(s->u.book.asks, asks, na * sizeof *asks);
    s->u.book.nb = (uint8_t)nb;
    s->u.book.na = (uint8_t)na;
    s->u.book.px_exp = px_exp;
    s->u.book.qty_exp = qty_exp;
    s->u.book.ts_ms = ts_ms;
    mark_dirty(w, s);
    return 0;
}

/* ------------------------------------------------------------------ flush */

/* Fixed-point to decimal text without trailing zeros ("60000.01"). */
static size_t fmt_fixed(char *buf, size_t cap, int64_t v, unsigned exp)
{
    int n = qts_format_fixed(buf, cap, v, exp);
    if (n < 0)
        return 0;
    size_t l = QTS_MIN((size_t)n, cap - 1);
    if (memchr(buf, '.', l)) {
        while (l > 0 && buf[l - 1] == '0')
            l--;
        if (l > 0 && buf[l - 1] == '.')
            l--;
        buf[l] = '\0';
    }
    return l;
}

/* A small arena for the field texts of one write. */
struct fields {
    struct qts_str f[QTS_CACHE_STRAT_PARAMS + 8];
    struct qts_str v[QTS_CACHE_STRAT_PARAMS + 8];
    size_t n;
    char text[2048];
    size_t used;
};

static char *room(struct fields *fl, size_t *cap)
{
    *cap = sizeof fl->text - fl->used;
    return fl->text + fl->used;
}

static void add_text(struct fields *fl, const char *name, const char *s)
{
    size_t cap;
    char *p = room(fl, &cap);
    size_t l = qts_strlcpy(p, s, cap);
    l = QTS_MIN(l, cap - 1);
    fl->f[fl->n] = (struct qts_str){name, strlen(name)};
    fl->v[fl->n++] = (struct qts_str){p, l};
    fl->used += l + 1;
}

static void add_fixed(struct fields *fl, const char *name, int64_t v, unsigned exp)
{
    size_t cap;
    char *p = room(fl, &cap);
    size_t l = fmt_fixed(p, cap, v, exp);
    fl->f[fl->n] = (struct qts_str){name, strlen(name)};
    fl->v[fl->n++] = (struct qts_str){p, l};
    fl->used += l + 1;
}

static void add_double(struct fields *fl, const char *name, double v)
{
    size_t cap;
    char *p = room(fl, &cap);
    int l = snprintf(p, cap, "%.10g", v);
    l = QTS_MIN(l, (int)cap - 1);
    fl->f[fl->n] = (struct qts_str){name, strlen(name)};
    fl->v[fl->n++] = (struct qts_str){p, (size_t)l};
    fl->used += (size_t)l + 1;
}

static const char *side_name(int side)
{
    return side == QTS_SIDE_BUY ? "BUY" : side == QTS_SIDE_SELL ? "SELL" : "NONE";
}

static int write_book_side(struct qts_cache_writer *w, const char *key, size_t kn,
                           const struct qts_level *lv, size_t n, unsigned px_exp, unsigned qty_exp)
{
    double scores[QTS_CACHE_BOOK_MAX];
    struct qts_str members[QTS_CACHE_BOOK_MAX];
    char text[QTS_CACHE_BOOK_MAX][64];
    for (size_t i = 0; i < n; i++) {
        size_t l = fmt_fixed(text[i], sizeof text[i], lv[i].px, px_exp);
        scores[i] = qts_fixed_to_double(lv[i].px, px_exp);
        text[i][l++] = ':';
        l += fmt_fixed(text[i] + l, sizeof text[i] - l, lv[i].qty, qty_exp);
        members[i] = (struct qts_str){text[i], l};
    }
    return w->ops->zset_replace(w->self, (struct qts_str){key, kn}, scores, members, n,
                                w->cfg.ttl_book_ms);
}

/* Issue the plugin operations for one slot; returns 0 or the first error. */
static int send_slot(struct qts_cache_writer *w, struct slot *s, int *n_ops)
{
    char key[QTS_CACHE_ID_MAX + 32];
    struct fields fl;
    fl.n = 0;
    fl.used = 0;
    int kn = 0;
    int64_t ttl = 0;
    const struct qts_cache_ops *ops = w->ops;
    switch (s->kind) {
    case K_PRICE: {
        const struct qts_cache_price *p = &s->u.price;
        kn = snprintf(key, sizeof key, "price:%s", s->id);
        add_fixed(&fl, "bid", p->bid, p->px_exp);
        add_fixed(&fl, "ask", p->ask, p->px_exp);
        add_fixed(&fl, "last", p->last, p->px_exp);
        add_fixed(&fl, "volume", p->volume, p->qty_exp);
        add_fixed(&fl, "timestamp", p->ts_ms, 0);
        ttl = w->cfg.ttl_price_ms;
        break;
    }
    case K_POS: {
        const struct qts_cache_position *p = &s->u.pos;
        kn = snprintf(key, sizeof key, "pos:%s", s->id);
        if (p->qty == 0) {
            (*n_ops)++;
            s->is_deleted = true;
            return ops->del(w->self, (struct qts_str){key, (size_t)kn});
        }
        add_fixed(&fl, "qty", p->qty, p->qty_exp);
        add_fixed(&fl, "avg_price", p->avg_px, p->px_exp);
        add_fixed(&fl, "unrealized_pnl", p->unrealized_pnl, QTS_CASH_EXP);
        add_fixed(&fl, "exposure_value", p->exposure_value, QTS_CASH_EXP);
        add_double(&fl, "exposure_pct", p->exposure_pct);
        add_fixed(&fl, "updated_at", p->ts_ms, 0);
        ttl = w->cfg.ttl_pos_ms;
        break;
    }
    case K_ORD: {
        const struct qts_cache_order *o = &s->u.ord.o;
        kn = snprintf(key, sizeof key, "ord:%" PRIu64, s->num);
        add_text(&fl, "symbol", s->u.ord.symbol);
        add_text(&fl, "side", side_name(o->side));
        add_text(&fl, "status", s->u.ord.status);
        add_fixed(&fl, "qty", o->qty, o->qty_exp);
        add_fixed(&fl, "filled_qty", o->filled_qty, o->qty_exp);
        add_fixed(&fl, "pending_qty", o->pending_qty, o->qty_exp);
        add_fixed(&fl, "avg_fill_price", o->avg_fill_px, o->px_exp);
        add_fixed(&fl, "limit_price", o->limit_px, o->px_exp);
        add_fixed(&fl, "last_update", o->ts_ms, 0);
        ttl = w->cfg.ttl_ord_ms;
        break;
    }
    case K_RISK: {
        const struct qts_cache_risk *r = &s->u.risk.r;
        kn = snprintf(key, sizeof key, "risk:account");
        add_fixed(&fl, "exposure_used", r->exposure_used, QTS_CASH_EXP);
        add_fixed(&fl, "daily_pnl", r->daily_pnl, QTS_CASH_EXP);
        add_fixed(&fl, "trade_count", r->trade_count, 0);
        add_fixed(&fl, "remaining_limit", r->remaining_limit, QTS_CASH_EXP);
        add_double(&fl, "max_exposure_pct", r->max_exposure_pct);
        add_fixed(&fl, "daily_loss_limit", r->daily_loss_limit, QTS_CASH_EXP);
        if (s->u.risk.state[0])
            add_text(&fl, "safety_state", s->u.risk.state);
        add_fixed(&fl, "updated_at", r->ts_ms, 0);
        ttl = w->cfg.ttl_risk_ms;
        break;
    }
    case K_STRAT: {
        kn = snprintf(key, sizeof key, "strat:%s", s->id);
        add_text(&fl, "active", s->u.strat.is_active ? "1" : "0");
        for (uint32_t i = 0; i < s->u.strat.n; i++)
            add_double(&fl, s->u.strat.names[i], s->u.strat.values[i]);
        add_fixed(&fl, "updated_at", s->u.strat.ts_ms, 0);
        ttl = w->cfg.ttl_strat_ms;
        break;
    }
    case K_BOOK: {
        if (!ops->zset_replace)
            return QTS_EUNSUPPORTED;
        kn = snprintf(key, sizeof key, "book:%s:bid", s->id);
        int rc = write_book_side(w, key, (size_t)kn, s->u.book.bids, s->u.book.nb, s->u.book.px_exp,
                                 s->u.book.qty_exp);
        (*n_ops)++;
        kn = snprintf(key, sizeof key, "book:%s:ask", s->id);
        int rc2 = write_book_side(w, key, (size_t)kn, s->u.book.asks, s->u.book.na,
                                  s->u.book.px_exp, s->u.book.qty_exp);
        (*n_ops)++;
        return rc < 0 ? rc : rc2;
    }
    default: return 0;
    }
    if (!ops->hset)
        return QTS_EUNSUPPORTED;
    (*n_ops)++;
    return ops->hset(w->self, (struct qts_str){key, (size_t)kn}, fl.f, fl.v, fl.n, ttl);
}

static bool target_ready(struct qts_cache_writer *w, uint32_t *budget)
{
    if (!w->ops)
        return false;
    *budget = w->cfg.max_pending;
    if (w->ops->health) {
        struct qts_cache_health h;
        memset(&h, 0, sizeof h);
        h.struct_size = sizeof h;
        if (w->ops->health(w->self, &h) == 0) {
            if (h.state != QTS_CACHE_UP)
                return false;
            if (h.pending >= w->cfg.max_pending)
                return false;
            *budget = w->cfg.max_pending - h.pending;
        }
    }
    return true;
}

int qts_cache_writer_flush(struct qts_cache_writer *w)
{
    uint32_t budget;
    if (w->n_dirty == 0 || !target_ready(w, &budget))
        return 0;
    int64_t now = (int64_t)uv_now(w->loop);
    int issued = 0;
    uint32_t i = 0;
    /* send from the front; whatever does not fit stays for the next turn */
    for (; i < w->n_dirty && (uint32_t)issued < budget; i++) {
        struct slot *s = &w->slots[w->dirty[i]];
        s->is_dirty = false;
        int rc = send_slot(w, s, &issued);
        if (rc < 0) {
            w->st.errors++;
            s->sent_ms = 0; /* refresh picks it up again */
            if (!w->is_failing) {
                w->is_failing = true;
                QTS_WARN("cache write refused code=%s; further failures are counted, "
                         "not logged",
                         qts_err_name(rc));
            }
        } else {
            s->sent_ms = now ? now : 1;
            if (w->is_failing) {
                w->is_failing = false;
                QTS_INFO("cache writes resumed errors=%" PRIu64, w->st.errors);
            }
        }
        if (s->kind == K_ORD && s->is_terminal)
            remove_slot(w, s);
    }
    w->st.writes += (uint64_t)issued;
    if (i < w->n_dirty)
        memmove(w->dirty, w->dirty + i, (w->n_dirty - i) * sizeof *w->dirty);
    w->n_dirty -= i;
    return issued;
}

static int64_t ttl_of(const struct qts_cache_writer *w, uint8_t kind)
{
    switch (kind) {
    case K_POS: return w->cfg.ttl_pos_ms;
    case K_ORD: return w->cfg.ttl_ord_ms;
    case K_RISK: return w->cfg.ttl_risk_ms;
    case K_STRAT: return w->cfg.ttl_strat_ms;
    default: return 0; /* prices and books are not refreshed */
    }
}

void qts_cache_writer_refresh(struct qts_cache_writer *w)
{
    int64_t now = (int64_t)uv_now(w->loop);
    for (uint32_t i = 0; i < w->n_slots; i++) {
        struct slot *s = &w->slots[i];
        int64_t ttl = ttl_of(w, s->kind);
        if (ttl <= 0 || s->is_dirty || s->is_deleted || s->is_terminal)
            continue;
        if (s->sent_ms == 0 || now - s->sent_ms >= ttl / 2) {
            s->is_dirty = true;
            w->dirty[w->n_dirty++] = i;
            w->st.refreshes++;
        }
    }
}

static void on_check(uv_check_t *h) { qts_cache_writer_flush(h->data); }

static void on_refresh(uv_timer_t *t)
{
    struct qts_cache_writer *w = t->data;
    qts_cache_writer_refresh(w);
    qts_cache_writer_flush(w);
}

/* -------------------------------------------------------------- lifecycle */

int qts_cache_writer_new(uv_loop_t *loop, const struct qts_cache_ops *ops, void *self,
                         const struct qts_cache_writer_cfg *cfg, struct qts_cache_writer **out,
                         struct qts_err *err)
{
    if (!loop || !out)
        return qts_err_set(err, QTS_EINVAL, "cache writer: no loop");
    struct qts_cache_writer_cfg c;
    memset(&c, 0, sizeof c);
    if (cfg)
        c = *cfg;
    if (!c.max_keys)
        c.max_keys = 4096;
    if (!c.max_pending)
        c.max_pending = 4096;
    if (!c.refresh_ms)
        c.refresh_ms = 100;
    if (!c.book_depth)
        c.book_depth = 10;
    if (c.book_depth > QTS_CACHE_BOOK_MAX)
        return qts_err_set(err, QTS_ECONFIG, "cache writer: book_depth %u > %d", c.book_depth,
                           QTS_CACHE_BOOK_MAX);
    if (c.max_keys > (1u << 24))
        return qts_err_set(err, QTS_ECONFIG, "cache writer: max_keys %u too large", c.max_keys);
    if (!c.ttl_price_ms)
        c.ttl_price_ms = 100;
    if (!c.ttl_pos_ms)
        c.ttl_pos_ms = 1000;
    if (!c.ttl_ord_ms)
        c.ttl_ord_ms = 60000;
    if (!c.ttl_risk_ms)
        c.ttl_risk_ms = 5000;
    if (!c.ttl_strat_ms)
        c.ttl_strat_ms = 60000;
    if (!c.ttl_book_ms)
        c.ttl_book_ms = 50;
    if (c.ttl_price_ms < 0 || c.ttl_pos_ms < 0 || c.ttl_ord_ms < 0 || c.ttl_risk_ms < 0 ||
        c.ttl_strat_ms < 0 || c.ttl_book_ms < 0)
        return qts_err_set(err, QTS_ECONFIG, "cache writer: negative TTL");

    struct qts_cache_writer *w = qts_xcalloc(1, sizeof *w);
    w->loop = loop;
    w->ops = ops;
    w->self = self;
    w->cfg = c;
    w->n_slots = c.max_keys;
    w->slots = qts_xcalloc(c.max_keys, sizeof *w->slots);
    uint32_t isz = 16;
    while (isz < c.max_keys * 2)
        isz <<= 1;
    w->index = qts_xcalloc(isz, sizeof *w->index);
    w->index_mask = isz - 1;
    w->free_stack = qts_xmalloc(c.max_keys * sizeof *w->free_stack);
    for (uint32_t i = 0; i < c.max_keys; i++)
        w->free_stack[i] = c.max_keys - 1 - i;
    w->n_free = c.max_keys;
    w->dirty = qts_xmalloc(c.max_keys * sizeof *w->dirty);

    uv_check_init(loop, &w->check);
    w->check.data = w;
    uv_check_start(&w->check, on_check);
    uv_unref((uv_handle_t *)&w->check);
    uv_timer_init(loop, &w->refresh_timer);
    w->refresh_timer.data = w;
    uv_timer_start(&w->refresh_timer, on_refresh, c.refresh_ms, c.refresh_ms);
    uv_unref((uv_handle_t *)&w->refresh_timer);
    w->open_handles = 2;
    *out = w;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct qts_cache_writer *w = h->data;
    if (--w->open_handles > 0)
        return;
    free(w->slots);
    free(w->index);
    free(w->free_stack);
    free(w->dirty);
    free(w);
}

void qts_cache_writer_free(struct qts_cache_writer *w)
{
    if (!w)
        return;
    qts_cache_writer_flush(w);
    uv_close((uv_handle_t *)&w->check, on_closed);
    uv_close((uv_handle_t *)&w->refresh_timer, on_closed);
}

void qts_cache_writer_set_target(struct qts_cache_writer *w, const struct qts_cache_ops *ops,
                                 void *self)
{
    w->ops = ops;
    w->self = self;
    for (uint32_t i = 0; i < w->n_slots; i++) {
        struct slot *s = &w->slots[i];
        /* prices and books are only worth sending when they change */
        if (s->kind != K_FREE && s->kind != K_PRICE && s->kind != K_BOOK && !s->is_dirty &&
            !s->is_deleted) {
            s->is_dirty = true;
            w->dirty[w->n_dirty++] = i;
        }
    }
}

void qts_cache_writer_stats(const struct qts_cache_writer *w, struct qts_cache_writer_stats *out)
{
    *out = w->st;
    out->dirty = w->n_dirty;
}
