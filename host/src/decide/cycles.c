/* cycles.c — see cycles.h. */
#include "cycles.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "safety_codes.h"
#include "util.h"

/* A strategy's run of cycles over budget (strategy ids are small). */
#define MAX_TRACKED 256

struct qts_cycles {
    char *run_dir; /* owned */
    struct qts_cycles_env env;
    uint32_t fs060_after;
    FILE *csv;       /* owned; NULL until the first cycle */
    bool csv_failed; /* could not be created: said once */
    uint32_t streak[MAX_TRACKED];
    struct qts_cycles_stats st;
};

struct qts_cycles *qts_cycles_new(const char *run_dir, const struct qts_cycles_env *env,
                                  uint32_t fs060_after)
{
    struct qts_cycles *c = qts_xcalloc(1, sizeof *c);
    c->run_dir = qts_xstrdup(run_dir ? run_dir : ".");
    c->env = *env;
    c->fs060_after = fs060_after ? fs060_after : QTS_CYCLES_FS060_AFTER;
    return c;
}

void qts_cycles_free(struct qts_cycles *c)
{
    if (!c)
        return;
    if (c->csv)
        fclose(c->csv);
    free(c->run_dir);
    free(c);
}

static FILE *csv(struct qts_cycles *c)
{
    if (c->csv || c->csv_failed)
        return c->csv;
    char path[1100];
    snprintf(path, sizeof path, "%s/cycles.csv", c->run_dir);
    c->csv = fopen(path, "w");
    if (!c->csv) {
        c->csv_failed = true;
        QTS_ERROR("cannot create %s: cycle timings are not recorded", path);
        return NULL;
    }
    fputs("strategy,cycle,due_ns,ts_ns,snapshot_us,strategy_us,decide_us,total_us,budget_us,"
          "intents,over_budget\n",
          c->csv);
    return c->csv;
}

void qts_cycles_record(struct qts_cycles *c, const struct qts_cycle_rec *r)
{
    int64_t total = r->snapshot_ns + r->strategy_ns + r->decide_ns;
    bool over = total > r->budget_ns;
    c->st.cycles++;
    c->st.total_ns += total;
    if (total > c->st.max_ns)
        c->st.max_ns = total;
    FILE *f = csv(c);
    if (f)
        fprintf(f, "%s,%" PRIu64 ",%" PRId64 ",%" PRId64 ",%.1f,%.1f,%.1f,%.1f,%.1f,%u,%d\n",
                r->strategy, r->cycle, r->due_ns, r->ts_ns, (double)r->snapshot_ns / 1e3,
                (double)r->strategy_ns / 1e3, (double)r->decide_ns / 1e3, (double)total / 1e3,
                (double)r->budget_ns / 1e3, r->intents, over ? 1 : 0);
    uint32_t *streak = r->strategy_id < MAX_TRACKED ? &c->streak[r->strategy_id] : NULL;
    if (!over) {
        if (streak)
            *streak = 0;
        return;
    }
    c->st.over++;
    char msg[200];
    snprintf(msg, sizeof msg, "strategy %s cycle %" PRIu64 " took %.1f ms, budget %.1f ms",
             r->strategy, r->cycle, (double)total / 1e6, (double)r->budget_ns / 1e6);
    c->env.safety(c->env.ctx, QTS_SC_AN040, msg);
    if (streak && ++*streak >= c->fs060_after) {
        *streak = 0;
        c->st.fs060++;
        snprintf(msg, sizeof msg, "strategy %s: %u cycles in a row over the %.1f ms budget",
                 r->strategy, c->fs060_after, (double)r->budget_ns / 1e6);
        c->env.safety(c->env.ctx, QTS_SC_FS060, msg);
    }
}

void qts_cycles_flush(struct qts_cycles *c)
{
    if (c && c->csv)
        fflush(c->csv);
}

void qts_cycles_get_stats(const struct qts_cycles *c, struct qts_cycles_stats *out)
{
    *out = c ? c->st : (struct qts_cycles_stats){0};
}

int qts_cycles_json(const struct qts_cycles *c, char *buf, size_t cap)
{
    struct qts_cycles_stats s;
    qts_cycles_get_stats(c, &s);
    return snprintf(buf, cap,
                    "{\"cycles\":%" PRIu64 ",\"over_budget\":%" PRIu64 ",\"fs060\":%" PRIu64
                    ",\"mean_us\":%.1f,\"max_us\":%.1f}",
                    s.cycles, s.over, s.fs060,
                    s.cycles ? (double)s.total_ns / (double)s.cycles / 1e3 : 0.0,
                    (double)s.max_ns / 1e3);
}
