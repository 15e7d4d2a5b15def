/* feedback.h — the execution-feedback loop as one unit for the engine:
 * reads the `feedback:` configuration, owns the TCA (tca.h) and the learned
 * impact model (impact_model.h), restores the model at start and saves it
 * (and tca.csv) at the end of a run. docs/feedback.md.
 *
 * Configuration keys (all optional; `feedback:` itself may be absent):
 *   enabled (true), score_version (1|2), weight_slippage / weight_fill /
 *   weight_latency (v1 weights), lookback_s (86400), window_s (60),
 *   min_samples (5), max_impact_bps (20), adjust_orders (false),
 *   load (false in replay, true otherwise), save (true),
 *   model_file (<var_dir>/feedback/impact_model.txt), forget (1.0),
 *   adjust_price (true), cost_budget_bps (none; a number or a map strategy
 *   name -> bps), auto_max_slices (10), auto_direct_bps (2),
 *   auto_participation (0.1): fb_decide.h.
 *
 * Ownership: everything created here is owned by struct qts_feedback;
 * env pointers are borrowed and must outlive it. Core thread only.
 */
#ifndef QTS_FEEDBACK_H
#define QTS_FEEDBACK_H

#include <stdbool.h>

#include "qts/qts_err.h"
#include "tca.h"

struct qts_cfg_node;
struct qts_impact_model;
struct qts_feedback;

/* `cfg` (the `feedback:` map, may be NULL) and `var_dir` borrowed for the
 * call; `env` copied (its model field is ignored: the model is ours; its
 * on_fit is called with a key each time the model learns, and for every
 * key at the end of the run). `stored` (may be NULL, borrowed for the
 * call): the model read from the store at start; with feedback.load on it
 * is restored from there when it has keys, else from the model file.
 * *out is NULL (and 0 returned) when feedback.enabled is false. Returns 0
 * or QTS_ECONFIG with err naming the key. */
int qts_feedback_new(const struct qts_cfg_node *cfg, const char *var_dir, bool replay,
                     const struct qts_tca_env *env, const struct qts_impact_model *stored,
                     struct qts_feedback **out, struct qts_err *err);
/* The model as the store keeps it (query QTS_Q_IMPACT_MODELS of a store
 * plugin's `ops` and `self`, borrowed): a new model (owned by the caller)
 * with every key read, or NULL when the store has none or cannot answer
 * (logged). Call before the store writer starts (the store is not shared
 * with its thread yet). */
struct qts_store_ops;
struct qts_impact_model *qts_feedback_read_store(const struct qts_store_ops *ops, void *self);
struct qts_tca *qts_feedback_tca(struct qts_feedback *f);
struct qts_impact_model *qts_feedback_model(struct qts_feedback *f);
/* The decisions the model changes (fb_decide.h); owned by f. */
struct qts_fb_decide *qts_feedback_decide(struct qts_feedback *f);
/* Strategy `id` is called `name` (borrowed): its entry of a
 * feedback.cost_budget_bps map applies to its orders. */
void qts_feedback_name_strategy(struct qts_feedback *f, uint32_t id, const char *name);
/* After naming every strategy: QTS_ECONFIG if a cost_budget_bps map names
 * no enabled strategy. */
int qts_feedback_check_names(const struct qts_feedback *f, struct qts_err *err);
/* Rows go to <run_dir>/tca.csv (borrowed for the call) as they complete,
 * in the order their orders became final (qts_tca_csv_start): call before
 * the run's first order. 0, QTS_EINVAL (path too long) or QTS_ESTATE. */
int qts_feedback_stream_to(struct qts_feedback *f, const char *run_dir, struct qts_err *err);
/* End of a run: close the rows, finish <run_dir>/tca.csv (only a header
 * when qts_feedback_stream_to was not called: rows are not kept), write
 * the model to <run_dir>/impact_model.txt (with where it was restored
 * from), hand every key to env.on_fit (the store), save the model file
 * (when save is on). Returns 0 or QTS_EIO. */
int qts_feedback_end(struct qts_feedback *f, const char *run_dir, struct qts_err *err);
void qts_feedback_free(struct qts_feedback *f);

#endif /* QTS_FEEDBACK_H */
