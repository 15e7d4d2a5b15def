-- 0001_init.sql (PostgreSQL 15): regular tables, rollup tables and the
-- rollup state. Time series are in 0002. Every row carries host_id so
-- several hosts can share one database; rec_id is the store writer's
-- idempotency key (docs/storage.md).

CREATE TABLE positions (
  host_id        text          NOT NULL,
  symbol         varchar(20)   NOT NULL,
  strategy_type  varchar(10)   NOT NULL DEFAULT 'NET'
                 CHECK (strategy_type IN ('NET','SCALP','SWING','PORTFOLIO')),
  rec_id         bigint        NOT NULL,
  qty            numeric(18,8) NOT NULL,                -- signed: negative = short
  avg_price      numeric(18,8) NOT NULL,
  market         varchar(10),
  exposure_value numeric(20,6),
  exposure_pct   double precision,
  unrealized_pnl numeric(20,6),
  created_at     timestamptz   NOT NULL DEFAULT now(),
  updated_at     timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (host_id, symbol, strategy_type));
CREATE INDEX idx_positions_updated ON positions (updated_at DESC);

CREATE TABLE orders (
  host_id         text          NOT NULL,
  order_id        bigint        NOT NULL,
  rec_id          bigint        NOT NULL,
  client_order_id varchar(40)   NOT NULL,
  venue_order_id  varchar(48),
  symbol          varchar(20)   NOT NULL,
  strategy_tag    varchar(50),
  strategy_id     integer       NOT NULL,
  side            varchar(4)    NOT NULL CHECK (side IN ('BUY','SELL')),
  order_type      smallint      NOT NULL,
  tif             smallint      NOT NULL,
  state           smallint      NOT NULL,
  price           numeric(18,8) NOT NULL,
  qty             numeric(18,8) NOT NULL,
  filled_qty      numeric(18,8) NOT NULL,
  avg_fill_price  numeric(18,8),
  decision_price  numeric(18,8),
  decided_at      timestamptz   NOT NULL,
  sent_at         timestamptz,
  done_at         timestamptz,
  updated_at      timestamptz   NOT NULL,
  PRIMARY KEY (host_id, order_id));
CREATE INDEX idx_orders_working ON orders (host_id, state) WHERE state NOT IN (4, 6, 7, 8);
CREATE INDEX idx_orders_client ON orders (client_order_id);

CREATE TABLE order_events (
  host_id         text          NOT NULL,
  rec_id          bigint        NOT NULL,
  time            timestamptz   NOT NULL,
  order_id        bigint        NOT NULL,
  client_order_id varchar(40)   NOT NULL,
  event           smallint      NOT NULL,
  state           smallint      NOT NULL,
  code            integer       NOT NULL,
  filled_qty      numeric(18,8) NOT NULL,
  leaves_qty      numeric(18,8) NOT NULL,
  avg_price       numeric(18,8),
  reason          text,
  UNIQUE (host_id, rec_id));
CREATE INDEX idx_order_events_order ON order_events (order_id, time DESC);

CREATE TABLE fills (
  host_id         text          NOT NULL,
  rec_id          bigint        NOT NULL,
  time            timestamptz   NOT NULL,
  order_id        bigint        NOT NULL,
  fill_id         bigint        NOT NULL,
  client_order_id varchar(40)   NOT NULL,
  symbol          varchar(20)   NOT NULL,
  strategy_tag    varchar(50),
  side            varchar(4)    NOT NULL CHECK (side IN ('BUY','SELL')),
  is_maker        boolean       NOT NULL,
  price           numeric(18,8) NOT NULL,
  qty             numeric(18,8) NOT NULL,
  fee             numeric(20,6) NOT NULL,
  UNIQUE (host_id, order_id, fill_id));
CREATE INDEX idx_fills_time ON fills (time DESC);

CREATE TABLE strategies (
  host_id     text         NOT NULL,
  strategy_id varchar(50)  NOT NULL,
  param_name  varchar(100) NOT NULL,
  rec_id      bigint       NOT NULL,
  value       text         NOT NULL,
  value_type  varchar(20)  NOT NULL DEFAULT 'string'
              CHECK (value_type IN ('string','int','float','bool','json')),
  description text,
  updated_at  timestamptz  NOT NULL DEFAULT now(),
  PRIMARY KEY (host_id, strategy_id, param_name));

CREATE TABLE risk_configs (
  host_id     text          NOT NULL,
  config_key  varchar(100)  NOT NULL,
  rec_id      bigint        NOT NULL,
  value       numeric(18,8) NOT NULL,
  description text,
  updated_at  timestamptz   NOT NULL DEFAULT now(),
  PRIMARY KEY (host_id, config_key));

CREATE TABLE config (
  host_id     text         NOT NULL,
  scope       varchar(10)  NOT NULL CHECK (scope IN ('GLOBAL','SCALP','SWING','LOCAL')),
  key         varchar(100) NOT NULL,                   -- upper-case
  rec_id      bigint       NOT NULL,
  category    varchar(50)  NOT NULL,
  subcategory varchar(50)  NOT NULL DEFAULT '',
  value       text         NOT NULL,
  description text,
  tag         varchar(50),
  updated_at  timestamptz  NOT NULL DEFAULT now(),
  PRIMARY KEY (host_id, scope, key));

