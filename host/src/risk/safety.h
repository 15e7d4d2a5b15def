/* safety.h — the safety authority: the NORMAL / WARNING / FAIL / LOCKDOWN
 * state machine, the operator kill switch, the trading-enabled flag, the
 * record of operator approvals, and the live-trading guard.
 *
 * Rules (spec-execution-risk §2.2 with §9 #1, #27, #28 applied):
 * - a TRIP code moves NORMAL/WARNING to FAIL; a second consecutive TRIP
 *   while in FAIL moves to LOCKDOWN; FS104 (kill switch) and FS080 (total
 *   capital <= 0) go straight to LOCKDOWN;
 * - a TRIP in LOCKDOWN stays in LOCKDOWN (it is logged and counted);
 * - a WARN code (anomaly) moves NORMAL to WARNING; LIMIT and NOTICE codes
 *   never move the state;
 * - WARNING -> NORMAL with qts_safety_clear_warning once the condition is gone;
 * - FAIL -> NORMAL with qts_safety_recover (no approval needed);
 * - LOCKDOWN -> NORMAL only with an approval naming who and why, recorded
 *   with the time.
 * Trading is allowed only in NORMAL and WARNING, with the kill switch off
 * and trading enabled.
 *
 * Threads: qts_safety_trading_allowed / _state / _kill_on are lock-free reads
 * from any thread; every change goes through one mutex. Listener callbacks
 * run on the thread that made the change, after the lock is released.
 */
#ifndef QTS_SAFETY_H
#define QTS_SAFETY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "qts/qts_err.h"
#include "safety_codes.h"

enum qts_safety_state {
    QTS_SAFETY_NORMAL = 0,
    QTS_SAFETY_WARNING = 1,
    QTS_SAFETY_FAIL = 2,
    QTS_SAFETY_LOCKDOWN = 3,
};
const char *qts_safety_state_name(int state);

#define QTS_SAFETY_LOCKDOWN_THRESHOLD 2 /* consecutive fail-safes */

/* One entry of the safety log (also what the listener gets). */
struct qts_safety_event {
    int64_t ts_ns;    /* clock time */
    int code;         /* enum qts_safety_code, -1 for operator actions */
    uint8_t from, to; /* state before and after */
    char what[16];    /* "raise", "kill", "unkill", "recover", "clear" */
    char msg[160];
};

/* An operator's approval to leave LOCKDOWN (or FAIL). */
struct qts_safety_approval {
    int64_t ts_ns; /* wall time of the approval */
    uint8_t from;  /* state that was left */
    char who[64];
    char reason[160];
};

struct qts_safety_listener {
    /* every event: state changes, raised codes, kill switch changes */
    void (*on_event)(void *ctx, const struct qts_safety_event *ev);
    void *ctx; /* borrowed */
};

struct qts_safety;

/* `clock` (borrowed, may be NULL = wall clock) stamps events and approvals. */
struct qts_safety *qts_safety_new(const struct qts_clock *clock);
void qts_safety_free(struct qts_safety *s);
/* Copied; replaces the previous listener. */
void qts_safety_set_listener(struct qts_safety *s, const struct qts_safety_listener *l);

/* Lock-free reads. */
int qts_safety_state(const struct qts_safety *s);
bool qts_safety_kill_on(const struct qts_safety *s);
bool qts_safety_trading_enabled(const struct qts_safety *s);
bool qts_safety_trading_allowed(const struct qts_safety *s);
/* How many times `code` was raised since the host started. */
uint64_t qts_safety_raised(struct qts_safety *s, int code);
/* Fail-safes counted since the last recovery. */
int qts_safety_consecutive_fails(const struct qts_safety *s);

/* Report a code (enum qts_safety_code) with a message (copied, may be
 * NULL). Moves the state as the header says; returns the new state, or
 * QTS_EINVAL for an unknown code. */
int qts_safety_raise(struct qts_safety *s, int code, const char *msg);
/* WARNING -> NORMAL once the anomaly is gone; a no-op in other states.
 * Returns the new state. */
int qts_safety_clear_warning(struct qts_safety *s);
/* Leave FAIL or LOCKDOWN. FAIL needs nothing; LOCKDOWN needs approved =
 * true and a non-empty `who` and `reason` (copied), else QTS_EPERM and the
 * state is unchanged. The approval is recorded either way it succeeds.
 * Also turns the kill switch off when `approved`. Returns the new state. */
int qts_safety_recover(struct qts_safety *s, bool approved, const char *who, const char *reason,
                       struct qts_err *err);
/* Last recorded approval; false when there was none. */
bool qts_safety_last_approval(const struct qts_safety *s, struct qts_safety_approval *out);

/* Operator kill switch (who and reason copied, may be NULL). Turning it off
 * without leaving LOCKDOWN is done by qts_safety_recover. */
void qts_safety_set_kill(struct qts_safety *s, bool on, const char *who, const char *reason);
void qts_safety_set_trading_enabled(struct qts_safety *s, bool on);

/* The last `cap` events, oldest first; returns how many were copied. */
size_t qts_safety_events(const struct qts_safety *s, struct qts_safety_event *out, size_t cap);
/* {"state":..,"kill":..,"trading_enabled":..,"consecutive_fails":..,
 *  "last_approval":{..}|null,"safety_source":..,"safety_saved":..} into buf;
 * returns what snprintf would write. */
int qts_safety_status_json(const struct qts_safety *s, char *buf, size_t cap);

/* ------------------------------------------------------------ latches */

/* What outlives the process (docs/safety.md, "Persistence"): the kill
 * switch, FAIL and LOCKDOWN with the code and message that set them, who
 * pulled the switch and why, and the last approval. WARNING is not a latch
 * (its condition is measured again after a restart): it is kept as NORMAL. */
