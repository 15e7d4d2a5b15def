/* exec_pipeline.h — the scalp execution micro-pipeline:
 * PreCheck -> OrderSplit -> AsyncSend -> PartialFillMonitor ->
 * AdaptiveAdjust -> EmergencyEscape, driving parent orders of the OMS to one
 * of the final states COMPLETE / ESCAPED / FAILED.
 *
 * Everything runs on the core loop thread and never blocks: the broker is
 * called through its asynchronous ops table (a call only hands the order
 * over), time comes from the timer service (libuv in production, a manual
 * fake in tests and replays), and outcomes arrive as execution reports
 * (qts_exec_on_report). docs/execution.md describes the stages, the state
 * machine, the parameters and their defaults.
 *
 * Ownership: the pipeline owns its OMS; everything handed in through
 * struct qts_exec_env is borrowed and must outlive the pipeline.
 */
#ifndef QTS_EXEC_PIPELINE_H
#define QTS_EXEC_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "hdr_hist.h"
#include "oms.h"
#include "order.h"
#include "qts/qts_err.h"
#include "qts/qts_types.h"
#include "timer_svc.h"

/* ------------------------------------------------------------ parameters */

/* Execution parameters. qts_exec_params_default() is the one place the
 * defaults live (spec-execution-risk §4); the configuration module maps
 * YAML keys of the same names onto this struct. */
struct qts_exec_params {
    char host_id[16]; /* client order id prefix: "<host_id>-<n>" */
    /* AsyncSend */
    int64_t send_timeout_ms;    /* 10000: SENDING stage, no child acked -> rollback, FAILED */
    int64_t ack_timeout_ms;     /* 3000 per attempt: no ack -> UNKNOWN, resend same id */
    uint32_t send_max_attempts; /* 3 attempts in total per child */
    int64_t send_backoff_ms;    /* 100 between attempts */
    /* PartialFillMonitor */
    int64_t monitor_timeout_ms; /* 60000 after the last slice was sent; 0 = orders wait */
    int64_t poll_interval_ms;   /* 100, only for brokers that cannot push */
    /* AdaptiveAdjust */
    double adjust_step_pct;     /* 0.001 = 0.1 % per round */
    uint32_t adjust_max_rounds; /* 3 */
    int64_t adjust_interval_ms; /* 1000 between rounds */
    int64_t adjust_timeout_ms;  /* 30000 for the whole ADJUSTING phase */
    double max_slippage_pct;    /* 0.005 = 0.5 % from the arrival price */
    /* EmergencyEscape */
    int64_t escape_timeout_ms;     /* 30000 */
    bool escape_flatten;           /* true: liquidate what was filled */
    uint32_t flatten_max_attempts; /* 3 flatten orders at most */
    /* OrderSplit */
    uint32_t max_children;            /* 10 (GR060) */
    uint32_t twap_default_slices;     /* 5 */
    int64_t algo_default_duration_ms; /* 30000 when the intent gives none */
    uint32_t vwap_bars;               /* 10 recent bars make the default profile */
    const double *vwap_profile;       /* borrowed weights; NULL = from bars */
    size_t n_vwap_profile;
    /* PreCheck (basic checks) */
    double price_band_pct;  /* 0.05: limit within 5 % of the reference */
    int64_t max_ref_age_ms; /* 100: reference price freshness; 0 = off */
    bool shrink_to_cash;    /* true: shrink a buy to the cash available */
    /* AdaptiveAdjust with a fill-probability provider: a child whose
     * estimated fill probability within adjust_interval is at least this is
     * left alone for the round; a repriced child goes at least to the most
     * passive distance reaching it. 0 = off. Default 0.5. */
    double adjust_fill_prob;
    /* Retention of finished orders (oms.h, docs/execution.md "Retention"):
     * keep at least the last `retain_orders` finished parents and those
     * finished less than `retain_ms` ago (pipeline clock: virtual in
     * replays); evicted ids are remembered in a window of
     * `evict_tombstones` children (0 = keep every order for the run). */
    uint32_t retain_orders;    /* 2000 */
    int64_t retain_ms;         /* 60000 */
    uint32_t evict_tombstones; /* 65536 */
    /* first n of "<host_id>-<n>"; 0 = 1. Paper and live runs start from a
     * wall-clock figure so a restart never reuses an earlier run's ids. */
    uint64_t first_clordid_seq;
};

void qts_exec_params_default(struct qts_exec_params *p);
/* Range checks for values read from configuration: 0 or QTS_ECONFIG with
 * "exec.<key>: what is allowed" in err. */
int qts_exec_params_validate(const struct qts_exec_params *p, struct qts_err *err);

/* --------------------------------------------------------------- seams */

/* Market reference for PreCheck and AdaptiveAdjust (0 = unknown side). */
struct qts_mkt_ref {
    int64_t bid, ask, last;
    int64_t ts_ns; /* when it was observed (clock time); 0 = unknown */
};

