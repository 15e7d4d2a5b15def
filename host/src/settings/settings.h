/* settings.h — the typed settings and the one table of configuration keys.
 *
 * qts_config_keys[] is the single source of truth for every key the host
 * reads: validation (types, ranges, enums, required keys, unknown keys),
 * defaults, and the key table in docs/config.md (a test compares the two).
 *
 * Adding a key = one field in struct qts_settings (or in a list item struct)
 * plus one row in settings.c. Rows whose path contains `*` describe the
 * items of a list; their offset is into the item struct, every other offset
 * is into struct qts_settings.
 *
 * Ownership: every pointer in a qts_settings is owned by the snapshot that
 * holds it (config.h) and lives exactly as long; readers borrow.
 */
#ifndef QTS_SETTINGS_H
#define QTS_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_keys.h"   /* qts__edit_distance */
#include "qts/qts_types.h" /* enum qts_mode */
#include "risk_limits.h"   /* struct qts_risk_limits */
#include "safety.h"        /* struct qts_safety_cfg */

struct qts_instrument_cfg {
    char *symbol;
    char *venue;
    int px_exp;      /* price decimals: price_ticks = price * 10^px_exp */
    int qty_exp;     /* quantity decimals */
    char *tick_size; /* decimal strings, exact */
    char *lot_size;
    char *min_qty;
};

/* A plugin slot: a feed, the broker, the cache or the store. */
struct qts_plugin_slot {
    char *name;   /* feeds: from the file; broker/cache/store: the section name */
    char *plugin; /* as written: a name or a path; NULL = slot not configured */
    char *path;   /* resolved absolute-or-relative file path (see docs/config.md) */
    const struct qts_cfg_node *config; /* checked against the plugin's key table when it
                                        * is loaded (config_keys.h); may be NULL */
};

struct qts_strategy_cfg {
    char *name;
    char *file; /* as written */
    char *path; /* resolved against strategies.dir */
    bool enabled;
    int worker;
    char **symbols; /* owned list */
    size_t n_symbols;
    const struct qts_cfg_node *params; /* free-form; may be NULL */
    const struct qts_cfg_node *risk;   /* risk limit overrides (risk_limits.h); may be NULL */
};

/* Sets of risk and execution defaults (docs/config.md "Presets"); auto =
 * backtest in a replay, live_scalping in paper and live. */
enum qts_preset {
    QTS_PRESET_AUTO = 0,
    QTS_PRESET_BACKTEST = 1,
    QTS_PRESET_PAPER = 2,
    QTS_PRESET_LIVE_SCALPING = 3,
};

struct qts_settings {
    int preset; /* enum qts_preset: where the risk and execution defaults came from */
    int mode;   /* enum qts_mode */
    char *host_id;
    int log_level; /* enum qts_log_level */
    char *log_file;
    char *http_listen; /* "host:port"; "" = no HTTP server */
    char *alerts_telegram_chat, *alerts_telegram_api, *alerts_webhook_url;
    int64_t alerts_min_interval_ms;
    int alerts_reject_burst;
    char *var_dir;     /* resolved */
    char *plugins_dir; /* resolved */
    bool plugins_watch;
    bool plugins_resident;
    struct qts_instrument_cfg *instruments;
    size_t n_instruments;
    struct qts_plugin_slot *feeds;
    size_t n_feeds;
    struct qts_plugin_slot broker;
    struct qts_plugin_slot cache;
    struct qts_plugin_slot store;
    int store_ticks;        /* store.ticks: 0 auto, 1 none, 2 trades, 3 all */
    int store_restore;      /* store.restore: 0 auto, 1 off */
    int store_history_bars; /* store.history_bars: bars per instrument and interval */
    char *strategies_dir;   /* resolved */
    int strategy_workers;
    bool strategies_watch;
    int strategy_memory_limit_mb;
    int64_t strategy_callback_budget_ms;
    int strategy_max_errors_per_minute;
    bool strategy_replay_loop_guard; /* replay: count instructions (no JIT) */
    struct qts_strategy_cfg *strategies;
    size_t n_strategies;
    double replay_speed;        /* 0 = as fast as possible ("max"), else multiple of real time */
    char *config_dir;           /* directory of the top-level file; relative paths start here */
    char *account_initial_cash; /* decimal text */
    int64_t exec_max_ref_age_ms;
    double exec_price_band_pct;
    int exec_max_children;
    double exec_adjust_step_pct;
    int exec_adjust_max_rounds;
    int64_t exec_adjust_interval_ms;
    double exec_max_slippage_pct;
    int64_t exec_monitor_timeout_ms;
    const struct qts_cfg_node *feedback; /* free-form; validated by the feedback module */
    const struct qts_cfg_node *decide;   /* free-form; validated by the decide module */
    char *budget_key;                    /* shared exposure budget (risk_budget.h); "" = none */
    char *budget_limit;                  /* decimal text, currency */
    int budget_policy;                   /* 0 refuse, 1 local_share */
    double budget_local_share;
    int exec_retain_orders; /* retention of finished orders (oms.h) */
    int64_t exec_retain_ms;
    int exec_evict_tombstones;
    int64_t startup_timeout_ms; /* startup.*: the start-up sync of paper/live runs */
    bool startup_require_reconcile;
    bool startup_warm_from_cache;
    bool startup_seed_market;
    bool startup_adopt_positions;
    bool cluster_claim;               /* cluster.claim: own instruments/strategies */
    int64_t cluster_ttl_ms;           /* cluster.ttl_ms: heartbeat and claims */
    int64_t cluster_claim_timeout_ms; /* cluster.claim_timeout_ms */
    /* new fields: append here */
    struct qts_risk_limits risk;  /* the `risk:` section (risk_limits.h) */
    struct qts_safety_cfg safety; /* the `safety:` section (safety.h) */
    int64_t stop_timeout_ms;      /* safety.stop_timeout_ms: the orderly stop's wait */
};

