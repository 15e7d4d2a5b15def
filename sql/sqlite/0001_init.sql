-- 0001_init.sql (SQLite): the logical schema of docs/storage.md.
-- Times are INTEGER nanoseconds since the Unix epoch (UTC). Prices,
-- quantities and cash are NUMERIC decimals. host_id on every row lets
-- several hosts share one file; rec_id is the store writer's idempotency key.

CREATE TABLE tick_data (
  host_id TEXT NOT NULL, rec_id INTEGER NOT NULL,
  time INTEGER NOT NULL, symbol TEXT NOT NULL,
  kind INTEGER NOT NULL CHECK (kind IN (1, 2)),      -- 1 trade, 2 quote
  price NUMERIC NOT NULL, volume NUMERIC NOT NULL,    -- quantity of this print
  bid NUMERIC, ask NUMERIC, source TEXT,
  UNIQUE (host_id, rec_id));
CREATE INDEX idx_tick_symbol_time ON tick_data (symbol, time DESC);
CREATE INDEX idx_tick_time ON tick_data (time);

CREATE TABLE ohlcv_1m (
  bucket INTEGER NOT NULL, symbol TEXT NOT NULL,
  open NUMERIC NOT NULL, high NUMERIC NOT NULL, low NUMERIC NOT NULL, close NUMERIC NOT NULL,
  volume NUMERIC NOT NULL, tick_count INTEGER NOT NULL,
  PRIMARY KEY (symbol, bucket));
CREATE INDEX idx_ohlcv_1m_bucket ON ohlcv_1m (bucket);

CREATE TABLE ohlcv_1d (
  time INTEGER NOT NULL, symbol TEXT NOT NULL,
  open NUMERIC NOT NULL, high NUMERIC NOT NULL, low NUMERIC NOT NULL, close NUMERIC NOT NULL,
  volume NUMERIC NOT NULL,
  PRIMARY KEY (symbol, time));

CREATE TABLE orders (
  host_id TEXT NOT NULL, order_id INTEGER NOT NULL, rec_id INTEGER NOT NULL,
  client_order_id TEXT NOT NULL, venue_order_id TEXT, symbol TEXT NOT NULL,
  strategy_tag TEXT, strategy_id INTEGER NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
  order_type INTEGER NOT NULL, tif INTEGER NOT NULL, state INTEGER NOT NULL,
  price NUMERIC NOT NULL, qty NUMERIC NOT NULL, filled_qty NUMERIC NOT NULL,
  avg_fill_price NUMERIC, decision_price NUMERIC,
  decided_at INTEGER NOT NULL, sent_at INTEGER, done_at INTEGER, updated_at INTEGER NOT NULL,
  PRIMARY KEY (host_id, order_id));
CREATE INDEX idx_orders_working ON orders (host_id, state);

CREATE TABLE order_events (
  host_id TEXT NOT NULL, rec_id INTEGER NOT NULL, time INTEGER NOT NULL,
  order_id INTEGER NOT NULL, client_order_id TEXT NOT NULL,
  event INTEGER NOT NULL, state INTEGER NOT NULL, code INTEGER NOT NULL,
  filled_qty NUMERIC NOT NULL, leaves_qty NUMERIC NOT NULL, avg_price NUMERIC, reason TEXT,
  UNIQUE (host_id, rec_id));
CREATE INDEX idx_order_events_order ON order_events (order_id, time DESC);

CREATE TABLE fills (
  host_id TEXT NOT NULL, rec_id INTEGER NOT NULL, time INTEGER NOT NULL,
  order_id INTEGER NOT NULL, fill_id INTEGER NOT NULL, client_order_id TEXT NOT NULL,
  symbol TEXT NOT NULL, strategy_tag TEXT,
  side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')), is_maker INTEGER NOT NULL,
  price NUMERIC NOT NULL, qty NUMERIC NOT NULL, fee NUMERIC NOT NULL,
  UNIQUE (host_id, order_id, fill_id));
CREATE INDEX idx_fills_time ON fills (time DESC);

CREATE TABLE execution_logs (
  host_id TEXT NOT NULL, rec_id INTEGER NOT NULL, time INTEGER NOT NULL,
  order_id TEXT NOT NULL, symbol TEXT NOT NULL, stage TEXT NOT NULL,
  latency_ms NUMERIC, success INTEGER NOT NULL, error_code TEXT,
  UNIQUE (host_id, rec_id));
CREATE INDEX idx_exec_logs_order ON execution_logs (order_id, time DESC);
CREATE INDEX idx_exec_logs_stage ON execution_logs (stage, time DESC);
CREATE INDEX idx_exec_logs_time ON execution_logs (time);

CREATE TABLE feedback_data (
  host_id TEXT NOT NULL, rec_id INTEGER NOT NULL,
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
  UNIQUE (host_id, order_id, time));
CREATE INDEX idx_feedback_symbol_time ON feedback_data (symbol, time DESC);
CREATE INDEX idx_feedback_strategy_time ON feedback_data (strategy_tag, time DESC);
CREATE INDEX idx_feedback_symbol_strategy_time ON feedback_data (symbol, strategy_tag, time DESC);

CREATE TABLE decision_log (
  host_id TEXT NOT NULL, rec_id INTEGER NOT NULL,
  time INTEGER NOT NULL, cycle_id TEXT NOT NULL, symbol TEXT NOT NULL,
  action TEXT NOT NULL, strategy_tag TEXT, price NUMERIC, qty NUMERIC,
  signal_confidence REAL, risk_score REAL, operating_state TEXT,
  feedback_applied INTEGER NOT NULL DEFAULT 0, feedback_slippage_bps REAL,
  feedback_quality_score REAL, capital_blocked INTEGER NOT NULL DEFAULT 0,
  approved INTEGER NOT NULL DEFAULT 0, reason TEXT, act_status TEXT,
  UNIQUE (host_id, rec_id));
