/* cmd_resume.c — `qts resume --approve REASON`: operator approval to leave
 * LOCKDOWN (or FAIL) and release the kill switch. */
#include <stdio.h>
#include <stdlib.h>

#include "admin_socket.h"
#include "cli.h"
#include "cmd_admin.h"

static const char resume_usage[] =
    "usage: qts resume --approve REASON [-c FILE | -s SOCKET] [--by NAME] [--json]\n"
    "\n"
    "Approves leaving LOCKDOWN (or FAIL) and turns the kill switch off. The approval\n"
    "is recorded with who gave it (NAME and the uid of the caller) and when.\n"
    "\n"
    "options:\n"
    "      --approve REASON  required: why trading may resume\n"
    "      --by NAME         who approves (default $USER)\n"
    "  -c, --config FILE     configuration whose paths.var_dir holds qts.sock\n"
    "  -s, --socket PATH     the admin socket\n"
    "      --json            print the answer as one JSON line\n"
    "\n"
    "exit codes: 0 resumed, 1 no host or refused, 2 usage error (no --approve)\n";

static int run_resume(int argc, char **argv)
{
    const char *reason = NULL, *by = getenv("USER");
    const struct qts__opt opts[] = {
        {"--approve", NULL, &reason, NULL},
        {"--by", NULL, &by, NULL},
        {0},
    };
    struct qts__admin_opts o;
    int rc = qts__admin_parse(argc, argv, opts, false, resume_usage, &o);
    if (rc != 0)
        return rc;
    if (!reason || !reason[0]) {
        fprintf(stderr, "qts resume: --approve REASON is required\n%s", resume_usage);
        return QTS_EXIT_USAGE;
    }
    char r[600], b[140], req[1024];
    qts_json_escape(r, sizeof r, reason);
    qts_json_escape(b, sizeof b, by ? by : "");
    snprintf(req, sizeof req,
             "{\"cmd\":\"resume\",\"approve\":true,\"reason\":\"%s\",\"by\":\"%s\"}", r, b);
    return qts__admin_run(&o, req);
}

const struct qts_command qts_cmd_resume = {
    .name = "resume",
    .summary = "operator approval to leave LOCKDOWN and release the kill switch",
    .usage = resume_usage,
    .run = run_resume,
};
