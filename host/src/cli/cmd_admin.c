/* cmd_admin.c — see cmd_admin.h. */
#include "cmd_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_socket.h"
#include "cli.h"
#include "cmd_common.h"
#include "settings.h"
#include "util.h"

static bool match(const struct qts__opt *op, char **argv, int argc, int *i)
{
    const char *a = argv[*i];
    size_t n = strlen(op->lng);
    if (op->flag) {
        if (strcmp(a, op->lng) == 0 || (op->shrt && strcmp(a, op->shrt) == 0)) {
            *op->flag = true;
            return true;
        }
        return false;
    }
    if ((strcmp(a, op->lng) == 0 || (op->shrt && strcmp(a, op->shrt) == 0)) && *i + 1 < argc) {
        *op->str = argv[++*i];
        return true;
    }
    if (strncmp(a, op->lng, n) == 0 && a[n] == '=' && a[n + 1]) {
        *op->str = a + n + 1;
        return true;
    }
    return false;
}

int qts__admin_parse(int argc, char **argv, const struct qts__opt *extra, bool positional_ok,
                     const char *usage, struct qts__admin_opts *o)
{
    memset(o, 0, sizeof *o);
    o->config = QTS_DEFAULT_CONFIG;
    const struct qts__opt common[] = {
        {"--config", "-c", &o->config, NULL},
        {"--socket", "-s", &o->socket, NULL},
        {"--json", NULL, NULL, &o->json},
        {0},
    };
    for (int i = 1; i < argc; i++) {
        bool ok = false;
        for (const struct qts__opt *op = common; op->lng && !ok; op++)
            ok = match(op, argv, argc, &i);
        for (const struct qts__opt *op = extra; op && op->lng && !ok; op++)
            ok = match(op, argv, argc, &i);
        if (!ok && positional_ok && !o->positional && argv[i][0] != '-') {
            o->positional = argv[i];
            ok = true;
        }
        if (!ok) {
            fprintf(stderr, "qts %s: unexpected argument '%s'\n%s", argv[0], argv[i], usage);
            return QTS_EXIT_USAGE;
        }
    }
    return 0;
}

static int socket_path(const struct qts__admin_opts *o, char *out, size_t cap)
{
    if (o->socket) {
        qts_strlcpy(out, o->socket, cap);
        return 0;
    }
    const char *env = getenv("QTS_ADMIN_SOCKET");
    if (env && env[0]) {
        qts_strlcpy(out, env, cap);
        return 0;
    }
    struct qts_config *c = qts__cmd_load(o->config);
    if (!c)
        return QTS_EXIT_USAGE;
    snprintf(out, cap, "%s/%s", qts_config_settings(c)->var_dir, QTS_ADMIN_SOCKET_NAME);
    qts_config_unref(c);
    return 0;
}

/* Indented JSON for people (the answer is trusted to be well-formed). */
static void pretty(FILE *f, const char *j)
{
    int depth = 0;
    bool in_str = false;
    for (const char *p = j; *p; p++) {
        char c = *p;
        if (in_str) {
            fputc(c, f);
            if (c == '\\' && p[1])
                fputc(*++p, f);
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            fputc(c, f);
            break;
        case '{':
        case '[':
            fputc(c, f);
            if (p[1] == '}' || p[1] == ']') {
                fputc(*++p, f);
                break;
            }
            fprintf(f, "\n%*s", 2 * ++depth, "");
            break;
        case '}':
        case ']': fprintf(f, "\n%*s%c", 2 * --depth, "", c); break;
        case ',': fprintf(f, ",\n%*s", 2 * depth, ""); break;
        case ':': fputs(": ", f); break;
        default: fputc(c, f); break;
        }
    }
    fputc('\n', f);
}

int qts__admin_call(const struct qts__admin_opts *o, const char *request, char **reply)
{
    *reply = NULL;
    char path[512];
    int rc = socket_path(o, path, sizeof path);
    if (rc != 0)
        return rc;
    char *out = qts_xmalloc(QTS_ADMIN_REPLY_MAX);
    struct qts_err err;
    qts_err_clear(&err);
    rc = qts_admin_call(path, request, out, QTS_ADMIN_REPLY_MAX, 10000, &err);
    if (rc != 0) {
        fprintf(stderr, "qts: %s\n", err.msg);
        free(out);
        return QTS_EXIT_FAILURE;
    }
    *reply = out;
    return 0;
}

int qts__admin_run(const struct qts__admin_opts *o, const char *request)
{
    char *out;
    int rc = qts__admin_call(o, request, &out);
    if (rc != 0)
        return rc;
    bool ok = false;
    qts_json_get_bool(out, "ok", &ok);
    if (o->json) {
        printf("%s\n", out);
    } else if (ok) {
        const char *r = strstr(out, "\"result\":");
        if (r) {
            char *body = qts_xstrdup(r + 9);
            size_t n = strlen(body);
            if (n && body[n - 1] == '}')
                body[n - 1] = '\0'; /* the envelope's closing brace */
            pretty(stdout, body);
            free(body);
        }
    } else {
        char msg[512] = "";
        qts_json_get_str(out, "error", msg, sizeof msg);
        fprintf(stderr, "qts: host refused: %s\n", msg);
    }
    free(out);
    return ok ? QTS_EXIT_OK : QTS_EXIT_FAILURE;
}

int qts__admin_run_signed(int argc, char **argv, const struct qts__signed_cmd *cmd)
{
    const char *reason = cmd->default_reason, *by = getenv("USER");
    const struct qts__opt opts[] = {
        {cmd->reason_opt, NULL, &reason, NULL},
        {"--by", NULL, &by, NULL},
        {0},
    };
    struct qts__admin_opts o;
    int rc = qts__admin_parse(argc, argv, opts, false, cmd->usage, &o);
    if (rc != 0)
        return rc;
    if (!cmd->default_reason && (!reason || !reason[0])) {
        fprintf(stderr, "qts %s: %s REASON is required\n%s", cmd->name, cmd->reason_opt,
                cmd->usage);
        return QTS_EXIT_USAGE;
    }
    char r[600], b[140], req[1024];
    qts_json_escape(r, sizeof r, reason);
    qts_json_escape(b, sizeof b, by ? by : "");
    snprintf(req, sizeof req, "{%s,\"reason\":\"%s\",\"by\":\"%s\"}", cmd->head, r, b);
    return qts__admin_run(&o, req);
}
