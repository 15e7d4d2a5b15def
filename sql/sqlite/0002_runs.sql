-- 0002_runs.sql (SQLite): every run of the host has a row in `runs`, and
-- every row a run writes carries its run_id (docs/storage.md, ADR 0013).
-- Order ids restart at 1 in every run, so the keys of fills, orders,
-- feedback and positions include run_id: a second run into the same
-- database keeps all of its rows. Rows from before this migration (and
-- sheet imports) have run_id ''.
-- strategies and risk_configs (the running configuration, written at start
-- and at each reload) are versioned by run: their keys include run_id too.
-- SQLite cannot change a table's constraints: the six keyed tables are
-- rebuilt (new table, copy, drop, rename) inside this migration's transaction.

CREATE TABLE runs (
  host_id TEXT NOT NULL, run_id TEXT NOT NULL, rec_id INTEGER NOT NULL,
  mode TEXT NOT NULL, config_path TEXT, started_at INTEGER NOT NULL, ended_at INTEGER,
  data_from INTEGER, data_to INTEGER,
  events INTEGER, orders INTEGER, rejected INTEGER, fills INTEGER, status TEXT NOT NULL,
  PRIMARY KEY (host_id, run_id));

ALTER TABLE tick_data ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
ALTER TABLE order_events ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
ALTER TABLE execution_logs ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
ALTER TABLE decision_log ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
ALTER TABLE t_ledger ADD COLUMN run_id TEXT NOT NULL DEFAULT '';
-- decision_log: the order an intent became, its codes and the inputs the stage named
ALTER TABLE decision_log ADD COLUMN order_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE decision_log ADD COLUMN codes TEXT;
ALTER TABLE decision_log ADD COLUMN inputs TEXT;

CREATE INDEX idx_ledger_run ON t_ledger (run_id, timestamp);
CREATE INDEX idx_order_events_run ON order_events (run_id);
CREATE INDEX idx_decision_run ON decision_log (run_id);

CREATE TABLE fills_new (
  host_id TEXT NOT NULL, run_id TEXT NOT NULL DEFAULT '', rec_id INTEGER NOT NULL,
  time INTEGER NOT NULL,
  order_id INTEGER NOT NULL, fill_id INTEGER NOT NULL, client_order_id TEXT NOT NULL,
  symbol TEXT NOT NULL, strategy_tag TEXT,
  side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')), is_maker INTEGER NOT NULL,
  price NUMERIC NOT NULL, qty NUMERIC NOT NULL, fee NUMERIC NOT NULL,
  UNIQUE (host_id, run_id, order_id, fill_id));
INSERT INTO fills_new (host_id, rec_id, time, order_id, fill_id, client_order_id, symbol,
                       strategy_tag, side, is_maker, price, qty, fee)
  SELECT host_id, rec_id, time, order_id, fill_id, client_order_id, symbol,
         strategy_tag, side, is_maker, price, qty, fee FROM fills;
DROP TABLE fills;
ALTER TABLE fills_new RENAME TO fills;
CREATE INDEX idx_fills_time ON fills (time DESC);
CREATE INDEX idx_fills_run ON fills (run_id);

CREATE TABLE orders_new (
  host_id TEXT NOT NULL, run_id TEXT NOT NULL DEFAULT '', order_id INTEGER NOT NULL,
  rec_id INTEGER NOT NULL,
  client_order_id TEXT NOT NULL, venue_order_id TEXT, symbol TEXT NOT NULL,
  strategy_tag TEXT, strategy_id INTEGER NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
  order_type INTEGER NOT NULL, tif INTEGER NOT NULL, state INTEGER NOT NULL,
  price NUMERIC NOT NULL, qty NUMERIC NOT NULL, filled_qty NUMERIC NOT NULL,
  avg_fill_price NUMERIC, decision_price NUMERIC,
  decided_at INTEGER NOT NULL, sent_at INTEGER, done_at INTEGER, updated_at INTEGER NOT NULL,
  PRIMARY KEY (host_id, run_id, order_id));
