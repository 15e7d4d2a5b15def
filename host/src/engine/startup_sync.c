/* startup_sync.c — see startup_sync.h. */
#include "startup_sync.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_warm.h"
#include "clock.h"
#include "exec_pipeline.h"
#include "log.h"
#include "oms.h"
#include "util.h"

/* Start-up request ids: top bits 10, then a counter. The OMS numbers its
 * reconciliation requests from 1, far below. */
#define SYNC_REQ_TAG (UINT64_C(2) << 62)
#define SYNC_REQ_MASK (UINT64_C(3) << 62)

struct seed_req {
    uint64_t req_id;
    const char *symbol; /* borrowed from env.symbols */
    bool done;
};

struct warm_ref {
    struct qts_startup_sync *s; /* NULL once the sync is gone */
};

struct qts_startup_sync {
    struct qts_startup_env env;
    struct qts_startup_report rep;
    size_t cap_warm, cap_broker;

    /* what is still outstanding */
    bool warm_pending;
    bool recon_pending;
    uint64_t recon_orders_req, recon_positions_req;
    int recon_orders_status, recon_positions_status;
    bool recon_orders_done, recon_positions_done;
    /* answers that arrived from inside qts_exec_reconcile, before the
     * request ids could be read back */
    struct {
        uint64_t req_id;
        int status;
    } early[4];
    size_t n_early;
    struct seed_req *seeds; /* owned, env.n_symbols entries */
    size_t n_seeds_pending;
    uint64_t bp_req;
    bool bp_pending;
    uint64_t next_req;

    /* The scan's callbacks reach the sync through this, so a scan still in
     * flight when the sync is freed finds NULL (and frees the holder). */
    struct warm_ref *warm_ref;
    bool warm_retry;     /* the cache was not connected yet: try again on a tick */
    int64_t deadline_ns; /* monotonic */

    uv_timer_t timer; /* ticks every 20 ms while the sync runs */
    bool timer_open;
    bool timer_fired; /* the deadline passed */
};

bool qts_startup_sync_owns(uint64_t req_id) { return (req_id & SYNC_REQ_MASK) == SYNC_REQ_TAG; }

struct qts_startup_sync *qts_startup_sync_new(const struct qts_startup_env *env)
{
    struct qts_startup_sync *s = qts_xcalloc(1, sizeof *s);
    s->env = *env;
    s->rep.warm_status = QTS_EUNSUPPORTED;
    s->rep.recon_status = QTS_EUNSUPPORTED;
    s->rep.buying_power_status = QTS_EUNSUPPORTED;
    return s;
}

static void on_timer_closed(uv_handle_t *h)
{
    struct qts_startup_sync *s = h->data;
    s->timer_open = false;
}

void qts_startup_sync_free(struct qts_startup_sync *s)
{
    if (!s)
        return;
    if (s->warm_ref)
        s->warm_ref->s = NULL; /* the scan's done callback frees it */
    free(s->seeds);
    free(s->rep.warm);
    free(s->rep.broker);
    free(s);
}

const struct qts_startup_report *qts_startup_sync_report(const struct qts_startup_sync *s)
{
    return &s->rep;
}

static struct qts_startup_position *push_pos(struct qts_startup_position **arr, size_t *n,
                                             size_t *cap)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *arr = qts_xrealloc(*arr, *cap * sizeof **arr);
    }
    struct qts_startup_position *p = &(*arr)[(*n)++];
    memset(p, 0, sizeof *p);
    return p;
}

/* ------------------------------------------------------------ warm state */

static void warm_entry(void *arg, const char *key, const struct qts_str *fields,
                       const struct qts_str *values, size_t n)
{
    struct qts_startup_sync *s = ((struct warm_ref *)arg)->s;
    if (!s)
        return;
    char text[64];
    if (strncmp(key, "pos:", 4) == 0) {
        if (qts_cache_field_str(fields, values, n, "qty", text, sizeof text) != 0)
            return;
        char *end;
        double q = strtod(text, &end);
        if (end == text)
            return;
        struct qts_startup_position *p = push_pos(&s->rep.warm, &s->rep.n_warm, &s->cap_warm);
        qts_strlcpy(p->symbol, key + 4, sizeof p->symbol);
        p->qty_f = q;
    } else if (strncmp(key, "ord:", 4) == 0) {
        if (qts_cache_field_str(fields, values, n, "status", text, sizeof text) != 0)
            return;
        if (strcmp(text, "ACCEPTED") == 0 || strcmp(text, "REPLACED") == 0)
            s->rep.warm_open_orders++;
    }
}

