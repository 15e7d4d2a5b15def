/* fuzz_admin_request.c — one request line of the admin socket, parsed and
 * answered as the server does (qts_admin_handle_line and json.c), with
 * handlers that echo what they were handed. */
#include "admin_socket.h"
#include "fuzz_util.h"

static int h_status(void *ctx, char *out, size_t cap)
{
    snprintf(out, cap, "{\"state\":\"RUNNING\"}");
    return 0;
}

static int h_kill(void *ctx, const char *who, const char *reason, char *out, size_t cap)
{
    char w[256], r[256];
    qts_json_escape(w, sizeof w, who);
    qts_json_escape(r, sizeof r, reason);
    snprintf(out, cap, "{\"by\":\"%s\",\"reason\":\"%s\"}", w, r);
    return 0;
}

static int h_resume(void *ctx, const char *who, const char *reason, char *out, size_t cap)
{
    snprintf(out, cap, "cannot resume: %s", reason);
    return QTS_EINVAL;
}

static int h_reload(void *ctx, const char *what, char *out, size_t cap)
{
    char w[128];
    qts_json_escape(w, sizeof w, what);
    snprintf(out, cap, "{\"reloaded\":\"%s\"}", w);
    return 0;
}

static int h_subscribe(void *ctx, const char *symbol, bool on, char *out, size_t cap)
{
    char s[128];
    qts_json_escape(s, sizeof s, symbol);
    snprintf(out, cap, "{\"symbol\":\"%s\",\"on\":%s}", s, on ? "true" : "false");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the server cuts lines at QTS_ADMIN_LINE_MAX and at the newline */
    if (size >= QTS_ADMIN_LINE_MAX)
        size = QTS_ADMIN_LINE_MAX - 1;
    const uint8_t *nl = memchr(data, '\n', size);
    if (nl)
        size = (size_t)(nl - data);
    char *line = fuzz_strdup(data, size);
    static const struct qts_admin_handlers h = {.status = h_status,
                                                .kill = h_kill,
                                                .resume = h_resume,
                                                .reload = h_reload,
                                                .subscribe = h_subscribe};
    char *out = malloc(QTS_ADMIN_REPLY_MAX);
    if (!out)
        abort();
    qts_admin_handle_line(&h, "alice (uid 1000 alice)", line, out, QTS_ADMIN_REPLY_MAX);
    /* the helpers on their own, with small output buffers */
    char v[16];
    bool b;
    qts_json_get_str(line, "cmd", v, sizeof v);
    qts_json_get_str(line, "reason", v, 1);
    qts_json_get_bool(line, "approve", &b);
    char esc[32];
    qts_json_escape(esc, sizeof esc, line);
    free(out);
    free(line);
    return 0;
}
