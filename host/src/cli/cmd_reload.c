/* cmd_reload.c — `qts reload [WHAT]`: reload configuration, plugins or
 * strategies of the running host. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_admin.h"

static const char reload_usage[] =
    "usage: qts reload [config|plugins|strategies|all] [-c FILE | -s SOCKET] [--json]\n"
    "\n"
    "Asks the running host to reload its configuration, its plugins, its strategies,\n"
    "or all of them (default all).\n"
    "\n" QTS__ADMIN_USAGE_OPTIONS "\n"
    "exit codes: 0 reloaded, 1 no host or refused, 2 usage error\n";

static int run_reload(int argc, char **argv)
{
    struct qts__admin_opts o;
    int rc = qts__admin_parse(argc, argv, NULL, true, reload_usage, &o);
    if (rc != 0)
        return rc;
    const char *what = o.positional ? o.positional : "all";
    if (strcmp(what, "config") && strcmp(what, "plugins") && strcmp(what, "strategies") &&
        strcmp(what, "all")) {
        fprintf(stderr, "qts reload: unknown '%s'\n%s", what, reload_usage);
        return QTS_EXIT_USAGE;
    }
    char req[128];
    snprintf(req, sizeof req, "{\"cmd\":\"reload\",\"what\":\"%s\"}", what);
    return qts__admin_run(&o, req);
}

QTS_COMMAND(qts_cmd_reload, "reload",
            "reload configuration, plugins or strategies of the running host", reload_usage,
            run_reload);