static void warm_done(void *arg, int status, size_t n)
{
    struct warm_ref *ref = arg;
    struct qts_startup_sync *s = ref->s;
    free(ref);
    if (!s)
        return;
    s->warm_ref = NULL;
    s->warm_pending = false;
    s->rep.warm_status = status;
    QTS_INFO("startup: warm state from the cache status=%s hashes=%zu positions=%zu "
             "open_orders=%zu",
             qts_strerror(status), n, s->rep.n_warm, s->rep.warm_open_orders);
}

/* ----------------------------------------------------------- broker side */

void qts_startup_sync_on_position(struct qts_startup_sync *s, const struct qts_broker_position *pos)
{
    if (!s || !pos || !s->recon_pending)
        return;
    struct qts_startup_position *p = push_pos(&s->rep.broker, &s->rep.n_broker, &s->cap_broker);
    qts_strlcpy(p->symbol, pos->symbol, sizeof p->symbol);
    p->instrument = pos->instrument;
    p->qty_exp = pos->qty_exp;
    p->px_exp = pos->px_exp;
    p->qty = pos->qty;
    p->avg_px = pos->avg_px;
    p->has_exp = true;
    p->qty_f = qts_fixed_to_double(pos->qty, pos->qty_exp);
}

void qts_startup_sync_on_status(struct qts_startup_sync *s, const struct qts_exec_report *rep)
{
    if (s && rep && s->recon_pending && rep->exec_type == QTS_EXEC_STATUS)
        s->rep.broker_open_orders++;
}

void qts_startup_sync_on_buying_power(struct qts_startup_sync *s, const struct qts_buying_power *bp)
{
    if (!s || !bp || !s->bp_pending || bp->req_id != s->bp_req)
        return;
    size_t n = QTS_MIN((size_t)bp->struct_size, sizeof s->rep.buying_power);
    memset(&s->rep.buying_power, 0, sizeof s->rep.buying_power);
    memcpy(&s->rep.buying_power, bp, n);
    s->rep.buying_power.struct_size = sizeof s->rep.buying_power;
    s->rep.buying_power_status = 0;
}

static void recon_check_done(struct qts_startup_sync *s)
{
    if (!s->recon_pending || !s->recon_orders_done || !s->recon_positions_done)
        return;
    s->recon_pending = false;
    int st = s->recon_orders_status < 0 ? s->recon_orders_status : s->recon_positions_status;
    s->rep.recon_status = st;
    QTS_INFO("startup: reconciliation status=%s broker_open_orders=%zu broker_positions=%zu",
             qts_strerror(st), s->rep.broker_open_orders, s->rep.n_broker);
}

void qts_startup_sync_on_query_done(struct qts_startup_sync *s, uint64_t req_id, int status)
{
    if (!s || req_id == 0)
        return;
    if (s->recon_pending && !qts_startup_sync_owns(req_id) && s->recon_orders_req == 0 &&
        s->recon_positions_req == 0) {
        if (s->n_early < QTS_ARRAY_LEN(s->early)) {
            s->early[s->n_early].req_id = req_id;
            s->early[s->n_early++].status = status;
        }
        return;
    }
    if (s->recon_pending) {
        if (req_id == s->recon_orders_req && !s->recon_orders_done) {
            s->recon_orders_done = true;
            s->recon_orders_status = status;
        } else if (req_id == s->recon_positions_req && !s->recon_positions_done) {
            s->recon_positions_done = true;
            s->recon_positions_status = status;
        }
        recon_check_done(s);
    }
    if (!qts_startup_sync_owns(req_id))
        return;
    if (s->bp_pending && req_id == s->bp_req) {
        s->bp_pending = false;
        if (status < 0) {
            s->rep.buying_power_status = status;
            QTS_WARN("startup: buying power query failed: %s", qts_strerror(status));
        } else if (s->rep.buying_power_status != 0) {
            s->rep.buying_power_status = QTS_ENOENT; /* done without an answer */
        }
        return;
    }
    for (size_t i = 0; i < s->env.n_symbols; i++) {
        struct seed_req *r = &s->seeds[i];
        if (r->req_id != req_id || r->done)
            continue;
        r->done = true;
        s->n_seeds_pending--;
        if (status < 0) {
            s->rep.n_seed_failed++;
            QTS_WARN("startup: market snapshot of %s failed: %s", r->symbol, qts_strerror(status));
        } else {
            s->rep.n_seeded++;
        }
        return;
    }
}