INSERT INTO orders_new (host_id, order_id, rec_id, client_order_id, venue_order_id, symbol,
                        strategy_tag, strategy_id, side, order_type, tif, state, price, qty,
                        filled_qty, avg_fill_price, decision_price, decided_at, sent_at,
                        done_at, updated_at)
  SELECT host_id, order_id, rec_id, client_order_id, venue_order_id, symbol,
         strategy_tag, strategy_id, side, order_type, tif, state, price, qty,
         filled_qty, avg_fill_price, decision_price, decided_at, sent_at,
         done_at, updated_at FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX idx_orders_working ON orders (host_id, state);

CREATE TABLE positions_new (
  host_id TEXT NOT NULL, run_id TEXT NOT NULL DEFAULT '', symbol TEXT NOT NULL,
  strategy_type TEXT NOT NULL DEFAULT 'NET'
    CHECK (strategy_type IN ('NET', 'SCALP', 'SWING', 'PORTFOLIO')),
  rec_id INTEGER NOT NULL,
  qty NUMERIC NOT NULL, avg_price NUMERIC NOT NULL, market TEXT,
  exposure_value NUMERIC, exposure_pct REAL, unrealized_pnl NUMERIC,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (host_id, run_id, symbol, strategy_type));
INSERT INTO positions_new (host_id, symbol, strategy_type, rec_id, qty, avg_price, market,
                           exposure_value, exposure_pct, unrealized_pnl, updated_at)
  SELECT host_id, symbol, strategy_type, rec_id, qty, avg_price, market,
         exposure_value, exposure_pct, unrealized_pnl, updated_at FROM positions;
DROP TABLE positions;
ALTER TABLE positions_new RENAME TO positions;

CREATE TABLE feedback_new (
  host_id TEXT NOT NULL, run_id TEXT NOT NULL DEFAULT '', rec_id INTEGER NOT NULL,
  time INTEGER NOT NULL, symbol TEXT NOT NULL, order_id TEXT NOT NULL,
  strategy_tag TEXT, strategy_type TEXT,
  side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')), order_type TEXT,
  execution_start INTEGER NOT NULL, feedback_generated_at INTEGER NOT NULL,
  decision_price NUMERIC NOT NULL, avg_fill_price NUMERIC,
  original_qty NUMERIC NOT NULL, total_filled_qty NUMERIC NOT NULL,
  fill_ratio REAL NOT NULL CHECK (fill_ratio BETWEEN 0 AND 1),
  total_slippage_bps REAL, avg_fill_latency_ms REAL, first_fill_latency_ms REAL,
  complete_fill_latency_ms REAL, volatility_at_execution REAL, spread_at_execution REAL,
  post_spread_bps REAL, depth_at_execution INTEGER, market_impact_bps REAL,
  realized_impact_bps REAL,
  execution_quality_score REAL CHECK (execution_quality_score BETWEEN 0 AND 1),
  score_version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (host_id, run_id, order_id, time));
INSERT INTO feedback_new (host_id, rec_id, time, symbol, order_id, strategy_tag, strategy_type,
  side, order_type, execution_start, feedback_generated_at, decision_price, avg_fill_price,
  original_qty, total_filled_qty, fill_ratio, total_slippage_bps, avg_fill_latency_ms,
  first_fill_latency_ms, complete_fill_latency_ms, volatility_at_execution, spread_at_execution,
  post_spread_bps, depth_at_execution, market_impact_bps, realized_impact_bps,
  execution_quality_score, score_version)
  SELECT host_id, rec_id, time, symbol, order_id, strategy_tag, strategy_type,
  side, order_type, execution_start, feedback_generated_at, decision_price, avg_fill_price,
  original_qty, total_filled_qty, fill_ratio, total_slippage_bps, avg_fill_latency_ms,
  first_fill_latency_ms, complete_fill_latency_ms, volatility_at_execution, spread_at_execution,
  post_spread_bps, depth_at_execution, market_impact_bps, realized_impact_bps,
  execution_quality_score, score_version FROM feedback_data;
