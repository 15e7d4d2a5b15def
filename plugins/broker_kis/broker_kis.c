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
    KR_TOKEN = 1, KR_APPROVAL, KR_ORDER, KR_CANCEL, KR_MODIFY, KR_OPEN, KR_POS, KR_VERIFY,
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
    enum kis_op op;          /* for TR calls */
    bool is_get;
    char path[128];
    char *query;             /* owned, GET parameters without ctx_area */
    char *body;              /* owned JSON text (POST) */
    char tr_cont[2];         /* "" or "N" */
    char fk[128], nk[128];   /* paging keys returned by the previous page */
    char clordid[QTS_CLORDID_MAX];
    char symbol[16];         /* KR_PRICE, KR_ASKING, KR_PSBL */
    int64_t px;              /* KR_PSBL: the price asked about, host units */
    bool no_ctx;             /* not a paged TR: no CTX_AREA_* parameters */
    uint64_t req_id;         /* reconciliation request */
    int pages;
    int auth_retries, rl_retries;
    char hash[80];           /* hashkey header of this POST, when used */
    struct kreq *parent;     /* KR_HASH: the POST waiting for its hash (owned) */
};

struct kord {
    char clordid[QTS_CLORDID_MAX];
    char odno[16];           /* current order number (changes on modify) */
    char orig_odno[16];      /* first order number */
    char orgno[8];           /* KRX_FWDG_ORD_ORGNO */
    char symbol[QTS_SYMBOL_MAX];
    char dvsn[4];
    uint32_t instrument;
    uint8_t side, px_exp, qty_exp;
    bool acked, done, cancel_sent;
    bool cancel_wanted;      /* cancel asked before the order number came back */
    bool prev_run;           /* read from the state file at start */
    int64_t px_krw, qty, cum;
    int64_t cum_amt;         /* KRW filled so far, for catch-up fill prices */
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
    char mkt_div[4];          /* FID_COND_MRKT_DIV_CODE of the quotations */
    bool bp_margin;           /* buying power with margin (max_buy_*) */

    /* order-number map on disk (state_file): append-only JSON lines */
    char state_path[512];
    int state_fd;             /* -1 when closed or disabled */
    char acct_fp[17];         /* env + account fingerprint on each line */

    /* auth */
    char token[2048];
    int64_t token_exp_ns;     /* wall time */
    int64_t last_issue_ns;    /* last tokenP call (1 per minute) */
    bool token_inflight;
    uint64_t token_timer;
    char approval[128];
    uint64_t approval_timer;

    /* limiter and queue */
    double bucket;
    int64_t bucket_ns;
    int64_t hold_until_ns;    /* back-off after a rate-limit reply */
    struct kreq *q_head, **q_tail;
    uint64_t pump_timer;
    bool pump_armed;
    uint32_t inflight;

    /* orders */
    struct kord **ord;
    size_t n_ord, cap_ord;

    /* WebSocket */
    struct kis_ws *ws;
    bool ws_up;               /* between the "opened" and "closed" events */
    bool restored_working;    /* working orders came from the state file */
    struct ksub subs[MAX_SUBS];
    size_t n_subs;
    char aes_key[33], aes_iv[17];
    uint64_t n_frames, n_notices, n_reconnects;
};

/* ------------------------------------------------------------------ helpers */

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

#define KLOG(k, lvl, ...) (k)->host->log((k)->owner, (lvl), __VA_ARGS__)

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void trim_right(char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
}

/* Percent-encoding for query values (paging keys hold '^' and spaces). */
static char *curl_escape_min(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *w = out;
    if (!out)
        return xstrdup("");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            *w++ = (char)c;
        } else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w = '\0';
    return out;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* order-rvsecncl documents its output keys both upper and lower case */
static const char *jstr2(json_t *o, const char *upper, const char *lower)
{
    const char *v = jstr(o, upper);
    return v ? v : jstr(o, lower);
}

static int64_t jnum(json_t *o, const char *key)
{
    int64_t v = 0;
    const char *s = jstr(o, key);
    if (s && kis_atoi64(s, &v) == 0)
        return v;
    json_t *n = o ? json_object_get(o, key) : NULL;
    return json_is_integer(n) ? (int64_t)json_integer_value(n) : 0;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/* KST "YYYYMMDD" of now, for the daily inquiry */
static void kst_today(char out[16])
{
    time_t t = (time_t)(wall_ns() / NS_PER_S + 9 * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 16, "%04u%02u%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
}

static int64_t pow10i(unsigned e)
{
    return qts_pow10_i64[e <= QTS_MAX_EXP ? e : QTS_MAX_EXP];
}

/* -------------------------------------------------------------- orders map */

static struct kord *ord_by_clordid(struct kis *k, const char *id)
{
    if (!id || !id[0])
        return NULL;
    for (size_t i = 0; i < k->n_ord; i++)
        if (strcmp(k->ord[i]->clordid, id) == 0)
            return k->ord[i];
    return NULL;
}

static struct kord *ord_by_odno(struct kis *k, const char *odno)
{
    if (!odno || !odno[0])
        return NULL;
    int64_t want = 0;
    bool numeric = kis_atoi64(odno, &want) == 0;
    for (size_t i = 0; i < k->n_ord; i++) {
        struct kord *o = k->ord[i];
        if (strcmp(o->odno, odno) == 0 || strcmp(o->orig_odno, odno) == 0)
            return o;
        /* the notice pads order numbers differently from the REST reply */
        int64_t a = -1, b = -1;
        if (numeric && ((kis_atoi64(o->odno, &a) == 0 && a == want) ||
                        (kis_atoi64(o->orig_odno, &b) == 0 && b == want)))
            return o;
    }
    return NULL;
}

static struct kord *ord_new(struct kis *k)
{
    if (k->n_ord == k->cap_ord) {
        size_t cap = k->cap_ord ? k->cap_ord * 2 : 16;
        struct kord **p = realloc(k->ord, cap * sizeof *p);
        if (!p)
            return NULL;
        k->ord = p;
        k->cap_ord = cap;
    }
    struct kord *o = calloc(1, sizeof *o);
    if (o)
        k->ord[k->n_ord++] = o;
    return o;
}

/* Finished orders older than the newest 256 are forgotten. */
static void ord_gc(struct kis *k)
{
    if (k->n_ord < 512)
        return;
    size_t w = 0;
    for (size_t i = 0; i < k->n_ord; i++) {
        if (k->ord[i]->done && i + 256 < k->n_ord)
            free(k->ord[i]);
        else
            k->ord[w++] = k->ord[i];
    }
    k->n_ord = w;
}

/* -------------------------------------------------------------- state file
 *
 * The client order id -> KIS order number map (with the branch number and
 * order type a cancel or modify needs) survives a restart in `state_file`:
 * one JSON object per line, appended whenever an order's venue state
 * changes (accepted, modified, filled, finished), the last line of a client
 * id winning. On start and stop the file is rewritten with today's orders
 * only (KST; KIS cash orders are day orders). Owner-only (0600). A line that
 * does not parse is skipped with a warning, never fatal. */

static void state_fp(struct kis *k)
{
    unsigned char md[32];
    unsigned int n = 0;
    char in[64];
    snprintf(in, sizeof in, "%s|%s|%s", k->vts ? "vts" : "real", k->cano, k->prdt);
    EVP_Digest(in, strlen(in), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 8; i++)
        snprintf(k->acct_fp + 2 * i, 3, "%02x", md[i]);
}

/* One line (with '\n'), owned by the caller; NULL on allocation failure. */
static char *state_line(const struct kis *k, const struct kord *o)
{
    json_t *j = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:b,s:I}",
                          "v", 1, "a", k->acct_fp, "c", o->clordid, "o", o->odno, "oo",
                          o->orig_odno, "g", o->orgno, "s", o->symbol, "d", o->dvsn, "sd",
                          (int)o->side, "pe", (int)o->px_exp, "qe", (int)o->qty_exp, "q",
                          (json_int_t)o->qty, "p", (json_int_t)o->px_krw, "cum",
                          (json_int_t)o->cum, "amt", (json_int_t)o->cum_amt, "x", o->done, "t",
                          (json_int_t)o->submit_ns);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    return line;
}

/* Appends the order's current record (orders with an order number only). */
static void persist(struct kis *k, const struct kord *o)
{
    if (k->state_fd < 0 || !o->odno[0] || !o->clordid[0])
        return;
    char *line = state_line(k, o);
    if (!line)
        return;
    size_t n = strlen(line);
    /* O_APPEND: one write per line, so lines never interleave */
    if (write(k->state_fd, line, n) != (ssize_t)n) {
        KLOG(k, QTS_LOG_ERROR, "broker_kis: cannot append to the state file path=%s: %s",
             k->state_path, strerror(errno));
        k->host->metric_add(k->owner, "state_write_errors", 1);
    }
    free(line);
}

