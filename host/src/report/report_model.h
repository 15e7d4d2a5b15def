/* report_model.h — the learned cost model as the run left it, for
 * summary.json: reads <dir>/impact_model.txt (feedback.c writes it at the
 * end of a run, impact_model.h's file format) and prints each key's
 * fitted law and confidence and where the model was restored from at
 * start. docs/feedback.md ("Persistence", "Confidence"). */
#ifndef QTS_REPORT_MODEL_H
#define QTS_REPORT_MODEL_H

#include <stdio.h>

/* `,\n  "feedback_model": {...}` after the last member of summary.json;
 * nothing when the run has no impact_model.txt. */
void qts_report_model_json(FILE *f, const char *dir);

#endif /* QTS_REPORT_MODEL_H */
