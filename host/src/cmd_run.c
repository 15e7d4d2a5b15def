/* cmd_run.c — `qts run`: load and check everything like `check`, then run.
 *
 * The trading engine is not part of this build yet: run says what it would
 * run and exits 0. Missing plugin or strategy files are warnings here (the
 * default configuration names plugins that may not be built), unusable
 * files are errors. The engine replaces the body after the checks. */
#include <stdio.h>

#include "cli.h"
#include "cmd_common.h"
#include "config_schema.h"
#include "log.h"

static const char run_usage[] =
    "usage: qts run [-c FILE]\n"
    "\n"
    "Loads the configuration FILE (default " QTS_DEFAULT_CONFIG "), checks every file it\n"
    "names like `qts check`, and runs it. In this build the trading engine is not\n"
    "included yet: run prints what it would run and exits.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE   configuration file\n"
    "\n"
    "exit codes: 0 success (missing plugin or strategy files are warnings),\n"
    "            1 runtime failure, 2 configuration errors or unusable files\n";

static int run_run(int argc, char **argv)
{
    const char *path;
    int rc = qts__cmd_parse_config_opt(argc, argv, run_usage, &path);
    if (rc != 0)
        return rc;
    struct qts_config *c = qts__cmd_load(path);
    if (!c)
        return QTS_EXIT_USAGE;
    const struct qts_settings *s = qts_config_settings(c);
    qts_log_set_level(s->log_level);
    struct qts__cmd_findings f;
    qts__cmd_summary(stdout, c, &f);
    if (f.bad) {
        fprintf(stderr, "qts run: %d unusable file%s named by %s (see above)\n", f.bad,
                f.bad == 1 ? "" : "s", path);
        qts_config_unref(c);
        return QTS_EXIT_USAGE;
    }
    fflush(stdout); /* keep the summary before the warnings when both go to one file */
    if (f.missing)
        QTS_WARN("nothing to run: %d plugin or strategy file%s named by %s %s missing",
                 f.missing, f.missing == 1 ? "" : "s", path, f.missing == 1 ? "is" : "are");
    size_t enabled = 0;
    for (size_t i = 0; i < s->n_strategies; i++)
        enabled += s->strategies[i].enabled;
    printf("would run      mode %s: %zu feed%s, broker %s, %zu strateg%s on %d worker%s\n",
           qts_mode_name(s->mode), s->n_feeds, s->n_feeds == 1 ? "" : "s",
           s->broker.plugin ? s->broker.plugin : "(none)", enabled, enabled == 1 ? "y" : "ies",
           s->strategy_workers, s->strategy_workers == 1 ? "" : "s");
    printf("qts run: the trading engine is not part of this build yet; nothing was started\n");
    qts_config_unref(c);
    return QTS_EXIT_OK;
}

const struct qts_command qts_cmd_run = {
    .name = "run",
    .summary = "load a configuration and run it",
    .usage = run_usage,
    .run = run_run,
};
