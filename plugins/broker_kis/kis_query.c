/* kis_query.c — broker_kis inquiries: open orders and positions (with
 * continuation paging), the market snapshot (inquire-price, then the
 * asking-price book) and buying power (inquire-psbl-order). */
#include "kis_plugin.h"

/* -------------------------------------------------------- reply handling */

void kis_emit_status_row(struct kis *k, json_t *row, bool daily)
{
    const char *odno = kis_jstr(row, "odno");
    int64_t ord_qty = kis_jnum(row, "ord_qty"), ccld = kis_jnum(row, "tot_ccld_qty");
    int64_t left = daily ? kis_jnum(row, "rmn_qty") : kis_jnum(row, "psbl_qty");
    if (!odno || left <= 0)
        return;
    const char *sym = kis_jstr(row, "pdno");
    struct kord *o = kis_ord_by_odno(k, odno);
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = QTS_EXEC_STATUS;
    const char *sb = kis_jstr(row, "sll_buy_dvsn_cd");
    r.side = sb && strcmp(sb, "01") == 0 ? QTS_SIDE_SELL : QTS_SIDE_BUY;
    const struct qts_instrument *in = sym ? k->host->instrument_find(k->owner, sym) : NULL;
    unsigned qexp = in ? in->qty_exp : 0;
    if (in) {
        r.instrument = in->id;
        r.px_exp = in->px_exp;
        r.qty_exp = in->qty_exp;
    }
    if (o)
        snprintf(r.client_order_id, sizeof r.client_order_id, "%s", o->clordid);
    snprintf(r.venue_order_id, sizeof r.venue_order_id, "%s", odno);
    r.cum_qty = ccld * kis_pow10i(qexp);
    r.leaves_qty = left * kis_pow10i(qexp);
    (void)ord_qty;
    r.ts_venue_ns = k->host->now_ns(k->owner);
    k->host->emit_exec_report(k->owner, &r);
}

void kis_emit_position_row(struct kis *k, json_t *row)
{
    const char *sym = kis_jstr(row, "pdno");
    int64_t qty = kis_jnum(row, "hldg_qty");
    if (!sym || qty <= 0)
        return;
    const struct qts_instrument *in = k->host->instrument_find(k->owner, sym);
    struct qts_broker_position p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    snprintf(p.symbol, sizeof p.symbol, "%s", sym);
    unsigned qexp = in ? in->qty_exp : 0, pexp = in ? in->px_exp : 0;
    if (in)
        p.instrument = in->id;
    p.qty_exp = (uint8_t)qexp;
    p.px_exp = (uint8_t)pexp;
    p.qty = qty * kis_pow10i(qexp);
    /* pchs_avg_pric is a decimal string such as "71550.0000" */
    const char *avg = kis_jstr(row, "pchs_avg_pric");
    double a = avg ? strtod(avg, NULL) : 0;
    p.avg_px = (int64_t)(a * (double)kis_pow10i(pexp) + 0.5);
    k->host->emit_position(k->owner, &p);
}

/* Paged inquiry: next page when tr_cont says F or M and the cap allows. */
bool kis_next_page(struct kis *k, struct kreq *r, json_t *body,
                   const struct qts_http_response *resp)
{
    const char *tc = NULL;
    for (size_t i = 0; i < resp->n_headers; i++)
        if (strcasecmp(resp->headers[i].name, "tr_cont") == 0)
            tc = resp->headers[i].value;
    if (!tc || (tc[0] != 'F' && tc[0] != 'M') || r->pages + 1 >= (int)k->page_max)
        return false;
    const char *fk = kis_jstr(body, "ctx_area_fk100"), *nk = kis_jstr(body, "ctx_area_nk100");
    struct kreq *n = kis_kreq_new(k, r->kind);
    if (!n)
        return false;
    *n = *r;
    n->next = NULL;
    n->query = r->query ? kis_xstrdup(r->query) : NULL;
    n->body = NULL;
    n->pages = r->pages + 1;
    n->auth_retries = n->rl_retries = 0;
    snprintf(n->tr_cont, sizeof n->tr_cont, "N");
    /* passed back unchanged, padding included */
    snprintf(n->fk, sizeof n->fk, "%s", fk ? fk : "");
    snprintf(n->nk, sizeof n->nk, "%s", nk ? nk : "");
    kis_enqueue(k, n);
    return true;
}

/* ------------------------------------------------ market and account queries */

static int64_t price_to_krw(const struct qts_instrument *in, int64_t px)
{
    int64_t scale = kis_pow10i(in ? in->px_exp : 0);
    return (px + scale / 2) / scale;
}

bool kis_krx_symbol_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 6 || n > 12)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
    return true;
}

