/* settings.c — the key table and the validation walk over the tree.
 *
 * The walk visits every key of the merged tree once: a key without a row is
 * an unknown key (with a "did you mean" from the sibling rows), a key with a
 * row is converted into its typed field. Afterwards every row that was not
 * present gets its default, or an error when it is required. Maps read by
 * their owner (a plugin's `config:`, a strategy's `params:`) are stored as
 * nodes and not descended into: a plugin's is checked against its key
 * table when the plugin is loaded (config_keys.h), a strategy reads its own.
 */
#include "settings.h"
#include "risk_control.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_keys.h"
#include "config_node.h"
#include "qts/qts_fixed.h"
#include "util.h"

#define S(field) offsetof(struct qts_settings, field)
#define I(field) offsetof(struct qts_instrument_cfg, field)
#define P(field) offsetof(struct qts_plugin_slot, field)
#define T(field) offsetof(struct qts_strategy_cfg, field)
#define RANGE(lo, hi) .has_range = true, .min = (lo), .max = (hi)

/* Documentation order. Append new keys next to their section. */
const struct qts_key qts_config_keys[] = {
    {"preset", QTS_KEY_ENUM, "auto", .choices = "auto|backtest|paper|live_scalping",
     .offset = S(preset),
     .doc = "defaults of the risk and execution keys: backtest, paper or live_scalping; auto = "
            "backtest in a replay, live_scalping in paper and live (docs/config.md)"},
    {"mode", QTS_KEY_ENUM, "replay", .choices = "replay|paper|live", .offset = S(mode),
     .doc = "replay: historical data and virtual clock; paper: simulated fills; live: real broker"},
    {"host_id", QTS_KEY_STRING, "qts-1", .offset = S(host_id),
     .doc = "name of this host; prefixes shared Redis keys and database rows"},

    {"log", QTS_KEY_SECTION, .doc = "logging"},
    {"log.level", QTS_KEY_ENUM, "info", .choices = "trace|debug|info|warn|error",
     .offset = S(log_level), .doc = "lowest level written"},
    {"log.file", QTS_KEY_PATH, "", .offset = S(log_file),
     .doc = "also append log lines to this file; empty = standard error only"},

    {"http", QTS_KEY_SECTION, .doc = "the operators' HTTP server (docs/operations.md, Metrics)"},
    {"http.listen", QTS_KEY_STRING, "", .offset = S(http_listen),
     .doc = "address:port to serve /metrics and the dashboard on, e.g. 127.0.0.1:9464 (port 0: "
            "any free port; a bare port binds 127.0.0.1); empty = no server"},

    {"alerts", QTS_KEY_SECTION, .doc = "messages to operators (docs/operations.md, Alerts)"},
    {"alerts.telegram_chat", QTS_KEY_STRING, "", .offset = S(alerts_telegram_chat),
     .doc = "Telegram chat id to send alerts to (the bot token: secret telegram_token); empty = "
            "no Telegram"},
    {"alerts.telegram_api", QTS_KEY_STRING, "https://api.telegram.org",
     .offset = S(alerts_telegram_api), .doc = "base URL of the Telegram Bot API"},
    {"alerts.webhook_url", QTS_KEY_STRING, "", .offset = S(alerts_webhook_url),
     .doc = "URL each batch of alerts is POSTed to as JSON; empty = no webhook"},
    {"alerts.min_interval_ms", QTS_KEY_DURATION_MS, "10000", .offset = S(alerts_min_interval_ms),
     RANGE(0, 3600000),
     .doc = "alerts within this time of the last message wait and leave together"},
    {"alerts.reject_burst", QTS_KEY_INT, "20", .offset = S(alerts_reject_burst), RANGE(1, 1000000),
     .doc = "this many rejected orders within 60 s is an alert"},

    {"paths", QTS_KEY_SECTION, .doc = "where the host keeps its files"},
    {"paths.var_dir", QTS_KEY_PATH, "var", .offset = S(var_dir),
     .doc = "run-time data: databases, journals, kill-switch file"},

    {"plugins", QTS_KEY_SECTION, .doc = "plugin loading"},
    {"plugins.dir", QTS_KEY_PATH, "plugins", .offset = S(plugins_dir),
     .doc = "where a plugin given by name is found (<dir>/<name>.so)"},
    {"plugins.watch", QTS_KEY_BOOL, "false", .offset = S(plugins_watch),
     .doc = "reload a plugin when its file is replaced"},
    {"plugins.resident", QTS_KEY_BOOL, "false", .offset = S(plugins_resident),
     .doc = "never unload plugin code (keeps old generations mapped)"},

    {"instruments", QTS_KEY_LIST, .offset = S(instruments), .count_offset = S(n_instruments),
     .elem_size = sizeof(struct qts_instrument_cfg), .doc = "tradable instruments"},
    {"instruments.*.symbol", QTS_KEY_STRING, .required = true, .offset = I(symbol),
     .doc = "symbol as the venue spells it"},
    {"instruments.*.venue", QTS_KEY_STRING, "synthetic", .offset = I(venue),
     .doc = "venue (exchange) name"},
    {"instruments.*.px_exp", QTS_KEY_INT, "2", RANGE(0, 18), .offset = I(px_exp),
     .doc = "price decimals of the fixed-point price"},
    {"instruments.*.qty_exp", QTS_KEY_INT, "0", RANGE(0, 18), .offset = I(qty_exp),
     .doc = "quantity decimals of the fixed-point quantity"},
    {"instruments.*.tick_size", QTS_KEY_DECIMAL, .required = true, RANGE(0, INFINITY),
     .offset = I(tick_size), .doc = "smallest price step (exact decimal)"},
    {"instruments.*.lot_size", QTS_KEY_DECIMAL, "1", RANGE(0, INFINITY), .offset = I(lot_size),
     .doc = "smallest quantity step (exact decimal)"},
    {"instruments.*.min_qty", QTS_KEY_DECIMAL, "0", .offset = I(min_qty),
     .doc = "smallest order quantity (exact decimal)"},

    {"feeds", QTS_KEY_LIST, .offset = S(feeds), .count_offset = S(n_feeds),
     .elem_size = sizeof(struct qts_plugin_slot), .doc = "market-data feed plugin slots"},
    {"feeds.*.name", QTS_KEY_STRING, .required = true, .offset = P(name),
     .doc = "slot name, unique among feeds"},
    {"feeds.*.plugin", QTS_KEY_STRING, .required = true, .offset = P(plugin),
     .doc = "plugin name (<plugins.dir>/<name>.so) or path to a .so"},
    {"feeds.*.config", QTS_KEY_MAP, .offset = P(config),
     .doc = "the plugin's keys, checked against its key table (docs/plugins.md)"},

    {"broker", QTS_KEY_SECTION, .doc = "the broker plugin slot"},
    {"broker.plugin", QTS_KEY_STRING, .required = true, .offset = S(broker.plugin),
     .doc = "plugin name or path"},
    {"broker.config", QTS_KEY_MAP, .offset = S(broker.config),
     .doc = "the plugin's keys, checked against its key table (docs/plugins.md)"},

    {"cache", QTS_KEY_SECTION, .doc = "the cache plugin slot (optional)"},
    {"cache.plugin", QTS_KEY_STRING, .required = true, .offset = S(cache.plugin),
     .doc = "plugin name or path"},
    {"cache.config", QTS_KEY_MAP, .offset = S(cache.config),
     .doc = "the plugin's keys, checked against its key table (docs/plugins.md)"},

    {"store", QTS_KEY_SECTION, .doc = "the store plugin slot (optional)"},
    {"store.plugin", QTS_KEY_STRING, .required = true, .offset = S(store.plugin),
     .doc = "plugin name or path"},
    {"store.config", QTS_KEY_MAP, .offset = S(store.config),
     .doc = "the plugin's keys, checked against its key table (docs/plugins.md)"},
    {"store.ticks", QTS_KEY_ENUM, "auto", .choices = "auto|none|trades|all",
     .offset = S(store_ticks),
     .doc = "tick_data: auto (none in replay, all in paper/live), none, trades, or trades "
            "and top-of-book changes (all)"},
    {"store.restore", QTS_KEY_ENUM, "auto", .choices = "auto|off", .offset = S(store_restore),
     .doc = "at start, auto: a paper or live run takes the positions of the previous run of the "
            "same mode and host from the store (a replay never does); off: nothing"},
    {"store.history_bars", QTS_KEY_INT, "500", RANGE(0, 100000), .offset = S(store_history_bars),
     .doc = "1-minute and 1-day bars per instrument read from the store at start for "
            "ctx:history; 0 = none"},

    {"strategies", QTS_KEY_SECTION, .doc = "Lua strategies"},
    {"strategies.dir", QTS_KEY_PATH, "strategies", .offset = S(strategies_dir),
     .doc = "where strategy files are found"},
    {"strategies.workers", QTS_KEY_INT, "1", RANGE(1, 64), .offset = S(strategy_workers),
     .doc = "strategy worker threads"},
    {"strategies.watch", QTS_KEY_BOOL, "false", .offset = S(strategies_watch),
     .doc = "reload a strategy when its file is saved"},
    {"strategies.memory_limit_mb", QTS_KEY_INT, "64", RANGE(1, 65536),
     .offset = S(strategy_memory_limit_mb), .doc = "Lua heap limit per strategy"},
    {"strategies.callback_budget_ms", QTS_KEY_DURATION_MS, "50", RANGE(1, 60000),
     .offset = S(strategy_callback_budget_ms),
     .doc = "a callback running longer is counted and logged"},
    {"strategies.max_errors_per_minute", QTS_KEY_INT, "10", RANGE(1, 100000),
     .offset = S(strategy_max_errors_per_minute),
     .doc = "more errors than this in a minute halt the strategy"},
    {"strategies.replay_loop_guard", QTS_KEY_BOOL, "true", .offset = S(strategy_replay_loop_guard),
     .doc = "replay: strategy code runs interpreted and a callback past 10^9 Lua instructions "
            "fails its strategy; false: JIT-compiled (faster), an endless loop stalls the "
            "replay"},
    {"strategies.list", QTS_KEY_LIST, .offset = S(strategies), .count_offset = S(n_strategies),
     .elem_size = sizeof(struct qts_strategy_cfg), .doc = "strategy instances"},
    {"strategies.list.*.name", QTS_KEY_STRING, .required = true, .offset = T(name),
     .doc = "instance name, unique"},
    {"strategies.list.*.file", QTS_KEY_STRING, .required = true, .offset = T(file),
     .doc = "Lua file, relative to strategies.dir"},
    {"strategies.list.*.enabled", QTS_KEY_BOOL, "true", .offset = T(enabled),
     .doc = "false = loaded by check, not run"},
    {"strategies.list.*.worker", QTS_KEY_INT, "0", RANGE(0, 63), .offset = T(worker),
     .doc = "worker thread index (below strategies.workers)"},
    {"strategies.list.*.symbols", QTS_KEY_STRLIST, .offset = T(symbols),
     .count_offset = T(n_symbols), .doc = "instruments the strategy receives"},
    {"strategies.list.*.params", QTS_KEY_MAP, .offset = T(params),
     .doc = "free-form; passed to on_init"},
    {"strategies.list.*.risk", QTS_KEY_MAP, .offset = T(risk),
     .doc = "risk limit overrides for this strategy: any risk.* key without the prefix"},

    {"risk", QTS_KEY_SECTION,
     .doc = "pre-trade risk limits and the micro risk loop (docs/risk.md)"},
    {"risk.trading_enabled", QTS_KEY_BOOL, "true", .offset = S(risk.trading_enabled),
     .doc = "false = every new order is rejected (GR100)"},
    {"risk.pool", QTS_KEY_ENUM, "scalp", .choices = "scalp|swing|portfolio", .offset = S(risk.pool),
     .doc = "capital pool the orders draw from (GR061) and holding-time class"},
    {"risk.price_band_last_pct", QTS_KEY_DOUBLE, "0.05", RANGE(0, 0.999),
     .offset = S(risk.price_band_last_pct),
     .doc = "limit price at most this far from the last trade (GR105)"},
    {"risk.price_band_mid_pct", QTS_KEY_DOUBLE, "0.05", RANGE(0, 0.999),
     .offset = S(risk.price_band_mid_pct),
     .doc = "limit price at most this far from the mid (GR106)"},
    {"risk.max_order_qty", QTS_KEY_DOUBLE, "0", RANGE(0, INFINITY), .offset = S(risk.max_order_qty),
     .doc = "largest order in whole units; 0 = no limit (GR107)"},
    {"risk.max_order_notional", QTS_KEY_DOUBLE, "0", RANGE(0, INFINITY),
     .offset = S(risk.max_order_notional),
     .doc = "largest order value in currency; 0 = no limit (GR108)"},
    {"risk.max_position_symbol", QTS_KEY_DOUBLE, "0", RANGE(0, INFINITY),
     .offset = S(risk.max_position_symbol),
     .doc = "largest account position per symbol in whole units; 0 = no limit (GR109)"},
    {"risk.max_position_strategy", QTS_KEY_DOUBLE, "0", RANGE(0, INFINITY),
     .offset = S(risk.max_position_strategy),
     .doc = "largest position of one strategy per symbol; 0 = no limit (GR110)"},
    {"risk.max_exposure_pct", QTS_KEY_DOUBLE, "0.95", RANGE(0.0001, 10),
     .offset = S(risk.max_exposure_pct), .doc = "gross exposure / equity (GR001)"},
    {"risk.max_net_exposure_pct", QTS_KEY_DOUBLE, "0.95", RANGE(0.0001, 10),
     .offset = S(risk.max_net_exposure_pct), .doc = "abs(net exposure) / equity (GR111)"},
    {"risk.max_symbol_exposure_pct", QTS_KEY_DOUBLE, "0.15", RANGE(0.0001, 10),
     .offset = S(risk.max_symbol_exposure_pct), .doc = "one symbol's exposure / equity (GR010)"},
    {"risk.daily_loss_warn_pct", QTS_KEY_DOUBLE, "0.03", RANGE(0, 0.999),
     .offset = S(risk.daily_loss_warn_pct), .doc = "daily loss / equity that raises GR020"},
    {"risk.daily_loss_limit_pct", QTS_KEY_DOUBLE, "0.05", RANGE(0.0001, 0.999),
     .offset = S(risk.daily_loss_limit_pct),
     .doc = "daily loss / equity after which risk-increasing orders are rejected (GR112)"},
    {"risk.max_orders_per_sec", QTS_KEY_INT, "20", RANGE(0, 1000000),
     .offset = S(risk.max_orders_per_sec),
     .doc = "orders per second per strategy; 0 = no limit (GR113)"},
    {"risk.max_orders_per_min", QTS_KEY_INT, "600", RANGE(0, 1000000),
     .offset = S(risk.max_orders_per_min),
     .doc = "orders per minute per strategy; 0 = no limit (GR114)"},
    {"risk.max_cancels_per_sec", QTS_KEY_INT, "40", RANGE(0, 1000000),
     .offset = S(risk.max_cancels_per_sec),
     .doc = "cancels per second per strategy; 0 = no limit (GR115)"},
    {"risk.max_cancels_per_min", QTS_KEY_INT, "1200", RANGE(0, 1000000),
     .offset = S(risk.max_cancels_per_min),
     .doc = "cancels per minute per strategy; 0 = no limit (GR116)"},
    {"risk.max_daily_trades", QTS_KEY_INT, "0", RANGE(0, 1000000),
     .offset = S(risk.max_daily_trades),
     .doc = "trades per day per strategy; 0 = no limit (GR062)"},
    {"risk.loop_period_ms", QTS_KEY_DURATION_MS, "100", RANGE(10, 1000),
     .offset = S(risk.loop_period_ms), .doc = "micro risk loop period"},
    {"risk.trail_activation_pct", QTS_KEY_DOUBLE, "0.01", RANGE(0.0001, 0.999),
     .offset = S(risk.trail_activation_pct),
     .doc = "profit at which the trailing stop becomes active"},
    {"risk.trail_distance_pct", QTS_KEY_DOUBLE, "0.005", RANGE(0.0001, 0.999),
     .offset = S(risk.trail_distance_pct),
     .doc = "trailing stop distance from the best price since entry"},
    {"risk.trail_min_distance", QTS_KEY_DOUBLE, "0", RANGE(0, INFINITY),
     .offset = S(risk.trail_min_distance),
     .doc = "minimum trailing distance in currency (price units)"},
    {"risk.mae_partial_pct", QTS_KEY_DOUBLE, "0.015", RANGE(0.0001, 0.999),
     .offset = S(risk.mae_partial_pct),
     .doc = "adverse excursion that cuts partial_exit_ratio of the position, once"},
    {"risk.mae_full_pct", QTS_KEY_DOUBLE, "0.02", RANGE(0.0001, 0.999),
     .offset = S(risk.mae_full_pct), .doc = "adverse excursion that flattens the position"},
    {"risk.partial_exit_ratio", QTS_KEY_DOUBLE, "0.5", RANGE(0.01, 0.99),
     .offset = S(risk.partial_exit_ratio),
     .doc = "share of the position a partial exit sells or covers"},
    {"risk.mae_warn_ratio", QTS_KEY_DOUBLE, "0.8", RANGE(0.01, 1), .offset = S(risk.mae_warn_ratio),
     .doc = "GR071 at this share of mae_full_pct"},
    {"risk.account_mae_pct", QTS_KEY_DOUBLE, "0.05", RANGE(0.0001, 0.999),
     .offset = S(risk.account_mae_pct),
     .doc = "total unrealised loss / equity that pulls the kill switch"},
    {"risk.max_hold_scalp_ms", QTS_KEY_DURATION_MS, "1h", RANGE(0, INFINITY),
     .offset = S(risk.max_hold_ms[QTS_POOL_SCALP]),
     .doc = "longest holding time of a scalp position; 0 = none"},
    {"risk.max_hold_swing_ms", QTS_KEY_DURATION_MS, "168h", RANGE(0, INFINITY),
     .offset = S(risk.max_hold_ms[QTS_POOL_SWING]),
     .doc = "longest holding time of a swing position; 0 = none"},
    {"risk.max_hold_portfolio_ms", QTS_KEY_DURATION_MS, "0", RANGE(0, INFINITY),
     .offset = S(risk.max_hold_ms[QTS_POOL_PORTFOLIO]),
     .doc = "longest holding time of a portfolio position; 0 = none"},
    {"risk.hold_warn_ratio", QTS_KEY_DOUBLE, "0.8", RANGE(0.01, 1),
     .offset = S(risk.hold_warn_ratio), .doc = "GR072 at this share of the holding time"},
    {"risk.hold_extension_ms", QTS_KEY_DURATION_MS, "30m", RANGE(0, INFINITY),
     .offset = S(risk.hold_extension_ms),
     .doc = "extra holding time, once, while the position is in profit"},
    {"risk.vol_warn", QTS_KEY_DOUBLE, "0.03", RANGE(0.0001, 10), .offset = S(risk.vol_warn),
     .doc = "realised intraday volatility that raises GR073"},
    {"risk.vol_critical", QTS_KEY_DOUBLE, "0.05", RANGE(0.0001, 10), .offset = S(risk.vol_critical),
     .doc = "realised volatility that cuts every position by half, once"},
    {"risk.vol_kill", QTS_KEY_DOUBLE, "0.08", RANGE(0.0001, 10), .offset = S(risk.vol_kill),
     .doc = "realised volatility that flattens everything and locks down"},
    {"risk.vix_warn", QTS_KEY_DOUBLE, "25", RANGE(0.01, 1000), .offset = S(risk.vix_warn),
     .doc = "volatility index that raises GR073"},
    {"risk.vix_critical", QTS_KEY_DOUBLE, "30", RANGE(0.01, 1000), .offset = S(risk.vix_critical),
     .doc = "volatility index that cuts every position by half, once"},
    {"risk.vix_kill", QTS_KEY_DOUBLE, "40", RANGE(0.01, 1000), .offset = S(risk.vix_kill),
     .doc = "volatility index that flattens everything and locks down"},
    {"risk.stale_ms", QTS_KEY_DURATION_MS, "500", RANGE(1, 3600000), .offset = S(risk.stale_ms),
     .doc = "no tick for this long: entries frozen (GR117), AN010"},
    {"risk.stale_trip_ms", QTS_KEY_DURATION_MS, "1000", RANGE(1, 3600000),
     .offset = S(risk.stale_trip_ms), .doc = "no tick for this long with an open position: FS107"},
    {"risk.stale_intervals", QTS_KEY_DOUBLE, "5", RANGE(1, 1000000),
     .offset = S(risk.stale_intervals),
     .doc = "stale after this many of the instrument's data intervals (a bar's period), when "
            "longer than stale_ms"},
    {"risk.stale_trip_intervals", QTS_KEY_DOUBLE, "10", RANGE(1, 1000000),
     .offset = S(risk.stale_trip_intervals),
     .doc = "FS107 after this many data intervals without a price, when longer than "
            "stale_trip_ms"},
    {"risk.jump_pct", QTS_KEY_DOUBLE, "0.05", RANGE(0.0001, 0.999), .offset = S(risk.jump_pct),
     .doc = "tick-to-tick move that raises AN001"},
    {"shared_budget", QTS_KEY_SECTION,
     .doc = "exposure budget shared by several hosts on one account (docs/cache.md)"},
    {"shared_budget.key", QTS_KEY_STRING, "", .offset = S(budget_key),
     .doc = "shared exposure budget: counter name in the cache tier (several hosts, one account); "
            "empty = none"},
    {"shared_budget.limit", QTS_KEY_DECIMAL, "0", .cash = true, .offset = S(budget_limit),
     .doc =
         "exposure in currency that all hosts sharing shared_budget.key may hold together (GR119)"},
    {"shared_budget.policy", QTS_KEY_ENUM, "refuse", .choices = "refuse|local_share",
     .offset = S(budget_policy),
     .doc = "cache unreachable: refuse new risk beyond the lease held, or use a local share of the "
            "limit"},
    {"shared_budget.local_share", QTS_KEY_DOUBLE, "0.5", RANGE(0, 1),
     .offset = S(budget_local_share),
     .doc = "local_share policy: fraction of shared_budget.limit this host may use alone"},

    {"safety", QTS_KEY_SECTION, .doc = "kill switch, orderly stop and watchdog (docs/safety.md)"},
    {"safety.cancel_on_stop", QTS_KEY_BOOL, "true", .offset = S(safety.cancel_on_stop),
     .doc = "SIGTERM cancels every working order (false: they stay working at the broker)"},
    {"safety.stop_timeout_ms", QTS_KEY_DURATION_MS, "5000", RANGE(0, 600000),
     .offset = S(stop_timeout_ms),
     .doc = "paper/live stop: longest wait for the broker to confirm the cancels; then "
            "stop.json lists what is still working"},
    {"safety.kill_flatten", QTS_KEY_BOOL, "false", .offset = S(safety.kill_flatten),
     .doc = "the kill switch also liquidates what working orders filled (EmergencyEscape)"},
    {"safety.watchdog_interval_ms", QTS_KEY_DURATION_MS, "50", RANGE(1, 10000),
     .offset = S(safety.watchdog_interval_ms), .doc = "how often the watchdog samples heartbeats"},
    {"safety.core_warn_ms", QTS_KEY_DURATION_MS, "200", RANGE(1, 3600000),
     .offset = S(safety.core_warn_ms), .doc = "core loop silent this long: AN040"},
    {"safety.core_stall_ms", QTS_KEY_DURATION_MS, "1000", RANGE(1, 3600000),
     .offset = S(safety.core_stall_ms), .doc = "core loop silent this long: FS060"},
    {"safety.risk_loop_stall_ms", QTS_KEY_DURATION_MS, "2000", RANGE(1, 3600000),
     .offset = S(safety.risk_loop_stall_ms), .doc = "micro risk loop silent this long: FS100"},
    {"safety.worker_stall_ms", QTS_KEY_DURATION_MS, "5000", RANGE(1, 3600000),
     .offset = S(safety.worker_stall_ms), .doc = "a strategy worker silent this long: GR091"},

    {"account", QTS_KEY_SECTION, .doc = "the trading account"},
    {"account.initial_cash", QTS_KEY_DECIMAL, "100000", .cash = true,
     .offset = S(account_initial_cash),
     .doc = "cash at the start of a replay or paper run, in the quote currency"},
    {"execution", QTS_KEY_SECTION, .doc = "the execution micro-pipeline (docs/execution.md)"},
    {"execution.max_ref_age_ms", QTS_KEY_DURATION_MS, "2000", RANGE(0, 3600000),
     .offset = S(exec_max_ref_age_ms),
     .doc = "PreCheck: a reference price older than this rejects the order (AN010); 0 = no check"},
    {"execution.price_band_pct", QTS_KEY_DOUBLE, "0.05", RANGE(0, 1),
     .offset = S(exec_price_band_pct),
     .doc = "PreCheck: a limit price further than this fraction from the reference is rejected"},
    {"execution.max_children", QTS_KEY_INT, "10", RANGE(1, 1000), .offset = S(exec_max_children),
     .doc = "OrderSplit: most child orders per parent (GR060)"},
    {"execution.adjust_step_pct", QTS_KEY_DOUBLE, "0.001", RANGE(0, 0.1),
     .offset = S(exec_adjust_step_pct),
     .doc = "AdaptiveAdjust: reprice step per round, fraction of the price"},
    {"execution.adjust_max_rounds", QTS_KEY_INT, "3", RANGE(0, 20),
     .offset = S(exec_adjust_max_rounds),
     .doc = "AdaptiveAdjust: reprice rounds before EmergencyEscape"},
    {"execution.adjust_interval_ms", QTS_KEY_DURATION_MS, "1000", RANGE(1, 600000),
     .offset = S(exec_adjust_interval_ms), .doc = "AdaptiveAdjust: time between reprice rounds"},
    {"execution.max_slippage_pct", QTS_KEY_DOUBLE, "0.005", RANGE(0, 1),
     .offset = S(exec_max_slippage_pct),
     .doc = "AdaptiveAdjust: total slippage cap from the arrival price"},
    {"execution.monitor_timeout_ms", QTS_KEY_DURATION_MS, "60000", RANGE(0, 86400000),
     .offset = S(exec_monitor_timeout_ms),
     .doc = "PartialFillMonitor: time after the last slice before adjusting; 0 = none, orders "
            "wait at the venue"},
    {"execution.retain_orders", QTS_KEY_INT, "2000", RANGE(0, 100000000),
     .offset = S(exec_retain_orders),
     .doc = "retention: finished orders always kept in memory (the most recent ones)"},
    {"execution.retain_ms", QTS_KEY_DURATION_MS, "60000", RANGE(0, 604800000),
     .offset = S(exec_retain_ms),
     .doc = "retention: a finished order is kept at least this long (virtual time in replays)"},
    {"execution.evict_tombstones", QTS_KEY_INT, "65536", RANGE(0, 10000000),
     .offset = S(exec_evict_tombstones),
     .doc = "evicted child orders whose ids are remembered so late reports are recognised; 0 = "
            "never evict"},
    {"startup", QTS_KEY_SECTION,
     .doc =
         "the start-up sync of a paper or live run, before strategies start (docs/operations.md)"},
    {"startup.timeout_ms", QTS_KEY_DURATION_MS, "15000", RANGE(100, 600000),
     .offset = S(startup_timeout_ms),
     .doc = "longest wait for the cache, the broker's reconciliation, market snapshots and buying "
            "power"},
    {"startup.require_reconcile", QTS_KEY_BOOL, "true", .offset = S(startup_require_reconcile),
     .doc = "refuse to start when the broker's reconciliation fails or times out (a broker without "
            "it is exempt)"},
    {"startup.warm_from_cache", QTS_KEY_BOOL, "true", .offset = S(startup_warm_from_cache),
     .doc = "read what the previous run left in the cache and compare it with the broker's answer"},
    {"startup.seed_market", QTS_KEY_BOOL, "true", .offset = S(startup_seed_market),
     .doc = "ask the broker for each instrument's current price and order book before strategies "
            "start"},
    {"startup.adopt_positions", QTS_KEY_BOOL, "true", .offset = S(startup_adopt_positions),
     .doc = "book the broker's positions into the portfolio at their average price"},
    {"cluster", QTS_KEY_SECTION,
     .doc = "several hosts on one cache tier: heartbeat and ownership (docs/operations.md)"},
    {"cluster.claim", QTS_KEY_BOOL, "false", .offset = S(cluster_claim),
     .doc = "claim this host's instruments and strategies in the cache tier at start; a start "
            "that overlaps a live host's is refused"},
    {"cluster.ttl_ms", QTS_KEY_DURATION_MS, "3000", RANGE(300, 600000), .offset = S(cluster_ttl_ms),
     .doc = "TTL of the heartbeat key and the claims, renewed every third of it"},
    {"cluster.claim_timeout_ms", QTS_KEY_DURATION_MS, "5000", RANGE(100, 600000),
     .offset = S(cluster_claim_timeout_ms),
     .doc = "longest wait at start for the cache tier to answer the claims"},
    {"replay", QTS_KEY_SECTION, .doc = "replay mode"},
    {"replay.speed", QTS_KEY_SPEED, "max", .offset = S(replay_speed),
     .doc = "max = as fast as possible, or a positive multiple of real time"},
    {"feedback", QTS_KEY_MAP, .offset = S(feedback),
     .doc = "execution feedback loop (docs/feedback.md); free-form, validated by the engine"},
    {"decide", QTS_KEY_MAP, .offset = S(decide),
     .doc = "Decide stage: netting, capital pools, operating state (docs/decide.md); validated by "
            "the engine"},
};
const size_t qts_config_n_keys = QTS_ARRAY_LEN(qts_config_keys);