/* ----------------------------------------------------------------- run */

static bool all_done(const struct qts_startup_sync *s)
{
    return !s->warm_pending && !s->recon_pending && s->n_seeds_pending == 0 && !s->bp_pending;
}

static void try_warm(struct qts_startup_sync *s);

static void on_tick(uv_timer_t *t)
{
    struct qts_startup_sync *s = t->data;
    if (qts_mono_ns() >= s->deadline_ns)
        s->timer_fired = true;
    else if (s->warm_retry)
        try_warm(s);
}

static void try_warm(struct qts_startup_sync *s)
{
    s->warm_retry = false;
    struct warm_ref *ref = qts_xcalloc(1, sizeof *ref);
    ref->s = s;
    int rc = qts_cache_warm_start(s->env.cache, s->env.cache_self, warm_entry, warm_done, ref);
    if (rc == 0) {
        if (s->warm_pending) /* still scanning (done not called yet) */
            s->warm_ref = ref;
        return;
    }
    free(ref);
    if (rc == QTS_ENET) {
        /* a networked cache connects asynchronously after start: it gets
         * until the deadline */
        s->warm_retry = true;
        s->rep.warm_status = rc;
    } else if (rc != 0) {
        s->warm_pending = false;
        s->rep.warm_status = rc;
        QTS_INFO("startup: no warm state from the cache (%s)", qts_strerror(rc));
    }
}

static void start_warm(struct qts_startup_sync *s)
{
    if (!s->env.cache)
        return;
    s->warm_pending = true;
    try_warm(s);
}

static void start_recon(struct qts_startup_sync *s)
{
    const struct qts_broker_ops *ops = s->env.broker;
    if (!ops || (!ops->query_open_orders && !ops->query_positions) || !s->env.exec)
        return;
    struct qts_oms *oms = qts_exec_oms(s->env.exec);
    s->recon_pending = true;
    /* answers may arrive from inside the query calls: the OMS registers its
     * request ids before sending, and so do we (read back right after) */
    s->recon_orders_done = s->recon_positions_done = false;
    int rc = s->env.adopt_positions ? qts_exec_reconcile_adopting(s->env.exec)
                                    : qts_exec_reconcile(s->env.exec);
    if (rc != 0) {
        s->recon_pending = false;
        s->rep.recon_status = rc;
        return;
    }
    if (!qts_oms_recon_active(oms)) { /* answered synchronously and finished */
        s->recon_pending = false;
        s->rep.recon_status = 0;
        return;
    }
    s->recon_orders_req = qts_oms_recon_orders_req(oms);
    s->recon_positions_req = qts_oms_recon_positions_req(oms);
    s->recon_orders_done = s->recon_orders_req == 0;
    s->recon_positions_done = s->recon_positions_req == 0;
    s->recon_orders_status = s->recon_positions_status = 0;
    for (size_t i = 0; i < s->n_early; i++)
        qts_startup_sync_on_query_done(s, s->early[i].req_id, s->early[i].status);
    recon_check_done(s);
}