static bool kst_same_day(int64_t a_ns, int64_t b_ns)
{
    int64_t off = 9 * 3600 * NS_PER_S, day = 86400 * NS_PER_S;
    return (a_ns + off) / day == (b_ns + off) / day;
}

/* Parses one line into a new or existing order; 0, 1 (other account, or an
 * earlier day: dropped quietly) or QTS_EPARSE with `why`. */
static int state_apply(struct kis *k, const char *line, const char **why)
{
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        *why = "not a JSON object";
        return QTS_EPARSE;
    }
    int rc = QTS_EPARSE;
    const char *a = jstr(j, "a"), *c = jstr(j, "c"), *od = jstr(j, "o"), *oo = jstr(j, "oo"),
               *g = jstr(j, "g"), *sym = jstr(j, "s"), *d = jstr(j, "d");
    json_t *sd = json_object_get(j, "sd"), *q = json_object_get(j, "q"),
           *t = json_object_get(j, "t");
    int64_t side = json_is_integer(sd) ? (int64_t)json_integer_value(sd) : 0;
    int64_t qty = json_is_integer(q) ? (int64_t)json_integer_value(q) : 0;
    if (!a || !c || !c[0] || strlen(c) >= QTS_CLORDID_MAX || !od || !od[0] || strlen(od) >= 16 ||
        !sym || strlen(sym) >= QTS_SYMBOL_MAX || !g || strlen(g) >= 8 || !d || strlen(d) >= 4 ||
        (side != QTS_SIDE_BUY && side != QTS_SIDE_SELL) || qty <= 0 || !json_is_integer(t)) {
        *why = "missing or invalid fields";
        goto out;
    }
    if (strcmp(a, k->acct_fp) != 0 ||
        !kst_same_day((int64_t)json_integer_value(t), wall_ns())) {
        rc = 1;
        goto out;
    }
    struct kord *o = ord_by_clordid(k, c);
    if (!o && !(o = ord_new(k))) {
        *why = "out of memory";
        goto out;
    }
    snprintf(o->clordid, sizeof o->clordid, "%s", c);
    snprintf(o->odno, sizeof o->odno, "%s", od);
    snprintf(o->orig_odno, sizeof o->orig_odno, "%s", oo && oo[0] && strlen(oo) < 16 ? oo : od);
    snprintf(o->orgno, sizeof o->orgno, "%s", g);
    snprintf(o->symbol, sizeof o->symbol, "%s", sym);
    snprintf(o->dvsn, sizeof o->dvsn, "%s", d);
    o->side = (uint8_t)side;
    o->px_exp = (uint8_t)(jnum(j, "pe") <= QTS_MAX_EXP ? jnum(j, "pe") : 0);
    o->qty_exp = (uint8_t)(jnum(j, "qe") <= QTS_MAX_EXP ? jnum(j, "qe") : 0);
    o->qty = qty;
    o->px_krw = jnum(j, "p");
    o->cum = jnum(j, "cum");
    o->cum_amt = jnum(j, "amt");
    o->done = json_is_true(json_object_get(j, "x"));
    o->submit_ns = (int64_t)json_integer_value(t);
    o->acked = true;
    o->prev_run = true;
    rc = 0;
out:
    json_decref(j);
    return rc;
}

/* Rewrites the file with today's orders (0600, temporary file + rename). */
static int state_compact(struct kis *k)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", k->state_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && fchmod(fd, 0600) == 0;
    int64_t now = wall_ns();
    for (size_t i = 0; ok && i < k->n_ord; i++) {
        const struct kord *o = k->ord[i];
        if (!o->odno[0] || !o->clordid[0] || !kst_same_day(o->submit_ns, now))
            continue;
        char *line = state_line(k, o);
        size_t n = line ? strlen(line) : 0;
        ok = line && write(fd, line, n) == (ssize_t)n;
        free(line);
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, k->state_path) != 0)
        ok = false;
    if (!ok) {
        KLOG(k, QTS_LOG_ERROR, "broker_kis: cannot rewrite the state file path=%s: %s",
             k->state_path, strerror(errno));
        unlink(tmp);
        return QTS_EIO;
    }
    return 0;
}

/* Start: read the map back, compact, open for appending. Never fatal. */
static void state_open(struct kis *k)
{
    if (!k->state_path[0])
        return;
    /* the parent directories (0700), as for ~/.local/state on a new box */
    char dir[512];
    snprintf(dir, sizeof dir, "%s", k->state_path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1;; p++) {
            if (*p != '/' && *p != '\0')
                continue;
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                KLOG(k, QTS_LOG_WARN, "broker_kis: cannot create %s: %s", dir, strerror(errno));
                break;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(k->state_path, &st) == 0) {
        if (st.st_uid != getuid()) {
            KLOG(k, QTS_LOG_ERROR,
                 "broker_kis: state file not owned by this user, order map not kept path=%s",
                 k->state_path);
            return;
        }
        if ((st.st_mode & 077) != 0) {
            KLOG(k, QTS_LOG_WARN,
                 "broker_kis: state file was readable by others; set to 0600 path=%s",
                 k->state_path);
            if (chmod(k->state_path, 0600) != 0)
                return;
        }
        FILE *f = fopen(k->state_path, "re");
        if (f) {
            char *line = NULL;
            size_t cap = 0, lineno = 0, bad = 0;
            ssize_t n;
            while ((n = getline(&line, &cap, f)) >= 0) {
                lineno++;
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                    line[--n] = '\0';
                if (n == 0)
                    continue;
                const char *why = "";
                int rc = state_apply(k, line, &why);
                if (rc < 0) {
                    bad++;
                    KLOG(k, QTS_LOG_WARN,
                         "broker_kis: state file line %zu skipped (%s) path=%s", lineno, why,
                         k->state_path);
                }
            }
            free(line);
            fclose(f);
            size_t open_n = 0;
            for (size_t i = 0; i < k->n_ord; i++)
                open_n += !k->ord[i]->done;
            KLOG(k, QTS_LOG_INFO,
                 "broker_kis: order map restored path=%s orders=%zu working=%zu skipped_lines=%zu",
                 k->state_path, k->n_ord, open_n, bad);
            if (bad)
                k->host->metric_add(k->owner, "state_bad_lines", (int64_t)bad);
            k->restored_working = open_n > 0;
        }
        for (size_t i = 0; i < k->n_ord; i++) {
            struct kord *o = k->ord[i];
            const struct qts_instrument *in = k->host->instrument_find(k->owner, o->symbol);
            if (in)
                o->instrument = in->id;
        }
    }
    if (state_compact(k) != 0)
        return;
    k->state_fd = open(k->state_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (k->state_fd < 0)
        KLOG(k, QTS_LOG_ERROR, "broker_kis: cannot open the state file path=%s: %s",
             k->state_path, strerror(errno));
}

static void state_close(struct kis *k)
{
    if (k->state_fd < 0)
        return;
    close(k->state_fd);
    k->state_fd = -1;
    state_compact(k);
}

static void report(struct kis *k, struct kord *o, int type, int code, const char *text)
{
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = (uint8_t)type;
    r.side = o->side;
    r.instrument = o->instrument;
    r.px_exp = o->px_exp;
    r.qty_exp = o->qty_exp;
    snprintf(r.client_order_id, sizeof r.client_order_id, "%s", o->clordid);
    snprintf(r.venue_order_id, sizeof r.venue_order_id, "%s", o->odno);
    int64_t scale = pow10i(o->qty_exp);
    r.cum_qty = o->cum * scale;
    r.leaves_qty = o->done ? 0 : (o->qty - o->cum) * scale;
    r.ts_venue_ns = k->host->now_ns(k->owner);
    r.code = code;
    if (text)
        snprintf(r.text, sizeof r.text, "%s", text);
    persist(k, o); /* on disk before the OMS hears of it */
    k->host->emit_exec_report(k->owner, &r);
}

/* ------------------------------------------------------------- token cache */

static void key_fingerprint(const struct kis *k, char out[17])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(k->app_key, strlen(k->app_key), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The cached token is reused across restarts until it expires: every real
 * issue sends the account holder a notification and KIS allows one a
 * minute. Written 0600 via a temporary file and rename. */
static void token_save(struct kis *k)
{
    if (!k->token_path[0])
        return;
    char fp[17];
    key_fingerprint(k, fp);
    json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:s}", "env", k->vts ? "vts" : "real", "key", fp,
                          "expires_ns", (json_int_t)k->token_exp_ns, "issued_ns",
                          (json_int_t)k->last_issue_ns, "access_token", k->token);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return;
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", k->token_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && fchmod(fd, 0600) == 0;
    size_t n = strlen(text);
    ok = ok && write(fd, text, n) == (ssize_t)n;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, k->token_path) != 0)
        ok = false;
    if (!ok) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: cannot write token cache path=%s: %s",
             k->token_path, strerror(errno));
        unlink(tmp);
    }
    free(text);
}

