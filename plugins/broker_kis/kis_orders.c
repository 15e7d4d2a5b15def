/* kis_orders.c — broker_kis orders: submit, cancel and modify
 * (order-cash, order-rvsecncl), their replies, and reconciliation against
 * inquire-daily-ccld after a lost order reply or a WebSocket reconnect. */
#include "kis_plugin.h"

static int rvsecncl(struct kis *k, struct kord *o, bool cancel, int64_t px, int64_t qty);

/* A cancel that its reply accepted is finished by the confirmation notice.
 * Should the notice not come (lost on the WebSocket, or the session down),
 * the order's row in today's orders tells: looked up KIS_CANCEL_CHECK_MS
 * after the reply and again at that interval, KIS_CANCEL_CHECKS times at
 * most (then the OMS's own cancel timeout takes over). An orderly stop thus
 * ends with every cancel confirmed or reconciled. */
#define KIS_CANCEL_CHECK_MS 1000
#define KIS_CANCEL_CHECKS 3

static void arm_cancel_check(struct kis *k);

static void on_cancel_check(void *arg)
{
    struct kis *k = arg;
    k->cancel_armed = false;
    if (k->stopping)
        return;
    int64_t now = kis_mono_ns();
    bool pending = false;
    for (size_t i = 0; i < k->n_ord; i++) {
        struct kord *o = k->ord[i];
        if (o->cancel_ok_ns && (o->done || o->cancel_checks >= KIS_CANCEL_CHECKS))
            o->cancel_ok_ns = 0; /* confirmed, or left to the OMS's cancel timeout */
        if (!o->cancel_ok_ns)
            continue;
        pending = true;
        if (now - o->cancel_ok_ns < KIS_CANCEL_CHECK_MS * NS_PER_MS)
            continue;
        struct kreq *r = kis_daily_req(k, KR_CATCHUP, o);
        if (!r)
            continue;
        KLOG(k, QTS_LOG_WARN,
             "broker_kis: no confirmation notice for the cancel of odno=%s: checking today's "
             "orders (%u of %d)",
             o->odno, o->cancel_checks + 1u, KIS_CANCEL_CHECKS);
        o->cancel_checks++;
        o->cancel_ok_ns = now;
        kis_enqueue(k, r);
    }
    if (pending)
        arm_cancel_check(k);
}

static void arm_cancel_check(struct kis *k)
{
    if (k->cancel_armed || k->stopping)
        return;
    if (k->host->timer_start(k->owner, KIS_CANCEL_CHECK_MS, 0, on_cancel_check, k,
                             &k->cancel_timer) == 0)
        k->cancel_armed = true;
}

void kis_cancel_check_stop(struct kis *k)
{
    if (k->cancel_armed)
        k->host->timer_stop(k->owner, k->cancel_timer);
    k->cancel_armed = false;
}

