/* fuzz_kis_frame.c — one KIS WebSocket text frame through the broker_kis
 * parsers in the order its frame handler (kis_stream.c) runs them: JSON
 * system frames through jansson; data frames "enc|tr_id|count|payload"
 * split, decrypted with the session key when encrypted, then parsed as an
 * execution notice, or split into '^' fields and parsed as `count` trades
 * or books, with their KST times converted. */
#include <jansson.h>

#include "fuzz_util.h"
#include "kis_core.h"

static const char key[] = "0123456789abcdef0123456789abcdef";
static const char iv[] = "0123456789abcdef";
#define MAX_FIELDS 4096

static void records(const char *tr_id, char *payload, int count)
{
    char **f = malloc(sizeof *f * MAX_FIELDS);
    if (!f)
        abort();
    size_t nf = kis_fields_split(payload, f, MAX_FIELDS);
    size_t per = count > 1 ? nf / (size_t)count : nf;
    const int64_t now = 1700000000000000000LL;
    if (strcmp(tr_id, "H0STCNT0") == 0) {
        for (int c = 0; c < count && per >= 22; c++) {
            struct kis_trade t;
            if (kis_trade_parse(f + (size_t)c * per, per, &t) == 0)
                kis_kst_to_utc_ns(t.date, t.hhmmss, now);
        }
    } else if (strcmp(tr_id, "H0STASP0") == 0) {
        for (int c = 0; c < count && per >= 43; c++) {
            struct kis_book b;
            if (kis_book_parse(f + (size_t)c * per, per, &b) == 0)
                kis_kst_to_utc_ns(NULL, b.hhmmss, now);
        }
    }
    free(f);
}

static void system_frame(const char *text)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!o)
        return;
    json_t *body = json_object_get(o, "body");
    json_t *code = json_object_get(body, "msg_cd");
    if (json_is_string(code))
        kis_classify(json_string_value(code));
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strdup(data, size);
    if (text[0] == '{') {
        system_frame(text);
        free(text);
        return 0;
    }
    struct kis_frame fr;
    if (kis_frame_split(text, &fr) == 0) {
        char *payload = fr.payload, *plain = NULL;
        if (fr.encrypted) {
            size_t cap = strlen(fr.payload) + 16;
            plain = malloc(cap);
            if (!plain)
                abort();
            if (kis_aes_decrypt(key, iv, fr.payload, plain, cap) < 0) {
                free(plain);
                free(text);
                return 0;
            }
            payload = plain;
        }
        if (strcmp(fr.tr_id, "H0STCNI0") == 0 || strcmp(fr.tr_id, "H0STCNI9") == 0) {
            struct kis_notice n;
            if (kis_notice_parse(payload, &n) == 0)
                kis_kst_to_utc_ns(NULL, n.hhmmss, 1700000000000000000LL);
        } else {
            records(fr.tr_id, payload, fr.count);
        }
        free(plain);
    }
    free(text);
    return 0;
}
