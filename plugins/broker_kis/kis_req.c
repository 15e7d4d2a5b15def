/* kis_req.c — broker_kis REST requests: the FIFO that waits for a token
 * and a rate-limiter slot, sending through the host's HTTP service, the
 * access token and WebSocket approval key, and the classification of every
 * reply (success dispatch, token refresh, rate-limit back-off, failures). */
#include "kis_plugin.h"

/* ---------------------------------------------------------------- requests */

static void on_http(void *arg, const struct qts_http_response *resp);
static void handle_ok(struct kis *k, struct kreq *r, json_t *body,
                      const struct qts_http_response *resp);
static void handle_fail(struct kis *k, struct kreq *r, int code, const char *msg_cd,
                        const char *msg);

void kis_kreq_free(struct kreq *r)
{
    if (!r)
        return;
    kis_kreq_free(r->parent);
    free(r->query);
    free(r->body);
    free(r);
}

struct kreq *kis_kreq_new(struct kis *k, enum kreq_kind kind)
{
    struct kreq *r = calloc(1, sizeof *r);
    if (r) {
        r->k = k;
        r->kind = kind;
    }
    return r;
}

static void enqueue_front(struct kis *k, struct kreq *r)
{
    r->next = k->q_head;
    k->q_head = r;
    if (!r->next)
        k->q_tail = &r->next;
}

void kis_enqueue(struct kis *k, struct kreq *r)
{
    r->next = NULL;
    *k->q_tail = r;
    k->q_tail = &r->next;
    kis_pump(k);
}

static void on_pump_timer(void *arg)
{
    struct kis *k = arg;
    k->pump_armed = false;
    kis_pump(k);
}

static void arm_pump(struct kis *k, int64_t wait_ns)
{
    if (k->pump_armed || k->stopping)
        return;
    uint64_t ms = (uint64_t)((wait_ns + NS_PER_MS - 1) / NS_PER_MS);
    if (k->host->timer_start(k->owner, ms ? ms : 1, 0, on_pump_timer, k, &k->pump_timer) == 0)
        k->pump_armed = true;
}

static void request_token(struct kis *k);

/* Sends one request now (token and rate slot already secured). */
static int send_req(struct kis *k, struct kreq *r)
{
    char url[4096];
    if (r->is_get) {
        int n = snprintf(url, sizeof url, "%s%s?%s", k->rest, r->path, r->query ? r->query : "");
        if (r->no_ctx) {
            /* quotations and the buyable amount are not paged */
        } else if (r->tr_cont[0]) {
            char *fk = kis_curl_escape_min(r->fk), *nk = kis_curl_escape_min(r->nk);
            n += snprintf(url + n, sizeof url - (size_t)n, "&CTX_AREA_FK100=%s&CTX_AREA_NK100=%s",
                          fk, nk);
            free(fk);
            free(nk);
        } else {
            n += snprintf(url + n, sizeof url - (size_t)n, "&CTX_AREA_FK100=&CTX_AREA_NK100=");
        }
        if (n >= (int)sizeof url)
            return QTS_ERANGE;
    } else {
        snprintf(url, sizeof url, "%s%s", k->rest, r->path);
    }
    struct qts_http_header h[10];
    size_t nh = 0;
    char auth[2100];
    h[nh++] = (struct qts_http_header){"content-type", "application/json; charset=utf-8"};
    bool tr_call = r->kind != KR_TOKEN && r->kind != KR_APPROVAL && r->kind != KR_HASH;
    if (r->kind == KR_HASH) {
        h[nh++] = (struct qts_http_header){"appkey", k->app_key};
        h[nh++] = (struct qts_http_header){"appsecret", k->app_secret};
    }
    if (tr_call && r->hash[0])
        h[nh++] = (struct qts_http_header){"hashkey", r->hash};
    if (tr_call) {
        snprintf(auth, sizeof auth, "Bearer %s", k->token);
        h[nh++] = (struct qts_http_header){"authorization", auth};
        h[nh++] = (struct qts_http_header){"appkey", k->app_key};
        h[nh++] = (struct qts_http_header){"appsecret", k->app_secret};
        h[nh++] = (struct qts_http_header){"tr_id", kis_tr_id(r->op, k->vts)};
        h[nh++] = (struct qts_http_header){"custtype", "P"};
        h[nh++] = (struct qts_http_header){"tr_cont", r->tr_cont};
    }
    struct qts_http_request q = {
        .struct_size = sizeof q,
        .method = r->is_get ? "GET" : "POST",
        .url = url,
        .headers = h,
        .n_headers = nh,
        .body = {r->body, r->body ? strlen(r->body) : 0},
        .timeout_ms = k->timeout_ms,
    };
    uint64_t id;
    int rc = k->host->http_request(k->owner, &q, on_http, r, &id);
    if (rc == 0)
        k->inflight++;
    return rc;
}