static void start_seeds(struct qts_startup_sync *s)
{
    const struct qts_broker_ops *ops = s->env.broker;
    if (!s->env.seed_market || !QTS_HAS(ops, query_market) || s->env.n_symbols == 0)
        return;
    s->seeds = qts_xcalloc(s->env.n_symbols, sizeof *s->seeds);
    for (size_t i = 0; i < s->env.n_symbols; i++) {
        s->seeds[i].req_id = SYNC_REQ_TAG | ++s->next_req;
        s->seeds[i].symbol = s->env.symbols[i];
        s->n_seeds_pending++;
    }
    for (size_t i = 0; i < s->env.n_symbols; i++) {
        struct seed_req *r = &s->seeds[i];
        if (r->done)
            continue;
        int rc = ops->query_market(s->env.broker_self, r->symbol, r->req_id);
        if (rc < 0 && !r->done)
            qts_startup_sync_on_query_done(s, r->req_id, rc);
    }
}

static void start_buying_power(struct qts_startup_sync *s)
{
    const struct qts_broker_ops *ops = s->env.broker;
    if (!QTS_HAS(ops, query_buying_power) || s->env.n_symbols == 0)
        return;
    s->bp_req = SYNC_REQ_TAG | ++s->next_req;
    s->bp_pending = true;
    int rc = ops->query_buying_power(s->env.broker_self, s->env.symbols[0], 0, s->bp_req);
    if (rc < 0 && s->bp_pending)
        qts_startup_sync_on_query_done(s, s->bp_req, rc);
}

/* Warm state against the broker: one line per symbol whose quantities
 * differ, and the open-order counts. */
static void compare(struct qts_startup_sync *s)
{
    struct qts_startup_report *r = &s->rep;
    if (r->warm_status != 0 || r->recon_status != 0)
        return;
    for (size_t i = 0; i < r->n_warm; i++) {
        double theirs = 0;
        for (size_t j = 0; j < r->n_broker; j++)
            if (strcmp(r->broker[j].symbol, r->warm[i].symbol) == 0)
                theirs = r->broker[j].qty_f;
        if (fabs(theirs - r->warm[i].qty_f) > 1e-9 * fmax(1.0, fabs(theirs))) {
            r->n_differences++;
            QTS_WARN("startup: position of %s in the cache %.10g, at the broker %.10g "
                     "(the broker's is used)",
                     r->warm[i].symbol, r->warm[i].qty_f, theirs);
        }
    }
    for (size_t j = 0; j < r->n_broker; j++) {
        bool listed = false;
        for (size_t i = 0; i < r->n_warm && !listed; i++)
            listed = strcmp(r->broker[j].symbol, r->warm[i].symbol) == 0;
        if (!listed && r->broker[j].qty != 0) {
            r->n_differences++;
            QTS_WARN("startup: position of %s at the broker %.10g, not in the cache "
                     "(the broker's is used)",
                     r->broker[j].symbol, r->broker[j].qty_f);
        }
    }
    if (r->warm_open_orders != r->broker_open_orders) {
        r->n_differences++;
        QTS_WARN("startup: %zu open orders in the cache, %zu at the broker", r->warm_open_orders,
                 r->broker_open_orders);
    }
}