void kis_order_ok(struct kis *k, struct kreq *r, json_t *body)
{
    struct kord *o = kis_ord_by_clordid(k, r->clordid);
    if (!o)
        return;
    json_t *out = json_object_get(body, "output");
    const char *odno = kis_jstr2(out, "ODNO", "odno");
    const char *org = kis_jstr2(out, "KRX_FWDG_ORD_ORGNO", "krx_fwdg_ord_orgno");
    if (r->kind == KR_ORDER) {
        if (!odno) {
            kis_report(k, o, QTS_EXEC_REJECT, QTS_EUNKNOWN, "order reply without ODNO");
            o->done = true;
            return;
        }
        kis_ord_release_odno(k, o, odno);
        snprintf(o->odno, sizeof o->odno, "%s", odno);
        snprintf(o->orig_odno, sizeof o->orig_odno, "%s", odno);
        snprintf(o->orgno, sizeof o->orgno, "%s", org ? org : "");
        if (!o->acked) {
            o->acked = true;
            kis_report(k, o, QTS_EXEC_ACK, 0, kis_jstr(body, "msg1"));
        }
        if (o->cancel_wanted && !o->done && !o->cancel_sent && rvsecncl(k, o, true, 0, 0) == 0)
            o->cancel_sent = true;
        return;
    }
    if (r->kind == KR_MODIFY) {
        if (odno) { /* the modify is a new order number; fills follow it */
            kis_ord_release_odno(k, o, odno);
            snprintf(o->odno, sizeof o->odno, "%s", odno);
        }
        if (org)
            snprintf(o->orgno, sizeof o->orgno, "%s", org);
        kis_persist(k, o);
        if (!k->notices_on)
            kis_report(k, o, QTS_EXEC_REPLACED, 0, "modify accepted");
        return;
    }
    /* cancel accepted: the confirmation notice finishes the order (it
     * carries the cancel's own number, which must not lead to a stale
     * record); without a notice stream the reply is all we get */
    kis_ord_release_odno(k, o, odno);
    if (!k->notices_on && !o->done) {
        o->done = true;
        kis_report(k, o, QTS_EXEC_CANCELLED, 0, "cancel accepted");
    } else if (!o->done) {
        o->cancel_ok_ns = kis_mono_ns();
        o->cancel_checks = 0;
        arm_cancel_check(k);
    }
}

typedef bool (*kis_row_match_fn)(struct kis *k, const struct kord *o, json_t *row,
                                 const char *odno);

/* The first row of today's orders in body (output1) with an order number that
 * match accepts for o; NULL when none. Borrowed from body. */
static json_t *order_row(struct kis *k, const struct kord *o, json_t *body, kis_row_match_fn match)
{
    json_t *rows = json_object_get(body, "output1");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *odno = kis_jstr(row, "odno");
        if (odno && match(k, o, row, odno))
            return row;
    }
    return NULL;
}

/* a row no order of ours owns yet, with o's side, quantity and price */
static bool lost_order_row(struct kis *k, const struct kord *o, json_t *row, const char *odno)
{
    const char *sb = kis_jstr(row, "sll_buy_dvsn_cd");
    uint8_t side = sb && strcmp(sb, "01") == 0 ? QTS_SIDE_SELL : QTS_SIDE_BUY;
    return !kis_ord_by_odno(k, odno) && side == o->side && kis_jnum(row, "ord_qty") == o->qty &&
           (!o->px_krw || kis_jnum(row, "ord_unpr") == o->px_krw);
}

/* the row of o itself */
static bool own_order_row(struct kis *k, const struct kord *o, json_t *row, const char *odno)
{
    (void)row;
    return kis_ord_by_odno(k, odno) == o;
}

/* A lost order reply: find the order in today's list before deciding. */
void kis_verify_ok(struct kis *k, struct kreq *r, json_t *body)
{
    struct kord *o = kis_ord_by_clordid(k, r->clordid);
    if (!o || o->acked)
        return;
    json_t *row = order_row(k, o, body, lost_order_row);
    if (!row) {
        o->done = true;
        kis_report(k, o, QTS_EXEC_REJECT, QTS_EUNKNOWN,
                   "order reply lost and not in today's orders");
        return;
    }
    const char *odno = kis_jstr(row, "odno");
    kis_ord_release_odno(k, o, odno);
    snprintf(o->odno, sizeof o->odno, "%s", odno);
    snprintf(o->orig_odno, sizeof o->orig_odno, "%s", odno);
    const char *org = kis_jstr(row, "ord_gno_brno");
    snprintf(o->orgno, sizeof o->orgno, "%s", org ? org : "");
    o->acked = true;
    kis_report(k, o, QTS_EXEC_ACK, 0, "order found by inquiry after a lost reply");
}

/* Today's row of one order after a reconnect, or after a cancel whose
 * confirmation notice did not come: book the fills and the cancel that the
 * notice stream lost. */
