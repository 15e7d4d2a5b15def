-- 0005_exec_children.sql: child orders of the execution pipeline
-- (TWAP/VWAP/iceberg slices, escape liquidations) are rows of `orders`
-- beside their parent: same order_id, child_no 1..n (0 = the parent), the
-- child's own client order id, and child_role SLICE or FLATTEN (NULL for a
-- parent). The key gains child_no (ADR 0020).
ALTER TABLE orders ADD COLUMN child_no integer NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN child_role varchar(12);
ALTER TABLE orders DROP CONSTRAINT orders_pkey;
ALTER TABLE orders ADD PRIMARY KEY (host_id, run_id, order_id, child_no);
CREATE INDEX idx_exec_logs_run ON execution_logs (run_id);
