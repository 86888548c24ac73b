#!/bin/bash
# The man pages are generated from the programs' option tables: the
# committed pages must match what the binaries say now, and README.md must
# name every command.
. "$(dirname "$0")/lib.sh"
sh "$TOP/scripts/gen-man.sh" "$BUILD/bin" "$T/man"
for page in p2v.1 ct-import.1; do
  diff -u "$TOP/doc/man/$page" "$T/man/$page" ||
    fail "doc/man/$page is out of date: run scripts/gen-man.sh build/bin doc/man"
  man -l "$T/man/$page" >/dev/null 2>&1 || groff -man -Tutf8 "$T/man/$page" >/dev/null ||
    fail "$page does not render"
done
for prog in p2v ct-import; do
  for cmd in $("$BUILD/bin/$prog" --help | awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1}' | grep -vx help); do
    grep -q "$prog $cmd" "$TOP/README.md" || fail "README.md does not mention '$prog $cmd'"
    "$BUILD/bin/$prog" "$cmd" --help > /dev/null || fail "$prog $cmd --help failed"
  done
done
echo "man pages and README agree with the binaries"
