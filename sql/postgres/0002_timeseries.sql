-- 0002_timeseries.sql (PostgreSQL 15, no TimescaleDB): time series as
-- native range partitions on time. The store plugin creates partitions
-- ahead of time and on demand (tick_data_pYYYYMMDD, ...) and drops those
-- wholly older than their retention (maintain). Steps: tick_data and
-- execution_logs 1 day, feedback_data 7 days, decision_log 30 days.
-- Unique keys include time (partitioned tables require it).

CREATE TABLE tick_data (
  host_id text          NOT NULL,
  rec_id  bigint        NOT NULL,
  time    timestamptz   NOT NULL,
  symbol  varchar(20)   NOT NULL,
  kind    smallint      NOT NULL CHECK (kind IN (1, 2)),   -- 1 trade, 2 quote
  price   numeric(18,8) NOT NULL,                          -- trade price, or the quote mid
  volume  numeric(18,8) NOT NULL,                          -- quantity of THIS print
  bid     numeric(18,8),
  ask     numeric(18,8),
  source  varchar(20),
  UNIQUE (host_id, rec_id, time)
) PARTITION BY RANGE (time);
CREATE INDEX idx_tick_symbol_time ON tick_data (symbol, time DESC);

CREATE TABLE execution_logs (
  host_id    text         NOT NULL,
  rec_id     bigint       NOT NULL,
  time       timestamptz  NOT NULL DEFAULT now(),
  order_id   varchar(100) NOT NULL,
  symbol     varchar(20)  NOT NULL,
  stage      varchar(50)  NOT NULL,
  latency_ms numeric(12,3),
  success    boolean      NOT NULL,
  error_code varchar(50),
  UNIQUE (host_id, rec_id, time)
) PARTITION BY RANGE (time);
CREATE INDEX idx_exec_logs_order ON execution_logs (order_id, time DESC);
CREATE INDEX idx_exec_logs_stage ON execution_logs (stage, time DESC);

CREATE TABLE feedback_data (
  host_id                  text          NOT NULL,
  rec_id                   bigint        NOT NULL,
  time                     timestamptz   NOT NULL,      -- execution end
  symbol                   varchar(20)   NOT NULL,
  order_id                 varchar(100)  NOT NULL,
  strategy_tag             varchar(50),
  strategy_type            varchar(10),
  side                     varchar(4)    NOT NULL CHECK (side IN ('BUY','SELL')),
  order_type               varchar(20),
  execution_start          timestamptz   NOT NULL,
  feedback_generated_at    timestamptz   NOT NULL DEFAULT now(),
  decision_price           numeric(18,8) NOT NULL,
  avg_fill_price           numeric(18,8),
  original_qty             numeric(18,8) NOT NULL,
  total_filled_qty         numeric(18,8) NOT NULL,
  fill_ratio               double precision NOT NULL CHECK (fill_ratio BETWEEN 0 AND 1),
  total_slippage_bps       double precision,
  avg_fill_latency_ms      double precision,
  first_fill_latency_ms    double precision,
  complete_fill_latency_ms double precision,
  volatility_at_execution  double precision,
  spread_at_execution      double precision,
  post_spread_bps          double precision,
  depth_at_execution       bigint,
  market_impact_bps        double precision,
  realized_impact_bps      double precision,
  execution_quality_score  double precision CHECK (execution_quality_score BETWEEN 0 AND 1),
  score_version            smallint NOT NULL DEFAULT 1,
  UNIQUE (host_id, order_id, time)
) PARTITION BY RANGE (time);
CREATE INDEX idx_feedback_symbol_time          ON feedback_data (symbol, time DESC);
CREATE INDEX idx_feedback_strategy_time        ON feedback_data (strategy_tag, time DESC);
CREATE INDEX idx_feedback_symbol_strategy_time ON feedback_data (symbol, strategy_tag, time DESC);

CREATE TABLE decision_log (
  host_id text NOT NULL, rec_id bigint NOT NULL,
  time timestamptz NOT NULL DEFAULT now(), cycle_id varchar(100) NOT NULL, symbol varchar(20) NOT NULL,
  action varchar(10) NOT NULL, strategy_tag varchar(50), price numeric(18,8), qty numeric(18,8),
  signal_confidence double precision, risk_score double precision, operating_state varchar(20),
  feedback_applied boolean NOT NULL DEFAULT false, feedback_slippage_bps double precision,
  feedback_quality_score double precision, capital_blocked boolean NOT NULL DEFAULT false,
  approved boolean NOT NULL DEFAULT false, reason text, act_status varchar(20), metadata jsonb,
  UNIQUE (host_id, rec_id, time)
) PARTITION BY RANGE (time);
CREATE INDEX idx_decision_symbol_time ON decision_log (symbol, time DESC);
CREATE INDEX idx_decision_cycle       ON decision_log (cycle_id);
