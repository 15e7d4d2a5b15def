/* cmd_check.c — `qts check`: validate a configuration and every file it
 * names without trading, and print a one-screen summary. */
#include <stdio.h>

#include "cli.h"
#include "cmd_common.h"

static const char check_usage[] =
    "usage: qts check [-c FILE]\n"
    "\n"
    "Validates the configuration FILE (default " QTS_DEFAULT_CONFIG ") and everything it\n"
    "names, without trading: every key against the schema (a plugin's config: against\n"
    "the keys the plugin declares), every plugin file (exists, readable regular file,\n"
    "not writable by group or others) and every strategy file (compiles). Prints a\n"
    "summary.\n"
    "\n" QTS__CMD_CONFIG_USAGE_OPTIONS "\n"
    "exit codes: 0 all good, 2 configuration errors or missing/unusable files\n";

static int run_check(int argc, char **argv)
{
    struct qts_config *c;
    int rc = qts__cmd_load_args(argc, argv, check_usage, NULL, &c);
    if (rc != 0)
        return rc;
    struct qts__cmd_findings f;
    qts__cmd_summary(stdout, c, &f);
    qts_config_unref(c);
    if (f.missing || f.bad) {
        printf("result         %d problem%s: %d missing file%s, %d unusable file%s\n",
               f.missing + f.bad, f.missing + f.bad == 1 ? "" : "s", f.missing,
               f.missing == 1 ? "" : "s", f.bad, f.bad == 1 ? "" : "s");
        return QTS_EXIT_USAGE;
    }
    printf("result         ok\n");
    return QTS_EXIT_OK;
}

QTS_COMMAND(qts_cmd_check, "check", "validate a configuration and the files it names", check_usage,
            run_check);
