/* engine_int.h — the engine's state, shared by its files: engine.c (market
 * events, the sinks, the execution pipeline, teardown), engine_wire.c
 * (construction and the bus's subscriber order), engine_admin.c (risk host,
 * reloads, admin commands, the shared budget), engine_run.c (the replay and
 * live loops, the start-up sync, the end of a run). Not for other
 * subsystems: they see the engine through engine.h only.
 */
#ifndef QTS_ENGINE_INT_H
#define QTS_ENGINE_INT_H

#include "engine.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "admin_socket.h" /* qts_json_escape */
#include "book.h"
#include "bus.h"
#include "cache_sub.h"
#include "cache_writer.h"
#include "cache_cluster.h"
#include "decide.h"
#include "decide_sub.h"
#include "clock.h"
#include "config.h"
#include "config_reload.h"
#include "settings.h"
#include "exec_pipeline.h"
#include "feedback.h"
#include "feedback_sub.h"
#include "impact_model.h"
#include "http_client.h"
#include "instruments.h"
#include "log.h"
#include "lua_runtime.h"
#include "lua_sub.h"
#include "alerts.h"
#include "http_server.h"
#include "dashboard.h"
#include "metrics.h"
#include "run_id.h"
#include "plugin_instance.h"
#include "plugin_loader.h"
#include "plugin_manager.h"
#include "portfolio.h"
#include "portfolio_sub.h"
#include "report_sub.h"
#include "risk_budget.h"
#include "risk_control.h"
#include "risk_portfolio.h"
#include "risk_sub.h"
#include "safety.h"
#include "store_plugin.h"
#include "store_sub.h"
#include "bar_history.h"
#include "store_restore.h"
#include "store_writer.h"
#include "qts/qts_store.h"
#include "startup_sync.h"
#include "timer_svc.h"
#include "util.h"

#define REPLAY_POLL_BATCH 1024
#define LIVE_POLL_MS 1       /* paper and live: period of the feed poll timer */
#define LIVE_POLL_BATCH 1024 /* events per poll call in paper and live */
#define REPLAY_SLICE_NS \
    5000000LL /* longest wait of a paced replay for its next event (engine_run.c) */
#define EQUITY_SAMPLE_NS 1000000000LL /* one equity point per second of data time */

/* Latest market state per instrument, for PreCheck, AdaptiveAdjust and
 * marking the portfolio. Indexed by instrument id. */
/* The host's latest prices of one instrument; its L2 book, when the feed
 * sends one, is in e->books (market/book.h). */
struct mkt_state {
    bool has_book;
    int64_t bid, ask, last;
    int64_t ts_ns;
};

/* A market event waiting in the replay batch. Book levels live in the
 * batch's level buffer (offsets, so the buffer may grow). */
union ev_store {
    struct qts_ev_hdr h;
    struct qts_trade trade;
    struct qts_quote quote;
    struct qts_book_update book;
    struct qts_bar bar;
};

struct batch_ev {
    union ev_store ev;
    size_t bid_off, ask_off; /* into levels */
};

#define BATCH_MAX 1024

struct feed_slot {
    char *name; /* owned: the slot name */
    bool at_eof;
    int failed;  /* the error its poll returned (0 = none): fails the run at its end */
    bool polled; /* the host pulls it (its plugin has `poll`) */
    /* Pacing of a polled feed (engine_run.c): data time runs `pace` times
     * faster than the monotonic clock from its first event on; 0 = as fast
     * as the host pulls. An event not yet due is refused with QTS_EAGAIN
     * (the feed keeps it for its next poll). */
    double pace;
    bool pace_started;
    int64_t pace_t0_data_ns, pace_t0_mono_ns, pace_t0_wall_ns;
    int64_t held_until_mono_ns; /* when the refused event is due; 0 = none held */
    /* Replay over several feeds, merged by time (engine_run.c): an event
     * later than merge_limit_ns is refused like one not yet due; head_ns is
     * the time of the feed's next event, or a lower bound of it. */
    bool merging;
    int64_t merge_limit_ns, head_ns;
};

struct qts_engine {
    struct qts_config *cfg; /* referenced */
    const struct qts_settings *set;
    struct qts_engine_opts opts;
    char *run_dir; /* owned */
    char run_id[QTS_RUN_ID_MAX];

    uv_loop_t loop;
    bool loop_ready;
    struct qts_clock clock;
    struct qts_timer_svc timers;
    struct qts_instruments *instruments;
    struct qts_metrics *metrics;
    struct qts_http_client *http;
    struct qts_event_sink sink;
    struct qts_plugin_env penv;
    struct qts_plugin_manager *plugins;
    struct feed_slot *feeds;
    size_t n_feeds;
    bool has_broker;

