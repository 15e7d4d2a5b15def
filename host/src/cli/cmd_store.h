/* cmd_store.h — what `qts migrate` and `qts import` share: the options that
 * name the store (--store, --host-id, --schema) and opening it. Internal to
 * the CLI commands. */
#ifndef QTS_CMD_STORE_H
#define QTS_CMD_STORE_H

#include "store_plugin.h"

#define QTS__CMD_DEFAULT_STORE "sqlite:var/qts.db"

/* The store options; every string is borrowed from argv. */
struct qts__store_args {
    const char *spec;    /* --store SPEC (default QTS__CMD_DEFAULT_STORE) */
    const char *host_id; /* --host-id ID, or NULL */
    const char *schema;  /* --schema NAME, or NULL */
    const char *extra;   /* the command's own option `extra_opt VALUE`, or NULL */
};

/* Parse argv[first..] into *a: the store options and `extra_opt VALUE`.
 * Returns 0, or QTS_EXIT_USAGE after printing `usage` to stderr. */
int qts__store_args_parse(int argc, char **argv, int first, const char *extra_opt,
                          const char *usage, struct qts__store_args *a);

/* Open the store a names, passing host_id, then `extra_key`=a->extra when
 * extra_key is not NULL, then schema as its options. On 0, *p is owned by
 * the caller (qts_store_plugin_close); else the exit code, after printing
 * "qts <cmd>: why". */
int qts__store_open(const char *cmd, const struct qts__store_args *a, const char *extra_key,
                    struct qts_store_plugin **p, struct qts_err *e);

#endif