/* What the pre-trade hooks see. `intent` may be changed by a hook (qty
 * shrunk, price rounded); the rest is borrowed for the call. */
struct qts_precheck_order {
    struct qts_order_intent *intent;
    const struct qts_instrument *inst;
    const struct qts_mkt_ref *ref; /* NULL when no reference is known */
    const struct qts_exec_params *params;
    int64_t now_ns;
};

/* A rejection: code number of a safety/guardrail code ("GR061" -> 61),
 * the code text, and a message. */
struct qts_precheck_reject {
    int32_t code;
    char code_str[8];
    char msg[96];
};

/* Returns 0 to pass (possibly after changing o->intent) or QTS_ERISK with
 * *rej filled. */
typedef int (*qts_precheck_fn)(void *ctx, struct qts_precheck_order *o,
                               struct qts_precheck_reject *rej);

struct qts_precheck_hook {
    const char *name; /* borrowed static string */
    qts_precheck_fn fn;
    void *ctx; /* borrowed */
};

/* Where the pipeline reads state it does not own. Any callback may be NULL
 * (instrument: every order is rejected with FS091; market: no band check,
 * no best-price cap; bars: VWAP falls back to TWAP; cash: no cash check). */
struct qts_exec_providers {
    const struct qts_instrument *(*instrument)(void *ctx, uint32_t id); /* borrowed */
    int (*market)(void *ctx, uint32_t instrument, struct qts_mkt_ref *out);
    size_t (*recent_bars)(void *ctx, uint32_t instrument, struct qts_bar *out,
                          size_t cap); /* oldest first */
    /* cash available to the strategy, QTS_CASH_EXP units */
    int64_t (*cash_available)(void *ctx, uint32_t strategy_id);
    void *ctx;
    /* Optional (execution feedback, docs/feedback.md): estimated probability
     * that a resting order `dist_ticks` behind the touch fills within
     * `horizon_s`; NaN or < 0 = no estimate. NULL = AdaptiveAdjust ignores it. */
    double (*fill_prob)(void *ctx, uint32_t instrument, double dist_ticks, double horizon_s);
};

/* Output: order events and fills go to the strategy and the portfolio,
 * safety codes to the safety module. Events are borrowed for the call. */
struct qts_exec_sink {
    void (*on_order)(void *ctx, const struct qts_order_event *ev);
    void (*on_fill)(void *ctx, const struct qts_fill *fill);
    /* `code`: enum qts_safety_code (safety_codes.h); what it does to the
     * safety state is the code table's rule, nothing the pipeline decides.
     * `msg` borrowed for the call. */
    void (*on_safety)(void *ctx, int code, const char *msg);
    void (*on_recon)(void *ctx, const struct qts_recon_diff *d);
    void *ctx;
};

struct qts_exec_env {
    struct qts_broker_port port;        /* copied; ops/self borrowed */
    const struct qts_timer_svc *timers; /* borrowed */
    const struct qts_clock *clock;      /* event time stamps; NULL = timers' time */
    struct qts_exec_providers prov;
    struct qts_exec_sink sink;
};

/* -------------------------------------------------------------- pipeline */

struct qts_exec;

/* Per-stage latency histograms. Local stages are CPU time of the stage's
 * work (monotonic clock); ACK and FILL are broker round trips on the
 * pipeline's clock (virtual time in replays). */
enum qts_exec_stage {
    QTS_STAGE_PRECHECK = 0,
    QTS_STAGE_SPLIT = 1,
    QTS_STAGE_SEND = 2,   /* one child handed to the broker */
    QTS_STAGE_REPORT = 3, /* one execution report applied and acted on */
    QTS_STAGE_ADJUST = 4, /* one reprice round */
    QTS_STAGE_ESCAPE = 5, /* escape dispatch: cancels issued */
    QTS_STAGE_ACK = 6,    /* send -> venue ack */
    QTS_STAGE_FILL = 7,   /* submit -> parent final (COMPLETE only) */
    QTS_STAGE_COUNT = 8,
};
const char *qts_exec_stage_name(int stage);
_Static_assert(QTS_STAGE_COUNT == QTS_PARENT_STAGES, "order.h times every stage per order");

/* `params` and `env` are copied. The basic pre-trade checks are installed
 * first; more hooks can be appended with qts_exec_add_precheck. */
struct qts_exec *qts_exec_new(const struct qts_exec_params *params, const struct qts_exec_env *env);
void qts_exec_free(struct qts_exec *x);
struct qts_oms *qts_exec_oms(struct qts_exec *x);
const struct qts_exec_params *qts_exec_params(const struct qts_exec *x);
/* Does anything still work at the broker (a non-final order, or a child
 * the venue may still fill)? The plugin manager refuses to reload a broker
 * without state transfer while this is true. */