const char *qts_key_type_name(enum qts_key_type t)
{
    switch (t) {
    case QTS_KEY_SECTION: return "section";
    case QTS_KEY_STRING: return "string";
    case QTS_KEY_PATH: return "path";
    case QTS_KEY_INT: return "int";
    case QTS_KEY_DOUBLE: return "double";
    case QTS_KEY_BOOL: return "bool";
    case QTS_KEY_ENUM: return "enum";
    case QTS_KEY_DURATION_MS: return "duration_ms";
    case QTS_KEY_DECIMAL: return "decimal";
    case QTS_KEY_LIST: return "list";
    case QTS_KEY_STRLIST: return "list of string";
    case QTS_KEY_MAP: return "map";
    case QTS_KEY_SPEED: return "speed";
    }
    return "?";
}

void qts_key_choices_list(const struct qts_key *k, char *buf, size_t cap)
{
    size_t m = 0;
    for (const char *p = k->choices; *p && m + 3 < cap; p++) {
        if (*p == '|') {
            buf[m++] = ',';
            buf[m++] = ' ';
        } else {
            buf[m++] = *p;
        }
    }
    buf[m] = '\0';
}

const char *qts_mode_name(int mode)
{
    static const char *const names[] = {"replay", "paper", "live"};
    return mode >= 0 && mode < 3 ? names[mode] : "?";
}