static void token_load(struct kis *k)
{
    if (!k->token_path[0])
        return;
    struct stat st;
    if (stat(k->token_path, &st) != 0)
        return;
    if ((st.st_mode & 077) != 0 || st.st_uid != getuid()) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: token cache ignored (not owner-only 0600) path=%s",
             k->token_path);
        return;
    }
    json_error_t je;
    json_t *o = json_load_file(k->token_path, 0, &je);
    if (!o)
        return;
    char fp[17];
    key_fingerprint(k, fp);
    const char *env = jstr(o, "env"), *key = jstr(o, "key"), *tok = jstr(o, "access_token");
    json_t *exp = json_object_get(o, "expires_ns"), *iss = json_object_get(o, "issued_ns");
    if (env && key && tok && json_is_integer(exp) &&
        strcmp(env, k->vts ? "vts" : "real") == 0 && strcmp(key, fp) == 0 &&
        strlen(tok) < sizeof k->token) {
        snprintf(k->token, sizeof k->token, "%s", tok);
        k->token_exp_ns = (int64_t)json_integer_value(exp);
        if (json_is_integer(iss))
            k->last_issue_ns = (int64_t)json_integer_value(iss);
        if (k->token_exp_ns <= wall_ns())
            k->token[0] = '\0';
    }
    json_decref(o);
}

static bool token_valid(const struct kis *k)
{
    return k->token[0] && wall_ns() < k->token_exp_ns - k->refresh_ahead_ns;
}

/* ---------------------------------------------------------------- requests */

static void pump(struct kis *k);
static void on_http(void *arg, const struct qts_http_response *resp);
static void handle_ok(struct kis *k, struct kreq *r, json_t *body,
                      const struct qts_http_response *resp);
static void handle_fail(struct kis *k, struct kreq *r, int code, const char *msg_cd,
                        const char *msg);

static void kreq_free(struct kreq *r)
{
    if (!r)
        return;
    kreq_free(r->parent);
    free(r->query);
    free(r->body);
    free(r);
}

static struct kreq *kreq_new(struct kis *k, enum kreq_kind kind)
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

static void enqueue(struct kis *k, struct kreq *r)
{
    r->next = NULL;
    *k->q_tail = r;
    k->q_tail = &r->next;
    pump(k);
}

static void on_pump_timer(void *arg)
{
    struct kis *k = arg;
    k->pump_armed = false;
    pump(k);
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
            char *fk = curl_escape_min(r->fk), *nk = curl_escape_min(r->nk);
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
    int64_t now = mono_ns();
    double add = (double)(now - k->bucket_ns) / 1e9 * k->rate_per_s;
    k->bucket_ns = now;
    k->bucket = k->bucket + add > 1.0 ? 1.0 : k->bucket + add;
    if (now < k->hold_until_ns)
        return k->hold_until_ns - now;
    if (k->bucket >= 1.0)
        return 0;
    return (int64_t)((1.0 - k->bucket) / k->rate_per_s * 1e9) + 1;
}

