/* cli.h — the `qts <command> [options]` front end.
 *
 * Exit codes (docs/cli.md): 0 success, 1 runtime failure, 2 usage or
 * configuration error.
 */
#ifndef QTS_CLI_H
#define QTS_CLI_H

enum {
    QTS_EXIT_OK = 0,
    QTS_EXIT_FAILURE = 1,
    QTS_EXIT_USAGE = 2,
};

struct qts_command {
    const char *name;
    const char *summary;               /* one line for `qts help` */
    const char *usage;                 /* full text for `qts help <name>` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

/* Defines the command `var`: `qts name_` runs run_; summary_ is its line in
 * `qts help`, usage_ its full text. */
#define QTS_COMMAND(var, name_, summary_, usage_, run_) \
    const struct qts_command var = {                    \
        .name = (name_), .summary = (summary_), .usage = (usage_), .run = (run_)}

/* The command table, NULL-terminated (cli.c). */
extern const struct qts_command *const qts_commands[];

int qts_cli_main(int argc, char **argv);

/* Commands (one file each: cmd_<name>.c). */
extern const struct qts_command qts_cmd_version;
extern const struct qts_command qts_cmd_help;
extern const struct qts_command qts_cmd_run;   /* cmd_run.c */
extern const struct qts_command qts_cmd_check; /* cmd_check.c */
extern const struct qts_command qts_cmd_sweep; /* cmd_sweep.c */
extern const struct qts_command qts_cmd_convert;
extern const struct qts_command qts_cmd_report;
/* storage (cmd_migrate.c, cmd_import.c) */
extern const struct qts_command qts_cmd_migrate;
extern const struct qts_command qts_cmd_runs;
extern const struct qts_command qts_cmd_store;
extern const struct qts_command qts_cmd_import;
extern const struct qts_command qts_cmd_status; /* cmd_status.c */
/* Admin commands talking to a running host over its socket (admin_socket.h). */
extern const struct qts_command qts_cmd_kill;        /* cmd_kill.c */
extern const struct qts_command qts_cmd_resume;      /* cmd_resume.c */
extern const struct qts_command qts_cmd_reload;      /* cmd_reload.c */
extern const struct qts_command qts_cmd_subscribe;   /* cmd_subscribe.c */
extern const struct qts_command qts_cmd_unsubscribe; /* cmd_subscribe.c */

#endif
