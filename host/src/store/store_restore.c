/* store_restore.c — reading the previous run's state and warm-up bars back
 * from the store at start (store_restore.h). */
#include "store_restore.h"

#include <stdlib.h>
#include <string.h>

#include "bar_history.h"
#include "instruments.h"
#include "store_writer.h" /* struct qts_store_port */
#include "util.h"

#define NS_PER_DAY 86400000000000LL

/* ------------------------------------------------------------- lineage */

struct lineage {
    const struct qts_store_restore_opts *o;
    struct qts_store_restore *out;
};

/* Runs arrive newest first: the first of this host and mode that is not
 * this run is the one to continue. */
static int on_run(void *arg, const struct qts_store_record *rec)
{
    struct lineage *l = arg;
    if (rec->kind != QTS_REC_RUN || l->out->from_run[0])
        return 0; /* (a callback's stop code would read as an SQLite error) */
    const struct qts_store_run *r = (const struct qts_store_run *)rec;
    if (strcmp(r->host_id, l->o->host_id) != 0 || strcmp(r->mode, l->o->mode) != 0 ||
        strcmp(r->run_id, l->o->run_id) == 0)
        return 0;
    qts_strlcpy(l->out->from_run, r->run_id, sizeof l->out->from_run);
    qts_strlcpy(l->out->from_status, r->status, sizeof l->out->from_status);
    return 0;
}

static int find_lineage(const struct qts_store_port *port, const struct qts_store_restore_opts *o,
                        struct qts_store_restore *out, struct qts_err *err)
{
    if (strcmp(o->mode, "replay") == 0) {
        qts_strlcpy(out->why, "a replay takes its state from its data", sizeof out->why);
        return 0;
    }
    if (!port->ops->query || !port->ops->load_state) {
        qts_strlcpy(out->why, "the store plugin cannot read back", sizeof out->why);
        return 0;
    }
    struct qts_store_query q = {
        .struct_size = sizeof q, .kind = QTS_Q_RUNS, .from_ns = 0, .to_ns = o->now_ns + NS_PER_DAY};
    struct lineage l = {o, out};
    int rc = port->ops->query(port->self, &q, on_run, &l, err);
    if (rc < 0) {
        snprintf(out->why, sizeof out->why, "runs not readable: %s", err->msg);
        return rc;
    }
    if (!out->from_run[0])
        snprintf(out->why, sizeof out->why, "no earlier %s run of host %s in the store", o->mode,
                 o->host_id);
    return 0;
}

/* ------------------------------------------------------------- state */

static int on_state(void *arg, const struct qts_store_record *rec)
{
    struct qts_store_restore *out = arg;
    switch (rec->kind) {
    case QTS_REC_POSITION: {
        const struct qts_store_position *p = (const struct qts_store_position *)rec;
        if (p->qty == 0 || p->qty == QTS_STORE_NULL)
            return 0; /* a closed position */
        out->pos = qts_xrealloc(out->pos, (out->n_pos + 1) * sizeof *out->pos);
        struct qts_store_restored_pos *d = &out->pos[out->n_pos++];
        memset(d, 0, sizeof *d);
        qts_strlcpy(d->symbol, p->symbol, sizeof d->symbol);
        qts_strlcpy(d->strategy_type, p->strategy_type[0] ? p->strategy_type : "NET",
                    sizeof d->strategy_type);
        d->qty = p->qty;
        d->avg_px = p->avg_px == QTS_STORE_NULL ? 0 : p->avg_px;
        return 0;
    }
    case QTS_REC_ORDER: out->n_working_orders++; return 0;
    case QTS_REC_PARAM: {
        const struct qts_store_param *p = (const struct qts_store_param *)rec;
        out->params = qts_xrealloc(out->params, (out->n_params + 1) * sizeof *out->params);
        struct qts_store_restored_param *d = &out->params[out->n_params++];
        qts_strlcpy(d->strategy, p->strategy_id, sizeof d->strategy);
        qts_strlcpy(d->name, p->param_name, sizeof d->name);
        qts_strlcpy(d->value, p->value, sizeof d->value);
        return 0;
    }
    case QTS_REC_RISK_CONFIG: out->n_risk++; return 0;
    default: return 0; /* feedback aggregates: the feedback subsystem's, not read here */
    }
}

/* ------------------------------------------------------------- history */

struct bars_acc {
    struct qts_bar *v; /* owned by the caller */
    size_t n, cap;
    const struct qts_instrument *inst;
};

