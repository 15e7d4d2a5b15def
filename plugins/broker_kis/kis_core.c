/* kis_core.c — KIS protocol details without I/O (see kis_core.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* explicit_bzero, strtok_r, clock_gettime */
#endif
#include "kis_core.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

struct op_row {
    const char *path;
    const char *real; /* current REAL TR id */
    bool on_vts;      /* the paper server has it */
};

static const struct op_row ops[KIS_OP_COUNT_] = {
    [KIS_OP_SELL] = {"/uapi/domestic-stock/v1/trading/order-cash", "TTTC0011U", true},
    [KIS_OP_BUY] = {"/uapi/domestic-stock/v1/trading/order-cash", "TTTC0012U", true},
    [KIS_OP_RVSECNCL] = {"/uapi/domestic-stock/v1/trading/order-rvsecncl", "TTTC0013U", true},
    [KIS_OP_PSBL_RVSECNCL] = {"/uapi/domestic-stock/v1/trading/inquire-psbl-rvsecncl", "TTTC0084R",
                              false},
    [KIS_OP_DAILY_CCLD] = {"/uapi/domestic-stock/v1/trading/inquire-daily-ccld", "TTTC0081R", true},
    [KIS_OP_BALANCE] = {"/uapi/domestic-stock/v1/trading/inquire-balance", "TTTC8434R", true},
    [KIS_OP_PSBL_ORDER] = {"/uapi/domestic-stock/v1/trading/inquire-psbl-order", "TTTC8908R", true},
    [KIS_OP_PRICE] = {"/uapi/domestic-stock/v1/quotations/inquire-price", "FHKST01010100", true},
    [KIS_OP_ASKING] = {"/uapi/domestic-stock/v1/quotations/inquire-asking-price-exp-ccn",
                       "FHKST01010200", true},
};

/* VTS ids are derived, never stored twice: the table above stays the one
 * place that names a TR. */
static char vts_ids[KIS_OP_COUNT_][16];

void kis_tr_to_vts(const char *real, char *out, size_t cap)
{
    snprintf(out, cap, "%s", real);
    if (cap > 1 && (out[0] == 'T' || out[0] == 'J' || out[0] == 'C'))
        out[0] = 'V';
}

const char *kis_tr_id(enum kis_op op, bool vts)
{
    if ((unsigned)op >= KIS_OP_COUNT_)
        return NULL;
    if (!vts)
        return ops[op].real;
    if (!ops[op].on_vts)
        return NULL;
    if (!vts_ids[op][0]) /* same value from every thread: a benign race */
        kis_tr_to_vts(ops[op].real, vts_ids[op], sizeof vts_ids[op]);
    return vts_ids[op];
}

const char *kis_op_path(enum kis_op op)
{
    return (unsigned)op < KIS_OP_COUNT_ ? ops[op].path : NULL;
}

static const char *const dvsn_codes[] = {"00", "01", "02", "03", "04", "05", "06", "07", "11",
                                         "12", "13", "14", "15", "16", "21", "22", "23", "24"};

bool kis_ord_dvsn_valid(const char *code)
{
    if (!code)
        return false;
    for (size_t i = 0; i < sizeof dvsn_codes / sizeof dvsn_codes[0]; i++)
        if (strcmp(code, dvsn_codes[i]) == 0)
            return true;
    return false;
}

bool kis_ord_dvsn_priceless(const char *code)
{
    /* market, best-for-me, best-priority, the closing-price sessions, market
     * and best IOC/FOK, mid-point: the exchange sets the price */
    static const char *const p[] = {"01", "03", "04", "05", "06", "13",
                                    "14", "15", "16", "21", "23", "24"};
    for (size_t i = 0; code && i < sizeof p / sizeof p[0]; i++)
        if (strcmp(code, p[i]) == 0)
            return true;
    return false;
}

const char *kis_ord_dvsn(uint8_t type, uint8_t tif, const char *override)
{
    if (type == QTS_ORD_MARKET) {
        if (tif == QTS_TIF_IOC)
            return "13";
        if (tif == QTS_TIF_FOK)
            return "14";
        if (tif == QTS_TIF_POST)
            return NULL;
        return "01";
    }
    if (type != QTS_ORD_LIMIT)
        return NULL;
    switch (tif) {
    case QTS_TIF_IOC: return "11";
    case QTS_TIF_FOK: return "12";
    case QTS_TIF_POST: return NULL; /* KRX has no post-only */
    default: break;
    }
    if (override && override[0] && kis_ord_dvsn_valid(override))
        return override;
    return "00";
}