void kis_catchup_ok(struct kis *k, struct kreq *r, json_t *body)
{
    struct kord *o = kis_ord_by_clordid(k, r->clordid);
    if (!o || o->done)
        return;
    json_t *row = order_row(k, o, body, own_order_row);
    if (!row)
        return;
    int64_t filled = kis_jnum(row, "tot_ccld_qty"), amt = kis_jnum(row, "tot_ccld_amt");
    if (filled > o->cum && filled <= o->qty) {
        int64_t q = filled - o->cum;
        int64_t px = amt > o->cum_amt ? (amt - o->cum_amt + q / 2) / q : kis_jnum(row, "avg_prvs");
        char key[96];
        snprintf(key, sizeof key, "catchup|%s|%lld", o->odno, (long long)filled);
        o->cum = filled;
        o->cum_amt = amt > o->cum_amt ? amt : o->cum_amt + q * px;
        if (o->cum >= o->qty)
            o->done = true;
        KLOG(k, QTS_LOG_WARN, "broker_kis: fill found after a reconnect odno=%s qty=%lld", o->odno,
             (long long)q);
        kis_report_fill(k, o, px, q, kis_fnv1a(key), kis_jstr(row, "ord_tmd"));
    }
    const char *cncl = kis_jstr(row, "cncl_yn");
    if (!o->done && kis_jnum(row, "rmn_qty") == 0 &&
        ((cncl && strcmp(cncl, "Y") == 0) || kis_jnum(row, "cncl_cfrm_qty") > 0)) {
        o->done = true;
        kis_report(k, o, QTS_EXEC_CANCELLED, 0,
                   "cancel found in today's orders (no confirmation notice)");
    }
}

char *kis_daily_query(struct kis *k, const char *ccld_dvsn, const char *pdno)
{
    char today[16], q[600];
    kis_kst_today(today);
    snprintf(q, sizeof q,
             "CANO=%s&ACNT_PRDT_CD=%s&INQR_STRT_DT=%s&INQR_END_DT=%s&SLL_BUY_DVSN_CD=00"
             "&INQR_DVSN=00&PDNO=%s&CCLD_DVSN=%s&ORD_GNO_BRNO=&ODNO=&INQR_DVSN_3=00"
             "&INQR_DVSN_1=&EXCG_ID_DVSN_CD=KRX",
             k->cano, k->prdt, today, today, pdno ? pdno : "", ccld_dvsn);
    return kis_xstrdup(q);
}

struct kreq *kis_daily_req(struct kis *k, enum kreq_kind kind, const struct kord *o)
{
    struct kreq *r = kis_kreq_new(k, kind);
    if (!r)
        return NULL;
    r->op = KIS_OP_DAILY_CCLD;
    r->is_get = true;
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    snprintf(r->clordid, sizeof r->clordid, "%s", o->clordid);
    r->query = kis_daily_query(k, "00", o->symbol);
    return r;
}

void kis_start_verify(struct kis *k, struct kord *o)
{
    struct kreq *r = kis_daily_req(k, KR_VERIFY, o);
    if (!r)
        return;
    KLOG(k, QTS_LOG_WARN, "broker_kis: order reply lost clordid=%s: checking today's orders",
         o->clordid);
    kis_enqueue(k, r);
}

/* ---------------------------------------------------------------- broker ops */

int kis_env(void *self)
{
    struct kis *k = self;
    return k->vts ? QTS_BROKER_ENV_PAPER : QTS_BROKER_ENV_REAL;
}

/* Price in KRW on the tick grid, or a negative code. */
static int64_t order_price(struct kis *k, const struct qts_broker_order *bo)
{
    int64_t scale = kis_pow10i(bo->px_exp);
    if (bo->px <= 0)
        return QTS_EINVAL;
    int64_t krw = bo->px / scale;
    bool exact = bo->px % scale == 0;
    int64_t on_grid = kis_round_price(krw, KIS_ROUND_NEAREST);
    if (exact && on_grid == krw)
        return krw;
    if (k->tick_round == -1)
        return QTS_EREJECT;
    if (k->tick_round == -2) /* passive: never more aggressive than asked */
        return kis_round_price(bo->side == QTS_SIDE_BUY ? krw : krw + (exact ? 0 : 1),
                               bo->side == QTS_SIDE_BUY ? KIS_ROUND_DOWN : KIS_ROUND_UP);
    return kis_round_price((bo->px + scale / 2) / scale, (enum kis_round)k->tick_round);
}

