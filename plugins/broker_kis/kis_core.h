/* kis_core.h — the parts of the KIS protocol that need no I/O: TR ids,
 * order-type codes, KRX price ticks, trading sessions, error classes,
 * WebSocket frame and notice parsing, AES-256-CBC decryption of notices.
 * Pure functions, so the unit tests call them directly.
 *
 * Reference: KIS Open API, domestic stock (docs/brokers/kis.md).
 * Strings returned are static unless stated; buffers are the caller's. */
#ifndef KIS_CORE_H
#define KIS_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_types.h"

/* REST operations with a TR id. */
enum kis_op {
    KIS_OP_SELL = 0,      /* order-cash, sell */
    KIS_OP_BUY,           /* order-cash, buy */
    KIS_OP_RVSECNCL,      /* order-rvsecncl: modify or cancel */
    KIS_OP_PSBL_RVSECNCL, /* inquire-psbl-rvsecncl (real only) */
    KIS_OP_DAILY_CCLD,    /* inquire-daily-ccld, last 3 months */
    KIS_OP_BALANCE,       /* inquire-balance */
    KIS_OP_PSBL_ORDER,    /* inquire-psbl-order (buyable amount) */
    KIS_OP_PRICE,         /* inquire-price */
    KIS_OP_ASKING,        /* inquire-asking-price-exp-ccn */
    KIS_OP_COUNT_
};

/* TR id of `op` for the environment (current ids, not the deprecated
 * 08xx/8001 ones); NULL when the paper server has no such TR. */
const char *kis_tr_id(enum kis_op op, bool vts);
/* Request path of `op` (starts with "/uapi/"). */
const char *kis_op_path(enum kis_op op);
/* Paper-server form of a real TR id: leading T, J or C becomes V; F and H
 * ids are shared. Writes into out (cap >= 16). */
void kis_tr_to_vts(const char *real, char *out, size_t cap);

/* ORD_DVSN for an order: `override` (a code from the spec's list, e.g.
 * "03" best-for-me) wins for limit orders when set; otherwise limit 00,
 * market 01, IOC/FOK variants 11..14. NULL when the combination has no
 * code (e.g. post-only). */
const char *kis_ord_dvsn(uint8_t type, uint8_t tif, const char *override);
/* True for the ORD_DVSN codes the spec lists (00..07, 11..16, 21..24). */
bool kis_ord_dvsn_valid(const char *code);
/* True when the code sends ORD_UNPR "0" (no price). */
bool kis_ord_dvsn_priceless(const char *code);

/* KRX stock tick (2023 unified table) at a price in KRW. */
int64_t kis_tick_size(int64_t px_krw);
enum kis_round { KIS_ROUND_NEAREST = 0, KIS_ROUND_DOWN = 1, KIS_ROUND_UP = 2 };
/* Price on the tick grid; the tick is taken at the rounded level, so a
 * price just below a band edge rounding up lands on the edge. */
int64_t kis_round_price(int64_t px_krw, enum kis_round mode);

/* Trading sessions in KST minutes of the day, from "HH:MM-HH:MM" items. */
struct kis_session {
    int16_t start_min, end_min; /* [start, end) */
};
/* Parses one "HH:MM-HH:MM"; 0 or QTS_EPARSE. */
int kis_session_parse(const char *s, struct kis_session *out);
/* True when `utc_ns` falls in one of the sessions (KST = UTC+9). */
bool kis_session_open(const struct kis_session *s, size_t n, int64_t utc_ns);

/* Host error code for a KIS message code (msg_cd or error_code):
 * QTS_EAUTH (token expired/invalid: refresh and retry once),
 * QTS_ERATELIMIT (EGW00201, EGW00215, EGW00133), QTS_ENET (transient gateway
 * and queue errors), QTS_ECONFIG (key, permission, account set-up),
 * QTS_EREJECT otherwise. */
int kis_classify(const char *code);

/* "0|H0STCNT0|001|a^b^c": splits a data frame in place. Returns 0 or
 * QTS_EPARSE (also for JSON system frames). Pointers point into `frame`. */
struct kis_frame {
    bool encrypted;
    char tr_id[16];
    int count;
    char *payload; /* NUL-terminated, inside the caller's buffer */
};
int kis_frame_split(char *frame, struct kis_frame *out);
/* Splits a '^' list in place; returns the number of fields (<= max). */
size_t kis_fields_split(char *s, char **fields, size_t max);

/* AES-256-CBC with PKCS#7 padding of Base64 text; key 32 and iv 16
 * characters used as bytes. Writes NUL-terminated plaintext; returns its
 * length or QTS_EPARSE / QTS_ERANGE. */
int kis_aes_decrypt(const char *key, const char *iv, const char *b64, char *out, size_t cap);
/* The reverse (used by tests and the docs' example): Base64 text out. */
int kis_aes_encrypt(const char *key, const char *iv, const char *plain, char *out, size_t cap);

/* An execution notice (H0STCNI0 / H0STCNI9), 26 fields. */
struct kis_notice {
    char odno[16];  /* ODER_NO */
    char oodno[16]; /* OODER_NO: original order for modify/cancel */
    char symbol[16];
    uint8_t side;    /* QTS_SIDE_* */
    char rctf_cls;   /* '0' normal, '1' modify, '2' cancel */
    bool refused;    /* RFUS_YN = 1 */
    bool is_fill;    /* CNTG_YN = 2 */
    char acpt_yn;    /* '1' received, '2' confirmed, '3' cancelled (IOC/FOK) */
    int64_t qty;     /* fill: this fill's quantity; receipt: order quantity */
    int64_t px;      /* fill price (KRW) */
    int64_t ord_qty; /* ODER_QTY */
    char hhmmss[8];
};
/* Parses the decrypted field list (at least 17 fields). 0 or QTS_EPARSE. */
int kis_notice_parse(char *plain, struct kis_notice *out);

/* Decimal text (optionally zero-padded, signed, with a fraction that is
 * dropped) to an integer; QTS_EPARSE when not a number. */
int kis_atoi64(const char *s, int64_t *out);

/* KRX trade (H0STCNT0, 46 fields) and book (H0STASP0, 59 or 62 fields). */
struct kis_trade {
    char symbol[16];
    char hhmmss[8];
    char date[12]; /* BSOP_DATE, may be empty */
    int64_t px, qty;
    uint8_t aggressor; /* QTS_SIDE_*, NONE when not given */
};
int kis_trade_parse(char **f, size_t nf, struct kis_trade *out);
struct kis_book {
    char symbol[16];
    char hhmmss[8];
    int64_t ask_px[10], ask_qty[10], bid_px[10], bid_qty[10];
};
int kis_book_parse(char **f, size_t nf, struct kis_book *out);

/* UTC ns of a KST wall time: `yyyymmdd` (may be NULL or empty: the KST date
 * of `now_ns` is used) and "HHMMSS". 0 when malformed. */
int64_t kis_kst_to_utc_ns(const char *yyyymmdd, const char *hhmmss, int64_t now_ns);

#endif /* KIS_CORE_H */