int64_t kis_tick_size(int64_t px)
{
    /* KRX price bands: the tick below each upper bound */
    static const struct {
        int64_t below, tick;
    } bands[] = {{2000, 1}, {5000, 5}, {20000, 10}, {50000, 50}, {200000, 100}, {500000, 500}};
    for (size_t i = 0; i < sizeof bands / sizeof bands[0]; i++)
        if (px < bands[i].below)
            return bands[i].tick;
    return 1000;
}

int64_t kis_round_price(int64_t px, enum kis_round mode)
{
    if (px <= 0)
        return px;
    int64_t t = kis_tick_size(px);
    int64_t down = px - px % t;
    if (down == px)
        return px;
    int64_t up = down + t; /* an edge (2000, 5000, ...) is a multiple of the lower tick */
    switch (mode) {
    case KIS_ROUND_DOWN: return down;
    case KIS_ROUND_UP: return up;
    default: return px - down < up - px ? down : up;
    }
}

int kis_session_parse(const char *s, struct kis_session *out)
{
    int h1, m1, h2, m2;
    char tail;
    if (!s || sscanf(s, "%d:%d-%d:%d%c", &h1, &m1, &h2, &m2, &tail) != 4)
        return QTS_EPARSE;
    if (h1 < 0 || h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59)
        return QTS_EPARSE;
    int a = h1 * 60 + m1, b = h2 * 60 + m2;
    if (a >= b || b > 24 * 60)
        return QTS_EPARSE;
    out->start_min = (int16_t)a;
    out->end_min = (int16_t)b;
    return 0;
}

bool kis_session_open(const struct kis_session *s, size_t n, int64_t utc_ns)
{
    int64_t sec = utc_ns / 1000000000LL + 9 * 3600;
    int min = (int)((sec % 86400 + 86400) % 86400 / 60);
    for (size_t i = 0; i < n; i++)
        if (min >= s[i].start_min && min < s[i].end_min)
            return true;
    return false;
}

int kis_classify(const char *code)
{
    static const char *const auth[] = {"EGW00121", "EGW00123", "OPSQ1002"};
    static const char *const rate[] = {"EGW00201", "EGW00215", "EGW00133"};
    static const char *const transient[] = {"EGW00001", "EGW00002", "EGW00202", "EGW00203",
                                            "EGW00300", "OPSQ0001", "OPSQ0010", "OPSQ0011"};
    static const char *const config[] = {"EGW00003", "EGW00004", "EGW00102", "EGW00103", "EGW00104",
                                         "EGW00105", "EGW00132", "EGW00205", "EGW00206", "EGW00207",
                                         "EGW00208", "EGW00210", "EGW00213", "OPSQ2000"};
    static const struct {
        const char *const *codes;
        size_t n;
        int err;
    } groups[] = {{auth, sizeof auth / sizeof auth[0], QTS_EAUTH},
                  {rate, sizeof rate / sizeof rate[0], QTS_ERATELIMIT},
                  {transient, sizeof transient / sizeof transient[0], QTS_ENET},
                  {config, sizeof config / sizeof config[0], QTS_ECONFIG}};
    if (!code || !code[0])
        return QTS_EREJECT;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        for (size_t i = 0; i < groups[g].n; i++)
            if (strcmp(code, groups[g].codes[i]) == 0)
                return groups[g].err;
    return QTS_EREJECT;
}

int kis_frame_split(char *frame, struct kis_frame *out)
{
    memset(out, 0, sizeof *out);
    if (!frame || (frame[0] != '0' && frame[0] != '1') || frame[1] != '|')
        return QTS_EPARSE;
    out->encrypted = frame[0] == '1';
    char *tr = frame + 2;
    char *bar = strchr(tr, '|');
    if (!bar || bar == tr || (size_t)(bar - tr) >= sizeof out->tr_id)
        return QTS_EPARSE;
    memcpy(out->tr_id, tr, (size_t)(bar - tr));
    char *cnt = bar + 1;
    char *bar2 = strchr(cnt, '|');
    if (!bar2)
        return QTS_EPARSE;
    *bar2 = '\0';
    char *end;
    long c = strtol(cnt, &end, 10);
    if (end == cnt || *end || c <= 0 || c > 1000)
        return QTS_EPARSE;
    out->count = (int)c;
    out->payload = bar2 + 1;
    return 0;
}

