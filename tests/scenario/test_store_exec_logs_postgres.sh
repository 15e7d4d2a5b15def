#!/usr/bin/env bash
# execution_logs and child orders, PostgreSQL (private schema): a replay
# sends a TWAP parent (4 slices) and an iceberg parent; SQL shows each
# parent with its children in `orders` and every pipeline stage of each
# order, timed, in execution_logs (exec_log_lib.sh).
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/exec_log_lib.sh"
. "$(dirname "$0")/pg_schema_lib.sh"
exec_log_run || exit 1
exec_log_check
exit $failed
