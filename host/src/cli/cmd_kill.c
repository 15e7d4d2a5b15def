/* cmd_kill.c — `qts kill`: pull the kill switch of the running host. */
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
    static const struct qts__signed_cmd kill = {"kill", "--reason", "operator kill",
                                                "\"cmd\":\"kill\"", kill_usage};
    return qts__admin_run_signed(argc, argv, &kill);
}

QTS_COMMAND(qts_cmd_kill, "kill", "kill switch: cancel every working order, block new ones",
            kill_usage, run_kill);