static const struct qts_cfg_node *strategy_risk(const void *src, size_t i, const char **name)
{
    const struct qts_settings *s = src;
    *name = s->strategies[i].name;
    return s->strategies[i].risk;
}

void qts_settings_risk_view(const struct qts_settings *s, struct qts_risk_settings *out)
{
    *out = (struct qts_risk_settings){.mode = qts_mode_name(s->mode),
                                      .var_dir = s->var_dir,
                                      .limits = &s->risk,
                                      .safety = &s->safety,
                                      .n_strategies = s->n_strategies,
                                      .strategy_risk = strategy_risk,
                                      .src = s};
}

/* ------------------------------------------------------------------- walk */

struct walk {
    struct qts_diags *diags;
    const char *config_dir;
    int errors;
    const struct preset_val *preset; /* defaults replacing the table's; NULL = none */
};

static void QTS_PRINTF(4, 5)
    err_at(struct walk *w, const struct qts_cfg_node *n, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qts_diags_vadd(w->diags, n ? n->file : "?", n ? n->line : 0, n ? n->col : 0, path, fmt, ap);
    va_end(ap);
    w->errors++;
}

static const char *got(const struct qts_cfg_node *n, char *buf, size_t cap)
{
    return qts_cfg_got(n, buf, cap);
}

