# Shared helpers for integration tests. Source it first: it sets -eu, makes
# $T (a scratch directory removed on exit) and finds the binaries.
set -eu
: "${BUILD:=$(cd "$(dirname "$0")/../.." && pwd)/build}"
P2V="$BUILD/bin/p2v"
CTI="$BUILD/bin/ct-import"
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d /tmp/p2v-test.XXXXXX)
CLEANUP=""
# Register a command to run at exit (last registered runs first).
at_exit() { CLEANUP="$1; $CLEANUP"; }
_run_cleanup() { local rc=$?; set +e; eval "$CLEANUP"; rm -rf "$T"; exit $rc; }
trap _run_cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
step() { echo "--- $*"; }
# expect_fail CMD...: the command must exit non-zero; its stderr is in $T/err.
expect_fail() {
  if "$@" 2>"$T/err"; then cat "$T/err" >&2; fail "expected failure: $*"; fi
  cat "$T/err" >&2
}
# assert_grep PATTERN FILE: FILE must contain PATTERN.
assert_grep() { grep -q -- "$1" "$2" || { cat "$2" >&2; fail "'$1' not in $2"; }; }