static void pump(struct kis *k)
{
    while (k->q_head && !k->stopping) {
        struct kreq *r = k->q_head;
        bool tr_call = r->kind != KR_TOKEN && r->kind != KR_APPROVAL && r->kind != KR_HASH;
        if (k->hashkey && tr_call && !r->is_get && !r->hash[0] && r->body) {
            /* optional hashkey: ask for it first; the POST waits inside */
            struct kreq *h = kreq_new(k, KR_HASH);
            if (h) {
                k->q_head = r->next;
                if (!k->q_head)
                    k->q_tail = &k->q_head;
                r->next = NULL;
                h->parent = r;
                h->body = xstrdup(r->body);
                snprintf(h->path, sizeof h->path, "/uapi/hashkey");
                snprintf(h->clordid, sizeof h->clordid, "%s", r->clordid);
                enqueue_front(k, h);
                continue;
            }
        }
        if (tr_call && !token_valid(k)) {
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
        kreq_free(r);
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
    if (r->kind == KR_HASH && jstr(body, "HASH")) {
        struct kreq *parent = r->parent;
        r->parent = NULL;
        snprintf(parent->hash, sizeof parent->hash, "%s", jstr(body, "HASH"));
        json_decref(body);
        kreq_free(r);
        enqueue_front(k, parent);
        pump(k);
        return;
    }
    const char *rt = jstr(body, "rt_cd");
    const char *err_code = jstr(body, "error_code");
    bool ok = rt ? strcmp(rt, "0") == 0 : (!err_code && resp->status >= 200 && resp->status < 300);
    if (ok) {
        handle_ok(k, r, body, resp);
    } else {
        char code[32], msg[200];
        const char *mc = err_code ? err_code : jstr(body, "msg_cd");
        snprintf(code, sizeof code, "%s", mc ? mc : "");
        const char *m = err_code ? jstr(body, "error_description") : jstr(body, "msg1");
        snprintf(msg, sizeof msg, "%s", m ? m : "");
        trim_right(msg);
        handle_fail(k, r, code[0] ? kis_classify(code) : QTS_EREJECT, code, msg);
    }
    json_decref(body);
}

/* ------------------------------------------------------------------- token */

static void on_token_timer(void *arg)
{
    struct kis *k = arg;
    k->token_timer = 0;
    if (!token_valid(k))
        request_token(k);
    pump(k);
}

/* Issues a token unless one is in flight; KIS allows one a minute. */
static void request_token(struct kis *k)
{
    if (k->token_inflight || k->stopping)
        return;
    int64_t now = wall_ns();
    int64_t next = k->last_issue_ns + k->issue_interval_ns;
    if (k->last_issue_ns && now < next) {
        if (!k->token_timer)
            k->host->timer_start(k->owner, (uint64_t)((next - now) / NS_PER_MS) + 1, 0,
                                 on_token_timer, k, &k->token_timer);
        return;
    }
    struct kreq *r = kreq_new(k, KR_TOKEN);
    json_t *o = json_pack("{s:s,s:s,s:s}", "grant_type", "client_credentials", "appkey",
                          k->app_key, "appsecret", k->app_secret);
    r->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    snprintf(r->path, sizeof r->path, "/oauth2/tokenP");
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
    const char *tok = jstr(body, "access_token");
    if (!tok || strlen(tok) >= sizeof k->token) {
        KLOG(k, QTS_LOG_ERROR, "broker_kis: token reply without a usable access_token");
        return;
    }
    snprintf(k->token, sizeof k->token, "%s", tok);
    int64_t exp = kst_stamp_ns(jstr(body, "access_token_token_expired"));
    if (!exp) {
        json_t *e = json_object_get(body, "expires_in");
        int64_t secs = json_is_integer(e) ? (int64_t)json_integer_value(e) : 86400;
        exp = wall_ns() + secs * NS_PER_S;
    }
    k->token_exp_ns = exp;
    token_save(k);
    KLOG(k, QTS_LOG_INFO, "broker_kis: access token issued env=%s expires_in_s=%lld",
         k->vts ? "vts" : "real", (long long)((exp - wall_ns()) / NS_PER_S));
    /* refresh ahead of expiry, inside the 6 h window where KIS repeats it */
    int64_t due = exp - k->refresh_ahead_ns - wall_ns();
    if (k->token_timer)
        k->host->timer_stop(k->owner, k->token_timer);
    k->token_timer = 0;
    if (due > 0)
        k->host->timer_start(k->owner, (uint64_t)(due / NS_PER_MS) + 1, 0, on_token_timer, k,
                             &k->token_timer);
}

/* ---------------------------------------------------------------- WS glue */

static void ws_subscribe_all(struct kis *k);

static void approval_ok(struct kis *k, json_t *body)
{
    const char *a = jstr(body, "approval_key");
    if (!a || strlen(a) >= sizeof k->approval) {
        KLOG(k, QTS_LOG_ERROR, "broker_kis: approval reply without approval_key");
        return;
    }
    snprintf(k->approval, sizeof k->approval, "%s", a);
    ws_subscribe_all(k);
}

static void request_approval(struct kis *k)
{
    struct kreq *r = kreq_new(k, KR_APPROVAL);
    json_t *o = json_pack("{s:s,s:s,s:s}", "grant_type", "client_credentials", "appkey",
                          k->app_key, "secretkey", k->app_secret);
    r->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    snprintf(r->path, sizeof r->path, "/oauth2/Approval");
    enqueue(k, r);
}

/* -------------------------------------------------------- reply handling */

static void emit_status_row(struct kis *k, json_t *row, bool daily)
{
    const char *odno = jstr(row, "odno");
    int64_t ord_qty = jnum(row, "ord_qty"), ccld = jnum(row, "tot_ccld_qty");
    int64_t left = daily ? jnum(row, "rmn_qty") : jnum(row, "psbl_qty");
    if (!odno || left <= 0)
        return;
    const char *sym = jstr(row, "pdno");
    struct kord *o = ord_by_odno(k, odno);
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = QTS_EXEC_STATUS;
    const char *sb = jstr(row, "sll_buy_dvsn_cd");
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
    r.cum_qty = ccld * pow10i(qexp);
    r.leaves_qty = left * pow10i(qexp);
    (void)ord_qty;
    r.ts_venue_ns = k->host->now_ns(k->owner);
    k->host->emit_exec_report(k->owner, &r);
}

static void emit_position_row(struct kis *k, json_t *row)
{
    const char *sym = jstr(row, "pdno");
    int64_t qty = jnum(row, "hldg_qty");
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
    p.qty = qty * pow10i(qexp);
    /* pchs_avg_pric is a decimal string such as "71550.0000" */
    const char *avg = jstr(row, "pchs_avg_pric");
    double a = avg ? strtod(avg, NULL) : 0;
    p.avg_px = (int64_t)(a * (double)pow10i(pexp) + 0.5);
    k->host->emit_position(k->owner, &p);
}

/* Paged inquiry: next page when tr_cont says F or M and the cap allows. */
static bool next_page(struct kis *k, struct kreq *r, json_t *body,
                      const struct qts_http_response *resp)
{
    const char *tc = NULL;
    for (size_t i = 0; i < resp->n_headers; i++)
        if (strcasecmp(resp->headers[i].name, "tr_cont") == 0)
            tc = resp->headers[i].value;
    if (!tc || (tc[0] != 'F' && tc[0] != 'M') || r->pages + 1 >= (int)k->page_max)
        return false;
    const char *fk = jstr(body, "ctx_area_fk100"), *nk = jstr(body, "ctx_area_nk100");
    struct kreq *n = kreq_new(k, r->kind);
    if (!n)
        return false;
    *n = *r;
    n->next = NULL;
    n->query = r->query ? xstrdup(r->query) : NULL;
    n->body = NULL;
    n->pages = r->pages + 1;
    n->auth_retries = n->rl_retries = 0;
    snprintf(n->tr_cont, sizeof n->tr_cont, "N");
    /* passed back unchanged, padding included */
    snprintf(n->fk, sizeof n->fk, "%s", fk ? fk : "");
    snprintf(n->nk, sizeof n->nk, "%s", nk ? nk : "");
    enqueue(k, n);
    return true;
}

static int rvsecncl(struct kis *k, struct kord *o, bool cancel, int64_t px, int64_t qty);

static void order_ok(struct kis *k, struct kreq *r, json_t *body)
{
    struct kord *o = ord_by_clordid(k, r->clordid);
    if (!o)
        return;
    json_t *out = json_object_get(body, "output");
    const char *odno = jstr2(out, "ODNO", "odno");
    const char *org = jstr2(out, "KRX_FWDG_ORD_ORGNO", "krx_fwdg_ord_orgno");
    if (r->kind == KR_ORDER) {
        if (!odno) {
            report(k, o, QTS_EXEC_REJECT, QTS_EUNKNOWN, "order reply without ODNO");
            o->done = true;
            return;
        }
        snprintf(o->odno, sizeof o->odno, "%s", odno);
        snprintf(o->orig_odno, sizeof o->orig_odno, "%s", odno);
        snprintf(o->orgno, sizeof o->orgno, "%s", org ? org : "");
        if (!o->acked) {
            o->acked = true;
            report(k, o, QTS_EXEC_ACK, 0, jstr(body, "msg1"));
        }
        if (o->cancel_wanted && !o->done && !o->cancel_sent &&
            rvsecncl(k, o, true, 0, 0) == 0)
            o->cancel_sent = true;
        return;
    }
    if (r->kind == KR_MODIFY) {
        if (odno) /* the modify is a new order number; fills follow it */
            snprintf(o->odno, sizeof o->odno, "%s", odno);
        if (org)
            snprintf(o->orgno, sizeof o->orgno, "%s", org);
        persist(k, o);
        if (!k->notices_on)
            report(k, o, QTS_EXEC_REPLACED, 0, "modify accepted");
        return;
    }
    /* cancel accepted: the confirmation notice finishes the order; without
     * a notice stream the reply is all we get */
    if (!k->notices_on && !o->done) {
        o->done = true;
        report(k, o, QTS_EXEC_CANCELLED, 0, "cancel accepted");
    }
}

/* A lost order reply: find the order in today's list before deciding. */
static void verify_ok(struct kis *k, struct kreq *r, json_t *body)
{
    struct kord *o = ord_by_clordid(k, r->clordid);
    if (!o || o->acked)
        return;
    json_t *rows = json_object_get(body, "output1");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *odno = jstr(row, "odno");
        const char *sb = jstr(row, "sll_buy_dvsn_cd");
        uint8_t side = sb && strcmp(sb, "01") == 0 ? QTS_SIDE_SELL : QTS_SIDE_BUY;
        if (!odno || ord_by_odno(k, odno) || side != o->side ||
            jnum(row, "ord_qty") != o->qty ||
            (o->px_krw && jnum(row, "ord_unpr") != o->px_krw))
            continue;
        snprintf(o->odno, sizeof o->odno, "%s", odno);
        snprintf(o->orig_odno, sizeof o->orig_odno, "%s", odno);
        const char *org = jstr(row, "ord_gno_brno");
        snprintf(o->orgno, sizeof o->orgno, "%s", org ? org : "");
        o->acked = true;
        report(k, o, QTS_EXEC_ACK, 0, "order found by inquiry after a lost reply");
        return;
    }
    o->done = true;
    report(k, o, QTS_EXEC_REJECT, QTS_EUNKNOWN, "order reply lost and not in today's orders");
}

static void report_fill(struct kis *k, struct kord *o, int64_t px_krw, int64_t qty, uint64_t id,
                        const char *hhmmss);

/* Today's row of one order after a reconnect: book the fills and the
 * cancel that the notice stream lost while it was down. */
static void catchup_ok(struct kis *k, struct kreq *r, json_t *body)
{
    struct kord *o = ord_by_clordid(k, r->clordid);
    if (!o || o->done)
        return;
    json_t *rows = json_object_get(body, "output1");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *odno = jstr(row, "odno");
        if (!odno || ord_by_odno(k, odno) != o)
            continue;
        int64_t filled = jnum(row, "tot_ccld_qty"), amt = jnum(row, "tot_ccld_amt");
        if (filled > o->cum && filled <= o->qty) {
            int64_t q = filled - o->cum;
            int64_t px = amt > o->cum_amt ? (amt - o->cum_amt + q / 2) / q : jnum(row, "avg_prvs");
            char key[96];
            snprintf(key, sizeof key, "catchup|%s|%lld", o->odno, (long long)filled);
            o->cum = filled;
            o->cum_amt = amt > o->cum_amt ? amt : o->cum_amt + q * px;
            if (o->cum >= o->qty)
                o->done = true;
            KLOG(k, QTS_LOG_WARN, "broker_kis: fill found after a reconnect odno=%s qty=%lld",
                 o->odno, (long long)q);
            report_fill(k, o, px, q, fnv1a(key), jstr(row, "ord_tmd"));
        }
        const char *cncl = jstr(row, "cncl_yn");
        if (!o->done && jnum(row, "rmn_qty") == 0 &&
            ((cncl && strcmp(cncl, "Y") == 0) || jnum(row, "cncl_cfrm_qty") > 0)) {
            o->done = true;
            report(k, o, QTS_EXEC_CANCELLED, 0, "cancel found after a reconnect");
        }
        return;
    }
}


/* ------------------------------------------------ market and account queries */

static int64_t price_to_krw(const struct qts_instrument *in, int64_t px)
{
    int64_t scale = pow10i(in ? in->px_exp : 0);
    return (px + scale / 2) / scale;
}

