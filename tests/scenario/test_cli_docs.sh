#!/usr/bin/env bash
# docs/cli.md is true of the binary: every command it documents (a
# "### `qts CMD ...`" heading) exists and takes every --flag the heading and
# its section name, every command `qts help` lists has a section, and every
# `qts ...` command line in a ```sh block of docs/ names a real command.
set -u
. "$(dirname "$0")/scenario_lib.sh"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; failed=1; }
doc=docs/cli.md

listed=$("$qts" help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$listed" ] || { fail "qts help lists no commands"; exit 1; }

documented=
# each section: from its heading to the next heading
while IFS= read -r head; do
    cmds=$(echo "$head" | grep -o '`qts [a-z]*' | sed 's/`qts //')
    for c in $cmds; do
        documented="$documented $c"
        usage=$("$qts" help "$c" 2>&1) || { fail "cli.md documents 'qts $c', which does not exist"; continue; }
        section=$(awk -v h="$head" '$0 == h { on = 1; next } on && /^##/ { exit } on' "$doc")
        for flag in $( (echo "$head"; echo "$section") | grep -o -- '--[a-z][a-z-]*' | grep -vx -- '--help\|--version' | sort -u); do
            echo "$usage" | grep -q -- "$flag" || fail "cli.md gives 'qts $c $flag', which qts $c does not take"
        done
    done
done < <(grep '^### `qts ' "$doc")

for c in $listed; do
    case " $documented " in *" $c "*) ;; *) fail "qts $c is not documented in docs/cli.md" ;; esac
done

# command lines in the docs' shell examples
for f in docs/*.md README.md; do
    awk '/^```(sh|bash|console)?$/ { on = !on; next } on' "$f" |
        grep -o '^\(\$ \)\?\(\./build/\)\?qts [a-z][a-z]*' | awk '{ print $NF }' | sort -u |
        while read -r c; do
            echo "$listed" | grep -qx "$c" || echo "FAIL: $f shows 'qts $c', which is not a command"
        done
done | tee "$dir/shell" | grep . && failed=1

# the version line shown is the binary's ABI
abi=$("$qts" version | grep -o 'plugin ABI [0-9.]*')
grep -q "^qts [0-9.]* ($abi, build" "$doc" || fail "cli.md's qts version example does not show $abi"

[ "$failed" = 0 ] && echo "all ok: $(echo $listed | wc -w) commands documented"
exit "$failed"