size_t kis_fields_split(char *s, char **fields, size_t max)
{
    size_t n = 0;
    if (!s || max == 0)
        return 0;
    fields[n++] = s;
    for (char *p = s; *p; p++) {
        if (*p == '^') {
            *p = '\0';
            if (n == max)
                break;
            fields[n++] = p + 1;
        }
    }
    return n;
}

int kis_aes_decrypt(const char *key, const char *iv, const char *b64, char *out, size_t cap)
{
    if (!key || !iv || !b64 || strlen(key) != 32 || strlen(iv) != 16)
        return QTS_EPARSE;
    size_t n = strlen(b64);
    while (n && (b64[n - 1] == '\n' || b64[n - 1] == '\r' || b64[n - 1] == ' '))
        n--;
    if (n == 0 || n % 4 != 0)
        return QTS_EPARSE;
    size_t raw_cap = n / 4 * 3;
    unsigned char *raw = malloc(raw_cap + 1);
    unsigned char *plain = malloc(raw_cap + 32);
    int rc = QTS_EPARSE;
    EVP_CIPHER_CTX *ctx = NULL;
    if (!raw || !plain)
        goto out;
    int rn = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
    if (rn < 0)
        goto out;
    /* EVP_DecodeBlock counts the '=' padding as zero bytes */
    if (n >= 1 && b64[n - 1] == '=')
        rn--;
    if (n >= 2 && b64[n - 2] == '=')
        rn--;
    if (rn <= 0 || rn % 16 != 0)
        goto out;
    ctx = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0;
    if (!ctx ||
        EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, (const unsigned char *)key,
                           (const unsigned char *)iv) != 1 ||
        EVP_DecryptUpdate(ctx, plain, &l1, raw, rn) != 1 ||
        EVP_DecryptFinal_ex(ctx, plain + l1, &l2) != 1)
        goto out;
    size_t len = (size_t)(l1 + l2);
    if (len + 1 > cap) {
        rc = QTS_ERANGE;
        goto out;
    }
    memcpy(out, plain, len);
    out[len] = '\0';
    rc = (int)len;
out:
    EVP_CIPHER_CTX_free(ctx);
    free(raw);
    free(plain);
    return rc;
}

int kis_aes_encrypt(const char *key, const char *iv, const char *plain, char *out, size_t cap)
{
    if (!key || !iv || !plain || strlen(key) != 32 || strlen(iv) != 16)
        return QTS_EINVAL;
    size_t n = strlen(plain);
    unsigned char *ct = malloc(n + 32);
    if (!ct)
        return QTS_ENOMEM;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int l1 = 0, l2 = 0, rc = QTS_EINVAL;
    if (ctx &&
        EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, (const unsigned char *)key,
                           (const unsigned char *)iv) == 1 &&
        EVP_EncryptUpdate(ctx, ct, &l1, (const unsigned char *)plain, (int)n) == 1 &&
        EVP_EncryptFinal_ex(ctx, ct + l1, &l2) == 1) {
        size_t need = ((size_t)(l1 + l2) + 2) / 3 * 4 + 1;
        if (need > cap)
            rc = QTS_ERANGE;
        else
            rc = EVP_EncodeBlock((unsigned char *)out, ct, l1 + l2);
    }
    EVP_CIPHER_CTX_free(ctx);
    free(ct);
    return rc;
}

int kis_atoi64(const char *s, int64_t *out)
{
    if (!s)
        return QTS_EPARSE;
    while (*s == ' ')
        s++;
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (!isdigit((unsigned char)*s))
        return QTS_EPARSE;
    int64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        if (v > (INT64_MAX - 9) / 10)
            return QTS_EPARSE;
        v = v * 10 + (*s - '0');
    }
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++) {
        }
    while (*s == ' ')
        s++;
    if (*s)
        return QTS_EPARSE;
    *out = neg ? -v : v;
    return 0;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

