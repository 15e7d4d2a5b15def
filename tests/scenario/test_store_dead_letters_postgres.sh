#!/usr/bin/env bash
# Dead letters, PostgreSQL (private schema): fills the database refuses (a
# trigger) are kept in the dead-letter journal, reported at the next start
# (log, qts status) and written by `qts store replay-dead`, idempotently
# (dead_letter_lib.sh).
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/store_run_lib.sh"
. "$(dirname "$0")/dead_letter_lib.sh"
command -v python3 >/dev/null || { echo "skipped: needs python3 (reads summary.json)"; rm -rf "$dir"; exit 77; }
. "$(dirname "$0")/pg_schema_lib.sh"
store_yaml="  plugin: store_postgres
  config: {conninfo: \"$QTS_PG_CONNINFO\", schema: $schema, host_id: sc}"
store_args=(--store "postgres:$QTS_PG_CONNINFO" --schema "$schema")
refuse_on="CREATE FUNCTION refuse_fill() RETURNS trigger LANGUAGE plpgsql AS
           \$\$ BEGIN IF NEW.order_id % 3 = 0 THEN RAISE EXCEPTION 'test: this fill is refused'; END IF;
           RETURN NEW; END \$\$;
           CREATE TRIGGER refuse_fills BEFORE INSERT ON fills FOR EACH ROW EXECUTE FUNCTION refuse_fill();"
refuse_off="DROP TRIGGER refuse_fills ON fills;"
dead_letter_test
exit $failed