/* Token bucket: `rate_per_s` requests a second, burst of one, so no
 * one-second window ever holds more than the limit. */
static int64_t bucket_wait(struct kis *k)
{
    int64_t now = kis_mono_ns();
    double add = (double)(now - k->bucket_ns) / 1e9 * k->rate_per_s;
    k->bucket_ns = now;
    k->bucket = k->bucket + add > 1.0 ? 1.0 : k->bucket + add;
    if (now < k->hold_until_ns)
        return k->hold_until_ns - now;
    if (k->bucket >= 1.0)
        return 0;
    return (int64_t)((1.0 - k->bucket) / k->rate_per_s * 1e9) + 1;
}

void kis_pump(struct kis *k)
{
    while (k->q_head && !k->stopping) {
        struct kreq *r = k->q_head;
        bool tr_call = r->kind != KR_TOKEN && r->kind != KR_APPROVAL && r->kind != KR_HASH;
        if (k->hashkey && tr_call && !r->is_get && !r->hash[0] && r->body) {
            /* optional hashkey: ask for it first; the POST waits inside */
            struct kreq *h = kis_kreq_new(k, KR_HASH);
            if (h) {
                k->q_head = r->next;
                if (!k->q_head)
                    k->q_tail = &k->q_head;
                r->next = NULL;
                h->parent = r;
                h->body = kis_xstrdup(r->body);
                snprintf(h->path, sizeof h->path, "/uapi/hashkey");
                snprintf(h->clordid, sizeof h->clordid, "%s", r->clordid);
                enqueue_front(k, h);
                continue;
            }
        }
        if (tr_call && !kis_token_valid(k)) {
            request_token(k); /* puts the token request first, unless in flight */
            if (k->q_head != r)
                continue;
            return; /* the token reply pumps again */
        }
        int64_t wait = bucket_wait(k);
        if (wait > 0) {
            arm_pump(k, wait);
            return;
        }
        k->q_head = r->next;
        if (!k->q_head)
            k->q_tail = &k->q_head;
        k->bucket -= 1.0;
        int rc = send_req(k, r);
        if (rc != 0)
            handle_fail(k, r, rc, "", qts_strerror(rc));
    }
}

/* Parses the body whatever the status; classifies the reply. */
static void on_http(void *arg, const struct qts_http_response *resp)
{
    struct kreq *r = arg;
    struct kis *k = r->k;
    k->inflight--;
    if (resp->code == QTS_ECANCELED || k->stopping) {
        kis_kreq_free(r);
        return;
    }
    json_error_t je;
    json_t *body = resp->body.n ? json_loadb(resp->body.p, resp->body.n, 0, &je) : NULL;
    if (!body) {
        char msg[128];
        int code = resp->code ? resp->code : QTS_ENET;
        snprintf(msg, sizeof msg, "HTTP %d, no JSON body%s%s", resp->status,
                 resp->error ? ": " : "", resp->error ? resp->error : "");
        handle_fail(k, r, code, "", msg);
        return;
    }
    if (r->kind == KR_HASH && kis_jstr(body, "HASH")) {
        struct kreq *parent = r->parent;
        r->parent = NULL;
        snprintf(parent->hash, sizeof parent->hash, "%s", kis_jstr(body, "HASH"));
        json_decref(body);
        kis_kreq_free(r);
        enqueue_front(k, parent);
        kis_pump(k);
        return;
    }
    const char *rt = kis_jstr(body, "rt_cd");
    const char *err_code = kis_jstr(body, "error_code");
    bool ok = rt ? strcmp(rt, "0") == 0 : (!err_code && resp->status >= 200 && resp->status < 300);
    if (ok) {
        handle_ok(k, r, body, resp);
    } else {
        char code[32], msg[200];
        const char *mc = err_code ? err_code : kis_jstr(body, "msg_cd");
        snprintf(code, sizeof code, "%s", mc ? mc : "");
        const char *m = err_code ? kis_jstr(body, "error_description") : kis_jstr(body, "msg1");
        snprintf(msg, sizeof msg, "%s", m ? m : "");
        kis_trim_right(msg);
        handle_fail(k, r, code[0] ? kis_classify(code) : QTS_EREJECT, code, msg);
    }
    json_decref(body);
}

