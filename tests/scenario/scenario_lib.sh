# scenario_lib.sh — sourced by the scenario tests: a scratch directory and
# a small replay configuration in it, as a user would write one.
qts=${QTS_BUILD_DIR:?}/qts
plugins=${QTS_PLUGIN_DIR:?}
dir=$(mktemp -d)

# write_config <broker config line> [feed config lines, default 100 events]
#              [broker plugin, default broker_paper]: writes $dir/qts.yaml
# at once (a running host never reads half a file). The broker line is the
# last line of the file, at column 5.
write_config() {
    cat >"$dir/qts.yaml.new" <<YAML
mode: replay
paths:
  var_dir: $dir/var
plugins:
  dir: $plugins
instruments:
  - symbol: SYNTH
    tick_size: "0.01"
feeds:
  - name: demo
    plugin: feed_synthetic
    config:
${2:-      events: 100}
broker:
  plugin: ${3:-broker_paper}
  config:
    $1
YAML
    mv "$dir/qts.yaml.new" "$dir/qts.yaml"
}

failed=0

# expect_refused <command> <text> [<more text>]: `qts <command> -c
# $dir/qts.yaml` exits 2 (139 would be a crash) and its standard error
# holds each text; otherwise a FAIL line and failed=1.
expect_refused() {
    local cmd=$1
    shift
    "$qts" "$cmd" -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"
    local rc=$? want
    if [ "$rc" -ne 2 ]; then
        echo "FAIL: qts $cmd exited $rc, expected 2"; cat "$dir/err"; failed=1; return
    fi
    for want in "$@"; do
        if ! grep -qF -- "$want" "$dir/err"; then
            echo "FAIL: qts $cmd: no '$want' in:"; cat "$dir/err"; failed=1; return
        fi
    done
    echo "ok: qts $cmd: $1"
}

# start_host: `qts run` on $dir/qts.yaml in the background (pid in
# $host_pid, output in $dir/run.out and run.err) until its admin socket
# is up; exits the test when it does not come up. The EXIT trap set here
# stops it and removes $dir.
host_pid=
start_host() {
    "$qts" run -c "$dir/qts.yaml" >"$dir/run.out" 2>"$dir/run.err" &
    host_pid=$!
    trap stop_host EXIT
    for _ in $(seq 100); do
        [ -S "$dir/var/qts.sock" ] && return 0
        sleep 0.1
    done
    echo "FAIL: the host did not start"; cat "$dir/run.err"; exit 1
}
stop_host() {
    [ -n "$host_pid" ] && kill -TERM "$host_pid" 2>/dev/null && wait "$host_pid" 2>/dev/null
    rm -rf "$dir"
}
