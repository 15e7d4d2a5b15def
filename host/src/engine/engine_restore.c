/* engine_restore.c — reading back at start (docs/storage.md, "Reading
 * back"): the previous run's positions booked into the portfolio at their
 * average price and marked at the newest stored bar's close, strategy
 * parameters compared with the configuration, and the bars ctx:history
 * serves. What was done goes to the log and to the run's restore.json. */
#include "engine_int.h"

#include <time.h>

#include "json.h"

static int64_t wall_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void qts__engine_store_read_back(struct qts_engine *e, const struct qts_store_port *port)
{
    struct qts_store_restore_opts o = {.host_id = e->set->host_id,
                                       .mode = qts_mode_name(e->set->mode),
                                       .run_id = e->run_id,
                                       .restore = e->set->store_restore == 0,
                                       .instruments = e->instruments,
                                       .history_bars = (uint32_t)e->set->store_history_bars,
                                       .now_ns = wall_ns(),
                                       .history = e->history};
    struct qts_err err;
    qts_err_clear(&err);
    if (qts_store_restore_read(port, &o, &e->restore, &err) < 0)
        QTS_WARN("store: reading back failed, the run starts without it: %s", err.msg);
}

static int64_t rescale(int64_t v, unsigned from, unsigned to)
{
    if (from == to)
        return v;
    if (from < to)
        return v * qts_pow10_i64[QTS_MIN(to - from, QTS_MAX_EXP)];
    return v / qts_pow10_i64[QTS_MIN(from - to, QTS_MAX_EXP)];
}

/* The configuration's value of a restored parameter, NULL if it has none. */
static const char *config_param(const struct qts_engine *e, const char *strategy, const char *name)
{
    const struct qts_cfg_node *list = qts_cfg_get(qts_config_root(e->cfg), "strategies.list");
    for (size_t i = 0; i < qts_cfg_len(list); i++) {
        const struct qts_cfg_node *st = qts_cfg_at(list, i);
        const char *n = qts_cfg_str(qts_cfg_get(st, "name"));
        if (n && strcmp(n, strategy) == 0)
            return qts_cfg_str(qts_cfg_get(qts_cfg_get(st, "params"), name));
    }
    return NULL;
}

/* Book one restored position: a fill of strategy 0 tagged "restored" at the
 * average price against the cash (equity unchanged, PnL runs from the
 * average price), as the start-up sync books a broker's positions. Not a
 * venue execution: nothing goes to fills. Returns 0 when booked. */
static int book_position(struct qts_engine *e, const struct qts_store_restored_pos *p, int64_t ts,
                         FILE *js, bool *first)
{
    const struct qts_instrument *inst = qts_instruments_find(e->instruments, p->symbol);
    if (!inst) {
        QTS_WARN("restore: position of %s not restored: not an instrument of this configuration",
                 p->symbol);
        return -1;
    }
    int64_t qty = rescale(p->qty, QTS_STORE_RESTORE_EXP, inst->qty_exp);
    int64_t px = rescale(p->avg_px, QTS_STORE_RESTORE_EXP, inst->px_exp);
    if (qty == 0 || px <= 0) {
        QTS_WARN("restore: position of %s not restored: quantity or average price is zero",
                 p->symbol);
        return -1;
    }
    struct qts_fill f = {.h = {.struct_size = sizeof f,
                               .type = QTS_EV_FILL,
                               .px_exp = inst->px_exp,
                               .qty_exp = inst->qty_exp,
                               .instrument = inst->id,
                               .ts_exch_ns = ts,
                               .ts_recv_ns = ts},
                         .strategy_id = 0,
                         .side = qty > 0 ? QTS_SIDE_BUY : QTS_SIDE_SELL,
                         .px = px,
                         .qty = qty > 0 ? qty : -qty};
    qts_strlcpy(f.tag, "restored", sizeof f.tag);
    int rc = qts_portfolio_apply_fill(e->portfolio, &f);
    if (rc != 0) {
        QTS_ERROR("restore: position of %s not restored: %s", inst->symbol, qts_err_name(rc));
        return -1;
    }
    /* the last price known: the newest stored bar's close (1 minute, else 1 day) */
    struct qts_bar last;
    int64_t mark = 0;
    if (qts_bar_history_get(e->history, inst->symbol, 60000000000LL, INT64_MAX, &last, 1) == 1 ||
        qts_bar_history_get(e->history, inst->symbol, 86400000000000LL, INT64_MAX, &last, 1) == 1)
        mark = last.close;
    if (mark > 0)
        qts_portfolio_mark(e->portfolio, inst->id, mark, inst->px_exp);
    qts_cache_pub_position(&e->cache_pub, inst->id, ts);
    char q[48], a[48], m[48];
    qts_format_fixed(q, sizeof q, qty, inst->qty_exp);
    qts_format_fixed(a, sizeof a, px, inst->px_exp);
    if (mark > 0)
        qts_format_fixed(m, sizeof m, mark, inst->px_exp);
    else
        qts_strlcpy(m, "null", sizeof m);
    QTS_INFO("restore: position symbol=%s qty=%s avg_px=%s last_px=%s from run %s", inst->symbol, q,
             a, m, e->restore.from_run);
    if (js) {
        fprintf(js, "%s{\"symbol\":\"%s\",\"qty\":%s,\"avg_px\":%s,\"last_px\":%s}",
                *first ? "" : ",", inst->symbol, q, a, m);
        *first = false;
    }
    return 0;
}