bool qts_exec_has_working_orders(const struct qts_exec *x);
/* Replace the broker (plugin reload); working orders keep their ids. */
void qts_exec_set_port(struct qts_exec *x, const struct qts_broker_port *port);

/* Append a pre-trade hook (copied); at most 16. Hooks run in order; the
 * first rejection stops the order. */
int qts_exec_add_precheck(struct qts_exec *x, const struct qts_precheck_hook *h);

/* Run the pre-trade hooks alone on `intent` (may be changed: qty shrunk,
 * price rounded), as qts_exec_submit does, without creating an order.
 * Returns 0 or QTS_ERISK with *rej filled (rej may be NULL). */
int qts_exec_precheck(struct qts_exec *x, struct qts_order_intent *intent,
                      struct qts_precheck_reject *rej);

/* Entry point for a strategy's order (also the tick-to-order benchmark's):
 * runs PreCheck and OrderSplit synchronously and hands the first slices to
 * the broker. `*order_id` (may be NULL) gets the parent id, also on a
 * rejection. Returns 0, QTS_ERISK (PreCheck rejected; err says why and the
 * strategy also gets on_order REJECTED), QTS_EINVAL (no intent, or
 * intent->order_id set to an id the OMS did not give that strategy or one
 * already used: oms_ids.h). */
int qts_exec_submit(struct qts_exec *x, const struct qts_order_intent *intent, uint64_t *order_id,
                    struct qts_err *err);
/* Strategy cancel: cancel the working children, no flatten; final state
 * COMPLETE (partial) delivered as QTS_OE_CANCELLED. An order that is final
 * (also one already evicted) answers QTS_ESTATE, an unknown id QTS_ENOENT. */
int qts_exec_cancel(struct qts_exec *x, uint64_t order_id, const char *reason);
/* The same for a strategy's ctx:cancel: only the owner may cancel its
 * order (QTS_EPERM otherwise, QTS_ENOENT for an unknown id). */
int qts_exec_cancel_by(struct qts_exec *x, uint32_t strategy_id, uint64_t order_id,
                       const char *reason);
/* EmergencyEscape of one order (from any non-final state). */
int qts_exec_escape(struct qts_exec *x, uint64_t order_id, const char *reason);
/* Every non-final order of a strategy: cancel (halted/removed strategy) or
 * escape. Returns how many orders were affected. */
size_t qts_exec_cancel_strategy(struct qts_exec *x, uint32_t strategy_id, const char *reason);
size_t qts_exec_escape_all(struct qts_exec *x, const char *reason);

/* Broker answers (from host->emit_exec_report / emit_position /
 * emit_query_done; borrowed). */
int qts_exec_on_report(struct qts_exec *x, const struct qts_exec_report *rep);
int qts_exec_on_position(struct qts_exec *x, const struct qts_broker_position *pos);
int qts_exec_on_query_done(struct qts_exec *x, uint64_t req_id, int status);
/* Reconcile with the broker now (start, reconnect, on demand). A position
 * that differs raises FS070. */
int qts_exec_reconcile(struct qts_exec *x);
/* The start-up reconciliation of a host that adopts the broker's positions
 * (startup.adopt_positions): a differing position is reported to the
 * sink's on_recon, which adopts it, and raises no FS070 — a host starting
 * flat against a venue holding a position is the expected case, not a
 * mismatch. Until the next qts_exec_reconcile. */
int qts_exec_reconcile_adopting(struct qts_exec *x);

/* Read-only views. qts_exec_order: NULL when unknown or evicted; the
 * pointer is valid for the current call only (keep the id, or pin). */
const struct qts_parent *qts_exec_order(const struct qts_exec *x, uint64_t order_id);
/* LIVE (*out set), EVICTED (final, freed) or UNKNOWN; `out` may be NULL. */
enum qts_oms_lookup qts_exec_order_lookup(const struct qts_exec *x, uint64_t order_id,
                                          const struct qts_parent **out);
/* Keep an order from eviction while the caller keeps its id (counted);
 * QTS_ENOENT when it is not held. */
int qts_exec_pin(struct qts_exec *x, uint64_t order_id);
void qts_exec_unpin(struct qts_exec *x, uint64_t order_id);
const struct qts_hdr_hist *qts_exec_hist(const struct qts_exec *x, int stage);
/* Counters and every histogram as one JSON object for the run summary;
 * returns the length snprintf would have written. */
int qts_exec_summary_json(const struct qts_exec *x, char *buf, size_t cap);

/* Price rounding helpers (exposed for tests): to a multiple of `tick`
 * (<= 1 = unchanged), down or up. */
int64_t qts_px_floor_tick(int64_t px, int64_t tick);
int64_t qts_px_ceil_tick(int64_t px, int64_t tick);

#endif /* QTS_EXEC_PIPELINE_H */
