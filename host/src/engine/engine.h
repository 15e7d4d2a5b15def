/* engine.h — the core: wires feeds, books, strategies, execution, the
 * broker and the portfolio around one libuv loop.
 *
 * Data flow (ARCHITECTURE §2):
 *   feed plugin --emit--> engine: clock, book, last price
 *        --> bus: portfolio mark, risk price, cache, TCA (bus.h)
 *        --> broker.on_market (simulated venues)
 *        --> Lua runtime (strategies) --intents--> exec pipeline --> broker
 *   broker --exec reports--> exec pipeline --> order events and fills on the
 *        bus: portfolio, store, cache, budget, TCA, strategies
 * The bus's subscribers and their order: wire_bus in engine_wire.c and
 * docs/architecture.md.
 *
 * Replay mode: the clock is the data's time; the engine pulls the feeds with
 * their poll operation and processes each event completely (timers due
 * before it, book, venue, strategies, the orders they placed) before the
 * next, so the same input and configuration give byte-identical output.
 * Paper and live modes: the loop runs until a stop is requested (SIGINT,
 * SIGTERM), feeds push their events, timers are libuv timers.
 *
 * Ownership: the engine keeps a reference on the configuration snapshot it
 * was created from; everything else it creates it owns.
 * All functions run on the thread that created the engine.
 */
#ifndef QTS_ENGINE_H
#define QTS_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qts/qts_err.h"

struct qts_config;
struct qts_engine;
struct qts_portfolio;

struct qts_engine_opts {
    const char *run_dir;  /* where the run's files go; NULL = <var_dir>/runs/<run id> */
    const char *run_name; /* the run id; NULL = made up at start (run_id.h) */
    FILE *progress;       /* progress output; NULL = none */
    bool progress_is_tty; /* progress is stderr, a terminal: a status line under the log */
    uint64_t max_events;  /* stop a replay after this many events; 0 = all */
};

/* What a run did (for the CLI and tests). */
struct qts_engine_stats {
    uint64_t events; /* market events processed */
    uint64_t trades, quotes, books, bars;
    uint64_t intents;  /* orders strategies asked for */
    uint64_t rejected; /* of which PreCheck or the venue rejected */
    uint64_t exec_reports;
    uint64_t fills;
    uint64_t book_errors; /* updates the book could not apply (gaps) */
    int64_t first_ts_ns, last_ts_ns;
    int64_t wall_ns; /* how long the run took */
    int64_t equity;  /* final equity, cash units */
    int64_t initial_cash;
};

/* Create everything the configuration names (instruments, plugins,
 * strategies) and start the plugins. `cfg` is referenced, not consumed.
 * Returns 0, QTS_ECONFIG (a plugin or strategy refused its configuration;
 * err says which) or another error. */
int qts_engine_new(struct qts_config *cfg, const struct qts_engine_opts *opts,
                   struct qts_engine **out, struct qts_err *err);

/* Run until the replay ends (replay mode) or a stop is requested. Then
 * stop the strategies, write the run directory (summary.json, report.html,
 * CSV files) and return 0, or an error. */
int qts_engine_run(struct qts_engine *e, struct qts_err *err);

/* Ask the run to end after the current event. Async-signal-safe and
 * callable from any thread: it sets a flag and wakes the loop. */
void qts_engine_request_stop(struct qts_engine *e);
/* After qts_engine_run: the exit status the run deserves (docs/operations.md):
 * 0 = a replay that reached its end, or a paper/live stop that left no
 * order working; 128 + the signal (130 SIGINT, 143 SIGTERM) = a replay a
 * signal stopped early (its files cover the events processed); 1 = a
 * paper/live stop that left orders working (stop.json lists them). */
int qts_engine_exit_status(const struct qts_engine *e);

/* Kill switch: cancel every working order and refuse new ones. Returns the
 * number of orders affected. */
size_t qts_engine_kill(struct qts_engine *e, const char *reason);

void qts_engine_get_stats(const struct qts_engine *e, struct qts_engine_stats *out);
const char *qts_engine_run_dir(const struct qts_engine *e);
/* The run's id (run_id.h): its directory's name under <var_dir>/runs.
 * Borrowed: lives as long as `e`. */
const char *qts_engine_run_id(const struct qts_engine *e);
/* Working (non-final) orders right now. */
size_t qts_engine_working_orders(const struct qts_engine *e);

/* The account (borrowed; valid until qts_engine_free). */
const struct qts_portfolio *qts_engine_portfolio(const struct qts_engine *e);

void qts_engine_free(struct qts_engine *e);

#endif /* QTS_ENGINE_H */