void qts__engine_store_apply_restore(struct qts_engine *e)
{
    const struct qts_store_restore *r = &e->restore;
    if (!e->writer)
        return; /* no store, or it was unreachable at start */
    if (r->history_bars)
        QTS_INFO("store: %zu bars read back for ctx:history", r->history_bars);
    char path[1100];
    snprintf(path, sizeof path, "%s/restore.json", e->run_dir);
    FILE *js = qts__engine_make_dirs(e->run_dir) == 0 ? fopen(path, "w") : NULL;
    if (js) {
        fprintf(js, "{\"from_run\":");
        if (r->from_run[0])
            fprintf(js, "\"%s\",\"from_status\":\"%s\"", r->from_run, r->from_status);
        else
            fprintf(js, "null,\"why\":");
        if (!r->from_run[0])
            qts_json_write_str(js, r->why);
        fprintf(js, ",\"history_bars\":%zu,\"positions\":[", r->history_bars);
    }
    if (!r->from_run[0])
        QTS_INFO("restore: nothing restored: %s", r->why);
    int64_t ts = wall_ns();
    bool first = true;
    size_t booked = 0;
    for (size_t i = 0; i < r->n_pos; i++)
        booked += book_position(e, &r->pos[i], ts, js, &first) == 0;
    if (js)
        fprintf(js, "],\"working_orders\":%zu,\"params_changed\":[", r->n_working_orders);
    first = true;
    for (size_t i = 0; i < r->n_params; i++) {
        const struct qts_store_restored_param *p = &r->params[i];
        const char *now = config_param(e, p->strategy, p->name);
        if (now && strcmp(now, p->value) == 0)
            continue;
        QTS_INFO("restore: strategy %s param %s was %s in run %s, is %s now", p->strategy, p->name,
                 p->value, r->from_run, now ? now : "unset");
        if (js) {
            fprintf(js, "%s{\"strategy\":", first ? "" : ",");
            qts_json_write_str(js, p->strategy);
            fprintf(js, ",\"param\":");
            qts_json_write_str(js, p->name);
            fprintf(js, ",\"was\":");
            qts_json_write_str(js, p->value);
            fprintf(js, ",\"now\":");
            if (now)
                qts_json_write_str(js, now);
            else
                fprintf(js, "null");
            fprintf(js, "}");
        }
        first = false;
    }
    if (js) {
        fprintf(js, "]}\n");
        fclose(js);
    }
    if (r->from_run[0]) {
        QTS_INFO("restore: from run %s (%s): %zu of %zu positions, %zu parameters compared, "
                 "%zu orders were working (the start-up reconciliation settles them at the "
                 "broker)",
                 r->from_run, r->from_status, booked, r->n_pos, r->n_params, r->n_working_orders);
        /* this run's rows hold the restored positions from now on */
        qts_store_pub_positions(&e->store_pub, ts);
    }
}