static void type_err(struct walk *w, const struct qts_cfg_node *n, const char *path,
                     const char *expected)
{
    char buf[256];
    err_at(w, n, path, "expected %s, got %s", expected, got(n, buf, sizeof buf));
}

static const char *parent_end(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot : path;
}

/* Is row `k` a direct child of pattern `pat` ("" = top level)? */
static bool is_child_of(const struct qts_key *k, const char *pat)
{
    size_t plen = (size_t)(parent_end(k->path) - k->path);
    return plen == strlen(pat) && memcmp(k->path, pat, plen) == 0;
}

static const char *last_part(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

static const struct qts_key *find_key(const char *pat)
{
    for (size_t i = 0; i < qts_config_n_keys; i++)
        if (strcmp(qts_config_keys[i].path, pat) == 0)
            return &qts_config_keys[i];
    return NULL;
}

static void join_path(char *out, size_t cap, const char *a, const char *b)
{
    if (!a[0])
        snprintf(out, cap, "%s", b);
    else
        snprintf(out, cap, "%s.%s", a, b);
}

static char *resolve(const char *dir, const char *p)
{
    if (!p[0] || p[0] == '/' || !dir || !dir[0] || strcmp(dir, ".") == 0)
        return qts_xstrdup(p);
    while (strncmp(p, "./", 2) == 0)
        p += 2;
    if (strcmp(p, ".") == 0)
        return qts_xstrdup(dir);
    size_t n = strlen(dir) + strlen(p) + 2;
    char *out = qts_xmalloc(n);
    snprintf(out, n, "%s", dir);
    /* The config directory is a real path (no symlinks), so a leading "../"
     * can be applied lexically: shorter paths in messages, same file. */
    while (out[0] == '/' && strncmp(p, "../", 3) == 0) {
        char *slash = strrchr(out, '/');
        if (slash == out)
            break;
        *slash = '\0';
        p += 3;
    }
    if (strcmp(p, "..") == 0 && out[0] == '/' && strrchr(out, '/') != out) {
        *strrchr(out, '/') = '\0';
        return out;
    }
    size_t used = strlen(out);
    snprintf(out + used, n - used, "/%s", p);
    return out;
}

static bool parse_i64(struct walk *w, const struct qts_cfg_node *n, const char *path, int64_t *out)
{
    struct qts_err e = {0};
    if (n->type != QTS_CFG_SCALAR || n->is_quoted || qts_cfg_int(n, out, &e) != 0) {
        char buf[256];
        if (strstr(e.msg, "out of range")) /* digits, but past 64 bits: say so */
            err_at(w, n, path, "expected an integer, got %s (out of the 64-bit range)",
                   got(n, buf, sizeof buf));
        else
            type_err(w, n, path, "an integer");
        return false;
    }
    return true;
}

static bool check_range(struct walk *w, const struct qts_key *k, const struct qts_cfg_node *n,
                        const char *path, double v, const char *what)
{
    if (!k->has_range || (v >= k->min && v <= k->max))
        return true;
    char buf[256];
    if (isinf(k->max))
        err_at(w, n, path, "expected %s >= %g, got %s", what, k->min, got(n, buf, sizeof buf));
    else
        err_at(w, n, path, "expected %s in %g..%g, got %s", what, k->min, k->max,
               got(n, buf, sizeof buf));
    return false;
}

static bool is_decimal(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    size_t digits = 0;
    while (isdigit((unsigned char)*s)) {
        s++;
        digits++;
    }
    if (*s == '.') {
        s++;
        size_t frac = 0;
        while (isdigit((unsigned char)*s)) {
            s++;
            frac++;
        }
        if (frac == 0)
            return false;
    } else if (digits == 0) {
        return false;
    }
    return digits > 0 && *s == '\0';
}

static void walk_map(struct walk *w, const struct qts_cfg_node *map, const char *pat,
                     const char *real, char *base);

static void set_str(char *base, size_t off, char *v)
{
    char **slot = (char **)(base + off);
    free(*slot);
    *slot = v;
}

/* Convert `n` (present, or a synthetic default node) into the field of `k`. */
static void apply(struct walk *w, const struct qts_key *k, const struct qts_cfg_node *n,
                  const char *real, char *base)
{
    char buf[256];
    if (n->env_failed)
        return; /* already reported where the variable was named */
    switch (k->type) {
    case QTS_KEY_SECTION:
        if (n->type != QTS_CFG_MAP && n->type != QTS_CFG_NULL) {
            type_err(w, n, real, "a mapping");
            /* the section's defaults still apply: what runs after the walk
             * (plugin paths, checks) may rely on every defaulted field */
            walk_map(w, NULL, k->path, real, base);
            return;
        }
        walk_map(w, n->type == QTS_CFG_MAP ? n : NULL, k->path, real, base);
        return;
    case QTS_KEY_LIST: {
        if (n->type == QTS_CFG_NULL)
            return;
        if (n->type != QTS_CFG_SEQ) {
            type_err(w, n, real, "a list");
            return;
        }
        char *items = qts_xcalloc(n->n ? n->n : 1, k->elem_size);
        *(char **)(base + k->offset) = items;
        *(size_t *)(base + k->count_offset) = n->n;
        char pat[128];
        join_path(pat, sizeof pat, k->path, "*");
        for (size_t i = 0; i < n->n; i++) {
            char ireal[128];
            snprintf(ireal, sizeof ireal, "%s[%zu]", real, i);
            const struct qts_cfg_node *it = n->items[i];
            if (it->type != QTS_CFG_MAP) {
                type_err(w, it, ireal, "a mapping");
                walk_map(w, NULL, pat, ireal, items + i * k->elem_size);
                continue;
            }
            walk_map(w, it, pat, ireal, items + i * k->elem_size);
        }
        return;
    }
    case QTS_KEY_STRLIST: {
        if (n->type == QTS_CFG_NULL)
            return;
        if (n->type != QTS_CFG_SEQ) {
            type_err(w, n, real, "a list of strings");
            return;
        }
        char **v = qts_xcalloc(n->n ? n->n : 1, sizeof *v);
        *(char ***)(base + k->offset) = v;
        size_t m = 0;
        for (size_t i = 0; i < n->n; i++) {
            const struct qts_cfg_node *it = n->items[i];
            char ireal[128];
            snprintf(ireal, sizeof ireal, "%s[%zu]", real, i);
            if (it->type != QTS_CFG_SCALAR) {
                type_err(w, it, ireal, "a string");
                continue;
            }
            v[m++] = qts_xstrdup(it->scalar);
        }
        *(size_t *)(base + k->count_offset) = m;
        return;
    }
    case QTS_KEY_MAP:
        if (n->type == QTS_CFG_NULL)
            return;
        if (n->type != QTS_CFG_MAP) {
            type_err(w, n, real, "a mapping");
            return;
        }
        *(const struct qts_cfg_node **)(base + k->offset) = n;
        return;
    default: break;
    }

    if (n->type != QTS_CFG_SCALAR) {
        static const char *const expect[] = {
            [QTS_KEY_STRING] = "a string",        [QTS_KEY_PATH] = "a path",
            [QTS_KEY_INT] = "an integer",         [QTS_KEY_DOUBLE] = "a number",
            [QTS_KEY_BOOL] = "true or false",     [QTS_KEY_ENUM] = "a name",
            [QTS_KEY_DURATION_MS] = "a duration", [QTS_KEY_DECIMAL] = "a decimal number",
            [QTS_KEY_SPEED] = "'max' or a number"};
        type_err(w, n, real, expect[k->type] ? expect[k->type] : "a value");
        return;
    }
    const char *s = n->scalar;
    switch (k->type) {
    case QTS_KEY_STRING: set_str(base, k->offset, qts_xstrdup(s)); return;
    case QTS_KEY_PATH: set_str(base, k->offset, resolve(w->config_dir, s)); return;
    case QTS_KEY_INT: {
        int64_t v;
        if (!parse_i64(w, n, real, &v))
            return;
        if (!k->has_range && (v < INT_MIN || v > INT_MAX)) {
            err_at(w, n, real, "expected a 32-bit integer, got %s", got(n, buf, sizeof buf));
            return;
        }
        if (check_range(w, k, n, real, (double)v, "an integer"))
            *(int *)(base + k->offset) = (int)v;
        return;
    }
    case QTS_KEY_DURATION_MS: {
        int64_t v;
        if (n->is_quoted || !qts_cfg_parse_duration_ms(s, &v)) {
            type_err(w, n, real, "a duration in milliseconds (e.g. 50, 50ms, 2s)");
            return;
        }
        if (check_range(w, k, n, real, (double)v, "a duration (ms)"))
            *(int64_t *)(base + k->offset) = v;
        return;
    }
    case QTS_KEY_DOUBLE: {
        double v;
        if (n->is_quoted || qts_cfg_double(n, &v, NULL) != 0) {
            type_err(w, n, real, "a number");
            return;
        }
        if (check_range(w, k, n, real, v, "a number"))
            *(double *)(base + k->offset) = v;
        return;
    }
    case QTS_KEY_BOOL: {
        bool v;
        if (qts_cfg_bool(n, &v, NULL) != 0) {
            type_err(w, n, real, "true or false");
            return;
        }
        *(bool *)(base + k->offset) = v;
        return;
    }
    case QTS_KEY_ENUM: {
        const char *c = k->choices;
        int idx = 0;
        size_t best = SIZE_MAX;
        char best_name[64] = "";
        while (*c) {
            size_t len = strcspn(c, "|");
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)len, c);
            if (strcmp(name, s) == 0) {
                *(int *)(base + k->offset) = idx;
                return;
            }
            size_t d = qts__edit_distance(name, s);
            if (d < best) {
                best = d;
                qts_strlcpy(best_name, name, sizeof best_name);
            }
            c += len;
            if (*c == '|')
                c++;
            idx++;
        }
        char list[192];
        qts_key_choices_list(k, list, sizeof list);
        if (best <= 2 && !n->from_env)
            err_at(w, n, real, "expected one of %s, got %s (did you mean '%s'?)", list,
                   got(n, buf, sizeof buf), best_name);
        else
            err_at(w, n, real, "expected one of %s, got %s", list, got(n, buf, sizeof buf));
        return;
    }
    case QTS_KEY_DECIMAL: {
        if (!is_decimal(s)) {
            type_err(w, n, real, "a decimal number such as \"0.01\"");
            return;
        }
        if (s[0] == '-') { /* no amount or size of the host is negative */
            err_at(w, n, real, "expected a decimal number >= 0, got %s", got(n, buf, sizeof buf));
            return;
        }
        int64_t units;
        if (k->cash && qts_parse_fixed(s, strlen(s), QTS_CASH_EXP, &units) != 0) {
            /* never replaced by a default: the user's amount or an error */
            err_at(w, n, real,
                   "expected an amount of at most %" PRId64 ".%0*" PRId64
                   " with at most %d decimals, got %s",
                   INT64_MAX / qts_pow10_i64[QTS_CASH_EXP], QTS_CASH_EXP,
                   INT64_MAX % qts_pow10_i64[QTS_CASH_EXP], QTS_CASH_EXP, got(n, buf, sizeof buf));
            return;
        }
        double v = strtod(s, NULL);
        /* decimals with a range must be strictly above its minimum (sizes > 0) */
        if (k->has_range && !(v > k->min)) {
            err_at(w, n, real, "expected a decimal number > %g, got %s", k->min,
                   got(n, buf, sizeof buf));
            return;
        }
        set_str(base, k->offset, qts_xstrdup(s));
        return;
    }
    case QTS_KEY_SPEED: {
        double v;
        if (strcmp(s, "max") == 0) {
            *(double *)(base + k->offset) = 0;
            return;
        }
        if (n->is_quoted || qts_cfg_double(n, &v, NULL) != 0 || !(v > 0)) {
            type_err(w, n, real, "'max' or a number > 0");
            return;
        }
        *(double *)(base + k->offset) = v;
        return;
    }
    default: return;
    }
}

