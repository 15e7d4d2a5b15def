#!/usr/bin/env bash
# The install kit as an operator uses it: `cmake --install` (what `make
# install PREFIX=...` runs) into a scratch prefix; pkg-config from that
# prefix builds the example plugin (docs/examples/plugin_hello) with the
# ABI the host reports; the installed qts, its installed plugins and Lua
# prelude run a paper session fed by that plugin with an installed example
# strategy, answer `qts status`, and stop in order on SIGTERM. The systemd
# unit and logrotate file are installed and name the installed binary.
set -u
. "$(dirname "$0")/scenario_lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }
command -v pkg-config >/dev/null || { echo "SKIP: pkg-config is not installed"; exit 77; }

prefix="$dir/prefix with space"
cmake --install "$QTS_BUILD_DIR" --prefix "$prefix" >"$dir/install.log" 2>&1 ||
    { fail "cmake --install exited $?"; cat "$dir/install.log"; exit 1; }
q="$prefix/bin/qts"
for f in bin/qts lib/pkgconfig/qts-plugin.pc include/qts/qts_plugin.h share/qts/lua/qts/host.lua \
    lib/qts/plugins/broker_paper.so share/qts/strategies/sma_cross.lua \
    share/qts/contrib/qts.service share/qts/contrib/qts.logrotate; do
    [ -e "$prefix/$f" ] || fail "not installed: $f"
done

# pkg-config from the prefix: the right include path and the host's ABI
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
abi=$("$q" version | sed -n 's/.*plugin ABI \([0-9.]*\),.*/\1/p')
[ "$(pkg-config --variable=abi qts-plugin)" = "$abi" ] ||
    fail "qts-plugin.pc says ABI $(pkg-config --variable=abi qts-plugin), the host $abi"
pkg-config --print-errors --modversion qts-plugin >/dev/null || fail "pkg-config cannot read qts-plugin"
san=
"$q" version | grep -q 'asan' && ! "$q" version | grep -q 'noasan' && san="-fsanitize=address,undefined"
# shellcheck disable=SC2046
eval cc "$(pkg-config --cflags qts-plugin)" -std=c11 -Wall -Wextra -Werror $san -shared \
    -o "'$prefix/lib/qts/plugins/feed_hello.so'" "'$src/docs/examples/plugin_hello/hello.c'" \
    >"$dir/cc.log" 2>&1 || { fail "the example plugin does not build from the prefix"; cat "$dir/cc.log"; }
echo "ok: installed; pkg-config ABI $abi; example plugin built"

# the installed host on its own files only
cat >"$dir/qts.yaml" <<YAML
mode: paper
paths: {var_dir: $dir/var}
plugins: {dir: "$prefix/lib/qts/plugins"}
instruments:
  - {symbol: HELLO, tick_size: "0.01"}
feeds:
  - {name: hello, plugin: feed_hello, config: {price: 10000}}
broker: {plugin: broker_paper}
strategies:
  dir: "$prefix/share/qts/strategies"
  list:
    - {name: sma, file: sma_cross.lua, symbols: [HELLO], params: {symbol: HELLO, fast: 2, slow: 5}}
YAML
"$q" check -c "$dir/qts.yaml" >"$dir/check.out" 2>&1 || { fail "installed qts check exited $?"; cat "$dir/check.out"; }
qts=$q start_host
sleep 1
events=$("$q" status -c "$dir/qts.yaml" --json 2>/dev/null | grep -o '"events":[0-9]*' | head -1 | grep -o '[0-9]*$')
kill -TERM "$host_pid"
wait "$host_pid"
rc=$?
host_pid=
trap 'rm -rf "$dir"' EXIT
[ "$rc" = 0 ] || { fail "SIGTERM: the installed host exited $rc"; tail -5 "$dir/run.err"; }
[ "${events:-0}" -gt 0 ] || fail "qts status: no events from the installed plugin (${events:-none})"
[ -s "$dir/var/runs/latest/summary.json" ] || fail "no summary.json in the run directory"
grep -q "strategy started name=sma" "$dir/run.err" || fail "the installed strategy did not start"
echo "ok: installed host ran $events events from feed_hello, exit $rc"

grep -q '^ExecStart=/usr/local/bin/qts run -c /etc/qts/qts.yaml$' "$prefix/share/qts/contrib/qts.service" ||
    fail "qts.service does not start the installed binary"
if command -v systemd-analyze >/dev/null && [ -d /run/systemd/system ]; then
    systemd-analyze verify "$prefix/share/qts/contrib/qts.service" >"$dir/verify" 2>&1 ||
        { fail "systemd-analyze verify"; cat "$dir/verify"; }
fi
[ "$failed" = 0 ] && echo "all ok"
exit "$failed"