enum qts_key_type {
    QTS_KEY_SECTION = 0, /* a mapping of further keys */
    QTS_KEY_STRING,
    QTS_KEY_PATH, /* a string resolved against the config directory */
    QTS_KEY_INT,  /* stored as int */
    QTS_KEY_DOUBLE,
    QTS_KEY_BOOL,
    QTS_KEY_ENUM,        /* stored as int: index into `choices` */
    QTS_KEY_DURATION_MS, /* integer milliseconds, stored as int64_t */
    QTS_KEY_DECIMAL,     /* exact decimal kept as text ("0.01"), quoted or not */
    QTS_KEY_LIST,        /* list of mappings; items described by "<path>.*.<key>" rows */
    QTS_KEY_STRLIST,     /* list of strings: char ** plus size_t count */
    QTS_KEY_MAP,         /* free-form mapping, validated by its owner */
    QTS_KEY_SPEED,       /* "max" (stored 0) or a number > 0, stored as double */
};

struct qts_key {
    const char *path; /* dotted; `*` = every item of a list */
    enum qts_key_type type;
    const char *def; /* default as YAML text; NULL = no default */
    bool has_range;
    double min, max;     /* inclusive, when has_range */
    const char *choices; /* enums: "replay|paper|live" */
    bool required;
    bool cash;           /* decimals: an amount in cash units (QTS_CASH_EXP), must fit int64 */
    size_t offset;       /* field in qts_settings (or in the list item) */
    size_t count_offset; /* lists: the size_t count field */
    size_t elem_size;    /* QTS_KEY_LIST: sizeof the item struct */
    const char *doc;     /* one line, copied into docs/config.md */
};

/* The table, in documentation order. */
extern const struct qts_key qts_config_keys[];
extern const size_t qts_config_n_keys;

/* "string", "int", "enum", ... as written in docs/config.md. */
const char *qts_key_type_name(enum qts_key_type t);

/* The choices of the enum key k ("a|b|c") as "a, b, c" into buf (cap bytes,
 * cap >= 1), cut short where it would not fit. */
void qts_key_choices_list(const struct qts_key *k, char *buf, size_t cap);

/* Validate the merged tree `root` against the table, fill `s` (zeroed by the
 * caller), apply defaults, resolve paths against `config_dir` (borrowed).
 * Every problem is added to `diags`; returns 0 or QTS_ECONFIG. Free-form
 * nodes stored in `s` borrow from `root`. */
int qts__settings_build(const struct qts_cfg_node *root, const char *config_dir,
                        struct qts_settings *s, struct qts_diags *diags);
/* Free everything qts__settings_build allocated (not `s` itself). */
void qts__settings_cleanup(struct qts_settings *s);

/* qts__edit_distance, for "did you mean": config_keys.h. */

const char *qts_mode_name(int mode);

/* The risk host's view of `s` (risk_control.h): borrowed pointers into `s`,
 * valid while `s` is. */
struct qts_risk_settings;
void qts_settings_risk_view(const struct qts_settings *s, struct qts_risk_settings *out);

#endif /* QTS_SETTINGS_H */