/* ------------------------------------------------------------------- token */

static void on_token_timer(void *arg)
{
    struct kis *k = arg;
    k->token_timer = 0;
    if (!kis_token_valid(k))
        request_token(k);
    kis_pump(k);
}

/* A new request (owned by the caller until queued) posting the app key and
 * secret, the secret under the name secret_key, to path. */
static struct kreq *credentials_req(struct kis *k, enum kreq_kind kind, const char *secret_key,
                                    const char *path)
{
    struct kreq *r = kis_kreq_new(k, kind);
    json_t *o = json_pack("{s:s,s:s,s:s}", "grant_type", "client_credentials", "appkey", k->app_key,
                          secret_key, k->app_secret);
    r->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    snprintf(r->path, sizeof r->path, "%s", path);
    return r;
}

/* Issues a token unless one is in flight; KIS allows one a minute. */
static void request_token(struct kis *k)
{
    if (k->token_inflight || k->stopping)
        return;
    int64_t now = kis_wall_ns();
    int64_t next = k->last_issue_ns + k->issue_interval_ns;
    if (k->last_issue_ns && now < next) {
        if (!k->token_timer)
            k->host->timer_start(k->owner, (uint64_t)((next - now) / NS_PER_MS) + 1, 0,
                                 on_token_timer, k, &k->token_timer);
        return;
    }
    struct kreq *r = credentials_req(k, KR_TOKEN, "appsecret", "/oauth2/tokenP");
    k->token_inflight = true;
    k->last_issue_ns = now;
    k->host->metric_add(k->owner, "token_issues", 1);
    enqueue_front(k, r);
}

/* "YYYY-MM-DD HH:MM:SS" in KST to UTC ns; 0 when malformed. */
static int64_t kst_stamp_ns(const char *s)
{
    int y, mo, d, h, mi, se;
    if (!s || sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &se) != 6)
        return 0;
    char ymd[16], hms[16];
    snprintf(ymd, sizeof ymd, "%04d%02d%02d", y, mo, d);
    snprintf(hms, sizeof hms, "%02d%02d%02d", h, mi, se);
    return kis_kst_to_utc_ns(ymd, hms, 0);
}

static void token_ok(struct kis *k, json_t *body)
{
    k->token_inflight = false;
    const char *tok = kis_jstr(body, "access_token");
    if (!tok || strlen(tok) >= sizeof k->token) {
        KLOG(k, QTS_LOG_ERROR, "broker_kis: token reply without a usable access_token");
        return;
    }
    snprintf(k->token, sizeof k->token, "%s", tok);
    int64_t exp = kst_stamp_ns(kis_jstr(body, "access_token_token_expired"));
    if (!exp) {
        json_t *e = json_object_get(body, "expires_in");
        int64_t secs = json_is_integer(e) ? (int64_t)json_integer_value(e) : 86400;
        exp = kis_wall_ns() + secs * NS_PER_S;
    }
    k->token_exp_ns = exp;
    kis_token_save(k);
    KLOG(k, QTS_LOG_INFO, "broker_kis: access token issued env=%s expires_in_s=%lld",
         k->vts ? "vts" : "real", (long long)((exp - kis_wall_ns()) / NS_PER_S));
    /* refresh ahead of expiry, inside the 6 h window where KIS repeats it */
    int64_t due = exp - k->refresh_ahead_ns - kis_wall_ns();
    if (k->token_timer)
        k->host->timer_stop(k->owner, k->token_timer);
    k->token_timer = 0;
    if (due > 0)
        k->host->timer_start(k->owner, (uint64_t)(due / NS_PER_MS) + 1, 0, on_token_timer, k,
                             &k->token_timer);
}

