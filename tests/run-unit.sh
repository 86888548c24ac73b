#!/bin/sh
# Run every cmocka unit test binary given; print one closing tally.
pass=0 fail=0
for t in "$@"; do
  if out=$("$t" 2>&1); then r=0; else r=$?; fi
  n=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  pass=$((pass + ${n:-0})); fail=$((fail + ${f:-0}))
  if [ "$r" -ne 0 ]; then
    printf '%s\n' "$out"
    [ -z "$f" ] && fail=$((fail + 1))
    echo "FAIL $(basename "$t")"
  else
    echo "ok   $(basename "$t") (${n:-0} tests)"
  fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
