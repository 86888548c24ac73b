#!/bin/bash
# Every fuzz corpus (tests/fuzz/corpus/<target>/, and saved crashes in
# tests/fuzz/crashes/<target>/) replayed once through its libFuzzer harness
# under ASan + UBSan: `make fuzz-regress`. A harness aborts on a sanitizer
# report or a broken invariant (a file outside the receiver's directories,
# a published name after a failed stream, an image that does not read back
# as written), so each corpus file is a regression test.
. "$(dirname "$0")/lib.sh"
command -v clang >/dev/null || skip "clang not installed"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$T/probe.c"
clang -fsanitize=fuzzer,address,undefined -o "$T/probe" "$T/probe.c" 2>"$T/err" ||
  skip "clang's libFuzzer runtime is missing (libclang-rt-14-dev): $(head -1 "$T/err")"

step "build the harnesses and replay every corpus"
make -s -C "$TOP" fuzz-regress >"$T/out" 2>&1 || { cat "$T/out" >&2; fail "make fuzz-regress"; }
cat "$T/out"

step "each target ran every one of its corpus files"
n=0
for d in "$TOP"/tests/fuzz/corpus/fuzz_*/; do
  t=$(basename "$d")
  files=$(find "$d" "$TOP/tests/fuzz/crashes/$t" -type f 2>/dev/null | wc -l)
  assert_grep "fuzz-regress: $t ($files inputs)" "$T/out"
  log="$TOP/build-fuzz/$t.regress.log"
  # libFuzzer counts one run per input (plus one for the empty input).
  runs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE .*/\1/p' "$log" | tail -1)
  [ -n "$runs" ] && [ "$runs" -ge "$files" ] || { tail "$log" >&2; fail "$t ran ${runs:-no} inputs of $files"; }
  n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "only $n fuzz targets have a corpus"

step "a name that would escape is refused, and nothing is published"
python3 "$TOP/tests/integration/mkstream.py" --payload /etc/hostname --name '../../escape' \
  >"$T/escape.stream"
"$TOP/build-fuzz/fuzz_stream" -runs=0 "$T/escape.stream" >"$T/escape.log" 2>&1 ||
  { cat "$T/escape.log" >&2; fail "fuzz_stream on an escaping name"; }
assert_grep "is not allowed" "$T/escape.log"

step "control: the harness's sandbox check does catch a stray file"
# FUZZ_STREAM_PLANT makes the harness itself leave a file beside the
# sandbox before it checks: it must abort and say so.
# (-artifact_prefix: libFuzzer writes the crashing input there, not into
# the working directory.)
if FUZZ_STREAM_PLANT=1 "$TOP/build-fuzz/fuzz_stream" -runs=0 -artifact_prefix="$T/" \
  "$TOP/tests/fuzz/corpus/fuzz_stream" >"$T/plant.log" 2>&1; then
  fail "fuzz_stream did not notice a file created outside its directories"
fi
# The aborted harness leaves its sandbox behind: remove that one.
for d in /dev/shm/fuzz_stream.*; do [ -e "$d/planted" ] && rm -rf "$d"; done
assert_grep "something was created beside .*: 'planted'" "$T/plant.log"

step "every qcow2 corpus image passes qemu-img check and compare"
if command -v qemu-img >/dev/null; then
  "$TOP/tests/fuzz/qcow2_check_corpus.sh" || fail "qcow2 corpus judged by qemu-img"
else
  echo "qemu-img not installed: skipped"
fi
