#!/usr/bin/env bash
# Reading back from a PostgreSQL store (docs/storage.md, "Reading back"),
# in a private schema: the checks of test_store_readback_sqlite.sh (kill -9
# and restart restores positions by mode lineage, ctx:history, a backtest
# fed from tick_data by feed_store equals the file's).
set -u
. "$(dirname "$0")/scenario_lib.sh"
command -v python3 >/dev/null || { echo "skipped: needs python3 (reads restore.json)"; rm -rf "$dir"; exit 77; }
. "$(dirname "$0")/pg_schema_lib.sh"
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; psql "$QTS_PG_CONNINFO" -XAtq -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1; rm -rf "$dir"' EXIT
. "$(dirname "$0")/readback_lib.sh"
feed_store_conf="conninfo: \"$QTS_PG_CONNINFO\", schema: $schema"
ts_sql() { echo "(extract(epoch from $1) * 1000000)::bigint * 1000"; }

check_restore
check_history
check_feed_store
exit $failed
