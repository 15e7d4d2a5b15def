#!/usr/bin/env bash
# Reading back from an SQLite store (docs/storage.md, "Reading back"):
# a paper run killed with kill -9 and restarted gets its positions back
# from the store, a replay never inherits them, the next paper run
# continues the paper lineage, store.restore: off restores nothing;
# ctx:history serves the bars an earlier run wrote; a backtest fed from
# tick_data by feed_store makes the same fills as the backtest of the file.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
command -v sqlite3 >/dev/null || { echo "skipped: needs the sqlite3 shell"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: needs python3 (reads restore.json)"; exit 77; }
. "$(dirname "$0")/readback_lib.sh"
store_yaml="  plugin: store_sqlite
  config: {path: qts.db}"
feed_store_conf="path: $dir/var/qts.db"
q() { sqlite3 "$dir/var/qts.db" "$1"; }
ts_sql() { echo "$1"; }

check_restore
check_history
check_feed_store
exit $failed
