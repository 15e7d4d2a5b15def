/* kis_stream.c — broker_kis real-time side: runtime subscriptions, the
 * WebSocket session started once the approval key is in hand, execution
 * notices (decrypted with the session's AES key), trade and book frames. */
#include "kis_plugin.h"

static struct ksub *sub_find(struct kis *k, const char *tr, const char *key)
{
    for (size_t i = 0; i < k->n_subs; i++)
        if (strcmp(k->subs[i].tr_id, tr) == 0 && strcmp(k->subs[i].tr_key, key) == 0)
            return &k->subs[i];
    return NULL;
}

static void ws_send_sub(struct kis *k, const struct ksub *s, bool subscribe);

/* Runtime subscription: trades (H0STCNT0) and book (H0STASP0) of `symbol`,
 * kept in the list that every (re)connect subscribes again. */
int kis_subscribe(void *self, const char *symbol)
{
    struct kis *k = self;
    if (!k->ws_on)
        return QTS_EUNSUPPORTED;
    if (k->stopping)
        return QTS_ECLOSED;
    if (!kis_krx_symbol_ok(symbol))
        return QTS_EINVAL;
    static const char *const trs[2] = {"H0STCNT0", "H0STASP0"};
    size_t need = 0;
    for (int i = 0; i < 2; i++)
        need += sub_find(k, trs[i], symbol) == NULL;
    if (need == 0)
        return 0;
    if (k->n_subs + need > k->max_subs || k->n_subs + need > MAX_SUBS) {
        KLOG(k, QTS_LOG_WARN,
             "broker_kis: subscription limit reached symbol=%s subscriptions=%zu max=%u", symbol,
             k->n_subs, k->max_subs);
        return QTS_EFULL;
    }
    for (int i = 0; i < 2; i++) {
        if (sub_find(k, trs[i], symbol))
            continue;
        struct ksub *s = &k->subs[k->n_subs++];
        snprintf(s->tr_id, sizeof s->tr_id, "%s", trs[i]);
        snprintf(s->tr_key, sizeof s->tr_key, "%s", symbol);
        if (k->ws_up && k->approval[0])
            ws_send_sub(k, s, true); /* otherwise the next "opened" event sends it */
    }
    KLOG(k, QTS_LOG_INFO, "broker_kis: subscribed symbol=%s subscriptions=%zu", symbol, k->n_subs);
    return 0;
}

int kis_unsubscribe(void *self, const char *symbol)
{
    struct kis *k = self;
    if (!k->ws_on)
        return QTS_EUNSUPPORTED;
    if (!symbol)
        return QTS_EINVAL;
    size_t removed = 0;
    for (size_t i = 0; i < k->n_subs;) {
        struct ksub *s = &k->subs[i];
        bool md = strcmp(s->tr_id, "H0STCNT0") == 0 || strcmp(s->tr_id, "H0STASP0") == 0;
        if (!md || strcmp(s->tr_key, symbol) != 0) {
            i++;
            continue;
        }
        if (k->ws_up && k->approval[0] && !k->stopping)
            ws_send_sub(k, s, false);
        memmove(s, s + 1, (k->n_subs - i - 1) * sizeof *s);
        k->n_subs--;
        removed++;
    }
    if (!removed)
        return QTS_ENOENT;
    KLOG(k, QTS_LOG_INFO, "broker_kis: unsubscribed symbol=%s subscriptions=%zu", symbol,
         k->n_subs);
    return 0;
}

/* --------------------------------------------------------------- WebSocket */

const char *kis_notice_tr(const struct kis *k) { return k->vts ? "H0STCNI9" : "H0STCNI0"; }

static void ws_send_sub(struct kis *k, const struct ksub *s, bool subscribe)
{
    json_t *o =
        json_pack("{s:{s:s,s:s,s:s,s:s},s:{s:{s:s,s:s}}}", "header", "approval_key", k->approval,
                  "custtype", "P", "tr_type", subscribe ? "1" : "2", "content-type", "utf-8",
                  "body", "input", "tr_id", s->tr_id, "tr_key", s->tr_key);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (text && k->ws)
        kis_ws_send(k->ws, text);
    free(text);
}

static void ws_on_frame(void *arg, int event, const char *text);

static int ws_post(void *ctx, void (*fn)(void *), void *item)
{
    struct kis *k = ctx;
    return k->host->post(k->owner, fn, item);
}

