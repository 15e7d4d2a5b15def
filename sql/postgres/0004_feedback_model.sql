-- 0004_feedback_model.sql (PostgreSQL): the learned execution-cost model's
-- state, one row per key (SYMBOL, or SYMBOL/side/algo) and host; written
-- by the store writer at each fit and at the end of a run, read back at
-- start (docs/feedback.md, "Persistence"). The sums are the state; k,
-- beta, resid_sd and confidence are informative (NULL until fitted).
-- fill_counts: passive fills per distance bucket and horizon, "k/n" pairs.
CREATE TABLE impact_models (
  host_id     text             NOT NULL,
  model_key   text             NOT NULL,
  rec_id      bigint           NOT NULL,
  updated_at  timestamptz      NOT NULL,   -- time of the last sample (data time)
  n           double precision NOT NULL,   -- weighted sample count
  sx          double precision NOT NULL,   -- sums of x = ln(q/V), y = ln(impact bps)
  sy          double precision NOT NULL,
  sxx         double precision NOT NULL,
  sxy         double precision NOT NULL,
  syy         double precision NOT NULL,
  k           double precision,
  beta        double precision,
  resid_sd    double precision,
  confidence  double precision,
  fill_counts text             NOT NULL,
  run_id      text             NOT NULL DEFAULT '',
  PRIMARY KEY (host_id, model_key));