CREATE TABLE t_ledger (
  id           bigserial     PRIMARY KEY,
  host_id      text          NOT NULL,
  rec_id       bigint        NOT NULL,
  timestamp    timestamptz   NOT NULL,
  symbol       varchar(20)   NOT NULL,
  side         varchar(4)    NOT NULL CHECK (side IN ('BUY','SELL')),
  qty          numeric(18,8) NOT NULL,
  price        numeric(18,8) NOT NULL,
  amount       numeric(20,6) NOT NULL,
  fee          numeric(20,6) NOT NULL DEFAULT 0,
  strategy_tag varchar(50),
  order_id     varchar(100),
  broker       varchar(20),
  realized_pnl numeric(20,6),
  src_hash     bytea UNIQUE,
  UNIQUE (host_id, rec_id));
CREATE INDEX idx_ledger_timestamp ON t_ledger (timestamp DESC);
CREATE INDEX idx_ledger_symbol    ON t_ledger (symbol, timestamp DESC);
CREATE INDEX idx_ledger_strategy  ON t_ledger (strategy_tag, timestamp DESC);
CREATE INDEX idx_ledger_order     ON t_ledger (order_id);

CREATE TABLE account_history (
  host_id           text          NOT NULL,
  date              date          NOT NULL,
  rec_id            bigint        NOT NULL,
  total_equity      numeric(20,6) NOT NULL,
  daily_pnl         numeric(20,6),
  daily_return      double precision,
  cumulative_return double precision,
  volatility_20d    double precision,
  high_watermark    numeric(20,6),
  drawdown          double precision,
  mdd               double precision,
  note              text,
  PRIMARY KEY (host_id, date));

CREATE TABLE ohlcv_1d (
  time   timestamptz   NOT NULL,                       -- exchange-day start (Asia/Seoul)
  symbol varchar(20)   NOT NULL,
  open   numeric(18,8) NOT NULL, high numeric(18,8) NOT NULL,
  low    numeric(18,8) NOT NULL, close numeric(18,8) NOT NULL,
  volume numeric(24,8) NOT NULL,
  PRIMARY KEY (symbol, time));

-- Rollups, refreshed by the host (store refresh_rollups) for the buckets
-- touched since the last refresh (qts_rollup_state.dirty_lo/dirty_hi).
CREATE TABLE ohlcv_1m (
  bucket     timestamptz   NOT NULL,
  symbol     varchar(20)   NOT NULL,
  open       numeric(18,8) NOT NULL, high numeric(18,8) NOT NULL,
  low        numeric(18,8) NOT NULL, close numeric(18,8) NOT NULL,
  volume     numeric(24,8) NOT NULL,
  tick_count integer       NOT NULL,
  PRIMARY KEY (symbol, bucket));
CREATE INDEX idx_ohlcv_1m_bucket ON ohlcv_1m (bucket);

CREATE TABLE hourly_pnl (
  host_id      text          NOT NULL,
  hour         timestamptz   NOT NULL,
  strategy_tag varchar(50)   NOT NULL,
  trades       integer       NOT NULL,
  buy_amount   numeric(24,6) NOT NULL,
  sell_amount  numeric(24,6) NOT NULL,
  fees         numeric(24,6) NOT NULL,
  realized_pnl numeric(24,6) NOT NULL,
  PRIMARY KEY (host_id, hour, strategy_tag));

CREATE TABLE daily_metrics (
  host_id      text          NOT NULL,
  day          date          NOT NULL,                 -- Asia/Seoul day
  trades       integer       NOT NULL,
  buy_amount   numeric(24,6) NOT NULL,
  sell_amount  numeric(24,6) NOT NULL,
  fees         numeric(24,6) NOT NULL,
  realized_pnl numeric(24,6) NOT NULL,
  symbols      integer       NOT NULL,
  PRIMARY KEY (host_id, day));

CREATE TABLE strategy_performance (
  host_id text NOT NULL, as_of date NOT NULL, strategy varchar(50) NOT NULL,
  trades int, wins int, win_rate double precision, total_pnl numeric(24,6), avg_pnl numeric(24,6),
  cumulative_return double precision, mdd double precision, volatility double precision,
  avg_holding_days double precision, sharpe_score double precision, risk_score double precision,
  net_score double precision, note text,
  PRIMARY KEY (host_id, as_of, strategy));

CREATE TABLE qts_rollup_state (
  name         text PRIMARY KEY,
  dirty_lo     timestamptz,
  dirty_hi     timestamptz,
  refreshed_at timestamptz);
INSERT INTO qts_rollup_state (name) VALUES ('ohlcv'), ('ledger');

-- daily PnL per symbol as a plain view over the ledger (small table)
CREATE VIEW daily_pnl AS
SELECT host_id, (timestamp AT TIME ZONE 'Asia/Seoul')::date AS day, symbol,
       sum(CASE WHEN side = 'BUY' THEN -amount ELSE amount END) AS net_cash_flow,
       count(*) AS trade_count, sum(fee) AS fees, sum(realized_pnl) AS realized_pnl
  FROM t_ledger GROUP BY 1, 2, 3;
