#!/usr/bin/env bash
# execution_logs and child orders, SQLite: a replay sends a TWAP parent
# (4 slices) and an iceberg parent; SQL shows each parent with its children
# in `orders` and every pipeline stage of each order, timed, in
# execution_logs (exec_log_lib.sh).
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/exec_log_lib.sh"
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
command -v sqlite3 >/dev/null || { echo "skipped: needs the sqlite3 shell"; exit 77; }
store_yaml="  plugin: store_sqlite
  config: {path: qts.db}"
q() { sqlite3 "$dir/var/qts.db" "$1"; }
exec_log_run || exit 1
exec_log_check
exit $failed
