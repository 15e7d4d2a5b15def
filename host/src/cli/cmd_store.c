/* cmd_store.c — see cmd_store.h. */
#include "cmd_store.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

int qts__store_args_parse(int argc, char **argv, int first, const char *extra_opt,
                          const char *usage, struct qts__store_args *a)
{
    *a = (struct qts__store_args){.spec = QTS__CMD_DEFAULT_STORE};
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
            a->spec = argv[++i];
        else if (strcmp(argv[i], "--host-id") == 0 && i + 1 < argc)
            a->host_id = argv[++i];
        else if (strcmp(argv[i], "--schema") == 0 && i + 1 < argc)
            a->schema = argv[++i];
        else if (strcmp(argv[i], extra_opt) == 0 && i + 1 < argc)
            a->extra = argv[++i];
        else {
            fprintf(stderr, "%s", usage);
            return QTS_EXIT_USAGE;
        }
    }
    return 0;
}

int qts__store_open(const char *cmd, const struct qts__store_args *a, const char *extra_key,
                    struct qts_store_plugin **p, struct qts_err *e)
{
    const char *kv[8]; /* key, value, ..., NULL */
    size_t n = 0;
    const char *const pairs[3][2] = {
        {"host_id", a->host_id},
        {extra_key, extra_key ? a->extra : NULL},
        {"schema", a->schema},
    };
    for (size_t i = 0; i < 3; i++) {
        if (pairs[i][1]) {
            kv[n++] = pairs[i][0];
            kv[n++] = pairs[i][1];
        }
    }
    kv[n] = NULL;
    qts_err_clear(e);
    int rc = qts_store_plugin_open_spec(a->spec, kv, p, e);
    if (rc) {
        fprintf(stderr, "qts %s: %s\n", cmd, e->msg);
        return rc == QTS_ECONFIG ? QTS_EXIT_USAGE : QTS_EXIT_FAILURE;
    }
    return 0;
}
