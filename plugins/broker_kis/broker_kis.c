/* broker_kis.c — Korea Investment & Securities (KIS) broker plugin.
 *
 * REST (orders, inquiries, token) through the host's asynchronous HTTP
 * service; the WebSocket session (trades, order book, execution notices)
 * on a libwebsockets thread (kis_ws.c) whose frames come back through
 * host->post. Everything else runs on the core loop.
 *
 * Request path: every REST call is a `struct kreq` that waits in one FIFO
 * until (1) a valid access token exists and (2) the client-side token
 * bucket has a slot; it is then sent, and its reply classified from the
 * JSON body whatever the HTTP status (KIS sends rt_cd/msg_cd bodies with
 * HTTP 500 too). Expired-token replies refresh the token once and resend;
 * rate-limit replies back the whole queue off; orders are never resent
 * blindly (a lost order reply is checked against inquire-daily-ccld).
 *
 * The client order id -> order number map is kept in an append-only 0600
 * file (`state_file`) so cancels and reconciliation work after a restart.
 *
 * docs/brokers/kis.md is the user guide; plugins/broker_kis/README.md
 * lists the configuration keys. */
#include "kis_plugin.h"

/* -------------------------------------------------------------- lifecycle */

static int cfg_opt_str(struct kis *k, const char *key, char *out, size_t cap, struct qts_err *err)
{
    const char *v = NULL;
    int rc = k->host->cfg_str(k->owner, key, &v, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc != 0)
        return rc;
    if (strlen(v) >= cap)
        return qts_err_set(err, QTS_ECONFIG, "broker_kis: %s is too long", key);
    snprintf(out, cap, "%s", v);
    return 0;
}

static int cfg_opt_int(struct kis *k, const char *key, int64_t *out, int64_t min, int64_t max,
                       struct qts_err *err)
{
    int rc = k->host->cfg_int(k->owner, key, out, err);
    if (rc == QTS_ENOENT)
        return 0;
    if (rc != 0)
        return rc;
    if (*out < min || *out > max)
        return qts_err_set(err, QTS_ECONFIG, "broker_kis: %s must be in [%lld, %lld]", key,
                           (long long)min, (long long)max);
    return 0;
}

static int cfg_opt_bool(struct kis *k, const char *key, bool *out, struct qts_err *err)
{
    int rc = k->host->cfg_bool(k->owner, key, out, err);
    return rc == QTS_ENOENT ? 0 : rc;
}

static int secret(struct kis *k, const char *prefix, const char *name, char *buf, size_t cap,
                  struct qts_err *err)
{
    char full[96];
    snprintf(full, sizeof full, "%s_%s", prefix, name);
    int rc = k->host->secret_get(k->owner, full, buf, cap, err);
    if (rc != 0 && err && !err->msg[0])
        qts_err_set(err, rc, "broker_kis: secret %s missing", full);
    return rc;
}

static int add_sub(struct kis *k, const char *tr, const char *key, struct qts_err *err)
{
    if (k->n_subs >= k->max_subs || k->n_subs >= MAX_SUBS)
        return qts_err_set(err, QTS_ECONFIG,
                           "broker_kis: more than %u WebSocket subscriptions (KIS allows 41 "
                           "per app key)",
                           k->max_subs);
    struct ksub *s = &k->subs[k->n_subs++];
    snprintf(s->tr_id, sizeof s->tr_id, "%s", tr);
    snprintf(s->tr_key, sizeof s->tr_key, "%s", key);
    return 0;
}

static int add_sub_list(struct kis *k, const char *tr, const char *list, struct qts_err *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        int rc = add_sub(k, tr, t, err);
        if (rc)
            return rc;
    }
    return 0;
}

static void kis_destroy(void *self);

