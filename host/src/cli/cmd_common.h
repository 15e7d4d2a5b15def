/* cmd_common.h — what `qts check` and `qts run` share: the -c option,
 * loading a configuration with its diagnostics printed, and the summary of
 * everything it names. Internal to the CLI commands. */
#ifndef QTS_CMD_COMMON_H
#define QTS_CMD_COMMON_H

#include <stdio.h>

#include "config.h"

#define QTS_DEFAULT_CONFIG "config/qts.yaml"

/* The `options:` section of the usage of a command that takes only -c. */
#define QTS__CMD_CONFIG_USAGE_OPTIONS \
    "options:\n"                      \
    "  -c, --config FILE   configuration file\n"

/* Parse `[-c FILE | --config FILE | --config=FILE]`; *path is borrowed from
 * argv (default QTS_DEFAULT_CONFIG). Returns 0, or QTS_EXIT_USAGE after
 * printing `usage` to stderr. */
int qts__cmd_parse_config_opt(int argc, char **argv, const char *usage, const char **path);

/* qts__cmd_parse_config_opt, then qts__cmd_load_checked: on 0, *config is
 * owned by the caller and *path (when path is not NULL) borrowed from argv;
 * else the exit code, the problems printed. */
int qts__cmd_load_args(int argc, char **argv, const char *usage, const char **path,
                       struct qts_config **config);

/* Load `path`; on errors print every diagnostic to stderr and return NULL.
 * The snapshot is owned by the caller. */
struct qts_config *qts__cmd_load(const char *path);
/* qts__cmd_load, then every plugin slot's config: checked against the
 * plugin's key table; problems are printed and rejected the same way. */
struct qts_config *qts__cmd_load_checked(const char *path);

/* The same with values set over the file's (config.h, qts_config_set). */
struct qts_config *qts__cmd_load_with(const char *path, const struct qts_config_set *sets,
                                      size_t n_sets);
struct qts_config *qts__cmd_load_checked_with(const char *path, const struct qts_config_set *sets,
                                              size_t n_sets);

/* Problems found by the summary. */
struct qts__cmd_findings {
    int missing; /* plugin or strategy files that do not exist */
    int bad;     /* files that exist but cannot be used */
};

/* Print the one-screen summary of `c` to `out`, checking every plugin and
 * strategy file it names. */
void qts__cmd_summary(FILE *out, const struct qts_config *c, struct qts__cmd_findings *f);

#endif
