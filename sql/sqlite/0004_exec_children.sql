-- 0004_exec_children.sql (SQLite): child orders of the execution pipeline
-- (TWAP/VWAP/iceberg slices, escape liquidations) are rows of `orders`
-- beside their parent: same order_id, child_no 1..n (0 = the parent), the
-- child's own client order id, and child_role SLICE or FLATTEN (NULL for a
-- parent). The key gains child_no: SQLite cannot change a key, so the table
-- is rebuilt inside this migration's transaction (ADR 0020).
CREATE TABLE orders_new (
  host_id TEXT NOT NULL, run_id TEXT NOT NULL DEFAULT '', order_id INTEGER NOT NULL,
  child_no INTEGER NOT NULL DEFAULT 0, child_role TEXT,
  rec_id INTEGER NOT NULL,
  client_order_id TEXT NOT NULL, venue_order_id TEXT, symbol TEXT NOT NULL,
  strategy_tag TEXT, strategy_id INTEGER NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
  order_type INTEGER NOT NULL, tif INTEGER NOT NULL, state INTEGER NOT NULL,
  price NUMERIC NOT NULL, qty NUMERIC NOT NULL, filled_qty NUMERIC NOT NULL,
  avg_fill_price NUMERIC, decision_price NUMERIC,
  decided_at INTEGER NOT NULL, sent_at INTEGER, done_at INTEGER, updated_at INTEGER NOT NULL,
  PRIMARY KEY (host_id, run_id, order_id, child_no));
INSERT INTO orders_new (host_id, run_id, order_id, rec_id, client_order_id, venue_order_id,
                        symbol, strategy_tag, strategy_id, side, order_type, tif, state, price,
                        qty, filled_qty, avg_fill_price, decision_price, decided_at, sent_at,
                        done_at, updated_at)
  SELECT host_id, run_id, order_id, rec_id, client_order_id, venue_order_id,
         symbol, strategy_tag, strategy_id, side, order_type, tif, state, price,
         qty, filled_qty, avg_fill_price, decision_price, decided_at, sent_at,
         done_at, updated_at FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX idx_orders_working ON orders (host_id, state);
CREATE INDEX idx_orders_client ON orders (client_order_id);
CREATE INDEX idx_exec_logs_run ON execution_logs (run_id);