static bool krx_symbol_ok(const char *s)
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
static void price_ok(struct kis *k, struct kreq *r, json_t *body)
{
    const struct qts_instrument *in = k->host->instrument_find(k->owner, r->symbol);
    if (!in) {
        k->host->emit_query_done(k->owner, r->req_id, QTS_ENOENT);
        return;
    }
    json_t *out = json_object_get(body, "output");
    int64_t last = jnum(out, "stck_prpr");
    if (last > 0) {
        struct qts_trade ev;
        memset(&ev, 0, sizeof ev);
        ev.h.struct_size = sizeof ev;
        ev.h.type = QTS_EV_TRADE;
        ev.h.px_exp = in->px_exp;
        ev.h.qty_exp = in->qty_exp;
        ev.h.instrument = in->id;
        ev.h.ts_recv_ns = k->host->now_ns(k->owner);
        ev.h.ts_exch_ns = ev.h.ts_recv_ns; /* the reply carries no time */
        ev.px = last * pow10i(in->px_exp);
        ev.aggressor = QTS_SIDE_NONE;
        k->host->emit_trade(k->owner, &ev);
    }
    struct kreq *n = kreq_new(k, KR_ASKING);
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
    n->query = r->query ? xstrdup(r->query) : NULL;
    enqueue(k, n);
}

static int64_t md_stamp(struct kis *k, const char *date, const char *hhmmss, int64_t recv);

static void asking_ok(struct kis *k, struct kreq *r, json_t *body)
{
    const struct qts_instrument *in = k->host->instrument_find(k->owner, r->symbol);
    json_t *o = asking_block(body);
    if (!in || !o) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: asking-price reply without a book symbol=%s",
             r->symbol);
        k->host->emit_query_done(k->owner, r->req_id, in ? QTS_EPARSE : QTS_ENOENT);
        return;
    }
    struct qts_level bids[10], asks[10];
    uint32_t nb = 0, na = 0;
    int64_t ps = pow10i(in->px_exp), qs = pow10i(in->qty_exp);
    for (int i = 1; i <= 10; i++) {
        char kp[24], kq[24];
        snprintf(kp, sizeof kp, "askp%d", i);
        snprintf(kq, sizeof kq, "askp_rsqn%d", i);
        int64_t px = jnum(o, kp), qty = jnum(o, kq);
        if (px > 0)
            asks[na++] = (struct qts_level){px * ps, qty * qs};
        snprintf(kp, sizeof kp, "bidp%d", i);
        snprintf(kq, sizeof kq, "bidp_rsqn%d", i);
        px = jnum(o, kp);
        qty = jnum(o, kq);
        if (px > 0)
            bids[nb++] = (struct qts_level){px * ps, qty * qs};
    }
    struct qts_book_update u;
    memset(&u, 0, sizeof u);
    u.h.struct_size = sizeof u;
    u.h.type = QTS_EV_BOOK;
    u.h.flags = QTS_BOOK_SNAPSHOT;
    u.h.px_exp = in->px_exp;
    u.h.qty_exp = in->qty_exp;
    u.h.instrument = in->id;
    u.h.ts_recv_ns = k->host->now_ns(k->owner);
    u.h.ts_exch_ns = md_stamp(k, NULL, jstr(o, "aspr_acpt_hour"), u.h.ts_recv_ns);
    u.n_bids = nb;
    u.n_asks = na;
    u.bids = bids;
    u.asks = asks;
    k->host->emit_book(k->owner, &u);
    k->host->emit_query_done(k->owner, r->req_id, 0);
}

static bool host_has_buying_power(const struct qts_host_api *h)
{
    return QTS_HAS(h, emit_buying_power);
}

static void psbl_ok(struct kis *k, struct kreq *r, json_t *body)
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
    bp.cash = jnum(out, "ord_psbl_cash");
    /* nrcvb_*: without margin (a cash account); max_*: with the account's
     * margin rate (buying_power_margin) */
    bp.max_qty = jnum(out, k->bp_margin ? "max_buy_qty" : "nrcvb_buy_qty") * pow10i(bp.qty_exp);
    k->host->emit_buying_power(k->owner, &bp);
    k->host->emit_query_done(k->owner, r->req_id, 0);
}

static void handle_ok(struct kis *k, struct kreq *r, json_t *body,
                      const struct qts_http_response *resp)
{
    size_t i;
    json_t *row;
    switch (r->kind) {
    case KR_HASH: /* a success without HASH (the good case returned earlier) */
        handle_fail(k, r, QTS_EPARSE, "", "hashkey reply without HASH");
        return;
    case KR_TOKEN:
        token_ok(k, body);
        break;
    case KR_APPROVAL:
        approval_ok(k, body);
        break;
    case KR_ORDER:
    case KR_CANCEL:
    case KR_MODIFY:
        order_ok(k, r, body);
        break;
    case KR_VERIFY:
        verify_ok(k, r, body);
        break;
    case KR_CATCHUP:
        catchup_ok(k, r, body);
        break;
    case KR_PRICE:
        price_ok(k, r, body);
        break;
    case KR_ASKING:
        asking_ok(k, r, body);
        break;
    case KR_PSBL:
        psbl_ok(k, r, body);
        break;
    case KR_OPEN: {
        bool daily = r->op == KIS_OP_DAILY_CCLD;
        json_t *rows = json_object_get(body, daily ? "output1" : "output");
        json_array_foreach(rows, i, row) emit_status_row(k, row, daily);
        if (!next_page(k, r, body, resp))
            k->host->emit_query_done(k->owner, r->req_id, 0);
        break;
    }
    case KR_POS: {
        json_t *rows = json_object_get(body, "output1");
        json_array_foreach(rows, i, row) emit_position_row(k, row);
        if (!next_page(k, r, body, resp))
            k->host->emit_query_done(k->owner, r->req_id, 0);
        break;
    }
    }
    kreq_free(r);
    pump(k);
}

static void start_verify(struct kis *k, struct kord *o);
static void request_approval(struct kis *k);

static void on_approval_timer(void *arg)
{
    struct kis *k = arg;
    k->approval_timer = 0;
    if (!k->stopping)
        request_approval(k);
}

