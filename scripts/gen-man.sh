#!/bin/sh
# Generate doc/man/p2v.1 and doc/man/ct-import.1 from the programs' own
# --help output, which comes from the option tables: the man pages cannot
# drift from the code. `scripts/gen-man.sh BUILD/bin OUTDIR`.
set -eu
bin=${1:-build/bin}; out=${2:-doc/man}
here=$(cd "$(dirname "$0")" && pwd)

# Options section of one command, and any list after it, as .TP paragraphs.
options() {
  "$bin/$1" "$2" --help | awk '
    /^Options:/ { on = 1; next }
    on && /^[A-Z].*:$/ { printf ".PP\n%s\n", $0; next }   # a further list (p2v run: kernel keys)
    on && /^  [-a-z]/ {
      line = substr($0, 3)
      split(line, part, /   */)   # flag and text are two or more spaces apart
      flag = part[1]; text = substr(line, index(line, "  ") ); sub(/^ +/, "", text)
      gsub(/\\/, "\\\\", flag); gsub(/-/, "\\-", flag)
      n = split(flag, w, " ")
      printf ".TP\n\\fB%s\\fR", w[1]
      for (i = 2; i <= n; i++) printf " %s%s%s", (w[i] ~ /^\\-/ ? "\\fB" : "\\fI"), w[i], "\\fR"
      printf "\n%s\n", text
    }'
}
usage() { "$bin/$1" "$2" --help | sed -n 's/^Usage: //p' | sed 's/-/\\-/g'; }

page() { # program section-file commands...
  prog=$1; shift
  { sed -n '/^#HEAD/,/^#END/p' "$here/man/$prog.in" | sed '1d;$d'
    for c in "$@"; do
      echo ".SS \"$prog $c\""
      echo ".B $(usage "$prog" "$c")"
      echo ".PP"
      "$bin/$prog" "$c" --help | awk '/^Usage:/ {u=1; next} /^Options:/ {exit} u' | sed '/^$/d;s/^/ /;s/-/\\-/g' | sed 's/^ //'
      options "$prog" "$c"
    done
    sed -n '/^#TAIL/,/^#END/p' "$here/man/$prog.in" | sed '1d;$d'
  } > "$out/$prog.1"
}
# The commands each program lists in its own --help (except "help").
commands() { "$bin/$1" --help | awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1}' | grep -vx help; }
mkdir -p "$out"
page p2v $(commands p2v)
page ct-import $(commands ct-import)
