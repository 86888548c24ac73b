#!/bin/bash
# Judge the fuzz_qcow2 corpus with qemu-img: every input is replayed once
# through the harness (the same extent sequence it decodes when fuzzing),
# which keeps each image and the raw content it was fed (FUZZ_QCOW2_SAVE);
# then `qemu-img check` must find no error or leak and `qemu-img compare`
# must find the image equal to the raw content.
# usage: tests/fuzz/qcow2_check_corpus.sh [CORPUS_DIR]   (after make fuzz-build)
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${1:-$TOP/tests/fuzz/corpus/fuzz_qcow2}
BIN=$TOP/build-fuzz/fuzz_qcow2
[ -x "$BIN" ] || { echo "run 'make fuzz-build' first" >&2; exit 2; }
command -v qemu-img >/dev/null || { echo "qemu-img not installed" >&2; exit 77; }
OUT=$(mktemp -d /var/tmp/qcow2-corpus.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

n=0 bad=0
for f in "$CORPUS"/*; do
  [ -f "$f" ] || continue
  rm -f "$OUT"/*
  FUZZ_QCOW2_SAVE=$OUT "$BIN" -close_fd_mask=3 "$f" >"$OUT.log" 2>&1 ||
    { cat "$OUT.log" >&2; echo "FAIL harness: $f" >&2; bad=$((bad + 1)); continue; }
  if ! qemu-img check -q -f qcow2 "$OUT/0.qcow2" >"$OUT.check" 2>&1; then
    cat "$OUT.check" >&2; echo "FAIL qemu-img check: $f" >&2; bad=$((bad + 1)); continue
  fi
  if ! qemu-img compare -q -f raw -F qcow2 "$OUT/0.raw" "$OUT/0.qcow2" 2>&1; then
    echo "FAIL qemu-img compare: $f" >&2; bad=$((bad + 1)); continue
  fi
  n=$((n + 1))
done
rm -f "$OUT.log" "$OUT.check"
echo "qcow2 corpus: $n images pass qemu-img check and compare, $bad failed"
[ "$bad" -eq 0 ] && [ "$n" -gt 0 ]