static void unknown_key(struct walk *w, const struct qts_cfg_node *map, size_t i, const char *pat,
                        const char *real)
{
    const char *key = map->keys[i];
    char kreal[128];
    join_path(kreal, sizeof kreal, real, key);
    struct qts_cfg_suggest sug;
    qts_cfg_suggest_init(&sug, key);
    for (size_t j = 0; j < qts_config_n_keys; j++) {
        const struct qts_key *k = &qts_config_keys[j];
        if (is_child_of(k, pat))
            qts_cfg_suggest_offer(&sug, last_part(k->path));
    }
    qts_cfg_diag_unknown_key(w->diags, map, i, kreal, qts_cfg_suggest_best(&sug));
    w->errors++;
}

/* ----------------------------------------------------------------- presets
 * A preset replaces the default of the risk and execution keys it names; a
 * key set in the file always wins. live_scalping is the key table's own defaults (a host
 * guarding a fast strategy with real money). backtest turns off what reads
 * a replay's calendar as danger: exits by trailing stop, MAE, holding time
 * and volatility, the daily loss limit, the exposure caps of a scalper, the
 * price band on limit prices (docs/config.md "Risk presets"). */
struct preset_val {
    const char *key, *val;
};

static const struct preset_val preset_backtest[] = {
    {"risk.pool", "portfolio"},        /* no holding-time limit */
    {"risk.price_band_last_pct", "0"}, /* limit and stop prices anywhere */
    {"risk.price_band_mid_pct", "0"},
    {"risk.max_exposure_pct", "10"}, /* the venue's cash check decides */
    {"risk.max_net_exposure_pct", "10"},
    {"risk.max_symbol_exposure_pct", "10"},
    {"risk.daily_loss_warn_pct", "0"},
    {"risk.daily_loss_limit_pct", "0.999"},
    {"risk.trail_activation_pct", "0.999"}, /* no trailing stop */
    {"risk.trail_distance_pct", "0.999"},
    {"risk.mae_partial_pct", "0.999"}, /* no MAE exits */
    {"risk.mae_full_pct", "0.999"},
    {"risk.account_mae_pct", "0.999"},
    {"risk.vol_warn", "10"}, /* no volatility cuts */
    {"risk.vol_critical", "10"},
    {"risk.vol_kill", "10"},
    {"risk.jump_pct", "0.999"},
    {"execution.monitor_timeout_ms", "0"}, /* orders wait for the next bar */
    {NULL, NULL}};