/* ---------------------------------------------------------------- WS glue */

static void approval_ok(struct kis *k, json_t *body)
{
    const char *a = kis_jstr(body, "approval_key");
    if (!a || strlen(a) >= sizeof k->approval) {
        KLOG(k, QTS_LOG_ERROR, "broker_kis: approval reply without approval_key");
        return;
    }
    snprintf(k->approval, sizeof k->approval, "%s", a);
    kis_ws_subscribe_all(k);
}

void kis_request_approval(struct kis *k)
{
    struct kreq *r = credentials_req(k, KR_APPROVAL, "secretkey", "/oauth2/Approval");
    kis_enqueue(k, r);
}

/* ----------------------------------------------------------- reply dispatch */

static void handle_ok(struct kis *k, struct kreq *r, json_t *body,
                      const struct qts_http_response *resp)
{
    size_t i;
    json_t *row;
    switch (r->kind) {
    case KR_HASH: /* a success without HASH (the good case returned earlier) */
        handle_fail(k, r, QTS_EPARSE, "", "hashkey reply without HASH");
        return;
    case KR_TOKEN: token_ok(k, body); break;
    case KR_APPROVAL: approval_ok(k, body); break;
    case KR_ORDER:
    case KR_CANCEL:
    case KR_MODIFY: kis_order_ok(k, r, body); break;
    case KR_VERIFY: kis_verify_ok(k, r, body); break;
    case KR_CATCHUP: kis_catchup_ok(k, r, body); break;
    case KR_PRICE: kis_price_ok(k, r, body); break;
    case KR_ASKING: kis_asking_ok(k, r, body); break;
    case KR_PSBL: kis_psbl_ok(k, r, body); break;
    case KR_OPEN: {
        bool daily = r->op == KIS_OP_DAILY_CCLD;
        json_t *rows = json_object_get(body, daily ? "output1" : "output");
        json_array_foreach(rows, i, row) kis_emit_status_row(k, row, daily);
        if (!kis_next_page(k, r, body, resp))
            k->host->emit_query_done(k->owner, r->req_id, 0);
        break;
    }
    case KR_POS: {
        json_t *rows = json_object_get(body, "output1");
        json_array_foreach(rows, i, row) kis_emit_position_row(k, row);
        if (!kis_next_page(k, r, body, resp))
            k->host->emit_query_done(k->owner, r->req_id, 0);
        break;
    }
    }
    kis_kreq_free(r);
    kis_pump(k);
}

static void on_approval_timer(void *arg)
{
    struct kis *k = arg;
    k->approval_timer = 0;
    if (!k->stopping)
        kis_request_approval(k);
}