/* The asking-price reply's book: the spec puts it in output1, but the
 * split between output1 and output2 is not confirmed, so the object that
 * carries askp1 is used, whichever it is. */
static json_t *asking_block(json_t *body)
{
    static const char *const keys[] = {"output1", "output2", "output"};
    for (size_t i = 0; i < 3; i++) {
        json_t *o = json_object_get(body, keys[i]);
        if (json_is_object(o) && json_object_get(o, "askp1"))
            return o;
    }
    return NULL;
}

/* inquire-price: the last price as a trade (quantity 0: a reference price,
 * not a new print), then the order book. */
void kis_price_ok(struct kis *k, struct kreq *r, json_t *body)
{
    const struct qts_instrument *in = k->host->instrument_find(k->owner, r->symbol);
    if (!in) {
        k->host->emit_query_done(k->owner, r->req_id, QTS_ENOENT);
        return;
    }
    json_t *out = json_object_get(body, "output");
    int64_t last = kis_jnum(out, "stck_prpr");
    if (last > 0) {
        struct qts_trade ev;
        memset(&ev, 0, sizeof ev);
        kis_md_hdr(k, &ev.h, sizeof ev, QTS_EV_TRADE, in);
        ev.h.ts_exch_ns = ev.h.ts_recv_ns; /* the reply carries no time */
        ev.px = last * kis_pow10i(in->px_exp);
        ev.aggressor = QTS_SIDE_NONE;
        k->host->emit_trade(k->owner, &ev);
    }
    struct kreq *n = kis_kreq_new(k, KR_ASKING);
    if (!n) {
        k->host->emit_query_done(k->owner, r->req_id, QTS_ENOMEM);
        return;
    }
    n->op = KIS_OP_ASKING;
    n->is_get = true;
    n->no_ctx = true;
    n->req_id = r->req_id;
    snprintf(n->symbol, sizeof n->symbol, "%s", r->symbol);
    snprintf(n->path, sizeof n->path, "%s", kis_op_path(n->op));
    n->query = r->query ? kis_xstrdup(r->query) : NULL;
    kis_enqueue(k, n);
}

void kis_asking_ok(struct kis *k, struct kreq *r, json_t *body)
{
    const struct qts_instrument *in = k->host->instrument_find(k->owner, r->symbol);
    json_t *o = asking_block(body);
    if (!in || !o) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: asking-price reply without a book symbol=%s", r->symbol);
        k->host->emit_query_done(k->owner, r->req_id, in ? QTS_EPARSE : QTS_ENOENT);
        return;
    }
    /* the REST book in the WebSocket frame's form (levels 1..10 in KRW) */
    struct kis_book b;
    memset(&b, 0, sizeof b);
    for (int i = 0; i < 10; i++) {
        char key[24];
        snprintf(key, sizeof key, "askp%d", i + 1);
        b.ask_px[i] = kis_jnum(o, key);
        snprintf(key, sizeof key, "askp_rsqn%d", i + 1);
        b.ask_qty[i] = kis_jnum(o, key);
        snprintf(key, sizeof key, "bidp%d", i + 1);
        b.bid_px[i] = kis_jnum(o, key);
        snprintf(key, sizeof key, "bidp_rsqn%d", i + 1);
        b.bid_qty[i] = kis_jnum(o, key);
    }
    const char *hhmmss = kis_jstr(o, "aspr_acpt_hour");
    snprintf(b.hhmmss, sizeof b.hhmmss, "%s", hhmmss ? hhmmss : "");
    kis_emit_book(k, in, &b);
    k->host->emit_query_done(k->owner, r->req_id, 0);
}

static bool host_has_buying_power(const struct qts_host_api *h)
{
    return QTS_HAS(h, emit_buying_power);
}

void kis_psbl_ok(struct kis *k, struct kreq *r, json_t *body)
{
    json_t *out = json_object_get(body, "output");
    if (!json_is_object(out)) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: buyable-amount reply without output symbol=%s",
             r->symbol);
        k->host->emit_query_done(k->owner, r->req_id, QTS_EPARSE);
        return;
    }
    const struct qts_instrument *in = k->host->instrument_find(k->owner, r->symbol);
    struct qts_buying_power bp;
    memset(&bp, 0, sizeof bp);
    bp.struct_size = sizeof bp;
    snprintf(bp.symbol, sizeof bp.symbol, "%s", r->symbol);
    if (in) {
        bp.instrument = in->id;
        bp.px_exp = in->px_exp;
        bp.qty_exp = in->qty_exp;
    }
    bp.cash_exp = 0; /* KRW has no minor unit */
    bp.req_id = r->req_id;
    bp.px = r->px;
    bp.cash = kis_jnum(out, "ord_psbl_cash");
    /* nrcvb_*: without margin (a cash account); max_*: with the account's
     * margin rate (buying_power_margin) */
    bp.max_qty =
        kis_jnum(out, k->bp_margin ? "max_buy_qty" : "nrcvb_buy_qty") * kis_pow10i(bp.qty_exp);
    k->host->emit_buying_power(k->owner, &bp);
    k->host->emit_query_done(k->owner, r->req_id, 0);
}