/* Approval key in hand: start the session (first time) or resubscribe. */
void kis_ws_subscribe_all(struct kis *k)
{
    if (k->stopping || !k->approval[0])
        return;
    if (!k->ws) {
        struct kis_ws_opts o = {.url = k->ws_url,
                                .reconnect_min_ms = k->ws_min_ms,
                                .reconnect_max_ms = k->ws_max_ms,
                                .on_frame = ws_on_frame,
                                .arg = k,
                                .post = ws_post,
                                .post_ctx = k};
        int rc = kis_ws_start(&o, &k->ws);
        if (rc != 0)
            KLOG(k, QTS_LOG_ERROR, "broker_kis: cannot start the WebSocket session url=%s: %s",
                 k->ws_url, qts_strerror(rc));
        return; /* the "opened" event subscribes */
    }
    for (size_t i = 0; i < k->n_subs; i++)
        ws_send_sub(k, &k->subs[i], true);
}

void kis_report_fill(struct kis *k, struct kord *o, int64_t px_krw, int64_t qty, uint64_t id,
                     const char *hhmmss)
{
    struct qts_exec_report r;
    kis_report_init(&r, o, QTS_EXEC_FILL);
    r.last_px = px_krw * kis_pow10i(o->px_exp);
    r.last_qty = qty * kis_pow10i(o->qty_exp);
    r.fill_id = id;
    int64_t now = k->host->now_ns(k->owner);
    int64_t t = kis_kst_to_utc_ns(NULL, hhmmss, now);
    r.ts_venue_ns = t ? t : now;
    kis_persist(k, o);
    k->host->emit_exec_report(k->owner, &r);
}

static void on_notice(struct kis *k, char *plain)
{
    struct kis_notice n;
    if (kis_notice_parse(plain, &n) != 0) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: malformed execution notice");
        return;
    }
    k->n_notices++;
    struct kord *o = kis_ord_by_odno(k, n.odno);
    if ((!o || o->done) && n.oodno[0]) {
        /* a modify/cancel notice carries its own number first: the order
         * it acts on is the original one (when the number also names a
         * finished record, the cancel's reply has not released it yet) */
        struct kord *orig = kis_ord_by_odno(k, n.oodno);
        if (orig && (!o || !orig->done))
            o = orig;
    }
    if (!o) {
        KLOG(k, QTS_LOG_INFO, "broker_kis: notice for an order not placed by this run odno=%s",
             n.odno);
        return;
    }
    if (n.refused) {
        if (n.rctf_cls == '0' && !o->done) {
            o->done = true;
            kis_report(k, o, QTS_EXEC_REJECT, QTS_EREJECT, "refused by the exchange (RFUS_YN=1)");
        } else if (n.rctf_cls != '0') {
            o->cancel_sent = false;
            kis_report(k, o, QTS_EXEC_CANCEL_REJECT, QTS_EREJECT, "modify/cancel refused");
        }
        return;
    }
    if (n.is_fill) {
        char key[96];
        snprintf(key, sizeof key, "%s|%s|%lld|%lld", n.odno, n.hhmmss, (long long)n.qty,
                 (long long)n.px);
        uint64_t id = kis_fnv1a(key);
        for (uint32_t i = 0; i < o->n_fill_keys && i < FILL_KEYS; i++)
            if (o->fill_keys[i] == id)
                return; /* the same notice again */
        o->fill_keys[o->n_fill_keys++ % FILL_KEYS] = id;
        if (!o->acked) {
            o->acked = true;
            kis_report(k, o, QTS_EXEC_ACK, 0, NULL);
        }
        if (o->cum + n.qty > o->qty) {
            /* already booked by a catch-up inquiry: KIS does not replay
             * notices, but a late one must not fill twice */
            KLOG(k, QTS_LOG_INFO,
                 "broker_kis: fill notice beyond the order quantity ignored odno=%s", n.odno);
            return;
        }
        o->cum += n.qty;
        o->cum_amt += n.qty * n.px;
        if (o->cum >= o->qty)
            o->done = true;
        kis_report_fill(k, o, n.px, n.qty, id, n.hhmmss);
        return;
    }
    /* receipt notices */
    if (n.rctf_cls == '2' && (n.acpt_yn == '2' || n.acpt_yn == '3') && !o->done) {
        o->done = true;
        kis_report(k, o, QTS_EXEC_CANCELLED, 0, "cancel confirmed");
    } else if (n.rctf_cls == '0' && n.acpt_yn == '3' && !o->done) {
        o->done = true; /* IOC/FOK remainder cancelled by the exchange */
        kis_report(k, o, QTS_EXEC_CANCELLED, 0, "IOC/FOK remainder cancelled");
    } else if (n.rctf_cls == '1' && n.acpt_yn == '2' && !o->done) {
        kis_ord_release_odno(k, o, n.odno);
        snprintf(o->odno, sizeof o->odno, "%s", n.odno);
        kis_report(k, o, QTS_EXEC_REPLACED, 0, "modify confirmed");
    }
}

