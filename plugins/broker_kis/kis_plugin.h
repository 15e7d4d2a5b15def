/* kis_plugin.h — internal to broker_kis: the plugin state (struct kis), its
 * REST request queue entries (struct kreq) and order map entries (struct
 * kord), and the functions the plugin's files share. Not an ABI: only the
 * files of plugins/broker_kis include it.
 *
 *   broker_kis.c  configuration, lifecycle, descriptor and operations table
 *   kis_state.c   helpers, the order map, the order-number state file,
 *                 the token cache file
 *   kis_req.c     the request queue, rate limiter, HTTP replies, token and
 *                 approval key, reply dispatch and failure handling
 *   kis_query.c   open orders / positions inquiries and their paging,
 *                 market and buying-power queries
 *   kis_orders.c  submit, cancel, modify, order replies, reconciliation
 *                 after a lost reply or a WebSocket reconnect
 *   kis_stream.c  runtime subscriptions, the WebSocket session, execution
 *                 notices, trade and book frames
 *   kis_core.c    protocol functions without I/O (kis_core.h)
 *   kis_ws.c      the libwebsockets thread (kis_ws.h)
 *
 * Everything here runs on the core loop. Pointers to struct kis, kreq and
 * kord are borrowed unless a comment says otherwise: the plugin state owns
 * the order map and the queue. */
#ifndef KIS_PLUGIN_H
#define KIS_PLUGIN_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* explicit_bzero, strtok_r, clock_gettime */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "kis_core.h"
#include "kis_ws.h"
#include "qts/qts_plugin.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define MAX_SESSIONS 16
#define MAX_SUBS 64
#define FILL_KEYS 32

enum kreq_kind {
    KR_TOKEN = 1,
    KR_APPROVAL,
    KR_ORDER,
    KR_CANCEL,
    KR_MODIFY,
    KR_OPEN,
    KR_POS,
    KR_VERIFY,
    KR_CATCHUP, /* after a WebSocket reconnect: fills and cancels missed meanwhile */
    KR_HASH,    /* /uapi/hashkey for the `parent` POST (optional) */
    KR_PRICE,   /* query_market, step 1: inquire-price -> emit_trade */
    KR_ASKING,  /* query_market, step 2: inquire-asking-price-exp-ccn -> emit_book */
    KR_PSBL,    /* query_buying_power: inquire-psbl-order -> emit_buying_power */
};

struct kreq {
    struct kreq *next;
    struct kis *k;
    enum kreq_kind kind;
    enum kis_op op; /* for TR calls */
    bool is_get;
    char path[128];
    char *query;           /* owned, GET parameters without ctx_area */
    char *body;            /* owned JSON text (POST) */
    char tr_cont[2];       /* "" or "N" */
    char fk[128], nk[128]; /* paging keys returned by the previous page */
    char clordid[QTS_CLORDID_MAX];
    char symbol[16]; /* KR_PRICE, KR_ASKING, KR_PSBL */
    int64_t px;      /* KR_PSBL: the price asked about, host units */
    bool no_ctx;     /* not a paged TR: no CTX_AREA_* parameters */
    uint64_t req_id; /* reconciliation request */
    int pages;
    int auth_retries, rl_retries;
    char hash[80];       /* hashkey header of this POST, when used */
    struct kreq *parent; /* KR_HASH: the POST waiting for its hash (owned) */
};

struct kord {
    char clordid[QTS_CLORDID_MAX];
    char odno[16];      /* current order number (changes on modify) */
    char orig_odno[16]; /* first order number */
    char orgno[8];      /* KRX_FWDG_ORD_ORGNO */
    char symbol[QTS_SYMBOL_MAX];
    char dvsn[4];
    uint32_t instrument;
    uint8_t side, px_exp, qty_exp;
    bool acked, done, cancel_sent;
    bool cancel_wanted;    /* cancel asked before the order number came back */
    bool prev_run;         /* read from the state file at start */
    uint8_t cancel_checks; /* inquiries made for an unconfirmed cancel */
    int64_t cancel_ok_ns;  /* monotonic: the cancel's reply accepted it (0: none pending) */
    int64_t px_krw, qty, cum;
    int64_t cum_amt; /* KRW filled so far, for catch-up fill prices */
    int64_t submit_ns;
    uint64_t fill_keys[FILL_KEYS];
    uint32_t n_fill_keys;
};

