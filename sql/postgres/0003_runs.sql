-- 0003_runs.sql (PostgreSQL): every run of the host has a row in `runs`,
-- and every row a run writes carries its run_id (docs/storage.md, ADR 0013).
-- Order ids restart at 1 in every run, so the keys of fills, orders,
-- feedback and positions include run_id: a second run into the same
-- database keeps all of its rows. Rows from before this migration (and
-- sheet imports) have run_id ''.

CREATE TABLE runs (
  host_id     text        NOT NULL,
  run_id      text        NOT NULL,
  rec_id      bigint      NOT NULL,
  mode        varchar(8)  NOT NULL,            -- replay, paper, live
  config_path text,
  started_at  timestamptz NOT NULL,            -- wall clock
  ended_at    timestamptz,                     -- wall clock; NULL while running or killed
  data_from   timestamptz,                     -- first and last event time (data time)
  data_to     timestamptz,
  events      bigint, orders bigint, rejected bigint, fills bigint,
  status      varchar(12) NOT NULL,            -- running, done, failed
  PRIMARY KEY (host_id, run_id));

ALTER TABLE tick_data      ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE order_events   ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE execution_logs ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE decision_log   ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE t_ledger       ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE strategies     ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE risk_configs   ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE fills          ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE orders         ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE positions      ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE feedback_data  ADD COLUMN run_id text NOT NULL DEFAULT '';

ALTER TABLE fills DROP CONSTRAINT fills_host_id_order_id_fill_id_key;
ALTER TABLE fills ADD UNIQUE (host_id, run_id, order_id, fill_id);
ALTER TABLE orders DROP CONSTRAINT orders_pkey;
ALTER TABLE orders ADD PRIMARY KEY (host_id, run_id, order_id);
ALTER TABLE positions DROP CONSTRAINT positions_pkey;
ALTER TABLE positions ADD PRIMARY KEY (host_id, run_id, symbol, strategy_type);
ALTER TABLE feedback_data DROP CONSTRAINT feedback_data_host_id_order_id_time_key;
ALTER TABLE feedback_data ADD UNIQUE (host_id, run_id, order_id, time);
-- the running configuration, written at start and at each reload: per run
ALTER TABLE strategies DROP CONSTRAINT strategies_pkey;
ALTER TABLE strategies ADD PRIMARY KEY (host_id, run_id, strategy_id, param_name);
ALTER TABLE risk_configs DROP CONSTRAINT risk_configs_pkey;
ALTER TABLE risk_configs ADD PRIMARY KEY (host_id, run_id, config_key);

-- decision_log: the order an intent became, its codes and the inputs the stage named
ALTER TABLE decision_log ADD COLUMN order_id bigint NOT NULL DEFAULT 0;
ALTER TABLE decision_log ADD COLUMN codes text;
ALTER TABLE decision_log ADD COLUMN inputs text;

CREATE INDEX idx_ledger_run       ON t_ledger (run_id, timestamp);
CREATE INDEX idx_fills_run        ON fills (run_id);
CREATE INDEX idx_order_events_run ON order_events (run_id);
CREATE INDEX idx_decision_run     ON decision_log (run_id);

-- The ledger rollups are per run too (a replay never adds into a live
-- run's figures).
ALTER TABLE hourly_pnl ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE hourly_pnl DROP CONSTRAINT hourly_pnl_pkey;
ALTER TABLE hourly_pnl ADD PRIMARY KEY (host_id, run_id, hour, strategy_tag);
ALTER TABLE daily_metrics ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE daily_metrics DROP CONSTRAINT daily_metrics_pkey;
ALTER TABLE daily_metrics ADD PRIMARY KEY (host_id, run_id, day);
ALTER TABLE strategy_performance ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE strategy_performance DROP CONSTRAINT strategy_performance_pkey;
ALTER TABLE strategy_performance ADD PRIMARY KEY (host_id, run_id, as_of, strategy);
