# dead_letter_lib.sh — sourced by test_store_dead_letters_{sqlite,postgres}.sh
# after scenario_lib.sh and store_run_lib.sh (and pg_schema_lib.sh). The
# caller sets store_yaml, q, store_args (an array: the same store for `qts store
# ...`: --store SPEC [--schema NAME]), and refuse_on / refuse_off (SQL that
# makes the database refuse every third fill, and stops it).
#
# A replay into a store that refuses some fills: the refused records go to
# the dead-letter journal and the run carries on; the next start says so in
# its log and in `qts status`; once the cause is gone `qts store
# replay-dead` writes them, after which SQL reproduces the run's summary;
# replaying the same dead letters again adds nothing.
dead_letter_test() {
    local dead=$dir/var/store.journal.dead n
    write_store_config 30000 none
    "$qts" migrate "${store_args[@]}" --host-id sc >"$dir/migrate.out" 2>&1 || { fail "qts migrate: $(cat "$dir/migrate.out")"; return; }
    q "$refuse_on" >/dev/null || { fail "cannot install the refusing trigger"; return; }
    run_once || return
    local run1=$run dir1=$run_dir want got
    want=$(summary_get "$dir1" "d['counts']['fills']")
    got=$(q "SELECT count(*) FROM fills WHERE run_id = '$run1'")
    [ "$got" -lt "$want" ] || { fail "the store took all $want fills: the trigger refused nothing"; return; }
    grep -q "store refused a record: kept in dead-letter journal" "$dir/run.err" || fail "no dead-letter line in the log"
    grep -q "store records written=.* dead=$((want - got))\$" "$dir/run.err" || fail "the run's last store line does not count $((want - got)) dead: $(grep 'store records' "$dir/run.err")"
    "$qts" store dead --journal "$dead" >"$dir/dead.out"
    [ $? = 1 ] && grep -q "^$((want - got)) dead letters in " "$dir/dead.out" || fail "qts store dead: $(cat "$dir/dead.out")"
    echo "ok: the store refused $((want - got)) of $want fills; the run kept them in $dead"

    # the next start reports them: log line and qts status (a slow replay)
    q "$refuse_off" >/dev/null
    sed -i 's/^mode: replay$/mode: replay\nreplay: {speed: 1}/' "$dir/qts.yaml"
    "$qts" run -c "$dir/qts.yaml" >"$dir/run2.out" 2>"$dir/run2.err" &
    local pid=$!
    for _ in $(seq 100); do [ -S "$dir/var/qts.sock" ] && break; sleep 0.1; done
    "$qts" status -s "$dir/var/qts.sock" --json >"$dir/status.json" 2>&1
    kill -TERM $pid; wait $pid
    grep -q "store dead letters: $((want - got)) records the store refused are kept in .*store.journal.dead" "$dir/run2.err" ||
        fail "the second start does not report the dead letters: $(grep -i dead "$dir/run2.err")"
    grep -q "\"dead_letters\":$((want - got))[,}]" "$dir/status.json" || fail "qts status does not show $((want - got)) dead letters: $(cat "$dir/status.json")"
    echo "ok: the next start reports $((want - got)) dead letters (log, qts status)"

    # replayed once the cause is gone: every fill of run 1 is there
    cp "$dead" "$dir/dead.copy"
    "$qts" store replay-dead "${store_args[@]}" --host-id sc --journal "$dead" >"$dir/replay.out" 2>&1 ||
        fail "qts store replay-dead exited $?: $(cat "$dir/replay.out")"
    grep -q "^replayed $((want - got)) of $((want - got)) dead letters .* 0 still refused" "$dir/replay.out" || fail "replay-dead said: $(cat "$dir/replay.out")"
    [ ! -e "$dead" ] || fail "the dead-letter journal is still there after a full replay"
    check_run "$run1" "$dir1"
    # idempotent: the same dead letters again add nothing
    cp "$dir/dead.copy" "$dead"
    "$qts" store replay-dead "${store_args[@]}" --host-id sc --journal "$dead" >"$dir/replay2.out" 2>&1 || fail "second replay-dead exited $?"
    n=$(q "SELECT count(*) FROM fills WHERE run_id = '$run1'")
    [ "$n" = "$want" ] || fail "after replaying the same dead letters twice the store holds $n fills of run 1, expected $want"
    "$qts" store dead --journal "$dead" >"$dir/dead2.out" || fail "qts store dead after the replay: $(cat "$dir/dead2.out")"
    [ "$failed" = 0 ] && echo "ok: qts store replay-dead wrote them (SQL equals the summary again); twice is once"
}
