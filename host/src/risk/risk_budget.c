/* risk_budget.c — see risk_budget.h. */
#include "risk_budget.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct qts_risk_budget {
    const struct qts_cache_ops *ops;
    void *self;
    char key[256];
    struct qts_risk_budget_cfg cfg;
    int64_t leased, used;
    int64_t topup_amount; /* in flight, 0 = none */
    int in_flight;        /* budget calls whose callback is pending */
    bool is_reachable, is_exhausted, is_closed, logged_unreachable;
    struct qts_risk_budget_stats st;
};

static void maybe_free(struct qts_risk_budget *b)
{
    if (b->is_closed && b->in_flight == 0)
        free(b);
}

static bool transport_error(int status) { return status != 0 && status != QTS_EREJECT; }

static void set_reachable(struct qts_risk_budget *b, bool ok)
{
    if (!ok && b->is_reachable && !b->logged_unreachable) {
        b->logged_unreachable = true;
        QTS_WARN("risk budget unreachable key=%s policy=%s leased=%" PRId64, b->key,
                 b->cfg.policy == QTS_BUDGET_REFUSE ? "refuse" : "local_share", b->leased);
    } else if (ok && !b->is_reachable && b->logged_unreachable) {
        b->logged_unreachable = false;
        QTS_INFO("risk budget reachable again key=%s", b->key);
    }
    b->is_reachable = ok;
}

static void request_topup(struct qts_risk_budget *b, int64_t amount);

static void ignore_answer(void *arg, int status, int64_t used_total)
{
    (void)arg;
    (void)status;
    (void)used_total;
}

static void on_topup(void *arg, int status, int64_t used_total)
{
    struct qts_risk_budget *b = arg;
    int64_t asked = b->topup_amount;
    b->topup_amount = 0;
    b->in_flight--;
    if (b->is_closed) {
        if (status == 0) /* granted after close: give it straight back */
            b->ops->budget(b->self, (struct qts_str){b->key, strlen(b->key)}, -asked, b->cfg.limit,
                           b->cfg.ttl_ms, ignore_answer, NULL);
        maybe_free(b);
        return;
    }
    set_reachable(b, !transport_error(status));
    if (status == 0) {
        b->leased += asked;
        b->st.topups++;
        b->is_exhausted = false;
    } else if (status == QTS_EREJECT) {
        b->st.topup_failures++;
        int64_t left = b->cfg.limit - used_total;
        /* the counter has less than a chunk left: take what remains once */
        if (left > 0 && left < asked)
            request_topup(b, left);
        else
            b->is_exhausted = true;
    } else {
        b->st.topup_failures++;
    }
}

static void request_topup(struct qts_risk_budget *b, int64_t amount)
{
    if (b->topup_amount || b->is_closed || amount <= 0)
        return;
    b->topup_amount = amount;
    b->in_flight++;
    int rc = b->ops->budget(b->self, (struct qts_str){b->key, strlen(b->key)}, amount, b->cfg.limit,
                            b->cfg.ttl_ms, on_topup, b);
    if (rc < 0) { /* not sent: the callback will not run */
        b->in_flight--;
        b->topup_amount = 0;
        b->st.topup_failures++;
        set_reachable(b, false);
    }
}

static void on_release(void *arg, int status, int64_t used_total)
{
    (void)used_total;
    struct qts_risk_budget *b = arg;
    b->in_flight--;
    if (!b->is_closed)
        set_reachable(b, !transport_error(status));
    maybe_free(b);
}

static void release(struct qts_risk_budget *b, int64_t amount)
{
    if (amount <= 0)
        return;
    /* off the lease first: what is being released can no longer be used.
     * If the release is lost the counter stays high: unused, never over. */
    b->leased -= amount;
    b->st.releases++;
    b->in_flight++;
    if (b->ops->budget(b->self, (struct qts_str){b->key, strlen(b->key)}, -amount, b->cfg.limit,
                       b->cfg.ttl_ms, on_release, b) < 0)
        b->in_flight--;
}