int kis_query_open_orders(void *self, uint64_t req_id)
{
    struct kis *k = self;
    struct kreq *r = kis_kreq_new(k, KR_OPEN);
    if (!r)
        return QTS_ENOMEM;
    r->req_id = req_id;
    r->is_get = true;
    char q[400];
    if (k->vts) {
        /* the paper server has no inquire-psbl-rvsecncl: unfilled rows of
         * today's daily inquiry (rmn_qty > 0) instead */
        r->op = KIS_OP_DAILY_CCLD;
        r->query = kis_daily_query(k, "02", "");
    } else {
        r->op = KIS_OP_PSBL_RVSECNCL;
        snprintf(q, sizeof q, "CANO=%s&ACNT_PRDT_CD=%s&INQR_DVSN_1=0&INQR_DVSN_2=0", k->cano,
                 k->prdt);
        r->query = kis_xstrdup(q);
    }
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    kis_enqueue(k, r);
    return 0;
}

int kis_query_positions(void *self, uint64_t req_id)
{
    struct kis *k = self;
    struct kreq *r = kis_kreq_new(k, KR_POS);
    if (!r)
        return QTS_ENOMEM;
    r->req_id = req_id;
    r->is_get = true;
    r->op = KIS_OP_BALANCE;
    char q[400];
    snprintf(q, sizeof q,
             "CANO=%s&ACNT_PRDT_CD=%s&AFHR_FLPR_YN=N&OFL_YN=&INQR_DVSN=02&UNPR_DVSN=01"
             "&FUND_STTL_ICLD_YN=N&FNCG_AMT_AUTO_RDPT_YN=N&PRCS_DVSN=00",
             k->cano, k->prdt);
    r->query = kis_xstrdup(q);
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    kis_enqueue(k, r);
    return 0;
}

int kis_query_market(void *self, const char *symbol, uint64_t req_id)
{
    struct kis *k = self;
    if (k->stopping)
        return QTS_ECLOSED;
    if (!kis_krx_symbol_ok(symbol))
        return QTS_EINVAL;
    if (!k->host->instrument_find(k->owner, symbol))
        return QTS_ENOENT; /* the trade and book need an instrument id */
    struct kreq *r = kis_kreq_new(k, KR_PRICE);
    if (!r)
        return QTS_ENOMEM;
    r->op = KIS_OP_PRICE;
    r->is_get = true;
    r->no_ctx = true;
    r->req_id = req_id;
    snprintf(r->symbol, sizeof r->symbol, "%s", symbol);
    char q[128];
    snprintf(q, sizeof q, "FID_COND_MRKT_DIV_CODE=%s&FID_INPUT_ISCD=%s", k->mkt_div, symbol);
    r->query = kis_xstrdup(q);
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    kis_enqueue(k, r);
    return 0;
}

int kis_query_buying_power(void *self, const char *symbol, int64_t px, uint64_t req_id)
{
    struct kis *k = self;
    if (!host_has_buying_power(k->host))
        return QTS_EUNSUPPORTED;
    if (k->stopping)
        return QTS_ECLOSED;
    if (!kis_krx_symbol_ok(symbol) || px < 0)
        return QTS_EINVAL;
    const struct qts_instrument *in = k->host->instrument_find(k->owner, symbol);
    struct kreq *r = kis_kreq_new(k, KR_PSBL);
    if (!r)
        return QTS_ENOMEM;
    r->op = KIS_OP_PSBL_ORDER;
    r->is_get = true;
    r->no_ctx = true;
    r->req_id = req_id;
    r->px = px;
    snprintf(r->symbol, sizeof r->symbol, "%s", symbol);
    /* a price: limit (00) at that price; none: market (01), which KIS
     * prices at the day's upper limit */
    char ps[24] = "";
    if (px > 0)
        snprintf(ps, sizeof ps, "%lld", (long long)price_to_krw(in, px));
    char q[256];
    snprintf(q, sizeof q,
             "CANO=%s&ACNT_PRDT_CD=%s&PDNO=%s&ORD_UNPR=%s&ORD_DVSN=%s"
             "&CMA_EVLU_AMT_ICLD_YN=N&OVRS_ICLD_YN=N",
             k->cano, k->prdt, symbol, ps, px > 0 ? "00" : "01");
    r->query = kis_xstrdup(q);
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    kis_enqueue(k, r);
    return 0;
}