int qts_startup_sync_run(struct qts_startup_sync *s, struct qts_err *err)
{
    int64_t t0 = qts_mono_ns();
    uv_timer_init(s->env.loop, &s->timer);
    s->timer.data = s;
    s->timer_open = true;
    s->deadline_ns = t0 + (s->env.timeout_ms > 0 ? s->env.timeout_ms : 1) * 1000000LL;
    uv_timer_start(&s->timer, on_tick, 20, 20);

    start_warm(s);
    start_recon(s);
    start_seeds(s);
    start_buying_power(s);
    while (!all_done(s) && !s->timer_fired && !(s->env.stop && *s->env.stop))
        uv_run(s->env.loop, UV_RUN_ONCE);
    /* the timer lives in `s`: closed before run returns */
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
    while (s->timer_open)
        uv_run(s->env.loop, UV_RUN_ONCE);

    struct qts_startup_report *r = &s->rep;
    r->elapsed_ns = qts_mono_ns() - t0;
    if (!all_done(s)) {
        r->timed_out = true;
        if (s->recon_pending) {
            r->recon_status = QTS_ETIMEDOUT;
            /* the OMS keeps its reconciliation open: a late answer still
             * lands, and the next reconcile call reports EBUSY until then */
        }
        if (s->warm_pending && !s->warm_retry)
            r->warm_status = QTS_ETIMEDOUT; /* else stays QTS_ENET: never connected */
        r->n_seed_failed += s->n_seeds_pending;
        if (s->bp_pending)
            r->buying_power_status = QTS_ETIMEDOUT;
        QTS_WARN("startup: sync incomplete after %" PRId64 " ms (warm=%s recon=%s "
                 "seeds_pending=%zu buying_power=%s)",
                 r->elapsed_ns / 1000000, s->warm_pending ? "pending" : "done",
                 s->recon_pending ? "pending" : "done", s->n_seeds_pending,
                 s->bp_pending ? "pending" : "done");
        /* answers after this point are ignored by the sync */
        s->warm_pending = s->recon_pending = s->bp_pending = false;
        s->n_seeds_pending = 0;
    }
    compare(s);
    QTS_INFO("startup: sync done in %" PRId64 " ms recon=%s seeded=%zu/%zu buying_power=%s "
             "differences=%zu",
             r->elapsed_ns / 1000000, qts_strerror(r->recon_status), r->n_seeded, s->env.n_symbols,
             qts_strerror(r->buying_power_status), r->n_differences);
    if (s->env.require_reconcile && r->recon_status != 0 && r->recon_status != QTS_EUNSUPPORTED)
        return qts_err_set(err, r->recon_status < 0 ? r->recon_status : QTS_EUNKNOWN,
                           "startup: reconciliation with the broker did not complete (%s); "
                           "strategies are not started (startup.require_reconcile)",
                           qts_strerror(r->recon_status));
    return 0;
}

/* ----------------------------------------------------------------- JSON */

static int pos_json(char *buf, size_t cap, const struct qts_startup_position *p, size_t n)
{
    int len = snprintf(buf, cap, "[");
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)len < cap ? (size_t)len : cap;
        len += snprintf(buf + at, cap - at, "%s{\"symbol\":\"%s\",\"qty\":%.10g}", i ? "," : "",
                        p[i].symbol, p[i].qty_f);
    }
    size_t at = (size_t)len < cap ? (size_t)len : cap;
    len += snprintf(buf + at, cap - at, "]");
    return len;
}

int qts_startup_sync_json(const struct qts_startup_sync *s, char *buf, size_t cap)
{
    const struct qts_startup_report *r = &s->rep;
    char dummy[1];
    if (!buf || cap == 0) {
        buf = dummy;
        cap = sizeof dummy;
    }
    int len =
        snprintf(buf, cap,
                 "{\"elapsed_ms\":%" PRId64 ",\"timed_out\":%s,\"warm_status\":\"%s\","
                 "\"recon_status\":\"%s\",\"seeded\":%zu,\"seed_failed\":%zu,"
                 "\"warm_open_orders\":%zu,\"broker_open_orders\":%zu,\"differences\":%zu,"
                 "\"warm_positions\":",
                 r->elapsed_ns / 1000000, r->timed_out ? "true" : "false",
                 qts_err_name(r->warm_status), qts_err_name(r->recon_status), r->n_seeded,
                 r->n_seed_failed, r->warm_open_orders, r->broker_open_orders, r->n_differences);
    size_t at = (size_t)len < cap ? (size_t)len : cap;
    len += pos_json(buf + at, cap - at, r->warm, r->n_warm);
    at = (size_t)len < cap ? (size_t)len : cap;
    len += snprintf(buf + at, cap - at, ",\"broker_positions\":");
    at = (size_t)len < cap ? (size_t)len : cap;
    len += pos_json(buf + at, cap - at, r->broker, r->n_broker);
    at = (size_t)len < cap ? (size_t)len : cap;
    if (r->buying_power_status == 0)
        len += snprintf(buf + at, cap - at,
                        ",\"buying_power\":{\"symbol\":\"%s\",\"cash\":%" PRId64
                        ",\"cash_exp\":%u,\"max_qty\":%" PRId64 ",\"qty_exp\":%u}}",
                        r->buying_power.symbol, r->buying_power.cash, r->buying_power.cash_exp,
                        r->buying_power.max_qty, r->buying_power.qty_exp);
    else
        len += snprintf(buf + at, cap - at, ",\"buying_power\":null}");
    return len;
}
