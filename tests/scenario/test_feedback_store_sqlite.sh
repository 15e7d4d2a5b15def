#!/usr/bin/env bash
# The learned cost model in the SQLite store: run 1 writes every key to
# impact_models, run 2 (model file deleted) restores it from there and
# predicts its first order with it; a damaged row is skipped with a warning
# (feedback_store_lib.sh, docs/feedback.md "Persistence").
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
command -v sqlite3 >/dev/null && command -v python3 >/dev/null ||
    { echo "skipped: needs sqlite3 and python3"; exit 77; }
store_yaml="  plugin: store_sqlite"
q() { sqlite3 "$dir/var/qts.db" "$1"; }
. "$(dirname "$0")/feedback_store_lib.sh"
exit $failed