int kis_notice_parse(char *plain, struct kis_notice *out)
{
    char *f[32];
    memset(out, 0, sizeof *out);
    size_t nf = kis_fields_split(plain, f, 32);
    if (nf < 17)
        return QTS_EPARSE;
    copy_field(out->odno, sizeof out->odno, f[2]);
    copy_field(out->oodno, sizeof out->oodno, f[3]);
    out->side = strcmp(f[4], "01") == 0   ? QTS_SIDE_SELL
                : strcmp(f[4], "02") == 0 ? QTS_SIDE_BUY
                                          : QTS_SIDE_NONE;
    out->rctf_cls = f[5][0] ? f[5][0] : '0';
    copy_field(out->symbol, sizeof out->symbol, f[8]);
    copy_field(out->hhmmss, sizeof out->hhmmss, f[11]);
    out->refused = f[12][0] == '1';
    out->is_fill = f[13][0] == '2';
    out->acpt_yn = f[14][0];
    if (!out->odno[0] || out->side == QTS_SIDE_NONE)
        return QTS_EPARSE;
    if (kis_atoi64(f[9], &out->qty) != 0)
        out->qty = 0;
    if (kis_atoi64(f[10], &out->px) != 0)
        out->px = 0;
    if (kis_atoi64(f[16], &out->ord_qty) != 0)
        out->ord_qty = 0;
    if (out->is_fill && (out->qty <= 0 || out->px <= 0))
        return QTS_EPARSE;
    return 0;
}

/* The symbol and time (fields 0 and 1) a market data record starts with, into
 * the caller's arrays; false when the record has fewer than min fields. */
static bool tick_head(char **f, size_t nf, size_t min, char *symbol, size_t symbol_cap,
                      char *hhmmss, size_t hhmmss_cap)
{
    if (nf < min)
        return false;
    copy_field(symbol, symbol_cap, f[0]);
    copy_field(hhmmss, hhmmss_cap, f[1]);
    return true;
}

int kis_trade_parse(char **f, size_t nf, struct kis_trade *out)
{
    memset(out, 0, sizeof *out);
    if (!tick_head(f, nf, 22, out->symbol, sizeof out->symbol, out->hhmmss, sizeof out->hhmmss))
        return QTS_EPARSE;
    if (nf > 33)
        copy_field(out->date, sizeof out->date, f[33]);
    if (kis_atoi64(f[2], &out->px) != 0 || kis_atoi64(f[12], &out->qty) != 0 || out->px <= 0)
        return QTS_EPARSE;
    out->aggressor = f[21][0] == '1'   ? QTS_SIDE_BUY
                     : f[21][0] == '5' ? QTS_SIDE_SELL
                                       : QTS_SIDE_NONE;
    return 0;
}

int kis_book_parse(char **f, size_t nf, struct kis_book *out)
{
    memset(out, 0, sizeof *out);
    if (!tick_head(f, nf, 43, out->symbol, sizeof out->symbol, out->hhmmss, sizeof out->hhmmss))
        return QTS_EPARSE;
    for (int i = 0; i < 10; i++)
        if (kis_atoi64(f[3 + i], &out->ask_px[i]) || kis_atoi64(f[13 + i], &out->bid_px[i]) ||
            kis_atoi64(f[23 + i], &out->ask_qty[i]) || kis_atoi64(f[33 + i], &out->bid_qty[i]))
            return QTS_EPARSE;
    return 0;
}

/* True when s is exactly n decimal digits: sscanf's %d alone also takes a
 * sign or blanks, and a "-1" month or a far year overflowed the result. */
static bool digits_only(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int64_t kis_kst_to_utc_ns(const char *ymd, const char *hms, int64_t now_ns)
{
    int h, mi, s;
    if (!hms || !digits_only(hms, 6) || sscanf(hms, "%2d%2d%2d", &h, &mi, &s) != 3 || h > 23 ||
        mi > 59 || s > 60)
        return 0;
    int64_t day;
    int y, mo, d;
    if (ymd && digits_only(ymd, 8) && sscanf(ymd, "%4d%2d%2d", &y, &mo, &d) == 3 && y >= 1900 &&
        y <= 2200 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31)
        day = qts_days_from_civil(y, (unsigned)mo, (unsigned)d);
    else
        day = (now_ns / 1000000000LL + 9 * 3600) / 86400;
    int64_t kst = day * 86400 + h * 3600 + mi * 60 + s;
    return (kst - 9 * 3600) * 1000000000LL;
}
