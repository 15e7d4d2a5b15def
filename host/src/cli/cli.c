/* cli.c — command dispatch and the built-in `version` and `help`. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "build_info.h"
#include "qts/qts_plugin.h"

/* New commands are added here and declared in cli.h. */
const struct qts_command *const qts_commands[] = {
    &qts_cmd_help,        &qts_cmd_version,
    &qts_cmd_run,         &qts_cmd_check,
    &qts_cmd_sweep, /* cmd_sweep.c */
    &qts_cmd_convert,     &qts_cmd_report,
    &qts_cmd_migrate,                    /* storage */
    &qts_cmd_import,                     /* storage */
    &qts_cmd_runs,                       /* storage: cmd_runs.c */
    &qts_cmd_store,                      /* storage: cmd_store_dead.c */
    &qts_cmd_status,      &qts_cmd_kill, /* admin: cmd_kill.c, cmd_resume.c, cmd_reload.c */
    &qts_cmd_resume,      &qts_cmd_reload,
    &qts_cmd_subscribe, /* admin: cmd_subscribe.c */
    &qts_cmd_unsubscribe, NULL,
};

static const struct qts_command *find_command(const char *name)
{
    for (size_t i = 0; qts_commands[i]; i++)
        if (strcmp(qts_commands[i]->name, name) == 0)
            return qts_commands[i];
    return NULL;
}

static void print_overview(FILE *out)
{
    fprintf(out, "usage: qts <command> [options]\n\ncommands:\n");
    for (size_t i = 0; qts_commands[i]; i++)
        fprintf(out, "  %-10s %s\n", qts_commands[i]->name, qts_commands[i]->summary);
    fprintf(out, "\n`qts help <command>` shows a command's options.\n"
                 "exit codes: 0 success, 1 runtime failure, 2 usage or configuration error\n");
}

static int run_help(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stdout);
        return QTS_EXIT_OK;
    }
    const struct qts_command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "qts: unknown command '%s'\n", argv[1]);
        return QTS_EXIT_USAGE;
    }
    printf("%s", c->usage);
    return QTS_EXIT_OK;
}

QTS_COMMAND(qts_cmd_help, "help", "show commands, or one command's options",
            "usage: qts help [command]\n", run_help);

static int run_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: qts version\n");
        return QTS_EXIT_USAGE;
    }
    printf("qts %s (plugin ABI %d.%d, build %s)\n", QTS_VERSION, QTS_ABI_MAJOR, QTS_ABI_MINOR,
           QTS_BUILD_SIG);
    return QTS_EXIT_OK;
}

QTS_COMMAND(qts_cmd_version, "version", "print version and plugin ABI",
            "usage: qts version\n\n"
            "Prints the host version, the plugin ABI version and the build signature.\n",
            run_version);

int qts_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return QTS_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    if (strcmp(name, "--version") == 0)
        name = "version";
    const struct qts_command *c = find_command(name);
    if (!c) {
        fprintf(stderr, "qts: unknown command '%s' (try `qts help`)\n", argv[1]);
        return QTS_EXIT_USAGE;
    }
    /* `qts <command> --help` (or -h) anywhere before a `--` is `qts help
     * <command>`: no command takes either as a value */
    for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s", c->usage);
            return QTS_EXIT_OK;
        }
    return c->run(argc - 1, argv + 1);
}
