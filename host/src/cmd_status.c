/* cmd_status.c — `qts status`: ask the running host for its state. */
#include <stdio.h>

#include "cli.h"
#include "cmd_admin.h"

static const char status_usage[] =
    "usage: qts status [-c FILE | -s SOCKET] [--json]\n"
    "\n"
    "Asks the running host over its admin socket for mode, safety state, kill switch,\n"
    "positions, working orders, risk usage and latencies, and prints them.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE   configuration whose paths.var_dir holds qts.sock\n"
    "  -s, --socket PATH   the admin socket (default $QTS_ADMIN_SOCKET, else\n"
    "                      <var_dir>/qts.sock)\n"
    "      --json          print the answer as one JSON line\n"
    "\n"
    "exit codes: 0 answered, 1 no host or refused, 2 usage or configuration error\n";

static int run_status(int argc, char **argv)
{
    /* status-only options go here (one row each) */
    const struct qts__opt opts[] = {
        {0},
    };
    struct qts__admin_opts o;
    int rc = qts__admin_parse(argc, argv, opts, false, status_usage, &o);
    if (rc != 0)
        return rc;
    return qts__admin_run(&o, "{\"cmd\":\"status\"}");
}

const struct qts_command qts_cmd_status = {
    .name = "status",
    .summary = "show the state of the running host",
    .usage = status_usage,
    .run = run_status,
};