int qts_risk_budget_new(const struct qts_cache_ops *ops, void *self,
                        const struct qts_risk_budget_cfg *cfg, struct qts_risk_budget **out,
                        struct qts_err *err)
{
    if (!ops || !cfg || !out || !cfg->key || !cfg->key[0])
        return qts_err_set(err, QTS_EINVAL, "risk budget: missing argument");
    if (!QTS_HAS(ops, budget))
        return qts_err_set(err, QTS_EUNSUPPORTED, "risk budget: cache plugin has no budget op");
    if (cfg->limit <= 0 || cfg->chunk < 0 || cfg->ttl_ms < 0)
        return qts_err_set(err, QTS_ECONFIG, "risk budget: limit must be > 0");
    if (cfg->policy == QTS_BUDGET_LOCAL_SHARE && !(cfg->local_share > 0 && cfg->local_share <= 1))
        return qts_err_set(err, QTS_ECONFIG, "risk budget: local_share must be in (0, 1]");
    if (strlen(cfg->key) >= 256)
        return qts_err_set(err, QTS_ECONFIG, "risk budget: key too long");
    struct qts_risk_budget *b = qts_xcalloc(1, sizeof *b);
    b->ops = ops;
    b->self = self;
    b->cfg = *cfg;
    qts_strlcpy(b->key, cfg->key, sizeof b->key);
    b->cfg.key = b->key;
    if (!b->cfg.chunk)
        b->cfg.chunk = QTS_MAX(cfg->limit / 10, 1);
    b->is_reachable = true;
    request_topup(b, b->cfg.chunk);
    *out = b;
    return 0;
}

void qts_risk_budget_free(struct qts_risk_budget *b)
{
    if (!b)
        return;
    int64_t unused = b->leased - b->used;
    if (b->used > b->leased)
        unused = 0;
    release(b, unused);
    b->is_closed = true;
    maybe_free(b);
}

int qts_risk_budget_consume(struct qts_risk_budget *b, int64_t amount, struct qts_err *err)
{
    if (amount <= 0)
        return 0;
    int64_t after = b->used + amount;
    if (after <= b->leased) {
        b->used = after;
        b->st.granted++;
        /* keep half a chunk of headroom ahead of the next check */
        if (b->leased - b->used < b->cfg.chunk / 2 && !b->is_exhausted)
            request_topup(b, b->cfg.chunk);
        return 0;
    }
    if (!b->is_reachable && b->cfg.policy == QTS_BUDGET_LOCAL_SHARE) {
        int64_t share = (int64_t)((double)b->cfg.limit * b->cfg.local_share);
        if (after <= QTS_MAX(share, b->leased)) {
            b->used = after;
            b->st.granted++;
            request_topup(b, QTS_MAX(b->cfg.chunk, after - b->leased)); /* probe */
            return 0;
        }
    }
    b->st.refused++;
    /* ask for enough to cover this and a chunk more; the next check may
     * pass. While unreachable this is also the probe that notices Redis is
     * back (a refused call costs nothing). */
    request_topup(b, QTS_MAX(b->cfg.chunk, after - b->leased));
    if (!b->is_reachable)
        return qts_err_set(err, QTS_ERISK, "cross-host budget unreachable: %s",
                           b->cfg.policy == QTS_BUDGET_REFUSE ? "refusing new risk"
                                                              : "local share used up");
    return qts_err_set(err, QTS_ERISK,
                       "cross-host budget: %" PRId64 " + %" PRId64 " over the lease %" PRId64
                       " (limit %" PRId64 ")",
                       b->used, amount, b->leased, b->cfg.limit);
}

void qts_risk_budget_return(struct qts_risk_budget *b, int64_t amount)
{
    if (amount <= 0)
        return;
    b->used -= amount;
    if (b->used < 0)
        b->used = 0;
    int64_t spare = b->leased - b->used;
    if (spare > 2 * b->cfg.chunk && b->is_reachable)
        release(b, spare - b->cfg.chunk);
}

void qts_risk_budget_stats(const struct qts_risk_budget *b, struct qts_risk_budget_stats *out)
{
    *out = b->st;
    out->leased = b->leased;
    out->used = b->used;
    out->is_reachable = b->is_reachable;
    out->is_exhausted = b->is_exhausted;
}

void qts_risk_budget_set_target(struct qts_risk_budget *b, const struct qts_cache_ops *ops,
                                void *self)
{
    /* the lease lives in the shared counter, not in the plugin: keep it */
    b->ops = ops;
    b->self = self;
}