static const struct preset_val preset_paper[] = {
    {"risk.pool", "swing"}, /* positions held for days */
    {"risk.max_symbol_exposure_pct", "0.5"},
    {"risk.trail_activation_pct", "0.03"},
    {"risk.trail_distance_pct", "0.015"},
    {"risk.mae_partial_pct", "0.04"},
    {"risk.mae_full_pct", "0.06"},
    {"risk.account_mae_pct", "0.1"},
    {"risk.stale_ms", "5s"}, /* a feed quiet for seconds is not dead */
    {"risk.stale_trip_ms", "60s"},
    {NULL, NULL}};

static const struct preset_val preset_live_scalping[] = {{NULL, NULL}};

/* The preset the file asks for (preset:), else the mode's. */
static const struct preset_val *choose_preset(const struct qts_cfg_node *root)
{
    const struct qts_cfg_node *p = qts_cfg_get(root, "preset");
    const char *name = p ? qts_cfg_str(p) : NULL;
    if (!name || strcmp(name, "auto") == 0) {
        const struct qts_cfg_node *m = qts_cfg_get(root, "mode");
        const char *mode = m ? qts_cfg_str(m) : NULL;
        return !mode || strcmp(mode, "replay") == 0 ? preset_backtest : preset_live_scalping;
    }
    if (strcmp(name, "backtest") == 0)
        return preset_backtest;
    if (strcmp(name, "paper") == 0)
        return preset_paper;
    return preset_live_scalping; /* live_scalping, or a bad name the walk reports */
}

