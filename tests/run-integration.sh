#!/bin/sh
# Run every tests/integration/test_*.sh (or those named in $TESTS) with a
# time limit (900 s, or what a "# time-limit: SECONDS" line in the test
# says: some build cached Debian roots on their first run). A test exits 0 to pass, 77 to skip, anything else to fail; its
# output is kept in $BUILD/test-logs and shown when it fails.
: "${BUILD:?BUILD must name the build directory}"
here=$(cd "$(dirname "$0")" && pwd)
logs="$BUILD/test-logs"; mkdir -p "$logs"
pass=0 fail=0 skip=0 failed=""
for t in ${TESTS:-$here/integration/test_*.sh}; do
  name=$(basename "$t" .sh)
  start=$(date +%s)
  limit=$(sed -n 's/^# time-limit: \([0-9][0-9]*\)$/\1/p' "$t" | head -1)
  if BUILD="$BUILD" timeout -k 10 "${TEST_TIMEOUT:-${limit:-900}}" bash "$t" >"$logs/$name.log" 2>&1; then r=0; else r=$?; fi
  secs=$(( $(date +%s) - start ))
  case $r in
    0) pass=$((pass + 1)); echo "ok   $name (${secs}s)";;
    77) skip=$((skip + 1)); echo "skip $name: $(tail -1 "$logs/$name.log")";;
    *) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL $name (exit $r, ${secs}s)"
       tail -40 "$logs/$name.log" | sed 's/^/    /';;
  esac
done
echo "integration: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