static void handle_fail(struct kis *k, struct kreq *r, int code, const char *msg_cd,
                        const char *msg)
{
    KLOG(k, QTS_LOG_WARN,
         "broker_kis: request failed kind=%d req_id=%llu clordid=%s code=%s msg_cd=%s msg=%s",
         (int)r->kind, (unsigned long long)r->req_id, r->clordid, qts_err_name(code), msg_cd,
         msg);
    k->host->metric_add(k->owner, "request_errors", 1);
    if (r->kind == KR_TOKEN) {
        k->token_inflight = false;
        kreq_free(r);
        if (code != QTS_ERATELIMIT && code != QTS_ENET && code != QTS_ETIMEDOUT) {
            /* refused for good (key, secret, permission): what waits for a
             * token fails now instead of hanging; the next request retries */
            KLOG(k, QTS_LOG_ERROR, "broker_kis: access token refused msg_cd=%s: %s", msg_cd,
                 msg);
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
        kreq_free(r);
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
        pump(k);
        return;
    }
    bool is_order = r->kind == KR_ORDER || r->kind == KR_CANCEL || r->kind == KR_MODIFY;
    if (code == QTS_ERATELIMIT) {
        int64_t back = NS_PER_S << (r->rl_retries < 5 ? r->rl_retries : 5);
        k->hold_until_ns = mono_ns() + back;
        k->host->metric_add(k->owner, "rate_limited", 1);
        if (!is_order && r->rl_retries < 5) {
            r->rl_retries++;
            enqueue_front(k, r);
            pump(k);
            return;
        }
        /* an order refused by the gateway's rate limit did not reach the
         * exchange: a reject the OMS may retry with a new order */
    }
    if (code == QTS_ENET && r->kind != KR_ORDER && !is_order && r->rl_retries < 3) {
        r->rl_retries++;
        k->hold_until_ns = mono_ns() + (NS_PER_S << r->rl_retries);
        enqueue_front(k, r);
        pump(k);
        return;
    }
    struct kord *o = r->clordid[0] ? ord_by_clordid(k, r->clordid) : NULL;
    char text[128];
    snprintf(text, sizeof text, "%s%s%s", msg_cd, msg_cd[0] ? " " : "", msg);
    switch (r->kind) {
    case KR_ORDER:
        if (o && (code == QTS_ETIMEDOUT || (code == QTS_ENET && !msg_cd[0]))) {
            start_verify(k, o); /* outcome unknown: never resend blindly */
        } else if (o) {
            o->done = true;
            report(k, o, QTS_EXEC_REJECT, code, text);
        }
        break;
    case KR_CANCEL:
    case KR_MODIFY:
        if (o) {
            o->cancel_sent = false;
            report(k, o, QTS_EXEC_CANCEL_REJECT, code, text);
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
            report(k, o, QTS_EXEC_REJECT, QTS_EUNKNOWN, text);
        }
        break;
    case KR_APPROVAL:
        /* no WebSocket without it: ask again later */
        if (!k->approval_timer)
            k->host->timer_start(k->owner, 30000, 0, on_approval_timer, k, &k->approval_timer);
        break;
    default:
        break;
    }
    kreq_free(r);
    pump(k);
}

static char *daily_query(struct kis *k, const char *ccld_dvsn, const char *pdno)
{
    char today[16], q[600];
    kst_today(today);
    snprintf(q, sizeof q,
             "CANO=%s&ACNT_PRDT_CD=%s&INQR_STRT_DT=%s&INQR_END_DT=%s&SLL_BUY_DVSN_CD=00"
             "&INQR_DVSN=00&PDNO=%s&CCLD_DVSN=%s&ORD_GNO_BRNO=&ODNO=&INQR_DVSN_3=00"
             "&INQR_DVSN_1=&EXCG_ID_DVSN_CD=KRX",
             k->cano, k->prdt, today, today, pdno ? pdno : "", ccld_dvsn);
    return xstrdup(q);
}

static void start_verify(struct kis *k, struct kord *o)
{
    struct kreq *r = kreq_new(k, KR_VERIFY);
    if (!r)
        return;
    r->op = KIS_OP_DAILY_CCLD;
    r->is_get = true;
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    snprintf(r->clordid, sizeof r->clordid, "%s", o->clordid);
    r->query = daily_query(k, "00", o->symbol);
    KLOG(k, QTS_LOG_WARN, "broker_kis: order reply lost clordid=%s: checking today's orders",
         o->clordid);
    enqueue(k, r);
}

/* ---------------------------------------------------------------- broker ops */

static int kis_env(void *self)
{
    struct kis *k = self;
    return k->vts ? QTS_BROKER_ENV_PAPER : QTS_BROKER_ENV_REAL;
}

/* Price in KRW on the tick grid, or a negative code. */
static int64_t order_price(struct kis *k, const struct qts_broker_order *bo)
{
    int64_t scale = pow10i(bo->px_exp);
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

static int kis_submit(void *self, const struct qts_broker_order *bo)
{
    struct kis *k = self;
    if (!bo || bo->struct_size < offsetof(struct qts_broker_order, ts_sent_ns) ||
        !bo->client_order_id[0])
        return QTS_EINVAL;
    if (k->stopping)
        return QTS_ECLOSED;
    struct kord *prev = ord_by_clordid(k, bo->client_order_id);
    if (prev && !prev->prev_run)
        return 0; /* a retry of an order we already sent: idempotent */
    size_t sl = strlen(bo->symbol);
    if (sl < 6 || sl > 12) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: symbol %s is not a KRX code", bo->symbol);
        return QTS_EREJECT;
    }
    if (k->enforce_sessions && !kis_session_open(k->sessions, k->n_sessions, wall_ns())) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: order outside the trading sessions clordid=%s",
             bo->client_order_id);
        return QTS_EREJECT;
    }
    /* lots: whole shares, and the instrument's lot size if it has one */
    int64_t qscale = pow10i(bo->qty_exp);
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
             "its order number only", bo->client_order_id, prev->odno);
        prev->clordid[0] = '\0';
    }
    struct kord *o = ord_new(k);
    struct kreq *r = kreq_new(k, KR_ORDER);
    if (!o || !r) {
        kreq_free(r);
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
    o->submit_ns = wall_ns();
    char qs[24], ps[24];
    snprintf(qs, sizeof qs, "%lld", (long long)o->qty);
    snprintf(ps, sizeof ps, "%lld", (long long)px);
    json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "CANO", k->cano, "ACNT_PRDT_CD",
                          k->prdt, "PDNO", o->symbol, "ORD_DVSN", dvsn, "ORD_QTY", qs,
                          "ORD_UNPR", ps, "EXCG_ID_DVSN_CD", "KRX", "SLL_TYPE",
                          bo->side == QTS_SIDE_SELL ? "01" : "");
    r->body = b ? json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(b);
    r->op = bo->side == QTS_SIDE_SELL ? KIS_OP_SELL : KIS_OP_BUY;
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    snprintf(r->clordid, sizeof r->clordid, "%s", o->clordid);
    ord_gc(k);
    enqueue(k, r);
    return 0;
}

static int rvsecncl(struct kis *k, struct kord *o, bool cancel, int64_t px, int64_t qty)
{
    if (!o->acked || !o->odno[0])
        return QTS_EAGAIN; /* no order number yet: the OMS asks again */
    struct kreq *r = kreq_new(k, cancel ? KR_CANCEL : KR_MODIFY);
    if (!r)
        return QTS_ENOMEM;
    /* the whole remaining quantity goes as QTY_ALL_ORD_YN=Y, ORD_QTY 0 */
    bool all = cancel || qty >= o->qty - o->cum;
    char qs[24], ps[24];
    snprintf(qs, sizeof qs, "%lld", (long long)(all ? 0 : qty));
    snprintf(ps, sizeof ps, "%lld", (long long)(cancel ? 0 : px));
    json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "CANO", k->cano,
                          "ACNT_PRDT_CD", k->prdt, "KRX_FWDG_ORD_ORGNO", o->orgno, "ORGN_ODNO",
                          o->odno, "ORD_DVSN", o->dvsn, "RVSE_CNCL_DVSN_CD",
                          cancel ? "02" : "01", "ORD_QTY", qs, "ORD_UNPR", ps,
                          "QTY_ALL_ORD_YN", all ? "Y" : "N", "EXCG_ID_DVSN_CD", "KRX");
    r->body = b ? json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(b);
    r->op = KIS_OP_RVSECNCL;
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    snprintf(r->clordid, sizeof r->clordid, "%s", o->clordid);
    enqueue(k, r);
    return 0;
}