int kis_submit(void *self, const struct qts_broker_order *bo)
{
    struct kis *k = self;
    if (!bo || bo->struct_size < offsetof(struct qts_broker_order, ts_sent_ns) ||
        !bo->client_order_id[0])
        return QTS_EINVAL;
    if (k->stopping)
        return QTS_ECLOSED;
    struct kord *prev = kis_ord_by_clordid(k, bo->client_order_id);
    if (prev && !prev->prev_run)
        return 0; /* a retry of an order we already sent: idempotent */
    size_t sl = strlen(bo->symbol);
    if (sl < 6 || sl > 12) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: symbol %s is not a KRX code", bo->symbol);
        return QTS_EREJECT;
    }
    if (k->enforce_sessions && !kis_session_open(k->sessions, k->n_sessions, kis_wall_ns())) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: order outside the trading sessions clordid=%s",
             bo->client_order_id);
        return QTS_EREJECT;
    }
    /* lots: whole shares, and the instrument's lot size if it has one */
    int64_t qscale = kis_pow10i(bo->qty_exp);
    const struct qts_instrument *in = k->host->instrument_find(k->owner, bo->symbol);
    if (bo->qty <= 0 || bo->qty % qscale != 0 ||
        (in && in->lot_size > 0 && bo->qty % in->lot_size != 0)) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: quantity is not a whole lot clordid=%s",
             bo->client_order_id);
        return QTS_EREJECT;
    }
    const char *dvsn = kis_ord_dvsn(bo->type, bo->tif, k->dvsn_limit);
    if (!dvsn)
        return QTS_EUNSUPPORTED;
    int64_t px = 0;
    if (!kis_ord_dvsn_priceless(dvsn)) {
        px = order_price(k, bo);
        if (px < 0) {
            KLOG(k, QTS_LOG_WARN, "broker_kis: price off the KRX tick grid clordid=%s",
                 bo->client_order_id);
            return QTS_EREJECT;
        }
    }
    if (prev) {
        /* the id belonged to an order of an earlier run (client ids that
         * restart with every run): the new order takes it, the old one is
         * known by its order number only from now on */
        KLOG(k, QTS_LOG_WARN,
             "broker_kis: client order id %s reused; the earlier run's order odno=%s keeps "
             "its order number only",
             bo->client_order_id, prev->odno);
        prev->clordid[0] = '\0';
    }
    struct kord *o = kis_ord_new(k);
    struct kreq *r = kis_kreq_new(k, KR_ORDER);
    if (!o || !r) {
        kis_kreq_free(r);
        return QTS_ENOMEM;
    }
    snprintf(o->clordid, sizeof o->clordid, "%s", bo->client_order_id);
    snprintf(o->symbol, sizeof o->symbol, "%s", bo->symbol);
    snprintf(o->dvsn, sizeof o->dvsn, "%s", dvsn);
    o->instrument = in ? in->id : bo->instrument;
    o->side = bo->side;
    o->px_exp = bo->px_exp;
    o->qty_exp = bo->qty_exp;
    o->px_krw = px;
    o->qty = bo->qty / qscale;
    o->submit_ns = kis_wall_ns();
    char qs[24], ps[24];
    snprintf(qs, sizeof qs, "%lld", (long long)o->qty);
    snprintf(ps, sizeof ps, "%lld", (long long)px);
    json_t *b =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "CANO", k->cano, "ACNT_PRDT_CD", k->prdt,
                  "PDNO", o->symbol, "ORD_DVSN", dvsn, "ORD_QTY", qs, "ORD_UNPR", ps,
                  "EXCG_ID_DVSN_CD", "KRX", "SLL_TYPE", bo->side == QTS_SIDE_SELL ? "01" : "");
    r->body = b ? json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(b);
    r->op = bo->side == QTS_SIDE_SELL ? KIS_OP_SELL : KIS_OP_BUY;
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    snprintf(r->clordid, sizeof r->clordid, "%s", o->clordid);
    kis_ord_gc(k);
    kis_enqueue(k, r);
    return 0;
}

