/* cmd_common.c — see cmd_common.h. */
#include "cmd_common.h"

#include <string.h>

#include "cli.h"
#include "settings.h"
#include "log.h"
#include "plugin_loader.h"
#include "preflight.h"

int qts__cmd_parse_config_opt(int argc, char **argv, const char *usage, const char **path)
{
    *path = QTS_DEFAULT_CONFIG;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
            *path = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0 && a[9]) {
            *path = a + 9;
        } else {
            fprintf(stderr, "qts %s: unexpected argument '%s'\n%s", argv[0], a, usage);
            return QTS_EXIT_USAGE;
        }
    }
    return 0;
}

static void print_rejected(const char *path, const struct qts_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        char line[768];
        qts_diag_format(&d->v[i], line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    fprintf(stderr, "qts: configuration %s rejected: %zu error%s\n", path, d->n,
            d->n == 1 ? "" : "s");
}

struct qts_config *qts__cmd_load(const char *path) { return qts__cmd_load_with(path, NULL, 0); }

struct qts_config *qts__cmd_load_with(const char *path, const struct qts_config_set *sets,
                                      size_t n_sets)
{
    struct qts_diags d;
    qts_diags_init(&d);
    struct qts_config *c = NULL;
    if (qts_config_load_with(path, sets, n_sets, &c, &d) != 0) {
        print_rejected(path, &d);
        c = NULL;
    }
    qts_diags_cleanup(&d);
    return c;
}

/* One slot's config: against its plugin's key table. A plugin file that
 * does not open is left to the summary, which says why. */
static void check_slot_keys(const struct qts_plugin_slot *s, uint32_t kind, struct qts_diags *d)
{
    struct qts_plugin_lib *lib = NULL;
    struct qts_err e;
    if (!s->plugin || qts_plugin_lib_open_in_place(s->path, kind, &lib, &e) != 0)
        return;
    char cfg_path[160];
    qts_plugin_lib_check_config(lib, s->config,
                                qts_plugin_cfg_path(kind, s->name, cfg_path, sizeof cfg_path), d);
    qts_plugin_lib_close(lib);
}

struct qts_config *qts__cmd_load_checked(const char *path)
{
    return qts__cmd_load_checked_with(path, NULL, 0);
}

struct qts_config *qts__cmd_load_checked_with(const char *path, const struct qts_config_set *sets,
                                              size_t n_sets)
{
    struct qts_config *c = qts__cmd_load_with(path, sets, n_sets);
    if (!c)
        return NULL;
    const struct qts_settings *s = qts_config_settings(c);
    struct qts_diags d;
    qts_diags_init(&d);
    for (size_t i = 0; i < s->n_feeds; i++)
        check_slot_keys(&s->feeds[i], QTS_KIND_FEED, &d);
    check_slot_keys(&s->broker, QTS_KIND_BROKER, &d);
    check_slot_keys(&s->cache, QTS_KIND_CACHE, &d);
    check_slot_keys(&s->store, QTS_KIND_STORE, &d);
    if (d.n) {
        print_rejected(path, &d);
        qts_config_unref(c);
        c = NULL;
    }
    qts_diags_cleanup(&d);
    return c;
}

int qts__cmd_load_args(int argc, char **argv, const char *usage, const char **path,
                       struct qts_config **config)
{
    const char *config_path;
    int rc = qts__cmd_parse_config_opt(argc, argv, usage, &config_path);
    if (rc != 0)
        return rc;
    if (path)
        *path = config_path;
    *config = qts__cmd_load_checked(config_path);
    return *config ? 0 : QTS_EXIT_USAGE;
}

static void count(struct qts__cmd_findings *f, enum qts_preflight_status s)
{
    if (s == QTS_PREFLIGHT_MISSING)
        f->missing++;
    else if (s == QTS_PREFLIGHT_BAD)
        f->bad++;
}

static const char *status_text(enum qts_preflight_status s, const struct qts_err *e, const char *ok,
                               char *buf, size_t cap)
{
    if (s == QTS_PREFLIGHT_OK)
        return ok;
    snprintf(buf, cap, "%s: %s", s == QTS_PREFLIGHT_MISSING ? "MISSING" : "BAD", e->msg);
    return buf;
}

static void slot_line(FILE *out, const char *label, const struct qts_plugin_slot *s,
                      enum qts_plugin_kind kind, struct qts__cmd_findings *f)
{
    if (!s->plugin) {
        fprintf(out, "  %-16s (not configured)\n", label);
        return;
    }
    struct qts_err e = {0};
    enum qts_preflight_status st = qts_preflight_plugin_file(s->path, kind, &e);
    count(f, st);
    char buf[320];
    fprintf(out, "  %-16s %s -> %s\n", label, s->plugin, s->path);
    fprintf(out, "  %-16s %s\n", "",
            status_text(st, &e,
                        qts_preflight_has_abi_check()
                            ? "ok (safe permissions, plugin ABI valid)"
                            : "ok (regular file, readable, not group/other-writable; "
                              "ABI not checked: no plugin loader in this build)",
                        buf, sizeof buf));
}

/* The files of a feed_replay slot, opened as the plugin opens them (the
 * plugin reads them only at its start: without this `qts check` would pass
 * a file `qts run` refuses). `files` is a comma-separated string or a list. */
static void replay_files(FILE *out, const struct qts_plugin_slot *s, struct qts__cmd_findings *f)
{
    if (!s->plugin || strcmp(s->plugin, "feed_replay") != 0 || !s->config)
        return;
    const char *format = qts_cfg_str(qts_cfg_get(s->config, "format"));
    const struct qts_cfg_node *files = qts_cfg_get(s->config, "files");
    size_t n = qts_cfg_type(files) == QTS_CFG_SEQ ? qts_cfg_len(files) : 1;
    for (size_t i = 0; i < n; i++) {
        const char *list =
            qts_cfg_str(qts_cfg_type(files) == QTS_CFG_SEQ ? qts_cfg_at(files, i) : files);
        for (const char *p = list; p && *p;) {
            size_t k = strcspn(p, ",");
            char path[1024];
            snprintf(path, sizeof path, "%.*s", (int)k, p);
            char *b = path;
            while (*b == ' ')
                b++;
            if (*b) {
                struct qts_err e = {0};
                enum qts_preflight_status st = qts_preflight_data_file(b, format, &e);
                count(f, st);
                char buf[1400];
                fprintf(out, "  %-16s data %s: %s\n", "", b,
                        status_text(st, &e, "ok", buf, sizeof buf));
            }
            p += k + (p[k] == ',');
        }
    }
}

void qts__cmd_summary(FILE *out, const struct qts_config *c, struct qts__cmd_findings *f)
{
    const struct qts_settings *s = qts_config_settings(c);
    memset(f, 0, sizeof *f);
    fprintf(out, "configuration  %s\n", qts_config_path(c));
    static const char *const levels[] = {"trace", "debug", "info", "warn", "error"};
    fprintf(out, "mode           %s   host_id %s   log %s%s%s\n", qts_mode_name(s->mode),
            s->host_id, levels[s->log_level], s->log_file[0] ? " -> " : "", s->log_file);
    fprintf(out, "paths          var_dir %s\n", s->var_dir);
    fprintf(out, "instruments    %zu\n", s->n_instruments);
    for (size_t i = 0; i < s->n_instruments; i++) {
        const struct qts_instrument_cfg *in = &s->instruments[i];
        fprintf(out, "  %-12s venue %s  px_exp %d  qty_exp %d  tick %s  lot %s  min_qty %s\n",
                in->symbol, in->venue, in->px_exp, in->qty_exp, in->tick_size, in->lot_size,
                in->min_qty);
    }
    fprintf(out, "plugins        dir %s%s%s\n", s->plugins_dir, s->plugins_watch ? "  watch" : "",
            s->plugins_resident ? "  resident" : "");
    for (size_t i = 0; i < s->n_feeds; i++) {
        char label[64];
        snprintf(label, sizeof label, "feed %s", s->feeds[i].name);
        slot_line(out, label, &s->feeds[i], QTS_KIND_FEED, f);
        replay_files(out, &s->feeds[i], f);
    }
    if (s->n_feeds == 0)
        fprintf(out, "  %-16s (none)\n", "feeds");
    slot_line(out, "broker", &s->broker, QTS_KIND_BROKER, f);
    slot_line(out, "cache", &s->cache, QTS_KIND_CACHE, f);
    slot_line(out, "store", &s->store, QTS_KIND_STORE, f);
    fprintf(out, "strategies     dir %s  workers %d  memory %d MB  budget %lld ms\n",
            s->strategies_dir, s->strategy_workers, s->strategy_memory_limit_mb,
            (long long)s->strategy_callback_budget_ms);
    for (size_t i = 0; i < s->n_strategies; i++) {
        const struct qts_strategy_cfg *t = &s->strategies[i];
        struct qts_err e = {0};
        enum qts_preflight_status st = qts_preflight_strategy_file(t->path, &e);
        count(f, st);
        char syms[160] = "";
        for (size_t k = 0; k < t->n_symbols; k++) {
            size_t used = strlen(syms);
            snprintf(syms + used, sizeof syms - used, "%s%s", k ? "," : "", t->symbols[k]);
        }
        char buf[320];
        fprintf(out, "  %-16s %s -> %s\n  %-16s worker %d  symbols %s%s\n", t->name, t->file,
                t->path, "", t->worker, syms[0] ? syms : "-", t->enabled ? "" : "  (disabled)");
        fprintf(out, "  %-16s %s\n", "", status_text(st, &e, "ok (compiles)", buf, sizeof buf));
    }
    if (s->n_strategies == 0)
        fprintf(out, "  (no strategies)\n");
    if (s->mode == QTS_MODE_REPLAY) {
        if (s->replay_speed == 0)
            fprintf(out, "replay         speed max\n");
        else
            fprintf(out, "replay         speed %gx\n", s->replay_speed);
    }
}