DROP TABLE feedback_data;
ALTER TABLE feedback_new RENAME TO feedback_data;
CREATE INDEX idx_feedback_symbol_time ON feedback_data (symbol, time DESC);
CREATE INDEX idx_feedback_strategy_time ON feedback_data (strategy_tag, time DESC);
CREATE INDEX idx_feedback_symbol_strategy_time ON feedback_data (symbol, strategy_tag, time DESC);

-- The ledger rollups are per run too (a replay never adds into a live
-- run's figures). They are recomputable: rebuilt empty with run_id last,
-- and the whole ledger is marked dirty so the next refresh fills them.
DROP TABLE hourly_pnl;
CREATE TABLE hourly_pnl (
  host_id TEXT NOT NULL, hour INTEGER NOT NULL, strategy_tag TEXT NOT NULL,
  trades INTEGER NOT NULL, buy_amount NUMERIC NOT NULL, sell_amount NUMERIC NOT NULL,
  fees NUMERIC NOT NULL, realized_pnl NUMERIC NOT NULL, run_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (host_id, run_id, hour, strategy_tag));
DROP TABLE daily_metrics;
CREATE TABLE daily_metrics (
  host_id TEXT NOT NULL, day TEXT NOT NULL,
  trades INTEGER NOT NULL, buy_amount NUMERIC NOT NULL, sell_amount NUMERIC NOT NULL,
  fees NUMERIC NOT NULL, realized_pnl NUMERIC NOT NULL, symbols INTEGER NOT NULL,
  run_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (host_id, run_id, day));
DROP TABLE strategy_performance;
CREATE TABLE strategy_performance (
  host_id TEXT NOT NULL, as_of TEXT NOT NULL, strategy TEXT NOT NULL,
  trades INTEGER, wins INTEGER, win_rate REAL, total_pnl NUMERIC, avg_pnl NUMERIC,
  cumulative_return REAL, mdd REAL, volatility REAL, avg_holding_days REAL,
  sharpe_score REAL, risk_score REAL, net_score REAL, note TEXT,
  run_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (host_id, run_id, as_of, strategy));
UPDATE qts_rollup_state SET dirty_lo = (SELECT min(timestamp) FROM t_ledger),
                            dirty_hi = (SELECT max(timestamp) FROM t_ledger)
  WHERE name = 'ledger';

CREATE TABLE strategies_new (
  host_id TEXT NOT NULL, run_id TEXT NOT NULL DEFAULT '', strategy_id TEXT NOT NULL,
  param_name TEXT NOT NULL, rec_id INTEGER NOT NULL, value TEXT NOT NULL,
  value_type TEXT NOT NULL DEFAULT 'string'
    CHECK (value_type IN ('string', 'int', 'float', 'bool', 'json')),
  description TEXT, updated_at INTEGER NOT NULL,
  PRIMARY KEY (host_id, run_id, strategy_id, param_name));
INSERT INTO strategies_new (host_id, strategy_id, param_name, rec_id, value, value_type,
                            description, updated_at)
  SELECT host_id, strategy_id, param_name, rec_id, value, value_type, description, updated_at
  FROM strategies;
DROP TABLE strategies;
ALTER TABLE strategies_new RENAME TO strategies;

CREATE TABLE risk_configs_new (
  host_id TEXT NOT NULL, run_id TEXT NOT NULL DEFAULT '', config_key TEXT NOT NULL,
  rec_id INTEGER NOT NULL, value NUMERIC NOT NULL, description TEXT, updated_at INTEGER NOT NULL,
  PRIMARY KEY (host_id, run_id, config_key));
INSERT INTO risk_configs_new (host_id, config_key, rec_id, value, description, updated_at)
  SELECT host_id, config_key, rec_id, value, description, updated_at FROM risk_configs;
DROP TABLE risk_configs;
ALTER TABLE risk_configs_new RENAME TO risk_configs;
