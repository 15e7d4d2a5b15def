/* plugin_fs.h — the private directory plugin copies live in, opened so that
 * nobody but the running user (or root) can swap what gets loaded.
 *
 * Rules (docs/security.md, "A local user"):
 *   - every directory from / down to var_dir (after resolving var_dir's own
 *     symlinks once, with realpath) must be owned by the running user or
 *     root and not writable by group or others. An ancestor of var_dir that
 *     is sticky (like /tmp, mode 1777) is accepted: in it only an entry's
 *     owner can rename or delete that entry, and the next directory down
 *     must itself pass the owner check;
 *   - var_dir and var_dir/plugins.gen get no sticky exception;
 *   - the walk opens one component at a time with O_NOFOLLOW, so a symlink
 *     put in place after the realpath (or a symlinked plugins.gen) is
 *     refused instead of followed.
 */
#ifndef QTS_PLUGIN_FS_H
#define QTS_PLUGIN_FS_H

#include "qts/qts_err.h"

/* Create `gen_dir` (mode 0700) if missing and return an O_DIRECTORY fd of it
 * (owned by the caller, O_CLOEXEC) after the checks above, or a negative
 * QTS_E* code with err naming the directory and the reason. `gen_dir` is
 * borrowed; its parent is var_dir. */
int qts_plugin_gen_dir_open(const char *gen_dir, struct qts_err *err);

/* Check one open directory: owner and write bits as above. `shown` names it
 * in the message; `allow_sticky` = an ancestor of var_dir. */
int qts_plugin_dir_trusted(int dirfd, const char *shown, int allow_sticky, struct qts_err *err);

#endif
