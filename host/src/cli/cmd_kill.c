/* cmd_kill.c — `qts kill`: pull the kill switch of the running host. */
#include <stdio.h>
#include <stdlib.h>

#include "admin_socket.h"
#include "cli.h"
#include "cmd_admin.h"

static const char kill_usage[] =
    "usage: qts kill [-c FILE | -s SOCKET] [--reason TEXT] [--by NAME] [--json]\n"
    "\n"
    "Pulls the kill switch of the running host: every working order is cancelled\n"
    "(every cancel handed to the broker before the answer) and new orders are\n"
    "rejected (GR101) until `qts resume --approve`.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE   configuration whose paths.var_dir holds qts.sock\n"
    "  -s, --socket PATH   the admin socket\n"
    "      --reason TEXT   recorded with the kill (default \"operator kill\")\n"
    "      --by NAME       who pulls it (default $USER); the socket adds the uid\n"
    "      --json          print the answer as one JSON line\n"
    "\n"
    "exit codes: 0 done, 1 no host or refused, 2 usage error\n";

static int run_kill(int argc, char **argv)
{
    const char *reason = "operator kill", *by = getenv("USER");
    const struct qts__opt opts[] = {
        {"--reason", NULL, &reason, NULL},
        {"--by", NULL, &by, NULL},
        {0},
    };
    struct qts__admin_opts o;
    int rc = qts__admin_parse(argc, argv, opts, false, kill_usage, &o);
    if (rc != 0)
        return rc;
    char r[600], b[140], req[1024];
    qts_json_escape(r, sizeof r, reason);
    qts_json_escape(b, sizeof b, by ? by : "");
    snprintf(req, sizeof req, "{\"cmd\":\"kill\",\"reason\":\"%s\",\"by\":\"%s\"}", r, b);
    return qts__admin_run(&o, req);
}

const struct qts_command qts_cmd_kill = {
    .name = "kill",
    .summary = "kill switch: cancel every working order, block new ones",
    .usage = kill_usage,
    .run = run_kill,
};