CREATE INDEX idx_decision_symbol_time ON decision_log (symbol, time DESC);
CREATE INDEX idx_decision_cycle ON decision_log (cycle_id);

CREATE TABLE positions (
  host_id TEXT NOT NULL, symbol TEXT NOT NULL,
  strategy_type TEXT NOT NULL DEFAULT 'NET'
    CHECK (strategy_type IN ('NET', 'SCALP', 'SWING', 'PORTFOLIO')),
  rec_id INTEGER NOT NULL,
  qty NUMERIC NOT NULL, avg_price NUMERIC NOT NULL, market TEXT,
  exposure_value NUMERIC, exposure_pct REAL, unrealized_pnl NUMERIC,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (host_id, symbol, strategy_type));

CREATE TABLE strategies (
  host_id TEXT NOT NULL, strategy_id TEXT NOT NULL, param_name TEXT NOT NULL,
  rec_id INTEGER NOT NULL, value TEXT NOT NULL,
  value_type TEXT NOT NULL DEFAULT 'string'
    CHECK (value_type IN ('string', 'int', 'float', 'bool', 'json')),
  description TEXT, updated_at INTEGER NOT NULL,
  PRIMARY KEY (host_id, strategy_id, param_name));

CREATE TABLE risk_configs (
  host_id TEXT NOT NULL, config_key TEXT NOT NULL, rec_id INTEGER NOT NULL,
  value NUMERIC NOT NULL, description TEXT, updated_at INTEGER NOT NULL,
  PRIMARY KEY (host_id, config_key));

CREATE TABLE config (
  host_id TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('GLOBAL', 'SCALP', 'SWING', 'LOCAL')),
  key TEXT NOT NULL, rec_id INTEGER NOT NULL,
  category TEXT NOT NULL, subcategory TEXT NOT NULL DEFAULT '',
  value TEXT NOT NULL, description TEXT, tag TEXT, updated_at INTEGER NOT NULL,
  PRIMARY KEY (host_id, scope, key));

CREATE TABLE t_ledger (
  id INTEGER PRIMARY KEY,
  host_id TEXT NOT NULL, rec_id INTEGER NOT NULL,
  timestamp INTEGER NOT NULL, symbol TEXT NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
  qty NUMERIC NOT NULL, price NUMERIC NOT NULL, amount NUMERIC NOT NULL,
  fee NUMERIC NOT NULL DEFAULT 0, strategy_tag TEXT, order_id TEXT, broker TEXT,
  realized_pnl NUMERIC, src_hash BLOB UNIQUE,
  UNIQUE (host_id, rec_id));
CREATE INDEX idx_ledger_timestamp ON t_ledger (timestamp DESC);
CREATE INDEX idx_ledger_symbol ON t_ledger (symbol, timestamp DESC);
CREATE INDEX idx_ledger_strategy ON t_ledger (strategy_tag, timestamp DESC);
CREATE INDEX idx_ledger_order ON t_ledger (order_id);

CREATE TABLE account_history (
  host_id TEXT NOT NULL, date TEXT NOT NULL, rec_id INTEGER NOT NULL,
  total_equity NUMERIC NOT NULL, daily_pnl NUMERIC, daily_return REAL,
  cumulative_return REAL, volatility_20d REAL, high_watermark NUMERIC,
  drawdown REAL, mdd REAL, note TEXT,
  PRIMARY KEY (host_id, date));

-- Rollups (refreshed by the host timer; only the buckets touched since the
-- last refresh are recomputed: qts_rollup_state.dirty_lo/dirty_hi).
CREATE TABLE hourly_pnl (
  host_id TEXT NOT NULL, hour INTEGER NOT NULL, strategy_tag TEXT NOT NULL,
  trades INTEGER NOT NULL, buy_amount NUMERIC NOT NULL, sell_amount NUMERIC NOT NULL,
  fees NUMERIC NOT NULL, realized_pnl NUMERIC NOT NULL,
  PRIMARY KEY (host_id, hour, strategy_tag));

CREATE TABLE daily_metrics (
  host_id TEXT NOT NULL, day TEXT NOT NULL,
  trades INTEGER NOT NULL, buy_amount NUMERIC NOT NULL, sell_amount NUMERIC NOT NULL,
  fees NUMERIC NOT NULL, realized_pnl NUMERIC NOT NULL, symbols INTEGER NOT NULL,
  PRIMARY KEY (host_id, day));

CREATE TABLE strategy_performance (
  host_id TEXT NOT NULL, as_of TEXT NOT NULL, strategy TEXT NOT NULL,
  trades INTEGER, wins INTEGER, win_rate REAL, total_pnl NUMERIC, avg_pnl NUMERIC,
  cumulative_return REAL, mdd REAL, volatility REAL, avg_holding_days REAL,
  sharpe_score REAL, risk_score REAL, net_score REAL, note TEXT,
  PRIMARY KEY (host_id, as_of, strategy));

CREATE TABLE qts_rollup_state (
  name TEXT PRIMARY KEY,
  dirty_lo INTEGER, dirty_hi INTEGER,      -- event-time range touched since the last refresh
  refreshed_at INTEGER);
INSERT INTO qts_rollup_state (name) VALUES ('ohlcv'), ('ledger');
