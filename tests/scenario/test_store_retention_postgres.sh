#!/usr/bin/env bash
# Retention on the run's clock: a replay of ten days of slow market data
# (one book change every 20 s) with store.ticks: trades. The host asks for
# maintenance every hour of data time, so by the end the daily tick_data
# partitions older than 7 days are dropped, the days ahead exist, and the
# oldest tick left is at most 8 days older than the last.
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/store_run_lib.sh"
. "$(dirname "$0")/pg_schema_lib.sh"

feed_rate=0.05
write_store_config 43200 trades   # 43,200 events at 0.05/s = 10 days
run_once || exit 1
days=$(q "SELECT extract(day FROM max(time) - min(time)) FROM tick_data")
parts=$(q "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
           JOIN pg_namespace n ON n.oid = p.relnamespace
           WHERE p.relname = 'tick_data' AND n.nspname = '$schema'")
echo "tick_data partitions: $parts"
case " $parts " in
*" tick_data_p20231114 "*) fail "the first day's partition (2023-11-14) is still there after 10 days of data" ;;
esac
case " $parts " in
*" tick_data_p20231125 "*) ;;
*) fail "no partition made ahead for 2023-11-25" ;;
esac
[ "${days:-99}" -le 8 ] || fail "tick_data spans $days days, retention is 7"
[ "$(q "SELECT count(*) FROM tick_data")" -gt 0 ] || fail "no ticks left at all"
echo "ok: retention dropped the tick partitions older than 7 days of data time (ticks left span $days days)"
exit $failed
