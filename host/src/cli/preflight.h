/* preflight.h — checks of the files a configuration names, without running
 * anything: plugin shared objects and strategy Lua files. Used by
 * `qts check` and `qts run`.
 *
 * Extension seam for the plugin loader: qts_preflight_plugin_file() also
 * calls `int qts_plugin_check_file(const char *path, uint32_t expected_kind,
 * struct qts_err *err)` (plugin_loader.h: the loader's checks without
 * starting anything) when that function is linked into the host. preflight.c
 * declares it weak, so while the loader is not part of the build the call is
 * skipped, and once it is, the full ABI validation runs with no further
 * change here.
 */
#ifndef QTS_PREFLIGHT_H
#define QTS_PREFLIGHT_H

#include <stdbool.h>

#include "qts/qts_err.h"
#include "qts/qts_plugin.h"

/* Outcome of one file check. */
enum qts_preflight_status {
    QTS_PREFLIGHT_OK = 0,
    QTS_PREFLIGHT_MISSING = 1, /* no such file: reported, tolerated by `run` for now */
    QTS_PREFLIGHT_BAD = 2,     /* exists but unusable: wrong type, unreadable, unsafe, broken */
};

/* A plugin file: exists, is a readable regular file, is not writable by
 * group or others (anyone who can write it can run code in the host), and,
 * when the loader provides the hook, passes ABI validation. `path` is
 * borrowed. Detail in `err` (may be NULL). */
enum qts_preflight_status qts_preflight_plugin_file(const char *path, enum qts_plugin_kind kind,
                                                    struct qts_err *err);

/* A strategy file: exists, is a regular readable file, and compiles
 * (luaL_loadfile in a fresh lua_State; nothing is run). A syntax error is
 * reported as "file:line: message" in `err`. */
enum qts_preflight_status qts_preflight_strategy_file(const char *path, struct qts_err *err);

/* A market-data file as feed_replay opens it with format `format`
 * ("auto", "csv-bars", ...; NULL = auto): it exists, can be read, and its
 * format is known (with auto: a binary file, a Binance capture or a CSV
 * whose header names bar, quote or trade columns). So `qts check` refuses
 * what `qts run` would refuse at the feed's start. */
enum qts_preflight_status qts_preflight_data_file(const char *path, const char *format,
                                                  struct qts_err *err);

/* True when the plugin loader's ABI check is linked in (see above). */
bool qts_preflight_has_abi_check(void);

#endif /* QTS_PREFLIGHT_H */
