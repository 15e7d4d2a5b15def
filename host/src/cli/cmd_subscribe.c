/* cmd_subscribe.c — `qts subscribe SYMBOL` / `qts unsubscribe SYMBOL`:
 * start or stop real-time market data for a symbol in the running host. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_admin.h"

static const char subscribe_usage[] =
    "usage: qts subscribe SYMBOL [-c FILE | -s SOCKET] [--json]\n"
    "       qts unsubscribe SYMBOL [-c FILE | -s SOCKET] [--json]\n"
    "\n"
    "Asks the running host to start (or stop) real-time market data for SYMBOL\n"
    "from every feed and from a broker that carries market data. SYMBOL must be\n"
    "a configured instrument. A venue with a per-session subscription limit\n"
    "refuses past it.\n"
    "\n" QTS__ADMIN_USAGE_OPTIONS "\n"
    "exit codes: 0 done, 1 no host or refused, 2 usage error\n";

static int run_sub(int argc, char **argv, const char *cmd)
{
    struct qts__admin_opts o;
    int rc = qts__admin_parse(argc, argv, NULL, true, subscribe_usage, &o);
    if (rc != 0)
        return rc;
    if (!o.positional || !o.positional[0] || strlen(o.positional) >= 32 ||
        strpbrk(o.positional, "\"\\")) {
        fprintf(stderr, "qts %s: a SYMBOL is needed\n%s", cmd, subscribe_usage);
        return QTS_EXIT_USAGE;
    }
    char req[128];
    snprintf(req, sizeof req, "{\"cmd\":\"%s\",\"symbol\":\"%s\"}", cmd, o.positional);
    return qts__admin_run(&o, req);
}

static int run_subscribe(int argc, char **argv) { return run_sub(argc, argv, "subscribe"); }

static int run_unsubscribe(int argc, char **argv) { return run_sub(argc, argv, "unsubscribe"); }

QTS_COMMAND(qts_cmd_subscribe, "subscribe",
            "start real-time market data for a symbol in the running host", subscribe_usage,
            run_subscribe);

QTS_COMMAND(qts_cmd_unsubscribe, "unsubscribe",
            "stop real-time market data for a symbol in the running host", subscribe_usage,
            run_unsubscribe);