static const struct qts_instrument *md_inst(struct kis *k, const char *sym)
{
    const struct qts_instrument *in = k->host->instrument_find(k->owner, sym);
    if (!in)
        k->host->metric_add(k->owner, "md_unknown_symbol", 1);
    return in;
}

/* KIS stamps market data to the second (KST HHMMSS). When the receive time
 * falls inside that second (or just after it: transit), it is the better
 * estimate of the exchange time; otherwise the second itself is kept. */
static int64_t md_stamp(struct kis *k, const char *date, const char *hhmmss, int64_t recv)
{
    int64_t sec = kis_kst_to_utc_ns(date, hhmmss, recv);
    if (!sec)
        return recv;
    (void)k;
    return recv >= sec && recv - sec < 2 * NS_PER_S ? recv : sec;
}

void kis_md_hdr(struct kis *k, struct qts_ev_hdr *h, size_t size, uint16_t type,
                const struct qts_instrument *in)
{
    h->struct_size = (uint32_t)size;
    h->type = type;
    h->px_exp = in->px_exp;
    h->qty_exp = in->qty_exp;
    h->instrument = in->id;
    h->ts_recv_ns = k->host->now_ns(k->owner);
}

static void on_trades(struct kis *k, char **f, size_t nf, int count)
{
    size_t per = count > 1 ? nf / (size_t)count : nf;
    for (int c = 0; c < count && per >= 22; c++) {
        struct kis_trade t;
        if (kis_trade_parse(f + (size_t)c * per, per, &t) != 0)
            continue;
        const struct qts_instrument *in = md_inst(k, t.symbol);
        if (!in)
            continue;
        struct qts_trade ev;
        memset(&ev, 0, sizeof ev);
        kis_md_hdr(k, &ev.h, sizeof ev, QTS_EV_TRADE, in);
        ev.h.ts_exch_ns = md_stamp(k, t.date, t.hhmmss, ev.h.ts_recv_ns);
        ev.px = t.px * kis_pow10i(in->px_exp);
        ev.qty = t.qty * kis_pow10i(in->qty_exp);
        ev.trade_id = ++k->n_frames;
        ev.aggressor = t.aggressor;
        k->host->emit_trade(k->owner, &ev);
    }
}

void kis_emit_book(struct kis *k, const struct qts_instrument *in, const struct kis_book *b)
{
    struct qts_level bids[10], asks[10];
    uint32_t nb = 0, na = 0;
    int64_t ps = kis_pow10i(in->px_exp), qs = kis_pow10i(in->qty_exp);
    for (int i = 0; i < 10; i++) {
        if (b->bid_px[i] > 0)
            bids[nb++] = (struct qts_level){b->bid_px[i] * ps, b->bid_qty[i] * qs};
        if (b->ask_px[i] > 0)
            asks[na++] = (struct qts_level){b->ask_px[i] * ps, b->ask_qty[i] * qs};
    }
    struct qts_book_update u;
    memset(&u, 0, sizeof u);
    kis_md_hdr(k, &u.h, sizeof u, QTS_EV_BOOK, in);
    u.h.flags = QTS_BOOK_SNAPSHOT;
    u.h.ts_exch_ns = md_stamp(k, NULL, b->hhmmss, u.h.ts_recv_ns);
    u.n_bids = nb;
    u.n_asks = na;
    u.bids = bids;
    u.asks = asks;
    k->host->emit_book(k->owner, &u);
}

static void on_book(struct kis *k, char **f, size_t nf, int count)
{
    size_t per = count > 1 ? nf / (size_t)count : nf;
    for (int c = 0; c < count && per >= 43; c++) {
        struct kis_book b;
        if (kis_book_parse(f + (size_t)c * per, per, &b) != 0)
            continue;
        const struct qts_instrument *in = md_inst(k, b.symbol);
        if (in)
            kis_emit_book(k, in, &b);
    }
}

