#!/usr/bin/env bash
# Dead letters, SQLite: fills the database refuses (a trigger) are kept in
# the dead-letter journal, reported at the next start (log, qts status) and
# written by `qts store replay-dead`, idempotently (dead_letter_lib.sh).
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/store_run_lib.sh"
. "$(dirname "$0")/dead_letter_lib.sh"
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
command -v sqlite3 >/dev/null || { echo "skipped: needs the sqlite3 shell"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: needs python3 (reads summary.json)"; exit 77; }
db=$dir/var/qts.db
mkdir -p "$dir/var"
store_yaml="  plugin: store_sqlite
  config: {path: qts.db, host_id: sc}"
store_args=(--store "sqlite:$db")
q() { sqlite3 "$db" "$1"; }
refuse_on="CREATE TRIGGER refuse_fills BEFORE INSERT ON fills WHEN NEW.order_id % 3 = 0
           BEGIN SELECT RAISE(ABORT, 'test: this fill is refused'); END;"
refuse_off="DROP TRIGGER refuse_fills;"
dead_letter_test
exit $failed