struct ksub {
    char tr_id[12];
    char tr_key[64];
};

struct kis {
    const struct qts_host_api *host;
    void *owner;
    bool vts, stopping, started;

    /* configuration */
    char rest[256], ws_url[256];
    char app_key[128], app_secret[512], cano[16], prdt[4], hts_id[64];
    char token_path[512];
    int64_t refresh_ahead_ns;
    int64_t issue_interval_ns; /* KIS: one token issue a minute */
    double rate_per_s;
    uint32_t timeout_ms;
    bool hashkey, enforce_sessions, ws_on, notices_on;
    char dvsn_limit[4];
    int tick_round; /* -1 reject, else enum kis_round; -2 passive */
    struct kis_session sessions[MAX_SESSIONS];
    size_t n_sessions;
    uint32_t page_max;
    uint32_t ws_min_ms, ws_max_ms, max_subs;
    char mkt_div[4]; /* FID_COND_MRKT_DIV_CODE of the quotations */
    bool bp_margin;  /* buying power with margin (max_buy_*) */

    /* order-number map on disk (state_file): append-only JSON lines */
    char state_path[512];
    int state_fd;     /* -1 when closed or disabled */
    char acct_fp[17]; /* env + account fingerprint on each line */

    /* auth */
    char token[2048];
    int64_t token_exp_ns;  /* wall time */
    int64_t last_issue_ns; /* last tokenP call (1 per minute) */
    bool token_inflight;
    uint64_t token_timer;
    char approval[128];
    uint64_t approval_timer;

    /* limiter and queue */
    double bucket;
    int64_t bucket_ns;
    int64_t hold_until_ns; /* back-off after a rate-limit reply */
    struct kreq *q_head, **q_tail;
    uint64_t pump_timer;
    bool pump_armed;
    uint64_t cancel_timer; /* checks cancels whose confirmation notice is late */
    bool cancel_armed;
    uint32_t inflight;
    int64_t drain_since_ns; /* stop asked: queued requests still go out (kis_stop) */

    /* orders */
    struct kord **ord;
    size_t n_ord, cap_ord;

    /* WebSocket */
    struct kis_ws *ws;
    bool ws_up;            /* between the "opened" and "closed" events */
    bool restored_working; /* working orders came from the state file */
    struct ksub subs[MAX_SUBS];
    size_t n_subs;
    char aes_key[33], aes_iv[17];
    uint64_t n_frames, n_notices, n_reconnects;
};

#define KLOG(k, lvl, ...) (k)->host->log((k)->owner, (lvl), __VA_ARGS__)

/* ---- kis_state.c: helpers */
int64_t kis_wall_ns(void);
int64_t kis_mono_ns(void);
/* owned copy (free); NULL when out of memory */
char *kis_xstrdup(const char *s);
void kis_trim_right(char *s);
/* owned percent-encoded copy (free) */
char *kis_curl_escape_min(const char *s);
/* string member of o, borrowed from the JSON object; NULL when absent */
const char *kis_jstr(json_t *o, const char *key);
const char *kis_jstr2(json_t *o, const char *upper, const char *lower);
int64_t kis_jnum(json_t *o, const char *key);
uint64_t kis_fnv1a(const char *s);
void kis_kst_today(char out[16]);
int64_t kis_pow10i(unsigned e);

/* ---- kis_state.c: order map (entries owned by k->ord), state file, token cache */
/* borrowed from k's order map; NULL when unknown */
struct kord *kis_ord_by_clordid(struct kis *k, const char *id);
struct kord *kis_ord_by_odno(struct kis *k, const char *odno);
/* The broker just gave odno to `keep` (an order, modify or cancel number):
 * any other record holding it is stale (a number of an earlier run handed
 * out again) and loses it. keep and odno borrowed; keep may be NULL. */
