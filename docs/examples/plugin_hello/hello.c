/* hello.c — a minimal qts feed plugin, built out of tree:
 *
 *   cc $(pkg-config --cflags qts-plugin) -std=c11 -shared -o hello.so hello.c
 *
 * It emits one trade per poll (the host pulls feeds that have poll, in
 * every mode, and refuses an event that is not due yet at its pace), counts
 * them in a metric and hands its sequence number over on reload.
 */
#include <string.h>

#include <qts/qts_plugin.h>

struct hello {
    const struct qts_host_api *host; /* borrowed until destroy returns */
    void *owner;                     /* pass back on every host call */
    int64_t px;
    uint64_t next_id;
};

static int hello_init(const struct qts_host_api *host, void *owner, void **self,
                      struct qts_err *err)
{
    struct hello *h = host->alloc(owner, sizeof *h);
    memset(h, 0, sizeof *h);
    h->host = host;
    h->owner = owner;
    h->next_id = 1;
    h->px = 100;
    int rc = host->cfg_int(owner, "price", &h->px, err);
    if (rc != 0 && rc != QTS_ENOENT) { /* absent is fine, a wrong type is not */
        host->free(owner, h);
        return rc;
    }
    *self = h;
    return 0;
}

static int hello_start(void *self, struct qts_err *err)
{
    struct hello *h = self;
    (void)err;
    h->host->log(h->owner, QTS_LOG_INFO, "hello started price=%lld", (long long)h->px);
    return 0;
}

static int hello_stop(void *self)
{
    (void)self;
    return 0; /* nothing in flight: drained */
}

static void hello_destroy(void *self)
{
    struct hello *h = self;
    h->host->free(h->owner, h);
}

static int hello_export(void *self, struct qts_buf *out)
{
    struct hello *h = self;
    return out->append(out, &h->next_id, sizeof h->next_id);
}

static int hello_import(void *self, const void *p, size_t n)
{
    struct hello *h = self;
    if (n != sizeof h->next_id)
        return QTS_EPARSE;
    memcpy(&h->next_id, p, n);
    return 0;
}

static int hello_poll(void *self, uint32_t max_events)
{
    struct hello *h = self;
    if (max_events == 0)
        return 0;
    struct qts_trade t;
    memset(&t, 0, sizeof t);
    t.h.struct_size = sizeof t;
    t.h.type = QTS_EV_TRADE;
    t.h.ts_exch_ns = h->host->now_ns(h->owner);
    t.px = h->px;
    t.qty = 1;
    t.trade_id = h->next_id;
    int rc = h->host->emit_trade(h->owner, &t);
    if (rc == QTS_EAGAIN)
        return 0; /* not due yet at the host's pace: offered again next poll */
    if (rc != 0)
        return rc;
    h->next_id++;
    h->host->metric_add(h->owner, "trades", 1);
    return 1;
}

static const struct qts_feed_ops hello_ops = {.struct_size = sizeof(struct qts_feed_ops),
                                              .poll = hello_poll};

/* Every key of config: the host accepts for this plugin; a typo is an
 * error at the key's file:line:col before hello_init runs. */
static const struct qts_cfg_key hello_keys[] = {
    QTS_CFG_INT("price", "100", "price of every trade, fixed-point (the instrument's px_exp)"),
    QTS_CFG_END};

QTS_PLUGIN_DEFINE("feed_hello", QTS_KIND_FEED, "0.1.0", &hello_ops, hello_keys, QTS_CAP_STATE_XFER,
                  .init = hello_init, .start = hello_start, .stop = hello_stop,
                  .destroy = hello_destroy, .export_state = hello_export,
                  .import_state = hello_import);
