-- 0003_feedback_model.sql (SQLite): the learned execution-cost model's
-- state, one row per key (SYMBOL, or SYMBOL/side/algo) and host; written
-- by the store writer at each fit and at the end of a run, read back at
-- start (docs/feedback.md, "Persistence"). The sums are the state; k,
-- beta, resid_sd and confidence are informative (NULL until fitted).
-- fill_counts: passive fills per distance bucket and horizon, "k/n" pairs.
CREATE TABLE impact_models (
  host_id TEXT NOT NULL, model_key TEXT NOT NULL, rec_id INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  n REAL NOT NULL, sx REAL NOT NULL, sy REAL NOT NULL, sxx REAL NOT NULL, sxy REAL NOT NULL,
  syy REAL NOT NULL,
  k REAL, beta REAL, resid_sd REAL, confidence REAL,
  fill_counts TEXT NOT NULL,
  run_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (host_id, model_key));
