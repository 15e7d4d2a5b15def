#!/usr/bin/env bash
# A strategy that tries to reach memory (ffi.cast) or make bytecode
# (string.dump) gets a clean Lua error, as a user meets it in `qts run`:
# the run finishes with exit 0, the log names the strategy, the file and
# the reason, the host does not crash, and a well-behaved strategy in the
# same run keeps receiving its events.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT

mkdir -p "$dir/strategies"
cat >"$dir/strategies/poke.lua" <<'LUA'
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, t)
  ffi.cast("int64_t *", 4096)[0] = 1      -- line 4: would crash the host
end
return M
LUA
cat >"$dir/strategies/dump.lua" <<'LUA'
local M = {}
function M.on_init(ctx) return {} end
function M.on_trade(ctx, st, t)
  local code = string.dump(M.on_init)    -- line 4
end
return M
LUA
cat >"$dir/strategies/steady.lua" <<'LUA'
local M = {}
function M.on_init(ctx) return { n = 0 } end
function M.on_trade(ctx, st, t)
  st.n = st.n + 1
  if st.n % 5 == 0 then ctx:log("info", "steady saw %d trades", st.n) end
end
return M
LUA
write_config "taker_fee_bps: 5"
cat >>"$dir/qts.yaml" <<YAML
strategies:
  dir: $dir/strategies
  max_errors_per_minute: 3
  list:
    - {name: poke, file: poke.lua}
    - {name: dump, file: dump.lua}
    - {name: steady, file: steady.lua}
YAML

"$qts" run -c "$dir/qts.yaml" >"$dir/out" 2>"$dir/err"
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "FAIL: qts run exited $rc (139 = the host crashed), expected 0"; tail -20 "$dir/err"
    exit 1
fi
echo "ok: qts run exited 0"
# expect_log <text>: a line of the run's log contains it
expect_log() {
    if grep -qF -- "$1" "$dir/err" "$dir/out"; then
        echo "ok: log: $1"
    else
        echo "FAIL: no '$1' in the log:"; tail -20 "$dir/err"; failed=1
    fi
}
expect_log "strategy error name=poke"
expect_log "poke.lua:4: ffi.cast: ffi is not available to strategies"
expect_log "strategy error name=dump"
expect_log "dump.lua:4: attempt to call field 'dump' (a nil value)"
# three errors within a minute: each is halted, and says why
expect_log "strategy halted name=poke"
expect_log "strategy halted name=dump"
# the well-behaved strategy kept receiving trades after the others failed
expect_log "steady saw 5 trades"
exit $failed