    struct mkt_state *mkt; /* owned array, n_mkt entries */
    size_t n_mkt;
    struct qts_book_set books; /* the host's L2 books, by instrument id */

    struct qts_portfolio *portfolio;
    struct qts_store_plugin *store;    /* NULL: no `store:` configured */
    struct qts_cache_writer *cache;    /* NULL: no `cache:` configured */
    struct qts_cache_cluster *cluster; /* heartbeat and claims; NULL: no cache */
    struct qts_risk_budget *budget;    /* NULL: no shared_budget.key */
    struct qts_store_writer *writer;
    struct qts_bar_history *history;  /* owned: ctx:history's bars (engine_restore.c) */
    struct qts_store_restore restore; /* what was read back at start (engine_restore.c) */
    struct qts_exec *exec;
    struct qts_risk_portfolio risk_pf;   /* risk's view of the portfolio: reads it, no copy */
    struct qts_risk_control *risk;       /* pre-trade checks, risk loop, safety, admin */
    struct qts_config_holder cfg_holder; /* SIGHUP reloads land here */
    bool has_holder;
    struct qts_lua_runtime *rt;
    struct qts_feedback *fb;            /* execution feedback (TCA, impact model); NULL = off */
    struct qts_impact_model *fb_stored; /* owned: the model the store held at start, until
                                         * feedback takes it; NULL = none */
    struct qts_startup_sync *sync;      /* owned while the start-up sync runs, else NULL */
    bool strategies_added;
    /* paper/live: the venue's buying power at the start-up sync minus the
     * portfolio's cash then (cash units); when negative the account holds
     * less than the portfolio thinks, and PreCheck's cash is lowered by it */
    int64_t venue_cash_gap;

    /* replay batch: events the strategies see before the venue does */
    struct batch_ev batch[BATCH_MAX];
    const struct qts_ev_hdr *batch_ptrs[BATCH_MAX];
    size_t batch_n;
    unsigned zero_steps;      /* consecutive steps that consumed nothing */
    struct qts_level *levels; /* owned */
    size_t n_levels, cap_levels;

    uint64_t seq;
    int64_t next_sample_ns;
    bool killed;
    volatile sig_atomic_t stop_requested;
    int stop_signal;      /* SIGINT or SIGTERM that asked the stop; 0 = none */
    int exit_status;      /* qts_engine_exit_status: 0, or 128 + signal, or 1 */
    uv_async_t stop_wake; /* wakes the loop for a stop asked from another thread;
                               * initialised with the signal handles (signals_on) */
    uv_signal_t sig_int, sig_term;
    uv_timer_t feed_timer; /* paper and live: pulls the polled feeds */
    bool feed_timer_on;
    /* http.listen and alerts: what operators see (engine_metrics.c) */
    struct qts_http_server *ops_http; /* NULL: no http.listen */
    struct qts_dashboard *dashboard;  /* on ops_http; NULL without it */
    struct qts_alerts *alerts;        /* NULL: no alert channel configured */
    uv_timer_t ops_timer;             /* once a second: /metrics page, alert checks */
    bool ops_timer_on;
    struct qts_safety_latch last_latch; /* the latches as last saved: what changed */
    bool have_last_latch;
    uint64_t rejects_at_window; /* stats.rejected when the 60 s window began */
    int64_t reject_window_mono_ns;
    int last_store_up; /* -1 unknown */
    int last_utc_day;  /* days since 1970 of the last daily summary; 0 none */
    struct engine_code_count {
        char code[8]; /* "GR117" */
        uint64_t n;
    } reject_counts[48]; /* PreCheck rejections by code */
    size_t polling_feed; /* 1 + index of the feed inside its poll; 0 = none */
    bool signals_on;
    struct qts_engine_stats stats;
    int64_t last_progress_ns;

    /* The bus and its subscribers' state (wire_bus has the order). Each
     * *_pub borrows the objects above; a NULL object makes it a no-op. */
    struct qts_bus bus;
    struct qts_risk_pub risk_pub;
    struct qts_store_pub store_pub;
    struct qts_cache_pub cache_pub;
    struct qts_budget_pub budget_pub;
    struct qts_feedback_pub fb_pub;
    struct qts_decide *decide; /* owned: the Decide stage (engine_decide.c) */
    struct qts_cycles *cycles; /* owned: cycles.csv, AN040/FS060 (engine_decide.c) */
    struct qts_pools *pools;   /* owned; NULL = no pools or operating state configured */
    struct qts_decide_pub decide_pub;
    struct qts_lua_pub lua_pub;
    struct qts_report_pub report_pub;
};