static const char *preset_default(const struct walk *w, const struct qts_key *k)
{
    for (const struct preset_val *v = w->preset; v && v->key; v++)
        if (strcmp(v->key, k->path) == 0)
            return v->val;
    return k->def;
}

/* Walk the keys of `map` (NULL = section absent: defaults only). */
static void walk_map(struct walk *w, const struct qts_cfg_node *map, const char *pat,
                     const char *real, char *base)
{
    if (map) {
        for (size_t i = 0; i < map->n; i++) {
            char kpat[128], kreal[128];
            join_path(kpat, sizeof kpat, pat, map->keys[i]);
            join_path(kreal, sizeof kreal, real, map->keys[i]);
            const struct qts_key *k = strchr(map->keys[i], '*') ? NULL : find_key(kpat);
            if (!k) {
                unknown_key(w, map, i, pat, real);
                continue;
            }
            apply(w, k, map->items[i], kreal, base);
        }
    }
    /* defaults and required keys */
    for (size_t j = 0; j < qts_config_n_keys; j++) {
        const struct qts_key *k = &qts_config_keys[j];
        if (!is_child_of(k, pat))
            continue;
        const char *name = last_part(k->path);
        if (map && qts_cfg_get(map, name) != NULL)
            continue;
        char kreal[128];
        join_path(kreal, sizeof kreal, real, name);
        if (k->required) {
            if (map)
                err_at(w, map, kreal, "missing required key '%s'", name);
            continue;
        }
        if (k->type == QTS_KEY_SECTION) {
            walk_map(w, NULL, k->path, kreal, base);
        } else if (k->def) {
            const char *def = preset_default(w, k);
            struct qts_cfg_node d = {.type = QTS_CFG_SCALAR,
                                     .file = "<default>",
                                     .scalar = (char *)def,
                                     .is_quoted = def[0] == '\0'};
            apply(w, k, &d, kreal, base);
        }
    }
}

/* ------------------------------------------------------------ after the walk */

static bool looks_like_path(const char *p)
{
    size_t n = strlen(p);
    return strchr(p, '/') != NULL || (n > 3 && strcmp(p + n - 3, ".so") == 0);
}

static void resolve_slot(struct qts_settings *s, struct qts_plugin_slot *slot, const char *name)
{
    if (name && !slot->name)
        slot->name = qts_xstrdup(name);
    if (!slot->plugin)
        return;
    if (looks_like_path(slot->plugin) || !s->plugins_dir) {
        slot->path = resolve(s->config_dir, slot->plugin);
    } else {
        size_t n = strlen(s->plugins_dir) + strlen(slot->plugin) + 5;
        slot->path = qts_xmalloc(n);
        snprintf(slot->path, n, "%s/%s.so", s->plugins_dir, slot->plugin);
    }
}

