/* alerts.h — messages to operators: Telegram (Bot API sendMessage) and a
 * generic webhook (a JSON POST), over the host's asynchronous HTTP client.
 *
 * Alerts are queued and sent in batches: the first goes at once, the next
 * ones wait until min_interval_ms has passed since the last send and then
 * leave together as one message, so a storm of events is a few messages.
 * A queue over 50 alerts keeps the newest and counts the dropped. The bot
 * token is read from the secrets (secrets.h) by the caller and never
 * written to a log: send failures are logged with the channel's name and
 * the HTTP status only.
 */
#ifndef QTS_ALERTS_H
#define QTS_ALERTS_H

#include <stdint.h>
#include <uv.h>

#include "http_client.h"
#include "qts/qts_err.h"
#include "util.h"

struct qts_alerts; /* opaque */

struct qts_alerts_opts {
    const char *host_id;        /* borrowed for the call: named in every message */
    const char *telegram_api;   /* "https://api.telegram.org"; borrowed for the call */
    const char *telegram_token; /* NULL/"" = no Telegram; copied, never logged */
    const char *telegram_chat;  /* chat id; copied */
    const char *webhook_url;    /* NULL/"" = no webhook; copied */
    int64_t min_interval_ms;    /* batching window */
};

/* loop and http borrowed: outlive the alerts. *out owned: qts_alerts_free.
 * QTS_EINVAL when no channel is configured. */
int qts_alerts_new(uv_loop_t *loop, struct qts_http_client *http, const struct qts_alerts_opts *o,
                   struct qts_alerts **out, struct qts_err *err);

/* Queue one alert (formatted; kind a short literal: "safety", "kill",
 * "store", "rejects", "daily"). Loop thread. */
void qts_alerts_post(struct qts_alerts *a, const char *kind, const char *fmt, ...)
    QTS_PRINTF(3, 4);

/* Send what is queued now, whatever the window. */
void qts_alerts_flush(struct qts_alerts *a);

/* Requests sent and not answered yet. */
unsigned qts_alerts_in_flight(const struct qts_alerts *a);

/* Stop the timer (the loop must run once to close it); queued alerts are
 * dropped (flush first to send them). NULL is a no-op. */
void qts_alerts_free(struct qts_alerts *a);

#endif /* QTS_ALERTS_H */
