#!/usr/bin/env bash
# sanitized.sh <scenario script> — runs one scenario test in the sanitizer
# build (scenario.cmake). A scenario starts `qts` in the background, sends
# stderr to files it reads only on failure, and ignores the exit status of
# a host it stops with SIGTERM: a leak or an overflow reported there would
# pass unseen. Here every sanitized process writes its report to a file of
# its own (log_path, one per pid) and any such file fails the test.
set -u
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$reports/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$reports/ubsan"

bash "$1"
rc=$?

found=0
for report in "$reports"/*; do
    [ -e "$report" ] || continue
    found=1
    echo "FAIL: sanitizer report $(basename "$report"):"
    cat "$report"
done
if [ "$found" -eq 1 ]; then
    exit 1
fi
exit "$rc"
