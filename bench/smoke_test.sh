#!/bin/sh
# smoke_test.sh GEN_LOGS HS_BASELINE: a small generated log must be
# reproducible, its sets nested and well formed, and the Hyperscan baseline
# must find exactly the planted lines of each set.
set -u
gen=$1 base=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/cs-bench-smoke.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$gen" --size 8M --seed 42 --indicators 10000 --out-dir "$dir/a" 2>/dev/null || fail "gen_logs a"
"$gen" --size 8M --seed 42 --indicators 10000 --out-dir "$dir/b" 2>/dev/null || fail "gen_logs b"
"$gen" --size 8M --seed 43 --indicators 10000 --out-dir "$dir/c" 2>/dev/null || fail "gen_logs c"
for f in logs.txt truth.tsv literals-1k.txt literals-10k.txt; do
    cmp -s "$dir/a/$f" "$dir/b/$f" || fail "$f differs between two runs with one seed"
done
cmp -s "$dir/a/logs.txt" "$dir/c/logs.txt" && fail "seeds 42 and 43 gave the same log"
[ "$(stat -c %s "$dir/a/logs.txt")" -le 8388608 ] || fail "log larger than --size"
[ "$(stat -c %s "$dir/a/logs.txt")" -gt 8380000 ] || fail "log much smaller than --size"
[ "$(wc -l < "$dir/a/literals-1k.txt")" = 1000 ] || fail "1k set size"
[ "$(wc -l < "$dir/a/literals-10k.txt")" = 10000 ] || fail "10k set size"
head -n 1000 "$dir/a/literals-10k.txt" | cmp -s - "$dir/a/literals-1k.txt" || fail "1k set is not a prefix of 10k"
[ "$(sort -u "$dir/a/literals-10k.txt" | wc -l)" = 10000 ] || fail "duplicate literals"
awk 'length($0) < 8 || length($0) > 60 { bad++ } END { exit bad > 0 }' "$dir/a/literals-10k.txt" ||
    fail "literal length outside 8..60"

for set in 1k 10k; do
    want=$(awk -F'\t' -v s="$set" 'NR > 1 && ($1 == s || $1 == "1k") { seen[$3] = 1 }
        END { c = 0; for (k in seen) c++; print c }' "$dir/a/truth.tsv")
    [ "$want" -gt 10 ] || fail "set $set: only $want planted lines"
    got=$("$base" "$dir/a/literals-$set.txt" "$dir/a/logs.txt" | tr ' ' '\n' | sed -n 's/^lines=//p')
    [ "$got" = "$want" ] || fail "set $set: baseline found $got matching lines, truth has $want"
    ref=$(LC_ALL=C grep -F -c -f "$dir/a/literals-$set.txt" "$dir/a/logs.txt")
    [ "$ref" = "$want" ] || fail "set $set: grep -F found $ref matching lines, truth has $want"
done
# --exprs: the 1k literals written as escaped expressions find the same lines
# as the literals; the shapes file compiles and finds something; a line with
# an unknown flag is refused with a message.
awk '{ e = ""; for (i = 1; i <= length($0); i++) { c = substr($0, i, 1)
        e = e (c ~ /[A-Za-z0-9]/ ? c : sprintf("\\x%02x", ord[c])) } print "-\t" e }
     BEGIN { for (i = 32; i < 127; i++) ord[sprintf("%c", i)] = i }' \
    "$dir/a/literals-1k.txt" > "$dir/lits.tsv"
{ echo "# comment"; cat "$dir/lits.tsv"; } > "$dir/lits-c.tsv"
want=$("$base" "$dir/a/literals-1k.txt" "$dir/a/logs.txt" | tr ' ' '\n' | sed -n 's/^lines=//p')
got=$("$base" --exprs "$dir/lits-c.tsv" "$dir/a/logs.txt" | tr ' ' '\n' | sed -n 's/^lines=//p')
[ -n "$want" ] && [ "$got" = "$want" ] || fail "--exprs literals: $got matching lines, literals gave $want"
here=$(dirname "$0")
m=$("$base" --exprs "$here/shapes-mix.tsv" "$dir/a/logs.txt" | tr ' ' '\n' | sed -n 's/^matches=//p')
[ "${m:-0}" -gt 0 ] || fail "--exprs shapes-mix.tsv: no match in the log"
printf 'x\tabc\n' > "$dir/bad.tsv"
"$base" --exprs "$dir/bad.tsv" "$dir/a/logs.txt" >/dev/null 2>"$dir/bad.err" && fail "bad flag accepted"
grep -q 'FLAGS<TAB>EXPRESSION' "$dir/bad.err" || fail "bad line: $(cat "$dir/bad.err")"
echo "bench smoke: ok"