/* Cross-key rules that one row cannot express. */
static void check_relations(struct walk *w, const struct qts_cfg_node *root, struct qts_settings *s)
{
    const struct qts_cfg_node *instruments = qts_cfg_get(root, "instruments");
    for (size_t i = 0; i < s->n_instruments; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->instruments[i].symbol, s->instruments[j].symbol) == 0 &&
                strcmp(s->instruments[i].venue, s->instruments[j].venue) == 0) {
                char real[128];
                snprintf(real, sizeof real, "instruments[%zu].symbol", i);
                err_at(w, qts_cfg_get(qts_cfg_at(instruments, i), "symbol"), real,
                       "instrument '%s' on venue '%s' already defined by instruments[%zu]",
                       s->instruments[i].symbol, s->instruments[i].venue, j);
            }
    /* each size must be exact in its instrument's fixed point (and fit it) */
    for (size_t i = 0; i < s->n_instruments; i++) {
        const struct qts_instrument_cfg *c = &s->instruments[i];
        const struct {
            const char *key, *text;
            int exp;
            const char *exp_key;
        } dec[] = {{"tick_size", c->tick_size, c->px_exp, "px_exp"},
                   {"lot_size", c->lot_size, c->qty_exp, "qty_exp"},
                   {"min_qty", c->min_qty, c->qty_exp, "qty_exp"}};
        for (size_t k = 0; k < QTS_ARRAY_LEN(dec); k++) {
            int64_t units;
            if (!dec[k].text || !dec[k].text[0] ||
                qts_parse_fixed(dec[k].text, strlen(dec[k].text), (unsigned)dec[k].exp, &units) ==
                    0)
                continue;
            char real[128], buf[256];
            snprintf(real, sizeof real, "instruments[%zu].%s", i, dec[k].key);
            const struct qts_cfg_node *at = qts_cfg_get(qts_cfg_at(instruments, i), dec[k].key);
            err_at(w, at, real,
                   "expected a decimal with at most %d decimals (%s) that fits a 64-bit "
                   "fixed-point value, got %s",
                   dec[k].exp, dec[k].exp_key, got(at, buf, sizeof buf));
        }
    }
    const struct qts_cfg_node *feeds = qts_cfg_get(root, "feeds");
    for (size_t i = 0; i < s->n_feeds; i++)
        for (size_t j = 0; j < i; j++)
            if (s->feeds[i].name && s->feeds[j].name &&
                strcmp(s->feeds[i].name, s->feeds[j].name) == 0) {
                char real[128];
                snprintf(real, sizeof real, "feeds[%zu].name", i);
                err_at(w, qts_cfg_get(qts_cfg_at(feeds, i), "name"), real,
                       "feed name '%s' already used by feeds[%zu]", s->feeds[i].name, j);
            }
    const struct qts_cfg_node *list = qts_cfg_get(root, "strategies.list");
    for (size_t i = 0; i < s->n_strategies; i++) {
        struct qts_strategy_cfg *t = &s->strategies[i];
        const struct qts_cfg_node *item = qts_cfg_at(list, i);
        char real[128];
        for (size_t j = 0; j < i; j++)
            if (t->name && s->strategies[j].name && strcmp(t->name, s->strategies[j].name) == 0) {
                snprintf(real, sizeof real, "strategies.list[%zu].name", i);
                err_at(w, qts_cfg_get(item, "name"), real,
                       "strategy name '%s' already used by strategies.list[%zu]", t->name, j);
            }
        if (t->worker >= s->strategy_workers && qts_cfg_get(item, "worker")) {
            snprintf(real, sizeof real, "strategies.list[%zu].worker", i);
            err_at(w, qts_cfg_get(item, "worker"), real,
                   "worker %d does not exist (strategies.workers is %d)", t->worker,
                   s->strategy_workers);
        }
        for (size_t k = 0; k < t->n_symbols; k++) {
            bool found = false;
            for (size_t m = 0; m < s->n_instruments && !found; m++)
                found = s->instruments[m].symbol &&
                        strcmp(s->instruments[m].symbol, t->symbols[k]) == 0;
            if (!found) {
                snprintf(real, sizeof real, "strategies.list[%zu].symbols[%zu]", i, k);
                err_at(w, qts_cfg_at(qts_cfg_get(item, "symbols"), k), real,
                       "symbol '%s' is not in instruments", t->symbols[k]);
            }
        }
    }
}

int qts__settings_build(const struct qts_cfg_node *root, const char *config_dir,
                        struct qts_settings *s, struct qts_diags *diags)
{
    struct walk w = {.diags = diags, .config_dir = config_dir, .preset = choose_preset(root)};
    s->config_dir = qts_xstrdup(config_dir ? config_dir : ".");
    if (root->type != QTS_CFG_MAP) {
        type_err(&w, root, "", "a mapping of keys at the top level");
        return QTS_ECONFIG;
    }
    walk_map(&w, root, "", "", (char *)s);
    if (w.errors == 0)
        check_relations(&w, root, s);
    for (size_t i = 0; i < s->n_feeds; i++)
        resolve_slot(s, &s->feeds[i], NULL);
    resolve_slot(s, &s->broker, "broker");
    resolve_slot(s, &s->cache, "cache");
    resolve_slot(s, &s->store, "store");
    for (size_t i = 0; i < s->n_strategies; i++) {
        struct qts_strategy_cfg *t = &s->strategies[i];
        if (t->file)
            t->path = resolve(s->strategies_dir, t->file);
    }
    return w.errors ? QTS_ECONFIG : 0;
}

/* Free the owned fields of the rows at one level: pattern prefix `pat`
 * ("" = qts_settings, "instruments.*." = one instrument item). */
static void free_fields(const char *pat, char *base)
{
    size_t plen = strlen(pat);
    for (size_t j = 0; j < qts_config_n_keys; j++) {
        const struct qts_key *k = &qts_config_keys[j];
        if (strncmp(k->path, pat, plen) != 0 || strchr(k->path + plen, '*'))
            continue;
        switch (k->type) {
        case QTS_KEY_STRING:
        case QTS_KEY_PATH:
        case QTS_KEY_DECIMAL: free(*(char **)(base + k->offset)); break;
        case QTS_KEY_STRLIST: {
            char **v = *(char ***)(base + k->offset);
            size_t n = *(size_t *)(base + k->count_offset);
            for (size_t i = 0; v && i < n; i++)
                free(v[i]);
            free(v);
            break;
        }
        case QTS_KEY_LIST: {
            char *items = *(char **)(base + k->offset);
            size_t n = *(size_t *)(base + k->count_offset);
            char ipat[128];
            snprintf(ipat, sizeof ipat, "%s.*.", k->path);
            for (size_t i = 0; items && i < n; i++)
                free_fields(ipat, items + i * k->elem_size);
            free(items);
            break;
        }
        default: break;
        }
    }
}

static void free_slot_extras(struct qts_plugin_slot *slot, bool own_name)
{
    free(slot->path);
    if (own_name)
        free(slot->name);
}

void qts__settings_cleanup(struct qts_settings *s)
{
    for (size_t i = 0; s->feeds && i < s->n_feeds; i++)
        free_slot_extras(&s->feeds[i], false);
    free_slot_extras(&s->broker, true);
    free_slot_extras(&s->cache, true);
    free_slot_extras(&s->store, true);
    for (size_t i = 0; s->strategies && i < s->n_strategies; i++)
        free(s->strategies[i].path);
    free_fields("", (char *)s);
    free(s->config_dir);
    memset(s, 0, sizeof *s);
}
