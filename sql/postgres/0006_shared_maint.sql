-- 0006_shared_maint.sql (PostgreSQL): several hosts share one database
-- (docs/operations.md "Several hosts", ADR 0022). Maintenance (partitions,
-- retention) and the rollup refresh run on one host at a time under an
-- advisory lock; each turn that ran leaves a row here (wall clock), kept a
-- week by maintenance. Turns skipped because another host held the lock
-- leave no row (the host logs its first skip).

CREATE TABLE qts_maintenance_log (
  id          bigserial   PRIMARY KEY,
  task        text        NOT NULL,   -- 'maintenance' or 'rollup refresh'
  host_id     text        NOT NULL,
  started_at  timestamptz NOT NULL,   -- when the host asked for the lock
  finished_at timestamptz NOT NULL);
CREATE INDEX idx_maintenance_log_time ON qts_maintenance_log (finished_at);