static int kis_cancel(void *self, const char *clordid, const char *venue_order_id)
{
    struct kis *k = self;
    struct kord *o = clordid && clordid[0] ? ord_by_clordid(k, clordid) : NULL;
    if (!o)
        o = ord_by_odno(k, venue_order_id);
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

static int kis_modify(void *self, const struct qts_broker_modify *m)
{
    struct kis *k = self;
    if (!m || !m->client_order_id[0] || m->new_px <= 0 || m->new_qty <= 0)
        return QTS_EINVAL;
    struct kord *o = ord_by_clordid(k, m->client_order_id);
    if (!o || o->done)
        return QTS_ENOENT;
    int64_t scale = pow10i(o->px_exp);
    int64_t px = kis_round_price(m->new_px / scale,
                                 o->side == QTS_SIDE_BUY ? KIS_ROUND_DOWN : KIS_ROUND_UP);
    int64_t qty = m->new_qty / pow10i(o->qty_exp) - o->cum;
    if (qty <= 0 || qty > o->qty - o->cum)
        return QTS_EUNSUPPORTED; /* KIS modifies price or part of the rest, never up */
    int rc = rvsecncl(k, o, false, px, qty);
    if (rc == 0)
        o->px_krw = px;
    return rc;
}

static int kis_query_open_orders(void *self, uint64_t req_id)
{
    struct kis *k = self;
    struct kreq *r = kreq_new(k, KR_OPEN);
    if (!r)
        return QTS_ENOMEM;
    r->req_id = req_id;
    r->is_get = true;
    char q[400];
    if (k->vts) {
        /* the paper server has no inquire-psbl-rvsecncl: unfilled rows of
         * today's daily inquiry (rmn_qty > 0) instead */
        r->op = KIS_OP_DAILY_CCLD;
        r->query = daily_query(k, "02", "");
    } else {
        r->op = KIS_OP_PSBL_RVSECNCL;
        snprintf(q, sizeof q, "CANO=%s&ACNT_PRDT_CD=%s&INQR_DVSN_1=0&INQR_DVSN_2=0", k->cano,
                 k->prdt);
        r->query = xstrdup(q);
    }
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    enqueue(k, r);
    return 0;
}

static int kis_query_positions(void *self, uint64_t req_id)
{
    struct kis *k = self;
    struct kreq *r = kreq_new(k, KR_POS);
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
    r->query = xstrdup(q);
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    enqueue(k, r);
    return 0;
}


static int kis_query_market(void *self, const char *symbol, uint64_t req_id)
{
    struct kis *k = self;
    if (k->stopping)
        return QTS_ECLOSED;
    if (!krx_symbol_ok(symbol))
        return QTS_EINVAL;
    if (!k->host->instrument_find(k->owner, symbol))
        return QTS_ENOENT; /* the trade and book need an instrument id */
    struct kreq *r = kreq_new(k, KR_PRICE);
    if (!r)
        return QTS_ENOMEM;
    r->op = KIS_OP_PRICE;
    r->is_get = true;
    r->no_ctx = true;
    r->req_id = req_id;
    snprintf(r->symbol, sizeof r->symbol, "%s", symbol);
    char q[128];
    snprintf(q, sizeof q, "FID_COND_MRKT_DIV_CODE=%s&FID_INPUT_ISCD=%s", k->mkt_div, symbol);
    r->query = xstrdup(q);
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    enqueue(k, r);
    return 0;
}

static int kis_query_buying_power(void *self, const char *symbol, int64_t px, uint64_t req_id)
{
    struct kis *k = self;
    if (!host_has_buying_power(k->host))
        return QTS_EUNSUPPORTED;
    if (k->stopping)
        return QTS_ECLOSED;
    if (!krx_symbol_ok(symbol) || px < 0)
        return QTS_EINVAL;
    const struct qts_instrument *in = k->host->instrument_find(k->owner, symbol);
    struct kreq *r = kreq_new(k, KR_PSBL);
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
    r->query = xstrdup(q);
    snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
    enqueue(k, r);
    return 0;
}

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
static int kis_subscribe(void *self, const char *symbol)
{
    struct kis *k = self;
    if (!k->ws_on)
        return QTS_EUNSUPPORTED;
    if (k->stopping)
        return QTS_ECLOSED;
    if (!krx_symbol_ok(symbol))
        return QTS_EINVAL;
    static const char *const trs[2] = {"H0STCNT0", "H0STASP0"};
    size_t need = 0;
    for (int i = 0; i < 2; i++)
        need += sub_find(k, trs[i], symbol) == NULL;
    if (need == 0)
        return 0;
    if (k->n_subs + need > k->max_subs || k->n_subs + need > MAX_SUBS) {
        KLOG(k, QTS_LOG_WARN,
             "broker_kis: subscription limit reached symbol=%s subscriptions=%zu max=%u",
             symbol, k->n_subs, k->max_subs);
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
    KLOG(k, QTS_LOG_INFO, "broker_kis: subscribed symbol=%s subscriptions=%zu", symbol,
         k->n_subs);
    return 0;
}

static int kis_unsubscribe(void *self, const char *symbol)
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

static const struct qts_broker_ops kis_ops = {
    .struct_size = sizeof(struct qts_broker_ops),
    .env = kis_env,
    .submit = kis_submit,
    .cancel = kis_cancel,
    .modify = kis_modify,
    .query_open_orders = kis_query_open_orders,
    .query_positions = kis_query_positions,
    .query_market = kis_query_market,
    .query_buying_power = kis_query_buying_power,
    .subscribe = kis_subscribe,
    .unsubscribe = kis_unsubscribe,
};

/* --------------------------------------------------------------- WebSocket */

static const char *notice_tr(const struct kis *k)
{
    return k->vts ? "H0STCNI9" : "H0STCNI0";
}

static void ws_send_sub(struct kis *k, const struct ksub *s, bool subscribe)
{
    json_t *o = json_pack("{s:{s:s,s:s,s:s,s:s},s:{s:{s:s,s:s}}}", "header", "approval_key",
                          k->approval, "custtype", "P", "tr_type", subscribe ? "1" : "2",
                          "content-type", "utf-8", "body", "input", "tr_id", s->tr_id,
                          "tr_key", s->tr_key);
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
static void ws_subscribe_all(struct kis *k)
{
    if (k->stopping || !k->approval[0])
        return;
    if (!k->ws) {
        struct kis_ws_opts o = {
            .url = k->ws_url,
            .reconnect_min_ms = k->ws_min_ms,
            .reconnect_max_ms = k->ws_max_ms,
            .on_frame = ws_on_frame,
            .arg = k,
            .post = ws_post,
            .post_ctx = k,
        };
        int rc = kis_ws_start(&o, &k->ws);
        if (rc != 0)
            KLOG(k, QTS_LOG_ERROR, "broker_kis: cannot start the WebSocket session url=%s: %s",
                 k->ws_url, qts_strerror(rc));
        return; /* the "opened" event subscribes */
    }
    for (size_t i = 0; i < k->n_subs; i++)
        ws_send_sub(k, &k->subs[i], true);
}

static void report_fill(struct kis *k, struct kord *o, int64_t px_krw, int64_t qty, uint64_t id,
                        const char *hhmmss)
{
    struct qts_exec_report r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.exec_type = QTS_EXEC_FILL;
    r.side = o->side;
    r.instrument = o->instrument;
    r.px_exp = o->px_exp;
    r.qty_exp = o->qty_exp;
    snprintf(r.client_order_id, sizeof r.client_order_id, "%s", o->clordid);
    snprintf(r.venue_order_id, sizeof r.venue_order_id, "%s", o->odno);
    int64_t qs = pow10i(o->qty_exp);
    r.last_px = px_krw * pow10i(o->px_exp);
    r.last_qty = qty * qs;
    r.cum_qty = o->cum * qs;
    r.leaves_qty = o->done ? 0 : (o->qty - o->cum) * qs;
    r.fill_id = id;
    int64_t now = k->host->now_ns(k->owner);
    int64_t t = kis_kst_to_utc_ns(NULL, hhmmss, now);
    r.ts_venue_ns = t ? t : now;
    persist(k, o);
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
    struct kord *o = ord_by_odno(k, n.odno);
    if (!o && n.oodno[0])
        o = ord_by_odno(k, n.oodno);
    if (!o) {
        KLOG(k, QTS_LOG_INFO, "broker_kis: notice for an order not placed by this run odno=%s",
             n.odno);
        return;
    }
    if (n.refused) {
        if (n.rctf_cls == '0' && !o->done) {
            o->done = true;
            report(k, o, QTS_EXEC_REJECT, QTS_EREJECT, "refused by the exchange (RFUS_YN=1)");
        } else if (n.rctf_cls != '0') {
            o->cancel_sent = false;
            report(k, o, QTS_EXEC_CANCEL_REJECT, QTS_EREJECT, "modify/cancel refused");
        }
        return;
    }
    if (n.is_fill) {
        char key[96];
        snprintf(key, sizeof key, "%s|%s|%lld|%lld", n.odno, n.hhmmss, (long long)n.qty,
                 (long long)n.px);
        uint64_t id = fnv1a(key);
        for (uint32_t i = 0; i < o->n_fill_keys && i < FILL_KEYS; i++)
            if (o->fill_keys[i] == id)
                return; /* the same notice again */
        o->fill_keys[o->n_fill_keys++ % FILL_KEYS] = id;
        if (!o->acked) {
            o->acked = true;
            report(k, o, QTS_EXEC_ACK, 0, NULL);
        }
        if (o->cum + n.qty > o->qty) {
            /* already booked by a catch-up inquiry: KIS does not replay
             * notices, but a late one must not fill twice */
            KLOG(k, QTS_LOG_INFO, "broker_kis: fill notice beyond the order quantity ignored odno=%s",
                 n.odno);
            return;
        }
        o->cum += n.qty;
        o->cum_amt += n.qty * n.px;
        if (o->cum >= o->qty)
            o->done = true;
        report_fill(k, o, n.px, n.qty, id, n.hhmmss);
        return;
    }
    /* receipt notices */
    if (n.rctf_cls == '2' && (n.acpt_yn == '2' || n.acpt_yn == '3') && !o->done) {
        o->done = true;
        report(k, o, QTS_EXEC_CANCELLED, 0, "cancel confirmed");
    } else if (n.rctf_cls == '0' && n.acpt_yn == '3' && !o->done) {
        o->done = true; /* IOC/FOK remainder cancelled by the exchange */
        report(k, o, QTS_EXEC_CANCELLED, 0, "IOC/FOK remainder cancelled");
    } else if (n.rctf_cls == '1' && n.acpt_yn == '2' && !o->done) {
        snprintf(o->odno, sizeof o->odno, "%s", n.odno);
        report(k, o, QTS_EXEC_REPLACED, 0, "modify confirmed");
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
        ev.h.struct_size = sizeof ev;
        ev.h.type = QTS_EV_TRADE;
        ev.h.px_exp = in->px_exp;
        ev.h.qty_exp = in->qty_exp;
        ev.h.instrument = in->id;
        ev.h.ts_recv_ns = k->host->now_ns(k->owner);
        ev.h.ts_exch_ns = md_stamp(k, t.date, t.hhmmss, ev.h.ts_recv_ns);
        ev.px = t.px * pow10i(in->px_exp);
        ev.qty = t.qty * pow10i(in->qty_exp);
        ev.trade_id = ++k->n_frames;
        ev.aggressor = t.aggressor;
        k->host->emit_trade(k->owner, &ev);
    }
}

static void on_book(struct kis *k, char **f, size_t nf, int count)
{
    size_t per = count > 1 ? nf / (size_t)count : nf;
    for (int c = 0; c < count && per >= 43; c++) {
        struct kis_book b;
        if (kis_book_parse(f + (size_t)c * per, per, &b) != 0)
            continue;
        const struct qts_instrument *in = md_inst(k, b.symbol);
        if (!in)
            continue;
        struct qts_level bids[10], asks[10];
        uint32_t nb = 0, na = 0;
        int64_t ps = pow10i(in->px_exp), qs = pow10i(in->qty_exp);
        for (int i = 0; i < 10; i++) {
            if (b.bid_px[i] > 0)
                bids[nb++] = (struct qts_level){b.bid_px[i] * ps, b.bid_qty[i] * qs};
            if (b.ask_px[i] > 0)
                asks[na++] = (struct qts_level){b.ask_px[i] * ps, b.ask_qty[i] * qs};
        }
        struct qts_book_update u;
        memset(&u, 0, sizeof u);
        u.h.struct_size = sizeof u;
        u.h.type = QTS_EV_BOOK;
        u.h.flags = QTS_BOOK_SNAPSHOT;
        u.h.px_exp = in->px_exp;
        u.h.qty_exp = in->qty_exp;
        u.h.instrument = in->id;
        u.h.ts_recv_ns = k->host->now_ns(k->owner);
        u.h.ts_exch_ns = md_stamp(k, NULL, b.hhmmss, u.h.ts_recv_ns);
        u.n_bids = nb;
        u.n_asks = na;
        u.bids = bids;
        u.asks = asks;
        k->host->emit_book(k->owner, &u);
    }
}

static void on_system_frame(struct kis *k, const char *text)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!o)
        return;
    json_t *hdr = json_object_get(o, "header"), *body = json_object_get(o, "body");
    const char *tr = jstr(hdr, "tr_id");
    if (tr && strcmp(tr, "PINGPONG") == 0) {
        json_decref(o);
        return; /* answered on the socket thread */
    }
    const char *rt = jstr(body, "rt_cd"), *cd = jstr(body, "msg_cd"), *m = jstr(body, "msg1");
    if (rt && strcmp(rt, "0") != 0) {
        KLOG(k, QTS_LOG_WARN, "broker_kis: subscription error tr_id=%s msg_cd=%s msg=%s",
             tr ? tr : "?", cd ? cd : "", m ? m : "");
        k->host->metric_add(k->owner, "ws_sub_errors", 1);
    }
    json_t *out = json_object_get(body, "output");
    const char *key = jstr(out, "key"), *iv = jstr(out, "iv");
    if (tr && strcmp(tr, notice_tr(k)) == 0 && key && iv && strlen(key) == 32 &&
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
        struct kreq *r = kreq_new(k, KR_CATCHUP);
        if (!r)
            return;
        r->op = KIS_OP_DAILY_CCLD;
        r->is_get = true;
        snprintf(r->path, sizeof r->path, "%s", kis_op_path(r->op));
        snprintf(r->clordid, sizeof r->clordid, "%s", o->clordid);
        r->query = daily_query(k, "00", o->symbol);
        enqueue(k, r);
    }
}

static void ws_on_frame(void *arg, int event, const char *text)
{
    struct kis *k = arg;
    if (k->stopping)
        return;
    if (event == 1) {
        k->ws_up = true;
        KLOG(k, QTS_LOG_INFO, "broker_kis: WebSocket connected url=%s subscriptions=%zu",
             k->ws_url, k->n_subs);
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

/* -------------------------------------------------------------- lifecycle */

static int cfg_opt_str(struct kis *k, const char *key, char *out, size_t cap,
                       struct qts_err *err)
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
                           "per app key)", k->max_subs);
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

static int kis_init(const struct qts_host_api *host, void *owner, void **self,
                    struct qts_err *err)
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
    int64_t ahead_s = 3600, issue_s = 61, timeout_ms = 5000, pages = 20, ws_min = 500, ws_max = 30000,
            max_subs = 41;
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
    k->bucket_ns = mono_ns();
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
        rc = qts_err_set(err, QTS_ECONFIG,
                         "broker_kis: secret %s_account must be 10 digits (8-2)", prefix);
        goto fail;
    }
    memcpy(k->cano, digits, 8);
    memcpy(k->prdt, digits + 8, 2);
    if (k->ws_on && k->notices_on) {
        rc = secret(k, prefix, "hts_id", k->hts_id, sizeof k->hts_id, err);
        if (rc)
            goto fail;
        if ((rc = add_sub(k, notice_tr(k), k->hts_id, err)))
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
            snprintf(k->token_path, sizeof k->token_path, "%s/.cache/qts-kis-token-%s.json",
                     home, env);
    }
    if (!state_set) {
        const char *base = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        if (base && base[0])
            snprintf(k->state_path, sizeof k->state_path, "%s/qts-kis-orders-%s.jsonl", base,
                     env);
        else if (home && home[0])
            snprintf(k->state_path, sizeof k->state_path,
                     "%s/.local/state/qts-kis-orders-%s.jsonl", home, env);
    }
    state_fp(k);
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
    token_load(k);
    state_open(k);
    KLOG(k, QTS_LOG_INFO,
         "broker_kis: start env=%s rest=%s ws=%s rate_per_s=%.2f cached_token=%s",
         k->vts ? "vts" : "real", k->rest, k->ws_on ? k->ws_url : "off", k->rate_per_s,
         token_valid(k) ? "yes" : "no");
    k->started = true;
    if (k->ws_on)
        request_approval(k);
    pump(k);
    return 0;
}

