/* risk_control.h — the risk and safety modules wired together, so the engine
 * needs a handful of calls: new (after the execution pipeline exists),
 * on_price (every trade or mid), on_exec_safety (the pipeline's safety
 * sink), cancel_allowed (before a strategy's cancel), stop (SIGTERM) and
 * free.
 *
 * What new does, in order:
 *   1. the live guard (mode, the broker's environment, QTS_LIVE_ACK): a
 *      refusal returns QTS_EPERM with the reason in err;
 *   2. limits: settings->risk, each strategy's `risk:` map on top
 *      (strategy ids from the env callback), validated;
 *   3. the safety state machine, its latches restored from
 *      <var_dir>/safety.json (safety_persist.h) and saved there on every
 *      change, the pre-trade hook installed into `exec`, the micro risk
 *      loop started on `timers`;
 *   4. with a libuv loop: the admin socket <var_dir>/qts.sock (status,
 *      kill, resume, reload), a 100 ms core-loop heartbeat and a once a
 *      second poll of <var_dir>/KILL, and the watchdog thread.
 * Everything runs on the core loop thread except the watchdog thread.
 */
#ifndef QTS_RISK_CONTROL_H
#define QTS_RISK_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "precheck_risk.h"
#include "qts/qts_err.h"
#include "risk_loop.h"
#include "safety.h"

struct uv_loop_s;
struct qts_cfg_node;
struct qts_watchdog;

/* What the risk host reads of the configuration. The settings snapshot
 * fills it (qts_settings_risk_view in settings.h); everything is borrowed
 * and read during new and reload only. */
struct qts_risk_settings {
    const char *mode;                     /* "replay", "paper" or "live" */
    const char *var_dir;                  /* KILL file; NULL = "." */
    const struct qts_risk_limits *limits; /* the `risk:` section */
    const struct qts_safety_cfg *safety;  /* the `safety:` section */
    size_t n_strategies;
    /* strategy i's `risk:` overrides (NULL = none) and its name */
    const struct qts_cfg_node *(*strategy_risk)(const void *src, size_t i, const char **name);
    const void *src; /* borrowed: what strategy_risk reads */
};

struct qts_risk_control_env {
    struct uv_loop_s *loop;                   /* NULL: no socket, heartbeat, kill file, watchdog */
    const struct qts_timer_svc *timers;       /* the risk loop's tick (borrowed) */
    struct qts_exec *exec;                    /* borrowed */
    const struct qts_risk_settings *settings; /* borrowed; read during new only */
    int broker_env;                           /* enum qts_broker_env; -1 = no broker */
    const char *live_ack;                     /* getenv(QTS_LIVE_ACK_ENV), may be NULL */
    struct qts_risk_book book;                /* copied; see precheck_risk.h */
    size_t (*positions)(void *ctx, struct qts_risk_pos_view *out, size_t cap);
    int64_t (*equity)(void *ctx);
    const struct qts_instrument *(*instrument)(void *ctx, uint32_t id);
    /* strategy id of a configured strategy name; < 0 when unknown */
    int64_t (*strategy_id)(void *ctx, const char *name);
    /* admin `reload`; NULL = unsupported */
    int (*reload)(void *ctx, const char *what, char *out, size_t cap);
    /* admin `subscribe`/`unsubscribe`; NULL = unsupported */
    int (*subscribe)(void *ctx, const char *symbol, bool on, char *out, size_t cap);
    /* extra status members (e.g. "\"positions\":[..]"), written without
     * braces; NULL = none */
    int (*status_extra)(void *ctx, char *out, size_t cap);
    /* after each save of the safety latches (safety_persist.h), on the
     * loop thread: e.g. the store's record; NULL = none */
    void (*safety_saved)(void *ctx, const struct qts_safety_latch *l);
    void *ctx; /* borrowed */
    /* Replay: the watchdog thread is not started. A stall measured on the
     * wall clock must not change the decisions of a deterministic replay;
     * the admin socket and the kill file still work. */
    bool is_replay;
};

struct qts_risk_control;

int qts_risk_control_new(const struct qts_risk_control_env *env, struct qts_risk_control **out,
                         struct qts_err *err);
/* Closes the socket and timers (the loop must run once more to finish
 * closing them), stops the watchdog and the risk loop, frees. */
void qts_risk_control_free(struct qts_risk_control *h);

void qts_risk_control_on_price(struct qts_risk_control *h, uint32_t instrument, int64_t px);
/* A bar: its close is the price, its period the instrument's data interval. */
void qts_risk_control_on_bar(struct qts_risk_control *h, uint32_t instrument, int64_t close,
                             int64_t period_ns);
/* Something the micro risk loop reads changed (a market event, a fill, an
 * order event): its next tick is the next period's (risk_loop.h). */
void qts_risk_control_touch(struct qts_risk_control *h);
/* The execution pipeline's sink on_safety: raise `code` (enum
 * qts_safety_code) on the state machine, which applies the code table's
 * rule (trip, warn, limit, notice). `msg` borrowed. */
void qts_risk_control_on_exec_safety(struct qts_risk_control *h, int code, const char *msg);
/* Before a strategy's cancel: 0, or QTS_ERATELIMIT with rej filled. */
int qts_risk_control_cancel_allowed(struct qts_risk_control *h, uint32_t strategy_id,
                                    struct qts_precheck_reject *rej);
/* Kill switch now (also what the socket's kill does). Returns the number of
 * orders cancelled or escaped (safety.kill_flatten). */
size_t qts_risk_control_kill(struct qts_risk_control *h, const char *who, const char *reason);
/* SIGTERM: cancel or keep working orders per safety.cancel_on_stop. */
size_t qts_risk_control_stop_orders(struct qts_risk_control *h);
/* A reloaded configuration: rebuild the limits (global + overrides) from
 * `settings` (read during the call) and hand them to the hook and the loop;
 * the safety section is taken too. On an error (err says which strategy or
 * key) the running limits stay. */
int qts_risk_control_reload(struct qts_risk_control *h, const struct qts_risk_settings *settings,
                            struct qts_err *err);
/* The core loop's heartbeat, for hosts without a libuv loop (replay drives
 * it from its own cadence). */
void qts_risk_control_beat(struct qts_risk_control *h);

struct qts_safety *qts_risk_control_safety(struct qts_risk_control *h);
struct qts_precheck_risk *qts_risk_control_precheck(struct qts_risk_control *h);
struct qts_risk_loop *qts_risk_control_loop(struct qts_risk_control *h);
struct qts_watchdog *qts_risk_control_watchdog(struct qts_risk_control *h);
/* {"mode":..,"safety":{..},"risk":{..},"risk_loop":{..},"working_orders":n,
 *  "exec":{..}, extra members} */
/* One admin request line ({"cmd":"kill",...}) answered as the admin socket
 * answers it (same rules: resume needs "approve":true and a reason); `peer`
 * says who asked (e.g. "dashboard 127.0.0.1"). Loop thread. */
void qts_risk_control_admin(struct qts_risk_control *h, const char *peer, const char *line,
                            char *out, size_t cap);
int qts_risk_control_status_json(struct qts_risk_control *h, char *buf, size_t cap);

#endif /* QTS_RISK_CONTROL_H */
