/* report_sub.c — see report_sub.h. */
#include "report_sub.h"

#include <string.h>

static int report_on_run_end(void *self, const struct qts_run_end *end, struct qts_err *err)
{
    struct qts_report_pub *pub = self;
    struct qts_report_meta meta;
    qts_report_meta_default(&meta);
    meta.title = pub->title;
    meta.mode = pub->mode;
    meta.interrupted = end->interrupted;
    if (strcmp(end->run_dir, pub->files.dir) != 0) {
        /* rows were streamed elsewhere: this is a programming error */
        qts_run_files_discard(&pub->files);
        return qts_err_set(err, QTS_EINVAL, "run directory changed: %s, rows in %s", end->run_dir,
                           pub->files.dir);
    }
    return qts_run_files_finish(&pub->files, &meta, err);
}

static void report_on_decision(void *self, const struct qts_decision *d)
{
    struct qts_report_pub *pub = self;
    qts_run_files_decision(&pub->files, d);
}

struct qts_bus_sub qts_report_sub(struct qts_report_pub *pub)
{
    qts_run_files_attach(&pub->files, pub->run_dir, pub->pf);
    pub->files.strategy_name = pub->strategy_name;
    pub->files.name_ctx = pub->name_ctx;
    return (struct qts_bus_sub){.name = "report",
                                .on_decision = report_on_decision,
                                .on_run_end = report_on_run_end,
                                .self = pub};
}