static void on_system_frame(struct kis *k, const char *text)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!o)
        return;
    json_t *hdr = json_object_get(o, "header"), *body = json_object_get(o, "body");
    const char *tr = kis_jstr(hdr, "tr_id");
    if (tr && strcmp(tr, "PINGPONG") == 0) {
        json_decref(o);
        return; /* answered on the socket thread */
    }
    const char *rt = kis_jstr(body, "rt_cd"), *cd = kis_jstr(body, "msg_cd"),
               *m = kis_jstr(body, "msg1");
    if (rt && strcmp(rt, "0") != 0) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: subscription error tr_id=%s msg_cd=%s msg=%s",
             tr ? tr : "?", cd ? cd : "", m ? m : "");
        k->host->metric_add(k->owner, "ws_sub_errors", 1);
    }
    json_t *out = json_object_get(body, "output");
    const char *key = kis_jstr(out, "key"), *iv = kis_jstr(out, "iv");
    if (tr && strcmp(tr, kis_notice_tr(k)) == 0 && key && iv && strlen(key) == 32 &&
        strlen(iv) == 16) {
        memcpy(k->aes_key, key, 33);
        memcpy(k->aes_iv, iv, 17);
    }
    json_decref(o);
}

/* KIS does not replay notices: after a reconnect, every working order is
 * looked up in today's inquiry (one request each, paced by the limiter). */
static void start_catchup(struct kis *k)
{
    for (size_t i = 0; i < k->n_ord; i++) {
        struct kord *o = k->ord[i];
        if (o->done || !o->acked || !o->odno[0])
            continue;
        struct kreq *r = kis_daily_req(k, KR_CATCHUP, o);
        if (!r)
            return;
        kis_enqueue(k, r);
    }
}

static void ws_on_frame(void *arg, int event, const char *text)
{
    struct kis *k = arg;
    if (k->stopping)
        return;
    if (event == 1) {
        k->ws_up = true;
        KLOG(k, QTS_LOG_INFO, "broker_kis: WebSocket connected url=%s subscriptions=%zu", k->ws_url,
             k->n_subs);
        for (size_t i = 0; i < k->n_subs; i++)
            ws_send_sub(k, &k->subs[i], true);
        /* notices missed while down (or while the host was not running,
         * for orders read from the state file) are not replayed */
        if ((k->n_reconnects > 0 || k->restored_working) && k->notices_on)
            start_catchup(k);
        k->restored_working = false;
        return;
    }
    if (event == 2) {
        k->ws_up = false;
        k->n_reconnects++;
        k->host->metric_add(k->owner, "ws_disconnects", 1);
        KLOG(k, QTS_LOG_WARN, "broker_kis: WebSocket closed; reconnecting");
        return;
    }
    if (text[0] == '{') {
        on_system_frame(k, text);
        return;
    }
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    if (!buf)
        return;
    memcpy(buf, text, len + 1);
    struct kis_frame fr;
    if (kis_frame_split(buf, &fr) != 0) {
        free(buf);
        return;
    }
    char *payload = fr.payload, *plain = NULL;
    if (fr.encrypted) {
        size_t cap = strlen(fr.payload) + 16;
        plain = malloc(cap);
        if (!plain || !k->aes_key[0] ||
            kis_aes_decrypt(k->aes_key, k->aes_iv, fr.payload, plain, cap) < 0) {
            KLOG(k, QTS_LOG_WARN, "broker_kis: cannot decrypt a %s frame", fr.tr_id);
            free(plain);
            free(buf);
            return;
        }
        payload = plain;
    }
    if (strcmp(fr.tr_id, "H0STCNI0") == 0 || strcmp(fr.tr_id, "H0STCNI9") == 0) {
        on_notice(k, payload);
    } else {
        char **f = malloc(sizeof *f * 4096);
        if (f) {
            size_t nf = kis_fields_split(payload, f, 4096);
            if (strcmp(fr.tr_id, "H0STCNT0") == 0)
                on_trades(k, f, nf, fr.count);
            else if (strcmp(fr.tr_id, "H0STASP0") == 0)
                on_book(k, f, nf, fr.count);
            free(f);
        }
    }
    free(plain);
    free(buf);
}