/* ------------------------------------------- shared by the engine's files */

/* An event's data time for pacing: when it was received, or for a feed that
 * stamps no receipt time (ts_recv_ns 0), when the exchange made it. */
static inline int64_t qts__ev_data_ns(const struct qts_ev_hdr *h)
{
    return h->ts_recv_ns ? h->ts_recv_ns : h->ts_exch_ns;
}

/* engine_metrics.c: /metrics on http.listen and the alerts
 * (docs/operations.md); stop sends the last alerts (waits up to 3 s) */
/* engine_status.c: the positions, working orders, PnL, strategies and
 * feeds as JSON members for the status object; length written, 0 if cut */
int qts__engine_status_lists(struct qts_engine *e, char *out, size_t cap);
int qts__engine_metrics_start(struct qts_engine *e, struct qts_err *err);
void qts__engine_metrics_stop(struct qts_engine *e);
/* the safety latches were saved: alert on what changed */
void qts__engine_alert_latches(struct qts_engine *e, const struct qts_safety_latch *l);
/* count a rejected intent's code for /metrics */
void qts__engine_count_code(struct engine_code_count *t, size_t cap, const char *code);

/* engine.c: market state, the sinks, the execution pipeline */
int qts__engine_market(void *ctx, uint32_t instrument, struct qts_mkt_ref *out);
const struct qts_instrument *qts__engine_instrument(void *ctx, uint32_t id);
int qts__engine_define_instrument(void *ctx, const struct qts_instrument *inst, uint32_t *id_out);
void qts__engine_flush_batch(struct qts_engine *e);
/* false (and the feed's held_until_mono_ns set) if the polled feed's event
 * with data time data_ns (qts__ev_data_ns) is not due yet at its pace
 * (engine_run.c). */
bool qts__engine_feed_due(struct feed_slot *f, int64_t data_ns);
/* Paper and live: a polled feed's event (recorded or generated data) is
 * restamped onto the wall clock, as if the market made it now: its data
 * time from the feed's first event on, divided by the pace, from the wall
 * time of that first event. */
void qts__engine_feed_restamp(const struct feed_slot *f, struct qts_ev_hdr *h);
void qts__engine_open_exec(struct qts_engine *e, bool replay);
void qts__engine_lua_sink(struct qts_engine *e, struct qts_lua_sink *out);
void qts__engine_event_sink(struct qts_engine *e);

/* engine_admin.c: the risk host, reloads, the admin commands, the budget */
/* What the broker reports (enum qts_broker_env), -1 without a broker. */
int qts__engine_broker_env(struct qts_engine *e);
int qts__engine_open_risk(struct qts_engine *e, struct qts_err *err);
/* engine_decide.c: the Decide stage between the runtime and the pipeline */
int qts__engine_open_decide(struct qts_engine *e, struct qts_err *err);
void qts__engine_close_decide(struct qts_engine *e);
void qts__engine_pools_provider(struct qts_engine *e);
void qts__engine_cycle(void *ctx, const struct qts_lua_cycle *c, int64_t decide_ns);
void qts__engine_decide_batch(void *ctx, const struct qts_order_intent *const *in, size_t n,
                              int *rc);
int qts__engine_rt_submit(void *ctx, const struct qts_order_intent *in);
int qts__engine_open_budget(struct qts_engine *e, struct qts_err *err);
void qts__engine_refresh_ports(struct qts_engine *e);
void qts__engine_on_plugin_reload(void *ctx, const char *slot, int status, const char *why);
bool qts__engine_has_working_orders(void *ctx, const char *slot);
void qts__engine_on_config_reload(void *ud, struct qts_config *next);
/* the config holder's check: plugin slots' config: against their key tables */
void qts__engine_check_plugin_configs(void *ud, const struct qts_config *next, struct qts_diags *d);

/* engine_wire.c: construction */
int qts__engine_make_dirs(const char *path);
/* engine_restore.c: read back from the store before its writer starts,
 * then (writer running) book what was read into the portfolio */
void qts__engine_store_read_back(struct qts_engine *e, const struct qts_store_port *port);
void qts__engine_store_apply_restore(struct qts_engine *e);
int qts__engine_start_strategies(struct qts_engine *e, struct qts_err *err);
/* engine_cache.c: the cache subscriber's books and providers */
void qts__engine_cache_providers(struct qts_engine *e);
/* heartbeat, and the claims of cluster.claim (refused start: an error) */
int qts__engine_cluster_join(struct qts_engine *e, struct qts_err *err);

#endif /* QTS_ENGINE_INT_H */
