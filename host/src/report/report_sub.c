/* report_sub.c — see report_sub.h. */
#include "report_sub.h"

#include "report.h"

static int report_on_run_end(void *self, const struct qts_run_end *end, struct qts_err *err)
{
    const struct qts_report_pub *pub = self;
    struct qts_report_meta meta;
    qts_report_meta_default(&meta);
    meta.title = pub->title;
    meta.interrupted = end->interrupted;
    return qts_report_write_run(end->run_dir, pub->pf, &meta, err);
}

struct qts_bus_sub qts_report_sub(struct qts_report_pub *pub)
{
    return (struct qts_bus_sub){.name = "report", .on_run_end = report_on_run_end, .self = pub};
}