struct qts_safety_latch {
    int state;           /* QTS_SAFETY_NORMAL, _FAIL or _LOCKDOWN */
    int code;            /* last TRIP code (enum qts_safety_code); -1 none */
    int consecutive;     /* fail-safes since the last recovery */
    int64_t state_ts_ns; /* wall time of the last TRIP or recovery; 0 unknown */
    char state_msg[160];
    bool kill;
    int64_t kill_ts_ns; /* wall time the switch last changed; 0 unknown */
    char kill_who[64];
    char kill_reason[160];
    bool have_approval;
    struct qts_safety_approval approval;
};

/* Copy the latches (consistent: taken under the lock). */
void qts_safety_latch_get(const struct qts_safety *s, struct qts_safety_latch *out);
/* Put restored latches in place (start-up, before any order): state, kill
 * switch, approval; logged as a "restore" event. The saver is not called. */
void qts_safety_latch_apply(struct qts_safety *s, const struct qts_safety_latch *l);
/* One line for logs and the store: "state=LOCKDOWN code=FS104 kill=on
 * kill_by=ops since=<UTC>"; returns what snprintf would write. */
int qts_safety_latch_summary(const struct qts_safety_latch *l, char *buf, size_t cap);
/* Wall time `ns` as "2026-12-07T04:22:36Z" ("-" for 0) into buf (cap >= 24). */
void qts_safety_utc(int64_t ns, char *buf, size_t cap);

/* Called after every latch change (a TRIP, the kill switch, a recovery)
 * with the latches as they are now, on the thread that made the change;
 * calls are serialised, so the last call carries the newest state. `l` is
 * borrowed for the call. fn NULL removes the saver. */
typedef void (*qts_safety_saver_fn)(void *ctx, const struct qts_safety_latch *l);
void qts_safety_set_saver(struct qts_safety *s, qts_safety_saver_fn fn, void *ctx);
/* Texts shown by status as "safety_source" (where the state came from) and
 * "safety_saved" (the last save, or why it failed); copied, NULL keeps the
 * current text. */
void qts_safety_set_notes(struct qts_safety *s, const char *source, const char *saved);

/* ------------------------------------------------------ configuration */

/* The `safety:` section of the configuration (docs/config.md). */
struct qts_safety_cfg {
    bool cancel_on_stop;          /* true: SIGTERM cancels working orders; false: kept */
    bool kill_flatten;            /* false: kill cancels; true: EmergencyEscape (flatten) */
    int64_t watchdog_interval_ms; /* 50 */
    int64_t core_warn_ms;         /* 200: AN040 */
    int64_t core_stall_ms;        /* 1000: FS060 */
    int64_t risk_loop_stall_ms;   /* 2000: FS100 */
    int64_t worker_stall_ms;      /* 5000: GR091 */
};
void qts_safety_cfg_default(struct qts_safety_cfg *c);

/* ---------------------------------------------------------- kill path */

struct qts_exec;
/* Pull the kill switch and act on it at once: turn the switch on (new
 * orders are then rejected with GR101 by the pre-trade hook), then cancel
 * every working parent order (flatten = false) or EmergencyEscape them all
 * (flatten = true: cancel and liquidate what they filled). Every cancel is
 * handed to the broker before this returns. `x` is borrowed. Returns the
 * number of parent orders affected. Core loop thread only. */
size_t qts_safety_kill_exec(struct qts_safety *s, struct qts_exec *x, bool flatten, const char *who,
                            const char *reason);
/* Cancel every working parent order; does not touch the kill switch.
 * Returns the number of orders cancelled. */
size_t qts_safety_cancel_all(struct qts_exec *x, const char *reason);
/* The order part of an orderly stop (SIGTERM): cancel every working order
 * when cfg->cancel_on_stop, else leave them working at the broker (logged).
 * Returns the number cancelled. */
size_t qts_safety_stop_orders(struct qts_exec *x, const struct qts_safety_cfg *cfg);

/* Kill-switch file: an operator fallback that needs no socket. When `path`
 * exists and holds nothing, or one of ON / ACTIVE / 1 / TRUE (any case,
 * surrounding blanks ignored), the kill switch is turned on (who = "file").
 * Other contents (OFF, 0, ...) do nothing. Removing the file does not turn
 * the switch off: only an approved resume does. Returns 1 when this call
 * turned the switch on, 0 otherwise. The engine polls it (e.g. every second)
 * with <var_dir>/KILL. */
int qts_safety_kill_file_poll(struct qts_safety *s, const char *path);
#define QTS_KILL_FILE_NAME "KILL"

/* ------------------------------------------------------- live guard */

#define QTS_LIVE_ACK_ENV "QTS_LIVE_ACK"
#define QTS_LIVE_ACK_VALUE "I_UNDERSTAND_LIVE_TRADING"

enum qts_live_missing {
    QTS_LIVE_MISSING_MODE = 1u << 0,   /* broker is real but mode is not "live" */
    QTS_LIVE_MISSING_BROKER = 1u << 1, /* mode live but broker env is not REAL */
    QTS_LIVE_MISSING_ACK = 1u << 2,    /* QTS_LIVE_ACK absent or wrong */
};

/* May the host start? `mode` is the configured mode ("live", "paper",
 * "backtest"...; NULL = not live), `broker_env` what the broker reports
 * (enum qts_broker_env, -1 = no broker), `ack` the value of QTS_LIVE_ACK
 * (NULL = unset). Returns 0 when allowed, else the QTS_LIVE_MISSING_* bits,
 * with a sentence naming each missing item in `why` (may be NULL). */
unsigned qts_safety_live_guard(const char *mode, int broker_env, const char *ack, char *why,
                               size_t cap);

#endif /* QTS_SAFETY_H */