void kis_ord_release_odno(struct kis *k, const struct kord *keep, const char *odno);
/* a zeroed entry appended to k's order map (k owns it); NULL when out of memory */
struct kord *kis_ord_new(struct kis *k);
void kis_ord_gc(struct kis *k);
void kis_state_fp(struct kis *k);
void kis_persist(struct kis *k, const struct kord *o);
void kis_state_open(struct kis *k);
void kis_state_close(struct kis *k);
/* *r zeroed and filled from o (borrowed): ids, side, exponents, cum and
 * leaves quantities; the caller adds the rest */
void kis_report_init(struct qts_exec_report *r, const struct kord *o, int type);
/* execution report for o to the host; text is copied */
void kis_report(struct kis *k, struct kord *o, int type, int code, const char *text);
void kis_token_save(struct kis *k);
void kis_token_load(struct kis *k);
bool kis_token_valid(const struct kis *k);

/* ---- kis_req.c: request queue */
void kis_kreq_free(struct kreq *r);
/* owned by the caller until kis_enqueue takes it; NULL when out of memory */
struct kreq *kis_kreq_new(struct kis *k, enum kreq_kind kind);
/* takes ownership of r */
void kis_enqueue(struct kis *k, struct kreq *r);
void kis_pump(struct kis *k);
void kis_request_approval(struct kis *k);

/* ---- kis_query.c: inquiries, paging, market and buying-power queries.
 * Reply handlers borrow r and body; the caller frees both. */
void kis_emit_status_row(struct kis *k, json_t *row, bool daily);
void kis_emit_position_row(struct kis *k, json_t *row);
bool kis_next_page(struct kis *k, struct kreq *r, json_t *body,
                   const struct qts_http_response *resp);
bool kis_krx_symbol_ok(const char *s);
void kis_price_ok(struct kis *k, struct kreq *r, json_t *body);
void kis_asking_ok(struct kis *k, struct kreq *r, json_t *body);
void kis_psbl_ok(struct kis *k, struct kreq *r, json_t *body);
int kis_query_open_orders(void *self, uint64_t req_id);
int kis_query_positions(void *self, uint64_t req_id);
int kis_query_market(void *self, const char *symbol, uint64_t req_id);
int kis_query_buying_power(void *self, const char *symbol, int64_t px, uint64_t req_id);

/* ---- kis_orders.c: orders and reconciliation */
void kis_order_ok(struct kis *k, struct kreq *r, json_t *body);
void kis_verify_ok(struct kis *k, struct kreq *r, json_t *body);
void kis_catchup_ok(struct kis *k, struct kreq *r, json_t *body);
/* Stops the check of unconfirmed cancels (plugin stop). */
void kis_cancel_check_stop(struct kis *k);
/* owned query text (free) of inquire-daily-ccld for today */
char *kis_daily_query(struct kis *k, const char *ccld_dvsn, const char *pdno);
/* inquire-daily-ccld of today for o's symbol, tagged with o's client id;
 * owned by the caller until kis_enqueue; NULL when out of memory */
struct kreq *kis_daily_req(struct kis *k, enum kreq_kind kind, const struct kord *o);
void kis_start_verify(struct kis *k, struct kord *o);
int kis_env(void *self);
int kis_submit(void *self, const struct qts_broker_order *bo);
int kis_cancel(void *self, const char *clordid, const char *venue_order_id);
int kis_modify(void *self, const struct qts_broker_modify *m);

/* ---- kis_stream.c: subscriptions and the WebSocket session */
int kis_subscribe(void *self, const char *symbol);
int kis_unsubscribe(void *self, const char *symbol);
const char *kis_notice_tr(const struct kis *k);
void kis_ws_subscribe_all(struct kis *k);
void kis_report_fill(struct kis *k, struct kord *o, int64_t px_krw, int64_t qty, uint64_t id,
                     const char *hhmmss);
/* The header of a market-data event of `in` (borrowed) received now; the
 * caller zeroed the event and sets the exchange time. */
void kis_md_hdr(struct kis *k, struct qts_ev_hdr *h, size_t size, uint16_t type,
                const struct qts_instrument *in);
/* One order-book snapshot of `in` to the host (b borrowed, prices KRW). */
void kis_emit_book(struct kis *k, const struct qts_instrument *in, const struct kis_book *b);

#endif /* KIS_PLUGIN_H */