static int kis_stop(void *self)
{
    struct kis *k = self;
    k->stopping = true;
    if (k->ws) {
        kis_ws_stop(k->ws);
        k->ws = NULL;
    }
    if (k->pump_armed)
        k->host->timer_stop(k->owner, k->pump_timer);
    k->pump_armed = false;
    if (k->token_timer)
        k->host->timer_stop(k->owner, k->token_timer);
    k->token_timer = 0;
    if (k->approval_timer)
        k->host->timer_stop(k->owner, k->approval_timer);
    k->approval_timer = 0;
    state_close(k);
    return 0;
}

static void kis_destroy(void *self)
{
    struct kis *k = self;
    if (!k)
        return;
    if (k->ws)
        kis_ws_stop(k->ws);
    state_close(k);
    while (k->q_head) {
        struct kreq *r = k->q_head;
        k->q_head = r->next;
        kreq_free(r);
    }
    for (size_t i = 0; i < k->n_ord; i++)
        free(k->ord[i]);
    free(k->ord);
    /* secrets do not outlive the plugin in freed memory */
    explicit_bzero(k->app_secret, sizeof k->app_secret);
    explicit_bzero(k->token, sizeof k->token);
    free(k);
}

QTS_PLUGIN_EXPORT const struct qts_plugin_desc *qts_plugin_entry(uint16_t host_major,
                                                                uint16_t host_minor);

static const struct qts_plugin_desc kis_desc = {
    .struct_size = sizeof(struct qts_plugin_desc),
    .abi_major = QTS_ABI_MAJOR,
    .abi_minor = QTS_ABI_MINOR,
    .build_sig = QTS_BUILD_SIG,
    .name = "broker_kis",
    .version = "1.0.0",
    .kind = QTS_KIND_BROKER,
    /* the WebSocket runs on its own thread and only posts back; lws and
     * OpenSSL keep process-wide state, so the library stays mapped */
    .caps = QTS_CAP_THREADS | QTS_CAP_RESIDENT,
    .init = kis_init,
    .start = kis_start,
    .stop = kis_stop,
    .destroy = kis_destroy,
    .ops = &kis_ops,
};

QTS_PLUGIN_EXPORT const struct qts_plugin_desc *qts_plugin_entry(uint16_t host_major,
                                                                uint16_t host_minor)
{
    (void)host_minor;
    return host_major == QTS_ABI_MAJOR ? &kis_desc : NULL;
}