static int kis_init(const struct qts_host_api *host, void *owner, void **self, struct qts_err *err)
{
    if (!host || host->struct_size < offsetof(struct qts_host_api, http_cancel) ||
        !host->http_request || !host->post || !host->secret_get || !host->cfg_str)
        return qts_err_set(err, QTS_EABI, "broker_kis: host services missing");
    struct kis *k = calloc(1, sizeof *k);
    if (!k)
        return qts_err_set(err, QTS_ENOMEM, "broker_kis: out of memory");
    k->host = host;
    k->owner = owner;
    k->q_tail = &k->q_head;
    k->state_fd = -1;
    *self = k;
    int rc = 0;
    char env[16] = "", prefix[32] = "kis", account[32] = "", sessions[512] = "09:00-15:30";
    char trades[1024] = "", books[1024] = "", round[16] = "passive";
    int64_t ahead_s = 3600, issue_s = 61, timeout_ms = 5000, pages = 20, ws_min = 500,
            ws_max = 30000, max_subs = 41;
    double rate = 0;
    k->enforce_sessions = true;
    k->ws_on = true;
    k->notices_on = true;
    snprintf(k->dvsn_limit, sizeof k->dvsn_limit, "00");
    if ((rc = cfg_opt_str(k, "env", env, sizeof env, err)))
        goto fail;
    if (strcmp(env, "vts") != 0 && strcmp(env, "real") != 0) {
        rc = qts_err_set(err, QTS_ECONFIG,
                         "broker_kis: env must be \"vts\" (paper server) or \"real\"");
        goto fail;
    }
    k->vts = strcmp(env, "vts") == 0;
    snprintf(k->rest, sizeof k->rest, "%s",
             k->vts ? "https://openapivts.koreainvestment.com:29443"
                    : "https://openapi.koreainvestment.com:9443");
    snprintf(k->ws_url, sizeof k->ws_url, "%s",
             k->vts ? "ws://ops.koreainvestment.com:31000/tryitout"
                    : "ws://ops.koreainvestment.com:21000/tryitout");
    rate = k->vts ? 2.0 : 20.0;
    if ((rc = cfg_opt_str(k, "rest_url", k->rest, sizeof k->rest, err)) ||
        (rc = cfg_opt_str(k, "ws_url", k->ws_url, sizeof k->ws_url, err)) ||
        (rc = cfg_opt_str(k, "secret_prefix", prefix, sizeof prefix, err)) ||
        (rc = cfg_opt_str(k, "token_cache", k->token_path, sizeof k->token_path, err)) ||
        (rc = cfg_opt_str(k, "sessions", sessions, sizeof sessions, err)) ||
        (rc = cfg_opt_str(k, "trades", trades, sizeof trades, err)) ||
        (rc = cfg_opt_str(k, "books", books, sizeof books, err)) ||
        (rc = cfg_opt_str(k, "tick_round", round, sizeof round, err)) ||
        (rc = cfg_opt_str(k, "limit_ord_dvsn", k->dvsn_limit, sizeof k->dvsn_limit, err)) ||
        (rc = cfg_opt_int(k, "token_refresh_ahead_s", &ahead_s, 0, 20 * 3600, err)) ||
        (rc = cfg_opt_int(k, "token_min_interval_s", &issue_s, 0, 3600, err)) ||
        (rc = cfg_opt_int(k, "timeout_ms", &timeout_ms, 100, 120000, err)) ||
        (rc = cfg_opt_int(k, "max_pages", &pages, 1, 1000, err)) ||
        (rc = cfg_opt_int(k, "ws_reconnect_min_ms", &ws_min, 10, 600000, err)) ||
        (rc = cfg_opt_int(k, "ws_reconnect_max_ms", &ws_max, 10, 3600000, err)) ||
        (rc = cfg_opt_int(k, "max_subscriptions", &max_subs, 1, MAX_SUBS, err)) ||
        (rc = cfg_opt_bool(k, "enforce_sessions", &k->enforce_sessions, err)) ||
        (rc = cfg_opt_bool(k, "websocket", &k->ws_on, err)) ||
        (rc = cfg_opt_bool(k, "hashkey", &k->hashkey, err)) ||
        (rc = cfg_opt_bool(k, "notices", &k->notices_on, err)) ||
        (rc = cfg_opt_bool(k, "buying_power_margin", &k->bp_margin, err)))
        goto fail;
    snprintf(k->mkt_div, sizeof k->mkt_div, "J");
    if ((rc = cfg_opt_str(k, "market_div_code", k->mkt_div, sizeof k->mkt_div, err)))
        goto fail;
    if (!k->mkt_div[0]) {
        rc = qts_err_set(err, QTS_ECONFIG,
                         "broker_kis: market_div_code must be a market code (J, NX, UN)");
        goto fail;
    }
    /* state_file: absent = default path, "" = no order map on disk */
    bool state_set = false;
    {
        const char *v = NULL;
        rc = host->cfg_str(owner, "state_file", &v, err);
        if (rc == 0) {
            if (strlen(v) >= sizeof k->state_path) {
                rc = qts_err_set(err, QTS_ECONFIG, "broker_kis: state_file is too long");
                goto fail;
            }
            snprintf(k->state_path, sizeof k->state_path, "%s", v);
            state_set = true;
        } else if (rc != QTS_ENOENT) {
            goto fail;
        }
        rc = 0;
    }
    rc = host->cfg_double(owner, "rate_per_s", &rate, err);
    if (rc && rc != QTS_ENOENT)
        goto fail;
    rc = 0;
    if (rate <= 0 || rate > 1000) {
        rc = qts_err_set(err, QTS_ECONFIG, "broker_kis: rate_per_s must be in (0, 1000]");
        goto fail;
    }
    if (!kis_ord_dvsn_valid(k->dvsn_limit) || kis_ord_dvsn_priceless(k->dvsn_limit)) {
        rc = qts_err_set(err, QTS_ECONFIG,
                         "broker_kis: limit_ord_dvsn %s is not a priced ORD_DVSN code",
                         k->dvsn_limit);
        goto fail;
    }
    if (strcmp(round, "passive") == 0)
        k->tick_round = -2;
    else if (strcmp(round, "reject") == 0)
        k->tick_round = -1;
    else if (strcmp(round, "nearest") == 0)
        k->tick_round = KIS_ROUND_NEAREST;
    else {
        rc = qts_err_set(err, QTS_ECONFIG,
                         "broker_kis: tick_round must be passive, nearest or reject");
        goto fail;
    }
    char sbuf[512], *save = NULL;
    snprintf(sbuf, sizeof sbuf, "%s", sessions);
    for (char *t = strtok_r(sbuf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (k->n_sessions == MAX_SESSIONS ||
            kis_session_parse(t, &k->sessions[k->n_sessions]) != 0) {
            rc = qts_err_set(err, QTS_ECONFIG,
                             "broker_kis: sessions item \"%s\" is not HH:MM-HH:MM", t);
            goto fail;
        }
        k->n_sessions++;
    }
    k->refresh_ahead_ns = ahead_s * NS_PER_S;
    k->issue_interval_ns = issue_s * NS_PER_S;
    k->timeout_ms = (uint32_t)timeout_ms;
    k->page_max = (uint32_t)pages;
    k->ws_min_ms = (uint32_t)ws_min;
    k->ws_max_ms = (uint32_t)ws_max;
    k->max_subs = (uint32_t)max_subs;
    k->rate_per_s = rate;
    k->bucket = 1.0;
    k->bucket_ns = kis_mono_ns();
    /* secrets: environment (QTS_SECRET_KIS_APP_KEY, ...) or 0600 files */
    if ((rc = secret(k, prefix, "app_key", k->app_key, sizeof k->app_key, err)) ||
        (rc = secret(k, prefix, "app_secret", k->app_secret, sizeof k->app_secret, err)) ||
        (rc = secret(k, prefix, "account", account, sizeof account, err)))
        goto fail;
    char digits[16];
    size_t nd = 0;
    for (const char *p = account; *p && nd < sizeof digits - 1; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
        else if (*p != '-')
            nd = sizeof digits; /* not an account number */
    if (nd != 10) {
        rc = qts_err_set(err, QTS_ECONFIG, "broker_kis: secret %s_account must be 10 digits (8-2)",
                         prefix);
        goto fail;
    }
    memcpy(k->cano, digits, 8);
    memcpy(k->prdt, digits + 8, 2);
    if (k->ws_on && k->notices_on) {
        rc = secret(k, prefix, "hts_id", k->hts_id, sizeof k->hts_id, err);
        if (rc)
            goto fail;
        if ((rc = add_sub(k, kis_notice_tr(k), k->hts_id, err)))
            goto fail;
    }
    if (k->ws_on && ((rc = add_sub_list(k, "H0STCNT0", trades, err)) ||
                     (rc = add_sub_list(k, "H0STASP0", books, err))))
        goto fail;
    if (!k->token_path[0]) {
        const char *base = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (base && base[0])
            snprintf(k->token_path, sizeof k->token_path, "%s/qts-kis-token-%s.json", base, env);
        else if (home && home[0])
            snprintf(k->token_path, sizeof k->token_path, "%s/.cache/qts-kis-token-%s.json", home,
                     env);
    }
    if (!state_set) {
        const char *base = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        if (base && base[0])
            snprintf(k->state_path, sizeof k->state_path, "%s/qts-kis-orders-%s.jsonl", base, env);
        else if (home && home[0])
            snprintf(k->state_path, sizeof k->state_path, "%s/.local/state/qts-kis-orders-%s.jsonl",
                     home, env);
    }
    kis_state_fp(k);
    if (!k->ws_on)
        k->notices_on = false;
    return 0;
fail:
    kis_destroy(k);
    *self = NULL;
    return rc ? rc : QTS_ECONFIG;
}

static int kis_start(void *self, struct qts_err *err)
{
    struct kis *k = self;
    (void)err;
    kis_token_load(k);
    kis_state_open(k);
    KLOG(k, QTS_LOG_INFO, "broker_kis: start env=%s rest=%s ws=%s rate_per_s=%.2f cached_token=%s",
         k->vts ? "vts" : "real", k->rest, k->ws_on ? k->ws_url : "off", k->rate_per_s,
         kis_token_valid(k) ? "yes" : "no");
    k->started = true;
    if (k->ws_on)
        kis_request_approval(k);
    kis_pump(k);
    return 0;
}

/* Longest the stop waits for queued requests (the cancels of the host's
 * orderly stop) to go out and be answered. */
#define KIS_STOP_DRAIN_NS (3 * INT64_C(1000000000))

static int kis_stop(void *self)
{
    struct kis *k = self;
    /* Requests still queued go out first and their answers are read (the
     * host accepts reports until stop returns 0), within the rate limit,
     * for KIS_STOP_DRAIN_NS at most; then whatever is left is dropped and
     * named in the log. */
    if (!k->stopping && k->started) {
        int64_t now = kis_mono_ns();
        size_t queued = 0;
        for (const struct kreq *r = k->q_head; r; r = r->next)
            queued++;
        if (!k->drain_since_ns) {
            k->drain_since_ns = now;
            if (queued || k->inflight)
                KLOG(k, QTS_LOG_INFO,
                     "broker_kis: stopping: %zu requests queued, %u in flight: sending them first",
                     queued, k->inflight);
        }
        if ((queued || k->inflight) && now - k->drain_since_ns < KIS_STOP_DRAIN_NS) {
            kis_pump(k);
            return QTS_EAGAIN;
        }
        if (queued || k->inflight)
            KLOG(k, QTS_LOG_WARN,
                 "broker_kis: stopped with %zu requests unsent and %u unanswered after %lld ms",
                 queued, k->inflight, (long long)((now - k->drain_since_ns) / 1000000));
    }
    k->stopping = true;
    if (k->ws) {
        kis_ws_stop(k->ws);
        k->ws = NULL;
    }
    if (k->pump_armed)
        k->host->timer_stop(k->owner, k->pump_timer);
    k->pump_armed = false;
    kis_cancel_check_stop(k);
    if (k->token_timer)
        k->host->timer_stop(k->owner, k->token_timer);
    k->token_timer = 0;
    if (k->approval_timer)
        k->host->timer_stop(k->owner, k->approval_timer);
    k->approval_timer = 0;
    kis_state_close(k);
    return 0;
}

static void kis_destroy(void *self)
{
    struct kis *k = self;
    if (!k)
        return;
    if (k->ws)
        kis_ws_stop(k->ws);
    kis_state_close(k);
    while (k->q_head) {
        struct kreq *r = k->q_head;
        k->q_head = r->next;
        kis_kreq_free(r);
    }
    for (size_t i = 0; i < k->n_ord; i++)
        free(k->ord[i]);
    free(k->ord);
    /* secrets do not outlive the plugin in freed memory */
    explicit_bzero(k->app_secret, sizeof k->app_secret);
    explicit_bzero(k->token, sizeof k->token);
    free(k);
}

static const struct qts_broker_ops kis_ops = {.struct_size = sizeof(struct qts_broker_ops),
                                              .env = kis_env,
                                              .submit = kis_submit,
                                              .cancel = kis_cancel,
                                              .modify = kis_modify,
                                              .query_open_orders = kis_query_open_orders,
                                              .query_positions = kis_query_positions,
                                              .query_market = kis_query_market,
                                              .query_buying_power = kis_query_buying_power,
                                              .subscribe = kis_subscribe,
                                              .unsubscribe = kis_unsubscribe};

/* Every key kis_init reads; the host refuses any other key of the slot's
 * config: (and a value of the wrong type) before init runs. The defaults
 * and ranges are kis_init's own. */
static const struct qts_cfg_key kis_keys[] = {
    QTS_CFG_STR("env", NULL, "required: vts (paper server) or real"),
    QTS_CFG_STR("rest_url", NULL, "REST base URL (default the KIS host of the environment)"),
    QTS_CFG_STR("ws_url", NULL,
                "WebSocket URL, ws:// only as KIS serves it (default "
                "ws://ops.koreainvestment.com:31000/tryitout for vts, port 21000 for real)"),
    QTS_CFG_STR("secret_prefix", "kis",
                "secrets are <prefix>_app_key, <prefix>_app_secret, <prefix>_account "
                "(12345678-01), <prefix>_hts_id"),
    QTS_CFG_STR("token_cache", NULL,
                "access-token cache, written 0600, ignored unless owner-only (default "
                "$XDG_CACHE_HOME/qts-kis-token-<env>.json or ~/.cache/...)"),
    QTS_CFG_INT("token_refresh_ahead_s", "3600",
                "refresh this long before the token expires, seconds, 0..72000"),
    QTS_CFG_INT("token_min_interval_s", "61",
                "least time between two token issues, seconds, 0..3600 (KIS: one a minute)"),
    QTS_CFG_DEC("rate_per_s", NULL,
                "client-side token bucket, burst 1, in (0, 1000] (default 20 real, 2 vts)"),
    QTS_CFG_INT("timeout_ms", "5000", "whole-request timeout, 100..120000"),
    QTS_CFG_BOOL("hashkey", "false",
                 "ask /uapi/hashkey for each POST and send the hashkey header (KIS: optional)"),
    QTS_CFG_INT("max_pages", "20", "cap on tr_cont continuation pages per inquiry, 1..1000"),
    QTS_CFG_STR("limit_ord_dvsn", "00",
                "ORD_DVSN of limit orders with DAY/GTC time in force (a priced code: 00, 02, "
                "05..07, 11, 12, 22)"),
    QTS_CFG_LIST("sessions", "09:00-15:30", "KST trading sessions, HH:MM-HH:MM items"),
    QTS_CFG_BOOL("enforce_sessions", "true", "refuse orders outside sessions"),
    QTS_CFG_STR("tick_round", "passive",
                "off-grid limit prices: passive (buy down, sell up), nearest or reject"),
    QTS_CFG_BOOL("websocket", "true", "open the WebSocket session at all"),
    QTS_CFG_BOOL("notices", "true", "subscribe to execution notices (needs <prefix>_hts_id)"),
    QTS_CFG_INT("max_subscriptions", "41",
                "WebSocket subscriptions per app key (KIS allows 41), notices count too, 1..64"),
    QTS_CFG_LIST("trades", NULL, "symbols of H0STCNT0 trade subscriptions"),
    QTS_CFG_LIST("books", NULL, "symbols of H0STASP0 order book subscriptions"),
    QTS_CFG_INT("ws_reconnect_min_ms", "500", "first WebSocket reconnect back-off, 10..600000"),
    QTS_CFG_INT("ws_reconnect_max_ms", "30000",
                "longest (doubling) WebSocket reconnect back-off, 10..3600000"),
    QTS_CFG_STR("state_file", NULL,
                "client order id -> order number map (JSON lines, 0600, compacted on start "
                "and stop); \"\" = off (default $XDG_STATE_HOME/qts-kis-orders-<env>.jsonl "
                "or ~/.local/state/...)"),
    QTS_CFG_STR("market_div_code", "J",
                "FID_COND_MRKT_DIV_CODE of query_market (J KRX, NX NXT, UN combined)"),
    QTS_CFG_BOOL("buying_power_margin", "false",
                 "query_buying_power reports max_buy_qty (with margin) instead of "
                 "nrcvb_buy_qty"),
    QTS_CFG_END};

/* the WebSocket runs on its own thread and only posts back; lws and
 * OpenSSL keep process-wide state, so the library stays mapped */
QTS_PLUGIN_DEFINE("broker_kis", QTS_KIND_BROKER, "1.0.0", &kis_ops, kis_keys,
                  QTS_CAP_THREADS | QTS_CAP_RESIDENT, .init = kis_init, .start = kis_start,
                  .stop = kis_stop, .destroy = kis_destroy);
