#!/usr/bin/env bash
# The learned cost model in the PostgreSQL store (a private schema): run 1
# writes every key to impact_models, run 2 (model file deleted) restores it
# from there and predicts its first order with it; a damaged row is skipped
# with a warning (feedback_store_lib.sh, docs/feedback.md "Persistence").
set -u
. "$(dirname "$0")/scenario_lib.sh"
command -v python3 >/dev/null || { echo "skipped: needs python3"; rm -rf "$dir"; exit 77; }
. "$(dirname "$0")/pg_schema_lib.sh"
. "$(dirname "$0")/feedback_store_lib.sh"
exit $failed
