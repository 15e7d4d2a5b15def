/* cmd_resume.c — `qts resume --approve REASON`: operator approval to leave
 * LOCKDOWN (or FAIL) and release the kill switch. */
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
    /* no default reason: an approval must say why */
    static const struct qts__signed_cmd resume = {
        "resume", "--approve", NULL, "\"cmd\":\"resume\",\"approve\":true", resume_usage};
    return qts__admin_run_signed(argc, argv, &resume);
}

QTS_COMMAND(qts_cmd_resume, "resume",
            "operator approval to leave LOCKDOWN and release the kill switch", resume_usage,
            run_resume);
