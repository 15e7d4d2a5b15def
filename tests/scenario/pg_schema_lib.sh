# pg_schema_lib.sh — sourced by scenario tests that write to the shared
# PostgreSQL of scripts/with-services: a private schema, dropped at exit.
# Skips (77) without QTS_PG_CONNINFO.
if [ -z "${QTS_PG_CONNINFO:-}" ] || ! command -v psql >/dev/null; then
    echo "skipped: needs PostgreSQL (run through scripts/with-services, which exports QTS_PG_CONNINFO)"
    rm -rf "$dir"
    exit 77
fi
schema=qts_sc_$$_$RANDOM
psql "$QTS_PG_CONNINFO" -XAtq -c "CREATE SCHEMA $schema" >/dev/null || { echo "FAIL: cannot create schema"; exit 1; }
trap 'psql "$QTS_PG_CONNINFO" -XAtq -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1; rm -rf "$dir"' EXIT
q() { psql "$QTS_PG_CONNINFO" -XAtq -c "SET search_path TO $schema" -c "$1"; }
store_yaml="  plugin: store_postgres
  config: {conninfo: \"$QTS_PG_CONNINFO\", schema: $schema}"
bucket_sql="date_trunc('minute', time)"
