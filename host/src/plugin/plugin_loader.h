/* plugin_loader.h — open and validate one plugin shared object.
 *
 * Checks, in this order, each failure a QTS_E* code plus a message in `err`
 * naming the file and the field:
 *   1. file permissions: the file and its directory must not be writable by
 *      others (anyone who can write there could run code in the host), and
 *      the file must be a regular file;
 *   2. entry symbol `qts_plugin_entry` present, returns a descriptor;
 *   3. descriptor struct_size >= the ABI 1.0 size;
 *   4. abi_major == host major, abi_minor <= host minor;
 *   5. build signature string-equal to the host's;
 *   6. kind equals the configuration slot's kind;
 *   7. required operations present (descriptor and kind table, with the
 *      "offsetof + sizeof <= struct_size and non-NULL" rule);
 *   8. name unique: done by the plugin manager, which knows the other slots;
 *   9. the slot's config: against the plugin's key table: done by the plugin
 *      manager and by `qts check`/`qts run` (qts_plugin_lib_check_config).
 *
 * qts_plugin_lib_open() first copies the file to a per-generation name in a
 * private directory (<gen_dir>/<base>.<gen>) and dlopens that copy with
 * RTLD_NOW | RTLD_LOCAL. Every step goes by file descriptor: the source is
 * opened once and copied from that fd; gen_dir and each directory above it
 * are checked for owner and mode and opened without following symlinks
 * (plugin_fs.h); the copy is created O_EXCL | O_NOFOLLOW in that directory
 * fd; dlopen maps "/proc/self/fd/N" of the copy's own fd. No path is looked
 * up again between a check and the load. A copy, not a hard link: glibc recognises an
 * already-loaded object by device and inode, so a hard link to a loaded
 * build would hand back the old handle.
 *
 * The descriptor and kind table are copied into host memory (fields the
 * plugin's older struct lacks are zero), and name/version copied out, so
 * the host keeps no pointer into the plugin's data except code and the
 * configuration key table (desc.config_keys: static data, borrowed while
 * the library is open; NULL for a plugin built before ABI 1.3).
 */
#ifndef QTS_PLUGIN_LOADER_H
#define QTS_PLUGIN_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "qts/qts_err.h"
#include "qts/qts_plugin.h"

#include "config_tree.h"

/* Kind-table size of ABI 1.0 for each kind; the largest, for the copy. */
union qts_plugin_ops_any {
    uint32_t struct_size;
    struct qts_feed_ops feed;
    struct qts_broker_ops broker;
    struct qts_cache_ops cache;
    struct qts_store_ops store;
};

struct qts_plugin_lib {
    char *path;     /* owned: the file that was deployed */
    char *gen_path; /* owned: the per-generation copy (NULL: opened in place) */
    void *dl;       /* dlopen handle */
    int fd;         /* the verified file dlopen mapped (as /proc/self/fd/N); open while loaded */
    struct qts_plugin_desc desc;  /* copied; desc.ops points at `ops` */
    union qts_plugin_ops_any ops; /* copied kind table */
    char *name;                   /* owned copy */
    char *version;                /* owned copy */
    uint64_t gen;
    int refs; /* instances using this library */
};

/* "feed", "broker", "cache", "store" or "?" (static). */
const char *qts_plugin_kind_name(uint32_t kind);
/* Parse a kind name; 0 if unknown. */
uint32_t qts_plugin_kind_parse(const char *name);

/* Open `path` (borrowed) as generation `gen`, copying it into `gen_dir`
 * (created 0700 if missing). `expected_kind` 0 = any. On success *out is
 * owned (qts_plugin_lib_close) with refs = 1. On failure nothing stays
 * loaded, the copy is removed, and err names the field and the file. */
int qts_plugin_lib_open(const char *path, const char *gen_dir, uint64_t gen, uint32_t expected_kind,
                        struct qts_plugin_lib **out, struct qts_err *err);

/* Open `path` (borrowed) where it is, without a per-generation copy: for a
 * library opened once per process (a store plugin for `qts migrate`) and
 * for `qts check`. Same checks 1-7 and the same result as
 * qts_plugin_lib_open (lib->gen_path is NULL); nothing but the entry
 * function is called. */
int qts_plugin_lib_open_in_place(const char *path, uint32_t expected_kind,
                                 struct qts_plugin_lib **out, struct qts_err *err);

/* Unmap (unless dlclose is disabled, see below), remove the copy, free;
 * NULL is a no-op. */
void qts_plugin_lib_close(struct qts_plugin_lib *lib);

/* Where a slot's config: subtree is, for messages: "broker.config",
 * "feeds[md].config" (feeds are named by slot). Returns buf. */
const char *qts_plugin_cfg_path(uint32_t kind, const char *slot, char *buf, size_t cap);

/* Check the slot's config: subtree `cfg` (borrowed; NULL = none) against
 * the plugin's key table (config_keys.h): one diagnostic per unknown key
 * or wrong-typed value, none when the plugin declares no table. Returns
 * the number added to `d`. */
size_t qts_plugin_lib_check_config(const struct qts_plugin_lib *lib, const struct qts_cfg_node *cfg,
                                   const char *cfg_path, struct qts_diags *d);
/* The same for callers that report one error: 0, or QTS_ECONFIG with the
 * first problem ("file:line:col: path: message", and how many more) in err. */
int qts_plugin_lib_config_err(const struct qts_plugin_lib *lib, const struct qts_cfg_node *cfg,
                              const char *cfg_path, struct qts_err *err);

/* True when libraries must never be dlclosed: sanitizer builds, or the
 * environment variable QTS_NO_DLCLOSE set to a non-empty value other than
 * "0". A QTS_CAP_RESIDENT library is never closed either. */
bool qts_plugin_no_dlclose(void);

/* For `qts check`: qts_plugin_lib_open_in_place then close; nothing is
 * started. `expected_kind` 0 = any. Returns 0 or the first failure (err
 * filled). */
int qts_plugin_check_file(const char *path, uint32_t expected_kind, struct qts_err *err);

#endif
