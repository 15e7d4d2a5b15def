/* cmd_admin.h — what `qts status`, `qts kill`, `qts resume` and `qts reload`
 * share: option parsing from a table, finding the admin socket, sending one
 * request and printing the answer. Internal to the CLI commands. */
#ifndef QTS_CMD_ADMIN_H
#define QTS_CMD_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

/* One option: `--name VALUE` / `--name=VALUE` (str) or `--name` (flag);
 * `shrt` ("-s") may be NULL. A command lists its own options in a table
 * ending with {0}; the shared ones (-c, -s, --json) are always there. */
struct qts__opt {
    const char *lng;
    const char *shrt;
    const char **str; /* set for options with a value */
    bool *flag;       /* set for flags */
};

struct qts__admin_opts {
    const char *config; /* -c FILE (default config/qts.yaml) */
    const char *socket; /* -s PATH (default $QTS_ADMIN_SOCKET, else <var_dir>/qts.sock) */
    bool json;          /* --json: print the raw answer line */
    const char *positional;
};

/* The shared options as a usage text: the `options:` section of a command
 * that has no options of its own. */
#define QTS__ADMIN_USAGE_OPTIONS                                               \
    "options:\n"                                                               \
    "  -c, --config FILE   configuration whose paths.var_dir holds qts.sock\n" \
    "  -s, --socket PATH   the admin socket\n"                                 \
    "      --json          print the answer as one JSON line\n"

/* Returns 0, or QTS_EXIT_USAGE after printing `usage`. At most one
 * positional argument is accepted when `positional_ok`. */
int qts__admin_parse(int argc, char **argv, const struct qts__opt *extra, bool positional_ok,
                     const char *usage, struct qts__admin_opts *o);
/* Send `request`; *reply (owned by the caller: free) is the answer line.
 * Returns 0, or the exit code after printing why (no host, bad config). */
int qts__admin_call(const struct qts__admin_opts *o, const char *request, char **reply);
/* Send `request` and print the answer; returns the exit code (0 ok, 1 the
 * host refused or is not reachable). */
int qts__admin_run(const struct qts__admin_opts *o, const char *request);

/* A request an operator signs with a reason and a name (`kill`, `resume`):
 * all strings are static. */
struct qts__signed_cmd {
    const char *name;           /* the command, for messages */
    const char *reason_opt;     /* the option carrying the reason ("--reason") */
    const char *default_reason; /* NULL: the reason is required */
    const char *head;           /* the request's leading members ("\"cmd\":\"kill\"") */
    const char *usage;
};

/* Parse `reason_opt TEXT`, `--by NAME` (default $USER) and the shared
 * options, then send {head,"reason":TEXT,"by":NAME}. Returns the exit code. */
int qts__admin_run_signed(int argc, char **argv, const struct qts__signed_cmd *cmd);

#endif
