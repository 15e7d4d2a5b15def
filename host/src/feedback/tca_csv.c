/* tca_csv.c — see tca_csv.h. */
#include "tca_csv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

int qts_tca_mkdir_parents(const char *path)
{
    char buf[1024];
    if (qts_strlcpy(buf, path, sizeof buf) >= sizeof buf)
        return QTS_EINVAL;
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return QTS_EIO;
            *p = '/';
        }
    }
    return 0;
}

static void cnum(FILE *f, double v, int prec)
{
    if (isfinite(v))
        fprintf(f, ",%.*f", prec, v);
    else
        fputs(",", f);
}

static const char *kind_name(int k)
{
    static const char *const n[] = {"",        "accepted", "rejected", "cancelled", "complete",
                                    "escaped", "failed",   "expired",  "replaced"};
    return k >= 0 && k < 9 ? n[k] : "?";
}

static void row_line(FILE *f, const struct qts_tca_row *r)
{
    char tag[QTS_TAG_MAX];
    size_t k = 0;
    for (const char *c = r->tag; *c && k + 1 < sizeof tag; c++)
        tag[k++] = (*c == ',' || *c == '\n' || *c == '"') ? '_' : *c;
    tag[k] = '\0';
    fprintf(f, "%" PRIu64 ",%" PRIu32 ",%s,%s,%s,%s,%d,%s,%d", r->order_id, r->strategy_id,
            r->symbol, tag, r->side == QTS_SIDE_SELL ? "sell" : "buy",
            r->type == QTS_ORD_MARKET ? "market"
            : r->type == QTS_ORD_STOP ? "stop"
                                      : "limit",
            (int)r->algo, kind_name(r->final_kind), r->aggressive ? 1 : 0);
    cnum(f, r->qty_asked, 8);
    cnum(f, r->qty_filled, 8);
    cnum(f, r->decision_px, 8);
    cnum(f, r->arrival_px, 8);
    cnum(f, r->avg_fill_px, 8);
    fprintf(f, ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64, r->ts_decision_ns, r->ts_sent_ns,
            r->ts_first_fill_ns, r->ts_end_ns);
    cnum(f, r->slip_decision_bps, 6);
    cnum(f, r->slip_arrival_bps, 6);
    cnum(f, r->lat_first_ms, 3);
    cnum(f, r->lat_complete_ms, 3);
    cnum(f, r->avg_fill_latency_ms, 3);
    cnum(f, r->fill_ratio, 6);
    fprintf(f, ",%" PRIu32 ",%" PRIu32 ",%" PRIu32, r->n_children, r->n_reprices, r->n_fills);
    for (int m = 0; m < QTS_TCA_MARKOUTS; m++)
        cnum(f, r->markout_bps[m], 6);
    cnum(f, r->spread_bps, 6);
    cnum(f, r->volatility, 8);
    cnum(f, r->depth, 8);
    cnum(f, r->recent_volume, 8);
    cnum(f, r->participation, 8);
    cnum(f, r->dist_ticks, 3);
    cnum(f, r->pred_slip_bps, 6);
    cnum(f, r->pred_impact_bps, 6);
    fprintf(f, ",%d", r->pred_default ? 1 : 0);
    cnum(f, r->realized_impact_bps, 6);
    cnum(f, r->quality, 6);
    fprintf(f, ",%d", r->score_version);
    cnum(f, r->tick, 10);
    fputc('\n', f);
}

/* The first write error is kept; later rows are dropped (not retried). */
static void fail(struct qts_tca_csv *c, const char *what)
{
    if (c->err)
        return;
    c->err = QTS_EIO;
    snprintf(c->msg, sizeof c->msg, "cannot write %s: %s", what, strerror(errno));
    QTS_ERROR("tca: %s", c->msg);
}

/* <path>.tmp opened (and its header written) on the first row, so a run
 * that never makes a row creates no directory before its end. */
static bool ready(struct qts_tca_csv *c)
{
    if (!c->on || c->err)
        return false;
    if (c->f)
        return true;
    if (qts_tca_mkdir_parents(c->tmp) != 0 || !(c->f = fopen(c->tmp, "w"))) {
        fail(c, c->tmp);
        return false;
    }
    fputs("order_id,strategy_id,symbol,tag,side,type,algo,final,aggressive,qty_asked,qty_filled,"
          "decision_px,arrival_px,avg_fill_px,ts_decision_ns,ts_sent_ns,ts_first_fill_ns,"
          "ts_end_ns,slip_decision_bps,slip_arrival_bps,lat_first_ms,lat_complete_ms,"
          "avg_fill_latency_ms,fill_ratio,children,reprices,fills,markout_1s_bps,"
          "markout_10s_bps,markout_60s_bps,spread_bps,volatility,depth,recent_volume,"
          "participation,dist_ticks,pred_slip_bps,pred_impact_bps,pred_default,"
          "realized_impact_bps,quality,score_version,tick\n",
          c->f);
    return true;
}

int qts_tca_csv_open(struct qts_tca_csv *c, const char *path, struct qts_err *err)
{
    if (c->on)
        return qts_err_set(err, QTS_ESTATE, "tca: rows already go to %s", c->path);
    if (strlen(path) + 5 > sizeof c->path)
        return qts_err_set(err, QTS_EINVAL, "tca: path too long: %s", path);
    memset(c, 0, sizeof *c);
    qts_strlcpy(c->path, path, sizeof c->path);
    snprintf(c->tmp, sizeof c->tmp, "%s.tmp", path);
    c->on = true;
    return 0;
}

bool qts_tca_csv_put(struct qts_tca_csv *c, const struct qts_tca_row *r)
{
    if (!ready(c))
        return false;
    row_line(c->f, r);
    return true;
}

void qts_tca_csv_sync(struct qts_tca_csv *c)
{
    if (c->f && (fflush(c->f) != 0 || ferror(c->f)))
        fail(c, c->tmp);
}

int qts_tca_csv_close(struct qts_tca_csv *c, struct qts_err *err)
{
    if (!c->on)
        return 0;
    ready(c); /* a run without a row still gets the header */
    if (c->f) {
        bool bad = ferror(c->f) != 0;
        if (fclose(c->f) != 0 || bad)
            fail(c, c->tmp);
        c->f = NULL;
        if (!c->err && rename(c->tmp, c->path) != 0)
            fail(c, c->path);
        if (c->err)
            remove(c->tmp);
    }
    c->on = false;
    return c->err ? qts_err_set(err, c->err, "%s", c->msg) : 0;
}

void qts_tca_csv_discard(struct qts_tca_csv *c)
{
    if (c->f) {
        fclose(c->f);
        remove(c->tmp);
        c->f = NULL;
    }
    c->on = false;
}