static void handle_fail(struct kis *k, struct kreq *r, int code, const char *msg_cd,
                        const char *msg)
{
    KLOG(k, QTS_LOG_WARN,
         "broker_kis: request failed kind=%d req_id=%llu clordid=%s code=%s msg_cd=%s msg=%s",
         (int)r->kind, (unsigned long long)r->req_id, r->clordid, qts_err_name(code), msg_cd, msg);
    k->host->metric_add(k->owner, "request_errors", 1);
    if (r->kind == KR_TOKEN) {
        k->token_inflight = false;
        kis_kreq_free(r);
        if (code != QTS_ERATELIMIT && code != QTS_ENET && code != QTS_ETIMEDOUT) {
            /* refused for good (key, secret, permission): what waits for a
             * token fails now instead of hanging; the next request retries */
            KLOG(k, QTS_LOG_ERROR, "broker_kis: access token refused msg_cd=%s: %s", msg_cd, msg);
            struct kreq *q = k->q_head, *keep = NULL, **kt = &keep;
            k->q_head = NULL;
            k->q_tail = &k->q_head;
            while (q) {
                struct kreq *next = q->next;
                q->next = NULL;
                if (q->kind == KR_APPROVAL || q->kind == KR_TOKEN) {
                    *kt = q;
                    kt = &q->next;
                } else {
                    q->auth_retries = 1;
                    handle_fail(k, q, QTS_EAUTH, msg_cd, msg);
                }
                q = next;
            }
            for (struct kreq *q2 = keep; q2;) { /* back in front, in order */
                struct kreq *next = q2->next;
                q2->next = NULL;
                *k->q_tail = q2;
                k->q_tail = &q2->next;
                q2 = next;
            }
            return;
        }
        /* EGW00133 (issued less than a minute ago), network trouble: wait
         * out the interval (last_issue_ns is already set), then ask again */
        request_token(k);
        return;
    }
    if (r->kind == KR_HASH && r->parent) {
        struct kreq *parent = r->parent;
        r->parent = NULL;
        kis_kreq_free(r);
        parent->auth_retries = 1; /* the failure is the hashkey's, not the token's */
        handle_fail(k, parent, code, msg_cd, msg);
        return;
    }
    if (code == QTS_EAUTH && r->auth_retries == 0) {
        /* expired or invalid token: refresh once, then resend */
        r->auth_retries++;
        k->token[0] = '\0';
        k->token_exp_ns = 0;
        enqueue_front(k, r);
        kis_pump(k);
        return;
    }
    bool is_order = r->kind == KR_ORDER || r->kind == KR_CANCEL || r->kind == KR_MODIFY;
    if (code == QTS_ERATELIMIT) {
        int64_t back = NS_PER_S << (r->rl_retries < 5 ? r->rl_retries : 5);
        k->hold_until_ns = kis_mono_ns() + back;
        k->host->metric_add(k->owner, "rate_limited", 1);
        if (!is_order && r->rl_retries < 5) {
            r->rl_retries++;
            enqueue_front(k, r);
            kis_pump(k);
            return;
        }
        /* an order refused by the gateway's rate limit did not reach the
         * exchange: a reject the OMS may retry with a new order */
    }
    if (code == QTS_ENET && r->kind != KR_ORDER && !is_order && r->rl_retries < 3) {
        r->rl_retries++;
        k->hold_until_ns = kis_mono_ns() + (NS_PER_S << r->rl_retries);
        enqueue_front(k, r);
        kis_pump(k);
        return;
    }
    struct kord *o = r->clordid[0] ? kis_ord_by_clordid(k, r->clordid) : NULL;
    char text[128];
    snprintf(text, sizeof text, "%s%s%s", msg_cd, msg_cd[0] ? " " : "", msg);
    switch (r->kind) {
    case KR_ORDER:
        if (o && (code == QTS_ETIMEDOUT || (code == QTS_ENET && !msg_cd[0]))) {
            kis_start_verify(k, o); /* outcome unknown: never resend blindly */
        } else if (o) {
            o->done = true;
            kis_report(k, o, QTS_EXEC_REJECT, code, text);
        }
        break;
    case KR_CANCEL:
    case KR_MODIFY:
        if (o) {
            o->cancel_sent = false;
            kis_report(k, o, QTS_EXEC_CANCEL_REJECT, code, text);
        }
        break;
    case KR_OPEN:
    case KR_POS:
    case KR_PRICE:
    case KR_ASKING:
    case KR_PSBL:
        /* the KIS code and message are in the warning logged above */
        k->host->emit_query_done(k->owner, r->req_id, code);
        break;
    case KR_VERIFY:
        if (o && !o->acked) {
            o->done = true;
            kis_report(k, o, QTS_EXEC_REJECT, QTS_EUNKNOWN, text);
        }
        break;
    case KR_APPROVAL:
        /* no WebSocket without it: ask again later */
        if (!k->approval_timer)
            k->host->timer_start(k->owner, 30000, 0, on_approval_timer, k, &k->approval_timer);
        break;
    default: break;
    }
    kis_kreq_free(r);
    kis_pump(k);
}