static int on_bar(void *arg, const struct qts_store_record *rec)
{
    struct bars_acc *a = arg;
    if (rec->kind != QTS_REC_BAR || a->n == a->cap)
        return 0;
    const struct qts_store_bar *b = (const struct qts_store_bar *)rec;
    struct qts_bar *d = &a->v[a->n++];
    memset(d, 0, sizeof *d);
    d->h.struct_size = sizeof *d;
    d->h.type = QTS_EV_BAR;
    d->h.instrument = a->inst->id;
    d->h.px_exp = a->inst->px_exp;
    d->h.qty_exp = a->inst->qty_exp;
    d->h.ts_exch_ns = d->h.ts_recv_ns = b->h.ts_ns;
    d->period_ns = b->period_ns;
    d->open = b->open;
    d->high = b->high;
    d->low = b->low;
    d->close = b->close;
    d->volume = b->volume == QTS_STORE_NULL ? 0 : b->volume;
    d->n_trades = b->n_trades;
    return 0;
}

static int read_history(const struct qts_store_port *port, const struct qts_store_restore_opts *o,
                        struct qts_store_restore *out, struct qts_err *err)
{
    if (!o->history || o->history_bars == 0 || !port->ops->query)
        return 0;
    static const uint32_t kinds[2] = {QTS_Q_BARS_1M_LAST, QTS_Q_BARS_1D_LAST};
    static const int64_t periods[2] = {60000000000LL, NS_PER_DAY};
    struct bars_acc a = {.v = qts_xcalloc(o->history_bars, sizeof(struct qts_bar)),
                         .cap = o->history_bars};
    int rc = 0;
    size_t n_inst = qts_instruments_count(o->instruments);
    for (size_t i = 0; i < n_inst && rc == 0; i++) {
        a.inst = qts_instruments_get(o->instruments, (uint32_t)i);
        for (int k = 0; k < 2 && rc == 0; k++) {
            struct qts_store_query q = {.struct_size = sizeof q,
                                        .kind = kinds[k],
                                        .from_ns = 0,
                                        .to_ns = o->now_ns,
                                        .limit = o->history_bars,
                                        .px_exp = a.inst->px_exp,
                                        .qty_exp = a.inst->qty_exp};
            qts_strlcpy(q.symbol, a.inst->symbol, sizeof q.symbol);
            a.n = 0;
            rc = port->ops->query(port->self, &q, on_bar, &a, err);
            if (rc < 0)
                break;
            /* newest first from the store; the history keeps oldest first */
            for (size_t x = 0, y = a.n ? a.n - 1 : 0; x < y; x++, y--) {
                struct qts_bar t = a.v[x];
                a.v[x] = a.v[y];
                a.v[y] = t;
            }
            qts_bar_history_put(o->history, a.inst->symbol, periods[k], a.v, a.n);
            out->history_bars += a.n;
        }
    }
    free(a.v);
    if (rc < 0 && !out->why[0])
        snprintf(out->why, sizeof out->why, "bars not readable: %s", err->msg);
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------- entry */

int qts_store_restore_read(const struct qts_store_port *port,
                           const struct qts_store_restore_opts *o, struct qts_store_restore *out,
                           struct qts_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    if (!o->restore)
        qts_strlcpy(out->why, "store.restore is off", sizeof out->why);
    else
        rc = find_lineage(port, o, out, err);
    if (rc == 0 && out->from_run[0]) {
        struct qts_store_load_opts lo = {.struct_size = sizeof lo,
                                         .px_exp = QTS_STORE_RESTORE_EXP,
                                         .qty_exp = QTS_STORE_RESTORE_EXP,
                                         .now_ns = o->now_ns};
        qts_strlcpy(lo.run_id, out->from_run, sizeof lo.run_id);
        rc = port->ops->load_state(port->self, &lo, on_state, out, err);
        if (rc < 0) {
            snprintf(out->why, sizeof out->why, "state of run %s not readable: %s", out->from_run,
                     err->msg);
            out->from_run[0] = '\0';
            out->n_pos = out->n_params = out->n_working_orders = out->n_risk = 0;
        }
    }
    int hrc = read_history(port, o, out, err);
    return rc < 0 ? rc : hrc;
}

void qts_store_restore_free(struct qts_store_restore *r)
{
    free(r->pos);
    free(r->params);
    r->pos = NULL;
    r->params = NULL;
    r->n_pos = r->n_params = 0;
}
