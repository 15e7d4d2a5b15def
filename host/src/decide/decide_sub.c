/* decide_sub.c — see decide_sub.h. */
#include "decide_sub.h"

#include <inttypes.h>
#include <stdio.h>

#include "qts/qts_fixed.h"

static void on_market(void *self, const struct qts_bus_market *m)
{
    struct qts_decide_pub *pub = self;
    if (pub->pools) {
        qts_pools_update(pub->pools, m->ts_ns);
        if (pub->pools_updated)
            pub->pools_updated(pub->ctx, pub->pools);
    }
}

static void on_fill(void *self, const struct qts_fill *f)
{
    (void)f;
    struct qts_decide_pub *pub = self;
    if (pub->pools) {
        qts_pools_update(pub->pools, qts_clock_now(pub->clock));
        if (pub->pools_updated)
            pub->pools_updated(pub->ctx, pub->pools);
    }
}

int qts_decide_json(const struct qts_decide_pub *pub, char *buf, size_t cap)
{
    struct qts_decide_stats s = {0};
    if (pub->decide)
        qts_decide_get_stats(pub->decide, &s);
    double unit = (double)qts_pow10_i64[QTS_CASH_EXP];
    int n = snprintf(buf, cap,
                     "{\"intents\":%" PRIu64 ",\"passed\":%" PRIu64 ",\"netted\":%" PRIu64
                     ",\"internal_fills\":%" PRIu64 ",\"dropped\":%" PRIu64
                     ",\"conflicts\":%" PRIu64 ",\"shrunk\":%" PRIu64 ",\"refused\":%" PRIu64
                     ",\"crossed_notional\":%.2f,\"fees_saved\":%.2f,\"impact_saved\":%.2f,"
                     "\"state\":",
                     s.intents, s.passed, s.netted, s.crosses, s.dropped, s.conflicts, s.shrunk,
                     s.refused, (double)s.cross_notional / unit, (double)s.fees_saved / unit,
                     (double)s.impact_saved / unit);
    size_t used = (size_t)n < cap ? (size_t)n : cap;
    if (pub->pools)
        n += qts_pools_json(pub->pools, buf + used, cap - used);
    else
        n += snprintf(buf + used, cap - used, "null");
    used = (size_t)n < cap ? (size_t)n : cap;
    n += snprintf(buf + used, cap - used, ",\"cycles\":");
    used = (size_t)n < cap ? (size_t)n : cap;
    n += qts_cycles_json(pub->cycles, buf + used, cap - used);
    used = (size_t)n < cap ? (size_t)n : cap;
    n += snprintf(buf + used, cap - used, "}");
    return n;
}

static int on_run_end(void *self, const struct qts_run_end *end, struct qts_err *err)
{
    struct qts_decide_pub *pub = self;
    if (!pub->decide)
        return 0;
    qts_cycles_flush(pub->cycles);
    char buf[4096], path[1100];
    int n = qts_decide_json(pub, buf, sizeof buf);
    snprintf(path, sizeof path, "%s/decide.json", end->run_dir);
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%.*s\n", n, buf) < 0 || fclose(f) != 0)
        return qts_err_set(err, QTS_EIO, "cannot write %s", path);
    return 0;
}

struct qts_bus_sub qts_decide_sub(struct qts_decide_pub *pub)
{
    return (struct qts_bus_sub){.name = "decide",
                                .on_market = on_market,
                                .on_fill = on_fill,
                                .on_run_end = on_run_end,
                                .self = pub};
}
