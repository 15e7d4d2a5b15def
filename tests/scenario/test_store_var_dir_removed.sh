#!/usr/bin/env bash
# Records removed under a running host are detected, never written into
# silently (docs/storage.md "Faults"):
# - var_dir deleted (rm -rf) during a run: the store writer notices within
#   about a second, logs an ERROR naming it, and the host raises FS064
#   (safety FAIL: trading halts);
# - the SQLite database file deleted during a run: the store answers I/O
#   errors instead of writing into the unlinked file, the records spill to
#   the journal, and the next start writes them into a new database.
set -u
. "$(dirname "$0")/scenario_lib.sh"
. "$(dirname "$0")/store_run_lib.sh"
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
command -v sqlite3 >/dev/null || { echo "skipped: needs the sqlite3 shell"; exit 77; }
store_yaml="  plugin: store_sqlite
  config: {path: qts.db}"
q() { sqlite3 "$dir/var/qts.db" "$1"; }

# slow_host <log name>: a replay at real time in the background, until its
# admin socket is up (pid in $pid)
slow_host() {
    "$qts" run -c "$dir/qts.yaml" >"$dir/$1.out" 2>"$dir/$1.err" &
    pid=$!
    for _ in $(seq 100); do [ -S "$dir/var/qts.sock" ] && return 0; sleep 0.1; done
    fail "the host did not start"; cat "$dir/$1.err"; kill -TERM $pid; exit 1
}

write_store_config 100000 none
sed -i 's/^mode: replay$/mode: replay\nreplay: {speed: 1}/' "$dir/qts.yaml"

# 1. var_dir removed
slow_host a
sleep 1
rm -rf "$dir/var"
sleep 3
kill -TERM $pid; wait $pid
grep -q "ERROR .*records directory $dir/var was removed or replaced under the running host" "$dir/a.err" ||
    fail "no ERROR naming the removed var_dir: $(grep -i 'removed' "$dir/a.err" | head -3)"
grep -q "safety raise code=FS064 state=NORMAL->FAIL" "$dir/a.err" ||
    fail "FS064 not raised: $(grep -i 'safety' "$dir/a.err" | head -3)"
[ "$failed" = 0 ] && echo "ok: var_dir removed under the host: ERROR logged, FS064 raised (FAIL)"

# 2. the SQLite file removed: the rest spills, the next start writes it
mkdir -p "$dir/var"
slow_host b
sleep 2
rm -f "$dir/var/qts.db" "$dir/var/qts.db-wal" "$dir/var/qts.db-shm"
sleep 2
kill -TERM $pid; wait $pid
run1=$(basename "$(readlink -f "$dir/var/runs/latest")")
grep -q "sqlite database file .*qts.db was removed or replaced under the host" "$dir/b.err" ||
    fail "the store did not notice its file was removed: $(grep -i 'store' "$dir/b.err" | tail -3)"
grep -q "store records written=.* spilled=[1-9]" "$dir/b.err" ||
    fail "nothing spilled after the file was removed: $(grep 'store records' "$dir/b.err")"
[ -s "$dir/var/store.journal" ] || fail "the journal is empty after the file was removed"
[ ! -e "$dir/var/qts.db" ] || fail "something recreated qts.db under the running host"
# the next start: a new database, the journal replayed into it
sed -i '/^replay: {speed: 1}$/d; s/events: 100000/events: 3000/' "$dir/qts.yaml"
"$qts" run -c "$dir/qts.yaml" >"$dir/c.out" 2>"$dir/c.err" || fail "the next run exited $?"
grep -q "spill journal replayed; writing directly again" "$dir/c.err" || fail "the next start did not replay the journal"
st=$(q "SELECT status FROM runs WHERE run_id = '$run1'")
[ "$st" = stopped ] || fail "run $run1's closing row did not reach the new database (status '$st')"
n=$(q "SELECT count(*) FROM positions WHERE run_id = '$run1'")
[ "$n" -ge 1 ] || fail "run $run1's final positions did not reach the new database"
[ "$failed" = 0 ] && echo "ok: SQLite file removed: records spilled, not written into the unlinked file; the next start wrote them (run $run1: $st)"
exit $failed