static int rvsecncl(struct kis *k, struct kord *o, bool cancel, int64_t px, int64_t qty)
{
    if (!o->acked || !o->odno[0])
        return QTS_EAGAIN; /* no order number yet: the OMS asks again */
    struct kreq *r = kis_kreq_new(k, cancel ? KR_CANCEL : KR_MODIFY);
    if (!r)
        return QTS_ENOMEM;
    /* the whole remaining quantity goes as QTY_ALL_ORD_YN=Y, ORD_QTY 0 */
    bool all = cancel || qty >= o->qty - o->cum;
    char qs[24], ps[24];
    snprintf(qs, sizeof qs, "%lld", (long long)(all ? 0 : qty));
    snprintf(ps, sizeof ps, "%lld", (long long)(cancel ? 0 : px));
    json_t *b =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "CANO", k->cano, "ACNT_PRDT_CD",
                  k->prdt, "KRX_FWDG_ORD_ORGNO", o->orgno, "ORGN_ODNO", o->odno, "ORD_DVSN",
                  o->dvsn, "RVSE_CNCL_DVSN_CD", cancel ? "02" : "01", "ORD_QTY", qs, "ORD_UNPR", ps,
                  "QTY_ALL_ORD_YN", all ? "Y" : "N", "EXCG_ID_DVSN_CD", "KRX");
    r->body = b ? json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(b);
    r->op = KIS_OP_RVSECNCL;
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    snprintf(r->clordid, sizeof r->clordid, "%s", o->clordid);
    kis_enqueue(k, r);
    return 0;
}

int kis_cancel(void *self, const char *clordid, const char *venue_order_id)
{
    struct kis *k = self;
    struct kord *o = clordid && clordid[0] ? kis_ord_by_clordid(k, clordid) : NULL;
    if (!o)
        o = kis_ord_by_odno(k, venue_order_id);
    if (!o)
        return QTS_ENOENT;
    if (o->done)
        return 0;
    if (o->cancel_sent)
        return 0; /* one cancel in flight is enough */
    if (!o->acked) {
        o->cancel_wanted = true; /* sent as soon as the order number is known */
        return 0;
    }
    int rc = rvsecncl(k, o, true, 0, 0);
    if (rc == 0)
        o->cancel_sent = true;
    return rc;
}

int kis_modify(void *self, const struct qts_broker_modify *m)
{
    struct kis *k = self;
    if (!m || !m->client_order_id[0] || m->new_px <= 0 || m->new_qty <= 0)
        return QTS_EINVAL;
    struct kord *o = kis_ord_by_clordid(k, m->client_order_id);
    if (!o || o->done)
        return QTS_ENOENT;
    int64_t scale = kis_pow10i(o->px_exp);
    int64_t px =
        kis_round_price(m->new_px / scale, o->side == QTS_SIDE_BUY ? KIS_ROUND_DOWN : KIS_ROUND_UP);
    int64_t qty = m->new_qty / kis_pow10i(o->qty_exp) - o->cum;
    if (qty <= 0 || qty > o->qty - o->cum)
        return QTS_EUNSUPPORTED; /* KIS modifies price or part of the rest, never up */
    int rc = rvsecncl(k, o, false, px, qty);
    if (rc == 0)
        o->px_krw = px;
    return rc;
}
